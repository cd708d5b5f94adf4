/* fd-stripe-error.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stripe's error codes in plain words, and what to tell the customer.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  /* What happened, for the agent: "The card was declined because it has expired." */
  const char *what;
  /* The next step to tell the customer: "Ask the customer to add a card that is still
   * valid, or update the expiry date if the bank sent a new card." */
  const char *tell_customer;
  /* TRUE when retrying the same card can work later (insufficient funds, processing
   * error, try_again_later); FALSE when it never will (lost, stolen, expired, fraud). */
  gboolean    retry_may_work;
} FdStripeExplanation;

/* Explains a failed payment from the fields Stripe gives: a charge's failure_code and
 * outcome, or an error object's code / decline_code / advice_code. Any may be NULL.
 * decline_code wins over code; advice_code (try_again_later, do_not_try_again,
 * confirm_card_data) refines the next step. Unknown codes get a generic explanation
 * naming the code. Strings are static and translated. Covers at least:
 * insufficient_funds, authentication_required, expired_card, incorrect_cvc,
 * incorrect_number, invalid_expiry_month/year, do_not_honor, generic_decline,
 * lost_card, stolen_card, fraudulent, card_velocity_exceeded, processing_error,
 * card_not_supported, currency_not_supported, pickup_card, restricted_card,
 * transaction_not_allowed, try_again_later, withdrawal_count_limit_exceeded,
 * invalid_account, approve_with_id, call_issuer, card_declined. */
FdStripeExplanation fd_stripe_explain_decline (const char *code,
                                               const char *decline_code,
                                               const char *advice_code);

/* A dispute's reason in plain words ("The customer says they did not make this payment."
 * for fraudulent) and what evidence wins it. */
const char *fd_stripe_dispute_reason_label    (const char *reason);
const char *fd_stripe_dispute_reason_advice   (const char *reason);
/* A status in words: subscription (active, past_due, unpaid, canceled, incomplete,
 * incomplete_expired, trialing, paused), invoice (draft, open, paid, uncollectible, void),
 * dispute (warning_needs_response, needs_response, under_review, won, lost, …),
 * charge (succeeded, pending, failed). */
const char *fd_stripe_status_label            (const char *status);

G_END_DECLS
