/* fd-sandbox-slack.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sandbox"

#include "config.h"

#include <string.h>

#include "fd-sandbox-private.h"

/* Slack Web API under /slack/api/METHOD (the base URL is BASE/slack/api, like
 * https://slack.com/api) and Socket Mode under /slack/socket.
 *
 * Every organisation with Slack conversations (and every enterprise one) has a Slack
 * Connect channel, "<name>-support"; each conversation is a thread in it: the first
 * message is the parent, the others are replies. Internal notes are not in Slack.
 *   channel  "CS" + 8 hex digits of organisations.id
 *   user     "UC" + 8 hex digits of contacts.id (the customer's team "TE…"),
 *            "UA" + 8 hex digits of agents.id (team T0LUMEN001)
 *   bot      user U0BOTSANDBX, bot B0SANDBOX01: chat.postMessage posts as the bot
 *   ts       microseconds of the message time, unique per channel
 *
 * Socket Mode: apps.connections.open (app token) gives a one-time ws:// URL. The socket
 * says hello, then carries an events_api envelope for each new message; one that is
 * not acknowledged with {"envelope_id": …} in time is sent again with retry_attempt + 1
 * and retry_reason "timeout", up to three retries. Envelopes raised while no socket is
 * open wait for the next one. POST /_control/slack/disconnect sends
 * {"type": "disconnect", "reason": "refresh_requested"} and closes every socket. */

#define TEAM_ID     "T0LUMEN001"
#define BOT_USER_ID "U0BOTSANDBX"
#define BOT_ID      "B0SANDBOX01"
#define SLACK_APP_ID      "A0SANDBOX01"
#define MAX_RETRIES 3
#define MAX_PENDING 1000

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS sandbox_slack_channels ("
  "  id TEXT PRIMARY KEY,"
  "  organisation_id INTEGER UNIQUE REFERENCES organisations(id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL UNIQUE,"
  "  created INTEGER NOT NULL"
  ");"
  "CREATE TABLE IF NOT EXISTS sandbox_slack_messages ("
  "  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
  "  channel_id TEXT NOT NULL,"
  "  ts INTEGER NOT NULL,"          /* microseconds */
  "  thread_ts INTEGER NOT NULL,"   /* the parent's ts; equal to ts for a parent */
  "  client_msg_id TEXT"
  ");"
  "CREATE UNIQUE INDEX IF NOT EXISTS sandbox_slack_messages_ts"
  "  ON sandbox_slack_messages (channel_id, ts);"
  "CREATE INDEX IF NOT EXISTS sandbox_slack_messages_thread"
  "  ON sandbox_slack_messages (channel_id, thread_ts, ts);"
  "CREATE UNIQUE INDEX IF NOT EXISTS sandbox_slack_messages_client"
  "  ON sandbox_slack_messages (channel_id, client_msg_id) WHERE client_msg_id IS NOT NULL;";

typedef struct
{
  char     *id;
  char     *payload;   /* JSON */
  guint     retry_attempt;
  GSource  *timeout;    /* armed while an attempt waits for its ack */
} Envelope;

/* {{{ Ids and text */

static char *
contact_user (gint64 id)
{
  return g_strdup_printf ("UC%08" G_GINT64_MODIFIER "X", id);
}

static char *
agent_user (gint64 id)
{
  return g_strdup_printf ("UA%08" G_GINT64_MODIFIER "X", id);
}

static char *
customer_team (gint64 organisation_id)
{
  if (organisation_id <= 0)
    return g_strdup (TEAM_ID);
  return g_strdup_printf ("TE%08" G_GINT64_MODIFIER "X", organisation_id);
}

static gint64
parse_user (const char *user,
            const char *prefix)
{
  guint64 value;

  if (user == NULL || strlen (user) != 10 || !g_str_has_prefix (user, prefix) ||
      !g_ascii_string_to_unsigned (user + 2, 16, 1, G_MAXINT64, &value, NULL))
    return 0;
  return (gint64) value;
}

static char *
format_ts (gint64 ts)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ".%06d", ts / G_USEC_PER_SEC,
                          (int) (ts % G_USEC_PER_SEC));
}

/* "1712345678.000123" → microseconds. */
static gboolean
parse_ts (const char *text,
          gint64     *ts)
{
  const char *dot;
  guint64 whole, frac = 0;
  g_autofree char *head = NULL;
  char digits[7] = "000000";

  if (text == NULL || text[0] == '\0')
    return FALSE;
  dot = strchr (text, '.');
  head = dot ? g_strndup (text, dot - text) : g_strdup (text);
  if (!g_ascii_string_to_unsigned (head, 10, 0, G_MAXINT64 / G_USEC_PER_SEC, &whole, NULL))
    return FALSE;
  if (dot != NULL)
    {
      gsize n = strlen (dot + 1);

      if (n == 0 || n > 6)
        return FALSE;
      memcpy (digits, dot + 1, n);
      if (!g_ascii_string_to_unsigned (digits, 10, 0, 999999, &frac, NULL))
        return FALSE;
    }
  *ts = (gint64) (whole * G_USEC_PER_SEC + frac);
  return TRUE;
}

static void
append_mrkdwn_escaped (GString    *out,
                       const char *text,
                       gsize       length)
{
  for (gsize i = 0; i < length; i++)
    {
      switch (text[i])
        {
        case '&': g_string_append (out, "&amp;"); break;
        case '<': g_string_append (out, "&lt;"); break;
        case '>': g_string_append (out, "&gt;"); break;
        default: g_string_append_c (out, text[i]); break;
        }
    }
}

/* Plain text as Slack sends it: &, < and > escaped, URLs as <url|label>, and an agent's
 * "Hi Name!" as a mention of the customer. */
static char *
text_to_mrkdwn (const char *text,
                const char *first_name,
                const char *mention)
{
  GString *out = g_string_new (NULL);
  const char *p = text;

  if (first_name != NULL && mention != NULL)
    {
      g_autofree char *greeting = g_strdup_printf ("Hi %s!", first_name);

      if (g_str_has_prefix (text, greeting))
        {
          g_string_append_printf (out, "Hi <@%s>!", mention);
          p = text + strlen (greeting);
        }
    }

  while (*p != '\0')
    {
      const char *url = strstr (p, "https://");
      const char *stop;

      if (url == NULL)
        {
          append_mrkdwn_escaped (out, p, strlen (p));
          break;
        }
      append_mrkdwn_escaped (out, p, url - p);
      stop = url;
      while (*stop != '\0' && !g_ascii_isspace (*stop) && *stop != '<' && *stop != '>')
        stop++;
      while (stop > url && strchr (".,;:!?)'", stop[-1]) != NULL)
        stop--;
      g_string_append_c (out, '<');
      g_string_append_len (out, url, stop - url);
      g_string_append_c (out, '|');
      g_string_append_len (out, url + 8, stop - url - 8);
      g_string_append_c (out, '>');
      p = stop;
    }

  return g_string_free (out, FALSE);
}

/* mrkdwn → plain text: links become their label, entities are decoded. */
static char *
mrkdwn_to_text (const char *mrkdwn)
{
  GString *out = g_string_new (NULL);

  for (const char *p = mrkdwn; *p != '\0';)
    {
      if (*p == '<')
        {
          const char *close = strchr (p, '>');
          const char *bar;

          if (close == NULL)
            {
              g_string_append (out, p);
              break;
            }
          bar = memchr (p, '|', close - p);
          if (p[1] == '@' || p[1] == '#' || p[1] == '!')
            {
              g_string_append_c (out, p[1] == '#' ? '#' : '@');
              g_string_append_len (out, bar ? bar + 1 : p + 2, close - (bar ? bar + 1 : p + 2));
            }
          else if (bar != NULL)
            g_string_append_len (out, bar + 1, close - bar - 1);
          else
            g_string_append_len (out, p + 1, close - p - 1);
          p = close + 1;
        }
      else if (g_str_has_prefix (p, "&amp;"))
        {
          g_string_append_c (out, '&');
          p += 5;
        }
      else if (g_str_has_prefix (p, "&lt;"))
        {
          g_string_append_c (out, '<');
          p += 4;
        }
      else if (g_str_has_prefix (p, "&gt;"))
        {
          g_string_append_c (out, '>');
          p += 4;
        }
      else
        g_string_append_c (out, *p++);
    }

  return g_string_free (out, FALSE);
}

/* }}} */
/* {{{ Seed */

