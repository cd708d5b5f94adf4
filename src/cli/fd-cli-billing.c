/* fd-cli-billing.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * frontdesk-cli billing lookup: a customer's Stripe account as a support agent needs it,
 * read through the same engine as the billing panel.
 */

#define G_LOG_DOMAIN "frontdesk-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "fd-billing.h"
#include "fd-cli-private.h"
#include "fd-money.h"
#include "fd-paths.h"
#include "fd-store.h"
#include "fd-stripe-error.h"

/* How many failed payments lookup shows, newest first. */
#define MAX_FAILED_PAYMENTS 10

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

/* {{{ Words */

static const char *
state_to_string (FdBillingState state)
{
  switch (state)
    {
    case FD_BILLING_HEALTHY:
      return "healthy";
    case FD_BILLING_TRIAL:
      return "trial";
    case FD_BILLING_PAYMENT_FAILING:
      return "payment_failing";
    case FD_BILLING_DISPUTED:
      return "disputed";
    case FD_BILLING_CANCELING:
      return "canceling";
    case FD_BILLING_CANCELED:
      return "canceled";
    case FD_BILLING_NO_SUBSCRIPTION:
    default:
      return "no_subscription";
    }
}

/* Stripe's times are UTC seconds; people read dates in their own time zone. */
static char *
format_date (gint64 seconds)
{
  g_autoptr(GDateTime) time = NULL;

  if (seconds <= 0)
    return NULL;
  time = g_date_time_new_from_unix_local (seconds);
  return time != NULL ? g_date_time_format (time, "%Y-%m-%d") : NULL;
}

static char *
format_iso (gint64 seconds)
{
  g_autoptr(GDateTime) time = NULL;

  if (seconds <= 0)
    return NULL;
  time = g_date_time_new_from_unix_utc (seconds);
  return time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

/* "per month", "every 3 months" */
static char *
format_interval (const char *interval,
                 int         count)
{
  if (interval == NULL)
    return g_strdup ("");
  if (count <= 1)
    {
      if (g_str_equal (interval, "day"))
        return g_strdup (_("per day"));
      if (g_str_equal (interval, "week"))
        return g_strdup (_("per week"));
      if (g_str_equal (interval, "month"))
        return g_strdup (_("per month"));
      if (g_str_equal (interval, "year"))
        return g_strdup (_("per year"));
    }
  if (g_str_equal (interval, "day"))
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "every %d day", "every %d days", count), count);
  if (g_str_equal (interval, "week"))
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "every %d week", "every %d weeks", count), count);
  if (g_str_equal (interval, "month"))
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "every %d month", "every %d months", count), count);
  if (g_str_equal (interval, "year"))
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "every %d year", "every %d years", count), count);
  return g_strdup (interval);
}

/* "Pro seat · $30.00 per month × 150 seats" */
static char *
format_item (const FdStripeSubscriptionItem *item)
{
  g_autofree char *price = NULL;
  g_autofree char *interval = format_interval (item->interval, item->interval_count);
  g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, item->quantity);
  g_autofree char *seats = NULL;

  if (item->currency != NULL)
    price = fd_money_format (item->unit_amount, item->currency);
  /* Translators: %s is a number of seats */
  seats = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s seat", "%s seats",
                                        (gulong) MAX (item->quantity, 0)),
                           count);

  return g_strdup_printf (_("%s · %s %s × %s"),
                          item->product_name != NULL ? item->product_name : item->price_id,
                          price != NULL ? price : "?", interval, seats);
}

/* "visa" → "Visa", as the card says. */
static const char *
brand_label (const char *brand)
{
  static const struct
  {
    const char *brand;
    const char *label;
  } brands[] = {
    { "visa", "Visa" }, { "mastercard", "Mastercard" }, { "amex", "American Express" },
    { "discover", "Discover" }, { "diners", "Diners Club" }, { "jcb", "JCB" },
    { "unionpay", "UnionPay" }, { "cartes_bancaires", "Cartes Bancaires" },
  };

  for (guint i = 0; brand != NULL && i < G_N_ELEMENTS (brands); i++)
    if (g_str_equal (brand, brands[i].brand))
      return brands[i].label;
  return brand;
}

static gboolean
is_open_invoice (const FdStripeInvoice *invoice)
{
  return g_strcmp0 (invoice->status, "open") == 0;
}

static gboolean
is_failed_charge (const FdStripeCharge *charge)
{
  return g_strcmp0 (charge->status, "failed") == 0;
}

