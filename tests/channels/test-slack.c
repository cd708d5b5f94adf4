/* test-slack.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * FdSlackChannel against a small Slack of our own on 127.0.0.1 (Web API and Socket Mode,
 * shaped like Slack's public reference), then against the sandbox.
 */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "fd-slack-channel.h"
#include "fd-store.h"
#include "fd-sync-batch.h"

#define BOT_TOKEN "xoxb-test-bot-token"
#define APP_TOKEN "xapp-test-app-token"
#define DAY_USEC (G_GINT64_CONSTANT (24) * 3600 * G_USEC_PER_SEC)
#define HOUR_USEC (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

/* The canned Slack */

typedef struct
{
  char *channel;
  char *ts;
  char *thread_ts;
  char *user;
  char *bot_id;
  char *subtype;
  char *text;
  char *client_msg_id;
} FakeMessage;

typedef struct
{
  char   *method;
  guint   after;        /* matching requests let through first */
  guint   status;       /* HTTP status, 0 for 200 */
  char   *retry_after;
  char   *slack_error; /* {"ok": false, "error": …} */
  char   *needed;
  gboolean garble;      /* a body cut in the middle */
} FakeFault;

typedef struct
{
  SoupServer *server;
  char       *base_url;
  char       *ws_url;
  GPtrArray  *messages;     /* FakeMessage */
  GHashTable *calls;        /* method → count */
  GPtrArray  *log;          /* "METHOD" and "ack:ENVELOPE", in order of arrival */
  GPtrArray  *faults;       /* FakeFault */
  guint       page_cap;
  gint64      clock;        /* the next ts, µs */
  GPtrArray  *sockets;      /* SoupWebsocketConnection */
  guint       acks;
  char       *last_post_text;
  char       *last_post_thread;
} FakeSlack;

static const struct
{
  const char *id;
  const char *team;
  const char *name;
  const char *email;
  gboolean    bot;
} fake_users[] = {
  { "UAGENT1", "TOURS", "Alice Agent", "alice@frontdesk.example", FALSE },
  { "UCUST1", "TACME", "Carol Customer", "carol@acme.example", FALSE },
  { "UCUST2", "TBETA", "Bob Beta", "bob@beta.example", FALSE },
  { "UBOT", "TOURS", "frontdesk", NULL, TRUE },
  { "UACMEBOT", "TACME", "Acme CI", NULL, TRUE },
};

static const struct
{
  const char *id;
  const char *name;
  gboolean    shared;
  gboolean    member;
} fake_channels[] = {
  { "CACME", "ext-acme-corp", TRUE, TRUE },
  { "CGENERAL", "general", FALSE, TRUE },
  { "CBETA", "shared-beta-labs", TRUE, TRUE },
  { "CGAMMA", "ext-gamma", TRUE, FALSE },
};

static void
fake_message_free (FakeMessage *m)
{
  g_free (m->channel);
  g_free (m->ts);
  g_free (m->thread_ts);
  g_free (m->user);
  g_free (m->bot_id);
  g_free (m->subtype);
  g_free (m->text);
  g_free (m->client_msg_id);
  g_free (m);
}

static void
fake_fault_free (FakeFault *f)
{
  g_free (f->method);
  g_free (f->retry_after);
  g_free (f->slack_error);
  g_free (f->needed);
  g_free (f);
}

static char *
ts_at (gint64 usec)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT,
                          usec / G_USEC_PER_SEC, usec % G_USEC_PER_SEC);
}

static gint64
ts_usec (const char *ts)
{
  return (gint64) (g_ascii_strtod (ts, NULL) * G_USEC_PER_SEC + 0.5);
}

/* Adds a message at @usec; a reply when @thread_ts is set. Returns its ts (owned by the
 * fake). */
static const char *
fake_add (FakeSlack  *fake,
          const char *channel,
          gint64      usec,
          const char *thread_ts,
          const char *user,
          const char *text)
{
  FakeMessage *m = g_new0 (FakeMessage, 1);

  m->channel = g_strdup (channel);
  m->ts = ts_at (usec);
  m->thread_ts = g_strdup (thread_ts);
  m->user = g_strdup (user);
  m->text = g_strdup (text);
  g_ptr_array_add (fake->messages, m);
  return m->ts;
}

static FakeMessage *
fake_find (FakeSlack  *fake,
           const char *channel,
           const char *ts)
{
  for (guint i = 0; i < fake->messages->len; i++)
    {
      FakeMessage *m = g_ptr_array_index (fake->messages, i);

      if (g_str_equal (m->channel, channel) && g_str_equal (m->ts, ts))
        return m;
    }
  return NULL;
}

static guint
fake_calls (FakeSlack  *fake,
            const char *method)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (fake->calls, method));
}

static FakeFault *
fake_add_fault (FakeSlack  *fake,
                const char *method,
                guint       after,
                guint       status)
{
  FakeFault *f = g_new0 (FakeFault, 1);

  f->method = g_strdup (method);
  f->after = after;
  f->status = status;
  g_ptr_array_add (fake->faults, f);
  return f;
}

static JsonNode *
user_json (guint i)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, fake_users[i].id);
  json_builder_set_member_name (b, "team_id");
  json_builder_add_string_value (b, fake_users[i].team);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, fake_users[i].id);
  json_builder_set_member_name (b, "real_name");
  json_builder_add_string_value (b, fake_users[i].name);
  json_builder_set_member_name (b, "is_bot");
  json_builder_add_boolean_value (b, fake_users[i].bot);
  json_builder_set_member_name (b, "profile");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "real_name");
  json_builder_add_string_value (b, fake_users[i].name);
  json_builder_set_member_name (b, "display_name");
  json_builder_add_string_value (b, "");
  if (fake_users[i].email != NULL)
    {
      json_builder_set_member_name (b, "email");
      json_builder_add_string_value (b, fake_users[i].email);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

static gboolean
is_top_level (FakeMessage *m)
{
  return m->thread_ts == NULL || g_str_equal (m->thread_ts, m->ts);
}

static JsonNode *
message_json (FakeSlack   *fake,
              FakeMessage *m,
              gboolean     thread_info)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint replies = 0;
  const char *latest = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "message");
  json_builder_set_member_name (b, "ts");
  json_builder_add_string_value (b, m->ts);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, m->text);
  if (m->user != NULL)
    {
      json_builder_set_member_name (b, "user");
      json_builder_add_string_value (b, m->user);
    }
  if (m->bot_id != NULL)
    {
      json_builder_set_member_name (b, "bot_id");
      json_builder_add_string_value (b, m->bot_id);
    }
  if (m->subtype != NULL)
    {
      json_builder_set_member_name (b, "subtype");
      json_builder_add_string_value (b, m->subtype);
    }

  for (guint i = 0; thread_info && is_top_level (m) && i < fake->messages->len; i++)
    {
      FakeMessage *r = g_ptr_array_index (fake->messages, i);

      if (r != m && g_str_equal (r->channel, m->channel) && g_strcmp0 (r->thread_ts, m->ts) == 0)
        {
          replies++;
          if (latest == NULL || ts_usec (r->ts) > ts_usec (latest))
            latest = r->ts;
        }
    }

  if (m->thread_ts != NULL || replies > 0)
    {
      json_builder_set_member_name (b, "thread_ts");
      json_builder_add_string_value (b, m->thread_ts != NULL ? m->thread_ts : m->ts);
    }
  if (replies > 0)
    {
      json_builder_set_member_name (b, "reply_count");
      json_builder_add_int_value (b, replies);
      json_builder_set_member_name (b, "latest_reply");
      json_builder_add_string_value (b, latest);
    }
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

static gint
compare_ts_desc (gconstpointer a,
                 gconstpointer b)
{
  gint64 x = ts_usec ((*(FakeMessage **) a)->ts);
  gint64 y = ts_usec ((*(FakeMessage **) b)->ts);

  return x < y ? 1 : x > y ? -1 : 0;
}

static gint
compare_ts_asc (gconstpointer a,
                gconstpointer b)
{
  return -compare_ts_desc (a, b);
}

/* Pages @list (FakeMessage) from the offset in "cursor", adding "messages", "has_more" and
 * "response_metadata". */
static void
add_page (FakeSlack   *fake,
          JsonBuilder *b,
          GPtrArray   *list,
          GHashTable  *params,
          gboolean     thread_info,
          FakeMessage *repeat_first)
{
  const char *cursor = g_hash_table_lookup (params, "cursor");
  const char *limit_text = g_hash_table_lookup (params, "limit");
  guint limit = limit_text != NULL ? (guint) g_ascii_strtoull (limit_text, NULL, 10) : 100;
  guint offset = cursor != NULL && g_str_has_prefix (cursor, "off:")
    ? (guint) g_ascii_strtoull (cursor + 4, NULL, 10) : 0;
  guint end;

  limit = MIN (MAX (limit, 1), fake->page_cap);
  end = MIN (offset + limit, list->len);

  json_builder_set_member_name (b, "messages");
  json_builder_begin_array (b);
  /* conversations.replies repeats the parent at the top of every page. */
  if (repeat_first != NULL && offset > 0)
    json_builder_add_value (b, message_json (fake, repeat_first, thread_info));
  for (guint i = offset; i < end; i++)
    json_builder_add_value (b, message_json (fake, g_ptr_array_index (list, i), thread_info));
  json_builder_end_array (b);

  json_builder_set_member_name (b, "has_more");
  json_builder_add_boolean_value (b, end < list->len);
  json_builder_set_member_name (b, "response_metadata");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "next_cursor");
  if (end < list->len)
    {
      g_autofree char *next = g_strdup_printf ("off:%u", end);
      json_builder_add_string_value (b, next);
    }
  else
    json_builder_add_string_value (b, "");
  json_builder_end_object (b);
}

static void
respond (SoupServerMessage *msg,
         guint              status,
         JsonNode          *root)
{
  char *text = json_to_string (root, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
}

static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *code,
               const char        *needed)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, code);
  if (needed != NULL)
    {
      json_builder_set_member_name (b, "needed");
      json_builder_add_string_value (b, needed);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  respond (msg, status, root);
}

static gboolean
fake_apply_fault (FakeSlack         *fake,
                  const char        *method,
                  SoupServerMessage *msg)
{
  for (guint i = 0; i < fake->faults->len; i++)
    {
      FakeFault *f = g_ptr_array_index (fake->faults, i);

      if (!g_str_equal (f->method, method))
        continue;
      if (f->after > 0)
        {
          f->after--;
          return FALSE;
        }

      if (f->retry_after != NULL)
        soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                      "Retry-After", f->retry_after);
      if (f->garble)
        {
          static const char cut[] = "{\"ok\": true, \"messages\": [{\"ts\": \"1";

          soup_server_message_set_status (msg, 200, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                            cut, strlen (cut));
        }
      else if (f->slack_error != NULL)
        respond_error (msg, f->status != 0 ? f->status : 200, f->slack_error, f->needed);
      else
        {
          soup_server_message_set_status (msg, f->status, NULL);
          soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "oops", 4);
        }

      g_ptr_array_remove_index (fake->faults, i);
      return TRUE;
    }

  return FALSE;
}

