/* test-billing.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The billing engine: Stripe's objects read from JSON written here, the account's summary
 * sentence, what actions say and refuse before any request; then against the sandbox's
 * Stripe in a thread, with a real store file: finding customers, reading an account,
 * a refund retried after a dropped connection, restricted keys, card errors, a seat change
 * with its preview, and a cancellation undone.
 */

#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gstdio.h>

#include "fd-billing.h"
#include "fd-stripe-error.h"
#include "../fd-test-wait.h"

#if defined(__has_include)
# if __has_include("fd-sandbox.h")
#  include "fd-sandbox.h"
#  define HAVE_SANDBOX 1
# endif
#endif

/* 10 February 2027, 12:00 UTC; the tests run in UTC. */
#define NOW ((gint64) 1802260800)
#define DAY ((gint64) 86400)
/* 1 March 2027, 12:00 UTC */
#define PERIOD_END ((gint64) 1803902400)

/* {{{ Fixtures */

static JsonObject *
parse_object (const char *format,
              ...) G_GNUC_PRINTF (1, 2);

static JsonObject *
parse_object (const char *format,
              ...)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static const char customer_json[] =
  "{\"id\": \"cus_ada\", \"object\": \"customer\", \"name\": \"Ada Lovelace\","
  " \"email\": \"ada@example.com\", \"description\": null, \"currency\": \"eur\","
  " \"balance\": -500, \"created\": 1700000000, \"delinquent\": true,"
  " \"default_source\": null,"
  " \"invoice_settings\": {\"default_payment_method\": {\"id\": \"pm_visa\","
  "   \"object\": \"payment_method\", \"type\": \"card\","
  "   \"card\": {\"brand\": \"visa\", \"last4\": \"4242424242424242\", \"exp_month\": 1,"
  "             \"exp_year\": 2027}}}}";

/* status, cancel_at_period_end, trial_end */
static const char subscription_json[] =
  "{\"id\": \"sub_pro\", \"object\": \"subscription\", \"status\": \"%s\","
  " \"currency\": \"eur\", \"collection_method\": \"charge_automatically\","
  " \"days_until_due\": null, \"current_period_start\": 1799827200,"
  " \"current_period_end\": 1803902400, \"trial_end\": %s, \"cancel_at\": null,"
  " \"canceled_at\": %s, \"cancel_at_period_end\": %s, \"pause_collection\": null,"
  " \"discount\": {\"id\": \"di_1\", \"object\": \"discount\","
  "   \"coupon\": {\"id\": \"SPRING\", \"percent_off\": 20, \"amount_off\": null,"
  "   \"currency\": null, \"duration\": \"repeating\", \"duration_in_months\": 3}},"
  " \"items\": {\"object\": \"list\", \"has_more\": false, \"data\": ["
  "   {\"id\": \"si_seats\", \"object\": \"subscription_item\", \"quantity\": 150,"
  "    \"price\": {\"id\": \"price_pro\", \"object\": \"price\", \"nickname\": \"Pro seat\","
  "      \"product\": \"prod_pro\", \"unit_amount\": 1000, \"currency\": \"eur\","
  "      \"recurring\": {\"interval\": \"month\", \"interval_count\": 1}}}]}}";

/* id, status, created, failure_code, outcome type, outcome reason */
static const char charge_json[] =
  "{\"id\": \"%s\", \"object\": \"charge\", \"amount\": 9900, \"amount_refunded\": 0,"
  " \"currency\": \"eur\", \"status\": \"%s\", \"refunded\": false, \"disputed\": false,"
  " \"description\": \"Subscription update\", \"created\": %" G_GINT64_FORMAT ","
  " \"failure_code\": %s, \"failure_message\": null, \"invoice\": \"in_1\","
  " \"payment_intent\": {\"id\": \"pi_1\", \"object\": \"payment_intent\"},"
  " \"receipt_url\": null,"
  " \"outcome\": {\"type\": \"%s\", \"reason\": %s, \"network_status\": \"declined_by_network\"},"
  " \"payment_method_details\": {\"type\": \"card\", \"card\": {\"brand\": \"visa\","
  "   \"last4\": \"0069\", \"exp_month\": 1, \"exp_year\": 2026}}}";

static JsonObject *
make_charge (const char *id,
             const char *status,
             gint64      created,
             const char *failure_code,
             const char *outcome_type,
             const char *outcome_reason)
{
  g_autofree char *code = failure_code != NULL ? g_strdup_printf ("\"%s\"", failure_code) : g_strdup ("null");
  g_autofree char *reason = outcome_reason != NULL ? g_strdup_printf ("\"%s\"", outcome_reason) : g_strdup ("null");

  return parse_object (charge_json, id, status, created, code, outcome_type, reason);
}

static FdStripeSubscription *
make_subscription (const char *status,
                   gboolean    cancel_at_period_end,
                   gint64      trial_end,
                   gint64      canceled_at)
{
  g_autofree char *trial = trial_end != 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, trial_end) : g_strdup ("null");
  g_autofree char *canceled = canceled_at != 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, canceled_at) : g_strdup ("null");
  g_autoptr(JsonObject) object = parse_object (subscription_json, status, trial, canceled,
                                               cancel_at_period_end ? "true" : "false");

  return fd_stripe_subscription_from_json (object);
}

static FdBillingAccount *
make_account (void)
{
  FdBillingAccount *account = g_new0 (FdBillingAccount, 1);
  g_autoptr(JsonObject) customer = parse_object ("%s", customer_json);

  account->customer = fd_stripe_customer_from_json (customer);
  account->subscriptions = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_subscription_free);
  account->invoices = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_invoice_free);
  account->charges = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_charge_free);
  account->refunds = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_refund_free);
  account->disputes = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_dispute_free);
  account->payment_methods = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_payment_method_free);

  return account;
}

static void
add_charge (FdBillingAccount *account,
            const char       *id,
            const char       *status,
            gint64            created,
            const char       *failure_code,
            const char       *outcome_type,
            const char       *outcome_reason)
{
  g_autoptr(JsonObject) object = make_charge (id, status, created, failure_code, outcome_type, outcome_reason);

  g_ptr_array_add (account->charges, fd_stripe_charge_from_json (object));
}

/* }}} */
/* {{{ Reading Stripe's objects */

static void
test_parse_customer (void)
{
  g_autoptr(JsonObject) object = parse_object ("%s", customer_json);
  g_autoptr(FdStripeCustomer) customer = fd_stripe_customer_from_json (object);
  JsonObject *settings = json_object_get_object_member (object, "invoice_settings");
  FdStripePaymentMethod *method;

  g_assert_cmpstr (customer->id, ==, "cus_ada");
  g_assert_cmpstr (customer->name, ==, "Ada Lovelace");
  g_assert_cmpstr (customer->email, ==, "ada@example.com");
  g_assert_null (customer->description);
  g_assert_cmpstr (customer->currency, ==, "eur");
  g_assert_cmpint (customer->balance, ==, -500);
  g_assert_true (customer->delinquent);
  /* The expanded default payment method is read as its id. */
  g_assert_cmpstr (customer->default_payment_method, ==, "pm_visa");

  /* A server that sends a whole number still gives us only the last four digits. */
  method = fd_stripe_payment_method_from_json (json_object_get_object_member (settings, "default_payment_method"));
  g_assert_cmpstr (method->id, ==, "pm_visa");
  g_assert_cmpstr (method->type, ==, "card");
  g_assert_cmpstr (method->brand, ==, "visa");
  g_assert_cmpstr (method->last4, ==, "4242");
  g_assert_cmpint (method->exp_month, ==, 1);
  g_assert_cmpint (method->exp_year, ==, 2027);
  fd_stripe_payment_method_free (method);
}

static void
test_parse_subscription (void)
{
  g_autoptr(FdStripeSubscription) subscription = make_subscription ("active", FALSE, 0, 0);
  FdStripeSubscriptionItem *item;

  g_assert_cmpstr (subscription->id, ==, "sub_pro");
  g_assert_cmpstr (subscription->status, ==, "active");
  g_assert_cmpint (subscription->current_period_end, ==, PERIOD_END);
  g_assert_cmpint (subscription->trial_end, ==, 0);
  g_assert_false (subscription->cancel_at_period_end);
  g_assert_null (subscription->pause_behavior);
  g_assert_cmpstr (subscription->discount, ==, "20% off for 3 months");
  g_assert_cmpuint (subscription->items->len, ==, 1);

  item = g_ptr_array_index (subscription->items, 0);
  g_assert_cmpstr (item->id, ==, "si_seats");
  g_assert_cmpstr (item->price_id, ==, "price_pro");
  g_assert_cmpstr (item->product_name, ==, "Pro seat");
  g_assert_cmpint (item->unit_amount, ==, 1000);
  g_assert_cmpstr (item->currency, ==, "eur");
  g_assert_cmpstr (item->interval, ==, "month");
  g_assert_cmpint (item->interval_count, ==, 1);
  g_assert_cmpint (item->quantity, ==, 150);
}

