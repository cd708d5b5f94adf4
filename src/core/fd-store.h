/* fd-store.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define FD_STORE_ERROR (fd_store_error_quark ())

typedef enum
{
  FD_STORE_ERROR_FAILED,
  FD_STORE_ERROR_NEWER_SCHEMA,   /* written by a newer Frontdesk */
  FD_STORE_ERROR_CORRUPT,        /* not a database, or damaged */
  FD_STORE_ERROR_FULL,           /* disk or quota full */
  FD_STORE_ERROR_LOCKED,         /* another process holds the lock too long */
  FD_STORE_ERROR_READ_ONLY,      /* no permission to write */
  FD_STORE_ERROR_IO,             /* the disk failed a read or write */
  FD_STORE_ERROR_CLOSED,         /* the store was closed */
} FdStoreError;

GQuark fd_store_error_quark (void);

/* The schema version this binary writes; a file with a higher PRAGMA user_version
 * is refused with FD_STORE_ERROR_NEWER_SCHEMA. */
#define FD_STORE_SCHEMA_VERSION (fd_store_schema_version ())
int fd_store_schema_version (void);

/* A job runs on the store's worker thread, with the store's only write connection.
 * It returns TRUE on success and may set *result (freed with result_free if the task is
 * dropped). A job that returns FALSE must set @error. */
typedef gboolean (*FdStoreJobFunc) (sqlite3   *db,
                                    gpointer   job_data,
                                    gpointer  *result,
                                    GError   **error);

#define FD_TYPE_STORE (fd_store_get_type ())
G_DECLARE_FINAL_TYPE (FdStore, fd_store, FD, STORE, GObject)

FdStore    *fd_store_new              (const char           *path);
const char *fd_store_get_path         (FdStore              *self);

/* Opening creates the file, applies migrations and checks integrity. */
void        fd_store_open_async       (FdStore              *self,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
gboolean    fd_store_open_finish      (FdStore              *self,
                                       GAsyncResult         *result,
                                       GError              **error);
/* For the command line and tests only: blocks until the worker has opened the file. */
gboolean    fd_store_open_sync        (FdStore              *self,
                                       GCancellable         *cancellable,
                                       GError              **error);

/* Runs @func on the worker thread. The GTask's result is whatever @func stored in
 * *result, freed with @result_free when unclaimed. */
void        fd_store_run_async        (FdStore              *self,
                                       FdStoreJobFunc        func,
                                       gpointer              job_data,
                                       GDestroyNotify        job_data_free,
                                       GDestroyNotify        result_free,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
gpointer    fd_store_run_finish       (FdStore              *self,
                                       GAsyncResult         *result,
                                       GError              **error);
/* Runs @func on the worker thread and waits for it. Never call from the UI thread. */
gboolean    fd_store_run_sync         (FdStore              *self,
                                       FdStoreJobFunc        func,
                                       gpointer              job_data,
                                       gpointer             *result,
                                       GError              **error);

/* Finishes queued jobs, checkpoints the WAL and closes the connection. */
void        fd_store_close            (FdStore              *self);

/* Helpers for jobs (worker thread). They map SQLite result codes to FD_STORE_ERROR
 * with a message in plain words. */
gboolean    fd_store_exec             (sqlite3              *db,
                                       const char           *sql,
                                       GError              **error);
gboolean    fd_store_set_error        (sqlite3              *db,
                                       int                   rc,
                                       GError              **error);
sqlite3_stmt *fd_store_prepare        (sqlite3              *db,
                                       const char           *sql,
                                       GError              **error);
gboolean    fd_store_begin            (sqlite3              *db,
                                       GError              **error);
gboolean    fd_store_commit           (sqlite3              *db,
                                       GError              **error);
void        fd_store_rollback         (sqlite3              *db);

/* Audit log entry, written inside the caller's transaction (worker thread). */
gboolean    fd_store_audit            (sqlite3              *db,
                                       const char           *actor,
                                       const char           *action,
                                       const char           *subject,
                                       const char           *detail_json,
                                       GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

G_END_DECLS
