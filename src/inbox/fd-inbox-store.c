/* fd-inbox-store.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-inbox-store"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "fd-inbox-store.h"

/* {{{ Words */

const char *
fd_inbox_channel_to_label (const char *channel)
{
  if (g_strcmp0 (channel, "email") == 0)
    return _("Email");
  if (g_strcmp0 (channel, "chat") == 0)
    return _("Chat");
  if (g_strcmp0 (channel, "slack") == 0)
    return _("Slack");
  if (g_strcmp0 (channel, "community") == 0)
    return _("Community");
  return channel != NULL ? channel : "";
}

const char *
fd_inbox_channel_to_icon (const char *channel)
{
  if (g_strcmp0 (channel, "chat") == 0)
    return "user-available-symbolic";
  if (g_strcmp0 (channel, "slack") == 0)
    return "network-workgroup-symbolic";
  if (g_strcmp0 (channel, "community") == 0)
    return "system-users-symbolic";
  return "mail-unread-symbolic";
}

const char *
fd_inbox_status_to_label (const char *status)
{
  if (g_strcmp0 (status, "open") == 0)
    return _("Open");
  if (g_strcmp0 (status, "pending") == 0)
    return _("Pending");
  if (g_strcmp0 (status, "snoozed") == 0)
    return _("Snoozed");
  if (g_strcmp0 (status, "resolved") == 0)
    return _("Resolved");
  return status != NULL ? status : "";
}

/* }}} */
/* {{{ Views and sorts */

typedef struct
{
  const char *name;
  const char *title;
  const char *icon;
  const char *where;
  const char *from;
} ViewInfo;

#define FROM_CONVERSATIONS "conversations c"
/* Without statistics SQLite prefers walking an index in the ORDER BY's order (status,
 * due time) and testing the assignee of every open conversation; the assignee index
 * finds the few rows of these views directly. */
#define FROM_BY_ASSIGNEE "conversations c INDEXED BY conversations_assignee"

/* Every WHERE clause reads the conversation as "c" and may use :now. The Enterprise and
 * Billing views start from the open conversations (an index on status) rather than from
 * every conversation of every Enterprise organisation or billing tag; the unary + keeps
 * SQLite on that plan. Their lists of organisations and tags are read once per query,
 * and a conversation's tags are found by its own key instead of probing the tag index
 * once per billing tag. */
static const ViewInfo views[FD_INBOX_N_VIEWS] = {
  [FD_INBOX_VIEW_MY_OPEN] = {
    "my-open", N_("My open"), "avatar-default-symbolic",
    /* The agent has one row per connected account that knows them. */
    "c.status = 'open' AND c.assignee_id IN "
    "(SELECT me.id FROM agents me WHERE me.is_me = 1)",
    FROM_BY_ASSIGNEE
  },
  [FD_INBOX_VIEW_UNASSIGNED] = {
    "unassigned", N_("Unassigned"), "mail-unread-symbolic",
    "c.status = 'open' AND c.assignee_id IS NULL",
    FROM_BY_ASSIGNEE
  },
  [FD_INBOX_VIEW_ALL_OPEN] = {
    "all-open", N_("All open"), "view-list-bullet-symbolic",
    "c.status = 'open'",
    FROM_CONVERSATIONS
  },
  [FD_INBOX_VIEW_ENTERPRISE] = {
    "enterprise", N_("Enterprise"), "network-workgroup-symbolic",
    "c.status = 'open' AND +c.organisation_id IN"
    " (SELECT eo.id FROM organisations eo WHERE eo.is_enterprise = 1)",
    FROM_CONVERSATIONS
  },
  [FD_INBOX_VIEW_BILLING] = {
    "billing", N_("Billing"), "auth-smartcard-symbolic",
    "c.status = 'open' AND EXISTS (SELECT 1 FROM conversation_tags bt"
    " WHERE bt.conversation_id = c.id AND +bt.tag_id IN (SELECT bn.id FROM tags bn"
    " WHERE bn.name IN ('billing', 'payment-failed', 'refund', 'plan-change')))",
    FROM_CONVERSATIONS
  },
  [FD_INBOX_VIEW_SLA_AT_RISK] = {
    "sla-at-risk", N_("SLA at risk"), "task-past-due-symbolic",
    "c.status IN ('open', 'pending') AND c.sla_risk_at <= :now",
    FROM_CONVERSATIONS
  },
  [FD_INBOX_VIEW_SNOOZED] = {
    "snoozed", N_("Snoozed"), "alarm-symbolic",
    "c.status = 'snoozed'",
    FROM_CONVERSATIONS
  },
  [FD_INBOX_VIEW_RESOLVED] = {
    "resolved", N_("Resolved"), "object-select-symbolic",
    "c.status = 'resolved'",
    FROM_CONVERSATIONS
  },
};

const char *
fd_inbox_view_id_to_name (FdInboxViewId view)
{
  g_return_val_if_fail (view < FD_INBOX_N_VIEWS, NULL);

  return views[view].name;
}

gboolean
fd_inbox_view_id_from_name (const char    *name,
                            FdInboxViewId *view)
{
  g_return_val_if_fail (view != NULL, FALSE);

  if (name == NULL)
    return FALSE;

  for (guint i = 0; i < FD_INBOX_N_VIEWS; i++)
    if (g_str_equal (name, views[i].name))
      {
        *view = i;
        return TRUE;
      }

  return FALSE;
}

const char *
fd_inbox_view_id_to_title (FdInboxViewId view)
{
  g_return_val_if_fail (view < FD_INBOX_N_VIEWS, NULL);

  return _(views[view].title);
}

const char *
fd_inbox_view_id_to_icon (FdInboxViewId view)
{
  g_return_val_if_fail (view < FD_INBOX_N_VIEWS, NULL);

  return views[view].icon;
}

const char *
_fd_inbox_view_where (FdInboxViewId view)
{
  g_return_val_if_fail (view < FD_INBOX_N_VIEWS, NULL);

  return views[view].where;
}

const char *
_fd_inbox_view_from (FdInboxViewId view)
{
  g_return_val_if_fail (view < FD_INBOX_N_VIEWS, NULL);

  return views[view].from;
}

static const char * const sort_names[] = { "sla", "newest", "oldest", "priority" };

