/* bench-search.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The search benchmark, on the large demo store (100,000 conversations, ~1,000,000
 * messages) in the profile folder given as argv[1], generated there with
 * `$FD_CLI --profile DIR demo --scale large` when missing and reused afterwards.
 *
 * A fixed mix of queries (a common word, a rare word, a phrase and a prefix, each alone
 * and with status:, org: and tag: filters) runs in both orders for the first page (50
 * conversations) through fd_search_run, and as the equivalent plain statement run
 * straight through the sqlite3 API: the same FTS5 MATCH over messages and subjects,
 * grouped per conversation, filtered with the same conditions, ordered by rank or last
 * activity, limited to 50, with the snippets of those conversations' messages. Both
 * run on one read-only connection, alternately, after a warm-up run each.
 *
 * Targets: p95 of fd_search_run over the whole mix ≤ 50 ms, and every query's median
 * within 1.5× of its direct statement's median. Exits 1 when one is missed. A second
 * argument runs only the queries that contain it.
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib/gstdio.h>

#include "fd-paths.h"
#include "fd-search.h"
#include "fd-store.h"

#define PAGE 50
#define TARGET_P95_MS 50.0
#define TARGET_RATIO 1.5
#define MIN_RUNS 5
#define MAX_RUNS 25
/* Stop repeating a query after this long, once it has MIN_RUNS samples. */
#define QUERY_BUDGET_US (3 * G_USEC_PER_SEC)

typedef struct
{
  const char *label;
  const char *text;
} Words;

typedef struct
{
  const char *label;
  const char *query;     /* appended to the words */
  const char *sql;       /* the same condition on "c" for the direct statement */
} Filter;

static const Words words[] = {
  { "common word", "thanks" },          /* ~370,000 messages */
  { "rare word", "proration" },         /* ~500 */
  { "phrase", "\"payment failed\"" },   /* ~2,000 */
  { "prefix", "invoic*" },              /* ~28,000 */
};

static const Filter filters[] = {
  { "", "", "1" },
  { "status", " status:open", "c.status = 'open'" },
  { "org", " org:\"Maplebay Legal\"",
    "c.organisation_id IN (SELECT id FROM organisations WHERE name LIKE '%Maplebay Legal%')" },
  { "tag", " tag:billing",
    "EXISTS (SELECT 1 FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id"
    " WHERE ct.conversation_id = c.id AND t.name = 'billing')" },
};

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *samples,
            double  p)
{
  g_autoptr(GArray) sorted = g_array_copy (samples);
  guint index;

  if (sorted->len == 0)
    return 0.0;
  qsort (sorted->data, sorted->len, sizeof (double), compare_double);
  index = (guint) (p * (sorted->len - 1) + 0.5);
  return g_array_index (sorted, double, MIN (index, sorted->len - 1));
}

static gboolean
ensure_store (const char *profile,
              const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *cli = g_getenv ("FD_CLI");
  const char *argv[] = { cli, "--profile", profile, "demo", "--scale", "large", NULL };
  int status = 0;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;

  if (cli == NULL)
    {
      g_printerr ("No store at %s and FD_CLI is not set to make one.\n", path);
      return FALSE;
    }

  g_print ("# Generating the large demo store in %s (takes a minute)…\n", profile);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, &err, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("Could not generate the demo store: %s\n%s", error->message,
                  err != NULL ? err : "");
      return FALSE;
    }
  {
    g_auto(GStrv) lines = g_strsplit (g_strstrip (out), "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      g_print ("# %s\n", lines[i]);
  }
  return TRUE;
}

static double
thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1.0e6;
}

