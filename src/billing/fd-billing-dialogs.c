/* fd-billing-dialogs.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-billing-dialogs"

#include "config.h"

#include <cairo-pdf.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <pango/pangocairo.h>

#include "fd-billing-dialogs.h"
#include "fd-stripe-error.h"

/* Changes and credit notes are previewed this long after the agent stops typing. */
#define PREVIEW_DELAY_MS 350

/* Stripe refuses dispute evidence files above this size. */
#define MAX_EVIDENCE_FILE_SIZE (5 * 1024 * 1024)

/* {{{ Shared words */

char *
fd_billing_card_label (const char *brand,
                       const char *last4)
{
  static const struct { const char *id; const char *name; } brands[] = {
    { "visa", "Visa" },
    { "mastercard", "Mastercard" },
    { "amex", "American Express" },
    { "american_express", "American Express" },
    { "discover", "Discover" },
    { "diners", "Diners Club" },
    { "jcb", "JCB" },
    { "unionpay", "UnionPay" },
    { "cartes_bancaires", "Cartes Bancaires" },
    { "eftpos_au", "eftpos" },
    { "interac", "Interac" },
  };
  g_autofree char *name = NULL;

  if (brand == NULL || *brand == '\0' || last4 == NULL || *last4 == '\0')
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (brands); i++)
    {
      if (g_ascii_strcasecmp (brand, brands[i].id) == 0)
        name = g_strdup (brands[i].name);
    }

  if (name == NULL)
    {
      name = g_strdup (brand);
      name[0] = g_ascii_toupper (name[0]);
    }

  /* Translators: a card brand and its last four digits, "Visa •••• 4242". */
  return g_strdup_printf (_("%s •••• %s"), name, last4);
}

char *
fd_billing_format_date (gint64 unix_s)
{
  g_autoptr(GDateTime) local = NULL;

  if (unix_s <= 0)
    return g_strdup ("");

  local = g_date_time_new_from_unix_local (unix_s);
  if (local == NULL)
    return g_strdup ("");

  /* Translators: a date, see the GDateTime format specifiers; "12 March 2027". */
  return g_date_time_format (local, _("%-d %B %Y"));
}

char *
fd_billing_format_time (gint64 unix_s)
{
  g_autoptr(GDateTime) local = NULL;

  if (unix_s <= 0)
    return g_strdup ("");

  local = g_date_time_new_from_unix_local (unix_s);
  if (local == NULL)
    return g_strdup ("");

  /* Translators: a date and time with the time zone, for tooltips; "12 March 2027, 14:05 CET". */
  return g_date_time_format (local, _("%-d %B %Y, %H:%M %Z"));
}

char *
fd_billing_price_text (gint64      unit_amount,
                       const char *currency,
                       const char *interval,
                       int         interval_count)
{
  g_autofree char *amount = fd_money_format (unit_amount, currency);
  int n = MAX (interval_count, 1);

  if (interval == NULL)
    return g_steal_pointer (&amount);

  /* Translators: a price and how often it is charged: "€10.00 per month", "€10.00 every 3 months". */
  if (g_str_equal (interval, "day"))
    return n == 1 ? g_strdup_printf (_("%s per day"), amount)
                  : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s every %d day", "%s every %d days", n), amount, n);
  if (g_str_equal (interval, "week"))
    return n == 1 ? g_strdup_printf (_("%s per week"), amount)
                  : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s every %d week", "%s every %d weeks", n), amount, n);
  if (g_str_equal (interval, "month"))
    return n == 1 ? g_strdup_printf (_("%s per month"), amount)
                  : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s every %d month", "%s every %d months", n), amount, n);
  if (g_str_equal (interval, "year"))
    return n == 1 ? g_strdup_printf (_("%s per year"), amount)
                  : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s every %d year", "%s every %d years", n), amount, n);

  return g_steal_pointer (&amount);
}

const char *
fd_billing_refund_reason_label (const char *reason)
{
  if (g_strcmp0 (reason, "requested_by_customer") == 0)
    return _("Requested by the customer");
  if (g_strcmp0 (reason, "duplicate") == 0)
    return _("Duplicate payment");
  if (g_strcmp0 (reason, "fraudulent") == 0)
    return _("Fraudulent payment");
  if (g_strcmp0 (reason, "expired_uncaptured_charge") == 0)
    return _("The payment was never captured");
  return NULL;
}

static void
replace_string (char       **field,
                const char  *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

FdBillingAction *
_fd_billing_action_copy (const FdBillingAction *action)
{
  FdBillingAction *copy;

  g_return_val_if_fail (action != NULL, NULL);

  copy = fd_billing_action_new (action->kind);
  replace_string (&copy->customer_id, action->customer_id);
  replace_string (&copy->target_id, action->target_id);
  replace_string (&copy->item_id, action->item_id);
  replace_string (&copy->price_id, action->price_id);
  copy->quantity = action->quantity;
  copy->amount = action->amount;
  replace_string (&copy->currency, action->currency);
  replace_string (&copy->reason, action->reason);
  replace_string (&copy->proration_behavior, action->proration_behavior);
  replace_string (&copy->pause_behavior, action->pause_behavior);
  copy->submit = action->submit;
  g_clear_pointer (&copy->evidence, fd_stripe_params_free);
  if (action->evidence != NULL)
    copy->evidence = fd_stripe_params_copy (action->evidence);
  copy->conversation_id = action->conversation_id;
  copy->refundable = action->refundable;
  replace_string (&copy->agent, action->agent);

  return copy;
}

/* The dialogs keep what they show: the page may read the account again meanwhile. */
static FdStripeSubscription *
subscription_copy (const FdStripeSubscription *subscription)
{
  FdStripeSubscription *copy = g_new0 (FdStripeSubscription, 1);

  copy->id = g_strdup (subscription->id);
  copy->status = g_strdup (subscription->status);
  copy->currency = g_strdup (subscription->currency);
  copy->collection_method = g_strdup (subscription->collection_method);
  copy->days_until_due = subscription->days_until_due;
  copy->current_period_start = subscription->current_period_start;
  copy->current_period_end = subscription->current_period_end;
  copy->trial_end = subscription->trial_end;
  copy->cancel_at = subscription->cancel_at;
  copy->canceled_at = subscription->canceled_at;
  copy->cancel_at_period_end = subscription->cancel_at_period_end;
  copy->pause_behavior = g_strdup (subscription->pause_behavior);
  copy->discount = g_strdup (subscription->discount);
  copy->items = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; subscription->items != NULL && i < subscription->items->len; i++)
    {
      const FdStripeSubscriptionItem *item = g_ptr_array_index (subscription->items, i);
      FdStripeSubscriptionItem *item_copy = g_new0 (FdStripeSubscriptionItem, 1);

      item_copy->id = g_strdup (item->id);
      item_copy->price_id = g_strdup (item->price_id);
      item_copy->product_name = g_strdup (item->product_name);
      item_copy->unit_amount = item->unit_amount;
      item_copy->currency = g_strdup (item->currency);
      item_copy->interval = g_strdup (item->interval);
      item_copy->interval_count = item->interval_count;
      item_copy->quantity = item->quantity;
      g_ptr_array_add (copy->items, item_copy);
    }

  return copy;
}

static void
subscription_copy_free (FdStripeSubscription *copy)
{
  if (copy == NULL)
    return;

  for (guint i = 0; i < copy->items->len; i++)
    {
      FdStripeSubscriptionItem *item = g_ptr_array_index (copy->items, i);

      g_free (item->id);
      g_free (item->price_id);
      g_free (item->product_name);
      g_free (item->currency);
      g_free (item->interval);
    }
  g_ptr_array_unref (copy->items);
  g_free (copy->id);
  g_free (copy->status);
  g_free (copy->currency);
  g_free (copy->collection_method);
  g_free (copy->pause_behavior);
  g_free (copy->discount);
  g_free (copy);
}

static FdStripeInvoice *
invoice_copy (const FdStripeInvoice *invoice)
{
  FdStripeInvoice *copy = g_new0 (FdStripeInvoice, 1);

  *copy = *invoice;
  copy->id = g_strdup (invoice->id);
  copy->number = g_strdup (invoice->number);
  copy->status = g_strdup (invoice->status);
  copy->currency = g_strdup (invoice->currency);
  copy->hosted_invoice_url = g_strdup (invoice->hosted_invoice_url);
  copy->invoice_pdf = g_strdup (invoice->invoice_pdf);
  copy->subscription = g_strdup (invoice->subscription);
  copy->collection_method = g_strdup (invoice->collection_method);

  return copy;
}

static void
invoice_copy_free (FdStripeInvoice *copy)
{
  if (copy == NULL)
    return;

  g_free (copy->id);
  g_free (copy->number);
  g_free (copy->status);
  g_free (copy->currency);
  g_free (copy->hosted_invoice_url);
  g_free (copy->invoice_pdf);
  g_free (copy->subscription);
  g_free (copy->collection_method);
  g_free (copy);
}

/* Minor units as the agent would type them, without a symbol: "39.00", "39,00", "500". */
static char *
format_minor_plain (gint64      minor,
                    const char *currency)
{
  guint exponent = fd_currency_exponent (currency);
  const char *point = localeconv ()->decimal_point;
  gint64 divisor = 1;

  if (exponent == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT, minor);

  for (guint i = 0; i < exponent; i++)
    divisor *= 10;

  return g_strdup_printf ("%" G_GINT64_FORMAT "%s%0*" G_GINT64_FORMAT,
                          minor / divisor, point != NULL ? point : ".", (int) exponent, minor % divisor);
}

/* }}} */
/* {{{ FdBillingActionDialog */

typedef enum
{
  MODE_PLAIN,
  MODE_REFUND,
  MODE_CHANGE,
  MODE_CREDIT_NOTE,
} DialogMode;

typedef struct
{
  const char *id;
  const char *label;
} Choice;

/* Short: the combo row shares its width with its title. */
static const Choice refund_reasons[] = {
  { "requested_by_customer", N_("Customer’s request") },
  { "duplicate", N_("Duplicate payment") },
  { "fraudulent", N_("Fraud") },
};

static const Choice credit_note_reasons[] = {
  { "order_change", N_("Order changed") },
  { "product_unsatisfactory", N_("Not satisfied") },
  { "duplicate", N_("Duplicate payment") },
  { "fraudulent", N_("Fraud") },
};

static const Choice prorations[] = {
  { "create_prorations", N_("On the next invoice") },
  { "always_invoice", N_("Invoice it now") },
  { "none", N_("None") },
};

static const Choice pause_behaviors[] = {
  { "keep_as_draft", N_("Kept as drafts") },
  { "mark_uncollectible", N_("Marked uncollectible") },
  { "void", N_("Voided") },
};

struct _FdBillingActionDialog
{
  AdwMessageDialog      parent_instance;

