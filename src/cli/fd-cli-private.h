/* fd-cli-private.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

int      _fd_cli_usage_error           (const char     *message);
int      _fd_cli_failure               (const char     *message);
gboolean _fd_cli_parse_command_options (const char     *command,
                                        const char     *parameter_string,
                                        const char     *summary,
                                        GOptionEntry   *entries,
                                        char         ***argv,
                                        int            *exit_code);

int      _fd_cli_account               (const char     *profile,
                                        char          **argv);
int      _fd_cli_sync                  (const char     *profile,
                                        char          **argv);
int      _fd_cli_billing               (const char     *profile,
                                        char          **argv);

G_END_DECLS
