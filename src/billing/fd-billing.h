/* fd-billing.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Billing for support work, over FdStripeClient and the store: find the customer, read
 * their account (subscriptions, invoices, payments, refunds, disputes, payment methods),
 * summarise it in a sentence, preview changes, and run money-moving actions. An action
 * is written to the store with its idempotency key before anything is sent, so a retry —
 * after a dropped connection or a crash — reuses the key and Stripe does it once; when it
 * is done it leaves an audit entry (who, when, what, amount, Stripe request id, key).
 * No GTK.
 */

#pragma once

#include "fd-money.h"
#include "fd-store.h"
#include "fd-stripe-client.h"

G_BEGIN_DECLS

/* {{{ What Stripe holds, as read (amounts in minor units of @currency) */

typedef struct
{
  char   *id;
  char   *name;
  char   *email;
  char   *description;
  char   *currency;           /* the customer's default, or NULL */
  gint64  balance;            /* negative: credit the customer has */
  gint64  created;            /* UTC seconds, as Stripe writes times */
  gboolean delinquent;
  char   *default_payment_method;  /* id, or NULL */
} FdStripeCustomer;

typedef struct
{
  char   *id;
  char   *type;               /* card, sepa_debit, us_bank_account, … */
  char   *brand;              /* visa, mastercard, amex, … (cards) */
  char   *last4;              /* never more than the last four */
  int     exp_month;
  int     exp_year;
  gboolean is_default;
} FdStripePaymentMethod;

typedef struct
{
  char   *id;                 /* the subscription item's id (si_…) */
  char   *price_id;
  char   *product_name;       /* the price's nickname or product, or the price id */
  gint64  unit_amount;
  char   *currency;
  char   *interval;           /* day, week, month, year */
  int     interval_count;
  gint64  quantity;           /* seats */
} FdStripeSubscriptionItem;

typedef struct
{
  char   *id;
  char   *status;             /* active, past_due, unpaid, canceled, incomplete, trialing, paused, … */
  char   *currency;
  char   *collection_method;  /* charge_automatically, send_invoice */
  int     days_until_due;     /* send_invoice only; 0 otherwise */
  gint64  current_period_start;
  gint64  current_period_end;
  gint64  trial_end;          /* 0: no trial */
  gint64  cancel_at;          /* 0: none */
  gint64  canceled_at;
  gboolean cancel_at_period_end;
  char   *pause_behavior;     /* pause_collection.behavior, or NULL when collecting */
  char   *discount;           /* "20% off for 3 months", "€10.00 off", or NULL */
  GPtrArray *items;           /* of FdStripeSubscriptionItem */
} FdStripeSubscription;

typedef struct
{
  char   *id;
  char   *number;
  char   *status;             /* draft, open, paid, uncollectible, void */
  char   *currency;
  gint64  total;
  gint64  amount_due;
  gint64  amount_paid;
  gint64  amount_remaining;
  gint64  created;
  gint64  due_date;           /* 0: none */
  int     attempt_count;
  char   *hosted_invoice_url;
  char   *invoice_pdf;
  char   *subscription;       /* id, or NULL */
  char   *collection_method;
  gboolean past_due;          /* open and due_date passed */
} FdStripeInvoice;

typedef struct
{
  char   *id;
  char   *charge;
  gint64  amount;
  char   *currency;
  char   *status;             /* pending, succeeded, failed, canceled, requires_action */
  char   *reason;
  gint64  created;
} FdStripeRefund;

typedef struct
{
  char   *id;                 /* ch_… */
  char   *payment_intent;
  char   *invoice;
  gint64  amount;
  gint64  amount_refunded;
  char   *currency;
  char   *status;             /* succeeded, pending, failed */
  gboolean refunded;
  gboolean disputed;
  char   *description;
  gint64  created;
  char   *failure_code;
  char   *failure_message;
  char   *decline_code;       /* outcome.reason when it is a decline code, or NULL */
  char   *advice_code;
  char   *card_brand;
  char   *card_last4;
  char   *receipt_url;
} FdStripeCharge;

