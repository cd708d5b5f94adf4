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

#define MAX_TAGS 3

struct _FdConversationRow
{
  GtkWidget              parent_instance;

  FdConversationSummary *summary;
  gulong                 notify_id;

  /* Template widgets */
  GtkWidget             *content;
  GtkImage              *channel_icon;
  GtkLabel              *contact_label;
  GtkLabel              *org_label;
  GtkWidget             *enterprise_badge;
  GtkLabel              *plan_label;
  GtkLabel              *age_label;
  GtkLabel              *subject_label;
  GtkWidget             *sla_box;
  GtkImage              *sla_icon;
  GtkLabel              *sla_label;
  GtkLabel              *snippet_label;
  GtkWidget             *tags_box;
  GtkLabel              *tag_label_1;
  GtkLabel              *tag_label_2;
  GtkLabel              *tag_label_3;
  GtkLabel              *tag_more_label;
  GtkWidget             *priority_box;
  GtkImage              *priority_icon;
  GtkLabel              *priority_label;
  GtkLabel              *assignee_label;
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

static const char * const sla_classes[] = {
  "fd-sla-on-track",
  "fd-sla-at-risk",
  "fd-sla-breached",
};

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

/* Tags take the room the line has left, whole pills only: the ones that do not fit are
 * left out (all are in the accessible description and the tooltip of "+N"), so the row
 * never forces the list wider. */
#define TAG_SPACING 4

static void
tags_measure (GtkWidget      *widget,
              GtkOrientation  orientation,
              int             for_size,
              int            *minimum,
              int            *natural,
              int            *minimum_baseline,
              int            *natural_baseline)
{
  *minimum = *natural = 0;

  /* Tags ask for no width of their own: they fill what the line has left. */
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    return;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int child_min = 0;
      int child_nat = 0;

      if (!gtk_widget_get_visible (child))
        continue;

      gtk_widget_measure (child, orientation, -1, &child_min, &child_nat, NULL, NULL);
      *minimum = MAX (*minimum, child_min);
      *natural = MAX (*natural, child_nat);
    }
}

static void
tags_allocate (GtkWidget *widget,
               int        width,
               int        height,
               int        baseline)
{
  gboolean full = FALSE;
  int x = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int child_nat = 0;

      if (!gtk_widget_get_visible (child))
        continue;

      gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &child_nat, NULL, NULL);

      if (!full && x + child_nat <= width)
        {
          gtk_widget_set_child_visible (child, TRUE);
          gtk_widget_size_allocate (child,
                                    &(GtkAllocation) { x, 0, child_nat, height },
                                    baseline);
          x += child_nat + TAG_SPACING;
        }
      else
        {
          full = TRUE;
          gtk_widget_set_child_visible (child, FALSE);
        }
    }
}

static void
fd_conversation_row_update_sla (FdConversationRow *self,
                                gint64             now,
                                GString           *description)
{
  FdConversationSummary *summary = self->summary;
  g_autofree char *countdown = NULL;
  g_autofree char *text = NULL;
  g_autofree char *due_text = NULL;
  g_autofree char *tooltip = NULL;
  const char *icon_name;
  const char *label;
  gint64 due_at;
  FdSlaState state;

  due_at = fd_conversation_summary_get_sla_due_at (summary);
  state = due_at > 0
    ? fd_sla_state_at (due_at, fd_conversation_summary_get_sla_risk_at (summary), now)
    : FD_SLA_NONE;

  for (guint i = 0; i < G_N_ELEMENTS (sla_classes); i++)
    gtk_widget_remove_css_class (self->sla_box, sla_classes[i]);

  label = fd_sla_state_to_label (state);
  if (state == FD_SLA_NONE || label == NULL)
    {
      gtk_widget_set_visible (self->sla_box, FALSE);
      return;
    }

  countdown = fd_sla_format_countdown (due_at, now);
  due_text = format_exact_time (due_at);

  switch (state)
    {
    /* Each state has its own icon; the words are in the tooltip and the row's
     * accessible description, so the narrow list keeps room for the subject. */
    case FD_SLA_AT_RISK:
      icon_name = "appointment-soon-symbolic";
      gtk_widget_add_css_class (self->sla_box, "fd-sla-at-risk");
      text = g_strdup (countdown);
      break;

    case FD_SLA_BREACHED:
      icon_name = "appointment-missed-symbolic";
      gtk_widget_add_css_class (self->sla_box, "fd-sla-breached");
      text = g_strdup (countdown);
      break;

    case FD_SLA_ON_TRACK:
    case FD_SLA_NONE:
    default:
      icon_name = "alarm-symbolic";
      gtk_widget_add_css_class (self->sla_box, "fd-sla-on-track");
      text = g_strdup (countdown);
      break;
    }

  gtk_image_set_from_icon_name (self->sla_icon, icon_name);
  gtk_label_set_label (self->sla_label, text);

  /* Translators: "At risk: due 3 March 2026, 14:05 CET". */
  tooltip = g_strdup_printf (_("%s: due %s"), label, due_text != NULL ? due_text : countdown);
  gtk_widget_set_tooltip_text (self->sla_box, tooltip);
  gtk_widget_set_visible (self->sla_box, TRUE);

  if (description != NULL)
    g_string_append_printf (description, " %s (%s).", label, countdown);
}

