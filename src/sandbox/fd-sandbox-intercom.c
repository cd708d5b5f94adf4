/* fd-sandbox-intercom.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sandbox"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fd-sandbox-private.h"

/* Intercom REST API 2.x, the subset Frontdesk uses, after the shapes of
 * ../shared/specs/intercom-openapi-2.16.yaml. Email and chat conversations of the demo
 * data are Intercom conversations; times are in seconds.
 *
 * Ids are derived from row ids, so they are stable across restarts:
 *   conversation  "1234"                      (conversations.id)
 *   part          "5678" for a message, "1000000000 + events.id" for a status or assignment
 *   admin         991200000 + agents.id
 *   contact       "6650" + 20 hex digits of contacts.id
 *   company       "6651" + 20 hex digits of organisations.id
 *   tag           tags.id
 * source.type is "email" for email conversations and "conversation" for chats (as
 * Intercom labels Messenger conversations). Priority: urgent, high, none (normal), low. */

#define ADMIN_BASE   G_GINT64_CONSTANT (991200000)
#define BOT_ADMIN_ID "991200000"
#define EVENT_PART_BASE G_GINT64_CONSTANT (1000000000)
#define MAX_PER_PAGE 150

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS sandbox_intercom_idempotency ("
  "  key TEXT PRIMARY KEY,"
  "  path TEXT NOT NULL,"
  "  status INTEGER NOT NULL,"
  "  body TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL"
  ");";

/* {{{ Ids and errors */

static char *
contact_id (gint64 id)
{
  return g_strdup_printf ("6650%020" G_GINT64_MODIFIER "x", id);
}

static char *
company_id (gint64 id)
{
  return g_strdup_printf ("6651%020" G_GINT64_MODIFIER "x", id);
}

static gint64
parse_hex_id (const char *text,
              const char *prefix)
{
  guint64 value;

  if (text == NULL || strlen (text) != 24 || !g_str_has_prefix (text, prefix))
    return 0;
  if (!g_ascii_string_to_unsigned (text + 4, 16, 1, G_MAXINT64, &value, NULL))
    return 0;
  return (gint64) value;
}

static char *
admin_id (gint64 agent_id)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, ADMIN_BASE + agent_id);
}

/* An admin id as text or number → agents.id, or 0. */
static gint64
parse_admin_id (const char *text)
{
  gint64 value;

  if (!_fd_sandbox_parse_int (text, &value) || value <= ADMIN_BASE)
    return 0;
  return value - ADMIN_BASE;
}

static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *code,
               const char        *message)
{
  g_autoptr(FdJson) b = _fd_json_new ();
  g_autofree char *request_id = g_uuid_string_random ();

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "error.list");
  _fd_json_str (b, "request_id", request_id);
  _fd_json_name (b, "errors");
  _fd_json_begin_array (b);
  _fd_json_begin_object (b);
  _fd_json_str (b, "code", code);
  _fd_json_str (b, "message", message);
  _fd_json_end_object (b);
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, status, b);
}

static void
respond_not_found (SoupServerMessage *msg)
{
  respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "Resource Not Found");
}

static char *
intercom_fault_body (FdSandboxFaultKind kind,
                     guint              param)
{
  g_autofree char *request_id = g_uuid_string_random ();
  const char *code, *message;

  switch (kind)
    {
    case FD_SANDBOX_FAULT_RATE_LIMIT:
      code = "rate_limit_exceeded";
      message = "Exceeded rate limit of 10000 in 60_seconds";
      break;
    case FD_SANDBOX_FAULT_UNAVAILABLE:
      code = "service_unavailable";
      message = "Sorry, the API service is temporarily unavailable";
      break;
    case FD_SANDBOX_FAULT_SERVER_ERROR:
    case FD_SANDBOX_FAULT_SLOW:
    case FD_SANDBOX_FAULT_TRUNCATE:
    case FD_SANDBOX_FAULT_MALFORMED:
    case FD_SANDBOX_FAULT_DROP:
    default:
      code = "server_error";
      message = "Server Error";
      break;
    }

  return g_strdup_printf ("{\"type\":\"error.list\",\"request_id\":\"%s\","
                          "\"errors\":[{\"code\":\"%s\",\"message\":\"%s\"}]}",
                          request_id, code, message);
}

static gint64
seconds (gint64 ms)
{
  return ms / 1000;
}

static void
add_time_or_null (FdJson       *b,
                  const char   *name,
                  sqlite3_stmt *s,
                  int           column)
{
  if (sqlite3_column_type (s, column) == SQLITE_NULL)
    _fd_json_null (b, name);
  else
    _fd_json_int (b, name, seconds (sqlite3_column_int64 (s, column)));
}

/* }}} */
/* {{{ Admins */

static void
add_admin (FdJson       *b,
           sqlite3_stmt *s)   /* id, name, email, team */
{
  g_autofree char *id = admin_id (sqlite3_column_int64 (s, 0));

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "admin");
  _fd_json_str (b, "id", id);
  _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 1));
  _fd_json_str (b, "email", (const char *) sqlite3_column_text (s, 2));
  _fd_json_str (b, "job_title", (const char *) sqlite3_column_text (s, 3));
  _fd_json_bool (b, "away_mode_enabled", FALSE);
  _fd_json_bool (b, "away_mode_reassign", FALSE);
  _fd_json_bool (b, "has_inbox_seat", TRUE);
  _fd_json_name (b, "team_ids");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_end_object (b);
}

static void
handle_me (FdSandbox         *self,
           SoupServerMessage *msg)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT id, name, email, team FROM agents ORDER BY is_me DESC, id LIMIT 1");
  g_autoptr(FdJson) b = _fd_json_new ();
  g_autofree char *id = NULL;

  if (sqlite3_step (s) != SQLITE_ROW)
    {
      respond_not_found (msg);
      return;
    }

  id = admin_id (sqlite3_column_int64 (s, 0));
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "admin");
  _fd_json_str (b, "id", id);
  _fd_json_str (b, "email", (const char *) sqlite3_column_text (s, 2));
  _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 1));
  _fd_json_bool (b, "email_verified", TRUE);
  _fd_json_name (b, "app");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "app");
  _fd_json_str (b, "id_code", "sandbox");
  _fd_json_str (b, "name", "Lumen (sandbox)");
  _fd_json_int (b, "created_at", 1700000000);
  _fd_json_bool (b, "secure", FALSE);
  _fd_json_bool (b, "identity_verification", FALSE);
  _fd_json_str (b, "timezone", "Europe/London");
  _fd_json_str (b, "region", "US");
  _fd_json_end_object (b);
  _fd_json_name (b, "avatar");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "avatar");
  _fd_json_null (b, "image_url");
  _fd_json_end_object (b);
  _fd_json_bool (b, "has_inbox_seat", TRUE);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

static void
handle_admins (FdSandbox         *self,
               SoupServerMessage *msg,
               const char        *one)
{
  g_autoptr(FdSandboxStmt) s = NULL;
  g_autoptr(FdJson) b = _fd_json_new ();

  if (one != NULL)
    {
      s = _fd_sandbox_stmt (self, "SELECT id, name, email, team FROM agents WHERE id = ?");
      sqlite3_bind_int64 (s, 1, parse_admin_id (one));
      if (sqlite3_step (s) != SQLITE_ROW)
        {
          respond_error (msg, SOUP_STATUS_NOT_FOUND, "admin_not_found", "Admin not found");
          return;
        }
      add_admin (b, s);
      _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
      return;
    }

  s = _fd_sandbox_stmt (self, "SELECT id, name, email, team FROM agents ORDER BY id");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "admin.list");
  _fd_json_name (b, "admins");
  _fd_json_begin_array (b);
  while (sqlite3_step (s) == SQLITE_ROW)
    add_admin (b, s);
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

/* }}} */
/* {{{ Conversations */

/* The columns every conversation query selects, in this order. */
#define CONV_COLUMNS \
  "c.id, c.channel, c.subject, c.status, c.priority, c.assignee_id, c.snoozed_until," \
  " c.created_at, c.updated_at, c.first_reply_at, c.resolved_at, c.reopen_count," \
  " c.contact_id, ct.external_id, c.organisation_id, o.name, o.external_id"
#define CONV_FROM \
  " FROM conversations c LEFT JOIN contacts ct ON ct.id = c.contact_id" \
  " LEFT JOIN organisations o ON o.id = c.organisation_id"

enum {
  COL_ID, COL_CHANNEL, COL_SUBJECT, COL_STATUS, COL_PRIORITY, COL_ASSIGNEE, COL_SNOOZED,
  COL_CREATED, COL_UPDATED, COL_FIRST_REPLY, COL_RESOLVED, COL_REOPENS,
  COL_CONTACT, COL_CONTACT_EXT, COL_ORG, COL_ORG_NAME, COL_ORG_EXT,
};

static const char *
state_for_status (const char *status)
{
  if (g_str_equal (status, "resolved"))
    return "closed";
  if (g_str_equal (status, "snoozed"))
    return "snoozed";
  return "open";
}

static const char *
priority_name (const char *priority)
{
  if (g_str_equal (priority, "urgent") || g_str_equal (priority, "high") ||
      g_str_equal (priority, "low"))
    return priority;
  return "none";
}

typedef struct
{
  gint64 message_id;
  char  *name;
  char  *content_type;
  gint64 size;
} Attachment;

static void
attachment_clear (gpointer data)
{
  Attachment *a = data;

  g_free (a->name);
  g_free (a->content_type);
}

static GArray *
load_attachments (FdSandbox *self,
                  gint64     conversation_id)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT a.message_id, a.name, a.content_type, a.size FROM attachments a"
                            " JOIN messages m ON m.id = a.message_id"
                            " WHERE m.conversation_id = ? ORDER BY a.id");
  GArray *array = g_array_new (FALSE, TRUE, sizeof (Attachment));

  g_array_set_clear_func (array, attachment_clear);
  sqlite3_bind_int64 (s, 1, conversation_id);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      Attachment a = {
        sqlite3_column_int64 (s, 0),
        g_strdup ((const char *) sqlite3_column_text (s, 1)),
        g_strdup ((const char *) sqlite3_column_text (s, 2)),
        sqlite3_column_int64 (s, 3),
      };
      g_array_append_val (array, a);
    }
  return array;
}

