/* fd-window.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-window"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-account.h"
#include "fd-sync-foot.h"
#include "fd-sync-status.h"
#include "fd-window-private.h"

struct _FdWindow
{
  AdwApplicationWindow  parent_instance;

  FdApplication        *app;
  GSettings            *settings;
  GCancellable         *counts_cancellable;
  GCancellable         *accounts_cancellable;
  char                 *area;
  gint64                open_count;
  guint                 spinner_source;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  AdwWindowTitle       *sidebar_title;
  GtkMenuButton        *primary_menu_button;
  GtkListBox           *sidebar_list;
  GtkListBoxRow        *inbox_row;
  GtkSpinner           *inbox_spinner;
  GtkLabel             *inbox_count_label;
  FdSyncFoot           *sync_foot;
  GtkWidget            *sync_summary;
  GtkImage             *sync_icon;
  GtkLabel             *sync_label;
  GtkButton            *sync_button;
  AdwWindowTitle       *content_title;
  GtkWidget            *store_error_box;
  GtkLabel             *store_error_title;
  GtkLabel             *store_error_label;
  GtkStack             *content_stack;
};

G_DEFINE_FINAL_TYPE (FdWindow, fd_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_AREA,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* In sidebar order: the row at index i shows areas[i]. */
static const char * const areas[] = {
  FD_AREA_INBOX,
  FD_AREA_CUSTOMERS,
  FD_AREA_BILLING,
  FD_AREA_DOCS,
  FD_AREA_INSIGHTS,
};

/* A spinner appears only when counting takes longer than this, so a fast store does
 * not make the sidebar flicker. */
#define SPINNER_DELAY_MS 300

static int
fd_window_area_index (const char *name)
{
  if (name == NULL)
    return -1;

  for (guint i = 0; i < G_N_ELEMENTS (areas); i++)
    {
      if (g_str_equal (areas[i], name))
        return i;
    }

  return -1;
}

gboolean
fd_window_area_is_valid (const char *name)
{
  return fd_window_area_index (name) >= 0;
}

static GSettings *
fd_window_create_settings (void)
{
  static gboolean warned;
  GSettingsSchemaSource *source;
  g_autoptr(GSettingsSchema) schema = NULL;

  /* Running from the build directory without GSETTINGS_SCHEMA_DIR must not abort;
   * the window then simply forgets its size. */
  source = g_settings_schema_source_get_default ();
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);

  if (schema == NULL)
    {
      if (!warned)
        g_warning ("The settings schema %s is not installed; the window will not remember its state", APP_ID);
      warned = TRUE;
      return NULL;
    }

  return g_settings_new_full (schema, NULL, NULL);
}

static void
fd_window_save_state (FdWindow *self)
{
  gboolean maximized;

  g_assert (FD_IS_WINDOW (self));

  if (self->settings == NULL)
    return;

  maximized = gtk_window_is_maximized (GTK_WINDOW (self));

  if (!maximized)
    {
      int width;
      int height;

      gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }

  g_settings_set_boolean (self->settings, "window-maximized", maximized);
}

static void
fd_window_set_area_internal (FdWindow   *self,
                             const char *area)
{
  GtkWidget *page_child;
  GtkListBoxRow *row;
  int index;

  g_assert (FD_IS_WINDOW (self));

  index = fd_window_area_index (area);
  g_return_if_fail (index >= 0);

  if (g_strcmp0 (self->area, area) == 0)
    return;

  g_free (self->area);
  self->area = g_strdup (area);

  gtk_stack_set_visible_child_name (self->content_stack, area);

  page_child = gtk_stack_get_child_by_name (self->content_stack, area);
  adw_window_title_set_title (self->content_title,
                              gtk_stack_page_get_title (gtk_stack_get_page (self->content_stack,
                                                                            page_child)));

  row = gtk_list_box_get_row_at_index (self->sidebar_list, index);
  if (gtk_list_box_get_selected_row (self->sidebar_list) != row)
    gtk_list_box_select_row (self->sidebar_list, row);

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-area", area);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AREA]);
}

