/* fd-conversation-view.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-conversation-view"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-composer.h"
#include "fd-context-panel.h"
#include "fd-conversation-view.h"
#include "fd-outbox.h"
#include "fd-sla.h"
#include "fd-sync-status.h"
#include "fd-window.h"

/* A conversation with thousands of messages shows its latest ones, and this many more
 * each time the agent asks for earlier ones. */
#define THREAD_PAGE 200

/* A load shorter than this shows no spinner, so fast loads do not flicker. */
#define SPINNER_DELAY_MS 300

/* Relative times and the SLA countdown are refreshed this often. */
#define REFRESH_SECONDS 30

/* What a thread row remembers of its message. */
typedef struct
{
  gint64    id;
  gint64    created_at;
  char     *send_state;
  char     *body;
  GtkLabel *body_label;
  GtkLabel *time_label;
} MessageRow;

struct _FdConversationView
{
  GtkWidget             parent_instance;

  FdStore              *store;
  GListModel           *macros;
  gint64                conversation_id;
  FdConversationDetail *detail;
  GCancellable         *load_cancellable;
  guint                 spinner_source;
  guint                 refresh_source;
  guint                 scroll_tick;
  GRegex               *highlight;

  /* How many of the latest messages the thread shows, and how many there were at the
   * last load (so a reload keeps the same first message). */
  guint                 n_visible;
  guint                 n_total;
  /* TRUE while the thread is scrolled to its end; it then stays there as it grows. */
  gboolean              stick_to_end;
  /* Reply or note asked for while the conversation loads: done once it is shown. */
  enum { FOCUS_NONE, FOCUS_REPLY, FOCUS_NOTE } pending_focus;

  /* Template widgets */
  GtkStack             *stack;
  GtkSpinner           *loading_spinner;
  GtkLabel             *error_label;
  AdwFlap              *flap;
  GtkLabel             *subject_label;
  GtkToggleButton      *context_button;
  GtkFlowBox           *meta_box;
  GtkScrolledWindow    *scroller;
  GtkWidget            *earlier_button;
  GtkListBox           *thread;
  FdComposer           *composer;
  FdContextPanel       *context_panel;
};

G_DEFINE_FINAL_TYPE (FdConversationView, fd_conversation_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_DETAIL,
  PROP_CONVERSATION_ID,
  N_PROPS
};

enum {
  CHANGED,
  OPEN_CONVERSATION,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void start_load (FdConversationView *self,
                        gboolean            reload);

/* {{{ Words */

static const char *
author_kind_to_label (const char *kind)
{
  if (g_strcmp0 (kind, "contact") == 0)
    return _("Customer");
  if (g_strcmp0 (kind, "agent") == 0)
    return _("Agent");
  if (g_strcmp0 (kind, "bot") == 0)
    return _("Bot");
  return _("System");
}



static const char *
priority_to_label (const char *priority)
{
  if (g_strcmp0 (priority, "urgent") == 0)
    return _("Urgent priority");
  if (g_strcmp0 (priority, "high") == 0)
    return _("High priority");
  if (g_strcmp0 (priority, "low") == 0)
    return _("Low priority");
  return _("Normal priority");
}

static const char *
sla_target_to_label (const char *target)
{
  if (g_strcmp0 (target, "first_reply") == 0)
    return _("First reply");
  if (g_strcmp0 (target, "next_reply") == 0)
    return _("Next reply");
  if (g_strcmp0 (target, "resolution") == 0)
    return _("Resolution");
  return NULL;
}

/* "Just now", "5 minutes ago", "3 hours ago", "2 days ago", then the date. */
static char *
format_relative (gint64 time_ms,
                 gint64 now_ms)
{
  gint64 seconds = (now_ms - time_ms) / 1000;
  int n;

  if (seconds < 60)
    return g_strdup (_("Just now"));

  if (seconds < 3600)
    {
      n = (int) (seconds / 60);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute ago", "%d minutes ago", n), n);
    }

  if (seconds < 86400)
    {
      n = (int) (seconds / 3600);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d hour ago", "%d hours ago", n), n);
    }

  if (seconds < 7 * 86400)
    {
      n = (int) (seconds / 86400);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d day ago", "%d days ago", n), n);
    }

  {
    g_autoptr(GDateTime) local = g_date_time_new_from_unix_local (time_ms / 1000);

    if (local == NULL)
      return g_strdup ("");

    /* Translators: a date, see the GDateTime format specifiers; "3 Mar 2026". */
    return g_date_time_format (local, _("%-d %b %Y"));
  }
}

/* An attachment can be opened only from a web address; anything else from the network
 * (a file: path, another program's scheme) is not handed to the desktop. */
static gboolean
attachment_can_open (const FdAttachment *attachment)
{
  g_autofree char *scheme = NULL;

  if (attachment->url == NULL || *attachment->url == '\0')
    return FALSE;

  scheme = g_uri_parse_scheme (attachment->url);
  return scheme != NULL && (g_ascii_strcasecmp (scheme, "https") == 0 ||
                            g_ascii_strcasecmp (scheme, "http") == 0);
}

/* }}} */
/* {{{ Message bodies and highlights */

/* Plain text, or with the search terms in bold; everything else is escaped, so text
 * from the network is never read as markup. */
static void
set_body (GtkLabel   *label,
          const char *body,
          GRegex     *highlight)
{
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GString) markup = NULL;
  gsize position = 0;

  if (highlight == NULL || !g_regex_match (highlight, body, 0, &match))
    {
      gtk_label_set_use_markup (label, FALSE);
      gtk_label_set_text (label, body);
      return;
    }

