/* fd-application.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-store.h"
#include "fd-sync-engine.h"

G_BEGIN_DECLS

#define FD_TYPE_APPLICATION (fd_application_get_type ())
G_DECLARE_FINAL_TYPE (FdApplication, fd_application, FD, APPLICATION, AdwApplication)

FdApplication *fd_application_new             (void);
/* The profile's store; opened asynchronously at start-up, so it may still be opening. */
FdStore       *fd_application_get_store       (FdApplication *self);
const char    *fd_application_get_profile_dir (FdApplication *self);
gboolean       fd_application_get_demo        (FdApplication *self);

/* TRUE once the store is open; notified as "store-ready". */
gboolean       fd_application_get_store_ready (FdApplication *self);
/* Why the store could not be opened, in plain words; notified as "store-error". */
const GError  *fd_application_get_store_error (FdApplication *self);

/* The engine that syncs the accounts, made once the store is open (NULL before that),
 * notified as "sync-engine". It is started at once, or in the demo once the demo server
 * runs and the demo accounts point at it. */
FdSyncEngine  *fd_application_get_sync_engine (FdApplication *self);
/* Why the demo's server or accounts could not be set up, in plain words, or NULL;
 * notified as "demo-error". The window stays usable. */
const GError  *fd_application_get_demo_error  (FdApplication *self);

/* Emits "accounts-changed" and has the sync engine read the accounts again: call after
 * adding or removing an account. */
void           fd_application_accounts_changed (FdApplication *self);

/* Presents the preferences window for the active window. */
void           fd_application_show_preferences (FdApplication *self);

G_END_DECLS
