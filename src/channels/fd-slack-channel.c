/* fd-slack-channel.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-slack"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "fd-log.h"
#include "fd-slack-channel.h"
#include "fd-json.h"
#include "fd-text.h"

/* How Slack maps onto Frontdesk:
 *
 * - Each Slack Connect channel (is_ext_shared) the bot is in is an organisation whose
 *   external id is the channel id. Other channels are ignored.
 * - Each top-level message that has replies, or that a customer wrote, is a conversation
 *   with the external id "CHANNEL:TS"; its messages (the parent first) are "CHANNEL:TS" too.
 * - Users of our own workspace (auth.test's team) are agents, users of the connected
 *   workspaces are contacts of the channel's organisation, bots are bots. Our own bot's
 *   messages are the replies Frontdesk sent, so they count as agent replies.
 * - Slack has no status, assignment, tags or internal notes. A thread is "open" when a
 *   customer spoke last and "pending" when an agent did; resolving, assigning, tagging and
 *   notes stay local to Frontdesk (send answers FD_CHANNEL_ERROR_UNSUPPORTED for them), and
 *   a new message from the customer reopens a resolved thread.
 *
 * Sync: auth.test, conversations.list, then per channel conversations.history pages
 * (newest first) with conversations.replies for the threads that changed, and users.info
 * for the authors and mentions. One batch per history page. Slack assigns message ts in
 * order, so a per-channel watermark (the newest ts seen on the first history page of a
 * pass) tells new messages from stored ones. Replies do not show in the history, only in
 * their parent's latest_reply, so an incremental pass re-reads the history from the
 * oldest thread that still had activity within WATCH_WINDOW of the watermark: usually
 * one request per channel, and replies are fetched only for threads with something new.
 * Replies to threads quiet for longer than that arrive through Socket Mode only. */

/* Slack's largest page for these methods. */
#define PAGE_LIMIT "200"
/* Requests for replies and users in flight at once; the HTTP client queues the rest. */
#define MAX_IN_FLIGHT 4
#define WATCH_WINDOW_USEC (G_GINT64_CONSTANT (30) * 24 * 3600 * G_USEC_PER_SEC)
#define SUBJECT_MAX_CHARS 80
#define CURSOR_VERSION 1
#define HELLO_TIMEOUT_SECONDS 30
#define SEEN_IDS_MAX 2000
#define CHANNELS_REFRESH_USEC (60 * G_USEC_PER_SEC)

G_DEFINE_ENUM_TYPE (FdSlackLiveState, fd_slack_live_state,
                    G_DEFINE_ENUM_VALUE (FD_SLACK_LIVE_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (FD_SLACK_LIVE_CONNECTING, "connecting"),
                    G_DEFINE_ENUM_VALUE (FD_SLACK_LIVE_CONNECTED, "connected"),
                    G_DEFINE_ENUM_VALUE (FD_SLACK_LIVE_RECONNECTING, "reconnecting"))

struct _FdSlackChannel
{
  GObject                  parent_instance;

  FdHttpClient            *http;
  char                    *app_token;
  GMainContext            *context;

  /* From auth.test. */
  char                    *team_id;
  char                    *bot_user_id;
  char                    *bot_id;

  /* users.info answers, id → SlackUser; emptied when a sync starts. */
  GHashTable              *users;

  /* Socket Mode. */
  FdSlackLiveState         live_state;
  char                    *live_error;
  GCancellable            *live_cancellable;
  SoupSession             *ws_session;
  SoupWebsocketConnection *ws;
  GSource                 *reconnect_source;
  GSource                 *hello_source;
  guint                    reconnect_attempt;
  guint                    reconnect_base_ms;
  guint                    reconnect_max_ms;
  GHashTable              *live_channels;     /* Slack Connect channel id → name */
  gint64                   live_channels_at;  /* monotonic time of the last listing */
  GHashTable              *seen_ids;          /* envelope and event ids already taken */
  GQueue                   seen_order;
  GQueue                   events;            /* JsonNode: envelope payloads to handle */
  gboolean                 handling_event;
};

static void fd_slack_channel_iface_init (FdChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FdSlackChannel, fd_slack_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FD_TYPE_CHANNEL, fd_slack_channel_iface_init))

enum {
  PROP_0,
  PROP_LIVE_STATE,
  PROP_LIVE_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Small helpers */

static void
source_clear (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}




static gint64
get_int (JsonObject *object,
         const char *member)
{
  JsonNode *node;
  GType type;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL ||
      !JSON_NODE_HOLDS_VALUE (node))
    return 0;

  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    return json_node_get_int (node);
  if (type == G_TYPE_DOUBLE)
    return (gint64) json_node_get_double (node);

  return 0;
}

static gboolean
get_bool (JsonObject *object,
          const char *member,
          gboolean    default_value)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL ||
      !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return default_value;

  return json_node_get_boolean (node);
}

static JsonObject *
node_object (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* Slack timestamps ("1700000000.000100") as microseconds since the epoch; -1 when the
 * text is not one. They are unique per channel and increase with time. */
static gint64
ts_to_usec (const char *ts)
{
  gint64 seconds = 0;
  gint64 fraction = 0;
  int digits = 0;
  const char *p = ts;

  if (ts == NULL || !g_ascii_isdigit (*p))
    return -1;

  for (; g_ascii_isdigit (*p); p++)
    {
      if (seconds > G_MAXINT64 / 10 / G_USEC_PER_SEC)
        return -1;
      seconds = seconds * 10 + (*p - '0');
    }

  if (*p == '.')
    {
      for (p++; g_ascii_isdigit (*p); p++)
        {
          if (digits < 6)
            fraction = fraction * 10 + (*p - '0');
          digits++;
        }
    }

  if (*p != '\0')
    return -1;

  for (; digits < 6; digits++)
    fraction *= 10;

  return seconds * G_USEC_PER_SEC + fraction;
}

static char *
usec_to_ts (gint64 usec)
{
  usec = MAX (usec, 0);
  return g_strdup_printf ("%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT,
                          usec / G_USEC_PER_SEC, usec % G_USEC_PER_SEC);
}

/* "ext-acme-corp" → "Acme Corp": Slack Connect channels are usually named after the
 * customer with a prefix or suffix that says the channel is shared. */
static char *
prettify_channel_name (const char *name)
{
  static const char * const prefixes[] = { "slack-connect-", "ext-", "shared-", "sc-", "x-" };
  static const char * const suffixes[] = { "-support", "-shared", "-external", "-ext", "-help" };
  g_autofree char *copy = NULL;
  GString *pretty;
  const char *start;
  gboolean word_start = TRUE;

  if (name == NULL || name[0] == '\0')
    return NULL;

  copy = g_strdup (name);
  start = copy;

  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      if (g_str_has_prefix (start, prefixes[i]) && start[strlen (prefixes[i])] != '\0')
        {
          start += strlen (prefixes[i]);
          break;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      gsize len = strlen (start);
      gsize suffix_len = strlen (suffixes[i]);

      if (len > suffix_len && g_str_has_suffix (start, suffixes[i]))
        {
          copy[(start - copy) + len - suffix_len] = '\0';
          break;
        }
    }

  pretty = g_string_new (NULL);
  for (const char *p = start; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '-' || c == '_' || c == '.')
        {
          if (pretty->len > 0 && !word_start)
            g_string_append_c (pretty, ' ');
          word_start = TRUE;
          continue;
        }

      g_string_append_unichar (pretty, word_start ? g_unichar_totitle (c) : c);
      word_start = FALSE;
    }

  if (pretty->len > 0 && pretty->str[pretty->len - 1] == ' ')
    g_string_truncate (pretty, pretty->len - 1);

  if (pretty->len == 0)
    {
      g_string_free (pretty, TRUE);
      return g_strdup (name);
    }

  return g_string_free (pretty, FALSE);
}

/* The first line of @text, at most SUBJECT_MAX_CHARS characters. */
static char *
make_subject (const char *text)
{
  g_autofree char *line = NULL;
  const char *end;

  if (text == NULL)
    return NULL;

  while (g_ascii_isspace (*text))
    text++;
  end = strchr (text, '\n');
  line = end != NULL ? g_strndup (text, end - text) : g_strdup (text);
  g_strstrip (line);

  if (line[0] == '\0')
    return NULL;

  if (g_utf8_strlen (line, -1) > SUBJECT_MAX_CHARS)
    {
      char *cut = g_utf8_offset_to_pointer (line, SUBJECT_MAX_CHARS - 1);
      g_autofree char *head = g_strndup (line, cut - line);

      g_strchomp (head);
      return g_strconcat (head, "…", NULL);
    }

  return g_steal_pointer (&line);
}

/* Slack reads message text as mrkdwn, where only these three characters are special. */
static char *
escape_mrkdwn (const char *text)
{
  GString *escaped = g_string_sized_new (strlen (text) + 16);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '&')
        g_string_append (escaped, "&amp;");
      else if (*p == '<')
        g_string_append (escaped, "&lt;");
      else if (*p == '>')
        g_string_append (escaped, "&gt;");
      else
        g_string_append_c (escaped, *p);
    }

  return g_string_free (escaped, FALSE);
}

/* Users */

typedef struct
{
  char     *id;
  char     *team_id;
  char     *name;
  char     *email;
  gboolean  is_bot;
} SlackUser;

static void
slack_user_clear (gpointer data)
{
  SlackUser *user = data;

  g_free (user->id);
  g_free (user->team_id);
  g_free (user->name);
  g_free (user->email);
}

static SlackUser *
slack_user_ref (SlackUser *user)
{
  return g_rc_box_acquire (user);
}

static void
slack_user_unref (SlackUser *user)
{
  g_rc_box_release_full (user, slack_user_clear);
}

static SlackUser *
slack_user_new_from_json (JsonObject *object)
{
  JsonObject *profile = fd_json_object (object, "profile");
  const char *id = fd_json_string (object, "id");
  const char *name = NULL;
  const char *candidates[] = {
    fd_json_string (profile, "real_name"),
    fd_json_string (object, "real_name"),
    fd_json_string (profile, "display_name"),
    fd_json_string (object, "name"),
  };
  SlackUser *user;

  if (id == NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (candidates) && name == NULL; i++)
    if (candidates[i] != NULL && candidates[i][0] != '\0')
      name = candidates[i];

  user = g_rc_box_new0 (SlackUser);
  user->id = g_strdup (id);
  user->team_id = g_strdup (fd_json_string (object, "team_id"));
  user->name = g_strdup (name != NULL ? name : id);
  user->email = g_strdup (fd_json_string (profile, "email"));
  user->is_bot = get_bool (object, "is_bot", FALSE) || g_str_equal (id, "USLACKBOT");
  if (user->email != NULL && user->email[0] == '\0')
    g_clear_pointer (&user->email, g_free);

  return user;
}

static GHashTable *
user_table_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) slack_user_unref);
}

static void
user_table_add (GHashTable *table,
                const char *id,
                SlackUser  *user)
{
  g_hash_table_replace (table, g_strdup (id), slack_user_ref (user));
}

/* Slack errors, which come as HTTP 200 with {"ok": false, "error": "code"} */

