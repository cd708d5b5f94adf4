/* test-sync-ui.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The accounts' sync state in Preferences → Accounts and in the sidebar's foot, with a
 * real FdApplication, its sync engine and the sandbox running in this process.
 */

#define G_LOG_DOMAIN "test-sync-ui"

#include "config.h"

#include "../fd-test-keyring.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "fd-account.h"
#include "fd-account-row.h"
#include "fd-application-private.h"
#include "fd-paths.h"
#include "fd-preferences-window.h"
#include "fd-store.h"
#include "fd-sync-foot.h"
#include "fd-sync-status.h"
#include "fd-window-private.h"
#ifdef FD_HAVE_SANDBOX
# include "fd-sandbox.h"
#endif

#define WAIT_TIMEOUT_USEC (90 * G_USEC_PER_SEC)

#include "../fd-test-wait.h"

static FdApplication *app;
static char *profile_dir;
static gboolean keyring;

static gboolean
store_settled (gpointer data)
{
  return fd_application_get_store_ready (app) || fd_application_get_store_error (app) != NULL;
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

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tree (path);
      else
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
close_preferences (FdPreferencesWindow *preferences)
{
  g_object_add_weak_pointer (G_OBJECT (preferences), (gpointer *)&preferences);
  gtk_window_close (GTK_WINDOW (preferences));
  wait_until (pointer_cleared, &preferences);
}

#define PREFS_CHILD(self, name) \
  GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self), FD_TYPE_PREFERENCES_WINDOW, name))
#define ROW_CHILD(self, name) \
  GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self), FD_TYPE_ACCOUNT_ROW, name))

/* ------------------------------------------------------------------------------------ */

