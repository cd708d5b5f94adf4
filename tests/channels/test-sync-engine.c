/* test-sync-engine.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sync loop, the outbox and the engine, driven by a scripted channel: what they
 * promise does not depend on any one service.
 */

#include "config.h"

#include "../fd-test-keyring.h"

#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>

#include "fd-account.h"
#include "fd-http.h"
#include "fd-outbox.h"
#include "fd-paths.h"
#include "fd-secrets.h"
#include "fd-sync-engine.h"

/* ------------------------------------------------------------------------------------ */
/* A scripted channel: a "service" of conversations, each with a version; a fetch returns */
/* the conversations changed since a version, a page at a time.                           */

typedef struct
{
  guint  n_messages;
  guint  version;
  char  *status;
} FakeConversation;

#define FD_TYPE_FAKE_CHANNEL (fd_fake_channel_get_type ())
G_DECLARE_FINAL_TYPE (FdFakeChannel, fd_fake_channel, FD, FAKE_CHANNEL, GObject)

struct _FdFakeChannel
{
  GObject    parent_instance;

  GArray    *conversations;   /* FakeConversation */
  guint      version;
  guint      page_size;
  guint      fetches;
  int        fail_fetch_at;   /* fails the fetch with this index (0-based), once */
  gboolean   hang_fetch_at_fail; /* instead of failing, never answer (for kill -9) */
  GPtrArray *sent;            /* "kind:key:body" of every send attempt */
  guint      fail_sends;      /* the next N sends fail with a 503 */
  gboolean   reject_sends;    /* sends fail with a 4xx */
  gboolean   no_reply_id;     /* a reply is accepted without saying its id */
};

static void fd_fake_channel_iface_init (FdChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FdFakeChannel, fd_fake_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FD_TYPE_CHANNEL, fd_fake_channel_iface_init))

static void
fake_conversation_clear (gpointer data)
{
  g_free (((FakeConversation *) data)->status);
}

static void
fd_fake_channel_finalize (GObject *object)
{
  FdFakeChannel *self = FD_FAKE_CHANNEL (object);

  g_array_unref (self->conversations);
  g_ptr_array_unref (self->sent);

  G_OBJECT_CLASS (fd_fake_channel_parent_class)->finalize (object);
}

static void
fd_fake_channel_class_init (FdFakeChannelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fd_fake_channel_finalize;
}

static void
fd_fake_channel_init (FdFakeChannel *self)
{
  self->conversations = g_array_new (FALSE, TRUE, sizeof (FakeConversation));
  g_array_set_clear_func (self->conversations, fake_conversation_clear);
  self->sent = g_ptr_array_new_with_free_func (g_free);
  self->page_size = 10;
  self->fail_fetch_at = -1;
}

static void
fake_add (FdFakeChannel *self,
          guint          n_conversations,
          guint          n_messages)
{
  self->version++;
  for (guint i = 0; i < n_conversations; i++)
    {
      FakeConversation c = { n_messages, self->version, g_strdup ("open") };

      g_array_append_val (self->conversations, c);
    }
}

static void
fake_touch (FdFakeChannel *self,
            guint          index,
            guint          more_messages)
{
  FakeConversation *c = &g_array_index (self->conversations, FakeConversation, index);

  self->version++;
  c->n_messages += more_messages;
  c->version = self->version;
}

