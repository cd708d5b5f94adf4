/* fd-http.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-http"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "fd-http.h"
#include "fd-log.h"

G_DEFINE_QUARK (fd-http-error-quark, fd_http_error)

struct _FdHttpRequest
{
  char      *method;
  char      *path;
  GString   *query;
  GPtrArray *headers;    /* name, value, name, value … */
  GBytes    *body;
  char      *content_type;
  GString   *form;
  gboolean   retry_safe;
};

struct _FdHttpClient
{
  GObject      parent_instance;

  char        *service;
  char        *base_url;
  SoupSession *session;
  GPtrArray   *headers;  /* name, value, name, value … */

  guint        max_attempts;
  guint        base_delay_ms;
  guint        max_delay_ms;

  guint        last_attempts;
};

G_DEFINE_FINAL_TYPE (FdHttpClient, fd_http_client, G_TYPE_OBJECT)

void
fd_http_response_free (FdHttpResponse *response)
{
  if (response == NULL)
    return;

  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_clear_pointer (&response->json, json_node_unref);
  g_free (response);
}

FdHttpRequest *
fd_http_request_new (const char *method,
                     const char *path)
{
  FdHttpRequest *request;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  request = g_new0 (FdHttpRequest, 1);
  request->method = g_strdup (method);
  request->path = g_strdup (path);
  request->headers = g_ptr_array_new_with_free_func (g_free);
  request->retry_safe = g_str_equal (method, "GET") || g_str_equal (method, "HEAD");

  return request;
}

void
fd_http_request_free (FdHttpRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->method);
  g_free (request->path);
  if (request->query != NULL)
    g_string_free (request->query, TRUE);
  if (request->form != NULL)
    g_string_free (request->form, TRUE);
  g_ptr_array_unref (request->headers);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request->content_type);
  g_free (request);
}

static void
append_encoded_pair (GString    *string,
                     const char *name,
                     const char *value)
{
  g_autofree char *escaped_name = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *escaped_value = g_uri_escape_string (value != NULL ? value : "", NULL, FALSE);

  if (string->len > 0)
    g_string_append_c (string, '&');

  g_string_append_printf (string, "%s=%s", escaped_name, escaped_value);
}

void
fd_http_request_add_query (FdHttpRequest *request,
                           const char    *name,
                           const char    *value)
{
  g_return_if_fail (request != NULL);
  g_return_if_fail (name != NULL);

  if (request->query == NULL)
    request->query = g_string_new (NULL);

  append_encoded_pair (request->query, name, value);
}

void
fd_http_request_add_header (FdHttpRequest *request,
                            const char    *name,
                            const char    *value)
{
  g_return_if_fail (request != NULL);
  g_return_if_fail (name != NULL && value != NULL);

  g_ptr_array_add (request->headers, g_strdup (name));
  g_ptr_array_add (request->headers, g_strdup (value));
}

void
fd_http_request_set_json (FdHttpRequest *request,
                          JsonNode      *body)
{
  g_autofree char *text = NULL;
  gsize length;

  g_return_if_fail (request != NULL);
  g_return_if_fail (body != NULL);

  text = json_to_string (body, FALSE);
  length = strlen (text);
  g_clear_pointer (&request->body, g_bytes_unref);
  request->body = g_bytes_new_take (g_steal_pointer (&text), length);
  g_free (request->content_type);
  request->content_type = g_strdup ("application/json");
}

void
fd_http_request_add_form (FdHttpRequest *request,
                          const char    *name,
                          const char    *value)
{
  g_return_if_fail (request != NULL);
  g_return_if_fail (name != NULL);

  if (request->form == NULL)
    request->form = g_string_new (NULL);

  append_encoded_pair (request->form, name, value);
}

void
fd_http_request_set_body (FdHttpRequest *request,
                          const char    *content_type,
                          GBytes        *body)
{
  g_return_if_fail (request != NULL);
  g_return_if_fail (content_type != NULL);
  g_return_if_fail (body != NULL);

  if (request->form != NULL)
    g_string_free (g_steal_pointer (&request->form), TRUE);
  g_clear_pointer (&request->body, g_bytes_unref);
  request->body = g_bytes_ref (body);
  g_free (request->content_type);
  request->content_type = g_strdup (content_type);
}

void
fd_http_request_set_retry_safe (FdHttpRequest *request,
                                gboolean       retry_safe)
{
  g_return_if_fail (request != NULL);

  request->retry_safe = !!retry_safe;
}

