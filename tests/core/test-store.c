/* test-store.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-store"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>

#include "fd-store-private.h"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "frontdesk.db", NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_unlink (path);
      return;
    }

  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      remove_tree (child);
    }

  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  remove_tree (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->path, g_free);
}

/* Raw SQLite, as another process would see the file. */

static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;
  int rc;

  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  g_assert_cmpint (rc, ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);

  return db;
}

static void
raw_exec (sqlite3    *db,
          const char *sql)
{
  char *errmsg = NULL;
  int rc;

  rc = sqlite3_exec (db, sql, NULL, NULL, &errmsg);
  if (rc != SQLITE_OK)
    g_error ("%s: %s", sql, errmsg);
}

static gint64
raw_int (sqlite3    *db,
         const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);

  return sqlite3_column_int64 (stmt, 0);
}

static void
raw_close (sqlite3 *db)
{
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

/* Store helpers: jobs that run one statement. */

static gboolean
exec_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  return fd_store_exec (db, job_data, error);
}

static gboolean
query_text_job (sqlite3   *db,
                gpointer   job_data,
                gpointer  *result,
                GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (db, job_data, error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  *result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));

  return TRUE;
}

static void
store_exec (FdStore    *store,
            const char *sql)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = fd_store_run_sync (store, exec_job, (gpointer) sql, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static char *
store_text (FdStore    *store,
            const char *sql)
{
  g_autoptr(GError) error = NULL;
  gpointer result = NULL;
  gboolean ok;

  ok = fd_store_run_sync (store, query_text_job, (gpointer) sql, &result, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  return result;
}

static gint64
store_int (FdStore    *store,
           const char *sql)
{
  g_autofree char *text = store_text (store, sql);

  g_assert_nonnull (text);

  return g_ascii_strtoll (text, NULL, 10);
}

static FdStore *
open_store (const char *path)
{
  g_autoptr(FdStore) store = fd_store_new (path);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = fd_store_open_sync (store, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  return g_steal_pointer (&store);
}

static void
close_store (FdStore *store)
{
  fd_store_close (store);
  g_assert_finalize_object (store);
}

static char *
file_checksum (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
}

static gint64
file_size (const char *path)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return -1;

  return st.st_size;
}

static gboolean
wait_for (gboolean *flag)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (!*flag && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  return *flag;
}

#define INSERT_CONVERSATION \
  "INSERT INTO conversations (id, channel, subject, created_at, updated_at) " \
  "VALUES (1, 'email', 'Billing question', 0, 0)"

/* Opening */

static void
test_open_creates (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *journal_mode = NULL;
  g_autofree char *wal = g_strconcat (fixture->path, "-wal", NULL);
  g_autofree char *path_prop = NULL;
  g_autofree char *header = NULL;
  FdStore *store;
  gsize length = 0;
  gboolean ok;

  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));

  store = open_store (fixture->path);
  g_assert_true (g_file_test (fixture->path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpstr (fd_store_get_path (store), ==, fixture->path);
  g_object_get (store, "path", &path_prop, NULL);
  g_assert_cmpstr (path_prop, ==, fixture->path);

  journal_mode = store_text (store, "PRAGMA journal_mode");
  g_assert_cmpstr (journal_mode, ==, "wal");
  g_assert_cmpint (store_int (store, "PRAGMA foreign_keys"), ==, 1);
  /* FULL: what was committed survives a power cut (drafts, the outbox). */
  g_assert_cmpint (store_int (store, "PRAGMA synchronous"), ==, 2);
  g_assert_cmpint (store_int (store, "PRAGMA cache_size"), ==, -65536);
  g_assert_cmpint (store_int (store, "PRAGMA busy_timeout"), ==, 5000);
  g_assert_cmpint (store_int (store, "PRAGMA user_version"), ==, FD_STORE_SCHEMA_VERSION);
  g_assert_cmpint (FD_STORE_SCHEMA_VERSION, ==, (int) _fd_store_n_migrations);
  g_assert_cmpint (store_int (store,
                              "SELECT count(*) FROM sqlite_master WHERE name IN "
                              "('accounts','conversations','messages','messages_fts',"
                              "'audit_log','feedback','docs')"),
                   ==, 7);

  /* Foreign keys are enforced, and the error reads as words with SQLite's detail after. */
  ok = fd_store_run_sync (store, exec_job,
                          (gpointer) "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
                          "VALUES (999, 'agent', 'orphan', 0)",
                          NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Frontdesk could not save a change"));
  g_assert_true (g_str_has_suffix (error->message, "(FOREIGN KEY constraint failed)"));
  g_clear_error (&error);

  close_store (store);

  /* WAL is recorded in the file header (bytes 18 and 19), and close checkpointed it all. */
  g_file_get_contents (fixture->path, &header, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >=, 100);
  g_assert_cmpint (header[18], ==, 2);
  g_assert_cmpint (header[19], ==, 2);
  g_assert_cmpint (file_size (wal), <=, 0);
}

static void
test_open_missing_folder (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "no", "such", "frontdesk.db", NULL);
  g_autoptr(FdStore) store = fd_store_new (path);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = fd_store_open_sync (store, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_READ_ONLY);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_fts (Fixture       *fixture,
          gconstpointer  user_data)
{
  FdStore *store = open_store (fixture->path);

  store_exec (store,
              INSERT_CONVERSATION ";"
              "INSERT INTO messages (id, conversation_id, author_kind, body, created_at) VALUES"
              " (1, 1, 'contact', 'The invoice was charged twice', 0),"
              " (2, 1, 'contact', 'SAML login fails with Okta', 1),"
              " (3, 1, 'agent', 'Un café au lait, s''il vous plaît', 2);");

  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'invoice'"), ==, 1);
  g_assert_cmpint (store_int (store, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'okta'"), ==, 2);
  /* remove_diacritics: "cafe" finds "café". */
  g_assert_cmpint (store_int (store, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'cafe'"), ==, 3);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'refund'"), ==, 0);

  /* Updates replace the indexed text. */
  store_exec (store, "UPDATE messages SET body = 'Please refund the duplicate charge' WHERE id = 1");
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'invoice'"), ==, 0);
  g_assert_cmpint (store_int (store, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'refund'"), ==, 1);

  /* An update of another column keeps the index as it was. */
  store_exec (store, "UPDATE messages SET created_at = 42 WHERE id = 2");
  g_assert_cmpint (store_int (store, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'saml'"), ==, 2);

  /* Deletes remove it, also through ON DELETE CASCADE (foreign keys are on). */
  store_exec (store, "DELETE FROM messages WHERE id = 2");
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'saml'"), ==, 0);
  store_exec (store, "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')");

  store_exec (store, "DELETE FROM conversations WHERE id = 1");
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages"), ==, 0);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'cafe OR refund'"), ==, 0);
  store_exec (store, "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')");

  close_store (store);
}

/* Async use from a main loop */

typedef struct
{
  GThread   *main_thread;
  GThread   *worker_thread;
  gboolean   worker_threads_differ;
  GPtrArray *order;
  guint      pending;
  gboolean   cancelled_job_ran;
  guint      freed_results;
  GError    *cancel_error;
} AsyncState;

static gboolean
record_thread_job (sqlite3   *db,
                   gpointer   job_data,
                   gpointer  *result,
                   GError   **error)
{
  AsyncState *state = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (state->worker_thread == NULL)
    state->worker_thread = g_thread_self ();
  else if (state->worker_thread != g_thread_self ())
    state->worker_threads_differ = TRUE;

  /* Queued right after open_async, yet it sees the migrated schema. */
  stmt = fd_store_prepare (db, "PRAGMA user_version", error);
  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    return FALSE;

  *result = g_strdup_printf ("version %d", sqlite3_column_int (stmt, 0));

  return TRUE;
}

static void
open_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  AsyncState *state = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_assert_true (g_thread_self () == state->main_thread);

  ok = fd_store_open_finish (FD_STORE (object), result, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  g_ptr_array_add (state->order, g_strdup ("open"));
  state->pending--;
}

static void
run_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  AsyncState *state = user_data;
  g_autoptr(GError) error = NULL;
  char *text;

  g_assert_true (g_thread_self () == state->main_thread);

  text = fd_store_run_finish (FD_STORE (object), result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (text);

  g_ptr_array_add (state->order, text);
  state->pending--;
}

static gboolean
flag_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  AsyncState *state = job_data;

  state->cancelled_job_ran = TRUE;

  return TRUE;
}

static void
cancelled_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncState *state = user_data;

  g_assert_null (fd_store_run_finish (FD_STORE (object), result, &state->cancel_error));
  state->pending--;
}

static void
count_free (gpointer data)
{
  guint *freed = data;

  (*freed)++;
}

static gboolean
unclaimed_result_job (sqlite3   *db,
                      gpointer   job_data,
                      gpointer  *result,
                      GError   **error)
{
  *result = job_data;

  return TRUE;
}

static void
test_async (Fixture       *fixture,
            gconstpointer  user_data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *expected = g_strdup_printf ("version %d", FD_STORE_SCHEMA_VERSION);
  AsyncState state = { 0 };
  FdStore *store;
  gint64 deadline;

  state.main_thread = g_thread_self ();
  state.order = g_ptr_array_new_with_free_func (g_free);

  store = fd_store_new (fixture->path);

  /* Nothing waits between these: the queue keeps them in order behind the open. */
  fd_store_open_async (store, NULL, open_cb, &state);
  fd_store_run_async (store, record_thread_job, &state, NULL, g_free, NULL, run_cb, &state);
  fd_store_run_async (store, record_thread_job, &state, NULL, g_free, NULL, run_cb, &state);
  state.pending = 3;

  g_cancellable_cancel (cancellable);
  fd_store_run_async (store, flag_job, &state, NULL, NULL, cancellable, cancelled_cb, &state);
  state.pending++;

  /* A result nobody claims is freed with its result_free. */
  fd_store_run_async (store, unclaimed_result_job, &state.freed_results, NULL, count_free,
                      NULL, NULL, NULL);

  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while ((state.pending > 0 || state.freed_results == 0) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (state.pending, ==, 0);
  g_assert_cmpuint (state.freed_results, ==, 1);

  g_assert_nonnull (state.worker_thread);
  g_assert_true (state.worker_thread != state.main_thread);
  g_assert_false (state.worker_threads_differ);

  g_assert_cmpuint (state.order->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (state.order, 0), ==, "open");
  g_assert_cmpstr (g_ptr_array_index (state.order, 1), ==, expected);
  g_assert_cmpstr (g_ptr_array_index (state.order, 2), ==, expected);

  g_assert_false (state.cancelled_job_ran);
  g_assert_error (state.cancel_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&state.cancel_error);

  g_ptr_array_unref (state.order);
  close_store (store);
}

/* Migrations */

static void
test_migrate_from_v1 (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *body = NULL;
  g_autofree char *journal_mode = NULL;
  FdStore *store;
  sqlite3 *db;
  gboolean ok;

  db = raw_open (fixture->path);
  ok = _fd_store_migrate (db, 1, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM sqlite_master WHERE name IN ('feedback','docs')"), ==, 0);

  raw_exec (db,
            "INSERT INTO organisations (id, name, plan, seats_purchased, created_at, updated_at) "
            "  VALUES (7, 'Acme Ltd', 'enterprise', 250, 1, 2);"
            "INSERT INTO conversations (id, channel, subject, organisation_id, created_at, updated_at) "
            "  VALUES (3, 'slack', 'SSO broken', 7, 10, 11);"
            "INSERT INTO messages (id, conversation_id, author_kind, body, created_at) "
            "  VALUES (5, 3, 'contact', 'Our SAML assertion is rejected', 12);");
  raw_close (db);

  store = open_store (fixture->path);

  g_assert_cmpint (store_int (store, "PRAGMA user_version"), ==, FD_STORE_SCHEMA_VERSION);
  journal_mode = store_text (store, "PRAGMA journal_mode");
  g_assert_cmpstr (journal_mode, ==, "wal");

  name = store_text (store, "SELECT name || '/' || plan || '/' || seats_purchased FROM organisations WHERE id = 7");
  g_assert_cmpstr (name, ==, "Acme Ltd/enterprise/250");
  body = store_text (store, "SELECT body FROM messages WHERE conversation_id = 3");
  g_assert_cmpstr (body, ==, "Our SAML assertion is rejected");
  g_assert_cmpint (store_int (store, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'assertion'"), ==, 5);
  g_assert_cmpint (store_int (store, "SELECT organisation_id FROM conversations WHERE id = 3"), ==, 7);

  /* Version 2's tables and indexes are there and usable. */
  g_assert_cmpint (store_int (store,
                              "SELECT count(*) FROM sqlite_master WHERE name IN "
                              "('feedback','docs','conversations_sla','conversations_contact')"),
                   ==, 4);
  store_exec (store,
              "INSERT INTO feedback (organisation_id, conversation_id, message_id, area, request, created_at) "
              "VALUES (7, 3, 5, 'sso', 'Support Okta SCIM groups', 13)");
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);

  close_store (store);
}

static void
test_migrate_direct (void)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db;
  gboolean ok;

  db = raw_open (":memory:");

  ok = _fd_store_migrate (db, FD_STORE_SCHEMA_VERSION, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, FD_STORE_SCHEMA_VERSION);

  /* Again: nothing to do. */
  ok = _fd_store_migrate (db, FD_STORE_SCHEMA_VERSION, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  /* Forward only. */
  ok = _fd_store_migrate (db, 1, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_NEWER_SCHEMA);
  g_clear_error (&error);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, FD_STORE_SCHEMA_VERSION);

  raw_exec (db, "PRAGMA user_version = 1000");
  ok = _fd_store_migrate (db, FD_STORE_SCHEMA_VERSION, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_NEWER_SCHEMA);
  g_clear_error (&error);

  raw_close (db);
}

static void
test_migrate_failure_rolls_back (void)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db;
  gboolean ok;

  /* A table in the way makes migration 1 fail half-way: nothing of it may remain. */
  db = raw_open (":memory:");
  raw_exec (db, "CREATE TABLE messages (x)");

  ok = _fd_store_migrate (db, FD_STORE_SCHEMA_VERSION, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Frontdesk could not update its database"));
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 0);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM sqlite_master WHERE name = 'accounts'"), ==, 0);
  g_assert_true (sqlite3_get_autocommit (db));

  raw_close (db);
}

static void
check_newer_schema_untouched (const char *path,
                              gboolean    expect_no_wal)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = file_checksum (path);
  g_autofree char *after = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  FdStore *store;
  gboolean ok;

  store = fd_store_new (path);
  ok = fd_store_open_sync (store, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_NEWER_SCHEMA);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "newer version of Frontdesk"));
  g_clear_error (&error);

  /* Jobs after a failed open get the same reason. */
  ok = fd_store_run_sync (store, exec_job, (gpointer) "CREATE TABLE t2 (y)", NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_NEWER_SCHEMA);
  g_clear_error (&error);

  close_store (store);

  after = file_checksum (path);
  g_assert_cmpstr (before, ==, after);
  if (expect_no_wal)
    g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
}

static void
test_newer_schema (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA user_version = %d", FD_STORE_SCHEMA_VERSION + 5);
  g_autofree char *wal_path = g_build_filename (fixture->dir, "wal.db", NULL);
  sqlite3 *db;

  /* A rollback-journal file: switching it to WAL would already change its header. */
  db = raw_open (fixture->path);
  raw_exec (db, "CREATE TABLE future (x); INSERT INTO future VALUES ('from the future');");
  raw_exec (db, sql);
  raw_close (db);
  check_newer_schema_untouched (fixture->path, TRUE);

  /* A file a newer Frontdesk left in WAL mode. */
  db = raw_open (wal_path);
  raw_exec (db, "PRAGMA journal_mode = WAL; CREATE TABLE future (x); INSERT INTO future VALUES (1);");
  raw_exec (db, sql);
  raw_close (db);
  check_newer_schema_untouched (wal_path, FALSE);
}

/* Damaged files */

/* Reads, and fails only when the store refuses to. */
static gboolean
count_job (sqlite3   *db,
           gpointer   data,
           gpointer  *result,
           GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, "SELECT count(*) FROM accounts", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  if ((rc = sqlite3_step (stmt)) != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);
  return TRUE;
}

static void
check_corrupt_untouched (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = file_checksum (path);
  g_autofree char *after = NULL;
  gint64 size = file_size (path);
  FdStore *store;
  gboolean ok;

  store = fd_store_new (path);
  ok = fd_store_open_sync (store, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "untouched"));
  g_test_message ("corrupt: %s", error->message);
  close_store (store);

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (file_size (path), ==, size);
  after = file_checksum (path);
  g_assert_cmpstr (before, ==, after);
}

static void
test_corrupt_garbage (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260101);
  g_autofree guint32 *garbage = g_new (guint32, 8192 / 4);
  g_autofree char *with_header = g_build_filename (fixture->dir, "header.db", NULL);

  for (guint i = 0; i < 8192 / 4; i++)
    garbage[i] = g_rand_int (rand);

  g_file_set_contents (fixture->path, (const char *) garbage, 8192, &error);
  g_assert_no_error (error);
  check_corrupt_untouched (fixture->path);

  /* A valid-looking header followed by noise. */
  memcpy (garbage, "SQLite format 3", 16);
  g_file_set_contents (with_header, (const char *) garbage, 8192, &error);
  g_assert_no_error (error);
  check_corrupt_untouched (with_header);
}

static void
test_corrupt_page (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  FdStore *store;
  gsize length = 0;
  gsize page_size;
  gsize n_pages;

  store = open_store (fixture->path);
  store_exec (store,
              INSERT_CONVERSATION ";"
              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
              "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
              "SELECT 1, 'contact', 'message ' || i || ' ' || hex(randomblob(100)), i FROM n;");
  page_size = store_int (store, "PRAGMA page_size");
  close_store (store);

  g_file_get_contents (fixture->path, &contents, &length, &error);
  g_assert_no_error (error);
  n_pages = length / page_size;
  g_assert_cmpuint (n_pages, >, 20);

  /* Overwrite one page in the middle, as a failing disk or a stray write would. */
  memset (contents + (n_pages / 2) * page_size, 0xA5, page_size);
  g_file_set_contents (fixture->path, contents, length, &error);
  g_assert_no_error (error);

  check_corrupt_untouched (fixture->path);

  /* A large store that was closed cleanly opens at once and is checked beside the
   * worker; once the damage is found, every job fails with it. */
  g_setenv ("FD_STORE_CHECK_FIRST_MAX_BYTES", "0", TRUE);
  store = fd_store_new (fixture->path);
  g_assert_true (fd_store_open_sync (store, NULL, &error));
  g_assert_no_error (error);
  {
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
    gboolean failed = FALSE;

    while (!failed && g_get_monotonic_time () < deadline)
      {
        failed = !fd_store_run_sync (store, count_job, NULL, NULL, &error);
        if (!failed)
          g_usleep (10000);
      }
    g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "damaged"));
    g_clear_error (&error);
  }
  close_store (store);
  g_unsetenv ("FD_STORE_CHECK_FIRST_MAX_BYTES");
}

