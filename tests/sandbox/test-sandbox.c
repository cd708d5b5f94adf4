/* test-sandbox.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * frontdesk-sandbox against a real libsoup client: one sandbox, seeded small with a
 * fixed seed in a temporary database, runs on its own thread for the whole file; the
 * tests talk to it synchronously and check shapes, paging, writes, auth errors, faults
 * and Socket Mode. The last test runs the built program.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "fd-sandbox.h"

static FdSandbox *sandbox;
static char *tmp_dir;
static char *db_path;
static SoupSession *session;

#define INTERCOM_AUTH "Authorization", "Bearer " FD_SANDBOX_INTERCOM_TOKEN
#define SLACK_AUTH "Authorization", "Bearer " FD_SANDBOX_SLACK_BOT_TOKEN
#define DISCOURSE_AUTH "Api-Key", FD_SANDBOX_DISCOURSE_KEY, "Api-Username", "system"

/* {{{ Helpers */

typedef struct
{
  guint               status;
  char               *body;
  SoupMessageHeaders *headers;
  JsonNode           *json;
  GError             *error;
} Reply;

static void
reply_free (Reply *reply)
{
  g_free (reply->body);
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_clear_pointer (&reply->json, json_node_unref);
  g_clear_error (&reply->error);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

/* Sends a request to the sandbox; the varargs are header name/value pairs, NULL-ended. */
static Reply *
call_with (SoupSession *with,
           const char  *method,
           const char  *path,
           const char  *content_type,
           const char  *body,
           ...)
{
  g_autofree char *url = g_strconcat (fd_sandbox_get_base_url (sandbox), path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) bytes = NULL;
  Reply *reply = g_new0 (Reply, 1);
  const char *name;
  va_list args;

  g_assert_nonnull (msg);
  va_start (args, body);
  while ((name = va_arg (args, const char *)) != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), name,
                                  va_arg (args, const char *));
  va_end (args);

  if (body != NULL)
    {
      g_autoptr(GBytes) request = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, content_type, request);
    }

  bytes = soup_session_send_and_read (with, msg, NULL, &reply->error);
  reply->status = soup_message_get_status (msg);
  reply->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  if (bytes != NULL)
    {
      reply->body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      reply->json = json_from_string (reply->body, NULL);
    }
  return reply;
}

#define call(...) call_with (session, __VA_ARGS__)

static JsonObject *
obj (Reply *reply)
{
  g_assert_no_error (reply->error);
  g_assert_nonnull (reply->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply->json));
  return json_node_get_object (reply->json);
}

static JsonObject *
get_obj (JsonObject *object,
         const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  return json_object_get_object_member (object, member);
}

static JsonArray *
get_array (JsonObject *object,
           const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  return json_object_get_array_member (object, member);
}

static const char *
get_str (JsonObject *object,
         const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  return json_object_get_string_member (object, member);
}

static gint64
db_count (const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static char *
url_escape (const char *text)
{
  return g_uri_escape_string (text, NULL, FALSE);
}

static void
assert_intercom_error (Reply      *reply,
                       guint       status,
                       const char *code)
{
  JsonObject *o = obj (reply);
  JsonObject *first;

  g_assert_cmpuint (reply->status, ==, status);
  g_assert_cmpstr (get_str (o, "type"), ==, "error.list");
  g_assert_nonnull (get_str (o, "request_id"));
  first = json_array_get_object_element (get_array (o, "errors"), 0);
  g_assert_cmpstr (get_str (first, "code"), ==, code);
  g_assert_nonnull (get_str (first, "message"));
}

static void
assert_slack_error (Reply      *reply,
                    const char *error)
{
  JsonObject *o = obj (reply);

  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_false (json_object_get_boolean_member (o, "ok"));
  g_assert_cmpstr (get_str (o, "error"), ==, error);
}

static SoupSession *
fresh_session (void)
{
  return soup_session_new_with_options ("timeout", 20, "max-conns-per-host", 8, NULL);
}

/* }}} */
/* {{{ Intercom */

static void
test_intercom_auth (void)
{
  g_autoptr(Reply) missing = call ("GET", "/intercom/me", NULL, NULL, NULL);
  g_autoptr(Reply) wrong = call ("GET", "/intercom/conversations", NULL, NULL,
                                 "Authorization", "Bearer nope", NULL);

  assert_intercom_error (missing, 401, "unauthorized");
  assert_intercom_error (wrong, 401, "unauthorized");
  g_assert_cmpstr (get_str (json_array_get_object_element (get_array (obj (wrong), "errors"), 0),
                            "message"), ==, "Access Token Invalid");
}

static void
test_intercom_me_admins (void)
{
  g_autoptr(Reply) me = call ("GET", "/intercom/me", NULL, NULL, INTERCOM_AUTH, NULL);
  g_autoptr(Reply) admins = call ("GET", "/intercom/admins", NULL, NULL, INTERCOM_AUTH,
                                  "Intercom-Version", "2.11", NULL);
  g_autoptr(Reply) tags = call ("GET", "/intercom/tags", NULL, NULL, INTERCOM_AUTH, NULL);
  JsonArray *list;

  g_assert_cmpuint (me->status, ==, 200);
  g_assert_cmpstr (get_str (obj (me), "type"), ==, "admin");
  g_assert_cmpstr (get_str (obj (me), "name"), ==, "Sam Rivera");
  g_assert_cmpstr (get_str (get_obj (obj (me), "app"), "type"), ==, "app");

  g_assert_cmpuint (admins->status, ==, 200);
  g_assert_cmpstr (get_str (obj (admins), "type"), ==, "admin.list");
  list = get_array (obj (admins), "admins");
  g_assert_cmpuint (json_array_get_length (list), ==, db_count ("SELECT COUNT(*) FROM agents"));
  g_assert_cmpstr (get_str (json_array_get_object_element (list, 0), "type"), ==, "admin");

  g_assert_cmpstr (get_str (obj (tags), "type"), ==, "list");
  g_assert_cmpuint (json_array_get_length (get_array (obj (tags), "data")), ==,
                    db_count ("SELECT COUNT(*) FROM tags"));
}

static void
test_intercom_list_all (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gint64 expected = db_count ("SELECT COUNT(*) FROM conversations WHERE channel IN ('email', 'chat')");
  g_autofree char *after = NULL;
  gint64 started = g_get_monotonic_time ();
  guint pages = 0;
  gint64 previous_updated = G_MAXINT64;

  for (;;)
    {
      g_autofree char *escaped = after ? url_escape (after) : NULL;
      g_autofree char *path = g_strdup_printf ("/intercom/conversations?per_page=150%s%s",
                                               after ? "&starting_after=" : "",
                                               after ? escaped : "");
      g_autoptr(Reply) reply = call ("GET", path, NULL, NULL, INTERCOM_AUTH, NULL);
      JsonObject *o = obj (reply);
      JsonObject *page_info = get_obj (o, "pages");
      JsonArray *list = get_array (o, "conversations");

      g_assert_cmpuint (reply->status, ==, 200);
      g_assert_cmpstr (get_str (o, "type"), ==, "conversation.list");
      g_assert_cmpint (json_object_get_int_member (o, "total_count"), ==, expected);
      g_assert_cmpstr (get_str (page_info, "type"), ==, "pages");
      g_assert_cmpint (json_object_get_int_member (page_info, "page"), ==, pages + 1);
      g_assert_cmpint (json_object_get_int_member (page_info, "per_page"), ==, 150);
      g_assert_cmpint (json_object_get_int_member (page_info, "total_pages"), ==, (expected + 149) / 150);
      g_assert_cmpuint (json_array_get_length (list), <=, 150);

      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *c = json_array_get_object_element (list, i);
          const char *id = get_str (c, "id");
          gint64 updated = json_object_get_int_member (c, "updated_at");
          const char *source_type = get_str (get_obj (c, "source"), "type");

          g_assert_false (g_hash_table_contains (seen, id));
          g_hash_table_add (seen, g_strdup (id));
          g_assert_cmpstr (get_str (c, "type"), ==, "conversation");
          /* Seconds, not milliseconds, newest activity first. */
          g_assert_cmpint (updated, <, G_GINT64_CONSTANT (100000000000));
          g_assert_cmpint (updated, <=, previous_updated);
          previous_updated = updated;
          g_assert_true (g_str_equal (source_type, "email") || g_str_equal (source_type, "conversation"));
          g_assert_false (json_object_has_member (c, "conversation_parts"));
        }
      pages++;

      g_clear_pointer (&after, g_free);
      if (!json_object_has_member (page_info, "next"))
        break;
      after = g_strdup (get_str (get_obj (page_info, "next"), "starting_after"));
      g_assert_cmpint (json_object_get_int_member (get_obj (page_info, "next"), "page"), ==, pages + 1);
    }

  g_assert_cmpint (g_hash_table_size (seen), ==, expected);
  g_test_message ("Paged %u Intercom conversations in %u pages in %.0f ms", g_hash_table_size (seen),
                  pages, (g_get_monotonic_time () - started) / 1000.0);

  {
    g_autoptr(Reply) bad = call ("GET", "/intercom/conversations?starting_after=bm9wZQ==", NULL, NULL,
                                 INTERCOM_AUTH, NULL);

    assert_intercom_error (bad, 400, "parameter_invalid");
  }
}

static gint64
some_conversation (const char *where)
{
  g_autofree char *sql = g_strdup_printf ("SELECT id FROM conversations WHERE %s ORDER BY id LIMIT 1", where);

  return db_count (sql);
}

static JsonObject *
retrieve (gint64  id,
          Reply **out)
{
  g_autofree char *path = g_strdup_printf ("/intercom/conversations/%" G_GINT64_FORMAT, id);

  *out = call ("GET", path, NULL, NULL, INTERCOM_AUTH, NULL);
  g_assert_cmpuint ((*out)->status, ==, 200);
  return obj (*out);
}

