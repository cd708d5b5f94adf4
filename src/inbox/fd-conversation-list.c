/* fd-conversation-list.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-conversation-list"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "fd-inbox-store.h"

#define DEFAULT_PAGE_SIZE 100
#define DEFAULT_MAX_PAGES 30

/* {{{ Summary data: what a page job reads on the worker thread */

typedef struct
{
  gint64    id;
  char     *channel;
  char     *contact_name;
  char     *organisation;
  gboolean  is_enterprise;
  char     *plan;
  char     *subject;
  char     *snippet;
  GStrv     tags;
  char     *status;
  char     *priority;
  gint64    assignee_id;
  char     *assignee_name;
  gint64    created_at;
  gint64    last_message_at;
  gint64    snoozed_until;
  gint64    sla_due_at;
  gint64    sla_risk_at;
  char     *sla_target;
} SummaryData;

static void
summary_data_clear (SummaryData *data)
{
  g_free (data->channel);
  g_free (data->contact_name);
  g_free (data->organisation);
  g_free (data->plan);
  g_free (data->subject);
  g_free (data->snippet);
  g_strfreev (data->tags);
  g_free (data->status);
  g_free (data->priority);
  g_free (data->assignee_name);
  g_free (data->sla_target);
  memset (data, 0, sizeof *data);
}

static void
summary_data_free (gpointer data)
{
  if (data == NULL)
    return;

  summary_data_clear (data);
  g_free (data);
}

static gboolean
summary_data_equal (const SummaryData *a,
                    const SummaryData *b)
{
  return a->id == b->id &&
         g_strcmp0 (a->channel, b->channel) == 0 &&
         g_strcmp0 (a->contact_name, b->contact_name) == 0 &&
         g_strcmp0 (a->organisation, b->organisation) == 0 &&
         a->is_enterprise == b->is_enterprise &&
         g_strcmp0 (a->plan, b->plan) == 0 &&
         g_strcmp0 (a->subject, b->subject) == 0 &&
         g_strcmp0 (a->snippet, b->snippet) == 0 &&
         g_strv_equal ((const char * const *) a->tags, (const char * const *) b->tags) &&
         g_strcmp0 (a->status, b->status) == 0 &&
         g_strcmp0 (a->priority, b->priority) == 0 &&
         a->assignee_id == b->assignee_id &&
         g_strcmp0 (a->assignee_name, b->assignee_name) == 0 &&
         a->created_at == b->created_at &&
         a->last_message_at == b->last_message_at &&
         a->snoozed_until == b->snoozed_until &&
         a->sla_due_at == b->sla_due_at &&
         a->sla_risk_at == b->sla_risk_at &&
         g_strcmp0 (a->sla_target, b->sla_target) == 0;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_utf8_collate (*(const char * const *) a, *(const char * const *) b);
}

/* The columns every page reads, over "c" and the joins of PAGE_JOINS. */
#define SUMMARY_COLUMNS \
  "c.id, c.channel, coalesce(ct.name, ''), coalesce(o.name, ''), coalesce(o.is_enterprise, 0)," \
  " coalesce(o.plan, ''), c.subject, c.snippet," \
  " (SELECT group_concat(t.name, char(31)) FROM conversation_tags x" \
  "  JOIN tags t ON t.id = x.tag_id WHERE x.conversation_id = c.id)," \
  " c.status, c.priority, coalesce(c.assignee_id, 0), coalesce(a.name, ''), c.created_at," \
  " coalesce(c.last_message_at, c.created_at), coalesce(c.snoozed_until, 0)," \
  " coalesce(c.sla_due_at, 0), coalesce(c.sla_risk_at, 0), coalesce(c.sla_target, '')"

#define PAGE_JOINS \
  " LEFT JOIN contacts ct ON ct.id = c.contact_id" \
  " LEFT JOIN organisations o ON o.id = c.organisation_id" \
  " LEFT JOIN agents a ON a.id = c.assignee_id"

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (text != NULL ? text : "");
}

static SummaryData *
summary_data_from_stmt (sqlite3_stmt *stmt)
{
  SummaryData *data = g_new0 (SummaryData, 1);
  const char *tags = (const char *) sqlite3_column_text (stmt, 8);

  data->id = sqlite3_column_int64 (stmt, 0);
  data->channel = column_dup (stmt, 1);
  data->contact_name = column_dup (stmt, 2);
  data->organisation = column_dup (stmt, 3);
  data->is_enterprise = sqlite3_column_int (stmt, 4) != 0;
  data->plan = column_dup (stmt, 5);
  data->subject = column_dup (stmt, 6);
  data->snippet = column_dup (stmt, 7);
  /* group_concat gives no order; names cannot hold the unit separator. */
  data->tags = tags != NULL && tags[0] != '\0' ? g_strsplit (tags, "\x1f", -1) : g_new0 (char *, 1);
  qsort (data->tags, g_strv_length (data->tags), sizeof (char *), compare_strings);
  data->status = column_dup (stmt, 9);
  data->priority = column_dup (stmt, 10);
  data->assignee_id = sqlite3_column_int64 (stmt, 11);
  data->assignee_name = column_dup (stmt, 12);
  data->created_at = sqlite3_column_int64 (stmt, 13);
  data->last_message_at = sqlite3_column_int64 (stmt, 14);
  data->snoozed_until = sqlite3_column_int64 (stmt, 15);
  data->sla_due_at = sqlite3_column_int64 (stmt, 16);
  data->sla_risk_at = sqlite3_column_int64 (stmt, 17);
  data->sla_target = column_dup (stmt, 18);

  return data;
}

/* }}} */
/* {{{ FdConversationSummary */

struct _FdConversationSummary
{
  GObject      parent_instance;

  gboolean     loaded;
  SummaryData  data;
};

G_DEFINE_FINAL_TYPE (FdConversationSummary, fd_conversation_summary, G_TYPE_OBJECT)

enum {
  SUMMARY_PROP_0,
  SUMMARY_PROP_LOADED,
  SUMMARY_N_PROPS
};

static GParamSpec *summary_properties[SUMMARY_N_PROPS];

static const char * const no_tags[] = { NULL };

static void
fd_conversation_summary_finalize (GObject *object)
{
  FdConversationSummary *self = FD_CONVERSATION_SUMMARY (object);

  summary_data_clear (&self->data);

  G_OBJECT_CLASS (fd_conversation_summary_parent_class)->finalize (object);
}

