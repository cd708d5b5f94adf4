/* test-billing-page.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Billing page and its dialogs in a real window, over a small demo store, the real
 * keyring and the sandbox's Stripe in a thread: finding customers, a refund walked
 * through its dialog (the sandbox's charge changes and an audit entry is written), an
 * amount over the refundable remainder that keeps confirm off, cancel at period end and
 * its undo, a seat change whose preview shows before it can be confirmed, a failed
 * payment explained, dispute evidence saved as a draft, a refund whose answer was lost
 * and is finished once, and a restricted key whose refund button is hidden.
 */

#define G_LOG_DOMAIN "test-billing-page"

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sqlite3.h>

#include "fd-account.h"
#include "fd-billing-dialogs.h"
#include "fd-billing-page.h"
#include "fd-paths.h"
#include "fd-resources.h"
#include "fd-sandbox.h"
#include "fd-store.h"
#include "fd-stripe-error.h"

#define WAIT_TIMEOUT_USEC (40 * G_USEC_PER_SEC)

#include "../fd-test-keyring.h"
#include "../fd-test-wait.h"


static char *profile_dir;
static char *db_path;
static FdStore *store;
static FdSandbox *sandbox;
static char *stripe_url;
static JsonObject *scenarios;
static FdAccount *stripe_account;
static gint64 note_conversation_id;

/* {{{ Helpers */

static sqlite3 *
db_open (void)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);

  return db;
}

static gint64
db_int_text (const char *sql,
             const char *arg)
{
  sqlite3 *db = db_open ();
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  for (int i = 1; i <= sqlite3_bind_parameter_count (stmt); i++)
    sqlite3_bind_text (stmt, i, arg, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return value;
}

static char *
db_text (const char *sql,
         const char *arg)
{
  sqlite3 *db = db_open ();
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  for (int i = 1; i <= sqlite3_bind_parameter_count (stmt); i++)
    sqlite3_bind_text (stmt, i, arg, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return value;
}

static void
collect_widgets (GtkWidget *widget,
                 GType      type,
                 GPtrArray *out)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (out, widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_widgets (child, type, out);
}

static void
collect_text (GtkWidget *widget,
              GString   *out)
{
  if (!gtk_widget_get_visible (widget))
    return;

  if (GTK_IS_LABEL (widget))
    {
      g_string_append (out, gtk_label_get_text (GTK_LABEL (widget)));
      g_string_append_c (out, '\n');
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_text (child, out);
}

static char *
widget_text (GtkWidget *widget)
{
  GString *out = g_string_new (NULL);

  collect_text (widget, out);
  return g_string_free (out, FALSE);
}

/* A button of the page that runs @action with the string @target, visible and in the
 * widget tree; NULL when there is none. */
static GtkWidget *
find_action_button (GtkWidget  *root,
                    const char *action,
                    const char *target)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  collect_widgets (root, GTK_TYPE_BUTTON, buttons);
  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = g_ptr_array_index (buttons, i);
      GVariant *value = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (button));

      if (g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), action) != 0)
        continue;
      if (target != NULL &&
          (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ||
           g_strcmp0 (g_variant_get_string (value, NULL), target) != 0))
        continue;
      if (gtk_widget_is_visible (button))
        return button;
    }

  return NULL;
}

static GtkWidget *
find_button_with_label (GtkWidget  *root,
                        const char *label)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  collect_widgets (root, GTK_TYPE_BUTTON, buttons);
  for (guint i = 0; i < buttons->len; i++)
    {
      if (g_strcmp0 (gtk_button_get_label (g_ptr_array_index (buttons, i)), label) == 0)
        return g_ptr_array_index (buttons, i);
    }

  return NULL;
}

typedef struct
{
  gboolean    done;
  GError     *error;
  JsonObject *object;
  gboolean    ok;
} Reply;

static gboolean
reply_done (Reply *reply)
{
  return reply->done;
}

static void
request_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Reply *reply = user_data;

  reply->object = fd_stripe_client_request_finish (FD_STRIPE_CLIENT (object), result, NULL, NULL,
                                                   &reply->error);
  reply->done = TRUE;
}

/* Reads an object from the sandbox's Stripe directly, not through the page. */
static JsonObject *
stripe_get (const char *path)
{
  g_autoptr(FdStripeClient) client = fd_stripe_client_new (stripe_url, FD_SANDBOX_STRIPE_KEY);
  Reply reply = { 0 };

  fd_stripe_client_request_async (client, "GET", path, NULL, NULL, NULL, request_cb, &reply);
  wait_until (reply_done, &reply);
  g_assert_no_error (reply.error);
  g_assert_nonnull (reply.object);

  return reply.object;
}

static void
save_account_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Reply *reply = user_data;

  reply->ok = fd_account_save_finish (FD_STORE (object), result, &reply->error);
  reply->done = TRUE;
}

/* The store's one Stripe account, with @key in the keyring. */
static void
set_stripe_key (const char *key)
{
  Reply reply = { 0 };

  if (stripe_account == NULL)
    stripe_account = fd_account_new (FD_ACCOUNT_KIND_STRIPE, "Sandbox Stripe", stripe_url);

  fd_account_save_async (store, stripe_account, key, NULL, save_account_cb, &reply);
  wait_until (reply_done, &reply);
  g_assert_no_error (reply.error);
  g_assert_true (reply.ok);

  /* Pages opened from now on read the account again. */
  fd_billing_forget_client (store);
}

