/* test-stripe-client.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * FdStripeClient against a real SoupServer on 127.0.0.1 that records every request and
 * answers from a script (or a responder), misbehaving on purpose where asked.
 */

#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "fd-stripe-client.h"
#include "fd-stripe-error.h"

#define SECRET_KEY "sk_test_51FrontdeskTestKey0000secretAbCdEf"
#define RESTRICTED_KEY "rk_test_51FrontdeskRestricted0000keyXyZ"

/* Everything logged while the tests run, to prove that no key is ever printed. */
static GString *log_text;

typedef struct
{
  char   *method;
  char   *path;
  char   *query;
  char   *authorization;
  char   *stripe_version;
  char   *idempotency_key;
  char   *content_type;
  GBytes *body;
} Recorded;

static void
recorded_free (Recorded *recorded)
{
  g_free (recorded->method);
  g_free (recorded->path);
  g_free (recorded->query);
  g_free (recorded->authorization);
  g_free (recorded->stripe_version);
  g_free (recorded->idempotency_key);
  g_free (recorded->content_type);
  g_bytes_unref (recorded->body);
  g_free (recorded);
}

typedef struct _Fixture Fixture;

/* Answers one request; for tests whose answer depends on the path. */
typedef void (*Responder) (Fixture           *f,
                           SoupServerMessage *msg,
                           Recorded          *recorded);

struct _Fixture
{
  SoupServer *server;
  char       *base_url;    /* as the sandbox serves Stripe: under a /stripe prefix */
  GPtrArray  *requests;    /* of Recorded */
  GQueue      script;      /* of const char*: the last step repeats */
  Responder   responder;
};

static void
respond (SoupServerMessage *msg,
         guint              status,
         const char        *content_type,
         const char        *body)
{
  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, strlen (body));
}

/* Closes the connection without answering: what a dropped network looks like. */
static void
drop_connection (SoupServerMessage *msg)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);

  g_io_stream_close (stream, NULL, NULL);
}

/* A step is "drop", or "STATUS [RA=seconds] [text:]BODY". */
static void
play_step (SoupServerMessage *msg,
           const char        *step)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *content_type = "application/json";
  char *rest;
  guint status;

  if (g_str_equal (step, "drop"))
    {
      drop_connection (msg);
      return;
    }

  status = (guint) g_ascii_strtoull (step, &rest, 10);
  while (*rest == ' ')
    rest++;

  if (g_str_has_prefix (rest, "RA="))
    {
      g_autofree char *seconds = g_strndup (rest + 3, strcspn (rest + 3, " "));

      soup_message_headers_replace (headers, "Retry-After", seconds);
      rest += 3 + strlen (seconds);
      while (*rest == ' ')
        rest++;
    }

  if (g_str_has_prefix (rest, "text:"))
    {
      content_type = "text/html";
      rest += 5;
    }

  respond (msg, status, content_type, *rest != '\0' ? rest : NULL);
}

static void
handler (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  Fixture *f = user_data;
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  Recorded *recorded = g_new0 (Recorded, 1);
  g_autofree char *request_id = NULL;

  recorded->method = g_strdup (soup_server_message_get_method (msg));
  recorded->path = g_strdup (path);
  recorded->query = g_strdup (g_uri_get_query (soup_server_message_get_uri (msg)));
  recorded->authorization = g_strdup (soup_message_headers_get_one (request_headers, "Authorization"));
  recorded->stripe_version = g_strdup (soup_message_headers_get_one (request_headers, "Stripe-Version"));
  recorded->idempotency_key = g_strdup (soup_message_headers_get_one (request_headers, "Idempotency-Key"));
  recorded->content_type = g_strdup (soup_message_headers_get_one (request_headers, "Content-Type"));
  recorded->body = g_bytes_new (request_body->data, request_body->length);
  g_ptr_array_add (f->requests, recorded);

  request_id = g_strdup_printf ("req_%u", f->requests->len);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Request-Id", request_id);

  if (f->responder != NULL)
    {
      f->responder (f, msg, recorded);
      return;
    }

  g_assert_false (g_queue_is_empty (&f->script));
  play_step (msg, g_queue_get_length (&f->script) > 1
                    ? g_queue_pop_head (&f->script)
                    : g_queue_peek_head (&f->script));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = NULL;
  GSList *uris;

  g_queue_init (&f->script);
  f->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) recorded_free);
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, handler, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (f->server);
  root = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  f->base_url = g_strconcat (root, g_str_has_suffix (root, "/") ? "" : "/", "stripe", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_free (f->base_url);
  g_ptr_array_unref (f->requests);
  g_queue_clear (&f->script);

  g_assert_null (strstr (log_text->str, SECRET_KEY));
  g_assert_null (strstr (log_text->str, RESTRICTED_KEY));
}

static void
script (Fixture    *f,
        const char *first,
        ...)
{
  va_list args;

  g_queue_clear (&f->script);
  va_start (args, first);
  for (const char *step = first; step != NULL; step = va_arg (args, const char *))
    g_queue_push_tail (&f->script, (gpointer) step);
  va_end (args);
}

static Recorded *
request_at (Fixture *f,
            guint    index)
{
  g_assert_cmpuint (index, <, f->requests->len);
  return g_ptr_array_index (f->requests, index);
}

static char *
body_text (Recorded *recorded)
{
  gsize size;
  const char *data = g_bytes_get_data (recorded->body, &size);

  return g_strndup (data, size);
}

static FdStripeClient *
make_client (Fixture    *f,
             const char *key)
{
  FdStripeClient *client = fd_stripe_client_new (f->base_url, key);

  fd_stripe_client_set_retry (client, 3, 10, 50);
  return client;
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *result;
}

/* An error in plain words: never the key, never raw JSON. */
static void
assert_plain_error (const GError *error)
{
  g_assert_nonnull (error);
  g_assert_null (strstr (error->message, SECRET_KEY));
  g_assert_null (strstr (error->message, RESTRICTED_KEY));
  g_assert_null (strstr (error->message, "{\""));
}

static JsonObject *
request (FdStripeClient        *client,
         const char            *method,
         const char            *path,
         const FdStripeParams  *params,
         const char            *idempotency_key,
         char                 **request_id,
         FdStripeFailure      **failure,
         GError               **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  JsonObject *object;

  fd_stripe_client_request_async (client, method, path, params, idempotency_key, NULL,
                                  result_cb, &result);
  object = fd_stripe_client_request_finish (client, wait_for (&result), request_id, failure, error);

  if (error != NULL && *error != NULL)
    assert_plain_error (*error);
  if (failure != NULL && *failure != NULL && (*failure)->message != NULL)
    {
      g_assert_null (strstr ((*failure)->message, SECRET_KEY));
      g_assert_null (strstr ((*failure)->message, RESTRICTED_KEY));
    }

  return object;
}

