/* fd-sync-batch.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sync-batch"

#include "config.h"

#include "fd-sla.h"
#include "fd-store.h"
#include "fd-sync-batch.h"

static void
org_record_free (gpointer data)
{
  FdOrgRecord *record = data;

  g_free (record->external_id);
  g_free (record->name);
  g_free (record->plan);
  g_strfreev (record->domains);
  g_free (record->stripe_customer_id);
  g_free (record);
}

static void
contact_record_free (gpointer data)
{
  FdContactRecord *record = data;

  g_free (record->external_id);
  g_free (record->org_external_id);
  g_free (record->name);
  g_free (record->email);
  g_free (record);
}

static void
agent_record_free (gpointer data)
{
  FdAgentRecord *record = data;

  g_free (record->external_id);
  g_free (record->name);
  g_free (record->email);
  g_free (record);
}

static void
attachment_record_free (gpointer data)
{
  FdAttachmentRecord *record = data;

  g_free (record->name);
  g_free (record->content_type);
  g_free (record->url);
  g_free (record);
}

static void
message_record_free (gpointer data)
{
  FdMessageRecord *record = data;

  g_free (record->external_id);
  g_free (record->author_external_id);
  g_free (record->author_name);
  g_free (record->body);
  g_clear_pointer (&record->attachments, g_ptr_array_unref);
  g_free (record);
}

static void
conversation_record_free (gpointer data)
{
  FdConversationRecord *record = data;

  g_free (record->external_id);
  g_free (record->subject);
  g_free (record->contact_external_id);
  g_free (record->org_external_id);
  g_free (record->assignee_external_id);
  g_strfreev (record->tags);
  g_clear_pointer (&record->messages, g_ptr_array_unref);
  g_free (record);
}

FdSyncBatch *
fd_sync_batch_new (void)
{
  FdSyncBatch *batch = g_new0 (FdSyncBatch, 1);

  batch->organisations = g_ptr_array_new_with_free_func (org_record_free);
  batch->contacts = g_ptr_array_new_with_free_func (contact_record_free);
  batch->agents = g_ptr_array_new_with_free_func (agent_record_free);
  batch->conversations = g_ptr_array_new_with_free_func (conversation_record_free);

  return batch;
}

void
fd_sync_batch_free (FdSyncBatch *batch)
{
  if (batch == NULL)
    return;

  g_ptr_array_unref (batch->organisations);
  g_ptr_array_unref (batch->contacts);
  g_ptr_array_unref (batch->agents);
  g_ptr_array_unref (batch->conversations);
  g_free (batch->cursor);
  g_free (batch);
}

FdOrgRecord *
fd_sync_batch_add_organisation (FdSyncBatch *batch)
{
  FdOrgRecord *record = g_new0 (FdOrgRecord, 1);

  record->seats_purchased = -1;
  record->seats_used = -1;
  g_ptr_array_add (batch->organisations, record);
  return record;
}

FdContactRecord *
fd_sync_batch_add_contact (FdSyncBatch *batch)
{
  FdContactRecord *record = g_new0 (FdContactRecord, 1);

  g_ptr_array_add (batch->contacts, record);
  return record;
}

FdAgentRecord *
fd_sync_batch_add_agent (FdSyncBatch *batch)
{
  FdAgentRecord *record = g_new0 (FdAgentRecord, 1);

  g_ptr_array_add (batch->agents, record);
  return record;
}

FdConversationRecord *
fd_sync_batch_add_conversation (FdSyncBatch *batch)
{
  FdConversationRecord *record = g_new0 (FdConversationRecord, 1);

  record->messages = g_ptr_array_new_with_free_func (message_record_free);
  g_ptr_array_add (batch->conversations, record);
  return record;
}

FdMessageRecord *
fd_conversation_record_add_message (FdConversationRecord *conversation)
{
  FdMessageRecord *record = g_new0 (FdMessageRecord, 1);

  record->author_kind = "contact";
  record->attachments = g_ptr_array_new_with_free_func (attachment_record_free);
  g_ptr_array_add (conversation->messages, record);
  return record;
}

FdAttachmentRecord *
fd_message_record_add_attachment (FdMessageRecord *message)
{
  FdAttachmentRecord *record = g_new0 (FdAttachmentRecord, 1);

  g_ptr_array_add (message->attachments, record);
  return record;
}

gboolean
fd_sync_batch_is_empty (FdSyncBatch *batch)
{
  return batch->organisations->len == 0 &&
         batch->contacts->len == 0 &&
         batch->agents->len == 0 &&
         batch->conversations->len == 0;
}

void
fd_sync_stats_add (FdSyncStats       *total,
                   const FdSyncStats *more)
{
  total->organisations += more->organisations;
  total->contacts += more->contacts;
  total->conversations_new += more->conversations_new;
  total->conversations_updated += more->conversations_updated;
  total->messages_new += more->messages_new;
}

/* The statements of one apply, prepared once for the whole page. */
typedef struct
{
  sqlite3      *db;
  gint64        account_id;
  gint64        now;
  FdSlaConfig  *sla;          /* loaded once per page, when a conversation needs it */

  sqlite3_stmt *org_upsert;
  sqlite3_stmt *org_domain;
  sqlite3_stmt *contact_upsert;
  sqlite3_stmt *agent_upsert;
  sqlite3_stmt *lookup_org;
  sqlite3_stmt *lookup_contact;
  sqlite3_stmt *lookup_agent;
  sqlite3_stmt *conv_select;
  sqlite3_stmt *conv_insert;
  sqlite3_stmt *conv_update;
  sqlite3_stmt *event_insert;
  sqlite3_stmt *tags_clear;
  sqlite3_stmt *tag_insert;
  sqlite3_stmt *tag_link;
  sqlite3_stmt *message_insert;
  sqlite3_stmt *attachment_insert;
  sqlite3_stmt *conv_derive;
  sqlite3_stmt *message_adopt;
} Applier;