static const char *
scenario (const char *name)
{
  const char *id = json_object_has_member (scenarios, name)
                   ? json_object_get_string_member (scenarios, name) : NULL;

  if (id == NULL)
    g_error ("The sandbox has no customer for the scenario “%s”", name);

  return id;
}

static gboolean
page_has_client (FdBillingPage *page)
{
  return _fd_billing_page_get_permissions (page) != 0;
}

static GtkWindow *
page_window_new (FdBillingPage **out_page)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  GtkWidget *page = fd_billing_page_new ();

  gtk_window_set_default_size (window, 1100, 800);
  gtk_window_set_child (window, page);
  fd_billing_page_set_store (FD_BILLING_PAGE (page), store);
  gtk_window_present (window);

  *out_page = FD_BILLING_PAGE (page);
  wait_until (page_has_client, page);

  return window;
}

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static void
window_close_and_finalize (GtkWindow     *window,
                           FdBillingPage *page)
{
  gpointer weak_page = page;

  g_object_add_weak_pointer (G_OBJECT (page), &weak_page);
  g_object_ref (window);
  gtk_window_destroy (window);
  g_assert_finalize_object (window);
  wait_until (pointer_cleared, &weak_page);
}

typedef struct
{
  FdBillingPage *page;
  const char    *customer_id;
} CustomerShown;

static gboolean
customer_shown (CustomerShown *shown)
{
  const FdBillingAccount *account = fd_billing_page_get_account (shown->page);

  return g_strcmp0 (_fd_billing_page_get_state (shown->page), "customer") == 0 &&
         !_fd_billing_page_get_busy (shown->page) &&
         account != NULL && account->customer != NULL &&
         g_strcmp0 (account->customer->id, shown->customer_id) == 0;
}

static void
open_customer (FdBillingPage *page,
               const char    *customer_id,
               gint64         conversation_id)
{
  CustomerShown shown = { page, customer_id };

  fd_billing_page_open_customer (page, customer_id, conversation_id, NULL);
  wait_until (customer_shown, &shown);
}

static gboolean
dialog_open (FdBillingPage *page)
{
  GtkWindow *dialog = _fd_billing_page_get_dialog (page);

  return dialog != NULL && gtk_widget_get_mapped (GTK_WIDGET (dialog));
}

static gboolean
dialog_closed (FdBillingPage *page)
{
  return _fd_billing_page_get_dialog (page) == NULL;
}

/* Waits for the action to run and the account to be read again. */
typedef struct
{
  FdBillingPage *page;
  gboolean       seen_busy;
} ActionWait;

static gboolean
action_done (ActionWait *wait)
{
  if (_fd_billing_page_get_busy (wait->page))
    wait->seen_busy = TRUE;

  return wait->seen_busy && !_fd_billing_page_get_busy (wait->page) &&
         g_strcmp0 (_fd_billing_page_get_state (wait->page), "customer") == 0;
}

/* Clicks the dialog's confirm button; FALSE when it is insensitive. */
static gboolean
confirm_dialog (FdBillingActionDialog *dialog,
                const char            *label)
{
  GtkWidget *button = find_button_with_label (GTK_WIDGET (dialog), label);

  g_assert_nonnull (button);
  if (!gtk_widget_is_sensitive (button))
    return FALSE;

  return gtk_widget_activate (button);
}

typedef struct
{
  FdBillingPage *page;
  guint          reads;
} ReadWait;

static gboolean
account_read_again (ReadWait *wait)
{
  return _fd_billing_page_get_reads (wait->page) > wait->reads &&
         g_strcmp0 (_fd_billing_page_get_state (wait->page), "customer") == 0;
}

/* Confirms, waits for the action and for the account read again after it. */
static void
run_confirmed (FdBillingPage         *page,
               FdBillingActionDialog *dialog,
               const char            *label)
{
  ActionWait wait = { page, FALSE };
  ReadWait read = { page, _fd_billing_page_get_reads (page) };

  g_assert_true (confirm_dialog (dialog, label));
  wait_until (dialog_closed, page);
  wait_until (action_done, &wait);
  g_assert_null (_fd_billing_page_get_action_error (page));
  wait_until (account_read_again, &read);
}

static const FdStripeCharge *
refundable_charge (const FdBillingAccount *account)
{
  for (guint i = 0; i < account->charges->len; i++)
    {
      const FdStripeCharge *charge = g_ptr_array_index (account->charges, i);

      if (g_strcmp0 (charge->status, "succeeded") == 0 && !charge->disputed &&
          fd_stripe_charge_refundable (charge) > 100)
        return charge;
    }

  return NULL;
}

static const FdStripeSubscription *
live_subscription (const FdBillingAccount *account)
{
  for (guint i = 0; i < account->subscriptions->len; i++)
    {
      const FdStripeSubscription *subscription = g_ptr_array_index (account->subscriptions, i);

      if ((g_strcmp0 (subscription->status, "active") == 0 ||
           g_strcmp0 (subscription->status, "trialing") == 0) &&
          subscription->items->len > 0)
        return subscription;
    }

  return NULL;
}

/* Minor units as typed in the C locale the tests run in: "12.34", "500". */
static char *
plain_amount (gint64      minor,
              const char *currency)
{
  guint exponent = fd_currency_exponent (currency);
  gint64 divisor = 1;

  if (exponent == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT, minor);
  for (guint i = 0; i < exponent; i++)
    divisor *= 10;

  return g_strdup_printf ("%" G_GINT64_FORMAT ".%0*" G_GINT64_FORMAT,
                          minor / divisor, (int) exponent, minor % divisor);
}

