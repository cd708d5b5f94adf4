/* fd-command-palette.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-command-palette"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-command-palette.h"
#include "fd-fuzzy.h"

/* {{{ FdPaletteItem */

struct _FdPaletteItem
{
  GObject        parent_instance;

  FdPaletteKind  kind;
  char          *title;
  char          *subtitle;
  char          *icon_name;
  char          *action_name;
  GVariant      *target;
  char          *accel;
};

G_DEFINE_FINAL_TYPE (FdPaletteItem, fd_palette_item, G_TYPE_OBJECT)

static void
fd_palette_item_finalize (GObject *object)
{
  FdPaletteItem *self = (FdPaletteItem *)object;

  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->subtitle, g_free);
  g_clear_pointer (&self->icon_name, g_free);
  g_clear_pointer (&self->action_name, g_free);
  g_clear_pointer (&self->target, g_variant_unref);
  g_clear_pointer (&self->accel, g_free);

  G_OBJECT_CLASS (fd_palette_item_parent_class)->finalize (object);
}

static void
fd_palette_item_class_init (FdPaletteItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_palette_item_finalize;
}

static void
fd_palette_item_init (FdPaletteItem *self)
{
}

FdPaletteItem *
fd_palette_item_new (FdPaletteKind  kind,
                     const char    *title,
                     const char    *subtitle,
                     const char    *icon_name,
                     const char    *action_name,
                     GVariant      *target,
                     const char    *accel)
{
  FdPaletteItem *self;

  g_return_val_if_fail (title != NULL, NULL);
  g_return_val_if_fail (action_name != NULL, NULL);

  self = g_object_new (FD_TYPE_PALETTE_ITEM, NULL);
  self->kind = kind;
  self->title = g_strdup (title);
  self->subtitle = g_strdup (subtitle);
  self->icon_name = g_strdup (icon_name);
  self->action_name = g_strdup (action_name);
  self->target = target != NULL ? g_variant_ref_sink (target) : NULL;
  self->accel = g_strdup (accel);

  return self;
}

FdPaletteKind
fd_palette_item_get_kind (FdPaletteItem *self)
{
  g_return_val_if_fail (FD_IS_PALETTE_ITEM (self), FD_PALETTE_ACTION);

  return self->kind;
}

const char *
fd_palette_item_get_title (FdPaletteItem *self)
{
  g_return_val_if_fail (FD_IS_PALETTE_ITEM (self), NULL);

  return self->title;
}

const char *
fd_palette_item_get_subtitle (FdPaletteItem *self)
{
  g_return_val_if_fail (FD_IS_PALETTE_ITEM (self), NULL);

  return self->subtitle;
}

const char *
fd_palette_item_get_icon_name (FdPaletteItem *self)
{
  g_return_val_if_fail (FD_IS_PALETTE_ITEM (self), NULL);

  return self->icon_name;
}

const char *
fd_palette_item_get_action_name (FdPaletteItem *self)
{
  g_return_val_if_fail (FD_IS_PALETTE_ITEM (self), NULL);

  return self->action_name;
}

GVariant *
fd_palette_item_get_target (FdPaletteItem *self)
{
  g_return_val_if_fail (FD_IS_PALETTE_ITEM (self), NULL);

  return self->target;
}

const char *
fd_palette_item_get_accel (FdPaletteItem *self)
{
  g_return_val_if_fail (FD_IS_PALETTE_ITEM (self), NULL);

  return self->accel;
}

static const char *
kind_to_label (FdPaletteKind kind)
{
  switch (kind)
    {
    case FD_PALETTE_ACTION:
      return C_("palette kind", "Action");
    case FD_PALETTE_VIEW:
      return C_("palette kind", "View");
    case FD_PALETTE_MACRO:
      return C_("palette kind", "Macro");
    case FD_PALETTE_CONVERSATION:
      return C_("palette kind", "Conversation");
    default:
      return "";
    }
}

/* }}} */
/* {{{ FdCommandPalette */

/* How an item matched the query. */
typedef struct
{
  gboolean  matched;
  int       score;
  GArray   *title_positions;     /* int; NULL when the title did not match */
  GArray   *subtitle_positions;  /* int; NULL unless only the subtitle matched */
} Match;

/* The widgets of one row, kept on the row's box. */
typedef struct
{
  GtkImage *icon;
  GtkLabel *title;
  GtkLabel *subtitle;
  GtkLabel *kind;
  GtkLabel *accel;
} Row;

