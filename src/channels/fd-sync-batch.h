/* fd-sync-batch.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* Normalised records, what every connector hands to the store. Strings are owned;
 * NULL means "unknown, keep what is stored". Times are UTC milliseconds. */

typedef struct
{
  char   *external_id;
  char   *name;
  char   *plan;
  char  **domains;
  gint64  seats_purchased;     /* < 0: unknown */
  gint64  seats_used;          /* < 0: unknown */
  char   *stripe_customer_id;
} FdOrgRecord;

typedef struct
{
  char   *external_id;
  char   *org_external_id;
  char   *name;
  char   *email;
  gint64  created_at;
} FdContactRecord;

typedef struct
{
  char     *external_id;
  char     *name;
  char     *email;
  gboolean  is_me;    /* the person whose token the account uses */
} FdAgentRecord;

typedef struct
{
  char   *name;
  gint64  size;
  char   *content_type;
  char   *url;
} FdAttachmentRecord;

typedef struct
{
  char       *external_id;
  const char *author_kind;          /* "contact", "agent", "bot", "system" */
  char       *author_external_id;   /* a contact's or an agent's external id */
  char       *author_name;
  gboolean    is_note;
  char       *body;                 /* plain text, already normalised */
  gint64      created_at;
  GPtrArray  *attachments;          /* FdAttachmentRecord */
} FdMessageRecord;

typedef struct
{
  char       *external_id;
  const char *channel;              /* "email", "chat", "slack", "community" */
  char       *subject;
  char       *contact_external_id;
  char       *org_external_id;
  const char *status;               /* "open", "pending", "snoozed", "resolved", or NULL */
  const char *priority;             /* "urgent", "high", "normal", "low", or NULL */
  char       *assignee_external_id;
  gboolean    assignee_known;       /* FALSE: the service does not say; keep the local one */
  gint64      snoozed_until;        /* only stored together with a status */
  gint64      created_at;
  gint64      updated_at;
  char      **tags;                 /* NULL: unknown, keep; empty: none */
  GPtrArray  *messages;             /* FdMessageRecord; may be a subset (new ones only) */
} FdConversationRecord;

/* One page of changes from one account, applied in one transaction together with the
 * cursor that follows it: after a crash, a sync resumes exactly after the last page
 * that was stored, and a page applied twice changes nothing. */
typedef struct
{
  GPtrArray *organisations;  /* FdOrgRecord */
  GPtrArray *contacts;       /* FdContactRecord */
  GPtrArray *agents;         /* FdAgentRecord */
  GPtrArray *conversations;  /* FdConversationRecord */
  char      *cursor;         /* where the next fetch starts; NULL keeps the stored one */
} FdSyncBatch;

typedef struct
{
  guint organisations;
  guint contacts;
  guint conversations_new;
  guint conversations_updated;
  guint messages_new;
} FdSyncStats;

FdSyncBatch          *fd_sync_batch_new                (void);
void                  fd_sync_batch_free               (FdSyncBatch          *batch);
FdOrgRecord          *fd_sync_batch_add_organisation   (FdSyncBatch          *batch);
FdContactRecord      *fd_sync_batch_add_contact        (FdSyncBatch          *batch);
FdAgentRecord        *fd_sync_batch_add_agent          (FdSyncBatch          *batch);
FdConversationRecord *fd_sync_batch_add_conversation   (FdSyncBatch          *batch);
FdMessageRecord      *fd_conversation_record_add_message (FdConversationRecord *conversation);
FdAttachmentRecord   *fd_message_record_add_attachment (FdMessageRecord      *message);
gboolean              fd_sync_batch_is_empty           (FdSyncBatch          *batch);

void                  fd_sync_stats_add                (FdSyncStats          *total,
                                                        const FdSyncStats    *more);

/* Worker thread (an FdStoreJobFunc body). Upserts by (account, external id), keeps the
 * derived columns (snippet, last message, first reply, resolution, reopen count) and the
 * events KPIs are computed from, and stores @stream's cursor, all in one transaction. */
gboolean              fd_sync_batch_apply              (sqlite3              *db,
                                                        gint64                account_id,
                                                        const char           *stream,
                                                        FdSyncBatch          *batch,
                                                        FdSyncStats          *stats,
                                                        GError              **error);

/* Worker thread. The stored cursor of @stream, or NULL before the first sync. */
gboolean              fd_sync_state_get_cursor         (sqlite3              *db,
                                                        gint64                account_id,
                                                        const char           *stream,
                                                        char                **cursor,
                                                        GError              **error);

/* Worker thread. Records the outcome of a sync attempt: @error_message NULL for success. */
gboolean              fd_sync_state_record             (sqlite3              *db,
                                                        gint64                account_id,
                                                        const char           *stream,
                                                        const char           *error_message,
                                                        GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSyncBatch, fd_sync_batch_free)

G_END_DECLS
