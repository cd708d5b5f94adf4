/* test-demo.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-demo"

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "fd-demo.h"
#include "fd-store-private.h"

#define MINUTE ((gint64) 60 * 1000)
#define DAY (24 * 60 * MINUTE)
/* 2026-01-15 10:30 UTC, a Thursday: fixed so that every run sees the same data. */
#define NOW_MS G_GINT64_CONSTANT (1768473000000)
#define NOW_MS_TEXT "1768473000000"
/* The longest SLA target (resolution of a Low conversation) and the longest snooze. */
#define SLA_HORIZON (7 * DAY)

static const char * const demo_tables[] = {
  "organisations", "organisation_domains", "agents", "tags", "contacts", "conversations",
  "conversation_tags", "messages", "attachments", "events", "csat",
};

/* {{{ Helpers */

static sqlite3 *
open_migrated (const char *path)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), ==,
                   SQLITE_OK);
  _fd_store_migrate (db, fd_store_schema_version (), &error);
  g_assert_no_error (error);

  return db;
}

static sqlite3 *
generate (guint32             seed,
          gint64              now_ms,
          FdDemoStats        *stats)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = open_migrated (":memory:");
  gboolean ok;

  ok = fd_demo_generate (db, seed, FD_DEMO_SCALE_SMALL, now_ms, stats, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  return db;
}

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    g_error ("Could not prepare “%s”: %s", sql, sqlite3_errmsg (db));
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

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);

  return value;
}

/* SHA-256 over every row of @table in id order, NULLs kept apart from empty strings. */
static char *
checksum_table (sqlite3    *db,
                const char *table)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt = NULL;

  sql = g_strdup_printf ("SELECT * FROM %s ORDER BY 1, 2", table);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          if (sqlite3_column_type (stmt, i) == SQLITE_NULL)
            g_checksum_update (checksum, (const guchar *) "\1N", 2);
          else
            {
              const guchar *text = sqlite3_column_text (stmt, i);
              g_checksum_update (checksum, text, sqlite3_column_bytes (stmt, i));
            }
          g_checksum_update (checksum, (const guchar *) "\0", 1);
        }
      g_checksum_update (checksum, (const guchar *) "\n", 1);
    }
  sqlite3_finalize (stmt);

  return g_strdup (g_checksum_get_string (checksum));
}

/* One small data set shared by the tests that only read it. */
static sqlite3 *shared_db;
static FdDemoStats shared_stats;

static sqlite3 *
get_shared_db (void)
{
  if (shared_db == NULL)
    shared_db = generate (20260115, NOW_MS, &shared_stats);
  return shared_db;
}

/* }}} */
/* {{{ Generator */

static void
test_determinism (void)
{
  sqlite3 *a = generate (42, NOW_MS, NULL);
  sqlite3 *b = generate (42, NOW_MS, NULL);
  sqlite3 *c = generate (43, NOW_MS, NULL);
  sqlite3 *d = generate (42, NOW_MS + DAY, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (demo_tables); i++)
    {
      g_autofree char *sum_a = checksum_table (a, demo_tables[i]);
      g_autofree char *sum_b = checksum_table (b, demo_tables[i]);

      g_test_message ("%s %s", demo_tables[i], sum_a);
      g_assert_cmpstr (sum_a, ==, sum_b);
    }

  /* Another seed gives other data; the same seed a day later shifts every time. */
  {
    static const char * const varying[] = { "organisations", "contacts", "conversations",
                                            "messages", "events" };

    for (guint i = 0; i < G_N_ELEMENTS (varying); i++)
      {
        g_autofree char *sum_a = checksum_table (a, varying[i]);
        g_autofree char *sum_c = checksum_table (c, varying[i]);
        g_autofree char *sum_d = checksum_table (d, varying[i]);

        g_assert_cmpstr (sum_a, !=, sum_c);
        g_assert_cmpstr (sum_a, !=, sum_d);
      }
  }

  sqlite3_close (a);
  sqlite3_close (b);
  sqlite3_close (c);
  sqlite3_close (d);
}

