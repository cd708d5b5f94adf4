/* fd-sandbox.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sandbox"

#include "config.h"

#include <string.h>

#include "fd-sandbox-private.h"
#include "fd-store-private.h"

/* One SoupServer, one SQLite connection, both used only from the server thread; the
 * fault list and the request log are shared with callers on other threads under
 * self->lock. Handlers are synchronous: SQLite answers in microseconds, and a SLOW fault
 * pauses the message and resumes it from a timeout instead of blocking the loop. */

static const FdSandboxService * const services[] = {
  &_fd_sandbox_intercom_service,
  &_fd_sandbox_slack_service,
  &_fd_sandbox_discourse_service,
  &_fd_sandbox_stripe_service,
};

static const char * const default_tokens[FD_SANDBOX_N_TOKENS] = {
  FD_SANDBOX_INTERCOM_TOKEN,
  FD_SANDBOX_SLACK_BOT_TOKEN,
  FD_SANDBOX_SLACK_APP_TOKEN,
  FD_SANDBOX_DISCOURSE_KEY,
  FD_SANDBOX_STRIPE_KEY,
  FD_SANDBOX_STRIPE_RESTRICTED_KEY,
};

static const char * const fault_names[] = {
  "rate_limit", "server_error", "unavailable", "slow", "truncate", "malformed", "drop",
};

static const char common_schema[] =
  "CREATE TABLE IF NOT EXISTS sandbox_meta ("
  "  key TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL"
  ");"
  /* A message as the service shows it when it was written through the API. */
  "CREATE TABLE IF NOT EXISTS sandbox_markup ("
  "  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
  "  content TEXT NOT NULL"
  ");";

typedef struct
{
  char               *prefix;
  FdSandboxFaultKind  kind;
  guint               remaining;  /* 0: until cleared */
  guint               param;
} Fault;

typedef struct
{
  FdSandbox              *self;
  SoupServerMessage      *msg;
  const FdSandboxService *service;
  char                   *path;
  GHashTable             *query;
  GSource                *source;
} Delayed;

enum {
  PROP_0,
  PROP_DB_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FdSandbox, fd_sandbox, G_TYPE_OBJECT)

G_DEFINE_QUARK (fd-sandbox-error-quark, fd_sandbox_error)

static void
fault_free (gpointer data)
{
  Fault *fault = data;

  g_free (fault->prefix);
  g_free (fault);
}

static void
delayed_free (gpointer data)
{
  Delayed *delayed = data;

  if (delayed->source != NULL)
    {
      g_source_destroy (delayed->source);
      g_source_unref (delayed->source);
    }
  g_object_unref (delayed->msg);
  g_free (delayed->path);
  g_clear_pointer (&delayed->query, g_hash_table_unref);
  g_free (delayed);
}

/* {{{ Database */

FdSandboxStmt *
_fd_sandbox_stmt (FdSandbox  *self,
                  const char *sql)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);

  if (stmt == NULL)
    {
      int rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);

      /* Every statement is ours: a failure is a bug, not a condition to handle. */
      if (rc != SQLITE_OK)
        g_error ("Sandbox SQL does not compile: %s\n%s", sqlite3_errmsg (self->db), sql);
      g_hash_table_insert (self->statements, g_strdup (sql), stmt);
    }

  return stmt;
}

gboolean
_fd_sandbox_exec (FdSandbox   *self,
                  const char  *sql,
                  GError     **error)
{
  return fd_store_exec (self->db, sql, error);
}

gboolean
_fd_sandbox_step_done (FdSandbox      *self,
                       FdSandboxStmt  *stmt,
                       GError        **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return fd_store_set_error (self->db, rc, error);
  return TRUE;
}

static gboolean
meta_get (FdSandbox  *self,
          const char *key,
          char      **value)
{
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT value FROM sandbox_meta WHERE key = ?");

  sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    return FALSE;
  if (value != NULL)
    *value = g_strdup ((const char *) sqlite3_column_text (s, 0));
  return TRUE;
}

