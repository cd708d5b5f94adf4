/* fd-composer.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-inbox-store.h"

G_BEGIN_DECLS

/* The composer under a thread: a reply or an internal note, macros with a preview of
 * their resolved text, a draft per conversation saved as the agent types, and sending
 * through the outbox. Its buttons use the "conversation" actions of the view around it
 * (conversation.send, conversation.send-and-resolve). */

#define FD_TYPE_COMPOSER (fd_composer_get_type ())
G_DECLARE_FINAL_TYPE (FdComposer, fd_composer, FD, COMPOSER, GtkWidget)

GtkWidget   *fd_composer_new              (void);
void         fd_composer_set_store        (FdComposer                 *self,
                                           FdStore                    *store);
/* Saves the draft of the conversation shown before at once, empties the composer and
 * restores @conversation_id's draft and mode (0: none). */
void         fd_composer_set_conversation (FdComposer                 *self,
                                           gint64                      conversation_id);
gint64       fd_composer_get_conversation (FdComposer                 *self);
/* The values of the macro variables come from @detail (read during the call). */
void         fd_composer_set_detail       (FdComposer                 *self,
                                           const FdConversationDetail *detail);
/* A GListModel of FdMacro. */
void         fd_composer_set_macros       (FdComposer                 *self,
                                           GListModel                 *macros);
gboolean     fd_composer_get_is_note      (FdComposer                 *self);
void         fd_composer_set_is_note      (FdComposer                 *self,
                                           gboolean                    is_note);
/* TRUE when the text has more than white space ("has-text"). */
gboolean     fd_composer_get_has_text     (FdComposer                 *self);
/* TRUE while a send is being written to the outbox ("sending"). */
gboolean     fd_composer_get_sending      (FdComposer                 *self);
/* Writes the text to the outbox as a reply or note, then, with @resolve, resolves the
 * conversation. Emits "sent" once stored; on failure the text stays and the reason is
 * shown (a toast in an FdWindow, else under the composer). */
void         fd_composer_send             (FdComposer                 *self,
                                           gboolean                    resolve);
/* Tells the agent what went wrong: a toast in an FdWindow, else under the composer. */
void         fd_composer_show_error       (FdComposer                 *self,
                                           const char                 *message);
/* Writes the draft now, if it changed. */
void         fd_composer_save_draft       (FdComposer                 *self);
/* Opens the macro popover on @macro_id's preview; FALSE if there is no such macro. */
gboolean     fd_composer_preview_macro    (FdComposer                 *self,
                                           const char                 *macro_id);
void         fd_composer_focus            (FdComposer                 *self);
GtkTextView *fd_composer_get_text_view    (FdComposer                 *self);

/* Signals:
 *   "sent" (gboolean resolved): the text is in the outbox (and the conversation
 *       resolved); the composer is empty again and the draft deleted. */

G_END_DECLS
