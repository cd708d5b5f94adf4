/* fd-sla.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

#include "fd-store.h"

G_BEGIN_DECLS

/* Service-level targets in business time.
 *
 * A policy per plan and priority sets three targets in business minutes: first reply
 * (from the conversation's start), next reply (from each customer message that waits
 * for an answer) and resolution (from the start, paused while pending or snoozed).
 * Business time follows a calendar: opening hours per weekday in one time zone, minus
 * holidays. A conversation's running target is the earliest unmet one; it is "at risk"
 * once under 25 % of that target's business time is left and "breached" past its due
 * time. conversations.sla_target/sla_due_at/sla_risk_at hold the result.
 *
 * How events move the clocks (fd_sla_update_conversation):
 * - first reply: from created_at until the first agent reply (a message with
 *   author_kind 'agent' that is not a note, or conversations.first_reply_at);
 * - next reply: once replied, from the oldest customer message (author_kind 'contact',
 *   not a note) newer than the last agent reply, until an agent replies;
 * - resolution: from created_at, counting business time only while the conversation is
 *   open. The events of kind 'status' switch the clock: to 'open' runs it, to 'pending',
 *   'snoozed' or 'resolved' stops it. While a conversation is pending the clock waits
 *   for the customer and has no due time; a snoozed one resumes at snoozed_until. A
 *   target already missed stays missed when the clock is stopped.
 * First and next reply run whatever the status; a resolved conversation has none. */

#define FD_SLA_ERROR (fd_sla_error_quark ())

typedef enum
{
  FD_SLA_ERROR_INVALID,   /* a setting that cannot work; the message says which */
} FdSlaError;

GQuark fd_sla_error_quark (void);

typedef enum
{
  FD_SLA_NONE,        /* no target running (resolved, or no policy) */
  FD_SLA_ON_TRACK,
  FD_SLA_AT_RISK,
  FD_SLA_BREACHED,
} FdSlaState;

/* From the two stored columns, at @now_ms. */
FdSlaState  fd_sla_state_at        (gint64      due_at,
                                    gint64      risk_at,
                                    gint64      now_ms);
/* "On track", "At risk", "Breached" (translated), or NULL for FD_SLA_NONE. */
const char *fd_sla_state_to_label  (FdSlaState  state);
/* The countdown as shown in lists: "42 min", "3 h 10 min", "2 d 4 h", and "15 min over"
 * once breached (all translated). Wall-clock time to the due moment, rounded up to the
 * minute before it and down after it; NULL when @due_at is 0. */
char       *fd_sla_format_countdown (gint64     due_at,
                                     gint64     now_ms);

typedef struct _FdSlaCalendar FdSlaCalendar;

/* Plans and priorities the policies know, NULL-terminated, strictest last / first;
 * their names as shown to users. */
const char * const *fd_sla_get_plans          (void);
const char * const *fd_sla_get_priorities     (void);
const char         *fd_sla_plan_to_label      (const char *plan);
const char         *fd_sla_priority_to_label  (const char *priority);
/* Whether @time_zone is an IANA name the system knows ("Europe/Berlin", "UTC"). */
gboolean            fd_sla_time_zone_is_valid (const char *time_zone);

/* Monday to Friday 09:00–17:00 in @time_zone ("Europe/Berlin", "UTC"), no holidays.
 * An unknown zone is kept by name (saving refuses it) and counted as UTC. NULL: the
 * system's zone. A calendar caches the days it has computed: use one calendar from one
 * thread at a time (copies are independent). */
FdSlaCalendar *fd_sla_calendar_new          (const char      *time_zone);
FdSlaCalendar *fd_sla_calendar_copy         (const FdSlaCalendar *calendar);
void           fd_sla_calendar_free         (FdSlaCalendar   *calendar);
const char    *fd_sla_calendar_get_time_zone (const FdSlaCalendar *calendar);
gboolean       fd_sla_calendar_set_time_zone (FdSlaCalendar   *calendar,
                                              const char      *time_zone,
                                              GError         **error);
/* @weekday: 1 Monday … 7 Sunday (GDateWeekday); minutes from midnight, 0 … 1440;
 * closed: -1, -1. get_hours returns FALSE for a closed day. */
void           fd_sla_calendar_set_hours    (FdSlaCalendar   *calendar,
                                             GDateWeekday     weekday,
                                             int              open_minute,
                                             int              close_minute);
gboolean       fd_sla_calendar_get_hours    (const FdSlaCalendar *calendar,
                                             GDateWeekday     weekday,
                                             int             *open_minute,
                                             int             *close_minute);
