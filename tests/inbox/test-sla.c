/* test-sla.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "fd-outbox.h"
#include "fd-paths.h"
#include "fd-sla.h"
#include "fd-store.h"
#include "fd-sync-batch.h"

#define MINUTE G_GINT64_CONSTANT (60000)
#define HOUR   (60 * MINUTE)
#define DAY    (24 * HOUR)

/* {{{ Helpers */

/* The UTC ms of a wall-clock time in @zone. */
static gint64
at (const char *zone,
    int         year,
    int         month,
    int         day,
    int         hour,
    int         minute)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (zone);
  g_autoptr(GDateTime) dt = NULL;

  g_assert_nonnull (tz);
  dt = g_date_time_new (tz, year, month, day, hour, minute, 0);
  g_assert_nonnull (dt);

  return g_date_time_to_unix (dt) * 1000;
}

/* Like at (), @days after the date in @ymd. */
static gint64
at_day (const char *zone,
        const int  *ymd,
        int         days,
        int         hour,
        int         minute)
{
  GDate date;

  g_date_clear (&date, 1);
  g_date_set_dmy (&date, ymd[2], ymd[1], ymd[0]);
  if (days >= 0)
    g_date_add_days (&date, days);
  else
    g_date_subtract_days (&date, -days);

  return at (zone, g_date_get_year (&date), g_date_get_month (&date), g_date_get_day (&date),
             hour, minute);
}

static char *
format_at (const char *zone,
           gint64      ms)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (zone);
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, tz);

  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S %Z");
}

#define assert_moment(zone, actual, expected) \
  G_STMT_START { \
    gint64 a_ = (actual), e_ = (expected); \
    if (a_ != e_) \
      { \
        g_autofree char *as_ = format_at (zone, a_); \
        g_autofree char *es_ = format_at (zone, e_); \
        g_error ("%s:%d: got %s, expected %s", __FILE__, __LINE__, as_, es_); \
      } \
  } G_STMT_END

static void
set_every_day (FdSlaCalendar *calendar,
               int            open_minute,
               int            close_minute)
{
  for (int day = G_DATE_MONDAY; day <= G_DATE_SUNDAY; day++)
    fd_sla_calendar_set_hours (calendar, day, open_minute, close_minute);
}

/* Business time worked out day by day from GDateTime alone, as a reference. */
static gint64
reference_between (const FdSlaCalendar *calendar,
                   gint64               from_ms,
                   gint64               to_ms)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (fd_sla_calendar_get_time_zone (calendar));
  g_autoptr(GDateTime) from_utc = g_date_time_new_from_unix_utc (from_ms / 1000);
  g_autoptr(GDateTime) from_local = g_date_time_to_timezone (from_utc, tz);
  GDate date;
  gint64 total = 0;
  int y, m, d;

  if (to_ms <= from_ms)
    return 0;

  /* From the day before, in case a day's hours reach past midnight in UTC. */
  g_date_time_get_ymd (from_local, &y, &m, &d);
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, d, m, y);
  g_date_subtract_days (&date, 1);

  for (;; g_date_add_days (&date, 1))
    {
      g_autoptr(GDateTime) midnight = NULL;
      g_autoptr(GDateTime) open = NULL;
      g_autoptr(GDateTime) close = NULL;
      g_autofree char *key = NULL;
      int open_minute, close_minute;
      GDate next = date;
      gint64 a, b;

      y = g_date_get_year (&date);
      m = g_date_get_month (&date);
      d = g_date_get_day (&date);
      midnight = g_date_time_new (tz, y, m, d, 0, 0, 0);
      if (g_date_time_to_unix (midnight) * 1000 >= to_ms)
        break;

      key = g_strdup_printf ("%04d-%02d-%02d", y, m, d);
      if (!fd_sla_calendar_get_hours (calendar, g_date_get_weekday (&date), &open_minute, &close_minute) ||
          fd_sla_calendar_get_holiday_name (calendar, key) != NULL)
        continue;

      open = g_date_time_new (tz, y, m, d, open_minute / 60, open_minute % 60, 0);
      if (close_minute == 24 * 60)
        {
          g_date_add_days (&next, 1);
          close = g_date_time_new (tz, g_date_get_year (&next), g_date_get_month (&next),
                                   g_date_get_day (&next), 0, 0, 0);
        }
      else
        close = g_date_time_new (tz, y, m, d, close_minute / 60, close_minute % 60, 0);

      a = MAX (g_date_time_to_unix (open) * 1000, from_ms);
      b = MIN (g_date_time_to_unix (close) * 1000, to_ms);
      if (b > a)
        total += b - a;
    }

  return total;
}

/* A migrated, empty store file, opened directly. */
static sqlite3 *
open_store (const char *name)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), name, NULL);
  g_autofree char *path = NULL;
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  path = fd_paths_store_file (dir);
  g_unlink (path);

  store = fd_store_new (path);
  g_assert_true (fd_store_open_sync (store, NULL, &error));
  g_assert_no_error (error);
  fd_store_close (store);

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), ==, SQLITE_OK);
  return db;
}

static void
exec (sqlite3    *db,
      const char *format,
      ...) G_GNUC_PRINTF (2, 3);

static void
exec (sqlite3    *db,
      const char *format,
      ...)
{
  g_autofree char *sql = NULL;
  char *message = NULL;
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static gint64
query_int (sqlite3    *db,
           const char *format,
           ...) G_GNUC_PRINTF (2, 3);

static gint64
query_int (sqlite3    *db,
           const char *format,
           ...)
{
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_type (stmt, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);

  return value;
}

static char *
query_text (sqlite3    *db,
            const char *format,
            ...) G_GNUC_PRINTF (2, 3);

static char *
query_text (sqlite3    *db,
            const char *format,
            ...)
{
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);

  return value;
}

typedef struct
{
  char   *target;
  gint64  due;
  gint64  risk;
} Sla;

static void
sla_clear (Sla *sla)
{
  g_clear_pointer (&sla->target, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sla, sla_clear)

static void
read_sla (sqlite3 *db,
          gint64   id,
          Sla     *sla)
{
  sla_clear (sla);
  sla->target = query_text (db, "SELECT sla_target FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
  sla->due = query_int (db, "SELECT sla_due_at FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
  sla->risk = query_int (db, "SELECT sla_risk_at FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
}

/* }}} */
/* {{{ Calendar */

static void
test_weekend (void)
{
  g_autoptr(FdSlaCalendar) calendar = fd_sla_calendar_new ("UTC");
  const char *z = "UTC";

  /* 2026-01-16 is a Friday. */
  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 16, 16, 0), 120),
                 at (z, 2026, 1, 19, 10, 0));
  /* Reaching the end of Friday's hours is due on Friday, not on Monday morning. */
  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 16, 16, 0), 60),
                 at (z, 2026, 1, 16, 17, 0));
  /* Started on a Saturday evening or before opening: the clock starts at 09:00. */
  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 17, 20, 0), 60),
                 at (z, 2026, 1, 19, 10, 0));
  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 19, 7, 30), 30),
                 at (z, 2026, 1, 19, 9, 30));

  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, at (z, 2026, 1, 16, 16, 0),
                                                        at (z, 2026, 1, 19, 10, 0)), ==, 2 * HOUR);
  /* A whole week has five eight-hour days. */
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, at (z, 2026, 1, 12, 0, 0),
                                                        at (z, 2026, 1, 19, 0, 0)), ==, 40 * HOUR);
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, at (z, 2026, 1, 17, 0, 0),
                                                        at (z, 2026, 1, 18, 23, 59)), ==, 0);
}

