/* fd-preferences-window.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-preferences-window"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fd-account.h"
#include "fd-account-row.h"
#include "fd-preferences-window.h"
#include "fd-secrets.h"
#include "fd-sla-page.h"
#include "fd-sync-status.h"

struct _FdPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  FdApplication        *app;
  GCancellable         *cancellable;
  GListStore           *accounts;
  GListModel           *states;
  GtkStack             *placeholder;
  guint                 refresh_source;
  /* The base URL we filled in for the chosen service; replaced when the service
   * changes, unless the user has typed another one. */
  char                 *prefilled_url;
  guint                 saving : 1;

  /* Template widgets */
  GtkWidget            *store_error_box;
  GtkLabel             *store_error_label;
  GtkListBox           *accounts_list;
  AdwComboRow          *kind_row;
  AdwEntryRow          *name_row;
  AdwEntryRow          *base_url_row;
  AdwPasswordEntryRow  *secret_row;
  AdwPasswordEntryRow  *app_token_row;
  GtkWidget            *app_token_caption;
  AdwEntryRow          *api_username_row;
  AdwEntryRow          *categories_row;
  GtkWidget            *discourse_caption;
  GtkWidget            *form_error_box;
  GtkLabel             *form_error_label;
  GtkSpinner           *connect_spinner;
  GtkButton            *connect_button;
  FdSlaPage            *sla_page;
};

G_DEFINE_FINAL_TYPE (FdPreferencesWindow, fd_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

typedef struct
{
  FdPreferencesWindow *self;
  char                *name;
} AccountOp;

static void
account_op_free (AccountOp *op)
{
  g_clear_object (&op->self);
  g_clear_pointer (&op->name, g_free);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AccountOp, account_op_free)

static AccountOp *
account_op_new (FdPreferencesWindow *self,
                const char          *name)
{
  AccountOp *op = g_new0 (AccountOp, 1);

  op->self = g_object_ref (self);
  op->name = g_strdup (name);

  return op;
}

static FdStore *
fd_preferences_window_get_ready_store (FdPreferencesWindow *self)
{
  if (self->app == NULL || !fd_application_get_store_ready (self->app))
    return NULL;

  return fd_application_get_store (self->app);
}

static void
fd_preferences_window_add_toast (FdPreferencesWindow *self,
                                 const char          *title)
{
  g_autofree char *escaped = g_markup_escape_text (title, -1);

  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (escaped));
}

static FdAccountKind
fd_preferences_window_get_kind (FdPreferencesWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->kind_row);

  if (selected >= FD_ACCOUNT_N_KINDS)
    return FD_ACCOUNT_KIND_INTERCOM;

  return (FdAccountKind) selected;
}

static void
fd_preferences_window_update_sensitivity (FdPreferencesWindow *self)
{
  gboolean ready = fd_preferences_window_get_ready_store (self) != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->connect_button), ready && !self->saving);
  gtk_widget_set_visible (GTK_WIDGET (self->connect_spinner), self->saving);
  gtk_spinner_set_spinning (self->connect_spinner, self->saving);
}

static void
fd_preferences_window_clear_form_errors (FdPreferencesWindow *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->base_url_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->secret_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->app_token_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->categories_row), "error");
  gtk_widget_set_visible (self->form_error_box, FALSE);
  gtk_label_set_label (self->form_error_label, "");
}

static void
fd_preferences_window_show_form_error (FdPreferencesWindow *self,
                                       const char          *message)
{
  gtk_label_set_label (self->form_error_label, message);
  gtk_widget_set_visible (self->form_error_box, TRUE);
}

/* Errors from saving, in words that say what happened and what to do next. The
 * keyring and account errors already are; anything else gets a sentence around it. */
static char *
describe_save_error (const GError *error)
{
  if (error->domain == FD_SECRETS_ERROR || error->domain == FD_ACCOUNT_ERROR)
    return g_strdup (error->message);

  return g_strdup_printf (_("The account was not saved: %s"), error->message);
}