/* Several writers */

typedef struct
{
  const char *label;
  guint       n_rows;
} InsertJob;

static gboolean
insert_rows_job (sqlite3   *db,
                 gpointer   job_data,
                 gpointer  *result,
                 GError   **error)
{
  InsertJob *job = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db,
                           "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
                           "VALUES (1, 'agent', ?, ?)",
                           error);
  if (stmt == NULL)
    return FALSE;

  for (guint i = 0; i < job->n_rows; i++)
    {
      g_autofree char *body = g_strdup_printf ("%s %u", job->label, i);
      int rc;

      sqlite3_bind_text (stmt, 1, body, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, i);
      rc = sqlite3_step (stmt);
      if (rc != SQLITE_DONE)
        return fd_store_set_error (db, rc, error);
      sqlite3_reset (stmt);
    }

  return fd_store_commit (db, error);
}

typedef struct
{
  gint64   started;
  gint64   elapsed[2];
  GError  *error[2];
  guint    done;
  gboolean all_done;
} WritersState;

static void
writer_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  WritersState *state = user_data;
  g_autoptr(GError) error = NULL;
  guint i = state->done++;

  fd_store_run_finish (FD_STORE (object), result, &error);
  state->elapsed[i] = g_get_monotonic_time () - state->started;
  state->error[i] = g_steal_pointer (&error);
  state->all_done = state->done == 2;
}