static FdSyncBatch *
fake_page (FdFakeChannel *self,
           guint          since,
           guint          offset,
           gboolean      *has_more)
{
  FdSyncBatch *batch = fd_sync_batch_new ();
  guint matched = 0;
  guint taken = 0;

  *has_more = FALSE;

  for (guint i = 0; i < self->conversations->len; i++)
    {
      FakeConversation *c = &g_array_index (self->conversations, FakeConversation, i);
      FdConversationRecord *record;

      if (c->version <= since)
        continue;
      if (matched++ < offset)
        continue;
      if (taken == self->page_size)
        {
          *has_more = TRUE;
          break;
        }
      taken++;

      record = fd_sync_batch_add_conversation (batch);
      record->external_id = g_strdup_printf ("conv-%u", i);
      record->channel = "email";
      record->subject = g_strdup_printf ("Conversation %u", i);
      record->status = g_intern_string (c->status);
      record->created_at = 1000 * (i + 1);
      record->updated_at = 1000 * (i + 1) + c->version;

      for (guint m = 0; m < c->n_messages; m++)
        {
          FdMessageRecord *message = fd_conversation_record_add_message (record);

          message->external_id = g_strdup_printf ("msg-%u-%u", i, m);
          message->author_kind = m % 2 == 0 ? "contact" : "agent";
          message->body = g_strdup_printf ("Message %u of conversation %u", m, i);
          message->created_at = record->created_at + m;
        }
    }

  /* Mid-sync the cursor is "since:offset"; at the end, the version reached. */
  batch->cursor = *has_more
    ? g_strdup_printf ("%u:%u", since, offset + taken)
    : g_strdup_printf ("%u:0", self->version);

  return batch;
}

static void
fake_fetch_async (FdChannel           *channel,
                  const char          *cursor,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  FdFakeChannel *self = FD_FAKE_CHANNEL (channel);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  guint since = 0;
  guint offset = 0;
  gboolean has_more;
  FdSyncBatch *batch;

  if (cursor != NULL && sscanf (cursor, "%u:%u", &since, &offset) != 2)
    {
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR,
                               "The stored position is not valid.");
      return;
    }

  if ((int) self->fetches++ == self->fail_fetch_at)
    {
      self->fail_fetch_at = -1;
      if (self->hang_fetch_at_fail)
        {
          g_print ("hanging\n");
          /* The task is never returned: the process gets killed here. */
          g_object_ref (task);
          return;
        }
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER,
                               "The service is having trouble right now.");
      return;
    }

  batch = fake_page (self, since, offset, &has_more);
  g_task_set_task_data (task, GINT_TO_POINTER (has_more), NULL);
  g_task_return_pointer (task, batch, (GDestroyNotify) fd_sync_batch_free);
}

static FdSyncBatch *
fake_fetch_finish (FdChannel     *channel,
                   GAsyncResult  *result,
                   gboolean      *has_more,
                   GError       **error)
{
  *has_more = GPOINTER_TO_INT (g_task_get_task_data (G_TASK (result)));
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fake_send_async (FdChannel           *channel,
                 const FdOutboxItem  *item,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  FdFakeChannel *self = FD_FAKE_CHANNEL (channel);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  guint index;

  g_ptr_array_add (self->sent, g_strdup_printf ("%s:%s:%s", fd_outbox_kind_to_string (item->kind),
                                                item->idempotency_key,
                                                item->body != NULL ? item->body :
                                                item->status != NULL ? item->status : ""));

  if (self->fail_sends > 0)
    {
      self->fail_sends--;
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER, "Try later.");
      return;
    }
  if (self->reject_sends)
    {
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED,
                               "The service refused the request (HTTP 422: body too long).");
      return;
    }
  if (item->kind == FD_OUTBOX_NOTE)
    {
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               "Notes stay in Frontdesk for this service.");
      return;
    }
  if (item->kind != FD_OUTBOX_REPLY)
    {
      g_task_return_pointer (task, g_strdup (""), g_free);
      return;
    }

  /* The reply becomes a message of the service's conversation, so the next fetch
   * brings it back: it must not be stored twice. */
  g_assert_true (sscanf (item->conversation_external_id, "conv-%u", &index) == 1);
  fake_touch (self, index, 1);
  if (self->no_reply_id)
    {
      g_task_return_pointer (task, g_strdup (""), g_free);
      return;
    }
  g_task_return_pointer (task,
                         g_strdup_printf ("msg-%u-%u", index,
                                          g_array_index (self->conversations, FakeConversation, index).n_messages - 1),
                         g_free);
}

