/* test-contract.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every request a connector makes, sent to a server that checks it against the
 * service's official API description (a Prism mock started by run-contract, or any
 * server named by FRONTDESK_CONTRACT_<SERVICE>_URL). A request the description does not
 * allow comes back 4xx and fails the test; every answer must parse.
 */

#include "config.h"

#include <string.h>

#include "fd-billing.h"
#include "fd-discourse-channel.h"
#include "fd-http.h"
#include "fd-intercom-channel.h"
#include "fd-slack-channel.h"

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
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }

  return *slot;
}

/* A mock answers with placeholders that can page forever; a few pages are enough to
 * exercise every request of a first sync. */
static guint
fetch_pages (FdChannel *channel,
             guint      max_pages)
{
  g_autofree char *cursor = NULL;
  gboolean has_more = TRUE;
  guint pages = 0;

  while (has_more && pages < max_pages)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(FdSyncBatch) batch = NULL;
      g_autoptr(GError) error = NULL;

      fd_channel_fetch_async (channel, cursor, NULL, result_cb, &result);
      batch = fd_channel_fetch_finish (channel, wait_for (&result), &has_more, &error);
      g_assert_no_error (error);
      g_assert_nonnull (batch);
      pages++;

      g_free (cursor);
      cursor = g_strdup (batch->cursor);
    }

  return pages;
}

static void
send_item (FdChannel    *channel,
           FdOutboxKind  kind,
           const char   *conversation,
           gboolean      may_be_unsupported)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *external_id = NULL;
  FdOutboxItem item = { 0 };

  item.kind = kind;
  item.conversation_external_id = (char *) conversation;
  item.idempotency_key = (char *) "fd-contract-0001";
  item.body = (char *) "Thanks for the report — we are on it.";
  item.status = (char *) "resolved";
  item.assignee_external_id = (char *) "123";
  item.tag = (char *) "billing";
  item.author_external_id = (char *) "991267628";

  fd_channel_send_async (channel, &item, NULL, result_cb, &result);
  external_id = fd_channel_send_finish (channel, wait_for (&result), &error);

  if (may_be_unsupported && g_error_matches (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED))
    return;

  g_assert_no_error (error);
  g_assert_nonnull (external_id);
}

static const char *
target (const char *service)
{
  g_autofree char *var = g_strdup_printf ("FRONTDESK_CONTRACT_%s_URL", service);

  return g_getenv (var);
}

static void
test_intercom (void)
{
  const char *url = target ("INTERCOM");
  g_autoptr(FdChannel) channel = NULL;

  if (url == NULL)
    {
      g_test_skip ("FRONTDESK_CONTRACT_INTERCOM_URL is not set");
      return;
    }

  channel = fd_intercom_channel_new (url, "contract-test-token");
  fd_http_client_set_retry (fd_intercom_channel_get_http_client (FD_INTERCOM_CHANNEL (channel)), 1, 10, 10);

  g_assert_cmpuint (fetch_pages (channel, 6), >=, 1);
  send_item (channel, FD_OUTBOX_REPLY, "123", FALSE);
  send_item (channel, FD_OUTBOX_NOTE, "123", FALSE);
  send_item (channel, FD_OUTBOX_STATUS, "123", FALSE);
  send_item (channel, FD_OUTBOX_ASSIGN, "123", FALSE);
  send_item (channel, FD_OUTBOX_TAG, "123", FALSE);
  send_item (channel, FD_OUTBOX_UNTAG, "123", FALSE);
}

static void
test_slack (void)
{
  const char *url = target ("SLACK");
  g_autoptr(FdChannel) channel = NULL;
  FdHttpClient *client;

  if (url == NULL)
    {
      g_test_skip ("FRONTDESK_CONTRACT_SLACK_URL is not set");
      return;
    }

  channel = fd_slack_channel_new (url, "xoxb-contract-test-token", NULL);
  client = fd_slack_channel_get_http_client (FD_SLACK_CHANNEL (channel));
  fd_http_client_set_retry (client, 1, 10, 10);
  /* Slack's description (2021) also declares the token as a "token" header. */
  fd_http_client_set_header (client, "token", "xoxb-contract-test-token", TRUE);

  g_assert_cmpuint (fetch_pages (channel, 6), >=, 1);
  send_item (channel, FD_OUTBOX_REPLY, "C012AB3CD:1512085950.000216", FALSE);
  send_item (channel, FD_OUTBOX_NOTE, "C012AB3CD:1512085950.000216", TRUE);
}

