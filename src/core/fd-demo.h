/* fd-demo.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fd-store.h"

G_BEGIN_DECLS

typedef enum
{
  FD_DEMO_SCALE_SMALL, /* ~40 organisations, 2,000 contacts, 5,000 conversations */
  FD_DEMO_SCALE_LARGE, /* 100,000 conversations, 1,000,000 messages, for benchmarks */
  FD_DEMO_SCALE_MEDIUM,/* 10,000 conversations, ~50,000 messages: the sync benchmark */
} FdDemoScale;

typedef struct
{
  guint  organisations;
  guint  contacts;
  guint  conversations;
  guint  messages;
  gint64 elapsed_usec;
} FdDemoStats;

/* Fills an empty, migrated database with a deterministic data set: the same @seed and
 * @now_ms give the same rows. Runs in one transaction; on error nothing is written.
 * Worker thread only (use it as, or inside, an FdStoreJobFunc). */
gboolean fd_demo_generate        (sqlite3              *db,
                                  guint32               seed,
                                  FdDemoScale           scale,
                                  gint64                now_ms,
                                  FdDemoStats          *stats,
                                  GError              **error);

/* Whether the database already holds conversations. */
gboolean fd_demo_is_seeded       (sqlite3              *db,
                                  gboolean             *seeded,
                                  GError              **error);

/* Seeds @store unless it already holds conversations. */
void     fd_demo_ensure_async    (FdStore              *store,
                                  guint32               seed,
                                  FdDemoScale           scale,
                                  GCancellable         *cancellable,
                                  GAsyncReadyCallback   callback,
                                  gpointer              user_data);
gboolean fd_demo_ensure_finish   (FdStore              *store,
                                  GAsyncResult         *result,
                                  GError              **error);

G_END_DECLS
