/* fd-account-row.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-account-row"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-account-row.h"
#include "fd-sync-status.h"

struct _FdAccountRow
{
  GtkListBoxRow   parent_instance;

  FdAccount      *account;
  FdAccountState *state;
  gulong          state_handler;

  /* Template widgets */
  GtkLabel       *title_label;
  GtkLabel       *subtitle_label;
  GtkWidget      *status_box;
  GtkSpinner     *sync_spinner;
  GtkLabel       *status_label;
  GtkLabel       *pending_label;
  GtkWidget      *error_box;
  GtkImage       *warning_icon;
  GtkLabel       *error_label;
  GtkButton      *retry_button;
  GtkLabel       *retry_label;
  GtkButton      *sync_button;
  GtkButton      *remove_button;
};

G_DEFINE_FINAL_TYPE (FdAccountRow, fd_account_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  PROP_0,
  PROP_ACCOUNT,
  PROP_STATE,
  N_PROPS
};

enum {
  SYNC_NOW,
  RETRY,
  REMOVE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
fd_account_row_update (FdAccountRow *self)
{
  g_autofree char *status = NULL;
  g_autofree char *tooltip = NULL;
  g_autofree char *description = NULL;
  FdSyncStatus sync_status = FD_SYNC_STATUS_IDLE;
  const char *error = NULL;
  gint64 last_sync = 0;
  guint pending = 0;
  guint failed = 0;
  gboolean syncs;
  gboolean syncing;
  gboolean failure;

  g_assert (FD_IS_ACCOUNT_ROW (self));

  if (self->account == NULL)
    return;

  syncs = _fd_sync_status_kind_syncs (fd_account_get_kind (self->account));

  if (self->state != NULL)
    {
      sync_status = fd_account_state_get_status (self->state);
      error = fd_account_state_get_error (self->state);
      last_sync = fd_account_state_get_last_sync (self->state);
      pending = fd_account_state_get_pending (self->state);
      failed = fd_account_state_get_failed (self->state);
    }

  syncing = sync_status == FD_SYNC_STATUS_SYNCING;
  failure = _fd_sync_status_is_failure (sync_status);

  /* Billing and bug-tracking accounts do not sync conversations: no sync state. */
  gtk_widget_set_visible (self->status_box, syncs);
  gtk_widget_set_visible (GTK_WIDGET (self->sync_button), syncs);

  if (syncing)
    {
      status = g_strdup (_("Syncing…"));
    }
  else
    {
      status = _fd_sync_status_format_last_sync (last_sync, g_get_real_time () / 1000, FALSE);
      if (last_sync > 0)
        {
          g_autofree char *when = _fd_sync_status_format_time (last_sync);

          /* Translators: a tooltip; %s is a date and time with its time zone. */
          tooltip = g_strdup_printf (_("Last synced on %s"), when);
        }
    }

  gtk_label_set_label (self->status_label, status);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), tooltip);
  gtk_widget_set_visible (GTK_WIDGET (self->sync_spinner), syncing);
  gtk_spinner_set_spinning (self->sync_spinner, syncing);

  /* The engine syncs one round at a time per account; a click while it runs would be
   * queued anyway, and a disabled button says so. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->sync_button), self->state != NULL && !syncing);

  /* Colour is never the only signal: an icon and the reason in words go with it. */
  gtk_widget_set_visible (self->error_box, syncs && failure);
  if (failure)
    gtk_label_set_label (self->error_label,
                         error != NULL && *error != '\0' ? error : _("The last sync failed."));
  else
    gtk_label_set_label (self->error_label, "");

  /* The counts are only known once the engine reports them; zero hides them. */
  if (pending > 0)
    {
      g_autofree char *text = NULL;

      /* Translators: outbox actions (replies, notes, status changes) not sent yet. */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "· %u action waiting",
                                           "· %u actions waiting",
                                           pending),
                              pending);
      gtk_label_set_label (self->pending_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->pending_label), syncs && pending > 0);

  if (failed > 0)
    {
      g_autofree char *text = NULL;

      /* Translators: outbox actions that failed for good; the button puts them back in line. */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%u failed — Retry",
                                           "%u failed — Retry",
                                           failed),
                              failed);
      gtk_label_set_label (self->retry_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->retry_button), syncs && failed > 0);

  /* What the eye gets from the icon and colours, a screen reader gets in words. */
  if (syncs && failure)
    description = g_strdup_printf ("%s. %s", status, gtk_label_get_label (self->error_label));
  else if (syncs)
    description = g_strdup (status);

  if (description != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
}

static void
fd_account_row_state_notify_cb (FdAccountRow *self,
                                GParamSpec   *pspec,
                                gpointer      state)
{
  fd_account_row_update (self);
}

