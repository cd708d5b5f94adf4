/* fd-window.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-window"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fd-account.h"
#include "fd-billing-page.h"
#include "fd-command-palette.h"
#include "fd-inbox-page.h"
#include "fd-macro.h"
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

  /* The Inbox's views and saved searches in the sidebar, with their counts. */
  GtkListBoxRow        *view_rows[FD_INBOX_N_VIEWS];
  GtkLabel             *view_count_labels[FD_INBOX_N_VIEWS];
  GListStore           *saved_searches;
  GPtrArray            *saved_rows;
  gint64                restore_saved_id;
  gboolean              counting;
  gboolean              count_again;
  GSimpleActionGroup   *inbox_actions;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  AdwWindowTitle       *sidebar_title;
  GtkMenuButton        *primary_menu_button;
  GtkListBox           *sidebar_list;
  GtkListBoxRow        *inbox_row;
  GtkSpinner           *inbox_spinner;
  FdSyncFoot           *sync_foot;
  GtkWidget            *sync_summary;
  GtkImage             *sync_icon;
  GtkLabel             *sync_label;
  GtkButton            *sync_button;
  GtkWidget            *content_header;
  AdwWindowTitle       *content_title;
  GtkWidget            *store_error_box;
  GtkLabel             *store_error_title;
  GtkLabel             *store_error_label;
  GtkStack             *content_stack;
  FdInboxPage          *inbox_page;
  FdBillingPage        *billing_page;
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

static gboolean
fd_window_settings_has_key (FdWindow   *self,
                            const char *key)
{
  g_autoptr(GSettingsSchema) schema = NULL;

  if (self->settings == NULL)
    return FALSE;

  g_object_get (self->settings, "settings-schema", &schema, NULL);

  return schema != NULL && g_settings_schema_has_key (schema, key);
}

static GtkListBoxRow *
fd_window_find_area_row (FdWindow   *self,
                         const char *area)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->sidebar_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (g_strcmp0 (g_object_get_data (G_OBJECT (child), "fd-area"), area) == 0)
        return GTK_LIST_BOX_ROW (child);
    }

  return NULL;
}

static GtkListBoxRow *
fd_window_find_saved_row (FdWindow *self,
                          gint64    id)
{
  for (guint i = 0; self->saved_rows != NULL && i < self->saved_rows->len; i++)
    {
      GtkListBoxRow *row = g_ptr_array_index (self->saved_rows, i);
      FdSavedSearch *search = g_object_get_data (G_OBJECT (row), "fd-saved-search");

      if (search != NULL && fd_saved_search_get_id (search) == id)
        return row;
    }

  return NULL;
}

/* In the Inbox the row of the view or saved search shown is selected, elsewhere the
 * area's row. */
static void
fd_window_select_sidebar_row (FdWindow *self)
{
  GtkListBoxRow *row = NULL;

  if (g_strcmp0 (self->area, FD_AREA_INBOX) == 0)
    {
      FdSavedSearch *search = fd_inbox_page_get_saved_search (self->inbox_page);

      if (search != NULL)
        row = fd_window_find_saved_row (self, fd_saved_search_get_id (search));
      if (row == NULL)
        row = self->view_rows[fd_inbox_page_get_view (self->inbox_page)];
    }
  else
    {
      row = fd_window_find_area_row (self, self->area);
    }

  if (row != NULL && gtk_list_box_get_selected_row (self->sidebar_list) != row)
    gtk_list_box_select_row (self->sidebar_list, row);
}

static void
fd_window_set_area_internal (FdWindow   *self,
                             const char *area)
{
  GtkWidget *page_child;
  int index;

  g_assert (FD_IS_WINDOW (self));

  index = fd_window_area_index (area);
  g_return_if_fail (index >= 0);

  if (g_strcmp0 (self->area, area) == 0)
    {
      fd_window_select_sidebar_row (self);
      return;
    }

  g_free (self->area);
  self->area = g_strdup (area);

  gtk_stack_set_visible_child_name (self->content_stack, area);

  page_child = gtk_stack_get_child_by_name (self->content_stack, area);
  adw_window_title_set_title (self->content_title,
                              gtk_stack_page_get_title (gtk_stack_get_page (self->content_stack,
                                                                            page_child)));

  /* The Inbox brings its own headers: one over the list, one over the conversation. */
  gtk_widget_set_visible (self->content_header, !g_str_equal (area, FD_AREA_INBOX));

  fd_window_select_sidebar_row (self);

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-area", area);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AREA]);
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
      g_autofree char *text = g_strdup_printf ("%'" G_GINT64_FORMAT, count);
      g_autofree char *description = NULL;

      /* Translators: %s is a number of conversations, already formatted. */
      description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                  "%s open conversation",
                                                  "%s open conversations",
                                                  count),
                                     text);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->inbox_row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                      -1);
    }
  else
    {
      gtk_accessible_reset_property (GTK_ACCESSIBLE (self->inbox_row),
                                     GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
    }
}

