/* fd-outbox.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-outbox"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "fd-outbox.h"
#include "fd-sla.h"

void
fd_outbox_request_free (FdOutboxRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->body);
  g_free (request->status);
  g_free (request->tag);
  g_free (request);
}

static gboolean
run (sqlite3     *db,
     const char  *sql,
     GError     **error,
     const char  *types,
     ...)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, sql, error);
  va_list args;
  int rc;

  if (stmt == NULL)
    return FALSE;

  /* Binds: 'i' gint64 (0 binds NULL), 'I' gint64 always, 's' string (NULL binds NULL). */
  va_start (args, types);
  for (int i = 0; types[i] != '\0'; i++)
    {
      if (types[i] == 's')
        {
          const char *text = va_arg (args, const char *);

          if (text != NULL)
            sqlite3_bind_text (stmt, i + 1, text, -1, SQLITE_TRANSIENT);
        }
      else
        {
          gint64 value = va_arg (args, gint64);

          if (value != 0 || types[i] == 'I')
            sqlite3_bind_int64 (stmt, i + 1, value);
        }
    }
  va_end (args);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
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
           gint64       now,
           GError     **error)
{
  return run (db,
              "INSERT INTO events (conversation_id, kind, from_value, to_value, actor_id, created_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
              error, "isssiI",
              conversation_id, kind, from_value, to_value, actor_id, now);
}

static char *
build_payload (const FdOutboxRequest *request,
               const char            *assignee_external_id)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  if (request->body != NULL)
    {
      json_builder_set_member_name (builder, "body");
      json_builder_add_string_value (builder, request->body);
    }
  if (request->status != NULL)
    {
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, request->status);
      json_builder_set_member_name (builder, "snoozed_until");
      json_builder_add_int_value (builder, request->snoozed_until);
    }
  if (request->kind == FD_OUTBOX_ASSIGN)
    {
      json_builder_set_member_name (builder, "assignee");
      if (assignee_external_id != NULL)
        json_builder_add_string_value (builder, assignee_external_id);
      else
        json_builder_add_null_value (builder);
    }
  if (request->tag != NULL)
    {
      json_builder_set_member_name (builder, "tag");
      json_builder_add_string_value (builder, request->tag);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static gboolean
validate_request (const FdOutboxRequest  *request,
                  GError                **error)
{
  gboolean ok;

  switch (request->kind)
    {
    case FD_OUTBOX_REPLY:
    case FD_OUTBOX_NOTE:
      ok = request->body != NULL && *request->body != '\0';
      break;

    case FD_OUTBOX_STATUS:
      ok = g_strcmp0 (request->status, "open") == 0 ||
           g_strcmp0 (request->status, "pending") == 0 ||
           g_strcmp0 (request->status, "resolved") == 0 ||
           (g_strcmp0 (request->status, "snoozed") == 0 && request->snoozed_until > 0);
      break;

    case FD_OUTBOX_ASSIGN:
      ok = TRUE;
      break;

    case FD_OUTBOX_TAG:
    case FD_OUTBOX_UNTAG:
      ok = request->tag != NULL && *request->tag != '\0';
      break;

    default:
      ok = FALSE;
    }

  if (!ok)
    g_set_error_literal (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                         _("This action is incomplete (an empty reply, or no status, tag "
                           "or snooze time), so nothing was sent."));

  return ok;
}

/* Applies the action to the local copy, so the agent sees it before it is sent. */
static gboolean
apply_locally (sqlite3                *db,
               const FdOutboxRequest  *request,
               gint64                  me_id,
               const char             *me_name,
               const char             *assignee_external_id,
               gboolean                local_only,
               gint64                  now,
               gint64                 *message_id,
               GError                **error)
{
  gint64 id = request->conversation_id;

  *message_id = 0;

  switch (request->kind)
    {
    case FD_OUTBOX_REPLY:
    case FD_OUTBOX_NOTE:
      {
        gboolean note = request->kind == FD_OUTBOX_NOTE;

        if (!run (db,
                  "INSERT INTO messages (conversation_id, account_id, author_kind, author_id, "
                  "  author_name, is_note, body, created_at, send_state) "
                  "SELECT ?1, account_id, 'agent', ?2, coalesce(?3, ''), ?4, ?5, ?6, ?7 "
                  "FROM conversations WHERE id = ?1",
                  error, "iisIsIs",
                  id, me_id, me_name, (gint64) note, request->body, now,
                  local_only ? NULL : "sending"))
          return FALSE;

        *message_id = sqlite3_last_insert_rowid (db);

        if (!add_event (db, id, note ? "note" : "reply", NULL, NULL, me_id, now, error))
          return FALSE;

        return run (db,
                    "UPDATE conversations SET updated_at = ?2, last_message_at = ?2, "
                    "  snippet = CASE WHEN ?3 THEN snippet ELSE substr(?4, 1, 200) END, "
                    "  first_reply_at = CASE WHEN ?3 THEN first_reply_at "
                    "                   ELSE coalesce(first_reply_at, ?2) END "
                    "WHERE id = ?1",
                    error, "iIIs", id, now, (gint64) note, request->body);
      }

    case FD_OUTBOX_STATUS:
      {
        g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, "SELECT status FROM conversations WHERE id = ?1", error);
        g_autofree char *old_status = NULL;

        if (stmt == NULL)
          return FALSE;
        sqlite3_bind_int64 (stmt, 1, id);
        if (sqlite3_step (stmt) == SQLITE_ROW)
          old_status = g_strdup ((const char *) sqlite3_column_text (stmt, 0));

        if (!run (db,
                  "UPDATE conversations SET status = ?2, snoozed_until = ?3, updated_at = ?4, "
                  "  resolved_at = CASE WHEN ?2 = 'resolved' THEN ?4 ELSE resolved_at END, "
                  "  reopen_count = reopen_count + (status = 'resolved' AND ?2 != 'resolved') "
                  "WHERE id = ?1",
                  error, "isiI", id, request->status,
                  g_str_equal (request->status, "snoozed") ? request->snoozed_until : 0, now))
          return FALSE;

        return add_event (db, id, "status", old_status, request->status, me_id, now, error);
      }

    case FD_OUTBOX_ASSIGN:
      if (!run (db, "UPDATE conversations SET assignee_id = ?2, updated_at = ?3 WHERE id = ?1",
                error, "iiI", id, request->assignee_id, now))
        return FALSE;
      return add_event (db, id, "assigned", NULL, assignee_external_id, me_id, now, error);

    case FD_OUTBOX_TAG:
      if (!run (db, "INSERT OR IGNORE INTO tags (name) VALUES (?1)", error, "s", request->tag) ||
          !run (db,
                "INSERT OR IGNORE INTO conversation_tags (conversation_id, tag_id) "
                "SELECT ?1, id FROM tags WHERE name = ?2",
                error, "is", id, request->tag))
        return FALSE;
      return add_event (db, id, "tagged", NULL, request->tag, me_id, now, error);

    case FD_OUTBOX_UNTAG:
      if (!run (db,
                "DELETE FROM conversation_tags WHERE conversation_id = ?1 "
                "AND tag_id = (SELECT id FROM tags WHERE name = ?2)",
                error, "is", id, request->tag))
        return FALSE;
      return add_event (db, id, "untagged", request->tag, NULL, me_id, now, error);

    default:
      g_assert_not_reached ();
    }
}

