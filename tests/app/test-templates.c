/* test-templates.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Creates every templated type once. Run with G_DEBUG=fatal-warnings (meson sets it),
 * so a wrong property, signal, child id or object class in a .ui file fails here.
 */

#define G_LOG_DOMAIN "test-templates"

#include "config.h"

#include <adwaita.h>

#include "fd-account-row.h"
#include "fd-billing-dialogs.h"
#include "fd-billing-page.h"
#include "fd-composer.h"
#include "fd-context-panel.h"
#include "fd-conversation-row.h"
#include "fd-conversation-view.h"
#include "fd-inbox-page.h"
#include "fd-preferences-window.h"
#include "fd-sla-page.h"
#include "fd-sync-foot.h"
#include "fd-window.h"

static void
destroy_and_finalize (GtkWindow *window)
{
  g_object_ref (window);
  gtk_window_destroy (window);
  g_assert_finalize_object (window);
}

static void
test_templates_window (void)
{
  GtkWindow *window;

  window = g_object_new (FD_TYPE_WINDOW, NULL);
  g_assert_true (FD_IS_WINDOW (window));
  g_assert_true (fd_window_area_is_valid (fd_window_get_area (FD_WINDOW (window))));

  gtk_window_present (window);
  destroy_and_finalize (window);
}

static void
test_templates_preferences_window (void)
{
  GtkWindow *window;

  window = g_object_new (FD_TYPE_PREFERENCES_WINDOW, NULL);
  g_assert_true (FD_IS_PREFERENCES_WINDOW (window));

  gtk_window_present (window);
  destroy_and_finalize (window);
}

static void
test_templates_account_row (void)
{
  g_autoptr(FdAccount) account = NULL;
  GtkWidget *row;
  GtkWidget *foot;

  account = fd_account_new (FD_ACCOUNT_KIND_SLACK, "Acme <Slack>", "http://127.0.0.1:9/slack/api");
  row = g_object_ref_sink (GTK_WIDGET (fd_account_row_new (account)));
  g_assert_true (FD_IS_ACCOUNT_ROW (row));
  g_assert_true (fd_account_row_get_account (FD_ACCOUNT_ROW (row)) == account);
  g_assert_null (fd_account_row_get_state (FD_ACCOUNT_ROW (row)));
  g_assert_finalize_object (row);

  foot = g_object_ref_sink (fd_sync_foot_new ());
  g_assert_true (FD_IS_SYNC_FOOT (foot));
  g_assert_finalize_object (foot);
}

static void
test_templates_widgets (void)
{
  /* Every templated widget alone, with no store: what a template gets wrong shows here
   * even when no other test happens to build that widget. */
  GType types[] = {
    FD_TYPE_INBOX_PAGE,
    FD_TYPE_CONVERSATION_VIEW,
    FD_TYPE_CONVERSATION_ROW,
    FD_TYPE_COMPOSER,
    FD_TYPE_CONTEXT_PANEL,
    FD_TYPE_SLA_PAGE,
    FD_TYPE_BILLING_PAGE,
  };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      GtkWindow *window = GTK_WINDOW (gtk_window_new ());
      GtkWidget *widget = g_object_new (types[i], NULL);

      g_test_message ("%s", g_type_name (types[i]));
      g_object_add_weak_pointer (G_OBJECT (widget), (gpointer *) &widget);
      gtk_window_set_child (window, widget);
      gtk_window_present (window);
      while (g_main_context_pending (NULL))
        g_main_context_iteration (NULL, FALSE);
      destroy_and_finalize (window);
      g_assert_null (widget);
    }
}

static void
test_templates_billing_windows (void)
{
  GType types[] = {
    FD_TYPE_BILLING_ACTION_DIALOG,
    FD_TYPE_BILLING_DISPUTE_WINDOW,
  };

  GtkWindow *parent = GTK_WINDOW (gtk_window_new ());

  gtk_window_present (parent);

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      GtkWindow *window = g_object_new (types[i], "transient-for", parent, NULL);

      g_test_message ("%s", g_type_name (types[i]));
      gtk_window_present (window);
      while (g_main_context_pending (NULL))
        g_main_context_iteration (NULL, FALSE);
      destroy_and_finalize (window);
    }

  destroy_and_finalize (parent);
}

static void
test_templates_shortcuts_window (void)
{
  g_autoptr(GtkBuilder) builder = NULL;
  GtkWindow *window;

  builder = gtk_builder_new_from_resource (APP_PATH "/gtk/help-overlay.ui");
  window = GTK_WINDOW (gtk_builder_get_object (builder, "help_overlay"));
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (window));

  g_object_ref (window);
  g_clear_object (&builder);

  gtk_window_present (window);
  gtk_window_destroy (window);
  g_assert_finalize_object (window);
}

static void
test_templates_style (void)
{
  g_autoptr(GBytes) css = NULL;

  /* AdwApplication loads this by name; it must sit at the base path. */
  css = g_resources_lookup_data (APP_PATH "/style.css", 0, NULL);
  g_assert_nonnull (css);
  g_assert_cmpuint (g_bytes_get_size (css), >, 0);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/templates/window", test_templates_window);
  g_test_add_func ("/templates/preferences-window", test_templates_preferences_window);
  g_test_add_func ("/templates/account-row", test_templates_account_row);
  g_test_add_func ("/templates/widgets", test_templates_widgets);
  g_test_add_func ("/templates/billing-windows", test_templates_billing_windows);
  g_test_add_func ("/templates/shortcuts-window", test_templates_shortcuts_window);
  g_test_add_func ("/templates/style", test_templates_style);

  return g_test_run ();
}