static FdStripePermissions
probe (FdStripeClient  *client,
       GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_stripe_client_probe_async (client, NULL, result_cb, &result);
  return fd_stripe_client_probe_finish (client, wait_for (&result), error);
}

/* {{{ Keys, parameters, JSON */

static void
test_key_kinds (void)
{
  static const struct
  {
    const char      *key;
    FdStripeKeyKind  kind;
    FdStripeMode     mode;
  } cases[] = {
    { "sk_test_4eC39HqLyjWDarjtT1zdp7dc", FD_STRIPE_KEY_SECRET, FD_STRIPE_MODE_TEST },
    { "sk_live_51H8abcdEFGH_ijkl", FD_STRIPE_KEY_SECRET, FD_STRIPE_MODE_LIVE },
    { "rk_test_51H8abcd", FD_STRIPE_KEY_RESTRICTED, FD_STRIPE_MODE_TEST },
    { "rk_live_51H8abcd", FD_STRIPE_KEY_RESTRICTED, FD_STRIPE_MODE_LIVE },
    { "pk_test_51H8abcd", FD_STRIPE_KEY_INVALID, FD_STRIPE_MODE_UNKNOWN },
    { "pk_live_51H8abcd", FD_STRIPE_KEY_INVALID, FD_STRIPE_MODE_UNKNOWN },
    { "sk_test_", FD_STRIPE_KEY_INVALID, FD_STRIPE_MODE_UNKNOWN },
    { "sk_test_abc def", FD_STRIPE_KEY_INVALID, FD_STRIPE_MODE_UNKNOWN },
    { " sk_test_abc", FD_STRIPE_KEY_INVALID, FD_STRIPE_MODE_UNKNOWN },
    { "sk_prod_abc", FD_STRIPE_KEY_INVALID, FD_STRIPE_MODE_UNKNOWN },
    { "whsec_abc", FD_STRIPE_KEY_INVALID, FD_STRIPE_MODE_UNKNOWN },
    { "", FD_STRIPE_KEY_INVALID, FD_STRIPE_MODE_UNKNOWN },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      FdStripeMode mode = FD_STRIPE_MODE_LIVE;

      g_test_message ("key %u", i);
      g_assert_cmpint (fd_stripe_key_kind (cases[i].key, &mode), ==, cases[i].kind);
      g_assert_cmpint (mode, ==, cases[i].mode);
      g_assert_cmpint (fd_stripe_key_kind (cases[i].key, NULL), ==, cases[i].kind);
    }

  g_assert_cmpint (fd_stripe_key_kind (NULL, NULL), ==, FD_STRIPE_KEY_INVALID);

  {
    g_autoptr(FdStripeClient) client = fd_stripe_client_new ("http://127.0.0.1:9/stripe/",
                                                             "rk_live_51H8abcd");

    g_assert_cmpint (fd_stripe_client_get_key_kind (client), ==, FD_STRIPE_KEY_RESTRICTED);
    g_assert_cmpint (fd_stripe_client_get_mode (client), ==, FD_STRIPE_MODE_LIVE);
    g_assert_cmpstr (fd_stripe_client_get_base_url (client), ==, "http://127.0.0.1:9/stripe");
  }
}

static void
test_params (void)
{
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(FdStripeParams) copy = NULL;
  g_autoptr(FdStripeParams) back = NULL;
  g_autoptr(FdStripeParams) bad = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *encoded = NULL;
  g_autofree char *json = NULL;
  g_autofree char *copy_encoded = NULL;
  g_autofree char *back_encoded = NULL;

  fd_stripe_params_add (params, "items[0][quantity]", "3");
  fd_stripe_params_add_int (params, "amount", G_GINT64_CONSTANT (-9007199254740993));
  fd_stripe_params_add (params, "metadata[note]", "a&b=c d/é");
  fd_stripe_params_add (params, "metadata[old]", NULL);
  fd_stripe_params_add_expand (params, "latest_invoice");
  fd_stripe_params_add_expand (params, "customer");

  g_assert_cmpuint (fd_stripe_params_get_length (params), ==, 6);
  g_assert_cmpstr (fd_stripe_params_get_name (params, 4), ==, "expand[]");
  g_assert_cmpstr (fd_stripe_params_get_value (params, 5), ==, "customer");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "expand[]"), ==, "latest_invoice");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "amount"), ==, "-9007199254740993");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "metadata[old]"), ==, "");
  g_assert_null (fd_stripe_params_lookup (params, "missing"));

  encoded = fd_stripe_params_encode (params);
  g_assert_cmpstr (encoded, ==,
                   "items%5B0%5D%5Bquantity%5D=3&amount=-9007199254740993"
                   "&metadata%5Bnote%5D=a%26b%3Dc%20d%2F%C3%A9&metadata%5Bold%5D="
                   "&expand%5B%5D=latest_invoice&expand%5B%5D=customer");

  copy = fd_stripe_params_copy (params);
  copy_encoded = fd_stripe_params_encode (copy);
  g_assert_cmpstr (copy_encoded, ==, encoded);

  json = fd_stripe_params_to_json (params);
  g_assert_true (g_str_has_prefix (json, "[[\"items[0][quantity]\",\"3\"],"));
  back = fd_stripe_params_from_json (json, &error);
  g_assert_no_error (error);
  back_encoded = fd_stripe_params_encode (back);
  g_assert_cmpstr (back_encoded, ==, encoded);

  bad = fd_stripe_params_from_json ("[[\"a\",1]]", &error);
  g_assert_null (bad);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);
  bad = fd_stripe_params_from_json ("{\"a\":\"b\"}", &error);
  g_assert_null (bad);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);
  bad = fd_stripe_params_from_json ("[[\"a\"", &error);
  g_assert_null (bad);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);

  g_clear_pointer (&back, fd_stripe_params_free);
  back = fd_stripe_params_from_json ("[]", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fd_stripe_params_get_length (back), ==, 0);
}