static void
add_attachments (FdJson      *b,
                 GArray      *attachments,
                 gint64       message_id)
{
  _fd_json_name (b, "attachments");
  _fd_json_begin_array (b);
  for (guint i = 0; attachments != NULL && i < attachments->len; i++)
    {
      const Attachment *a = &g_array_index (attachments, Attachment, i);
      g_autofree char *url = NULL;

      if (a->message_id != message_id)
        continue;
      url = g_strdup_printf ("https://downloads.intercomcdn.example/%" G_GINT64_FORMAT "/%s",
                             a->message_id, a->name);
      _fd_json_begin_object (b);
      _fd_json_str (b, "type", "upload");
      _fd_json_str (b, "name", a->name);
      _fd_json_str (b, "url", url);
      _fd_json_str (b, "content_type", a->content_type);
      _fd_json_int (b, "filesize", a->size);
      _fd_json_end_object (b);
    }
  _fd_json_end_array (b);
}

/* The columns of a message query: m.id, m.author_kind, m.author_id, m.author_name, m.body,
 * m.created_at, mk.content, a.email, ct.email, m.is_note */
#define MSG_COLUMNS \
  "m.id, m.author_kind, m.author_id, m.author_name, m.body, m.created_at, mk.content," \
  " a.email, ct.email, m.is_note"
#define MSG_FROM \
  " FROM messages m LEFT JOIN sandbox_markup mk ON mk.message_id = m.id" \
  " LEFT JOIN agents a ON m.author_kind = 'agent' AND a.id = m.author_id" \
  " LEFT JOIN contacts ct ON m.author_kind = 'contact' AND ct.id = m.author_id"

static void
add_message_author (FdJson       *b,
                    sqlite3_stmt *s)
{
  const char *kind = (const char *) sqlite3_column_text (s, 1);
  gint64 author = sqlite3_column_int64 (s, 2);
  g_autofree char *id = NULL;

  _fd_json_name (b, "author");
  _fd_json_begin_object (b);
  if (g_str_equal (kind, "contact"))
    {
      id = contact_id (author);
      _fd_json_str (b, "type", "user");
      _fd_json_str (b, "id", id);
      _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 3));
      _fd_json_str (b, "email", (const char *) sqlite3_column_text (s, 8));
    }
  else if (g_str_equal (kind, "agent") && author > 0)
    {
      id = admin_id (author);
      _fd_json_str (b, "type", "admin");
      _fd_json_str (b, "id", id);
      _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 3));
      _fd_json_str (b, "email", (const char *) sqlite3_column_text (s, 7));
    }
  else
    {
      _fd_json_str (b, "type", "bot");
      _fd_json_str (b, "id", BOT_ADMIN_ID);
      _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 3));
      _fd_json_str (b, "email", "operator+sandbox@intercom.example");
    }
  _fd_json_end_object (b);
}

static char *
message_html (sqlite3_stmt *s)
{
  if (sqlite3_column_type (s, 6) != SQLITE_NULL)
    return g_strdup ((const char *) sqlite3_column_text (s, 6));
  return _fd_sandbox_text_to_html ((const char *) sqlite3_column_text (s, 4));
}

static void
add_agent_author (FdSandbox   *self,
                  FdJson      *b,
                  gint64       agent_id)
{
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name, email FROM agents WHERE id = ?");
  g_autofree char *id = NULL;

  _fd_json_name (b, "author");
  _fd_json_begin_object (b);
  sqlite3_bind_int64 (s, 1, agent_id);
  if (agent_id > 0 && sqlite3_step (s) == SQLITE_ROW)
    {
      id = admin_id (agent_id);
      _fd_json_str (b, "type", "admin");
      _fd_json_str (b, "id", id);
      _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 0));
      _fd_json_str (b, "email", (const char *) sqlite3_column_text (s, 1));
    }
  else
    {
      _fd_json_str (b, "type", "bot");
      _fd_json_str (b, "id", BOT_ADMIN_ID);
      _fd_json_str (b, "name", "Lumen Bot");
      _fd_json_str (b, "email", "operator+sandbox@intercom.example");
    }
  _fd_json_end_object (b);
}

static void
add_message_part (FdJson       *b,
                  sqlite3_stmt *s,
                  GArray       *attachments,
                  const char   *state)
{
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (s, 0));
  g_autofree char *html = message_html (s);
  gint64 at = seconds (sqlite3_column_int64 (s, 5));

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "conversation_part");
  _fd_json_str (b, "id", id);
  _fd_json_str (b, "part_type", sqlite3_column_int (s, 9) ? "note" : "comment");
  _fd_json_str (b, "body", html);
  _fd_json_int (b, "created_at", at);
  _fd_json_int (b, "updated_at", at);
  _fd_json_int (b, "notified_at", at);
  _fd_json_null (b, "assigned_to");
  add_message_author (b, s);
  add_attachments (b, attachments, sqlite3_column_int64 (s, 0));
  _fd_json_null (b, "external_id");
  _fd_json_bool (b, "redacted", FALSE);
  _fd_json_null (b, "email_message_metadata");
  _fd_json_str (b, "state", state);
  _fd_json_name (b, "tags");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_null (b, "event_details");
  _fd_json_null (b, "app_package_code");
  _fd_json_end_object (b);
}

/* A status change or assignment. Returns FALSE for events Intercom has no part for. */
static gboolean
add_event_part (FdSandbox    *self,
                FdJson       *b,
                sqlite3_stmt *e,      /* id, kind, from, to, actor, created_at */
                const char  **state)
{
  const char *kind = (const char *) sqlite3_column_text (e, 1);
  const char *to = (const char *) sqlite3_column_text (e, 3);
  const char *part_type;
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT,
                                         EVENT_PART_BASE + (gint64) sqlite3_column_int64 (e, 0));
  gint64 at = seconds (sqlite3_column_int64 (e, 5));
  gint64 assignee = 0;

  if (g_str_equal (kind, "status"))
    {
      const char *from = (const char *) sqlite3_column_text (e, 2);

      /* Intercom has no "pending": going there or back is no change of state. */
      if (to == NULL || g_str_equal (to, "pending") ||
          (g_str_equal (to, "open") && from != NULL && g_str_equal (from, "pending")))
        return FALSE;
      part_type = g_str_equal (to, "resolved") ? "close"
                : g_str_equal (to, "snoozed") ? "snoozed" : "open";
      *state = state_for_status (to);
    }
  else
    {
      part_type = "assignment";
      _fd_sandbox_parse_int (to, &assignee);
    }

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "conversation_part");
  _fd_json_str (b, "id", id);
  _fd_json_str (b, "part_type", part_type);
  _fd_json_null (b, "body");
  _fd_json_int (b, "created_at", at);
  _fd_json_int (b, "updated_at", at);
  _fd_json_int (b, "notified_at", at);
  if (assignee > 0)
    {
      g_autofree char *aid = admin_id (assignee);

      _fd_json_name (b, "assigned_to");
      _fd_json_begin_object (b);
      _fd_json_str (b, "type", "admin");
      _fd_json_str (b, "id", aid);
      _fd_json_end_object (b);
    }
  else
    _fd_json_null (b, "assigned_to");
  add_agent_author (self, b, sqlite3_column_int64 (e, 4));
  _fd_json_name (b, "attachments");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_null (b, "external_id");
  _fd_json_bool (b, "redacted", FALSE);
  _fd_json_null (b, "email_message_metadata");
  _fd_json_str (b, "state", *state);
  _fd_json_name (b, "tags");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_null (b, "event_details");
  _fd_json_null (b, "app_package_code");
  _fd_json_end_object (b);

  return TRUE;
}

static void
add_parts (FdSandbox   *self,
           FdJson      *b,
           gint64       conversation_id,
           gint64       source_id,
           GArray      *attachments)
{
  g_autoptr(FdSandboxStmt) m =
    _fd_sandbox_stmt (self, "SELECT " MSG_COLUMNS MSG_FROM
                            " WHERE m.conversation_id = ? ORDER BY m.created_at, m.id");
  g_autoptr(FdSandboxStmt) e =
    _fd_sandbox_stmt (self, "SELECT id, kind, from_value, to_value, actor_id, created_at"
                            " FROM events WHERE conversation_id = ?"
                            " AND kind IN ('status', 'assigned') ORDER BY created_at, id");
  gboolean have_m, have_e;
  const char *state = "open";
  guint count = 0;

  sqlite3_bind_int64 (m, 1, conversation_id);
  sqlite3_bind_int64 (e, 1, conversation_id);

  _fd_json_name (b, "conversation_parts");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "conversation_part.list");
  _fd_json_name (b, "conversation_parts");
  _fd_json_begin_array (b);

  have_m = sqlite3_step (m) == SQLITE_ROW;
  have_e = sqlite3_step (e) == SQLITE_ROW;
  while (have_m || have_e)
    {
      /* Messages and events merge by time; a message wins a tie, as the reply that
       * closes a conversation comes before the close. */
      if (have_m && (!have_e || sqlite3_column_int64 (m, 5) <= sqlite3_column_int64 (e, 5)))
        {
          if (sqlite3_column_int64 (m, 0) != source_id)
            {
              add_message_part (b, m, attachments, state);
              count++;
            }
          have_m = sqlite3_step (m) == SQLITE_ROW;
        }
      else
        {
          if (add_event_part (self, b, e, &state))
            count++;
          have_e = sqlite3_step (e) == SQLITE_ROW;
        }
    }

  _fd_json_end_array (b);
  _fd_json_int (b, "total_count", count);
  _fd_json_end_object (b);
}