static gboolean
commit_raw_cb (gpointer user_data)
{
  raw_exec (user_data, "COMMIT");

  return G_SOURCE_REMOVE;
}

static void
test_two_writers (Fixture       *fixture,
                  gconstpointer  user_data)
{
  InsertJob job_a = { "writer-a", 100 };
  InsertJob job_b = { "writer-b", 100 };
  WritersState state = { 0 };
  g_autofree char *first = NULL;
  FdStore *a;
  FdStore *b;
  sqlite3 *other;

  a = open_store (fixture->path);
  b = open_store (fixture->path);
  store_exec (a, INSERT_CONVERSATION);

  /* A third program holds the write lock for 200 ms. */
  other = raw_open (fixture->path);
  raw_exec (other,
            "BEGIN IMMEDIATE;"
            "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
            "VALUES (1, 'system', 'other program', 0);");
  g_timeout_add (200, commit_raw_cb, other);

  state.started = g_get_monotonic_time ();
  fd_store_run_async (a, insert_rows_job, &job_a, NULL, NULL, NULL, writer_cb, &state);
  fd_store_run_async (b, insert_rows_job, &job_b, NULL, NULL, NULL, writer_cb, &state);

  g_assert_true (wait_for (&state.all_done));

  for (guint i = 0; i < 2; i++)
    {
      g_assert_no_error (state.error[i]);
      /* They waited for the lock instead of failing at once. */
      g_assert_cmpint (state.elapsed[i], >=, 150 * 1000);
    }

  g_assert_cmpint (store_int (b, "SELECT count(*) FROM messages"), ==, 201);
  g_assert_cmpint (store_int (b, "SELECT count(*) FROM messages WHERE body LIKE 'writer-a %'"), ==, 100);
  g_assert_cmpint (store_int (a, "SELECT count(*) FROM messages WHERE body LIKE 'writer-b %'"), ==, 100);
  g_assert_cmpint (store_int (a, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'writer'"), ==, 200);
  first = store_text (a, "SELECT body FROM messages ORDER BY id LIMIT 1");
  g_assert_cmpstr (first, ==, "other program");

  raw_close (other);
  close_store (a);
  close_store (b);
}

static gboolean
short_timeout_write_job (sqlite3   *db,
                         gpointer   job_data,
                         gpointer  *result,
                         GError   **error)
{
  gboolean ok;

  sqlite3_busy_timeout (db, 100);
  ok = fd_store_begin (db, error) &&
       fd_store_exec (db, "INSERT INTO tags (name) VALUES ('locked-out')", error) &&
       fd_store_commit (db, error);
  sqlite3_busy_timeout (db, 5000);

  return ok;
}

static void
test_locked (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = NULL;
  FdStore *store;
  sqlite3 *other;
  gint64 started;
  gboolean ok;

  store = open_store (fixture->path);

  other = raw_open (fixture->path);
  raw_exec (other, "BEGIN IMMEDIATE; INSERT INTO tags (name) VALUES ('holder');");

  started = g_get_monotonic_time ();
  ok = fd_store_run_sync (store, short_timeout_write_job, NULL, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_LOCKED);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 4 * G_USEC_PER_SEC);

  prefix = g_strdup_printf ("Another program is using the Frontdesk database (%s). "
                            "Close other copies of Frontdesk and try again.",
                            fixture->path);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_true (g_str_has_suffix (error->message, "(database is locked)"));
  g_clear_error (&error);

  g_assert_cmpint (store_int (store, "PRAGMA busy_timeout"), ==, 5000);

  /* Once the other program lets go, writing works again. */
  raw_exec (other, "ROLLBACK");
  ok = fd_store_run_sync (store, short_timeout_write_job, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM tags WHERE name = 'locked-out'"), ==, 1);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM tags WHERE name = 'holder'"), ==, 0);

  raw_close (other);
  close_store (store);
}