static void
test_parse_discounts (void)
{
  struct {
    const char *coupon;
    const char *text;
  } cases[] = {
    { "{\"percent_off\": 12.5, \"duration\": \"forever\"}", "12.5% off" },
    { "{\"amount_off\": 1000, \"currency\": \"eur\", \"duration\": \"once\"}", "€10.00 off once" },
    { "{\"amount_off\": 500, \"currency\": \"jpy\", \"duration\": \"repeating\", \"duration_in_months\": 1}",
      "¥500 off for 1 month" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) object = parse_object ("{\"id\": \"sub_1\", \"status\": \"active\","
                                                   " \"discount\": {\"coupon\": %s},"
                                                   " \"items\": {\"data\": []}}",
                                                   cases[i].coupon);
      g_autoptr(FdStripeSubscription) subscription = fd_stripe_subscription_from_json (object);

      g_assert_cmpstr (subscription->discount, ==, cases[i].text);
    }
}

static const char invoice_json[] =
  "{\"id\": \"in_1\", \"object\": \"invoice\", \"number\": \"ADA-0007\", \"status\": \"%s\","
  " \"currency\": \"eur\", \"total\": 150000, \"amount_due\": 150000, \"amount_paid\": 0,"
  " \"amount_remaining\": 150000, \"created\": 1801000000, \"due_date\": %" G_GINT64_FORMAT ","
  " \"attempt_count\": 2, \"hosted_invoice_url\": \"https://invoice.stripe.com/i/x\","
  " \"invoice_pdf\": \"https://pay.stripe.com/invoice/x/pdf\","
  " \"subscription\": \"sub_pro\", \"collection_method\": \"send_invoice\"}";

static void
test_parse_invoice (void)
{
  g_autoptr(JsonObject) overdue = parse_object (invoice_json, "open", NOW - 2 * DAY);
  g_autoptr(JsonObject) not_yet = parse_object (invoice_json, "open", NOW + DAY);
  g_autoptr(JsonObject) paid = parse_object (invoice_json, "paid", NOW - 2 * DAY);
  g_autoptr(FdStripeInvoice) invoice = fd_stripe_invoice_from_json (overdue, NOW);
  g_autoptr(FdStripeInvoice) invoice_not_yet = fd_stripe_invoice_from_json (not_yet, NOW);
  g_autoptr(FdStripeInvoice) invoice_paid = fd_stripe_invoice_from_json (paid, NOW);

  g_assert_cmpstr (invoice->number, ==, "ADA-0007");
  g_assert_cmpint (invoice->amount_remaining, ==, 150000);
  g_assert_cmpint (invoice->attempt_count, ==, 2);
  g_assert_cmpstr (invoice->subscription, ==, "sub_pro");
  g_assert_cmpstr (invoice->collection_method, ==, "send_invoice");
  g_assert_cmpstr (invoice->invoice_pdf, ==, "https://pay.stripe.com/invoice/x/pdf");
  g_assert_true (invoice->past_due);
  g_assert_false (invoice_not_yet->past_due);
  g_assert_false (invoice_paid->past_due);
}

static void
test_parse_charge (void)
{
  g_autoptr(JsonObject) declined = make_charge ("ch_1", "failed", NOW, "card_declined",
                                                "issuer_declined", "expired_card");
  g_autoptr(JsonObject) blocked = make_charge ("ch_2", "failed", NOW, "card_declined",
                                               "blocked", "highest_risk_level");
  g_autoptr(FdStripeCharge) charge = fd_stripe_charge_from_json (declined);
  g_autoptr(FdStripeCharge) blocked_charge = fd_stripe_charge_from_json (blocked);

  g_assert_cmpstr (charge->id, ==, "ch_1");
  g_assert_cmpstr (charge->payment_intent, ==, "pi_1");
  g_assert_cmpstr (charge->invoice, ==, "in_1");
  g_assert_cmpstr (charge->failure_code, ==, "card_declined");
  g_assert_cmpstr (charge->decline_code, ==, "expired_card");
  g_assert_cmpstr (charge->card_brand, ==, "visa");
  g_assert_cmpstr (charge->card_last4, ==, "0069");
  /* A failed payment took nothing, so nothing can be refunded. */
  g_assert_cmpint (fd_stripe_charge_refundable (charge), ==, 0);

  /* Radar's reasons are not decline codes. */
  g_assert_null (blocked_charge->decline_code);
}

static void
test_parse_refund_dispute (void)
{
  g_autoptr(JsonObject) refund_object = parse_object (
    "{\"id\": \"re_1\", \"object\": \"refund\", \"amount\": 4500, \"charge\": \"ch_1\","
    " \"currency\": \"eur\", \"status\": \"succeeded\", \"reason\": \"requested_by_customer\","
    " \"created\": 1802000000}");
  g_autoptr(JsonObject) dispute_object = parse_object (
    "{\"id\": \"du_1\", \"object\": \"dispute\", \"amount\": 4500, \"charge\": \"ch_1\","
    " \"currency\": \"eur\", \"reason\": \"fraudulent\", \"status\": \"needs_response\","
    " \"created\": 1802000000,"
    " \"evidence\": {\"customer_name\": \"Ada\", \"uncategorized_text\": null},"
    " \"evidence_details\": {\"due_by\": %" G_GINT64_FORMAT ", \"has_evidence\": true,"
    "   \"past_due\": false, \"submission_count\": 1}}", NOW + 3 * DAY);
  g_autoptr(FdStripeRefund) refund = fd_stripe_refund_from_json (refund_object);
  g_autoptr(FdStripeDispute) dispute = fd_stripe_dispute_from_json (dispute_object, NOW);
  g_autoptr(FdStripeDispute) late = fd_stripe_dispute_from_json (dispute_object, NOW + 4 * DAY);

  g_assert_cmpstr (refund->id, ==, "re_1");
  g_assert_cmpstr (refund->charge, ==, "ch_1");
  g_assert_cmpint (refund->amount, ==, 4500);
  g_assert_cmpstr (refund->reason, ==, "requested_by_customer");

  g_assert_cmpstr (dispute->id, ==, "du_1");
  g_assert_cmpstr (dispute->reason, ==, "fraudulent");
  g_assert_cmpint (dispute->evidence_due_by, ==, NOW + 3 * DAY);
  g_assert_true (dispute->has_evidence);
  g_assert_false (dispute->past_due);
  g_assert_cmpint (dispute->submission_count, ==, 1);
  g_assert_nonnull (dispute->evidence);
  g_assert_cmpstr (json_object_get_string_member (dispute->evidence, "customer_name"), ==, "Ada");
  /* Past the deadline the clock says so before Stripe does. */
  g_assert_true (late->past_due);
}

/* }}} */
/* {{{ The summary sentence */

static void
test_summary_expired_card (void)
{
  g_autoptr(FdBillingAccount) account = make_account ();
  FdStripeExplanation explanation = fd_stripe_explain_decline ("card_declined", "expired_card", NULL);
  g_autofree char *reason = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *first = NULL;

  g_ptr_array_add (account->subscriptions, make_subscription ("past_due", FALSE, 0, 0));
  /* Newest first: two failures in a row, the first of them 3 days and 2 hours ago, after an
   * older success and an older failure that is not part of this run. */
  add_charge (account, "ch_3", "failed", NOW - DAY, "card_declined", "issuer_declined", "expired_card");
  add_charge (account, "ch_2", "failed", NOW - 3 * DAY - 2 * 3600, "card_declined", "issuer_declined", "expired_card");
  add_charge (account, "ch_1", "succeeded", NOW - 33 * DAY, NULL, "authorized", NULL);
  add_charge (account, "ch_0", "failed", NOW - 40 * DAY, "card_declined", "issuer_declined", "insufficient_funds");

  fd_billing_account_summarize (account, NOW);

  /* The reason after the colon continues the sentence. */
  first = g_utf8_strdown (explanation.what, g_utf8_next_char (explanation.what) - explanation.what);
  reason = g_strconcat (first, g_utf8_next_char (explanation.what), NULL);
  expected = g_strdup_printf ("Payment failing for 3 days: %s", reason);
  g_assert_cmpint (account->state, ==, FD_BILLING_PAYMENT_FAILING);
  g_assert_cmpstr (account->summary, ==, expected);
  g_assert_nonnull (strstr (account->summary, "expired"));

  /* The same day: "today", not "0 days". */
  g_ptr_array_remove_range (account->charges, 1, 3);
  fd_billing_account_summarize (account, NOW - DAY + 3600);
  g_assert_true (g_str_has_prefix (account->summary, "Payment failed today: "));
}

