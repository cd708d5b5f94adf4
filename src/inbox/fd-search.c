/* fd-search.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-search"

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>

#include "fd-search.h"
#include "fd-store.h"

G_DEFINE_QUARK (fd-search-error-quark, fd_search_error)

/* Two ways to find the conversations that match words: read every match in one
 * statement (a few microseconds per matching message or subject: each needs its
 * conversation looked up), or walk the filtered conversations newest first and check
 * each one against the matching message ids read beforehand (a fraction of a
 * microsecond per match) or, for very common words, by probing FTS5. The rarer the
 * words, the more conversations a walk checks before a page is full. Checking one
 * conversation costs about this many times reading one match. */
#define PROBE_COST_RATIO 3.0
/* The walk gives up, and every match is read instead, after probing this many times
 * the conversations it expected to need: the words are rarer among the filtered
 * conversations than among all. */
#define PROBE_BUDGET_FACTOR 4
/* Below this many matching messages, the walk reads their ids first and probes none. */
#define MATCH_READ_LIMIT 60000
/* Below this many matching subjects, the walk reads them all first. */
#define SUBJECT_READ_LIMIT 20000
/* A subject match weighs this many times a message match in best order. */
#define SUBJECT_WEIGHT 2.0
/* Words around a match in a snippet. */
#define SNIPPET_TOKENS 16
/* Binding numbers of filter values start here; ?1… are the statements' own. */
#define FIRST_FILTER_PARAM 10
/* A prefix that starts at most this many different words is searched as those words. */
#define MAX_EXPANSION 48
/* bm25's constants, as FTS5 has them. */
#define BM25_K1 1.2
#define BM25_B 0.75

/* {{{ The parsed query */

typedef struct
{
  char     *text;      /* as typed, without quotes or the star */
  gboolean  prefix;
  gboolean  negated;
} Term;

typedef enum
{
  FILTER_FROM,
  FILTER_ORG,
  FILTER_TAG,
  FILTER_CHANNEL,
  FILTER_STATUS,
  FILTER_ASSIGNEE,
  FILTER_ASSIGNEE_ME,
  FILTER_UNASSIGNED,
  FILTER_ASSIGNED,
  FILTER_ENTERPRISE,
  FILTER_BEFORE,
  FILTER_AFTER,
} FilterKind;

typedef struct
{
  FilterKind  kind;
  char       *value;     /* lower case for status and channel */
  gboolean    negated;
  /* Dates: a day, or days relative to today (today, yesterday), resolved when the
   * search runs so a saved query stays right after midnight. */
  gboolean    relative;
  int         days;
  int         year, month, day;
} Filter;

struct _FdSearchQuery
{
  GPtrArray *terms;      /* Term */
  GPtrArray *filters;    /* Filter */
  char      *fts;        /* the positive terms as an FTS5 expression, or NULL */
  char      *neg_fts;    /* the negated terms, any of them, or NULL */
  GStrv      highlight;
  gboolean   has_prefix;
};

static const char * const statuses[] = { "open", "pending", "snoozed", "resolved" };
static const char * const channels[] = { "email", "chat", "slack", "community" };

static void
term_free (gpointer data)
{
  Term *term = data;

  g_free (term->text);
  g_free (term);
}

static void
filter_free (gpointer data)
{
  Filter *filter = data;

  g_free (filter->value);
  g_free (filter);
}

void
fd_search_query_free (FdSearchQuery *query)
{
  if (query == NULL)
    return;

  g_ptr_array_unref (query->terms);
  g_ptr_array_unref (query->filters);
  g_free (query->fts);
  g_free (query->neg_fts);
  g_strfreev (query->highlight);
  g_free (query);
}

gboolean
fd_search_query_has_text (const FdSearchQuery *query)
{
  g_return_val_if_fail (query != NULL, FALSE);

  return query->fts != NULL;
}

const char * const *
fd_search_query_get_terms (const FdSearchQuery *query)
{
  g_return_val_if_fail (query != NULL, NULL);

  return (const char * const *) query->highlight;
}

const char *
fd_search_query_get_fts (const FdSearchQuery *query)
{
  g_return_val_if_fail (query != NULL, NULL);

  return query->fts;
}

static int
index_of (const char * const *names,
          guint               n_names,
          const char         *value)
{
  for (guint i = 0; i < n_names; i++)
    if (g_str_equal (names[i], value))
      return (int) i;
  return -1;
}

/* }}} */
/* {{{ Parsing */

static gboolean
is_space_at (const char *p)
{
  return *p != '\0' && g_unichar_isspace (g_utf8_get_char (p));
}

static const char *
skip_space (const char *p)
{
  while (is_space_at (p))
    p = g_utf8_next_char (p);
  return p;
}

/* Letters and digits, as FTS5's unicode61 tokenizer counts them. */
static guint
count_alnum (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_isalnum (g_utf8_get_char (p)))
      n++;
  return n;
}

/* A short piece of what the user typed, for messages. */
static char *
excerpt (const char *text)
{
  g_autofree char *copy = NULL;
  const char *end = text;
  guint n = 0;

  while (*end != '\0' && n < 24)
    {
      end = g_utf8_next_char (end);
      n++;
    }
  copy = g_strndup (text, end - text);
  g_strstrip (copy);
  if (*end != '\0')
    return g_strconcat (copy, "…", NULL);
  return g_steal_pointer (&copy);
}

/* @p points at an opening quote; reads up to the closing one. */
static gboolean
read_quoted (const char  **p,
             char        **out,
             GError      **error)
{
  const char *start = *p + 1;
  const char *end = strchr (start, '"');

  if (end == NULL)
    {
      g_autofree char *after = excerpt (start);

      if (*after == '\0')
        g_set_error_literal (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_UNBALANCED,
                             _("The quote at the end of the search is never closed. Remove "
                               "it, or put words between two quotes to search for a "
                               "phrase."));
      else
        g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_UNBALANCED,
                     _("The quote before “%s” is never closed. Add a closing quote (\") "
                       "after the phrase, or remove the quote."),
                     after);
      return FALSE;
    }

  *out = g_strndup (start, end - start);
  *p = end + 1;
  return TRUE;
}

static gboolean
add_term (FdSearchQuery  *query,
          char           *text,
          gboolean        prefix,
          gboolean        negated,
          GError        **error)
{
  Term *term;

  if (count_alnum (text) == 0)
    {
      /* Punctuation only: FTS5 would find no word in it. */
      g_free (text);
      return TRUE;
    }

  if (prefix && count_alnum (text) < 2)
    {
      g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_BAD_VALUE,
                   _("“%s*” is too short to search for words starting with it. Type at "
                     "least two letters or digits before the *."),
                   text);
      g_free (text);
      return FALSE;
    }

  term = g_new0 (Term, 1);
  term->text = text;
  term->prefix = prefix;
  term->negated = negated;
  g_ptr_array_add (query->terms, term);
  return TRUE;
}

static gboolean
parse_date (const char  *value,
            Filter      *filter)
{
  const char *p = value;
  guint64 parts[3];

  if (g_str_equal (value, "today") || g_str_equal (value, "yesterday"))
    {
      filter->relative = TRUE;
      filter->days = g_str_equal (value, "today") ? 0 : -1;
      return TRUE;
    }

  for (guint i = 0; i < 3; i++)
    {
      const char *start = p;
      guint max_digits = i == 0 ? 4 : 2;

      while (g_ascii_isdigit (*p) && (guint) (p - start) < max_digits)
        p++;
      if (p == start || (i == 0 && p - start != 4))
        return FALSE;
      parts[i] = g_ascii_strtoull (start, NULL, 10);
      if (i < 2 && *p++ != '-')
        return FALSE;
    }
  if (*p != '\0')
    return FALSE;
  if (parts[1] < 1 || parts[1] > 12 || parts[2] < 1 || parts[2] > 31 ||
      !g_date_valid_dmy ((GDateDay) parts[2], (GDateMonth) parts[1], (GDateYear) parts[0]))
    return FALSE;

  filter->year = (int) parts[0];
  filter->month = (int) parts[1];
  filter->day = (int) parts[2];
  return TRUE;
}

