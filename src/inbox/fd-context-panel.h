/* fd-context-panel.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-inbox-store.h"

G_BEGIN_DECLS

/* The customer beside a conversation: the contact, the organisation (plan, seats,
 * renewal, single sign-on, SCIM, domains, billing), the organisation's recent
 * conversations and linked bugs. */

#define FD_TYPE_CONTEXT_PANEL (fd_context_panel_get_type ())
G_DECLARE_FINAL_TYPE (FdContextPanel, fd_context_panel, FD, CONTEXT_PANEL, GtkWidget)

GtkWidget *fd_context_panel_new        (void);
/* Shows @detail's customer (read during the call, not kept); NULL clears. */
void       fd_context_panel_set_detail (FdContextPanel             *self,
                                        const FdConversationDetail *detail);

/* Signals:
 *   "open-conversation" (gint64): the agent chose one of the recent conversations. */

G_END_DECLS
