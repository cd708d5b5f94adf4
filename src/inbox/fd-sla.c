/* fd-sla.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sla"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "fd-sla.h"

G_DEFINE_QUARK (fd-sla-error-quark, fd_sla_error)

#define MINUTE_MS  G_GINT64_CONSTANT (60000)
#define DAY_MS     G_GINT64_CONSTANT (86400000)
#define NEVER      G_MAXINT64
/* g_date_get_julian () of 1970-01-01: calendar days are counted from the Unix epoch. */
#define EPOCH_JULIAN 719163
/* GDateTime covers years 1 to 9999; keep well inside. */
#define MIN_MS     G_GINT64_CONSTANT (-62000000000000)
#define MAX_MS     G_GINT64_CONSTANT (253000000000000)
#define MAX_DAY    (MAX_MS / DAY_MS)

/* {{{ Names */

static const char * const plans[] = { "free", "starter", "pro", "business", "enterprise", NULL };
static const char * const priorities[] = { "urgent", "high", "normal", "low", NULL };
#define N_PLANS 5
#define N_PRIORITIES 4

enum { TARGET_FIRST_REPLY, TARGET_NEXT_REPLY, TARGET_RESOLUTION, N_TARGETS };
static const char * const target_names[] = { "first_reply", "next_reply", "resolution" };

/* Minutes of business time: first reply, next reply, resolution. */
static const int default_targets[N_PLANS][N_PRIORITIES][N_TARGETS] = {
  /* free */       { { 480, 960, 2400 },  { 960, 1440, 4800 }, { 1440, 2880, 7200 }, { 2880, 4800, 9600 } },
  /* starter */    { { 240, 480, 1440 },  { 480, 960, 2400 },  { 960, 1440, 4800 },  { 1440, 2880, 7200 } },
  /* pro */        { { 120, 240, 960 },   { 240, 480, 1440 },  { 480, 960, 2400 },   { 960, 1440, 4800 } },
  /* business */   { { 60, 120, 480 },    { 120, 240, 960 },   { 240, 480, 1440 },   { 480, 960, 2880 } },
  /* enterprise */ { { 30, 60, 240 },     { 60, 120, 480 },    { 120, 240, 960 },    { 240, 480, 1920 } },
};

static const char * const weekday_names[] = {
  NULL, N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
  N_("Saturday"), N_("Sunday"),
};

const char * const *
fd_sla_get_plans (void)
{
  return plans;
}

const char * const *
fd_sla_get_priorities (void)
{
  return priorities;
}

static int
index_of (const char * const *names,
          const char         *name)
{
  for (int i = 0; name != NULL && names[i] != NULL; i++)
    if (g_str_equal (names[i], name))
      return i;

  return -1;
}

const char *
fd_sla_plan_to_label (const char *plan)
{
  switch (index_of (plans, plan))
    {
    case 0: return _("Free");
    case 1: return _("Starter");
    case 2: return _("Pro");
    case 3: return _("Business");
    case 4: return _("Enterprise");
    default: return plan;
    }
}

const char *
fd_sla_priority_to_label (const char *priority)
{
  switch (index_of (priorities, priority))
    {
    case 0: return _("Urgent");
    case 1: return _("High");
    case 2: return _("Normal");
    case 3: return _("Low");
    default: return priority;
    }
}

/* }}} */
/* {{{ States and countdowns */

FdSlaState
fd_sla_state_at (gint64 due_at,
                 gint64 risk_at,
                 gint64 now_ms)
{
  if (due_at <= 0)
    return FD_SLA_NONE;
  if (now_ms >= due_at)
    return FD_SLA_BREACHED;
  if (risk_at > 0 && now_ms >= risk_at)
    return FD_SLA_AT_RISK;
  return FD_SLA_ON_TRACK;
}

const char *
fd_sla_state_to_label (FdSlaState state)
{
  switch (state)
    {
    case FD_SLA_ON_TRACK:
      return _("On track");
    case FD_SLA_AT_RISK:
      return _("At risk");
    case FD_SLA_BREACHED:
      return _("Breached");
    case FD_SLA_NONE:
    default:
      return NULL;
    }
}

static char *
format_minutes (gint64 minutes)
{
  gint64 days = minutes / (24 * 60);
  gint64 hours = (minutes / 60) % 24;

  if (minutes < 60)
    /* Translators: a short duration, e.g. "42 min". */
    return g_strdup_printf (_("%d min"), (int) minutes);

  if (days == 0)
    {
      if (minutes % 60 == 0)
        /* Translators: a short duration in hours, e.g. "3 h". */
        return g_strdup_printf (_("%d h"), (int) hours);
      /* Translators: a short duration, e.g. "3 h 10 min". */
      return g_strdup_printf (_("%d h %d min"), (int) hours, (int) (minutes % 60));
    }

  if (hours == 0)
    /* Translators: a short duration in days, e.g. "2 d". */
    return g_strdup_printf (_("%d d"), (int) MIN (days, G_MAXINT));
  /* Translators: a short duration, e.g. "2 d 4 h". */
  return g_strdup_printf (_("%d d %d h"), (int) MIN (days, G_MAXINT), (int) hours);
}

char *
fd_sla_format_countdown (gint64 due_at,
                         gint64 now_ms)
{
  g_autofree char *span = NULL;

  if (due_at <= 0)
    return NULL;

  if (due_at > now_ms)
    return format_minutes ((due_at - now_ms + MINUTE_MS - 1) / MINUTE_MS);

  span = format_minutes ((now_ms - due_at) / MINUTE_MS);
  /* Translators: a breached target, %s is a short duration such as "15 min". */
  return g_strdup_printf (_("%s over"), span);
}

/* }}} */
/* {{{ Calendar */

typedef struct
{
  gint64 start;   /* local midnight, as UTC ms */
  gint64 open;    /* opening and closing, UTC ms; equal on a closed day */
  gint64 close;
  gint64 before;  /* business ms from the first cached day's midnight to this one's */
} Day;

struct _FdSlaCalendar
{
  char       *time_zone;
  GTimeZone  *tz;
  gboolean    tz_valid;
  int         open[8];     /* by GDateWeekday; -1 when closed */
  int         close[8];
  GHashTable *holidays;    /* "YYYY-MM-DD" → name */

  /* Business time is looked up in a table of days, computed once and extended as
   * needed: whole days are skipped by binary search over the running total, and each
   * day's bounds come from the time zone, so daylight saving changes are exact. The
   * last entry is a sentinel that only holds the end of the table. */
  GMutex      lock;
  gint64      first_day;   /* days since 1970-01-01, local */
  GArray     *days;        /* Day */
};

static void
calendar_invalidate (FdSlaCalendar *calendar)
{
  g_mutex_lock (&calendar->lock);
  g_array_set_size (calendar->days, 0);
  g_mutex_unlock (&calendar->lock);
}

gboolean
fd_sla_time_zone_is_valid (const char *time_zone)
{
  g_autoptr(GTimeZone) tz = NULL;

  if (time_zone == NULL || *time_zone == '\0')
    return FALSE;

  /* Only names: a path or a "+01:00" offset is not a calendar's zone. */
  if (time_zone[0] == '/' || time_zone[0] == '+' || time_zone[0] == '-' ||
      strstr (time_zone, "..") != NULL)
    return FALSE;

  tz = g_time_zone_new_identifier (time_zone);
  return tz != NULL;
}

