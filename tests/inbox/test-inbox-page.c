/* test-inbox-page.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Inbox in a real window of a registered FdApplication, on a small demo store: a
 * triage session by keyboard (next, open, reply with a macro, resolve, undo, snooze,
 * search), real key events through the X server, the shortcut table, the command
 * palette and saved searches. Every check reads the SQLite file the window writes.
 */

#define G_LOG_DOMAIN "test-inbox-page"

#include "config.h"

#include <adwaita.h>
#include <dlfcn.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#include <X11/extensions/XInput2.h>
#endif

#include "fd-application-private.h"
#include "fd-command-palette.h"
#include "fd-composer.h"
#include "fd-conversation-row.h"
#include "fd-conversation-view.h"
#include "fd-inbox-page.h"
#include "fd-paths.h"
#include "fd-window-private.h"

#define WAIT_TIMEOUT_USEC (20 * G_USEC_PER_SEC)

#include "../fd-test-wait.h"

static FdApplication *app;
static char *profile_dir;
static char *db_path;

/* {{{ Helpers */

/* Iterates the main loop until @condition holds; fails the test after a while. */
static sqlite3 *
db_open (void)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);

  return db;
}

static gint64
db_int (const char *sql,
        gint64      arg)
{
  sqlite3 *db = db_open ();
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_bind_parameter_count (stmt) > 0)
    sqlite3_bind_int64 (stmt, 1, arg);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return value;
}

static char *
db_text (const char *sql,
         gint64      arg)
{
  sqlite3 *db = db_open ();
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_bind_parameter_count (stmt) > 0)
    sqlite3_bind_int64 (stmt, 1, arg);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return value;
}

static char *
status_of (gint64 id)
{
  return db_text ("SELECT status FROM conversations WHERE id = ?1", id);
}

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

static FdConversationSummary *
summary_at (FdInboxPage *page,
            guint        position)
{
  FdConversationList *list = _fd_inbox_page_get_list (page);

  if (list == NULL || position >= g_list_model_get_n_items (G_LIST_MODEL (list)))
    return NULL;

  return g_list_model_get_item (G_LIST_MODEL (list), position);
}

static gint64
id_at (FdInboxPage *page,
       guint        position)
{
  g_autoptr(FdConversationSummary) summary = summary_at (page, position);

  if (summary == NULL || !fd_conversation_summary_get_loaded (summary))
    return 0;

  return fd_conversation_summary_get_id (summary);
}

static gboolean
list_ready (FdInboxPage *page)
{
  FdConversationList *list = _fd_inbox_page_get_list (page);

  return list != NULL && !fd_conversation_list_get_loading (list) && id_at (page, 0) != 0;
}

/* The position of the only selected row, or G_MAXUINT. */
static guint
selected_position (FdInboxPage *page)
{
  GtkSelectionModel *selection = _fd_inbox_page_get_selection (page);
  g_autoptr(GtkBitset) selected = gtk_selection_model_get_selection (selection);

  if (gtk_bitset_get_size (selected) != 1)
    return G_MAXUINT;

  return gtk_bitset_get_minimum (selected);
}

static gint64
selected_id (FdInboxPage *page)
{
  guint position = selected_position (page);

  return position == G_MAXUINT ? 0 : id_at (page, position);
}

/* Moves the cursor to @id with j and k, as an agent would, wherever the list put it. */
static void
move_to (FdInboxPage *page,
         gint64       id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (_fd_inbox_page_get_list (page)));
  guint target = G_MAXUINT;

  for (guint i = 0; i < n && target == G_MAXUINT; i++)
    if (id_at (page, i) == id)
      target = i;
  g_assert_cmpuint (target, !=, G_MAXUINT);

  while (selected_position (page) > target)
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "inbox.previous", NULL));
  while (selected_position (page) < target)
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "inbox.next", NULL));
  g_assert_cmpint (selected_id (page), ==, id);
}

static gboolean
focus_in_list (FdInboxPage *page)
{
  GtkWidget *list_view = GTK_WIDGET (_fd_inbox_page_get_list_view (page));
  GtkRoot *root = gtk_widget_get_root (list_view);
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  return focus != NULL && gtk_widget_is_ancestor (focus, list_view);
}

static gboolean
listed (FdInboxPage *page,
        gint64       id)
{
  FdConversationList *list = _fd_inbox_page_get_list (page);

  return list != NULL && fd_conversation_list_find (list, id) != G_MAXUINT;
}

static void
press (FdInboxPage *page,
       const char  *action)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), action, NULL));
}

static FdWindow *
create_window (void)
{
  FdWindow *window = fd_window_new (app);

  gtk_window_present (GTK_WINDOW (window));
  wait_until (store_settled, NULL);
  g_assert_null (fd_application_get_store_error (app));

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

/* Shows @view of the Inbox and waits for its first page. */
static FdInboxPage *
show_view (FdWindow   *window,
           const char *view)
{
  FdInboxPage *page = _fd_window_get_inbox_page (window);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-inbox-view", "s", view));
  g_assert_cmpstr (fd_window_get_area (window), ==, FD_AREA_INBOX);
  wait_until (list_ready, page);

  return page;
}

static GtkWidget *
page_child (FdInboxPage *page,
            const char  *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (page), FD_TYPE_INBOX_PAGE, name));
}

static FdComposer *
view_composer (FdConversationView *view)
{
  return FD_COMPOSER (gtk_widget_get_template_child (GTK_WIDGET (view), FD_TYPE_CONVERSATION_VIEW, "composer"));
}

static char *
composer_text (FdConversationView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (_fd_conversation_view_get_composer_text (view));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);

  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static guint
thread_rows (FdConversationView *view)
{
  GtkListBox *thread = _fd_conversation_view_get_thread (view);
  guint n = 0;

  while (gtk_list_box_get_row_at_index (thread, n) != NULL)
    n++;

  return n;
}