static GtkWidget *
fd_preferences_window_create_row (gpointer item,
                                  gpointer user_data);

static void
fd_preferences_window_set_accounts (FdPreferencesWindow *self,
                                    GListStore          *accounts)
{
  g_set_object (&self->accounts, accounts);

  gtk_stack_set_visible_child_name (self->placeholder, "empty");
  gtk_list_box_bind_model (self->accounts_list,
                           G_LIST_MODEL (accounts),
                           fd_preferences_window_create_row,
                           self, NULL);
}

static void
fd_preferences_window_list_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  g_autoptr(FdPreferencesWindow) self = user_data;
  g_autoptr(GListStore) accounts = NULL;
  g_autoptr(GError) error = NULL;

  accounts = fd_account_list_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (accounts == NULL)
    {
      gtk_label_set_label (self->store_error_label,
                           error ? error->message : _("The accounts could not be read."));
      gtk_widget_set_visible (self->store_error_box, TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->accounts_list), FALSE);
      return;
    }

  gtk_widget_set_visible (self->store_error_box, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->accounts_list), TRUE);
  fd_preferences_window_set_accounts (self, accounts);
}

static void
fd_preferences_window_reload (FdPreferencesWindow *self)
{
  const GError *store_error;
  FdStore *store;

  g_assert (FD_IS_PREFERENCES_WINDOW (self));

  fd_preferences_window_update_sensitivity (self);

  if (self->app == NULL)
    return;

  store_error = fd_application_get_store_error (self->app);
  if (store_error != NULL)
    {
      /* An empty list would claim there are no accounts; say why there is none. */
      gtk_label_set_label (self->store_error_label, store_error->message);
      gtk_widget_set_visible (self->store_error_box, TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->accounts_list), FALSE);
      return;
    }

  store = fd_preferences_window_get_ready_store (self);
  if (store == NULL)
    return;

  fd_sla_page_set_store (self->sla_page, store);

  fd_account_list_async (store,
                         self->cancellable,
                         fd_preferences_window_list_cb,
                         g_object_ref (self));
}

static void
fd_preferences_window_remove_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(AccountOp) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  if (!fd_account_remove_finish (FD_STORE (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      message = g_strdup_printf (_("“%s” was not removed: %s"), op->name, error->message);

      fd_preferences_window_add_toast (op->self, message);
      return;
    }

  message = g_strdup_printf (_("Removed “%s”"), op->name);
  fd_preferences_window_add_toast (op->self, message);

  if (op->self->app != NULL)
    fd_application_accounts_changed (op->self->app);
}

static void
fd_preferences_window_remove_response_cb (FdPreferencesWindow *self,
                                          const char          *response,
                                          AdwMessageDialog    *dialog)
{
  FdAccount *account;
  FdStore *store;

  if (g_strcmp0 (response, "remove") != 0)
    return;

  account = g_object_get_data (G_OBJECT (dialog), "account");
  store = fd_preferences_window_get_ready_store (self);
  if (account == NULL || store == NULL)
    return;

  fd_account_remove_async (store,
                           account,
                           self->cancellable,
                           fd_preferences_window_remove_cb,
                           account_op_new (self, fd_account_get_name (account)));
}

static void
fd_preferences_window_remove_row_cb (FdPreferencesWindow *self,
                                     FdAccountRow        *row)
{
  FdAccount *account;
  GtkWidget *dialog;
  g_autofree char *heading = NULL;

  account = fd_account_row_get_account (row);
  g_return_if_fail (FD_IS_ACCOUNT (account));

  heading = g_strdup_printf (_("Remove “%s”?"), fd_account_get_name (account));
  dialog = adw_message_dialog_new (GTK_WINDOW (self),
                                   heading,
                                   _("Its token is deleted from the keyring."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog),
                                              "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  g_object_set_data_full (G_OBJECT (dialog), "account",
                          g_object_ref (account), g_object_unref);
  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (fd_preferences_window_remove_response_cb),
                           self, G_CONNECT_SWAPPED);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
fd_preferences_window_sync_now_cb (FdPreferencesWindow *self,
                                   FdAccountRow        *row)
{
  FdSyncEngine *engine;

  if (self->app == NULL || (engine = fd_application_get_sync_engine (self->app)) == NULL)
    return;

  fd_sync_engine_sync_now (engine, fd_account_get_id (fd_account_row_get_account (row)));
}

static void
fd_preferences_window_retry_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(AccountOp) op = user_data;
  g_autoptr(GError) error = NULL;
  FdSyncEngine *engine;
  guint n_retried = 0;

  if (!_fd_sync_status_retry_failed_finish (FD_STORE (object), result, &n_retried, &error))
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      /* Translators: %s is an account's name, then why the actions could not be retried. */
      message = g_strdup_printf (_("The failed actions of “%s” could not be retried: %s"),
                                 op->name, error->message);
      fd_preferences_window_add_toast (op->self, message);
      return;
    }

  if (n_retried > 0 && op->self->app != NULL &&
      (engine = fd_application_get_sync_engine (op->self->app)) != NULL)
    fd_sync_engine_flush_outbox (engine);
}

