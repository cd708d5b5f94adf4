/* test-secrets.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs against the real Secret Service: build-aux/test starts a throwaway, unlocked
 * gnome-keyring on a private session bus. Without one the keyring tests are skipped
 * with a message, never faked.
 */

#include "config.h"

#include "../fd-test-keyring.h"

#include <string.h>
#include <libsecret/secret.h>

#include "fd-account.h"
#include "fd-log.h"
#include "fd-paths.h"
#include "fd-secrets.h"
#include "fd-store.h"

/* Distinctive on purpose: the scans below look for these bytes anywhere. */
#define TOKEN_STRIPE   "sk_test_51FrontdeskSecretScan0123456789abcdef"
#define TOKEN_INTERCOM "dG9rOmZyb250ZGVzay1zZWNyZXQtc2Nhbi0xMjM0NTY3ODkw"

static char *profile_dir;

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static FdStore *
open_store (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = fd_paths_store_file (dir);
  FdStore *store;

  fd_paths_ensure_profile (dir, &error);
  g_assert_no_error (error);

  store = fd_store_new (path);
  fd_store_open_sync (store, NULL, &error);
  g_assert_no_error (error);

  return store;
}

static GListStore *
list_accounts (FdStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GListStore *accounts;

  fd_account_list_async (store, NULL, result_cb, &result);
  accounts = fd_account_list_finish (store, wait_for (&result), &error);
  g_assert_no_error (error);

  return accounts;
}

static char *
lookup_secret (const char *uid)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *secret;

  fd_secrets_lookup_async (uid, NULL, result_cb, &result);
  secret = fd_secrets_lookup_finish (wait_for (&result), &error);
  g_assert_no_error (error);

  return secret;
}

static void
save_account (FdStore    *store,
              FdAccount  *account,
              const char *secret)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fd_account_save_async (store, account, secret, NULL, result_cb, &result);
  fd_account_save_finish (store, wait_for (&result), &error);
  g_assert_no_error (error);
}

static void
remove_account (FdStore   *store,
                FdAccount *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fd_account_remove_async (store, account, NULL, result_cb, &result);
  fd_account_remove_finish (store, wait_for (&result), &error);
  g_assert_no_error (error);
}

/* Returns the first file under @dir that holds @needle, or NULL. */
static char *
find_in_tree (const char *dir,
              const char *needle)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return NULL;

  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize length;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          char *found = find_in_tree (path, needle);

          if (found != NULL)
            return found;
          continue;
        }

      if (g_file_get_contents (path, &contents, &length, NULL) &&
          memmem (contents, length, needle, strlen (needle)) != NULL)
        return g_steal_pointer (&path);
    }

  return NULL;
}

/* The child half of test_secrets_never_leak: every code path that handles a token, with
 * debug logging on, through Frontdesk's redacting log writer. */
static void
exercise_secret_paths (void)
{
  g_autoptr(FdStore) store = NULL;
  g_autoptr(FdAccount) stripe = NULL;
  g_autoptr(FdAccount) intercom = NULL;
  g_autoptr(GListStore) accounts = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *uid_file = NULL;
  g_autofree char *uids = NULL;
  g_autoptr(GError) error = NULL;

  fd_log_init ();
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);

  store = open_store (profile_dir);

  stripe = fd_account_new (FD_ACCOUNT_KIND_STRIPE, "Billing", "http://127.0.0.1:4242");
  save_account (store, stripe, TOKEN_STRIPE);
  intercom = fd_account_new (FD_ACCOUNT_KIND_INTERCOM, "Support inbox", "https://api.intercom.io");
  save_account (store, intercom, TOKEN_INTERCOM);

  secret = lookup_secret (fd_account_get_uid (stripe));
  g_assert_cmpstr (secret, ==, TOKEN_STRIPE);

  accounts = list_accounts (store);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 2);

  /* What an HTTP client would log on a bad day: the header, a URL, an error body. */
  g_debug ("GET /v1/customers Authorization: Bearer %s", secret);
  g_message ("request failed: {\"error\":\"invalid key %s\"}", TOKEN_INTERCOM);
  g_debug ("Api-Key: %s", TOKEN_INTERCOM);

  /* Renaming an account without a new secret keeps the keyring item. */
  fd_account_set_name (intercom, "Support inbox (EU)");
  save_account (store, intercom, NULL);

  /* The parent needs to know which accounts to check and clean up. */
  uid_file = g_build_filename (profile_dir, "uids.txt", NULL);
  uids = g_strjoin ("\n", fd_account_get_uid (stripe), fd_account_get_uid (intercom), NULL);
  g_file_set_contents (uid_file, uids, -1, &error);
  g_assert_no_error (error);

  fd_store_close (store);
}

