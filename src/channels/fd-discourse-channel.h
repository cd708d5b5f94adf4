/* fd-discourse-channel.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "fd-channel.h"
#include "fd-http.h"

G_BEGIN_DECLS

#define FD_TYPE_DISCOURSE_CHANNEL (fd_discourse_channel_get_type ())
G_DECLARE_FINAL_TYPE (FdDiscourseChannel, fd_discourse_channel, FD, DISCOURSE_CHANNEL, GObject)

/* A Discourse forum as a channel: the topics of the chosen categories (and of their
 * subcategories) are conversations, their posts messages, replies new posts.
 * @category_ids holds category ids as decimal strings; NULL or empty means every
 * category the API user can see. */
FdChannel    *fd_discourse_channel_new             (const char         *base_url,
                                                    const char         *api_key,
                                                    const char         *api_username,
                                                    const char * const *category_ids);
FdHttpClient *fd_discourse_channel_get_http_client (FdDiscourseChannel *self);

/* About how many posts one batch may hold before the sync stops part-way through a page
 * of topics and goes on with the next fetch (default 1000). A topic is never split, and
 * the topics fetched at the same time all go in, so a batch can hold somewhat more. */
void          fd_discourse_channel_set_batch_limit (FdDiscourseChannel *self,
                                                    guint               max_posts);

G_END_DECLS
