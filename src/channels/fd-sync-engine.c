/* fd-sync-engine.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sync-engine"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "fd-discourse-channel.h"
#include "fd-http.h"
#include "fd-intercom-channel.h"
#include "fd-outbox.h"
#include "fd-secrets.h"
#include "fd-slack-channel.h"
#include "fd-sync-engine.h"

#define SYNC_STREAM "main"
#define LIVE_STREAM "live"

/* ------------------------------------------------------------------------------------ */
/* FdAccountState                                                                         */

struct _FdAccountState
{
  GObject        parent_instance;

  gint64         account_id;
  char          *name;
  FdAccountKind  kind;
  FdSyncStatus   status;
  char          *error;
  gint64         last_sync;
  guint          pending;
  guint          failed;
};

G_DEFINE_FINAL_TYPE (FdAccountState, fd_account_state, G_TYPE_OBJECT)

enum {
  STATE_PROP_0,
  STATE_PROP_STATUS,
  STATE_PROP_ERROR,
  STATE_PROP_LAST_SYNC,
  STATE_PROP_PENDING,
  STATE_N_PROPS
};

static GParamSpec *state_properties[STATE_N_PROPS];

static void
fd_account_state_finalize (GObject *object)
{
  FdAccountState *self = (FdAccountState *)object;

  g_free (self->name);
  g_free (self->error);

  G_OBJECT_CLASS (fd_account_state_parent_class)->finalize (object);
}

static void
fd_account_state_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  FdAccountState *self = FD_ACCOUNT_STATE (object);

  switch (prop_id)
    {
    case STATE_PROP_STATUS:
      g_value_set_uint (value, self->status);
      break;

    case STATE_PROP_ERROR:
      g_value_set_string (value, self->error);
      break;

    case STATE_PROP_LAST_SYNC:
      g_value_set_int64 (value, self->last_sync);
      break;

    case STATE_PROP_PENDING:
      g_value_set_uint (value, self->pending);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_account_state_class_init (FdAccountStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_account_state_finalize;
  object_class->get_property = fd_account_state_get_property;

  state_properties[STATE_PROP_STATUS] =
    g_param_spec_uint ("status", NULL, NULL, 0, FD_SYNC_STATUS_NO_SECRET, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  state_properties[STATE_PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  state_properties[STATE_PROP_LAST_SYNC] =
    g_param_spec_int64 ("last-sync", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  state_properties[STATE_PROP_PENDING] =
    g_param_spec_uint ("pending", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, STATE_N_PROPS, state_properties);
}

static void
fd_account_state_init (FdAccountState *self)
{
}

gint64
fd_account_state_get_account_id (FdAccountState *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_STATE (self), 0);
  return self->account_id;
}

const char *
fd_account_state_get_name (FdAccountState *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_STATE (self), NULL);
  return self->name;
}

FdAccountKind
fd_account_state_get_kind (FdAccountState *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_STATE (self), 0);
  return self->kind;
}

FdSyncStatus
fd_account_state_get_status (FdAccountState *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_STATE (self), 0);
  return self->status;
}

const char *
fd_account_state_get_error (FdAccountState *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_STATE (self), NULL);
  return self->error;
}

gint64
fd_account_state_get_last_sync (FdAccountState *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_STATE (self), 0);
  return self->last_sync;
}

guint
fd_account_state_get_pending (FdAccountState *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_STATE (self), 0);
  return self->pending;
}

guint
fd_account_state_get_failed (FdAccountState *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT_STATE (self), 0);
  return self->failed;
}

/* ------------------------------------------------------------------------------------ */
/* One complete sync of one account                                                       */

typedef struct
{
  FdStore     *store;
  FdAccount   *account;
  gint64       account_id;
  FdChannel   *channel;
  FdSyncStats  stats;
  char        *cursor;
  gboolean     restarted;
  GError      *sync_error;   /* a failed fetch; the outbox still gets its turn */
  guint        pending;      /* outbox actions waiting, and failed, after this round */
  guint        failed;
  gint64       last_success; /* from the store, for a restart that has not synced yet */
} SyncData;

static void
sync_data_free (SyncData *data)
{
  g_clear_object (&data->store);
  g_clear_object (&data->account);
  g_clear_object (&data->channel);
  g_clear_pointer (&data->cursor, g_free);
  g_clear_error (&data->sync_error);
  g_free (data);
}

typedef struct
{
  gint64        account_id;
  FdSyncBatch  *batch;
  FdSyncStats   stats;
  const char   *stream;
} ApplyJob;

static void
apply_job_free (ApplyJob *job)
{
  g_clear_pointer (&job->batch, fd_sync_batch_free);
  g_free (job);
}

static gboolean
apply_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  ApplyJob *job = job_data;
  FdSyncStats *stats;

  if (!fd_sync_batch_apply (db, job->account_id, job->stream, job->batch, &job->stats, error))
    return FALSE;

  stats = g_memdup2 (&job->stats, sizeof job->stats);
  *result = stats;
  return TRUE;
}

