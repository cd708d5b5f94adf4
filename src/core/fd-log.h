/* fd-log.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns @text with anything that looks like a credential replaced by a short
 * redacted form: "Bearer sk_test_…" becomes "Bearer sk_test_…[redacted]". */
char *fd_log_redact (const char *text);

/* Installs a structured log writer that redacts every message before it reaches the
 * default writer (journal or stderr). Call once, first thing in main(). */
void  fd_log_init   (void);

G_END_DECLS
