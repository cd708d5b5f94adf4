/* fd-composer.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-composer"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-composer.h"
#include "fd-macro.h"
#include "fd-outbox.h"
#include "fd-window.h"

/* The draft is written this long after the last keystroke. */
#define DRAFT_SAVE_DELAY_MS 500

struct _FdComposer
{
  GtkWidget           parent_instance;

  FdStore            *store;
  gint64              conversation_id;
  GHashTable         *macro_context;
  GListModel         *macros;
  GtkCustomFilter    *macro_filter;
  GtkFilterListModel *filtered_macros;
  FdMacro            *previewed;
  char               *preview_text;

  gboolean            is_note;
  gboolean            has_text;
  gboolean            sending;
  /* Bumped by every send and conversation change, so a late answer is recognised. */
  guint               send_serial;

  /* The draft: TRUE when the text or mode changed since it was read or written. */
  gboolean            dirty;
  /* Set while the composer changes its own text, which is not the agent typing. */
  gboolean            setting_text;
  guint               save_source;
  GCancellable       *draft_cancellable;

  /* Template widgets */
  GtkToggleButton    *reply_toggle;
  GtkToggleButton    *note_toggle;
  GtkWidget          *note_hint;
  GtkWidget          *mode_spacer;
  GtkMenuButton      *macro_button;
  GtkWidget          *text_scroller;
  GtkTextView        *text_view;
  GtkWidget          *error_box;
  GtkLabel           *error_label;
  AdwSplitButton     *send_button;
  GtkPopover         *macro_popover;
  GtkStack           *macro_stack;
  GtkSearchEntry     *macro_search;
  GtkListBox         *macro_list;
  GtkLabel           *preview_title;
  GtkLabel           *preview_label;
  GtkWidget          *warnings_box;
  GtkWidget          *insert_button;
};

G_DEFINE_FINAL_TYPE (FdComposer, fd_composer, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_IS_NOTE,
  PROP_HAS_TEXT,
  PROP_SENDING,
  N_PROPS
};

enum {
  SENT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* {{{ Helpers */

static char *
get_text (FdComposer *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static gboolean
text_is_blank (const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isspace (g_utf8_get_char (p)))
      return FALSE;

  return TRUE;
}

static void
set_text (FdComposer *self,
          const char *text)
{
  self->setting_text = TRUE;
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), text, -1);
  self->setting_text = FALSE;
}

static void
set_sending (FdComposer *self,
             gboolean    sending)
{
  if (self->sending == sending)
    return;

  self->sending = sending;
  gtk_text_view_set_editable (self->text_view, !sending);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SENDING]);
}

static void
hide_error (FdComposer *self)
{
  gtk_widget_set_visible (self->error_box, FALSE);
  gtk_label_set_label (self->error_label, "");
}

/* A toast where the window can show one; under the composer otherwise. */
void
fd_composer_show_error (FdComposer *self,
                        const char *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (FD_IS_WINDOW (root))
    {
      fd_window_add_toast (FD_WINDOW (root), message, NULL);
      return;
    }

  gtk_label_set_label (self->error_label, message);
  gtk_widget_set_visible (self->error_box, TRUE);
}

/* }}} */
/* {{{ Drafts */

static void
draft_saved_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GWeakRef *weak = user_data;
  g_autoptr(FdComposer) self = g_weak_ref_get (weak);

  g_weak_ref_clear (weak);
  g_free (weak);

  if (fd_draft_save_finish (FD_STORE (object), result, &error))
    return;

  /* The composer may be gone (the last save of a closed window); the text is then
   * lost with it, and all that is left is to say so in the log. */
  if (self == NULL)
    {
      g_message ("The draft could not be saved: %s", error->message);
      return;
    }

  {
    g_autofree char *message = g_strdup_printf (_("The draft could not be saved. %s"), error->message);

    fd_composer_show_error (self, message);
  }
}

