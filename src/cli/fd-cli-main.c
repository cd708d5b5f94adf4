/* fd-cli-main.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "frontdesk-cli"

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "fd-cli-private.h"
#include "fd-demo.h"
#include "fd-log.h"
#include "fd-paths.h"
#include "fd-search.h"
#include "fd-store.h"

#define DEFAULT_SEED 1
#define DEFAULT_LIMIT 20

static void
print_usage (FILE *stream)
{
  g_autofree char *default_profile = fd_paths_default_profile ();
  g_autofree char *text = NULL;

  text = g_strdup_printf (_("Usage: frontdesk-cli [--profile DIR] COMMAND [ARGUMENTS…]\n"
                            "\n"
                            "Commands:\n"
                            "  demo [--seed N] [--scale small|medium|large] [--replace]\n"
                            "                  Fill the profile with demo conversations\n"
                            "  info            Show where the store is, its schema version "
                            "and how many rows it holds\n"
                            "  search [--json] [--limit N] [--newest] QUERY\n"
                            "                  Search the conversations, as the inbox does "
                            "(words,\n"
                            "                  \"phrases\", prefix*, status:, org:, tag:, "
                            "from:, …)\n"
                            "  account add --kind KIND --name NAME [--base-url URL]\n"
                            "              [--username NAME] [--categories IDS]\n"
                            "                  Connect an account; the token is read from "
                            "standard input\n"
                            "                  into the keyring (KIND: intercom, slack, "
                            "discourse, stripe, linear)\n"
                            "  account list    List the connected accounts\n"
                            "  account remove ID|NAME\n"
                            "                  Disconnect an account and delete its token\n"
                            "  sync [--account ID|NAME]\n"
                            "                  Sync once and print what changed\n"
                            "  billing lookup [--json] EMAIL|NAME|ID\n"
                            "                  Show a customer’s Stripe subscriptions, open "
                            "invoices\n"
                            "                  and recent failed payments\n"
                            "  help            Show this help\n"
                            "\n"
                            "Options:\n"
                            "  --profile DIR   Use the profile in DIR (default: %s)\n"
                            "  --version       Show the version and exit\n"),
                          default_profile);
  if (stream == stderr)
    g_printerr ("%s", text);
  else
    g_print ("%s", text);
}

int
_fd_cli_usage_error (const char *message)
{
  g_printerr ("frontdesk-cli: %s\n", message);
  g_printerr (_("Run “frontdesk-cli help” to see the commands and their options.\n"));
  return EXIT_USAGE;
}

int
_fd_cli_failure (const char *message)
{
  g_printerr ("frontdesk-cli: %s\n", message);
  return EXIT_FAILED;
}

/* Parses the options of one command with GOptionContext; what is left in @argv are its
 * positional arguments. */
gboolean
_fd_cli_parse_command_options (const char    *command,
                               const char    *parameter_string,
                               const char    *summary,
                               GOptionEntry  *entries,
                               char        ***argv,
                               int           *exit_code)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;

  context = g_option_context_new (parameter_string);
  g_option_context_set_summary (context, summary);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse_strv (context, argv, &error))
    {
      g_autofree char *message = g_strdup_printf ("%s: %s", command, error->message);
      *exit_code = _fd_cli_usage_error (message);
      return FALSE;
    }

  return TRUE;
}

/* {{{ Read-only access for info and search */

static gboolean
open_read_only (const char  *path,
                sqlite3    **out_db,
                GError     **error)
{
  sqlite3 *db = NULL;
  int rc;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("There is no Frontdesk store at %s yet. Run “frontdesk-cli demo” to "
                     "create one with demo data."),
                   path);
      return FALSE;
    }

  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
  if (rc != SQLITE_OK)
    {
      fd_store_set_error (db, rc, error);
      sqlite3_close_v2 (db);
      return FALSE;
    }
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, 5000);

  *out_db = db;
  return TRUE;
}

