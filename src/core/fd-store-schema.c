/* fd-store-schema.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-store-schema"

#include "config.h"

#include "fd-store-private.h"

/* Times are UTC milliseconds since the epoch. Money is int64 minor units with an ISO 4217
 * code beside it. Every record that comes from a service carries (account_id, external_id)
 * so a repeated page is an upsert, never a duplicate. Secrets are never stored here: the
 * keyring holds them under accounts.uid. Never edit a migration that has shipped; add one. */

static const char migration_1[] =
  "CREATE TABLE accounts ("
  "  id INTEGER PRIMARY KEY,"
  "  uid TEXT NOT NULL UNIQUE,"
  "  kind TEXT NOT NULL CHECK (kind IN ('intercom','slack','discourse','stripe','linear')),"
  "  name TEXT NOT NULL,"
  "  base_url TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  settings_json TEXT NOT NULL DEFAULT '{}'"
  ");"

  "CREATE TABLE agents ("
  "  id INTEGER PRIMARY KEY,"
  "  account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,"
  "  external_id TEXT,"
  "  name TEXT NOT NULL,"
  "  email TEXT,"
  "  team TEXT,"
  "  is_me INTEGER NOT NULL DEFAULT 0,"
  "  UNIQUE (account_id, external_id)"
  ");"

  "CREATE TABLE organisations ("
  "  id INTEGER PRIMARY KEY,"
  "  account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,"
  "  external_id TEXT,"
  "  name TEXT NOT NULL,"
  "  plan TEXT NOT NULL DEFAULT 'free',"
  "  is_enterprise INTEGER NOT NULL DEFAULT 0,"
  "  seats_purchased INTEGER NOT NULL DEFAULT 0,"
  "  seats_used INTEGER NOT NULL DEFAULT 0,"
  "  renewal_at INTEGER,"
  "  stripe_customer_id TEXT,"
  "  sso_type TEXT CHECK (sso_type IS NULL OR sso_type IN ('saml','oidc')),"
  "  sso_idp TEXT,"
  "  sso_enforced INTEGER NOT NULL DEFAULT 0,"
  "  scim_enabled INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL,"
  "  UNIQUE (account_id, external_id)"
  ");"

  "CREATE TABLE organisation_domains ("
  "  organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,"
  "  domain TEXT NOT NULL,"
  "  verified INTEGER NOT NULL DEFAULT 0,"
  "  verification_token TEXT,"
  "  PRIMARY KEY (organisation_id, domain)"
  ");"

  "CREATE TABLE contacts ("
  "  id INTEGER PRIMARY KEY,"
  "  account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,"
  "  external_id TEXT,"
  "  organisation_id INTEGER REFERENCES organisations(id) ON DELETE SET NULL,"
  "  name TEXT NOT NULL,"
  "  email TEXT,"
  "  created_at INTEGER NOT NULL,"
  "  UNIQUE (account_id, external_id)"
  ");"
  "CREATE INDEX contacts_email ON contacts(email);"
  "CREATE INDEX contacts_organisation ON contacts(organisation_id);"

  "CREATE TABLE conversations ("
  "  id INTEGER PRIMARY KEY,"
  "  account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,"
  "  external_id TEXT,"
  "  channel TEXT NOT NULL CHECK (channel IN ('email','chat','slack','community')),"
  "  subject TEXT NOT NULL DEFAULT '',"
  "  snippet TEXT NOT NULL DEFAULT '',"
  "  contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,"
  "  organisation_id INTEGER REFERENCES organisations(id) ON DELETE SET NULL,"
  "  status TEXT NOT NULL DEFAULT 'open'"
  "    CHECK (status IN ('open','pending','snoozed','resolved')),"
  "  priority TEXT NOT NULL DEFAULT 'normal'"
  "    CHECK (priority IN ('urgent','high','normal','low')),"
  "  assignee_id INTEGER REFERENCES agents(id) ON DELETE SET NULL,"
  "  snoozed_until INTEGER,"
  "  created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL,"
  "  last_message_at INTEGER,"
  "  first_reply_at INTEGER,"
  "  resolved_at INTEGER,"
  "  reopen_count INTEGER NOT NULL DEFAULT 0,"
  "  first_reply_due_at INTEGER,"
  "  next_reply_due_at INTEGER,"
  "  resolution_due_at INTEGER,"
  "  UNIQUE (account_id, external_id)"
  ");"
  "CREATE INDEX conversations_status ON conversations(status, assignee_id);"
  "CREATE INDEX conversations_organisation ON conversations(organisation_id);"
  "CREATE INDEX conversations_created ON conversations(created_at);"
  "CREATE INDEX conversations_updated ON conversations(updated_at);"

  "CREATE TABLE tags ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE COLLATE NOCASE"
  ");"

  "CREATE TABLE conversation_tags ("
  "  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
  "  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
  "  PRIMARY KEY (conversation_id, tag_id)"
  ") WITHOUT ROWID;"
  "CREATE INDEX conversation_tags_tag ON conversation_tags(tag_id);"

  "CREATE TABLE messages ("
  "  id INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
  "  account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,"
  "  external_id TEXT,"
  "  author_kind TEXT NOT NULL CHECK (author_kind IN ('contact','agent','bot','system')),"
  "  author_id INTEGER,"
  "  author_name TEXT NOT NULL DEFAULT '',"
  "  is_note INTEGER NOT NULL DEFAULT 0,"
  "  body TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  UNIQUE (account_id, external_id)"
  ");"
  "CREATE INDEX messages_conversation ON messages(conversation_id, created_at);"

  /* External-content FTS5 index over messages, kept in step by triggers. */
  "CREATE VIRTUAL TABLE messages_fts USING fts5("
  "  body, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'"
  ");"
  "CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN"
  "  INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);"
  "END;"
  "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
  "  INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);"
  "END;"
  "CREATE TRIGGER messages_au AFTER UPDATE OF body ON messages BEGIN"
  "  INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);"
  "  INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);"
  "END;"

  "CREATE TABLE attachments ("
  "  id INTEGER PRIMARY KEY,"
  "  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  content_type TEXT,"
  "  url TEXT"
  ");"
  "CREATE INDEX attachments_message ON attachments(message_id);"

  /* Status changes and replies, the raw material of KPIs. */
  "CREATE TABLE events ("
  "  id INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
  "  kind TEXT NOT NULL CHECK (kind IN ('created','status','assigned','priority','tagged',"
  "                                     'untagged','reply','note','customer_message'))," 
  "  from_value TEXT,"
  "  to_value TEXT,"
  "  actor_id INTEGER REFERENCES agents(id) ON DELETE SET NULL,"
  "  created_at INTEGER NOT NULL"
  ");"
  "CREATE INDEX events_conversation ON events(conversation_id, created_at);"
  "CREATE INDEX events_time ON events(created_at, kind);"

  "CREATE TABLE csat ("
  "  id INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations(id) ON DELETE CASCADE,"
  "  rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),"
  "  comment TEXT,"
  "  created_at INTEGER NOT NULL"
  ");"

  /* Agent actions are written here first, then sent; the key is reused on every retry. */
  "CREATE TABLE outbox ("
  "  id INTEGER PRIMARY KEY,"
  "  account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,"
  "  conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,"
  "  kind TEXT NOT NULL,"
  "  payload_json TEXT NOT NULL DEFAULT '{}',"
  "  idempotency_key TEXT NOT NULL UNIQUE,"
  "  state TEXT NOT NULL DEFAULT 'pending'"
  "    CHECK (state IN ('pending','sending','sent','failed')),"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  last_error TEXT,"
  "  created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL"
  ");"
  "CREATE INDEX outbox_state ON outbox(state, id);"

  "CREATE TABLE sync_state ("
  "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
  "  stream TEXT NOT NULL,"
  "  cursor TEXT,"
  "  last_sync_at INTEGER,"
  "  last_error TEXT,"
  "  PRIMARY KEY (account_id, stream)"
  ");"

  "CREATE TABLE audit_log ("
  "  id INTEGER PRIMARY KEY,"
  "  at INTEGER NOT NULL,"
  "  actor TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  subject TEXT,"
  "  detail_json TEXT NOT NULL DEFAULT '{}'"
  ");"
  "CREATE INDEX audit_log_at ON audit_log(at);";