gboolean
fd_outbox_enqueue (sqlite3                *db,
                   const FdOutboxRequest  *request,
                   gint64                 *outbox_id,
                   GError                **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *me_name = NULL;
  g_autofree char *assignee_external_id = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *key = NULL;
  gint64 account_id = 0;
  gint64 me_id = 0;
  gint64 message_id = 0;
  gint64 now = g_get_real_time () / 1000;
  gboolean found = FALSE;

  g_return_val_if_fail (request != NULL, FALSE);

  if (outbox_id != NULL)
    *outbox_id = 0;

  if (!validate_request (request, error))
    return FALSE;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db, "SELECT account_id FROM conversations WHERE id = ?1", error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, request->conversation_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      found = TRUE;
      account_id = sqlite3_column_int64 (stmt, 0);
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!found)
    {
      g_set_error_literal (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                           _("This conversation no longer exists, so nothing was sent."));
      goto failed;
    }

  /* The agent acting: the account's own agent, or the local "me". */
  stmt = fd_store_prepare (db,
                           "SELECT id, name FROM agents WHERE is_me = 1 "
                           "AND (account_id = ?1 OR account_id IS NULL) "
                           "ORDER BY account_id IS NULL LIMIT 1",
                           error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, account_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      me_id = sqlite3_column_int64 (stmt, 0);
      me_name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (request->kind == FD_OUTBOX_ASSIGN && request->assignee_id != 0)
    {
      stmt = fd_store_prepare (db, "SELECT coalesce(external_id, name) FROM agents WHERE id = ?1", error);
      if (stmt == NULL)
        goto failed;
      sqlite3_bind_int64 (stmt, 1, request->assignee_id);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        assignee_external_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  if (!apply_locally (db, request, me_id, me_name, assignee_external_id, account_id == 0,
                      now, &message_id, error))
    goto failed;

  /* A reply, a note or a status change moves the conversation's SLA due time. */
  if (request->kind == FD_OUTBOX_REPLY || request->kind == FD_OUTBOX_NOTE ||
      request->kind == FD_OUTBOX_STATUS)
    {
      g_autoptr(FdSlaConfig) sla = NULL;

      if (!fd_sla_config_load (db, &sla, error) ||
          !fd_sla_update_conversation (db, sla, request->conversation_id, error))
        goto failed;
    }

  if (account_id != 0)
    {
      payload = build_payload (request, assignee_external_id);
      g_autofree char *uuid = g_uuid_string_random ();

      key = g_strconcat ("fd-", uuid, NULL);

      if (!run (db,
                "INSERT INTO outbox (account_id, conversation_id, kind, payload_json, "
                "  idempotency_key, state, created_at, updated_at, message_id) "
                "VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?7)",
                error, "iisssIi",
                account_id, request->conversation_id,
                fd_outbox_kind_to_string (request->kind), payload, key, now, message_id))
        goto failed;

      if (outbox_id != NULL)
        *outbox_id = sqlite3_last_insert_rowid (db);
    }

  return fd_store_commit (db, error);

failed:
  fd_store_rollback (db);
  return FALSE;
}

gboolean
fd_outbox_recover (sqlite3  *db,
                   GError  **error)
{
  return run (db, "UPDATE outbox SET state = 'pending' WHERE state = 'sending'", error, "");
}

static char *
payload_string (JsonObject *payload,
                const char *member)
{
  JsonNode *node = json_object_get_member (payload, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return g_strdup (json_node_get_string (node));
}

gboolean
fd_outbox_take_next (sqlite3       *db,
                     gint64         account_id,
                     gint64         now_ms,
                     FdOutboxItem **item,
                     GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(FdOutboxItem) next = NULL;
  JsonObject *payload;
  gint64 next_attempt_at;
  int rc;

  g_return_val_if_fail (item != NULL, FALSE);

  *item = NULL;

  stmt = fd_store_prepare (db,
                           "SELECT o.id, o.kind, o.payload_json, o.idempotency_key, "
                           "  coalesce(o.next_attempt_at, 0), c.external_id, o.attempts + 1, "
                           "  (SELECT external_id FROM agents WHERE is_me = 1 AND account_id = o.account_id) "
                           "FROM outbox o JOIN conversations c ON c.id = o.conversation_id "
                           "WHERE o.account_id = ?1 AND o.state IN ('pending', 'sending') "
                           "ORDER BY o.id LIMIT 1",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, account_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  /* In order: a later action never overtakes one waiting for its retry. */
  next_attempt_at = sqlite3_column_int64 (stmt, 4);
  if (next_attempt_at > now_ms)
    return TRUE;

  next = g_new0 (FdOutboxItem, 1);
  next->id = sqlite3_column_int64 (stmt, 0);
  if (!fd_outbox_kind_from_string ((const char *) sqlite3_column_text (stmt, 1), &next->kind))
    {
      gint64 id = next->id;

      g_clear_pointer (&stmt, sqlite3_finalize);
      return fd_outbox_mark_failed (db, id, _("Frontdesk does not know this kind of action."),
                                    TRUE, 0, error);
    }
  next->idempotency_key = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  next->conversation_external_id = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
  next->attempts = sqlite3_column_int (stmt, 6);
  next->author_external_id = g_strdup ((const char *) sqlite3_column_text (stmt, 7));

  parser = json_parser_new ();
  if (json_parser_load_from_data (parser, (const char *) sqlite3_column_text (stmt, 2), -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      payload = json_node_get_object (json_parser_get_root (parser));
      next->body = payload_string (payload, "body");
      next->status = payload_string (payload, "status");
      next->snoozed_until = json_object_get_int_member_with_default (payload, "snoozed_until", 0);
      next->assignee_external_id = payload_string (payload, "assignee");
      next->tag = payload_string (payload, "tag");
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!run (db,
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?2 "
            "WHERE id = ?1",
            error, "iI", next->id, now_ms))
    return FALSE;

  *item = g_steal_pointer (&next);
  return TRUE;
}

gboolean
fd_outbox_mark_sent (sqlite3     *db,
                     gint64       outbox_id,
                     const char  *external_id,
                     GError     **error)
{
  gint64 now = g_get_real_time () / 1000;

  if (!fd_store_begin (db, error))
    return FALSE;

  if (external_id != NULL && *external_id != '\0')
    {
      /* A sync may already have brought the message in under its new id; keep that one. */
      if (!run (db,
                "DELETE FROM messages WHERE id = (SELECT message_id FROM outbox WHERE id = ?1) "
                "AND EXISTS (SELECT 1 FROM messages m JOIN outbox o ON o.id = ?1 "
                "            WHERE m.account_id = o.account_id AND m.external_id = ?2)",
                error, "is", outbox_id, external_id) ||
          !run (db,
                "UPDATE messages SET external_id = ?2 "
                "WHERE id = (SELECT message_id FROM outbox WHERE id = ?1)",
                error, "is", outbox_id, external_id))
        goto failed;
    }

  if (!run (db,
            "UPDATE messages SET send_state = 'sent' "
            "WHERE id = (SELECT message_id FROM outbox WHERE id = ?1)",
            error, "i", outbox_id) ||
      !run (db,
            "UPDATE outbox SET state = 'sent', last_error = NULL, updated_at = ?2 WHERE id = ?1",
            error, "iI", outbox_id, now))
    goto failed;

  return fd_store_commit (db, error);

failed:
  fd_store_rollback (db);
  return FALSE;
}

gboolean
fd_outbox_mark_failed (sqlite3     *db,
                       gint64       outbox_id,
                       const char  *reason,
                       gboolean     permanent,
                       gint64       retry_at_ms,
                       GError     **error)
{
  gint64 now = g_get_real_time () / 1000;

  if (!fd_store_begin (db, error))
    return FALSE;

  if (!run (db,
            "UPDATE outbox SET "
            "  state = CASE WHEN ?3 OR attempts >= ?4 THEN 'failed' ELSE 'pending' END, "
            "  last_error = ?2, next_attempt_at = ?5, updated_at = ?6 "
            "WHERE id = ?1",
            error, "isIIiI", outbox_id, reason, (gint64) permanent,
            (gint64) FD_OUTBOX_MAX_ATTEMPTS, retry_at_ms, now) ||
      !run (db,
            "UPDATE messages SET send_state = 'failed' "
            "WHERE id = (SELECT message_id FROM outbox WHERE id = ?1 AND state = 'failed')",
            error, "i", outbox_id))
    goto failed;

  return fd_store_commit (db, error);

failed:
  fd_store_rollback (db);
  return FALSE;
}

gboolean
fd_outbox_retry (sqlite3  *db,
                 gint64    outbox_id,
                 GError  **error)
{
  if (!fd_store_begin (db, error))
    return FALSE;

  if (!run (db,
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL "
            "WHERE id = ?1 AND state = 'failed'",
            error, "i", outbox_id) ||
      !run (db,
            "UPDATE messages SET send_state = 'sending' "
            "WHERE id = (SELECT message_id FROM outbox WHERE id = ?1 AND state = 'pending')",
            error, "i", outbox_id))
    {
      fd_store_rollback (db);
      return FALSE;
    }

  return fd_store_commit (db, error);
}

static gboolean
enqueue_job (sqlite3   *db,
             gpointer   job_data,
             gpointer  *result,
             GError   **error)
{
  gint64 *id = g_new0 (gint64, 1);

  if (!fd_outbox_enqueue (db, job_data, id, error))
    {
      g_free (id);
      return FALSE;
    }

  *result = id;
  return TRUE;
}

static void
enqueue_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autofree gint64 *id = NULL;
  GError *error = NULL;

  id = fd_store_run_finish (FD_STORE (object), result, &error);
  if (id == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, *id);
}

void
fd_outbox_enqueue_async (FdStore             *store,
                         FdOutboxRequest     *request,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (request != NULL);

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_outbox_enqueue_async);

  fd_store_run_async (store, enqueue_job, request, (GDestroyNotify) fd_outbox_request_free, g_free,
                      cancellable, enqueue_cb, g_steal_pointer (&task));
}

gint64
fd_outbox_enqueue_finish (FdStore       *store,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), -1);

  return g_task_propagate_int (G_TASK (result), error);
}

static gboolean
retry_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  if (!fd_outbox_retry (db, *(gint64 *) job_data, error))
    return FALSE;

  *result = GINT_TO_POINTER (TRUE);
  return TRUE;
}

static void
retry_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (fd_store_run_finish (FD_STORE (object), result, &error) == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
fd_outbox_retry_async (FdStore             *store,
                       gint64               outbox_id,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_STORE (store));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_outbox_retry_async);

  fd_store_run_async (store, retry_job, g_memdup2 (&outbox_id, sizeof outbox_id), g_free, NULL,
                      cancellable, retry_cb, g_steal_pointer (&task));
}

gboolean
fd_outbox_retry_finish (FdStore       *store,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