static void
test_counts (void)
{
  sqlite3 *db = get_shared_db ();
  gint64 orgs = query_int (db, "SELECT count(*) FROM organisations");
  gint64 messages = query_int (db, "SELECT count(*) FROM messages");

  g_assert_cmpint (orgs, >=, 35);
  g_assert_cmpint (orgs, <=, 45);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations WHERE is_enterprise"), ==, 12);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM contacts"), ==, 2000);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations"), ==, 5000);
  /* About four messages per conversation. */
  g_assert_cmpint (messages, >=, 15000);
  g_assert_cmpint (messages, <=, 28000);

  g_assert_cmpuint (shared_stats.organisations, ==, orgs);
  g_assert_cmpuint (shared_stats.contacts, ==, 2000);
  g_assert_cmpuint (shared_stats.conversations, ==, 5000);
  g_assert_cmpuint (shared_stats.messages, ==, messages);
  g_assert_cmpint (shared_stats.elapsed_usec, >, 0);

  /* Agents: about ten, in teams, exactly one of them is the user. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM agents"), ==, 10);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM agents WHERE is_me = 1"), ==, 1);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT team) FROM agents"), >=, 3);

  /* No accounts yet: demo rows belong to none, and their external ids are unique. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM accounts"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE account_id IS NOT NULL"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT external_id) FROM conversations"), ==, 5000);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT external_id) FROM messages"), ==, messages);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE external_id = 'demo-conv-123'"), ==, 1);
}

static void
test_organisations (void)
{
  sqlite3 *db = get_shared_db ();

  /* Enterprise organisations: one to three domains, some verified and some not, every
   * one with a verification token; SSO with the usual identity providers. */
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM organisations o WHERE is_enterprise AND"
                              " (SELECT count(*) FROM organisation_domains d"
                              "  WHERE d.organisation_id = o.id) NOT BETWEEN 1 AND 3"), ==, 0);
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM organisations o WHERE is_enterprise AND"
                              " (SELECT count(*) FROM organisation_domains d"
                              "  WHERE d.organisation_id = o.id) > 1"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisation_domains WHERE verified"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisation_domains WHERE NOT verified"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisation_domains"
                                  " WHERE verification_token IS NULL"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations"
                                  " WHERE is_enterprise AND sso_type IS NULL"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT sso_type) FROM organisations"), ==, 2);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations WHERE sso_idp NOT IN"
                                  " ('Okta','Azure AD','Google Workspace','OneLogin','JumpCloud')"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations WHERE sso_enforced"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations WHERE scim_enabled"), >, 0);

  /* Billing: plans of every kind, paid ones with a Stripe customer and a renewal date,
   * and a few organisations over their seat limit. */
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT plan) FROM organisations"), ==, 5);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations WHERE plan != 'free' AND"
                                  " (stripe_customer_id NOT LIKE 'cus\\_%' ESCAPE '\\'"
                                  "  OR renewal_at IS NULL)"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT stripe_customer_id) FROM organisations"),
                   ==, query_int (db, "SELECT count(stripe_customer_id) FROM organisations"));
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations"
                                  " WHERE seats_used > seats_purchased"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations"
                                  " WHERE seats_used > seats_purchased"), <,
                   query_int (db, "SELECT count(*) FROM organisations") / 3);

  /* Names: unique, and at least one long enough to test ellipsizing. */
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT name) FROM organisations"), ==,
                   query_int (db, "SELECT count(*) FROM organisations"));
  g_assert_cmpint (query_int (db, "SELECT max(length(name)) FROM organisations"), >=, 60);

  /* Contacts write from their organisation's domain, or from a personal address. */
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM contacts c JOIN organisation_domains d"
                              " ON d.organisation_id = c.organisation_id"
                              " WHERE c.email LIKE '%@' || d.domain"), >=, 1500);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM contacts WHERE organisation_id IS NULL"
                                  " AND email LIKE '%@gmail.com'"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT email) FROM contacts"), ==, 2000);
}

static void
test_integrity (void)
{
  sqlite3 *db = get_shared_db ();
  g_autofree char *check = query_text (db, "PRAGMA integrity_check");

  g_assert_cmpstr (check, ==, "ok");
  /* foreign_key_check returns a row per broken reference. */
  g_assert_null (query_text (db, "PRAGMA foreign_key_check"));

  /* The CHECK constraints of the schema, evaluated again row by row. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE"
                                  " channel NOT IN ('email','chat','slack','community')"
                                  " OR status NOT IN ('open','pending','snoozed','resolved')"
                                  " OR priority NOT IN ('urgent','high','normal','low')"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM messages WHERE"
                                  " author_kind NOT IN ('contact','agent','bot','system')"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM events WHERE kind NOT IN"
                                  " ('created','status','assigned','priority','tagged',"
                                  "  'untagged','reply','note','customer_message')"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM csat WHERE rating NOT BETWEEN 1 AND 5"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM organisations"
                                  " WHERE sso_type IS NOT NULL AND sso_type NOT IN ('saml','oidc')"), ==, 0);

  /* The pragmas the generator switches for speed are back to what they were. */
  g_assert_cmpint (query_int (db, "PRAGMA foreign_keys"), ==, 1);
  g_assert_cmpint (query_int (db, "PRAGMA ignore_check_constraints"), ==, 0);
}

