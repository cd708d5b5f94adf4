/* fd-conversation-row.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-conversation-row"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fd-conversation-row.h"
#include "fd-sla.h"

/* The row lays out its children itself, in four lines beside the channel icon:
 *   contact and organisation, badge ............ age
 *   subject
 *   snippet
 *   SLA, priority, tags ................... assignee
 * A row of boxes cost several times as much to build, bind and measure, and the list
 * keeps about 200 rows alive. */
#define ICON_SPACING     12
#define LINE_SPACING     3
#define ITEM_SPACING     6
#define PAIR_SPACING     4
/* Every line keeps this height, so a placeholder row is as tall as a loaded one. */
#define LINE_MIN_HEIGHT  20
#define N_LINES          4

typedef enum {
  PRIORITY_NORMAL,
  PRIORITY_HIGH,
  PRIORITY_URGENT,
} Priority;

struct _FdConversationRow
{
  GtkWidget              parent_instance;

  FdConversationSummary *summary;
  gulong                 notify_id;

  /* What the style classes and icons show now, so a bind changes only what differs. */
  const char            *channel_icon_name;
  FdSlaState             sla_state;
  Priority               priority;
  gboolean               badge_accent;

  /* Template widgets */
  GtkWidget             *channel_icon;
  GtkWidget             *header_label;
  GtkWidget             *badge_label;
  GtkWidget             *age_label;
  GtkWidget             *subject_label;
  GtkWidget             *snippet_label;
  GtkWidget             *sla_icon;
  GtkWidget             *sla_label;
  GtkWidget             *priority_icon;
  GtkWidget             *priority_label;
  GtkWidget             *tags_label;
  GtkWidget             *assignee_icon;
  GtkWidget             *assignee_label;
};

