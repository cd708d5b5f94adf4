/* fd-sync-foot.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sync-foot"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-account.h"
#include "fd-sync-foot.h"
#include "fd-sync-status.h"

typedef struct
{
  GtkWidget *button;
  GtkWidget *icon;
  GtkWidget *spinner;
  GtkWidget *name_label;
  GtkWidget *status_label;
} Line;

struct _FdSyncFoot
{
  GtkWidget   parent_instance;

  GListModel *accounts;
  GListModel *states;
  /* Every state of the engine is watched, shown or not, so that the end of any sync
   * round is noticed; the status each had last time, by account id. */
  GPtrArray  *watched;
  GHashTable *last_status;
  guint       refresh_source;

  Line        lines[FD_SYNC_FOOT_MAX_LINES];
  GtkWidget  *more_label;
};

G_DEFINE_FINAL_TYPE (FdSyncFoot, fd_sync_foot, GTK_TYPE_WIDGET)

enum {
  SYNC_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  FdAccount      *account;
  FdAccountState *state;
  guint           position;
} Entry;

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const Entry *ea = a;
  const Entry *eb = b;
  gboolean fa = ea->state != NULL && _fd_sync_status_is_failure (fd_account_state_get_status (ea->state));
  gboolean fb = eb->state != NULL && _fd_sync_status_is_failure (fd_account_state_get_status (eb->state));

  /* Failures first, so one never hides behind "and 2 more"; otherwise the store's order. */
  if (fa != fb)
    return fa ? -1 : 1;

  return (int) ea->position - (int) eb->position;
}

static void
fd_sync_foot_fill_line (FdSyncFoot     *self,
                        Line           *line,
                        FdAccount      *account,
                        FdAccountState *state)
{
  g_autofree char *status = NULL;
  g_autofree char *long_status = NULL;
  g_autofree char *tooltip = NULL;
  g_autofree char *accessible = NULL;
  FdSyncStatus sync_status = FD_SYNC_STATUS_IDLE;
  gint64 last_sync = 0;
  gint64 now = g_get_real_time () / 1000;
  const char *name = fd_account_get_name (account);
  const char *icon_name;
  gboolean syncing;
  gboolean failure;

  if (state != NULL)
    {
      sync_status = fd_account_state_get_status (state);
      last_sync = fd_account_state_get_last_sync (state);
    }

  syncing = sync_status == FD_SYNC_STATUS_SYNCING;
  failure = _fd_sync_status_is_failure (sync_status);

  if (syncing)
    {
      status = g_strdup (_("Syncing…"));
      long_status = g_strdup (status);
    }
  else if (failure)
    {
      const char *error = fd_account_state_get_error (state);

      status = g_strdup (_("Sync failed"));
      long_status = g_strdup (status);
      /* Translators: a tooltip; %s is why the sync failed, in words. */
      tooltip = g_strdup_printf (_("%s\nOpen Preferences → Accounts to fix it."),
                                 error != NULL && *error != '\0' ? error : _("The last sync failed."));
    }
  else
    {
      status = _fd_sync_status_format_last_sync (last_sync, now, TRUE);
      long_status = _fd_sync_status_format_last_sync (last_sync, now, FALSE);
      if (last_sync > 0)
        {
          g_autofree char *when = _fd_sync_status_format_time (last_sync);

          /* Translators: a tooltip; %s is a date and time with its time zone. */
          tooltip = g_strdup_printf (_("Last synced on %s"), when);
        }
    }

  if (failure)
    icon_name = "dialog-warning-symbolic";
  else if (last_sync > 0)
    icon_name = "emblem-ok-symbolic";
  else
    icon_name = "network-idle-symbolic";

  gtk_image_set_from_icon_name (GTK_IMAGE (line->icon), icon_name);
  gtk_widget_set_visible (line->icon, !syncing);
  gtk_widget_set_visible (line->spinner, syncing);
  gtk_spinner_set_spinning (GTK_SPINNER (line->spinner), syncing);

  if (failure)
    {
      gtk_widget_remove_css_class (line->icon, "dim-label");
      gtk_widget_add_css_class (line->icon, "error");
      gtk_widget_remove_css_class (line->status_label, "dim-label");
      gtk_widget_add_css_class (line->status_label, "error");
    }
  else
    {
      gtk_widget_remove_css_class (line->icon, "error");
      gtk_widget_add_css_class (line->icon, "dim-label");
      gtk_widget_remove_css_class (line->status_label, "error");
      gtk_widget_add_css_class (line->status_label, "dim-label");
    }

  gtk_label_set_label (GTK_LABEL (line->name_label), name);
  gtk_label_set_label (GTK_LABEL (line->status_label), status);
  gtk_widget_set_tooltip_text (line->button, tooltip);

  /* Translators: an accessible label: an account's name, then its sync state. */
  accessible = g_strdup_printf (_("%s: %s"), name, long_status);
  gtk_accessible_update_property (GTK_ACCESSIBLE (line->button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
  if (failure)
    gtk_accessible_update_property (GTK_ACCESSIBLE (line->button),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, tooltip,
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (line->button),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);

  gtk_widget_set_visible (line->button, TRUE);
}

static void
fd_sync_foot_update (FdSyncFoot *self)
{
  g_autoptr(GArray) entries = NULL;
  g_autoptr(GPtrArray) refs = NULL;
  guint n_accounts;
  guint shown;

  g_assert (FD_IS_SYNC_FOOT (self));

  entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  refs = g_ptr_array_new_with_free_func (g_object_unref);

  n_accounts = self->accounts != NULL ? g_list_model_get_n_items (self->accounts) : 0;
  for (guint i = 0; i < n_accounts; i++)
    {
      FdAccount *account = g_list_model_get_item (self->accounts, i);
      Entry entry = { account, NULL, i };

      g_ptr_array_add (refs, account);

      if (!_fd_sync_status_kind_syncs (fd_account_get_kind (account)))
        continue;

      entry.state = _fd_sync_status_find (self->states, fd_account_get_id (account));
      g_array_append_val (entries, entry);
    }

  g_array_sort (entries, compare_entries);

  shown = MIN (entries->len, FD_SYNC_FOOT_MAX_LINES);
  for (guint i = 0; i < FD_SYNC_FOOT_MAX_LINES; i++)
    {
      Line *line = &self->lines[i];

      if (i < shown)
        {
          Entry *entry = &g_array_index (entries, Entry, i);

          fd_sync_foot_fill_line (self, line, entry->account, entry->state);
        }
      else
        {
          gtk_spinner_set_spinning (GTK_SPINNER (line->spinner), FALSE);
          gtk_widget_set_visible (line->button, FALSE);
        }
    }

  if (entries->len > shown)
    {
      guint more = entries->len - shown;
      g_autofree char *text = NULL;

      /* Translators: below the sync state of the first accounts, in the sidebar. */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "and %u more", "and %u more", more), more);
      gtk_label_set_label (GTK_LABEL (self->more_label), text);
      gtk_widget_set_visible (self->more_label, TRUE);
    }
  else
    {
      gtk_widget_set_visible (self->more_label, FALSE);
    }
}