/* @capped: the count stops at @count ("1,000+"), as a saved search's does. */
static void
fd_window_set_count_label_full (GtkLabel  *label,
                                GtkWidget *row,
                                gint64     count,
                                gboolean   capped)
{
  if (count < 0)
    {
      gtk_label_set_label (label, "");
      gtk_widget_set_visible (GTK_WIDGET (label), FALSE);
      gtk_accessible_reset_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
      return;
    }
  else
    {
      /* With the locale's thousands separator: "5,000". */
      g_autofree char *number = g_strdup_printf ("%'" G_GINT64_FORMAT, count);
      g_autofree char *text = NULL;
      g_autofree char *description = NULL;

      if (capped)
        {
          /* Translators: a count that stopped at its limit, "1,000+". */
          text = g_strdup_printf (_("%s+"), number);
          /* Translators: %s is a number of conversations, already formatted; a search
           * is counted up to it. */
          description = g_strdup_printf (_("%s or more conversations"), number);
        }
      else
        {
          text = g_strdup (number);
          /* Translators: %s is a number of conversations, already formatted. */
          description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                      "%s conversation",
                                                      "%s conversations",
                                                      count),
                                         number);
        }
      gtk_label_set_label (label, text);
      gtk_widget_set_tooltip_text (GTK_WIDGET (label), description);
      gtk_widget_set_visible (GTK_WIDGET (label), TRUE);
      /* The number itself, for tests (stored + 1 so that 0 is "none"). */
      g_object_set_data (G_OBJECT (label), "fd-count", GSIZE_TO_POINTER ((gsize) count + 1));
      gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                      -1);
    }
}

static void
fd_window_set_count_label (GtkLabel  *label,
                           GtkWidget *row,
                           gint64     count)
{
  fd_window_set_count_label_full (label, row, count, FALSE);
}

static void fd_window_count (FdWindow *self);

static void
fd_window_count_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(FdWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdInboxCounts) counts = NULL;
  guint n_saved;

  counts = fd_inbox_count_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->counting = FALSE;

  if (counts == NULL)
    {
      /* The counts are a convenience: an error here is logged, and the list that
       * reads the same tables reports it where it blocks something. */
      g_debug ("Could not count conversations: %s", error ? error->message : "no result");
      fd_window_set_open_count (self, -1);
      for (guint i = 0; i < FD_INBOX_N_VIEWS; i++)
        fd_window_set_count_label (self->view_count_labels[i], GTK_WIDGET (self->view_rows[i]), -1);
    }
  else
    {
      fd_window_set_open_count (self, counts->views[FD_INBOX_VIEW_ALL_OPEN]);
      for (guint i = 0; i < FD_INBOX_N_VIEWS; i++)
        fd_window_set_count_label (self->view_count_labels[i], GTK_WIDGET (self->view_rows[i]),
                                   counts->views[i]);

      /* Saved searches are counted in list order; a list changed meanwhile is counted
       * again below. */
      n_saved = self->saved_rows != NULL ? self->saved_rows->len : 0;
      if (counts->saved != NULL && counts->saved->len == n_saved)
        {
          for (guint i = 0; i < n_saved; i++)
            {
              GtkWidget *row = g_ptr_array_index (self->saved_rows, i);

              gint64 count = g_array_index (counts->saved, gint64, i);

              fd_window_set_count_label_full (g_object_get_data (G_OBJECT (row), "fd-count-label"),
                                              row, count,
                                              count >= FD_INBOX_SAVED_SEARCH_COUNT_MAX);
            }
        }
      else
        {
          self->count_again = TRUE;
        }
    }

  if (self->count_again)
    fd_window_count (self);
}

static void
fd_window_count (FdWindow *self)
{
  FdStore *store;

  g_assert (FD_IS_WINDOW (self));

  if (self->app == NULL ||
      !fd_application_get_store_ready (self->app) ||
      (store = fd_application_get_store (self->app)) == NULL)
    return;

  /* One count at a time: a request meanwhile makes one more when it returns. */
  if (self->counting)
    {
      self->count_again = TRUE;
      return;
    }

  self->counting = TRUE;
  self->count_again = FALSE;
  fd_inbox_count_async (store, self->counts_cancellable, fd_window_count_cb, g_object_ref (self));
}

static gboolean
fd_window_show_spinner_cb (gpointer user_data)
{
  FdWindow *self = user_data;

  self->spinner_source = 0;

  gtk_widget_set_visible (GTK_WIDGET (self->inbox_spinner), TRUE);
  gtk_spinner_start (self->inbox_spinner);

  return G_SOURCE_REMOVE;
}