  DialogMode            mode;
  FdBillingAction      *action;
  FdStripeClient       *client;
  GTask                *task;
  GCancellable         *cancellable;
  char                 *problem;
  gboolean              can_confirm;

  /* Refunds and credit notes: the most that can be given back, in @currency. */
  gint64                limit;
  char                 *currency;

  /* Changes. */
  FdStripeSubscription *subscription;
  GtkStringList        *price_labels;
  GPtrArray            *price_ids;

  /* Credit notes. */
  FdStripeInvoice      *invoice;

  /* Previews: the one shown is for @preview_key; @pending_key is in flight or due. */
  guint                 preview_source;
  GCancellable         *preview_cancellable;
  char                 *preview_key;
  char                 *pending_key;
  char                 *preview_error;

  /* Template widgets */
  GtkWidget            *form;
  GtkWidget            *target_list;
  AdwActionRow         *target_row;
  GtkWidget            *amount_mode_box;
  GtkToggleButton      *full_button;
  GtkToggleButton      *partial_button;
  GtkWidget            *fields_list;
  AdwEntryRow          *amount_row;
  GtkLabel             *amount_currency_label;
  AdwComboRow          *reason_row;
  AdwComboRow          *price_row;
  GtkWidget            *seats_row;
  GtkSpinButton        *seats_spin;
  AdwComboRow          *proration_row;
  AdwComboRow          *pause_row;
  GtkLabel             *amount_hint;
  GtkWidget            *preview_box;
  GtkSpinner           *preview_spinner;
  GtkLabel             *preview_title;
  GtkLabel             *preview_label;
  GtkLabel             *preview_lines;
  GtkWidget            *problem_box;
  GtkLabel             *problem_label;
};

G_DEFINE_FINAL_TYPE (FdBillingActionDialog, fd_billing_action_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void action_dialog_update (FdBillingActionDialog *self);

static void
combo_set_choices (AdwComboRow  *row,
                   const Choice *choices,
                   guint         n_choices,
                   const char   *selected)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);
  guint position = 0;

  for (guint i = 0; i < n_choices; i++)
    {
      gtk_string_list_append (list, _(choices[i].label));
      if (g_strcmp0 (choices[i].id, selected) == 0)
        position = i;
    }

  adw_combo_row_set_model (row, G_LIST_MODEL (list));
  adw_combo_row_set_selected (row, position);
  gtk_widget_set_visible (GTK_WIDGET (row), TRUE);
}

static const char *
combo_get_choice (AdwComboRow  *row,
                  const Choice *choices,
                  guint         n_choices)
{
  guint selected = adw_combo_row_get_selected (row);

  return selected < n_choices ? choices[selected].id : choices[0].id;
}

static const char *
action_heading (const FdBillingAction *action)
{
  switch (action->kind)
    {
    case FD_BILLING_ACTION_REFUND:
      return _("Refund Payment?");
    case FD_BILLING_ACTION_CANCEL_NOW:
      return _("Cancel Subscription Now?");
    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
      return _("Cancel at the End of the Period?");
    case FD_BILLING_ACTION_UNDO_CANCEL:
      return _("Keep the Subscription?");
    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
      return _("Change Plan or Seats?");
    case FD_BILLING_ACTION_PAUSE_COLLECTION:
      return _("Pause Payment Collection?");
    case FD_BILLING_ACTION_RESUME_COLLECTION:
      return _("Resume Payment Collection?");
    case FD_BILLING_ACTION_PAY_INVOICE:
      return _("Charge the Invoice Now?");
    case FD_BILLING_ACTION_SEND_INVOICE:
      return _("Send the Invoice?");
    case FD_BILLING_ACTION_VOID_INVOICE:
      return _("Void the Invoice?");
    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      return _("Mark the Invoice Uncollectible?");
    case FD_BILLING_ACTION_CREDIT_NOTE:
      return _("Issue a Credit Note?");
    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      return action->submit ? _("Submit the Evidence?") : _("Save the Evidence?");
    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      return _("Accept the Loss?");
    default:
      return _("Confirm");
    }
}

static void
action_responses (const FdBillingAction  *action,
                  const char            **cancel_label,
                  const char            **confirm_label,
                  AdwResponseAppearance  *appearance)
{
  *cancel_label = _("_Cancel");
  *appearance = ADW_RESPONSE_SUGGESTED;

  switch (action->kind)
    {
    case FD_BILLING_ACTION_REFUND:
      *confirm_label = _("_Refund");
      *appearance = ADW_RESPONSE_DESTRUCTIVE;
      break;
    case FD_BILLING_ACTION_CANCEL_NOW:
      *cancel_label = _("_Keep Subscription");
      *confirm_label = _("Cancel _Now");
      *appearance = ADW_RESPONSE_DESTRUCTIVE;
      break;
    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
      *cancel_label = _("_Keep Subscription");
      *confirm_label = _("Cancel at _Period End");
      *appearance = ADW_RESPONSE_DESTRUCTIVE;
      break;
    case FD_BILLING_ACTION_UNDO_CANCEL:
      *confirm_label = _("_Keep Subscription");
      break;
    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
      *confirm_label = _("C_hange");
      break;
    case FD_BILLING_ACTION_PAUSE_COLLECTION:
      *confirm_label = _("_Pause");
      break;
    case FD_BILLING_ACTION_RESUME_COLLECTION:
      *confirm_label = _("_Resume");
      break;
    case FD_BILLING_ACTION_PAY_INVOICE:
      *confirm_label = _("C_harge Now");
      break;
    case FD_BILLING_ACTION_SEND_INVOICE:
      *confirm_label = _("_Send");
      break;
    case FD_BILLING_ACTION_VOID_INVOICE:
      *confirm_label = _("_Void");
      *appearance = ADW_RESPONSE_DESTRUCTIVE;
      break;
    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      *confirm_label = _("_Mark Uncollectible");
      *appearance = ADW_RESPONSE_DESTRUCTIVE;
      break;
    case FD_BILLING_ACTION_CREDIT_NOTE:
      *confirm_label = _("_Issue Credit Note");
      *appearance = ADW_RESPONSE_DESTRUCTIVE;
      break;
    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      *confirm_label = action->submit ? _("_Submit") : _("_Save");
      break;
    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      *confirm_label = _("_Accept the Loss");
      *appearance = ADW_RESPONSE_DESTRUCTIVE;
      break;
    default:
      *confirm_label = _("_Confirm");
      break;
    }
}

/* What the previewed choice is, so a preview is only trusted for what it was made for. */
static char *
preview_key_for (FdBillingActionDialog *self)
{
  const FdBillingAction *action = self->action;

  return g_strdup_printf ("%s|%" G_GINT64_FORMAT "|%s|%" G_GINT64_FORMAT "|%s",
                          action->price_id != NULL ? action->price_id : "",
                          action->quantity,
                          action->proration_behavior != NULL ? action->proration_behavior : "",
                          action->amount,
                          action->reason != NULL ? action->reason : "");
}

static void
show_preview (FdBillingActionDialog  *self,
              const FdBillingPreview *preview)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) lines = g_string_new (NULL);

  if (self->mode == MODE_CHANGE)
    {
      g_autofree char *amount = fd_money_format (preview->amount_due, preview->currency);

      gtk_label_set_label (self->preview_title, _("Next invoice"));
      if (preview->next_payment_at > 0)
        {
          g_autofree char *date = fd_billing_format_date (preview->next_payment_at);

          /* Translators: "€1,650.00 due on 1 April 2027". */
          g_string_append_printf (text, _("%s due on %s"), amount, date);
        }
      else
        {
          /* Translators: "€1,650.00 due". */
          g_string_append_printf (text, _("%s due"), amount);
        }

      if (preview->proration < 0)
        {
          g_autofree char *credit = fd_money_format (-preview->proration, preview->currency);

          g_string_append_c (text, '\n');
          /* Translators: %s is an amount of money. */
          g_string_append_printf (text, _("Includes a credit of %s for the unused time"), credit);
        }
      else if (preview->proration > 0)
        {
          g_autofree char *charge = fd_money_format (preview->proration, preview->currency);

          g_string_append_c (text, '\n');
          /* Translators: %s is an amount of money. */
          g_string_append_printf (text, _("Includes %s for the rest of this period"), charge);
        }
      else
        {
          g_string_append_c (text, '\n');
          g_string_append (text, _("No proration"));
        }
    }
  else
    {
      g_autofree char *total = fd_money_format (preview->total, preview->currency);

      gtk_label_set_label (self->preview_title, _("Credit note"));
      /* Translators: %s is an amount of money. */
      g_string_append_printf (text, _("Total %s"), total);
    }

  for (guint i = 0; preview->lines != NULL && i < preview->lines->len; i++)
    {
      if (lines->len > 0)
        g_string_append_c (lines, '\n');
      g_string_append (lines, g_ptr_array_index (preview->lines, i));
    }

  gtk_spinner_stop (self->preview_spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_spinner), FALSE);
  gtk_label_set_label (self->preview_label, text->str);
  gtk_label_set_label (self->preview_lines, lines->str);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_lines), lines->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_label), TRUE);
}

static void
preview_done (FdBillingActionDialog *self,
              const char            *key,
              FdBillingPreview      *preview,
              GError                *error)
{
  /* A preview of what the agent has since changed is dropped. */
  if (g_strcmp0 (key, self->pending_key) != 0)
    return;

  g_clear_pointer (&self->pending_key, g_free);
  g_clear_pointer (&self->preview_error, g_free);

  if (preview == NULL)
    {
      gtk_spinner_stop (self->preview_spinner);
      gtk_widget_set_visible (GTK_WIDGET (self->preview_spinner), FALSE);
      /* Translators: %s says why, as a full sentence. */
      self->preview_error = g_strdup_printf (_("The preview could not be made, so nothing can be confirmed yet. %s"),
                                             error != NULL ? error->message : "");
      gtk_label_set_label (self->preview_label, _("Not available"));
      gtk_widget_set_visible (GTK_WIDGET (self->preview_lines), FALSE);
      g_free (self->preview_key);
      self->preview_key = g_strdup (key);
    }
  else
    {
      g_free (self->preview_key);
      self->preview_key = g_strdup (key);
      show_preview (self, preview);
    }

  action_dialog_update (self);
}

typedef struct
{
  FdBillingActionDialog *self;
  char                  *key;
} PreviewData;

static void
preview_data_free (PreviewData *data)
{
  g_object_unref (data->self);
  g_free (data->key);
  g_free (data);
}

static void
change_preview_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PreviewData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdBillingPreview) preview = fd_billing_preview_change_finish (result, &error);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    preview_done (data->self, data->key, preview, error);

  preview_data_free (data);
}

static void
credit_note_preview_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  PreviewData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdBillingPreview) preview = fd_billing_preview_credit_note_finish (result, &error);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    preview_done (data->self, data->key, preview, error);

  preview_data_free (data);
}

