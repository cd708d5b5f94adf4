/* test-sandbox-stripe.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sandbox's Stripe against a real libsoup client: one sandbox, seeded small with a
 * fixed seed in a temporary database, runs on its own thread for the whole file. The
 * tests check the seed against the Frontdesk rows it comes from, then lists, search,
 * refunds, idempotency (also across a connection cut after the work was done), the
 * upcoming invoice of a seat change, declined payments, the restricted key,
 * cancellations and disputes. Each test uses its own customers, so the order does not
 * matter.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <sqlite3.h>

#include "fd-sandbox.h"

static FdSandbox *sandbox;
static char *tmp_dir;
static char *db_path;
static SoupSession *session;
static JsonObject *scenarios;

#define SECRET "Bearer " FD_SANDBOX_STRIPE_KEY
#define RESTRICTED "Bearer " FD_SANDBOX_STRIPE_RESTRICTED_KEY
#define DAY G_GINT64_CONSTANT (86400)

/* {{{ Helpers */

typedef struct
{
  guint               status;
  char               *body;
  SoupMessageHeaders *headers;
  JsonNode           *json;
  GError             *error;
} Reply;

static void
reply_free (Reply *reply)
{
  g_free (reply->body);
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_clear_pointer (&reply->json, json_node_unref);
  g_clear_error (&reply->error);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

/* One request. @body is a form (or, with @content_type, anything); @key the
 * Authorization value (NULL: none); @idempotency_key may be NULL. */
static Reply *
send_full (SoupSession *with,
           const char  *method,
           const char  *path,
           const char  *key,
           const char  *content_type,
           GBytes      *body,
           const char  *idempotency_key)
{
  g_autofree char *url = g_strconcat (fd_sandbox_get_base_url (sandbox), "/stripe", path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) bytes = NULL;
  Reply *reply = g_new0 (Reply, 1);

  g_assert_nonnull (msg);
  if (key != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", key);
  if (idempotency_key != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Idempotency-Key",
                                  idempotency_key);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);

  bytes = soup_session_send_and_read (with, msg, NULL, &reply->error);
  reply->status = soup_message_get_status (msg);
  reply->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  if (bytes != NULL)
    {
      reply->body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      reply->json = json_from_string (reply->body, NULL);
    }
  return reply;
}

static Reply *
sget (const char *format,
      ...) G_GNUC_PRINTF (1, 2);

static Reply *
sget (const char *format,
      ...)
{
  g_autofree char *path = NULL;
  va_list args;

  va_start (args, format);
  path = g_strdup_vprintf (format, args);
  va_end (args);
  return send_full (session, "GET", path, SECRET, NULL, NULL, NULL);
}

/* A form request with the secret key; @form is "a=1&b=2" (already escaped). */
static Reply *
swrite (const char *method,
        const char *path,
        const char *form,
        const char *idempotency_key)
{
  g_autoptr(GBytes) body = form != NULL ? g_bytes_new (form, strlen (form)) : NULL;

  return send_full (session, method, path, SECRET, "application/x-www-form-urlencoded", body,
                    idempotency_key);
}

static JsonObject *
obj (Reply *reply)
{
  g_assert_no_error (reply->error);
  g_assert_nonnull (reply->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply->json));
  return json_node_get_object (reply->json);
}

/* The reply's object after checking its status. */
static JsonObject *
ok (Reply *reply)
{
  if (reply->status != 200)
    g_test_message ("Unexpected answer %u: %s", reply->status, reply->body);
  g_assert_cmpuint (reply->status, ==, 200);
  return obj (reply);
}

static JsonObject *
get_obj (JsonObject *object,
         const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  return json_object_get_object_member (object, member);
}

static JsonArray *
get_array (JsonObject *object,
           const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  return json_object_get_array_member (object, member);
}

static const char *
get_str (JsonObject *object,
         const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  return json_object_get_string_member (object, member);
}

static gint64
get_int (JsonObject *object,
         const char *member)
{
  JsonNode *node;

  g_assert_true (json_object_has_member (object, member));
  node = json_object_get_member (object, member);
  /* Money and times are integers, never decimals. */
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_INT64);
  return json_node_get_int (node);
}

static gboolean
get_bool (JsonObject *object,
          const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  return json_object_get_boolean_member (object, member);
}

static gboolean
is_null (JsonObject *object,
         const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  return json_object_get_null_member (object, member);
}

static JsonArray *
data (Reply *reply)
{
  JsonObject *list = ok (reply);

  g_assert_cmpstr (get_str (list, "object"), ==, "list");
  return get_array (list, "data");
}

static JsonObject *
first (Reply *reply)
{
  JsonArray *array = data (reply);

  g_assert_cmpuint (json_array_get_length (array), >, 0);
  return json_array_get_object_element (array, 0);
}

static JsonObject *
error_of (Reply      *reply,
          guint       status,
          const char *type)
{
  JsonObject *error;

  if (reply->status != status)
    g_test_message ("Unexpected answer %u: %s", reply->status, reply->body);
  g_assert_cmpuint (reply->status, ==, status);
  error = get_obj (obj (reply), "error");
  g_assert_cmpstr (get_str (error, "type"), ==, type);
  g_assert_nonnull (get_str (error, "message"));
  return error;
}

static const char *
header (Reply      *reply,
        const char *name)
{
  return soup_message_headers_get_one (reply->headers, name);
}

static char *
escape (const char *text)
{
  return g_uri_escape_string (text, NULL, FALSE);
}

