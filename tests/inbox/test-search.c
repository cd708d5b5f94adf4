/* test-search.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The search syntax and engine, on the small demo store and on rows made by hand: each
 * part of the syntax is checked against plain SQL over the same store, every plan the
 * engine can choose gives the same conversations, pages neither repeat nor skip, and
 * every malformed query gets a message in plain words, never an SQLite error.
 */

#define G_LOG_DOMAIN "test-search"

#include "config.h"

#include <string.h>

#include "fd-demo.h"
#include "fd-search.h"
#include "fd-store-private.h"

/* 2026-01-15 10:30 UTC: fixed so that every run sees the same data. */
#define NOW_MS G_GINT64_CONSTANT (1768473000000)
#define ALL G_MAXUINT

static const char * const plans[] = { "exact", "read", "probe" };

/* {{{ Helpers */

static sqlite3 *
open_migrated (void)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  _fd_store_migrate (db, fd_store_schema_version (), &error);
  g_assert_no_error (error);
  return db;
}

static sqlite3 *demo_db;

static sqlite3 *
get_demo (void)
{
  if (demo_db == NULL)
    {
      g_autoptr(GError) error = NULL;

      demo_db = open_migrated ();
      fd_demo_generate (demo_db, 20260115, FD_DEMO_SCALE_SMALL, NOW_MS, NULL, &error);
      g_assert_no_error (error);
    }
  return demo_db;
}

static void
exec (sqlite3    *db,
      const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static char *
query_text (sqlite3    *db,
            const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return value;
}

static int
compare_id (gconstpointer a,
            gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The ids an SQL statement returns, sorted. */
static GArray *
sql_ids (sqlite3    *db,
         const char *sql)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  sqlite3_finalize (stmt);
  g_array_sort (ids, compare_id);
  return ids;
}

static GPtrArray *
search (sqlite3       *db,
        const char    *text,
        FdSearchOrder  order,
        gint64         me,
        guint          offset,
        guint          limit)
{
  g_autoptr(FdSearchQuery) query = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *results = NULL;

  query = fd_search_query_parse (text, &error);
  g_assert_no_error (error);
  fd_search_run (db, query, order, me, offset, limit, &results, &error);
  g_assert_no_error (error);
  g_assert_nonnull (results);
  return results;
}

/* The result ids in result order. */
static GArray *
result_ids (GPtrArray *results)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < results->len; i++)
    {
      const FdSearchResult *result = g_ptr_array_index (results, i);
      g_array_append_val (ids, result->conversation_id);
    }
  return ids;
}

static GArray *
search_ids (sqlite3       *db,
            const char    *text,
            FdSearchOrder  order,
            gint64         me)
{
  g_autoptr(GPtrArray) results = search (db, text, order, me, 0, ALL);
  GArray *ids = result_ids (results);

  g_array_sort (ids, compare_id);
  return ids;
}

static void
assert_same_ids (GArray     *found,
                 GArray     *expected,
                 const char *what)
{
  g_test_message ("%s: %u conversations, expected %u", what, found->len, expected->len);
  g_assert_cmpuint (found->len, ==, expected->len);
  for (guint i = 0; i < found->len; i++)
    g_assert_cmpint (g_array_index (found, gint64, i), ==, g_array_index (expected, gint64, i));
}

/* Conversations whose subject or one of whose messages matches @match (FTS5 syntax). */
static char *
text_sql (const char *match)
{
  return g_strdup_printf ("SELECT id FROM conversations c WHERE (c.id IN"
                          " (SELECT rowid FROM conversations_fts WHERE conversations_fts"
                          "  MATCH '%s') OR c.id IN (SELECT conversation_id FROM messages"
                          "  WHERE id IN (SELECT rowid FROM messages_fts WHERE messages_fts"
                          "  MATCH '%s')))", match, match);
}

static gint64
day_start_ms (int year,
              int month,
              int day)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_local ();
  g_autoptr(GDateTime) time = g_date_time_new (tz, year, month, day, 0, 0, 0);

  return g_date_time_to_unix (time) * 1000;
}

/* }}} */
/* {{{ Parsing */