  markup = g_string_new (NULL);

  while (g_match_info_matches (match))
    {
      int start, end;
      g_autofree char *before = NULL;
      g_autofree char *word = NULL;

      if (!g_match_info_fetch_pos (match, 0, &start, &end) || end <= start)
        break;

      before = g_markup_escape_text (body + position, start - position);
      word = g_markup_escape_text (body + start, end - start);
      g_string_append (markup, before);
      g_string_append_printf (markup, "<b>%s</b>", word);
      position = end;

      if (!g_match_info_next (match, NULL))
        break;
    }

  {
    g_autofree char *rest = g_markup_escape_text (body + position, -1);

    g_string_append (markup, rest);
  }

  gtk_label_set_markup (label, markup->str);
}

static GRegex *
highlight_regex_new (const char * const *terms)
{
  g_autoptr(GString) pattern = g_string_new (NULL);

  if (terms == NULL)
    return NULL;

  for (guint i = 0; terms[i] != NULL; i++)
    {
      g_autofree char *escaped = NULL;

      if (*terms[i] == '\0' || !g_utf8_validate (terms[i], -1, NULL))
        continue;

      escaped = g_regex_escape_string (terms[i], -1);
      if (pattern->len > 0)
        g_string_append_c (pattern, '|');
      g_string_append (pattern, escaped);
    }

  if (pattern->len == 0)
    return NULL;

  return g_regex_new (pattern->str, G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
}

/* }}} */
/* {{{ Thread rows */

static void
message_row_free (MessageRow *data)
{
  g_free (data->send_state);
  g_free (data->body);
  g_free (data);
}

static MessageRow *
row_get_data (GtkListBoxRow *row)
{
  return g_object_get_data (G_OBJECT (row), "fd-message");
}

static void
update_time_label (GtkLabel *label,
                   gint64    time_ms,
                   gint64    now_ms)
{
  g_autofree char *relative = format_relative (time_ms, now_ms);
  g_autofree char *exact = _fd_sync_status_format_time (time_ms);

  gtk_label_set_label (label, relative);
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), exact);
}

static GtkWidget *
caption_new (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_add_css_class (label, "dim-label");

  return label;
}

static GtkWidget *
attachment_new (const FdAttachment *attachment)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *icon;
  GtkWidget *name;
  GtkWidget *size;
  GtkWidget *open;
  g_autoptr(GIcon) gicon = NULL;
  g_autofree char *size_text = g_format_size ((guint64) MAX (attachment->size, 0));
  const char *name_text = attachment->name != NULL && *attachment->name != '\0'
                          ? attachment->name : _("Unnamed attachment");

  if (attachment->content_type != NULL && *attachment->content_type != '\0')
    {
      g_autofree char *type = g_content_type_from_mime_type (attachment->content_type);

      if (type != NULL)
        gicon = g_content_type_get_symbolic_icon (type);
    }
  if (gicon == NULL)
    gicon = g_themed_icon_new ("mail-attachment-symbolic");

  icon = gtk_image_new_from_gicon (gicon);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Attachment"),
                                  -1);
  gtk_box_append (GTK_BOX (box), icon);

  name = gtk_label_new (name_text);
  gtk_label_set_xalign (GTK_LABEL (name), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (name), 48);
  gtk_widget_set_tooltip_text (name, name_text);
  gtk_box_append (GTK_BOX (box), name);

  size = caption_new (size_text);
  gtk_widget_add_css_class (size, "numeric");
  gtk_box_append (GTK_BOX (box), size);

  open = gtk_button_new_with_mnemonic (_("_Open"));
  gtk_widget_add_css_class (open, "flat");
  gtk_widget_set_valign (open, GTK_ALIGN_CENTER);
  if (attachment_can_open (attachment))
    {
      g_autofree char *tooltip = g_strdup_printf (_("Open %s"), name_text);

      gtk_actionable_set_action_name (GTK_ACTIONABLE (open), "conversation.open-attachment");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (open), "x", attachment->id);
      gtk_widget_set_tooltip_text (open, tooltip);
    }
  else
    {
      gtk_widget_set_sensitive (open, FALSE);
      gtk_widget_set_tooltip_text (open, _("The service did not give a download address for this file"));
    }
  gtk_box_append (GTK_BOX (box), open);

  gtk_widget_add_css_class (box, "fd-attachment");

  return box;
}

static GtkWidget *
send_state_new (const FdMessage *message)
{
  GtkWidget *box;

  if (g_strcmp0 (message->send_state, "sending") == 0)
    {
      GtkWidget *spinner = gtk_spinner_new ();

      box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      gtk_spinner_start (GTK_SPINNER (spinner));
      gtk_box_append (GTK_BOX (box), spinner);
      gtk_box_append (GTK_BOX (box), caption_new (_("Sending…")));
      gtk_widget_add_css_class (box, "fd-send-state");
      return box;
    }

  if (g_strcmp0 (message->send_state, "failed") == 0)
    {
      GtkWidget *icon_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-error-symbolic");
      GtkWidget *label = gtk_label_new (message->is_note ? _("Not added: the service refused it")
                                                         : _("Not sent: the service refused it"));
      GtkWidget *retry = gtk_button_new_with_mnemonic (_("_Retry"));

      box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Error"),
                                      -1);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_natural_wrap_mode (GTK_LABEL (label), GTK_NATURAL_WRAP_NONE);
      gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
      gtk_widget_set_valign (retry, GTK_ALIGN_CENTER);
      gtk_widget_set_valign (icon_box, GTK_ALIGN_CENTER);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (retry), "conversation.retry-send");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (retry), "x", message->id);
      /* A bare image beside a wrapping label makes GtkBox 4.8 misreport its height. */
      gtk_box_append (GTK_BOX (icon_box), icon);
      gtk_box_append (GTK_BOX (box), icon_box);
      gtk_box_append (GTK_BOX (box), label);
      gtk_box_append (GTK_BOX (box), retry);
      gtk_widget_add_css_class (box, "error");
      gtk_widget_add_css_class (box, "fd-send-state");
      return box;
    }

  return NULL;
}