static const char migration_2[] =
  "CREATE TABLE feedback ("
  "  id INTEGER PRIMARY KEY,"
  "  organisation_id INTEGER REFERENCES organisations(id) ON DELETE SET NULL,"
  "  conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,"
  "  message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,"
  "  area TEXT NOT NULL,"
  "  request TEXT NOT NULL,"
  "  impact TEXT,"
  "  quote TEXT,"
  "  created_at INTEGER NOT NULL"
  ");"

  "CREATE TABLE docs ("
  "  id INTEGER PRIMARY KEY,"
  "  path TEXT NOT NULL UNIQUE,"
  "  kind TEXT NOT NULL CHECK (kind IN ('article','faq','macro','sop','decision_tree')),"
  "  title TEXT NOT NULL,"
  "  collection TEXT,"
  "  status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','in_review','published')),"
  "  reviewed_at INTEGER,"
  "  updated_at INTEGER NOT NULL"
  ");"

  /* The inbox's SLA view sorts on the earliest due time of an open conversation. */
  "CREATE INDEX conversations_sla ON conversations(status, resolution_due_at);"
  "CREATE INDEX conversations_contact ON conversations(contact_id);";

/* The outbox: a reply shows in the thread at once as "sending", linked to the outbox
 * entry that sends it; retries are scheduled, not immediate. */