static gboolean
seed_channels (FdSandbox  *self,
               GError    **error)
{
  g_autoptr(FdSandboxStmt) select =
    _fd_sandbox_stmt (self, "SELECT o.id, o.name, o.created_at FROM organisations o"
                            " WHERE o.is_enterprise OR EXISTS (SELECT 1 FROM conversations c"
                            "   WHERE c.organisation_id = o.id AND c.channel = 'slack')"
                            " ORDER BY o.id");
  g_autoptr(FdSandboxStmt) insert =
    _fd_sandbox_stmt (self, "INSERT INTO sandbox_slack_channels (id, organisation_id, name, created)"
                            " VALUES (?, ?, ?, ?)");
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  while (sqlite3_step (select) == SQLITE_ROW)
    {
      gint64 org = sqlite3_column_int64 (select, 0);
      g_autofree char *slug = _fd_sandbox_slugify ((const char *) sqlite3_column_text (select, 1), '-');
      g_autofree char *id = g_strdup_printf ("CS%08" G_GINT64_MODIFIER "X", org);
      char *dash = strchr (slug, '-');
      char *name;

      /* "northwave-analytics-inc" → "northwave-support", as teams name these channels. */
      if (dash != NULL)
        *dash = '\0';
      name = g_strdup_printf ("%s-support", slug);
      for (guint n = 2; g_hash_table_contains (names, name); n++)
        {
          g_free (name);
          name = g_strdup_printf ("%s-support-%u", slug, n);
        }
      g_hash_table_add (names, name);

      sqlite3_bind_text (insert, 1, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (insert, 2, org);
      sqlite3_bind_text (insert, 3, name, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (insert, 4, sqlite3_column_int64 (select, 2) / 1000);
      if (!_fd_sandbox_step_done (self, insert, error))
        return FALSE;
      sqlite3_reset (insert);
    }

  return TRUE;
}

static gboolean
slack_seed (FdSandbox  *self,
            GError    **error)
{
  g_autoptr(FdSandboxStmt) select =
    _fd_sandbox_stmt (self, "SELECT m.id, m.conversation_id, m.created_at, ch.id"
                            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                            " JOIN sandbox_slack_channels ch ON ch.organisation_id = c.organisation_id"
                            " WHERE c.channel = 'slack' AND m.is_note = 0"
                            " ORDER BY ch.id, m.created_at, m.id");
  g_autoptr(FdSandboxStmt) insert =
    _fd_sandbox_stmt (self, "INSERT INTO sandbox_slack_messages (message_id, channel_id, ts, thread_ts)"
                            " VALUES (?, ?, ?, ?)");
  g_autoptr(GHashTable) parents = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_autofree char *channel = NULL;
  gint64 last_ts = 0;

  if (!seed_channels (self, error))
    return FALSE;

  while (sqlite3_step (select) == SQLITE_ROW)
    {
      gint64 conversation = sqlite3_column_int64 (select, 1);
      const char *channel_id = (const char *) sqlite3_column_text (select, 3);
      gint64 *parent;
      gint64 ts;

      if (channel == NULL || !g_str_equal (channel, channel_id))
        {
          g_free (channel);
          channel = g_strdup (channel_id);
          last_ts = 0;
        }

      ts = MAX (sqlite3_column_int64 (select, 2) * 1000, last_ts + 1);
      last_ts = ts;

      parent = g_hash_table_lookup (parents, &conversation);
      if (parent == NULL)
        {
          parent = g_new (gint64, 1);
          *parent = ts;
          g_hash_table_insert (parents, g_memdup2 (&conversation, sizeof conversation), parent);
        }

      sqlite3_bind_int64 (insert, 1, sqlite3_column_int64 (select, 0));
      sqlite3_bind_text (insert, 2, channel_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (insert, 3, ts);
      sqlite3_bind_int64 (insert, 4, *parent);
      if (!_fd_sandbox_step_done (self, insert, error))
        return FALSE;
      sqlite3_reset (insert);
    }

  return TRUE;
}

/* }}} */
/* {{{ Responses */

static void
respond_ok_builder (SoupServerMessage *msg,
                    FdJson            *b)
{
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

static void
respond_error (SoupServerMessage *msg,
               const char        *error)
{
  g_autofree char *body = g_strdup_printf ("{\"ok\":false,\"error\":\"%s\"}", error);

  /* Slack reports failures with HTTP 200 and "ok": false. */
  _fd_sandbox_respond (msg, SOUP_STATUS_OK, "application/json; charset=utf-8", body);
}

static char *
slack_fault_body (FdSandboxFaultKind kind,
                  guint              param)
{
  switch (kind)
    {
    case FD_SANDBOX_FAULT_RATE_LIMIT:
      return g_strdup ("{\"ok\":false,\"error\":\"ratelimited\"}");
    case FD_SANDBOX_FAULT_UNAVAILABLE:
      return g_strdup ("{\"ok\":false,\"error\":\"service_unavailable\"}");
    case FD_SANDBOX_FAULT_SERVER_ERROR:
    case FD_SANDBOX_FAULT_SLOW:
    case FD_SANDBOX_FAULT_TRUNCATE:
    case FD_SANDBOX_FAULT_MALFORMED:
    case FD_SANDBOX_FAULT_DROP:
    default:
      return g_strdup ("{\"ok\":false,\"error\":\"fatal_error\"}");
    }
}

static void
add_response_metadata (FdJson      *b,
                       const char  *next_cursor)
{
  _fd_json_name (b, "response_metadata");
  _fd_json_begin_object (b);
  _fd_json_str (b, "next_cursor", next_cursor ? next_cursor : "");
  _fd_json_end_object (b);
}

static char *
encode_cursor (const char *kind,
               const char *value)
{
  g_autofree char *raw = g_strdup_printf ("%s:%s", kind, value);

  return g_base64_encode ((const guchar *) raw, strlen (raw));
}

/* The value of a cursor made by encode_cursor() with @kind, or NULL. */
static char *
decode_cursor (const char *cursor,
               const char *kind)
{
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;
  gsize kind_length = strlen (kind);

  raw = g_base64_decode (cursor, &length);
  if (raw == NULL || length <= kind_length + 1)
    return NULL;
  text = g_strndup ((const char *) raw, length);
  if (strncmp (text, kind, kind_length) != 0 || text[kind_length] != ':')
    return NULL;
  return g_strdup (text + kind_length + 1);
}

static gint64
limit_from (GHashTable *params,
            gint64      fallback,
            gint64      max)
{
  gint64 value;

  if (!_fd_sandbox_parse_int (g_hash_table_lookup (params, "limit"), &value) || value < 1)
    return fallback;
  return MIN (value, max);
}

/* }}} */
/* {{{ Messages */

/* The columns every message query selects, in this order. */
#define MSG_COLUMNS \
  "m.id, m.author_kind, m.author_id, m.author_name, m.body, s.ts, s.thread_ts, mk.content," \
  " s.client_msg_id, c.contact_id, ct.name, c.organisation_id, s.channel_id"
#define MSG_FROM \
  " FROM sandbox_slack_messages s JOIN messages m ON m.id = s.message_id" \
  " JOIN conversations c ON c.id = m.conversation_id" \
  " LEFT JOIN contacts ct ON ct.id = c.contact_id" \
  " LEFT JOIN sandbox_markup mk ON mk.message_id = m.id"

enum {
  M_ID, M_KIND, M_AUTHOR, M_AUTHOR_NAME, M_BODY, M_TS, M_THREAD_TS, M_MARKUP, M_CLIENT_ID,
  M_CONTACT, M_CONTACT_NAME, M_ORG, M_CHANNEL,
};

static char *
message_user (sqlite3_stmt *s)
{
  const char *kind = (const char *) sqlite3_column_text (s, M_KIND);
  gint64 author = sqlite3_column_int64 (s, M_AUTHOR);

  if (g_str_equal (kind, "contact") && author > 0)
    return contact_user (author);
  if (g_str_equal (kind, "agent") && author > 0)
    return agent_user (author);
  return NULL;
}

static char *
message_text (sqlite3_stmt *s)
{
  const char *name = (const char *) sqlite3_column_text (s, M_CONTACT_NAME);
  g_autofree char *first = NULL;
  g_autofree char *mention = NULL;

  if (sqlite3_column_type (s, M_MARKUP) != SQLITE_NULL)
    return g_strdup ((const char *) sqlite3_column_text (s, M_MARKUP));

  if (name != NULL && g_str_equal ((const char *) sqlite3_column_text (s, M_KIND), "agent"))
    {
      const char *space = strchr (name, ' ');

      first = space ? g_strndup (name, space - name) : g_strdup (name);
      mention = contact_user (sqlite3_column_int64 (s, M_CONTACT));
    }
  return text_to_mrkdwn ((const char *) sqlite3_column_text (s, M_BODY), first, mention);
}

/* Adds the message fields (not the braces) shared by the Web API and events. */
static void
add_message_fields (FdJson       *b,
                    sqlite3_stmt *s)
{
  g_autofree char *user = message_user (s);
  g_autofree char *text = message_text (s);
  g_autofree char *ts = format_ts (sqlite3_column_int64 (s, M_TS));
  const char *kind = (const char *) sqlite3_column_text (s, M_KIND);

  _fd_json_str (b, "type", "message");
  if (user != NULL)
    {
      g_autofree char *team = g_str_equal (kind, "contact")
                              ? customer_team (sqlite3_column_int64 (s, M_ORG))
                              : g_strdup (TEAM_ID);

      _fd_json_str (b, "user", user);
      _fd_json_str (b, "team", team);
    }
  else
    {
      _fd_json_str (b, "user", BOT_USER_ID);
      _fd_json_str (b, "bot_id", BOT_ID);
      _fd_json_str (b, "app_id", SLACK_APP_ID);
      _fd_json_str (b, "team", TEAM_ID);
      _fd_json_str (b, "username", (const char *) sqlite3_column_text (s, M_AUTHOR_NAME));
      _fd_json_name (b, "bot_profile");
      _fd_json_begin_object (b);
      _fd_json_str (b, "id", BOT_ID);
      _fd_json_str (b, "app_id", SLACK_APP_ID);
      _fd_json_str (b, "name", "Lumen Support");
      _fd_json_bool (b, "deleted", FALSE);
      _fd_json_str (b, "team_id", TEAM_ID);
      _fd_json_end_object (b);
    }
  _fd_json_str (b, "text", text);
  _fd_json_str (b, "ts", ts);
  if (sqlite3_column_type (s, M_CLIENT_ID) != SQLITE_NULL)
    _fd_json_str (b, "client_msg_id", (const char *) sqlite3_column_text (s, M_CLIENT_ID));
}

static void
add_thread_fields (FdSandbox    *self,
                   FdJson       *b,
                   sqlite3_stmt *s,
                   gboolean      parent)
{
  g_autofree char *thread_ts = format_ts (sqlite3_column_int64 (s, M_THREAD_TS));

  if (!parent)
    {
      g_autoptr(FdSandboxStmt) p =
        _fd_sandbox_stmt (self, "SELECT " MSG_COLUMNS MSG_FROM
                                " WHERE s.channel_id = ? AND s.ts = ?");
      g_autofree char *parent_user = NULL;

      _fd_json_str (b, "thread_ts", thread_ts);
      sqlite3_bind_text (p, 1, (const char *) sqlite3_column_text (s, M_CHANNEL), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (p, 2, sqlite3_column_int64 (s, M_THREAD_TS));
      if (sqlite3_step (p) == SQLITE_ROW)
        parent_user = message_user (p);
      _fd_json_str (b, "parent_user_id", parent_user ? parent_user : BOT_USER_ID);
      return;
    }

  {
    g_autoptr(FdSandboxStmt) r =
      _fd_sandbox_stmt (self, "SELECT COUNT(*), MAX(ts) FROM sandbox_slack_messages"
                              " WHERE channel_id = ? AND thread_ts = ? AND ts != thread_ts");
    g_autoptr(FdSandboxStmt) u =
      _fd_sandbox_stmt (self, "SELECT DISTINCT m.author_kind, m.author_id"
                              " FROM sandbox_slack_messages s JOIN messages m ON m.id = s.message_id"
                              " WHERE s.channel_id = ? AND s.thread_ts = ? AND s.ts != s.thread_ts");
    gint64 count = 0;
    g_autofree char *latest = NULL;
    guint n_users = 0;

    sqlite3_bind_text (r, 1, (const char *) sqlite3_column_text (s, M_CHANNEL), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (r, 2, sqlite3_column_int64 (s, M_TS));
    if (sqlite3_step (r) == SQLITE_ROW)
      {
        count = sqlite3_column_int64 (r, 0);
        if (count > 0)
          latest = format_ts (sqlite3_column_int64 (r, 1));
      }
    if (count == 0)
      return;

    _fd_json_str (b, "thread_ts", thread_ts);
    _fd_json_int (b, "reply_count", count);
    _fd_json_str (b, "latest_reply", latest);
    _fd_json_name (b, "reply_users");
    _fd_json_begin_array (b);
    sqlite3_bind_text (u, 1, (const char *) sqlite3_column_text (s, M_CHANNEL), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (u, 2, sqlite3_column_int64 (s, M_TS));
    while (sqlite3_step (u) == SQLITE_ROW)
      {
        const char *kind = (const char *) sqlite3_column_text (u, 0);
        gint64 author = sqlite3_column_int64 (u, 1);
        g_autofree char *user = g_str_equal (kind, "contact") && author > 0 ? contact_user (author)
                              : g_str_equal (kind, "agent") && author > 0 ? agent_user (author)
                              : g_strdup (BOT_USER_ID);

        _fd_json_add_string (b, user);
        n_users++;
      }
    _fd_json_end_array (b);
    _fd_json_int (b, "reply_users_count", n_users);
    _fd_json_bool (b, "is_locked", FALSE);
    _fd_json_bool (b, "subscribed", FALSE);
  }
}

static void
add_message (FdSandbox    *self,
             FdJson       *b,
             sqlite3_stmt *s)
{
  gboolean parent = sqlite3_column_int64 (s, M_TS) == sqlite3_column_int64 (s, M_THREAD_TS);

  _fd_json_begin_object (b);
  add_message_fields (b, s);
  add_thread_fields (self, b, s, parent);
  _fd_json_end_object (b);
}

/* }}} */
/* {{{ Socket Mode */

static void
envelope_free (gpointer data)
{
  Envelope *envelope = data;

  if (envelope->timeout != NULL)
    {
      g_source_destroy (envelope->timeout);
      g_source_unref (envelope->timeout);
    }
  g_free (envelope->payload);
  g_free (envelope->id);
  g_free (envelope);
}

static SoupWebsocketConnection *
current_socket (FdSandbox *self)
{
  for (guint i = self->sockets->len; i > 0; i--)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (self->sockets, i - 1);

      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        return conn;
    }
  return NULL;
}

static void send_envelope (FdSandbox *self,
                           Envelope  *envelope);

typedef struct
{
  FdSandbox *self;
  Envelope  *envelope;
} Timeout;

static gboolean
ack_timeout_cb (gpointer data)
{
  Timeout *t = data;
  FdSandbox *self = t->self;
  Envelope *envelope = t->envelope;

  g_clear_pointer (&envelope->timeout, g_source_unref);
  if (envelope->retry_attempt >= MAX_RETRIES)
    {
      g_debug ("Envelope %s was never acknowledged; dropping it", envelope->id);
      g_ptr_array_remove (self->envelopes, envelope);
      return G_SOURCE_REMOVE;
    }

  envelope->retry_attempt++;
  send_envelope (self, envelope);
  return G_SOURCE_REMOVE;
}

static void
send_envelope (FdSandbox *self,
               Envelope  *envelope)
{
  SoupWebsocketConnection *conn = current_socket (self);
  g_autoptr(FdJson) b = NULL;
  g_autofree char *text = NULL;
  Timeout *t;
  guint timeout_ms;

  if (conn == NULL)
    return;

  b = _fd_json_new ();
  _fd_json_begin_object (b);
  _fd_json_str (b, "envelope_id", envelope->id);
  _fd_json_str (b, "type", "events_api");
  _fd_json_bool (b, "accepts_response_payload", FALSE);
  _fd_json_int (b, "retry_attempt", envelope->retry_attempt);
  _fd_json_str (b, "retry_reason", envelope->retry_attempt > 0 ? "timeout" : "");
  _fd_json_name (b, "payload");
  _fd_json_add_raw (b, envelope->payload);
  _fd_json_end_object (b);
  text = _fd_json_steal (b, NULL);
  soup_websocket_connection_send_text (conn, text);

  g_mutex_lock (&self->lock);
  timeout_ms = self->ack_timeout_ms;
  g_mutex_unlock (&self->lock);

  t = g_new (Timeout, 1);
  t->self = self;
  t->envelope = envelope;
  envelope->timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (envelope->timeout, ack_timeout_cb, t, g_free);
  g_source_attach (envelope->timeout, self->context);
}

static void
queue_event (FdSandbox  *self,
             const char *event,      /* JSON */
             gint64      message_id)
{
  g_autoptr(FdJson) b = _fd_json_new ();
  g_autofree char *event_id = g_strdup_printf ("Ev%010" G_GINT64_MODIFIER "X", message_id);
  Envelope *envelope;

  _fd_json_begin_object (b);
  _fd_json_str (b, "token", "sandbox-verification-token");
  _fd_json_str (b, "team_id", TEAM_ID);
  _fd_json_null (b, "enterprise_id");
  _fd_json_str (b, "api_app_id", SLACK_APP_ID);
  _fd_json_name (b, "event");
  _fd_json_add_raw (b, event);
  _fd_json_str (b, "type", "event_callback");
  _fd_json_str (b, "event_id", event_id);
  _fd_json_int (b, "event_time", _fd_sandbox_now_ms () / 1000);
  _fd_json_name (b, "authorizations");
  _fd_json_begin_array (b);
  _fd_json_begin_object (b);
  _fd_json_null (b, "enterprise_id");
  _fd_json_str (b, "team_id", TEAM_ID);
  _fd_json_str (b, "user_id", BOT_USER_ID);
  _fd_json_bool (b, "is_bot", TRUE);
  _fd_json_bool (b, "is_enterprise_install", FALSE);
  _fd_json_end_object (b);
  _fd_json_end_array (b);
  _fd_json_bool (b, "is_ext_shared_channel", TRUE);
  _fd_json_str (b, "event_context", "4-sandbox");
  _fd_json_end_object (b);

  envelope = g_new0 (Envelope, 1);
  envelope->id = g_uuid_string_random ();
  envelope->payload = _fd_json_steal (b, NULL);

  if (self->envelopes->len >= MAX_PENDING)
    g_ptr_array_remove_index (self->envelopes, 0);
  g_ptr_array_add (self->envelopes, envelope);
  send_envelope (self, envelope);
}

/* Raises the Events API message event for a message just written. */
static void
queue_message_event (FdSandbox *self,
                     gint64     message_id)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT " MSG_COLUMNS MSG_FROM " WHERE s.message_id = ?");
  g_autoptr(FdJson) b = _fd_json_new ();
  gboolean parent;

  sqlite3_bind_int64 (s, 1, message_id);
  if (sqlite3_step (s) != SQLITE_ROW)
    return;

  parent = sqlite3_column_int64 (s, M_TS) == sqlite3_column_int64 (s, M_THREAD_TS);
  _fd_json_begin_object (b);
  add_message_fields (b, s);
  _fd_json_str (b, "channel", (const char *) sqlite3_column_text (s, M_CHANNEL));
  {
    g_autofree char *ts = format_ts (sqlite3_column_int64 (s, M_TS));
    _fd_json_str (b, "event_ts", ts);
  }
  _fd_json_str (b, "channel_type", "channel");
  if (!parent)
    add_thread_fields (self, b, s, FALSE);
  _fd_json_end_object (b);

  {
    g_autofree char *event = _fd_json_steal (b, NULL);

    queue_event (self, event, message_id);
  }
}

static void
socket_message_cb (SoupWebsocketConnection *conn,
                   SoupWebsocketDataType    type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  FdSandbox *self = user_data;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize length;
  const char *data = g_bytes_get_data (message, &length);
  JsonNode *root;
  const char *id;

  if (type != SOUP_WEBSOCKET_DATA_TEXT ||
      !json_parser_load_from_data (parser, data, (gssize) length, NULL))
    return;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return;
  id = json_object_get_string_member_with_default (json_node_get_object (root), "envelope_id", NULL);
  if (id == NULL)
    return;

  for (guint i = 0; i < self->envelopes->len; i++)
    {
      Envelope *envelope = g_ptr_array_index (self->envelopes, i);

      if (g_str_equal (envelope->id, id))
        {
          g_ptr_array_remove_index (self->envelopes, i);
          return;
        }
    }
}

static void
socket_closed_cb (SoupWebsocketConnection *conn,
                  gpointer                 user_data)
{
  FdSandbox *self = user_data;

  g_signal_handlers_disconnect_by_data (conn, self);
  g_ptr_array_remove (self->sockets, conn);
}

static void
websocket_cb (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *conn,
              gpointer                 user_data)
{
  FdSandbox *self = user_data;
  g_autofree char *hello = NULL;

  g_ptr_array_add (self->sockets, g_object_ref (conn));
  g_signal_connect (conn, "message", G_CALLBACK (socket_message_cb), self);
  g_signal_connect (conn, "closed", G_CALLBACK (socket_closed_cb), self);

  hello = g_strdup_printf ("{\"type\":\"hello\",\"num_connections\":%u,"
                           "\"debug_info\":{\"host\":\"applink-sandbox\",\"build_number\":1,"
                           "\"approximate_connection_time\":18060},"
                           "\"connection_info\":{\"app_id\":\"" SLACK_APP_ID "\"}}",
                           self->sockets->len);
  soup_websocket_connection_send_text (conn, hello);

  /* What arrived while nobody listened, and is not waiting for an ack already. */
  for (guint i = 0; i < self->envelopes->len; i++)
    {
      Envelope *envelope = g_ptr_array_index (self->envelopes, i);

      if (envelope->timeout == NULL)
        send_envelope (self, envelope);
    }
}

void
_fd_sandbox_slack_setup_socket (FdSandbox  *self,
                                SoupServer *server)
{
  g_ptr_array_set_free_func (self->envelopes, envelope_free);
  soup_server_add_websocket_handler (server, "/slack/socket", NULL, NULL,
                                     websocket_cb, self, NULL);
}

void
_fd_sandbox_slack_disconnect (FdSandbox *self)
{
  g_autoptr(GPtrArray) sockets = g_ptr_array_copy (self->sockets, (GCopyFunc) g_object_ref, NULL);

  g_ptr_array_set_free_func (sockets, g_object_unref);
  for (guint i = 0; i < sockets->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (sockets, i);

      if (soup_websocket_connection_get_state (conn) != SOUP_WEBSOCKET_STATE_OPEN)
        continue;
      soup_websocket_connection_send_text (conn, "{\"type\":\"disconnect\",\"reason\":"
                                                 "\"refresh_requested\",\"debug_info\":"
                                                 "{\"host\":\"applink-sandbox\"}}");
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }
}

static void
slack_shutdown (FdSandbox *self)
{
  for (guint i = 0; i < self->sockets->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (self->sockets, i);

      g_signal_handlers_disconnect_by_data (conn, self);
      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    }
  g_ptr_array_set_size (self->sockets, 0);
  g_ptr_array_set_size (self->envelopes, 0);
  g_hash_table_remove_all (self->tickets);
}

/* }}} */
/* {{{ Web API methods */

static void
method_auth_test (FdSandbox         *self,
                  SoupServerMessage *msg)
{
  g_autoptr(FdJson) b = _fd_json_new ();

  _fd_json_begin_object (b);
  _fd_json_bool (b, "ok", TRUE);
  _fd_json_str (b, "url", "https://lumen-sandbox.slack.com/");
  _fd_json_str (b, "team", "Lumen");
  _fd_json_str (b, "user", "lumen_support");
  _fd_json_str (b, "team_id", TEAM_ID);
  _fd_json_str (b, "user_id", BOT_USER_ID);
  _fd_json_str (b, "bot_id", BOT_ID);
  _fd_json_bool (b, "is_enterprise_install", FALSE);
  _fd_json_end_object (b);
  respond_ok_builder (msg, b);
}

static void
add_channel (FdJson       *b,
             sqlite3_stmt *s)   /* id, name, created, organisation name, members */
{
  _fd_json_begin_object (b);
  _fd_json_str (b, "id", (const char *) sqlite3_column_text (s, 0));
  _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 1));
  _fd_json_bool (b, "is_channel", TRUE);
  _fd_json_bool (b, "is_group", FALSE);
  _fd_json_bool (b, "is_im", FALSE);
  _fd_json_bool (b, "is_mpim", FALSE);
  _fd_json_bool (b, "is_private", FALSE);
  _fd_json_int (b, "created", sqlite3_column_int64 (s, 2));
  _fd_json_bool (b, "is_archived", FALSE);
  _fd_json_bool (b, "is_general", FALSE);
  _fd_json_int (b, "unlinked", 0);
  _fd_json_str (b, "name_normalized", (const char *) sqlite3_column_text (s, 1));
  _fd_json_bool (b, "is_shared", TRUE);
  _fd_json_bool (b, "is_ext_shared", TRUE);
  _fd_json_bool (b, "is_org_shared", FALSE);
  _fd_json_name (b, "pending_shared");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_bool (b, "is_pending_ext_shared", FALSE);
  _fd_json_bool (b, "is_member", TRUE);
  _fd_json_str (b, "creator", BOT_USER_ID);
  _fd_json_name (b, "shared_team_ids");
  _fd_json_begin_array (b);
  _fd_json_add_string (b, TEAM_ID);
  {
    guint64 org = 0;
    g_autofree char *team = NULL;

    g_ascii_string_to_unsigned ((const char *) sqlite3_column_text (s, 0) + 2, 16, 0,
                                G_MAXINT64, &org, NULL);
    team = customer_team ((gint64) org);
    _fd_json_add_string (b, team);
  }
  _fd_json_end_array (b);
  _fd_json_name (b, "topic");
  _fd_json_begin_object (b);
  {
    g_autofree char *topic = g_strdup_printf ("Support for %s", (const char *) sqlite3_column_text (s, 3));

    _fd_json_str (b, "value", topic);
  }
  _fd_json_str (b, "creator", BOT_USER_ID);
  _fd_json_int (b, "last_set", sqlite3_column_int64 (s, 2));
  _fd_json_end_object (b);
  _fd_json_name (b, "purpose");
  _fd_json_begin_object (b);
  _fd_json_str (b, "value", "Slack Connect channel with Lumen Support");
  _fd_json_str (b, "creator", BOT_USER_ID);
  _fd_json_int (b, "last_set", sqlite3_column_int64 (s, 2));
  _fd_json_end_object (b);
  _fd_json_name (b, "previous_names");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_int (b, "num_members", sqlite3_column_int64 (s, 4) + 2);
  _fd_json_end_object (b);
}

static void
method_conversations_list (FdSandbox         *self,
                           SoupServerMessage *msg,
                           GHashTable        *params)
{
  const char *types = g_hash_table_lookup (params, "types");
  const char *cursor = g_hash_table_lookup (params, "cursor");
  gint64 limit = limit_from (params, 100, 1000);
  g_autofree char *after = NULL;
  g_autofree char *next = NULL;
  g_autoptr(FdJson) b = _fd_json_new ();
  gboolean want_public = TRUE;
  gint64 n = 0;

  if (types != NULL && types[0] != '\0')
    {
      g_auto(GStrv) list = g_strsplit (types, ",", -1);

      want_public = FALSE;
      for (guint i = 0; list[i] != NULL; i++)
        if (g_str_equal (g_strstrip (list[i]), "public_channel"))
          want_public = TRUE;
    }

  if (cursor != NULL && cursor[0] != '\0' && (after = decode_cursor (cursor, "channel")) == NULL)
    {
      respond_error (msg, "invalid_cursor");
      return;
    }

  _fd_json_begin_object (b);
  _fd_json_bool (b, "ok", TRUE);
  _fd_json_name (b, "channels");
  _fd_json_begin_array (b);
  if (want_public)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT ch.id, ch.name, ch.created, o.name,"
                                " (SELECT COUNT(*) FROM contacts ct WHERE ct.organisation_id = o.id)"
                                " FROM sandbox_slack_channels ch"
                                " JOIN organisations o ON o.id = ch.organisation_id"
                                " WHERE ch.name > ? ORDER BY ch.name LIMIT ?");
      g_autofree char *last = NULL;

      sqlite3_bind_text (s, 1, after ? after : "", -1, SQLITE_STATIC);
      sqlite3_bind_int64 (s, 2, limit + 1);
      while (sqlite3_step (s) == SQLITE_ROW)
        {
          if (n == limit)
            {
              next = encode_cursor ("channel", last);
              break;
            }
          add_channel (b, s);
          g_free (last);
          last = g_strdup ((const char *) sqlite3_column_text (s, 1));
          n++;
        }
    }
  _fd_json_end_array (b);
  add_response_metadata (b, next);
  _fd_json_end_object (b);
  respond_ok_builder (msg, b);
}

/* Finds a channel by id or name ("#name" too). */
static char *
find_channel (FdSandbox  *self,
              const char *channel)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT id FROM sandbox_slack_channels WHERE id = ?1 OR name = ?1");

  if (channel == NULL || channel[0] == '\0')
    return NULL;
  if (channel[0] == '#')
    channel++;
  sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (s, 0));
}