typedef struct
{
  FdInboxPage *page;
  gint64       id;
} PageId;

static gboolean
opened (PageId *data)
{
  FdConversationView *view = fd_inbox_page_get_conversation_view (data->page);
  const FdConversationDetail *detail = fd_conversation_view_get_detail (view);

  return detail != NULL && detail->id == data->id;
}

static gboolean
not_listed (PageId *data)
{
  return !listed (data->page, data->id);
}

static gboolean
is_listed (PageId *data)
{
  return listed (data->page, data->id);
}

typedef struct
{
  gint64      id;
  const char *status;
} IdStatus;

static gboolean
has_status (IdStatus *data)
{
  g_autofree char *status = status_of (data->id);

  return g_strcmp0 (status, data->status) == 0;
}

typedef struct
{
  FdWindow *window;
  gint64    count;
} WindowCount;

static gboolean
all_open_count_is (WindowCount *data)
{
  return _fd_window_get_view_count (data->window, FD_INBOX_VIEW_ALL_OPEN) == data->count &&
         _fd_window_get_open_count (data->window) == data->count;
}

static gboolean
counted (FdWindow *window)
{
  return _fd_window_get_view_count (window, FD_INBOX_VIEW_ALL_OPEN) >= 0;
}

static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) toplevel = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (toplevel, type) && gtk_widget_get_visible (GTK_WIDGET (toplevel)))
        return GTK_WINDOW (toplevel);
    }

  return NULL;
}

static gboolean
message_dialog_shown (gpointer data)
{
  return find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL;
}

static void
close_toplevel (GtkWindow *window)
{
  g_object_ref (window);
  gtk_window_destroy (window);
  wait_until (only_our_ref, window);
  g_object_unref (window);
}

/* A word of at least five letters from the first message of @id, to search for. */
static char *
word_from_conversation (gint64 id)
{
  g_autofree char *body = db_text ("SELECT body FROM messages WHERE conversation_id = ?1 "
                                   "AND author_kind = 'contact' ORDER BY created_at LIMIT 1", id);
  g_auto(GStrv) words = NULL;

  g_assert_nonnull (body);
  words = g_regex_split_simple ("[^A-Za-z]+", body, 0, 0);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (strlen (words[i]) >= 6)
        return g_ascii_strdown (words[i], -1);
    }

  g_error ("No word to search for in “%s”", body);
  return NULL;
}

/* The first conversation row widget of the list that shows a loaded summary. */
static FdConversationRow *
first_loaded_row (FdInboxPage *page)
{
  GtkWidget *list_view = GTK_WIDGET (_fd_inbox_page_get_list_view (page));

  for (GtkWidget *child = gtk_widget_get_first_child (list_view);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = gtk_widget_get_first_child (child);

      if (FD_IS_CONVERSATION_ROW (row) &&
          fd_conversation_row_get_summary (FD_CONVERSATION_ROW (row)) != NULL &&
          fd_conversation_summary_get_loaded (fd_conversation_row_get_summary (FD_CONVERSATION_ROW (row))))
        return FD_CONVERSATION_ROW (row);
    }

  return NULL;
}

/* }}} */
/* {{{ Real key events */

/* GTK 4 has no public way to inject a key event, so the test asks the X server (Xvfb
 * under meson) to generate one with the XTEST extension, as a keyboard would. The
 * libraries are looked up at run time: the test links neither. */
#ifdef GDK_WINDOWING_X11
typedef int (*FakeKeyFunc) (Display *display, unsigned int keycode, Bool is_press, unsigned long delay);
typedef int (*SetInputFocusFunc) (Display *display, Window window, int revert_to, Time time);
typedef int (*FlushFunc) (Display *display);
#endif
#ifdef GDK_WINDOWING_X11
typedef int (*GrabDeviceFunc) (Display *display, int deviceid, Window grab_window, Time time,
                               Cursor cursor, int grab_mode, int paired_device_mode,
                               Bool owner_events, XIEventMask *mask);
typedef int (*UngrabDeviceFunc) (Display *display, int deviceid, Time time);
#endif

#ifdef GDK_WINDOWING_X11
static FakeKeyFunc fake_key;
static SetInputFocusFunc set_input_focus;
static FlushFunc flush;
#endif
#ifdef GDK_WINDOWING_X11
static GrabDeviceFunc grab_device;
static UngrabDeviceFunc ungrab_device;
#endif

static gboolean
real_keys_available (GtkWidget *widget)
{
#ifdef GDK_WINDOWING_X11
  static void *xtst;

  if (!GDK_IS_X11_DISPLAY (gtk_widget_get_display (widget)))
    return FALSE;

  if (xtst == NULL)
    xtst = dlopen ("libXtst.so.6", RTLD_NOW | RTLD_GLOBAL);
  if (xtst == NULL)
    return FALSE;

  fake_key = (FakeKeyFunc) dlsym (xtst, "XTestFakeKeyEvent");
  set_input_focus = (SetInputFocusFunc) dlsym (RTLD_DEFAULT, "XSetInputFocus");
  flush = (FlushFunc) dlsym (RTLD_DEFAULT, "XFlush");
  grab_device = (GrabDeviceFunc) dlsym (RTLD_DEFAULT, "XIGrabDevice");
  ungrab_device = (UngrabDeviceFunc) dlsym (RTLD_DEFAULT, "XIUngrabDevice");

  return fake_key != NULL && set_input_focus != NULL && flush != NULL &&
         grab_device != NULL && ungrab_device != NULL;
#else
  return FALSE;
#endif
}

static gboolean
window_active (GtkWindow *window)
{
  return gtk_window_is_active (window);
}

#ifdef GDK_WINDOWING_X11
static int
keyboard_device_id (GdkDisplay *display)
{
  return gdk_x11_device_get_id (gdk_seat_get_keyboard (gdk_display_get_default_seat (display)));
}
#endif