static void
test_summary_states (void)
{
  g_autoptr(FdBillingAccount) account = make_account ();
  g_autoptr(JsonObject) dispute = parse_object (
    "{\"id\": \"du_1\", \"amount\": 4500, \"charge\": \"ch_1\", \"currency\": \"eur\","
    " \"reason\": \"fraudulent\", \"status\": \"needs_response\", \"created\": 1802000000,"
    " \"evidence_details\": {\"due_by\": %" G_GINT64_FORMAT ", \"has_evidence\": false,"
    "   \"past_due\": false, \"submission_count\": 0}}", NOW + 3 * DAY + 5 * 3600);
  g_autoptr(JsonObject) invoice = parse_object (
    "{\"id\": \"in_9\", \"number\": \"ADA-0009\", \"status\": \"open\", \"currency\": \"usd\","
    " \"total\": 2500, \"amount_due\": 2500, \"amount_remaining\": 2500, \"created\": 1801000000,"
    " \"due_date\": %" G_GINT64_FORMAT "}", NOW - 5 * DAY);
  FdStripeSubscription *subscription;

  /* Healthy */
  g_ptr_array_add (account->subscriptions, make_subscription ("active", FALSE, 0, 0));
  add_charge (account, "ch_1", "succeeded", NOW - 10 * DAY, NULL, "authorized", NULL);
  fd_billing_account_summarize (account, NOW);
  g_assert_cmpint (account->state, ==, FD_BILLING_HEALTHY);
  g_assert_cmpstr (account->summary, ==, "Active · 150 seats · renews 1 March 2027");
  g_assert_cmpstr (fd_money_totals_get_currencies (account->outstanding)[0], ==, NULL);

  /* Canceling */
  subscription = g_ptr_array_index (account->subscriptions, 0);
  subscription->cancel_at_period_end = TRUE;
  fd_billing_account_summarize (account, NOW);
  g_assert_cmpint (account->state, ==, FD_BILLING_CANCELING);
  g_assert_cmpstr (account->summary, ==, "Cancels on 1 March 2027");

  /* A dispute that needs a response comes first of all, counted in whole days left. */
  g_ptr_array_add (account->disputes, fd_stripe_dispute_from_json (dispute, NOW));
  fd_billing_account_summarize (account, NOW);
  g_assert_cmpint (account->state, ==, FD_BILLING_DISPUTED);
  g_assert_cmpstr (account->summary, ==, "Dispute of €45.00 needs a response within 4 days.");
  g_ptr_array_set_size (account->disputes, 0);

  /* A past-due invoice is a failing payment, above a scheduled cancellation. */
  g_ptr_array_add (account->invoices, fd_stripe_invoice_from_json (invoice, NOW));
  fd_billing_account_summarize (account, NOW);
  g_assert_cmpint (account->state, ==, FD_BILLING_PAYMENT_FAILING);
  g_assert_cmpstr (account->summary, ==, "Invoice ADA-0009 of $25.00 is 5 days past due.");
  g_assert_cmpint (fd_money_totals_get (account->outstanding, "usd"), ==, 2500);
  g_ptr_array_set_size (account->invoices, 0);

  /* Trial */
  g_ptr_array_set_size (account->subscriptions, 0);
  g_ptr_array_add (account->subscriptions, make_subscription ("trialing", FALSE, PERIOD_END, 0));
  fd_billing_account_summarize (account, NOW);
  g_assert_cmpint (account->state, ==, FD_BILLING_TRIAL);
  g_assert_cmpstr (account->summary, ==, "Trial · 150 seats · ends 1 March 2027");

  /* Canceled */
  g_ptr_array_set_size (account->subscriptions, 0);
  g_ptr_array_add (account->subscriptions, make_subscription ("canceled", FALSE, 0, PERIOD_END - 365 * DAY));
  fd_billing_account_summarize (account, NOW);
  g_assert_cmpint (account->state, ==, FD_BILLING_CANCELED);
  g_assert_cmpstr (account->summary, ==, "Canceled on 1 March 2026");

  /* None */
  g_ptr_array_set_size (account->subscriptions, 0);
  fd_billing_account_summarize (account, NOW);
  g_assert_cmpint (account->state, ==, FD_BILLING_NO_SUBSCRIPTION);
}

/* }}} */
/* {{{ Actions before any request */

static FdBillingAction *
make_refund (const char *charge,
             gint64      amount,
             const char *currency,
             gint64      refundable)
{
  FdBillingAction *action = fd_billing_action_new (FD_BILLING_ACTION_REFUND);

  action->customer_id = g_strdup ("cus_ada");
  action->target_id = g_strdup (charge);
  action->amount = amount;
  action->currency = g_strdup (currency);
  action->refundable = refundable;
  action->reason = g_strdup ("requested_by_customer");
  action->agent = g_strdup ("Ann Agent");

  return action;
}

static void
test_describe_currencies (void)
{
  g_autoptr(FdBillingAction) yen = make_refund ("ch_yen", 500, "jpy", 500);
  g_autoptr(FdBillingAction) dinar = make_refund ("ch_kwd", 1500, "kwd", 1500);
  g_autoptr(FdBillingAction) partial = make_refund ("ch_eur", 4500, "eur", 9900);
  g_autoptr(FdBillingAction) credit = fd_billing_action_new (FD_BILLING_ACTION_CREDIT_NOTE);
  g_autofree char *yen_text = fd_billing_action_describe (yen);
  g_autofree char *dinar_text = fd_billing_action_describe (dinar);
  g_autofree char *partial_text = fd_billing_action_describe (partial);
  g_autofree char *credit_text = NULL;

  g_assert_cmpstr (yen_text, ==, "Refund 500 JPY of payment ch_yen. This cannot be undone.");
  g_assert_cmpstr (dinar_text, ==, "Refund 1.500 KWD of payment ch_kwd. This cannot be undone.");
  g_assert_nonnull (strstr (partial_text, "Refund 45.00 EUR of payment ch_eur"));
  g_assert_nonnull (strstr (partial_text, "54.00 EUR"));

  credit->target_id = g_strdup ("in_1");
  credit->amount = 250;
  credit->currency = g_strdup ("jpy");
  credit_text = fd_billing_action_describe (credit);
  g_assert_nonnull (strstr (credit_text, "250 JPY"));
  g_assert_nonnull (strstr (credit_text, "in_1"));
}

static void
test_validate (void)
{
  g_autoptr(FdBillingAction) over = make_refund ("ch_1", 5000, "eur", 4500);
  g_autoptr(FdBillingAction) zero = make_refund ("ch_1", 0, "eur", 4500);
  g_autoptr(FdBillingAction) no_target = make_refund (NULL, 100, "eur", 4500);
  g_autoptr(FdBillingAction) no_currency = make_refund ("ch_1", 100, NULL, 4500);
  g_autoptr(FdBillingAction) all_refunded = make_refund ("ch_1", 100, "eur", 0);
  g_autoptr(FdBillingAction) exact = make_refund ("ch_1", 4500, "eur", 4500);
  g_autoptr(FdBillingAction) cancel = fd_billing_action_new (FD_BILLING_ACTION_CANCEL_NOW);
  g_autoptr(GError) error = NULL;

  g_assert_false (fd_billing_action_validate (over, &error));
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "45.00 EUR"));
  g_clear_error (&error);

  g_assert_false (fd_billing_action_validate (zero, &error));
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);

  g_assert_false (fd_billing_action_validate (no_target, &error));
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);

  g_assert_false (fd_billing_action_validate (no_currency, &error));
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);

  g_assert_false (fd_billing_action_validate (all_refunded, &error));
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);

  g_assert_false (fd_billing_action_validate (cancel, &error));
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_clear_error (&error);

  g_assert_true (fd_billing_action_validate (exact, &error));
  g_assert_no_error (error);
}