static void
fake_handler (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  FakeSlack *fake = user_data;
  const char *method = strrchr (path, '/') + 1;
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  gboolean app_method = g_str_equal (method, "apps.connections.open");

  g_hash_table_replace (fake->calls, g_strdup (method),
                        GUINT_TO_POINTER (fake_calls (fake, method) + 1));
  g_ptr_array_add (fake->log, g_strdup (method));

  if (g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      SoupMessageBody *body = soup_server_message_get_request_body (msg);
      g_autofree char *text = g_strndup (body->data, body->length);

      params = soup_form_decode (text);
    }
  else if (query != NULL)
    params = g_hash_table_ref (query);
  else
    params = g_hash_table_new (g_str_hash, g_str_equal);

  if (fake_apply_fault (fake, method, msg))
    return;

  if (g_strcmp0 (auth, app_method ? "Bearer " APP_TOKEN : "Bearer " BOT_TOKEN) != 0)
    {
      respond_error (msg, 200, auth == NULL ? "not_authed" : "invalid_auth", NULL);
      return;
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, TRUE);

  if (g_str_equal (method, "auth.test"))
    {
      json_builder_set_member_name (b, "team_id");
      json_builder_add_string_value (b, "TOURS");
      json_builder_set_member_name (b, "team");
      json_builder_add_string_value (b, "Frontdesk Inc");
      json_builder_set_member_name (b, "user_id");
      json_builder_add_string_value (b, "UBOT");
      json_builder_set_member_name (b, "bot_id");
      json_builder_add_string_value (b, "BBOT");
    }
  else if (g_str_equal (method, "conversations.list"))
    {
      json_builder_set_member_name (b, "channels");
      json_builder_begin_array (b);
      for (guint i = 0; i < G_N_ELEMENTS (fake_channels); i++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "id");
          json_builder_add_string_value (b, fake_channels[i].id);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, fake_channels[i].name);
          json_builder_set_member_name (b, "is_channel");
          json_builder_add_boolean_value (b, TRUE);
          json_builder_set_member_name (b, "is_ext_shared");
          json_builder_add_boolean_value (b, fake_channels[i].shared);
          json_builder_set_member_name (b, "is_member");
          json_builder_add_boolean_value (b, fake_channels[i].member);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "response_metadata");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "next_cursor");
      json_builder_add_string_value (b, "");
      json_builder_end_object (b);
    }
  else if (g_str_equal (method, "conversations.history"))
    {
      const char *channel = g_hash_table_lookup (params, "channel");
      const char *oldest = g_hash_table_lookup (params, "oldest");
      g_autoptr(GPtrArray) list = g_ptr_array_new ();
      gboolean known = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (fake_channels); i++)
        known |= g_strcmp0 (channel, fake_channels[i].id) == 0;
      if (!known)
        {
          respond_error (msg, 200, "channel_not_found", NULL);
          return;
        }

      for (guint i = 0; i < fake->messages->len; i++)
        {
          FakeMessage *m = g_ptr_array_index (fake->messages, i);

          if (g_str_equal (m->channel, channel) && is_top_level (m) &&
              (oldest == NULL || ts_usec (m->ts) > ts_usec (oldest)))
            g_ptr_array_add (list, m);
        }
      g_ptr_array_sort (list, compare_ts_desc);
      add_page (fake, b, list, params, TRUE, NULL);
    }
  else if (g_str_equal (method, "conversations.replies"))
    {
      const char *channel = g_hash_table_lookup (params, "channel");
      const char *ts = g_hash_table_lookup (params, "ts");
      FakeMessage *parent = fake_find (fake, channel ?: "", ts ?: "");
      g_autoptr(GPtrArray) list = g_ptr_array_new ();

      if (parent == NULL)
        {
          respond_error (msg, 200, "thread_not_found", NULL);
          return;
        }

      g_ptr_array_add (list, parent);
      for (guint i = 0; i < fake->messages->len; i++)
        {
          FakeMessage *m = g_ptr_array_index (fake->messages, i);

          if (m != parent && g_str_equal (m->channel, channel) && g_strcmp0 (m->thread_ts, ts) == 0)
            g_ptr_array_add (list, m);
        }
      g_ptr_array_sort (list, compare_ts_asc);
      add_page (fake, b, list, params, TRUE, parent);
    }
  else if (g_str_equal (method, "users.info"))
    {
      const char *id = g_hash_table_lookup (params, "user");
      gboolean found = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (fake_users); i++)
        {
          if (g_strcmp0 (id, fake_users[i].id) == 0)
            {
              json_builder_set_member_name (b, "user");
              json_builder_add_value (b, user_json (i));
              found = TRUE;
            }
        }
      if (!found)
        {
          respond_error (msg, 200, "user_not_found", NULL);
          return;
        }
    }
  else if (g_str_equal (method, "chat.postMessage"))
    {
      const char *channel = g_hash_table_lookup (params, "channel");
      const char *thread_ts = g_hash_table_lookup (params, "thread_ts");
      const char *client_msg_id = g_hash_table_lookup (params, "client_msg_id");
      FakeMessage *posted = NULL;

      if (fake_find (fake, channel ?: "", thread_ts ?: "") == NULL)
        {
          respond_error (msg, 200, channel != NULL && g_str_equal (channel, "CNOPE")
                         ? "channel_not_found" : "thread_not_found", NULL);
          return;
        }

      for (guint i = 0; client_msg_id != NULL && i < fake->messages->len; i++)
        {
          FakeMessage *m = g_ptr_array_index (fake->messages, i);

          if (g_strcmp0 (m->client_msg_id, client_msg_id) == 0)
            posted = m;
        }

      if (posted == NULL)
        {
          fake->clock += G_USEC_PER_SEC;
          fake_add (fake, channel, fake->clock, thread_ts, "UBOT", g_hash_table_lookup (params, "text"));
          posted = g_ptr_array_index (fake->messages, fake->messages->len - 1);
          posted->bot_id = g_strdup ("BBOT");
          posted->client_msg_id = g_strdup (client_msg_id);
        }

      g_free (fake->last_post_text);
      fake->last_post_text = g_strdup (g_hash_table_lookup (params, "text"));
      g_free (fake->last_post_thread);
      fake->last_post_thread = g_strdup (thread_ts);

      json_builder_set_member_name (b, "channel");
      json_builder_add_string_value (b, channel);
      json_builder_set_member_name (b, "ts");
      json_builder_add_string_value (b, posted->ts);
      json_builder_set_member_name (b, "message");
      json_builder_add_value (b, message_json (fake, posted, FALSE));
    }
  else if (app_method)
    {
      json_builder_set_member_name (b, "url");
      json_builder_add_string_value (b, fake->ws_url);
    }
  else
    {
      respond_error (msg, 200, "unknown_method", NULL);
      return;
    }

  json_builder_end_object (b);
  root = json_builder_get_root (b);
  respond (msg, 200, root);
}

static void
fake_ws_message_cb (SoupWebsocketConnection *ws,
                    gint                     type,
                    GBytes                  *message,
                    gpointer                 user_data)
{
  FakeSlack *fake = user_data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  JsonObject *root;

  g_assert_true (json_parser_load_from_data (parser, data, size, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (root, "envelope_id"));
  g_ptr_array_add (fake->log, g_strconcat ("ack:", json_object_get_string_member (root, "envelope_id"), NULL));
  fake->acks++;
}

static void
fake_ws_cb (SoupServer              *server,
            SoupServerMessage       *msg,
            const char              *path,
            SoupWebsocketConnection *connection,
            gpointer                 user_data)
{
  FakeSlack *fake = user_data;

  g_ptr_array_add (fake->sockets, g_object_ref (connection));
  g_signal_connect (connection, "message", G_CALLBACK (fake_ws_message_cb), fake);
  soup_websocket_connection_send_text (connection,
                                       "{\"type\": \"hello\", \"num_connections\": 1, "
                                       "\"connection_info\": {\"app_id\": \"A1\"}}");
}

static SoupWebsocketConnection *
fake_socket (FakeSlack *fake)
{
  g_assert_cmpuint (fake->sockets->len, >, 0);
  return g_ptr_array_index (fake->sockets, fake->sockets->len - 1);
}

static void
fake_push_event (FakeSlack  *fake,
                 const char *envelope_id,
                 const char *event_id,
                 guint       retry_attempt,
                 const char *event_json)
{
  g_autofree char *text = NULL;

  text = g_strdup_printf ("{\"envelope_id\": \"%s\", \"type\": \"events_api\", "
                          "\"accepts_response_payload\": false, \"retry_attempt\": %u, "
                          "\"retry_reason\": \"%s\", \"payload\": {\"team_id\": \"TOURS\", "
                          "\"api_app_id\": \"A1\", \"type\": \"event_callback\", "
                          "\"event_id\": \"%s\", \"event_time\": 1, \"event\": %s}}",
                          envelope_id, retry_attempt, retry_attempt > 0 ? "timeout" : "",
                          event_id, event_json);
  soup_websocket_connection_send_text (fake_socket (fake), text);
}

/* The threads every test starts from (times relative to now):
 *   CACME  T1  customer, 2 replies (agent, customer): open, mentions and a link
 *          T2  customer, agent reply: pending
 *          T3  agent announcement, no replies: not a conversation
 *          T4  customer, no replies: open
 *          a join, and a bot's message: not conversations
 *          T6  agent, customer reply: open
 *   CBETA  T7  customer, agent reply and our own bot's reply: pending
 *   CGENERAL   not shared: ignored
 * 5 conversations, 11 messages. */
typedef struct
{
  const char *t1;
  const char *t2;
  const char *t4;
  const char *t6;
  const char *t7;
  gint64      now;
} Seed;

static void
fake_seed (FakeSlack *fake,
           Seed      *seed)
{
  gint64 now = (g_get_real_time () / G_USEC_PER_SEC) * G_USEC_PER_SEC - HOUR_USEC;
  FakeMessage *m;
  const char *t3;

  seed->now = now;
  seed->t1 = fake_add (fake, "CACME", now - 10 * DAY_USEC, NULL, "UCUST1",
                       "Hey team — *SSO* login fails for <@UAGENT1>, see "
                       "<https://acme.example/err|the error page> &amp; logs\nSecond line");
  fake_add (fake, "CACME", now - 10 * DAY_USEC + HOUR_USEC, seed->t1, "UAGENT1", "Looking into it");
  fake_add (fake, "CACME", now - 10 * DAY_USEC + 2 * HOUR_USEC, seed->t1, "UCUST1", "Thanks!");

  seed->t2 = fake_add (fake, "CACME", now - 5 * DAY_USEC, NULL, "UCUST1", "Billing question");
  fake_add (fake, "CACME", now - 5 * DAY_USEC + HOUR_USEC, seed->t2, "UAGENT1", "Answered by email");

  t3 = fake_add (fake, "CACME", now - 4 * DAY_USEC, NULL, "UAGENT1", "Maintenance tonight");
  (void) t3;
  seed->t4 = fake_add (fake, "CACME", now - 3 * DAY_USEC, NULL, "UCUST1", "Is the API down?");

  fake_add (fake, "CACME", now - 20 * DAY_USEC, NULL, "UCUST1", "<@UCUST1> has joined the channel");
  m = g_ptr_array_index (fake->messages, fake->messages->len - 1);
  m->subtype = g_strdup ("channel_join");

  fake_add (fake, "CACME", now - 2 * DAY_USEC, NULL, "UACMEBOT", "Build 42 passed");
  m = g_ptr_array_index (fake->messages, fake->messages->len - 1);
  m->subtype = g_strdup ("bot_message");
  m->bot_id = g_strdup ("BACMECI");

  seed->t6 = fake_add (fake, "CACME", now - 1 * DAY_USEC, NULL, "UAGENT1", "FYI: new release");
  fake_add (fake, "CACME", now - 1 * DAY_USEC + HOUR_USEC, seed->t6, "UCUST1", "Does it fix SSO?");

  seed->t7 = fake_add (fake, "CBETA", now - 7 * DAY_USEC, NULL, "UCUST2", "Export broken\nDetails: CSV is empty");
  fake_add (fake, "CBETA", now - 7 * DAY_USEC + HOUR_USEC, seed->t7, "UAGENT1", "On it");
  fake_add (fake, "CBETA", now - 7 * DAY_USEC + 2 * HOUR_USEC, seed->t7, "UBOT", "Fixed in 2.1");
  m = g_ptr_array_index (fake->messages, fake->messages->len - 1);
  m->bot_id = g_strdup ("BBOT");

  {
    const char *internal = fake_add (fake, "CGENERAL", now - DAY_USEC, NULL, "UAGENT1", "lunch?");
    fake_add (fake, "CGENERAL", now - DAY_USEC + 60 * G_USEC_PER_SEC, internal, "UAGENT1", "yes");
  }

  fake->clock = now;
}

static FakeSlack *
fake_new (void)
{
  FakeSlack *fake = g_new0 (FakeSlack, 1);
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;
  guint port;

  fake->server = soup_server_new (NULL, NULL);
  fake->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) fake_message_free);
  fake->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fake->log = g_ptr_array_new_with_free_func (g_free);
  fake->faults = g_ptr_array_new_with_free_func ((GDestroyNotify) fake_fault_free);
  fake->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  fake->page_cap = 1000;

  soup_server_add_handler (fake->server, "/api", fake_handler, fake, NULL);
  soup_server_add_websocket_handler (fake->server, "/socket", NULL, NULL, fake_ws_cb, fake, NULL);
  soup_server_listen_local (fake->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (fake->server);
  port = g_uri_get_port (uris->data);
  fake->base_url = g_strdup_printf ("http://127.0.0.1:%u/api", port);
  fake->ws_url = g_strdup_printf ("ws://127.0.0.1:%u/socket?ticket=abc", port);

  return fake;
}