static gboolean
query_int64 (sqlite3     *db,
             const char  *sql,
             gint64      *value,
             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  *value = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static gboolean
has_table (sqlite3     *db,
           const char  *name,
           gboolean    *found,
           GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *found = rc == SQLITE_ROW;
  return TRUE;
}

/* A Frontdesk store is an SQLite file with our schema version and our main tables; only
 * such a file may be replaced by `demo --replace`. */
static gboolean
check_frontdesk_store (sqlite3     *db,
                       const char  *path,
                       gint64      *version,
                       GError     **error)
{
  static const char * const required[] = { "conversations", "messages", "messages_fts",
                                           "events", "organisations", "contacts" };

  if (!query_int64 (db, "PRAGMA user_version", version, error))
    return FALSE;

  if (*version > FD_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_NEWER_SCHEMA,
                   _("%s was written by a newer version of Frontdesk (schema %d, this "
                     "program knows up to %d). Update Frontdesk to use it."),
                   path, (int) *version, FD_STORE_SCHEMA_VERSION);
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    {
      gboolean found = FALSE;

      if (!has_table (db, required[i], &found, error))
        return FALSE;
      if (!found || *version < 1)
        {
          g_set_error (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED,
                       _("%s is an SQLite file but not a Frontdesk store."), path);
          return FALSE;
        }
    }

  return TRUE;
}

/* A file SQLite reads as a database without a single table: what an interrupted first
 * start leaves behind, safe to fill. */
static gboolean
is_blank_database (sqlite3 *db)
{
  gint64 tables = -1;
  gint64 version = -1;

  return query_int64 (db, "SELECT count(*) FROM sqlite_master", &tables, NULL) &&
         query_int64 (db, "PRAGMA user_version", &version, NULL) &&
         tables == 0 && version == 0;
}

/* }}} */
/* {{{ demo */

typedef struct
{
  guint32 seed;
  FdDemoScale scale;
  gint64 now_ms;
  gboolean already_seeded;
  FdDemoStats stats;
} DemoJob;

static gboolean
demo_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  DemoJob *job = job_data;

  if (!fd_demo_is_seeded (db, &job->already_seeded, error))
    return FALSE;
  if (job->already_seeded)
    return TRUE;

  return fd_demo_generate (db, job->seed, job->scale, job->now_ms, &job->stats, error);
}

/* Removes the side files of the store at @path (and the store itself if @with_main). */
static gboolean
remove_store_files (const char  *path,
                    gboolean     with_main,
                    GError     **error)
{
  static const char * const suffixes[] = { "-wal", "-shm", "-journal", "" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes) - (with_main ? 0 : 1); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);

      if (g_unlink (file) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not remove %s: %s."), file, g_strerror (saved_errno));
          return FALSE;
        }
    }

  return TRUE;
}