/* Only the store is held by the save, so the last one may outlive the widget. */
static void
write_draft (FdComposer *self,
             gint64      conversation_id,
             gboolean    is_note,
             const char *body)
{
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  g_weak_ref_init (weak, self);
  fd_draft_save_async (self->store, conversation_id, is_note, body, NULL, draft_saved_cb, weak);
}

void
fd_composer_save_draft (FdComposer *self)
{
  g_autofree char *text = NULL;

  g_return_if_fail (FD_IS_COMPOSER (self));

  g_clear_handle_id (&self->save_source, g_source_remove);

  if (!self->dirty || self->sending || self->conversation_id == 0 || self->store == NULL)
    return;

  text = get_text (self);
  self->dirty = FALSE;

  /* A blank text deletes the draft. */
  write_draft (self, self->conversation_id, self->is_note, text_is_blank (text) ? "" : text);
}

static gboolean
save_timeout_cb (gpointer user_data)
{
  FdComposer *self = user_data;

  self->save_source = 0;
  fd_composer_save_draft (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_save (FdComposer *self)
{
  self->dirty = TRUE;
  g_clear_handle_id (&self->save_source, g_source_remove);
  self->save_source = g_timeout_add (DRAFT_SAVE_DELAY_MS, save_timeout_cb, self);
}

typedef struct
{
  FdComposer *self;
  gint64      conversation_id;
} DraftLoad;

static void
draft_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  DraftLoad *load = user_data;
  g_autoptr(FdComposer) self = load->self;
  gint64 conversation_id = load->conversation_id;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdDraft) draft = NULL;

  g_free (load);
  draft = fd_draft_load_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      conversation_id != self->conversation_id || self->text_view == NULL)
    return;

  if (error != NULL)
    {
      g_autofree char *message = g_strdup_printf (_("The saved draft could not be read. %s"),
                                                  error->message);

      fd_composer_show_error (self, message);
      return;
    }

  /* Whatever the agent typed meanwhile wins over the saved draft. */
  if (draft == NULL || self->dirty || self->has_text)
    return;

  set_text (self, draft->body != NULL ? draft->body : "");
  self->setting_text = TRUE;
  fd_composer_set_is_note (self, draft->is_note);
  self->setting_text = FALSE;
}

/* }}} */
/* {{{ Text and mode */

static void
buffer_changed_cb (FdComposer    *self,
                   GtkTextBuffer *buffer)
{
  g_autofree char *text = get_text (self);
  gboolean has_text = !text_is_blank (text);

  if (has_text != self->has_text)
    {
      self->has_text = has_text;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_TEXT]);
    }

  if (!self->setting_text && self->conversation_id != 0)
    {
      hide_error (self);
      schedule_save (self);
    }
}

gboolean
fd_composer_get_is_note (FdComposer *self)
{
  g_return_val_if_fail (FD_IS_COMPOSER (self), FALSE);

  return self->is_note;
}

void
fd_composer_set_is_note (FdComposer *self,
                         gboolean    is_note)
{
  g_return_if_fail (FD_IS_COMPOSER (self));

  is_note = !!is_note;

  /* The toggles call back in here; they are set first so both agree. */
  if (gtk_toggle_button_get_active (self->note_toggle) != is_note)
    gtk_toggle_button_set_active (is_note ? self->note_toggle : self->reply_toggle, TRUE);

  if (self->is_note == is_note)
    return;

  self->is_note = is_note;

  if (is_note)
    gtk_widget_add_css_class (GTK_WIDGET (self), "fd-note-mode");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "fd-note-mode");

  gtk_widget_set_visible (self->note_hint, is_note);
  gtk_widget_set_visible (self->mode_spacer, !is_note);
  adw_split_button_set_label (self->send_button, is_note ? _("Add Note") : _("Send"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->send_button),
                               is_note ? _("Add the Internal Note") : _("Send the Reply"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  is_note ? _("Internal note") : _("Reply"),
                                  -1);

  if (!self->setting_text && self->conversation_id != 0)
    schedule_save (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_NOTE]);
}

