/* test-window.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The main window with a real, registered FdApplication over a throwaway profile
 * holding a few conversations.
 */

#define G_LOG_DOMAIN "test-window"

#include "config.h"

#include "../fd-test-keyring.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "fd-account-row.h"
#include "fd-application-private.h"
#include "fd-paths.h"
#include "fd-preferences-window.h"
#include "fd-store.h"
#include "fd-window-private.h"

#define WAIT_TIMEOUT_USEC (30 * G_USEC_PER_SEC)

#include "../fd-test-wait.h"

static FdApplication *app;
static char *profile_dir;
static gboolean keyring;

static const char * const areas[] = {
  FD_AREA_INBOX,
  FD_AREA_CUSTOMERS,
  FD_AREA_BILLING,
  FD_AREA_DOCS,
  FD_AREA_INSIGHTS,
};

/* Iterates the main loop until @condition holds; fails the test after a while. */
static void
iterate_a_little (void)
{
  gint64 end = g_get_monotonic_time () + 100 * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (5000);
    }
}

static gboolean
store_settled (gpointer data)
{
  return fd_application_get_store_ready (app) || fd_application_get_store_error (app) != NULL;
}

static gboolean
count_loaded (gpointer data)
{
  return _fd_window_get_open_count (data) >= 0;
}

static gboolean
only_our_ref (gpointer data)
{
  return G_OBJECT (data)->ref_count == 1;
}

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *)data == NULL;
}

static gboolean
pointer_set (gpointer data)
{
  return *(gpointer *)data != NULL;
}

static gboolean
insert_conversations_job (sqlite3   *db,
                          gpointer   job_data,
                          gpointer  *result,
                          GError   **error)
{
  return fd_store_exec (db,
                        "INSERT INTO conversations (channel, subject, status, created_at, updated_at) VALUES"
                        " ('email', 'Refund for a double charge', 'open', 0, 0),"
                        " ('chat', 'SSO login fails', 'open', 0, 0),"
                        " ('slack', 'Need 20 more seats', 'open', 0, 0),"
                        " ('community', 'Dark mode?', 'resolved', 0, 0),"
                        " ('email', 'Invoice address', 'pending', 0, 0)",
                        error);
}

static void
seed_profile (const char *dir)
{
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  g_assert_true (fd_paths_ensure_profile (dir, &error));
  g_assert_no_error (error);

  path = fd_paths_store_file (dir);
  store = fd_store_new (path);
  fd_store_open_sync (store, NULL, &error);
  g_assert_no_error (error);
  fd_store_run_sync (store, insert_conversations_job, NULL, NULL, &error);
  g_assert_no_error (error);
  fd_store_close (store);
}

static void
remove_profile (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }

  g_rmdir (dir);
}

static FdWindow *
create_window (void)
{
  FdWindow *window = fd_window_new (app);

  gtk_window_present (GTK_WINDOW (window));

  return window;
}

static void
close_and_finalize (FdWindow *window)
{
  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));

  /* Jobs in flight hold the window until they return. */
  wait_until (only_our_ref, window);
  g_assert_finalize_object (window);
}

static void
test_window_areas (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  FdWindow *window = create_window ();
  GtkStack *stack = _fd_window_get_content_stack (window);

  for (guint i = 0; i < G_N_ELEMENTS (areas); i++)
    {
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window),
                                                 "win.show-area", "s", areas[i]));
      g_assert_cmpstr (fd_window_get_area (window), ==, areas[i]);
      g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, areas[i]);
      g_autofree char *last_area = g_settings_get_string (settings, "last-area");

      g_assert_cmpstr (last_area, ==, areas[i]);
    }

  /* Back and forth through the public call as well. */
  fd_window_show_area (window, FD_AREA_BILLING);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, FD_AREA_BILLING);

  close_and_finalize (window);
}