static gboolean
preview_timeout_cb (gpointer user_data)
{
  FdBillingActionDialog *self = user_data;
  PreviewData *data;

  self->preview_source = 0;

  if (self->pending_key == NULL)
    return G_SOURCE_REMOVE;

  g_cancellable_cancel (self->preview_cancellable);
  g_clear_object (&self->preview_cancellable);
  self->preview_cancellable = g_cancellable_new ();

  data = g_new0 (PreviewData, 1);
  data->self = g_object_ref (self);
  data->key = g_strdup (self->pending_key);

  if (self->mode == MODE_CHANGE)
    fd_billing_preview_change_async (self->client, self->subscription,
                                     self->action->price_id, self->action->quantity,
                                     self->action->proration_behavior,
                                     self->preview_cancellable, change_preview_cb, data);
  else
    fd_billing_preview_credit_note_async (self->client, self->invoice,
                                          self->action->amount, self->action->reason,
                                          self->preview_cancellable, credit_note_preview_cb, data);

  return G_SOURCE_REMOVE;
}

static void
schedule_preview (FdBillingActionDialog *self,
                  const char            *key)
{
  if (g_strcmp0 (self->pending_key, key) == 0)
    return;

  g_free (self->pending_key);
  self->pending_key = g_strdup (key);
  g_clear_pointer (&self->preview_error, g_free);

  gtk_widget_set_visible (self->preview_box, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_spinner), TRUE);
  gtk_spinner_start (self->preview_spinner);
  gtk_label_set_label (self->preview_label, _("Asking Stripe…"));
  gtk_widget_set_visible (GTK_WIDGET (self->preview_lines), FALSE);

  g_clear_handle_id (&self->preview_source, g_source_remove);
  self->preview_source = g_timeout_add (PREVIEW_DELAY_MS, preview_timeout_cb, self);
}

/* Reads the amount field, or the whole remainder of a full refund. */
static char *
read_amount (FdBillingActionDialog *self,
             gint64                *amount)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  if (self->mode == MODE_REFUND && gtk_toggle_button_get_active (self->full_button))
    {
      *amount = self->limit;
      return NULL;
    }

  text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->amount_row))));
  if (*text == '\0')
    {
      *amount = 0;
      return g_strdup (self->mode == MODE_REFUND ? _("Enter the amount to refund.")
                                                 : _("Enter the amount to credit."));
    }

  if (!fd_money_parse (text, self->currency, amount, &error))
    return g_strdup (error->message);

  if (*amount <= 0)
    return g_strdup (_("Enter an amount above zero."));

  if (*amount > self->limit)
    {
      g_autofree char *typed = fd_money_format (*amount, self->currency);
      g_autofree char *limit = fd_money_format (self->limit, self->currency);

      if (self->mode == MODE_REFUND)
        /* Translators: two amounts of money: "€60.00 is more than the €39.00 that can still be refunded." */
        return g_strdup_printf (_("%s is more than the %s that can still be refunded."), typed, limit);

      /* Translators: two amounts of money: "€60.00 is more than the invoice's €39.00." */
      return g_strdup_printf (_("%s is more than the invoice’s %s."), typed, limit);
    }

  return NULL;
}

static void
action_dialog_update (FdBillingActionDialog *self)
{
  g_autofree char *problem = NULL;
  gboolean needs_preview = FALSE;

  switch (self->mode)
    {
    case MODE_REFUND:
      problem = read_amount (self, &self->action->amount);
      replace_string (&self->action->reason,
                      combo_get_choice (self->reason_row, refund_reasons, G_N_ELEMENTS (refund_reasons)));
      break;

    case MODE_CREDIT_NOTE:
      problem = read_amount (self, &self->action->amount);
      replace_string (&self->action->reason,
                      combo_get_choice (self->reason_row, credit_note_reasons, G_N_ELEMENTS (credit_note_reasons)));
      needs_preview = TRUE;
      break;

    case MODE_CHANGE:
      {
        const FdStripeSubscriptionItem *item = g_ptr_array_index (self->subscription->items, 0);
        guint selected = adw_combo_row_get_selected (self->price_row);
        const char *price_id = selected < self->price_ids->len
                               ? g_ptr_array_index (self->price_ids, selected) : item->price_id;

        replace_string (&self->action->price_id, price_id);
        self->action->quantity = (gint64) gtk_spin_button_get_value_as_int (self->seats_spin);
        replace_string (&self->action->proration_behavior,
                        combo_get_choice (self->proration_row, prorations, G_N_ELEMENTS (prorations)));

        if (g_strcmp0 (price_id, item->price_id) == 0 && self->action->quantity == item->quantity)
          problem = g_strdup (_("Choose another plan or number of seats."));
        needs_preview = TRUE;
      }
      break;

    case MODE_PLAIN:
    default:
      if (self->action->kind == FD_BILLING_ACTION_PAUSE_COLLECTION)
        replace_string (&self->action->pause_behavior,
                        combo_get_choice (self->pause_row, pause_behaviors, G_N_ELEMENTS (pause_behaviors)));
      break;
    }

  if (problem == NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!fd_billing_action_validate (self->action, &error))
        problem = g_strdup (error->message);
    }

  if (problem == NULL && needs_preview)
    {
      g_autofree char *key = preview_key_for (self);

      if (g_strcmp0 (key, self->preview_key) != 0)
        {
          schedule_preview (self, key);
          problem = g_strdup (_("Waiting for Stripe’s preview before this can be confirmed…"));
        }
      else if (self->preview_error != NULL)
        {
          problem = g_strdup (self->preview_error);
        }
    }
  else if (needs_preview)
    {
      /* Nothing to preview: a preview of an earlier choice must not stay in sight. */
      g_clear_handle_id (&self->preview_source, g_source_remove);
      g_clear_pointer (&self->pending_key, g_free);
      g_clear_pointer (&self->preview_key, g_free);
      gtk_widget_set_visible (self->preview_box, FALSE);
    }

  g_free (self->problem);
  self->problem = g_steal_pointer (&problem);
  self->can_confirm = self->problem == NULL;

  gtk_label_set_label (self->problem_label, self->problem != NULL ? self->problem : "");
  gtk_widget_set_visible (self->problem_box, self->problem != NULL);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self),
                                           FD_BILLING_RESPONSE_CONFIRM, self->can_confirm);

  if (self->can_confirm)
    {
      g_autofree char *body = fd_billing_action_describe (self->action);

      adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self), body != NULL ? body : "");
    }
  else
    {
      switch (self->mode)
        {
        case MODE_REFUND:
          adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self),
                                       _("Choose how much to give back. Nothing is refunded until you confirm."));
          break;
        case MODE_CREDIT_NOTE:
          adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self),
                                       _("Choose how much to credit. Nothing changes until you confirm."));
          break;
        case MODE_CHANGE:
          adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self),
                                       _("Choose the plan and seats. The next invoice is previewed before anything changes."));
          break;
        case MODE_PLAIN:
        default:
          adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self), "");
          break;
        }
    }
}

static void
field_changed_cb (FdBillingActionDialog *self)
{
  /* Template signals arrive while the template is still being built. */
  if (self->action == NULL)
    return;

  action_dialog_update (self);
}

static void
amount_mode_toggled_cb (FdBillingActionDialog *self,
                        GtkToggleButton       *button)
{
  gboolean partial;

  if (self->action == NULL || !gtk_toggle_button_get_active (button))
    return;

  partial = gtk_toggle_button_get_active (self->partial_button);
  gtk_widget_set_sensitive (GTK_WIDGET (self->amount_row), partial);

  if (partial)
    gtk_widget_grab_focus (GTK_WIDGET (self->amount_row));
  else
    {
      g_autofree char *text = format_minor_plain (self->limit, self->currency);

      gtk_editable_set_text (GTK_EDITABLE (self->amount_row), text);
    }

  action_dialog_update (self);
}

static void
action_dialog_response_cb (FdBillingActionDialog *self,
                           const char            *response)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (task == NULL)
    return;

  g_clear_handle_id (&self->preview_source, g_source_remove);
  g_cancellable_cancel (self->preview_cancellable);

  if (g_strcmp0 (response, FD_BILLING_RESPONSE_CONFIRM) == 0 && self->can_confirm)
    g_task_return_pointer (task, _fd_billing_action_copy (self->action),
                           (GDestroyNotify) fd_billing_action_free);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("Nothing was done"));

  /* adw_message_dialog_response() emits the response without closing. */
  if (gtk_widget_get_visible (GTK_WIDGET (self)))
    gtk_window_close (GTK_WINDOW (self));
}

static void
fd_billing_action_dialog_dispose (GObject *object)
{
  FdBillingActionDialog *self = FD_BILLING_ACTION_DIALOG (object);

  g_clear_handle_id (&self->preview_source, g_source_remove);
  g_cancellable_cancel (self->preview_cancellable);
  g_cancellable_cancel (self->cancellable);

  if (self->task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->task);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Nothing was done"));
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_BILLING_ACTION_DIALOG);

  G_OBJECT_CLASS (fd_billing_action_dialog_parent_class)->dispose (object);
}

static void
fd_billing_action_dialog_finalize (GObject *object)
{
  FdBillingActionDialog *self = FD_BILLING_ACTION_DIALOG (object);

  g_clear_pointer (&self->action, fd_billing_action_free);
  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->preview_cancellable);
  g_clear_pointer (&self->problem, g_free);
  g_clear_pointer (&self->currency, g_free);
  g_clear_pointer (&self->subscription, subscription_copy_free);
  g_clear_object (&self->price_labels);
  g_clear_pointer (&self->price_ids, g_ptr_array_unref);
  g_clear_pointer (&self->invoice, invoice_copy_free);
  g_clear_pointer (&self->preview_key, g_free);
  g_clear_pointer (&self->pending_key, g_free);
  g_clear_pointer (&self->preview_error, g_free);

  G_OBJECT_CLASS (fd_billing_action_dialog_parent_class)->finalize (object);
}

static void
fd_billing_action_dialog_class_init (FdBillingActionDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_billing_action_dialog_dispose;
  object_class->finalize = fd_billing_action_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/billing/fd-billing-action-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, form);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, target_list);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, target_row);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, amount_mode_box);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, full_button);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, partial_button);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, fields_list);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, amount_row);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, amount_currency_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, reason_row);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, price_row);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, seats_row);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, seats_spin);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, proration_row);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, pause_row);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, amount_hint);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, preview_box);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, preview_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, preview_title);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, preview_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, preview_lines);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, problem_box);
  gtk_widget_class_bind_template_child (widget_class, FdBillingActionDialog, problem_label);
  gtk_widget_class_bind_template_callback (widget_class, field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, amount_mode_toggled_cb);
}

static void
fd_billing_action_dialog_init (FdBillingActionDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  g_signal_connect (self, "response", G_CALLBACK (action_dialog_response_cb), NULL);
}

