/* fd-sync-status.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sync-status"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-outbox.h"
#include "fd-sync-status.h"

#define MINUTE_MS (60 * 1000)
#define HOUR_MS   (60 * MINUTE_MS)
#define DAY_MS    (24 * HOUR_MS)

gboolean
_fd_sync_status_kind_syncs (FdAccountKind kind)
{
  return kind == FD_ACCOUNT_KIND_INTERCOM ||
         kind == FD_ACCOUNT_KIND_SLACK ||
         kind == FD_ACCOUNT_KIND_DISCOURSE;
}

gboolean
_fd_sync_status_is_failure (FdSyncStatus status)
{
  return status == FD_SYNC_STATUS_ERROR || status == FD_SYNC_STATUS_NO_SECRET;
}

char *
_fd_sync_status_format_last_sync (gint64   last_sync_ms,
                                  gint64   now_ms,
                                  gboolean compact)
{
  gint64 age;
  int n;

  if (last_sync_ms <= 0)
    return g_strdup (_("Not synced yet"));

  /* A clock that went back a little must not say "in 2 minutes". */
  age = MAX (now_ms - last_sync_ms, 0);

  if (age < MINUTE_MS)
    return g_strdup (_("Synced just now"));

  if (age < HOUR_MS)
    {
      n = (int) (age / MINUTE_MS);
      if (compact)
        /* Translators: shown in the narrow sidebar; "min" is short for minutes. */
        return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced %d min ago", "Synced %d min ago", n), n);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced %d minute ago", "Synced %d minutes ago", n), n);
    }

  if (age < DAY_MS)
    {
      n = (int) (age / HOUR_MS);
      if (compact)
        /* Translators: shown in the narrow sidebar; "h" is short for hours. */
        return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced %d h ago", "Synced %d h ago", n), n);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced %d hour ago", "Synced %d hours ago", n), n);
    }

  n = (int) MIN (age / DAY_MS, G_MAXINT);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced %d day ago", "Synced %d days ago", n), n);
}

char *
_fd_sync_status_format_time (gint64 time_ms)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  utc = g_date_time_new_from_unix_utc (time_ms / 1000);
  if (utc == NULL)
    return g_strdup ("");

  local = g_date_time_to_local (utc);

  /* Translators: a date and time with the time zone, see the GDateTime format
   * specifiers; for example "25 November 2026, 14:05 CET". */
  return g_date_time_format (local, _("%-d %B %Y, %H:%M %Z"));
}

FdAccountState *
_fd_sync_status_find (GListModel *states,
                      gint64      account_id)
{
  guint n;

  if (states == NULL)
    return NULL;

  n = g_list_model_get_n_items (states);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdAccountState) state = g_list_model_get_item (states, i);

      if (fd_account_state_get_account_id (state) == account_id)
        return state;
    }

  return NULL;
}

static gboolean
retry_failed_job (sqlite3   *db,
                  gpointer   job_data,
                  gpointer  *result,
                  GError   **error)
{
  gint64 account_id = *(gint64 *) job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint *n_retried;
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT id FROM outbox WHERE account_id = ?1 AND state = 'failed' "
                           "ORDER BY id",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, account_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }

  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  /* In the order they were taken, with their own idempotency keys. */
  for (guint i = 0; i < ids->len; i++)
    {
      if (!fd_outbox_retry (db, g_array_index (ids, gint64, i), error))
        return FALSE;
    }

  n_retried = g_new (guint, 1);
  *n_retried = ids->len;
  *result = n_retried;

  return TRUE;
}

void
_fd_sync_status_retry_failed_async (FdStore             *store,
                                    gint64               account_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (FD_IS_STORE (store));

  fd_store_run_async (store,
                      retry_failed_job,
                      g_memdup2 (&account_id, sizeof account_id), g_free,
                      g_free,
                      cancellable,
                      callback,
                      user_data);
}

gboolean
_fd_sync_status_retry_failed_finish (FdStore       *store,
                                     GAsyncResult  *result,
                                     guint         *n_retried,
                                     GError       **error)
{
  g_autofree guint *count = NULL;

  count = fd_store_run_finish (store, result, error);
  if (count == NULL)
    return FALSE;

  if (n_retried != NULL)
    *n_retried = *count;

  return TRUE;
}
