/* fd-sla-page.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sla-page"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fd-sla.h"
#include "fd-sla-page.h"

#define N_PLANS      5
#define N_PRIORITIES 4
#define N_TARGETS    3

/* A year of business minutes is more than any target needs. */
#define MAX_TARGET_MINUTES (365 * 24 * 60)

static const char * const weekday_names[] = {
  NULL, N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
  N_("Saturday"), N_("Sunday"),
};

static const char * const target_ids[] = { "first_reply", "next_reply", "resolution" };
static const char * const target_titles[] = { N_("First reply"), N_("Next reply"), N_("Resolution") };

struct _FdSlaPage
{
  AdwPreferencesPage   parent_instance;

  FdStore             *store;
  GCancellable        *cancellable;
  FdSlaConfig         *config;       /* as edited; NULL until loaded */
  guint                loading : 1;
  guint                saving : 1;
  guint                dirty : 1;
  guint                filling : 1;  /* widgets follow the config: not an edit */

  AdwExpanderRow      *day_rows[8];  /* by GDateWeekday */
  GtkSpinButton       *open_spins[8];
  GtkSpinButton       *close_spins[8];
  AdwExpanderRow      *plan_rows[N_PLANS];
  GtkSpinButton       *target_spins[N_PLANS][N_PRIORITIES][N_TARGETS];

  /* Template widgets */
  GtkWidget           *load_error_group;
  GtkLabel            *load_error_label;
  GtkWidget           *hours_group;
  AdwEntryRow         *time_zone_row;
  GtkWidget           *holidays_group;
  GtkListBox          *holidays_list;
  AdwEntryRow         *holiday_name_row;
  GtkMenuButton       *holiday_date_button;
  GtkCalendar         *holiday_calendar;
  GtkWidget           *targets_group;
  GtkWidget           *save_error_box;
  GtkLabel            *save_error_label;
  GtkSpinner          *save_spinner;
  GtkWidget           *revert_button;
  GtkWidget           *save_button;
};

G_DEFINE_FINAL_TYPE (FdSlaPage, fd_sla_page, ADW_TYPE_PREFERENCES_PAGE)

enum {
  PROP_0,
  PROP_STORE,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* {{{ Spin buttons for times and durations */

static gboolean
time_spin_output_cb (GtkSpinButton *spin,
                     gpointer       user_data)
{
  int minutes = (int) gtk_spin_button_get_value (spin);
  g_autofree char *text = g_strdup_printf ("%02d:%02d", minutes / 60, minutes % 60);

  if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (spin))) != 0)
    gtk_editable_set_text (GTK_EDITABLE (spin), text);

  return TRUE;
}

static int
time_spin_input_cb (GtkSpinButton *spin,
                    double        *new_value,
                    gpointer       user_data)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  g_auto(GStrv) parts = g_strsplit_set (text, ":.h ", 3);
  guint64 hours = 0, minutes = 0;

  if (parts[0] == NULL || !g_ascii_string_to_unsigned (g_strstrip (parts[0]), 10, 0, 24, &hours, NULL) ||
      (parts[1] != NULL && *g_strstrip (parts[1]) != '\0' &&
       !g_ascii_string_to_unsigned (parts[1], 10, 0, 59, &minutes, NULL)))
    return GTK_INPUT_ERROR;

  *new_value = MIN (hours * 60 + minutes, 24 * 60);
  return TRUE;
}

static GtkSpinButton *
time_spin_new (const char *accessible_label)
{
  GtkAdjustment *adjustment = gtk_adjustment_new (9 * 60, 0, 24 * 60, 15, 60, 0);
  GtkWidget *spin = gtk_spin_button_new (adjustment, 1, 0);

  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), FALSE);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 5);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (spin, "numeric");
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible_label,
                                  -1);
  g_signal_connect (spin, "output", G_CALLBACK (time_spin_output_cb), NULL);
  g_signal_connect (spin, "input", G_CALLBACK (time_spin_input_cb), NULL);

  return GTK_SPIN_BUTTON (spin);
}