static void
fd_conversation_summary_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  FdConversationSummary *self = FD_CONVERSATION_SUMMARY (object);

  switch (prop_id)
    {
    case SUMMARY_PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_conversation_summary_class_init (FdConversationSummaryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_conversation_summary_finalize;
  object_class->get_property = fd_conversation_summary_get_property;

  summary_properties[SUMMARY_PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, SUMMARY_N_PROPS, summary_properties);
}

static void
fd_conversation_summary_init (FdConversationSummary *self)
{
}

static FdConversationSummary *
summary_new_placeholder (void)
{
  return g_object_new (FD_TYPE_CONVERSATION_SUMMARY, NULL);
}

/* Takes the contents of @data (left empty). Notifies only when something changed. */
static void
summary_fill (FdConversationSummary *self,
              SummaryData           *data)
{
  if (self->loaded && summary_data_equal (&self->data, data))
    {
      summary_data_clear (data);
      return;
    }

  summary_data_clear (&self->data);
  self->data = *data;
  memset (data, 0, sizeof *data);
  self->loaded = TRUE;

  g_object_notify_by_pspec (G_OBJECT (self), summary_properties[SUMMARY_PROP_LOADED]);
}

#define SUMMARY_STRING_GETTER(field) \
  const char * \
  fd_conversation_summary_get_##field (FdConversationSummary *self) \
  { \
    g_return_val_if_fail (FD_IS_CONVERSATION_SUMMARY (self), NULL); \
    return self->data.field != NULL ? self->data.field : ""; \
  }

#define SUMMARY_INT_GETTER(type, field) \
  type \
  fd_conversation_summary_get_##field (FdConversationSummary *self) \
  { \
    g_return_val_if_fail (FD_IS_CONVERSATION_SUMMARY (self), 0); \
    return self->data.field; \
  }

gboolean
fd_conversation_summary_get_loaded (FdConversationSummary *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_SUMMARY (self), FALSE);

  return self->loaded;
}

const char * const *
fd_conversation_summary_get_tags (FdConversationSummary *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_SUMMARY (self), no_tags);

  return self->data.tags != NULL ? (const char * const *) self->data.tags : no_tags;
}

SUMMARY_INT_GETTER (gint64, id)
SUMMARY_STRING_GETTER (channel)
SUMMARY_STRING_GETTER (contact_name)
SUMMARY_STRING_GETTER (organisation)
SUMMARY_INT_GETTER (gboolean, is_enterprise)
SUMMARY_STRING_GETTER (plan)
SUMMARY_STRING_GETTER (subject)
SUMMARY_STRING_GETTER (snippet)
SUMMARY_STRING_GETTER (status)
SUMMARY_STRING_GETTER (priority)
SUMMARY_INT_GETTER (gint64, assignee_id)
SUMMARY_STRING_GETTER (assignee_name)
SUMMARY_INT_GETTER (gint64, created_at)
SUMMARY_INT_GETTER (gint64, last_message_at)
SUMMARY_INT_GETTER (gint64, snoozed_until)
SUMMARY_INT_GETTER (gint64, sla_due_at)
SUMMARY_INT_GETTER (gint64, sla_risk_at)
SUMMARY_STRING_GETTER (sla_target)

/* }}} */
/* {{{ Modes: what the list shows, shared read-only with the jobs */

#define MAX_SEGMENTS 8

typedef struct
{
  gboolean        search;
  FdInboxViewId   view;
  FdInboxSort     sort;
  char           *query_text;
  FdSearchQuery  *query;      /* parsed from query_text, used by the worker only */
  FdSearchOrder   order;
  /* The SLA at risk view compares with this moment, the same for every page of one
   * reading, so pages agree with the count. */
  gint64          now;

  /* Views: the rows of the view, set by the count job on its own copy of the mode. */
  gboolean        counted;
  gint64          total;
  /* Rows per segment of the sort, -1 until known. Only the store's worker thread
   * touches them, and it runs one job at a time. */
  gint64          segment_counts[MAX_SEGMENTS];
} Mode;

static void
mode_clear (gpointer data)
{
  Mode *mode = data;

  g_clear_pointer (&mode->query, fd_search_query_free);
  g_clear_pointer (&mode->query_text, g_free);
}

/* @query: the parsed @query_text, taken; NULL for a view. */
static Mode *
mode_new (FdInboxViewId   view,
          FdInboxSort     sort,
          const char     *query_text,
          FdSearchQuery  *query,
          FdSearchOrder   order)
{
  Mode *mode = g_atomic_rc_box_new0 (Mode);

  mode->search = query != NULL;
  mode->view = view;
  mode->sort = sort;
  mode->query_text = g_strdup (query_text);
  mode->query = query;
  mode->order = order;
  mode->now = g_get_real_time () / 1000;
  for (guint i = 0; i < MAX_SEGMENTS; i++)
    mode->segment_counts[i] = -1;

  return mode;
}

/* The same mode at a new moment, not counted yet. A query is parsed again rather than
 * shared: each mode's query belongs to the jobs of that mode. */
static Mode *
mode_renew (const Mode *mode)
{
  FdSearchQuery *query = NULL;

  if (mode->search)
    {
      g_autoptr(GError) error = NULL;

      query = fd_search_query_parse (mode->query_text, &error);
      /* It parsed before; the parser has no state that could change that. */
      g_assert_no_error (error);
    }

  return mode_new (mode->view, mode->sort, mode->query_text, query, mode->order);
}

static Mode *
mode_ref (Mode *mode)
{
  return g_atomic_rc_box_acquire (mode);
}

