/* fd-slack-channel.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "fd-channel.h"
#include "fd-http.h"

G_BEGIN_DECLS

/* The state of the Socket Mode connection, for the UI. */
typedef enum
{
  FD_SLACK_LIVE_STOPPED,       /* not started, stopped, or no app-level token */
  FD_SLACK_LIVE_CONNECTING,    /* first connection since start_live */
  FD_SLACK_LIVE_CONNECTED,     /* Slack said hello; events arrive */
  FD_SLACK_LIVE_RECONNECTING,  /* the connection dropped or Slack asked to reconnect */
} FdSlackLiveState;

#define FD_TYPE_SLACK_LIVE_STATE (fd_slack_live_state_get_type ())
GType fd_slack_live_state_get_type (void);

#define FD_TYPE_SLACK_CHANNEL (fd_slack_channel_get_type ())
G_DECLARE_FINAL_TYPE (FdSlackChannel, fd_slack_channel, FD, SLACK_CHANNEL, GObject)

/* Slack Connect channels as organisations, their threads as conversations.
 * @base_url is the Web API root ("https://slack.com/api"); @bot_token is the bot token
 * (xoxb-…); @app_token the app-level token (xapp-…) for Socket Mode, or NULL for no
 * live connection. The channel belongs to the thread-default main context current when
 * it is made. */
FdChannel        *fd_slack_channel_new              (const char     *base_url,
                                                     const char     *bot_token,
                                                     const char     *app_token);
FdHttpClient     *fd_slack_channel_get_http_client  (FdSlackChannel *self);

FdSlackLiveState  fd_slack_channel_get_live_state   (FdSlackChannel *self);
/* Why the live connection is not connected, in plain words, or NULL. */
const char       *fd_slack_channel_get_live_error   (FdSlackChannel *self);

/* Reconnection waits grow from @base_ms, doubling up to @max_ms, with jitter (default
 * 1 s to 60 s). For tests. */
void              fd_slack_channel_set_reconnect_delays (FdSlackChannel *self,
                                                         guint           base_ms,
                                                         guint           max_ms);

G_END_DECLS