static char *
fake_send_finish (FdChannel     *channel,
                  GAsyncResult  *result,
                  GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fd_fake_channel_iface_init (FdChannelInterface *iface)
{
  iface->fetch_async = fake_fetch_async;
  iface->fetch_finish = fake_fetch_finish;
  iface->send_async = fake_send_async;
  iface->send_finish = fake_send_finish;
}

/* ------------------------------------------------------------------------------------ */

typedef struct
{
  char      *dir;
  FdStore   *store;
  FdAccount *account;
} Fixture;

static gboolean
insert_account_job (sqlite3   *db,
                    gpointer   job_data,
                    gpointer  *result,
                    GError   **error)
{
  FdAccount *account = job_data;
  g_autofree char *sql = g_strdup_printf ("INSERT INTO accounts (id, uid, kind, name, base_url, created_at) "
                                          "VALUES (1, '%s', 'intercom', 'Test', 'http://127.0.0.1:1', 0);"
                                          "INSERT INTO agents (account_id, external_id, name, is_me) "
                                          "VALUES (1, 'admin-1', 'Ada Agent', 1);",
                                          fd_account_get_uid (account));

  return fd_store_exec (db, sql, error);
}

static FdStore *
open_store (const char *dir)
{
  g_autofree char *path = fd_paths_store_file (dir);
  g_autoptr(GError) error = NULL;
  FdStore *store = fd_store_new (path);

  g_assert_true (fd_store_open_sync (store, NULL, &error));
  g_assert_no_error (error);
  return store;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("fd-sync-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = open_store (f->dir);
  f->account = g_object_new (FD_TYPE_ACCOUNT, "id", (gint64) 1, "kind", FD_ACCOUNT_KIND_INTERCOM,
                             "name", "Test", "base-url", "http://127.0.0.1:1", NULL);
  g_assert_true (fd_store_run_sync (f->store, insert_account_job, f->account, NULL, &error));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  fd_store_close (f->store);
  g_assert_finalize_object (f->store);
  g_clear_object (&f->account);
  g_free (f->dir);
}

static gboolean
int_job (sqlite3   *db,
         gpointer   job_data,
         gpointer  *result,
         GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, job_data, error);
  gint64 *value;

  if (stmt == NULL)
    return FALSE;
  value = g_new0 (gint64, 1);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    *value = sqlite3_column_int64 (stmt, 0);
  *result = value;
  return TRUE;
}

static gint64
query_int (FdStore    *store,
           const char *sql)
{
  g_autofree gint64 *value = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (fd_store_run_sync (store, int_job, (gpointer) sql, (gpointer *) &value, &error));
  g_assert_no_error (error);
  return *value;
}

static char *
query_text (FdStore    *store,
            const char *sql);

static gboolean
text_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, job_data, error);
  GString *out = g_string_new (NULL);

  if (stmt == NULL)
    return FALSE;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        g_string_append_printf (out, "%s|", sqlite3_column_text (stmt, i));
      g_string_append_c (out, '\n');
    }
  *result = g_string_free (out, FALSE);
  return TRUE;
}

static char *
query_text (FdStore    *store,
            const char *sql)
{
  char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (fd_store_run_sync (store, text_job, (gpointer) sql, (gpointer *) &text, &error));
  return text;
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
sync_once (Fixture        *f,
           FdFakeChannel  *channel,
           FdSyncStats    *stats,
           GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_sync_account_async (f->store, f->account, FD_CHANNEL (channel), NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return fd_sync_account_finish (f->store, result, stats, error);
}

#define DIGEST_SQL \
  "SELECT c.external_id, c.status, c.subject, count(m.id), group_concat(m.external_id) " \
  "FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id " \
  "GROUP BY c.id ORDER BY c.external_id"

static void
test_first_and_incremental (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;
  FdSyncStats stats = { 0 };

  fake_add (channel, 25, 3);
  g_assert_true (sync_once (f, channel, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.conversations_new, ==, 25);
  g_assert_cmpuint (stats.messages_new, ==, 75);
  g_assert_cmpuint (channel->fetches, ==, 3);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM conversations"), ==, 25);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages"), ==, 75);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM events WHERE kind = 'created'"), ==, 25);
  /* Derived columns: the first agent message is the first reply. */
  g_assert_cmpint (query_int (f->store, "SELECT first_reply_at FROM conversations WHERE external_id = 'conv-0'"), ==, 1001);
  g_assert_cmpint (query_int (f->store, "SELECT last_success_at > 0 FROM sync_state"), ==, 1);

  /* Nothing new: one fetch, nothing stored. */
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_once (f, channel, &stats, &error));
  g_assert_cmpuint (channel->fetches, ==, 4);
  g_assert_cmpuint (stats.conversations_new + stats.conversations_updated + stats.messages_new, ==, 0);

  /* One conversation gets two messages, two new ones arrive. */
  fake_touch (channel, 7, 2);
  fake_add (channel, 2, 1);
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_once (f, channel, &stats, &error));
  g_assert_cmpuint (stats.conversations_new, ==, 2);
  g_assert_cmpuint (stats.conversations_updated, ==, 1);
  g_assert_cmpuint (stats.messages_new, ==, 4);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages"), ==, 79);
}