/* Counting runs on the store's worker thread: the main thread never touches SQLite. */
static gboolean
fd_window_count_open_job (sqlite3   *db,
                          gpointer   job_data,
                          gpointer  *result,
                          GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 *count;
  int rc;

  stmt = fd_store_prepare (db, "SELECT COUNT(*) FROM conversations WHERE status = 'open'", error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      fd_store_set_error (db, rc, error);
      return FALSE;
    }

  count = g_new (gint64, 1);
  *count = sqlite3_column_int64 (stmt, 0);
  *result = count;

  return TRUE;
}

static void
fd_window_set_open_count (FdWindow *self,
                          gint64    count)
{
  g_assert (FD_IS_WINDOW (self));

  self->open_count = count;

  g_clear_handle_id (&self->spinner_source, g_source_remove);
  gtk_spinner_stop (self->inbox_spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->inbox_spinner), FALSE);

  if (count > 0)
    {
      /* With the locale's thousands separator: "5,000". */
      g_autofree char *text = g_strdup_printf ("%'" G_GINT64_FORMAT, count);
      g_autofree char *description = NULL;

      /* Translators: %s is a number of conversations, already formatted. */
      description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                  "%s open conversation",
                                                  "%s open conversations",
                                                  count),
                                     text);
      gtk_label_set_label (self->inbox_count_label, text);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->inbox_count_label), description);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->inbox_row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                      -1);
      gtk_widget_set_visible (GTK_WIDGET (self->inbox_count_label), TRUE);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->inbox_count_label), FALSE);
      gtk_accessible_reset_property (GTK_ACCESSIBLE (self->inbox_row),
                                     GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
    }
}

static void
fd_window_count_open_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(FdWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *count = NULL;

  count = fd_store_run_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (count == NULL)
    {
      /* The count is a convenience: an error here is logged, and the area that
       * reads the same table reports it where it blocks something. */
      g_warning ("Could not count open conversations: %s",
                 error ? error->message : "no result");
      fd_window_set_open_count (self, -1);
      return;
    }

  fd_window_set_open_count (self, *count);
}

static gboolean
fd_window_show_spinner_cb (gpointer user_data)
{
  FdWindow *self = user_data;

  self->spinner_source = 0;

  gtk_widget_set_visible (GTK_WIDGET (self->inbox_count_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->inbox_spinner), TRUE);
  gtk_spinner_start (self->inbox_spinner);

  return G_SOURCE_REMOVE;
}

void
_fd_window_reload_counts (FdWindow *self)
{
  FdStore *store;

  g_return_if_fail (FD_IS_WINDOW (self));

  if (self->app == NULL ||
      !fd_application_get_store_ready (self->app) ||
      (store = fd_application_get_store (self->app)) == NULL)
    return;

  g_cancellable_cancel (self->counts_cancellable);
  g_clear_object (&self->counts_cancellable);
  self->counts_cancellable = g_cancellable_new ();

  if (self->spinner_source == 0 && self->open_count < 0)
    self->spinner_source = g_timeout_add (SPINNER_DELAY_MS, fd_window_show_spinner_cb, self);

  fd_store_run_async (store,
                      fd_window_count_open_job,
                      NULL, NULL,
                      g_free,
                      self->counts_cancellable,
                      fd_window_count_open_cb,
                      g_object_ref (self));
}

