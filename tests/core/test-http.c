/* test-http.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * FdHttpClient against a real SoupServer on 127.0.0.1 that misbehaves on purpose.
 */

#include "config.h"

#include <string.h>

#include "fd-http.h"
#include "fd-log.h"

typedef struct
{
  SoupServer *server;
  char       *base_url;
  GQueue      script;  /* of char*: what the next requests get */
  guint       hits;
  char       *last_auth;
  char       *last_body;
  char       *last_query;
} Fixture;

/* One scripted answer per request: "200 {json}", "429 RA=1", "500", "drop",
 * "truncate", "401 {json}", "slow". The last entry repeats. */
static void
write_raw_and_close (SoupServerMessage *msg,
                     const char        *raw)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);

  if (raw != NULL)
    g_output_stream_write_all (g_io_stream_get_output_stream (stream), raw, strlen (raw),
                               NULL, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

static void
handler (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  Fixture *f = user_data;
  const char *step = g_queue_get_length (&f->script) > 1
    ? g_queue_pop_head (&f->script)
    : g_queue_peek_head (&f->script);
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  guint status;
  const char *rest;

  f->hits++;
  g_free (f->last_auth);
  f->last_auth = g_strdup (soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                         "Authorization"));
  g_free (f->last_body);
  f->last_body = g_strndup (request_body->data, request_body->length);
  g_free (f->last_query);
  f->last_query = g_strdup (g_uri_get_query (soup_server_message_get_uri (msg)));

  if (g_str_equal (step, "drop"))
    {
      write_raw_and_close (msg, NULL);
      return;
    }

  if (g_str_equal (step, "truncate"))
    {
      write_raw_and_close (msg, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                "Content-Length: 200\r\n\r\n{\"conversations\": [{\"id\"");
      return;
    }

  status = (guint) g_ascii_strtoull (step, (char **) &rest, 10);
  while (*rest == ' ')
    rest++;

  if (g_str_has_prefix (rest, "RA="))
    {
      soup_message_headers_replace (response_headers, "Retry-After", rest + 3);
      rest = "{\"type\":\"error.list\",\"errors\":[{\"code\":\"rate_limit_exceeded\",\"message\":\"Slow down\"}]}";
    }

  soup_server_message_set_status (msg, status, NULL);
  if (*rest != '\0')
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, rest, strlen (rest));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_queue_init (&f->script);
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, handler, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (f->server);
  f->base_url = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_free (f->base_url);
  g_free (f->last_auth);
  g_free (f->last_body);
  g_free (f->last_query);
  g_queue_clear (&f->script);
}

static void
script (Fixture    *f,
        const char *first,
        ...)
{
  va_list args;

  va_start (args, first);
  for (const char *step = first; step != NULL; step = va_arg (args, const char *))
    g_queue_push_tail (&f->script, (gpointer) step);
  va_end (args);
}