const char *
fd_inbox_sort_to_name (FdInboxSort sort)
{
  g_return_val_if_fail (sort <= FD_INBOX_SORT_PRIORITY, NULL);

  return sort_names[sort];
}

gboolean
fd_inbox_sort_from_name (const char  *name,
                         FdInboxSort *sort)
{
  g_return_val_if_fail (sort != NULL, FALSE);

  if (name == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (sort_names); i++)
    if (g_str_equal (name, sort_names[i]))
      {
        *sort = i;
        return TRUE;
      }

  return FALSE;
}

/* The same expression as the conversations_priority index (migration 4), so that the
 * index answers both the filter and the order. */
#define PRIORITY_RANK \
  "(CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END)"

/* A sort is a list of segments that split a view into consecutive runs. Each segment's
 * ORDER BY is one an index can walk, so reading a page deep into a large view skips
 * index entries instead of sorting the whole view again: SQLite cannot walk
 * conversations_sla_due for "NULLs last", so conversations without a due time form a
 * segment of their own, after the others. The list (fd-conversation-list.c) maps a row
 * position to a segment and an offset inside it, counting segments only when it must.
 * Conversations due at the same moment (common: business hours start at the same
 * minute for everything that arrived overnight) come newest first by id, which the
 * index holds, so skipping them never reads the table. */
static const FdInboxSegment sla_segments[] = {
  { "c.sla_due_at IS NOT NULL", "c.sla_due_at, c.id DESC" },
  { "c.sla_due_at IS NULL", "c.last_message_at DESC, c.id DESC", TRUE },
};

static const FdInboxSegment newest_segments[] = {
  { NULL, "c.last_message_at DESC, c.id DESC" },
};

static const FdInboxSegment oldest_segments[] = {
  { NULL, "c.last_message_at, c.id" },
};

/* Urgent first; in each priority the soonest due, then those without a due time, newest
 * first (by id: conversations_priority holds the id, not the last message's time). */
#define PRIORITY_SEGMENTS(rank) \
  { PRIORITY_RANK " = " #rank " AND c.sla_due_at IS NOT NULL", "c.sla_due_at, c.id DESC" }, \
  { PRIORITY_RANK " = " #rank " AND c.sla_due_at IS NULL", "c.id DESC" }

static const FdInboxSegment priority_segments[] = {
  PRIORITY_SEGMENTS (0),
  PRIORITY_SEGMENTS (1),
  PRIORITY_SEGMENTS (2),
  PRIORITY_SEGMENTS (3),
};

const FdInboxSegment *
_fd_inbox_sort_segments (FdInboxSort  sort,
                         guint       *n_segments)
{
  g_return_val_if_fail (n_segments != NULL, NULL);

  switch (sort)
    {
    case FD_INBOX_SORT_SLA_DUE:
      *n_segments = G_N_ELEMENTS (sla_segments);
      return sla_segments;
    case FD_INBOX_SORT_NEWEST:
      *n_segments = G_N_ELEMENTS (newest_segments);
      return newest_segments;
    case FD_INBOX_SORT_OLDEST:
      *n_segments = G_N_ELEMENTS (oldest_segments);
      return oldest_segments;
    case FD_INBOX_SORT_PRIORITY:
      *n_segments = G_N_ELEMENTS (priority_segments);
      return priority_segments;
    default:
      g_return_val_if_reached (NULL);
    }
}

void
_fd_inbox_bind_now (sqlite3_stmt *stmt,
                    gint64        now_ms)
{
  int index = sqlite3_bind_parameter_index (stmt, ":now");

  if (index > 0)
    sqlite3_bind_int64 (stmt, index, now_ms);
}

gboolean
_fd_inbox_get_me (sqlite3  *db,
                  gint64   *me_id,
                  char    **me_name,
                  GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  *me_id = 0;
  if (me_name != NULL)
    *me_name = g_strdup ("");

  stmt = fd_store_prepare (db, "SELECT id, name FROM agents WHERE is_me = 1 ORDER BY id LIMIT 1",
                           error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *me_id = sqlite3_column_int64 (stmt, 0);
      if (me_name != NULL)
        {
          g_free (*me_name);
          *me_name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
        }
    }
  else if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

gboolean
_fd_inbox_count (sqlite3        *db,
                 FdInboxViewId   view,
                 const char     *and_where,
                 gint64          now_ms,
                 gint64         *count,
                 GError        **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s WHERE (%s) AND (%s)",
                                          views[view].from, views[view].where,
                                          and_where != NULL ? and_where : "1");
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;

  _fd_inbox_bind_now (stmt, now_ms);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  *count = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* The matches of @query, up to FD_INBOX_SAVED_SEARCH_COUNT_MAX, by asking the search
 * engine for them: a common word matches most of a large store, and reading every match
 * (with its snippet) would hold the store's worker for seconds. The sidebar shows the
 * cap as "1,000 or more"; an exact count needs a counting path in the search engine. */
gboolean
_fd_inbox_count_search (sqlite3              *db,
                        const FdSearchQuery  *query,
                        gint64                me_id,
                        gint64               *count,
                        GError              **error)
{
  g_autoptr(GPtrArray) results = NULL;

  if (!fd_search_run (db, query, FD_SEARCH_ORDER_NEWEST, me_id, 0,
                      FD_INBOX_SAVED_SEARCH_COUNT_MAX, &results, error))
    return FALSE;

  *count = results != NULL ? results->len : 0;
  return TRUE;
}

/* }}} */
/* {{{ Counts */

void
fd_inbox_counts_free (FdInboxCounts *counts)
{
  if (counts == NULL)
    return;

  g_clear_pointer (&counts->saved, g_array_unref);
  g_free (counts);
}

static gboolean
count_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  g_autoptr(FdInboxCounts) counts = g_new0 (FdInboxCounts, 1);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) queries = g_ptr_array_new_with_free_func (g_free);
  gint64 now = g_get_real_time () / 1000;
  gint64 me_id = 0;
  gboolean ok = FALSE;
  int rc;

  /* One read transaction, so the numbers agree with each other. */
  if (!fd_store_exec (db, "BEGIN", error))
    return FALSE;

  for (guint i = 0; i < FD_INBOX_N_VIEWS; i++)
    if (!_fd_inbox_count (db, i, NULL, now, &counts->views[i], error))
      goto out;

  if (!_fd_inbox_get_me (db, &me_id, NULL, error))
    goto out;

  stmt = fd_store_prepare (db, "SELECT query FROM saved_searches ORDER BY position, id", error);
  if (stmt == NULL)
    goto out;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (queries, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  if (rc != SQLITE_DONE)
    {
      fd_store_set_error (db, rc, error);
      goto out;
    }

  counts->saved = g_array_sized_new (FALSE, TRUE, sizeof (gint64), queries->len);
  for (guint i = 0; i < queries->len; i++)
    {
      g_autoptr(FdSearchQuery) query = NULL;
      g_autoptr(GError) local_error = NULL;
      gint64 count = -1;

      query = fd_search_query_parse (g_ptr_array_index (queries, i), &local_error);
      if (query != NULL &&
          !_fd_inbox_count_search (db, query, me_id, &count, &local_error))
        {
          /* A store failure fails the whole count; a query that cannot run counts -1. */
          if (local_error->domain == FD_STORE_ERROR)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              goto out;
            }
          count = -1;
        }
      if (local_error != NULL)
        g_debug ("Saved search %u cannot be counted: %s", i, local_error->message);

      g_array_append_val (counts->saved, count);
    }

  ok = TRUE;

out:
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (ok)
    ok = fd_store_exec (db, "COMMIT", error);
  else
    fd_store_rollback (db);

  if (ok)
    *result = g_steal_pointer (&counts);

  return ok;
}

static void
store_job_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gpointer value;

  value = fd_store_run_finish (FD_STORE (object), result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, value, g_task_get_task_data (task));
}

