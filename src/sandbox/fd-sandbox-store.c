/* fd-sandbox-store.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sandbox"

#include "config.h"

#include <string.h>

#include "fd-sandbox-private.h"

/* Writes through any service end up here, in Frontdesk's own tables, so that what one
 * API changes the next sync of that API sees, with updated_at bumped. */

gint64
_fd_sandbox_now_ms (void)
{
  return g_get_real_time () / 1000;
}

gint64
_fd_sandbox_next_time (FdSandbox *self,
                       gint64     not_before)
{
  gint64 now = MAX (_fd_sandbox_now_ms (), not_before);

  now = MAX (now, self->last_write_at + 1);
  self->last_write_at = now;
  return now;
}

static gboolean
conversation_state (FdSandbox  *self,
                    gint64      conversation_id,
                    char      **status,
                    gint64     *updated_at,
                    GError    **error)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT status, updated_at FROM conversations WHERE id = ?");

  sqlite3_bind_int64 (s, 1, conversation_id);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                   "No conversation %" G_GINT64_FORMAT ".", conversation_id);
      return FALSE;
    }
  if (status != NULL)
    *status = g_strdup ((const char *) sqlite3_column_text (s, 0));
  if (updated_at != NULL)
    *updated_at = sqlite3_column_int64 (s, 1);
  return TRUE;
}

static gboolean
add_event (FdSandbox   *self,
           gint64       conversation_id,
           const char  *kind,
           const char  *from_value,
           const char  *to_value,
           gint64       actor_id,
           gint64       at,
           GError     **error)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "INSERT INTO events (conversation_id, kind, from_value, to_value,"
                            " actor_id, created_at) VALUES (?, ?, ?, ?, ?, ?)");

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_text (s, 2, kind, -1, SQLITE_STATIC);
  if (from_value != NULL)
    sqlite3_bind_text (s, 3, from_value, -1, SQLITE_STATIC);
  if (to_value != NULL)
    sqlite3_bind_text (s, 4, to_value, -1, SQLITE_STATIC);
  if (actor_id > 0)
    sqlite3_bind_int64 (s, 5, actor_id);
  sqlite3_bind_int64 (s, 6, at);
  return _fd_sandbox_step_done (self, s, error);
}

static gboolean set_status_at (FdSandbox   *self,
                               gint64       conversation_id,
                               const char  *status,
                               gint64       snoozed_until_ms,
                               gint64       actor_agent_id,
                               gint64       at,
                               GError     **error);

static char *
make_snippet (const char *body)
{
  GString *out = g_string_new (NULL);

  for (const char *p = body; *p != '\0' && out->len < 150; p++)
    {
      if (*p == '\n' || *p == '\t' || *p == '\r')
        {
          if (out->len > 0 && out->str[out->len - 1] != ' ')
            g_string_append_c (out, ' ');
        }
      else
        g_string_append_c (out, *p);
    }
  /* Never end inside a UTF-8 sequence. */
  while (out->len > 0 && !g_utf8_validate (out->str, out->len, NULL))
    g_string_truncate (out, out->len - 1);

  return g_string_free (out, FALSE);
}