static void
test_holiday (void)
{
  g_autoptr(FdSlaCalendar) calendar = fd_sla_calendar_new ("Europe/Berlin");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) days = NULL;
  const char *z = "Europe/Berlin";

  /* A Wednesday off: Tuesday 16:00 + 2 h is Thursday 10:00. */
  g_assert_true (fd_sla_calendar_add_holiday (calendar, "2026-01-14", "Team day", &error));
  g_assert_no_error (error);
  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 13, 16, 0), 120),
                 at (z, 2026, 1, 15, 10, 0));

  /* A Monday off after the weekend: Friday 16:00 + 2 h is Tuesday 10:00. */
  g_assert_true (fd_sla_calendar_add_holiday (calendar, "2026-01-19", "Long weekend", &error));
  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 16, 16, 0), 120),
                 at (z, 2026, 1, 20, 10, 0));
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, at (z, 2026, 1, 16, 9, 0),
                                                        at (z, 2026, 1, 20, 9, 0)), ==, 8 * HOUR);

  days = fd_sla_calendar_list_holidays (calendar);
  g_assert_cmpuint (g_strv_length (days), ==, 2);
  g_assert_cmpstr (days[0], ==, "2026-01-14");
  g_assert_cmpstr (days[1], ==, "2026-01-19");
  g_assert_cmpstr (fd_sla_calendar_get_holiday_name (calendar, "2026-01-19"), ==, "Long weekend");

  /* Removing it gives the Monday back. */
  fd_sla_calendar_remove_holiday (calendar, "2026-01-19");
  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 16, 16, 0), 120),
                 at (z, 2026, 1, 19, 10, 0));

  /* Not dates. */
  g_assert_false (fd_sla_calendar_add_holiday (calendar, "2026-02-30", "", &error));
  g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "2026-02-30"));
  g_clear_error (&error);
  g_assert_false (fd_sla_calendar_add_holiday (calendar, "25.12.2026", "", &error));
  g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (fd_sla_calendar_add_holiday (calendar, "2026-1-05", "", &error));
  g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
}

static void
test_dst (void)
{
  static const struct
  {
    const char *zone;
    int spring[3];
    int autumn[3];
  } zones[] = {
    { "Europe/Berlin", { 2026, 3, 29 }, { 2026, 10, 25 } },
    { "America/New_York", { 2026, 3, 8 }, { 2026, 11, 1 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (zones); i++)
    {
      const char *z = zones[i].zone;
      g_autoptr(FdSlaCalendar) always = fd_sla_calendar_new (z);
      g_autoptr(FdSlaCalendar) daily = fd_sla_calendar_new (z);
      const int *sp = zones[i].spring;
      const int *au = zones[i].autumn;
      gint64 start, due;

      /* Open round the clock: an 8-hour target over the night of the change is eight
       * real hours, which the wall clock shows as nine in spring and seven in autumn. */
      set_every_day (always, 0, 24 * 60);
      start = at_day (z, sp, -1, 22, 0);
      due = fd_sla_calendar_add_business_minutes (always, start, 8 * 60);
      g_assert_cmpint (due - start, ==, 8 * HOUR);
      assert_moment (z, due, at_day (z, sp, 0, 7, 0));
      g_assert_cmpint (fd_sla_calendar_business_ms_between (always, at_day (z, sp, 0, 0, 0),
                                                            at_day (z, sp, 1, 0, 0)),
                       ==, 23 * HOUR);

      start = at_day (z, au, -1, 22, 0);
      due = fd_sla_calendar_add_business_minutes (always, start, 8 * 60);
      g_assert_cmpint (due - start, ==, 8 * HOUR);
      assert_moment (z, due, at_day (z, au, 0, 5, 0));
      g_assert_cmpint (fd_sla_calendar_business_ms_between (always, at_day (z, au, 0, 0, 0),
                                                            at_day (z, au, 1, 0, 0)),
                       ==, 25 * HOUR);

      /* Hours by the wall clock: Saturday 16:00 + 2 h is Sunday 10:00 local, 17 real
       * hours later across the spring change. */
      set_every_day (daily, 9 * 60, 17 * 60);
      start = at_day (z, sp, -1, 16, 0);
      due = fd_sla_calendar_add_business_minutes (daily, start, 120);
      assert_moment (z, due, at_day (z, sp, 0, 10, 0));
      g_assert_cmpint (due - start, ==, 17 * HOUR);
      start = at_day (z, au, -1, 16, 0);
      due = fd_sla_calendar_add_business_minutes (daily, start, 120);
      assert_moment (z, due, at_day (z, au, 0, 10, 0));
      g_assert_cmpint (due - start, ==, 19 * HOUR);
    }

  /* Changing the calendar's zone moves the due times with it. */
  {
    g_autoptr(FdSlaCalendar) calendar = fd_sla_calendar_new ("UTC");
    g_autoptr(GError) error = NULL;
    gint64 start = at ("UTC", 2026, 1, 12, 12, 0);

    assert_moment ("UTC", fd_sla_calendar_add_business_minutes (calendar, start, 8 * 60),
                   at ("UTC", 2026, 1, 13, 12, 0));

    g_assert_true (fd_sla_calendar_set_time_zone (calendar, "America/New_York", &error));
    g_assert_no_error (error);
    g_assert_cmpstr (fd_sla_calendar_get_time_zone (calendar), ==, "America/New_York");
    /* 12:00 UTC is 07:00 in New York: the day runs 09:00–17:00 there. */
    assert_moment ("UTC", fd_sla_calendar_add_business_minutes (calendar, start, 8 * 60),
                   at ("America/New_York", 2026, 1, 12, 17, 0));

    g_assert_false (fd_sla_calendar_set_time_zone (calendar, "Mars/Olympus_Mons", &error));
    g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "Mars/Olympus_Mons"));
    g_assert_cmpstr (fd_sla_calendar_get_time_zone (calendar), ==, "America/New_York");
    g_assert_false (fd_sla_time_zone_is_valid ("/etc/localtime"));
    g_assert_false (fd_sla_time_zone_is_valid (""));
    g_assert_true (fd_sla_time_zone_is_valid ("Asia/Kolkata"));
  }
}