static void
fake_free (FakeSlack *fake)
{
  for (guint i = 0; i < fake->sockets->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (fake->sockets, i), fake);
  soup_server_disconnect (fake->server);
  g_clear_object (&fake->server);
  g_ptr_array_unref (fake->sockets);
  g_ptr_array_unref (fake->messages);
  g_hash_table_unref (fake->calls);
  g_ptr_array_unref (fake->log);
  g_ptr_array_unref (fake->faults);
  g_free (fake->base_url);
  g_free (fake->ws_url);
  g_free (fake->last_post_text);
  g_free (fake->last_post_thread);
  g_free (fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeSlack, fake_free)

/* The store */

typedef struct
{
  char    *dir;
  FdStore *store;
} TestStore;

static gboolean
exec_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  return fd_store_exec (db, job_data, error);
}

static TestStore *
test_store_new (void)
{
  TestStore *ts = g_new0 (TestStore, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  ts->dir = g_dir_make_tmp ("test-slack-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (ts->dir, "frontdesk.db", NULL);
  ts->store = fd_store_new (path);
  fd_store_open_sync (ts->store, NULL, &error);
  g_assert_no_error (error);

  fd_store_run_sync (ts->store, exec_job,
                     (gpointer) "INSERT INTO accounts (id, uid, kind, name, base_url, created_at) "
                     "VALUES (1, 'slack-test', 'slack', 'Slack', 'http://127.0.0.1', 0)",
                     NULL, &error);
  g_assert_no_error (error);

  return ts;
}

static void
test_store_free (TestStore *ts)
{
  g_autofree char *path = g_strdup (fd_store_get_path (ts->store));
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);

  fd_store_close (ts->store);
  g_assert_finalize_object (ts->store);
  g_remove (path);
  g_remove (wal);
  g_remove (shm);
  g_rmdir (ts->dir);
  g_free (ts->dir);
  g_free (ts);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestStore, test_store_free)

typedef struct
{
  const char *sql;
  GPtrArray  *rows;
} QueryJob;

static gboolean
query_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  QueryJob *job = job_data;
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, job->sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GString *row = g_string_new (NULL);

      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          const char *text = (const char *) sqlite3_column_text (stmt, i);

          if (i > 0)
            g_string_append_c (row, '|');
          g_string_append (row, text != NULL ? text : "NULL");
        }
      g_ptr_array_add (job->rows, g_string_free (row, FALSE));
    }

  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

/* The rows of @sql, each as "col|col|…", joined by newlines. */
static char *
query (TestStore  *ts,
       const char *sql)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  QueryJob job = { sql, rows };

  fd_store_run_sync (ts->store, query_job, &job, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (rows, NULL);

  return g_strjoinv ("\n", (char **) rows->pdata);
}

static gint64
query_int (TestStore  *ts,
           const char *sql)
{
  g_autofree char *text = query (ts, sql);

  return g_ascii_strtoll (text, NULL, 10);
}

typedef struct
{
  FdSyncBatch *batch;
  FdSyncStats *stats;
} ApplyJob;

static gboolean
apply_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  ApplyJob *job = job_data;

  return fd_sync_batch_apply (db, 1, "slack", job->batch, job->stats, error);
}

static gboolean
cursor_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  return fd_sync_state_get_cursor (db, 1, "slack", (char **) result, error);
}

static void
store_apply (TestStore   *ts,
             FdSyncBatch *batch,
             FdSyncStats *stats)
{
  g_autoptr(GError) error = NULL;
  ApplyJob job = { batch, stats };

  fd_store_run_sync (ts->store, apply_job, &job, NULL, &error);
  g_assert_no_error (error);
}

/* Async helpers */

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates until @cond holds, failing after @seconds. */
#define WAIT_FOR(cond, seconds) \
  G_STMT_START { \
    gboolean timed_out_ = FALSE; \
    guint id_ = g_timeout_add_seconds ((seconds), timeout_cb, &timed_out_); \
    while (!(cond) && !timed_out_) \
      g_main_context_iteration (NULL, TRUE); \
    if (!timed_out_) \
      g_source_remove (id_); \
    g_assert_true (cond); \
  } G_STMT_END

static void
spin (guint msec)
{
  gboolean done = FALSE;

  g_timeout_add (msec, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static FdSyncBatch *
fetch (FdChannel   *channel,
       const char  *cursor,
       gboolean    *has_more,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_channel_fetch_async (channel, cursor, NULL, store_result_cb, &result);
  return fd_channel_fetch_finish (channel, wait_result (&result), has_more, error);
}

/* One sync as the engine runs it: from the stored cursor, each batch applied with its
 * cursor, until has_more is FALSE. Returns FALSE (and @error) where a fetch failed. */
static gboolean
sync_once (FdChannel    *channel,
           TestStore    *ts,
           FdSyncStats  *stats,
           guint        *batches,
           GError      **error)
{
  g_autofree char *cursor = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean has_more = TRUE;

  fd_store_run_sync (ts->store, cursor_job, NULL, (gpointer *) &cursor, &local_error);
  g_assert_no_error (local_error);

  while (has_more)
    {
      g_autoptr(FdSyncBatch) batch = fetch (channel, cursor, &has_more, error);

      if (batch == NULL)
        return FALSE;

      g_assert_nonnull (batch->cursor);
      store_apply (ts, batch, stats);
      g_free (cursor);
      cursor = g_strdup (batch->cursor);
      if (batches != NULL)
        (*batches)++;
    }

  return TRUE;
}

static FdChannel *
channel_new (FakeSlack  *fake,
             const char *app_token)
{
  FdChannel *channel = fd_slack_channel_new (fake->base_url, BOT_TOKEN, app_token);

  fd_http_client_set_retry (fd_slack_channel_get_http_client (FD_SLACK_CHANNEL (channel)), 3, 5, 50);
  return channel;
}

static void
sync_ok (FdChannel   *channel,
         TestStore   *ts,
         FdSyncStats *stats)
{
  g_autoptr(GError) error = NULL;

  sync_once (channel, ts, stats, NULL, &error);
  g_assert_no_error (error);
}

/* Checks the store holds the seeded threads, each once. */
static void
assert_seeded_state (TestStore *ts,
                     Seed      *seed)
{
  g_autofree char *convs = NULL;
  g_autofree char *expected = NULL;

  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations"), ==, 5);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==, 11);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM events WHERE kind IN "
                                  "('customer_message', 'reply')"), ==, 11);

  convs = query (ts, "SELECT c.external_id, c.status, o.external_id, ct.external_id, "
                     "  (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) "
                     "FROM conversations c "
                     "LEFT JOIN organisations o ON o.id = c.organisation_id "
                     "LEFT JOIN contacts ct ON ct.id = c.contact_id "
                     "ORDER BY c.created_at");
  expected = g_strdup_printf ("CACME:%s|open|CACME|UCUST1|3\n"
                              "CBETA:%s|pending|CBETA|UCUST2|3\n"
                              "CACME:%s|pending|CACME|UCUST1|2\n"
                              "CACME:%s|open|CACME|UCUST1|1\n"
                              "CACME:%s|open|CACME|UCUST1|2",
                              seed->t1, seed->t7, seed->t2, seed->t4, seed->t6);
  g_assert_cmpstr (convs, ==, expected);
}

/* Tests against the canned Slack */

