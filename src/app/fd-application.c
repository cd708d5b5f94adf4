/* fd-application.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-application"

#include "config.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
# include <sys/prctl.h>
#endif

#include "fd-account.h"
#include "fd-application-private.h"
#include "fd-inbox-page.h"
#include "fd-inbox-store.h"
#include "fd-paths.h"
#include "fd-preferences-window.h"
#include "fd-resources.h"
#include "fd-sla.h"
#include "fd-window-private.h"
#include "fd-window.h"
/* Only for the sandbox's fixed, made-up tokens (macros): the app does not link it. */
#include "../sandbox/fd-sandbox.h"

/* How long the demo server may take to seed its database and start listening. */
#define SANDBOX_START_TIMEOUT_SECONDS 60
/* How long the demo server gets to stop after SIGTERM before it is killed. */
#define SANDBOX_STOP_TIMEOUT_MS 2000

/* Snoozed conversations wake and alerts are looked for this often, and after each sync. */
#define ALERT_SCAN_INTERVAL_SECONDS 60
/* A synced conversation carries the time it was created on the service, which can be
 * before the previous scan: new ones are looked for this far back, and ones already
 * notified are remembered this long so they are not notified twice. */
#define ALERT_LOOKBACK_MS (15 * 60 * 1000)
/* More alerts than this at once become one summary notification. */
#define ALERT_MAX_NOTIFICATIONS 3

struct _FdApplication
{
  AdwApplication  parent_instance;

  char           *profile_dir;
  char           *initial_area;
  FdStore        *store;
  GError         *store_error;
  GCancellable   *cancellable;
  FdSyncEngine   *sync_engine;

  /* The demo's frontdesk-sandbox child process. */
  GSubprocess    *sandbox;
  GDataInputStream *sandbox_stdout;
  char           *sandbox_url;
  guint           sandbox_timeout;
  GError         *demo_error;

  /* Desktop notifications: the periodic scan, when the first and the previous scans
   * ran (UTC ms, 0 before the first), the new Enterprise conversations already
   * notified (id → when), and whether anyone shows notifications. */
  guint           alert_source;
  guint           notifications_watch;
  gint64          first_scan_ms;
  gint64          last_scan_ms;
  GHashTable     *notified;

  guint           demo : 1;
  guint           store_ready : 1;
  guint           sandbox_settled : 1;
  guint           shutting_down : 1;
  guint           scanning : 1;
  guint           scan_again : 1;
  guint           notifications_available : 1;
};

G_DEFINE_FINAL_TYPE (FdApplication, fd_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_DEMO,
  PROP_PROFILE_DIR,
  PROP_STORE_READY,
  PROP_STORE_ERROR,
  PROP_SYNC_ENGINE,
  PROP_DEMO_ERROR,
  N_PROPS
};

enum {
  ACCOUNTS_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static const GOptionEntry option_entries[] = {
  { "profile", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Use the profile in DIRECTORY instead of the default one"), N_("DIRECTORY") },
  { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open the demo workspace, with made-up customers and conversations served by a local demo server"), NULL },
  /* Hidden, for build-aux/screenshot and for people who script the app:
   * "--area billing" opens the window on Billing. */
  { "area", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, NULL,
    N_("Open the window on AREA: inbox, customers, billing, docs or insights"), N_("AREA") },
  { NULL }
};

static void
fd_application_set_store_error (FdApplication *self,
                                const GError  *error)
{
  g_assert (FD_IS_APPLICATION (self));
  g_assert (error != NULL);

  g_warning ("Could not open the store in %s: %s", self->profile_dir, error->message);

  g_clear_error (&self->store_error);
  self->store_error = g_error_copy (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE_ERROR]);
}

static void
fd_application_set_store_ready (FdApplication *self)
{
  g_assert (FD_IS_APPLICATION (self));

  self->store_ready = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE_READY]);
}

static void
fd_application_set_demo_error (FdApplication *self,
                               const GError  *error)
{
  g_assert (FD_IS_APPLICATION (self));
  g_assert (error != NULL);

  g_warning ("The demo could not start: %s", error->message);

  g_clear_error (&self->demo_error);
  self->demo_error = g_error_copy (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEMO_ERROR]);
}

static void
fd_application_start_sync (FdApplication *self)
{
  g_assert (FD_IS_APPLICATION (self));

  if (self->sync_engine != NULL && !self->shutting_down)
    fd_sync_engine_start (self->sync_engine);
}

/* The demo's accounts, connected to the sandbox; the base URLs are under the sandbox's
 * address, which changes with every run. */
static const struct {
  FdAccountKind  kind;
  const char    *name;
  const char    *path;
  const char    *secret;
} demo_accounts[] = {
  { FD_ACCOUNT_KIND_INTERCOM, N_("Demo Intercom"), "/intercom", FD_SANDBOX_INTERCOM_TOKEN },
  { FD_ACCOUNT_KIND_SLACK, N_("Demo Slack"), "/slack/api",
    FD_SANDBOX_SLACK_BOT_TOKEN " " FD_SANDBOX_SLACK_APP_TOKEN },
  { FD_ACCOUNT_KIND_DISCOURSE, N_("Demo Community"), "/discourse", FD_SANDBOX_DISCOURSE_KEY },
  { FD_ACCOUNT_KIND_STRIPE, N_("Demo Stripe"), "/stripe", FD_SANDBOX_STRIPE_KEY },
};

typedef struct
{
  FdApplication *self;
  guint          pending;
  GError        *error;
} DemoAccounts;

