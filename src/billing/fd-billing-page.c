/* fd-billing-page.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-billing-page"

#include "config.h"

#include <glib/gi18n.h>
#include <sqlite3.h>
#include <string.h>

#include "fd-billing-dialogs.h"
#include "fd-billing-page.h"
#include "fd-inbox-store.h"
#include "fd-outbox.h"
#include "fd-stripe-error.h"

/* Typing searches after this pause; Enter searches at once. */
#define SEARCH_DELAY_MS 400
/* Shorter searches wait for Enter: two letters match half of Stripe. */
#define SEARCH_MIN_CHARS 3
/* A load shorter than this shows no spinner, so fast loads do not flicker. */
#define SPINNER_DELAY_MS 300
/* The context panel's summaries are read again after this long. */
#define SUMMARY_TTL_USEC (60 * G_USEC_PER_SEC)

G_DEFINE_QUARK (fd-billing-page-error-quark, fd_billing_page_error)

/* {{{ The Stripe client and summaries, kept per store */

typedef struct
{
  gint64            read_at;      /* monotonic µs */
  FdBillingAccount *account;      /* NULL: no such customer */
} CachedSummary;

typedef struct
{
  FdStripeClient *client;
  GHashTable     *summaries;      /* key → CachedSummary */
} BillingCache;

static void
cached_summary_free (CachedSummary *cached)
{
  g_clear_pointer (&cached->account, fd_billing_account_free);
  g_free (cached);
}

static void
billing_cache_free (BillingCache *cache)
{
  g_clear_object (&cache->client);
  g_hash_table_unref (cache->summaries);
  g_free (cache);
}

static BillingCache *
billing_cache_get (FdStore *store)
{
  BillingCache *cache = g_object_get_data (G_OBJECT (store), "fd-billing-cache");

  if (cache == NULL)
    {
      cache = g_new0 (BillingCache, 1);
      cache->summaries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify) cached_summary_free);
      g_object_set_data_full (G_OBJECT (store), "fd-billing-cache", cache,
                              (GDestroyNotify) billing_cache_free);
    }

  return cache;
}

void
fd_billing_forget_client (FdStore *store)
{
  g_return_if_fail (FD_IS_STORE (store));

  g_object_set_data (G_OBJECT (store), "fd-billing-cache", NULL);
}

static void
client_opened_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdStripeClient) client = NULL;
  FdStore *store = g_task_get_task_data (task);

  client = fd_billing_open_client_finish (result, &error);
  if (client == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, FD_BILLING_PAGE_ERROR, FD_BILLING_PAGE_ERROR_NO_ACCOUNT,
                                 "%s", error != NULL ? error->message : _("No Stripe account is connected."));
      return;
    }

  g_set_object (&billing_cache_get (store)->client, client);
  g_task_return_pointer (task, g_steal_pointer (&client), g_object_unref);
}

/* The store's Stripe account as a client, opened once and kept. */
static void
client_get_async (FdStore             *store,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (store, cancellable, callback, user_data);
  BillingCache *cache = billing_cache_get (store);

  g_task_set_source_tag (task, client_get_async);
  g_task_set_task_data (task, g_object_ref (store), g_object_unref);

  if (cache->client != NULL)
    {
      g_task_return_pointer (task, g_object_ref (cache->client), g_object_unref);
      return;
    }

  fd_billing_open_client_async (store, cancellable, client_opened_cb, g_steal_pointer (&task));
}

static FdStripeClient *
client_get_finish (GAsyncResult  *result,
                   GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */
/* {{{ Summaries for the context panel */

typedef struct
{
  FdStore        *store;
  FdStripeClient *client;
  char           *customer_id;
  char           *email;
  char           *key;
} SummaryData;

static void
summary_data_free (SummaryData *data)
{
  g_clear_object (&data->store);
  g_clear_object (&data->client);
  g_free (data->customer_id);
  g_free (data->email);
  g_free (data->key);
  g_free (data);
}

static void
summary_return (GTask            *task,
                FdBillingAccount *account)
{
  SummaryData *data = g_task_get_task_data (task);
  CachedSummary *cached = g_new0 (CachedSummary, 1);

  /* The cache keeps the account; the caller gets its own reading of it. */
  cached->read_at = g_get_monotonic_time ();
  cached->account = account;
  g_hash_table_replace (billing_cache_get (data->store)->summaries, g_strdup (data->key), cached);
  g_task_return_boolean (task, TRUE);
}

static void
summary_account_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  FdBillingAccount *account;

  account = fd_billing_load_account_finish (result, &error);
  if (account == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (account->summary == NULL)
    fd_billing_account_summarize (account, g_get_real_time () / G_USEC_PER_SEC);

  summary_return (task, account);
}

static void
summary_found_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SummaryData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) customers = NULL;
  GCancellable *cancellable;
  const char *found = NULL;

  customers = fd_billing_find_customers_finish (result, &error);
  if (customers == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Only the customer with exactly this address: a name search is no proof. */
  for (guint i = 0; i < customers->len && found == NULL; i++)
    {
      const FdStripeCustomer *customer = g_ptr_array_index (customers, i);

      if (customer->email != NULL && g_ascii_strcasecmp (customer->email, data->email) == 0)
        found = customer->id;
    }

  if (found == NULL)
    {
      summary_return (task, NULL);
      return;
    }

  cancellable = g_task_get_cancellable (task);
  fd_billing_load_account_async (data->client, found, cancellable,
                                 summary_account_cb, g_steal_pointer (&task));
}

static void
summary_client_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SummaryData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  data->client = client_get_finish (result, &error);
  if (data->client == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Read before the task is handed on: argument order is not defined. */
  cancellable = g_task_get_cancellable (task);
  if (data->customer_id != NULL)
    fd_billing_load_account_async (data->client, data->customer_id, cancellable,
                                   summary_account_cb, g_steal_pointer (&task));
  else
    fd_billing_find_customers_async (data->client, data->email, cancellable,
                                     summary_found_cb, g_steal_pointer (&task));
}

void
fd_billing_summary_load_async (FdStore             *store,
                               const char          *customer_id,
                               const char          *email,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SummaryData *data;
  CachedSummary *cached;

  g_return_if_fail (FD_IS_STORE (store));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_billing_summary_load_async);

  data = g_new0 (SummaryData, 1);
  data->store = g_object_ref (store);
  if (customer_id != NULL && *customer_id != '\0')
    {
      data->customer_id = g_strdup (customer_id);
      data->key = g_strdup (customer_id);
    }
  else if (email != NULL && *email != '\0')
    {
      data->email = g_strdup (email);
      data->key = g_strconcat ("email:", email, NULL);
    }
  g_task_set_task_data (task, data, (GDestroyNotify) summary_data_free);

  if (data->key == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  cached = g_hash_table_lookup (billing_cache_get (store)->summaries, data->key);
  if (cached != NULL && g_get_monotonic_time () - cached->read_at < SUMMARY_TTL_USEC)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  client_get_async (store, cancellable, summary_client_cb, g_steal_pointer (&task));
}

const FdBillingAccount *
fd_billing_summary_load_finish (GAsyncResult  *result,
                                GError       **error)
{
  GTask *task = G_TASK (result);
  SummaryData *data = g_task_get_task_data (task);
  CachedSummary *cached;

  g_return_val_if_fail (G_IS_TASK (result), NULL);

  if (!g_task_propagate_boolean (task, error))
    return NULL;

  if (data->key == NULL)
    return NULL;

  cached = g_hash_table_lookup (billing_cache_get (data->store)->summaries, data->key);
  return cached != NULL ? cached->account : NULL;
}

/* }}} */
/* {{{ States in words and icons */

const char *
fd_billing_state_icon_name (FdBillingState state)
{
  switch (state)
    {
    case FD_BILLING_HEALTHY:
      return "emblem-ok-symbolic";
    case FD_BILLING_TRIAL:
      return "appointment-soon-symbolic";
    case FD_BILLING_PAYMENT_FAILING:
      return "dialog-error-symbolic";
    case FD_BILLING_DISPUTED:
      return "dialog-warning-symbolic";
    case FD_BILLING_CANCELING:
      return "alarm-symbolic";
    case FD_BILLING_CANCELED:
      return "action-unavailable-symbolic";
    case FD_BILLING_NO_SUBSCRIPTION:
    default:
      return "fd-payment-card-symbolic";
    }
}

const char *
fd_billing_state_style_class (FdBillingState state)
{
  switch (state)
    {
    case FD_BILLING_HEALTHY:
      return "success";
    case FD_BILLING_TRIAL:
      return "accent";
    case FD_BILLING_PAYMENT_FAILING:
      return "error";
    case FD_BILLING_DISPUTED:
    case FD_BILLING_CANCELING:
      return "warning";
    case FD_BILLING_CANCELED:
    case FD_BILLING_NO_SUBSCRIPTION:
    default:
      return "dim-label";
    }
}

static const char * const state_classes[] = { "success", "accent", "error", "warning", "dim-label" };

/* }}} */
/* {{{ Store jobs */

typedef struct
{
  gint64    id;
  char     *name;
  gboolean  is_enterprise;
  gint64    seats_used;
  gint64    seats_purchased;
} LinkedOrganisation;

static void
linked_organisation_free (LinkedOrganisation *org)
{
  if (org == NULL)
    return;

  g_free (org->name);
  g_free (org);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LinkedOrganisation, linked_organisation_free)

static gboolean
organisation_job (sqlite3   *db,
                  gpointer   job_data,
                  gpointer  *result,
                  GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  LinkedOrganisation *org;
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT id, name, is_enterprise, seats_used, seats_purchased"
                           "  FROM organisations WHERE stripe_customer_id = ?"
                           "  ORDER BY is_enterprise DESC, id LIMIT 1",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, job_data, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  org = g_new0 (LinkedOrganisation, 1);
  org->id = sqlite3_column_int64 (stmt, 0);
  org->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  org->is_enterprise = sqlite3_column_int (stmt, 2) != 0;
  org->seats_used = sqlite3_column_int64 (stmt, 3);
  org->seats_purchased = sqlite3_column_int64 (stmt, 4);
  *result = org;

  return TRUE;
}

static gboolean
agent_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (db, "SELECT name FROM agents WHERE is_me = 1 ORDER BY id LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  else if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

/* What Frontdesk's audit log says about a customer, a payment or a dispute, one line
 * each, oldest first: evidence of what the support team did. */
static gboolean
audit_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  char **ids = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GString) lines = g_string_new (NULL);
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT at, actor, action, subject FROM audit_log"
                           "  WHERE subject IN (?1, ?2, ?3)"
                           "     OR (?1 <> '' AND instr(detail_json, ?1) > 0)"
                           "  ORDER BY at, id LIMIT 200",
                           error);
  if (stmt == NULL)
    return FALSE;

  for (int i = 0; i < 3; i++)
    sqlite3_bind_text (stmt, i + 1, ids[i] != NULL ? ids[i] : "", -1, SQLITE_TRANSIENT);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(GDateTime) at = g_date_time_new_from_unix_utc (sqlite3_column_int64 (stmt, 0) / 1000);
      g_autofree char *when = at != NULL ? g_date_time_format (at, "%Y-%m-%d %H:%M UTC") : g_strdup ("");
      const char *subject = (const char *) sqlite3_column_text (stmt, 3);

      g_string_append_printf (lines, "%s — %s: %s%s%s\n", when,
                              (const char *) sqlite3_column_text (stmt, 1),
                              (const char *) sqlite3_column_text (stmt, 2),
                              subject != NULL ? " " : "", subject != NULL ? subject : "");
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  if (lines->len > 0)
    *result = g_string_free (g_steal_pointer (&lines), FALSE);

  return TRUE;
}

/* }}} */
/* {{{ The page */

typedef enum
{
  LOAD_NONE,
  LOAD_SEARCH,
  LOAD_ACCOUNT,
} LoadKind;

struct _FdBillingPage
{
  GtkWidget            parent_instance;

  FdStore             *store;
  FdStripeClient      *client;
  FdStripePermissions  permissions;
  gboolean             probed;
  char                *agent;
  GCancellable        *client_cancellable;
  GCancellable        *load_cancellable;
  GCancellable        *action_cancellable;
  guint                search_source;
  guint                spinner_source;

  /* What is asked for and shown. */
  LoadKind             last_load;
  char                *query;
  char                *customer_id;
  gint64               conversation_id;
  char                *then;
  gboolean             pending_open;
  FdBillingAccount    *account;
  LinkedOrganisation  *organisation;
  GPtrArray           *results;
  GPtrArray           *unfinished;
  double               restore_scroll;
  guint                reads;
  /* Answers that arrive after the page went away touch no widget. */
  gboolean             disposed;