static void
add_conversation (FdSandbox    *self,
                  FdJson       *b,
                  sqlite3_stmt *c,
                  gboolean      with_parts)
{
  gint64 id = sqlite3_column_int64 (c, COL_ID);
  const char *channel = (const char *) sqlite3_column_text (c, COL_CHANNEL);
  const char *status = (const char *) sqlite3_column_text (c, COL_STATUS);
  g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autofree char *contact = contact_id (sqlite3_column_int64 (c, COL_CONTACT));
  g_autoptr(GArray) attachments = NULL;
  gint64 source_id = 0;
  gboolean is_email = g_str_equal (channel, "email");

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "conversation");
  _fd_json_str (b, "id", id_text);
  _fd_json_str (b, "title", (const char *) sqlite3_column_text (c, COL_SUBJECT));
  _fd_json_int (b, "created_at", seconds (sqlite3_column_int64 (c, COL_CREATED)));
  _fd_json_int (b, "updated_at", seconds (sqlite3_column_int64 (c, COL_UPDATED)));

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT author_kind, created_at FROM messages"
                              " WHERE conversation_id = ? AND is_note = 0"
                              " ORDER BY created_at DESC, id DESC LIMIT 1");

    sqlite3_bind_int64 (s, 1, id);
    if (!g_str_equal (status, "resolved") && sqlite3_step (s) == SQLITE_ROW &&
        g_str_equal ((const char *) sqlite3_column_text (s, 0), "contact"))
      _fd_json_int (b, "waiting_since", seconds (sqlite3_column_int64 (s, 1)));
    else
      _fd_json_null (b, "waiting_since");
  }

  if (g_str_equal (status, "snoozed"))
    add_time_or_null (b, "snoozed_until", c, COL_SNOOZED);
  else
    _fd_json_null (b, "snoozed_until");
  _fd_json_bool (b, "open", !g_str_equal (status, "resolved"));
  _fd_json_str (b, "state", state_for_status (status));
  _fd_json_bool (b, "read", TRUE);
  _fd_json_str (b, "priority", priority_name ((const char *) sqlite3_column_text (c, COL_PRIORITY)));
  _fd_json_int (b, "admin_assignee_id",
                sqlite3_column_type (c, COL_ASSIGNEE) == SQLITE_NULL
                ? 0 : ADMIN_BASE + sqlite3_column_int64 (c, COL_ASSIGNEE));
  _fd_json_null (b, "team_assignee_id");

  if (sqlite3_column_type (c, COL_ORG) != SQLITE_NULL)
    {
      g_autofree char *cid = company_id (sqlite3_column_int64 (c, COL_ORG));

      _fd_json_name (b, "company");
      _fd_json_begin_object (b);
      _fd_json_str (b, "type", "company");
      _fd_json_str (b, "id", cid);
      _fd_json_str (b, "company_id", (const char *) sqlite3_column_text (c, COL_ORG_EXT));
      _fd_json_str (b, "name", (const char *) sqlite3_column_text (c, COL_ORG_NAME));
      _fd_json_end_object (b);
    }
  else
    _fd_json_null (b, "company");

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT t.id, t.name FROM conversation_tags ct"
                              " JOIN tags t ON t.id = ct.tag_id WHERE ct.conversation_id = ?"
                              " ORDER BY t.id");

    sqlite3_bind_int64 (s, 1, id);
    _fd_json_name (b, "tags");
    _fd_json_begin_object (b);
    _fd_json_str (b, "type", "tag.list");
    _fd_json_name (b, "tags");
    _fd_json_begin_array (b);
    while (sqlite3_step (s) == SQLITE_ROW)
      {
        g_autofree char *tid = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (s, 0));

        _fd_json_begin_object (b);
        _fd_json_str (b, "type", "tag");
        _fd_json_str (b, "id", tid);
        _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 1));
        _fd_json_int (b, "applied_at", seconds (sqlite3_column_int64 (c, COL_CREATED)));
        _fd_json_name (b, "applied_by");
        _fd_json_begin_object (b);
        _fd_json_str (b, "type", "admin");
        _fd_json_str (b, "id", BOT_ADMIN_ID);
        _fd_json_end_object (b);
        _fd_json_end_object (b);
      }
    _fd_json_end_array (b);
    _fd_json_end_object (b);
  }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT rating, comment, created_at FROM csat WHERE conversation_id = ?");

    sqlite3_bind_int64 (s, 1, id);
    if (sqlite3_step (s) == SQLITE_ROW)
      {
        _fd_json_name (b, "conversation_rating");
        _fd_json_begin_object (b);
        _fd_json_int (b, "rating", sqlite3_column_int (s, 0));
        _fd_json_str (b, "remark", (const char *) sqlite3_column_text (s, 1));
        _fd_json_int (b, "created_at", seconds (sqlite3_column_int64 (s, 2)));
        _fd_json_name (b, "contact");
        _fd_json_begin_object (b);
        _fd_json_str (b, "type", "contact");
        _fd_json_str (b, "id", contact);
        _fd_json_end_object (b);
        if (sqlite3_column_type (c, COL_ASSIGNEE) != SQLITE_NULL)
          {
            g_autofree char *aid = admin_id (sqlite3_column_int64 (c, COL_ASSIGNEE));

            _fd_json_name (b, "teammate");
            _fd_json_begin_object (b);
            _fd_json_str (b, "type", "admin");
            _fd_json_str (b, "id", aid);
            _fd_json_end_object (b);
          }
        _fd_json_end_object (b);
      }
    else
      _fd_json_null (b, "conversation_rating");
  }

  if (with_parts)
    attachments = load_attachments (self, id);

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT " MSG_COLUMNS MSG_FROM
                              " WHERE m.conversation_id = ? ORDER BY m.created_at, m.id LIMIT 1");
    g_autofree char *html = NULL;
    g_autofree char *mid = NULL;

    sqlite3_bind_int64 (s, 1, id);
    _fd_json_name (b, "source");
    _fd_json_begin_object (b);
    _fd_json_str (b, "type", is_email ? "email" : "conversation");
    if (sqlite3_step (s) == SQLITE_ROW)
      {
        source_id = sqlite3_column_int64 (s, 0);
        mid = g_strdup_printf ("%" G_GINT64_FORMAT, source_id);
        html = message_html (s);
        _fd_json_str (b, "id", mid);
        _fd_json_str (b, "delivered_as", "customer_initiated");
        _fd_json_str (b, "subject", is_email ? (const char *) sqlite3_column_text (c, COL_SUBJECT) : "");
        _fd_json_str (b, "body", html);
        add_message_author (b, s);
        add_attachments (b, attachments, source_id);
      }
    else
      {
        _fd_json_null (b, "id");
        _fd_json_str (b, "delivered_as", "customer_initiated");
        _fd_json_str (b, "subject", "");
        _fd_json_str (b, "body", "");
      }
    _fd_json_null (b, "url");
    _fd_json_bool (b, "redacted", FALSE);
    _fd_json_end_object (b);
  }

  _fd_json_name (b, "contacts");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "contact.list");
  _fd_json_name (b, "contacts");
  _fd_json_begin_array (b);
  if (sqlite3_column_type (c, COL_CONTACT) != SQLITE_NULL)
    {
      _fd_json_begin_object (b);
      _fd_json_str (b, "type", "contact");
      _fd_json_str (b, "id", contact);
      _fd_json_str (b, "external_id", (const char *) sqlite3_column_text (c, COL_CONTACT_EXT));
      _fd_json_end_object (b);
    }
  _fd_json_end_array (b);
  _fd_json_end_object (b);

  _fd_json_name (b, "teammates");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "admin.list");
  _fd_json_name (b, "admins");
  _fd_json_begin_array (b);
  if (sqlite3_column_type (c, COL_ASSIGNEE) != SQLITE_NULL)
    {
      g_autofree char *aid = admin_id (sqlite3_column_int64 (c, COL_ASSIGNEE));

      _fd_json_begin_object (b);
      _fd_json_str (b, "type", "admin");
      _fd_json_str (b, "id", aid);
      _fd_json_end_object (b);
    }
  _fd_json_end_array (b);
  _fd_json_end_object (b);

  _fd_json_name (b, "first_contact_reply");
  _fd_json_begin_object (b);
  _fd_json_int (b, "created_at", seconds (sqlite3_column_int64 (c, COL_CREATED)));
  _fd_json_str (b, "type", is_email ? "email" : "conversation");
  _fd_json_null (b, "url");
  _fd_json_end_object (b);

  _fd_json_null (b, "sla_applied");

  _fd_json_name (b, "statistics");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "conversation_statistics");
  _fd_json_int (b, "first_contact_reply_at", seconds (sqlite3_column_int64 (c, COL_CREATED)));
  add_time_or_null (b, "first_admin_reply_at", c, COL_FIRST_REPLY);
  add_time_or_null (b, "last_close_at", c, COL_RESOLVED);
  _fd_json_int (b, "count_reopens", sqlite3_column_int (c, COL_REOPENS));
  _fd_json_end_object (b);

  _fd_json_name (b, "custom_attributes");
  _fd_json_begin_object (b);
  _fd_json_end_object (b);
  _fd_json_name (b, "topics");
  _fd_json_begin_object (b);
  _fd_json_end_object (b);
  _fd_json_null (b, "ticket");
  _fd_json_name (b, "linked_objects");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "list");
  _fd_json_name (b, "data");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_int (b, "total_count", 0);
  _fd_json_bool (b, "has_more", FALSE);
  _fd_json_end_object (b);
  _fd_json_bool (b, "ai_agent_participated", FALSE);

  if (with_parts)
    add_parts (self, b, id, source_id, attachments);

  _fd_json_end_object (b);
}

/* Looks up an Intercom conversation (email or chat) by its id. */
static gint64
find_conversation (FdSandbox  *self,
                   const char *id_text)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT id FROM conversations WHERE id = ?"
                            " AND channel IN ('email', 'chat')");
  gint64 id;

  if (!_fd_sandbox_parse_int (id_text, &id))
    return 0;
  sqlite3_bind_int64 (s, 1, id);
  if (sqlite3_step (s) != SQLITE_ROW)
    return 0;
  return id;
}

static void
respond_conversation (FdSandbox         *self,
                      SoupServerMessage *msg,
                      gint64             id)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT " CONV_COLUMNS CONV_FROM " WHERE c.id = ?");
  g_autoptr(FdJson) b = _fd_json_new ();

  sqlite3_bind_int64 (s, 1, id);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      respond_not_found (msg);
      return;
    }
  add_conversation (self, b, s, TRUE);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