static const char migration_3[] =
  "ALTER TABLE messages ADD COLUMN send_state TEXT"
  "  CHECK (send_state IS NULL OR send_state IN ('sending','sent','failed'));"
  "ALTER TABLE outbox ADD COLUMN message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL;"
  "ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;"
  "CREATE INDEX outbox_account ON outbox(account_id, state, id);"
  "ALTER TABLE sync_state ADD COLUMN last_success_at INTEGER;";

/* The inbox: subjects are searched with the messages; every conversation carries the
 * due time of its next SLA target and the moment it turns "at risk" (under 25 % of the
 * target left, in business time), so views and sorting by SLA are index lookups. The
 * SLA engine (inbox/fd-sla.c) keeps both columns; NULL means no target is running. */
static const char migration_4[] =
  "CREATE VIRTUAL TABLE conversations_fts USING fts5("
  "  subject, content='conversations', content_rowid='id',"
  "  tokenize='unicode61 remove_diacritics 2'"
  ");"
  "INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild');"
  "CREATE TRIGGER conversations_ai AFTER INSERT ON conversations BEGIN"
  "  INSERT INTO conversations_fts(rowid, subject) VALUES (new.id, new.subject);"
  "END;"
  "CREATE TRIGGER conversations_ad AFTER DELETE ON conversations BEGIN"
  "  INSERT INTO conversations_fts(conversations_fts, rowid, subject)"
  "    VALUES ('delete', old.id, old.subject);"
  "END;"
  "CREATE TRIGGER conversations_au AFTER UPDATE OF subject ON conversations BEGIN"
  "  INSERT INTO conversations_fts(conversations_fts, rowid, subject)"
  "    VALUES ('delete', old.id, old.subject);"
  "  INSERT INTO conversations_fts(rowid, subject) VALUES (new.id, new.subject);"
  "END;"

  "ALTER TABLE conversations ADD COLUMN sla_target TEXT"
  "  CHECK (sla_target IS NULL OR sla_target IN ('first_reply','next_reply','resolution'));"
  "ALTER TABLE conversations ADD COLUMN sla_due_at INTEGER;"
  "ALTER TABLE conversations ADD COLUMN sla_risk_at INTEGER;"
  /* When the agent was last told this conversation is about to breach. */
  "ALTER TABLE conversations ADD COLUMN sla_alerted_at INTEGER;"
  "CREATE INDEX conversations_sla_due ON conversations(status, sla_due_at);"
  "CREATE INDEX conversations_sla_risk ON conversations(status, sla_risk_at);"
  "CREATE INDEX conversations_last_message ON conversations(status, last_message_at);"
  "CREATE INDEX conversations_assignee ON conversations(assignee_id, status, last_message_at);"
  "CREATE INDEX conversations_priority ON conversations(status,"
  "  (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END),"
  "  sla_due_at);"

  /* One draft per conversation, written as the agent types. */
  "CREATE TABLE drafts ("
  "  conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,"
  "  is_note INTEGER NOT NULL DEFAULT 0,"
  "  body TEXT NOT NULL,"
  "  updated_at INTEGER NOT NULL"
  ");"

  "CREATE TABLE saved_searches ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  query TEXT NOT NULL,"
  "  position INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL"
  ");"

  /* Targets in business minutes; NULL: no target of that kind. */
  "CREATE TABLE sla_policies ("
  "  plan TEXT NOT NULL,"
  "  priority TEXT NOT NULL CHECK (priority IN ('urgent','high','normal','low')),"
  "  first_reply_minutes INTEGER CHECK (first_reply_minutes IS NULL OR first_reply_minutes > 0),"
  "  next_reply_minutes INTEGER CHECK (next_reply_minutes IS NULL OR next_reply_minutes > 0),"
  "  resolution_minutes INTEGER CHECK (resolution_minutes IS NULL OR resolution_minutes > 0),"
  "  PRIMARY KEY (plan, priority)"
  ");"
  /* The business calendar: one row. hours_json holds seven [start, end] minute pairs,
   * Monday first, in the calendar's time zone; null for a closed day. */
  "CREATE TABLE sla_calendar ("
  "  id INTEGER PRIMARY KEY CHECK (id = 1),"
  "  time_zone TEXT NOT NULL,"
  "  hours_json TEXT NOT NULL"
  ");"
  "CREATE TABLE sla_holidays ("
  "  day TEXT PRIMARY KEY," /* YYYY-MM-DD in the calendar's time zone */
  "  name TEXT NOT NULL DEFAULT ''"
  ");";