/* Other tests share the X server and may take the focus at any moment: the keyboard
 * is grabbed for this window while keys are sent (an XInput 2 grab, as GTK only reads
 * XInput 2 events), so none goes astray. */
static gboolean
grab_x_keyboard (GtkWindow *window)
{
#ifdef GDK_WINDOWING_X11
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  unsigned char bits[XIMaskLen (XI_LASTEVENT)] = { 0 };
  XIEventMask mask = { keyboard_device_id (display), sizeof bits, bits };
  int status;

  XISetMask (bits, XI_KeyPress);
  XISetMask (bits, XI_KeyRelease);
  XISetMask (bits, XI_FocusIn);
  XISetMask (bits, XI_FocusOut);

  gdk_x11_display_error_trap_push (display);
  set_input_focus (gdk_x11_display_get_xdisplay (display), gdk_x11_surface_get_xid (surface),
                   RevertToPointerRoot, CurrentTime);
  status = grab_device (gdk_x11_display_get_xdisplay (display), mask.deviceid,
                        gdk_x11_surface_get_xid (surface), CurrentTime, None,
                        XIGrabModeAsync, XIGrabModeAsync, False, &mask);
  flush (gdk_x11_display_get_xdisplay (display));
  gdk_x11_display_error_trap_pop_ignored (display);

  return status == GrabSuccess;
#else
  return FALSE;
#endif
}

static void
ungrab_x_keyboard (GtkWindow *window)
{
#ifdef GDK_WINDOWING_X11
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));

  ungrab_device (gdk_x11_display_get_xdisplay (display), keyboard_device_id (display), CurrentTime);
  flush (gdk_x11_display_get_xdisplay (display));
#endif
}

static void
send_key (GtkWidget *widget,
          guint      keyval)
{
#ifdef GDK_WINDOWING_X11
  GdkDisplay *display = gtk_widget_get_display (widget);
  g_autofree GdkKeymapKey *keys = NULL;
  int n_keys = 0;

  g_assert_true (gdk_display_map_keyval (display, keyval, &keys, &n_keys));
  g_assert_cmpint (n_keys, >, 0);
  g_assert_cmpint (keys[0].level, ==, 0);

  fake_key (gdk_x11_display_get_xdisplay (display), keys[0].keycode, True, CurrentTime);
  fake_key (gdk_x11_display_get_xdisplay (display), keys[0].keycode, False, CurrentTime);
  flush (gdk_x11_display_get_xdisplay (display));
#endif
}

/* }}} */
/* {{{ Tests */

/* Every single key of the Inbox is bound on the page's class to the action it names,
 * and the action exists; Ctrl+K is the window's palette. */
static void
test_shortcut_table (void)
{
  static const struct
  {
    guint            keyval;
    GdkModifierType  modifiers;
    const char      *action;
  } expected[] = {
    { GDK_KEY_j, 0, "inbox.next" },
    { GDK_KEY_k, 0, "inbox.previous" },
    { GDK_KEY_Return, 0, "inbox.open" },
    { GDK_KEY_e, 0, "inbox.resolve" },
    { GDK_KEY_s, 0, "inbox.snooze" },
    { GDK_KEY_a, 0, "inbox.assign-to-me" },
    { GDK_KEY_t, 0, "inbox.tag" },
    { GDK_KEY_r, 0, "inbox.reply" },
    { GDK_KEY_n, 0, "inbox.note" },
    { GDK_KEY_slash, 0, "inbox.search" },
    { GDK_KEY_f, GDK_CONTROL_MASK, "inbox.search" },
    { GDK_KEY_Escape, 0, "inbox.back" },
  };
  GtkWidget *page = g_object_ref_sink (fd_inbox_page_new ());
  GtkWidget *window = g_object_ref_sink (g_object_new (FD_TYPE_WINDOW, NULL));
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (page);
  g_autoptr(GListModel) window_controllers = gtk_widget_observe_controllers (window);
  g_autoptr(GtkBuilder) builder = NULL;
  g_autoptr(GString) listed_accels = g_string_new ("");
  GSList *objects;
  gboolean palette_bound = FALSE;

  for (guint e = 0; e < G_N_ELEMENTS (expected); e++)
    {
      const char *found = NULL;
      gboolean installed = FALSE;
      const char *name;
      const char *property_name;
      const GVariantType *parameter_type;
      GType owner;

      for (guint c = 0; c < g_list_model_get_n_items (controllers); c++)
        {
          g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, c);

          if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
            continue;

          for (guint s = 0; s < g_list_model_get_n_items (G_LIST_MODEL (controller)); s++)
            {
              g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), s);
              GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);
              GVariant *args = gtk_shortcut_get_arguments (shortcut);

              if (!GTK_IS_KEYVAL_TRIGGER (trigger) ||
                  gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) != expected[e].keyval ||
                  gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) != expected[e].modifiers)
                continue;

              g_assert_nonnull (args);
              g_variant_get (args, "(&su)", &found, NULL);
            }
        }

      g_assert_cmpstr (found, ==, expected[e].action);

      for (guint i = 0;
           gtk_widget_class_query_action (GTK_WIDGET_GET_CLASS (page), i, &owner, &name,
                                          &parameter_type, &property_name);
           i++)
        installed |= g_str_equal (name, expected[e].action);
      g_assert_true (installed);
    }

  for (guint c = 0; c < g_list_model_get_n_items (window_controllers); c++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (window_controllers, c);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;

      for (guint s = 0; s < g_list_model_get_n_items (G_LIST_MODEL (controller)); s++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), s);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);

          if (GTK_IS_KEYVAL_TRIGGER (trigger) &&
              gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) == GDK_KEY_k &&
              gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) == GDK_CONTROL_MASK &&
              GTK_IS_NAMED_ACTION (action))
            palette_bound = g_str_equal (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)),
                                         "win.command-palette");
        }
    }
  g_assert_true (palette_bound);

  /* The shortcuts window lists every one of them. */
  builder = gtk_builder_new_from_resource (APP_PATH "/gtk/help-overlay.ui");
  objects = gtk_builder_get_objects (builder);
  for (GSList *l = objects; l != NULL; l = l->next)
    {
      if (GTK_IS_SHORTCUTS_SHORTCUT (l->data))
        {
          g_autofree char *accelerator = NULL;

          g_object_get (l->data, "accelerator", &accelerator, NULL);
          g_string_append_printf (listed_accels, " %s ", accelerator != NULL ? accelerator : "");
        }
    }
  g_slist_free (objects);

  {
    const char * const keys[] = {
      " j ", " k ", " Return ", " Escape ", " r ", " n ", " e ", " s ", " a ", " t ",
      " slash ", " <ctrl>f ", " <ctrl>k ", " <ctrl>Return ", " F9 ",
    };

    for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
      {
        if (strstr (listed_accels->str, keys[i]) == NULL)
          g_error ("The shortcuts window does not list “%s” (it lists:%s)", keys[i], listed_accels->str);
      }
  }

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_assert_finalize_object (page);
}