static void
test_coherence (void)
{
  sqlite3 *db = get_shared_db ();

  /* KPIs are computed from events, so the events must tell the same story as the
   * conversation rows: the first reply event is first_reply_at ... */
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM conversations c WHERE first_reply_at IS NOT"
                              " (SELECT min(created_at) FROM events e"
                              "  WHERE e.conversation_id = c.id AND e.kind = 'reply')"), ==, 0);
  /* ... every reopen is a status event from resolved to open ... */
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM conversations c WHERE reopen_count !="
                              " (SELECT count(*) FROM events e WHERE e.conversation_id = c.id"
                              "  AND e.kind = 'status' AND e.from_value = 'resolved'"
                              "  AND e.to_value = 'open')"), ==, 0);
  /* ... resolved conversations have resolved_at, the time of their last resolution ... */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations"
                                  " WHERE (status = 'resolved') != (resolved_at IS NOT NULL)"), ==, 0);
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM conversations c WHERE status = 'resolved'"
                              " AND resolved_at IS NOT"
                              " (SELECT max(created_at) FROM events e WHERE e.conversation_id = c.id"
                              "  AND e.kind = 'status' AND e.to_value = 'resolved')"), ==, 0);
  /* ... the last status event gives the current status, and each one starts where the
   * previous one ended ... */
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM conversations c WHERE status IS NOT"
                              " coalesce((SELECT to_value FROM events e WHERE e.conversation_id = c.id"
                              "  AND e.kind = 'status' ORDER BY created_at DESC, id DESC LIMIT 1),"
                              "  'open')"), ==, 0);
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM (SELECT from_value, lag(to_value, 1, 'open')"
                              " OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS prev"
                              " FROM events WHERE kind = 'status') WHERE from_value IS NOT prev"), ==, 0);
  /* ... the assignee is the last one assigned ... */
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM conversations c WHERE assignee_id IS NOT"
                              " (SELECT CAST(to_value AS INTEGER) FROM events e"
                              "  WHERE e.conversation_id = c.id AND e.kind = 'assigned'"
                              "  ORDER BY created_at DESC, id DESC LIMIT 1)"), ==, 0);
  /* ... there is one created event, at the first message, from the contact ... */
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM conversations c WHERE 1 !="
                              " (SELECT count(*) FROM events e WHERE e.conversation_id = c.id"
                              "  AND e.kind = 'created' AND e.created_at = c.created_at)"), ==, 0);
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM conversations c WHERE 'contact' IS NOT"
                              " (SELECT author_kind FROM messages m WHERE m.conversation_id = c.id"
                              "  ORDER BY created_at, id LIMIT 1)"), ==, 0);
  /* ... one reply event per public agent message, one note event per internal note ... */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM events WHERE kind = 'reply'"), ==,
                   query_int (db, "SELECT count(*) FROM messages"
                                  " WHERE author_kind = 'agent' AND NOT is_note"));
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM events WHERE kind = 'note'"), ==,
                   query_int (db, "SELECT count(*) FROM messages WHERE is_note"));
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM events WHERE kind = 'customer_message'"), ==,
                   query_int (db, "SELECT count(*) FROM messages WHERE author_kind = 'contact'"));
  /* ... and last_message_at is the last message. */
  g_assert_cmpint (query_int (db,
                              "SELECT count(*) FROM conversations c WHERE last_message_at IS NOT"
                              " (SELECT max(created_at) FROM messages m WHERE m.conversation_id = c.id)"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations"
                                  " WHERE snippet = '' OR subject = ''"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations"
                                  " WHERE (status = 'snoozed') != (snoozed_until IS NOT NULL)"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations"
                                  " WHERE first_reply_due_at IS NULL OR resolution_due_at IS NULL"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM csat s JOIN conversations c"
                                  " ON c.id = s.conversation_id WHERE c.status != 'resolved'"
                                  " AND c.reopen_count = 0"), ==, 0);

  /* A realistic mix rather than a uniform one. */
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT status) FROM conversations"), ==, 4);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT channel) FROM conversations"), ==, 4);
  g_assert_cmpint (query_int (db, "SELECT count(DISTINCT priority) FROM conversations"), ==, 4);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE reopen_count > 0"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE assignee_id IS NULL"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations c JOIN agents a"
                                  " ON a.id = c.assignee_id WHERE a.is_me"), >, 100);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM messages WHERE is_note"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM messages WHERE author_kind = 'bot'"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM attachments"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversation_tags"), >=, 5000);
  /* Older conversations are mostly resolved. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE status = 'resolved'"
                                  " AND created_at < " NOW_MS_TEXT " - 30 * 86400000"), >=,
                   query_int (db, "SELECT count(*) FROM conversations"
                                  " WHERE created_at < " NOW_MS_TEXT " - 30 * 86400000") * 95 / 100);
  /* Slack is mostly enterprise. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations c JOIN organisations o"
                                  " ON o.id = c.organisation_id"
                                  " WHERE c.channel = 'slack' AND o.is_enterprise"), >=,
                   query_int (db, "SELECT count(*) FROM conversations WHERE channel = 'slack'") * 8 / 10);

  /* About 40 % of resolved conversations are rated, mostly well. */
  {
    gint64 resolved = query_int (db, "SELECT count(*) FROM conversations WHERE status = 'resolved'");
    gint64 rated = query_int (db, "SELECT count(*) FROM csat");

    g_assert_cmpint (rated, >=, resolved * 30 / 100);
    g_assert_cmpint (rated, <=, resolved * 50 / 100);
    g_assert_cmpint (query_int (db, "SELECT count(*) FROM csat WHERE rating >= 4"), >=, rated * 2 / 3);
  }
}