/* Cursors are base64 of "[sort key, id, page]", like Intercom's opaque ones. */
static char *
encode_cursor (gint64 key,
               gint64 id,
               gint64 page)
{
  g_autofree char *raw = g_strdup_printf ("[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%"
                                          G_GINT64_FORMAT "]", key, id, page);

  return g_base64_encode ((const guchar *) raw, strlen (raw));
}

static gboolean
decode_cursor (const char *cursor,
               gint64     *key,
               gint64     *id,
               gint64     *page)
{
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;
  char tail;

  if (cursor == NULL || cursor[0] == '\0')
    return FALSE;
  raw = g_base64_decode (cursor, &length);
  if (raw == NULL || length == 0 || length > 80)
    return FALSE;
  text = g_strndup ((const char *) raw, length);
  return sscanf (text, "[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "%c",
                 key, id, page, &tail) == 4 && tail == ']' && *page >= 1;
}

static void
add_pages (FdJson      *b,
           gint64       page,
           gint64       per_page,
           gint64       total,
           const char  *next_cursor)
{
  _fd_json_name (b, "pages");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "pages");
  _fd_json_int (b, "page", page);
  _fd_json_int (b, "per_page", per_page);
  _fd_json_int (b, "total_pages", (total + per_page - 1) / per_page);
  if (next_cursor != NULL)
    {
      _fd_json_name (b, "next");
      _fd_json_begin_object (b);
      _fd_json_int (b, "page", page + 1);
      _fd_json_str (b, "starting_after", next_cursor);
      _fd_json_end_object (b);
    }
  _fd_json_end_object (b);
}

static gint64
per_page_from (const char *text,
               gint64      fallback)
{
  gint64 value;

  if (!_fd_sandbox_parse_int (text, &value) || value < 1)
    return fallback;
  return MIN (value, MAX_PER_PAGE);
}

static gint64
intercom_total (FdSandbox *self)
{
  if (self->intercom_total < 0)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT COUNT(*) FROM conversations WHERE channel IN ('email', 'chat')");

      self->intercom_total = sqlite3_step (s) == SQLITE_ROW ? sqlite3_column_int64 (s, 0) : 0;
    }
  return self->intercom_total;
}

/* Newest activity first; the cursor is the (updated_at, id) of the last row seen, so
 * paging is stable unless a conversation changes meanwhile (then it moves to the front,
 * where a later incremental sync finds it). */
static void
handle_list_conversations (FdSandbox         *self,
                           SoupServerMessage *msg,
                           GHashTable        *query)
{
  const char *after = query ? g_hash_table_lookup (query, "starting_after") : NULL;
  gint64 per_page = per_page_from (query ? g_hash_table_lookup (query, "per_page") : NULL, 20);
  gint64 key = G_MAXINT64, last_id = G_MAXINT64, page = 1;
  g_autoptr(FdSandboxStmt) s = NULL;
  g_autoptr(FdJson) b = _fd_json_new ();
  g_autofree char *next = NULL;
  gint64 n = 0, last_key = 0, last_row = 0;

  if (after != NULL && after[0] != '\0')
    {
      if (!decode_cursor (after, &key, &last_id, &page))
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid",
                         "starting_after is not a valid cursor");
          return;
        }
      page++;
    }

  s = _fd_sandbox_stmt (self, "SELECT " CONV_COLUMNS CONV_FROM
                              " WHERE c.channel IN ('email', 'chat')"
                              " AND (c.updated_at < ?1 OR (c.updated_at = ?1 AND c.id < ?2))"
                              " ORDER BY c.updated_at DESC, c.id DESC LIMIT ?3");
  sqlite3_bind_int64 (s, 1, key);
  sqlite3_bind_int64 (s, 2, last_id);
  sqlite3_bind_int64 (s, 3, per_page + 1);

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "conversation.list");
  _fd_json_name (b, "conversations");
  _fd_json_begin_array (b);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      if (n == per_page)
        {
          next = encode_cursor (last_key, last_row, page);
          break;
        }
      add_conversation (self, b, s, FALSE);
      last_key = sqlite3_column_int64 (s, COL_UPDATED);
      last_row = sqlite3_column_int64 (s, COL_ID);
      n++;
    }
  _fd_json_end_array (b);
  _fd_json_int (b, "total_count", intercom_total (self));
  add_pages (b, page, per_page, intercom_total (self), next);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

/* {{{ Search */

typedef struct
{
  GString   *sql;
  GPtrArray *args;   /* of char *: bound as text, or as integers when prefixed with '#' */
  GError    *error;
} Query;

static void
query_fail (Query      *q,
            const char *message)
{
  if (q->error == NULL)
    q->error = g_error_new_literal (FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID, message);
}

static void
bind_int (Query  *q,
          gint64  value)
{
  g_ptr_array_add (q->args, g_strdup_printf ("#%" G_GINT64_FORMAT, value));
  g_string_append_c (q->sql, '?');
}

/* A filter's value as one integer; ids and times come as strings or numbers. */
static gboolean
value_int (JsonNode *value,
           gint64   *out)
{
  if (value == NULL || !JSON_NODE_HOLDS_VALUE (value))
    return FALSE;
  if (json_node_get_value_type (value) == G_TYPE_INT64)
    {
      *out = json_node_get_int (value);
      return TRUE;
    }
  if (json_node_get_value_type (value) == G_TYPE_STRING)
    return _fd_sandbox_parse_int (json_node_get_string (value), out);
  return FALSE;
}

static void
compile_date (Query      *q,
              const char *column,
              const char *op,
              JsonNode   *value)
{
  gint64 t;

  if (!value_int (value, &t))
    {
      query_fail (q, "A date filter needs a Unix time in seconds.");
      return;
    }

  /* Intercom compares dates in seconds; the store holds milliseconds. */
  if (g_str_equal (op, ">"))
    {
      g_string_append_printf (q->sql, "%s >= ", column);
      bind_int (q, (t + 1) * 1000);
    }
  else if (g_str_equal (op, "<"))
    {
      g_string_append_printf (q->sql, "%s < ", column);
      bind_int (q, t * 1000);
    }
  else if (g_str_equal (op, "="))
    {
      g_string_append_printf (q->sql, "(%s >= ", column);
      bind_int (q, t * 1000);
      g_string_append_printf (q->sql, " AND %s < ", column);
      bind_int (q, (t + 1) * 1000);
      g_string_append_c (q->sql, ')');
    }
  else
    query_fail (q, "Date fields support only the operators =, < and >.");
}

static void
compile_id (Query      *q,
            const char *column,
            const char *op,
            JsonNode   *value,
            gint64      (*convert) (JsonNode *))
{
  static const char * const scalar_ops[] = { "=", "!=", "<", ">", "<=", ">=" };
  gboolean list = g_str_equal (op, "IN") || g_str_equal (op, "NIN");

  if (list)
    {
      JsonArray *array;

      if (!JSON_NODE_HOLDS_ARRAY (value))
        {
          query_fail (q, "IN and NIN need an array of values.");
          return;
        }
      array = json_node_get_array (value);
      g_string_append_printf (q->sql, "%s %s (", column, g_str_equal (op, "IN") ? "IN" : "NOT IN");
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          if (i > 0)
            g_string_append_c (q->sql, ',');
          bind_int (q, convert (json_array_get_element (array, i)));
        }
      if (json_array_get_length (array) == 0)
        g_string_append (q->sql, "NULL");
      g_string_append_c (q->sql, ')');
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (scalar_ops); i++)
    if (g_str_equal (op, scalar_ops[i]))
      {
        g_string_append_printf (q->sql, "%s %s ", column, scalar_ops[i]);
        bind_int (q, convert (value));
        return;
      }

  query_fail (q, "This operator is not supported for this field.");
}

static gint64
convert_plain (JsonNode *value)
{
  gint64 v = -1;

  value_int (value, &v);
  return v;
}

static gint64
convert_admin (JsonNode *value)
{
  gint64 v = -1;

  if (value_int (value, &v) && v > ADMIN_BASE)
    return v - ADMIN_BASE;
  return v == 0 ? 0 : -1;
}

static gint64
convert_contact (JsonNode *value)
{
  if (value == NULL || !JSON_NODE_HOLDS_VALUE (value) ||
      json_node_get_value_type (value) != G_TYPE_STRING)
    return -1;
  return parse_hex_id (json_node_get_string (value), "6650");
}

static const char *
status_sql_for_state (const char *state)
{
  if (g_str_equal (state, "open"))
    return "('open', 'pending')";
  if (g_str_equal (state, "closed"))
    return "('resolved')";
  if (g_str_equal (state, "snoozed"))
    return "('snoozed')";
  return NULL;
}

static void
compile_state (Query      *q,
               const char *op,
               JsonNode   *value)
{
  gboolean negate = g_str_equal (op, "!=") || g_str_equal (op, "NIN");
  g_autoptr(GPtrArray) states = g_ptr_array_new ();

  if (g_str_equal (op, "=") || g_str_equal (op, "!="))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          query_fail (q, "state takes open, closed or snoozed.");
          return;
        }
      g_ptr_array_add (states, (gpointer) json_node_get_string (value));
    }
  else if ((g_str_equal (op, "IN") || g_str_equal (op, "NIN")) && JSON_NODE_HOLDS_ARRAY (value))
    {
      JsonArray *array = json_node_get_array (value);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          const char *state = json_array_get_string_element (array, i);

          if (state != NULL)
            g_ptr_array_add (states, (gpointer) state);
        }
    }
  else
    {
      query_fail (q, "state supports =, !=, IN and NIN.");
      return;
    }

  g_string_append (q->sql, negate ? "NOT (" : "(");
  if (states->len == 0)
    g_string_append (q->sql, "0");
  for (guint i = 0; i < states->len; i++)
    {
      const char *sql = status_sql_for_state (g_ptr_array_index (states, i));

      if (sql == NULL)
        {
          query_fail (q, "state takes open, closed or snoozed.");
          return;
        }
      g_string_append_printf (q->sql, "%sc.status IN %s", i > 0 ? " OR " : "", sql);
    }
  g_string_append_c (q->sql, ')');
}

