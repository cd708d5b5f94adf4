/* test-conversation-view.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The conversation view in a real window on a small demo store: the thread, macros,
 * sending through the outbox, drafts that outlive the store connection, switching
 * conversations, send-and-resolve, Retry, and a conversation that does not exist.
 */

#define G_LOG_DOMAIN "test-conversation-view"

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "fd-composer.h"
#include "fd-context-panel.h"
#include "fd-conversation-view.h"
#include "fd-macro.h"
#include "fd-paths.h"
#include "fd-resources.h"
#include "fd-store.h"

#define WAIT_TIMEOUT_USEC (20 * G_USEC_PER_SEC)

#include "../fd-test-wait.h"

static char *profile_dir;
static char *db_path;
static FdStore *store;

/* Conversations picked from the demo: one with an Enterprise organisation, a note and
 * attachments; others for one test each; one with many messages; one with a failed
 * reply. */
static gint64 rich_id;
static gint64 plain_ids[6];
static gint64 long_id;
static gint64 failed_id;
static gint64 failed_message_id;
static gint64 openable_attachment_id;

#define N_LONG_EXTRA 450

/* {{{ Helpers */

static sqlite3 *
db_open (gboolean writable)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (db_path, &db,
                            writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY,
                            NULL);

  g_assert_cmpint (rc, ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);

  return db;
}

static void
db_exec (sqlite3    *db,
         const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static gint64
db_int (const char *sql,
        gint64      arg)
{
  sqlite3 *db = db_open (FALSE);
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
  sqlite3 *db = db_open (FALSE);
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_bind_parameter_count (stmt) > 0)
    sqlite3_bind_int64 (stmt, 1, arg);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return value;
}

static void
collect_labels (GtkWidget *widget,
                GString   *out)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget))
    {
      g_string_append (out, gtk_label_get_text (GTK_LABEL (widget)));
      g_string_append_c (out, '\n');
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, out);
}

static char *
widget_text (GtkWidget *widget)
{
  GString *out = g_string_new (NULL);

  collect_labels (widget, out);
  return g_string_free (out, FALSE);
}

static GtkWidget *
find_by_class (GtkWidget  *widget,
               const char *css_class)
{
  if (gtk_widget_has_css_class (widget, css_class))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_by_class (child, css_class);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static void
collect_buttons (GtkWidget *widget,
                 GPtrArray *buttons)
{
  if (GTK_IS_BUTTON (widget))
    g_ptr_array_add (buttons, widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_buttons (child, buttons);
}

static GtkWidget *
find_button_with_label (GtkWidget  *widget,
                        const char *label)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  collect_buttons (widget, buttons);
  for (guint i = 0; i < buttons->len; i++)
    {
      const char *text = gtk_button_get_label (g_ptr_array_index (buttons, i));

      if (g_strcmp0 (text, label) == 0)
        return g_ptr_array_index (buttons, i);
    }

  return NULL;
}

static guint
thread_n_rows (FdConversationView *view)
{
  GtkListBox *thread = _fd_conversation_view_get_thread (view);
  guint n = 0;

  while (gtk_list_box_get_row_at_index (thread, (int) n) != NULL)
    n++;

  return n;
}

static GtkWidget *
view_child (FdConversationView *view,
            const char         *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (view), FD_TYPE_CONVERSATION_VIEW, name));
}

static FdComposer *
view_composer (FdConversationView *view)
{
  return FD_COMPOSER (view_child (view, "composer"));
}

static GtkWidget *
composer_child (FdConversationView *view,
                const char         *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (view_composer (view)), FD_TYPE_COMPOSER, name));
}

/* The Send button's own button (the split button also holds its menu arrow), which
 * follows the conversation.send action's enabled state. */
static gboolean
send_enabled (FdConversationView *view)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  collect_buttons (composer_child (view, "send_button"), buttons);
  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = g_ptr_array_index (buttons, i);

      if (g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), "conversation.send") == 0)
        return gtk_widget_get_sensitive (button);
    }

  g_assert_not_reached ();
}

static char *
composer_text (FdConversationView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (_fd_conversation_view_get_composer_text (view));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
composer_type (FdConversationView *view,
               const char         *text)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (_fd_conversation_view_get_composer_text (view));

  gtk_text_buffer_insert_at_cursor (buffer, text, -1);
}