static gboolean
snooze_popover_hidden (FdInboxPage *page)
{
  return !gtk_widget_get_visible (GTK_WIDGET (_fd_inbox_page_get_snooze_popover (page)));
}

typedef struct
{
  gint64 id;
  gint64 until;
} Snooze;

static gboolean
snoozed_until (Snooze *data)
{
  g_autofree char *status = status_of (data->id);

  return g_strcmp0 (status, "snoozed") == 0 &&
         db_int ("SELECT snoozed_until FROM conversations WHERE id = ?1", data->id) == data->until;
}

typedef struct
{
  FdConversationView *view;
  guint               n;
} ThreadRows;

static gboolean
thread_has_rows (ThreadRows *data)
{
  return thread_rows (data->view) >= data->n;
}

typedef struct
{
  gint64      id;
  gint64      n;
  const char *body;
} StoredReply;

static gboolean
reply_stored (StoredReply *data)
{
  sqlite3 *db = db_open ();
  sqlite3_stmt *stmt = NULL;
  gboolean found = FALSE;

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT count(*), sum(body = ?2 AND author_kind = 'agent' AND NOT is_note "
                                       "                      AND (send_state IS NULL OR send_state IN ('sending', 'sent'))) "
                                       "FROM messages WHERE conversation_id = ?1",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, data->id);
  sqlite3_bind_text (stmt, 2, data->body, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    found = sqlite3_column_int64 (stmt, 0) == data->n + 1 && sqlite3_column_int64 (stmt, 1) == 1;
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return found;
}

typedef struct
{
  FdInboxPage *page;
  gint64       first_id;
} SearchShown;

static gboolean
search_error_shown (FdInboxPage *page)
{
  GtkLabel *label = _fd_inbox_page_get_search_error (page);

  return gtk_widget_get_visible (GTK_WIDGET (label)) && gtk_label_get_text (label)[0] != '\0';
}

/* An unknown field's message names it. */
static gboolean
search_error_names_field (FdInboxPage *page)
{
  return search_error_shown (page) &&
         strstr (gtk_label_get_text (_fd_inbox_page_get_search_error (page)), "colour") != NULL;
}

static gboolean
list_is_empty_state (FdInboxPage *page)
{
  FdConversationList *list = _fd_inbox_page_get_list (page);

  return !fd_conversation_list_get_loading (list) &&
         g_list_model_get_n_items (G_LIST_MODEL (list)) == 0 &&
         g_strcmp0 (gtk_stack_get_visible_child_name (_fd_inbox_page_get_list_stack (page)), "empty") == 0;
}

typedef struct
{
  FdInboxPage *page;
  const char  *word;
} WordSearch;

/* The list shows search results: every loaded row matches the word in SQLite, and
 * snippets mark it. */
static gboolean
search_results_shown (WordSearch *data)
{
  FdConversationList *list = _fd_inbox_page_get_list (data->page);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (list));
  guint marked = 0;

  /* The typed search is in effect (after its short pause) and its first page read. */
  if (g_strcmp0 (adw_window_title_get_title (ADW_WINDOW_TITLE (page_child (data->page, "list_title"))), "Search") != 0 ||
      fd_conversation_list_get_loading (list) || n == 0 || id_at (data->page, 0) == 0)
    return FALSE;

  for (guint i = 0; i < MIN (n, 10); i++)
    {
      g_autoptr(FdConversationSummary) summary = summary_at (data->page, i);
      g_autofree char *pattern = g_strdup_printf ("%%%s%%", data->word);
      sqlite3 *db;
      sqlite3_stmt *stmt = NULL;
      gint64 matches = 0;

      if (!fd_conversation_summary_get_loaded (summary))
        return FALSE;

      db = db_open ();
      g_assert_cmpint (sqlite3_prepare_v2 (db,
                                           "SELECT (SELECT count(*) FROM messages WHERE conversation_id = ?1 AND body LIKE ?2)"
                                           "     + (SELECT count(*) FROM conversations WHERE id = ?1 AND subject LIKE ?2)",
                                           -1, &stmt, NULL), ==, SQLITE_OK);
      sqlite3_bind_int64 (stmt, 1, fd_conversation_summary_get_id (summary));
      sqlite3_bind_text (stmt, 2, pattern, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        matches = sqlite3_column_int64 (stmt, 0);
      sqlite3_finalize (stmt);
      sqlite3_close (db);

      g_assert_cmpint (matches, >, 0);

      if (strstr (fd_conversation_summary_get_snippet (summary), FD_SEARCH_MARK_START) != NULL)
        marked++;
    }

  return marked > 0;
}

/* The typed search is in effect and its first page read. */
static gboolean
searching_for (WordSearch *data)
{
  AdwWindowTitle *title = ADW_WINDOW_TITLE (page_child (data->page, "list_title"));

  return g_strcmp0 (adw_window_title_get_title (title), "Search") == 0 &&
         g_strcmp0 (adw_window_title_get_subtitle (title), data->word) == 0 &&
         list_ready (data->page);
}

static gboolean
row_highlighted (FdInboxPage *page)
{
  FdConversationRow *row = first_loaded_row (page);
  GtkLabel *snippet;

  if (row == NULL)
    return FALSE;

  snippet = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (row), FD_TYPE_CONVERSATION_ROW, "snippet_label"));

  return strstr (gtk_label_get_label (snippet), "<b>") != NULL;
}