static void
test_fault_resume (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(FdFakeChannel) reference = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *reference_dir = NULL;
  g_autoptr(FdStore) reference_store = NULL;
  FdSyncStats stats = { 0 };

  fake_add (channel, 35, 2);
  fake_add (reference, 35, 2);
  channel->fail_fetch_at = 2;

  g_assert_false (sync_once (f, channel, &stats, &error));
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER);
  g_clear_error (&error);

  /* The two pages before the failure are stored, with their cursor; the error too. */
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM conversations"), ==, 20);
  g_assert_cmpint (query_int (f->store, "SELECT last_error IS NOT NULL FROM sync_state"), ==, 1);

  /* The next sync resumes from the third page. */
  g_assert_true (sync_once (f, channel, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (channel->fetches, ==, 5);
  g_assert_cmpint (query_int (f->store, "SELECT last_error IS NULL FROM sync_state"), ==, 1);

  /* The same state as an uninterrupted sync into another store. */
  {
    Fixture g = { 0 };

    fixture_set_up (&g, NULL);
    g_assert_true (sync_once (&g, reference, NULL, &error));
    expected = query_text (g.store, DIGEST_SQL);
    fixture_tear_down (&g, NULL);
  }
  digest = query_text (f->store, DIGEST_SQL);
  g_assert_cmpstr (digest, ==, expected);
}

static gboolean
apply_twice_job (sqlite3   *db,
                 gpointer   job_data,
                 gpointer  *result,
                 GError   **error)
{
  FdSyncBatch *batch = job_data;
  FdSyncStats stats = { 0 };

  if (!fd_sync_batch_apply (db, 1, "main", batch, &stats, error) ||
      !fd_sync_batch_apply (db, 1, "main", batch, &stats, error))
    return FALSE;

  *result = g_memdup2 (&stats, sizeof stats);
  return TRUE;
}

static void
test_duplicate_page (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(FdSyncBatch) batch = NULL;
  g_autofree FdSyncStats *stats = NULL;
  g_autoptr(GError) error = NULL;
  gboolean has_more;

  fake_add (channel, 5, 4);
  batch = fake_page (channel, 0, 0, &has_more);
  g_assert_true (fd_store_run_sync (f->store, apply_twice_job, batch, (gpointer *) &stats, &error));
  g_assert_cmpuint (stats->conversations_new, ==, 5);
  g_assert_cmpuint (stats->conversations_updated, ==, 5);
  g_assert_cmpuint (stats->messages_new, ==, 20);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages"), ==, 20);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM events WHERE kind = 'customer_message'"), ==, 10);
}

static gboolean
bad_cursor_job (sqlite3   *db,
                gpointer   job_data,
                gpointer  *result,
                GError   **error)
{
  return fd_store_exec (db,
                        "INSERT INTO sync_state (account_id, stream, cursor) "
                        "VALUES (1, 'main', 'written by an older Frontdesk')",
                        error);
}