typedef struct
{
  char   *id;                 /* dp_… or du_… */
  char   *charge;
  gint64  amount;
  char   *currency;
  char   *reason;             /* fraudulent, product_not_received, duplicate, subscription_canceled, … */
  char   *status;             /* warning_needs_response, needs_response, under_review, won, lost, … */
  gint64  created;
  gint64  evidence_due_by;    /* 0: none */
  gboolean has_evidence;
  gboolean past_due;
  int     submission_count;
  JsonObject *evidence;       /* Stripe's evidence object as read, or NULL */
} FdStripeDispute;

void                  fd_stripe_customer_free       (FdStripeCustomer      *customer);
void                  fd_stripe_payment_method_free (FdStripePaymentMethod *method);
void                  fd_stripe_subscription_free   (FdStripeSubscription  *subscription);
void                  fd_stripe_invoice_free        (FdStripeInvoice       *invoice);
void                  fd_stripe_refund_free         (FdStripeRefund        *refund);
void                  fd_stripe_charge_free         (FdStripeCharge        *charge);
void                  fd_stripe_dispute_free        (FdStripeDispute       *dispute);
FdStripeCustomer     *fd_stripe_customer_from_json  (JsonObject *object);
FdStripeSubscription *fd_stripe_subscription_from_json (JsonObject *object);
FdStripeInvoice      *fd_stripe_invoice_from_json   (JsonObject *object,
                                                     gint64      now_s);
FdStripeCharge       *fd_stripe_charge_from_json    (JsonObject *object);
FdStripeRefund       *fd_stripe_refund_from_json    (JsonObject *object);
FdStripeDispute      *fd_stripe_dispute_from_json   (JsonObject *object,
                                                     gint64      now_s);
FdStripePaymentMethod *fd_stripe_payment_method_from_json (JsonObject *object);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdStripeCustomer, fd_stripe_customer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdStripeSubscription, fd_stripe_subscription_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdStripeInvoice, fd_stripe_invoice_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdStripeCharge, fd_stripe_charge_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdStripeRefund, fd_stripe_refund_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdStripeDispute, fd_stripe_dispute_free)

/* The refundable remainder of a charge: amount − amount_refunded (never negative). */
gint64                fd_stripe_charge_refundable   (const FdStripeCharge *charge);

/* }}} */
/* {{{ One customer's account */

typedef enum
{
  FD_BILLING_HEALTHY,
  FD_BILLING_TRIAL,
  FD_BILLING_PAYMENT_FAILING,   /* the latest payment failed, or an invoice is past due */
  FD_BILLING_DISPUTED,          /* a dispute needs a response */
  FD_BILLING_CANCELING,         /* cancels at period end */
  FD_BILLING_CANCELED,          /* no live subscription */
  FD_BILLING_NO_SUBSCRIPTION,
} FdBillingState;

typedef struct
{
  FdStripeCustomer *customer;
  GPtrArray *subscriptions;     /* of FdStripeSubscription, live ones first */
  GPtrArray *invoices;          /* of FdStripeInvoice, newest first (up to 24) */
  GPtrArray *charges;           /* of FdStripeCharge, newest first (up to 50) */
  GPtrArray *refunds;           /* of FdStripeRefund, newest first */
  GPtrArray *disputes;          /* of FdStripeDispute, newest first */
  GPtrArray *payment_methods;   /* of FdStripePaymentMethod, the default first */
  gint64     read_at;           /* UTC ms */

  FdBillingState state;
  /* One sentence for the context panel, e.g. "Payment failing for 3 days: the card has
   * expired." or "Active · 150 seats · renews 1 March 2027". */
  char      *summary;
  /* Open invoices' amount remaining, per currency. */
  FdMoneyTotals *outstanding;
} FdBillingAccount;

void              fd_billing_account_free       (FdBillingAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdBillingAccount, fd_billing_account_free)

/* Fills state, summary and outstanding from the lists, as of @now_s (UTC seconds). */
void              fd_billing_account_summarize  (FdBillingAccount *account,
                                                 gint64            now_s);