static void
compile_node (Query    *q,
              JsonNode *node,
              guint     depth)
{
  JsonObject *object;
  const char *op, *field;
  JsonNode *value;

  if (q->error != NULL)
    return;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) || depth > 3)
    {
      query_fail (q, "A query is an object with field, operator and value, or operator and a "
                     "value array of queries (nested at most twice).");
      return;
    }

  object = json_node_get_object (node);
  op = json_object_get_string_member_with_default (object, "operator", NULL);
  field = json_object_get_string_member_with_default (object, "field", NULL);
  value = json_object_get_member (object, "value");

  if (op == NULL)
    {
      query_fail (q, "Every query needs an operator.");
      return;
    }

  if (field == NULL)
    {
      JsonArray *array;

      if (!(g_str_equal (op, "AND") || g_str_equal (op, "OR")) || value == NULL ||
          !JSON_NODE_HOLDS_ARRAY (value) || json_array_get_length (json_node_get_array (value)) == 0)
        {
          query_fail (q, "AND and OR need a non-empty value array of queries.");
          return;
        }
      array = json_node_get_array (value);
      g_string_append_c (q->sql, '(');
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          if (i > 0)
            g_string_append_printf (q->sql, " %s ", op);
          compile_node (q, json_array_get_element (array, i), depth + 1);
        }
      g_string_append_c (q->sql, ')');
      return;
    }

  if (value == NULL)
    {
      query_fail (q, "Every filter needs a value.");
      return;
    }

  if (g_str_equal (field, "updated_at"))
    compile_date (q, "c.updated_at", op, value);
  else if (g_str_equal (field, "created_at"))
    compile_date (q, "c.created_at", op, value);
  else if (g_str_equal (field, "id"))
    compile_id (q, "c.id", op, value, convert_plain);
  else if (g_str_equal (field, "admin_assignee_id"))
    compile_id (q, "COALESCE(c.assignee_id, 0)", op, value, convert_admin);
  else if (g_str_equal (field, "contact_ids"))
    compile_id (q, "c.contact_id", op, value, convert_contact);
  else if (g_str_equal (field, "tag_ids") && (g_str_equal (op, "=") || g_str_equal (op, "!=")))
    {
      g_string_append_printf (q->sql, "%sEXISTS (SELECT 1 FROM conversation_tags x"
                                      " WHERE x.conversation_id = c.id AND x.tag_id = ",
                              g_str_equal (op, "=") ? "" : "NOT ");
      bind_int (q, convert_plain (value));
      g_string_append_c (q->sql, ')');
    }
  else if (g_str_equal (field, "state"))
    compile_state (q, op, value);
  else if (g_str_equal (field, "open") && JSON_NODE_HOLDS_VALUE (value) &&
           json_node_get_value_type (value) == G_TYPE_BOOLEAN &&
           (g_str_equal (op, "=") || g_str_equal (op, "!=")))
    {
      gboolean open = json_node_get_boolean (value) == g_str_equal (op, "=");

      g_string_append (q->sql, open ? "c.status != 'resolved'" : "c.status = 'resolved'");
    }
  else if (g_str_equal (field, "source.type") && JSON_NODE_HOLDS_VALUE (value) &&
           json_node_get_value_type (value) == G_TYPE_STRING &&
           (g_str_equal (op, "=") || g_str_equal (op, "!=")))
    {
      gboolean email = g_str_equal (json_node_get_string (value), "email");

      g_string_append_printf (q->sql, "c.channel %s '%s'", op, email ? "email" : "chat");
    }
  else
    {
      g_autofree char *message = g_strdup_printf ("Searching on %s with %s is not supported.",
                                                  field, op);
      query_fail (q, message);
    }
}

static void
bind_args (sqlite3_stmt *s,
           GPtrArray    *args,
           int           first)
{
  for (guint i = 0; i < args->len; i++)
    {
      const char *arg = g_ptr_array_index (args, i);

      if (arg[0] == '#')
        sqlite3_bind_int64 (s, first + (int) i, g_ascii_strtoll (arg + 1, NULL, 10));
      else
        sqlite3_bind_text (s, first + (int) i, arg, -1, SQLITE_TRANSIENT);
    }
}

static void
handle_search (FdSandbox         *self,
               SoupServerMessage *msg)
{
  g_autoptr(JsonNode) node = _fd_sandbox_read_json (msg);
  JsonObject *request = node ? json_node_get_object (node) : NULL;
  JsonObject *pagination = NULL, *sort = NULL;
  const char *sort_field = "updated_at", *after = NULL;
  gboolean ascending = FALSE;
  gint64 per_page = 20, key, last_id, page = 1, total = 0, n = 0, last_key = 0, last_row = 0;
  Query q = { g_string_new (NULL), g_ptr_array_new_with_free_func (g_free), NULL };
  g_autofree char *where = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *next = NULL;
  g_autoptr(FdJson) b = NULL;
  const char *column;
  int key_column;

  if (request == NULL || !json_object_has_member (request, "query"))
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_not_found",
                     "query parameter is required");
      goto out;
    }

  compile_node (&q, json_object_get_member (request, "query"), 0);
  if (q.error != NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid", q.error->message);
      goto out;
    }

  if (json_object_has_member (request, "pagination") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (request, "pagination")))
    pagination = json_object_get_object_member (request, "pagination");
  if (pagination != NULL)
    {
      g_autofree char *pp = _fd_sandbox_member_text (pagination, "per_page");

      per_page = per_page_from (pp, 20);
      if (json_object_has_member (pagination, "starting_after") &&
          !json_node_is_null (json_object_get_member (pagination, "starting_after")))
        after = json_object_get_string_member_with_default (pagination, "starting_after", NULL);
    }

  if (json_object_has_member (request, "sort") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (request, "sort")))
    sort = json_object_get_object_member (request, "sort");
  if (sort != NULL)
    {
      const char *order = json_object_get_string_member_with_default (sort, "order", "descending");

      sort_field = json_object_get_string_member_with_default (sort, "field", "updated_at");
      ascending = g_str_equal (order, "ascending") || g_str_equal (order, "asc");
    }

  if (g_str_equal (sort_field, "updated_at"))
    {
      column = "c.updated_at";
      key_column = COL_UPDATED;
    }
  else if (g_str_equal (sort_field, "created_at"))
    {
      column = "c.created_at";
      key_column = COL_CREATED;
    }
  else if (g_str_equal (sort_field, "id"))
    {
      column = "c.id";
      key_column = COL_ID;
    }
  else
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid",
                     "sort field must be updated_at, created_at or id");
      goto out;
    }

  key = ascending ? G_MININT64 : G_MAXINT64;
  last_id = ascending ? G_MININT64 : G_MAXINT64;
  if (after != NULL && after[0] != '\0')
    {
      if (!decode_cursor (after, &key, &last_id, &page))
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid",
                         "starting_after is not a valid cursor");
          goto out;
        }
      page++;
    }

  where = g_strdup_printf ("c.channel IN ('email', 'chat') AND %s", q.sql->str);

  {
    g_autofree char *count_sql = g_strdup_printf ("SELECT COUNT(*) FROM conversations c WHERE %s",
                                                  where);
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, count_sql);

    bind_args (s, q.args, 1);
    if (sqlite3_step (s) == SQLITE_ROW)
      total = sqlite3_column_int64 (s, 0);
  }

  sql = g_strdup_printf ("SELECT " CONV_COLUMNS CONV_FROM " WHERE %s"
                         " AND (%s %s ?%u OR (%s = ?%u AND c.id %s ?%u))"
                         " ORDER BY %s %s, c.id %s LIMIT ?%u",
                         where,
                         column, ascending ? ">" : "<", q.args->len + 1,
                         column, q.args->len + 1, ascending ? ">" : "<", q.args->len + 2,
                         column, ascending ? "ASC" : "DESC", ascending ? "ASC" : "DESC",
                         q.args->len + 3);

  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, sql);

    bind_args (s, q.args, 1);
    sqlite3_bind_int64 (s, (int) q.args->len + 1, key);
    sqlite3_bind_int64 (s, (int) q.args->len + 2, last_id);
    sqlite3_bind_int64 (s, (int) q.args->len + 3, per_page + 1);

    b = _fd_json_new ();
    _fd_json_begin_object (b);
    _fd_json_str (b, "type", "conversation.list");
    _fd_json_name (b, "conversations");
    _fd_json_begin_array (b);
    while (sqlite3_step (s) == SQLITE_ROW)
      {
        if (n == per_page)
          {
            next = encode_cursor (last_key, last_row, page);
            break;
          }
        add_conversation (self, b, s, FALSE);
        last_key = sqlite3_column_int64 (s, key_column);
        last_row = sqlite3_column_int64 (s, COL_ID);
        n++;
      }
    _fd_json_end_array (b);
  }
  _fd_json_int (b, "total_count", total);
  add_pages (b, page, per_page, total, next);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);

out:
  g_string_free (q.sql, TRUE);
  g_ptr_array_unref (q.args);
  g_clear_error (&q.error);
}

/* }}} */
/* {{{ Writes */

static gboolean
begin (FdSandbox         *self,
       SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;

  if (fd_store_begin (self->db, &error))
    return TRUE;
  respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", error->message);
  return FALSE;
}

static void
finish_write (FdSandbox         *self,
              SoupServerMessage *msg,
              gint64             conversation_id,
              GError            *error)
{
  g_autoptr(GError) commit_error = NULL;

  if (error == NULL && fd_store_commit (self->db, &commit_error))
    {
      respond_conversation (self, msg, conversation_id);
      return;
    }

  fd_store_rollback (self->db);
  if (error != NULL && error->domain == FD_SANDBOX_ERROR)
    respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid", error->message);
  else
    respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error",
                   error ? error->message : commit_error->message);
}