static void
fd_http_client_finalize (GObject *object)
{
  FdHttpClient *self = (FdHttpClient *)object;

  g_clear_pointer (&self->service, g_free);
  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->headers, g_ptr_array_unref);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (fd_http_client_parent_class)->finalize (object);
}

static void
fd_http_client_class_init (FdHttpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_http_client_finalize;
}

static void
fd_http_client_init (FdHttpClient *self)
{
  self->headers = g_ptr_array_new_with_free_func (g_free);
  self->session = soup_session_new_with_options ("user-agent", "Frontdesk/" PACKAGE_VERSION,
                                                 "timeout", 30,
                                                 "idle-timeout", 60,
                                                 "max-conns", 8,
                                                 "max-conns-per-host", 4,
                                                 NULL);
  self->max_attempts = 5;
  self->base_delay_ms = 500;
  self->max_delay_ms = 30000;
}

FdHttpClient *
fd_http_client_new (const char *service,
                    const char *base_url)
{
  FdHttpClient *self;
  gsize len;

  g_return_val_if_fail (service != NULL, NULL);
  g_return_val_if_fail (base_url != NULL, NULL);

  self = g_object_new (FD_TYPE_HTTP_CLIENT, NULL);
  self->service = g_strdup (service);

  /* Paths are joined with a single slash whatever the user typed. */
  self->base_url = g_strdup (base_url);
  len = strlen (self->base_url);
  while (len > 0 && self->base_url[len - 1] == '/')
    self->base_url[--len] = '\0';

  return self;
}

const char *
fd_http_client_get_base_url (FdHttpClient *self)
{
  g_return_val_if_fail (FD_IS_HTTP_CLIENT (self), NULL);

  return self->base_url;
}

void
fd_http_client_set_header (FdHttpClient *self,
                           const char   *name,
                           const char   *value,
                           gboolean      secret)
{
  g_return_if_fail (FD_IS_HTTP_CLIENT (self));
  g_return_if_fail (name != NULL && value != NULL);

  if (secret)
    {
      const char *credential = strrchr (value, ' ');

      /* "Bearer TOKEN": the token alone must be unprintable too. */
      fd_log_register_secret (value);
      if (credential != NULL)
        fd_log_register_secret (credential + 1);
    }

  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    {
      if (g_ascii_strcasecmp (g_ptr_array_index (self->headers, i), name) == 0)
        {
          g_free (g_ptr_array_index (self->headers, i + 1));
          g_ptr_array_index (self->headers, i + 1) = g_strdup (value);
          return;
        }
    }

  g_ptr_array_add (self->headers, g_strdup (name));
  g_ptr_array_add (self->headers, g_strdup (value));
}

void
fd_http_client_set_retry (FdHttpClient *self,
                          guint         max_attempts,
                          guint         base_delay_ms,
                          guint         max_delay_ms)
{
  g_return_if_fail (FD_IS_HTTP_CLIENT (self));
  g_return_if_fail (max_attempts >= 1);

  self->max_attempts = max_attempts;
  self->base_delay_ms = base_delay_ms;
  self->max_delay_ms = MAX (max_delay_ms, base_delay_ms);
}

void
fd_http_client_set_timeout (FdHttpClient *self,
                            guint         seconds)
{
  g_return_if_fail (FD_IS_HTTP_CLIENT (self));

  g_object_set (self->session, "timeout", seconds, NULL);
}

void
fd_http_client_set_max_connections (FdHttpClient *self,
                                    guint         max_connections)
{
  g_autoptr(SoupSession) session = NULL;

  g_return_if_fail (FD_IS_HTTP_CLIENT (self));
  g_return_if_fail (max_connections >= 1);

  /* Connection limits are construct-only: a new session, as no request is running yet
   * when a client is configured. */
  session = soup_session_new_with_options ("user-agent", "Frontdesk/" PACKAGE_VERSION,
                                           "timeout", soup_session_get_timeout (self->session),
                                           "idle-timeout", soup_session_get_idle_timeout (self->session),
                                           "max-conns", MAX (max_connections, 2) * 2,
                                           "max-conns-per-host", max_connections,
                                           NULL);
  g_set_object (&self->session, session);
}

