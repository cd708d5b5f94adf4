/* test-inbox-store.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-inbox-store"

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "fd-inbox-store.h"
#include "fd-outbox.h"
#include "fd-paths.h"

/* Every test starts from a copy of one small demo store (made once, with
 * `frontdesk-cli demo --scale small`) with hand-made changes on top: more open
 * conversations, SLA due times (some shared, some missing) and a second agent marked
 * as the user's, so that every view has rows and ties to break. */
static char *template_path;
static gint64 template_now;

#define HOUR_MS ((gint64) 3600 * 1000)
#define WAIT_USEC (20 * G_USEC_PER_SEC)

typedef struct
{
  char    *dir;
  char    *path;
  FdStore *store;
  sqlite3 *db;     /* a second connection, as another process would read the file */
} Fixture;

/* {{{ Helpers */

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

static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);

  return db;
}

static void
raw_exec (sqlite3    *db,
          const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static gint64
raw_int (sqlite3    *db,
         const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  _fd_inbox_bind_now (stmt, g_get_real_time () / 1000);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);

  return value;
}

static char *
raw_text (sqlite3    *db,
          const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;

  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

/* The first column of every row, as gint64. */
static GArray *
raw_ids (sqlite3    *db,
         const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  _fd_inbox_bind_now (stmt, g_get_real_time () / 1000);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);

  return ids;
}

static void
wait_for (gboolean *done)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_USEC;

  while (!*done)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
async_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Runs the main loop until an _async call reports. */
static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_USEC;

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }

  return *slot;
}

/* Lets every job queued so far finish and report. */
static gboolean
noop_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  return TRUE;
}

static void
flush_store (FdStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_store_run_async (store, noop_job, NULL, NULL, NULL, NULL, async_cb, &result);
  wait_result (&result);
  fd_store_run_finish (store, result, NULL);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* }}} */
/* {{{ Fixture */

static void
make_template (void)
{
  const char *cli = g_getenv ("FD_CLI");
  g_autofree char *dir = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  int status = 0;
  sqlite3 *db;

  g_assert_nonnull (cli);
  dir = g_dir_make_tmp ("test-inbox-template-XXXXXX", &error);
  g_assert_no_error (error);

  {
    const char *argv[] = { cli, "--profile", dir, "demo", "--scale", "small", NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                  &status, &error);
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("frontdesk-cli demo failed: %s%s", out, err);
  }

  template_path = fd_paths_store_file (dir);
  template_now = g_get_real_time () / 1000;

  db = raw_open (template_path);
  /* Whole hours away from now, plus half an hour, so no due or risk time is crossed
   * while the tests run. Every fifth open conversation has no target; ids sharing
   * (id * 7919) % 300 share their due time. */
  sql = g_strdup_printf (
    "UPDATE conversations SET status = 'open', resolved_at = NULL"
    "  WHERE status = 'resolved' AND id %% 13 = 0;"
    "UPDATE conversations SET"
    "  sla_target = 'first_reply',"
    "  sla_due_at = %" G_GINT64_FORMAT " + ((id * 7919) %% 300 - 100) * %" G_GINT64_FORMAT " + 1800000,"
    "  sla_risk_at = %" G_GINT64_FORMAT " + ((id * 7919) %% 300 - 101) * %" G_GINT64_FORMAT " + 1800000"
    "  WHERE status IN ('open', 'pending') AND id %% 5 != 0;"
    /* A second agent marked is_me, as when two accounts know the user: both count as
     * theirs in My open; the lowest id acts for them. */
    "UPDATE agents SET is_me = 1 WHERE id = (SELECT max(id) FROM agents);",
    template_now, HOUR_MS, template_now, HOUR_MS);
  raw_exec (db, sql);
  sqlite3_close (db);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  fixture->dir = g_dir_make_tmp ("test-inbox-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = fd_paths_store_file (fixture->dir);

  g_file_get_contents (template_path, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (fixture->path, contents, length, &error);
  g_assert_no_error (error);

  fixture->store = fd_store_new (fixture->path);
  g_assert_true (fd_store_open_sync (fixture->store, NULL, &error));
  g_assert_no_error (error);

  fixture->db = raw_open (fixture->path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  /* Results still queued for the main loop are delivered before the store goes. */
  if (fixture->store != NULL)
    {
      fd_store_close (fixture->store);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_assert_finalize_object (fixture->store);
    }
  sqlite3_close (fixture->db);
  remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
}

/* }}} */
/* {{{ Independent SQL for the views and sorts */

/* Written apart from fd-inbox-store.c on purpose, in other words. */
static const char * const expected_where[FD_INBOX_N_VIEWS] = {
  [FD_INBOX_VIEW_MY_OPEN] =
    "status = 'open' AND assignee_id IN (SELECT id FROM agents WHERE is_me != 0)",
  [FD_INBOX_VIEW_UNASSIGNED] = "status = 'open' AND assignee_id IS NULL",
  [FD_INBOX_VIEW_ALL_OPEN] = "status = 'open'",
  [FD_INBOX_VIEW_ENTERPRISE] =
    "status = 'open' AND organisation_id IN (SELECT id FROM organisations WHERE is_enterprise)",
  [FD_INBOX_VIEW_BILLING] =
    "status = 'open' AND id IN (SELECT conversation_id FROM conversation_tags"
    " WHERE tag_id IN (SELECT id FROM tags"
    "  WHERE name IN ('billing', 'payment-failed', 'refund', 'plan-change')))",
  [FD_INBOX_VIEW_SLA_AT_RISK] =
    "(status = 'open' OR status = 'pending') AND sla_risk_at IS NOT NULL AND sla_risk_at <= :now",
  [FD_INBOX_VIEW_SNOOZED] = "status = 'snoozed'",
  [FD_INBOX_VIEW_RESOLVED] = "status = 'resolved'",
};

static const char * const expected_order[] = {
  [FD_INBOX_SORT_SLA_DUE] =
    "sla_due_at IS NULL, sla_due_at,"
    " CASE WHEN sla_due_at IS NULL THEN last_message_at ELSE 0 END DESC, id DESC",
  [FD_INBOX_SORT_NEWEST] = "last_message_at DESC, id DESC",
  [FD_INBOX_SORT_OLDEST] = "last_message_at, id",
  [FD_INBOX_SORT_PRIORITY] =
    "CASE priority WHEN 'urgent' THEN 1 WHEN 'high' THEN 2 WHEN 'normal' THEN 3 ELSE 4 END,"
    " sla_due_at IS NULL, sla_due_at, id DESC",
};

static GArray *
expected_ids (sqlite3       *db,
              FdInboxViewId  view,
              FdInboxSort    sort)
{
  g_autofree char *sql = g_strdup_printf ("SELECT id FROM conversations WHERE %s ORDER BY %s",
                                          expected_where[view], expected_order[sort]);

  return raw_ids (db, sql);
}

static gint64
expected_count (sqlite3       *db,
                FdInboxViewId  view)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM conversations WHERE %s",
                                          expected_where[view]);

  return raw_int (db, sql);
}

/* }}} */
/* {{{ The list, driven as a list view would */

typedef struct
{
  guint position;
  guint removed;
  guint added;
} Change;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  GArray     *changes)
{
  Change change = { position, removed, added };

  g_array_append_val (changes, change);
}