  /* Actions. */
  GtkWindow           *dialog;
  gboolean             busy;
  char                *last_note;
  gint64               note_conversation_id;
  char                *action_error;
  GHashTable          *unsaved_evidence;

  /* Template widgets */
  AdwToastOverlay     *toast_overlay;
  GtkSearchEntry      *search_entry;
  GtkStack            *stack;
  AdwStatusPage       *no_account_page;
  GtkSpinner          *loading_spinner;
  GtkLabel            *loading_label;
  GtkLabel            *error_title;
  GtkLabel            *error_label;
  AdwStatusPage       *no_results_page;
  GtkLabel            *results_label;
  GtkListBox          *results_list;
  GtkScrolledWindow   *customer_scroller;
  GtkWidget           *action_error_box;
  GtkLabel            *action_error_title;
  GtkLabel            *action_error_label;
  GtkWidget           *unfinished_box;
  GtkLabel            *unfinished_label;
  GtkRevealer         *busy_revealer;
  GtkSpinner          *busy_spinner;
  GtkLabel            *busy_label;
  GtkLabel            *name_label;
  GtkLabel            *mode_badge;
  GtkWidget           *enterprise_badge;
  GtkLabel            *email_label;
  GtkLabel            *id_label;
  GtkImage            *state_icon;
  GtkLabel            *summary_label;
  GtkLabel            *advice_label;
  GtkListBox          *account_list;
  GtkBox              *subscriptions_box;
  GtkListBox          *invoices_list;
  GtkListBox          *payments_list;
  GtkListBox          *disputes_list;
  GtkListBox          *refunds_list;
};

G_DEFINE_FINAL_TYPE (FdBillingPage, fd_billing_page, GTK_TYPE_WIDGET)

static void fd_billing_page_update_actions (FdBillingPage *self);
static void start_lookup (FdBillingPage *self,
                          const char    *query);
static void load_account (FdBillingPage *self,
                          const char    *customer_id,
                          gboolean       reload);
static void list_unfinished (FdBillingPage *self);
static void page_toast (FdBillingPage *self,
                        const char    *text);

/* {{{ Small widgets */

static void
list_clear (GtkListBox *list)
{
  GtkWidget *child;

  /* gtk_list_box_remove_all() is GTK 4.12. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static GtkWidget *
row_new (const char *title,
         const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title != NULL ? title : "");
  if (subtitle != NULL && *subtitle != '\0')
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);

  return row;
}

/* A row whose title is a caption and whose value is the text: "Current period". */
static GtkWidget *
property_row_new (const char *caption,
                  const char *value)
{
  GtkWidget *row = row_new (caption, value);

  gtk_widget_add_css_class (row, "property");

  return row;
}

static GtkWidget *
dim_row_new (const char *text)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *label = gtk_label_new (text);

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_set_margin_top (label, 12);
  gtk_widget_set_margin_bottom (label, 12);
  gtk_widget_set_margin_start (label, 12);
  gtk_widget_set_margin_end (label, 12);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);

  return row;
}

static void
row_add_prefix_icon (GtkWidget  *row,
                     const char *icon_name,
                     const char *style_class)
{
  GtkWidget *image = gtk_image_new_from_icon_name (icon_name);

  gtk_accessible_update_property (GTK_ACCESSIBLE (image), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
  if (style_class != NULL)
    gtk_widget_add_css_class (image, style_class);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), image);
}

static GtkWidget *
badge_new (const char *text,
           const char *style_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (label, "badge");
  if (style_class != NULL)
    gtk_widget_add_css_class (label, style_class);

  return label;
}

static GtkWidget *
text_button_new (const char *label,
                 const char *action_name,
                 const char *target)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action_name);
  if (target != NULL)
    gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (target));

  return button;
}

static GtkWidget *
icon_button_new (const char *icon_name,
                 const char *tooltip,
                 const char *action_name,
                 const char *target)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon_name);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action_name);
  if (target != NULL)
    gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (target));

  return button;
}

static GtkWidget *
menu_button_new (GMenuModel *menu,
                 const char *tooltip)
{
  GtkWidget *button = gtk_menu_button_new ();

  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (button), "view-more-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (button), menu);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);

  return button;
}

static void
menu_add (GMenu      *menu,
          const char *label,
          const char *action_name,
          const char *target)
{
  g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);

  g_menu_item_set_action_and_target_value (item, action_name, g_variant_new_string (target));
  g_menu_append_item (menu, item);
}

/* }}} */
/* {{{ What the key may do */

static gboolean
can (FdBillingPage       *self,
     FdBillingActionKind  kind)
{
  FdStripePermissions needs = fd_billing_action_needs (kind);

  return self->probed && (self->permissions & needs) == needs;
}

static gboolean
can_read (FdBillingPage       *self,
          FdStripePermissions  permission)
{
  /* Until the probe answers, what was read is shown as read. */
  return !self->probed || (self->permissions & permission) != 0;
}

/* }}} */
/* {{{ Finding things in the account */

static const FdStripeCharge *
find_charge (FdBillingPage *self,
             const char    *id)
{
  for (guint i = 0; self->account != NULL && id != NULL && i < self->account->charges->len; i++)
    {
      const FdStripeCharge *charge = g_ptr_array_index (self->account->charges, i);

      if (g_strcmp0 (charge->id, id) == 0)
        return charge;
    }

  return NULL;
}

static const FdStripeSubscription *
find_subscription (FdBillingPage *self,
                   const char    *id)
{
  for (guint i = 0; self->account != NULL && i < self->account->subscriptions->len; i++)
    {
      const FdStripeSubscription *subscription = g_ptr_array_index (self->account->subscriptions, i);

      if (g_strcmp0 (subscription->id, id) == 0)
        return subscription;
    }

  return NULL;
}

static const FdStripeInvoice *
find_invoice (FdBillingPage *self,
              const char    *id)
{
  for (guint i = 0; self->account != NULL && i < self->account->invoices->len; i++)
    {
      const FdStripeInvoice *invoice = g_ptr_array_index (self->account->invoices, i);

      if (g_strcmp0 (invoice->id, id) == 0)
        return invoice;
    }

  return NULL;
}

static const FdStripeDispute *
find_dispute (FdBillingPage *self,
              const char    *id)
{
  for (guint i = 0; self->account != NULL && i < self->account->disputes->len; i++)
    {
      const FdStripeDispute *dispute = g_ptr_array_index (self->account->disputes, i);

      if (g_strcmp0 (dispute->id, id) == 0)
        return dispute;
    }

  return NULL;
}

static gboolean
dispute_needs_response (const FdStripeDispute *dispute)
{
  return g_strcmp0 (dispute->status, "needs_response") == 0 ||
         g_strcmp0 (dispute->status, "warning_needs_response") == 0;
}

/* }}} */
/* {{{ States of the page */

static void
set_state (FdBillingPage *self,
           const char    *name)
{
  g_clear_handle_id (&self->spinner_source, g_source_remove);
  gtk_spinner_stop (self->loading_spinner);
  gtk_stack_set_visible_child_name (self->stack, name);
}

static gboolean
show_spinner_cb (gpointer user_data)
{
  FdBillingPage *self = user_data;

  self->spinner_source = 0;
  gtk_stack_set_visible_child_name (self->stack, "loading");
  gtk_spinner_start (self->loading_spinner);

  return G_SOURCE_REMOVE;
}

static void
begin_loading (FdBillingPage *self,
               const char    *what)
{
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();

  gtk_label_set_label (self->loading_label, what);
  g_clear_handle_id (&self->spinner_source, g_source_remove);
  self->spinner_source = g_timeout_add (SPINNER_DELAY_MS, show_spinner_cb, self);
}

static void
show_error (FdBillingPage *self,
            const char    *title,
            const GError  *error)
{
  gtk_label_set_label (self->error_title, title);
  gtk_label_set_label (self->error_label, error != NULL ? error->message : "");
  set_state (self, "error");
}

static void
show_no_account (FdBillingPage *self,
                 const char    *message)
{
  adw_status_page_set_description (self->no_account_page,
                                   message != NULL ? message
                                                   : _("Connect a Stripe account in Preferences to see customers’ subscriptions, invoices and payments here."));
  set_state (self, "no-account");
}

/* }}} */
/* {{{ The customer view */

static void
fill_header (FdBillingPage *self)
{
  const FdStripeCustomer *customer = self->account->customer;
  const char *name = customer->name;
  const char *style = fd_billing_state_style_class (self->account->state);

  if (name == NULL || *name == '\0')
    name = customer->email != NULL && *customer->email != '\0' ? customer->email : customer->id;

  gtk_label_set_label (self->name_label, name);
  gtk_label_set_label (self->email_label, customer->email != NULL ? customer->email : "");
  gtk_widget_set_visible (GTK_WIDGET (self->email_label),
                          customer->email != NULL && *customer->email != '\0' && name != customer->email);
  gtk_label_set_label (self->id_label, customer->id);

  gtk_widget_remove_css_class (GTK_WIDGET (self->mode_badge), "warning");
  gtk_widget_remove_css_class (GTK_WIDGET (self->mode_badge), "success");
  switch (self->client != NULL ? fd_stripe_client_get_mode (self->client) : FD_STRIPE_MODE_UNKNOWN)
    {
    case FD_STRIPE_MODE_TEST:
      gtk_label_set_label (self->mode_badge, _("Test mode"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->mode_badge),
                                   _("The Stripe key is a test key: nothing here moves real money."));
      gtk_widget_add_css_class (GTK_WIDGET (self->mode_badge), "warning");
      gtk_widget_set_visible (GTK_WIDGET (self->mode_badge), TRUE);
      break;
    case FD_STRIPE_MODE_LIVE:
      gtk_label_set_label (self->mode_badge, _("Live mode"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->mode_badge),
                                   _("The Stripe key is a live key: actions here move real money."));
      gtk_widget_add_css_class (GTK_WIDGET (self->mode_badge), "success");
      gtk_widget_set_visible (GTK_WIDGET (self->mode_badge), TRUE);
      break;
    case FD_STRIPE_MODE_UNKNOWN:
    default:
      gtk_widget_set_visible (GTK_WIDGET (self->mode_badge), FALSE);
      break;
    }

  gtk_widget_set_visible (self->enterprise_badge,
                          self->organisation != NULL && self->organisation->is_enterprise);

  gtk_image_set_from_icon_name (self->state_icon, fd_billing_state_icon_name (self->account->state));
  for (guint i = 0; i < G_N_ELEMENTS (state_classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->state_icon), state_classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (self->state_icon), style);
  gtk_label_set_label (self->summary_label, self->account->summary != NULL ? self->account->summary : "");

  /* A failing payment comes with what to tell the customer, where the agent looks first. */
  gtk_widget_set_visible (GTK_WIDGET (self->advice_label), FALSE);
  if (self->account->state == FD_BILLING_PAYMENT_FAILING)
    {
      for (guint i = 0; i < self->account->charges->len; i++)
        {
          const FdStripeCharge *charge = g_ptr_array_index (self->account->charges, i);
          FdStripeExplanation explanation;
          g_autofree char *advice = NULL;

          if (g_strcmp0 (charge->status, "succeeded") == 0)
            break;
          if (g_strcmp0 (charge->status, "failed") != 0)
            continue;

          explanation = fd_stripe_explain_decline (charge->failure_code, charge->decline_code,
                                                   charge->advice_code);
          if (explanation.tell_customer == NULL)
            break;
          /* Translators: %s is advice for the customer, as a full sentence. */
          advice = g_strdup_printf (_("Tell the customer: %s"), explanation.tell_customer);
          gtk_label_set_label (self->advice_label, advice);
          gtk_widget_set_visible (GTK_WIDGET (self->advice_label), TRUE);
          break;
        }
    }
}

static char *
payment_method_title (const FdStripePaymentMethod *method)
{
  char *card = fd_billing_card_label (method->brand, method->last4);

  if (card != NULL)
    return card;

  if (g_strcmp0 (method->type, "sepa_debit") == 0)
    /* Translators: %s is the last four digits of a bank account. */
    return g_strdup_printf (_("SEPA Direct Debit •••• %s"), method->last4 != NULL ? method->last4 : "");
  if (g_strcmp0 (method->type, "us_bank_account") == 0)
    /* Translators: %s is the last four digits of a bank account. */
    return g_strdup_printf (_("Bank account •••• %s"), method->last4 != NULL ? method->last4 : "");

  return g_strdup (method->type != NULL ? method->type : _("Payment method"));
}