static void
test_time_range (void)
{
  sqlite3 *db = get_shared_db ();
  g_autofree char *lo = g_strdup_printf ("%" G_GINT64_FORMAT, NOW_MS - 90 * DAY);
  g_autofree char *hi = g_strdup_printf ("%" G_GINT64_FORMAT, NOW_MS);
  g_autofree char *horizon = g_strdup_printf ("%" G_GINT64_FORMAT, NOW_MS + SLA_HORIZON);
  struct
  {
    const char *table;
    const char *columns;
    const char *upper;
  } checks[] = {
    { "conversations", "created_at,updated_at,last_message_at,first_reply_at,resolved_at", hi },
    { "conversations", "first_reply_due_at,next_reply_due_at,resolution_due_at,snoozed_until", horizon },
    { "messages", "created_at", hi },
    { "events", "created_at", hi },
    { "csat", "created_at", hi },
  };

  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      g_auto(GStrv) columns = g_strsplit (checks[i].columns, ",", -1);

      for (guint k = 0; columns[k] != NULL; k++)
        {
          g_autofree char *sql =
            g_strdup_printf ("SELECT count(*) FROM %s WHERE %s NOT BETWEEN %s AND %s",
                             checks[i].table, columns[k], lo, checks[i].upper);

          g_test_message ("%s", sql);
          g_assert_cmpint (query_int (db, sql), ==, 0);
        }
    }

  /* Snoozed conversations wake up in the future; timelines run forwards. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE snoozed_until <= "
                                  NOW_MS_TEXT), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations"
                                  " WHERE first_reply_at < created_at OR resolved_at < created_at"
                                  " OR updated_at < last_message_at"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM events e JOIN conversations c"
                                  " ON c.id = e.conversation_id WHERE e.created_at < c.created_at"), ==, 0);
}

static void
test_fts (void)
{
  sqlite3 *db = get_shared_db ();
  sqlite3_stmt *stmt = NULL;
  gint64 id;

  g_assert_cmpint (query_int (db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'SAML'"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'refund'"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'export'"), >, 0);
  /* remove_diacritics: "Lucia" finds "Lucía". */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'lucia'"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zyzzogeton'"), ==, 0);

  /* The index is whole and the insert trigger is back in place. */
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO messages_fts (messages_fts, rank)"
                                     " VALUES ('integrity-check', 1)", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO messages (conversation_id, author_kind, body,"
                                           " created_at) VALUES (1, 'agent', 'quetzalcoatl', 1)",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  id = sqlite3_last_insert_rowid (db);
  g_assert_cmpint (query_int (db, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'quetzalcoatl'"), ==, id);
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM messages WHERE body = 'quetzalcoatl'",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
}

static void
test_refuses_seeded (void)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = generate (1, NOW_MS, NULL);
  g_autofree char *before = checksum_table (db, "conversations");
  g_autofree char *after = NULL;
  gboolean seeded = FALSE;

  g_assert_true (fd_demo_is_seeded (db, &seeded, &error));
  g_assert_no_error (error);
  g_assert_true (seeded);

  g_assert_false (fd_demo_generate (db, 2, FD_DEMO_SCALE_SMALL, NOW_MS, NULL, &error));
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED);

  after = checksum_table (db, "conversations");
  g_assert_cmpstr (before, ==, after);
  sqlite3_close (db);
}

/* A failure half-way leaves the database exactly as it was, trigger included. */
static void
test_atomic (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "atomic.db", NULL);
  g_autofree char *trigger = NULL;
  sqlite3 *db;
  gboolean seeded = TRUE;

  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  db = open_migrated (path);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TRIGGER fail_late AFTER INSERT ON csat"
                                     " WHEN new.id = 1000 BEGIN SELECT RAISE (ABORT, 'boom'); END",
                                 NULL, NULL, NULL), ==, SQLITE_OK);

  g_assert_false (fd_demo_generate (db, 1, FD_DEMO_SCALE_SMALL, NOW_MS, NULL, &error));
  g_assert_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED);

  for (guint i = 0; i < G_N_ELEMENTS (demo_tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s", demo_tables[i]);
      g_assert_cmpint (query_int (db, sql), ==, 0);
    }
  trigger = query_text (db, "SELECT name FROM sqlite_master WHERE name = 'messages_ai'");
  g_assert_cmpstr (trigger, ==, "messages_ai");
  g_assert_cmpint (query_int (db, "PRAGMA foreign_keys"), ==, 1);

  g_clear_error (&error);
  g_assert_true (fd_demo_is_seeded (db, &seeded, &error));
  g_assert_false (seeded);
  sqlite3_close (db);
}