static char *
format_duration (int minutes)
{
  if (minutes <= 0)
    /* Translators: a target that is not set. */
    return g_strdup (C_("target", "None"));
  if (minutes < 60)
    return g_strdup_printf (_("%d min"), minutes);
  if (minutes % 60 == 0)
    return g_strdup_printf (_("%d h"), minutes / 60);
  return g_strdup_printf (_("%d h %d min"), minutes / 60, minutes % 60);
}

static gboolean
duration_spin_output_cb (GtkSpinButton *spin,
                         gpointer       user_data)
{
  g_autofree char *text = format_duration ((int) gtk_spin_button_get_value (spin));

  if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (spin))) != 0)
    gtk_editable_set_text (GTK_EDITABLE (spin), text);

  return TRUE;
}

/* "4 h 30 min", "4h30", "90 min", "1.5 h", "4:30", "90" (minutes), or "None". */
static gboolean
parse_duration (const char *text,
                double     *minutes)
{
  const char *p = text;
  double total = 0;
  gboolean any = FALSE;

  while (g_ascii_isspace (*p))
    p++;

  if (*p == '\0' || g_ascii_strcasecmp (p, C_("target", "None")) == 0 ||
      g_ascii_strcasecmp (p, "none") == 0)
    {
      *minutes = 0;
      return TRUE;
    }

  while (*p != '\0')
    {
      char *end = NULL;
      double value;

      while (g_ascii_isspace (*p))
        p++;
      if (*p == '\0')
        break;

      value = g_ascii_strtod (p, &end);
      if (end == p || value < 0 || !isfinite (value))
        return FALSE;
      p = end;
      while (g_ascii_isspace (*p))
        p++;

      if (*p == ':')
        {
          total += value * 60;
          p++;
          continue;
        }

      /* A unit starting with "h" counts hours, any other word or none minutes. */
      if (g_ascii_tolower (*p) == 'h' ||
          /* Translators: the abbreviation of hours in durations such as "4 h". */
          g_str_has_prefix (p, C_("duration", "h")))
        total += value * 60;
      else
        total += value;
      any = TRUE;

      while (*p != '\0' && !g_ascii_isdigit (*p) && !g_ascii_isspace (*p))
        p++;
    }

  if (!any && total == 0)
    return FALSE;

  *minutes = round (total);
  return TRUE;
}

static int
duration_spin_input_cb (GtkSpinButton *spin,
                        double        *new_value,
                        gpointer       user_data)
{
  if (!parse_duration (gtk_editable_get_text (GTK_EDITABLE (spin)), new_value))
    return GTK_INPUT_ERROR;

  *new_value = CLAMP (*new_value, 0, MAX_TARGET_MINUTES);
  return TRUE;
}

static GtkSpinButton *
duration_spin_new (const char *accessible_label)
{
  GtkAdjustment *adjustment = gtk_adjustment_new (0, 0, MAX_TARGET_MINUTES, 15, 60, 0);
  GtkWidget *spin = gtk_spin_button_new (adjustment, 1, 0);

  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), FALSE);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 9);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (spin, _("Business time, for example “4 h 30 min”"));
  gtk_widget_add_css_class (spin, "numeric");
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible_label,
                                  -1);
  g_signal_connect (spin, "output", G_CALLBACK (duration_spin_output_cb), NULL);
  g_signal_connect (spin, "input", G_CALLBACK (duration_spin_input_cb), NULL);

  return GTK_SPIN_BUTTON (spin);
}

/* }}} */
/* {{{ State */

static gboolean
fd_sla_page_is_busy (FdSlaPage *self)
{
  return self->loading || self->saving;
}

static void
fd_sla_page_update_sensitivity (FdSlaPage *self)
{
  gboolean editable = self->config != NULL && !self->saving;

  gtk_widget_set_sensitive (self->hours_group, editable);
  gtk_widget_set_sensitive (self->holidays_group, editable);
  gtk_widget_set_sensitive (self->targets_group, editable);
  gtk_widget_set_sensitive (self->save_button, editable && self->dirty && self->store != NULL);
  gtk_widget_set_sensitive (self->revert_button, editable && self->dirty && self->store != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->save_spinner), self->saving);
  gtk_spinner_set_spinning (self->save_spinner, self->saving);
}