static void
fd_preferences_window_retry_row_cb (FdPreferencesWindow *self,
                                    FdAccountRow        *row)
{
  FdAccount *account = fd_account_row_get_account (row);
  FdStore *store = fd_preferences_window_get_ready_store (self);

  if (store == NULL)
    return;

  _fd_sync_status_retry_failed_async (store,
                                      fd_account_get_id (account),
                                      self->cancellable,
                                      fd_preferences_window_retry_cb,
                                      account_op_new (self, fd_account_get_name (account)));
}

static GtkWidget *
fd_preferences_window_create_row (gpointer item,
                                  gpointer user_data)
{
  FdPreferencesWindow *self = user_data;
  FdAccount *account = item;
  FdAccountRow *row;

  row = fd_account_row_new (account);
  fd_account_row_set_state (row, _fd_sync_status_find (self->states, fd_account_get_id (account)));

  g_signal_connect_object (row, "sync-now",
                           G_CALLBACK (fd_preferences_window_sync_now_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (row, "retry",
                           G_CALLBACK (fd_preferences_window_retry_row_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (row, "remove",
                           G_CALLBACK (fd_preferences_window_remove_row_cb),
                           self, G_CONNECT_SWAPPED);

  return GTK_WIDGET (row);
}

/* The engine adds an account's state once it has read its secret, so a row may get
 * its state after it was made. */
static void
fd_preferences_window_update_states (FdPreferencesWindow *self)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->accounts_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      FdAccount *account;

      if (!FD_IS_ACCOUNT_ROW (child))
        continue;

      account = fd_account_row_get_account (FD_ACCOUNT_ROW (child));
      fd_account_row_set_state (FD_ACCOUNT_ROW (child),
                                _fd_sync_status_find (self->states, fd_account_get_id (account)));
    }
}

static void
fd_preferences_window_states_changed_cb (FdPreferencesWindow *self)
{
  fd_preferences_window_update_states (self);
}

static void
fd_preferences_window_set_states (FdPreferencesWindow *self,
                                  GListModel          *states)
{
  if (self->states == states)
    return;

  if (self->states != NULL)
    g_signal_handlers_disconnect_by_func (self->states,
                                          fd_preferences_window_states_changed_cb,
                                          self);
  g_set_object (&self->states, states);

  if (states != NULL)
    g_signal_connect_object (states, "items-changed",
                             G_CALLBACK (fd_preferences_window_states_changed_cb),
                             self, G_CONNECT_SWAPPED);

  fd_preferences_window_update_states (self);
}

static void
fd_preferences_window_sync_engine_changed_cb (FdPreferencesWindow *self)
{
  FdSyncEngine *engine = self->app != NULL ? fd_application_get_sync_engine (self->app) : NULL;

  fd_preferences_window_set_states (self, engine != NULL ? fd_sync_engine_get_accounts (engine) : NULL);
}

static gboolean
fd_preferences_window_refresh_cb (gpointer user_data)
{
  FdPreferencesWindow *self = user_data;

  /* "Synced 2 minutes ago" must not go stale while the window is open. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->accounts_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (FD_IS_ACCOUNT_ROW (child))
        fd_account_row_refresh (FD_ACCOUNT_ROW (child));
    }

  return G_SOURCE_CONTINUE;
}

static void
fd_preferences_window_reset_form (FdPreferencesWindow *self)
{
  FdAccountKind kind = fd_preferences_window_get_kind (self);
  const char *url = fd_account_kind_get_default_base_url (kind);

  gtk_editable_set_text (GTK_EDITABLE (self->name_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->secret_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->app_token_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->api_username_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->categories_row), "");
  g_free (self->prefilled_url);
  self->prefilled_url = g_strdup (url ? url : "");
  gtk_editable_set_text (GTK_EDITABLE (self->base_url_row), self->prefilled_url);
  fd_preferences_window_clear_form_errors (self);
}

static void
fd_preferences_window_save_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  g_autoptr(AccountOp) op = user_data;
  FdPreferencesWindow *self = op->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  if (!fd_account_save_finish (FD_STORE (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      self->saving = FALSE;
      fd_preferences_window_update_sensitivity (self);

      message = describe_save_error (error);
      fd_preferences_window_show_form_error (self, message);
      return;
    }

  self->saving = FALSE;
  fd_preferences_window_update_sensitivity (self);
  fd_preferences_window_reset_form (self);

  message = g_strdup_printf (_("Connected “%s”"), op->name);
  fd_preferences_window_add_toast (self, message);

  if (self->app != NULL)
    fd_application_accounts_changed (self->app);
}

static void
fd_preferences_window_connect (FdPreferencesWindow *self)
{
  g_autoptr(FdAccount) account = NULL;
  g_autoptr(GError) url_error = NULL;
  g_autoptr(GString) errors = NULL;
  g_autofree char *name = NULL;
  g_autofree char *base_url = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *app_token = NULL;
  g_autofree char *api_username = NULL;
  g_autofree char *categories = NULL;
  GtkWidget *first_invalid = NULL;
  FdAccountKind kind;
  FdStore *store;

  g_assert (FD_IS_PREFERENCES_WINDOW (self));

  store = fd_preferences_window_get_ready_store (self);
  if (store == NULL || self->saving)
    return;

  fd_preferences_window_clear_form_errors (self);

  kind = fd_preferences_window_get_kind (self);
  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  base_url = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->base_url_row))));
  secret = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->secret_row))));
  app_token = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->app_token_row))));
  api_username = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->api_username_row))));
  categories = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->categories_row))));
  errors = g_string_new (NULL);

  if (name[0] == '\0')
    {
      g_string_append_printf (errors, "%s\n",
                              _("Give the account a name, for example “Acme Intercom”."));
      gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
      first_invalid = first_invalid ? first_invalid : GTK_WIDGET (self->name_row);
    }

  if (!fd_account_validate_base_url (base_url, &url_error))
    {
      g_string_append_printf (errors, "%s\n", url_error->message);
      gtk_widget_add_css_class (GTK_WIDGET (self->base_url_row), "error");
      first_invalid = first_invalid ? first_invalid : GTK_WIDGET (self->base_url_row);
    }

  if (secret[0] == '\0')
    {
      /* Translators: %s is a service, e.g. "Stripe". */
      g_string_append_printf (errors, _("Paste the token or key that %s gave you."),
                              fd_account_kind_get_display_name (kind));
      g_string_append_c (errors, '\n');
      gtk_widget_add_css_class (GTK_WIDGET (self->secret_row), "error");
      first_invalid = first_invalid ? first_invalid : GTK_WIDGET (self->secret_row);
    }
  else if (kind == FD_ACCOUNT_KIND_SLACK && strpbrk (secret, " \t\n") != NULL)
    {
      /* The two Slack tokens are kept as one secret, separated by a space. */
      g_string_append_printf (errors, "%s\n",
                              _("A Slack bot token has no spaces. Paste only the token that starts with “xoxb-”."));
      gtk_widget_add_css_class (GTK_WIDGET (self->secret_row), "error");
      first_invalid = first_invalid ? first_invalid : GTK_WIDGET (self->secret_row);
    }

  if (kind == FD_ACCOUNT_KIND_SLACK && app_token[0] != '\0' &&
      (!g_str_has_prefix (app_token, "xapp-") || strpbrk (app_token, " \t\n") != NULL))
    {
      g_string_append_printf (errors, "%s\n",
                              _("An app-level token starts with “xapp-”. Create one in your Slack app’s "
                                "settings under Basic Information → App-Level Tokens, or leave the field empty."));
      gtk_widget_add_css_class (GTK_WIDGET (self->app_token_row), "error");
      first_invalid = first_invalid ? first_invalid : GTK_WIDGET (self->app_token_row);
    }

  if (kind == FD_ACCOUNT_KIND_DISCOURSE &&
      strspn (categories, "0123456789, ") != strlen (categories))
    {
      g_string_append_printf (errors, "%s\n",
                              _("Categories are given by their numbers, separated by commas, for "
                                "example “4, 7”. Leave the field empty to sync all categories."));
      gtk_widget_add_css_class (GTK_WIDGET (self->categories_row), "error");
      first_invalid = first_invalid ? first_invalid : GTK_WIDGET (self->categories_row);
    }

  if (first_invalid != NULL)
    {
      g_strchomp (errors->str);
      fd_preferences_window_show_form_error (self, errors->str);
      gtk_widget_grab_focus (first_invalid);
      return;
    }

  account = fd_account_new (kind, name, base_url);

  if (kind == FD_ACCOUNT_KIND_DISCOURSE)
    {
      /* "4,7 ," is kept as "4, 7"; nothing chosen means all categories. */
      g_auto(GStrv) ids = g_strsplit_set (categories, ", ", -1);
      g_autoptr(GString) chosen = g_string_new (NULL);

      for (guint i = 0; ids[i] != NULL; i++)
        if (ids[i][0] != '\0')
          g_string_append_printf (chosen, "%s%s", chosen->len > 0 ? ", " : "", ids[i]);

      fd_account_set_setting (account, "api_username", api_username[0] != '\0' ? api_username : NULL);
      fd_account_set_setting (account, "categories", chosen->len > 0 ? chosen->str : NULL);
    }

  if (kind == FD_ACCOUNT_KIND_SLACK && app_token[0] != '\0')
    {
      char *joined = g_strconcat (secret, " ", app_token, NULL);

      memset (secret, 0, strlen (secret));
      g_free (secret);
      secret = joined;
    }
  memset (app_token, 0, strlen (app_token));

  self->saving = TRUE;
  fd_preferences_window_update_sensitivity (self);

  fd_account_save_async (store,
                         account,
                         secret,
                         self->cancellable,
                         fd_preferences_window_save_cb,
                         account_op_new (self, name));

  /* The secret now only lives in the keyring request; wipe our copy. */
  memset (secret, 0, strlen (secret));
}

static void
connect_button_clicked_cb (FdPreferencesWindow *self)
{
  fd_preferences_window_connect (self);
}

static void
entry_row_activated_cb (FdPreferencesWindow *self)
{
  fd_preferences_window_connect (self);
}

static void
entry_row_changed_cb (FdPreferencesWindow *self,
                      GtkEditable         *row)
{
  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
}

static void
kind_row_notify_selected_cb (FdPreferencesWindow *self)
{
  FdAccountKind kind = fd_preferences_window_get_kind (self);
  const char *url = fd_account_kind_get_default_base_url (kind);
  const char *current;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->secret_row),
                                 fd_account_kind_get_secret_label (kind));

  /* Only Slack has a second, optional token: Socket Mode's, for live messages. */
  gtk_widget_set_visible (GTK_WIDGET (self->app_token_row), kind == FD_ACCOUNT_KIND_SLACK);
  gtk_widget_set_visible (self->app_token_caption, kind == FD_ACCOUNT_KIND_SLACK);
  if (kind != FD_ACCOUNT_KIND_SLACK)
    gtk_editable_set_text (GTK_EDITABLE (self->app_token_row), "");

  /* Discourse asks which forum user replies and which categories to sync. */
  gtk_widget_set_visible (GTK_WIDGET (self->api_username_row), kind == FD_ACCOUNT_KIND_DISCOURSE);
  gtk_widget_set_visible (GTK_WIDGET (self->categories_row), kind == FD_ACCOUNT_KIND_DISCOURSE);
  gtk_widget_set_visible (self->discourse_caption, kind == FD_ACCOUNT_KIND_DISCOURSE);
  if (kind != FD_ACCOUNT_KIND_DISCOURSE)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->api_username_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->categories_row), "");
    }

  current = gtk_editable_get_text (GTK_EDITABLE (self->base_url_row));
  if (current[0] == '\0' || g_strcmp0 (current, self->prefilled_url) == 0)
    {
      g_free (self->prefilled_url);
      self->prefilled_url = g_strdup (url ? url : "");
      gtk_editable_set_text (GTK_EDITABLE (self->base_url_row), self->prefilled_url);
    }
}

