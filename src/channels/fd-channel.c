/* fd-channel.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-channel"

#include "config.h"

#include "fd-channel.h"

G_DEFINE_INTERFACE (FdChannel, fd_channel, G_TYPE_OBJECT)

G_DEFINE_QUARK (fd-channel-error-quark, fd_channel_error)

static const char * const kind_names[] = {
  [FD_OUTBOX_REPLY] = "reply",
  [FD_OUTBOX_NOTE] = "note",
  [FD_OUTBOX_STATUS] = "status",
  [FD_OUTBOX_ASSIGN] = "assign",
  [FD_OUTBOX_TAG] = "tag",
  [FD_OUTBOX_UNTAG] = "untag",
};

const char *
fd_outbox_kind_to_string (FdOutboxKind kind)
{
  g_return_val_if_fail (kind < G_N_ELEMENTS (kind_names), NULL);

  return kind_names[kind];
}

gboolean
fd_outbox_kind_from_string (const char   *str,
                            FdOutboxKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    {
      if (g_strcmp0 (str, kind_names[i]) == 0)
        {
          *kind = i;
          return TRUE;
        }
    }

  return FALSE;
}

void
fd_outbox_item_free (FdOutboxItem *item)
{
  if (item == NULL)
    return;

  g_free (item->conversation_external_id);
  g_free (item->idempotency_key);
  g_free (item->body);
  g_free (item->status);
  g_free (item->assignee_external_id);
  g_free (item->tag);
  g_free (item->author_external_id);
  g_free (item);
}

static guint live_batch_signal;

static void
fd_channel_default_init (FdChannelInterface *iface)
{
  /**
   * FdChannel::live-batch:
   * @batch: (transfer none): an FdSyncBatch with what just arrived
   *
   * A live connection delivered new messages; the handler stores them.
   */
  live_batch_signal =
    g_signal_new ("live-batch",
                  G_TYPE_FROM_INTERFACE (iface),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);
}

void
fd_channel_fetch_async (FdChannel           *self,
                        const char          *cursor,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (FD_IS_CHANNEL (self));

  FD_CHANNEL_GET_IFACE (self)->fetch_async (self, cursor, cancellable, callback, user_data);
}

FdSyncBatch *
fd_channel_fetch_finish (FdChannel     *self,
                         GAsyncResult  *result,
                         gboolean      *has_more,
                         GError       **error)
{
  gboolean more = FALSE;
  FdSyncBatch *batch;

  g_return_val_if_fail (FD_IS_CHANNEL (self), NULL);

  batch = FD_CHANNEL_GET_IFACE (self)->fetch_finish (self, result, &more, error);
  if (has_more != NULL)
    *has_more = batch != NULL && more;

  return batch;
}

void
fd_channel_send_async (FdChannel           *self,
                       const FdOutboxItem  *item,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_return_if_fail (FD_IS_CHANNEL (self));
  g_return_if_fail (item != NULL);

  FD_CHANNEL_GET_IFACE (self)->send_async (self, item, cancellable, callback, user_data);
}

char *
fd_channel_send_finish (FdChannel     *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (FD_IS_CHANNEL (self), NULL);

  return FD_CHANNEL_GET_IFACE (self)->send_finish (self, result, error);
}

gboolean
fd_channel_has_live (FdChannel *self)
{
  g_return_val_if_fail (FD_IS_CHANNEL (self), FALSE);

  return FD_CHANNEL_GET_IFACE (self)->start_live != NULL;
}

void
fd_channel_start_live (FdChannel *self)
{
  g_return_if_fail (FD_IS_CHANNEL (self));

  if (FD_CHANNEL_GET_IFACE (self)->start_live != NULL)
    FD_CHANNEL_GET_IFACE (self)->start_live (self);
}

void
fd_channel_stop_live (FdChannel *self)
{
  g_return_if_fail (FD_IS_CHANNEL (self));

  if (FD_CHANNEL_GET_IFACE (self)->stop_live != NULL)
    FD_CHANNEL_GET_IFACE (self)->stop_live (self);
}

void
fd_channel_emit_live_batch (FdChannel   *self,
                            FdSyncBatch *batch)
{
  g_return_if_fail (FD_IS_CHANNEL (self));
  g_return_if_fail (batch != NULL);

  g_signal_emit (self, live_batch_signal, 0, batch);
}
