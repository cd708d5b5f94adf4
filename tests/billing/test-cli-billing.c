/* test-cli-billing.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * frontdesk-cli billing lookup against the sandbox's Stripe, with the key in the real
 * keyring, as a support agent would type it. What to expect is read from the sandbox's
 * own Stripe API (a seeded customer whose card expired), never written into the test.
 */

#include "config.h"

#include "../fd-test-keyring.h"

#include <locale.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "fd-billing.h"
#include "fd-money.h"
#include "fd-sandbox.h"
#include "fd-stripe-error.h"

static FdSandbox *sandbox;
static char *tmp_dir;
static char *stripe_url;
static SoupSession *session;

/* {{{ Helpers */

/* Runs frontdesk-cli with @input on stdin; returns its exit status. */
static int
cli (const char  *profile,
     const char  *input,
     char       **out,
     char       **err,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("FD_CLI"));
  g_ptr_array_add (argv, (gpointer) "--profile");
  g_ptr_array_add (argv, (gpointer) profile);
  va_start (args, err);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, out, err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (process))
    g_error ("frontdesk-cli did not exit normally; it said: %s", *err);

  return g_subprocess_get_exit_status (process);
}

/* GET on the sandbox's Stripe, as the test's own reference. */
static JsonNode *
stripe_get (const char *path_and_query)
{
  g_autofree char *url = g_strconcat (stripe_url, path_and_query, NULL);
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization",
                                "Bearer " FD_SANDBOX_STRIPE_KEY);
  body = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, 200);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                             g_bytes_get_size (body), &error));
  g_assert_no_error (error);

  return json_node_copy (json_parser_get_root (parser));
}

/* The customer the sandbox seeded for @scenario: GET /stripe/_sandbox/scenarios answers
 * {"scenarios": {"payment_failed_expired_card": "cus_…", …}}. */
static char *
scenario_customer (const char *scenario)
{
  g_autoptr(JsonNode) root = stripe_get ("/_sandbox/scenarios");
  JsonObject *scenarios = json_object_get_object_member (json_node_get_object (root),
                                                         "scenarios");
  const char *customer;

  g_assert_nonnull (scenarios);
  customer = json_object_get_string_member_with_default (scenarios, scenario, NULL);
  if (customer == NULL)
    g_error ("The sandbox has no “%s” scenario", scenario);

  return g_strdup (customer);
}

static JsonArray *
list_data (JsonNode *list)
{
  return json_object_get_array_member (json_node_get_object (list), "data");
}

/* The profile whose Stripe account is the sandbox's, its key in the keyring; made once,
 * by the CLI as a user would. */
static const char *
stripe_profile (void)
{
  static char *profile = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (profile != NULL)
    return profile;

  profile = g_build_filename (tmp_dir, "stripe", NULL);
  g_assert_cmpint (cli (profile, FD_SANDBOX_STRIPE_KEY "\n", &out, &err, "account", "add",
                        "--kind", "stripe", "--name", "Stripe", "--base-url", stripe_url,
                        NULL), ==, 0);
  g_assert_null (strstr (out, FD_SANDBOX_STRIPE_KEY));

  return profile;
}

static JsonObject *
find_by_id (JsonArray  *array,
            const char *id)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (object, "id", NULL), id) == 0)
        return object;
    }
  return NULL;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

/* }}} */

typedef struct
{
  char *customer_id;
  char *email;
  char *subscription_id;
  char *subscription_status;
  gint64 seats;
  char *charge_id;
  FdStripeExplanation explanation;
} Expected;

static void
expected_clear (Expected *expected)
{
  g_free (expected->customer_id);
  g_free (expected->email);
  g_free (expected->subscription_id);
  g_free (expected->subscription_status);
  g_free (expected->charge_id);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Expected, expected_clear)