/* }}} */
/* {{{ Tests */

static void
test_no_account (void)
{
  g_autofree char *path = g_build_filename (profile_dir, "empty.db", NULL);
  g_autoptr(FdStore) empty = fd_store_new (path);
  g_autoptr(GError) error = NULL;
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  GtkWidget *page = fd_billing_page_new ();
  GtkWidget *button;

  g_assert_true (fd_store_open_sync (empty, NULL, &error));
  g_assert_no_error (error);

  gtk_window_set_child (window, page);
  gtk_window_present (window);
  g_assert_cmpstr (_fd_billing_page_get_state (FD_BILLING_PAGE (page)), ==, "no-account");

  fd_billing_page_set_store (FD_BILLING_PAGE (page), empty);
  spin (300);

  /* A store without a Stripe account explains itself and links to Preferences. */
  g_assert_cmpstr (_fd_billing_page_get_state (FD_BILLING_PAGE (page)), ==, "no-account");
  button = find_action_button (page, "app.preferences", NULL);
  g_assert_nonnull (button);

  /* Asking for a customer does not leave that state. */
  fd_billing_page_open_customer (FD_BILLING_PAGE (page), "someone@example.com", 0, NULL);
  spin (200);
  g_assert_cmpstr (_fd_billing_page_get_state (FD_BILLING_PAGE (page)), ==, "no-account");
  g_assert_null (fd_billing_page_get_account (FD_BILLING_PAGE (page)));

  window_close_and_finalize (window, FD_BILLING_PAGE (page));
  fd_store_close (empty);
}

static gboolean
state_is_no_results (FdBillingPage *page)
{
  return g_strcmp0 (_fd_billing_page_get_state (page), "no-results") == 0;
}

static void
test_find_customer (void)
{
  FdBillingPage *page;
  GtkWindow *window = page_window_new (&page);
  const char *id = scenario ("discount");
  g_autofree char *path = g_strconcat ("/v1/customers/", id, NULL);
  g_autoptr(JsonObject) customer = stripe_get (path);
  const char *email = json_object_get_string_member (customer, "email");
  CustomerShown shown = { page, id };
  g_autofree char *text = NULL;

  /* Typing an exact email finds the one customer and opens them. */
  g_assert_cmpstr (_fd_billing_page_get_state (page), ==, "start");
  gtk_editable_set_text (_fd_billing_page_get_search_entry (page), email);
  wait_until (customer_shown, &shown);

  text = widget_text (GTK_WIDGET (page));
  g_assert_nonnull (strstr (text, id));
  g_assert_nonnull (strstr (text, email));
  /* The key is a test key, and the page says so. */
  g_assert_nonnull (strstr (text, "Test mode"));
  /* The one-sentence summary is shown as the engine wrote it. */
  g_assert_nonnull (fd_billing_page_get_account (page)->summary);
  g_assert_nonnull (strstr (text, fd_billing_page_get_account (page)->summary));

  /* Something nobody is called: said so, in words. */
  gtk_editable_set_text (_fd_billing_page_get_search_entry (page), "zzqx-nobody-by-this-name");
  g_signal_emit_by_name (_fd_billing_page_get_search_entry (page), "activate");
  wait_until (state_is_no_results, page);
  g_assert_null (fd_billing_page_get_account (page));

  window_close_and_finalize (window, page);
}

static gboolean
preview_shown (FdBillingActionDialog *dialog)
{
  return fd_billing_action_dialog_get_preview_shown (dialog);
}

