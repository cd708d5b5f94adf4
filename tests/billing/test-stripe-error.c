/* test-stripe-error.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stripe's decline codes, dispute reasons and statuses in plain words.
 */

#include "config.h"

#include <locale.h>
#include <string.h>

#include <glib.h>

#include "fd-stripe-error.h"

static const char * const decline_codes[] = {
  "insufficient_funds", "authentication_required", "expired_card", "incorrect_cvc",
  "incorrect_number", "invalid_expiry_month", "invalid_expiry_year", "do_not_honor",
  "generic_decline", "lost_card", "stolen_card", "fraudulent", "card_velocity_exceeded",
  "processing_error", "card_not_supported", "currency_not_supported", "pickup_card",
  "restricted_card", "transaction_not_allowed", "try_again_later",
  "withdrawal_count_limit_exceeded", "invalid_account", "approve_with_id", "call_issuer",
  "card_declined", "incorrect_zip", "invalid_cvc", "invalid_number", "issuer_not_available",
  "reenter_transaction", "duplicate_transaction", "security_violation",
  "payment_intent_authentication_failure", "card_decline_rate_limit_exceeded",
  "stop_payment_order", "revocation_of_authorization", "new_account_information_available",
};

static const char * const dispute_reasons[] = {
  "bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated",
  "debit_not_authorized", "duplicate", "fraudulent", "general", "incorrect_account_details",
  "insufficient_funds", "product_not_received", "product_unacceptable",
  "subscription_canceled", "unrecognized",
};

/* A sentence for people: not empty, not the raw code, ends like a sentence. */
static void
assert_sentence (const char *text,
                 const char *code)
{
  g_assert_nonnull (text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_cmpuint (strlen (text), >, 15);
  g_assert_true (g_str_has_suffix (text, "."));
  if (code != NULL)
    g_assert_null (strstr (text, code));
}

static void
test_each_code (void)
{
  g_autoptr(GHashTable) whats = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) tells = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < G_N_ELEMENTS (decline_codes); i++)
    {
      const char *code = decline_codes[i];
      FdStripeExplanation e = fd_stripe_explain_decline (NULL, code, NULL);
      FdStripeExplanation as_code = fd_stripe_explain_decline (code, NULL, NULL);

      g_test_message ("%s: %s / %s", code, e.what, e.tell_customer);
      assert_sentence (e.what, code);
      assert_sentence (e.tell_customer, code);
      /* A code the table knows is never the generic "does not know" text. */
      g_assert_null (strstr (e.what, "does not know"));

      g_assert_false (g_hash_table_contains (whats, e.what));
      g_assert_false (g_hash_table_contains (tells, e.tell_customer));
      g_hash_table_add (whats, (gpointer) e.what);
      g_hash_table_add (tells, (gpointer) e.tell_customer);

      /* The same explanation whether Stripe put it in code or decline_code. */
      g_assert_cmpstr (as_code.what, ==, e.what);
      g_assert_cmpstr (as_code.tell_customer, ==, e.tell_customer);
      g_assert_cmpint (as_code.retry_may_work, ==, e.retry_may_work);
    }
}

static void
test_retry (void)
{
  static const char * const never[] = { "lost_card", "stolen_card", "expired_card",
                                        "fraudulent", "pickup_card", "incorrect_number" };
  static const char * const later[] = { "insufficient_funds", "processing_error",
                                        "try_again_later", "issuer_not_available" };

  for (guint i = 0; i < G_N_ELEMENTS (never); i++)
    g_assert_false (fd_stripe_explain_decline ("card_declined", never[i], NULL).retry_may_work);
  for (guint i = 0; i < G_N_ELEMENTS (later); i++)
    g_assert_true (fd_stripe_explain_decline ("card_declined", later[i], NULL).retry_may_work);
}

static void
test_decline_code_wins (void)
{
  FdStripeExplanation generic = fd_stripe_explain_decline ("card_declined", NULL, NULL);
  FdStripeExplanation specific = fd_stripe_explain_decline ("card_declined",
                                                            "insufficient_funds", NULL);
  FdStripeExplanation alone = fd_stripe_explain_decline (NULL, "insufficient_funds", NULL);

  g_assert_cmpstr (specific.what, ==, alone.what);
  g_assert_cmpstr (specific.what, !=, generic.what);
  g_assert_true (specific.retry_may_work);

  /* A decline code the table does not know falls back to the code it does know … */
  specific = fd_stripe_explain_decline ("expired_card", "brand_new_code", NULL);
  g_assert_cmpstr (specific.what, ==, fd_stripe_explain_decline (NULL, "expired_card", NULL).what);
}

static void
test_advice (void)
{
  FdStripeExplanation plain = fd_stripe_explain_decline ("card_declined",
                                                         "insufficient_funds", NULL);
  FdStripeExplanation stop = fd_stripe_explain_decline ("card_declined",
                                                        "insufficient_funds",
                                                        "do_not_try_again");
  FdStripeExplanation later = fd_stripe_explain_decline ("card_declined", "do_not_honor",
                                                         "try_again_later");
  FdStripeExplanation confirm = fd_stripe_explain_decline ("card_declined",
                                                           "generic_decline",
                                                           "confirm_card_data");
  FdStripeExplanation again = fd_stripe_explain_decline ("card_declined",
                                                         "insufficient_funds",
                                                         "do_not_try_again");

  g_assert_true (plain.retry_may_work);
  g_assert_false (stop.retry_may_work);
  g_assert_cmpstr (stop.what, ==, plain.what);
  g_assert_cmpstr (stop.tell_customer, !=, plain.tell_customer);
  /* The code's own next step stays, and the advice is added to it. */
  g_assert_true (g_str_has_prefix (stop.tell_customer, plain.tell_customer));
  assert_sentence (stop.tell_customer, "do_not_try_again");
  /* The same text each time: callers may keep the pointer. */
  g_assert_true (stop.tell_customer == again.tell_customer);

  g_assert_false (fd_stripe_explain_decline (NULL, "do_not_honor", NULL).retry_may_work);
  g_assert_true (later.retry_may_work);
  assert_sentence (later.tell_customer, "try_again_later");

  g_assert_false (confirm.retry_may_work);
  g_assert_nonnull (strstr (confirm.tell_customer, "security code"));

  /* An advice code Stripe may add later changes nothing. */
  g_assert_cmpstr (fd_stripe_explain_decline (NULL, "insufficient_funds",
                                              "something_new").tell_customer,
                   ==, plain.tell_customer);
}