/* What lookup must show for @scenario, read from the sandbox's Stripe. */
static void
read_expected (const char *scenario,
               Expected   *expected)
{
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) customer = NULL;
  g_autoptr(JsonNode) subscriptions = NULL;
  g_autoptr(JsonNode) charges = NULL;
  JsonArray *data;

  expected->customer_id = scenario_customer (scenario);

  path = g_strconcat ("/v1/customers/", expected->customer_id, NULL);
  customer = stripe_get (path);
  expected->email = g_strdup (json_object_get_string_member (json_node_get_object (customer),
                                                             "email"));
  g_assert_nonnull (expected->email);

  g_free (path);
  path = g_strdup_printf ("/v1/subscriptions?customer=%s&status=all", expected->customer_id);
  subscriptions = stripe_get (path);
  data = list_data (subscriptions);
  g_assert_cmpuint (json_array_get_length (data), >, 0);
  {
    g_autoptr(FdStripeSubscription) sub =
      fd_stripe_subscription_from_json (json_array_get_object_element (data, 0));

    expected->subscription_id = g_strdup (sub->id);
    expected->subscription_status = g_strdup (sub->status);
    g_assert_cmpuint (sub->items->len, >, 0);
    expected->seats = ((FdStripeSubscriptionItem *) g_ptr_array_index (sub->items, 0))->quantity;
  }

  g_free (path);
  path = g_strdup_printf ("/v1/charges?customer=%s&limit=100", expected->customer_id);
  charges = stripe_get (path);
  data = list_data (charges);
  for (guint i = 0; i < json_array_get_length (data) && expected->charge_id == NULL; i++)
    {
      g_autoptr(FdStripeCharge) charge =
        fd_stripe_charge_from_json (json_array_get_object_element (data, i));

      if (g_strcmp0 (charge->status, "failed") != 0)
        continue;
      expected->charge_id = g_strdup (charge->id);
      expected->explanation = fd_stripe_explain_decline (charge->failure_code,
                                                         charge->decline_code,
                                                         charge->advice_code);
    }
  g_assert_nonnull (expected->charge_id);
}

static void
test_lookup_text (void)
{
  g_auto(Expected) expected = { 0 };
  const char *profile;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("no Secret Service on the session bus; run under build-aux/with-keyring");
      return;
    }

  read_expected ("payment_failed_expired_card", &expected);
  /* The explanation is the expired card's, not a generic one. */
  g_assert_nonnull (strstr (expected.explanation.what, "expired"));
  g_assert_false (expected.explanation.retry_may_work);

  profile = stripe_profile ();
  g_assert_cmpint (cli (profile, NULL, &out, &err, "billing", "lookup", expected.email, NULL),
                   ==, 0);
  g_test_message ("%s", out);

  g_assert_nonnull (strstr (out, expected.customer_id));
  g_assert_nonnull (strstr (out, expected.email));
  g_assert_nonnull (strstr (out, expected.subscription_id));
  g_assert_nonnull (strstr (out, fd_stripe_status_label (expected.subscription_status)));
  {
    g_autofree char *seats = g_strdup_printf ("× %" G_GINT64_FORMAT " seat", expected.seats);

    g_assert_nonnull (strstr (out, seats));
  }
  g_assert_nonnull (strstr (out, expected.charge_id));
  g_assert_nonnull (strstr (out, expected.explanation.what));
  g_assert_nonnull (strstr (out, expected.explanation.tell_customer));

  /* The key never shows. */
  g_assert_null (strstr (out, FD_SANDBOX_STRIPE_KEY));
  g_assert_null (strstr (err, FD_SANDBOX_STRIPE_KEY));
}

