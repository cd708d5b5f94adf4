/* fd-store.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-store"

#include "config.h"

#include <glib/gi18n-lib.h>

#include <glib/gstdio.h>

#include "fd-store-private.h"

/* A file up to this size is checked (PRAGMA quick_check) before anything else reads or
 * writes it; that takes some 0.3 s at this size. A larger file that was closed cleanly
 * is checked by a second, read-only connection beside the worker, so opening a large
 * profile does not wait seconds for it; one that was not closed cleanly (a WAL file is
 * left) is always checked first. */
#define FD_STORE_CHECK_FIRST_MAX_BYTES (64 * 1024 * 1024)

#define FD_STORE_BUSY_TIMEOUT_MS 5000

typedef enum
{
  FD_STORE_JOB_OPEN,
  FD_STORE_JOB_RUN,
  FD_STORE_JOB_CLOSE,
} FdStoreJobKind;

/* A caller of a _sync function waits on this for the worker to finish its job. */
typedef struct
{
  GMutex    mutex;
  GCond     cond;
  gboolean  done;
  gboolean  ok;
  gpointer  result;
  GError   *error;
} FdStoreWaiter;

typedef struct
{
  FdStoreJobKind  kind;

  /* Exactly one of these for OPEN and RUN; neither for CLOSE. */
  GTask          *task;
  FdStoreWaiter  *waiter;

  GCancellable   *cancellable;
  FdStoreJobFunc  func;
  gpointer        job_data;
  GDestroyNotify  job_data_free;
  GDestroyNotify  result_free;

  gboolean        ok;
  gpointer        result;
  GError         *error;
} FdStoreJob;

/* What the worker thread owns. It is separate from the FdStore object so that the thread
 * never keeps the object alive and the object can go away on any thread. */
typedef struct
{
  char        *path;
  GAsyncQueue *queue;

  /* Only touched on the worker thread. */
  sqlite3     *db;
  GError      *open_error;

  /* Set once, by the integrity check that runs beside a large store (atomic). */
  GError      *damage_error;
} FdStoreWorker;

struct _FdStore
{
  GObject        parent_instance;

  char          *path;

  GMutex         lock;
  FdStoreWorker *worker;
  GThread       *thread;
  gboolean       closed;
};