typedef struct
{
  gint64  account_id;
  char   *message;
} RecordJob;

static void
record_job_free (RecordJob *job)
{
  g_free (job->message);
  g_free (job);
}

static gboolean
record_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  RecordJob *job = job_data;

  g_autoptr(sqlite3_stmt) stmt = NULL;
  guint *counts;

  if (!fd_sync_state_record (db, job->account_id, SYNC_STREAM, job->message, error))
    return FALSE;

  stmt = fd_store_prepare (db,
                           "SELECT count(*) FILTER (WHERE state IN ('pending', 'sending')), "
                           "       count(*) FILTER (WHERE state = 'failed') "
                           "FROM outbox WHERE account_id = ?1",
                           error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, job->account_id);
  counts = g_new0 (guint, 2);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      counts[0] = sqlite3_column_int (stmt, 0);
      counts[1] = sqlite3_column_int (stmt, 1);
    }

  *result = counts;
  return TRUE;
}

static gboolean
start_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  gint64 account_id = *(gint64 *) job_data;
  char *cursor = NULL;

  if (!fd_outbox_recover (db, error) ||
      !fd_sync_state_get_cursor (db, account_id, SYNC_STREAM, &cursor, error))
    return FALSE;

  /* A first sync has no cursor: an empty string says "found nothing" to the caller. */
  *result = cursor != NULL ? cursor : g_strdup ("");
  return TRUE;
}

typedef struct
{
  gint64        account_id;
  gint64        outbox_id;
  char         *external_id;
  char         *reason;
  gboolean      sent;
  gboolean      permanent;
  gint64        retry_at;
} OutboxJob;

static void
outbox_job_free (OutboxJob *job)
{
  g_free (job->external_id);
  g_free (job->reason);
  g_free (job);
}

/* Records the outcome of the last send (if any), then takes the next due action. */
static gboolean
outbox_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  OutboxJob *job = job_data;
  FdOutboxItem *item = NULL;

  if (job->outbox_id != 0)
    {
      if (job->sent)
        {
          if (!fd_outbox_mark_sent (db, job->outbox_id, job->external_id, error))
            return FALSE;
        }
      else if (!fd_outbox_mark_failed (db, job->outbox_id, job->reason, job->permanent,
                                       job->retry_at, error))
        {
          return FALSE;
        }

      /* After a transient failure the rest waits: order matters more than speed. */
      if (!job->sent && !job->permanent)
        {
          *result = g_new0 (FdOutboxItem, 1);
          return TRUE;
        }
    }

  if (!fd_outbox_take_next (db, job->account_id, g_get_real_time () / 1000, &item, error))
    return FALSE;

  /* An empty item (id 0) means "nothing to send now". */
  *result = item != NULL ? item : g_new0 (FdOutboxItem, 1);
  return TRUE;
}

static void sync_fetch (GTask *task);
static void sync_outbox_step (GTask *task, OutboxJob *job);