static gboolean
add_filter (FdSearchQuery  *query,
            const char     *field,
            const char     *raw_value,
            gboolean        negated,
            GError        **error)
{
  static const char * const fields[] = {
    "from", "org", "tag", "channel", "status", "assignee", "is", "before", "after",
  };
  g_autofree char *value = NULL;
  g_autofree char *lower = NULL;
  Filter *filter;

  if (index_of (fields, G_N_ELEMENTS (fields), field) < 0)
    {
      g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_UNKNOWN_FIELD,
                   _("“%s:” is not something you can search by. Use one of from:, org:, "
                     "tag:, channel:, status:, assignee:, is:, before: or after:, or put "
                     "the text in quotes to search for it as it is."),
                   field);
      return FALSE;
    }

  value = g_strstrip (g_strdup (raw_value));
  if (*value == '\0')
    {
      const char *example =
        g_str_equal (field, "status") ? "status:open" :
        g_str_equal (field, "channel") ? "channel:email" :
        g_str_equal (field, "is") ? "is:unassigned" :
        g_str_equal (field, "before") ? "before:2026-01-31" :
        g_str_equal (field, "after") ? "after:2026-01-01" :
        g_str_equal (field, "assignee") ? "assignee:me" :
        g_str_equal (field, "org") ? "org:\"Acme Corp\"" :
        g_str_equal (field, "tag") ? "tag:billing" : "from:alex@example.com";

      g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_BAD_VALUE,
                   _("“%s:” needs a value right after the colon, for example %s."),
                   field, example);
      return FALSE;
    }

  lower = g_utf8_strdown (value, -1);
  filter = g_new0 (Filter, 1);
  filter->negated = negated;

  if (g_str_equal (field, "status"))
    {
      if (index_of (statuses, G_N_ELEMENTS (statuses), lower) < 0)
        {
          g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_BAD_VALUE,
                       _("“%s” is not a status. Use status:open, status:pending, "
                         "status:snoozed or status:resolved."),
                       value);
          goto fail;
        }
      filter->kind = FILTER_STATUS;
      filter->value = g_steal_pointer (&lower);
    }
  else if (g_str_equal (field, "channel"))
    {
      if (index_of (channels, G_N_ELEMENTS (channels), lower) < 0)
        {
          g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_BAD_VALUE,
                       _("“%s” is not a channel. Use channel:email, channel:chat, "
                         "channel:slack or channel:community."),
                       value);
          goto fail;
        }
      filter->kind = FILTER_CHANNEL;
      filter->value = g_steal_pointer (&lower);
    }
  else if (g_str_equal (field, "is"))
    {
      if (index_of (statuses, G_N_ELEMENTS (statuses), lower) >= 0)
        {
          filter->kind = FILTER_STATUS;
          filter->value = g_steal_pointer (&lower);
        }
      else if (g_str_equal (lower, "unassigned"))
        filter->kind = FILTER_UNASSIGNED;
      else if (g_str_equal (lower, "assigned"))
        filter->kind = FILTER_ASSIGNED;
      else if (g_str_equal (lower, "mine"))
        filter->kind = FILTER_ASSIGNEE_ME;
      else if (g_str_equal (lower, "enterprise"))
        filter->kind = FILTER_ENTERPRISE;
      else
        {
          g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_BAD_VALUE,
                       _("“is:%s” is not something a conversation can be. Use is:unassigned, "
                         "is:assigned, is:mine, is:open, is:pending, is:snoozed, "
                         "is:resolved or is:enterprise."),
                       value);
          goto fail;
        }
    }
  else if (g_str_equal (field, "before") || g_str_equal (field, "after"))
    {
      filter->kind = g_str_equal (field, "before") ? FILTER_BEFORE : FILTER_AFTER;
      if (!parse_date (lower, filter))
        {
          g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_BAD_VALUE,
                       _("“%s” is not a date. Write dates as year-month-day, for example "
                         "%s:2026-01-31, or use today or yesterday."),
                       value, field);
          goto fail;
        }
    }
  else if (g_str_equal (field, "assignee"))
    {
      if (g_str_equal (lower, "me"))
        filter->kind = FILTER_ASSIGNEE_ME;
      else if (g_str_equal (lower, "none") || g_str_equal (lower, "nobody"))
        filter->kind = FILTER_UNASSIGNED;
      else
        {
          filter->kind = FILTER_ASSIGNEE;
          filter->value = g_steal_pointer (&value);
        }
    }
  else
    {
      filter->kind = g_str_equal (field, "from") ? FILTER_FROM :
                     g_str_equal (field, "org") ? FILTER_ORG : FILTER_TAG;
      filter->value = g_steal_pointer (&value);
    }

  g_ptr_array_add (query->filters, filter);
  return TRUE;

fail:
  filter_free (filter);
  return FALSE;
}

/* A term as an FTS5 string: always quoted (quotes inside doubled), so no input can be
 * FTS5 syntax. */
static void
append_fts_term (GString    *fts,
                 const Term *term)
{
  g_string_append_c (fts, '"');
  for (const char *p = term->text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (fts, '"');
      g_string_append_c (fts, *p);
    }
  g_string_append_c (fts, '"');
  if (term->prefix)
    g_string_append_c (fts, '*');
}

FdSearchQuery *
fd_search_query_parse (const char  *text,
                       GError     **error)
{
  g_autoptr(FdSearchQuery) query = NULL;
  g_autoptr(GString) fts = NULL;
  g_autoptr(GString) neg_fts = NULL;
  g_autoptr(GStrvBuilder) highlight = NULL;
  g_autofree char *valid = NULL;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  valid = g_utf8_make_valid (text, -1);
  if (g_utf8_strlen (valid, -1) > FD_SEARCH_MAX_CHARS)
    {
      g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_TOO_LONG,
                   _("The search is too long. Shorten it to at most %d characters."),
                   FD_SEARCH_MAX_CHARS);
      return NULL;
    }

  query = g_new0 (FdSearchQuery, 1);
  query->terms = g_ptr_array_new_with_free_func (term_free);
  query->filters = g_ptr_array_new_with_free_func (filter_free);

  p = valid;
  while (TRUE)
    {
      gboolean negated = FALSE;
      const char *name_end;

      p = skip_space (p);
      if (*p == '\0')
        break;

      if (*p == '-')
        {
          /* A dash on its own excludes nothing. */
          if (p[1] == '\0' || is_space_at (p + 1))
            {
              p++;
              continue;
            }
          negated = TRUE;
          p++;
        }

      if (*p == '"')
        {
          char *phrase = NULL;
          gboolean prefix;

          if (!read_quoted (&p, &phrase, error))
            return NULL;
          prefix = *p == '*';
          while (*p == '*')
            p++;
          if (!add_term (query, phrase, prefix, negated, error))
            return NULL;
          continue;
        }

      name_end = p;
      while (g_ascii_isalpha (*name_end))
        name_end++;

      /* "name:value", except a web address. */
      if (name_end > p && *name_end == ':' && name_end[1] != '/')
        {
          g_autofree char *field = g_ascii_strdown (p, name_end - p);
          g_autofree char *value = NULL;

          p = name_end + 1;
          if (*p == '"')
            {
              if (!read_quoted (&p, &value, error))
                return NULL;
            }
          else
            {
              const char *start = p;

              while (*p != '\0' && *p != '"' && !is_space_at (p))
                p = g_utf8_next_char (p);
              value = g_strndup (start, p - start);
            }

          if (!add_filter (query, field, value, negated, error))
            return NULL;
          continue;
        }

      /* A word: up to a space or a quote, a trailing * making it a prefix. */
      {
        const char *start = p;
        const char *end;
        gboolean prefix = FALSE;

        while (*p != '\0' && *p != '"' && !is_space_at (p))
          p = g_utf8_next_char (p);
        end = p;
        while (end > start && end[-1] == '*')
          {
            end--;
            prefix = TRUE;
          }
        if (!add_term (query, g_strndup (start, end - start), prefix, negated, error))
          return NULL;
      }
    }

  if (query->terms->len + query->filters->len > FD_SEARCH_MAX_PARTS)
    {
      g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_TOO_LONG,
                   _("The search has too many words and filters. Use at most %d."),
                   FD_SEARCH_MAX_PARTS);
      return NULL;
    }

  if (query->terms->len == 0 && query->filters->len == 0)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (valid));

      if (*stripped == '\0')
        g_set_error_literal (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_EMPTY,
                             _("Type a word to search for, or a filter such as "
                               "status:open."));
      else
        {
          g_autofree char *shown = excerpt (stripped);

          g_set_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_EMPTY,
                       _("There is nothing to search for in “%s”. Type a word with letters "
                         "or digits, or a filter such as status:open."),
                       shown);
        }
      return NULL;
    }

  fts = g_string_new (NULL);
  neg_fts = g_string_new (NULL);
  highlight = g_strv_builder_new ();
  for (guint i = 0; i < query->terms->len; i++)
    {
      const Term *term = g_ptr_array_index (query->terms, i);
      GString *target = term->negated ? neg_fts : fts;

      if (target->len > 0)
        g_string_append (target, term->negated ? " OR " : " ");
      append_fts_term (target, term);

      if (!term->negated)
        {
          g_strv_builder_add (highlight, term->text);
          query->has_prefix |= term->prefix;
        }
    }
  if (fts->len > 0)
    query->fts = g_string_free (g_steal_pointer (&fts), FALSE);
  if (neg_fts->len > 0)
    query->neg_fts = g_string_free (g_steal_pointer (&neg_fts), FALSE);
  query->highlight = g_strv_builder_end (highlight);

  return g_steal_pointer (&query);
}

/* }}} */
/* {{{ Filters as SQL */

typedef struct
{
  int       index;
  gboolean  is_text;
  gint64    number;
  char     *text;
} Bind;

static void
bind_free (gpointer data)
{
  Bind *bind = data;

  g_free (bind->text);
  g_free (bind);
}

typedef struct
{
  /* A condition on "c" (conversations), "1" when there is none. It includes the
   * channel but not the status: statuses are listed apart so walks can follow the
   * (status, last_message_at) index. */
  GString   *where;
  GPtrArray *binds;
  guint      status_mask;   /* bit i: statuses[i] is allowed */
  /* An organisation or contact is asked for: few conversations, best found through
   * their own index rather than by walking a status. */
  gboolean   selective;
} FilterSql;