static char *
system_time_zone (void)
{
  g_autoptr(GTimeZone) local = g_time_zone_new_local ();
  const char *id = g_time_zone_get_identifier (local);

  if (fd_sla_time_zone_is_valid (id))
    return g_strdup (id);

  return g_strdup ("UTC");
}

static void
calendar_take_time_zone (FdSlaCalendar *calendar,
                         const char    *time_zone)
{
  g_clear_pointer (&calendar->time_zone, g_free);
  g_clear_pointer (&calendar->tz, g_time_zone_unref);

  calendar->time_zone = time_zone != NULL ? g_strdup (time_zone) : system_time_zone ();
  calendar->tz_valid = fd_sla_time_zone_is_valid (calendar->time_zone);
  calendar->tz = calendar->tz_valid ? g_time_zone_new_identifier (calendar->time_zone)
                                    : g_time_zone_new_utc ();
}

FdSlaCalendar *
fd_sla_calendar_new (const char *time_zone)
{
  FdSlaCalendar *calendar = g_new0 (FdSlaCalendar, 1);

  calendar_take_time_zone (calendar, time_zone);
  calendar->holidays = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_mutex_init (&calendar->lock);
  calendar->days = g_array_new (FALSE, FALSE, sizeof (Day));

  for (int day = G_DATE_MONDAY; day <= G_DATE_SUNDAY; day++)
    {
      gboolean weekday = day <= G_DATE_FRIDAY;

      calendar->open[day] = weekday ? 9 * 60 : -1;
      calendar->close[day] = weekday ? 17 * 60 : -1;
    }

  return calendar;
}

FdSlaCalendar *
fd_sla_calendar_copy (const FdSlaCalendar *calendar)
{
  FdSlaCalendar *copy;
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (calendar != NULL, NULL);

  copy = fd_sla_calendar_new (calendar->time_zone);
  memcpy (copy->open, calendar->open, sizeof copy->open);
  memcpy (copy->close, calendar->close, sizeof copy->close);

  g_hash_table_iter_init (&iter, calendar->holidays);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->holidays, g_strdup (key), g_strdup (value));

  return copy;
}

void
fd_sla_calendar_free (FdSlaCalendar *calendar)
{
  if (calendar == NULL)
    return;

  g_free (calendar->time_zone);
  g_time_zone_unref (calendar->tz);
  g_hash_table_unref (calendar->holidays);
  g_mutex_clear (&calendar->lock);
  g_array_unref (calendar->days);
  g_free (calendar);
}

const char *
fd_sla_calendar_get_time_zone (const FdSlaCalendar *calendar)
{
  g_return_val_if_fail (calendar != NULL, NULL);

  return calendar->time_zone;
}

gboolean
fd_sla_calendar_set_time_zone (FdSlaCalendar  *calendar,
                               const char     *time_zone,
                               GError        **error)
{
  g_return_val_if_fail (calendar != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!fd_sla_time_zone_is_valid (time_zone))
    {
      g_set_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                   _("“%s” is not a time zone Frontdesk knows. Use a name such as "
                     "“Europe/Berlin” or “America/New_York”."),
                   time_zone != NULL ? time_zone : "");
      return FALSE;
    }

  calendar_take_time_zone (calendar, time_zone);
  calendar_invalidate (calendar);
  return TRUE;
}

void
fd_sla_calendar_set_hours (FdSlaCalendar *calendar,
                           GDateWeekday   weekday,
                           int            open_minute,
                           int            close_minute)
{
  g_return_if_fail (calendar != NULL);
  g_return_if_fail (weekday >= G_DATE_MONDAY && weekday <= G_DATE_SUNDAY);

  /* Kept as given, so that saving can say what is wrong; business time treats an
   * impossible day as closed. */
  calendar->open[weekday] = open_minute;
  calendar->close[weekday] = close_minute;
  calendar_invalidate (calendar);
}

static gboolean
hours_are_open (int open_minute,
                int close_minute)
{
  return open_minute >= 0 && close_minute <= 24 * 60 && open_minute < close_minute;
}

gboolean
fd_sla_calendar_get_hours (const FdSlaCalendar *calendar,
                           GDateWeekday         weekday,
                           int                 *open_minute,
                           int                 *close_minute)
{
  g_return_val_if_fail (calendar != NULL, FALSE);
  g_return_val_if_fail (weekday >= G_DATE_MONDAY && weekday <= G_DATE_SUNDAY, FALSE);

  if (open_minute != NULL)
    *open_minute = calendar->open[weekday];
  if (close_minute != NULL)
    *close_minute = calendar->close[weekday];

  return hours_are_open (calendar->open[weekday], calendar->close[weekday]);
}

/* "YYYY-MM-DD", a real date. */
static gboolean
parse_day (const char *day,
           GDate      *date)
{
  static const char pattern[] = "dddd-dd-dd";
  guint year, month, mday;

  if (day == NULL || strlen (day) != strlen (pattern))
    return FALSE;

  for (guint i = 0; pattern[i] != '\0'; i++)
    if (pattern[i] == 'd' ? !g_ascii_isdigit (day[i]) : day[i] != pattern[i])
      return FALSE;

  year = (guint) g_ascii_strtoull (day, NULL, 10);
  month = (guint) g_ascii_strtoull (day + 5, NULL, 10);
  mday = (guint) g_ascii_strtoull (day + 8, NULL, 10);
  if (!g_date_valid_dmy (mday, month, year))
    return FALSE;

  g_date_clear (date, 1);
  g_date_set_dmy (date, mday, month, year);
  return TRUE;
}

gboolean
fd_sla_calendar_add_holiday (FdSlaCalendar  *calendar,
                             const char     *day,
                             const char     *name,
                             GError        **error)
{
  GDate date;

  g_return_val_if_fail (calendar != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!parse_day (day, &date))
    {
      g_set_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                   _("“%s” is not a date. Write a holiday as year-month-day, for example "
                     "“2026-12-25”."),
                   day != NULL ? day : "");
      return FALSE;
    }

  g_hash_table_insert (calendar->holidays, g_strdup (day),
                       g_strstrip (g_strdup (name != NULL ? name : "")));
  calendar_invalidate (calendar);
  return TRUE;
}

void
fd_sla_calendar_remove_holiday (FdSlaCalendar *calendar,
                                const char    *day)
{
  g_return_if_fail (calendar != NULL);

  if (day != NULL && g_hash_table_remove (calendar->holidays, day))
    calendar_invalidate (calendar);
}