static gboolean
rows_drawn (FdInboxPage *page)
{
  FdConversationRow *row = first_loaded_row (page);

  return row != NULL && gtk_widget_get_height (GTK_WIDGET (row)) > 0;
}

static gboolean
rows_of_one_height (FdInboxPage *page)
{
  GtkWidget *list_view = GTK_WIDGET (_fd_inbox_page_get_list_view (page));
  int height = -1;
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (list_view);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = gtk_widget_get_first_child (child);

      if (!FD_IS_CONVERSATION_ROW (row) || !gtk_widget_get_mapped (row))
        continue;

      if (height < 0)
        height = gtk_widget_get_height (row);
      else if (gtk_widget_get_height (row) != height)
        return FALSE;
      n++;
    }

  return n > 1;
}

/* The session the issue asks for, key by key: j, Enter, a macro reply, e, Undo, s,
 * then / and a search. The keys go through the actions they are bound to (the table
 * test checks the binding, the real-keys test the X server's path). */
static void
test_triage_session (void)
{
  FdWindow *window = create_window ();
  FdInboxPage *page = show_view (window, "all-open");
  FdConversationView *view = fd_inbox_page_get_conversation_view (page);
  g_autofree char *reply = NULL;
  g_autofree char *word = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) tomorrow_day = g_date_time_add_days (now, 1);
  g_autoptr(GDateTime) tomorrow = NULL;
  GtkEditable *entry = _fd_inbox_page_get_search_entry (page);
  gint64 n_open;
  gint64 id0;
  gint64 id1;
  gint64 n_messages;
  guint n_rows;
  gint64 first_result;
  PageId page_id;
  IdStatus id_status;
  WindowCount window_count;
  Snooze snooze;
  ThreadRows rows;
  StoredReply stored;
  WordSearch search;

  wait_until (counted, window);
  n_open = db_int ("SELECT count(*) FROM conversations WHERE status = 'open'", 0);
  g_assert_cmpint (n_open, >, 2);
  window_count = (WindowCount) { window, n_open };
  wait_until (all_open_count_is, &window_count);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (_fd_inbox_page_get_list (page))), ==, n_open);

  /* Rows are drawn from the summaries, all of one height whatever they hold. */
  wait_until (rows_drawn, page);
  g_assert_true (rows_of_one_height (page));

  /* j selects the first conversation and puts the focus on its row. */
  id0 = id_at (page, 0);
  id1 = id_at (page, 1);
  g_assert_cmpint (id0, >, 0);
  g_assert_cmpint (id1, >, 0);
  press (page, "inbox.next");
  g_assert_cmpuint (selected_position (page), ==, 0);
  g_assert_cmpint (selected_id (page), ==, id0);
  g_assert_true (focus_in_list (page));

  /* Enter opens it. */
  press (page, "inbox.open");
  page_id = (PageId) { page, id0 };
  wait_until (opened, &page_id);
  g_assert_cmpint (fd_conversation_view_get_conversation_id (view), ==, id0);

  /* A reply with a macro: previewed, inserted, sent; it shows in the thread and is
   * stored as the agent's reply. */
  n_messages = db_int ("SELECT count(*) FROM messages WHERE conversation_id = ?1", id0);
  n_rows = thread_rows (view);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "conversation.insert-macro", "s", "greeting"));
  g_signal_emit_by_name (gtk_widget_get_template_child (GTK_WIDGET (view_composer (view)), FD_TYPE_COMPOSER, "insert_button"),
                         "clicked");
  reply = composer_text (view);
  g_assert_cmpstr (reply, !=, "");
  g_assert_null (strstr (reply, "{{"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "conversation.send", NULL));
  stored = (StoredReply) { id0, n_messages, reply };
  wait_until (reply_stored, &stored);
  rows = (ThreadRows) { view, n_rows + 1 };
  wait_until (thread_has_rows, &rows);

  /* e resolves it: All open counts one less, the cursor moves to the next one and the
   * focus stays in the list. */
  press (page, "inbox.next");
  press (page, "inbox.previous");
  g_assert_cmpint (selected_id (page), ==, id0);
  g_assert_true (focus_in_list (page));
  /* The reply moved id0 to its next SLA target, so its neighbour is read again here:
   * where it sorts depends on the time of day the test runs. */
  if (selected_position (page) + 1 < g_list_model_get_n_items (G_LIST_MODEL (_fd_inbox_page_get_list (page))))
    id1 = id_at (page, selected_position (page) + 1);
  else
    id1 = id_at (page, selected_position (page) - 1);   /* the last row: the one before */
  g_assert_cmpint (id1, >, 0);
  press (page, "inbox.resolve");
  id_status = (IdStatus) { id0, "resolved" };
  wait_until (has_status, &id_status);
  wait_until (not_listed, &page_id);
  window_count.count = n_open - 1;
  wait_until (all_open_count_is, &window_count);
  page_id.id = id1;
  wait_until (opened, &page_id);
  g_assert_cmpint (selected_id (page), ==, id1);
  g_assert_true (focus_in_list (page));

  /* Undo, as the toast's button does it: from the window. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "inbox.undo", NULL));
  id_status.status = "open";
  wait_until (has_status, &id_status);
  window_count.count = n_open;
  wait_until (all_open_count_is, &window_count);
  page_id.id = id0;
  wait_until (is_listed, &page_id);

  /* s, then Tomorrow: snoozed until 9:00 tomorrow, and listed under Snoozed. Reopened by
   * the undo, the conversation is sorted by its SLA target again, which depends on the
   * time of day the test runs: it need not be where it was. */
  move_to (page, id0);
  press (page, "inbox.snooze");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (_fd_inbox_page_get_snooze_popover (page))));
  g_signal_emit_by_name (page_child (page, "tomorrow_button"), "clicked");
  tomorrow = g_date_time_new_local (g_date_time_get_year (tomorrow_day),
                                    g_date_time_get_month (tomorrow_day),
                                    g_date_time_get_day_of_month (tomorrow_day),
                                    9, 0, 0);
  snooze = (Snooze) { id0, g_date_time_to_unix (tomorrow) * 1000 };
  wait_until (snoozed_until, &snooze);
  wait_until (snooze_popover_hidden, page);
  window_count.count = n_open - 1;
  wait_until (all_open_count_is, &window_count);
  show_view (window, "snoozed");
  wait_until (is_listed, &page_id);

  /* / and a word from the demo: matches, with the word marked in the snippets. */
  press (page, "inbox.search");
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (entry)) ||
                 gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (window)), GTK_WIDGET (entry)));
  word = word_from_conversation (id1);
  gtk_editable_set_text (entry, word);
  search = (WordSearch) { page, word };
  wait_until (search_results_shown, &search);
  wait_until (row_highlighted, page);
  first_result = id_at (page, 0);

  /* A malformed query says what is wrong under the entry and keeps the results. */
  gtk_editable_set_text (entry, "\"refund");
  wait_until (search_error_shown, page);
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (entry), "error"));
  spin (200);
  g_assert_cmpint (id_at (page, 0), ==, first_result);
  gtk_editable_set_text (entry, "colour:red");
  wait_until (search_error_names_field, page);
  g_assert_cmpint (id_at (page, 0), ==, first_result);

  /* Nothing found: the empty state says so. */
  gtk_editable_set_text (entry, "zzqxjvw");
  wait_until (list_is_empty_state, page);
  g_assert_false (search_error_shown (page));
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (page_child (page, "empty_page"))), ==, "No results");

  /* Esc leaves the search, back to the view. */
  press (page, "inbox.back");
  g_assert_false (gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (page_child (page, "search_bar"))));
  wait_until (is_listed, &page_id);
  g_assert_cmpint (fd_inbox_page_get_view (page), ==, FD_INBOX_VIEW_SNOOZED);

  /* Back to open for the other tests. */
  id_status.status = "open";
  fd_inbox_page_open_conversation (page, id0);
  g_assert_cmpint (selected_id (page), ==, id0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "inbox.set-status", "s", "open"));
  wait_until (has_status, &id_status);

  close_and_finalize (window);
}