const FdHttpResponse *
fd_http_client_get_failed_response (FdHttpClient *self,
                                    GAsyncResult *result)
{
  g_return_val_if_fail (FD_IS_HTTP_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_object_get_data (G_OBJECT (result), "failed-response");
}

guint
fd_http_client_get_last_attempts (FdHttpClient *self)
{
  g_return_val_if_fail (FD_IS_HTTP_CLIENT (self), 0);

  return self->last_attempts;
}

gint64
fd_http_parse_retry_after (const char *value,
                           gint64      now_usec)
{
  g_autoptr(GDateTime) date = NULL;
  char *end = NULL;
  guint64 seconds;

  if (value == NULL)
    return -1;

  while (g_ascii_isspace (*value))
    value++;

  if (g_ascii_isdigit (*value))
    {
      seconds = g_ascii_strtoull (value, &end, 10);
      while (end != NULL && g_ascii_isspace (*end))
        end++;
      if (end == NULL || *end != '\0' || seconds > 24 * 3600)
        return -1;
      return (gint64) seconds * 1000;
    }

  date = soup_date_time_new_from_http_string (value);
  if (date == NULL)
    return -1;

  return MAX (0, (g_date_time_to_unix (date) * G_USEC_PER_SEC - now_usec) / 1000);
}

typedef struct
{
  FdHttpRequest *request;
  guint          attempt;
  GSource       *wait_source;
  GSource       *cancel_source;
} SendData;

static void
send_data_free (SendData *data)
{
  fd_http_request_free (data->request);
  if (data->wait_source != NULL)
    {
      g_source_destroy (data->wait_source);
      g_source_unref (data->wait_source);
    }
  if (data->cancel_source != NULL)
    {
      g_source_destroy (data->cancel_source);
      g_source_unref (data->cancel_source);
    }
  g_free (data);
}

static void send_attempt (GTask *task);

/* Pulls the service's own reason out of the usual error shapes: Stripe's
 * {"error":{"message"}}, Intercom's and Linear's {"errors":[{"message"}]}, Discourse's
 * {"errors":["…"]}, Slack's {"error":"code"}, or a top-level "message". */
static char *
extract_service_message (JsonNode *json)
{
  JsonObject *object;
  JsonNode *node;

  if (json == NULL || !JSON_NODE_HOLDS_OBJECT (json))
    return NULL;

  object = json_node_get_object (json);

  if ((node = json_object_get_member (object, "error")) != NULL)
    {
      if (JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *error = json_node_get_object (node);

          if (json_object_has_member (error, "message"))
            return g_strdup (json_object_get_string_member_with_default (error, "message", NULL));
        }
      else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        {
          return g_strdup (json_node_get_string (node));
        }
    }

  if ((node = json_object_get_member (object, "errors")) != NULL &&
      JSON_NODE_HOLDS_ARRAY (node) &&
      json_array_get_length (json_node_get_array (node)) > 0)
    {
      JsonNode *first = json_array_get_element (json_node_get_array (node), 0);

      if (JSON_NODE_HOLDS_OBJECT (first))
        return g_strdup (json_object_get_string_member_with_default (json_node_get_object (first),
                                                                     "message", NULL));
      if (JSON_NODE_HOLDS_VALUE (first) && json_node_get_value_type (first) == G_TYPE_STRING)
        return g_strdup (json_node_get_string (first));
    }

  if (json_object_has_member (object, "message"))
    return g_strdup (json_object_get_string_member_with_default (object, "message", NULL));

  return NULL;
}

static gboolean
wait_done_cb (gpointer user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->wait_source, g_source_unref);
  if (data->cancel_source != NULL)
    {
      g_source_destroy (data->cancel_source);
      g_clear_pointer (&data->cancel_source, g_source_unref);
    }

  send_attempt (task);
  return G_SOURCE_REMOVE;
}

static gboolean
wait_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->cancel_source, g_source_unref);
  if (data->wait_source != NULL)
    {
      g_source_destroy (data->wait_source);
      g_clear_pointer (&data->wait_source, g_source_unref);
    }

  g_task_return_error_if_cancelled (task);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* Schedules the next attempt, or returns FALSE when there is none left. */
