/* fd-cli-sync.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "frontdesk-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "fd-account.h"
#include "fd-cli-private.h"
#include "fd-paths.h"
#include "fd-secrets.h"
#include "fd-store.h"
#include "fd-sync-engine.h"

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static FdStore *
open_store (const char  *profile,
            GError     **error)
{
  g_autofree char *path = NULL;
  g_autoptr(FdStore) store = NULL;

  if (!fd_paths_ensure_profile (profile, error))
    return NULL;

  path = fd_paths_store_file (profile);
  store = fd_store_new (path);
  if (!fd_store_open_sync (store, NULL, error))
    return NULL;

  return g_steal_pointer (&store);
}

static GListStore *
list_accounts (FdStore  *store,
               GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_account_list_async (store, NULL, result_cb, &result);
  return fd_account_list_finish (store, wait_for (&result), error);
}

/* An account by its id or its name (names are compared without case). */
static FdAccount *
find_account (GListStore *accounts,
              const char *id_or_name)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (accounts));
  char *end = NULL;
  gint64 id = g_ascii_strtoll (id_or_name, &end, 10);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), i);

      if ((end != NULL && *end == '\0' && fd_account_get_id (account) == id) ||
          g_utf8_collate (fd_account_get_name (account), id_or_name) == 0 ||
          g_ascii_strcasecmp (fd_account_get_name (account), id_or_name) == 0)
        return g_steal_pointer (&account);
    }

  return NULL;
}

/* The first line of standard input, without echo when it is a terminal. */
static char *
read_secret (const char *label)
{
  struct termios saved, quiet;
  gboolean terminal = isatty (STDIN_FILENO);
  char buffer[4096];
  char *line;

  if (terminal)
    {
      g_printerr ("%s: ", label);
      tcgetattr (STDIN_FILENO, &saved);
      quiet = saved;
      quiet.c_lflag &= ~ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }

  line = fgets (buffer, sizeof buffer, stdin);

  if (terminal)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      g_printerr ("\n");
    }

  if (line == NULL)
    return NULL;

  line = g_strstrip (g_strdup (buffer));
  explicit_bzero (buffer, sizeof buffer);

  return line;
}

static int
account_add (const char  *profile,
             char       **argv)
{
  g_autofree char *kind_name = NULL;
  g_autofree char *name = NULL;
  g_autofree char *base_url = NULL;
  g_autofree char *username = NULL;
  g_autofree char *categories = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *message = NULL;
  g_autoptr(FdStore) store = NULL;
  g_autoptr(FdAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FdAccountKind kind;
  int exit_code = EXIT_OK;
  GOptionEntry entries[] = {
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind_name, N_("The service: intercom, slack, discourse, stripe or linear"), "KIND" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("A name for the account"), "NAME" },
    { "base-url", 0, 0, G_OPTION_ARG_STRING, &base_url, N_("The service’s address (default: its public one)"), "URL" },
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, N_("Discourse: the user replies are posted as (default: system)"), "NAME" },
    { "categories", 0, 0, G_OPTION_ARG_STRING, &categories, N_("Discourse: the ids of the categories to sync, separated by commas (default: all)"), "IDS" },
    { NULL }
  };

  if (!_fd_cli_parse_command_options ("account add", "account add",
                                      _("The token is read from standard input and stored in the keyring."),
                                      entries, &argv, &exit_code))
    return exit_code;

  if (kind_name == NULL || !fd_account_kind_from_string (kind_name, &kind))
    return _fd_cli_usage_error (_("account add: --kind must be intercom, slack, discourse, stripe or linear."));
  if (name == NULL)
    return _fd_cli_usage_error (_("account add: give the account a --name."));
  if (base_url == NULL)
    base_url = g_strdup (fd_account_kind_get_default_base_url (kind));

  secret = read_secret (fd_account_kind_get_secret_label (kind));
  if (secret == NULL || *secret == '\0')
    {
      message = g_strdup_printf (_("account add: no %s on standard input, so nothing was added."),
                                 fd_account_kind_get_secret_label (kind));
      return _fd_cli_usage_error (message);
    }

  store = open_store (profile, &error);
  if (store == NULL)
    return _fd_cli_failure (error->message);

  if ((username != NULL || categories != NULL) && kind != FD_ACCOUNT_KIND_DISCOURSE)
    return _fd_cli_usage_error (_("account add: --username and --categories are for Discourse accounts."));
  for (const char *c = categories; c != NULL && *c != '\0'; c++)
    if (!g_ascii_isdigit (*c) && *c != ',' && *c != ' ')
      return _fd_cli_usage_error (_("account add: --categories takes category ids, such as “4,7”."));

  account = fd_account_new (kind, name, base_url);
  fd_account_set_setting (account, "api_username", username);
  fd_account_set_setting (account, "categories", categories);
  fd_account_save_async (store, account, secret, NULL, result_cb, &result);
  explicit_bzero (secret, strlen (secret));

  if (!fd_account_save_finish (store, wait_for (&result), &error))
    return _fd_cli_failure (error->message);

  g_print (_("Connected %s account “%s” (id %" G_GINT64_FORMAT ") at %s.\n"),
           fd_account_kind_get_display_name (kind), name, fd_account_get_id (account), base_url);
  fd_store_close (store);

  return EXIT_OK;
}

