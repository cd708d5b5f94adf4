/* fd-stripe-error.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-stripe-error"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-stripe-error.h"

typedef struct
{
  const char *code;
  const char *what;
  const char *tell_customer;
  gboolean retry_may_work;
} Decline;

/* Stripe's decline codes (https://docs.stripe.com/declines/codes) and the failure codes
 * of bank debits, in the words an agent can repeat to a customer. */
static const Decline declines[] = {
  { "insufficient_funds",
    N_("The payment was declined because the account does not have enough money."),
    N_("Ask the customer to add money to the account or to use another card; the same "
       "card can be charged again once the money is there."),
    TRUE },
  { "authentication_required",
    N_("The bank wants the customer to confirm this payment (3D Secure), and they were "
       "not there to do it."),
    N_("Send the customer the invoice’s payment page: paying there lets their bank ask "
       "them to confirm."),
    TRUE },
  { "payment_intent_authentication_failure",
    N_("The customer did not complete the bank’s confirmation step (3D Secure), so the "
       "payment failed."),
    N_("Ask the customer to pay again from the invoice’s payment page and to finish the "
       "confirmation their bank shows."),
    TRUE },
  { "expired_card",
    N_("The card was declined because it has expired."),
    N_("Ask the customer to add a card that is still valid, or to update the expiry date "
       "if their bank sent them a new card."),
    FALSE },
  { "incorrect_cvc",
    N_("The card’s security code (CVC) was wrong."),
    N_("Ask the customer to enter the card again with the three or four digit security "
       "code from its back."),
    FALSE },
  { "invalid_cvc",
    N_("The card’s security code (CVC) is not in a valid form."),
    N_("Ask the customer to enter the card again and check the security code has the "
       "right number of digits."),
    FALSE },
  { "incorrect_number",
    N_("The card number was wrong."),
    N_("Ask the customer to enter the card number again, carefully, or to use another "
       "card."),
    FALSE },
  { "invalid_number",
    N_("The card number is not a valid card number."),
    N_("Ask the customer to check the card number digit by digit and enter it again."),
    FALSE },
  { "incorrect_zip",
    N_("The postal code did not match the one the bank has for the card."),
    N_("Ask the customer to enter the card again with the billing postal code their bank "
       "has on file."),
    FALSE },
  { "invalid_expiry_month",
    N_("The card’s expiry month was wrong."),
    N_("Ask the customer to enter the card again with the expiry month printed on it."),
    FALSE },
  { "invalid_expiry_year",
    N_("The card’s expiry year was wrong."),
    N_("Ask the customer to enter the card again with the expiry year printed on it."),
    FALSE },
  { "do_not_honor",
    N_("The bank declined the payment without saying why."),
    N_("Ask the customer to call their bank to allow the payment, or to use another "
       "card."),
    FALSE },
  { "generic_decline",
    N_("The card was declined for a reason the bank did not share."),
    N_("Ask the customer to contact their bank about the declined payment, or to add "
       "another payment method."),
    FALSE },
  { "card_declined",
    N_("The card was declined."),
    N_("Ask the customer to check with their bank why the card was declined, or to pay "
       "with another card."),
    FALSE },
  { "call_issuer",
    N_("The bank declined the payment and wants the cardholder to call them."),
    N_("Ask the customer to call the number on the back of their card, then try the "
       "payment again."),
    FALSE },
  { "lost_card",
    N_("The card was declined because it has been reported lost."),
    N_("Ask the customer for another payment method. Do not mention the lost-card report; "
       "say the bank declined the card."),
    FALSE },
  { "stolen_card",
    N_("The card was declined because it has been reported stolen."),
    N_("Ask the customer for another payment method. Do not mention the stolen-card "
       "report; say the bank declined the card."),
    FALSE },
  { "fraudulent",
    N_("The payment was declined because the bank or Stripe suspects fraud."),
    N_("Tell the customer the payment was declined and ask them to contact their bank. "
       "Do not mention the fraud suspicion."),
    FALSE },
  { "merchant_blacklist",
    N_("The payment was blocked by a rule on this Stripe account that matches the "
       "customer."),
    N_("Check the account’s blocked lists in Stripe before asking the customer for "
       "anything; tell them the payment could not be taken."),
    FALSE },
  { "pickup_card",
    N_("The bank declined the card and asked for it to be withdrawn (it may be lost or "
       "stolen)."),
    N_("Ask the customer to contact their bank and to pay with another card meanwhile."),
    FALSE },
  { "restricted_card",
    N_("The card has restrictions that stop this payment (it may be reported lost or "
       "stolen)."),
    N_("Ask the customer to pay with a different card and to contact the bank about the "
       "restriction."),
    FALSE },
  { "security_violation",
    N_("The bank declined the payment for a security reason it did not explain."),
    N_("Ask the customer to contact their bank’s security team, or to use another card."),
    FALSE },
  { "card_velocity_exceeded",
    N_("The card has reached its balance, credit limit or number of payments allowed "
       "for now."),
    N_("Ask the customer to raise the card’s limit with their bank or to use another "
       "card; trying again after the limit resets can work."),
    TRUE },
  { "withdrawal_count_limit_exceeded",
    N_("The card has been used for too many payments in a short time."),
    N_("Ask the customer to use another card, or to wait until their bank’s payment "
       "count resets before trying again."),
    TRUE },
  { "card_decline_rate_limit_exceeded",
    N_("The card was declined too many times in a row, so Stripe is refusing it for a "
       "while."),
    N_("Wait a day before trying this card again, and ask the customer to check the card "
       "details with their bank meanwhile."),
    TRUE },
  { "processing_error",
    N_("The payment failed because of an error while processing the card."),
    N_("Try the payment again in a few minutes; if it keeps failing, ask the customer for "
       "another card."),
    TRUE },
  { "issuer_not_available",
    N_("The bank could not be reached to approve the payment."),
    N_("Try the payment again later; the customer can also contact their bank if it "
       "keeps failing."),
    TRUE },
  { "reenter_transaction",
    N_("The bank could not process the payment this time."),
    N_("Try the payment again; if it fails once more, ask the customer to contact their "
       "bank."),
    TRUE },
  { "try_again_later",
    N_("The bank declined the payment for now but may accept it later."),
    N_("Retry the payment in a day or two and let the customer know; no new card is "
       "needed yet."),
    TRUE },
  { "approve_with_id",
    N_("The bank could not approve the payment this time."),
    N_("Retry the payment once; if it is declined again, ask the customer to contact "
       "their bank."),
    TRUE },
  { "card_not_supported",
    N_("The card does not support this kind of payment (for example recurring or online "
       "payments)."),
    N_("Ask the customer to check with their bank that the card allows this kind of "
       "payment, or to use another card."),
    FALSE },
  { "currency_not_supported",
    N_("The card does not support payments in this currency."),
    N_("Ask the customer for a card that can pay in this currency, such as one issued for "
       "international use."),
    FALSE },
  { "transaction_not_allowed",
    N_("The bank does not allow this kind of payment on the card."),
    N_("Ask the customer to enable online or international payments in their banking app, "
       "or to use another card."),
    FALSE },
  { "service_not_allowed",
    N_("The bank does not allow this service to be paid with the card."),
    N_("Ask the customer to ask their bank why the service is refused, or to pay another "
       "way."),
    FALSE },
  { "not_permitted",
    N_("The payment is not permitted on this card."),
    N_("Ask the customer to contact their bank about why the card cannot be used here."),
    FALSE },
  { "invalid_account",
    N_("The card, or the account it is linked to, is not valid."),
    N_("Ask the customer to confirm the card is still open with their bank, or to add "
       "another payment method."),
    FALSE },
  { "new_account_information_available",
    N_("The card or its account has changed, and the bank has new details for it."),
    N_("Ask the customer to enter their new card details."),
    FALSE },
  { "invalid_amount",
    N_("The bank refused the amount, which may be above what the card allows."),
    N_("Ask the customer whether the card has a limit per payment; they may need to use "
       "another card."),
    FALSE },
  { "duplicate_transaction",
    N_("A payment with the same amount and card was made moments before, so the bank "
       "declined this one."),
    N_("Check for the earlier payment before anything else; tell the customer they have "
       "not been charged twice."),
    FALSE },
  { "pin_try_exceeded",
    N_("The card’s PIN was entered wrongly too many times."),
    N_("Ask the customer to unlock the card with their bank, or to use another card."),
    FALSE },
  { "stop_payment_order",
    N_("The customer asked their bank to stop payments to this business."),
    N_("Ask the customer whether they meant to stop the payments; if not, they must "
       "remove the stop with their bank."),
    FALSE },
  { "revocation_of_authorization",
    N_("The customer withdrew their permission for this recurring payment at their "
       "bank."),
    N_("Ask the customer whether they want to keep the subscription; if so, they must "
       "authorise the payments again."),
    FALSE },
  { "revocation_of_all_authorizations",
    N_("The customer withdrew every recurring payment permission on this card at their "
       "bank."),
    N_("Ask the customer to authorise recurring payments again with their bank, or to add "
       "another payment method."),
    FALSE },
  { "no_action_taken",
    N_("The bank did not act on the payment and gave no other reason."),
    N_("Ask the customer to contact their bank, or to pay with another card."),
    FALSE },
  { "testmode_decline",
    N_("A Stripe test card was used, which never pays for real."),
    N_("Ask the customer to enter a real card."),
    FALSE },
  { "account_closed",
    N_("The bank account for this direct debit has been closed."),
    N_("Ask the customer to set up the direct debit again with an open account."),
    FALSE },
  { "no_account",
    N_("The bank account for this direct debit could not be found."),
    N_("Ask the customer to check their account details and set up the direct debit "
       "again."),
    FALSE },
  { "debit_not_authorized",
    N_("The customer’s bank says the customer did not authorise this direct debit."),
    N_("Ask the customer to authorise the direct debit with their bank, or to pay with a "
       "card."),
    FALSE },
  { "bank_account_restricted",
    N_("The bank account cannot receive direct debits."),
    N_("Ask the customer for another bank account or a card."),
    FALSE },
};

