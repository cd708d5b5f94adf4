/* fd-billing.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-billing"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "fd-account.h"
#include "fd-billing.h"
#include "fd-secrets.h"
#include "fd-stripe-error.h"

#define MAX_CUSTOMERS 20
#define MAX_INVOICES 24
#define MAX_CHARGES 50
#define MAX_PAYMENT_METHODS 20
#define SECONDS_PER_DAY 86400

/* {{{ Small helpers */

static char *
dup_string (JsonObject *object,
            const char *member)
{
  return object != NULL ? g_strdup (fd_stripe_get_string (object, member)) : NULL;
}

static char *
dup_id (JsonObject *object,
        const char *member)
{
  return object != NULL ? g_strdup (fd_stripe_get_id (object, member)) : NULL;
}

/* Never more than the last four characters, whatever the server sent. */
static char *
dup_last4 (JsonObject *object)
{
  const char *last4 = object != NULL ? fd_stripe_get_string (object, "last4") : NULL;
  gsize len;

  if (last4 == NULL)
    return NULL;

  len = strlen (last4);
  return g_strdup (len > 4 ? last4 + len - 4 : last4);
}

static gboolean
is_live_status (const char *status)
{
  return g_strcmp0 (status, "canceled") != 0 && g_strcmp0 (status, "incomplete_expired") != 0;
}

/* Stripe always names the currency; "XXX" (ISO 4217's "no currency") if it did not. */
static char *
format_money (gint64      minor,
              const char *currency)
{
  return fd_money_format (minor, currency != NULL ? currency : "xxx");
}

static char *
format_money_code (gint64      minor,
                   const char *currency)
{
  return fd_money_format_with_code (minor, currency != NULL ? currency : "xxx");
}

/* "1 March 2027" in the user's time zone; translators pick the order for their language. */
static char *
format_date (gint64 unix_s)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_local (unix_s);

  if (date == NULL)
    return g_strdup ("");

  /* Translators: a day such as "1 March 2027", as in "renews 1 March 2027". It is a
   * g_date_time_format() pattern: %-d the day without padding, %B the month's name,
   * %Y the year. */
  return g_date_time_format (date, _("%-d %B %Y"));
}

/* Joins a sentence and its reason after a colon: the reason was written to stand alone,
 * so its first letter is lowered when the second one is lower case (not an acronym). */
static char *
lower_first (const char *text)
{
  const char *second;
  gunichar first;
  char buf[8];
  int len;

  if (text == NULL || *text == '\0')
    return g_strdup ("");

  first = g_utf8_get_char (text);
  second = g_utf8_next_char (text);
  if (!g_unichar_isupper (first) || *second == '\0' || !g_unichar_islower (g_utf8_get_char (second)))
    return g_strdup (text);

  len = g_unichar_to_utf8 (g_unichar_tolower (first), buf);
  buf[len] = '\0';
  return g_strconcat (buf, second, NULL);
}

/* }}} */
/* {{{ What Stripe holds */

void
fd_stripe_customer_free (FdStripeCustomer *customer)
{
  if (customer == NULL)
    return;

  g_free (customer->id);
  g_free (customer->name);
  g_free (customer->email);
  g_free (customer->description);
  g_free (customer->currency);
  g_free (customer->default_payment_method);
  g_free (customer);
}

void
fd_stripe_payment_method_free (FdStripePaymentMethod *method)
{
  if (method == NULL)
    return;

  g_free (method->id);
  g_free (method->type);
  g_free (method->brand);
  g_free (method->last4);
  g_free (method);
}

static void
fd_stripe_subscription_item_free (FdStripeSubscriptionItem *item)
{
  if (item == NULL)
    return;

  g_free (item->id);
  g_free (item->price_id);
  g_free (item->product_name);
  g_free (item->currency);
  g_free (item->interval);
  g_free (item);
}

void
fd_stripe_subscription_free (FdStripeSubscription *subscription)
{
  if (subscription == NULL)
    return;

  g_free (subscription->id);
  g_free (subscription->status);
  g_free (subscription->currency);
  g_free (subscription->collection_method);
  g_free (subscription->pause_behavior);
  g_free (subscription->discount);
  g_clear_pointer (&subscription->items, g_ptr_array_unref);
  g_free (subscription);
}

void
fd_stripe_invoice_free (FdStripeInvoice *invoice)
{
  if (invoice == NULL)
    return;

  g_free (invoice->id);
  g_free (invoice->number);
  g_free (invoice->status);
  g_free (invoice->currency);
  g_free (invoice->hosted_invoice_url);
  g_free (invoice->invoice_pdf);
  g_free (invoice->subscription);
  g_free (invoice->collection_method);
  g_free (invoice);
}

void
fd_stripe_refund_free (FdStripeRefund *refund)
{
  if (refund == NULL)
    return;

  g_free (refund->id);
  g_free (refund->charge);
  g_free (refund->currency);
  g_free (refund->status);
  g_free (refund->reason);
  g_free (refund);
}

void
fd_stripe_charge_free (FdStripeCharge *charge)
{
  if (charge == NULL)
    return;

  g_free (charge->id);
  g_free (charge->payment_intent);
  g_free (charge->invoice);
  g_free (charge->currency);
  g_free (charge->status);
  g_free (charge->description);
  g_free (charge->failure_code);
  g_free (charge->failure_message);
  g_free (charge->decline_code);
  g_free (charge->advice_code);
  g_free (charge->card_brand);
  g_free (charge->card_last4);
  g_free (charge->receipt_url);
  g_free (charge);
}

void
fd_stripe_dispute_free (FdStripeDispute *dispute)
{
  if (dispute == NULL)
    return;

  g_free (dispute->id);
  g_free (dispute->charge);
  g_free (dispute->currency);
  g_free (dispute->reason);
  g_free (dispute->status);
  g_clear_pointer (&dispute->evidence, json_object_unref);
  g_free (dispute);
}

FdStripeCustomer *
fd_stripe_customer_from_json (JsonObject *object)
{
  FdStripeCustomer *customer;
  JsonObject *settings;

  g_return_val_if_fail (object != NULL, NULL);

  customer = g_new0 (FdStripeCustomer, 1);
  customer->id = dup_string (object, "id");
  customer->name = dup_string (object, "name");
  customer->email = dup_string (object, "email");
  customer->description = dup_string (object, "description");
  customer->currency = dup_string (object, "currency");
  customer->balance = fd_stripe_get_int (object, "balance", 0);
  customer->created = fd_stripe_get_int (object, "created", 0);
  customer->delinquent = fd_stripe_get_bool (object, "delinquent");

  settings = fd_stripe_get_object (object, "invoice_settings");
  if (settings != NULL)
    customer->default_payment_method = dup_id (settings, "default_payment_method");
  if (customer->default_payment_method == NULL)
    customer->default_payment_method = dup_id (object, "default_source");

  return customer;
}

FdStripePaymentMethod *
fd_stripe_payment_method_from_json (JsonObject *object)
{
  FdStripePaymentMethod *method;
  JsonObject *details = NULL;

  g_return_val_if_fail (object != NULL, NULL);

  method = g_new0 (FdStripePaymentMethod, 1);
  method->id = dup_string (object, "id");

  if (g_strcmp0 (fd_stripe_get_string (object, "object"), "card") == 0)
    {
      /* A legacy card source keeps its fields at the top. */
      method->type = g_strdup ("card");
      details = object;
    }
  else
    {
      method->type = dup_string (object, "type");
      if (method->type != NULL)
        details = fd_stripe_get_object (object, method->type);
    }

  if (details != NULL)
    {
      method->brand = dup_string (details, "brand");
      if (method->brand == NULL)
        method->brand = dup_string (details, "bank_name");
      method->last4 = dup_last4 (details);
      method->exp_month = (int) fd_stripe_get_int (details, "exp_month", 0);
      method->exp_year = (int) fd_stripe_get_int (details, "exp_year", 0);
    }

  return method;
}

/* "20%" or "€10.00", then how long. */
static char *
discount_text (JsonObject *discount)
{
  JsonObject *coupon = fd_stripe_get_object (discount, "coupon");
  g_autofree char *off = NULL;
  const char *duration;
  JsonNode *percent;

  if (coupon == NULL)
    return NULL;

  percent = json_object_get_member (coupon, "percent_off");
  if (percent != NULL && !json_node_is_null (percent))
    {
      /* Percentages are not money: Stripe sends them as numbers such as 12.5. */
      double value = json_node_get_double (percent);

      if (value == (double) (gint64) value)
        off = g_strdup_printf ("%" G_GINT64_FORMAT "%%", (gint64) value);
      else
        off = g_strdup_printf ("%.4g%%", value);
    }
  else if (fd_stripe_get_int (coupon, "amount_off", 0) > 0)
    {
      off = format_money (fd_stripe_get_int (coupon, "amount_off", 0),
                             fd_stripe_get_string (coupon, "currency"));
    }
  else
    {
      return dup_string (coupon, "name");
    }

  duration = fd_stripe_get_string (coupon, "duration");
  if (g_strcmp0 (duration, "repeating") == 0)
    {
      int months = (int) fd_stripe_get_int (coupon, "duration_in_months", 0);

      if (months > 0)
        /* Translators: %s is "20%" or "€10.00" */
        return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s off for %d month",
                                             "%s off for %d months", months),
                                off, months);
    }
  else if (g_strcmp0 (duration, "once") == 0)
    {
      /* Translators: %s is "20%" or "€10.00"; the discount applies to one invoice */
      return g_strdup_printf (_("%s off once"), off);
    }

  /* Translators: %s is "20%" or "€10.00" */
  return g_strdup_printf (_("%s off"), off);
}

static FdStripeSubscriptionItem *
subscription_item_from_json (JsonObject *object)
{
  FdStripeSubscriptionItem *item = g_new0 (FdStripeSubscriptionItem, 1);
  JsonObject *price = fd_stripe_get_object (object, "price");
  JsonObject *recurring;
  JsonObject *product;

  item->id = dup_string (object, "id");
  item->quantity = fd_stripe_get_int (object, "quantity", 1);

  if (price == NULL)
    price = fd_stripe_get_object (object, "plan");
  if (price != NULL)
    {
      item->price_id = dup_string (price, "id");
      item->unit_amount = fd_stripe_get_int (price, "unit_amount",
                                             fd_stripe_get_int (price, "amount", 0));
      item->currency = dup_string (price, "currency");

      recurring = fd_stripe_get_object (price, "recurring");
      if (recurring != NULL)
        {
          item->interval = dup_string (recurring, "interval");
          item->interval_count = (int) fd_stripe_get_int (recurring, "interval_count", 1);
        }
      else
        {
          /* A legacy plan keeps the interval at the top. */
          item->interval = dup_string (price, "interval");
          item->interval_count = (int) fd_stripe_get_int (price, "interval_count", 1);
        }

      item->product_name = dup_string (price, "nickname");
      product = fd_stripe_get_object (price, "product");
      if (item->product_name == NULL && product != NULL)
        item->product_name = dup_string (product, "name");
      if (item->product_name == NULL)
        item->product_name = g_strdup (item->price_id);
    }

  return item;
}

FdStripeSubscription *
fd_stripe_subscription_from_json (JsonObject *object)
{
  FdStripeSubscription *subscription;
  JsonObject *pause;
  JsonObject *discount;
  JsonArray *items;

  g_return_val_if_fail (object != NULL, NULL);

  subscription = g_new0 (FdStripeSubscription, 1);
  subscription->id = dup_string (object, "id");
  subscription->status = dup_string (object, "status");
  subscription->currency = dup_string (object, "currency");
  subscription->collection_method = dup_string (object, "collection_method");
  subscription->days_until_due = (int) fd_stripe_get_int (object, "days_until_due", 0);
  subscription->current_period_start = fd_stripe_get_int (object, "current_period_start", 0);
  subscription->current_period_end = fd_stripe_get_int (object, "current_period_end", 0);
  subscription->trial_end = fd_stripe_get_int (object, "trial_end", 0);
  subscription->cancel_at = fd_stripe_get_int (object, "cancel_at", 0);
  subscription->canceled_at = fd_stripe_get_int (object, "canceled_at", 0);
  subscription->cancel_at_period_end = fd_stripe_get_bool (object, "cancel_at_period_end");

  /* A trial that has ended leaves trial_end set; only a trial still running counts. */
  if (g_strcmp0 (subscription->status, "trialing") != 0 &&
      subscription->trial_end != 0 &&
      subscription->trial_end < subscription->current_period_start)
    subscription->trial_end = 0;

  pause = fd_stripe_get_object (object, "pause_collection");
  if (pause != NULL)
    subscription->pause_behavior = dup_string (pause, "behavior");

  discount = fd_stripe_get_object (object, "discount");
  if (discount != NULL)
    subscription->discount = discount_text (discount);

  subscription->items = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_subscription_item_free);
  items = fd_stripe_get_list_data (object, "items");
  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonNode *node = json_array_get_element (items, i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        g_ptr_array_add (subscription->items, subscription_item_from_json (json_node_get_object (node)));
    }

  return subscription;
}