static void
wait_not_loading (FdConversationList *list)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_USEC;

  while (fd_conversation_list_get_loading (list))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* The summary at @position, once its page is read. */
static FdConversationSummary *
get_loaded (FdConversationList *list,
            guint               position)
{
  FdConversationSummary *summary = g_list_model_get_item (G_LIST_MODEL (list), position);
  gint64 deadline = g_get_monotonic_time () + WAIT_USEC;

  g_assert_nonnull (summary);
  while (!fd_conversation_summary_get_loaded (summary))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_null (fd_conversation_list_get_error (list));
      g_main_context_iteration (NULL, TRUE);
    }

  return summary;
}

/* Every id of the list, in order, read front to back. At the end, it waits for the jobs
 * in flight: a search grows when its last page is asked for. */
static GArray *
list_ids (FdConversationList *list)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; ; i++)
    {
      g_autoptr(FdConversationSummary) summary = NULL;
      gint64 id;

      if (i >= g_list_model_get_n_items (G_LIST_MODEL (list)))
        {
          flush_store (fd_conversation_list_get_store (list));
          if (i >= g_list_model_get_n_items (G_LIST_MODEL (list)))
            break;
        }

      summary = get_loaded (list, i);
      id = fd_conversation_summary_get_id (summary);
      g_array_append_val (ids, id);
    }

  return ids;
}

static void
assert_same_ids (GArray *got,
                 GArray *expected)
{
  g_assert_cmpuint (got->len, ==, expected->len);
  for (guint i = 0; i < got->len; i++)
    if (g_array_index (got, gint64, i) != g_array_index (expected, gint64, i))
      g_error ("row %u: got conversation %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
               i, g_array_index (got, gint64, i), g_array_index (expected, gint64, i));
}

static FdConversationList *
new_list (Fixture *fixture,
          guint    page_size,
          guint    max_pages)
{
  FdConversationList *list = fd_conversation_list_new (fixture->store);

  if (page_size > 0)
    _fd_conversation_list_set_page_size (list, page_size, max_pages);

  return list;
}

/* }}} */
/* {{{ Views */

static void
test_view_names (void)
{
  for (FdInboxViewId view = 0; view < FD_INBOX_N_VIEWS; view++)
    {
      const char *name = fd_inbox_view_id_to_name (view);
      const char *icon = fd_inbox_view_id_to_icon (view);
      FdInboxViewId parsed = FD_INBOX_N_VIEWS;
      g_autofree char *icon_file = NULL;

      g_assert_nonnull (name);
      g_assert_true (fd_inbox_view_id_from_name (name, &parsed));
      g_assert_cmpint (parsed, ==, view);
      g_assert_cmpstr (fd_inbox_view_id_to_title (view), !=, "");
      g_assert_true (g_str_has_suffix (icon, "-symbolic"));

      /* The icon must exist in the theme the app ships with. */
      if (g_file_test ("/usr/share/icons/Adwaita/index.theme", G_FILE_TEST_EXISTS))
        {
          g_autofree char *command = g_strdup_printf ("find /usr/share/icons/Adwaita/scalable "
                                                      "-name '%s.svg'", icon);
          g_autofree char *found = NULL;

          g_assert_true (g_spawn_command_line_sync (command, &found, NULL, NULL, NULL));
          g_assert_true (strstr (found, icon) != NULL);
        }
    }

  g_assert_false (fd_inbox_view_id_from_name ("closed", &(FdInboxViewId) { 0 }));
  g_assert_false (fd_inbox_view_id_from_name (NULL, &(FdInboxViewId) { 0 }));

  for (FdInboxSort sort = 0; sort <= FD_INBOX_SORT_PRIORITY; sort++)
    {
      FdInboxSort parsed = 99;

      g_assert_true (fd_inbox_sort_from_name (fd_inbox_sort_to_name (sort), &parsed));
      g_assert_cmpint (parsed, ==, sort);
    }
  g_assert_false (fd_inbox_sort_from_name ("random", &(FdInboxSort) { 0 }));
}

static void
test_view_counts (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(FdInboxCounts) counts = NULL;
  g_autoptr(GError) error = NULL;

  /* Saved searches: a filter-only one the test can count with SQL, and a stored query
   * that no longer parses (creating one is refused, so it is written by hand). */
  raw_exec (fixture->db,
            "INSERT INTO saved_searches (name, query, position, created_at) VALUES"
            " ('Snoozed ones', 'status:snoozed', 0, 0),"
            " ('Broken', 'colour:red', 1, 0),"
            " ('Pending', 'status:pending', 2, 0)");

  fd_inbox_count_async (fixture->store, NULL, async_cb, &result);
  counts = fd_inbox_count_finish (fixture->store, wait_result (&result), &error);
  g_assert_no_error (error);

  for (FdInboxViewId view = 0; view < FD_INBOX_N_VIEWS; view++)
    {
      gint64 expected = expected_count (fixture->db, view);

      g_test_message ("%s: %" G_GINT64_FORMAT, fd_inbox_view_id_to_name (view), expected);
      g_assert_cmpint (counts->views[view], ==, expected);
      /* The hand-made rows give every view something to show. */
      g_assert_cmpint (expected, >, 0);
    }

  g_assert_cmpuint (counts->saved->len, ==, 3);
  g_assert_cmpint (g_array_index (counts->saved, gint64, 0), ==,
                   raw_int (fixture->db, "SELECT count(*) FROM conversations WHERE status = 'snoozed'"));
  g_assert_cmpint (g_array_index (counts->saved, gint64, 1), ==, -1);
  g_assert_cmpint (g_array_index (counts->saved, gint64, 2), ==,
                   raw_int (fixture->db, "SELECT count(*) FROM conversations WHERE status = 'pending'"));
}

/* Every view in every sort, read through the list in small pages, gives the rows of a
 * plain SQL query in the same order: none twice, none missing, across page and segment
 * boundaries. */
static void
test_view_order (Fixture       *fixture,
                 gconstpointer  user_data)
{
  for (FdInboxViewId view = 0; view < FD_INBOX_N_VIEWS; view++)
    for (FdInboxSort sort = 0; sort <= FD_INBOX_SORT_PRIORITY; sort++)
      {
        g_autoptr(FdConversationList) list = new_list (fixture, 37, 3);
        g_autoptr(GArray) expected = expected_ids (fixture->db, view, sort);
        g_autoptr(GArray) got = NULL;

        g_test_message ("%s by %s: %u rows", fd_inbox_view_id_to_name (view),
                        fd_inbox_sort_to_name (sort), expected->len);

        fd_conversation_list_set_sort (list, sort);
        fd_conversation_list_set_view (list, view);
        wait_not_loading (list);
        g_assert_null (fd_conversation_list_get_error (list));
        g_assert_cmpint (fd_conversation_list_get_sort (list), ==, sort);

        got = list_ids (list);
        assert_same_ids (got, expected);
        g_assert_cmpuint (_fd_conversation_list_get_n_loaded_pages (list), <=, 3);
      }
}

