/* test-command-palette.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The command palette in a real window under Xvfb: typing filters and orders the items,
 * Up/Down move the selection, Enter and a click run the item's action on the parent
 * widget and close the palette, Esc closes it, and no match shows a status.
 */

#define G_LOG_DOMAIN "test-command-palette"

#include "config.h"

#include <adwaita.h>

#include "fd-command-palette.h"
#include "fd-resources.h"

#define WAIT_TIMEOUT_USEC (10 * G_USEC_PER_SEC)

#include "../fd-test-wait.h"

typedef struct
{
  GtkWidget        *window;
  GtkWidget        *parent;
  GListStore       *items;
  FdCommandPalette *palette;
  /* What the test actions received: "run:resolve", "open:4711". */
  GPtrArray        *ran;
} Fixture;

static void
run_action_cb (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  Fixture *fixture = user_data;

  g_ptr_array_add (fixture->ran,
                   g_strdup_printf ("%s:%s", g_action_get_name (G_ACTION (action)),
                                    g_variant_get_string (parameter, NULL)));
}

static void
open_action_cb (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  Fixture *fixture = user_data;

  g_ptr_array_add (fixture->ran,
                   g_strdup_printf ("open:%" G_GINT64_FORMAT, g_variant_get_int64 (parameter)));
}

static void
add_item (GListStore    *store,
          FdPaletteKind  kind,
          const char    *title,
          const char    *subtitle,
          const char    *icon_name,
          const char    *action_name,
          GVariant      *target,
          const char    *accel)
{
  g_autoptr(FdPaletteItem) item = fd_palette_item_new (kind, title, subtitle, icon_name,
                                                       action_name, target, accel);

  g_list_store_append (store, item);
}

static void
iterate_a_little (void)
{
  gint64 end = g_get_monotonic_time () + 50 * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  const GActionEntry entries[] = {
    { "run", run_action_cb, "s" },
    { "open", open_action_cb, "x" },
  };

  fixture->ran = g_ptr_array_new_with_free_func (g_free);

  fixture->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 800, 600);
  fixture->parent = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_window_set_child (GTK_WINDOW (fixture->window), fixture->parent);

  g_action_map_add_action_entries (G_ACTION_MAP (group), entries, G_N_ELEMENTS (entries), fixture);
  gtk_widget_insert_action_group (fixture->parent, "test", G_ACTION_GROUP (group));

  fixture->items = g_list_store_new (FD_TYPE_PALETTE_ITEM);
  add_item (fixture->items, FD_PALETTE_ACTION, "Resolve", NULL, "object-select-symbolic",
            "test.run", g_variant_new_string ("resolve"), "e");
  add_item (fixture->items, FD_PALETTE_ACTION, "Snooze…", "Until a time you choose", "alarm-symbolic",
            "test.run", g_variant_new_string ("snooze"), "s");
  add_item (fixture->items, FD_PALETTE_ACTION, "Assign to Me", NULL, "avatar-default-symbolic",
            "test.run", g_variant_new_string ("assign-me"), "a");
  add_item (fixture->items, FD_PALETTE_ACTION, "Open Preferences", NULL, "emblem-system-symbolic",
            "test.run", g_variant_new_string ("preferences"), "<Control>comma");
  add_item (fixture->items, FD_PALETTE_VIEW, "My Open", NULL, "mail-inbox-symbolic",
            "test.run", g_variant_new_string ("view-my-open"), NULL);
  add_item (fixture->items, FD_PALETTE_VIEW, "Unassigned", NULL, "mail-inbox-symbolic",
            "test.run", g_variant_new_string ("view-unassigned"), NULL);
  add_item (fixture->items, FD_PALETTE_VIEW, "Resolved", NULL, "mail-inbox-symbolic",
            "test.run", g_variant_new_string ("view-resolved"), NULL);
  add_item (fixture->items, FD_PALETTE_MACRO, "Refund processed", "Reply", "document-edit-symbolic",
            "test.run", g_variant_new_string ("macro-refund"), NULL);
  add_item (fixture->items, FD_PALETTE_CONVERSATION, "SSO login fails", "Acme Corp · #4711",
            "mail-unread-symbolic", "test.open", g_variant_new_int64 (4711), NULL);
  add_item (fixture->items, FD_PALETTE_CONVERSATION, "Invoice question", "Résumé Café GmbH · #4712",
            "mail-unread-symbolic", "test.open", g_variant_new_int64 (4712), NULL);

  gtk_window_present (GTK_WINDOW (fixture->window));

  fixture->palette = g_object_ref (fd_command_palette_new (fixture->parent, G_LIST_MODEL (fixture->items)));
  gtk_window_present (GTK_WINDOW (fixture->palette));
  iterate_a_little ();
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->palette != NULL)
    {
      gtk_window_destroy (GTK_WINDOW (fixture->palette));
      iterate_a_little ();
      g_assert_finalize_object (g_steal_pointer (&fixture->palette));
    }

  g_object_ref (fixture->window);
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  iterate_a_little ();
  g_assert_finalize_object (fixture->window);
  g_assert_finalize_object (fixture->items);
  g_ptr_array_unref (fixture->ran);
}