static gboolean
composer_is_empty (FdConversationView *view)
{
  g_autofree char *text = composer_text (view);

  return *text == '\0';
}

typedef struct
{
  FdConversationView *view;
  const char         *text;
  gboolean            is_note;
} ComposerExpect;

static gboolean
composer_holds (ComposerExpect *expect)
{
  g_autofree char *text = composer_text (expect->view);

  return g_strcmp0 (text, expect->text) == 0 &&
         fd_composer_get_is_note (view_composer (expect->view)) == expect->is_note;
}

static gboolean
detail_loaded (FdConversationView *view)
{
  const FdConversationDetail *detail = fd_conversation_view_get_detail (view);

  return detail != NULL && detail->id == fd_conversation_view_get_conversation_id (view);
}

static gboolean
error_shown (FdConversationView *view)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (view_child (view, "stack"))), "error") == 0;
}

static GtkWindow *
window_new (FdConversationView **out_view)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  GtkWidget *view = fd_conversation_view_new ();

  gtk_window_set_default_size (window, 1100, 800);
  gtk_window_set_child (window, view);
  fd_conversation_view_set_store (FD_CONVERSATION_VIEW (view), store);
  gtk_window_present (window);

  *out_view = FD_CONVERSATION_VIEW (view);
  return window;
}

static void
load_and_wait (FdConversationView *view,
               gint64              conversation_id)
{
  fd_conversation_view_load (view, conversation_id);
  g_assert_cmpint (fd_conversation_view_get_conversation_id (view), ==, conversation_id);
  wait_until (detail_loaded, view);
}

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* Closes the window; jobs in flight hold the view until they return, then both must
 * be finalized. */
static void
window_close_and_finalize (GtkWindow          *window,
                           FdConversationView *view)
{
  gpointer weak_view = view;

  g_object_add_weak_pointer (G_OBJECT (view), &weak_view);
  g_object_ref (window);
  gtk_window_destroy (window);
  g_assert_finalize_object (window);
  wait_until (pointer_cleared, &weak_view);
}

typedef struct
{
  gboolean  done;
  FdDraft  *draft;
  GError   *error;
} DraftRead;

static void
draft_read_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  DraftRead *read = user_data;

  read->draft = fd_draft_load_finish (FD_STORE (object), result, &read->error);
  read->done = TRUE;
}

static gboolean
draft_read_done (DraftRead *read)
{
  return read->done;
}

/* Reads a draft through a new connection to the file, as after a crash and restart. */
static FdDraft *
read_draft_fresh (gint64 conversation_id)
{
  g_autoptr(FdStore) fresh = fd_store_new (db_path);
  g_autoptr(GError) error = NULL;
  DraftRead read = { 0 };

  g_assert_true (fd_store_open_sync (fresh, NULL, &error));
  g_assert_no_error (error);

  fd_draft_load_async (fresh, conversation_id, NULL, draft_read_cb, &read);
  wait_until (draft_read_done, &read);
  g_assert_no_error (read.error);

  fd_store_close (fresh);
  return read.draft;
}

/* }}} */
/* {{{ Tests */

static void
test_view_empty_state (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);

  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (view_child (view, "stack"))), ==, "empty");
  g_assert_null (fd_conversation_view_get_detail (view));
  g_assert_false (send_enabled (view));

  /* The starter set is offered until the page gives other macros. */
  g_assert_nonnull (fd_conversation_view_get_macros (view));
  g_assert_cmpuint (g_list_model_get_n_items (fd_conversation_view_get_macros (view)), >, 0);

  window_close_and_finalize (window, view);
}

static void
store_id (gint64 *out,
          gint64  id)
{
  *out = id;
}

