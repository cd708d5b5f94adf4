/* fd-billing-dialogs.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The dialogs in front of every billing action. Each asks for what its action needs,
 * states the exact effect with amount and currency, and keeps its confirm response
 * disabled, with the reason in words, while the action could not be done. They only
 * decide: the Billing page runs the action they return.
 */

#pragma once

#include <adwaita.h>

#include "fd-billing.h"

G_BEGIN_DECLS

/* The responses of FdBillingActionDialog. */
#define FD_BILLING_RESPONSE_CANCEL  "cancel"
#define FD_BILLING_RESPONSE_CONFIRM "confirm"

#define FD_TYPE_BILLING_ACTION_DIALOG (fd_billing_action_dialog_get_type ())
G_DECLARE_FINAL_TYPE (FdBillingActionDialog, fd_billing_action_dialog, FD, BILLING_ACTION_DIALOG, AdwMessageDialog)

/* A plain confirmation of @action (copied): cancel now or at period end, keep a
 * subscription, pause (with the behaviour picked here) or resume collection, pay, send,
 * void or mark an invoice uncollectible, submit dispute evidence, close a dispute. */
FdBillingActionDialog *fd_billing_action_dialog_new             (GtkWindow                  *parent,
                                                                 const FdBillingAction      *action);
/* A full or partial refund of @charge with a reason; the amount never above the
 * refundable remainder. @method_label: "Visa •••• 4242", or NULL. */
FdBillingActionDialog *fd_billing_action_dialog_new_refund      (GtkWindow                  *parent,
                                                                 const FdBillingAction      *action,
                                                                 const FdStripeCharge       *charge);
/* Another price or number of seats for @subscription's first item, with the next
 * invoice previewed through @client before it can be confirmed. */
FdBillingActionDialog *fd_billing_action_dialog_new_change      (GtkWindow                  *parent,
                                                                 FdStripeClient             *client,
                                                                 const FdBillingAction      *action,
                                                                 const FdStripeSubscription *subscription);
/* A credit note on @invoice, previewed through @client before it can be confirmed. */
FdBillingActionDialog *fd_billing_action_dialog_new_credit_note (GtkWindow                  *parent,
                                                                 FdStripeClient             *client,
                                                                 const FdBillingAction      *action,
                                                                 const FdStripeInvoice      *invoice);

/* Presents the dialog; finishes with the action as confirmed, or G_IO_ERROR_CANCELLED
 * when the agent said no. */
void             fd_billing_action_dialog_run_async        (FdBillingActionDialog *self,
                                                            GCancellable          *cancellable,
                                                            GAsyncReadyCallback    callback,
                                                            gpointer               user_data);
FdBillingAction *fd_billing_action_dialog_run_finish       (FdBillingActionDialog *self,
                                                            GAsyncResult          *result,
                                                            GError               **error);

/* The action as it stands now. */
const FdBillingAction *fd_billing_action_dialog_get_action (FdBillingActionDialog *self);
/* Why the confirm response is disabled, in words, or NULL when it is enabled. */
const char      *fd_billing_action_dialog_get_problem      (FdBillingActionDialog *self);
/* Whether the preview (change, credit note) for the current choice is shown. */
gboolean         fd_billing_action_dialog_get_preview_shown (FdBillingActionDialog *self);
/* Whether the confirm response is enabled. */
gboolean         fd_billing_action_dialog_get_can_confirm  (FdBillingActionDialog *self);

/* For tests: the amount (refund, credit note) and seats (change) fields. */
GtkEditable     *_fd_billing_action_dialog_get_amount_editable (FdBillingActionDialog *self);
GtkSpinButton   *_fd_billing_action_dialog_get_seats_spin      (FdBillingActionDialog *self);
/* For tests: chooses a partial refund (TRUE) or the full remainder (FALSE). */
void             _fd_billing_action_dialog_set_partial         (FdBillingActionDialog *self,
                                                                gboolean               partial);