static void
fd_sla_page_set_flags (FdSlaPage *self,
                       gboolean   loading,
                       gboolean   saving)
{
  gboolean was_busy = fd_sla_page_is_busy (self);

  self->loading = loading;
  self->saving = saving;
  fd_sla_page_update_sensitivity (self);

  if (was_busy != fd_sla_page_is_busy (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
fd_sla_page_changed (FdSlaPage *self)
{
  if (self->filling || self->config == NULL)
    return;

  self->dirty = TRUE;
  gtk_widget_set_visible (self->save_error_box, FALSE);
  fd_sla_page_update_sensitivity (self);
}

static void
fd_sla_page_show_save_error (FdSlaPage  *self,
                             const char *message)
{
  gtk_label_set_label (self->save_error_label, message);
  gtk_widget_set_visible (self->save_error_box, TRUE);
}

static void
fd_sla_page_add_toast (FdSlaPage  *self,
                       const char *title)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_PREFERENCES_WINDOW);
  g_autofree char *escaped = g_markup_escape_text (title, -1);

  if (window != NULL)
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (window), adw_toast_new (escaped));
}

/* }}} */
/* {{{ Business hours */

static void
fd_sla_page_update_day (FdSlaPage    *self,
                        GDateWeekday  weekday)
{
  AdwExpanderRow *row = self->day_rows[weekday];
  int open_minute = (int) gtk_spin_button_get_value (self->open_spins[weekday]);
  int close_minute = (int) gtk_spin_button_get_value (self->close_spins[weekday]);
  g_autofree char *subtitle = NULL;

  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");

  if (!adw_expander_row_get_enable_expansion (row))
    subtitle = g_strdup (_("Closed"));
  else if (open_minute >= close_minute)
    {
      subtitle = g_strdup (_("Closes before it opens"));
      gtk_widget_add_css_class (GTK_WIDGET (row), "error");
    }
  else
    /* Translators: opening hours, e.g. "09:00 – 17:00". */
    subtitle = g_strdup_printf (_("%02d:%02d – %02d:%02d"),
                                open_minute / 60, open_minute % 60,
                                close_minute / 60, close_minute % 60);

  adw_expander_row_set_subtitle (row, subtitle);
}

static void
fd_sla_page_day_edited (FdSlaPage    *self,
                        GDateWeekday  weekday)
{
  fd_sla_page_update_day (self, weekday);

  if (self->filling || self->config == NULL)
    return;

  if (adw_expander_row_get_enable_expansion (self->day_rows[weekday]))
    fd_sla_calendar_set_hours (self->config->calendar, weekday,
                               (int) gtk_spin_button_get_value (self->open_spins[weekday]),
                               (int) gtk_spin_button_get_value (self->close_spins[weekday]));
  else
    fd_sla_calendar_set_hours (self->config->calendar, weekday, -1, -1);

  fd_sla_page_changed (self);
}

static void
day_notify_cb (GObject    *object,
               GParamSpec *pspec,
               gpointer    user_data)
{
  FdSlaPage *self = user_data;

  fd_sla_page_day_edited (self, GPOINTER_TO_INT (g_object_get_data (object, "weekday")));
}

static void
day_spin_changed_cb (GtkSpinButton *spin,
                     gpointer       user_data)
{
  FdSlaPage *self = user_data;

  fd_sla_page_day_edited (self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (spin), "weekday")));
}

static GtkWidget *
hours_row_new (const char    *title,
               GtkSpinButton *spin)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), GTK_WIDGET (spin));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), GTK_WIDGET (spin));

  return row;
}