static FdHttpClient *
make_client (Fixture *f)
{
  FdHttpClient *client = fd_http_client_new ("Intercom", f->base_url);

  /* Short waits so the test is quick; the logic is the same as in production. */
  fd_http_client_set_retry (client, 4, 20, 2000);
  return client;
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static FdHttpResponse *
send (FdHttpClient   *client,
      FdHttpRequest  *request,
      GCancellable   *cancellable,
      GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_http_client_send_async (client, request, cancellable, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return fd_http_client_send_finish (client, result, error);
}

static void
test_http_json (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  FdHttpRequest *request;

  script (f, "200 {\"type\":\"conversation.list\",\"total_count\":2}", NULL);
  fd_http_client_set_header (client, "Authorization", "Bearer dG9rOnRlc3QtaHR0cC1zZWNyZXQ=", TRUE);

  request = fd_http_request_new ("GET", "/conversations");
  fd_http_request_add_query (request, "per_page", "50");
  fd_http_request_add_query (request, "starting_after", "a b&c");
  response = send (client, request, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_nonnull (response->json);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (response->json), "total_count"), ==, 2);
  g_assert_cmpstr (f->last_auth, ==, "Bearer dG9rOnRlc3QtaHR0cC1zZWNyZXQ=");
  g_assert_cmpstr (f->last_query, ==, "per_page=50&starting_after=a%20b%26c");
  g_assert_cmpuint (fd_http_client_get_last_attempts (client), ==, 1);

  /* The secret header was registered with the redactor. */
  {
    g_autofree char *line = fd_log_redact ("sent dG9rOnRlc3QtaHR0cC1zZWNyZXQ= to the server");

    g_assert_cmpstr (line, ==, "sent [redacted] to the server");
  }
}

static void
test_http_form (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  FdHttpRequest *request;

  script (f, "200 {\"id\":\"sub_1\"}", NULL);
  request = fd_http_request_new ("POST", "/v1/subscriptions/sub_1");
  fd_http_request_add_form (request, "items[0][quantity]", "12");
  fd_http_request_add_form (request, "metadata[note]", "seats & more");
  response = send (client, request, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (f->last_body, ==, "items%5B0%5D%5Bquantity%5D=12&metadata%5Bnote%5D=seats%20%26%20more");
}

static void
test_http_rate_limited (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  /* A 429 is retried even for a POST: the service did not process it. */
  script (f, "429 RA=1", "200 {\"ok\":true}", NULL);
  start = g_get_monotonic_time ();
  response = send (client, fd_http_request_new ("POST", "/conversations/1/reply"), NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (f->hits, ==, 2);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1 * G_USEC_PER_SEC);
}

static void
test_http_rate_limited_too_long (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  /* Longer than the client's cap: it gives up at once and says when to come back. */
  script (f, "429 RA=120", NULL);
  response = send (client, fd_http_request_new ("GET", "/conversations"), NULL, &error);

  g_assert_null (response);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_RATE_LIMITED);
  g_assert_nonnull (strstr (error->message, "120 s"));
  g_assert_nonnull (strstr (error->message, "Slow down"));
  g_assert_cmpuint (f->hits, ==, 1);
}

static void
test_http_server_error_retry_safe (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  script (f, "500", "503", "200 {\"ok\":true}", NULL);
  response = send (client, fd_http_request_new ("GET", "/conversations"), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->hits, ==, 3);
  g_assert_cmpuint (fd_http_client_get_last_attempts (client), ==, 3);
}

static void
test_http_server_error_not_retried (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  FdHttpRequest *request;

  /* A write without an idempotency key might have happened: never sent twice. */
  script (f, "500", "200 {\"ok\":true}", NULL);
  response = send (client, fd_http_request_new ("POST", "/conversations/1/reply"), NULL, &error);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER);
  g_assert_cmpuint (f->hits, ==, 1);
  g_clear_error (&error);

  /* With a key it is safe, and retried. */
  g_queue_clear (&f->script);
  f->hits = 0;
  script (f, "502", "200 {\"ok\":true}", NULL);
  request = fd_http_request_new ("POST", "/v1/refunds");
  fd_http_request_add_header (request, "Idempotency-Key", "fd-refund-1");
  fd_http_request_set_retry_safe (request, TRUE);
  g_clear_pointer (&response, fd_http_response_free);
  response = send (client, request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->hits, ==, 2);
}

static void
test_http_gives_up (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  script (f, "503", NULL);
  response = send (client, fd_http_request_new ("GET", "/conversations"), NULL, &error);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER);
  g_assert_cmpuint (f->hits, ==, 4);
  /* Plain words first, the status after. */
  g_assert_true (g_str_has_prefix (error->message, "Intercom is having trouble"));
  g_assert_nonnull (strstr (error->message, "HTTP 503"));
}