/* Billing: every money-moving request is stored with its idempotency key before it is
 * sent, so that a retry after a dropped connection or a crash reuses the key. */
static const char migration_5[] =
  "CREATE TABLE billing_actions ("
  "  id INTEGER PRIMARY KEY,"
  "  kind TEXT NOT NULL,"
  "  customer_id TEXT,"
  "  target_id TEXT,"
  "  conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,"
  "  method TEXT NOT NULL CHECK (method IN ('POST','DELETE')),"
  "  path TEXT NOT NULL,"
  "  params_json TEXT NOT NULL DEFAULT '[]',"
  "  idempotency_key TEXT NOT NULL UNIQUE,"
  "  description TEXT NOT NULL DEFAULT '',"
  "  amount INTEGER,"
  "  currency TEXT,"
  "  agent TEXT,"
  "  state TEXT NOT NULL DEFAULT 'sending'"
  "    CHECK (state IN ('sending','done','failed')),"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  request_id TEXT,"
  "  result_id TEXT,"
  "  last_error TEXT,"
  "  created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL"
  ");"
  "CREATE INDEX billing_actions_state ON billing_actions(state, id);";

const char * const _fd_store_migrations[] = {
  migration_1,
  migration_2,
  migration_3,
  migration_4,
  migration_5,
};

const guint _fd_store_n_migrations = G_N_ELEMENTS (_fd_store_migrations);

int
fd_store_schema_version (void)
{
  return (int) _fd_store_n_migrations;
}