static sqlite3 *
open_db (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

/* The first column of the first row of @sql with one text parameter, as text. */
static char *
db_text (const char *sql,
         const char *param)
{
  sqlite3 *db = open_db (db_path);
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (param != NULL)
    sqlite3_bind_text (stmt, 1, param, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static gint64
db_int (const char *sql,
        const char *param)
{
  g_autofree char *text = db_text (sql, param);

  g_assert_nonnull (text);
  return g_ascii_strtoll (text, NULL, 10);
}

static const char *
scenario (const char *name)
{
  const char *id;

  if (scenarios == NULL)
    {
      g_autoptr(Reply) reply = send_full (session, "GET", "/_sandbox/scenarios", NULL, NULL, NULL, NULL);

      scenarios = json_object_ref (get_obj (ok (reply), "scenarios"));
    }
  id = json_object_get_string_member_with_default (scenarios, name, NULL);
  if (id == NULL)
    g_error ("The seed has no customer for the scenario %s", name);
  return id;
}

/* The customer's live subscription. */
static JsonObject *
subscription_of (const char *customer)
{
  g_autoptr(Reply) reply = sget ("/v1/subscriptions?customer=%s", customer);

  return json_object_ref (first (reply));
}

static JsonObject *
item_of (JsonObject *subscription)
{
  return json_array_get_object_element (get_array (get_obj (subscription, "items"), "data"), 0);
}

static JsonObject *
open_invoice_of (const char *customer)
{
  g_autoptr(Reply) reply = sget ("/v1/invoices?customer=%s&status=open", customer);

  return json_object_ref (first (reply));
}

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Every customer, by pages of @limit. */
static GPtrArray *
all_customers (guint limit)
{
  GPtrArray *customers = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree char *after = NULL;

  while (TRUE)
    {
      g_autoptr(Reply) page = NULL;
      JsonArray *array;

      if (after != NULL)
        page = sget ("/v1/customers?limit=%u&starting_after=%s", limit, after);
      else
        page = sget ("/v1/customers?limit=%u", limit);
      array = data (page);
      g_assert_cmpuint (json_array_get_length (array), <=, limit);
      for (guint i = 0; i < json_array_get_length (array); i++)
        g_ptr_array_add (customers, json_object_ref (json_array_get_object_element (array, i)));
      if (!get_bool (obj (page), "has_more"))
        break;
      g_assert_cmpuint (json_array_get_length (array), ==, limit);
      g_free (after);
      after = g_strdup (get_str (json_array_get_object_element (array, json_array_get_length (array) - 1), "id"));
    }
  return customers;
}

/* }}} */
/* {{{ Authentication and errors */

static void
test_auth (void)
{
  g_autoptr(Reply) missing = send_full (session, "GET", "/v1/customers", NULL, NULL, NULL, NULL);
  g_autoptr(Reply) wrong = send_full (session, "GET", "/v1/customers", "Bearer sk_test_wrong_key",
                                      NULL, NULL, NULL);
  g_autofree char *basic_value = g_base64_encode ((const guchar *) FD_SANDBOX_STRIPE_KEY ":",
                                                  strlen (FD_SANDBOX_STRIPE_KEY) + 1);
  g_autofree char *basic = g_strconcat ("Basic ", basic_value, NULL);
  g_autoptr(Reply) by_basic = send_full (session, "GET", "/v1/customers?limit=1", basic, NULL, NULL, NULL);
  g_autoptr(Reply) good = sget ("/v1/customers?limit=1");
  JsonObject *error;

  error = error_of (missing, 401, "invalid_request_error");
  g_assert_nonnull (strstr (get_str (error, "message"), "API key"));
  error = error_of (wrong, 401, "invalid_request_error");
  g_assert_nonnull (strstr (get_str (error, "message"), "Invalid API Key provided"));
  /* Stripe masks the key it was given. */
  g_assert_null (strstr (wrong->body, "sk_test_wrong_key"));

  g_assert_cmpuint (json_array_get_length (data (by_basic)), ==, 1);
  g_assert_cmpuint (json_array_get_length (data (good)), ==, 1);

  /* Every answer names its request. */
  g_assert_true (g_str_has_prefix (header (missing, "Request-Id"), "req_"));
  g_assert_true (g_str_has_prefix (header (good, "Request-Id"), "req_"));
  g_assert_cmpstr (header (good, "Request-Id"), !=, header (by_basic, "Request-Id"));
  g_assert_cmpstr (header (good, "Stripe-Version"), ==, "2023-08-16");
}

static void
test_errors (void)
{
  g_autoptr(Reply) unknown_url = sget ("/v1/nothing_here");
  g_autoptr(Reply) unknown_param = sget ("/v1/charges?colour=blue");
  g_autoptr(Reply) unknown_item_key = sget ("/v1/invoices/upcoming?customer=%s&subscription_items[0][qty]=3",
                                            scenario ("currency_kwd"));
  g_autoptr(Reply) missing = sget ("/v1/charges/ch_missing");
  g_autoptr(Reply) bad_limit = sget ("/v1/charges?limit=500");
  g_autoptr(Reply) bad_status = sget ("/v1/invoices?status=late");
  g_autoptr(Reply) no_customer = swrite ("POST", "/v1/subscriptions", "", NULL);
  g_autoptr(Reply) no_charge = swrite ("POST", "/v1/refunds", "amount=100", NULL);
  JsonObject *error;

  error_of (unknown_url, 404, "invalid_request_error");
  error = error_of (unknown_param, 400, "invalid_request_error");
  g_assert_cmpstr (get_str (error, "code"), ==, "parameter_unknown");
  g_assert_cmpstr (get_str (error, "param"), ==, "colour");
  error = error_of (unknown_item_key, 400, "invalid_request_error");
  g_assert_cmpstr (get_str (error, "code"), ==, "parameter_unknown");
  error = error_of (missing, 404, "invalid_request_error");
  g_assert_cmpstr (get_str (error, "code"), ==, "resource_missing");
  g_assert_nonnull (strstr (get_str (error, "message"), "ch_missing"));
  error_of (bad_limit, 400, "invalid_request_error");
  error = error_of (bad_status, 400, "invalid_request_error");
  g_assert_cmpstr (get_str (error, "param"), ==, "status");
  error = error_of (no_customer, 400, "invalid_request_error");
  g_assert_cmpstr (get_str (error, "code"), ==, "parameter_missing");
  g_assert_cmpstr (get_str (error, "param"), ==, "customer");
  error_of (no_charge, 400, "invalid_request_error");
}

/* }}} */
/* {{{ The seed */

static void
test_seed (void)
{
  g_autoptr(GPtrArray) customers = all_customers (100);
  g_autoptr(Reply) subs = sget ("/v1/subscriptions?status=all&limit=100");
  g_autoptr(GHashTable) currencies = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *sub_list = data (subs);
  guint most_invoices = 0;

  /* One customer per organisation with a Stripe id, named and reached as it is. */
  g_assert_cmpint (customers->len, ==,
                   db_int ("SELECT COUNT(*) FROM organisations WHERE stripe_customer_id IS NOT NULL", NULL));
  g_assert_cmpuint (customers->len, >=, 20);
  for (guint i = 0; i < customers->len; i++)
    {
      JsonObject *customer = g_ptr_array_index (customers, i);
      const char *id = get_str (customer, "id");
      g_autofree char *name = db_text ("SELECT name FROM organisations WHERE stripe_customer_id = ?", id);
      g_autofree char *email =
        db_text ("SELECT c.email FROM contacts c JOIN organisations o ON o.id = c.organisation_id"
                 " WHERE o.stripe_customer_id = ? AND c.email IS NOT NULL ORDER BY c.id LIMIT 1", id);
      g_autofree char *external = db_text ("SELECT external_id FROM organisations WHERE stripe_customer_id = ?", id);
      g_autoptr(Reply) invoices = sget ("/v1/invoices?customer=%s&limit=100", id);
      guint n = json_array_get_length (data (invoices));

      g_assert_cmpstr (get_str (customer, "object"), ==, "customer");
      g_assert_cmpstr (get_str (customer, "name"), ==, name);
      g_assert_cmpstr (get_str (customer, "email"), ==, email);
      g_assert_cmpstr (get_str (get_obj (customer, "metadata"), "frontdesk_organisation"), ==, external);
      g_assert_false (get_bool (customer, "livemode"));
      g_assert_true (g_str_has_prefix (get_str (get_obj (customer, "invoice_settings"),
                                                "default_payment_method"), "pm_"));
      g_hash_table_add (currencies, (gpointer) g_intern_string (get_str (customer, "currency")));
      g_assert_cmpuint (n, >=, 1);
      g_assert_cmpuint (n, <=, 13);
      most_invoices = MAX (most_invoices, n);
    }
  g_assert_cmpuint (most_invoices, >=, 6);
  for (guint i = 0; i < 5; i++)
    g_assert_true (g_hash_table_contains (currencies, (const char *[]) { "usd", "eur", "gbp", "jpy", "kwd" }[i]));

  /* A subscription per customer: seats purchased, invoicing for enterprise. */
  g_assert_cmpuint (json_array_get_length (sub_list), ==, customers->len);
  for (guint i = 0; i < json_array_get_length (sub_list); i++)
    {
      JsonObject *sub = json_array_get_object_element (sub_list, i);
      const char *customer = get_str (sub, "customer");
      gint64 seats = db_int ("SELECT seats_purchased FROM organisations WHERE stripe_customer_id = ?", customer);
      gint64 enterprise = db_int ("SELECT is_enterprise OR plan = 'enterprise' FROM organisations"
                                  " WHERE stripe_customer_id = ?", customer);
      JsonObject *item = item_of (sub);

      g_assert_cmpint (get_int (item, "quantity"), ==, seats);
      g_assert_cmpstr (get_str (get_obj (item, "price"), "currency"), ==, get_str (sub, "currency"));
      if (enterprise)
        {
          g_assert_cmpstr (get_str (sub, "collection_method"), ==, "send_invoice");
          g_assert_cmpint (get_int (sub, "days_until_due"), ==, 30);
        }
      else
        {
          g_assert_cmpstr (get_str (sub, "collection_method"), ==, "charge_automatically");
          g_assert_true (is_null (sub, "days_until_due"));
        }
    }

  /* The situations support work meets. */
  {
    const char *failing[][2] = {
      { "payment_failed_expired_card", "expired_card" },
      { "payment_failed_insufficient_funds", "insufficient_funds" },
      { "payment_failed_authentication_required", "authentication_required" },
      { "payment_failed_do_not_honor", "do_not_honor" },
      { "payment_failed_generic_decline", "generic_decline" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (failing); i++)
      {
        const char *customer = scenario (failing[i][0]);
        g_autoptr(JsonObject) sub = subscription_of (customer);
        g_autoptr(JsonObject) invoice = open_invoice_of (customer);
        g_autoptr(Reply) charges = sget ("/v1/charges?customer=%s&limit=1", customer);
        g_autoptr(Reply) who = sget ("/v1/customers/%s", customer);
        JsonObject *charge = first (charges);

        g_assert_cmpstr (get_str (sub, "status"), ==, "past_due");
        g_assert_cmpstr (get_str (sub, "latest_invoice"), ==, get_str (invoice, "id"));
        g_assert_cmpint (get_int (invoice, "attempt_count"), >=, 1);
        g_assert_cmpint (get_int (invoice, "amount_remaining"), ==, get_int (invoice, "amount_due"));
        g_assert_cmpstr (get_str (charge, "status"), ==, "failed");
        g_assert_cmpstr (get_str (charge, "invoice"), ==, get_str (invoice, "id"));
        g_assert_cmpstr (get_str (get_obj (charge, "outcome"), "reason"), ==, failing[i][1]);
        g_assert_nonnull (get_str (charge, "failure_code"));
        g_assert_nonnull (get_str (charge, "failure_message"));
        g_assert_true (get_bool (ok (who), "delinquent"));
      }
  }
  {
    g_autoptr(JsonObject) canceling = subscription_of (scenario ("cancel_at_period_end"));
    g_autoptr(JsonObject) trialing = subscription_of (scenario ("trialing"));
    g_autoptr(JsonObject) discounted = subscription_of (scenario ("discount"));
    g_autoptr(Reply) canceled = sget ("/v1/subscriptions?customer=%s&status=canceled", scenario ("canceled"));
    g_autoptr(Reply) credit = sget ("/v1/customers/%s", scenario ("credit_balance"));
    g_autoptr(Reply) disputes = sget ("/v1/disputes?limit=100");
    g_autoptr(Reply) kwd = sget ("/v1/invoices?customer=%s&limit=1", scenario ("currency_kwd"));
    g_autoptr(Reply) jpy = sget ("/v1/invoices?customer=%s&limit=1", scenario ("currency_jpy"));
    JsonArray *dispute_list = data (disputes);
    gboolean needs_response = FALSE, under_review = FALSE;

    g_assert_true (get_bool (canceling, "cancel_at_period_end"));
    g_assert_cmpint (get_int (canceling, "cancel_at"), ==, get_int (canceling, "current_period_end"));
    g_assert_cmpstr (get_str (trialing, "status"), ==, "trialing");
    g_assert_cmpint (get_int (trialing, "trial_end"), >, now_s ());
    g_assert_cmpint (json_array_get_length (data (canceled)), ==, 1);
    g_assert_cmpint (get_int (ok (credit), "balance"), <, 0);
    g_assert_cmpfloat (json_object_get_double_member (get_obj (get_obj (discounted, "discount"), "coupon"),
                                                      "percent_off"), ==, 20.0);
    g_assert_cmpstr (get_str (first (kwd), "currency"), ==, "kwd");
    g_assert_cmpstr (get_str (first (jpy), "currency"), ==, "jpy");
    /* KWD has three decimals, JPY none: the lines say so. */
    g_assert_nonnull (strstr (get_str (json_array_get_object_element (get_array (get_obj (first (kwd), "lines"), "data"), 0),
                                       "description"), "KWD "));
    g_assert_nonnull (strstr (get_str (json_array_get_object_element (get_array (get_obj (first (jpy), "lines"), "data"), 0),
                                       "description"), "¥"));

    for (guint i = 0; i < json_array_get_length (dispute_list); i++)
      {
        JsonObject *dispute = json_array_get_object_element (dispute_list, i);
        JsonObject *details = get_obj (dispute, "evidence_details");

        if (g_str_equal (get_str (dispute, "status"), "needs_response"))
          {
            g_assert_cmpint (get_int (details, "due_by"), >, now_s ());
            g_assert_cmpint (get_int (details, "due_by"), <, now_s () + 7 * DAY);
            needs_response = TRUE;
          }
        if (g_str_equal (get_str (dispute, "status"), "under_review"))
          {
            g_assert_true (get_bool (details, "has_evidence"));
            under_review = TRUE;
          }
      }
    g_assert_true (needs_response);
    g_assert_true (under_review);
  }
}

/* The same seed gives the same Stripe objects, in the same order. */
static void
test_deterministic (void)
{
  g_autofree char *other_path = g_build_filename (tmp_dir, "again.db", NULL);
  g_autoptr(FdSandbox) other = fd_sandbox_new (other_path);
  g_autoptr(GError) error = NULL;
  sqlite3 *a, *b;
  sqlite3_stmt *sa = NULL, *sb = NULL;
  const char *sql = "SELECT id, object FROM sandbox_stripe_objects ORDER BY seq";
  guint compared = 0;

  g_assert_true (fd_sandbox_seed (other, 42, FD_DEMO_SCALE_SMALL, &error));
  g_assert_no_error (error);

  a = open_db (db_path);
  b = open_db (other_path);
  g_assert_cmpint (sqlite3_prepare_v2 (a, sql, -1, &sa, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (b, sql, -1, &sb, NULL), ==, SQLITE_OK);
  /* The running sandbox has had writes since; what the seed made comes first. */
  while (sqlite3_step (sb) == SQLITE_ROW)
    {
      g_assert_cmpint (sqlite3_step (sa), ==, SQLITE_ROW);
      g_assert_cmpstr ((const char *) sqlite3_column_text (sa, 0), ==, (const char *) sqlite3_column_text (sb, 0));
      g_assert_cmpstr ((const char *) sqlite3_column_text (sa, 1), ==, (const char *) sqlite3_column_text (sb, 1));
      compared++;
    }
  sqlite3_finalize (sa);
  sqlite3_finalize (sb);
  sqlite3_close (a);
  sqlite3_close (b);
  g_assert_cmpuint (compared, >, 300);
}

/* }}} */
/* {{{ Lists and search */

static gboolean
contains_casefold (const char *haystack,
                   const char *needle)
{
  g_autofree char *h = g_utf8_casefold (haystack ? haystack : "", -1);
  g_autofree char *n = g_utf8_casefold (needle, -1);

  return strstr (h, n) != NULL;
}

static void
test_list_search (void)
{
  g_autoptr(GPtrArray) by_seven = all_customers (7);
  g_autoptr(GPtrArray) by_hundred = all_customers (100);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) expected = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) found = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObject *sample = g_ptr_array_index (by_hundred, 3);
  const char *email = get_str (sample, "email");
  g_autofree char *escaped_email = escape (email);
  g_autofree char *query = g_strdup_printf ("email:'%s'", email);
  g_autofree char *escaped_query = escape (query);
  g_autoptr(Reply) exact = sget ("/v1/customers?email=%s", escaped_email);
  g_autoptr(Reply) searched = sget ("/v1/customers/search?query=%s", escaped_query);
  g_autoptr(Reply) before = NULL;
  g_autoptr(Reply) by_metadata = sget ("/v1/customers/search?query=%s",
                                       "metadata%5B%27sandbox_scenario%27%5D%3A%27trialing%27");
  g_autoptr(Reply) too_short = sget ("/v1/customers/search?query=%s", "name~%27ab%27");
  g_autoptr(Reply) mixed = sget ("/v1/customers/search?query=%s",
                                 "name%3A%27a%27%20AND%20email%3A%27b%27%20OR%20name%3A%27c%27");
  g_autoptr(Reply) bad_field = sget ("/v1/customers/search?query=%s", "colour%3A%27red%27");
  const char *or_query = "name~'inc' OR name~'gmbh' OR email~'.fr'";
  g_autofree char *escaped_or = escape (or_query);
  g_autofree char *page = NULL;
  guint pages = 0;

  /* Pages of seven cover everyone once, newest first, as pages of a hundred do. */
  g_assert_cmpuint (by_seven->len, ==, by_hundred->len);
  for (guint i = 0; i < by_seven->len; i++)
    {
      const char *id = get_str (g_ptr_array_index (by_seven, i), "id");

      g_assert_false (g_hash_table_contains (seen, id));
      g_hash_table_add (seen, (gpointer) id);
      g_assert_cmpstr (id, ==, get_str (g_ptr_array_index (by_hundred, i), "id"));
      if (i > 0)
        g_assert_cmpint (get_int (g_ptr_array_index (by_seven, i), "created"), <=,
                         get_int (g_ptr_array_index (by_seven, i - 1), "created"));
    }
  before = sget ("/v1/customers?limit=3&ending_before=%s",
                 get_str (g_ptr_array_index (by_hundred, 5), "id"));
  g_assert_cmpuint (json_array_get_length (data (before)), ==, 3);
  g_assert_cmpstr (get_str (first (before), "id"), ==, get_str (g_ptr_array_index (by_hundred, 2), "id"));
  g_assert_true (get_bool (obj (before), "has_more"));

  /* An exact email, listed and searched. */
  g_assert_cmpuint (json_array_get_length (data (exact)), ==, 1);
  g_assert_cmpstr (get_str (first (exact), "id"), ==, get_str (sample, "id"));
  g_assert_cmpstr (get_str (ok (searched), "object"), ==, "search_result");
  g_assert_cmpuint (json_array_get_length (get_array (obj (searched), "data")), ==, 1);
  g_assert_cmpstr (get_str (json_array_get_object_element (get_array (obj (searched), "data"), 0), "id"),
                   ==, get_str (sample, "id"));
  g_assert_true (is_null (obj (searched), "next_page"));
  g_assert_cmpstr (get_str (json_array_get_object_element (get_array (ok (by_metadata), "data"), 0), "id"),
                   ==, scenario ("trialing"));

  /* Substrings joined with OR, two at a time, match what a client-side filter finds. */
  for (guint i = 0; i < by_hundred->len; i++)
    {
      JsonObject *customer = g_ptr_array_index (by_hundred, i);
      const char *name = get_str (customer, "name");
      const char *mail = json_object_get_string_member_with_default (customer, "email", NULL);

      if (contains_casefold (name, "inc") || contains_casefold (name, "gmbh") ||
          (mail != NULL && contains_casefold (mail, ".fr")))
        g_hash_table_add (expected, (gpointer) get_str (customer, "id"));
    }
  g_assert_cmpuint (g_hash_table_size (expected), >=, 3);
  do
    {
      g_autoptr(Reply) result = NULL;
      JsonArray *array;

      if (page != NULL)
        {
          g_autofree char *escaped_page = escape (page);
          result = sget ("/v1/customers/search?limit=2&query=%s&page=%s", escaped_or, escaped_page);
        }
      else
        result = sget ("/v1/customers/search?limit=2&query=%s", escaped_or);
      array = get_array (ok (result), "data");
      g_assert_cmpuint (json_array_get_length (array), <=, 2);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          const char *id = g_intern_string (get_str (json_array_get_object_element (array, i), "id"));

          g_assert_false (g_hash_table_contains (found, id));
          g_hash_table_add (found, (gpointer) id);
        }
      g_free (page);
      page = get_bool (obj (result), "has_more") ? g_strdup (get_str (obj (result), "next_page")) : NULL;
      pages++;
    }
  while (page != NULL && pages < 100);
  g_assert_cmpuint (g_hash_table_size (found), ==, g_hash_table_size (expected));
  g_assert_cmpuint (pages, >=, 2);

  error_of (too_short, 400, "invalid_request_error");
  error_of (mixed, 400, "invalid_request_error");
  error_of (bad_field, 400, "invalid_request_error");
}

/* }}} */
/* {{{ Refunds and idempotency */

static char *
partly_refunded_charge (void)
{
  g_autoptr(Reply) charges = sget ("/v1/charges?customer=%s&limit=100", scenario ("partial_refund"));
  JsonArray *array = data (charges);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *charge = json_array_get_object_element (array, i);

      if (get_int (charge, "amount_refunded") > 0)
        return g_strdup (get_str (charge, "id"));
    }
  g_assert_not_reached ();
}

/* A paid charge of @customer that nothing has touched. */
static char *
plain_charge (const char *customer,
              guint       skip)
{
  g_autoptr(Reply) charges = sget ("/v1/charges?customer=%s&limit=100", customer);
  JsonArray *array = data (charges);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *charge = json_array_get_object_element (array, i);

      if (g_str_equal (get_str (charge, "status"), "succeeded") && get_int (charge, "amount_refunded") == 0 &&
          !get_bool (charge, "disputed") && skip-- == 0)
        return g_strdup (get_str (charge, "id"));
    }
  g_assert_not_reached ();
}