/* Crash in the middle of a transaction */

static void
test_crash (Fixture       *fixture,
            gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) helper = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *check = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *wal = g_strconcat (fixture->path, "-wal", NULL);
  FdStore *store;
  gboolean ok;

  helper = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                             STORE_CRASH_HELPER, fixture->path, NULL);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (helper));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "ready");

  g_subprocess_send_signal (helper, SIGKILL);
  ok = g_subprocess_wait (helper, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_true (g_subprocess_get_if_signaled (helper));
  g_assert_cmpint (g_subprocess_get_term_sig (helper), ==, SIGKILL);

  /* The open transaction had spilled pages into the WAL before it died. */
  g_assert_cmpint (file_size (wal), >, 100 * 1024);

  store = open_store (fixture->path);
  check = store_text (store, "PRAGMA quick_check");
  g_assert_cmpstr (check, ==, "ok");
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages WHERE body LIKE 'uncommitted%'"), ==, 0);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'uncommitted'"), ==, 0);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages"), ==, 1);
  marker = store_text (store, "SELECT body FROM messages");
  g_assert_cmpstr (marker, ==, "committed marker before the crash");
  g_assert_cmpint (store_int (store, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'marker'"), ==, 1);
  store_exec (store, "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')");

  /* And it takes new writes. */
  store_exec (store,
              "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
              "VALUES (1, 'agent', 'after the crash', 1)");
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages"), ==, 2);

  close_store (store);
}

/* Full disk */

static gboolean
fill_disk_job (sqlite3   *db,
               gpointer   job_data,
               gpointer  *result,
               GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *limit = NULL;

  stmt = fd_store_prepare (db, "PRAGMA page_count", error);
  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    return FALSE;

  /* No room for one more page: as good as a full disk. */
  limit = g_strdup_printf ("PRAGMA max_page_count = %d", sqlite3_column_int (stmt, 0));
  if (!fd_store_exec (db, limit, error) || !fd_store_begin (db, error))
    return FALSE;

  return fd_store_exec (db,
                        "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
                        "VALUES (1, 'agent', hex(randomblob(65536)), 0)",
                        error) &&
         fd_store_commit (db, error);
}

static void
test_full (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *check = NULL;
  g_autofree char *bodies = NULL;
  FdStore *store;
  gboolean ok;

  store = open_store (fixture->path);
  store_exec (store,
              INSERT_CONVERSATION ";"
              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) "
              "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
              "SELECT 1, 'contact', 'kept ' || i, i FROM n;");

  ok = fd_store_run_sync (store, fill_disk_job, NULL, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FULL);
  g_assert_cmpstr (error->message, ==,
                   "The disk is full, so Frontdesk could not save. Free some space and try "
                   "again; nothing already saved was lost. (database or disk is full)");
  g_clear_error (&error);

  /* Everything saved before is still there. */
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages"), ==, 10);
  bodies = store_text (store, "SELECT group_concat(body, ',') FROM (SELECT body FROM messages ORDER BY id)");
  g_assert_cmpstr (bodies, ==, "kept 1,kept 2,kept 3,kept 4,kept 5,kept 6,kept 7,kept 8,kept 9,kept 10");
  check = store_text (store, "PRAGMA quick_check");
  g_assert_cmpstr (check, ==, "ok");

  /* Space again: writes work. */
  store_exec (store, "PRAGMA max_page_count = 1073741823");
  store_exec (store,
              "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
              "VALUES (1, 'agent', hex(randomblob(65536)), 0)");
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages"), ==, 11);

  close_store (store);
}