static void
mode_toggled_cb (FdComposer      *self,
                 GtkToggleButton *button)
{
  if (gtk_toggle_button_get_active (button))
    fd_composer_set_is_note (self, button == self->note_toggle);
}

gboolean
fd_composer_get_has_text (FdComposer *self)
{
  g_return_val_if_fail (FD_IS_COMPOSER (self), FALSE);

  return self->has_text;
}

gboolean
fd_composer_get_sending (FdComposer *self)
{
  g_return_val_if_fail (FD_IS_COMPOSER (self), FALSE);

  return self->sending;
}

void
fd_composer_focus (FdComposer *self)
{
  g_return_if_fail (FD_IS_COMPOSER (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

GtkTextView *
fd_composer_get_text_view (FdComposer *self)
{
  g_return_val_if_fail (FD_IS_COMPOSER (self), NULL);

  return self->text_view;
}

/* }}} */
/* {{{ Sending */

typedef struct
{
  GWeakRef  composer;
  FdStore  *store;
  gint64    conversation_id;
  guint     serial;
  gboolean  is_note;
  gboolean  resolve;
} SendData;

static void
send_data_free (SendData *data)
{
  g_weak_ref_clear (&data->composer);
  g_clear_object (&data->store);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendData, send_data_free)

static void
send_finish (SendData   *data,
             gboolean    resolved,
             const char *error_message)
{
  g_autoptr(FdComposer) self = g_weak_ref_get (&data->composer);
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  /* The text is in the outbox: its draft goes. */
  g_weak_ref_init (weak, self);
  fd_draft_save_async (data->store, data->conversation_id, data->is_note, "", NULL,
                       draft_saved_cb, weak);

  if (self == NULL || self->send_serial != data->serial)
    return;

  g_clear_handle_id (&self->save_source, g_source_remove);
  set_text (self, "");
  self->dirty = FALSE;
  set_sending (self, FALSE);

  if (error_message != NULL)
    fd_composer_show_error (self, error_message);

  g_signal_emit (self, signals[SENT], 0, resolved);
}

static void
resolve_enqueued_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(SendData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  fd_outbox_enqueue_finish (FD_STORE (object), result, &error);

  if (error != NULL)
    message = g_strdup_printf (_("The reply was sent, but the conversation could not be resolved. %s"),
                               error->message);

  send_finish (data, error == NULL, message);
}

static void
reply_enqueued_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SendData) data = user_data;
  g_autoptr(GError) error = NULL;
  FdOutboxRequest *request;
  FdStore *store;

  fd_outbox_enqueue_finish (FD_STORE (object), result, &error);

  if (error != NULL)
    {
      g_autoptr(FdComposer) self = g_weak_ref_get (&data->composer);
      g_autofree char *message = NULL;

      /* The draft was never deleted, so the text is safe even without the composer. */
      if (self == NULL || self->send_serial != data->serial)
        return;

      set_sending (self, FALSE);
      if (data->is_note)
        message = g_strdup_printf (_("The note was not added. %s"), error->message);
      else
        message = g_strdup_printf (_("The reply was not sent. %s"), error->message);
      fd_composer_show_error (self, message);

      /* Keep what was typed, in the composer and in the draft. */
      self->dirty = TRUE;
      fd_composer_save_draft (self);
      return;
    }

  if (!data->resolve)
    {
      send_finish (data, FALSE, NULL);
      return;
    }

  request = g_new0 (FdOutboxRequest, 1);
  request->conversation_id = data->conversation_id;
  request->kind = FD_OUTBOX_STATUS;
  request->status = g_strdup ("resolved");

  store = data->store;
  fd_outbox_enqueue_async (store, request, NULL, resolve_enqueued_cb, g_steal_pointer (&data));
}

void
fd_composer_send (FdComposer *self,
                  gboolean    resolve)
{
  g_autofree char *text = NULL;
  FdOutboxRequest *request;
  SendData *data;

  g_return_if_fail (FD_IS_COMPOSER (self));

  if (!self->has_text || self->sending || self->conversation_id == 0 || self->store == NULL)
    return;

  text = get_text (self);

  /* Typing pauses until the outbox has it; the draft is left as it is until then. */
  g_clear_handle_id (&self->save_source, g_source_remove);
  if (self->dirty)
    fd_composer_save_draft (self);
  hide_error (self);
  set_sending (self, TRUE);

  data = g_new0 (SendData, 1);
  g_weak_ref_init (&data->composer, self);
  data->store = g_object_ref (self->store);
  data->conversation_id = self->conversation_id;
  data->serial = ++self->send_serial;
  data->is_note = self->is_note;
  data->resolve = resolve;

  request = g_new0 (FdOutboxRequest, 1);
  request->conversation_id = self->conversation_id;
  request->kind = self->is_note ? FD_OUTBOX_NOTE : FD_OUTBOX_REPLY;
  request->body = g_strdup (g_strstrip (text));

  /* No cancellable: a send that has started is always finished. */
  fd_outbox_enqueue_async (self->store, request, NULL, reply_enqueued_cb, data);
}

/* }}} */
/* {{{ Macros */

static FdMacro *
find_macro (FdComposer *self,
            const char *macro_id)
{
  guint n;

  if (self->macros == NULL)
    return NULL;

  n = g_list_model_get_n_items (self->macros);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdMacro) macro = g_list_model_get_item (self->macros, i);

      if (g_strcmp0 (fd_macro_get_id (macro), macro_id) == 0)
        return g_steal_pointer (&macro);
    }

  return NULL;
}