static void
test_bad_cursor (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;
  FdSyncStats stats = { 0 };

  /* A cursor the service refuses: read everything again, once, and carry on. */
  g_assert_true (fd_store_run_sync (f->store, bad_cursor_job, NULL, NULL, &error));
  fake_add (channel, 12, 1);
  g_assert_true (sync_once (f, channel, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.conversations_new, ==, 12);
  g_assert_cmpint (query_int (f->store, "SELECT cursor = '1:0' FROM sync_state"), ==, 1);
}

static gint64
enqueue (Fixture      *f,
         FdOutboxKind  kind,
         const char   *conversation,
         const char   *text)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FdOutboxRequest *request = g_new0 (FdOutboxRequest, 1);
  g_autofree char *sql = g_strdup_printf ("SELECT id FROM conversations WHERE external_id = '%s'", conversation);
  gint64 id;

  request->conversation_id = query_int (f->store, sql);
  request->kind = kind;
  if (kind == FD_OUTBOX_STATUS)
    request->status = g_strdup (text);
  else
    request->body = g_strdup (text);

  fd_outbox_enqueue_async (f->store, request, NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  id = fd_outbox_enqueue_finish (f->store, result, &error);
  g_assert_no_error (error);
  return id;
}

static gboolean
due_now_job (sqlite3   *db,
             gpointer   job_data,
             gpointer  *result,
             GError   **error)
{
  return fd_store_exec (db, "UPDATE outbox SET next_attempt_at = NULL", error);
}

static void
test_outbox_order_and_retry (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *first_key = NULL;
  gint64 a;

  fake_add (channel, 3, 1);
  g_assert_true (sync_once (f, channel, NULL, &error));

  a = enqueue (f, FD_OUTBOX_REPLY, "conv-1", "First reply");
  enqueue (f, FD_OUTBOX_REPLY, "conv-1", "Second reply");
  enqueue (f, FD_OUTBOX_STATUS, "conv-1", "resolved");
  g_assert_cmpint (a, >, 0);

  /* Shown at once: both replies "sending", the status applied. */
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE send_state = 'sending'"), ==, 2);
  g_assert_cmpint (query_int (f->store, "SELECT status = 'resolved' FROM conversations WHERE external_id = 'conv-1'"), ==, 1);

  /* The first send fails: nothing overtakes it. */
  channel->fail_sends = 1;
  g_assert_true (sync_once (f, channel, NULL, &error));
  g_assert_cmpuint (channel->sent->len, ==, 1);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM outbox WHERE state = 'pending'"), ==, 3);
  g_assert_cmpint (query_int (f->store, "SELECT next_attempt_at > 0 FROM outbox ORDER BY id LIMIT 1"), ==, 1);
  first_key = g_strdup (g_ptr_array_index (channel->sent, 0));

  /* Not due yet: the next round leaves it. */
  g_assert_true (sync_once (f, channel, NULL, &error));
  g_assert_cmpuint (channel->sent->len, ==, 1);

  g_assert_true (fd_store_run_sync (f->store, due_now_job, NULL, NULL, &error));
  g_assert_true (sync_once (f, channel, NULL, &error));
  g_assert_cmpuint (channel->sent->len, ==, 4);
  /* The retry carried the same idempotency key as the failed attempt. */
  g_assert_cmpstr (g_ptr_array_index (channel->sent, 1), ==, first_key);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (channel->sent, 2), "Second reply"));
  g_assert_true (g_str_has_prefix (g_ptr_array_index (channel->sent, 3), "status:"));
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM outbox WHERE state = 'sent'"), ==, 3);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE send_state = 'sent' AND external_id IS NOT NULL"), ==, 2);

  /* The replies come back with the next fetch: still two, not four. */
  g_assert_true (sync_once (f, channel, NULL, &error));
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                                        "WHERE c.external_id = 'conv-1'"), ==, 3);
}

static void
test_outbox_reply_without_id (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;

  /* The service accepts a reply without saying its id; when the reply comes back with
   * the next fetch, the local copy takes that id instead of a second copy appearing. */
  fake_add (channel, 2, 1);
  g_assert_true (sync_once (f, channel, NULL, &error));
  channel->no_reply_id = TRUE;
  enqueue (f, FD_OUTBOX_REPLY, "conv-1", "Message 1 of conversation 1");
  g_assert_true (sync_once (f, channel, NULL, &error));
  g_assert_true (sync_once (f, channel, NULL, &error));

  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages m JOIN conversations c "
                                        "ON c.id = m.conversation_id WHERE c.external_id = 'conv-1'"), ==, 2);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE external_id = 'msg-1-1' "
                                        "AND send_state = 'sent'"), ==, 1);
}

