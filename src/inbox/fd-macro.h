/* fd-macro.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fd-inbox-store.h"

G_BEGIN_DECLS

/* Macros: saved replies with variables. Until the docs library lands they come from a
 * built-in starter set; then docs of kind "macro" join them.
 *
 * Variables are written {{name}}: contact.name, contact.first_name, contact.email,
 * org.name, org.plan, agent.name, agent.first_name, conversation.id,
 * conversation.subject. Unknown names are left visible and reported, never dropped. */

#define FD_TYPE_MACRO (fd_macro_get_type ())
G_DECLARE_FINAL_TYPE (FdMacro, fd_macro, FD, MACRO, GObject)

FdMacro    *fd_macro_new          (const char *id,
                                   const char *title,
                                   const char *body,
                                   gboolean    is_note);
const char *fd_macro_get_id       (FdMacro    *self);
const char *fd_macro_get_title    (FdMacro    *self);
const char *fd_macro_get_body     (FdMacro    *self);
/* A macro meant as an internal note (a hand-over template) rather than a reply. */
gboolean    fd_macro_get_is_note  (FdMacro    *self);

/* The built-in starter set, a new GListStore of FdMacro each call. */
GListStore *fd_macro_starter_set  (void);

/* The values of the variables for one conversation (every name above, "" where the
 * data is missing; all "" for a NULL @detail). contact.first_name is the first word of
 * the contact's name, or the local part of the email without a name; org.plan is the
 * plan's translated label ("Enterprise"). */
GHashTable *fd_macro_context_new  (const FdConversationDetail *detail);

/* Replaces every {{variable}} (spaces inside the braces allowed) in @body. Variables
 * with no value in @context are kept as written and their names added to @unknown (if
 * not NULL). A variable that is known but empty (a contact without a name) becomes ""
 * and is listed in @empty. Each name is added once, as a new string: make the arrays
 * with g_ptr_array_new_with_free_func (g_free). Values are not expanded again, and a
 * "{{" or "}}" that does not enclose a name is text. */
char       *fd_macro_expand       (const char *body,
                                   GHashTable *context,
                                   GPtrArray  *unknown,
                                   GPtrArray  *empty);

G_END_DECLS