FdStripeInvoice *
fd_stripe_invoice_from_json (JsonObject *object,
                             gint64      now_s)
{
  FdStripeInvoice *invoice;

  g_return_val_if_fail (object != NULL, NULL);

  invoice = g_new0 (FdStripeInvoice, 1);
  invoice->id = dup_string (object, "id");
  invoice->number = dup_string (object, "number");
  invoice->status = dup_string (object, "status");
  invoice->currency = dup_string (object, "currency");
  invoice->total = fd_stripe_get_int (object, "total", 0);
  invoice->amount_due = fd_stripe_get_int (object, "amount_due", 0);
  invoice->amount_paid = fd_stripe_get_int (object, "amount_paid", 0);
  invoice->amount_remaining = fd_stripe_get_int (object, "amount_remaining", 0);
  invoice->created = fd_stripe_get_int (object, "created", 0);
  invoice->due_date = fd_stripe_get_int (object, "due_date", 0);
  invoice->attempt_count = (int) fd_stripe_get_int (object, "attempt_count", 0);
  invoice->hosted_invoice_url = dup_string (object, "hosted_invoice_url");
  invoice->invoice_pdf = dup_string (object, "invoice_pdf");
  invoice->subscription = dup_id (object, "subscription");
  invoice->collection_method = dup_string (object, "collection_method");
  invoice->past_due = g_strcmp0 (invoice->status, "open") == 0 &&
                      invoice->due_date != 0 && invoice->due_date < now_s;

  return invoice;
}

FdStripeCharge *
fd_stripe_charge_from_json (JsonObject *object)
{
  FdStripeCharge *charge;
  JsonObject *outcome;
  JsonObject *details;

  g_return_val_if_fail (object != NULL, NULL);

  charge = g_new0 (FdStripeCharge, 1);
  charge->id = dup_string (object, "id");
  charge->payment_intent = dup_id (object, "payment_intent");
  charge->invoice = dup_id (object, "invoice");
  charge->amount = fd_stripe_get_int (object, "amount", 0);
  charge->amount_refunded = fd_stripe_get_int (object, "amount_refunded", 0);
  charge->currency = dup_string (object, "currency");
  charge->status = dup_string (object, "status");
  charge->refunded = fd_stripe_get_bool (object, "refunded");
  charge->disputed = fd_stripe_get_bool (object, "disputed");
  charge->description = dup_string (object, "description");
  charge->created = fd_stripe_get_int (object, "created", 0);
  charge->failure_code = dup_string (object, "failure_code");
  charge->failure_message = dup_string (object, "failure_message");
  charge->receipt_url = dup_string (object, "receipt_url");

  outcome = fd_stripe_get_object (object, "outcome");
  if (outcome != NULL)
    {
      /* outcome.reason is a decline code only when the issuer declined; a Radar block
       * puts its rule's reason there instead. */
      if (g_strcmp0 (fd_stripe_get_string (outcome, "type"), "issuer_declined") == 0)
        charge->decline_code = dup_string (outcome, "reason");
      charge->advice_code = dup_string (outcome, "advice_code");
    }

  details = fd_stripe_get_object (object, "payment_method_details");
  if (details != NULL)
    {
      JsonObject *card = fd_stripe_get_object (details, "card");

      if (card != NULL)
        {
          charge->card_brand = dup_string (card, "brand");
          charge->card_last4 = dup_last4 (card);
        }
    }

  return charge;
}

FdStripeRefund *
fd_stripe_refund_from_json (JsonObject *object)
{
  FdStripeRefund *refund;

  g_return_val_if_fail (object != NULL, NULL);

  refund = g_new0 (FdStripeRefund, 1);
  refund->id = dup_string (object, "id");
  refund->charge = dup_id (object, "charge");
  refund->amount = fd_stripe_get_int (object, "amount", 0);
  refund->currency = dup_string (object, "currency");
  refund->status = dup_string (object, "status");
  refund->reason = dup_string (object, "reason");
  refund->created = fd_stripe_get_int (object, "created", 0);

  return refund;
}

static gboolean
dispute_needs_response (const char *status)
{
  return g_strcmp0 (status, "needs_response") == 0 ||
         g_strcmp0 (status, "warning_needs_response") == 0;
}

FdStripeDispute *
fd_stripe_dispute_from_json (JsonObject *object,
                             gint64      now_s)
{
  FdStripeDispute *dispute;
  JsonObject *details;
  JsonObject *evidence;

  g_return_val_if_fail (object != NULL, NULL);

  dispute = g_new0 (FdStripeDispute, 1);
  dispute->id = dup_string (object, "id");
  dispute->charge = dup_id (object, "charge");
  dispute->amount = fd_stripe_get_int (object, "amount", 0);
  dispute->currency = dup_string (object, "currency");
  dispute->reason = dup_string (object, "reason");
  dispute->status = dup_string (object, "status");
  dispute->created = fd_stripe_get_int (object, "created", 0);

  details = fd_stripe_get_object (object, "evidence_details");
  if (details != NULL)
    {
      dispute->evidence_due_by = fd_stripe_get_int (details, "due_by", 0);
      dispute->has_evidence = fd_stripe_get_bool (details, "has_evidence");
      dispute->past_due = fd_stripe_get_bool (details, "past_due");
      dispute->submission_count = (int) fd_stripe_get_int (details, "submission_count", 0);
    }

  /* Stripe sets past_due some time after the deadline; the clock says it first. */
  if (dispute_needs_response (dispute->status) &&
      dispute->evidence_due_by != 0 && dispute->evidence_due_by <= now_s)
    dispute->past_due = TRUE;

  evidence = fd_stripe_get_object (object, "evidence");
  if (evidence != NULL)
    dispute->evidence = json_object_ref (evidence);

  return dispute;
}

gint64
fd_stripe_charge_refundable (const FdStripeCharge *charge)
{
  g_return_val_if_fail (charge != NULL, 0);

  /* A failed payment took no money, so there is nothing to give back. */
  if (g_strcmp0 (charge->status, "failed") == 0)
    return 0;

  return MAX (0, charge->amount - charge->amount_refunded);
}

/* }}} */
/* {{{ One customer's account */

void
fd_billing_account_free (FdBillingAccount *account)
{
  if (account == NULL)
    return;

  g_clear_pointer (&account->customer, fd_stripe_customer_free);
  g_clear_pointer (&account->subscriptions, g_ptr_array_unref);
  g_clear_pointer (&account->invoices, g_ptr_array_unref);
  g_clear_pointer (&account->charges, g_ptr_array_unref);
  g_clear_pointer (&account->refunds, g_ptr_array_unref);
  g_clear_pointer (&account->disputes, g_ptr_array_unref);
  g_clear_pointer (&account->payment_methods, g_ptr_array_unref);
  g_clear_pointer (&account->summary, g_free);
  g_clear_pointer (&account->outstanding, fd_money_totals_free);
  g_free (account);
}

static FdBillingAccount *
account_new (void)
{
  FdBillingAccount *account = g_new0 (FdBillingAccount, 1);

  account->subscriptions = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_subscription_free);
  account->invoices = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_invoice_free);
  account->charges = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_charge_free);
  account->refunds = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_refund_free);
  account->disputes = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_dispute_free);
  account->payment_methods = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_payment_method_free);

  return account;
}

static gint64
subscription_seats (const FdStripeSubscription *subscription)
{
  gint64 seats = 0;

  for (guint i = 0; subscription->items != NULL && i < subscription->items->len; i++)
    {
      const FdStripeSubscriptionItem *item = g_ptr_array_index (subscription->items, i);

      seats += item->quantity;
    }

  return seats;
}

static char *
seats_text (gint64 seats)
{
  int n = (int) CLAMP (seats, 0, G_MAXINT);

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d seat", "%d seats", n), n);
}

static char *
summarize_dispute (FdBillingAccount *account,
                   gint64            now_s)
{
  const FdStripeDispute *urgent = NULL;
  g_autofree char *amount = NULL;
  gint64 days;

  for (guint i = 0; i < account->disputes->len; i++)
    {
      const FdStripeDispute *dispute = g_ptr_array_index (account->disputes, i);

      if (!dispute_needs_response (dispute->status) || dispute->past_due)
        continue;
      if (urgent == NULL ||
          (dispute->evidence_due_by != 0 &&
           (urgent->evidence_due_by == 0 || dispute->evidence_due_by < urgent->evidence_due_by)))
        urgent = dispute;
    }

  if (urgent == NULL)
    return NULL;

  amount = format_money (urgent->amount, urgent->currency);
  if (urgent->evidence_due_by == 0)
    return g_strdup_printf (_("Dispute of %s needs a response."), amount);

  /* Whole days left, rounded up: due in 3 days and 2 hours still leaves a 4th day. */
  days = MAX (1, (urgent->evidence_due_by - now_s + SECONDS_PER_DAY - 1) / SECONDS_PER_DAY);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "Dispute of %s needs a response within %d day.",
                                       "Dispute of %s needs a response within %d days.",
                                       (int) days),
                          amount, (int) days);
}

static char *
summarize_failing (FdBillingAccount           *account,
                   const FdStripeSubscription *live,
                   gint64                      now_s)
{
  const FdStripeCharge *first_failure = NULL;
  const FdStripeCharge *latest = NULL;
  const FdStripeInvoice *overdue = NULL;
  gboolean open_invoice = FALSE;

  for (guint i = 0; i < account->invoices->len; i++)
    {
      const FdStripeInvoice *invoice = g_ptr_array_index (account->invoices, i);

      if (g_strcmp0 (invoice->status, "open") == 0)
        open_invoice = TRUE;
      /* The oldest past-due invoice: the list is newest first. */
      if (invoice->past_due)
        overdue = invoice;
    }

  /* The current run of failures: from the newest payment back to the last success. */
  for (guint i = 0; i < account->charges->len; i++)
    {
      const FdStripeCharge *charge = g_ptr_array_index (account->charges, i);

      if (g_strcmp0 (charge->status, "failed") != 0)
        break;
      if (latest == NULL)
        latest = charge;
      first_failure = charge;
    }

  /* A failure long before every subscription ended is history, not a failing payment. */
  if (latest != NULL && live == NULL && !open_invoice && account->subscriptions->len > 0)
    latest = NULL;

  if (latest != NULL)
    {
      FdStripeExplanation explanation = fd_stripe_explain_decline (latest->failure_code,
                                                                   latest->decline_code,
                                                                   latest->advice_code);
      g_autofree char *reason = lower_first (explanation.what);
      gint64 days = MAX (0, (now_s - first_failure->created) / SECONDS_PER_DAY);

      /* A charge without a creation time (created 0) says nothing about how long. */
      if (first_failure->created <= 0)
        /* Translators: %s is why, e.g. "the card was declined because it has expired." */
        return g_strdup_printf (_("Payment failing: %s"), reason);
      if (days == 0)
        /* Translators: %s is why, e.g. "the card was declined because it has expired." */
        return g_strdup_printf (_("Payment failed today: %s"), reason);

      /* Translators: %s is why, e.g. "the card was declined because it has expired." */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Payment failing for %d day: %s",
                                           "Payment failing for %d days: %s", (int) days),
                              (int) days, reason);
    }

  if (overdue != NULL)
    {
      g_autofree char *amount = format_money (overdue->amount_remaining, overdue->currency);
      int days = (int) MAX (1, (now_s - overdue->due_date) / SECONDS_PER_DAY);

      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Invoice %s of %s is %d day past due.",
                                           "Invoice %s of %s is %d days past due.", days),
                              overdue->number != NULL ? overdue->number : overdue->id,
                              amount, days);
    }

  if (live != NULL &&
      (g_strcmp0 (live->status, "past_due") == 0 || g_strcmp0 (live->status, "unpaid") == 0))
    return g_strdup (_("Payment failing: the latest invoice is not paid."));

  return NULL;
}

