/* fd-billing-page.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Billing area: find a Stripe customer by email, name or id, read their account
 * (subscriptions, invoices, payments, refunds, disputes, payment method, credit), and
 * act on it behind confirmations. Also the one-line summary the context panel shows
 * beside a conversation.
 */

#pragma once

#include <adwaita.h>

#include "fd-billing.h"
#include "fd-store.h"

G_BEGIN_DECLS

#define FD_TYPE_BILLING_PAGE (fd_billing_page_get_type ())
G_DECLARE_FINAL_TYPE (FdBillingPage, fd_billing_page, FD, BILLING_PAGE, GtkWidget)

GtkWidget     *fd_billing_page_new              (void);
/* Reads the Stripe account configured in @store (and its key from the keyring). */
void           fd_billing_page_set_store        (FdBillingPage *self,
                                                 FdStore       *store);
FdStore       *fd_billing_page_get_store        (FdBillingPage *self);
/* The accounts changed (Preferences): the Stripe account is read again. */
void           fd_billing_page_reload_accounts  (FdBillingPage *self);
/* Looks up @query (a cus_… id, an email or a name) and shows the customer, or the
 * matches to choose from. @conversation_id (0: none) is where notes about the actions
 * taken go. @then, for scripts: "refund" opens the refund of the latest refundable
 * payment, "dispute" the evidence form of the first open dispute, NULL nothing. */
void           fd_billing_page_open_customer    (FdBillingPage *self,
                                                 const char    *query,
                                                 gint64         conversation_id,
                                                 const char    *then);
/* The customer shown, or NULL. */
const FdBillingAccount *fd_billing_page_get_account (FdBillingPage *self);
gint64         fd_billing_page_get_conversation_id (FdBillingPage *self);

/* An icon and a style class (success, warning, error, dim-label) for @state, so a
 * summary is never told by colour alone. */
const char    *fd_billing_state_icon_name       (FdBillingState state);
const char    *fd_billing_state_style_class     (FdBillingState state);

/* For the context panel: the account of Stripe customer @customer_id, or else of the
 * customer with exactly @email, read through @store's Stripe account and kept for a
 * minute. Finishes with NULL and no error when there is no such customer, and with
 * FD_BILLING_PAGE_ERROR_NO_ACCOUNT when no Stripe account is configured. The account
 * belongs to the cache: read it in the callback, do not keep it. */
#define FD_BILLING_PAGE_ERROR (fd_billing_page_error_quark ())

typedef enum
{
  FD_BILLING_PAGE_ERROR_NO_ACCOUNT,
} FdBillingPageError;

GQuark         fd_billing_page_error_quark      (void);

void                    fd_billing_summary_load_async  (FdStore             *store,
                                                        const char          *customer_id,
                                                        const char          *email,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
const FdBillingAccount *fd_billing_summary_load_finish (GAsyncResult        *result,
                                                        GError             **error);
/* Forgets the Stripe client and summaries kept for @store (the accounts changed). */
void              fd_billing_forget_client       (FdStore             *store);

/* For tests. The stack's page shown: "no-account", "start", "loading", "error",
 * "results", "no-results" or "customer". */
const char    *_fd_billing_page_get_state       (FdBillingPage *self);
/* The permissions the key was found to have (0 until probed). */
FdStripePermissions _fd_billing_page_get_permissions (FdBillingPage *self);
/* The dialog or evidence window open, or NULL. */
GtkWindow     *_fd_billing_page_get_dialog      (FdBillingPage *self);
/* How many times an account was read and shown (a reload after an action counts). */
guint          _fd_billing_page_get_reads       (FdBillingPage *self);
/* Whether an action is running. */
gboolean       _fd_billing_page_get_busy        (FdBillingPage *self);
/* The note offered after the last action, or NULL. */
const char    *_fd_billing_page_get_last_note   (FdBillingPage *self);
/* The message of the last action's failure shown in the page, or NULL. */
const char    *_fd_billing_page_get_action_error (FdBillingPage *self);
/* The search entry and the list of matches. */
GtkEditable   *_fd_billing_page_get_search_entry (FdBillingPage *self);
GtkListBox    *_fd_billing_page_get_results_list (FdBillingPage *self);

G_END_DECLS