static void
test_window_restores_area (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  FdWindow *window;

  g_settings_set_string (settings, "last-area", FD_AREA_DOCS);
  window = create_window ();
  g_assert_cmpstr (fd_window_get_area (window), ==, FD_AREA_DOCS);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (_fd_window_get_content_stack (window)),
                   ==, FD_AREA_DOCS);

  close_and_finalize (window);
}

static void
test_window_saves_size (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  FdWindow *window = create_window ();

  gtk_window_set_default_size (GTK_WINDOW (window), 900, 640);
  iterate_a_little ();

  /* Ctrl+W's action: closing saves the window's state. */
  g_object_ref (window);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "window.close", NULL));
  wait_until (only_our_ref, window);
  g_assert_finalize_object (window);

  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 900);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 640);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
}

static void
test_window_open_count (void)
{
  FdWindow *window = create_window ();

  wait_until (store_settled, NULL);
  g_assert_null (fd_application_get_store_error (app));
  g_assert_true (fd_application_get_store_ready (app));

  /* The count arrives from the store's worker thread. */
  wait_until (count_loaded, window);
  g_assert_cmpint (_fd_window_get_open_count (window), ==, 3);

  close_and_finalize (window);
}

static void
test_window_toast (void)
{
  FdWindow *window = create_window ();

  /* The title is plain text: markup characters must not break it. */
  fd_window_add_toast (window, "Saved “A & B <Ltd>”", NULL);
  fd_window_add_toast (window, "Conversation resolved", "win.show-area::inbox");
  iterate_a_little ();

  close_and_finalize (window);
}

static void
test_window_preferences (void)
{
  FdWindow *window = create_window ();
  FdPreferencesWindow *preferences = NULL;

  wait_until (store_settled, NULL);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "app.preferences", NULL));

  for (const GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    {
      if (FD_IS_PREFERENCES_WINDOW (l->data))
        preferences = l->data;
    }
  g_assert_nonnull (preferences);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (preferences)));
  iterate_a_little ();

  g_object_add_weak_pointer (G_OBJECT (preferences), (gpointer *)&preferences);
  gtk_window_close (GTK_WINDOW (preferences));
  wait_until (pointer_cleared, &preferences);

  close_and_finalize (window);
}

static gboolean
widget_sensitive (gpointer data)
{
  return gtk_widget_get_sensitive (data);
}

static gboolean
list_has_rows (gpointer data)
{
  return gtk_list_box_get_row_at_index (data, 0) != NULL;
}

static gboolean
list_is_empty (gpointer data)
{
  return gtk_list_box_get_row_at_index (data, 0) == NULL;
}

static GtkWidget *
find_button_with_tooltip (GtkWidget  *widget,
                          const char *tooltip)
{
  if (GTK_IS_BUTTON (widget) &&
      g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button_with_tooltip (child, tooltip);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static AdwMessageDialog *
find_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) toplevel = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (toplevel) && gtk_widget_get_visible (GTK_WIDGET (toplevel)))
        return ADW_MESSAGE_DIALOG (toplevel);
    }

  return NULL;
}

#define CHILD(self, name) \
  GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self), FD_TYPE_PREFERENCES_WINDOW, name))

