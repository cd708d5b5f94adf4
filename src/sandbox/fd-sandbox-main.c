/* fd-sandbox-main.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sandbox"

#include "config.h"

#include <glib/gstdio.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fd-sandbox.h"

static const char description[] =
  "Serves the Intercom, Slack, Discourse and Stripe APIs that Frontdesk uses on 127.0.0.1, with\n"
  "demo data in a SQLite file. Prints “listening on http://127.0.0.1:PORT” once ready,\n"
  "and stops on SIGTERM or SIGINT.\n"
  "\n"
  "Base URLs:  BASE/intercom   BASE/slack/api   BASE/discourse   BASE/stripe\n"
  "            (control: BASE/_control; Stripe's seeded cases: BASE/stripe/_sandbox/scenarios)\n"
  "\n"
  "Sandbox credentials (fixed, not secrets):\n"
  "  Intercom   Authorization: Bearer " FD_SANDBOX_INTERCOM_TOKEN "\n"
  "  Slack      bot token " FD_SANDBOX_SLACK_BOT_TOKEN ", app token " FD_SANDBOX_SLACK_APP_TOKEN "\n"
  "  Discourse  Api-Key: " FD_SANDBOX_DISCOURSE_KEY ", Api-Username: " FD_SANDBOX_DISCOURSE_USERNAME "\n"
  "  Stripe     Authorization: Bearer " FD_SANDBOX_STRIPE_KEY " (restricted, read-only: " FD_SANDBOX_STRIPE_RESTRICTED_KEY ")\n"
  "\n"
  "Fault kinds: rate_limit (PARAM: Retry-After seconds), server_error, unavailable,\n"
  "slow (PARAM: milliseconds), truncate, malformed, drop. COUNT 0 means every request.\n"
  "Example: --fault /intercom/conversations:rate_limit:1:2\n";

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

static void
remove_temporary (const char *dir,
                  const char *db)
{
  static const char * const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (db, suffixes[i], NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *db = NULL;
  g_autofree char *scale_name = NULL;
  g_autofree char *token_intercom = NULL;
  g_autofree char *token_slack = NULL;
  g_autofree char *token_slack_app = NULL;
  g_autofree char *token_stripe = NULL;
  g_autofree char *discourse_key = NULL;
  g_autofree char *temp_dir = NULL;
  g_auto(GStrv) faults = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdSandbox) sandbox = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  FdDemoScale scale = FD_DEMO_SCALE_SMALL;
  int port = 0, seed = 1, ack_timeout = 0;
  guint sigterm, sigint;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "The sandbox database (default: a temporary file)", "FILE" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (default 0: a free one)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed of the demo data (default 1)", "N" },
    { "scale", 0, 0, G_OPTION_ARG_STRING, &scale_name, "Demo data size: small, medium or large", "SCALE" },
    { "fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &faults, "Inject a fault (repeatable)", "PREFIX:KIND[:COUNT[:PARAM]]" },
    { "ack-timeout", 0, 0, G_OPTION_ARG_INT, &ack_timeout, "Socket Mode redelivery after N ms (default 3000)", "N" },
    { "token-intercom", 0, 0, G_OPTION_ARG_STRING, &token_intercom, "Accept this Intercom token instead", "TOKEN" },
    { "token-slack", 0, 0, G_OPTION_ARG_STRING, &token_slack, "Accept this Slack bot token instead", "TOKEN" },
    { "token-slack-app", 0, 0, G_OPTION_ARG_STRING, &token_slack_app, "Accept this Slack app-level token instead", "TOKEN" },
    { "token-discourse", 0, 0, G_OPTION_ARG_STRING, &discourse_key, "Accept this Discourse API key instead", "KEY" },
    { "token-stripe", 0, 0, G_OPTION_ARG_STRING, &token_stripe, "Accept this Stripe secret key instead", "KEY" },
    { NULL }
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new ("— local Intercom, Slack, Discourse and Stripe for Frontdesk");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, description);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("frontdesk-sandbox: %s\n", error->message);
      return 2;
    }

  if (scale_name != NULL && g_str_equal (scale_name, "large"))
    scale = FD_DEMO_SCALE_LARGE;
  else if (scale_name != NULL && g_str_equal (scale_name, "medium"))
    scale = FD_DEMO_SCALE_MEDIUM;
  else if (scale_name != NULL && !g_str_equal (scale_name, "small"))
    {
      g_printerr ("frontdesk-sandbox: the scale is small, medium or large, not “%s”.\n", scale_name);
      return 2;
    }
  if (port < 0 || port > 65535)
    {
      g_printerr ("frontdesk-sandbox: the port must be between 0 and 65535.\n");
      return 2;
    }

  if (db == NULL)
    {
      temp_dir = g_dir_make_tmp ("frontdesk-sandbox-XXXXXX", &error);
      if (temp_dir == NULL)
        {
          g_printerr ("frontdesk-sandbox: %s\n", error->message);
          return 1;
        }
      db = g_build_filename (temp_dir, "sandbox.db", NULL);
    }

  sandbox = fd_sandbox_new (db);
  if (token_intercom != NULL)
    fd_sandbox_set_token (sandbox, FD_SANDBOX_TOKEN_INTERCOM, token_intercom);
  if (token_slack != NULL)
    fd_sandbox_set_token (sandbox, FD_SANDBOX_TOKEN_SLACK_BOT, token_slack);
  if (token_slack_app != NULL)
    fd_sandbox_set_token (sandbox, FD_SANDBOX_TOKEN_SLACK_APP, token_slack_app);
  if (discourse_key != NULL)
    fd_sandbox_set_token (sandbox, FD_SANDBOX_TOKEN_DISCOURSE_KEY, discourse_key);
  if (token_stripe != NULL)
    fd_sandbox_set_token (sandbox, FD_SANDBOX_TOKEN_STRIPE_KEY, token_stripe);
  if (ack_timeout > 0)
    fd_sandbox_set_ack_timeout (sandbox, (guint) ack_timeout);

  for (guint i = 0; faults != NULL && faults[i] != NULL; i++)
    if (!fd_sandbox_add_fault_from_string (sandbox, faults[i], &error))
      {
        g_printerr ("frontdesk-sandbox: %s\n", error->message);
        return 2;
      }

  if (!fd_sandbox_seed (sandbox, (guint32) seed, scale, &error) ||
      !fd_sandbox_listen (sandbox, (guint) port, &error))
    {
      g_printerr ("frontdesk-sandbox: %s\n", error->message);
      g_clear_object (&sandbox);
      if (temp_dir != NULL)
        remove_temporary (temp_dir, db);
      return 1;
    }

  g_print ("listening on %s\n", fd_sandbox_get_base_url (sandbox));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  sigterm = g_unix_signal_add (SIGTERM, quit_cb, loop);
  sigint = g_unix_signal_add (SIGINT, quit_cb, loop);
  g_main_loop_run (loop);
  g_source_remove (sigterm);
  g_source_remove (sigint);

  fd_sandbox_stop (sandbox);
  g_clear_object (&sandbox);
  if (temp_dir != NULL)
    remove_temporary (temp_dir, db);

  return 0;
}