void
fd_billing_account_summarize (FdBillingAccount *account,
                              gint64            now_s)
{
  const FdStripeSubscription *live = NULL;
  const FdStripeSubscription *ended = NULL;
  g_autofree char *date = NULL;
  g_autofree char *seats = NULL;
  char *text;

  g_return_if_fail (account != NULL);
  g_return_if_fail (account->subscriptions != NULL && account->invoices != NULL &&
                    account->charges != NULL && account->disputes != NULL);

  g_clear_pointer (&account->summary, g_free);
  g_clear_pointer (&account->outstanding, fd_money_totals_free);

  account->outstanding = fd_money_totals_new ();
  for (guint i = 0; i < account->invoices->len; i++)
    {
      FdStripeInvoice *invoice = g_ptr_array_index (account->invoices, i);

      invoice->past_due = g_strcmp0 (invoice->status, "open") == 0 &&
                          invoice->due_date != 0 && invoice->due_date < now_s;
      if (g_strcmp0 (invoice->status, "open") == 0 && invoice->amount_remaining > 0)
        fd_money_totals_add (account->outstanding, invoice->amount_remaining, invoice->currency);
    }

  for (guint i = 0; i < account->subscriptions->len; i++)
    {
      const FdStripeSubscription *subscription = g_ptr_array_index (account->subscriptions, i);

      if (is_live_status (subscription->status))
        {
          if (live == NULL)
            live = subscription;
        }
      else if (ended == NULL || subscription->canceled_at > ended->canceled_at)
        {
          ended = subscription;
        }
    }

  if ((text = summarize_dispute (account, now_s)) != NULL)
    {
      account->state = FD_BILLING_DISPUTED;
      account->summary = text;
      return;
    }

  if ((text = summarize_failing (account, live, now_s)) != NULL)
    {
      account->state = FD_BILLING_PAYMENT_FAILING;
      account->summary = text;
      return;
    }

  if (live == NULL)
    {
      if (ended != NULL)
        {
          account->state = FD_BILLING_CANCELED;
          if (ended->canceled_at != 0)
            {
              date = format_date (ended->canceled_at);
              /* Translators: %s is a date such as "1 March 2027" */
              account->summary = g_strdup_printf (_("Canceled on %s"), date);
            }
          else
            {
              account->summary = g_strdup (_("Canceled"));
            }
        }
      else
        {
          account->state = FD_BILLING_NO_SUBSCRIPTION;
          account->summary = g_strdup (_("No subscription"));
        }
      return;
    }

  if (live->cancel_at_period_end || live->cancel_at != 0)
    {
      account->state = FD_BILLING_CANCELING;
      date = format_date (live->cancel_at != 0 ? live->cancel_at : live->current_period_end);
      /* Translators: %s is a date such as "1 March 2027" */
      account->summary = g_strdup_printf (_("Cancels on %s"), date);
      return;
    }

  seats = seats_text (subscription_seats (live));

  if (g_strcmp0 (live->status, "trialing") == 0)
    {
      account->state = FD_BILLING_TRIAL;
      date = format_date (live->trial_end != 0 ? live->trial_end : live->current_period_end);
      /* Translators: "Trial · 150 seats · ends 1 March 2027" */
      account->summary = g_strdup_printf (_("Trial · %s · ends %s"), seats, date);
      return;
    }

  account->state = FD_BILLING_HEALTHY;
  if (live->pause_behavior != NULL)
    {
      /* Translators: "Active · 150 seats · collection paused" */
      account->summary = g_strdup_printf (_("Active · %s · collection paused"), seats);
      return;
    }

  date = format_date (live->current_period_end);
  /* Translators: "Active · 150 seats · renews 1 March 2027" */
  account->summary = g_strdup_printf (_("Active · %s · renews %s"), seats, date);
}

/* }}} */
/* {{{ Finding customers */

typedef struct
{
  GPtrArray *exact;      /* of JsonObject: GET /v1/customers/{id} or ?email= */
  GPtrArray *searched;   /* of JsonObject: /v1/customers/search */
  guint      pending;
  guint      answered;
  GError    *error;
} FindData;

static void
find_data_free (FindData *data)
{
  g_clear_pointer (&data->exact, g_ptr_array_unref);
  g_clear_pointer (&data->searched, g_ptr_array_unref);
  g_clear_error (&data->error);
  g_free (data);
}

static void
add_objects (GPtrArray *into,
             JsonArray *array)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        g_ptr_array_add (into, json_object_ref (json_node_get_object (node)));
    }
}

static void
find_add_customers (GPtrArray  *customers,
                    GHashTable *seen,
                    GPtrArray  *objects)
{
  for (guint i = 0; i < objects->len && customers->len < MAX_CUSTOMERS; i++)
    {
      JsonObject *object = g_ptr_array_index (objects, i);
      const char *id = fd_stripe_get_string (object, "id");

      if (id == NULL || fd_stripe_get_bool (object, "deleted") || g_hash_table_contains (seen, id))
        continue;

      g_hash_table_add (seen, g_strdup (id));
      g_ptr_array_add (customers, fd_stripe_customer_from_json (object));
    }
}

static void
find_done (GTask *task)
{
  FindData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) customers = NULL;
  g_autoptr(GHashTable) seen = NULL;

  if (--data->pending > 0)
    return;

  /* One way of looking may be refused (a restricted key without search); what the other
   * found still answers the question. */
  if (data->answered == 0 && data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  customers = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_customer_free);
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  find_add_customers (customers, seen, data->exact);
  find_add_customers (customers, seen, data->searched);

  g_task_return_pointer (task, g_steal_pointer (&customers), (GDestroyNotify) g_ptr_array_unref);
}

static void
find_note_error (FindData *data,
                 GError   *error)
{
  if (data->error == NULL)
    data->error = error;
  else
    g_error_free (error);
}

static void
find_by_id_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FindData *data = g_task_get_task_data (task);
  g_autoptr(FdStripeFailure) failure = NULL;
  g_autoptr(JsonObject) object = NULL;
  GError *error = NULL;

  object = fd_stripe_client_request_finish (FD_STRIPE_CLIENT (source), result, NULL, &failure, &error);
  if (object != NULL)
    {
      data->answered++;
      g_ptr_array_add (data->exact, g_steal_pointer (&object));
    }
  else if (failure != NULL && failure->http_status == 404)
    {
      /* No such customer is an answer: nobody matches. */
      data->answered++;
      g_error_free (error);
    }
  else
    {
      find_note_error (data, error);
    }

  find_done (task);
}

static void
find_by_email_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FindData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = NULL;
  GError *error = NULL;

  array = fd_stripe_client_list_finish (FD_STRIPE_CLIENT (source), result, &error);
  if (array != NULL)
    {
      data->answered++;
      add_objects (data->exact, array);
    }
  else
    {
      find_note_error (data, error);
    }

  find_done (task);
}

static void
find_by_search_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FindData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = NULL;
  GError *error = NULL;

  array = fd_stripe_client_search_finish (FD_STRIPE_CLIENT (source), result, &error);
  if (array != NULL)
    {
      data->answered++;
      add_objects (data->searched, array);
    }
  else
    {
      find_note_error (data, error);
    }

  find_done (task);
}

/* A value in Stripe's search query language: quoted, with quotes and backslashes escaped. */
static char *
search_quote (const char *value)
{
  GString *quoted = g_string_new ("\"");

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (quoted, '\\');
      g_string_append_c (quoted, *p);
    }
  g_string_append_c (quoted, '"');

  return g_string_free (quoted, FALSE);
}

void
fd_billing_find_customers_async (FdStripeClient      *client,
                                 const char          *query,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *text = NULL;
  g_autofree char *quoted = NULL;
  g_autofree char *search = NULL;
  FindData *data;

  g_return_if_fail (FD_IS_STRIPE_CLIENT (client));
  g_return_if_fail (query != NULL);

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_find_customers_async);

  data = g_new0 (FindData, 1);
  data->exact = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  data->searched = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_task_set_task_data (task, data, (GDestroyNotify) find_data_free);

  text = g_strstrip (g_strdup (query));
  if (*text == '\0')
    {
      g_task_return_pointer (task,
                             g_ptr_array_new_with_free_func ((GDestroyNotify) fd_stripe_customer_free),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  if (g_str_has_prefix (text, "cus_") && strchr (text, ' ') == NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (text, NULL, FALSE);
      g_autofree char *path = g_strconcat ("/v1/customers/", escaped, NULL);

      data->pending = 1;
      fd_stripe_client_request_async (client, "GET", path, NULL, NULL, cancellable,
                                      find_by_id_cb, g_steal_pointer (&task));
      return;
    }

  if (strchr (text, '@') != NULL && strchr (text, ' ') == NULL)
    {
      g_autoptr(FdStripeParams) params = fd_stripe_params_new ();

      quoted = search_quote (text);
      search = g_strconcat ("email:", quoted, NULL);

      /* The list is exact and fresh; search also finds what differs in case, but lags
       * behind new customers by up to a minute. */
      fd_stripe_params_add (params, "email", text);
      data->pending = 2;
      fd_stripe_client_list_async (client, "/v1/customers", params, MAX_CUSTOMERS, cancellable,
                                   find_by_email_cb, g_object_ref (task));
      fd_stripe_client_search_async (client, "/v1/customers/search", search, NULL, MAX_CUSTOMERS,
                                     cancellable, find_by_search_cb, g_steal_pointer (&task));
      return;
    }

  quoted = search_quote (text);
  /* Substring matching (~) needs at least three characters. */
  if (g_utf8_strlen (text, -1) >= 3)
    search = g_strdup_printf ("name~%s OR email~%s", quoted, quoted);
  else
    search = g_strdup_printf ("name:%s", quoted);

  data->pending = 1;
  fd_stripe_client_search_async (client, "/v1/customers/search", search, NULL, MAX_CUSTOMERS,
                                 cancellable, find_by_search_cb, g_steal_pointer (&task));
}

GPtrArray *
fd_billing_find_customers_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_billing_find_customers_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */
/* {{{ Loading an account */

typedef struct
{
  FdStripeClient   *client;
  char             *customer_id;
  FdBillingAccount *account;
  FdStripePaymentMethod *expanded_default;
  GHashTable       *item_products;   /* subscription item id → product id */
  guint             pending;
  GError           *error;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_clear_object (&data->client);
  g_free (data->customer_id);
  g_clear_pointer (&data->account, fd_billing_account_free);
  g_clear_pointer (&data->expanded_default, fd_stripe_payment_method_free);
  g_clear_pointer (&data->item_products, g_hash_table_unref);
  g_clear_error (&data->error);
  g_free (data);
}

/* What a restricted key may not read stays empty; anything else fails the whole read,
 * since a partial account (no failed payments shown) would mislead. */
static void
load_note_error (LoadData *data,
                 GError   *error,
                 gboolean  optional)
{
  if (optional || g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_PERMISSION))
    {
      g_debug ("Left out of the account: %s", error->message);
      g_error_free (error);
    }
  else if (data->error == NULL)
    {
      data->error = error;
    }
  else
    {
      g_error_free (error);
    }
}

static int
compare_created_desc (gint64      a_created,
                      const char *a_id,
                      gint64      b_created,
                      const char *b_id)
{
  if (a_created != b_created)
    return a_created > b_created ? -1 : 1;

  return -g_strcmp0 (a_id, b_id);
}

static int
compare_refunds (gconstpointer a,
                 gconstpointer b)
{
  const FdStripeRefund *ra = *(FdStripeRefund * const *) a;
  const FdStripeRefund *rb = *(FdStripeRefund * const *) b;

  return compare_created_desc (ra->created, ra->id, rb->created, rb->id);
}

static int
compare_disputes (gconstpointer a,
                  gconstpointer b)
{
  const FdStripeDispute *da = *(FdStripeDispute * const *) a;
  const FdStripeDispute *db = *(FdStripeDispute * const *) b;

  return compare_created_desc (da->created, da->id, db->created, db->id);
}