static gboolean
meta_set (FdSandbox   *self,
          const char  *key,
          const char  *value,
          GError     **error)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "INSERT OR REPLACE INTO sandbox_meta (key, value) VALUES (?, ?)");

  sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, value, -1, SQLITE_STATIC);
  return _fd_sandbox_step_done (self, s, error);
}

static gboolean
open_database (FdSandbox  *self,
               GError    **error)
{
  int rc;

  if (self->db != NULL)
    return TRUE;

  rc = sqlite3_open_v2 (self->db_path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_FAILED,
                   "Could not open the sandbox database %s: %s", self->db_path,
                   self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      g_clear_pointer (&self->db, sqlite3_close);
      return FALSE;
    }
  sqlite3_busy_timeout (self->db, 5000);

  /* A first sync reads the whole file in conversation order: a large page cache and
   * memory-mapped reads keep the large data set (half a gigabyte) out of read(2). */
  if (!fd_store_exec (self->db, "PRAGMA journal_mode = WAL;"
                                "PRAGMA synchronous = NORMAL;"
                                "PRAGMA foreign_keys = ON;"
                                "PRAGMA cache_size = -131072;"
                                "PRAGMA mmap_size = 2147483648", error) ||
      !_fd_store_migrate (self->db, fd_store_schema_version (), error) ||
      !fd_store_exec (self->db, common_schema, error))
    goto fail;

  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    if (services[i]->schema != NULL && !fd_store_exec (self->db, services[i]->schema, error))
      goto fail;

  return TRUE;

fail:
  g_hash_table_remove_all (self->statements);
  g_clear_pointer (&self->db, sqlite3_close);
  return FALSE;
}

gboolean
fd_sandbox_seed (FdSandbox    *self,
                 guint32       seed,
                 FdDemoScale   scale,
                 GError      **error)
{
  gboolean seeded = FALSE;

  g_return_val_if_fail (FD_IS_SANDBOX (self), FALSE);
  g_return_val_if_fail (self->server == NULL && self->thread == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!open_database (self, error))
    return FALSE;

  if (!fd_demo_is_seeded (self->db, &seeded, error))
    return FALSE;

  if (!seeded)
    {
      FdDemoStats stats;
      g_autofree char *seed_text = g_strdup_printf ("%u", seed);

      if (!fd_demo_generate (self->db, seed, scale, _fd_sandbox_now_ms (), &stats, error))
        return FALSE;
      g_debug ("Seeded %u conversations, %u messages in %.2f s", stats.conversations,
               stats.messages, stats.elapsed_usec / 1e6);
      if (!meta_set (self, "seed", seed_text, error) ||
          !meta_set (self, "scale", scale == FD_DEMO_SCALE_LARGE ? "large"
                                    : scale == FD_DEMO_SCALE_SMALL ? "small" : "medium", error))
        return FALSE;
    }

  /* The services' own tables are derived once, from whatever the Frontdesk tables hold. */
  if (meta_get (self, "derived", NULL))
    return TRUE;

  if (!fd_store_begin (self->db, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    if (services[i]->seed != NULL && !services[i]->seed (self, error))
      goto rollback;
  if (!meta_set (self, "derived", "1", error) ||
      !fd_store_commit (self->db, error))
    goto rollback;

  self->intercom_total = -1;
  return TRUE;

rollback:
  fd_store_rollback (self->db);
  return FALSE;
}

/* }}} */
/* {{{ Faults and the request log */

gboolean
fd_sandbox_fault_kind_from_string (const char         *name,
                                   FdSandboxFaultKind *kind)
{
  g_return_val_if_fail (name != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (fault_names); i++)
    if (g_ascii_strcasecmp (name, fault_names[i]) == 0)
      {
        if (kind != NULL)
          *kind = (FdSandboxFaultKind) i;
        return TRUE;
      }
  return FALSE;
}

const char *
fd_sandbox_fault_kind_to_string (FdSandboxFaultKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (fault_names), NULL);

  return fault_names[kind];
}

void
fd_sandbox_add_fault (FdSandbox          *self,
                      const char         *path_prefix,
                      FdSandboxFaultKind  kind,
                      guint               count,
                      guint               param)
{
  Fault *fault;

  g_return_if_fail (FD_IS_SANDBOX (self));
  g_return_if_fail (path_prefix != NULL);
  g_return_if_fail ((guint) kind < G_N_ELEMENTS (fault_names));

  fault = g_new0 (Fault, 1);
  fault->prefix = g_strdup (path_prefix);
  fault->kind = kind;
  fault->remaining = count;
  fault->param = param;

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->faults, fault);
  g_mutex_unlock (&self->lock);
}