static void
filter_sql_clear (FilterSql *sql)
{
  if (sql->where != NULL)
    g_string_free (sql->where, TRUE);
  g_clear_pointer (&sql->binds, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FilterSql, filter_sql_clear)

static int
add_bind_text (FilterSql  *sql,
               char       *text)
{
  Bind *bind = g_new0 (Bind, 1);

  bind->index = FIRST_FILTER_PARAM + (int) sql->binds->len;
  bind->is_text = TRUE;
  bind->text = text;
  g_ptr_array_add (sql->binds, bind);
  return bind->index;
}

static int
add_bind_int (FilterSql *sql,
              gint64     number)
{
  Bind *bind = g_new0 (Bind, 1);

  bind->index = FIRST_FILTER_PARAM + (int) sql->binds->len;
  bind->number = number;
  g_ptr_array_add (sql->binds, bind);
  return bind->index;
}

/* "%value%" for LIKE, with the wildcards inside escaped by a backslash. */
static char *
like_pattern (const char *value)
{
  GString *pattern = g_string_new ("%");

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '%' || *p == '_' || *p == '\\')
        g_string_append_c (pattern, '\\');
      g_string_append_c (pattern, *p);
    }
  g_string_append_c (pattern, '%');
  return g_string_free (pattern, FALSE);
}

static gint64
filter_day_start (const Filter *filter)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_local ();
  g_autoptr(GDateTime) day = NULL;
  int year = filter->year, month = filter->month, mday = filter->day;

  if (filter->relative)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now (tz);
      g_autoptr(GDateTime) then = g_date_time_add_days (now, filter->days);

      g_date_time_get_ymd (then, &year, &month, &mday);
    }

  /* In a zone whose clocks skip midnight that day, GLib moves to the first valid time. */
  day = g_date_time_new (tz, year, month, mday, 0, 0, 0);
  if (day == NULL)
    return 0;

  return g_date_time_to_unix (day) * 1000;
}

static gboolean
agents_match (sqlite3     *db,
              const char  *pattern,
              gboolean    *found,
              GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT 1 FROM agents WHERE name LIKE ?1 ESCAPE '\\'"
                           " OR email LIKE ?1 ESCAPE '\\' LIMIT 1",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, pattern, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);
  *found = rc == SQLITE_ROW;
  return TRUE;
}

static gboolean
build_filter_sql (sqlite3             *db,
                  const FdSearchQuery *query,
                  gint64               me_agent_id,
                  FilterSql           *sql,
                  GError             **error)
{
  guint status_yes = 0, status_no = 0, channel_yes = 0, channel_no = 0;

  sql->where = g_string_new ("1");
  sql->binds = g_ptr_array_new_with_free_func (bind_free);

  for (guint i = 0; i < query->filters->len; i++)
    {
      const Filter *filter = g_ptr_array_index (query->filters, i);
      g_autoptr(GString) cond = g_string_new (NULL);
      int n;

      switch (filter->kind)
        {
        case FILTER_STATUS:
          n = index_of (statuses, G_N_ELEMENTS (statuses), filter->value);
          if (filter->negated)
            status_no |= 1u << n;
          else
            status_yes |= 1u << n;
          continue;

        case FILTER_CHANNEL:
          n = index_of (channels, G_N_ELEMENTS (channels), filter->value);
          if (filter->negated)
            channel_no |= 1u << n;
          else
            channel_yes |= 1u << n;
          continue;

        case FILTER_FROM:
          sql->selective |= !filter->negated;
          {
            char *pattern = like_pattern (filter->value);
            gboolean agents = FALSE;

            if (!agents_match (db, pattern, &agents, error))
              {
                g_free (pattern);
                return FALSE;
              }
            n = add_bind_text (sql, pattern);
            g_string_append_printf (cond,
                                    "c.contact_id IN (SELECT id FROM contacts"
                                    " WHERE name LIKE ?%d ESCAPE '\\'"
                                    " OR email LIKE ?%d ESCAPE '\\')", n, n);
            /* Messages are not indexed by author: look at them only when an agent
             * has that name. */
            if (agents)
              g_string_append_printf (cond,
                                      " OR c.id IN (SELECT conversation_id FROM messages"
                                      " WHERE author_kind = 'agent' AND author_id IN"
                                      " (SELECT id FROM agents WHERE name LIKE ?%d"
                                      " ESCAPE '\\' OR email LIKE ?%d ESCAPE '\\'))", n, n);
          }
          break;

        case FILTER_ORG:
          sql->selective |= !filter->negated;
          n = add_bind_text (sql, like_pattern (filter->value));
          g_string_append_printf (cond,
                                  "c.organisation_id IN (SELECT id FROM organisations"
                                  " WHERE name LIKE ?%d ESCAPE '\\'"
                                  " UNION SELECT organisation_id FROM organisation_domains"
                                  " WHERE domain LIKE ?%d ESCAPE '\\')", n, n);
          break;

        case FILTER_TAG:
          n = add_bind_text (sql, g_strdup (filter->value));
          g_string_append_printf (cond,
                                  "EXISTS (SELECT 1 FROM conversation_tags ct"
                                  " WHERE ct.conversation_id = c.id AND ct.tag_id IN"
                                  " (SELECT id FROM tags WHERE name = ?%d))", n);
          break;

        case FILTER_ASSIGNEE:
          n = add_bind_text (sql, like_pattern (filter->value));
          g_string_append_printf (cond,
                                  "c.assignee_id IN (SELECT id FROM agents"
                                  " WHERE name LIKE ?%d ESCAPE '\\'"
                                  " OR email LIKE ?%d ESCAPE '\\')", n, n);
          break;

        case FILTER_ASSIGNEE_ME:
          /* Without a known agent, "me" is nobody. */
          n = add_bind_int (sql, me_agent_id > 0 ? me_agent_id : -1);
          g_string_append_printf (cond, "c.assignee_id = ?%d", n);
          break;

        case FILTER_UNASSIGNED:
          g_string_append (cond, "c.assignee_id IS NULL");
          break;

        case FILTER_ASSIGNED:
          g_string_append (cond, "c.assignee_id IS NOT NULL");
          break;

        case FILTER_ENTERPRISE:
          g_string_append (cond, "c.organisation_id IN (SELECT id FROM organisations"
                                 " WHERE is_enterprise)");
          break;

        case FILTER_BEFORE:
          n = add_bind_int (sql, filter_day_start (filter));
          g_string_append_printf (cond, "c.created_at < ?%d", n);
          break;

        case FILTER_AFTER:
          n = add_bind_int (sql, filter_day_start (filter));
          g_string_append_printf (cond, "c.created_at >= ?%d", n);
          break;

        default:
          g_assert_not_reached ();
        }

      /* NULL (no organisation, nobody assigned) is "not that one". */
      if (filter->negated)
        g_string_append_printf (sql->where, " AND NOT ifnull((%s), 0)", cond->str);
      else
        g_string_append_printf (sql->where, " AND (%s)", cond->str);
    }

  sql->status_mask = (status_yes != 0 ? status_yes : 0xf) & ~status_no;

  if (channel_yes != 0 || channel_no != 0)
    {
      guint mask = (channel_yes != 0 ? channel_yes : 0xf) & ~channel_no;
      gboolean first = TRUE;

      g_string_append (sql->where, " AND c.channel IN (");
      for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
        if (mask & (1u << i))
          {
            g_string_append_printf (sql->where, "%s'%s'", first ? "" : ", ", channels[i]);
            first = FALSE;
          }
      if (first)
        g_string_append (sql->where, "NULL");
      g_string_append (sql->where, ")");
    }

  /* Leaving out words means leaving out every conversation that has them anywhere. */
  if (query->neg_fts != NULL)
    {
      int n = add_bind_text (sql, g_strdup (query->neg_fts));
      g_string_append_printf (sql->where,
                              " AND c.id NOT IN (SELECT rowid FROM conversations_fts"
                              " WHERE conversations_fts MATCH ?%d)"
                              " AND c.id NOT IN (SELECT m.conversation_id"
                              " FROM messages_fts f CROSS JOIN messages m ON m.id = f.rowid"
                              " WHERE f.messages_fts MATCH ?%d)", n, n);
    }

  return TRUE;
}

static void
append_status_list (GString *sql,
                    guint    mask)
{
  gboolean first = TRUE;

  g_string_append (sql, "c.status IN (");
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    if (mask & (1u << i))
      {
        g_string_append_printf (sql, "%s'%s'", first ? "" : ", ", statuses[i]);
        first = FALSE;
      }
  g_string_append (sql, ")");
}

static void
bind_filters (sqlite3_stmt    *stmt,
              const FilterSql *sql)
{
  for (guint i = 0; i < sql->binds->len; i++)
    {
      const Bind *bind = g_ptr_array_index (sql->binds, i);

      if (bind->is_text)
        sqlite3_bind_text (stmt, bind->index, bind->text, -1, SQLITE_STATIC);
      else
        sqlite3_bind_int64 (stmt, bind->index, bind->number);
    }
}

/* }}} */
/* {{{ FTS5 helpers */