/* Moves the elements @pick accepts to the front, keeping the order otherwise. */
static void
move_to_front (GPtrArray *array,
               gboolean (*pick) (gconstpointer item))
{
  g_autoptr(GPtrArray) picked = g_ptr_array_new ();
  g_autoptr(GPtrArray) rest = g_ptr_array_new ();

  for (guint i = 0; i < array->len; i++)
    g_ptr_array_add (pick (g_ptr_array_index (array, i)) ? picked : rest, g_ptr_array_index (array, i));

  for (guint i = 0; i < picked->len; i++)
    array->pdata[i] = g_ptr_array_index (picked, i);
  for (guint i = 0; i < rest->len; i++)
    array->pdata[picked->len + i] = g_ptr_array_index (rest, i);
}

static gboolean
pick_live (gconstpointer item)
{
  return is_live_status (((const FdStripeSubscription *) item)->status);
}

static gboolean
pick_default (gconstpointer item)
{
  return ((const FdStripePaymentMethod *) item)->is_default;
}

static void
load_done (GTask *task)
{
  LoadData *data = g_task_get_task_data (task);
  FdBillingAccount *account = data->account;
  const char *default_id;

  if (--data->pending > 0)
    return;

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  default_id = account->customer->default_payment_method;
  if (default_id != NULL && data->expanded_default != NULL)
    {
      gboolean listed = FALSE;

      /* A key that may read the customer but not list payment methods still shows the
       * default one, from the customer's expansion. */
      for (guint i = 0; i < account->payment_methods->len && !listed; i++)
        listed = g_strcmp0 (((FdStripePaymentMethod *) g_ptr_array_index (account->payment_methods, i))->id,
                            default_id) == 0;
      if (!listed)
        g_ptr_array_add (account->payment_methods, g_steal_pointer (&data->expanded_default));
    }
  for (guint i = 0; i < account->payment_methods->len; i++)
    {
      FdStripePaymentMethod *method = g_ptr_array_index (account->payment_methods, i);

      method->is_default = default_id != NULL && g_strcmp0 (method->id, default_id) == 0;
    }

  move_to_front (account->subscriptions, pick_live);
  move_to_front (account->payment_methods, pick_default);
  g_ptr_array_sort (account->refunds, compare_refunds);
  g_ptr_array_sort (account->disputes, compare_disputes);

  account->read_at = g_get_real_time () / 1000;
  fd_billing_account_summarize (account, account->read_at / 1000);

  g_task_return_pointer (task, g_steal_pointer (&data->account), (GDestroyNotify) fd_billing_account_free);
}

static void
load_customer_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  g_autoptr(JsonObject) object = NULL;
  GError *error = NULL;

  object = fd_stripe_client_request_finish (FD_STRIPE_CLIENT (source), result, NULL, NULL, &error);
  if (object == NULL)
    {
      /* Without the customer there is no account to show, whatever the key. */
      if (data->error == NULL)
        data->error = error;
      else
        g_error_free (error);
    }
  else if (fd_stripe_get_bool (object, "deleted"))
    {
      load_note_error (data,
                       g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_INVALID_REQUEST,
                                            _("This customer was deleted in Stripe.")),
                       FALSE);
    }
  else
    {
      JsonObject *settings = fd_stripe_get_object (object, "invoice_settings");
      JsonObject *method = NULL;

      if (settings != NULL)
        method = fd_stripe_get_object (settings, "default_payment_method");

      data->account->customer = fd_stripe_customer_from_json (object);
      if (method != NULL)
        data->expanded_default = fd_stripe_payment_method_from_json (method);
    }

  load_done (task);
}

static JsonArray *
load_list_finish (GObject      *source,
                  GAsyncResult *result,
                  LoadData     *data,
                  gboolean      optional)
{
  GError *error = NULL;
  JsonArray *array;

  array = fd_stripe_client_list_finish (FD_STRIPE_CLIENT (source), result, &error);
  if (array == NULL)
    load_note_error (data, error, optional);

  return array;
}

static void
load_products_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = load_list_finish (source, result, data, TRUE);
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *product = json_array_get_object_element (array, i);
      const char *id = product != NULL ? fd_stripe_get_string (product, "id") : NULL;
      const char *name = product != NULL ? fd_stripe_get_string (product, "name") : NULL;

      if (id != NULL && name != NULL)
        g_hash_table_insert (names, (char *) id, (char *) name);
    }

  for (guint i = 0; i < data->account->subscriptions->len; i++)
    {
      FdStripeSubscription *subscription = g_ptr_array_index (data->account->subscriptions, i);

      for (guint j = 0; j < subscription->items->len; j++)
        {
          FdStripeSubscriptionItem *item = g_ptr_array_index (subscription->items, j);
          const char *product_id = g_hash_table_lookup (data->item_products, item->id);
          const char *name = product_id != NULL ? g_hash_table_lookup (names, product_id) : NULL;

          if (name != NULL)
            {
              g_free (item->product_name);
              item->product_name = g_strdup (name);
            }
        }
    }

  load_done (task);
}

static void
load_subscriptions_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = load_list_finish (source, result, data, FALSE);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();
  g_autoptr(GHashTable) products = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);
      JsonArray *items;

      if (object == NULL)
        continue;

      g_ptr_array_add (data->account->subscriptions, fd_stripe_subscription_from_json (object));

      /* Stripe expands at most four levels, so data.items.data.price.product is out of
       * reach: the products of prices without a nickname are read in one more request. */
      items = fd_stripe_get_list_data (object, "items");
      for (guint j = 0; items != NULL && j < json_array_get_length (items); j++)
        {
          JsonObject *item = json_array_get_object_element (items, j);
          JsonObject *price = item != NULL ? fd_stripe_get_object (item, "price") : NULL;
          JsonNode *product = price != NULL ? json_object_get_member (price, "product") : NULL;
          const char *item_id = item != NULL ? fd_stripe_get_string (item, "id") : NULL;

          if (item_id == NULL || price == NULL || fd_stripe_get_string (price, "nickname") != NULL ||
              product == NULL || !JSON_NODE_HOLDS_VALUE (product) ||
              json_node_get_value_type (product) != G_TYPE_STRING)
            continue;

          g_hash_table_insert (data->item_products, g_strdup (item_id),
                               g_strdup (json_node_get_string (product)));
          if (!g_hash_table_contains (products, json_node_get_string (product)) &&
              g_hash_table_size (products) < 100)
            {
              g_hash_table_add (products, (char *) json_node_get_string (product));
              fd_stripe_params_add (params, "ids[]", json_node_get_string (product));
            }
        }
    }

  if (fd_stripe_params_get_length (params) > 0)
    {
      data->pending++;
      fd_stripe_client_list_async (data->client, "/v1/products", params, 100,
                                   g_task_get_cancellable (task), load_products_cb, g_object_ref (task));
    }

  load_done (task);
}

static void
load_invoices_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = load_list_finish (source, result, data, FALSE);
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (object != NULL)
        g_ptr_array_add (data->account->invoices, fd_stripe_invoice_from_json (object, now_s));
    }

  load_done (task);
}

static void
load_refunds_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = load_list_finish (source, result, data, FALSE);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (object != NULL)
        g_ptr_array_add (data->account->refunds, fd_stripe_refund_from_json (object));
    }

  load_done (task);
}

static void
load_disputes_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = load_list_finish (source, result, data, FALSE);
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (object != NULL)
        g_ptr_array_add (data->account->disputes, fd_stripe_dispute_from_json (object, now_s));
    }

  load_done (task);
}

static void
load_charges_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = load_list_finish (source, result, data, FALSE);
  GCancellable *cancellable = g_task_get_cancellable (task);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);
      FdStripeCharge *charge;

      if (object == NULL)
        continue;

      charge = fd_stripe_charge_from_json (object);
      g_ptr_array_add (data->account->charges, charge);

      /* Only charges that were refunded or disputed have anything to read. */
      if (charge->amount_refunded > 0 && charge->id != NULL)
        {
          g_autoptr(FdStripeParams) params = fd_stripe_params_new ();

          fd_stripe_params_add (params, "charge", charge->id);
          data->pending++;
          fd_stripe_client_list_async (data->client, "/v1/refunds", params, 100, cancellable,
                                       load_refunds_cb, g_object_ref (task));
        }
      if (charge->disputed && charge->id != NULL)
        {
          g_autoptr(FdStripeParams) params = fd_stripe_params_new ();

          fd_stripe_params_add (params, "charge", charge->id);
          data->pending++;
          fd_stripe_client_list_async (data->client, "/v1/disputes", params, 100, cancellable,
                                       load_disputes_cb, g_object_ref (task));
        }
    }

  load_done (task);
}

static void
load_payment_methods_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  g_autoptr(JsonArray) array = load_list_finish (source, result, data, FALSE);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (object != NULL)
        g_ptr_array_add (data->account->payment_methods, fd_stripe_payment_method_from_json (object));
    }

  load_done (task);
}

void
fd_billing_load_account_async (FdStripeClient      *client,
                               const char          *customer_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(FdStripeParams) customer = NULL;
  g_autoptr(FdStripeParams) subscriptions = NULL;
  g_autoptr(FdStripeParams) by_customer = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *customer_path = NULL;
  g_autofree char *methods_path = NULL;
  LoadData *data;

  g_return_if_fail (FD_IS_STRIPE_CLIENT (client));
  g_return_if_fail (customer_id != NULL && *customer_id != '\0');

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_load_account_async);

  data = g_new0 (LoadData, 1);
  data->client = g_object_ref (client);
  data->customer_id = g_strdup (customer_id);
  data->account = account_new ();
  data->item_products = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_task_set_task_data (task, data, (GDestroyNotify) load_data_free);

  escaped = g_uri_escape_string (customer_id, NULL, FALSE);
  customer_path = g_strconcat ("/v1/customers/", escaped, NULL);
  methods_path = g_strconcat ("/v1/customers/", escaped, "/payment_methods", NULL);

  customer = fd_stripe_params_new ();
  fd_stripe_params_add_expand (customer, "invoice_settings.default_payment_method");

  subscriptions = fd_stripe_params_new ();
  fd_stripe_params_add (subscriptions, "customer", customer_id);
  fd_stripe_params_add (subscriptions, "status", "all");

  by_customer = fd_stripe_params_new ();
  fd_stripe_params_add (by_customer, "customer", customer_id);

  /* Everything that depends only on the customer's id at once; refunds, disputes and
   * product names follow from what the charges and subscriptions say. */
  data->pending = 5;
  fd_stripe_client_request_async (client, "GET", customer_path, customer, NULL, cancellable,
                                  load_customer_cb, g_object_ref (task));
  fd_stripe_client_list_async (client, "/v1/subscriptions", subscriptions, 100, cancellable,
                               load_subscriptions_cb, g_object_ref (task));
  fd_stripe_client_list_async (client, "/v1/invoices", by_customer, MAX_INVOICES, cancellable,
                               load_invoices_cb, g_object_ref (task));
  fd_stripe_client_list_async (client, "/v1/charges", by_customer, MAX_CHARGES, cancellable,
                               load_charges_cb, g_object_ref (task));
  fd_stripe_client_list_async (client, methods_path, NULL, MAX_PAYMENT_METHODS, cancellable,
                               load_payment_methods_cb, g_steal_pointer (&task));
}

FdBillingAccount *
fd_billing_load_account_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_billing_load_account_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */
/* {{{ Previews */

void
fd_billing_preview_free (FdBillingPreview *preview)
{
  if (preview == NULL)
    return;

  g_free (preview->currency);
  g_clear_pointer (&preview->lines, g_ptr_array_unref);
  g_free (preview);
}

static char *
preview_line (const char *description,
              gint64      amount,
              const char *currency)
{
  g_autofree char *money = format_money (amount, currency);

  /* Translators: an invoice line, "150 × Pro seat (1 Dec – 1 Jan): €1,500.00" */
  return g_strdup_printf (_("%s: %s"), description, money);
}

static FdBillingPreview *
preview_from_invoice (JsonObject *invoice)
{
  FdBillingPreview *preview = g_new0 (FdBillingPreview, 1);
  JsonArray *lines;

  preview->currency = dup_string (invoice, "currency");
  preview->amount_due = fd_stripe_get_int (invoice, "amount_due", 0);
  preview->total = fd_stripe_get_int (invoice, "total", 0);
  preview->next_payment_at = fd_stripe_get_int (invoice, "next_payment_attempt",
                                                fd_stripe_get_int (invoice, "period_end", 0));
  preview->lines = g_ptr_array_new_with_free_func (g_free);

  lines = fd_stripe_get_list_data (invoice, "lines");
  for (guint i = 0; lines != NULL && i < json_array_get_length (lines); i++)
    {
      JsonObject *line = json_array_get_object_element (lines, i);
      const char *description;
      gint64 amount;

      if (line == NULL)
        continue;

      amount = fd_stripe_get_int (line, "amount", 0);
      description = fd_stripe_get_string (line, "description");
      if (fd_stripe_get_bool (line, "proration"))
        preview->proration += amount;

      g_ptr_array_add (preview->lines,
                       preview_line (description != NULL ? description : _("Item"),
                                     amount,
                                     fd_stripe_get_string (line, "currency") != NULL
                                       ? fd_stripe_get_string (line, "currency")
                                       : preview->currency));
    }

  return preview;
}