static gint64
refund_rows (const char *charge)
{
  return db_int ("SELECT COUNT(*) FROM sandbox_stripe_objects WHERE object = 'refund' AND parent = ?", charge);
}

static void
test_refund (void)
{
  g_autofree char *charge_id = partly_refunded_charge ();
  g_autoptr(Reply) before = sget ("/v1/charges/%s", charge_id);
  gint64 amount = get_int (ok (before), "amount");
  gint64 refunded = get_int (obj (before), "amount_refunded");
  gint64 rows = refund_rows (charge_id);
  g_autofree char *form = g_strdup_printf ("charge=%s&amount=100&reason=requested_by_customer"
                                           "&metadata%%5Bfrontdesk_conversation%%5D=42", charge_id);
  g_autofree char *too_much = g_strdup_printf ("charge=%s&amount=%" G_GINT64_FORMAT, charge_id,
                                               amount - refunded - 100 + 1);
  g_autofree char *rest = g_strdup_printf ("charge=%s&reason=duplicate", charge_id);
  g_autofree char *bad_reason = g_strdup_printf ("charge=%s&amount=1&reason=because", charge_id);
  JsonObject *refund;
  JsonObject *error;

  {
    g_autoptr(Reply) partial = swrite ("POST", "/v1/refunds", form, NULL);
    g_autoptr(Reply) after = sget ("/v1/charges/%s", charge_id);

    refund = ok (partial);
    g_assert_true (g_str_has_prefix (get_str (refund, "id"), "re_"));
    g_assert_cmpint (get_int (refund, "amount"), ==, 100);
    g_assert_cmpstr (get_str (refund, "charge"), ==, charge_id);
    g_assert_cmpstr (get_str (refund, "status"), ==, "succeeded");
    g_assert_cmpstr (get_str (get_obj (refund, "metadata"), "frontdesk_conversation"), ==, "42");
    g_assert_cmpint (get_int (ok (after), "amount_refunded"), ==, refunded + 100);
    g_assert_false (get_bool (obj (after), "refunded"));
    g_assert_cmpint (refund_rows (charge_id), ==, rows + 1);
  }

  /* Over the remainder by one minor unit: refused like Stripe, nothing changes. */
  {
    g_autoptr(Reply) refused = swrite ("POST", "/v1/refunds", too_much, NULL);
    g_autoptr(Reply) unchanged = sget ("/v1/charges/%s", charge_id);

    error = error_of (refused, 400, "invalid_request_error");
    g_assert_cmpstr (get_str (error, "code"), ==, "amount_too_large");
    g_assert_cmpstr (get_str (error, "param"), ==, "amount");
    g_assert_cmpint (get_int (ok (unchanged), "amount_refunded"), ==, refunded + 100);
    g_assert_cmpint (refund_rows (charge_id), ==, rows + 1);
  }

  /* Without an amount, the rest; then nothing is left. */
  {
    g_autoptr(Reply) remainder = swrite ("POST", "/v1/refunds", rest, NULL);
    g_autoptr(Reply) done = sget ("/v1/charges/%s?expand[]=refunds", charge_id);
    g_autoptr(Reply) again = swrite ("POST", "/v1/refunds", rest, NULL);
    g_autoptr(Reply) listed = sget ("/v1/refunds?charge=%s", charge_id);
    g_autoptr(Reply) invalid_reason = swrite ("POST", "/v1/refunds", bad_reason, NULL);

    g_assert_cmpint (get_int (ok (remainder), "amount"), ==, amount - refunded - 100);
    g_assert_cmpint (get_int (ok (done), "amount_refunded"), ==, amount);
    g_assert_true (get_bool (obj (done), "refunded"));
    g_assert_cmpuint (json_array_get_length (get_array (get_obj (obj (done), "refunds"), "data")), ==, rows + 2);
    error = error_of (again, 400, "invalid_request_error");
    g_assert_cmpstr (get_str (error, "code"), ==, "charge_already_refunded");
    g_assert_cmpuint (json_array_get_length (data (listed)), ==, rows + 2);
    g_assert_cmpint (refund_rows (charge_id), ==, rows + 2);
    error = error_of (invalid_reason, 400, "invalid_request_error");
    g_assert_cmpstr (get_str (error, "param"), ==, "reason");
  }
}