static void
ensure_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GError **error = user_data;
  gboolean ok = fd_demo_ensure_finish (FD_STORE (object), result, error);

  g_assert_true (ok == (*error == NULL));
  g_main_context_wakeup (NULL);
  *(gboolean *) g_object_get_data (object, "done") = TRUE;
}

static gboolean
count_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  sqlite3_stmt *stmt = fd_store_prepare (db, "SELECT count(*) FROM conversations", error);

  if (stmt == NULL)
    return FALSE;
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  *(gint64 *) job_data = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return TRUE;
}

static void
test_ensure_async (void)
{
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "ensure.db", NULL);
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  store = fd_store_new (path);
  g_assert_true (fd_store_open_sync (store, NULL, &error));
  g_assert_no_error (error);

  /* The second call finds the data of the first and adds nothing. */
  for (guint round = 0; round < 2; round++)
    {
      gboolean done = FALSE;
      gint64 count = 0;

      g_object_set_data (G_OBJECT (store), "done", &done);
      fd_demo_ensure_async (store, 5, FD_DEMO_SCALE_SMALL, NULL, ensure_cb, &error);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
      g_assert_no_error (error);

      g_assert_true (fd_store_run_sync (store, count_job, &count, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (count, ==, 5000);
    }

  fd_store_close (store);
}

/* }}} */
/* {{{ frontdesk-cli */

typedef struct
{
  int status;
  char *out;
  char *err;
} CliResult;

static void
cli_result_clear (CliResult *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliResult, cli_result_clear)

static void
run_cli (CliResult  *result,
         const char *first,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("FD_CLI");
  va_list args;

  if (cli == NULL)
    {
      g_test_skip ("FD_CLI is not set; run through meson test");
      result->status = -1;
      return;
    }

  g_ptr_array_add (argv, (char *) cli);
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  result->status = g_subprocess_get_exit_status (process);

  g_test_message ("frontdesk-cli %s … exited %d\nstdout: %s\nstderr: %s",
                  first, result->status, result->out, result->err);
}

static char *
make_profile (const char *name)
{
  return g_build_filename (g_get_user_data_dir (), name, NULL);
}

/* What a user reads must be words, not SQLite's or GLib's internals. */
static void
assert_plain_message (const char *text)
{
  g_assert_nonnull (text);
  g_assert_cmpuint (strlen (text), >, 20);
  g_assert_null (strstr (text, "CRITICAL"));
  g_assert_null (strstr (text, "GLib"));
  g_assert_null (strstr (text, "(process:"));
  g_assert_null (strstr (text, "fts5"));
}

static void
test_cli_demo_info_search (void)
{
  g_autofree char *profile = make_profile ("cli-profile");
  g_auto(CliResult) demo = { 0 };
  g_auto(CliResult) info = { 0 };
  g_auto(CliResult) search = { 0 };
  g_auto(CliResult) again = { 0 };
  g_auto(CliResult) replace = { 0 };
  g_auto(GStrv) lines = NULL;
  g_autofree char *schema_line = NULL;

  run_cli (&demo, "--profile", profile, "demo", "--seed", "7", NULL);
  if (demo.status == -1)
    return;
  g_assert_cmpint (demo.status, ==, 0);
  g_assert_true (g_str_has_prefix (demo.out, "Generated "));
  g_assert_nonnull (strstr (demo.out, " contacts, 5000 conversations, "));

  run_cli (&info, "--profile", profile, "info", NULL);
  g_assert_cmpint (info.status, ==, 0);
  g_assert_nonnull (strstr (info.out, "frontdesk.db"));
  schema_line = g_strdup_printf ("^Schema version: +%d$", fd_store_schema_version ());
  g_assert_true (g_regex_match_simple (schema_line, info.out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Conversations: +5000$", info.out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Contacts: +2000$", info.out, G_REGEX_MULTILINE, 0));

  run_cli (&search, "--profile", profile, "search", "SAML", "--limit", "5", NULL);
  g_assert_cmpint (search.status, ==, 0);
  g_assert_cmpstr (search.err, ==, "");
  /* One line per conversation: id, status, organisation and subject, the snippet. */
  g_assert_true (g_regex_match_simple ("^#[0-9]+ +(open|pending|snoozed|resolved) +\\S",
                                       search.out, G_REGEX_MULTILINE, 0));
  g_assert_nonnull (strstr (search.out, "[SAML]"));
  lines = g_strsplit (search.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 6);

  run_cli (&again, "--profile", profile, "demo", NULL);
  g_assert_cmpint (again.status, ==, 1);
  g_assert_nonnull (strstr (again.err, "already has conversations"));
  g_assert_nonnull (strstr (again.err, "--replace"));
  assert_plain_message (again.err);

  run_cli (&replace, "--profile", profile, "demo", "--replace", "--seed", "8", NULL);
  g_assert_cmpint (replace.status, ==, 0);
  g_assert_nonnull (strstr (replace.out, "5000 conversations"));
}

/* Whatever is typed, search answers with results or a message in plain words: never an
 * SQLite or FTS5 error. */
static void
test_cli_search_hostile (void)
{
  static const char * const valid[] = {
    "NEAR(saml",
    "refund\" AND \"",
    "*saml* ^export -card",
    "'; DROP TABLE messages; --",
    "ünïcödé  ☃ 中文",
    "saml OR okta NOT card",
    "(saml) {okta} [card]",
  };
  static const struct
  {
    const char *query;
    const char *words;
  } refused[] = {
    { "\"unbalanced AND (", "quote" },
    { "body:refund OR", "body:" },
    { "status:closed", "closed" },
    { "before:yesterdayish", "2026-01-31" },
    { "( ) \" *", "quote" },
    { "( ) *", "nothing to search for" },
  };
  g_autofree char *profile = make_profile ("cli-hostile");
  g_auto(CliResult) demo = { 0 };

  run_cli (&demo, "--profile", profile, "demo", NULL);
  if (demo.status == -1)
    return;
  g_assert_cmpint (demo.status, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_auto(CliResult) search = { 0 };

      run_cli (&search, "--profile", profile, "search", "--", valid[i], NULL);
      g_assert_cmpint (search.status, ==, 0);
      g_assert_cmpstr (search.err, ==, "");
    }

  /* A query the parser cannot use is a usage error that says what to change. */
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_auto(CliResult) search = { 0 };

      run_cli (&search, "--profile", profile, "search", "--", refused[i].query, NULL);
      g_assert_cmpint (search.status, ==, 2);
      g_assert_cmpstr (search.out, ==, "");
      assert_plain_message (search.err);
      g_assert_nonnull (strstr (search.err, refused[i].words));
      g_assert_null (strstr (search.err, "SQL"));
    }
}