static void
fd_sla_page_build_days (FdSlaPage *self)
{
  for (int weekday = G_DATE_MONDAY; weekday <= G_DATE_SUNDAY; weekday++)
    {
      const char *day = _(weekday_names[weekday]);
      g_autofree char *open_label = g_strdup_printf (_("%s opens"), day);
      g_autofree char *close_label = g_strdup_printf (_("%s closes"), day);
      g_autofree char *name = g_strdup_printf ("day-%d", weekday);
      g_autofree char *open_name = g_strdup_printf ("day-%d-open", weekday);
      g_autofree char *close_name = g_strdup_printf ("day-%d-close", weekday);
      AdwExpanderRow *row = ADW_EXPANDER_ROW (adw_expander_row_new ());

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), day);
      adw_expander_row_set_show_enable_switch (row, TRUE);
      gtk_widget_set_name (GTK_WIDGET (row), name);
      g_object_set_data (G_OBJECT (row), "weekday", GINT_TO_POINTER (weekday));

      self->open_spins[weekday] = time_spin_new (open_label);
      self->close_spins[weekday] = time_spin_new (close_label);
      gtk_spin_button_set_value (self->close_spins[weekday], 17 * 60);
      gtk_widget_set_name (GTK_WIDGET (self->open_spins[weekday]), open_name);
      gtk_widget_set_name (GTK_WIDGET (self->close_spins[weekday]), close_name);
      g_object_set_data (G_OBJECT (self->open_spins[weekday]), "weekday", GINT_TO_POINTER (weekday));
      g_object_set_data (G_OBJECT (self->close_spins[weekday]), "weekday", GINT_TO_POINTER (weekday));

      adw_expander_row_add_row (row, hours_row_new (_("Opens"), self->open_spins[weekday]));
      adw_expander_row_add_row (row, hours_row_new (_("Closes"), self->close_spins[weekday]));

      g_signal_connect_object (row, "notify::enable-expansion", G_CALLBACK (day_notify_cb), self, 0);
      g_signal_connect_object (self->open_spins[weekday], "value-changed",
                               G_CALLBACK (day_spin_changed_cb), self, 0);
      g_signal_connect_object (self->close_spins[weekday], "value-changed",
                               G_CALLBACK (day_spin_changed_cb), self, 0);

      self->day_rows[weekday] = row;
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->hours_group), GTK_WIDGET (row));
    }
}

static void
time_zone_changed_cb (FdSlaPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->time_zone_row));
  g_autofree char *zone = g_strstrip (g_strdup (text));

  if (fd_sla_time_zone_is_valid (zone))
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->time_zone_row), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->time_zone_row), NULL);
      if (self->config != NULL && !self->filling)
        fd_sla_calendar_set_time_zone (self->config->calendar, zone, NULL);
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->time_zone_row), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->time_zone_row),
                                   _("Not a time zone Frontdesk knows"));
    }

  fd_sla_page_changed (self);
}

/* }}} */
/* {{{ Holidays */

static char *
format_day (const char *day)
{
  g_autoptr(GDateTime) dt = NULL;
  int year, month, mday;

  if (sscanf (day, "%d-%d-%d", &year, &month, &mday) != 3 ||
      (dt = g_date_time_new_local (year, month, mday, 12, 0, 0)) == NULL)
    return g_strdup (day);

  /* Translators: a holiday's date, see strftime(3); e.g. "Friday, 25 December 2026". */
  return g_date_time_format (dt, _("%A, %-d %B %Y"));
}

static void
holiday_remove_cb (GtkButton *button,
                   FdSlaPage *self)
{
  const char *day = g_object_get_data (G_OBJECT (button), "day");
  GtkWidget *row;

  if (self->config == NULL || day == NULL)
    return;

  fd_sla_calendar_remove_holiday (self->config->calendar, day);
  fd_sla_page_changed (self);

  /* Last: the day belongs to the button, which goes with its row. */
  row = gtk_widget_get_ancestor (GTK_WIDGET (button), GTK_TYPE_LIST_BOX_ROW);
  if (row != NULL)
    gtk_list_box_remove (self->holidays_list, row);
}