void
fd_sandbox_clear_faults (FdSandbox *self)
{
  g_return_if_fail (FD_IS_SANDBOX (self));

  g_mutex_lock (&self->lock);
  g_ptr_array_set_size (self->faults, 0);
  g_mutex_unlock (&self->lock);
}

gboolean
fd_sandbox_add_fault_from_string (FdSandbox   *self,
                                  const char  *spec,
                                  GError     **error)
{
  g_auto(GStrv) parts = NULL;
  FdSandboxFaultKind kind;
  guint64 count = 1, param = 0;
  guint n;

  g_return_val_if_fail (FD_IS_SANDBOX (self), FALSE);
  g_return_val_if_fail (spec != NULL, FALSE);

  parts = g_strsplit (spec, ":", 4);
  n = g_strv_length (parts);
  if (n < 2 || parts[0][0] != '/' || !fd_sandbox_fault_kind_from_string (parts[1], &kind) ||
      (n > 2 && !g_ascii_string_to_unsigned (parts[2], 10, 0, G_MAXUINT, &count, NULL)) ||
      (n > 3 && !g_ascii_string_to_unsigned (parts[3], 10, 0, G_MAXUINT, &param, NULL)))
    {
      g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                   "“%s” is not a fault. Write PREFIX:KIND[:COUNT[:PARAM]], for example "
                   "/intercom/conversations:rate_limit:1:2; the kinds are rate_limit, "
                   "server_error, unavailable, slow, truncate, malformed and drop.", spec);
      return FALSE;
    }

  fd_sandbox_add_fault (self, parts[0], kind, (guint) count, (guint) param);
  return TRUE;
}

static gboolean
take_fault (FdSandbox *self,
            const char *path,
            Fault      *out)
{
  gboolean found = FALSE;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->faults->len; i++)
    {
      Fault *fault = g_ptr_array_index (self->faults, i);

      if (!g_str_has_prefix (path, fault->prefix))
        continue;

      out->kind = fault->kind;
      out->param = fault->param;
      found = TRUE;
      if (fault->remaining > 0 && --fault->remaining == 0)
        g_ptr_array_remove_index (self->faults, i);
      break;
    }
  g_mutex_unlock (&self->lock);

  return found;
}

guint
fd_sandbox_get_request_count (FdSandbox  *self,
                              const char *path_prefix)
{
  guint count = 0;

  g_return_val_if_fail (FD_IS_SANDBOX (self), 0);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->requests->len; i++)
    if (path_prefix == NULL || g_str_has_prefix (g_ptr_array_index (self->requests, i), path_prefix))
      count++;
  g_mutex_unlock (&self->lock);

  return count;
}

void
fd_sandbox_set_ack_timeout (FdSandbox *self,
                            guint      msec)
{
  g_return_if_fail (FD_IS_SANDBOX (self));

  g_mutex_lock (&self->lock);
  self->ack_timeout_ms = MAX (msec, 10);
  g_mutex_unlock (&self->lock);
}

/* }}} */
/* {{{ Fault application */

/* Hands the raw connection back and writes @raw, if any, before closing it. */
static void
write_raw_and_close (SoupServerMessage *msg,
                     const char        *raw,
                     gsize              length)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);

  if (stream == NULL)
    return;
  if (raw != NULL && length > 0)
    g_output_stream_write_all (g_io_stream_get_output_stream (stream), raw, length,
                               NULL, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

static GBytes *
response_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  return soup_message_body_flatten (body);
}

