/* fd-channel.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fd-sync-batch.h"

G_BEGIN_DECLS

/* What an agent asks a channel to do; every kind goes through the outbox first. */
typedef enum
{
  FD_OUTBOX_REPLY,   /* payload: body */
  FD_OUTBOX_NOTE,    /* payload: body */
  FD_OUTBOX_STATUS,  /* payload: status ("open", "pending", "snoozed", "resolved"), snoozed_until */
  FD_OUTBOX_ASSIGN,  /* payload: assignee (external id, NULL to unassign) */
  FD_OUTBOX_TAG,     /* payload: tag (a name) */
  FD_OUTBOX_UNTAG,   /* payload: tag (a name) */
} FdOutboxKind;

const char *fd_outbox_kind_to_string   (FdOutboxKind  kind);
gboolean    fd_outbox_kind_from_string (const char   *str,
                                        FdOutboxKind *kind);

/* One action to send, as the outbox hands it to a channel. */
typedef struct
{
  gint64        id;
  FdOutboxKind  kind;
  char         *conversation_external_id;
  char         *idempotency_key;    /* the same on every retry of this action */
  char         *body;
  char         *status;
  gint64        snoozed_until;
  char         *assignee_external_id;
  char         *tag;
  char         *author_external_id; /* the agent acting, where the service needs one */
  guint         attempts;           /* including this one */
} FdOutboxItem;

void fd_outbox_item_free (FdOutboxItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdOutboxItem, fd_outbox_item_free)

#define FD_CHANNEL_ERROR (fd_channel_error_quark ())

typedef enum
{
  FD_CHANNEL_ERROR_FAILED,
  FD_CHANNEL_ERROR_UNSUPPORTED,   /* the service has no such action (e.g. tags on Slack) */
  FD_CHANNEL_ERROR_BAD_CURSOR,    /* a stored cursor the service no longer accepts */
} FdChannelError;

GQuark fd_channel_error_quark (void);

#define FD_TYPE_CHANNEL (fd_channel_get_type ())
G_DECLARE_INTERFACE (FdChannel, fd_channel, FD, CHANNEL, GObject)

struct _FdChannelInterface
{
  GTypeInterface parent_iface;

  /* Fetches the page after @cursor (NULL: the very first sync). The batch carries the
   * cursor to continue from; *has_more is FALSE when this sync is complete, and then the
   * batch's cursor is where the next, incremental, sync starts. */
  void          (*fetch_async)  (FdChannel            *self,
                                 const char           *cursor,
                                 GCancellable         *cancellable,
                                 GAsyncReadyCallback   callback,
                                 gpointer              user_data);
  FdSyncBatch  *(*fetch_finish) (FdChannel            *self,
                                 GAsyncResult         *result,
                                 gboolean             *has_more,
                                 GError              **error);

  /* Sends one outbox item. For a reply or note, returns the external id of the message
   * the service created (so the next sync recognises it); otherwise an empty string. */
  void          (*send_async)   (FdChannel            *self,
                                 const FdOutboxItem   *item,
                                 GCancellable         *cancellable,
                                 GAsyncReadyCallback   callback,
                                 gpointer              user_data);
  char         *(*send_finish)  (FdChannel            *self,
                                 GAsyncResult         *result,
                                 GError              **error);

  /* Optional: a live connection (Slack Socket Mode) that emits ::live-batch for each new
   * message and reconnects by itself until stopped. */
  void          (*start_live)   (FdChannel            *self);
  void          (*stop_live)    (FdChannel            *self);
};

void          fd_channel_fetch_async  (FdChannel            *self,
                                       const char           *cursor,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
FdSyncBatch  *fd_channel_fetch_finish (FdChannel            *self,
                                       GAsyncResult         *result,
                                       gboolean             *has_more,
                                       GError              **error);
void          fd_channel_send_async   (FdChannel            *self,
                                       const FdOutboxItem   *item,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
char         *fd_channel_send_finish  (FdChannel            *self,
                                       GAsyncResult         *result,
                                       GError              **error);
gboolean      fd_channel_has_live     (FdChannel            *self);
void          fd_channel_start_live   (FdChannel            *self);
void          fd_channel_stop_live    (FdChannel            *self);
/* For implementations: emits ::live-batch (the batch's cursor should be NULL). */
void          fd_channel_emit_live_batch (FdChannel         *self,
                                          FdSyncBatch       *batch);

G_END_DECLS