static void
test_view_thread (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  GtkListBox *thread;
  sqlite3 *db;
  sqlite3_stmt *stmt = NULL;
  guint index = 0;
  guint n_notes = 0;
  guint n_attachments = 0;
  gboolean saw_openable = FALSE;
  const char *terms[] = { NULL, NULL };
  g_autofree char *term = NULL;

  load_and_wait (view, rich_id);
  thread = _fd_conversation_view_get_thread (view);

  /* Every message of the store, in order, with its author, kind and body. */
  db = db_open (FALSE);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT id, author_name, author_kind, is_note, body FROM messages "
                                       "WHERE conversation_id = ?1 ORDER BY created_at, id",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, rich_id);

  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (thread, (int) index);
      const char *author = (const char *) sqlite3_column_text (stmt, 1);
      const char *kind = (const char *) sqlite3_column_text (stmt, 2);
      gboolean is_note = sqlite3_column_int (stmt, 3) != 0;
      const char *body = (const char *) sqlite3_column_text (stmt, 4);
      g_autofree char *text = NULL;
      GtkWidget *body_label;

      g_assert_nonnull (row);
      text = widget_text (GTK_WIDGET (row));

      if (*author != '\0')
        g_assert_nonnull (strstr (text, author));
      if (g_str_equal (kind, "contact"))
        g_assert_nonnull (strstr (text, "Customer"));
      else if (g_str_equal (kind, "agent"))
        g_assert_nonnull (strstr (text, "Agent"));

      body_label = find_by_class (GTK_WIDGET (row), "fd-message-body");
      g_assert_nonnull (body_label);
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (body_label)), ==, body);
      g_assert_false (gtk_label_get_use_markup (GTK_LABEL (body_label)));

      /* A note: the style class, and the words, not colour alone. */
      g_assert_cmpint (gtk_widget_has_css_class (GTK_WIDGET (row), "fd-note"), ==, is_note);
      g_assert_cmpint (strstr (text, "Internal note") != NULL, ==, is_note);
      n_notes += is_note;

      index++;
    }
  sqlite3_finalize (stmt);

  g_assert_cmpuint (index, >, 0);
  g_assert_cmpuint (thread_n_rows (view), ==, index);
  g_assert_cmpuint (n_notes, >, 0);
  g_assert_false (gtk_widget_get_visible (view_child (view, "earlier_button")));

  /* Attachments: name and size in words on the row of their message; Open only where
   * there is an address. */
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT a.id, a.name, a.size, a.url, "
                                       "  (SELECT count(*) FROM messages m2 WHERE m2.conversation_id = m.conversation_id "
                                       "   AND (m2.created_at < m.created_at OR (m2.created_at = m.created_at AND m2.id < m.id))) "
                                       "FROM attachments a JOIN messages m ON m.id = a.message_id "
                                       "WHERE m.conversation_id = ?1 ORDER BY a.id",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, rich_id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 attachment_id = sqlite3_column_int64 (stmt, 0);
      const char *name = (const char *) sqlite3_column_text (stmt, 1);
      g_autofree char *size = g_format_size ((guint64) sqlite3_column_int64 (stmt, 2));
      gboolean has_url = sqlite3_column_type (stmt, 3) != SQLITE_NULL;
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (thread, sqlite3_column_int (stmt, 4));
      g_autofree char *text = widget_text (GTK_WIDGET (row));
      g_autoptr(GPtrArray) buttons = g_ptr_array_new ();
      guint n_open = 0;
      guint n_open_sensitive = 0;

      g_assert_nonnull (strstr (text, name));
      g_assert_nonnull (strstr (text, size));

      collect_buttons (GTK_WIDGET (row), buttons);
      for (guint i = 0; i < buttons->len; i++)
        {
          GtkWidget *button = g_ptr_array_index (buttons, i);

          if (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (button)), "_Open") != 0)
            continue;
          n_open++;
          if (gtk_widget_get_sensitive (button))
            {
              GVariant *target = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (button));

              n_open_sensitive++;
              g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==,
                               "conversation.open-attachment");
              g_assert_cmpint (g_variant_get_int64 (target), ==, openable_attachment_id);
            }
          else
            {
              g_assert_nonnull (gtk_widget_get_tooltip_text (button));
            }
        }
      g_assert_cmpuint (n_open, >=, 1);
      if (has_url)
        {
          g_assert_cmpint (attachment_id, ==, openable_attachment_id);
          g_assert_cmpuint (n_open_sensitive, ==, 1);
          saw_openable = TRUE;
        }
      n_attachments++;
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  g_assert_cmpuint (n_attachments, >, 0);
  g_assert_true (saw_openable);

  /* The context panel shows the organisation; the header the subject. */
  {
    g_autofree char *org = db_text ("SELECT o.name FROM conversations c JOIN organisations o "
                                    "ON o.id = c.organisation_id WHERE c.id = ?1", rich_id);
    g_autofree char *subject = db_text ("SELECT subject FROM conversations WHERE id = ?1", rich_id);
    g_autofree char *panel = widget_text (view_child (view, "context_panel"));

    g_assert_nonnull (strstr (panel, org));
    g_assert_nonnull (strstr (panel, "Enterprise"));
    g_assert_nonnull (strstr (panel, "No linked bugs"));
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (view_child (view, "subject_label"))), ==, subject);
  }

  /* A recent conversation of the organisation asks the page to open it. */
  {
    const FdConversationDetail *detail = fd_conversation_view_get_detail (view);
    GtkWidget *panel = view_child (view, "context_panel");
    GtkListBox *recent = GTK_LIST_BOX (gtk_widget_get_template_child (panel, FD_TYPE_CONTEXT_PANEL, "recent_list"));
    const FdRecentConversation *first;
    gint64 opened = 0;
    gulong handler;

    g_assert_cmpuint (detail->recent->len, >, 0);
    first = g_ptr_array_index (detail->recent, 0);
    g_assert_cmpint (db_int ("SELECT organisation_id FROM conversations WHERE id = ?1", first->id), ==,
                     detail->organisation_id);

    handler = g_signal_connect_swapped (view, "open-conversation", G_CALLBACK (store_id), &opened);
    g_signal_emit_by_name (recent, "row-activated", gtk_list_box_get_row_at_index (recent, 0));
    g_assert_cmpint (opened, ==, first->id);
    g_signal_handler_disconnect (view, handler);
  }

  /* Search terms are bolded, the rest of the text unchanged. */
  {
    GtkListBoxRow *row = gtk_list_box_get_row_at_index (thread, 0);
    GtkWidget *body_label = find_by_class (GTK_WIDGET (row), "fd-message-body");
    g_autofree char *body = g_strdup (gtk_label_get_text (GTK_LABEL (body_label)));
    g_auto(GStrv) words = g_strsplit (body, " ", -1);

    term = g_strdup (words[0]);
    terms[0] = term;
    fd_conversation_view_set_highlight (view, terms);
    g_assert_true (gtk_label_get_use_markup (GTK_LABEL (body_label)));
    g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (body_label)), "<b>"));
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (body_label)), ==, body);

    fd_conversation_view_set_highlight (view, NULL);
    g_assert_false (gtk_label_get_use_markup (GTK_LABEL (body_label)));
  }

  window_close_and_finalize (window, view);
}

