/* fd-account-row.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "fd-account.h"
#include "fd-sync-engine.h"

G_BEGIN_DECLS

#define FD_TYPE_ACCOUNT_ROW (fd_account_row_get_type ())
G_DECLARE_FINAL_TYPE (FdAccountRow, fd_account_row, FD, ACCOUNT_ROW, GtkListBoxRow)

/* A connected account in Preferences → Accounts, with its live sync state. It emits
 * "sync-now", "retry" and "remove" for its buttons; the window does the work. */
FdAccountRow   *fd_account_row_new       (FdAccount      *account);
FdAccount      *fd_account_row_get_account (FdAccountRow *self);
FdAccountState *fd_account_row_get_state (FdAccountRow   *self);
/* @state: the engine's state of the account, or NULL while the engine has none. */
void            fd_account_row_set_state (FdAccountRow   *self,
                                          FdAccountState *state);
/* Updates the "Synced 2 minutes ago" text to the current time. */
void            fd_account_row_refresh   (FdAccountRow   *self);

G_END_DECLS
