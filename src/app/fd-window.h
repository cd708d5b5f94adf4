/* fd-window.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-application.h"

G_BEGIN_DECLS

/* The five areas, in sidebar order; also the names of the win.show-area targets. */
#define FD_AREA_INBOX     "inbox"
#define FD_AREA_CUSTOMERS "customers"
#define FD_AREA_BILLING   "billing"
#define FD_AREA_DOCS      "docs"
#define FD_AREA_INSIGHTS  "insights"

#define FD_TYPE_WINDOW (fd_window_get_type ())
G_DECLARE_FINAL_TYPE (FdWindow, fd_window, FD, WINDOW, AdwApplicationWindow)

/* Whether @name is one of the FD_AREA_* names. */
gboolean    fd_window_area_is_valid (const char *name);

FdWindow   *fd_window_new        (FdApplication *application);
const char *fd_window_get_area   (FdWindow      *self);
void        fd_window_show_area  (FdWindow      *self,
                                  const char    *area);
/* Shows a toast; @title is plain text (not markup). With @undo_action (a detailed
 * action name) it gets an Undo button. */
void        fd_window_add_toast  (FdWindow      *self,
                                  const char    *title,
                                  const char    *undo_action);

G_END_DECLS