static void
test_secrets_never_leak (void)
{
  g_autofree char *uid_file = NULL;
  g_autofree char *uids = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *found = NULL;
  const char * const tokens[] = { TOKEN_STRIPE, TOKEN_INTERCOM };

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("no Secret Service on the session bus; run under build-aux/test");
      return;
    }

  if (g_test_subprocess ())
    {
      exercise_secret_paths ();
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();

  /* The log lines were written (so the paths ran) but redacted. GLib prints debug
   * messages on stdout and the rest on stderr. */
  g_test_trap_assert_stdout ("*Authorization: Bearer [redacted]*");
  g_test_trap_assert_stdout ("*Api-Key: [redacted]*");
  g_test_trap_assert_stderr ("*invalid key [redacted]*");
  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    {
      g_autofree char *pattern = g_strdup_printf ("*%s*", tokens[i]);

      g_test_trap_assert_stdout_unmatched (pattern);
      g_test_trap_assert_stderr_unmatched (pattern);

      found = find_in_tree (profile_dir, tokens[i]);
      if (found != NULL)
        g_error ("a secret was written to %s", found);
    }

  uid_file = g_build_filename (profile_dir, "uids.txt", NULL);
  g_assert_true (g_file_get_contents (uid_file, &uids, NULL, NULL));
  lines = g_strsplit (uids, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);

  /* They did reach the keyring. Then removing the accounts removes them there too. */
  {
    g_autoptr(FdStore) store = open_store (profile_dir);
    g_autoptr(GListStore) accounts = list_accounts (store);

    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 2);

    for (guint i = 0; i < 2; i++)
      {
        g_autoptr(FdAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), i);
        g_autofree char *secret = lookup_secret (fd_account_get_uid (account));
        const char *expected = fd_account_get_kind (account) == FD_ACCOUNT_KIND_STRIPE
          ? TOKEN_STRIPE : TOKEN_INTERCOM;

        g_assert_cmpstr (secret, ==, expected);
        if (fd_account_get_kind (account) == FD_ACCOUNT_KIND_INTERCOM)
          g_assert_cmpstr (fd_account_get_name (account), ==, "Support inbox (EU)");

        remove_account (store, account);
        g_clear_pointer (&secret, secret_password_free);
        secret = lookup_secret (fd_account_get_uid (account));
        g_assert_null (secret);
      }

    g_clear_object (&accounts);
    accounts = list_accounts (store);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);
    fd_store_close (store);
  }
}

static void
test_secrets_no_keyring (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GTestDBus) bus = NULL;
      g_autoptr(FdStore) store = NULL;
      g_autoptr(FdAccount) account = NULL;
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GListStore) accounts = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *dir = g_build_filename (profile_dir, "no-keyring", NULL);
      g_autofree char *found = NULL;

      /* A session bus of our own where nothing provides org.freedesktop.secrets. */
      bus = g_test_dbus_new (G_TEST_DBUS_NONE);
      g_test_dbus_up (bus);

      store = open_store (dir);
      account = fd_account_new (FD_ACCOUNT_KIND_STRIPE, "Billing", "https://api.stripe.com");
      fd_account_save_async (store, account, TOKEN_STRIPE, NULL, result_cb, &result);
      g_assert_false (fd_account_save_finish (store, wait_for (&result), &error));
      g_assert_error (error, FD_SECRETS_ERROR, FD_SECRETS_ERROR_NO_SERVICE);
      g_assert_nonnull (strstr (error->message, "keyring"));

      /* Nothing was stored anywhere as a fallback. */
      accounts = list_accounts (store);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);
      fd_store_close (store);

      found = find_in_tree (dir, TOKEN_STRIPE);
      g_assert_null (found);

      g_clear_object (&store);
      g_test_dbus_down (bus);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* Shared between the parent and the subprocesses, which re-run main() with the
   * parent's environment. */
  if (g_test_subprocess ())
    {
      profile_dir = g_strdup (g_getenv ("FD_TEST_PROFILE"));
    }
  else
    {
      profile_dir = g_dir_make_tmp ("frontdesk-secrets-XXXXXX", &error);
      g_assert_no_error (error);
      g_setenv ("FD_TEST_PROFILE", profile_dir, TRUE);
    }

  g_test_add_func ("/secrets/never-leak", test_secrets_never_leak);
  g_test_add_func ("/secrets/no-keyring", test_secrets_no_keyring);

  ret = g_test_run ();
  g_free (profile_dir);

  return ret;
}