static FdStripeExplanation
explain_charge (const FdStripeCharge *charge)
{
  return fd_stripe_explain_decline (charge->failure_code, charge->decline_code,
                                    charge->advice_code);
}

/* }}} */
/* {{{ Text */

/* Prints @text, which it frees, on a line of its own after @indent. */
static void
print_owned (const char *indent,
             char       *text)
{
  g_print ("%s%s\n", indent, text);
  g_free (text);
}

static void
print_customer_line (const FdStripeCustomer *customer)
{
  const char *name = customer->name != NULL && *customer->name != '\0'
    ? customer->name : _("(no name)");

  if (customer->email != NULL && *customer->email != '\0')
    g_print ("  %s <%s>  %s\n", name, customer->email, customer->id);
  else
    g_print ("  %s  %s\n", name, customer->id);
}

static void
print_account (const FdBillingAccount *account)
{
  const FdStripeCustomer *customer = account->customer;
  g_autofree char *created = format_date (customer->created);
  guint shown = 0;

  g_print (_("Customer: %s\n"), customer->name != NULL && *customer->name != '\0'
                                  ? customer->name : customer->id);
  g_print ("  %-16s %s\n", _("Id:"), customer->id);
  if (customer->email != NULL)
    g_print ("  %-16s %s\n", _("Email:"), customer->email);
  if (created != NULL)
    g_print ("  %-16s %s\n", _("Customer since:"), created);
  if (customer->balance != 0 && customer->currency != NULL)
    {
      /* Stripe's balance is what the customer owes; a negative one is credit. */
      g_autofree char *amount = fd_money_format (ABS (customer->balance), customer->currency);
      g_autofree char *text = customer->balance < 0
        ? g_strdup_printf (_("%s in credit"), amount)
        : g_strdup_printf (_("%s owed"), amount);

      g_print ("  %-16s %s\n", _("Balance:"), text);
    }
  if (account->payment_methods->len > 0)
    {
      const FdStripePaymentMethod *method = g_ptr_array_index (account->payment_methods, 0);
      g_autofree char *text = NULL;

      if (method->last4 != NULL)
        text = g_strdup_printf (_("%s •••• %s, expires %02d/%d"),
                                method->brand != NULL ? brand_label (method->brand) : method->type,
                                method->last4, method->exp_month, method->exp_year);
      else
        text = g_strdup (method->type);
      g_print ("  %-16s %s%s\n", _("Payment method:"), text,
               method->is_default ? _(" (default)") : "");
    }
  if (account->summary != NULL)
    g_print ("  %-16s %s\n", _("Summary:"), account->summary);

  g_print ("\n%s\n", _("Subscriptions:"));
  if (account->subscriptions->len == 0)
    g_print ("  %s\n", _("None."));
  for (guint i = 0; i < account->subscriptions->len; i++)
    {
      const FdStripeSubscription *sub = g_ptr_array_index (account->subscriptions, i);
      g_autofree char *period_end = format_date (sub->current_period_end);
      g_autofree char *trial_end = format_date (sub->trial_end);

      g_print ("  %s  %s\n", sub->id, fd_stripe_status_label (sub->status));
      for (guint k = 0; sub->items != NULL && k < sub->items->len; k++)
        {
          g_autofree char *item = format_item (g_ptr_array_index (sub->items, k));

          g_print ("    %s\n", item);
        }
      if (trial_end != NULL && g_strcmp0 (sub->status, "trialing") == 0)
        print_owned ("    ", g_strdup_printf (_("Trial ends %s"), trial_end));
      if (period_end != NULL)
        {
          if (sub->cancel_at_period_end)
            print_owned ("    ", g_strdup_printf (_("Period ends %s · cancels at period end"),
                                                  period_end));
          else if (g_strcmp0 (sub->status, "canceled") != 0)
            print_owned ("    ", g_strdup_printf (_("Period ends %s · renews"), period_end));
        }
      if (g_strcmp0 (sub->collection_method, "send_invoice") == 0)
        print_owned ("    ",
                     g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                   "Invoiced, due %d day after issue",
                                                   "Invoiced, due %d days after issue",
                                                   sub->days_until_due),
                                      sub->days_until_due));
      if (sub->pause_behavior != NULL)
        g_print ("    %s\n", _("Payment collection is paused"));
      if (sub->discount != NULL)
        print_owned ("    ", g_strdup_printf (_("Discount: %s"), sub->discount));
    }

  g_print ("\n%s\n", _("Open invoices:"));
  for (guint i = 0; i < account->invoices->len; i++)
    {
      const FdStripeInvoice *invoice = g_ptr_array_index (account->invoices, i);
      g_autofree char *remaining = NULL;
      g_autofree char *due = NULL;
      g_autofree char *due_text = NULL;
      g_autofree char *line = NULL;

      if (!is_open_invoice (invoice))
        continue;
      shown++;
      remaining = fd_money_format (invoice->amount_remaining, invoice->currency);
      due = format_date (invoice->due_date);
      due_text = due != NULL ? g_strdup_printf (_("due %s"), due) : g_strdup (_("no due date"));
      line = g_strdup_printf (_("%s remaining · %s"), remaining, due_text);
      if (invoice->number != NULL)
        g_print ("  %s (%s)  %s", invoice->number, invoice->id, line);
      else
        g_print ("  %s  %s", invoice->id, line);
      if (invoice->past_due)
        g_print (" · %s", _("past due"));
      g_print ("\n");
      if (invoice->hosted_invoice_url != NULL)
        g_print ("    %s\n", invoice->hosted_invoice_url);
    }
  if (shown == 0)
    g_print ("  %s\n", _("None."));

  g_print ("\n%s\n", _("Recent failed payments:"));
  shown = 0;
  for (guint i = 0; i < account->charges->len && shown < MAX_FAILED_PAYMENTS; i++)
    {
      const FdStripeCharge *charge = g_ptr_array_index (account->charges, i);
      FdStripeExplanation explanation;
      g_autofree char *amount = NULL;
      g_autofree char *date = NULL;

      if (!is_failed_charge (charge))
        continue;
      shown++;
      explanation = explain_charge (charge);
      amount = fd_money_format (charge->amount, charge->currency);
      date = format_date (charge->created);
      g_print ("  %s  %s  %s", charge->id, date != NULL ? date : "", amount);
      if (charge->card_last4 != NULL)
        g_print ("  %s •••• %s", charge->card_brand != NULL ? brand_label (charge->card_brand) : "",
                 charge->card_last4);
      g_print ("\n    %s\n", explanation.what);
      g_print ("    %s %s\n", _("Tell the customer:"), explanation.tell_customer);
      g_print ("    %s\n", explanation.retry_may_work
               ? _("Retrying the same card may work later.")
               : _("Retrying the same card will not work."));
    }
  if (shown == 0)
    g_print ("  %s\n", _("None."));
}