/* The score of best order among the most recent matches: bm25 without its inverse
 * document frequency. FTS5's bm25() counts every match of each phrase once per
 * statement to get that frequency, which for a common word costs a whole scan on each
 * probe; inside the window every conversation contains every word anyway. */
static void
window_rank (const Fts5ExtensionApi  *api,
             Fts5Context             *fts,
             sqlite3_context         *ctx,
             int                      n_args,
             sqlite3_value          **args)
{
  double stack_freq[64] = { 0 };
  g_autofree double *heap_freq = NULL;
  double *freq = stack_freq;
  sqlite3_int64 n_rows = 0, total = 0;
  int n_phrases = api->xPhraseCount (fts);
  int n_inst = 0, length = 0;
  double average, score = 0.0;

  if (n_phrases > (int) G_N_ELEMENTS (stack_freq))
    freq = heap_freq = g_new0 (double, n_phrases);

  if (api->xInstCount (fts, &n_inst) != SQLITE_OK ||
      api->xRowCount (fts, &n_rows) != SQLITE_OK ||
      api->xColumnTotalSize (fts, -1, &total) != SQLITE_OK ||
      api->xColumnSize (fts, -1, &length) != SQLITE_OK)
    {
      sqlite3_result_error_code (ctx, SQLITE_ERROR);
      return;
    }

  for (int i = 0; i < n_inst; i++)
    {
      int phrase = -1, column = 0, offset = 0;

      if (api->xInst (fts, i, &phrase, &column, &offset) == SQLITE_OK &&
          phrase >= 0 && phrase < n_phrases)
        freq[phrase] += 1.0;
    }

  average = n_rows > 0 && total > 0 ? (double) total / (double) n_rows : 1.0;
  for (int i = 0; i < n_phrases; i++)
    score += freq[i] * (BM25_K1 + 1.0) /
             (freq[i] + BM25_K1 * (1.0 - BM25_B + BM25_B * length / average));

  sqlite3_result_double (ctx, -score);
}

/* Registers fd_search_rank() with FTS5 on this connection, once. */
static gboolean
ensure_rank_function (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  fts5_api *api = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db, "SELECT fd_search_rank(messages_fts) FROM messages_fts"
                               " WHERE 0", -1, &stmt, NULL);
  sqlite3_finalize (stmt);
  if (rc == SQLITE_OK)
    return TRUE;

  if (sqlite3_prepare_v2 (db, "SELECT fts5(?1)", -1, &stmt, NULL) != SQLITE_OK)
    {
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_bind_pointer (stmt, 1, (void *) &api, "fts5_api_ptr", NULL);
  sqlite3_step (stmt);
  sqlite3_finalize (stmt);

  return api != NULL &&
         api->xCreateFunction (api, "fd_search_rank", NULL, window_rank, NULL) == SQLITE_OK;
}

/* }}} */
/* {{{ Running */

typedef struct
{
  gint64   conversation_id;
  gint64   last_message_at;
  gint64   message_id;       /* the message to take the snippet from, 0: none matched */
  gboolean subject_hit;
  double   rank;
  /* While a walk ranks: the best message's score and the subject's. */
  double   message_rank;
  double   subject_rank;
} Hit;

typedef struct
{
  sqlite3             *db;
  const FdSearchQuery *query;
  FdSearchOrder        order;
  FilterSql            filters;
  char                *fts;         /* the words, prefixes expanded where possible */
  gboolean             has_prefix;  /* a prefix is left for FTS5 to expand */
  /* Matching messages and subjects, exact when below the threshold. */
  gint64               n_messages;
  gint64               n_subjects;
  gint64               threshold;
  int                  forced_plan;  /* 0, or 1 exact, 2 read, 3 probe */
} Run;

/* Statement errors become one plain message; SQLite's text only goes to the debug log. */
static gboolean
run_failed (Run      *run,
            int       rc,
            GError  **error)
{
  g_debug ("Search failed: %s (%d)", sqlite3_errmsg (run->db), rc);

  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error_literal (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_FAILED,
                           _("The search could not read the store because another program "
                             "is using it. Try again in a moment."));
      break;

    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      g_set_error_literal (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_FAILED,
                           _("The search could not read the store because the database is "
                             "damaged."));
      break;

    case SQLITE_NOMEM:
      g_set_error_literal (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_FAILED,
                           _("The search ran out of memory. Close some programs and try "
                             "again."));
      break;

    default:
      g_set_error_literal (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_FAILED,
                           _("The search could not be run on this store. If it was made by "
                             "an older Frontdesk, open it in Frontdesk once to update it; "
                             "otherwise please report a bug."));
      break;
    }
  return FALSE;
}

static sqlite3_stmt *
run_prepare (Run         *run,
             const char  *sql,
             GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (run->db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      g_debug ("Could not prepare: %s", sql);
      sqlite3_finalize (stmt);
      run_failed (run, rc, error);
      return NULL;
    }
  return stmt;
}

/* A prefix of plain letters and digits is searched as the words it starts, read from
 * the index's vocabulary: FTS5 would otherwise merge every such word's list on each
 * probe. Appends nothing for other prefixes; sets @no_match when a prefix starts no
 * word at all. */
static gboolean
expand_prefix (Run         *run,
               const Term  *term,
               GString     *fts,
               gboolean    *no_match,
               GError     **error)
{
  static const char * const vocabularies[] = {
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fd_search_vocab_messages"
    " USING fts5vocab(main, 'messages_fts', 'row')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fd_search_vocab_subjects"
    " USING fts5vocab(main, 'conversations_fts', 'row')",
  };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) words = NULL;
  g_autofree char *stem = g_ascii_strdown (term->text, -1);
  g_autofree char *end = NULL;
  int rc;

  for (const char *p = stem; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p))
      return TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (vocabularies); i++)
    {
      rc = sqlite3_exec (run->db, vocabularies[i], NULL, NULL, NULL);
      if (rc != SQLITE_OK)
        return run_failed (run, rc, error);
    }

  stmt = run_prepare (run,
                      "SELECT term FROM temp.fd_search_vocab_messages"
                      " WHERE term >= ?1 AND term < ?2"
                      " UNION SELECT term FROM temp.fd_search_vocab_subjects"
                      " WHERE term >= ?1 AND term < ?2 LIMIT ?3",
                      error);
  if (stmt == NULL)
    return FALSE;
  /* Every word that starts with the stem sorts below the stem and U+10FFFF. */
  end = g_strconcat (stem, "\xf4\x8f\xbf\xbf", NULL);
  sqlite3_bind_text (stmt, 1, stem, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, end, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, MAX_EXPANSION + 1);

  words = g_ptr_array_new_with_free_func (g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *word = (const char *) sqlite3_column_text (stmt, 0);

      if (word != NULL && g_str_has_prefix (word, stem))
        g_ptr_array_add (words, g_strdup (word));
    }
  if (rc != SQLITE_DONE)
    return run_failed (run, rc, error);

  if (words->len > MAX_EXPANSION)
    {
      /* Too many words: FTS5's own prefix search is faster than a long OR. */
      g_string_append_printf (fts, "\"%s\"*", stem);
      run->has_prefix = TRUE;
      return TRUE;
    }
  if (words->len == 0)
    {
      *no_match = TRUE;
      return TRUE;
    }

  g_string_append_c (fts, '(');
  for (guint i = 0; i < words->len; i++)
    g_string_append_printf (fts, "%s\"%s\"", i > 0 ? " OR " : "",
                            (const char *) g_ptr_array_index (words, i));
  g_string_append_c (fts, ')');
  return TRUE;
}

/* The FTS5 expression the run uses: the query's, with prefixes expanded. */
static gboolean
prepare_fts (Run       *run,
             gboolean  *no_match,
             GError   **error)
{
  g_autoptr(GString) fts = g_string_new (NULL);

  *no_match = FALSE;
  for (guint i = 0; i < run->query->terms->len; i++)
    {
      const Term *term = g_ptr_array_index (run->query->terms, i);
      gsize before;

      if (term->negated)
        continue;
      /* FTS5 only joins phrases by juxtaposition, not parenthesised groups. */
      if (fts->len > 0)
        g_string_append (fts, " AND ");
      before = fts->len;

      if (term->prefix)
        {
          if (!expand_prefix (run, term, fts, no_match, error))
            return FALSE;
          if (*no_match)
            return TRUE;
        }
      if (fts->len == before)
        {
          append_fts_term (fts, term);
          run->has_prefix |= term->prefix;
        }
    }

  run->fts = g_string_free (g_steal_pointer (&fts), FALSE);
  return TRUE;
}