static void
test_idempotency (void)
{
  g_autofree char *charge_id = plain_charge (scenario ("currency_jpy"), 0);
  g_autofree char *form = g_strdup_printf ("charge=%s&amount=500&reason=requested_by_customer", charge_id);
  g_autofree char *other_form = g_strdup_printf ("charge=%s&amount=600", charge_id);
  g_autoptr(Reply) first_try = swrite ("POST", "/v1/refunds", form, "refund-once-1");
  g_autoptr(Reply) second_try = swrite ("POST", "/v1/refunds", form, "refund-once-1");
  g_autoptr(Reply) other_params = swrite ("POST", "/v1/refunds", other_form, "refund-once-1");
  g_autoptr(Reply) charge = sget ("/v1/charges/%s", charge_id);
  g_autofree char *cut_charge = plain_charge (scenario ("currency_jpy"), 0);
  g_autofree char *cut_form = g_strdup_printf ("charge=%s&amount=700", cut_charge);
  g_autoptr(SoupSession) fresh = soup_session_new_with_options ("timeout", 20, NULL);
  g_autoptr(GBytes) cut_body = g_bytes_new (cut_form, strlen (cut_form));
  g_autoptr(Reply) cut = NULL;
  g_autoptr(Reply) retried = NULL;
  g_autoptr(Reply) after_cut = NULL;
  JsonObject *error;

  /* The same key and request: done once, answered twice. */
  g_assert_cmpstr (get_str (ok (second_try), "id"), ==, get_str (ok (first_try), "id"));
  g_assert_null (header (first_try, "Idempotent-Replayed"));
  g_assert_cmpstr (header (second_try, "Idempotent-Replayed"), ==, "true");
  g_assert_cmpstr (header (second_try, "Original-Request"), ==, header (first_try, "Request-Id"));
  g_assert_cmpint (get_int (ok (charge), "amount_refunded"), ==, 500);
  g_assert_cmpint (refund_rows (charge_id), ==, 1);

  /* The same key with other parameters. */
  error = error_of (other_params, 400, "idempotency_error");
  g_assert_nonnull (strstr (get_str (error, "message"), "refund-once-1"));
  g_assert_cmpint (refund_rows (charge_id), ==, 1);

  /* Processed, then the connection is cut: the retry with the same key gets the first
   * answer and the charge is refunded once. */
  g_assert_cmpstr (cut_charge, !=, charge_id);
  fd_sandbox_add_fault (sandbox, "/stripe/v1/refunds", FD_SANDBOX_FAULT_TRUNCATE, 1, 0);
  cut = send_full (fresh, "POST", "/v1/refunds", SECRET, "application/x-www-form-urlencoded", cut_body,
                   "refund-after-cut");
  g_assert_true (cut->error != NULL || cut->json == NULL);
  g_assert_cmpint (refund_rows (cut_charge), ==, 1);
  retried = send_full (fresh, "POST", "/v1/refunds", SECRET, "application/x-www-form-urlencoded", cut_body,
                       "refund-after-cut");
  g_assert_cmpint (get_int (ok (retried), "amount"), ==, 700);
  g_assert_cmpstr (header (retried, "Idempotent-Replayed"), ==, "true");
  after_cut = sget ("/v1/charges/%s", cut_charge);
  g_assert_cmpint (get_int (ok (after_cut), "amount_refunded"), ==, 700);
  g_assert_cmpint (refund_rows (cut_charge), ==, 1);
}