G_DEFINE_FINAL_TYPE (FdStore, fd_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (fd-store-error-quark, fd_store_error)

enum {
  PROP_0,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Errors */

static const char *
fd_store_db_path (sqlite3 *db)
{
  const char *path = NULL;

  if (db != NULL)
    path = sqlite3_db_filename (db, "main");

  if (path == NULL || path[0] == '\0')
    return _("(temporary database)");

  return path;
}

static gboolean
fd_store_set_error_for_path (sqlite3     *db,
                             int          rc,
                             const char  *path,
                             GError     **error)
{
  const char *detail;
  g_autofree char *message = NULL;
  FdStoreError code;

  /* SQLite's own text is kept as a detail for bug reports; it is only accurate when it
   * describes the code we were given. */
  if (db != NULL && (sqlite3_extended_errcode (db) == rc || sqlite3_errcode (db) == rc))
    detail = sqlite3_errmsg (db);
  else
    detail = sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      code = FD_STORE_ERROR_FULL;
      message = g_strdup (_("The disk is full, so Frontdesk could not save. Free some space "
                            "and try again; nothing already saved was lost."));
      break;

    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = FD_STORE_ERROR_LOCKED;
      message = g_strdup_printf (_("Another program is using the Frontdesk database (%s). "
                                   "Close other copies of Frontdesk and try again."),
                                 path);
      break;

    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = FD_STORE_ERROR_CORRUPT;
      message = g_strdup_printf (_("The Frontdesk database %s is damaged and cannot be read. "
                                   "Frontdesk left the file untouched: restore it from a "
                                   "backup, or move it aside to start with a new one."),
                                 path);
      break;

    case SQLITE_READONLY:
    case SQLITE_PERM:
      code = FD_STORE_ERROR_READ_ONLY;
      message = g_strdup_printf (_("Frontdesk is not allowed to write to its database %s. "
                                   "Check that you own the file and its folder and that the "
                                   "disk is not read-only, then try again."),
                                 path);
      break;

    case SQLITE_CANTOPEN:
      code = FD_STORE_ERROR_READ_ONLY;
      message = g_strdup_printf (_("Frontdesk could not open its database %s. Check that "
                                   "the folder exists and that you may write to it, then "
                                   "try again."),
                                 path);
      break;

    case SQLITE_IOERR:
      code = FD_STORE_ERROR_IO;
      message = g_strdup_printf (_("The disk failed while Frontdesk was reading or writing "
                                   "its database %s. Check the disk, then try again."),
                                 path);
      break;

    case SQLITE_NOMEM:
      code = FD_STORE_ERROR_FAILED;
      message = g_strdup (_("Frontdesk ran out of memory while using its database. Close "
                            "some programs and try again."));
      break;

    case SQLITE_CONSTRAINT:
      code = FD_STORE_ERROR_FAILED;
      message = g_strdup (_("Frontdesk could not save a change because it conflicts with "
                            "data already stored. Nothing was changed; please report this "
                            "as a bug."));
      break;

    default:
      code = FD_STORE_ERROR_FAILED;
      message = g_strdup_printf (_("Frontdesk could not use its database %s. Try again; if "
                                   "this keeps happening, please report a bug."),
                                 path);
      break;
    }

  g_set_error (error, FD_STORE_ERROR, code, "%s (%s)", message, detail);

  return FALSE;
}

gboolean
fd_store_set_error (sqlite3  *db,
                    int       rc,
                    GError  **error)
{
  return fd_store_set_error_for_path (db, rc, fd_store_db_path (db), error);
}

gboolean
fd_store_exec (sqlite3     *db,
               const char  *sql,
               GError     **error)
{
  int rc;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

sqlite3_stmt *
fd_store_prepare (sqlite3     *db,
                  const char  *sql,
                  GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail (sql != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite3_finalize (stmt);
      fd_store_set_error (db, rc, error);
      return NULL;
    }

  return stmt;
}

gboolean
fd_store_begin (sqlite3  *db,
                GError  **error)
{
  g_return_val_if_fail (db != NULL, FALSE);

  /* IMMEDIATE takes the write lock now, so the busy timeout applies here rather than as an
   * unrecoverable SQLITE_BUSY in the middle of the transaction. */
  return fd_store_exec (db, "BEGIN IMMEDIATE", error);
}

gboolean
fd_store_commit (sqlite3  *db,
                 GError  **error)
{
  g_return_val_if_fail (db != NULL, FALSE);

  return fd_store_exec (db, "COMMIT", error);
}

void
fd_store_rollback (sqlite3 *db)
{
  g_return_if_fail (db != NULL);

  if (!sqlite3_get_autocommit (db))
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
fd_store_audit (sqlite3     *db,
                const char  *actor,
                const char  *action,
                const char  *subject,
                const char  *detail_json,
                GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (actor != NULL, FALSE);
  g_return_val_if_fail (action != NULL, FALSE);

  stmt = fd_store_prepare (db,
                           "INSERT INTO audit_log (at, actor, action, subject, detail_json) "
                           "VALUES (?, ?, ?, ?, ?)",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, g_get_real_time () / 1000);
  sqlite3_bind_text (stmt, 2, actor, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, action, -1, SQLITE_TRANSIENT);
  if (subject != NULL)
    sqlite3_bind_text (stmt, 4, subject, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 4);
  sqlite3_bind_text (stmt, 5, detail_json != NULL ? detail_json : "{}", -1, SQLITE_TRANSIENT);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

/* Schema */

static gboolean
fd_store_pragma_int (sqlite3     *db,
                     const char  *sql,
                     int         *value,
                     GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  *value = sqlite3_column_int (stmt, 0);

  return TRUE;
}

static gboolean
fd_store_pragma_text (sqlite3     *db,
                      const char  *sql,
                      char       **value,
                      GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  *value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));

  return TRUE;
}

static void
fd_store_set_newer_schema_error (sqlite3  *db,
                                 int       version,
                                 int       known,
                                 GError  **error)
{
  g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_NEWER_SCHEMA,
               _("The Frontdesk database %s was written by a newer version of Frontdesk "
                 "(format %d; this version knows up to %d). Update Frontdesk to open it; "
                 "the file was left untouched."),
               fd_store_db_path (db), version, known);
}

/* Applies migration @from (to version @from + 1) in one transaction. It changes nothing
 * and succeeds when another process moved the file on while we waited for the lock; the
 * caller reads the version again. */
static gboolean
fd_store_migrate_step (sqlite3  *db,
                       int       from,
                       GError  **error)
{
  g_autofree char *set_version = NULL;
  int locked_version;

  if (!fd_store_begin (db, error))
    return FALSE;

  if (!fd_store_pragma_int (db, "PRAGMA user_version", &locked_version, error))
    goto failed;

  if (locked_version != from)
    {
      fd_store_rollback (db);
      return TRUE;
    }

  g_debug ("Migrating %s from version %d to %d", fd_store_db_path (db), from, from + 1);

  set_version = g_strdup_printf ("PRAGMA user_version = %d", from + 1);

  if (fd_store_exec (db, _fd_store_migrations[from], error) &&
      fd_store_exec (db, set_version, error) &&
      fd_store_commit (db, error))
    return TRUE;

failed:
  fd_store_rollback (db);
  g_prefix_error (error,
                  _("Frontdesk could not update its database to the new format and left it "
                    "as it was. "));
  return FALSE;
}

gboolean
_fd_store_migrate (sqlite3  *db,
                   int       target,
                   GError  **error)
{
  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (target >= 0 && (guint) target <= _fd_store_n_migrations, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (;;)
    {
      int current;

      if (!fd_store_pragma_int (db, "PRAGMA user_version", &current, error))
        return FALSE;

      if (current > (int) _fd_store_n_migrations || current > target)
        {
          fd_store_set_newer_schema_error (db, current, target, error);
          return FALSE;
        }

      if (current < 0)
        {
          g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED,
                       _("The file %s is not a Frontdesk database. Frontdesk left it "
                         "untouched; choose another profile folder."),
                       fd_store_db_path (db));
          return FALSE;
        }

      if (current == target)
        return TRUE;

      if (!fd_store_migrate_step (db, current, error))
        return FALSE;
    }
}

/* The worker thread */

static void
fd_store_set_damaged_error (const char  *path,
                            char        *check,
                            GError     **error)
{
  if (check != NULL)
    g_strdelimit (check, "\n", ' ');
  g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_CORRUPT,
               _("The Frontdesk database %s is damaged. Frontdesk left the file "
                 "untouched: restore it from a backup, or move it aside to start with "
                 "a new one. (%s)"),
               path, check != NULL ? check : "");
}