static void
test_first_sync (void)
{
  g_autoptr(FakeSlack) fake = fake_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(FdChannel) channel = channel_new (fake, NULL);
  g_autofree char *sql = NULL;
  g_autofree char *body = NULL;
  g_autofree char *orgs = NULL;
  g_autofree char *people = NULL;
  g_autofree char *kinds = NULL;
  g_autofree char *subject = NULL;
  FdSyncStats stats = { 0 };
  Seed seed;

  fake_seed (fake, &seed);
  sync_ok (channel, ts, &stats);

  assert_seeded_state (ts, &seed);
  g_assert_cmpuint (stats.messages_new, ==, 11);
  g_assert_cmpuint (stats.conversations_new, ==, 5);

  /* Only the shared channels the bot is in, named after the customer. */
  orgs = query (ts, "SELECT external_id, name FROM organisations ORDER BY external_id");
  g_assert_cmpstr (orgs, ==, "CACME|Acme Corp\nCBETA|Beta Labs");
  g_assert_cmpuint (fake_calls (fake, "conversations.history"), ==, 2);

  /* Customers are contacts of their channel's organisation; our people are agents. */
  people = query (ts, "SELECT c.external_id, c.name, c.email, o.external_id FROM contacts c "
                      "JOIN organisations o ON o.id = c.organisation_id ORDER BY c.external_id");
  g_assert_cmpstr (people, ==, "UCUST1|Carol Customer|carol@acme.example|CACME\n"
                               "UCUST2|Bob Beta|bob@beta.example|CBETA");
  g_free (people);
  people = query (ts, "SELECT external_id, name, email FROM agents");
  g_assert_cmpstr (people, ==, "UAGENT1|Alice Agent|alice@frontdesk.example");

  /* Our own bot's reply is an agent's reply. */
  sql = g_strdup_printf ("SELECT author_kind, author_name FROM messages WHERE conversation_id = "
                         "(SELECT id FROM conversations WHERE external_id = 'CBETA:%s') "
                         "ORDER BY created_at", seed.t7);
  kinds = query (ts, sql);
  g_assert_cmpstr (kinds, ==, "contact|Bob Beta\nagent|Alice Agent\nagent|frontdesk");

  /* Mentions and links resolved, entities decoded, markers gone. */
  g_free (sql);
  sql = g_strdup_printf ("SELECT body FROM messages WHERE external_id = 'CACME:%s'", seed.t1);
  body = query (ts, sql);
  g_assert_nonnull (strstr (body, "@Alice Agent"));
  g_assert_nonnull (strstr (body, "the error page (https://acme.example/err)"));
  g_assert_nonnull (strstr (body, "& logs"));
  g_assert_null (strstr (body, "<@"));
  g_assert_null (strstr (body, "&amp;"));
  g_assert_null (strstr (body, "*SSO*"));

  g_free (sql);
  sql = g_strdup_printf ("SELECT subject FROM conversations WHERE external_id = 'CACME:%s'", seed.t1);
  subject = query (ts, sql);
  /* The first line, cut to 80 characters. */
  {
    g_autofree char *line = g_strndup (body, strchr (body, '\n') - body);
    g_autofree char *head = g_strndup (line, g_utf8_offset_to_pointer (line, 79) - line);
    g_autofree char *cut = g_strconcat (g_strchomp (head), "…", NULL);

    g_assert_cmpint (g_utf8_strlen (line, -1), >, 80);
    g_assert_cmpstr (subject, ==, cut);
    g_assert_cmpint (g_utf8_strlen (subject, -1), <=, 80);
  }
}

static void
test_incremental (void)
{
  g_autoptr(FakeSlack) fake = fake_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(FdChannel) channel = channel_new (fake, NULL);
  g_autofree char *sql = NULL;
  g_autofree char *row = NULL;
  g_autofree char *cursor = NULL;
  FdSyncStats stats = { 0 };
  guint batches = 0;
  g_autoptr(GError) error = NULL;
  const char *t8;
  Seed seed;

  fake_seed (fake, &seed);
  sync_ok (channel, ts, &stats);

  /* Nothing new: one history request per channel, and nothing else per thread. */
  g_hash_table_remove_all (fake->calls);
  memset (&stats, 0, sizeof stats);
  sync_once (channel, ts, &stats, &batches, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake_calls (fake, "conversations.history"), ==, 2);
  g_assert_cmpuint (fake_calls (fake, "conversations.replies"), ==, 0);
  g_assert_cmpuint (fake_calls (fake, "users.info"), ==, 0);
  g_assert_cmpuint (stats.messages_new, ==, 0);
  g_assert_cmpuint (stats.conversations_new + stats.conversations_updated, ==, 0);
  g_assert_cmpuint (batches, <=, 2);
  assert_seeded_state (ts, &seed);

  /* A resolved thread stays resolved while nothing new arrives in it. */
  g_free (sql);
  sql = g_strdup_printf ("UPDATE conversations SET status = 'resolved' WHERE external_id = 'CACME:%s'",
                         seed.t2);
  fd_store_run_sync (ts->store, exec_job, sql, NULL, &error);
  g_assert_no_error (error);
  sync_ok (channel, ts, &stats);
  g_free (sql);
  sql = g_strdup_printf ("SELECT status FROM conversations WHERE external_id = 'CACME:%s'", seed.t2);
  row = query (ts, sql);
  g_assert_cmpstr (row, ==, "resolved");

  /* New: a customer reply in a 5-day-old thread (reopens it), a new thread, and an agent
   * reply in the other channel. */
  fake->clock = seed.now + 10 * G_USEC_PER_SEC;
  fake_add (fake, "CACME", fake->clock, seed.t2, "UCUST1", "Still wrong, sorry");
  t8 = fake_add (fake, "CACME", fake->clock + G_USEC_PER_SEC, NULL, "UCUST1", "New problem");
  fake_add (fake, "CBETA", fake->clock + 2 * G_USEC_PER_SEC, seed.t7, "UAGENT1", "Anything else?");

  g_hash_table_remove_all (fake->calls);
  memset (&stats, 0, sizeof stats);
  sync_ok (channel, ts, &stats);
  g_assert_cmpuint (stats.messages_new, ==, 3);
  g_assert_cmpuint (stats.conversations_new, ==, 1);
  g_assert_cmpuint (fake_calls (fake, "conversations.replies"), ==, 2);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==, 14);

  g_free (sql);
  sql = g_strdup_printf ("SELECT status, reopen_count FROM conversations WHERE external_id = 'CACME:%s'",
                         seed.t2);
  g_free (row);
  row = query (ts, sql);
  g_assert_cmpstr (row, ==, "open|1");
  g_free (sql);
  sql = g_strdup_printf ("SELECT subject, status FROM conversations WHERE external_id = 'CACME:%s'", t8);
  g_free (row);
  row = query (ts, sql);
  g_assert_cmpstr (row, ==, "New problem|open");

  /* The cursor ends a complete sync: no run under way. */
  fd_store_run_sync (ts->store, cursor_job, NULL, (gpointer *) &cursor, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (cursor, "\"run\""));
  g_assert_nonnull (strstr (cursor, "\"CACME\""));
}

/* Small pages everywhere give the same result as large ones, with one batch per page. */
static void
test_paging (void)
{
  g_autoptr(FakeSlack) fake = fake_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(FdChannel) channel = channel_new (fake, NULL);
  FdSyncStats stats = { 0 };
  g_autoptr(GError) error = NULL;
  guint batches = 0;
  Seed seed;

  fake_seed (fake, &seed);
  fake->page_cap = 2;
  sync_once (channel, ts, &stats, &batches, &error);
  g_assert_no_error (error);

  assert_seeded_state (ts, &seed);
  /* CACME has 7 top-level messages (4 pages of 2, the last with no conversation, so it
   * shares its batch with CBETA's only page). */
  g_assert_cmpuint (fake_calls (fake, "conversations.history"), ==, 5);
  g_assert_cmpuint (batches, ==, 4);
  /* T1 and T7 have 3 messages each: 2 pages of replies; T2 and T6 one. */
  g_assert_cmpuint (fake_calls (fake, "conversations.replies"), ==, 6);
}

/* A fault in the middle of a sync fails the fetch; a new channel resumes from the stored
 * cursor and reaches the same state as an uninterrupted sync: no duplicates, no gaps. */
static void
test_fault_resume (void)
{
  /* Each lets a first page through, then fails. */
  const char *methods[] = { "conversations.history", "conversations.replies", "users.info" };
  const guint after[] = { 2, 2, 3 };

  for (guint k = 0; k < G_N_ELEMENTS (methods); k++)
    {
      g_autoptr(FakeSlack) fake = fake_new ();
      g_autoptr(TestStore) ts = test_store_new ();
      g_autoptr(FdChannel) first = channel_new (fake, NULL);
      g_autoptr(FdChannel) second = channel_new (fake, NULL);
      g_autoptr(GError) error = NULL;
      FdSyncStats stats = { 0 };
      guint batches = 0;
      Seed seed;

      fake_seed (fake, &seed);
      fake->page_cap = 2;

      /* No retries: the fault surfaces. */
      fd_http_client_set_retry (fd_slack_channel_get_http_client (FD_SLACK_CHANNEL (first)), 1, 1, 1);
      fake_add_fault (fake, methods[k], after[k], 500);

      g_assert_false (sync_once (first, ts, &stats, &batches, &error));
      g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER);
      g_test_message ("fault in %s after %u batches", methods[k], batches);
      g_assert_cmpuint (batches, >, 0);
      g_clear_error (&error);
      g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), <, 11);

      sync_ok (second, ts, &stats);
      assert_seeded_state (ts, &seed);
      g_assert_cmpuint (stats.messages_new, ==, 11);
    }
}

/* Retry-safe requests recover from a 5xx or a garbled page by themselves. */
static void
test_fault_recover (void)
{
  g_autoptr(FakeSlack) fake = fake_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(FdChannel) channel = channel_new (fake, NULL);
  FdSyncStats stats = { 0 };
  FakeFault *fault;
  Seed seed;

  fake_seed (fake, &seed);
  fake_add_fault (fake, "conversations.history", 0, 503);
  fault = fake_add_fault (fake, "conversations.replies", 1, 0);
  fault->garble = TRUE;
  fake_add_fault (fake, "users.info", 0, 500);

  sync_ok (channel, ts, &stats);
  assert_seeded_state (ts, &seed);
  g_assert_cmpuint (fake->faults->len, ==, 0);
}