static void
saved_search_delete_clicked_cb (GtkButton *button,
                                FdWindow  *self)
{
  FdSavedSearch *search = g_object_get_data (G_OBJECT (button), "fd-saved-search");

  gtk_widget_activate_action (GTK_WIDGET (self), "win.delete-saved-search", "x",
                              fd_saved_search_get_id (search));
}

static GtkListBoxRow *
fd_window_new_view_row (const char  *icon_name,
                        const char  *title,
                        GtkLabel   **count_label,
                        GtkWidget   *suffix)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *image = gtk_image_new_from_icon_name (icon_name);
  GtkWidget *label = gtk_label_new (title);
  GtkWidget *count = gtk_label_new (NULL);

  /* Indented under Inbox. */
  gtk_widget_set_margin_start (box, 24);
  gtk_accessible_update_property (GTK_ACCESSIBLE (image),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "",
                                  -1);
  gtk_widget_set_can_target (image, FALSE);
  gtk_box_append (GTK_BOX (box), image);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), label);

  gtk_widget_set_visible (count, FALSE);
  gtk_widget_set_valign (count, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (count, "fd-count");
  gtk_widget_add_css_class (count, "numeric");
  gtk_widget_add_css_class (count, "dim-label");
  gtk_box_append (GTK_BOX (box), count);

  if (suffix != NULL)
    gtk_box_append (GTK_BOX (box), suffix);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  -1);
  g_object_set_data (G_OBJECT (row), "fd-count-label", count);

  if (count_label != NULL)
    *count_label = GTK_LABEL (count);

  return GTK_LIST_BOX_ROW (row);
}

static gboolean
saved_searches_equal (GListModel *a,
                      GListModel *b)
{
  guint n;

  if (a == NULL || b == NULL)
    return FALSE;

  n = g_list_model_get_n_items (a);
  if (n != g_list_model_get_n_items (b))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdSavedSearch) x = g_list_model_get_item (a, i);
      g_autoptr(FdSavedSearch) y = g_list_model_get_item (b, i);

      if (fd_saved_search_get_id (x) != fd_saved_search_get_id (y) ||
          g_strcmp0 (fd_saved_search_get_name (x), fd_saved_search_get_name (y)) != 0 ||
          g_strcmp0 (fd_saved_search_get_query (x), fd_saved_search_get_query (y)) != 0)
        return FALSE;
    }

  return TRUE;
}

static void
fd_window_set_saved_searches (FdWindow   *self,
                              GListStore *searches)
{
  GtkListBoxRow *after = self->view_rows[FD_INBOX_N_VIEWS - 1];
  int position = gtk_list_box_row_get_index (after) + 1;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (searches));
  FdSavedSearch *shown = fd_inbox_page_get_saved_search (self->inbox_page);
  gboolean shown_found = FALSE;

  /* Rows are only rebuilt when the searches changed, so a sync round does not take
   * the selection or the focus away from a saved search. */
  if (saved_searches_equal (G_LIST_MODEL (self->saved_searches), G_LIST_MODEL (searches)))
    return;

  for (guint i = 0; self->saved_rows != NULL && i < self->saved_rows->len; i++)
    gtk_list_box_remove (self->sidebar_list, g_ptr_array_index (self->saved_rows, i));
  g_ptr_array_set_size (self->saved_rows, 0);
  g_set_object (&self->saved_searches, searches);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdSavedSearch) search = g_list_model_get_item (G_LIST_MODEL (searches), i);
      g_autofree char *tooltip = NULL;
      GtkWidget *delete_button;
      GtkListBoxRow *row;

      /* Translators: %s is the name of a saved search. */
      tooltip = g_strdup_printf (_("Delete the saved search “%s”"), fd_saved_search_get_name (search));
      delete_button = gtk_button_new_from_icon_name ("user-trash-symbolic");
      gtk_widget_set_valign (delete_button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (delete_button, "flat");
      gtk_widget_add_css_class (delete_button, "fd-sidebar-delete");
      gtk_widget_set_tooltip_text (delete_button, tooltip);
      gtk_accessible_update_property (GTK_ACCESSIBLE (delete_button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip,
                                      -1);
      g_object_set_data_full (G_OBJECT (delete_button), "fd-saved-search",
                              g_object_ref (search), g_object_unref);
      g_signal_connect_object (delete_button, "clicked",
                               G_CALLBACK (saved_search_delete_clicked_cb), self, 0);

      row = fd_window_new_view_row ("folder-saved-search-symbolic",
                                    fd_saved_search_get_name (search), NULL, delete_button);
      gtk_widget_set_tooltip_text (GTK_WIDGET (row), fd_saved_search_get_query (search));
      g_object_set_data_full (G_OBJECT (row), "fd-saved-search", g_object_ref (search), g_object_unref);
      gtk_list_box_insert (self->sidebar_list, GTK_WIDGET (row), position + i);
      g_ptr_array_add (self->saved_rows, row);

      if (shown != NULL && fd_saved_search_get_id (shown) == fd_saved_search_get_id (search))
        shown_found = TRUE;

      if (self->restore_saved_id != 0 && fd_saved_search_get_id (search) == self->restore_saved_id)
        fd_inbox_page_show_saved_search (self->inbox_page, search);
    }

  self->restore_saved_id = 0;

  /* The saved search shown was deleted: back to the view it was opened from. */
  if (shown != NULL && !shown_found)
    fd_inbox_page_show_view (self->inbox_page, fd_inbox_page_get_view (self->inbox_page));

  fd_window_select_sidebar_row (self);
}