static gboolean
fd_store_check_first (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  const char *limit_text = g_getenv ("FD_STORE_CHECK_FIRST_MAX_BYTES");  /* for tests */
  gint64 limit = FD_STORE_CHECK_FIRST_MAX_BYTES;
  GStatBuf info;

  if (limit_text != NULL)
    limit = g_ascii_strtoll (limit_text, NULL, 10);

  if (g_stat (path, &info) != 0 || info.st_size <= limit)
    return TRUE;

  return g_stat (wal, &info) == 0 && info.st_size > 0;
}

static void fd_store_worker_unref (FdStoreWorker *worker);

/* Checks a large store on a read-only connection of its own. If the file is damaged,
 * every later job fails with that message instead of reading or writing it. */
static gpointer
fd_store_check_thread (gpointer data)
{
  FdStoreWorker *worker = data;
  g_autofree char *check = NULL;
  g_autoptr(GError) error = NULL;
  gint64 started;
  sqlite3 *db = NULL;

  /* The first reads of the window go first: the check reads the whole file. */
  g_usleep (3 * G_USEC_PER_SEC);
  started = g_get_monotonic_time ();

  if (sqlite3_open_v2 (worker->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                       NULL) == SQLITE_OK)
    {
      sqlite3_busy_timeout (db, FD_STORE_BUSY_TIMEOUT_MS);
      if (fd_store_pragma_text (db, "PRAGMA quick_check", &check, &error) &&
          g_strcmp0 (check, "ok") != 0)
        {
          GError *damage = NULL;

          fd_store_set_damaged_error (worker->path, check, &damage);
          g_message ("%s", damage->message);
          if (!g_atomic_pointer_compare_and_exchange (&worker->damage_error, NULL, damage))
            g_error_free (damage);
        }
      else if (error != NULL)
        g_debug ("Could not check %s: %s", worker->path, error->message);
      else
        g_debug ("Checked %s beside the worker in %.0f ms", worker->path,
                 (g_get_monotonic_time () - started) / 1000.0);
    }
  sqlite3_close (db);

  fd_store_worker_unref (worker);

  return NULL;
}