static GError *
slack_error_new (const char *code,
                 JsonObject *root,
                 gboolean    app_token)
{
  JsonObject *metadata;

  if (g_strcmp0 (code, "invalid_auth") == 0 ||
      g_strcmp0 (code, "not_authed") == 0 ||
      g_strcmp0 (code, "account_inactive") == 0 ||
      g_strcmp0 (code, "token_revoked") == 0 ||
      g_strcmp0 (code, "token_expired") == 0 ||
      g_strcmp0 (code, "not_allowed_token_type") == 0 ||
      g_strcmp0 (code, "invalid_token") == 0)
    {
      if (app_token)
        return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED,
                            _("Slack did not accept the app-level token (xapp-…) for live "
                              "messages: it is wrong, revoked or lacks the "
                              "“connections:write” scope. Check it in Preferences → Accounts."));
      return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED,
                          _("Slack did not accept the bot token: it is wrong, was revoked, or "
                            "the app was removed from the workspace. Check it in "
                            "Preferences → Accounts."));
    }

  if (g_strcmp0 (code, "missing_scope") == 0)
    {
      const char *needed = fd_json_string (root, "needed");

      if (needed != NULL && needed[0] != '\0')
        return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED,
                            _("The Slack app lacks the “%s” permission. Add it to the app’s "
                              "scopes on api.slack.com, reinstall the app in the workspace, "
                              "then try again."),
                            needed);
      return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED,
                          _("The Slack app lacks a permission Frontdesk needs. Check its "
                            "scopes on api.slack.com, reinstall it, then try again."));
    }

  if (g_strcmp0 (code, "channel_not_found") == 0)
    return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND,
                        _("Slack could not find this channel: it was deleted, is no longer "
                          "shared with you, or the Frontdesk app cannot see it."));

  if (g_strcmp0 (code, "not_in_channel") == 0)
    return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND,
                        _("The Frontdesk app is not a member of this Slack channel. Invite it "
                          "to the channel in Slack, then try again."));

  if (g_strcmp0 (code, "thread_not_found") == 0 ||
      g_strcmp0 (code, "message_not_found") == 0)
    return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND,
                        _("This Slack thread no longer exists; it may have been deleted."));

  if (g_strcmp0 (code, "user_not_found") == 0 ||
      g_strcmp0 (code, "user_not_visible") == 0)
    return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND,
                        _("Slack has no such user, or does not let this app see them."));

  if (g_strcmp0 (code, "is_archived") == 0)
    return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED,
                        _("This Slack channel is archived, so nothing can be posted to it."));

  if (g_strcmp0 (code, "msg_too_long") == 0)
    return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED,
                        _("The reply is too long for Slack. Shorten it and send it again."));

  if (g_strcmp0 (code, "ratelimited") == 0 || g_strcmp0 (code, "rate_limited") == 0)
    return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_RATE_LIMITED,
                        _("Slack asked Frontdesk to slow down. It will try again later."));

  if (g_strcmp0 (code, "invalid_cursor") == 0)
    return g_error_new (FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR,
                        _("Slack no longer accepts where the last sync stopped; Frontdesk "
                          "will sync this account from the start."));

  if (g_strcmp0 (code, "internal_error") == 0 ||
      g_strcmp0 (code, "fatal_error") == 0 ||
      g_strcmp0 (code, "service_unavailable") == 0 ||
      g_strcmp0 (code, "request_timeout") == 0)
    return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER,
                        _("Slack is having trouble right now. Frontdesk will try again later."));

  metadata = fd_json_object (root, "response_metadata");
  if (metadata != NULL)
    {
      JsonArray *messages = fd_json_array (metadata, "messages");

      if (messages != NULL && json_array_get_length (messages) > 0)
        g_debug ("Slack said: %s",
                 json_node_get_string (json_array_get_element (messages, 0)) ?: "");
    }

  return g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED,
                      _("Slack refused the request (%s)."),
                      code != NULL ? code : _("no reason given"));
}

/* One Web API call: the answer's root, after checking "ok". */

static void
slack_call_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  gboolean app_token = GPOINTER_TO_INT (g_task_get_task_data (task));
  JsonObject *root;
  JsonNode *ok;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  root = node_object (response->json);
  ok = root != NULL ? json_object_get_member (root, "ok") : NULL;
  if (ok == NULL || !JSON_NODE_HOLDS_VALUE (ok) ||
      json_node_get_value_type (ok) != G_TYPE_BOOLEAN)
    {
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                               _("Slack sent an answer Frontdesk could not read. Nothing was "
                                 "changed; it will try again."));
      return;
    }

  if (!json_node_get_boolean (ok))
    {
      g_task_return_error (task, slack_error_new (fd_json_string (root, "error"), root, app_token));
      return;
    }

  g_task_return_pointer (task, json_node_ref (response->json), (GDestroyNotify) json_node_unref);
}

static void
slack_call_async (FdSlackChannel      *self,
                  FdHttpRequest       *request,
                  gboolean             app_token,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *task;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, slack_call_async);
  g_task_set_task_data (task, GINT_TO_POINTER (app_token), NULL);

  fd_http_client_send_async (self->http, request, cancellable, slack_call_cb, task);
}

static JsonNode *
slack_call_finish (FdSlackChannel  *self,
                   GAsyncResult    *result,
                   GError         **error)
{
  g_assert (g_task_is_valid (result, self));

  return g_task_propagate_pointer (G_TASK (result), error);
}

static FdHttpRequest *
slack_get (const char *method)
{
  g_autofree char *path = g_strconcat ("/", method, NULL);

  return fd_http_request_new ("GET", path);
}

/* Fan-out: many calls, MAX_IN_FLIGHT at a time. @step returns the first request for an
 * item (answer NULL), then the next one after each answer (a further page), or NULL when
 * the item is done. @tolerate says whether an error only drops that item. */

typedef FdHttpRequest *(*FanoutStep)     (gpointer      item,
                                          JsonNode     *answer,
                                          gpointer      user_data);
typedef gboolean       (*FanoutTolerate) (gpointer      item,
                                          const GError *error,
                                          gpointer      user_data);

typedef struct
{
  GPtrArray      *items;
  FanoutStep      step;
  FanoutTolerate  tolerate;
  gpointer        user_data;
  guint           next;
  guint           in_flight;
  gboolean        returned;
  GError         *error;
} Fanout;

typedef struct
{
  GTask    *task;
  gpointer  item;
} FanoutCall;

static void
fanout_free (Fanout *fanout)
{
  g_clear_pointer (&fanout->items, g_ptr_array_unref);
  g_clear_error (&fanout->error);
  g_free (fanout);
}

static void fanout_pump (GTask *task);

static void
fanout_call_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  FanoutCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  gpointer item = call->item;
  Fanout *fanout = g_task_get_task_data (task);
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;

  g_free (call);
  fanout->in_flight--;

  answer = slack_call_finish (FD_SLACK_CHANNEL (object), result, &error);

  if (fanout->error == NULL)
    {
      if (answer == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
              fanout->tolerate == NULL ||
              !fanout->tolerate (item, error, fanout->user_data))
            fanout->error = g_steal_pointer (&error);
        }
      else
        {
          FdHttpRequest *next = fanout->step (item, answer, fanout->user_data);

          if (next != NULL)
            {
              FanoutCall *again = g_new0 (FanoutCall, 1);

              again->task = g_object_ref (task);
              again->item = item;
              fanout->in_flight++;
              slack_call_async (FD_SLACK_CHANNEL (object), next, FALSE,
                                g_task_get_cancellable (task), fanout_call_cb, again);
            }
        }
    }

  fanout_pump (task);
}

static void
fanout_pump (GTask *task)
{
  FdSlackChannel *self = g_task_get_source_object (task);
  Fanout *fanout = g_task_get_task_data (task);

  while (fanout->error == NULL &&
         fanout->in_flight < MAX_IN_FLIGHT &&
         fanout->next < fanout->items->len)
    {
      gpointer item = g_ptr_array_index (fanout->items, fanout->next++);
      FdHttpRequest *request = fanout->step (item, NULL, fanout->user_data);
      FanoutCall *call;

      if (request == NULL)
        continue;

      call = g_new0 (FanoutCall, 1);
      call->task = g_object_ref (task);
      call->item = item;
      fanout->in_flight++;
      slack_call_async (self, request, FALSE, g_task_get_cancellable (task), fanout_call_cb, call);
    }

  if (fanout->in_flight > 0 || fanout->returned)
    return;

  if (fanout->error != NULL)
    {
      fanout->returned = TRUE;
      g_task_return_error (task, g_steal_pointer (&fanout->error));
    }
  else if (fanout->next >= fanout->items->len)
    {
      fanout->returned = TRUE;
      g_task_return_boolean (task, TRUE);
    }
}

/* @items is referenced; @user_data must outlive the operation. */
static void
fanout_async (FdSlackChannel      *self,
              GPtrArray           *items,
              FanoutStep           step,
              FanoutTolerate       tolerate,
              gpointer             user_data,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             callback_data)
{
  g_autoptr(GTask) task = NULL;
  Fanout *fanout;

  task = g_task_new (self, cancellable, callback, callback_data);
  g_task_set_source_tag (task, fanout_async);

  fanout = g_new0 (Fanout, 1);
  fanout->items = g_ptr_array_ref (items);
  fanout->step = step;
  fanout->tolerate = tolerate;
  fanout->user_data = user_data;
  g_task_set_task_data (task, fanout, (GDestroyNotify) fanout_free);

  fanout_pump (task);
}

static gboolean
fanout_finish (FdSlackChannel  *self,
               GAsyncResult    *result,
               GError         **error)
{
  g_assert (g_task_is_valid (result, self));

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* users.info for every id not cached yet. The result maps each id Slack knows to a
 * SlackUser; unknown or hidden users are left out. */

typedef struct
{
  GHashTable *cache;   /* the channel's, referenced */
  GHashTable *result;
} ResolveUsers;

static void
resolve_users_free (ResolveUsers *resolve)
{
  g_clear_pointer (&resolve->cache, g_hash_table_unref);
  g_clear_pointer (&resolve->result, g_hash_table_unref);
  g_free (resolve);
}

static FdHttpRequest *
resolve_users_step (gpointer  item,
                    JsonNode *answer,
                    gpointer  user_data)
{
  ResolveUsers *resolve = user_data;
  const char *id = item;
  FdHttpRequest *request;
  SlackUser *user;

  if (answer == NULL)
    {
      request = slack_get ("users.info");
      fd_http_request_add_query (request, "user", id);
      return request;
    }

  user = slack_user_new_from_json (fd_json_object (node_object (answer), "user"));
  if (user != NULL)
    {
      user_table_add (resolve->cache, id, user);
      user_table_add (resolve->result, id, user);
      slack_user_unref (user);
    }

  return NULL;
}

static gboolean
resolve_users_tolerate (gpointer      item,
                        const GError *error,
                        gpointer      user_data)
{
  /* A deleted or invisible user only loses their name. */
  g_debug ("users.info %s: %s", (const char *) item, error->message);
  return g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND);
}

