/* fd-sync-status.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "fd-sync-engine.h"

G_BEGIN_DECLS

/* How often the "Synced 2 minutes ago" texts are refreshed. */
#define FD_SYNC_STATUS_REFRESH_SECONDS 30

/* Whether accounts of @kind sync conversations (Stripe and Linear accounts do not). */
gboolean  _fd_sync_status_kind_syncs       (FdAccountKind  kind);

/* "Synced 2 minutes ago" (or, @compact, "Synced 2 min ago"), "Synced just now",
 * "Not synced yet"; @last_sync_ms and @now_ms are UTC milliseconds. */
char     *_fd_sync_status_format_last_sync (gint64         last_sync_ms,
                                            gint64         now_ms,
                                            gboolean       compact);

/* The date and time of @time_ms in the user's time zone, with the zone, for tooltips. */
char     *_fd_sync_status_format_time      (gint64         time_ms);

/* Finds the state of @account_id in @states (a GListModel of FdAccountState), or NULL. */
FdAccountState *_fd_sync_status_find       (GListModel    *states,
                                            gint64         account_id);

/* A sync round has finished when the status leaves SYNCING. */
gboolean  _fd_sync_status_is_failure       (FdSyncStatus   status);

/* Puts every failed outbox action of @account_id back in line; returns the number of
 * actions (as guint*). Runs on the store's worker thread. */
void      _fd_sync_status_retry_failed_async  (FdStore             *store,
                                               gint64               account_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean  _fd_sync_status_retry_failed_finish (FdStore             *store,
                                               GAsyncResult        *result,
                                               guint               *n_retried,
                                               GError             **error);

G_END_DECLS