static gboolean
macro_filter_func (gpointer item,
                   gpointer user_data)
{
  FdComposer *self = user_data;
  FdMacro *macro = item;
  const char *search = gtk_editable_get_text (GTK_EDITABLE (self->macro_search));
  g_autofree char *needle = NULL;
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;

  if (search == NULL || *search == '\0')
    return TRUE;

  needle = g_utf8_casefold (search, -1);
  title = g_utf8_casefold (fd_macro_get_title (macro), -1);
  if (strstr (title, needle) != NULL)
    return TRUE;

  body = g_utf8_casefold (fd_macro_get_body (macro), -1);
  return strstr (body, needle) != NULL;
}

static GtkWidget *
create_macro_row (gpointer item,
                  gpointer user_data)
{
  FdMacro *macro = item;
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (fd_macro_get_title (macro));
  GtkWidget *body;
  g_autofree char *first_line = g_strdup (fd_macro_get_body (macro));
  char *newline = strchr (first_line, '\n');

  if (newline != NULL)
    *newline = '\0';

  gtk_label_set_xalign (GTK_LABEL (title), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), title);

  body = gtk_label_new (first_line);
  gtk_label_set_xalign (GTK_LABEL (body), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (body), PANGO_ELLIPSIZE_END);
  gtk_label_set_single_line_mode (GTK_LABEL (body), TRUE);
  gtk_widget_add_css_class (body, "caption");
  gtk_widget_add_css_class (body, "dim-label");
  gtk_box_append (GTK_BOX (box), body);

  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_tooltip_text (row, fd_macro_get_title (macro));
  g_object_set_data_full (G_OBJECT (row), "fd-macro", g_object_ref (macro), g_object_unref);

  return row;
}

static void
add_warning (FdComposer *self,
             const char *icon_name,
             const char *style_class,
             const char *text)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *icon_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *icon = gtk_image_new_from_icon_name (icon_name);
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_set_valign (icon_box, GTK_ALIGN_START);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Warning"),
                                  -1);
  if (style_class != NULL)
    gtk_widget_add_css_class (icon, style_class);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 52);
  gtk_widget_set_hexpand (label, TRUE);
  /* A bare image beside a wrapping label makes GtkBox 4.8 misreport its height. */
  gtk_box_append (GTK_BOX (icon_box), icon);
  gtk_box_append (GTK_BOX (box), icon_box);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (self->warnings_box), box);
}