static void
test_parse_errors (void)
{
  g_autofree char *long_text = g_strnfill (FD_SEARCH_MAX_CHARS + 1, 'a');
  g_autoptr(GString) many = g_string_new (NULL);
  const struct
  {
    const char *text;
    FdSearchError code;
    const char *words[3];
  } cases[] = {
    { "", FD_SEARCH_ERROR_EMPTY, { "Type a word", "status:open" } },
    { "   \t ", FD_SEARCH_ERROR_EMPTY, { "Type a word" } },
    { "( ) ! ?", FD_SEARCH_ERROR_EMPTY, { "nothing to search for", "( ) ! ?" } },
    { "-", FD_SEARCH_ERROR_EMPTY, { "nothing to search for" } },
    { "* ^ -- ...", FD_SEARCH_ERROR_EMPTY, { "letters or digits" } },
    { "\"saml login", FD_SEARCH_ERROR_UNBALANCED, { "quote before", "saml login", "closing" } },
    { "refund \"", FD_SEARCH_ERROR_UNBALANCED, { "quote at the end" } },
    { "org:\"Acme Corp", FD_SEARCH_ERROR_UNBALANCED, { "Acme Corp" } },
    { "\"unbalanced AND (", FD_SEARCH_ERROR_UNBALANCED, { "unbalanced AND (" } },
    { "colour:red", FD_SEARCH_ERROR_UNKNOWN_FIELD, { "“colour:”", "status:", "before:" } },
    { "body:refund", FD_SEARCH_ERROR_UNKNOWN_FIELD, { "“body:”", "from:" } },
    { "refund subject:saml", FD_SEARCH_ERROR_UNKNOWN_FIELD, { "“subject:”" } },
    { "status:closed", FD_SEARCH_ERROR_BAD_VALUE, { "“closed”", "status:open", "status:resolved" } },
    { "status:", FD_SEARCH_ERROR_BAD_VALUE, { "“status:”", "needs a value", "status:open" } },
    { "status: open", FD_SEARCH_ERROR_BAD_VALUE, { "right after the colon" } },
    { "org:\"\"", FD_SEARCH_ERROR_BAD_VALUE, { "“org:”" } },
    { "channel:fax", FD_SEARCH_ERROR_BAD_VALUE, { "“fax”", "channel:email" } },
    { "is:happy", FD_SEARCH_ERROR_BAD_VALUE, { "is:happy", "is:unassigned" } },
    { "before:yesterdayish", FD_SEARCH_ERROR_BAD_VALUE, { "not a date", "year-month-day", "2026-01-31" } },
    { "after:2026-02-30", FD_SEARCH_ERROR_BAD_VALUE, { "“2026-02-30”" } },
    { "after:26-01-01", FD_SEARCH_ERROR_BAD_VALUE, { "not a date" } },
    { "a*", FD_SEARCH_ERROR_BAD_VALUE, { "too short", "two letters" } },
    { long_text, FD_SEARCH_ERROR_TOO_LONG, { "too long", "1000" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FdSearchQuery) query = fd_search_query_parse (cases[i].text, &error);

      g_test_message ("“%s” → %s", cases[i].text, error != NULL ? error->message : "(parsed)");
      g_assert_null (query);
      g_assert_error (error, FD_SEARCH_ERROR, (int) cases[i].code);
      for (guint k = 0; k < G_N_ELEMENTS (cases[i].words) && cases[i].words[k] != NULL; k++)
        g_assert_nonnull (strstr (error->message, cases[i].words[k]));
      g_assert_null (strstr (error->message, "SQL"));
      g_assert_null (strstr (error->message, "fts5"));
    }

  for (guint i = 0; i < FD_SEARCH_MAX_PARTS + 1; i++)
    g_string_append_printf (many, "w%u ", i);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(FdSearchQuery) query = fd_search_query_parse (many->str, &error);

    g_assert_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_TOO_LONG);
    g_assert_nonnull (strstr (error->message, "too many"));
  }
}