/* Every query a view and sort runs walks an index: no full scan of the conversations.
 * Only views found through another index than their order's sort their rows: SLA at
 * risk (two statuses) and the assignee's views (few rows, found by assignee). */
static void
test_view_plans (Fixture       *fixture,
                 gconstpointer  user_data)
{
  for (FdInboxViewId view = 0; view < FD_INBOX_N_VIEWS; view++)
    for (FdInboxSort sort = 0; sort <= FD_INBOX_SORT_PRIORITY; sort++)
      {
        guint n_segments;
        const FdInboxSegment *segments = _fd_inbox_sort_segments (sort, &n_segments);

        for (guint i = 0; i < n_segments; i++)
          for (guint drop = 0; drop < (segments[i].where_optional ? 2 : 1); drop++)
            {
              g_autofree char *sql = NULL;
              g_autoptr(sqlite3_stmt) stmt = NULL;
              g_autoptr(GString) plan = g_string_new ("");

              sql = g_strdup_printf ("EXPLAIN QUERY PLAN SELECT c.id FROM %s"
                                     " WHERE (%s) AND (%s) ORDER BY %s LIMIT 100 OFFSET 100",
                                     _fd_inbox_view_from (view), _fd_inbox_view_where (view),
                                     segments[i].where != NULL && !drop ? segments[i].where : "1",
                                     segments[i].order_by);
              g_assert_cmpint (sqlite3_prepare_v2 (fixture->db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
              while (sqlite3_step (stmt) == SQLITE_ROW)
                g_string_append_printf (plan, "%s; ", sqlite3_column_text (stmt, 3));

              g_test_message ("%s/%s/%u: %s", fd_inbox_view_id_to_name (view),
                              fd_inbox_sort_to_name (sort), i, plan->str);
              g_assert_null (strstr (plan->str, "SCAN c;"));
              g_assert_nonnull (strstr (plan->str, "SEARCH c USING "));
              if (view == FD_INBOX_VIEW_MY_OPEN || view == FD_INBOX_VIEW_UNASSIGNED)
                g_assert_nonnull (strstr (plan->str, "conversations_assignee"));
              else if (view != FD_INBOX_VIEW_SLA_AT_RISK)
                g_assert_null (strstr (plan->str, "TEMP B-TREE FOR ORDER BY"));
              /* My open reads the agent's rows of every account (an IN list) and
               * sorts them: one agent's open conversations, a few hundred at most. */
              if (sort != FD_INBOX_SORT_SLA_DUE && sort != FD_INBOX_SORT_PRIORITY &&
                  view != FD_INBOX_VIEW_SLA_AT_RISK && view != FD_INBOX_VIEW_MY_OPEN)
                g_assert_null (strstr (plan->str, "TEMP B-TREE"));
            }
      }
}

/* }}} */
/* {{{ The list model */

static void
test_list_all_open (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(FdConversationList) list = new_list (fixture, 0, 0);
  g_autoptr(GArray) expected = expected_ids (fixture->db, FD_INBOX_VIEW_ALL_OPEN, FD_INBOX_SORT_NEWEST);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GArray) got = NULL;
  gboolean saw_loading = FALSE;

  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (list)) == FD_TYPE_CONVERSATION_SUMMARY);

  fd_conversation_list_set_sort (list, FD_INBOX_SORT_NEWEST);
  fd_conversation_list_set_view (list, FD_INBOX_VIEW_ALL_OPEN);
  saw_loading = fd_conversation_list_get_loading (list);
  wait_not_loading (list);
  g_assert_true (saw_loading);

  /* One change for the whole replacement, with the count; the first page came with it. */
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).position, ==, 0);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, 0);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, expected->len);
  g_assert_cmpuint (expected->len, >, 300);
  {
    g_autoptr(FdConversationSummary) first = g_list_model_get_item (G_LIST_MODEL (list), 0);

    g_assert_true (fd_conversation_summary_get_loaded (first));
  }
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), expected->len));

  got = list_ids (list);
  assert_same_ids (got, expected);
  g_assert_cmpuint (changes->len, ==, 1);

  /* The summaries carry what the rows show, as the store has it. */
  for (guint i = 0; i < got->len; i += 17)
    {
      g_autoptr(FdConversationSummary) summary = get_loaded (list, i);
      gint64 id = fd_conversation_summary_get_id (summary);
      g_autofree char *sql = NULL;
      g_autofree char *subject = NULL;
      g_autofree char *org = NULL;
      g_autofree char *tags = NULL;
      g_autofree char *got_tags = NULL;

      sql = g_strdup_printf ("SELECT subject FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
      subject = raw_text (fixture->db, sql);
      g_assert_cmpstr (fd_conversation_summary_get_subject (summary), ==, subject);

      g_free (sql);
      sql = g_strdup_printf ("SELECT coalesce((SELECT name FROM organisations o WHERE o.id = c.organisation_id), '')"
                             " FROM conversations c WHERE id = %" G_GINT64_FORMAT, id);
      org = raw_text (fixture->db, sql);
      g_assert_cmpstr (fd_conversation_summary_get_organisation (summary), ==, org);

      g_free (sql);
      sql = g_strdup_printf ("SELECT coalesce(group_concat(name, ','), '') FROM"
                             " (SELECT t.name FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id"
                             "  WHERE ct.conversation_id = %" G_GINT64_FORMAT " ORDER BY t.name)", id);
      tags = raw_text (fixture->db, sql);
      got_tags = g_strjoinv (",", (char **) fd_conversation_summary_get_tags (summary));
      g_assert_cmpstr (got_tags, ==, tags);

      g_assert_cmpstr (fd_conversation_summary_get_status (summary), ==, "open");
      g_assert_cmpstr (fd_conversation_summary_get_channel (summary), !=, "");
      g_assert_cmpint (fd_conversation_summary_get_created_at (summary), >, 0);
    }
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_list_placeholder (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(FdConversationList) list = new_list (fixture, 20, 30);
  g_autoptr(FdConversationSummary) placeholder = NULL;
  g_autoptr(FdConversationSummary) again = NULL;
  g_autoptr(GArray) expected = expected_ids (fixture->db, FD_INBOX_VIEW_RESOLVED, FD_INBOX_SORT_OLDEST);
  guint notified = 0;

  fd_conversation_list_set_sort (list, FD_INBOX_SORT_OLDEST);
  fd_conversation_list_set_view (list, FD_INBOX_VIEW_RESOLVED);
  wait_not_loading (list);

  placeholder = g_list_model_get_item (G_LIST_MODEL (list), 1234);
  g_assert_false (fd_conversation_summary_get_loaded (placeholder));
  g_assert_cmpint (fd_conversation_summary_get_id (placeholder), ==, 0);
  g_assert_cmpstr (fd_conversation_summary_get_subject (placeholder), ==, "");
  g_assert_nonnull (fd_conversation_summary_get_tags (placeholder));
  g_signal_connect (placeholder, "notify::loaded", G_CALLBACK (notify_count_cb), &notified);

  /* Asked for again before its page is read: the same object. */
  again = g_list_model_get_item (G_LIST_MODEL (list), 1234);
  g_assert_true (again == placeholder);
  g_clear_object (&again);

  again = get_loaded (list, 1234);
  g_assert_true (again == placeholder);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpint (fd_conversation_summary_get_id (placeholder), ==,
                   g_array_index (expected, gint64, 1234));
  g_assert_cmpuint (fd_conversation_list_find (list, g_array_index (expected, gint64, 1235)), ==, 1235);
  g_assert_cmpuint (fd_conversation_list_find (list, -5), ==, G_MAXUINT);
}

/* The list keeps a bounded window of pages while a large view is read end to end. */
static void
test_list_bounded (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(FdConversationList) list = new_list (fixture, 50, 4);
  g_autoptr(GArray) expected = expected_ids (fixture->db, FD_INBOX_VIEW_RESOLVED, FD_INBOX_SORT_SLA_DUE);
  g_autoptr(FdConversationSummary) first = NULL;
  g_autoptr(FdConversationSummary) first_again = NULL;
  guint max_pages = 0;

  fd_conversation_list_set_view (list, FD_INBOX_VIEW_RESOLVED);
  wait_not_loading (list);
  first = get_loaded (list, 0);

  for (guint i = 0; i < expected->len; i++)
    {
      g_autoptr(FdConversationSummary) summary = get_loaded (list, i);

      g_assert_cmpint (fd_conversation_summary_get_id (summary), ==, g_array_index (expected, gint64, i));
      max_pages = MAX (max_pages, _fd_conversation_list_get_n_loaded_pages (list));
    }
  g_assert_cmpuint (max_pages, <=, 4);
  g_assert_cmpuint (expected->len, >, 40 * 50);

  /* The first page was dropped and is read again, into new objects. */
  g_assert_cmpuint (fd_conversation_list_find (list, g_array_index (expected, gint64, 0)), ==, G_MAXUINT);
  first_again = get_loaded (list, 0);
  g_assert_true (first_again != first);
  g_assert_cmpint (fd_conversation_summary_get_id (first_again), ==, fd_conversation_summary_get_id (first));
}

static void
enqueue_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  fd_outbox_enqueue_finish (FD_STORE (object), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

static void
resolve (Fixture *fixture,
         gint64   conversation_id)
{
  FdOutboxRequest *request = g_new0 (FdOutboxRequest, 1);
  gboolean done = FALSE;

  request->conversation_id = conversation_id;
  request->kind = FD_OUTBOX_STATUS;
  request->status = g_strdup ("resolved");
  fd_outbox_enqueue_async (fixture->store, request, NULL, enqueue_cb, &done);
  wait_for (&done);
}

/* After an action, reload removes exactly the row that left the view; every other row
 * keeps its object. */
static void
test_list_reload (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(FdConversationList) list = new_list (fixture, 40, 30);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) expected = NULL;
  guint n, victim = 57;
  gint64 victim_id;
  guint notified = 0;

  fd_conversation_list_set_sort (list, FD_INBOX_SORT_NEWEST);
  fd_conversation_list_set_view (list, FD_INBOX_VIEW_ALL_OPEN);
  wait_not_loading (list);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  for (guint i = 0; i < 120; i++)
    g_ptr_array_add (before, get_loaded (list, i));
  victim_id = fd_conversation_summary_get_id (g_ptr_array_index (before, victim));

  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);
  g_signal_connect (list, "notify::n-items", G_CALLBACK (notify_count_cb), &notified);

  /* Nothing changed: nothing is emitted, and nothing is replaced. */
  fd_conversation_list_reload (list);
  flush_store (fixture->store);
  g_assert_cmpuint (changes->len, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n);

  resolve (fixture, victim_id);
  fd_conversation_list_reload (list);
  flush_store (fixture->store);

  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).position, ==, victim);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n - 1);
  g_assert_cmpuint (notified, ==, 1);

  for (guint i = 0; i < 119; i++)
    {
      g_autoptr(FdConversationSummary) summary = get_loaded (list, i);

      g_assert_true (summary == g_ptr_array_index (before, i < victim ? i : i + 1));
    }
  g_assert_cmpuint (fd_conversation_list_find (list, victim_id), ==, G_MAXUINT);

  expected = expected_ids (fixture->db, FD_INBOX_VIEW_ALL_OPEN, FD_INBOX_SORT_NEWEST);
  {
    g_autoptr(GArray) got = list_ids (list);
    assert_same_ids (got, expected);
  }

  /* A change to a row in place (a new subject) updates the same object. */
  {
    g_autoptr(FdConversationSummary) summary = get_loaded (list, 3);
    g_autofree char *sql = g_strdup_printf ("UPDATE conversations SET subject = 'Changed in place'"
                                            " WHERE id = %" G_GINT64_FORMAT,
                                            fd_conversation_summary_get_id (summary));
    guint loaded_notified = 0;

    g_signal_connect (summary, "notify::loaded", G_CALLBACK (notify_count_cb), &loaded_notified);
    raw_exec (fixture->db, sql);
    g_array_set_size (changes, 0);
    fd_conversation_list_reload (list);
    flush_store (fixture->store);

    g_assert_cmpuint (changes->len, ==, 0);
    g_assert_cmpuint (loaded_notified, ==, 1);
    g_assert_cmpstr (fd_conversation_summary_get_subject (summary), ==, "Changed in place");
  }
}