static void
test_window_preferences_accounts (void)
{
  FdWindow *window = create_window ();
  FdPreferencesWindow *preferences;
  GtkWidget *connect_button;
  GtkWidget *name_row;
  GtkWidget *base_url_row;
  GtkWidget *secret_row;
  GtkWidget *form_error_box;
  GtkWidget *form_error_label;
  GtkWidget *accounts_list;

  wait_until (store_settled, NULL);

  preferences = fd_preferences_window_new (app);
  gtk_window_set_transient_for (GTK_WINDOW (preferences), GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (preferences));

  connect_button = CHILD (preferences, "connect_button");
  name_row = CHILD (preferences, "name_row");
  base_url_row = CHILD (preferences, "base_url_row");
  secret_row = CHILD (preferences, "secret_row");
  form_error_box = CHILD (preferences, "form_error_box");
  form_error_label = CHILD (preferences, "form_error_label");
  accounts_list = CHILD (preferences, "accounts_list");

  /* The first service's address is filled in for the user. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (base_url_row)), !=, "");

  wait_until (widget_sensitive, connect_button);
  g_assert_true (list_is_empty (accounts_list));

  /* Nothing filled in properly: every mistake is shown, and nothing is saved. */
  gtk_editable_set_text (GTK_EDITABLE (base_url_row), "http://example.com");
  g_signal_emit_by_name (connect_button, "clicked");
  g_assert_true (gtk_widget_get_visible (form_error_box));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (form_error_label)), !=, "");
  g_assert_true (gtk_widget_has_css_class (name_row, "error"));
  g_assert_true (gtk_widget_has_css_class (base_url_row, "error"));
  g_assert_true (gtk_widget_has_css_class (secret_row, "error"));
  g_assert_true (gtk_widget_get_sensitive (connect_button));

  /* Editing a field clears its mark. */
  gtk_editable_set_text (GTK_EDITABLE (name_row), "Acme & Co <Intercom>");
  g_assert_false (gtk_widget_has_css_class (name_row, "error"));

  /* A loopback address where nothing listens: the sync engine tries the new account
   * at once, and a test must not reach a real service. */
  gtk_editable_set_text (GTK_EDITABLE (base_url_row), "http://127.0.0.1:9/intercom");
  gtk_editable_set_text (GTK_EDITABLE (secret_row), "tok_test_123");

  /* Saving stores the token in the keyring. Without a running one, a D-Bus-activated
   * keyring would wait for a password prompt, so that part needs build-aux/test
   * (which starts a throwaway keyring). */
  if (!keyring)
    {
      g_test_message ("No Secret Service is running: not saving an account");
      goto out;
    }

  g_signal_emit_by_name (connect_button, "clicked");
  g_assert_false (gtk_widget_get_visible (form_error_box));
  wait_until (widget_sensitive, connect_button);

  if (gtk_widget_get_visible (form_error_box))
    {
      /* No keyring on this session: the error is said in words, the secret stays for
       * another try, and no account was stored. */
      g_test_message ("Saving failed: %s", gtk_label_get_label (GTK_LABEL (form_error_label)));
      g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (secret_row)), ==, "tok_test_123");
      iterate_a_little ();
      g_assert_true (list_is_empty (accounts_list));
    }
  else
    {
      GtkWidget *row;
      GtkWidget *remove_button;
      AdwMessageDialog *dialog;

      g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (secret_row)), ==, "");
      g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (name_row)), ==, "");

      wait_until (list_has_rows, accounts_list);
      row = GTK_WIDGET (gtk_list_box_get_row_at_index (GTK_LIST_BOX (accounts_list), 0));
      g_assert_true (FD_IS_ACCOUNT_ROW (row));
      g_assert_cmpstr (fd_account_get_name (fd_account_row_get_account (FD_ACCOUNT_ROW (row))),
                       ==, "Acme & Co <Intercom>");
      /* The name is the user's text, shown as is. */
      g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (gtk_widget_get_template_child (row, FD_TYPE_ACCOUNT_ROW, "title_label"))),
                       ==, "Acme & Co <Intercom>");

      /* Removing asks first, with Cancel as the default. */
      remove_button = find_button_with_tooltip (row, "Remove Account");
      g_assert_nonnull (remove_button);
      g_signal_emit_by_name (remove_button, "clicked");
      dialog = find_message_dialog ();
      g_assert_nonnull (dialog);
      g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
      g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "remove"),
                       ==, ADW_RESPONSE_DESTRUCTIVE);
      adw_message_dialog_response (dialog, "remove");

      wait_until (list_is_empty, accounts_list);
    }

out:
  g_object_add_weak_pointer (G_OBJECT (preferences), (gpointer *)&preferences);
  gtk_window_close (GTK_WINDOW (preferences));
  wait_until (pointer_cleared, &preferences);

  close_and_finalize (window);
}