static void
sync_finish_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SyncData *data = g_task_get_task_data (task);
  g_autofree guint *counts = NULL;

  counts = fd_store_run_finish (FD_STORE (object), result, NULL);
  if (counts != NULL)
    {
      data->pending = counts[0];
      data->failed = counts[1];
    }

  if (data->sync_error != NULL)
    g_task_return_error (task, g_steal_pointer (&data->sync_error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
sync_complete (GTask *task)
{
  SyncData *data = g_task_get_task_data (task);
  RecordJob *job = g_new0 (RecordJob, 1);
  GCancellable *cancellable = g_task_get_cancellable (task);

  job->account_id = data->account_id;
  job->message = data->sync_error != NULL ? g_strdup (data->sync_error->message) : NULL;

  fd_store_run_async (data->store, record_job, job, (GDestroyNotify) record_job_free, g_free,
                      cancellable, sync_finish_cb, task);
}

static gint64
retry_delay_ms (guint attempt)
{
  /* 5 s, 10 s, 20 s … up to 10 minutes, with jitter. */
  gint64 ceiling = MIN ((gint64) 5000 << MIN (attempt, 10), 600000);

  return (gint64) g_random_double_range (ceiling / 2.0, ceiling);
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  FdOutboxItem *item = g_object_steal_data (G_OBJECT (task), "item");
  g_autoptr(GError) error = NULL;
  g_autofree char *external_id = NULL;
  OutboxJob *job = g_new0 (OutboxJob, 1);
  SyncData *data = g_task_get_task_data (task);

  external_id = fd_channel_send_finish (FD_CHANNEL (object), result, &error);

  job->account_id = data->account_id;
  job->outbox_id = item->id;

  if (error == NULL || g_error_matches (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED))
    {
      /* Unsupported actions (a note on Slack, a tag on Discourse) stay local: done. */
      job->sent = TRUE;
      job->external_id = g_steal_pointer (&external_id);
    }
  else
    {
      job->reason = g_strdup (error->message);
      job->permanent = g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED) ||
                       g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND) ||
                       g_error_matches (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
      /* attempts were counted when the item was taken */
      job->retry_at = g_get_real_time () / 1000 + retry_delay_ms (item->attempts);
      g_debug ("Sending outbox item %" G_GINT64_FORMAT " failed: %s", item->id, error->message);
    }

  fd_outbox_item_free (item);
  sync_outbox_step (task, job);
}

static void
outbox_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  FdOutboxItem *item;

  item = fd_store_run_finish (FD_STORE (object), result, &error);

  if (item == NULL)
    {
      if (data->sync_error == NULL)
        data->sync_error = g_steal_pointer (&error);
      sync_complete (task);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    {
      fd_outbox_item_free (item);
      g_object_unref (task);
      return;
    }

  if (item->id == 0)
    {
      fd_outbox_item_free (item);
      sync_complete (task);
      return;
    }

  g_object_set_data (G_OBJECT (task), "item", item);
  fd_channel_send_async (data->channel, item, g_task_get_cancellable (task), send_cb, task);
}

static void
sync_outbox_step (GTask     *task,
                  OutboxJob *job)
{
  SyncData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  fd_store_run_async (data->store, outbox_job, job, (GDestroyNotify) outbox_job_free,
                      (GDestroyNotify) fd_outbox_item_free, cancellable, outbox_cb, task);
}

static void
sync_start_outbox (GTask *task)
{
  SyncData *data = g_task_get_task_data (task);
  OutboxJob *job = g_new0 (OutboxJob, 1);

  job->account_id = data->account_id;
  sync_outbox_step (task, job);
}

static void
apply_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *data = g_task_get_task_data (task);
  g_autofree FdSyncStats *stats = NULL;
  GError *error = NULL;
  gboolean has_more = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (task), "has-more"));

  stats = fd_store_run_finish (FD_STORE (object), result, &error);
  if (stats == NULL)
    {
      /* The store refused the page (disk full, locked): stop, keep the cursor as it was. */
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  fd_sync_stats_add (&data->stats, stats);

  if (has_more)
    sync_fetch (task);
  else
    sync_start_outbox (task);
}

static void
fetch_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GError) error = NULL;
  FdSyncBatch *batch;
  gboolean has_more = FALSE;
  ApplyJob *job;

  batch = fd_channel_fetch_finish (FD_CHANNEL (object), result, &has_more, &error);
  if (batch == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
          return;
        }

      /* A cursor the service no longer understands (or an older Frontdesk wrote): read
       * everything again; upserts make that safe. Once only. */
      if (g_error_matches (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR) &&
          data->cursor != NULL && !data->restarted)
        {
          g_debug ("%s: the stored sync position is not valid any more; starting over",
                   fd_account_get_name (data->account));
          data->restarted = TRUE;
          g_clear_pointer (&data->cursor, g_free);
          sync_fetch (task);
          return;
        }

      /* Nothing of this page was stored; the next sync resumes from the same cursor.
       * Queued replies may still go out if the failure was only in reading. */
      data->sync_error = g_steal_pointer (&error);
      if (g_error_matches (data->sync_error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED))
        sync_complete (task);
      else
        sync_start_outbox (task);
      return;
    }

  g_free (data->cursor);
  data->cursor = g_strdup (batch->cursor);

  job = g_new0 (ApplyJob, 1);
  job->account_id = data->account_id;
  job->batch = batch;
  job->stream = SYNC_STREAM;

  g_object_set_data (G_OBJECT (task), "has-more", GINT_TO_POINTER (has_more));
  fd_store_run_async (data->store, apply_job, job, (GDestroyNotify) apply_job_free, g_free,
                      cancellable, apply_cb, task);
}

static void
sync_fetch (GTask *task)
{
  SyncData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  fd_channel_fetch_async (data->channel, data->cursor, cancellable, fetch_cb, task);
}

static void
start_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *cursor;

  cursor = fd_store_run_finish (FD_STORE (object), result, &error);
  if (cursor == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (*cursor == '\0')
    g_clear_pointer (&cursor, g_free);
  data->cursor = cursor;

  sync_fetch (task);
}

void
fd_sync_account_async (FdStore             *store,
                       FdAccount           *account,
                       FdChannel           *channel,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task;
  SyncData *data;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (FD_IS_ACCOUNT (account));
  g_return_if_fail (FD_IS_CHANNEL (channel));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_sync_account_async);

  data = g_new0 (SyncData, 1);
  data->store = g_object_ref (store);
  data->account = g_object_ref (account);
  data->account_id = fd_account_get_id (account);
  data->channel = g_object_ref (channel);
  g_task_set_task_data (task, data, (GDestroyNotify) sync_data_free);

  fd_store_run_async (store, start_job, g_memdup2 (&data->account_id, sizeof (gint64)), g_free,
                      g_free, cancellable, start_cb, task);
}