static void
test_requests (void)
{
  g_autoptr(FdBillingAction) refund = make_refund ("ch_1", 4500, "eur", 9900);
  g_autoptr(FdBillingAction) change = fd_billing_action_new (FD_BILLING_ACTION_CHANGE_SUBSCRIPTION);
  g_autoptr(FdBillingAction) cancel = fd_billing_action_new (FD_BILLING_ACTION_CANCEL_NOW);
  g_autoptr(FdBillingAction) resume = fd_billing_action_new (FD_BILLING_ACTION_RESUME_COLLECTION);
  g_autoptr(FdBillingAction) dispute = fd_billing_action_new (FD_BILLING_ACTION_UPDATE_DISPUTE);
  g_autoptr(FdStripeParams) params = NULL;
  g_autofree char *path = NULL;
  const char *method = NULL;

  refund->conversation_id = 42;
  fd_billing_action_get_request (refund, &method, &path, &params);
  g_assert_cmpstr (method, ==, "POST");
  g_assert_cmpstr (path, ==, "/v1/refunds");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "charge"), ==, "ch_1");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "amount"), ==, "4500");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "reason"), ==, "requested_by_customer");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "metadata[frontdesk_conversation]"), ==, "42");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "metadata[frontdesk_agent]"), ==, "Ann Agent");
  g_assert_null (fd_stripe_params_lookup (params, "currency"));
  g_clear_pointer (&params, fd_stripe_params_free);
  g_clear_pointer (&path, g_free);

  change->target_id = g_strdup ("sub_pro");
  change->item_id = g_strdup ("si_seats");
  change->quantity = 160;
  change->proration_behavior = g_strdup ("create_prorations");
  fd_billing_action_get_request (change, &method, &path, &params);
  g_assert_cmpstr (method, ==, "POST");
  g_assert_cmpstr (path, ==, "/v1/subscriptions/sub_pro");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "items[0][id]"), ==, "si_seats");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "items[0][quantity]"), ==, "160");
  g_assert_null (fd_stripe_params_lookup (params, "items[0][price]"));
  g_assert_cmpstr (fd_stripe_params_lookup (params, "proration_behavior"), ==, "create_prorations");
  g_assert_null (fd_stripe_params_lookup (params, "metadata[frontdesk_conversation]"));
  g_clear_pointer (&params, fd_stripe_params_free);
  g_clear_pointer (&path, g_free);

  cancel->target_id = g_strdup ("sub_pro");
  fd_billing_action_get_request (cancel, &method, &path, &params);
  g_assert_cmpstr (method, ==, "DELETE");
  g_assert_cmpstr (path, ==, "/v1/subscriptions/sub_pro");
  g_clear_pointer (&params, fd_stripe_params_free);
  g_clear_pointer (&path, g_free);

  resume->target_id = g_strdup ("sub_pro");
  fd_billing_action_get_request (resume, &method, &path, &params);
  g_assert_cmpstr (fd_stripe_params_lookup (params, "pause_collection"), ==, "");
  g_clear_pointer (&params, fd_stripe_params_free);
  g_clear_pointer (&path, g_free);

  dispute->target_id = g_strdup ("du_1");
  dispute->evidence = fd_stripe_params_new ();
  fd_stripe_params_add (dispute->evidence, "uncategorized_text", "Logged in 40 times.");
  fd_stripe_params_add (dispute->evidence, "evidence[customer_name]", "Ada");
  fd_billing_action_get_request (dispute, &method, &path, &params);
  g_assert_cmpstr (path, ==, "/v1/disputes/du_1");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "evidence[uncategorized_text]"), ==, "Logged in 40 times.");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "evidence[customer_name]"), ==, "Ada");
  g_assert_cmpstr (fd_stripe_params_lookup (params, "submit"), ==, "false");

  g_assert_cmpint (fd_billing_action_needs (FD_BILLING_ACTION_REFUND), ==, FD_STRIPE_CAN_WRITE_REFUNDS);
  g_assert_cmpint (fd_billing_action_needs (FD_BILLING_ACTION_CANCEL_AT_PERIOD_END), ==,
                   FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS);
  g_assert_cmpint (fd_billing_action_needs (FD_BILLING_ACTION_VOID_INVOICE), ==, FD_STRIPE_CAN_WRITE_INVOICES);
  g_assert_cmpint (fd_billing_action_needs (FD_BILLING_ACTION_CREDIT_NOTE), ==, FD_STRIPE_CAN_WRITE_CREDIT_NOTES);
  g_assert_cmpint (fd_billing_action_needs (FD_BILLING_ACTION_CLOSE_DISPUTE), ==, FD_STRIPE_CAN_WRITE_DISPUTES);
}

/* }}} */

#ifdef HAVE_SANDBOX
/* {{{ Against the sandbox */

#include <libsoup/soup.h>

#include "fd-account.h"
#include "../fd-test-keyring.h"

#define SECRET_KEY FD_SANDBOX_STRIPE_KEY
#define READONLY_KEY FD_SANDBOX_STRIPE_RESTRICTED_KEY
#define CLIENT_ATTEMPTS 2

static struct
{
  char           *dir;
  FdSandbox      *sandbox;
  char           *stripe_url;
  FdStore        *store;
  FdStripeClient *client;
  JsonObject     *scenarios;
} world;

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static gboolean
arrived (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

#define WAIT(slot) wait_until_full (arrived, &(slot), #slot)

static JsonObject *
stripe_get (const char     *path,
            FdStripeParams *params)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  fd_stripe_client_request_async (world.client, "GET", path, params, NULL, NULL, result_cb, &result);
  WAIT (result);
  object = fd_stripe_client_request_finish (world.client, result, NULL, NULL, &error);
  g_assert_no_error (error);

  return object;
}

static guint
count_refunds_of (const char *charge_id)
{
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) refunds = NULL;

  fd_stripe_params_add (params, "charge", charge_id);
  fd_stripe_client_list_async (world.client, "/v1/refunds", params, 0, NULL, result_cb, &result);
  WAIT (result);
  refunds = fd_stripe_client_list_finish (world.client, result, &error);
  g_assert_no_error (error);

  return json_array_get_length (refunds);
}

static FdBillingAccount *
load_account_with (FdStripeClient *client,
                   const char     *customer_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FdBillingAccount *account;

  fd_billing_load_account_async (client, customer_id, NULL, result_cb, &result);
  WAIT (result);
  account = fd_billing_load_account_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (account);
  g_assert_cmpstr (account->customer->id, ==, customer_id);

  return account;
}

static FdBillingAccount *
load_account (const char *customer_id)
{
  return load_account_with (world.client, customer_id);
}

static GPtrArray *
find_customers (const char *query)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *customers;

  fd_billing_find_customers_async (world.client, query, NULL, result_cb, &result);
  WAIT (result);
  customers = fd_billing_find_customers_finish (result, &error);
  g_assert_no_error (error);

  return customers;
}

static FdBillingOutcome *
run_action (const FdBillingAction  *action,
            GError                **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_billing_run_action_async (world.store, world.client, action, NULL, result_cb, &result);
  WAIT (result);
  return fd_billing_run_action_finish (result, error);
}

static FdBillingOutcome *
retry_action (gint64   action_id,
              GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_billing_retry_action_async (world.store, world.client, action_id, NULL, result_cb, &result);
  WAIT (result);
  return fd_billing_retry_action_finish (result, error);
}

static GPtrArray *
list_unfinished (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *pending;

  fd_billing_list_unfinished_async (world.store, NULL, result_cb, &result);
  WAIT (result);
  pending = fd_billing_list_unfinished_finish (world.store, result, &error);
  g_assert_no_error (error);

  return pending;
}

typedef struct
{
  const char *sql;
  const char *arg;
  gint64      arg_int;
} Query;

