/* fd-sync-foot.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* At most this many accounts get a line; the rest are counted ("and 2 more"). */
#define FD_SYNC_FOOT_MAX_LINES 3

#define FD_TYPE_SYNC_FOOT (fd_sync_foot_get_type ())
G_DECLARE_FINAL_TYPE (FdSyncFoot, fd_sync_foot, FD, SYNC_FOOT, GtkWidget)

/* The sidebar's foot: one line per account that syncs conversations, saying whether it
 * is syncing, when it last synced, or that it failed. Each line opens Preferences →
 * Accounts (the app.preferences action). It emits "sync-finished" when an account's
 * sync round ends. */
GtkWidget  *fd_sync_foot_new          (void);
/* @accounts: FdAccount from the store; @states: the sync engine's FdAccountState. */
void        fd_sync_foot_set_accounts (FdSyncFoot *self,
                                       GListModel *accounts);
void        fd_sync_foot_set_states   (FdSyncFoot *self,
                                       GListModel *states);
/* Updates the "Synced 2 min ago" texts to the current time. */
void        fd_sync_foot_refresh      (FdSyncFoot *self);

/* For tests: the number of lines shown, and line @index's status text ("Syncing…",
 * "Synced 2 min ago", "Sync failed"), or NULL. */
guint       _fd_sync_foot_get_n_lines (FdSyncFoot *self);
const char *_fd_sync_foot_get_status  (FdSyncFoot *self,
                                       guint       index);
/* For tests: "and 2 more", or NULL when every account has a line. */
const char *_fd_sync_foot_get_more    (FdSyncFoot *self);

G_END_DECLS