void
fd_conversation_row_update_time (FdConversationRow *self,
                                 gint64             now)
{
  g_autofree char *age = NULL;
  g_autofree char *exact = NULL;
  gint64 at;

  g_return_if_fail (FD_IS_CONVERSATION_ROW (self));

  if (self->summary == NULL || !fd_conversation_summary_get_loaded (self->summary))
    return;

  at = fd_conversation_summary_get_last_message_at (self->summary);
  if (at <= 0)
    at = fd_conversation_summary_get_created_at (self->summary);

  age = _fd_conversation_row_format_age (at, now);
  exact = format_exact_time (at);
  gtk_label_set_label (self->age_label, age);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->age_label), exact);

  fd_conversation_row_update_sla (self, now, NULL);
}

static void
fd_conversation_row_clear (FdConversationRow *self)
{
  GtkLabel *tags[] = { self->tag_label_1, self->tag_label_2, self->tag_label_3 };

  /* The same widgets stay in place with no text, so a row that is still loading is
   * exactly as tall as a loaded one and the list does not jump when it fills in. */
  gtk_widget_set_opacity (self->content, 0);
  gtk_label_set_label (self->contact_label, "");
  gtk_label_set_label (self->org_label, "");
  gtk_label_set_label (self->age_label, "");
  gtk_label_set_label (self->subject_label, "");
  gtk_label_set_label (self->snippet_label, "");
  gtk_label_set_label (self->assignee_label, "");
  gtk_widget_set_visible (self->enterprise_badge, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->plan_label), FALSE);
  gtk_widget_set_visible (self->sla_box, FALSE);
  gtk_widget_set_visible (self->priority_box, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    gtk_widget_set_visible (GTK_WIDGET (tags[i]), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->tag_more_label), FALSE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->age_label), NULL);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Loading conversation…"),
                                  -1);
}