static void
test_lookup_json (void)
{
  g_auto(Expected) expected = { 0 };
  const char *profile;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *customer, *sub, *item, *charge, *explanation;
  JsonArray *items;

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("no Secret Service on the session bus; run under build-aux/with-keyring");
      return;
    }

  read_expected ("payment_failed_expired_card", &expected);
  profile = stripe_profile ();

  /* By id as well as by email: the same account. */
  g_assert_cmpint (cli (profile, NULL, &out, &err, "billing", "lookup", "--json",
                        expected.customer_id, NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));

  customer = json_object_get_object_member (root, "customer");
  g_assert_cmpstr (json_object_get_string_member (customer, "id"), ==, expected.customer_id);
  g_assert_cmpstr (json_object_get_string_member (customer, "email"), ==, expected.email);
  g_assert_cmpstr (json_object_get_string_member (root, "state"), ==, "payment_failing");

  sub = find_by_id (json_object_get_array_member (root, "subscriptions"),
                    expected.subscription_id);
  g_assert_nonnull (sub);
  g_assert_cmpstr (json_object_get_string_member (sub, "status"), ==,
                   expected.subscription_status);
  g_assert_true (json_object_has_member (sub, "cancel_at_period_end"));
  g_assert_false (json_object_get_null_member (sub, "current_period_end"));
  items = json_object_get_array_member (sub, "items");
  g_assert_cmpuint (json_array_get_length (items), >, 0);
  item = json_array_get_object_element (items, 0);
  g_assert_cmpint (json_object_get_int_member (item, "seats"), ==, expected.seats);
  {
    JsonObject *price = json_object_get_object_member (item, "unit_amount");
    g_autofree char *formatted =
      fd_money_format (json_object_get_int_member (price, "amount"),
                       json_object_get_string_member (price, "currency"));

    g_assert_cmpstr (json_object_get_string_member (price, "formatted"), ==, formatted);
  }

  charge = find_by_id (json_object_get_array_member (root, "failed_payments"),
                       expected.charge_id);
  g_assert_nonnull (charge);
  explanation = json_object_get_object_member (charge, "explanation");
  g_assert_cmpstr (json_object_get_string_member (explanation, "what"), ==,
                   expected.explanation.what);
  g_assert_cmpstr (json_object_get_string_member (explanation, "tell_customer"), ==,
                   expected.explanation.tell_customer);
  g_assert_false (json_object_get_boolean_member (explanation, "retry_may_work"));

  g_assert_true (json_object_has_member (root, "open_invoices"));
  g_assert_null (strstr (out, FD_SANDBOX_STRIPE_KEY));
}

static void
test_lookup_several (void)
{
  const char *profile;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *matches;
  const char *query = "com";

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("no Secret Service on the session bus; run under build-aux/with-keyring");
      return;
    }

  /* Part of many customers' email addresses. */
  profile = stripe_profile ();
  g_assert_cmpint (cli (profile, NULL, &out, &err, "billing", "lookup", "--json", query, NULL),
                   ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  matches = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                          "matches");
  g_assert_cmpuint (json_array_get_length (matches), >=, 2);
  g_assert_cmpuint (json_array_get_length (matches), <=, 20);

  /* Each is a real customer that matches, and the text lists them all by id. */
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *text = NULL;

    g_assert_cmpint (cli (profile, NULL, &text, &err, "billing", "lookup", query, NULL), ==, 0);
    g_assert_nonnull (strstr (text, "Run the lookup again with the id"));
    for (guint i = 0; i < json_array_get_length (matches); i++)
      {
        const char *id = json_object_get_string_member (json_array_get_object_element (matches, i), "id");
        g_autofree char *path = g_strconcat ("/v1/customers/", id, NULL);
        g_autoptr(JsonNode) customer = stripe_get (path);
        JsonObject *object = json_node_get_object (customer);
        g_autofree char *name = g_utf8_strdown (json_object_get_string_member_with_default (object, "name", ""), -1);
        g_autofree char *email = g_utf8_strdown (json_object_get_string_member_with_default (object, "email", ""), -1);

        g_assert_true (strstr (name, query) != NULL || strstr (email, query) != NULL);
        g_assert_nonnull (strstr (text, id));
      }
  }
}