static void
test_view_long_thread (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  gint64 n_messages = db_int ("SELECT count(*) FROM messages WHERE conversation_id = ?1", long_id);
  GtkWidget *earlier = view_child (view, "earlier_button");
  GtkListBoxRow *last;
  g_autofree char *last_body = NULL;
  g_autofree char *last_text = NULL;

  g_assert_cmpint (n_messages, >, 400);

  load_and_wait (view, long_id);

  /* The latest 200, then 200 more per click, then all. */
  g_assert_cmpuint (thread_n_rows (view), ==, 200);
  g_assert_true (gtk_widget_get_visible (earlier));

  last_body = db_text ("SELECT body FROM messages WHERE conversation_id = ?1 "
                       "ORDER BY created_at DESC, id DESC LIMIT 1", long_id);
  last = gtk_list_box_get_row_at_index (_fd_conversation_view_get_thread (view), 199);
  last_text = widget_text (GTK_WIDGET (last));
  g_assert_nonnull (strstr (last_text, last_body));

  g_signal_emit_by_name (earlier, "clicked");
  g_assert_cmpuint (thread_n_rows (view), ==, 400);
  g_assert_true (gtk_widget_get_visible (earlier));

  g_signal_emit_by_name (earlier, "clicked");
  g_assert_cmpuint (thread_n_rows (view), ==, n_messages);
  g_assert_false (gtk_widget_get_visible (earlier));

  window_close_and_finalize (window, view);
}