static void
fd_window_update_sync_foot (FdWindow   *self,
                            GListModel *accounts)
{
  int n_accounts = -1;
  guint n_syncing = 0;

  g_assert (FD_IS_WINDOW (self));

  if (accounts != NULL)
    {
      n_accounts = g_list_model_get_n_items (accounts);

      for (int i = 0; i < n_accounts; i++)
        {
          g_autoptr(FdAccount) account = g_list_model_get_item (accounts, i);

          if (_fd_sync_status_kind_syncs (fd_account_get_kind (account)))
            n_syncing++;
        }
    }

  /* Accounts that sync conversations get a line each with their sync state; the
   * summary below stays for no accounts, or only billing and bug-tracking ones. */
  fd_sync_foot_set_accounts (self->sync_foot, accounts);
  gtk_widget_set_visible (GTK_WIDGET (self->sync_foot), n_syncing > 0);
  gtk_widget_set_visible (self->sync_summary, n_syncing == 0);

  if (n_syncing > 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->sync_button), FALSE);
    }
  else if (n_accounts < 0)
    {
      gtk_image_set_from_icon_name (self->sync_icon, "dialog-warning-symbolic");
      gtk_label_set_label (self->sync_label, _("Accounts are unavailable"));
      gtk_widget_set_visible (GTK_WIDGET (self->sync_button), FALSE);
    }
  else if (n_accounts == 0)
    {
      gtk_image_set_from_icon_name (self->sync_icon, "network-offline-symbolic");
      gtk_label_set_label (self->sync_label, _("No accounts connected"));
      gtk_button_set_label (self->sync_button, _("Connect an Account"));
      gtk_widget_set_visible (GTK_WIDGET (self->sync_button), TRUE);
    }
  else
    {
      g_autofree char *label = NULL;

      label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                            "%d account connected",
                                            "%d accounts connected",
                                            n_accounts),
                               n_accounts);
      gtk_image_set_from_icon_name (self->sync_icon, "network-idle-symbolic");
      gtk_label_set_label (self->sync_label, label);
      gtk_button_set_label (self->sync_button, _("Manage Accounts"));
      gtk_widget_set_visible (GTK_WIDGET (self->sync_button), TRUE);
    }
}

static void
fd_window_list_accounts_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(FdWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListStore) accounts = NULL;

  accounts = fd_account_list_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (accounts == NULL)
    {
      g_warning ("Could not list accounts: %s", error ? error->message : "no result");
      fd_window_update_sync_foot (self, NULL);
      return;
    }

  fd_window_update_sync_foot (self, G_LIST_MODEL (accounts));
}

static void
fd_window_reload_accounts (FdWindow *self)
{
  FdStore *store;

  g_assert (FD_IS_WINDOW (self));

  if (self->app == NULL ||
      !fd_application_get_store_ready (self->app) ||
      (store = fd_application_get_store (self->app)) == NULL)
    return;

  g_cancellable_cancel (self->accounts_cancellable);
  g_clear_object (&self->accounts_cancellable);
  self->accounts_cancellable = g_cancellable_new ();

  fd_account_list_async (store,
                         self->accounts_cancellable,
                         fd_window_list_accounts_cb,
                         g_object_ref (self));
}

static void
fd_window_update_store_state (FdWindow *self)
{
  const GError *error;

  g_assert (FD_IS_WINDOW (self));

  if (self->app == NULL)
    return;

  error = fd_application_get_store_error (self->app);
  if (error != NULL)
    {
      gtk_label_set_label (self->store_error_title, _("Frontdesk could not open your data"));
      gtk_label_set_label (self->store_error_label, error->message);
      gtk_widget_set_visible (self->store_error_box, TRUE);
      fd_window_set_open_count (self, -1);
      fd_window_update_sync_foot (self, NULL);
      return;
    }

  /* The demo's server or accounts failing blocks the demo's conversations, not the
   * window: the rest stays usable. */
  error = fd_application_get_demo_error (self->app);
  if (error != NULL)
    {
      gtk_label_set_label (self->store_error_title, _("The demo could not connect"));
      gtk_label_set_label (self->store_error_label, error->message);
      gtk_widget_set_visible (self->store_error_box, TRUE);
    }
  else
    {
      gtk_widget_set_visible (self->store_error_box, FALSE);
    }

  if (fd_application_get_store_ready (self->app))
    {
      _fd_window_reload_counts (self);
      fd_window_reload_accounts (self);
    }
  else if (self->spinner_source == 0 && self->open_count < 0)
    {
      self->spinner_source = g_timeout_add (SPINNER_DELAY_MS, fd_window_show_spinner_cb, self);
    }
}

static void
fd_window_store_state_changed_cb (FdWindow   *self,
                                  GParamSpec *pspec,
                                  gpointer    user_data)
{
  fd_window_update_store_state (self);
}

static void
fd_window_accounts_changed_cb (FdWindow      *self,
                               FdApplication *app)
{
  fd_window_reload_accounts (self);
}

static void
fd_window_update_sync_engine (FdWindow *self)
{
  FdSyncEngine *engine;

  g_assert (FD_IS_WINDOW (self));

  engine = self->app != NULL ? fd_application_get_sync_engine (self->app) : NULL;
  fd_sync_foot_set_states (self->sync_foot,
                           engine != NULL ? fd_sync_engine_get_accounts (engine) : NULL);
}