static FdBillingPreview *
preview_from_credit_note (JsonObject *note)
{
  FdBillingPreview *preview = g_new0 (FdBillingPreview, 1);
  JsonArray *lines;

  preview->currency = dup_string (note, "currency");
  /* What the note credits: the invoice's amount due drops by it, or it goes back to the
   * customer when the invoice was paid. */
  preview->amount_due = fd_stripe_get_int (note, "amount", 0);
  preview->total = fd_stripe_get_int (note, "total", preview->amount_due);
  preview->lines = g_ptr_array_new_with_free_func (g_free);

  lines = fd_stripe_get_list_data (note, "lines");
  for (guint i = 0; lines != NULL && i < json_array_get_length (lines); i++)
    {
      JsonObject *line = json_array_get_object_element (lines, i);
      const char *description;

      if (line == NULL)
        continue;

      description = fd_stripe_get_string (line, "description");
      g_ptr_array_add (preview->lines,
                       preview_line (description != NULL ? description : _("Credit"),
                                     fd_stripe_get_int (line, "amount", 0), preview->currency));
    }

  if (preview->lines->len == 0)
    g_ptr_array_add (preview->lines, preview_line (_("Credit"), preview->amount_due, preview->currency));

  return preview;
}

static void
preview_change_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonObject) object = NULL;
  GError *error = NULL;

  object = fd_stripe_client_request_finish (FD_STRIPE_CLIENT (source), result, NULL, NULL, &error);
  if (object == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, preview_from_invoice (object), (GDestroyNotify) fd_billing_preview_free);
}

void
fd_billing_preview_change_async (FdStripeClient             *client,
                                 const FdStripeSubscription *subscription,
                                 const char                 *price_id,
                                 gint64                      quantity,
                                 const char                 *proration_behavior,
                                 GCancellable               *cancellable,
                                 GAsyncReadyCallback         callback,
                                 gpointer                    user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(FdStripeParams) params = NULL;
  const FdStripeSubscriptionItem *item;

  g_return_if_fail (FD_IS_STRIPE_CLIENT (client));
  g_return_if_fail (subscription != NULL && subscription->id != NULL);

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_preview_change_async);

  if (subscription->items == NULL || subscription->items->len == 0)
    {
      g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("This subscription has nothing to change."));
      return;
    }
  if (quantity < 0)
    {
      g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("The number of seats cannot be negative."));
      return;
    }

  /* The first item is the plan; add-ons come after it. */
  item = g_ptr_array_index (subscription->items, 0);

  params = fd_stripe_params_new ();
  fd_stripe_params_add (params, "subscription", subscription->id);
  fd_stripe_params_add (params, "subscription_items[0][id]", item->id);
  if (price_id != NULL)
    fd_stripe_params_add (params, "subscription_items[0][price]", price_id);
  if (quantity > 0)
    fd_stripe_params_add_int (params, "subscription_items[0][quantity]", quantity);
  if (proration_behavior != NULL)
    fd_stripe_params_add (params, "subscription_proration_behavior", proration_behavior);

  fd_stripe_client_request_async (client, "GET", "/v1/invoices/upcoming", params, NULL,
                                  cancellable, preview_change_cb, g_steal_pointer (&task));
}

FdBillingPreview *
fd_billing_preview_change_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_billing_preview_change_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
preview_credit_note_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonObject) object = NULL;
  GError *error = NULL;

  object = fd_stripe_client_request_finish (FD_STRIPE_CLIENT (source), result, NULL, NULL, &error);
  if (object == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, preview_from_credit_note (object), (GDestroyNotify) fd_billing_preview_free);
}

void
fd_billing_preview_credit_note_async (FdStripeClient        *client,
                                      const FdStripeInvoice *invoice,
                                      gint64                 amount,
                                      const char            *reason,
                                      GCancellable          *cancellable,
                                      GAsyncReadyCallback    callback,
                                      gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(FdStripeParams) params = NULL;

  g_return_if_fail (FD_IS_STRIPE_CLIENT (client));
  g_return_if_fail (invoice != NULL && invoice->id != NULL);

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_preview_credit_note_async);

  if (amount <= 0)
    {
      g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("Enter an amount above zero."));
      return;
    }

  params = fd_stripe_params_new ();
  fd_stripe_params_add (params, "invoice", invoice->id);
  fd_stripe_params_add_int (params, "amount", amount);
  if (reason != NULL)
    fd_stripe_params_add (params, "reason", reason);

  fd_stripe_client_request_async (client, "GET", "/v1/credit_notes/preview", params, NULL,
                                  cancellable, preview_credit_note_cb, g_steal_pointer (&task));
}

FdBillingPreview *
fd_billing_preview_credit_note_finish (GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_billing_preview_credit_note_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */
/* {{{ Actions */

static const struct
{
  const char          *name;
  FdStripePermissions  needs;
} action_kinds[] = {
  [FD_BILLING_ACTION_REFUND]               = { "refund",               FD_STRIPE_CAN_WRITE_REFUNDS },
  [FD_BILLING_ACTION_CANCEL_NOW]           = { "cancel_now",           FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS },
  [FD_BILLING_ACTION_CANCEL_AT_PERIOD_END] = { "cancel_at_period_end", FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS },
  [FD_BILLING_ACTION_UNDO_CANCEL]          = { "undo_cancel",          FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS },
  [FD_BILLING_ACTION_CHANGE_SUBSCRIPTION]  = { "change_subscription",  FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS },
  [FD_BILLING_ACTION_PAUSE_COLLECTION]     = { "pause_collection",     FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS },
  [FD_BILLING_ACTION_RESUME_COLLECTION]    = { "resume_collection",    FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS },
  [FD_BILLING_ACTION_PAY_INVOICE]          = { "pay_invoice",          FD_STRIPE_CAN_WRITE_INVOICES },
  [FD_BILLING_ACTION_SEND_INVOICE]         = { "send_invoice",         FD_STRIPE_CAN_WRITE_INVOICES },
  [FD_BILLING_ACTION_VOID_INVOICE]         = { "void_invoice",         FD_STRIPE_CAN_WRITE_INVOICES },
  [FD_BILLING_ACTION_MARK_UNCOLLECTIBLE]   = { "mark_uncollectible",   FD_STRIPE_CAN_WRITE_INVOICES },
  [FD_BILLING_ACTION_CREDIT_NOTE]          = { "credit_note",          FD_STRIPE_CAN_WRITE_CREDIT_NOTES },
  [FD_BILLING_ACTION_UPDATE_DISPUTE]       = { "update_dispute",       FD_STRIPE_CAN_WRITE_DISPUTES },
  [FD_BILLING_ACTION_CLOSE_DISPUTE]        = { "close_dispute",        FD_STRIPE_CAN_WRITE_DISPUTES },
};

static gboolean
kind_is_valid (FdBillingActionKind kind)
{
  return (guint) kind < G_N_ELEMENTS (action_kinds);
}

static gboolean
kind_from_string (const char          *name,
                  FdBillingActionKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (action_kinds); i++)
    if (g_strcmp0 (action_kinds[i].name, name) == 0)
      {
        *kind = (FdBillingActionKind) i;
        return TRUE;
      }

  return FALSE;
}

FdBillingAction *
fd_billing_action_new (FdBillingActionKind kind)
{
  FdBillingAction *action;

  g_return_val_if_fail (kind_is_valid (kind), NULL);

  action = g_new0 (FdBillingAction, 1);
  action->kind = kind;
  action->refundable = -1;

  return action;
}

void
fd_billing_action_free (FdBillingAction *action)
{
  if (action == NULL)
    return;

  g_free (action->customer_id);
  g_free (action->target_id);
  g_free (action->item_id);
  g_free (action->price_id);
  g_free (action->currency);
  g_free (action->reason);
  g_free (action->proration_behavior);
  g_free (action->pause_behavior);
  g_clear_pointer (&action->evidence, fd_stripe_params_free);
  g_free (action->agent);
  g_free (action);
}

FdStripePermissions
fd_billing_action_needs (FdBillingActionKind kind)
{
  g_return_val_if_fail (kind_is_valid (kind), FD_STRIPE_CAN_ALL);

  return action_kinds[kind].needs;
}

static gboolean
kind_moves_money (FdBillingActionKind kind)
{
  return kind == FD_BILLING_ACTION_REFUND || kind == FD_BILLING_ACTION_CREDIT_NOTE;
}

static gboolean
currency_is_valid (const char *currency)
{
  if (currency == NULL || strlen (currency) != 3)
    return FALSE;

  for (guint i = 0; i < 3; i++)
    if (!g_ascii_isalpha (currency[i]))
      return FALSE;

  return TRUE;
}

gboolean
fd_billing_action_validate (const FdBillingAction  *action,
                            GError                **error)
{
  g_return_val_if_fail (action != NULL, FALSE);
  g_return_val_if_fail (kind_is_valid (action->kind), FALSE);

  if (action->target_id == NULL || *action->target_id == '\0')
    {
      const char *message;

      switch (action->kind)
        {
        case FD_BILLING_ACTION_REFUND:
          message = _("Choose the payment to refund.");
          break;
        case FD_BILLING_ACTION_CANCEL_NOW:
        case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
        case FD_BILLING_ACTION_UNDO_CANCEL:
        case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
        case FD_BILLING_ACTION_PAUSE_COLLECTION:
        case FD_BILLING_ACTION_RESUME_COLLECTION:
          message = _("Choose the subscription first.");
          break;
        case FD_BILLING_ACTION_UPDATE_DISPUTE:
        case FD_BILLING_ACTION_CLOSE_DISPUTE:
          message = _("Choose the dispute first.");
          break;
        case FD_BILLING_ACTION_PAY_INVOICE:
        case FD_BILLING_ACTION_SEND_INVOICE:
        case FD_BILLING_ACTION_VOID_INVOICE:
        case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
        case FD_BILLING_ACTION_CREDIT_NOTE:
        default:
          message = _("Choose the invoice first.");
          break;
        }

      g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED, message);
      return FALSE;
    }

  if (kind_moves_money (action->kind))
    {
      if (action->amount <= 0)
        {
          g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("Enter an amount above zero."));
          return FALSE;
        }
      if (!currency_is_valid (action->currency))
        {
          g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("The currency is missing. Read the customer’s account again and retry."));
          return FALSE;
        }
    }

  if (action->kind == FD_BILLING_ACTION_REFUND)
    {
      if (action->refundable == 0)
        {
          g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("Nothing is left to refund on this payment."));
          return FALSE;
        }
      if (action->refundable > 0 && action->amount > action->refundable)
        {
          g_autofree char *amount = format_money_code (action->amount, action->currency);
          g_autofree char *left = format_money_code (action->refundable, action->currency);

          g_set_error (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                       /* Translators: "Cannot refund 60.00 EUR: only 45.00 EUR of this payment
                        * is left to refund." */
                       _("Cannot refund %s: only %s of this payment is left to refund."),
                       amount, left);
          return FALSE;
        }
      if (action->reason != NULL &&
          !g_str_equal (action->reason, "requested_by_customer") &&
          !g_str_equal (action->reason, "duplicate") &&
          !g_str_equal (action->reason, "fraudulent"))
        {
          g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("Choose why the payment is refunded: requested by the customer, "
                                 "a duplicate, or fraudulent."));
          return FALSE;
        }
    }

  if (action->kind == FD_BILLING_ACTION_CHANGE_SUBSCRIPTION)
    {
      if (action->item_id == NULL)
        {
          g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("This subscription has nothing to change."));
          return FALSE;
        }
      if (action->quantity < 0 || (action->quantity == 0 && action->price_id == NULL))
        {
          g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("Choose a new plan or a number of seats above zero."));
          return FALSE;
        }
    }

  if (action->kind == FD_BILLING_ACTION_PAUSE_COLLECTION && action->pause_behavior == NULL)
    {
      g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                           _("Choose what happens to invoices while collection is paused."));
      return FALSE;
    }

  return TRUE;
}