static void
test_json_helpers (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *charge;
  JsonArray *refunds;

  json_parser_load_from_data (parser,
                              "{\"id\":\"ch_1\",\"amount\":4500,\"paid\":true,\"captured\":null,"
                              "\"customer\":\"cus_1\",\"invoice\":{\"id\":\"in_1\",\"total\":4500},"
                              "\"description\":null,\"fee\":1.5,"
                              "\"refunds\":{\"object\":\"list\",\"data\":[{\"id\":\"re_1\"}]},"
                              "\"outcome\":{\"type\":\"authorized\"}}", -1, &error);
  g_assert_no_error (error);
  charge = json_node_get_object (json_parser_get_root (parser));

  g_assert_cmpstr (fd_stripe_get_string (charge, "id"), ==, "ch_1");
  g_assert_null (fd_stripe_get_string (charge, "description"));
  g_assert_null (fd_stripe_get_string (charge, "missing"));
  g_assert_null (fd_stripe_get_string (charge, "amount"));
  g_assert_null (fd_stripe_get_string (NULL, "id"));
  g_assert_cmpint (fd_stripe_get_int (charge, "amount", -1), ==, 4500);
  g_assert_cmpint (fd_stripe_get_int (charge, "missing", -1), ==, -1);
  g_assert_cmpint (fd_stripe_get_int (charge, "id", -7), ==, -7);
  g_assert_cmpint (fd_stripe_get_int (charge, "fee", -7), ==, -7);
  g_assert_true (fd_stripe_get_bool (charge, "paid"));
  g_assert_false (fd_stripe_get_bool (charge, "captured"));
  g_assert_false (fd_stripe_get_bool (charge, "missing"));
  g_assert_cmpstr (fd_stripe_get_string (fd_stripe_get_object (charge, "outcome"), "type"), ==, "authorized");
  g_assert_null (fd_stripe_get_object (charge, "customer"));
  g_assert_cmpstr (fd_stripe_get_id (charge, "customer"), ==, "cus_1");
  g_assert_cmpstr (fd_stripe_get_id (charge, "invoice"), ==, "in_1");
  g_assert_null (fd_stripe_get_id (charge, "description"));

  refunds = fd_stripe_get_list_data (charge, "refunds");
  g_assert_nonnull (refunds);
  g_assert_cmpuint (json_array_get_length (refunds), ==, 1);
  g_assert_null (fd_stripe_get_list_data (charge, "outcome"));
  g_assert_null (fd_stripe_get_list_data (charge, "missing"));
}

/* }}} */
/* {{{ Encoding and headers */

static void
test_form_and_headers (Fixture       *f,
                       gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *request_id = NULL;
  g_autofree char *body = NULL;
  g_autofree char *encoded = NULL;
  Recorded *sent;

  script (f, "200 {\"id\":\"sub_1\",\"object\":\"subscription\"}", NULL);

  fd_stripe_params_add (params, "items[0][id]", "si_1");
  fd_stripe_params_add_int (params, "items[0][quantity]", 12);
  fd_stripe_params_add (params, "proration_behavior", "create_prorations");
  fd_stripe_params_add (params, "metadata[ticket]", "T-42 & more");
  fd_stripe_params_add_expand (params, "latest_invoice");
  object = request (client, "POST", "/v1/subscriptions/sub_1", params, "fd-key-1",
                    &request_id, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (fd_stripe_get_string (object, "id"), ==, "sub_1");
  g_assert_cmpstr (request_id, ==, "req_1");
  g_assert_cmpuint (fd_stripe_client_get_last_attempts (client), ==, 1);

  g_assert_cmpuint (f->requests->len, ==, 1);
  sent = request_at (f, 0);
  body = body_text (sent);
  encoded = fd_stripe_params_encode (params);
  g_assert_cmpstr (sent->method, ==, "POST");
  g_assert_cmpstr (sent->path, ==, "/stripe/v1/subscriptions/sub_1");
  g_assert_null (sent->query);
  g_assert_cmpstr (body, ==,
                   "items%5B0%5D%5Bid%5D=si_1&items%5B0%5D%5Bquantity%5D=12"
                   "&proration_behavior=create_prorations"
                   "&metadata%5Bticket%5D=T-42%20%26%20more&expand%5B%5D=latest_invoice");
  g_assert_cmpstr (body, ==, encoded);
  g_assert_cmpstr (sent->content_type, ==, "application/x-www-form-urlencoded");
  g_assert_cmpstr (sent->authorization, ==, "Bearer " SECRET_KEY);
  g_assert_cmpstr (sent->stripe_version, ==, FD_STRIPE_API_VERSION);
  g_assert_cmpstr (sent->idempotency_key, ==, "fd-key-1");
}

static void
test_get_query_and_delete (Fixture       *f,
                           gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(FdStripeParams) delete_params = fd_stripe_params_new ();
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonObject) deleted = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *delete_body = NULL;
  Recorded *sent;

  script (f, "200 {\"id\":\"cus_1\",\"object\":\"customer\"}", NULL);
  fd_stripe_params_add_expand (params, "subscriptions");
  fd_stripe_params_add_expand (params, "invoice_settings.default_payment_method");
  object = request (client, "GET", "/v1/customers/cus_1", params, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fd_stripe_get_string (object, "object"), ==, "customer");

  sent = request_at (f, 0);
  g_assert_cmpstr (sent->method, ==, "GET");
  g_assert_cmpstr (sent->path, ==, "/stripe/v1/customers/cus_1");
  g_assert_cmpstr (sent->query, ==,
                   "expand%5B%5D=subscriptions"
                   "&expand%5B%5D=invoice_settings.default_payment_method");
  g_assert_cmpuint (g_bytes_get_size (sent->body), ==, 0);
  g_assert_null (sent->idempotency_key);
  g_assert_cmpstr (sent->authorization, ==, "Bearer " SECRET_KEY);
  g_assert_cmpstr (sent->stripe_version, ==, FD_STRIPE_API_VERSION);

  /* DELETE carries its parameters in a form body, as Stripe's OpenAPI description says. */
  script (f, "200 {\"id\":\"sub_1\",\"status\":\"canceled\"}", NULL);
  fd_stripe_params_add (delete_params, "invoice_now", "true");
  fd_stripe_params_add (delete_params, "prorate", "false");
  deleted = request (client, "DELETE", "/v1/subscriptions/sub_1", delete_params, "fd-key-del",
                     NULL, NULL, &error);
  g_assert_no_error (error);
  sent = request_at (f, 1);
  delete_body = body_text (sent);
  g_assert_cmpstr (sent->method, ==, "DELETE");
  g_assert_null (sent->query);
  g_assert_cmpstr (delete_body, ==, "invoice_now=true&prorate=false");
  g_assert_cmpstr (sent->content_type, ==, "application/x-www-form-urlencoded");
  g_assert_cmpstr (sent->idempotency_key, ==, "fd-key-del");
}