static const Decline *
find_decline (const char *code)
{
  if (code == NULL || *code == '\0')
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (declines); i++)
    if (g_str_equal (declines[i].code, code))
      return &declines[i];
  return NULL;
}

/* A sentence made of others lives as long as the program; there is one per pair of
 * codes, so this stays small. */
static const char *
intern_printf (const char *format,
               ...) G_GNUC_PRINTF (1, 2);

static const char *
intern_printf (const char *format,
               ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  return g_intern_string (text);
}

FdStripeExplanation
fd_stripe_explain_decline (const char *code,
                           const char *decline_code,
                           const char *advice_code)
{
  FdStripeExplanation explanation = { NULL, NULL, FALSE };
  const Decline *decline;
  const char *unknown;

  decline = find_decline (decline_code);
  if (decline == NULL)
    decline = find_decline (code);

  unknown = decline_code != NULL && *decline_code != '\0' ? decline_code : code;
  if (decline != NULL)
    {
      explanation.what = _(decline->what);
      explanation.tell_customer = _(decline->tell_customer);
      explanation.retry_may_work = decline->retry_may_work;
    }
  else if (unknown != NULL && *unknown != '\0')
    {
      explanation.what =
        intern_printf (_("The payment failed for a reason Frontdesk does not know yet "
                         "(Stripe’s code “%s”)."), unknown);
      explanation.tell_customer =
        _("Ask the customer to contact their bank about the failed payment, or to use "
          "another payment method.");
      explanation.retry_may_work = FALSE;
    }
  else
    {
      explanation.what = _("The payment failed, and Stripe did not say why.");
      explanation.tell_customer =
        _("Ask the customer to check their payment details, or to use another payment "
          "method.");
      explanation.retry_may_work = FALSE;
    }

  /* The bank's advice overrides what the decline code alone suggests. */
  if (g_strcmp0 (advice_code, "do_not_try_again") == 0)
    {
      explanation.retry_may_work = FALSE;
      explanation.tell_customer =
        intern_printf ("%s %s", explanation.tell_customer,
                       _("The bank says this card will not be accepted again, so do not "
                         "retry it."));
    }
  else if (g_strcmp0 (advice_code, "try_again_later") == 0)
    {
      explanation.retry_may_work = TRUE;
      explanation.tell_customer =
        intern_printf ("%s %s", explanation.tell_customer,
                       _("The bank says trying the same card again later can work."));
    }
  else if (g_strcmp0 (advice_code, "confirm_card_data") == 0)
    {
      explanation.retry_may_work = FALSE;
      explanation.tell_customer =
        intern_printf ("%s %s", explanation.tell_customer,
                       _("The bank says the card details need checking: the customer "
                         "should enter the number, expiry date and security code "
                         "again."));
    }

  return explanation;
}