static void
accounts_listed_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GListStore **accounts = user_data;
  g_autoptr(GError) error = NULL;

  *accounts = fd_account_list_finish (FD_STORE (object), result, &error);
  g_assert_no_error (error);
}

static GListStore *
list_accounts (void)
{
  GListStore *accounts = NULL;

  fd_account_list_async (fd_application_get_store (app), NULL, accounts_listed_cb, &accounts);
  wait_until (pointer_set, &accounts);

  return accounts;
}

static void
account_removed_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  fd_account_remove_finish (FD_STORE (object), result, &error);
  g_assert_no_error (error);
  *(gboolean *)user_data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *)data;
}

/* Discourse asks for the forum user replies are posted as and the categories to sync;
 * the categories are checked, and both end up in the account's settings. */
static void
test_window_preferences_discourse (void)
{
  FdWindow *window = create_window ();
  FdPreferencesWindow *preferences;
  g_autoptr(GListStore) accounts = NULL;
  g_autoptr(FdAccount) account = NULL;
  g_autofree char *api_username = NULL;
  g_autofree char *categories = NULL;
  GtkWidget *kind_row;
  GtkWidget *name_row;
  GtkWidget *base_url_row;
  GtkWidget *secret_row;
  GtkWidget *api_username_row;
  GtkWidget *categories_row;
  GtkWidget *connect_button;
  GtkWidget *form_error_box;
  GtkWidget *form_error_label;
  GtkWidget *accounts_list;
  GtkWidget *row;
  gboolean removed = FALSE;

  wait_until (store_settled, NULL);

  preferences = fd_preferences_window_new (app);
  gtk_window_set_transient_for (GTK_WINDOW (preferences), GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (preferences));

  kind_row = CHILD (preferences, "kind_row");
  name_row = CHILD (preferences, "name_row");
  base_url_row = CHILD (preferences, "base_url_row");
  secret_row = CHILD (preferences, "secret_row");
  api_username_row = CHILD (preferences, "api_username_row");
  categories_row = CHILD (preferences, "categories_row");
  connect_button = CHILD (preferences, "connect_button");
  form_error_box = CHILD (preferences, "form_error_box");
  form_error_label = CHILD (preferences, "form_error_label");
  accounts_list = CHILD (preferences, "accounts_list");

  wait_until (widget_sensitive, connect_button);

  /* Only Discourse shows the two rows. */
  g_assert_false (gtk_widget_get_visible (api_username_row));
  g_assert_false (gtk_widget_get_visible (categories_row));
  adw_combo_row_set_selected (ADW_COMBO_ROW (kind_row), FD_ACCOUNT_KIND_DISCOURSE);
  g_assert_true (gtk_widget_get_visible (api_username_row));
  g_assert_true (gtk_widget_get_visible (categories_row));

  gtk_editable_set_text (GTK_EDITABLE (name_row), "Acme Forum");
  gtk_editable_set_text (GTK_EDITABLE (base_url_row), "http://127.0.0.1:9/discourse");
  gtk_editable_set_text (GTK_EDITABLE (secret_row), "discourse_key_123");
  gtk_editable_set_text (GTK_EDITABLE (api_username_row), " sam_rivera ");

  /* Anything but numbers, commas and spaces is said in words, and nothing is saved. */
  gtk_editable_set_text (GTK_EDITABLE (categories_row), "4, support");
  g_signal_emit_by_name (connect_button, "clicked");
  g_assert_true (gtk_widget_get_visible (form_error_box));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (form_error_label)), "“4, 7”"));
  g_assert_true (gtk_widget_has_css_class (categories_row, "error"));
  g_assert_false (gtk_widget_has_css_class (secret_row, "error"));
  g_assert_true (gtk_widget_get_sensitive (connect_button));
  iterate_a_little ();
  accounts = list_accounts ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);
  g_clear_object (&accounts);

  gtk_editable_set_text (GTK_EDITABLE (categories_row), "4,7 ,");
  g_assert_false (gtk_widget_has_css_class (categories_row, "error"));

  if (!keyring)
    {
      g_test_message ("No Secret Service is running: not saving an account");
      goto out;
    }

  g_signal_emit_by_name (connect_button, "clicked");
  g_assert_false (gtk_widget_get_visible (form_error_box));
  wait_until (widget_sensitive, connect_button);
  g_assert_false (gtk_widget_get_visible (form_error_box));

  /* Cleared like the other fields. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (api_username_row)), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (categories_row)), ==, "");

  accounts = list_accounts ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 1);
  account = g_list_model_get_item (G_LIST_MODEL (accounts), 0);
  g_assert_cmpint (fd_account_get_kind (account), ==, FD_ACCOUNT_KIND_DISCOURSE);
  api_username = fd_account_dup_setting (account, "api_username");
  categories = fd_account_dup_setting (account, "categories");
  g_assert_cmpstr (api_username, ==, "sam_rivera");
  g_assert_cmpstr (categories, ==, "4, 7");

  /* The account's row says so too. */
  wait_until (list_has_rows, accounts_list);
  row = GTK_WIDGET (gtk_list_box_get_row_at_index (GTK_LIST_BOX (accounts_list), 0));
  g_assert_true (g_str_has_suffix (gtk_label_get_label (GTK_LABEL (gtk_widget_get_template_child (row, FD_TYPE_ACCOUNT_ROW, "subtitle_label"))),
                                   " · as sam_rivera · categories 4, 7"));

  fd_account_remove_async (fd_application_get_store (app), account, NULL,
                           account_removed_cb, &removed);
  wait_until (flag_set, &removed);
  fd_application_accounts_changed (app);
  wait_until (list_is_empty, accounts_list);