/* oldest/latest/inclusive as an open or closed interval in microseconds. */
static gboolean
time_range (GHashTable *params,
            gint64     *lower,   /* exclusive */
            gint64     *upper,   /* exclusive */
            const char **error)
{
  const char *inclusive = g_hash_table_lookup (params, "inclusive");
  gboolean incl = inclusive != NULL && (g_str_equal (inclusive, "true") || g_str_equal (inclusive, "1"));
  const char *oldest = g_hash_table_lookup (params, "oldest");
  const char *latest = g_hash_table_lookup (params, "latest");
  gint64 value;

  *lower = -1;
  *upper = G_MAXINT64;
  if (oldest != NULL && oldest[0] != '\0')
    {
      if (!parse_ts (oldest, &value))
        {
          *error = "invalid_ts_oldest";
          return FALSE;
        }
      *lower = incl ? value - 1 : value;
    }
  if (latest != NULL && latest[0] != '\0')
    {
      if (!parse_ts (latest, &value))
        {
          *error = "invalid_ts_latest";
          return FALSE;
        }
      *upper = incl ? value + 1 : value;
    }
  return TRUE;
}

static void
method_conversations_history (FdSandbox         *self,
                              SoupServerMessage *msg,
                              GHashTable        *params)
{
  g_autofree char *channel = find_channel (self, g_hash_table_lookup (params, "channel"));
  const char *cursor = g_hash_table_lookup (params, "cursor");
  gint64 limit = limit_from (params, 100, 999);
  gint64 lower, upper, n = 0, last = 0;
  g_autofree char *next = NULL;
  g_autoptr(FdJson) b = NULL;
  g_autoptr(FdSandboxStmt) s = NULL;
  const char *error = NULL;
  gboolean has_more = FALSE;

  if (channel == NULL)
    {
      respond_error (msg, "channel_not_found");
      return;
    }
  if (!time_range (params, &lower, &upper, &error))
    {
      respond_error (msg, error);
      return;
    }
  if (cursor != NULL && cursor[0] != '\0')
    {
      g_autofree char *value = decode_cursor (cursor, "next_ts");
      gint64 ts;

      if (value == NULL || !_fd_sandbox_parse_int (value, &ts))
        {
          respond_error (msg, "invalid_cursor");
          return;
        }
      upper = MIN (upper, ts);
    }

  /* Newest first, parents only: replies live in conversations.replies. */
  s = _fd_sandbox_stmt (self, "SELECT " MSG_COLUMNS MSG_FROM
                              " WHERE s.channel_id = ? AND s.ts = s.thread_ts"
                              " AND s.ts > ? AND s.ts < ? ORDER BY s.ts DESC LIMIT ?");
  sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, lower);
  sqlite3_bind_int64 (s, 3, upper);
  sqlite3_bind_int64 (s, 4, limit + 1);

  b = _fd_json_new ();
  _fd_json_begin_object (b);
  _fd_json_bool (b, "ok", TRUE);
  _fd_json_name (b, "messages");
  _fd_json_begin_array (b);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      if (n == limit)
        {
          g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, last);

          has_more = TRUE;
          next = encode_cursor ("next_ts", value);
          break;
        }
      add_message (self, b, s);
      last = sqlite3_column_int64 (s, M_TS);
      n++;
    }
  _fd_json_end_array (b);
  _fd_json_bool (b, "has_more", has_more);
  _fd_json_int (b, "pin_count", 0);
  add_response_metadata (b, next);
  _fd_json_end_object (b);
  respond_ok_builder (msg, b);
}