static gboolean
query_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  Query *query = job_data;
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, query->sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  if (query->arg != NULL)
    sqlite3_bind_text (stmt, 1, query->arg, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_int64 (stmt, 1, query->arg_int);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  else if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

/* The first column of the first row, as text (NULL: no row or NULL); one ? parameter. */
static char *
query_text (const char *sql,
            const char *arg,
            gint64      arg_int)
{
  Query query = { sql, arg, arg_int };
  g_autoptr(GError) error = NULL;
  gpointer result = NULL;

  fd_store_run_sync (world.store, query_job, &query, &result, &error);
  g_assert_no_error (error);

  return result;
}

static gint64
query_int (const char *sql,
           const char *arg,
           gint64      arg_int)
{
  g_autofree char *text = query_text (sql, arg, arg_int);

  g_assert_nonnull (text);
  return g_ascii_strtoll (text, NULL, 10);
}

/* The customer the sandbox seeded for a situation (GET /stripe/_sandbox/scenarios). */
static const char *
scenario (const char *name)
{
  const char *customer_id;

  if (world.scenarios == NULL)
    {
      g_autoptr(SoupSession) session = soup_session_new ();
      g_autofree char *url = g_strconcat (world.stripe_url, "/_sandbox/scenarios", NULL);
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
      g_autoptr(GBytes) body = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *auth = g_strdup_printf ("Bearer %s", SECRET_KEY);

      soup_message_headers_append (soup_message_get_request_headers (msg), "Authorization", auth);
      body = soup_session_send_and_read (session, msg, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
      json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
      g_assert_no_error (error);
      world.scenarios = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
    }

  customer_id = json_object_get_string_member_with_default (json_object_get_object_member (world.scenarios, "scenarios"),
                                                            name, NULL);
  if (customer_id == NULL)
    g_error ("The sandbox has no “%s” scenario", name);

  return customer_id;
}

/* A customer the sandbox gave no special situation: healthy, with an active subscription. */
static const char *
healthy_customer (void)
{
  static char *customer_id;

  if (customer_id == NULL)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonArray) customers = NULL;

      fd_stripe_client_list_async (world.client, "/v1/customers", NULL, 100, NULL, result_cb, &result);
      WAIT (result);
      customers = fd_stripe_client_list_finish (world.client, result, &error);
      g_assert_no_error (error);

      for (guint i = 0; i < json_array_get_length (customers) && customer_id == NULL; i++)
        {
          JsonObject *customer = json_array_get_object_element (customers, i);
          JsonObject *metadata = json_object_get_object_member (customer, "metadata");
          const char *id = json_object_get_string_member (customer, "id");
          g_autoptr(FdBillingAccount) account = NULL;

          if (metadata != NULL && json_object_has_member (metadata, "sandbox_scenario"))
            continue;

          account = load_account (id);
          if (account->state == FD_BILLING_HEALTHY)
            customer_id = g_strdup (id);
        }
    }

  g_assert_nonnull (customer_id);
  return customer_id;
}

static const FdStripeCharge *
refundable_charge (FdBillingAccount *account)
{
  for (guint i = 0; i < account->charges->len; i++)
    {
      const FdStripeCharge *charge = g_ptr_array_index (account->charges, i);

      if (!charge->disputed && fd_stripe_charge_refundable (charge) >= 2)
        return charge;
    }

  g_error ("Customer %s has no refundable payment", account->customer->id);
}

static const FdStripeSubscription *
active_subscription (FdBillingAccount *account)
{
  for (guint i = 0; i < account->subscriptions->len; i++)
    {
      const FdStripeSubscription *subscription = g_ptr_array_index (account->subscriptions, i);

      if (g_strcmp0 (subscription->status, "active") == 0 && subscription->items->len > 0)
        return subscription;
    }

  g_error ("Customer %s has no active subscription", account->customer->id);
}

static void
test_sandbox_scenarios (void)
{
  static const struct
  {
    const char     *scenario;
    FdBillingState  state;
  } cases[] = {
    { "payment_failed_expired_card", FD_BILLING_PAYMENT_FAILING },
    { "payment_failed_insufficient_funds", FD_BILLING_PAYMENT_FAILING },
    { "payment_failed_authentication_required", FD_BILLING_PAYMENT_FAILING },
    { "payment_failed_do_not_honor", FD_BILLING_PAYMENT_FAILING },
    { "payment_failed_generic_decline", FD_BILLING_PAYMENT_FAILING },
    { "cancel_at_period_end", FD_BILLING_CANCELING },
    { "trialing", FD_BILLING_TRIAL },
    { "dispute_needs_response", FD_BILLING_DISPUTED },
    { "dispute_under_review", FD_BILLING_HEALTHY },
    { "partial_refund", FD_BILLING_HEALTHY },
    { "credit_balance", FD_BILLING_HEALTHY },
    { "discount", FD_BILLING_HEALTHY },
    { "currency_jpy", FD_BILLING_HEALTHY },
    { "currency_kwd", FD_BILLING_HEALTHY },
    { "canceled", FD_BILLING_CANCELED },
    { "dispute_inquiry", FD_BILLING_DISPUTED },
    { "enterprise_past_due", FD_BILLING_PAYMENT_FAILING },
    { "enterprise_invoice_open", FD_BILLING_HEALTHY },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(FdBillingAccount) account = load_account (scenario (cases[i].scenario));

      FdStripeSubscription *subscription;
      FdStripeSubscriptionItem *item;
      FdStripePaymentMethod *method;

      g_test_message ("%s: %s", cases[i].scenario, account->summary);
      g_assert_cmpint (account->state, ==, cases[i].state);
      g_assert_nonnull (account->summary);

      /* Everyone has a subscription with a named plan, and a default payment method
       * listed first. */
      g_assert_cmpuint (account->subscriptions->len, >=, 1);
      subscription = g_ptr_array_index (account->subscriptions, 0);
      g_assert_cmpuint (subscription->items->len, >=, 1);
      item = g_ptr_array_index (subscription->items, 0);
      g_assert_nonnull (item->product_name);
      g_assert_cmpstr (item->product_name, !=, item->price_id);
      g_assert_cmpuint (account->payment_methods->len, >=, 1);
      method = g_ptr_array_index (account->payment_methods, 0);
      g_assert_true (method->is_default);
      g_assert_cmpuint (strlen (method->last4), ==, 4);

      if (g_str_has_prefix (cases[i].scenario, "dispute_"))
        g_assert_cmpuint (account->disputes->len, ==, 1);
      if (g_str_equal (cases[i].scenario, "partial_refund"))
        {
          FdStripeRefund *refund;
          gboolean refunded_charge = FALSE;

          g_assert_cmpuint (account->refunds->len, ==, 1);
          refund = g_ptr_array_index (account->refunds, 0);
          for (guint j = 0; j < account->charges->len; j++)
            {
              FdStripeCharge *charge = g_ptr_array_index (account->charges, j);

              if (g_strcmp0 (charge->id, refund->charge) == 0)
                refunded_charge = charge->amount_refunded == refund->amount && fd_stripe_charge_refundable (charge) > 0;
            }
          g_assert_true (refunded_charge);
        }
      if (g_str_equal (cases[i].scenario, "credit_balance"))
        g_assert_cmpint (account->customer->balance, <, 0);
      if (g_str_equal (cases[i].scenario, "discount"))
        g_assert_nonnull (subscription->discount);
      if (g_str_equal (cases[i].scenario, "currency_kwd"))
        g_assert_cmpstr (subscription->currency, ==, "kwd");
      if (g_str_equal (cases[i].scenario, "enterprise_past_due"))
        g_assert_cmpint (fd_money_totals_get (account->outstanding, subscription->currency), >, 0);
    }
}