static void
resolve_users_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ResolveUsers *resolve = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!fanout_finish (FD_SLACK_CHANNEL (object), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_hash_table_ref (resolve->result),
                           (GDestroyNotify) g_hash_table_unref);
}

/* @ids is a set of user ids; it must stay alive until the operation completes. */
static void
resolve_users_async (FdSlackChannel      *self,
                     GHashTable          *ids,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new ();
  ResolveUsers *resolve;
  GHashTableIter iter;
  const char *id;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, resolve_users_async);

  resolve = g_new0 (ResolveUsers, 1);
  resolve->cache = g_hash_table_ref (self->users);
  resolve->result = user_table_new ();
  g_task_set_task_data (task, resolve, (GDestroyNotify) resolve_users_free);

  g_hash_table_iter_init (&iter, ids);
  while (g_hash_table_iter_next (&iter, (gpointer *) &id, NULL))
    {
      SlackUser *user = g_hash_table_lookup (self->users, id);

      if (user != NULL)
        user_table_add (resolve->result, id, user);
      else
        g_ptr_array_add (missing, (gpointer) id);
    }

  fanout_async (self, missing, resolve_users_step, resolve_users_tolerate, resolve,
                cancellable, resolve_users_cb, g_steal_pointer (&task));
}

static GHashTable *
resolve_users_finish (FdSlackChannel  *self,
                      GAsyncResult    *result,
                      GError         **error)
{
  g_assert (g_task_is_valid (result, self));

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Collects the ids whose names a message needs: its author and its mentions. */
static void
collect_user_ids (JsonObject *message,
                  GHashTable *ids)
{
  const char *user = fd_json_string (message, "user");
  const char *text = fd_json_string (message, "text");

  if (user != NULL && user[0] != '\0')
    g_hash_table_add (ids, g_strdup (user));

  for (const char *p = text; p != NULL && (p = strstr (p, "<@")) != NULL; )
    {
      const char *end;

      p += 2;
      end = p;
      while (g_ascii_isalnum (*end))
        end++;
      if (end > p && (*end == '>' || *end == '|'))
        g_hash_table_add (ids, g_strndup (p, end - p));
    }
}

/* Messages to records */

typedef enum
{
  AUTHOR_NONE,      /* not a message that belongs in a conversation */
  AUTHOR_CONTACT,
  AUTHOR_AGENT,
  AUTHOR_OWN_BOT,   /* what Frontdesk itself posted: an agent's reply */
  AUTHOR_BOT,
  AUTHOR_SYSTEM,
} AuthorKind;

static gboolean
is_conversation_subtype (const char *subtype)
{
  /* Joins, topic changes, edits and deletions are not messages of the conversation. */
  return subtype == NULL ||
         g_str_equal (subtype, "bot_message") ||
         g_str_equal (subtype, "file_share") ||
         g_str_equal (subtype, "me_message") ||
         g_str_equal (subtype, "thread_broadcast");
}

static AuthorKind
classify_author (FdSlackChannel *self,
                 JsonObject     *message,
                 SlackUser      *user)
{
  const char *user_id = fd_json_string (message, "user");
  const char *bot_id = fd_json_string (message, "bot_id");
  const char *subtype = fd_json_string (message, "subtype");
  const char *team;

  if (!is_conversation_subtype (subtype))
    return AUTHOR_NONE;

  if ((user_id != NULL && g_strcmp0 (user_id, self->bot_user_id) == 0) ||
      (bot_id != NULL && g_strcmp0 (bot_id, self->bot_id) == 0))
    return AUTHOR_OWN_BOT;

  if (bot_id != NULL || g_strcmp0 (subtype, "bot_message") == 0)
    return AUTHOR_BOT;

  if (user_id == NULL)
    return AUTHOR_SYSTEM;

  if (g_str_equal (user_id, "USLACKBOT"))
    return AUTHOR_SYSTEM;

  if (user != NULL && user->is_bot)
    return AUTHOR_BOT;

  team = user != NULL && user->team_id != NULL ? user->team_id : NULL;
  if (team == NULL)
    team = fd_json_string (message, "user_team");
  if (team == NULL)
    team = fd_json_string (message, "team");

  if (team != NULL && g_strcmp0 (team, self->team_id) == 0)
    return AUTHOR_AGENT;

  return AUTHOR_CONTACT;
}

static char *
lookup_user_name (const char *id,
                  gpointer    user_data)
{
  GHashTable *users = user_data;
  SlackUser *user = g_hash_table_lookup (users, id);

  return user != NULL ? g_strdup (user->name) : NULL;
}

typedef struct
{
  FdSyncBatch *batch;
  GHashTable  *people;   /* user ids with a contact or agent record in the batch */
  GHashTable  *users;    /* id → SlackUser */
} BatchBuilder;

static void
builder_init (BatchBuilder *builder,
              FdSyncBatch  *batch,
              GHashTable   *users)
{
  builder->batch = batch;
  builder->people = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  builder->users = users;
}

static void
builder_clear (BatchBuilder *builder)
{
  g_clear_pointer (&builder->people, g_hash_table_unref);
}

static void
builder_add_person (BatchBuilder *builder,
                    SlackUser    *user,
                    AuthorKind    kind,
                    const char   *channel_id)
{
  if (user == NULL || g_hash_table_contains (builder->people, user->id))
    return;

  g_hash_table_add (builder->people, g_strdup (user->id));

  if (kind == AUTHOR_AGENT)
    {
      FdAgentRecord *agent = fd_sync_batch_add_agent (builder->batch);

      agent->external_id = g_strdup (user->id);
      agent->name = g_strdup (user->name);
      agent->email = g_strdup (user->email);
    }
  else if (kind == AUTHOR_CONTACT)
    {
      FdContactRecord *contact = fd_sync_batch_add_contact (builder->batch);

      contact->external_id = g_strdup (user->id);
      contact->org_external_id = g_strdup (channel_id);
      contact->name = g_strdup (user->name);
      contact->email = g_strdup (user->email);
    }
}

static char *
message_author_name (JsonObject *message,
                     SlackUser  *user)
{
  JsonObject *bot_profile = fd_json_object (message, "bot_profile");
  const char *name;

  if (user != NULL)
    return g_strdup (user->name);
  if ((name = fd_json_string (message, "username")) != NULL)
    return g_strdup (name);
  if ((name = fd_json_string (bot_profile, "name")) != NULL)
    return g_strdup (name);

  return NULL;
}

static void
add_attachments (FdMessageRecord *record,
                 JsonObject      *message)
{
  JsonArray *files = fd_json_array (message, "files");

  for (guint i = 0; files != NULL && i < json_array_get_length (files); i++)
    {
      JsonObject *file = node_object (json_array_get_element (files, i));
      FdAttachmentRecord *attachment;
      const char *url;

      if (file == NULL || fd_json_string (file, "name") == NULL)
        continue;

      url = fd_json_string (file, "url_private");
      if (url == NULL)
        url = fd_json_string (file, "permalink");

      attachment = fd_message_record_add_attachment (record);
      attachment->name = g_strdup (fd_json_string (file, "name"));
      attachment->size = get_int (file, "size");
      attachment->content_type = g_strdup (fd_json_string (file, "mimetype"));
      attachment->url = g_strdup (url);
    }
}

/* Adds one thread as a conversation. @messages (JsonObject) are in time order, the parent
 * first when @with_parent. @set_status: the thread has a message newer than what was
 * stored, so its status follows who spoke last; otherwise the stored status is kept (it
 * may have been resolved in Frontdesk). Returns FALSE when nothing was added. */
static gboolean
builder_add_thread (BatchBuilder   *builder,
                    FdSlackChannel *self,
                    const char     *channel_id,
                    const char     *thread_ts,
                    GPtrArray      *messages,
                    gboolean        with_parent,
                    gboolean        set_status)
{
  FdConversationRecord *conversation = NULL;
  AuthorKind last_human = AUTHOR_NONE;
  gint64 updated_at = 0;

  for (guint i = 0; i < messages->len; i++)
    {
      JsonObject *message = g_ptr_array_index (messages, i);
      const char *ts = fd_json_string (message, "ts");
      const char *user_id = fd_json_string (message, "user");
      SlackUser *user = user_id != NULL ? g_hash_table_lookup (builder->users, user_id) : NULL;
      AuthorKind kind = classify_author (self, message, user);
      FdMessageRecord *record;
      gint64 usec = ts_to_usec (ts);

      if (kind == AUTHOR_NONE || usec < 0)
        continue;

      if (conversation == NULL)
        {
          conversation = fd_sync_batch_add_conversation (builder->batch);
          conversation->external_id = g_strdup_printf ("%s:%s", channel_id, thread_ts);
          conversation->channel = "slack";
          conversation->org_external_id = g_strdup (channel_id);
          conversation->created_at = ts_to_usec (thread_ts) / 1000;
        }

      builder_add_person (builder, user, kind, channel_id);

      record = fd_conversation_record_add_message (conversation);
      record->external_id = g_strdup_printf ("%s:%s", channel_id, ts);
      record->author_name = message_author_name (message, user);
      record->body = fd_text_from_slack_mrkdwn (fd_json_string (message, "text") ?: "",
                                                lookup_user_name, builder->users);
      record->created_at = usec / 1000;
      add_attachments (record, message);

      switch (kind)
        {
        case AUTHOR_CONTACT:
          record->author_kind = "contact";
          record->author_external_id = g_strdup (user_id);
          if (conversation->contact_external_id == NULL)
            conversation->contact_external_id = g_strdup (user_id);
          last_human = kind;
          break;

        case AUTHOR_AGENT:
          record->author_kind = "agent";
          record->author_external_id = g_strdup (user_id);
          last_human = kind;
          break;

        case AUTHOR_OWN_BOT:
          record->author_kind = "agent";
          last_human = kind;
          break;

        case AUTHOR_BOT:
          record->author_kind = "bot";
          break;

        case AUTHOR_SYSTEM:
        case AUTHOR_NONE:
        default:
          record->author_kind = "system";
          break;
        }

      if (i == 0 && with_parent)
        {
          conversation->subject = make_subject (record->body);
          if (conversation->subject == NULL && record->attachments->len > 0)
            conversation->subject = make_subject (((FdAttachmentRecord *) g_ptr_array_index (record->attachments, 0))->name);
        }

      updated_at = MAX (updated_at, record->created_at);
    }

  if (conversation == NULL)
    return FALSE;

  conversation->updated_at = updated_at;
  if (set_status && last_human != AUTHOR_NONE)
    conversation->status = last_human == AUTHOR_CONTACT ? "open" : "pending";

  return TRUE;
}

/* Channels */

typedef struct
{
  char   *id;
  char   *name;
  gint64  wm;     /* newest message seen, µs; 0 before the first pass */
  gint64  watch;  /* oldest thread still followed, µs; 0 for none */
} ChannelState;

static void
channel_state_free (ChannelState *channel)
{
  g_free (channel->id);
  g_free (channel->name);
  g_free (channel);
}

typedef struct
{
  GPtrArray *channels;   /* ChannelState */
  char      *page;
} ListChannels;

static void
list_channels_free (ListChannels *list)
{
  g_clear_pointer (&list->channels, g_ptr_array_unref);
  g_free (list->page);
  g_free (list);
}

static void list_channels_next (GTask *task);

static void
list_channels_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ListChannels *list = g_task_get_task_data (task);
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *channels;
  const char *next;

  answer = slack_call_finish (FD_SLACK_CHANNEL (object), result, &error);
  if (answer == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  root = node_object (answer);
  channels = fd_json_array (root, "channels");
  if (channels == NULL)
    {
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                               _("Slack sent a channel list Frontdesk could not read. Nothing "
                                 "was changed; it will try again."));
      return;
    }

  for (guint i = 0; i < json_array_get_length (channels); i++)
    {
      JsonObject *channel = node_object (json_array_get_element (channels, i));
      ChannelState *state;

      /* Slack Connect channels only, and only those the bot can read. */
      if (fd_json_string (channel, "id") == NULL ||
          !get_bool (channel, "is_ext_shared", FALSE) ||
          get_bool (channel, "is_archived", FALSE) ||
          !get_bool (channel, "is_member", TRUE))
        continue;

      state = g_new0 (ChannelState, 1);
      state->id = g_strdup (fd_json_string (channel, "id"));
      state->name = g_strdup (fd_json_string (channel, "name"));
      g_ptr_array_add (list->channels, state);
    }

  next = fd_json_string (fd_json_object (root, "response_metadata"), "next_cursor");
  /* A cursor that comes back unchanged would page forever: that list is complete. */
  if (g_strcmp0 (next, list->page) == 0)
    next = NULL;
  g_clear_pointer (&list->page, g_free);
  if (next != NULL && next[0] != '\0')
    {
      list->page = g_strdup (next);
      list_channels_next (g_steal_pointer (&task));
      return;
    }

  g_task_return_pointer (task, g_ptr_array_ref (list->channels), (GDestroyNotify) g_ptr_array_unref);
}