/* {{{ Disputes */

typedef struct
{
  const char *reason;
  const char *label;
  const char *advice;
} DisputeReason;

static const DisputeReason dispute_reasons[] = {
  { "bank_cannot_process",
    N_("The customer’s bank cannot process the payment for a reason of its own."),
    N_("Send the receipt and the invoice showing the customer agreed to pay, and ask the "
       "customer to settle it with their bank.") },
  { "check_returned",
    N_("The customer’s cheque was returned unpaid."),
    N_("Send proof that the customer owes the amount (the invoice and their order) and "
       "ask them to pay another way.") },
  { "credit_not_processed",
    N_("The customer says they were promised a refund or credit that never came."),
    N_("Show that the refund was made, or that the customer was not owed one: the refund "
       "policy they accepted and the conversation about it.") },
  { "customer_initiated",
    N_("The customer asked their bank to take back the payment."),
    N_("Send the conversation with the customer, the invoice and proof the service was "
       "delivered; a refund may settle it faster.") },
  { "debit_not_authorized",
    N_("The customer says they did not authorise this direct debit."),
    N_("Send the signed mandate or the record of the customer agreeing to the debit, with "
       "the date and their details.") },
  { "duplicate",
    N_("The customer says they were charged twice for the same thing."),
    N_("Show that the two payments were for different things, or that the other one was "
       "already refunded.") },
  { "fraudulent",
    N_("The customer says they did not make this payment."),
    N_("Send proof the customer made it: their account, logins and use of the service "
       "(access activity log), and past payments that were not disputed.") },
  { "general",
    N_("The bank gave no specific reason for the dispute."),
    N_("Send everything that shows the customer agreed to pay and received the service: "
       "invoice, conversation, and activity records.") },
  { "incorrect_account_details",
    N_("The payment went to or from an account with wrong details."),
    N_("Send the account details the customer gave and the record of the payment they "
       "authorised.") },
  { "insufficient_funds",
    N_("The customer’s account did not have enough money for the payment."),
    N_("Send the invoice and ask the customer to pay again with enough money or another "
       "method.") },
  { "product_not_received",
    N_("The customer says they did not receive what they paid for."),
    N_("Send proof of delivery: access activity log, logins, service documentation, and "
       "the conversation with the customer.") },
  { "product_unacceptable",
    N_("The customer says what they received was faulty or not as described."),
    N_("Send the product description they agreed to, the refund policy, and the "
       "conversation showing how the problem was handled.") },
  { "subscription_canceled",
    N_("The customer says they cancelled the subscription before they were charged."),
    N_("Send the cancellation policy and its disclosure, and show the customer did not "
       "cancel before the charge or kept using the service.") },
  { "unrecognized",
    N_("The customer does not recognise this payment on their statement."),
    N_("Send the invoice and receipt with your business name as it appears on the "
       "statement, and the customer’s account activity.") },
};