/* The headers promise the whole body; half of it arrives before the connection closes. */
static void
truncate_response (SoupServerMessage *msg)
{
  g_autoptr(GBytes) body = response_body (msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  guint status = soup_server_message_get_status (msg);
  gsize length = g_bytes_get_size (body);
  g_autoptr(GString) raw = g_string_new (NULL);

  g_string_append_printf (raw, "HTTP/1.1 %u %s\r\n"
                               "Content-Type: %s\r\n"
                               "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                               "Connection: close\r\n"
                               "\r\n",
                          status ? status : 200, soup_status_get_phrase (status ? status : 200),
                          content_type ? content_type : "application/json",
                          MAX (length, 64));
  g_string_append_len (raw, g_bytes_get_data (body, NULL), length / 2);
  write_raw_and_close (msg, raw->str, raw->len);
}

static void
malform_response (SoupServerMessage *msg)
{
  g_autoptr(GBytes) body = response_body (msg);
  gsize length = g_bytes_get_size (body);
  g_autofree char *broken = NULL;

  /* The first half of a JSON document never parses: the brackets are not closed. */
  if (length >= 4)
    broken = g_strndup (g_bytes_get_data (body, NULL), length / 2);
  else
    broken = g_strdup ("{\"ok\": tr");

  _fd_sandbox_respond (msg, SOUP_STATUS_OK, "application/json", broken);
}

static gboolean
delayed_cb (gpointer data)
{
  Delayed *delayed = data;
  FdSandbox *self = delayed->self;

  delayed->service->handle (self, delayed->msg, delayed->path, delayed->query);
  soup_server_message_unpause (delayed->msg);
  g_clear_pointer (&delayed->source, g_source_unref);
  g_ptr_array_remove_fast (self->delayed, delayed);

  return G_SOURCE_REMOVE;
}

static void
apply_fault (FdSandbox              *self,
             SoupServerMessage      *msg,
             const FdSandboxService *service,
             const char             *path,
             GHashTable             *query,
             const Fault            *fault)
{
  g_autofree char *body = NULL;
  Delayed *delayed;
  guint retry_after;

  switch (fault->kind)
    {
    case FD_SANDBOX_FAULT_RATE_LIMIT:
      retry_after = fault->param > 0 ? fault->param : 1;
      body = service->fault_body (fault->kind, retry_after);
      {
        g_autofree char *value = g_strdup_printf ("%u", retry_after);
        soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                      "Retry-After", value);
      }
      _fd_sandbox_respond (msg, 429, "application/json", body);
      break;

    case FD_SANDBOX_FAULT_SERVER_ERROR:
      body = service->fault_body (fault->kind, fault->param);
      _fd_sandbox_respond (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "application/json", body);
      break;

    case FD_SANDBOX_FAULT_UNAVAILABLE:
      body = service->fault_body (fault->kind, fault->param);
      _fd_sandbox_respond (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "application/json", body);
      break;

    case FD_SANDBOX_FAULT_SLOW:
      delayed = g_new0 (Delayed, 1);
      delayed->self = self;
      delayed->msg = g_object_ref (msg);
      delayed->service = service;
      delayed->path = g_strdup (path);
      delayed->query = query != NULL ? g_hash_table_ref (query) : NULL;
      delayed->source = g_timeout_source_new (fault->param);
      g_source_set_callback (delayed->source, delayed_cb, delayed, NULL);
      g_source_attach (delayed->source, self->context);
      g_ptr_array_add (self->delayed, delayed);
      soup_server_message_pause (msg);
      break;

    case FD_SANDBOX_FAULT_TRUNCATE:
      service->handle (self, msg, path, query);
      truncate_response (msg);
      break;

    case FD_SANDBOX_FAULT_MALFORMED:
      service->handle (self, msg, path, query);
      malform_response (msg);
      break;

    case FD_SANDBOX_FAULT_DROP:
    default:
      write_raw_and_close (msg, NULL, 0);
      /* Nobody will read it; a status stops libsoup from going on with a WebSocket
       * handshake on the stolen connection. */
      soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
      break;
    }
}