static void
sync_account_get_outbox (GAsyncResult *result,
                         guint        *pending,
                         guint        *failed)
{
  SyncData *data = g_task_get_task_data (G_TASK (result));

  *pending = data->pending;
  *failed = data->failed;
}

gboolean
fd_sync_account_finish (FdStore       *store,
                        GAsyncResult  *result,
                        FdSyncStats   *stats,
                        GError       **error)
{
  SyncData *data;

  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);

  data = g_task_get_task_data (G_TASK (result));
  if (stats != NULL)
    *stats = data->stats;

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------------------ */
/* Channels for accounts                                                                  */

FdChannel *
fd_channel_new_for_account (FdAccount  *account,
                            const char *secret,
                            gpointer    user_data)
{
  const char *base_url = fd_account_get_base_url (account);

  switch (fd_account_get_kind (account))
    {
    case FD_ACCOUNT_KIND_INTERCOM:
      return fd_intercom_channel_new (base_url, secret);

    case FD_ACCOUNT_KIND_SLACK:
      {
        /* The secret holds the bot token and, after a space, the optional app-level
         * token that Socket Mode needs for live messages. */
        g_auto(GStrv) tokens = g_strsplit (secret, " ", 2);

        return fd_slack_channel_new (base_url, tokens[0], tokens[0] != NULL ? tokens[1] : NULL);
      }

    case FD_ACCOUNT_KIND_DISCOURSE:
      {
        /* Replies are posted as this forum user; only the chosen categories are synced
         * (all of them when none are chosen). */
        g_autofree char *username = fd_account_dup_setting (account, "api_username");
        g_autofree char *categories = fd_account_dup_setting (account, "categories");
        g_auto(GStrv) ids = categories != NULL ? g_strsplit_set (categories, ", ", -1) : NULL;
        g_autoptr(GPtrArray) chosen = g_ptr_array_new ();

        for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
          if (*ids[i] != '\0')
            g_ptr_array_add (chosen, ids[i]);
        g_ptr_array_add (chosen, NULL);

        return fd_discourse_channel_new (base_url, secret,
                                         username != NULL ? username : "system",
                                         chosen->len > 1 ? (const char * const *) chosen->pdata : NULL);
      }

    case FD_ACCOUNT_KIND_STRIPE:
    case FD_ACCOUNT_KIND_LINEAR:
    case FD_ACCOUNT_N_KINDS:
    default:
      /* Billing and bug tracking are not conversation channels. */
      return NULL;
    }
}

/* ------------------------------------------------------------------------------------ */
/* The engine                                                                             */

/* Everything below "engine thread" runs there, with its own main context; the account
 * states are only touched on the owner's (UI) context, through snapshots. */
typedef struct
{
  FdSyncEngine *engine;      /* not a reference: the engine joins the thread before it goes */
  FdAccount    *account;
  FdChannel    *channel;
  FdSyncStatus  status;
  char         *error;
  gint64        last_sync;
  guint         pending;
  guint         failed;
  guint         failures;
  GSource      *timeout;     /* on the engine's context, so not a g_source_remove() id */
  gboolean      busy;
  gboolean      again;       /* a sync was asked for while one ran */
  gulong        live_handler;
} Entry;

struct _FdSyncEngine
{
  GObject           parent_instance;

  FdStore          *store;
  FdChannelFactory  factory;
  gpointer          factory_data;
  guint             interval;

  GMainContext     *owner_context;
  GListStore       *states;        /* owner thread */

  GThread          *thread;
  GMainContext     *context;       /* engine thread */
  GMainLoop        *loop;
  GCancellable     *cancellable;
  GPtrArray        *entries;       /* engine thread: Entry */
  guint             busy;          /* engine thread: operations under way */
  gboolean          stopping;      /* engine thread */
  guint             loading;       /* engine thread: account loads under way */
};

G_DEFINE_FINAL_TYPE (FdSyncEngine, fd_sync_engine, G_TYPE_OBJECT)

static void engine_schedule (Entry *entry, guint delay_ms);
static Entry *find_entry (FdSyncEngine *self, gint64 account_id);
static void engine_maybe_quit (FdSyncEngine *self);

static void
entry_cancel_timeout (Entry *entry)
{
  if (entry->timeout != NULL)
    {
      g_source_destroy (entry->timeout);
      g_clear_pointer (&entry->timeout, g_source_unref);
    }
}

static void
entry_free (Entry *entry)
{
  entry_cancel_timeout (entry);
  if (entry->channel != NULL)
    {
      g_clear_signal_handler (&entry->live_handler, entry->channel);
      fd_channel_stop_live (entry->channel);
    }
  g_clear_object (&entry->channel);
  g_clear_object (&entry->account);
  g_free (entry->error);
  g_free (entry);
}