static void
test_refund (void)
{
  FdBillingPage *page;
  GtkWindow *window = page_window_new (&page);
  const char *id = scenario ("partial_refund");
  const FdStripeCharge *charge;
  g_autofree char *charge_id = NULL;
  g_autofree char *currency = NULL;
  g_autofree char *path = NULL;
  g_autofree char *amount_text = NULL;
  g_autofree char *state = NULL;
  g_autoptr(JsonObject) before = NULL;
  g_autoptr(JsonObject) after = NULL;
  FdBillingActionDialog *dialog;
  GtkWidget *button;
  gint64 refundable;
  gint64 amount;
  gint64 audits_before;

  open_customer (page, id, note_conversation_id);

  charge = refundable_charge (fd_billing_page_get_account (page));
  g_assert_nonnull (charge);
  charge_id = g_strdup (charge->id);
  currency = g_strdup (charge->currency);
  refundable = fd_stripe_charge_refundable (charge);
  path = g_strconcat ("/v1/charges/", charge_id, NULL);
  before = stripe_get (path);
  g_assert_cmpint (json_object_get_int_member (before, "amount_refunded"), ==, charge->amount_refunded);
  audits_before = db_int_text ("SELECT count(*) FROM audit_log WHERE subject = ?", charge_id);

  /* The payment's Refund button opens the dialog. */
  button = find_action_button (GTK_WIDGET (page), "billing.refund", charge_id);
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_activate (button));
  wait_until (dialog_open, page);
  dialog = FD_BILLING_ACTION_DIALOG (_fd_billing_page_get_dialog (page));

  /* A full refund of the remainder is offered first and stated exactly. */
  g_assert_true (fd_billing_action_dialog_get_can_confirm (dialog));
  g_assert_cmpint (fd_billing_action_dialog_get_action (dialog)->amount, ==, refundable);

  /* A third of it, typed. */
  amount = refundable / 3;
  amount_text = plain_amount (amount, currency);
  _fd_billing_action_dialog_set_partial (dialog, TRUE);
  gtk_editable_set_text (_fd_billing_action_dialog_get_amount_editable (dialog), amount_text);
  g_assert_true (fd_billing_action_dialog_get_can_confirm (dialog));
  g_assert_cmpint (fd_billing_action_dialog_get_action (dialog)->amount, ==, amount);
  {
    g_autofree char *code = fd_currency_code (currency);

    /* The body says what happens, with the amount and its currency. */
    g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), code));
    g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), charge_id));
  }

  run_confirmed (page, dialog, "_Refund");

  /* The sandbox's charge changed by exactly that much. */
  after = stripe_get (path);
  g_assert_cmpint (json_object_get_int_member (after, "amount_refunded"), ==,
                   json_object_get_int_member (before, "amount_refunded") + amount);

  /* An audit entry and a finished action are in the store. */
  g_assert_cmpint (db_int_text ("SELECT count(*) FROM audit_log WHERE subject = ?", charge_id), ==,
                   audits_before + 1);
  state = db_text ("SELECT state FROM billing_actions WHERE target_id = ? ORDER BY id DESC LIMIT 1", charge_id);
  g_assert_cmpstr (state, ==, "done");

  /* The page shows the new remainder. */
  charge = NULL;
  for (guint i = 0; i < fd_billing_page_get_account (page)->charges->len; i++)
    {
      const FdStripeCharge *c = g_ptr_array_index (fd_billing_page_get_account (page)->charges, i);

      if (g_str_equal (c->id, charge_id))
        charge = c;
    }
  g_assert_nonnull (charge);
  g_assert_cmpint (fd_stripe_charge_refundable (charge), ==, refundable - amount);

  /* The outcome is offered as an internal note on the conversation, and added. */
  g_assert_nonnull (_fd_billing_page_get_last_note (page));
  {
    g_autofree char *note = g_strdup (_fd_billing_page_get_last_note (page));
    g_autofree char *conversation = g_strdup_printf ("%" G_GINT64_FORMAT, note_conversation_id);
    gint64 notes_before = db_int_text ("SELECT count(*) FROM messages WHERE is_note = 1 AND conversation_id = ?",
                                       conversation);

    g_assert_nonnull (strstr (note, charge_id));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "billing.add-note", NULL));
    for (int i = 0; i < 400 && db_int_text ("SELECT count(*) FROM messages WHERE is_note = 1 AND conversation_id = ?",
                                           conversation) == notes_before; i++)
      spin (10);
    g_assert_cmpint (db_int_text ("SELECT count(*) FROM messages WHERE is_note = 1 AND conversation_id = ?",
                                  conversation), ==, notes_before + 1);
    g_assert_null (_fd_billing_page_get_last_note (page));
  }

  window_close_and_finalize (window, page);
}

static void
test_refund_over_remainder (void)
{
  FdBillingPage *page;
  GtkWindow *window = page_window_new (&page);
  const char *id = scenario ("partial_refund");
  const FdStripeCharge *charge;
  g_autofree char *over = NULL;
  g_autofree char *exact = NULL;
  FdBillingActionDialog *dialog;
  guint refunds_before;
  gint64 refundable;

  open_customer (page, id, 0);
  charge = refundable_charge (fd_billing_page_get_account (page));
  g_assert_nonnull (charge);
  refundable = fd_stripe_charge_refundable (charge);
  refunds_before = fd_sandbox_get_request_count (sandbox, "/stripe/v1/refunds");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "billing.refund", "s", charge->id));
  wait_until (dialog_open, page);
  dialog = FD_BILLING_ACTION_DIALOG (_fd_billing_page_get_dialog (page));
  _fd_billing_action_dialog_set_partial (dialog, TRUE);

  /* One minor unit above the remainder: confirm stays off, and the dialog says why. */
  over = plain_amount (refundable + 1, charge->currency);
  gtk_editable_set_text (_fd_billing_action_dialog_get_amount_editable (dialog), over);
  g_assert_false (fd_billing_action_dialog_get_can_confirm (dialog));
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog),
                                                           FD_BILLING_RESPONSE_CONFIRM));
  g_assert_nonnull (fd_billing_action_dialog_get_problem (dialog));
  g_assert_nonnull (strstr (fd_billing_action_dialog_get_problem (dialog), "can still be refunded"));
  g_assert_false (confirm_dialog (dialog, "_Refund"));

  /* Not a number, more decimals than the currency has, zero: all refused in words. */
  gtk_editable_set_text (_fd_billing_action_dialog_get_amount_editable (dialog), "twelve");
  g_assert_false (fd_billing_action_dialog_get_can_confirm (dialog));
  g_assert_nonnull (fd_billing_action_dialog_get_problem (dialog));
  gtk_editable_set_text (_fd_billing_action_dialog_get_amount_editable (dialog), "0");
  g_assert_false (fd_billing_action_dialog_get_can_confirm (dialog));

  /* The remainder itself is fine. */
  exact = plain_amount (refundable, charge->currency);
  gtk_editable_set_text (_fd_billing_action_dialog_get_amount_editable (dialog), exact);
  g_assert_true (fd_billing_action_dialog_get_can_confirm (dialog));
  g_assert_null (fd_billing_action_dialog_get_problem (dialog));

  /* Cancelled: nothing reached Stripe. */
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), FD_BILLING_RESPONSE_CANCEL);
  wait_until (dialog_closed, page);
  spin (100);
  g_assert_false (_fd_billing_page_get_busy (page));
  g_assert_cmpuint (fd_sandbox_get_request_count (sandbox, "/stripe/v1/refunds"), ==, refunds_before);

  window_close_and_finalize (window, page);
}