static int
account_list (const char *profile)
{
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GListStore) accounts = NULL;
  g_autoptr(GError) error = NULL;
  guint n;

  store = open_store (profile, &error);
  if (store == NULL)
    return _fd_cli_failure (error->message);

  accounts = list_accounts (store, &error);
  if (accounts == NULL)
    return _fd_cli_failure (error->message);

  n = g_list_model_get_n_items (G_LIST_MODEL (accounts));
  if (n == 0)
    g_print ("%s\n", _("No accounts are connected. Add one with “frontdesk-cli account add”."));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), i);

      g_print ("%" G_GINT64_FORMAT "\t%s\t%s\t%s\n", fd_account_get_id (account),
               fd_account_kind_to_string (fd_account_get_kind (account)),
               fd_account_get_name (account), fd_account_get_base_url (account));
    }

  fd_store_close (store);
  return EXIT_OK;
}

static int
account_remove (const char *profile,
                const char *id_or_name)
{
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GListStore) accounts = NULL;
  g_autoptr(FdAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  store = open_store (profile, &error);
  if (store == NULL)
    return _fd_cli_failure (error->message);

  accounts = list_accounts (store, &error);
  if (accounts == NULL)
    return _fd_cli_failure (error->message);

  account = find_account (accounts, id_or_name);
  if (account == NULL)
    {
      message = g_strdup_printf (_("There is no account “%s”. “frontdesk-cli account list” shows them."),
                                 id_or_name);
      return _fd_cli_failure (message);
    }

  fd_account_remove_async (store, account, NULL, result_cb, &result);
  if (!fd_account_remove_finish (store, wait_for (&result), &error))
    return _fd_cli_failure (error->message);

  g_print (_("Removed “%s” and deleted its token from the keyring.\n"), fd_account_get_name (account));
  fd_store_close (store);
  return EXIT_OK;
}

int
_fd_cli_account (const char  *profile,
                 char       **argv)
{
  guint argc = g_strv_length (argv);

  if (argc >= 2 && g_str_equal (argv[1], "add"))
    return account_add (profile, argv + 1);
  if (argc == 2 && g_str_equal (argv[1], "list"))
    return account_list (profile);
  if (argc == 3 && g_str_equal (argv[1], "remove"))
    return account_remove (profile, argv[2]);

  return _fd_cli_usage_error (_("account: use “account add”, “account list” or “account remove ID|NAME”."));
}

static int
sync_one (FdStore   *store,
          FdAccount *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdChannel) channel = NULL;
  g_autofree char *secret = NULL;
  const char *service = fd_account_kind_get_display_name (fd_account_get_kind (account));
  FdSyncStats stats = { 0 };
  gint64 start;

  fd_secrets_lookup_async (fd_account_get_uid (account), NULL, result_cb, &result);
  secret = fd_secrets_lookup_finish (wait_for (&result), &error);
  g_clear_object (&result);

  if (secret == NULL)
    {
      g_printerr (_("%s “%s”: %s\n"), service, fd_account_get_name (account),
                  error != NULL ? error->message
                                : _("the keyring has no token for it. Add the account again."));
      return EXIT_FAILED;
    }

  channel = fd_channel_new_for_account (account, secret, NULL);
  secret_password_free (g_steal_pointer (&secret));

  if (channel == NULL)
    {
      g_print (_("%s “%s”: nothing to sync (it is not a conversation channel).\n"),
               service, fd_account_get_name (account));
      return EXIT_OK;
    }

  start = g_get_monotonic_time ();
  fd_sync_account_async (store, account, channel, NULL, result_cb, &result);

  if (!fd_sync_account_finish (store, wait_for (&result), &stats, &error))
    {
      g_printerr (_("%s “%s”: %s\n"), service, fd_account_get_name (account), error->message);
      return EXIT_FAILED;
    }

  g_print (_("%s “%s”: %u new and %u updated conversations, %u new messages, "
             "%u contacts, %u organisations in %.1f s.\n"),
           service, fd_account_get_name (account),
           stats.conversations_new, stats.conversations_updated, stats.messages_new,
           stats.contacts, stats.organisations,
           (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);

  return EXIT_OK;
}

int
_fd_cli_sync (const char  *profile,
              char       **argv)
{
  g_autofree char *only = NULL;
  g_autofree char *message = NULL;
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GListStore) accounts = NULL;
  g_autoptr(GError) error = NULL;
  int exit_code = EXIT_OK;
  guint n;
  GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &only, N_("Sync only this account (its id or name)"), "ID|NAME" },
    { NULL }
  };

  if (!_fd_cli_parse_command_options ("sync", "sync", _("Sync every connected account once."),
                                      entries, &argv, &exit_code))
    return exit_code;
  if (g_strv_length (argv) > 1)
    return _fd_cli_usage_error (_("sync: this command takes no arguments besides --account."));

  store = open_store (profile, &error);
  if (store == NULL)
    return _fd_cli_failure (error->message);

  accounts = list_accounts (store, &error);
  if (accounts == NULL)
    return _fd_cli_failure (error->message);

  if (only != NULL)
    {
      g_autoptr(FdAccount) account = find_account (accounts, only);

      if (account == NULL)
        {
          message = g_strdup_printf (_("There is no account “%s”. “frontdesk-cli account list” shows them."),
                                     only);
          return _fd_cli_failure (message);
        }

      exit_code = sync_one (store, account);
    }
  else
    {
      n = g_list_model_get_n_items (G_LIST_MODEL (accounts));
      if (n == 0)
        g_print ("%s\n", _("No accounts are connected. Add one with “frontdesk-cli account add”."));

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(FdAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), i);

          if (sync_one (store, account) != EXIT_OK)
            exit_code = EXIT_FAILED;
        }
    }

  fd_store_close (store);
  return exit_code;
}