static void
fill_account (FdBillingPage *self)
{
  const FdStripeCustomer *customer = self->account->customer;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  int this_year = g_date_time_get_year (now);
  int this_month = g_date_time_get_month (now);
  GtkWidget *row;

  list_clear (self->account_list);

  if (!can_read (self, FD_STRIPE_CAN_READ_PAYMENTS))
    {
      gtk_list_box_append (self->account_list,
                           dim_row_new (_("The Stripe key may not read payment methods.")));
    }
  else if (self->account->payment_methods->len == 0)
    {
      row = property_row_new (_("Payment method"), _("None on file"));
      row_add_prefix_icon (row, "fd-payment-card-symbolic", "dim-label");
      gtk_list_box_append (self->account_list, row);
    }

  for (guint i = 0; can_read (self, FD_STRIPE_CAN_READ_PAYMENTS) && i < self->account->payment_methods->len; i++)
    {
      const FdStripePaymentMethod *method = g_ptr_array_index (self->account->payment_methods, i);
      g_autofree char *title = payment_method_title (method);
      g_autoptr(GString) subtitle = g_string_new (NULL);
      gboolean expired = FALSE;

      if (method->exp_year > 0)
        {
          expired = method->exp_year < this_year ||
                    (method->exp_year == this_year && method->exp_month < this_month);
          /* Translators: a card's expiry, "Expires 04/2027" or "Expired 04/2024". */
          g_string_append_printf (subtitle, expired ? _("Expired %02d/%d") : _("Expires %02d/%d"),
                                  method->exp_month, method->exp_year);
        }
      if (method->is_default)
        {
          if (subtitle->len > 0)
            g_string_append (subtitle, " · ");
          g_string_append (subtitle, _("Default"));
        }

      row = row_new (title, subtitle->str);
      gtk_widget_add_css_class (row, "numeric");
      if (expired)
        {
          row_add_prefix_icon (row, "dialog-warning-symbolic", "warning");
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), badge_new (_("Expired"), "warning"));
        }
      else
        {
          row_add_prefix_icon (row, "fd-payment-card-symbolic", NULL);
        }
      gtk_list_box_append (self->account_list, row);
    }

  /* Credit balance: Stripe's balance is negative when the customer has credit. */
  {
    g_autofree char *text = NULL;
    const char *currency = customer->currency;

    if (customer->balance == 0 || currency == NULL)
      text = g_strdup (_("None"));
    else if (customer->balance < 0)
      {
        g_autofree char *amount = fd_money_format (-customer->balance, currency);

        /* Translators: %s is an amount of money the customer has as credit. */
        text = g_strdup_printf (_("%s in credit, used on the next invoices"), amount);
      }
    else
      {
        g_autofree char *amount = fd_money_format (customer->balance, currency);

        /* Translators: %s is an amount of money the customer owes. */
        text = g_strdup_printf (_("%s owed, added to the next invoice"), amount);
      }

    row = property_row_new (_("Credit balance"), text);
    gtk_widget_add_css_class (row, "numeric");
    gtk_list_box_append (self->account_list, row);
  }

  if (self->account->outstanding != NULL)
    {
      g_autofree char *total = fd_money_totals_format (self->account->outstanding);

      if (total != NULL && *total != '\0')
        {
          g_autofree char *text = NULL;

          /* Translators: %s is one or more amounts of money, "$525.00 + €10.00". */
          text = g_strdup_printf (_("%s in open invoices"), total);
          row = property_row_new (_("Outstanding"), text);
          gtk_widget_add_css_class (row, "numeric");
          gtk_list_box_append (self->account_list, row);
        }
    }
}

static GtkWidget *
subscription_actions (FdBillingPage              *self,
                      const FdStripeSubscription *subscription)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  g_autoptr(GMenu) menu = g_menu_new ();
  gboolean live = g_strcmp0 (subscription->status, "canceled") != 0 &&
                  g_strcmp0 (subscription->status, "incomplete_expired") != 0;

  if (!live)
    return NULL;

  if (can (self, FD_BILLING_ACTION_CHANGE_SUBSCRIPTION) && subscription->items->len > 0)
    gtk_box_append (GTK_BOX (box), text_button_new (_("C_hange Plan or Seats…"),
                                                    "billing.change-subscription", subscription->id));

  if (subscription->cancel_at_period_end)
    {
      if (can (self, FD_BILLING_ACTION_UNDO_CANCEL))
        gtk_box_append (GTK_BOX (box), text_button_new (_("_Keep Subscription…"),
                                                        "billing.undo-cancel", subscription->id));
    }
  else if (can (self, FD_BILLING_ACTION_CANCEL_AT_PERIOD_END))
    {
      menu_add (menu, _("Cancel at Period End…"), "billing.cancel-at-period-end", subscription->id);
    }

  if (can (self, FD_BILLING_ACTION_CANCEL_NOW))
    menu_add (menu, _("Cancel Now…"), "billing.cancel-now", subscription->id);

  if (subscription->pause_behavior != NULL)
    {
      if (can (self, FD_BILLING_ACTION_RESUME_COLLECTION))
        menu_add (menu, _("Resume Payment Collection…"), "billing.resume-collection", subscription->id);
    }
  else if (can (self, FD_BILLING_ACTION_PAUSE_COLLECTION))
    {
      menu_add (menu, _("Pause Payment Collection…"), "billing.pause-collection", subscription->id);
    }

  if (g_menu_model_get_n_items (G_MENU_MODEL (menu)) > 0)
    gtk_box_append (GTK_BOX (box), menu_button_new (G_MENU_MODEL (menu), _("More Subscription Actions")));

  if (gtk_widget_get_first_child (box) == NULL)
    {
      g_object_ref_sink (box);
      g_object_unref (box);
      return NULL;
    }

  return box;
}

static void
fill_subscription (FdBillingPage              *self,
                   const FdStripeSubscription *subscription)
{
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *actions;
  GtkWidget *row;
  g_autoptr(GString) title = g_string_new (NULL);
  g_autoptr(GString) status = g_string_new (fd_stripe_status_label (subscription->status));
  g_autofree char *start = fd_billing_format_date (subscription->current_period_start);
  g_autofree char *end = fd_billing_format_date (subscription->current_period_end);
  gint64 seats = 0;
  const char *status_icon = NULL;
  const char *status_class = NULL;

  for (guint i = 0; i < subscription->items->len; i++)
    {
      const FdStripeSubscriptionItem *item = g_ptr_array_index (subscription->items, i);

      if (title->len > 0)
        g_string_append (title, " + ");
      g_string_append (title, item->product_name != NULL ? item->product_name : item->price_id);
      seats += item->quantity;
    }
  if (title->len == 0)
    g_string_append (title, _("Subscription"));

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title->str);
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), subscription->id);
  actions = subscription_actions (self, subscription);
  if (actions != NULL)
    adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (group), actions);

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), list);

  /* Status, with what is about to happen to it. */
  if (g_strcmp0 (subscription->status, "trialing") == 0 && subscription->trial_end > 0)
    {
      g_autofree char *date = fd_billing_format_date (subscription->trial_end);

      g_string_append (status, " · ");
      /* Translators: %s is a date. */
      g_string_append_printf (status, _("trial ends on %s"), date);
      status_icon = "appointment-soon-symbolic";
      status_class = "accent";
    }
  if (subscription->cancel_at_period_end || subscription->cancel_at > 0)
    {
      g_autofree char *date = fd_billing_format_date (subscription->cancel_at > 0 ? subscription->cancel_at
                                                                                    : subscription->current_period_end);

      g_string_append (status, " · ");
      /* Translators: %s is a date. */
      g_string_append_printf (status, _("cancels on %s"), date);
      status_icon = "alarm-symbolic";
      status_class = "warning";
    }
  if (g_strcmp0 (subscription->status, "canceled") == 0 && subscription->canceled_at > 0)
    {
      g_autofree char *date = fd_billing_format_date (subscription->canceled_at);

      g_string_append (status, " · ");
      /* Translators: %s is a date. */
      g_string_append_printf (status, _("canceled on %s"), date);
      status_icon = "action-unavailable-symbolic";
      status_class = "dim-label";
    }
  if (g_strcmp0 (subscription->status, "past_due") == 0 || g_strcmp0 (subscription->status, "unpaid") == 0)
    {
      status_icon = "dialog-error-symbolic";
      status_class = "error";
    }
  if (subscription->pause_behavior != NULL)
    {
      const char *what = g_strcmp0 (subscription->pause_behavior, "void") == 0 ? _("invoices are voided")
                       : g_strcmp0 (subscription->pause_behavior, "mark_uncollectible") == 0 ? _("invoices are marked uncollectible")
                       : _("invoices are kept as drafts");

      g_string_append (status, " · ");
      /* Translators: %s says what happens to invoices: "payment collection paused: invoices are kept as drafts". */
      g_string_append_printf (status, _("payment collection paused: %s"), what);
      status_icon = "media-playback-pause-symbolic";
      status_class = "warning";
    }

  row = property_row_new (_("Status"), status->str);
  if (status_icon != NULL)
    row_add_prefix_icon (row, status_icon, status_class);
  gtk_list_box_append (GTK_LIST_BOX (list), row);

  /* Price per item. */
  for (guint i = 0; i < subscription->items->len; i++)
    {
      const FdStripeSubscriptionItem *item = g_ptr_array_index (subscription->items, i);
      g_autofree char *price = fd_billing_price_text (item->unit_amount, item->currency,
                                                      item->interval, item->interval_count);
      g_autofree char *total = fd_billing_price_text (item->unit_amount * item->quantity, item->currency,
                                                      item->interval, item->interval_count);
      g_autofree char *text = NULL;

      if (item->quantity > 1)
        /* Translators: "€10.00 per month × 150 seats = €1,500.00 per month". */
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "%s × %" G_GINT64_FORMAT " seat = %s",
                                             "%s × %" G_GINT64_FORMAT " seats = %s",
                                             item->quantity),
                                price, item->quantity, total);
      else
        text = g_strdup (price);

      row = property_row_new (subscription->items->len > 1 && item->product_name != NULL
                              ? item->product_name : _("Price"), text);
      gtk_widget_add_css_class (row, "numeric");
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }

  /* Seats bought in Stripe against seats used, when an organisation is linked. */
  if (self->organisation != NULL && seats > 0)
    {
      g_autofree char *text = NULL;

      if (self->organisation->seats_used > seats)
        /* Translators: seats bought in Stripe and used by an organisation: "150 purchased · 152 used at Acme, 2 over". */
        text = g_strdup_printf (_("%" G_GINT64_FORMAT " purchased · %" G_GINT64_FORMAT " used at %s, %" G_GINT64_FORMAT " over"),
                                seats, self->organisation->seats_used, self->organisation->name,
                                self->organisation->seats_used - seats);
      else
        /* Translators: seats bought in Stripe and used by an organisation: "150 purchased · 142 used at Acme". */
        text = g_strdup_printf (_("%" G_GINT64_FORMAT " purchased · %" G_GINT64_FORMAT " used at %s"),
                                seats, self->organisation->seats_used, self->organisation->name);

      row = property_row_new (_("Seats"), text);
      gtk_widget_add_css_class (row, "numeric");
      if (self->organisation->seats_used > seats)
        row_add_prefix_icon (row, "dialog-warning-symbolic", "warning");
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }

  if (subscription->current_period_end > 0)
    {
      g_autofree char *period = NULL;
      gboolean ends = subscription->cancel_at_period_end || g_strcmp0 (subscription->status, "canceled") == 0;

      /* Translators: a period and what happens at its end: "1 March 2027 – 1 April 2027, renews then". */
      period = g_strdup_printf (ends ? _("%s – %s, ends then") : _("%s – %s, renews then"), start, end);
      row = property_row_new (_("Current period"), period);
      gtk_widget_add_css_class (row, "numeric");
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }

  if (subscription->discount != NULL && *subscription->discount != '\0')
    gtk_list_box_append (GTK_LIST_BOX (list), property_row_new (_("Discount"), subscription->discount));

  if (g_strcmp0 (subscription->collection_method, "send_invoice") == 0)
    {
      g_autofree char *text = NULL;

      /* Translators: how an Enterprise subscription is paid: "Invoice sent, to be paid within 30 days". */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Invoice sent, to be paid within %d day",
                                           "Invoice sent, to be paid within %d days",
                                           subscription->days_until_due),
                              subscription->days_until_due);
      gtk_list_box_append (GTK_LIST_BOX (list), property_row_new (_("Payment"), text));
    }
  else
    {
      gtk_list_box_append (GTK_LIST_BOX (list),
                           property_row_new (_("Payment"), _("Charged automatically to the default payment method")));
    }

  gtk_box_append (self->subscriptions_box, group);
}