static void
test_intercom_retrieve (void)
{
  gint64 email = some_conversation ("channel = 'email' AND status = 'resolved'");
  gint64 chat = some_conversation ("channel = 'chat'");
  gint64 slack = some_conversation ("channel = 'slack'");
  g_autoptr(Reply) r1 = NULL;
  g_autoptr(Reply) r2 = NULL;
  JsonObject *c, *source, *parts;
  JsonArray *list;
  gboolean saw_close = FALSE;

  c = retrieve (email, &r1);
  g_assert_cmpstr (get_str (c, "type"), ==, "conversation");
  g_assert_cmpstr (get_str (c, "state"), ==, "closed");
  g_assert_false (json_object_get_boolean_member (c, "open"));
  source = get_obj (c, "source");
  g_assert_cmpstr (get_str (source, "type"), ==, "email");
  g_assert_cmpstr (get_str (source, "delivered_as"), ==, "customer_initiated");
  g_assert_true (g_str_has_prefix (get_str (source, "body"), "<p>"));
  g_assert_cmpstr (get_str (get_obj (source, "author"), "type"), ==, "user");
  g_assert_nonnull (get_str (get_obj (source, "author"), "email"));
  g_assert_cmpstr (get_str (get_obj (c, "contacts"), "type"), ==, "contact.list");

  parts = get_obj (c, "conversation_parts");
  g_assert_cmpstr (get_str (parts, "type"), ==, "conversation_part.list");
  list = get_array (parts, "conversation_parts");
  g_assert_cmpint (json_object_get_int_member (parts, "total_count"), ==, json_array_get_length (list));
  g_assert_cmpuint (json_array_get_length (list), >, 0);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *p = json_array_get_object_element (list, i);
      const char *part_type = get_str (p, "part_type");
      const char *author_type = get_str (get_obj (p, "author"), "type");

      g_assert_cmpstr (get_str (p, "type"), ==, "conversation_part");
      g_assert_true (g_strv_contains ((const char *[]) { "comment", "note", "assignment", "close",
                                                         "open", "snoozed", NULL }, part_type));
      g_assert_true (g_strv_contains ((const char *[]) { "user", "admin", "bot", NULL }, author_type));
      g_assert_cmpint (json_object_get_int_member (p, "created_at"), <, G_GINT64_CONSTANT (100000000000));
      if (g_str_equal (part_type, "close"))
        saw_close = TRUE;
      if (g_str_equal (part_type, "comment") || g_str_equal (part_type, "note"))
        g_assert_true (g_str_has_prefix (get_str (p, "body"), "<p>"));
    }
  g_assert_true (saw_close);

  c = retrieve (chat, &r2);
  g_assert_cmpstr (get_str (get_obj (c, "source"), "type"), ==, "conversation");

  /* Slack conversations are not Intercom's. */
  {
    g_autofree char *path = g_strdup_printf ("/intercom/conversations/%" G_GINT64_FORMAT, slack);
    g_autoptr(Reply) missing = call ("GET", path, NULL, NULL, INTERCOM_AUTH, NULL);
    g_autoptr(Reply) nonsense = call ("GET", "/intercom/conversations/999999999", NULL, NULL,
                                      INTERCOM_AUTH, NULL);

    assert_intercom_error (missing, 404, "not_found");
    assert_intercom_error (nonsense, 404, "not_found");
    g_assert_cmpstr (get_str (json_array_get_object_element (get_array (obj (nonsense), "errors"), 0),
                              "message"), ==, "Resource Not Found");
  }

  /* Bodies are HTML with entities and links, to exercise normalisation. */
  {
    gint64 linked = some_conversation ("channel = 'chat' AND EXISTS (SELECT 1 FROM messages m"
                                       " WHERE m.conversation_id = conversations.id"
                                       " AND m.body LIKE '%https://%')");
    g_autoptr(Reply) r3 = NULL;
    g_autofree char *text = NULL;

    c = retrieve (linked, &r3);
    text = g_strdup (r3->body);
    g_assert_nonnull (strstr (text, "<a href=\\\"https://"));
  }
}

static Reply *
search (const char *body)
{
  return call ("POST", "/intercom/conversations/search", "application/json", body, INTERCOM_AUTH, NULL);
}

static void
test_intercom_search (void)
{
  gint64 max_ms = db_count ("SELECT MAX(updated_at) FROM conversations WHERE channel IN ('email','chat')");
  gint64 since = max_ms / 1000 - 3 * 24 * 3600;
  g_autofree char *sql = g_strdup_printf ("SELECT COUNT(*) FROM conversations WHERE channel IN ('email','chat')"
                                          " AND updated_at >= %" G_GINT64_FORMAT, (since + 1) * 1000);
  gint64 expected = db_count (sql);
  g_autofree char *body = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gint64 previous = 0;

  g_assert_cmpint (expected, >, 20);

  /* Incremental sync: everything updated after a time, oldest first, in pages. */
  for (;;)
    {
      g_autoptr(Reply) reply = NULL;
      JsonObject *o, *pages;
      JsonArray *list;

      g_free (body);
      body = g_strdup_printf ("{\"query\":{\"operator\":\"AND\",\"value\":[{\"field\":\"updated_at\","
                              "\"operator\":\">\",\"value\":%" G_GINT64_FORMAT "}]},"
                              "\"pagination\":{\"per_page\":25%s%s%s},"
                              "\"sort\":{\"field\":\"updated_at\",\"order\":\"ascending\"}}",
                              since, after ? ",\"starting_after\":\"" : "", after ? after : "",
                              after ? "\"" : "");
      reply = search (body);
      o = obj (reply);
      g_assert_cmpuint (reply->status, ==, 200);
      g_assert_cmpstr (get_str (o, "type"), ==, "conversation.list");
      g_assert_cmpint (json_object_get_int_member (o, "total_count"), ==, expected);
      list = get_array (o, "conversations");
      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *c = json_array_get_object_element (list, i);
          gint64 updated = json_object_get_int_member (c, "updated_at");

          g_assert_cmpint (updated, >, since);
          g_assert_cmpint (updated, >=, previous);
          previous = updated;
          g_assert_false (g_hash_table_contains (seen, get_str (c, "id")));
          g_hash_table_add (seen, g_strdup (get_str (c, "id")));
        }
      pages = get_obj (o, "pages");
      g_clear_pointer (&after, g_free);
      if (!json_object_has_member (pages, "next"))
        break;
      after = g_strdup (get_str (get_obj (pages, "next"), "starting_after"));
    }
  g_assert_cmpint (g_hash_table_size (seen), ==, expected);

  /* Nesting, state and id. */
  {
    gint64 id = some_conversation ("channel = 'email' AND status = 'resolved'");
    g_autoptr(Reply) reply = NULL;
    JsonArray *list;

    g_free (body);
    body = g_strdup_printf ("{\"query\":{\"operator\":\"OR\",\"value\":["
                            "{\"operator\":\"AND\",\"value\":[{\"field\":\"id\",\"operator\":\"=\","
                            "\"value\":\"%" G_GINT64_FORMAT "\"},{\"field\":\"state\",\"operator\":\"=\","
                            "\"value\":\"closed\"}]},"
                            "{\"field\":\"id\",\"operator\":\"=\",\"value\":\"-5\"}]}}", id);
    reply = search (body);
    list = get_array (obj (reply), "conversations");
    g_assert_cmpuint (json_array_get_length (list), ==, 1);
    g_assert_cmpint (g_ascii_strtoll (get_str (json_array_get_object_element (list, 0), "id"), NULL, 10), ==, id);

    g_free (body);
    body = g_strdup_printf ("{\"query\":{\"operator\":\"AND\",\"value\":["
                            "{\"field\":\"id\",\"operator\":\"=\",\"value\":%" G_GINT64_FORMAT "},"
                            "{\"field\":\"state\",\"operator\":\"=\",\"value\":\"open\"}]}}", id);
    g_clear_pointer (&reply, reply_free);
    reply = search (body);
    g_assert_cmpuint (json_array_get_length (get_array (obj (reply), "conversations")), ==, 0);
  }

  /* Intercom refuses >= on dates, and malformed queries. */
  {
    g_autoptr(Reply) bad_op = search ("{\"query\":{\"field\":\"updated_at\",\"operator\":\">=\",\"value\":1}}");
    g_autoptr(Reply) bad_field = search ("{\"query\":{\"field\":\"colour\",\"operator\":\"=\",\"value\":1}}");
    g_autoptr(Reply) no_query = search ("{}");

    assert_intercom_error (bad_op, 400, "parameter_invalid");
    assert_intercom_error (bad_field, 400, "parameter_invalid");
    assert_intercom_error (no_query, 400, "parameter_not_found");
  }
}

static JsonObject *
last_part (JsonObject *conversation)
{
  JsonArray *list = get_array (get_obj (conversation, "conversation_parts"), "conversation_parts");

  g_assert_cmpuint (json_array_get_length (list), >, 0);
  return json_array_get_object_element (list, json_array_get_length (list) - 1);
}

static Reply *
post_json (const char *path,
           const char *body)
{
  return call ("POST", path, "application/json", body, INTERCOM_AUTH, NULL);
}