static void
fd_conversation_row_update (FdConversationRow *self)
{
  FdConversationSummary *summary = self->summary;
  GtkLabel *tags[] = { self->tag_label_1, self->tag_label_2, self->tag_label_3 };
  g_autoptr(GString) description = NULL;
  g_autofree char *snippet = NULL;
  g_autofree char *age = NULL;
  const char * const *tag_names;
  const char *contact;
  const char *organisation;
  const char *plan;
  const char *subject;
  const char *priority;
  const char *assignee;
  const char *channel;
  gboolean enterprise;
  guint n_tags;
  gint64 now = now_ms ();

  g_assert (FD_IS_CONVERSATION_ROW (self));

  if (summary == NULL || !fd_conversation_summary_get_loaded (summary))
    {
      fd_conversation_row_clear (self);
      return;
    }

  gtk_widget_set_opacity (self->content, 1);

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

  description = g_string_new (NULL);
  /* Translators: the start of a row's description for screen readers:
   * "Email from Ana Silva, Acme Corp." */
  g_string_append_printf (description, _("%s from %s"), fd_inbox_channel_to_label (channel), contact);
  if (organisation[0] != '\0')
    g_string_append_printf (description, ", %s", organisation);
  if (enterprise)
    g_string_append_printf (description, " (%s)", _("Enterprise"));
  g_string_append_printf (description, ": %s.", subject);

  gtk_image_set_from_icon_name (self->channel_icon, fd_inbox_channel_to_icon (channel));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->channel_icon), fd_inbox_channel_to_label (channel));

  gtk_label_set_label (self->contact_label, contact);
  gtk_label_set_label (self->org_label, organisation);
  gtk_widget_set_visible (GTK_WIDGET (self->org_label), organisation[0] != '\0');
  gtk_widget_set_visible (self->enterprise_badge, enterprise);

  /* The badge already says Enterprise; the plan is shown for the others. */
  if (plan != NULL && plan[0] != '\0' && !(enterprise && g_str_equal (plan, "enterprise")))
    {
      gtk_label_set_label (self->plan_label, fd_sla_plan_to_label (plan));
      gtk_widget_set_visible (GTK_WIDGET (self->plan_label), TRUE);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->plan_label), FALSE);
    }

  gtk_label_set_label (self->subject_label, subject);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->subject_label), subject);

  snippet = snippet_markup (fd_conversation_summary_get_snippet (summary));
  gtk_label_set_markup (self->snippet_label, snippet);

  n_tags = tag_names != NULL ? g_strv_length ((char **) tag_names) : 0;
  for (guint i = 0; i < MAX_TAGS; i++)
    {
      if (i < n_tags)
        {
          gtk_label_set_label (tags[i], tag_names[i]);
          gtk_widget_set_tooltip_text (GTK_WIDGET (tags[i]), tag_names[i]);
        }
      gtk_widget_set_visible (GTK_WIDGET (tags[i]), i < n_tags);
    }
  if (n_tags > MAX_TAGS)
    {
      g_autofree char *more = g_strdup_printf ("+%u", n_tags - MAX_TAGS);
      g_autofree char *rest = g_strjoinv (", ", (char **) tag_names + MAX_TAGS);

      gtk_label_set_label (self->tag_more_label, more);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->tag_more_label), rest);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->tag_more_label), n_tags > MAX_TAGS);
  if (n_tags > 0)
    {
      g_autofree char *all = g_strjoinv (", ", (char **) tag_names);

      /* Translators: the tags of a conversation, for screen readers. */
      g_string_append_printf (description, " %s", _("Tags:"));
      g_string_append_printf (description, " %s.", all);
    }

  gtk_widget_remove_css_class (self->priority_box, "fd-priority-urgent");
  gtk_widget_remove_css_class (self->priority_box, "fd-priority-high");
  if (g_strcmp0 (priority, "urgent") == 0)
    {
      gtk_image_set_from_icon_name (self->priority_icon, "emblem-important-symbolic");
      gtk_label_set_label (self->priority_label, _("Urgent"));
      gtk_widget_add_css_class (self->priority_box, "fd-priority-urgent");
      gtk_widget_set_visible (self->priority_box, TRUE);
      g_string_append_printf (description, " %s.", _("Urgent priority"));
    }
  else if (g_strcmp0 (priority, "high") == 0)
    {
      gtk_image_set_from_icon_name (self->priority_icon, "go-up-symbolic");
      gtk_label_set_label (self->priority_label, _("High"));
      gtk_widget_add_css_class (self->priority_box, "fd-priority-high");
      gtk_widget_set_visible (self->priority_box, TRUE);
      g_string_append_printf (description, " %s.", _("High priority"));
    }
  else
    {
      gtk_widget_set_visible (self->priority_box, FALSE);
    }

  if (assignee != NULL && assignee[0] != '\0')
    {
      gtk_label_set_label (self->assignee_label, assignee);
      g_string_append_printf (description, " ");
      /* Translators: for screen readers, "Assigned to Sam Rivera." */
      g_string_append_printf (description, _("Assigned to %s."), assignee);
    }
  else
    {
      gtk_label_set_label (self->assignee_label, _("Unassigned"));
      g_string_append_printf (description, " %s.", _("Unassigned"));
    }

  fd_conversation_row_update_time (self, now);
  fd_conversation_row_update_sla (self, now, description);

  age = g_strdup (gtk_label_get_label (self->age_label));
  /* Translators: for screen readers, how long ago the last message came ("5 min"). */
  g_string_append_printf (description, " ");
  g_string_append_printf (description, _("Last activity %s ago."), age);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description->str,
                                  -1);
}

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

  properties[PROP_SUMMARY] =
    g_param_spec_object ("summary", NULL, NULL,
                         FD_TYPE_CONVERSATION_SUMMARY,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/inbox/fd-conversation-row.ui");
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, content);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, channel_icon);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, contact_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, org_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, enterprise_badge);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, plan_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, age_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, subject_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, sla_box);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, sla_icon);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, sla_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, snippet_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, tags_box);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, tag_label_1);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, tag_label_2);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, tag_label_3);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, tag_more_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, priority_box);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, priority_icon);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, priority_label);
  gtk_widget_class_bind_template_child (widget_class, FdConversationRow, assignee_label);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "fdconversationrow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
fd_conversation_row_init (FdConversationRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_widget_set_layout_manager (self->tags_box, gtk_custom_layout_new (NULL, tags_measure, tags_allocate));

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