static void
test_discourse (void)
{
  const char *url = target ("DISCOURSE");
  g_autoptr(FdChannel) channel = NULL;

  if (url == NULL)
    {
      g_test_skip ("FRONTDESK_CONTRACT_DISCOURSE_URL is not set");
      return;
    }

  channel = fd_discourse_channel_new (url, "contract-test-key", "system", NULL);
  fd_http_client_set_retry (fd_discourse_channel_get_http_client (FD_DISCOURSE_CHANNEL (channel)), 1, 10, 10);

  g_assert_cmpuint (fetch_pages (channel, 6), >=, 1);
  send_item (channel, FD_OUTBOX_REPLY, "topic:1", FALSE);
  send_item (channel, FD_OUTBOX_NOTE, "topic:1", TRUE);
}

/* {{{ Stripe */

#define STRIPE_CONTRACT_KEY "sk_test_contract"

static FdStripeClient *
stripe_client (void)
{
  const char *url = target ("STRIPE");
  FdStripeClient *client;

  if (url == NULL)
    {
      g_test_skip ("FRONTDESK_CONTRACT_STRIPE_URL is not set (run-contract starts a Prism "
                   "mock of the Stripe description when Prism is installed)");
      return NULL;
    }

  client = fd_stripe_client_new (url, STRIPE_CONTRACT_KEY);
  fd_stripe_client_set_retry (client, 1, 10, 10);
  return client;
}

/* The mock answers each list with one placeholder object; charges and the customer
 * search also say has_more, so a few items are enough to cross pages. */
static void
test_stripe_find_customers (void)
{
  g_autoptr(FdStripeClient) client = stripe_client ();
  static const char * const queries[] = { "cus_NffrFeUfNV2Hib", "jenny.rosen@example.com",
                                          "Jenny Rosen", "Jo" };

  if (client == NULL)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GPtrArray) customers = NULL;
      g_autoptr(GError) error = NULL;

      fd_billing_find_customers_async (client, queries[i], NULL, result_cb, &result);
      customers = fd_billing_find_customers_finish (wait_for (&result), &error);
      g_assert_no_error (error);
      g_assert_nonnull (customers);
      g_assert_cmpuint (customers->len, >=, 1);
      for (guint k = 0; k < customers->len; k++)
        g_assert_nonnull (((FdStripeCustomer *) g_ptr_array_index (customers, k))->id);
    }
}