typedef struct
{
  FdInboxPage *page;
  guint        position;
} PagePosition;

static gboolean
selected_at (PagePosition *data)
{
  return selected_position (data->page) == data->position && focus_in_list (data->page);
}

typedef struct
{
  GtkEditable *editable;
  const char  *text;
} EditableText;

static gboolean
editable_has_text (EditableText *data)
{
  return g_strcmp0 (gtk_editable_get_text (data->editable), data->text) == 0;
}

typedef struct
{
  FdConversationView *view;
  const char         *text;
} ComposerText;

static gboolean
composer_has_text (ComposerText *data)
{
  g_autofree char *text = composer_text (data->view);

  return g_strcmp0 (text, data->text) == 0;
}

static gboolean
search_closed (FdInboxPage *page)
{
  return !gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (page_child (page, "search_bar")));
}

/* j, k and e as the X server delivers them; and neither e nor j does anything but type
 * while the search entry or the composer has the focus. */
static void
test_real_keys (void)
{
  FdWindow *window = create_window ();
  FdInboxPage *page = show_view (window, "all-open");
  FdConversationView *view = fd_inbox_page_get_conversation_view (page);
  GtkEditable *entry = _fd_inbox_page_get_search_entry (page);
  const char *resolved_sql = "SELECT count(*) FROM conversations WHERE status = 'resolved'";
  gint64 n_resolved;
  gint64 id0;
  gint64 id2;
  PagePosition at;
  IdStatus id_status;
  PageId page_id;
  EditableText typed;
  ComposerText composed;

  if (!real_keys_available (GTK_WIDGET (window)))
    {
      g_test_skip ("No X server with the XTEST extension to send real key events");
      close_and_finalize (window);
      return;
    }

  wait_until (grab_x_keyboard, window);
  wait_until (window_active, window);

  press (page, "inbox.next");
  at = (PagePosition) { page, 0 };
  wait_until (selected_at, &at);
  id0 = id_at (page, 0);
  id2 = id_at (page, 2);

  send_key (GTK_WIDGET (window), GDK_KEY_j);
  at.position = 1;
  wait_until (selected_at, &at);
  send_key (GTK_WIDGET (window), GDK_KEY_j);
  at.position = 2;
  wait_until (selected_at, &at);
  send_key (GTK_WIDGET (window), GDK_KEY_k);
  at.position = 1;
  wait_until (selected_at, &at);
  send_key (GTK_WIDGET (window), GDK_KEY_k);
  at.position = 0;
  wait_until (selected_at, &at);
  g_assert_cmpint (selected_id (page), ==, id0);

  n_resolved = db_int (resolved_sql, 0);
  send_key (GTK_WIDGET (window), GDK_KEY_e);
  id_status = (IdStatus) { id0, "resolved" };
  wait_until (has_status, &id_status);
  g_assert_cmpint (db_int (resolved_sql, 0), ==, n_resolved + 1);
  page_id = (PageId) { page, id0 };
  wait_until (not_listed, &page_id);
  at.position = 0;
  wait_until (selected_at, &at);
  g_assert_cmpint (selected_id (page), !=, id0);

  /* Back as it was, through the toast's action. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "inbox.undo", NULL));
  id_status.status = "open";
  wait_until (has_status, &id_status);
  wait_until (is_listed, &page_id);
  n_resolved = db_int (resolved_sql, 0);

  /* In the search entry the keys are text. The entry must be on screen first: keys
   * are only delivered to a mapped widget. */
  press (page, "inbox.search");
  wait_until (gtk_widget_get_mapped, entry);
  spin (300);
  send_key (GTK_WIDGET (window), GDK_KEY_e);
  typed = (EditableText) { entry, "e" };
  wait_until (editable_has_text, &typed);
  send_key (GTK_WIDGET (window), GDK_KEY_j);
  typed.text = "ej";
  wait_until (editable_has_text, &typed);
  spin (250);
  g_assert_cmpint (db_int (resolved_sql, 0), ==, n_resolved);
  send_key (GTK_WIDGET (window), GDK_KEY_Escape);
  wait_until (search_closed, page);
  wait_until (list_ready, page);

  /* In the composer too. */
  page_id.id = id_at (page, 0);
  fd_inbox_page_open_conversation (page, page_id.id);
  wait_until (opened, &page_id);
  wait_until (gtk_widget_get_mapped, _fd_conversation_view_get_composer_text (view));
  g_assert_true (gtk_widget_grab_focus (GTK_WIDGET (_fd_conversation_view_get_composer_text (view))));
  spin (300);
  send_key (GTK_WIDGET (window), GDK_KEY_e);
  composed = (ComposerText) { view, "e" };
  wait_until (composer_has_text, &composed);
  send_key (GTK_WIDGET (window), GDK_KEY_j);
  composed.text = "ej";
  wait_until (composer_has_text, &composed);
  spin (250);
  g_assert_cmpint (db_int (resolved_sql, 0), ==, n_resolved);
  g_assert_cmpint (fd_conversation_view_get_conversation_id (view), ==, page_id.id);
  g_assert_cmpint (id_at (page, 2), ==, id2);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (_fd_conversation_view_get_composer_text (view)), "", -1);

  ungrab_x_keyboard (GTK_WINDOW (window));
  close_and_finalize (window);
}