/* A row added at the top while the list shows a window further down shifts the window
 * by one: one items-changed, and the shown rows keep their objects. */
static void
test_list_reload_insert (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(FdConversationList) list = new_list (fixture, 25, 30);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(FdConversationSummary) shown = NULL;
  g_autoptr(FdConversationSummary) after = NULL;
  g_autofree char *sql = NULL;
  guint n;

  fd_conversation_list_set_sort (list, FD_INBOX_SORT_NEWEST);
  fd_conversation_list_set_view (list, FD_INBOX_VIEW_ALL_OPEN);
  wait_not_loading (list);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  shown = get_loaded (list, 210);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);

  sql = g_strdup_printf ("INSERT INTO conversations (channel, subject, status, created_at,"
                         " updated_at, last_message_at) VALUES ('email', 'Brand new', 'open',"
                         " %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")",
                         template_now, template_now, template_now + HOUR_MS);
  raw_exec (fixture->db, sql);
  fd_conversation_list_reload (list);
  flush_store (fixture->store);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n + 1);
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, 0);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).position, <=, 200);

  after = get_loaded (list, 211);
  g_assert_true (after == shown);
  {
    g_autoptr(GArray) expected = expected_ids (fixture->db, FD_INBOX_VIEW_ALL_OPEN, FD_INBOX_SORT_NEWEST);
    g_autoptr(GArray) got = list_ids (list);

    assert_same_ids (got, expected);
  }
}