static void
list_channels_next (GTask *task)
{
  FdSlackChannel *self = g_task_get_source_object (task);
  ListChannels *list = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  FdHttpRequest *request;

  request = slack_get ("conversations.list");
  fd_http_request_add_query (request, "types", "public_channel,private_channel");
  fd_http_request_add_query (request, "exclude_archived", "true");
  fd_http_request_add_query (request, "limit", PAGE_LIMIT);
  if (list->page != NULL)
    fd_http_request_add_query (request, "cursor", list->page);

  slack_call_async (self, request, FALSE, cancellable, list_channels_cb, task);
}

/* The Slack Connect channels, as ChannelState with no watermark. */
static void
list_channels_async (FdSlackChannel      *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task;
  ListChannels *list;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, list_channels_async);

  list = g_new0 (ListChannels, 1);
  list->channels = g_ptr_array_new_with_free_func ((GDestroyNotify) channel_state_free);
  g_task_set_task_data (task, list, (GDestroyNotify) list_channels_free);

  list_channels_next (task);
}

static GPtrArray *
list_channels_finish (FdSlackChannel  *self,
                      GAsyncResult    *result,
                      GError         **error)
{
  g_assert (g_task_is_valid (result, self));

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* auth.test: who we are */

static gboolean
store_auth (FdSlackChannel  *self,
            JsonNode        *answer,
            GError         **error)
{
  JsonObject *root = node_object (answer);
  const char *team_id = fd_json_string (root, "team_id");

  if (team_id == NULL)
    {
      g_set_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                   _("Slack did not say which workspace the token belongs to. Check the "
                     "address in Preferences → Accounts."));
      return FALSE;
    }

  g_free (self->team_id);
  self->team_id = g_strdup (team_id);
  g_free (self->bot_user_id);
  self->bot_user_id = g_strdup (fd_json_string (root, "user_id"));
  g_free (self->bot_id);
  self->bot_id = g_strdup (fd_json_string (root, "bot_id"));

  return TRUE;
}

/* Sync cursors
 *
 * {"v": 1,
 *  "channels": [{"id": "C1", "name": "ext-acme", "wm": "TS", "watch": "TS"}, …],
 *  "run": {"i": 0, "page": "…", "oldest": "TS", "wm": "TS", "watch": "TS"}}
 *
 * "channels" holds each channel's state after its last complete pass; "run" is present
 * while a sync is under way: the channel it is in, that channel's history page, the
 * oldest ts asked for, and the watermark and watch the pass will store when it ends. */

typedef struct
{
  GPtrArray *channels;    /* ChannelState */
  gboolean   running;
  guint      index;
  char      *page;
  gint64     oldest;
  gint64     next_wm;
  gint64     next_watch;  /* G_MAXINT64: none yet */
} SyncState;

static void
sync_state_free (SyncState *state)
{
  g_clear_pointer (&state->channels, g_ptr_array_unref);
  g_free (state->page);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncState, sync_state_free)

static SyncState *
sync_state_new (void)
{
  SyncState *state = g_new0 (SyncState, 1);

  state->channels = g_ptr_array_new_with_free_func ((GDestroyNotify) channel_state_free);
  state->next_watch = G_MAXINT64;
  return state;
}

static gboolean
parse_ts_member (JsonObject *object,
                 const char *member,
                 gint64     *usec)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *text;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      *usec = 0;
      return TRUE;
    }

  text = fd_json_string (object, member);
  *usec = ts_to_usec (text);
  return *usec >= 0;
}

static SyncState *
sync_state_parse (const char  *cursor,
                  GError     **error)
{
  g_autoptr(SyncState) state = sync_state_new ();
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *root;
  JsonObject *run;
  JsonArray *channels;

  if (cursor == NULL || cursor[0] == '\0')
    return g_steal_pointer (&state);

  if (!json_parser_load_from_data (parser, cursor, -1, NULL) ||
      (root = node_object (json_parser_get_root (parser))) == NULL ||
      get_int (root, "v") != CURSOR_VERSION ||
      (channels = fd_json_array (root, "channels")) == NULL)
    goto bad;

  for (guint i = 0; i < json_array_get_length (channels); i++)
    {
      JsonObject *object = node_object (json_array_get_element (channels, i));
      ChannelState *channel;

      if (object == NULL || fd_json_string (object, "id") == NULL)
        goto bad;

      channel = g_new0 (ChannelState, 1);
      channel->id = g_strdup (fd_json_string (object, "id"));
      channel->name = g_strdup (fd_json_string (object, "name"));
      g_ptr_array_add (state->channels, channel);

      if (!parse_ts_member (object, "wm", &channel->wm) ||
          !parse_ts_member (object, "watch", &channel->watch))
        goto bad;
    }

  if ((run = fd_json_object (root, "run")) != NULL)
    {
      gint64 index = get_int (run, "i");

      if (index < 0 || index > (gint64) state->channels->len ||
          !parse_ts_member (run, "oldest", &state->oldest) ||
          !parse_ts_member (run, "wm", &state->next_wm) ||
          !parse_ts_member (run, "watch", &state->next_watch))
        goto bad;

      state->running = TRUE;
      state->index = index;
      state->page = g_strdup (fd_json_string (run, "page"));
      if (state->next_watch == 0)
        state->next_watch = G_MAXINT64;
    }

  return g_steal_pointer (&state);

bad:
  g_set_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR,
               _("The stored Slack sync position could not be read; Frontdesk will sync "
                 "this account from the start."));
  return NULL;
}

static void
add_ts_member (JsonBuilder *builder,
               const char  *member,
               gint64       usec)
{
  g_autofree char *ts = NULL;

  if (usec <= 0 || usec == G_MAXINT64)
    return;

  ts = usec_to_ts (usec);
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, ts);
}

static char *
sync_state_to_string (SyncState *state)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "v");
  json_builder_add_int_value (builder, CURSOR_VERSION);

  json_builder_set_member_name (builder, "channels");
  json_builder_begin_array (builder);
  for (guint i = 0; i < state->channels->len; i++)
    {
      ChannelState *channel = g_ptr_array_index (state->channels, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, channel->id);
      if (channel->name != NULL)
        {
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, channel->name);
        }
      add_ts_member (builder, "wm", channel->wm);
      add_ts_member (builder, "watch", channel->watch);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  if (state->running)
    {
      json_builder_set_member_name (builder, "run");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "i");
      json_builder_add_int_value (builder, state->index);
      if (state->page != NULL)
        {
          json_builder_set_member_name (builder, "page");
          json_builder_add_string_value (builder, state->page);
        }
      add_ts_member (builder, "oldest", state->oldest);
      add_ts_member (builder, "wm", state->next_wm);
      add_ts_member (builder, "watch", state->next_watch);
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

/* Where a channel's pass starts: everything the first time, then from the oldest thread
 * still followed. */
static void
sync_state_begin_channel (SyncState *state)
{
  ChannelState *channel;

  g_clear_pointer (&state->page, g_free);
  state->oldest = 0;
  state->next_wm = 0;
  state->next_watch = G_MAXINT64;

  if (state->index >= state->channels->len)
    return;

  channel = g_ptr_array_index (state->channels, state->index);
  state->next_wm = channel->wm;
  if (channel->wm > 0)
    {
      gint64 from = channel->watch > 0 ? MIN (channel->watch, channel->wm) : channel->wm;

      /* A second before, so the oldest followed thread itself is included. */
      state->oldest = MAX (1, from - G_USEC_PER_SEC);
    }
}

static void
sync_state_end_channel (SyncState *state)
{
  ChannelState *channel = g_ptr_array_index (state->channels, state->index);

  channel->wm = MAX (channel->wm, state->next_wm);
  channel->watch = state->next_watch != G_MAXINT64 ? state->next_watch : channel->wm;

  state->index++;
  sync_state_begin_channel (state);
  if (state->index >= state->channels->len)
    state->running = FALSE;
}

/* Fetch: one history page of one channel, with its threads, per call */

typedef struct
{
  char      *channel_id;
  char      *thread_ts;
  gboolean   set_status;
  GPtrArray *messages;    /* JsonNode, in time order */
  char      *page;
  gboolean   gone;
} Thread;

static void
thread_free (Thread *thread)
{
  g_free (thread->channel_id);
  g_free (thread->thread_ts);
  g_clear_pointer (&thread->messages, g_ptr_array_unref);
  g_free (thread->page);
  g_free (thread);
}

static Thread *
thread_new (const char *channel_id,
            JsonNode   *parent)
{
  Thread *thread = g_new0 (Thread, 1);

  thread->channel_id = g_strdup (channel_id);
  thread->thread_ts = g_strdup (fd_json_string (node_object (parent), "ts"));
  thread->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_ptr_array_add (thread->messages, json_node_ref (parent));
  return thread;
}