/* FTS5 syntax typed as text is only ever text: every term reaches FTS5 quoted. */
static void
test_parse_fts_syntax (void)
{
  const struct
  {
    const char *text;
    const char *fts;
  } cases[] = {
    { "refund", "\"refund\"" },
    { "AND", "\"AND\"" },
    { "saml OR okta NOT card", "\"saml\" \"OR\" \"okta\" \"NOT\" \"card\"" },
    { "NEAR(saml okta)", "\"NEAR(saml\" \"okta)\"" },
    { "^export", "\"^export\"" },
    { "*saml*", "\"*saml\"*" },
    { "invoic*", "\"invoic\"*" },
    { "\"single sign on\"", "\"single sign on\"" },
    { "\"a \"\"b\"", "\"a \" \"b\"" },
    { "refund\" AND \"", "\"refund\" \" AND \"" },
    { "5\" screen\"", "\"5\" \" screen\"" },
    { "body\\:refund", "\"body\\:refund\"" },
    { "https://example.com/x", "\"https://example.com/x\"" },
    { "10:30", "\"10:30\"" },
    { "e-mail -card", "\"e-mail\"" },
    { "'; DROP TABLE messages; --", "\"DROP\" \"TABLE\" \"messages;\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FdSearchQuery) query = fd_search_query_parse (cases[i].text, &error);

      g_assert_no_error (error);
      g_assert_true (fd_search_query_has_text (query));
      g_assert_cmpstr (fd_search_query_get_fts (query), ==, cases[i].fts);
    }

  /* Terms to highlight: positive words and phrases, prefixes without their star. */
  {
    g_autoptr(FdSearchQuery) query =
      fd_search_query_parse ("\"single sign\" invoic* -card org:acme refund", NULL);
    const char * const *terms = fd_search_query_get_terms (query);

    g_assert_cmpuint (g_strv_length ((char **) terms), ==, 3);
    g_assert_cmpstr (terms[0], ==, "single sign");
    g_assert_cmpstr (terms[1], ==, "invoic");
    g_assert_cmpstr (terms[2], ==, "refund");
  }

  /* Filters only. */
  {
    g_autoptr(FdSearchQuery) query = fd_search_query_parse ("Status:OPEN tag:billing", NULL);

    g_assert_nonnull (query);
    g_assert_false (fd_search_query_has_text (query));
    g_assert_null (fd_search_query_get_fts (query));
  }
}

/* Nothing typed reaches SQLite as anything but text: malformed or hostile queries give
 * results or a message, on the demo store, in every plan. */
static void
test_hostile_queries_run (void)
{
  static const char * const texts[] = {
    "AND", "OR", "NOT", "NEAR(", "NEAR(saml okta, 2)", "saml AND okta", "\"\"", "\"*\"",
    "^", "^export", "*saml*", "col:umn", "(saml", "saml)", "{okta}", "[card]", "a:b:c",
    "'; DROP TABLE messages; --", "%_\\", "O'Brien", "-saml", "-status:open",
    "status:open -", "ünïcödé ☃ 中文", "caf\xc3 \xff refund", "\xf0\x9f\x98\x80 thanks",
    "thanks -thanks", "th* -", "xq*", "invoice* tag:\"no such tag\"",
    "from:\"%\" org:_ assignee:\\", "is:mine is:unassigned",
  };
  sqlite3 *db = get_demo ();

  for (guint p = 0; p < G_N_ELEMENTS (plans); p++)
    for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
      for (int order = 0; order < 2; order++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(FdSearchQuery) query = fd_search_query_parse (texts[i], &error);
          g_autoptr(GPtrArray) results = NULL;

          g_setenv ("FD_SEARCH_PLAN", plans[p], TRUE);
          if (query == NULL)
            {
              g_assert_true (error->domain == FD_SEARCH_ERROR);
              g_assert_null (strstr (error->message, "SQL"));
              continue;
            }
          g_assert_true (fd_search_run (db, query, order, 1, 0, 20, &results, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (results->len, <=, 20);
        }
  g_unsetenv ("FD_SEARCH_PLAN");

  /* Excluding what is searched for leaves nothing. */
  {
    g_autoptr(GPtrArray) results = search (db, "thanks -thanks", FD_SEARCH_ORDER_BEST, 0, 0, 20);

    g_assert_cmpuint (results->len, ==, 0);
  }
}

/* }}} */
/* {{{ Filters and words, against plain SQL */

/* Compares a search, in both orders and in every plan the engine may choose for words
 * (filters alone have one), with the conversations @expected_sql finds. Probing every
 * conversation is slow on purpose, so only @probe queries try that plan. */
static void
check_plans (sqlite3    *db,
             gint64      me,
             const char *text,
             const char *expected_sql,
             gboolean    probe)
{
  g_autoptr(FdSearchQuery) query = fd_search_query_parse (text, NULL);
  g_autoptr(GArray) expected = sql_ids (db, expected_sql);
  gint64 total = query_int (db, "SELECT count(*) FROM conversations");
  guint n_plans = fd_search_query_has_text (query) ? (probe ? 3 : 2) : 1;

  /* A filter that keeps everything or nothing would prove little. */
  g_assert_cmpuint (expected->len, >, 0);
  g_assert_cmpuint (expected->len, <, total);

  for (guint p = 0; p < n_plans; p++)
    for (int order = 0; order < 2; order++)
      {
        g_autoptr(GArray) found = NULL;
        g_autofree char *what = g_strdup_printf ("%s (%s, %s)", text, plans[p],
                                                 order == 0 ? "best" : "newest");

        g_setenv ("FD_SEARCH_PLAN", plans[p], TRUE);
        found = search_ids (db, text, order, me);
        assert_same_ids (found, expected, what);
      }
  g_unsetenv ("FD_SEARCH_PLAN");
}

static void
check_query (sqlite3    *db,
             gint64      me,
             const char *text,
             const char *expected_sql)
{
  check_plans (db, me, text, expected_sql, FALSE);
}

static void
test_filters (void)
{
  sqlite3 *db = get_demo ();
  gint64 me = query_int (db, "SELECT id FROM agents WHERE is_me");
  g_autofree char *org = query_text (db, "SELECT o.name FROM organisations o JOIN conversations c"
                                         " ON c.organisation_id = o.id GROUP BY o.id"
                                         " ORDER BY count(*) DESC, o.id LIMIT 1");
  g_autofree char *org_word = NULL;
  g_autofree char *contact = query_text (db, "SELECT ct.name FROM contacts ct JOIN conversations c"
                                             " ON c.contact_id = ct.id GROUP BY ct.id"
                                             " ORDER BY count(*) DESC, ct.id LIMIT 1");
  g_autofree char *agent = query_text (db, "SELECT name FROM agents WHERE NOT is_me"
                                           " ORDER BY id LIMIT 1");
  g_autofree char *agent_first = NULL;
  g_autofree char *text = NULL;
  g_autofree char *sql = NULL;
  gint64 day = day_start_ms (2025, 12, 20);
  gint64 next_day = day_start_ms (2025, 12, 21);

  g_assert_cmpint (me, >, 0);
  org_word = g_strdup (org);
  if (strchr (org_word, ' ') != NULL)
    *strchr (org_word, ' ') = '\0';
  agent_first = g_strdup (agent);
  if (strchr (agent_first, ' ') != NULL)
    *strchr (agent_first, ' ') = '\0';

  check_query (db, me, "status:open", "SELECT id FROM conversations WHERE status = 'open'");
  check_query (db, me, "is:snoozed", "SELECT id FROM conversations WHERE status = 'snoozed'");
  check_query (db, me, "status:open status:pending",
               "SELECT id FROM conversations WHERE status IN ('open', 'pending')");
  check_query (db, me, "-status:resolved",
               "SELECT id FROM conversations WHERE status <> 'resolved'");
  check_query (db, me, "channel:slack", "SELECT id FROM conversations WHERE channel = 'slack'");
  check_query (db, me, "channel:email -status:open",
               "SELECT id FROM conversations WHERE channel = 'email' AND status <> 'open'");
  check_query (db, me, "tag:billing",
               "SELECT conversation_id FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id"
               " WHERE t.name = 'billing'");
  check_query (db, me, "-tag:billing status:open",
               "SELECT id FROM conversations WHERE status = 'open' AND id NOT IN"
               " (SELECT conversation_id FROM conversation_tags ct JOIN tags t"
               "  ON t.id = ct.tag_id WHERE t.name = 'billing')");
  check_query (db, me, "assignee:me", "SELECT id FROM conversations WHERE assignee_id = "
                                      "(SELECT id FROM agents WHERE is_me)");
  check_query (db, me, "is:mine status:open",
               "SELECT id FROM conversations WHERE status = 'open' AND assignee_id = "
               "(SELECT id FROM agents WHERE is_me)");
  check_query (db, me, "is:unassigned", "SELECT id FROM conversations WHERE assignee_id IS NULL");
  check_query (db, me, "assignee:none status:open",
               "SELECT id FROM conversations WHERE assignee_id IS NULL AND status = 'open'");
  check_query (db, me, "is:enterprise",
               "SELECT c.id FROM conversations c JOIN organisations o"
               " ON o.id = c.organisation_id WHERE o.is_enterprise");

  text = g_strdup_printf ("org:\"%s\"", org);
  sql = g_strdup_printf ("SELECT c.id FROM conversations c JOIN organisations o"
                         " ON o.id = c.organisation_id WHERE o.name = '%s'", org);
  check_query (db, me, text, sql);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&sql, g_free);

  /* Part of a name, in another case. */
  {
    g_autofree char *lower = g_utf8_strdown (org_word, -1);

    text = g_strdup_printf ("org:%s", lower);
    sql = g_strdup_printf ("SELECT c.id FROM conversations c WHERE c.organisation_id IN"
                           " (SELECT id FROM organisations WHERE name LIKE '%%%s%%'"
                           "  UNION SELECT organisation_id FROM organisation_domains"
                           "  WHERE domain LIKE '%%%s%%')", org_word, org_word);
    check_query (db, me, text, sql);
    g_clear_pointer (&text, g_free);
    g_clear_pointer (&sql, g_free);
  }

  text = g_strdup_printf ("from:\"%s\"", contact);
  sql = g_strdup_printf ("SELECT c.id FROM conversations c JOIN contacts ct"
                         " ON ct.id = c.contact_id WHERE ct.name LIKE '%%%s%%'", contact);
  check_query (db, me, text, sql);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&sql, g_free);

  /* An agent's name: the conversations they wrote in (and contacts of that name). */
  text = g_strdup_printf ("from:%s", agent_first);
  sql = g_strdup_printf ("SELECT id FROM conversations WHERE contact_id IN (SELECT id FROM"
                         " contacts WHERE name LIKE '%%%s%%' OR email LIKE '%%%s%%')"
                         " OR id IN (SELECT m.conversation_id FROM messages m JOIN agents a"
                         " ON a.id = m.author_id WHERE m.author_kind = 'agent'"
                         " AND a.name LIKE '%%%s%%')", agent_first, agent_first, agent_first);
  check_query (db, me, text, sql);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&sql, g_free);

  text = g_strdup_printf ("assignee:%s", agent_first);
  sql = g_strdup_printf ("SELECT c.id FROM conversations c JOIN agents a"
                         " ON a.id = c.assignee_id WHERE a.name LIKE '%%%s%%'", agent_first);
  check_query (db, me, text, sql);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&sql, g_free);

  /* Dates are days in the local time zone. */
  sql = g_strdup_printf ("SELECT id FROM conversations WHERE created_at < %" G_GINT64_FORMAT, day);
  check_query (db, me, "before:2025-12-20", sql);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT id FROM conversations WHERE created_at >= %" G_GINT64_FORMAT
                         " AND created_at < %" G_GINT64_FORMAT, day, next_day);
  check_query (db, me, "after:2025-12-20 before:2025-12-21", sql);
  g_clear_pointer (&sql, g_free);
}