typedef struct
{
  FdSyncEngine  *engine;
  gint64         account_id;
  char          *name;
  FdAccountKind  kind;
  FdSyncStatus   status;
  char          *error;
  gint64         last_sync;
  guint          pending;
  guint          failed;
  gboolean       remove;
} Snapshot;

static void
snapshot_free (Snapshot *snapshot)
{
  g_object_unref (snapshot->engine);
  g_free (snapshot->name);
  g_free (snapshot->error);
  g_free (snapshot);
}

/* Owner thread. */
static gboolean
apply_snapshot_cb (gpointer user_data)
{
  Snapshot *snapshot = user_data;
  FdSyncEngine *self = snapshot->engine;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->states));
  g_autoptr(FdAccountState) state = NULL;
  guint position = n;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdAccountState) candidate = g_list_model_get_item (G_LIST_MODEL (self->states), i);

      if (candidate->account_id == snapshot->account_id)
        {
          state = g_steal_pointer (&candidate);
          position = i;
          break;
        }
    }

  if (snapshot->remove)
    {
      if (state != NULL)
        g_list_store_remove (self->states, position);
      return G_SOURCE_REMOVE;
    }

  if (state == NULL)
    {
      state = g_object_new (FD_TYPE_ACCOUNT_STATE, NULL);
      state->account_id = snapshot->account_id;
      state->name = g_strdup (snapshot->name);
      state->kind = snapshot->kind;
      g_list_store_append (self->states, state);
    }

  if (state->status != snapshot->status)
    {
      state->status = snapshot->status;
      g_object_notify_by_pspec (G_OBJECT (state), state_properties[STATE_PROP_STATUS]);
    }
  if (g_strcmp0 (state->error, snapshot->error) != 0)
    {
      g_free (state->error);
      state->error = g_strdup (snapshot->error);
      g_object_notify_by_pspec (G_OBJECT (state), state_properties[STATE_PROP_ERROR]);
    }
  if (state->last_sync != snapshot->last_sync)
    {
      state->last_sync = snapshot->last_sync;
      g_object_notify_by_pspec (G_OBJECT (state), state_properties[STATE_PROP_LAST_SYNC]);
    }
  /* "pending" is notified for both counts: they change together. */
  if (state->pending != snapshot->pending || state->failed != snapshot->failed)
    {
      state->pending = snapshot->pending;
      state->failed = snapshot->failed;
      g_object_notify_by_pspec (G_OBJECT (state), state_properties[STATE_PROP_PENDING]);
    }

  return G_SOURCE_REMOVE;
}

/* Engine thread. */
static void
entry_publish (Entry    *entry,
               gboolean  remove)
{
  Snapshot *snapshot = g_new0 (Snapshot, 1);

  snapshot->engine = g_object_ref (entry->engine);
  snapshot->account_id = fd_account_get_id (entry->account);
  snapshot->name = g_strdup (fd_account_get_name (entry->account));
  snapshot->kind = fd_account_get_kind (entry->account);
  snapshot->status = entry->status;
  snapshot->error = g_strdup (entry->error);
  snapshot->last_sync = entry->last_sync;
  snapshot->pending = entry->pending;
  snapshot->failed = entry->failed;
  snapshot->remove = remove;

  g_main_context_invoke_full (entry->engine->owner_context, G_PRIORITY_DEFAULT,
                              apply_snapshot_cb, snapshot, (GDestroyNotify) snapshot_free);
}

static void
entry_sync_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Entry *entry = user_data;
  FdSyncEngine *self = entry->engine;
  g_autoptr(GError) error = NULL;
  FdSyncStats stats = { 0 };
  guint delay_ms;

  entry->busy = FALSE;
  self->busy--;
  sync_account_get_outbox (result, &entry->pending, &entry->failed);

  if (fd_sync_account_finish (FD_STORE (object), result, &stats, &error))
    {
      entry->status = FD_SYNC_STATUS_IDLE;
      g_clear_pointer (&entry->error, g_free);
      entry->last_sync = g_get_real_time () / 1000;
      entry->failures = 0;
      delay_ms = self->interval * 1000;
      g_debug ("%s: %u new and %u updated conversations, %u new messages",
               fd_account_get_name (entry->account), stats.conversations_new,
               stats.conversations_updated, stats.messages_new);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      engine_maybe_quit (self);
      return;
    }
  else
    {
      entry->status = FD_SYNC_STATUS_ERROR;
      g_free (entry->error);
      entry->error = g_strdup (error->message);
      entry->failures++;
      /* Exponential back-off with jitter; a rate limit waits at least a minute. */
      delay_ms = (guint) retry_delay_ms (entry->failures);
      if (g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_RATE_LIMITED))
        delay_ms = MAX (delay_ms, 60000);
      g_debug ("%s: sync failed (%s); next try in %u s",
               fd_account_get_name (entry->account), error->message, delay_ms / 1000);
    }

  entry_publish (entry, FALSE);

  if (self->stopping)
    {
      engine_maybe_quit (self);
      return;
    }

  if (entry->again)
    {
      entry->again = FALSE;
      delay_ms = 0;
    }

  engine_schedule (entry, delay_ms);
}

