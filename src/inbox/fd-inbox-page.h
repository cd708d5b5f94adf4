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
 *   inbox.resolve                 e         inbox.snooze            s (a popover)
 *   inbox.snooze-preset (s)       "later-today", "tomorrow", "next-week"
 *   inbox.snooze-until (x)        UTC ms
 *   inbox.assign-to-me            a         inbox.assign (x)        a teammate (0: nobody)
 *   inbox.tag                     t         inbox.add-tag (s)       inbox.remove-tag (s)
 *   inbox.set-status (s)                    inbox.set-priority (s)
 *   inbox.reply / inbox.note      r / n     conversation.reply / .note on the cursor's one
 *   inbox.search                  /, Ctrl+F inbox.sort (s)          "sla", "newest", …
 *   inbox.undo                              inbox.save-search
 *   inbox.select-all / inbox.select-none
 *   inbox.back                    Esc       leaves the search; back to the list in a narrow window
 *
 * Single-key shortcuts never fire while an entry or the composer has the focus.
 * Triage actions apply to every selected conversation (or the one shown, when nothing
 * is selected) and offer Undo in a toast. Side by side, the conversation view follows
 * the selection. */

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

/* Whether the window hides its sidebar ("window-folded"): the list then offers a way
 * back to it and carries the window's buttons. */
void                fd_inbox_page_set_window_folded (FdInboxPage   *self,
                                                     gboolean       folded);
/* Also the "sort" property, by name (fd_inbox_sort_to_name). */
FdInboxSort         fd_inbox_page_get_sort          (FdInboxPage   *self);
void                fd_inbox_page_set_sort          (FdInboxPage   *self,
                                                     FdInboxSort    sort);
FdInboxViewId       fd_inbox_page_get_view          (FdInboxPage   *self);
/* NULL unless a saved search is shown. */
FdSavedSearch      *fd_inbox_page_get_saved_search  (FdInboxPage   *self);

/* For tests. */
/* The conversations' list: a one-column GtkGridView. */
GtkWidget          *_fd_inbox_page_get_list_view    (FdInboxPage   *self);
FdConversationList *_fd_inbox_page_get_list         (FdInboxPage   *self);
GtkEditable        *_fd_inbox_page_get_search_entry (FdInboxPage   *self);
/* The inline message under the entry when a query cannot be used. */
GtkLabel           *_fd_inbox_page_get_search_error (FdInboxPage   *self);
GtkSelectionModel  *_fd_inbox_page_get_selection    (FdInboxPage   *self);
GtkPopover         *_fd_inbox_page_get_snooze_popover (FdInboxPage *self);
/* Pages "list", "empty" (an AdwStatusPage) and "loading". */
GtkStack           *_fd_inbox_page_get_list_stack   (FdInboxPage   *self);

/* Signals:
 *   "changed" (void): the agent changed conversations (counts should be read again).
 *   "back" (void): the agent asked to go back to the sidebar (narrow window). */

G_END_DECLS