static GtkWidget *
holiday_row_new (FdSlaPage  *self,
                 const char *day,
                 const char *name)
{
  g_autofree char *date = format_day (day);
  g_autofree char *remove_label = NULL;
  g_autofree char *remove_name = g_strdup_printf ("holiday-remove-%s", day);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (name != NULL && *name != '\0')
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), date);
    }
  else
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), date);

  /* Translators: %s is a date. */
  remove_label = g_strdup_printf (_("Remove the holiday on %s"), date);
  button = g_object_new (GTK_TYPE_BUTTON,
                         "icon-name", "user-trash-symbolic",
                         "valign", GTK_ALIGN_CENTER,
                         "tooltip-text", _("Remove Holiday"),
                         "name", remove_name,
                         "css-classes", (const char *[]) { "flat", NULL },
                         NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label,
                                  -1);
  g_object_set_data_full (G_OBJECT (button), "day", g_strdup (day), g_free);
  g_signal_connect_object (button, "clicked", G_CALLBACK (holiday_remove_cb), self, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

static void
fd_sla_page_fill_holidays (FdSlaPage *self)
{
  g_auto(GStrv) days = NULL;
  GtkListBoxRow *row;

  /* Rows only: the placeholder is a child too. */
  while ((row = gtk_list_box_get_row_at_index (self->holidays_list, 0)) != NULL)
    gtk_list_box_remove (self->holidays_list, GTK_WIDGET (row));

  if (self->config == NULL)
    return;

  days = fd_sla_calendar_list_holidays (self->config->calendar);
  for (guint i = 0; days[i] != NULL; i++)
    gtk_list_box_append (self->holidays_list,
                         holiday_row_new (self, days[i],
                                          fd_sla_calendar_get_holiday_name (self->config->calendar,
                                                                            days[i])));
}

static void
holiday_day_selected_cb (FdSlaPage *self)
{
  g_autoptr(GDateTime) date = gtk_calendar_get_date (self->holiday_calendar);
  /* Translators: the date a new holiday gets, see strftime(3); e.g. "25 Dec 2026". */
  g_autofree char *label = g_date_time_format (date, _("%-d %b %Y"));

  gtk_menu_button_set_label (self->holiday_date_button, g_strstrip (label));
}

static void
holiday_add_cb (FdSlaPage *self)
{
  g_autoptr(GDateTime) date = gtk_calendar_get_date (self->holiday_calendar);
  g_autofree char *day = g_date_time_format (date, "%Y-%m-%d");
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->holiday_name_row))));
  g_autoptr(GError) error = NULL;

  if (self->config == NULL)
    return;

  if (!fd_sla_calendar_add_holiday (self->config->calendar, day, name, &error))
    {
      fd_sla_page_show_save_error (self, error->message);
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->holiday_name_row), "");
  fd_sla_page_fill_holidays (self);
  fd_sla_page_changed (self);
}

/* }}} */
/* {{{ Targets */

static void
fd_sla_page_update_plan (FdSlaPage *self,
                         int        plan)
{
  int minutes = (int) gtk_spin_button_get_value (self->target_spins[plan][0][0]);
  g_autofree char *duration = format_duration (minutes);
  g_autofree char *subtitle = NULL;

  /* Translators: the summary of a plan's targets; %s is a duration such as "30 min". */
  subtitle = g_strdup_printf (_("Urgent: first reply within %s"), duration);
  adw_expander_row_set_subtitle (self->plan_rows[plan], subtitle);
}

static void
target_spin_changed_cb (GtkSpinButton *spin,
                        FdSlaPage     *self)
{
  int plan = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (spin), "plan"));
  int priority = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (spin), "priority"));
  int target = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (spin), "target"));
  int minutes = (int) gtk_spin_button_get_value (spin);
  FdSlaPolicy *policy;

  fd_sla_page_update_plan (self, plan);

  if (self->filling || self->config == NULL)
    return;

  policy = fd_sla_config_find_policy (self->config,
                                      fd_sla_get_plans ()[plan],
                                      fd_sla_get_priorities ()[priority]);
  if (policy == NULL)
    return;

  if (target == 0)
    policy->first_reply_minutes = minutes;
  else if (target == 1)
    policy->next_reply_minutes = minutes;
  else
    policy->resolution_minutes = minutes;

  fd_sla_page_changed (self);
}