static void
fd_sync_foot_state_notify_cb (FdSyncFoot     *self,
                              GParamSpec     *pspec,
                              FdAccountState *state)
{
  gint64 account_id = fd_account_state_get_account_id (state);
  FdSyncStatus status = fd_account_state_get_status (state);
  gpointer previous;

  if (g_hash_table_lookup_extended (self->last_status, &account_id, NULL, &previous) &&
      GPOINTER_TO_UINT (previous) == FD_SYNC_STATUS_SYNCING &&
      status != FD_SYNC_STATUS_SYNCING)
    {
      g_hash_table_insert (self->last_status,
                           g_memdup2 (&account_id, sizeof account_id),
                           GUINT_TO_POINTER (status));
      fd_sync_foot_update (self);
      g_signal_emit (self, signals[SYNC_FINISHED], 0);
      return;
    }

  g_hash_table_insert (self->last_status,
                       g_memdup2 (&account_id, sizeof account_id),
                       GUINT_TO_POINTER (status));
  fd_sync_foot_update (self);
}

static void
fd_sync_foot_unwatch (FdSyncFoot *self)
{
  for (guint i = 0; i < self->watched->len; i++)
    g_signal_handlers_disconnect_by_func (g_ptr_array_index (self->watched, i),
                                          fd_sync_foot_state_notify_cb,
                                          self);
  g_ptr_array_set_size (self->watched, 0);
}