static int
cmd_demo (const char  *profile,
          char       **argv)
{
  g_autofree char *seed_text = NULL;
  g_autofree char *scale_text = NULL;
  gboolean replace = FALSE;
  GOptionEntry entries[] = {
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_text,
      N_("Seed of the generator; the same seed gives the same data"), N_("N") },
    { "scale", 0, 0, G_OPTION_ARG_STRING, &scale_text,
      N_("“small” (5,000 conversations) or “large” (100,000)"), N_("SCALE") },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace,
      N_("Delete the profile’s store first, if it is a Frontdesk store"), NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(FdStore) store = NULL;
  g_autofree char *path = NULL;
  g_autofree char *target = NULL;
  DemoJob job = { 0 };
  gboolean exists;
  int exit_code = EXIT_OK;

  if (!_fd_cli_parse_command_options ("demo", "demo",
                              _("Fills the profile with a deterministic demo data set."),
                              entries, &argv, &exit_code))
    return exit_code;
  if (g_strv_length (argv) > 1)
    return _fd_cli_usage_error (_("demo: this command takes no arguments besides its options."));

  job.seed = DEFAULT_SEED;
  if (seed_text != NULL)
    {
      guint64 seed = 0;

      if (!g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT32, &seed, NULL))
        return _fd_cli_usage_error (_("demo: --seed needs a whole number between 0 and 4294967295."));
      job.seed = (guint32) seed;
    }

  job.scale = FD_DEMO_SCALE_SMALL;
  if (scale_text != NULL)
    {
      if (g_str_equal (scale_text, "large"))
        job.scale = FD_DEMO_SCALE_LARGE;
      else if (g_str_equal (scale_text, "medium"))
        job.scale = FD_DEMO_SCALE_MEDIUM;
      else if (!g_str_equal (scale_text, "small"))
        return _fd_cli_usage_error (_("demo: --scale must be “small”, “medium” or “large”."));
    }

  if (!fd_paths_ensure_profile (profile, &error))
    return _fd_cli_failure (error->message);

  path = fd_paths_store_file (profile);
  exists = g_file_test (path, G_FILE_TEST_EXISTS);

  /* Only a Frontdesk store (or a blank file) is ever opened for writing, and only a
   * Frontdesk store is ever replaced. */
  if (exists)
    {
      sqlite3 *db = NULL;
      gint64 version = 0;
      gboolean ok, blank;

      if (!open_read_only (path, &db, &error))
        return _fd_cli_failure (error->message);
      blank = is_blank_database (db);
      ok = blank || check_frontdesk_store (db, path, &version, &error);
      sqlite3_close_v2 (db);

      if (!ok && replace)
        {
          g_autofree char *message =
            g_strdup_printf (_("“demo --replace” only replaces a Frontdesk store, and %s "
                               "could not be read as one, so the file was left as it is. "
                               "Move it aside, or choose another profile with --profile."),
                             path);
          return _fd_cli_failure (message);
        }
      if (!ok)
        return _fd_cli_failure (error->message);

      /* Generate beside the old store and swap at the end, so a failure or Ctrl+C
       * leaves the old data in place. */
      if (replace && !blank)
        {
          target = g_strconcat (path, ".new", NULL);
          if (!remove_store_files (target, TRUE, &error))
            return _fd_cli_failure (error->message);
        }
    }

  if (target == NULL)
    target = g_strdup (path);

  store = fd_store_new (target);
  if (!fd_store_open_sync (store, NULL, &error))
    return _fd_cli_failure (error->message);

  job.now_ms = g_get_real_time () / 1000;
  if (!fd_store_run_sync (store, demo_job, &job, NULL, &error))
    {
      fd_store_close (store);
      if (target != NULL && !g_str_equal (target, path))
        remove_store_files (target, TRUE, NULL);
      return _fd_cli_failure (error->message);
    }
  fd_store_close (store);

  if (job.already_seeded)
    {
      g_autofree char *message =
        g_strdup_printf (_("The profile in %s already has conversations, so no demo data "
                           "was added. Use “demo --replace” to delete this store and "
                           "generate the demo data again."),
                         profile);
      return _fd_cli_failure (message);
    }

  if (!g_str_equal (target, path))
    {
      /* The old store's -wal must go before the new file takes its name, or SQLite would
       * replay it into the new database. The rename itself replaces the old file at once. */
      if (!remove_store_files (path, FALSE, &error) || g_rename (target, path) != 0)
        {
          g_autofree char *message = NULL;

          if (error == NULL)
            {
              int saved_errno = errno;
              g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                           _("Could not move %s to %s: %s."), target, path,
                           g_strerror (saved_errno));
            }
          message = g_strdup_printf (_("%s The demo data is in %s."), error->message, target);
          return _fd_cli_failure (message);
        }
    }

  g_print (_("Generated %u organisations, %u contacts, %u conversations, %u messages in "
             "%.2f s\n"),
           job.stats.organisations, job.stats.contacts, job.stats.conversations,
           job.stats.messages, job.stats.elapsed_usec / (double) G_USEC_PER_SEC);
  g_print (_("Store: %s\n"), path);

  return EXIT_OK;
}

/* }}} */
/* {{{ info */

static int
cmd_info (const char  *profile,
          char       **argv)
{
  static const struct
  {
    const char *table;
    const char *label;
  } tables[] = {
    { "accounts", N_("Accounts") },
    { "organisations", N_("Organisations") },
    { "organisation_domains", N_("Organisation domains") },
    { "contacts", N_("Contacts") },
    { "agents", N_("Agents") },
    { "conversations", N_("Conversations") },
    { "messages", N_("Messages") },
    { "attachments", N_("Attachments") },
    { "events", N_("Events") },
    { "tags", N_("Tags") },
    { "csat", N_("CSAT ratings") },
    { "outbox", N_("Outbox") },
    { "audit_log", N_("Audit log") },
    { "feedback", N_("Feedback") },
    { "docs", N_("Docs") },
  };
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *size = NULL;
  GStatBuf st;
  sqlite3 *db = NULL;
  gint64 version = 0;
  int exit_code = EXIT_OK;

  if (!_fd_cli_parse_command_options ("info", "info",
                              _("Shows where the store is, its schema version and how many "
                                "rows it holds."),
                              entries, &argv, &exit_code))
    return exit_code;
  if (g_strv_length (argv) > 1)
    return _fd_cli_usage_error (_("info: this command takes no arguments."));

  path = fd_paths_store_file (profile);
  if (!open_read_only (path, &db, &error))
    return _fd_cli_failure (error->message);

  if (!check_frontdesk_store (db, path, &version, &error))
    {
      sqlite3_close_v2 (db);
      return _fd_cli_failure (error->message);
    }

  if (g_stat (path, &st) == 0)
    size = g_format_size ((guint64) st.st_size);

  g_print ("%-22s %s\n", _("Store:"), path);
  if (size != NULL)
    g_print ("%-22s %s\n", _("Size:"), size);
  g_print ("%-22s %d\n", _("Schema version:"), (int) version);

  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = NULL;
      g_autofree char *label = NULL;
      gboolean found = FALSE;
      gint64 count = 0;

      if (!has_table (db, tables[i].table, &found, &error))
        break;
      if (!found)
        continue;

      sql = g_strdup_printf ("SELECT count(*) FROM %s", tables[i].table);
      if (!query_int64 (db, sql, &count, &error))
        break;
      label = g_strdup_printf ("%s:", _(tables[i].label));
      g_print ("%-22s %" G_GINT64_FORMAT "\n", label, count);
    }
  sqlite3_close_v2 (db);

  if (error != NULL)
    return _fd_cli_failure (error->message);

  return EXIT_OK;
}