static void
test_sandbox_find (void)
{
  const char *customer_id = healthy_customer ();
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(GPtrArray) by_email = NULL;
  g_autoptr(GPtrArray) by_name = NULL;
  g_autoptr(GPtrArray) by_id = NULL;
  g_autoptr(GPtrArray) nobody = NULL;
  g_autofree char *path = g_strconcat ("/v1/customers/", customer_id, NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  const char *email;
  const char *name;
  gboolean found = FALSE;

  customer = stripe_get (path, NULL);
  email = json_object_get_string_member (customer, "email");
  name = json_object_get_string_member (customer, "name");
  g_assert_nonnull (email);
  g_assert_nonnull (name);

  /* By email: the exact list and the search both find it, listed once. */
  by_email = find_customers (email);
  g_assert_cmpuint (by_email->len, >=, 1);
  for (guint i = 0; i < by_email->len; i++)
    {
      FdStripeCustomer *match = g_ptr_array_index (by_email, i);

      g_assert_false (g_hash_table_contains (seen, match->id));
      g_hash_table_add (seen, match->id);
      found |= g_str_equal (match->id, customer_id);
    }
  g_assert_true (found);

  by_name = find_customers (name);
  g_assert_cmpuint (by_name->len, >=, 1);
  g_assert_cmpuint (by_name->len, <=, 20);
  found = FALSE;
  for (guint i = 0; i < by_name->len; i++)
    found |= g_str_equal (((FdStripeCustomer *) g_ptr_array_index (by_name, i))->id, customer_id);
  g_assert_true (found);

  by_id = find_customers (customer_id);
  g_assert_cmpuint (by_id->len, ==, 1);
  g_assert_cmpstr (((FdStripeCustomer *) g_ptr_array_index (by_id, 0))->email, ==, email);

  nobody = find_customers ("nobody-at-all@example.invalid");
  g_assert_cmpuint (nobody->len, ==, 0);
  g_clear_pointer (&nobody, g_ptr_array_unref);

  /* An id that does not exist is no match rather than an error. */
  nobody = find_customers ("cus_NoSuchCustomer");
  g_assert_cmpuint (nobody->len, ==, 0);
}

static void
test_sandbox_failed_payment (void)
{
  g_autoptr(FdBillingAccount) account = load_account (scenario ("payment_failed_expired_card"));
  const FdStripeCharge *latest;
  FdStripeExplanation explanation;
  g_autofree char *first = NULL;
  g_autofree char *reason = NULL;

  g_assert_cmpint (account->state, ==, FD_BILLING_PAYMENT_FAILING);
  g_assert_cmpuint (account->charges->len, >, 0);
  latest = g_ptr_array_index (account->charges, 0);
  g_assert_cmpstr (latest->status, ==, "failed");

  explanation = fd_stripe_explain_decline (latest->failure_code, latest->decline_code, latest->advice_code);
  first = g_utf8_strdown (explanation.what, g_utf8_next_char (explanation.what) - explanation.what);
  reason = g_strconcat (first, g_utf8_next_char (explanation.what), NULL);
  g_test_message ("%s", account->summary);
  g_assert_true (g_str_has_prefix (account->summary, "Payment fail"));
  g_assert_true (g_str_has_suffix (account->summary, reason));

  for (guint i = 0; i < account->payment_methods->len; i++)
    {
      FdStripePaymentMethod *method = g_ptr_array_index (account->payment_methods, i);

      g_assert_true (method->last4 == NULL || strlen (method->last4) <= 4);
    }
}

static void
test_sandbox_refund_retry (void)
{
  g_autoptr(FdBillingAccount) account = load_account (healthy_customer ());
  const FdStripeCharge *charge = refundable_charge (account);
  g_autoptr(FdBillingAction) action = fd_billing_action_new (FD_BILLING_ACTION_REFUND);
  g_autoptr(FdBillingOutcome) outcome = NULL;
  g_autoptr(FdBillingOutcome) again = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(JsonObject) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *charge_path = g_strconcat ("/v1/charges/", charge->id, NULL);
  g_autofree char *state = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *result_id = NULL;
  guint refunds_before = count_refunds_of (charge->id);
  gint64 refunded_before = charge->amount_refunded;
  FdBillingPendingAction *unfinished;
  gint64 action_id;

  action->customer_id = g_strdup (account->customer->id);
  action->target_id = g_strdup (charge->id);
  action->amount = fd_stripe_charge_refundable (charge) / 2;
  action->currency = g_strdup (charge->currency);
  action->refundable = fd_stripe_charge_refundable (charge);
  action->reason = g_strdup ("requested_by_customer");
  action->agent = g_strdup ("Ann Agent");

  /* Stripe refunds, then the answer is cut short every time the client tries. */
  fd_sandbox_add_fault (world.sandbox, "/stripe/v1/refunds", FD_SANDBOX_FAULT_TRUNCATE, CLIENT_ATTEMPTS, 0);
  outcome = run_action (action, &error);
  g_assert_null (outcome);
  /* The answer was cut short: whether as a lost connection or as an unreadable answer,
   * Stripe may have done it. */
  g_assert_true (g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_NETWORK) ||
                 g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_BAD_RESPONSE));
  g_clear_error (&error);
  fd_sandbox_clear_faults (world.sandbox);
  g_test_message ("Refund requests so far: %u",
                  fd_sandbox_get_request_count (world.sandbox, "/stripe/v1/refunds"));

  /* The action waits, stored with its key, to be finished. */
  pending = list_unfinished ();
  g_assert_cmpuint (pending->len, ==, 1);
  unfinished = g_ptr_array_index (pending, 0);
  g_assert_cmpstr (unfinished->kind, ==, "refund");
  g_assert_cmpstr (unfinished->target_id, ==, charge->id);
  action_id = unfinished->id;
  state = query_text ("SELECT state FROM billing_actions WHERE id = ?", NULL, action_id);
  g_assert_cmpstr (state, ==, "sending");
  g_clear_pointer (&state, g_free);

  outcome = retry_action (action_id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->action_id, ==, action_id);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (outcome->object, "id"), "re_"));
  g_assert_nonnull (outcome->request_id);
  g_assert_nonnull (strstr (outcome->note, "Refunded"));
  g_assert_nonnull (strstr (outcome->note, charge->id));

  /* Refunded once: one refund more, and amount_refunded up by the amount exactly once. */
  after = stripe_get (charge_path, NULL);
  g_assert_cmpint (json_object_get_int_member (after, "amount_refunded"), ==, refunded_before + action->amount);
  g_assert_cmpuint (count_refunds_of (charge->id), ==, refunds_before + 1);

  state = query_text ("SELECT state FROM billing_actions WHERE id = ?", NULL, action_id);
  g_assert_cmpstr (state, ==, "done");
  g_assert_cmpint (query_int ("SELECT attempts FROM billing_actions WHERE id = ?", NULL, action_id), ==, 2);
  result_id = query_text ("SELECT result_id FROM billing_actions WHERE id = ?", NULL, action_id);
  g_assert_cmpstr (result_id, ==, json_object_get_string_member (outcome->object, "id"));
  g_assert_cmpint (query_int ("SELECT count(*) FROM audit_log WHERE action = 'billing.refund' AND subject = ?",
                              charge->id, 0), ==, 1);
  detail = query_text ("SELECT detail_json FROM audit_log WHERE action = 'billing.refund' AND subject = ?",
                       charge->id, 0);
  g_assert_nonnull (strstr (detail, outcome->idempotency_key));
  g_assert_nonnull (strstr (detail, outcome->request_id));
  g_assert_null (strstr (detail, SECRET_KEY));

  none = list_unfinished ();
  g_assert_cmpuint (none->len, ==, 0);

  /* A finished action is not sent again. */
  again = retry_action (action_id, &error);
  g_assert_null (again);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
}

static void
test_sandbox_refund_over_remainder (void)
{
  g_autoptr(FdBillingAccount) account = load_account (healthy_customer ());
  const FdStripeCharge *charge = refundable_charge (account);
  g_autoptr(FdBillingAction) action = fd_billing_action_new (FD_BILLING_ACTION_REFUND);
  g_autoptr(FdBillingOutcome) outcome = NULL;
  g_autoptr(GError) error = NULL;
  guint requests = fd_sandbox_get_request_count (world.sandbox, NULL);
  gint64 rows = query_int ("SELECT count(*) FROM billing_actions WHERE ? IS NULL", NULL, 0);

  action->customer_id = g_strdup (account->customer->id);
  action->target_id = g_strdup (charge->id);
  action->refundable = fd_stripe_charge_refundable (charge);
  action->amount = action->refundable + 1;
  action->currency = g_strdup (charge->currency);

  outcome = run_action (action, &error);
  g_assert_null (outcome);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_assert_cmpuint (fd_sandbox_get_request_count (world.sandbox, NULL), ==, requests);
  g_assert_cmpint (query_int ("SELECT count(*) FROM billing_actions WHERE ? IS NULL", NULL, 0), ==, rows);
  g_clear_error (&error);

  /* What was read may be stale: the charge is read again, in another currency than the
   * agent's, and nothing is refunded or stored. */
  requests = fd_sandbox_get_request_count (world.sandbox, "/stripe/v1/refunds");
  action->amount = 1;
  g_free (action->currency);
  action->currency = g_strdup (g_str_equal (charge->currency, "eur") ? "usd" : "eur");
  outcome = run_action (action, &error);
  g_assert_null (outcome);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED);
  g_assert_cmpuint (fd_sandbox_get_request_count (world.sandbox, "/stripe/v1/refunds"), ==, requests);
  g_assert_cmpint (query_int ("SELECT count(*) FROM billing_actions WHERE ? IS NULL", NULL, 0), ==, rows);
}