static FdHttpRequest *
replies_step (gpointer  item,
              JsonNode *answer,
              gpointer  user_data)
{
  Thread *thread = item;
  FdHttpRequest *request;

  if (answer != NULL)
    {
      JsonObject *root = node_object (answer);
      JsonArray *messages = fd_json_array (root, "messages");
      const char *next = fd_json_string (fd_json_object (root, "response_metadata"), "next_cursor");

      for (guint i = 0; messages != NULL && i < json_array_get_length (messages); i++)
        {
          JsonNode *message = json_array_get_element (messages, i);
          const char *ts = fd_json_string (node_object (message), "ts");

          if (ts == NULL)
            continue;

          /* Each page starts with the parent again; the newest copy replaces the one
           * from the history. */
          if (g_str_equal (ts, thread->thread_ts))
            {
              json_node_unref (g_ptr_array_index (thread->messages, 0));
              g_ptr_array_index (thread->messages, 0) = json_node_ref (message);
              continue;
            }

          g_ptr_array_add (thread->messages, json_node_ref (message));
        }

      if (!get_bool (root, "has_more", FALSE) || next == NULL || next[0] == '\0' ||
          g_strcmp0 (next, thread->page) == 0)
        {
          g_clear_pointer (&thread->page, g_free);
          return NULL;
        }
      g_clear_pointer (&thread->page, g_free);
      thread->page = g_strdup (next);
    }

  request = slack_get ("conversations.replies");
  fd_http_request_add_query (request, "channel", thread->channel_id);
  fd_http_request_add_query (request, "ts", thread->thread_ts);
  fd_http_request_add_query (request, "limit", PAGE_LIMIT);
  if (thread->page != NULL)
    fd_http_request_add_query (request, "cursor", thread->page);

  return request;
}

static gboolean
replies_tolerate (gpointer      item,
                  const GError *error,
                  gpointer      user_data)
{
  Thread *thread = item;

  /* Deleted between the history page and now: nothing to store. */
  if (g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND))
    {
      thread->gone = TRUE;
      return TRUE;
    }

  return FALSE;
}

typedef struct
{
  SyncState   *state;
  FdSyncBatch *batch;
  GPtrArray   *threads;     /* Thread: the page's conversations */
  GHashTable  *user_ids;
  char        *next_page;
  gboolean     channel_done;
} FetchOp;

static void
fetch_op_free (FetchOp *op)
{
  g_clear_pointer (&op->state, sync_state_free);
  g_clear_pointer (&op->batch, fd_sync_batch_free);
  g_clear_pointer (&op->threads, g_ptr_array_unref);
  g_clear_pointer (&op->user_ids, g_hash_table_unref);
  g_free (op->next_page);
  g_free (op);
}

static void fetch_history_page (GTask *task);

static void
fetch_return (GTask *task)
{
  FetchOp *op = g_task_get_task_data (task);
  FdSyncBatch *batch = g_steal_pointer (&op->batch);

  batch->cursor = sync_state_to_string (op->state);
  g_task_return_pointer (task, batch, (GDestroyNotify) fd_sync_batch_free);
}

static void
fetch_users_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (object);
  g_autoptr(GTask) task = user_data;
  FetchOp *op = g_task_get_task_data (task);
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GError) error = NULL;
  BatchBuilder builder;
  ChannelState *channel;

  users = resolve_users_finish (self, result, &error);
  if (users == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  channel = g_ptr_array_index (op->state->channels, op->state->index);
  builder_init (&builder, op->batch, users);
  for (guint i = 0; i < op->threads->len; i++)
    {
      Thread *thread = g_ptr_array_index (op->threads, i);
      g_autoptr(GPtrArray) messages = g_ptr_array_new ();
      gboolean has_replies;
      JsonObject *parent;
      AuthorKind kind;

      if (thread->gone || thread->messages->len == 0)
        continue;

      parent = node_object (g_ptr_array_index (thread->messages, 0));
      has_replies = thread->messages->len > 1 || get_int (parent, "reply_count") > 0;
      kind = classify_author (self, parent,
                              g_hash_table_lookup (users, fd_json_string (parent, "user") ?: ""));

      /* A top-level message with no replies is a conversation only when a customer
       * wrote it; an agent's announcement is not. */
      if (!has_replies && kind != AUTHOR_CONTACT)
        continue;

      for (guint j = 0; j < thread->messages->len; j++)
        g_ptr_array_add (messages, node_object (g_ptr_array_index (thread->messages, j)));

      builder_add_thread (&builder, self, channel->id, thread->thread_ts, messages,
                          TRUE, thread->set_status);
    }
  builder_clear (&builder);

  /* The page is stored; move on. */
  g_clear_pointer (&op->threads, g_ptr_array_unref);
  g_clear_pointer (&op->user_ids, g_hash_table_unref);
  if (op->channel_done)
    {
      sync_state_end_channel (op->state);
    }
  else
    {
      g_free (op->state->page);
      op->state->page = g_steal_pointer (&op->next_page);
    }
  g_clear_pointer (&op->next_page, g_free);
  op->channel_done = FALSE;

  /* Quiet channels need no transaction of their own. */
  if (op->state->running && fd_sync_batch_is_empty (op->batch))
    {
      fetch_history_page (g_steal_pointer (&task));
      return;
    }

  fetch_return (task);
}

static void
fetch_threads_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (object);
  g_autoptr(GTask) task = user_data;
  FetchOp *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GError) error = NULL;

  if (!fanout_finish (self, result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  op->user_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < op->threads->len; i++)
    {
      Thread *thread = g_ptr_array_index (op->threads, i);

      for (guint j = 0; j < thread->messages->len; j++)
        collect_user_ids (node_object (g_ptr_array_index (thread->messages, j)), op->user_ids);
    }

  resolve_users_async (self, op->user_ids, cancellable, fetch_users_cb, g_steal_pointer (&task));
}

static void
fetch_history_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (object);
  g_autoptr(GTask) task = user_data;
  FetchOp *op = g_task_get_task_data (task);
  SyncState *state = op->state;
  GCancellable *cancellable = g_task_get_cancellable (task);
  ChannelState *channel = g_ptr_array_index (state->channels, state->index);
  g_autoptr(GPtrArray) to_fetch = g_ptr_array_new ();
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  gboolean first_page = state->page == NULL;
  JsonObject *root;
  JsonArray *messages;
  const char *next;

  answer = slack_call_finish (self, result, &error);
  if (answer == NULL)
    {
      /* A channel that was unshared, or that the bot left, is skipped, not fatal:
       * the other channels still sync. */
      if (g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND))
        {
          g_debug ("Skipping channel %s: %s", channel->id, error->message);
          op->threads = g_ptr_array_new_with_free_func ((GDestroyNotify) thread_free);
          op->channel_done = TRUE;
          fanout_async (self, to_fetch, replies_step, replies_tolerate, NULL,
                        cancellable, fetch_threads_cb, g_steal_pointer (&task));
          return;
        }

      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  root = node_object (answer);
  messages = fd_json_array (root, "messages");
  if (messages == NULL)
    {
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                               _("Slack sent a channel history Frontdesk could not read. "
                                 "Nothing was changed; it will try again."));
      return;
    }

  op->threads = g_ptr_array_new_with_free_func ((GDestroyNotify) thread_free);

  /* The newest messages come first: the first page of a pass, read before anything
   * else, says up to where this pass has certainly seen everything. */
  for (guint i = 0; first_page && i < json_array_get_length (messages); i++)
    {
      JsonObject *message = node_object (json_array_get_element (messages, i));

      state->next_wm = MAX (state->next_wm, ts_to_usec (fd_json_string (message, "ts")));
      state->next_wm = MAX (state->next_wm, ts_to_usec (fd_json_string (message, "latest_reply")));
    }

  /* Oldest first, the order conversations are stored in. */
  for (guint i = json_array_get_length (messages); i-- > 0; )
    {
      JsonNode *node = json_array_get_element (messages, i);
      JsonObject *message = node_object (node);
      const char *ts = fd_json_string (message, "ts");
      const char *thread_ts = fd_json_string (message, "thread_ts");
      gint64 usec = ts_to_usec (ts);
      gint64 latest = ts_to_usec (fd_json_string (message, "latest_reply"));
      gint64 activity = MAX (usec, latest);
      Thread *thread;

      if (usec < 0)
        continue;

      /* A reply shown in the channel too: it comes with its thread. */
      if (thread_ts != NULL && g_strcmp0 (thread_ts, ts) != 0)
        continue;
      if (!is_conversation_subtype (fd_json_string (message, "subtype")))
        continue;

      if (activity >= state->next_wm - WATCH_WINDOW_USEC)
        state->next_watch = MIN (state->next_watch, usec);

      /* Stored already, with nothing new since. */
      if (activity <= channel->wm)
        continue;

      thread = thread_new (channel->id, node);
      thread->set_status = TRUE;
      g_ptr_array_add (op->threads, thread);
      if (get_int (message, "reply_count") > 0)
        g_ptr_array_add (to_fetch, thread);
    }

  next = fd_json_string (fd_json_object (root, "response_metadata"), "next_cursor");
  if (get_bool (root, "has_more", FALSE) && next != NULL && next[0] != '\0' &&
      g_strcmp0 (next, op->state->page) != 0)
    op->next_page = g_strdup (next);
  else
    op->channel_done = TRUE;

  fanout_async (self, to_fetch, replies_step, replies_tolerate, NULL,
                cancellable, fetch_threads_cb, g_steal_pointer (&task));
}

static void
fetch_history_page (GTask *task)
{
  FdSlackChannel *self = g_task_get_source_object (task);
  FetchOp *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  ChannelState *channel;
  FdHttpRequest *request;

  if (!op->state->running || op->state->index >= op->state->channels->len)
    {
      op->state->running = FALSE;
      fetch_return (task);
      g_object_unref (task);
      return;
    }

  channel = g_ptr_array_index (op->state->channels, op->state->index);

  request = slack_get ("conversations.history");
  fd_http_request_add_query (request, "channel", channel->id);
  fd_http_request_add_query (request, "limit", PAGE_LIMIT);
  if (op->state->oldest > 0)
    {
      g_autofree char *oldest = usec_to_ts (op->state->oldest);

      fd_http_request_add_query (request, "oldest", oldest);
    }
  if (op->state->page != NULL)
    fd_http_request_add_query (request, "cursor", op->state->page);

  slack_call_async (self, request, FALSE, cancellable, fetch_history_cb, task);
}

static void
fetch_channels_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (object);
  g_autoptr(GTask) task = user_data;
  FetchOp *op = g_task_get_task_data (task);
  g_autoptr(GPtrArray) channels = NULL;
  g_autoptr(GError) error = NULL;

  channels = list_channels_finish (self, result, &error);
  if (channels == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Watermarks carry over for channels still shared; new channels start afresh. */
  for (guint i = 0; i < channels->len; i++)
    {
      ChannelState *channel = g_ptr_array_index (channels, i);
      FdOrgRecord *org;

      for (guint j = 0; j < op->state->channels->len; j++)
        {
          ChannelState *previous = g_ptr_array_index (op->state->channels, j);

          if (g_str_equal (previous->id, channel->id))
            {
              channel->wm = previous->wm;
              channel->watch = previous->watch;
              break;
            }
        }

      org = fd_sync_batch_add_organisation (op->batch);
      org->external_id = g_strdup (channel->id);
      org->name = prettify_channel_name (channel->name);
    }

  g_ptr_array_set_size (op->state->channels, 0);
  g_ptr_array_extend_and_steal (op->state->channels, g_steal_pointer (&channels));

  op->state->running = op->state->channels->len > 0;
  op->state->index = 0;
  sync_state_begin_channel (op->state);

  fetch_history_page (g_steal_pointer (&task));
}