gint64
_fd_sandbox_add_message (FdSandbox                  *self,
                         const FdSandboxNewMessage  *message,
                         GError                    **error)
{
  g_autofree char *status = NULL;
  g_autofree char *snippet = NULL;
  gboolean from_contact = g_str_equal (message->author_kind, "contact");
  gint64 updated_at = 0, at, id;

  if (!conversation_state (self, message->conversation_id, &status, &updated_at, error))
    return 0;

  at = message->at > 0 ? message->at : _fd_sandbox_next_time (self, updated_at + 1);

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "INSERT INTO messages (conversation_id, author_kind, author_id,"
                              " author_name, is_note, body, created_at)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?)");

    sqlite3_bind_int64 (s, 1, message->conversation_id);
    sqlite3_bind_text (s, 2, message->author_kind, -1, SQLITE_STATIC);
    if (message->author_id > 0)
      sqlite3_bind_int64 (s, 3, message->author_id);
    sqlite3_bind_text (s, 4, message->author_name ? message->author_name : "", -1, SQLITE_STATIC);
    sqlite3_bind_int (s, 5, message->is_note);
    sqlite3_bind_text (s, 6, message->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 7, at);
    if (!_fd_sandbox_step_done (self, s, error))
      return 0;
    id = sqlite3_last_insert_rowid (self->db);
  }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "UPDATE messages SET external_id = 'sandbox-msg-' || id WHERE id = ?");

    sqlite3_bind_int64 (s, 1, id);
    if (!_fd_sandbox_step_done (self, s, error))
      return 0;
  }

  if (message->markup != NULL)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "INSERT INTO sandbox_markup (message_id, content) VALUES (?, ?)");

      sqlite3_bind_int64 (s, 1, id);
      sqlite3_bind_text (s, 2, message->markup, -1, SQLITE_STATIC);
      if (!_fd_sandbox_step_done (self, s, error))
        return 0;
    }

  if (message->is_note)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "UPDATE conversations SET updated_at = MAX(updated_at, ?) WHERE id = ?");

      sqlite3_bind_int64 (s, 1, at);
      sqlite3_bind_int64 (s, 2, message->conversation_id);
      if (!_fd_sandbox_step_done (self, s, error))
        return 0;
    }
  else
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "UPDATE conversations SET updated_at = MAX(updated_at, ?1),"
                                " last_message_at = ?1, snippet = ?2,"
                                " first_reply_at = CASE WHEN ?3 THEN first_reply_at"
                                "   ELSE COALESCE(first_reply_at, ?1) END"
                                " WHERE id = ?4");

      snippet = make_snippet (message->body);
      sqlite3_bind_int64 (s, 1, at);
      sqlite3_bind_text (s, 2, snippet, -1, SQLITE_STATIC);
      sqlite3_bind_int (s, 3, from_contact || !g_str_equal (message->author_kind, "agent"));
      sqlite3_bind_int64 (s, 4, message->conversation_id);
      if (!_fd_sandbox_step_done (self, s, error))
        return 0;
    }

  if (!add_event (self, message->conversation_id,
                  message->is_note ? "note" : from_contact ? "customer_message" : "reply",
                  NULL, NULL,
                  g_str_equal (message->author_kind, "agent") ? message->author_id : 0,
                  at, error))
    return 0;

  /* A customer writing to a closed or snoozed conversation opens it again, at the same
   * moment, as Intercom's "open" part that comes with such a reply. */
  if (from_contact && !g_str_equal (status, "open") &&
      !set_status_at (self, message->conversation_id, "open", 0, 0, at, error))
    return 0;

  return id;
}

gint64
_fd_sandbox_add_conversation (FdSandbox   *self,
                              const char  *channel,
                              const char  *subject,
                              gint64       contact_id,
                              gint64       organisation_id,
                              gint64       at,
                              GError     **error)
{
  gint64 id;

  if (at <= 0)
    at = _fd_sandbox_next_time (self, 0);

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "INSERT INTO conversations (channel, subject, contact_id,"
                              " organisation_id, status, priority, created_at, updated_at,"
                              " last_message_at) VALUES (?, ?, ?, ?, 'open', 'normal', ?, ?, ?)");

    sqlite3_bind_text (s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 2, subject ? subject : "", -1, SQLITE_STATIC);
    if (contact_id > 0)
      sqlite3_bind_int64 (s, 3, contact_id);
    if (organisation_id > 0)
      sqlite3_bind_int64 (s, 4, organisation_id);
    sqlite3_bind_int64 (s, 5, at);
    sqlite3_bind_int64 (s, 6, at);
    sqlite3_bind_int64 (s, 7, at);
    if (!_fd_sandbox_step_done (self, s, error))
      return 0;
    id = sqlite3_last_insert_rowid (self->db);
  }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "UPDATE conversations SET external_id = 'sandbox-conv-' || id"
                              " WHERE id = ?");

    sqlite3_bind_int64 (s, 1, id);
    if (!_fd_sandbox_step_done (self, s, error))
      return 0;
  }

  if (!add_event (self, id, "created", NULL, channel, 0, at, error))
    return 0;

  self->intercom_total = -1;
  return id;
}

static gboolean
set_status_at (FdSandbox   *self,
               gint64       conversation_id,
               const char  *status,
               gint64       snoozed_until_ms,
               gint64       actor_agent_id,
               gint64       at,
               GError     **error)
{
  g_autofree char *old = NULL;
  gint64 updated_at = 0;
  g_autoptr(FdSandboxStmt) s = NULL;

  if (!conversation_state (self, conversation_id, &old, &updated_at, error))
    return FALSE;

  if (at <= 0)
    at = _fd_sandbox_next_time (self, updated_at + 1);
  s = _fd_sandbox_stmt (self, "UPDATE conversations SET status = ?1, updated_at = ?2,"
                              " snoozed_until = CASE WHEN ?1 = 'snoozed' THEN ?3 END,"
                              " resolved_at = CASE WHEN ?1 = 'resolved' THEN ?2 END,"
                              " reopen_count = reopen_count + (?4 = 'resolved' AND ?1 = 'open')"
                              " WHERE id = ?5");
  sqlite3_bind_text (s, 1, status, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, at);
  if (snoozed_until_ms > 0)
    sqlite3_bind_int64 (s, 3, snoozed_until_ms);
  sqlite3_bind_text (s, 4, old, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 5, conversation_id);
  if (!_fd_sandbox_step_done (self, s, error))
    return FALSE;

  return add_event (self, conversation_id, "status", old, status, actor_agent_id, at, error);
}