/* The palette closed and went away: nothing else holds it. */
static void
assert_palette_gone (Fixture *fixture)
{
  iterate_a_little ();
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (fixture->palette)));
  g_assert_finalize_object (g_steal_pointer (&fixture->palette));
}

static char *
result_titles (Fixture *fixture)
{
  GListModel *results = _fd_command_palette_get_results (fixture->palette);
  g_autoptr(GString) titles = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (results); i++)
    {
      g_autoptr(FdPaletteItem) item = g_list_model_get_item (results, i);

      g_string_append_printf (titles, "%s%s", i > 0 ? "|" : "", fd_palette_item_get_title (item));
    }

  return g_string_free (g_steal_pointer (&titles), FALSE);
}

static void
type (Fixture    *fixture,
      const char *text)
{
  gtk_editable_set_text (_fd_command_palette_get_entry (fixture->palette), text);
}

static GtkWidget *
find_widget (GtkWidget *widget,
             GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* A row's title label, found by its text, or NULL while the rows are not drawn. */
static GtkLabel *
find_label (GtkWidget  *widget,
            const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return GTK_LABEL (widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkLabel *found = find_label (child, text);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static guint
selected_position (Fixture *fixture)
{
  GtkListView *list_view = GTK_LIST_VIEW (find_widget (GTK_WIDGET (fixture->palette), GTK_TYPE_LIST_VIEW));
  GtkSelectionModel *model = gtk_list_view_get_model (list_view);

  return gtk_single_selection_get_selected (GTK_SINGLE_SELECTION (model));
}

/* What a key press on the palette does while the entry has the focus. */
static gboolean
press_key (Fixture *fixture,
           guint    keyval)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (fixture->palette));
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers) && !handled; i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller))
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, 0, &handled);
    }

  return handled;
}

static gboolean
title_label_drawn (gpointer data)
{
  Fixture *fixture = data;

  return find_label (GTK_WIDGET (fixture->palette), "Resolve") != NULL;
}

static void
test_palette_open (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *titles = result_titles (fixture);
  GtkLabel *label;
  g_autofree char *accel = gtk_accelerator_get_label (GDK_KEY_comma, GDK_CONTROL_MASK);
  GtkWidget *entry = GTK_WIDGET (_fd_command_palette_get_entry (fixture->palette));
  GtkWidget *focus;

  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (fixture->palette)) == GTK_WINDOW (fixture->window));
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (fixture->palette)));
  focus = gtk_root_get_focus (GTK_ROOT (fixture->palette));
  g_assert_nonnull (focus);
  g_assert_true (focus == entry || gtk_widget_is_ancestor (focus, entry));

  /* An empty query lists everything, in the order given. */
  g_assert_cmpstr (titles, ==,
                   "Resolve|Snooze…|Assign to Me|Open Preferences|My Open|Unassigned|Resolved|"
                   "Refund processed|SSO login fails|Invoice question");
  g_assert_cmpuint (selected_position (fixture), ==, 0);

  /* Rows show the kind and the shortcut as the keyboard shows it. */
  wait_until (title_label_drawn, fixture);
  g_assert_nonnull (find_label (GTK_WIDGET (fixture->palette), "Action"));
  g_assert_nonnull (find_label (GTK_WIDGET (fixture->palette), "View"));
  g_assert_nonnull (find_label (GTK_WIDGET (fixture->palette), "Until a time you choose"));
  g_assert_nonnull (find_label (GTK_WIDGET (fixture->palette), accel));
  label = find_label (GTK_WIDGET (fixture->palette), "Resolve");
  g_assert_cmpstr (gtk_label_get_label (label), ==, "Resolve");
}