static void
fd_preferences_window_store_state_cb (FdPreferencesWindow *self)
{
  fd_preferences_window_reload (self);
}

static void
fd_preferences_window_notify_application_cb (FdPreferencesWindow *self,
                                             GParamSpec          *pspec,
                                             gpointer             user_data)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if ((gpointer)app == (gpointer)self->app)
    return;

  if (self->app != NULL)
    g_signal_handlers_disconnect_by_data (self->app, self);
  g_clear_weak_pointer (&self->app);

  if (!FD_IS_APPLICATION (app))
    {
      fd_preferences_window_set_states (self, NULL);
      return;
    }

  g_set_weak_pointer (&self->app, FD_APPLICATION (app));
  g_signal_connect_swapped (self->app, "notify::store-ready",
                            G_CALLBACK (fd_preferences_window_store_state_cb), self);
  g_signal_connect_swapped (self->app, "notify::store-error",
                            G_CALLBACK (fd_preferences_window_store_state_cb), self);
  g_signal_connect_swapped (self->app, "accounts-changed",
                            G_CALLBACK (fd_preferences_window_store_state_cb), self);
  g_signal_connect_swapped (self->app, "notify::sync-engine",
                            G_CALLBACK (fd_preferences_window_sync_engine_changed_cb), self);

  fd_preferences_window_sync_engine_changed_cb (self);
  fd_preferences_window_reload (self);
}