static void
fd_sla_page_build_targets (FdSlaPage *self)
{
  const char * const *plans = fd_sla_get_plans ();
  const char * const *priorities = fd_sla_get_priorities ();

  g_assert (g_strv_length ((GStrv) plans) == N_PLANS);
  g_assert (g_strv_length ((GStrv) priorities) == N_PRIORITIES);

  /* Strictest first: enterprise at the top. */
  for (int plan = N_PLANS - 1; plan >= 0; plan--)
    {
      AdwExpanderRow *plan_row = ADW_EXPANDER_ROW (adw_expander_row_new ());
      g_autofree char *plan_name = g_strdup_printf ("plan-%s", plans[plan]);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (plan_row), fd_sla_plan_to_label (plans[plan]));
      gtk_widget_set_name (GTK_WIDGET (plan_row), plan_name);
      self->plan_rows[plan] = plan_row;

      for (int priority = 0; priority < N_PRIORITIES; priority++)
        {
          const char *priority_label = fd_sla_priority_to_label (priorities[priority]);
          GtkWidget *row = adw_action_row_new ();
          GtkWidget *columns = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), priority_label);
          gtk_widget_set_margin_top (columns, 6);
          gtk_widget_set_margin_bottom (columns, 6);

          for (int target = 0; target < N_TARGETS; target++)
            {
              /* Translators: e.g. "Enterprise, Urgent: first reply". */
              g_autofree char *accessible = g_strdup_printf (_("%s, %s: %s"),
                                                             fd_sla_plan_to_label (plans[plan]),
                                                             priority_label,
                                                             _(target_titles[target]));
              g_autofree char *name = g_strdup_printf ("target-%s-%s-%s", plans[plan],
                                                       priorities[priority], target_ids[target]);
              GtkWidget *column = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
              GtkWidget *caption = gtk_label_new (_(target_titles[target]));
              GtkSpinButton *spin = duration_spin_new (accessible);

              gtk_widget_add_css_class (caption, "caption");
              gtk_widget_add_css_class (caption, "dim-label");
              gtk_label_set_xalign (GTK_LABEL (caption), 0);
              gtk_widget_set_name (GTK_WIDGET (spin), name);
              g_object_set_data (G_OBJECT (spin), "plan", GINT_TO_POINTER (plan));
              g_object_set_data (G_OBJECT (spin), "priority", GINT_TO_POINTER (priority));
              g_object_set_data (G_OBJECT (spin), "target", GINT_TO_POINTER (target));
              g_signal_connect_object (spin, "value-changed",
                                       G_CALLBACK (target_spin_changed_cb), self, 0);
              self->target_spins[plan][priority][target] = spin;

              gtk_box_append (GTK_BOX (column), caption);
              gtk_box_append (GTK_BOX (column), GTK_WIDGET (spin));
              gtk_box_append (GTK_BOX (columns), column);
            }

          adw_action_row_add_suffix (ADW_ACTION_ROW (row), columns);
          adw_expander_row_add_row (plan_row, row);
        }

      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->targets_group), GTK_WIDGET (plan_row));
    }
}

/* }}} */
/* {{{ Loading and saving */

