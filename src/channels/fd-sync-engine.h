/* fd-sync-engine.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fd-account.h"
#include "fd-channel.h"
#include "fd-store.h"

G_BEGIN_DECLS

typedef enum
{
  FD_SYNC_STATUS_IDLE,     /* synced, waiting for the next round */
  FD_SYNC_STATUS_SYNCING,
  FD_SYNC_STATUS_ERROR,    /* the last attempt failed; see the error message */
  FD_SYNC_STATUS_NO_SECRET,/* the keyring has no token for the account */
} FdSyncStatus;

/* An account as the sync engine sees it; lives on the thread that made the engine and
 * notifies there. */
#define FD_TYPE_ACCOUNT_STATE (fd_account_state_get_type ())
G_DECLARE_FINAL_TYPE (FdAccountState, fd_account_state, FD, ACCOUNT_STATE, GObject)

gint64         fd_account_state_get_account_id   (FdAccountState *self);
const char    *fd_account_state_get_name         (FdAccountState *self);
FdAccountKind  fd_account_state_get_kind         (FdAccountState *self);
FdSyncStatus   fd_account_state_get_status       (FdAccountState *self);
/* In plain words, or NULL. */
const char    *fd_account_state_get_error        (FdAccountState *self);
/* UTC milliseconds of the last successful sync, or 0. */
gint64         fd_account_state_get_last_sync    (FdAccountState *self);
/* Actions waiting in the outbox, and those that failed for good. */
guint          fd_account_state_get_pending      (FdAccountState *self);
guint          fd_account_state_get_failed       (FdAccountState *self);

/* Makes a channel for an account. The default makes the real connectors; tests may
 * substitute their own. Secrets come from the keyring; @secret may be NULL. */
typedef FdChannel *(*FdChannelFactory) (FdAccount  *account,
                                        const char *secret,
                                        gpointer    user_data);

FdChannel     *fd_channel_new_for_account        (FdAccount  *account,
                                                  const char *secret,
                                                  gpointer    user_data);

#define FD_TYPE_SYNC_ENGINE (fd_sync_engine_get_type ())
G_DECLARE_FINAL_TYPE (FdSyncEngine, fd_sync_engine, FD, SYNC_ENGINE, GObject)

/* The engine runs its connectors on a thread of its own, so parsing pages never touches
 * the UI thread; the account states and signals arrive on the thread that made it. */
FdSyncEngine  *fd_sync_engine_new                (FdStore          *store);
void           fd_sync_engine_set_channel_factory (FdSyncEngine    *self,
                                                   FdChannelFactory factory,
                                                   gpointer         user_data);
/* Seconds between background syncs of an account that is healthy (default 120). */
void           fd_sync_engine_set_interval       (FdSyncEngine     *self,
                                                  guint             seconds);
/* Loads the accounts and their secrets, starts live connections and the schedule. */
void           fd_sync_engine_start              (FdSyncEngine     *self);
/* Stops everything; waits for the engine thread. */
void           fd_sync_engine_stop               (FdSyncEngine     *self);
/* Re-reads the accounts (after one was added or removed in Preferences). */
void           fd_sync_engine_reload_accounts    (FdSyncEngine     *self);
/* Syncs @account_id now (0: all accounts), unless it is already syncing. */
void           fd_sync_engine_sync_now           (FdSyncEngine     *self,
                                                  gint64            account_id);
/* New outbox entries exist: send them now. */
void           fd_sync_engine_flush_outbox       (FdSyncEngine     *self);
/* A GListModel of FdAccountState. */
GListModel    *fd_sync_engine_get_accounts       (FdSyncEngine     *self);

/* One complete sync of one account (all pages, then the outbox), for the command line
 * and tests. Runs on the caller's thread-default main context. */
void           fd_sync_account_async             (FdStore             *store,
                                                  FdAccount           *account,
                                                  FdChannel           *channel,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean       fd_sync_account_finish            (FdStore             *store,
                                                  GAsyncResult        *result,
                                                  FdSyncStats         *stats,
                                                  GError             **error);

G_END_DECLS