static void
test_intercom_writes (void)
{
  gint64 id = some_conversation ("channel = 'email' AND status = 'open' AND id > 100");
  g_autofree char *base = g_strdup_printf ("/intercom/conversations/%" G_GINT64_FORMAT, id);
  g_autofree char *reply_path = g_strconcat (base, "/reply", NULL);
  g_autofree char *parts_path = g_strconcat (base, "/parts", NULL);
  g_autofree char *tags_path = g_strconcat (base, "/tags", NULL);
  g_autoptr(Reply) before = NULL;
  gint64 updated_before, updated;
  JsonObject *c, *part;
  guint n_parts;
  gint64 admin = 991200000 + 3;
  g_autofree char *body = NULL;

  c = retrieve (id, &before);
  updated_before = json_object_get_int_member (c, "updated_at");
  n_parts = json_array_get_length (get_array (get_obj (c, "conversation_parts"), "conversation_parts"));

  /* A comment, as an admin; the answer is the conversation with its parts. */
  body = g_strdup_printf ("{\"message_type\":\"comment\",\"type\":\"admin\",\"admin_id\":\"%" G_GINT64_FORMAT "\","
                          "\"body\":\"Thanks &amp; sorry! See https://help.lumen.example/sso\"}", admin);
  {
    g_autoptr(Reply) r = post_json (reply_path, body);

    g_assert_cmpuint (r->status, ==, 200);
    c = obj (r);
    g_assert_cmpstr (get_str (c, "type"), ==, "conversation");
    part = last_part (c);
    g_assert_cmpstr (get_str (part, "part_type"), ==, "comment");
    g_assert_cmpstr (get_str (get_obj (part, "author"), "type"), ==, "admin");
    g_assert_cmpstr (get_str (get_obj (part, "author"), "name"), ==, "Jonas Weber");
    g_assert_nonnull (strstr (get_str (part, "body"), "<p>"));
    updated = json_object_get_int_member (c, "updated_at");
    g_assert_cmpint (updated, >=, updated_before);
    g_assert_cmpuint (json_array_get_length (get_array (get_obj (c, "conversation_parts"),
                                                        "conversation_parts")), ==, n_parts + 1);
  }

  /* A note. */
  g_free (body);
  body = g_strdup_printf ("{\"message_type\":\"note\",\"type\":\"admin\",\"admin_id\":%" G_GINT64_FORMAT ","
                          "\"body\":\"<p>Internal: check the <b>IdP</b> logs</p>\"}", admin);
  {
    g_autoptr(Reply) r = post_json (reply_path, body);

    g_assert_cmpuint (r->status, ==, 200);
    part = last_part (obj (r));
    g_assert_cmpstr (get_str (part, "part_type"), ==, "note");
    g_assert_cmpstr (get_str (part, "body"), ==, "<p>Internal: check the <b>IdP</b> logs</p>");
  }

  /* Assign, snooze, close, open: each visible on retrieve. */
  g_free (body);
  body = g_strdup_printf ("{\"message_type\":\"assignment\",\"type\":\"admin\",\"admin_id\":%" G_GINT64_FORMAT ","
                          "\"assignee_id\":%" G_GINT64_FORMAT "}", admin, admin + 4);
  {
    g_autoptr(Reply) r = post_json (parts_path, body);
    g_autoptr(Reply) again = NULL;

    g_assert_cmpuint (r->status, ==, 200);
    c = retrieve (id, &again);
    g_assert_cmpint (json_object_get_int_member (c, "admin_assignee_id"), ==, admin + 4);
    part = last_part (c);
    g_assert_cmpstr (get_str (part, "part_type"), ==, "assignment");
    g_assert_cmpstr (get_str (get_obj (part, "assigned_to"), "id"), ==, "991200007");
  }

  g_free (body);
  body = g_strdup_printf ("{\"message_type\":\"snoozed\",\"admin_id\":%" G_GINT64_FORMAT ","
                          "\"snoozed_until\":%" G_GINT64_FORMAT "}", admin,
                          g_get_real_time () / G_USEC_PER_SEC + 3600);
  {
    g_autoptr(Reply) r = post_json (parts_path, body);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpstr (get_str (obj (r), "state"), ==, "snoozed");
    g_assert_cmpint (json_object_get_int_member (obj (r), "snoozed_until"), >, 0);
    g_assert_cmpstr (get_str (last_part (obj (r)), "part_type"), ==, "snoozed");
  }

  g_free (body);
  body = g_strdup_printf ("{\"message_type\":\"close\",\"type\":\"admin\",\"admin_id\":%" G_GINT64_FORMAT ","
                          "\"body\":\"Closing this one.\"}", admin);
  {
    g_autoptr(Reply) r = post_json (parts_path, body);
    g_autoptr(Reply) again = NULL;

    g_assert_cmpuint (r->status, ==, 200);
    c = retrieve (id, &again);
    g_assert_cmpstr (get_str (c, "state"), ==, "closed");
    g_assert_false (json_object_get_boolean_member (c, "open"));
    g_assert_cmpstr (get_str (last_part (c), "part_type"), ==, "close");
  }

  g_free (body);
  body = g_strdup_printf ("{\"message_type\":\"open\",\"admin_id\":%" G_GINT64_FORMAT "}", admin);
  {
    g_autoptr(Reply) r = post_json (parts_path, body);

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpstr (get_str (obj (r), "state"), ==, "open");
    g_assert_cmpstr (get_str (last_part (obj (r)), "part_type"), ==, "open");
  }

  /* Tags: add, see, remove. */
  g_free (body);
  body = g_strdup_printf ("{\"id\":\"12\",\"admin_id\":\"%" G_GINT64_FORMAT "\"}", admin);
  {
    g_autoptr(Reply) r = post_json (tags_path, body);
    g_autoptr(Reply) again = NULL;
    g_autoptr(Reply) removed = NULL;
    g_autoptr(Reply) gone = NULL;
    g_autofree char *delete_path = g_strconcat (tags_path, "/12", NULL);
    g_autofree char *delete_body = g_strdup_printf ("{\"admin_id\":%" G_GINT64_FORMAT "}", admin);
    JsonArray *tags;
    gboolean found = FALSE;

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpstr (get_str (obj (r), "type"), ==, "tag");
    g_assert_cmpstr (get_str (obj (r), "name"), ==, "export");
    c = retrieve (id, &again);
    tags = get_array (get_obj (c, "tags"), "tags");
    for (guint i = 0; i < json_array_get_length (tags); i++)
      found |= g_str_equal (get_str (json_array_get_object_element (tags, i), "id"), "12");
    g_assert_true (found);

    removed = call ("DELETE", delete_path, "application/json", delete_body, INTERCOM_AUTH, NULL);
    g_assert_cmpuint (removed->status, ==, 200);
    gone = call ("DELETE", delete_path, "application/json", delete_body, INTERCOM_AUTH, NULL);
    assert_intercom_error (gone, 404, "tag_not_found");
  }

  /* An incremental search sees the change. */
  g_free (body);
  body = g_strdup_printf ("{\"query\":{\"field\":\"updated_at\",\"operator\":\">\",\"value\":%" G_GINT64_FORMAT "}}",
                          updated_before - 1);
  {
    g_autoptr(Reply) r = search (body);
    JsonArray *list = get_array (obj (r), "conversations");
    gboolean found = FALSE;

    for (guint i = 0; i < json_array_get_length (list); i++)
      found |= g_ascii_strtoll (get_str (json_array_get_object_element (list, i), "id"), NULL, 10) == id;
    g_assert_true (found);
  }

  /* Bad writes. */
  {
    g_autoptr(Reply) no_body = post_json (reply_path, "{\"message_type\":\"comment\",\"type\":\"admin\",\"admin_id\":991200001}");
    g_autoptr(Reply) bad_type = post_json (reply_path, "{\"message_type\":\"shout\",\"type\":\"admin\",\"admin_id\":991200001,\"body\":\"x\"}");
    g_autoptr(Reply) bad_admin = post_json (reply_path, "{\"message_type\":\"comment\",\"type\":\"admin\",\"admin_id\":5,\"body\":\"x\"}");
    g_autoptr(Reply) not_json = post_json (reply_path, "message_type=comment");
    g_autoptr(Reply) bad_tag = post_json (tags_path, "{\"id\":\"9999\",\"admin_id\":991200001}");

    assert_intercom_error (no_body, 400, "parameter_not_found");
    assert_intercom_error (bad_type, 400, "parameter_invalid");
    assert_intercom_error (bad_admin, 404, "admin_not_found");
    assert_intercom_error (not_json, 400, "parameter_invalid");
    assert_intercom_error (bad_tag, 404, "tag_not_found");
  }
}

static void
test_intercom_idempotency (void)
{
  gint64 id = some_conversation ("channel = 'chat' AND id > 200");
  g_autofree char *path = g_strdup_printf ("/intercom/conversations/%" G_GINT64_FORMAT "/reply", id);
  const char *body = "{\"message_type\":\"comment\",\"type\":\"admin\",\"admin_id\":\"991200001\","
                     "\"body\":\"Only once, please.\"}";
  g_autofree char *sql = g_strdup_printf ("SELECT COUNT(*) FROM messages WHERE conversation_id = %"
                                          G_GINT64_FORMAT, id);
  gint64 before = db_count (sql);
  g_autoptr(Reply) first = call ("POST", path, "application/json", body, INTERCOM_AUTH,
                                 "Idempotency-Key", "outbox-42", NULL);
  g_autoptr(Reply) second = call ("POST", path, "application/json", body, INTERCOM_AUTH,
                                  "Idempotency-Key", "outbox-42", NULL);
  g_autoptr(Reply) third = call ("POST", path, "application/json", body, INTERCOM_AUTH,
                                 "Idempotency-Key", "outbox-43", NULL);

  g_assert_cmpuint (first->status, ==, 200);
  g_assert_cmpuint (second->status, ==, 200);
  g_assert_cmpstr (first->body, ==, second->body);
  g_assert_cmpstr (soup_message_headers_get_one (second->headers, "Idempotent-Replayed"), ==, "true");
  g_assert_cmpuint (third->status, ==, 200);
  g_assert_cmpint (db_count (sql), ==, before + 2);
}

static void
test_intercom_contacts_companies (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gint64 expected = db_count ("SELECT COUNT(*) FROM contacts");
  g_autofree char *after = NULL;
  g_autofree char *one = NULL;

  for (;;)
    {
      g_autofree char *escaped = after ? url_escape (after) : NULL;
      g_autofree char *path = g_strdup_printf ("/intercom/contacts?per_page=150%s%s",
                                               after ? "&starting_after=" : "", after ? escaped : "");
      g_autoptr(Reply) reply = call ("GET", path, NULL, NULL, INTERCOM_AUTH, NULL);
      JsonObject *o = obj (reply);
      JsonArray *data = get_array (o, "data");

      g_assert_cmpstr (get_str (o, "type"), ==, "list");
      g_assert_cmpint (json_object_get_int_member (o, "total_count"), ==, expected);
      for (guint i = 0; i < json_array_get_length (data); i++)
        {
          JsonObject *contact = json_array_get_object_element (data, i);

          g_assert_cmpstr (get_str (contact, "type"), ==, "contact");
          g_assert_cmpstr (get_str (contact, "role"), ==, "user");
          g_assert_cmpuint (strlen (get_str (contact, "id")), ==, 24);
          g_assert_false (g_hash_table_contains (seen, get_str (contact, "id")));
          g_hash_table_add (seen, g_strdup (get_str (contact, "id")));
          if (one == NULL)
            one = g_strdup (get_str (contact, "id"));
        }
      g_clear_pointer (&after, g_free);
      if (!json_object_has_member (get_obj (o, "pages"), "next"))
        break;
      after = g_strdup (get_str (get_obj (get_obj (o, "pages"), "next"), "starting_after"));
    }
  g_assert_cmpint (g_hash_table_size (seen), ==, expected);

  {
    g_autofree char *path = g_strdup_printf ("/intercom/contacts/%s", one);
    g_autoptr(Reply) contact = call ("GET", path, NULL, NULL, INTERCOM_AUTH, NULL);
    g_autoptr(Reply) missing = call ("GET", "/intercom/contacts/665000000000000000ffffff", NULL, NULL,
                                     INTERCOM_AUTH, NULL);

    g_assert_cmpstr (get_str (obj (contact), "id"), ==, one);
    g_assert_cmpstr (get_str (get_obj (obj (contact), "companies"), "type"), ==, "list");
    assert_intercom_error (missing, 404, "not_found");
  }

  {
    g_autoptr(Reply) page1 = call ("GET", "/intercom/companies?per_page=15", NULL, NULL, INTERCOM_AUTH, NULL);
    g_autoptr(Reply) page3 = call ("GET", "/intercom/companies?per_page=15&page=3", NULL, NULL, INTERCOM_AUTH, NULL);
    JsonObject *o = obj (page1);
    JsonObject *company = json_array_get_object_element (get_array (o, "data"), 0);
    g_autofree char *path = g_strdup_printf ("/intercom/companies/%s", get_str (company, "id"));
    g_autoptr(Reply) single = call ("GET", path, NULL, NULL, INTERCOM_AUTH, NULL);
    g_autoptr(Reply) missing = call ("GET", "/intercom/companies/665100000000000000ffffff", NULL, NULL,
                                     INTERCOM_AUTH, NULL);
    gint64 total = db_count ("SELECT COUNT(*) FROM organisations");

    g_assert_cmpint (json_object_get_int_member (o, "total_count"), ==, total);
    g_assert_cmpuint (json_array_get_length (get_array (o, "data")), ==, 15);
    g_assert_cmpstr (get_str (company, "type"), ==, "company");
    g_assert_true (g_str_has_prefix (get_str (company, "company_id"), "demo-org-"));
    g_assert_cmpint (json_object_get_int_member (get_obj (o, "pages"), "total_pages"), ==, (total + 14) / 15);
    g_assert_cmpint (json_object_get_int_member (get_obj (get_obj (o, "pages"), "next"), "page"), ==, 2);
    g_assert_cmpuint (json_array_get_length (get_array (obj (page3), "data")), ==, total - 30);
    g_assert_cmpstr (get_str (obj (single), "name"), ==, get_str (company, "name"));
    assert_intercom_error (missing, 404, "company_not_found");
  }
}