static void
fd_application_demo_accounts_done (DemoAccounts *data)
{
  FdApplication *self = data->self;

  if (data->error != NULL)
    fd_application_set_demo_error (self, data->error);

  /* Before the engine starts, so that it reads the accounts once, as they are now. */
  fd_application_accounts_changed (self);
  fd_application_start_sync (self);

  g_clear_error (&data->error);
  g_object_unref (data->self);
  g_free (data);
}

static void
fd_application_demo_account_saved_cb (GObject      *object,
                                      GAsyncResult *result,
                                      gpointer      user_data)
{
  DemoAccounts *data = user_data;
  g_autoptr(GError) error = NULL;

  if (!fd_account_save_finish (FD_STORE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      data->error == NULL)
    data->error = g_steal_pointer (&error);

  if (--data->pending == 0)
    fd_application_demo_accounts_done (data);
}

static void
fd_application_demo_list_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(FdApplication) self = user_data;
  g_autoptr(GListStore) accounts = NULL;
  g_autoptr(GError) error = NULL;
  DemoAccounts *data;
  guint n;

  accounts = fd_account_list_finish (FD_STORE (object), result, &error);
  if (accounts == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          fd_application_set_demo_error (self, error);
          fd_application_start_sync (self);
        }
      return;
    }

  n = g_list_model_get_n_items (G_LIST_MODEL (accounts));

  data = g_new0 (DemoAccounts, 1);
  data->self = g_object_ref (self);
  data->pending = G_N_ELEMENTS (demo_accounts);

  for (guint i = 0; i < G_N_ELEMENTS (demo_accounts); i++)
    {
      g_autoptr(FdAccount) account = NULL;
      g_autofree char *base_url = g_strconcat (self->sandbox_url, demo_accounts[i].path, NULL);
      const char *name = _(demo_accounts[i].name);

      for (guint j = 0; j < n && account == NULL; j++)
        {
          g_autoptr(FdAccount) candidate = g_list_model_get_item (G_LIST_MODEL (accounts), j);

          /* Found under the name of this run's language, or of the one it was made in. */
          if (fd_account_get_kind (candidate) == demo_accounts[i].kind &&
              (g_strcmp0 (fd_account_get_name (candidate), name) == 0 ||
               g_strcmp0 (fd_account_get_name (candidate), demo_accounts[i].name) == 0))
            account = g_steal_pointer (&candidate);
        }

      if (account != NULL)
        fd_account_set_base_url (account, base_url);
      else
        account = fd_account_new (demo_accounts[i].kind, name, base_url);

      /* The token is saved every time: it goes to the keyring, which may have been
       * emptied since the last run. */
      fd_account_save_async (self->store,
                             account,
                             demo_accounts[i].secret,
                             self->cancellable,
                             fd_application_demo_account_saved_cb,
                             data);
    }
}

static void
fd_application_sandbox_failed (FdApplication *self,
                               const char    *message)
{
  g_autoptr(GError) error = NULL;

  g_assert (FD_IS_APPLICATION (self));

  if (self->sandbox_settled)
    return;

  self->sandbox_settled = TRUE;
  g_clear_handle_id (&self->sandbox_timeout, g_source_remove);

  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, message);
  fd_application_set_demo_error (self, error);

  /* Accounts the user added to the demo profile still sync. */
  fd_application_start_sync (self);
}

static void
fd_application_sandbox_drain_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(FdApplication) self = user_data;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result, NULL, NULL);
  if (line == NULL)
    return;

  /* Whatever the sandbox prints after it started is read, so that a full pipe never
   * stalls it, and kept for debugging. */
  g_debug ("frontdesk-sandbox: %s", line);
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (object),
                                       G_PRIORITY_LOW,
                                       self->cancellable,
                                       fd_application_sandbox_drain_cb,
                                       g_object_ref (self));
}

static void
fd_application_sandbox_line_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(FdApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  const char *prefix = "listening on ";

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->sandbox_settled)
    return;

  if (line == NULL)
    {
      fd_application_sandbox_failed (self,
                                     _("The demo server stopped while starting. Run “frontdesk --demo” "
                                       "from a terminal to see why."));
      return;
    }

  g_strstrip (line);

  if (!g_str_has_prefix (line, prefix) ||
      !g_str_has_prefix (line + strlen (prefix), "http://127.0.0.1:"))
    {
      /* Not the line we wait for (progress while seeding, say): read on. */
      g_debug ("frontdesk-sandbox: %s", line);
      g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (object),
                                           G_PRIORITY_DEFAULT,
                                           self->cancellable,
                                           fd_application_sandbox_line_cb,
                                           g_object_ref (self));
      return;
    }

  self->sandbox_settled = TRUE;
  g_clear_handle_id (&self->sandbox_timeout, g_source_remove);

  g_free (self->sandbox_url);
  self->sandbox_url = g_strdup (line + strlen (prefix));
  g_debug ("The demo server listens on %s", self->sandbox_url);

  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (object),
                                       G_PRIORITY_LOW,
                                       self->cancellable,
                                       fd_application_sandbox_drain_cb,
                                       g_object_ref (self));

  fd_account_list_async (self->store,
                         self->cancellable,
                         fd_application_demo_list_cb,
                         g_object_ref (self));
}

static void
fd_application_sandbox_exited_cb (GObject      *object,
                                  GAsyncResult *result,
                                  gpointer      user_data)
{
  g_autoptr(FdApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (object), result, &error))
    return;

  if (self->shutting_down)
    return;

  if (!self->sandbox_settled)
    {
      fd_application_sandbox_failed (self,
                                     _("The demo server stopped while starting. Run “frontdesk --demo” "
                                       "from a terminal to see why."));
      return;
    }

  /* It ran and went away: the demo accounts' next syncs fail and say so, and this says
   * why. */
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("The demo server stopped. Quit Frontdesk and open the demo "
                                 "again to restart it."));
  fd_application_set_demo_error (self, error);
}