static void
test_sync_ui_format (void)
{
  const gint64 now = 1764000000000;
  struct {
    gint64      age_ms;
    gboolean    compact;
    const char *expected;
  } cases[] = {
    { -5000, FALSE, "Synced just now" },
    { 0, FALSE, "Synced just now" },
    { 59 * 1000, FALSE, "Synced just now" },
    { 60 * 1000, FALSE, "Synced 1 minute ago" },
    { 2 * 60 * 1000 + 5000, FALSE, "Synced 2 minutes ago" },
    { 2 * 60 * 1000 + 5000, TRUE, "Synced 2 min ago" },
    { 3 * 3600 * 1000, FALSE, "Synced 3 hours ago" },
    { 3 * 3600 * 1000, TRUE, "Synced 3 h ago" },
    { 49 * 3600 * 1000, FALSE, "Synced 2 days ago" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = _fd_sync_status_format_last_sync (now - cases[i].age_ms, now, cases[i].compact);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }

  {
    g_autofree char *never = _fd_sync_status_format_last_sync (0, now, TRUE);
    g_autofree char *when = _fd_sync_status_format_time (now);

    g_assert_cmpstr (never, ==, "Not synced yet");
    g_assert_cmpstr (when, !=, "");
  }

  g_assert_true (_fd_sync_status_kind_syncs (FD_ACCOUNT_KIND_SLACK));
  g_assert_false (_fd_sync_status_kind_syncs (FD_ACCOUNT_KIND_STRIPE));
}

/* Without an engine state, accounts still get a line; past three, a count. Billing and
 * bug-tracking accounts do not sync, so they get none. */
static void
test_sync_ui_foot_more (void)
{
  g_autoptr(GListStore) accounts = g_list_store_new (FD_TYPE_ACCOUNT);
  GtkWidget *foot = g_object_ref_sink (fd_sync_foot_new ());
  const FdAccountKind kinds[] = {
    FD_ACCOUNT_KIND_INTERCOM, FD_ACCOUNT_KIND_SLACK, FD_ACCOUNT_KIND_STRIPE,
    FD_ACCOUNT_KIND_DISCOURSE, FD_ACCOUNT_KIND_SLACK, FD_ACCOUNT_KIND_LINEAR,
    FD_ACCOUNT_KIND_INTERCOM,
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *name = g_strdup_printf ("Account %u", i);
      g_autoptr(FdAccount) account = fd_account_new (kinds[i], name, "http://127.0.0.1:9");

      g_list_store_append (accounts, account);
    }

  fd_sync_foot_set_accounts (FD_SYNC_FOOT (foot), G_LIST_MODEL (accounts));
  g_assert_cmpuint (_fd_sync_foot_get_n_lines (FD_SYNC_FOOT (foot)), ==, FD_SYNC_FOOT_MAX_LINES);
  g_assert_cmpstr (_fd_sync_foot_get_status (FD_SYNC_FOOT (foot), 0), ==, "Not synced yet");
  g_assert_cmpstr (_fd_sync_foot_get_more (FD_SYNC_FOOT (foot)), ==, "and 2 more");

  g_list_store_splice (accounts, 2, 5, NULL, 0);
  fd_sync_foot_set_accounts (FD_SYNC_FOOT (foot), G_LIST_MODEL (accounts));
  g_assert_cmpuint (_fd_sync_foot_get_n_lines (FD_SYNC_FOOT (foot)), ==, 2);
  g_assert_null (_fd_sync_foot_get_more (FD_SYNC_FOOT (foot)));

  g_assert_finalize_object (foot);
}

/* Slack's optional app-level token is asked for only for Slack, and checked. */
static void
test_sync_ui_slack_app_token (void)
{
  FdWindow *window = create_window ();
  FdPreferencesWindow *preferences;
  GtkWidget *kind_row;
  GtkWidget *name_row;
  GtkWidget *secret_row;
  GtkWidget *app_token_row;
  GtkWidget *app_token_caption;
  GtkWidget *connect_button;
  GtkWidget *form_error_box;

  wait_until (store_settled, NULL);

  preferences = fd_preferences_window_new (app);
  gtk_window_set_transient_for (GTK_WINDOW (preferences), GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (preferences));

  kind_row = PREFS_CHILD (preferences, "kind_row");
  name_row = PREFS_CHILD (preferences, "name_row");
  secret_row = PREFS_CHILD (preferences, "secret_row");
  app_token_row = PREFS_CHILD (preferences, "app_token_row");
  app_token_caption = PREFS_CHILD (preferences, "app_token_caption");
  connect_button = PREFS_CHILD (preferences, "connect_button");
  form_error_box = PREFS_CHILD (preferences, "form_error_box");

  g_assert_false (gtk_widget_get_visible (app_token_row));

  adw_combo_row_set_selected (ADW_COMBO_ROW (kind_row), FD_ACCOUNT_KIND_SLACK);
  g_assert_true (gtk_widget_get_visible (app_token_row));
  g_assert_true (gtk_widget_get_visible (app_token_caption));

  gtk_editable_set_text (GTK_EDITABLE (name_row), "Acme Slack");
  gtk_editable_set_text (GTK_EDITABLE (secret_row), "xoxb-123");
  gtk_editable_set_text (GTK_EDITABLE (app_token_row), "xoxb-not-an-app-token");
  g_signal_emit_by_name (connect_button, "clicked");
  g_assert_true (gtk_widget_get_visible (form_error_box));
  g_assert_true (gtk_widget_has_css_class (app_token_row, "error"));
  g_assert_false (gtk_widget_has_css_class (secret_row, "error"));

  /* Another service hides and empties it. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (kind_row), FD_ACCOUNT_KIND_DISCOURSE);
  g_assert_false (gtk_widget_get_visible (app_token_row));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (app_token_row)), ==, "");

  close_preferences (preferences);
  close_and_finalize (window);
}

#ifdef FD_HAVE_SANDBOX

static FdSandbox *sandbox;

typedef struct
{
  GtkListBox *list;
  const char *name;
} RowQuery;

static FdAccountRow *
find_row (GtkListBox *list,
          const char *name)
{
  for (int i = 0; ; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (list, i);

      if (row == NULL)
        return NULL;

      if (FD_IS_ACCOUNT_ROW (row) &&
          g_strcmp0 (fd_account_get_name (fd_account_row_get_account (FD_ACCOUNT_ROW (row))), name) == 0)
        return FD_ACCOUNT_ROW (row);
    }
}

static const char *
row_status (FdAccountRow *row)
{
  return gtk_label_get_label (GTK_LABEL (ROW_CHILD (row, "status_label")));
}

static gboolean
row_syncing (gpointer data)
{
  RowQuery *query = data;
  FdAccountRow *row = find_row (query->list, query->name);

  return row != NULL &&
         gtk_widget_get_visible (ROW_CHILD (row, "sync_spinner")) &&
         g_strcmp0 (row_status (row), "Syncing…") == 0;
}

static gboolean
row_synced (gpointer data)
{
  RowQuery *query = data;
  FdAccountRow *row = find_row (query->list, query->name);

  return row != NULL &&
         g_str_has_prefix (row_status (row), "Synced ") &&
         !gtk_widget_get_visible (ROW_CHILD (row, "sync_spinner"));
}

static gboolean
row_failed (gpointer data)
{
  RowQuery *query = data;
  FdAccountRow *row = find_row (query->list, query->name);

  return row != NULL && gtk_widget_get_visible (ROW_CHILD (row, "error_box"));
}

static gboolean
foot_says (FdSyncFoot *foot,
           const char *status)
{
  for (guint i = 0; i < FD_SYNC_FOOT_MAX_LINES; i++)
    {
      if (g_strcmp0 (_fd_sync_foot_get_status (foot, i), status) == 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
foot_syncing (gpointer data)
{
  return foot_says (data, "Syncing…");
}

static gboolean
foot_synced (gpointer data)
{
  return foot_says (data, "Synced just now");
}

static gboolean
foot_failed (gpointer data)
{
  return foot_says (data, "Sync failed");
}

static gboolean
inbox_counted (gpointer data)
{
  return _fd_window_get_open_count (data) > 0;
}

/* The UI thread must stay free while a sync runs: a timer that should fire every 20 ms
 * records the longest wait between two runs. */
typedef struct
{
  gint64 last;
  gint64 longest;
} Heartbeat;

static gboolean
heartbeat_cb (gpointer data)
{
  Heartbeat *heartbeat = data;
  gint64 now = g_get_monotonic_time ();

  if (heartbeat->last != 0)
    heartbeat->longest = MAX (heartbeat->longest, now - heartbeat->last);
  heartbeat->last = now;

  return G_SOURCE_CONTINUE;
}

static gboolean
saved_cb_done (gpointer data)
{
  return *(gboolean *) data;
}

static void
account_saved_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  fd_account_save_finish (FD_STORE (object), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

static void
add_account (FdAccountKind  kind,
             const char    *name,
             const char    *path,
             const char    *secret)
{
  g_autofree char *base_url = g_strconcat (fd_sandbox_get_base_url (sandbox), path, NULL);
  g_autoptr(FdAccount) account = fd_account_new (kind, name, base_url);
  gboolean done = FALSE;

  fd_account_save_async (fd_application_get_store (app), account, secret, NULL,
                         account_saved_cb, &done);
  wait_until (saved_cb_done, &done);

  /* As Preferences does after saving: the engine reads the accounts again. */
  fd_application_accounts_changed (app);
}

static void
test_sync_ui_accounts (void)
{
  FdWindow *window;
  FdPreferencesWindow *preferences;
  FdSyncFoot *foot;
  GtkListBox *list;
  FdAccountRow *row;
  RowQuery healthy;
  RowQuery failing;
  GtkWidget *sync_button;
  const char *error_text;
  Heartbeat heartbeat = { 0, 0 };
  guint heartbeat_source;
  guint requests;

  if (!keyring)
    {
      g_test_skip ("No Secret Service on the session bus; run under build-aux/with-keyring");
      return;
    }

  window = create_window ();
  wait_until (store_settled, NULL);
  g_assert_nonnull (fd_application_get_sync_engine (app));

  foot = _fd_window_get_sync_foot (window);

  preferences = fd_preferences_window_new (app);
  gtk_window_set_transient_for (GTK_WINDOW (preferences), GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (preferences));
  list = GTK_LIST_BOX (PREFS_CHILD (preferences, "accounts_list"));

  healthy = (RowQuery) { list, "Acme Intercom" };
  failing = (RowQuery) { list, "Acme Community" };

  /* The first page answers slowly, so the sync is seen while it runs. */
  fd_sandbox_add_fault (sandbox, "/intercom", FD_SANDBOX_FAULT_SLOW, 1, 1500);
  add_account (FD_ACCOUNT_KIND_INTERCOM, "Acme Intercom", "/intercom", FD_SANDBOX_INTERCOM_TOKEN);
  heartbeat_source = g_timeout_add (20, heartbeat_cb, &heartbeat);

  wait_until (row_syncing, &healthy);
  wait_until (foot_syncing, foot);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (foot)));
  row = find_row (list, "Acme Intercom");
  g_assert_false (gtk_widget_get_sensitive (ROW_CHILD (row, "sync_button")));
  g_assert_false (gtk_widget_get_visible (ROW_CHILD (row, "error_box")));

  wait_until (row_synced, &healthy);
  wait_until (foot_synced, foot);
  g_source_remove (heartbeat_source);

  /* Thousands of conversations were fetched and stored meanwhile, on other threads. A
   * sync on the UI thread would stall it for many seconds; a busy CI machine delays it a
   * little, so the bound catches the first and not the second. (The figure itself is
   * for people to read; speed is measured by the benchmarks.) */
  g_test_message ("Longest pause of the UI thread during the first sync: %" G_GINT64_FORMAT " ms",
                  heartbeat.longest / 1000);
  g_assert_cmpint (heartbeat.longest, <, 2 * G_USEC_PER_SEC);

  row = find_row (list, "Acme Intercom");
  g_assert_cmpstr (row_status (row), ==, "Synced just now");
  g_assert_false (gtk_widget_get_visible (ROW_CHILD (row, "error_box")));
  /* The outbox counts are hidden while there is nothing waiting. */
  g_assert_false (gtk_widget_get_visible (ROW_CHILD (row, "pending_label")));
  g_assert_false (gtk_widget_get_visible (ROW_CHILD (row, "retry_button")));

  /* The sync brought conversations: the Inbox count follows. */
  wait_until (inbox_counted, window);

  /* Sync Now asks the service again. */
  sync_button = ROW_CHILD (row, "sync_button");
  g_assert_true (gtk_widget_get_sensitive (sync_button));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (sync_button), ==, "Sync Now");
  requests = fd_sandbox_get_request_count (sandbox, "/intercom");
  fd_sandbox_add_fault (sandbox, "/intercom", FD_SANDBOX_FAULT_SLOW, 1, 1000);
  g_signal_emit_by_name (sync_button, "clicked");
  wait_until (row_syncing, &healthy);
  wait_until (row_synced, &healthy);
  g_assert_cmpuint (fd_sandbox_get_request_count (sandbox, "/intercom"), >, requests);

  /* A wrong key: the row says why in words, with an icon; the foot says it failed. */
  add_account (FD_ACCOUNT_KIND_DISCOURSE, "Acme Community", "/discourse", "not-the-key");

  wait_until (row_failed, &failing);
  wait_until (foot_failed, foot);
  row = find_row (list, "Acme Community");
  error_text = gtk_label_get_label (GTK_LABEL (ROW_CHILD (row, "error_label")));
  g_test_message ("The error shown: %s", error_text);
  g_assert_cmpstr (error_text, !=, "");
  g_assert_null (strchr (error_text, '{'));
  g_assert_true (gtk_widget_get_visible (ROW_CHILD (row, "warning_icon")));
  g_assert_cmpstr (gtk_image_get_icon_name (GTK_IMAGE (ROW_CHILD (row, "warning_icon"))), ==, "dialog-warning-symbolic");
  g_assert_true (gtk_widget_has_css_class (ROW_CHILD (row, "error_label"), "error"));
  g_assert_true (gtk_widget_get_sensitive (ROW_CHILD (row, "sync_button")));

  /* The healthy account stays healthy beside it. */
  g_assert_true (row_synced (&healthy));
  g_assert_true (foot_says (foot, "Synced just now"));
  g_assert_cmpuint (_fd_sync_foot_get_n_lines (foot), ==, 2);

  close_preferences (preferences);
  close_and_finalize (window);
}