static void
test_words (void)
{
  sqlite3 *db = get_demo ();
  g_autofree char *saml = text_sql ("saml");
  g_autofree char *sql = NULL;
  g_autofree char *other = NULL;
  g_autoptr(GArray) phrase = NULL;
  g_autoptr(GArray) words = NULL;

  check_plans (db, 0, "saml", saml, TRUE);
  check_query (db, 0, "SAML", saml);
  sql = text_sql ("thanks");
  check_query (db, 0, "thanks", sql);

  /* Every word in one message or in the subject. */
  g_clear_pointer (&sql, g_free);
  sql = text_sql ("saml okta");
  check_query (db, 0, "saml okta", sql);

  /* A phrase needs the words in order, so it finds fewer than the words alone. */
  g_clear_pointer (&sql, g_free);
  sql = text_sql ("\"signature validation\"");
  check_query (db, 0, "\"signature validation\"", sql);
  phrase = search_ids (db, "\"validation signature\"", FD_SEARCH_ORDER_BEST, 0);
  words = search_ids (db, "validation signature", FD_SEARCH_ORDER_BEST, 0);
  g_assert_cmpuint (phrase->len, <, words->len);

  /* A prefix, and a prefix FTS5 expands itself (it starts too many words). */
  g_clear_pointer (&sql, g_free);
  sql = text_sql ("\"invoic\"*");
  check_plans (db, 0, "invoic*", sql, TRUE);
  check_query (db, 0, "Invoic*", sql);
  g_clear_pointer (&sql, g_free);
  sql = text_sql ("\"co\"* \"sa\"*");
  check_query (db, 0, "co* sa*", sql);

  /* Leaving a word out drops every conversation that has it anywhere. */
  g_clear_pointer (&sql, g_free);
  other = text_sql ("okta");
  sql = g_strdup_printf ("%s AND c.id NOT IN (%s)", saml, other);
  check_query (db, 0, "saml -okta", sql);
  g_clear_pointer (&sql, g_free);
  g_clear_pointer (&other, g_free);
  other = text_sql ("thanks");
  sql = g_strdup_printf ("SELECT id FROM conversations WHERE status = 'open' AND id NOT IN (%s)",
                         other);
  check_query (db, 0, "status:open -thanks", sql);

  /* Words and filters together. */
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("%s AND c.status = 'open' AND c.channel = 'email'", saml);
  check_plans (db, 0, "saml status:open channel:email", sql, TRUE);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("%s AND c.id IN (SELECT conversation_id FROM conversation_tags ct"
                         " JOIN tags t ON t.id = ct.tag_id WHERE t.name = 'billing')",
                         other);
  check_query (db, 0, "thanks tag:billing", sql);

  /* A prefix that starts no word finds nothing. */
  {
    g_autoptr(GPtrArray) results = search (db, "zqxv*", FD_SEARCH_ORDER_BEST, 0, 0, 20);

    g_assert_cmpuint (results->len, ==, 0);
  }
}