static gboolean
subscription_cancels (const char *path)
{
  g_autoptr(JsonObject) subscription = stripe_get (path);

  return json_object_get_boolean_member (subscription, "cancel_at_period_end");
}

static void
test_cancel_at_period_end (void)
{
  FdBillingPage *page;
  GtkWindow *window = page_window_new (&page);
  const char *id = scenario ("credit_balance");
  const FdStripeSubscription *subscription;
  g_autofree char *subscription_id = NULL;
  g_autofree char *path = NULL;
  FdBillingActionDialog *dialog;
  GtkWidget *button;

  open_customer (page, id, 0);
  subscription = live_subscription (fd_billing_page_get_account (page));
  g_assert_nonnull (subscription);
  g_assert_false (subscription->cancel_at_period_end);
  subscription_id = g_strdup (subscription->id);
  path = g_strconcat ("/v1/subscriptions/", subscription_id, NULL);
  g_assert_false (subscription_cancels (path));

  /* Offered (in the subscription's menu), not yet the undo. */
  g_assert_null (find_action_button (GTK_WIDGET (page), "billing.undo-cancel", subscription_id));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "billing.cancel-at-period-end", "s",
                                             subscription_id));
  wait_until (dialog_open, page);
  dialog = FD_BILLING_ACTION_DIALOG (_fd_billing_page_get_dialog (page));
  g_assert_cmpint (fd_billing_action_dialog_get_action (dialog)->kind, ==, FD_BILLING_ACTION_CANCEL_AT_PERIOD_END);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), subscription_id));
  run_confirmed (page, dialog, "Cancel at _Period End");

  g_assert_true (subscription_cancels (path));
  subscription = live_subscription (fd_billing_page_get_account (page));
  g_assert_nonnull (subscription);
  g_assert_true (subscription->cancel_at_period_end);
  g_assert_cmpint (fd_billing_page_get_account (page)->state, ==, FD_BILLING_CANCELING);

  /* Undo: the Keep Subscription button is there now. */
  button = find_action_button (GTK_WIDGET (page), "billing.undo-cancel", subscription_id);
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_activate (button));
  wait_until (dialog_open, page);
  dialog = FD_BILLING_ACTION_DIALOG (_fd_billing_page_get_dialog (page));
  g_assert_cmpint (fd_billing_action_dialog_get_action (dialog)->kind, ==, FD_BILLING_ACTION_UNDO_CANCEL);
  run_confirmed (page, dialog, "_Keep Subscription");

  g_assert_false (subscription_cancels (path));
  g_assert_false (live_subscription (fd_billing_page_get_account (page))->cancel_at_period_end);
  g_assert_null (find_action_button (GTK_WIDGET (page), "billing.undo-cancel", subscription_id));

  window_close_and_finalize (window, page);
}

static void
test_seat_change (void)
{
  FdBillingPage *page;
  GtkWindow *window = page_window_new (&page);
  const char *id = scenario ("currency_jpy");
  const FdStripeSubscription *subscription;
  const FdStripeSubscriptionItem *item;
  g_autofree char *subscription_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *preview_text = NULL;
  g_autoptr(JsonObject) after = NULL;
  FdBillingActionDialog *dialog;
  GtkWidget *button;
  gint64 seats;

  open_customer (page, id, 0);
  subscription = live_subscription (fd_billing_page_get_account (page));
  g_assert_nonnull (subscription);
  subscription_id = g_strdup (subscription->id);
  item = g_ptr_array_index (subscription->items, 0);
  seats = item->quantity;
  path = g_strconcat ("/v1/subscriptions/", subscription_id, NULL);

  button = find_action_button (GTK_WIDGET (page), "billing.change-subscription", subscription_id);
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_activate (button));
  wait_until (dialog_open, page);
  dialog = FD_BILLING_ACTION_DIALOG (_fd_billing_page_get_dialog (page));

  /* Nothing changed yet: nothing to confirm. */
  g_assert_false (fd_billing_action_dialog_get_can_confirm (dialog));

  /* Two more seats: not confirmable until Stripe's preview of the next invoice is in. */
  gtk_spin_button_set_value (_fd_billing_action_dialog_get_seats_spin (dialog), (double) (seats + 2));
  g_assert_false (fd_billing_action_dialog_get_can_confirm (dialog));
  g_assert_false (fd_billing_action_dialog_get_preview_shown (dialog));
  g_assert_false (confirm_dialog (dialog, "C_hange"));
  wait_until (preview_shown, dialog);
  g_assert_true (fd_billing_action_dialog_get_can_confirm (dialog));
  preview_text = widget_text (GTK_WIDGET (dialog));
  /* Yen, with no decimals. */
  g_assert_nonnull (strstr (preview_text, "¥"));
  g_assert_cmpint (fd_billing_action_dialog_get_action (dialog)->quantity, ==, seats + 2);

  run_confirmed (page, dialog, "C_hange");

  after = stripe_get (path);
  {
    JsonObject *items = json_object_get_object_member (after, "items");
    JsonArray *data = json_object_get_array_member (items, "data");
    JsonObject *first = json_array_get_object_element (data, 0);

    g_assert_cmpint (json_object_get_int_member (first, "quantity"), ==, seats + 2);
  }
  subscription = live_subscription (fd_billing_page_get_account (page));
  item = g_ptr_array_index (subscription->items, 0);
  g_assert_cmpint (item->quantity, ==, seats + 2);

  window_close_and_finalize (window, page);
}