static gboolean
fd_store_worker_open_db (FdStoreWorker  *worker,
                         GError        **error)
{
  g_autofree char *check = NULL;
  g_autofree char *journal_mode = NULL;
  sqlite3 *db = NULL;
  int version = 0;
  int rc;

  rc = sqlite3_open_v2 (worker->path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      if (db == NULL)
        {
          g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED,
                       _("Frontdesk ran out of memory while opening its database. Close "
                         "some programs and try again."));
          return FALSE;
        }
      goto failed_sqlite;
    }

  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, FD_STORE_BUSY_TIMEOUT_MS);

  /* Everything up to the version check only reads, so a damaged file or one from a newer
   * Frontdesk is reported exactly as it was found. Switching to WAL would already rewrite
   * the header. */
  if (fd_store_check_first (worker->path))
    {
      if (!fd_store_pragma_text (db, "PRAGMA quick_check", &check, error))
        goto failed;

      if (g_strcmp0 (check, "ok") != 0)
        {
          fd_store_set_damaged_error (worker->path, check, error);
          goto failed;
        }
    }
  else
    {
      g_thread_unref (g_thread_new ("fd-store-check", fd_store_check_thread,
                                    g_atomic_rc_box_acquire (worker)));
    }

  if (!fd_store_pragma_int (db, "PRAGMA user_version", &version, error))
    goto failed;

  if (version > fd_store_schema_version ())
    {
      fd_store_set_newer_schema_error (db, version, fd_store_schema_version (), error);
      goto failed;
    }

  if (!fd_store_pragma_text (db, "PRAGMA journal_mode = WAL", &journal_mode, error))
    goto failed;

  if (g_strcmp0 (journal_mode, "wal") != 0)
    {
      g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED,
                   _("Frontdesk could not prepare its database %s for safe writing; the "
                     "disk or file system may not support it. Keep the profile folder on "
                     "a local disk and try again. (journal mode %s)"),
                   worker->path, journal_mode != NULL ? journal_mode : "");
      goto failed;
    }

  /* FULL: a commit is on disk before it is reported, so a draft or an outbox entry the
   * agent saw stored survives a power cut, not only a crash. The larger page cache keeps
   * the inbox's views of a 100,000-conversation store in memory (64 MB at most). */
  if (!fd_store_exec (db, "PRAGMA foreign_keys = ON", error) ||
      !fd_store_exec (db, "PRAGMA synchronous = FULL", error) ||
      !fd_store_exec (db, "PRAGMA cache_size = -65536", error))
    goto failed;

  if (!_fd_store_migrate (db, fd_store_schema_version (), error))
    goto failed;

  g_debug ("Opened %s at schema version %d", worker->path, fd_store_schema_version ());

  worker->db = db;

  return TRUE;

failed_sqlite:
  /* A connection that failed to open does not know its file name. */
  fd_store_set_error_for_path (db, rc, worker->path, error);

failed:
  /* Closing only reads and unlocks: a file we refused is never written to. */
  sqlite3_close_v2 (db);

  return FALSE;
}