static gboolean
agent_exists (FdSandbox *self,
              gint64     agent_id,
              char     **name)
{
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name FROM agents WHERE id = ?");

  sqlite3_bind_int64 (s, 1, agent_id);
  if (sqlite3_step (s) != SQLITE_ROW)
    return FALSE;
  if (name != NULL)
    *name = g_strdup ((const char *) sqlite3_column_text (s, 0));
  return TRUE;
}

/* Intercom bodies are HTML; plain text is wrapped in paragraphs as Intercom does. */
static void
split_body (const char  *body,
            char       **text,
            char       **html)
{
  if (strchr (body, '<') != NULL)
    {
      *html = g_strdup (body);
      *text = _fd_sandbox_html_to_text (body);
    }
  else
    {
      *html = _fd_sandbox_text_to_html (body);
      *text = g_strdup (body);
    }
}

static void
handle_reply (FdSandbox         *self,
              SoupServerMessage *msg,
              gint64             conversation_id)
{
  g_autoptr(JsonNode) node = _fd_sandbox_read_json (msg);
  JsonObject *request = node ? json_node_get_object (node) : NULL;
  const char *message_type, *type, *body;
  g_autofree char *admin_text = NULL;
  g_autofree char *agent_name = NULL;
  g_autofree char *text = NULL;
  g_autofree char *html = NULL;
  FdSandboxNewMessage m = { 0 };
  GError *error = NULL;
  gint64 agent_id = 0, contact = 0;

  if (request == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid", "Request body must be JSON");
      return;
    }

  message_type = json_object_get_string_member_with_default (request, "message_type", NULL);
  type = json_object_get_string_member_with_default (request, "type", NULL);
  body = json_object_get_string_member_with_default (request, "body", NULL);

  if (message_type == NULL || !(g_str_equal (message_type, "comment") || g_str_equal (message_type, "note")))
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid",
                     "message_type must be comment or note");
      return;
    }
  if (body == NULL || body[0] == '\0')
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_not_found", "Body is required");
      return;
    }

  if (type != NULL && g_str_equal (type, "admin"))
    {
      admin_text = _fd_sandbox_member_text (request, "admin_id");
      agent_id = parse_admin_id (admin_text);
      if (admin_text == NULL)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_not_found", "admin_id not specified");
          return;
        }
      if (!agent_exists (self, agent_id, &agent_name))
        {
          respond_error (msg, SOUP_STATUS_NOT_FOUND, "admin_not_found", "Admin not found");
          return;
        }
    }
  else if (type != NULL && g_str_equal (type, "user") && g_str_equal (message_type, "comment"))
    {
      const char *user = json_object_get_string_member_with_default (request, "intercom_user_id", NULL);

      contact = parse_hex_id (user, "6650");
      if (contact == 0)
        {
          respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "User Not Found");
          return;
        }
    }
  else
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid",
                     "type must be admin (or user, for a comment)");
      return;
    }

  split_body (body, &text, &html);
  m.conversation_id = conversation_id;
  m.author_kind = contact > 0 ? "contact" : "agent";
  m.author_id = contact > 0 ? contact : agent_id;
  m.is_note = g_str_equal (message_type, "note");
  m.body = text;
  m.markup = html;

  if (contact > 0)
    {
      g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name FROM contacts WHERE id = ?");

      sqlite3_bind_int64 (s, 1, contact);
      if (sqlite3_step (s) != SQLITE_ROW)
        {
          respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "User Not Found");
          return;
        }
      agent_name = g_strdup ((const char *) sqlite3_column_text (s, 0));
    }
  m.author_name = agent_name;

  if (!begin (self, msg))
    return;
  _fd_sandbox_add_message (self, &m, &error);
  finish_write (self, msg, conversation_id, error);
  g_clear_error (&error);
}

static void
handle_part (FdSandbox         *self,
             SoupServerMessage *msg,
             gint64             conversation_id)
{
  g_autoptr(JsonNode) node = _fd_sandbox_read_json (msg);
  JsonObject *request = node ? json_node_get_object (node) : NULL;
  g_autofree char *admin_text = NULL;
  g_autofree char *agent_name = NULL;
  const char *message_type;
  GError *error = NULL;
  gint64 agent_id;

  if (request == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid", "Request body must be JSON");
      return;
    }

  message_type = json_object_get_string_member_with_default (request, "message_type", "");
  admin_text = _fd_sandbox_member_text (request, "admin_id");
  agent_id = parse_admin_id (admin_text);
  if (admin_text == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_not_found", "admin_id not specified");
      return;
    }
  if (!agent_exists (self, agent_id, &agent_name))
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "admin_not_found", "Admin not found");
      return;
    }

  if (g_str_equal (message_type, "close"))
    {
      const char *body = json_object_get_string_member_with_default (request, "body", NULL);

      if (!begin (self, msg))
        return;
      if (body != NULL && body[0] != '\0')
        {
          g_autofree char *text = NULL;
          g_autofree char *html = NULL;
          FdSandboxNewMessage m = { 0 };

          split_body (body, &text, &html);
          m.conversation_id = conversation_id;
          m.author_kind = "agent";
          m.author_id = agent_id;
          m.author_name = agent_name;
          m.body = text;
          m.markup = html;
          if (_fd_sandbox_add_message (self, &m, &error) == 0)
            {
              finish_write (self, msg, conversation_id, error);
              g_clear_error (&error);
              return;
            }
        }
      _fd_sandbox_set_status (self, conversation_id, "resolved", 0, agent_id, &error);
    }
  else if (g_str_equal (message_type, "open"))
    {
      if (!begin (self, msg))
        return;
      _fd_sandbox_set_status (self, conversation_id, "open", 0, agent_id, &error);
    }
  else if (g_str_equal (message_type, "snoozed"))
    {
      g_autofree char *until_text = _fd_sandbox_member_text (request, "snoozed_until");
      gint64 until;

      if (!_fd_sandbox_parse_int (until_text, &until) || until * 1000 <= _fd_sandbox_now_ms ())
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid",
                         "snoozed_until must be a Unix time in the future");
          return;
        }
      if (!begin (self, msg))
        return;
      _fd_sandbox_set_status (self, conversation_id, "snoozed", until * 1000, agent_id, &error);
    }
  else if (g_str_equal (message_type, "assignment"))
    {
      g_autofree char *assignee_text = _fd_sandbox_member_text (request, "assignee_id");
      gint64 assignee = 0, raw;

      if (!_fd_sandbox_parse_int (assignee_text, &raw))
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_not_found",
                         "assignee_id not specified");
          return;
        }
      if (raw != 0)
        {
          assignee = parse_admin_id (assignee_text);
          if (!agent_exists (self, assignee, NULL))
            {
              respond_error (msg, SOUP_STATUS_NOT_FOUND, "admin_not_found", "Assignee not found");
              return;
            }
        }
      if (!begin (self, msg))
        return;
      _fd_sandbox_assign (self, conversation_id, assignee, agent_id, &error);
    }
  else
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid",
                     "message_type must be close, open, snoozed or assignment");
      return;
    }

  finish_write (self, msg, conversation_id, error);
  g_clear_error (&error);
}

static void
respond_tag (FdSandbox         *self,
             SoupServerMessage *msg,
             gint64             tag_id,
             gint64             agent_id)
{
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name FROM tags WHERE id = ?");
  g_autoptr(FdJson) b = _fd_json_new ();
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, tag_id);
  g_autofree char *aid = admin_id (agent_id);

  sqlite3_bind_int64 (s, 1, tag_id);
  sqlite3_step (s);
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "tag");
  _fd_json_str (b, "id", id);
  _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 0));
  _fd_json_int (b, "applied_at", _fd_sandbox_now_ms () / 1000);
  _fd_json_name (b, "applied_by");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "admin");
  _fd_json_str (b, "id", aid);
  _fd_json_end_object (b);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

static void
handle_tag (FdSandbox         *self,
            SoupServerMessage *msg,
            gint64             conversation_id,
            const char        *tag_text)  /* NULL: add the tag in the body */
{
  g_autoptr(JsonNode) node = _fd_sandbox_read_json (msg);
  JsonObject *request = node ? json_node_get_object (node) : NULL;
  g_autofree char *admin_text = NULL;
  g_autofree char *body_tag = NULL;
  g_autoptr(GError) error = NULL;
  gboolean changed = FALSE;
  gint64 agent_id, tag_id;

  admin_text = _fd_sandbox_member_text (request, "admin_id");
  if (tag_text == NULL)
    tag_text = body_tag = _fd_sandbox_member_text (request, "id");

  if (admin_text == NULL || tag_text == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_not_found",
                     tag_text == NULL ? "id not specified" : "admin_id not specified");
      return;
    }
  agent_id = parse_admin_id (admin_text);
  if (!agent_exists (self, agent_id, NULL))
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "admin_not_found", "Admin not found");
      return;
    }

  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT id FROM tags WHERE id = ?");

    if (!_fd_sandbox_parse_int (tag_text, &tag_id))
      tag_id = 0;
    sqlite3_bind_int64 (s, 1, tag_id);
    if (sqlite3_step (s) != SQLITE_ROW)
      {
        respond_error (msg, SOUP_STATUS_NOT_FOUND, "tag_not_found", "Tag not found");
        return;
      }
  }

  if (!begin (self, msg))
    return;
  if (!_fd_sandbox_set_tag (self, conversation_id, tag_id, body_tag != NULL, agent_id,
                            &changed, &error) ||
      !fd_store_commit (self->db, &error))
    {
      fd_store_rollback (self->db);
      respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", error->message);
      return;
    }

  if (body_tag == NULL && !changed)
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "tag_not_found", "Tag not found");
      return;
    }
  respond_tag (self, msg, tag_id, agent_id);
}

static void
handle_tags (FdSandbox         *self,
             SoupServerMessage *msg)
{
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT id, name FROM tags ORDER BY id");
  g_autoptr(FdJson) b = _fd_json_new ();

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "list");
  _fd_json_name (b, "data");
  _fd_json_begin_array (b);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (s, 0));

      _fd_json_begin_object (b);
      _fd_json_str (b, "type", "tag");
      _fd_json_str (b, "id", id);
      _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 1));
      _fd_json_end_object (b);
    }
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