static FdBillingActionDialog *
action_dialog_new (GtkWindow             *parent,
                   const FdBillingAction *action,
                   DialogMode             mode)
{
  FdBillingActionDialog *self;
  const char *cancel_label;
  const char *confirm_label;
  AdwResponseAppearance appearance;

  self = g_object_new (FD_TYPE_BILLING_ACTION_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->mode = mode;
  self->action = _fd_billing_action_copy (action);

  action_responses (action, &cancel_label, &confirm_label, &appearance);
  adw_message_dialog_set_heading (ADW_MESSAGE_DIALOG (self), action_heading (action));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (self),
                                    FD_BILLING_RESPONSE_CANCEL, cancel_label,
                                    FD_BILLING_RESPONSE_CONFIRM, confirm_label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (self),
                                              FD_BILLING_RESPONSE_CONFIRM, appearance);
  /* Money moves only by a deliberate click: Enter and Escape say no. */
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (self), FD_BILLING_RESPONSE_CANCEL);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (self), FD_BILLING_RESPONSE_CANCEL);

  return self;
}

FdBillingActionDialog *
fd_billing_action_dialog_new (GtkWindow             *parent,
                              const FdBillingAction *action)
{
  FdBillingActionDialog *self;

  g_return_val_if_fail (action != NULL, NULL);

  self = action_dialog_new (parent, action, MODE_PLAIN);

  if (action->kind == FD_BILLING_ACTION_PAUSE_COLLECTION)
    combo_set_choices (self->pause_row, pause_behaviors, G_N_ELEMENTS (pause_behaviors),
                       action->pause_behavior != NULL ? action->pause_behavior : "keep_as_draft");
  else
    gtk_widget_set_visible (self->form, FALSE);

  action_dialog_update (self);

  return self;
}

FdBillingActionDialog *
fd_billing_action_dialog_new_refund (GtkWindow             *parent,
                                     const FdBillingAction *action,
                                     const FdStripeCharge  *charge)
{
  FdBillingActionDialog *self;
  g_autofree char *amount = NULL;
  g_autofree char *date = NULL;
  g_autofree char *card = NULL;
  g_autofree char *limit = NULL;
  g_autofree char *hint = NULL;
  g_autofree char *full = NULL;
  g_autoptr(GString) subtitle = g_string_new (NULL);

  g_return_val_if_fail (action != NULL, NULL);
  g_return_val_if_fail (charge != NULL, NULL);

  self = action_dialog_new (parent, action, MODE_REFUND);
  self->currency = g_strdup (charge->currency);
  self->limit = fd_stripe_charge_refundable (charge);
  self->action->refundable = self->limit;
  replace_string (&self->action->currency, charge->currency);
  replace_string (&self->action->target_id, charge->id);

  amount = fd_money_format (charge->amount, charge->currency);
  date = fd_billing_format_date (charge->created);
  card = fd_billing_card_label (charge->card_brand, charge->card_last4);
  limit = fd_money_format (self->limit, charge->currency);

  /* Translators: a payment, "€49.00 on 3 March 2027". */
  g_string_append_printf (subtitle, _("%s on %s"), amount, date);
  if (card != NULL)
    g_string_append_printf (subtitle, " · %s", card);
  if (charge->amount_refunded > 0)
    {
      g_autofree char *refunded = fd_money_format (charge->amount_refunded, charge->currency);

      g_string_append (subtitle, " · ");
      /* Translators: %s is an amount of money. */
      g_string_append_printf (subtitle, _("%s already refunded"), refunded);
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->target_row), _("Payment"));
  adw_action_row_set_subtitle (self->target_row, subtitle->str);
  gtk_widget_set_visible (self->target_list, TRUE);

  gtk_widget_set_visible (self->amount_mode_box, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->amount_row), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->amount_row), FALSE);
  full = format_minor_plain (self->limit, charge->currency);
  gtk_editable_set_text (GTK_EDITABLE (self->amount_row), full);
  {
    g_autofree char *code = fd_currency_code (charge->currency);

    gtk_label_set_label (self->amount_currency_label, code);
  }

  /* Translators: %s is an amount of money. */
  hint = g_strdup_printf (_("Up to %s can be refunded."), limit);
  gtk_label_set_label (self->amount_hint, hint);
  gtk_widget_set_visible (GTK_WIDGET (self->amount_hint), TRUE);

  combo_set_choices (self->reason_row, refund_reasons, G_N_ELEMENTS (refund_reasons),
                     action->reason != NULL ? action->reason : "requested_by_customer");

  action_dialog_update (self);

  return self;
}

typedef struct
{
  char *id;
  char *label;
} PriceChoice;

static void
prices_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(FdBillingActionDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) prices = NULL;
  const FdStripeSubscriptionItem *item;
  g_autofree char *current_id = NULL;
  guint selected;

  prices = fd_stripe_client_list_finish (FD_STRIPE_CLIENT (object), result, &error);
  if (prices == NULL)
    {
      /* The plan stays as it is; seats can still change. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not list prices: %s", error->message);
      return;
    }

  item = g_ptr_array_index (self->subscription->items, 0);
  selected = adw_combo_row_get_selected (self->price_row);
  if (selected < self->price_ids->len)
    current_id = g_strdup (g_ptr_array_index (self->price_ids, selected));

  for (guint i = 0; i < json_array_get_length (prices); i++)
    {
      JsonObject *price = json_array_get_object_element (prices, i);
      JsonObject *recurring;
      JsonObject *product;
      const char *id;
      const char *name;
      g_autofree char *amount = NULL;
      g_autofree char *label = NULL;

      if (price == NULL || (id = fd_stripe_get_string (price, "id")) == NULL)
        continue;
      if (g_strcmp0 (id, item->price_id) == 0)
        continue;
      /* Totals never mix currencies: only prices in the subscription's. */
      if (g_ascii_strcasecmp (fd_stripe_get_string (price, "currency") ?: "",
                              self->subscription->currency ?: item->currency ?: "") != 0)
        continue;

      recurring = fd_stripe_get_object (price, "recurring");
      product = fd_stripe_get_object (price, "product");
      name = fd_stripe_get_string (price, "nickname");
      if (name == NULL && product != NULL)
        name = fd_stripe_get_string (product, "name");
      if (name == NULL)
        name = id;

      amount = fd_billing_price_text (fd_stripe_get_int (price, "unit_amount", 0),
                                      fd_stripe_get_string (price, "currency"),
                                      recurring != NULL ? fd_stripe_get_string (recurring, "interval") : NULL,
                                      recurring != NULL ? (int) fd_stripe_get_int (recurring, "interval_count", 1) : 1);
      /* Translators: a plan and its price, "Business · €20.00 per month". */
      label = g_strdup_printf (_("%s · %s"), name, amount);
      gtk_string_list_append (self->price_labels, label);
      g_ptr_array_add (self->price_ids, g_strdup (id));
    }

  for (guint i = 0; current_id != NULL && i < self->price_ids->len; i++)
    {
      if (g_str_equal (g_ptr_array_index (self->price_ids, i), current_id))
        adw_combo_row_set_selected (self->price_row, i);
    }
}

FdBillingActionDialog *
fd_billing_action_dialog_new_change (GtkWindow                  *parent,
                                     FdStripeClient             *client,
                                     const FdBillingAction      *action,
                                     const FdStripeSubscription *subscription)
{
  FdBillingActionDialog *self;
  const FdStripeSubscriptionItem *item;
  g_autofree char *price = NULL;
  g_autofree char *current = NULL;
  g_autofree char *subtitle = NULL;
  g_autoptr(FdStripeParams) params = NULL;

  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (client), NULL);
  g_return_val_if_fail (action != NULL, NULL);
  g_return_val_if_fail (subscription != NULL && subscription->items != NULL && subscription->items->len > 0, NULL);

  self = action_dialog_new (parent, action, MODE_CHANGE);
  self->client = g_object_ref (client);
  self->subscription = subscription_copy (subscription);
  item = g_ptr_array_index (subscription->items, 0);
  replace_string (&self->action->target_id, subscription->id);
  replace_string (&self->action->item_id, item->id);

  price = fd_billing_price_text (item->unit_amount, item->currency, item->interval, item->interval_count);
  /* Translators: "Pro · 150 seats · €10.00 per month". */
  subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%s · %" G_GINT64_FORMAT " seat · %s",
                                           "%s · %" G_GINT64_FORMAT " seats · %s",
                                           item->quantity),
                              item->product_name != NULL ? item->product_name : item->price_id,
                              item->quantity, price);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->target_row), _("Now"));
  adw_action_row_set_subtitle (self->target_row, subtitle);
  gtk_widget_set_visible (self->target_list, TRUE);

  /* Translators: the subscription's plan as it is now, "Pro · €10.00 per month (now)". */
  current = g_strdup_printf (_("%s · %s (now)"),
                             item->product_name != NULL ? item->product_name : item->price_id,
                             price);
  self->price_labels = gtk_string_list_new (NULL);
  gtk_string_list_append (self->price_labels, current);
  self->price_ids = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->price_ids, g_strdup (item->price_id));
  adw_combo_row_set_model (self->price_row, G_LIST_MODEL (self->price_labels));
  adw_combo_row_set_selected (self->price_row, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->price_row), TRUE);

  gtk_spin_button_set_value (self->seats_spin, (double) MAX (item->quantity, 1));
  gtk_widget_set_visible (self->seats_row, TRUE);

  combo_set_choices (self->proration_row, prorations, G_N_ELEMENTS (prorations),
                     action->proration_behavior != NULL ? action->proration_behavior : "create_prorations");

  /* Other plans in the same currency, to switch to. */
  params = fd_stripe_params_new ();
  fd_stripe_params_add (params, "active", "true");
  fd_stripe_params_add (params, "type", "recurring");
  if (subscription->currency != NULL)
    fd_stripe_params_add (params, "currency", subscription->currency);
  fd_stripe_params_add_expand (params, "data.product");
  fd_stripe_client_list_async (client, "/v1/prices", params, 100, self->cancellable,
                               prices_cb, g_object_ref (self));

  action_dialog_update (self);

  return self;
}

