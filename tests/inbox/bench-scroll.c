/* bench-scroll.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Scrolls the inbox's largest view on the large demo store (100,000 conversations) from
 * top to bottom, one screenful per frame (or FD_SCROLL_STEP pixels), in a real window, and reports how long each
 * frame's work took (update → layout → paint, from the frame clock's signals), the rows
 * it showed, and the resident memory at the end. Needs a display: meson runs it under
 * xvfb-run. Exits non-zero when a frame takes over 16 ms at the 99th percentile, or
 * memory goes over 200 MB.
 */

#define G_LOG_DOMAIN "bench-scroll"

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "fd-inbox-page.h"
#include "fd-paths.h"
#include "fd-store.h"

#define FRAME_BUDGET_US 16000
#define RSS_BUDGET_KB   (200 * 1024)

typedef struct
{
  GtkWidget     *list_view;
  GtkAdjustment *adjustment;
  GArray        *frame_us;
  gint64         frame_start;
  guint          frames;
  gboolean       done;
  gboolean       started;
  guint          max_frames;   /* 0: to the end */
  double         step;         /* pixels a frame; 0: a screenful */
} Scroll;

static gint64
read_status_kb (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, field);
  if (line == NULL)
    return -1;
  return g_ascii_strtoll (line + strlen (field) + 1, NULL, 10);
}

static void
ensure_profile (const char *profile)
{
  g_autofree char *db = fd_paths_store_file (profile);
  const char *cli = g_getenv ("FD_CLI");
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (g_file_test (db, G_FILE_TEST_EXISTS))
    return;

  if (cli == NULL)
    g_error ("FD_CLI is not set: cannot make the large demo store");

  {
    const char *argv[] = { cli, "--profile", profile, "demo", "--scale", "large", NULL };

    g_printerr ("Generating the large demo store in %s…\n", profile);
    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                       &status, &error) ||
        !g_spawn_check_wait_status (status, &error))
      g_error ("Could not generate the demo store: %s", error->message);
  }
}

static void
frame_update_cb (GdkFrameClock *clock,
                 Scroll        *scroll)
{
  scroll->frame_start = g_get_monotonic_time ();
}

static void
frame_after_paint_cb (GdkFrameClock *clock,
                      Scroll        *scroll)
{
  gint64 elapsed;

  if (!scroll->started || scroll->frame_start == 0)
    return;

  elapsed = g_get_monotonic_time () - scroll->frame_start;
  g_array_append_val (scroll->frame_us, elapsed);
  scroll->frame_start = 0;
}