static void
method_conversations_replies (FdSandbox         *self,
                              SoupServerMessage *msg,
                              GHashTable        *params)
{
  g_autofree char *channel = find_channel (self, g_hash_table_lookup (params, "channel"));
  const char *cursor = g_hash_table_lookup (params, "cursor");
  gint64 limit = limit_from (params, 100, 1000);
  gint64 ts, thread_ts = 0, lower, upper, after = -1, n = 0, last = 0;
  g_autofree char *next = NULL;
  g_autoptr(FdJson) b = NULL;
  const char *error = NULL;
  gboolean has_more = FALSE;

  if (channel == NULL)
    {
      respond_error (msg, "channel_not_found");
      return;
    }
  if (!parse_ts (g_hash_table_lookup (params, "ts"), &ts))
    {
      respond_error (msg, "thread_not_found");
      return;
    }
  if (!time_range (params, &lower, &upper, &error))
    {
      respond_error (msg, error);
      return;
    }
  if (cursor != NULL && cursor[0] != '\0')
    {
      g_autofree char *value = decode_cursor (cursor, "next_reply");

      if (value == NULL || !_fd_sandbox_parse_int (value, &after))
        {
          respond_error (msg, "invalid_cursor");
          return;
        }
    }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT thread_ts FROM sandbox_slack_messages"
                              " WHERE channel_id = ? AND ts = ?");

    sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, ts);
    if (sqlite3_step (s) != SQLITE_ROW)
      {
        respond_error (msg, "thread_not_found");
        return;
      }
    thread_ts = sqlite3_column_int64 (s, 0);
  }

  b = _fd_json_new ();
  _fd_json_begin_object (b);
  _fd_json_bool (b, "ok", TRUE);
  _fd_json_name (b, "messages");
  _fd_json_begin_array (b);

  /* Like Slack, every page starts with the parent message. */
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT " MSG_COLUMNS MSG_FROM " WHERE s.channel_id = ? AND s.ts = ?");

    sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, thread_ts);
    if (sqlite3_step (s) == SQLITE_ROW)
      add_message (self, b, s);
  }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT " MSG_COLUMNS MSG_FROM
                              " WHERE s.channel_id = ? AND s.thread_ts = ? AND s.ts != s.thread_ts"
                              " AND s.ts > ? AND s.ts > ? AND s.ts < ? ORDER BY s.ts LIMIT ?");
    gint64 page = MAX (limit - 1, 1);

    sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, thread_ts);
    sqlite3_bind_int64 (s, 3, after);
    sqlite3_bind_int64 (s, 4, lower);
    sqlite3_bind_int64 (s, 5, upper);
    sqlite3_bind_int64 (s, 6, page + 1);
    while (sqlite3_step (s) == SQLITE_ROW)
      {
        if (n == page)
          {
            g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, last);

            has_more = TRUE;
            next = encode_cursor ("next_reply", value);
            break;
          }
        add_message (self, b, s);
        last = sqlite3_column_int64 (s, M_TS);
        n++;
      }
  }

  _fd_json_end_array (b);
  _fd_json_bool (b, "has_more", has_more);
  add_response_metadata (b, next);
  _fd_json_end_object (b);
  respond_ok_builder (msg, b);
}