/* }}} */
/* {{{ Slack */

static Reply *
slack (const char *method,
       const char *form)
{
  g_autofree char *path = g_strconcat ("/slack/api/", method, NULL);

  return call ("POST", path, "application/x-www-form-urlencoded", form, SLACK_AUTH, NULL);
}

static void
test_slack_auth (void)
{
  g_autoptr(Reply) missing = call ("POST", "/slack/api/auth.test", NULL, NULL, NULL);
  g_autoptr(Reply) wrong = call ("POST", "/slack/api/auth.test", NULL, NULL,
                                 "Authorization", "Bearer xoxb-wrong", NULL);
  g_autoptr(Reply) form = call ("POST", "/slack/api/auth.test", "application/x-www-form-urlencoded",
                                "token=" FD_SANDBOX_SLACK_BOT_TOKEN, NULL);
  g_autoptr(Reply) query = call ("GET", "/slack/api/auth.test?token=" FD_SANDBOX_SLACK_BOT_TOKEN,
                                 NULL, NULL, NULL);
  g_autoptr(Reply) app = call ("POST", "/slack/api/auth.test", NULL, NULL,
                               "Authorization", "Bearer " FD_SANDBOX_SLACK_APP_TOKEN, NULL);
  g_autoptr(Reply) unknown = slack ("chat.shout", NULL);

  assert_slack_error (missing, "not_authed");
  assert_slack_error (wrong, "invalid_auth");
  assert_slack_error (app, "not_allowed_token_type");
  assert_slack_error (unknown, "unknown_method");
  g_assert_true (json_object_get_boolean_member (obj (form), "ok"));
  g_assert_cmpstr (get_str (obj (form), "user_id"), ==, "U0BOTSANDBX");
  g_assert_cmpstr (get_str (obj (form), "team_id"), ==, "T0LUMEN001");
  g_assert_true (json_object_get_boolean_member (obj (query), "ok"));
}

/* Walks every channel and every parent, and every reply in the first few channels, as a
 * first sync would (all of them is a minute under AddressSanitizer). */
#define REPLY_CHANNELS 4

static void
test_slack_read (void)
{
  g_autoptr(GPtrArray) channels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) walked = g_string_new (NULL);
  g_autofree char *cursor = NULL;
  g_autofree char *expected_sql = NULL;
  gint64 expected_channels = db_count ("SELECT COUNT(*) FROM sandbox_slack_channels");
  gint64 expected_parents = db_count ("SELECT COUNT(*) FROM sandbox_slack_messages WHERE ts = thread_ts");
  gint64 seen_messages = 0, threads = 0, replies_total = 0;
  gboolean mention = FALSE, link = FALSE;
  gint64 started = g_get_monotonic_time ();
  g_autofree char *some_user = NULL;
  g_autofree char *some_agent = NULL;

  g_assert_cmpint (expected_channels, >=, 12);

  do
    {
      g_autofree char *form = g_strdup_printf ("types=public_channel,private_channel&exclude_archived=true"
                                               "&limit=5%s%s", cursor ? "&cursor=" : "",
                                               cursor ? cursor : "");
      g_autoptr(Reply) reply = slack ("conversations.list", form);
      JsonObject *o = obj (reply);
      JsonArray *list = get_array (o, "channels");

      g_assert_true (json_object_get_boolean_member (o, "ok"));
      g_assert_cmpuint (json_array_get_length (list), <=, 5);
      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *ch = json_array_get_object_element (list, i);

          g_assert_true (json_object_get_boolean_member (ch, "is_ext_shared"));
          g_assert_true (g_str_has_suffix (get_str (ch, "name"), "-support") ||
                         strstr (get_str (ch, "name"), "-support-") != NULL);
          g_ptr_array_add (channels, g_strdup (get_str (ch, "id")));
        }
      g_clear_pointer (&cursor, g_free);
      if (get_str (get_obj (o, "response_metadata"), "next_cursor")[0] != '\0')
        cursor = url_escape (get_str (get_obj (o, "response_metadata"), "next_cursor"));
    }
  while (cursor != NULL);
  g_assert_cmpint (channels->len, ==, expected_channels);

  for (guint c = 0; c < channels->len; c++)
    {
      const char *channel = g_ptr_array_index (channels, c);
      gint64 previous = G_MAXINT64;

      do
        {
          g_autofree char *form = g_strdup_printf ("channel=%s&limit=40%s%s", channel,
                                                   cursor ? "&cursor=" : "", cursor ? cursor : "");
          g_autoptr(Reply) reply = slack ("conversations.history", form);
          JsonObject *o = obj (reply);
          JsonArray *list = get_array (o, "messages");

          g_assert_true (json_object_get_boolean_member (o, "ok"));
          for (guint i = 0; i < json_array_get_length (list); i++)
            {
              JsonObject *m = json_array_get_object_element (list, i);
              const char *ts = get_str (m, "ts");
              gint64 micro = (gint64) (g_ascii_strtod (ts, NULL) * 1e6);

              g_assert_cmpint (micro, <, previous);   /* newest first */
              previous = micro;
              seen_messages++;
              threads++;
              if (c >= REPLY_CHANNELS)
                continue;
              if (some_user == NULL && g_str_has_prefix (get_str (m, "user"), "UC"))
                some_user = g_strdup (get_str (m, "user"));

              if (json_object_has_member (m, "reply_count"))
                {
                  g_autofree char *replies_cursor = NULL;
                  gint64 reply_count = json_object_get_int_member (m, "reply_count");
                  gint64 replies_seen = 0;

                  g_assert_cmpstr (get_str (m, "thread_ts"), ==, ts);
                  g_assert_nonnull (get_str (m, "latest_reply"));
                  do
                    {
                      g_autofree char *rform = g_strdup_printf ("channel=%s&ts=%s&limit=3%s%s", channel, ts,
                                                                replies_cursor ? "&cursor=" : "",
                                                                replies_cursor ? replies_cursor : "");
                      g_autoptr(Reply) r = slack ("conversations.replies", rform);
                      JsonObject *ro = obj (r);
                      JsonArray *rl = get_array (ro, "messages");

                      g_assert_true (json_object_get_boolean_member (ro, "ok"));
                      /* Every page starts with the parent. */
                      g_assert_cmpstr (get_str (json_array_get_object_element (rl, 0), "ts"), ==, ts);
                      for (guint k = 1; k < json_array_get_length (rl); k++)
                        {
                          JsonObject *rm = json_array_get_object_element (rl, k);
                          const char *text = get_str (rm, "text");

                          g_assert_cmpstr (get_str (rm, "thread_ts"), ==, ts);
                          g_assert_nonnull (get_str (rm, "parent_user_id"));
                          mention |= strstr (text, "<@UC") != NULL;
                          link |= strstr (text, "<https://") != NULL && strchr (text, '|') != NULL;
                          if (some_agent == NULL && g_str_has_prefix (get_str (rm, "user"), "UA"))
                            some_agent = g_strdup (get_str (rm, "user"));
                          replies_seen++;
                        }
                      g_clear_pointer (&replies_cursor, g_free);
                      if (json_object_get_boolean_member (ro, "has_more"))
                        replies_cursor = url_escape (get_str (get_obj (ro, "response_metadata"), "next_cursor"));
                    }
                  while (replies_cursor != NULL);
                  g_assert_cmpint (replies_seen, ==, reply_count);
                  replies_total += replies_seen;
                }
            }
          g_clear_pointer (&cursor, g_free);
          if (json_object_get_boolean_member (o, "has_more"))
            cursor = url_escape (get_str (get_obj (o, "response_metadata"), "next_cursor"));
        }
      while (cursor != NULL);
    }

  g_assert_cmpint (seen_messages, ==, expected_parents);
  for (guint c = 0; c < MIN (channels->len, REPLY_CHANNELS); c++)
    g_string_append_printf (walked, "%s'%s'", c > 0 ? "," : "", (char *) g_ptr_array_index (channels, c));
  expected_sql = g_strdup_printf ("SELECT COUNT(*) FROM sandbox_slack_messages WHERE ts != thread_ts"
                                  " AND channel_id IN (%s)", walked->str);
  g_assert_cmpint (replies_total, ==, db_count (expected_sql));
  seen_messages += replies_total;
  g_assert_true (mention);
  g_assert_true (link);
  g_test_message ("Read %" G_GINT64_FORMAT " Slack messages in %" G_GINT64_FORMAT " threads in %.0f ms",
                  seen_messages, threads, (g_get_monotonic_time () - started) / 1000.0);

  /* users.info for a customer (another team) and an agent. */
  {
    g_autofree char *form = g_strdup_printf ("user=%s", some_user);
    g_autofree char *agent_form = g_strdup_printf ("user=%s", some_agent);
    g_autoptr(Reply) customer = slack ("users.info", form);
    g_autoptr(Reply) agent = slack ("users.info", agent_form);
    g_autoptr(Reply) nobody = slack ("users.info", "user=UC0FFFFFFF");
    JsonObject *profile = get_obj (get_obj (obj (customer), "user"), "profile");

    g_assert_true (json_object_get_boolean_member (obj (customer), "ok"));
    g_assert_cmpstr (get_str (get_obj (obj (customer), "user"), "id"), ==, some_user);
    g_assert_nonnull (strchr (get_str (profile, "email"), '@'));
    g_assert_nonnull (get_str (profile, "real_name"));
    g_assert_true (g_str_has_prefix (get_str (profile, "team"), "TE"));
    g_assert_cmpstr (get_str (get_obj (get_obj (obj (agent), "user"), "profile"), "team"), ==, "T0LUMEN001");
    assert_slack_error (nobody, "user_not_found");
  }

  /* Errors. */
  {
    g_autofree char *bad_thread = g_strdup_printf ("channel=%s&ts=1.000001", (char *) g_ptr_array_index (channels, 0));
    g_autofree char *bad_cursor = g_strdup_printf ("channel=%s&cursor=Z2FyYmFnZQ==", (char *) g_ptr_array_index (channels, 0));
    g_autoptr(Reply) no_channel = slack ("conversations.history", "channel=C000NOPE");
    g_autoptr(Reply) no_thread = slack ("conversations.replies", bad_thread);
    g_autoptr(Reply) cursor_error = slack ("conversations.history", bad_cursor);

    assert_slack_error (no_channel, "channel_not_found");
    assert_slack_error (no_thread, "thread_not_found");
    assert_slack_error (cursor_error, "invalid_cursor");
  }

  /* oldest/latest bound the history. */
  {
    const char *channel = g_ptr_array_index (channels, 0);
    g_autofree char *form = g_strdup_printf ("channel=%s&limit=3", channel);
    g_autoptr(Reply) top = slack ("conversations.history", form);
    JsonArray *list = get_array (obj (top), "messages");
    const char *second = get_str (json_array_get_object_element (list, 1), "ts");
    g_autofree char *window = g_strdup_printf ("channel=%s&latest=%s&inclusive=true&limit=1", channel, second);
    g_autoptr(Reply) bounded = slack ("conversations.history", window);

    g_assert_cmpstr (get_str (json_array_get_object_element (get_array (obj (bounded), "messages"), 0), "ts"),
                     ==, second);
  }
}