static void
test_closed_days (void)
{
  g_autoptr(FdSlaCalendar) calendar = fd_sla_calendar_new ("UTC");
  const char *z = "UTC";
  int open_minute, close_minute;

  /* Open only on Wednesdays, 10:00–12:00. */
  set_every_day (calendar, -1, -1);
  fd_sla_calendar_set_hours (calendar, G_DATE_WEDNESDAY, 10 * 60, 12 * 60);
  g_assert_false (fd_sla_calendar_get_hours (calendar, G_DATE_MONDAY, &open_minute, &close_minute));
  g_assert_cmpint (open_minute, ==, -1);
  g_assert_true (fd_sla_calendar_get_hours (calendar, G_DATE_WEDNESDAY, &open_minute, &close_minute));
  g_assert_cmpint (open_minute, ==, 600);
  g_assert_cmpint (close_minute, ==, 720);

  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 12, 8, 0), 180),
                 at (z, 2026, 1, 21, 11, 0));
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, at (z, 2026, 1, 1, 0, 0),
                                                        at (z, 2026, 2, 1, 0, 0)), ==, 4 * 2 * HOUR);

  /* Two hours a week do not make ten years of round-the-clock business time within
   * two centuries; an absurd target is "never", and quickly. */
  g_assert_cmpint (fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 12, 8, 0),
                                                         10 * 365 * 24 * 60), ==, G_MAXINT64);
  g_assert_cmpint (fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 12, 8, 0),
                                                         G_MAXINT64), ==, G_MAXINT64);

  /* Never open: no target can be met. */
  fd_sla_calendar_set_hours (calendar, G_DATE_WEDNESDAY, -1, -1);
  g_assert_cmpint (fd_sla_calendar_add_business_minutes (calendar, at (z, 2026, 1, 12, 8, 0), 1),
                   ==, G_MAXINT64);
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, at (z, 2026, 1, 1, 0, 0),
                                                        at (z, 2027, 1, 1, 0, 0)), ==, 0);
}

static void
test_zero_and_negative (void)
{
  g_autoptr(FdSlaCalendar) calendar = fd_sla_calendar_new ("UTC");
  gint64 saturday = at ("UTC", 2026, 1, 17, 12, 0);
  gint64 monday = at ("UTC", 2026, 1, 19, 12, 0);

  g_assert_cmpint (fd_sla_calendar_add_business_minutes (calendar, saturday, 0), ==, saturday);
  g_assert_cmpint (fd_sla_calendar_add_business_minutes (calendar, saturday, -30), ==, saturday);
  g_assert_cmpint (fd_sla_calendar_add_business_minutes (calendar, monday, -30), ==, monday);
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, monday, monday), ==, 0);
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, monday, saturday), ==, 0);
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, saturday, monday), ==, 3 * HOUR);
  /* Before 1970 works as well. */
  g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, at ("UTC", 1969, 12, 29, 0, 0),
                                                        at ("UTC", 1970, 1, 5, 0, 0)), ==, 40 * HOUR);
}

static void
test_long_targets (void)
{
  g_autoptr(FdSlaCalendar) calendar = fd_sla_calendar_new ("Europe/Berlin");
  g_autoptr(GError) error = NULL;
  const char *z = "Europe/Berlin";
  gint64 start = at (z, 2026, 1, 5, 9, 0);

  /* Six weeks of 8-hour days from a Monday morning end on the sixth Friday at 17:00. */
  assert_moment (z, fd_sla_calendar_add_business_minutes (calendar, start, 30 * 8 * 60),
                 at (z, 2026, 2, 13, 17, 0));

  /* A year of business days with the holidays of a year, across both changes. */
  for (int month = 1; month <= 12; month++)
    {
      g_autofree char *day = g_strdup_printf ("2026-%02d-03", month);

      g_assert_true (fd_sla_calendar_add_holiday (calendar, day, "", &error));
    }
  {
    gint64 minutes = 250 * 8 * 60;
    gint64 due = fd_sla_calendar_add_business_minutes (calendar, start, minutes);

    g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, start, due), ==, minutes * MINUTE);
    g_assert_cmpint (reference_between (calendar, start, due), ==, minutes * MINUTE);
    g_assert_cmpint (due, >, at (z, 2026, 12, 1, 0, 0));
    g_assert_cmpint (due, <, at (z, 2027, 2, 1, 0, 0));
  }
}

/* business_ms_between undoes add_business_minutes, and both agree with a day-by-day
 * reference, over many random starts in a calendar with odd hours, holidays and two
 * daylight saving changes a year. */
static void
test_inverse (void)
{
  g_autoptr(FdSlaCalendar) calendar = fd_sla_calendar_new ("Europe/Berlin");
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260115);
  gint64 lo = at ("UTC", 2025, 6, 1, 0, 0);
  gint64 hi = at ("UTC", 2027, 6, 1, 0, 0);

  fd_sla_calendar_set_hours (calendar, G_DATE_MONDAY, 8 * 60, 18 * 60);
  fd_sla_calendar_set_hours (calendar, G_DATE_TUESDAY, 0, 24 * 60);
  fd_sla_calendar_set_hours (calendar, G_DATE_WEDNESDAY, 1 * 60 + 30, 3 * 60 + 15);
  fd_sla_calendar_set_hours (calendar, G_DATE_SATURDAY, 10 * 60, 14 * 60);
  fd_sla_calendar_set_hours (calendar, G_DATE_SUNDAY, 2 * 60 + 30, 23 * 60);
  g_assert_true (fd_sla_calendar_add_holiday (calendar, "2026-03-29", "", NULL));
  g_assert_true (fd_sla_calendar_add_holiday (calendar, "2026-12-24", "", NULL));
  g_assert_true (fd_sla_calendar_add_holiday (calendar, "2026-12-25", "", NULL));

  for (guint i = 0; i < 3000; i++)
    {
      gint64 start = lo + (gint64) (g_rand_double (rand) * (hi - lo));
      gint64 minutes = g_rand_int_range (rand, 0, i % 10 == 0 ? 40000 : 3000);
      gint64 due = fd_sla_calendar_add_business_minutes (calendar, start, minutes);
      gint64 back = fd_sla_calendar_business_ms_between (calendar, start, due);

      if (back != minutes * MINUTE)
        g_error ("start %" G_GINT64_FORMAT " + %" G_GINT64_FORMAT " min = %" G_GINT64_FORMAT
                 ", but %" G_GINT64_FORMAT " ms between", start, minutes, due, back);
      g_assert_cmpint (due, >=, start);

      /* The due moment is the first one: a minute earlier is not enough. */
      if (minutes > 0)
        g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, start, due - MINUTE), <,
                         minutes * MINUTE);

      if (i % 20 == 0)
        {
          gint64 other = lo + (gint64) (g_rand_double (rand) * (hi - lo));
          gint64 a = MIN (start, other), b = MAX (start, other);
          gint64 mid = a + (b - a) / 3;

          g_assert_cmpint (reference_between (calendar, start, due), ==, minutes * MINUTE);
          g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, a, b), ==,
                           reference_between (calendar, a, b));
          g_assert_cmpint (fd_sla_calendar_business_ms_between (calendar, a, b), ==,
                           fd_sla_calendar_business_ms_between (calendar, a, mid) +
                           fd_sla_calendar_business_ms_between (calendar, mid, b));
        }
    }

  /* A copy computes the same, independently. */
  {
    g_autoptr(FdSlaCalendar) copy = fd_sla_calendar_copy (calendar);
    gint64 start = at ("Europe/Berlin", 2026, 12, 23, 17, 0);

    g_assert_cmpint (fd_sla_calendar_add_business_minutes (copy, start, 600), ==,
                     fd_sla_calendar_add_business_minutes (calendar, start, 600));
  }
}

