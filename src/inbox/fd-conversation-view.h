/* fd-conversation-view.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-inbox-store.h"
#include "fd-macro.h"

G_BEGIN_DECLS

/* The detail pane of the inbox: the thread (messages, internal notes, attachments), the
 * composer (reply or internal note, macros, autosaved draft, send and send-and-resolve)
 * and the customer context panel (an AdwFlap, F9). Its actions, group "conversation":
 *
 *   conversation.reply              r      focus the composer in reply mode
 *   conversation.note               n      focus the composer in internal-note mode
 *   conversation.send                      send the composer's text
 *   conversation.send-and-resolve   Ctrl+Enter  send, then resolve
 *   conversation.insert-macro (s)          a macro id: preview, then insert resolved
 *   conversation.toggle-context     F9     show or hide the context panel
 *   conversation.open-attachment (x)       open with the desktop's app
 *   conversation.open-recent (x)           asks the page to open another conversation
 *   conversation.retry-send (x)            a message id: send a failed reply or note again
 *
 * conversation.reply and conversation.note work as soon as a conversation is asked
 * for: while it loads, the composer is focused once it shows.
 */

#define FD_TYPE_CONVERSATION_VIEW (fd_conversation_view_get_type ())
G_DECLARE_FINAL_TYPE (FdConversationView, fd_conversation_view, FD, CONVERSATION_VIEW, GtkWidget)

GtkWidget            *fd_conversation_view_new             (void);
void                  fd_conversation_view_set_store       (FdConversationView *self,
                                                            FdStore            *store);
/* Loads and shows a conversation (0: the empty state). The draft of the one shown
 * before is saved first. */
void                  fd_conversation_view_load            (FdConversationView *self,
                                                            gint64              conversation_id);
/* Reads the shown conversation again (after sync or a triage action), keeping the
 * composer's text and the scroll position. */
void                  fd_conversation_view_reload          (FdConversationView *self);
gint64                fd_conversation_view_get_conversation_id (FdConversationView *self);
/* NULL while loading or when nothing is shown. */
const FdConversationDetail *fd_conversation_view_get_detail (FdConversationView *self);
/* Words to highlight in the thread (from the search that found it); NULL clears. */
void                  fd_conversation_view_set_highlight   (FdConversationView *self,
                                                            const char * const *terms);
/* Macros offered in the composer (GListModel of FdMacro); the starter set by default. */
void                  fd_conversation_view_set_macros      (FdConversationView *self,
                                                            GListModel         *macros);
GListModel           *fd_conversation_view_get_macros      (FdConversationView *self);
/* Writes the draft now (the view also saves on its own as the agent types). */
void                  fd_conversation_view_save_draft      (FdConversationView *self);

/* For tests. */
GtkTextView          *_fd_conversation_view_get_composer_text (FdConversationView *self);
GtkListBox           *_fd_conversation_view_get_thread        (FdConversationView *self);

/* Signals:
 *   "changed" (void): the view sent something or changed the conversation; lists and
 *       counts should be read again.
 *   "open-conversation" (gint64): the agent asked for another conversation (recent list).
 *   "notify::detail" when a conversation has loaded (property "detail", a pointer to
 *       the FdConversationDetail, and "conversation-id"). */

G_END_DECLS
