/* fd-conversation-row.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-inbox-store.h"

G_BEGIN_DECLS

/* One row of the inbox's conversation list, drawn from an FdConversationSummary: channel,
 * contact and organisation, subject and snippet, tags, priority, assignee, age and the
 * SLA countdown. A placeholder summary (not loaded yet) draws an empty row of the same
 * height; the row follows the summary as it fills in. Mapped rows refresh their age and
 * countdown once a minute. */

#define FD_TYPE_CONVERSATION_ROW (fd_conversation_row_get_type ())
G_DECLARE_FINAL_TYPE (FdConversationRow, fd_conversation_row, FD, CONVERSATION_ROW, GtkWidget)

GtkWidget             *fd_conversation_row_new         (void);
FdConversationSummary *fd_conversation_row_get_summary (FdConversationRow     *self);
void                   fd_conversation_row_set_summary (FdConversationRow     *self,
                                                        FdConversationSummary *summary);
/* Draws the age and the SLA countdown as of @now_ms (UTC milliseconds). */
void                   fd_conversation_row_update_time (FdConversationRow     *self,
                                                        gint64                 now_ms);

/* "5 min", "3 h", "2 d" from @then_ms to @now_ms; "now" under a minute. */
char                  *_fd_conversation_row_format_age (gint64                 then_ms,
                                                        gint64                 now_ms);

G_END_DECLS