static void
entry_sync (Entry *entry)
{
  FdSyncEngine *self = entry->engine;

  if (entry->busy || self->stopping || entry->channel == NULL)
    {
      entry->again = entry->busy;
      return;
    }

  entry->busy = TRUE;
  self->busy++;
  entry->status = FD_SYNC_STATUS_SYNCING;
  entry_publish (entry, FALSE);

  fd_sync_account_async (self->store, entry->account, entry->channel, self->cancellable,
                         entry_sync_cb, entry);
}

static gboolean
entry_timeout_cb (gpointer user_data)
{
  Entry *entry = user_data;

  g_clear_pointer (&entry->timeout, g_source_unref);
  entry_sync (entry);

  return G_SOURCE_REMOVE;
}

static void
engine_schedule (Entry *entry,
                 guint  delay_ms)
{
  entry_cancel_timeout (entry);

  entry->timeout = g_timeout_source_new (delay_ms);
  g_source_set_callback (entry->timeout, entry_timeout_cb, entry, NULL);
  g_source_attach (entry->timeout, entry->engine->context);
}

static void
live_apply_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree FdSyncStats *stats = NULL;
  g_autoptr(GError) error = NULL;

  stats = fd_store_run_finish (FD_STORE (object), result, &error);
  if (stats == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("A live message could not be stored: %s", error->message);
}

static void
live_batch_cb (FdChannel   *channel,
               FdSyncBatch *batch,
               Entry       *entry)
{
  ApplyJob *job = g_new0 (ApplyJob, 1);
  FdSyncBatch *copy = fd_sync_batch_new ();

  /* The signal lends the batch; steal its records for the store job. */
  g_ptr_array_extend_and_steal (copy->organisations, g_ptr_array_ref (batch->organisations));
  g_ptr_array_extend_and_steal (copy->contacts, g_ptr_array_ref (batch->contacts));
  g_ptr_array_extend_and_steal (copy->agents, g_ptr_array_ref (batch->agents));
  g_ptr_array_extend_and_steal (copy->conversations, g_ptr_array_ref (batch->conversations));

  job->account_id = fd_account_get_id (entry->account);
  job->batch = copy;
  job->stream = LIVE_STREAM;

  fd_store_run_async (entry->engine->store, apply_job, job, (GDestroyNotify) apply_job_free,
                      g_free, entry->engine->cancellable, live_apply_cb, NULL);
}

typedef struct
{
  FdSyncEngine *engine;
  gint64        account_id;
} LastSyncData;

static gboolean
last_sync_job (sqlite3   *db,
               gpointer   job_data,
               gpointer  *result,
               GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 *last = g_new0 (gint64, 1);

  stmt = fd_store_prepare (db,
                           "SELECT coalesce(last_success_at, 0) FROM sync_state "
                           "WHERE account_id = ?1 AND stream = '" SYNC_STREAM "'",
                           error);
  if (stmt == NULL)
    {
      g_free (last);
      return FALSE;
    }

  sqlite3_bind_int64 (stmt, 1, *(gint64 *) job_data);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    *last = sqlite3_column_int64 (stmt, 0);

  *result = last;
  return TRUE;
}

/* After a restart, "synced 3 hours ago" until the first round ends, not "never". */
static void
last_sync_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  LastSyncData *data = user_data;
  g_autofree gint64 *last = fd_store_run_finish (FD_STORE (object), result, NULL);
  Entry *entry = find_entry (data->engine, data->account_id);

  data->engine->loading--;

  if (last != NULL && entry != NULL && entry->last_sync == 0 && *last > 0)
    {
      entry->last_sync = *last;
      entry_publish (entry, FALSE);
    }

  engine_maybe_quit (data->engine);
  g_free (data);
}

static void
entry_load_last_sync (Entry *entry)
{
  FdSyncEngine *self = entry->engine;
  LastSyncData *data = g_new0 (LastSyncData, 1);
  gint64 account_id = fd_account_get_id (entry->account);

  data->engine = self;
  data->account_id = account_id;
  self->loading++;
  fd_store_run_async (self->store, last_sync_job, g_memdup2 (&account_id, sizeof account_id), g_free,
                      g_free, NULL, last_sync_cb, data);
}

typedef struct
{
  FdSyncEngine *engine;
  FdAccount    *account;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_clear_object (&data->account);
  g_free (data);
}