static void
test_palette_filter_and_order (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *titles = NULL;
  GtkLabel *label;

  type (fixture, "res");
  titles = result_titles (fixture);
  /* The closest first: consecutive letters at the start, then at a word start, then
   * scattered; "Invoice question" by its subtitle (“Résumé”, accents ignored), which
   * counts half. */
  g_assert_cmpstr (titles, ==, "Resolve|Resolved|Refund processed|Invoice question|Open Preferences");
  g_assert_cmpuint (selected_position (fixture), ==, 0);

  /* The matched letters are bold, and follow the query as it changes. */
  wait_until (title_label_drawn, fixture);
  label = find_label (GTK_WIDGET (fixture->palette), "Resolve");
  g_assert_cmpstr (gtk_label_get_label (label), ==, "<b>Res</b>olve");

  type (fixture, "rslv");
  g_clear_pointer (&titles, g_free);
  titles = result_titles (fixture);
  g_assert_cmpstr (titles, ==, "Resolve|Resolved");
  iterate_a_little ();
  label = find_label (GTK_WIDGET (fixture->palette), "Resolve");
  g_assert_nonnull (label);
  g_assert_cmpstr (gtk_label_get_label (label), ==, "<b>R</b>e<b>s</b>o<b>lv</b>e");

  /* Case and accents do not matter; conversations match by organisation too. */
  type (fixture, "ACME");
  g_clear_pointer (&titles, g_free);
  titles = result_titles (fixture);
  g_assert_cmpstr (titles, ==, "SSO login fails");

  type (fixture, "cafe");
  g_clear_pointer (&titles, g_free);
  titles = result_titles (fixture);
  g_assert_cmpstr (titles, ==, "Invoice question");

  /* Back to everything. */
  type (fixture, "");
  g_assert_cmpuint (g_list_model_get_n_items (_fd_command_palette_get_results (fixture->palette)), ==,
                    g_list_model_get_n_items (G_LIST_MODEL (fixture->items)));
  g_assert_cmpuint (fixture->ran->len, ==, 0);
}

static void
test_palette_enter (Fixture       *fixture,
                    gconstpointer  data)
{
  type (fixture, "res");

  g_assert_cmpuint (g_list_model_get_n_items (_fd_command_palette_get_results (fixture->palette)), ==, 5);

  /* Down moves to the second result while the entry keeps the focus; Up wraps round. */
  g_assert_true (press_key (fixture, GDK_KEY_Down));
  g_assert_cmpuint (selected_position (fixture), ==, 1);
  g_assert_true (press_key (fixture, GDK_KEY_Up));
  g_assert_true (press_key (fixture, GDK_KEY_Up));
  g_assert_cmpuint (selected_position (fixture), ==, 4);
  g_assert_true (press_key (fixture, GDK_KEY_Down));
  g_assert_true (press_key (fixture, GDK_KEY_Down));
  g_assert_cmpuint (selected_position (fixture), ==, 1);
  g_assert_false (press_key (fixture, GDK_KEY_a));

  /* Enter runs "Resolved" with its target on the parent, after the palette closed. */
  g_signal_emit_by_name (_fd_command_palette_get_entry (fixture->palette), "activate");
  g_assert_cmpuint (fixture->ran->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->ran, 0), ==, "run:view-resolved");
  assert_palette_gone (fixture);
}

static void
test_palette_enter_conversation (Fixture       *fixture,
                                 gconstpointer  data)
{
  type (fixture, "sso");
  g_signal_emit_by_name (_fd_command_palette_get_entry (fixture->palette), "activate");
  g_assert_cmpuint (fixture->ran->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->ran, 0), ==, "open:4711");
  assert_palette_gone (fixture);
}