gboolean
_fd_sandbox_set_status (FdSandbox   *self,
                        gint64       conversation_id,
                        const char  *status,
                        gint64       snoozed_until_ms,
                        gint64       actor_agent_id,
                        GError     **error)
{
  return set_status_at (self, conversation_id, status, snoozed_until_ms, actor_agent_id, 0, error);
}

gboolean
_fd_sandbox_assign (FdSandbox   *self,
                    gint64       conversation_id,
                    gint64       agent_id,
                    gint64       actor_agent_id,
                    GError     **error)
{
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  gint64 updated_at = 0, at;

  if (!conversation_state (self, conversation_id, NULL, &updated_at, error))
    return FALSE;

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT assignee_id FROM conversations WHERE id = ?");

    sqlite3_bind_int64 (s, 1, conversation_id);
    if (sqlite3_step (s) == SQLITE_ROW && sqlite3_column_type (s, 0) != SQLITE_NULL)
      from = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (s, 0));
  }

  at = _fd_sandbox_next_time (self, updated_at + 1);
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "UPDATE conversations SET assignee_id = ?, updated_at = ?"
                              " WHERE id = ?");

    if (agent_id > 0)
      sqlite3_bind_int64 (s, 1, agent_id);
    sqlite3_bind_int64 (s, 2, at);
    sqlite3_bind_int64 (s, 3, conversation_id);
    if (!_fd_sandbox_step_done (self, s, error))
      return FALSE;
  }

  if (agent_id > 0)
    to = g_strdup_printf ("%" G_GINT64_FORMAT, agent_id);
  return add_event (self, conversation_id, "assigned", from, to, actor_agent_id, at, error);
}

gboolean
_fd_sandbox_set_tag (FdSandbox   *self,
                     gint64       conversation_id,
                     gint64       tag_id,
                     gboolean     present,
                     gint64       actor_agent_id,
                     gboolean    *changed,
                     GError     **error)
{
  g_autofree char *name = NULL;
  gint64 updated_at = 0, at;

  *changed = FALSE;
  if (!conversation_state (self, conversation_id, NULL, &updated_at, error))
    return FALSE;

  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name FROM tags WHERE id = ?");

    sqlite3_bind_int64 (s, 1, tag_id);
    if (sqlite3_step (s) != SQLITE_ROW)
      {
        g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                     "No tag %" G_GINT64_FORMAT ".", tag_id);
        return FALSE;
      }
    name = g_strdup ((const char *) sqlite3_column_text (s, 0));
  }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, present
                              ? "INSERT OR IGNORE INTO conversation_tags (conversation_id, tag_id)"
                                " VALUES (?, ?)"
                              : "DELETE FROM conversation_tags WHERE conversation_id = ?"
                                " AND tag_id = ?");

    sqlite3_bind_int64 (s, 1, conversation_id);
    sqlite3_bind_int64 (s, 2, tag_id);
    if (!_fd_sandbox_step_done (self, s, error))
      return FALSE;
    if (sqlite3_changes (self->db) == 0)
      return TRUE;
  }

  *changed = TRUE;
  at = _fd_sandbox_next_time (self, updated_at + 1);
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "UPDATE conversations SET updated_at = ? WHERE id = ?");

    sqlite3_bind_int64 (s, 1, at);
    sqlite3_bind_int64 (s, 2, conversation_id);
    if (!_fd_sandbox_step_done (self, s, error))
      return FALSE;
  }

  return add_event (self, conversation_id, present ? "tagged" : "untagged", NULL, name,
                    actor_agent_id, at, error);
}

gint64
_fd_sandbox_find_contact (FdSandbox  *self,
                          const char *author,
                          gint64      fallback)
{
  g_autoptr(FdSandboxStmt) s = NULL;
  gint64 id;

  if (author == NULL || author[0] == '\0')
    return fallback;

  if (strchr (author, '@') != NULL)
    s = _fd_sandbox_stmt (self, "SELECT id FROM contacts WHERE email = ? COLLATE NOCASE LIMIT 1");
  else if (_fd_sandbox_parse_int (author, &id))
    s = _fd_sandbox_stmt (self, "SELECT id FROM contacts WHERE id = CAST(? AS INTEGER)");
  else
    s = _fd_sandbox_stmt (self, "SELECT id FROM contacts WHERE name = ? LIMIT 1");

  sqlite3_bind_text (s, 1, author, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    return 0;
  return sqlite3_column_int64 (s, 0);
}