static void
fill_subscriptions (FdBillingPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->subscriptions_box))) != NULL)
    gtk_box_remove (self->subscriptions_box, child);

  if (self->account->subscriptions->len == 0)
    {
      GtkWidget *group = adw_preferences_group_new ();
      GtkWidget *list = gtk_list_box_new ();

      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Subscriptions"));
      gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
      gtk_widget_add_css_class (list, "boxed-list");
      gtk_list_box_append (GTK_LIST_BOX (list),
                           dim_row_new (can_read (self, FD_STRIPE_CAN_READ_BILLING)
                                        ? _("No subscriptions")
                                        : _("The Stripe key may not read subscriptions.")));
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), list);
      gtk_box_append (self->subscriptions_box, group);
      return;
    }

  for (guint i = 0; i < self->account->subscriptions->len; i++)
    fill_subscription (self, g_ptr_array_index (self->account->subscriptions, i));
}

static void
fill_invoices (FdBillingPage *self)
{
  list_clear (self->invoices_list);

  if (self->account->invoices->len == 0)
    gtk_list_box_append (self->invoices_list,
                         dim_row_new (can_read (self, FD_STRIPE_CAN_READ_BILLING)
                                      ? _("No invoices")
                                      : _("The Stripe key may not read invoices.")));

  for (guint i = 0; i < self->account->invoices->len; i++)
    {
      const FdStripeInvoice *invoice = g_ptr_array_index (self->account->invoices, i);
      g_autofree char *total = fd_money_format (invoice->total, invoice->currency);
      g_autofree char *due = fd_money_format (invoice->amount_due, invoice->currency);
      g_autofree char *paid = fd_money_format (invoice->amount_paid, invoice->currency);
      g_autofree char *remaining = fd_money_format (invoice->amount_remaining, invoice->currency);
      g_autofree char *title = NULL;
      g_autoptr(GString) subtitle = g_string_new (fd_stripe_status_label (invoice->status));
      g_autoptr(GMenu) menu = g_menu_new ();
      gboolean open = g_strcmp0 (invoice->status, "open") == 0;
      GtkWidget *row;

      /* Translators: an invoice's number and total, "INV-0042 · €1,500.00". */
      title = g_strdup_printf (_("%s · %s"), invoice->number != NULL ? invoice->number : invoice->id, total);

      if (invoice->due_date > 0)
        {
          g_autofree char *date = fd_billing_format_date (invoice->due_date);

          g_string_append (subtitle, " · ");
          /* Translators: %s is a date. */
          g_string_append_printf (subtitle, invoice->past_due ? _("was due on %s") : _("due on %s"), date);
        }
      else if (invoice->created > 0)
        {
          g_autofree char *date = fd_billing_format_date (invoice->created);

          g_string_append (subtitle, " · ");
          g_string_append (subtitle, date);
        }
      if (invoice->attempt_count > 1 && open)
        {
          g_string_append (subtitle, " · ");
          g_string_append_printf (subtitle,
                                  g_dngettext (GETTEXT_PACKAGE, "%d payment attempt", "%d payment attempts",
                                               invoice->attempt_count),
                                  invoice->attempt_count);
        }
      g_string_append_c (subtitle, '\n');
      /* Translators: an invoice's amounts: "Due €1,500.00 · Paid €0.00 · Remaining €1,500.00". */
      g_string_append_printf (subtitle, _("Due %s · Paid %s · Remaining %s"), due, paid, remaining);

      row = row_new (title, subtitle->str);
      gtk_widget_add_css_class (row, "numeric");
      if (invoice->past_due)
        {
          row_add_prefix_icon (row, "dialog-error-symbolic", "error");
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), badge_new (_("Past due"), "error"));
        }

      if (invoice->hosted_invoice_url != NULL)
        adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                   icon_button_new ("web-browser-symbolic", _("Open the Invoice Page"),
                                                    "billing.open-url", invoice->hosted_invoice_url));
      if (invoice->invoice_pdf != NULL)
        adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                   icon_button_new ("x-office-document-symbolic", _("Open the Invoice PDF"),
                                                    "billing.open-url", invoice->invoice_pdf));

      if (open && can (self, FD_BILLING_ACTION_PAY_INVOICE))
        menu_add (menu, _("Charge Now…"), "billing.pay-invoice", invoice->id);
      if (open && g_strcmp0 (invoice->collection_method, "send_invoice") == 0 &&
          can (self, FD_BILLING_ACTION_SEND_INVOICE))
        menu_add (menu, _("Send to the Customer…"), "billing.send-invoice", invoice->id);
      if ((open || g_strcmp0 (invoice->status, "paid") == 0) && can (self, FD_BILLING_ACTION_CREDIT_NOTE))
        menu_add (menu, _("Issue a Credit Note…"), "billing.credit-note", invoice->id);
      if (open && can (self, FD_BILLING_ACTION_MARK_UNCOLLECTIBLE))
        menu_add (menu, _("Mark Uncollectible…"), "billing.mark-uncollectible", invoice->id);
      if ((open || g_strcmp0 (invoice->status, "uncollectible") == 0) && can (self, FD_BILLING_ACTION_VOID_INVOICE))
        menu_add (menu, _("Void…"), "billing.void-invoice", invoice->id);
      if (g_menu_model_get_n_items (G_MENU_MODEL (menu)) > 0)
        adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                   menu_button_new (G_MENU_MODEL (menu), _("Invoice Actions")));

      gtk_list_box_append (self->invoices_list, row);
    }
}

static void
fill_payments (FdBillingPage *self)
{
  list_clear (self->payments_list);

  if (self->account->charges->len == 0)
    gtk_list_box_append (self->payments_list,
                         dim_row_new (can_read (self, FD_STRIPE_CAN_READ_PAYMENTS)
                                      ? _("No payments")
                                      : _("The Stripe key may not read payments.")));

  for (guint i = 0; i < self->account->charges->len; i++)
    {
      const FdStripeCharge *charge = g_ptr_array_index (self->account->charges, i);
      g_autofree char *amount = fd_money_format (charge->amount, charge->currency);
      g_autofree char *card = fd_billing_card_label (charge->card_brand, charge->card_last4);
      g_autofree char *date = fd_billing_format_date (charge->created);
      g_autofree char *when = fd_billing_format_time (charge->created);
      g_autofree char *title = NULL;
      g_autoptr(GString) subtitle = g_string_new (fd_stripe_status_label (charge->status));
      gboolean failed = g_strcmp0 (charge->status, "failed") == 0;
      gint64 refundable = fd_stripe_charge_refundable (charge);
      GtkWidget *row;

      /* Translators: a payment's amount and card, "€49.00 · Visa •••• 4242". */
      title = card != NULL ? g_strdup_printf (_("%s · %s"), amount, card) : g_strdup (amount);
      g_string_append (subtitle, " · ");
      g_string_append (subtitle, date);

      if (charge->amount_refunded > 0)
        {
          g_autofree char *refunded = fd_money_format (charge->amount_refunded, charge->currency);

          g_string_append (subtitle, " · ");
          if (charge->refunded)
            /* Translators: %s is an amount of money. */
            g_string_append_printf (subtitle, _("fully refunded (%s)"), refunded);
          else
            /* Translators: %s is an amount of money. */
            g_string_append_printf (subtitle, _("%s refunded"), refunded);
        }

      if (failed)
        {
          FdStripeExplanation explanation = fd_stripe_explain_decline (charge->failure_code,
                                                                       charge->decline_code,
                                                                       charge->advice_code);

          if (explanation.what != NULL)
            {
              g_string_append_c (subtitle, '\n');
              g_string_append (subtitle, explanation.what);
            }
          if (explanation.tell_customer != NULL)
            {
              g_string_append_c (subtitle, '\n');
              /* Translators: %s is advice for the customer, as a full sentence. */
              g_string_append_printf (subtitle, _("Tell the customer: %s"), explanation.tell_customer);
            }
          if (explanation.retry_may_work)
            {
              g_string_append_c (subtitle, '\n');
              g_string_append (subtitle, _("Retrying the same card later may work."));
            }
        }

      if (charge->description != NULL && *charge->description != '\0')
        {
          g_string_append_c (subtitle, '\n');
          g_string_append (subtitle, charge->description);
        }

      row = row_new (title, subtitle->str);
      gtk_widget_set_tooltip_text (row, when);
      gtk_widget_add_css_class (row, "numeric");
      if (failed)
        row_add_prefix_icon (row, "dialog-error-symbolic", "error");
      else if (g_strcmp0 (charge->status, "succeeded") == 0)
        row_add_prefix_icon (row, "emblem-ok-symbolic", "success");
      else
        row_add_prefix_icon (row, "content-loading-symbolic", "dim-label");

      if (charge->disputed)
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), badge_new (_("Disputed"), "warning"));

      if (g_strcmp0 (charge->status, "succeeded") == 0 && refundable > 0 && !charge->disputed &&
          can (self, FD_BILLING_ACTION_REFUND))
        {
          GtkWidget *button = text_button_new (_("_Refund…"), "billing.refund", charge->id);

          adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
        }

      gtk_list_box_append (self->payments_list, row);
    }
}

static void
fill_refunds (FdBillingPage *self)
{
  list_clear (self->refunds_list);

  if (self->account->refunds->len == 0)
    gtk_list_box_append (self->refunds_list,
                         dim_row_new (can_read (self, FD_STRIPE_CAN_READ_PAYMENTS)
                                      ? _("No refunds")
                                      : _("The Stripe key may not read refunds.")));

  for (guint i = 0; i < self->account->refunds->len; i++)
    {
      const FdStripeRefund *refund = g_ptr_array_index (self->account->refunds, i);
      g_autofree char *amount = fd_money_format (refund->amount, refund->currency);
      g_autofree char *date = fd_billing_format_date (refund->created);
      g_autofree char *title = NULL;
      g_autoptr(GString) subtitle = g_string_new (fd_stripe_status_label (refund->status));
      const char *reason = fd_billing_refund_reason_label (refund->reason);
      GtkWidget *row;

      /* Translators: %s is an amount of money. */
      title = g_strdup_printf (_("%s refunded"), amount);
      g_string_append (subtitle, " · ");
      g_string_append (subtitle, date);
      if (reason != NULL)
        {
          g_string_append (subtitle, " · ");
          g_string_append (subtitle, reason);
        }
      if (refund->charge != NULL)
        {
          g_string_append (subtitle, " · ");
          /* Translators: %s is a payment's id, "payment ch_3N…". */
          g_string_append_printf (subtitle, _("payment %s"), refund->charge);
        }

      row = row_new (title, subtitle->str);
      gtk_widget_add_css_class (row, "numeric");
      gtk_list_box_append (self->refunds_list, row);
    }
}

static void
fill_disputes (FdBillingPage *self,
               gint64         now_s)
{
  list_clear (self->disputes_list);

  if (self->account->disputes->len == 0)
    gtk_list_box_append (self->disputes_list,
                         dim_row_new (can_read (self, FD_STRIPE_CAN_READ_DISPUTES)
                                      ? _("No disputes")
                                      : _("The Stripe key may not read disputes.")));

  for (guint i = 0; i < self->account->disputes->len; i++)
    {
      const FdStripeDispute *dispute = g_ptr_array_index (self->account->disputes, i);
      g_autofree char *amount = fd_money_format (dispute->amount, dispute->currency);
      g_autofree char *title = NULL;
      g_autofree char *due = NULL;
      g_autoptr(GString) subtitle = g_string_new (fd_stripe_status_label (dispute->status));
      gboolean open = dispute_needs_response (dispute);
      GtkWidget *row;

      /* Translators: a dispute's amount and reason, "€49.00 · The customer says they did not make this payment." */
      title = g_strdup_printf (_("%s · %s"), amount, fd_stripe_dispute_reason_label (dispute->reason));

      if (dispute->has_evidence && open)
        {
          g_string_append (subtitle, " · ");
          g_string_append (subtitle, _("evidence saved as a draft"));
        }
      if (dispute->charge != NULL)
        {
          g_string_append (subtitle, " · ");
          g_string_append_printf (subtitle, _("payment %s"), dispute->charge);
        }

      row = row_new (title, subtitle->str);
      gtk_widget_add_css_class (row, "numeric");
      row_add_prefix_icon (row, open ? "dialog-warning-symbolic" : "emblem-documents-symbolic",
                           open ? "warning" : "dim-label");

      due = open ? fd_billing_dispute_due_text (dispute->evidence_due_by, now_s) : NULL;
      if (due != NULL)
        {
          g_autofree char *tooltip = fd_billing_format_time (dispute->evidence_due_by);
          GtkWidget *label = gtk_label_new (due);
          GtkWidget *column;

          gtk_label_set_wrap (GTK_LABEL (label), TRUE);
          gtk_label_set_max_width_chars (GTK_LABEL (label), 22);
          gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_RIGHT);
          gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
          gtk_widget_set_tooltip_text (label, tooltip);
          gtk_widget_add_css_class (label, "numeric");
          gtk_widget_add_css_class (label, "caption");
          gtk_widget_add_css_class (label,
                                    dispute->past_due || dispute->evidence_due_by - now_s < 3 * 24 * 3600
                                    ? "error" : "warning");
          /* A wrapping label straight in the row's horizontal box is measured by its
           * baseline, a pixel off with some fonts. */
          column = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
          gtk_widget_set_valign (column, GTK_ALIGN_CENTER);
          gtk_box_append (GTK_BOX (column), label);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), column);
        }

      if (open && can (self, FD_BILLING_ACTION_UPDATE_DISPUTE))
        adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                   text_button_new (_("_Respond…"), "billing.respond-dispute", dispute->id));

      gtk_list_box_append (self->disputes_list, row);
    }
}