/* }}} */
/* {{{ Orders and pages */

static void
assert_newest_first (sqlite3   *db,
                     GPtrArray *results)
{
  for (guint i = 0; i < results->len; i++)
    {
      const FdSearchResult *result = g_ptr_array_index (results, i);
      g_autofree char *sql = g_strdup_printf ("SELECT ifnull(last_message_at, 0) FROM"
                                              " conversations WHERE id = %" G_GINT64_FORMAT,
                                              result->conversation_id);

      g_assert_cmpint (result->last_message_at, ==, query_int (db, sql));
      if (i > 0)
        {
          const FdSearchResult *before = g_ptr_array_index (results, i - 1);

          g_assert_cmpint (before->last_message_at, >=, result->last_message_at);
          if (before->last_message_at == result->last_message_at)
            g_assert_cmpint (before->conversation_id, >, result->conversation_id);
        }
    }
}

static void
test_orders (void)
{
  sqlite3 *db = get_demo ();

  for (guint p = 0; p < G_N_ELEMENTS (plans); p++)
    {
      g_autoptr(GPtrArray) newest = NULL;
      g_autoptr(GPtrArray) best = NULL;
      g_autoptr(GPtrArray) common = NULL;

      g_setenv ("FD_SEARCH_PLAN", plans[p], TRUE);

      newest = search (db, "saml", FD_SEARCH_ORDER_NEWEST, 0, 0, ALL);
      assert_newest_first (db, newest);

      /* Rare words are ranked as a whole; common ones within the window, then newest. */
      best = search (db, "saml", FD_SEARCH_ORDER_BEST, 0, 0, ALL);
      g_assert_cmpuint (best->len, ==, newest->len);
      for (guint i = 0; i < best->len; i++)
        {
          const FdSearchResult *result = g_ptr_array_index (best, i);

          if (p == 0 || i < FD_SEARCH_BEST_WINDOW)
            g_assert_cmpfloat (result->rank, <, 0.0);
          if (i > 0 && (p == 0 || i < FD_SEARCH_BEST_WINDOW))
            g_assert_cmpfloat (((FdSearchResult *) g_ptr_array_index (best, i - 1))->rank, <=,
                               result->rank);
        }
      if (p != 0 && best->len > FD_SEARCH_BEST_WINDOW)
        {
          g_autoptr(GPtrArray) tail = g_ptr_array_new ();

          for (guint i = FD_SEARCH_BEST_WINDOW; i < best->len; i++)
            g_ptr_array_add (tail, g_ptr_array_index (best, i));
          assert_newest_first (db, tail);
        }

      common = search (db, "thanks status:open", FD_SEARCH_ORDER_NEWEST, 0, 0, 300);
      assert_newest_first (db, common);
    }
  g_unsetenv ("FD_SEARCH_PLAN");

  /* Without words, best order is newest order, rank 0. */
  {
    g_autoptr(GPtrArray) best = search (db, "status:open", FD_SEARCH_ORDER_BEST, 0, 0, 200);

    assert_newest_first (db, best);
    g_assert_cmpfloat (((FdSearchResult *) g_ptr_array_index (best, 0))->rank, ==, 0.0);
  }

  /* A subject match weighs more: of two otherwise equal hits, the subject one first. */
  {
    sqlite3 *hand = open_migrated ();
    g_autoptr(GPtrArray) results = NULL;

    exec (hand, "INSERT INTO conversations (id, channel, subject, created_at, updated_at,"
                " last_message_at) VALUES"
                " (1, 'email', 'Hello', 0, 0, 10), (2, 'email', 'Webhook retries', 0, 0, 5);"
                "INSERT INTO messages (conversation_id, author_kind, body, created_at) VALUES"
                " (1, 'contact', 'Our webhook retries too often.', 10),"
                " (2, 'contact', 'Our webhook retries too often.', 5);");
    for (int i = 3; i < 20; i++)
      {
        g_autofree char *filler = g_strdup_printf (
          "INSERT INTO conversations (id, channel, subject, created_at, updated_at)"
          " VALUES (%d, 'chat', 'Question %d', 0, 0);"
          "INSERT INTO messages (conversation_id, author_kind, body, created_at)"
          " VALUES (%d, 'contact', 'Something else entirely, number %d.', 1);", i, i, i, i);
        exec (hand, filler);
      }
    results = search (hand, "webhook", FD_SEARCH_ORDER_BEST, 0, 0, 10);
    g_assert_cmpuint (results->len, ==, 2);
    g_assert_cmpint (((FdSearchResult *) g_ptr_array_index (results, 0))->conversation_id, ==, 2);
    g_clear_pointer (&results, g_ptr_array_unref);
    results = search (hand, "webhook", FD_SEARCH_ORDER_NEWEST, 0, 0, 10);
    g_assert_cmpint (((FdSearchResult *) g_ptr_array_index (results, 0))->conversation_id, ==, 1);
    sqlite3_close (hand);
  }
}

