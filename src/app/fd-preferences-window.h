/* fd-preferences-window.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-application.h"

G_BEGIN_DECLS

#define FD_TYPE_PREFERENCES_WINDOW (fd_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (FdPreferencesWindow, fd_preferences_window, FD, PREFERENCES_WINDOW, AdwPreferencesWindow)

FdPreferencesWindow *fd_preferences_window_new (FdApplication *application);

G_END_DECLS