static gboolean
fd_application_sandbox_timeout_cb (gpointer user_data)
{
  FdApplication *self = user_data;

  self->sandbox_timeout = 0;

  fd_application_sandbox_failed (self,
                                 _("The demo server did not start in time. Quit Frontdesk and open "
                                   "the demo again."));
  if (self->sandbox != NULL)
    g_subprocess_force_exit (self->sandbox);

  return G_SOURCE_REMOVE;
}

#ifdef __linux__
static void
fd_application_sandbox_child_setup (gpointer user_data)
{
  /* The demo server must not outlive a Frontdesk that crashed. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}
#endif

/* FRONTDESK_SANDBOX names the program; otherwise the one built next to this one (when
 * running from the build folder), then the one on PATH. */
static char *
fd_application_find_sandbox (void)
{
  const char *env = g_getenv ("FRONTDESK_SANDBOX");
  g_autofree char *exe = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);

  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (exe);
      g_autofree char *path = g_build_filename (dir, "sandbox", "frontdesk-sandbox", NULL);

      if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&path);
    }

  return g_find_program_in_path ("frontdesk-sandbox");
}

static void
fd_application_start_sandbox (FdApplication *self)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *program = NULL;
  g_autofree char *db_path = NULL;
  g_auto(GStrv) extra = NULL;
  const char *extra_args;

  g_assert (FD_IS_APPLICATION (self));
  g_assert (self->sandbox == NULL);

  program = fd_application_find_sandbox ();
  if (program == NULL)
    {
      fd_application_sandbox_failed (self,
                                     _("The demo server (frontdesk-sandbox) is not installed. "
                                       "Install it, or set FRONTDESK_SANDBOX to its path."));
      return;
    }

  db_path = g_build_filename (self->profile_dir, "sandbox.db", NULL);

  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, program);
  g_ptr_array_add (argv, (char *) "--db");
  g_ptr_array_add (argv, db_path);
  g_ptr_array_add (argv, (char *) "--port");
  g_ptr_array_add (argv, (char *) "0");
  g_ptr_array_add (argv, (char *) "--seed");
  g_ptr_array_add (argv, (char *) "1");

  /* For build-aux/screenshot and manual testing: more options for the sandbox, such
   * as "--fault /slack/api:slow:0:60000". */
  extra_args = g_getenv ("FRONTDESK_SANDBOX_ARGS");
  if (extra_args != NULL && *extra_args != '\0' &&
      !g_shell_parse_argv (extra_args, NULL, &extra, &error))
    {
      g_warning ("Ignoring FRONTDESK_SANDBOX_ARGS: %s", error->message);
      g_clear_error (&error);
    }
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, extra[i]);

  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
#ifdef __linux__
  g_subprocess_launcher_set_child_setup (launcher, fd_application_sandbox_child_setup, NULL, NULL);
#endif

  self->sandbox = g_subprocess_launcher_spawnv (launcher,
                                                (const char * const *) argv->pdata,
                                                &error);
  if (self->sandbox == NULL)
    {
      g_autofree char *message = NULL;

      /* Translators: %s says why, from the system. */
      message = g_strdup_printf (_("The demo server could not be started (%s). Check that "
                                   "frontdesk-sandbox is installed, or set FRONTDESK_SANDBOX "
                                   "to its path."),
                                 error->message);
      fd_application_sandbox_failed (self, message);
      return;
    }

  self->sandbox_stdout = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->sandbox));
  g_data_input_stream_set_newline_type (self->sandbox_stdout, G_DATA_STREAM_NEWLINE_TYPE_ANY);

  self->sandbox_timeout = g_timeout_add_seconds (SANDBOX_START_TIMEOUT_SECONDS,
                                                 fd_application_sandbox_timeout_cb,
                                                 self);

  g_data_input_stream_read_line_async (self->sandbox_stdout,
                                       G_PRIORITY_DEFAULT,
                                       self->cancellable,
                                       fd_application_sandbox_line_cb,
                                       g_object_ref (self));
  g_subprocess_wait_async (self->sandbox,
                           self->cancellable,
                           fd_application_sandbox_exited_cb,
                           g_object_ref (self));
}

static void
fd_application_sandbox_stop_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *done = TRUE;
}

static gboolean
fd_application_sandbox_kill_cb (gpointer user_data)
{
  GSubprocess *sandbox = user_data;

  g_message ("The demo server did not stop in time; killing it");
  g_subprocess_force_exit (sandbox);

  return G_SOURCE_REMOVE;
}

/* Asks the demo server to stop and waits for it, at most SANDBOX_STOP_TIMEOUT_MS before
 * it is killed. The main loop runs meanwhile; the windows are gone by now. */
static void
fd_application_stop_sandbox (FdApplication *self)
{
  g_autoptr(GSubprocess) sandbox = NULL;
  gboolean done = FALSE;
  guint kill_source;

  g_assert (FD_IS_APPLICATION (self));

  g_clear_handle_id (&self->sandbox_timeout, g_source_remove);

  if (self->sandbox == NULL)
    return;

  sandbox = g_steal_pointer (&self->sandbox);

  g_subprocess_wait_async (sandbox, NULL, fd_application_sandbox_stop_cb, &done);
  g_subprocess_send_signal (sandbox, SIGTERM);
  kill_source = g_timeout_add (SANDBOX_STOP_TIMEOUT_MS, fd_application_sandbox_kill_cb, sandbox);

  while (!done)
    g_main_context_iteration (NULL, TRUE);

  g_clear_handle_id (&kill_source, g_source_remove);
  g_clear_object (&self->sandbox_stdout);
}