/* Pages read one after another give the list once, whatever the plan: up to @max
 * conversations, compared with reading them in one go. */
static void
check_pages (sqlite3       *db,
             const char    *text,
             FdSearchOrder  order,
             guint          page,
             guint          max)
{
  g_autoptr(GPtrArray) whole = search (db, text, order, 0, 0, max);
  g_autoptr(GArray) whole_ids = result_ids (whole);
  g_autoptr(GArray) paged = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  g_assert_cmpuint (whole->len, >, page * 2);

  for (guint offset = 0; offset < max; offset += page)
    {
      g_autoptr(GPtrArray) results = search (db, text, order, 0, offset, MIN (page, max - offset));
      g_autoptr(GArray) ids = result_ids (results);

      g_assert_cmpuint (ids->len, <=, page);
      g_array_append_vals (paged, ids->data, ids->len);
      if (ids->len < MIN (page, max - offset))
        break;
    }

  g_assert_cmpuint (paged->len, ==, whole_ids->len);
  for (guint i = 0; i < paged->len; i++)
    {
      gint64 *id = &g_array_index (paged, gint64, i);

      g_assert_false (g_hash_table_contains (seen, id));
      g_hash_table_add (seen, id);
      g_assert_cmpint (*id, ==, g_array_index (whole_ids, gint64, i));
    }
}

static void
test_paging (void)
{
  sqlite3 *db = get_demo ();

  for (guint p = 0; p < G_N_ELEMENTS (plans); p++)
    {
      g_setenv ("FD_SEARCH_PLAN", plans[p], TRUE);
      check_pages (db, "saml", FD_SEARCH_ORDER_BEST, 25, ALL);
      check_pages (db, "saml", FD_SEARCH_ORDER_NEWEST, 25, ALL);
      check_pages (db, "thanks channel:slack", FD_SEARCH_ORDER_BEST, 45, 250);
    }
  g_unsetenv ("FD_SEARCH_PLAN");

  /* The planner's own choices, across the ranked window of best order. */
  check_pages (db, "thanks", FD_SEARCH_ORDER_BEST, 30, 250);
  check_pages (db, "thanks", FD_SEARCH_ORDER_NEWEST, 40, 250);
  check_pages (db, "thanks status:open", FD_SEARCH_ORDER_BEST, 15, ALL);
  check_pages (db, "status:pending", FD_SEARCH_ORDER_NEWEST, 20, ALL);

  /* Past the end: nothing; no limit: nothing. */
  {
    g_autoptr(GPtrArray) past = search (db, "saml", FD_SEARCH_ORDER_BEST, 0, 100000, 10);
    g_autoptr(GPtrArray) none = search (db, "saml", FD_SEARCH_ORDER_BEST, 0, 0, 0);

    g_assert_cmpuint (past->len, ==, 0);
    g_assert_cmpuint (none->len, ==, 0);
  }
}

/* assignee:me is whoever the caller says; without one it matches nothing. */
static void
test_assignee_me (void)
{
  sqlite3 *db = get_demo ();
  gint64 other = query_int (db, "SELECT id FROM agents WHERE NOT is_me ORDER BY id LIMIT 1");
  g_autofree char *sql = g_strdup_printf ("SELECT id FROM conversations WHERE assignee_id = %"
                                          G_GINT64_FORMAT, other);
  g_autoptr(GArray) expected = sql_ids (db, sql);
  g_autoptr(GArray) found = search_ids (db, "assignee:me", FD_SEARCH_ORDER_NEWEST, other);
  g_autoptr(GPtrArray) nobody = search (db, "assignee:me", FD_SEARCH_ORDER_NEWEST, 0, 0, 10);
  g_autoptr(GPtrArray) not_me = search (db, "-assignee:me status:open", FD_SEARCH_ORDER_NEWEST,
                                        other, 0, ALL);
  g_autofree char *mine_open = g_strdup_printf ("SELECT count(*) FROM conversations"
                                                " WHERE status = 'open' AND assignee_id = %"
                                                G_GINT64_FORMAT, other);

  g_assert_cmpuint (expected->len, >, 0);
  assert_same_ids (found, expected, "assignee:me");
  g_assert_cmpuint (nobody->len, ==, 0);
  /* Unassigned conversations are "not mine" too. */
  g_assert_cmpuint (not_me->len, ==,
                    query_int (db, "SELECT count(*) FROM conversations WHERE status = 'open'")
                    - query_int (db, mine_open));
}