/* @day: "YYYY-MM-DD". */
gboolean       fd_sla_calendar_add_holiday  (FdSlaCalendar   *calendar,
                                             const char      *day,
                                             const char      *name,
                                             GError         **error);
void           fd_sla_calendar_remove_holiday (FdSlaCalendar *calendar,
                                               const char    *day);
/* Holidays as "YYYY-MM-DD" strings, sorted; names with fd_sla_calendar_get_holiday_name. */
GStrv          fd_sla_calendar_list_holidays (const FdSlaCalendar *calendar);
const char    *fd_sla_calendar_get_holiday_name (const FdSlaCalendar *calendar,
                                                 const char          *day);

/* The moment @business_minutes of business time after @start_ms (UTC ms): the end of
 * the opening hours it lands on, never the next opening. @start_ms itself when
 * @business_minutes <= 0; G_MAXINT64 when the calendar is never open. */
gint64         fd_sla_calendar_add_business_minutes (const FdSlaCalendar *calendar,
                                                     gint64               start_ms,
                                                     gint64               business_minutes);
/* Business milliseconds between two moments (0 if @to_ms <= @from_ms). */
gint64         fd_sla_calendar_business_ms_between  (const FdSlaCalendar *calendar,
                                                     gint64               from_ms,
                                                     gint64               to_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSlaCalendar, fd_sla_calendar_free)

typedef struct
{
  char *plan;                 /* "free", "starter", "pro", "business", "enterprise" */
  char *priority;             /* "urgent", "high", "normal", "low" */
  int   first_reply_minutes;  /* 0: no target */
  int   next_reply_minutes;
  int   resolution_minutes;
} FdSlaPolicy;

void fd_sla_policy_free (FdSlaPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSlaPolicy, fd_sla_policy_free)

/* The whole configuration, as Preferences → SLA edits it. */
typedef struct
{
  FdSlaCalendar *calendar;
  GPtrArray     *policies;    /* FdSlaPolicy, one per plan and priority */
} FdSlaConfig;

/* The defaults: Monday to Friday 09:00–17:00 in the system's time zone, and targets
 * from enterprise urgent (30 min, 1 h, 4 h) to free low (2 d, 4 d, 20 d in 8-hour
 * business days). */
FdSlaConfig *fd_sla_config_new_default (void);
FdSlaConfig *fd_sla_config_copy        (const FdSlaConfig *config);
void         fd_sla_config_free        (FdSlaConfig       *config);
/* The policy for @plan and @priority, or NULL. */
FdSlaPolicy *fd_sla_config_find_policy (const FdSlaConfig *config,
                                        const char        *plan,
                                        const char        *priority);
/* FD_SLA_ERROR_INVALID, in plain words, for what saving would refuse. */
gboolean     fd_sla_config_validate    (const FdSlaConfig *config,
                                        GError           **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSlaConfig, fd_sla_config_free)

/* Worker-thread functions. Loading a store that has no configuration yet gives the
 * defaults (and does not write them); a missing policy row gets its default. */
gboolean fd_sla_config_load   (sqlite3            *db,
                               FdSlaConfig       **config,
                               GError            **error);
/* Validates, saves and recomputes every conversation that is not resolved, in one
 * transaction. */
gboolean fd_sla_config_save   (sqlite3            *db,
                               const FdSlaConfig  *config,
                               GError            **error);
/* Recomputes sla_target, sla_due_at and sla_risk_at of one conversation from its
 * status, priority, organisation's plan, messages and status events. Call inside the
 * transaction that changed it (a message, a status or priority change), with the
 * configuration loaded once for that transaction (NULL loads it). */
gboolean fd_sla_update_conversation (sqlite3      *db,
                                     const FdSlaConfig *config,
                                     gint64        conversation_id,
                                     GError      **error);
/* Recomputes every conversation that is not resolved and has no running target yet,
 * or every one that is not resolved with @all; clears those of resolved ones. Runs
 * in the caller's transaction if one is open, else in its own. */
gboolean fd_sla_update_all    (sqlite3            *db,
                               const FdSlaConfig  *config,
                               gboolean            all,
                               GError            **error);

/* Async wrappers for the UI. */
void         fd_sla_config_load_async  (FdStore             *store,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
FdSlaConfig *fd_sla_config_load_finish (FdStore             *store,
                                        GAsyncResult        *result,
                                        GError             **error);
void         fd_sla_config_save_async  (FdStore             *store,
                                        const FdSlaConfig   *config,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean     fd_sla_config_save_finish (FdStore             *store,
                                        GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