/* {{{ Alerts: snoozed conversations waking, desktop notifications */

typedef struct
{
  gint64  since_ms;
  gint64  now_ms;
} ScanJob;

typedef struct
{
  gint64     now_ms;
  guint      n_woken;
  GPtrArray *alerts;   /* FdInboxAlert */
} ScanResult;

static void
scan_result_free (gpointer data)
{
  ScanResult *result = data;

  g_clear_pointer (&result->alerts, g_ptr_array_unref);
  g_free (result);
}

/* Worker thread. */
static gboolean
scan_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  ScanJob *job = job_data;
  ScanResult *scan = g_new0 (ScanResult, 1);

  scan->now_ms = job->now_ms;

  if (!fd_inbox_wake_snoozed (db, job->now_ms, &scan->n_woken, error) ||
      !fd_inbox_scan_alerts (db, job->since_ms, job->now_ms, &scan->alerts, error))
    {
      scan_result_free (scan);
      return FALSE;
    }

  *result = scan;
  return TRUE;
}

static GNotification *
fd_application_alert_notification (FdInboxAlert *alert,
                                   gint64        now_ms)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;

  if (alert->kind == FD_INBOX_ALERT_NEW_ENTERPRISE)
    {
      notification = g_notification_new (_("New Enterprise conversation"));
      /* Translators: the body of a notification: the organisation, then the subject. */
      body = g_strdup_printf (_("%s: %s"), alert->organisation, alert->subject);
    }
  else if (alert->sla_due_at > now_ms)
    {
      g_autofree char *countdown = fd_sla_format_countdown (alert->sla_due_at, now_ms);

      notification = g_notification_new (_("SLA about to breach"));
      /* Translators: the body of a notification: "Due in 42 min: Cannot log in". */
      body = g_strdup_printf (_("Due in %s: %s"), countdown, alert->subject);
      g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
    }
  else
    {
      g_autofree char *overdue = fd_sla_format_countdown (now_ms, alert->sla_due_at);

      notification = g_notification_new (_("SLA breached"));
      /* Translators: the body of a notification: "Overdue by 15 min: Cannot log in". */
      body = g_strdup_printf (_("Overdue by %s: %s"), overdue, alert->subject);
      g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
    }

  g_notification_set_body (notification, body);
  g_notification_set_default_action_and_target_value (notification,
                                                      "app.open-conversation",
                                                      g_variant_new_int64 (alert->conversation_id));

  return g_steal_pointer (&notification);
}

static void
fd_application_send_alerts (FdApplication *self,
                            GPtrArray     *alerts,
                            gint64         now_ms)
{
  g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  /* Forget what is older than the look-back: it cannot come back. */
  g_hash_table_iter_init (&iter, self->notified);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      if (*(gint64 *) value < now_ms - 2 * ALERT_LOOKBACK_MS)
        g_hash_table_iter_remove (&iter);
    }

  for (guint i = 0; i < alerts->len; i++)
    {
      FdInboxAlert *alert = g_ptr_array_index (alerts, i);

      if (alert->kind == FD_INBOX_ALERT_NEW_ENTERPRISE)
        {
          if (g_hash_table_contains (self->notified, &alert->conversation_id))
            continue;
          g_hash_table_insert (self->notified,
                               g_memdup2 (&alert->conversation_id, sizeof (gint64)),
                               g_memdup2 (&now_ms, sizeof (gint64)));
        }

      g_ptr_array_add (fresh, alert);
    }

  /* Nobody to show them (a session without a notification service, as in the tests):
   * sending would only print a warning. */
  if (fresh->len == 0 || !self->notifications_available)
    return;

  if (fresh->len <= ALERT_MAX_NOTIFICATIONS)
    {
      for (guint i = 0; i < fresh->len; i++)
        {
          FdInboxAlert *alert = g_ptr_array_index (fresh, i);
          g_autoptr(GNotification) notification = fd_application_alert_notification (alert, now_ms);
          g_autofree char *id = g_strdup_printf ("conversation-%" G_GINT64_FORMAT, alert->conversation_id);

          g_application_send_notification (G_APPLICATION (self), id, notification);
        }
    }
  else
    {
      g_autoptr(GNotification) notification = NULL;
      g_autofree char *title = NULL;
      g_autoptr(GString) body = g_string_new (NULL);
      guint n_new = 0;
      guint n_sla = 0;

      for (guint i = 0; i < fresh->len; i++)
        {
          FdInboxAlert *alert = g_ptr_array_index (fresh, i);

          if (alert->kind == FD_INBOX_ALERT_NEW_ENTERPRISE)
            n_new++;
          else
            n_sla++;
        }

      title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                            "%u conversation needs attention",
                                            "%u conversations need attention",
                                            fresh->len),
                               fresh->len);
      if (n_new > 0)
        g_string_append_printf (body,
                                g_dngettext (GETTEXT_PACKAGE,
                                             "%u new Enterprise conversation",
                                             "%u new Enterprise conversations",
                                             n_new),
                                n_new);
      if (n_new > 0 && n_sla > 0)
        g_string_append_c (body, '\n');
      if (n_sla > 0)
        g_string_append_printf (body,
                                g_dngettext (GETTEXT_PACKAGE,
                                             "%u SLA at risk or breached",
                                             "%u SLAs at risk or breached",
                                             n_sla),
                                n_sla);

      notification = g_notification_new (title);
      g_notification_set_body (notification, body->str);
      if (n_sla > 0)
        g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
      g_notification_set_default_action_and_target_value (notification,
                                                          "app.show-area",
                                                          g_variant_new_string (FD_AREA_INBOX));
      g_application_send_notification (G_APPLICATION (self), "inbox-alerts", notification);
    }
}