static void
mode_unref (Mode *mode)
{
  g_atomic_rc_box_release_full (mode, mode_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mode, mode_unref)

/* }}} */
/* {{{ Reading (worker thread) */

/* The number of rows in segment @i, counting it only if it cannot be worked out. */
static gboolean
segment_count (sqlite3  *db,
               Mode     *mode,
               guint     i,
               gint64   *count,
               GError  **error)
{
  guint n_segments;
  const FdInboxSegment *segments = _fd_inbox_sort_segments (mode->sort, &n_segments);
  gint64 others = 0;

  if (mode->segment_counts[i] < 0)
    {
      for (guint k = 0; k < n_segments && others >= 0; k++)
        if (k != i)
          others = mode->segment_counts[k] < 0 ? -1 : others + mode->segment_counts[k];

      if (others >= 0)
        mode->segment_counts[i] = MAX (mode->total - others, 0);
      else if (!_fd_inbox_count (db, mode->view, segments[i].where, mode->now,
                                 &mode->segment_counts[i], error))
        return FALSE;
    }

  *count = mode->segment_counts[i];
  return TRUE;
}

/* Whether segment @i is known, without a query, to hold every row of the view. */
static gboolean
segment_is_whole_view (Mode  *mode,
                       guint  i)
{
  guint n_segments;

  _fd_inbox_sort_segments (mode->sort, &n_segments);
  for (guint k = 0; k < n_segments; k++)
    if (k != i && mode->segment_counts[k] != 0)
      return FALSE;

  return TRUE;
}

/* Appends the rows of one segment, from @offset inside it. */
static gboolean
read_segment (sqlite3               *db,
              const Mode            *mode,
              const FdInboxSegment  *segment,
              gboolean               skip_where,
              gint64                 offset,
              gint64                 limit,
              GPtrArray             *rows,
              GError               **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *sql = NULL;
  int rc;

  /* A segment's test is left out when every row of the view passes it anyway: the
   * ORDER BY alone then matches an index (conversations_last_message for a view
   * without SLA due times), and SQLite walks it instead of filtering row by row. The
   * inner query picks the page's ids from the index only; the joins run for those
   * rows alone. CROSS JOIN keeps that order of the loops. */
  sql = g_strdup_printf ("SELECT " SUMMARY_COLUMNS " FROM "
                         "(SELECT c.id AS id FROM %s WHERE (%s) AND (%s)"
                         " ORDER BY %s LIMIT :limit OFFSET :offset) AS p"
                         " CROSS JOIN conversations c ON c.id = p.id"
                         PAGE_JOINS
                         " ORDER BY %s",
                         _fd_inbox_view_from (mode->view), _fd_inbox_view_where (mode->view),
                         segment->where != NULL && !skip_where ? segment->where : "1",
                         segment->order_by, segment->order_by);

  stmt = fd_store_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;

  /* Named, all of them: a view's :now comes first in the text and would take number 1. */
  sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, ":limit"), limit);
  sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, ":offset"), offset);
  _fd_inbox_bind_now (stmt, mode->now);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (rows, summary_data_from_stmt (stmt));
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

/* Reads the summaries of @ids, in that order; ids that are gone are left out. */
static gboolean
read_ids (sqlite3    *db,
          GArray     *ids,
          GPtrArray  *rows,
          GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) by_id = NULL;
  g_autoptr(GString) json = g_string_new ("[");
  int rc;

  if (ids->len == 0)
    return TRUE;

  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (json, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "",
                            g_array_index (ids, gint64, i));
  g_string_append_c (json, ']');

  stmt = fd_store_prepare (db,
                           "SELECT " SUMMARY_COLUMNS " FROM json_each(?1) AS p"
                           " CROSS JOIN conversations c ON c.id = p.value"
                           PAGE_JOINS,
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, json->str, json->len, SQLITE_STATIC);

  by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, summary_data_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SummaryData *data = summary_data_from_stmt (stmt);

      g_hash_table_replace (by_id, &data->id, data);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      SummaryData *data = g_hash_table_lookup (by_id, &id);

      /* The key is inside the value, so steal only after looking the value up. */
      if (data != NULL)
        {
          g_hash_table_steal (by_id, &id);
          g_ptr_array_add (rows, data);
        }
    }

  return TRUE;
}

/* Rows [@offset, @offset + @limit) of a search. With @ids, also the id of every match in
 * that range (used by reload, which needs ids where it reads no page). */
static gboolean
read_search (sqlite3    *db,
             const Mode *mode,
             guint       offset,
             guint       limit,
             GPtrArray  *rows,
             guint      *n_matches,
             GError    **error)
{
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) snippets = g_hash_table_new (g_int64_hash, g_int64_equal);
  gint64 me_id = 0;
  guint first = rows->len;

  if (!_fd_inbox_get_me (db, &me_id, NULL, error) ||
      !fd_search_run (db, mode->query, mode->order, me_id, offset, limit, &results, error))
    return FALSE;

  for (guint i = 0; results != NULL && i < results->len; i++)
    {
      FdSearchResult *result = g_ptr_array_index (results, i);

      g_array_append_val (ids, result->conversation_id);
      g_hash_table_insert (snippets, &result->conversation_id, result->snippet);
    }

  if (!read_ids (db, ids, rows, error))
    return FALSE;

  /* The search's snippet, with its marks, replaces the last message's text. */
  for (guint i = first; i < rows->len; i++)
    {
      SummaryData *data = g_ptr_array_index (rows, i);
      const char *snippet = g_hash_table_lookup (snippets, &data->id);

      if (snippet != NULL)
        {
          g_free (data->snippet);
          data->snippet = g_strdup (snippet);
        }
    }

  if (n_matches != NULL)
    *n_matches = results != NULL ? results->len : 0;

  return TRUE;
}

/* Rows [@offset, @offset + @limit) of a counted view. A segment's size is needed only
 * to skip it or to find where the next one starts; reading the segment tells it too,
 * when it runs out before the page does. So the first page of most views costs the
 * count of the view and one read. */
static gboolean
read_view (sqlite3    *db,
           Mode       *mode,
           gint64      offset,
           gint64      limit,
           GPtrArray  *rows,
           GError    **error)
{
  guint n_segments;
  const FdInboxSegment *segments = _fd_inbox_sort_segments (mode->sort, &n_segments);
  gint64 start = 0;

  g_assert (mode->counted);
  g_assert (n_segments <= MAX_SEGMENTS);

  for (guint i = 0; i < n_segments && limit > 0 && offset < mode->total; i++)
    {
      gint64 count = mode->segment_counts[i];
      guint before = rows->len;
      gint64 got;

      if (count >= 0 && offset >= start + count)
        {
          start += count;
          continue;
        }

      if (!read_segment (db, mode, &segments[i],
                         segments[i].where_optional && segment_is_whole_view (mode, i),
                         offset - start, limit, rows, error))
        return FALSE;

      got = rows->len - before;
      g_warn_if_fail (got <= limit);
      if (got >= limit)
        break;

      /* The segment ran out: its size is now known, and the next one starts after it. */
      if (count < 0)
        {
          if (got > 0 || offset == start)
            mode->segment_counts[i] = offset - start + got;
          else if (!segment_count (db, mode, i, &count, error))
            return FALSE;
        }

      offset += got;
      limit -= got;
      start += mode->segment_counts[i];
    }

  return TRUE;
}