static void
fd_window_sync_engine_changed_cb (FdWindow   *self,
                                  GParamSpec *pspec,
                                  gpointer    user_data)
{
  fd_window_update_sync_engine (self);
}

static void
sync_foot_sync_finished_cb (FdWindow *self)
{
  /* New conversations may have arrived. */
  _fd_window_reload_counts (self);
}

static void
fd_window_notify_application_cb (FdWindow   *self,
                                 GParamSpec *pspec,
                                 gpointer    user_data)
{
  GtkApplication *app;

  app = gtk_window_get_application (GTK_WINDOW (self));
  if ((gpointer)app == (gpointer)self->app)
    return;

  if (self->app != NULL)
    g_signal_handlers_disconnect_by_data (self->app, self);
  g_clear_weak_pointer (&self->app);

  if (!FD_IS_APPLICATION (app))
    {
      fd_window_update_sync_engine (self);
      return;
    }

  g_set_weak_pointer (&self->app, FD_APPLICATION (app));

  if (fd_application_get_demo (self->app))
    {
      adw_window_title_set_subtitle (self->sidebar_title, _("Demo workspace"));
      gtk_window_set_title (GTK_WINDOW (self), _("Frontdesk — Demo workspace"));
    }

  g_signal_connect_swapped (self->app, "notify::store-ready",
                            G_CALLBACK (fd_window_store_state_changed_cb), self);
  g_signal_connect_swapped (self->app, "notify::store-error",
                            G_CALLBACK (fd_window_store_state_changed_cb), self);
  g_signal_connect_swapped (self->app, "notify::demo-error",
                            G_CALLBACK (fd_window_store_state_changed_cb), self);
  g_signal_connect_swapped (self->app, "notify::sync-engine",
                            G_CALLBACK (fd_window_sync_engine_changed_cb), self);
  g_signal_connect_swapped (self->app, "accounts-changed",
                            G_CALLBACK (fd_window_accounts_changed_cb), self);

  fd_window_update_sync_engine (self);
  fd_window_update_store_state (self);
}

static void
sidebar_row_activated_cb (FdWindow      *self,
                          GtkListBoxRow *row)
{
  int index;

  g_assert (FD_IS_WINDOW (self));

  index = gtk_list_box_row_get_index (row);
  g_return_if_fail (index >= 0 && index < (int) G_N_ELEMENTS (areas));

  fd_window_show_area (self, areas[index]);
}

static void
back_button_clicked_cb (FdWindow *self)
{
  g_assert (FD_IS_WINDOW (self));

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
  gtk_widget_grab_focus (GTK_WIDGET (self->sidebar_list));
}

static void
fd_window_show_area_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  FdWindow *self = FD_WINDOW (widget);
  const char *area = g_variant_get_string (parameter, NULL);

  if (!fd_window_area_is_valid (area))
    {
      g_warning ("There is no area called “%s”", area);
      return;
    }

  fd_window_show_area (self, area);
}

static gboolean
fd_window_close_request (GtkWindow *window)
{
  fd_window_save_state (FD_WINDOW (window));

  return GTK_WINDOW_CLASS (fd_window_parent_class)->close_request (window);
}

static void
fd_window_dispose (GObject *object)
{
  FdWindow *self = (FdWindow *)object;

  g_cancellable_cancel (self->counts_cancellable);
  g_cancellable_cancel (self->accounts_cancellable);
  g_clear_handle_id (&self->spinner_source, g_source_remove);

  if (self->app != NULL)
    g_signal_handlers_disconnect_by_data (self->app, self);
  g_clear_weak_pointer (&self->app);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_WINDOW);

  G_OBJECT_CLASS (fd_window_parent_class)->dispose (object);
}

static void
fd_window_finalize (GObject *object)
{
  FdWindow *self = (FdWindow *)object;

  g_clear_object (&self->counts_cancellable);
  g_clear_object (&self->accounts_cancellable);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->area, g_free);

  G_OBJECT_CLASS (fd_window_parent_class)->finalize (object);
}