static GtkWidget *
message_row_new (FdConversationView *self,
                 const FdMessage    *message,
                 gint64              now_ms)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  GtkWidget *names = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *avatar;
  GtkWidget *name;
  GtkWidget *kind;
  GtkWidget *time;
  GtkWidget *body;
  GtkWidget *state;
  MessageRow *data = g_new0 (MessageRow, 1);
  g_autofree char *kind_text = NULL;
  g_autofree char *description = NULL;
  const char *author = message->author_name != NULL && *message->author_name != '\0'
                       ? message->author_name : author_kind_to_label (message->author_kind);

  data->id = message->id;
  data->created_at = message->created_at;
  data->send_state = g_strdup (message->send_state);
  data->body = g_utf8_make_valid (message->body != NULL ? message->body : "", -1);

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_add_css_class (row, "fd-message");

  /* A note is set apart by its background, and by an icon and words. */
  if (message->is_note)
    {
      GtkWidget *note = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *label = gtk_label_new (_("Internal note"));

      gtk_widget_add_css_class (row, "fd-note");
      gtk_box_append (GTK_BOX (note), gtk_image_new_from_icon_name ("view-conceal-symbolic"));
      gtk_widget_add_css_class (label, "caption-heading");
      gtk_box_append (GTK_BOX (note), label);
      gtk_widget_add_css_class (note, "fd-note-label");
      gtk_box_append (GTK_BOX (box), note);
    }

  avatar = adw_avatar_new (36, author, TRUE);
  gtk_widget_set_valign (avatar, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (header), avatar);

  name = gtk_label_new (author);
  gtk_label_set_xalign (GTK_LABEL (name), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_set_tooltip_text (name, author);
  gtk_widget_add_css_class (name, "heading");
  gtk_box_append (GTK_BOX (names), name);

  /* Translators: who wrote a message and where: "Customer · Email". */
  kind_text = g_strdup_printf (_("%s · %s"), author_kind_to_label (message->author_kind),
                               fd_inbox_channel_to_label (self->detail != NULL ? self->detail->channel : NULL));
  kind = caption_new (kind_text);
  gtk_box_append (GTK_BOX (names), kind);

  gtk_widget_set_hexpand (names, TRUE);
  gtk_box_append (GTK_BOX (header), names);

  time = caption_new (NULL);
  gtk_widget_set_valign (time, GTK_ALIGN_START);
  gtk_widget_add_css_class (time, "numeric");
  update_time_label (GTK_LABEL (time), message->created_at, now_ms);
  gtk_box_append (GTK_BOX (header), time);
  gtk_box_append (GTK_BOX (box), header);

  body = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (body), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (body), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (body), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (body), TRUE);
  gtk_widget_add_css_class (body, "fd-message-body");
  set_body (GTK_LABEL (body), data->body, self->highlight);
  gtk_box_append (GTK_BOX (box), body);

  if (message->attachments != NULL && message->attachments->len > 0)
    {
      GtkWidget *attachments = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);

      for (guint i = 0; i < message->attachments->len; i++)
        gtk_box_append (GTK_BOX (attachments),
                        attachment_new (g_ptr_array_index (message->attachments, i)));
      gtk_widget_add_css_class (attachments, "fd-attachments");
      gtk_box_append (GTK_BOX (box), attachments);
    }

  state = send_state_new (message);
  if (state != NULL)
    gtk_box_append (GTK_BOX (box), state);

  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 14);
  gtk_widget_set_margin_end (box, 14);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);

  data->body_label = GTK_LABEL (body);
  data->time_label = GTK_LABEL (time);
  g_object_set_data_full (G_OBJECT (row), "fd-message", data, (GDestroyNotify) message_row_free);

  /* Translators: read out for a message: "Internal note by Maria Kim, Agent". */
  if (message->is_note)
    description = g_strdup_printf (_("Internal note by %s, %s"), author,
                                   author_kind_to_label (message->author_kind));
  else
    description = g_strdup_printf (_("Message from %s, %s"), author,
                                   author_kind_to_label (message->author_kind));
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description,
                                  -1);

  return row;
}

static guint
thread_count_rows (FdConversationView *self)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->thread));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LIST_BOX_ROW (child))
      n++;

  return n;
}

static void
thread_clear (FdConversationView *self)
{
  GtkListBoxRow *row;

  while ((row = gtk_list_box_get_row_at_index (self->thread, 0)) != NULL)
    gtk_list_box_remove (self->thread, GTK_WIDGET (row));
}

static void
update_earlier_button (FdConversationView *self,
                       guint               n_hidden)
{
  gtk_widget_set_visible (self->earlier_button, n_hidden > 0);

  if (n_hidden > 0)
    {
      guint n = MIN (n_hidden, THREAD_PAGE);
      g_autofree char *label = NULL;

      label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                            "Show %u Earlier Message",
                                            "Show %u Earlier Messages",
                                            n),
                               n);
      gtk_button_set_label (GTK_BUTTON (self->earlier_button), label);
    }
}

/* Shows the latest n_visible messages. Rows already shown are kept where they still
 * match (a reload appends, "Show earlier" prepends), so the scroll position and any
 * selection in them survive; a row whose send state changed is rebuilt. */