static void
test_stripe_load_account (void)
{
  g_autoptr(FdStripeClient) client = stripe_client ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(FdBillingAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  if (client == NULL)
    return;

  fd_billing_load_account_async (client, "cus_NffrFeUfNV2Hib", NULL, result_cb, &result);
  account = fd_billing_load_account_finish (wait_for (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (account);
  g_assert_nonnull (account->customer);
  g_assert_nonnull (account->customer->id);
  /* Every list was read and parsed (the mock has at least one of each). */
  g_assert_cmpuint (account->subscriptions->len, >=, 1);
  g_assert_cmpuint (account->invoices->len, >=, 1);
  g_assert_cmpuint (account->charges->len, >=, 1);
  g_assert_cmpuint (account->payment_methods->len, >=, 1);
  g_assert_nonnull (account->summary);
}

static void
test_stripe_previews (void)
{
  g_autoptr(FdStripeClient) client = stripe_client ();
  g_autoptr(GPtrArray) items = g_ptr_array_new ();
  g_autoptr(FdBillingPreview) credit = NULL;
  g_autoptr(GError) error = NULL;
  FdStripeSubscriptionItem item = { 0 };
  FdStripeSubscription subscription = { 0 };
  FdStripeInvoice invoice = { 0 };

  if (client == NULL)
    return;

  item.id = (char *) "si_OHLk2ZcJMkDNzO";
  item.price_id = (char *) "price_1NUmAq2eZvKYlo2C";
  item.quantity = 150;
  item.currency = (char *) "eur";
  g_ptr_array_add (items, &item);
  subscription.id = (char *) "sub_1NUmAq2eZvKYlo2C";
  subscription.currency = (char *) "eur";
  subscription.items = items;

  /* A seat change, then a plan change with another proration behaviour. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(FdBillingPreview) preview = NULL;

      fd_billing_preview_change_async (client, &subscription,
                                       i == 0 ? NULL : "price_1NUmBr2eZvKYlo2C",
                                       i == 0 ? 175 : 0,
                                       i == 0 ? "create_prorations" : "always_invoice",
                                       NULL, result_cb, &result);
      preview = fd_billing_preview_change_finish (wait_for (&result), &error);
      g_assert_no_error (error);
      g_assert_nonnull (preview);
      g_assert_nonnull (preview->lines);
      g_assert_nonnull (preview->currency);
    }

  invoice.id = (char *) "in_1NUmAq2eZvKYlo2C";
  invoice.currency = (char *) "eur";
  invoice.total = 150000;
  invoice.amount_paid = 150000;
  {
    g_autoptr(GAsyncResult) result = NULL;

    fd_billing_preview_credit_note_async (client, &invoice, 4500, "order_change", NULL,
                                          result_cb, &result);
    credit = fd_billing_preview_credit_note_finish (wait_for (&result), &error);
    g_assert_no_error (error);
    g_assert_nonnull (credit);
    g_assert_nonnull (credit->lines);
  }
}

static void
test_stripe_pagination (void)
{
  g_autoptr(FdStripeClient) client = stripe_client ();
  g_autoptr(FdStripeParams) params = NULL;
  g_autoptr(GError) error = NULL;

  if (client == NULL)
    return;

  params = fd_stripe_params_new ();
  fd_stripe_params_add (params, "customer", "cus_NffrFeUfNV2Hib");
  fd_stripe_params_add_expand (params, "data.invoice");

  /* Three pages of one object: starting_after (lists) and page (searches) accepted. */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(JsonArray) charges = NULL;

    fd_stripe_client_list_async (client, "/v1/charges", params, 3, NULL, result_cb, &result);
    charges = fd_stripe_client_list_finish (client, wait_for (&result), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (charges), ==, 3);
    for (guint i = 0; i < 3; i++)
      {
        g_autoptr(FdStripeCharge) charge =
          fd_stripe_charge_from_json (json_array_get_object_element (charges, i));

        g_assert_nonnull (charge);
        g_assert_nonnull (charge->id);
      }
  }
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(JsonArray) customers = NULL;

    fd_stripe_client_search_async (client, "/v1/customers/search",
                                   "email:\"jenny.rosen@example.com\"", NULL, 3, NULL,
                                   result_cb, &result);
    customers = fd_stripe_client_search_finish (client, wait_for (&result), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (customers), ==, 3);
  }
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(JsonArray) subscriptions = NULL;
    g_autoptr(FdStripeParams) by_status = fd_stripe_params_new ();

    fd_stripe_params_add (by_status, "customer", "cus_NffrFeUfNV2Hib");
    fd_stripe_params_add (by_status, "status", "all");
    /* run-contract makes every other list end after one page: has_more false stops. */
    fd_stripe_client_list_async (client, "/v1/subscriptions", by_status, 5, NULL,
                                 result_cb, &result);
    subscriptions = fd_stripe_client_list_finish (client, wait_for (&result), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (subscriptions), ==, 1);
  }
}