FdBillingActionDialog *
fd_billing_action_dialog_new_credit_note (GtkWindow             *parent,
                                          FdStripeClient        *client,
                                          const FdBillingAction *action,
                                          const FdStripeInvoice *invoice)
{
  FdBillingActionDialog *self;
  g_autofree char *total = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *hint = NULL;
  g_autofree char *code = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (client), NULL);
  g_return_val_if_fail (action != NULL, NULL);
  g_return_val_if_fail (invoice != NULL, NULL);

  self = action_dialog_new (parent, action, MODE_CREDIT_NOTE);
  self->client = g_object_ref (client);
  self->invoice = invoice_copy (invoice);
  self->currency = g_strdup (invoice->currency);
  self->limit = invoice->total;
  replace_string (&self->action->currency, invoice->currency);
  replace_string (&self->action->target_id, invoice->id);

  total = fd_money_format (invoice->total, invoice->currency);
  /* Translators: an invoice's total and status, "€1,500.00 · Paid". */
  subtitle = g_strdup_printf (_("%s · %s"), total, fd_stripe_status_label (invoice->status));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->target_row),
                                 invoice->number != NULL ? invoice->number : invoice->id);
  adw_action_row_set_subtitle (self->target_row, subtitle);
  gtk_widget_set_visible (self->target_list, TRUE);

  gtk_widget_set_visible (GTK_WIDGET (self->amount_row), TRUE);
  code = fd_currency_code (invoice->currency);
  gtk_label_set_label (self->amount_currency_label, code);
  text = format_minor_plain (invoice->total, invoice->currency);
  gtk_editable_set_text (GTK_EDITABLE (self->amount_row), text);

  /* Translators: %s is an amount of money. */
  hint = g_strdup_printf (_("Up to %s can be credited."), total);
  gtk_label_set_label (self->amount_hint, hint);
  gtk_widget_set_visible (GTK_WIDGET (self->amount_hint), TRUE);

  combo_set_choices (self->reason_row, credit_note_reasons, G_N_ELEMENTS (credit_note_reasons),
                     action->reason != NULL ? action->reason : "order_change");

  action_dialog_update (self);

  return self;
}

static void
action_dialog_cancelled_cb (GCancellable          *cancellable,
                            FdBillingActionDialog *self)
{
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (self), FD_BILLING_RESPONSE_CANCEL);
}

void
fd_billing_action_dialog_run_async (FdBillingActionDialog *self,
                                    GCancellable          *cancellable,
                                    GAsyncReadyCallback    callback,
                                    gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_BILLING_ACTION_DIALOG (self));
  g_return_if_fail (self->task == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_action_dialog_run_async);

  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled",
                             G_CALLBACK (action_dialog_cancelled_cb), self, 0);

  self->task = g_steal_pointer (&task);
  gtk_window_present (GTK_WINDOW (self));
}

FdBillingAction *
fd_billing_action_dialog_run_finish (FdBillingActionDialog  *self,
                                     GAsyncResult           *result,
                                     GError                **error)
{
  g_return_val_if_fail (FD_IS_BILLING_ACTION_DIALOG (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const FdBillingAction *
fd_billing_action_dialog_get_action (FdBillingActionDialog *self)
{
  g_return_val_if_fail (FD_IS_BILLING_ACTION_DIALOG (self), NULL);

  return self->action;
}

const char *
fd_billing_action_dialog_get_problem (FdBillingActionDialog *self)
{
  g_return_val_if_fail (FD_IS_BILLING_ACTION_DIALOG (self), NULL);

  return self->problem;
}

gboolean
fd_billing_action_dialog_get_preview_shown (FdBillingActionDialog *self)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (FD_IS_BILLING_ACTION_DIALOG (self), FALSE);

  if (self->preview_key == NULL || self->preview_error != NULL)
    return FALSE;

  key = preview_key_for (self);
  return g_str_equal (key, self->preview_key) && gtk_widget_get_visible (self->preview_box);
}

gboolean
fd_billing_action_dialog_get_can_confirm (FdBillingActionDialog *self)
{
  g_return_val_if_fail (FD_IS_BILLING_ACTION_DIALOG (self), FALSE);

  return self->can_confirm &&
         adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (self), FD_BILLING_RESPONSE_CONFIRM);
}

GtkEditable *
_fd_billing_action_dialog_get_amount_editable (FdBillingActionDialog *self)
{
  g_return_val_if_fail (FD_IS_BILLING_ACTION_DIALOG (self), NULL);

  return GTK_EDITABLE (self->amount_row);
}

GtkSpinButton *
_fd_billing_action_dialog_get_seats_spin (FdBillingActionDialog *self)
{
  g_return_val_if_fail (FD_IS_BILLING_ACTION_DIALOG (self), NULL);

  return self->seats_spin;
}

void
_fd_billing_action_dialog_set_partial (FdBillingActionDialog *self,
                                       gboolean               partial)
{
  g_return_if_fail (FD_IS_BILLING_ACTION_DIALOG (self));

  gtk_toggle_button_set_active (partial ? self->partial_button : self->full_button, TRUE);
}

/* }}} */
/* {{{ FdBillingDisputeWindow */

typedef enum
{
  FIELD_ENTRY,
  FIELD_TEXT,
  FIELD_FILE,
} FieldKind;

typedef enum
{
  GROUP_CUSTOMER,
  GROUP_SERVICE,
  GROUP_POLICY,
  GROUP_DUPLICATE,
  GROUP_OTHER,
  GROUP_FILES,
} FieldGroup;

/* Stripe's evidence fields (dispute_evidence_params); the file ones take a file id. */
static const struct
{
  const char *name;
  const char *title;
  FieldKind   kind;
  FieldGroup  group;
} evidence_fields[] = {
  { "customer_name", N_("Name"), FIELD_ENTRY, GROUP_CUSTOMER },
  { "customer_email_address", N_("Email Address"), FIELD_ENTRY, GROUP_CUSTOMER },
  { "customer_purchase_ip", N_("IP Address When Buying"), FIELD_ENTRY, GROUP_CUSTOMER },
  { "billing_address", N_("Billing Address"), FIELD_ENTRY, GROUP_CUSTOMER },
  { "product_description", N_("Product Description"), FIELD_TEXT, GROUP_SERVICE },
  { "service_date", N_("When the Service Was Provided"), FIELD_ENTRY, GROUP_SERVICE },
  { "access_activity_log", N_("Access and Activity Log"), FIELD_TEXT, GROUP_SERVICE },
  { "cancellation_policy_disclosure", N_("How the Cancellation Policy Was Shown"), FIELD_TEXT, GROUP_POLICY },
  { "cancellation_rebuttal", N_("Why the Customer Is Not Owed a Cancellation"), FIELD_TEXT, GROUP_POLICY },
  { "refund_policy_disclosure", N_("How the Refund Policy Was Shown"), FIELD_TEXT, GROUP_POLICY },
  { "refund_refusal_explanation", N_("Why the Customer Is Not Owed a Refund"), FIELD_TEXT, GROUP_POLICY },
  { "duplicate_charge_id", N_("The Other Payment’s Id"), FIELD_ENTRY, GROUP_DUPLICATE },
  { "duplicate_charge_explanation", N_("Why These Are Not the Same Payment"), FIELD_TEXT, GROUP_DUPLICATE },
  { "uncategorized_text", N_("Other Evidence"), FIELD_TEXT, GROUP_OTHER },
  { "customer_communication", N_("Customer Communication"), FIELD_FILE, GROUP_FILES },
  { "receipt", N_("Receipt"), FIELD_FILE, GROUP_FILES },
  { "service_documentation", N_("Service Documentation"), FIELD_FILE, GROUP_FILES },
  { "cancellation_policy", N_("Cancellation Policy"), FIELD_FILE, GROUP_FILES },
  { "refund_policy", N_("Refund Policy"), FIELD_FILE, GROUP_FILES },
  { "uncategorized_file", N_("Other File"), FIELD_FILE, GROUP_FILES },
};

#define N_EVIDENCE_FIELDS G_N_ELEMENTS (evidence_fields)

typedef struct
{
  GtkWidget *widget;      /* AdwEntryRow, GtkTextView or the file's AdwActionRow */
  GtkWidget *spinner;     /* files: while uploading */
  GtkWidget *clear;       /* files: removes the file */
  GtkWidget *choose;      /* files: picks one */
  char      *initial;     /* as Stripe has it */
  char      *file_id;     /* files: as chosen now */
} Field;

struct _FdBillingDisputeWindow
{
  AdwWindow            parent_instance;

  FdStripeClient      *client;
  FdStripePermissions  permissions;
  FdBillingAction     *action;
  GTask               *task;
  GCancellable        *cancellable;
  Field                fields[N_EVIDENCE_FIELDS];
  guint                uploads;
  gboolean             confirming;
  /* Answers that arrive after the window went away touch nothing. */
  gboolean             disposed;

  /* What prefill reads. */
  char                *customer_name;
  char                *customer_email;
  char                *product_description;
  gint64               charge_created;
  char                *transcript;
  char                *transcript_title;
  char                *audit_lines;

  /* Template widgets */
  AdwToastOverlay     *toast_overlay;
  GtkWidget           *submit_button;
  GtkWidget           *draft_button;
  GtkLabel            *summary_title;
  GtkLabel            *reason_label;
  GtkWidget           *due_box;
  GtkImage            *due_icon;
  GtkLabel            *due_label;
  GtkLabel            *advice_label;
  GtkWidget           *fill_button;
  AdwButtonContent    *fill_content;
  AdwPreferencesGroup *customer_group;
  AdwPreferencesGroup *service_group;
  AdwPreferencesGroup *policy_group;
  AdwPreferencesGroup *duplicate_group;
  AdwPreferencesGroup *other_group;
  AdwPreferencesGroup *files_group;
  GtkWidget           *close_group;
  GtkWidget           *close_button;
};

G_DEFINE_FINAL_TYPE (FdBillingDisputeWindow, fd_billing_dispute_window, ADW_TYPE_WINDOW)

static int
field_index (const char *name)
{
  for (guint i = 0; i < N_EVIDENCE_FIELDS; i++)
    {
      if (g_strcmp0 (evidence_fields[i].name, name) == 0)
        return (int) i;
    }

  return -1;
}

static char *
field_get_text (FdBillingDisputeWindow *self,
                guint                   i)
{
  Field *field = &self->fields[i];

  switch (evidence_fields[i].kind)
    {
    case FIELD_ENTRY:
      return g_strdup (gtk_editable_get_text (GTK_EDITABLE (field->widget)));

    case FIELD_TEXT:
      {
        GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (field->widget));
        GtkTextIter start, end;

        gtk_text_buffer_get_bounds (buffer, &start, &end);
        return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      }

    case FIELD_FILE:
    default:
      return g_strdup (field->file_id != NULL ? field->file_id : "");
    }
}

static void
file_field_show (FdBillingDisputeWindow *self,
                 guint                   i,
                 const char             *label)
{
  Field *field = &self->fields[i];
  gboolean has_file = field->file_id != NULL && *field->file_id != '\0';

  adw_action_row_set_subtitle (ADW_ACTION_ROW (field->widget),
                               label != NULL ? label : has_file ? field->file_id : _("No file"));
  gtk_widget_set_visible (field->clear, has_file && field->choose != NULL && gtk_widget_get_visible (field->choose));
}

