/* fd-window-private.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "fd-inbox-page.h"
#include "fd-sync-foot.h"
#include "fd-window.h"

G_BEGIN_DECLS

/* For tests: the number of open conversations shown beside Inbox, or -1 while it is
 * still being counted (or could not be). */
gint64     _fd_window_get_open_count    (FdWindow *self);
/* For tests: the stack holding one page per area, named by FD_AREA_*. */
GtkStack  *_fd_window_get_content_stack (FdWindow *self);
/* For tests: the sidebar's foot with the accounts' sync state. */
FdSyncFoot *_fd_window_get_sync_foot    (FdWindow *self);
/* Counts every Inbox view and saved search again (on the store's worker thread) and
 * reads the Inbox's list again: after snoozes woke or a sync round. */
void       _fd_window_reload_counts     (FdWindow *self);
/* For tests: the Inbox area, and the count shown beside a view (-1: not counted). */
FdInboxPage *_fd_window_get_inbox_page  (FdWindow *self);
gint64     _fd_window_get_view_count    (FdWindow      *self,
                                         FdInboxViewId  view);
/* For tests: the saved searches listed in the sidebar (GListModel of FdSavedSearch). */
GListModel *_fd_window_get_saved_searches (FdWindow *self);
/* For tests: the count shown beside saved search @index, or NULL while there is none. */
const char *_fd_window_get_saved_count_text (FdWindow *self,
                                             guint     index);

G_END_DECLS