static void
respond_message (FdSandbox         *self,
                 SoupServerMessage *msg,
                 gint64             message_id)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT " MSG_COLUMNS MSG_FROM " WHERE s.message_id = ?");
  g_autoptr(FdJson) b = _fd_json_new ();
  g_autofree char *ts = NULL;
  gboolean parent;

  sqlite3_bind_int64 (s, 1, message_id);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      respond_error (msg, "internal_error");
      return;
    }

  parent = sqlite3_column_int64 (s, M_TS) == sqlite3_column_int64 (s, M_THREAD_TS);
  ts = format_ts (sqlite3_column_int64 (s, M_TS));
  _fd_json_begin_object (b);
  _fd_json_bool (b, "ok", TRUE);
  _fd_json_str (b, "channel", (const char *) sqlite3_column_text (s, M_CHANNEL));
  _fd_json_str (b, "ts", ts);
  _fd_json_name (b, "message");
  _fd_json_begin_object (b);
  add_message_fields (b, s);
  if (!parent)
    add_thread_fields (self, b, s, FALSE);
  _fd_json_end_object (b);
  _fd_json_end_object (b);
  respond_ok_builder (msg, b);
}

/* A new ts in @channel, after every other one and not before @at_ms. */
static gint64
next_ts (FdSandbox  *self,
         const char *channel,
         gint64      at_ms)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT MAX(ts) FROM sandbox_slack_messages WHERE channel_id = ?");
  gint64 ts = at_ms * 1000;

  sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
  if (sqlite3_step (s) == SQLITE_ROW && sqlite3_column_type (s, 0) != SQLITE_NULL)
    ts = MAX (ts, sqlite3_column_int64 (s, 0) + 1);
  return ts;
}