static void
run_then (FdBillingPage *self)
{
  g_autofree char *then = g_steal_pointer (&self->then);

  if (then == NULL || self->account == NULL)
    return;

  if (g_str_equal (then, "refund"))
    {
      for (guint i = 0; i < self->account->charges->len; i++)
        {
          const FdStripeCharge *charge = g_ptr_array_index (self->account->charges, i);

          if (g_strcmp0 (charge->status, "succeeded") == 0 && fd_stripe_charge_refundable (charge) > 0 &&
              !charge->disputed)
            {
              gtk_widget_activate_action (GTK_WIDGET (self), "billing.refund", "s", charge->id);
              return;
            }
        }
    }
  else if (g_str_equal (then, "dispute"))
    {
      for (guint i = 0; i < self->account->disputes->len; i++)
        {
          const FdStripeDispute *dispute = g_ptr_array_index (self->account->disputes, i);

          if (dispute_needs_response (dispute))
            {
              gtk_widget_activate_action (GTK_WIDGET (self), "billing.respond-dispute", "s", dispute->id);
              return;
            }
        }
    }
}

static gboolean
restore_scroll_cb (gpointer user_data)
{
  FdBillingPage *self = user_data;

  if (!self->disposed)
    gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->customer_scroller),
                              self->restore_scroll);
  self->restore_scroll = -1;
  g_object_unref (self);

  return G_SOURCE_REMOVE;
}

static void
fill_customer (FdBillingPage *self)
{
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;

  if (self->account == NULL)
    return;

  fill_header (self);
  fill_account (self);
  fill_subscriptions (self);
  fill_invoices (self);
  fill_payments (self);
  fill_refunds (self);
  fill_disputes (self, now_s);
  fd_billing_page_update_actions (self);

  set_state (self, "customer");

  if (self->restore_scroll >= 0)
    g_idle_add (restore_scroll_cb, g_object_ref (self));
}

/* }}} */
/* {{{ Loading */

typedef struct
{
  FdBillingPage *self;
  char          *customer_id;
  gboolean       reload;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_object_unref (data->self);
  g_free (data->customer_id);
  g_free (data);
}

static void
organisation_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  LoadData *data = user_data;
  FdBillingPage *self = data->self;
  g_autoptr(GError) error = NULL;
  LinkedOrganisation *org;

  org = fd_store_run_finish (FD_STORE (object), result, &error);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      g_strcmp0 (data->customer_id, self->customer_id) == 0)
    {
      /* Seats used are a help, not a must: without them the account still shows. */
      if (error != NULL)
        g_debug ("Could not read the organisation of %s: %s", data->customer_id, error->message);

      g_clear_pointer (&self->organisation, linked_organisation_free);
      self->organisation = org;
      org = NULL;
      self->reads++;
      fill_customer (self);
      run_then (self);
    }

  linked_organisation_free (org);
  load_data_free (data);
}

static void
account_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  LoadData *data = user_data;
  FdBillingPage *self = data->self;
  g_autoptr(GError) error = NULL;
  FdBillingAccount *account;

  account = fd_billing_load_account_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      load_data_free (data);
      return;
    }

  if (account == NULL)
    {
      if (data->reload && self->account != NULL)
        {
          g_autofree char *message = NULL;

          /* Translators: %s says why, as a full sentence. */
          message = g_strdup_printf (_("The account could not be read again. %s"), error->message);
          fd_billing_page_update_actions (self);
          page_toast (self, message);
        }
      else
        {
          show_error (self, _("The customer could not be read from Stripe"), error);
        }
      load_data_free (data);
      return;
    }

  if (account->summary == NULL)
    fd_billing_account_summarize (account, g_get_real_time () / G_USEC_PER_SEC);

  g_clear_pointer (&self->account, fd_billing_account_free);
  self->account = account;

  if (self->store != NULL)
    fd_store_run_async (self->store, organisation_job, g_strdup (data->customer_id), g_free,
                        (GDestroyNotify) linked_organisation_free, self->load_cancellable,
                        organisation_cb, data);
  else
    {
      self->reads++;
      fill_customer (self);
      run_then (self);
      load_data_free (data);
    }
}

static void
load_account (FdBillingPage *self,
              const char    *customer_id,
              gboolean       reload)
{
  LoadData *data;

  g_assert (self->client != NULL);

  if (!reload || g_strcmp0 (customer_id, self->customer_id) != 0)
    {
      g_clear_pointer (&self->account, fd_billing_account_free);
      g_clear_pointer (&self->organisation, linked_organisation_free);
      g_clear_pointer (&self->action_error, g_free);
      gtk_widget_set_visible (self->action_error_box, FALSE);
      self->restore_scroll = 0;
    }
  else
    {
      self->restore_scroll = gtk_adjustment_get_value (gtk_scrolled_window_get_vadjustment (self->customer_scroller));
    }

  g_free (self->customer_id);
  self->customer_id = g_strdup (customer_id);
  self->last_load = LOAD_ACCOUNT;

  begin_loading (self, _("Reading the customer’s account from Stripe…"));
  if (reload && self->account != NULL)
    g_clear_handle_id (&self->spinner_source, g_source_remove);

  data = g_new0 (LoadData, 1);
  data->self = g_object_ref (self);
  data->customer_id = g_strdup (customer_id);
  data->reload = reload;
  fd_billing_load_account_async (self->client, customer_id, self->load_cancellable,
                                 account_loaded_cb, data);
}

static void
result_activated_cb (FdBillingPage *self,
                     GtkListBoxRow *row)
{
  const char *id = g_object_get_data (G_OBJECT (row), "fd-customer-id");

  if (id != NULL && self->client != NULL)
    load_account (self, id, FALSE);
}

static void
show_results (FdBillingPage *self)
{
  g_autofree char *text = NULL;

  list_clear (self->results_list);

  for (guint i = 0; i < self->results->len; i++)
    {
      const FdStripeCustomer *customer = g_ptr_array_index (self->results, i);
      g_autofree char *created = fd_billing_format_date (customer->created);
      g_autoptr(GString) subtitle = g_string_new (NULL);
      const char *title = customer->name != NULL && *customer->name != '\0' ? customer->name
                        : customer->email != NULL ? customer->email : customer->id;
      GtkWidget *row;

      if (customer->email != NULL && title != customer->email)
        g_string_append_printf (subtitle, "%s · ", customer->email);
      g_string_append (subtitle, customer->id);
      if (customer->created > 0)
        {
          g_string_append (subtitle, " · ");
          /* Translators: %s is a date. */
          g_string_append_printf (subtitle, _("customer since %s"), created);
        }
      if (customer->delinquent)
        {
          g_string_append (subtitle, " · ");
          g_string_append (subtitle, _("behind on payments"));
        }

      row = row_new (title, subtitle->str);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
      g_object_set_data_full (G_OBJECT (row), "fd-customer-id", g_strdup (customer->id), g_free);
      gtk_list_box_append (self->results_list, row);
    }

  /* Translators: %d is how many Stripe customers match a search (at least two). */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "%d customer matches. Choose one.",
                                       "%d customers match. Choose one.",
                                       self->results->len),
                          self->results->len);
  gtk_label_set_label (self->results_label, text);
  set_state (self, "results");
}

static void
customers_found_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(FdBillingPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) customers = NULL;

  customers = fd_billing_find_customers_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (customers == NULL)
    {
      show_error (self, _("Stripe could not be searched"), error);
      return;
    }

  g_clear_pointer (&self->results, g_ptr_array_unref);
  self->results = g_steal_pointer (&customers);

  if (self->results->len == 0)
    {
      g_autofree char *description = NULL;

      /* Translators: %s is what the agent searched for. */
      description = g_strdup_printf (_("No Stripe customer matches “%s”. Search by the full email address, a name or a cus_ id."),
                                     self->query);
      adw_status_page_set_description (self->no_results_page, description);
      set_state (self, "no-results");
    }
  else if (self->results->len == 1)
    {
      const FdStripeCustomer *customer = g_ptr_array_index (self->results, 0);

      load_account (self, customer->id, FALSE);
    }
  else
    {
      show_results (self);
    }
}

static void
start_lookup (FdBillingPage *self,
              const char    *query)
{
  g_autofree char *text = g_strstrip (g_strdup (query != NULL ? query : ""));

  g_clear_handle_id (&self->search_source, g_source_remove);

  if (*text == '\0')
    return;

  g_free (self->query);
  self->query = g_strdup (text);

  if (self->client == NULL)
    {
      /* Looked up once the Stripe account is read. */
      self->pending_open = TRUE;
      return;
    }

  if (g_str_has_prefix (text, "cus_") && strchr (text, ' ') == NULL)
    {
      load_account (self, text, FALSE);
      return;
    }

  /* A new search leaves the customer shown: nothing may act on them out of sight. */
  g_clear_pointer (&self->account, fd_billing_account_free);
  g_clear_pointer (&self->organisation, linked_organisation_free);
  g_clear_pointer (&self->customer_id, g_free);
  fd_billing_page_update_actions (self);

  self->last_load = LOAD_SEARCH;
  begin_loading (self, _("Searching Stripe…"));
  fd_billing_find_customers_async (self->client, text, self->load_cancellable,
                                   customers_found_cb, g_object_ref (self));
}

static gboolean
search_timeout_cb (gpointer user_data)
{
  FdBillingPage *self = user_data;

  self->search_source = 0;
  start_lookup (self, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));

  return G_SOURCE_REMOVE;
}

static void
search_changed_cb (FdBillingPage *self)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))));

  g_clear_handle_id (&self->search_source, g_source_remove);

  /* The entry reports a change late (its own delay), also when the page set the text
   * of a lookup already made. */
  if (g_strcmp0 (text, self->query) == 0)
    return;

  if (g_utf8_strlen (text, -1) >= SEARCH_MIN_CHARS)
    self->search_source = g_timeout_add (SEARCH_DELAY_MS, search_timeout_cb, self);
}

static void
search_activate_cb (FdBillingPage *self)
{
  start_lookup (self, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static void
search_stop_cb (FdBillingPage *self)
{
  g_clear_handle_id (&self->search_source, g_source_remove);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
}

/* }}} */
/* {{{ The Stripe account */

static void
agent_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(FdBillingPage) self = user_data;
  g_autoptr(GError) error = NULL;
  char *agent = fd_store_run_finish (FD_STORE (object), result, &error);

  if (agent != NULL)
    {
      g_free (self->agent);
      self->agent = agent;
    }
}

static void
probe_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(FdBillingPage) self = user_data;
  g_autoptr(GError) error = NULL;
  FdStripePermissions permissions;

  permissions = fd_stripe_client_probe_finish (FD_STRIPE_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || FD_STRIPE_CLIENT (object) != self->client)
    return;

  /* Without an answer nothing is offered: an action the key cannot do is hidden, never
   * tried. The account itself still shows. */
  if (error != NULL)
    g_debug ("Could not learn what the Stripe key may do: %s", error->message);

  self->permissions = error != NULL ? 0 : permissions;
  self->probed = TRUE;

  if (self->account != NULL)
    fill_customer (self);
  else
    fd_billing_page_update_actions (self);
}

static void
page_client_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(FdBillingPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdStripeClient) client = NULL;

  client = client_get_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (client == NULL)
    {
      show_no_account (self, error->message);
      return;
    }

  g_set_object (&self->client, client);
  self->probed = FALSE;
  self->permissions = 0;
  fd_stripe_client_probe_async (self->client, self->client_cancellable, probe_cb, g_object_ref (self));
  list_unfinished (self);

  if (self->pending_open && self->query != NULL)
    {
      g_autofree char *query = g_strdup (self->query);

      self->pending_open = FALSE;
      start_lookup (self, query);
    }
  else if (self->customer_id != NULL)
    {
      g_autofree char *id = g_strdup (self->customer_id);

      load_account (self, id, self->account != NULL);
    }
  else
    {
      set_state (self, "start");
    }
}