static int
compare_days (gconstpointer a,
              gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

GStrv
fd_sla_calendar_list_holidays (const FdSlaCalendar *calendar)
{
  g_autoptr(GPtrArray) days = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (calendar != NULL, NULL);

  g_hash_table_iter_init (&iter, calendar->holidays);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (days, g_strdup (key));
  g_ptr_array_sort (days, compare_days);
  g_ptr_array_add (days, NULL);

  return (GStrv) g_ptr_array_free (g_steal_pointer (&days), FALSE);
}

const char *
fd_sla_calendar_get_holiday_name (const FdSlaCalendar *calendar,
                                  const char          *day)
{
  g_return_val_if_fail (calendar != NULL, NULL);

  return day != NULL ? g_hash_table_lookup (calendar->holidays, day) : NULL;
}

static gboolean
calendar_has_open_weekday (const FdSlaCalendar *calendar)
{
  for (int day = G_DATE_MONDAY; day <= G_DATE_SUNDAY; day++)
    if (hours_are_open (calendar->open[day], calendar->close[day]))
      return TRUE;

  return FALSE;
}

static void
day_to_date (gint64  day,
             GDate   *date)
{
  g_date_clear (date, 1);
  g_date_set_julian (date, (guint32) (day + EPOCH_JULIAN));
}

/* The UTC moment of @minute (0 … 1440) on local @day. */
static gint64
local_moment (const FdSlaCalendar *calendar,
              gint64               day,
              int                  minute)
{
  g_autoptr(GDateTime) dt = NULL;
  GDate date;

  if (minute >= 24 * 60)
    {
      day++;
      minute -= 24 * 60;
    }

  day_to_date (day, &date);
  /* A moment that does not exist (skipped by a daylight saving change) is moved
   * forward by GLib, as a clock would. */
  dt = g_date_time_new (calendar->tz,
                        g_date_get_year (&date), g_date_get_month (&date), g_date_get_day (&date),
                        minute / 60, minute % 60, 0);
  g_assert (dt != NULL);

  return g_date_time_to_unix (dt) * 1000;
}

/* The local day of a UTC moment. */
static gint64
day_of (const FdSlaCalendar *calendar,
        gint64               moment)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;
  gint64 seconds = moment >= 0 ? moment / 1000 : -((-moment + 999) / 1000);
  int year, month, mday;
  GDate date;

  utc = g_date_time_new_from_unix_utc (seconds);
  local = g_date_time_to_timezone (utc, calendar->tz);
  g_date_time_get_ymd (local, &year, &month, &mday);

  g_date_clear (&date, 1);
  g_date_set_dmy (&date, mday, month, year);
  return (gint64) g_date_get_julian (&date) - EPOCH_JULIAN;
}

static void
fill_day (const FdSlaCalendar *calendar,
          gint64               day,
          gint64               start,
          gint64               next_start,
          Day                 *out)
{
  GDate date;
  GDateWeekday weekday;
  char key[11];
  int open_minute, close_minute;

  day_to_date (day, &date);
  weekday = g_date_get_weekday (&date);
  g_snprintf (key, sizeof key, "%04u-%02u-%02u",
              g_date_get_year (&date), g_date_get_month (&date), g_date_get_day (&date));

  out->start = start;
  out->open = out->close = start;

  open_minute = calendar->open[weekday];
  close_minute = calendar->close[weekday];
  if (!hours_are_open (open_minute, close_minute) ||
      g_hash_table_contains (calendar->holidays, key))
    return;

  out->open = CLAMP (local_moment (calendar, day, open_minute), start, next_start);
  out->close = close_minute == 24 * 60 ? next_start
                                       : CLAMP (local_moment (calendar, day, close_minute),
                                                out->open, next_start);
}

/* Makes the table cover local days @lo … @hi. Called with the lock held. */
static void
calendar_cover (FdSlaCalendar *calendar,
                gint64         lo,
                gint64         hi)
{
  GArray *old = calendar->days;
  gint64 old_lo = calendar->first_day;
  gint64 old_n = old->len > 0 ? (gint64) old->len - 1 : 0;
  gint64 old_hi = old_lo + old_n - 1;
  g_autofree gint64 *starts = NULL;
  g_autoptr(GArray) days = NULL;
  gint64 n, before = 0;

  if (old_n > 0 && lo >= old_lo && hi <= old_hi)
    return;

  /* Grow by at least the current size, so long walks extend the table rarely. */
  if (old_n > 0)
    {
      lo = lo < old_lo ? MIN (lo, old_lo - MAX (old_n, 32)) : old_lo;
      hi = hi > old_hi ? MAX (hi, old_hi + MAX (old_n, 32)) : old_hi;
    }
  else
    {
      lo -= 7;
      hi += 31;
    }

  lo = MAX (lo, MIN_MS / DAY_MS);
  hi = MIN (hi, MAX_DAY);
  n = hi - lo + 1;
  days = g_array_sized_new (FALSE, FALSE, sizeof (Day), (guint) n + 1);
  g_array_set_size (days, (guint) n + 1);

  /* Midnights, the old sentinel's included, are reused. */
  starts = g_new (gint64, n + 1);
  for (gint64 i = 0; i <= n; i++)
    {
      gint64 day = lo + i;

      if (old_n > 0 && day >= old_lo && day <= old_hi + 1)
        starts[i] = g_array_index (old, Day, day - old_lo).start;
      else
        starts[i] = local_moment (calendar, day, 0);
    }

  for (gint64 i = 0; i < n; i++)
    {
      gint64 day = lo + i;
      Day *entry = &g_array_index (days, Day, i);

      if (old_n > 0 && day >= old_lo && day <= old_hi)
        *entry = g_array_index (old, Day, day - old_lo);
      else
        fill_day (calendar, day, starts[i], starts[i + 1], entry);

      entry->before = before;
      before += entry->close - entry->open;
    }

  {
    Day *sentinel = &g_array_index (days, Day, n);

    sentinel->start = sentinel->open = sentinel->close = starts[n];
    sentinel->before = before;
  }

  calendar->first_day = lo;
  g_array_unref (calendar->days);
  calendar->days = g_steal_pointer (&days);
}

/* The index of the cached day holding @moment, extending the table if needed.
 * Called with the lock held. */
static guint
calendar_locate (FdSlaCalendar *calendar,
                 gint64         moment)
{
  const Day *days;
  guint lo, hi;

  if (calendar->days->len < 2 ||
      moment < g_array_index (calendar->days, Day, 0).start ||
      moment >= g_array_index (calendar->days, Day, calendar->days->len - 1).start)
    {
      gint64 day = day_of (calendar, moment);

      calendar_cover (calendar, day, day);
    }

  days = (const Day *) calendar->days->data;
  lo = 0;
  hi = calendar->days->len - 1;   /* the sentinel: days[hi].start > moment */
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (days[mid].start <= moment)
        lo = mid;
      else
        hi = mid;
    }

  return lo;
}

/* Business ms from the table's start to @moment. */
static gint64
business_before (FdSlaCalendar *calendar,
                 guint          index,
                 gint64         moment)
{
  const Day *day = &g_array_index (calendar->days, Day, index);

  return day->before + CLAMP (moment, day->open, day->close) - day->open;
}

static gint64
calendar_between (FdSlaCalendar *calendar,
                  gint64         from_ms,
                  gint64         to_ms)
{
  guint from_index, to_index;

  if (to_ms <= from_ms)
    return 0;

  from_ms = CLAMP (from_ms, MIN_MS, MAX_MS);
  to_ms = CLAMP (to_ms, MIN_MS, MAX_MS);

  /* Locating the second may extend the table; locate both before reading either. */
  calendar_locate (calendar, from_ms);
  calendar_locate (calendar, to_ms);
  from_index = calendar_locate (calendar, from_ms);
  to_index = calendar_locate (calendar, to_ms);

  return business_before (calendar, to_index, to_ms) -
         business_before (calendar, from_index, from_ms);
}