static gboolean
fd_store_worker_open (FdStoreWorker  *worker,
                      GError        **error)
{
  g_autoptr(GError) local_error = NULL;

  if (worker->db != NULL)
    return TRUE;

  g_clear_error (&worker->open_error);

  if (!fd_store_worker_open_db (worker, &local_error))
    {
      worker->open_error = g_error_copy (local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

static gboolean
fd_store_worker_run_func (FdStoreWorker   *worker,
                          FdStoreJob      *job,
                          gpointer        *result,
                          GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  gint64 started, elapsed;
  gboolean ok;

  if (g_atomic_pointer_get (&worker->damage_error) != NULL)
    {
      g_propagate_error (error, g_error_copy (g_atomic_pointer_get (&worker->damage_error)));
      return FALSE;
    }

  if (worker->db == NULL)
    {
      if (worker->open_error != NULL)
        g_propagate_error (error, g_error_copy (worker->open_error));
      else
        g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED,
                     _("Frontdesk tried to use its database %s before opening it. Please "
                       "report this as a bug."),
                     worker->path);
      return FALSE;
    }

  started = g_get_monotonic_time ();
  ok = job->func (worker->db, job->job_data, result, &local_error);
  elapsed = g_get_monotonic_time () - started;
  if (elapsed > 50 * 1000)
    g_debug ("A job (%p) held the store for %" G_GINT64_FORMAT " ms", job->func, elapsed / 1000);

  if (!ok && local_error == NULL)
    {
      g_critical ("A store job failed without saying why");
      g_set_error (&local_error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED,
                   _("Frontdesk could not use its database %s. Try again; if this keeps "
                     "happening, please report a bug."),
                   worker->path);
    }
  else if (ok && local_error != NULL)
    {
      g_critical ("A store job succeeded but set an error: %s", local_error->message);
      g_clear_error (&local_error);
    }

  /* A transaction must never outlive its job, or the next job would silently join it. A
   * failed job may simply return and have its writes undone here. */
  if (!sqlite3_get_autocommit (worker->db))
    {
      fd_store_rollback (worker->db);

      if (ok)
        {
          g_critical ("A store job returned with its transaction still open; it was "
                      "rolled back");
          ok = FALSE;
          g_set_error (&local_error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED,
                       _("Frontdesk could not finish saving a change, so it was undone. "
                         "Please report this as a bug."));
        }
    }

  if (!ok)
    {
      if (*result != NULL && job->result_free != NULL)
        g_clear_pointer (result, job->result_free);
      *result = NULL;
      g_propagate_error (error, g_steal_pointer (&local_error));
    }

  return ok;
}

static void
fd_store_worker_close (FdStoreWorker *worker)
{
  int rc;

  g_clear_error (&worker->open_error);

  if (worker->db == NULL)
    return;

  /* Fold the WAL back into the database so the profile is a single file at rest. */
  rc = sqlite3_exec (worker->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  if (rc == SQLITE_LOCKED)
    {
      /* SQLite 3.40 refuses the checkpoint right after a failed statement that wrote to
       * an FTS5 table, until the connection reads a table again. */
      sqlite3_exec (worker->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
      rc = sqlite3_exec (worker->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
  if (rc != SQLITE_OK)
    g_debug ("Could not checkpoint %s: %s", worker->path, sqlite3_errmsg (worker->db));

  rc = sqlite3_close (worker->db);
  if (rc != SQLITE_OK)
    {
      g_critical ("Closing %s left statements open: %s",
                  worker->path, sqlite3_errmsg (worker->db));
      sqlite3_close_v2 (worker->db);
    }

  worker->db = NULL;
}

static FdStoreWorker *
fd_store_worker_new (const char *path)
{
  FdStoreWorker *worker = g_atomic_rc_box_new0 (FdStoreWorker);

  worker->path = g_strdup (path);
  worker->queue = g_async_queue_new ();

  return worker;
}

static void
fd_store_worker_clear (gpointer data)
{
  FdStoreWorker *worker = data;

  g_assert (worker->db == NULL);

  g_clear_pointer (&worker->path, g_free);
  g_clear_pointer (&worker->queue, g_async_queue_unref);
  g_clear_error (&worker->open_error);
  g_clear_error (&worker->damage_error);
}

static void
fd_store_worker_unref (FdStoreWorker *worker)
{
  g_atomic_rc_box_release_full (worker, fd_store_worker_clear);
}

/* Jobs */

static void
fd_store_job_free (FdStoreJob *job)
{
  if (job->result != NULL && job->result_free != NULL)
    job->result_free (job->result);
  if (job->job_data_free != NULL)
    job->job_data_free (job->job_data);
  g_clear_error (&job->error);
  g_clear_object (&job->cancellable);
  g_clear_object (&job->task);
  g_free (job);
}

static FdStoreJob *
fd_store_job_new (FdStoreJobKind kind)
{
  FdStoreJob *job = g_new0 (FdStoreJob, 1);

  job->kind = kind;

  return job;
}

/* Runs on the caller's main context: the task is returned and released there, so every
 * reference to the store a job holds is dropped on the caller's thread. */
static gboolean
fd_store_job_return_cb (gpointer user_data)
{
  FdStoreJob *job = user_data;

  if (!job->ok)
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  else if (job->kind == FD_STORE_JOB_OPEN)
    g_task_return_boolean (job->task, TRUE);
  else
    g_task_return_pointer (job->task, g_steal_pointer (&job->result), job->result_free);

  return G_SOURCE_REMOVE;
}

static void
fd_store_job_complete (FdStoreJob *job)
{
  if (job->task != NULL)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_priority (source, g_task_get_priority (job->task));
      g_source_set_static_name (source, "[fd-store] job result");
      g_source_set_callback (source,
                             fd_store_job_return_cb,
                             job,
                             (GDestroyNotify) fd_store_job_free);
      g_source_attach (source, g_task_get_context (job->task));
    }
  else if (job->waiter != NULL)
    {
      FdStoreWaiter *waiter = job->waiter;

      g_mutex_lock (&waiter->mutex);
      waiter->ok = job->ok;
      waiter->result = g_steal_pointer (&job->result);
      waiter->error = g_steal_pointer (&job->error);
      waiter->done = TRUE;
      g_cond_signal (&waiter->cond);
      g_mutex_unlock (&waiter->mutex);

      fd_store_job_free (job);
    }
  else
    {
      fd_store_job_free (job);
    }
}

static gpointer
fd_store_worker_main (gpointer data)
{
  FdStoreWorker *worker = data;
  gboolean quit = FALSE;

  while (!quit)
    {
      FdStoreJob *job = g_async_queue_pop (worker->queue);

      if (g_cancellable_set_error_if_cancelled (job->cancellable, &job->error))
        {
          job->ok = FALSE;
          fd_store_job_complete (job);
          continue;
        }

      switch (job->kind)
        {
        case FD_STORE_JOB_OPEN:
          job->ok = fd_store_worker_open (worker, &job->error);
          break;

        case FD_STORE_JOB_RUN:
          job->ok = fd_store_worker_run_func (worker, job, &job->result, &job->error);
          break;

        case FD_STORE_JOB_CLOSE:
          fd_store_worker_close (worker);
          job->ok = TRUE;
          quit = TRUE;
          break;

        default:
          g_assert_not_reached ();
        }

      fd_store_job_complete (job);
    }

  fd_store_worker_unref (worker);

  return NULL;
}

static void
fd_store_set_closed_error (FdStore  *self,
                           GError  **error)
{
  g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_CLOSED,
               _("Frontdesk had already closed its database %s, so this change could not "
                 "be made. Please report this as a bug."),
               self->path);
}

/* Queues @job, or fails it with FD_STORE_ERROR_CLOSED on the caller's thread. */
static void
fd_store_submit (FdStore    *self,
                 FdStoreJob *job)
{
  g_mutex_lock (&self->lock);

  if (self->closed)
    {
      g_mutex_unlock (&self->lock);

      job->ok = FALSE;
      fd_store_set_closed_error (self, &job->error);
      if (job->task != NULL)
        {
          g_task_return_error (job->task, g_steal_pointer (&job->error));
          fd_store_job_free (job);
        }
      else
        {
          fd_store_job_complete (job);
        }

      return;
    }

  if (self->thread == NULL)
    self->thread = g_thread_new ("fd-store",
                                 fd_store_worker_main,
                                 g_atomic_rc_box_acquire (self->worker));

  g_async_queue_push (self->worker->queue, job);

  g_mutex_unlock (&self->lock);
}

static gboolean
fd_store_submit_and_wait (FdStore     *self,
                          FdStoreJob  *job,
                          gpointer    *result,
                          GError     **error)
{
  FdStoreWaiter waiter = { 0 };

  g_assert (self->thread == NULL || self->thread != g_thread_self ());

  g_mutex_init (&waiter.mutex);
  g_cond_init (&waiter.cond);
  job->waiter = &waiter;

  fd_store_submit (self, job);

  g_mutex_lock (&waiter.mutex);
  while (!waiter.done)
    g_cond_wait (&waiter.cond, &waiter.mutex);
  g_mutex_unlock (&waiter.mutex);

  g_mutex_clear (&waiter.mutex);
  g_cond_clear (&waiter.cond);

  if (result != NULL)
    *result = waiter.result;
  else if (waiter.result != NULL)
    g_warning ("A store job's result was dropped");

  if (!waiter.ok)
    {
      g_propagate_error (error, waiter.error);
      return FALSE;
    }

  return TRUE;
}

/* The object */

static void
fd_store_constructed (GObject *object)
{
  FdStore *self = (FdStore *)object;

  G_OBJECT_CLASS (fd_store_parent_class)->constructed (object);

  if (self->path == NULL)
    g_critical ("FdStore needs a path");

  self->worker = fd_store_worker_new (self->path != NULL ? self->path : "");
}

static void
fd_store_dispose (GObject *object)
{
  FdStore *self = (FdStore *)object;

  fd_store_close (self);

  G_OBJECT_CLASS (fd_store_parent_class)->dispose (object);
}

static void
fd_store_finalize (GObject *object)
{
  FdStore *self = (FdStore *)object;

  g_clear_pointer (&self->worker, fd_store_worker_unref);
  g_clear_pointer (&self->path, g_free);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (fd_store_parent_class)->finalize (object);
}

static void
fd_store_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  FdStore *self = FD_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_store_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  FdStore *self = FD_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_store_class_init (FdStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = fd_store_constructed;
  object_class->dispose = fd_store_dispose;
  object_class->finalize = fd_store_finalize;
  object_class->get_property = fd_store_get_property;
  object_class->set_property = fd_store_set_property;

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fd_store_init (FdStore *self)
{
  g_mutex_init (&self->lock);
}

FdStore *
fd_store_new (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (FD_TYPE_STORE,
                       "path", path,
                       NULL);
}

const char *
fd_store_get_path (FdStore *self)
{
  g_return_val_if_fail (FD_IS_STORE (self), NULL);

  return self->path;
}

void
fd_store_open_async (FdStore             *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  FdStoreJob *job;

  g_return_if_fail (FD_IS_STORE (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_store_open_async);

  job = fd_store_job_new (FD_STORE_JOB_OPEN);
  job->task = g_steal_pointer (&task);
  g_set_object (&job->cancellable, cancellable);

  fd_store_submit (self, job);
}

gboolean
fd_store_open_finish (FdStore       *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (FD_IS_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_store_open_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
fd_store_open_sync (FdStore       *self,
                    GCancellable  *cancellable,
                    GError       **error)
{
  FdStoreJob *job;

  g_return_val_if_fail (FD_IS_STORE (self), FALSE);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job = fd_store_job_new (FD_STORE_JOB_OPEN);
  g_set_object (&job->cancellable, cancellable);

  return fd_store_submit_and_wait (self, job, NULL, error);
}

void
fd_store_run_async (FdStore             *self,
                    FdStoreJobFunc       func,
                    gpointer             job_data,
                    GDestroyNotify       job_data_free,
                    GDestroyNotify       result_free,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  FdStoreJob *job;

  g_return_if_fail (FD_IS_STORE (self));
  g_return_if_fail (func != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_store_run_async);

  job = fd_store_job_new (FD_STORE_JOB_RUN);
  job->task = g_steal_pointer (&task);
  job->func = func;
  job->job_data = job_data;
  job->job_data_free = job_data_free;
  job->result_free = result_free;
  g_set_object (&job->cancellable, cancellable);

  fd_store_submit (self, job);
}

gpointer
fd_store_run_finish (FdStore       *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (FD_IS_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_store_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
fd_store_run_sync (FdStore         *self,
                   FdStoreJobFunc   func,
                   gpointer         job_data,
                   gpointer        *result,
                   GError         **error)
{
  FdStoreJob *job;

  g_return_val_if_fail (FD_IS_STORE (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (result != NULL)
    *result = NULL;

  job = fd_store_job_new (FD_STORE_JOB_RUN);
  job->func = func;
  job->job_data = job_data;

  return fd_store_submit_and_wait (self, job, result, error);
}

void
fd_store_close (FdStore *self)
{
  GThread *thread;

  g_return_if_fail (FD_IS_STORE (self));

  g_mutex_lock (&self->lock);

  if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      return;
    }

  self->closed = TRUE;
  thread = g_steal_pointer (&self->thread);

  /* The close job goes in last, so every job queued before it still runs. */
  if (thread != NULL)
    g_async_queue_push (self->worker->queue, fd_store_job_new (FD_STORE_JOB_CLOSE));

  g_mutex_unlock (&self->lock);

  if (thread == NULL)
    return;

  /* A job may drop the last reference on the worker thread itself; the thread then
   * finishes on its own after the close job. */
  if (thread == g_thread_self ())
    g_thread_unref (thread);
  else
    g_thread_join (thread);
}