/* }}} */
/* {{{ States and countdowns */

static void
test_state (void)
{
  gint64 due = at ("UTC", 2026, 1, 19, 10, 0);
  gint64 risk = due - 15 * MINUTE;

  g_assert_cmpint (fd_sla_state_at (0, 0, due), ==, FD_SLA_NONE);
  g_assert_cmpint (fd_sla_state_at (due, risk, risk - 1), ==, FD_SLA_ON_TRACK);
  g_assert_cmpint (fd_sla_state_at (due, risk, risk), ==, FD_SLA_AT_RISK);
  g_assert_cmpint (fd_sla_state_at (due, risk, due - 1), ==, FD_SLA_AT_RISK);
  g_assert_cmpint (fd_sla_state_at (due, risk, due), ==, FD_SLA_BREACHED);
  g_assert_cmpint (fd_sla_state_at (due, risk, due + DAY), ==, FD_SLA_BREACHED);
  g_assert_cmpint (fd_sla_state_at (due, 0, due - 1), ==, FD_SLA_ON_TRACK);

  g_assert_null (fd_sla_state_to_label (FD_SLA_NONE));
  g_assert_cmpstr (fd_sla_state_to_label (FD_SLA_ON_TRACK), ==, "On track");
  g_assert_cmpstr (fd_sla_state_to_label (FD_SLA_AT_RISK), ==, "At risk");
  g_assert_cmpstr (fd_sla_state_to_label (FD_SLA_BREACHED), ==, "Breached");
}

static void
test_countdown (void)
{
  static const struct
  {
    gint64 left;
    const char *text;
  } cases[] = {
    { 42 * MINUTE, "42 min" },
    { 41 * MINUTE + 1, "42 min" },
    { 30 * 1000, "1 min" },
    { 3 * HOUR, "3 h" },
    { 3 * HOUR + 10 * MINUTE, "3 h 10 min" },
    { 2 * DAY + 4 * HOUR, "2 d 4 h" },
    { 2 * DAY + 10 * MINUTE, "2 d" },
    { 0, "0 min over" },
    { -15 * MINUTE, "15 min over" },
    { -15 * MINUTE - 30 * 1000, "15 min over" },
    { -(26 * HOUR), "1 d 2 h over" },
  };
  gint64 now = at ("UTC", 2026, 1, 19, 10, 0);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = fd_sla_format_countdown (now + cases[i].left, now);

      g_assert_cmpstr (text, ==, cases[i].text);
    }

  g_assert_null (fd_sla_format_countdown (0, now));
}

/* }}} */
/* {{{ Configuration */

static FdSlaConfig *
utc_config (void)
{
  FdSlaConfig *config = fd_sla_config_new_default ();
  g_autoptr(GError) error = NULL;

  g_assert_true (fd_sla_calendar_set_time_zone (config->calendar, "UTC", &error));
  g_assert_no_error (error);
  return config;
}