static void
test_view_macro (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  g_autoptr(GListStore) macros = g_list_store_new (FD_TYPE_MACRO);
  g_autoptr(FdMacro) macro = NULL;
  g_autofree char *contact = NULL;
  g_autofree char *org = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *warnings = NULL;
  g_autofree char *text = NULL;
  g_autofree char *with_prefix = NULL;
  g_auto(GStrv) names = NULL;
  gint64 id = plain_ids[0];

  macro = fd_macro_new ("test-hello", "Hello",
                        "Hi {{contact.first_name}}, thanks for writing from {{org.name}}. {{org.tier}}",
                        FALSE);
  g_list_store_append (macros, macro);
  fd_conversation_view_set_macros (view, G_LIST_MODEL (macros));
  g_assert_true (fd_conversation_view_get_macros (view) == G_LIST_MODEL (macros));

  load_and_wait (view, id);

  contact = db_text ("SELECT k.name FROM conversations c JOIN contacts k ON k.id = c.contact_id "
                     "WHERE c.id = ?1", id);
  org = db_text ("SELECT o.name FROM conversations c JOIN organisations o ON o.id = c.organisation_id "
                 "WHERE c.id = ?1", id);
  names = g_strsplit (contact, " ", 2);
  expected = g_strdup_printf ("Hi %s, thanks for writing from %s. {{org.tier}}", names[0], org);

  /* The preview shows the resolved text and says, in words, what stays as written. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "conversation.insert-macro", "s", "test-hello"));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (composer_child (view, "preview_label"))), ==, expected);
  warnings = widget_text (composer_child (view, "warnings_box"));
  g_assert_nonnull (strstr (warnings, "{{org.tier}} is not a known variable and will be sent as written"));
  g_assert_true (gtk_widget_get_visible (composer_child (view, "macro_popover")));

  /* Insert puts it in the composer, at the cursor. */
  composer_type (view, ">> ");
  g_signal_emit_by_name (composer_child (view, "insert_button"), "clicked");
  text = composer_text (view);
  with_prefix = g_strconcat (">> ", expected, NULL);
  g_assert_cmpstr (text, ==, with_prefix);
  g_assert_false (fd_composer_get_is_note (view_composer (view)));

  /* An unknown macro id changes nothing. */
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.insert-macro", "s", "no-such-macro");
  g_clear_pointer (&text, g_free);
  text = composer_text (view);
  g_assert_nonnull (strstr (text, expected));

  window_close_and_finalize (window, view);
}

static void
set_flag (gboolean *flag)
{
  *flag = TRUE;
}

static void
test_view_send (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  const char *body = "Thanks, we are on it <b>not markup</b> & more";
  gint64 id = plain_ids[1];
  gint64 n_before;
  gint64 outbox_before;
  guint rows_before;
  gboolean changed = FALSE;
  GtkListBoxRow *row;
  g_autofree char *state = NULL;
  g_autofree char *text = NULL;
  g_autoptr(FdDraft) draft = NULL;
  GtkWidget *body_label;

  load_and_wait (view, id);
  n_before = db_int ("SELECT count(*) FROM messages WHERE conversation_id = ?1", id);
  outbox_before = db_int ("SELECT count(*) FROM outbox WHERE conversation_id = ?1", id);
  rows_before = thread_n_rows (view);
  g_signal_connect_swapped (view, "changed", G_CALLBACK (set_flag), &changed);

  g_assert_false (send_enabled (view));
  composer_type (view, body);
  g_assert_true (send_enabled (view));

  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.send", NULL);
  g_assert_true (fd_composer_get_sending (view_composer (view)));

  wait_until (composer_is_empty, view);
  g_assert_false (fd_composer_get_sending (view_composer (view)));

  /* In the store: the message, "sending", and its outbox entry. */
  g_assert_cmpint (db_int ("SELECT count(*) FROM messages WHERE conversation_id = ?1", id), ==, n_before + 1);
  state = db_text ("SELECT send_state FROM messages WHERE conversation_id = ?1 "
                   "ORDER BY created_at DESC, id DESC LIMIT 1", id);
  g_assert_cmpstr (state, ==, "sending");
  g_assert_cmpint (db_int ("SELECT count(*) FROM outbox WHERE conversation_id = ?1 AND kind = 'reply' "
                           "AND message_id = (SELECT max(id) FROM messages WHERE conversation_id = ?1)", id),
                   ==, 1);
  g_assert_cmpint (db_int ("SELECT count(*) FROM outbox WHERE conversation_id = ?1", id), ==, outbox_before + 1);

  /* In the thread after the reload, escaped, with its state in words. */
  while (thread_n_rows (view) != rows_before + 1)
    g_main_context_iteration (NULL, TRUE);
  row = gtk_list_box_get_row_at_index (_fd_conversation_view_get_thread (view), (int) rows_before);
  text = widget_text (GTK_WIDGET (row));
  g_assert_nonnull (strstr (text, "Sending…"));
  body_label = find_by_class (GTK_WIDGET (row), "fd-message-body");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (body_label)), ==, body);
  g_assert_true (changed);

  /* The draft is gone, also after the debounce would have fired. */
  spin (700);
  draft = read_draft_fresh (id);
  g_assert_null (draft);
  g_assert_false (send_enabled (view));

  window_close_and_finalize (window, view);
}