G_DEFINE_FINAL_TYPE (FdConversationRow, fd_conversation_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SUMMARY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* One timer for every mapped row: ages and countdowns move by the minute, and rows
 * scrolled out of sight are brought up to date when they are mapped again. */
static GList *mapped_rows;
static guint minute_source;

static const char *
sla_state_class (FdSlaState state)
{
  switch (state)
    {
    case FD_SLA_ON_TRACK:
      return "fd-sla-on-track";
    case FD_SLA_AT_RISK:
      return "fd-sla-at-risk";
    case FD_SLA_BREACHED:
      return "fd-sla-breached";
    case FD_SLA_NONE:
    default:
      return NULL;
    }
}

static const char *
sla_state_icon (FdSlaState state)
{
  switch (state)
    {
    case FD_SLA_AT_RISK:
      return "appointment-soon-symbolic";
    case FD_SLA_BREACHED:
      return "appointment-missed-symbolic";
    case FD_SLA_ON_TRACK:
    case FD_SLA_NONE:
    default:
      return "alarm-symbolic";
    }
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

char *
_fd_conversation_row_format_age (gint64 then_ms,
                                 gint64 now_ms)
{
  gint64 minutes;

  minutes = MAX (0, now_ms - then_ms) / (60 * 1000);

  if (minutes < 1)
    return g_strdup (C_("age", "now"));
  if (minutes < 60)
    /* Translators: an age in minutes, kept short for a list ("5 min"). */
    return g_strdup_printf (C_("age", "%d min"), (int) minutes);
  if (minutes < 24 * 60)
    /* Translators: an age in hours, kept short for a list ("3 h"). */
    return g_strdup_printf (C_("age", "%d h"), (int) (minutes / 60));

  /* Translators: an age in days, kept short for a list ("2 d"). */
  return g_strdup_printf (C_("age", "%d d"), (int) (minutes / (24 * 60)));
}

static char *
format_exact_time (gint64 ms)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  utc = g_date_time_new_from_unix_utc (ms / 1000);
  if (utc == NULL)
    return NULL;
  local = g_date_time_to_local (utc);

  /* Translators: a date and time with its time zone, see g_date_time_format(). */
  return g_date_time_format (local, _("%-d %B %Y, %H:%M %Z"));
}




/* Words kept before the first match, so it is in sight in a narrow list. */
#define SNIPPET_LEAD_CHARS 24

/* A snippet is the start of a message, or in a search the text around a match: on one
 * line, its line breaks read as spaces, and a match far into it is brought forward. */
static char *
snippet_markup (const char *snippet)
{
  g_autofree char *flat = g_strdup (snippet != NULL ? snippet : "");
  const char *text;
  const char *mark;

  for (char *p = flat; *p != '\0'; p++)
    {
      if (*p == '\n' || *p == '\r' || *p == '\t')
        *p = ' ';
    }
  text = g_strstrip (flat);

  mark = strstr (text, FD_SEARCH_MARK_START);
  if (mark != NULL && g_utf8_strlen (text, mark - text) > SNIPPET_LEAD_CHARS)
    {
      const char *start = g_utf8_offset_to_pointer (mark, -SNIPPET_LEAD_CHARS);
      g_autofree char *shortened = NULL;

      /* Start at a word, after a space. */
      while (start < mark && *start != ' ')
        start = g_utf8_next_char (start);
      while (start < mark && *start == ' ')
        start++;

      shortened = g_strconcat ("…", start, NULL);
      return fd_search_snippet_to_markup (shortened);
    }

  return fd_search_snippet_to_markup (text);
}

/* Sets a label's text (or markup) only when it differs: a new text means a new layout
 * and a new size request. */
static void
set_label_text (GtkWidget  *label,
                const char *text)
{
  if (g_strcmp0 (gtk_label_get_label (GTK_LABEL (label)), text) != 0)
    gtk_label_set_label (GTK_LABEL (label), text);
}

static void
set_icon_name (GtkWidget  *image,
               const char *icon_name)
{
  if (g_strcmp0 (gtk_image_get_icon_name (GTK_IMAGE (image)), icon_name) != 0)
    gtk_image_set_from_icon_name (GTK_IMAGE (image), icon_name);
}

static void
set_visible (GtkWidget *widget,
             gboolean   visible)
{
  if (gtk_widget_get_visible (widget) != visible)
    gtk_widget_set_visible (widget, visible);
}

static FdSlaState
get_sla_state (FdConversationRow *self,
               gint64             now,
               gint64            *due_at)
{
  FdSlaState state;

  *due_at = fd_conversation_summary_get_sla_due_at (self->summary);
  state = *due_at > 0
    ? fd_sla_state_at (*due_at, fd_conversation_summary_get_sla_risk_at (self->summary), now)
    : FD_SLA_NONE;

  return fd_sla_state_to_label (state) != NULL ? state : FD_SLA_NONE;
}

static void
fd_conversation_row_update_sla (FdConversationRow *self,
                                gint64             now,
                                GString           *description)
{
  g_autofree char *countdown = NULL;
  const char *old_class;
  const char *new_class;
  gint64 due_at;
  FdSlaState state;

  state = get_sla_state (self, now, &due_at);

  if (state != self->sla_state)
    {
      old_class = sla_state_class (self->sla_state);
      new_class = sla_state_class (state);

      if (old_class != NULL)
        {
          gtk_widget_remove_css_class (self->sla_icon, old_class);
          gtk_widget_remove_css_class (self->sla_label, old_class);
        }
      if (new_class != NULL)
        {
          gtk_widget_add_css_class (self->sla_icon, new_class);
          gtk_widget_add_css_class (self->sla_label, new_class);
        }

      /* Each state has its own icon; the words are in the tooltip and the row's
       * accessible description, so the narrow list keeps room for the subject. */
      set_icon_name (self->sla_icon, sla_state_icon (state));
      set_visible (self->sla_icon, state != FD_SLA_NONE);
      set_visible (self->sla_label, state != FD_SLA_NONE);
      self->sla_state = state;
    }

  if (state == FD_SLA_NONE)
    return;

  countdown = fd_sla_format_countdown (due_at, now);
  set_label_text (self->sla_label, countdown);

  if (description != NULL)
    g_string_append_printf (description, " %s (%s).", fd_sla_state_to_label (state), countdown);
}

static gint64
get_activity_time (FdConversationRow *self)
{
  gint64 at = fd_conversation_summary_get_last_message_at (self->summary);

  return at > 0 ? at : fd_conversation_summary_get_created_at (self->summary);
}

void
fd_conversation_row_update_time (FdConversationRow *self,
                                 gint64             now)
{
  g_autofree char *age = NULL;

  g_return_if_fail (FD_IS_CONVERSATION_ROW (self));

  if (self->summary == NULL || !fd_conversation_summary_get_loaded (self->summary))
    return;

  age = _fd_conversation_row_format_age (get_activity_time (self), now);
  set_label_text (self->age_label, age);

  fd_conversation_row_update_sla (self, now, NULL);
}

static void
set_priority (FdConversationRow *self,
              Priority           priority)
{
  if (priority == self->priority)
    return;

  gtk_widget_remove_css_class (self->priority_icon, "fd-priority-urgent");
  gtk_widget_remove_css_class (self->priority_label, "fd-priority-urgent");
  gtk_widget_remove_css_class (self->priority_icon, "fd-priority-high");
  gtk_widget_remove_css_class (self->priority_label, "fd-priority-high");

  if (priority == PRIORITY_URGENT)
    {
      set_icon_name (self->priority_icon, "emblem-important-symbolic");
      set_label_text (self->priority_label, _("Urgent"));
      gtk_widget_add_css_class (self->priority_icon, "fd-priority-urgent");
      gtk_widget_add_css_class (self->priority_label, "fd-priority-urgent");
    }
  else if (priority == PRIORITY_HIGH)
    {
      set_icon_name (self->priority_icon, "go-up-symbolic");
      set_label_text (self->priority_label, _("High"));
      gtk_widget_add_css_class (self->priority_icon, "fd-priority-high");
      gtk_widget_add_css_class (self->priority_label, "fd-priority-high");
    }

  set_visible (self->priority_icon, priority != PRIORITY_NORMAL);
  set_visible (self->priority_label, priority != PRIORITY_NORMAL);
  self->priority = priority;
}

static void
fd_conversation_row_clear (FdConversationRow *self)
{
  /* The lines keep their height with no text, so a row that is still loading is
   * exactly as tall as a loaded one and the list does not jump when it fills in. */
  gtk_widget_set_opacity (GTK_WIDGET (self), 0);
  set_label_text (self->header_label, "");
  set_label_text (self->age_label, "");
  set_label_text (self->subject_label, "");
  set_label_text (self->snippet_label, "");
  set_label_text (self->tags_label, "");
  set_label_text (self->assignee_label, "");
  set_visible (self->badge_label, FALSE);
  set_visible (self->sla_icon, FALSE);
  set_visible (self->sla_label, FALSE);
  self->sla_state = FD_SLA_NONE;
  set_priority (self, PRIORITY_NORMAL);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Loading conversation…"),
                                  -1);
}

