/* fd-log.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns @text with every credential replaced: a secret known to this process (see
 * fd_log_register_secret()) becomes "[redacted]"; a credential header keeps its name
 * ("Authorization: Bearer [redacted]"), and a token shaped like those of the services we
 * speak to keeps its public prefix ("sk_test_[redacted]", "xoxb-[redacted]"). */
char *fd_log_redact            (const char *text);

/* Remembers @secret (a token read from or written to the keyring) so that no log line
 * can print it, whatever its shape. Secrets shorter than 6 bytes are ignored. */
void  fd_log_register_secret   (const char *secret);

/* Installs a structured log writer that redacts every message before it reaches the
 * default writer (journal or stderr). Call once, first thing in main(). */
void  fd_log_init              (void);

G_END_DECLS