static gboolean
insert_slack_message (FdSandbox   *self,
                      gint64       message_id,
                      const char  *channel,
                      gint64       ts,
                      gint64       thread_ts,
                      const char  *client_msg_id,
                      GError     **error)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "INSERT INTO sandbox_slack_messages"
                            " (message_id, channel_id, ts, thread_ts, client_msg_id)"
                            " VALUES (?, ?, ?, ?, ?)");

  sqlite3_bind_int64 (s, 1, message_id);
  sqlite3_bind_text (s, 2, channel, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 3, ts);
  sqlite3_bind_int64 (s, 4, thread_ts);
  if (client_msg_id != NULL && client_msg_id[0] != '\0')
    sqlite3_bind_text (s, 5, client_msg_id, -1, SQLITE_STATIC);
  return _fd_sandbox_step_done (self, s, error);
}

/* The conversation of a thread, and its last activity. */
static gint64
thread_conversation (FdSandbox  *self,
                     const char *channel,
                     gint64      thread_ts,
                     gint64     *updated_at)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT m.conversation_id, c.updated_at FROM sandbox_slack_messages s"
                            " JOIN messages m ON m.id = s.message_id"
                            " JOIN conversations c ON c.id = m.conversation_id"
                            " WHERE s.channel_id = ? AND s.ts = ?");

  sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, thread_ts);
  if (sqlite3_step (s) != SQLITE_ROW)
    return 0;
  if (updated_at != NULL)
    *updated_at = sqlite3_column_int64 (s, 1);
  return sqlite3_column_int64 (s, 0);
}

static gint64
channel_organisation (FdSandbox  *self,
                      const char *channel)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT organisation_id FROM sandbox_slack_channels WHERE id = ?");

  sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    return 0;
  return sqlite3_column_int64 (s, 0);
}

typedef struct
{
  const char *channel;
  gint64      thread_ts;     /* 0: a new top-level message, i.e. a new conversation */
  const char *author_kind;
  gint64      author_id;
  const char *author_name;
  const char *text;          /* mrkdwn */
  const char *client_msg_id;
  gint64      contact_id;    /* for a new conversation */
} SlackPost;

/* Writes a Slack message and its conversation changes; returns the message id. */
static gint64
post_message (FdSandbox        *self,
              const SlackPost  *post,
              GError          **error)
{
  FdSandboxNewMessage m = { 0 };
  g_autofree char *plain = mrkdwn_to_text (post->text);
  gint64 conversation, updated_at = 0, at, ts, thread_ts, message;

  if (post->thread_ts > 0)
    {
      conversation = thread_conversation (self, post->channel, post->thread_ts, &updated_at);
      if (conversation == 0)
        {
          g_set_error_literal (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID, "thread_not_found");
          return 0;
        }
    }
  else
    {
      g_autofree char *subject = g_utf8_substring (plain, 0, MIN (g_utf8_strlen (plain, -1), 60));

      conversation = _fd_sandbox_add_conversation (self, "slack", subject, post->contact_id,
                                                   channel_organisation (self, post->channel),
                                                   0, error);
      if (conversation == 0)
        return 0;
      updated_at = self->last_write_at;
    }

  at = _fd_sandbox_next_time (self, updated_at + 1);
  ts = next_ts (self, post->channel, at);
  thread_ts = post->thread_ts > 0 ? post->thread_ts : ts;

  m.conversation_id = conversation;
  m.author_kind = post->author_kind;
  m.author_id = post->author_id;
  m.author_name = post->author_name;
  m.body = plain;
  m.markup = post->text;
  m.at = ts / 1000;
  message = _fd_sandbox_add_message (self, &m, error);
  if (message == 0)
    return 0;

  if (!insert_slack_message (self, message, post->channel, ts, thread_ts, post->client_msg_id, error))
    return 0;

  return message;
}