static gint64
calendar_add (FdSlaCalendar *calendar,
              gint64         start_ms,
              gint64         business_ms)
{
  gint64 target, start_day;
  guint index;

  if (business_ms <= 0)
    return start_ms;
  /* Beyond fifty years of round-the-clock business time a target is "never". */
  if (!calendar_has_open_weekday (calendar) || start_ms >= MAX_MS ||
      business_ms > 50 * 366 * DAY_MS)
    return NEVER;

  start_ms = MAX (start_ms, MIN_MS);
  index = calendar_locate (calendar, start_ms);
  start_day = calendar->first_day + index;
  target = business_before (calendar, index, start_ms) + business_ms;

  for (;;)
    {
      const Day *days = (const Day *) calendar->days->data;
      guint n = calendar->days->len - 1;
      guint lo, hi;

      if (days[n].before >= target)
        {
          /* The first day whose running total reaches the target. */
          lo = index;
          hi = n;
          while (lo < hi)
            {
              guint mid = lo + (hi - lo) / 2;

              if (days[mid + 1].before >= target)
                hi = mid;
              else
                lo = mid + 1;
            }

          return days[lo].open + (target - days[lo].before);
        }

      /* A calendar open an hour a week takes centuries to count years of business
       * time: beyond two hundred years, or the years GDateTime knows, a target is
       * never met. */
      if (calendar->first_day + n > MIN (start_day + 200 * 366, MAX_DAY))
        return NEVER;

      calendar_cover (calendar, calendar->first_day,
                      calendar->first_day + n + (target - days[n].before) / DAY_MS + 1);
    }
}

gint64
fd_sla_calendar_add_business_minutes (const FdSlaCalendar *calendar,
                                      gint64               start_ms,
                                      gint64               business_minutes)
{
  FdSlaCalendar *self = (FdSlaCalendar *) calendar;
  gint64 result;

  g_return_val_if_fail (calendar != NULL, start_ms);

  if (business_minutes <= 0)
    return start_ms;

  g_mutex_lock (&self->lock);
  result = calendar_add (self, start_ms, MIN (business_minutes, G_MAXINT64 / MINUTE_MS / 4) * MINUTE_MS);
  g_mutex_unlock (&self->lock);

  return result;
}

gint64
fd_sla_calendar_business_ms_between (const FdSlaCalendar *calendar,
                                     gint64               from_ms,
                                     gint64               to_ms)
{
  FdSlaCalendar *self = (FdSlaCalendar *) calendar;
  gint64 result;

  g_return_val_if_fail (calendar != NULL, 0);

  g_mutex_lock (&self->lock);
  result = calendar_between (self, from_ms, to_ms);
  g_mutex_unlock (&self->lock);

  return result;
}

/* }}} */
/* {{{ Policies and configuration */

void
fd_sla_policy_free (FdSlaPolicy *policy)
{
  if (policy == NULL)
    return;

  g_free (policy->plan);
  g_free (policy->priority);
  g_free (policy);
}

static FdSlaPolicy *
policy_new (const char *plan,
            const char *priority,
            int         first_reply_minutes,
            int         next_reply_minutes,
            int         resolution_minutes)
{
  FdSlaPolicy *policy = g_new0 (FdSlaPolicy, 1);

  policy->plan = g_strdup (plan);
  policy->priority = g_strdup (priority);
  policy->first_reply_minutes = first_reply_minutes;
  policy->next_reply_minutes = next_reply_minutes;
  policy->resolution_minutes = resolution_minutes;

  return policy;
}

static GPtrArray *
default_policies (void)
{
  GPtrArray *policies = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_sla_policy_free);

  for (int p = 0; p < N_PLANS; p++)
    for (int q = 0; q < N_PRIORITIES; q++)
      g_ptr_array_add (policies, policy_new (plans[p], priorities[q],
                                             default_targets[p][q][TARGET_FIRST_REPLY],
                                             default_targets[p][q][TARGET_NEXT_REPLY],
                                             default_targets[p][q][TARGET_RESOLUTION]));

  return policies;
}

FdSlaConfig *
fd_sla_config_new_default (void)
{
  FdSlaConfig *config = g_new0 (FdSlaConfig, 1);

  config->calendar = fd_sla_calendar_new (NULL);
  config->policies = default_policies ();

  return config;
}

FdSlaConfig *
fd_sla_config_copy (const FdSlaConfig *config)
{
  FdSlaConfig *copy;

  g_return_val_if_fail (config != NULL, NULL);

  copy = g_new0 (FdSlaConfig, 1);
  copy->calendar = fd_sla_calendar_copy (config->calendar);
  copy->policies = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_sla_policy_free);
  for (guint i = 0; config->policies != NULL && i < config->policies->len; i++)
    {
      const FdSlaPolicy *policy = g_ptr_array_index (config->policies, i);

      g_ptr_array_add (copy->policies,
                       policy_new (policy->plan, policy->priority, policy->first_reply_minutes,
                                   policy->next_reply_minutes, policy->resolution_minutes));
    }

  return copy;
}

void
fd_sla_config_free (FdSlaConfig *config)
{
  if (config == NULL)
    return;

  g_clear_pointer (&config->calendar, fd_sla_calendar_free);
  g_clear_pointer (&config->policies, g_ptr_array_unref);
  g_free (config);
}

FdSlaPolicy *
fd_sla_config_find_policy (const FdSlaConfig *config,
                           const char        *plan,
                           const char        *priority)
{
  g_return_val_if_fail (config != NULL, NULL);

  for (guint i = 0; config->policies != NULL && i < config->policies->len; i++)
    {
      FdSlaPolicy *policy = g_ptr_array_index (config->policies, i);

      if (g_strcmp0 (policy->plan, plan) == 0 && g_strcmp0 (policy->priority, priority) == 0)
        return policy;
    }

  return NULL;
}

gboolean
fd_sla_config_validate (const FdSlaConfig  *config,
                        GError            **error)
{
  const FdSlaCalendar *calendar;

  g_return_val_if_fail (config != NULL && config->calendar != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  calendar = config->calendar;

  if (!calendar->tz_valid)
    {
      g_set_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                   _("“%s” is not a time zone Frontdesk knows. Use a name such as "
                     "“Europe/Berlin” or “America/New_York”."),
                   calendar->time_zone);
      return FALSE;
    }

  for (int day = G_DATE_MONDAY; day <= G_DATE_SUNDAY; day++)
    {
      int open_minute = calendar->open[day];
      int close_minute = calendar->close[day];

      if (open_minute < 0 && close_minute < 0)
        continue;

      if (open_minute < 0 || close_minute > 24 * 60 || close_minute < 0)
        {
          g_set_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                       /* Translators: %s is a day of the week. */
                       _("The hours on %s must lie between 00:00 and 24:00."),
                       _(weekday_names[day]));
          return FALSE;
        }

      if (open_minute >= close_minute)
        {
          g_set_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                       /* Translators: %s is a day of the week. */
                       _("On %s the business day must end after it starts."),
                       _(weekday_names[day]));
          return FALSE;
        }
    }

  if (!calendar_has_open_weekday (calendar))
    {
      g_set_error_literal (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                           _("The business calendar has no open day, so no target could "
                             "ever be met. Open at least one day of the week."));
      return FALSE;
    }

  for (guint i = 0; config->policies != NULL && i < config->policies->len; i++)
    {
      const FdSlaPolicy *policy = g_ptr_array_index (config->policies, i);

      if (index_of (plans, policy->plan) < 0)
        {
          g_set_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                       _("“%s” is not a plan Frontdesk knows."),
                       policy->plan != NULL ? policy->plan : "");
          return FALSE;
        }

      if (index_of (priorities, policy->priority) < 0)
        {
          g_set_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                       _("“%s” is not a priority Frontdesk knows."),
                       policy->priority != NULL ? policy->priority : "");
          return FALSE;
        }

      if (policy->first_reply_minutes < 0 || policy->next_reply_minutes < 0 ||
          policy->resolution_minutes < 0)
        {
          g_set_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID,
                       /* Translators: the first %s is a plan ("Pro"), the second a
                        * priority ("Urgent"). */
                       _("A target of %s, %s is less than zero. Set a time, or zero for "
                         "no target."),
                       fd_sla_plan_to_label (policy->plan),
                       fd_sla_priority_to_label (policy->priority));
          return FALSE;
        }
    }

  return TRUE;
}