static void
fd_sla_page_fill (FdSlaPage *self)
{
  const char * const *plans = fd_sla_get_plans ();
  const char * const *priorities = fd_sla_get_priorities ();
  FdSlaCalendar *calendar;

  if (self->config == NULL)
    return;

  calendar = self->config->calendar;
  self->filling = TRUE;

  gtk_editable_set_text (GTK_EDITABLE (self->time_zone_row), fd_sla_calendar_get_time_zone (calendar));

  for (int weekday = G_DATE_MONDAY; weekday <= G_DATE_SUNDAY; weekday++)
    {
      int open_minute, close_minute;
      gboolean open = fd_sla_calendar_get_hours (calendar, weekday, &open_minute, &close_minute);

      if (open)
        {
          gtk_spin_button_set_value (self->open_spins[weekday], open_minute);
          gtk_spin_button_set_value (self->close_spins[weekday], close_minute);
        }
      adw_expander_row_set_enable_expansion (self->day_rows[weekday], open);
      adw_expander_row_set_expanded (self->day_rows[weekday], FALSE);
      fd_sla_page_update_day (self, weekday);
    }

  fd_sla_page_fill_holidays (self);

  for (int plan = 0; plan < N_PLANS; plan++)
    for (int priority = 0; priority < N_PRIORITIES; priority++)
      {
        FdSlaPolicy *policy = fd_sla_config_find_policy (self->config, plans[plan], priorities[priority]);
        int values[N_TARGETS] = { 0, 0, 0 };

        if (policy != NULL)
          {
            values[0] = policy->first_reply_minutes;
            values[1] = policy->next_reply_minutes;
            values[2] = policy->resolution_minutes;
          }

        for (int target = 0; target < N_TARGETS; target++)
          gtk_spin_button_set_value (self->target_spins[plan][priority][target], values[target]);
      }

  self->filling = FALSE;
  self->dirty = FALSE;
  gtk_widget_set_visible (self->save_error_box, FALSE);
}

static void
fd_sla_page_load_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(FdSlaPage) self = user_data;
  g_autoptr(FdSlaConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  config = fd_sla_config_load_finish (FD_STORE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || FD_STORE (object) != self->store)
    return;

  if (config == NULL)
    {
      gtk_label_set_label (self->load_error_label, error->message);
      gtk_widget_set_visible (self->load_error_group, TRUE);
      fd_sla_page_set_flags (self, FALSE, self->saving);
      return;
    }

  gtk_widget_set_visible (self->load_error_group, FALSE);
  g_clear_pointer (&self->config, fd_sla_config_free);
  self->config = g_steal_pointer (&config);
  fd_sla_page_fill (self);
  fd_sla_page_set_flags (self, FALSE, self->saving);
}

static void
fd_sla_page_load (FdSlaPage *self)
{
  if (self->store == NULL)
    return;

  fd_sla_page_set_flags (self, TRUE, self->saving);
  fd_sla_config_load_async (self->store, self->cancellable,
                            fd_sla_page_load_cb, g_object_ref (self));
}

static void
fd_sla_page_save_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(FdSlaPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!fd_sla_config_save_finish (FD_STORE (object), result, &error))
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      fd_sla_page_set_flags (self, self->loading, FALSE);
      /* Settings that cannot work say so themselves; anything else gets a sentence. */
      if (error->domain == FD_SLA_ERROR)
        message = g_strdup (error->message);
      else
        message = g_strdup_printf (_("The SLA settings were not saved: %s"), error->message);
      fd_sla_page_show_save_error (self, message);
      return;
    }

  self->dirty = FALSE;
  gtk_widget_set_visible (self->save_error_box, FALSE);
  fd_sla_page_set_flags (self, self->loading, FALSE);
  fd_sla_page_add_toast (self, _("SLA settings saved; due times are updated"));
}

static void
fd_sla_page_save (FdSlaPage *self)
{
  g_autofree char *zone = NULL;
  g_autoptr(GError) error = NULL;

  if (self->store == NULL || self->config == NULL || fd_sla_page_is_busy (self))
    return;

  /* The entry may hold a zone the config never took. */
  zone = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->time_zone_row))));
  if (!fd_sla_calendar_set_time_zone (self->config->calendar, zone, &error))
    {
      fd_sla_page_show_save_error (self, error->message);
      gtk_widget_grab_focus (GTK_WIDGET (self->time_zone_row));
      return;
    }

  if (!fd_sla_config_validate (self->config, &error))
    {
      fd_sla_page_show_save_error (self, error->message);
      return;
    }

  gtk_widget_set_visible (self->save_error_box, FALSE);
  fd_sla_page_set_flags (self, self->loading, TRUE);
  fd_sla_config_save_async (self->store, self->config, self->cancellable,
                            fd_sla_page_save_cb, g_object_ref (self));
}