/* Runs @func on the store and returns its result through a GTask with @source_tag. The
 * task data is the result's free function, used if nobody claims it. */
static void
run_job (FdStore             *store,
         gpointer             source_tag,
         FdStoreJobFunc       func,
         gpointer             job_data,
         GDestroyNotify       job_data_free,
         GDestroyNotify       result_free,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, result_free, NULL);

  fd_store_run_async (store, func, job_data, job_data_free, result_free, cancellable,
                      store_job_cb, g_steal_pointer (&task));
}

static gpointer
finish_job (FdStore       *store,
            GAsyncResult  *result,
            gpointer       source_tag,
            GError       **error)
{
  g_return_val_if_fail (FD_IS_STORE (store), NULL);
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
fd_inbox_count_async (FdStore             *store,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  run_job (store, fd_inbox_count_async, count_job, NULL, NULL,
           (GDestroyNotify) fd_inbox_counts_free, cancellable, callback, user_data);
}

FdInboxCounts *
fd_inbox_count_finish (FdStore       *store,
                       GAsyncResult  *result,
                       GError       **error)
{
  return finish_job (store, result, fd_inbox_count_async, error);
}

/* }}} */
/* {{{ Saved searches */

struct _FdSavedSearch
{
  GObject  parent_instance;

  gint64   id;
  char    *name;
  char    *query;
};

G_DEFINE_FINAL_TYPE (FdSavedSearch, fd_saved_search, G_TYPE_OBJECT)

static void
fd_saved_search_finalize (GObject *object)
{
  FdSavedSearch *self = FD_SAVED_SEARCH (object);

  g_free (self->name);
  g_free (self->query);

  G_OBJECT_CLASS (fd_saved_search_parent_class)->finalize (object);
}

static void
fd_saved_search_class_init (FdSavedSearchClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fd_saved_search_finalize;
}

static void
fd_saved_search_init (FdSavedSearch *self)
{
}

gint64
fd_saved_search_get_id (FdSavedSearch *self)
{
  g_return_val_if_fail (FD_IS_SAVED_SEARCH (self), 0);

  return self->id;
}

const char *
fd_saved_search_get_name (FdSavedSearch *self)
{
  g_return_val_if_fail (FD_IS_SAVED_SEARCH (self), NULL);

  return self->name;
}

const char *
fd_saved_search_get_query (FdSavedSearch *self)
{
  g_return_val_if_fail (FD_IS_SAVED_SEARCH (self), NULL);

  return self->query;
}

typedef struct
{
  gint64  id;
  char   *name;
  char   *query;
} SavedSearchRow;

static void
saved_search_row_free (gpointer data)
{
  SavedSearchRow *row = data;

  g_free (row->name);
  g_free (row->query);
  g_free (row);
}

static gboolean
saved_search_list_job (sqlite3   *db,
                       gpointer   job_data,
                       gpointer  *result,
                       GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (saved_search_row_free);
  int rc;

  stmt = fd_store_prepare (db, "SELECT id, name, query FROM saved_searches ORDER BY position, id",
                           error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SavedSearchRow *row = g_new0 (SavedSearchRow, 1);

      row->id = sqlite3_column_int64 (stmt, 0);
      row->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      row->query = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      g_ptr_array_add (rows, row);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *result = g_steal_pointer (&rows);
  return TRUE;
}

void
fd_saved_search_list_async (FdStore             *store,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  run_job (store, fd_saved_search_list_async, saved_search_list_job, NULL, NULL,
           (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

GListStore *
fd_saved_search_list_finish (FdStore       *store,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_autoptr(GPtrArray) rows = NULL;
  GListStore *list;

  rows = finish_job (store, result, fd_saved_search_list_async, error);
  if (rows == NULL)
    return NULL;

  /* GObjects are made here, on the caller's thread, not on the store's worker. */
  list = g_list_store_new (FD_TYPE_SAVED_SEARCH);
  for (guint i = 0; i < rows->len; i++)
    {
      SavedSearchRow *row = g_ptr_array_index (rows, i);
      g_autoptr(FdSavedSearch) search = g_object_new (FD_TYPE_SAVED_SEARCH, NULL);

      search->id = row->id;
      search->name = g_steal_pointer (&row->name);
      search->query = g_steal_pointer (&row->query);
      g_list_store_append (list, search);
    }

  return list;
}

typedef struct
{
  char *name;
  char *query;
} SavedSearchCreate;

static void
saved_search_create_free (gpointer data)
{
  SavedSearchCreate *create = data;

  g_free (create->name);
  g_free (create->query);
  g_free (create);
}

static gboolean
saved_search_create_job (sqlite3   *db,
                         gpointer   job_data,
                         gpointer  *result,
                         GError   **error)
{
  SavedSearchCreate *create = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *subject = NULL;
  gint64 *id;
  int rc;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db,
                           "INSERT INTO saved_searches (name, query, position, created_at) "
                           "VALUES (?1, ?2, (SELECT coalesce(max(position), -1) + 1 "
                           "FROM saved_searches), ?3)",
                           error);
  if (stmt == NULL)
    goto failed;

  sqlite3_bind_text (stmt, 1, create->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, create->query, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time () / 1000);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      fd_store_set_error (db, rc, error);
      goto failed;
    }

  id = g_new (gint64, 1);
  *id = sqlite3_last_insert_rowid (db);
  *result = id;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, create->name);
  json_builder_set_member_name (builder, "query");
  json_builder_add_string_value (builder, create->query);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  detail = json_to_string (root, FALSE);
  subject = g_strdup_printf ("saved-search:%" G_GINT64_FORMAT, *id);

  if (!fd_store_audit (db, "agent", "saved-search.create", subject, detail, error) ||
      !fd_store_commit (db, error))
    goto failed;

  return TRUE;

failed:
  fd_store_rollback (db);
  return FALSE;
}

void
fd_saved_search_create_async (FdStore             *store,
                              const char          *name,
                              const char          *query,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(FdSearchQuery) parsed = NULL;
  g_autoptr(GError) error = NULL;
  SavedSearchCreate *create;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (name != NULL);
  g_return_if_fail (query != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* Parsing needs no database, so a bad query is refused before anything is queued. */
  parsed = fd_search_query_parse (query, &error);
  if (parsed == NULL)
    {
      g_task_report_error (store, callback, user_data, fd_saved_search_create_async,
                           g_steal_pointer (&error));
      return;
    }

  create = g_new0 (SavedSearchCreate, 1);
  create->name = g_strstrip (g_strdup (name));
  if (create->name[0] == '\0')
    {
      g_free (create->name);
      create->name = g_strdup (query);
    }
  create->query = g_strdup (query);

  run_job (store, fd_saved_search_create_async, saved_search_create_job, create,
           saved_search_create_free, g_free, cancellable, callback, user_data);
}

gint64
fd_saved_search_create_finish (FdStore       *store,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_autofree gint64 *id = NULL;

  /* A refused query was reported with g_task_report_error, under the same source tag. */
  id = finish_job (store, result, fd_saved_search_create_async, error);

  return id != NULL ? *id : 0;
}

static gboolean
saved_search_delete_job (sqlite3   *db,
                         gpointer   job_data,
                         gpointer  *result,
                         GError   **error)
{
  gint64 id = *(gint64 *) job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *subject = g_strdup_printf ("saved-search:%" G_GINT64_FORMAT, id);
  int rc;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db, "DELETE FROM saved_searches WHERE id = ?", error);
  if (stmt == NULL)
    goto failed;

  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      fd_store_set_error (db, rc, error);
      goto failed;
    }

  /* Deleting one that is gone already is not an error: the result is the same. */
  if (sqlite3_changes (db) > 0 &&
      !fd_store_audit (db, "agent", "saved-search.delete", subject, "{}", error))
    goto failed;

  if (!fd_store_commit (db, error))
    goto failed;

  *result = GINT_TO_POINTER (TRUE);
  return TRUE;

failed:
  fd_store_rollback (db);
  return FALSE;
}

void
fd_saved_search_delete_async (FdStore             *store,
                              gint64               id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  run_job (store, fd_saved_search_delete_async, saved_search_delete_job,
           g_memdup2 (&id, sizeof id), g_free, NULL, cancellable, callback, user_data);
}

gboolean
fd_saved_search_delete_finish (FdStore       *store,
                               GAsyncResult  *result,
                               GError       **error)
{
  return finish_job (store, result, fd_saved_search_delete_async, error) != NULL;
}

/* }}} */
/* {{{ Conversation detail */

static void
fd_attachment_free (FdAttachment *attachment)
{
  g_free (attachment->name);
  g_free (attachment->content_type);
  g_free (attachment->url);
  g_free (attachment);
}

static void
fd_message_free (FdMessage *message)
{
  g_free (message->author_kind);
  g_free (message->author_name);
  g_free (message->body);
  g_free (message->send_state);
  g_clear_pointer (&message->attachments, g_ptr_array_unref);
  g_free (message);
}

static void
fd_recent_conversation_free (FdRecentConversation *recent)
{
  g_free (recent->subject);
  g_free (recent->status);
  g_free (recent);
}

static void
fd_agent_free (FdAgent *agent)
{
  g_free (agent->name);
  g_free (agent->email);
  g_free (agent);
}

void
fd_conversation_detail_free (FdConversationDetail *detail)
{
  if (detail == NULL)
    return;

  g_free (detail->channel);
  g_free (detail->subject);
  g_free (detail->status);
  g_free (detail->priority);
  g_free (detail->assignee_name);
  g_free (detail->sla_target);
  g_strfreev (detail->tags);
  g_free (detail->contact_name);
  g_free (detail->contact_email);
  g_free (detail->organisation_name);
  g_free (detail->plan);
  g_free (detail->sso_type);
  g_free (detail->sso_idp);
  g_free (detail->stripe_customer_id);
  g_strfreev (detail->domains);
  g_clear_pointer (&detail->messages, g_ptr_array_unref);
  g_clear_pointer (&detail->recent, g_ptr_array_unref);
  g_clear_pointer (&detail->agents, g_ptr_array_unref);
  g_free (detail->me_name);
  g_free (detail);
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static char *
column_dup_or_empty (sqlite3_stmt *stmt,
                     int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (text != NULL ? text : "");
}

/* Reads one text column of every row of @stmt (bound by the caller) into a GStrv. */
static gboolean
read_strv (sqlite3       *db,
           sqlite3_stmt  *stmt,
           GStrv         *strv,
           GError       **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (builder, (const char *) sqlite3_column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *strv = g_strv_builder_end (builder);
  return TRUE;
}

static gboolean
load_header (sqlite3               *db,
             FdConversationDetail  *detail,
             GError               **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT c.channel, c.subject, c.status, c.priority,"
                           "       coalesce(c.assignee_id, 0), coalesce(a.name, ''),"
                           "       coalesce(c.snoozed_until, 0), c.created_at,"
                           "       coalesce(c.sla_due_at, 0), coalesce(c.sla_risk_at, 0),"
                           "       coalesce(c.sla_target, ''),"
                           "       coalesce(c.contact_id, 0), coalesce(ct.name, ''), ct.email,"
                           "       coalesce(o.id, 0), coalesce(o.name, ''), coalesce(o.plan, ''),"
                           "       coalesce(o.is_enterprise, 0), coalesce(o.seats_used, 0),"
                           "       coalesce(o.seats_purchased, 0), coalesce(o.renewal_at, 0),"
                           "       o.sso_type, o.sso_idp, coalesce(o.sso_enforced, 0),"
                           "       coalesce(o.scim_enabled, 0), o.stripe_customer_id "
                           "FROM conversations c "
                           "LEFT JOIN agents a ON a.id = c.assignee_id "
                           "LEFT JOIN contacts ct ON ct.id = c.contact_id "
                           "LEFT JOIN organisations o ON o.id = c.organisation_id "
                           "WHERE c.id = ?",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, detail->id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("This conversation is no longer in Frontdesk. It may have been deleted "
                     "on the service; reload the list to see the current conversations."));
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  detail->channel = column_dup (stmt, 0);
  detail->subject = column_dup (stmt, 1);
  detail->status = column_dup (stmt, 2);
  detail->priority = column_dup (stmt, 3);
  detail->assignee_id = sqlite3_column_int64 (stmt, 4);
  detail->assignee_name = column_dup (stmt, 5);
  detail->snoozed_until = sqlite3_column_int64 (stmt, 6);
  detail->created_at = sqlite3_column_int64 (stmt, 7);
  detail->sla_due_at = sqlite3_column_int64 (stmt, 8);
  detail->sla_risk_at = sqlite3_column_int64 (stmt, 9);
  detail->sla_target = column_dup (stmt, 10);
  detail->contact_id = sqlite3_column_int64 (stmt, 11);
  detail->contact_name = column_dup (stmt, 12);
  detail->contact_email = column_dup (stmt, 13);
  detail->organisation_id = sqlite3_column_int64 (stmt, 14);
  detail->organisation_name = column_dup (stmt, 15);
  detail->plan = column_dup (stmt, 16);
  detail->is_enterprise = sqlite3_column_int (stmt, 17) != 0;
  detail->seats_used = sqlite3_column_int64 (stmt, 18);
  detail->seats_purchased = sqlite3_column_int64 (stmt, 19);
  detail->renewal_at = sqlite3_column_int64 (stmt, 20);
  detail->sso_type = column_dup (stmt, 21);
  detail->sso_idp = column_dup (stmt, 22);
  detail->sso_enforced = sqlite3_column_int (stmt, 23) != 0;
  detail->scim_enabled = sqlite3_column_int (stmt, 24) != 0;
  detail->stripe_customer_id = column_dup (stmt, 25);

  return TRUE;
}

static gboolean
load_messages (sqlite3               *db,
               FdConversationDetail  *detail,
               GError               **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  int rc;

  detail->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_message_free);

  stmt = fd_store_prepare (db,
                           "SELECT id, author_kind, author_name, is_note, body, created_at,"
                           "       send_state "
                           "FROM messages WHERE conversation_id = ? ORDER BY created_at, id",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, detail->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FdMessage *message = g_new0 (FdMessage, 1);

      message->id = sqlite3_column_int64 (stmt, 0);
      message->author_kind = column_dup (stmt, 1);
      message->author_name = column_dup_or_empty (stmt, 2);
      message->is_note = sqlite3_column_int (stmt, 3) != 0;
      message->body = column_dup_or_empty (stmt, 4);
      message->created_at = sqlite3_column_int64 (stmt, 5);
      message->send_state = column_dup (stmt, 6);
      message->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_attachment_free);
      g_ptr_array_add (detail->messages, message);
      g_hash_table_insert (by_id, &message->id, message);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  g_clear_pointer (&stmt, sqlite3_finalize);
  stmt = fd_store_prepare (db,
                           "SELECT a.id, a.message_id, a.name, a.size, a.content_type, a.url "
                           "FROM attachments a JOIN messages m ON m.id = a.message_id "
                           "WHERE m.conversation_id = ? ORDER BY a.id",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, detail->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 message_id = sqlite3_column_int64 (stmt, 1);
      FdMessage *message = g_hash_table_lookup (by_id, &message_id);
      FdAttachment *attachment;

      if (message == NULL)
        continue;

      attachment = g_new0 (FdAttachment, 1);
      attachment->id = sqlite3_column_int64 (stmt, 0);
      attachment->name = column_dup_or_empty (stmt, 2);
      attachment->size = sqlite3_column_int64 (stmt, 3);
      attachment->content_type = column_dup (stmt, 4);
      attachment->url = column_dup (stmt, 5);
      g_ptr_array_add (message->attachments, attachment);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

static gboolean
load_recent (sqlite3               *db,
             FdConversationDetail  *detail,
             GError               **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  detail->recent = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_recent_conversation_free);
  if (detail->organisation_id == 0)
    return TRUE;

  stmt = fd_store_prepare (db,
                           "SELECT id, subject, status, created_at FROM conversations "
                           "WHERE organisation_id = ?1 AND id != ?2 "
                           "ORDER BY created_at DESC, id DESC LIMIT 5",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, detail->organisation_id);
  sqlite3_bind_int64 (stmt, 2, detail->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FdRecentConversation *recent = g_new0 (FdRecentConversation, 1);

      recent->id = sqlite3_column_int64 (stmt, 0);
      recent->subject = column_dup_or_empty (stmt, 1);
      recent->status = column_dup (stmt, 2);
      recent->created_at = sqlite3_column_int64 (stmt, 3);
      g_ptr_array_add (detail->recent, recent);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

static gboolean
read_agents (sqlite3    *db,
             GPtrArray **agents_out,
             gint64     *me_id,
             char      **me_name,
             GError    **error)
{
  g_autoptr(GPtrArray) agents = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_agent_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  *me_id = 0;
  if (me_name != NULL)
    *me_name = g_strdup ("");

  stmt = fd_store_prepare (db,
                           "SELECT id, name, email, is_me FROM agents "
                           "ORDER BY name COLLATE NOCASE, id",
                           error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FdAgent *agent = g_new0 (FdAgent, 1);

      agent->id = sqlite3_column_int64 (stmt, 0);
      agent->name = column_dup_or_empty (stmt, 1);
      agent->email = column_dup (stmt, 2);
      agent->is_me = sqlite3_column_int (stmt, 3) != 0;
      g_ptr_array_add (agents, agent);

      /* The lowest id wins if a store has several, as in the views. */
      if (agent->is_me && (*me_id == 0 || agent->id < *me_id))
        {
          *me_id = agent->id;
          if (me_name != NULL)
            {
              g_free (*me_name);
              *me_name = g_strdup (agent->name);
            }
        }
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *agents_out = g_steal_pointer (&agents);
  return TRUE;
}

static gboolean
load_agents (sqlite3               *db,
             FdConversationDetail  *detail,
             GError               **error)
{
  return read_agents (db, &detail->agents, &detail->me_id, &detail->me_name, error);
}

typedef struct
{
  GPtrArray *agents;
  gint64     me_id;
} AgentList;

static void
agent_list_free (AgentList *list)
{
  g_clear_pointer (&list->agents, g_ptr_array_unref);
  g_free (list);
}

static gboolean
list_agents_job (sqlite3   *db,
                 gpointer   job_data,
                 gpointer  *result,
                 GError   **error)
{
  AgentList *list = g_new0 (AgentList, 1);

  if (!read_agents (db, &list->agents, &list->me_id, NULL, error))
    {
      agent_list_free (list);
      return FALSE;
    }

  *result = list;
  return TRUE;
}

void
fd_inbox_list_agents_async (FdStore             *store,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (FD_IS_STORE (store));

  fd_store_run_async (store, list_agents_job, NULL, NULL, (GDestroyNotify) agent_list_free,
                      cancellable, callback, user_data);
}

GPtrArray *
fd_inbox_list_agents_finish (FdStore       *store,
                             GAsyncResult  *result,
                             gint64        *me_id,
                             GError       **error)
{
  AgentList *list;
  GPtrArray *agents;

  g_return_val_if_fail (FD_IS_STORE (store), NULL);

  list = fd_store_run_finish (store, result, error);
  if (list == NULL)
    return NULL;

  if (me_id != NULL)
    *me_id = list->me_id;
  agents = g_steal_pointer (&list->agents);
  agent_list_free (list);

  return agents;
}

static gboolean
conversation_load_job (sqlite3   *db,
                       gpointer   job_data,
                       gpointer  *result,
                       GError   **error)
{
  g_autoptr(FdConversationDetail) detail = g_new0 (FdConversationDetail, 1);
  g_autoptr(sqlite3_stmt) tags = NULL;
  g_autoptr(sqlite3_stmt) domains = NULL;
  gboolean ok;

  detail->id = *(gint64 *) job_data;

  if (!fd_store_exec (db, "BEGIN", error))
    return FALSE;

  ok = load_header (db, detail, error);

  if (ok)
    {
      tags = fd_store_prepare (db,
                               "SELECT t.name FROM conversation_tags ct "
                               "JOIN tags t ON t.id = ct.tag_id "
                               "WHERE ct.conversation_id = ? ORDER BY t.name",
                               error);
      ok = tags != NULL;
    }
  if (ok)
    {
      sqlite3_bind_int64 (tags, 1, detail->id);
      ok = read_strv (db, tags, &detail->tags, error);
    }

  if (ok)
    {
      domains = fd_store_prepare (db,
                                  "SELECT domain FROM organisation_domains "
                                  "WHERE organisation_id = ? ORDER BY domain",
                                  error);
      ok = domains != NULL;
    }
  if (ok)
    {
      sqlite3_bind_int64 (domains, 1, detail->organisation_id);
      ok = read_strv (db, domains, &detail->domains, error);
    }

  ok = ok &&
       load_messages (db, detail, error) &&
       load_recent (db, detail, error) &&
       load_agents (db, detail, error);

  g_clear_pointer (&tags, sqlite3_finalize);
  g_clear_pointer (&domains, sqlite3_finalize);

  if (!ok)
    {
      fd_store_rollback (db);
      return FALSE;
    }

  if (!fd_store_exec (db, "COMMIT", error))
    return FALSE;

  *result = g_steal_pointer (&detail);
  return TRUE;
}

void
fd_conversation_load_async (FdStore             *store,
                            gint64               conversation_id,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (conversation_id > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  run_job (store, fd_conversation_load_async, conversation_load_job,
           g_memdup2 (&conversation_id, sizeof conversation_id), g_free,
           (GDestroyNotify) fd_conversation_detail_free, cancellable, callback, user_data);
}

FdConversationDetail *
fd_conversation_load_finish (FdStore       *store,
                             GAsyncResult  *result,
                             GError       **error)
{
  return finish_job (store, result, fd_conversation_load_async, error);
}

/* }}} */
/* {{{ Drafts */

void
fd_draft_free (FdDraft *draft)
{
  if (draft == NULL)
    return;

  g_free (draft->body);
  g_free (draft);
}

typedef struct
{
  gint64    conversation_id;
  gboolean  is_note;
  char     *body;    /* NULL: delete */
} DraftSave;

static void
draft_save_free (gpointer data)
{
  DraftSave *save = data;

  g_free (save->body);
  g_free (save);
}

static gboolean
draft_save_job (sqlite3   *db,
                gpointer   job_data,
                gpointer  *result,
                GError   **error)
{
  DraftSave *save = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  /* One statement is its own transaction: with the WAL, a committed draft survives the
   * application being killed the moment after. */
  if (save->body == NULL)
    stmt = fd_store_prepare (db, "DELETE FROM drafts WHERE conversation_id = ?1", error);
  else
    stmt = fd_store_prepare (db,
                             "INSERT INTO drafts (conversation_id, is_note, body, updated_at) "
                             "VALUES (?1, ?2, ?3, ?4) "
                             "ON CONFLICT (conversation_id) DO UPDATE SET "
                             "  is_note = excluded.is_note, body = excluded.body,"
                             "  updated_at = excluded.updated_at",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, save->conversation_id);
  if (save->body != NULL)
    {
      sqlite3_bind_int (stmt, 2, save->is_note ? 1 : 0);
      sqlite3_bind_text (stmt, 3, save->body, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 4, g_get_real_time () / 1000);
    }

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *result = GINT_TO_POINTER (TRUE);
  return TRUE;
}

static gboolean
is_blank (const char *text)
{
  if (text == NULL)
    return TRUE;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isspace (g_utf8_get_char (p)))
      return FALSE;

  return TRUE;
}

void
fd_draft_save_async (FdStore             *store,
                     gint64               conversation_id,
                     gboolean             is_note,
                     const char          *body,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  DraftSave *save;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (conversation_id > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  save = g_new0 (DraftSave, 1);
  save->conversation_id = conversation_id;
  save->is_note = is_note;
  save->body = is_blank (body) ? NULL : g_strdup (body);

  run_job (store, fd_draft_save_async, draft_save_job, save, draft_save_free, NULL,
           cancellable, callback, user_data);
}

gboolean
fd_draft_save_finish (FdStore       *store,
                      GAsyncResult  *result,
                      GError       **error)
{
  return finish_job (store, result, fd_draft_save_async, error) != NULL;
}

typedef struct
{
  FdDraft *draft;   /* NULL: none */
} DraftLoadResult;

static void
draft_load_result_free (gpointer data)
{
  DraftLoadResult *load = data;

  fd_draft_free (load->draft);
  g_free (load);
}

static gboolean
draft_load_job (sqlite3   *db,
                gpointer   job_data,
                gpointer  *result,
                GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  DraftLoadResult *load;
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT is_note, body, updated_at FROM drafts WHERE conversation_id = ?",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, *(gint64 *) job_data);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  /* A wrapper, so that "no draft" is a result and not a NULL that reads as an error. */
  load = g_new0 (DraftLoadResult, 1);
  if (rc == SQLITE_ROW)
    {
      load->draft = g_new0 (FdDraft, 1);
      load->draft->is_note = sqlite3_column_int (stmt, 0) != 0;
      load->draft->body = column_dup_or_empty (stmt, 1);
      load->draft->updated_at = sqlite3_column_int64 (stmt, 2);
    }

  *result = load;
  return TRUE;
}

void
fd_draft_load_async (FdStore             *store,
                     gint64               conversation_id,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (conversation_id > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  run_job (store, fd_draft_load_async, draft_load_job,
           g_memdup2 (&conversation_id, sizeof conversation_id), g_free,
           draft_load_result_free, cancellable, callback, user_data);
}

FdDraft *
fd_draft_load_finish (FdStore       *store,
                      GAsyncResult  *result,
                      GError       **error)
{
  DraftLoadResult *load;
  FdDraft *draft;

  load = finish_job (store, result, fd_draft_load_async, error);
  if (load == NULL)
    return NULL;

  draft = g_steal_pointer (&load->draft);
  draft_load_result_free (load);

  return draft;
}

/* }}} */
/* {{{ Triage */

static gboolean
priority_is_valid (const char *priority)
{
  return g_strcmp0 (priority, "urgent") == 0 || g_strcmp0 (priority, "high") == 0 ||
         g_strcmp0 (priority, "normal") == 0 || g_strcmp0 (priority, "low") == 0;
}

static gboolean
exec_bound (sqlite3       *db,
            sqlite3_stmt  *stmt,
            GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

static gboolean
add_event (sqlite3     *db,
           gint64       conversation_id,
           const char  *kind,
           const char  *from_value,
           const char  *to_value,
           gint64       actor_id,
           gint64       now_ms,
           GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = fd_store_prepare (db,
                           "INSERT INTO events (conversation_id, kind, from_value, to_value,"
                           " actor_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, from_value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, to_value, -1, SQLITE_STATIC);
  if (actor_id > 0)
    sqlite3_bind_int64 (stmt, 5, actor_id);
  sqlite3_bind_int64 (stmt, 6, now_ms);

  return exec_bound (db, stmt, error);
}

typedef struct
{
  gint64  conversation_id;
  char   *priority;
} PriorityChange;

static void
priority_change_free (gpointer data)
{
  PriorityChange *change = data;

  g_free (change->priority);
  g_free (change);
}

static gboolean
set_priority_job (sqlite3   *db,
                  gpointer   job_data,
                  gpointer  *result,
                  GError   **error)
{
  PriorityChange *change = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(FdSlaConfig) config = NULL;
  g_autofree char *previous = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *detail = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  gint64 now = g_get_real_time () / 1000;
  gint64 me_id = 0;
  int rc;

  /* Read before the write lock: the SLA configuration does not change with this. */
  if (!fd_sla_config_load (db, &config, error))
    return FALSE;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db, "SELECT priority FROM conversations WHERE id = ?", error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, change->conversation_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The priority was not changed because this conversation is no longer "
                     "in Frontdesk."));
      goto failed;
    }
  if (rc != SQLITE_ROW)
    {
      fd_store_set_error (db, rc, error);
      goto failed;
    }
  previous = column_dup (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* Setting the same priority again changes nothing and records nothing. */
  if (g_strcmp0 (previous, change->priority) == 0)
    {
      fd_store_rollback (db);
      *result = g_steal_pointer (&previous);
      return TRUE;
    }

  if (!_fd_inbox_get_me (db, &me_id, NULL, error))
    goto failed;

  stmt = fd_store_prepare (db, "UPDATE conversations SET priority = ?, updated_at = ? WHERE id = ?",
                           error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_text (stmt, 1, change->priority, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, now);
  sqlite3_bind_int64 (stmt, 3, change->conversation_id);
  if (!exec_bound (db, stmt, error))
    goto failed;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "from");
  json_builder_add_string_value (builder, previous);
  json_builder_set_member_name (builder, "to");
  json_builder_add_string_value (builder, change->priority);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  detail = json_to_string (root, FALSE);
  subject = g_strdup_printf ("conversation:%" G_GINT64_FORMAT, change->conversation_id);

  if (!add_event (db, change->conversation_id, "priority", previous, change->priority, me_id,
                  now, error) ||
      !fd_sla_update_conversation (db, config, change->conversation_id, error) ||
      !fd_store_audit (db, "agent", "conversation.priority", subject, detail, error) ||
      !fd_store_commit (db, error))
    goto failed;

  *result = g_steal_pointer (&previous);
  return TRUE;

failed:
  fd_store_rollback (db);
  return FALSE;
}

void
fd_inbox_set_priority_async (FdStore             *store,
                             gint64               conversation_id,
                             const char          *priority,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  PriorityChange *change;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (conversation_id > 0);
  g_return_if_fail (priority_is_valid (priority));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  change = g_new0 (PriorityChange, 1);
  change->conversation_id = conversation_id;
  change->priority = g_strdup (priority);

  run_job (store, fd_inbox_set_priority_async, set_priority_job, change, priority_change_free,
           g_free, cancellable, callback, user_data);
}

char *
fd_inbox_set_priority_finish (FdStore       *store,
                              GAsyncResult  *result,
                              GError       **error)
{
  return finish_job (store, result, fd_inbox_set_priority_async, error);
}

gboolean
fd_inbox_wake_snoozed (sqlite3  *db,
                       gint64    now_ms,
                       guint    *n_woken,
                       GError  **error)
{
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(FdSlaConfig) config = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_woken != NULL)
    *n_woken = 0;

  if (!fd_store_begin (db, error))
    return FALSE;

  select = fd_store_prepare (db,
                             "SELECT id FROM conversations "
                             "WHERE status = 'snoozed' AND snoozed_until <= ? ORDER BY id",
                             error);
  if (select == NULL)
    goto failed;
  sqlite3_bind_int64 (select, 1, now_ms);
  while ((rc = sqlite3_step (select)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (select, 0);
      g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    {
      fd_store_set_error (db, rc, error);
      goto failed;
    }

  if (ids->len == 0)
    {
      fd_store_rollback (db);
      return TRUE;
    }

  /* Waking resumes the SLA clock, which pauses while a conversation is snoozed. */
  if (!fd_sla_config_load (db, &config, error))
    goto failed;

  update = fd_store_prepare (db,
                             "UPDATE conversations SET status = 'open', snoozed_until = NULL,"
                             " updated_at = ?2 WHERE id = ?1",
                             error);
  if (update == NULL)
    goto failed;

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);

      sqlite3_reset (update);
      sqlite3_bind_int64 (update, 1, id);
      sqlite3_bind_int64 (update, 2, now_ms);
      if (!exec_bound (db, update, error) ||
          !add_event (db, id, "status", "snoozed", "open", 0, now_ms, error) ||
          !fd_sla_update_conversation (db, config, id, error))
        goto failed;
    }

  if (!fd_store_commit (db, error))
    goto failed;

  if (n_woken != NULL)
    *n_woken = ids->len;

  return TRUE;

failed:
  fd_store_rollback (db);
  return FALSE;
}

/* }}} */
/* {{{ Alerts */

void
fd_inbox_alert_free (FdInboxAlert *alert)
{
  if (alert == NULL)
    return;

  g_free (alert->subject);
  g_free (alert->organisation);
  g_free (alert);
}

static gboolean
read_alerts (sqlite3           *db,
             sqlite3_stmt      *stmt,
             FdInboxAlertKind   kind,
             GPtrArray         *alerts,
             GError           **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FdInboxAlert *alert = g_new0 (FdInboxAlert, 1);

      alert->kind = kind;
      alert->conversation_id = sqlite3_column_int64 (stmt, 0);
      alert->subject = column_dup_or_empty (stmt, 1);
      alert->organisation = column_dup_or_empty (stmt, 2);
      alert->sla_due_at = sqlite3_column_int64 (stmt, 3);
      g_ptr_array_add (alerts, alert);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

gboolean
fd_inbox_scan_alerts (sqlite3    *db,
                      gint64      since_ms,
                      gint64      now_ms,
                      GPtrArray **alerts,
                      GError    **error)
{
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) mark = NULL;
  guint first_risk;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (alerts != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  found = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_inbox_alert_free);

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db,
                           "SELECT c.id, c.subject, o.name, coalesce(c.sla_due_at, 0) "
                           "FROM conversations c JOIN organisations o ON o.id = c.organisation_id "
                           "WHERE c.created_at > ? AND o.is_enterprise = 1 "
                           "ORDER BY c.created_at, c.id",
                           error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, since_ms);
  if (!read_alerts (db, stmt, FD_INBOX_ALERT_NEW_ENTERPRISE, found, error))
    goto failed;
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* An alert is due once per target: sla_alerted_at older than sla_risk_at means the
   * conversation turned at risk again (a new target) since it was last alerted. */
  first_risk = found->len;
  stmt = fd_store_prepare (db,
                           "SELECT c.id, c.subject, o.name, coalesce(c.sla_due_at, 0) "
                           "FROM conversations c LEFT JOIN organisations o ON o.id = c.organisation_id "
                           "WHERE c.status IN ('open', 'pending', 'snoozed') AND c.sla_risk_at <= ?1 "
                           "  AND (c.sla_alerted_at IS NULL OR c.sla_alerted_at < c.sla_risk_at) "
                           "ORDER BY c.sla_due_at, c.id",
                           error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, now_ms);
  if (!read_alerts (db, stmt, FD_INBOX_ALERT_SLA_AT_RISK, found, error))
    goto failed;

  mark = fd_store_prepare (db, "UPDATE conversations SET sla_alerted_at = ?2 WHERE id = ?1", error);
  if (mark == NULL)
    goto failed;
  for (guint i = first_risk; i < found->len; i++)
    {
      FdInboxAlert *alert = g_ptr_array_index (found, i);

      sqlite3_reset (mark);
      sqlite3_bind_int64 (mark, 1, alert->conversation_id);
      sqlite3_bind_int64 (mark, 2, now_ms);
      if (!exec_bound (db, mark, error))
        goto failed;
    }

  if (!fd_store_commit (db, error))
    goto failed;

  *alerts = g_steal_pointer (&found);
  return TRUE;

failed:
  fd_store_rollback (db);
  return FALSE;
}

/* }}} */