/* A new view replaces the old one in one change; results of the old view's jobs that
 * arrive late are dropped. */
static void
test_list_outdated (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(FdConversationList) list = new_list (fixture, 30, 30);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(FdConversationSummary) orphan = NULL;
  g_autoptr(GArray) expected = NULL;
  gint64 n_resolved, n_snoozed;

  n_resolved = expected_count (fixture->db, FD_INBOX_VIEW_RESOLVED);
  n_snoozed = expected_count (fixture->db, FD_INBOX_VIEW_SNOOZED);

  fd_conversation_list_set_view (list, FD_INBOX_VIEW_RESOLVED);
  wait_not_loading (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n_resolved);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);

  /* A page job queued, then the view changes twice before anything is read. */
  orphan = g_list_model_get_item (G_LIST_MODEL (list), 2000);
  g_assert_false (fd_conversation_summary_get_loaded (orphan));
  fd_conversation_list_set_view (list, FD_INBOX_VIEW_ALL_OPEN);
  fd_conversation_list_set_view (list, FD_INBOX_VIEW_SNOOZED);
  g_assert_true (fd_conversation_list_get_loading (list));
  /* The old rows stay until the new ones are counted. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n_resolved);
  flush_store (fixture->store);

  g_assert_false (fd_conversation_list_get_loading (list));
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).position, ==, 0);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, n_resolved);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, n_snoozed);
  g_assert_false (fd_conversation_summary_get_loaded (orphan));

  expected = expected_ids (fixture->db, FD_INBOX_VIEW_SNOOZED, FD_INBOX_SORT_SLA_DUE);
  {
    g_autoptr(GArray) got = list_ids (list);
    assert_same_ids (got, expected);
  }

  /* A sort change is one change too. */
  g_array_set_size (changes, 0);
  fd_conversation_list_set_sort (list, FD_INBOX_SORT_OLDEST);
  flush_store (fixture->store);
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, n_snoozed);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, n_snoozed);

  /* A list dropped with jobs in flight: their results find nobody. */
  {
    FdConversationList *dropped = new_list (fixture, 10, 30);
    FdConversationSummary *item;

    fd_conversation_list_set_view (dropped, FD_INBOX_VIEW_RESOLVED);
    flush_store (fixture->store);
    item = g_list_model_get_item (G_LIST_MODEL (dropped), 500);
    fd_conversation_list_set_view (dropped, FD_INBOX_VIEW_ALL_OPEN);
    g_assert_finalize_object (dropped);
    flush_store (fixture->store);
    g_assert_false (fd_conversation_summary_get_loaded (item));
    g_object_unref (item);
  }
}

/* A failed read says so in plain words. */
static void
test_list_error (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autoptr(FdConversationList) list = new_list (fixture, 20, 30);
  g_autoptr(FdConversationSummary) placeholder = NULL;
  const char *message;
  guint notified = 0;

  fd_conversation_list_set_view (list, FD_INBOX_VIEW_RESOLVED);
  wait_not_loading (list);
  g_assert_null (fd_conversation_list_get_error (list));
  g_signal_connect (list, "notify::error", G_CALLBACK (notify_count_cb), &notified);

  fd_store_close (fixture->store);
  placeholder = g_list_model_get_item (G_LIST_MODEL (list), 500);
  while (notified == 0)
    g_main_context_iteration (NULL, TRUE);

  message = fd_conversation_list_get_error (list);
  g_assert_nonnull (message);
  g_test_message ("%s", message);
  g_assert_null (strstr (message, "SQLITE"));
  g_assert_null (strstr (message, "sqlite"));
  g_assert_false (fd_conversation_summary_get_loaded (placeholder));
}

/* }}} */
/* {{{ Search mode */

static gboolean
search_ids_job (sqlite3   *db,
                gpointer   job_data,
                gpointer  *result,
                GError   **error)
{
  g_autoptr(FdSearchQuery) query = fd_search_query_parse (job_data, error);
  g_autoptr(GPtrArray) results = NULL;
  GArray *ids;

  if (query == NULL ||
      !fd_search_run (db, query, FD_SEARCH_ORDER_NEWEST, 0, 0, G_MAXINT, &results, error))
    return FALSE;

  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < results->len; i++)
    g_array_append_val (ids, ((FdSearchResult *) g_ptr_array_index (results, i))->conversation_id);
  *result = ids;

  return TRUE;
}

static void
test_list_search (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(FdConversationList) list = new_list (fixture, 25, 30);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GArray) expected = NULL;
  g_autoptr(GArray) got = NULL;
  g_autoptr(GError) error = NULL;
  gpointer result = NULL;
  guint n_before;

  fd_conversation_list_set_view (list, FD_INBOX_VIEW_SNOOZED);
  wait_not_loading (list);
  n_before = g_list_model_get_n_items (G_LIST_MODEL (list));

  /* A query that does not parse leaves the list alone. */
  g_assert_false (fd_conversation_list_set_search (list, "status:closed \"open", FD_SEARCH_ORDER_NEWEST, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == FD_SEARCH_ERROR);
  g_clear_error (&error);
  g_assert_false (fd_conversation_list_get_loading (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n_before);

  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);
  g_assert_true (fd_conversation_list_set_search (list, "status:open", FD_SEARCH_ORDER_NEWEST, &error));
  g_assert_no_error (error);
  wait_not_loading (list);

  /* The matches are not counted first: the list starts with a page and grows. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 25);
  got = list_ids (list);

  g_assert_true (fd_store_run_sync (fixture->store, search_ids_job, (gpointer) "status:open",
                                    &result, &error));
  g_assert_no_error (error);
  expected = result;
  assert_same_ids (got, expected);
  g_assert_cmpint (expected->len, ==,
                   raw_int (fixture->db, "SELECT count(*) FROM conversations WHERE status = 'open'"));
  /* The replacement, then one append per page. */
  g_assert_cmpuint (changes->len, ==, 1 + (expected->len - 1) / 25);
  for (guint i = 1; i < changes->len; i++)
    {
      g_assert_cmpuint (g_array_index (changes, Change, i).removed, ==, 0);
      g_assert_cmpuint (g_array_index (changes, Change, i).position, ==, 25 * i);
    }

  /* Words: the snippet is the search's, with its marks. */
  g_assert_true (fd_conversation_list_set_search (list, "payment", FD_SEARCH_ORDER_BEST, &error));
  g_assert_no_error (error);
  wait_not_loading (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), >, 0);
  {
    g_autoptr(FdConversationSummary) summary = get_loaded (list, 0);

    g_assert_nonnull (strstr (fd_conversation_summary_get_snippet (summary), FD_SEARCH_MARK_START));
  }

  /* Back to a view. */
  fd_conversation_list_set_view (list, FD_INBOX_VIEW_SNOOZED);
  wait_not_loading (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n_before);
}