typedef struct
{
  Mode   *mode;
  guint   page_size;
  GArray *pages;       /* guint: the pages to read (reload) */
  guint   first_page;  /* page to read (page job) */
  guint   search_limit;
} ReadJob;

static void
read_job_free (gpointer data)
{
  ReadJob *job = data;

  g_clear_pointer (&job->mode, mode_unref);
  g_clear_pointer (&job->pages, g_array_unref);
  g_free (job);
}

typedef struct
{
  /* The counted mode (views), or the same mode (searches). */
  Mode       *mode;
  guint       n_items;
  gboolean    complete;
  /* page index → GPtrArray of SummaryData */
  GHashTable *pages;
} ReadResult;

static void
read_result_free (gpointer data)
{
  ReadResult *result = data;

  g_clear_pointer (&result->mode, mode_unref);
  g_clear_pointer (&result->pages, g_hash_table_unref);
  g_free (result);
}

static ReadResult *
read_result_new (void)
{
  ReadResult *result = g_new0 (ReadResult, 1);

  result->pages = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_ptr_array_unref);

  return result;
}

static GPtrArray *
rows_new (void)
{
  return g_ptr_array_new_with_free_func (summary_data_free);
}

/* Counts the view (or, for a search, reads as far as needed) and reads @job->pages, all
 * in one read transaction. */
static gboolean
count_and_read_job (sqlite3   *db,
                    gpointer   job_data,
                    gpointer  *result_out,
                    GError   **error)
{
  ReadJob *job = job_data;
  Mode *mode = job->mode;
  ReadResult *result = read_result_new ();
  gboolean ok = FALSE;

  if (!fd_store_exec (db, "BEGIN", error))
    {
      read_result_free (result);
      return FALSE;
    }

  if (mode->search)
    {
      g_autoptr(GPtrArray) all = rows_new ();
      guint n_matches = 0;

      result->mode = mode_ref (mode);

      /* The number of matches is not known up front: @search_limit is one more than a
       * whole number of pages, so one extra match says whether there are more. */
      if (!read_search (db, mode, 0, job->search_limit, all, &n_matches, error))
        goto out;

      result->complete = n_matches < job->search_limit;
      result->n_items = MIN (all->len, job->search_limit - 1);

      for (guint i = 0; i < job->pages->len; i++)
        {
          guint page = g_array_index (job->pages, guint, i);
          guint start = page * job->page_size;
          GPtrArray *rows = rows_new ();

          for (guint k = start; k < start + job->page_size && k < result->n_items; k++)
            g_ptr_array_add (rows, g_steal_pointer (&g_ptr_array_index (all, k)));
          g_hash_table_replace (result->pages, GUINT_TO_POINTER (page), rows);
        }
    }
  else
    {
      Mode *counted = g_atomic_rc_box_dup (sizeof (Mode), mode);

      /* A copy of the struct would share the query's pointers: views have none. */
      g_assert (counted->query == NULL && counted->query_text == NULL);
      result->mode = counted;

      if (!_fd_inbox_count (db, counted->view, NULL, counted->now, &counted->total, error))
        goto out;
      counted->counted = TRUE;
      result->n_items = counted->total;
      result->complete = TRUE;

      for (guint i = 0; i < job->pages->len; i++)
        {
          guint page = g_array_index (job->pages, guint, i);
          GPtrArray *rows = rows_new ();

          g_hash_table_replace (result->pages, GUINT_TO_POINTER (page), rows);
          if ((gint64) page * job->page_size < result->n_items &&
              !read_view (db, counted, (gint64) page * job->page_size, job->page_size, rows,
                          error))
            goto out;
        }
    }

  ok = TRUE;

out:
  if (ok)
    ok = fd_store_exec (db, "COMMIT", error);
  else
    fd_store_rollback (db);

  if (ok)
    *result_out = result;
  else
    read_result_free (result);

  return ok;
}

static gboolean
page_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result_out,
          GError   **error)
{
  ReadJob *job = job_data;
  g_autoptr(GPtrArray) rows = rows_new ();
  gint64 offset = (gint64) job->first_page * job->page_size;
  gint64 started = g_get_monotonic_time ();

  if (job->mode->search)
    {
      if (!read_search (db, job->mode, offset, job->page_size, rows, NULL, error))
        return FALSE;
    }
  else if (!read_view (db, job->mode, offset, job->page_size, rows, error))
    {
      return FALSE;
    }

  g_debug ("Read page %u (%u rows) in %.1f ms", job->first_page, rows->len,
           (g_get_monotonic_time () - started) / 1000.0);

  *result_out = g_steal_pointer (&rows);
  return TRUE;
}

/* }}} */
/* {{{ FdConversationList */

typedef enum
{
  PAGE_LOADING,   /* a job reads it */
  PAGE_WAITING,   /* asked for while a count or reload runs; read after it */
  PAGE_LOADED,
} PageState;

typedef struct
{
  guint          index;
  guint64        serial;
  PageState      state;
  guint64        last_used;
  GPtrArray     *items;        /* FdConversationSummary */
  GCancellable  *cancellable;  /* while loading */
} Page;

struct _FdConversationList
{
  GObject        parent_instance;

  FdStore       *store;

  FdInboxViewId  view;
  FdInboxSort    sort;

  /* What is shown (counted), and what is being counted to replace it. */
  Mode          *mode;
  Mode          *next_mode;

  guint          n_items;
  gboolean       complete;     /* a search read its last page */
  GHashTable    *pages;        /* page index → Page */
  guint          page_size;
  guint          max_pages;
  guint64        use_clock;
  guint64        page_serial;

  /* Bumped by every change of mode and every reload: results of older jobs are dropped. */
  guint64        generation;
  GCancellable  *count_cancellable;
  gboolean       reloading;
  gboolean       growing;
  gboolean       auto_reloaded;

  gboolean       loading;
  char          *error;
};

static void fd_conversation_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FdConversationList, fd_conversation_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      fd_conversation_list_model_init))