static void
fd_conversation_row_update (FdConversationRow *self)
{
  FdConversationSummary *summary = self->summary;
  g_autoptr(GString) description = NULL;
  g_autofree char *header = NULL;
  g_autofree char *snippet = NULL;
  g_autofree char *age = NULL;
  const char * const *tag_names;
  const char *contact;
  const char *organisation;
  const char *plan;
  const char *plan_label = NULL;
  const char *subject;
  const char *priority;
  const char *assignee;
  const char *channel;
  const char *icon_name;
  gboolean enterprise;
  gint64 now = now_ms ();

  g_assert (FD_IS_CONVERSATION_ROW (self));

  if (summary == NULL || !fd_conversation_summary_get_loaded (summary))
    {
      fd_conversation_row_clear (self);
      return;
    }

  gtk_widget_set_opacity (GTK_WIDGET (self), 1);

  channel = fd_conversation_summary_get_channel (summary);
  contact = fd_conversation_summary_get_contact_name (summary);
  organisation = fd_conversation_summary_get_organisation (summary);
  plan = fd_conversation_summary_get_plan (summary);
  enterprise = fd_conversation_summary_get_is_enterprise (summary);
  subject = fd_conversation_summary_get_subject (summary);
  priority = fd_conversation_summary_get_priority (summary);
  assignee = fd_conversation_summary_get_assignee_name (summary);
  tag_names = fd_conversation_summary_get_tags (summary);

  if (contact == NULL || contact[0] == '\0')
    contact = _("Unknown contact");
  if (organisation == NULL)
    organisation = "";
  if (subject == NULL || subject[0] == '\0')
    subject = _("(No subject)");
  if (plan != NULL && plan[0] != '\0')
    plan_label = fd_sla_plan_to_label (plan);

  description = g_string_new (NULL);
  /* Translators: the start of a row's description for screen readers:
   * "Email from Ana Silva, Acme Corp." */
  g_string_append_printf (description, _("%s from %s"), fd_inbox_channel_to_label (channel), contact);
  if (organisation[0] != '\0')
    g_string_append_printf (description, ", %s", organisation);
  if (enterprise)
    g_string_append_printf (description, " (%s)", _("Enterprise"));
  g_string_append_printf (description, ": %s.", subject);

  icon_name = fd_inbox_channel_to_icon (channel);
  if (g_strcmp0 (icon_name, self->channel_icon_name) != 0)
    {
      gtk_image_set_from_icon_name (GTK_IMAGE (self->channel_icon), icon_name);
      self->channel_icon_name = icon_name;
    }

  /* The organisation is dimmed like .dim-label. An Enterprise customer on another plan
   * keeps the plan beside the organisation: the badge already says Enterprise. */
  if (enterprise && plan_label != NULL && !g_str_equal (plan, "enterprise"))
    header = g_markup_printf_escaped ("%s  <span alpha=\"55%%\">%s%s%s</span>",
                                      contact, organisation,
                                      organisation[0] != '\0' ? " · " : "", plan_label);
  else if (organisation[0] != '\0')
    header = g_markup_printf_escaped ("%s  <span alpha=\"55%%\">%s</span>", contact, organisation);
  else
    header = g_markup_escape_text (contact, -1);
  set_label_text (self->header_label, header);

  if (enterprise)
    {
      set_label_text (self->badge_label, _("Enterprise"));
      set_visible (self->badge_label, TRUE);
    }
  else if (plan_label != NULL)
    {
      set_label_text (self->badge_label, plan_label);
      set_visible (self->badge_label, TRUE);
    }
  else
    {
      set_visible (self->badge_label, FALSE);
    }
  if (enterprise != self->badge_accent)
    {
      if (enterprise)
        gtk_widget_add_css_class (self->badge_label, "accent");
      else
        gtk_widget_remove_css_class (self->badge_label, "accent");
      self->badge_accent = enterprise;
    }

  set_label_text (self->subject_label, subject);

  snippet = snippet_markup (fd_conversation_summary_get_snippet (summary));
  set_label_text (self->snippet_label, snippet);

  if (tag_names != NULL && tag_names[0] != NULL)
    {
      g_autoptr(GString) tags = g_string_new (NULL);
      g_autofree char *all = g_strjoinv (", ", (char **) tag_names);

      for (guint i = 0; tag_names[i] != NULL; i++)
        g_string_append_printf (tags, i == 0 ? "#%s" : "  #%s", tag_names[i]);
      set_label_text (self->tags_label, tags->str);

      /* Translators: the tags of a conversation, for screen readers. */
      g_string_append_printf (description, " %s", _("Tags:"));
      g_string_append_printf (description, " %s.", all);
    }
  else
    {
      set_label_text (self->tags_label, "");
    }

  if (g_strcmp0 (priority, "urgent") == 0)
    {
      set_priority (self, PRIORITY_URGENT);
      g_string_append_printf (description, " %s.", _("Urgent priority"));
    }
  else if (g_strcmp0 (priority, "high") == 0)
    {
      set_priority (self, PRIORITY_HIGH);
      g_string_append_printf (description, " %s.", _("High priority"));
    }
  else
    {
      set_priority (self, PRIORITY_NORMAL);
    }

  if (assignee != NULL && assignee[0] != '\0')
    {
      set_label_text (self->assignee_label, assignee);
      g_string_append_printf (description, " ");
      /* Translators: for screen readers, "Assigned to Sam Rivera." */
      g_string_append_printf (description, _("Assigned to %s."), assignee);
    }
  else
    {
      set_label_text (self->assignee_label, _("Unassigned"));
      g_string_append_printf (description, " %s.", _("Unassigned"));
    }

  age = _fd_conversation_row_format_age (get_activity_time (self), now);
  set_label_text (self->age_label, age);
  fd_conversation_row_update_sla (self, now, description);

  /* Translators: for screen readers, how long ago the last message came ("5 min"). */
  g_string_append_printf (description, " ");
  g_string_append_printf (description, _("Last activity %s ago."), age);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description->str,
                                  -1);
}

