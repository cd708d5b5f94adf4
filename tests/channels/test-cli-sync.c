/* test-cli-sync.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * frontdesk-cli account add / list / sync / remove against the real sandbox program and
 * the real keyring, as a user would type them.
 */

#include "config.h"

#include "../fd-test-keyring.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

/* Runs frontdesk-cli with @input on stdin; returns its exit status. */
static int
cli (const char  *profile,
     const char  *input,
     char       **out,
     char       **err,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("FD_CLI"));
  g_ptr_array_add (argv, (gpointer) "--profile");
  g_ptr_array_add (argv, (gpointer) profile);
  va_start (args, err);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, out, err, &error);
  g_assert_no_error (error);

  return g_subprocess_get_exit_status (process);
}

/* The id of the sandbox forum's first category. */
static char *
first_category (const char *discourse_url)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (discourse_url, "/categories.json", NULL);
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *categories;

  soup_message_headers_replace (soup_message_get_request_headers (message), "Api-Key", "sandbox-discourse-key");
  soup_message_headers_replace (soup_message_get_request_headers (message), "Api-Username", "system");
  body = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error));
  categories = json_object_get_array_member (json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                                                           "category_list"), "categories");
  g_assert_cmpuint (json_array_get_length (categories), >, 1);

  return g_strdup_printf ("%" G_GINT64_FORMAT,
                          json_object_get_int_member (json_array_get_object_element (categories, 0), "id"));
}

static guint
new_conversations (const char *sync_output)
{
  const char *counts = strstr (sync_output, "”: ");

  g_assert_nonnull (counts);
  return (guint) g_ascii_strtoull (counts + strlen ("”: "), NULL, 10);
}

static void
test_cli_account_and_sync (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *sandbox_db = NULL;
  g_autofree char *line = NULL;
  g_autofree char *base = NULL;
  g_autoptr(GSubprocess) sandbox = NULL;
  g_autoptr(GDataInputStream) sandbox_out = NULL;
  g_autofree char *category = NULL;
  g_autofree char *chosen_profile = NULL;
  char *out = NULL, *err = NULL;
  guint all_topics;

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("no Secret Service on the session bus; run under build-aux/test");
      return;
    }

  dir = g_dir_make_tmp ("fd-cli-sync-XXXXXX", &error);
  profile = g_build_filename (dir, "profile", NULL);
  sandbox_db = g_build_filename (dir, "sandbox.db", NULL);

  sandbox = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, g_getenv ("FD_SANDBOX"),
                              "--db", sandbox_db, "--port", "0", "--seed", "3", NULL);
  g_assert_no_error (error);
  sandbox_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sandbox));
  line = g_data_input_stream_read_line_utf8 (sandbox_out, NULL, NULL, &error);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  base = g_strconcat (line + strlen ("listening on "), "/discourse", NULL);

  /* No token on stdin: nothing is added. */
  g_assert_cmpint (cli (profile, "", &out, &err, "account", "add", "--kind", "discourse",
                        "--name", "Community", "--base-url", base, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "nothing was added"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A plain-http address that is not loopback is refused before the keyring is used. */
  g_assert_cmpint (cli (profile, "sandbox-discourse-key\n", &out, &err, "account", "add",
                        "--kind", "discourse", "--name", "Community",
                        "--base-url", "http://forum.example.com", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "clear text"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (profile, "sandbox-discourse-key\n", &out, &err, "account", "add",
                        "--kind", "discourse", "--name", "Community", "--base-url", base, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Connected Discourse account “Community”"));
  g_assert_null (strstr (out, "sandbox-discourse-key"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (profile, NULL, &out, &err, "account", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "discourse\tCommunity\t"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A first sync brings the forum in; a second finds nothing new. */
  g_assert_cmpint (cli (profile, NULL, &out, &err, "sync", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Discourse “Community”: "));
  all_topics = new_conversations (out);
  g_assert_cmpuint (all_topics, >, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Another profile that follows one category only, replying as another user. */
  chosen_profile = g_build_filename (dir, "one-category", NULL);
  category = first_category (base);
  g_assert_cmpint (cli (chosen_profile, "sandbox-discourse-key\n", &out, &err, "account", "add",
                        "--kind", "discourse", "--name", "Billing forum", "--base-url", base,
                        "--username", "sam_rivera", "--categories", category, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (chosen_profile, NULL, &out, &err, "sync", NULL), ==, 0);
  g_assert_cmpuint (new_conversations (out), >, 0);
  g_assert_cmpuint (new_conversations (out), <, all_topics);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (chosen_profile, NULL, &out, &err, "account", "remove", "Billing forum", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (profile, "x\n", &out, &err, "account", "add", "--kind", "slack",
                        "--name", "S", "--categories", "4", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (profile, NULL, &out, &err, "sync", "--account", "Community", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "0 new and 0 updated conversations, 0 new messages"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (profile, NULL, &out, &err, "sync", "--account", "Nope", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "There is no account “Nope”"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* With the sandbox gone, the sync fails in plain words, and says which account. */
  g_subprocess_send_signal (sandbox, SIGTERM);
  g_subprocess_wait (sandbox, NULL, NULL);
  g_assert_cmpint (cli (profile, NULL, &out, &err, "sync", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "Discourse “Community”: Frontdesk could not reach Discourse"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (profile, NULL, &out, &err, "account", "remove", "Community", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "deleted its token from the keyring"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli (profile, NULL, &out, &err, "account", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "No accounts are connected"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/account-and-sync", test_cli_account_and_sync);

  return g_test_run ();
}