/* Names from fd_macro_expand, written back the way the macro spells them. */
static char *
variable_markup (const char *name)
{
  if (g_str_has_prefix (name, "{{"))
    return g_strdup (name);

  return g_strdup_printf ("{{%s}}", name);
}

static void
show_preview (FdComposer *self,
              FdMacro    *macro)
{
  g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) empty = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) no_context = NULL;
  GHashTable *context = self->macro_context;
  GtkWidget *child;

  g_set_object (&self->previewed, macro);

  if (context == NULL)
    context = no_context = fd_macro_context_new (NULL);

  g_free (self->preview_text);
  self->preview_text = fd_macro_expand (fd_macro_get_body (macro), context, unknown, empty);

  gtk_label_set_label (self->preview_title, fd_macro_get_title (macro));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->preview_title), fd_macro_get_title (macro));
  gtk_label_set_text (self->preview_label, self->preview_text);

  while ((child = gtk_widget_get_first_child (self->warnings_box)) != NULL)
    gtk_box_remove (GTK_BOX (self->warnings_box), child);

  for (guint i = 0; i < unknown->len; i++)
    {
      g_autofree char *variable = variable_markup (g_ptr_array_index (unknown, i));
      g_autofree char *text = NULL;

      /* Translators: %s is a macro variable such as {{org.tier}}. */
      text = g_strdup_printf (_("%s is not a known variable and will be sent as written"), variable);
      add_warning (self, "dialog-warning-symbolic", "warning", text);
    }

  for (guint i = 0; i < empty->len; i++)
    {
      g_autofree char *variable = variable_markup (g_ptr_array_index (empty, i));
      g_autofree char *text = NULL;

      /* Translators: %s is a macro variable such as {{contact.first_name}}. */
      text = g_strdup_printf (_("%s has no value in this conversation and will be left out"), variable);
      add_warning (self, "dialog-warning-symbolic", "warning", text);
    }

  if (fd_macro_get_is_note (macro))
    add_warning (self, "view-conceal-symbolic", NULL,
                 _("This macro is an internal note: only your team will see it"));

  gtk_stack_set_visible_child_name (self->macro_stack, "preview");
  gtk_widget_grab_focus (self->insert_button);
}

gboolean
fd_composer_preview_macro (FdComposer *self,
                           const char *macro_id)
{
  g_autoptr(FdMacro) macro = NULL;

  g_return_val_if_fail (FD_IS_COMPOSER (self), FALSE);
  g_return_val_if_fail (macro_id != NULL, FALSE);

  macro = find_macro (self, macro_id);
  if (macro == NULL)
    return FALSE;

  gtk_menu_button_popup (self->macro_button);
  show_preview (self, macro);

  return TRUE;
}

static void
macro_row_activated_cb (FdComposer    *self,
                        GtkListBoxRow *row,
                        GtkListBox    *list)
{
  FdMacro *macro = g_object_get_data (G_OBJECT (row), "fd-macro");

  if (macro != NULL)
    show_preview (self, macro);
}

static void
macro_search_changed_cb (FdComposer     *self,
                         GtkSearchEntry *entry)
{
  gtk_filter_changed (GTK_FILTER (self->macro_filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
macro_search_activate_cb (FdComposer     *self,
                          GtkSearchEntry *entry)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->macro_list, 0);

  if (row != NULL)
    macro_row_activated_cb (self, row, self->macro_list);
}

static void
back_clicked_cb (FdComposer *self,
                 GtkButton  *button)
{
  gtk_stack_set_visible_child_name (self->macro_stack, "list");
  gtk_widget_grab_focus (GTK_WIDGET (self->macro_search));
}

static void
insert_clicked_cb (FdComposer *self,
                   GtkButton  *button)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  gboolean was_empty = !self->has_text;

  if (self->previewed == NULL || self->preview_text == NULL)
    return;

  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_insert_at_cursor (buffer, self->preview_text, -1);
  gtk_text_buffer_end_user_action (buffer);

  /* A hand-over template starts a note; in a reply already begun, the mode stays. */
  if (was_empty && fd_macro_get_is_note (self->previewed))
    fd_composer_set_is_note (self, TRUE);

  gtk_popover_popdown (self->macro_popover);
  fd_composer_focus (self);
}