/* --json: an array of conversations whose highlights point at the matches in the
 * snippet, checked against the store itself. */
static void
test_cli_search_json (void)
{
  g_autofree char *profile = make_profile ("cli-json");
  g_autofree char *path = NULL;
  g_auto(CliResult) demo = { 0 };
  g_auto(CliResult) search = { 0 };
  g_auto(CliResult) newest = { 0 };
  g_auto(CliResult) none = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;
  JsonArray *array;
  gint64 previous = G_MAXINT64;

  run_cli (&demo, "--profile", profile, "demo", NULL);
  if (demo.status == -1)
    return;
  g_assert_cmpint (demo.status, ==, 0);
  path = g_build_filename (profile, "frontdesk.db", NULL);
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);

  run_cli (&search, "--profile", profile, "search", "--json", "--limit", "7",
           "saml status:open", NULL);
  g_assert_cmpint (search.status, ==, 0);
  g_assert_cmpstr (search.err, ==, "");
  json_parser_load_from_data (parser, search.out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)));
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (array), ==,
                    MIN (7, query_int (db, "SELECT count(*) FROM conversations c"
                                           " WHERE c.status = 'open' AND"
                                           " (c.id IN (SELECT rowid FROM conversations_fts"
                                           "  WHERE conversations_fts MATCH 'saml')"
                                           "  OR c.id IN (SELECT m.conversation_id FROM messages m"
                                           "  WHERE m.id IN (SELECT rowid FROM messages_fts"
                                           "  WHERE messages_fts MATCH 'saml')))")));

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);
      gint64 id = json_object_get_int_member (object, "conversation_id");
      const char *snippet = json_object_get_string_member (object, "snippet");
      JsonArray *highlights = json_object_get_array_member (object, "highlights");
      g_autofree char *sql = NULL;
      g_autofree char *subject = NULL;
      g_autofree char *status = NULL;
      g_autofree char *organisation = NULL;
      g_autoptr(GDateTime) time = NULL;

      sql = g_strdup_printf ("SELECT subject FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
      subject = query_text (db, sql);
      g_assert_cmpstr (json_object_get_string_member (object, "subject"), ==, subject);
      g_clear_pointer (&sql, g_free);
      sql = g_strdup_printf ("SELECT status FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
      status = query_text (db, sql);
      g_assert_cmpstr (status, ==, "open");
      g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, status);
      g_clear_pointer (&sql, g_free);
      sql = g_strdup_printf ("SELECT ifnull(o.name, '') FROM conversations c LEFT JOIN"
                             " organisations o ON o.id = c.organisation_id"
                             " WHERE c.id = %" G_GINT64_FORMAT, id);
      organisation = query_text (db, sql);
      g_assert_cmpstr (json_object_get_string_member (object, "organisation"), ==,
                       organisation);

      /* No marks in the text; every highlight covers "saml" in some case. */
      g_assert_null (strchr (snippet, '\x02'));
      g_assert_null (strchr (snippet, '\x03'));
      g_assert_cmpuint (json_array_get_length (highlights), >, 0);
      for (guint k = 0; k < json_array_get_length (highlights); k++)
        {
          JsonArray *pair = json_array_get_array_element (highlights, k);
          gint64 start = json_array_get_int_element (pair, 0);
          gint64 length = json_array_get_int_element (pair, 1);
          const char *from = g_utf8_offset_to_pointer (snippet, start);
          const char *to = g_utf8_offset_to_pointer (from, length);
          g_autofree char *word = g_utf8_strdown (from, to - from);

          g_assert_cmpint (start + length, <=, g_utf8_strlen (snippet, -1));
          g_assert_cmpstr (word, ==, "saml");
        }

      time = g_date_time_new_from_iso8601 (json_object_get_string_member (object,
                                                                          "last_message_at"),
                                           NULL);
      g_assert_nonnull (time);
      g_clear_pointer (&sql, g_free);
      sql = g_strdup_printf ("SELECT last_message_at / 1000 FROM conversations"
                             " WHERE id = %" G_GINT64_FORMAT, id);
      g_assert_cmpint (g_date_time_to_unix (time), ==, query_int (db, sql));
    }

  /* --newest: latest activity first. */
  run_cli (&newest, "--profile", profile, "search", "--json", "--newest", "--limit", "20",
           "invoice", NULL);
  g_assert_cmpint (newest.status, ==, 0);
  json_parser_load_from_data (parser, newest.out, -1, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (array), ==, 20);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);
      g_autoptr(GDateTime) time =
        g_date_time_new_from_iso8601 (json_object_get_string_member (object, "last_message_at"),
                                      NULL);

      g_assert_cmpint (g_date_time_to_unix (time), <=, previous);
      previous = g_date_time_to_unix (time);
    }

  /* Nothing found is an empty array. */
  run_cli (&none, "--profile", profile, "search", "--json", "zzzyqqx", NULL);
  g_assert_cmpint (none.status, ==, 0);
  json_parser_load_from_data (parser, none.out, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (json_parser_get_root (parser))),
                    ==, 0);

  sqlite3_close (db);
}