static void
thread_fill (FdConversationView *self)
{
  GPtrArray *messages = self->detail->messages;
  guint n = messages != NULL ? messages->len : 0;
  guint n_visible = MIN (self->n_visible, n);
  guint first = n - n_visible;
  guint n_rows = thread_count_rows (self);
  gint64 now = g_get_real_time () / 1000;
  guint offset = G_MAXUINT;

  if (n_rows > 0)
    {
      MessageRow *head = row_get_data (gtk_list_box_get_row_at_index (self->thread, 0));

      for (guint j = 0; j < n_visible; j++)
        {
          const FdMessage *message = g_ptr_array_index (messages, first + j);

          if (message->id == head->id)
            {
              offset = j;
              break;
            }
        }

      for (guint r = 0; offset != G_MAXUINT && r < n_rows; r++)
        {
          MessageRow *data = row_get_data (gtk_list_box_get_row_at_index (self->thread, r));

          if (offset + r >= n_visible ||
              ((const FdMessage *) g_ptr_array_index (messages, first + offset + r))->id != data->id)
            offset = G_MAXUINT;
        }
    }

  if (offset == G_MAXUINT)
    {
      thread_clear (self);
      offset = 0;
      n_rows = 0;
    }

  for (guint j = 0; j < offset; j++)
    gtk_list_box_insert (self->thread,
                         message_row_new (self, g_ptr_array_index (messages, first + j), now),
                         (int) j);

  for (guint r = 0; r < n_rows; r++)
    {
      guint index = offset + r;
      const FdMessage *message = g_ptr_array_index (messages, first + index);
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->thread, (int) index);
      MessageRow *data = row_get_data (row);

      if (g_strcmp0 (data->send_state, message->send_state) != 0)
        {
          gtk_list_box_remove (self->thread, GTK_WIDGET (row));
          gtk_list_box_insert (self->thread, message_row_new (self, message, now), (int) index);
        }
    }

  for (guint j = offset + n_rows; j < n_visible; j++)
    gtk_list_box_append (self->thread, message_row_new (self, g_ptr_array_index (messages, first + j), now));

  update_earlier_button (self, first);
}

static void
thread_refresh_times (FdConversationView *self)
{
  gint64 now = g_get_real_time () / 1000;
  GtkListBoxRow *row;

  for (int i = 0; (row = gtk_list_box_get_row_at_index (self->thread, i)) != NULL; i++)
    {
      MessageRow *data = row_get_data (row);

      update_time_label (data->time_label, data->created_at, now);
    }
}

static void
earlier_clicked_cb (FdConversationView *self,
                    GtkButton          *button)
{
  if (self->detail == NULL)
    return;

  self->stick_to_end = FALSE;
  self->n_visible += THREAD_PAGE;
  thread_fill (self);
}

static gboolean
scroll_to_end_tick_cb (GtkWidget     *widget,
                       GdkFrameClock *frame_clock,
                       gpointer       user_data)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (widget);
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);

  self->scroll_tick = 0;

  if (self->stick_to_end)
    gtk_adjustment_set_value (adjustment,
                              gtk_adjustment_get_upper (adjustment) -
                              gtk_adjustment_get_page_size (adjustment));

  return G_SOURCE_REMOVE;
}

/* The thread grew (or first got its size). A value set during the allocation that
 * reported it would not move the content, so it is set on the next frame. */
static void
adjustment_changed_cb (FdConversationView *self,
                       GtkAdjustment      *adjustment)
{
  if (self->stick_to_end && self->scroll_tick == 0)
    self->scroll_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), scroll_to_end_tick_cb, NULL, NULL);
}

static void
adjustment_value_changed_cb (FdConversationView *self,
                             GtkAdjustment      *adjustment)
{
  double end = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment);

  self->stick_to_end = gtk_adjustment_get_value (adjustment) >= end - 8;
}

/* }}} */
/* {{{ Header */

static void
meta_clear (FdConversationView *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->meta_box))) != NULL)
    gtk_flow_box_remove (self->meta_box, child);
}

static GtkWidget *
meta_add (FdConversationView *self,
          const char         *icon_name,
          const char         *text,
          const char         *tooltip)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (text);
  GtkWidget *child;

  if (icon_name != NULL)
    {
      GtkWidget *icon = g_object_new (GTK_TYPE_IMAGE,
                                      "icon-name", icon_name,
                                      "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                      NULL);

      gtk_box_append (GTK_BOX (box), icon);
    }

  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_tooltip_text (box, tooltip != NULL ? tooltip : text);

  /* The flow box lays its children out in columns; each keeps its own width. */
  gtk_widget_set_halign (box, GTK_ALIGN_START);
  gtk_flow_box_append (self->meta_box, box);
  child = gtk_widget_get_parent (box);
  gtk_widget_set_focusable (child, FALSE);

  return box;
}