static void
test_outbox_permanent_failure (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *reason = NULL;
  gint64 id;

  fake_add (channel, 1, 1);
  g_assert_true (sync_once (f, channel, NULL, &error));
  id = enqueue (f, FD_OUTBOX_REPLY, "conv-0", "A reply the service refuses");

  channel->reject_sends = TRUE;
  g_assert_true (sync_once (f, channel, NULL, &error));
  reason = query_text (f->store, "SELECT state, last_error FROM outbox");
  g_assert_nonnull (strstr (reason, "failed|The service refused"));
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE send_state = 'failed'"), ==, 1);

  /* Retry puts it back with the same key. */
  channel->reject_sends = FALSE;
  fd_outbox_retry_async (f->store, id, NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (fd_outbox_retry_finish (f->store, result, &error));
  g_assert_true (sync_once (f, channel, NULL, &error));
  g_assert_cmpuint (channel->sent->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (channel->sent, 0), ==, g_ptr_array_index (channel->sent, 1));
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE send_state = 'sent'"), ==, 1);
}

static void
test_outbox_local_only (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;

  fake_add (channel, 1, 1);
  g_assert_true (sync_once (f, channel, NULL, &error));
  enqueue (f, FD_OUTBOX_NOTE, "conv-0", "Only for the team");
  g_assert_true (sync_once (f, channel, NULL, &error));

  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM outbox WHERE state = 'sent'"), ==, 1);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE is_note = 1 AND send_state = 'sent'"), ==, 1);
}

static void
test_outbox_rejects_empty (Fixture       *f,
                           gconstpointer  data)
{
  FdOutboxRequest request = { 0 };
  g_autoptr(GError) error = NULL;

  request.conversation_id = 1;
  request.kind = FD_OUTBOX_REPLY;
  request.body = (char *) "";
  g_assert_false (fd_outbox_enqueue (NULL, &request, NULL, &error));
  g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
}

/* kill -9 in the middle of a sync, then a restart: the same state as a sync that was
 * never interrupted. The child syncs until its third page hangs. */
static int
crash_child (const char *dir)
{
  Fixture f = { 0 };
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;

  f.dir = g_strdup (dir);
  f.store = open_store (dir);
  f.account = g_object_new (FD_TYPE_ACCOUNT, "id", (gint64) 1, "kind", FD_ACCOUNT_KIND_INTERCOM,
                            "name", "Test", "base-url", "http://127.0.0.1:1", NULL);
  fake_add (channel, 45, 3);
  channel->fail_fetch_at = 3;
  channel->hang_fetch_at_fail = TRUE;
  sync_once (&f, channel, NULL, &error);
  g_assert_not_reached ();
  return 1;
}

static void
test_crash_resume (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(FdFakeChannel) channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(FdFakeChannel) reference = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *expected = NULL;

  fd_store_close (f->store);
  g_clear_object (&f->store);

  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            g_test_get_filename (G_TEST_BUILT, "channels", "test-sync-engine", NULL),
                            "--crash-child", f->dir, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_cmpstr (line, ==, "hanging");
  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, NULL);

  f->store = open_store (f->dir);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM conversations"), ==, 30);

  fake_add (channel, 45, 3);
  g_assert_true (sync_once (f, channel, NULL, &error));
  g_assert_no_error (error);
  /* It resumed: one fetch for the rest, not four from the start. */
  g_assert_cmpuint (channel->fetches, ==, 2);

  {
    Fixture g = { 0 };

    fake_add (reference, 45, 3);
    fixture_set_up (&g, NULL);
    g_assert_true (sync_once (&g, reference, NULL, &error));
    expected = query_text (g.store, DIGEST_SQL);
    fixture_tear_down (&g, NULL);
  }
  digest = query_text (f->store, DIGEST_SQL);
  g_assert_cmpstr (digest, ==, expected);
}

/* ------------------------------------------------------------------------------------ */
/* The engine on its thread, with a real keyring for the account's secret.                 */

static FdFakeChannel *engine_channel;