static const DisputeReason *
find_dispute_reason (const char *reason)
{
  if (reason == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (dispute_reasons); i++)
    if (g_str_equal (dispute_reasons[i].reason, reason))
      return &dispute_reasons[i];
  return NULL;
}

const char *
fd_stripe_dispute_reason_label (const char *reason)
{
  const DisputeReason *found = find_dispute_reason (reason);

  if (found != NULL)
    return _(found->label);
  if (reason == NULL || *reason == '\0')
    return _("The bank did not give a reason for the dispute.");
  return intern_printf (_("The bank gave a reason Frontdesk does not know yet (“%s”)."),
                        reason);
}

const char *
fd_stripe_dispute_reason_advice (const char *reason)
{
  const DisputeReason *found = find_dispute_reason (reason);

  if (found != NULL)
    return _(found->advice);
  return _("Send everything that shows the customer agreed to pay and received the "
           "service: invoice, conversation, and activity records.");
}

/* }}} */
/* {{{ Statuses */

static const struct
{
  const char *status;
  const char *label;
} statuses[] = {
  /* Subscriptions */
  { "active", NC_("status", "Active") },
  { "past_due", NC_("status", "Past due") },
  { "unpaid", NC_("status", "Unpaid") },
  { "canceled", NC_("status", "Cancelled") },
  { "incomplete", NC_("status", "Incomplete") },
  { "incomplete_expired", NC_("status", "Expired before the first payment") },
  { "trialing", NC_("status", "Trial") },
  { "paused", NC_("status", "Paused") },
  /* Invoices */
  { "draft", NC_("status", "Draft") },
  { "open", NC_("status", "Open") },
  { "paid", NC_("status", "Paid") },
  { "uncollectible", NC_("status", "Uncollectible") },
  { "void", NC_("status", "Void") },
  /* Disputes */
  { "warning_needs_response", NC_("status", "Inquiry, needs a response") },
  { "warning_under_review", NC_("status", "Inquiry under review") },
  { "warning_closed", NC_("status", "Inquiry closed") },
  { "needs_response", NC_("status", "Needs a response") },
  { "under_review", NC_("status", "Under review") },
  { "charge_refunded", NC_("status", "Refunded") },
  { "won", NC_("status", "Won") },
  { "lost", NC_("status", "Lost") },
  /* Charges and refunds */
  { "succeeded", NC_("status", "Succeeded") },
  { "pending", NC_("status", "Pending") },
  { "failed", NC_("status", "Failed") },
  { "requires_action", NC_("status", "Needs the customer’s action") },
};

const char *
fd_stripe_status_label (const char *status)
{
  g_autofree char *words = NULL;

  if (status == NULL || *status == '\0')
    return C_("status", "Unknown");

  for (gsize i = 0; i < G_N_ELEMENTS (statuses); i++)
    if (g_str_equal (statuses[i].status, status))
      return g_dpgettext2 (GETTEXT_PACKAGE, "status", statuses[i].label);

  /* A status newer than this table: Stripe's word, readable. */
  words = g_strdelimit (g_strdup (status), "_", ' ');
  if (g_ascii_islower (words[0]))
    words[0] = g_ascii_toupper (words[0]);
  return g_intern_string (words);
}

/* }}} */
