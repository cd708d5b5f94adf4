/* bench-sync.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sync benchmark: a first sync of 10,000 conversations (~50,000 messages) from
 * frontdesk-sandbox, run as its own process so the figures are the client's alone, over
 * Intercom, Slack and Discourse at once; then an incremental sync with nothing new.
 * Prints the times and the client's resident memory as the sync goes.
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fd-account.h"
#include "fd-discourse-channel.h"
#include "fd-intercom-channel.h"
#include "fd-paths.h"
#include "fd-slack-channel.h"
#include "fd-sync-engine.h"

#define SANDBOX_INTERCOM_TOKEN "sandbox-intercom-token"
#define SANDBOX_SLACK_TOKEN "xoxb-sandbox-token"
#define SANDBOX_DISCOURSE_KEY "sandbox-discourse-key"

static guint64 peak_rss_kib;

static guint64
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmRSS:")) == NULL)
    return 0;

  return g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
}

static gboolean
sample_rss_cb (gpointer user_data)
{
  GArray *samples = user_data;
  guint64 now = rss_kib ();

  g_array_append_val (samples, now);
  peak_rss_kib = MAX (peak_rss_kib, now);
  return G_SOURCE_CONTINUE;
}

static gboolean
exec_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  return fd_store_exec (db, job_data, error);
}

static gboolean
count_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, job_data, error);
  gint64 *value = g_new0 (gint64, 1);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    *value = sqlite3_column_int64 (stmt, 0);
  *result = value;
  return TRUE;
}

static gint64
count (FdStore    *store,
       const char *sql)
{
  g_autofree gint64 *value = NULL;

  g_assert_true (fd_store_run_sync (store, count_job, (gpointer) sql, (gpointer *) &value, NULL));
  return *value;
}

typedef struct
{
  guint       pending;
  GError     *error;
  FdSyncStats stats;
  gint64      start;
} Round;

static void
synced_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Round *round = user_data;
  g_autoptr(GError) error = NULL;
  FdSyncStats stats = { 0 };

  if (!fd_sync_account_finish (FD_STORE (object), result, &stats, &error) && round->error == NULL)
    round->error = g_steal_pointer (&error);
  g_print ("  one account done after %.2f s: %u conversations, %u messages\n",
           (g_get_monotonic_time () - round->start) / 1e6,
           stats.conversations_new + stats.conversations_updated, stats.messages_new);
  fd_sync_stats_add (&round->stats, &stats);
  round->pending--;
}

/* One sync of every account, all at once, as the engine does. */
static double
sync_all (FdStore    *store,
          FdAccount **accounts,
          FdChannel **channels,
          guint       n,
          Round      *round)
{
  gint64 start = g_get_monotonic_time ();

  memset (round, 0, sizeof *round);
  round->pending = n;
  round->start = start;
  for (guint i = 0; i < n; i++)
    fd_sync_account_async (store, accounts[i], channels[i], NULL, synced_cb, round);
  while (round->pending > 0)
    g_main_context_iteration (NULL, TRUE);

  if (round->error != NULL)
    g_error ("sync failed: %s", round->error->message);

  return (g_get_monotonic_time () - start) / 1e6;
}