enum {
  PROP_0,
  PROP_STORE,
  PROP_LOADING,
  PROP_ERROR,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void start_page_load (FdConversationList *self,
                             Page               *page);

static void
page_free (gpointer data)
{
  Page *page = data;

  if (page->cancellable != NULL)
    g_cancellable_cancel (page->cancellable);
  g_clear_object (&page->cancellable);
  g_clear_pointer (&page->items, g_ptr_array_unref);
  g_free (page);
}

static Page *
page_new (FdConversationList *self,
          guint               index,
          guint               n_rows)
{
  Page *page = g_new0 (Page, 1);

  page->index = index;
  page->serial = ++self->page_serial;
  page->last_used = ++self->use_clock;
  page->items = g_ptr_array_new_full (n_rows, g_object_unref);

  return page;
}

static guint
page_rows (FdConversationList *self,
           guint               index)
{
  guint start = index * self->page_size;

  if (start >= self->n_items)
    return 0;

  return MIN (self->page_size, self->n_items - start);
}

static char *
describe_error (const GError *error)
{
  if (error->domain == FD_SEARCH_ERROR)
    return g_strdup (error->message);

  if (g_error_matches (error, FD_STORE_ERROR, FD_STORE_ERROR_LOCKED))
    return g_strdup (_("Another program is using the Frontdesk database, so the conversations "
                       "could not be read. Close other copies of Frontdesk and try again."));
  if (g_error_matches (error, FD_STORE_ERROR, FD_STORE_ERROR_CORRUPT))
    return g_strdup (_("The Frontdesk database is damaged, so the conversations could not be "
                       "read. Restore it from a backup."));
  if (g_error_matches (error, FD_STORE_ERROR, FD_STORE_ERROR_IO))
    return g_strdup (_("The disk failed while Frontdesk was reading the conversations. Check "
                       "the disk, then try again."));
  if (g_error_matches (error, FD_STORE_ERROR, FD_STORE_ERROR_CLOSED))
    return g_strdup (_("The conversations could not be read because Frontdesk closed its "
                       "database."));

  return g_strdup (_("Frontdesk could not read the conversations. Try again; if this keeps "
                     "happening, please report a bug."));
}

static void
set_error (FdConversationList *self,
           const GError       *error)
{
  g_autofree char *message = error != NULL ? describe_error (error) : NULL;

  if (error != NULL)
    g_debug ("Reading conversations failed: %s", error->message);

  if (g_strcmp0 (message, self->error) == 0)
    return;

  g_free (self->error);
  self->error = g_steal_pointer (&message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
set_loading (FdConversationList *self,
             gboolean            loading)
{
  if (self->loading == loading)
    return;

  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
set_n_items (FdConversationList *self,
             guint               n_items)
{
  self->n_items = n_items;
}

static void
emit_items_changed (FdConversationList *self,
                    guint               position,
                    guint               removed,
                    guint               added)
{
  if (removed == 0 && added == 0)
    return;

  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
  if (removed != added)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

/* Cancels every job and makes every result in flight outdated. */
static void
cancel_all (FdConversationList *self)
{
  GHashTableIter iter;
  Page *page;

  self->generation++;
  self->reloading = FALSE;
  self->growing = FALSE;

  if (self->count_cancellable != NULL)
    g_cancellable_cancel (self->count_cancellable);
  g_clear_object (&self->count_cancellable);

  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &page))
    if (page->cancellable != NULL)
      {
        g_cancellable_cancel (page->cancellable);
        g_clear_object (&page->cancellable);
        if (page->state == PAGE_LOADING)
          page->state = PAGE_WAITING;
      }
}

/* Keeps at most max_pages pages, dropping the ones used longest ago. */
static void
evict_pages (FdConversationList *self,
             Page               *keep)
{
  while (g_hash_table_size (self->pages) > self->max_pages)
    {
      GHashTableIter iter;
      Page *page, *oldest = NULL;

      g_hash_table_iter_init (&iter, self->pages);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &page))
        if (page != keep && (oldest == NULL || page->last_used < oldest->last_used))
          oldest = page;

      if (oldest == NULL)
        break;

      g_hash_table_remove (self->pages, GUINT_TO_POINTER (oldest->index));
    }
}

typedef struct
{
  GWeakRef  self;
  guint64   generation;
  guint     page;
  guint64   serial;
} JobContext;

static JobContext *
job_context_new (FdConversationList *self,
                 guint               page,
                 guint64             serial)
{
  JobContext *context = g_new0 (JobContext, 1);

  g_weak_ref_init (&context->self, self);
  context->generation = self->generation;
  context->page = page;
  context->serial = serial;

  return context;
}

static void
job_context_free (JobContext *context)
{
  g_weak_ref_clear (&context->self);
  g_free (context);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (JobContext, job_context_free)

/* Fills the placeholders of @page from @rows (taken). Returns FALSE if there were fewer
 * rows than placeholders: the store changed since the count. */
static gboolean
fill_page (FdConversationList *self,
           Page               *page,
           GPtrArray          *rows)
{
  guint n = MIN (page->items->len, rows->len);

  page->state = PAGE_LOADED;
  for (guint i = 0; i < n; i++)
    summary_fill (g_ptr_array_index (page->items, i), g_ptr_array_index (rows, i));

  return n == page->items->len;
}

/* After a page came back short: the count is outdated, so read again, once per count
 * (a count that keeps disagreeing with its pages must not loop). */
static void
reload_once (FdConversationList *self)
{
  if (self->auto_reloaded)
    return;

  self->auto_reloaded = TRUE;
  fd_conversation_list_reload (self);
}

static void
grow_loaded_cb (FdConversationList *self,
                JobContext         *context,
                GPtrArray          *rows)
{
  guint old_n = self->n_items;
  Page *page;

  self->growing = FALSE;

  /* The page must start where the list ends; anything else is outdated. */
  if (context->page * self->page_size != self->n_items || self->complete)
    return;

  if (rows->len < self->page_size)
    self->complete = TRUE;
  if (rows->len == 0)
    return;

  page = page_new (self, context->page, rows->len);
  for (guint i = 0; i < rows->len; i++)
    g_ptr_array_add (page->items, summary_new_placeholder ());
  g_hash_table_replace (self->pages, GUINT_TO_POINTER (page->index), page);
  set_n_items (self, old_n + rows->len);
  fill_page (self, page, rows);
  evict_pages (self, page);

  emit_items_changed (self, old_n, 0, rows->len);
}

static void
page_loaded_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(JobContext) context = user_data;
  g_autoptr(FdConversationList) self = g_weak_ref_get (&context->self);
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  Page *page;

  rows = fd_store_run_finish (FD_STORE (object), result, &error);

  if (self == NULL || context->generation != self->generation)
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  page = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (context->page));