static char *
hours_to_json (const FdSlaCalendar *calendar)
{
  g_autoptr(GString) json = g_string_new ("[");

  for (int day = G_DATE_MONDAY; day <= G_DATE_SUNDAY; day++)
    {
      if (day > G_DATE_MONDAY)
        g_string_append_c (json, ',');

      if (hours_are_open (calendar->open[day], calendar->close[day]))
        g_string_append_printf (json, "[%d,%d]", calendar->open[day], calendar->close[day]);
      else
        g_string_append (json, "null");
    }
  g_string_append_c (json, ']');

  return g_string_free (g_steal_pointer (&json), FALSE);
}

/* A damaged value keeps the default hours: a broken setting must not stop replies. */
static void
hours_from_json (FdSlaCalendar *calendar,
                 const char    *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *array;
  JsonNode *root;

  if (text == NULL || !json_parser_load_from_data (parser, text, -1, NULL))
    return;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root) ||
      json_array_get_length ((array = json_node_get_array (root))) != 7)
    {
      g_debug ("Ignoring damaged SLA hours %s", text);
      return;
    }

  for (guint i = 0; i < 7; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      GDateWeekday weekday = G_DATE_MONDAY + i;
      int open_minute = -1, close_minute = -1;

      if (JSON_NODE_HOLDS_ARRAY (node) && json_array_get_length (json_node_get_array (node)) == 2)
        {
          open_minute = (int) json_array_get_int_element (json_node_get_array (node), 0);
          close_minute = (int) json_array_get_int_element (json_node_get_array (node), 1);
          if (!hours_are_open (open_minute, close_minute))
            open_minute = close_minute = -1;
        }

      calendar->open[weekday] = open_minute;
      calendar->close[weekday] = close_minute;
    }

  calendar_invalidate (calendar);
}

static int
column_minutes (sqlite3_stmt *stmt,
                int           column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return 0;

  return (int) CLAMP (sqlite3_column_int64 (stmt, column), 0, G_MAXINT);
}