static void
secret_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  LoadData *data = user_data;
  FdSyncEngine *self = data->engine;
  g_autoptr(GError) error = NULL;
  char *secret;
  Entry *entry;

  secret = fd_secrets_lookup_finish (result, &error);
  self->loading--;

  if (self->stopping)
    {
      secret_password_free (secret);
      load_data_free (data);
      engine_maybe_quit (self);
      return;
    }

  /* Two reloads in a row both look the secret up; the first one to come back wins. */
  if (find_entry (self, fd_account_get_id (data->account)) != NULL)
    {
      secret_password_free (secret);
      load_data_free (data);
      engine_maybe_quit (self);
      return;
    }

  entry = g_new0 (Entry, 1);
  entry->engine = self;
  entry->account = g_object_ref (data->account);
  g_ptr_array_add (self->entries, entry);
  entry_load_last_sync (entry);

  if (secret == NULL)
    {
      entry->status = FD_SYNC_STATUS_NO_SECRET;
      entry->error = error != NULL
        ? g_strdup (error->message)
        : g_strdup (_("The keyring has no token for this account. Enter it again in "
                      "Preferences → Accounts."));
      entry_publish (entry, FALSE);
      load_data_free (data);
      return;
    }

  entry->channel = self->factory (entry->account, secret, self->factory_data);
  secret_password_free (secret);

  if (entry->channel == NULL)
    {
      /* Billing and bug-tracking accounts have no conversations to sync. */
      entry_publish (entry, FALSE);
      load_data_free (data);
      return;
    }

  if (fd_channel_has_live (entry->channel))
    {
      entry->live_handler = g_signal_connect (entry->channel, "live-batch",
                                              G_CALLBACK (live_batch_cb), entry);
      fd_channel_start_live (entry->channel);
    }

  entry_publish (entry, FALSE);
  entry_sync (entry);
  load_data_free (data);
}

static Entry *
find_entry (FdSyncEngine *self,
            gint64        account_id)
{
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (fd_account_get_id (entry->account) == account_id)
        return entry;
    }

  return NULL;
}

static void
list_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  FdSyncEngine *self = user_data;
  g_autoptr(GListStore) accounts = NULL;
  g_autoptr(GError) error = NULL;
  guint n;

  accounts = fd_account_list_finish (FD_STORE (object), result, &error);
  self->loading--;

  if (accounts == NULL || self->stopping)
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not read the accounts: %s", error->message);
      engine_maybe_quit (self);
      return;
    }

  n = g_list_model_get_n_items (G_LIST_MODEL (accounts));

  /* Accounts that were removed go, with their channel and live connection. */
  for (guint i = self->entries->len; i > 0; i--)
    {
      Entry *entry = g_ptr_array_index (self->entries, i - 1);
      gboolean still_there = FALSE;

      /* Same account, same address: keep its channel. A new address (the demo's sandbox
       * port, an edit in Preferences) needs a new channel. */
      for (guint j = 0; j < n && !still_there; j++)
        {
          g_autoptr(FdAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), j);

          still_there = fd_account_get_id (account) == fd_account_get_id (entry->account) &&
                        g_strcmp0 (fd_account_get_base_url (account),
                                   fd_account_get_base_url (entry->account)) == 0;
        }

      if (!still_there && !entry->busy)
        {
          entry_publish (entry, TRUE);
          g_ptr_array_remove_index (self->entries, i - 1);
        }
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), i);
      LoadData *data;

      if (find_entry (self, fd_account_get_id (account)) != NULL)
        continue;

      data = g_new0 (LoadData, 1);
      data->engine = self;
      data->account = g_object_ref (account);
      self->loading++;
      fd_secrets_lookup_async (fd_account_get_uid (account), self->cancellable, secret_cb, data);
    }
}

static gboolean
engine_reload_cb (gpointer user_data)
{
  FdSyncEngine *self = user_data;

  if (self->stopping)
    return G_SOURCE_REMOVE;

  self->loading++;
  fd_account_list_async (self->store, self->cancellable, list_cb, self);

  return G_SOURCE_REMOVE;
}

typedef struct
{
  FdSyncEngine *engine;
  gint64        account_id;
} SyncNowData;

static gboolean
engine_sync_now_cb (gpointer user_data)
{
  SyncNowData *data = user_data;
  FdSyncEngine *self = data->engine;

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (data->account_id == 0 || fd_account_get_id (entry->account) == data->account_id)
        {
          entry_cancel_timeout (entry);
          entry_sync (entry);
        }
    }

  return G_SOURCE_REMOVE;
}

static void
engine_maybe_quit (FdSyncEngine *self)
{
  if (self->stopping && self->busy == 0 && self->loading == 0)
    g_main_loop_quit (self->loop);
}