static void
test_failed_payment (void)
{
  FdBillingPage *page;
  GtkWindow *window = page_window_new (&page);
  const char *id = scenario ("payment_failed_expired_card");
  const FdBillingAccount *account;
  const FdStripeCharge *failed = NULL;
  g_autofree char *text = NULL;
  FdStripeExplanation explanation;

  open_customer (page, id, 0);
  account = fd_billing_page_get_account (page);
  g_assert_cmpint (account->state, ==, FD_BILLING_PAYMENT_FAILING);

  for (guint i = 0; i < account->charges->len && failed == NULL; i++)
    {
      const FdStripeCharge *charge = g_ptr_array_index (account->charges, i);

      if (g_strcmp0 (charge->status, "failed") == 0)
        failed = charge;
    }
  g_assert_nonnull (failed);

  /* The failure is explained in words, with what to tell the customer. */
  explanation = fd_stripe_explain_decline (failed->failure_code, failed->decline_code, failed->advice_code);
  text = widget_text (GTK_WIDGET (page));
  g_assert_nonnull (strstr (text, explanation.what));
  g_assert_nonnull (strstr (text, explanation.tell_customer));
  g_assert_nonnull (strstr (text, account->summary));
  /* No refund is offered on a payment that failed. */
  g_assert_null (find_action_button (GTK_WIDGET (page), "billing.refund", failed->id));

  window_close_and_finalize (window, page);
}

static void
test_dispute_draft (void)
{
  FdBillingPage *page;
  GtkWindow *window = page_window_new (&page);
  const char *id = scenario ("dispute_needs_response");
  const FdBillingAccount *account;
  const FdStripeDispute *dispute = NULL;
  g_autofree char *dispute_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;
  g_autoptr(JsonObject) after = NULL;
  FdBillingDisputeWindow *form;
  ActionWait wait = { NULL, FALSE };
  GtkWidget *button;
  const char *text = "The customer used the service daily until the dispute; see the attached log.";

  open_customer (page, id, note_conversation_id);
  account = fd_billing_page_get_account (page);
  for (guint i = 0; i < account->disputes->len && dispute == NULL; i++)
    {
      const FdStripeDispute *d = g_ptr_array_index (account->disputes, i);

      if (g_strcmp0 (d->status, "needs_response") == 0 || g_strcmp0 (d->status, "warning_needs_response") == 0)
        dispute = d;
    }
  g_assert_nonnull (dispute);
  dispute_id = g_strdup (dispute->id);
  path = g_strconcat ("/v1/disputes/", dispute_id, NULL);

  button = find_action_button (GTK_WIDGET (page), "billing.respond-dispute", dispute_id);
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_activate (button));
  wait_until (dialog_open, page);
  form = FD_BILLING_DISPUTE_WINDOW (_fd_billing_page_get_dialog (page));

  /* Filled from what Frontdesk knows: the customer's name as Stripe has it. */
  fd_billing_dispute_window_prefill (form);
  name = _fd_billing_dispute_window_dup_field (form, "customer_email_address");
  g_assert_cmpstr (name, ==, account->customer->email);

  _fd_billing_dispute_window_set_field (form, "uncategorized_text", text);
  {
    g_autoptr(FdStripeParams) evidence = fd_billing_dispute_window_get_evidence (form);

    g_assert_cmpstr (fd_stripe_params_lookup (evidence, "evidence[uncategorized_text]"), ==, text);
  }

  /* Wait for the conversation's transcript to be sent as a file, if it is. */
  for (int i = 0; i < 500 && !gtk_widget_get_sensitive (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (form), FD_TYPE_BILLING_DISPUTE_WINDOW, "draft_button"))); i++)
    spin (10);

  wait.page = page;
  _fd_billing_dispute_window_choose (form, "draft");
  wait_until (dialog_closed, page);
  wait_until (action_done, &wait);
  g_assert_null (_fd_billing_page_get_action_error (page));

  /* Stripe holds the draft; nothing was submitted. */
  after = stripe_get (path);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (after, "evidence"),
                                                  "uncategorized_text"), ==, text);
  g_assert_cmpstr (json_object_get_string_member (after, "status"), !=, "under_review");

  window_close_and_finalize (window, page);
}

static gboolean
unfinished_listed (FdBillingPage *page)
{
  return !_fd_billing_page_get_busy (page) &&
         find_action_button (GTK_WIDGET (page), "billing.finish-unfinished", NULL) != NULL;
}

static gboolean
nothing_unfinished (FdBillingPage *page)
{
  return find_action_button (GTK_WIDGET (page), "billing.finish-unfinished", NULL) == NULL;
}