static void
test_defaults (void)
{
  sqlite3 *db = open_store ("defaults");
  g_autoptr(FdSlaConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *plans = fd_sla_get_plans ();
  const char * const *priorities = fd_sla_get_priorities ();
  FdSlaPolicy *policy;

  g_assert_true (fd_sla_config_load (db, &config, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (config->policies->len, ==, 20);
  g_assert_true (fd_sla_config_validate (config, &error));
  g_assert_true (fd_sla_time_zone_is_valid (fd_sla_calendar_get_time_zone (config->calendar)));

  policy = fd_sla_config_find_policy (config, "enterprise", "urgent");
  g_assert_nonnull (policy);
  g_assert_cmpint (policy->first_reply_minutes, ==, 30);
  g_assert_cmpint (policy->next_reply_minutes, ==, 60);
  g_assert_cmpint (policy->resolution_minutes, ==, 240);

  /* Stricter with every plan up and every priority up; nothing was written. */
  for (guint p = 0; plans[p] != NULL; p++)
    for (guint q = 0; priorities[q] != NULL; q++)
      {
        FdSlaPolicy *here = fd_sla_config_find_policy (config, plans[p], priorities[q]);

        g_assert_nonnull (here);
        g_assert_cmpint (here->first_reply_minutes, >, 0);
        g_assert_cmpint (here->first_reply_minutes, <=, here->next_reply_minutes);
        g_assert_cmpint (here->next_reply_minutes, <=, here->resolution_minutes);
        if (plans[p + 1] != NULL)
          g_assert_cmpint (here->resolution_minutes, >,
                           fd_sla_config_find_policy (config, plans[p + 1], priorities[q])->resolution_minutes);
        if (priorities[q + 1] != NULL)
          g_assert_cmpint (here->first_reply_minutes, <,
                           fd_sla_config_find_policy (config, plans[p], priorities[q + 1])->first_reply_minutes);
      }

  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sla_policies"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sla_calendar"), ==, 0);
  g_assert_cmpstr (fd_sla_plan_to_label ("enterprise"), ==, "Enterprise");
  g_assert_cmpstr (fd_sla_priority_to_label ("urgent"), ==, "Urgent");
  sqlite3_close (db);
}

static void
test_round_trip (void)
{
  sqlite3 *db = open_store ("round-trip");
  g_autoptr(FdSlaConfig) config = fd_sla_config_new_default ();
  g_autoptr(FdSlaConfig) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) days = NULL;
  g_autofree char *hours = NULL;
  FdSlaPolicy *policy;
  int open_minute, close_minute;

  g_assert_true (fd_sla_calendar_set_time_zone (config->calendar, "America/New_York", &error));
  fd_sla_calendar_set_hours (config->calendar, G_DATE_MONDAY, 8 * 60 + 30, 16 * 60 + 45);
  fd_sla_calendar_set_hours (config->calendar, G_DATE_FRIDAY, -1, -1);
  fd_sla_calendar_set_hours (config->calendar, G_DATE_SATURDAY, 10 * 60, 24 * 60);
  g_assert_true (fd_sla_calendar_add_holiday (config->calendar, "2026-07-04", "Independence Day", &error));
  g_assert_true (fd_sla_calendar_add_holiday (config->calendar, "2026-12-25", "Christmas", &error));
  policy = fd_sla_config_find_policy (config, "pro", "high");
  policy->first_reply_minutes = 45;
  policy->next_reply_minutes = 0;
  policy->resolution_minutes = 3000;

  g_assert_true (fd_sla_config_save (db, config, &error));
  g_assert_no_error (error);

  hours = query_text (db, "SELECT hours_json FROM sla_calendar");
  g_assert_cmpstr (hours, ==, "[[510,1005],[540,1020],[540,1020],[540,1020],null,[600,1440],null]");
  g_assert_cmpint (query_int (db, "SELECT next_reply_minutes IS NULL FROM sla_policies "
                                  "WHERE plan = 'pro' AND priority = 'high'"), ==, 1);

  g_assert_true (fd_sla_config_load (db, &loaded, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fd_sla_calendar_get_time_zone (loaded->calendar), ==, "America/New_York");
  g_assert_true (fd_sla_calendar_get_hours (loaded->calendar, G_DATE_MONDAY, &open_minute, &close_minute));
  g_assert_cmpint (open_minute, ==, 510);
  g_assert_cmpint (close_minute, ==, 1005);
  g_assert_false (fd_sla_calendar_get_hours (loaded->calendar, G_DATE_FRIDAY, NULL, NULL));
  g_assert_false (fd_sla_calendar_get_hours (loaded->calendar, G_DATE_SUNDAY, NULL, NULL));
  g_assert_true (fd_sla_calendar_get_hours (loaded->calendar, G_DATE_SATURDAY, &open_minute, &close_minute));
  g_assert_cmpint (close_minute, ==, 1440);
  days = fd_sla_calendar_list_holidays (loaded->calendar);
  g_assert_cmpuint (g_strv_length (days), ==, 2);
  g_assert_cmpstr (fd_sla_calendar_get_holiday_name (loaded->calendar, "2026-07-04"), ==, "Independence Day");

  policy = fd_sla_config_find_policy (loaded, "pro", "high");
  g_assert_cmpint (policy->first_reply_minutes, ==, 45);
  g_assert_cmpint (policy->next_reply_minutes, ==, 0);
  g_assert_cmpint (policy->resolution_minutes, ==, 3000);
  policy = fd_sla_config_find_policy (loaded, "enterprise", "urgent");
  g_assert_cmpint (policy->first_reply_minutes, ==, 30);

  /* The loaded calendar computes what the saved one did. */
  {
    gint64 start = at ("America/New_York", 2026, 7, 3, 15, 0);

    g_assert_cmpint (fd_sla_calendar_add_business_minutes (loaded->calendar, start, 600), ==,
                     fd_sla_calendar_add_business_minutes (config->calendar, start, 600));
  }

  /* Saving again replaces: a removed holiday is gone. */
  fd_sla_calendar_remove_holiday (config->calendar, "2026-12-25");
  g_assert_true (fd_sla_config_save (db, config, &error));
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sla_holidays"), ==, 1);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sla_policies"), ==, 20);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM audit_log WHERE action = 'sla.save'"), ==, 2);

  sqlite3_close (db);
}

static void
test_validation (void)
{
  sqlite3 *db = open_store ("validation");
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(FdSlaConfig) config = fd_sla_config_new_default ();

    fd_sla_calendar_free (config->calendar);
    config->calendar = fd_sla_calendar_new ("Nowhere/Special");
    g_assert_false (fd_sla_config_save (db, config, &error));
    g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "Nowhere/Special"));
    g_clear_error (&error);
  }

  {
    g_autoptr(FdSlaConfig) config = utc_config ();

    fd_sla_calendar_set_hours (config->calendar, G_DATE_TUESDAY, 17 * 60, 9 * 60);
    g_assert_false (fd_sla_config_save (db, config, &error));
    g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "Tuesday"));
    g_clear_error (&error);

    fd_sla_calendar_set_hours (config->calendar, G_DATE_TUESDAY, 9 * 60, 9 * 60);
    g_assert_false (fd_sla_config_validate (config, &error));
    g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
    g_clear_error (&error);

    fd_sla_calendar_set_hours (config->calendar, G_DATE_TUESDAY, 9 * 60, 25 * 60);
    g_assert_false (fd_sla_config_validate (config, &error));
    g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
    g_clear_error (&error);
  }

  {
    g_autoptr(FdSlaConfig) config = utc_config ();

    set_every_day (config->calendar, -1, -1);
    g_assert_false (fd_sla_config_save (db, config, &error));
    g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
    g_clear_error (&error);
  }

  {
    g_autoptr(FdSlaConfig) config = utc_config ();

    fd_sla_config_find_policy (config, "business", "low")->resolution_minutes = -5;
    g_assert_false (fd_sla_config_save (db, config, &error));
    g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "Business"));
    g_assert_nonnull (strstr (error->message, "Low"));
    g_clear_error (&error);
  }

  {
    g_autoptr(FdSlaConfig) config = utc_config ();
    FdSlaPolicy *policy = fd_sla_config_find_policy (config, "free", "low");

    g_free (policy->plan);
    policy->plan = g_strdup ("platinum");
    g_assert_false (fd_sla_config_save (db, config, &error));
    g_assert_error (error, FD_SLA_ERROR, FD_SLA_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "platinum"));
    g_clear_error (&error);
  }

  /* Nothing refused was written. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sla_policies"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sla_calendar"), ==, 0);
  sqlite3_close (db);
}

/* }}} */
/* {{{ Conversations */

/* An enterprise organisation's urgent conversation, created on Monday 2026-01-12 at
 * 10:00 UTC with a customer message; business hours 09:00–17:00 UTC. */
static sqlite3 *
open_conversation_store (const char   *name,
                         FdSlaConfig **config_out)
{
  sqlite3 *db = open_store (name);
  g_autoptr(FdSlaConfig) config = utc_config ();
  g_autoptr(GError) error = NULL;
  gint64 t0 = at ("UTC", 2026, 1, 12, 10, 0);

  g_assert_true (fd_sla_config_save (db, config, &error));
  g_assert_no_error (error);

  exec (db, "INSERT INTO organisations (id, name, plan, created_at, updated_at) "
            "VALUES (1, 'Acme', 'enterprise', 0, 0), (2, 'Tiny', 'free', 0, 0)");
  exec (db, "INSERT INTO conversations (id, channel, subject, organisation_id, status, priority, "
            "  created_at, updated_at) VALUES (1, 'email', 'Help', 1, 'open', 'urgent', "
            "%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")", t0, t0);
  exec (db, "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
            "VALUES (1, 'contact', 'It broke', %" G_GINT64_FORMAT ")", t0);
  exec (db, "INSERT INTO events (conversation_id, kind, created_at) VALUES (1, 'created', %" G_GINT64_FORMAT ")", t0);

  *config_out = g_steal_pointer (&config);
  return db;
}