struct _FdCommandPalette
{
  AdwWindow           parent_instance;

  GtkWidget          *parent;
  GListModel         *items;
  char               *query;
  /* FdPaletteItem → Match for the current query, filled as items are asked about. */
  GHashTable         *matches;
  /* FdPaletteItem → its position in @items, for the order of equal scores. */
  GHashTable         *positions;
  /* The GtkListItems bound now, to redraw their highlights when the query changes. */
  GHashTable         *bound;

  GtkFilterListModel *filter_model;
  GtkSortListModel   *sort_model;
  GtkSingleSelection *selection;

  GtkSearchEntry     *entry;
  GtkStack           *stack;
  GtkListView        *list_view;
};

G_DEFINE_FINAL_TYPE (FdCommandPalette, fd_command_palette, ADW_TYPE_WINDOW)

static void
match_free (gpointer data)
{
  Match *match = data;

  g_clear_pointer (&match->title_positions, g_array_unref);
  g_clear_pointer (&match->subtitle_positions, g_array_unref);
  g_free (match);
}

static Match *
fd_command_palette_get_match (FdCommandPalette *self,
                              FdPaletteItem    *item)
{
  Match *match;
  g_autoptr(GArray) title_positions = NULL;
  g_autoptr(GArray) subtitle_positions = NULL;
  int title_score = 0;
  int subtitle_score = 0;
  gboolean title_matched;
  gboolean subtitle_matched = FALSE;

  match = g_hash_table_lookup (self->matches, item);
  if (match != NULL)
    return match;

  title_positions = g_array_new (FALSE, FALSE, sizeof (int));
  title_matched = fd_fuzzy_match (self->query, item->title, &title_score, title_positions);

  if (item->subtitle != NULL)
    {
      subtitle_positions = g_array_new (FALSE, FALSE, sizeof (int));
      subtitle_matched = fd_fuzzy_match (self->query, item->subtitle, &subtitle_score,
                                         subtitle_positions);
      /* The subtitle (an organisation, a view's query) counts for less than the title. */
      subtitle_score = subtitle_score / 2;
    }

  match = g_new0 (Match, 1);
  match->matched = title_matched || subtitle_matched;

  if (title_matched && (!subtitle_matched || title_score >= subtitle_score))
    {
      match->score = title_score;
      match->title_positions = g_steal_pointer (&title_positions);
    }
  else if (subtitle_matched)
    {
      match->score = subtitle_score;
      match->subtitle_positions = g_steal_pointer (&subtitle_positions);
    }

  g_hash_table_insert (self->matches, item, match);

  return match;
}

static guint
fd_command_palette_get_position (FdCommandPalette *self,
                                 FdPaletteItem    *item)
{
  gpointer position;
  guint n;

  if (g_hash_table_lookup_extended (self->positions, item, NULL, &position))
    return GPOINTER_TO_UINT (position);

  /* The items changed since the positions were taken: take them again. */
  g_hash_table_remove_all (self->positions);
  n = g_list_model_get_n_items (self->items);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) other = g_list_model_get_item (self->items, i);

      g_hash_table_insert (self->positions, other, GUINT_TO_POINTER (i));
    }

  if (g_hash_table_lookup_extended (self->positions, item, NULL, &position))
    return GPOINTER_TO_UINT (position);

  return G_MAXUINT;
}

static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  FdCommandPalette *self = user_data;

  if (self->query[0] == '\0')
    return TRUE;

  return fd_command_palette_get_match (self, item)->matched;
}

static int
sort_func (gconstpointer a,
           gconstpointer b,
           gpointer      user_data)
{
  FdCommandPalette *self = user_data;
  FdPaletteItem *item_a = FD_PALETTE_ITEM ((gpointer) a);
  FdPaletteItem *item_b = FD_PALETTE_ITEM ((gpointer) b);
  guint pos_a, pos_b;

  if (self->query[0] != '\0')
    {
      int score_a = fd_command_palette_get_match (self, item_a)->score;
      int score_b = fd_command_palette_get_match (self, item_b)->score;

      if (score_a != score_b)
        return score_a > score_b ? -1 : 1;
    }

  pos_a = fd_command_palette_get_position (self, item_a);
  pos_b = fd_command_palette_get_position (self, item_b);

  return (pos_a > pos_b) - (pos_a < pos_b);
}