static void
field_set_text (FdBillingDisputeWindow *self,
                guint                   i,
                const char             *value)
{
  Field *field = &self->fields[i];

  switch (evidence_fields[i].kind)
    {
    case FIELD_ENTRY:
      gtk_editable_set_text (GTK_EDITABLE (field->widget), value != NULL ? value : "");
      break;

    case FIELD_TEXT:
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (field->widget)),
                                value != NULL ? value : "", -1);
      break;

    case FIELD_FILE:
    default:
      g_free (field->file_id);
      field->file_id = g_strdup (value != NULL && *value != '\0' ? value : NULL);
      file_field_show (self, i, NULL);
      break;
    }
}

static gboolean
evidence_changed (FdBillingDisputeWindow *self)
{
  for (guint i = 0; i < N_EVIDENCE_FIELDS; i++)
    {
      g_autofree char *value = field_get_text (self, i);

      if (g_strcmp0 (value, self->fields[i].initial != NULL ? self->fields[i].initial : "") != 0)
        return TRUE;
    }

  return FALSE;
}

static void
dispute_update_buttons (FdBillingDisputeWindow *self)
{
  gboolean can_write = (self->permissions & FD_STRIPE_CAN_WRITE_DISPUTES) != 0;
  gboolean idle = self->uploads == 0 && !self->confirming;

  if (self->disposed)
    return;

  gtk_widget_set_visible (self->draft_button, can_write);
  gtk_widget_set_visible (self->submit_button, can_write);
  gtk_widget_set_visible (self->close_group, can_write);
  gtk_widget_set_sensitive (self->draft_button, idle && evidence_changed (self));
  gtk_widget_set_sensitive (self->submit_button, idle);
  gtk_widget_set_sensitive (self->close_button, idle);
}

static void
evidence_edited_cb (FdBillingDisputeWindow *self)
{
  dispute_update_buttons (self);
}

static void
dispute_toast (FdBillingDisputeWindow *self,
               const char             *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
}

/* {{{ Uploads */

typedef struct
{
  FdBillingDisputeWindow *self;
  guint                   field;
  char                   *filename;
} UploadData;

static void
upload_data_free (UploadData *data)
{
  g_object_unref (data->self);
  g_free (data->filename);
  g_free (data);
}

static void
upload_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  UploadData *data = user_data;
  FdBillingDisputeWindow *self = data->self;
  Field *field = &self->fields[data->field];
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) file = NULL;
  g_autofree char *request_id = NULL;

  file = fd_stripe_client_upload_finish (FD_STRIPE_CLIENT (object), result, &request_id, &error);

  if (self->disposed)
    {
      upload_data_free (data);
      return;
    }

  self->uploads--;
  gtk_spinner_stop (GTK_SPINNER (field->spinner));
  gtk_widget_set_visible (field->spinner, FALSE);
  gtk_widget_set_sensitive (field->choose, TRUE);

  if (file == NULL || fd_stripe_get_string (file, "id") == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *message = NULL;

          /* Translators: %s is a file name, then why it failed as a full sentence. */
          message = g_strdup_printf (_("“%s” could not be sent to Stripe. %s"),
                                     data->filename, error != NULL ? error->message : "");
          dispute_toast (self, message);
        }
      file_field_show (self, data->field, NULL);
    }
  else
    {
      g_autofree char *label = NULL;

      g_free (field->file_id);
      field->file_id = g_strdup (fd_stripe_get_string (file, "id"));
      /* Translators: a file name and the id Stripe gave it, "conversation.pdf (file_1N…)". */
      label = g_strdup_printf (_("%s (%s)"), data->filename, field->file_id);
      file_field_show (self, data->field, label);
    }

  dispute_update_buttons (self);
  upload_data_free (data);
}

static void
upload_bytes (FdBillingDisputeWindow *self,
              guint                   i,
              const char             *filename,
              GBytes                 *bytes)
{
  Field *field = &self->fields[i];
  g_autofree char *content_type = NULL;
  g_autofree char *mime = NULL;
  g_autofree char *key = NULL;
  UploadData *data;

  if (self->disposed)
    return;

  if (g_bytes_get_size (bytes) > MAX_EVIDENCE_FILE_SIZE)
    {
      g_autofree char *message = NULL;

      /* Translators: %s is a file name. */
      message = g_strdup_printf (_("“%s” is larger than the 5 MB Stripe accepts."), filename);
      dispute_toast (self, message);
      return;
    }

  content_type = g_content_type_guess (filename, g_bytes_get_data (bytes, NULL),
                                       g_bytes_get_size (bytes), NULL);
  mime = g_content_type_get_mime_type (content_type);
  if (mime == NULL || (!g_str_equal (mime, "application/pdf") &&
                       !g_str_equal (mime, "image/jpeg") &&
                       !g_str_equal (mime, "image/png")))
    {
      g_autofree char *message = NULL;

      /* Translators: %s is a file name. */
      message = g_strdup_printf (_("“%s” is not a PDF, JPEG or PNG file, which is all Stripe accepts as evidence."),
                                 filename);
      dispute_toast (self, message);
      return;
    }

  data = g_new0 (UploadData, 1);
  data->self = g_object_ref (self);
  data->field = i;
  data->filename = g_strdup (filename);

  self->uploads++;
  gtk_widget_set_visible (field->spinner, TRUE);
  gtk_spinner_start (GTK_SPINNER (field->spinner));
  gtk_widget_set_sensitive (field->choose, FALSE);
  {
    g_autofree char *label = NULL;

    /* Translators: %s is a file name. */
    label = g_strdup_printf (_("Sending “%s”…"), filename);
    adw_action_row_set_subtitle (ADW_ACTION_ROW (field->widget), label);
  }
  dispute_update_buttons (self);

  /* A file upload creates nothing that costs money: a new key each time is safe. */
  key = g_uuid_string_random ();
  fd_stripe_client_upload_async (self->client, "dispute_evidence", filename, mime, bytes, key,
                                 self->cancellable, upload_cb, data);
}

static void
file_loaded_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  UploadData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, &length, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !data->self->disposed)
        {
          g_autofree char *message = NULL;

          /* Translators: %s is a file name, then why, as a full sentence. */
          message = g_strdup_printf (_("“%s” could not be read. %s"), data->filename, error->message);
          dispute_toast (data->self, message);
        }
    }
  else
    {
      g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&contents), length);

      upload_bytes (data->self, data->field, data->filename, bytes);
    }

  upload_data_free (data);
}

static void
file_chosen_cb (GtkNativeDialog *chooser,
                int              response,
                UploadData      *data)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      if (file != NULL)
        {
          UploadData *load = g_new0 (UploadData, 1);

          load->self = g_object_ref (data->self);
          load->field = data->field;
          load->filename = g_file_get_basename (file);
          g_file_load_contents_async (file, data->self->cancellable, file_loaded_cb, load);
        }
    }

  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
  upload_data_free (data);
}

static void
choose_file_clicked_cb (GtkButton              *button,
                        FdBillingDisputeWindow *self)
{
  guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "fd-field"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;
  UploadData *data;

  chooser = gtk_file_chooser_native_new (_("Choose Evidence"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Attach"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("PDF, JPEG or PNG"));
  gtk_file_filter_add_mime_type (filter, "application/pdf");
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);

  data = g_new0 (UploadData, 1);
  data->self = g_object_ref (self);
  data->field = i;
  g_signal_connect (chooser, "response", G_CALLBACK (file_chosen_cb), data);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
clear_file_clicked_cb (GtkButton              *button,
                       FdBillingDisputeWindow *self)
{
  guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "fd-field"));

  field_set_text (self, i, NULL);
  dispute_update_buttons (self);
}