static void
fetch_auth_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (object);
  g_autoptr(GTask) task = user_data;
  FetchOp *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;

  answer = slack_call_finish (self, result, &error);
  if (answer == NULL || !store_auth (self, answer, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (op->state->running)
    fetch_history_page (g_steal_pointer (&task));
  else
    list_channels_async (self, cancellable, fetch_channels_cb, g_steal_pointer (&task));
}

static void
fd_slack_channel_fetch_async (FdChannel           *channel,
                              const char          *cursor,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (channel);
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  FetchOp *op;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_slack_channel_fetch_async);

  op = g_new0 (FetchOp, 1);
  op->batch = fd_sync_batch_new ();
  g_task_set_task_data (task, op, (GDestroyNotify) fetch_op_free);

  op->state = sync_state_parse (cursor, &error);
  if (op->state == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* A new sync checks the token and learns the team afresh; a resumed one only needs
   * the team to tell agents from customers. */
  if (!op->state->running)
    g_hash_table_remove_all (self->users);

  if (!op->state->running || self->team_id == NULL)
    slack_call_async (self, slack_get ("auth.test"), FALSE, cancellable,
                      fetch_auth_cb, g_steal_pointer (&task));
  else
    fetch_history_page (g_steal_pointer (&task));
}

static FdSyncBatch *
fd_slack_channel_fetch_finish (FdChannel     *channel,
                               GAsyncResult  *result,
                               gboolean      *has_more,
                               GError       **error)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (channel);
  FdSyncBatch *batch;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  batch = g_task_propagate_pointer (G_TASK (result), error);
  if (has_more != NULL)
    {
      FetchOp *op = g_task_get_task_data (G_TASK (result));

      *has_more = batch != NULL && op->state->running;
    }

  return batch;
}

/* Send */

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  const char *channel;
  const char *ts;

  answer = slack_call_finish (FD_SLACK_CHANNEL (object), result, &error);
  if (answer == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  root = node_object (answer);
  channel = fd_json_string (root, "channel");
  ts = fd_json_string (root, "ts");
  if (ts == NULL)
    ts = fd_json_string (fd_json_object (root, "message"), "ts");
  if (channel == NULL)
    channel = g_task_get_task_data (task);

  if (ts_to_usec (ts) < 0)
    {
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                               _("Slack took the reply but did not say where it is. Check the "
                                 "thread in Slack before sending it again."));
      return;
    }

  g_task_return_pointer (task, g_strdup_printf ("%s:%s", channel, ts), g_free);
}

/* A reply being sent again: it may have been posted by an attempt whose answer was lost.
 * Our own message in the thread with the same client_msg_id, or from our bot with the
 * same text, is that reply. */
typedef struct
{
  FdHttpRequest *post;
  char          *key;
  char          *text;
} SendCheck;

static void
send_check_free (SendCheck *check)
{
  g_clear_pointer (&check->post, fd_http_request_free);
  g_free (check->key);
  g_free (check->text);
  g_free (check);
}

static void
send_check_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FdSlackChannel *self = FD_SLACK_CHANNEL (object);
  SendCheck *check = g_object_get_data (G_OBJECT (task), "check");
  const char *channel_id = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *messages;

  answer = slack_call_finish (self, result, &error);
  if (answer == NULL)
    {
      /* Unknown whether it went out: better to wait and look again than post twice. */
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  messages = fd_json_array (node_object (answer), "messages");
  for (guint i = 0; messages != NULL && i < json_array_get_length (messages); i++)
    {
      JsonObject *message = node_object (json_array_get_element (messages, i));
      const char *ts = fd_json_string (message, "ts");
      gboolean ours = (self->bot_id != NULL && g_strcmp0 (fd_json_string (message, "bot_id"), self->bot_id) == 0) ||
                      (self->bot_user_id != NULL && g_strcmp0 (fd_json_string (message, "user"), self->bot_user_id) == 0);

      if (ts == NULL)
        continue;

      if ((check->key != NULL && g_strcmp0 (fd_json_string (message, "client_msg_id"), check->key) == 0) ||
          (ours && g_strcmp0 (fd_json_string (message, "text"), check->text) == 0))
        {
          g_debug ("Slack: the reply was already posted as %s", ts);
          g_task_return_pointer (task, g_strdup_printf ("%s:%s", channel_id, ts), g_free);
          return;
        }
    }

  slack_call_async (self, g_steal_pointer (&check->post), FALSE, cancellable, send_cb,
                    g_steal_pointer (&task));
}

static void
fd_slack_channel_send_async (FdChannel           *channel,
                             const FdOutboxItem  *item,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (channel);
  g_autoptr(GTask) task = NULL;
  g_autofree char *channel_id = NULL;
  g_autofree char *text = NULL;
  FdHttpRequest *request;
  const char *colon;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_slack_channel_send_async);

  switch (item->kind)
    {
    case FD_OUTBOX_REPLY:
      break;

    case FD_OUTBOX_NOTE:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Slack has no internal notes. The note stays in Frontdesk, "
                                 "where only your team can see it."));
      return;

    case FD_OUTBOX_STATUS:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Slack threads have no status. The change is kept in "
                                 "Frontdesk only."));
      return;

    case FD_OUTBOX_ASSIGN:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Slack threads cannot be assigned. The assignment is kept in "
                                 "Frontdesk only."));
      return;

    case FD_OUTBOX_TAG:
    case FD_OUTBOX_UNTAG:
    default:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Slack threads have no tags. Tags are kept in Frontdesk "
                                 "only."));
      return;
    }

  colon = item->conversation_external_id != NULL
    ? strchr (item->conversation_external_id, ':') : NULL;
  if (colon == NULL || colon == item->conversation_external_id ||
      ts_to_usec (colon + 1) < 0)
    {
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                               _("This conversation did not come from Slack, so the reply "
                                 "cannot be posted there."));
      return;
    }

  if (item->body == NULL || item->body[0] == '\0')
    {
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                               _("The reply is empty. Write something, then send it."));
      return;
    }

  channel_id = g_strndup (item->conversation_external_id, colon - item->conversation_external_id);
  text = escape_mrkdwn (item->body);

  request = fd_http_request_new ("POST", "/chat.postMessage");
  fd_http_request_add_form (request, "channel", channel_id);
  fd_http_request_add_form (request, "thread_ts", colon + 1);
  fd_http_request_add_form (request, "text", text);
  /* Slack's own clients send client_msg_id with each message; every attempt of one reply
   * carries the same one. Slack does not promise to deduplicate on it, so the request is
   * not resent blindly: a later attempt first looks for the reply in the thread. */
  if (item->idempotency_key != NULL && item->idempotency_key[0] != '\0')
    fd_http_request_add_form (request, "client_msg_id", item->idempotency_key);

  g_task_set_task_data (task, g_steal_pointer (&channel_id), g_free);

  if (item->attempts > 1)
    {
      SendCheck *check = g_new0 (SendCheck, 1);
      FdHttpRequest *replies = slack_get ("conversations.replies");

      check->post = request;
      check->key = g_strdup (item->idempotency_key);
      check->text = g_steal_pointer (&text);
      fd_http_request_add_query (replies, "channel", g_task_get_task_data (task));
      fd_http_request_add_query (replies, "ts", colon + 1);
      fd_http_request_add_query (replies, "limit", "200");
      g_object_set_data_full (G_OBJECT (task), "check", check, (GDestroyNotify) send_check_free);
      slack_call_async (self, replies, FALSE, cancellable, send_check_cb, g_steal_pointer (&task));
      return;
    }

  slack_call_async (self, request, FALSE, cancellable, send_cb, g_steal_pointer (&task));
}

static char *
fd_slack_channel_send_finish (FdChannel     *channel,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, channel), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Socket Mode
 *
 * apps.connections.open (app-level token) gives a WebSocket URL; Slack says hello, then
 * sends envelopes, each acknowledged with its envelope_id at once, before anything else,
 * so that Slack does not send it again. An envelope not acknowledged in time comes again
 * with retry_attempt > 0: envelope and event ids already taken are skipped. Slack asks
 * clients to reconnect ("disconnect") now and then; a dropped connection reconnects with
 * a growing, jittered wait. Events are handled one at a time, in order. */

typedef struct
{
  FdSlackChannel *self;
  GCancellable   *cancellable;
} LiveCall;

static LiveCall *
live_call_new (FdSlackChannel *self)
{
  LiveCall *call = g_new0 (LiveCall, 1);

  call->self = g_object_ref (self);
  call->cancellable = g_object_ref (self->live_cancellable);
  return call;
}

static void
live_call_free (LiveCall *call)
{
  g_clear_object (&call->self);
  g_clear_object (&call->cancellable);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LiveCall, live_call_free)

/* Whether the live session this call belongs to was stopped meanwhile. */
static gboolean
live_call_is_stale (LiveCall *call)
{
  return g_cancellable_is_cancelled (call->cancellable);
}

static void live_connect (FdSlackChannel *self);
static void live_handle_next_event (FdSlackChannel *self);

static void
set_live_state (FdSlackChannel   *self,
                FdSlackLiveState  state,
                const char       *error_message)
{
  if (g_strcmp0 (self->live_error, error_message) != 0)
    {
      g_free (self->live_error);
      self->live_error = g_strdup (error_message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE_ERROR]);
    }

  if (self->live_state != state)
    {
      self->live_state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE_STATE]);
    }
}

static void
live_drop_connection (FdSlackChannel *self)
{
  source_clear (&self->hello_source);

  if (self->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->ws, self);
      if (soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&self->ws);
    }
}

static gboolean
live_reconnect_cb (gpointer user_data)
{
  FdSlackChannel *self = user_data;

  g_clear_pointer (&self->reconnect_source, g_source_unref);
  live_connect (self);

  return G_SOURCE_REMOVE;
}

/* @failed: the connection failed (the wait grows); otherwise Slack asked us to reconnect
 * and we do so at once. */
static void
live_schedule_reconnect (FdSlackChannel *self,
                         gboolean        failed,
                         const char     *error_message)
{
  guint delay_ms;

  live_drop_connection (self);
  source_clear (&self->reconnect_source);

  if (failed)
    {
      guint64 ceiling;

      self->reconnect_attempt = MIN (self->reconnect_attempt + 1, 30);
      ceiling = (guint64) self->reconnect_base_ms << MIN (self->reconnect_attempt - 1, 16);
      ceiling = MIN (ceiling, self->reconnect_max_ms);
      delay_ms = (guint) g_random_double_range (ceiling / 2.0, ceiling + 1.0);
    }
  else
    {
      delay_ms = g_random_int_range (0, MAX (2, self->reconnect_base_ms / 10));
    }

  g_debug ("Socket Mode: reconnecting in %u ms%s%s", delay_ms,
           error_message != NULL ? ": " : "", error_message != NULL ? error_message : "");

  set_live_state (self, FD_SLACK_LIVE_RECONNECTING, error_message);

  self->reconnect_source = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->reconnect_source, live_reconnect_cb, self, NULL);
  g_source_attach (self->reconnect_source, self->context);
}