static void
fd_window_list_saved_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(FdWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListStore) searches = NULL;

  searches = fd_saved_search_list_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (searches == NULL)
    g_debug ("Could not list saved searches: %s", error ? error->message : "no result");
  else
    fd_window_set_saved_searches (self, searches);

  fd_window_count (self);
}

/* Reads the saved searches, then counts every view and saved search, on the store's
 * worker thread: the main thread never touches SQLite. */
static void
fd_window_reload_sidebar (FdWindow *self)
{
  FdStore *store;

  g_assert (FD_IS_WINDOW (self));

  if (self->app == NULL ||
      !fd_application_get_store_ready (self->app) ||
      (store = fd_application_get_store (self->app)) == NULL)
    return;

  if (self->counts_cancellable == NULL)
    self->counts_cancellable = g_cancellable_new ();

  if (self->spinner_source == 0 && self->open_count < 0)
    self->spinner_source = g_timeout_add (SPINNER_DELAY_MS, fd_window_show_spinner_cb, self);

  fd_saved_search_list_async (store, self->counts_cancellable, fd_window_list_saved_cb,
                              g_object_ref (self));
}

/* Something changed conversations behind the Inbox's back (snoozes woke, alerts came):
 * the counts and the list are read again. */
void
_fd_window_reload_counts (FdWindow *self)
{
  g_return_if_fail (FD_IS_WINDOW (self));

  fd_window_reload_sidebar (self);
  fd_inbox_page_reload (self->inbox_page);
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
      fd_inbox_page_set_store (self->inbox_page, fd_application_get_store (self->app));
      fd_billing_page_set_store (self->billing_page, fd_application_get_store (self->app));
      fd_window_reload_sidebar (self);
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
  fd_billing_page_reload_accounts (self->billing_page);
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
inbox_changed_cb (FdWindow *self)
{
  fd_window_reload_sidebar (self);
}

static void
inbox_back_cb (FdWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
  gtk_widget_grab_focus (GTK_WIDGET (self->sidebar_list));
}

static void
inbox_sort_cb (FdWindow *self)
{
  if (fd_window_settings_has_key (self, "inbox-sort"))
    g_settings_set_string (self->settings, "inbox-sort",
                           fd_inbox_sort_to_name (fd_inbox_page_get_sort (self->inbox_page)));
}

static void
fd_window_save_inbox_source (FdWindow *self)
{
  FdSavedSearch *search = fd_inbox_page_get_saved_search (self->inbox_page);
  g_autofree char *value = NULL;

  if (!fd_window_settings_has_key (self, "inbox-view"))
    return;

  if (search != NULL)
    value = g_strdup_printf ("saved:%" G_GINT64_FORMAT, fd_saved_search_get_id (search));
  else
    value = g_strdup (fd_inbox_view_id_to_name (fd_inbox_page_get_view (self->inbox_page)));

  g_settings_set_string (self->settings, "inbox-view", value);
}

static void
fd_window_show_inbox_view (FdWindow      *self,
                           FdInboxViewId  view)
{
  fd_inbox_page_show_view (self->inbox_page, view);
  fd_window_save_inbox_source (self);
  fd_window_show_area (self, FD_AREA_INBOX);
}

static void
fd_window_show_saved_search (FdWindow      *self,
                             FdSavedSearch *search)
{
  fd_inbox_page_show_saved_search (self->inbox_page, search);
  fd_window_save_inbox_source (self);
  fd_window_show_area (self, FD_AREA_INBOX);
}

static FdSavedSearch *
fd_window_find_saved_search (FdWindow *self,
                             gint64    id)
{
  guint n = self->saved_searches != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->saved_searches)) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdSavedSearch) search = g_list_model_get_item (G_LIST_MODEL (self->saved_searches), i);

      if (fd_saved_search_get_id (search) == id)
        return search;
    }

  return NULL;
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
  FdSavedSearch *search;
  const char *area;
  int view;

  g_assert (FD_IS_WINDOW (self));

  /* Rows say what they show: an area, an Inbox view (stored + 1) or a saved search. */
  area = g_object_get_data (G_OBJECT (row), "fd-area");
  view = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "fd-view"));
  search = g_object_get_data (G_OBJECT (row), "fd-saved-search");

  if (view > 0)
    fd_window_show_inbox_view (self, view - 1);
  else if (search != NULL)
    fd_window_show_saved_search (self, search);
  else if (area != NULL)
    fd_window_show_area (self, area);
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