static void
test_write_without_key_refused (Fixture       *f,
                                gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(GBytes) contents = g_bytes_new_static ("x", 1);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonObject) uploaded = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  script (f, "200 {\"id\":\"re_1\"}", NULL);
  fd_stripe_params_add (params, "charge", "ch_1");

  object = request (client, "POST", "/v1/refunds", params, NULL, NULL, NULL, &error);
  g_assert_null (object);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);

  object = request (client, "DELETE", "/v1/subscriptions/sub_1", NULL, "", NULL, NULL, &error);
  g_assert_null (object);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);

  fd_stripe_client_upload_async (client, "dispute_evidence", "a.txt", "text/plain", contents,
                                 NULL, NULL, result_cb, &result);
  uploaded = fd_stripe_client_upload_finish (client, wait_for (&result), NULL, &error);
  g_assert_null (uploaded);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);

  g_assert_cmpuint (f->requests->len, ==, 0);
  g_assert_cmpuint (fd_stripe_client_get_last_attempts (client), ==, 0);
}

/* }}} */
/* {{{ Pagination */

static void
test_list_pagination (Fixture       *f,
                      gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) short_result = NULL;
  g_autoptr(JsonArray) items = NULL;
  g_autoptr(JsonArray) first = NULL;
  g_autoptr(GError) error = NULL;
  const char *pages[] = {
    "200 {\"object\":\"list\",\"url\":\"/v1/charges\",\"has_more\":true,"
    "\"data\":[{\"id\":\"ch_1\"},{\"id\":\"ch_2\"}]}",
    "200 {\"object\":\"list\",\"url\":\"/v1/charges\",\"has_more\":true,"
    "\"data\":[{\"id\":\"ch_3\"},{\"id\":\"ch_4\"}]}",
    "200 {\"object\":\"list\",\"url\":\"/v1/charges\",\"has_more\":false,"
    "\"data\":[{\"id\":\"ch_5\"}]}",
  };

  script (f, pages[0], pages[1], pages[2], NULL);
  fd_stripe_params_add (params, "customer", "cus_1");
  fd_stripe_params_add_expand (params, "data.refunds");
  fd_stripe_client_list_async (client, "/v1/charges", params, 0, NULL, result_cb, &result);
  items = fd_stripe_client_list_finish (client, wait_for (&result), &error);

  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (items), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("ch_%u", i + 1);

      g_assert_cmpstr (fd_stripe_get_string (json_array_get_object_element (items, i), "id"), ==, id);
    }

  g_assert_cmpuint (f->requests->len, ==, 3);
  g_assert_cmpstr (request_at (f, 0)->path, ==, "/stripe/v1/charges");
  g_assert_cmpstr (request_at (f, 0)->query, ==,
                   "customer=cus_1&expand%5B%5D=data.refunds&limit=100");
  g_assert_cmpstr (request_at (f, 1)->query, ==,
                   "customer=cus_1&expand%5B%5D=data.refunds&limit=100&starting_after=ch_2");
  g_assert_cmpstr (request_at (f, 2)->query, ==,
                   "customer=cus_1&expand%5B%5D=data.refunds&limit=100&starting_after=ch_4");
  for (guint i = 0; i < 3; i++)
    g_assert_null (request_at (f, i)->idempotency_key);

  /* max_items stops early, mid-page. */
  script (f, pages[0], pages[1], pages[2], NULL);
  fd_stripe_client_list_async (client, "/v1/charges", NULL, 3, NULL, result_cb, &short_result);
  first = fd_stripe_client_list_finish (client, wait_for (&short_result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (first), ==, 3);
  g_assert_cmpstr (fd_stripe_get_string (json_array_get_object_element (first, 2), "id"), ==, "ch_3");
  g_assert_cmpuint (f->requests->len, ==, 5);
  g_assert_cmpstr (request_at (f, 4)->query, ==, "limit=100&starting_after=ch_2");
}

static void
test_list_error (Fixture       *f,
                 gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) shape_result = NULL;
  g_autoptr(JsonArray) items = NULL;
  g_autoptr(GError) error = NULL;

  /* A failure on page two fails the whole list: a partial list would look complete. */
  script (f,
          "200 {\"object\":\"list\",\"has_more\":true,\"data\":[{\"id\":\"in_1\"}]}",
          "401 {\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid API Key provided: sk_test_****AbCd\"}}",
          NULL);
  fd_stripe_client_list_async (client, "/v1/invoices", NULL, 0, NULL, result_cb, &result);
  items = fd_stripe_client_list_finish (client, wait_for (&result), &error);
  g_assert_null (items);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_AUTHENTICATION);
  assert_plain_error (error);
  g_clear_error (&error);

  script (f, "200 {\"object\":\"list\",\"has_more\":false}", NULL);
  fd_stripe_client_list_async (client, "/v1/invoices", NULL, 0, NULL, result_cb, &shape_result);
  items = fd_stripe_client_list_finish (client, wait_for (&shape_result), &error);
  g_assert_null (items);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_BAD_RESPONSE);
}

static void
test_search_pagination (Fixture       *f,
                        gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) short_result = NULL;
  g_autoptr(JsonArray) items = NULL;
  g_autoptr(JsonArray) first = NULL;
  g_autoptr(GError) error = NULL;
  const char *pages[] = {
    "200 {\"object\":\"search_result\",\"url\":\"/v1/customers/search\",\"has_more\":true,"
    "\"next_page\":\"pg_A\",\"data\":[{\"id\":\"cus_1\"},{\"id\":\"cus_2\"}]}",
    "200 {\"object\":\"search_result\",\"url\":\"/v1/customers/search\",\"has_more\":true,"
    "\"next_page\":\"pg_B\",\"data\":[{\"id\":\"cus_3\"}]}",
    "200 {\"object\":\"search_result\",\"url\":\"/v1/customers/search\",\"has_more\":false,"
    "\"next_page\":null,\"data\":[{\"id\":\"cus_4\"}]}",
  };

  script (f, pages[0], pages[1], pages[2], NULL);
  fd_stripe_params_add_expand (params, "data.subscriptions");
  fd_stripe_client_search_async (client, "/v1/customers/search", "email:'ann@example.com'",
                                 params, 0, NULL, result_cb, &result);
  items = fd_stripe_client_search_finish (client, wait_for (&result), &error);

  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (items), ==, 4);
  g_assert_cmpstr (fd_stripe_get_string (json_array_get_object_element (items, 3), "id"), ==, "cus_4");
  g_assert_cmpuint (f->requests->len, ==, 3);
  g_assert_cmpstr (request_at (f, 0)->path, ==, "/stripe/v1/customers/search");
  g_assert_cmpstr (request_at (f, 0)->query, ==,
                   "query=email%3A%27ann%40example.com%27&expand%5B%5D=data.subscriptions&limit=100");
  g_assert_cmpstr (request_at (f, 1)->query, ==,
                   "query=email%3A%27ann%40example.com%27&expand%5B%5D=data.subscriptions&limit=100&page=pg_A");
  g_assert_cmpstr (request_at (f, 2)->query, ==,
                   "query=email%3A%27ann%40example.com%27&expand%5B%5D=data.subscriptions&limit=100&page=pg_B");

  script (f, pages[0], pages[1], pages[2], NULL);
  fd_stripe_client_search_async (client, "/v1/customers/search", "name:'Ann'", NULL, 2, NULL,
                                 result_cb, &short_result);
  first = fd_stripe_client_search_finish (client, wait_for (&short_result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (first), ==, 2);
  g_assert_cmpuint (f->requests->len, ==, 4);
}