static char *
first_channel (void)
{
  g_autoptr(Reply) reply = slack ("conversations.list", "limit=1");

  return g_strdup (get_str (json_array_get_object_element (get_array (obj (reply), "channels"), 0), "id"));
}

static void
test_slack_post (void)
{
  g_autofree char *channel = first_channel ();
  g_autofree char *form = g_strdup_printf ("channel=%s&limit=1", channel);
  g_autoptr(Reply) history = slack ("conversations.history", form);
  JsonObject *parent = json_array_get_object_element (get_array (obj (history), "messages"), 0);
  g_autofree char *thread_ts = g_strdup (get_str (parent, "ts"));
  g_autofree char *post = g_strdup_printf ("channel=%s&thread_ts=%s&text=Fixed+%%26+deployed+%%3Chttps%%3A%%2F%%2Fstatus.lumen.example%%7Cstatus%%3E"
                                           "&client_msg_id=4f1d-outbox-7", channel, thread_ts);
  g_autoptr(Reply) first = slack ("chat.postMessage", post);
  g_autoptr(Reply) again = slack ("chat.postMessage", post);
  JsonObject *o = obj (first);
  g_autofree char *replies_form = g_strdup_printf ("channel=%s&ts=%s&limit=1000", channel, thread_ts);
  g_autoptr(Reply) replies = NULL;
  JsonArray *list;
  JsonObject *last;
  guint matches = 0;

  g_assert_true (json_object_get_boolean_member (o, "ok"));
  g_assert_cmpstr (get_str (o, "channel"), ==, channel);
  g_assert_cmpstr (get_str (get_obj (o, "message"), "thread_ts"), ==, thread_ts);
  g_assert_cmpstr (get_str (get_obj (o, "message"), "bot_id"), ==, "B0SANDBOX01");
  g_assert_cmpstr (get_str (get_obj (o, "message"), "text"), ==,
                   "Fixed & deployed <https://status.lumen.example|status>");
  /* The same client_msg_id is the same message. */
  g_assert_cmpstr (get_str (obj (again), "ts"), ==, get_str (o, "ts"));

  replies = slack ("conversations.replies", replies_form);
  list = get_array (obj (replies), "messages");
  last = json_array_get_object_element (list, json_array_get_length (list) - 1);
  g_assert_cmpstr (get_str (last, "ts"), ==, get_str (o, "ts"));
  for (guint i = 0; i < json_array_get_length (list); i++)
    matches += g_str_equal (get_str (json_array_get_object_element (list, i), "ts"), get_str (o, "ts"));
  g_assert_cmpuint (matches, ==, 1);

  /* A top-level message starts a thread of its own, newest in the history. */
  {
    g_autofree char *top_form = g_strdup_printf ("channel=%s&text=Scheduled+maintenance+tonight", channel);
    g_autoptr(Reply) top = slack ("chat.postMessage", top_form);
    g_autoptr(Reply) newest = slack ("conversations.history", form);
    JsonObject *m = json_array_get_object_element (get_array (obj (newest), "messages"), 0);

    g_assert_true (json_object_get_boolean_member (obj (top), "ok"));
    g_assert_cmpstr (get_str (m, "ts"), ==, get_str (obj (top), "ts"));
    g_assert_false (json_object_has_member (get_obj (obj (top), "message"), "thread_ts"));
  }

  /* JSON bodies work too; errors are Slack's. */
  {
    g_autofree char *json = g_strdup_printf ("{\"channel\":\"%s\",\"text\":\"JSON body\",\"thread_ts\":\"%s\"}",
                                             channel, thread_ts);
    g_autoptr(Reply) by_json = call ("POST", "/slack/api/chat.postMessage", "application/json", json,
                                     SLACK_AUTH, NULL);
    g_autofree char *no_text_form = g_strdup_printf ("channel=%s", channel);
    g_autofree char *bad_thread_form = g_strdup_printf ("channel=%s&text=x&thread_ts=12.000001", channel);
    g_autoptr(Reply) no_text = slack ("chat.postMessage", no_text_form);
    g_autoptr(Reply) no_channel = slack ("chat.postMessage", "channel=C0NOPE&text=x");
    g_autoptr(Reply) bad_thread = slack ("chat.postMessage", bad_thread_form);

    g_assert_true (json_object_get_boolean_member (obj (by_json), "ok"));
    assert_slack_error (no_text, "no_text");
    assert_slack_error (no_channel, "channel_not_found");
    assert_slack_error (bad_thread, "thread_not_found");
  }
}

/* }}} */
/* {{{ Discourse */

static void
assert_discourse_forbidden (Reply *reply)
{
  JsonObject *o = obj (reply);

  g_assert_cmpuint (reply->status, ==, 403);
  g_assert_cmpstr (get_str (o, "error_type"), ==, "invalid_access");
  g_assert_cmpstr (json_array_get_string_element (get_array (o, "errors"), 0), ==,
                   "You are not permitted to view the requested resource. The API username or key is invalid.");
}

static void
test_discourse_read (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  gint64 expected = db_count ("SELECT COUNT(*) FROM conversations WHERE channel = 'community'");
  g_autofree char *next = g_strdup ("/latest.json?order=activity");
  guint pages = 0;

  {
    g_autoptr(Reply) none = call ("GET", "/discourse/latest.json", NULL, NULL, NULL);
    g_autoptr(Reply) bad_key = call ("GET", "/discourse/latest.json", NULL, NULL,
                                     "Api-Key", "nope", "Api-Username", "system", NULL);
    g_autoptr(Reply) bad_user = call ("GET", "/discourse/latest.json", NULL, NULL,
                                      "Api-Key", FD_SANDBOX_DISCOURSE_KEY, "Api-Username", "mallory", NULL);
    g_autoptr(Reply) agent = call ("GET", "/discourse/categories.json", NULL, NULL,
                                   "Api-Key", FD_SANDBOX_DISCOURSE_KEY, "Api-Username", "sam_rivera", NULL);

    assert_discourse_forbidden (none);
    assert_discourse_forbidden (bad_key);
    assert_discourse_forbidden (bad_user);
    g_assert_cmpuint (agent->status, ==, 200);
  }

  while (next != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr(Reply) reply = NULL;
      JsonObject *list;
      JsonArray *topics;

      /* more_topics_url is relative to the forum and has no .json. */
      if (g_str_has_prefix (next, "/latest?"))
        path = g_strconcat ("/discourse/latest.json?", next + strlen ("/latest?"), NULL);
      else
        path = g_strconcat ("/discourse", next, NULL);
      reply = call ("GET", path, NULL, NULL, DISCOURSE_AUTH, NULL);
      g_assert_cmpuint (reply->status, ==, 200);
      list = get_obj (obj (reply), "topic_list");
      topics = get_array (list, "topics");
      g_assert_cmpuint (json_array_get_length (get_array (obj (reply), "users")), >, 0);
      for (guint i = 0; i < json_array_get_length (topics); i++)
        {
          JsonObject *t = json_array_get_object_element (topics, i);
          gint64 id = json_object_get_int_member (t, "id");

          g_assert_false (g_hash_table_contains (seen, GSIZE_TO_POINTER (id)));
          g_hash_table_add (seen, GSIZE_TO_POINTER (id));
          g_assert_cmpint (json_object_get_int_member (t, "posts_count"), >=, 1);
          g_assert_nonnull (get_str (t, "bumped_at"));
          g_assert_true (g_str_has_suffix (get_str (t, "created_at"), "Z"));
        }
      pages++;
      g_clear_pointer (&next, g_free);
      if (json_object_has_member (list, "more_topics_url"))
        next = g_strdup (get_str (list, "more_topics_url"));
    }
  g_assert_cmpint (g_hash_table_size (seen), ==, expected);
  g_assert_cmpuint (pages, ==, (expected + 29) / 30);

  {
    g_autoptr(Reply) categories = call ("GET", "/discourse/categories.json", NULL, NULL, DISCOURSE_AUTH, NULL);
    JsonArray *list = get_array (get_obj (obj (categories), "category_list"), "categories");
    JsonObject *first = json_array_get_object_element (list, 0);
    g_autofree char *path = g_strdup_printf ("/discourse/c/%s/%" G_GINT64_FORMAT ".json",
                                             get_str (first, "slug"), json_object_get_int_member (first, "id"));
    g_autoptr(Reply) category = call ("GET", path, NULL, NULL, DISCOURSE_AUTH, NULL);
    JsonArray *topics = get_array (get_obj (obj (category), "topic_list"), "topics");
    gint64 total = 0;

    g_assert_cmpuint (json_array_get_length (list), ==, 5);
    for (guint i = 0; i < json_array_get_length (list); i++)
      total += json_object_get_int_member (json_array_get_object_element (list, i), "topic_count");
    g_assert_cmpint (total, ==, expected);
    for (guint i = 0; i < json_array_get_length (topics); i++)
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (topics, i), "category_id"),
                       ==, json_object_get_int_member (first, "id"));
  }

  /* A topic, its stream, and posts by id. */
  {
    gint64 id = db_count ("SELECT topic_id FROM sandbox_discourse_posts GROUP BY topic_id"
                          " ORDER BY COUNT(*) DESC, topic_id LIMIT 1");
    gint64 n_posts = 0;
    g_autofree char *path = g_strdup_printf ("/discourse/t/%" G_GINT64_FORMAT ".json", id);
    g_autoptr(Reply) topic = call ("GET", path, NULL, NULL, DISCOURSE_AUTH, NULL);
    JsonObject *stream = get_obj (obj (topic), "post_stream");
    JsonArray *posts = get_array (stream, "posts");
    JsonArray *all = get_array (stream, "stream");
    JsonObject *post = json_array_get_object_element (posts, 0);
    g_autofree char *count_sql = g_strdup_printf ("SELECT COUNT(*) FROM sandbox_discourse_posts WHERE topic_id = %"
                                                  G_GINT64_FORMAT, id);
    g_autoptr(GString) posts_path = g_string_new (NULL);
    g_autoptr(Reply) some = NULL;

    n_posts = db_count (count_sql);
    g_assert_cmpint (json_array_get_length (all), ==, n_posts);
    g_assert_cmpint (json_object_get_int_member (obj (topic), "posts_count"), ==, n_posts);
    g_assert_cmpuint (json_array_get_length (posts), ==, MIN (n_posts, 20));
    g_assert_cmpint (json_object_get_int_member (post, "post_number"), ==, 1);
    g_assert_true (g_str_has_prefix (get_str (post, "cooked"), "<p>"));
    g_assert_cmpint (json_object_get_int_member (post, "topic_id"), ==, id);
    g_assert_nonnull (get_obj (get_obj (obj (topic), "details"), "created_by"));

    g_string_printf (posts_path, "/discourse/t/%" G_GINT64_FORMAT "/posts.json?", id);
    for (guint i = 1; i < json_array_get_length (all); i++)
      g_string_append_printf (posts_path, "post_ids%%5B%%5D=%" G_GINT64_FORMAT "&",
                              json_array_get_int_element (all, i));
    some = call ("GET", posts_path->str, NULL, NULL, DISCOURSE_AUTH, NULL);
    g_assert_cmpuint (json_array_get_length (get_array (get_obj (obj (some), "post_stream"), "posts")), ==,
                      n_posts - 1);
    g_assert_cmpint (json_object_get_int_member (obj (some), "id"), ==, id);
  }

  {
    g_autoptr(Reply) missing = call ("GET", "/discourse/t/99999999.json", NULL, NULL, DISCOURSE_AUTH, NULL);

    g_assert_cmpuint (missing->status, ==, 404);
    g_assert_cmpstr (get_str (obj (missing), "error_type"), ==, "not_found");
  }
}