static void
open_client (FdBillingPage *self)
{
  g_cancellable_cancel (self->client_cancellable);
  g_clear_object (&self->client_cancellable);
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->client);
  self->probed = FALSE;
  self->permissions = 0;

  if (self->store == NULL)
    {
      show_no_account (self, NULL);
      return;
    }

  self->client_cancellable = g_cancellable_new ();
  client_get_async (self->store, self->client_cancellable, page_client_cb, g_object_ref (self));
  fd_store_run_async (self->store, agent_job, NULL, NULL, g_free, self->client_cancellable,
                      agent_cb, g_object_ref (self));
}

/* }}} */
/* {{{ Unfinished actions */

static void
unfinished_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(FdBillingPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pending = NULL;

  pending = fd_billing_list_unfinished_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (pending == NULL)
    {
      g_debug ("Could not list unfinished billing actions: %s", error->message);
      return;
    }

  g_clear_pointer (&self->unfinished, g_ptr_array_unref);
  self->unfinished = g_steal_pointer (&pending);

  if (self->unfinished->len > 0)
    {
      const FdBillingPendingAction *first = g_ptr_array_index (self->unfinished, 0);
      g_autofree char *text = NULL;

      if (self->unfinished->len == 1)
        /* Translators: %s describes a billing action, as a full sentence. */
        text = g_strdup_printf (_("Stripe did not confirm an action, so it may not have been done: %s Finish it to send it again safely."),
                                first->description != NULL ? first->description : first->kind);
      else
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "Stripe did not confirm %d action, so it may not have been done. Finish it to send it again safely.",
                                             "Stripe did not confirm %d actions, so they may not have been done. Finish them to send them again safely.",
                                             self->unfinished->len),
                                self->unfinished->len);
      gtk_label_set_label (self->unfinished_label, text);
    }

  gtk_widget_set_visible (self->unfinished_box, self->unfinished->len > 0);
  fd_billing_page_update_actions (self);
}

static void
list_unfinished (FdBillingPage *self)
{
  if (self->store == NULL)
    return;

  fd_billing_list_unfinished_async (self->store, self->client_cancellable, unfinished_cb,
                                    g_object_ref (self));
}

/* }}} */
/* {{{ Running actions */

static char *
progress_text (const FdBillingAction *action)
{
  switch (action->kind)
    {
    case FD_BILLING_ACTION_REFUND:
      {
        g_autofree char *amount = fd_money_format (action->amount, action->currency);

        /* Translators: %s is an amount of money. */
        return g_strdup_printf (_("Refunding %s…"), amount);
      }
    case FD_BILLING_ACTION_CANCEL_NOW:
      return g_strdup (_("Cancelling the subscription…"));
    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
      return g_strdup (_("Setting the subscription to cancel at the end of the period…"));
    case FD_BILLING_ACTION_UNDO_CANCEL:
      return g_strdup (_("Keeping the subscription…"));
    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
      return g_strdup (_("Changing the plan…"));
    case FD_BILLING_ACTION_PAUSE_COLLECTION:
      return g_strdup (_("Pausing payment collection…"));
    case FD_BILLING_ACTION_RESUME_COLLECTION:
      return g_strdup (_("Resuming payment collection…"));
    case FD_BILLING_ACTION_PAY_INVOICE:
      return g_strdup (_("Charging the invoice…"));
    case FD_BILLING_ACTION_SEND_INVOICE:
      return g_strdup (_("Sending the invoice…"));
    case FD_BILLING_ACTION_VOID_INVOICE:
      return g_strdup (_("Voiding the invoice…"));
    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      return g_strdup (_("Marking the invoice uncollectible…"));
    case FD_BILLING_ACTION_CREDIT_NOTE:
      return g_strdup (_("Issuing the credit note…"));
    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      return g_strdup (action->submit ? _("Submitting the evidence…") : _("Saving the evidence…"));
    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      return g_strdup (_("Closing the dispute…"));
    default:
      return g_strdup (_("Asking Stripe…"));
    }
}

static char *
done_text (const FdBillingAction *action)
{
  switch (action->kind)
    {
    case FD_BILLING_ACTION_REFUND:
      {
        g_autofree char *amount = fd_money_format (action->amount, action->currency);

        /* Translators: %s is an amount of money. */
        return g_strdup_printf (_("Refunded %s"), amount);
      }
    case FD_BILLING_ACTION_CANCEL_NOW:
      return g_strdup (_("Subscription cancelled"));
    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
      return g_strdup (_("The subscription cancels at the end of the period"));
    case FD_BILLING_ACTION_UNDO_CANCEL:
      return g_strdup (_("The subscription continues"));
    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
      return g_strdup (_("Plan changed"));
    case FD_BILLING_ACTION_PAUSE_COLLECTION:
      return g_strdup (_("Payment collection paused"));
    case FD_BILLING_ACTION_RESUME_COLLECTION:
      return g_strdup (_("Payment collection resumed"));
    case FD_BILLING_ACTION_PAY_INVOICE:
      return g_strdup (_("Invoice charged"));
    case FD_BILLING_ACTION_SEND_INVOICE:
      return g_strdup (_("Invoice sent"));
    case FD_BILLING_ACTION_VOID_INVOICE:
      return g_strdup (_("Invoice voided"));
    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      return g_strdup (_("Invoice marked uncollectible"));
    case FD_BILLING_ACTION_CREDIT_NOTE:
      return g_strdup (_("Credit note issued"));
    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      return g_strdup (action->submit ? _("Evidence submitted") : _("Evidence saved as a draft"));
    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      return g_strdup (_("Dispute closed"));
    default:
      return g_strdup (_("Done"));
    }
}

static const char *
failed_title (const FdBillingAction *action)
{
  switch (action->kind)
    {
    case FD_BILLING_ACTION_REFUND:
      return _("The refund was not made");
    case FD_BILLING_ACTION_CANCEL_NOW:
    case FD_BILLING_ACTION_CANCEL_AT_PERIOD_END:
      return _("The subscription was not cancelled");
    case FD_BILLING_ACTION_UNDO_CANCEL:
    case FD_BILLING_ACTION_CHANGE_SUBSCRIPTION:
    case FD_BILLING_ACTION_PAUSE_COLLECTION:
    case FD_BILLING_ACTION_RESUME_COLLECTION:
      return _("The subscription was not changed");
    case FD_BILLING_ACTION_PAY_INVOICE:
      return _("The invoice was not paid");
    case FD_BILLING_ACTION_SEND_INVOICE:
    case FD_BILLING_ACTION_VOID_INVOICE:
    case FD_BILLING_ACTION_MARK_UNCOLLECTIBLE:
      return _("The invoice was not changed");
    case FD_BILLING_ACTION_CREDIT_NOTE:
      return _("The credit note was not issued");
    case FD_BILLING_ACTION_UPDATE_DISPUTE:
      return _("The evidence was not saved");
    case FD_BILLING_ACTION_CLOSE_DISPUTE:
      return _("The dispute was not closed");
    default:
      return _("Nothing was done");
    }
}

static void
set_busy (FdBillingPage *self,
          const char    *text)
{
  self->busy = text != NULL;
  if (text != NULL)
    {
      gtk_label_set_label (self->busy_label, text);
      gtk_spinner_start (self->busy_spinner);
    }
  else
    {
      gtk_spinner_stop (self->busy_spinner);
    }
  gtk_revealer_set_reveal_child (self->busy_revealer, self->busy);
  fd_billing_page_update_actions (self);
}

/* AdwToast 1.2 parses its title as markup; these are plain text. */
static void
page_toast (FdBillingPage *self,
            const char    *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
}

static void
show_action_error (FdBillingPage *self,
                   const char    *title,
                   const char    *message)
{
  g_free (self->action_error);
  self->action_error = g_strdup (message);
  gtk_label_set_label (self->action_error_title, title);
  gtk_label_set_label (self->action_error_label, message);
  gtk_widget_set_visible (self->action_error_box, TRUE);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->customer_scroller), 0);
}

static void
offer_note (FdBillingPage          *self,
            const FdBillingAction  *action,
            const FdBillingOutcome *outcome)
{
  g_autofree char *title = done_text (action);
  g_autofree char *escaped = g_markup_escape_text (title, -1);
  AdwToast *toast = adw_toast_new (escaped);

  g_clear_pointer (&self->last_note, g_free);
  self->note_conversation_id = action->conversation_id;

  if (outcome->note != NULL && action->conversation_id > 0)
    {
      self->last_note = g_strdup (outcome->note);
      adw_toast_set_button_label (toast, _("Add as _Note"));
      adw_toast_set_action_name (toast, "billing.add-note");
      adw_toast_set_timeout (toast, 10);
    }

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  fd_billing_page_update_actions (self);
}

typedef struct
{
  FdBillingPage   *self;
  FdBillingAction *action;       /* NULL when an unfinished action is sent again */
  char            *target_id;
  char            *description;  /* of an unfinished action */
} RunData;

static void
run_data_free (RunData *data)
{
  g_object_unref (data->self);
  g_clear_pointer (&data->action, fd_billing_action_free);
  g_free (data->target_id);
  g_free (data->description);
  g_free (data);
}

static void
retry_toast_unfinished_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  RunData *data = user_data;
  FdBillingPage *self = data->self;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GError) error = NULL;
  gint64 action_id = 0;

  pending = fd_billing_list_unfinished_finish (FD_STORE (object), result, &error);
  if (self->disposed)
    {
      run_data_free (data);
      return;
    }

  if (pending != NULL)
    {
      /* The newest unfinished action on the same target is the one just sent. */
      for (guint i = 0; i < pending->len; i++)
        {
          const FdBillingPendingAction *action = g_ptr_array_index (pending, i);

          if (g_strcmp0 (action->target_id, data->target_id) == 0 && action->id > action_id)
            action_id = action->id;
        }

      g_clear_pointer (&self->unfinished, g_ptr_array_unref);
      self->unfinished = g_ptr_array_ref (pending);
      gtk_widget_set_visible (self->unfinished_box, pending->len > 0);
      if (pending->len > 0)
        gtk_label_set_label (self->unfinished_label,
                             _("Stripe did not answer, so it is not known whether the last action was done. Finish it to send it again safely."));
    }

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      AdwToast *toast = adw_toast_new (_("Stripe did not answer, so it is not known whether it was done"));

      if (action_id > 0)
        {
          adw_toast_set_button_label (toast, _("_Retry"));
          adw_toast_set_action_name (toast, "billing.retry-action");
          adw_toast_set_action_target_value (toast, g_variant_new_int64 (action_id));
        }
      adw_toast_set_timeout (toast, 0);
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
    }

  fd_billing_page_update_actions (self);
  run_data_free (data);
}

static void
action_finished (RunData          *data,
                 FdBillingOutcome *outcome,
                 GError           *error)
{
  FdBillingPage *self = data->self;
  FdBillingAction *action = data->action;

  if (self->disposed)
    {
      run_data_free (data);
      return;
    }

  set_busy (self, NULL);

  if (outcome != NULL)
    {
      g_clear_pointer (&self->action_error, g_free);
      gtk_widget_set_visible (self->action_error_box, FALSE);

      if (action != NULL)
        {
          if (action->kind == FD_BILLING_ACTION_UPDATE_DISPUTE && action->target_id != NULL)
            g_hash_table_remove (self->unsaved_evidence, action->target_id);
          offer_note (self, action, outcome);
        }
      else
        {
          g_autofree char *text = NULL;

          /* Translators: %s describes a billing action, as a full sentence. */
          text = g_strdup_printf (_("Stripe confirmed it: %s"), data->description != NULL ? data->description : "");
          page_toast (self, text);
        }

      list_unfinished (self);
      if (self->customer_id != NULL && self->client != NULL)
        {
          g_autofree char *id = g_strdup (self->customer_id);

          load_account (self, id, TRUE);
        }
      run_data_free (data);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      run_data_free (data);
      return;
    }

  /* Evidence typed for a save that failed is offered again next time. */
  if (action != NULL && action->kind == FD_BILLING_ACTION_UPDATE_DISPUTE && action->evidence != NULL &&
      action->target_id != NULL)
    g_hash_table_replace (self->unsaved_evidence, g_strdup (action->target_id),
                          fd_stripe_params_copy (action->evidence));

  if (g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_NETWORK))
    {
      /* The outcome is unknown: the action stays stored with its key, to be sent again. */
      fd_billing_list_unfinished_async (self->store, self->action_cancellable,
                                        retry_toast_unfinished_cb, data);
      return;
    }

  show_action_error (self, action != NULL ? failed_title (action) : _("The action was not finished"),
                     error->message);
  list_unfinished (self);
  run_data_free (data);
}