static void
method_chat_post_message (FdSandbox         *self,
                          SoupServerMessage *msg,
                          GHashTable        *params)
{
  g_autofree char *channel = find_channel (self, g_hash_table_lookup (params, "channel"));
  const char *text = g_hash_table_lookup (params, "text");
  const char *thread = g_hash_table_lookup (params, "thread_ts");
  const char *client_msg_id = g_hash_table_lookup (params, "client_msg_id");
  const char *username = g_hash_table_lookup (params, "username");
  g_autoptr(GError) error = NULL;
  SlackPost post = { 0 };
  gint64 thread_ts = 0, message;

  if (channel == NULL)
    {
      respond_error (msg, "channel_not_found");
      return;
    }
  if (text == NULL || text[0] == '\0')
    {
      respond_error (msg, "no_text");
      return;
    }
  if (strlen (text) > 40000)
    {
      respond_error (msg, "msg_too_long");
      return;
    }

  if (client_msg_id != NULL && client_msg_id[0] != '\0')
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT message_id FROM sandbox_slack_messages"
                                " WHERE channel_id = ? AND client_msg_id = ?");

      sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
      sqlite3_bind_text (s, 2, client_msg_id, -1, SQLITE_STATIC);
      if (sqlite3_step (s) == SQLITE_ROW)
        {
          gint64 existing = sqlite3_column_int64 (s, 0);

          respond_message (self, msg, existing);
          return;
        }
    }

  if (thread != NULL && thread[0] != '\0')
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT thread_ts FROM sandbox_slack_messages"
                                " WHERE channel_id = ? AND ts = ?");

      /* A reply's ts stands for its thread, as in Slack. */
      if (!parse_ts (thread, &thread_ts))
        {
          respond_error (msg, "thread_not_found");
          return;
        }
      sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (s, 2, thread_ts);
      if (sqlite3_step (s) != SQLITE_ROW)
        {
          respond_error (msg, "thread_not_found");
          return;
        }
      thread_ts = sqlite3_column_int64 (s, 0);
    }

  post.channel = channel;
  post.thread_ts = thread_ts;
  post.author_kind = "agent";
  post.author_id = 0;
  post.author_name = username != NULL && username[0] != '\0' ? username : "Lumen Support";
  post.text = text;
  post.client_msg_id = client_msg_id;

  if (!fd_store_begin (self->db, &error))
    {
      respond_error (msg, "internal_error");
      return;
    }
  message = post_message (self, &post, &error);
  if (message == 0 || !fd_store_commit (self->db, &error))
    {
      fd_store_rollback (self->db);
      respond_error (msg, error && error->domain == FD_SANDBOX_ERROR ? error->message : "internal_error");
      return;
    }

  respond_message (self, msg, message);
  queue_message_event (self, message);
}

static void
add_user (FdJson      *b,
          const char  *id,
          const char  *team,
          const char  *name,
          const char  *real_name,
          const char  *email,
          gboolean     is_bot,
          gboolean     is_admin)
{
  const char *space = real_name ? strchr (real_name, ' ') : NULL;
  g_autofree char *display = space ? g_strndup (real_name, space - real_name) : g_strdup (real_name);
  g_autofree char *image = g_strdup_printf ("https://avatars.slack-edge.example/%s_72.png", id);

  _fd_json_begin_object (b);
  _fd_json_str (b, "id", id);
  _fd_json_str (b, "team_id", team);
  _fd_json_str (b, "name", name);
  _fd_json_bool (b, "deleted", FALSE);
  _fd_json_str (b, "color", "9f69e7");
  _fd_json_str (b, "real_name", real_name);
  _fd_json_str (b, "tz", "Europe/London");
  _fd_json_str (b, "tz_label", "Greenwich Mean Time");
  _fd_json_int (b, "tz_offset", 0);
  _fd_json_name (b, "profile");
  _fd_json_begin_object (b);
  _fd_json_str (b, "real_name", real_name);
  _fd_json_str (b, "real_name_normalized", real_name);
  _fd_json_str (b, "display_name", display);
  _fd_json_str (b, "display_name_normalized", display);
  if (email != NULL)
    _fd_json_str (b, "email", email);
  _fd_json_str (b, "image_72", image);
  _fd_json_str (b, "team", team);
  _fd_json_end_object (b);
  _fd_json_bool (b, "is_admin", is_admin);
  _fd_json_bool (b, "is_owner", FALSE);
  _fd_json_bool (b, "is_primary_owner", FALSE);
  _fd_json_bool (b, "is_restricted", FALSE);
  _fd_json_bool (b, "is_ultra_restricted", FALSE);
  _fd_json_bool (b, "is_bot", is_bot);
  _fd_json_bool (b, "is_app_user", FALSE);
  _fd_json_int (b, "updated", 1700000000);
  _fd_json_end_object (b);
}

static void
method_users_info (FdSandbox         *self,
                   SoupServerMessage *msg,
                   GHashTable        *params)
{
  const char *user = g_hash_table_lookup (params, "user");
  g_autoptr(FdJson) b = _fd_json_new ();
  gint64 id;

  _fd_json_begin_object (b);
  _fd_json_bool (b, "ok", TRUE);
  _fd_json_name (b, "user");

  if (user != NULL && g_str_equal (user, BOT_USER_ID))
    add_user (b, BOT_USER_ID, TEAM_ID, "lumen_support", "Lumen Support", NULL, TRUE, FALSE);
  else if ((id = parse_user (user, "UC")) > 0)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT name, email, organisation_id FROM contacts WHERE id = ?");
      g_autofree char *team = NULL;
      g_autofree char *handle = NULL;
      const char *email;

      sqlite3_bind_int64 (s, 1, id);
      if (sqlite3_step (s) != SQLITE_ROW)
        {
          respond_error (msg, "user_not_found");
          return;
        }
      email = (const char *) sqlite3_column_text (s, 1);
      team = customer_team (sqlite3_column_int64 (s, 2));
      handle = email ? g_strndup (email, strcspn (email, "@"))
                     : _fd_sandbox_slugify ((const char *) sqlite3_column_text (s, 0), '.');
      add_user (b, user, team, handle, (const char *) sqlite3_column_text (s, 0), email, FALSE, FALSE);
    }
  else if ((id = parse_user (user, "UA")) > 0)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT name, email, is_me FROM agents WHERE id = ?");
      g_autofree char *handle = NULL;
      const char *email;

      sqlite3_bind_int64 (s, 1, id);
      if (sqlite3_step (s) != SQLITE_ROW)
        {
          respond_error (msg, "user_not_found");
          return;
        }
      email = (const char *) sqlite3_column_text (s, 1);
      handle = email ? g_strndup (email, strcspn (email, "@")) : g_strdup (user);
      add_user (b, user, TEAM_ID, handle, (const char *) sqlite3_column_text (s, 0), email, FALSE,
                sqlite3_column_int (s, 2));
    }
  else
    {
      respond_error (msg, "user_not_found");
      return;
    }

  _fd_json_end_object (b);
  respond_ok_builder (msg, b);
}

static void
method_connections_open (FdSandbox         *self,
                         SoupServerMessage *msg)
{
  g_autofree char *ticket = g_uuid_string_random ();
  g_autofree char *body = NULL;

  g_hash_table_add (self->tickets, g_strdup (ticket));
  body = g_strdup_printf ("{\"ok\":true,\"url\":\"ws://127.0.0.1:%u/slack/socket?ticket=%s"
                          "&app_id=" SLACK_APP_ID "\"}", self->port, ticket);
  _fd_sandbox_respond (msg, SOUP_STATUS_OK, "application/json; charset=utf-8", body);
}

/* The WebSocket handshake: a ticket from apps.connections.open is good once. Leaving the
 * status unset lets libsoup complete the upgrade. */
static void
handle_socket (FdSandbox         *self,
               SoupServerMessage *msg,
               GHashTable        *query)
{
  const char *ticket = query ? g_hash_table_lookup (query, "ticket") : NULL;

  if (ticket == NULL || !g_hash_table_remove (self->tickets, ticket))
    _fd_sandbox_respond (msg, SOUP_STATUS_UNAUTHORIZED, "text/plain",
                         "This Socket Mode URL is invalid or was already used; call "
                         "apps.connections.open for a new one.\n");
}