/* }}} */
/* {{{ search */

/* The agent using Frontdesk, for assignee:me; 0 when there is none. */
static gboolean
find_me_agent (sqlite3  *db,
               gint64   *id,
               GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = fd_store_prepare (db, "SELECT id FROM agents WHERE is_me ORDER BY id LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);
  *id = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

/* The snippet without marks; @highlights gets where each match starts and how long it
 * is, in characters of that text. */
static void
add_highlight (GArray *highlights,
               glong   start,
               glong   end)
{
  glong pair[2] = { start, end - start };

  if (start >= 0 && end > start)
    g_array_append_vals (highlights, pair, 2);
}

static char *
split_snippet (const char *snippet,
               GArray     *highlights)
{
  GString *plain = g_string_new (NULL);
  glong chars = 0, start = -1;

  for (const char *p = snippet; *p != '\0'; p = g_utf8_next_char (p))
    {
      if (*p == FD_SEARCH_MARK_START[0])
        {
          if (start < 0)
            start = chars;
          continue;
        }
      if (*p == FD_SEARCH_MARK_END[0])
        {
          add_highlight (highlights, start, chars);
          start = -1;
          continue;
        }
      g_string_append_len (plain, p, g_utf8_next_char (p) - p);
      chars++;
    }
  add_highlight (highlights, start, chars);

  return g_string_free (plain, FALSE);
}

static char *
results_to_json (GPtrArray *results)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; i < results->len; i++)
    {
      const FdSearchResult *result = g_ptr_array_index (results, i);
      g_autoptr(GArray) highlights = g_array_new (FALSE, FALSE, sizeof (glong));
      g_autofree char *plain = split_snippet (result->snippet, highlights);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "conversation_id");
      json_builder_add_int_value (builder, result->conversation_id);
      json_builder_set_member_name (builder, "subject");
      json_builder_add_string_value (builder, result->subject);
      json_builder_set_member_name (builder, "organisation");
      json_builder_add_string_value (builder, result->organisation);
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, result->status);
      json_builder_set_member_name (builder, "snippet");
      json_builder_add_string_value (builder, plain);
      json_builder_set_member_name (builder, "highlights");
      json_builder_begin_array (builder);
      for (guint k = 0; k + 1 < highlights->len; k += 2)
        {
          json_builder_begin_array (builder);
          json_builder_add_int_value (builder, g_array_index (highlights, glong, k));
          json_builder_add_int_value (builder, g_array_index (highlights, glong, k + 1));
          json_builder_end_array (builder);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "last_message_at");
      if (result->last_message_at > 0)
        {
          g_autoptr(GDateTime) time =
            g_date_time_new_from_unix_utc (result->last_message_at / 1000);
          g_autofree char *text = g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");

          json_builder_add_string_value (builder, text);
        }
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