static FdChannel *
fake_factory (FdAccount  *account,
              const char *secret,
              gpointer    user_data)
{
  g_assert_cmpstr (secret, ==, "engine-test-token");
  g_assert_false (g_main_context_is_owner (g_main_context_default ()));
  return g_object_ref (FD_CHANNEL (engine_channel));
}

/* The first account's status and last sync, without leaking the item's reference. */
static FdSyncStatus
first_status (GListModel *accounts)
{
  g_autoptr(FdAccountState) state = g_list_model_get_item (accounts, 0);

  return state != NULL ? fd_account_state_get_status (state) : FD_SYNC_STATUS_IDLE;
}

static gint64
first_last_sync (GListModel *accounts)
{
  g_autoptr(FdAccountState) state = g_list_model_get_item (accounts, 0);

  return state != NULL ? fd_account_state_get_last_sync (state) : 0;
}

static FdChannel *
no_channel_factory (FdAccount  *account,
                    const char *secret,
                    gpointer    user_data)
{
  return NULL;
}

static void
test_engine (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(FdSyncEngine) engine = NULL;
  g_autoptr(FdAccountState) state = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *accounts;
  gint64 deadline;

  if (!fd_test_keyring_available ())
    {
      g_test_skip ("no Secret Service on the session bus; run under build-aux/test");
      return;
    }

  fd_secrets_store_async (fd_account_get_uid (f->account), "Frontdesk test", "engine-test-token",
                          NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (fd_secrets_store_finish (result, &error));

  engine_channel = g_object_new (FD_TYPE_FAKE_CHANNEL, NULL);
  fake_add (engine_channel, 12, 2);
  engine_channel->fail_fetch_at = 0;

  engine = fd_sync_engine_new (f->store);
  fd_sync_engine_set_channel_factory (engine, fake_factory, NULL);
  fd_sync_engine_start (engine);
  accounts = fd_sync_engine_get_accounts (engine);

  /* The first round fails, in plain words, on the owner's thread. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (first_status (accounts) != FD_SYNC_STATUS_ERROR)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  state = g_list_model_get_item (accounts, 0);
  g_assert_cmpstr (fd_account_state_get_error (state), ==, "The service is having trouble right now.");
  g_assert_cmpint (fd_account_state_get_last_sync (state), ==, 0);

  /* Asked again, it syncs everything. */
  fd_sync_engine_sync_now (engine, 0);
  while (fd_account_state_get_status (state) != FD_SYNC_STATUS_IDLE)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_null (fd_account_state_get_error (state));
  g_assert_cmpint (fd_account_state_get_last_sync (state), >, 0);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM conversations"), ==, 12);

  fd_sync_engine_stop (engine);
  g_assert_finalize_object (g_steal_pointer (&engine));
  g_clear_object (&state);
  g_assert_finalize_object (engine_channel);
  engine_channel = NULL;

  /* A restarted engine shows when the account last synced before it syncs again. */
  engine = fd_sync_engine_new (f->store);
  fd_sync_engine_set_channel_factory (engine, no_channel_factory, NULL);
  fd_sync_engine_start (engine);
  accounts = fd_sync_engine_get_accounts (engine);
  while (first_last_sync (accounts) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  fd_sync_engine_stop (engine);
  g_assert_finalize_object (g_steal_pointer (&engine));

  g_clear_object (&result);
  fd_secrets_clear_async (fd_account_get_uid (f->account), NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 3 && g_str_equal (argv[1], "--crash-child"))
    return crash_child (argv[2]);

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/sync/first-and-incremental", test_first_and_incremental);
  ADD ("/sync/fault-resume", test_fault_resume);
  ADD ("/sync/duplicate-page", test_duplicate_page);
  ADD ("/sync/crash-resume", test_crash_resume);
  ADD ("/sync/bad-cursor", test_bad_cursor);
  ADD ("/outbox/order-and-retry", test_outbox_order_and_retry);
  ADD ("/outbox/permanent-failure", test_outbox_permanent_failure);
  ADD ("/outbox/reply-without-id", test_outbox_reply_without_id);
  ADD ("/outbox/local-only", test_outbox_local_only);
  ADD ("/outbox/rejects-empty", test_outbox_rejects_empty);
  ADD ("/engine/states", test_engine);

#undef ADD

  return g_test_run ();
}
