/* test-sla-page.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Preferences → SLA on a real store: it shows what is saved, edits a target, the hours
 * and the holidays, saves them to the store and refuses what cannot work.
 */

#define G_LOG_DOMAIN "test-sla-page"

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "fd-paths.h"
#include "fd-preferences-window.h"
#include "fd-sla.h"
#include "fd-sla-page.h"

#define WAIT_TIMEOUT_USEC (20 * G_USEC_PER_SEC)

static gboolean
wake_up_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
wait_idle (FdSlaPage *page)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_USEC;
  guint source = g_timeout_add (10, wake_up_cb, NULL);

  while (fd_sla_page_get_busy (page))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for the SLA page");
      g_main_context_iteration (NULL, TRUE);
    }

  g_source_remove (source);
}

static GtkWidget *
find_named (GtkWidget  *root,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;

  if (GTK_IS_MENU_BUTTON (root) && gtk_menu_button_get_popover (GTK_MENU_BUTTON (root)) != NULL)
    {
      GtkWidget *found = find_named (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (root))), name);

      if (found != NULL)
        return found;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static GtkWidget *
find_page (GtkWidget *root)
{
  if (FD_IS_SLA_PAGE (root))
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_page (child);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static GtkWidget *
get_named (GtkWidget  *root,
           const char *name)
{
  GtkWidget *found = find_named (root, name);

  if (found == NULL)
    g_error ("No widget named “%s”", name);

  return found;
}

static gboolean
save_job (sqlite3   *db,
          gpointer   data,
          gpointer  *result,
          GError   **error)
{
  return fd_sla_config_save (db, data, error);
}

static gboolean
load_job (sqlite3   *db,
          gpointer   data,
          gpointer  *result,
          GError   **error)
{
  FdSlaConfig *config = NULL;

  if (!fd_sla_config_load (db, &config, error))
    return FALSE;

  *result = config;
  return TRUE;
}

static FdSlaConfig *
load (FdStore *store)
{
  g_autoptr(GError) error = NULL;
  gpointer config = NULL;

  g_assert_true (fd_store_run_sync (store, load_job, NULL, &config, &error));
  g_assert_no_error (error);

  return config;
}

static FdStore *
open_store (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "sla-page", NULL);
  g_autofree char *path = NULL;
  g_autoptr(FdSlaConfig) config = fd_sla_config_new_default ();
  g_autoptr(GError) error = NULL;
  FdStore *store;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  path = fd_paths_store_file (dir);
  store = fd_store_new (path);
  g_assert_true (fd_store_open_sync (store, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (fd_sla_calendar_set_time_zone (config->calendar, "Europe/Berlin", &error));
  g_assert_true (fd_sla_calendar_add_holiday (config->calendar, "2026-12-25", "Christmas", &error));
  g_assert_true (fd_store_run_sync (store, save_job, config, NULL, &error));
  g_assert_no_error (error);

  return store;
}

static GtkWidget *
show_page (FdStore    *store,
           GtkWindow **window)
{
  GtkWidget *page = fd_sla_page_new ();

  *window = GTK_WINDOW (adw_preferences_window_new ());
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (*window), ADW_PREFERENCES_PAGE (page));
  adw_preferences_window_set_visible_page (ADW_PREFERENCES_WINDOW (*window), ADW_PREFERENCES_PAGE (page));
  gtk_window_present (*window);

  fd_sla_page_set_store (FD_SLA_PAGE (page), store);
  g_assert_true (fd_sla_page_get_busy (FD_SLA_PAGE (page)));
  wait_idle (FD_SLA_PAGE (page));

  return page;
}

static void
destroy_and_finalize (GtkWindow *window)
{
  g_object_ref (window);
  gtk_window_destroy (window);
  g_assert_finalize_object (window);
}

static void
test_sla_page_edit_and_save (void)
{
  g_autoptr(FdStore) store = open_store ();
  g_autoptr(FdSlaConfig) saved = NULL;
  g_autoptr(GDateTime) may_day = NULL;
  g_auto(GStrv) days = NULL;
  GtkWindow *window;
  GtkWidget *page = show_page (store, &window);
  GtkSpinButton *spin;
  GtkWidget *save = get_named (page, "save");
  int open_minute, close_minute;

  /* What is saved is shown, and nothing is to save yet. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (get_named (page, "time-zone"))), ==, "Europe/Berlin");
  spin = GTK_SPIN_BUTTON (get_named (page, "target-enterprise-urgent-first_reply"));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (spin), ==, 30);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (spin)), ==, "30 min");
  g_assert_nonnull (find_named (page, "holiday-remove-2026-12-25"));
  g_assert_false (adw_expander_row_get_enable_expansion (ADW_EXPANDER_ROW (get_named (page, "day-6"))));
  g_assert_false (gtk_widget_get_sensitive (save));

  /* A target by value, another typed in words. */
  gtk_spin_button_set_value (spin, 45);
  g_assert_true (gtk_widget_get_sensitive (save));
  spin = GTK_SPIN_BUTTON (get_named (page, "target-pro-low-resolution"));
  gtk_editable_set_text (GTK_EDITABLE (spin), "1 h 15 min");
  gtk_spin_button_update (spin);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (spin), ==, 75);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (spin)), ==, "1 h 15 min");
  spin = GTK_SPIN_BUTTON (get_named (page, "target-free-low-next_reply"));
  gtk_editable_set_text (GTK_EDITABLE (spin), "None");
  gtk_spin_button_update (spin);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (spin), ==, 0);

  /* Open on Saturdays, 10:00–14:00. */
  adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (get_named (page, "day-6")), TRUE);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get_named (page, "day-6-open")), 10 * 60);
  spin = GTK_SPIN_BUTTON (get_named (page, "day-6-close"));
  gtk_editable_set_text (GTK_EDITABLE (spin), "14:00");
  gtk_spin_button_update (spin);

  /* Christmas goes, the first of May comes. */
  g_signal_emit_by_name (get_named (page, "holiday-remove-2026-12-25"), "clicked");
  g_assert_null (find_named (page, "holiday-remove-2026-12-25"));
  may_day = g_date_time_new_local (2026, 5, 1, 12, 0, 0);
  gtk_calendar_select_day (GTK_CALENDAR (get_named (page, "holiday-calendar")), may_day);
  gtk_editable_set_text (GTK_EDITABLE (get_named (page, "holiday-name")), "Labour Day");
  g_signal_emit_by_name (get_named (page, "holiday-add"), "clicked");
  g_assert_nonnull (find_named (page, "holiday-remove-2026-05-01"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (get_named (page, "holiday-name"))), ==, "");

  g_signal_emit_by_name (save, "clicked");
  g_assert_true (fd_sla_page_get_busy (FD_SLA_PAGE (page)));
  wait_idle (FD_SLA_PAGE (page));
  g_assert_false (gtk_widget_get_visible (gtk_widget_get_parent (get_named (page, "save-error"))));
  g_assert_false (gtk_widget_get_sensitive (save));

  /* The store has it. */
  saved = load (store);
  g_assert_cmpstr (fd_sla_calendar_get_time_zone (saved->calendar), ==, "Europe/Berlin");
  g_assert_cmpint (fd_sla_config_find_policy (saved, "enterprise", "urgent")->first_reply_minutes, ==, 45);
  g_assert_cmpint (fd_sla_config_find_policy (saved, "enterprise", "urgent")->next_reply_minutes, ==, 60);
  g_assert_cmpint (fd_sla_config_find_policy (saved, "pro", "low")->resolution_minutes, ==, 75);
  g_assert_cmpint (fd_sla_config_find_policy (saved, "free", "low")->next_reply_minutes, ==, 0);
  g_assert_true (fd_sla_calendar_get_hours (saved->calendar, G_DATE_SATURDAY, &open_minute, &close_minute));
  g_assert_cmpint (open_minute, ==, 600);
  g_assert_cmpint (close_minute, ==, 840);
  g_assert_false (fd_sla_calendar_get_hours (saved->calendar, G_DATE_SUNDAY, NULL, NULL));
  days = fd_sla_calendar_list_holidays (saved->calendar);
  g_assert_cmpuint (g_strv_length (days), ==, 1);
  g_assert_cmpstr (days[0], ==, "2026-05-01");
  g_assert_cmpstr (fd_sla_calendar_get_holiday_name (saved->calendar, "2026-05-01"), ==, "Labour Day");

  destroy_and_finalize (window);

  /* A new page shows the saved settings. */
  page = show_page (store, &window);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (get_named (page, "target-enterprise-urgent-first_reply"))), ==, 45);
  g_assert_true (adw_expander_row_get_enable_expansion (ADW_EXPANDER_ROW (get_named (page, "day-6"))));
  g_assert_nonnull (find_named (page, "holiday-remove-2026-05-01"));
  destroy_and_finalize (window);

  fd_store_close (store);
}