static void
update_meta (FdConversationView *self)
{
  const FdConversationDetail *detail = self->detail;
  gint64 now = g_get_real_time () / 1000;
  g_autofree char *status = NULL;
  g_autofree char *assignee = NULL;
  FdSlaState sla;
  GtkWidget *box;

  meta_clear (self);

  if (detail == NULL)
    return;

  /* The SLA first: it is what the agent acts on. An icon and words, not colour alone. */
  sla = fd_sla_state_at (detail->sla_due_at, detail->sla_risk_at, now);
  if (sla != FD_SLA_NONE && detail->sla_due_at > 0)
    {
      g_autofree char *countdown = fd_sla_format_countdown (detail->sla_due_at, now);
      g_autofree char *due = _fd_sync_status_format_time (detail->sla_due_at);
      g_autofree char *text = NULL;
      g_autofree char *tooltip = NULL;
      const char *target = sla_target_to_label (detail->sla_target);
      const char *icon_name;
      const char *style_class;
      GtkWidget *label;

      switch (sla)
        {
        case FD_SLA_BREACHED:
          icon_name = "dialog-warning-symbolic";
          style_class = "error";
          break;

        case FD_SLA_AT_RISK:
          icon_name = "alarm-symbolic";
          style_class = "warning";
          break;

        case FD_SLA_ON_TRACK:
        case FD_SLA_NONE:
        default:
          icon_name = "emblem-ok-symbolic";
          style_class = "success";
          break;
        }

      if (target != NULL)
        /* Translators: an SLA state and the target it is about: "At risk · First reply". */
        text = g_strdup_printf (_("%s · %s"), fd_sla_state_to_label (sla), target);
      else
        text = g_strdup (fd_sla_state_to_label (sla));

      /* Translators: a tooltip; %s is a date and time with its time zone. */
      tooltip = g_strdup_printf (_("Due on %s"), due);

      box = meta_add (self, icon_name, text, tooltip);
      gtk_widget_add_css_class (box, style_class);
      gtk_widget_add_css_class (box, "fd-sla");

      label = gtk_label_new (countdown);
      gtk_widget_add_css_class (label, "numeric");
      gtk_widget_add_css_class (label, "heading");
      gtk_box_append (GTK_BOX (box), label);
    }

  if (g_strcmp0 (detail->status, "snoozed") == 0 && detail->snoozed_until > 0)
    {
      g_autofree char *until = _fd_sync_status_format_time (detail->snoozed_until);

      /* Translators: %s is a date and time with its time zone. */
      status = g_strdup_printf (_("Snoozed until %s"), until);
    }
  else if (g_strcmp0 (detail->status, "pending") == 0)
    status = g_strdup (_("Pending"));
  else if (g_strcmp0 (detail->status, "resolved") == 0)
    status = g_strdup (_("Resolved"));
  else if (g_strcmp0 (detail->status, "snoozed") == 0)
    status = g_strdup (_("Snoozed"));
  else
    status = g_strdup (_("Open"));
  meta_add (self, NULL, status, NULL);

  meta_add (self, NULL, priority_to_label (detail->priority), NULL);

  if (detail->assignee_name != NULL && *detail->assignee_name != '\0')
    /* Translators: %s is an agent's name. */
    assignee = g_strdup_printf (_("Assigned to %s"), detail->assignee_name);
  else
    assignee = g_strdup (_("Unassigned"));
  meta_add (self, "avatar-default-symbolic", assignee, NULL);

  meta_add (self, fd_inbox_channel_to_icon (detail->channel), fd_inbox_channel_to_label (detail->channel), NULL);

  for (guint i = 0; detail->tags != NULL && detail->tags[i] != NULL; i++)
    {
      /* Translators: a tooltip on a tag of the conversation. */
      g_autofree char *tooltip = g_strdup_printf (_("Tagged “%s”"), detail->tags[i]);

      box = meta_add (self, NULL, detail->tags[i], tooltip);
      gtk_widget_add_css_class (box, "badge");
    }
}

static gboolean
refresh_cb (gpointer user_data)
{
  FdConversationView *self = user_data;

  if (self->detail != NULL)
    {
      update_meta (self);
      thread_refresh_times (self);
    }

  return G_SOURCE_CONTINUE;
}

/* }}} */
/* {{{ Actions */

static void
update_actions (FdConversationView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  const char *page = gtk_stack_get_visible_child_name (self->stack);
  gboolean loaded = self->detail != NULL && g_strcmp0 (page, "conversation") == 0;
  /* The agent may press r or n as soon as a conversation is opened, before it shows. */
  gboolean opening = loaded || (self->conversation_id != 0 && g_strcmp0 (page, "loading") == 0);
  gboolean can_send = loaded &&
                      fd_composer_get_has_text (self->composer) &&
                      !fd_composer_get_sending (self->composer);

  gtk_widget_action_set_enabled (widget, "conversation.reply", opening);
  gtk_widget_action_set_enabled (widget, "conversation.note", opening);
  gtk_widget_action_set_enabled (widget, "conversation.send", can_send);
  gtk_widget_action_set_enabled (widget, "conversation.send-and-resolve", can_send);
  gtk_widget_action_set_enabled (widget, "conversation.insert-macro", loaded);
  gtk_widget_action_set_enabled (widget, "conversation.toggle-context", loaded);
  gtk_widget_action_set_enabled (widget, "conversation.open-attachment", loaded);
  gtk_widget_action_set_enabled (widget, "conversation.open-recent", loaded);
  gtk_widget_action_set_enabled (widget, "conversation.retry-send", loaded);
}

static void
show_error_message (FdConversationView *self,
                    const char         *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (FD_IS_WINDOW (root))
    fd_window_add_toast (FD_WINDOW (root), message, NULL);
  else
    fd_composer_show_error (self->composer, message);
}

static void
focus_composer (FdConversationView *self,
                gboolean            is_note)
{
  if (self->detail == NULL)
    {
      self->pending_focus = is_note ? FOCUS_NOTE : FOCUS_REPLY;
      return;
    }

  self->pending_focus = FOCUS_NONE;

  /* A folded context panel covers the composer. */
  if (adw_flap_get_folded (self->flap))
    adw_flap_set_reveal_flap (self->flap, FALSE);

  fd_composer_set_is_note (self->composer, is_note);
  fd_composer_focus (self->composer);
}