static gboolean
live_hello_timeout_cb (gpointer user_data)
{
  FdSlackChannel *self = user_data;

  g_clear_pointer (&self->hello_source, g_source_unref);
  live_schedule_reconnect (self, TRUE,
                           _("Slack opened the live connection but never said hello."));

  return G_SOURCE_REMOVE;
}

static gboolean
remember_id (FdSlackChannel *self,
             const char     *prefix,
             const char     *id)
{
  char *key;

  if (id == NULL || id[0] == '\0')
    return TRUE;

  key = g_strconcat (prefix, id, NULL);
  if (g_hash_table_contains (self->seen_ids, key))
    {
      g_free (key);
      return FALSE;
    }

  g_hash_table_add (self->seen_ids, key);
  g_queue_push_tail (&self->seen_order, key);
  while (g_queue_get_length (&self->seen_order) > SEEN_IDS_MAX)
    g_hash_table_remove (self->seen_ids, g_queue_pop_head (&self->seen_order));

  return TRUE;
}

static void
live_send_ack (SoupWebsocketConnection *ws,
               const char              *envelope_id)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "envelope_id");
  json_builder_add_string_value (builder, envelope_id);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);

  soup_websocket_connection_send_text (ws, text);
}

static void
ws_message_cb (SoupWebsocketConnection *ws,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  FdSlackChannel *self = user_data;
  g_autoptr(SoupWebsocketConnection) hold = g_object_ref (ws);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  const char *kind;
  const char *envelope_id;
  JsonObject *root;
  JsonObject *payload;
  gsize size;
  const char *data = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT ||
      !json_parser_load_from_data (parser, data, size, NULL) ||
      (root = node_object (json_parser_get_root (parser))) == NULL)
    {
      g_debug ("Socket Mode: ignoring a message that is not a JSON object");
      return;
    }

  kind = fd_json_string (root, "type");
  envelope_id = fd_json_string (root, "envelope_id");

  /* Acknowledge first: Slack resends what is not acknowledged within a few seconds,
   * however long handling takes. */
  if (envelope_id != NULL)
    live_send_ack (ws, envelope_id);

  if (g_strcmp0 (kind, "hello") == 0)
    {
      source_clear (&self->hello_source);
      self->reconnect_attempt = 0;
      set_live_state (self, FD_SLACK_LIVE_CONNECTED, NULL);
      return;
    }

  if (g_strcmp0 (kind, "disconnect") == 0)
    {
      g_debug ("Socket Mode: Slack asked to reconnect (%s)",
               fd_json_string (root, "reason") ?: "no reason");
      live_schedule_reconnect (self, FALSE, NULL);
      return;
    }

  if (g_strcmp0 (kind, "events_api") != 0)
    return;

  payload = fd_json_object (root, "payload");
  if (!remember_id (self, "envelope:", envelope_id))
    return;
  if (!remember_id (self, "event:", fd_json_string (payload, "event_id")))
    return;
  if (fd_json_object (payload, "event") == NULL)
    return;

  g_queue_push_tail (&self->events, json_node_ref (json_object_get_member (root, "payload")));
  live_handle_next_event (self);
}

static void
ws_closed_cb (SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  FdSlackChannel *self = user_data;
  g_autoptr(SoupWebsocketConnection) hold = g_object_ref (ws);
  gushort code = soup_websocket_connection_get_close_code (ws);

  g_debug ("Socket Mode: connection closed (%u)", code);
  live_schedule_reconnect (self, TRUE, _("The live connection to Slack dropped; reconnecting."));
}

static void
ws_error_cb (SoupWebsocketConnection *ws,
             GError                  *error,
             gpointer                 user_data)
{
  /* "closed" follows and reconnects. */
  g_debug ("Socket Mode: %s", error->message);
}

static void
live_ws_connect_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(LiveCall) call = user_data;
  FdSlackChannel *self = call->self;
  g_autoptr(SoupWebsocketConnection) ws = NULL;
  g_autoptr(GError) error = NULL;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &error);
  if (live_call_is_stale (call))
    return;

  if (ws == NULL)
    {
      g_debug ("Socket Mode: %s", error->message);
      live_schedule_reconnect (self, TRUE,
                               _("Frontdesk could not open the live connection to Slack; "
                                 "it will try again."));
      return;
    }

  self->ws = g_steal_pointer (&ws);
  soup_websocket_connection_set_keepalive_interval (self->ws, 30);
  g_signal_connect (self->ws, "message", G_CALLBACK (ws_message_cb), self);
  g_signal_connect (self->ws, "closed", G_CALLBACK (ws_closed_cb), self);
  g_signal_connect (self->ws, "error", G_CALLBACK (ws_error_cb), self);

  self->hello_source = g_timeout_source_new_seconds (HELLO_TIMEOUT_SECONDS);
  g_source_set_callback (self->hello_source, live_hello_timeout_cb, self, NULL);
  g_source_attach (self->hello_source, self->context);
}

static void
live_open_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LiveCall) call = user_data;
  FdSlackChannel *self = call->self;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupMessage) message = NULL;
  GCancellable *cancellable;
  const char *url;

  answer = slack_call_finish (self, result, &error);
  if (live_call_is_stale (call))
    return;

  if (answer == NULL)
    {
      live_schedule_reconnect (self, TRUE, error->message);
      return;
    }

  url = fd_json_string (node_object (answer), "url");
  message = url != NULL ? soup_message_new ("GET", url) : NULL;
  if (message == NULL)
    {
      live_schedule_reconnect (self, TRUE,
                               _("Slack gave no usable address for the live connection; "
                                 "Frontdesk will ask again."));
      return;
    }

  cancellable = call->cancellable;
  soup_session_websocket_connect_async (self->ws_session, message, NULL, NULL,
                                        G_PRIORITY_DEFAULT, cancellable,
                                        live_ws_connect_cb, g_steal_pointer (&call));
}

static void
live_open (FdSlackChannel *self)
{
  g_autofree char *authorization = g_strconcat ("Bearer ", self->app_token, NULL);
  FdHttpRequest *request;
  LiveCall *call = live_call_new (self);

  request = fd_http_request_new ("POST", "/apps.connections.open");
  fd_http_request_add_header (request, "Authorization", authorization);
  /* Asking for a new address twice is harmless. */
  fd_http_request_set_retry_safe (request, TRUE);

  slack_call_async (self, request, TRUE, call->cancellable, live_open_cb, call);
}

static void
store_live_channels (FdSlackChannel *self,
                     GPtrArray      *channels)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < channels->len; i++)
    {
      ChannelState *channel = g_ptr_array_index (channels, i);

      g_hash_table_replace (table, g_strdup (channel->id), g_strdup (channel->name));
    }

  g_clear_pointer (&self->live_channels, g_hash_table_unref);
  self->live_channels = g_steal_pointer (&table);
  self->live_channels_at = g_get_monotonic_time ();
}

static void
live_channels_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(LiveCall) call = user_data;
  FdSlackChannel *self = call->self;
  g_autoptr(GPtrArray) channels = NULL;
  g_autoptr(GError) error = NULL;

  channels = list_channels_finish (self, result, &error);
  if (live_call_is_stale (call))
    return;

  if (channels == NULL)
    {
      live_schedule_reconnect (self, TRUE, error->message);
      return;
    }

  store_live_channels (self, channels);
  live_open (self);
}

static void
live_auth_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LiveCall) call = user_data;
  FdSlackChannel *self = call->self;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;

  answer = slack_call_finish (self, result, &error);
  if (live_call_is_stale (call))
    return;

  if (answer == NULL || !store_auth (self, answer, &error))
    {
      live_schedule_reconnect (self, TRUE, error->message);
      return;
    }

  live_connect (self);
}

/* Who we are, which channels are Slack Connect, then the connection itself. */
static void
live_connect (FdSlackChannel *self)
{
  LiveCall *call;

  if (self->live_cancellable == NULL)
    return;

  live_drop_connection (self);
  call = live_call_new (self);

  if (self->team_id == NULL)
    slack_call_async (self, slack_get ("auth.test"), FALSE, call->cancellable,
                      live_auth_cb, call);
  else if (self->live_channels == NULL)
    list_channels_async (self, call->cancellable, live_channels_cb, call);
  else
    {
      live_call_free (call);
      live_open (self);
    }
}

/* Live events to batches */

typedef struct
{
  LiveCall   *call;
  JsonNode   *payload;
  JsonNode   *event;
  char       *channel_id;
  char       *thread_ts;
  JsonNode   *parent;     /* a reply's parent, when Slack gave it */
  GHashTable *user_ids;
} LiveEvent;

static void
live_event_free (LiveEvent *event)
{
  g_clear_pointer (&event->call, live_call_free);
  g_clear_pointer (&event->payload, json_node_unref);
  g_clear_pointer (&event->event, json_node_unref);
  g_free (event->channel_id);
  g_free (event->thread_ts);
  g_clear_pointer (&event->parent, json_node_unref);
  g_clear_pointer (&event->user_ids, g_hash_table_unref);
  g_free (event);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LiveEvent, live_event_free)

static void
live_event_done (LiveEvent *event)
{
  FdSlackChannel *self = event->call->self;
  gboolean stale = live_call_is_stale (event->call);

  g_object_ref (self);
  live_event_free (event);
  if (!stale)
    {
      self->handling_event = FALSE;
      live_handle_next_event (self);
    }
  g_object_unref (self);
}

static void
live_event_users_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  LiveEvent *event = user_data;
  FdSlackChannel *self = event->call->self;
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GPtrArray) messages = g_ptr_array_new ();
  g_autoptr(FdSyncBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *message = node_object (event->event);
  const char *name;
  BatchBuilder builder;
  FdOrgRecord *org;
  gboolean is_reply = event->thread_ts != NULL &&
                      g_strcmp0 (event->thread_ts, fd_json_string (message, "ts")) != 0;

  users = resolve_users_finish (self, result, &error);
  if (live_call_is_stale (event->call))
    {
      live_event_done (event);
      return;
    }

  if (users == NULL)
    {
      /* It was acknowledged; the next sync brings it instead. */
      g_debug ("Socket Mode: could not handle a message: %s", error->message);
      live_event_done (event);
      return;
    }

  /* A new top-level message is a conversation only when a customer wrote it. */
  if (!is_reply &&
      classify_author (self, message,
                       g_hash_table_lookup (users, fd_json_string (message, "user") ?: "")) != AUTHOR_CONTACT)
    {
      live_event_done (event);
      return;
    }

  batch = fd_sync_batch_new ();
  org = fd_sync_batch_add_organisation (batch);
  org->external_id = g_strdup (event->channel_id);
  name = self->live_channels != NULL ? g_hash_table_lookup (self->live_channels, event->channel_id) : NULL;
  org->name = prettify_channel_name (name);

  if (event->parent != NULL)
    g_ptr_array_add (messages, node_object (event->parent));
  g_ptr_array_add (messages, message);

  builder_init (&builder, batch, users);
  builder_add_thread (&builder, self, event->channel_id,
                      is_reply ? event->thread_ts : fd_json_string (message, "ts"),
                      messages, !is_reply || event->parent != NULL, TRUE);
  builder_clear (&builder);

  if (batch->conversations->len > 0)
    fd_channel_emit_live_batch (FD_CHANNEL (self), batch);

  live_event_done (event);
}