static void
add_message (sqlite3    *db,
             const char *author_kind,
             gboolean    is_note,
             gint64      when)
{
  exec (db, "INSERT INTO messages (conversation_id, author_kind, is_note, body, created_at) "
            "VALUES (1, '%s', %d, 'text', %" G_GINT64_FORMAT ")", author_kind, is_note, when);
  exec (db, "UPDATE conversations SET updated_at = %" G_GINT64_FORMAT " WHERE id = 1", when);
}

static void
set_status (sqlite3    *db,
            const char *status,
            gint64      when,
            gint64      snoozed_until)
{
  g_autofree char *old = query_text (db, "SELECT status FROM conversations WHERE id = 1");

  exec (db, "UPDATE conversations SET status = '%s', updated_at = %" G_GINT64_FORMAT ", "
            "snoozed_until = nullif(%" G_GINT64_FORMAT ", 0) WHERE id = 1",
        status, when, snoozed_until);
  exec (db, "INSERT INTO events (conversation_id, kind, from_value, to_value, created_at) "
            "VALUES (1, 'status', '%s', '%s', %" G_GINT64_FORMAT ")", old, status, when);
}

static void
update (sqlite3           *db,
        const FdSlaConfig *config,
        Sla               *sla)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (fd_sla_update_conversation (db, config, 1, &error));
  g_assert_no_error (error);
  read_sla (db, 1, sla);
}

static void
test_conversation_events (void)
{
  g_autoptr(FdSlaConfig) config = NULL;
  g_auto(Sla) sla = { 0 };
  sqlite3 *db = open_conversation_store ("events", &config);
  const char *z = "UTC";

  /* New: the first reply is due in 30 business minutes, at risk after 22.5. */
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "first_reply");
  assert_moment (z, sla.due, at (z, 2026, 1, 12, 10, 30));
  assert_moment (z, sla.risk, at (z, 2026, 1, 12, 10, 22) + 30 * 1000);

  /* An internal note is not a reply. */
  add_message (db, "agent", TRUE, at (z, 2026, 1, 12, 10, 5));
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "first_reply");

  /* Replied: nothing waits for an answer, so resolution (4 h from the start) runs. */
  add_message (db, "agent", FALSE, at (z, 2026, 1, 12, 10, 10));
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "resolution");
  assert_moment (z, sla.due, at (z, 2026, 1, 12, 14, 0));
  assert_moment (z, sla.risk, at (z, 2026, 1, 12, 13, 0));

  /* The customer writes again: the next reply is due within the hour. */
  add_message (db, "contact", FALSE, at (z, 2026, 1, 12, 10, 20));
  add_message (db, "contact", FALSE, at (z, 2026, 1, 12, 10, 25));
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "next_reply");
  assert_moment (z, sla.due, at (z, 2026, 1, 12, 11, 20));
  assert_moment (z, sla.risk, at (z, 2026, 1, 12, 11, 5));

  /* Answered: back to resolution. */
  add_message (db, "agent", FALSE, at (z, 2026, 1, 12, 10, 30));
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "resolution");
  assert_moment (z, sla.due, at (z, 2026, 1, 12, 14, 0));

  /* Pending at 11:00 stops the clock with 3 h left: no due time while it waits. */
  set_status (db, "pending", at (z, 2026, 1, 12, 11, 0), 0);
  update (db, config, &sla);
  g_assert_null (sla.target);
  g_assert_cmpint (sla.due, ==, 0);
  g_assert_cmpint (sla.risk, ==, 0);

  /* Open again at 13:00: the remaining 3 h run from there. */
  set_status (db, "open", at (z, 2026, 1, 12, 13, 0), 0);
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "resolution");
  assert_moment (z, sla.due, at (z, 2026, 1, 12, 16, 0));
  assert_moment (z, sla.risk, at (z, 2026, 1, 12, 15, 0));

  /* Snoozed at 14:00 until Tuesday 10:00, with 2 h left: due Tuesday noon, at risk
   * an hour before. */
  set_status (db, "snoozed", at (z, 2026, 1, 12, 14, 0), at (z, 2026, 1, 13, 10, 0));
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "resolution");
  assert_moment (z, sla.due, at (z, 2026, 1, 13, 12, 0));
  assert_moment (z, sla.risk, at (z, 2026, 1, 13, 11, 0));

  /* A customer message during the snooze still wants an answer within the hour. */
  add_message (db, "contact", FALSE, at (z, 2026, 1, 12, 16, 30));
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "next_reply");
  assert_moment (z, sla.due, at (z, 2026, 1, 13, 9, 30));

  /* Resolved: nothing runs. */
  add_message (db, "agent", FALSE, at (z, 2026, 1, 12, 16, 40));
  set_status (db, "resolved", at (z, 2026, 1, 12, 16, 45), 0);
  update (db, config, &sla);
  g_assert_null (sla.target);
  g_assert_cmpint (sla.due, ==, 0);

  /* Reopened: the clock counts on from the 2 h it had used, not from zero; the time
   * snoozed and resolved does not count. */
  set_status (db, "open", at (z, 2026, 1, 14, 9, 0), 0);
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "resolution");
  assert_moment (z, sla.due, at (z, 2026, 1, 14, 11, 0));

  sqlite3_close (db);
}