/* }}} */
/* {{{ Retries */

static void
test_rate_limited (Fixture       *f,
                   gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(FdStripeFailure) failure = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  /* Retry-After is honoured when the cap allows it. */
  fd_stripe_client_set_retry (client, 3, 10, 2000);
  script (f,
          "429 RA=1 {\"error\":{\"type\":\"invalid_request_error\",\"code\":\"rate_limit\",\"message\":\"Too many requests\"}}",
          "200 {\"id\":\"re_1\",\"object\":\"refund\"}",
          NULL);
  fd_stripe_params_add (params, "charge", "ch_1");
  start = g_get_monotonic_time ();
  object = request (client, "POST", "/v1/refunds", params, "fd-key-429", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fd_stripe_get_string (object, "id"), ==, "re_1");
  g_assert_cmpuint (fd_stripe_client_get_last_attempts (client), ==, 2);
  g_assert_cmpuint (f->requests->len, ==, 2);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
  g_assert_cmpstr (request_at (f, 1)->idempotency_key, ==, "fd-key-429");

  /* Still limited after every attempt: a plain error, after exactly three tries. */
  fd_stripe_client_set_retry (client, 3, 10, 50);
  script (f,
          "429 RA=0 {\"error\":{\"type\":\"invalid_request_error\",\"code\":\"rate_limit\",\"message\":\"Too many requests\"}}",
          NULL);
  g_clear_pointer (&object, json_object_unref);
  object = request (client, "GET", "/v1/customers/cus_1", NULL, NULL, NULL, &failure, &error);
  g_assert_null (object);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_RATE_LIMITED);
  g_assert_cmpuint (failure->http_status, ==, 429);
  g_assert_cmpstr (failure->code, ==, "rate_limit");
  g_assert_cmpuint (f->requests->len, ==, 5);
  g_assert_cmpuint (fd_stripe_client_get_last_attempts (client), ==, 3);
}

static void
test_server_error_retried_with_same_key (Fixture       *f,
                                         gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(FdStripeFailure) failure = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first_body = NULL;
  g_autofree char *second_body = NULL;

  script (f,
          "500 {\"error\":{\"type\":\"api_error\",\"message\":\"Something went wrong\"}}",
          "200 {\"id\":\"re_1\",\"object\":\"refund\",\"amount\":4500}",
          NULL);
  fd_stripe_params_add_int (params, "amount", 4500);
  fd_stripe_params_add (params, "charge", "ch_1");
  object = request (client, "POST", "/v1/refunds", params, "fd-key-500", NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (fd_stripe_get_int (object, "amount", 0), ==, 4500);
  g_assert_cmpuint (fd_stripe_client_get_last_attempts (client), ==, 2);
  g_assert_cmpuint (f->requests->len, ==, 2);
  g_assert_cmpstr (request_at (f, 0)->idempotency_key, ==, "fd-key-500");
  g_assert_cmpstr (request_at (f, 1)->idempotency_key, ==, "fd-key-500");
  first_body = body_text (request_at (f, 0));
  second_body = body_text (request_at (f, 1));
  g_assert_cmpstr (first_body, ==, "amount=4500&charge=ch_1");
  g_assert_cmpstr (second_body, ==, first_body);

  /* A 5xx every time: the error says the outcome is unknown. */
  script (f, "503 {\"error\":{\"type\":\"api_error\",\"message\":\"Unavailable\"}}", NULL);
  g_clear_pointer (&object, json_object_unref);
  object = request (client, "POST", "/v1/refunds", params, "fd-key-503", NULL, &failure, &error);
  g_assert_null (object);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_SERVER);
  g_assert_cmpuint (failure->http_status, ==, 503);
  g_assert_cmpstr (failure->type, ==, "api_error");
  g_assert_cmpuint (f->requests->len, ==, 5);
  for (guint i = 2; i < 5; i++)
    g_assert_cmpstr (request_at (f, i)->idempotency_key, ==, "fd-key-503");
}

static void
test_dropped_connection (Fixture       *f,
                         gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(FdStripeFailure) failure = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first_body = NULL;
  g_autofree char *second_body = NULL;
  g_autofree char *request_id = NULL;

  script (f, "drop", "200 {\"id\":\"re_9\",\"object\":\"refund\",\"amount\":1200}", NULL);
  fd_stripe_params_add_int (params, "amount", 1200);
  fd_stripe_params_add (params, "charge", "ch_9");
  fd_stripe_params_add (params, "metadata[frontdesk_ticket]", "C-1");
  object = request (client, "POST", "/v1/refunds", params, "fd-key-drop", &request_id, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (fd_stripe_get_string (object, "id"), ==, "re_9");
  g_assert_cmpstr (request_id, ==, "req_2");
  g_assert_cmpuint (fd_stripe_client_get_last_attempts (client), ==, 2);
  g_assert_cmpuint (f->requests->len, ==, 2);
  g_assert_cmpstr (request_at (f, 0)->idempotency_key, ==, "fd-key-drop");
  g_assert_cmpstr (request_at (f, 1)->idempotency_key, ==, "fd-key-drop");
  first_body = body_text (request_at (f, 0));
  second_body = body_text (request_at (f, 1));
  g_assert_cmpstr (second_body, ==, first_body);

  /* Dropped every time: NETWORK, and a write says its outcome is unknown. */
  script (f, "drop", NULL);
  g_clear_pointer (&object, json_object_unref);
  object = request (client, "POST", "/v1/refunds", params, "fd-key-drop-2", NULL, &failure, &error);
  g_assert_null (object);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, "not known"));
  g_assert_cmpuint (failure->http_status, ==, 0);
  g_assert_cmpuint (f->requests->len, ==, 5);
  g_clear_error (&error);

  /* A read just says Stripe could not be reached. */
  g_clear_pointer (&object, json_object_unref);
  object = request (client, "GET", "/v1/charges/ch_9", NULL, NULL, NULL, NULL, &error);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_NETWORK);
  g_assert_null (strstr (error->message, "not known"));
}