/* }}} */
/* {{{ Contacts and companies */

static void
add_empty_list (FdJson      *b,
                const char  *name,
                const char  *url)
{
  _fd_json_name (b, name);
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "list");
  _fd_json_name (b, "data");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_str (b, "url", url);
  _fd_json_int (b, "total_count", 0);
  _fd_json_bool (b, "has_more", FALSE);
  _fd_json_end_object (b);
}

#define CONTACT_COLUMNS "id, external_id, name, email, created_at, organisation_id"

static void
add_contact (FdJson       *b,
             sqlite3_stmt *s)
{
  g_autofree char *id = contact_id (sqlite3_column_int64 (s, 0));
  g_autofree char *base = g_strdup_printf ("/contacts/%s", id);
  g_autofree char *tags_url = g_strconcat (base, "/tags", NULL);
  g_autofree char *notes_url = g_strconcat (base, "/notes", NULL);
  g_autofree char *companies_url = g_strconcat (base, "/companies", NULL);
  g_autofree char *subs_url = g_strconcat (base, "/subscriptions", NULL);
  gint64 created = seconds (sqlite3_column_int64 (s, 4));
  gboolean has_company = sqlite3_column_type (s, 5) != SQLITE_NULL;

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "contact");
  _fd_json_str (b, "id", id);
  _fd_json_str (b, "workspace_id", "sandbox");
  _fd_json_str (b, "external_id", (const char *) sqlite3_column_text (s, 1));
  _fd_json_str (b, "role", "user");
  _fd_json_str (b, "email", (const char *) sqlite3_column_text (s, 3));
  _fd_json_null (b, "phone");
  _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 2));
  _fd_json_null (b, "avatar");
  _fd_json_null (b, "owner_id");
  _fd_json_name (b, "social_profiles");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "list");
  _fd_json_name (b, "data");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_json_bool (b, "has_hard_bounced", FALSE);
  _fd_json_bool (b, "marked_email_as_spam", FALSE);
  _fd_json_bool (b, "unsubscribed_from_emails", FALSE);
  _fd_json_int (b, "created_at", created);
  _fd_json_int (b, "updated_at", created);
  _fd_json_int (b, "signed_up_at", created);
  _fd_json_null (b, "last_seen_at");
  _fd_json_null (b, "last_replied_at");
  _fd_json_null (b, "last_contacted_at");
  _fd_json_null (b, "last_email_opened_at");
  _fd_json_null (b, "last_email_clicked_at");
  _fd_json_null (b, "language_override");
  _fd_json_null (b, "browser");
  _fd_json_null (b, "os");
  _fd_json_name (b, "location");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "location");
  _fd_json_null (b, "country");
  _fd_json_null (b, "region");
  _fd_json_null (b, "city");
  _fd_json_end_object (b);
  _fd_json_name (b, "custom_attributes");
  _fd_json_begin_object (b);
  _fd_json_end_object (b);
  add_empty_list (b, "tags", tags_url);
  add_empty_list (b, "notes", notes_url);

  _fd_json_name (b, "companies");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "list");
  _fd_json_name (b, "data");
  _fd_json_begin_array (b);
  if (has_company)
    {
      g_autofree char *cid = company_id (sqlite3_column_int64 (s, 5));
      g_autofree char *url = g_strdup_printf ("/companies/%s", cid);

      _fd_json_begin_object (b);
      _fd_json_str (b, "id", cid);
      _fd_json_str (b, "type", "company");
      _fd_json_str (b, "url", url);
      _fd_json_end_object (b);
    }
  _fd_json_end_array (b);
  _fd_json_str (b, "url", companies_url);
  _fd_json_int (b, "total_count", has_company ? 1 : 0);
  _fd_json_bool (b, "has_more", FALSE);
  _fd_json_end_object (b);

  add_empty_list (b, "opted_out_subscription_types", subs_url);
  add_empty_list (b, "opted_in_subscription_types", subs_url);
  _fd_json_end_object (b);
}

static void
handle_contacts (FdSandbox         *self,
                 SoupServerMessage *msg,
                 GHashTable        *query,
                 const char        *one)
{
  g_autoptr(FdJson) b = _fd_json_new ();
  const char *after = query ? g_hash_table_lookup (query, "starting_after") : NULL;
  gint64 per_page = per_page_from (query ? g_hash_table_lookup (query, "per_page") : NULL, 50);
  gint64 key = 0, last_id = 0, page = 1, total = 0, n = 0, last_row = 0;
  g_autofree char *next = NULL;

  if (one != NULL)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT " CONTACT_COLUMNS " FROM contacts WHERE id = ?");

      sqlite3_bind_int64 (s, 1, parse_hex_id (one, "6650"));
      if (sqlite3_step (s) != SQLITE_ROW)
        {
          respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "User Not Found");
          return;
        }
      add_contact (b, s);
      _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
      return;
    }

  if (after != NULL && after[0] != '\0')
    {
      if (!decode_cursor (after, &key, &last_id, &page))
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "parameter_invalid",
                         "starting_after is not a valid cursor");
          return;
        }
      page++;
    }

  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT COUNT(*) FROM contacts");

    if (sqlite3_step (s) == SQLITE_ROW)
      total = sqlite3_column_int64 (s, 0);
  }

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "list");
  _fd_json_name (b, "data");
  _fd_json_begin_array (b);
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT " CONTACT_COLUMNS " FROM contacts WHERE id > ?"
                              " ORDER BY id LIMIT ?");

    sqlite3_bind_int64 (s, 1, last_id);
    sqlite3_bind_int64 (s, 2, per_page + 1);
    while (sqlite3_step (s) == SQLITE_ROW)
      {
        if (n == per_page)
          {
            next = encode_cursor (0, last_row, page);
            break;
          }
        add_contact (b, s);
        last_row = sqlite3_column_int64 (s, 0);
        n++;
      }
  }
  _fd_json_end_array (b);
  _fd_json_int (b, "total_count", total);
  add_pages (b, page, per_page, total, next);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

#define COMPANY_COLUMNS \
  "o.id, o.external_id, o.name, o.plan, o.is_enterprise, o.seats_purchased, o.seats_used," \
  " o.created_at, o.updated_at, o.stripe_customer_id, o.sso_type, o.sso_idp," \
  " (SELECT COUNT(*) FROM contacts c WHERE c.organisation_id = o.id)," \
  " (SELECT group_concat(domain, ',') FROM organisation_domains d WHERE d.organisation_id = o.id)"

static void
add_company (FdJson       *b,
             sqlite3_stmt *s)
{
  g_autofree char *id = company_id (sqlite3_column_int64 (s, 0));
  const char *domains = (const char *) sqlite3_column_text (s, 13);
  g_autofree char *website = NULL;

  if (domains != NULL)
    {
      const char *comma = strchr (domains, ',');

      website = g_strdup_printf ("https://%.*s", comma ? (int) (comma - domains) : (int) strlen (domains),
                                 domains);
    }

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "company");
  _fd_json_str (b, "id", id);
  _fd_json_str (b, "company_id", (const char *) sqlite3_column_text (s, 1));
  _fd_json_str (b, "app_id", "sandbox");
  _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 2));
  _fd_json_int (b, "remote_created_at", seconds (sqlite3_column_int64 (s, 7)));
  _fd_json_int (b, "created_at", seconds (sqlite3_column_int64 (s, 7)));
  _fd_json_int (b, "updated_at", seconds (sqlite3_column_int64 (s, 8)));
  _fd_json_int (b, "monthly_spend", 0);
  _fd_json_int (b, "session_count", 0);
  _fd_json_int (b, "user_count", sqlite3_column_int64 (s, 12));
  _fd_json_int (b, "size", sqlite3_column_int64 (s, 5));
  _fd_json_str (b, "website", website);
  _fd_json_null (b, "industry");
  _fd_json_name (b, "plan");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "plan");
  _fd_json_str (b, "id", (const char *) sqlite3_column_text (s, 3));
  _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 3));
  _fd_json_end_object (b);
  _fd_json_name (b, "custom_attributes");
  _fd_json_begin_object (b);
  _fd_json_str (b, "plan", (const char *) sqlite3_column_text (s, 3));
  _fd_json_bool (b, "is_enterprise", sqlite3_column_int (s, 4));
  _fd_json_int (b, "seats_purchased", sqlite3_column_int64 (s, 5));
  _fd_json_int (b, "seats_used", sqlite3_column_int64 (s, 6));
  _fd_json_str (b, "stripe_customer_id", (const char *) sqlite3_column_text (s, 9));
  _fd_json_str (b, "sso_type", (const char *) sqlite3_column_text (s, 10));
  _fd_json_str (b, "sso_idp", (const char *) sqlite3_column_text (s, 11));
  _fd_json_str (b, "domains", domains);
  _fd_json_end_object (b);
  _fd_json_name (b, "tags");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "tag.list");
  _fd_json_name (b, "tags");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_json_name (b, "segments");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "segment.list");
  _fd_json_name (b, "segments");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_json_end_object (b);
}