static void
fd_sync_foot_watch (FdSyncFoot *self)
{
  guint n;

  fd_sync_foot_unwatch (self);

  if (self->states == NULL)
    return;

  n = g_list_model_get_n_items (self->states);
  for (guint i = 0; i < n; i++)
    {
      FdAccountState *state = g_list_model_get_item (self->states, i);
      gint64 account_id = fd_account_state_get_account_id (state);

      g_signal_connect_object (state, "notify",
                               G_CALLBACK (fd_sync_foot_state_notify_cb),
                               self, G_CONNECT_SWAPPED);
      g_ptr_array_add (self->watched, state);

      if (!g_hash_table_contains (self->last_status, &account_id))
        g_hash_table_insert (self->last_status,
                             g_memdup2 (&account_id, sizeof account_id),
                             GUINT_TO_POINTER (fd_account_state_get_status (state)));
    }
}

static void
fd_sync_foot_states_changed_cb (FdSyncFoot *self,
                                guint       position,
                                guint       removed,
                                guint       added,
                                GListModel *model)
{
  fd_sync_foot_watch (self);
  fd_sync_foot_update (self);
}

static gboolean
fd_sync_foot_refresh_cb (gpointer user_data)
{
  fd_sync_foot_refresh (FD_SYNC_FOOT (user_data));

  return G_SOURCE_CONTINUE;
}

static void
fd_sync_foot_map (GtkWidget *widget)
{
  FdSyncFoot *self = FD_SYNC_FOOT (widget);

  GTK_WIDGET_CLASS (fd_sync_foot_parent_class)->map (widget);

  /* "2 min ago" must not go stale, but only while someone can see it. */
  fd_sync_foot_update (self);
  if (self->refresh_source == 0)
    self->refresh_source = g_timeout_add_seconds (FD_SYNC_STATUS_REFRESH_SECONDS,
                                                  fd_sync_foot_refresh_cb, self);
}

static void
fd_sync_foot_unmap (GtkWidget *widget)
{
  FdSyncFoot *self = FD_SYNC_FOOT (widget);

  g_clear_handle_id (&self->refresh_source, g_source_remove);

  GTK_WIDGET_CLASS (fd_sync_foot_parent_class)->unmap (widget);
}

static void
fd_sync_foot_dispose (GObject *object)
{
  FdSyncFoot *self = (FdSyncFoot *)object;
  GtkWidget *child;

  g_clear_handle_id (&self->refresh_source, g_source_remove);

  if (self->watched != NULL)
    fd_sync_foot_unwatch (self);

  if (self->states != NULL)
    g_signal_handlers_disconnect_by_func (self->states, fd_sync_foot_states_changed_cb, self);
  g_clear_object (&self->states);
  g_clear_object (&self->accounts);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (fd_sync_foot_parent_class)->dispose (object);
}

static void
fd_sync_foot_finalize (GObject *object)
{
  FdSyncFoot *self = (FdSyncFoot *)object;

  g_clear_pointer (&self->watched, g_ptr_array_unref);
  g_clear_pointer (&self->last_status, g_hash_table_unref);

  G_OBJECT_CLASS (fd_sync_foot_parent_class)->finalize (object);
}