static void
fd_window_open_conversation_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *parameter)
{
  FdWindow *self = FD_WINDOW (widget);
  gint64 id = g_variant_get_int64 (parameter);

  if (id <= 0)
    return;

  fd_window_show_area (self, FD_AREA_INBOX);
  fd_inbox_page_open_conversation (self->inbox_page, id);
}

static void
fd_window_show_inbox_view_action (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *parameter)
{
  FdWindow *self = FD_WINDOW (widget);
  FdInboxViewId view;

  if (!fd_inbox_view_id_from_name (g_variant_get_string (parameter, NULL), &view))
    {
      g_warning ("There is no Inbox view called “%s”", g_variant_get_string (parameter, NULL));
      return;
    }

  fd_window_show_inbox_view (self, view);
}

static void
fd_window_show_saved_search_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *parameter)
{
  FdWindow *self = FD_WINDOW (widget);
  FdSavedSearch *search = fd_window_find_saved_search (self, g_variant_get_int64 (parameter));

  if (search != NULL)
    fd_window_show_saved_search (self, search);
}

static void
saved_search_deleted_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(FdWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!fd_saved_search_delete_finish (FD_STORE (object), result, &error))
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      /* Translators: %s says why, as a full sentence. */
      message = g_strdup_printf (_("The saved search could not be deleted. %s"), error->message);
      fd_window_add_toast (self, message, NULL);
      return;
    }

  fd_window_reload_sidebar (self);
}

static void
delete_saved_search_response_cb (AdwMessageDialog *dialog,
                                 const char       *response,
                                 FdWindow         *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (dialog), "fd-id"));
  FdStore *store;

  if (!g_str_equal (response, "delete") || self->app == NULL ||
      (store = fd_application_get_store (self->app)) == NULL)
    return;

  fd_saved_search_delete_async (store, id, self->counts_cancellable,
                                saved_search_deleted_cb, g_object_ref (self));
}