/* Finds customers: a cus_… id reads that customer; an email is looked up exactly with
 * GET /v1/customers?email= (fresh, not subject to the search index's delay) and with
 * the search API; anything else searches names and emails (/v1/customers/search).
 * Returns FdStripeCustomer, at most 20, without duplicates. */
void              fd_billing_find_customers_async  (FdStripeClient      *client,
                                                    const char          *query,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
GPtrArray        *fd_billing_find_customers_finish (GAsyncResult        *result,
                                                    GError             **error);

/* Reads one customer's account: the requests run at once; what a restricted key may not
 * read stays empty rather than failing the whole. */
void              fd_billing_load_account_async    (FdStripeClient      *client,
                                                    const char          *customer_id,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
FdBillingAccount *fd_billing_load_account_finish   (GAsyncResult        *result,
                                                    GError             **error);

/* }}} */
/* {{{ Previews */

typedef struct
{
  char   *currency;
  gint64  amount_due;         /* what the next invoice will ask for */
  gint64  total;
  gint64  proration;          /* the sum of proration lines (negative: a credit) */
  gint64  next_payment_at;    /* UTC seconds */
  GPtrArray *lines;           /* of char *: "150 × Pro seat (1 Dec – 1 Jan): €1,500.00" */
} FdBillingPreview;

void              fd_billing_preview_free         (FdBillingPreview *preview);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdBillingPreview, fd_billing_preview_free)

/* The next invoice if the subscription's item changed to @price_id (NULL: same price)
 * and @quantity (0: same): GET /v1/invoices/upcoming with subscription_items and
 * subscription_proration_behavior. */
void              fd_billing_preview_change_async  (FdStripeClient      *client,
                                                    const FdStripeSubscription *subscription,
                                                    const char          *price_id,
                                                    gint64               quantity,
                                                    const char          *proration_behavior,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
FdBillingPreview *fd_billing_preview_change_finish (GAsyncResult        *result,
                                                    GError             **error);

/* A credit note for @amount of an invoice (GET /v1/credit_notes/preview). */
void              fd_billing_preview_credit_note_async  (FdStripeClient      *client,
                                                         const FdStripeInvoice *invoice,
                                                         gint64               amount,
                                                         const char          *reason,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
FdBillingPreview *fd_billing_preview_credit_note_finish (GAsyncResult        *result,
                                                         GError             **error);

/* }}} */
/* {{{ Actions */

typedef enum
{
  FD_BILLING_ACTION_REFUND,                 /* charge_id, amount, currency, reason */
  FD_BILLING_ACTION_CANCEL_NOW,             /* subscription_id */
  FD_BILLING_ACTION_CANCEL_AT_PERIOD_END,   /* subscription_id */
  FD_BILLING_ACTION_UNDO_CANCEL,            /* subscription_id: keep it */
  FD_BILLING_ACTION_CHANGE_SUBSCRIPTION,    /* subscription_id, item_id, price_id, quantity,
                                             * proration_behavior */
  FD_BILLING_ACTION_PAUSE_COLLECTION,       /* subscription_id, pause_behavior */
  FD_BILLING_ACTION_RESUME_COLLECTION,      /* subscription_id */
  FD_BILLING_ACTION_PAY_INVOICE,            /* invoice_id (retry the payment) */
  FD_BILLING_ACTION_SEND_INVOICE,           /* invoice_id */
  FD_BILLING_ACTION_VOID_INVOICE,           /* invoice_id */
  FD_BILLING_ACTION_MARK_UNCOLLECTIBLE,     /* invoice_id */
  FD_BILLING_ACTION_CREDIT_NOTE,            /* invoice_id, amount, currency, reason */
  FD_BILLING_ACTION_UPDATE_DISPUTE,         /* dispute_id, evidence (params), submit */
  FD_BILLING_ACTION_CLOSE_DISPUTE,          /* dispute_id: accept the loss */
} FdBillingActionKind;

typedef struct
{
  FdBillingActionKind kind;
  char   *customer_id;
  char   *target_id;          /* the charge, subscription, invoice or dispute */
  char   *item_id;            /* the subscription item, for a change */
  char   *price_id;
  gint64  quantity;
  gint64  amount;             /* minor units; refunds and credit notes */
  char   *currency;
  char   *reason;             /* refund: requested_by_customer, duplicate, fraudulent */
  char   *proration_behavior; /* create_prorations, none, always_invoice */
  char   *pause_behavior;     /* keep_as_draft, mark_uncollectible, void */
  gboolean submit;            /* disputes: submit now rather than save a draft */
  FdStripeParams *evidence;   /* disputes: evidence[…] fields */
  gint64  conversation_id;    /* 0: none; sent as metadata[frontdesk_conversation] */
  gint64  refundable;         /* refunds: the charge's remainder as read, checked first */
  char   *agent;              /* who: the agent's name, for the audit log */
} FdBillingAction;

FdBillingAction  *fd_billing_action_new       (FdBillingActionKind kind);
void              fd_billing_action_free      (FdBillingAction    *action);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdBillingAction, fd_billing_action_free)

/* Checks what can be checked before any request, in plain words: an amount above the
 * refundable remainder, a zero or negative amount, a currency other than the charge's,
 * a missing target. */
gboolean          fd_billing_action_validate  (const FdBillingAction *action,
                                               GError               **error);
/* The exact effect, for the confirmation dialog, with amount and currency where money
 * moves: "Refund 45.00 EUR of payment ch_… to the customer's Visa •••• 4242. This
 * cannot be undone." Newly allocated. */
char             *fd_billing_action_describe  (const FdBillingAction *action);
/* The permission the action needs (to hide what a restricted key cannot do). */
FdStripePermissions fd_billing_action_needs   (FdBillingActionKind kind);
/* The request the action makes. */
void              fd_billing_action_get_request (const FdBillingAction *action,
                                                 const char           **method,
                                                 char                 **path,
                                                 FdStripeParams       **params);

typedef struct
{
  gint64      action_id;      /* the row in billing_actions */
  char       *idempotency_key;
  char       *request_id;
  JsonObject *object;         /* what Stripe returned */
  /* An internal note the agent may add to the conversation: "Refunded 45.00 EUR
   * (payment ch_…, refund re_…). Stripe request req_…" */
  char       *note;
} FdBillingOutcome;

void              fd_billing_outcome_free     (FdBillingOutcome *outcome);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdBillingOutcome, fd_billing_outcome_free)

/* Validates, then stores the action with a new idempotency key (state 'sending'), sends
 * it, and records the outcome (state 'done' with the request id and an audit entry, or
 * 'failed' with the error; a network error leaves it 'sending', to be retried). */
void              fd_billing_run_action_async   (FdStore             *store,
                                                 FdStripeClient      *client,
                                                 const FdBillingAction *action,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
FdBillingOutcome *fd_billing_run_action_finish  (GAsyncResult        *result,
                                                 GError             **error);

/* Sends a stored action again with its stored key and parameters (after a network error
 * or a crash): Stripe answers with the first outcome rather than doing it twice. */
void              fd_billing_retry_action_async  (FdStore             *store,
                                                  FdStripeClient      *client,
                                                  gint64               action_id,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
FdBillingOutcome *fd_billing_retry_action_finish (GAsyncResult        *result,
                                                  GError             **error);

typedef struct
{
  gint64  id;
  char   *kind;               /* "refund", "cancel_now", … */
  char   *target_id;
  char   *description;
  gint64  created_at;         /* UTC ms */
} FdBillingPendingAction;

void              fd_billing_pending_action_free (FdBillingPendingAction *pending);

/* Actions left 'sending' (the app stopped or the network dropped before an answer):
 * the UI offers to finish them. Of FdBillingPendingAction, oldest first. */
void              fd_billing_list_unfinished_async  (FdStore             *store,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
GPtrArray        *fd_billing_list_unfinished_finish (FdStore             *store,
                                                     GAsyncResult        *result,
                                                     GError             **error);

/* The Stripe account configured in the store (kind 'stripe'), its key from the keyring,
 * as a client; NULL with an error in plain words when there is none. */
void              fd_billing_open_client_async  (FdStore             *store,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
FdStripeClient   *fd_billing_open_client_finish (GAsyncResult        *result,
                                                 GError             **error);

/* }}} */

G_END_DECLS