  if (error != NULL)
    {
      if (page != NULL && page->serial == context->serial)
        g_hash_table_remove (self->pages, GUINT_TO_POINTER (context->page));
      else if (context->serial == 0)
        self->growing = FALSE;
      set_error (self, error);
      return;
    }

  set_error (self, NULL);

  if (context->serial == 0)
    {
      grow_loaded_cb (self, context, rows);
      return;
    }

  if (page == NULL || page->serial != context->serial)
    return;

  g_clear_object (&page->cancellable);
  if (!fill_page (self, page, rows))
    reload_once (self);
}

static void
start_job (FdConversationList *self,
           guint               index,
           guint64             serial,
           GCancellable       *cancellable)
{
  ReadJob *job = g_new0 (ReadJob, 1);

  job->mode = mode_ref (self->mode);
  job->page_size = self->page_size;
  job->first_page = index;

  fd_store_run_async (self->store, page_job, job, read_job_free,
                      (GDestroyNotify) g_ptr_array_unref, cancellable,
                      page_loaded_cb, job_context_new (self, index, serial));
}

static void
start_page_load (FdConversationList *self,
                 Page               *page)
{
  g_assert (page->cancellable == NULL);

  page->state = PAGE_LOADING;
  page->cancellable = g_cancellable_new ();
  start_job (self, page->index, page->serial, page->cancellable);
}

/* A search grows by one page when its last page is asked for. */
static void
maybe_grow (FdConversationList *self,
            guint               index)
{
  guint next = self->n_items / self->page_size;

  if (!self->mode->search || self->complete || self->growing || self->reloading ||
      self->count_cancellable != NULL || index + 1 < next)
    return;

  self->growing = TRUE;
  start_job (self, next, 0, NULL);
}

static void
count_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(JobContext) context = user_data;
  g_autoptr(FdConversationList) self = g_weak_ref_get (&context->self);
  ReadResult *read;
  g_autoptr(GError) error = NULL;
  gboolean complete = TRUE;
  GPtrArray *rows;
  guint old_n;
  Page *page;

  read = fd_store_run_finish (FD_STORE (object), result, &error);

  if (self == NULL || context->generation != self->generation)
    {
      g_clear_pointer (&read, read_result_free);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->count_cancellable);
  old_n = self->n_items;

  /* The old contents go in one step, whatever happened. */
  g_hash_table_remove_all (self->pages);
  g_clear_pointer (&self->mode, mode_unref);
  self->growing = FALSE;
  self->auto_reloaded = FALSE;

  if (error != NULL)
    {
      self->mode = g_steal_pointer (&self->next_mode);
      self->complete = TRUE;
      set_n_items (self, 0);
      set_error (self, error);
      set_loading (self, FALSE);
      emit_items_changed (self, 0, old_n, 0);
      return;
    }

  g_clear_pointer (&self->next_mode, mode_unref);
  self->mode = mode_ref (read->mode);
  self->complete = read->complete;
  set_n_items (self, read->n_items);

  rows = g_hash_table_lookup (read->pages, GUINT_TO_POINTER (0));
  if (rows != NULL && self->n_items > 0)
    {
      page = page_new (self, 0, page_rows (self, 0));
      for (guint i = 0; i < page_rows (self, 0); i++)
        g_ptr_array_add (page->items, summary_new_placeholder ());
      g_hash_table_replace (self->pages, GUINT_TO_POINTER (0), page);
      complete = fill_page (self, page, rows);
    }

  read_result_free (read);
  set_error (self, NULL);
  set_loading (self, FALSE);
  emit_items_changed (self, 0, old_n, self->n_items);

  if (!complete)
    reload_once (self);
}

/* Counts @mode and reads its first page, then replaces the contents. */
static void
start_count (FdConversationList *self,
             Mode               *mode)
{
  ReadJob *job;
  guint zero = 0;

  cancel_all (self);
  g_clear_pointer (&self->next_mode, mode_unref);
  self->next_mode = mode_ref (mode);

  job = g_new0 (ReadJob, 1);
  job->mode = mode_ref (mode);
  job->page_size = self->page_size;
  job->pages = g_array_new (FALSE, FALSE, sizeof (guint));
  g_array_append_val (job->pages, zero);
  job->search_limit = self->page_size + 1;

  self->count_cancellable = g_cancellable_new ();
  set_loading (self, TRUE);

  fd_store_run_async (self->store, count_and_read_job, job, read_job_free, read_result_free,
                      self->count_cancellable, count_loaded_cb,
                      job_context_new (self, 0, 0));
}

/* {{{ Reload */

static gint64
known_id (GHashTable *pages,
          guint       page_size,
          guint       n_items,
          guint       position)
{
  Page *page;
  FdConversationSummary *summary;

  if (position >= n_items)
    return 0;

  page = g_hash_table_lookup (pages, GUINT_TO_POINTER (position / page_size));
  if (page == NULL || position % page_size >= page->items->len)
    return 0;

  summary = g_ptr_array_index (page->items, position % page_size);
  return summary->loaded ? summary->data.id : 0;
}

static gint64
new_id (ReadResult *read,
        guint       page_size,
        guint       position)
{
  GPtrArray *rows;
  SummaryData *data;

  if (position >= read->n_items)
    return 0;

  rows = g_hash_table_lookup (read->pages, GUINT_TO_POINTER (position / page_size));
  if (rows == NULL || position % page_size >= rows->len)
    return 0;

  data = g_ptr_array_index (rows, position % page_size);
  return data->id;
}

static FdConversationSummary *
old_summary (GHashTable *pages,
             guint       page_size,
             guint       position)
{
  Page *page = g_hash_table_lookup (pages, GUINT_TO_POINTER (position / page_size));

  if (page == NULL || position % page_size >= page->items->len)
    return NULL;

  return g_ptr_array_index (page->items, position % page_size);
}