static void fd_application_scan_alerts (FdApplication *self);

static void
fd_application_scan_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(FdApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  ScanResult *scan;

  self->scanning = FALSE;

  scan = fd_store_run_finish (FD_STORE (object), result, &error);
  if (scan == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !g_error_matches (error, FD_STORE_ERROR, FD_STORE_ERROR_CLOSED))
        g_message ("Could not look for conversations to notify: %s", error->message);
    }
  else
    {
      g_debug ("Alert scan: %u snoozed conversations woke, %u alerts",
               scan->n_woken, scan->alerts->len);

      /* The first scan only takes the time (and marks the conversations at risk as
       * alerted), so that opening Frontdesk does not bring a flood of notifications. */
      if (self->first_scan_ms == 0)
        self->first_scan_ms = scan->now_ms;
      else
        fd_application_send_alerts (self, scan->alerts, scan->now_ms);

      self->last_scan_ms = scan->now_ms;

      if (scan->n_woken > 0 || scan->alerts->len > 0)
        {
          for (const GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
            {
              if (FD_IS_WINDOW (l->data))
                _fd_window_reload_counts (FD_WINDOW (l->data));
            }
        }

      scan_result_free (scan);
    }

  if (self->scan_again)
    {
      self->scan_again = FALSE;
      fd_application_scan_alerts (self);
    }
}

static void
fd_application_scan_alerts (FdApplication *self)
{
  ScanJob *job;

  g_assert (FD_IS_APPLICATION (self));

  if (!self->store_ready || self->shutting_down)
    return;

  /* One scan at a time: a sync that ends meanwhile gets one more afterwards. */
  if (self->scanning)
    {
      self->scan_again = TRUE;
      return;
    }

  job = g_new0 (ScanJob, 1);
  job->now_ms = g_get_real_time () / 1000;
  job->since_ms = self->first_scan_ms == 0
    ? job->now_ms
    : MAX (self->first_scan_ms, self->last_scan_ms - ALERT_LOOKBACK_MS);

  self->scanning = TRUE;
  fd_store_run_async (self->store,
                      scan_job,
                      job,
                      g_free,
                      scan_result_free,
                      self->cancellable,
                      fd_application_scan_cb,
                      g_object_ref (self));
}

static gboolean
fd_application_alert_timeout_cb (gpointer user_data)
{
  fd_application_scan_alerts (FD_APPLICATION (user_data));

  return G_SOURCE_CONTINUE;
}

static void
fd_application_watch_account_states (FdApplication *self,
                                     guint          position,
                                     guint          removed,
                                     guint          added,
                                     GListModel    *states)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(FdAccountState) state = g_list_model_get_item (states, i);

      /* The last successful sync moves when a round ends with new data stored. */
      g_signal_connect_object (state, "notify::last-sync",
                               G_CALLBACK (fd_application_scan_alerts), self,
                               G_CONNECT_SWAPPED);
    }
}

static void
notifications_appeared_cb (GDBusConnection *connection,
                           const char      *name,
                           const char      *name_owner,
                           gpointer         user_data)
{
  FD_APPLICATION (user_data)->notifications_available = TRUE;
}

static void
notifications_vanished_cb (GDBusConnection *connection,
                           const char      *name,
                           gpointer         user_data)
{
  FD_APPLICATION (user_data)->notifications_available = FALSE;
}

static void
fd_application_start_alerts (FdApplication *self)
{
  GDBusConnection *connection;
  GListModel *states;

  g_assert (FD_IS_APPLICATION (self));

  connection = g_application_get_dbus_connection (G_APPLICATION (self));
  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    {
      /* GLib sends through the portal there. */
      self->notifications_available = connection != NULL;
    }
  else if (connection != NULL && self->notifications_watch == 0)
    {
      self->notifications_watch =
        g_bus_watch_name_on_connection (connection,
                                        "org.freedesktop.Notifications",
                                        G_BUS_NAME_WATCHER_FLAGS_AUTO_START,
                                        notifications_appeared_cb,
                                        notifications_vanished_cb,
                                        self, NULL);
    }

  if (self->sync_engine != NULL)
    {
      states = fd_sync_engine_get_accounts (self->sync_engine);
      g_signal_connect_object (states, "items-changed",
                               G_CALLBACK (fd_application_watch_account_states), self,
                               G_CONNECT_SWAPPED);
      fd_application_watch_account_states (self, 0, 0, g_list_model_get_n_items (states), states);
    }

  self->alert_source = g_timeout_add_seconds (ALERT_SCAN_INTERVAL_SECONDS,
                                              fd_application_alert_timeout_cb,
                                              self);
  fd_application_scan_alerts (self);
}

static void
fd_application_stop_alerts (FdApplication *self)
{
  g_clear_handle_id (&self->alert_source, g_source_remove);
  g_clear_handle_id (&self->notifications_watch, g_bus_unwatch_name);
}

/* }}} */

/* Conversations stored before SLA targets existed (or by an older Frontdesk) get their
 * due times once, after the window's first reads are queued. */
static gboolean
fd_application_fill_sla_job (sqlite3   *db,
                             gpointer   job_data,
                             gpointer  *result,
                             GError   **error)
{
  return fd_sla_update_all (db, NULL, FALSE, error);
}

static void
fd_application_fill_sla_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  fd_store_run_finish (FD_STORE (object), result, &error);
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("Could not compute SLA due times: %s", error->message);
}

static gboolean
fd_application_fill_sla_cb_idle (gpointer user_data)
{
  FdApplication *self = user_data;

  if (self->store != NULL && !self->shutting_down)
    fd_store_run_async (self->store, fd_application_fill_sla_job, NULL, NULL, NULL,
                        NULL, fd_application_fill_sla_cb, NULL);

  return G_SOURCE_REMOVE;
}