#define FD_TYPE_BILLING_DISPUTE_WINDOW (fd_billing_dispute_window_get_type ())
G_DECLARE_FINAL_TYPE (FdBillingDisputeWindow, fd_billing_dispute_window, FD, BILLING_DISPUTE_WINDOW, AdwWindow)

/* What the evidence form can pre-fill from: all optional. */
typedef struct
{
  const FdStripeCustomer *customer;
  const FdBillingAccount *account;     /* subscriptions, for the product description */
  const FdStripeCharge   *charge;      /* the disputed payment */
  /* The conversation's transcript, oldest message first, or NULL. */
  const char             *transcript;
  const char             *transcript_title;
  /* What Frontdesk's audit log holds on this customer, one line each, or NULL. */
  const char             *audit_lines;
  /* Evidence typed before and not yet saved (a failed save), or NULL. */
  const FdStripeParams   *unsaved;
} FdBillingEvidenceSources;

/* The evidence form of @dispute: Stripe's evidence fields, files uploaded through
 * @client (purpose dispute_evidence), save as a draft, submit after a last
 * confirmation, or accept the loss. @permissions hides what the key cannot do. */
FdBillingDisputeWindow *fd_billing_dispute_window_new   (GtkWindow                      *parent,
                                                         FdStripeClient                 *client,
                                                         FdStripePermissions             permissions,
                                                         const FdBillingAction          *action,
                                                         const FdStripeDispute          *dispute,
                                                         const FdBillingEvidenceSources *sources);
/* Finishes with the action chosen (UPDATE_DISPUTE with or without submit, or
 * CLOSE_DISPUTE), or G_IO_ERROR_CANCELLED when the window was closed. */
void             fd_billing_dispute_window_run_async    (FdBillingDisputeWindow *self,
                                                         GCancellable           *cancellable,
                                                         GAsyncReadyCallback     callback,
                                                         gpointer                user_data);
FdBillingAction *fd_billing_dispute_window_run_finish   (FdBillingDisputeWindow *self,
                                                         GAsyncResult           *result,
                                                         GError                **error);
/* The evidence as typed: evidence[…] parameters (only the fields that changed). */
FdStripeParams  *fd_billing_dispute_window_get_evidence (FdBillingDisputeWindow *self);
/* Fills what it can from the sources given at creation. */
void             fd_billing_dispute_window_prefill      (FdBillingDisputeWindow *self);
/* For tests: the text of evidence field @name ("uncategorized_text"), or NULL. */
char            *_fd_billing_dispute_window_dup_field   (FdBillingDisputeWindow *self,
                                                         const char             *name);
void             _fd_billing_dispute_window_set_field   (FdBillingDisputeWindow *self,
                                                         const char             *name,
                                                         const char             *value);
/* For tests: "draft", "submit" or "close", as the buttons do (submit and close still
 * ask for confirmation). */
void             _fd_billing_dispute_window_choose      (FdBillingDisputeWindow *self,
                                                         const char             *choice);

/* Words shared by the Billing page and its dialogs. */
/* "Visa •••• 4242"; NULL when the brand or last four are unknown. */
char            *fd_billing_card_label                  (const char *brand,
                                                         const char *last4);
/* "12 March 2027" in the user's time zone from Stripe's UTC seconds; "" for 0. */
char            *fd_billing_format_date                 (gint64      unix_s);
/* "12 March 2027, 14:05 CET", for tooltips; "" for 0. */
char            *fd_billing_format_time                 (gint64      unix_s);
/* "€10.00 per month", "€10.00 every 3 months". */
char            *fd_billing_price_text                  (gint64      unit_amount,
                                                         const char *currency,
                                                         const char *interval,
                                                         int         interval_count);
/* A refund's reason in words, or NULL. */
const char      *fd_billing_refund_reason_label         (const char *reason);
/* "Evidence due in 5 days (12 March 2027)", or NULL without a due date. */
char            *fd_billing_dispute_due_text            (gint64      due_s,
                                                         gint64      now_s);
/* fd-billing.h has no copy: the dialogs and the page keep their own. */
FdBillingAction *_fd_billing_action_copy                (const FdBillingAction *action);

G_END_DECLS