/* }}} */
/* {{{ Seat changes and the upcoming invoice */

static gint64
prorate (gint64 amount,
         gint64 remaining,
         gint64 total)
{
  gint64 value = ((amount < 0 ? -amount : amount) * remaining + total / 2) / total;

  return amount < 0 ? -value : value;
}

static void
test_upcoming_seats (void)
{
  const char *customer = scenario ("currency_kwd");
  g_autoptr(JsonObject) sub = subscription_of (customer);
  JsonObject *item = item_of (sub);
  const char *sub_id = get_str (sub, "id");
  const char *item_id = get_str (item, "id");
  gint64 seats = get_int (item, "quantity");
  gint64 unit = get_int (get_obj (item, "price"), "unit_amount");
  gint64 start = get_int (sub, "current_period_start");
  gint64 end = get_int (sub, "current_period_end");
  gint64 at = now_s ();
  g_autoptr(Reply) plain = sget ("/v1/invoices/upcoming?customer=%s", customer);
  g_autoptr(Reply) preview = sget ("/v1/invoices/upcoming?subscription=%s&subscription_items%%5B0%%5D%%5Bid%%5D=%s"
                                   "&subscription_items%%5B0%%5D%%5Bquantity%%5D=%" G_GINT64_FORMAT
                                   "&subscription_proration_behavior=create_prorations"
                                   "&subscription_proration_date=%" G_GINT64_FORMAT,
                                   sub_id, item_id, seats + 10, at);
  g_autoptr(Reply) no_proration = sget ("/v1/invoices/upcoming?subscription=%s&subscription_items[0][id]=%s"
                                        "&subscription_items[0][quantity]=%" G_GINT64_FORMAT
                                        "&subscription_proration_behavior=none",
                                        sub_id, item_id, seats + 10);
  g_autoptr(Reply) unchanged = NULL;
  g_autoptr(Reply) updated = NULL;
  g_autoptr(Reply) after = NULL;
  g_autofree char *form = g_strdup_printf ("items[0][id]=%s&items[0][quantity]=%" G_GINT64_FORMAT
                                           "&proration_behavior=create_prorations&proration_date=%" G_GINT64_FORMAT,
                                           item_id, seats + 10, at);
  g_autofree char *sub_path = g_strdup_printf ("/v1/subscriptions/%s", sub_id);
  JsonArray *lines;
  gint64 credit = 0, debit = 0, regular = 0, prorations = 0;

  /* Today: the next period at the current seats. */
  g_assert_cmpstr (get_str (ok (plain), "currency"), ==, "kwd");
  g_assert_false (json_object_has_member (obj (plain), "id"));
  g_assert_cmpint (get_int (obj (plain), "amount_due"), ==, seats * unit);
  g_assert_cmpint (get_int (obj (plain), "created"), ==, end);

  /* Ten more seats: unused time credited, remaining time charged, next period at the new count. */
  lines = get_array (get_obj (ok (preview), "lines"), "data");
  g_assert_cmpuint (json_array_get_length (lines), ==, 3);
  for (guint i = 0; i < json_array_get_length (lines); i++)
    {
      JsonObject *line = json_array_get_object_element (lines, i);

      if (get_bool (line, "proration"))
        {
          prorations += get_int (line, "amount");
          if (get_int (line, "amount") < 0)
            {
              credit = get_int (line, "amount");
              g_assert_cmpint (get_int (line, "quantity"), ==, seats);
              g_assert_true (g_str_has_prefix (get_str (line, "description"), "Unused time on"));
            }
          else
            {
              debit = get_int (line, "amount");
              g_assert_cmpint (get_int (line, "quantity"), ==, seats + 10);
              g_assert_true (g_str_has_prefix (get_str (line, "description"), "Remaining time on"));
            }
          g_assert_cmpint (get_int (get_obj (line, "period"), "start"), ==, at);
          g_assert_cmpint (get_int (get_obj (line, "period"), "end"), ==, end);
        }
      else
        {
          regular = get_int (line, "amount");
          g_assert_cmpint (get_int (line, "quantity"), ==, seats + 10);
        }
    }
  g_assert_cmpint (credit, ==, prorate (-seats * unit, end - at, end - start));
  g_assert_cmpint (debit, ==, prorate ((seats + 10) * unit, end - at, end - start));
  g_assert_cmpint (regular, ==, (seats + 10) * unit);
  g_assert_cmpint (get_int (obj (preview), "total"), ==, regular + prorations);
  g_assert_cmpint (get_int (obj (preview), "amount_due"), ==, regular + prorations);
  g_assert_cmpint (get_int (obj (preview), "subscription_proration_date"), ==, at);
  g_assert_cmpint (get_int (obj (preview), "amount_due"), >, get_int (obj (plain), "amount_due"));
  g_assert_cmpint (get_int (ok (no_proration), "amount_due"), ==, (seats + 10) * unit);

  /* A preview changes nothing. */
  unchanged = sget ("/v1/invoices/upcoming?customer=%s", customer);
  g_assert_cmpint (get_int (ok (unchanged), "amount_due"), ==, seats * unit);

  /* The change itself: the next invoice carries the prorations and the new seats. */
  updated = swrite ("POST", sub_path, form, "seats-plus-10");
  g_assert_cmpint (get_int (item_of (ok (updated)), "quantity"), ==, seats + 10);
  g_assert_cmpstr (get_str (item_of (obj (updated)), "id"), ==, item_id);
  after = sget ("/v1/invoices/upcoming?customer=%s", customer);
  g_assert_cmpint (get_int (ok (after), "amount_due"), ==, regular + prorations);
  g_assert_cmpuint (json_array_get_length (get_array (get_obj (obj (after), "lines"), "data")), ==, 3);
}

static void
test_change_plan (void)
{
  const char *customer = scenario ("currency_jpy_2");
  g_autoptr(JsonObject) sub = subscription_of (customer);
  JsonObject *item = item_of (sub);
  g_autoptr(Reply) yearly = sget ("/v1/prices?lookup_keys[]=business_year_jpy");
  g_autoptr(Reply) euro = sget ("/v1/prices?lookup_keys[]=business_month_eur");
  const char *price_id = get_str (first (yearly), "id");
  g_autofree char *form = g_strdup_printf ("items[0][id]=%s&items[0][price]=%s&proration_behavior=always_invoice"
                                           "&expand[]=latest_invoice",
                                           get_str (item, "id"), price_id);
  g_autofree char *wrong_currency = g_strdup_printf ("items[0][id]=%s&items[0][price]=%s",
                                                     get_str (item, "id"), get_str (first (euro), "id"));
  g_autofree char *path = g_strdup_printf ("/v1/subscriptions/%s", get_str (sub, "id"));
  g_autoptr(Reply) refused = swrite ("POST", path, wrong_currency, NULL);
  g_autoptr(Reply) changed = swrite ("POST", path, form, NULL);
  JsonObject *invoice;
  JsonArray *lines;
  gint64 sum = 0, credit = 0, full = 0;

  error_of (refused, 400, "invalid_request_error");
  /* Monthly to yearly: a new billing cycle starts, invoiced and paid now. */
  g_assert_cmpstr (get_str (get_obj (item_of (ok (changed)), "price"), "id"), ==, price_id);
  g_assert_cmpint (get_int (obj (changed), "current_period_end") - get_int (obj (changed), "current_period_start"),
                   >=, 365 * DAY);
  invoice = get_obj (obj (changed), "latest_invoice");
  g_assert_cmpstr (get_str (invoice, "status"), ==, "paid");
  g_assert_cmpstr (get_str (invoice, "currency"), ==, "jpy");
  g_assert_cmpstr (get_str (invoice, "billing_reason"), ==, "subscription_update");
  lines = get_array (get_obj (invoice, "lines"), "data");
  for (guint i = 0; i < json_array_get_length (lines); i++)
    {
      JsonObject *line = json_array_get_object_element (lines, i);

      sum += get_int (line, "amount");
      if (get_bool (line, "proration"))
        credit += get_int (line, "amount");
      else
        full += get_int (line, "amount");
    }
  /* The unused month is credited against a full year at the new price. */
  g_assert_cmpint (credit, <, 0);
  g_assert_cmpint (full, ==, get_int (item, "quantity") * get_int (first (yearly), "unit_amount"));
  g_assert_cmpint (get_int (invoice, "total"), ==, sum);
  g_assert_cmpint (get_int (invoice, "amount_paid"), ==, sum);
  g_assert_cmpstr (get_str (obj (changed), "status"), ==, "active");
}

/* }}} */
/* {{{ Payments that fail */