/* A moment after start, so the window's first reads are not queued behind it. */
static void
fd_application_fill_sla (FdApplication *self)
{
  g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, 2, fd_application_fill_sla_cb_idle,
                              g_object_ref (self), g_object_unref);
}

static void
fd_application_store_open_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(FdApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!fd_store_open_finish (FD_STORE (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fd_application_set_store_error (self, error);
      return;
    }

  if (self->shutting_down)
    return;

  self->sync_engine = fd_sync_engine_new (self->store);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_ENGINE]);

  /* The window is usable at once; the demo's conversations arrive by sync once its
   * server runs and its accounts point at it. */
  fd_application_set_store_ready (self);
  fd_application_start_alerts (self);
  fd_application_fill_sla (self);

  if (self->demo)
    fd_application_start_sandbox (self);
  else
    fd_application_start_sync (self);
}

static void
fd_application_open_store (FdApplication *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  g_assert (FD_IS_APPLICATION (self));
  g_assert (self->store == NULL);

  if (self->profile_dir == NULL)
    self->profile_dir = fd_paths_default_profile ();

  path = fd_paths_store_file (self->profile_dir);
  self->store = fd_store_new (path);

  if (!fd_paths_ensure_profile (self->profile_dir, &error))
    {
      fd_application_set_store_error (self, error);
      return;
    }

  fd_store_open_async (self->store,
                       self->cancellable,
                       fd_application_store_open_cb,
                       g_object_ref (self));
}

static FdWindow *
fd_application_get_main_window (FdApplication *self)
{
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (FD_IS_WINDOW (window))
    return FD_WINDOW (window);

  for (const GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (FD_IS_WINDOW (l->data))
        return FD_WINDOW (l->data);
    }

  return NULL;
}

static FdWindow *
fd_application_ensure_window (FdApplication *self)
{
  FdWindow *window;

  window = fd_application_get_main_window (self);
  if (window == NULL)
    window = fd_window_new (self);

  return window;
}

/* FRONTDESK_REPORT_FIRST_FRAME=1 prints the monotonic time (µs) at which the window's
 * first frame was painted, so the start-up benchmark can measure launch to first frame
 * from outside; with FRONTDESK_REPORT_FIRST_FRAME=quit the application then quits. */
/* The inbox is ready when its list has read its first page (or found it empty). */
static gboolean
inbox_shows_rows (GtkWidget *window)
{
  FdInboxPage *page = _fd_window_get_inbox_page (FD_WINDOW (window));
  FdConversationList *list = page != NULL ? _fd_inbox_page_get_list (page) : NULL;
  g_autoptr(FdConversationSummary) first = NULL;

  if (list == NULL || fd_conversation_list_get_loading (list))
    return FALSE;
  if (g_list_model_get_n_items (G_LIST_MODEL (list)) == 0)
    return fd_application_get_store_ready (FD_APPLICATION (gtk_window_get_application (GTK_WINDOW (window))));

  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  return fd_conversation_summary_get_loaded (first);
}

/* Reports the first frame, then the first frame painted with the inbox's rows
 * ("inbox-frame"); the latter waits for the store to open and the first page. */
static void
first_frame_painted_cb (GdkFrameClock *frame_clock,
                        GtkWidget     *window)
{
  gint64 now = g_get_monotonic_time ();

  if (g_object_get_data (G_OBJECT (window), "fd-first-frame-reported") == NULL)
    {
      g_print ("first-frame %" G_GINT64_FORMAT "\n", now);
      g_object_set_data (G_OBJECT (window), "fd-first-frame-reported", GINT_TO_POINTER (1));
    }

  if (!inbox_shows_rows (window))
    {
      /* Keep frames coming until the rows are painted. */
      gtk_widget_queue_draw (window);
      return;
    }

  g_print ("inbox-frame %" G_GINT64_FORMAT "\n", now);
  g_signal_handlers_disconnect_by_func (frame_clock, first_frame_painted_cb, window);

  if (g_strcmp0 (g_getenv ("FRONTDESK_REPORT_FIRST_FRAME"), "quit") == 0)
    g_application_quit (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (window))));
}

static void
report_first_frame_cb (GtkWidget *window)
{
  g_signal_connect_object (gtk_widget_get_frame_clock (window), "after-paint",
                           G_CALLBACK (first_frame_painted_cb), window, 0);
  g_signal_handlers_disconnect_by_func (window, report_first_frame_cb, NULL);
}

static void
fd_application_activate (GApplication *app)
{
  FdApplication *self = FD_APPLICATION (app);
  FdWindow *window;

  window = fd_application_ensure_window (self);

  if (self->initial_area != NULL)
    {
      fd_window_show_area (window, self->initial_area);
      g_clear_pointer (&self->initial_area, g_free);
    }

  if (g_getenv ("FRONTDESK_REPORT_FIRST_FRAME") != NULL && !gtk_widget_get_mapped (GTK_WIDGET (window)))
    g_signal_connect (window, "map", G_CALLBACK (report_first_frame_cb), NULL);

  gtk_window_present (GTK_WINDOW (window));
}

static int
fd_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  FdApplication *self = FD_APPLICATION (app);
  g_autofree char *profile = NULL;
  const char *area = NULL;
  gboolean demo = FALSE;

  g_variant_dict_lookup (options, "profile", "^ay", &profile);
  g_variant_dict_lookup (options, "demo", "b", &demo);
  g_variant_dict_lookup (options, "area", "&s", &area);

  if (profile != NULL && demo)
    {
      g_printerr ("%s\n", _("Use either --profile or --demo, not both."));
      return EXIT_FAILURE;
    }

  if (area != NULL && !fd_window_area_is_valid (area))
    {
      /* Translators: the area names are not translated; they are typed on the command line. */
      g_printerr (_("There is no area called “%s”. Use inbox, customers, billing, docs or insights."), area);
      g_printerr ("\n");
      return EXIT_FAILURE;
    }

  /* Another profile is another workspace: it gets its own process, so that a running
   * Frontdesk on the default profile does not swallow it. */
  if (profile != NULL)
    {
      _fd_application_set_profile_dir (self, profile);
    }
  else if (demo)
    {
      g_autofree char *demo_profile = fd_paths_demo_profile ();

      _fd_application_set_profile_dir (self, demo_profile);
      self->demo = TRUE;
    }

  if (area != NULL)
    {
      g_autoptr(GError) error = NULL;

      g_free (self->initial_area);
      self->initial_area = g_strdup (area);

      if (!(g_application_get_flags (app) & G_APPLICATION_NON_UNIQUE))
        {
          if (!g_application_register (app, NULL, &error))
            {
              g_printerr ("%s\n", error->message);
              return EXIT_FAILURE;
            }

          if (g_application_get_is_remote (app))
            {
              g_action_group_activate_action (G_ACTION_GROUP (app),
                                              "show-area",
                                              g_variant_new_string (area));
              return EXIT_SUCCESS;
            }
        }
    }

  return -1;
}

static void
fd_application_startup (GApplication *app)
{
  FdApplication *self = FD_APPLICATION (app);

  G_APPLICATION_CLASS (fd_application_parent_class)->startup (app);

  gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                         "app.preferences",
                                         (const char *[]) { "<Control>comma", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                         "app.quit",
                                         (const char *[]) { "<Control>q", NULL });

  fd_application_open_store (self);
}

static void
fd_application_shutdown (GApplication *app)
{
  FdApplication *self = FD_APPLICATION (app);

  self->shutting_down = TRUE;
  g_cancellable_cancel (self->cancellable);
  fd_application_stop_alerts (self);

  /* The engine first, so that it does not report the sandbox going away as a failed
   * sync, and so that nothing writes to the store once it closes. */
  if (self->sync_engine != NULL)
    fd_sync_engine_stop (self->sync_engine);

  fd_application_stop_sandbox (self);

  if (self->store != NULL)
    fd_store_close (self->store);

  G_APPLICATION_CLASS (fd_application_parent_class)->shutdown (app);
}

static void
fd_application_finalize (GObject *object)
{
  FdApplication *self = (FdApplication *)object;

  self->shutting_down = TRUE;
  g_cancellable_cancel (self->cancellable);

  fd_application_stop_alerts (self);
  g_clear_pointer (&self->notified, g_hash_table_unref);

  /* Tests register the application without running it: no shutdown, so the engine
   * (whose dispose stops it) and the sandbox go here. */
  g_clear_object (&self->sync_engine);
  if (self->sandbox != NULL)
    {
      g_subprocess_force_exit (self->sandbox);
      g_clear_object (&self->sandbox);
    }
  g_clear_handle_id (&self->sandbox_timeout, g_source_remove);
  g_clear_object (&self->sandbox_stdout);
  g_clear_pointer (&self->sandbox_url, g_free);
  g_clear_error (&self->demo_error);

  g_clear_pointer (&self->profile_dir, g_free);
  g_clear_pointer (&self->initial_area, g_free);
  g_clear_object (&self->store);
  g_clear_error (&self->store_error);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (fd_application_parent_class)->finalize (object);
}

static void
fd_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  FdApplication *self = FD_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_DEMO:
      g_value_set_boolean (value, self->demo);
      break;

    case PROP_PROFILE_DIR:
      g_value_set_string (value, self->profile_dir);
      break;

    case PROP_STORE_READY:
      g_value_set_boolean (value, self->store_ready);
      break;

    case PROP_STORE_ERROR:
      g_value_set_boxed (value, self->store_error);
      break;

    case PROP_SYNC_ENGINE:
      g_value_set_object (value, self->sync_engine);
      break;

    case PROP_DEMO_ERROR:
      g_value_set_boxed (value, self->demo_error);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_application_class_init (FdApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = fd_application_finalize;
  object_class->get_property = fd_application_get_property;

  app_class->activate = fd_application_activate;
  app_class->handle_local_options = fd_application_handle_local_options;
  app_class->startup = fd_application_startup;
  app_class->shutdown = fd_application_shutdown;

  properties[PROP_DEMO] =
    g_param_spec_boolean ("demo", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_PROFILE_DIR] =
    g_param_spec_string ("profile-dir", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_STORE_READY] =
    g_param_spec_boolean ("store-ready", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_STORE_ERROR] =
    g_param_spec_boxed ("store-error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_SYNC_ENGINE] =
    g_param_spec_object ("sync-engine", NULL, NULL,
                         FD_TYPE_SYNC_ENGINE,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_DEMO_ERROR] =
    g_param_spec_boxed ("demo-error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[ACCOUNTS_CHANGED] =
    g_signal_new ("accounts-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);

  /* The resources live in a static library; referencing them here makes sure the
   * linker keeps them (and their constructor) in every program and test. */
  (void) fd_get_resource ();
}

static void
fd_application_preferences_action (GSimpleAction *action,
                                   GVariant      *parameter,
                                   gpointer       user_data)
{
  fd_application_show_preferences (FD_APPLICATION (user_data));
}

static void
fd_application_about_action (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  FdApplication *self = FD_APPLICATION (user_data);
  GtkWindow *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "application-name", _("Frontdesk"),
                        "application-icon", APP_ID,
                        "developer-name", _("The Frontdesk authors"),
                        "version", PACKAGE_VERSION,
                        "website", "https://github.com/frontdesk/frontdesk",
                        "issue-url", "https://github.com/frontdesk/frontdesk/issues",
                        "copyright", _("© 2026 The Frontdesk authors"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* Translators: replace with your names, one per line. */
                        "translator-credits", _("translator-credits"),
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "modal", TRUE,
                        NULL);
  gtk_window_present (about);
}

static void
fd_application_quit_action (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  FdApplication *self = FD_APPLICATION (user_data);
  GList *windows;

  /* Closing the windows first lets each one save its state (size, area). */
  windows = g_list_copy_deep (gtk_application_get_windows (GTK_APPLICATION (self)),
                              (GCopyFunc) g_object_ref, NULL);
  for (const GList *l = windows; l; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
  g_list_free_full (windows, g_object_unref);

  g_application_quit (G_APPLICATION (self));
}

static void
fd_application_show_area_action (GSimpleAction *action,
                                 GVariant      *parameter,
                                 gpointer       user_data)
{
  FdApplication *self = FD_APPLICATION (user_data);
  const char *area = g_variant_get_string (parameter, NULL);
  FdWindow *window;

  if (!fd_window_area_is_valid (area))
    return;

  window = fd_application_ensure_window (self);
  fd_window_show_area (window, area);
  gtk_window_present (GTK_WINDOW (window));
}

static void
fd_application_open_conversation_action (GSimpleAction *action,
                                         GVariant      *parameter,
                                         gpointer       user_data)
{
  FdApplication *self = FD_APPLICATION (user_data);
  gint64 conversation_id = g_variant_get_int64 (parameter);
  FdWindow *window;

  window = fd_application_ensure_window (self);
  fd_window_show_area (window, FD_AREA_INBOX);
  gtk_window_present (GTK_WINDOW (window));

  if (!gtk_widget_activate_action (GTK_WIDGET (window), "win.open-conversation", "x", conversation_id))
    g_warning ("The window cannot open conversations (win.open-conversation is missing)");
}

static const GActionEntry app_actions[] = {
  { "preferences", fd_application_preferences_action },
  { "about", fd_application_about_action },
  { "quit", fd_application_quit_action },
  { "show-area", fd_application_show_area_action, "s" },
  { "open-conversation", fd_application_open_conversation_action, "x" },
};

static void
fd_application_init (FdApplication *self)
{
  self->cancellable = g_cancellable_new ();
  self->notified = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions,
                                   G_N_ELEMENTS (app_actions),
                                   self);
}

FdApplication *
fd_application_new (void)
{
  return g_object_new (FD_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", APP_PATH,
                       NULL);
}

FdStore *
fd_application_get_store (FdApplication *self)
{
  g_return_val_if_fail (FD_IS_APPLICATION (self), NULL);

  return self->store;
}

const char *
fd_application_get_profile_dir (FdApplication *self)
{
  g_return_val_if_fail (FD_IS_APPLICATION (self), NULL);

  return self->profile_dir;
}

gboolean
fd_application_get_demo (FdApplication *self)
{
  g_return_val_if_fail (FD_IS_APPLICATION (self), FALSE);

  return self->demo;
}

gboolean
fd_application_get_store_ready (FdApplication *self)
{
  g_return_val_if_fail (FD_IS_APPLICATION (self), FALSE);

  return self->store_ready;
}

const GError *
fd_application_get_store_error (FdApplication *self)
{
  g_return_val_if_fail (FD_IS_APPLICATION (self), NULL);

  return self->store_error;
}

FdSyncEngine *
fd_application_get_sync_engine (FdApplication *self)
{
  g_return_val_if_fail (FD_IS_APPLICATION (self), NULL);

  return self->sync_engine;
}

const GError *
fd_application_get_demo_error (FdApplication *self)
{
  g_return_val_if_fail (FD_IS_APPLICATION (self), NULL);

  return self->demo_error;
}

void
fd_application_accounts_changed (FdApplication *self)
{
  g_return_if_fail (FD_IS_APPLICATION (self));

  /* Does nothing before the engine started; it reads the accounts when it starts. */
  if (self->sync_engine != NULL)
    fd_sync_engine_reload_accounts (self->sync_engine);

  g_signal_emit (self, signals[ACCOUNTS_CHANGED], 0);
}

void
fd_application_show_preferences (FdApplication *self)
{
  GtkWindow *active;
  FdPreferencesWindow *preferences;

  g_return_if_fail (FD_IS_APPLICATION (self));

  active = gtk_application_get_active_window (GTK_APPLICATION (self));

  /* Ctrl+comma inside the preferences window must not stack a second one. */
  if (FD_IS_PREFERENCES_WINDOW (active))
    {
      gtk_window_present (active);
      return;
    }

  preferences = fd_preferences_window_new (self);
  if (active != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (preferences), active);
  gtk_window_present (GTK_WINDOW (preferences));
}

void
_fd_application_set_profile_dir (FdApplication *self,
                                 const char    *profile_dir)
{
  GApplicationFlags flags;

  g_return_if_fail (FD_IS_APPLICATION (self));
  g_return_if_fail (profile_dir != NULL);
  g_return_if_fail (!g_application_get_is_registered (G_APPLICATION (self)));

  g_free (self->profile_dir);
  self->profile_dir = g_canonicalize_filename (profile_dir, NULL);

  flags = g_application_get_flags (G_APPLICATION (self));
  g_application_set_flags (G_APPLICATION (self), flags | G_APPLICATION_NON_UNIQUE);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROFILE_DIR]);
}