static const char * const applier_sql[] = {
  /* org_upsert */
  /* Services name plans freely; an organisation on a plan called Enterprise is one. */
  "INSERT INTO organisations (account_id, external_id, name, plan, is_enterprise, seats_purchased,"
  "  seats_used, stripe_customer_id, created_at, updated_at) "
  "VALUES (?1, ?2, coalesce(?3, ?2), coalesce(lower(?4), 'free'), coalesce(lower(?4) LIKE 'enterprise%', 0),"
  "  coalesce(?6, 0), coalesce(?7, 0), ?8, ?5, ?5) "
  "ON CONFLICT (account_id, external_id) DO UPDATE SET "
  "  name = coalesce(?3, name), plan = coalesce(lower(?4), plan), "
  "  is_enterprise = coalesce(lower(?4) LIKE 'enterprise%', is_enterprise), "
  "  seats_purchased = coalesce(?6, seats_purchased), seats_used = coalesce(?7, seats_used), "
  "  stripe_customer_id = coalesce(?8, stripe_customer_id), updated_at = ?5 "
  "RETURNING id",
  /* org_domain */
  "INSERT OR IGNORE INTO organisation_domains (organisation_id, domain) VALUES (?1, lower(?2))",
  /* contact_upsert */
  "INSERT INTO contacts (account_id, external_id, organisation_id, name, email, created_at) "
  "VALUES (?1, ?2, ?3, coalesce(?4, ?5, ?2), ?5, ?6) "
  "ON CONFLICT (account_id, external_id) DO UPDATE SET "
  "  organisation_id = coalesce(?3, organisation_id), name = coalesce(?4, name), "
  "  email = coalesce(?5, email)",
  /* agent_upsert */
  "INSERT INTO agents (account_id, external_id, name, email, is_me) "
  "VALUES (?1, ?2, coalesce(?3, ?2), ?4, ?5) "
  "ON CONFLICT (account_id, external_id) DO UPDATE SET "
  "  name = coalesce(?3, name), email = coalesce(?4, email), is_me = max(is_me, ?5)",
  /* lookup_org */
  "SELECT id FROM organisations WHERE account_id = ?1 AND external_id = ?2",
  /* lookup_contact */
  "SELECT id, organisation_id FROM contacts WHERE account_id = ?1 AND external_id = ?2",
  /* lookup_agent */
  "SELECT id FROM agents WHERE account_id = ?1 AND external_id = ?2",
  /* conv_select */
  "SELECT id, status, assignee_id, priority FROM conversations "
  "WHERE account_id = ?1 AND external_id = ?2",
  /* conv_insert */
  "INSERT INTO conversations (account_id, external_id, channel, subject, contact_id, "
  "  organisation_id, status, priority, assignee_id, snoozed_until, created_at, updated_at, "
  "  resolved_at) "
  "VALUES (?1, ?2, ?3, coalesce(?4, ''), ?5, ?6, coalesce(?7, 'open'), coalesce(?8, 'normal'), "
  "  ?9, ?10, ?11, ?12, CASE WHEN ?7 = 'resolved' THEN ?12 END) "
  "RETURNING id",
  /* conv_update */
  "UPDATE conversations SET "
  "  subject = coalesce(?2, subject), contact_id = coalesce(?3, contact_id), "
  "  organisation_id = coalesce(?4, organisation_id), status = coalesce(?5, status), "
  "  priority = coalesce(?6, priority), "
  "  assignee_id = CASE WHEN ?10 THEN ?7 ELSE assignee_id END, "
  "  snoozed_until = CASE WHEN ?5 IS NOT NULL THEN ?8 ELSE snoozed_until END, "
  "  updated_at = max(updated_at, ?9), "
  "  resolved_at = CASE WHEN ?5 = 'resolved' AND status != 'resolved' THEN ?9 ELSE resolved_at END, "
  "  reopen_count = reopen_count + (status = 'resolved' AND ?5 IS NOT NULL AND ?5 != 'resolved') "
  "WHERE id = ?1",
  /* event_insert */
  "INSERT INTO events (conversation_id, kind, from_value, to_value, actor_id, created_at) "
  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  /* tags_clear */
  "DELETE FROM conversation_tags WHERE conversation_id = ?1",
  /* tag_insert */
  "INSERT INTO tags (name) VALUES (?1) ON CONFLICT (name) DO UPDATE SET name = name RETURNING id",
  /* tag_link */
  "INSERT OR IGNORE INTO conversation_tags (conversation_id, tag_id) VALUES (?1, ?2)",
  /* message_insert */
  "INSERT INTO messages (conversation_id, account_id, external_id, author_kind, author_id, "
  "  author_name, is_note, body, created_at) "
  "VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, ''), ?7, ?8, ?9) "
  "ON CONFLICT (account_id, external_id) DO NOTHING "
  "RETURNING id",
  /* attachment_insert */
  "INSERT INTO attachments (message_id, name, size, content_type, url) VALUES (?1, ?2, ?3, ?4, ?5)",
  /* conv_derive: the columns the list shows, from the messages themselves */
  "UPDATE conversations SET "
  "  last_message_at = (SELECT max(created_at) FROM messages WHERE conversation_id = ?1), "
  "  snippet = coalesce((SELECT substr(body, 1, 200) FROM messages "
  "                      WHERE conversation_id = ?1 AND is_note = 0 "
  "                      ORDER BY created_at DESC, id DESC LIMIT 1), snippet), "
  "  first_reply_at = coalesce(first_reply_at, "
  "    (SELECT min(created_at) FROM messages "
  "     WHERE conversation_id = ?1 AND author_kind = 'agent' AND is_note = 0)) "
  "WHERE id = ?1",
  /* message_adopt: our own reply coming back when the service did not say which id it
   * got; the local copy takes the id instead of a second copy appearing. */
  "UPDATE messages SET external_id = ?2, account_id = ?3 "
  "WHERE id = (SELECT id FROM messages WHERE conversation_id = ?1 AND external_id IS NULL "
  "            AND author_kind = 'agent' AND is_note = ?4 AND send_state = 'sent' "
  "            AND trim(body) = trim(?5) ORDER BY id LIMIT 1) "
  "AND NOT EXISTS (SELECT 1 FROM messages WHERE account_id = ?3 AND external_id = ?2)",
};