static int
compare_guint (gconstpointer a,
               gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

/* Applies a reload. Only the pages the list holds are known on both sides; rows
 * elsewhere are not shown by anyone (the list view holds items for the rows on screen,
 * which are in recent pages) and count as unchanged. So the change is the range from
 * the first known row that differs to the last one, counted from the end; every row
 * outside it keeps its object, updated in place. */
static void
apply_reload (FdConversationList *self,
              ReadResult         *read)
{
  g_autoptr(GHashTable) old_pages = NULL;
  g_autoptr(GArray) indices = g_array_new (FALSE, FALSE, sizeof (guint));
  guint ps = self->page_size;
  guint old_n = self->n_items;
  guint new_n = read->n_items;
  guint start = G_MAXUINT, suffix = 0, removed, added;
  gboolean complete = TRUE;
  GHashTableIter iter;
  gpointer key;
  Page *page;

  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint index = GPOINTER_TO_UINT (key);
      g_array_append_val (indices, index);
    }
  g_array_sort (indices, compare_guint);

  /* The first known row that differs. */
  for (guint i = 0; i < indices->len && start == G_MAXUINT; i++)
    {
      guint index = g_array_index (indices, guint, i);

      for (guint pos = index * ps; pos < (index + 1) * ps && pos < old_n; pos++)
        {
          gint64 old_id = known_id (self->pages, ps, old_n, pos);

          if (old_id != 0 && old_id != new_id (read, ps, pos))
            {
              start = pos;
              break;
            }
        }
    }
  if (start == G_MAXUINT)
    start = MIN (old_n, new_n);

  /* The rows after it that stay, counted from the end. Only known rows can stop it. */
  while (suffix < MIN (old_n, new_n) - start)
    {
      guint old_pos = old_n - 1 - suffix;
      guint new_pos = new_n - 1 - suffix;
      gint64 old_id = known_id (self->pages, ps, old_n, old_pos);
      gint64 id = new_id (read, ps, new_pos);

      if (old_id != 0 && id != 0 && old_id != id)
        break;
      suffix++;
    }

  removed = old_n - start - suffix;
  added = new_n - start - suffix;

  /* New pages, the same indices as before, their rows taken from the old objects that
   * stay (moved by the change before them) or new placeholders. */
  old_pages = g_steal_pointer (&self->pages);
  self->pages = g_hash_table_new_full (NULL, NULL, NULL, page_free);
  self->mode = mode_ref (read->mode);
  self->complete = read->complete;
  set_n_items (self, new_n);

  for (guint i = 0; i < indices->len; i++)
    {
      guint index = g_array_index (indices, guint, i);
      Page *old_page = g_hash_table_lookup (old_pages, GUINT_TO_POINTER (index));
      GPtrArray *rows = g_hash_table_lookup (read->pages, GUINT_TO_POINTER (index));
      guint n_rows = page_rows (self, index);

      if (n_rows == 0)
        continue;

      page = page_new (self, index, n_rows);
      page->last_used = old_page->last_used;
      for (guint k = 0; k < n_rows; k++)
        {
          guint pos = index * ps + k;
          FdConversationSummary *summary = NULL;

          if (pos < start)
            summary = old_summary (old_pages, ps, pos);
          else if (pos >= start + added)
            summary = old_summary (old_pages, ps, pos - added + removed);

          /* Never hand one object out at two positions. */
          if (summary != NULL && summary->loaded && summary->data.id != new_id (read, ps, pos))
            summary = NULL;

          g_ptr_array_add (page->items,
                           summary != NULL ? g_object_ref (summary) : summary_new_placeholder ());
        }
      g_hash_table_replace (self->pages, GUINT_TO_POINTER (index), page);

      if (rows != NULL)
        complete &= fill_page (self, page, rows);
      else
        start_page_load (self, page);
    }

  emit_items_changed (self, start, removed, added);

  if (complete)
    self->auto_reloaded = FALSE;
  else
    reload_once (self);
}

static void
reload_loaded_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(JobContext) context = user_data;
  g_autoptr(FdConversationList) self = g_weak_ref_get (&context->self);
  ReadResult *read;
  g_autoptr(GError) error = NULL;

  read = fd_store_run_finish (FD_STORE (object), result, &error);

  if (self == NULL || context->generation != self->generation)
    {
      g_clear_pointer (&read, read_result_free);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->count_cancellable);
  self->reloading = FALSE;

  if (error != NULL)
    {
      GHashTableIter iter;
      Page *page;

      /* Keep what is shown; pages asked for meanwhile are read now. */
      set_error (self, error);
      g_hash_table_iter_init (&iter, self->pages);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &page))
        if (page->state == PAGE_WAITING)
          start_page_load (self, page);
      return;
    }

  set_error (self, NULL);
  g_clear_pointer (&self->mode, mode_unref);
  apply_reload (self, read);
  read_result_free (read);
}

void
fd_conversation_list_reload (FdConversationList *self)
{
  ReadJob *job;
  GHashTableIter iter;
  gpointer key;
  guint last = 0;

  g_return_if_fail (FD_IS_CONVERSATION_LIST (self));

  /* Nothing shown yet: count again, at the current moment. */
  if (self->next_mode != NULL)
    {
      g_autoptr(Mode) mode = mode_renew (self->next_mode);

      start_count (self, mode);
      return;
    }
  if (self->mode == NULL)
    return;

  cancel_all (self);
  self->reloading = TRUE;

  job = g_new0 (ReadJob, 1);
  job->mode = mode_renew (self->mode);
  job->page_size = self->page_size;
  job->pages = g_array_new (FALSE, FALSE, sizeof (guint));

  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint index = GPOINTER_TO_UINT (key);

      g_array_append_val (job->pages, index);
      last = MAX (last, index);
    }

  /* A search reads every match up to the end of the pages it had, and one more to know
   * whether there are more. */
  job->search_limit = MAX ((self->n_items + self->page_size - 1) / self->page_size, last + 1) *
                      self->page_size + 1;

  self->count_cancellable = g_cancellable_new ();
  fd_store_run_async (self->store, count_and_read_job, job, read_job_free, read_result_free,
                      self->count_cancellable, reload_loaded_cb,
                      job_context_new (self, 0, 0));
}

/* }}} */

static GType
fd_conversation_list_get_item_type (GListModel *model)
{
  return FD_TYPE_CONVERSATION_SUMMARY;
}

static guint
fd_conversation_list_get_n_items (GListModel *model)
{
  return FD_CONVERSATION_LIST (model)->n_items;
}