/* }}} */
/* {{{ Control API */

static void
respond_ok (SoupServerMessage *msg)
{
  _fd_sandbox_respond (msg, SOUP_STATUS_OK, "application/json", "{\"ok\":true}");
}

static void
respond_control_error (SoupServerMessage *msg,
                       guint              status,
                       const char        *message)
{
  g_autoptr(FdJson) builder = _fd_json_new ();

  _fd_json_begin_object (builder);
  _fd_json_name (builder, "ok");
  _fd_json_add_bool (builder, FALSE);
  _fd_json_name (builder, "error");
  _fd_json_add_string (builder, message);
  _fd_json_end_object (builder);
  _fd_sandbox_respond_builder (msg, status, builder);
}

static void
control_add_fault (FdSandbox         *self,
                   SoupServerMessage *msg)
{
  g_autoptr(JsonNode) node = _fd_sandbox_read_json (msg);
  JsonObject *object = node ? json_node_get_object (node) : NULL;
  const char *prefix, *kind_name;
  FdSandboxFaultKind kind;

  if (object == NULL)
    {
      respond_control_error (msg, SOUP_STATUS_BAD_REQUEST, "Send a JSON object.");
      return;
    }

  prefix = json_object_get_string_member_with_default (object, "path_prefix", NULL);
  kind_name = json_object_get_string_member_with_default (object, "kind", NULL);
  if (prefix == NULL || prefix[0] != '/' || kind_name == NULL ||
      !fd_sandbox_fault_kind_from_string (kind_name, &kind))
    {
      respond_control_error (msg, SOUP_STATUS_BAD_REQUEST,
                             "path_prefix (starting with /) and kind (rate_limit, "
                             "server_error, unavailable, slow, truncate, malformed, drop) "
                             "are required.");
      return;
    }

  fd_sandbox_add_fault (self, prefix, kind,
                        (guint) json_object_get_int_member_with_default (object, "count", 1),
                        (guint) json_object_get_int_member_with_default (object, "param", 0));
  respond_ok (msg);
}

static void
control_incoming (FdSandbox         *self,
                  SoupServerMessage *msg)
{
  g_autoptr(JsonNode) node = _fd_sandbox_read_json (msg);
  g_autoptr(FdJson) builder = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object = node ? json_node_get_object (node) : NULL;
  const char *name;

  if (object == NULL ||
      (name = json_object_get_string_member_with_default (object, "service", NULL)) == NULL)
    {
      respond_control_error (msg, SOUP_STATUS_BAD_REQUEST,
                             "Send {\"service\": \"intercom\"|\"slack\"|\"discourse\", "
                             "\"conversation_external_id\": …|\"new\": true, \"body\": …}.");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    {
      if (!g_str_equal (services[i]->name, name) || services[i]->incoming == NULL)
        continue;

      builder = _fd_json_new ();
      _fd_json_begin_object (builder);
      _fd_json_name (builder, "ok");
      _fd_json_add_bool (builder, TRUE);
      _fd_json_name (builder, "service");
      _fd_json_add_string (builder, name);

      if (!fd_store_begin (self->db, &error))
        break;
      if (!services[i]->incoming (self, object, builder, &error))
        {
          fd_store_rollback (self->db);
          break;
        }
      if (!fd_store_commit (self->db, &error))
        {
          fd_store_rollback (self->db);
          break;
        }

      _fd_json_end_object (builder);
      _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, builder);
      return;
    }

  if (error != NULL)
    respond_control_error (msg, error->domain == FD_SANDBOX_ERROR
                                ? SOUP_STATUS_BAD_REQUEST : SOUP_STATUS_INTERNAL_SERVER_ERROR,
                           error->message);
  else
    respond_control_error (msg, SOUP_STATUS_BAD_REQUEST, "Unknown service.");
}