static void
applier_clear (Applier *a)
{
  sqlite3_stmt **stmts = &a->org_upsert;

  for (guint i = 0; i < G_N_ELEMENTS (applier_sql); i++)
    g_clear_pointer (&stmts[i], sqlite3_finalize);
}

static gboolean
applier_init (Applier  *a,
              sqlite3  *db,
              gint64    account_id,
              GError  **error)
{
  sqlite3_stmt **stmts = &a->org_upsert;

  G_STATIC_ASSERT (sizeof (Applier) - G_STRUCT_OFFSET (Applier, org_upsert) ==
                   G_N_ELEMENTS (applier_sql) * sizeof (sqlite3_stmt *));

  a->db = db;
  a->account_id = account_id;
  a->now = g_get_real_time () / 1000;

  for (guint i = 0; i < G_N_ELEMENTS (applier_sql); i++)
    {
      stmts[i] = fd_store_prepare (db, applier_sql[i], error);
      if (stmts[i] == NULL)
        return FALSE;
    }

  return TRUE;
}

static void
bind_text_or_null (sqlite3_stmt *stmt,
                   int           index,
                   const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

static void
bind_id_or_null (sqlite3_stmt *stmt,
                 int           index,
                 gint64        id)
{
  if (id > 0)
    sqlite3_bind_int64 (stmt, index, id);
  else
    sqlite3_bind_null (stmt, index);
}

/* Steps a statement to completion; a RETURNING row's first column lands in *id. */
static gboolean
step (Applier       *a,
      sqlite3_stmt  *stmt,
      gint64        *id,
      GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (id != NULL)
    *id = 0;

  if (rc == SQLITE_ROW)
    {
      if (id != NULL)
        *id = sqlite3_column_int64 (stmt, 0);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        ;
    }

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);

  if (rc != SQLITE_DONE)
    return fd_store_set_error (a->db, rc, error);

  return TRUE;
}