static void
test_errors (void)
{
  g_autoptr(FakeSlack) fake = fake_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(GError) error = NULL;
  FdSyncStats stats = { 0 };
  FakeFault *fault;
  Seed seed;

  fake_seed (fake, &seed);

  /* A wrong token. */
  {
    g_autoptr(FdChannel) channel = fd_slack_channel_new (fake->base_url, "xoxb-wrong", NULL);
    g_autoptr(FdSyncBatch) batch = fetch (channel, NULL, NULL, &error);

    g_assert_null (batch);
    g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED);
    g_assert_nonnull (strstr (error->message, "Preferences"));
    g_assert_null (strstr (error->message, "invalid_auth"));
    g_clear_error (&error);
  }

  /* A missing scope names the scope. */
  {
    g_autoptr(FdChannel) channel = channel_new (fake, NULL);
    g_autoptr(FdSyncBatch) batch = NULL;

    fault = fake_add_fault (fake, "conversations.list", 0, 0);
    fault->slack_error = g_strdup ("missing_scope");
    fault->needed = g_strdup ("groups:read");
    batch = fetch (channel, NULL, NULL, &error);
    g_assert_null (batch);
    g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED);
    g_assert_nonnull (strstr (error->message, "groups:read"));
    g_clear_error (&error);
  }

  /* Rate limited with Retry-After: retried, then fine. */
  {
    g_autoptr(FdChannel) channel = channel_new (fake, NULL);
    FdHttpClient *http = fd_slack_channel_get_http_client (FD_SLACK_CHANNEL (channel));

    fd_http_client_set_retry (http, 3, 5, 2000);
    g_hash_table_remove_all (fake->calls);
    fault = fake_add_fault (fake, "auth.test", 0, 429);
    fault->slack_error = g_strdup ("ratelimited");
    fault->retry_after = g_strdup ("1");
    sync_ok (channel, ts, &stats);
    g_assert_cmpuint (fake_calls (fake, "auth.test"), ==, 2);
    assert_seeded_state (ts, &seed);
  }

  /* Rate limited for longer than we wait: a plain error, nothing stored. */
  {
    g_autoptr(FdChannel) channel = channel_new (fake, NULL);
    g_autoptr(FdSyncBatch) batch = NULL;

    fault = fake_add_fault (fake, "auth.test", 0, 429);
    fault->slack_error = g_strdup ("ratelimited");
    fault->retry_after = g_strdup ("600");
    batch = fetch (channel, NULL, NULL, &error);
    g_assert_null (batch);
    g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_RATE_LIMITED);
    g_clear_error (&error);

    /* Slack's "ratelimited" in a 200 answer too. */
    fault = fake_add_fault (fake, "auth.test", 0, 0);
    fault->slack_error = g_strdup ("ratelimited");
    batch = fetch (channel, NULL, NULL, &error);
    g_assert_null (batch);
    g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_RATE_LIMITED);
    g_clear_error (&error);
  }

  /* A channel the bot was removed from is skipped; the others still sync. */
  {
    g_autoptr(FdChannel) channel = channel_new (fake, NULL);
    g_autoptr(TestStore) other = test_store_new ();

    fault = fake_add_fault (fake, "conversations.history", 0, 0);
    fault->slack_error = g_strdup ("not_in_channel");
    sync_ok (channel, other, &stats);
    g_assert_cmpint (query_int (other, "SELECT count(*) FROM conversations "
                                       "WHERE external_id LIKE 'CBETA:%'"), ==, 1);
    g_assert_cmpint (query_int (other, "SELECT count(*) FROM conversations "
                                       "WHERE external_id LIKE 'CACME:%'"), ==, 0);
  }

  /* A garbled answer that is not Slack's shape; a cursor we did not write. */
  {
    g_autoptr(FdChannel) channel = channel_new (fake, NULL);
    g_autoptr(FdSyncBatch) batch = NULL;

    batch = fetch (channel, "{\"v\": 99}", NULL, &error);
    g_assert_null (batch);
    g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR);
    g_clear_error (&error);

    batch = fetch (channel, "not json", NULL, &error);
    g_assert_null (batch);
    g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR);
    g_clear_error (&error);

    fault = fake_add_fault (fake, "conversations.history", 0, 0);
    fault->slack_error = g_strdup ("invalid_cursor");
    batch = fetch (channel, "{\"v\": 1, \"channels\": [{\"id\": \"CACME\"}], "
                            "\"run\": {\"i\": 0, \"page\": \"off:stale\"}}", NULL, &error);
    g_assert_null (batch);
    g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR);
    g_clear_error (&error);
  }
}

/* As the outbox says: 1 for a first try, more when an earlier try may have posted. */
static guint send_attempts = 1;

static char *
send (FdChannel     *channel,
      FdOutboxKind   kind,
      const char    *conversation,
      const char    *body,
      const char    *key,
      GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  FdOutboxItem item = { 0 };

  item.kind = kind;
  item.conversation_external_id = (char *) conversation;
  item.body = (char *) body;
  item.idempotency_key = (char *) key;
  item.status = (char *) "resolved";
  item.tag = (char *) "vip";
  item.attempts = send_attempts;

  fd_channel_send_async (channel, &item, NULL, store_result_cb, &result);
  return fd_channel_send_finish (channel, wait_result (&result), error);
}

static void
test_send (void)
{
  g_autoptr(FakeSlack) fake = fake_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(FdChannel) channel = channel_new (fake, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *conversation = NULL;
  g_autofree char *id = NULL;
  g_autofree char *again = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *row = NULL;
  FdSyncStats stats = { 0 };
  FdSyncBatch *batch;
  FdConversationRecord *conv;
  FdMessageRecord *message;
  const FdOutboxKind local_only[] = {
    FD_OUTBOX_NOTE, FD_OUTBOX_STATUS, FD_OUTBOX_ASSIGN, FD_OUTBOX_TAG, FD_OUTBOX_UNTAG
  };
  Seed seed;

  fake_seed (fake, &seed);
  sync_ok (channel, ts, &stats);
  conversation = g_strdup_printf ("CACME:%s", seed.t1);

  /* A reply goes into the thread; the answer names the new message. */
  id = send (channel, FD_OUTBOX_REPLY, conversation, "Fixed: use <SSO> & retry", "key-1", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (id, "CACME:"));
  g_assert_cmpstr (fake->last_post_thread, ==, seed.t1);
  g_assert_cmpstr (fake->last_post_text, ==, "Fixed: use &lt;SSO&gt; &amp; retry");

  /* A 500 is not resent blindly (Slack does not promise to deduplicate): the attempt
   * fails, and the outbox's next attempt looks in the thread first, finds the reply the
   * lost answer was about, and posts nothing new. */
  fake_add_fault (fake, "chat.postMessage", 0, 500);
  again = send (channel, FD_OUTBOX_REPLY, conversation, "Fixed: use <SSO> & retry", "key-1", &error);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER);
  g_assert_cmpuint (fake_calls (fake, "chat.postMessage"), ==, 2);
  g_clear_error (&error);
  send_attempts = 2;
  again = send (channel, FD_OUTBOX_REPLY, conversation, "Fixed: use <SSO> & retry", "key-1", &error);
  send_attempts = 1;
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, id);
  g_assert_cmpuint (fake_calls (fake, "chat.postMessage"), ==, 2);

  /* What the outbox stores for it, then a sync: the message is not duplicated, and the
   * thread is now waiting on the customer. */
  batch = fd_sync_batch_new ();
  conv = fd_sync_batch_add_conversation (batch);
  conv->external_id = g_strdup (conversation);
  conv->channel = "slack";
  message = fd_conversation_record_add_message (conv);
  message->external_id = g_strdup (id);
  message->author_kind = "agent";
  message->body = g_strdup ("Fixed: use <SSO> & retry");
  message->created_at = g_get_real_time () / 1000;
  store_apply (ts, batch, &stats);
  fd_sync_batch_free (batch);

  memset (&stats, 0, sizeof stats);
  sync_ok (channel, ts, &stats);
  g_assert_cmpuint (stats.messages_new, ==, 0);
  sql = g_strdup_printf ("SELECT count(*) FROM messages WHERE external_id = '%s'", id);
  g_assert_cmpint (query_int (ts, sql), ==, 1);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==, 12);
  g_free (sql);
  sql = g_strdup_printf ("SELECT status FROM conversations WHERE external_id = '%s'", conversation);
  row = query (ts, sql);
  g_assert_cmpstr (row, ==, "pending");

  /* Errors: a channel gone, a thread gone, not a Slack conversation, an empty reply. */
  g_free (id);
  id = send (channel, FD_OUTBOX_REPLY, "CNOPE:1.000001", "hi", "key-2", &error);
  g_assert_null (id);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "channel"));
  g_clear_error (&error);

  id = send (channel, FD_OUTBOX_REPLY, "CACME:1.000001", "hi", "key-3", &error);
  g_assert_null (id);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  id = send (channel, FD_OUTBOX_REPLY, "12345", "hi", "key-4", &error);
  g_assert_null (id);
  g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
  g_clear_error (&error);

  id = send (channel, FD_OUTBOX_REPLY, conversation, "", "key-5", &error);
  g_assert_null (id);
  g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
  g_clear_error (&error);

  /* Notes, status, assignment and tags are Frontdesk's own. */
  for (guint i = 0; i < G_N_ELEMENTS (local_only); i++)
    {
      g_autofree char *none = send (channel, local_only[i], conversation, "note", "key-6", &error);

      g_assert_null (none);
      g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "Frontdesk"));
      g_clear_error (&error);
    }
  g_assert_cmpuint (fake_calls (fake, "chat.postMessage"), ==, 4);
}

/* Socket Mode */

typedef struct
{
  GPtrArray *batches;   /* char *: a summary of each ::live-batch */
  GString   *states;
} LiveLog;

static void
live_batch_cb (FdChannel   *channel,
               FdSyncBatch *batch,
               gpointer     user_data)
{
  LiveLog *log = user_data;
  GString *summary = g_string_new (NULL);

  g_assert_null (batch->cursor);
  for (guint i = 0; i < batch->conversations->len; i++)
    {
      FdConversationRecord *conv = g_ptr_array_index (batch->conversations, i);

      g_string_append_printf (summary, "%s|%s|%s|%s", conv->external_id,
                              conv->subject ?: "-", conv->status ?: "-",
                              conv->org_external_id);
      for (guint j = 0; j < conv->messages->len; j++)
        {
          FdMessageRecord *m = g_ptr_array_index (conv->messages, j);

          g_string_append_printf (summary, "|%s:%s:%s", m->external_id, m->author_kind, m->body);
        }
    }
  g_string_append_printf (summary, "|contacts=%u|agents=%u", batch->contacts->len, batch->agents->len);

  g_ptr_array_add (log->batches, g_string_free (summary, FALSE));
}

static void
live_state_cb (GObject    *object,
               GParamSpec *pspec,
               gpointer    user_data)
{
  LiveLog *log = user_data;
  g_autoptr(GEnumClass) klass = g_type_class_ref (FD_TYPE_SLACK_LIVE_STATE);
  FdSlackLiveState state = fd_slack_channel_get_live_state (FD_SLACK_CHANNEL (object));

  if (log->states->len > 0)
    g_string_append_c (log->states, ',');
  g_string_append (log->states, g_enum_get_value (klass, state)->value_nick);
}

static gssize
log_index (FakeSlack  *fake,
           const char *entry)
{
  for (guint i = 0; i < fake->log->len; i++)
    if (g_str_equal (g_ptr_array_index (fake->log, i), entry))
      return i;

  return -1;
}