static gboolean
schedule_retry (GTask  *task,
                gint64  retry_after_ms)
{
  FdHttpClient *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  guint64 delay_ms;

  if (data->attempt >= self->max_attempts)
    return FALSE;

  if (retry_after_ms >= 0)
    {
      /* The service said when; waiting longer than our cap is the caller's decision. */
      if (retry_after_ms > self->max_delay_ms)
        return FALSE;
      delay_ms = retry_after_ms + g_random_int_range (0, MAX (1, self->base_delay_ms / 4));
    }
  else
    {
      /* Exponential back-off with full jitter. */
      guint64 ceiling = (guint64) self->base_delay_ms << MIN (data->attempt - 1, 16);

      ceiling = MIN (ceiling, self->max_delay_ms);
      delay_ms = ceiling > 0 ? (guint64) g_random_double_range (ceiling / 2.0, ceiling) : 0;
    }

  g_debug ("%s: attempt %u failed, retrying in %" G_GUINT64_FORMAT " ms",
           self->service, data->attempt, delay_ms);

  data->wait_source = g_timeout_source_new ((guint) delay_ms);
  g_source_set_callback (data->wait_source, wait_done_cb, task, NULL);
  g_source_attach (data->wait_source, g_main_context_get_thread_default ());

  if (cancellable != NULL)
    {
      data->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (data->cancel_source, G_SOURCE_FUNC (wait_cancelled_cb), task, NULL);
      g_source_attach (data->cancel_source, g_main_context_get_thread_default ());
    }

  return TRUE;
}

static void
return_http_error (GTask              *task,
                   guint               status,
                   SoupMessageHeaders *headers,
                   JsonNode           *json)
{
  FdHttpClient *self = g_task_get_source_object (task);
  g_autofree char *reason = extract_service_message (json);
  g_autofree char *detail = NULL;

  /* The service's words, where it gave some, after ours; never a raw body. */
  detail = reason != NULL
    ? g_strdup_printf (" (HTTP %u: %s)", status, reason)
    : g_strdup_printf (" (HTTP %u)", status);

  if (status == 401 || status == 403)
    g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED,
                             _("%s did not accept the token. Check that it is right and "
                               "has the permissions Frontdesk needs, then enter it again.%s"),
                             self->service, detail);
  else if (status == 404)
    g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND,
                             _("%s has no such item; it may have been deleted.%s"),
                             self->service, detail);
  else if (status == 429)
    {
      gint64 wait_ms = fd_http_parse_retry_after (soup_message_headers_get_one (headers, "Retry-After"),
                                                  g_get_real_time ());

      if (wait_ms >= 0)
        g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_RATE_LIMITED,
                                 _("%s asked Frontdesk to slow down. It will try again in %u s.%s"),
                                 self->service, (guint) ((wait_ms + 999) / 1000), detail);
      else
        g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_RATE_LIMITED,
                                 _("%s asked Frontdesk to slow down. It will try again shortly.%s"),
                                 self->service, detail);
    }
  else if (status >= 500)
    g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER,
                             _("%s is having trouble right now. Frontdesk will try again later.%s"),
                             self->service, detail);
  else
    g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED,
                             _("%s refused the request.%s"),
                             self->service, detail);
}