/* Closing */

static void
count_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  guint *succeeded = user_data;
  g_autoptr(GError) error = NULL;

  fd_store_run_finish (FD_STORE (object), result, &error);
  g_assert_no_error (error);
  (*succeeded)++;
}

static void
closed_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GError **error = user_data;

  g_assert_null (fd_store_run_finish (FD_STORE (object), result, error));
}

static void
test_close (Fixture       *fixture,
            gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *wal = g_strconcat (fixture->path, "-wal", NULL);
  GError *async_error = NULL;
  FdStore *store;
  sqlite3 *reader;
  guint succeeded = 0;
  gboolean ok;

  store = open_store (fixture->path);
  store_exec (store, INSERT_CONVERSATION);

  /* Another connection stays open, so only the store's own checkpoint can empty the WAL
   * (the last connection to close would otherwise do it). */
  reader = raw_open (fixture->path);
  g_assert_cmpint (raw_int (reader, "SELECT count(*) FROM conversations"), ==, 1);

  /* Close waits for everything already queued. */
  for (guint i = 0; i < 50; i++)
    fd_store_run_async (store, exec_job,
                        (gpointer) "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
                        "VALUES (1, 'agent', 'queued before close', 0)",
                        NULL, NULL, NULL, count_cb, &succeeded);
  fd_store_close (store);

  while (succeeded < 50)
    g_main_context_iteration (NULL, TRUE);

  /* Close checkpointed and truncated the WAL. */
  g_assert_cmpint (file_size (wal), ==, 0);
  g_assert_cmpint (raw_int (reader, "SELECT count(*) FROM messages"), ==, 50);
  raw_close (reader);

  ok = fd_store_run_sync (store, exec_job, (gpointer) "SELECT 1", NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_CLOSED);
  g_clear_error (&error);

  ok = fd_store_open_sync (store, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_CLOSED);
  g_clear_error (&error);

  fd_store_run_async (store, exec_job, (gpointer) "SELECT 1", NULL, NULL, NULL, closed_cb, &async_error);
  while (async_error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (async_error, FD_STORE_ERROR, FD_STORE_ERROR_CLOSED);
  g_clear_error (&async_error);

  /* Closing twice is harmless. */
  fd_store_close (store);
  g_assert_finalize_object (store);

  store = open_store (fixture->path);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM messages WHERE body = 'queued before close'"), ==, 50);
  close_store (store);

  /* A store that never ran anything goes away cleanly. */
  g_assert_finalize_object (fd_store_new (fixture->path));
}

static void
test_unref_while_busy (Fixture       *fixture,
                       gconstpointer  user_data)
{
  FdStore *store = fd_store_new (fixture->path);
  guint succeeded = 0;

  /* The pending jobs keep the store alive; once they are done it is finalized on this
   * thread, closing the connection and the worker. */
  g_object_add_weak_pointer (G_OBJECT (store), (gpointer *) &store);
  fd_store_open_async (store, NULL, NULL, NULL);
  for (guint i = 0; i < 20; i++)
    fd_store_run_async (store, exec_job, (gpointer) "CREATE TABLE IF NOT EXISTS scratch (x)",
                        NULL, NULL, NULL, count_cb, &succeeded);
  g_object_unref (store);
  g_assert_nonnull (store);

  while (store != NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (succeeded, ==, 20);
}

/* Errors and audit */

static void
test_error_messages (void)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt;
  sqlite3 *db;
  struct {
    int          rc;
    FdStoreError code;
    const char  *words;
  } cases[] = {
    { SQLITE_FULL, FD_STORE_ERROR_FULL, "The disk is full" },
    { SQLITE_BUSY, FD_STORE_ERROR_LOCKED, "Another program is using" },
    { SQLITE_LOCKED, FD_STORE_ERROR_LOCKED, "Another program is using" },
    { SQLITE_BUSY_SNAPSHOT, FD_STORE_ERROR_LOCKED, "Another program is using" },
    { SQLITE_CORRUPT, FD_STORE_ERROR_CORRUPT, "untouched" },
    { SQLITE_NOTADB, FD_STORE_ERROR_CORRUPT, "untouched" },
    { SQLITE_READONLY, FD_STORE_ERROR_READ_ONLY, "not allowed to write" },
    { SQLITE_PERM, FD_STORE_ERROR_READ_ONLY, "not allowed to write" },
    { SQLITE_CANTOPEN, FD_STORE_ERROR_READ_ONLY, "could not open" },
    { SQLITE_IOERR, FD_STORE_ERROR_IO, "The disk failed" },
    { SQLITE_IOERR_WRITE, FD_STORE_ERROR_IO, "The disk failed" },
    { SQLITE_ERROR, FD_STORE_ERROR_FAILED, "Frontdesk could not use its database" },
  };

  db = raw_open (":memory:");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *detail = g_strdup_printf ("(%s)", sqlite3_errstr (cases[i].rc));

      g_assert_false (fd_store_set_error (db, cases[i].rc, &error));
      g_assert_error (error, FD_STORE_ERROR, (int) cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].words));
      /* SQLite's text only as a detail at the end, never alone. */
      g_assert_true (g_str_has_suffix (error->message, detail));
      g_assert_cmpuint (strlen (error->message), >, strlen (detail) + 20);
      g_clear_error (&error);
    }

  /* With the connection's own message when it matches. */
  stmt = fd_store_prepare (db, "SELEKT 1", &error);
  g_assert_null (stmt);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED);
  g_assert_true (g_str_has_suffix (error->message, "(near \"SELEKT\": syntax error)"));
  g_clear_error (&error);

  g_assert_false (fd_store_exec (db, "INSERT INTO nowhere VALUES (1)", &error));
  g_assert_true (g_str_has_suffix (error->message, "(no such table: nowhere)"));
  g_clear_error (&error);

  /* A NULL error is allowed. */
  g_assert_false (fd_store_set_error (db, SQLITE_FULL, NULL));

  raw_close (db);
}