static void
test_cli_garbage_store (void)
{
  static const char garbage[] = "This is not a database, it is a shopping list: eggs, milk.\n";
  g_autofree char *profile = make_profile ("cli-garbage");
  g_autofree char *path = g_build_filename (profile, "frontdesk.db", NULL);
  g_autofree char *contents = NULL;
  g_auto(CliResult) info = { 0 };
  g_auto(CliResult) search = { 0 };
  g_auto(CliResult) demo = { 0 };
  g_auto(CliResult) replace = { 0 };
  gsize len = 0;

  g_assert_cmpint (g_mkdir_with_parents (profile, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, garbage, -1, NULL));

  run_cli (&info, "--profile", profile, "info", NULL);
  if (info.status == -1)
    return;
  g_assert_cmpint (info.status, ==, 1);
  g_assert_cmpstr (info.out, ==, "");
  assert_plain_message (info.err);
  g_assert_nonnull (strstr (info.err, path));

  run_cli (&search, "--profile", profile, "search", "refund", NULL);
  g_assert_cmpint (search.status, ==, 1);
  assert_plain_message (search.err);

  run_cli (&demo, "--profile", profile, "demo", NULL);
  g_assert_cmpint (demo.status, ==, 1);
  assert_plain_message (demo.err);

  /* --replace only ever deletes a Frontdesk store. */
  run_cli (&replace, "--profile", profile, "demo", "--replace", NULL);
  g_assert_cmpint (replace.status, ==, 1);
  assert_plain_message (replace.err);
  g_assert_nonnull (strstr (replace.err, "left as it is"));

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpstr (contents, ==, garbage);
}

/* Another program's SQLite file is never written to, even without --replace; an empty
 * file left by an interrupted first start is simply filled. */
