/* fd-store-private.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "fd-store.h"

G_BEGIN_DECLS

/* Forward-only migrations: _fd_store_migrations[i] takes a database from
 * user_version i to i + 1. */
extern const char * const _fd_store_migrations[];
extern const guint _fd_store_n_migrations;

/* Applies migrations until user_version == @target, each in its own transaction.
 * Refuses a database whose user_version is above what this binary knows. */
gboolean _fd_store_migrate (sqlite3  *db,
                            int       target,
                            GError  **error);

G_END_DECLS