static void
control_info (FdSandbox         *self,
              SoupServerMessage *msg)
{
  g_autoptr(FdJson) builder = _fd_json_new ();

  _fd_json_begin_object (builder);
  _fd_json_name (builder, "base_url");
  _fd_json_add_string (builder, self->base_url);
  _fd_json_name (builder, "services");
  _fd_json_begin_object (builder);
  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    {
      g_autofree char *url = g_strconcat (self->base_url, services[i]->prefix,
                                          g_str_equal (services[i]->name, "slack") ? "/api" : "",
                                          NULL);
      _fd_json_name (builder, services[i]->name);
      _fd_json_add_string (builder, url);
    }
  _fd_json_end_object (builder);
  _fd_json_end_object (builder);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_control (FdSandbox         *self,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query)
{
  const char *method = soup_server_message_get_method (msg);

  if (g_str_equal (path, "/faults") && g_str_equal (method, "POST"))
    control_add_fault (self, msg);
  else if (g_str_equal (path, "/faults") && g_str_equal (method, "DELETE"))
    {
      fd_sandbox_clear_faults (self);
      respond_ok (msg);
    }
  else if (g_str_equal (path, "/requests") && g_str_equal (method, "GET"))
    {
      const char *prefix = query ? g_hash_table_lookup (query, "prefix") : NULL;
      g_autofree char *body = NULL;

      /* This request is in the log too; it should not count itself. */
      body = g_strdup_printf ("{\"count\":%u}",
                              fd_sandbox_get_request_count (self, prefix) -
                              (prefix == NULL || g_str_has_prefix ("/_control/requests", prefix)));
      _fd_sandbox_respond (msg, SOUP_STATUS_OK, "application/json", body);
    }
  else if (g_str_equal (path, "/incoming") && g_str_equal (method, "POST"))
    control_incoming (self, msg);
  else if (g_str_equal (path, "/slack/disconnect") && g_str_equal (method, "POST"))
    {
      _fd_sandbox_slack_disconnect (self);
      respond_ok (msg);
    }
  else if (g_str_equal (path, "/slack/ack-timeout") && g_str_equal (method, "POST"))
    {
      g_autoptr(JsonNode) node = _fd_sandbox_read_json (msg);
      JsonObject *object = node ? json_node_get_object (node) : NULL;

      if (object == NULL || !json_object_has_member (object, "ms"))
        {
          respond_control_error (msg, SOUP_STATUS_BAD_REQUEST, "Send {\"ms\": N}.");
          return;
        }
      fd_sandbox_set_ack_timeout (self, (guint) json_object_get_int_member (object, "ms"));
      respond_ok (msg);
    }
  else if (g_str_equal (path, "/info") && g_str_equal (method, "GET"))
    control_info (self, msg);
  else
    respond_control_error (msg, SOUP_STATUS_NOT_FOUND, "No such control endpoint.");
}

/* }}} */
/* {{{ Server */

static gboolean
has_path_prefix (const char  *path,
                 const char  *prefix,
                 const char **rest)
{
  gsize len = strlen (prefix);

  if (strncmp (path, prefix, len) != 0 || (path[len] != '\0' && path[len] != '/'))
    return FALSE;
  *rest = path + len;
  return TRUE;
}

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  FdSandbox *self = user_data;
  const FdSandboxService *service = NULL;
  const char *rest = NULL;
  Fault fault;

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->requests, g_strdup (path));
  g_mutex_unlock (&self->lock);

  if (has_path_prefix (path, "/_control", &rest))
    {
      handle_control (self, msg, rest, query);
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (services) && service == NULL; i++)
    if (has_path_prefix (path, services[i]->prefix, &rest))
      service = services[i];

  if (service == NULL)
    {
      _fd_sandbox_respond (msg, SOUP_STATUS_NOT_FOUND, "application/json",
                           "{\"error\":\"not_found\",\"message\":\"The sandbox serves "
                           "/intercom, /slack/api, /discourse, /stripe and /_control.\"}");
      return;
    }

  if (!take_fault (self, path, &fault))
    {
      service->handle (self, msg, rest, query);
      return;
    }

  /* A WebSocket handshake can only be refused or dropped, not delayed or mangled. */
  if (soup_message_headers_header_contains (soup_server_message_get_request_headers (msg),
                                            "Upgrade", "websocket") &&
      (fault.kind == FD_SANDBOX_FAULT_SLOW || fault.kind == FD_SANDBOX_FAULT_TRUNCATE ||
       fault.kind == FD_SANDBOX_FAULT_MALFORMED))
    {
      service->handle (self, msg, rest, query);
      return;
    }

  g_debug ("Fault %s on %s", fault_names[fault.kind], path);
  apply_fault (self, msg, service, rest, query, &fault);
}