gboolean
fd_sla_config_load (sqlite3      *db,
                    FdSlaConfig **config,
                    GError      **error)
{
  g_autoptr(FdSlaConfig) loaded = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  *config = NULL;
  loaded = fd_sla_config_new_default ();

  stmt = fd_store_prepare (db, "SELECT time_zone, hours_json FROM sla_calendar WHERE id = 1", error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      calendar_take_time_zone (loaded->calendar, (const char *) sqlite3_column_text (stmt, 0));
      hours_from_json (loaded->calendar, (const char *) sqlite3_column_text (stmt, 1));
    }
  else if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = fd_store_prepare (db, "SELECT day, name FROM sla_holidays", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *day = (const char *) sqlite3_column_text (stmt, 0);
      GDate date;

      if (parse_day (day, &date))
        g_hash_table_insert (loaded->calendar->holidays, g_strdup (day),
                             g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = fd_store_prepare (db,
                           "SELECT plan, priority, first_reply_minutes, next_reply_minutes, "
                           "  resolution_minutes FROM sla_policies",
                           error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FdSlaPolicy *policy = fd_sla_config_find_policy (loaded,
                                                       (const char *) sqlite3_column_text (stmt, 0),
                                                       (const char *) sqlite3_column_text (stmt, 1));

      /* Rows of plans this version does not know are kept in the table, unused. */
      if (policy == NULL)
        continue;

      policy->first_reply_minutes = column_minutes (stmt, 2);
      policy->next_reply_minutes = column_minutes (stmt, 3);
      policy->resolution_minutes = column_minutes (stmt, 4);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *config = g_steal_pointer (&loaded);
  return TRUE;
}

static gboolean
step_done (sqlite3       *db,
           sqlite3_stmt  *stmt,
           GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  return TRUE;
}

static void
bind_minutes (sqlite3_stmt *stmt,
              int           column,
              int           minutes)
{
  if (minutes > 0)
    sqlite3_bind_int (stmt, column, minutes);
  else
    sqlite3_bind_null (stmt, column);
}

static gboolean update_all_in_transaction (sqlite3            *db,
                                           const FdSlaConfig  *config,
                                           gboolean            all,
                                           GError            **error);

gboolean
fd_sla_config_save (sqlite3            *db,
                    const FdSlaConfig  *config,
                    GError            **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *hours = NULL;
  g_auto(GStrv) holidays = NULL;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  if (!fd_sla_config_validate (config, error))
    return FALSE;

  if (!fd_store_begin (db, error))
    return FALSE;

  hours = hours_to_json (config->calendar);
  stmt = fd_store_prepare (db,
                           "INSERT INTO sla_calendar (id, time_zone, hours_json) VALUES (1, ?1, ?2) "
                           "ON CONFLICT (id) DO UPDATE SET time_zone = ?1, hours_json = ?2",
                           error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_text (stmt, 1, config->calendar->time_zone, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, hours, -1, SQLITE_STATIC);
  if (!step_done (db, stmt, error))
    goto failed;
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!fd_store_exec (db, "DELETE FROM sla_holidays", error))
    goto failed;
  stmt = fd_store_prepare (db, "INSERT INTO sla_holidays (day, name) VALUES (?1, ?2)", error);
  if (stmt == NULL)
    goto failed;
  holidays = fd_sla_calendar_list_holidays (config->calendar);
  for (guint i = 0; holidays[i] != NULL; i++)
    {
      sqlite3_bind_text (stmt, 1, holidays[i], -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, fd_sla_calendar_get_holiday_name (config->calendar, holidays[i]),
                         -1, SQLITE_STATIC);
      if (!step_done (db, stmt, error))
        goto failed;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = fd_store_prepare (db,
                           "INSERT INTO sla_policies (plan, priority, first_reply_minutes, "
                           "  next_reply_minutes, resolution_minutes) VALUES (?1, ?2, ?3, ?4, ?5) "
                           "ON CONFLICT (plan, priority) DO UPDATE SET "
                           "  first_reply_minutes = ?3, next_reply_minutes = ?4, "
                           "  resolution_minutes = ?5",
                           error);
  if (stmt == NULL)
    goto failed;
  for (guint i = 0; config->policies != NULL && i < config->policies->len; i++)
    {
      const FdSlaPolicy *policy = g_ptr_array_index (config->policies, i);

      sqlite3_bind_text (stmt, 1, policy->plan, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, policy->priority, -1, SQLITE_STATIC);
      bind_minutes (stmt, 3, policy->first_reply_minutes);
      bind_minutes (stmt, 4, policy->next_reply_minutes);
      bind_minutes (stmt, 5, policy->resolution_minutes);
      if (!step_done (db, stmt, error))
        goto failed;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!fd_store_audit (db, "agent", "sla.save", NULL, "{}", error))
    goto failed;

  if (!update_all_in_transaction (db, config, TRUE, error))
    goto failed;

  if (!fd_store_commit (db, error))
    goto failed;

  return TRUE;

failed:
  g_clear_pointer (&stmt, sqlite3_finalize);
  fd_store_rollback (db);
  return FALSE;
}

/* }}} */
/* {{{ Due times */

enum { ST_OPEN, ST_PENDING, ST_SNOOZED, ST_RESOLVED, ST_UNKNOWN };
static const char * const status_names[] = { "open", "pending", "snoozed", "resolved", NULL };

static int
status_from_text (const char *text)
{
  int status = index_of (status_names, text);

  return status < 0 ? ST_UNKNOWN : status;
}

/* The targets of every plan and priority in business ms, looked up by index. */
typedef struct
{
  FdSlaCalendar *calendar;
  gint64         targets[N_PLANS][N_PRIORITIES][N_TARGETS];
} Rules;

static void
rules_init (Rules             *rules,
            const FdSlaConfig *config)
{
  memset (rules, 0, sizeof *rules);
  rules->calendar = config->calendar;

  for (guint i = 0; config->policies != NULL && i < config->policies->len; i++)
    {
      const FdSlaPolicy *policy = g_ptr_array_index (config->policies, i);
      int p = index_of (plans, policy->plan);
      int q = index_of (priorities, policy->priority);

      if (p < 0 || q < 0)
        continue;

      rules->targets[p][q][TARGET_FIRST_REPLY] = MAX (policy->first_reply_minutes, 0) * MINUTE_MS;
      rules->targets[p][q][TARGET_NEXT_REPLY] = MAX (policy->next_reply_minutes, 0) * MINUTE_MS;
      rules->targets[p][q][TARGET_RESOLUTION] = MAX (policy->resolution_minutes, 0) * MINUTE_MS;
    }
}

typedef struct
{
  gint64 at;
  int    to;      /* ST_* */
} Switch;

/* What the clocks of one conversation depend on. */
typedef struct
{
  gint64  id;
  int     plan;
  int     priority;
  int     status;
  gint64  created_at;
  gint64  updated_at;
  gint64  snoozed_until;
  gint64  first_reply_at;   /* conversations.first_reply_at, 0 if NULL */
  gboolean replied;
  gint64  last_reply;
  gint64  waiting_since;    /* oldest customer message after the last reply, or 0 */
  guint   first_switch;     /* status events, an index into the shared array */
  guint   n_switches;

  /* What is stored now, to skip writes that change nothing. */
  int     old_target;       /* -1: NULL */
  gint64  old_due;
  gint64  old_risk;
} Facts;

static void
facts_read_conversation (Facts        *facts,
                         sqlite3_stmt *stmt)
{
  const char *plan = (const char *) sqlite3_column_text (stmt, 3);

  memset (facts, 0, sizeof *facts);
  facts->id = sqlite3_column_int64 (stmt, 0);
  facts->status = status_from_text ((const char *) sqlite3_column_text (stmt, 1));
  facts->priority = index_of (priorities, (const char *) sqlite3_column_text (stmt, 2));
  if (facts->priority < 0)
    facts->priority = 2;
  /* A conversation without an organisation, or of a plan we do not know, gets the
   * free plan's targets. */
  facts->plan = index_of (plans, plan);
  if (facts->plan < 0)
    facts->plan = 0;
  facts->created_at = sqlite3_column_int64 (stmt, 4);
  facts->updated_at = sqlite3_column_int64 (stmt, 5);
  facts->snoozed_until = sqlite3_column_int64 (stmt, 6);
  facts->first_reply_at = sqlite3_column_int64 (stmt, 7);
  facts->replied = facts->first_reply_at > 0;
  facts->old_target = sqlite3_column_type (stmt, 8) == SQLITE_NULL
                      ? -1 : index_of (target_names, (const char *) sqlite3_column_text (stmt, 8));
  facts->old_due = sqlite3_column_int64 (stmt, 9);
  facts->old_risk = sqlite3_column_int64 (stmt, 10);
}

/* Messages arrive in time order (created_at, then id). */
static void
facts_add_message (Facts      *facts,
                   gint64      at,
                   const char *author_kind,
                   gboolean    is_note)
{
  if (is_note || author_kind == NULL)
    return;

  if (g_str_equal (author_kind, "agent"))
    {
      facts->replied = TRUE;
      facts->last_reply = MAX (facts->last_reply, at);
      facts->waiting_since = 0;
    }
  else if (g_str_equal (author_kind, "contact"))
    {
      /* A message at the very moment of a reply counts as answered by it. */
      if (facts->waiting_since == 0 && at > MAX (facts->last_reply, facts->first_reply_at))
        facts->waiting_since = at;
    }
}

/* The moments the resolution clock has counted @risk_ms and @due_ms of business time,
 * running only in the half-open intervals @runs (pairs; the last end may be NEVER). */
static void
walk_runs (FdSlaCalendar *calendar,
           const gint64  *runs,
           guint          n_runs,
           gint64         risk_ms,
           gint64         due_ms,
           gint64        *risk,
           gint64        *due)
{
  gint64 counted = 0;

  *risk = *due = NEVER;

  for (guint i = 0; i < n_runs; i++)
    {
      gint64 a = runs[2 * i];
      gint64 b = runs[2 * i + 1];
      gint64 t;

      if (*risk == NEVER)
        {
          t = calendar_add (calendar, a, risk_ms - counted);
          if (t <= b)
            *risk = t;
        }

      t = calendar_add (calendar, a, due_ms - counted);
      if (t <= b)
        {
          *due = t;
          return;
        }

      if (b == NEVER)
        return;
      counted += calendar_between (calendar, a, b);
    }
}

/* Builds the intervals in which the resolution clock runs; see fd-sla.h. */
static guint
resolution_runs (const Facts  *facts,
                 const Switch *switches,
                 GArray       *runs)
{
  gboolean running = TRUE;
  gint64 run_start = facts->created_at;
  gint64 last_switch = facts->created_at;
  gint64 stopped_at;

  g_array_set_size (runs, 0);

  for (guint i = 0; i < facts->n_switches; i++)
    {
      const Switch *sw = &switches[facts->first_switch + i];
      gint64 at = MAX (sw->at, last_switch);

      if (sw->to == ST_UNKNOWN)
        continue;

      last_switch = at;
      if (sw->to == ST_OPEN && !running)
        {
          running = TRUE;
          run_start = at;
        }
      else if (sw->to != ST_OPEN && running)
        {
          running = FALSE;
          g_array_append_val (runs, run_start);
          g_array_append_val (runs, at);
        }
    }

  /* The stored status wins over the events; a change without an event is taken to
   * have happened at updated_at. */
  stopped_at = MAX (facts->updated_at, last_switch);
  switch (facts->status)
    {
    case ST_OPEN:
      if (!running)
        run_start = stopped_at;
      {
        gint64 end = NEVER;

        g_array_append_val (runs, run_start);
        g_array_append_val (runs, end);
      }
      break;

    case ST_PENDING:
    case ST_SNOOZED:
      if (running)
        {
          g_array_append_val (runs, run_start);
          g_array_append_val (runs, stopped_at);
        }
      if (facts->status == ST_SNOOZED && facts->snoozed_until > 0)
        {
          gint64 resume = MAX (facts->snoozed_until, stopped_at);
          gint64 end = NEVER;

          g_array_append_val (runs, resume);
          g_array_append_val (runs, end);
        }
      break;

    default:
      break;
    }

  return runs->len / 2;
}

static void
facts_compute (const Rules  *rules,
               const Facts  *facts,
               const Switch *switches,
               GArray       *scratch,
               int          *target,
               gint64       *due,
               gint64       *risk)
{
  const gint64 *targets;
  gint64 dues[N_TARGETS] = { NEVER, NEVER, NEVER };
  gint64 risks[N_TARGETS] = { NEVER, NEVER, NEVER };

  *target = -1;
  *due = *risk = 0;

  if (facts->status == ST_RESOLVED || facts->status == ST_UNKNOWN)
    return;

  targets = rules->targets[facts->plan][facts->priority];

  if (!facts->replied && targets[TARGET_FIRST_REPLY] > 0)
    {
      dues[TARGET_FIRST_REPLY] = calendar_add (rules->calendar, facts->created_at,
                                               targets[TARGET_FIRST_REPLY]);
      risks[TARGET_FIRST_REPLY] = calendar_add (rules->calendar, facts->created_at,
                                                targets[TARGET_FIRST_REPLY] * 3 / 4);
    }

  if (facts->replied && facts->waiting_since > 0 && targets[TARGET_NEXT_REPLY] > 0)
    {
      dues[TARGET_NEXT_REPLY] = calendar_add (rules->calendar, facts->waiting_since,
                                              targets[TARGET_NEXT_REPLY]);
      risks[TARGET_NEXT_REPLY] = calendar_add (rules->calendar, facts->waiting_since,
                                               targets[TARGET_NEXT_REPLY] * 3 / 4);
    }

  if (targets[TARGET_RESOLUTION] > 0)
    {
      guint n_runs = resolution_runs (facts, switches, scratch);

      walk_runs (rules->calendar, (const gint64 *) scratch->data, n_runs,
                 targets[TARGET_RESOLUTION] * 3 / 4, targets[TARGET_RESOLUTION],
                 &risks[TARGET_RESOLUTION], &dues[TARGET_RESOLUTION]);
    }

  for (int i = 0; i < N_TARGETS; i++)
    if (dues[i] != NEVER && (*target < 0 || dues[i] < *due))
      {
        *target = i;
        *due = dues[i];
        *risk = MIN (risks[i], dues[i]);
      }
}

static const char conversation_sql[] =
  "SELECT c.id, c.status, c.priority, o.plan, c.created_at, c.updated_at, "
  "  c.snoozed_until, c.first_reply_at, c.sla_target, c.sla_due_at, c.sla_risk_at "
  "FROM conversations c LEFT JOIN organisations o ON o.id = c.organisation_id ";

static gboolean
write_result (sqlite3       *db,
              sqlite3_stmt  *update,
              const Facts   *facts,
              int            target,
              gint64         due,
              gint64         risk,
              GError       **error)
{
  if (target == facts->old_target && due == facts->old_due && risk == facts->old_risk)
    return TRUE;

  sqlite3_bind_int64 (update, 1, facts->id);
  if (target >= 0)
    {
      sqlite3_bind_text (update, 2, target_names[target], -1, SQLITE_STATIC);
      sqlite3_bind_int64 (update, 3, due);
      sqlite3_bind_int64 (update, 4, risk);
    }
  return step_done (db, update, error);
}

static const char update_sql[] =
  "UPDATE conversations SET sla_target = ?2, sla_due_at = ?3, sla_risk_at = ?4 WHERE id = ?1";

gboolean
fd_sla_update_conversation (sqlite3            *db,
                            const FdSlaConfig  *config,
                            gint64              conversation_id,
                            GError            **error)
{
  g_autoptr(FdSlaConfig) loaded = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) switches = NULL;
  g_autoptr(GArray) scratch = NULL;
  Facts facts;
  Rules rules;
  int target, rc;
  gint64 due, risk;

  g_return_val_if_fail (db != NULL, FALSE);

  if (config == NULL)
    {
      if (!fd_sla_config_load (db, &loaded, error))
        return FALSE;
      config = loaded;
    }

  {
    g_autofree char *sql = g_strconcat (conversation_sql, "WHERE c.id = ?1", NULL);

    stmt = fd_store_prepare (db, sql, error);
  }
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, conversation_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;   /* gone: nothing to keep */
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);
  facts_read_conversation (&facts, stmt);
  g_clear_pointer (&stmt, sqlite3_finalize);

  switches = g_array_new (FALSE, FALSE, sizeof (Switch));
  scratch = g_array_new (FALSE, FALSE, sizeof (gint64));

  if (facts.status != ST_RESOLVED)
    {
      stmt = fd_store_prepare (db,
                               "SELECT created_at, author_kind, is_note FROM messages "
                               "WHERE conversation_id = ?1 ORDER BY created_at, id",
                               error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, conversation_id);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        facts_add_message (&facts, sqlite3_column_int64 (stmt, 0),
                           (const char *) sqlite3_column_text (stmt, 1),
                           sqlite3_column_int (stmt, 2) != 0);
      if (rc != SQLITE_DONE)
        return fd_store_set_error (db, rc, error);
      g_clear_pointer (&stmt, sqlite3_finalize);

      stmt = fd_store_prepare (db,
                               "SELECT created_at, to_value FROM events "
                               "WHERE conversation_id = ?1 AND kind = 'status' "
                               "ORDER BY created_at, id",
                               error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, conversation_id);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          Switch sw = {
            .at = sqlite3_column_int64 (stmt, 0),
            .to = status_from_text ((const char *) sqlite3_column_text (stmt, 1)),
          };

          g_array_append_val (switches, sw);
        }
      if (rc != SQLITE_DONE)
        return fd_store_set_error (db, rc, error);
      g_clear_pointer (&stmt, sqlite3_finalize);
      facts.n_switches = switches->len;
    }

  rules_init (&rules, config);
  g_mutex_lock (&config->calendar->lock);
  facts_compute (&rules, &facts, (const Switch *) switches->data, scratch, &target, &due, &risk);
  g_mutex_unlock (&config->calendar->lock);

  stmt = fd_store_prepare (db, update_sql, error);
  if (stmt == NULL)
    return FALSE;

  return write_result (db, stmt, &facts, target, due, risk, error);
}

static gboolean
update_all_in_transaction (sqlite3            *db,
                           const FdSlaConfig  *config,
                           gboolean            all,
                           GError            **error)
{
  /* The status index finds the few conversations that are not resolved; CROSS JOIN
   * keeps SQLite from scanning all messages or events to find theirs. */
  static const char scope[] =
    "WHERE c.status IN ('open', 'pending', 'snoozed') AND (?1 OR c.sla_target IS NULL) ";
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) facts = g_array_new (FALSE, FALSE, sizeof (Facts));
  g_autoptr(GArray) switches = g_array_new (FALSE, FALSE, sizeof (Switch));
  g_autoptr(GArray) scratch = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *sql = NULL;
  gint64 started = g_get_monotonic_time ();
  guint written = 0;
  guint index;
  Rules rules;
  int rc;

  /* 1. The conversations, in id order. */
  sql = g_strconcat (conversation_sql, scope, "ORDER BY c.id", NULL);
  stmt = fd_store_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, all ? 1 : 0);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Facts *entry;

      g_array_set_size (facts, facts->len + 1);
      entry = &g_array_index (facts, Facts, facts->len - 1);
      facts_read_conversation (entry, stmt);
    }
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);
  g_clear_pointer (&stmt, sqlite3_finalize);
  g_clear_pointer (&sql, g_free);

  /* 2. Their replies and customer messages, merged in by conversation id. */
  if (facts->len > 0)
    {
      sql = g_strconcat ("SELECT m.conversation_id, m.created_at, m.author_kind "
                         "FROM conversations c CROSS JOIN messages m ON m.conversation_id = c.id ",
                         scope,
                         "AND m.is_note = 0 AND m.author_kind IN ('agent', 'contact') "
                         "ORDER BY m.conversation_id, m.created_at, m.id",
                         NULL);
      stmt = fd_store_prepare (db, sql, error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int (stmt, 1, all ? 1 : 0);
      index = 0;
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);
          Facts *entry;

          while (index < facts->len && g_array_index (facts, Facts, index).id < id)
            index++;
          if (index == facts->len)
            break;
          entry = &g_array_index (facts, Facts, index);
          if (entry->id == id)
            facts_add_message (entry, sqlite3_column_int64 (stmt, 1),
                               (const char *) sqlite3_column_text (stmt, 2), FALSE);
        }
      if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fd_store_set_error (db, rc, error);
      g_clear_pointer (&stmt, sqlite3_finalize);
      g_clear_pointer (&sql, g_free);

      /* 3. Their status changes. */
      sql = g_strconcat ("SELECT e.conversation_id, e.created_at, e.to_value "
                         "FROM conversations c CROSS JOIN events e ON e.conversation_id = c.id ",
                         scope,
                         "AND e.kind = 'status' "
                         "ORDER BY e.conversation_id, e.created_at, e.id",
                         NULL);
      stmt = fd_store_prepare (db, sql, error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int (stmt, 1, all ? 1 : 0);
      index = 0;
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);
          Facts *entry;
          Switch sw;

          while (index < facts->len && g_array_index (facts, Facts, index).id < id)
            index++;
          if (index == facts->len)
            break;
          entry = &g_array_index (facts, Facts, index);
          if (entry->id != id)
            continue;

          if (entry->n_switches == 0)
            entry->first_switch = switches->len;
          entry->n_switches++;
          sw.at = sqlite3_column_int64 (stmt, 1);
          sw.to = status_from_text ((const char *) sqlite3_column_text (stmt, 2));
          g_array_append_val (switches, sw);
        }
      if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fd_store_set_error (db, rc, error);
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  /* 4. Compute and write what changed. */
  stmt = fd_store_prepare (db, update_sql, error);
  if (stmt == NULL)
    return FALSE;

  rules_init (&rules, config);
  g_mutex_lock (&config->calendar->lock);
  for (index = 0; index < facts->len; index++)
    {
      const Facts *entry = &g_array_index (facts, Facts, index);
      gint64 due, risk;
      int target;

      facts_compute (&rules, entry, (const Switch *) switches->data, scratch,
                     &target, &due, &risk);
      if (target == entry->old_target && due == entry->old_due && risk == entry->old_risk)
        continue;

      if (!write_result (db, stmt, entry, target, due, risk, error))
        {
          g_mutex_unlock (&config->calendar->lock);
          return FALSE;
        }
      written++;
    }
  g_mutex_unlock (&config->calendar->lock);
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!fd_store_exec (db,
                      "UPDATE conversations SET sla_target = NULL, sla_due_at = NULL, "
                      "  sla_risk_at = NULL "
                      "WHERE id IN (SELECT id FROM conversations "
                      "             WHERE status = 'resolved' AND sla_due_at IS NOT NULL "
                      "             UNION ALL "
                      "             SELECT id FROM conversations "
                      "             WHERE status = 'resolved' AND sla_risk_at IS NOT NULL)",
                      error))
    return FALSE;

  g_debug ("SLA of %u conversations computed, %u changed, in %.1f ms",
           facts->len, written, (g_get_monotonic_time () - started) / 1000.0);

  return TRUE;
}