static void
handle_companies (FdSandbox         *self,
                  SoupServerMessage *msg,
                  GHashTable        *query,
                  const char        *one)
{
  g_autoptr(FdJson) b = _fd_json_new ();
  gint64 page = 1, per_page = 15, total = 0;

  if (one != NULL)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT " COMPANY_COLUMNS " FROM organisations o WHERE o.id = ?");

      sqlite3_bind_int64 (s, 1, parse_hex_id (one, "6651"));
      if (sqlite3_step (s) != SQLITE_ROW)
        {
          respond_error (msg, SOUP_STATUS_NOT_FOUND, "company_not_found", "Company Not Found");
          return;
        }
      add_company (b, s);
      _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
      return;
    }

  if (query != NULL)
    {
      gint64 value;

      if (_fd_sandbox_parse_int (g_hash_table_lookup (query, "page"), &value) && value >= 1)
        page = value;
      if (_fd_sandbox_parse_int (g_hash_table_lookup (query, "per_page"), &value) && value >= 1)
        per_page = MIN (value, 60);
    }

  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT COUNT(*) FROM organisations");

    if (sqlite3_step (s) == SQLITE_ROW)
      total = sqlite3_column_int64 (s, 0);
  }

  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "list");
  _fd_json_name (b, "data");
  _fd_json_begin_array (b);
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT " COMPANY_COLUMNS " FROM organisations o ORDER BY o.id"
                              " LIMIT ? OFFSET ?");

    sqlite3_bind_int64 (s, 1, per_page);
    sqlite3_bind_int64 (s, 2, (page - 1) * per_page);
    while (sqlite3_step (s) == SQLITE_ROW)
      add_company (b, s);
  }
  _fd_json_end_array (b);
  _fd_json_name (b, "pages");
  _fd_json_begin_object (b);
  _fd_json_str (b, "type", "pages");
  if (page * per_page < total)
    {
      _fd_json_name (b, "next");
      _fd_json_begin_object (b);
      _fd_json_int (b, "page", page + 1);
      _fd_json_null (b, "starting_after");
      _fd_json_end_object (b);
    }
  else
    _fd_json_null (b, "next");
  _fd_json_int (b, "page", page);
  _fd_json_int (b, "per_page", per_page);
  _fd_json_int (b, "total_pages", (total + per_page - 1) / per_page);
  _fd_json_end_object (b);
  _fd_json_int (b, "total_count", total);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

/* }}} */
/* {{{ Dispatch */

/* Intercom itself has no idempotency keys; the sandbox honours Idempotency-Key on writes
 * so that a retried outbox entry gives the stored answer instead of a second reply. */
static gboolean
replay_idempotent (FdSandbox         *self,
                   SoupServerMessage *msg,
                   const char        *key)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT status, body FROM sandbox_intercom_idempotency WHERE key = ?");

  sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    return FALSE;

  _fd_sandbox_respond (msg, (guint) sqlite3_column_int (s, 0), "application/json; charset=utf-8",
                       (const char *) sqlite3_column_text (s, 1));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Idempotent-Replayed", "true");
  return TRUE;
}

static void
store_idempotent (FdSandbox         *self,
                  SoupServerMessage *msg,
                  const char        *key,
                  const char        *path)
{
  guint status = soup_server_message_get_status (msg);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(FdSandboxStmt) s = NULL;

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    return;

  body = soup_message_body_flatten (soup_server_message_get_response_body (msg));
  s = _fd_sandbox_stmt (self, "INSERT OR IGNORE INTO sandbox_intercom_idempotency"
                              " (key, path, status, body, created_at) VALUES (?, ?, ?, ?, ?)");
  sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, path, -1, SQLITE_STATIC);
  sqlite3_bind_int (s, 3, (int) status);
  sqlite3_bind_text (s, 4, g_bytes_get_data (body, NULL), (int) g_bytes_get_size (body),
                     SQLITE_STATIC);
  sqlite3_bind_int64 (s, 5, _fd_sandbox_now_ms ());
  if (sqlite3_step (s) != SQLITE_DONE)
    g_warning ("Could not store an idempotency key: %s", sqlite3_errmsg (self->db));
}

static void
route (FdSandbox         *self,
       SoupServerMessage *msg,
       const char        *method,
       char             **parts,
       guint              n,
       GHashTable        *query)
{
  gboolean get = g_str_equal (method, "GET");
  gboolean post = g_str_equal (method, "POST");
  gint64 conversation;

  if (n == 1 && get && g_str_equal (parts[0], "me"))
    handle_me (self, msg);
  else if (n <= 2 && get && g_str_equal (parts[0], "admins"))
    handle_admins (self, msg, n == 2 ? parts[1] : NULL);
  else if (n == 1 && get && g_str_equal (parts[0], "tags"))
    handle_tags (self, msg);
  else if (n <= 2 && get && g_str_equal (parts[0], "contacts"))
    handle_contacts (self, msg, query, n == 2 ? parts[1] : NULL);
  else if (n <= 2 && get && g_str_equal (parts[0], "companies"))
    handle_companies (self, msg, query, n == 2 ? parts[1] : NULL);
  else if (n == 1 && get && g_str_equal (parts[0], "conversations"))
    handle_list_conversations (self, msg, query);
  else if (n == 2 && post && g_str_equal (parts[0], "conversations") &&
           g_str_equal (parts[1], "search"))
    handle_search (self, msg);
  else if (n >= 2 && g_str_equal (parts[0], "conversations"))
    {
      conversation = find_conversation (self, parts[1]);
      if (conversation == 0)
        respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
                       n == 2 ? "Resource Not Found" : "Conversation not found");
      else if (n == 2 && get)
        respond_conversation (self, msg, conversation);
      else if (n == 3 && post && g_str_equal (parts[2], "reply"))
        handle_reply (self, msg, conversation);
      else if (n == 3 && post && g_str_equal (parts[2], "parts"))
        handle_part (self, msg, conversation);
      else if (n == 3 && post && g_str_equal (parts[2], "tags"))
        handle_tag (self, msg, conversation, NULL);
      else if (n == 4 && g_str_equal (method, "DELETE") && g_str_equal (parts[2], "tags"))
        handle_tag (self, msg, conversation, parts[3]);
      else
        respond_not_found (msg);
    }
  else
    respond_not_found (msg);
}

static void
intercom_handle (FdSandbox         *self,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query)
{
  const char *token = _fd_sandbox_bearer (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *key = _fd_sandbox_header (msg, "Idempotency-Key");
  g_auto(GStrv) parts = NULL;
  gboolean write = !g_str_equal (method, "GET");

  if (token == NULL || !g_str_equal (token, self->tokens[FD_SANDBOX_TOKEN_INTERCOM]))
    {
      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", "Access Token Invalid");
      return;
    }

  if (write && key != NULL && key[0] != '\0' && replay_idempotent (self, msg, key))
    return;

  while (*path == '/')
    path++;
  parts = g_strsplit (path, "/", 5);
  if (parts[0] == NULL)
    respond_not_found (msg);
  else
    route (self, msg, method, parts, g_strv_length (parts), query);

  if (write && key != NULL && key[0] != '\0')
    store_idempotent (self, msg, key, path);
}

/* }}} */
/* {{{ Incoming */

static gboolean
intercom_incoming (FdSandbox    *self,
                   JsonObject   *request,
                   FdJson       *reply,
                   GError      **error)
{
  g_autofree char *external = _fd_sandbox_member_text (request, "conversation_external_id");
  const char *body = json_object_get_string_member_with_default (request, "body", NULL);
  const char *author = json_object_get_string_member_with_default (request, "author", NULL);
  gboolean is_new = json_object_get_boolean_member_with_default (request, "new", FALSE);
  FdSandboxNewMessage m = { 0 };
  g_autofree char *name = NULL;
  g_autofree char *id_text = NULL;
  g_autofree char *part = NULL;
  gint64 conversation = 0, contact = 0, organisation = 0, message;

  if (body == NULL || body[0] == '\0')
    {
      g_set_error_literal (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID, "body is required.");
      return FALSE;
    }

  if (is_new || (external != NULL && g_str_equal (external, "new")))
    {
      const char *channel = json_object_get_string_member_with_default (request, "channel", "email");
      const char *subject = json_object_get_string_member_with_default (request, "subject", NULL);
      g_autofree char *default_subject = NULL;

      if (!g_str_equal (channel, "email") && !g_str_equal (channel, "chat"))
        channel = "email";
      contact = _fd_sandbox_find_contact (self, author, 1);
      if (contact == 0)
        {
          g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                       "No contact matches “%s”.", author);
          return FALSE;
        }
      {
        g_autoptr(FdSandboxStmt) s =
          _fd_sandbox_stmt (self, "SELECT organisation_id FROM contacts WHERE id = ?");

        sqlite3_bind_int64 (s, 1, contact);
        if (sqlite3_step (s) == SQLITE_ROW)
          organisation = sqlite3_column_int64 (s, 0);
      }
      if (subject == NULL)
        subject = default_subject = g_utf8_substring (body, 0, MIN (g_utf8_strlen (body, -1), 60));
      conversation = _fd_sandbox_add_conversation (self, channel, subject, contact, organisation,
                                                   0, error);
      if (conversation == 0)
        return FALSE;
    }
  else
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT id, contact_id FROM conversations"
                                " WHERE (id = CAST(?1 AS INTEGER) OR external_id = ?1)"
                                " AND channel IN ('email', 'chat')");

      sqlite3_bind_text (s, 1, external ? external : "", -1, SQLITE_STATIC);
      if (external == NULL || sqlite3_step (s) != SQLITE_ROW)
        {
          g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                       "No Intercom conversation “%s”.", external ? external : "");
          return FALSE;
        }
      conversation = sqlite3_column_int64 (s, 0);
      contact = _fd_sandbox_find_contact (self, author, sqlite3_column_int64 (s, 1));
      if (contact == 0)
        {
          g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                       "No contact matches “%s”.", author);
          return FALSE;
        }
    }

  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name FROM contacts WHERE id = ?");

    sqlite3_bind_int64 (s, 1, contact);
    if (sqlite3_step (s) == SQLITE_ROW)
      name = g_strdup ((const char *) sqlite3_column_text (s, 0));
  }

  m.conversation_id = conversation;
  m.author_kind = "contact";
  m.author_id = contact;
  m.author_name = name;
  m.body = body;
  message = _fd_sandbox_add_message (self, &m, error);
  if (message == 0)
    return FALSE;

  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, conversation);
  part = g_strdup_printf ("%" G_GINT64_FORMAT, message);
  _fd_json_str (reply, "conversation_external_id", id_text);
  _fd_json_str (reply, "conversation_id", id_text);
  _fd_json_str (reply, "part_id", part);
  _fd_json_int (reply, "updated_at", self->last_write_at / 1000);
  return TRUE;
}

/* }}} */

const FdSandboxService _fd_sandbox_intercom_service = {
  .name = "intercom",
  .prefix = "/intercom",
  .schema = schema,
  .seed = NULL,
  .handle = intercom_handle,
  .fault_body = intercom_fault_body,
  .incoming = intercom_incoming,
  .shutdown = NULL,
};