static void
add_metadata (FdStripeParams        *params,
              const FdBillingAction *action)
{
  if (action->conversation_id > 0)
    fd_stripe_params_add_int (params, "metadata[frontdesk_conversation]", action->conversation_id);
  if (action->agent != NULL)
    fd_stripe_params_add (params, "metadata[frontdesk_agent]", action->agent);
}

void
fd_billing_action_get_request (const FdBillingAction  *action,
                               const char            **method,
                               char                  **path,
                               FdStripeParams        **params)
{
  g_autoptr(FdStripeParams) p = NULL;
  g_autofree char *target = NULL;
  const char *m = "POST";
  char *request_path = NULL;

  g_return_if_fail (action != NULL);
  g_return_if_fail (kind_is_valid (action->kind));

  p = fd_stripe_params_new ();
  target = g_uri_escape_string (action->target_id != NULL ? action->target_id : "", NULL, FALSE);

  switch (action->kind)
    {
    case FD_BILLING_ACTION_REFUND:
      request_path = g_strdup ("/v1/refunds");
      fd_stripe_params_add (p, "charge", action->target_id);
      fd_stripe_params_add_int (p, "amount", action->amount);
      if (action->reason != NULL)
        fd_stripe_params_add (p, "reason", action->reason);
      add_metadata (p, action);
      break;

    case FD_BILLING_ACTION_CANCEL_NOW:
      m = "DELETE";
      request_path = g_strconcat ("/v1/subscriptions/", target, NULL);
      break;

    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
    case FD_BILLING_ACTION_UNDO_CANCEL:
      request_path = g_strconcat ("/v1/subscriptions/", target, NULL);
      fd_stripe_params_add (p, "cancel_at_period_end",
                            action->kind == FD_BILLING_ACTION_CANCEL_AT_PERIOD_END ? "true" : "false");
      add_metadata (p, action);
      break;

    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
      request_path = g_strconcat ("/v1/subscriptions/", target, NULL);
      fd_stripe_params_add (p, "items[0][id]", action->item_id);
      if (action->price_id != NULL)
        fd_stripe_params_add (p, "items[0][price]", action->price_id);
      if (action->quantity > 0)
        fd_stripe_params_add_int (p, "items[0][quantity]", action->quantity);
      if (action->proration_behavior != NULL)
        fd_stripe_params_add (p, "proration_behavior", action->proration_behavior);
      add_metadata (p, action);
      break;

    case FD_BILLING_ACTION_PAUSE_COLLECTION:
      request_path = g_strconcat ("/v1/subscriptions/", target, NULL);
      fd_stripe_params_add (p, "pause_collection[behavior]", action->pause_behavior);
      add_metadata (p, action);
      break;

    case FD_BILLING_ACTION_RESUME_COLLECTION:
      request_path = g_strconcat ("/v1/subscriptions/", target, NULL);
      /* An empty value is how Stripe unsets a field. */
      fd_stripe_params_add (p, "pause_collection", "");
      add_metadata (p, action);
      break;

    case FD_BILLING_ACTION_PAY_INVOICE:
      request_path = g_strconcat ("/v1/invoices/", target, "/pay", NULL);
      break;

    case FD_BILLING_ACTION_SEND_INVOICE:
      request_path = g_strconcat ("/v1/invoices/", target, "/send", NULL);
      break;

    case FD_BILLING_ACTION_VOID_INVOICE:
      request_path = g_strconcat ("/v1/invoices/", target, "/void", NULL);
      break;

    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      request_path = g_strconcat ("/v1/invoices/", target, "/mark_uncollectible", NULL);
      break;

    case FD_BILLING_ACTION_CREDIT_NOTE:
      request_path = g_strdup ("/v1/credit_notes");
      fd_stripe_params_add (p, "invoice", action->target_id);
      fd_stripe_params_add_int (p, "amount", action->amount);
      if (action->reason != NULL)
        fd_stripe_params_add (p, "reason", action->reason);
      add_metadata (p, action);
      break;

    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      request_path = g_strconcat ("/v1/disputes/", target, NULL);
      for (guint i = 0; action->evidence != NULL && i < fd_stripe_params_get_length (action->evidence); i++)
        {
          const char *name = fd_stripe_params_get_name (action->evidence, i);
          const char *value = fd_stripe_params_get_value (action->evidence, i);

          if (g_str_has_prefix (name, "evidence["))
            {
              fd_stripe_params_add (p, name, value);
            }
          else
            {
              g_autofree char *nested = g_strdup_printf ("evidence[%s]", name);

              fd_stripe_params_add (p, nested, value);
            }
        }
      fd_stripe_params_add (p, "submit", action->submit ? "true" : "false");
      add_metadata (p, action);
      break;

    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      request_path = g_strconcat ("/v1/disputes/", target, "/close", NULL);
      break;

    default:
      g_assert_not_reached ();
    }

  if (method != NULL)
    *method = m;
  if (path != NULL)
    *path = request_path;
  else
    g_free (request_path);
  if (params != NULL)
    *params = g_steal_pointer (&p);
}

char *
fd_billing_action_describe (const FdBillingAction *action)
{
  g_autofree char *amount = NULL;
  const char *target;

  g_return_val_if_fail (action != NULL, NULL);
  g_return_val_if_fail (kind_is_valid (action->kind), NULL);

  target = action->target_id != NULL ? action->target_id : "";
  if (action->amount > 0 && action->currency != NULL)
    amount = format_money_code (action->amount, action->currency);

  switch (action->kind)
    {
    case FD_BILLING_ACTION_REFUND:
      if (action->refundable > action->amount)
        {
          g_autofree char *left = format_money_code (action->refundable - action->amount,
                                                             action->currency);

          /* Translators: "Refund 45.00 EUR of payment ch_123; 54.00 EUR of it can still be
           * refunded later. This cannot be undone." */
          return g_strdup_printf (_("Refund %s of payment %s; %s of it can still be refunded later. "
                                    "This cannot be undone."),
                                  amount, target, left);
        }
      /* Translators: "Refund 45.00 EUR of payment ch_123. This cannot be undone." */
      return g_strdup_printf (_("Refund %s of payment %s. This cannot be undone."), amount, target);

    case FD_BILLING_ACTION_CANCEL_NOW:
      return g_strdup_printf (_("Cancel subscription %s now. It ends at once and this cannot be undone."),
                              target);

    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
      return g_strdup_printf (_("Cancel subscription %s at the end of the current period. "
                                "Until then it can be kept."),
                              target);

    case FD_BILLING_ACTION_UNDO_CANCEL:
      return g_strdup_printf (_("Keep subscription %s: its scheduled cancellation is removed."), target);

    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
      {
        g_autofree char *change = NULL;
        const char *proration;

        if (action->quantity > 0 && action->price_id != NULL)
          change = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                 "Change subscription %s to price %s with %d seat.",
                                                 "Change subscription %s to price %s with %d seats.",
                                                 (int) action->quantity),
                                    target, action->price_id, (int) action->quantity);
        else if (action->quantity > 0)
          change = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                 "Change subscription %s to %d seat.",
                                                 "Change subscription %s to %d seats.",
                                                 (int) action->quantity),
                                    target, (int) action->quantity);
        else
          change = g_strdup_printf (_("Change subscription %s to price %s."), target,
                                    action->price_id != NULL ? action->price_id : "");

        if (g_strcmp0 (action->proration_behavior, "none") == 0)
          proration = _("No proration: the new price applies from the next period.");
        else if (g_strcmp0 (action->proration_behavior, "always_invoice") == 0)
          proration = _("The difference for the rest of this period is invoiced at once.");
        else
          proration = _("The difference for the rest of this period is added to the next invoice.");

        return g_strdup_printf ("%s %s", change, proration);
      }

    case FD_BILLING_ACTION_PAUSE_COLLECTION:
      if (g_strcmp0 (action->pause_behavior, "void") == 0)
        return g_strdup_printf (_("Pause payment collection on subscription %s. New invoices are voided."),
                                target);
      if (g_strcmp0 (action->pause_behavior, "mark_uncollectible") == 0)
        return g_strdup_printf (_("Pause payment collection on subscription %s. New invoices are "
                                  "marked uncollectible."),
                                target);
      return g_strdup_printf (_("Pause payment collection on subscription %s. New invoices stay drafts."),
                              target);

    case FD_BILLING_ACTION_RESUME_COLLECTION:
      return g_strdup_printf (_("Resume payment collection on subscription %s."), target);

    case FD_BILLING_ACTION_PAY_INVOICE:
      return g_strdup_printf (_("Charge invoice %s again with the customer’s default payment method."),
                              target);

    case FD_BILLING_ACTION_SEND_INVOICE:
      return g_strdup_printf (_("Email invoice %s to the customer."), target);

    case FD_BILLING_ACTION_VOID_INVOICE:
      return g_strdup_printf (_("Void invoice %s. It can no longer be paid and this cannot be undone."),
                              target);

    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      return g_strdup_printf (_("Mark invoice %s as uncollectible. It can still be paid later."), target);

    case FD_BILLING_ACTION_CREDIT_NOTE:
      /* Translators: "Issue a credit note of 10.00 EUR on invoice in_123. This cannot be undone." */
      return g_strdup_printf (_("Issue a credit note of %s on invoice %s. This cannot be undone."),
                              amount, target);

    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      if (action->submit)
        return g_strdup_printf (_("Submit the evidence for dispute %s to the bank. "
                                  "It cannot be changed afterwards."),
                                target);
      return g_strdup_printf (_("Save the evidence for dispute %s as a draft. Nothing is sent to "
                                "the bank yet."),
                              target);

    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      if (amount != NULL)
        /* Translators: "Accept the loss of 45.00 EUR in dispute du_123. This cannot be undone." */
        return g_strdup_printf (_("Accept the loss of %s in dispute %s. This cannot be undone."),
                                amount, target);
      return g_strdup_printf (_("Accept the loss in dispute %s. This cannot be undone."), target);

    default:
      g_assert_not_reached ();
    }
}

void
fd_billing_outcome_free (FdBillingOutcome *outcome)
{
  if (outcome == NULL)
    return;

  g_free (outcome->idempotency_key);
  g_free (outcome->request_id);
  g_clear_pointer (&outcome->object, json_object_unref);
  g_free (outcome->note);
  g_free (outcome);
}

void
fd_billing_pending_action_free (FdBillingPendingAction *pending)
{
  if (pending == NULL)
    return;

  g_free (pending->kind);
  g_free (pending->target_id);
  g_free (pending->description);
  g_free (pending);
}

/* }}} */
/* {{{ Running actions */

/* One row of billing_actions, as written before sending or read back for a retry. */
typedef struct
{
  gint64  id;
  char   *kind;
  char   *customer_id;
  char   *target_id;
  gint64  conversation_id;
  char   *method;
  char   *path;
  char   *params_json;
  char   *idempotency_key;
  char   *description;
  gint64  amount;             /* 0: none */
  char   *currency;
  char   *agent;
  char   *state;
  gint64  attempts;
} ActionRow;

static void
action_row_free (ActionRow *row)
{
  if (row == NULL)
    return;

  g_free (row->kind);
  g_free (row->customer_id);
  g_free (row->target_id);
  g_free (row->method);
  g_free (row->path);
  g_free (row->params_json);
  g_free (row->idempotency_key);
  g_free (row->description);
  g_free (row->currency);
  g_free (row->agent);
  g_free (row->state);
  g_free (row);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ActionRow, action_row_free)

typedef struct
{
  FdStore        *store;
  FdStripeClient *client;
  ActionRow      *row;
  FdStripeParams *params;
  char           *request_id;
  JsonObject     *object;
  GError         *error;        /* the send's failure, returned once it is recorded */
} RunData;