static gpointer
fd_conversation_list_get_item (GListModel *model,
                               guint       position)
{
  FdConversationList *self = FD_CONVERSATION_LIST (model);
  guint index;
  Page *page;

  if (position >= self->n_items)
    return NULL;

  index = position / self->page_size;
  page = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (index));

  if (page == NULL)
    {
      /* Old contents about to be replaced by a new count: nothing to read for them. */
      if (self->next_mode != NULL || self->mode == NULL)
        return summary_new_placeholder ();

      page = page_new (self, index, page_rows (self, index));
      for (guint i = 0; i < page_rows (self, index); i++)
        g_ptr_array_add (page->items, summary_new_placeholder ());
      g_hash_table_replace (self->pages, GUINT_TO_POINTER (index), page);

      if (self->reloading)
        page->state = PAGE_WAITING;
      else
        start_page_load (self, page);

      evict_pages (self, page);
    }

  page->last_used = ++self->use_clock;
  maybe_grow (self, index);

  return g_object_ref (g_ptr_array_index (page->items, position - index * self->page_size));
}

static void
fd_conversation_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = fd_conversation_list_get_item_type;
  iface->get_n_items = fd_conversation_list_get_n_items;
  iface->get_item = fd_conversation_list_get_item;
}

static void
fd_conversation_list_dispose (GObject *object)
{
  FdConversationList *self = FD_CONVERSATION_LIST (object);

  cancel_all (self);
  g_hash_table_remove_all (self->pages);

  G_OBJECT_CLASS (fd_conversation_list_parent_class)->dispose (object);
}

static void
fd_conversation_list_finalize (GObject *object)
{
  FdConversationList *self = FD_CONVERSATION_LIST (object);

  g_clear_pointer (&self->pages, g_hash_table_unref);
  g_clear_pointer (&self->mode, mode_unref);
  g_clear_pointer (&self->next_mode, mode_unref);
  g_clear_object (&self->store);
  g_free (self->error);

  G_OBJECT_CLASS (fd_conversation_list_parent_class)->finalize (object);
}

static void
fd_conversation_list_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  FdConversationList *self = FD_CONVERSATION_LIST (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;

    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;

    case PROP_N_ITEMS:
      g_value_set_uint (value, self->n_items);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_conversation_list_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  FdConversationList *self = FD_CONVERSATION_LIST (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_conversation_list_class_init (FdConversationListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fd_conversation_list_dispose;
  object_class->finalize = fd_conversation_list_finalize;
  object_class->get_property = fd_conversation_list_get_property;
  object_class->set_property = fd_conversation_list_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         FD_TYPE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fd_conversation_list_init (FdConversationList *self)
{
  self->pages = g_hash_table_new_full (NULL, NULL, NULL, page_free);
  self->page_size = DEFAULT_PAGE_SIZE;
  self->max_pages = DEFAULT_MAX_PAGES;
  self->view = FD_INBOX_VIEW_ALL_OPEN;
  self->sort = FD_INBOX_SORT_SLA_DUE;
}

FdConversationList *
fd_conversation_list_new (FdStore *store)
{
  g_return_val_if_fail (FD_IS_STORE (store), NULL);

  return g_object_new (FD_TYPE_CONVERSATION_LIST, "store", store, NULL);
}

FdStore *
fd_conversation_list_get_store (FdConversationList *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_LIST (self), NULL);

  return self->store;
}

void
fd_conversation_list_set_view (FdConversationList *self,
                               FdInboxViewId       view)
{
  g_autoptr(Mode) mode = NULL;

  g_return_if_fail (FD_IS_CONVERSATION_LIST (self));
  g_return_if_fail (view < FD_INBOX_N_VIEWS);

  self->view = view;
  mode = mode_new (view, self->sort, NULL, NULL, FD_SEARCH_ORDER_NEWEST);
  start_count (self, mode);
}

gboolean
fd_conversation_list_set_search (FdConversationList  *self,
                                 const char          *query,
                                 FdSearchOrder        order,
                                 GError             **error)
{
  g_autoptr(Mode) mode = NULL;
  FdSearchQuery *parsed;

  g_return_val_if_fail (FD_IS_CONVERSATION_LIST (self), FALSE);
  g_return_val_if_fail (query != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  parsed = fd_search_query_parse (query, error);
  if (parsed == NULL)
    return FALSE;

  mode = mode_new (self->view, self->sort, query, parsed, order);
  start_count (self, mode);

  return TRUE;
}

void
fd_conversation_list_set_sort (FdConversationList *self,
                               FdInboxSort         sort)
{
  const Mode *shown;
  g_autoptr(Mode) mode = NULL;

  g_return_if_fail (FD_IS_CONVERSATION_LIST (self));
  g_return_if_fail (sort <= FD_INBOX_SORT_PRIORITY);

  if (self->sort == sort)
    return;

  self->sort = sort;

  /* A search keeps its own order; the sort applies when a view comes back. */
  shown = self->next_mode != NULL ? self->next_mode : self->mode;
  if (shown == NULL || shown->search)
    return;

  mode = mode_new (shown->view, sort, NULL, NULL, FD_SEARCH_ORDER_NEWEST);
  start_count (self, mode);
}

FdInboxSort
fd_conversation_list_get_sort (FdConversationList *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_LIST (self), FD_INBOX_SORT_SLA_DUE);

  return self->sort;
}

gboolean
fd_conversation_list_get_loading (FdConversationList *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_LIST (self), FALSE);

  return self->loading;
}

const char *
fd_conversation_list_get_error (FdConversationList *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_LIST (self), NULL);

  return self->error;
}

guint
fd_conversation_list_find (FdConversationList *self,
                           gint64              conversation_id)
{
  GHashTableIter iter;
  Page *page;
  guint found = G_MAXUINT;

  g_return_val_if_fail (FD_IS_CONVERSATION_LIST (self), G_MAXUINT);

  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &page))
    for (guint i = 0; i < page->items->len; i++)
      {
        FdConversationSummary *summary = g_ptr_array_index (page->items, i);

        if (summary->loaded && summary->data.id == conversation_id)
          found = MIN (found, page->index * self->page_size + i);
      }

  return found;
}

void
_fd_conversation_list_set_page_size (FdConversationList *self,
                                     guint               page_size,
                                     guint               max_pages)
{
  g_return_if_fail (FD_IS_CONVERSATION_LIST (self));
  g_return_if_fail (page_size > 0);
  g_return_if_fail (max_pages > 0);
  g_return_if_fail (self->mode == NULL && self->next_mode == NULL);

  self->page_size = page_size;
  self->max_pages = max_pages;
}

guint
_fd_conversation_list_get_n_loaded_pages (FdConversationList *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_LIST (self), 0);

  return g_hash_table_size (self->pages);
}

/* }}} */