static void
fd_account_row_set_account (FdAccountRow *self,
                            FdAccount    *account)
{
  g_autofree char *subtitle = NULL;
  g_autofree char *sync_label = NULL;
  g_autofree char *remove_label = NULL;
  const char *name;

  g_assert (FD_IS_ACCOUNT_ROW (self));
  g_assert (self->account == NULL);

  if (account == NULL)
    return;

  self->account = g_object_ref (account);
  name = fd_account_get_name (account);

  /* Translators: a connected account's service and address, e.g. "Intercom · https://api.intercom.io". */
  subtitle = g_strdup_printf (_("%s · %s"),
                              fd_account_kind_get_display_name (fd_account_get_kind (account)),
                              fd_account_get_base_url (account));

  if (fd_account_get_kind (account) == FD_ACCOUNT_KIND_DISCOURSE)
    {
      g_autofree char *user = fd_account_dup_setting (account, "api_username");
      g_autofree char *categories = fd_account_dup_setting (account, "categories");
      char *longer;

      /* Translators: a Discourse account's service and address, then the forum user
       * replies are posted as, e.g. "Discourse · https://forum.example.com · as sam". */
      if (user != NULL)
        {
          longer = g_strdup_printf (_("%s · as %s"), subtitle, user);
          g_free (subtitle);
          subtitle = longer;
        }

      /* Translators: then the ids of the categories synced, e.g. "… · categories 4, 7". */
      if (categories != NULL)
        {
          longer = g_strdup_printf (_("%s · categories %s"), subtitle, categories);
          g_free (subtitle);
          subtitle = longer;
        }
    }

  gtk_label_set_label (self->title_label, name);
  gtk_label_set_label (self->subtitle_label, subtitle);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->subtitle_label), fd_account_get_base_url (account));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);

  /* Translators: %s is an account's name; an accessible label for an icon-only button. */
  sync_label = g_strdup_printf (_("Sync “%s” Now"), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sync_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, sync_label,
                                  -1);

  remove_label = g_strdup_printf (_("Remove “%s”"), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->remove_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label,
                                  -1);

  fd_account_row_update (self);
}

static void
sync_button_clicked_cb (FdAccountRow *self)
{
  g_signal_emit (self, signals[SYNC_NOW], 0);
}

static void
retry_button_clicked_cb (FdAccountRow *self)
{
  g_signal_emit (self, signals[RETRY], 0);
}

static void
remove_button_clicked_cb (FdAccountRow *self)
{
  g_signal_emit (self, signals[REMOVE], 0);
}

static void
fd_account_row_dispose (GObject *object)
{
  FdAccountRow *self = (FdAccountRow *)object;

  if (self->state != NULL)
    g_clear_signal_handler (&self->state_handler, self->state);
  g_clear_object (&self->state);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_ACCOUNT_ROW);

  G_OBJECT_CLASS (fd_account_row_parent_class)->dispose (object);
}

static void
fd_account_row_finalize (GObject *object)
{
  FdAccountRow *self = (FdAccountRow *)object;

  g_clear_object (&self->account);

  G_OBJECT_CLASS (fd_account_row_parent_class)->finalize (object);
}

static void
fd_account_row_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  FdAccountRow *self = FD_ACCOUNT_ROW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;

    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_account_row_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  FdAccountRow *self = FD_ACCOUNT_ROW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      fd_account_row_set_account (self, g_value_get_object (value));
      break;

    case PROP_STATE:
      fd_account_row_set_state (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_account_row_class_init (FdAccountRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_account_row_dispose;
  object_class->finalize = fd_account_row_finalize;
  object_class->get_property = fd_account_row_get_property;
  object_class->set_property = fd_account_row_set_property;

  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL,
                         FD_TYPE_ACCOUNT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL,
                         FD_TYPE_ACCOUNT_STATE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SYNC_NOW] =
    g_signal_new ("sync-now",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  signals[RETRY] =
    g_signal_new ("retry",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  signals[REMOVE] =
    g_signal_new ("remove",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/app/fd-account-row.ui");
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, status_box);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, sync_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, pending_label);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, error_box);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, warning_icon);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, error_label);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, retry_button);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, retry_label);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, sync_button);
  gtk_widget_class_bind_template_child (widget_class, FdAccountRow, remove_button);
  gtk_widget_class_bind_template_callback (widget_class, sync_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, retry_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, remove_button_clicked_cb);
}

static void
fd_account_row_init (FdAccountRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

FdAccountRow *
fd_account_row_new (FdAccount *account)
{
  g_return_val_if_fail (FD_IS_ACCOUNT (account), NULL);

  return g_object_new (FD_TYPE_ACCOUNT_ROW,
                       "account", account,
                       NULL);
}

FdAccount *
fd_account_row_get_account (FdAccountRow *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_ROW (self), NULL);

  return self->account;
}

FdAccountState *
fd_account_row_get_state (FdAccountRow *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_ROW (self), NULL);

  return self->state;
}

void
fd_account_row_set_state (FdAccountRow   *self,
                          FdAccountState *state)
{
  g_return_if_fail (FD_IS_ACCOUNT_ROW (self));
  g_return_if_fail (state == NULL || FD_IS_ACCOUNT_STATE (state));

  if (self->state == state)
    return;

  if (self->state != NULL)
    g_clear_signal_handler (&self->state_handler, self->state);
  g_set_object (&self->state, state);

  /* Every property of the state changes what the row says. */
  if (state != NULL)
    self->state_handler = g_signal_connect_object (state, "notify",
                                                   G_CALLBACK (fd_account_row_state_notify_cb),
                                                   self, G_CONNECT_SWAPPED);

  fd_account_row_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
fd_account_row_refresh (FdAccountRow *self)
{
  g_return_if_fail (FD_IS_ACCOUNT_ROW (self));

  fd_account_row_update (self);
}
