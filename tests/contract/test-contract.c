/* test-contract.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every request a connector makes, sent to a server that checks it against the
 * service's official API description (a Prism mock started by run-contract, or any
 * server named by FRONTDESK_CONTRACT_<SERVICE>_URL). A request the description does not
 * allow comes back 4xx and fails the test; every answer must parse.
 */

#include "config.h"

#include <string.h>

#include "fd-discourse-channel.h"
#include "fd-http.h"
#include "fd-intercom-channel.h"
#include "fd-slack-channel.h"

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
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }

  return *slot;
}

/* A mock answers with placeholders that can page forever; a few pages are enough to
 * exercise every request of a first sync. */
static guint
fetch_pages (FdChannel *channel,
             guint      max_pages)
{
  g_autofree char *cursor = NULL;
  gboolean has_more = TRUE;
  guint pages = 0;

  while (has_more && pages < max_pages)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(FdSyncBatch) batch = NULL;
      g_autoptr(GError) error = NULL;

      fd_channel_fetch_async (channel, cursor, NULL, result_cb, &result);
      batch = fd_channel_fetch_finish (channel, wait_for (&result), &has_more, &error);
      g_assert_no_error (error);
      g_assert_nonnull (batch);
      pages++;

      g_free (cursor);
      cursor = g_strdup (batch->cursor);
    }

  return pages;
}

static void
send_item (FdChannel    *channel,
           FdOutboxKind  kind,
           const char   *conversation,
           gboolean      may_be_unsupported)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *external_id = NULL;
  FdOutboxItem item = { 0 };

  item.kind = kind;
  item.conversation_external_id = (char *) conversation;
  item.idempotency_key = (char *) "fd-contract-0001";
  item.body = (char *) "Thanks for the report — we are on it.";
  item.status = (char *) "resolved";
  item.assignee_external_id = (char *) "123";
  item.tag = (char *) "billing";
  item.author_external_id = (char *) "991267628";

  fd_channel_send_async (channel, &item, NULL, result_cb, &result);
  external_id = fd_channel_send_finish (channel, wait_for (&result), &error);

  if (may_be_unsupported && g_error_matches (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED))
    return;

  g_assert_no_error (error);
  g_assert_nonnull (external_id);
}

static const char *
target (const char *service)
{
  g_autofree char *var = g_strdup_printf ("FRONTDESK_CONTRACT_%s_URL", service);

  return g_getenv (var);
}

static void
test_intercom (void)
{
  const char *url = target ("INTERCOM");
  g_autoptr(FdChannel) channel = NULL;

  if (url == NULL)
    {
      g_test_skip ("FRONTDESK_CONTRACT_INTERCOM_URL is not set");
      return;
    }

  channel = fd_intercom_channel_new (url, "contract-test-token");
  fd_http_client_set_retry (fd_intercom_channel_get_http_client (FD_INTERCOM_CHANNEL (channel)), 1, 10, 10);

  g_assert_cmpuint (fetch_pages (channel, 6), >=, 1);
  send_item (channel, FD_OUTBOX_REPLY, "123", FALSE);
  send_item (channel, FD_OUTBOX_NOTE, "123", FALSE);
  send_item (channel, FD_OUTBOX_STATUS, "123", FALSE);
  send_item (channel, FD_OUTBOX_ASSIGN, "123", FALSE);
  send_item (channel, FD_OUTBOX_TAG, "123", FALSE);
  send_item (channel, FD_OUTBOX_UNTAG, "123", FALSE);
}

static void
test_slack (void)
{
  const char *url = target ("SLACK");
  g_autoptr(FdChannel) channel = NULL;
  FdHttpClient *client;

  if (url == NULL)
    {
      g_test_skip ("FRONTDESK_CONTRACT_SLACK_URL is not set");
      return;
    }

  channel = fd_slack_channel_new (url, "xoxb-contract-test-token", NULL);
  client = fd_slack_channel_get_http_client (FD_SLACK_CHANNEL (channel));
  fd_http_client_set_retry (client, 1, 10, 10);
  /* Slack's description (2021) also declares the token as a "token" header. */
  fd_http_client_set_header (client, "token", "xoxb-contract-test-token", TRUE);

  g_assert_cmpuint (fetch_pages (channel, 6), >=, 1);
  send_item (channel, FD_OUTBOX_REPLY, "C012AB3CD:1512085950.000216", FALSE);
  send_item (channel, FD_OUTBOX_NOTE, "C012AB3CD:1512085950.000216", TRUE);
}

static void
test_discourse (void)
{
  const char *url = target ("DISCOURSE");
  g_autoptr(FdChannel) channel = NULL;

  if (url == NULL)
    {
      g_test_skip ("FRONTDESK_CONTRACT_DISCOURSE_URL is not set");
      return;
    }

  channel = fd_discourse_channel_new (url, "contract-test-key", "system", NULL);
  fd_http_client_set_retry (fd_discourse_channel_get_http_client (FD_DISCOURSE_CHANNEL (channel)), 1, 10, 10);

  g_assert_cmpuint (fetch_pages (channel, 6), >=, 1);
  send_item (channel, FD_OUTBOX_REPLY, "topic:1", FALSE);
  send_item (channel, FD_OUTBOX_NOTE, "topic:1", TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/contract/intercom", test_intercom);
  g_test_add_func ("/contract/slack", test_slack);
  g_test_add_func ("/contract/discourse", test_discourse);

  return g_test_run ();
}