static int
cmd_search (const char  *profile,
            char       **argv)
{
  g_autofree char *limit_text = NULL;
  gboolean json = FALSE;
  gboolean newest = FALSE;
  GOptionEntry entries[] = {
    { "limit", 0, 0, G_OPTION_ARG_STRING, &limit_text,
      N_("Show at most N conversations (default 20)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print a JSON array instead of lines of text"), NULL },
    { "newest", 0, 0, G_OPTION_ARG_NONE, &newest,
      N_("Latest activity first instead of best match first"), NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(FdSearchQuery) query = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  guint64 limit = DEFAULT_LIMIT;
  gint64 version = 0;
  gint64 me = 0;
  sqlite3 *db = NULL;
  int exit_code = EXIT_OK;

  if (!_fd_cli_parse_command_options ("search", "search QUERY",
                              _("Searches the conversations like the search field of the "
                                "inbox: words, \"phrases\", prefix*, and filters such as "
                                "status:open, org:\"Acme Corp\", tag:billing, from:, "
                                "channel:, assignee:me, is:unassigned, before:2026-01-31 "
                                "and after:."),
                              entries, &argv, &exit_code))
    return exit_code;

  if (limit_text != NULL &&
      !g_ascii_string_to_unsigned (limit_text, 10, 1, 1000, &limit, NULL))
    return _fd_cli_usage_error (_("search: --limit needs a whole number between 1 and 1000."));

  if (g_strv_length (argv) < 2)
    return _fd_cli_usage_error (_("search: say what to search for, for example "
                          "“frontdesk-cli search refund” or "
                          "“frontdesk-cli search status:open”."));

  text = g_strjoinv (" ", argv + 1);
  query = fd_search_query_parse (text, &error);
  if (query == NULL)
    {
      g_autofree char *message = g_strdup_printf ("search: %s", error->message);
      return _fd_cli_usage_error (message);
    }

  path = fd_paths_store_file (profile);
  if (!open_read_only (path, &db, &error))
    return _fd_cli_failure (error->message);

  if (!check_frontdesk_store (db, path, &version, &error) ||
      !find_me_agent (db, &me, &error) ||
      !fd_search_run (db, query,
                      newest ? FD_SEARCH_ORDER_NEWEST : FD_SEARCH_ORDER_BEST,
                      me, 0, (guint) limit, &results, &error))
    {
      sqlite3_close_v2 (db);
      return _fd_cli_failure (error->message);
    }
  sqlite3_close_v2 (db);

  if (json)
    {
      g_autofree char *data = results_to_json (results);

      g_print ("%s\n", data);
      return EXIT_OK;
    }

  for (guint i = 0; i < results->len; i++)
    {
      const FdSearchResult *result = g_ptr_array_index (results, i);
      g_autofree char *snippet = fd_search_snippet_to_plain (result->snippet, "[", "]");

      g_print ("#%-7" G_GINT64_FORMAT " %-9s %s%s%s · %s\n", result->conversation_id,
               result->status, result->organisation,
               *result->organisation != '\0' ? " · " : "", result->subject, snippet);
    }

  if (results->len == 0)
    g_print (_("No conversations match “%s”.\n"), text);

  return EXIT_OK;
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_autofree char *profile = NULL;
  g_autofree char *message = NULL;
  g_auto(GStrv) command_argv = NULL;
  const char *command = NULL;
  int i;

  fd_log_init ();

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_prgname ("frontdesk-cli");

  /* Global options come before the command; everything after belongs to the command. */
  for (i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--profile"))
        {
          if (i + 1 >= argc)
            return _fd_cli_usage_error (_("--profile needs a folder, for example "
                                  "“--profile ~/frontdesk-test”."));
          g_free (profile);
          profile = g_strdup (argv[++i]);
        }
      else if (g_str_has_prefix (arg, "--profile="))
        {
          g_free (profile);
          profile = g_strdup (arg + strlen ("--profile="));
        }
      else if (g_str_equal (arg, "--help") || g_str_equal (arg, "-h"))
        {
          print_usage (stdout);
          return EXIT_OK;
        }
      else if (g_str_equal (arg, "--version"))
        {
          g_print ("frontdesk-cli %s\n", PACKAGE_VERSION);
          return EXIT_OK;
        }
      else if (arg[0] == '-')
        {
          message = g_strdup_printf (_("Unknown option “%s”."), arg);
          return _fd_cli_usage_error (message);
        }
      else
        {
          command = arg;
          break;
        }
    }

  if (command == NULL)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }

  if (profile == NULL)
    profile = fd_paths_default_profile ();
  else if (profile[0] == '\0')
    return _fd_cli_usage_error (_("--profile needs a folder, for example "
                          "“--profile ~/frontdesk-test”."));

  /* The command's own argv, with the command as its argv[0]. */
  command_argv = g_new0 (char *, argc - i + 1);
  for (int k = i; k < argc; k++)
    command_argv[k - i] = g_strdup (argv[k]);

  if (g_str_equal (command, "demo"))
    return cmd_demo (profile, command_argv);
  if (g_str_equal (command, "info"))
    return cmd_info (profile, command_argv);
  if (g_str_equal (command, "search"))
    return cmd_search (profile, command_argv);
  if (g_str_equal (command, "account"))
    return _fd_cli_account (profile, command_argv);
  if (g_str_equal (command, "sync"))
    return _fd_cli_sync (profile, command_argv);
  if (g_str_equal (command, "billing"))
    return _fd_cli_billing (profile, command_argv);
  if (g_str_equal (command, "help"))
    {
      print_usage (stdout);
      return EXIT_OK;
    }

  message = g_strdup_printf (_("Unknown command “%s”."), command);
  return _fd_cli_usage_error (message);
}