static void
fd_window_delete_saved_search_action (GtkWidget  *widget,
                                      const char *action_name,
                                      GVariant   *parameter)
{
  FdWindow *self = FD_WINDOW (widget);
  FdSavedSearch *search = fd_window_find_saved_search (self, g_variant_get_int64 (parameter));
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  if (search == NULL)
    return;

  /* Translators: %s is the name of a saved search. */
  heading = g_strdup_printf (_("Delete “%s”?"), fd_saved_search_get_name (search));
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading,
                                   _("The saved search is removed from the sidebar. The conversations it finds are not changed."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "fd-id", GSIZE_TO_POINTER (fd_saved_search_get_id (search)));
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_saved_search_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
add_palette_item (GListStore    *items,
                  FdPaletteKind  kind,
                  const char    *title,
                  const char    *subtitle,
                  const char    *icon_name,
                  const char    *action_name,
                  GVariant      *target,
                  const char    *accel)
{
  g_autoptr(FdPaletteItem) item = NULL;

  item = fd_palette_item_new (kind, title, subtitle, icon_name, action_name, target, accel);
  g_list_store_append (items, item);
}

/* Every action the palette offers in the Inbox, with the key that does the same. */
static const struct
{
  const char *title;
  const char *action;
  const char *target;  /* a string parameter, or NULL */
  const char *accel;
  const char *icon;
} inbox_palette_actions[] = {
  { N_("Next Conversation"), "inbox.next", NULL, "j", "go-down-symbolic" },
  { N_("Previous Conversation"), "inbox.previous", NULL, "k", "go-up-symbolic" },
  { N_("Open Conversation"), "inbox.open", NULL, "Return", "go-next-symbolic" },
  { N_("Reply"), "inbox.reply", NULL, "r", "mail-reply-sender-symbolic" },
  { N_("Internal Note"), "inbox.note", NULL, "n", "document-edit-symbolic" },
  { N_("Send and Resolve"), "conversation.send-and-resolve", NULL, "<Control>Return", "mail-send-symbolic" },
  { N_("Resolve"), "inbox.resolve", NULL, "e", "object-select-symbolic" },
  { N_("Snooze…"), "inbox.snooze", NULL, "s", "alarm-symbolic" },
  { N_("Snooze Until Tomorrow"), "inbox.snooze-preset", "tomorrow", NULL, "alarm-symbolic" },
  { N_("Snooze Until Next Week"), "inbox.snooze-preset", "next-week", NULL, "alarm-symbolic" },
  { N_("Assign to Me"), "inbox.assign-to-me", NULL, "a", "avatar-default-symbolic" },
  { N_("Tags…"), "inbox.tag", NULL, "t", "user-bookmarks-symbolic" },
  { N_("Mark as Open"), "inbox.set-status", "open", NULL, "mail-unread-symbolic" },
  { N_("Mark as Pending"), "inbox.set-status", "pending", NULL, "mail-read-symbolic" },
  { N_("Priority: Urgent"), "inbox.set-priority", "urgent", NULL, "emblem-important-symbolic" },
  { N_("Priority: High"), "inbox.set-priority", "high", NULL, "go-up-symbolic" },
  { N_("Priority: Normal"), "inbox.set-priority", "normal", NULL, NULL },
  { N_("Priority: Low"), "inbox.set-priority", "low", NULL, "go-down-symbolic" },
  { N_("Search Conversations"), "inbox.search", NULL, "slash", "edit-find-symbolic" },
  { N_("Save Search…"), "inbox.save-search", NULL, NULL, "folder-saved-search-symbolic" },
  { N_("Undo"), "inbox.undo", NULL, NULL, "edit-undo-symbolic" },
  { N_("Sort by SLA Due"), "inbox.sort", "sla", NULL, "view-sort-descending-symbolic" },
  { N_("Sort by Newest"), "inbox.sort", "newest", NULL, "view-sort-descending-symbolic" },
  { N_("Sort by Oldest"), "inbox.sort", "oldest", NULL, "view-sort-ascending-symbolic" },
  { N_("Sort by Priority"), "inbox.sort", "priority", NULL, "view-sort-descending-symbolic" },
  { N_("Show or Hide Customer Details"), "conversation.toggle-context", NULL, "F9", "sidebar-show-right-symbolic" },
};

static void
fd_window_command_palette_action (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *parameter)
{
  FdWindow *self = FD_WINDOW (widget);
  g_autoptr(GListStore) items = g_list_store_new (FD_TYPE_PALETTE_ITEM);
  FdConversationView *view = fd_inbox_page_get_conversation_view (self->inbox_page);
  gboolean in_inbox = g_strcmp0 (self->area, FD_AREA_INBOX) == 0;
  FdCommandPalette *palette;
  GListModel *recent;
  GListModel *macros;

  /* The conversation view is the deepest widget that every action here reaches: its
   * own, the page's and the window's. */
  if (in_inbox)
    {
      for (guint i = 0; i < G_N_ELEMENTS (inbox_palette_actions); i++)
        add_palette_item (items, FD_PALETTE_ACTION,
                          _(inbox_palette_actions[i].title), NULL,
                          inbox_palette_actions[i].icon,
                          inbox_palette_actions[i].action,
                          inbox_palette_actions[i].target != NULL
                            ? g_variant_new_string (inbox_palette_actions[i].target) : NULL,
                          inbox_palette_actions[i].accel);
    }

  for (guint i = 0; i < FD_INBOX_N_VIEWS; i++)
    {
      const char *count = gtk_widget_get_visible (GTK_WIDGET (self->view_count_labels[i]))
        ? gtk_widget_get_tooltip_text (GTK_WIDGET (self->view_count_labels[i])) : NULL;

      add_palette_item (items, FD_PALETTE_VIEW,
                        fd_inbox_view_id_to_title (i), count,
                        fd_inbox_view_id_to_icon (i),
                        "win.show-inbox-view",
                        g_variant_new_string (fd_inbox_view_id_to_name (i)),
                        NULL);
    }

  for (guint i = 0; self->saved_searches != NULL && i < g_list_model_get_n_items (G_LIST_MODEL (self->saved_searches)); i++)
    {
      g_autoptr(FdSavedSearch) search = g_list_model_get_item (G_LIST_MODEL (self->saved_searches), i);

      add_palette_item (items, FD_PALETTE_VIEW,
                        fd_saved_search_get_name (search),
                        fd_saved_search_get_query (search),
                        "folder-saved-search-symbolic",
                        "win.show-saved-search",
                        g_variant_new_int64 (fd_saved_search_get_id (search)),
                        NULL);
    }

  for (guint i = 0; i < G_N_ELEMENTS (areas); i++)
    {
      static const char * const titles[] = {
        N_("Go to Inbox"), N_("Go to Customers"), N_("Go to Billing"), N_("Go to Docs"),
        N_("Go to Insights"),
      };
      g_autofree char *accel = g_strdup_printf ("<Control>%u", i + 1);

      add_palette_item (items, FD_PALETTE_ACTION, _(titles[i]), NULL, NULL,
                        "win.show-area", g_variant_new_string (areas[i]), accel);
    }

  macros = fd_conversation_view_get_macros (view);
  if (in_inbox && macros != NULL && fd_conversation_view_get_conversation_id (view) != 0)
    {
      for (guint i = 0; i < g_list_model_get_n_items (macros); i++)
        {
          g_autoptr(FdMacro) macro = g_list_model_get_item (macros, i);

          add_palette_item (items, FD_PALETTE_MACRO,
                            fd_macro_get_title (macro),
                            fd_macro_get_is_note (macro) ? _("Macro, internal note") : _("Macro"),
                            "document-edit-symbolic",
                            "conversation.insert-macro",
                            g_variant_new_string (fd_macro_get_id (macro)),
                            NULL);
        }
    }

  recent = fd_inbox_page_get_recent (self->inbox_page);
  for (guint i = 0; i < g_list_model_get_n_items (recent); i++)
    {
      g_autoptr(FdConversationSummary) summary = g_list_model_get_item (recent, i);
      const char *organisation = fd_conversation_summary_get_organisation (summary);
      g_autofree char *subtitle = NULL;

      if (organisation != NULL && organisation[0] != '\0')
        subtitle = g_strdup_printf ("%s · %s", fd_conversation_summary_get_contact_name (summary), organisation);
      else
        subtitle = g_strdup (fd_conversation_summary_get_contact_name (summary));

      add_palette_item (items, FD_PALETTE_CONVERSATION,
                        fd_conversation_summary_get_subject (summary), subtitle,
                        "mail-unread-symbolic",
                        "win.open-conversation",
                        g_variant_new_int64 (fd_conversation_summary_get_id (summary)),
                        NULL);
    }

  palette = fd_command_palette_new (GTK_WIDGET (view), G_LIST_MODEL (items));
  gtk_window_present (GTK_WINDOW (palette));
}

/* win.open-billing((sxs)): a customer (cus_ id, email or name), the conversation it
 * was opened from (0: none) and, for scripts, what to open next ("refund", "dispute"
 * or ""). In the window's action map, so the context panel and D-Bus reach it. */
static void
open_billing_activated_cb (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  FdWindow *self = user_data;
  const char *query;
  const char *then;
  gint64 conversation_id;

  g_variant_get (parameter, "(&sx&s)", &query, &conversation_id, &then);
  if (*query == '\0')
    return;

  fd_window_show_area (self, FD_AREA_BILLING);
  fd_billing_page_open_customer (self->billing_page, query, conversation_id, then);
}

static void
inbox_undo_activated_cb (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  FdWindow *self = user_data;

  gtk_widget_activate_action (GTK_WIDGET (self->inbox_page), "inbox.undo", NULL);
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
  g_clear_object (&self->saved_searches);
  g_clear_object (&self->inbox_actions);
  g_clear_pointer (&self->saved_rows, g_ptr_array_unref);
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
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_foot);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_summary);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_icon);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_label);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, sync_button);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, content_header);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, content_title);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, store_error_box);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, store_error_title);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, store_error_label);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, inbox_page);
  gtk_widget_class_bind_template_child (widget_class, FdWindow, billing_page);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, back_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, sync_foot_sync_finished_cb);
  gtk_widget_class_bind_template_callback (widget_class, inbox_back_cb);
  gtk_widget_class_bind_template_callback (widget_class, inbox_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, inbox_sort_cb);

  gtk_widget_class_install_action (widget_class, "win.show-area", "s", fd_window_show_area_action);
  gtk_widget_class_install_action (widget_class, "win.open-conversation", "x",
                                   fd_window_open_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.show-inbox-view", "s",
                                   fd_window_show_inbox_view_action);
  gtk_widget_class_install_action (widget_class, "win.show-saved-search", "x",
                                   fd_window_show_saved_search_action);
  gtk_widget_class_install_action (widget_class, "win.delete-saved-search", "x",
                                   fd_window_delete_saved_search_action);
  gtk_widget_class_install_action (widget_class, "win.command-palette", NULL,
                                   fd_window_command_palette_action);

  for (guint i = 0; i < G_N_ELEMENTS (areas); i++)
    gtk_widget_class_add_binding_action (widget_class,
                                         GDK_KEY_1 + i, GDK_CONTROL_MASK,
                                         "win.show-area", "s", areas[i]);
  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_w, GDK_CONTROL_MASK,
                                       "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_k, GDK_CONTROL_MASK,
                                       "win.command-palette", NULL);

  g_type_ensure (FD_TYPE_SYNC_FOOT);
  g_type_ensure (FD_TYPE_INBOX_PAGE);
  g_type_ensure (FD_TYPE_BILLING_PAGE);
}