/* An estimate of the number of conversations, without counting them. */
static gboolean
count_conversations (Run      *run,
                     gint64   *count,
                     GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = run_prepare (run, "SELECT ifnull(max(id), 0) FROM conversations",
                                              error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return run_failed (run, rc, error);
  *count = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* How many rows an FTS5 table matches, counting no further than @cap. */
static gboolean
count_matches (Run         *run,
               const char  *table,
               gint64       cap,
               gint64      *count,
               GError     **error)
{
  g_autofree char *sql = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  sql = g_strdup_printf ("SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s MATCH ?1 LIMIT ?2)",
                         table, table);
  stmt = run_prepare (run, sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, run->fts, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, cap);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return run_failed (run, rc, error);
  *count = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* The conversations that pass the filters, latest activity first: one arm per allowed
 * status, merged, so each arm walks the (status, last_message_at) index. */
static char *
walk_sql (const FilterSql *filters)
{
  GString *sql = g_string_new (NULL);
  gboolean first = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      if (!(filters->status_mask & (1u << i)))
        continue;
      if (!first)
        g_string_append (sql, " UNION ALL ");
      g_string_append_printf (sql,
                              "SELECT c.id, c.last_message_at FROM conversations c"
                              " WHERE %sc.status = '%s' AND %s",
                              filters->selective ? "+" : "", statuses[i],
                              filters->where->str);
      first = FALSE;
    }
  g_string_append (sql, " ORDER BY 2 DESC, 1 DESC");
  return g_string_free (sql, FALSE);
}

/* A query without words: the filtered conversations, newest first. */
static gboolean
run_filters_only (Run      *run,
                  guint     offset,
                  guint     limit,
                  GArray   *hits,
                  GError  **error)
{
  g_autofree char *walk = walk_sql (&run->filters);
  g_autofree char *sql = g_strconcat (walk, " LIMIT ?1 OFFSET ?2", NULL);
  g_autoptr(sqlite3_stmt) stmt = run_prepare (run, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  bind_filters (stmt, &run->filters);
  sqlite3_bind_int64 (stmt, 1, limit);
  sqlite3_bind_int64 (stmt, 2, offset);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Hit hit = { 0 };

      hit.conversation_id = sqlite3_column_int64 (stmt, 0);
      hit.last_message_at = sqlite3_column_int64 (stmt, 1);
      g_array_append_val (hits, hit);
    }
  if (rc != SQLITE_DONE)
    return run_failed (run, rc, error);
  return TRUE;
}

/* Every match read in one statement: each matching message gives its conversation, the
 * subjects theirs; grouped per conversation, filtered, sorted. With @ranked each
 * conversation keeps its best message and a score, otherwise its latest matching
 * message. */
typedef enum
{
  RANK_NONE,
  RANK_BM25,     /* FTS5's bm25(), every match read in one statement */
  RANK_WINDOW,   /* fd_search_rank(), as the walk probes it */
} RankKind;

static gboolean
run_all_matches (Run            *run,
                 RankKind        ranked,
                 FdSearchOrder   order,
                 guint           offset,
                 guint           limit,
                 GArray         *hits,
                 GError        **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GString) filter = g_string_new (NULL);
  const char *message_rank, *subject_rank;
  const char *join = "", *subject_join = "";
  int rc;

  /* FTS5 lets a query choose the function behind its rank column; an auxiliary
   * function cannot be called inside an aggregate directly. */
  message_rank = ranked == RANK_WINDOW ? " AND f.rank MATCH 'fd_search_rank()'" : "";
  subject_rank = ranked == RANK_WINDOW ? " AND s.rank MATCH 'fd_search_rank()'" : "";

  /* Messages and subjects often match in the same conversations: group first, then
   * read each conversation once, to filter and sort it. Filters that keep few
   * conversations (an organisation, a contact) are better applied to every match before
   * grouping, so little is grouped. */
  if (run->filters.selective)
    {
      append_status_list (filter, run->filters.status_mask);
      g_string_append_printf (filter, " AND %s", run->filters.where->str);
      join = " CROSS JOIN conversations c ON c.id = m.conversation_id";
      subject_join = " CROSS JOIN conversations c ON c.id = s.rowid";
    }
  else
    g_string_append (filter, "1");

  if (ranked != RANK_NONE)
    g_string_append_printf (sql,
                            "WITH mh AS (SELECT m.conversation_id AS cid, min(f.rank) AS mr,"
                            "  f.rowid AS mid"
                            "  FROM messages_fts f CROSS JOIN messages m ON m.id = f.rowid%s"
                            "  WHERE f.messages_fts MATCH ?1%s AND %s"
                            "  GROUP BY m.conversation_id),"
                            " sh AS (SELECT s.rowid AS cid, s.rank AS sr"
                            "  FROM conversations_fts s%s"
                            "  WHERE s.conversations_fts MATCH ?1%s AND %s),",
                            join, message_rank, filter->str,
                            subject_join, subject_rank, filter->str);
  else
    g_string_append_printf (sql,
                            "WITH mh AS (SELECT m.conversation_id AS cid, NULL AS mr,"
                            "  f.rowid AS mid, max(m.created_at)"
                            "  FROM messages_fts f CROSS JOIN messages m ON m.id = f.rowid%s"
                            "  WHERE f.messages_fts MATCH ?1 AND %s"
                            "  GROUP BY m.conversation_id),"
                            " sh AS (SELECT s.rowid AS cid, 0.0 AS sr FROM conversations_fts s%s"
                            "  WHERE s.conversations_fts MATCH ?1 AND %s),",
                            join, filter->str, subject_join, filter->str);
  g_string_append (sql,
                   " hits AS (SELECT cid, mr, mid, NULL AS sr FROM mh"
                   "  UNION ALL SELECT cid, NULL, NULL, sr FROM sh),"
                   " conv AS (SELECT cid, min(mr) AS mr, max(mid) AS mid, min(sr) AS sr,"
                   "  count(sr) AS shit FROM hits GROUP BY cid)"
                   " SELECT c.id, c.last_message_at, ifnull(h.mid, 0), h.shit,");
  g_string_append_printf (sql, " ifnull(h.mr, 0) + %g * ifnull(h.sr, 0) AS score",
                          SUBJECT_WEIGHT);
  g_string_append (sql, " FROM conv h CROSS JOIN conversations c ON c.id = h.cid WHERE ");
  if (run->filters.selective)
    g_string_append (sql, "1");
  else
    {
      append_status_list (sql, run->filters.status_mask);
      g_string_append_printf (sql, " AND %s", run->filters.where->str);
    }
  if (order == FD_SEARCH_ORDER_BEST)
    g_string_append (sql, " ORDER BY score, c.last_message_at DESC, c.id DESC");
  else
    g_string_append (sql, " ORDER BY c.last_message_at DESC, c.id DESC");
  g_string_append (sql, " LIMIT ?2 OFFSET ?3");

  stmt = run_prepare (run, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, run->fts, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, limit);
  sqlite3_bind_int64 (stmt, 3, offset);
  bind_filters (stmt, &run->filters);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Hit hit = { 0 };

      hit.conversation_id = sqlite3_column_int64 (stmt, 0);
      hit.last_message_at = sqlite3_column_int64 (stmt, 1);
      hit.message_id = sqlite3_column_int64 (stmt, 2);
      hit.subject_hit = sqlite3_column_int (stmt, 3) > 0;
      hit.rank = ranked != RANK_NONE ? sqlite3_column_double (stmt, 4) : 0.0;
      g_array_append_val (hits, hit);
    }
  if (rc != SQLITE_DONE)
    return run_failed (run, rc, error);
  return TRUE;
}

typedef struct
{
  gint64 id;
  gint64 created_at;
} MessageRef;

static int
compare_message_ref (gconstpointer a,
                     gconstpointer b)
{
  gint64 x = ((const MessageRef *) a)->id;
  gint64 y = ((const MessageRef *) b)->id;

  return x < y ? -1 : x > y;
}

static gboolean
sorted_contains (GArray *ids,
                 gint64  id)
{
  guint lo = 0, hi = ids->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      gint64 value = g_array_index (ids, gint64, mid);

      if (value == id)
        return TRUE;
      if (value < id)
        lo = mid + 1;
      else
        hi = mid;
    }
  return FALSE;
}

/* Reads the ids of the matching rows of @table, in order, unless there are more than
 * @cap (then *ids is NULL). */
static gboolean
read_match_ids (Run         *run,
                const char  *table,
                gint64       cap,
                GArray     **ids,
                GError     **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT rowid FROM %s WHERE %s MATCH ?1"
                                          " ORDER BY rowid", table, table);
  g_autoptr(sqlite3_stmt) stmt = run_prepare (run, sql, error);
  g_autoptr(GArray) found = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;

  *ids = NULL;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, run->fts, -1, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      if (cap >= 0 && found->len >= (guint64) cap)
        return TRUE;
      g_array_append_val (found, id);
    }
  if (rc != SQLITE_DONE)
    return run_failed (run, rc, error);

  *ids = g_steal_pointer (&found);
  return TRUE;
}

typedef struct
{
  sqlite3_stmt *walk;
  sqlite3_stmt *messages;       /* a conversation's messages */
  sqlite3_stmt *range;          /* matches among a range of message ids */
  sqlite3_stmt *range_ranked;
  sqlite3_stmt *one;            /* whether one message matches */
  sqlite3_stmt *one_ranked;
  sqlite3_stmt *subject;        /* whether a subject matches, with its rank */
  GArray       *subjects;       /* ids of the conversations whose subject matches, or NULL */
  GArray       *matches;        /* ids of the matching messages, or NULL: probe them */
  GArray       *refs;           /* MessageRef, scratch */
  /* With the matches read, ranks are computed at the end, in one scan each. */
  GArray       *rank_messages;  /* Pending */
  GArray       *rank_subjects;  /* Pending */
} Probe;