static void
test_pay_declined (void)
{
  const char *cases[][3] = {
    { "payment_failed_expired_card", "expired_card", "expired_card" },
    { "payment_failed_insufficient_funds", "insufficient_funds", "card_declined" },
    { "payment_failed_authentication_required", "authentication_required", "authentication_required" },
    { "payment_failed_do_not_honor", "do_not_honor", "card_declined" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *customer = scenario (cases[i][0]);
      g_autoptr(JsonObject) invoice = open_invoice_of (customer);
      g_autofree char *pay_path = g_strdup_printf ("/v1/invoices/%s/pay", get_str (invoice, "id"));
      g_autofree char *customer_path = g_strdup_printf ("/v1/customers/%s", customer);
      g_autofree char *key = g_strdup_printf ("pay-%s", cases[i][0]);
      g_autoptr(Reply) declined = swrite ("POST", pay_path, NULL, key);
      g_autoptr(Reply) replayed = swrite ("POST", pay_path, NULL, key);
      g_autoptr(Reply) still_open = sget ("/v1/invoices/%s?expand[]=charge", get_str (invoice, "id"));
      g_autoptr(Reply) switched = NULL;
      g_autoptr(Reply) paid = NULL;
      g_autoptr(Reply) healthy = NULL;
      g_autoptr(Reply) who = NULL;
      g_autoptr(JsonObject) sub = NULL;
      JsonObject *error = error_of (declined, 402, "card_error");
      JsonObject *charge;

      g_assert_cmpstr (get_str (error, "decline_code"), ==, cases[i][1]);
      g_assert_cmpstr (get_str (error, "code"), ==, cases[i][2]);
      g_assert_true (g_str_has_prefix (get_str (error, "charge"), "ch_"));
      /* The declined attempt is remembered under its key: a retry does not charge again. */
      g_assert_cmpuint (replayed->status, ==, 402);
      g_assert_cmpstr (header (replayed, "Idempotent-Replayed"), ==, "true");

      g_assert_cmpstr (get_str (ok (still_open), "status"), ==, "open");
      g_assert_cmpint (get_int (obj (still_open), "attempt_count"), ==, get_int (invoice, "attempt_count") + 1);
      charge = get_obj (obj (still_open), "charge");
      g_assert_cmpstr (get_str (charge, "id"), ==, get_str (error, "charge"));
      g_assert_cmpstr (get_str (charge, "status"), ==, "failed");
      g_assert_cmpstr (get_str (get_obj (charge, "outcome"), "reason"), ==, cases[i][1]);

      /* A working card, then the retry pays and the account is healthy again. */
      switched = swrite ("POST", customer_path, "invoice_settings[default_payment_method]=pm_card_visa", NULL);
      g_assert_cmpstr (get_str (get_obj (ok (switched), "invoice_settings"), "default_payment_method"),
                       !=, "pm_card_visa");
      paid = swrite ("POST", pay_path, NULL, NULL);
      g_assert_cmpstr (get_str (ok (paid), "status"), ==, "paid");
      g_assert_cmpint (get_int (obj (paid), "amount_paid"), ==, get_int (invoice, "amount_due"));
      g_assert_cmpint (get_int (obj (paid), "amount_remaining"), ==, 0);
      sub = subscription_of (customer);
      g_assert_cmpstr (get_str (sub, "status"), ==, "active");
      who = sget ("/v1/customers/%s", customer);
      g_assert_false (get_bool (ok (who), "delinquent"));
      healthy = sget ("/v1/charges/%s", get_str (obj (paid), "charge"));
      g_assert_cmpstr (get_str (ok (healthy), "status"), ==, "succeeded");
      g_assert_cmpstr (get_str (get_obj (get_obj (obj (healthy), "payment_method_details"), "card"), "last4"), ==, "4242");
    }

  /* A test card given for one payment fails with its own code. */
  {
    const char *customer = scenario ("payment_failed_generic_decline");
    g_autoptr(JsonObject) invoice = open_invoice_of (customer);
    g_autofree char *pay_path = g_strdup_printf ("/v1/invoices/%s/pay", get_str (invoice, "id"));
    g_autoptr(Reply) lost = swrite ("POST", pay_path, "payment_method=pm_card_chargeDeclinedLostCard", NULL);
    g_autoptr(Reply) funds = swrite ("POST", pay_path, "payment_method=pm_card_chargeDeclinedInsufficientFunds", NULL);
    JsonObject *error;

    error = error_of (lost, 402, "card_error");
    g_assert_cmpstr (get_str (error, "decline_code"), ==, "lost_card");
    g_assert_cmpstr (get_str (error, "advice_code"), ==, "do_not_try_again");
    error = error_of (funds, 402, "card_error");
    g_assert_cmpstr (get_str (error, "decline_code"), ==, "insufficient_funds");
    g_assert_cmpstr (get_str (error, "advice_code"), ==, "try_again_later");
  }
}

/* }}} */
/* {{{ The restricted key */

static void
test_restricted (void)
{
  const char *customer = scenario ("credit_balance");
  g_autoptr(JsonObject) sub = subscription_of (customer);
  g_autofree char *charge = plain_charge (customer, 0);
  g_autofree char *sub_path = g_strdup_printf ("/v1/subscriptions/%s", get_str (sub, "id"));
  g_autofree char *upcoming = g_strdup_printf ("/v1/invoices/upcoming?customer=%s", customer);
  g_autofree char *form = g_strdup_printf ("charge=%s&amount=100", charge);
  g_autoptr(GBytes) refund_body = g_bytes_new (form, strlen (form));
  g_autoptr(GBytes) cancel_body = g_bytes_new_static ("cancel_at_period_end=true", 25);
  g_autoptr(Reply) read = send_full (session, "GET", "/v1/customers?limit=3", RESTRICTED, NULL, NULL, NULL);
  g_autoptr(Reply) preview = send_full (session, "GET", upcoming, RESTRICTED, NULL, NULL, NULL);
  g_autoptr(Reply) refund = send_full (session, "POST", "/v1/refunds", RESTRICTED,
                                       "application/x-www-form-urlencoded", refund_body, "rk-1");
  g_autoptr(Reply) update = send_full (session, "POST", sub_path, RESTRICTED,
                                       "application/x-www-form-urlencoded", cancel_body, NULL);
  g_autoptr(Reply) cancel = send_full (session, "DELETE", sub_path, RESTRICTED, NULL, NULL, NULL);
  g_autoptr(Reply) empty_probe = send_full (session, "POST", "/v1/refunds", RESTRICTED,
                                            "application/x-www-form-urlencoded", NULL, NULL);
  g_autoptr(Reply) secret_probe = swrite ("POST", "/v1/refunds", "", NULL);
  g_autoptr(JsonObject) after = NULL;
  JsonObject *error;

  g_assert_cmpuint (json_array_get_length (data (read)), ==, 3);
  ok (preview);
  error = error_of (refund, 403, "invalid_request_error");
  g_assert_nonnull (strstr (get_str (error, "message"), "rak_refund_write"));
  g_assert_null (strstr (refund->body, FD_SANDBOX_STRIPE_RESTRICTED_KEY));
  error = error_of (update, 403, "invalid_request_error");
  g_assert_nonnull (strstr (get_str (error, "message"), "rak_subscription_write"));
  error_of (cancel, 403, "invalid_request_error");
  /* How a client probes a permission: a write without parameters is 403 for the
   * restricted key and 400 (missing parameter) for the secret one. */
  error_of (empty_probe, 403, "invalid_request_error");
  error_of (secret_probe, 400, "invalid_request_error");

  g_assert_cmpint (refund_rows (charge), ==, 0);
  after = subscription_of (customer);
  g_assert_false (get_bool (after, "cancel_at_period_end"));
  g_assert_cmpstr (get_str (after, "status"), ==, "active");
}

/* }}} */
/* {{{ Cancellations and pauses */

static void
test_cancel (void)
{
  const char *customer = scenario ("cancel_at_period_end");
  g_autoptr(JsonObject) sub = subscription_of (customer);
  g_autofree char *path = g_strdup_printf ("/v1/subscriptions/%s", get_str (sub, "id"));
  g_autoptr(Reply) none = sget ("/v1/invoices/upcoming?customer=%s", customer);
  g_autoptr(Reply) undo = swrite ("POST", path, "cancel_at_period_end=false", NULL);
  g_autoptr(Reply) next = sget ("/v1/invoices/upcoming?customer=%s", customer);
  g_autoptr(Reply) again = swrite ("POST", path, "cancel_at_period_end=true&cancellation_details[feedback]=too_expensive", NULL);
  g_autoptr(Reply) none_again = sget ("/v1/invoices/upcoming?customer=%s", customer);
  g_autoptr(Reply) pause = swrite ("POST", path, "pause_collection[behavior]=keep_as_draft", NULL);
  g_autoptr(Reply) resume = swrite ("POST", path, "pause_collection=", NULL);
  g_autoptr(Reply) metadata = swrite ("POST", path, "metadata[frontdesk_conversation]=7", NULL);
  const char *other = scenario ("discount");
  g_autoptr(JsonObject) other_sub = subscription_of (other);
  g_autofree char *other_path = g_strdup_printf ("/v1/subscriptions/%s", get_str (other_sub, "id"));
  g_autoptr(Reply) now = swrite ("DELETE", other_path, "cancellation_details[comment]=closing", NULL);
  g_autoptr(Reply) twice = swrite ("DELETE", other_path, NULL, NULL);
  g_autoptr(Reply) live = sget ("/v1/subscriptions?customer=%s", other);
  g_autoptr(Reply) ended = sget ("/v1/subscriptions?customer=%s&status=canceled", other);
  g_autoptr(Reply) canceled_update = swrite ("POST", other_path, "cancel_at_period_end=false", NULL);
  JsonObject *error;

  error = error_of (none, 404, "invalid_request_error");
  g_assert_cmpstr (get_str (error, "code"), ==, "invoice_upcoming_none");

  g_assert_false (get_bool (ok (undo), "cancel_at_period_end"));
  g_assert_true (is_null (obj (undo), "cancel_at"));
  g_assert_true (is_null (obj (undo), "canceled_at"));
  g_assert_cmpstr (get_str (obj (undo), "status"), ==, "active");
  g_assert_cmpint (get_int (ok (next), "amount_due"), >, 0);

  g_assert_true (get_bool (ok (again), "cancel_at_period_end"));
  g_assert_cmpint (get_int (obj (again), "cancel_at"), ==, get_int (obj (again), "current_period_end"));
  g_assert_cmpint (get_int (obj (again), "canceled_at"), >=, now_s () - 60);
  g_assert_cmpstr (get_str (get_obj (obj (again), "cancellation_details"), "feedback"), ==, "too_expensive");
  g_assert_cmpstr (get_str (obj (again), "status"), ==, "active");
  error_of (none_again, 404, "invalid_request_error");

  g_assert_cmpstr (get_str (get_obj (ok (pause), "pause_collection"), "behavior"), ==, "keep_as_draft");
  g_assert_true (is_null (ok (resume), "pause_collection"));
  g_assert_cmpstr (get_str (get_obj (ok (metadata), "metadata"), "frontdesk_conversation"), ==, "7");

  g_assert_cmpstr (get_str (ok (now), "status"), ==, "canceled");
  g_assert_false (is_null (obj (now), "ended_at"));
  g_assert_cmpstr (get_str (get_obj (obj (now), "cancellation_details"), "comment"), ==, "closing");
  error_of (twice, 400, "invalid_request_error");
  g_assert_cmpuint (json_array_get_length (data (live)), ==, 0);
  g_assert_cmpuint (json_array_get_length (data (ended)), ==, 1);
  error_of (canceled_update, 400, "invalid_request_error");
}

/* }}} */
/* {{{ Disputes */

static JsonObject *
dispute_with_status (const char *status)
{
  g_autoptr(Reply) disputes = sget ("/v1/disputes?limit=100");
  JsonArray *array = data (disputes);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *dispute = json_array_get_object_element (array, i);

      if (g_str_equal (get_str (dispute, "status"), status))
        return json_object_ref (dispute);
    }
  g_assert_not_reached ();
}