static cairo_status_t
pdf_write_cb (void                *closure,
              const unsigned char *data,
              unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* The conversation as an A4 PDF: Stripe takes evidence files as PDF, JPEG or PNG. */
static GBytes *
transcript_to_pdf (const char *title,
                   const char *text)
{
  const double page_width = 595.0, page_height = 842.0, margin = 56.0;
  GByteArray *bytes = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_t *cr;
  g_autoptr(PangoLayout) layout = NULL;
  PangoFontDescription *font;
  PangoLayoutIter *iter;
  g_autofree char *all = NULL;
  double page_top = 0.0;

  surface = cairo_pdf_surface_create_for_stream (pdf_write_cb, bytes, page_width, page_height);
  cr = cairo_create (surface);
  layout = pango_cairo_create_layout (cr);
  font = pango_font_description_from_string ("Sans 10");
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  pango_layout_set_width (layout, (int) ((page_width - 2 * margin) * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  all = g_strdup_printf ("%s\n\n%s", title != NULL ? title : "", text != NULL ? text : "");
  pango_layout_set_text (layout, all, -1);

  iter = pango_layout_get_iter (layout);
  do
    {
      PangoLayoutLine *line = pango_layout_iter_get_line_readonly (iter);
      PangoRectangle logical;
      double top, bottom;

      pango_layout_iter_get_line_extents (iter, NULL, &logical);
      top = (double) logical.y / PANGO_SCALE;
      bottom = (double) (logical.y + logical.height) / PANGO_SCALE;

      if (bottom - page_top > page_height - 2 * margin)
        {
          cairo_show_page (cr);
          page_top = top;
        }

      cairo_move_to (cr,
                     margin + (double) logical.x / PANGO_SCALE,
                     margin + (double) pango_layout_iter_get_baseline (iter) / PANGO_SCALE - page_top);
      pango_cairo_show_layout_line (cr, line);
    }
  while (pango_layout_iter_next_line (iter));
  pango_layout_iter_free (iter);

  cairo_destroy (cr);
  cairo_surface_finish (surface);
  cairo_surface_destroy (surface);

  return g_byte_array_free_to_bytes (bytes);
}

/* }}} */

static void
set_if_empty (FdBillingDisputeWindow *self,
              const char             *name,
              const char             *value)
{
  int i = field_index (name);
  g_autofree char *current = NULL;

  if (i < 0 || value == NULL || *value == '\0')
    return;

  current = field_get_text (self, i);
  if (current == NULL || *g_strstrip (current) == '\0')
    field_set_text (self, i, value);
}

/* What Stripe itself says about the customer and the payment: filled in at once,
 * nothing is sent until the agent saves. */
static void
prefill_known (FdBillingDisputeWindow *self)
{
  set_if_empty (self, "customer_name", self->customer_name);
  set_if_empty (self, "customer_email_address", self->customer_email);
  set_if_empty (self, "product_description", self->product_description);
  if (self->charge_created > 0)
    {
      g_autofree char *date = fd_billing_format_date (self->charge_created);

      set_if_empty (self, "service_date", date);
    }
}

void
fd_billing_dispute_window_prefill (FdBillingDisputeWindow *self)
{
  int communication;
  gboolean can_upload;

  g_return_if_fail (FD_IS_BILLING_DISPUTE_WINDOW (self));

  prefill_known (self);
  set_if_empty (self, "access_activity_log", self->audit_lines);

  communication = field_index ("customer_communication");
  can_upload = (self->permissions & FD_STRIPE_CAN_WRITE_FILES) != 0;

  if (self->transcript != NULL && *self->transcript != '\0')
    {
      if (can_upload && self->fields[communication].file_id == NULL)
        {
          g_autoptr(GBytes) pdf = transcript_to_pdf (self->transcript_title, self->transcript);

          set_if_empty (self, "uncategorized_text",
                        _("The customer’s messages to our support team are attached as customer communication."));
          upload_bytes (self, communication, "conversation.pdf", pdf);
        }
      else if (!can_upload)
        {
          g_autofree char *text = NULL;

          /* Without file uploads the conversation goes in as text, within Stripe's limit. */
          text = g_strdup_printf ("%s\n\n%s", _("The customer’s messages to our support team:"),
                                  self->transcript);
          if (g_utf8_strlen (text, -1) > 19000)
            {
              char *end = g_utf8_offset_to_pointer (text, 19000);

              *end = '\0';
            }
          set_if_empty (self, "uncategorized_text", text);
        }
    }

  dispute_update_buttons (self);
}

static void
fill_clicked_cb (FdBillingDisputeWindow *self)
{
  fd_billing_dispute_window_prefill (self);
}

FdStripeParams *
fd_billing_dispute_window_get_evidence (FdBillingDisputeWindow *self)
{
  FdStripeParams *params;

  g_return_val_if_fail (FD_IS_BILLING_DISPUTE_WINDOW (self), NULL);

  params = fd_stripe_params_new ();
  for (guint i = 0; i < N_EVIDENCE_FIELDS; i++)
    {
      g_autofree char *value = field_get_text (self, i);

      /* Only what changed: an emptied field is sent empty, so Stripe forgets it. */
      if (g_strcmp0 (value, self->fields[i].initial != NULL ? self->fields[i].initial : "") != 0)
        {
          g_autofree char *name = g_strdup_printf ("evidence[%s]", evidence_fields[i].name);

          fd_stripe_params_add (params, name, value);
        }
    }

  return params;
}

static void
dispute_finish (FdBillingDisputeWindow *self,
                FdBillingAction        *action)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (task != NULL)
    {
      if (action != NULL)
        g_task_return_pointer (task, action, (GDestroyNotify) fd_billing_action_free);
      else
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Nothing was done"));
    }
  else if (action != NULL)
    {
      fd_billing_action_free (action);
    }

  gtk_window_destroy (GTK_WINDOW (self));
}

static FdBillingAction *
dispute_action (FdBillingDisputeWindow *self,
                FdBillingActionKind     kind,
                gboolean                submit)
{
  FdBillingAction *action = _fd_billing_action_copy (self->action);

  action->kind = kind;
  action->submit = submit;
  g_clear_pointer (&action->evidence, fd_stripe_params_free);
  if (kind == FD_BILLING_ACTION_UPDATE_DISPUTE)
    action->evidence = fd_billing_dispute_window_get_evidence (self);

  return action;
}

static void
confirm_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(FdBillingDisputeWindow) self = user_data;
  FdBillingAction *action;

  action = fd_billing_action_dialog_run_finish (FD_BILLING_ACTION_DIALOG (object), result, NULL);
  self->confirming = FALSE;

  if (action != NULL && self->task != NULL && !self->disposed)
    dispute_finish (self, action);
  else
    {
      if (action != NULL)
        fd_billing_action_free (action);
      dispute_update_buttons (self);
    }
}

static void
dispute_confirm (FdBillingDisputeWindow *self,
                 FdBillingActionKind     kind)
{
  g_autoptr(FdBillingAction) action = dispute_action (self, kind, kind == FD_BILLING_ACTION_UPDATE_DISPUTE);
  FdBillingActionDialog *dialog;

  dialog = fd_billing_action_dialog_new (GTK_WINDOW (self), action);
  self->confirming = TRUE;
  dispute_update_buttons (self);
  fd_billing_action_dialog_run_async (dialog, self->cancellable, confirm_cb, g_object_ref (self));
}

void
_fd_billing_dispute_window_choose (FdBillingDisputeWindow *self,
                                   const char             *choice)
{
  g_return_if_fail (FD_IS_BILLING_DISPUTE_WINDOW (self));

  if (self->uploads > 0 || self->confirming)
    return;

  if (g_strcmp0 (choice, "draft") == 0)
    dispute_finish (self, dispute_action (self, FD_BILLING_ACTION_UPDATE_DISPUTE, FALSE));
  else if (g_strcmp0 (choice, "submit") == 0)
    dispute_confirm (self, FD_BILLING_ACTION_UPDATE_DISPUTE);
  else if (g_strcmp0 (choice, "close") == 0)
    dispute_confirm (self, FD_BILLING_ACTION_CLOSE_DISPUTE);
}

static void
draft_clicked_cb (FdBillingDisputeWindow *self)
{
  _fd_billing_dispute_window_choose (self, "draft");
}

static void
submit_clicked_cb (FdBillingDisputeWindow *self)
{
  _fd_billing_dispute_window_choose (self, "submit");
}

static void
close_clicked_cb (FdBillingDisputeWindow *self)
{
  _fd_billing_dispute_window_choose (self, "close");
}

static gboolean
fd_billing_dispute_window_close_request (GtkWindow *window)
{
  FdBillingDisputeWindow *self = FD_BILLING_DISPUTE_WINDOW (window);

  if (self->task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->task);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Nothing was done"));
    }

  return GTK_WINDOW_CLASS (fd_billing_dispute_window_parent_class)->close_request (window);
}

static void
fd_billing_dispute_window_dispose (GObject *object)
{
  FdBillingDisputeWindow *self = FD_BILLING_DISPUTE_WINDOW (object);

  self->disposed = TRUE;
  g_cancellable_cancel (self->cancellable);

  if (self->task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->task);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Nothing was done"));
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_BILLING_DISPUTE_WINDOW);

  G_OBJECT_CLASS (fd_billing_dispute_window_parent_class)->dispose (object);
}

static void
fd_billing_dispute_window_finalize (GObject *object)
{
  FdBillingDisputeWindow *self = FD_BILLING_DISPUTE_WINDOW (object);

  for (guint i = 0; i < N_EVIDENCE_FIELDS; i++)
    {
      g_free (self->fields[i].initial);
      g_free (self->fields[i].file_id);
    }

  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->action, fd_billing_action_free);
  g_free (self->customer_name);
  g_free (self->customer_email);
  g_free (self->product_description);
  g_free (self->transcript);
  g_free (self->transcript_title);
  g_free (self->audit_lines);

  G_OBJECT_CLASS (fd_billing_dispute_window_parent_class)->finalize (object);
}

static void
fd_billing_dispute_window_class_init (FdBillingDisputeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = fd_billing_dispute_window_dispose;
  object_class->finalize = fd_billing_dispute_window_finalize;

  window_class->close_request = fd_billing_dispute_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/billing/fd-billing-dispute-window.ui");
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, submit_button);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, draft_button);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, summary_title);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, reason_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, due_box);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, due_icon);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, due_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, advice_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, fill_button);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, fill_content);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, customer_group);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, service_group);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, policy_group);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, duplicate_group);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, other_group);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, files_group);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, close_group);
  gtk_widget_class_bind_template_child (widget_class, FdBillingDisputeWindow, close_button);
  gtk_widget_class_bind_template_callback (widget_class, draft_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, submit_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, close_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, fill_clicked_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static AdwPreferencesGroup *
field_group (FdBillingDisputeWindow *self,
             FieldGroup              group)
{
  switch (group)
    {
    case GROUP_CUSTOMER:
      return self->customer_group;
    case GROUP_SERVICE:
      return self->service_group;
    case GROUP_POLICY:
      return self->policy_group;
    case GROUP_DUPLICATE:
      return self->duplicate_group;
    case GROUP_OTHER:
      return self->other_group;
    case GROUP_FILES:
    default:
      return self->files_group;
    }
}

static void
build_fields (FdBillingDisputeWindow *self)
{
  for (guint i = 0; i < N_EVIDENCE_FIELDS; i++)
    {
      Field *field = &self->fields[i];
      AdwPreferencesGroup *group = field_group (self, evidence_fields[i].group);
      const char *title = _(evidence_fields[i].title);

      switch (evidence_fields[i].kind)
        {
        case FIELD_ENTRY:
          field->widget = adw_entry_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (field->widget), title);
          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (field->widget), FALSE);
          g_signal_connect_object (field->widget, "changed", G_CALLBACK (evidence_edited_cb),
                                   self, G_CONNECT_SWAPPED);
          adw_preferences_group_add (group, field->widget);
          break;

        case FIELD_TEXT:
          {
            /* An AdwPreferencesRow, so the group puts it in its list with the others. */
            GtkWidget *row = g_object_new (ADW_TYPE_PREFERENCES_ROW, "title", title, NULL);
            GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
            GtkWidget *label = gtk_label_new (title);
            GtkWidget *frame;

            gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
            gtk_widget_set_margin_top (box, 8);
            gtk_widget_set_margin_bottom (box, 8);
            gtk_widget_set_margin_start (box, 12);
            gtk_widget_set_margin_end (box, 12);
            gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
            gtk_label_set_wrap (GTK_LABEL (label), TRUE);
            gtk_widget_add_css_class (label, "caption");
            gtk_widget_add_css_class (label, "dim-label");
            gtk_box_append (GTK_BOX (box), label);

            field->widget = gtk_text_view_new ();
            gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (field->widget), GTK_WRAP_WORD_CHAR);
            gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (field->widget), FALSE);
            gtk_widget_set_size_request (field->widget, -1, 64);
            gtk_text_view_set_top_margin (GTK_TEXT_VIEW (field->widget), 6);
            gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (field->widget), 6);
            gtk_text_view_set_left_margin (GTK_TEXT_VIEW (field->widget), 6);
            gtk_text_view_set_right_margin (GTK_TEXT_VIEW (field->widget), 6);
            gtk_accessible_update_relation (GTK_ACCESSIBLE (field->widget),
                                            GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL,
                                            -1);
            g_signal_connect_object (gtk_text_view_get_buffer (GTK_TEXT_VIEW (field->widget)), "changed",
                                     G_CALLBACK (evidence_edited_cb), self, G_CONNECT_SWAPPED);
            frame = gtk_frame_new (NULL);
            gtk_frame_set_child (GTK_FRAME (frame), field->widget);
            gtk_box_append (GTK_BOX (box), frame);

            gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
            adw_preferences_group_add (group, row);
          }
          break;

        case FIELD_FILE:
        default:
          {
            g_autofree char *choose_label = NULL;
            g_autofree char *clear_label = NULL;

            field->widget = adw_action_row_new ();
            adw_preferences_row_set_title (ADW_PREFERENCES_ROW (field->widget), title);
            adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (field->widget), FALSE);
            adw_action_row_set_subtitle (ADW_ACTION_ROW (field->widget), _("No file"));

            field->spinner = gtk_spinner_new ();
            gtk_widget_set_visible (field->spinner, FALSE);
            adw_action_row_add_suffix (ADW_ACTION_ROW (field->widget), field->spinner);

            /* Translators: %s names an evidence file, "Remove Receipt". */
            clear_label = g_strdup_printf (_("Remove %s"), title);
            field->clear = gtk_button_new_from_icon_name ("edit-clear-symbolic");
            gtk_widget_set_valign (field->clear, GTK_ALIGN_CENTER);
            gtk_widget_add_css_class (field->clear, "flat");
            gtk_widget_set_tooltip_text (field->clear, clear_label);
            gtk_accessible_update_property (GTK_ACCESSIBLE (field->clear),
                                            GTK_ACCESSIBLE_PROPERTY_LABEL, clear_label, -1);
            gtk_widget_set_visible (field->clear, FALSE);
            g_object_set_data (G_OBJECT (field->clear), "fd-field", GUINT_TO_POINTER (i));
            g_signal_connect_object (field->clear, "clicked", G_CALLBACK (clear_file_clicked_cb), self, 0);
            adw_action_row_add_suffix (ADW_ACTION_ROW (field->widget), field->clear);

            /* Translators: %s names an evidence file, "Choose Receipt…". */
            choose_label = g_strdup_printf (_("Choose %s…"), title);
            field->choose = gtk_button_new_from_icon_name ("document-open-symbolic");
            gtk_widget_set_valign (field->choose, GTK_ALIGN_CENTER);
            gtk_widget_add_css_class (field->choose, "flat");
            gtk_widget_set_tooltip_text (field->choose, choose_label);
            gtk_accessible_update_property (GTK_ACCESSIBLE (field->choose),
                                            GTK_ACCESSIBLE_PROPERTY_LABEL, choose_label, -1);
            g_object_set_data (G_OBJECT (field->choose), "fd-field", GUINT_TO_POINTER (i));
            g_signal_connect_object (field->choose, "clicked", G_CALLBACK (choose_file_clicked_cb), self, 0);
            adw_action_row_add_suffix (ADW_ACTION_ROW (field->widget), field->choose);

            adw_preferences_group_add (group, field->widget);
          }
          break;
        }
    }
}