static void
test_http_dropped (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  script (f, "drop", "truncate", "200 {\"ok\":true}", NULL);
  response = send (client, fd_http_request_new ("GET", "/conversations"), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->hits, ==, 3);

  g_queue_clear (&f->script);
  f->hits = 0;
  script (f, "drop", NULL);
  g_clear_pointer (&response, fd_http_response_free);
  response = send (client, fd_http_request_new ("GET", "/conversations"), NULL, &error);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NETWORK);
  /* libsoup itself resends once when a reused keep-alive connection turns out closed. */
  g_assert_cmpuint (fd_http_client_get_last_attempts (client), ==, 4);
  g_assert_cmpuint (f->hits, >=, 4);
  g_assert_cmpuint (f->hits, <=, 8);
}

static void
test_http_malformed (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  script (f, "200 {\"conversations\": [1, 2,", NULL);
  response = send (client, fd_http_request_new ("GET", "/conversations"), NULL, &error);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE);
  g_assert_null (strstr (error->message, "conversations"));
  g_assert_cmpuint (f->hits, ==, 4);
}

static void
test_http_unauthorized (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  script (f, "401 {\"type\":\"error.list\",\"errors\":[{\"code\":\"unauthorized\",\"message\":\"Access Token Invalid\"}]}", NULL);
  response = send (client, fd_http_request_new ("GET", "/me"), NULL, &error);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "Access Token Invalid"));
  g_assert_nonnull (strstr (error->message, "token"));
  g_assert_cmpuint (f->hits, ==, 1);
  g_clear_error (&error);

  g_queue_clear (&f->script);
  script (f, "422 {\"error\":{\"message\":\"Amount must be positive\",\"type\":\"invalid_request_error\"}}", NULL);
  g_clear_pointer (&response, fd_http_response_free);
  response = send (client, fd_http_request_new ("POST", "/v1/refunds"), NULL, &error);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "Amount must be positive"));
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_http_cancel_during_wait (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(FdHttpClient) client = make_client (f);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  /* Retry-After 5 s is under the cap, so the client waits; cancelling ends the wait long
   * before it would have ended by itself. */
  fd_http_client_set_retry (client, 4, 20, 10000);
  script (f, "429 RA=5", NULL);
  g_timeout_add (200, cancel_cb, cancellable);
  response = send (client, fd_http_request_new ("GET", "/conversations"), cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_assert_cmpuint (f->hits, ==, 1);
}

static void
test_http_retry_after_parse (void)
{
  gint64 now = G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC;

  g_assert_cmpint (fd_http_parse_retry_after ("3", now), ==, 3000);
  g_assert_cmpint (fd_http_parse_retry_after (" 0 ", now), ==, 0);
  g_assert_cmpint (fd_http_parse_retry_after ("Tue, 14 Nov 2023 22:13:40 GMT", now), ==, 20000);
  g_assert_cmpint (fd_http_parse_retry_after ("Mon, 13 Nov 2023 00:00:00 GMT", now), ==, 0);
  g_assert_cmpint (fd_http_parse_retry_after ("soon", now), ==, -1);
  g_assert_cmpint (fd_http_parse_retry_after ("3x", now), ==, -1);
  g_assert_cmpint (fd_http_parse_retry_after ("-4", now), ==, -1);
  g_assert_cmpint (fd_http_parse_retry_after ("99999999999", now), ==, -1);
  g_assert_cmpint (fd_http_parse_retry_after (NULL, now), ==, -1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/http/json", test_http_json);
  ADD ("/http/form", test_http_form);
  ADD ("/http/rate-limited", test_http_rate_limited);
  ADD ("/http/rate-limited-too-long", test_http_rate_limited_too_long);
  ADD ("/http/server-error/retry-safe", test_http_server_error_retry_safe);
  ADD ("/http/server-error/not-retried", test_http_server_error_not_retried);
  ADD ("/http/gives-up", test_http_gives_up);
  ADD ("/http/dropped", test_http_dropped);
  ADD ("/http/malformed", test_http_malformed);
  ADD ("/http/unauthorized", test_http_unauthorized);
  ADD ("/http/cancel-during-wait", test_http_cancel_during_wait);
  g_test_add_func ("/http/retry-after", test_http_retry_after_parse);

#undef ADD

  return g_test_run ();
}