static gboolean
looks_like_json (SoupMessageHeaders *headers,
                 GBytes             *body)
{
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  gsize size;
  const char *bytes = g_bytes_get_data (body, &size);

  if (content_type != NULL && (g_str_has_suffix (content_type, "/json") ||
                               g_str_has_suffix (content_type, "+json")))
    return TRUE;

  for (gsize i = 0; i < size; i++)
    {
      if (!g_ascii_isspace (bytes[i]))
        return bytes[i] == '{' || bytes[i] == '[';
    }

  return FALSE;
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FdHttpClient *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  SoupMessage *message = g_object_get_data (G_OBJECT (task), "message");
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  self->last_attempts = data->attempt;

  if (body == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      g_debug ("%s: %s %s: %s", self->service, data->request->method, data->request->path,
               error->message);

      if (data->request->retry_safe && schedule_retry (task, -1))
        {
          g_steal_pointer (&task);
          return;
        }

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_TIMEOUT,
                                 _("%s did not answer in time. Frontdesk will try again later."),
                                 self->service);
      else
        g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_NETWORK,
                                 _("Frontdesk could not reach %s. Check your connection; "
                                   "nothing was lost, and it will try again."),
                                 self->service);
      return;
    }

  status = soup_message_get_status (message);
  headers = soup_message_get_response_headers (message);

  if (g_bytes_get_size (body) > 0 && looks_like_json (headers, body))
    {
      g_autoptr(JsonParser) parser = json_parser_new_immutable ();
      gsize size;
      const char *bytes = g_bytes_get_data (body, &size);

      if (json_parser_load_from_data (parser, bytes, size, NULL))
        json = json_node_ref (json_parser_get_root (parser));
    }

  if (status == 429)
    {
      gint64 wait_ms = fd_http_parse_retry_after (soup_message_headers_get_one (headers, "Retry-After"),
                                                  g_get_real_time ());

      if (schedule_retry (task, wait_ms))
        {
          g_steal_pointer (&task);
          return;
        }
    }
  else if (status >= 500 && data->request->retry_safe && schedule_retry (task, -1))
    {
      g_steal_pointer (&task);
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      FdHttpResponse *failed = g_new0 (FdHttpResponse, 1);

      failed->status = status;
      failed->headers = soup_message_headers_ref (headers);
      failed->body = g_bytes_ref (body);
      failed->json = json != NULL ? json_node_ref (json) : NULL;
      g_object_set_data_full (G_OBJECT (task), "failed-response", failed,
                              (GDestroyNotify) fd_http_response_free);
      return_http_error (task, status, headers, json);
      return;
    }

  if (json == NULL && g_bytes_get_size (body) > 0 && looks_like_json (headers, body))
    {
      /* A truncated or garbled page: worth another try if sending twice is safe. */
      if (data->request->retry_safe && schedule_retry (task, -1))
        {
          g_steal_pointer (&task);
          return;
        }

      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                               _("%s sent an answer Frontdesk could not read (it was cut off or "
                                 "malformed). Nothing was changed; it will try again."),
                               self->service);
      return;
    }

  {
    FdHttpResponse *response = g_new0 (FdHttpResponse, 1);

    response->status = status;
    response->headers = soup_message_headers_ref (headers);
    response->body = g_steal_pointer (&body);
    response->json = g_steal_pointer (&json);
    g_task_return_pointer (task, response, (GDestroyNotify) fd_http_response_free);
  }
}

static void
send_attempt (GTask *task)
{
  FdHttpClient *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  FdHttpRequest *request = data->request;
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GString) url = g_string_new (self->base_url);
  SoupMessageHeaders *headers;

  data->attempt++;

  if (request->path[0] != '/')
    g_string_append_c (url, '/');
  g_string_append (url, request->path);
  if (request->query != NULL && request->query->len > 0)
    {
      g_string_append_c (url, strchr (request->path, '?') != NULL ? '&' : '?');
      g_string_append_len (url, request->query->str, request->query->len);
    }

  message = soup_message_new (request->method, url->str);
  if (message == NULL)
    {
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED,
                               _("The address of %s is not valid. Check it in Preferences → Accounts."),
                               self->service);
      g_object_unref (task);
      return;
    }

  headers = soup_message_get_request_headers (message);
  soup_message_headers_replace (headers, "Accept", "application/json");
  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    soup_message_headers_replace (headers,
                                  g_ptr_array_index (self->headers, i),
                                  g_ptr_array_index (self->headers, i + 1));
  for (guint i = 0; i + 1 < request->headers->len; i += 2)
    soup_message_headers_replace (headers,
                                  g_ptr_array_index (request->headers, i),
                                  g_ptr_array_index (request->headers, i + 1));

  if (request->form != NULL)
    {
      g_autoptr(GBytes) form = g_bytes_new (request->form->str, request->form->len);

      soup_message_set_request_body_from_bytes (message, "application/x-www-form-urlencoded", form);
    }
  else if (request->body != NULL)
    {
      soup_message_set_request_body_from_bytes (message, request->content_type, request->body);
    }

  g_object_set_data_full (G_OBJECT (task), "message", g_object_ref (message), g_object_unref);

  soup_session_send_and_read_async (self->session, message, G_PRIORITY_DEFAULT,
                                    g_task_get_cancellable (task), send_cb, task);
}

void
fd_http_client_send_async (FdHttpClient        *self,
                           FdHttpRequest       *request,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;
  SendData *data;

  g_return_if_fail (FD_IS_HTTP_CLIENT (self));
  g_return_if_fail (request != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_http_client_send_async);

  data = g_new0 (SendData, 1);
  data->request = request;
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  send_attempt (task);
}

FdHttpResponse *
fd_http_client_send_finish (FdHttpClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (FD_IS_HTTP_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