gboolean
fd_sandbox_listen (FdSandbox  *self,
                   guint       port,
                   GError    **error)
{
  g_autoptr(SoupServer) server = NULL;
  GSList *uris;

  g_return_val_if_fail (FD_IS_SANDBOX (self), FALSE);
  g_return_val_if_fail (self->server == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!open_database (self, error))
    return FALSE;

  server = soup_server_new ("server-header", "frontdesk-sandbox", NULL);
  soup_server_add_handler (server, NULL, server_cb, self, NULL);
  soup_server_add_handler (server, "/slack/socket", server_cb, self, NULL);
  _fd_sandbox_slack_setup_socket (self, server);

  if (!soup_server_listen_local (server, port, SOUP_SERVER_LISTEN_IPV4_ONLY, error))
    return FALSE;

  uris = soup_server_get_uris (server);
  g_assert (uris != NULL);
  self->port = (guint) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_free (self->base_url);
  self->base_url = g_strdup_printf ("http://127.0.0.1:%u", self->port);
  self->context = g_main_context_ref_thread_default ();
  self->server = g_steal_pointer (&server);

  return TRUE;
}

guint
fd_sandbox_get_port (FdSandbox *self)
{
  g_return_val_if_fail (FD_IS_SANDBOX (self), 0);

  return self->port;
}

const char *
fd_sandbox_get_base_url (FdSandbox *self)
{
  g_return_val_if_fail (FD_IS_SANDBOX (self), NULL);

  return self->base_url;
}

/* Server thread. */
static void
shutdown_server (FdSandbox *self)
{
  if (self->server == NULL)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    if (services[i]->shutdown != NULL)
      services[i]->shutdown (self);
  g_ptr_array_set_size (self->delayed, 0);

  soup_server_disconnect (self->server);
  g_clear_object (&self->server);

  /* Let the closed connections finish on the context they belong to. */
  while (g_main_context_iteration (self->context, FALSE))
    ;
  g_clear_pointer (&self->context, g_main_context_unref);
}

static gpointer
thread_main (gpointer data)
{
  FdSandbox *self = data;
  GMainContext *context = g_main_context_new ();
  GError *error = NULL;
  gboolean ok;

  g_main_context_push_thread_default (context);

  ok = fd_sandbox_listen (self, self->thread_port, &error);

  g_mutex_lock (&self->lock);
  if (ok)
    self->loop = g_main_loop_new (context, FALSE);
  self->thread_error = error;
  self->thread_ready = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);

  if (ok)
    g_main_loop_run (self->loop);

  shutdown_server (self);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return NULL;
}

gboolean
fd_sandbox_run_in_thread (FdSandbox  *self,
                          guint       port,
                          GError    **error)
{
  g_return_val_if_fail (FD_IS_SANDBOX (self), FALSE);
  g_return_val_if_fail (self->thread == NULL && self->server == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  self->thread_port = port;
  self->thread_ready = FALSE;
  self->thread = g_thread_new ("fd-sandbox", thread_main, self);

  g_mutex_lock (&self->lock);
  while (!self->thread_ready)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);

  if (self->thread_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->thread_error));
      g_thread_join (g_steal_pointer (&self->thread));
      return FALSE;
    }

  return TRUE;
}

