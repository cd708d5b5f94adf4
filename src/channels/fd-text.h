/* fd-text.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Turns HTML from a service (Intercom, Discourse) into plain text with minimal markup:
 * paragraphs and line breaks, "• " list items ("1. " in ordered lists), "> " quotes,
 * preformatted text kept as it is, links as "label (url)", images as "[image: alt]".
 * Scripts, styles and anything the network would load are dropped; nothing is fetched.
 * Input over 1 MiB is cut first. Never returns NULL; NULL or "" gives "". The result is
 * valid UTF-8, trimmed, with at most one blank line between blocks. Thread-safe. */
char *fd_text_from_html (const char *html);

/* Returns the display name for a Slack user id (newly allocated), or NULL if unknown. */
typedef char *(*FdTextLookupFunc) (const char *id,
                                   gpointer    user_data);

/* Turns Slack mrkdwn into plain text: mentions (<@U123> through @resolve_user, or the id
 * when it returns NULL), channels, @here/@channel, links as "label (url)", the three
 * escapes &amp; &lt; &gt; decoded, *bold* _italic_ ~strike~ markers and ``` fences
 * removed. @resolve_user may be NULL. Never returns NULL. */
char *fd_text_from_slack_mrkdwn (const char       *mrkdwn,
                                 FdTextLookupFunc  resolve_user,
                                 gpointer          user_data);

G_END_DECLS