static void
live_event_resolve (LiveEvent *event)
{
  FdSlackChannel *self = event->call->self;

  event->user_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  collect_user_ids (node_object (event->event), event->user_ids);
  if (event->parent != NULL)
    collect_user_ids (node_object (event->parent), event->user_ids);

  resolve_users_async (self, event->user_ids, event->call->cancellable,
                       live_event_users_cb, event);
}

static void
live_event_parent_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  LiveEvent *event = user_data;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *messages;

  answer = slack_call_finish (FD_SLACK_CHANNEL (object), result, &error);
  if (live_call_is_stale (event->call))
    {
      live_event_done (event);
      return;
    }

  /* Without the parent the reply is still stored; the subject follows with the next
   * sync. */
  messages = fd_json_array (node_object (answer), "messages");
  if (messages != NULL && json_array_get_length (messages) > 0)
    {
      JsonNode *first = json_array_get_element (messages, 0);

      if (g_strcmp0 (fd_json_string (node_object (first), "ts"), event->thread_ts) == 0)
        event->parent = json_node_ref (first);
    }
  else if (error != NULL)
    {
      g_debug ("Socket Mode: no parent for %s: %s", event->thread_ts, error->message);
    }

  live_event_resolve (event);
}

static void
live_event_start (LiveEvent *event)
{
  FdSlackChannel *self = event->call->self;
  JsonObject *message = node_object (event->event);
  const char *ts = fd_json_string (message, "ts");
  FdHttpRequest *request;

  if (event->thread_ts == NULL || g_strcmp0 (event->thread_ts, ts) == 0)
    {
      live_event_resolve (event);
      return;
    }

  /* A reply: its parent gives the conversation its subject. */
  request = slack_get ("conversations.replies");
  fd_http_request_add_query (request, "channel", event->channel_id);
  fd_http_request_add_query (request, "ts", event->thread_ts);
  fd_http_request_add_query (request, "limit", "1");
  slack_call_async (self, request, FALSE, event->call->cancellable, live_event_parent_cb, event);
}

static void
live_event_channels_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  LiveEvent *event = user_data;
  FdSlackChannel *self = event->call->self;
  g_autoptr(GPtrArray) channels = NULL;
  g_autoptr(GError) error = NULL;

  channels = list_channels_finish (self, result, &error);
  if (live_call_is_stale (event->call))
    {
      live_event_done (event);
      return;
    }

  if (channels != NULL)
    store_live_channels (self, channels);
  else
    g_debug ("Socket Mode: could not list channels: %s", error->message);

  if (self->live_channels != NULL &&
      g_hash_table_contains (self->live_channels, event->channel_id))
    live_event_start (event);
  else
    live_event_done (event);
}

static void
live_handle_next_event (FdSlackChannel *self)
{
  g_autoptr(LiveEvent) event = NULL;
  g_autoptr(JsonNode) payload = NULL;
  JsonObject *message;
  const char *channel_id;

  if (self->handling_event || self->live_cancellable == NULL)
    return;

  while ((payload = g_queue_pop_head (&self->events)) != NULL)
    {
      const char *ts;

      message = fd_json_object (node_object (payload), "event");
      channel_id = fd_json_string (message, "channel");
      ts = fd_json_string (message, "ts");

      /* Messages only; not edits, deletions or joins, and not what Frontdesk itself
       * posted, which the outbox stored already. */
      if (g_strcmp0 (fd_json_string (message, "type"), "message") != 0 ||
          channel_id == NULL || ts_to_usec (ts) < 0 ||
          !is_conversation_subtype (fd_json_string (message, "subtype")) ||
          classify_author (self, message, NULL) == AUTHOR_OWN_BOT)
        {
          g_clear_pointer (&payload, json_node_unref);
          continue;
        }

      event = g_new0 (LiveEvent, 1);
      event->call = live_call_new (self);
      event->event = json_node_ref (json_object_get_member (node_object (payload), "event"));
      event->payload = g_steal_pointer (&payload);
      event->channel_id = g_strdup (channel_id);
      event->thread_ts = g_strdup (fd_json_string (message, "thread_ts"));
      break;
    }

  if (event == NULL)
    return;

  self->handling_event = TRUE;

  if (self->live_channels != NULL &&
      g_hash_table_contains (self->live_channels, event->channel_id))
    {
      live_event_start (g_steal_pointer (&event));
    }
  else if (g_get_monotonic_time () - self->live_channels_at >= CHANNELS_REFRESH_USEC ||
           get_bool (node_object (event->payload), "is_ext_shared_channel", FALSE))
    {
      /* A channel shared since the last listing, perhaps. */
      LiveCall *call = event->call;

      list_channels_async (self, call->cancellable, live_event_channels_cb,
                           g_steal_pointer (&event));
    }
  else
    {
      self->handling_event = FALSE;
      g_clear_pointer (&event, live_event_free);
      live_handle_next_event (self);
    }
}

static void
fd_slack_channel_start_live (FdChannel *channel)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (channel);

  if (self->app_token == NULL || self->live_cancellable != NULL)
    return;

  self->live_cancellable = g_cancellable_new ();
  self->reconnect_attempt = 0;
  if (self->ws_session == NULL)
    self->ws_session = soup_session_new_with_options ("user-agent", "Frontdesk/" PACKAGE_VERSION,
                                                      "timeout", 30,
                                                      NULL);

  set_live_state (self, FD_SLACK_LIVE_CONNECTING, NULL);
  live_connect (self);
}

static void
fd_slack_channel_stop_live (FdChannel *channel)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (channel);
  JsonNode *payload;

  if (self->live_cancellable != NULL)
    {
      g_cancellable_cancel (self->live_cancellable);
      g_clear_object (&self->live_cancellable);
    }

  source_clear (&self->reconnect_source);
  live_drop_connection (self);

  while ((payload = g_queue_pop_head (&self->events)) != NULL)
    json_node_unref (payload);
  self->handling_event = FALSE;

  set_live_state (self, FD_SLACK_LIVE_STOPPED, NULL);
}

/* GObject */

static void
fd_slack_channel_iface_init (FdChannelInterface *iface)
{
  iface->fetch_async = fd_slack_channel_fetch_async;
  iface->fetch_finish = fd_slack_channel_fetch_finish;
  iface->send_async = fd_slack_channel_send_async;
  iface->send_finish = fd_slack_channel_send_finish;
  iface->start_live = fd_slack_channel_start_live;
  iface->stop_live = fd_slack_channel_stop_live;
}

static void
fd_slack_channel_dispose (GObject *object)
{
  FdSlackChannel *self = (FdSlackChannel *)object;

  fd_slack_channel_stop_live (FD_CHANNEL (self));
  g_clear_object (&self->ws_session);

  G_OBJECT_CLASS (fd_slack_channel_parent_class)->dispose (object);
}

static void
fd_slack_channel_finalize (GObject *object)
{
  FdSlackChannel *self = (FdSlackChannel *)object;

  g_clear_object (&self->http);
  g_clear_pointer (&self->app_token, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->team_id, g_free);
  g_clear_pointer (&self->bot_user_id, g_free);
  g_clear_pointer (&self->bot_id, g_free);
  g_clear_pointer (&self->users, g_hash_table_unref);
  g_clear_pointer (&self->live_error, g_free);
  g_clear_pointer (&self->live_channels, g_hash_table_unref);
  g_queue_clear (&self->seen_order);
  g_clear_pointer (&self->seen_ids, g_hash_table_unref);

  G_OBJECT_CLASS (fd_slack_channel_parent_class)->finalize (object);
}

static void
fd_slack_channel_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  FdSlackChannel *self = FD_SLACK_CHANNEL (object);

  switch (prop_id)
    {
    case PROP_LIVE_STATE:
      g_value_set_enum (value, self->live_state);
      break;

    case PROP_LIVE_ERROR:
      g_value_set_string (value, self->live_error);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_slack_channel_class_init (FdSlackChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fd_slack_channel_dispose;
  object_class->finalize = fd_slack_channel_finalize;
  object_class->get_property = fd_slack_channel_get_property;

  /**
   * FdSlackChannel:live-state:
   *
   * Whether the Socket Mode connection is up, for the UI.
   */
  properties[PROP_LIVE_STATE] =
    g_param_spec_enum ("live-state", NULL, NULL,
                       FD_TYPE_SLACK_LIVE_STATE,
                       FD_SLACK_LIVE_STOPPED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FdSlackChannel:live-error:
   *
   * Why the live connection is reconnecting, in plain words, or %NULL.
   */
  properties[PROP_LIVE_ERROR] =
    g_param_spec_string ("live-error", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fd_slack_channel_init (FdSlackChannel *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->users = user_table_new ();
  self->seen_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->seen_order);
  g_queue_init (&self->events);
  self->reconnect_base_ms = 1000;
  self->reconnect_max_ms = 60000;
}

FdChannel *
fd_slack_channel_new (const char *base_url,
                      const char *bot_token,
                      const char *app_token)
{
  FdSlackChannel *self;
  g_autofree char *authorization = NULL;

  g_return_val_if_fail (base_url != NULL, NULL);
  g_return_val_if_fail (bot_token != NULL, NULL);

  self = g_object_new (FD_TYPE_SLACK_CHANNEL, NULL);
  self->http = fd_http_client_new ("Slack", base_url);

  authorization = g_strconcat ("Bearer ", bot_token, NULL);
  fd_http_client_set_header (self->http, "Authorization", authorization, TRUE);

  if (app_token != NULL && app_token[0] != '\0')
    {
      fd_log_register_secret (app_token);
      self->app_token = g_strdup (app_token);
    }

  return FD_CHANNEL (self);
}

FdHttpClient *
fd_slack_channel_get_http_client (FdSlackChannel *self)
{
  g_return_val_if_fail (FD_IS_SLACK_CHANNEL (self), NULL);

  return self->http;
}

FdSlackLiveState
fd_slack_channel_get_live_state (FdSlackChannel *self)
{
  g_return_val_if_fail (FD_IS_SLACK_CHANNEL (self), FD_SLACK_LIVE_STOPPED);

  return self->live_state;
}

const char *
fd_slack_channel_get_live_error (FdSlackChannel *self)
{
  g_return_val_if_fail (FD_IS_SLACK_CHANNEL (self), NULL);

  return self->live_error;
}

void
fd_slack_channel_set_reconnect_delays (FdSlackChannel *self,
                                       guint           base_ms,
                                       guint           max_ms)
{
  g_return_if_fail (FD_IS_SLACK_CHANNEL (self));

  self->reconnect_base_ms = base_ms;
  self->reconnect_max_ms = MAX (max_ms, base_ms);
}