/* }}} */
/* {{{ Errors */

static void
test_card_error (Fixture       *f,
                 gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(FdStripeFailure) failure = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *request_id = NULL;
  FdStripeExplanation explanation;

  script (f,
          "402 {\"error\":{\"type\":\"card_error\",\"code\":\"expired_card\","
          "\"decline_code\":\"expired_card\",\"param\":\"exp_month\","
          "\"message\":\"Your card has expired.\",\"charge\":\"ch_x\","
          "\"doc_url\":\"https://stripe.com/docs/error-codes/expired-card\"}}",
          NULL);
  fd_stripe_params_add (params, "invoice", "in_1");
  object = request (client, "POST", "/v1/invoices/in_1/pay", params, "fd-key-pay",
                    &request_id, &failure, &error);

  g_assert_null (object);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_CARD);
  /* A 402 is an answer, not a failure to reach Stripe: not retried. */
  g_assert_cmpuint (f->requests->len, ==, 1);
  g_assert_cmpuint (failure->http_status, ==, 402);
  g_assert_cmpstr (failure->type, ==, "card_error");
  g_assert_cmpstr (failure->code, ==, "expired_card");
  g_assert_cmpstr (failure->decline_code, ==, "expired_card");
  g_assert_null (failure->advice_code);
  g_assert_cmpstr (failure->param, ==, "exp_month");
  g_assert_cmpstr (failure->message, ==, "Your card has expired.");
  g_assert_cmpstr (failure->request_id, ==, "req_1");
  g_assert_cmpstr (request_id, ==, "req_1");

  explanation = fd_stripe_explain_decline ("expired_card", "expired_card", NULL);
  g_assert_nonnull (explanation.what);
  g_assert_nonnull (explanation.tell_customer);
  g_assert_nonnull (strstr (error->message, explanation.what));
  g_assert_nonnull (strstr (error->message, explanation.tell_customer));
}

typedef struct
{
  const char    *step;
  const char    *method;
  FdStripeError  code;
  const char    *message_part;
  guint          attempts;
  guint          status;     /* 0: no answer could be read */
} ErrorCase;

static void
test_error_mapping (Fixture       *f,
                    gconstpointer  unused)
{
  static const ErrorCase cases[] = {
    { "403 {\"error\":{\"type\":\"invalid_request_error\",\"message\":\"The provided key 'rk_test_***XyZ' does not have the required permissions for this endpoint on account 'acct_1'.\"}}",
      "POST", FD_STRIPE_ERROR_PERMISSION, "This Stripe key is not allowed to change refunds", 1, 403 },
    { "403 {\"error\":{\"type\":\"invalid_request_error\",\"message\":\"nope\"}}",
      "GET", FD_STRIPE_ERROR_PERMISSION, "This Stripe key is not allowed to read refunds", 1, 403 },
    { "401 {\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid API Key provided: sk_test_****AbCd\"}}",
      "GET", FD_STRIPE_ERROR_AUTHENTICATION, "API key", 1, 401 },
    { "400 {\"error\":{\"type\":\"invalid_request_error\",\"code\":\"parameter_missing\",\"param\":\"charge\",\"message\":\"One of the following params should be provided for this request: payment_intent or charge.\"}}",
      "POST", FD_STRIPE_ERROR_INVALID_REQUEST, "Stripe refused the request: One of the following params", 1, 400 },
    { "404 {\"error\":{\"type\":\"invalid_request_error\",\"code\":\"resource_missing\",\"param\":\"id\",\"message\":\"No such refund: 're_x'\"}}",
      "GET", FD_STRIPE_ERROR_INVALID_REQUEST, "Stripe refused the request: No such refund: 're_x'", 1, 404 },
    { "409 {\"error\":{\"type\":\"invalid_request_error\",\"code\":\"lock_timeout\",\"message\":\"This object cannot be accessed right now because another API request or Stripe process is currently accessing it.\"}}",
      "POST", FD_STRIPE_ERROR_INVALID_REQUEST, "Stripe refused the request: This object cannot", 1, 409 },
    { "400 {\"error\":{\"type\":\"idempotency_error\",\"message\":\"Keys for idempotent requests can only be used with the same parameters they were first used with.\"}}",
      "POST", FD_STRIPE_ERROR_IDEMPOTENCY, "same key", 1, 400 },
    { "400 text:<html>Bad request</html>",
      "POST", FD_STRIPE_ERROR_INVALID_REQUEST, "HTTP 400", 1, 400 },
    { "200 {\"id\":\"re_1\",\"amount\":",
      "GET", FD_STRIPE_ERROR_BAD_RESPONSE, "could not read", 3, 0 },
    { "200 [1, 2]",
      "GET", FD_STRIPE_ERROR_BAD_RESPONSE, "could not read", 1, 200 },
    { "200 text:<html>Maintenance</html>",
      "POST", FD_STRIPE_ERROR_BAD_RESPONSE, "not known", 1, 200 },
    { "502 text:<html>Bad gateway</html>",
      "GET", FD_STRIPE_ERROR_SERVER, "HTTP 502", 3, 502 },
  };

  g_autoptr(FdStripeClient) client = make_client (f, RESTRICTED_KEY);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) object = NULL;
      g_autoptr(FdStripeFailure) failure = NULL;
      g_autoptr(GError) error = NULL;
      guint before = f->requests->len;
      const char *path = g_str_equal (cases[i].method, "GET") ? "/v1/refunds/re_x" : "/v1/refunds";

      g_test_message ("case %u: %s", i, cases[i].step);
      script (f, cases[i].step, NULL);
      object = request (client, cases[i].method, path, NULL,
                        g_str_equal (cases[i].method, "GET") ? NULL : "fd-key-err",
                        NULL, &failure, &error);

      g_assert_null (object);
      g_assert_error (error, FD_STRIPE_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
      g_assert_nonnull (failure);
      g_assert_cmpuint (f->requests->len - before, ==, cases[i].attempts);
      g_assert_cmpuint (fd_stripe_client_get_last_attempts (client), ==, cases[i].attempts);
      g_assert_cmpuint (failure->http_status, ==, cases[i].status);
      if (cases[i].status != 0)
        {
          g_autofree char *request_id = g_strdup_printf ("req_%u", f->requests->len);

          g_assert_cmpstr (failure->request_id, ==, request_id);
        }
    }
}