static void
test_discourse_create (void)
{
  gint64 id = db_count ("SELECT MIN(id) FROM sandbox_discourse_topics");
  g_autofree char *body = g_strdup_printf ("{\"topic_id\":%" G_GINT64_FORMAT ","
                                           "\"raw\":\"Thanks for the report & the logs.\\n\\nSee https://status.lumen.example\"}", id);
  g_autofree char *count_sql = g_strdup_printf ("SELECT COUNT(*) FROM sandbox_discourse_posts WHERE topic_id = %"
                                                G_GINT64_FORMAT, id);
  gint64 before = db_count (count_sql);
  g_autoptr(Reply) created = call ("POST", "/discourse/posts.json", "application/json", body,
                                   "Api-Key", FD_SANDBOX_DISCOURSE_KEY, "Api-Username", "priya_natarajan", NULL);
  g_autoptr(Reply) duplicate = call ("POST", "/discourse/posts.json", "application/json", body,
                                     "Api-Key", FD_SANDBOX_DISCOURSE_KEY, "Api-Username", "priya_natarajan", NULL);
  g_autoptr(Reply) latest = call ("GET", "/discourse/latest.json", NULL, NULL, DISCOURSE_AUTH, NULL);
  JsonObject *post = obj (created);

  g_assert_cmpuint (created->status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (post, "topic_id"), ==, id);
  g_assert_cmpint (json_object_get_int_member (post, "post_number"), ==, before + 1);
  g_assert_cmpstr (get_str (post, "username"), ==, "priya_natarajan");
  g_assert_true (json_object_get_boolean_member (post, "staff"));
  g_assert_cmpstr (get_str (post, "cooked"), ==,
                   "<p>Thanks for the report &amp; the logs.</p><p>See <a href=\"https://status.lumen.example\" "
                   "target=\"_blank\" rel=\"nofollow noopener noreferrer\">https://status.lumen.example</a></p>");
  g_assert_nonnull (get_str (post, "raw"));
  g_assert_cmpint (db_count (count_sql), ==, before + 1);

  /* Discourse refuses the same post twice in a row. */
  g_assert_cmpuint (duplicate->status, ==, 422);
  g_assert_cmpstr (json_array_get_string_element (get_array (obj (duplicate), "errors"), 0), ==,
                   "Body is too similar to what you recently posted");

  /* The topic is bumped to the top of /latest. */
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (
                     get_array (get_obj (obj (latest), "topic_list"), "topics"), 0), "id"), ==, id);

  /* A new topic, as a form post. */
  {
    g_autoptr(Reply) topic = call ("POST", "/discourse/posts.json", "application/x-www-form-urlencoded",
                                   "title=Release+notes+for+March&raw=What%27s+new+this+month&category=5",
                                   DISCOURSE_AUTH, NULL);
    g_autoptr(Reply) blank = call ("POST", "/discourse/posts.json", "application/json", "{\"topic_id\":1,\"raw\":\" \"}",
                                   DISCOURSE_AUTH, NULL);

    g_assert_cmpuint (topic->status, ==, 200);
    g_assert_cmpint (json_object_get_int_member (obj (topic), "post_number"), ==, 1);
    g_assert_cmpstr (get_str (obj (topic), "username"), ==, "system");
    g_assert_cmpuint (blank->status, ==, 422);
  }
}

/* }}} */
/* {{{ Faults */

static void
test_fault_rate_limit (void)
{
  g_autoptr(SoupSession) s = fresh_session ();
  g_autoptr(Reply) limited = NULL;
  g_autoptr(Reply) after = NULL;
  g_autoptr(Reply) slack_limited = NULL;
  g_autoptr(Reply) slack_after = NULL;
  g_autoptr(Reply) added = NULL;

  fd_sandbox_add_fault (sandbox, "/intercom/conversations", FD_SANDBOX_FAULT_RATE_LIMIT, 1, 2);
  limited = call_with (s, "GET", "/intercom/conversations", NULL, NULL, INTERCOM_AUTH, NULL);
  after = call_with (s, "GET", "/intercom/conversations", NULL, NULL, INTERCOM_AUTH, NULL);

  assert_intercom_error (limited, 429, "rate_limit_exceeded");
  g_assert_cmpstr (soup_message_headers_get_one (limited->headers, "Retry-After"), ==, "2");
  g_assert_cmpuint (after->status, ==, 200);

  /* The same through the control API, for Slack: 429 with Slack's own body. */
  added = call_with (s, "POST", "/_control/faults", "application/json",
                     "{\"path_prefix\":\"/slack/api/conversations.list\",\"kind\":\"rate_limit\","
                     "\"count\":1,\"param\":7}", NULL);
  g_assert_cmpuint (added->status, ==, 200);
  slack_limited = call_with (s, "POST", "/slack/api/conversations.list", NULL, NULL, SLACK_AUTH, NULL);
  slack_after = call_with (s, "POST", "/slack/api/conversations.list", NULL, NULL, SLACK_AUTH, NULL);
  g_assert_cmpuint (slack_limited->status, ==, 429);
  g_assert_cmpstr (soup_message_headers_get_one (slack_limited->headers, "Retry-After"), ==, "7");
  g_assert_cmpstr (get_str (obj (slack_limited), "error"), ==, "ratelimited");
  g_assert_true (json_object_get_boolean_member (obj (slack_after), "ok"));
}

static void
test_fault_server_errors (void)
{
  g_autoptr(SoupSession) s = fresh_session ();
  g_autoptr(Reply) e500 = NULL;
  g_autoptr(Reply) e503 = NULL;
  g_autoptr(Reply) ok = NULL;

  fd_sandbox_add_fault (sandbox, "/discourse/latest", FD_SANDBOX_FAULT_SERVER_ERROR, 1, 0);
  fd_sandbox_add_fault (sandbox, "/discourse/latest", FD_SANDBOX_FAULT_UNAVAILABLE, 1, 0);
  e500 = call_with (s, "GET", "/discourse/latest.json", NULL, NULL, DISCOURSE_AUTH, NULL);
  e503 = call_with (s, "GET", "/discourse/latest.json", NULL, NULL, DISCOURSE_AUTH, NULL);
  ok = call_with (s, "GET", "/discourse/latest.json", NULL, NULL, DISCOURSE_AUTH, NULL);

  g_assert_cmpuint (e500->status, ==, 500);
  g_assert_cmpuint (e503->status, ==, 503);
  g_assert_nonnull (get_array (obj (e500), "errors"));
  g_assert_cmpuint (ok->status, ==, 200);
}

static void
test_fault_truncate (void)
{
  g_autoptr(SoupSession) s = fresh_session ();
  g_autoptr(Reply) cut = NULL;
  g_autoptr(Reply) ok = NULL;

  fd_sandbox_add_fault (sandbox, "/intercom/admins", FD_SANDBOX_FAULT_TRUNCATE, 1, 0);
  cut = call_with (s, "GET", "/intercom/admins", NULL, NULL, INTERCOM_AUTH, NULL);
  /* Either the client notices the short body, or what it got does not parse. */
  g_assert_true (cut->error != NULL || cut->json == NULL);
  ok = call_with (s, "GET", "/intercom/admins", NULL, NULL, INTERCOM_AUTH, NULL);
  g_assert_cmpuint (ok->status, ==, 200);
}

static void
test_fault_malformed (void)
{
  g_autoptr(SoupSession) s = fresh_session ();
  g_autoptr(Reply) broken = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();

  fd_sandbox_add_fault (sandbox, "/slack/api/auth.test", FD_SANDBOX_FAULT_MALFORMED, 1, 0);
  broken = call_with (s, "POST", "/slack/api/auth.test", NULL, NULL, SLACK_AUTH, NULL);
  g_assert_no_error (broken->error);
  g_assert_cmpuint (broken->status, ==, 200);
  g_assert_nonnull (broken->body);
  g_assert_false (json_parser_load_from_data (parser, broken->body, -1, NULL));
}

static void
test_fault_drop (void)
{
  g_autoptr(SoupSession) s = fresh_session ();
  g_autoptr(Reply) dropped = NULL;
  g_autoptr(Reply) ok = NULL;
  guint before = fd_sandbox_get_request_count (sandbox, "/intercom/me");

  fd_sandbox_add_fault (sandbox, "/intercom/me", FD_SANDBOX_FAULT_DROP, 1, 0);
  dropped = call_with (s, "GET", "/intercom/me", NULL, NULL, INTERCOM_AUTH, NULL);
  g_assert_nonnull (dropped->error);
  g_assert_cmpuint (fd_sandbox_get_request_count (sandbox, "/intercom/me"), ==, before + 1);
  ok = call_with (s, "GET", "/intercom/me", NULL, NULL, INTERCOM_AUTH, NULL);
  g_assert_cmpuint (ok->status, ==, 200);
}

typedef struct
{
  gint64 elapsed_ms;
  guint  status;
} SlowResult;

static gpointer
slow_thread (gpointer data)
{
  SlowResult *result = data;
  g_autoptr(SoupSession) s = fresh_session ();
  gint64 started = g_get_monotonic_time ();
  g_autoptr(Reply) reply = call_with (s, "GET", "/intercom/tags", NULL, NULL, INTERCOM_AUTH, NULL);

  result->elapsed_ms = (g_get_monotonic_time () - started) / 1000;
  result->status = reply->status;
  return NULL;
}