static void
test_live (void)
{
  g_autoptr(FakeSlack) fake = fake_new ();
  FdChannel *channel = channel_new (fake, APP_TOKEN);
  LiveLog log = { g_ptr_array_new_with_free_func (g_free), g_string_new (NULL) };
  g_autofree char *event = NULL;
  g_autofree char *expected = NULL;
  gssize ack_at;
  gssize users_at;
  Seed seed;

  fake_seed (fake, &seed);
  fd_slack_channel_set_reconnect_delays (FD_SLACK_CHANNEL (channel), 20, 100);
  g_signal_connect (channel, "live-batch", G_CALLBACK (live_batch_cb), &log);
  g_signal_connect (channel, "notify::live-state", G_CALLBACK (live_state_cb), &log);

  g_assert_true (fd_channel_has_live (channel));
  fd_channel_start_live (channel);
  WAIT_FOR (fd_slack_channel_get_live_state (FD_SLACK_CHANNEL (channel)) == FD_SLACK_LIVE_CONNECTED, 10);
  g_assert_cmpstr (log.states->str, ==, "connecting,connected");
  g_assert_cmpuint (fake_calls (fake, "apps.connections.open"), ==, 1);
  g_assert_null (fd_slack_channel_get_live_error (FD_SLACK_CHANNEL (channel)));

  /* A new thread from a customer: acknowledged before anything else, then delivered. */
  event = g_strdup_printf ("{\"type\": \"message\", \"channel\": \"CACME\", \"user\": \"UCUST1\", "
                           "\"text\": \"Hi <@UAGENT1>, the *export* fails\", \"ts\": \"%s\", "
                           "\"team\": \"TACME\", \"channel_type\": \"channel\"}",
                           "1900000000.000100");
  fake_push_event (fake, "env-1", "Ev1", 0, event);
  WAIT_FOR (log.batches->len == 1, 10);
  g_assert_cmpstr (g_ptr_array_index (log.batches, 0), ==,
                   "CACME:1900000000.000100|Hi @Alice Agent, the export fails|open|CACME"
                   "|CACME:1900000000.000100:contact:Hi @Alice Agent, the export fails"
                   "|contacts=1|agents=0");
  ack_at = log_index (fake, "ack:env-1");
  users_at = log_index (fake, "users.info");
  g_assert_cmpint (ack_at, >=, 0);
  g_assert_cmpint (users_at, >, ack_at);

  /* Redelivered (not acknowledged in time, as far as Slack knows): acknowledged again,
   * delivered once. */
  fake_push_event (fake, "env-1", "Ev1", 1, event);
  fake_push_event (fake, "env-1b", "Ev1", 2, event);
  WAIT_FOR (fake->acks == 3, 10);
  spin (100);
  g_assert_cmpuint (log.batches->len, ==, 1);

  /* A reply in an existing thread: the conversation is the thread, with its parent. */
  g_free (event);
  event = g_strdup_printf ("{\"type\": \"message\", \"channel\": \"CACME\", \"user\": \"UAGENT1\", "
                           "\"text\": \"We are on it\", \"ts\": \"1900000001.000200\", "
                           "\"thread_ts\": \"%s\"}", seed.t4);
  fake_push_event (fake, "env-2", "Ev2", 0, event);
  WAIT_FOR (log.batches->len == 2, 10);
  expected = g_strdup_printf ("CACME:%s|Is the API down?|pending|CACME"
                              "|CACME:%s:contact:Is the API down?"
                              "|CACME:1900000001.000200:agent:We are on it"
                              "|contacts=1|agents=1", seed.t4, seed.t4);
  g_assert_cmpstr (g_ptr_array_index (log.batches, 1), ==, expected);

  /* Not for us: our own bot's message, an edit, a channel that is not shared, an agent's
   * announcement. */
  fake_push_event (fake, "env-3", "Ev3", 0,
                   "{\"type\": \"message\", \"channel\": \"CACME\", \"user\": \"UBOT\", "
                   "\"bot_id\": \"BBOT\", \"text\": \"sent by us\", \"ts\": \"1900000002.000000\"}");
  fake_push_event (fake, "env-4", "Ev4", 0,
                   "{\"type\": \"message\", \"subtype\": \"message_changed\", \"channel\": \"CACME\", "
                   "\"ts\": \"1900000003.000000\", \"message\": {\"text\": \"edited\"}}");
  fake_push_event (fake, "env-5", "Ev5", 0,
                   "{\"type\": \"message\", \"channel\": \"CGENERAL\", \"user\": \"UCUST1\", "
                   "\"text\": \"wrong place\", \"ts\": \"1900000004.000000\"}");
  fake_push_event (fake, "env-6", "Ev6", 0,
                   "{\"type\": \"message\", \"channel\": \"CACME\", \"user\": \"UAGENT1\", "
                   "\"text\": \"Announcement\", \"ts\": \"1900000005.000000\"}");
  WAIT_FOR (fake->acks == 8, 10);
  spin (200);
  g_assert_cmpuint (log.batches->len, ==, 2);

  /* Slack asks for a reconnection: a new address, a new hello, and events keep coming. */
  soup_websocket_connection_send_text (fake_socket (fake),
                                       "{\"type\": \"disconnect\", \"reason\": \"refresh_requested\", "
                                       "\"debug_info\": {\"host\": \"fake\"}}");
  WAIT_FOR (fake_calls (fake, "apps.connections.open") == 2 &&
            fd_slack_channel_get_live_state (FD_SLACK_CHANNEL (channel)) == FD_SLACK_LIVE_CONNECTED, 10);
  g_assert_cmpuint (fake->sockets->len, ==, 2);
  fake_push_event (fake, "env-7", "Ev7", 0,
                   "{\"type\": \"message\", \"channel\": \"CBETA\", \"user\": \"UCUST2\", "
                   "\"text\": \"After reconnecting\", \"ts\": \"1900000006.000000\"}");
  WAIT_FOR (log.batches->len == 3, 10);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (log.batches, 2),
                                   "CBETA:1900000006.000000|After reconnecting|open|CBETA"));

  /* The connection drops: reconnects with back-off. */
  g_io_stream_close (soup_websocket_connection_get_io_stream (fake_socket (fake)), NULL, NULL);
  WAIT_FOR (fake_calls (fake, "apps.connections.open") == 3 &&
            fd_slack_channel_get_live_state (FD_SLACK_CHANNEL (channel)) == FD_SLACK_LIVE_CONNECTED, 10);
  g_assert_nonnull (strstr (log.states->str, "reconnecting,connected"));
  fake_push_event (fake, "env-8", "Ev8", 0,
                   "{\"type\": \"message\", \"channel\": \"CBETA\", \"user\": \"UCUST2\", "
                   "\"text\": \"After a drop\", \"ts\": \"1900000007.000000\"}");
  WAIT_FOR (log.batches->len == 4, 10);

  /* Stopping closes everything; nothing reconnects, nothing is left behind. */
  fd_channel_stop_live (channel);
  g_assert_cmpint (fd_slack_channel_get_live_state (FD_SLACK_CHANNEL (channel)), ==, FD_SLACK_LIVE_STOPPED);
  spin (300);
  g_assert_cmpuint (fake_calls (fake, "apps.connections.open"), ==, 3);
  g_assert_cmpuint (log.batches->len, ==, 4);
  g_assert_finalize_object (channel);

  g_ptr_array_unref (log.batches);
  g_string_free (log.states, TRUE);
}

/* A wrong app-level token: the state says why, and it keeps trying with back-off. */
static void
test_live_errors (void)
{
  g_autoptr(FakeSlack) fake = fake_new ();
  FdChannel *channel = fd_slack_channel_new (fake->base_url, BOT_TOKEN, "xapp-wrong");
  FdChannel *no_live = fd_slack_channel_new (fake->base_url, BOT_TOKEN, NULL);

  fd_slack_channel_set_reconnect_delays (FD_SLACK_CHANNEL (channel), 20, 40);
  fd_channel_start_live (channel);
  WAIT_FOR (fake_calls (fake, "apps.connections.open") >= 3, 10);
  g_assert_cmpint (fd_slack_channel_get_live_state (FD_SLACK_CHANNEL (channel)), ==,
                   FD_SLACK_LIVE_RECONNECTING);
  g_assert_nonnull (strstr (fd_slack_channel_get_live_error (FD_SLACK_CHANNEL (channel)),
                            "app-level token"));
  fd_channel_stop_live (channel);
  g_assert_null (fd_slack_channel_get_live_error (FD_SLACK_CHANNEL (channel)));
  spin (50);
  g_assert_finalize_object (channel);

  /* Without an app-level token there is no live connection. */
  fd_channel_start_live (no_live);
  g_assert_cmpint (fd_slack_channel_get_live_state (FD_SLACK_CHANNEL (no_live)), ==,
                   FD_SLACK_LIVE_STOPPED);
  fd_channel_stop_live (no_live);
  g_assert_finalize_object (no_live);
}

/* Against the sandbox */

#if __has_include ("fd-sandbox.h")
#include "fd-sandbox.h"

/* A full sync of the sandbox (4,000 messages) takes minutes under AddressSanitizer with
 * full stack unwinding on every allocation, as the sanitizer run uses. There the canned
 * tests above cover the same code, and these run in the plain build. */
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_FULL_SYNCS() \
  G_STMT_START { \
    g_test_skip ("Full sandbox syncs are too slow under AddressSanitizer; the plain build runs them."); \
    return; \
  } G_STMT_END
#else
#define SKIP_FULL_SYNCS() G_STMT_START { } G_STMT_END
#endif

typedef struct
{
  char        *dir;
  FdSandbox   *sandbox;
  char        *slack_url;
  SoupSession *control;
  sqlite3     *db;        /* the sandbox's own database, read-only */
} Sandbox;