#endif /* FD_HAVE_SANDBOX */

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  /* Under Xvfb the GL renderer is llvmpipe, whose threads compete with the sync for the
   * CPUs and stall frames; the UI thread's own pauses are what the test measures. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);

  gtk_test_init (&argc, &argv, NULL);

  keyring = fd_test_keyring_available ();

  profile_dir = g_dir_make_tmp ("frontdesk-test-sync-ui-XXXXXX", &error);
  g_assert_no_error (error);

#ifdef FD_HAVE_SANDBOX
  if (keyring)
    {
      g_autofree char *db_path = g_build_filename (profile_dir, "sandbox.db", NULL);

      sandbox = fd_sandbox_new (db_path);
      fd_sandbox_seed (sandbox, 1, FD_DEMO_SCALE_SMALL, &error);
      g_assert_no_error (error);
      fd_sandbox_run_in_thread (sandbox, 0, &error);
      g_assert_no_error (error);
    }
#endif

  app = fd_application_new ();
  {
    g_autofree char *app_profile = g_build_filename (profile_dir, "profile", NULL);

    _fd_application_set_profile_dir (app, app_profile);
  }
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/sync-ui/format", test_sync_ui_format);
  g_test_add_func ("/sync-ui/foot-more", test_sync_ui_foot_more);
  g_test_add_func ("/sync-ui/slack-app-token", test_sync_ui_slack_app_token);
#ifdef FD_HAVE_SANDBOX
  g_test_add_func ("/sync-ui/accounts", test_sync_ui_accounts);
#endif

  ret = g_test_run ();

  /* The engine first: it must not write to a closed store. */
  if (fd_application_get_sync_engine (app) != NULL)
    fd_sync_engine_stop (fd_application_get_sync_engine (app));
  fd_store_close (fd_application_get_store (app));
  g_clear_object (&app);

#ifdef FD_HAVE_SANDBOX
  if (sandbox != NULL)
    fd_sandbox_stop (sandbox);
  g_clear_object (&sandbox);
#endif

  remove_tree (profile_dir);
  g_clear_pointer (&profile_dir, g_free);

  return ret;
}