static GtkStack *
fd_preferences_window_create_placeholder (void)
{
  GtkWidget *stack;
  GtkWidget *spinner;
  GtkWidget *box;
  GtkWidget *label;

  stack = g_object_new (GTK_TYPE_STACK,
                        "vhomogeneous", FALSE,
                        NULL);

  spinner = g_object_new (GTK_TYPE_SPINNER,
                          "spinning", TRUE,
                          "halign", GTK_ALIGN_CENTER,
                          "margin-top", 18,
                          "margin-bottom", 18,
                          "tooltip-text", _("Loading accounts…"),
                          NULL);
  gtk_stack_add_named (GTK_STACK (stack), spinner, "loading");

  box = g_object_new (GTK_TYPE_BOX,
                      "orientation", GTK_ORIENTATION_VERTICAL,
                      "spacing", 6,
                      "margin-top", 24,
                      "margin-bottom", 24,
                      "margin-start", 12,
                      "margin-end", 12,
                      NULL);
  gtk_box_append (GTK_BOX (box),
                  g_object_new (GTK_TYPE_IMAGE,
                                "icon-name", "system-users-symbolic",
                                "pixel-size", 32,
                                "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                "css-classes", (const char *[]) { "dim-label", NULL },
                                NULL));
  label = g_object_new (GTK_TYPE_LABEL,
                        "label", _("No accounts connected yet"),
                        "wrap", TRUE,
                        "justify", GTK_JUSTIFY_CENTER,
                        "css-classes", (const char *[]) { "heading", NULL },
                        NULL);
  gtk_box_append (GTK_BOX (box), label);
  label = g_object_new (GTK_TYPE_LABEL,
                        "label", _("Add one below to bring in its conversations."),
                        "wrap", TRUE,
                        "justify", GTK_JUSTIFY_CENTER,
                        "css-classes", (const char *[]) { "dim-label", NULL },
                        NULL);
  gtk_box_append (GTK_BOX (box), label);
  gtk_stack_add_named (GTK_STACK (stack), box, "empty");

  gtk_stack_set_visible_child_name (GTK_STACK (stack), "loading");

  return GTK_STACK (stack);
}