out:
  g_object_add_weak_pointer (G_OBJECT (preferences), (gpointer *)&preferences);
  gtk_window_close (GTK_WINDOW (preferences));
  wait_until (pointer_cleared, &preferences);

  close_and_finalize (window);
}

static void
test_window_shortcuts (void)
{
  FdWindow *window = create_window ();
  GtkShortcutsWindow *overlay;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_nonnull (overlay);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  iterate_a_little ();

  gtk_window_close (GTK_WINDOW (overlay));
  iterate_a_little ();
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (overlay)));

  close_and_finalize (window);
}

static void
test_window_actions (void)
{
  const char * const accels_preferences[] = { "<Control>comma", NULL };
  g_auto(GStrv) accels = NULL;

  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "preferences"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));

  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.preferences");
  g_assert_cmpstrv (accels, accels_preferences);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  gtk_test_init (&argc, &argv, NULL);

  keyring = fd_test_keyring_available ();

  profile_dir = g_dir_make_tmp ("frontdesk-test-window-XXXXXX", &error);
  g_assert_no_error (error);
  seed_profile (profile_dir);

  app = fd_application_new ();
  _fd_application_set_profile_dir (app, profile_dir);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/window/actions", test_window_actions);
  g_test_add_func ("/window/areas", test_window_areas);
  g_test_add_func ("/window/restores-area", test_window_restores_area);
  g_test_add_func ("/window/saves-size", test_window_saves_size);
  g_test_add_func ("/window/open-count", test_window_open_count);
  g_test_add_func ("/window/toast", test_window_toast);
  g_test_add_func ("/window/preferences", test_window_preferences);
  g_test_add_func ("/window/preferences-accounts", test_window_preferences_accounts);
  g_test_add_func ("/window/preferences-discourse", test_window_preferences_discourse);
  g_test_add_func ("/window/shortcuts", test_window_shortcuts);

  ret = g_test_run ();

  /* The engine first: it must not write to a closed store. */
  if (fd_application_get_sync_engine (app) != NULL)
    fd_sync_engine_stop (fd_application_get_sync_engine (app));
  fd_store_close (fd_application_get_store (app));
  g_clear_object (&app);

  remove_profile (profile_dir);
  g_clear_pointer (&profile_dir, g_free);

  return ret;
}