static void
slack_handle (FdSandbox         *self,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query)
{
  g_autoptr(GHashTable) params = NULL;
  const char *token, *method;
  gboolean app_token;

  if (g_str_equal (path, "/socket"))
    {
      handle_socket (self, msg, query);
      return;
    }

  if (!g_str_has_prefix (path, "/api/"))
    {
      _fd_sandbox_respond (msg, SOUP_STATUS_NOT_FOUND, "application/json",
                           "{\"ok\":false,\"error\":\"unknown_method\"}");
      return;
    }
  method = path + strlen ("/api/");

  params = _fd_sandbox_read_params (msg, query);
  token = _fd_sandbox_bearer (msg);
  if (token == NULL)
    token = g_hash_table_lookup (params, "token");

  if (token == NULL || token[0] == '\0')
    {
      respond_error (msg, "not_authed");
      return;
    }

  app_token = g_str_equal (token, self->tokens[FD_SANDBOX_TOKEN_SLACK_APP]);
  if (!app_token && !g_str_equal (token, self->tokens[FD_SANDBOX_TOKEN_SLACK_BOT]))
    {
      respond_error (msg, "invalid_auth");
      return;
    }

  /* App-level tokens open sockets and nothing else; bot tokens cannot open sockets. */
  if (g_str_equal (method, "apps.connections.open"))
    {
      if (!app_token)
        respond_error (msg, "not_allowed_token_type");
      else
        method_connections_open (self, msg);
      return;
    }
  if (app_token)
    {
      respond_error (msg, "not_allowed_token_type");
      return;
    }

  if (g_str_equal (method, "auth.test"))
    method_auth_test (self, msg);
  else if (g_str_equal (method, "conversations.list"))
    method_conversations_list (self, msg, params);
  else if (g_str_equal (method, "conversations.history"))
    method_conversations_history (self, msg, params);
  else if (g_str_equal (method, "conversations.replies"))
    method_conversations_replies (self, msg, params);
  else if (g_str_equal (method, "chat.postMessage"))
    method_chat_post_message (self, msg, params);
  else if (g_str_equal (method, "users.info"))
    method_users_info (self, msg, params);
  else
    respond_error (msg, "unknown_method");
}

/* }}} */
/* {{{ Incoming */

/* "C…:ts", a parent's ts, or a conversation id or external id. */
static gboolean
find_thread (FdSandbox   *self,
             const char  *external,
             char       **channel,
             gint64      *thread_ts)
{
  const char *colon = strchr (external, ':');
  gint64 ts;

  if (colon != NULL)
    {
      g_autofree char *channel_part = g_strndup (external, colon - external);
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT channel_id, thread_ts FROM sandbox_slack_messages"
                                " WHERE channel_id = ? AND ts = ?");

      if (!parse_ts (colon + 1, &ts))
        return FALSE;
      sqlite3_bind_text (s, 1, channel_part, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (s, 2, ts);
      if (sqlite3_step (s) != SQLITE_ROW)
        return FALSE;
      *channel = g_strdup ((const char *) sqlite3_column_text (s, 0));
      *thread_ts = sqlite3_column_int64 (s, 1);
      return TRUE;
    }

  if (strchr (external, '.') != NULL)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT channel_id, thread_ts FROM sandbox_slack_messages"
                                " WHERE ts = ? LIMIT 1");

      if (!parse_ts (external, &ts))
        return FALSE;
      sqlite3_bind_int64 (s, 1, ts);
      if (sqlite3_step (s) != SQLITE_ROW)
        return FALSE;
      *channel = g_strdup ((const char *) sqlite3_column_text (s, 0));
      *thread_ts = sqlite3_column_int64 (s, 1);
      return TRUE;
    }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT s.channel_id, s.thread_ts FROM conversations c"
                              " JOIN messages m ON m.conversation_id = c.id"
                              " JOIN sandbox_slack_messages s ON s.message_id = m.id"
                              " WHERE (c.id = CAST(?1 AS INTEGER) OR c.external_id = ?1)"
                              " AND c.channel = 'slack' LIMIT 1");

    sqlite3_bind_text (s, 1, external, -1, SQLITE_STATIC);
    if (sqlite3_step (s) != SQLITE_ROW)
      return FALSE;
    *channel = g_strdup ((const char *) sqlite3_column_text (s, 0));
    *thread_ts = sqlite3_column_int64 (s, 1);
    return TRUE;
  }
}

/* Someone at the channel's company. */
static gint64
channel_contact (FdSandbox  *self,
                 const char *channel)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT ct.id FROM contacts ct JOIN sandbox_slack_channels ch"
                            " ON ch.organisation_id = ct.organisation_id WHERE ch.id = ?"
                            " ORDER BY ct.id LIMIT 1");

  sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    return 0;
  return sqlite3_column_int64 (s, 0);
}

static gboolean
slack_incoming (FdSandbox    *self,
                JsonObject   *request,
                FdJson       *reply,
                GError      **error)
{
  g_autofree char *external = _fd_sandbox_member_text (request, "conversation_external_id");
  const char *body = json_object_get_string_member_with_default (request, "body", NULL);
  const char *author = json_object_get_string_member_with_default (request, "author", NULL);
  gboolean is_new = json_object_get_boolean_member_with_default (request, "new", FALSE) ||
                    (external != NULL && g_str_equal (external, "new"));
  g_autofree char *channel = NULL;
  g_autofree char *name = NULL;
  g_autofree char *mrkdwn = NULL;
  g_autofree char *ts_text = NULL;
  g_autofree char *thread_text = NULL;
  g_autofree char *external_out = NULL;
  SlackPost post = { 0 };
  gint64 thread_ts = 0, contact = 0, message;

  if (body == NULL || body[0] == '\0')
    {
      g_set_error_literal (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID, "body is required.");
      return FALSE;
    }

  if (is_new)
    {
      const char *requested = json_object_get_string_member_with_default (request, "channel", NULL);
      gint64 fallback;

      if (requested != NULL)
        channel = find_channel (self, requested);
      else
        {
          g_autoptr(FdSandboxStmt) s =
            _fd_sandbox_stmt (self, "SELECT id FROM sandbox_slack_channels ORDER BY name LIMIT 1");

          if (sqlite3_step (s) == SQLITE_ROW)
            channel = g_strdup ((const char *) sqlite3_column_text (s, 0));
        }
      if (channel == NULL)
        {
          g_set_error_literal (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID, "No such Slack channel.");
          return FALSE;
        }
      fallback = channel_contact (self, channel);
      contact = _fd_sandbox_find_contact (self, author, fallback);
    }
  else
    {
      if (external == NULL || !find_thread (self, external, &channel, &thread_ts))
        {
          g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                       "No Slack thread “%s”.", external ? external : "");
          return FALSE;
        }
      {
        g_autoptr(FdSandboxStmt) s =
          _fd_sandbox_stmt (self, "SELECT c.contact_id FROM sandbox_slack_messages s"
                                  " JOIN messages m ON m.id = s.message_id"
                                  " JOIN conversations c ON c.id = m.conversation_id"
                                  " WHERE s.channel_id = ? AND s.ts = ?");

        gint64 fallback = 0;

        sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (s, 2, thread_ts);
        if (sqlite3_step (s) == SQLITE_ROW)
          fallback = sqlite3_column_int64 (s, 0);
        /* A thread the bot started has no customer yet: someone from the channel's company. */
        if (fallback <= 0)
          fallback = channel_contact (self, channel);
        contact = _fd_sandbox_find_contact (self, author, fallback);
      }
    }

  if (contact == 0)
    {
      g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                   "No customer matches “%s”.", author ? author : "");
      return FALSE;
    }
  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name FROM contacts WHERE id = ?");

    sqlite3_bind_int64 (s, 1, contact);
    if (sqlite3_step (s) == SQLITE_ROW)
      name = g_strdup ((const char *) sqlite3_column_text (s, 0));
  }

  mrkdwn = text_to_mrkdwn (body, NULL, NULL);
  post.channel = channel;
  post.thread_ts = thread_ts;
  post.author_kind = "contact";
  post.author_id = contact;
  post.author_name = name;
  post.text = mrkdwn;
  post.contact_id = contact;
  message = post_message (self, &post, error);
  if (message == 0)
    return FALSE;

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT ts, thread_ts FROM sandbox_slack_messages WHERE message_id = ?");

    sqlite3_bind_int64 (s, 1, message);
    sqlite3_step (s);
    ts_text = format_ts (sqlite3_column_int64 (s, 0));
    thread_text = format_ts (sqlite3_column_int64 (s, 1));
  }

  external_out = g_strdup_printf ("%s:%s", channel, thread_text);
  _fd_json_str (reply, "conversation_external_id", external_out);
  _fd_json_str (reply, "channel", channel);
  _fd_json_str (reply, "ts", ts_text);
  _fd_json_str (reply, "thread_ts", thread_text);

  /* The envelope is built inside the transaction; the socket only writes it when the
   * server's loop runs again, after the commit. */
  queue_message_event (self, message);
  return TRUE;
}

/* }}} */

const FdSandboxService _fd_sandbox_slack_service = {
  .name = "slack",
  .prefix = "/slack",
  .schema = schema,
  .seed = slack_seed,
  .handle = slack_handle,
  .fault_body = slack_fault_body,
  .incoming = slack_incoming,
  .shutdown = slack_shutdown,
};