static void
test_conversation_plans (void)
{
  g_autoptr(FdSlaConfig) config = NULL;
  g_auto(Sla) sla = { 0 };
  g_autoptr(GError) error = NULL;
  sqlite3 *db = open_conversation_store ("plans", &config);
  const char *z = "UTC";

  /* The free plan's normal priority: a first reply within 24 business hours, three
   * business days from Monday 10:00. */
  exec (db, "UPDATE conversations SET organisation_id = 2, priority = 'normal' WHERE id = 1");
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "first_reply");
  assert_moment (z, sla.due, at (z, 2026, 1, 15, 10, 0));
  /* 18 h in: Wednesday 12:00 — a risk moment on another business day. */
  assert_moment (z, sla.risk, at (z, 2026, 1, 14, 12, 0));

  /* Without an organisation: the free plan. */
  exec (db, "UPDATE conversations SET organisation_id = NULL WHERE id = 1");
  update (db, config, &sla);
  assert_moment (z, sla.due, at (z, 2026, 1, 15, 10, 0));

  /* A risk moment on the next business day: Friday 16:50 + 30 min is Monday 09:20,
   * 75 % of it Monday 09:12:30. */
  exec (db, "UPDATE conversations SET organisation_id = 1, priority = 'urgent', "
            "created_at = %" G_GINT64_FORMAT " WHERE id = 1", at (z, 2026, 1, 16, 16, 50));
  exec (db, "UPDATE messages SET created_at = %" G_GINT64_FORMAT, at (z, 2026, 1, 16, 16, 50));
  update (db, config, &sla);
  assert_moment (z, sla.due, at (z, 2026, 1, 19, 9, 20));
  assert_moment (z, sla.risk, at (z, 2026, 1, 19, 9, 12) + 30 * 1000);

  /* No first-reply target for this plan and priority: resolution runs instead. */
  fd_sla_config_find_policy (config, "enterprise", "urgent")->first_reply_minutes = 0;
  update (db, config, &sla);
  g_assert_cmpstr (sla.target, ==, "resolution");

  /* Saving a policy recomputes the conversations that are not resolved. */
  fd_sla_config_find_policy (config, "enterprise", "urgent")->resolution_minutes = 60;
  g_assert_true (fd_sla_config_save (db, config, &error));
  g_assert_no_error (error);
  read_sla (db, 1, &sla);
  assert_moment (z, sla.due, at (z, 2026, 1, 19, 9, 50));

  /* So does moving the calendar's zone: 09:00 in Tokyo is 00:00 UTC. */
  g_assert_true (fd_sla_calendar_set_time_zone (config->calendar, "Asia/Tokyo", &error));
  g_assert_true (fd_sla_config_save (db, config, &error));
  read_sla (db, 1, &sla);
  /* Friday 16:50 UTC is Saturday in Tokyo: 60 min from Monday 09:00 JST. */
  assert_moment (z, sla.due, at ("Asia/Tokyo", 2026, 1, 19, 10, 0));

  /* Loading the configuration from the store gives the same. */
  exec (db, "UPDATE conversations SET sla_target = NULL, sla_due_at = NULL, sla_risk_at = NULL");
  g_assert_true (fd_sla_update_conversation (db, NULL, 1, &error));
  read_sla (db, 1, &sla);
  assert_moment (z, sla.due, at ("Asia/Tokyo", 2026, 1, 19, 10, 0));

  sqlite3_close (db);
}

/* The outbox (a local conversation) and the sync applier keep the due times. */
static void
test_hooks (void)
{
  g_autoptr(FdSlaConfig) config = utc_config ();
  g_autoptr(GError) error = NULL;
  g_auto(Sla) sla = { 0 };
  sqlite3 *db = open_store ("hooks");
  gint64 now = g_get_real_time () / 1000;
  gint64 created = now - MINUTE;
  FdOutboxRequest request = { 0 };

  /* Round the clock, so the due times follow the real clock the outbox uses. */
  set_every_day (config->calendar, 0, 24 * 60);
  g_assert_true (fd_sla_config_save (db, config, &error));

  exec (db, "INSERT INTO organisations (id, name, plan, created_at, updated_at) "
            "VALUES (1, 'Acme', 'enterprise', 0, 0)");
  exec (db, "INSERT INTO conversations (id, channel, subject, organisation_id, priority, "
            "  created_at, updated_at) VALUES (1, 'chat', 'Hi', 1, 'urgent', "
            "%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")", created, created);
  exec (db, "INSERT INTO messages (conversation_id, author_kind, body, created_at) "
            "VALUES (1, 'contact', 'Hello?', %" G_GINT64_FORMAT ")", created);

  /* The list's own start: every conversation without a target gets one. */
  g_assert_true (fd_sla_update_all (db, NULL, FALSE, &error));
  g_assert_no_error (error);
  read_sla (db, 1, &sla);
  g_assert_cmpstr (sla.target, ==, "first_reply");
  g_assert_cmpint (sla.due, ==, created + 30 * MINUTE);

  request.conversation_id = 1;
  request.kind = FD_OUTBOX_REPLY;
  request.body = (char *) "On it!";
  g_assert_true (fd_outbox_enqueue (db, &request, NULL, &error));
  g_assert_no_error (error);
  read_sla (db, 1, &sla);
  g_assert_cmpstr (sla.target, ==, "resolution");
  g_assert_cmpint (sla.due, ==, created + 4 * HOUR);

  memset (&request, 0, sizeof request);
  request.conversation_id = 1;
  request.kind = FD_OUTBOX_STATUS;
  request.status = (char *) "pending";
  g_assert_true (fd_outbox_enqueue (db, &request, NULL, &error));
  read_sla (db, 1, &sla);
  g_assert_null (sla.target);

  request.status = (char *) "snoozed";
  request.snoozed_until = now + DAY;
  g_assert_true (fd_outbox_enqueue (db, &request, NULL, &error));
  read_sla (db, 1, &sla);
  g_assert_cmpstr (sla.target, ==, "resolution");
  g_assert_cmpint (sla.due, >, now + DAY);
  g_assert_cmpint (sla.due, <=, now + DAY + 4 * HOUR);

  request.status = (char *) "resolved";
  request.snoozed_until = 0;
  g_assert_true (fd_outbox_enqueue (db, &request, NULL, &error));
  read_sla (db, 1, &sla);
  g_assert_null (sla.target);

  /* A page from a service: a new conversation with a customer message, then the
   * agent's answer and a later question. */
  exec (db, "INSERT INTO accounts (id, uid, kind, name, base_url, created_at) "
            "VALUES (7, 'acc', 'intercom', 'Acme Intercom', 'http://127.0.0.1', 0)");
  {
    g_autoptr(FdSyncBatch) batch = fd_sync_batch_new ();
    FdOrgRecord *org = fd_sync_batch_add_organisation (batch);
    FdConversationRecord *conv = fd_sync_batch_add_conversation (batch);
    FdMessageRecord *message = fd_conversation_record_add_message (conv);
    gint64 id;

    org->external_id = g_strdup ("org-1");
    org->plan = g_strdup ("enterprise");
    conv->external_id = g_strdup ("c-1");
    conv->channel = "email";
    conv->org_external_id = g_strdup ("org-1");
    conv->priority = "high";
    conv->created_at = created;
    conv->updated_at = created;
    message->external_id = g_strdup ("m-1");
    message->body = g_strdup ("Question");
    message->created_at = created;

    g_assert_true (fd_sync_batch_apply (db, 7, "conversations", batch, NULL, &error));
    g_assert_no_error (error);
    id = query_int (db, "SELECT id FROM conversations WHERE external_id = 'c-1'");
    read_sla (db, id, &sla);
    g_assert_cmpstr (sla.target, ==, "first_reply");
    g_assert_cmpint (sla.due, ==, created + 60 * MINUTE);
  }
  {
    g_autoptr(FdSyncBatch) batch = fd_sync_batch_new ();
    FdConversationRecord *conv = fd_sync_batch_add_conversation (batch);
    FdMessageRecord *message;
    gint64 id;

    conv->external_id = g_strdup ("c-1");
    conv->channel = "email";
    conv->updated_at = now;
    message = fd_conversation_record_add_message (conv);
    message->external_id = g_strdup ("m-2");
    message->author_kind = "agent";
    message->body = g_strdup ("Answer");
    message->created_at = created + 10 * MINUTE;
    message = fd_conversation_record_add_message (conv);
    message->external_id = g_strdup ("m-3");
    message->body = g_strdup ("One more thing");
    message->created_at = created + 20 * MINUTE;

    g_assert_true (fd_sync_batch_apply (db, 7, "conversations", batch, NULL, &error));
    g_assert_no_error (error);
    id = query_int (db, "SELECT id FROM conversations WHERE external_id = 'c-1'");
    read_sla (db, id, &sla);
    g_assert_cmpstr (sla.target, ==, "next_reply");
    g_assert_cmpint (sla.due, ==, created + 20 * MINUTE + 120 * MINUTE);
  }

  sqlite3_close (db);
}