static double
time_search (sqlite3             *db,
             const FdSearchQuery *query,
             FdSearchOrder        order,
             guint               *n_results)
{
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  if (!fd_search_run (db, query, order, 1, 0, PAGE, &results, &error))
    g_error ("fd_search_run failed: %s", error->message);

  *n_results = results->len;
  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
time_direct (sqlite3      *db,
             sqlite3_stmt *stmt,
             const char   *fts,
             guint        *n_rows)
{
  gint64 start = g_get_monotonic_time ();
  int rc;

  *n_rows = 0;
  sqlite3_bind_text (stmt, 1, fts, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      (void) sqlite3_column_int64 (stmt, 0);
      (void) sqlite3_column_text (stmt, 1);
      (*n_rows)++;
    }
  if (rc != SQLITE_DONE)
    g_error ("Direct statement failed: %s", sqlite3_errmsg (db));
  sqlite3_reset (stmt);

  return (g_get_monotonic_time () - start) / 1000.0;
}

/* The same search written as one plain statement: the messages and the subjects that
 * match, one row per conversation (its best rank, or its last activity), filtered, the
 * top 50, and the snippets of their messages. */
static char *
direct_sql (const Filter  *filter,
            FdSearchOrder  order)
{
  gboolean best = order == FD_SEARCH_ORDER_BEST;

  return g_strdup_printf ("WITH hits AS ("
                          "  SELECT m.conversation_id AS cid, f.rowid AS mid, %s AS r"
                          "  FROM messages_fts f JOIN messages m ON m.id = f.rowid"
                          "  WHERE f.messages_fts MATCH ?1"
                          "  UNION ALL SELECT s.rowid, NULL, %s FROM conversations_fts s"
                          "  WHERE s.conversations_fts MATCH ?1),"
                          " top AS (SELECT c.id, max(h.mid) AS mid, min(h.r) AS r"
                          "  FROM hits h JOIN conversations c ON c.id = h.cid"
                          "  WHERE %s GROUP BY c.id ORDER BY %s LIMIT %d)"
                          " SELECT rowid, snippet(messages_fts, 0, '[', ']', '…', 16)"
                          " FROM messages_fts WHERE messages_fts MATCH ?1"
                          " AND rowid IN (SELECT mid FROM top)",
                          best ? "f.rank" : "0", best ? "2 * s.rank" : "0",
                          filter->sql,
                          best ? "r, c.last_message_at DESC" : "c.last_message_at DESC",
                          PAGE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GArray) all_search = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *path = NULL;
  sqlite3 *db = NULL;
  gboolean ratios_ok = TRUE;
  gboolean ok;
  guint n_queries = 0;

  setlocale (LC_ALL, "");

  if (argc < 2)
    {
      g_printerr ("Usage: %s PROFILE-DIR\n", argv[0]);
      return 2;
    }

  path = fd_paths_store_file (argv[1]);
  if (!ensure_store (argv[1], path))
    return 1;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      g_printerr ("Could not open %s: %s\n", path, sqlite3_errmsg (db));
      return 1;
    }

  g_print ("# fd_search_run vs the direct FTS5 statement, first page of %d, times in ms\n",
           PAGE);
  g_print ("# %-38s %-6s %8s %8s %8s %8s %6s %8s %8s %5s\n", "query", "order", "p50",
           "p95", "dir p50", "dir p95", "ratio", "cpu p50", "dir cpu", "rows");

  for (guint w = 0; w < G_N_ELEMENTS (words); w++)
    for (guint f = 0; f < G_N_ELEMENTS (filters); f++)
      for (int o = 0; o < 2; o++)
        {
          FdSearchOrder order = o == 0 ? FD_SEARCH_ORDER_BEST : FD_SEARCH_ORDER_NEWEST;
          g_autofree char *text = g_strconcat (words[w].text, filters[f].query, NULL);
          g_autofree char *sql = direct_sql (&filters[f], order);
          g_autoptr(FdSearchQuery) query = NULL;
          g_autoptr(GError) error = NULL;
          g_autoptr(GArray) search = g_array_new (FALSE, FALSE, sizeof (double));
          g_autoptr(GArray) direct = g_array_new (FALSE, FALSE, sizeof (double));
          g_autoptr(GArray) search_cpu = g_array_new (FALSE, FALSE, sizeof (double));
          g_autoptr(GArray) direct_cpu = g_array_new (FALSE, FALSE, sizeof (double));
          sqlite3_stmt *stmt = NULL;
          guint n_results = 0, n_rows = 0;
          double p50, p95, d50, d95, ratio;
          gint64 started;
          gboolean missed;

          if (argc > 2 && strstr (text, argv[2]) == NULL)
            continue;

          query = fd_search_query_parse (text, &error);
          g_assert_no_error (error);
          if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
            g_error ("Could not prepare %s: %s", sql, sqlite3_errmsg (db));

          /* Warm up both, then alternate so neither gets a warmer cache. */
          time_search (db, query, order, &n_results);
          time_direct (db, stmt, fd_search_query_get_fts (query), &n_rows);

          started = g_get_monotonic_time ();
          for (guint run = 0; run < MAX_RUNS; run++)
            {
              double t, c;

              if (run >= MIN_RUNS && g_get_monotonic_time () - started > QUERY_BUDGET_US)
                break;
              c = thread_cpu_ms ();
              t = time_search (db, query, order, &n_results);
              c = thread_cpu_ms () - c;
              g_array_append_val (search, t);
              g_array_append_val (search_cpu, c);
              g_array_append_val (all_search, t);
              c = thread_cpu_ms ();
              t = time_direct (db, stmt, fd_search_query_get_fts (query), &n_rows);
              c = thread_cpu_ms () - c;
              g_array_append_val (direct, t);
              g_array_append_val (direct_cpu, c);
            }
          sqlite3_finalize (stmt);

          p50 = percentile (search, 0.5);
          p95 = percentile (search, 0.95);
          d50 = percentile (direct, 0.5);
          d95 = percentile (direct, 0.95);
          ratio = d50 > 0 ? p50 / d50 : 0.0;
          missed = ratio > TARGET_RATIO;
          ratios_ok &= !missed;
          n_queries++;

          g_print ("  %-38s %-6s %8.2f %8.2f %8.2f %8.2f %6.2f %8.2f %8.2f %5u%s\n", text,
                   order == FD_SEARCH_ORDER_BEST ? "best" : "newest",
                   p50, p95, d50, d95, ratio, percentile (search_cpu, 0.5),
                   percentile (direct_cpu, 0.5), n_results, missed ? "  MISSED" : "");
        }

  {
    double p95 = percentile (all_search, 0.95);
    double p50 = percentile (all_search, 0.5);
    double max = percentile (all_search, 1.0);
    gboolean p95_ok = p95 <= TARGET_P95_MS;

    g_print ("# %u queries, %u runs of fd_search_run: p50 %.2f ms, p95 %.2f ms "
             "(target ≤ %.0f ms: %s), max %.2f ms\n",
             n_queries, all_search->len, p50, p95, TARGET_P95_MS,
             p95_ok ? "met" : "MISSED", max);
    g_print ("# every query's median within %.1f× of the direct statement: %s\n",
             TARGET_RATIO, ratios_ok ? "yes" : "no, see MISSED above");
    ok = p95_ok && ratios_ok;
  }

  sqlite3_close_v2 (db);
  g_print ("%s\n", ok ? "# all targets met" : "# a target was missed");
  return ok ? 0 : 1;
}