static FdPaletteItem *
find_palette_item (GListModel *items,
                   const char *action,
                   GVariant   *target)
{
  g_autoptr(GVariant) sunk = target != NULL ? g_variant_ref_sink (target) : NULL;

  for (guint i = 0; i < g_list_model_get_n_items (items); i++)
    {
      g_autoptr(FdPaletteItem) item = g_list_model_get_item (items, i);
      GVariant *item_target = fd_palette_item_get_target (item);

      if (g_strcmp0 (fd_palette_item_get_action_name (item), action) == 0 &&
          (sunk == NULL || (item_target != NULL && g_variant_equal (item_target, sunk))))
        return g_steal_pointer (&item);
    }

  return NULL;
}

static gboolean
palette_shown (gpointer data)
{
  return find_toplevel (FD_TYPE_COMMAND_PALETTE) != NULL;
}

/* Ctrl+K lists the Inbox's actions with their keys, the views, the macros and the
 * conversation opened last. */
static void
test_palette (void)
{
  FdWindow *window = create_window ();
  FdInboxPage *page = show_view (window, "all-open");
  FdCommandPalette *palette;
  g_autoptr(FdPaletteItem) resolve = NULL;
  g_autoptr(FdPaletteItem) view_item = NULL;
  g_autoptr(FdPaletteItem) macro = NULL;
  g_autoptr(FdPaletteItem) recent = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *saved_view = NULL;
  g_autofree char *saved_sort = NULL;
  GListModel *results;
  PageId page_id = { page, id_at (page, 1) };

  press (page, "inbox.next");
  press (page, "inbox.next");
  press (page, "inbox.open");
  wait_until (opened, &page_id);
  g_assert_cmpuint (g_list_model_get_n_items (fd_inbox_page_get_recent (page)), >=, 1);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.command-palette", NULL));
  wait_until (palette_shown, NULL);
  palette = FD_COMMAND_PALETTE (find_toplevel (FD_TYPE_COMMAND_PALETTE));
  results = _fd_command_palette_get_results (palette);

  resolve = find_palette_item (results, "inbox.resolve", NULL);
  g_assert_nonnull (resolve);
  g_assert_cmpstr (fd_palette_item_get_accel (resolve), ==, "e");
  g_assert_cmpstr (fd_palette_item_get_title (resolve), ==, "Resolve");

  view_item = find_palette_item (results, "win.show-inbox-view", g_variant_new_string ("snoozed"));
  g_assert_nonnull (view_item);
  g_assert_cmpint (fd_palette_item_get_kind (view_item), ==, FD_PALETTE_VIEW);

  macro = find_palette_item (results, "conversation.insert-macro", g_variant_new_string ("greeting"));
  g_assert_nonnull (macro);

  recent = find_palette_item (results, "win.open-conversation", g_variant_new_int64 (page_id.id));
  g_assert_nonnull (recent);
  g_assert_cmpint (fd_palette_item_get_kind (recent), ==, FD_PALETTE_CONVERSATION);

  close_toplevel (GTK_WINDOW (palette));

  /* The palette's view item does what the sidebar does, and the view is remembered. */
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (fd_inbox_page_get_conversation_view (page)),
                                                     fd_palette_item_get_action_name (view_item),
                                                     fd_palette_item_get_target (view_item)));
  g_assert_cmpint (fd_inbox_page_get_view (page), ==, FD_INBOX_VIEW_SNOOZED);
  saved_view = g_settings_get_string (settings, "inbox-view");
  g_assert_cmpstr (saved_view, ==, "snoozed");

  /* So is the sort, which the list follows. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "inbox.sort", "s", "newest"));
  g_assert_cmpint (fd_conversation_list_get_sort (_fd_inbox_page_get_list (page)), ==, FD_INBOX_SORT_NEWEST);
  saved_sort = g_settings_get_string (settings, "inbox-sort");
  g_assert_cmpstr (saved_sort, ==, "newest");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "inbox.sort", "s", "sla"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-inbox-view", "s", "all-open"));

  close_and_finalize (window);
}

static gboolean
one_saved_search (FdWindow *window)
{
  GListModel *saved = _fd_window_get_saved_searches (window);

  return saved != NULL && g_list_model_get_n_items (saved) == 1 &&
         db_int ("SELECT count(*) FROM saved_searches", 0) == 1;
}

static gboolean
no_saved_search (FdWindow *window)
{
  GListModel *saved = _fd_window_get_saved_searches (window);

  return saved != NULL && g_list_model_get_n_items (saved) == 0 &&
         db_int ("SELECT count(*) FROM saved_searches", 0) == 0;
}

static gboolean
saved_counted (FdWindow *window)
{
  FdInboxPage *page = _fd_window_get_inbox_page (window);

  return fd_inbox_page_get_saved_search (page) != NULL && list_ready (page);
}

/* A search saved from the page shows in the sidebar and opens like a view; deleting it
 * asks first. */
