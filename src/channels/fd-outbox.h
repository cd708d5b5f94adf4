/* fd-outbox.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fd-channel.h"
#include "fd-store.h"

G_BEGIN_DECLS

/* After this many failed attempts an action is marked failed and waits for Retry. */
#define FD_OUTBOX_MAX_ATTEMPTS 6

/* What an agent asked for, before it is written to the outbox. */
typedef struct
{
  gint64        conversation_id;
  FdOutboxKind  kind;
  char         *body;             /* reply, note */
  char         *status;           /* status */
  gint64        snoozed_until;    /* status "snoozed" */
  gint64        assignee_id;      /* assign: an agents.id, 0 to unassign */
  char         *tag;              /* tag, untag */
} FdOutboxRequest;

void     fd_outbox_request_free      (FdOutboxRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdOutboxRequest, fd_outbox_request_free)

/* Writes the action to the outbox and applies it to the local copy at once, in one
 * transaction: a reply or note appears in the thread as "sending", a status, assignee or
 * tag change shows immediately. Conversations that belong to no account are local and
 * the action is complete when stored. Returns the outbox id (as gint64*). */
void     fd_outbox_enqueue_async     (FdStore              *store,
                                      FdOutboxRequest      *request,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gint64   fd_outbox_enqueue_finish    (FdStore              *store,
                                      GAsyncResult         *result,
                                      GError              **error);

/* Puts a failed action back in line, with its original idempotency key. */
void     fd_outbox_retry_async       (FdStore              *store,
                                      gint64                outbox_id,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gboolean fd_outbox_retry_finish      (FdStore              *store,
                                      GAsyncResult         *result,
                                      GError              **error);

/* Worker-thread functions, for the sync engine and tests. */
gboolean fd_outbox_enqueue           (sqlite3              *db,
                                      const FdOutboxRequest *request,
                                      gint64               *outbox_id,
                                      GError              **error);
/* Actions left "sending" by a crash go back to "pending": they are resent with the same
 * idempotency key, which the service deduplicates. */
gboolean fd_outbox_recover           (sqlite3              *db,
                                      GError              **error);
/* The oldest pending action of @account_id, if it is due; later ones wait behind it so
 * actions reach the service in the order the agent took them. Marks it "sending". */
gboolean fd_outbox_take_next         (sqlite3              *db,
                                      gint64                account_id,
                                      gint64                now_ms,
                                      FdOutboxItem        **item,
                                      GError              **error);
/* @external_id: the id of the message the service created, or "" / NULL. */
gboolean fd_outbox_mark_sent         (sqlite3              *db,
                                      gint64                outbox_id,
                                      const char           *external_id,
                                      GError              **error);
/* A transient failure is retried at @retry_at_ms unless attempts are used up; a
 * permanent one (the service refused) is failed at once. */
gboolean fd_outbox_mark_failed       (sqlite3              *db,
                                      gint64                outbox_id,
                                      const char           *reason,
                                      gboolean              permanent,
                                      gint64                retry_at_ms,
                                      GError              **error);
gboolean fd_outbox_retry             (sqlite3              *db,
                                      gint64                outbox_id,
                                      GError              **error);

G_END_DECLS