static void
run_data_free (RunData *data)
{
  g_clear_object (&data->store);
  g_clear_object (&data->client);
  g_clear_pointer (&data->row, action_row_free);
  g_clear_pointer (&data->params, fd_stripe_params_free);
  g_free (data->request_id);
  g_clear_pointer (&data->object, json_object_unref);
  g_clear_error (&data->error);
  g_free (data);
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static gboolean
insert_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  ActionRow *row = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now_ms = g_get_real_time () / 1000;
  int rc;

  /* A conversation that is not (or no longer) in the store is not a reason to refuse. */
  stmt = fd_store_prepare (db,
                           "INSERT INTO billing_actions (kind, customer_id, target_id, conversation_id,"
                           " method, path, params_json, idempotency_key, description, amount, currency,"
                           " agent, state, attempts, created_at, updated_at) "
                           "VALUES (?1, ?2, ?3, (SELECT id FROM conversations WHERE id = ?4), ?5, ?6, ?7,"
                           " ?8, ?9, ?10, ?11, ?12, 'sending', 1, ?13, ?13)",
                           error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, row->kind);
  bind_text (stmt, 2, row->customer_id);
  bind_text (stmt, 3, row->target_id);
  sqlite3_bind_int64 (stmt, 4, row->conversation_id);
  bind_text (stmt, 5, row->method);
  bind_text (stmt, 6, row->path);
  bind_text (stmt, 7, row->params_json);
  bind_text (stmt, 8, row->idempotency_key);
  bind_text (stmt, 9, row->description);
  if (row->amount > 0)
    sqlite3_bind_int64 (stmt, 10, row->amount);
  else
    sqlite3_bind_null (stmt, 10);
  bind_text (stmt, 11, row->currency);
  bind_text (stmt, 12, row->agent);
  sqlite3_bind_int64 (stmt, 13, now_ms);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *result = g_memdup2 (&(gint64) { sqlite3_last_insert_rowid (db) }, sizeof (gint64));
  return TRUE;
}

/* Reads a row to send again, and counts the attempt in the same step. */
static gboolean
claim_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  gint64 id = *(gint64 *) job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(ActionRow) row = NULL;
  int rc;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db,
                           "SELECT kind, customer_id, target_id, COALESCE(conversation_id, 0), method,"
                           " path, params_json, idempotency_key, description, COALESCE(amount, 0),"
                           " currency, agent, state, attempts "
                           "FROM billing_actions WHERE id = ?",
                           error);
  if (stmt == NULL)
    goto fail;

  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                           _("This billing action is no longer in the store."));
      goto fail;
    }
  if (rc != SQLITE_ROW)
    {
      fd_store_set_error (db, rc, error);
      goto fail;
    }

  row = g_new0 (ActionRow, 1);
  row->id = id;
  row->kind = column_dup (stmt, 0);
  row->customer_id = column_dup (stmt, 1);
  row->target_id = column_dup (stmt, 2);
  row->conversation_id = sqlite3_column_int64 (stmt, 3);
  row->method = column_dup (stmt, 4);
  row->path = column_dup (stmt, 5);
  row->params_json = column_dup (stmt, 6);
  row->idempotency_key = column_dup (stmt, 7);
  row->description = column_dup (stmt, 8);
  row->amount = sqlite3_column_int64 (stmt, 9);
  row->currency = column_dup (stmt, 10);
  row->agent = column_dup (stmt, 11);
  row->state = column_dup (stmt, 12);
  row->attempts = sqlite3_column_int64 (stmt, 13) + 1;

  /* Only an action whose outcome is unknown is sent again: a done one would be answered
   * the same way, and a failed one was refused and would be refused again. */
  if (g_strcmp0 (row->state, "done") == 0)
    {
      g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                           _("This billing action was already completed."));
      goto fail;
    }
  if (g_strcmp0 (row->state, "sending") != 0)
    {
      g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                           _("Stripe refused this billing action; start it again instead."));
      goto fail;
    }

  update = fd_store_prepare (db,
                             "UPDATE billing_actions SET attempts = ?2, updated_at = ?3 WHERE id = ?1",
                             error);
  if (update == NULL)
    goto fail;
  sqlite3_bind_int64 (update, 1, id);
  sqlite3_bind_int64 (update, 2, row->attempts);
  sqlite3_bind_int64 (update, 3, g_get_real_time () / 1000);
  rc = sqlite3_step (update);
  if (rc != SQLITE_DONE)
    {
      fd_store_set_error (db, rc, error);
      goto fail;
    }

  if (!fd_store_commit (db, error))
    goto fail;

  *result = g_steal_pointer (&row);
  return TRUE;

fail:
  fd_store_rollback (db);
  return FALSE;
}

typedef struct
{
  gint64      id;
  const char *state;          /* NULL: unchanged (the outcome is still unknown) */
  char       *request_id;
  char       *result_id;
  char       *last_error;
  char       *actor;
  char       *audit_action;   /* NULL: no audit entry */
  char       *subject;
  char       *detail_json;
} RecordJob;

static void
record_job_free (RecordJob *job)
{
  g_free (job->request_id);
  g_free (job->result_id);
  g_free (job->last_error);
  g_free (job->actor);
  g_free (job->audit_action);
  g_free (job->subject);
  g_free (job->detail_json);
  g_free (job);
}

static gboolean
record_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  RecordJob *job = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db,
                           "UPDATE billing_actions SET state = COALESCE(?2, state),"
                           " request_id = COALESCE(?3, request_id), result_id = COALESCE(?4, result_id),"
                           " last_error = ?5, updated_at = ?6 WHERE id = ?1",
                           error);
  if (stmt == NULL)
    goto fail;

  sqlite3_bind_int64 (stmt, 1, job->id);
  bind_text (stmt, 2, job->state);
  bind_text (stmt, 3, job->request_id);
  bind_text (stmt, 4, job->result_id);
  bind_text (stmt, 5, job->last_error);
  sqlite3_bind_int64 (stmt, 6, g_get_real_time () / 1000);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      fd_store_set_error (db, rc, error);
      goto fail;
    }

  if (job->audit_action != NULL &&
      !fd_store_audit (db, job->actor, job->audit_action, job->subject, job->detail_json, error))
    goto fail;

  if (!fd_store_commit (db, error))
    goto fail;

  *result = GINT_TO_POINTER (TRUE);
  return TRUE;

fail:
  fd_store_rollback (db);
  return FALSE;
}

static void
add_string (JsonBuilder *builder,
            const char  *value)
{
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* Who, what, how much, and how to find it in Stripe; never the key. */
static char *
audit_detail (const ActionRow *row,
              const char      *request_id,
              const char      *result_id,
              const GError    *error,
              FdStripeFailure *failure)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *request = g_strdup_printf ("%s %s", row->method, row->path);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "billing_action");
  json_builder_add_int_value (builder, row->id);
  json_builder_set_member_name (builder, "customer");
  add_string (builder, row->customer_id);
  if (row->amount > 0)
    {
      json_builder_set_member_name (builder, "amount");
      json_builder_add_int_value (builder, row->amount);
    }
  if (row->currency != NULL)
    {
      json_builder_set_member_name (builder, "currency");
      add_string (builder, row->currency);
    }
  json_builder_set_member_name (builder, "request");
  add_string (builder, request);
  json_builder_set_member_name (builder, "idempotency_key");
  add_string (builder, row->idempotency_key);
  json_builder_set_member_name (builder, "request_id");
  add_string (builder, request_id);
  json_builder_set_member_name (builder, "result_id");
  add_string (builder, result_id);
  json_builder_set_member_name (builder, "attempts");
  json_builder_add_int_value (builder, row->attempts);
  if (row->conversation_id > 0)
    {
      json_builder_set_member_name (builder, "conversation");
      json_builder_add_int_value (builder, row->conversation_id);
    }
  json_builder_set_member_name (builder, "description");
  add_string (builder, row->description);
  if (error != NULL)
    {
      json_builder_set_member_name (builder, "error");
      add_string (builder, error->message);
    }
  if (failure != NULL)
    {
      json_builder_set_member_name (builder, "stripe_code");
      add_string (builder, failure->decline_code != NULL ? failure->decline_code : failure->code);
      json_builder_set_member_name (builder, "stripe_message");
      add_string (builder, failure->message);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/* The internal note offered for the conversation, from what was stored and answered. */
static char *
outcome_note (const ActionRow      *row,
              const FdStripeParams *params,
              JsonObject           *object,
              const char           *request_id)
{
  const char *target = row->target_id != NULL ? row->target_id : "";
  const char *result_id = object != NULL ? fd_stripe_get_string (object, "id") : NULL;
  FdBillingActionKind kind = FD_BILLING_ACTION_REFUND;
  g_autofree char *what = NULL;
  g_autofree char *amount = NULL;
  gint64 minor = row->amount;
  const char *currency = row->currency;

  /* What Stripe says it did wins over what was asked. */
  if (object != NULL && fd_stripe_get_int (object, "amount", 0) > 0 &&
      fd_stripe_get_string (object, "currency") != NULL)
    {
      minor = fd_stripe_get_int (object, "amount", 0);
      currency = fd_stripe_get_string (object, "currency");
    }
  if (minor > 0 && currency != NULL)
    amount = format_money_code (minor, currency);
  if (result_id == NULL)
    result_id = target;

  kind_from_string (row->kind, &kind);
  switch (kind)
    {
    case FD_BILLING_ACTION_REFUND:
      /* Translators: "Refunded 45.00 EUR (payment ch_…, refund re_…)." */
      what = g_strdup_printf (_("Refunded %s (payment %s, refund %s)."),
                              amount != NULL ? amount : "", target, result_id);
      break;
    case FD_BILLING_ACTION_CANCEL_NOW:
      what = g_strdup_printf (_("Canceled subscription %s at once."), target);
      break;
    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
      {
        gint64 at = object != NULL ? fd_stripe_get_int (object, "cancel_at", 0) : 0;

        if (at == 0 && object != NULL)
          at = fd_stripe_get_int (object, "current_period_end", 0);
        if (at != 0)
          {
            g_autofree char *date = format_date (at);

            what = g_strdup_printf (_("Subscription %s will cancel on %s."), target, date);
          }
        else
          {
            what = g_strdup_printf (_("Subscription %s will cancel at the end of the current period."),
                                    target);
          }
      }
      break;
    case FD_BILLING_ACTION_UNDO_CANCEL:
      what = g_strdup_printf (_("Removed the scheduled cancellation of subscription %s."), target);
      break;
    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
      {
        const char *quantity = fd_stripe_params_lookup (params, "items[0][quantity]");
        const char *price = fd_stripe_params_lookup (params, "items[0][price]");

        if (quantity != NULL)
          {
            int n = (int) g_ascii_strtoll (quantity, NULL, 10);

            what = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Changed subscription %s to %d seat.",
                                                 "Changed subscription %s to %d seats.", n),
                                    target, n);
          }
        else
          {
            what = g_strdup_printf (_("Changed subscription %s to price %s."), target, price ? price : "");
          }
      }
      break;
    case FD_BILLING_ACTION_PAUSE_COLLECTION:
      what = g_strdup_printf (_("Paused payment collection on subscription %s."), target);
      break;
    case FD_BILLING_ACTION_RESUME_COLLECTION:
      what = g_strdup_printf (_("Resumed payment collection on subscription %s."), target);
      break;
    case FD_BILLING_ACTION_PAY_INVOICE:
      {
        gint64 paid = object != NULL ? fd_stripe_get_int (object, "amount_paid", 0) : 0;

        if (paid > 0)
          {
            g_autofree char *money = format_money_code (paid, fd_stripe_get_string (object, "currency"));

            what = g_strdup_printf (_("Invoice %s was paid: %s."), target, money);
          }
        else
          {
            what = g_strdup_printf (_("Charged invoice %s again."), target);
          }
      }
      break;
    case FD_BILLING_ACTION_SEND_INVOICE:
      what = g_strdup_printf (_("Emailed invoice %s to the customer."), target);
      break;
    case FD_BILLING_ACTION_VOID_INVOICE:
      what = g_strdup_printf (_("Voided invoice %s."), target);
      break;
    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      what = g_strdup_printf (_("Marked invoice %s as uncollectible."), target);
      break;
    case FD_BILLING_ACTION_CREDIT_NOTE:
      /* Translators: "Issued credit note cn_… of 10.00 EUR on invoice in_…." */
      what = g_strdup_printf (_("Issued credit note %s of %s on invoice %s."),
                              result_id, amount != NULL ? amount : "", target);
      break;
    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      if (g_strcmp0 (fd_stripe_params_lookup (params, "submit"), "true") == 0)
        what = g_strdup_printf (_("Submitted the evidence for dispute %s."), target);
      else
        what = g_strdup_printf (_("Saved draft evidence for dispute %s."), target);
      break;
    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      what = g_strdup_printf (_("Accepted the loss in dispute %s."), target);
      break;
    default:
      g_assert_not_reached ();
    }

  if (request_id == NULL)
    return g_steal_pointer (&what);

  /* Translators: the first %s is a sentence such as "Voided invoice in_…."; the second a
   * Stripe request id (req_…) that Stripe's support can look up */
  return g_strdup_printf (_("%s Stripe request %s."), what, request_id);
}