/* }}} */
/* {{{ Detail */

static void
test_detail (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(FdConversationDetail) detail = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *name = NULL;
  gint64 id, org_id, prev = 0;
  guint n_attachments = 0;

  /* A conversation of an organisation with attachments and tags. */
  id = raw_int (fixture->db,
                "SELECT c.id FROM conversations c JOIN messages m ON m.conversation_id = c.id"
                " JOIN attachments a ON a.message_id = m.id"
                " WHERE c.organisation_id IS NOT NULL"
                "  AND EXISTS (SELECT 1 FROM conversation_tags t WHERE t.conversation_id = c.id)"
                " ORDER BY c.id LIMIT 1");

  fd_conversation_load_async (fixture->store, id, NULL, async_cb, &result);
  detail = fd_conversation_load_finish (fixture->store, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (detail);

  g_assert_cmpint (detail->id, ==, id);
  sql = g_strdup_printf ("SELECT organisation_id FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
  org_id = raw_int (fixture->db, sql);
  g_assert_cmpint (detail->organisation_id, ==, org_id);
  g_free (sql);
  sql = g_strdup_printf ("SELECT name FROM organisations WHERE id = %" G_GINT64_FORMAT, org_id);
  name = raw_text (fixture->db, sql);
  g_assert_cmpstr (detail->organisation_name, ==, name);
  g_assert_nonnull (detail->plan);
  g_assert_cmpstr (detail->contact_name, !=, "");
  g_assert_nonnull (detail->domains);

  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM conversation_tags WHERE conversation_id = %" G_GINT64_FORMAT, id);
  g_assert_cmpuint (g_strv_length (detail->tags), ==, raw_int (fixture->db, sql));
  for (guint i = 1; detail->tags[i] != NULL; i++)
    g_assert_cmpint (strcmp (detail->tags[i - 1], detail->tags[i]), <, 0);

  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM messages WHERE conversation_id = %" G_GINT64_FORMAT, id);
  g_assert_cmpuint (detail->messages->len, ==, raw_int (fixture->db, sql));
  for (guint i = 0; i < detail->messages->len; i++)
    {
      FdMessage *message = g_ptr_array_index (detail->messages, i);

      g_assert_cmpint (message->created_at, >=, prev);
      prev = message->created_at;
      g_assert_nonnull (message->body);
      g_assert_nonnull (message->author_kind);
      n_attachments += message->attachments->len;
      for (guint k = 0; k < message->attachments->len; k++)
        {
          FdAttachment *attachment = g_ptr_array_index (message->attachments, k);

          g_assert_cmpstr (attachment->name, !=, "");
          g_assert_cmpint (attachment->size, >=, 0);
        }
    }
  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM attachments a JOIN messages m ON m.id = a.message_id"
                         " WHERE m.conversation_id = %" G_GINT64_FORMAT, id);
  g_assert_cmpuint (n_attachments, ==, raw_int (fixture->db, sql));
  g_assert_cmpuint (n_attachments, >, 0);

  /* The organisation's latest other conversations. */
  g_free (sql);
  sql = g_strdup_printf ("SELECT min(5, count(*)) FROM conversations"
                         " WHERE organisation_id = %" G_GINT64_FORMAT " AND id != %" G_GINT64_FORMAT,
                         org_id, id);
  g_assert_cmpuint (detail->recent->len, ==, raw_int (fixture->db, sql));
  for (guint i = 0; i < detail->recent->len; i++)
    {
      FdRecentConversation *recent = g_ptr_array_index (detail->recent, i);

      g_assert_cmpint (recent->id, !=, id);
      if (i > 0)
        g_assert_cmpint (recent->created_at, <=,
                         ((FdRecentConversation *) g_ptr_array_index (detail->recent, i - 1))->created_at);
    }

  g_assert_cmpuint (detail->agents->len, ==, raw_int (fixture->db, "SELECT count(*) FROM agents"));
  g_assert_cmpint (detail->me_id, ==, raw_int (fixture->db, "SELECT min(id) FROM agents WHERE is_me"));
  g_free (name);
  name = raw_text (fixture->db, "SELECT name FROM agents WHERE is_me ORDER BY id LIMIT 1");
  g_assert_cmpstr (detail->me_name, ==, name);

  /* The same list on its own, for the assign menu. */
  {
    g_autoptr(GAsyncResult) agents_result = NULL;
    g_autoptr(GPtrArray) agents = NULL;
    g_autoptr(GError) agents_error = NULL;
    gint64 me_id = -1;

    fd_inbox_list_agents_async (fixture->store, NULL, async_cb, &agents_result);
    agents = fd_inbox_list_agents_finish (fixture->store, wait_result (&agents_result),
                                          &me_id, &agents_error);
    g_assert_no_error (agents_error);
    g_assert_cmpuint (agents->len, ==, detail->agents->len);
    g_assert_cmpint (me_id, ==, detail->me_id);
    for (guint i = 0; i < agents->len; i++)
      g_assert_cmpint (((FdAgent *) g_ptr_array_index (agents, i))->id, ==,
                       ((FdAgent *) g_ptr_array_index (detail->agents, i))->id);
  }

  /* A conversation that is not there. */
  g_clear_object (&result);
  fd_conversation_load_async (fixture->store, 999999999, NULL, async_cb, &result);
  g_assert_null (fd_conversation_load_finish (fixture->store, wait_result (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* }}} */
/* {{{ Drafts */

static gboolean
save_draft (FdStore    *store,
            gint64      conversation_id,
            gboolean    is_note,
            const char *body,
            GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_draft_save_async (store, conversation_id, is_note, body, NULL, async_cb, &result);
  return fd_draft_save_finish (store, wait_result (&result), error);
}

static FdDraft *
load_draft (FdStore *store,
            gint64   conversation_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FdDraft *draft;

  fd_draft_load_async (store, conversation_id, NULL, async_cb, &result);
  draft = fd_draft_load_finish (store, wait_result (&result), &error);
  g_assert_no_error (error);

  return draft;
}

static void
test_drafts (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  FdDraft *draft;

  g_assert_null (load_draft (fixture->store, 42));

  g_assert_true (save_draft (fixture->store, 42, FALSE, "Hello {{contact.first_name}},", &error));
  g_assert_no_error (error);
  draft = load_draft (fixture->store, 42);
  g_assert_nonnull (draft);
  g_assert_false (draft->is_note);
  g_assert_cmpstr (draft->body, ==, "Hello {{contact.first_name}},");
  g_assert_cmpint (draft->updated_at, >, 0);
  fd_draft_free (draft);

  /* Saving again replaces it: one draft per conversation. */
  g_assert_true (save_draft (fixture->store, 42, TRUE, "Internal: check the invoice", &error));
  draft = load_draft (fixture->store, 42);
  g_assert_true (draft->is_note);
  g_assert_cmpstr (draft->body, ==, "Internal: check the invoice");
  fd_draft_free (draft);
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM drafts"), ==, 1);

  /* Empty (or blank) deletes. */
  g_assert_true (save_draft (fixture->store, 42, FALSE, " \n\t", &error));
  g_assert_null (load_draft (fixture->store, 42));
  g_assert_true (save_draft (fixture->store, 43, FALSE, "x", &error));
  g_assert_true (save_draft (fixture->store, 43, FALSE, "", &error));
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM drafts"), ==, 0);

  /* A conversation that does not exist cannot have one. */
  g_assert_false (save_draft (fixture->store, 999999999, FALSE, "lost", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
}

/* The child: saves a draft, says so, and waits to be killed. */
static int
draft_crash_helper (const char *path,
                    gint64      conversation_id)
{
  g_autoptr(FdStore) store = fd_store_new (path);
  g_autoptr(GError) error = NULL;

  if (!fd_store_open_sync (store, NULL, &error) ||
      !save_draft (store, conversation_id, FALSE, "Typed just before the crash", &error))
    {
      g_printerr ("draft crash helper: %s\n", error->message);
      return 1;
    }

  fputs ("ready\n", stdout);
  fflush (stdout);
  g_usleep (60 * G_USEC_PER_SEC);

  return 3;
}

static void
test_drafts_crash (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  FdDraft *draft;

  /* The child writes to the file alone. */
  fd_store_close (fixture->store);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&fixture->store);

  g_assert_nonnull (self);
  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            self, "--draft-crash-helper", fixture->path, "7", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "ready");

  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (child));

  fixture->store = fd_store_new (fixture->path);
  g_assert_true (fd_store_open_sync (fixture->store, NULL, &error));
  draft = load_draft (fixture->store, 7);
  g_assert_nonnull (draft);
  g_assert_cmpstr (draft->body, ==, "Typed just before the crash");
  fd_draft_free (draft);
}

/* }}} */
/* {{{ Saved searches */

static void
test_saved_searches (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListStore) list = NULL;
  gint64 first, second;
  FdSavedSearch *search;

  fd_saved_search_create_async (fixture->store, "Refunds", "tag:refund status:open", NULL,
                                async_cb, &result);
  first = fd_saved_search_create_finish (fixture->store, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (first, >, 0);

  g_clear_object (&result);
  fd_saved_search_create_async (fixture->store, "Acme", "org:acme", NULL, async_cb, &result);
  second = fd_saved_search_create_finish (fixture->store, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (second, >, first);

  /* A bad query is refused and stores nothing. */
  g_clear_object (&result);
  fd_saved_search_create_async (fixture->store, "Broken", "\"unbalanced", NULL, async_cb, &result);
  g_assert_cmpint (fd_saved_search_create_finish (fixture->store, wait_result (&result), &error), ==, 0);
  g_assert_nonnull (error);
  g_assert_true (error->domain == FD_SEARCH_ERROR);
  g_clear_error (&error);
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM saved_searches"), ==, 2);
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM audit_log WHERE action = 'saved-search.create'"), ==, 2);

  g_clear_object (&result);
  fd_saved_search_list_async (fixture->store, NULL, async_cb, &result);
  list = fd_saved_search_list_finish (fixture->store, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);
  search = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (fd_saved_search_get_id (search), ==, first);
  g_assert_cmpstr (fd_saved_search_get_name (search), ==, "Refunds");
  g_assert_cmpstr (fd_saved_search_get_query (search), ==, "tag:refund status:open");
  g_object_unref (search);

  g_clear_object (&result);
  fd_saved_search_delete_async (fixture->store, first, NULL, async_cb, &result);
  g_assert_true (fd_saved_search_delete_finish (fixture->store, wait_result (&result), &error));
  g_assert_no_error (error);

  g_clear_object (&result);
  g_clear_object (&list);
  fd_saved_search_list_async (fixture->store, NULL, async_cb, &result);
  list = fd_saved_search_list_finish (fixture->store, wait_result (&result), &error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  search = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (fd_saved_search_get_id (search), ==, second);
  g_object_unref (search);
}

/* }}} */
/* {{{ Triage */

static void
test_priority (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *previous = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *stored = NULL;
  gint64 id, events_before;

  id = raw_int (fixture->db, "SELECT min(id) FROM conversations WHERE status = 'open' AND priority = 'low'");
  events_before = raw_int (fixture->db, "SELECT count(*) FROM events WHERE kind = 'priority'");

  fd_inbox_set_priority_async (fixture->store, id, "urgent", NULL, async_cb, &result);
  previous = fd_inbox_set_priority_finish (fixture->store, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (previous, ==, "low");

  sql = g_strdup_printf ("SELECT priority FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
  stored = raw_text (fixture->db, sql);
  g_assert_cmpstr (stored, ==, "urgent");

  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM events WHERE kind = 'priority' AND conversation_id = %"
                         G_GINT64_FORMAT " AND from_value = 'low' AND to_value = 'urgent'"
                         " AND actor_id = (SELECT min(id) FROM agents WHERE is_me)", id);
  g_assert_cmpint (raw_int (fixture->db, sql), ==, 1);
  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM audit_log WHERE action = 'conversation.priority'"
                         " AND subject = 'conversation:%" G_GINT64_FORMAT "'"
                         " AND detail_json LIKE '%%\"low\"%%' AND detail_json LIKE '%%\"urgent\"%%'", id);
  g_assert_cmpint (raw_int (fixture->db, sql), ==, 1);

  /* The same priority again records nothing. */
  g_clear_object (&result);
  g_clear_pointer (&previous, g_free);
  fd_inbox_set_priority_async (fixture->store, id, "urgent", NULL, async_cb, &result);
  previous = fd_inbox_set_priority_finish (fixture->store, wait_result (&result), &error);
  g_assert_cmpstr (previous, ==, "urgent");
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM events WHERE kind = 'priority'"), ==,
                   events_before + 1);

  /* A missing conversation. */
  g_clear_object (&result);
  fd_inbox_set_priority_async (fixture->store, 999999999, "high", NULL, async_cb, &result);
  g_assert_null (fd_inbox_set_priority_finish (fixture->store, wait_result (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

typedef struct
{
  gint64     now;
  guint      n_woken;
  GPtrArray *alerts;
  gint64     since;
} WorkerCall;

static gboolean
wake_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  WorkerCall *call = job_data;

  return fd_inbox_wake_snoozed (db, call->now, &call->n_woken, error);
}

static void
test_wake_snoozed (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  WorkerCall call = { 0 };
  gint64 now = g_get_real_time () / 1000;
  g_autofree char *sql = NULL;
  gint64 due, snoozed, events_before;

  /* Half of the snoozed conversations are due. */
  sql = g_strdup_printf ("UPDATE conversations SET snoozed_until = CASE WHEN id %% 2 = 0"
                         " THEN %" G_GINT64_FORMAT " ELSE %" G_GINT64_FORMAT " END"
                         " WHERE status = 'snoozed'", now - 60000, now + HOUR_MS);
  raw_exec (fixture->db, sql);
  snoozed = raw_int (fixture->db, "SELECT count(*) FROM conversations WHERE status = 'snoozed'");
  due = raw_int (fixture->db, "SELECT count(*) FROM conversations WHERE status = 'snoozed' AND id % 2 = 0");
  events_before = raw_int (fixture->db, "SELECT count(*) FROM events WHERE kind = 'status'");
  g_assert_cmpint (due, >, 0);
  g_assert_cmpint (due, <, snoozed);

  call.now = now;
  g_assert_true (fd_store_run_sync (fixture->store, wake_job, &call, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (call.n_woken, ==, due);
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM conversations WHERE status = 'snoozed'"), ==,
                   snoozed - due);
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM conversations WHERE status = 'snoozed' AND id % 2 = 0"), ==, 0);
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM events WHERE kind = 'status'"
                                         " AND from_value = 'snoozed' AND to_value = 'open'"), >=, due);
  g_assert_cmpint (raw_int (fixture->db, "SELECT count(*) FROM events WHERE kind = 'status'"), ==,
                   events_before + due);

  /* Nothing left to wake. */
  g_assert_true (fd_store_run_sync (fixture->store, wake_job, &call, NULL, &error));
  g_assert_cmpuint (call.n_woken, ==, 0);
}

static gboolean
alerts_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  WorkerCall *call = job_data;

  g_clear_pointer (&call->alerts, g_ptr_array_unref);
  return fd_inbox_scan_alerts (db, call->since, call->now, &call->alerts, error);
}

static guint
count_alerts (GPtrArray        *alerts,
              FdInboxAlertKind  kind)
{
  guint n = 0;

  for (guint i = 0; i < alerts->len; i++)
    if (((FdInboxAlert *) g_ptr_array_index (alerts, i))->kind == kind)
      n++;

  return n;
}

static void
test_alerts (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  WorkerCall call = { 0 };
  g_autofree char *sql = NULL;
  gint64 since, n_new, n_risk;

  /* New enterprise conversations: those created in the last week. */
  since = raw_int (fixture->db, "SELECT max(created_at) FROM conversations") - 7 * 24 * HOUR_MS;
  sql = g_strdup_printf ("SELECT count(*) FROM conversations WHERE created_at > %" G_GINT64_FORMAT
                         " AND organisation_id IN (SELECT id FROM organisations WHERE is_enterprise)",
                         since);
  n_new = raw_int (fixture->db, sql);
  g_assert_cmpint (n_new, >, 0);
  n_risk = raw_int (fixture->db, "SELECT count(*) FROM conversations WHERE status != 'resolved'"
                                 " AND sla_risk_at <= :now");
  g_assert_cmpint (n_risk, >, 0);

  call.since = since;
  call.now = g_get_real_time () / 1000;
  g_assert_true (fd_store_run_sync (fixture->store, alerts_job, &call, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_alerts (call.alerts, FD_INBOX_ALERT_NEW_ENTERPRISE), ==, n_new);
  g_assert_cmpuint (count_alerts (call.alerts, FD_INBOX_ALERT_SLA_AT_RISK), ==, n_risk);
  for (guint i = 0; i < call.alerts->len; i++)
    {
      FdInboxAlert *alert = g_ptr_array_index (call.alerts, i);

      g_assert_cmpint (alert->conversation_id, >, 0);
      g_assert_nonnull (alert->subject);
      if (alert->kind == FD_INBOX_ALERT_NEW_ENTERPRISE)
        g_assert_cmpstr (alert->organisation, !=, "");
      else
        g_assert_cmpint (alert->sla_due_at, >, 0);
    }

  /* Each at-risk conversation alerts once. */
  call.since = call.now;
  g_assert_true (fd_store_run_sync (fixture->store, alerts_job, &call, NULL, &error));
  g_assert_cmpuint (call.alerts->len, ==, 0);

  /* Once per target: a new target that turns at risk later alerts again. */
  g_free (sql);
  sql = g_strdup_printf ("UPDATE conversations SET sla_risk_at = %" G_GINT64_FORMAT
                         " WHERE id = (SELECT min(id) FROM conversations WHERE status = 'open'"
                         " AND sla_risk_at IS NOT NULL)",
                         call.now + 1000);
  raw_exec (fixture->db, sql);
  g_assert_true (fd_store_run_sync (fixture->store, alerts_job, &call, NULL, &error));
  g_assert_cmpuint (call.alerts->len, ==, 0);
  call.now += 2000;
  g_assert_true (fd_store_run_sync (fixture->store, alerts_job, &call, NULL, &error));
  g_assert_cmpuint (call.alerts->len, ==, 1);
  g_assert_cmpuint (count_alerts (call.alerts, FD_INBOX_ALERT_SLA_AT_RISK), ==, 1);
  g_assert_true (fd_store_run_sync (fixture->store, alerts_job, &call, NULL, &error));
  g_assert_cmpuint (call.alerts->len, ==, 0);

  g_clear_pointer (&call.alerts, g_ptr_array_unref);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  int ret;

  if (argc == 4 && g_str_equal (argv[1], "--draft-crash-helper"))
    return draft_crash_helper (argv[2], g_ascii_strtoll (argv[3], NULL, 10));

  g_test_init (&argc, &argv, NULL);

  make_template ();

#define ADD(path, func) \
  g_test_add ("/inbox-store/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/inbox-store/views/names", test_view_names);
  ADD ("views/counts", test_view_counts);
  ADD ("views/order", test_view_order);
  ADD ("views/plans", test_view_plans);
  ADD ("list/all-open", test_list_all_open);
  ADD ("list/placeholder", test_list_placeholder);
  ADD ("list/bounded", test_list_bounded);
  ADD ("list/reload", test_list_reload);
  ADD ("list/reload-insert", test_list_reload_insert);
  ADD ("list/outdated", test_list_outdated);
  ADD ("list/error", test_list_error);
  ADD ("detail", test_detail);
  ADD ("drafts", test_drafts);
  ADD ("drafts/crash", test_drafts_crash);
  ADD ("saved-searches", test_saved_searches);
  ADD ("priority", test_priority);
  ADD ("wake-snoozed", test_wake_snoozed);
  ADD ("alerts", test_alerts);
  /* Last: it needs the search engine. */
  ADD ("list/search", test_list_search);

#undef ADD

  ret = g_test_run ();

  {
    g_autofree char *dir = g_path_get_dirname (template_path);

    remove_tree (dir);
    g_free (template_path);
  }

  return ret;
}