static void
items_changed_cb (FdCommandPalette *self)
{
  /* Lookups fill both tables again as they need. */
  g_hash_table_remove_all (self->positions);
}

static void
fd_command_palette_update_row (FdCommandPalette *self,
                               GtkListItem      *list_item)
{
  FdPaletteItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  Row *row;
  Match *match = NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (item == NULL || box == NULL)
    return;

  row = g_object_get_data (G_OBJECT (box), "fd-palette-row");

  if (self->query[0] != '\0')
    match = fd_command_palette_get_match (self, item);

  title = fd_fuzzy_highlight (item->title, match != NULL ? match->title_positions : NULL);
  gtk_label_set_markup (row->title, title);

  if (item->subtitle != NULL && item->subtitle[0] != '\0')
    {
      subtitle = fd_fuzzy_highlight (item->subtitle,
                                     match != NULL ? match->subtitle_positions : NULL);
      gtk_label_set_markup (row->subtitle, subtitle);
      gtk_widget_set_visible (GTK_WIDGET (row->subtitle), TRUE);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (row->subtitle), FALSE);
    }
}

static void
factory_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  FdCommandPalette         *self)
{
  GtkWidget *box;
  GtkWidget *labels;
  Row *row = g_new0 (Row, 1);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_top (box, 3);
  gtk_widget_set_margin_bottom (box, 3);

  row->icon = GTK_IMAGE (gtk_image_new ());
  gtk_image_set_pixel_size (row->icon, 16);
  gtk_accessible_update_state (GTK_ACCESSIBLE (row->icon), GTK_ACCESSIBLE_STATE_HIDDEN, TRUE, -1);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->icon));

  labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_hexpand (labels, TRUE);
  gtk_widget_set_valign (labels, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), labels);

  row->title = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->title, 0.0f);
  gtk_label_set_ellipsize (row->title, PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (labels), GTK_WIDGET (row->title));

  row->subtitle = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->subtitle, 0.0f);
  gtk_label_set_ellipsize (row->subtitle, PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (GTK_WIDGET (row->subtitle), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (row->subtitle), "dim-label");
  gtk_box_append (GTK_BOX (labels), GTK_WIDGET (row->subtitle));

  row->kind = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_valign (GTK_WIDGET (row->kind), GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (GTK_WIDGET (row->kind), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (row->kind), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->kind));

  row->accel = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_valign (GTK_WIDGET (row->accel), GTK_ALIGN_CENTER);
  gtk_label_set_width_chars (row->accel, 6);
  gtk_label_set_xalign (row->accel, 1.0f);
  gtk_widget_add_css_class (GTK_WIDGET (row->accel), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->accel));

  g_object_set_data_full (G_OBJECT (box), "fd-palette-row", row, g_free);
  gtk_list_item_set_child (list_item, box);
}

static void
factory_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 FdCommandPalette         *self)
{
  FdPaletteItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  Row *row = g_object_get_data (G_OBJECT (box), "fd-palette-row");
  g_autofree char *accel_label = NULL;
  g_autofree char *description = NULL;
  guint key = 0;
  GdkModifierType mods = 0;

  gtk_image_set_from_icon_name (row->icon, item->icon_name);
  gtk_widget_set_visible (GTK_WIDGET (row->icon), item->icon_name != NULL);
  gtk_label_set_label (row->kind, kind_to_label (item->kind));

  if (item->accel != NULL && gtk_accelerator_parse (item->accel, &key, &mods))
    accel_label = gtk_accelerator_get_label (key, mods);
  gtk_label_set_label (row->accel, accel_label != NULL ? accel_label : "");

  fd_command_palette_update_row (self, list_item);

  if (accel_label != NULL)
    /* Translators: read out for a row of the command palette: its kind ("Action"),
     * its subtitle (may be empty) and its shortcut. */
    description = g_strdup_printf (_("%s. %s. Shortcut: %s"),
                                   kind_to_label (item->kind),
                                   item->subtitle != NULL ? item->subtitle : "",
                                   accel_label);
  else
    description = g_strdup_printf ("%s. %s",
                                   kind_to_label (item->kind),
                                   item->subtitle != NULL ? item->subtitle : "");

  gtk_accessible_update_property (GTK_ACCESSIBLE (box),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, item->title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);

  g_hash_table_add (self->bound, list_item);
}