static void
saved_created_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  gint64 *id = user_data;
  g_autoptr(GError) error = NULL;

  *id = fd_saved_search_create_finish (FD_STORE (object), result, &error);
  g_assert_no_error (error);
}

static gboolean
gint64_set (gpointer data)
{
  return *(gint64 *) data != 0;
}

static gboolean
one_saved_search_in_store (gpointer data)
{
  return db_int ("SELECT count(*) FROM saved_searches", 0) == 1;
}

static gboolean
second_saved_capped (FdWindow *window)
{
  /* Tests run in the C locale: no thousands separator. */
  return g_strcmp0 (_fd_window_get_saved_count_text (window, 1), "1000+") == 0;
}

static void
test_saved_search (void)
{
  FdWindow *window = create_window ();
  FdInboxPage *page = show_view (window, "all-open");
  GtkEditable *entry = _fd_inbox_page_get_search_entry (page);
  g_autoptr(FdSavedSearch) saved = NULL;
  g_autofree char *query = NULL;
  AdwMessageDialog *dialog;
  WordSearch search;

  wait_until (no_saved_search, window);

  press (page, "inbox.search");
  gtk_editable_set_text (entry, "status:open");
  search = (WordSearch) { page, "status:open" };
  wait_until (searching_for, &search);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "inbox.save-search", NULL));
  wait_until (message_dialog_shown, NULL);
  dialog = ADW_MESSAGE_DIALOG (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  adw_message_dialog_response (dialog, "save");
  close_toplevel (GTK_WINDOW (dialog));
  wait_until (one_saved_search, window);

  query = db_text ("SELECT query FROM saved_searches", 0);
  g_assert_cmpstr (query, ==, "status:open");
  saved = g_list_model_get_item (_fd_window_get_saved_searches (window), 0);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-saved-search", "x",
                                             fd_saved_search_get_id (saved)));
  wait_until (saved_counted, window);
  g_assert_cmpint (g_list_model_get_n_items (G_LIST_MODEL (_fd_inbox_page_get_list (page))), ==,
                   db_int ("SELECT count(*) FROM conversations WHERE status = 'open'", 0));

  /* A search with more matches than saved searches are counted to says so. */
  {
    gint64 resolved_id = 0;

    g_assert_cmpint (db_int ("SELECT count(*) FROM conversations WHERE status = 'resolved'", 0), >, 1000);
    fd_saved_search_create_async (fd_application_get_store (app), "Resolved", "status:resolved",
                                  NULL, saved_created_cb, &resolved_id);
    wait_until (gint64_set, &resolved_id);
    _fd_window_reload_counts (window);
    wait_until (second_saved_capped, window);
    fd_saved_search_delete_async (fd_application_get_store (app), resolved_id, NULL, NULL, NULL);
    wait_until (one_saved_search_in_store, NULL);
    _fd_window_reload_counts (window);
    wait_until (one_saved_search, window);
  }

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.delete-saved-search", "x",
                                             fd_saved_search_get_id (saved)));
  wait_until (message_dialog_shown, NULL);
  dialog = ADW_MESSAGE_DIALOG (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "delete"), ==, ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_response (dialog, "delete");
  close_toplevel (GTK_WINDOW (dialog));
  wait_until (no_saved_search, window);
  g_assert_null (fd_inbox_page_get_saved_search (page));

  close_and_finalize (window);
}

/* }}} */
/* {{{ Set-up */

static void
make_demo (void)
{
  const char *cli = g_getenv ("FD_CLI");
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  const char *argv[] = { cli, "--profile", profile_dir, "demo", "--scale", "small", NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("The demo failed: %s", err);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/inbox-page/shortcut-table", test_shortcut_table);

  if (g_getenv ("FD_CLI") == NULL)
    {
      g_test_message ("FD_CLI is not set; run through meson test for the demo store");
      return g_test_run ();
    }

  profile_dir = g_dir_make_tmp ("frontdesk-test-inbox-page-XXXXXX", &error);
  g_assert_no_error (error);
  make_demo ();
  db_path = fd_paths_store_file (profile_dir);

  app = fd_application_new ();
  _fd_application_set_profile_dir (app, profile_dir);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/inbox-page/triage-session", test_triage_session);
  g_test_add_func ("/inbox-page/real-keys", test_real_keys);
  g_test_add_func ("/inbox-page/palette", test_palette);
  g_test_add_func ("/inbox-page/saved-search", test_saved_search);

  ret = g_test_run ();

  if (fd_application_get_sync_engine (app) != NULL)
    fd_sync_engine_stop (fd_application_get_sync_engine (app));
  fd_store_close (fd_application_get_store (app));
  g_clear_object (&app);

  remove_tree (profile_dir);
  g_clear_pointer (&profile_dir, g_free);
  g_clear_pointer (&db_path, g_free);

  return ret;
}

/* }}} */