static void
reply_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  focus_composer (FD_CONVERSATION_VIEW (widget), FALSE);
}

static void
note_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  focus_composer (FD_CONVERSATION_VIEW (widget), TRUE);
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (widget);

  fd_composer_send (self->composer, g_str_equal (action_name, "conversation.send-and-resolve"));
}

static void
insert_macro_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (widget);
  const char *macro_id = g_variant_get_string (parameter, NULL);

  if (adw_flap_get_folded (self->flap))
    adw_flap_set_reveal_flap (self->flap, FALSE);

  if (!fd_composer_preview_macro (self->composer, macro_id))
    show_error_message (self, _("This macro no longer exists."));
}

static void
toggle_context_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (widget);

  adw_flap_set_reveal_flap (self->flap, !adw_flap_get_reveal_flap (self->flap));
}

static const FdAttachment *
find_attachment (FdConversationView *self,
                 gint64              attachment_id)
{
  for (guint i = 0; self->detail != NULL && i < self->detail->messages->len; i++)
    {
      const FdMessage *message = g_ptr_array_index (self->detail->messages, i);

      for (guint j = 0; message->attachments != NULL && j < message->attachments->len; j++)
        {
          const FdAttachment *attachment = g_ptr_array_index (message->attachments, j);

          if (attachment->id == attachment_id)
            return attachment;
        }
    }

  return NULL;
}

static void
open_attachment_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (widget);
  const FdAttachment *attachment = find_attachment (self, g_variant_get_int64 (parameter));
  GtkRoot *root;

  if (attachment == NULL || !attachment_can_open (attachment))
    {
      show_error_message (self, _("This attachment cannot be opened: the service did not give a download address for it."));
      return;
    }

  root = gtk_widget_get_root (widget);
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, attachment->url, GDK_CURRENT_TIME);
}

static void
open_recent_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  g_signal_emit (widget, signals[OPEN_CONVERSATION], 0, g_variant_get_int64 (parameter));
}

static void
context_open_conversation_cb (FdConversationView *self,
                              gint64              conversation_id,
                              FdContextPanel     *panel)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "conversation.open-recent", "x", conversation_id);
}

/* The outbox entry of a failed message is found by the message, then put back in line. */
static gboolean
retry_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 message_id = *(gint64 *) job_data;
  gint64 outbox_id = 0;

  stmt = fd_store_prepare (db,
                           "SELECT id FROM outbox WHERE message_id = ?1 AND state = 'failed' "
                           "ORDER BY id DESC LIMIT 1",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, message_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    outbox_id = sqlite3_column_int64 (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (outbox_id == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("This message is no longer waiting to be sent."));
      return FALSE;
    }

  if (!fd_outbox_retry (db, outbox_id, error))
    return FALSE;

  *result = GINT_TO_POINTER (TRUE);
  return TRUE;
}

static void
retry_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(FdConversationView) self = user_data;
  g_autoptr(GError) error = NULL;

  fd_store_run_finish (FD_STORE (object), result, &error);

  if (self->stack == NULL)
    return;

  if (error != NULL)
    {
      g_autofree char *message = g_strdup_printf (_("The message could not be sent again. %s"),
                                                  error->message);

      show_error_message (self, message);
    }

  fd_conversation_view_reload (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
retry_send_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (widget);
  gint64 message_id = g_variant_get_int64 (parameter);

  if (self->store == NULL)
    return;

  fd_store_run_async (self->store, retry_job, g_memdup2 (&message_id, sizeof message_id), g_free,
                      NULL, NULL, retry_done_cb, g_object_ref (self));
}

/* }}} */
/* {{{ Loading */

static gboolean
show_spinner_cb (gpointer user_data)
{
  FdConversationView *self = user_data;

  self->spinner_source = 0;
  gtk_widget_set_visible (GTK_WIDGET (self->loading_spinner), TRUE);
  gtk_spinner_start (self->loading_spinner);

  return G_SOURCE_REMOVE;
}

static void
stop_spinner (FdConversationView *self)
{
  g_clear_handle_id (&self->spinner_source, g_source_remove);
  gtk_spinner_stop (self->loading_spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->loading_spinner), FALSE);
}

static void
show_detail (FdConversationView *self,
             gboolean            reload)
{
  const FdConversationDetail *detail = self->detail;
  const char *subject = detail->subject != NULL && *detail->subject != '\0'
                        ? detail->subject : _("(no subject)");

  gtk_label_set_text (self->subject_label, subject);
  update_meta (self);
  fd_context_panel_set_detail (self->context_panel, detail);
  fd_composer_set_detail (self->composer, detail);

  if (!reload)
    {
      thread_clear (self);
      self->n_visible = THREAD_PAGE;
      self->stick_to_end = TRUE;
    }
  else if (detail->messages->len > self->n_total)
    {
      /* New messages join the ones shown rather than pushing the first ones out. */
      self->n_visible += detail->messages->len - self->n_total;
    }
  self->n_total = detail->messages->len;

  thread_fill (self);

  gtk_stack_set_visible_child_name (self->stack, "conversation");
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(FdConversationView) self = user_data;
  g_autoptr(GError) error = NULL;
  FdConversationDetail *detail;
  FdConversationDetail *old;
  gboolean reload;

  detail = fd_conversation_load_finish (FD_STORE (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->stack == NULL)
    {
      g_clear_pointer (&detail, fd_conversation_detail_free);
      return;
    }

  /* An answer for a conversation no longer shown is dropped. */
  if (detail != NULL && detail->id != self->conversation_id)
    {
      fd_conversation_detail_free (detail);
      return;
    }

  g_clear_object (&self->load_cancellable);
  stop_spinner (self);

  if (detail == NULL)
    {
      /* A failed reload keeps what is shown, and a toast says why it is not fresh;
       * a conversation that is gone is not shown any more. */
      if (self->detail != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_autofree char *message = g_strdup_printf (_("The conversation could not be read again. %s"),
                                                      error != NULL ? error->message : "");

          show_error_message (self, message);
          return;
        }

      if (self->detail != NULL)
        {
          g_clear_pointer (&self->detail, fd_conversation_detail_free);
          thread_clear (self);
          fd_context_panel_set_detail (self->context_panel, NULL);
          fd_composer_set_detail (self->composer, NULL);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DETAIL]);
        }

      self->pending_focus = FOCUS_NONE;
      gtk_label_set_text (self->error_label,
                          error != NULL ? error->message : _("The conversation was not found."));
      gtk_stack_set_visible_child_name (self->stack, "error");
      update_actions (self);
      return;
    }

  old = self->detail;
  reload = old != NULL && old->id == detail->id;
  self->detail = detail;

  show_detail (self, reload);
  g_clear_pointer (&old, fd_conversation_detail_free);

  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DETAIL]);

  if (self->pending_focus != FOCUS_NONE)
    focus_composer (self, self->pending_focus == FOCUS_NOTE);
}