static void
test_refund_finished_after_lost_answer (void)
{
  FdBillingPage *page;
  GtkWindow *window = page_window_new (&page);
  const char *id = scenario ("discount");
  const FdStripeCharge *charge;
  g_autofree char *charge_id = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) before = NULL;
  g_autoptr(JsonObject) after = NULL;
  FdBillingActionDialog *dialog;
  ActionWait wait = { NULL, FALSE };
  ReadWait read = { NULL, 0 };
  gint64 amount;

  open_customer (page, id, 0);
  charge = refundable_charge (fd_billing_page_get_account (page));
  g_assert_nonnull (charge);
  charge_id = g_strdup (charge->id);
  path = g_strconcat ("/v1/charges/", charge_id, NULL);
  before = stripe_get (path);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "billing.refund", "s", charge_id));
  wait_until (dialog_open, page);
  dialog = FD_BILLING_ACTION_DIALOG (_fd_billing_page_get_dialog (page));
  amount = fd_billing_action_dialog_get_action (dialog)->amount;

  /* Stripe refunds, but every answer is lost on the way back. */
  fd_sandbox_add_fault (sandbox, "/stripe/v1/refunds", FD_SANDBOX_FAULT_TRUNCATE, 0, 0);
  g_assert_true (confirm_dialog (dialog, "_Refund"));
  wait_until (dialog_closed, page);
  wait_until (unfinished_listed, page);
  fd_sandbox_clear_faults (sandbox);

  /* Finishing sends it again with the same key: Stripe refunds once. */
  wait.page = page;
  read.page = page;
  read.reads = _fd_billing_page_get_reads (page);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "billing.finish-unfinished", NULL));
  wait_until (action_done, &wait);
  g_assert_null (_fd_billing_page_get_action_error (page));
  wait_until (account_read_again, &read);
  wait_until (nothing_unfinished, page);

  after = stripe_get (path);
  g_assert_cmpint (json_object_get_int_member (after, "amount_refunded"), ==,
                   json_object_get_int_member (before, "amount_refunded") + amount);
  g_assert_cmpint (db_int_text ("SELECT count(*) FROM billing_actions WHERE target_id = ? AND state = 'sending'",
                                charge_id), ==, 0);

  window_close_and_finalize (window, page);
}

static void
test_restricted_key (void)
{
  FdBillingPage *page;
  GtkWindow *window;
  const char *id = scenario ("partial_refund");
  const FdStripeCharge *charge;

  /* The store's Stripe account now has a key that may read but not refund. */
  set_stripe_key (FD_SANDBOX_STRIPE_RESTRICTED_KEY);

  window = page_window_new (&page);
  g_assert_cmpint (_fd_billing_page_get_permissions (page) & FD_STRIPE_CAN_READ_PAYMENTS, !=, 0);
  g_assert_cmpint (_fd_billing_page_get_permissions (page) & FD_STRIPE_CAN_WRITE_REFUNDS, ==, 0);

  open_customer (page, id, 0);
  charge = refundable_charge (fd_billing_page_get_account (page));
  g_assert_nonnull (charge);

  /* The payment is shown; its refund is neither a button nor an action. */
  g_assert_null (find_action_button (GTK_WIDGET (page), "billing.refund", charge->id));
  gtk_widget_activate_action (GTK_WIDGET (page), "billing.refund", "s", charge->id);
  spin (100);
  g_assert_null (_fd_billing_page_get_dialog (page));
  /* Reading is still allowed: the payments are listed. */
  g_assert_cmpuint (fd_billing_page_get_account (page)->charges->len, >, 0);

  window_close_and_finalize (window, page);

  set_stripe_key (FD_SANDBOX_STRIPE_KEY);
}

typedef struct
{
  gboolean                done;
  GError                 *error;
  const FdBillingAccount *account;
  char                   *summary;
  char                   *customer_id;
} SummaryRead;

static gboolean
summary_done (SummaryRead *read)
{
  return read->done;
}

static void
summary_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  SummaryRead *read = user_data;

  read->account = fd_billing_summary_load_finish (result, &read->error);
  if (read->account != NULL)
    {
      read->summary = g_strdup (read->account->summary);
      read->customer_id = g_strdup (read->account->customer->id);
    }
  read->done = TRUE;
}

static void
summary_read (FdStore     *from,
              const char  *customer_id,
              const char  *email,
              SummaryRead *read)
{
  fd_billing_summary_load_async (from, customer_id, email, NULL, summary_cb, read);
  wait_until (summary_done, read);
}

static void
summary_clear (SummaryRead *read)
{
  g_clear_error (&read->error);
  g_clear_pointer (&read->summary, g_free);
  g_clear_pointer (&read->customer_id, g_free);
  *read = (SummaryRead) { 0 };
}

static void
test_summary (void)
{
  const char *id = scenario ("payment_failed_expired_card");
  g_autofree char *path = g_strconcat ("/v1/customers/", id, NULL);
  g_autoptr(JsonObject) customer = stripe_get (path);
  g_autofree char *upper = g_ascii_strup (json_object_get_string_member (customer, "email"), -1);
  g_autofree char *empty_path = g_build_filename (profile_dir, "summary-empty.db", NULL);
  g_autoptr(FdStore) empty = fd_store_new (empty_path);
  g_autoptr(GError) error = NULL;
  SummaryRead read = { 0 };
  guint requests;

  /* By the organisation's Stripe id: the sentence the context panel shows. */
  summary_read (store, id, NULL, &read);
  g_assert_no_error (read.error);
  g_assert_cmpstr (read.customer_id, ==, id);
  g_assert_nonnull (read.summary);
  g_assert_cmpint (read.account->state, ==, FD_BILLING_PAYMENT_FAILING);
  summary_clear (&read);

  /* Read again within the minute: from memory, no request. */
  requests = fd_sandbox_get_request_count (sandbox, "/stripe");
  summary_read (store, id, NULL, &read);
  g_assert_no_error (read.error);
  g_assert_cmpstr (read.customer_id, ==, id);
  g_assert_cmpuint (fd_sandbox_get_request_count (sandbox, "/stripe"), ==, requests);
  summary_clear (&read);

  /* By the contact's email, whatever its case. */
  summary_read (store, NULL, upper, &read);
  g_assert_no_error (read.error);
  g_assert_cmpstr (read.customer_id, ==, id);
  summary_clear (&read);

  /* An address Stripe does not know: no customer, and no error. */
  summary_read (store, NULL, "nobody-at-all@example.invalid", &read);
  g_assert_no_error (read.error);
  g_assert_null (read.account);
  summary_clear (&read);

  /* A store without a Stripe account says so. */
  g_assert_true (fd_store_open_sync (empty, NULL, &error));
  g_assert_no_error (error);
  summary_read (empty, id, NULL, &read);
  g_assert_error (read.error, FD_BILLING_PAGE_ERROR, FD_BILLING_PAGE_ERROR_NO_ACCOUNT);
  summary_clear (&read);
  fd_store_close (empty);
}

