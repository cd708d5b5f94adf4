/* fd-test-wait.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Widget and integration tests run the main loop until something has happened, with a
 * deadline that fails the test by name rather than hanging it. Define WAIT_TIMEOUT_USEC
 * before including this to change the deadline.
 */

#pragma once

#include <glib.h>

#ifndef WAIT_TIMEOUT_USEC
# define WAIT_TIMEOUT_USEC (60 * G_USEC_PER_SEC)
#endif

typedef gboolean (*Condition) (gpointer data);

static inline gboolean
fd_test_wake_up_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

#define wait_until(condition, data) wait_until_full ((Condition) (condition), data, #condition)

/* A 10 ms timer keeps the loop turning, so a condition that changes without an event
 * (a worker thread's result) is seen. */
static inline void
wait_until_full (Condition   condition,
                 gpointer    data,
                 const char *description)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_USEC;
  guint source = g_timeout_add (10, fd_test_wake_up_cb, NULL);

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for %s", description);
      g_main_context_iteration (NULL, TRUE);
    }

  g_source_remove (source);
}

/* Runs the main loop for @ms milliseconds. */
static inline void
spin (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;
  guint source = g_timeout_add (10, fd_test_wake_up_cb, NULL);

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (source);
}