static void
test_sandbox_restricted_key (void)
{
  g_autoptr(FdStripeClient) client = fd_stripe_client_new (world.stripe_url, READONLY_KEY);
  g_autoptr(FdBillingAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FdStripePermissions permissions;
  FdStripePermissions needs = fd_billing_action_needs (FD_BILLING_ACTION_REFUND);

  g_assert_cmpint (fd_stripe_client_get_key_kind (client), ==, FD_STRIPE_KEY_RESTRICTED);
  fd_stripe_client_probe_async (client, NULL, result_cb, &result);
  WAIT (result);
  permissions = fd_stripe_client_probe_finish (client, result, &error);
  g_assert_no_error (error);

  g_test_message ("Restricted key permissions: 0x%x", permissions);
  g_assert_true (permissions & FD_STRIPE_CAN_READ_CUSTOMERS);
  g_assert_false (permissions & FD_STRIPE_CAN_WRITE_REFUNDS);
  g_assert_cmpint (permissions & needs, !=, needs);

  /* The sandbox's read-only key may write nothing, so every action is hidden. */
  for (FdBillingActionKind kind = FD_BILLING_ACTION_REFUND; kind <= FD_BILLING_ACTION_CLOSE_DISPUTE; kind++)
    {
      FdStripePermissions kind_needs = fd_billing_action_needs (kind);

      if ((permissions & kind_needs) == kind_needs)
        g_test_fail_printf ("A read-only key may do billing action %d (needs 0x%x, has 0x%x)",
                            kind, kind_needs, permissions);
    }

  /* Reading still works with it. */
  account = load_account_with (client, healthy_customer ());
  g_assert_nonnull (account->summary);
}

static void
test_sandbox_card_error (void)
{
  g_autoptr(FdBillingAccount) account = load_account (scenario ("payment_failed_expired_card"));
  g_autoptr(FdBillingAction) action = fd_billing_action_new (FD_BILLING_ACTION_PAY_INVOICE);
  g_autoptr(FdBillingOutcome) outcome = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *last_error = NULL;
  const FdStripeInvoice *open = NULL;
  const FdStripeCharge *latest = g_ptr_array_index (account->charges, 0);
  FdStripeExplanation explanation;

  for (guint i = 0; i < account->invoices->len && open == NULL; i++)
    if (g_strcmp0 (((FdStripeInvoice *) g_ptr_array_index (account->invoices, i))->status, "open") == 0)
      open = g_ptr_array_index (account->invoices, i);
  g_assert_nonnull (open);

  action->customer_id = g_strdup (account->customer->id);
  action->target_id = g_strdup (open->id);
  action->agent = g_strdup ("Ann Agent");

  outcome = run_action (action, &error);
  g_assert_null (outcome);
  g_assert_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_CARD);
  explanation = fd_stripe_explain_decline (latest->failure_code, latest->decline_code, NULL);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, explanation.what));

  last_error = query_text ("SELECT last_error FROM billing_actions WHERE target_id = ? AND state = 'failed'",
                           open->id, 0);
  g_assert_cmpstr (last_error, ==, error->message);
  g_assert_cmpint (query_int ("SELECT count(*) FROM audit_log WHERE action = 'billing.pay_invoice.failed' AND subject = ?",
                              open->id, 0), ==, 1);
  g_assert_cmpint (query_int ("SELECT count(*) FROM audit_log WHERE action = 'billing.pay_invoice' AND subject = ?",
                              open->id, 0), ==, 0);
}

static void
test_sandbox_seat_change (void)
{
  g_autoptr(FdBillingAccount) account = load_account (healthy_customer ());
  g_autoptr(FdBillingAccount) changed = NULL;
  const FdStripeSubscription *subscription = active_subscription (account);
  const FdStripeSubscriptionItem *item = g_ptr_array_index (subscription->items, 0);
  g_autoptr(FdBillingPreview) preview = NULL;
  g_autoptr(FdBillingAction) action = fd_billing_action_new (FD_BILLING_ACTION_CHANGE_SUBSCRIPTION);
  g_autoptr(FdBillingOutcome) outcome = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *seats = NULL;
  gint64 quantity = item->quantity + 10;
  gboolean shows_quantity = FALSE;

  fd_billing_preview_change_async (world.client, subscription, NULL, quantity, "create_prorations",
                                   NULL, result_cb, &result);
  WAIT (result);
  preview = fd_billing_preview_change_finish (result, &error);
  g_assert_no_error (error);

  /* More seats mid-period: a proration to pay, and the new quantity on the lines. */
  seats = g_strdup_printf ("%" G_GINT64_FORMAT, quantity);
  for (guint i = 0; i < preview->lines->len; i++)
    {
      g_test_message ("%s", (char *) g_ptr_array_index (preview->lines, i));
      shows_quantity |= strstr (g_ptr_array_index (preview->lines, i), seats) != NULL;
    }
  g_assert_true (shows_quantity);
  g_assert_cmpint (preview->proration, >, 0);
  g_assert_cmpstr (preview->currency, ==, subscription->currency);

  action->customer_id = g_strdup (account->customer->id);
  action->target_id = g_strdup (subscription->id);
  action->item_id = g_strdup (item->id);
  action->quantity = quantity;
  action->proration_behavior = g_strdup ("create_prorations");
  action->agent = g_strdup ("Ann Agent");
  outcome = run_action (action, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (outcome->note, seats));

  changed = load_account (account->customer->id);
  for (guint i = 0; i < changed->subscriptions->len; i++)
    {
      FdStripeSubscription *now = g_ptr_array_index (changed->subscriptions, i);

      if (g_str_equal (now->id, subscription->id))
        g_assert_cmpint (((FdStripeSubscriptionItem *) g_ptr_array_index (now->items, 0))->quantity, ==, quantity);
    }
}

static void
test_sandbox_cancel_undo (void)
{
  g_autoptr(FdBillingAccount) account = load_account (healthy_customer ());
  const FdStripeSubscription *subscription = active_subscription (account);
  g_autoptr(FdBillingAction) cancel = fd_billing_action_new (FD_BILLING_ACTION_CANCEL_AT_PERIOD_END);
  g_autoptr(FdBillingAction) undo = fd_billing_action_new (FD_BILLING_ACTION_UNDO_CANCEL);
  g_autoptr(FdBillingOutcome) canceled = NULL;
  g_autoptr(FdBillingOutcome) kept = NULL;
  g_autoptr(FdBillingAccount) canceling = NULL;
  g_autoptr(FdBillingAccount) healthy = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (account->state, ==, FD_BILLING_HEALTHY);

  cancel->customer_id = g_strdup (account->customer->id);
  cancel->target_id = g_strdup (subscription->id);
  cancel->agent = g_strdup ("Ann Agent");
  canceled = run_action (cancel, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_get_boolean_member (canceled->object, "cancel_at_period_end"));

  canceling = load_account (account->customer->id);
  g_assert_cmpint (canceling->state, ==, FD_BILLING_CANCELING);
  g_assert_true (g_str_has_prefix (canceling->summary, "Cancels on "));

  undo->customer_id = g_strdup (account->customer->id);
  undo->target_id = g_strdup (subscription->id);
  undo->agent = g_strdup ("Ann Agent");
  kept = run_action (undo, &error);
  g_assert_no_error (error);
  g_assert_false (json_object_get_boolean_member (kept->object, "cancel_at_period_end"));

  healthy = load_account (account->customer->id);
  g_assert_cmpint (healthy->state, ==, FD_BILLING_HEALTHY);
  g_assert_cmpint (query_int ("SELECT count(*) FROM audit_log WHERE action = 'billing.cancel_at_period_end' AND subject = ?",
                              subscription->id, 0), ==, 1);
  g_assert_cmpint (query_int ("SELECT count(*) FROM audit_log WHERE action = 'billing.undo_cancel' AND subject = ?",
                              subscription->id, 0), ==, 1);
}