typedef struct
{
  guint  hit;   /* index in the hits */
  gint64 id;    /* message or conversation */
} Pending;

static void
probe_clear (Probe *probe)
{
  g_clear_pointer (&probe->walk, sqlite3_finalize);
  g_clear_pointer (&probe->messages, sqlite3_finalize);
  g_clear_pointer (&probe->range, sqlite3_finalize);
  g_clear_pointer (&probe->range_ranked, sqlite3_finalize);
  g_clear_pointer (&probe->one, sqlite3_finalize);
  g_clear_pointer (&probe->one_ranked, sqlite3_finalize);
  g_clear_pointer (&probe->subject, sqlite3_finalize);
  g_clear_pointer (&probe->subjects, g_array_unref);
  g_clear_pointer (&probe->matches, g_array_unref);
  g_clear_pointer (&probe->refs, g_array_unref);
  g_clear_pointer (&probe->rank_messages, g_array_unref);
  g_clear_pointer (&probe->rank_subjects, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Probe, probe_clear)

static gboolean
probe_prepare (Run      *run,
               Probe    *probe,
               gint64    n_subjects,
               GArray   *matches,
               GError  **error)
{
  g_autofree char *walk = walk_sql (&run->filters);

  probe->refs = g_array_new (FALSE, FALSE, sizeof (MessageRef));
  probe->rank_messages = g_array_new (FALSE, FALSE, sizeof (Pending));
  probe->rank_subjects = g_array_new (FALSE, FALSE, sizeof (Pending));
  probe->matches = matches != NULL ? g_array_ref (matches) : NULL;
  if (!(probe->walk = run_prepare (run, walk, error)) ||
      !(probe->messages = run_prepare (run, "SELECT id, created_at FROM messages"
                                            " WHERE conversation_id = ?1", error)) ||
      !(probe->range = run_prepare (run, "SELECT rowid FROM messages_fts"
                                         " WHERE messages_fts MATCH ?1"
                                         " AND rowid BETWEEN ?2 AND ?3", error)) ||
      !(probe->range_ranked = run_prepare (run, "SELECT rowid,"
                                                " fd_search_rank(messages_fts)"
                                                " FROM messages_fts"
                                                " WHERE messages_fts MATCH ?1"
                                                " AND rowid BETWEEN ?2 AND ?3", error)) ||
      !(probe->one = run_prepare (run, "SELECT rowid FROM messages_fts"
                                       " WHERE messages_fts MATCH ?1 AND rowid = ?2",
                                  error)) ||
      !(probe->one_ranked = run_prepare (run, "SELECT rowid,"
                                              " fd_search_rank(messages_fts)"
                                              " FROM messages_fts"
                                              " WHERE messages_fts MATCH ?1 AND rowid = ?2",
                                         error)) ||
      !(probe->subject = run_prepare (run, "SELECT"
                                           " fd_search_rank(conversations_fts)"
                                           " FROM conversations_fts"
                                           " WHERE conversations_fts MATCH ?1"
                                           " AND rowid = ?2",
                                      error)))
    return FALSE;

  bind_filters (probe->walk, &run->filters);
  sqlite3_bind_text (probe->range, 1, run->fts, -1, SQLITE_STATIC);
  sqlite3_bind_text (probe->range_ranked, 1, run->fts, -1, SQLITE_STATIC);
  sqlite3_bind_text (probe->one, 1, run->fts, -1, SQLITE_STATIC);
  sqlite3_bind_text (probe->one_ranked, 1, run->fts, -1, SQLITE_STATIC);
  sqlite3_bind_text (probe->subject, 1, run->fts, -1, SQLITE_STATIC);

  /* Few matching subjects: read them once rather than probing each conversation. */
  if (n_subjects < SUBJECT_READ_LIMIT &&
      !read_match_ids (run, "conversations_fts", -1, &probe->subjects, error))
    return FALSE;

  return TRUE;
}

static void
take_message (Hit              *hit,
              const MessageRef *ref,
              gboolean          ranked,
              double            rank,
              gboolean         *message_hit,
              double           *best_rank,
              gint64           *best_time)
{
  if (!*message_hit || (ranked ? rank < *best_rank : ref->created_at > *best_time))
    {
      hit->message_id = ref->id;
      *best_rank = rank;
      *best_time = ref->created_at;
    }
  *message_hit = TRUE;
}

/* Whether conversation @hit matches: its subject, or one of its messages. With the
 * matching message ids at hand that is a lookup; otherwise, and for a rank, FTS5 is
 * probed: the messages as one range of ids when they lie close together (they usually
 * arrive together), one by one otherwise. */
static gboolean
probe_conversation (Run      *run,
                    Probe    *probe,
                    gboolean  ranked,
                    guint     index,
                    Hit      *hit,
                    gboolean *matched,
                    GError  **error)
{
  guint pending_before = probe->rank_messages->len;
  gint64 id = hit->conversation_id;
  double best_rank = 0.0, subject_rank = 0.0;
  gint64 best_time = G_MININT64;
  gboolean message_hit = FALSE;
  guint n;
  int rc;

  /* The subject. */
  if (probe->subjects != NULL && !sorted_contains (probe->subjects, id))
    hit->subject_hit = FALSE;
  else if (probe->subjects != NULL && (!ranked || probe->matches != NULL))
    {
      Pending pending = { index, id };

      hit->subject_hit = TRUE;
      if (ranked)
        g_array_append_val (probe->rank_subjects, pending);
    }
  else
    {
      sqlite3_bind_int64 (probe->subject, 2, id);
      rc = sqlite3_step (probe->subject);
      hit->subject_hit = rc == SQLITE_ROW;
      if (rc == SQLITE_ROW)
        subject_rank = sqlite3_column_double (probe->subject, 0);
      sqlite3_reset (probe->subject);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return run_failed (run, rc, error);
    }

  /* The messages. */
  g_array_set_size (probe->refs, 0);
  sqlite3_bind_int64 (probe->messages, 1, id);
  while ((rc = sqlite3_step (probe->messages)) == SQLITE_ROW)
    {
      MessageRef ref = { sqlite3_column_int64 (probe->messages, 0),
                         sqlite3_column_int64 (probe->messages, 1) };

      /* Known not to match: no need to probe it. */
      if (probe->matches != NULL && !sorted_contains (probe->matches, ref.id))
        continue;
      if (probe->matches != NULL)
        {
          Pending pending = { index, ref.id };

          take_message (hit, &ref, FALSE, 0.0, &message_hit, &best_rank, &best_time);
          if (ranked)
            g_array_append_val (probe->rank_messages, pending);
          continue;
        }
      g_array_append_val (probe->refs, ref);
    }
  sqlite3_reset (probe->messages);
  if (rc != SQLITE_DONE)
    return run_failed (run, rc, error);

  n = probe->refs->len;
  if (n > 0)
    {
      gint64 lo, hi;

      g_array_sort (probe->refs, compare_message_ref);
      lo = g_array_index (probe->refs, MessageRef, 0).id;
      hi = g_array_index (probe->refs, MessageRef, n - 1).id;

      if (n > 1 && hi - lo < 2 * (gint64) n + 8)
        {
          sqlite3_stmt *stmt = ranked ? probe->range_ranked : probe->range;

          sqlite3_bind_int64 (stmt, 2, lo);
          sqlite3_bind_int64 (stmt, 3, hi);
          while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
            {
              MessageRef key = { sqlite3_column_int64 (stmt, 0), 0 };
              const MessageRef *ref = bsearch (&key, probe->refs->data, n,
                                               sizeof (MessageRef), compare_message_ref);

              if (ref != NULL)
                take_message (hit, ref, ranked,
                              ranked ? sqlite3_column_double (stmt, 1) : 0.0,
                              &message_hit, &best_rank, &best_time);
            }
          sqlite3_reset (stmt);
          if (rc != SQLITE_DONE)
            return run_failed (run, rc, error);
        }
      else
        {
          sqlite3_stmt *stmt = ranked ? probe->one_ranked : probe->one;

          for (guint i = 0; i < n; i++)
            {
              const MessageRef *ref = &g_array_index (probe->refs, MessageRef, i);

              sqlite3_bind_int64 (stmt, 2, ref->id);
              rc = sqlite3_step (stmt);
              if (rc == SQLITE_ROW)
                take_message (hit, ref, ranked,
                              ranked ? sqlite3_column_double (stmt, 1) : 0.0,
                              &message_hit, &best_rank, &best_time);
              sqlite3_reset (stmt);
              if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return run_failed (run, rc, error);
            }
        }
    }

  *matched = message_hit || hit->subject_hit;
  hit->message_rank = best_rank;
  hit->subject_rank = subject_rank;
  hit->rank = best_rank + SUBJECT_WEIGHT * subject_rank;
  if (!*matched)
    g_array_set_size (probe->rank_messages, pending_before);
  return TRUE;
}

/* Ranks computed at the end of a walk: one scan of the matches between the lowest and
 * the highest pending id, ranking only the pending rows. */
static gboolean
rank_pending (Run         *run,
              const char  *table,
              GArray      *pending,
              GArray      *hits,
              gboolean     subjects,
              GError     **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) ranks = NULL;
  gint64 lo = G_MAXINT64, hi = G_MININT64;
  int rc;

  if (pending->len == 0)
    return TRUE;

  g_string_append_printf (sql, "SELECT rowid, fd_search_rank(%s) FROM %s"
                               " WHERE %s MATCH ?1 AND rowid BETWEEN ?2 AND ?3"
                               " AND +rowid IN (", table, table, table);
  for (guint i = 0; i < pending->len; i++)
    {
      const Pending *p = &g_array_index (pending, Pending, i);

      g_string_append_printf (sql, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", p->id);
      lo = MIN (lo, p->id);
      hi = MAX (hi, p->id);
    }
  g_string_append (sql, ")");

  stmt = run_prepare (run, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, run->fts, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, lo);
  sqlite3_bind_int64 (stmt, 3, hi);

  ranks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      double rank = sqlite3_column_double (stmt, 1);

      g_hash_table_insert (ranks, g_memdup2 (&id, sizeof id), g_memdup2 (&rank, sizeof rank));
    }
  if (rc != SQLITE_DONE)
    return run_failed (run, rc, error);

  /* Messages: each hit keeps its best; they come in hit order. */
  for (guint i = 0; i < pending->len; i++)
    {
      const Pending *p = &g_array_index (pending, Pending, i);
      Hit *hit = &g_array_index (hits, Hit, p->hit);
      const double *rank = g_hash_table_lookup (ranks, &p->id);

      if (rank == NULL)
        continue;
      if (subjects)
        hit->subject_rank = *rank;
      else if (*rank < hit->message_rank)
        {
          /* Scores are below zero, and a hit starts at zero. */
          hit->message_rank = *rank;
          hit->message_id = p->id;
        }
      hit->rank = hit->message_rank + SUBJECT_WEIGHT * hit->subject_rank;
    }

  return TRUE;
}

