/* fd-store-crash-helper.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Opens a store, commits one marker message, then writes messages in a transaction it
 * never commits, until test-store kills it with SIGKILL. */

#define G_LOG_DOMAIN "fd-store-crash-helper"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fd-store.h"

#define READY_AFTER_ROWS 5000
#define GIVE_UP_AFTER_USEC (60 * G_USEC_PER_SEC)

static gboolean
commit_marker_job (sqlite3   *db,
                   gpointer   job_data,
                   gpointer  *result,
                   GError   **error)
{
  return fd_store_begin (db, error) &&
         fd_store_exec (db,
                        "INSERT INTO conversations (id, channel, subject, created_at, updated_at) "
                        "VALUES (1, 'email', 'Crash test', 0, 0);"
                        "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
                        "VALUES (1, 'agent', 'committed marker before the crash', 0);",
                        error) &&
         fd_store_commit (db, error);
}

static gboolean
uncommitted_job (sqlite3   *db,
                 gpointer   job_data,
                 gpointer  *result,
                 GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 deadline = g_get_monotonic_time () + GIVE_UP_AFTER_USEC;

  /* A tiny page cache makes SQLite spill the open transaction into the WAL file, so the
   * crash leaves uncommitted frames on disk that recovery must ignore. */
  if (!fd_store_exec (db, "PRAGMA cache_size = 20", error) ||
      !fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db,
                           "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
                           "VALUES (1, 'contact', ?, ?)",
                           error);
  if (stmt == NULL)
    return FALSE;

  for (guint i = 0; g_get_monotonic_time () < deadline; i++)
    {
      g_autofree char *body = g_strdup_printf ("uncommitted row %u: lorem ipsum dolor sit amet, "
                                               "consectetur adipiscing elit, sed do eiusmod "
                                               "tempor incididunt ut labore et dolore magna "
                                               "aliqua %u",
                                               i, i * 7919);
      int rc;

      sqlite3_bind_text (stmt, 1, body, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, i);
      rc = sqlite3_step (stmt);
      if (rc != SQLITE_DONE)
        return fd_store_set_error (db, rc, error);
      sqlite3_reset (stmt);

      if (i + 1 == READY_AFTER_ROWS)
        {
          fputs ("ready\n", stdout);
          fflush (stdout);
        }
    }

  /* Nobody killed us: leave without committing, like a crash would. */
  g_printerr ("fd-store-crash-helper: not killed after %d s, giving up\n",
              (int) (GIVE_UP_AFTER_USEC / G_USEC_PER_SEC));
  _exit (3);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GError) error = NULL;

  if (argc != 2)
    {
      g_printerr ("usage: %s DATABASE\n", argv[0]);
      return 2;
    }

  store = fd_store_new (argv[1]);

  if (!fd_store_open_sync (store, NULL, &error) ||
      !fd_store_run_sync (store, commit_marker_job, NULL, NULL, &error) ||
      !fd_store_run_sync (store, uncommitted_job, NULL, NULL, &error))
    {
      g_printerr ("fd-store-crash-helper: %s\n", error->message);
      return 1;
    }

  return 0;
}