/* Tooltips are made when asked for, not on every bind. */
static gboolean
fd_conversation_row_query_tooltip (GtkWidget  *widget,
                                   int         x,
                                   int         y,
                                   gboolean    keyboard_mode,
                                   GtkTooltip *tooltip)
{
  FdConversationRow *self = FD_CONVERSATION_ROW (widget);
  g_autofree char *text = NULL;
  GtkWidget *child;

  if (keyboard_mode || self->summary == NULL || !fd_conversation_summary_get_loaded (self->summary))
    return FALSE;

  child = gtk_widget_pick (widget, x, y, GTK_PICK_DEFAULT);
  if (child == NULL || child == widget)
    return FALSE;

  if (child == self->channel_icon)
    {
      text = g_strdup (fd_inbox_channel_to_label (fd_conversation_summary_get_channel (self->summary)));
    }
  else if (child == self->age_label)
    {
      text = format_exact_time (get_activity_time (self));
    }
  else if (child == self->sla_icon || child == self->sla_label)
    {
      gint64 now = now_ms ();
      gint64 due_at;
      FdSlaState state = get_sla_state (self, now, &due_at);
      g_autofree char *due_text = NULL;
      g_autofree char *countdown = NULL;

      if (state == FD_SLA_NONE)
        return FALSE;

      due_text = format_exact_time (due_at);
      countdown = fd_sla_format_countdown (due_at, now);
      /* Translators: "At risk: due 3 March 2026, 14:05 CET". */
      text = g_strdup_printf (_("%s: due %s"), fd_sla_state_to_label (state),
                              due_text != NULL ? due_text : countdown);
    }
  else if (child == self->tags_label)
    {
      const char * const *tag_names = fd_conversation_summary_get_tags (self->summary);

      if (tag_names == NULL || tag_names[0] == NULL)
        return FALSE;
      text = g_strjoinv (", ", (char **) tag_names);
    }
  else if (GTK_IS_LABEL (child) &&
           pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (child))))
    {
      /* The whole text of a line cut short: subject, snippet, contact, assignee. */
      text = g_strdup (gtk_label_get_text (GTK_LABEL (child)));
    }

  if (text == NULL || text[0] == '\0')
    return FALSE;

  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* {{{ Layout */

typedef struct
{
  GtkWidget *widget;
  int        spacing;     /* before it, when it is not the first on its line */
} Item;

static int
child_width (GtkWidget *child,
             gboolean   natural)
{
  int min = 0;
  int nat = 0;

  if (!gtk_widget_should_layout (child))
    return 0;

  gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
  return natural ? nat : min;
}

static int
child_height (GtkWidget *child)
{
  int nat = 0;

  if (!gtk_widget_should_layout (child))
    return 0;

  gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, -1, NULL, &nat, NULL, NULL);
  return nat;
}

static int
line_height (GtkWidget * const *children,
             guint              n_children)
{
  int height = LINE_MIN_HEIGHT;

  for (guint i = 0; i < n_children; i++)
    height = MAX (height, child_height (children[i]));

  return height;
}

static void
allocate_child (GtkWidget *child,
                int        x,
                int        y,
                int        width,
                int        line_h)
{
  int height;

  if (!gtk_widget_should_layout (child))
    return;

  height = MIN (child_height (child), line_h);
  gtk_widget_size_allocate (child,
                            &(GtkAllocation) { x, y + (line_h - height) / 2, MAX (width, 0), height },
                            -1);
}

/* The widths of a line: its fixed items at their natural width, and one item (the
 * header or the tags) that is cut short to fit. */
static int
line_width (FdConversationRow *self,
            guint              line,
            gboolean           natural)
{
  int width = 0;

  switch (line)
    {
    case 0:
      width = child_width (self->header_label, natural);
      if (gtk_widget_should_layout (self->badge_label))
        width += ITEM_SPACING + child_width (self->badge_label, natural);
      width += ITEM_SPACING + child_width (self->age_label, natural);
      return width;

    case 1:
      return child_width (self->subject_label, natural);

    case 2:
      return child_width (self->snippet_label, natural);

    case 3:
    default:
      /* The tags ask for no width of their own: they fill what the line has left. */
      if (gtk_widget_should_layout (self->sla_icon))
        width += child_width (self->sla_icon, natural) + PAIR_SPACING +
                 child_width (self->sla_label, natural) + ITEM_SPACING;
      if (gtk_widget_should_layout (self->priority_icon))
        width += child_width (self->priority_icon, natural) + PAIR_SPACING +
                 child_width (self->priority_label, natural) + ITEM_SPACING;
      width += child_width (self->assignee_icon, natural) + PAIR_SPACING +
               child_width (self->assignee_label, natural);
      return width;
    }
}

static void
fd_conversation_row_measure (GtkWidget      *widget,
                             GtkOrientation  orientation,
                             int             for_size,
                             int            *minimum,
                             int            *natural,
                             int            *minimum_baseline,
                             int            *natural_baseline)
{
  FdConversationRow *self = FD_CONVERSATION_ROW (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      int icon = child_width (self->channel_icon, TRUE) + ICON_SPACING;
      int min = 0;
      int nat = 0;

      for (guint i = 0; i < N_LINES; i++)
        {
          min = MAX (min, line_width (self, i, FALSE));
          nat = MAX (nat, line_width (self, i, TRUE));
        }

      *minimum = icon + min;
      *natural = icon + nat;
    }
  else
    {
      GtkWidget *line0[] = { self->header_label, self->badge_label, self->age_label };
      GtkWidget *line3[] = { self->sla_icon, self->sla_label, self->priority_icon,
                             self->priority_label, self->tags_label, self->assignee_icon,
                             self->assignee_label };
      int height;

      height = line_height (line0, G_N_ELEMENTS (line0)) +
               line_height (&self->subject_label, 1) +
               line_height (&self->snippet_label, 1) +
               line_height (line3, G_N_ELEMENTS (line3)) +
               (N_LINES - 1) * LINE_SPACING;

      *minimum = *natural = MAX (height, child_height (self->channel_icon));
    }
}

static void
fd_conversation_row_size_allocate (GtkWidget *widget,
                                   int        width,
                                   int        height,
                                   int        baseline)
{
  FdConversationRow *self = FD_CONVERSATION_ROW (widget);
  GtkWidget *line0[] = { self->header_label, self->badge_label, self->age_label };
  GtkWidget *line3[] = { self->sla_icon, self->sla_label, self->priority_icon,
                         self->priority_label, self->tags_label, self->assignee_icon,
                         self->assignee_label };
  Item start_items[] = {
    { self->sla_icon, 0 },
    { self->sla_label, PAIR_SPACING },
    { self->priority_icon, ITEM_SPACING },
    { self->priority_label, PAIR_SPACING },
  };
  int icon_w = child_width (self->channel_icon, TRUE);
  int x0 = icon_w + ICON_SPACING;
  int w = MAX (width - x0, 0);
  int y = 0;
  int h;
  int x;
  int end;
  int age_w;
  int badge_w = 0;
  int header_w;
  int assignee_w;
  int assignee_icon_w;
  int tags_w;
  gboolean fits;

  allocate_child (self->channel_icon, 0, 0, icon_w, child_height (self->channel_icon));

  /* Contact and organisation, the badge right after them, the age at the end. */
  h = line_height (line0, G_N_ELEMENTS (line0));
  age_w = child_width (self->age_label, TRUE);
  if (gtk_widget_should_layout (self->badge_label))
    badge_w = child_width (self->badge_label, TRUE);
  header_w = w - age_w - ITEM_SPACING - (badge_w > 0 ? badge_w + ITEM_SPACING : 0);
  header_w = MAX (MIN (header_w, child_width (self->header_label, TRUE)),
                  child_width (self->header_label, FALSE));
  allocate_child (self->header_label, x0, y, header_w, h);
  allocate_child (self->badge_label, x0 + header_w + ITEM_SPACING, y, badge_w, h);
  allocate_child (self->age_label, x0 + w - age_w, y, age_w, h);
  y += h + LINE_SPACING;

  h = line_height (&self->subject_label, 1);
  allocate_child (self->subject_label, x0, y, w, h);
  y += h + LINE_SPACING;

  h = line_height (&self->snippet_label, 1);
  allocate_child (self->snippet_label, x0, y, w, h);
  y += h + LINE_SPACING;

  /* SLA and priority, then the tags in what is left, the assignee at the end. */
  h = line_height (line3, G_N_ELEMENTS (line3));
  x = x0;
  for (guint i = 0; i < G_N_ELEMENTS (start_items); i++)
    {
      int child_w;

      if (!gtk_widget_should_layout (start_items[i].widget))
        continue;
      if (x > x0)
        x += start_items[i].spacing;
      child_w = child_width (start_items[i].widget, TRUE);
      allocate_child (start_items[i].widget, x, y, child_w, h);
      x += child_w;
    }
  if (x > x0)
    x += ITEM_SPACING;

  assignee_icon_w = child_width (self->assignee_icon, TRUE);
  assignee_w = child_width (self->assignee_label, TRUE);
  end = x0 + w - assignee_w;
  allocate_child (self->assignee_label, end, y, assignee_w, h);
  end -= PAIR_SPACING + assignee_icon_w;
  allocate_child (self->assignee_icon, end, y, assignee_icon_w, h);

  /* Tags that do not fit even cut short are left out (the tooltip and the accessible
   * label have them all), rather than drawn over the assignee. */
  tags_w = MIN (end - ITEM_SPACING - x, child_width (self->tags_label, TRUE));
  fits = tags_w >= child_width (self->tags_label, FALSE);
  if (gtk_widget_get_child_visible (self->tags_label) != fits)
    gtk_widget_set_child_visible (self->tags_label, fits);
  allocate_child (self->tags_label, x, y, tags_w, h);
}

static GtkSizeRequestMode
fd_conversation_row_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

/* }}} */

static void
summary_notify_cb (FdConversationRow *self,
                   GParamSpec        *pspec,
                   GObject           *summary)
{
  fd_conversation_row_update (self);
}

static gboolean
minute_tick_cb (gpointer user_data)
{
  gint64 now = now_ms ();

  for (GList *l = mapped_rows; l != NULL; l = l->next)
    fd_conversation_row_update_time (l->data, now);

  return G_SOURCE_CONTINUE;
}

static void
fd_conversation_row_map (GtkWidget *widget)
{
  FdConversationRow *self = FD_CONVERSATION_ROW (widget);

  GTK_WIDGET_CLASS (fd_conversation_row_parent_class)->map (widget);

  mapped_rows = g_list_prepend (mapped_rows, self);
  if (minute_source == 0)
    {
      minute_source = g_timeout_add_seconds (60, minute_tick_cb, NULL);
      g_source_set_name_by_id (minute_source, "[frontdesk] conversation row minute");
    }

  fd_conversation_row_update_time (self, now_ms ());
}

static void
fd_conversation_row_unmap (GtkWidget *widget)
{
  mapped_rows = g_list_remove (mapped_rows, widget);
  if (mapped_rows == NULL)
    g_clear_handle_id (&minute_source, g_source_remove);

  GTK_WIDGET_CLASS (fd_conversation_row_parent_class)->unmap (widget);
}

static void
fd_conversation_row_dispose (GObject *object)
{
  FdConversationRow *self = (FdConversationRow *)object;

  fd_conversation_row_set_summary (self, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_CONVERSATION_ROW);

  G_OBJECT_CLASS (fd_conversation_row_parent_class)->dispose (object);
}

static void
fd_conversation_row_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  FdConversationRow *self = FD_CONVERSATION_ROW (object);

  switch (prop_id)
    {
    case PROP_SUMMARY:
      g_value_set_object (value, self->summary);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_conversation_row_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  FdConversationRow *self = FD_CONVERSATION_ROW (object);

  switch (prop_id)
    {
    case PROP_SUMMARY:
      fd_conversation_row_set_summary (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_conversation_row_class_init (FdConversationRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_conversation_row_dispose;
  object_class->get_property = fd_conversation_row_get_property;
  object_class->set_property = fd_conversation_row_set_property;

  widget_class->map = fd_conversation_row_map;
  widget_class->unmap = fd_conversation_row_unmap;
  widget_class->measure = fd_conversation_row_measure;
  widget_class->size_allocate = fd_conversation_row_size_allocate;
  widget_class->get_request_mode = fd_conversation_row_get_request_mode;
  widget_class->query_tooltip = fd_conversation_row_query_tooltip;

  properties[PROP_SUMMARY] =
    g_param_spec_object ("summary", NULL, NULL,
                         FD_TYPE_CONVERSATION_SUMMARY,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/inbox/fd-conversation-row.ui");
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, channel_icon);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, header_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, badge_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, age_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, subject_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, snippet_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, sla_icon);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, sla_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, priority_icon);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, priority_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, tags_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, assignee_icon);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, assignee_label);

  gtk_widget_class_set_css_name (widget_class, "fdconversationrow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
fd_conversation_row_init (FdConversationRow *self)
{
  self->sla_state = FD_SLA_NONE;
  self->priority = PRIORITY_NORMAL;

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);

  fd_conversation_row_clear (self);
}

GtkWidget *
fd_conversation_row_new (void)
{
  return g_object_new (FD_TYPE_CONVERSATION_ROW, NULL);
}

FdConversationSummary *
fd_conversation_row_get_summary (FdConversationRow *self)
{
  g_return_val_if_fail (FD_IS_CONVERSATION_ROW (self), NULL);

  return self->summary;
}

/**
 * fd_conversation_row_set_summary:
 * @self: a #FdConversationRow
 * @summary: (nullable): the conversation to show
 *
 * Shows @summary, and follows it: a placeholder fills in when its page of the list
 * arrives, and a reload updates it in place.
 */
void
fd_conversation_row_set_summary (FdConversationRow     *self,
                                 FdConversationSummary *summary)
{
  g_return_if_fail (FD_IS_CONVERSATION_ROW (self));
  g_return_if_fail (summary == NULL || FD_IS_CONVERSATION_SUMMARY (summary));

  if (self->summary == summary)
    return;

  if (self->summary != NULL)
    g_clear_signal_handler (&self->notify_id, self->summary);
  g_set_object (&self->summary, summary);

  if (summary != NULL)
    self->notify_id = g_signal_connect_object (summary, "notify",
                                               G_CALLBACK (summary_notify_cb), self,
                                               G_CONNECT_SWAPPED);

  fd_conversation_row_update (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUMMARY]);
}