static void
test_fault_slow (void)
{
  g_autoptr(SoupSession) s = fresh_session ();
  SlowResult result = { 0 };
  guint before = fd_sandbox_get_request_count (sandbox, "/intercom/tags");
  GThread *thread;
  gint64 started, fast_ms;

  /* Wide margins: the point is that a request is answered while another waits, on a
   * test machine that may be busy. */
  fd_sandbox_add_fault (sandbox, "/intercom/tags", FD_SANDBOX_FAULT_SLOW, 1, 3000);
  thread = g_thread_new ("slow-client", slow_thread, &result);

  /* Once the slow request is held, others are still answered at once. */
  while (fd_sandbox_get_request_count (sandbox, "/intercom/tags") == before)
    g_usleep (5000);
  started = g_get_monotonic_time ();
  {
    g_autoptr(Reply) fast = call_with (s, "GET", "/intercom/me", NULL, NULL, INTERCOM_AUTH, NULL);

    g_assert_cmpuint (fast->status, ==, 200);
  }
  fast_ms = (g_get_monotonic_time () - started) / 1000;

  g_thread_join (thread);
  g_assert_cmpuint (result.status, ==, 200);
  g_assert_cmpint (result.elapsed_ms, >=, 3000);
  g_assert_cmpint (fast_ms, <, 2000);
  g_test_message ("Slow request took %" G_GINT64_FORMAT " ms; a request meanwhile %" G_GINT64_FORMAT " ms",
                  result.elapsed_ms, fast_ms);
}

static void
test_fault_from_string (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Reply) limited = NULL;
  g_autoptr(Reply) cleared = NULL;
  g_autoptr(Reply) ok = NULL;
  g_autoptr(SoupSession) s = fresh_session ();

  g_assert_true (fd_sandbox_add_fault_from_string (sandbox, "/intercom/tags:unavailable:0", &error));
  g_assert_no_error (error);
  g_assert_false (fd_sandbox_add_fault_from_string (sandbox, "intercom:boom", &error));
  g_assert_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID);

  limited = call_with (s, "GET", "/intercom/tags", NULL, NULL, INTERCOM_AUTH, NULL);
  g_assert_cmpuint (limited->status, ==, 503);
  /* count 0 lasts until cleared. */
  g_clear_pointer (&limited, reply_free);
  limited = call_with (s, "GET", "/intercom/tags", NULL, NULL, INTERCOM_AUTH, NULL);
  g_assert_cmpuint (limited->status, ==, 503);

  cleared = call_with (s, "DELETE", "/_control/faults", NULL, NULL, NULL);
  g_assert_cmpuint (cleared->status, ==, 200);
  ok = call_with (s, "GET", "/intercom/tags", NULL, NULL, INTERCOM_AUTH, NULL);
  g_assert_cmpuint (ok->status, ==, 200);
}

/* }}} */
/* {{{ Control */

static void
test_control (void)
{
  guint before = fd_sandbox_get_request_count (sandbox, "/intercom/admins");
  g_autoptr(Reply) a = call ("GET", "/intercom/admins", NULL, NULL, INTERCOM_AUTH, NULL);
  g_autoptr(Reply) b = call ("GET", "/intercom/admins/991200002", NULL, NULL, INTERCOM_AUTH, NULL);
  g_autoptr(Reply) count = call ("GET", "/_control/requests?prefix=/intercom/admins", NULL, NULL, NULL);
  g_autoptr(Reply) info = call ("GET", "/_control/info", NULL, NULL, NULL);
  g_autoptr(Reply) bad = call ("POST", "/_control/faults", "application/json", "{\"kind\":\"boom\"}", NULL);

  g_assert_cmpuint (a->status, ==, 200);
  g_assert_cmpstr (get_str (obj (b), "name"), ==, "Priya Natarajan");
  g_assert_cmpint (json_object_get_int_member (obj (count), "count"), ==, before + 2);
  g_assert_true (g_str_has_suffix (get_str (get_obj (obj (info), "services"), "slack"), "/slack/api"));
  g_assert_cmpuint (bad->status, ==, 400);

  /* A customer writes on Intercom: the conversation reopens and an incremental search sees it. */
  {
    gint64 id = some_conversation ("channel = 'email' AND status = 'resolved' AND id > 300");
    g_autofree char *body = g_strdup_printf ("{\"service\":\"intercom\",\"conversation_external_id\":\"%" G_GINT64_FORMAT "\","
                                             "\"body\":\"It broke again this morning.\"}", id);
    g_autoptr(Reply) incoming = call ("POST", "/_control/incoming", "application/json", body, NULL);
    g_autoptr(Reply) fresh = call ("POST", "/_control/incoming", "application/json",
                                   "{\"service\":\"intercom\",\"new\":true,\"channel\":\"chat\","
                                   "\"body\":\"Hello, is anyone there?\"}", NULL);
    g_autoptr(Reply) conv = NULL;
    JsonObject *c;
    gint64 updated;
    g_autofree char *query = NULL;
    g_autoptr(Reply) found = NULL;

    g_assert_cmpuint (incoming->status, ==, 200);
    g_assert_true (json_object_get_boolean_member (obj (incoming), "ok"));
    updated = json_object_get_int_member (obj (incoming), "updated_at");
    c = retrieve (id, &conv);
    g_assert_cmpstr (get_str (c, "state"), ==, "open");
    /* The customer's comment, then the reopening it caused, at the same second. */
    {
      JsonArray *parts = get_array (get_obj (c, "conversation_parts"), "conversation_parts");
      JsonObject *comment = json_array_get_object_element (parts, json_array_get_length (parts) - 2);

      g_assert_cmpstr (get_str (comment, "part_type"), ==, "comment");
      g_assert_cmpstr (get_str (get_obj (comment, "author"), "type"), ==, "user");
      g_assert_cmpstr (get_str (comment, "body"), ==, "<p>It broke again this morning.</p>");
      g_assert_cmpstr (get_str (last_part (c), "part_type"), ==, "open");
      g_assert_cmpint (json_object_get_int_member (last_part (c), "created_at"), ==,
                       json_object_get_int_member (comment, "created_at"));
    }
    g_assert_cmpint (json_object_get_int_member (c, "waiting_since"), >, 0);

    g_assert_cmpuint (fresh->status, ==, 200);
    query = g_strdup_printf ("{\"query\":{\"field\":\"updated_at\",\"operator\":\">\",\"value\":%" G_GINT64_FORMAT "},"
                             "\"sort\":{\"field\":\"updated_at\",\"order\":\"ascending\"}}", updated - 1);
    found = search (query);
    g_assert_cmpint (json_object_get_int_member (obj (found), "total_count"), >=, 2);
  }

  /* And on Discourse. */
  {
    gint64 topic = db_count ("SELECT MAX(id) FROM sandbox_discourse_topics WHERE id < 4000");
    g_autofree char *body = g_strdup_printf ("{\"service\":\"discourse\",\"conversation_external_id\":%" G_GINT64_FORMAT ","
                                             "\"body\":\"Any news on this?\"}", topic);
    g_autoptr(Reply) incoming = call ("POST", "/_control/incoming", "application/json", body, NULL);
    g_autoptr(Reply) missing = call ("POST", "/_control/incoming", "application/json",
                                     "{\"service\":\"discourse\",\"conversation_external_id\":\"nope\",\"body\":\"x\"}", NULL);

    g_assert_cmpuint (incoming->status, ==, 200);
    g_assert_cmpint (json_object_get_int_member (obj (incoming), "topic_id"), ==, topic);
    g_assert_cmpuint (missing->status, ==, 400);
    g_assert_false (json_object_get_boolean_member (obj (missing), "ok"));
  }
}

/* Odd paths and bodies get the service's error, never a crash. */
static void
test_edges (void)
{
  g_autoptr(Reply) nothing = call ("GET", "/nothing", NULL, NULL, NULL);
  g_autoptr(Reply) intercom_root = call ("GET", "/intercom", NULL, NULL, INTERCOM_AUTH, NULL);
  g_autoptr(Reply) intercom_slash = call ("GET", "/intercom/", NULL, NULL, INTERCOM_AUTH, NULL);
  g_autoptr(Reply) discourse_root = call ("GET", "/discourse", NULL, NULL, DISCOURSE_AUTH, NULL);
  g_autoptr(Reply) discourse_deep = call ("GET", "/discourse/c/x/y/z/w/v/u.json", NULL, NULL, DISCOURSE_AUTH, NULL);
  g_autoptr(Reply) slack_root = call ("GET", "/slack/api/", NULL, NULL, SLACK_AUTH, NULL);
  g_autoptr(Reply) slack_other = call ("GET", "/slack/elsewhere", NULL, NULL, NULL);
  g_autoptr(Reply) garbage = search ("{\"query\": [1, 2");
  g_autoptr(Reply) deep = search ("{\"query\":{\"operator\":\"AND\",\"value\":[{\"operator\":\"OR\",\"value\":"
                                  "[{\"operator\":\"AND\",\"value\":[{\"operator\":\"OR\",\"value\":"
                                  "[{\"operator\":\"AND\",\"value\":[{\"field\":\"id\",\"operator\":\"=\","
                                  "\"value\":1}]}]}]}]}]}}");
  g_autoptr(Reply) empty_in = search ("{\"query\":{\"field\":\"id\",\"operator\":\"IN\",\"value\":[]}}");
  g_autoptr(Reply) unicode = call ("POST", "/slack/api/chat.postMessage", "application/x-www-form-urlencoded",
                                   "channel=nope&text=%E2%9C%93+%00", SLACK_AUTH, NULL);

  g_assert_cmpuint (nothing->status, ==, 404);
  assert_intercom_error (intercom_root, 404, "not_found");
  assert_intercom_error (intercom_slash, 404, "not_found");
  g_assert_cmpuint (discourse_root->status, ==, 404);
  g_assert_cmpuint (discourse_deep->status, ==, 404);
  assert_slack_error (slack_root, "unknown_method");
  g_assert_cmpuint (slack_other->status, ==, 404);
  assert_intercom_error (garbage, 400, "parameter_not_found");
  assert_intercom_error (deep, 400, "parameter_invalid");
  g_assert_cmpuint (json_array_get_length (get_array (obj (empty_in), "conversations")), ==, 0);
  assert_slack_error (unicode, "channel_not_found");
}

/* }}} */
/* {{{ Socket Mode */

typedef struct
{
  SoupWebsocketConnection *conn;
  GQueue                   messages;   /* of JsonNode */
  gboolean                 closed;
} Socket;

static void
socket_message_cb (SoupWebsocketConnection *conn,
                   SoupWebsocketDataType    type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  Socket *socket = user_data;
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  JsonNode *node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  g_queue_push_tail (&socket->messages, node);
}

static void
socket_closed_cb (SoupWebsocketConnection *conn,
                  gpointer                 user_data)
{
  ((Socket *) user_data)->closed = TRUE;
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Socket *socket = user_data;
  g_autoptr(GError) error = NULL;

  socket->conn = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &error);
  g_assert_no_error (error);
}