static gboolean
audit_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  return fd_store_begin (db, error) &&
         fd_store_audit (db, "agent:ana", "billing.refund", "ch_123",
                         "{\"amount\":1250,\"currency\":\"EUR\"}", error) &&
         fd_store_audit (db, "agent:ana", "inbox.assign", NULL, NULL, error) &&
         fd_store_commit (db, error);
}

static gboolean
failing_audit_job (sqlite3   *db,
                   gpointer   job_data,
                   gpointer  *result,
                   GError   **error)
{
  /* The audit entry belongs to the caller's transaction: when the action fails, it goes. */
  if (!fd_store_begin (db, error) ||
      !fd_store_audit (db, "agent:ana", "billing.refund", "ch_456", NULL, error))
    return FALSE;

  return fd_store_exec (db, "INSERT INTO nowhere VALUES (1)", error);
}

static void
test_audit (Fixture       *fixture,
            gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *row1 = NULL;
  g_autofree char *row2 = NULL;
  FdStore *store;
  gint64 before;
  gint64 after;
  gint64 at;
  gboolean ok;

  store = open_store (fixture->path);

  before = g_get_real_time () / 1000;
  ok = fd_store_run_sync (store, audit_job, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  after = g_get_real_time () / 1000;

  row1 = store_text (store, "SELECT actor || '|' || action || '|' || subject || '|' || detail_json FROM audit_log ORDER BY id LIMIT 1");
  g_assert_cmpstr (row1, ==, "agent:ana|billing.refund|ch_123|{\"amount\":1250,\"currency\":\"EUR\"}");
  row2 = store_text (store, "SELECT action || '|' || ifnull(subject, 'null') || '|' || detail_json FROM audit_log ORDER BY id LIMIT 1 OFFSET 1");
  g_assert_cmpstr (row2, ==, "inbox.assign|null|{}");
  at = store_int (store, "SELECT min(at) FROM audit_log");
  g_assert_cmpint (at, >=, before);
  g_assert_cmpint (at, <=, after);

  ok = fd_store_run_sync (store, failing_audit_job, NULL, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (store_int (store, "SELECT count(*) FROM audit_log"), ==, 2);

  close_store (store);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/store/open/creates", test_open_creates);
  ADD ("/store/open/missing-folder", test_open_missing_folder);
  ADD ("/store/fts", test_fts);
  ADD ("/store/async", test_async);
  ADD ("/store/migrate/from-v1", test_migrate_from_v1);
  g_test_add_func ("/store/migrate/direct", test_migrate_direct);
  g_test_add_func ("/store/migrate/failure-rolls-back", test_migrate_failure_rolls_back);
  ADD ("/store/migrate/newer-schema", test_newer_schema);
  ADD ("/store/corrupt/garbage", test_corrupt_garbage);
  ADD ("/store/corrupt/page", test_corrupt_page);
  ADD ("/store/concurrent/two-writers", test_two_writers);
  ADD ("/store/concurrent/locked", test_locked);
  ADD ("/store/crash", test_crash);
  ADD ("/store/full", test_full);
  ADD ("/store/close", test_close);
  ADD ("/store/close/unref-while-busy", test_unref_while_busy);
  g_test_add_func ("/store/errors/messages", test_error_messages);
  ADD ("/store/audit", test_audit);

#undef ADD

  return g_test_run ();
}