/* The first @need matching conversations in newest order, found by walking the filtered
 * conversations newest first and checking each; the first @n_ranked get a rank. Sets
 * @gave_up after @budget conversations: the words are too rare among them for the walk
 * to pay. */
static gboolean
run_walk (Run       *run,
          gint64     n_subjects,
          GArray    *matches,
          guint      budget,
          guint      need,
          guint      n_ranked,
          GArray    *hits,
          gboolean  *gave_up,
          GError   **error)
{
  g_auto(Probe) probe = { 0 };
  guint probed = 0;
  int rc = SQLITE_DONE;

  *gave_up = FALSE;
  if (!probe_prepare (run, &probe, n_subjects, matches, error))
    return FALSE;

  while (hits->len < need && (rc = sqlite3_step (probe.walk)) == SQLITE_ROW)
    {
      Hit hit = { 0 };
      gboolean matched = FALSE;

      if (++probed > budget)
        {
          g_debug ("Walk gave up after %u conversations, %u match", probed - 1, hits->len);
          *gave_up = TRUE;
          return TRUE;
        }

      hit.conversation_id = sqlite3_column_int64 (probe.walk, 0);
      hit.last_message_at = sqlite3_column_int64 (probe.walk, 1);
      if (!probe_conversation (run, &probe, hits->len < n_ranked, hits->len, &hit, &matched,
                               error))
        return FALSE;
      if (matched)
        g_array_append_val (hits, hit);
    }
  if (hits->len < need && rc != SQLITE_DONE)
    return run_failed (run, rc, error);

  /* Messages first: they set each hit's rank, subjects add to it. */
  if (!rank_pending (run, "messages_fts", probe.rank_messages, hits, FALSE, error) ||
      !rank_pending (run, "conversations_fts", probe.rank_subjects, hits, TRUE, error))
    return FALSE;

  g_debug ("Walked %u conversations, %u match", probed, hits->len);
  return TRUE;
}

static int
compare_hit_rank (gconstpointer a,
                  gconstpointer b)
{
  const Hit *x = a;
  const Hit *y = b;

  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  /* Ties keep newest order. */
  if (x->last_message_at != y->last_message_at)
    return x->last_message_at > y->last_message_at ? -1 : 1;
  return x->conversation_id > y->conversation_id ? -1 : x->conversation_id < y->conversation_id;
}

/* Words matching many messages: the first conversations in newest order, and in best
 * order the first FD_SEARCH_BEST_WINDOW of them ranked. Whichever way they are found,
 * the newest order is exact, so pages stay consistent. */
static gboolean
run_common (Run      *run,
            gint64    n_subjects,
            guint     budget,
            guint     offset,
            guint     limit,
            GArray   *hits,
            GError  **error)
{
  g_autoptr(GArray) matches = NULL;
  gboolean best = run->order == FD_SEARCH_ORDER_BEST;
  guint need = offset + limit;
  guint n_ranked = 0;
  gboolean gave_up = FALSE;

  if (best && offset < FD_SEARCH_BEST_WINDOW)
    {
      need = MAX (need, FD_SEARCH_BEST_WINDOW);
      n_ranked = FD_SEARCH_BEST_WINDOW;
    }

  /* Reading the matching message ids once is cheaper than probing FTS5 for each
   * conversation, unless the words are so common that a page fills within a few
   * conversations. A prefix left to FTS5 is expanded on every probe: never probe it. */
  if (run->forced_plan != 3 &&
      !read_match_ids (run, "messages_fts",
                       run->has_prefix || run->forced_plan == 2 ? -1 : MATCH_READ_LIMIT,
                       &matches, error))
    return FALSE;
  g_debug ("Walking with %s", matches != NULL ? "the matching ids" : "probes");

  if (!run_walk (run, n_subjects, matches, budget, need, n_ranked, hits, &gave_up, error))
    return FALSE;

  if (gave_up)
    {
      g_array_set_size (hits, 0);
      if (!run_all_matches (run, n_ranked > 0 ? RANK_WINDOW : RANK_NONE,
                            FD_SEARCH_ORDER_NEWEST, 0, need, hits, error))
        return FALSE;
    }

  if (n_ranked > 0 && hits->len > 1)
    qsort (hits->data, MIN (hits->len, n_ranked), sizeof (Hit), compare_hit_rank);

  return TRUE;
}

/* }}} */
/* {{{ Results */

void
fd_search_result_free (FdSearchResult *result)
{
  if (result == NULL)
    return;

  g_free (result->subject);
  g_free (result->organisation);
  g_free (result->status);
  g_free (result->snippet);
  g_free (result);
}

/* Snippets are shown on one line. */
static char *
flatten (const char *text)
{
  GString *out = g_string_sized_new (strlen (text));
  gboolean space = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        {
          space = TRUE;
          continue;
        }
      if (space && out->len > 0)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* Snippets of the messages (or subjects) @ids, by id, into @snippets. FTS5 computes a
 * snippet cheaply on a row its scan has reached, dearly on a row it has to seek: few
 * matches (or a prefix, expanded again for every seek) are scanned once, between the
 * lowest and highest id; the matches of common words are sought one by one. */
static gboolean
read_snippets (Run         *run,
               const char  *table,
               GArray      *ids,
               GHashTable  *snippets,
               GError     **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 lo = G_MAXINT64, hi = G_MININT64;
  gboolean scan;
  int rc;

  if (ids->len == 0)
    return TRUE;

  g_string_append_printf (sql,
                          "SELECT rowid, snippet(%s, 0, '" FD_SEARCH_MARK_START "', '"
                          FD_SEARCH_MARK_END "', '…', %d) FROM %s WHERE %s MATCH ?1",
                          table, SNIPPET_TOKENS, table, table);

  scan = run->has_prefix ||
         (g_str_equal (table, "messages_fts") ? run->n_messages : run->n_subjects) <
         run->threshold;
  if (!scan)
    g_string_append (sql, " AND rowid = ?2");
  else
    {
      g_string_append (sql, " AND rowid BETWEEN ?2 AND ?3 AND +rowid IN (");
      for (guint i = 0; i < ids->len; i++)
        {
          gint64 id = g_array_index (ids, gint64, i);

          g_string_append_printf (sql, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", id);
          lo = MIN (lo, id);
          hi = MAX (hi, id);
        }
      g_string_append (sql, ")");
    }

  stmt = run_prepare (run, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, run->fts, -1, SQLITE_STATIC);

  for (guint i = 0; i < (scan ? 1 : ids->len); i++)
    {
      if (scan)
        {
          sqlite3_bind_int64 (stmt, 2, lo);
          sqlite3_bind_int64 (stmt, 3, hi);
        }
      else
        sqlite3_bind_int64 (stmt, 2, g_array_index (ids, gint64, i));

      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);
          const char *text = (const char *) sqlite3_column_text (stmt, 1);

          g_hash_table_insert (snippets, g_memdup2 (&id, sizeof id),
                               flatten (text != NULL ? text : ""));
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        return run_failed (run, rc, error);
    }

  return TRUE;
}

static gboolean
build_results (Run        *run,
               GArray     *hits,
               GPtrArray  *results,
               GError    **error)
{
  g_autoptr(sqlite3_stmt) details = NULL;
  g_autoptr(GHashTable) message_snippets = NULL;
  g_autoptr(GHashTable) subject_snippets = NULL;
  g_autoptr(GArray) message_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) subject_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;

  message_snippets = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  subject_snippets = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);

  if (run->fts != NULL)
    {
      for (guint i = 0; i < hits->len; i++)
        {
          const Hit *hit = &g_array_index (hits, Hit, i);

          if (hit->message_id != 0)
            g_array_append_val (message_ids, hit->message_id);
          else if (hit->subject_hit)
            g_array_append_val (subject_ids, hit->conversation_id);
        }
      if (!read_snippets (run, "messages_fts", message_ids, message_snippets, error) ||
          !read_snippets (run, "conversations_fts", subject_ids, subject_snippets, error))
        return FALSE;
    }

  if (hits->len == 0)
    return TRUE;

  details = run_prepare (run,
                         "SELECT c.subject, ifnull(o.name, ''), c.status,"
                         " ifnull(c.last_message_at, 0), c.snippet"
                         " FROM conversations c"
                         " LEFT JOIN organisations o ON o.id = c.organisation_id"
                         " WHERE c.id = ?1",
                         error);
  if (details == NULL)
    return FALSE;

  for (guint i = 0; i < hits->len; i++)
    {
      const Hit *hit = &g_array_index (hits, Hit, i);
      FdSearchResult *result;
      const char *snippet = NULL;

      sqlite3_bind_int64 (details, 1, hit->conversation_id);
      rc = sqlite3_step (details);
      if (rc == SQLITE_DONE)
        {
          sqlite3_reset (details);
          continue;
        }
      if (rc != SQLITE_ROW)
        return run_failed (run, rc, error);

      result = g_new0 (FdSearchResult, 1);
      result->conversation_id = hit->conversation_id;
      result->subject = g_strdup ((const char *) sqlite3_column_text (details, 0));
      result->organisation = g_strdup ((const char *) sqlite3_column_text (details, 1));
      result->status = g_strdup ((const char *) sqlite3_column_text (details, 2));
      result->last_message_at = sqlite3_column_int64 (details, 3);
      result->rank = hit->rank;

      if (hit->message_id != 0)
        snippet = g_hash_table_lookup (message_snippets, &hit->message_id);
      else if (hit->subject_hit)
        snippet = g_hash_table_lookup (subject_snippets, &hit->conversation_id);

      if (snippet != NULL)
        result->snippet = g_strdup (snippet);
      else
        result->snippet = flatten ((const char *) sqlite3_column_text (details, 4));

      g_ptr_array_add (results, result);
      sqlite3_reset (details);
    }

  return TRUE;
}