static void
test_key_never_printed (Fixture       *f,
                        gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(FdStripeFailure) failure = NULL;
  g_autoptr(GError) error = NULL;
  gsize log_before = log_text->len;

  /* A server that echoes the key back in its message. */
  script (f,
          "400 {\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Bad key " SECRET_KEY " used\"}}",
          NULL);
  object = request (client, "POST", "/v1/refunds", NULL, "fd-key-echo", NULL, &failure, &error);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "Bad key"));
  g_assert_null (strstr (error->message, SECRET_KEY));
  g_assert_nonnull (failure->message);
  g_assert_null (strstr (failure->message, SECRET_KEY));
  g_clear_error (&error);
  g_clear_pointer (&failure, fd_stripe_failure_free);

  script (f, "drop", NULL);
  object = request (client, "GET", "/v1/customers", NULL, NULL, NULL, &failure, &error);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_NETWORK);
  g_assert_null (strstr (error->message, SECRET_KEY));

  /* Failures were logged (debug), and not one line holds the key. */
  g_assert_cmpuint (log_text->len, >, log_before);
  g_assert_nonnull (strstr (log_text->str + log_before, "/v1/refunds"));
  g_assert_null (strstr (log_text->str, SECRET_KEY));
}

/* }}} */
/* {{{ Permissions */

static void
probe_responder (Fixture           *f,
                 SoupServerMessage *msg,
                 Recorded          *recorded)
{
  const char *forbidden_write = g_object_get_data (G_OBJECT (f->server), "forbidden-write");
  const char *forbidden_read = g_object_get_data (G_OBJECT (f->server), "forbidden-read");
  const char *forbidden = g_str_equal (recorded->method, "GET") ? forbidden_read : forbidden_write;

  if (forbidden != NULL && g_str_has_prefix (recorded->path, forbidden))
    respond (msg, 403, "application/json",
             "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"The provided key does "
             "not have the required permissions for this endpoint.\"}}");
  else if (g_str_equal (recorded->method, "GET"))
    respond (msg, 200, "application/json",
             "{\"object\":\"list\",\"data\":[],\"has_more\":false}");
  else if (g_str_has_suffix (recorded->path, "_probe"))
    respond (msg, 404, "application/json",
             "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"resource_missing\","
             "\"message\":\"No such object\"}}");
  else
    respond (msg, 400, "application/json",
             "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"parameter_missing\","
             "\"message\":\"Missing required param\"}}");
}

static void
test_probe_restricted (Fixture       *f,
                       gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, RESTRICTED_KEY);
  g_autoptr(GAsyncResult) first = NULL;
  g_autoptr(GAsyncResult) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) keys = g_hash_table_new (g_str_hash, g_str_equal);
  FdStripePermissions permissions;
  guint posts = 0;

  f->responder = probe_responder;
  g_object_set_data (G_OBJECT (f->server), "forbidden-write", (gpointer) "/stripe/v1/refunds");

  /* Two callers at once share one probe. */
  fd_stripe_client_probe_async (client, NULL, result_cb, &first);
  fd_stripe_client_probe_async (client, NULL, result_cb, &second);
  permissions = fd_stripe_client_probe_finish (client, wait_for (&first), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (permissions, ==, FD_STRIPE_CAN_ALL & ~FD_STRIPE_CAN_WRITE_REFUNDS);
  permissions = fd_stripe_client_probe_finish (client, wait_for (&second), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (permissions, ==, FD_STRIPE_CAN_ALL & ~FD_STRIPE_CAN_WRITE_REFUNDS);

  g_assert_cmpuint (f->requests->len, ==, 10);
  for (guint i = 0; i < f->requests->len; i++)
    {
      Recorded *sent = request_at (f, i);

      g_assert_cmpstr (sent->authorization, ==, "Bearer " RESTRICTED_KEY);
      /* Nothing that could create anything: no parameters at all. */
      g_assert_cmpuint (g_bytes_get_size (sent->body), ==, 0);
      if (g_str_equal (sent->method, "GET"))
        {
          g_assert_cmpstr (sent->query, ==, "limit=1");
          g_assert_null (sent->idempotency_key);
        }
      else
        {
          g_assert_cmpstr (sent->method, ==, "POST");
          g_assert_null (sent->query);
          g_assert_nonnull (sent->idempotency_key);
          g_assert_false (g_hash_table_contains (keys, sent->idempotency_key));
          g_hash_table_add (keys, sent->idempotency_key);
          posts++;
        }
    }
  g_assert_cmpuint (posts, ==, 6);

  /* Kept: no new request. */
  permissions = probe (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (permissions, ==, FD_STRIPE_CAN_ALL & ~FD_STRIPE_CAN_WRITE_REFUNDS);
  g_assert_cmpuint (f->requests->len, ==, 10);
}

static void
test_probe_read_forbidden (Fixture       *f,
                           gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, RESTRICTED_KEY);
  g_autoptr(GError) error = NULL;
  FdStripePermissions permissions;

  f->responder = probe_responder;
  g_object_set_data (G_OBJECT (f->server), "forbidden-read", (gpointer) "/stripe/v1/disputes");
  g_object_set_data (G_OBJECT (f->server), "forbidden-write", (gpointer) "/stripe/v1/disputes");

  permissions = probe (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (permissions, ==,
                    FD_STRIPE_CAN_ALL & ~(FD_STRIPE_CAN_READ_DISPUTES | FD_STRIPE_CAN_WRITE_DISPUTES));
}

static void
test_probe_failure_not_kept (Fixture       *f,
                             gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, RESTRICTED_KEY);
  g_autoptr(GError) error = NULL;
  FdStripePermissions permissions;

  /* A rolled key: the probe fails, and is tried again next time. */
  script (f, "401 {\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid API Key\"}}", NULL);
  permissions = probe (client, &error);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_AUTHENTICATION);
  g_assert_cmpuint (permissions, ==, 0);
  g_assert_cmpuint (f->requests->len, ==, 10);
  g_clear_error (&error);

  f->responder = probe_responder;
  permissions = probe (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (permissions, ==, FD_STRIPE_CAN_ALL);
  g_assert_cmpuint (f->requests->len, ==, 20);
}

static void
test_probe_secret_and_invalid (Fixture       *f,
                               gconstpointer  unused)
{
  g_autoptr(FdStripeClient) secret = make_client (f, SECRET_KEY);
  g_autoptr(FdStripeClient) publishable = make_client (f, "pk_test_51FrontdeskPublishable");
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (probe (secret, &error), ==, FD_STRIPE_CAN_ALL);
  g_assert_no_error (error);

  g_assert_cmpuint (probe (publishable, &error), ==, 0);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_AUTHENTICATION);

  g_assert_cmpuint (f->requests->len, ==, 0);
}