static void
action_run_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FdBillingOutcome) outcome = NULL;

  outcome = fd_billing_run_action_finish (result, &error);
  action_finished (user_data, outcome, error);
}

static void
action_retry_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FdBillingOutcome) outcome = NULL;

  outcome = fd_billing_retry_action_finish (result, &error);
  action_finished (user_data, outcome, error);
}

static void
run_action (FdBillingPage   *self,
            FdBillingAction *action)
{
  g_autofree char *progress = progress_text (action);
  RunData *data;

  if (self->store == NULL || self->client == NULL)
    {
      fd_billing_action_free (action);
      return;
    }

  g_clear_pointer (&self->action_error, g_free);
  gtk_widget_set_visible (self->action_error_box, FALSE);
  set_busy (self, progress);

  data = g_new0 (RunData, 1);
  data->self = g_object_ref (self);
  data->action = action;
  data->target_id = g_strdup (action->target_id);
  fd_billing_run_action_async (self->store, self->client, data->action, self->action_cancellable,
                               action_run_cb, data);
}

static void
retry_action (FdBillingPage *self,
              gint64         action_id)
{
  RunData *data;

  if (self->store == NULL || self->client == NULL || self->busy)
    return;

  data = g_new0 (RunData, 1);
  data->self = g_object_ref (self);

  for (guint i = 0; self->unfinished != NULL && i < self->unfinished->len; i++)
    {
      const FdBillingPendingAction *pending = g_ptr_array_index (self->unfinished, i);

      if (pending->id == action_id)
        {
          data->target_id = g_strdup (pending->target_id);
          data->description = g_strdup (pending->description);
        }
    }

  set_busy (self, _("Sending the action again with the same key…"));
  fd_billing_retry_action_async (self->store, self->client, action_id, self->action_cancellable,
                                 action_retry_cb, data);
}

/* }}} */
/* {{{ Dialogs */

static FdBillingAction *
base_action (FdBillingPage       *self,
             FdBillingActionKind  kind,
             const char          *target_id)
{
  FdBillingAction *action = fd_billing_action_new (kind);

  g_free (action->customer_id);
  action->customer_id = g_strdup (self->customer_id);
  g_free (action->target_id);
  action->target_id = g_strdup (target_id);
  action->conversation_id = self->conversation_id;
  g_free (action->agent);
  action->agent = g_strdup (self->agent != NULL ? self->agent : g_get_real_name ());

  return action;
}

static GtkWindow *
parent_window (FdBillingPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

static void
dialog_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(FdBillingPage) self = user_data;
  FdBillingAction *action;

  if (FD_IS_BILLING_ACTION_DIALOG (object))
    action = fd_billing_action_dialog_run_finish (FD_BILLING_ACTION_DIALOG (object), result, NULL);
  else
    action = fd_billing_dispute_window_run_finish (FD_BILLING_DISPUTE_WINDOW (object), result, NULL);

  if ((gpointer) self->dialog == (gpointer) object)
    g_clear_weak_pointer (&self->dialog);

  if (self->disposed)
    {
      g_clear_pointer (&action, fd_billing_action_free);
      return;
    }

  if (action != NULL)
    run_action (self, action);

  /* Focus goes back to the page, never lost with the dialog. */
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static gboolean
dialog_allowed (FdBillingPage *self)
{
  if (self->dialog != NULL)
    {
      gtk_window_present (self->dialog);
      return FALSE;
    }

  return self->account != NULL && self->client != NULL && !self->busy;
}

static void
present_dialog (FdBillingPage         *self,
                FdBillingActionDialog *dialog)
{
  g_set_weak_pointer (&self->dialog, GTK_WINDOW (dialog));
  fd_billing_action_dialog_run_async (dialog, self->action_cancellable, dialog_done_cb,
                                      g_object_ref (self));
}

static void
refund_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);
  const FdStripeCharge *charge = find_charge (self, g_variant_get_string (parameter, NULL));
  g_autoptr(FdBillingAction) action = NULL;

  if (charge == NULL || !dialog_allowed (self))
    return;

  action = base_action (self, FD_BILLING_ACTION_REFUND, charge->id);
  action->amount = fd_stripe_charge_refundable (charge);
  action->refundable = action->amount;
  action->currency = g_strdup (charge->currency);
  action->reason = g_strdup ("requested_by_customer");
  present_dialog (self, fd_billing_action_dialog_new_refund (parent_window (self), action, charge));
}

static void
subscription_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);
  const FdStripeSubscription *subscription = find_subscription (self, g_variant_get_string (parameter, NULL));
  g_autoptr(FdBillingAction) action = NULL;
  FdBillingActionKind kind;

  if (subscription == NULL || !dialog_allowed (self))
    return;

  if (g_str_equal (action_name, "billing.cancel-now"))
    kind = FD_BILLING_ACTION_CANCEL_NOW;
  else if (g_str_equal (action_name, "billing.cancel-at-period-end"))
    kind = FD_BILLING_ACTION_CANCEL_AT_PERIOD_END;
  else if (g_str_equal (action_name, "billing.undo-cancel"))
    kind = FD_BILLING_ACTION_UNDO_CANCEL;
  else if (g_str_equal (action_name, "billing.pause-collection"))
    kind = FD_BILLING_ACTION_PAUSE_COLLECTION;
  else if (g_str_equal (action_name, "billing.resume-collection"))
    kind = FD_BILLING_ACTION_RESUME_COLLECTION;
  else
    kind = FD_BILLING_ACTION_CHANGE_SUBSCRIPTION;

  action = base_action (self, kind, subscription->id);

  if (kind == FD_BILLING_ACTION_CHANGE_SUBSCRIPTION)
    {
      if (subscription->items->len == 0)
        return;
      present_dialog (self, fd_billing_action_dialog_new_change (parent_window (self), self->client,
                                                                 action, subscription));
      return;
    }

  if (kind == FD_BILLING_ACTION_PAUSE_COLLECTION)
    action->pause_behavior = g_strdup ("keep_as_draft");

  present_dialog (self, fd_billing_action_dialog_new (parent_window (self), action));
}

static void
invoice_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);
  const FdStripeInvoice *invoice = find_invoice (self, g_variant_get_string (parameter, NULL));
  g_autoptr(FdBillingAction) action = NULL;
  FdBillingActionKind kind;

  if (invoice == NULL || !dialog_allowed (self))
    return;

  if (g_str_equal (action_name, "billing.pay-invoice"))
    kind = FD_BILLING_ACTION_PAY_INVOICE;
  else if (g_str_equal (action_name, "billing.send-invoice"))
    kind = FD_BILLING_ACTION_SEND_INVOICE;
  else if (g_str_equal (action_name, "billing.void-invoice"))
    kind = FD_BILLING_ACTION_VOID_INVOICE;
  else if (g_str_equal (action_name, "billing.mark-uncollectible"))
    kind = FD_BILLING_ACTION_MARK_UNCOLLECTIBLE;
  else
    kind = FD_BILLING_ACTION_CREDIT_NOTE;

  action = base_action (self, kind, invoice->id);
  action->currency = g_strdup (invoice->currency);

  if (kind == FD_BILLING_ACTION_CREDIT_NOTE)
    present_dialog (self, fd_billing_action_dialog_new_credit_note (parent_window (self), self->client,
                                                                    action, invoice));
  else
    {
      if (kind == FD_BILLING_ACTION_PAY_INVOICE)
        action->amount = invoice->amount_remaining;
      present_dialog (self, fd_billing_action_dialog_new (parent_window (self), action));
    }
}

/* {{{ Dispute evidence */

typedef struct
{
  FdBillingPage *self;
  char          *dispute_id;
  char          *audit_lines;
  char          *transcript;
  char          *transcript_title;
} EvidenceData;

static void
evidence_data_free (EvidenceData *data)
{
  g_object_unref (data->self);
  g_free (data->dispute_id);
  g_free (data->audit_lines);
  g_free (data->transcript);
  g_free (data->transcript_title);
  g_free (data);
}

static void
open_dispute_window (EvidenceData *data)
{
  FdBillingPage *self = data->self;
  const FdStripeDispute *dispute = find_dispute (self, data->dispute_id);
  g_autoptr(FdBillingAction) action = NULL;
  FdBillingEvidenceSources sources = { 0 };
  FdBillingDisputeWindow *window;

  if (self->disposed || dispute == NULL || !dialog_allowed (self))
    {
      evidence_data_free (data);
      return;
    }

  action = base_action (self, FD_BILLING_ACTION_UPDATE_DISPUTE, dispute->id);
  sources.customer = self->account->customer;
  sources.account = self->account;
  sources.charge = find_charge (self, dispute->charge);
  sources.transcript = data->transcript;
  sources.transcript_title = data->transcript_title;
  sources.audit_lines = data->audit_lines;
  sources.unsaved = g_hash_table_lookup (self->unsaved_evidence, dispute->id);

  window = fd_billing_dispute_window_new (parent_window (self), self->client, self->permissions,
                                          action, dispute, &sources);
  g_set_weak_pointer (&self->dialog, GTK_WINDOW (window));
  fd_billing_dispute_window_run_async (window, self->action_cancellable, dialog_done_cb,
                                       g_object_ref (self));
  evidence_data_free (data);
}

static void
conversation_loaded_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  EvidenceData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdConversationDetail) detail = NULL;

  detail = fd_conversation_load_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      evidence_data_free (data);
      return;
    }

  if (detail != NULL && detail->messages != NULL)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      /* Internal notes are the team's own: they never go to the card issuer. */
      for (guint i = 0; i < detail->messages->len; i++)
        {
          const FdMessage *message = g_ptr_array_index (detail->messages, i);
          g_autoptr(GDateTime) at = NULL;
          g_autofree char *when = NULL;
          const char *who;

          if (message->is_note)
            continue;

          at = g_date_time_new_from_unix_utc (message->created_at / 1000);
          when = at != NULL ? g_date_time_format (at, "%Y-%m-%d %H:%M UTC") : g_strdup ("");
          who = message->author_name != NULL && *message->author_name != '\0'
                ? message->author_name : g_strcmp0 (message->author_kind, "contact") == 0
                ? _("Customer") : _("Support");
          g_string_append_printf (text, "%s — %s\n%s\n\n", when, who, message->body != NULL ? message->body : "");
        }

      if (text->len > 0)
        {
          data->transcript = g_string_free (g_steal_pointer (&text), FALSE);
          /* Translators: the title of a conversation transcript sent as dispute evidence;
           * %s is the conversation's subject. */
          data->transcript_title = g_strdup_printf (_("Conversation with the customer: %s"),
                                                    detail->subject != NULL ? detail->subject : "");
        }
    }
  else if (error != NULL)
    {
      g_debug ("Could not read the conversation for evidence: %s", error->message);
    }

  open_dispute_window (data);
}

static void
audit_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  EvidenceData *data = user_data;
  FdBillingPage *self = data->self;
  g_autoptr(GError) error = NULL;

  data->audit_lines = fd_store_run_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      evidence_data_free (data);
      return;
    }

  if (self->conversation_id > 0)
    fd_conversation_load_async (self->store, self->conversation_id, self->action_cancellable,
                                conversation_loaded_cb, data);
  else
    open_dispute_window (data);
}

static void
respond_dispute_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);
  const FdStripeDispute *dispute = find_dispute (self, g_variant_get_string (parameter, NULL));
  EvidenceData *data;
  char **ids;

  if (dispute == NULL || !dialog_allowed (self) || self->store == NULL)
    return;

  data = g_new0 (EvidenceData, 1);
  data->self = g_object_ref (self);
  data->dispute_id = g_strdup (dispute->id);

  ids = g_new0 (char *, 4);
  ids[0] = g_strdup (self->customer_id);
  ids[1] = g_strdup (dispute->charge);
  ids[2] = g_strdup (dispute->id);
  fd_store_run_async (self->store, audit_job, ids, (GDestroyNotify) g_strfreev, g_free,
                      self->action_cancellable, audit_loaded_cb, data);
}

static void
close_dispute_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);
  const FdStripeDispute *dispute = find_dispute (self, g_variant_get_string (parameter, NULL));
  g_autoptr(FdBillingAction) action = NULL;

  if (dispute == NULL || !dialog_allowed (self))
    return;

  action = base_action (self, FD_BILLING_ACTION_CLOSE_DISPUTE, dispute->id);
  action->amount = dispute->amount;
  action->currency = g_strdup (dispute->currency);
  present_dialog (self, fd_billing_action_dialog_new (parent_window (self), action));
}