/* Fills @action as the billing page would for its kind. */
static void
fill_action (FdBillingAction *action,
             gboolean         submit)
{
  action->customer_id = g_strdup ("cus_NffrFeUfNV2Hib");
  action->conversation_id = 4211;
  action->agent = g_strdup ("Sam Rivera");

  switch (action->kind)
    {
    case FD_BILLING_ACTION_REFUND:
      action->target_id = g_strdup ("ch_3NUmAq2eZvKYlo2C0x1bQ2aR");
      action->amount = 4500;
      action->currency = g_strdup ("eur");
      action->reason = g_strdup ("requested_by_customer");
      action->refundable = 9900;
      break;
    case FD_BILLING_ACTION_CANCEL_NOW:
    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
    case FD_BILLING_ACTION_UNDO_CANCEL:
    case FD_BILLING_ACTION_RESUME_COLLECTION:
      action->target_id = g_strdup ("sub_1NUmAq2eZvKYlo2C");
      break;
    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
      action->target_id = g_strdup ("sub_1NUmAq2eZvKYlo2C");
      action->item_id = g_strdup ("si_OHLk2ZcJMkDNzO");
      action->price_id = g_strdup ("price_1NUmBr2eZvKYlo2C");
      action->quantity = 175;
      action->proration_behavior = g_strdup ("create_prorations");
      break;
    case FD_BILLING_ACTION_PAUSE_COLLECTION:
      action->target_id = g_strdup ("sub_1NUmAq2eZvKYlo2C");
      action->pause_behavior = g_strdup ("keep_as_draft");
      break;
    case FD_BILLING_ACTION_PAY_INVOICE:
    case FD_BILLING_ACTION_SEND_INVOICE:
    case FD_BILLING_ACTION_VOID_INVOICE:
    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      action->target_id = g_strdup ("in_1NUmAq2eZvKYlo2C");
      break;
    case FD_BILLING_ACTION_CREDIT_NOTE:
      action->target_id = g_strdup ("in_1NUmAq2eZvKYlo2C");
      action->amount = 4500;
      action->currency = g_strdup ("eur");
      action->reason = g_strdup ("order_change");
      break;
    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      action->target_id = g_strdup ("dp_1NUmAq2eZvKYlo2C");
      action->submit = submit;
      action->evidence = fd_stripe_params_new ();
      fd_stripe_params_add (action->evidence, "uncategorized_text",
                            "The customer used the service after the payment.");
      fd_stripe_params_add (action->evidence, "access_activity_log",
                            "2026-01-04 09:12 UTC login from 203.0.113.7");
      fd_stripe_params_add (action->evidence, "evidence[cancellation_policy_disclosure]",
                            "Shown at checkout and in the terms, section 4.");
      fd_stripe_params_add (action->evidence, "customer_email_address",
                            "jenny.rosen@example.com");
      fd_stripe_params_add (action->evidence, "service_date", "2026-01-01");
      break;
    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      action->target_id = g_strdup ("dp_1NUmAq2eZvKYlo2C");
      break;
    default:
      g_error ("Billing action kind %d has no contract case; add one", action->kind);
    }
}