/* }}} */
/* {{{ Rows made by hand: dates, snippets, markup */

static void
test_dates (void)
{
  sqlite3 *db = open_migrated ();
  gint64 boundary = day_start_ms (2021, 3, 15);
  gint64 now = g_get_real_time () / 1000;
  g_autofree char *sql = NULL;
  g_autoptr(GArray) after = NULL;
  g_autoptr(GArray) before = NULL;
  g_autoptr(GArray) today = NULL;
  g_autoptr(GArray) yesterday = NULL;
  g_autoptr(GArray) before_today = NULL;

  /* main() set a zone whose midnight is not UTC midnight. */
  g_assert_cmpint (boundary % (24 * 3600 * 1000), !=, 0);

  sql = g_strdup_printf ("INSERT INTO conversations (id, channel, subject, created_at, updated_at)"
                         " VALUES (1, 'email', 'Late on the 9th', %" G_GINT64_FORMAT ", 0),"
                         " (2, 'email', 'First thing on the 10th', %" G_GINT64_FORMAT ", 0),"
                         " (3, 'email', 'Just now', %" G_GINT64_FORMAT ", 0),"
                         " (4, 'email', 'A day ago', %" G_GINT64_FORMAT ", 0)",
                         boundary - 1, boundary, now, now - 24 * 3600 * 1000);
  exec (db, sql);

  after = search_ids (db, "after:2021-03-15 before:2021-03-16", FD_SEARCH_ORDER_NEWEST, 0);
  before = search_ids (db, "before:2021-03-15", FD_SEARCH_ORDER_NEWEST, 0);
  g_assert_cmpuint (after->len, ==, 1);
  g_assert_cmpint (g_array_index (after, gint64, 0), ==, 2);
  g_assert_cmpuint (before->len, ==, 1);
  g_assert_cmpint (g_array_index (before, gint64, 0), ==, 1);

  today = search_ids (db, "after:today", FD_SEARCH_ORDER_NEWEST, 0);
  g_assert_cmpuint (today->len, ==, 1);
  g_assert_cmpint (g_array_index (today, gint64, 0), ==, 3);
  yesterday = search_ids (db, "after:yesterday", FD_SEARCH_ORDER_NEWEST, 0);
  g_assert_cmpuint (yesterday->len, ==, 2);
  before_today = search_ids (db, "before:today", FD_SEARCH_ORDER_NEWEST, 0);
  for (guint i = 0; i < before_today->len; i++)
    g_assert_cmpint (g_array_index (before_today, gint64, i), !=, 3);

  sqlite3_close (db);
}