static void
fd_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  FdWindow *self = FD_WINDOW (object);

  switch (prop_id)
    {
    case PROP_AREA:
      g_value_set_string (value, fd_window_get_area (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  FdWindow *self = FD_WINDOW (object);

  switch (prop_id)
    {
    case PROP_AREA:
      fd_window_show_area (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_window_class_init (FdWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = fd_window_dispose;
  object_class->finalize = fd_window_finalize;
  object_class->get_property = fd_window_get_property;
  object_class->set_property = fd_window_set_property;

  window_class->close_request = fd_window_close_request;

  /**
   * FdWindow:area:
   *
   * The area shown, one of the FD_AREA_* names.
   */
  properties[PROP_AREA] =
    g_param_spec_string ("area", NULL, NULL,
                         FD_AREA_INBOX,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/app/fd-window.ui");
  gtk_widget_class_bind_template_child (widget_class, FdWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sidebar_title);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sidebar_list);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, inbox_row);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, inbox_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, inbox_count_label);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_foot);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_summary);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_icon);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_label);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_button);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, content_title);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, store_error_box);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, store_error_title);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, store_error_label);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, content_stack);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, back_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, sync_foot_sync_finished_cb);

  gtk_widget_class_install_action (widget_class, "win.show-area", "s", fd_window_show_area_action);

  for (guint i = 0; i < G_N_ELEMENTS (areas); i++)
    gtk_widget_class_add_binding_action (widget_class,
                                         GDK_KEY_1 + i, GDK_CONTROL_MASK,
                                         "win.show-area", "s", areas[i]);
  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_w, GDK_CONTROL_MASK,
                                       "window.close", NULL);

  g_type_ensure (FD_TYPE_SYNC_FOOT);
}

static void
fd_window_init (FdWindow *self)
{
  g_autofree char *last_area = NULL;

  self->open_count = -1;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = fd_window_create_settings ();

  if (self->settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      last_area = g_settings_get_string (self->settings, "last-area");
    }
  else
    {
      gtk_window_set_default_size (GTK_WINDOW (self), 1100, 720);
    }

  /* Restoring the last area does not navigate: a narrow window opens on the sidebar. */
  fd_window_set_area_internal (self, fd_window_area_is_valid (last_area) ? last_area : FD_AREA_INBOX);

  g_signal_connect (self, "notify::application",
                    G_CALLBACK (fd_window_notify_application_cb), NULL);
}

FdWindow *
fd_window_new (FdApplication *application)
{
  g_return_val_if_fail (FD_IS_APPLICATION (application), NULL);

  return g_object_new (FD_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

const char *
fd_window_get_area (FdWindow *self)
{
  g_return_val_if_fail (FD_IS_WINDOW (self), NULL);

  return self->area;
}

/**
 * fd_window_show_area:
 * @self: a #FdWindow
 * @area: one of the FD_AREA_* names
 *
 * Shows @area; in a narrow window this also leaves the sidebar for the area.
 */
void
fd_window_show_area (FdWindow   *self,
                     const char *area)
{
  g_return_if_fail (FD_IS_WINDOW (self));
  g_return_if_fail (fd_window_area_is_valid (area));

  fd_window_set_area_internal (self, area);
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
}

void
fd_window_add_toast (FdWindow   *self,
                     const char *title,
                     const char *undo_action)
{
  g_autofree char *escaped = NULL;
  AdwToast *toast;

  g_return_if_fail (FD_IS_WINDOW (self));
  g_return_if_fail (title != NULL);

  /* AdwToast 1.2 always parses its title as markup; callers pass plain text. */
  escaped = g_markup_escape_text (title, -1);
  toast = adw_toast_new (escaped);

  if (undo_action != NULL)
    {
      adw_toast_set_button_label (toast, _("_Undo"));
      adw_toast_set_detailed_action_name (toast, undo_action);
    }

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

gint64
_fd_window_get_open_count (FdWindow *self)
{
  g_return_val_if_fail (FD_IS_WINDOW (self), -1);

  return self->open_count;
}

GtkStack *
_fd_window_get_content_stack (FdWindow *self)
{
  g_return_val_if_fail (FD_IS_WINDOW (self), NULL);

  return self->content_stack;
}

FdSyncFoot *
_fd_window_get_sync_foot (FdWindow *self)
{
  g_return_val_if_fail (FD_IS_WINDOW (self), NULL);

  return self->sync_foot;
}