/* }}} */
/* {{{ The demo store */

typedef struct
{
  gint64 id;
  char *target;
  gint64 due;
  gint64 risk;
} Row;

static void
row_clear (gpointer data)
{
  Row *row = data;

  g_clear_pointer (&row->target, g_free);
}

static GArray *
snapshot (sqlite3 *db)
{
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (Row));
  sqlite3_stmt *stmt = NULL;

  g_array_set_clear_func (rows, row_clear);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id, sla_target, sla_due_at, sla_risk_at "
                                           "FROM conversations ORDER BY id",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      Row row = {
        .id = sqlite3_column_int64 (stmt, 0),
        .target = g_strdup ((const char *) sqlite3_column_text (stmt, 1)),
        .due = sqlite3_column_int64 (stmt, 2),
        .risk = sqlite3_column_int64 (stmt, 3),
      };

      g_array_append_val (rows, row);
    }
  sqlite3_finalize (stmt);

  return rows;
}

static void
assert_same_rows (GArray *a,
                  GArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      Row *x = &g_array_index (a, Row, i);
      Row *y = &g_array_index (b, Row, i);

      g_assert_cmpint (x->id, ==, y->id);
      if (g_strcmp0 (x->target, y->target) != 0 || x->due != y->due || x->risk != y->risk)
        g_error ("conversation %" G_GINT64_FORMAT ": %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                 " vs %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                 x->id, x->target, x->due, x->risk, y->target, y->due, y->risk);
    }
}

static void
test_demo_update_all (void)
{
  g_autofree char *profile = g_build_filename (g_get_user_data_dir (), "demo", NULL);
  g_autofree char *path = fd_paths_store_file (profile);
  g_autoptr(FdSlaConfig) config = NULL;
  g_autoptr(GArray) generated = NULL;
  g_autoptr(GArray) one_by_one = NULL;
  g_autoptr(GArray) all = NULL;
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("FD_CLI");
  const char *argv[] = { cli, "--profile", profile, "demo", "--scale", "small", NULL };
  sqlite3_stmt *stmt = NULL;
  sqlite3 *db = NULL;
  gint64 started;
  int status = -1;

  if (cli == NULL)
    {
      g_test_skip ("FD_CLI is not set; run through meson test");
      return;
    }

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_true (fd_sla_config_load (db, &config, &error));

  /* The demo filled the columns: every open conversation that waits for a reply has a
   * target, resolved ones none, and all three kinds occur. */
  generated = snapshot (db);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE status = 'resolved' "
                                  "AND sla_target IS NOT NULL"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE status = 'open' "
                                  "AND sla_target IS NULL"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE sla_risk_at > sla_due_at "
                                  "OR (sla_target IS NOT NULL AND sla_risk_at IS NULL)"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE sla_target = 'first_reply'"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE sla_target = 'next_reply'"), >, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conversations WHERE sla_target = 'resolution'"), >, 0);

  /* One by one, from cleared columns. */
  exec (db, "UPDATE conversations SET sla_target = NULL, sla_due_at = NULL, sla_risk_at = NULL");
  exec (db, "BEGIN");
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id FROM conversations", -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_assert_true (fd_sla_update_conversation (db, config, sqlite3_column_int64 (stmt, 0), &error));
      g_assert_no_error (error);
    }
  sqlite3_finalize (stmt);
  exec (db, "COMMIT");
  one_by_one = snapshot (db);
  assert_same_rows (generated, one_by_one);

  /* All at once, from cleared columns and from stale ones. */
  exec (db, "UPDATE conversations SET sla_target = NULL, sla_due_at = NULL, sla_risk_at = NULL");
  started = g_get_monotonic_time ();
  g_assert_true (fd_sla_update_all (db, config, FALSE, &error));
  g_assert_no_error (error);
  g_test_message ("update_all on %d conversations: %.1f ms",
                  (int) query_int (db, "SELECT count(*) FROM conversations"),
                  (g_get_monotonic_time () - started) / 1000.0);
  all = snapshot (db);
  assert_same_rows (generated, all);
  g_clear_pointer (&all, g_array_unref);

  /* Stale due times, and targets left on resolved conversations. */
  exec (db, "UPDATE conversations SET sla_due_at = sla_due_at + 1 WHERE id %% 3 = 0");
  exec (db, "UPDATE conversations SET sla_target = 'resolution', sla_due_at = 1, sla_risk_at = 1 "
            "WHERE status = 'resolved' AND id %% 7 = 0");
  g_assert_true (fd_sla_update_all (db, config, TRUE, &error));
  all = snapshot (db);
  assert_same_rows (generated, all);

  sqlite3_close (db);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/sla/calendar/weekend", test_weekend);
  g_test_add_func ("/sla/calendar/holiday", test_holiday);
  g_test_add_func ("/sla/calendar/dst", test_dst);
  g_test_add_func ("/sla/calendar/closed-days", test_closed_days);
  g_test_add_func ("/sla/calendar/zero-and-negative", test_zero_and_negative);
  g_test_add_func ("/sla/calendar/long-targets", test_long_targets);
  g_test_add_func ("/sla/calendar/inverse", test_inverse);
  g_test_add_func ("/sla/state", test_state);
  g_test_add_func ("/sla/countdown", test_countdown);
  g_test_add_func ("/sla/config/defaults", test_defaults);
  g_test_add_func ("/sla/config/round-trip", test_round_trip);
  g_test_add_func ("/sla/config/validation", test_validation);
  g_test_add_func ("/sla/conversation/events", test_conversation_events);
  g_test_add_func ("/sla/conversation/plans", test_conversation_plans);
  g_test_add_func ("/sla/hooks", test_hooks);
  g_test_add_func ("/sla/update-all/demo", test_demo_update_all);

  return g_test_run ();
}