/* }}} */
/* {{{ Set-up */

static void
make_demo (void)
{
  const char *cli = g_getenv ("FD_CLI");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  const char *argv[] = { cli, "--profile", profile_dir, "demo", "--scale", "small", NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("The demo failed: %s", err);
}

static JsonObject *
read_scenarios (void)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (stripe_url, "/_sandbox/scenarios", NULL);
  g_autofree char *auth = g_strconcat ("Bearer ", FD_SANDBOX_STRIPE_KEY, NULL);
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonObject *result = json_object_new ();

  soup_message_headers_append (soup_message_get_request_headers (message), "Authorization", auth);
  body = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, 200);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error));
  g_assert_no_error (error);

  /* {"object": "sandbox_scenarios", "scenarios": {"name": "cus_…", …}}. */
  root = json_node_get_object (json_parser_get_root (parser));
  if (json_object_has_member (root, "scenarios"))
    root = json_object_get_object_member (root, "scenarios");
  if (json_object_has_member (root, "data"))
    {
      JsonArray *data = json_object_get_array_member (root, "data");

      for (guint i = 0; i < json_array_get_length (data); i++)
        {
          JsonObject *entry = json_array_get_object_element (data, i);

          json_object_set_string_member (result, json_object_get_string_member (entry, "name"),
                                         json_object_get_string_member (entry, "customer"));
        }
    }
  else
    {
      g_autoptr(GList) members = json_object_get_members (root);

      for (GList *l = members; l != NULL; l = l->next)
        {
          JsonNode *node = json_object_get_member (root, l->data);

          if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
            json_object_set_string_member (result, l->data, json_node_get_string (node));
        }
    }

  return result;
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

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sandbox_db = NULL;
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  /* The templates are in the static library's resources. */
  (void) fd_get_resource ();

  if (g_getenv ("FD_CLI") == NULL)
    {
      g_test_message ("FD_CLI is not set; run through meson test");
      return 77;
    }
  if (!fd_test_keyring_available ())
    {
      g_test_message ("No Secret Service; run under build-aux/with-keyring");
      return 77;
    }

  profile_dir = g_dir_make_tmp ("fd-test-billing-page-XXXXXX", &error);
  g_assert_no_error (error);
  make_demo ();
  db_path = fd_paths_store_file (profile_dir);

  /* The sandbox's Stripe, seeded like the demo store, in a thread of its own. */
  sandbox_db = g_build_filename (profile_dir, "sandbox.db", NULL);
  sandbox = fd_sandbox_new (sandbox_db);
  g_assert_true (fd_sandbox_seed (sandbox, 1, FD_DEMO_SCALE_SMALL, &error));
  g_assert_no_error (error);
  g_assert_true (fd_sandbox_run_in_thread (sandbox, 0, &error));
  g_assert_no_error (error);
  stripe_url = g_strconcat (fd_sandbox_get_base_url (sandbox), "/stripe", NULL);
  scenarios = read_scenarios ();

  store = fd_store_new (db_path);
  g_assert_true (fd_store_open_sync (store, NULL, &error));
  g_assert_no_error (error);
  set_stripe_key (FD_SANDBOX_STRIPE_KEY);

  note_conversation_id = db_int_text ("SELECT id FROM conversations ORDER BY id LIMIT 1", NULL);

  g_test_add_func ("/billing-page/no-account", test_no_account);
  g_test_add_func ("/billing-page/find-customer", test_find_customer);
  g_test_add_func ("/billing-page/refund", test_refund);
  g_test_add_func ("/billing-page/refund-over-remainder", test_refund_over_remainder);
  g_test_add_func ("/billing-page/cancel-at-period-end", test_cancel_at_period_end);
  g_test_add_func ("/billing-page/seat-change", test_seat_change);
  g_test_add_func ("/billing-page/failed-payment", test_failed_payment);
  g_test_add_func ("/billing-page/dispute-draft", test_dispute_draft);
  g_test_add_func ("/billing-page/refund-after-lost-answer", test_refund_finished_after_lost_answer);
  g_test_add_func ("/billing-page/restricted-key", test_restricted_key);
  g_test_add_func ("/billing-page/summary", test_summary);

  ret = g_test_run ();

  g_clear_object (&stripe_account);
  fd_store_close (store);
  g_clear_object (&store);
  fd_sandbox_stop (sandbox);
  g_clear_object (&sandbox);
  g_clear_pointer (&scenarios, json_object_unref);
  remove_tree (profile_dir);
  g_free (profile_dir);
  g_free (db_path);
  g_free (stripe_url);

  return ret;
}

/* }}} */