static void
fd_billing_dispute_window_init (FdBillingDisputeWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  build_fields (self);
}

/* An evidence value as Stripe returns it: a string, or for files an id or an object. */
static const char *
evidence_value (JsonObject *evidence,
                const char *name)
{
  if (evidence == NULL || !json_object_has_member (evidence, name))
    return NULL;

  return fd_stripe_get_id (evidence, name);
}

static char *
product_description_from (const FdBillingAccount *account)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; account != NULL && account->subscriptions != NULL && i < account->subscriptions->len; i++)
    {
      const FdStripeSubscription *subscription = g_ptr_array_index (account->subscriptions, i);

      for (guint j = 0; subscription->items != NULL && j < subscription->items->len; j++)
        {
          const FdStripeSubscriptionItem *item = g_ptr_array_index (subscription->items, j);
          g_autofree char *price = fd_billing_price_text (item->unit_amount, item->currency,
                                                          item->interval, item->interval_count);
          g_autofree char *since = fd_billing_format_date (subscription->current_period_start);

          if (text->len > 0)
            g_string_append_c (text, '\n');
          /* Translators: a subscription for dispute evidence: "Pro: 150 seats at €10.00 per month.
           * Status: Active. Current period from 1 March 2027." */
          g_string_append_printf (text,
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "%s: %" G_GINT64_FORMAT " seat at %s. Status: %s. Current period from %s.",
                                               "%s: %" G_GINT64_FORMAT " seats at %s. Status: %s. Current period from %s.",
                                               item->quantity),
                                  item->product_name != NULL ? item->product_name : item->price_id,
                                  item->quantity, price,
                                  fd_stripe_status_label (subscription->status), since);
        }
    }

  return text->len > 0 ? g_string_free (g_steal_pointer (&text), FALSE) : NULL;
}

static char *
due_text (gint64 due_s,
          gint64 now_s)
{
  g_autofree char *date = fd_billing_format_date (due_s);
  gint64 left = due_s - now_s;

  if (left <= 0)
    /* Translators: %s is a date. */
    return g_strdup_printf (_("The evidence was due on %s"), date);

  if (left < 24 * 3600)
    {
      int hours = (int) MAX (left / 3600, 1);

      /* Translators: a countdown and a date: "Evidence due in 5 hours (12 March 2027)". */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Evidence due in %d hour (%s)",
                                           "Evidence due in %d hours (%s)", hours),
                              hours, date);
    }
  else
    {
      int days = (int) (left / (24 * 3600));

      /* Translators: a countdown and a date: "Evidence due in 5 days (12 March 2027)". */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Evidence due in %d day (%s)",
                                           "Evidence due in %d days (%s)", days),
                              days, date);
    }
}

char *
fd_billing_dispute_due_text (gint64 due_s,
                             gint64 now_s)
{
  if (due_s <= 0)
    return NULL;

  return due_text (due_s, now_s);
}

FdBillingDisputeWindow *
fd_billing_dispute_window_new (GtkWindow                      *parent,
                               FdStripeClient                 *client,
                               FdStripePermissions             permissions,
                               const FdBillingAction          *action,
                               const FdStripeDispute          *dispute,
                               const FdBillingEvidenceSources *sources)
{
  FdBillingDisputeWindow *self;
  g_autofree char *amount = NULL;
  g_autofree char *title = NULL;
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;

  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (client), NULL);
  g_return_val_if_fail (action != NULL, NULL);
  g_return_val_if_fail (dispute != NULL, NULL);

  self = g_object_new (FD_TYPE_BILLING_DISPUTE_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->client = g_object_ref (client);
  self->permissions = permissions;
  self->action = _fd_billing_action_copy (action);
  replace_string (&self->action->target_id, dispute->id);

  amount = fd_money_format (dispute->amount, dispute->currency);
  /* Translators: an amount of money and the dispute's status: "€49.00 disputed · Needs response". */
  title = g_strdup_printf (_("%s disputed · %s"), amount, fd_stripe_status_label (dispute->status));
  gtk_label_set_label (self->summary_title, title);
  gtk_label_set_label (self->reason_label, fd_stripe_dispute_reason_label (dispute->reason));
  gtk_label_set_label (self->advice_label, fd_stripe_dispute_reason_advice (dispute->reason));
  gtk_widget_set_visible (GTK_WIDGET (self->advice_label),
                          fd_stripe_dispute_reason_advice (dispute->reason) != NULL);

  if (dispute->evidence_due_by > 0)
    {
      g_autofree char *due = due_text (dispute->evidence_due_by, now_s);
      g_autofree char *tooltip = fd_billing_format_time (dispute->evidence_due_by);

      gtk_label_set_label (self->due_label, due);
      gtk_widget_set_tooltip_text (self->due_box, tooltip);
      gtk_widget_add_css_class (self->due_box,
                                dispute->evidence_due_by - now_s < 3 * 24 * 3600 ? "error" : "warning");
    }
  else
    {
      gtk_widget_set_visible (self->due_box, FALSE);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->duplicate_group), g_strcmp0 (dispute->reason, "duplicate") == 0);

  for (guint i = 0; i < N_EVIDENCE_FIELDS; i++)
    {
      const char *value = evidence_value (dispute->evidence, evidence_fields[i].name);

      self->fields[i].initial = g_strdup (value != NULL ? value : "");
      field_set_text (self, i, value);
    }

  if (sources != NULL)
    {
      if (sources->customer != NULL)
        {
          self->customer_name = g_strdup (sources->customer->name);
          self->customer_email = g_strdup (sources->customer->email);
        }
      self->product_description = product_description_from (sources->account);
      if (sources->charge != NULL)
        self->charge_created = sources->charge->created;
      self->transcript = g_strdup (sources->transcript);
      self->transcript_title = g_strdup (sources->transcript_title);
      self->audit_lines = g_strdup (sources->audit_lines);

      /* Evidence typed before a save that failed comes back. */
      for (guint j = 0; sources->unsaved != NULL && j < fd_stripe_params_get_length (sources->unsaved); j++)
        {
          const char *name = fd_stripe_params_get_name (sources->unsaved, j);
          g_autofree char *field = NULL;
          int index;

          if (!g_str_has_prefix (name, "evidence[") || !g_str_has_suffix (name, "]"))
            continue;
          field = g_strndup (name + strlen ("evidence["), strlen (name) - strlen ("evidence[]"));
          index = field_index (field);
          if (index >= 0)
            field_set_text (self, index, fd_stripe_params_get_value (sources->unsaved, j));
        }
    }

  prefill_known (self);
  gtk_widget_set_visible (self->fill_button, self->transcript != NULL || self->audit_lines != NULL);
  adw_button_content_set_label (self->fill_content,
                                self->transcript != NULL ? _("_Fill In From the Conversation")
                                                         : _("_Fill In From the Audit Log"));

  for (guint i = 0; i < N_EVIDENCE_FIELDS; i++)
    {
      if (evidence_fields[i].kind == FIELD_FILE)
        {
          gtk_widget_set_visible (self->fields[i].choose, (permissions & FD_STRIPE_CAN_WRITE_FILES) != 0);
          file_field_show (self, i, NULL);
        }
    }

  dispute_update_buttons (self);

  return self;
}

static void
dispute_cancelled_cb (GCancellable           *cancellable,
                      FdBillingDisputeWindow *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

void
fd_billing_dispute_window_run_async (FdBillingDisputeWindow *self,
                                     GCancellable           *cancellable,
                                     GAsyncReadyCallback     callback,
                                     gpointer                user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_BILLING_DISPUTE_WINDOW (self));
  g_return_if_fail (self->task == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_dispute_window_run_async);

  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled",
                             G_CALLBACK (dispute_cancelled_cb), self, 0);

  self->task = g_steal_pointer (&task);
  gtk_window_present (GTK_WINDOW (self));
}

FdBillingAction *
fd_billing_dispute_window_run_finish (FdBillingDisputeWindow  *self,
                                      GAsyncResult            *result,
                                      GError                 **error)
{
  g_return_val_if_fail (FD_IS_BILLING_DISPUTE_WINDOW (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
_fd_billing_dispute_window_dup_field (FdBillingDisputeWindow *self,
                                      const char             *name)
{
  int i;

  g_return_val_if_fail (FD_IS_BILLING_DISPUTE_WINDOW (self), NULL);

  i = field_index (name);
  return i >= 0 ? field_get_text (self, i) : NULL;
}

void
_fd_billing_dispute_window_set_field (FdBillingDisputeWindow *self,
                                      const char             *name,
                                      const char             *value)
{
  int i;

  g_return_if_fail (FD_IS_BILLING_DISPUTE_WINDOW (self));

  i = field_index (name);
  g_return_if_fail (i >= 0);

  field_set_text (self, i, value);
  dispute_update_buttons (self);
}

/* }}} */