static void
test_snippets (void)
{
  sqlite3 *db = open_migrated ();
  g_autoptr(GPtrArray) results = NULL;
  const FdSearchResult *result;
  g_autofree char *markup = NULL;
  g_autofree char *plain = NULL;

  exec (db, "INSERT INTO organisations (id, name, created_at, updated_at)"
            "  VALUES (1, 'Acme & Sons <Ltd>', 0, 0);"
            "INSERT INTO conversations (id, channel, subject, organisation_id, status,"
            "  created_at, updated_at, last_message_at) VALUES"
            "  (1, 'email', 'Price question', 1, 'pending', 0, 0, 2000),"
            "  (2, 'chat', 'Invoice missing for March', NULL, 'open', 0, 0, 1000),"
            "  (3, 'slack', 'Nothing here yet', NULL, 'open', 0, 0, NULL);"
            "INSERT INTO messages (conversation_id, author_kind, body, created_at) VALUES"
            "  (1, 'contact', 'Price <b>&amp; tax\nfor the refund, please.', 1000),"
            "  (1, 'agent', 'The refund is on its way.', 2000),"
            "  (2, 'contact', 'Hello, where is it?', 1000);");

  /* A message matched: its text, the match between the marks. Newest order takes the
   * latest matching message. */
  results = search (db, "refund", FD_SEARCH_ORDER_NEWEST, 0, 0, 10);
  g_assert_cmpuint (results->len, ==, 1);
  result = g_ptr_array_index (results, 0);
  g_assert_cmpint (result->conversation_id, ==, 1);
  g_assert_cmpstr (result->subject, ==, "Price question");
  g_assert_cmpstr (result->organisation, ==, "Acme & Sons <Ltd>");
  g_assert_cmpstr (result->status, ==, "pending");
  g_assert_cmpint (result->last_message_at, ==, 2000);
  g_assert_cmpstr (result->snippet, ==,
                   "The " FD_SEARCH_MARK_START "refund" FD_SEARCH_MARK_END " is on its way.");
  g_clear_pointer (&results, g_ptr_array_unref);

  /* Markup is escaped and newlines are spaces; the match is bold. */
  results = search (db, "tax", FD_SEARCH_ORDER_BEST, 0, 0, 10);
  result = g_ptr_array_index (results, 0);
  markup = fd_search_snippet_to_markup (result->snippet);
  g_assert_cmpstr (markup, ==,
                   "Price &lt;b&gt;&amp;amp; <b>tax</b> for the refund, please.");
  plain = fd_search_snippet_to_plain (result->snippet, "[", "]");
  g_assert_cmpstr (plain, ==, "Price <b>&amp; [tax] for the refund, please.");
  g_clear_pointer (&results, g_ptr_array_unref);

  /* A phrase across the line break. */
  results = search (db, "\"tax for the\"", FD_SEARCH_ORDER_BEST, 0, 0, 10);
  g_assert_cmpuint (results->len, ==, 1);
  g_clear_pointer (&results, g_ptr_array_unref);

  /* Only the subject matched: the subject is the snippet. */
  results = search (db, "invoice", FD_SEARCH_ORDER_BEST, 0, 0, 10);
  g_assert_cmpuint (results->len, ==, 1);
  result = g_ptr_array_index (results, 0);
  g_assert_cmpstr (result->organisation, ==, "");
  g_assert_cmpstr (result->snippet, ==,
                   FD_SEARCH_MARK_START "Invoice" FD_SEARCH_MARK_END " missing for March");
  g_clear_pointer (&results, g_ptr_array_unref);

  /* A conversation without messages, found by its filters. */
  results = search (db, "channel:slack", FD_SEARCH_ORDER_NEWEST, 0, 0, 10);
  g_assert_cmpuint (results->len, ==, 1);
  result = g_ptr_array_index (results, 0);
  g_assert_cmpint (result->last_message_at, ==, 0);
  g_assert_cmpfloat (result->rank, ==, 0.0);
  g_clear_pointer (&results, g_ptr_array_unref);

  /* An organisation name with LIKE's wildcards is taken literally. */
  results = search (db, "org:\"& Sons <\"", FD_SEARCH_ORDER_NEWEST, 0, 0, 10);
  g_assert_cmpuint (results->len, ==, 1);
  g_clear_pointer (&results, g_ptr_array_unref);
  results = search (db, "org:%", FD_SEARCH_ORDER_NEWEST, 0, 0, 10);
  g_assert_cmpuint (results->len, ==, 0);

  sqlite3_close (db);
}

static void
test_snippet_text (void)
{
  const struct
  {
    const char *snippet;
    const char *markup;
    const char *plain;
  } cases[] = {
    { "", "", "" },
    { "no match", "no match", "no match" },
    { "a \x02" "b\x03 c", "a <b>b</b> c", "a [b] c" },
    { "\x02" "x\x03\x02y\x03", "<b>x</b><b>y</b>", "[x][y]" },
    { "<i>&\x02\"q\"\x03'", "&lt;i&gt;&amp;<b>&quot;q&quot;</b>&apos;", "<i>&[\"q\"]'" },
    /* Marks that do not pair up are dropped. */
    { "a\x03 b", "a b", "a b" },
    { "a \x02" "b", "a <b>b</b>", "a [b]" },
    { "\x02\x02" "a\x03\x03", "<b>a</b>", "[a]" },
    { "ünï \x02" "中文\x03 ☃", "ünï <b>中文</b> ☃", "ünï [中文] ☃" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *markup = fd_search_snippet_to_markup (cases[i].snippet);
      g_autofree char *plain = fd_search_snippet_to_plain (cases[i].snippet, "[", "]");

      g_assert_cmpstr (markup, ==, cases[i].markup);
      g_assert_cmpstr (plain, ==, cases[i].plain);
    }
}

/* A store from before the inbox has no subject index: a plain message, no SQLite. */
static void
test_old_store (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FdSearchQuery) query = fd_search_query_parse ("refund", NULL);
  g_autoptr(GPtrArray) results = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  _fd_store_migrate (db, 3, &error);
  g_assert_no_error (error);

  g_assert_false (fd_search_run (db, query, FD_SEARCH_ORDER_BEST, 0, 0, 10, &results, &error));
  g_assert_error (error, FD_SEARCH_ERROR, FD_SEARCH_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "older Frontdesk"));
  g_assert_null (strstr (error->message, "no such"));
  g_assert_null (results);
  sqlite3_close (db);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  int ret;

  /* A zone with daylight saving time, whose midnight is not UTC's. */
  g_setenv ("TZ", "America/New_York", TRUE);
  g_unsetenv ("FD_SEARCH_PLAN");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/search/parse/errors", test_parse_errors);
  g_test_add_func ("/search/parse/fts-syntax", test_parse_fts_syntax);
  g_test_add_func ("/search/hostile", test_hostile_queries_run);
  g_test_add_func ("/search/filters", test_filters);
  g_test_add_func ("/search/words", test_words);
  g_test_add_func ("/search/orders", test_orders);
  g_test_add_func ("/search/paging", test_paging);
  g_test_add_func ("/search/assignee-me", test_assignee_me);
  g_test_add_func ("/search/dates", test_dates);
  g_test_add_func ("/search/snippets", test_snippets);
  g_test_add_func ("/search/snippet-text", test_snippet_text);
  g_test_add_func ("/search/old-store", test_old_store);

  ret = g_test_run ();
  g_clear_pointer (&demo_db, sqlite3_close);
  return ret;
}
