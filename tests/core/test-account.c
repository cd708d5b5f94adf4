/* test-account.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "fd-account.h"
#include "fd-paths.h"
#include "fd-store.h"

static void
test_account_kinds (void)
{
  for (FdAccountKind kind = 0; kind < FD_ACCOUNT_N_KINDS; kind++)
    {
      FdAccountKind parsed = FD_ACCOUNT_N_KINDS;

      g_assert_true (fd_account_kind_from_string (fd_account_kind_to_string (kind), &parsed));
      g_assert_cmpint (parsed, ==, kind);
      g_assert_nonnull (fd_account_kind_get_display_name (kind));
      g_assert_nonnull (fd_account_kind_get_secret_label (kind));

      /* Every public default must itself pass validation (Discourse has none). */
      if (kind != FD_ACCOUNT_KIND_DISCOURSE)
        g_assert_true (fd_account_validate_base_url (fd_account_kind_get_default_base_url (kind), NULL));
    }

  g_assert_false (fd_account_kind_from_string ("zendesk", &(FdAccountKind) { 0 }));
  g_assert_false (fd_account_kind_from_string (NULL, &(FdAccountKind) { 0 }));
}

static void
test_account_base_url (void)
{
  const char *good[] = {
    "https://api.intercom.io",
    "https://forum.example.com/",
    "http://127.0.0.1:4010",
    "http://localhost:8080/api",
    "http://[::1]:9000",
  };
  const char *bad[] = {
    "",
    "api.stripe.com",
    "http://api.stripe.com",
    "http://10.0.0.5:4010",
    "ftp://example.com",
    "https://user:hunter2@example.com",
    "https://",
    "not a url",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (fd_account_validate_base_url (good[i], &error));
      g_assert_no_error (error);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (fd_account_validate_base_url (bad[i], &error));
      g_assert_error (error, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_INVALID_URL);
      /* Plain words, never empty. */
      g_assert_cmpuint (strlen (error->message), >, 20);
    }

  g_assert_false (fd_account_validate_base_url (NULL, NULL));
}

static void
count_cb (guint *count)
{
  (*count)++;
}

static void
test_account_properties (void)
{
  g_autoptr(FdAccount) a = fd_account_new (FD_ACCOUNT_KIND_SLACK, "Acme", "https://slack.com/api");
  g_autoptr(FdAccount) b = fd_account_new (FD_ACCOUNT_KIND_SLACK, "Acme", "https://slack.com/api");
  guint notified = 0;

  g_assert_cmpint (fd_account_get_id (a), ==, 0);
  g_assert_true (g_uuid_string_is_valid (fd_account_get_uid (a)));
  g_assert_cmpstr (fd_account_get_uid (a), !=, fd_account_get_uid (b));
  g_assert_cmpint (fd_account_get_kind (a), ==, FD_ACCOUNT_KIND_SLACK);

  g_signal_connect_swapped (a, "notify::name", G_CALLBACK (count_cb), &notified);
  fd_account_set_name (a, "Acme");
  g_assert_cmpuint (notified, ==, 0);
  fd_account_set_name (a, "Acme Corp");
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpstr (fd_account_get_name (a), ==, "Acme Corp");

  g_assert_finalize_object (g_steal_pointer (&a));
  g_assert_finalize_object (g_steal_pointer (&b));
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* What is refused before the keyring is touched: no keyring is needed for this test,
 * and nothing may reach the store. */
static void
test_account_save_refused (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "frontdesk", NULL);
  g_autofree char *path = fd_paths_store_file (dir);
  g_autoptr(FdStore) store = NULL;
  g_autoptr(GError) error = NULL;
  struct {
    FdAccountKind kind;
    const char *name;
    const char *url;
    const char *secret;
    int code;
  } cases[] = {
    { FD_ACCOUNT_KIND_STRIPE, "  ", "https://api.stripe.com", "sk_test_x", FD_ACCOUNT_ERROR_INVALID_NAME },
    { FD_ACCOUNT_KIND_STRIPE, "Billing", "http://api.stripe.com", "sk_test_x", FD_ACCOUNT_ERROR_INVALID_URL },
    { FD_ACCOUNT_KIND_DISCOURSE, "Forum", "", "key", FD_ACCOUNT_ERROR_INVALID_URL },
    { FD_ACCOUNT_KIND_LINEAR, "Product", "https://api.linear.app", "", FD_ACCOUNT_ERROR_NO_SECRET },
    { FD_ACCOUNT_KIND_LINEAR, "Product", "https://api.linear.app", NULL, FD_ACCOUNT_ERROR_NO_SECRET },
  };

  g_assert_true (fd_paths_ensure_profile (dir, &error));
  store = fd_store_new (path);
  g_assert_true (fd_store_open_sync (store, NULL, &error));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(FdAccount) account = fd_account_new (cases[i].kind, cases[i].name, cases[i].url);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) save_error = NULL;

      fd_account_save_async (store, account, cases[i].secret, NULL, result_cb, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);

      g_assert_false (fd_account_save_finish (store, result, &save_error));
      g_assert_error (save_error, FD_ACCOUNT_ERROR, cases[i].code);
      g_assert_cmpint (fd_account_get_id (account), ==, 0);
    }

  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GListStore) accounts = NULL;

    fd_account_list_async (store, NULL, result_cb, &result);
    while (result == NULL)
      g_main_context_iteration (NULL, TRUE);
    accounts = fd_account_list_finish (store, result, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);
  }

  fd_store_close (store);
  g_assert_finalize_object (g_steal_pointer (&store));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/account/kinds", test_account_kinds);
  g_test_add_func ("/account/base-url", test_account_base_url);
  g_test_add_func ("/account/properties", test_account_properties);
  g_test_add_func ("/account/save-refused", test_account_save_refused);

  return g_test_run ();
}