static void
test_view_draft_survives (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  gint64 id = plain_ids[2];
  FdDraft *draft = NULL;
  gint64 deadline;

  load_and_wait (view, id);
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.note", NULL);
  g_assert_true (fd_composer_get_is_note (view_composer (view)));
  composer_type (view, "Customer is on the old SSO flow; ");
  composer_type (view, "check with Maria before replying.");

  /* Only the debounce writes it: no save is asked for. A new connection must find it,
   * as after a crash. */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  spin (600);
  while ((draft = read_draft_fresh (id)) == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      spin (100);
    }

  g_assert_cmpstr (draft->body, ==, "Customer is on the old SSO flow; check with Maria before replying.");
  g_assert_true (draft->is_note);
  fd_draft_free (draft);

  /* A new view on the same conversation restores it, with its mode. */
  window_close_and_finalize (window, view);

  window = window_new (&view);
  fd_conversation_view_load (view, id);
  {
    ComposerExpect expect = { view, "Customer is on the old SSO flow; check with Maria before replying.", TRUE };

    wait_until (composer_holds, &expect);
  }
  window_close_and_finalize (window, view);
}

static void
test_view_switch_drafts (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  gint64 a = plain_ids[3];
  gint64 b = plain_ids[4];
  ComposerExpect expect_a = { NULL, "Draft for A, a note", TRUE };
  ComposerExpect expect_b = { NULL, "Draft for B, a reply", FALSE };

  expect_a.view = expect_b.view = view;

  load_and_wait (view, a);
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.note", NULL);
  composer_type (view, expect_a.text);

  /* Switching at once, before the debounce, still keeps A's draft. */
  load_and_wait (view, b);
  g_assert_true (composer_is_empty (view));
  g_assert_false (fd_composer_get_is_note (view_composer (view)));
  composer_type (view, expect_b.text);

  load_and_wait (view, a);
  wait_until (composer_holds, &expect_a);

  load_and_wait (view, b);
  wait_until (composer_holds, &expect_b);

  load_and_wait (view, a);
  wait_until (composer_holds, &expect_a);

  window_close_and_finalize (window, view);

  /* Both are in the store. */
  {
    g_autoptr(FdDraft) draft_a = read_draft_fresh (a);
    g_autoptr(FdDraft) draft_b = read_draft_fresh (b);

    g_assert_nonnull (draft_a);
    g_assert_nonnull (draft_b);
    g_assert_cmpstr (draft_a->body, ==, expect_a.text);
    g_assert_true (draft_a->is_note);
    g_assert_cmpstr (draft_b->body, ==, expect_b.text);
    g_assert_false (draft_b->is_note);
  }
}

static gboolean
status_resolved (FdConversationView *view)
{
  const FdConversationDetail *detail = fd_conversation_view_get_detail (view);

  return detail != NULL && g_strcmp0 (detail->status, "resolved") == 0;
}

static void
test_view_send_and_resolve (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  gint64 id = plain_ids[5];
  g_autofree char *status = NULL;
  g_autofree char *kind = NULL;

  load_and_wait (view, id);
  g_assert_cmpstr (fd_conversation_view_get_detail (view)->status, !=, "resolved");

  /* Ctrl+Return's action, with the composer focused. */
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.reply", NULL);
  composer_type (view, "That should do it. Closing this one, write back any time.");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "conversation.send-and-resolve", NULL));

  wait_until (status_resolved, view);
  g_assert_true (composer_is_empty (view));

  status = db_text ("SELECT status FROM conversations WHERE id = ?1", id);
  g_assert_cmpstr (status, ==, "resolved");
  kind = db_text ("SELECT kind FROM outbox WHERE conversation_id = ?1 ORDER BY id DESC LIMIT 1", id);
  g_assert_cmpstr (kind, ==, "status");
  g_assert_cmpint (db_int ("SELECT count(*) FROM outbox WHERE conversation_id = ?1 AND kind = 'reply'", id), ==, 1);

  window_close_and_finalize (window, view);
}