static void
factory_unbind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   FdCommandPalette         *self)
{
  g_hash_table_remove (self->bound, list_item);
}

static void
fd_command_palette_update_empty (FdCommandPalette *self)
{
  gboolean empty = g_list_model_get_n_items (G_LIST_MODEL (self->sort_model)) == 0;

  gtk_stack_set_visible_child_name (self->stack, empty ? "empty" : "results");
}

static void
fd_command_palette_select (FdCommandPalette *self,
                           guint             position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selection));

  if (n == 0)
    return;

  position = MIN (position, n - 1);
  gtk_single_selection_set_selected (self->selection, position);
  gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", position);
}

static void
entry_changed_cb (FdCommandPalette *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  GHashTableIter iter;
  gpointer list_item;

  if (g_strcmp0 (text, self->query) == 0)
    return;

  g_free (self->query);
  self->query = g_strdup (text);
  g_hash_table_remove_all (self->matches);

  gtk_filter_changed (gtk_filter_list_model_get_filter (self->filter_model),
                      GTK_FILTER_CHANGE_DIFFERENT);
  gtk_sorter_changed (gtk_sort_list_model_get_sorter (self->sort_model),
                      GTK_SORTER_CHANGE_DIFFERENT);

  /* Rows that stay in the list are not bound again; their highlights change anyway. */
  g_hash_table_iter_init (&iter, self->bound);
  while (g_hash_table_iter_next (&iter, &list_item, NULL))
    fd_command_palette_update_row (self, list_item);

  fd_command_palette_select (self, 0);
}

static void
fd_command_palette_activate_position (FdCommandPalette *self,
                                      guint             position)
{
  g_autoptr(FdPaletteItem) item = NULL;
  g_autoptr(GtkWidget) parent = NULL;
  g_autoptr(GVariant) target = NULL;
  g_autofree char *action_name = NULL;

  item = g_list_model_get_item (G_LIST_MODEL (self->sort_model), position);
  if (item == NULL)
    return;

  parent = g_object_ref (self->parent);
  action_name = g_strdup (item->action_name);
  target = item->target != NULL ? g_variant_ref (item->target) : NULL;

  /* Closed first: the action may open a dialog or move the focus in the parent. */
  gtk_window_destroy (GTK_WINDOW (self));

  if (!gtk_widget_activate_action_variant (parent, action_name, target))
    g_warning ("The command palette's action “%s” does not exist", action_name);
}

static void
entry_activate_cb (FdCommandPalette *self)
{
  guint position = gtk_single_selection_get_selected (self->selection);

  if (position == GTK_INVALID_LIST_POSITION)
    return;

  fd_command_palette_activate_position (self, position);
}

static void
entry_stop_search_cb (FdCommandPalette *self)
{
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
list_view_activate_cb (FdCommandPalette *self,
                       guint             position)
{
  fd_command_palette_activate_position (self, position);
}

static gboolean
key_pressed_cb (FdCommandPalette      *self,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                GtkEventControllerKey *controller)
{
  guint selected = gtk_single_selection_get_selected (self->selection);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selection));
  guint page = 8;

  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK)) != 0 || n == 0)
    return GDK_EVENT_PROPAGATE;

  if (selected == GTK_INVALID_LIST_POSITION)
    selected = 0;

  switch (keyval)
    {
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      fd_command_palette_select (self, selected + 1 < n ? selected + 1 : 0);
      return GDK_EVENT_STOP;

    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      fd_command_palette_select (self, selected > 0 ? selected - 1 : n - 1);
      return GDK_EVENT_STOP;

    case GDK_KEY_Page_Down:
    case GDK_KEY_KP_Page_Down:
      fd_command_palette_select (self, MIN (selected + page, n - 1));
      return GDK_EVENT_STOP;

    case GDK_KEY_Page_Up:
    case GDK_KEY_KP_Page_Up:
      fd_command_palette_select (self, selected > page ? selected - page : 0);
      return GDK_EVENT_STOP;

    default:
      return GDK_EVENT_PROPAGATE;
    }
}