/* Whether Stripe may have done it: no answer, a server error, an answer cut short. */
static gboolean
outcome_is_unknown (const GError *error)
{
  if (error->domain != FD_STRIPE_ERROR)
    return TRUE;

  return error->code == FD_STRIPE_ERROR_NETWORK ||
         error->code == FD_STRIPE_ERROR_SERVER ||
         error->code == FD_STRIPE_ERROR_BAD_RESPONSE;
}

static void
run_recorded_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  FdBillingOutcome *outcome;

  fd_store_run_finish (FD_STORE (source), result, &error);

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  if (error != NULL)
    {
      /* Stripe did it; the row stays 'sending', so Retry asks Stripe again with the same
       * key, gets the same answer, and records it then. */
      g_task_return_new_error (task, error->domain, error->code,
                               _("Stripe completed the action, but it could not be recorded: %s "
                                 "Retry to record it; it will not be done twice."),
                               error->message);
      return;
    }

  outcome = g_new0 (FdBillingOutcome, 1);
  outcome->action_id = data->row->id;
  outcome->idempotency_key = g_strdup (data->row->idempotency_key);
  outcome->request_id = g_strdup (data->request_id);
  outcome->object = json_object_ref (data->object);
  outcome->note = outcome_note (data->row, data->params, data->object, data->request_id);

  g_task_return_pointer (task, outcome, (GDestroyNotify) fd_billing_outcome_free);
}

static void
run_sent_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  ActionRow *row = data->row;
  g_autoptr(FdStripeFailure) failure = NULL;
  g_autofree char *request_id = NULL;
  GError *error = NULL;
  RecordJob *job;

  data->object = fd_stripe_client_request_finish (FD_STRIPE_CLIENT (source), result, &request_id,
                                                  &failure, &error);

  job = g_new0 (RecordJob, 1);
  job->id = row->id;
  job->actor = g_strdup (row->agent != NULL ? row->agent : "frontdesk");
  job->subject = g_strdup (row->target_id);

  if (data->object != NULL)
    {
      const char *result_id = fd_stripe_get_string (data->object, "id");

      data->request_id = g_steal_pointer (&request_id);
      job->state = "done";
      job->request_id = g_strdup (data->request_id);
      job->result_id = g_strdup (result_id);
      job->audit_action = g_strconcat ("billing.", row->kind, NULL);
      job->detail_json = audit_detail (row, data->request_id, result_id, NULL, NULL);
    }
  else if (outcome_is_unknown (error))
    {
      /* Left 'sending': only the same key, sent again, can tell what happened. */
      job->last_error = g_strdup (error->message);
      data->error = error;
    }
  else
    {
      if (request_id == NULL && failure != NULL)
        request_id = g_strdup (failure->request_id);

      job->state = "failed";
      job->request_id = g_strdup (request_id);
      job->last_error = g_strdup (error->message);
      job->audit_action = g_strconcat ("billing.", row->kind, ".failed", NULL);
      job->detail_json = audit_detail (row, request_id, NULL, error, failure);
      data->error = error;
    }

  /* The outcome is written whatever the caller's cancellable says. */
  fd_store_run_async (data->store, record_job, job, (GDestroyNotify) record_job_free, NULL,
                      NULL, run_recorded_cb, g_steal_pointer (&task));
}

static void
run_send (GTask *task)
{
  RunData *data = g_task_get_task_data (task);

  fd_stripe_client_request_async (data->client, data->row->method, data->row->path, data->params,
                                  data->row->idempotency_key, g_task_get_cancellable (task),
                                  run_sent_cb, task);
}

static void
run_inserted_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autofree gint64 *id = NULL;
  GError *error = NULL;

  id = fd_store_run_finish (FD_STORE (source), result, &error);
  if (id == NULL)
    {
      /* Nothing was sent: without the stored key a retry could not be safe. */
      g_task_return_error (task, error);
      return;
    }

  data->row->id = *id;
  run_send (g_steal_pointer (&task));
}

static void
run_insert (GTask *task)
{
  RunData *data = g_task_get_task_data (task);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  /* The row belongs to the task, which waits for the job: NULL frees nothing. */
  fd_store_run_async (data->store, insert_job, data->row, NULL, g_free, NULL,
                      run_inserted_cb, task);
}

/* A refund is checked against the charge as it is now, not as it was read: another
 * agent may have refunded part of it since. */
static void
run_checked_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GError) error = NULL;

  object = fd_stripe_client_request_finish (FD_STRIPE_CLIENT (source), result, NULL, NULL, &error);
  if (object != NULL)
    {
      g_autoptr(FdStripeCharge) charge = fd_stripe_charge_from_json (object);
      gint64 refundable = fd_stripe_charge_refundable (charge);

      if (charge->currency == NULL || g_ascii_strcasecmp (charge->currency, data->row->currency) != 0)
        {
          g_autofree char *theirs = fd_currency_code (charge->currency != NULL ? charge->currency : "");
          g_autofree char *ours = fd_currency_code (data->row->currency);

          g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                                   /* Translators: "This payment is in EUR, not USD. Nothing was refunded." */
                                   _("This payment is in %s, not %s. Nothing was refunded."),
                                   theirs, ours);
          return;
        }
      if (data->row->amount > refundable)
        {
          g_autofree char *amount = format_money_code (data->row->amount, charge->currency);
          g_autofree char *left = format_money_code (refundable, charge->currency);

          g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                                   _("Cannot refund %s: only %s of this payment is left to refund."),
                                   amount, left);
          return;
        }
    }
  else if (!g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_PERMISSION))
    {
      /* A key that may refund but not read charges relies on the remainder as read. */
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  run_insert (g_steal_pointer (&task));
}

void
fd_billing_run_action_async (FdStore               *store,
                             FdStripeClient        *client,
                             const FdBillingAction *action,
                             GCancellable          *cancellable,
                             GAsyncReadyCallback    callback,
                             gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  const char *method = NULL;
  ActionRow *row;
  RunData *data;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (FD_IS_STRIPE_CLIENT (client));
  g_return_if_fail (action != NULL);

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_run_action_async);

  if (!fd_billing_action_validate (action, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  row = g_new0 (ActionRow, 1);
  row->kind = g_strdup (action_kinds[action->kind].name);
  row->customer_id = g_strdup (action->customer_id);
  row->target_id = g_strdup (action->target_id);
  row->conversation_id = action->conversation_id;
  row->idempotency_key = g_uuid_string_random ();
  row->description = fd_billing_action_describe (action);
  row->amount = action->amount > 0 ? action->amount : 0;
  row->currency = action->currency != NULL ? g_ascii_strdown (action->currency, -1) : NULL;
  row->agent = g_strdup (action->agent);
  row->state = g_strdup ("sending");
  row->attempts = 1;

  data = g_new0 (RunData, 1);
  data->store = g_object_ref (store);
  data->client = g_object_ref (client);
  data->row = row;
  fd_billing_action_get_request (action, &method, &row->path, &data->params);
  row->method = g_strdup (method);
  row->params_json = fd_stripe_params_to_json (data->params);
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  if (action->kind == FD_BILLING_ACTION_REFUND)
    {
      g_autofree char *escaped = g_uri_escape_string (action->target_id, NULL, FALSE);
      g_autofree char *path = g_strconcat ("/v1/charges/", escaped, NULL);

      fd_stripe_client_request_async (client, "GET", path, NULL, NULL, cancellable,
                                      run_checked_cb, g_steal_pointer (&task));
      return;
    }

  run_insert (g_steal_pointer (&task));
}

FdBillingOutcome *
fd_billing_run_action_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_billing_run_action_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
retry_claimed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->row = fd_store_run_finish (FD_STORE (source), result, &error);
  if (data->row == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  data->params = fd_stripe_params_from_json (data->row->params_json, &error);
  if (data->params == NULL)
    {
      g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                               _("This billing action’s stored request is damaged; it was not sent again. "
                                 "Check the customer’s account in Stripe."));
      g_error_free (error);
      return;
    }

  run_send (g_steal_pointer (&task));
}

void
fd_billing_retry_action_async (FdStore             *store,
                               FdStripeClient      *client,
                               gint64               action_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  RunData *data;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (FD_IS_STRIPE_CLIENT (client));
  g_return_if_fail (action_id > 0);

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_retry_action_async);

  data = g_new0 (RunData, 1);
  data->store = g_object_ref (store);
  data->client = g_object_ref (client);
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  fd_store_run_async (store, claim_job, g_memdup2 (&action_id, sizeof action_id), g_free,
                      (GDestroyNotify) action_row_free, NULL, retry_claimed_cb, g_steal_pointer (&task));
}

FdBillingOutcome *
fd_billing_retry_action_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_billing_retry_action_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
list_unfinished_job (sqlite3   *db,
                     gpointer   job_data,
                     gpointer  *result,
                     GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT id, kind, target_id, description, created_at FROM billing_actions "
                           "WHERE state = 'sending' ORDER BY id",
                           error);
  if (stmt == NULL)
    return FALSE;

  pending = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_billing_pending_action_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FdBillingPendingAction *action = g_new0 (FdBillingPendingAction, 1);

      action->id = sqlite3_column_int64 (stmt, 0);
      action->kind = column_dup (stmt, 1);
      action->target_id = column_dup (stmt, 2);
      action->description = column_dup (stmt, 3);
      action->created_at = sqlite3_column_int64 (stmt, 4);
      g_ptr_array_add (pending, action);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *result = g_steal_pointer (&pending);
  return TRUE;
}

static void
list_unfinished_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GPtrArray *pending;
  GError *error = NULL;

  pending = fd_store_run_finish (FD_STORE (source), result, &error);
  if (pending == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, pending, (GDestroyNotify) g_ptr_array_unref);
}

void
fd_billing_list_unfinished_async (FdStore             *store,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_STORE (store));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_list_unfinished_async);

  fd_store_run_async (store, list_unfinished_job, NULL, NULL, (GDestroyNotify) g_ptr_array_unref,
                      cancellable, list_unfinished_cb, g_steal_pointer (&task));
}

GPtrArray *
fd_billing_list_unfinished_finish (FdStore       *store,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_billing_list_unfinished_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */
/* {{{ The configured Stripe account */

static void
open_secret_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  const char *base_url = g_task_get_task_data (task);
  GError *error = NULL;
  char *key;

  key = fd_secrets_lookup_finish (result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (key == NULL)
    {
      g_task_return_new_error (task, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_NO_SECRET,
                               _("The keyring has no key for the Stripe account. Enter it again in "
                                 "Preferences → Accounts."));
      return;
    }
  if (fd_stripe_key_kind (key, NULL) == FD_STRIPE_KEY_INVALID)
    {
      secret_password_free (key);
      g_task_return_new_error (task, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_NO_SECRET,
                               _("The Stripe key in the keyring is not a secret (sk_…) or restricted "
                                 "(rk_…) key. Enter it again in Preferences → Accounts."));
      return;
    }

  g_task_return_pointer (task, fd_stripe_client_new (base_url, key), g_object_unref);
  secret_password_free (key);
}

static void
open_accounts_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GListStore) accounts = NULL;
  GError *error = NULL;

  accounts = fd_account_list_finish (FD_STORE (source), result, &error);
  if (accounts == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (accounts)); i++)
    {
      g_autoptr(FdAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), i);

      if (fd_account_get_kind (account) != FD_ACCOUNT_KIND_STRIPE)
        continue;

      GCancellable *cancellable = g_task_get_cancellable (task);

      g_task_set_task_data (task, g_strdup (fd_account_get_base_url (account)), g_free);
      fd_secrets_lookup_async (fd_account_get_uid (account), cancellable,
                               open_secret_cb, g_steal_pointer (&task));
      return;
    }

  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("No Stripe account is connected. Add one in Preferences → Accounts."));
}

void
fd_billing_open_client_async (FdStore             *store,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_STORE (store));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_open_client_async);

  fd_account_list_async (store, cancellable, open_accounts_cb, g_steal_pointer (&task));
}

FdStripeClient *
fd_billing_open_client_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_billing_open_client_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */
