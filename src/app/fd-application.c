/* fd-application.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-application"

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>

#include "fd-application-private.h"
#include "fd-demo.h"
#include "fd-paths.h"
#include "fd-preferences-window.h"
#include "fd-resources.h"
#include "fd-window.h"

struct _FdApplication
{
  AdwApplication  parent_instance;

  char           *profile_dir;
  char           *initial_area;
  FdStore        *store;
  GError         *store_error;
  GCancellable   *cancellable;

  guint           demo : 1;
  guint           store_ready : 1;
};

G_DEFINE_FINAL_TYPE (FdApplication, fd_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_DEMO,
  PROP_PROFILE_DIR,
  PROP_STORE_READY,
  PROP_STORE_ERROR,
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
    N_("Open the demo workspace, filled with made-up customers and conversations"), NULL },
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
fd_application_demo_ensure_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  g_autoptr(FdApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!fd_demo_ensure_finish (FD_STORE (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fd_application_set_store_error (self, error);
      return;
    }

  fd_application_set_store_ready (self);
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

  if (self->demo)
    {
      /* The demo is seeded once, on first use, with a fixed seed so everybody sees the
       * same customers. */
      fd_demo_ensure_async (self->store,
                            1,
                            FD_DEMO_SCALE_SMALL,
                            self->cancellable,
                            fd_application_demo_ensure_cb,
                            g_object_ref (self));
      return;
    }

  fd_application_set_store_ready (self);
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
static void
first_frame_painted_cb (GdkFrameClock *frame_clock,
                        GtkWidget     *window)
{
  g_print ("first-frame %" G_GINT64_FORMAT "\n", g_get_monotonic_time ());
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

  g_cancellable_cancel (self->cancellable);

  if (self->store != NULL)
    fd_store_close (self->store);

  G_APPLICATION_CLASS (fd_application_parent_class)->shutdown (app);
}

static void
fd_application_finalize (GObject *object)
{
  FdApplication *self = (FdApplication *)object;

  g_cancellable_cancel (self->cancellable);

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

static const GActionEntry app_actions[] = {
  { "preferences", fd_application_preferences_action },
  { "about", fd_application_about_action },
  { "quit", fd_application_quit_action },
  { "show-area", fd_application_show_area_action, "s" },
};

static void
fd_application_init (FdApplication *self)
{
  self->cancellable = g_cancellable_new ();

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

void
fd_application_accounts_changed (FdApplication *self)
{
  g_return_if_fail (FD_IS_APPLICATION (self));

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