static void
test_sla_page_refuses (void)
{
  g_autoptr(FdStore) store = open_store ();
  g_autoptr(FdSlaConfig) saved = NULL;
  GtkWindow *window;
  GtkWidget *page = show_page (store, &window);
  GtkWidget *error_label = get_named (page, "save-error");
  GtkWidget *zone = get_named (page, "time-zone");

  /* An unknown zone is marked at once and refused on saving, in words. */
  gtk_editable_set_text (GTK_EDITABLE (zone), "Nowhere/Land");
  g_assert_true (gtk_widget_has_css_class (zone, "error"));
  g_signal_emit_by_name (get_named (page, "save"), "clicked");
  g_assert_false (fd_sla_page_get_busy (FD_SLA_PAGE (page)));
  g_assert_true (gtk_widget_get_visible (gtk_widget_get_parent (error_label)));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (error_label)), "Nowhere/Land"));

  /* Hours that end before they start. */
  gtk_editable_set_text (GTK_EDITABLE (zone), "America/New_York");
  g_assert_false (gtk_widget_has_css_class (zone, "error"));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get_named (page, "day-2-open")), 18 * 60);
  g_assert_true (gtk_widget_has_css_class (get_named (page, "day-2"), "error"));
  g_signal_emit_by_name (get_named (page, "save"), "clicked");
  g_assert_true (gtk_widget_get_visible (gtk_widget_get_parent (error_label)));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (error_label)), "Tuesday"));

  /* Revert shows the saved settings again. */
  g_signal_emit_by_name (get_named (page, "revert"), "clicked");
  wait_idle (FD_SLA_PAGE (page));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (zone)), ==, "Europe/Berlin");
  g_assert_false (gtk_widget_has_css_class (get_named (page, "day-2"), "error"));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (get_named (page, "day-2-open"))), ==, 9 * 60);

  saved = load (store);
  g_assert_cmpstr (fd_sla_calendar_get_time_zone (saved->calendar), ==, "Europe/Berlin");
  g_assert_true (fd_sla_calendar_get_hours (saved->calendar, G_DATE_TUESDAY, NULL, NULL));

  destroy_and_finalize (window);
  fd_store_close (store);
}

/* The preferences window has the page. */
static void
test_sla_page_in_preferences (void)
{
  GtkWindow *window = g_object_new (FD_TYPE_PREFERENCES_WINDOW, NULL);
  GtkWidget *page = find_page (GTK_WIDGET (window));

  g_assert_nonnull (page);
  g_assert_cmpstr (adw_preferences_page_get_name (ADW_PREFERENCES_PAGE (page)), ==, "sla");
  g_assert_cmpstr (adw_preferences_page_get_title (ADW_PREFERENCES_PAGE (page)), ==, "SLA");
  g_assert_cmpstr (adw_preferences_page_get_icon_name (ADW_PREFERENCES_PAGE (page)), ==, "alarm-symbolic");
  g_assert_null (fd_sla_page_get_store (FD_SLA_PAGE (page)));

  gtk_window_present (window);
  destroy_and_finalize (window);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();

  g_test_add_func ("/sla-page/edit-and-save", test_sla_page_edit_and_save);
  g_test_add_func ("/sla-page/refuses", test_sla_page_refuses);
  g_test_add_func ("/sla-page/in-preferences", test_sla_page_in_preferences);

  return g_test_run ();
}