static void
macro_popover_show_cb (FdComposer *self,
                       GtkPopover *popover)
{
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->macro_stack), "list") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->macro_search));
}

static void
macro_popover_closed_cb (FdComposer *self,
                         GtkPopover *popover)
{
  gtk_stack_set_visible_child_name (self->macro_stack, "list");
  gtk_editable_set_text (GTK_EDITABLE (self->macro_search), "");
  g_clear_object (&self->previewed);
}

void
fd_composer_set_macros (FdComposer *self,
                        GListModel *macros)
{
  g_return_if_fail (FD_IS_COMPOSER (self));
  g_return_if_fail (macros == NULL || G_IS_LIST_MODEL (macros));

  if (!g_set_object (&self->macros, macros))
    return;

  gtk_filter_list_model_set_model (self->filtered_macros, macros);
}

void
fd_composer_set_detail (FdComposer                 *self,
                        const FdConversationDetail *detail)
{
  g_return_if_fail (FD_IS_COMPOSER (self));

  g_clear_pointer (&self->macro_context, g_hash_table_unref);
  if (detail != NULL)
    self->macro_context = fd_macro_context_new (detail);
}

/* }}} */
/* {{{ Store and conversation */

void
fd_composer_set_store (FdComposer *self,
                       FdStore    *store)
{
  g_return_if_fail (FD_IS_COMPOSER (self));
  g_return_if_fail (store == NULL || FD_IS_STORE (store));

  if (self->store == store)
    return;

  fd_composer_save_draft (self);
  g_set_object (&self->store, store);
}

gint64
fd_composer_get_conversation (FdComposer *self)
{
  g_return_val_if_fail (FD_IS_COMPOSER (self), 0);

  return self->conversation_id;
}

void
fd_composer_set_conversation (FdComposer *self,
                              gint64      conversation_id)
{
  DraftLoad *load;

  g_return_if_fail (FD_IS_COMPOSER (self));

  if (self->conversation_id == conversation_id)
    return;

  /* The draft of the one shown before is written at once, not after the delay. */
  fd_composer_save_draft (self);

  g_cancellable_cancel (self->draft_cancellable);
  g_clear_object (&self->draft_cancellable);

  self->conversation_id = conversation_id;
  self->send_serial++;
  set_sending (self, FALSE);
  hide_error (self);
  gtk_popover_popdown (self->macro_popover);
  g_clear_pointer (&self->macro_context, g_hash_table_unref);

  self->setting_text = TRUE;
  set_text (self, "");
  fd_composer_set_is_note (self, FALSE);
  self->setting_text = FALSE;
  self->dirty = FALSE;

  if (conversation_id == 0 || self->store == NULL)
    return;

  load = g_new0 (DraftLoad, 1);
  load->self = g_object_ref (self);
  load->conversation_id = conversation_id;
  self->draft_cancellable = g_cancellable_new ();
  fd_draft_load_async (self->store, conversation_id, self->draft_cancellable,
                       draft_loaded_cb, load);
}

/* }}} */
/* {{{ GObject */

static void
fd_composer_dispose (GObject *object)
{
  FdComposer *self = FD_COMPOSER (object);
  GtkWidget *child;

  /* The last save holds only the store, so it completes after the widget is gone. */
  if (self->text_view != NULL)
    fd_composer_save_draft (self);

  g_clear_handle_id (&self->save_source, g_source_remove);
  g_cancellable_cancel (self->draft_cancellable);
  g_clear_object (&self->draft_cancellable);

  if (self->macro_list != NULL)
    gtk_list_box_bind_model (self->macro_list, NULL, NULL, NULL, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_COMPOSER);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  g_clear_object (&self->previewed);
  g_clear_object (&self->filtered_macros);
  g_clear_object (&self->macro_filter);
  g_clear_object (&self->macros);
  g_clear_object (&self->store);
  g_clear_pointer (&self->macro_context, g_hash_table_unref);

  G_OBJECT_CLASS (fd_composer_parent_class)->dispose (object);
}