static void
fd_preferences_window_dispose (GObject *object)
{
  FdPreferencesWindow *self = (FdPreferencesWindow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);

  if (self->app != NULL)
    g_signal_handlers_disconnect_by_data (self->app, self);
  g_clear_weak_pointer (&self->app);

  if (self->states != NULL)
    g_signal_handlers_disconnect_by_func (self->states,
                                          fd_preferences_window_states_changed_cb,
                                          self);
  g_clear_object (&self->states);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (fd_preferences_window_parent_class)->dispose (object);
}

static void
fd_preferences_window_finalize (GObject *object)
{
  FdPreferencesWindow *self = (FdPreferencesWindow *)object;

  g_clear_object (&self->cancellable);
  g_clear_object (&self->accounts);
  g_clear_pointer (&self->prefilled_url, g_free);

  G_OBJECT_CLASS (fd_preferences_window_parent_class)->finalize (object);
}

static void
fd_preferences_window_class_init (FdPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_preferences_window_dispose;
  object_class->finalize = fd_preferences_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/app/fd-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, store_error_box);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, store_error_label);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, kind_row);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, name_row);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, base_url_row);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, secret_row);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, app_token_row);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, app_token_caption);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, api_username_row);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, categories_row);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, discourse_caption);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, form_error_box);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, form_error_label);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, connect_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, connect_button);
  gtk_widget_class_bind_template_child (widget_class, FdPreferencesWindow, sla_page);
  gtk_widget_class_bind_template_callback (widget_class, connect_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_row_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, kind_row_notify_selected_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);

  g_type_ensure (FD_TYPE_ACCOUNT_ROW);
  g_type_ensure (FD_TYPE_SLA_PAGE);
}