static void
test_dispute (void)
{
  g_autoptr(JsonObject) dispute = dispute_with_status ("needs_response");
  const char *id = get_str (dispute, "id");
  g_autofree char *path = g_strdup_printf ("/v1/disputes/%s", id);
  g_autofree char *close_path = g_strdup_printf ("/v1/disputes/%s/close", id);
  g_autofree char *refund_form = g_strdup_printf ("charge=%s", get_str (dispute, "charge"));
  g_autoptr(Reply) charge = sget ("/v1/charges/%s", get_str (dispute, "charge"));
  g_autoptr(Reply) refund = swrite ("POST", "/v1/refunds", refund_form, NULL);
  g_autoptr(Reply) draft = swrite ("POST", path, "evidence[uncategorized_text]=Used%20daily&"
                                   "evidence[customer_communication]=&submit=false", NULL);
  g_autoptr(Reply) unknown = swrite ("POST", path, "evidence[favourite_colour]=blue&submit=false", NULL);
  g_autoptr(Reply) missing_file = swrite ("POST", path, "evidence[service_documentation]=file_missing&submit=false", NULL);
  g_autoptr(SoupMultipart) multipart = soup_multipart_new ("multipart/form-data");
  g_autoptr(GBytes) pdf = g_bytes_new_static ("%PDF-1.4 sign-in log", 20);
  g_autoptr(GBytes) text = g_bytes_new_static ("plain words", 11);
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_MULTIPART);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(Reply) upload = NULL;
  g_autoptr(Reply) wrong_type = NULL;
  g_autoptr(Reply) file = NULL;
  g_autoptr(Reply) submitted = NULL;
  g_autoptr(Reply) close_reviewed = NULL;
  g_autoptr(Reply) late_change = NULL;
  g_autofree char *submit_form = NULL;
  const char *content_type;
  JsonObject *evidence;

  /* A disputed charge is not refunded beside the dispute. */
  g_assert_true (get_bool (ok (charge), "disputed"));
  g_assert_cmpstr (get_str (obj (charge), "dispute"), ==, id);
  g_assert_cmpstr (get_str (error_of (refund, 400, "invalid_request_error"), "code"), ==, "charge_disputed");

  /* A draft keeps the dispute open. */
  g_assert_cmpstr (get_str (ok (draft), "status"), ==, "needs_response");
  evidence = get_obj (obj (draft), "evidence");
  g_assert_cmpstr (get_str (evidence, "uncategorized_text"), ==, "Used daily");
  g_assert_true (is_null (evidence, "customer_communication"));
  g_assert_true (get_bool (get_obj (obj (draft), "evidence_details"), "has_evidence"));
  g_assert_cmpint (get_int (get_obj (obj (draft), "evidence_details"), "submission_count"), ==, 0);
  g_assert_cmpstr (get_str (error_of (unknown, 400, "invalid_request_error"), "code"), ==, "parameter_unknown");
  error_of (missing_file, 400, "invalid_request_error");

  /* A file for the evidence. */
  soup_multipart_append_form_string (multipart, "purpose", "dispute_evidence");
  soup_multipart_append_form_file (multipart, "file", "sign-ins.pdf", "application/pdf", pdf);
  soup_multipart_to_message (multipart, headers, &body);
  content_type = soup_message_headers_get_one (headers, "Content-Type");
  upload = send_full (session, "POST", "/v1/files", SECRET, content_type, body, "upload-1");
  g_assert_cmpstr (get_str (ok (upload), "object"), ==, "file");
  g_assert_cmpstr (get_str (obj (upload), "purpose"), ==, "dispute_evidence");
  g_assert_cmpstr (get_str (obj (upload), "filename"), ==, "sign-ins.pdf");
  g_assert_cmpint (get_int (obj (upload), "size"), ==, 20);
  g_assert_cmpstr (get_str (obj (upload), "type"), ==, "pdf");
  file = sget ("/v1/files/%s", get_str (obj (upload), "id"));
  g_assert_cmpstr (get_str (ok (file), "id"), ==, get_str (obj (upload), "id"));
  {
    g_autoptr(SoupMultipart) other = soup_multipart_new ("multipart/form-data");
    g_autoptr(SoupMessageHeaders) other_headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_MULTIPART);
    g_autoptr(GBytes) other_body = NULL;

    soup_multipart_append_form_string (other, "purpose", "dispute_evidence");
    soup_multipart_append_form_file (other, "file", "notes.txt", "text/plain", text);
    soup_multipart_to_message (other, other_headers, &other_body);
    wrong_type = send_full (session, "POST", "/v1/files", SECRET,
                            soup_message_headers_get_one (other_headers, "Content-Type"), other_body, NULL);
    error_of (wrong_type, 400, "invalid_request_error");
  }

  /* Submitted, the dispute is under review and can no longer be closed or changed. */
  submit_form = g_strdup_printf ("evidence[service_documentation]=%s&submit=true&metadata[frontdesk_conversation]=9",
                                 get_str (obj (upload), "id"));
  submitted = swrite ("POST", path, submit_form, NULL);
  g_assert_cmpstr (get_str (ok (submitted), "status"), ==, "under_review");
  g_assert_cmpstr (get_str (get_obj (obj (submitted), "evidence"), "service_documentation"), ==,
                   get_str (obj (upload), "id"));
  g_assert_cmpstr (get_str (get_obj (obj (submitted), "evidence"), "uncategorized_text"), ==, "Used daily");
  g_assert_cmpint (get_int (get_obj (obj (submitted), "evidence_details"), "submission_count"), ==, 1);
  g_assert_cmpstr (get_str (get_obj (obj (submitted), "metadata"), "frontdesk_conversation"), ==, "9");
  close_reviewed = swrite ("POST", close_path, NULL, NULL);
  error_of (close_reviewed, 400, "invalid_request_error");
  late_change = swrite ("POST", path, "evidence[uncategorized_text]=more", NULL);
  error_of (late_change, 400, "invalid_request_error");

  /* Accepting the loss: an inquiry closes, and a new dispute from Stripe's test card is lost. */
  {
    g_autoptr(JsonObject) inquiry = dispute_with_status ("warning_needs_response");
    g_autofree char *inquiry_close = g_strdup_printf ("/v1/disputes/%s/close", get_str (inquiry, "id"));
    g_autoptr(Reply) closed_inquiry = swrite ("POST", inquiry_close, NULL, NULL);
    const char *customer = scenario ("enterprise_invoice_open");
    g_autoptr(JsonObject) invoice = open_invoice_of (customer);
    g_autofree char *pay_path = g_strdup_printf ("/v1/invoices/%s/pay", get_str (invoice, "id"));
    g_autoptr(Reply) paid = swrite ("POST", pay_path, "payment_method=pm_card_createDispute", NULL);
    g_autoptr(Reply) created = sget ("/v1/disputes?charge=%s", get_str (ok (paid), "charge"));
    g_autofree char *new_close = g_strdup_printf ("/v1/disputes/%s/close", get_str (first (created), "id"));
    g_autoptr(Reply) lost = swrite ("POST", new_close, NULL, NULL);
    g_autoptr(Reply) closed_twice = swrite ("POST", new_close, NULL, NULL);

    g_assert_cmpstr (get_str (ok (closed_inquiry), "status"), ==, "warning_closed");
    g_assert_cmpstr (get_str (obj (paid), "status"), ==, "paid");
    g_assert_cmpstr (get_str (first (created), "status"), ==, "needs_response");
    g_assert_cmpint (get_int (first (created), "amount"), ==, get_int (invoice, "amount_due"));
    g_assert_cmpstr (get_str (ok (lost), "status"), ==, "lost");
    error_of (closed_twice, 400, "invalid_request_error");
  }
}