static gboolean
quit_cb (gpointer data)
{
  FdSandbox *self = data;

  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

void
fd_sandbox_stop (FdSandbox *self)
{
  g_return_if_fail (FD_IS_SANDBOX (self));

  if (self->thread != NULL)
    {
      /* An idle, not g_main_loop_quit() from here: a quit that lands before the loop
       * starts running would be lost. */
      GSource *source = g_idle_source_new ();

      g_source_set_callback (source, quit_cb, self, NULL);
      g_source_attach (source, self->context);
      g_source_unref (source);
      g_thread_join (g_steal_pointer (&self->thread));
      return;
    }

  shutdown_server (self);
}

/* }}} */
/* {{{ Tokens */

void
fd_sandbox_set_token (FdSandbox      *self,
                      FdSandboxToken  token,
                      const char     *value)
{
  g_return_if_fail (FD_IS_SANDBOX (self));
  g_return_if_fail ((guint) token < FD_SANDBOX_N_TOKENS);

  g_free (self->tokens[token]);
  self->tokens[token] = g_strdup (value != NULL ? value : default_tokens[token]);
}

const char *
fd_sandbox_get_token (FdSandbox      *self,
                      FdSandboxToken  token)
{
  g_return_val_if_fail (FD_IS_SANDBOX (self), NULL);
  g_return_val_if_fail ((guint) token < FD_SANDBOX_N_TOKENS, NULL);

  return self->tokens[token];
}

/* }}} */
/* {{{ GObject */

static void
fd_sandbox_finalize (GObject *object)
{
  FdSandbox *self = (FdSandbox *) object;

  fd_sandbox_stop (self);

  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->db, sqlite3_close);
  g_free (self->db_path);
  g_free (self->base_url);
  for (guint i = 0; i < FD_SANDBOX_N_TOKENS; i++)
    g_free (self->tokens[i]);
  g_clear_pointer (&self->faults, g_ptr_array_unref);
  g_clear_pointer (&self->requests, g_ptr_array_unref);
  g_clear_pointer (&self->delayed, g_ptr_array_unref);
  g_clear_pointer (&self->sockets, g_ptr_array_unref);
  g_clear_pointer (&self->tickets, g_hash_table_unref);
  g_clear_pointer (&self->envelopes, g_ptr_array_unref);
  g_clear_error (&self->thread_error);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (fd_sandbox_parent_class)->finalize (object);
}

static void
fd_sandbox_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  FdSandbox *self = FD_SANDBOX (object);

  switch (prop_id)
    {
    case PROP_DB_PATH:
      g_value_set_string (value, self->db_path);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_sandbox_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  FdSandbox *self = FD_SANDBOX (object);

  switch (prop_id)
    {
    case PROP_DB_PATH:
      self->db_path = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_sandbox_class_init (FdSandboxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_sandbox_finalize;
  object_class->get_property = fd_sandbox_get_property;
  object_class->set_property = fd_sandbox_set_property;

  properties[PROP_DB_PATH] =
    g_param_spec_string ("db-path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fd_sandbox_init (FdSandbox *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) sqlite3_finalize);
  self->faults = g_ptr_array_new_with_free_func (fault_free);
  self->requests = g_ptr_array_new_with_free_func (g_free);
  self->delayed = g_ptr_array_new_with_free_func (delayed_free);
  self->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  self->tickets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->envelopes = g_ptr_array_new ();
  self->ack_timeout_ms = 3000;
  self->intercom_total = -1;

  for (guint i = 0; i < FD_SANDBOX_N_TOKENS; i++)
    self->tokens[i] = g_strdup (default_tokens[i]);
}

FdSandbox *
fd_sandbox_new (const char *db_path)
{
  g_return_val_if_fail (db_path != NULL, NULL);

  return g_object_new (FD_TYPE_SANDBOX, "db-path", db_path, NULL);
}

const char *
fd_sandbox_get_db_path (FdSandbox *self)
{
  g_return_val_if_fail (FD_IS_SANDBOX (self), NULL);

  return self->db_path;
}

/* }}} */