static void
fd_command_palette_dispose (GObject *object)
{
  FdCommandPalette *self = (FdCommandPalette *)object;

  if (self->items != NULL)
    g_signal_handlers_disconnect_by_func (self->items, items_changed_cb, self);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_COMMAND_PALETTE);

  g_clear_object (&self->selection);
  g_clear_object (&self->sort_model);
  g_clear_object (&self->filter_model);
  g_clear_object (&self->items);
  g_clear_object (&self->parent);
  if (self->bound != NULL)
    g_hash_table_remove_all (self->bound);

  G_OBJECT_CLASS (fd_command_palette_parent_class)->dispose (object);
}

static void
fd_command_palette_finalize (GObject *object)
{
  FdCommandPalette *self = (FdCommandPalette *)object;

  g_clear_pointer (&self->query, g_free);
  g_clear_pointer (&self->matches, g_hash_table_unref);
  g_clear_pointer (&self->positions, g_hash_table_unref);
  g_clear_pointer (&self->bound, g_hash_table_unref);

  G_OBJECT_CLASS (fd_command_palette_parent_class)->finalize (object);
}

static void
fd_command_palette_class_init (FdCommandPaletteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_command_palette_dispose;
  object_class->finalize = fd_command_palette_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/inbox/fd-command-palette.ui");
  gtk_widget_class_bind_template_child (widget_class, FdCommandPalette, entry);
  gtk_widget_class_bind_template_child (widget_class, FdCommandPalette, stack);
  gtk_widget_class_bind_template_child (widget_class, FdCommandPalette, list_view);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_stop_search_cb);
  gtk_widget_class_bind_template_callback (widget_class, list_view_activate_cb);

  /* Esc closes from anywhere, not only from the entry. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
fd_command_palette_init (FdCommandPalette *self)
{
  GtkEventController *keys;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->query = g_strdup ("");
  self->matches = g_hash_table_new_full (NULL, NULL, NULL, match_free);
  self->positions = g_hash_table_new (NULL, NULL);
  self->bound = g_hash_table_new (NULL, NULL);

  /* Up and Down move through the results while the entry keeps the focus. */
  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect_swapped (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);

  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->entry));
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->entry),
                                  GTK_ACCESSIBLE_RELATION_CONTROLS, self->list_view, NULL,
                                  -1);
}

FdCommandPalette *
fd_command_palette_new (GtkWidget  *parent,
                        GListModel *items)
{
  FdCommandPalette *self;
  GtkListItemFactory *factory;
  GtkCustomFilter *filter;
  GtkCustomSorter *sorter;
  GtkRoot *root;

  g_return_val_if_fail (GTK_IS_WIDGET (parent), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (items), NULL);

  self = g_object_new (FD_TYPE_COMMAND_PALETTE, NULL);
  self->parent = g_object_ref (parent);
  self->items = g_object_ref (items);
  g_signal_connect_swapped (items, "items-changed", G_CALLBACK (items_changed_cb), self);

  root = gtk_widget_get_root (parent);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (self), GTK_WINDOW (root));

  filter = gtk_custom_filter_new (filter_func, self, NULL);
  self->filter_model = gtk_filter_list_model_new (g_object_ref (items), GTK_FILTER (filter));

  sorter = gtk_custom_sorter_new (sort_func, self, NULL);
  self->sort_model = gtk_sort_list_model_new (G_LIST_MODEL (g_object_ref (self->filter_model)),
                                              GTK_SORTER (sorter));
  g_signal_connect_object (self->sort_model, "items-changed",
                           G_CALLBACK (fd_command_palette_update_empty), self,
                           G_CONNECT_SWAPPED);

  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->sort_model)));
  gtk_single_selection_set_autoselect (self->selection, TRUE);
  gtk_single_selection_set_can_unselect (self->selection, FALSE);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect_object (factory, "setup", G_CALLBACK (factory_setup_cb), self, 0);
  g_signal_connect_object (factory, "bind", G_CALLBACK (factory_bind_cb), self, 0);
  g_signal_connect_object (factory, "unbind", G_CALLBACK (factory_unbind_cb), self, 0);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);

  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));

  fd_command_palette_update_empty (self);

  return self;
}

GtkEditable *
_fd_command_palette_get_entry (FdCommandPalette *self)
{
  g_return_val_if_fail (FD_IS_COMMAND_PALETTE (self), NULL);

  return GTK_EDITABLE (self->entry);
}

GListModel *
_fd_command_palette_get_results (FdCommandPalette *self)
{
  g_return_val_if_fail (FD_IS_COMMAND_PALETTE (self), NULL);

  return G_LIST_MODEL (self->sort_model);
}

/* }}} */
