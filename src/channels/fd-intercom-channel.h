/* fd-intercom-channel.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "fd-channel.h"
#include "fd-http.h"

G_BEGIN_DECLS

#define FD_TYPE_INTERCOM_CHANNEL (fd_intercom_channel_get_type ())
G_DECLARE_FINAL_TYPE (FdIntercomChannel, fd_intercom_channel, FD, INTERCOM_CHANNEL, GObject)

/* Email and chat conversations from Intercom's REST API, with contacts, companies (as
 * organisations) and admins (as agents). @base_url is "https://api.intercom.io" or the
 * sandbox's "…/intercom". Intercom has no live connection for a desktop app (it uses
 * webhooks), so the engine syncs on a schedule. */
FdChannel    *fd_intercom_channel_new             (const char        *base_url,
                                                   const char        *access_token);
/* For tests: to shorten retries. */
FdHttpClient *fd_intercom_channel_get_http_client (FdIntercomChannel *self);

G_END_DECLS