static gboolean
engine_stop_cb (gpointer user_data)
{
  FdSyncEngine *self = user_data;

  self->stopping = TRUE;
  g_cancellable_cancel (self->cancellable);

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      entry_cancel_timeout (entry);
      if (entry->channel != NULL)
        fd_channel_stop_live (entry->channel);
    }

  engine_maybe_quit (self);
  return G_SOURCE_REMOVE;
}

static gpointer
engine_thread_main (gpointer user_data)
{
  FdSyncEngine *self = user_data;

  g_main_context_push_thread_default (self->context);

  engine_reload_cb (self);
  g_main_loop_run (self->loop);

  /* Channels (and their sessions and sockets) die on the thread they lived on. */
  g_ptr_array_set_size (self->entries, 0);
  while (g_main_context_iteration (self->context, FALSE))
    ;

  g_main_context_pop_thread_default (self->context);

  return NULL;
}

static void
fd_sync_engine_dispose (GObject *object)
{
  FdSyncEngine *self = (FdSyncEngine *)object;

  fd_sync_engine_stop (self);

  G_OBJECT_CLASS (fd_sync_engine_parent_class)->dispose (object);
}

static void
fd_sync_engine_finalize (GObject *object)
{
  FdSyncEngine *self = (FdSyncEngine *)object;

  g_clear_object (&self->store);
  g_clear_object (&self->states);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->owner_context, g_main_context_unref);

  G_OBJECT_CLASS (fd_sync_engine_parent_class)->finalize (object);
}

static void
fd_sync_engine_class_init (FdSyncEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fd_sync_engine_dispose;
  object_class->finalize = fd_sync_engine_finalize;
}

static void
fd_sync_engine_init (FdSyncEngine *self)
{
  self->interval = 120;
  self->factory = fd_channel_new_for_account;
  self->states = g_list_store_new (FD_TYPE_ACCOUNT_STATE);
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->owner_context = g_main_context_ref_thread_default ();
}

FdSyncEngine *
fd_sync_engine_new (FdStore *store)
{
  FdSyncEngine *self;

  g_return_val_if_fail (FD_IS_STORE (store), NULL);

  self = g_object_new (FD_TYPE_SYNC_ENGINE, NULL);
  self->store = g_object_ref (store);

  return self;
}

void
fd_sync_engine_set_channel_factory (FdSyncEngine     *self,
                                    FdChannelFactory  factory,
                                    gpointer          user_data)
{
  g_return_if_fail (FD_IS_SYNC_ENGINE (self));
  g_return_if_fail (self->thread == NULL);

  self->factory = factory != NULL ? factory : fd_channel_new_for_account;
  self->factory_data = user_data;
}

void
fd_sync_engine_set_interval (FdSyncEngine *self,
                             guint         seconds)
{
  g_return_if_fail (FD_IS_SYNC_ENGINE (self));
  g_return_if_fail (self->thread == NULL);

  self->interval = MAX (seconds, 1);
}

void
fd_sync_engine_start (FdSyncEngine *self)
{
  g_return_if_fail (FD_IS_SYNC_ENGINE (self));

  if (self->thread != NULL || self->stopping)
    return;

  self->thread = g_thread_new ("fd-sync-engine", engine_thread_main, self);
}

void
fd_sync_engine_stop (FdSyncEngine *self)
{
  g_return_if_fail (FD_IS_SYNC_ENGINE (self));

  if (self->thread == NULL)
    return;

  g_main_context_invoke (self->context, engine_stop_cb, self);
  g_thread_join (g_steal_pointer (&self->thread));

  /* Snapshots published while stopping are still queued on the owner's context. */
  while (g_main_context_pending (self->owner_context) &&
         g_main_context_acquire (self->owner_context))
    {
      g_main_context_iteration (self->owner_context, FALSE);
      g_main_context_release (self->owner_context);
    }
}

void
fd_sync_engine_reload_accounts (FdSyncEngine *self)
{
  g_return_if_fail (FD_IS_SYNC_ENGINE (self));

  if (self->thread != NULL)
    g_main_context_invoke (self->context, engine_reload_cb, self);
}

void
fd_sync_engine_sync_now (FdSyncEngine *self,
                         gint64        account_id)
{
  SyncNowData *data;

  g_return_if_fail (FD_IS_SYNC_ENGINE (self));

  if (self->thread == NULL)
    return;

  data = g_new0 (SyncNowData, 1);
  data->engine = self;
  data->account_id = account_id;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, engine_sync_now_cb, data, g_free);
}

void
fd_sync_engine_flush_outbox (FdSyncEngine *self)
{
  /* A sync round sends the outbox after fetching; sending first would be quicker, but
   * keeping one path keeps the order of actions and fetched pages simple. */
  fd_sync_engine_sync_now (self, 0);
}

GListModel *
fd_sync_engine_get_accounts (FdSyncEngine *self)
{
  g_return_val_if_fail (FD_IS_SYNC_ENGINE (self), NULL);

  return G_LIST_MODEL (self->states);
}