static Sandbox *
sandbox_new (void)
{
  Sandbox *sb = g_new0 (Sandbox, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  sb->dir = g_dir_make_tmp ("test-slack-sandbox-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (sb->dir, "sandbox.db", NULL);
  sb->sandbox = fd_sandbox_new (path);
  fd_sandbox_seed (sb->sandbox, 42, FD_DEMO_SCALE_SMALL, &error);
  g_assert_no_error (error);
  fd_sandbox_run_in_thread (sb->sandbox, 0, &error);
  g_assert_no_error (error);
  sb->slack_url = g_strconcat (fd_sandbox_get_base_url (sb->sandbox), "/slack/api", NULL);
  sb->control = soup_session_new ();
  g_assert_cmpint (sqlite3_open_v2 (path, &sb->db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (sb->db, 5000);

  return sb;
}

static void
sandbox_free (Sandbox *sb)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  sqlite3_close (sb->db);
  g_clear_object (&sb->control);
  fd_sandbox_stop (sb->sandbox);
  g_assert_finalize_object (sb->sandbox);

  dir = g_dir_open (sb->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (sb->dir, name, NULL);
      g_remove (file);
    }
  g_rmdir (sb->dir);
  g_free (sb->dir);
  g_free (sb->slack_url);
  g_free (sb);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sandbox, sandbox_free)

/* The sandbox's rows for @sql, as query() gives ours. */
static char *
sandbox_query (Sandbox    *sb,
               const char *sql)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_assert_cmpint (sqlite3_prepare_v2 (sb->db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GString *row = g_string_new (NULL);

      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          const char *text = (const char *) sqlite3_column_text (stmt, i);

          if (i > 0)
            g_string_append_c (row, '|');
          g_string_append (row, text != NULL ? text : "NULL");
        }
      g_ptr_array_add (rows, g_string_free (row, FALSE));
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_ptr_array_add (rows, NULL);

  return g_strjoinv ("\n", (char **) rows->pdata);
}

/* POSTs @json to the control API; returns the answer's root object. */
static JsonNode *
sandbox_control (Sandbox    *sb,
                 const char *path,
                 const char *json)
{
  g_autofree char *url = g_strconcat (fd_sandbox_get_base_url (sb->sandbox), "/_control", path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) body = g_bytes_new (json, strlen (json));
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();

  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  answer = soup_session_send_and_read (sb->control, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &error);
  g_assert_no_error (error);

  return json_node_ref (json_parser_get_root (parser));
}

static FdChannel *
sandbox_channel (Sandbox  *sb,
                 gboolean  live)
{
  FdChannel *channel = fd_slack_channel_new (sb->slack_url, FD_SANDBOX_SLACK_BOT_TOKEN,
                                             live ? FD_SANDBOX_SLACK_APP_TOKEN : NULL);

  fd_http_client_set_retry (fd_slack_channel_get_http_client (FD_SLACK_CHANNEL (channel)), 4, 10, 1500);
  return channel;
}

/* What a complete sync must hold, from the sandbox's tables: each thread that has replies
 * or was started by a customer, with all its messages. The sandbox posts bot and system
 * messages as our own bot, which Frontdesk counts as agent replies. */
#define SB_THREADS \
  "WITH t AS (SELECT s.channel_id AS ch, s.thread_ts AS tts, count(*) AS n," \
  "    max(s.ts) AS last," \
  "    (SELECT m.author_kind FROM sandbox_slack_messages p JOIN messages m ON m.id = p.message_id" \
  "     WHERE p.channel_id = s.channel_id AND p.ts = s.thread_ts) AS parent_kind" \
  "  FROM sandbox_slack_messages s GROUP BY s.channel_id, s.thread_ts)," \
  " kept AS (SELECT * FROM t WHERE n > 1 OR parent_kind = 'contact') "
#define SB_TS(col) "printf('%d.%06d', " col " / 1000000, " col " % 1000000)"

static char *
expected_messages (Sandbox *sb)
{
  return sandbox_query (sb, SB_THREADS
                        "SELECT s.channel_id || ':' || " SB_TS ("s.ts") ","
                        "  CASE m.author_kind WHEN 'contact' THEN 'contact' ELSE 'agent' END"
                        " FROM sandbox_slack_messages s JOIN messages m ON m.id = s.message_id"
                        " JOIN kept ON kept.ch = s.channel_id AND kept.tts = s.thread_ts"
                        " ORDER BY 1");
}

static char *
expected_conversations (Sandbox *sb)
{
  return sandbox_query (sb, SB_THREADS
                        "SELECT kept.ch || ':' || " SB_TS ("kept.tts") ","
                        "  CASE (SELECT m.author_kind FROM sandbox_slack_messages l"
                        "        JOIN messages m ON m.id = l.message_id"
                        "        WHERE l.channel_id = kept.ch AND l.ts = kept.last)"
                        "    WHEN 'contact' THEN 'open' ELSE 'pending' END,"
                        "  kept.ch,"
                        "  (SELECT printf('UC%08X', m.author_id) FROM sandbox_slack_messages f"
                        "   JOIN messages m ON m.id = f.message_id"
                        "   WHERE f.channel_id = kept.ch AND f.thread_ts = kept.tts"
                        "     AND m.author_kind = 'contact' ORDER BY f.ts LIMIT 1),"
                        "  kept.n"
                        " FROM kept ORDER BY 1");
}

static char *
stored_messages (TestStore *ts)
{
  return query (ts, "SELECT external_id, author_kind FROM messages ORDER BY 1");
}

static char *
stored_conversations (TestStore *ts)
{
  return query (ts, "SELECT c.external_id, c.status, o.external_id, ct.external_id,"
                    "  (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)"
                    " FROM conversations c"
                    " LEFT JOIN organisations o ON o.id = c.organisation_id"
                    " LEFT JOIN contacts ct ON ct.id = c.contact_id ORDER BY 1");
}

static void
assert_matches_sandbox (TestStore *ts,
                        Sandbox   *sb)
{
  g_autofree char *want_messages = expected_messages (sb);
  g_autofree char *got_messages = stored_messages (ts);
  g_autofree char *want_conversations = expected_conversations (sb);
  g_autofree char *got_conversations = stored_conversations (ts);

  g_assert_cmpuint (strlen (want_messages), >, 0);
  g_assert_cmpstr (got_messages, ==, want_messages);
  g_assert_cmpstr (got_conversations, ==, want_conversations);
}

static guint
sandbox_requests (Sandbox    *sb,
                  const char *method)
{
  g_autofree char *prefix = g_strconcat ("/slack/api/", method, NULL);

  return fd_sandbox_get_request_count (sb->sandbox, prefix);
}

static void
test_sandbox_sync_run (void)
{
  g_autoptr(Sandbox) sb = sandbox_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(FdChannel) channel = sandbox_channel (sb, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) incoming = NULL;
  g_autoptr(JsonNode) created = NULL;
  g_autofree char *channels = NULL;
  g_autofree char *recent = NULL;
  g_autofree char *json = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *row = NULL;
  g_autofree char *expected = NULL;
  FdSyncStats stats = { 0 };
  gint64 n_channels;
  gint64 n_messages;
  guint history;
  guint replies;
  guint batches = 0;
  const char *external;
  const char *ts_text;
  gint64 start = g_get_monotonic_time ();

  /* First sync: every Slack Connect thread, with its replies. */
  sync_once (channel, ts, &stats, &batches, &error);
  g_assert_no_error (error);
  g_test_message ("first sync: %u batches, %u messages in %.2f s", batches, stats.messages_new,
                  (g_get_monotonic_time () - start) / 1e6);
  assert_matches_sandbox (ts, sb);

  /* One organisation per channel, named after the customer. */
  channels = sandbox_query (sb, "SELECT count(*) FROM sandbox_slack_channels");
  n_channels = g_ascii_strtoll (channels, NULL, 10);
  g_assert_cmpint (n_channels, >, 1);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM organisations"), ==, n_channels);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM organisations WHERE name LIKE '%support%' "
                                  "OR name = external_id"), ==, 0);

  /* Customers are contacts of their organisation, with their email; agents are agents. */
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM contacts WHERE organisation_id IS NULL "
                                  "OR email IS NULL OR external_id NOT LIKE 'UC%'"), ==, 0);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM agents WHERE external_id NOT LIKE 'UA%'"), ==, 0);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM agents"), >, 0);

  /* Mentions resolved to names, links and entities decoded. */
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages WHERE body LIKE '%<@%' "
                                  "OR body LIKE '%<http%' OR body LIKE '%&amp;%' "
                                  "OR body LIKE '%&lt;%'"), ==, 0);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages m "
                                  "JOIN conversations c ON c.id = m.conversation_id "
                                  "JOIN contacts ct ON ct.id = c.contact_id "
                                  "WHERE m.author_kind = 'agent' AND instr(m.body, '@' || ct.name) > 0"),
                   >, 0);

  /* Nothing new: one history request per channel, no replies. */
  history = sandbox_requests (sb, "conversations.history");
  replies = sandbox_requests (sb, "conversations.replies");
  memset (&stats, 0, sizeof stats);
  start = g_get_monotonic_time ();
  sync_once (channel, ts, &stats, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("incremental sync with nothing new: %.3f s", (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpuint (sandbox_requests (sb, "conversations.history") - history, <=, n_channels);
  g_assert_cmpuint (sandbox_requests (sb, "conversations.replies") - replies, ==, 0);
  g_assert_cmpuint (stats.messages_new, ==, 0);
  assert_matches_sandbox (ts, sb);

  /* A customer writes in the most recent thread, and starts a new one. */
  recent = query (ts, "SELECT external_id FROM conversations ORDER BY last_message_at DESC LIMIT 1");
  json = g_strdup_printf ("{\"service\": \"slack\", \"conversation_external_id\": \"%s\", "
                          "\"body\": \"Any news? See https://status.example.com & the log\"}", recent);
  incoming = sandbox_control (sb, "/incoming", json);
  created = sandbox_control (sb, "/incoming", "{\"service\": \"slack\", \"new\": true, "
                                              "\"body\": \"A brand new problem\"}");

  n_messages = query_int (ts, "SELECT count(*) FROM messages");
  memset (&stats, 0, sizeof stats);
  sync_ok (channel, ts, &stats);
  g_assert_cmpuint (stats.messages_new, ==, 2);
  g_assert_cmpuint (stats.conversations_new, ==, 1);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==, n_messages + 2);
  assert_matches_sandbox (ts, sb);

  external = json_object_get_string_member (json_node_get_object (incoming), "channel");
  ts_text = json_object_get_string_member (json_node_get_object (incoming), "ts");
  sql = g_strdup_printf ("SELECT m.author_kind, c.status, m.body FROM messages m "
                         "JOIN conversations c ON c.id = m.conversation_id "
                         "WHERE m.external_id = '%s:%s'", external, ts_text);
  row = query (ts, sql);
  g_assert_true (g_str_has_prefix (row, "contact|open|Any news? See "));
  g_assert_nonnull (strstr (row, "https://status.example.com"));
  g_assert_true (g_str_has_suffix (row, " & the log"));
  g_assert_null (strchr (row, '<'));

  g_free (sql);
  sql = g_strdup_printf ("SELECT subject, status FROM conversations WHERE external_id = '%s'",
                         json_object_get_string_member (json_node_get_object (created),
                                                        "conversation_external_id"));
  g_free (row);
  row = query (ts, sql);
  g_assert_cmpstr (row, ==, "A brand new problem|open");
  (void) expected;
}

static void
test_sandbox_reply_run (void)
{
  g_autoptr(Sandbox) sb = sandbox_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(FdChannel) channel = sandbox_channel (sb, FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree char *conversation = NULL;
  g_autofree char *id = NULL;
  g_autofree char *again = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *row = NULL;
  FdSyncStats stats = { 0 };
  FdSyncBatch *batch;
  FdConversationRecord *conv;
  FdMessageRecord *message;
  gint64 n_messages;
  const char *colon;

  sync_ok (channel, ts, &stats);
  conversation = query (ts, "SELECT external_id FROM conversations WHERE status = 'open' "
                            "ORDER BY last_message_at DESC LIMIT 1");

  id = send (channel, FD_OUTBOX_REPLY, conversation, "Thanks <Carol> — fixed & deployed",
             "reply-key-1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);

  /* Posted in the thread, as the bot. */
  colon = strchr (id, ':');
  g_assert_nonnull (colon);
  sql = g_strconcat ("SELECT s.channel_id || ':' || " SB_TS ("s.thread_ts") ", m.body"
                     " FROM sandbox_slack_messages s JOIN messages m ON m.id = s.message_id"
                     " WHERE s.channel_id || ':' || " SB_TS ("s.ts") " = '", id, "'", NULL);
  row = sandbox_query (sb, sql);
  g_assert_true (g_str_has_prefix (row, conversation));
  g_assert_nonnull (strstr (row, "Thanks <Carol> — fixed & deployed"));

  /* A retry with the same key is the same message. */
  again = send (channel, FD_OUTBOX_REPLY, conversation, "Thanks <Carol> — fixed & deployed",
                "reply-key-1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, id);

  /* What the outbox stores, then a sync: no duplicate, the thread waits on the customer. */
  n_messages = query_int (ts, "SELECT count(*) FROM messages");
  batch = fd_sync_batch_new ();
  conv = fd_sync_batch_add_conversation (batch);
  conv->external_id = g_strdup (conversation);
  conv->channel = "slack";
  message = fd_conversation_record_add_message (conv);
  message->external_id = g_strdup (id);
  message->author_kind = "agent";
  message->body = g_strdup ("Thanks <Carol> — fixed & deployed");
  message->created_at = g_get_real_time () / 1000;
  store_apply (ts, batch, &stats);
  fd_sync_batch_free (batch);

  memset (&stats, 0, sizeof stats);
  sync_ok (channel, ts, &stats);
  g_assert_cmpuint (stats.messages_new, ==, 0);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==, n_messages + 1);
  g_free (sql);
  sql = g_strdup_printf ("SELECT status, (SELECT body FROM messages WHERE external_id = '%s') "
                         "FROM conversations WHERE external_id = '%s'", id, conversation);
  g_free (row);
  row = query (ts, sql);
  g_assert_cmpstr (row, ==, "pending|Thanks <Carol> — fixed & deployed");
  assert_matches_sandbox (ts, sb);
}

/* Each of the sandbox's faults in the middle of one sync, one after the other. Without
 * retries a fetch fails cleanly and stores nothing (or libsoup resends a dropped request
 * by itself); a new channel resumes from the stored cursor through the same fault and,
 * with retries, overcomes it; at the end the store holds what an uninterrupted sync
 * gives: no duplicates, no gaps. */
static void
test_sandbox_faults_run (void)
{
  static const struct
  {
    FdSandboxFaultKind  kind;
    const char         *path;
    guint               param;
  } faults[] = {
    { FD_SANDBOX_FAULT_RATE_LIMIT, "/slack/api/conversations.history", 1 },
    { FD_SANDBOX_FAULT_SERVER_ERROR, "/slack/api/conversations.replies", 0 },
    { FD_SANDBOX_FAULT_UNAVAILABLE, "/slack/api/users.info", 0 },
    { FD_SANDBOX_FAULT_SLOW, "/slack/api/conversations.history", 2500 },
    { FD_SANDBOX_FAULT_TRUNCATE, "/slack/api/conversations.replies", 0 },
    { FD_SANDBOX_FAULT_MALFORMED, "/slack/api/conversations.history", 0 },
    { FD_SANDBOX_FAULT_DROP, "/slack/api/conversations.replies", 0 },
  };
  g_autoptr(Sandbox) sb = sandbox_new ();
  g_autoptr(TestStore) ts = test_store_new ();
  g_autoptr(FdChannel) plain = sandbox_channel (sb, FALSE);
  g_autoptr(FdSyncBatch) start = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  FdSyncStats stats = { 0 };
  gboolean has_more = TRUE;
  guint failures = 0;

  /* The first page, stored. */
  start = fetch (plain, NULL, &has_more, &error);
  g_assert_no_error (error);
  store_apply (ts, start, &stats);
  cursor = g_strdup (start->cursor);

  for (guint i = 0; i < G_N_ELEMENTS (faults) && has_more; i++)
    {
      g_autoptr(FdChannel) strict = sandbox_channel (sb, FALSE);
      g_autoptr(FdChannel) patient = sandbox_channel (sb, FALSE);
      FdHttpClient *http = fd_slack_channel_get_http_client (FD_SLACK_CHANNEL (strict));
      g_autoptr(FdSyncBatch) failed = NULL;
      g_autoptr(FdSyncBatch) batch = NULL;
      gint64 n_messages = query_int (ts, "SELECT count(*) FROM messages");

      g_test_message ("fault: %s on %s", fd_sandbox_fault_kind_to_string (faults[i].kind),
                      faults[i].path);

      fd_http_client_set_retry (http, 1, 1, 1);
      fd_http_client_set_timeout (http, 1);
      fd_sandbox_add_fault (sb->sandbox, faults[i].path, faults[i].kind, 1, faults[i].param);
      failed = fetch (strict, cursor, &has_more, &error);
      fd_sandbox_clear_faults (sb->sandbox);

      if (failed != NULL)
        {
          g_test_message ("recovered by itself");
          store_apply (ts, failed, &stats);
          g_free (cursor);
          cursor = g_strdup (failed->cursor);
          continue;
        }

      failures++;
      g_assert_true (error->domain == FD_HTTP_ERROR);
      g_test_message ("failed: %s", error->message);
      g_clear_error (&error);
      g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==, n_messages);

      fd_http_client_set_timeout (fd_slack_channel_get_http_client (FD_SLACK_CHANNEL (patient)), 1);
      fd_sandbox_add_fault (sb->sandbox, faults[i].path, faults[i].kind, 1, faults[i].param);
      batch = fetch (patient, cursor, &has_more, &error);
      fd_sandbox_clear_faults (sb->sandbox);
      g_assert_no_error (error);
      store_apply (ts, batch, &stats);
      g_free (cursor);
      cursor = g_strdup (batch->cursor);
    }

  g_assert_cmpuint (failures, >=, G_N_ELEMENTS (faults) - 1);
  g_assert_true (has_more);

  /* The rest, from the stored cursor. */
  sync_ok (plain, ts, &stats);
  assert_matches_sandbox (ts, sb);
}

static void
test_sandbox_live (void)
{
  g_autoptr(Sandbox) sb = sandbox_new ();
  FdChannel *channel = sandbox_channel (sb, TRUE);
  LiveLog log = { g_ptr_array_new_with_free_func (g_free), g_string_new (NULL) };
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) second = NULL;
  g_autofree char *recent = NULL;
  g_autofree char *json = NULL;
  g_autofree char *prefix = NULL;
  JsonObject *answer;

  /* The most recent thread, where a customer may well write again. */
  recent = sandbox_query (sb, "SELECT channel_id || ':' || " SB_TS ("thread_ts")
                              " FROM sandbox_slack_messages ORDER BY ts DESC LIMIT 1");

  fd_slack_channel_set_reconnect_delays (FD_SLACK_CHANNEL (channel), 20, 200);
  g_signal_connect (channel, "live-batch", G_CALLBACK (live_batch_cb), &log);
  g_signal_connect (channel, "notify::live-state", G_CALLBACK (live_state_cb), &log);
  fd_channel_start_live (channel);
  WAIT_FOR (fd_slack_channel_get_live_state (FD_SLACK_CHANNEL (channel)) == FD_SLACK_LIVE_CONNECTED, 10);

  /* Acknowledgements expected sooner than they can come: the sandbox sends envelopes
   * again, and each message still arrives once. */
  fd_sandbox_set_ack_timeout (sb->sandbox, 10);
  json = g_strdup_printf ("{\"service\": \"slack\", \"conversation_external_id\": \"%s\", "
                          "\"body\": \"Live from the customer\"}", recent);
  first = sandbox_control (sb, "/incoming", json);
  answer = json_node_get_object (first);
  WAIT_FOR (log.batches->len == 1, 10);
  spin (500);
  g_assert_cmpuint (log.batches->len, ==, 1);
  prefix = g_strdup_printf ("%s|", recent);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (log.batches, 0), prefix));
  {
    g_autofree char *record = g_strdup_printf ("|%s:%s:contact:Live from the customer",
                                               json_object_get_string_member (answer, "channel"),
                                               json_object_get_string_member (answer, "ts"));

    g_assert_nonnull (strstr (g_ptr_array_index (log.batches, 0), record));
    g_assert_nonnull (strstr (g_ptr_array_index (log.batches, 0), "|open|"));
  }
  fd_sandbox_set_ack_timeout (sb->sandbox, 3000);

  /* The sandbox asks to reconnect and closes the socket: back, and delivering. */
  g_string_truncate (log.states, 0);
  json_node_unref (sandbox_control (sb, "/slack/disconnect", "{}"));
  WAIT_FOR (g_str_has_suffix (log.states->str, "connected") &&
            strstr (log.states->str, "reconnecting") != NULL, 10);
  second = sandbox_control (sb, "/incoming", "{\"service\": \"slack\", \"new\": true, "
                                             "\"body\": \"After the reconnection\"}");
  WAIT_FOR (log.batches->len == 2, 10);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (log.batches, 1),
                                   json_object_get_string_member (json_node_get_object (second),
                                                                  "conversation_external_id")));
  g_assert_nonnull (strstr (g_ptr_array_index (log.batches, 1), "|After the reconnection|open|"));

  fd_channel_stop_live (channel);
  spin (200);
  g_assert_finalize_object (channel);
  g_ptr_array_unref (log.batches);
  g_string_free (log.states, TRUE);
}