/* }}} */
/* {{{ Credit notes and invoices */

static void
test_credit_note (void)
{
  const char *customer = scenario ("partial_refund");
  g_autoptr(Reply) paid = sget ("/v1/invoices?customer=%s&status=paid&limit=1", customer);
  JsonObject *invoice = first (paid);
  const char *invoice_id = get_str (invoice, "id");
  g_autoptr(Reply) who = sget ("/v1/customers/%s", customer);
  gint64 balance = get_int (ok (who), "balance");
  g_autoptr(Reply) preview = sget ("/v1/credit_notes/preview?invoice=%s&amount=500&reason=order_change", invoice_id);
  g_autoptr(Reply) unchanged = sget ("/v1/customers/%s", customer);
  g_autoptr(Reply) too_much = sget ("/v1/credit_notes/preview?invoice=%s&amount=%" G_GINT64_FORMAT,
                                    invoice_id, get_int (invoice, "amount_paid") + 1);
  g_autofree char *form = g_strdup_printf ("invoice=%s&amount=500&reason=order_change&memo=Seats%%20removed", invoice_id);
  g_autoptr(Reply) note = swrite ("POST", "/v1/credit_notes", form, NULL);
  g_autoptr(Reply) after = sget ("/v1/customers/%s", customer);
  g_autoptr(Reply) listed = sget ("/v1/credit_notes?invoice=%s", invoice_id);
  g_autoptr(Reply) invoice_after = sget ("/v1/invoices/%s", invoice_id);
  g_autoptr(Reply) send_auto = NULL;
  g_autofree char *send_path = g_strdup_printf ("/v1/invoices/%s/send", invoice_id);

  g_assert_cmpint (get_int (ok (preview), "amount"), ==, 500);
  g_assert_cmpstr (get_str (obj (preview), "type"), ==, "post_payment");
  g_assert_cmpint (get_int (ok (unchanged), "balance"), ==, balance);
  error_of (too_much, 400, "invalid_request_error");

  g_assert_true (g_str_has_prefix (get_str (ok (note), "id"), "cn_"));
  g_assert_cmpstr (get_str (obj (note), "status"), ==, "issued");
  g_assert_cmpstr (get_str (obj (note), "memo"), ==, "Seats removed");
  /* Credit on a paid invoice goes to the customer's balance (negative: owed to them). */
  g_assert_cmpint (get_int (ok (after), "balance"), ==, balance - 500);
  g_assert_cmpuint (json_array_get_length (data (listed)), ==, 1);
  g_assert_cmpint (get_int (ok (invoice_after), "post_payment_credit_notes_amount"), ==, 500);

  /* Only invoices sent for payment can be sent by hand. */
  send_auto = swrite ("POST", send_path, NULL, NULL);
  error_of (send_auto, 400, "invalid_request_error");
}

static void
test_invoice_states (void)
{
  const char *customer = scenario ("enterprise_past_due");
  g_autoptr(JsonObject) invoice = open_invoice_of (customer);
  g_autoptr(JsonObject) sub = subscription_of (customer);
  g_autofree char *send_path = g_strdup_printf ("/v1/invoices/%s/send", get_str (invoice, "id"));
  g_autofree char *uncollectible_path = g_strdup_printf ("/v1/invoices/%s/mark_uncollectible", get_str (invoice, "id"));
  g_autofree char *void_path = g_strdup_printf ("/v1/invoices/%s/void", get_str (invoice, "id"));
  g_autoptr(Reply) sent = NULL;
  g_autoptr(Reply) uncollectible = NULL;
  g_autoptr(Reply) voided = NULL;
  g_autoptr(Reply) void_again = NULL;
  g_autoptr(JsonObject) after = NULL;

  /* Enterprise invoicing: sent, due in 30 days, now past due. */
  g_assert_cmpstr (get_str (invoice, "collection_method"), ==, "send_invoice");
  g_assert_cmpint (get_int (invoice, "due_date"), <, now_s ());
  g_assert_cmpint (get_int (invoice, "due_date") - get_int (get_obj (invoice, "status_transitions"), "finalized_at"),
                   ==, 30 * DAY);
  g_assert_cmpstr (get_str (sub, "status"), ==, "past_due");

  sent = swrite ("POST", send_path, NULL, NULL);
  g_assert_cmpstr (get_str (ok (sent), "status"), ==, "open");
  uncollectible = swrite ("POST", uncollectible_path, NULL, NULL);
  g_assert_cmpstr (get_str (ok (uncollectible), "status"), ==, "uncollectible");
  g_assert_false (is_null (get_obj (obj (uncollectible), "status_transitions"), "marked_uncollectible_at"));
  voided = swrite ("POST", void_path, NULL, NULL);
  g_assert_cmpstr (get_str (ok (voided), "status"), ==, "void");
  void_again = swrite ("POST", void_path, NULL, NULL);
  error_of (void_again, 400, "invalid_request_error");
  after = subscription_of (customer);
  g_assert_cmpstr (get_str (after, "status"), ==, "active");
}

/* }}} */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  gint64 started;
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("test-sandbox-stripe-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmp_dir, "sandbox.db", NULL);

  started = g_get_monotonic_time ();
  sandbox = fd_sandbox_new (db_path);
  if (!fd_sandbox_seed (sandbox, 42, FD_DEMO_SCALE_SMALL, &error) ||
      !fd_sandbox_run_in_thread (sandbox, 0, &error))
    g_error ("Could not start the sandbox: %s", error->message);
  g_test_message ("Seeded and started the sandbox in %.0f ms",
                  (g_get_monotonic_time () - started) / 1000.0);
  session = soup_session_new_with_options ("timeout", 20, NULL);

  g_test_add_func ("/sandbox-stripe/auth", test_auth);
  g_test_add_func ("/sandbox-stripe/errors", test_errors);
  g_test_add_func ("/sandbox-stripe/seed", test_seed);
  g_test_add_func ("/sandbox-stripe/deterministic", test_deterministic);
  g_test_add_func ("/sandbox-stripe/list-search", test_list_search);
  g_test_add_func ("/sandbox-stripe/refund", test_refund);
  g_test_add_func ("/sandbox-stripe/idempotency", test_idempotency);
  g_test_add_func ("/sandbox-stripe/upcoming-seats", test_upcoming_seats);
  g_test_add_func ("/sandbox-stripe/change-plan", test_change_plan);
  g_test_add_func ("/sandbox-stripe/pay-declined", test_pay_declined);
  g_test_add_func ("/sandbox-stripe/restricted", test_restricted);
  g_test_add_func ("/sandbox-stripe/cancel", test_cancel);
  g_test_add_func ("/sandbox-stripe/dispute", test_dispute);
  g_test_add_func ("/sandbox-stripe/credit-note", test_credit_note);
  g_test_add_func ("/sandbox-stripe/invoice-states", test_invoice_states);

  ret = g_test_run ();

  g_clear_pointer (&scenarios, json_object_unref);
  g_clear_object (&session);
  fd_sandbox_stop (sandbox);
  g_assert_finalize_object (sandbox);
  remove_tree (tmp_dir);
  g_free (db_path);
  g_free (tmp_dir);

  return ret;
}