static void
fd_window_build_sidebar (FdWindow *self)
{
  const GActionEntry inbox_entries[] = {
    { "undo", inbox_undo_activated_cb, NULL, NULL, NULL, { 0 } },
  };
  const GActionEntry window_entries[] = {
    { "open-billing", open_billing_activated_cb, "(sxs)", NULL, NULL, { 0 } },
  };
  guint i = 0;
  int position;

  /* The area rows of the template, in order. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->sidebar_list));
       child != NULL && i < G_N_ELEMENTS (areas);
       child = gtk_widget_get_next_sibling (child), i++)
    g_object_set_data (G_OBJECT (child), "fd-area", (gpointer) areas[i]);

  position = gtk_list_box_row_get_index (self->inbox_row) + 1;
  for (i = 0; i < FD_INBOX_N_VIEWS; i++)
    {
      GtkListBoxRow *row = fd_window_new_view_row (fd_inbox_view_id_to_icon (i),
                                                   fd_inbox_view_id_to_title (i),
                                                   &self->view_count_labels[i], NULL);

      g_object_set_data (G_OBJECT (row), "fd-view", GINT_TO_POINTER (i + 1));
      gtk_list_box_insert (self->sidebar_list, GTK_WIDGET (row), position + i);
      self->view_rows[i] = row;
    }

  self->saved_rows = g_ptr_array_new ();

  /* The toast's Undo button lives outside the page, where "inbox.undo" is not found;
   * this group takes it there. */
  self->inbox_actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->inbox_actions),
                                   inbox_entries, G_N_ELEMENTS (inbox_entries), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "inbox", G_ACTION_GROUP (self->inbox_actions));

  g_action_map_add_action_entries (G_ACTION_MAP (self), window_entries, G_N_ELEMENTS (window_entries), self);
}