static void
fd_preferences_window_init (FdPreferencesWindow *self)
{
  g_autoptr(GtkStringList) kinds = NULL;

  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  self->placeholder = fd_preferences_window_create_placeholder ();
  gtk_list_box_set_placeholder (self->accounts_list, GTK_WIDGET (self->placeholder));

  kinds = gtk_string_list_new (NULL);
  for (guint i = 0; i < FD_ACCOUNT_N_KINDS; i++)
    gtk_string_list_append (kinds, fd_account_kind_get_display_name ((FdAccountKind) i));
  adw_combo_row_set_model (self->kind_row, G_LIST_MODEL (kinds));
  adw_combo_row_set_selected (self->kind_row, FD_ACCOUNT_KIND_INTERCOM);
  /* Setting the same index does not notify; fill the service's fields once. */
  kind_row_notify_selected_cb (self);

  self->refresh_source = g_timeout_add_seconds (FD_SYNC_STATUS_REFRESH_SECONDS,
                                                fd_preferences_window_refresh_cb,
                                                self);

  g_signal_connect (self, "notify::application",
                    G_CALLBACK (fd_preferences_window_notify_application_cb), NULL);
}

FdPreferencesWindow *
fd_preferences_window_new (FdApplication *application)
{
  g_return_val_if_fail (FD_IS_APPLICATION (application), NULL);

  return g_object_new (FD_TYPE_PREFERENCES_WINDOW,
                       "application", application,
                       NULL);
}