static void
start_load (FdConversationView *self,
            gboolean            reload)
{
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);

  if (!reload)
    {
      stop_spinner (self);
      self->pending_focus = FOCUS_NONE;

      if (self->detail != NULL)
        {
          g_clear_pointer (&self->detail, fd_conversation_detail_free);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DETAIL]);
        }

      thread_clear (self);
      meta_clear (self);
      fd_context_panel_set_detail (self->context_panel, NULL);
      fd_composer_set_detail (self->composer, NULL);

      if (self->conversation_id == 0)
        {
          gtk_stack_set_visible_child_name (self->stack, "empty");
          update_actions (self);
          return;
        }

      gtk_stack_set_visible_child_name (self->stack, "loading");
      self->spinner_source = g_timeout_add (SPINNER_DELAY_MS, show_spinner_cb, self);
      update_actions (self);
    }

  if (self->store == NULL || self->conversation_id == 0)
    return;

  self->load_cancellable = g_cancellable_new ();
  fd_conversation_load_async (self->store, self->conversation_id, self->load_cancellable,
                              load_cb, g_object_ref (self));
}

static void
retry_load_clicked_cb (FdConversationView *self,
                       GtkButton          *button)
{
  start_load (self, FALSE);
}

static void
composer_sent_cb (FdConversationView *self,
                  gboolean            resolved,
                  FdComposer         *composer)
{
  /* The agent wants to see what was just sent. */
  self->stick_to_end = TRUE;
  fd_conversation_view_reload (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
composer_notify_cb (FdConversationView *self,
                    GParamSpec         *pspec,
                    FdComposer         *composer)
{
  update_actions (self);
}

/* }}} */
/* {{{ Public API */

void
fd_conversation_view_set_store (FdConversationView *self,
                                FdStore            *store)
{
  g_return_if_fail (FD_IS_CONVERSATION_VIEW (self));
  g_return_if_fail (store == NULL || FD_IS_STORE (store));

  if (self->store == store)
    return;

  g_set_object (&self->store, store);
  fd_composer_set_store (self->composer, store);

  if (self->conversation_id != 0)
    {
      gint64 id = self->conversation_id;

      /* The composer reads the draft from the new store. */
      fd_composer_set_conversation (self->composer, 0);
      fd_composer_set_conversation (self->composer, id);
      start_load (self, FALSE);
    }
}

void
fd_conversation_view_load (FdConversationView *self,
                           gint64              conversation_id)
{
  g_return_if_fail (FD_IS_CONVERSATION_VIEW (self));

  if (conversation_id < 0)
    conversation_id = 0;

  if (conversation_id != 0 && conversation_id == self->conversation_id && self->detail != NULL)
    {
      fd_conversation_view_reload (self);
      return;
    }

  fd_composer_set_conversation (self->composer, conversation_id);

  if (self->conversation_id != conversation_id)
    {
      self->conversation_id = conversation_id;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONVERSATION_ID]);
    }

  start_load (self, FALSE);
}

void
fd_conversation_view_reload (FdConversationView *self)
{
  g_return_if_fail (FD_IS_CONVERSATION_VIEW (self));

  if (self->conversation_id == 0)
    return;

  /* The first load, still on its way, brings fresh data anyway. */
  if (self->detail == NULL && self->load_cancellable != NULL)
    return;

  start_load (self, self->detail != NULL && self->detail->id == self->conversation_id);
}

gint64
fd_conversation_view_get_conversation_id (FdConversationView *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_VIEW (self), 0);

  return self->conversation_id;
}

const FdConversationDetail *
fd_conversation_view_get_detail (FdConversationView *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_VIEW (self), NULL);

  return self->detail;
}

void
fd_conversation_view_set_highlight (FdConversationView *self,
                                    const char * const *terms)
{
  GtkListBoxRow *row;

  g_return_if_fail (FD_IS_CONVERSATION_VIEW (self));

  g_clear_pointer (&self->highlight, g_regex_unref);
  self->highlight = highlight_regex_new (terms);

  for (int i = 0; (row = gtk_list_box_get_row_at_index (self->thread, i)) != NULL; i++)
    {
      MessageRow *data = row_get_data (row);

      set_body (data->body_label, data->body, self->highlight);
    }
}