static gint64
lookup (Applier      *a,
        sqlite3_stmt *stmt,
        const char   *external_id)
{
  gint64 id = 0;

  if (external_id == NULL)
    return 0;

  sqlite3_bind_int64 (stmt, 1, a->account_id);
  sqlite3_bind_text (stmt, 2, external_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);

  return id;
}

static gboolean
add_event (Applier     *a,
           gint64       conversation_id,
           const char  *kind,
           const char  *from_value,
           const char  *to_value,
           gint64       actor_id,
           gint64       at,
           GError     **error)
{
  sqlite3_bind_int64 (a->event_insert, 1, conversation_id);
  sqlite3_bind_text (a->event_insert, 2, kind, -1, SQLITE_STATIC);
  bind_text_or_null (a->event_insert, 3, from_value);
  bind_text_or_null (a->event_insert, 4, to_value);
  bind_id_or_null (a->event_insert, 5, actor_id);
  sqlite3_bind_int64 (a->event_insert, 6, at);

  return step (a, a->event_insert, NULL, error);
}

static gboolean
apply_organisation (Applier      *a,
                    FdOrgRecord  *org,
                    GError      **error)
{
  gint64 id;

  if (org->external_id == NULL)
    return TRUE;

  sqlite3_bind_int64 (a->org_upsert, 1, a->account_id);
  sqlite3_bind_text (a->org_upsert, 2, org->external_id, -1, SQLITE_STATIC);
  bind_text_or_null (a->org_upsert, 3, org->name);
  bind_text_or_null (a->org_upsert, 4, org->plan);
  sqlite3_bind_int64 (a->org_upsert, 5, a->now);
  if (org->seats_purchased >= 0)
    sqlite3_bind_int64 (a->org_upsert, 6, org->seats_purchased);
  else
    sqlite3_bind_null (a->org_upsert, 6);
  if (org->seats_used >= 0)
    sqlite3_bind_int64 (a->org_upsert, 7, org->seats_used);
  else
    sqlite3_bind_null (a->org_upsert, 7);
  bind_text_or_null (a->org_upsert, 8, org->stripe_customer_id);
  if (!step (a, a->org_upsert, &id, error))
    return FALSE;

  for (guint i = 0; org->domains != NULL && org->domains[i] != NULL; i++)
    {
      sqlite3_bind_int64 (a->org_domain, 1, id);
      sqlite3_bind_text (a->org_domain, 2, org->domains[i], -1, SQLITE_STATIC);
      if (!step (a, a->org_domain, NULL, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
apply_contact (Applier          *a,
               FdContactRecord  *contact,
               GError          **error)
{
  if (contact->external_id == NULL)
    return TRUE;

  sqlite3_bind_int64 (a->contact_upsert, 1, a->account_id);
  sqlite3_bind_text (a->contact_upsert, 2, contact->external_id, -1, SQLITE_STATIC);
  bind_id_or_null (a->contact_upsert, 3, lookup (a, a->lookup_org, contact->org_external_id));
  bind_text_or_null (a->contact_upsert, 4, contact->name);
  bind_text_or_null (a->contact_upsert, 5, contact->email);
  sqlite3_bind_int64 (a->contact_upsert, 6, contact->created_at > 0 ? contact->created_at : a->now);

  return step (a, a->contact_upsert, NULL, error);
}

static gboolean
apply_agent (Applier        *a,
             FdAgentRecord  *agent,
             GError        **error)
{
  if (agent->external_id == NULL)
    return TRUE;

  sqlite3_bind_int64 (a->agent_upsert, 1, a->account_id);
  sqlite3_bind_text (a->agent_upsert, 2, agent->external_id, -1, SQLITE_STATIC);
  bind_text_or_null (a->agent_upsert, 3, agent->name);
  bind_text_or_null (a->agent_upsert, 4, agent->email);
  sqlite3_bind_int (a->agent_upsert, 5, agent->is_me ? 1 : 0);

  return step (a, a->agent_upsert, NULL, error);
}

static gboolean
apply_tags (Applier               *a,
            gint64                 conversation_id,
            FdConversationRecord  *conv,
            GError               **error)
{
  if (conv->tags == NULL)
    return TRUE;

  sqlite3_bind_int64 (a->tags_clear, 1, conversation_id);
  if (!step (a, a->tags_clear, NULL, error))
    return FALSE;

  for (guint i = 0; conv->tags[i] != NULL; i++)
    {
      gint64 tag_id;

      if (conv->tags[i][0] == '\0')
        continue;

      sqlite3_bind_text (a->tag_insert, 1, conv->tags[i], -1, SQLITE_STATIC);
      if (!step (a, a->tag_insert, &tag_id, error))
        return FALSE;

      sqlite3_bind_int64 (a->tag_link, 1, conversation_id);
      sqlite3_bind_int64 (a->tag_link, 2, tag_id);
      if (!step (a, a->tag_link, NULL, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
apply_messages (Applier               *a,
                gint64                 conversation_id,
                FdConversationRecord  *conv,
                FdSyncStats           *stats,
                GError               **error)
{
  for (guint i = 0; i < conv->messages->len; i++)
    {
      FdMessageRecord *message = g_ptr_array_index (conv->messages, i);
      gboolean from_agent = g_strcmp0 (message->author_kind, "agent") == 0;
      gint64 author_id = 0;
      gint64 message_id;

      if (message->external_id == NULL || message->body == NULL)
        continue;

      if (from_agent)
        {
          sqlite3_bind_int64 (a->message_adopt, 1, conversation_id);
          sqlite3_bind_text (a->message_adopt, 2, message->external_id, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (a->message_adopt, 3, a->account_id);
          sqlite3_bind_int (a->message_adopt, 4, message->is_note ? 1 : 0);
          sqlite3_bind_text (a->message_adopt, 5, message->body, -1, SQLITE_STATIC);
          if (!step (a, a->message_adopt, NULL, error))
            return FALSE;
          if (sqlite3_changes (a->db) > 0)
            continue;
        }

      if (from_agent)
        author_id = lookup (a, a->lookup_agent, message->author_external_id);
      else if (g_strcmp0 (message->author_kind, "contact") == 0)
        author_id = lookup (a, a->lookup_contact, message->author_external_id);

      sqlite3_bind_int64 (a->message_insert, 1, conversation_id);
      sqlite3_bind_int64 (a->message_insert, 2, a->account_id);
      sqlite3_bind_text (a->message_insert, 3, message->external_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (a->message_insert, 4, message->author_kind, -1, SQLITE_STATIC);
      bind_id_or_null (a->message_insert, 5, author_id);
      bind_text_or_null (a->message_insert, 6, message->author_name);
      sqlite3_bind_int (a->message_insert, 7, message->is_note ? 1 : 0);
      sqlite3_bind_text (a->message_insert, 8, message->body, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (a->message_insert, 9, message->created_at);
      if (!step (a, a->message_insert, &message_id, error))
        return FALSE;

      /* Already stored: a repeated page, or our own reply coming back. */
      if (message_id == 0)
        continue;

      stats->messages_new++;

      if (!add_event (a, conversation_id,
                      message->is_note ? "note" : from_agent ? "reply" : "customer_message",
                      NULL, NULL, from_agent ? author_id : 0, message->created_at, error))
        return FALSE;

      for (guint j = 0; j < message->attachments->len; j++)
        {
          FdAttachmentRecord *attachment = g_ptr_array_index (message->attachments, j);

          sqlite3_bind_int64 (a->attachment_insert, 1, message_id);
          sqlite3_bind_text (a->attachment_insert, 2, attachment->name != NULL ? attachment->name : "", -1, SQLITE_STATIC);
          sqlite3_bind_int64 (a->attachment_insert, 3, attachment->size);
          bind_text_or_null (a->attachment_insert, 4, attachment->content_type);
          bind_text_or_null (a->attachment_insert, 5, attachment->url);
          if (!step (a, a->attachment_insert, NULL, error))
            return FALSE;
        }
    }

  sqlite3_bind_int64 (a->conv_derive, 1, conversation_id);
  return step (a, a->conv_derive, NULL, error);
}

static gboolean
apply_conversation (Applier               *a,
                    FdConversationRecord  *conv,
                    FdSyncStats           *stats,
                    GError               **error)
{
  g_autofree char *old_status = NULL;
  g_autofree char *old_priority = NULL;
  gint64 old_assignee = 0;
  gint64 conversation_id = 0;
  gint64 contact_id = 0;
  gint64 org_id;
  gint64 assignee_id;
  gboolean assignee_known;
  gboolean sla_moved;
  guint messages_before = stats->messages_new;
  gint64 at;

  if (conv->external_id == NULL || conv->channel == NULL)
    return TRUE;

  at = conv->updated_at > 0 ? conv->updated_at : a->now;

  /* The organisation comes from the record, or else from the contact. */
  org_id = lookup (a, a->lookup_org, conv->org_external_id);
  if (conv->contact_external_id != NULL)
    {
      sqlite3_bind_int64 (a->lookup_contact, 1, a->account_id);
      sqlite3_bind_text (a->lookup_contact, 2, conv->contact_external_id, -1, SQLITE_STATIC);
      if (sqlite3_step (a->lookup_contact) == SQLITE_ROW)
        {
          contact_id = sqlite3_column_int64 (a->lookup_contact, 0);
          if (org_id == 0)
            org_id = sqlite3_column_int64 (a->lookup_contact, 1);
        }
      sqlite3_reset (a->lookup_contact);
      sqlite3_clear_bindings (a->lookup_contact);
    }
  assignee_id = lookup (a, a->lookup_agent, conv->assignee_external_id);
  assignee_known = conv->assignee_known || conv->assignee_external_id != NULL;

  sqlite3_bind_int64 (a->conv_select, 1, a->account_id);
  sqlite3_bind_text (a->conv_select, 2, conv->external_id, -1, SQLITE_STATIC);
  if (sqlite3_step (a->conv_select) == SQLITE_ROW)
    {
      conversation_id = sqlite3_column_int64 (a->conv_select, 0);
      old_status = g_strdup ((const char *) sqlite3_column_text (a->conv_select, 1));
      old_assignee = sqlite3_column_int64 (a->conv_select, 2);
      old_priority = g_strdup ((const char *) sqlite3_column_text (a->conv_select, 3));
    }
  sqlite3_reset (a->conv_select);
  sqlite3_clear_bindings (a->conv_select);

  sla_moved = conversation_id == 0 ||
              (conv->status != NULL && (g_strcmp0 (old_status, conv->status) != 0 ||
                                        g_str_equal (conv->status, "snoozed"))) ||
              (conv->priority != NULL && g_strcmp0 (old_priority, conv->priority) != 0);

  if (conversation_id == 0)
    {
      gint64 created = conv->created_at > 0 ? conv->created_at : at;

      sqlite3_bind_int64 (a->conv_insert, 1, a->account_id);
      sqlite3_bind_text (a->conv_insert, 2, conv->external_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (a->conv_insert, 3, conv->channel, -1, SQLITE_STATIC);
      bind_text_or_null (a->conv_insert, 4, conv->subject);
      bind_id_or_null (a->conv_insert, 5, contact_id);
      bind_id_or_null (a->conv_insert, 6, org_id);
      bind_text_or_null (a->conv_insert, 7, conv->status);
      bind_text_or_null (a->conv_insert, 8, conv->priority);
      bind_id_or_null (a->conv_insert, 9, assignee_id);
      bind_id_or_null (a->conv_insert, 10, conv->snoozed_until);
      sqlite3_bind_int64 (a->conv_insert, 11, created);
      sqlite3_bind_int64 (a->conv_insert, 12, at);
      if (!step (a, a->conv_insert, &conversation_id, error))
        return FALSE;

      stats->conversations_new++;

      if (!add_event (a, conversation_id, "created", NULL, NULL, 0, created, error))
        return FALSE;
      if (conv->status != NULL && !g_str_equal (conv->status, "open") &&
          !add_event (a, conversation_id, "status", "open", conv->status, 0, at, error))
        return FALSE;
      if (assignee_id != 0 &&
          !add_event (a, conversation_id, "assigned", NULL, conv->assignee_external_id, 0, created, error))
        return FALSE;
    }
  else
    {
      sqlite3_bind_int64 (a->conv_update, 1, conversation_id);
      bind_text_or_null (a->conv_update, 2, conv->subject);
      bind_id_or_null (a->conv_update, 3, contact_id);
      bind_id_or_null (a->conv_update, 4, org_id);
      bind_text_or_null (a->conv_update, 5, conv->status);
      bind_text_or_null (a->conv_update, 6, conv->priority);
      bind_id_or_null (a->conv_update, 7, assignee_id);
      bind_id_or_null (a->conv_update, 8, conv->snoozed_until);
      sqlite3_bind_int64 (a->conv_update, 9, at);
      sqlite3_bind_int (a->conv_update, 10, assignee_known);
      if (!step (a, a->conv_update, NULL, error))
        return FALSE;

      stats->conversations_updated++;

      if (conv->status != NULL && g_strcmp0 (old_status, conv->status) != 0 &&
          !add_event (a, conversation_id, "status", old_status, conv->status, 0, at, error))
        return FALSE;
      if (conv->priority != NULL && g_strcmp0 (old_priority, conv->priority) != 0 &&
          !add_event (a, conversation_id, "priority", old_priority, conv->priority, 0, at, error))
        return FALSE;
      if (assignee_known && old_assignee != assignee_id &&
          !add_event (a, conversation_id, "assigned", NULL, conv->assignee_external_id, 0, at, error))
        return FALSE;
    }

  if (!apply_tags (a, conversation_id, conv, error) ||
      !apply_messages (a, conversation_id, conv, stats, error))
    return FALSE;

  /* A new conversation, new messages, a status or priority from the service move the
   * SLA due time; a page that repeats what is stored leaves it. */
  if (!sla_moved && stats->messages_new == messages_before)
    return TRUE;
  if (a->sla == NULL && !fd_sla_config_load (a->db, &a->sla, error))
    return FALSE;

  return fd_sla_update_conversation (a->db, a->sla, conversation_id, error);
}

static gboolean
store_cursor (Applier     *a,
              const char  *stream,
              const char  *cursor,
              GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (a->db,
                           "INSERT INTO sync_state (account_id, stream, cursor, last_sync_at) "
                           "VALUES (?1, ?2, ?3, ?4) "
                           "ON CONFLICT (account_id, stream) DO UPDATE SET "
                           "  cursor = ?3, last_sync_at = ?4",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, a->account_id);
  sqlite3_bind_text (stmt, 2, stream, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, cursor, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, a->now);

  if ((rc = sqlite3_step (stmt)) != SQLITE_DONE)
    return fd_store_set_error (a->db, rc, error);

  return TRUE;
}

gboolean
fd_sync_batch_apply (sqlite3      *db,
                     gint64        account_id,
                     const char   *stream,
                     FdSyncBatch  *batch,
                     FdSyncStats  *stats,
                     GError      **error)
{
  Applier a = { 0 };
  FdSyncStats local = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (batch != NULL, FALSE);

  if (!fd_store_begin (db, error))
    return FALSE;

  if (!applier_init (&a, db, account_id, error))
    goto out;

  /* Organisations before the contacts that belong to them, agents and contacts before
   * the conversations and messages that point at them. */
  for (guint i = 0; i < batch->organisations->len; i++)
    if (!apply_organisation (&a, g_ptr_array_index (batch->organisations, i), error))
      goto out;
  local.organisations = batch->organisations->len;

  for (guint i = 0; i < batch->agents->len; i++)
    if (!apply_agent (&a, g_ptr_array_index (batch->agents, i), error))
      goto out;

  for (guint i = 0; i < batch->contacts->len; i++)
    if (!apply_contact (&a, g_ptr_array_index (batch->contacts, i), error))
      goto out;
  local.contacts = batch->contacts->len;

  for (guint i = 0; i < batch->conversations->len; i++)
    if (!apply_conversation (&a, g_ptr_array_index (batch->conversations, i), &local, error))
      goto out;

  if (batch->cursor != NULL && !store_cursor (&a, stream, batch->cursor, error))
    goto out;

  applier_clear (&a);
  ok = fd_store_commit (db, error);

out:
  applier_clear (&a);
  g_clear_pointer (&a.sla, fd_sla_config_free);
  if (!ok)
    fd_store_rollback (db);
  else if (stats != NULL)
    fd_sync_stats_add (stats, &local);

  return ok;
}

gboolean
fd_sync_state_get_cursor (sqlite3     *db,
                          gint64       account_id,
                          const char  *stream,
                          char       **cursor,
                          GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (cursor != NULL, FALSE);

  *cursor = NULL;

  stmt = fd_store_prepare (db, "SELECT cursor FROM sync_state WHERE account_id = ?1 AND stream = ?2",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, account_id);
  sqlite3_bind_text (stmt, 2, stream, -1, SQLITE_STATIC);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *cursor = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  else if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

gboolean
fd_sync_state_record (sqlite3     *db,
                      gint64       account_id,
                      const char  *stream,
                      const char  *error_message,
                      GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = g_get_real_time () / 1000;
  int rc;

  stmt = fd_store_prepare (db,
                           "INSERT INTO sync_state (account_id, stream, last_sync_at, last_error, "
                           "  last_success_at) "
                           "VALUES (?1, ?2, ?3, ?4, CASE WHEN ?4 IS NULL THEN ?3 END) "
                           "ON CONFLICT (account_id, stream) DO UPDATE SET "
                           "  last_sync_at = ?3, last_error = ?4, "
                           "  last_success_at = CASE WHEN ?4 IS NULL THEN ?3 ELSE last_success_at END",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, account_id);
  sqlite3_bind_text (stmt, 2, stream, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, now);
  bind_text_or_null (stmt, 4, error_message);

  if ((rc = sqlite3_step (stmt)) != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}