/* }}} */
/* {{{ JSON */

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_bool (JsonBuilder *builder,
          const char  *name,
          gboolean     value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
add_time (JsonBuilder *builder,
          const char  *name,
          gint64       seconds)
{
  g_autofree char *text = format_iso (seconds);

  add_string (builder, name, text);
}

/* Money as minor units, its currency and how it reads. */
static void
add_money (JsonBuilder *builder,
           const char  *name,
           gint64       minor,
           const char  *currency)
{
  g_autofree char *formatted = NULL;

  json_builder_set_member_name (builder, name);
  if (currency == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  formatted = fd_money_format (minor, currency);
  json_builder_begin_object (builder);
  add_int (builder, "amount", minor);
  add_string (builder, "currency", currency);
  add_string (builder, "formatted", formatted);
  json_builder_end_object (builder);
}

static void
add_customer (JsonBuilder            *builder,
              const FdStripeCustomer *customer)
{
  json_builder_begin_object (builder);
  add_string (builder, "id", customer->id);
  add_string (builder, "name", customer->name);
  add_string (builder, "email", customer->email);
  add_string (builder, "description", customer->description);
  add_string (builder, "currency", customer->currency);
  add_money (builder, "balance", customer->balance, customer->currency);
  add_bool (builder, "delinquent", customer->delinquent);
  add_time (builder, "created", customer->created);
  json_builder_end_object (builder);
}

static char *
builder_to_data (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

static char *
account_to_json (const FdBillingAccount *account)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char * const *currencies;
  guint shown = 0;

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "customer");
  add_customer (builder, account->customer);
  add_string (builder, "state", state_to_string (account->state));
  add_string (builder, "summary", account->summary);

  json_builder_set_member_name (builder, "payment_methods");
  json_builder_begin_array (builder);
  for (guint i = 0; i < account->payment_methods->len; i++)
    {
      const FdStripePaymentMethod *method = g_ptr_array_index (account->payment_methods, i);

      json_builder_begin_object (builder);
      add_string (builder, "id", method->id);
      add_string (builder, "type", method->type);
      add_string (builder, "brand", method->brand);
      add_string (builder, "last4", method->last4);
      add_int (builder, "exp_month", method->exp_month);
      add_int (builder, "exp_year", method->exp_year);
      add_bool (builder, "default", method->is_default);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "subscriptions");
  json_builder_begin_array (builder);
  for (guint i = 0; i < account->subscriptions->len; i++)
    {
      const FdStripeSubscription *sub = g_ptr_array_index (account->subscriptions, i);

      json_builder_begin_object (builder);
      add_string (builder, "id", sub->id);
      add_string (builder, "status", sub->status);
      add_string (builder, "status_label", fd_stripe_status_label (sub->status));
      add_string (builder, "currency", sub->currency);
      add_string (builder, "collection_method", sub->collection_method);
      add_int (builder, "days_until_due", sub->days_until_due);
      add_time (builder, "current_period_start", sub->current_period_start);
      add_time (builder, "current_period_end", sub->current_period_end);
      add_time (builder, "trial_end", sub->trial_end);
      add_time (builder, "cancel_at", sub->cancel_at);
      add_bool (builder, "cancel_at_period_end", sub->cancel_at_period_end);
      add_string (builder, "pause_behavior", sub->pause_behavior);
      add_string (builder, "discount", sub->discount);
      json_builder_set_member_name (builder, "items");
      json_builder_begin_array (builder);
      for (guint k = 0; sub->items != NULL && k < sub->items->len; k++)
        {
          const FdStripeSubscriptionItem *item = g_ptr_array_index (sub->items, k);

          json_builder_begin_object (builder);
          add_string (builder, "id", item->id);
          add_string (builder, "price_id", item->price_id);
          add_string (builder, "product", item->product_name);
          add_money (builder, "unit_amount", item->unit_amount, item->currency);
          add_string (builder, "interval", item->interval);
          add_int (builder, "interval_count", item->interval_count);
          add_int (builder, "seats", item->quantity);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "open_invoices");
  json_builder_begin_array (builder);
  for (guint i = 0; i < account->invoices->len; i++)
    {
      const FdStripeInvoice *invoice = g_ptr_array_index (account->invoices, i);

      if (!is_open_invoice (invoice))
        continue;
      json_builder_begin_object (builder);
      add_string (builder, "id", invoice->id);
      add_string (builder, "number", invoice->number);
      add_string (builder, "subscription", invoice->subscription);
      add_money (builder, "total", invoice->total, invoice->currency);
      add_money (builder, "amount_due", invoice->amount_due, invoice->currency);
      add_money (builder, "amount_paid", invoice->amount_paid, invoice->currency);
      add_money (builder, "amount_remaining", invoice->amount_remaining, invoice->currency);
      add_time (builder, "created", invoice->created);
      add_time (builder, "due_date", invoice->due_date);
      add_bool (builder, "past_due", invoice->past_due);
      add_int (builder, "attempt_count", invoice->attempt_count);
      add_string (builder, "hosted_invoice_url", invoice->hosted_invoice_url);
      add_string (builder, "invoice_pdf", invoice->invoice_pdf);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "outstanding");
  json_builder_begin_array (builder);
  currencies = account->outstanding != NULL
    ? fd_money_totals_get_currencies (account->outstanding) : NULL;
  for (guint i = 0; currencies != NULL && currencies[i] != NULL; i++)
    {
      json_builder_begin_object (builder);
      add_money (builder, "amount",
                 fd_money_totals_get (account->outstanding, currencies[i]), currencies[i]);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "failed_payments");
  json_builder_begin_array (builder);
  for (guint i = 0; i < account->charges->len && shown < MAX_FAILED_PAYMENTS; i++)
    {
      const FdStripeCharge *charge = g_ptr_array_index (account->charges, i);
      FdStripeExplanation explanation;

      if (!is_failed_charge (charge))
        continue;
      shown++;
      explanation = explain_charge (charge);
      json_builder_begin_object (builder);
      add_string (builder, "id", charge->id);
      add_money (builder, "amount", charge->amount, charge->currency);
      add_time (builder, "created", charge->created);
      add_string (builder, "invoice", charge->invoice);
      add_string (builder, "failure_code", charge->failure_code);
      add_string (builder, "decline_code", charge->decline_code);
      add_string (builder, "advice_code", charge->advice_code);
      add_string (builder, "failure_message", charge->failure_message);
      add_string (builder, "card_brand", charge->card_brand);
      add_string (builder, "card_last4", charge->card_last4);
      json_builder_set_member_name (builder, "explanation");
      json_builder_begin_object (builder);
      add_string (builder, "what", explanation.what);
      add_string (builder, "tell_customer", explanation.tell_customer);
      add_bool (builder, "retry_may_work", explanation.retry_may_work);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_end_object (builder);

  return builder_to_data (builder);
}

/* }}} */

static int
billing_lookup (const char  *profile,
                char       **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print one JSON object instead of text"), NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(FdStore) store = NULL;
  g_autoptr(FdStripeClient) client = NULL;
  g_autoptr(GPtrArray) customers = NULL;
  g_autoptr(FdBillingAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  g_autofree char *message = NULL;
  int exit_code = EXIT_OK;

  if (!_fd_cli_parse_command_options ("billing lookup", "billing lookup EMAIL|NAME|ID",
                                      _("Shows a customer’s Stripe account: subscriptions, open "
                                        "invoices and recent failed payments with what to tell "
                                        "the customer."),
                                      entries, &argv, &exit_code))
    return exit_code;

  if (g_strv_length (argv) < 2)
    return _fd_cli_usage_error (_("billing lookup: say whose account to show, for example "
                                  "“frontdesk-cli billing lookup ana@example.com”."));
  query = g_strstrip (g_strjoinv (" ", argv + 1));
  if (*query == '\0')
    return _fd_cli_usage_error (_("billing lookup: the email, name or customer id is empty."));

  /* Looking up never creates a profile. */
  path = fd_paths_store_file (profile);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      message = g_strdup_printf (_("There is no Frontdesk store at %s, so no Stripe account is "
                                   "connected. Connect one with “frontdesk-cli account add "
                                   "--kind stripe”."),
                                 path);
      return _fd_cli_failure (message);
    }

  store = fd_store_new (path);
  if (!fd_store_open_sync (store, NULL, &error))
    return _fd_cli_failure (error->message);

  fd_billing_open_client_async (store, NULL, result_cb, &result);
  client = fd_billing_open_client_finish (wait_for (&result), &error);
  g_clear_object (&result);
  if (client == NULL)
    {
      fd_store_close (store);
      return _fd_cli_failure (error->message);
    }

  fd_billing_find_customers_async (client, query, NULL, result_cb, &result);
  customers = fd_billing_find_customers_finish (wait_for (&result), &error);
  g_clear_object (&result);
  if (customers == NULL)
    {
      fd_store_close (store);
      return _fd_cli_failure (error->message);
    }

  if (customers->len == 0)
    {
      fd_store_close (store);
      message = g_strdup_printf (_("No Stripe customer matches “%s”. Check the spelling, or "
                                   "look up the customer by name or by their cus_… id."),
                                 query);
      return _fd_cli_failure (message);
    }

  if (customers->len > 1)
    {
      const FdStripeCustomer *first = g_ptr_array_index (customers, 0);

      fd_store_close (store);
      message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "%u Stripe customer matches “%s”. Run the lookup "
                                              "again with the id of the one you mean, for "
                                              "example “frontdesk-cli billing lookup %s”.",
                                              "%u Stripe customers match “%s”. Run the lookup "
                                              "again with the id of the one you mean, for "
                                              "example “frontdesk-cli billing lookup %s”.",
                                              customers->len),
                                 customers->len, query, first->id);
      if (json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();
          g_autofree char *data = NULL;

          json_builder_begin_object (builder);
          add_string (builder, "message", message);
          json_builder_set_member_name (builder, "matches");
          json_builder_begin_array (builder);
          for (guint i = 0; i < customers->len; i++)
            add_customer (builder, g_ptr_array_index (customers, i));
          json_builder_end_array (builder);
          json_builder_end_object (builder);
          data = builder_to_data (builder);
          g_print ("%s\n", data);
        }
      else
        {
          g_print ("%s\n", message);
          for (guint i = 0; i < customers->len; i++)
            print_customer_line (g_ptr_array_index (customers, i));
        }
      return EXIT_OK;
    }

  fd_billing_load_account_async (client,
                                 ((FdStripeCustomer *) g_ptr_array_index (customers, 0))->id,
                                 NULL, result_cb, &result);
  account = fd_billing_load_account_finish (wait_for (&result), &error);
  g_clear_object (&result);
  fd_store_close (store);
  if (account == NULL)
    return _fd_cli_failure (error->message);

  if (json)
    {
      g_autofree char *data = account_to_json (account);

      g_print ("%s\n", data);
    }
  else
    print_account (account);

  return EXIT_OK;
}

int
_fd_cli_billing (const char  *profile,
                 char       **argv)
{
  guint argc = g_strv_length (argv);

  if (argc >= 2 && g_str_equal (argv[1], "lookup"))
    return billing_lookup (profile, argv + 1);

  return _fd_cli_usage_error (_("billing: use “billing lookup EMAIL [--json]”."));
}