/* A zero-decimal currency reads as the customer's invoice does: ¥, no decimals. */
static void
test_lookup_zero_decimal (void)
{
  g_autofree char *customer_id = NULL;
  g_autofree char *path = NULL;
  const char *profile;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *price = NULL;
  g_autoptr(JsonNode) subscriptions = NULL;
  g_autoptr(FdStripeSubscription) sub = NULL;
  FdStripeSubscriptionItem *item;

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("no Secret Service on the session bus; run under build-aux/with-keyring");
      return;
    }

  customer_id = scenario_customer ("currency_jpy");
  path = g_strdup_printf ("/v1/subscriptions?customer=%s&status=all", customer_id);
  subscriptions = stripe_get (path);
  g_assert_cmpuint (json_array_get_length (list_data (subscriptions)), >, 0);
  sub = fd_stripe_subscription_from_json (json_array_get_object_element (list_data (subscriptions), 0));
  item = g_ptr_array_index (sub->items, 0);
  g_assert_cmpstr (item->currency, ==, "jpy");
  price = fd_money_format (item->unit_amount, "jpy");
  g_assert_true (g_str_has_prefix (price, "¥"));
  g_assert_null (strchr (price, '.'));

  profile = stripe_profile ();
  g_assert_cmpint (cli (profile, NULL, &out, &err, "billing", "lookup", customer_id, NULL), ==, 0);
  g_assert_nonnull (strstr (out, price));
}

static void
test_lookup_unknown (void)
{
  const char *profile;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("no Secret Service on the session bus; run under build-aux/with-keyring");
      return;
    }

  profile = stripe_profile ();
  g_assert_cmpint (cli (profile, NULL, &out, &err, "billing", "lookup",
                        "nobody-at-all@example.invalid", NULL), ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "No Stripe customer matches “nobody-at-all@example.invalid”"));
}

static void
test_lookup_without_account (void)
{
  g_autofree char *profile = g_build_filename (tmp_dir, "no-stripe", NULL);
  g_autofree char *missing = g_build_filename (tmp_dir, "missing", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  /* No store at all: nothing is created. */
  g_assert_cmpint (cli (missing, NULL, &out, &err, "billing", "lookup", "a@example.com", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "account add --kind stripe"));
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A store without a Stripe account. */
  g_assert_cmpint (cli (profile, NULL, &out, &err, "account", "list", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (profile, NULL, &out, &err, "billing", "lookup", "a@example.com", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "No Stripe account is connected"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Usage mistakes. */
  g_assert_cmpint (cli (profile, NULL, &out, &err, "billing", "lookup", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "billing lookup"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (profile, NULL, &out, &err, "billing", NULL), ==, 2);
}

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = NULL;
  int status;

  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  tmp_dir = g_dir_make_tmp ("fd-cli-billing-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmp_dir, "sandbox.db", NULL);

  sandbox = fd_sandbox_new (db_path);
  if (!fd_sandbox_seed (sandbox, 1, FD_DEMO_SCALE_SMALL, &error) ||
      !fd_sandbox_run_in_thread (sandbox, 0, &error))
    g_error ("The sandbox did not start: %s", error->message);
  stripe_url = g_strconcat (fd_sandbox_get_base_url (sandbox), "/stripe", NULL);
  session = soup_session_new ();

  g_test_add_func ("/cli-billing/lookup/text", test_lookup_text);
  g_test_add_func ("/cli-billing/lookup/json", test_lookup_json);
  g_test_add_func ("/cli-billing/lookup/several", test_lookup_several);
  g_test_add_func ("/cli-billing/lookup/zero-decimal", test_lookup_zero_decimal);
  g_test_add_func ("/cli-billing/lookup/unknown", test_lookup_unknown);
  g_test_add_func ("/cli-billing/lookup/without-account", test_lookup_without_account);

  status = g_test_run ();

  g_clear_object (&session);
  fd_sandbox_stop (sandbox);
  g_clear_object (&sandbox);
  g_free (stripe_url);
  remove_tree (tmp_dir);
  g_free (tmp_dir);

  return status;
}