static void
test_palette_click (Fixture       *fixture,
                    gconstpointer  data)
{
  GtkWidget *list_view = find_widget (GTK_WIDGET (fixture->palette), GTK_TYPE_LIST_VIEW);

  type (fixture, "as");
  /* "Assign to Me" first, then the others containing a…s. */
  g_signal_emit_by_name (list_view, "activate", 0);
  g_assert_cmpuint (fixture->ran->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->ran, 0), ==, "run:assign-me");
  assert_palette_gone (fixture);
}

static void
test_palette_escape (Fixture       *fixture,
                     gconstpointer  data)
{
  type (fixture, "res");
  g_signal_emit_by_name (_fd_command_palette_get_entry (fixture->palette), "stop-search");
  g_assert_cmpuint (fixture->ran->len, ==, 0);
  assert_palette_gone (fixture);

  /* Esc outside the entry: the window's own shortcut. */
  fixture->palette = g_object_ref (fd_command_palette_new (fixture->parent, G_LIST_MODEL (fixture->items)));
  gtk_window_present (GTK_WINDOW (fixture->palette));
  iterate_a_little ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->palette), "window.close", NULL));
  g_assert_cmpuint (fixture->ran->len, ==, 0);
  assert_palette_gone (fixture);
}

static void
test_palette_no_match (Fixture       *fixture,
                       gconstpointer  data)
{
  GtkWidget *status = find_widget (GTK_WIDGET (fixture->palette), ADW_TYPE_STATUS_PAGE);
  GtkStack *stack = GTK_STACK (gtk_widget_get_ancestor (status, GTK_TYPE_STACK));

  g_assert_true (gtk_stack_get_visible_child (stack) != status);

  type (fixture, "zzqx");
  g_assert_cmpuint (g_list_model_get_n_items (_fd_command_palette_get_results (fixture->palette)), ==, 0);
  g_assert_true (gtk_stack_get_visible_child (stack) == status);
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (status)), ==, "No Matches");

  /* Enter with nothing listed does nothing and keeps the palette open. */
  g_signal_emit_by_name (_fd_command_palette_get_entry (fixture->palette), "activate");
  g_assert_false (press_key (fixture, GDK_KEY_Down));
  g_assert_cmpuint (fixture->ran->len, ==, 0);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (fixture->palette)));

  type (fixture, "zz");
  g_assert_cmpuint (g_list_model_get_n_items (_fd_command_palette_get_results (fixture->palette)), ==, 0);
  type (fixture, "snz");
  g_assert_true (gtk_stack_get_visible_child (stack) != status);
  g_assert_cmpuint (g_list_model_get_n_items (_fd_command_palette_get_results (fixture->palette)), ==, 1);
}

static void
test_palette_items_change (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(FdPaletteItem) item = NULL;
  g_autofree char *titles = NULL;

  /* An item added while the palette is open is matched and ordered like the others. */
  type (fixture, "res");
  item = fd_palette_item_new (FD_PALETTE_ACTION, "Reset filters", NULL, NULL, "test.run",
                              g_variant_new_string ("reset"), NULL);
  g_list_store_insert (fixture->items, 0, item);
  titles = result_titles (fixture);
  g_assert_cmpstr (titles, ==,
                   "Resolve|Resolved|Reset filters|Refund processed|Invoice question|Open Preferences");

  type (fixture, "");
  g_clear_pointer (&titles, g_free);
  titles = result_titles (fixture);
  g_assert_true (g_str_has_prefix (titles, "Reset filters|Resolve|Snooze…"));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  /* The palette's template lives in the app's resources. */
  (void) fd_get_resource ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/command-palette/open", test_palette_open);
  ADD ("/command-palette/filter-and-order", test_palette_filter_and_order);
  ADD ("/command-palette/enter", test_palette_enter);
  ADD ("/command-palette/enter-conversation", test_palette_enter_conversation);
  ADD ("/command-palette/click", test_palette_click);
  ADD ("/command-palette/escape", test_palette_escape);
  ADD ("/command-palette/no-match", test_palette_no_match);
  ADD ("/command-palette/items-change", test_palette_items_change);

#undef ADD

  return g_test_run ();
}