/* }}} */

static void
open_url_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  const char *url = g_variant_get_string (parameter, NULL);

  /* Web addresses only: these come from Stripe's answers, not from the agent. */
  if (!g_str_has_prefix (url, "https://") && !g_str_has_prefix (url, "http://"))
    return;

  gtk_show_uri (parent_window (FD_BILLING_PAGE (widget)), url, GDK_CURRENT_TIME);
}

static void
retry_load_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);

  if (self->client == NULL)
    {
      open_client (self);
      return;
    }

  if (self->last_load == LOAD_ACCOUNT && self->customer_id != NULL)
    {
      g_autofree char *id = g_strdup (self->customer_id);

      load_account (self, id, FALSE);
    }
  else if (self->query != NULL)
    {
      g_autofree char *query = g_strdup (self->query);

      start_lookup (self, query);
    }
}

static void
note_added_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(FdBillingPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gint64 id = fd_outbox_enqueue_finish (FD_STORE (object), result, &error);

  if (self->disposed)
    return;

  if (id > 0)
    {
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("Internal note added to the conversation")));
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *message = NULL;

      /* Translators: %s says why, as a full sentence. */
      message = g_strdup_printf (_("The note could not be added. %s"), error != NULL ? error->message : "");
      page_toast (self, message);
    }
}

static void
add_note_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);
  FdOutboxRequest *request;

  if (self->last_note == NULL || self->note_conversation_id <= 0 || self->store == NULL)
    return;

  /* The outbox takes the request. */
  request = g_new0 (FdOutboxRequest, 1);
  request->conversation_id = self->note_conversation_id;
  request->kind = FD_OUTBOX_NOTE;
  request->body = g_steal_pointer (&self->last_note);
  fd_outbox_enqueue_async (self->store, request, self->action_cancellable, note_added_cb,
                           g_object_ref (self));
  fd_billing_page_update_actions (self);
}

static void
retry_action_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  retry_action (FD_BILLING_PAGE (widget), g_variant_get_int64 (parameter));
}

static void
finish_unfinished_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);

  /* One at a time, oldest first: each one finished lists the rest again. */
  if (self->unfinished != NULL && self->unfinished->len > 0)
    retry_action (self, ((FdBillingPendingAction *) g_ptr_array_index (self->unfinished, 0))->id);
}

static void
dismiss_error_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  FdBillingPage *self = FD_BILLING_PAGE (widget);

  g_clear_pointer (&self->action_error, g_free);
  gtk_widget_set_visible (self->action_error_box, FALSE);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  gtk_widget_grab_focus (GTK_WIDGET (FD_BILLING_PAGE (widget)->search_entry));
}

/* Every action enabled or not, in one place. */
static void
fd_billing_page_update_actions (FdBillingPage *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean ready = self->account != NULL && self->client != NULL && !self->busy;
  static const struct { const char *name; FdBillingActionKind kind; } kinds[] = {
    { "billing.refund", FD_BILLING_ACTION_REFUND },
    { "billing.cancel-now", FD_BILLING_ACTION_CANCEL_NOW },
    { "billing.cancel-at-period-end", FD_BILLING_ACTION_CANCEL_AT_PERIOD_END },
    { "billing.undo-cancel", FD_BILLING_ACTION_UNDO_CANCEL },
    { "billing.change-subscription", FD_BILLING_ACTION_CHANGE_SUBSCRIPTION },
    { "billing.pause-collection", FD_BILLING_ACTION_PAUSE_COLLECTION },
    { "billing.resume-collection", FD_BILLING_ACTION_RESUME_COLLECTION },
    { "billing.pay-invoice", FD_BILLING_ACTION_PAY_INVOICE },
    { "billing.send-invoice", FD_BILLING_ACTION_SEND_INVOICE },
    { "billing.void-invoice", FD_BILLING_ACTION_VOID_INVOICE },
    { "billing.mark-uncollectible", FD_BILLING_ACTION_MARK_UNCOLLECTIBLE },
    { "billing.credit-note", FD_BILLING_ACTION_CREDIT_NOTE },
    { "billing.respond-dispute", FD_BILLING_ACTION_UPDATE_DISPUTE },
    { "billing.close-dispute", FD_BILLING_ACTION_CLOSE_DISPUTE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    gtk_widget_action_set_enabled (widget, kinds[i].name, ready && can (self, kinds[i].kind));

  gtk_widget_action_set_enabled (widget, "billing.add-note",
                                 self->last_note != NULL && self->note_conversation_id > 0);
  gtk_widget_action_set_enabled (widget, "billing.retry-action", !self->busy && self->client != NULL);
  gtk_widget_action_set_enabled (widget, "billing.finish-unfinished",
                                 !self->busy && self->client != NULL &&
                                 self->unfinished != NULL && self->unfinished->len > 0);
}

/* }}} */
/* {{{ GObject */

static void
fd_billing_page_dispose (GObject *object)
{
  FdBillingPage *self = FD_BILLING_PAGE (object);

  self->disposed = TRUE;
  g_cancellable_cancel (self->client_cancellable);
  g_cancellable_cancel (self->load_cancellable);
  g_cancellable_cancel (self->action_cancellable);
  g_clear_handle_id (&self->search_source, g_source_remove);
  g_clear_handle_id (&self->spinner_source, g_source_remove);

  if (self->dialog != NULL)
    gtk_window_destroy (self->dialog);
  g_clear_weak_pointer (&self->dialog);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_BILLING_PAGE);

  G_OBJECT_CLASS (fd_billing_page_parent_class)->dispose (object);
}

static void
fd_billing_page_finalize (GObject *object)
{
  FdBillingPage *self = FD_BILLING_PAGE (object);

  g_clear_object (&self->store);
  g_clear_object (&self->client);
  g_clear_object (&self->client_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_object (&self->action_cancellable);
  g_clear_pointer (&self->agent, g_free);
  g_clear_pointer (&self->query, g_free);
  g_clear_pointer (&self->customer_id, g_free);
  g_clear_pointer (&self->then, g_free);
  g_clear_pointer (&self->account, fd_billing_account_free);
  g_clear_pointer (&self->organisation, linked_organisation_free);
  g_clear_pointer (&self->results, g_ptr_array_unref);
  g_clear_pointer (&self->unfinished, g_ptr_array_unref);
  g_clear_pointer (&self->last_note, g_free);
  g_clear_pointer (&self->action_error, g_free);
  g_clear_pointer (&self->unsaved_evidence, g_hash_table_unref);

  G_OBJECT_CLASS (fd_billing_page_parent_class)->finalize (object);
}

static void
fd_billing_page_class_init (FdBillingPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_billing_page_dispose;
  object_class->finalize = fd_billing_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/billing/fd-billing-page.ui");
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, stack);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, no_account_page);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, loading_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, error_title);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, no_results_page);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, results_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, results_list);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, customer_scroller);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, action_error_box);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, action_error_title);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, action_error_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, unfinished_box);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, unfinished_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, busy_revealer);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, busy_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, name_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, mode_badge);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, enterprise_badge);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, email_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, id_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, state_icon);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, summary_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, advice_label);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, account_list);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, subscriptions_box);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, invoices_list);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, payments_list);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, disputes_list);
  gtk_widget_class_bind_template_child (widget_class, FdBillingPage, refunds_list);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_stop_cb);
  gtk_widget_class_bind_template_callback (widget_class, result_activated_cb);

  gtk_widget_class_install_action (widget_class, "billing.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "billing.retry", NULL, retry_load_action);
  gtk_widget_class_install_action (widget_class, "billing.refund", "s", refund_action);
  gtk_widget_class_install_action (widget_class, "billing.cancel-now", "s", subscription_action);
  gtk_widget_class_install_action (widget_class, "billing.cancel-at-period-end", "s", subscription_action);
  gtk_widget_class_install_action (widget_class, "billing.undo-cancel", "s", subscription_action);
  gtk_widget_class_install_action (widget_class, "billing.change-subscription", "s", subscription_action);
  gtk_widget_class_install_action (widget_class, "billing.pause-collection", "s", subscription_action);
  gtk_widget_class_install_action (widget_class, "billing.resume-collection", "s", subscription_action);
  gtk_widget_class_install_action (widget_class, "billing.pay-invoice", "s", invoice_action);
  gtk_widget_class_install_action (widget_class, "billing.send-invoice", "s", invoice_action);
  gtk_widget_class_install_action (widget_class, "billing.void-invoice", "s", invoice_action);
  gtk_widget_class_install_action (widget_class, "billing.mark-uncollectible", "s", invoice_action);
  gtk_widget_class_install_action (widget_class, "billing.credit-note", "s", invoice_action);
  gtk_widget_class_install_action (widget_class, "billing.respond-dispute", "s", respond_dispute_action);
  gtk_widget_class_install_action (widget_class, "billing.close-dispute", "s", close_dispute_action);
  gtk_widget_class_install_action (widget_class, "billing.open-url", "s", open_url_action);
  gtk_widget_class_install_action (widget_class, "billing.add-note", NULL, add_note_action);
  gtk_widget_class_install_action (widget_class, "billing.retry-action", "x", retry_action_action);
  gtk_widget_class_install_action (widget_class, "billing.finish-unfinished", NULL, finish_unfinished_action);
  gtk_widget_class_install_action (widget_class, "billing.dismiss-error", NULL, dismiss_error_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "billing.search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_slash, 0, "billing.search", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "fdbillingpage");
}

static void
fd_billing_page_init (FdBillingPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->action_cancellable = g_cancellable_new ();
  self->restore_scroll = -1;
  self->unsaved_evidence = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) fd_stripe_params_free);

  show_no_account (self, NULL);
  fd_billing_page_update_actions (self);
}

/* }}} */
/* {{{ Public */

GtkWidget *
fd_billing_page_new (void)
{
  return g_object_new (FD_TYPE_BILLING_PAGE, NULL);
}

void
fd_billing_page_set_store (FdBillingPage *self,
                           FdStore       *store)
{
  g_return_if_fail (FD_IS_BILLING_PAGE (self));
  g_return_if_fail (store == NULL || FD_IS_STORE (store));

  if (self->store == store)
    return;

  g_set_object (&self->store, store);
  open_client (self);
}

FdStore *
fd_billing_page_get_store (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), NULL);

  return self->store;
}

void
fd_billing_page_reload_accounts (FdBillingPage *self)
{
  g_return_if_fail (FD_IS_BILLING_PAGE (self));

  if (self->store == NULL)
    return;

  fd_billing_forget_client (self->store);
  open_client (self);
}

void
fd_billing_page_open_customer (FdBillingPage *self,
                               const char    *query,
                               gint64         conversation_id,
                               const char    *then)
{
  g_return_if_fail (FD_IS_BILLING_PAGE (self));
  g_return_if_fail (query != NULL);

  self->conversation_id = MAX (conversation_id, 0);
  g_free (self->then);
  self->then = then != NULL && *then != '\0' ? g_strdup (then) : NULL;

  g_signal_handlers_block_by_func (self->search_entry, search_changed_cb, self);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), query);
  g_signal_handlers_unblock_by_func (self->search_entry, search_changed_cb, self);

  start_lookup (self, query);
}

const FdBillingAccount *
fd_billing_page_get_account (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), NULL);

  return self->account;
}

gint64
fd_billing_page_get_conversation_id (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), 0);

  return self->conversation_id;
}

const char *
_fd_billing_page_get_state (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), NULL);

  return gtk_stack_get_visible_child_name (self->stack);
}

FdStripePermissions
_fd_billing_page_get_permissions (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), 0);

  return self->probed ? self->permissions : 0;
}

GtkWindow *
_fd_billing_page_get_dialog (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), NULL);

  return self->dialog;
}

guint
_fd_billing_page_get_reads (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), 0);

  return self->reads;
}

gboolean
_fd_billing_page_get_busy (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), FALSE);

  return self->busy;
}

const char *
_fd_billing_page_get_last_note (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), NULL);

  return self->last_note;
}

const char *
_fd_billing_page_get_action_error (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), NULL);

  return self->action_error;
}

GtkEditable *
_fd_billing_page_get_search_entry (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), NULL);

  return GTK_EDITABLE (self->search_entry);
}

GtkListBox *
_fd_billing_page_get_results_list (FdBillingPage *self)
{
  g_return_val_if_fail (FD_IS_BILLING_PAGE (self), NULL);

  return self->results_list;
}

/* }}} */
/* }}} */