static void
open_socket (SoupSession *ws_session,
             Socket      *socket)
{
  g_autoptr(Reply) opened = call ("POST", "/slack/api/apps.connections.open", NULL, NULL,
                                  "Authorization", "Bearer " FD_SANDBOX_SLACK_APP_TOKEN, NULL);
  const char *url = get_str (obj (opened), "url");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

  g_assert_true (g_str_has_prefix (url, "ws://127.0.0.1:"));
  memset (socket, 0, sizeof *socket);
  g_queue_init (&socket->messages);
  soup_session_websocket_connect_async (ws_session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        connect_cb, socket);
  while (socket->conn == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_signal_connect (socket->conn, "message", G_CALLBACK (socket_message_cb), socket);
  g_signal_connect (socket->conn, "closed", G_CALLBACK (socket_closed_cb), socket);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The next message within @ms, or NULL. */
static JsonNode *
next_message (Socket *socket,
              guint   ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &timed_out);

  while (g_queue_is_empty (&socket->messages) && !timed_out && !socket->closed)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return g_queue_pop_head (&socket->messages);
}

static void
ack (Socket     *socket,
     JsonObject *envelope)
{
  g_autofree char *text = g_strdup_printf ("{\"envelope_id\":\"%s\"}", get_str (envelope, "envelope_id"));

  soup_websocket_connection_send_text (socket->conn, text);
}

/* Waits for the envelope whose event has @ts, acknowledging the others. */
static JsonNode *
envelope_for (Socket     *socket,
              const char *ts,
              guint       ms)
{
  for (;;)
    {
      JsonNode *node = next_message (socket, ms);
      JsonObject *o, *event;

      if (node == NULL)
        return NULL;
      o = json_node_get_object (node);
      if (g_str_equal (get_str (o, "type"), "events_api"))
        {
          event = get_obj (get_obj (o, "payload"), "event");
          if (g_str_equal (get_str (event, "ts"), ts))
            return node;
          ack (socket, o);
        }
      json_node_unref (node);
    }
}

static char *
incoming_slack (const char *body)
{
  g_autofree char *channel = first_channel ();
  g_autofree char *form = g_strdup_printf ("channel=%s&limit=1", channel);
  g_autoptr(Reply) history = slack ("conversations.history", form);
  const char *ts = get_str (json_array_get_object_element (get_array (obj (history), "messages"), 0), "ts");
  g_autofree char *request = g_strdup_printf ("{\"service\":\"slack\",\"conversation_external_id\":\"%s:%s\","
                                              "\"body\":\"%s\"}", channel, ts, body);
  g_autoptr(Reply) reply = call ("POST", "/_control/incoming", "application/json", request, NULL);

  if (reply->status != 200)
    g_test_message ("incoming: %s", reply->body);
  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpstr (get_str (obj (reply), "thread_ts"), ==, ts);
  return g_strdup (get_str (obj (reply), "ts"));
}

static void
socket_clear (Socket *socket)
{
  g_queue_clear_full (&socket->messages, (GDestroyNotify) json_node_unref);
  if (socket->conn != NULL)
    g_signal_handlers_disconnect_by_data (socket->conn, socket);
  g_clear_object (&socket->conn);
}

static void
test_socket_mode (void)
{
  g_autoptr(SoupSession) ws_session = soup_session_new ();
  g_autoptr(Reply) bot_token = call ("POST", "/slack/api/apps.connections.open", NULL, NULL, SLACK_AUTH, NULL);
  Socket socket;
  JsonNode *node;
  JsonObject *o, *payload, *event;
  g_autofree char *ts = NULL;
  g_autofree char *ts2 = NULL;

  assert_slack_error (bot_token, "not_allowed_token_type");
  fd_sandbox_set_ack_timeout (sandbox, 400);

  open_socket (ws_session, &socket);
  node = next_message (&socket, 5000);
  g_assert_nonnull (node);
  o = json_node_get_object (node);
  g_assert_cmpstr (get_str (o, "type"), ==, "hello");
  g_assert_cmpint (json_object_get_int_member (o, "num_connections"), ==, 1);
  json_node_unref (node);

  /* A customer writes in the thread: the envelope carries the message event. */
  ts = incoming_slack ("Still seeing 403s after the fix & a restart");
  node = envelope_for (&socket, ts, 5000);
  g_assert_nonnull (node);
  o = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (o, "retry_attempt"), ==, 0);
  g_assert_cmpstr (get_str (o, "retry_reason"), ==, "");
  g_assert_false (json_object_get_boolean_member (o, "accepts_response_payload"));
  payload = get_obj (o, "payload");
  g_assert_cmpstr (get_str (payload, "type"), ==, "event_callback");
  g_assert_nonnull (get_str (payload, "event_id"));
  event = get_obj (payload, "event");
  g_assert_cmpstr (get_str (event, "type"), ==, "message");
  g_assert_cmpstr (get_str (event, "text"), ==, "Still seeing 403s after the fix &amp; a restart");
  g_assert_true (g_str_has_prefix (get_str (event, "user"), "UC"));
  g_assert_true (g_str_has_prefix (get_str (event, "channel"), "CS"));
  g_assert_nonnull (get_str (event, "thread_ts"));

  /* Acknowledged: never sent again. */
  ack (&socket, o);
  json_node_unref (node);
  node = envelope_for (&socket, ts, 1200);
  g_assert_null (node);

  /* Not acknowledged: sent again after the timeout, marked as a retry. */
  ts2 = incoming_slack ("Hello? Anyone?");
  node = envelope_for (&socket, ts2, 5000);
  g_assert_nonnull (node);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "retry_attempt"), ==, 0);
  json_node_unref (node);
  node = envelope_for (&socket, ts2, 5000);
  g_assert_nonnull (node);
  o = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (o, "retry_attempt"), ==, 1);
  g_assert_cmpstr (get_str (o, "retry_reason"), ==, "timeout");
  ack (&socket, o);
  json_node_unref (node);

  /* The sandbox asks the client to reconnect. */
  {
    g_autoptr(Reply) disconnect = call ("POST", "/_control/slack/disconnect", NULL, NULL, NULL);

    g_assert_cmpuint (disconnect->status, ==, 200);
    for (;;)
      {
        node = next_message (&socket, 5000);
        g_assert_nonnull (node);
        o = json_node_get_object (node);
        if (g_str_equal (get_str (o, "type"), "disconnect"))
          break;
        json_node_unref (node);
      }
    g_assert_cmpstr (get_str (o, "reason"), ==, "refresh_requested");
    json_node_unref (node);
    while (!socket.closed)
      g_main_context_iteration (NULL, TRUE);
  }
  socket_clear (&socket);

  /* A reconnect works with a new ticket; a used one does not. */
  open_socket (ws_session, &socket);
  node = next_message (&socket, 5000);
  g_assert_cmpstr (get_str (json_node_get_object (node), "type"), ==, "hello");
  json_node_unref (node);
  soup_websocket_connection_close (socket.conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  while (!socket.closed)
    g_main_context_iteration (NULL, TRUE);
  socket_clear (&socket);

  {
    g_autoptr(Reply) opened = call ("POST", "/slack/api/apps.connections.open", NULL, NULL,
                                    "Authorization", "Bearer " FD_SANDBOX_SLACK_APP_TOKEN, NULL);
    const char *path = strstr (get_str (obj (opened), "url"), "/slack/socket");
    g_autoptr(Reply) first_use = NULL;
    g_autoptr(Reply) second_use = NULL;

    /* Plain GETs: the first spends the ticket (and fails the handshake), the second is refused. */
    g_assert_nonnull (path);
    first_use = call ("GET", path, NULL, NULL, NULL);
    second_use = call ("GET", path, NULL, NULL, NULL);
    g_assert_cmpuint (first_use->status, ==, 400);
    g_assert_cmpuint (second_use->status, ==, 401);
  }

  fd_sandbox_set_ack_timeout (sandbox, 3000);
}

/* }}} */
/* {{{ The program */

static void
test_binary (void)
{
  const char *binary = g_getenv ("FD_SANDBOX");
  /* The suite's own database, already seeded: the program serves it beside the thread. */
  const char *argv[] = { binary, "--port", "0", "--db", db_path, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOChannel) channel = NULL;
  g_autofree char *line = NULL;
  g_autoptr(SoupSession) s = fresh_session ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *url = NULL;
  GPid pid;
  int out_fd, status;

  if (binary == NULL)
    {
      g_test_skip ("FD_SANDBOX is not set");
      return;
    }

  g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                            &pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);

  channel = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (channel, TRUE);
  g_io_channel_read_line (channel, &line, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  g_strchomp (line);

  url = g_strconcat (line + strlen ("listening on "), "/intercom/me", NULL);
  msg = soup_message_new ("GET", url);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                "Bearer " FD_SANDBOX_INTERCOM_TOKEN);
  body = soup_session_send_and_read (s, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);

  kill (pid, SIGTERM);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

/* }}} */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  gint64 started;
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("test-sandbox-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmp_dir, "sandbox.db", NULL);

  started = g_get_monotonic_time ();
  sandbox = fd_sandbox_new (db_path);
  if (!fd_sandbox_seed (sandbox, 42, FD_DEMO_SCALE_SMALL, &error) ||
      !fd_sandbox_run_in_thread (sandbox, 0, &error))
    g_error ("Could not start the sandbox: %s", error->message);
  g_test_message ("Seeded and started the sandbox in %.0f ms",
                  (g_get_monotonic_time () - started) / 1000.0);
  session = fresh_session ();

  g_test_add_func ("/sandbox/intercom/auth", test_intercom_auth);
  g_test_add_func ("/sandbox/intercom/me-admins-tags", test_intercom_me_admins);
  g_test_add_func ("/sandbox/intercom/list-all", test_intercom_list_all);
  g_test_add_func ("/sandbox/intercom/retrieve", test_intercom_retrieve);
  g_test_add_func ("/sandbox/intercom/search", test_intercom_search);
  g_test_add_func ("/sandbox/intercom/writes", test_intercom_writes);
  g_test_add_func ("/sandbox/intercom/idempotency", test_intercom_idempotency);
  g_test_add_func ("/sandbox/intercom/contacts-companies", test_intercom_contacts_companies);
  g_test_add_func ("/sandbox/slack/auth", test_slack_auth);
  g_test_add_func ("/sandbox/slack/read", test_slack_read);
  g_test_add_func ("/sandbox/slack/post", test_slack_post);
  g_test_add_func ("/sandbox/discourse/read", test_discourse_read);
  g_test_add_func ("/sandbox/discourse/create", test_discourse_create);
  g_test_add_func ("/sandbox/fault/rate-limit", test_fault_rate_limit);
  g_test_add_func ("/sandbox/fault/server-errors", test_fault_server_errors);
  g_test_add_func ("/sandbox/fault/truncate", test_fault_truncate);
  g_test_add_func ("/sandbox/fault/malformed", test_fault_malformed);
  g_test_add_func ("/sandbox/fault/drop", test_fault_drop);
  g_test_add_func ("/sandbox/fault/slow", test_fault_slow);
  g_test_add_func ("/sandbox/fault/from-string", test_fault_from_string);
  g_test_add_func ("/sandbox/control", test_control);
  g_test_add_func ("/sandbox/edges", test_edges);
  g_test_add_func ("/sandbox/slack/socket-mode", test_socket_mode);
  g_test_add_func ("/sandbox/binary", test_binary);

  ret = g_test_run ();

  g_clear_object (&session);
  fd_sandbox_stop (sandbox);
  g_assert_finalize_object (sandbox);
  remove_tree (tmp_dir);
  g_free (db_path);
  g_free (tmp_dir);

  return ret;
}