static gboolean
scroll_tick_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  Scroll *scroll = user_data;
  double value = gtk_adjustment_get_value (scroll->adjustment);
  double page = gtk_adjustment_get_page_size (scroll->adjustment);
  double upper = gtk_adjustment_get_upper (scroll->adjustment);

  if (!scroll->started)
    {
      if (upper <= page)
        return G_SOURCE_CONTINUE;   /* the list has not counted its rows yet */
      scroll->started = TRUE;
    }

  if (value + page >= upper - 1 ||
      (scroll->max_frames > 0 && scroll->frames >= scroll->max_frames))
    {
      scroll->done = TRUE;
      return G_SOURCE_REMOVE;
    }

  gtk_adjustment_set_value (scroll->adjustment,
                            MIN (value + (scroll->step > 0 ? scroll->step : page), upper - page));
  scroll->frames++;

  return G_SOURCE_CONTINUE;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  GtkWindow *window;
  GtkWidget *page;
  GdkFrameClock *clock;
  GtkWidget *scrolled;
  Scroll scroll = { 0 };
  gint64 p50, p95, p99, max, started;
  guint n;
  gboolean ok = TRUE;

  if (argc < 2)
    {
      g_printerr ("usage: %s PROFILE-DIR [MAX-FRAMES]\n", argv[0]);
      return 2;
    }
  if (argc > 2)
    scroll.max_frames = (guint) g_ascii_strtoull (argv[2], NULL, 10);
  /* FD_SCROLL_STEP=240: a fast flick (14,400 px/s) rather than a screenful a frame. */
  if (g_getenv ("FD_SCROLL_STEP") != NULL)
    scroll.step = g_ascii_strtod (g_getenv ("FD_SCROLL_STEP"), NULL);

  gtk_init ();
  adw_init ();

  ensure_profile (argv[1]);
  db = fd_paths_store_file (argv[1]);
  store = fd_store_new (db);
  if (!fd_store_open_sync (store, NULL, &error))
    g_error ("Could not open %s: %s", db, error->message);

  window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (window, 1200, 800);
  page = fd_inbox_page_new ();
  gtk_window_set_child (window, page);
  fd_inbox_page_set_store (FD_INBOX_PAGE (page), store);
  fd_inbox_page_show_view (FD_INBOX_PAGE (page), FD_INBOX_VIEW_RESOLVED);
  gtk_window_present (window);

  scroll.list_view = _fd_inbox_page_get_list_view (FD_INBOX_PAGE (page));
  scrolled = gtk_widget_get_parent (scroll.list_view);
  g_assert (GTK_IS_SCROLLED_WINDOW (scrolled));
  scroll.adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  scroll.frame_us = g_array_new (FALSE, FALSE, sizeof (gint64));

  while (!gtk_widget_get_mapped (scroll.list_view))
    g_main_context_iteration (NULL, TRUE);

  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (clock, "update", G_CALLBACK (frame_update_cb), &scroll);
  g_signal_connect (clock, "after-paint", G_CALLBACK (frame_after_paint_cb), &scroll);
  gtk_widget_add_tick_callback (scroll.list_view, scroll_tick_cb, &scroll, NULL);

  started = g_get_monotonic_time ();
  while (!scroll.done)
    g_main_context_iteration (NULL, TRUE);

  n = scroll.frame_us->len;
  g_assert (n > 0);
  g_array_sort (scroll.frame_us, compare_gint64);
  p50 = g_array_index (scroll.frame_us, gint64, n / 2);
  p95 = g_array_index (scroll.frame_us, gint64, MIN (n - 1, n * 95 / 100));
  p99 = g_array_index (scroll.frame_us, gint64, MIN (n - 1, n * 99 / 100));
  max = g_array_index (scroll.frame_us, gint64, n - 1);

  g_print ("Scrolled %u rows in %u frames (%.1f s): frame work p50 %.1f ms, p95 %.1f ms, "
           "p99 %.1f ms, max %.1f ms; frames over 16 ms: ",
           g_list_model_get_n_items (G_LIST_MODEL (_fd_inbox_page_get_list (FD_INBOX_PAGE (page)))),
           scroll.frames,
           (g_get_monotonic_time () - started) / 1e6,
           p50 / 1e3, p95 / 1e3, p99 / 1e3, max / 1e3);
  {
    guint over = 0;

    for (guint i = 0; i < n; i++)
      if (g_array_index (scroll.frame_us, gint64, i) > FRAME_BUDGET_US)
        over++;
    g_print ("%u of %u\n", over, n);
  }
  g_print ("Resident memory at the end: %" G_GINT64_FORMAT " MB (peak %" G_GINT64_FORMAT " MB)\n",
           read_status_kb ("VmRSS:") / 1024, read_status_kb ("VmHWM:") / 1024);

  if (p99 > FRAME_BUDGET_US)
    {
      g_print ("FAIL: the 99th percentile frame is over 16 ms\n");
      ok = FALSE;
    }
  if (read_status_kb ("VmRSS:") > RSS_BUDGET_KB)
    {
      g_print ("FAIL: resident memory is over 200 MB\n");
      ok = FALSE;
    }

  gtk_window_destroy (window);
  g_array_unref (scroll.frame_us);

  return ok ? 0 : 1;
}