static void
test_sandbox_credit_note (void)
{
  g_autoptr(FdBillingAccount) account = load_account (scenario ("currency_kwd"));
  g_autoptr(FdBillingPreview) preview = NULL;
  g_autoptr(FdBillingAction) action = fd_billing_action_new (FD_BILLING_ACTION_CREDIT_NOTE);
  g_autoptr(FdBillingOutcome) outcome = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *detail = NULL;
  const FdStripeInvoice *paid = NULL;
  gboolean shows_amount = FALSE;

  for (guint i = 0; i < account->invoices->len && paid == NULL; i++)
    {
      const FdStripeInvoice *invoice = g_ptr_array_index (account->invoices, i);

      if (g_strcmp0 (invoice->status, "paid") == 0 && invoice->total >= 1500)
        paid = invoice;
    }
  g_assert_nonnull (paid);
  g_assert_cmpstr (paid->currency, ==, "kwd");

  fd_billing_preview_credit_note_async (world.client, paid, 1500, "order_change", NULL, result_cb, &result);
  WAIT (result);
  preview = fd_billing_preview_credit_note_finish (result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (preview->currency, ==, "kwd");
  g_assert_cmpint (preview->amount_due, ==, 1500);
  for (guint i = 0; i < preview->lines->len; i++)
    {
      g_test_message ("%s", (char *) g_ptr_array_index (preview->lines, i));
      shows_amount |= strstr (g_ptr_array_index (preview->lines, i), "1.500 KWD") != NULL;
    }
  g_assert_true (shows_amount);

  action->customer_id = g_strdup (account->customer->id);
  action->target_id = g_strdup (paid->id);
  action->amount = 1500;
  action->currency = g_strdup ("kwd");
  action->reason = g_strdup ("order_change");
  action->agent = g_strdup ("Ann Agent");
  outcome = run_action (action, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (outcome->object, "id"), "cn_"));
  g_assert_nonnull (strstr (outcome->note, "1.500 KWD"));

  detail = query_text ("SELECT detail_json FROM audit_log WHERE action = 'billing.credit_note' AND subject = ?",
                       paid->id, 0);
  g_assert_nonnull (detail);
  g_assert_nonnull (strstr (detail, "\"amount\":1500"));
  g_assert_nonnull (strstr (detail, "\"currency\":\"kwd\""));
}

static void
test_sandbox_pause_resume (void)
{
  g_autoptr(FdBillingAccount) account = load_account (scenario ("discount"));
  const FdStripeSubscription *subscription = active_subscription (account);
  g_autoptr(FdBillingAction) pause = fd_billing_action_new (FD_BILLING_ACTION_PAUSE_COLLECTION);
  g_autoptr(FdBillingAction) resume = fd_billing_action_new (FD_BILLING_ACTION_RESUME_COLLECTION);
  g_autoptr(FdBillingOutcome) paused = NULL;
  g_autoptr(FdBillingOutcome) resumed = NULL;
  g_autoptr(FdBillingAccount) after_pause = NULL;
  g_autoptr(FdBillingAccount) after_resume = NULL;
  g_autoptr(GError) error = NULL;

  pause->customer_id = g_strdup (account->customer->id);
  pause->target_id = g_strdup (subscription->id);
  pause->pause_behavior = g_strdup ("keep_as_draft");
  paused = run_action (pause, &error);
  g_assert_no_error (error);

  after_pause = load_account (account->customer->id);
  g_assert_cmpstr (active_subscription (after_pause)->pause_behavior, ==, "keep_as_draft");
  g_assert_nonnull (strstr (after_pause->summary, "collection paused"));

  resume->customer_id = g_strdup (account->customer->id);
  resume->target_id = g_strdup (subscription->id);
  resumed = run_action (resume, &error);
  g_assert_no_error (error);

  after_resume = load_account (account->customer->id);
  g_assert_null (active_subscription (after_resume)->pause_behavior);
  g_assert_cmpint (after_resume->state, ==, FD_BILLING_HEALTHY);
}

static void
test_sandbox_open_client (void)
{
  g_autoptr(FdAccount) account = NULL;
  g_autoptr(FdStripeClient) client = NULL;
  g_autoptr(GAsyncResult) none = NULL;
  g_autoptr(GAsyncResult) saved = NULL;
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GError) error = NULL;

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("No Secret Service on the session bus");
      return;
    }

  fd_billing_open_client_async (world.store, NULL, result_cb, &none);
  WAIT (none);
  g_assert_null (fd_billing_open_client_finish (none, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  account = fd_account_new (FD_ACCOUNT_KIND_STRIPE, "Sandbox", world.stripe_url);
  fd_account_save_async (world.store, account, SECRET_KEY, NULL, result_cb, &saved);
  WAIT (saved);
  g_assert_true (fd_account_save_finish (world.store, saved, &error));
  g_assert_no_error (error);

  fd_billing_open_client_async (world.store, NULL, result_cb, &opened);
  WAIT (opened);
  client = fd_billing_open_client_finish (opened, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fd_stripe_client_get_base_url (client), ==, world.stripe_url);
  g_assert_cmpint (fd_stripe_client_get_key_kind (client), ==, FD_STRIPE_KEY_SECRET);
  g_assert_cmpint (fd_stripe_client_get_mode (client), ==, FD_STRIPE_MODE_TEST);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
world_start (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sandbox_db = NULL;
  g_autofree char *store_db = NULL;

  world.dir = g_dir_make_tmp ("test-billing-XXXXXX", &error);
  g_assert_no_error (error);
  sandbox_db = g_build_filename (world.dir, "sandbox.db", NULL);
  store_db = g_build_filename (world.dir, "frontdesk.db", NULL);

  world.sandbox = fd_sandbox_new (sandbox_db);
  if (!fd_sandbox_seed (world.sandbox, 42, FD_DEMO_SCALE_SMALL, &error) ||
      !fd_sandbox_run_in_thread (world.sandbox, 0, &error))
    g_error ("Could not start the sandbox: %s", error->message);
  world.stripe_url = g_strconcat (fd_sandbox_get_base_url (world.sandbox), "/stripe", NULL);

  world.store = fd_store_new (store_db);
  g_assert_true (fd_store_open_sync (world.store, NULL, &error));
  g_assert_no_error (error);

  world.client = fd_stripe_client_new (world.stripe_url, SECRET_KEY);
  fd_stripe_client_set_retry (world.client, CLIENT_ATTEMPTS, 10, 50);
}

static void
world_stop (void)
{
  g_clear_object (&world.client);
  fd_store_close (world.store);
  g_clear_object (&world.store);
  fd_sandbox_stop (world.sandbox);
  g_clear_object (&world.sandbox);
  g_clear_pointer (&world.scenarios, json_object_unref);
  remove_tree (world.dir);
  g_clear_pointer (&world.dir, g_free);
  g_clear_pointer (&world.stripe_url, g_free);
}

/* }}} */
#endif

int
main (int argc, char *argv[])
{
  G_GNUC_UNUSED int ret;

  /* Dates and amounts as an English reader in UTC sees them. */
  g_setenv ("TZ", "UTC", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/billing/parse/customer", test_parse_customer);
  g_test_add_func ("/billing/parse/subscription", test_parse_subscription);
  g_test_add_func ("/billing/parse/discounts", test_parse_discounts);
  g_test_add_func ("/billing/parse/invoice", test_parse_invoice);
  g_test_add_func ("/billing/parse/charge", test_parse_charge);
  g_test_add_func ("/billing/parse/refund-dispute", test_parse_refund_dispute);
  g_test_add_func ("/billing/summary/expired-card", test_summary_expired_card);
  g_test_add_func ("/billing/summary/states", test_summary_states);
  g_test_add_func ("/billing/action/describe-currencies", test_describe_currencies);
  g_test_add_func ("/billing/action/validate", test_validate);
  g_test_add_func ("/billing/action/requests", test_requests);

#ifdef HAVE_SANDBOX
  world_start ();
  g_test_add_func ("/billing/sandbox/scenarios", test_sandbox_scenarios);
  g_test_add_func ("/billing/sandbox/find", test_sandbox_find);
  g_test_add_func ("/billing/sandbox/failed-payment", test_sandbox_failed_payment);
  g_test_add_func ("/billing/sandbox/refund-retry", test_sandbox_refund_retry);
  g_test_add_func ("/billing/sandbox/refund-over-remainder", test_sandbox_refund_over_remainder);
  g_test_add_func ("/billing/sandbox/restricted-key", test_sandbox_restricted_key);
  g_test_add_func ("/billing/sandbox/card-error", test_sandbox_card_error);
  g_test_add_func ("/billing/sandbox/seat-change", test_sandbox_seat_change);
  g_test_add_func ("/billing/sandbox/cancel-undo", test_sandbox_cancel_undo);
  g_test_add_func ("/billing/sandbox/credit-note", test_sandbox_credit_note);
  g_test_add_func ("/billing/sandbox/pause-resume", test_sandbox_pause_resume);
  g_test_add_func ("/billing/sandbox/open-client", test_sandbox_open_client);

  ret = g_test_run ();
  world_stop ();
  return ret;
#else
  return g_test_run ();
#endif
}