gboolean
fd_sla_update_all (sqlite3            *db,
                   const FdSlaConfig  *config,
                   gboolean            all,
                   GError            **error)
{
  g_autoptr(FdSlaConfig) loaded = NULL;
  gboolean own_transaction;

  g_return_val_if_fail (db != NULL, FALSE);

  if (config == NULL)
    {
      if (!fd_sla_config_load (db, &loaded, error))
        return FALSE;
      config = loaded;
    }

  own_transaction = sqlite3_get_autocommit (db) != 0;
  if (own_transaction && !fd_store_begin (db, error))
    return FALSE;

  if (!update_all_in_transaction (db, config, all, error))
    {
      if (own_transaction)
        fd_store_rollback (db);
      return FALSE;
    }

  if (own_transaction && !fd_store_commit (db, error))
    {
      fd_store_rollback (db);
      return FALSE;
    }

  return TRUE;
}

/* }}} */
/* {{{ Async wrappers */

static gboolean
load_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  FdSlaConfig *config = NULL;

  if (!fd_sla_config_load (db, &config, error))
    return FALSE;

  *result = config;
  return TRUE;
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  FdSlaConfig *config;

  config = fd_store_run_finish (FD_STORE (object), result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, config, (GDestroyNotify) fd_sla_config_free);
}

void
fd_sla_config_load_async (FdStore             *store,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_sla_config_load_async);

  fd_store_run_async (store, load_job, NULL, NULL, (GDestroyNotify) fd_sla_config_free,
                      cancellable, load_cb, g_steal_pointer (&task));
}

FdSlaConfig *
fd_sla_config_load_finish (FdStore       *store,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (FD_IS_STORE (store), NULL);
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_sla_config_load_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
save_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  return fd_sla_config_save (db, job_data, error);
}

static void
save_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  fd_store_run_finish (FD_STORE (object), result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
fd_sla_config_save_async (FdStore             *store,
                          const FdSlaConfig   *config,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (config != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_sla_config_save_async);

  /* Refused at once, without a trip to the worker. */
  if (!fd_sla_config_validate (config, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  fd_store_run_async (store, save_job, fd_sla_config_copy (config),
                      (GDestroyNotify) fd_sla_config_free, NULL,
                      cancellable, save_cb, g_steal_pointer (&task));
}

gboolean
fd_sla_config_save_finish (FdStore       *store,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (FD_IS_STORE (store), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_sla_config_save_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* }}} */
