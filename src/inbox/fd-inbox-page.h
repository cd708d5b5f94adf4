/* fd-inbox-page.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-conversation-view.h"
#include "fd-inbox-store.h"

G_BEGIN_DECLS

/* The Inbox area: the conversation list of a view, saved search or search (with its own
 * header: search, sort, bulk actions) beside the conversation view. Its actions, group
 * "inbox" (the shortcuts window lists them):
 *
 *   inbox.next / inbox.previous   j / k     inbox.open              Enter
 *   inbox.resolve                 e         inbox.snooze            s
 *   inbox.assign-to-me            a         inbox.assign (x)        a teammate (0: nobody)
 *   inbox.tag                     t         inbox.set-status (s)    inbox.set-priority (s)
 *   inbox.search                  /, Ctrl+F inbox.sort (s)          "sla", "newest", …
 *   inbox.undo                              inbox.save-search
 *   inbox.back                    Esc       back to the list in a narrow window
 *
 * Triage actions apply to every selected conversation. */

#define FD_TYPE_INBOX_PAGE (fd_inbox_page_get_type ())
G_DECLARE_FINAL_TYPE (FdInboxPage, fd_inbox_page, FD, INBOX_PAGE, GtkWidget)

GtkWidget          *fd_inbox_page_new               (void);
void                fd_inbox_page_set_store         (FdInboxPage   *self,
                                                     FdStore       *store);
void                fd_inbox_page_show_view         (FdInboxPage   *self,
                                                     FdInboxViewId  view);
void                fd_inbox_page_show_saved_search (FdInboxPage   *self,
                                                     FdSavedSearch *search);
/* Selects and opens it, leaving any search if it is not in the list. */
void                fd_inbox_page_open_conversation (FdInboxPage   *self,
                                                     gint64         conversation_id);
/* After a sync: lists and the open conversation are read again. */
void                fd_inbox_page_reload            (FdInboxPage   *self);
void                fd_inbox_page_focus_search      (FdInboxPage   *self);
/* The conversations opened most recently, newest first (for the command palette):
 * a GListModel of FdConversationSummary. */
GListModel         *fd_inbox_page_get_recent        (FdInboxPage   *self);
FdConversationView *fd_inbox_page_get_conversation_view (FdInboxPage *self);

/* For tests. */
GtkListView        *_fd_inbox_page_get_list_view    (FdInboxPage   *self);
FdConversationList *_fd_inbox_page_get_list         (FdInboxPage   *self);
GtkEditable        *_fd_inbox_page_get_search_entry (FdInboxPage   *self);

/* Signals:
 *   "changed" (void): the agent changed conversations (counts should be read again).
 *   "back" (void): the agent asked to go back to the sidebar (narrow window). */

G_END_DECLS