static void
test_view_empty_send (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  gint64 id = rich_id;
  gint64 n_before = db_int ("SELECT count(*) FROM messages WHERE conversation_id = ?1", id);

  load_and_wait (view, id);
  composer_type (view, "   \n\t  \n");
  g_assert_false (fd_composer_get_has_text (view_composer (view)));
  g_assert_false (send_enabled (view));

  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.send", NULL);
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.send-and-resolve", NULL);
  fd_composer_send (view_composer (view), FALSE);
  g_assert_false (fd_composer_get_sending (view_composer (view)));

  spin (200);
  g_assert_cmpint (db_int ("SELECT count(*) FROM messages WHERE conversation_id = ?1", id), ==, n_before);

  composer_type (view, "x");
  g_assert_true (send_enabled (view));

  window_close_and_finalize (window, view);
}

static void
test_view_missing (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  gint64 missing = db_int ("SELECT max(id) + 1000 FROM conversations", 0);

  fd_conversation_view_load (view, missing);
  wait_until (error_shown, view);

  g_assert_null (fd_conversation_view_get_detail (view));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (view_child (view, "error_label"))), !=, "");
  g_assert_false (send_enabled (view));

  /* A real one afterwards shows normally. */
  load_and_wait (view, rich_id);
  g_assert_false (error_shown (view));

  window_close_and_finalize (window, view);
}

static gboolean
outbox_pending (gpointer data)
{
  g_autofree char *state = db_text ("SELECT state FROM outbox WHERE message_id = ?1", failed_message_id);

  return g_strcmp0 (state, "pending") == 0;
}

static void
test_view_retry (void)
{
  FdConversationView *view;
  GtkWindow *window = window_new (&view);
  GtkListBox *thread;
  GtkListBoxRow *row = NULL;
  GtkWidget *retry;
  g_autofree char *text = NULL;

  load_and_wait (view, failed_id);
  thread = _fd_conversation_view_get_thread (view);

  for (int i = 0; (row = gtk_list_box_get_row_at_index (thread, i)) != NULL; i++)
    {
      g_autofree char *row_text = widget_text (GTK_WIDGET (row));

      if (strstr (row_text, "A reply the service refused") != NULL)
        break;
    }
  g_assert_nonnull (row);

  text = widget_text (GTK_WIDGET (row));
  g_assert_nonnull (strstr (text, "Not sent"));
  retry = find_button_with_label (GTK_WIDGET (row), "_Retry");
  g_assert_nonnull (retry);

  g_signal_emit_by_name (retry, "clicked");
  wait_until (outbox_pending, NULL);

  {
    g_autofree char *state = db_text ("SELECT send_state FROM messages WHERE id = ?1", failed_message_id);

    g_assert_cmpstr (state, ==, "sending");
  }

  window_close_and_finalize (window, view);
}

/* }}} */
/* {{{ Set-up */

static void
make_demo (void)
{
  const char *cli = g_getenv ("FD_CLI");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  const char *argv[] = { cli, "--profile", profile_dir, "demo", "--scale", "small", NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("The demo failed: %s", err);
}

static gint64
pick (sqlite3    *db,
      const char *sql,
      gint64      arg)
{
  sqlite3_stmt *stmt = NULL;
  gint64 id = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_bind_parameter_count (stmt) > 0)
    sqlite3_bind_int64 (stmt, 1, arg);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);

  g_assert_cmpint (id, >, 0);
  return id;
}

/* The demo's conversations belong to no account, so replies would be local only; one
 * account makes them go through the outbox as synced conversations do. */