static void
fd_window_restore_inbox (FdWindow *self)
{
  if (fd_window_settings_has_key (self, "inbox-sort"))
    {
      g_autofree char *name = g_settings_get_string (self->settings, "inbox-sort");
      FdInboxSort sort;

      if (fd_inbox_sort_from_name (name, &sort))
        fd_inbox_page_set_sort (self->inbox_page, sort);
    }

  if (fd_window_settings_has_key (self, "inbox-view"))
    {
      g_autofree char *name = g_settings_get_string (self->settings, "inbox-view");
      FdInboxViewId view;

      /* A saved search is shown once the list of them has been read. */
      if (g_str_has_prefix (name, "saved:"))
        self->restore_saved_id = g_ascii_strtoll (name + strlen ("saved:"), NULL, 10);
      else if (fd_inbox_view_id_from_name (name, &view))
        fd_inbox_page_show_view (self->inbox_page, view);
    }
}

static void
fd_window_init (FdWindow *self)
{
  g_autofree char *last_area = NULL;

  self->open_count = -1;

  gtk_widget_init_template (GTK_WIDGET (self));
  fd_window_build_sidebar (self);

  self->settings = fd_window_create_settings ();
  fd_window_restore_inbox (self);

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

FdInboxPage *
_fd_window_get_inbox_page (FdWindow *self)
{
  g_return_val_if_fail (FD_IS_WINDOW (self), NULL);

  return self->inbox_page;
}

gint64
_fd_window_get_view_count (FdWindow      *self,
                           FdInboxViewId  view)
{
  GtkLabel *label;

  g_return_val_if_fail (FD_IS_WINDOW (self), -1);
  g_return_val_if_fail (view < FD_INBOX_N_VIEWS, -1);

  label = self->view_count_labels[view];
  if (!gtk_widget_get_visible (GTK_WIDGET (label)))
    return -1;

  return GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (label), "fd-count")) - 1;
}

GListModel *
_fd_window_get_saved_searches (FdWindow *self)
{
  g_return_val_if_fail (FD_IS_WINDOW (self), NULL);

  return self->saved_searches != NULL ? G_LIST_MODEL (self->saved_searches) : NULL;
}

const char *
_fd_window_get_saved_count_text (FdWindow *self,
                                 guint     index)
{
  GtkWidget *row;
  GtkLabel *label;

  g_return_val_if_fail (FD_IS_WINDOW (self), NULL);

  if (self->saved_rows == NULL || index >= self->saved_rows->len)
    return NULL;

  row = g_ptr_array_index (self->saved_rows, index);
  label = g_object_get_data (G_OBJECT (row), "fd-count-label");

  return gtk_widget_get_visible (GTK_WIDGET (label)) ? gtk_label_get_label (label) : NULL;
}