int
main (int   argc,
      char *argv[])
{
  const char *sandbox_path = argc > 1 ? argv[1] : g_getenv ("FD_SANDBOX");
  const char *scale = argc > 2 ? argv[2] : "medium";
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("fd-bench-sync-XXXXXX", &error);
  g_autofree char *sandbox_db = g_build_filename (dir, "sandbox.db", NULL);
  g_autofree char *store_path = g_build_filename (dir, "frontdesk.db", NULL);
  g_autoptr(GSubprocess) sandbox = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *base = NULL;
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (guint64));
  FdAccount *accounts[3];
  FdChannel *channels[3];
  const char *kinds[] = { "intercom", "slack", "discourse" };
  Round round;
  double first, again;
  guint64 rss_before;
  guint sampler;
  gint64 seed_start;

  g_assert_no_error (error);
  if (sandbox_path == NULL)
    g_error ("usage: bench-sync FRONTDESK-SANDBOX [small|medium|large]");

  seed_start = g_get_monotonic_time ();
  sandbox = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, sandbox_path,
                              "--db", sandbox_db, "--port", "0", "--seed", "7", "--scale", scale, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sandbox));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  if (line == NULL || !g_str_has_prefix (line, "listening on "))
    g_error ("the sandbox did not start: %s", error != NULL ? error->message : line);
  base = g_strdup (line + strlen ("listening on "));
  g_print ("sandbox seeded (%s scale) and listening in %.1f s\n", scale,
           (g_get_monotonic_time () - seed_start) / 1e6);

  store = fd_store_new (store_path);
  g_assert_true (fd_store_open_sync (store, NULL, &error));

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *sql = g_strdup_printf ("INSERT INTO accounts (id, uid, kind, name, base_url, created_at) "
                                              "VALUES (%u, 'bench-%u', '%s', 'Bench %s', '%s', 0)",
                                              i + 1, i + 1, kinds[i], kinds[i], base);
      FdAccountKind kind;

      g_assert_true (fd_store_run_sync (store, exec_job, sql, NULL, &error));
      g_assert_true (fd_account_kind_from_string (kinds[i], &kind));
      accounts[i] = g_object_new (FD_TYPE_ACCOUNT, "id", (gint64) (i + 1), "kind", kind,
                                  "name", kinds[i], "base-url", base, NULL);
    }

  {
    g_autofree char *intercom = g_strconcat (base, "/intercom", NULL);
    g_autofree char *slack = g_strconcat (base, "/slack/api", NULL);
    g_autofree char *discourse = g_strconcat (base, "/discourse", NULL);

    channels[0] = fd_intercom_channel_new (intercom, SANDBOX_INTERCOM_TOKEN);
    channels[1] = fd_slack_channel_new (slack, SANDBOX_SLACK_TOKEN, NULL);
    channels[2] = fd_discourse_channel_new (discourse, SANDBOX_DISCOURSE_KEY, "system", NULL);
  }

  rss_before = rss_kib ();
  sampler = g_timeout_add (100, sample_rss_cb, samples);
  first = sync_all (store, accounts, channels, 3, &round);
  g_source_remove (sampler);

  g_print ("first sync: %u conversations, %u messages, %u contacts in %.2f s (%.0f conversations/s)\n",
           round.stats.conversations_new, round.stats.messages_new, round.stats.contacts, first,
           round.stats.conversations_new / first);
  g_print ("stored: %" G_GINT64_FORMAT " conversations, %" G_GINT64_FORMAT " messages\n",
           count (store, "SELECT count(*) FROM conversations"),
           count (store, "SELECT count(*) FROM messages"));
  if (samples->len >= 4)
    g_print ("client memory (RSS): %" G_GUINT64_FORMAT " MiB before, %" G_GUINT64_FORMAT
             " MiB at a quarter, %" G_GUINT64_FORMAT " MiB at the end, peak %" G_GUINT64_FORMAT " MiB\n",
             rss_before / 1024, g_array_index (samples, guint64, samples->len / 4) / 1024,
             g_array_index (samples, guint64, samples->len - 1) / 1024, peak_rss_kib / 1024);

  again = sync_all (store, accounts, channels, 3, &round);
  g_print ("incremental sync with nothing new: %.0f ms (%u new messages)\n", again * 1000,
           round.stats.messages_new);

  for (guint i = 0; i < 3; i++)
    {
      g_object_unref (channels[i]);
      g_object_unref (accounts[i]);
    }
  fd_store_close (store);
  g_subprocess_send_signal (sandbox, SIGTERM);
  g_subprocess_wait (sandbox, NULL, NULL);

  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL);
  }

  if (first > 20.0 || again > 0.2)
    {
      g_printerr ("slower than the targets (first sync 20 s, incremental 200 ms)\n");
      return 1;
    }

  return 0;
}