static void
fd_composer_finalize (GObject *object)
{
  FdComposer *self = FD_COMPOSER (object);

  g_free (self->preview_text);

  G_OBJECT_CLASS (fd_composer_parent_class)->finalize (object);
}

static void
fd_composer_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  FdComposer *self = FD_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_IS_NOTE:
      g_value_set_boolean (value, self->is_note);
      break;

    case PROP_HAS_TEXT:
      g_value_set_boolean (value, self->has_text);
      break;

    case PROP_SENDING:
      g_value_set_boolean (value, self->sending);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_composer_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  FdComposer *self = FD_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_IS_NOTE:
      fd_composer_set_is_note (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_composer_class_init (FdComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_composer_dispose;
  object_class->finalize = fd_composer_finalize;
  object_class->get_property = fd_composer_get_property;
  object_class->set_property = fd_composer_set_property;

  properties[PROP_IS_NOTE] =
    g_param_spec_boolean ("is-note", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_HAS_TEXT] =
    g_param_spec_boolean ("has-text", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SENDING] =
    g_param_spec_boolean ("sending", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SENT] =
    g_signal_new ("sent",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_BOOLEAN);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/inbox/fd-composer.ui");
  gtk_widget_class_bind_template_child (widget_class, FdComposer, reply_toggle);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, note_toggle);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, note_hint);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, mode_spacer);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, macro_button);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, text_scroller);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, text_view);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, error_box);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, error_label);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, send_button);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, macro_popover);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, macro_stack);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, macro_search);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, macro_list);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, preview_title);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, preview_label);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, warnings_box);
  gtk_widget_class_bind_template_child (widget_class, FdComposer, insert_button);
  gtk_widget_class_bind_template_callback (widget_class, mode_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, macro_popover_show_cb);
  gtk_widget_class_bind_template_callback (widget_class, macro_popover_closed_cb);
  gtk_widget_class_bind_template_callback (widget_class, macro_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, macro_search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, macro_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, back_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, insert_clicked_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "fdcomposer");
}

static void
fd_composer_init (FdComposer *self)
{
  GtkEventController *shortcuts;
  GtkShortcut *shortcut;
  GtkWidget *placeholder;

  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_object (gtk_text_view_get_buffer (self->text_view), "changed",
                           G_CALLBACK (buffer_changed_cb), self, G_CONNECT_SWAPPED);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Reply"),
                                  -1);

  /* The text view takes Return for itself; Ctrl+Return must reach the view's action
   * first, so it is caught on the way down. */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  shortcut = gtk_shortcut_new (gtk_alternative_trigger_new (gtk_keyval_trigger_new (GDK_KEY_Return, GDK_CONTROL_MASK),
                                                            gtk_keyval_trigger_new (GDK_KEY_KP_Enter, GDK_CONTROL_MASK)),
                               gtk_named_action_new ("conversation.send-and-resolve"));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), shortcut);
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  self->macro_filter = gtk_custom_filter_new (macro_filter_func, self, NULL);
  self->filtered_macros = gtk_filter_list_model_new (NULL, g_object_ref (GTK_FILTER (self->macro_filter)));
  gtk_list_box_bind_model (self->macro_list, G_LIST_MODEL (self->filtered_macros),
                           create_macro_row, self, NULL);
  placeholder = gtk_label_new (_("No macros match"));
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 12);
  gtk_widget_set_margin_bottom (placeholder, 12);
  gtk_list_box_set_placeholder (self->macro_list, placeholder);
}

GtkWidget *
fd_composer_new (void)
{
  return g_object_new (FD_TYPE_COMPOSER, NULL);
}

/* }}} */