static void
fd_sync_foot_class_init (FdSyncFootClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_sync_foot_dispose;
  object_class->finalize = fd_sync_foot_finalize;

  widget_class->map = fd_sync_foot_map;
  widget_class->unmap = fd_sync_foot_unmap;

  signals[SYNC_FINISHED] =
    g_signal_new ("sync-finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "fd-sync-foot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
fd_sync_foot_init_line (FdSyncFoot *self,
                        Line       *line)
{
  GtkWidget *box;
  GtkWidget *text;

  line->icon = g_object_new (GTK_TYPE_IMAGE,
                             "icon-name", "network-idle-symbolic",
                             "valign", GTK_ALIGN_START,
                             "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                             "css-classes", (const char *[]) { "dim-label", NULL },
                             NULL);
  line->spinner = g_object_new (GTK_TYPE_SPINNER,
                                "visible", FALSE,
                                "valign", GTK_ALIGN_START,
                                "width-request", 16,
                                "height-request", 16,
                                NULL);
  /* Buttons make their text bold; the name reads as plain text, like the areas above. */
  line->name_label = g_object_new (GTK_TYPE_LABEL,
                                   "xalign", 0.0f,
                                   "ellipsize", PANGO_ELLIPSIZE_END,
                                   "use-markup", FALSE,
                                   "css-classes", (const char *[]) { "body", NULL },
                                   NULL);
  line->status_label = g_object_new (GTK_TYPE_LABEL,
                                     "xalign", 0.0f,
                                     "ellipsize", PANGO_ELLIPSIZE_END,
                                     "css-classes", (const char *[]) { "caption", "numeric", "dim-label", NULL },
                                     NULL);

  text = g_object_new (GTK_TYPE_BOX,
                       "orientation", GTK_ORIENTATION_VERTICAL,
                       "spacing", 2,
                       "hexpand", TRUE,
                       NULL);
  gtk_box_append (GTK_BOX (text), line->name_label);
  gtk_box_append (GTK_BOX (text), line->status_label);

  box = g_object_new (GTK_TYPE_BOX,
                      "spacing", 8,
                      NULL);
  gtk_box_append (GTK_BOX (box), line->icon);
  gtk_box_append (GTK_BOX (box), line->spinner);
  gtk_box_append (GTK_BOX (box), text);

  line->button = g_object_new (GTK_TYPE_BUTTON,
                               "child", box,
                               "visible", FALSE,
                               "action-name", "app.preferences",
                               "css-classes", (const char *[]) { "flat", NULL },
                               NULL);
  gtk_widget_set_parent (line->button, GTK_WIDGET (self));
}

static void
fd_sync_foot_init (FdSyncFoot *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 2);

  self->watched = g_ptr_array_new_with_free_func (g_object_unref);
  self->last_status = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  for (guint i = 0; i < FD_SYNC_FOOT_MAX_LINES; i++)
    fd_sync_foot_init_line (self, &self->lines[i]);

  self->more_label = g_object_new (GTK_TYPE_LABEL,
                                   "visible", FALSE,
                                   "xalign", 0.0f,
                                   "margin-start", 34,
                                   "css-classes", (const char *[]) { "caption", "dim-label", NULL },
                                   NULL);
  gtk_widget_set_parent (self->more_label, GTK_WIDGET (self));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Sync State"),
                                  -1);
}

GtkWidget *
fd_sync_foot_new (void)
{
  return g_object_new (FD_TYPE_SYNC_FOOT, NULL);
}

void
fd_sync_foot_set_accounts (FdSyncFoot *self,
                           GListModel *accounts)
{
  g_return_if_fail (FD_IS_SYNC_FOOT (self));
  g_return_if_fail (accounts == NULL || G_IS_LIST_MODEL (accounts));

  g_set_object (&self->accounts, accounts);
  fd_sync_foot_update (self);
}

void
fd_sync_foot_set_states (FdSyncFoot *self,
                         GListModel *states)
{
  g_return_if_fail (FD_IS_SYNC_FOOT (self));
  g_return_if_fail (states == NULL || G_IS_LIST_MODEL (states));

  if (self->states == states)
    return;

  if (self->states != NULL)
    g_signal_handlers_disconnect_by_func (self->states, fd_sync_foot_states_changed_cb, self);

  g_set_object (&self->states, states);

  if (states != NULL)
    g_signal_connect_object (states, "items-changed",
                             G_CALLBACK (fd_sync_foot_states_changed_cb),
                             self, G_CONNECT_SWAPPED);

  fd_sync_foot_watch (self);
  fd_sync_foot_update (self);
}

void
fd_sync_foot_refresh (FdSyncFoot *self)
{
  g_return_if_fail (FD_IS_SYNC_FOOT (self));

  fd_sync_foot_update (self);
}

guint
_fd_sync_foot_get_n_lines (FdSyncFoot *self)
{
  guint n = 0;

  g_return_val_if_fail (FD_IS_SYNC_FOOT (self), 0);

  for (guint i = 0; i < FD_SYNC_FOOT_MAX_LINES; i++)
    {
      if (gtk_widget_get_visible (self->lines[i].button))
        n++;
    }

  return n;
}

const char *
_fd_sync_foot_get_status (FdSyncFoot *self,
                          guint       index)
{
  g_return_val_if_fail (FD_IS_SYNC_FOOT (self), NULL);

  if (index >= FD_SYNC_FOOT_MAX_LINES || !gtk_widget_get_visible (self->lines[index].button))
    return NULL;

  return gtk_label_get_label (GTK_LABEL (self->lines[index].status_label));
}

const char *
_fd_sync_foot_get_more (FdSyncFoot *self)
{
  g_return_val_if_fail (FD_IS_SYNC_FOOT (self), NULL);

  if (!gtk_widget_get_visible (self->more_label))
    return NULL;

  return gtk_label_get_label (GTK_LABEL (self->more_label));
}