static void
test_unknown (void)
{
  FdStripeExplanation e = fd_stripe_explain_decline ("card_declined", "brand_new_code", NULL);
  FdStripeExplanation only_code = fd_stripe_explain_decline ("weird_api_code", NULL, NULL);
  FdStripeExplanation nothing = fd_stripe_explain_decline (NULL, NULL, NULL);
  FdStripeExplanation empty = fd_stripe_explain_decline ("", "", "");

  /* card_declined is known, so a decline code that is not falls back to it. */
  g_assert_cmpstr (e.what, ==, fd_stripe_explain_decline ("card_declined", NULL, NULL).what);

  g_assert_nonnull (strstr (only_code.what, "weird_api_code"));
  g_assert_false (only_code.retry_may_work);
  assert_sentence (only_code.tell_customer, NULL);

  e = fd_stripe_explain_decline ("some_code", "other_unknown_code", NULL);
  g_assert_nonnull (strstr (e.what, "other_unknown_code"));
  assert_sentence (e.tell_customer, NULL);

  assert_sentence (nothing.what, NULL);
  assert_sentence (nothing.tell_customer, NULL);
  g_assert_false (nothing.retry_may_work);
  g_assert_cmpstr (empty.what, ==, nothing.what);
}

static void
test_dispute_reasons (void)
{
  g_autoptr(GHashTable) labels = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) advice = g_hash_table_new (g_str_hash, g_str_equal);
  const char *unknown;

  for (guint i = 0; i < G_N_ELEMENTS (dispute_reasons); i++)
    {
      const char *label = fd_stripe_dispute_reason_label (dispute_reasons[i]);
      const char *tip = fd_stripe_dispute_reason_advice (dispute_reasons[i]);

      assert_sentence (label, dispute_reasons[i]);
      assert_sentence (tip, dispute_reasons[i]);
      g_assert_false (g_hash_table_contains (labels, label));
      g_assert_false (g_hash_table_contains (advice, tip));
      g_hash_table_add (labels, (gpointer) label);
      g_hash_table_add (advice, (gpointer) tip);
    }

  g_assert_cmpstr (fd_stripe_dispute_reason_label ("fraudulent"), ==,
                   "The customer says they did not make this payment.");
  g_assert_nonnull (strstr (fd_stripe_dispute_reason_advice ("product_not_received"),
                            "access activity log"));

  unknown = fd_stripe_dispute_reason_label ("a_new_reason");
  g_assert_nonnull (strstr (unknown, "a_new_reason"));
  assert_sentence (fd_stripe_dispute_reason_label (NULL), NULL);
  assert_sentence (fd_stripe_dispute_reason_advice ("a_new_reason"), NULL);
}

static void
test_status_labels (void)
{
  static const struct
  {
    const char *status;
    const char *label;
  } expected[] = {
    { "active", "Active" }, { "past_due", "Past due" }, { "unpaid", "Unpaid" },
    { "canceled", "Cancelled" }, { "trialing", "Trial" }, { "paused", "Paused" },
    { "incomplete", "Incomplete" }, { "draft", "Draft" }, { "open", "Open" },
    { "paid", "Paid" }, { "uncollectible", "Uncollectible" }, { "void", "Void" },
    { "needs_response", "Needs a response" }, { "under_review", "Under review" },
    { "won", "Won" }, { "lost", "Lost" }, { "succeeded", "Succeeded" },
    { "pending", "Pending" }, { "failed", "Failed" },
  };
  static const char * const others[] = { "incomplete_expired", "warning_needs_response",
                                          "warning_under_review", "warning_closed",
                                          "charge_refunded" };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (fd_stripe_status_label (expected[i].status), ==, expected[i].label);
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    {
      const char *label = fd_stripe_status_label (others[i]);

      g_assert_nonnull (label);
      g_assert_null (strchr (label, '_'));
    }

  /* A status newer than the table still reads as words. */
  g_assert_cmpstr (fd_stripe_status_label ("awaiting_bank_review"), ==,
                   "Awaiting bank review");
  g_assert_cmpstr (fd_stripe_status_label (NULL), ==, "Unknown");
}

int
main (int argc, char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/stripe-error/each-code", test_each_code);
  g_test_add_func ("/stripe-error/retry", test_retry);
  g_test_add_func ("/stripe-error/decline-code-wins", test_decline_code_wins);
  g_test_add_func ("/stripe-error/advice", test_advice);
  g_test_add_func ("/stripe-error/unknown", test_unknown);
  g_test_add_func ("/stripe-error/dispute-reasons", test_dispute_reasons);
  g_test_add_func ("/stripe-error/status-labels", test_status_labels);

  return g_test_run ();
}