/* What Stripe answered, read as the engine reads it. */
static void
assert_parses (FdBillingActionKind  kind,
               JsonObject          *object)
{
  switch (kind)
    {
    case FD_BILLING_ACTION_REFUND:
      {
        g_autoptr(FdStripeRefund) refund = fd_stripe_refund_from_json (object);

        g_assert_nonnull (refund);
        g_assert_nonnull (refund->id);
      }
      break;
    case FD_BILLING_ACTION_CANCEL_NOW:
    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
    case FD_BILLING_ACTION_UNDO_CANCEL:
    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
    case FD_BILLING_ACTION_PAUSE_COLLECTION:
    case FD_BILLING_ACTION_RESUME_COLLECTION:
      {
        g_autoptr(FdStripeSubscription) subscription = fd_stripe_subscription_from_json (object);

        g_assert_nonnull (subscription);
        g_assert_nonnull (subscription->id);
        g_assert_nonnull (subscription->items);
      }
      break;
    case FD_BILLING_ACTION_PAY_INVOICE:
    case FD_BILLING_ACTION_SEND_INVOICE:
    case FD_BILLING_ACTION_VOID_INVOICE:
    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      {
        g_autoptr(FdStripeInvoice) invoice =
          fd_stripe_invoice_from_json (object, g_get_real_time () / G_USEC_PER_SEC);

        g_assert_nonnull (invoice);
        g_assert_nonnull (invoice->id);
      }
      break;
    case FD_BILLING_ACTION_CREDIT_NOTE:
      /* The engine keeps a credit note's id and amount only. */
      g_assert_nonnull (fd_stripe_get_string (object, "id"));
      g_assert_cmpstr (fd_stripe_get_string (object, "object"), ==, "credit_note");
      g_assert_true (json_object_has_member (object, "amount"));
      break;
    case FD_BILLING_ACTION_UPDATE_DISPUTE:
    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      {
        g_autoptr(FdStripeDispute) dispute =
          fd_stripe_dispute_from_json (object, g_get_real_time () / G_USEC_PER_SEC);

        g_assert_nonnull (dispute);
        g_assert_nonnull (dispute->id);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
send_action (FdStripeClient  *client,
             FdBillingAction *action,
             const char      *label)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(FdStripeParams) params = NULL;
  g_autoptr(FdStripeFailure) failure = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *key = NULL;
  g_autofree char *encoded = NULL;
  const char *method = NULL;

  g_assert_true (fd_billing_action_validate (action, &error));
  g_assert_no_error (error);

  fd_billing_action_get_request (action, &method, &path, &params);
  g_assert_nonnull (method);
  g_assert_nonnull (path);
  encoded = params != NULL ? fd_stripe_params_encode (params) : g_strdup ("");
  g_test_message ("%s: %s %s %s", label, method, path, encoded);

  key = g_strdup_printf ("fd-contract-%s-%08x", label, g_random_int ());
  fd_stripe_client_request_async (client, method, path, params, key, NULL, result_cb, &result);
  object = fd_stripe_client_request_finish (client, wait_for (&result), NULL, &failure, &error);
  if (error != NULL)
    g_error ("%s: %s %s was not accepted (HTTP %u): %s — %s", label, method, path,
             failure != NULL ? failure->http_status : 0, error->message,
             failure != NULL && failure->message != NULL ? failure->message : "");
  g_assert_nonnull (object);
  assert_parses (action->kind, object);
}

static void
test_stripe_actions (void)
{
  g_autoptr(FdStripeClient) client = stripe_client ();
  static const char * const labels[] = {
    "refund", "cancel-now", "cancel-at-period-end", "undo-cancel", "change-subscription",
    "pause-collection", "resume-collection", "pay-invoice", "send-invoice", "void-invoice",
    "mark-uncollectible", "credit-note", "update-dispute", "close-dispute",
  };

  if (client == NULL)
    return;

  G_STATIC_ASSERT (G_N_ELEMENTS (labels) == FD_BILLING_ACTION_CLOSE_DISPUTE + 1);

  for (int kind = FD_BILLING_ACTION_REFUND; kind <= FD_BILLING_ACTION_CLOSE_DISPUTE; kind++)
    {
      g_autoptr(FdBillingAction) action = fd_billing_action_new (kind);

      fill_action (action, FALSE);
      send_action (client, action, labels[kind]);

      /* A dispute's evidence is saved as a draft, then submitted. */
      if (kind == FD_BILLING_ACTION_UPDATE_DISPUTE)
        {
          g_autoptr(FdBillingAction) submit = fd_billing_action_new (kind);

          fill_action (submit, TRUE);
          send_action (client, submit, "submit-dispute");
        }
    }
}

static void
test_stripe_upload (void)
{
  g_autoptr(FdStripeClient) client = stripe_client ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(JsonObject) file = NULL;
  g_autoptr(GError) error = NULL;
  static const char text[] = "Access log\n2026-01-04 09:12 UTC login\n";

  if (client == NULL)
    return;

  contents = g_bytes_new_static (text, sizeof text - 1);
  fd_stripe_client_upload_async (client, "dispute_evidence", "access-log.txt", "text/plain",
                                 contents, "fd-contract-upload-0001", NULL, result_cb, &result);
  file = fd_stripe_client_upload_finish (client, wait_for (&result), NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (file);
  g_assert_nonnull (fd_stripe_get_string (file, "id"));
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/contract/intercom", test_intercom);
  g_test_add_func ("/contract/slack", test_slack);
  g_test_add_func ("/contract/discourse", test_discourse);
  g_test_add_func ("/contract/stripe/find-customers", test_stripe_find_customers);
  g_test_add_func ("/contract/stripe/load-account", test_stripe_load_account);
  g_test_add_func ("/contract/stripe/previews", test_stripe_previews);
  g_test_add_func ("/contract/stripe/pagination", test_stripe_pagination);
  g_test_add_func ("/contract/stripe/actions", test_stripe_actions);
  g_test_add_func ("/contract/stripe/upload", test_stripe_upload);

  return g_test_run ();
}