void
fd_conversation_view_set_macros (FdConversationView *self,
                                 GListModel         *macros)
{
  g_return_if_fail (FD_IS_CONVERSATION_VIEW (self));
  g_return_if_fail (macros == NULL || G_IS_LIST_MODEL (macros));

  g_clear_object (&self->macros);
  if (macros != NULL)
    self->macros = g_object_ref (macros);
  else
    self->macros = G_LIST_MODEL (fd_macro_starter_set ());

  fd_composer_set_macros (self->composer, self->macros);
}

GListModel *
fd_conversation_view_get_macros (FdConversationView *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_VIEW (self), NULL);

  return self->macros;
}

void
fd_conversation_view_save_draft (FdConversationView *self)
{
  g_return_if_fail (FD_IS_CONVERSATION_VIEW (self));

  fd_composer_save_draft (self->composer);
}

GtkTextView *
_fd_conversation_view_get_composer_text (FdConversationView *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_VIEW (self), NULL);

  return fd_composer_get_text_view (self->composer);
}

GtkListBox *
_fd_conversation_view_get_thread (FdConversationView *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_VIEW (self), NULL);

  return self->thread;
}

/* }}} */
/* {{{ GObject */

static void
fd_conversation_view_map (GtkWidget *widget)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (widget);

  GTK_WIDGET_CLASS (fd_conversation_view_parent_class)->map (widget);

  if (self->refresh_source == 0)
    self->refresh_source = g_timeout_add_seconds (REFRESH_SECONDS, refresh_cb, self);
  refresh_cb (self);
}

static void
fd_conversation_view_unmap (GtkWidget *widget)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (widget);

  g_clear_handle_id (&self->refresh_source, g_source_remove);

  GTK_WIDGET_CLASS (fd_conversation_view_parent_class)->unmap (widget);
}

static void
fd_conversation_view_dispose (GObject *object)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (object);

  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_handle_id (&self->spinner_source, g_source_remove);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->scroll_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->scroll_tick);
  self->scroll_tick = 0;

  /* The composer writes its draft as it goes; the store outlives this view if needed. */
  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_CONVERSATION_VIEW);

  g_clear_pointer (&self->detail, fd_conversation_detail_free);
  g_clear_pointer (&self->highlight, g_regex_unref);
  g_clear_object (&self->macros);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (fd_conversation_view_parent_class)->dispose (object);
}

static void
fd_conversation_view_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  FdConversationView *self = FD_CONVERSATION_VIEW (object);

  switch (prop_id)
    {
    case PROP_DETAIL:
      g_value_set_pointer (value, self->detail);
      break;

    case PROP_CONVERSATION_ID:
      g_value_set_int64 (value, self->conversation_id);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_conversation_view_class_init (FdConversationViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_conversation_view_dispose;
  object_class->get_property = fd_conversation_view_get_property;

  widget_class->map = fd_conversation_view_map;
  widget_class->unmap = fd_conversation_view_unmap;

  properties[PROP_DETAIL] =
    g_param_spec_pointer ("detail", NULL, NULL,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CONVERSATION_ID] =
    g_param_spec_int64 ("conversation-id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  signals[OPEN_CONVERSATION] =
    g_signal_new ("open-conversation",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT64);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/inbox/fd-conversation-view.ui");
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, stack);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, error_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, flap);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, subject_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, context_button);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, meta_box);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, scroller);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, earlier_button);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, thread);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, composer);
  gtk_widget_class_bind_template_child (widget_class, FdConversationView, context_panel);
  gtk_widget_class_bind_template_callback (widget_class, retry_load_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, earlier_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, composer_sent_cb);
  gtk_widget_class_bind_template_callback (widget_class, composer_notify_cb);
  gtk_widget_class_bind_template_callback (widget_class, context_open_conversation_cb);

  gtk_widget_class_install_action (widget_class, "conversation.reply", NULL, reply_action);
  gtk_widget_class_install_action (widget_class, "conversation.note", NULL, note_action);
  gtk_widget_class_install_action (widget_class, "conversation.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "conversation.send-and-resolve", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "conversation.insert-macro", "s", insert_macro_action);
  gtk_widget_class_install_action (widget_class, "conversation.toggle-context", NULL, toggle_context_action);
  gtk_widget_class_install_action (widget_class, "conversation.open-attachment", "x", open_attachment_action);
  gtk_widget_class_install_action (widget_class, "conversation.open-recent", "x", open_recent_action);
  gtk_widget_class_install_action (widget_class, "conversation.retry-send", "x", retry_send_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, 0, "conversation.reply", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, 0, "conversation.note", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "conversation.send-and-resolve", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK,
                                       "conversation.send-and-resolve", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "conversation.toggle-context", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "fdconversationview");

  g_type_ensure (FD_TYPE_COMPOSER);
  g_type_ensure (FD_TYPE_CONTEXT_PANEL);
}

static void
fd_conversation_view_init (FdConversationView *self)
{
  GtkAdjustment *adjustment;

  gtk_widget_init_template (GTK_WIDGET (self));

  g_object_bind_property (self->flap, "reveal-flap",
                          self->context_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);

  adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  g_signal_connect_object (adjustment, "changed",
                           G_CALLBACK (adjustment_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (adjustment, "value-changed",
                           G_CALLBACK (adjustment_value_changed_cb), self, G_CONNECT_SWAPPED);

  fd_conversation_view_set_macros (self, NULL);

  gtk_stack_set_visible_child_name (self->stack, "empty");
  update_actions (self);
}

GtkWidget *
fd_conversation_view_new (void)
{
  return g_object_new (FD_TYPE_CONVERSATION_VIEW, NULL);
}

/* }}} */