static void
test_cli_foreign_store (void)
{
  g_autofree char *profile = make_profile ("cli-foreign");
  g_autofree char *path = g_build_filename (profile, "frontdesk.db", NULL);
  g_autofree char *blank_profile = make_profile ("cli-blank");
  g_autofree char *blank_path = g_build_filename (blank_profile, "frontdesk.db", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_auto(CliResult) demo = { 0 };
  g_auto(CliResult) replace = { 0 };
  g_auto(CliResult) blank = { 0 };
  gsize before_len = 0, after_len = 0;
  sqlite3 *db = NULL;

  g_assert_cmpint (g_mkdir_with_parents (profile, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE shopping (item TEXT);"
                                     "INSERT INTO shopping VALUES ('eggs'), ('milk')",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));

  run_cli (&demo, "--profile", profile, "demo", NULL);
  if (demo.status == -1)
    return;
  g_assert_cmpint (demo.status, ==, 1);
  g_assert_nonnull (strstr (demo.err, "not a Frontdesk store"));
  assert_plain_message (demo.err);

  run_cli (&replace, "--profile", profile, "demo", "--replace", NULL);
  g_assert_cmpint (replace.status, ==, 1);
  assert_plain_message (replace.err);

  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpuint (before_len, ==, after_len);
  g_assert_true (memcmp (before, after, before_len) == 0);

  g_assert_cmpint (g_mkdir_with_parents (blank_profile, 0700), ==, 0);
  g_assert_true (g_file_set_contents (blank_path, "", 0, NULL));
  run_cli (&blank, "--profile", blank_profile, "demo", NULL);
  g_assert_cmpint (blank.status, ==, 0);
}

static void
test_cli_usage (void)
{
  g_autofree char *profile = make_profile ("cli-usage");
  g_auto(CliResult) unknown = { 0 };
  g_auto(CliResult) option = { 0 };
  g_auto(CliResult) bad_scale = { 0 };
  g_auto(CliResult) bad_limit = { 0 };
  g_auto(CliResult) no_query = { 0 };
  g_auto(CliResult) help = { 0 };
  g_auto(CliResult) version = { 0 };
  g_auto(CliResult) missing = { 0 };

  run_cli (&unknown, "--profile", profile, "frobnicate", NULL);
  if (unknown.status == -1)
    return;
  g_assert_cmpint (unknown.status, ==, 2);
  g_assert_nonnull (strstr (unknown.err, "frobnicate"));
  assert_plain_message (unknown.err);

  run_cli (&option, "--frobnicate", NULL);
  g_assert_cmpint (option.status, ==, 2);

  run_cli (&bad_scale, "--profile", profile, "demo", "--scale", "huge", NULL);
  g_assert_cmpint (bad_scale.status, ==, 2);
  assert_plain_message (bad_scale.err);

  run_cli (&bad_limit, "--profile", profile, "search", "x", "--limit", "many", NULL);
  g_assert_cmpint (bad_limit.status, ==, 2);

  run_cli (&no_query, "--profile", profile, "search", NULL);
  g_assert_cmpint (no_query.status, ==, 2);

  run_cli (&help, "help", NULL);
  g_assert_cmpint (help.status, ==, 0);
  g_assert_nonnull (strstr (help.out, "search [--json] [--limit N] [--newest] QUERY"));

  run_cli (&version, "--version", NULL);
  g_assert_cmpint (version.status, ==, 0);
  g_assert_cmpstr (version.out, ==, "frontdesk-cli " PACKAGE_VERSION "\n");

  /* No store yet: info says so and creates nothing. */
  run_cli (&missing, "--profile", profile, "info", NULL);
  g_assert_cmpint (missing.status, ==, 1);
  assert_plain_message (missing.err);
  g_assert_false (g_file_test (profile, G_FILE_TEST_EXISTS));
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/demo/determinism", test_determinism);
  g_test_add_func ("/demo/counts", test_counts);
  g_test_add_func ("/demo/organisations", test_organisations);
  g_test_add_func ("/demo/integrity", test_integrity);
  g_test_add_func ("/demo/coherence", test_coherence);
  g_test_add_func ("/demo/time-range", test_time_range);
  g_test_add_func ("/demo/fts", test_fts);
  g_test_add_func ("/demo/refuses-seeded", test_refuses_seeded);
  g_test_add_func ("/demo/atomic", test_atomic);
  g_test_add_func ("/demo/ensure-async", test_ensure_async);
  g_test_add_func ("/cli/demo-info-search", test_cli_demo_info_search);
  g_test_add_func ("/cli/search-hostile", test_cli_search_hostile);
  g_test_add_func ("/cli/search-json", test_cli_search_json);
  g_test_add_func ("/cli/garbage-store", test_cli_garbage_store);
  g_test_add_func ("/cli/foreign-store", test_cli_foreign_store);
  g_test_add_func ("/cli/usage", test_cli_usage);

  ret = g_test_run ();

  g_clear_pointer (&shared_db, sqlite3_close);
  return ret;
}