static void
save_clicked_cb (FdSlaPage *self)
{
  fd_sla_page_save (self);
}

static void
revert_clicked_cb (FdSlaPage *self)
{
  if (!fd_sla_page_is_busy (self))
    fd_sla_page_load (self);
}

/* }}} */
/* {{{ GObject */

GtkWidget *
fd_sla_page_new (void)
{
  return g_object_new (FD_TYPE_SLA_PAGE, NULL);
}

FdStore *
fd_sla_page_get_store (FdSlaPage *self)
{
  g_return_val_if_fail (FD_IS_SLA_PAGE (self), NULL);

  return self->store;
}

void
fd_sla_page_set_store (FdSlaPage *self,
                       FdStore   *store)
{
  g_return_if_fail (FD_IS_SLA_PAGE (self));
  g_return_if_fail (store == NULL || FD_IS_STORE (store));

  if (self->store == store)
    return;

  /* Work for the old store is dropped. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  g_set_object (&self->store, store);
  g_clear_pointer (&self->config, fd_sla_config_free);
  self->dirty = FALSE;
  fd_sla_page_set_flags (self, FALSE, FALSE);
  fd_sla_page_load (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE]);
}

gboolean
fd_sla_page_get_busy (FdSlaPage *self)
{
  g_return_val_if_fail (FD_IS_SLA_PAGE (self), FALSE);

  return fd_sla_page_is_busy (self);
}

static void
fd_sla_page_dispose (GObject *object)
{
  FdSlaPage *self = (FdSlaPage *)object;

  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_SLA_PAGE);

  G_OBJECT_CLASS (fd_sla_page_parent_class)->dispose (object);
}

static void
fd_sla_page_finalize (GObject *object)
{
  FdSlaPage *self = (FdSlaPage *)object;

  g_clear_object (&self->store);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->config, fd_sla_config_free);

  G_OBJECT_CLASS (fd_sla_page_parent_class)->finalize (object);
}

static void
fd_sla_page_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  FdSlaPage *self = FD_SLA_PAGE (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_BUSY:
      g_value_set_boolean (value, fd_sla_page_is_busy (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_sla_page_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  FdSlaPage *self = FD_SLA_PAGE (object);

  switch (prop_id)
    {
    case PROP_STORE:
      fd_sla_page_set_store (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_sla_page_class_init (FdSlaPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_sla_page_dispose;
  object_class->finalize = fd_sla_page_finalize;
  object_class->get_property = fd_sla_page_get_property;
  object_class->set_property = fd_sla_page_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         FD_TYPE_STORE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/app/fd-sla-page.ui");
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, load_error_group);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, load_error_label);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, hours_group);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, time_zone_row);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, holidays_group);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, holidays_list);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, holiday_name_row);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, holiday_date_button);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, holiday_calendar);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, targets_group);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, save_error_box);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, save_error_label);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, save_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, revert_button);
  gtk_widget_class_bind_template_child (widget_class, FdSlaPage, save_button);
  gtk_widget_class_bind_template_callback (widget_class, time_zone_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, holiday_add_cb);
  gtk_widget_class_bind_template_callback (widget_class, holiday_day_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, save_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, revert_clicked_cb);
}

static void
fd_sla_page_init (FdSlaPage *self)
{
  GtkWidget *placeholder;

  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  fd_sla_page_build_days (self);
  fd_sla_page_build_targets (self);

  placeholder = g_object_new (GTK_TYPE_LABEL,
                              "label", _("No holidays"),
                              "margin-top", 12,
                              "margin-bottom", 12,
                              "css-classes", (const char *[]) { "dim-label", NULL },
                              NULL);
  gtk_list_box_set_placeholder (self->holidays_list, placeholder);

  holiday_day_selected_cb (self);
  fd_sla_page_update_sensitivity (self);
}

/* }}} */