static void
prepare_store (void)
{
  sqlite3 *db = db_open (TRUE);
  sqlite3_stmt *stmt = NULL;
  g_autofree char *sql = NULL;
  guint n = 0;

  db_exec (db, "INSERT INTO accounts (uid, kind, name, base_url, created_at) "
               "VALUES ('test-view', 'intercom', 'Test', 'http://127.0.0.1:9', 0)");
  db_exec (db, "UPDATE conversations SET account_id = (SELECT id FROM accounts WHERE uid = 'test-view')");

  rich_id = pick (db,
                  "SELECT c.id FROM conversations c "
                  "JOIN organisations o ON o.id = c.organisation_id "
                  "JOIN contacts k ON k.id = c.contact_id "
                  "WHERE o.is_enterprise AND k.name != '' "
                  "AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.is_note) "
                  "AND EXISTS (SELECT 1 FROM attachments a JOIN messages m ON m.id = a.message_id "
                  "            WHERE m.conversation_id = c.id) "
                  "ORDER BY c.id LIMIT 1", 0);

  openable_attachment_id = pick (db,
                                 "SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id "
                                 "WHERE m.conversation_id = ?1 ORDER BY a.id LIMIT 1", rich_id);
  sql = g_strdup_printf ("UPDATE attachments SET url = 'https://files.example.com/a/%" G_GINT64_FORMAT "' "
                         "WHERE id = %" G_GINT64_FORMAT, openable_attachment_id, openable_attachment_id);
  db_exec (db, sql);

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT c.id FROM conversations c "
                                       "JOIN organisations o ON o.id = c.organisation_id "
                                       "JOIN contacts k ON k.id = c.contact_id "
                                       "WHERE k.name LIKE '% %' AND c.status != 'resolved' AND c.id != ?1 "
                                       "ORDER BY c.id LIMIT 8",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, rich_id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      if (n < G_N_ELEMENTS (plain_ids))
        plain_ids[n] = id;
      else if (long_id == 0)
        long_id = id;
      else if (failed_id == 0)
        failed_id = id;
      n++;
    }
  sqlite3_finalize (stmt);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (plain_ids) + 2);

  /* A conversation with hundreds of messages. */
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
                         "INSERT INTO messages (conversation_id, author_kind, author_name, body, created_at) "
                         "SELECT %" G_GINT64_FORMAT ", CASE WHEN i %% 2 THEN 'contact' ELSE 'agent' END, "
                         "  'Writer ' || i, 'Long thread message number ' || i, "
                         "  (SELECT max(created_at) FROM messages) + i * 1000 FROM n",
                         N_LONG_EXTRA, long_id);
  db_exec (db, sql);

  /* A reply that the service refused. */
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("INSERT INTO messages (conversation_id, account_id, author_kind, author_name, "
                         "  body, created_at, send_state) "
                         "SELECT %" G_GINT64_FORMAT ", account_id, 'agent', 'Me', "
                         "  'A reply the service refused', (SELECT max(created_at) FROM messages) + 1, 'failed' "
                         "FROM conversations WHERE id = %" G_GINT64_FORMAT, failed_id, failed_id);
  db_exec (db, sql);
  failed_message_id = sqlite3_last_insert_rowid (db);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("INSERT INTO outbox (account_id, conversation_id, kind, payload_json, "
                         "  idempotency_key, state, attempts, last_error, created_at, updated_at, message_id) "
                         "SELECT account_id, id, 'reply', '{\"body\":\"A reply the service refused\"}', "
                         "  'test-failed', 'failed', 6, 'Refused', 0, 0, %" G_GINT64_FORMAT " "
                         "FROM conversations WHERE id = %" G_GINT64_FORMAT,
                         failed_message_id, failed_id);
  db_exec (db, sql);

  sqlite3_close (db);
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

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  /* The templates are in the static library's resources. */
  (void) fd_get_resource ();

  if (g_getenv ("FD_CLI") == NULL)
    {
      g_test_message ("FD_CLI is not set; run through meson test");
      return 77;
    }

  profile_dir = g_dir_make_tmp ("fd-test-conversation-view-XXXXXX", &error);
  g_assert_no_error (error);
  make_demo ();
  db_path = fd_paths_store_file (profile_dir);
  prepare_store ();

  store = fd_store_new (db_path);
  g_assert_true (fd_store_open_sync (store, NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/conversation-view/empty-state", test_view_empty_state);
  g_test_add_func ("/conversation-view/thread", test_view_thread);
  g_test_add_func ("/conversation-view/long-thread", test_view_long_thread);
  g_test_add_func ("/conversation-view/macro", test_view_macro);
  g_test_add_func ("/conversation-view/send", test_view_send);
  g_test_add_func ("/conversation-view/draft-survives", test_view_draft_survives);
  g_test_add_func ("/conversation-view/switch-drafts", test_view_switch_drafts);
  g_test_add_func ("/conversation-view/send-and-resolve", test_view_send_and_resolve);
  g_test_add_func ("/conversation-view/empty-send", test_view_empty_send);
  g_test_add_func ("/conversation-view/missing", test_view_missing);
  g_test_add_func ("/conversation-view/retry", test_view_retry);

  ret = g_test_run ();

  fd_store_close (store);
  g_clear_object (&store);
  remove_tree (profile_dir);
  g_free (profile_dir);
  g_free (db_path);

  return ret;
}

/* }}} */