/* }}} */
/* {{{ Files */

static void
test_upload (Fixture       *f,
             gconstpointer  unused)
{
  g_autoptr(FdStripeClient) client = make_client (f, SECRET_KEY);
  static const char log_file[] = "Log of the customer's logins\n\0binary";
  g_autoptr(GBytes) contents = g_bytes_new_static (log_file, sizeof log_file - 1);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonObject) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupMessageHeaders) headers = NULL;
  g_autoptr(SoupMultipart) multipart = NULL;
  g_autofree char *request_id = NULL;
  g_autofree char *purpose = NULL;
  g_autofree char *disposition = NULL;
  g_autoptr(GHashTable) disposition_params = NULL;
  SoupMessageHeaders *part_headers;
  GBytes *part_body;
  Recorded *sent;

  script (f,
          "drop",
          "200 {\"id\":\"file_1\",\"object\":\"file\",\"purpose\":\"dispute_evidence\",\"size\":36}",
          NULL);
  fd_stripe_client_upload_async (client, "dispute_evidence", "access-log.txt", "text/plain",
                                 contents, "fd-key-file", NULL, result_cb, &result);
  file = fd_stripe_client_upload_finish (client, wait_for (&result), &request_id, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (fd_stripe_get_string (file, "id"), ==, "file_1");
  g_assert_cmpstr (request_id, ==, "req_2");
  g_assert_cmpuint (f->requests->len, ==, 2);

  sent = request_at (f, 1);
  g_assert_cmpstr (sent->method, ==, "POST");
  g_assert_cmpstr (sent->path, ==, "/stripe/v1/files");
  g_assert_cmpstr (sent->idempotency_key, ==, "fd-key-file");
  g_assert_cmpstr (request_at (f, 0)->idempotency_key, ==, "fd-key-file");
  g_assert_cmpstr (sent->authorization, ==, "Bearer " SECRET_KEY);
  g_assert_cmpstr (sent->stripe_version, ==, FD_STRIPE_API_VERSION);
  g_assert_true (g_str_has_prefix (sent->content_type, "multipart/form-data"));

  headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  soup_message_headers_replace (headers, "Content-Type", sent->content_type);
  multipart = soup_multipart_new_from_message (headers, sent->body);
  g_assert_nonnull (multipart);
  g_assert_cmpint (soup_multipart_get_length (multipart), ==, 2);

  g_assert_true (soup_multipart_get_part (multipart, 0, &part_headers, &part_body));
  g_assert_true (soup_message_headers_get_content_disposition (part_headers, &disposition,
                                                               &disposition_params));
  g_assert_cmpstr (disposition, ==, "form-data");
  g_assert_cmpstr (g_hash_table_lookup (disposition_params, "name"), ==, "purpose");
  purpose = g_strndup (g_bytes_get_data (part_body, NULL), g_bytes_get_size (part_body));
  g_assert_cmpstr (purpose, ==, "dispute_evidence");
  g_clear_pointer (&disposition, g_free);
  g_clear_pointer (&disposition_params, g_hash_table_unref);

  g_assert_true (soup_multipart_get_part (multipart, 1, &part_headers, &part_body));
  g_assert_true (soup_message_headers_get_content_disposition (part_headers, &disposition,
                                                               &disposition_params));
  g_assert_cmpstr (g_hash_table_lookup (disposition_params, "name"), ==, "file");
  g_assert_cmpstr (g_hash_table_lookup (disposition_params, "filename"), ==, "access-log.txt");
  g_assert_cmpstr (soup_message_headers_get_content_type (part_headers, NULL), ==, "text/plain");
  g_assert_true (g_bytes_equal (part_body, contents));
}

/* }}} */

static GLogWriterOutput
capture_log_writer (GLogLevelFlags   log_level,
                    const GLogField *fields,
                    gsize            n_fields,
                    gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE"))
        {
          if (fields[i].length < 0)
            g_string_append (log_text, fields[i].value);
          else
            g_string_append_len (log_text, fields[i].value, fields[i].length);
          g_string_append_c (log_text, '\n');
        }
    }

  /* Warnings and worse still reach stderr (and abort under fatal-warnings). */
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_default (log_level, fields, n_fields, user_data);

  return G_LOG_WRITER_HANDLED;
}

int
main (int   argc,
      char *argv[])
{
  /* Debug lines too, so that the check covers everything the client could print. */
  g_setenv ("G_MESSAGES_DEBUG", "fd-stripe-client fd-http", TRUE);
  log_text = g_string_new (NULL);
  g_log_set_writer_func (capture_log_writer, NULL, NULL);

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/stripe-client/key-kinds", test_key_kinds);
  g_test_add_func ("/stripe-client/params", test_params);
  g_test_add_func ("/stripe-client/json-helpers", test_json_helpers);
  ADD ("/stripe-client/form-and-headers", test_form_and_headers);
  ADD ("/stripe-client/get-query-and-delete", test_get_query_and_delete);
  ADD ("/stripe-client/write-without-key-refused", test_write_without_key_refused);
  ADD ("/stripe-client/list-pagination", test_list_pagination);
  ADD ("/stripe-client/list-error", test_list_error);
  ADD ("/stripe-client/search-pagination", test_search_pagination);
  ADD ("/stripe-client/rate-limited", test_rate_limited);
  ADD ("/stripe-client/server-error-same-key", test_server_error_retried_with_same_key);
  ADD ("/stripe-client/dropped-connection", test_dropped_connection);
  ADD ("/stripe-client/card-error", test_card_error);
  ADD ("/stripe-client/error-mapping", test_error_mapping);
  ADD ("/stripe-client/key-never-printed", test_key_never_printed);
  ADD ("/stripe-client/probe-restricted", test_probe_restricted);
  ADD ("/stripe-client/probe-read-forbidden", test_probe_read_forbidden);
  ADD ("/stripe-client/probe-failure-not-kept", test_probe_failure_not_kept);
  ADD ("/stripe-client/probe-secret-and-invalid", test_probe_secret_and_invalid);
  ADD ("/stripe-client/upload", test_upload);

#undef ADD

  return g_test_run ();
}