static void
test_sandbox_sync (void)
{
  SKIP_FULL_SYNCS ();
  test_sandbox_sync_run ();
}

static void
test_sandbox_reply (void)
{
  SKIP_FULL_SYNCS ();
  test_sandbox_reply_run ();
}

static void
test_sandbox_faults (void)
{
  SKIP_FULL_SYNCS ();
  test_sandbox_faults_run ();
}
#endif

int
main (int   argc,
      char *argv[])
{
  /* Isolated folders hide the system's GSettings schemas, which GNOME's proxy resolver
   * needs; the servers here are all on loopback anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/slack/canned/first-sync", test_first_sync);
  g_test_add_func ("/slack/canned/incremental", test_incremental);
  g_test_add_func ("/slack/canned/paging", test_paging);
  g_test_add_func ("/slack/canned/fault-resume", test_fault_resume);
  g_test_add_func ("/slack/canned/fault-recover", test_fault_recover);
  g_test_add_func ("/slack/canned/errors", test_errors);
  g_test_add_func ("/slack/canned/send", test_send);
  g_test_add_func ("/slack/canned/live", test_live);
  g_test_add_func ("/slack/canned/live-errors", test_live_errors);
#if __has_include ("fd-sandbox.h")
  g_test_add_func ("/slack/sandbox/sync", test_sandbox_sync);
  g_test_add_func ("/slack/sandbox/reply", test_sandbox_reply);
  g_test_add_func ("/slack/sandbox/faults", test_sandbox_faults);
  g_test_add_func ("/slack/sandbox/live", test_sandbox_live);
#endif

  return g_test_run ();
}