static gboolean
run_search (Run        *run,
            gint64      me_agent_id,
            guint       offset,
            guint       limit,
            GPtrArray  *found,
            GError    **error)
{
  g_autoptr(GArray) hits = g_array_new (FALSE, FALSE, sizeof (Hit));
  const FdSearchQuery *query = run->query;
  gboolean no_match = FALSE;

  if (!build_filter_sql (run->db, query, me_agent_id, &run->filters, error))
    {
      /* Only reading agents can fail here; say it plainly. */
      int rc = sqlite3_errcode (run->db);

      g_clear_error (error);
      return run_failed (run, rc, error);
    }

  if (query->fts != NULL && !prepare_fts (run, &no_match, error))
    return FALSE;

  if (limit == 0 || run->filters.status_mask == 0 || no_match)
    ;
  else if (query->fts == NULL)
    {
      if (!run_filters_only (run, offset, limit, hits, error))
        return FALSE;
    }
  else
    {
      gint64 n_messages = 0, n_subjects = 0, threshold, n_conversations = 0;
      const char *plan;
      guint need = offset + limit;

      /* Best order ranks differently on each side, so only the window may decide,
       * never the page: every page of one search takes the same side. */
      if (run->order == FD_SEARCH_ORDER_BEST)
        need = FD_SEARCH_BEST_WINDOW;

      /* Reading M matches costs about M; a walk needs about need × N / M probes when
       * M of N conversations match. They cost the same at M = √(need × N × ratio). */
      if (!count_conversations (run, &n_conversations, error))
        return FALSE;
      threshold = (gint64) sqrt ((double) need * (double) n_conversations * PROBE_COST_RATIO);
      threshold = MAX (threshold, 1000);

      if (!count_matches (run, "messages_fts", threshold, &n_messages, error) ||
          !count_matches (run, "conversations_fts", threshold, &n_subjects, error))
        return FALSE;
      run->n_messages = n_messages;
      run->n_subjects = n_subjects;
      run->threshold = threshold;
      g_debug ("%s: %" G_GINT64_FORMAT " messages, %" G_GINT64_FORMAT " subjects (counted up "
               "to %" G_GINT64_FORMAT ")", run->fts, n_messages, n_subjects, threshold);

      /* Tests force a plan to compare them: "exact", "read" or "probe". */
      plan = g_getenv ("FD_SEARCH_PLAN");
      if (plan != NULL)
        run->forced_plan = g_str_equal (plan, "exact") ? 1 : g_str_equal (plan, "probe") ? 3 : 2;

      if (run->forced_plan == 1 ||
          (run->forced_plan == 0 && n_messages + n_subjects < threshold))
        {
          if (!run_all_matches (run, run->order == FD_SEARCH_ORDER_BEST ? RANK_BM25 : RANK_NONE,
                                run->order, offset, limit, hits, error))
            return FALSE;
        }
      else
        {
          gint64 walked = MAX (offset + limit, need);
          guint budget = (guint) MIN ((gint64) G_MAXUINT,
                                      PROBE_BUDGET_FACTOR * walked * n_conversations / threshold + 100);

          if (run->forced_plan != 0)
            budget = G_MAXUINT;

          if (n_subjects >= threshold && threshold < SUBJECT_READ_LIMIT &&
              !count_matches (run, "conversations_fts", SUBJECT_READ_LIMIT, &n_subjects, error))
            return FALSE;
          if (!ensure_rank_function (run->db))
            return run_failed (run, SQLITE_ERROR, error);
          if (!run_common (run, n_subjects, budget, offset, limit, hits, error))
            return FALSE;
          /* Keep the requested page. */
          if (offset >= hits->len)
            g_array_set_size (hits, 0);
          else
            {
              g_array_remove_range (hits, 0, offset);
              if (hits->len > limit)
                g_array_set_size (hits, limit);
            }
        }
    }

  return build_results (run, hits, found, error);
}

gboolean
fd_search_run (sqlite3              *db,
               const FdSearchQuery  *query,
               FdSearchOrder         order,
               gint64                me_agent_id,
               guint                 offset,
               guint                 limit,
               GPtrArray           **results,
               GError              **error)
{
  g_autoptr(GPtrArray) found = NULL;
  Run run = { 0 };
  gboolean ok;
  int rc;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (query != NULL, FALSE);
  g_return_val_if_fail (results != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  run.db = db;
  run.query = query;
  run.order = order;
  limit = MIN (limit, G_MAXUINT - offset);

  /* One snapshot for the several statements of a search, inside the caller's
   * transaction if there is one. */
  rc = sqlite3_exec (db, "SAVEPOINT fd_search", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return run_failed (&run, rc, error);

  found = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_search_result_free);
  ok = run_search (&run, me_agent_id, offset, limit, found, error);

  sqlite3_exec (db, "RELEASE fd_search", NULL, NULL, NULL);
  filter_sql_clear (&run.filters);
  g_free (run.fts);

  if (!ok)
    return FALSE;
  *results = g_steal_pointer (&found);
  return TRUE;
}

/* }}} */
/* {{{ Snippet text */

static char *
snippet_convert (const char *snippet,
                 const char *open,
                 const char *close,
                 gboolean    markup)
{
  GString *out;
  gboolean inside = FALSE;
  const char *p, *run_start;

  g_return_val_if_fail (snippet != NULL, NULL);

  out = g_string_sized_new (strlen (snippet) + 16);
  p = run_start = snippet;

  while (TRUE)
    {
      if (*p == '\0' || *p == FD_SEARCH_MARK_START[0] || *p == FD_SEARCH_MARK_END[0])
        {
          if (p > run_start)
            {
              if (markup)
                {
                  g_autofree char *escaped = g_markup_escape_text (run_start, p - run_start);
                  g_string_append (out, escaped);
                }
              else
                g_string_append_len (out, run_start, p - run_start);
            }

          if (*p == '\0')
            break;
          /* Marks that do not pair up are dropped rather than shown. */
          if (*p == FD_SEARCH_MARK_START[0] && !inside)
            {
              g_string_append (out, open);
              inside = TRUE;
            }
          else if (*p == FD_SEARCH_MARK_END[0] && inside)
            {
              g_string_append (out, close);
              inside = FALSE;
            }
          run_start = ++p;
          continue;
        }
      p++;
    }

  if (inside)
    g_string_append (out, close);

  return g_string_free (out, FALSE);
}

char *
fd_search_snippet_to_markup (const char *snippet)
{
  return snippet_convert (snippet, "<b>", "</b>", TRUE);
}

char *
fd_search_snippet_to_plain (const char *snippet,
                            const char *open,
                            const char *close)
{
  g_return_val_if_fail (open != NULL, NULL);
  g_return_val_if_fail (close != NULL, NULL);

  return snippet_convert (snippet, open, close, FALSE);
}

/* }}} */
