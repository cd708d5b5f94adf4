/* fd-stripe-client.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-stripe-client"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>

#include "fd-http.h"
#include "fd-log.h"
#include "fd-stripe-client.h"
#include "fd-stripe-error.h"

#define FD_STRIPE_FILES_BASE_URL "https://files.stripe.com"
#define PAGE_LIMIT "100"

G_DEFINE_QUARK (fd-stripe-error-quark, fd_stripe_error)

/* {{{ Keys */

static gboolean
is_key_body (const char *text)
{
  if (*text == '\0')
    return FALSE;

  for (; *text != '\0'; text++)
    {
      if (!g_ascii_isalnum (*text) && *text != '_')
        return FALSE;
    }

  return TRUE;
}

FdStripeKeyKind
fd_stripe_key_kind (const char   *key,
                    FdStripeMode *mode)
{
  static const struct
  {
    const char      *prefix;
    FdStripeKeyKind  kind;
    FdStripeMode     mode;
  } prefixes[] = {
    { "sk_test_", FD_STRIPE_KEY_SECRET, FD_STRIPE_MODE_TEST },
    { "sk_live_", FD_STRIPE_KEY_SECRET, FD_STRIPE_MODE_LIVE },
    { "rk_test_", FD_STRIPE_KEY_RESTRICTED, FD_STRIPE_MODE_TEST },
    { "rk_live_", FD_STRIPE_KEY_RESTRICTED, FD_STRIPE_MODE_LIVE },
  };

  if (mode != NULL)
    *mode = FD_STRIPE_MODE_UNKNOWN;

  if (key == NULL)
    return FD_STRIPE_KEY_INVALID;

  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      if (g_str_has_prefix (key, prefixes[i].prefix) &&
          is_key_body (key + strlen (prefixes[i].prefix)))
        {
          if (mode != NULL)
            *mode = prefixes[i].mode;
          return prefixes[i].kind;
        }
    }

  return FD_STRIPE_KEY_INVALID;
}

/* }}} */
/* {{{ Failures */

void
fd_stripe_failure_free (FdStripeFailure *failure)
{
  if (failure == NULL)
    return;

  g_free (failure->type);
  g_free (failure->code);
  g_free (failure->decline_code);
  g_free (failure->advice_code);
  g_free (failure->param);
  g_free (failure->message);
  g_free (failure->request_id);
  g_free (failure);
}

/* }}} */
/* {{{ Parameters */

struct _FdStripeParams
{
  GPtrArray *names;
  GPtrArray *values;
};

FdStripeParams *
fd_stripe_params_new (void)
{
  FdStripeParams *params = g_new0 (FdStripeParams, 1);

  params->names = g_ptr_array_new_with_free_func (g_free);
  params->values = g_ptr_array_new_with_free_func (g_free);

  return params;
}

FdStripeParams *
fd_stripe_params_copy (const FdStripeParams *params)
{
  FdStripeParams *copy;

  g_return_val_if_fail (params != NULL, NULL);

  copy = fd_stripe_params_new ();
  for (guint i = 0; i < params->names->len; i++)
    fd_stripe_params_add (copy,
                          g_ptr_array_index (params->names, i),
                          g_ptr_array_index (params->values, i));

  return copy;
}

void
fd_stripe_params_free (FdStripeParams *params)
{
  if (params == NULL)
    return;

  g_ptr_array_unref (params->names);
  g_ptr_array_unref (params->values);
  g_free (params);
}

void
fd_stripe_params_add (FdStripeParams *params,
                      const char     *name,
                      const char     *value)
{
  g_return_if_fail (params != NULL);
  g_return_if_fail (name != NULL && *name != '\0');

  /* An empty value is how Stripe is told to clear a field, so NULL means "". */
  g_ptr_array_add (params->names, g_strdup (name));
  g_ptr_array_add (params->values, g_strdup (value != NULL ? value : ""));
}

void
fd_stripe_params_add_int (FdStripeParams *params,
                          const char     *name,
                          gint64          value)
{
  char buffer[32];

  g_return_if_fail (params != NULL);

  g_snprintf (buffer, sizeof buffer, "%" G_GINT64_FORMAT, value);
  fd_stripe_params_add (params, name, buffer);
}

void
fd_stripe_params_add_expand (FdStripeParams *params,
                             const char     *field)
{
  g_return_if_fail (params != NULL);
  g_return_if_fail (field != NULL && *field != '\0');

  fd_stripe_params_add (params, "expand[]", field);
}

guint
fd_stripe_params_get_length (const FdStripeParams *params)
{
  g_return_val_if_fail (params != NULL, 0);

  return params->names->len;
}

const char *
fd_stripe_params_get_name (const FdStripeParams *params,
                           guint                 index)
{
  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (index < params->names->len, NULL);

  return g_ptr_array_index (params->names, index);
}

const char *
fd_stripe_params_get_value (const FdStripeParams *params,
                            guint                 index)
{
  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (index < params->values->len, NULL);

  return g_ptr_array_index (params->values, index);
}

const char *
fd_stripe_params_lookup (const FdStripeParams *params,
                         const char           *name)
{
  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < params->names->len; i++)
    {
      if (g_str_equal (g_ptr_array_index (params->names, i), name))
        return g_ptr_array_index (params->values, i);
    }

  return NULL;
}

char *
fd_stripe_params_to_json (const FdStripeParams *params)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (params != NULL, NULL);

  json_builder_begin_array (builder);
  for (guint i = 0; i < params->names->len; i++)
    {
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, g_ptr_array_index (params->names, i));
      json_builder_add_string_value (builder, g_ptr_array_index (params->values, i));
      json_builder_end_array (builder);
    }
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static gboolean
node_is_string (JsonNode *node)
{
  return node != NULL &&
         JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING;
}

FdStripeParams *
fd_stripe_params_from_json (const char  *json,
                            GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(FdStripeParams) params = NULL;
  JsonNode *root;
  JsonArray *array;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!json_parser_load_from_data (parser, json, -1, NULL))
    goto invalid;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    goto invalid;

  array = json_node_get_array (root);
  params = fd_stripe_params_new ();

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *pair = json_array_get_element (array, i);
      JsonArray *items;

      if (!JSON_NODE_HOLDS_ARRAY (pair))
        goto invalid;

      items = json_node_get_array (pair);
      if (json_array_get_length (items) != 2 ||
          !node_is_string (json_array_get_element (items, 0)) ||
          !node_is_string (json_array_get_element (items, 1)) ||
          *json_array_get_string_element (items, 0) == '\0')
        goto invalid;

      fd_stripe_params_add (params,
                            json_array_get_string_element (items, 0),
                            json_array_get_string_element (items, 1));
    }

  return g_steal_pointer (&params);

invalid:
  g_set_error_literal (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                       _("The saved Stripe request could not be read, so it was not sent."));
  return NULL;
}

static void
append_encoded (GString    *string,
                const char *name,
                const char *value)
{
  g_autofree char *escaped_name = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *escaped_value = g_uri_escape_string (value, NULL, FALSE);

  if (string->len > 0)
    g_string_append_c (string, '&');
  g_string_append_printf (string, "%s=%s", escaped_name, escaped_value);
}

char *
fd_stripe_params_encode (const FdStripeParams *params)
{
  GString *string;

  g_return_val_if_fail (params != NULL, NULL);

  string = g_string_new (NULL);
  for (guint i = 0; i < params->names->len; i++)
    append_encoded (string,
                    g_ptr_array_index (params->names, i),
                    g_ptr_array_index (params->values, i));

  return g_string_free (string, FALSE);
}

/* }}} */
/* {{{ JSON helpers */

const char *
fd_stripe_get_string (JsonObject *object,
                      const char *member)
{
  JsonNode *node;

  g_return_val_if_fail (member != NULL, NULL);

  if (object == NULL)
    return NULL;

  node = json_object_get_member (object, member);
  return node_is_string (node) ? json_node_get_string (node) : NULL;
}

gint64
fd_stripe_get_int (JsonObject *object,
                   const char *member,
                   gint64      fallback)
{
  JsonNode *node;

  g_return_val_if_fail (member != NULL, fallback);

  if (object == NULL)
    return fallback;

  node = json_object_get_member (object, member);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return fallback;

  /* Amounts are integers; a double or a boolean here is not Stripe's shape. */
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);

  return fallback;
}

gboolean
fd_stripe_get_bool (JsonObject *object,
                    const char *member)
{
  JsonNode *node;

  g_return_val_if_fail (member != NULL, FALSE);

  if (object == NULL)
    return FALSE;

  node = json_object_get_member (object, member);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return FALSE;

  return json_node_get_boolean (node);
}

JsonObject *
fd_stripe_get_object (JsonObject *object,
                      const char *member)
{
  JsonNode *node;

  g_return_val_if_fail (member != NULL, NULL);

  if (object == NULL)
    return NULL;

  node = json_object_get_member (object, member);
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

const char *
fd_stripe_get_id (JsonObject *object,
                  const char *member)
{
  JsonNode *node;

  g_return_val_if_fail (member != NULL, NULL);

  if (object == NULL)
    return NULL;

  node = json_object_get_member (object, member);
  if (node_is_string (node))
    return json_node_get_string (node);
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    return fd_stripe_get_string (json_node_get_object (node), "id");

  return NULL;
}

JsonArray *
fd_stripe_get_list_data (JsonObject *object,
                         const char *member)
{
  JsonObject *list;
  JsonNode *node;

  g_return_val_if_fail (member != NULL, NULL);

  list = fd_stripe_get_object (object, member);
  if (list == NULL)
    return NULL;

  node = json_object_get_member (list, "data");
  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* }}} */
/* {{{ The client */

struct _FdStripeClient
{
  GObject              parent_instance;

  char                *base_url;
  FdStripeKeyKind      key_kind;
  FdStripeMode         mode;
  FdHttpClient        *http;
  /* Where files are uploaded: files.stripe.com for Stripe itself, else @http. */
  FdHttpClient        *files_http;

  guint                last_attempts;

  gboolean             probed;
  FdStripePermissions  permissions;
  GPtrArray           *probe_waiters;  /* of GTask, while a probe runs */
};

G_DEFINE_FINAL_TYPE (FdStripeClient, fd_stripe_client, G_TYPE_OBJECT)

static void
fd_stripe_client_finalize (GObject *object)
{
  FdStripeClient *self = (FdStripeClient *)object;

  g_assert (self->probe_waiters == NULL);

  g_clear_pointer (&self->base_url, g_free);
  g_clear_object (&self->http);
  g_clear_object (&self->files_http);

  G_OBJECT_CLASS (fd_stripe_client_parent_class)->finalize (object);
}

static void
fd_stripe_client_class_init (FdStripeClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_stripe_client_finalize;
}

static void
fd_stripe_client_init (FdStripeClient *self)
{
}

static FdHttpClient *
make_http_client (const char *base_url,
                  const char *api_key)
{
  FdHttpClient *http = fd_http_client_new ("Stripe", base_url);
  g_autofree char *bearer = g_strdup_printf ("Bearer %s", api_key);

  fd_http_client_set_header (http, "Authorization", bearer, TRUE);
  fd_http_client_set_header (http, "Stripe-Version", FD_STRIPE_API_VERSION, FALSE);
  fd_http_client_set_retry (http, 4, 500, 8000);

  return http;
}

FdStripeClient *
fd_stripe_client_new (const char *base_url,
                      const char *api_key)
{
  FdStripeClient *self;
  gsize len;

  g_return_val_if_fail (base_url != NULL, NULL);
  g_return_val_if_fail (api_key != NULL, NULL);

  /* Registered before anything else can print it. */
  fd_log_register_secret (api_key);

  self = g_object_new (FD_TYPE_STRIPE_CLIENT, NULL);
  self->base_url = g_strdup (base_url);
  len = strlen (self->base_url);
  while (len > 0 && self->base_url[len - 1] == '/')
    self->base_url[--len] = '\0';

  self->key_kind = fd_stripe_key_kind (api_key, &self->mode);
  self->http = make_http_client (self->base_url, api_key);

  if (g_str_equal (self->base_url, FD_STRIPE_DEFAULT_BASE_URL))
    self->files_http = make_http_client (FD_STRIPE_FILES_BASE_URL, api_key);
  else
    self->files_http = g_object_ref (self->http);

  return self;
}

FdStripeKeyKind
fd_stripe_client_get_key_kind (FdStripeClient *self)
{
  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), FD_STRIPE_KEY_INVALID);

  return self->key_kind;
}

FdStripeMode
fd_stripe_client_get_mode (FdStripeClient *self)
{
  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), FD_STRIPE_MODE_UNKNOWN);

  return self->mode;
}

const char *
fd_stripe_client_get_base_url (FdStripeClient *self)
{
  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), NULL);

  return self->base_url;
}

void
fd_stripe_client_set_retry (FdStripeClient *self,
                            guint           max_attempts,
                            guint           base_delay_ms,
                            guint           max_delay_ms)
{
  g_return_if_fail (FD_IS_STRIPE_CLIENT (self));
  g_return_if_fail (max_attempts >= 1);

  fd_http_client_set_retry (self->http, max_attempts, base_delay_ms, max_delay_ms);
  if (self->files_http != self->http)
    fd_http_client_set_retry (self->files_http, max_attempts, base_delay_ms, max_delay_ms);
}

guint
fd_stripe_client_get_last_attempts (FdStripeClient *self)
{
  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), 0);

  return self->last_attempts;
}

/* }}} */
/* {{{ Requests */

typedef struct
{
  char            *method;
  char            *path;
  gboolean         is_write;
  FdHttpClient    *http;
  char            *request_id;
  FdStripeFailure *failure;
} RequestData;

static void
request_data_free (RequestData *data)
{
  g_free (data->method);
  g_free (data->path);
  g_clear_object (&data->http);
  g_free (data->request_id);
  fd_stripe_failure_free (data->failure);
  g_free (data);
}

static char *
dup_redacted (const char *text)
{
  return text != NULL ? fd_log_redact (text) : NULL;
}

/* "read customers", "change refunds": what a 403 says the key may not do. */
static char *
describe_permission (const char *method,
                     const char *path)
{
  const char *resource = g_str_has_prefix (path, "/v1/") ? path + 4 : path;
  gsize len = strcspn (resource, "/?");
  g_autofree char *name = g_strndup (resource, len);

  g_strdelimit (name, "_", ' ');
  if (*name == '\0')
    return g_strdup (_("do this"));

  if (g_str_equal (method, "GET"))
    return g_strdup_printf (_("read %s"), name);
  else
    return g_strdup_printf (_("change %s"), name);
}

/* Builds the plain-words error for an answer that was not 2xx. */
static GError *
error_from_response (RequestData          *data,
                     const FdHttpResponse *response)
{
  FdStripeFailure *failure = data->failure;
  JsonObject *root = NULL;
  JsonObject *error_object = NULL;
  guint status = response->status;

  if (response->json != NULL && JSON_NODE_HOLDS_OBJECT (response->json))
    root = json_node_get_object (response->json);
  error_object = fd_stripe_get_object (root, "error");

  failure->type = g_strdup (fd_stripe_get_string (error_object, "type"));
  failure->code = g_strdup (fd_stripe_get_string (error_object, "code"));
  failure->decline_code = g_strdup (fd_stripe_get_string (error_object, "decline_code"));
  failure->advice_code = g_strdup (fd_stripe_get_string (error_object, "advice_code"));
  failure->param = g_strdup (fd_stripe_get_string (error_object, "param"));
  /* Stripe's own words may quote what it was sent; they never carry a known secret. */
  failure->message = dup_redacted (fd_stripe_get_string (error_object, "message"));

  g_debug ("%s %s: HTTP %u, %s/%s (request %s)",
           data->method, data->path, status,
           failure->type != NULL ? failure->type : "-",
           failure->code != NULL ? failure->code : "-",
           failure->request_id != NULL ? failure->request_id : "-");

  if (status == 402 || g_strcmp0 (failure->type, "card_error") == 0)
    {
      FdStripeExplanation explanation = fd_stripe_explain_decline (failure->code,
                                                                   failure->decline_code,
                                                                   failure->advice_code);

      if (explanation.what != NULL && explanation.tell_customer != NULL)
        return g_error_new (FD_STRIPE_ERROR, FD_STRIPE_ERROR_CARD, "%s %s",
                            explanation.what, explanation.tell_customer);
      if (explanation.what != NULL)
        return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_CARD, explanation.what);
      return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_CARD,
                                  _("The card was declined. Ask the customer to use another "
                                    "card or contact their bank."));
    }

  if (g_strcmp0 (failure->type, "idempotency_error") == 0)
    return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_IDEMPOTENCY,
                                _("Stripe refused the request because an earlier request with "
                                  "the same key had different details. Nothing was changed; "
                                  "start the action again."));

  if (status == 401)
    return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_AUTHENTICATION,
                                _("Stripe did not accept the API key. It may be wrong or "
                                  "rolled; enter a current key in Preferences → Accounts."));

  if (status == 403)
    {
      g_autofree char *what = describe_permission (data->method, data->path);

      return g_error_new (FD_STRIPE_ERROR, FD_STRIPE_ERROR_PERMISSION,
                          _("This Stripe key is not allowed to %s. Give the restricted key "
                            "that permission in the Stripe Dashboard, or use another key."),
                          what);
    }

  if (status == 429)
    return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_RATE_LIMITED,
                                _("Stripe is receiving too many requests from this account. "
                                  "Wait a minute, then try again."));

  if (status >= 500)
    {
      if (data->is_write)
        return g_error_new (FD_STRIPE_ERROR, FD_STRIPE_ERROR_SERVER,
                            _("Stripe had a problem (HTTP %u) and it is not known whether the "
                              "change was made. Trying again later is safe: Stripe will do it "
                              "only once."),
                            status);
      return g_error_new (FD_STRIPE_ERROR, FD_STRIPE_ERROR_SERVER,
                          _("Stripe is having trouble right now (HTTP %u). Try again in a few "
                            "minutes."),
                          status);
    }

  if (failure->message != NULL)
    return g_error_new (FD_STRIPE_ERROR, FD_STRIPE_ERROR_INVALID_REQUEST,
                        _("Stripe refused the request: %s"), failure->message);

  return g_error_new (FD_STRIPE_ERROR, FD_STRIPE_ERROR_INVALID_REQUEST,
                      _("Stripe refused the request (HTTP %u). Nothing was changed."),
                      status);
}

static GError *
bad_response_error (RequestData *data)
{
  if (data->is_write)
    return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_BAD_RESPONSE,
                                _("Stripe sent an answer Frontdesk could not read, so it is not "
                                  "known whether the change was made. Trying again is safe: "
                                  "Stripe will do it only once."));

  return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_BAD_RESPONSE,
                              _("Stripe sent an answer Frontdesk could not read. Try again in "
                                "a moment."));
}

static GError *
network_error (RequestData *data)
{
  if (data->is_write)
    return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_NETWORK,
                                _("The connection to Stripe was lost before it answered, so it "
                                  "is not known whether the change was made. Trying again is "
                                  "safe: Stripe will do it only once."));

  return g_error_new_literal (FD_STRIPE_ERROR, FD_STRIPE_ERROR_NETWORK,
                              _("Frontdesk could not reach Stripe. Check your connection, then "
                                "try again."));
}

static void
request_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  FdHttpClient *http = FD_HTTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  FdStripeClient *self = g_task_get_source_object (task);
  RequestData *data = g_task_get_task_data (task);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) http_error = NULL;
  const FdHttpResponse *failed;

  response = fd_http_client_send_finish (http, result, &http_error);
  self->last_attempts = fd_http_client_get_last_attempts (http);

  if (response != NULL)
    {
      data->request_id = g_strdup (soup_message_headers_get_one (response->headers, "Request-Id"));

      if (response->json != NULL && JSON_NODE_HOLDS_OBJECT (response->json))
        {
          g_task_return_pointer (task, json_object_ref (json_node_get_object (response->json)),
                                 (GDestroyNotify) json_object_unref);
          return;
        }

      data->failure = g_new0 (FdStripeFailure, 1);
      data->failure->http_status = response->status;
      data->failure->request_id = g_strdup (data->request_id);
      g_task_return_error (task, bad_response_error (data));
      return;
    }

  if (g_error_matches (http_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&http_error));
      return;
    }

  data->failure = g_new0 (FdStripeFailure, 1);
  failed = fd_http_client_get_failed_response (http, result);

  if (failed != NULL)
    {
      data->request_id = g_strdup (soup_message_headers_get_one (failed->headers, "Request-Id"));
      data->failure->http_status = failed->status;
      data->failure->request_id = g_strdup (data->request_id);
      g_task_return_error (task, error_from_response (data, failed));
      return;
    }

  g_debug ("%s %s: %s", data->method, data->path, http_error->message);

  if (g_error_matches (http_error, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE))
    g_task_return_error (task, bad_response_error (data));
  else if (g_error_matches (http_error, FD_HTTP_ERROR, FD_HTTP_ERROR_NETWORK) ||
           g_error_matches (http_error, FD_HTTP_ERROR, FD_HTTP_ERROR_TIMEOUT))
    g_task_return_error (task, network_error (data));
  else
    /* Nothing was sent: the address itself was not usable. */
    g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED, "%s",
                             http_error->message);
}

static GTask *
start_task (FdStripeClient      *self,
            const char          *method,
            const char          *path,
            gpointer             source_tag,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RequestData *data = g_new0 (RequestData, 1);

  g_task_set_source_tag (task, source_tag);
  data->method = g_strdup (method);
  data->path = g_strdup (path);
  data->is_write = !g_str_equal (method, "GET");
  g_task_set_task_data (task, data, (GDestroyNotify) request_data_free);

  return task;
}

static gboolean
refuse_unkeyed_write (GTask      *task,
                      const char *idempotency_key)
{
  RequestData *data = g_task_get_task_data (task);

  if (!data->is_write || (idempotency_key != NULL && *idempotency_key != '\0'))
    return FALSE;

  /* A write Stripe cannot deduplicate could be done twice by a retry: never send one. */
  data->failure = g_new0 (FdStripeFailure, 1);
  g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_REFUSED,
                           _("This change was not sent to Stripe because it had no "
                             "idempotency key. This is a bug in Frontdesk."));
  return TRUE;
}

static void
send_task (FdStripeClient *self,
           GTask          *task,
           FdHttpClient   *http,
           FdHttpRequest  *request)
{
  RequestData *data = g_task_get_task_data (task);

  data->http = g_object_ref (http);
  fd_http_client_send_async (http, request, g_task_get_cancellable (task), request_cb, task);
}

/* The request for @method and @path with @params in the query (GET) or a form body
 * (POST, and DELETE as Stripe's OpenAPI description declares it). */
static FdHttpRequest *
build_request (const char           *method,
               const char           *path,
               const FdStripeParams *params,
               const char           *idempotency_key)
{
  FdHttpRequest *request = fd_http_request_new (method, path);
  gboolean in_body = !g_str_equal (method, "GET");

  for (guint i = 0; params != NULL && i < params->names->len; i++)
    {
      const char *name = g_ptr_array_index (params->names, i);
      const char *value = g_ptr_array_index (params->values, i);

      if (in_body)
        fd_http_request_add_form (request, name, value);
      else
        fd_http_request_add_query (request, name, value);
    }

  if (idempotency_key != NULL && *idempotency_key != '\0')
    fd_http_request_add_header (request, "Idempotency-Key", idempotency_key);

  /* A GET is safe to repeat, and a write is because Stripe deduplicates on the key. */
  fd_http_request_set_retry_safe (request, TRUE);

  return request;
}

void
fd_stripe_client_request_async (FdStripeClient       *self,
                                const char           *method,
                                const char           *path,
                                const FdStripeParams *params,
                                const char           *idempotency_key,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_STRIPE_CLIENT (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (g_str_equal (method, "GET") ||
                    g_str_equal (method, "POST") ||
                    g_str_equal (method, "DELETE"));
  g_return_if_fail (path != NULL && g_str_has_prefix (path, "/v1/"));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = start_task (self, method, path, fd_stripe_client_request_async,
                     cancellable, callback, user_data);

  if (refuse_unkeyed_write (task, idempotency_key))
    {
      self->last_attempts = 0;
      return;
    }

  send_task (self, g_steal_pointer (&task), self->http,
             build_request (method, path, params, idempotency_key));
}

JsonObject *
fd_stripe_client_request_finish (FdStripeClient   *self,
                                 GAsyncResult     *result,
                                 char            **request_id,
                                 FdStripeFailure **failure,
                                 GError          **error)
{
  RequestData *data;

  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  data = g_task_get_task_data (G_TASK (result));

  if (request_id != NULL)
    *request_id = g_strdup (data->request_id);
  if (failure != NULL)
    *failure = g_steal_pointer (&data->failure);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */
/* {{{ Lists and searches */

typedef struct
{
  char           *path;
  FdStripeParams *params;
  char           *query;       /* NULL for a list */
  guint           max_items;
  JsonArray      *items;
  char           *cursor;      /* starting_after or page for the next request */
} PageData;

static void
page_data_free (PageData *data)
{
  g_free (data->path);
  fd_stripe_params_free (data->params);
  g_free (data->query);
  g_clear_pointer (&data->items, json_array_unref);
  g_free (data->cursor);
  g_free (data);
}

static void fetch_page (GTask *task);

static void
page_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  FdStripeClient *self = FD_STRIPE_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  PageData *data = g_task_get_task_data (task);
  g_autoptr(JsonObject) page = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *data_node;
  JsonArray *page_items;
  const char *last_id = NULL;
  gboolean more;

  page = fd_stripe_client_request_finish (self, result, NULL, NULL, &error);
  if (page == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data_node = json_object_get_member (page, "data");
  if (data_node == NULL || !JSON_NODE_HOLDS_ARRAY (data_node))
    {
      g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_BAD_RESPONSE,
                               _("Stripe sent a list Frontdesk could not read. Try again in "
                                 "a moment."));
      return;
    }

  page_items = json_node_get_array (data_node);
  for (guint i = 0; i < json_array_get_length (page_items); i++)
    {
      JsonNode *item = json_array_get_element (page_items, i);

      if (data->max_items > 0 && json_array_get_length (data->items) >= data->max_items)
        break;
      json_array_add_element (data->items, json_node_copy (item));
      if (JSON_NODE_HOLDS_OBJECT (item))
        last_id = fd_stripe_get_string (json_node_get_object (item), "id");
    }

  more = fd_stripe_get_bool (page, "has_more") &&
         json_array_get_length (page_items) > 0 &&
         (data->max_items == 0 || json_array_get_length (data->items) < data->max_items);

  g_clear_pointer (&data->cursor, g_free);
  if (more && data->query != NULL)
    data->cursor = g_strdup (fd_stripe_get_string (page, "next_page"));
  else if (more)
    data->cursor = g_strdup (last_id);

  if (data->cursor == NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&data->items),
                             (GDestroyNotify) json_array_unref);
      return;
    }

  fetch_page (g_steal_pointer (&task));
}

static void
fetch_page (GTask *task)
{
  FdStripeClient *self = g_task_get_source_object (task);
  PageData *data = g_task_get_task_data (task);
  g_autoptr(FdStripeParams) params = fd_stripe_params_new ();

  if (data->query != NULL)
    fd_stripe_params_add (params, "query", data->query);
  for (guint i = 0; i < data->params->names->len; i++)
    fd_stripe_params_add (params,
                          g_ptr_array_index (data->params->names, i),
                          g_ptr_array_index (data->params->values, i));
  if (fd_stripe_params_lookup (params, "limit") == NULL)
    fd_stripe_params_add (params, "limit", PAGE_LIMIT);
  if (data->cursor != NULL)
    fd_stripe_params_add (params, data->query != NULL ? "page" : "starting_after", data->cursor);

  fd_stripe_client_request_async (self, "GET", data->path, params, NULL,
                                  g_task_get_cancellable (task), page_cb, task);
}

static void
start_pages (FdStripeClient       *self,
             const char           *path,
             const char           *query,
             const FdStripeParams *params,
             guint                 max_items,
             gpointer              source_tag,
             GCancellable         *cancellable,
             GAsyncReadyCallback   callback,
             gpointer              user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  PageData *data = g_new0 (PageData, 1);

  g_task_set_source_tag (task, source_tag);
  data->path = g_strdup (path);
  data->params = params != NULL ? fd_stripe_params_copy (params) : fd_stripe_params_new ();
  data->query = g_strdup (query);
  data->max_items = max_items;
  data->items = json_array_new ();
  g_task_set_task_data (task, data, (GDestroyNotify) page_data_free);

  fetch_page (task);
}

void
fd_stripe_client_list_async (FdStripeClient       *self,
                             const char           *path,
                             const FdStripeParams *params,
                             guint                 max_items,
                             GCancellable         *cancellable,
                             GAsyncReadyCallback   callback,
                             gpointer              user_data)
{
  g_return_if_fail (FD_IS_STRIPE_CLIENT (self));
  g_return_if_fail (path != NULL && g_str_has_prefix (path, "/v1/"));

  start_pages (self, path, NULL, params, max_items, fd_stripe_client_list_async,
               cancellable, callback, user_data);
}

JsonArray *
fd_stripe_client_list_finish (FdStripeClient  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
fd_stripe_client_search_async (FdStripeClient       *self,
                               const char           *path,
                               const char           *query,
                               const FdStripeParams *params,
                               guint                 max_items,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data)
{
  g_return_if_fail (FD_IS_STRIPE_CLIENT (self));
  g_return_if_fail (path != NULL && g_str_has_prefix (path, "/v1/"));
  g_return_if_fail (query != NULL);

  start_pages (self, path, query, params, max_items, fd_stripe_client_search_async,
               cancellable, callback, user_data);
}

JsonArray *
fd_stripe_client_search_finish (FdStripeClient  *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */
/* {{{ Files */

void
fd_stripe_client_upload_async (FdStripeClient      *self,
                               const char          *purpose,
                               const char          *filename,
                               const char          *content_type,
                               GBytes              *contents,
                               const char          *idempotency_key,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(SoupMultipart) multipart = NULL;
  g_autoptr(SoupMessageHeaders) headers = NULL;
  g_autoptr(GBytes) body = NULL;
  FdHttpRequest *request;

  g_return_if_fail (FD_IS_STRIPE_CLIENT (self));
  g_return_if_fail (purpose != NULL);
  g_return_if_fail (filename != NULL);
  g_return_if_fail (contents != NULL);

  task = start_task (self, "POST", "/v1/files", fd_stripe_client_upload_async,
                     cancellable, callback, user_data);

  if (refuse_unkeyed_write (task, idempotency_key))
    {
      self->last_attempts = 0;
      return;
    }

  multipart = soup_multipart_new ("multipart/form-data");
  soup_multipart_append_form_string (multipart, "purpose", purpose);
  soup_multipart_append_form_file (multipart, "file", filename,
                                   content_type != NULL ? content_type : "application/octet-stream",
                                   contents);
  headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  soup_multipart_to_message (multipart, headers, &body);

  request = build_request ("POST", "/v1/files", NULL, idempotency_key);
  fd_http_request_set_body (request, soup_message_headers_get_one (headers, "Content-Type"), body);

  send_task (self, g_steal_pointer (&task), self->files_http, request);
}

JsonObject *
fd_stripe_client_upload_finish (FdStripeClient  *self,
                                GAsyncResult    *result,
                                char           **request_id,
                                GError         **error)
{
  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_stripe_client_upload_async, NULL);

  return fd_stripe_client_request_finish (self, result, request_id, NULL, error);
}

/* }}} */
/* {{{ Permissions */

/* A read allowed answers 200; a write allowed answers a missing parameter (400) or an
 * unknown id (404), so that a probe never creates or changes anything. */
static const struct
{
  const char          *method;
  const char          *path;
  FdStripePermissions  permission;
} probes[] = {
  { "GET", "/v1/customers?limit=1", FD_STRIPE_CAN_READ_CUSTOMERS },
  { "GET", "/v1/charges?limit=1", FD_STRIPE_CAN_READ_PAYMENTS },
  { "GET", "/v1/subscriptions?limit=1", FD_STRIPE_CAN_READ_BILLING },
  { "GET", "/v1/disputes?limit=1", FD_STRIPE_CAN_READ_DISPUTES },
  { "POST", "/v1/refunds", FD_STRIPE_CAN_WRITE_REFUNDS },
  { "POST", "/v1/subscriptions/sub_probe", FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS },
  /* Not POST /v1/invoices: with no parameter at all it may create an empty draft. */
  { "POST", "/v1/invoices/in_probe", FD_STRIPE_CAN_WRITE_INVOICES },
  { "POST", "/v1/credit_notes", FD_STRIPE_CAN_WRITE_CREDIT_NOTES },
  { "POST", "/v1/disputes/dp_probe", FD_STRIPE_CAN_WRITE_DISPUTES },
  { "POST", "/v1/files", FD_STRIPE_CAN_WRITE_FILES },
};

typedef struct
{
  guint                pending;
  FdStripePermissions  permissions;
  GError              *error;
} ProbeData;

static void
probe_data_free (ProbeData *data)
{
  g_clear_error (&data->error);
  g_free (data);
}

static void
probe_finish_waiters (FdStripeClient *self,
                      const GError   *error)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->probe_waiters);

  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    {
      GTask *waiter = g_ptr_array_index (waiters, i);

      if (error != NULL)
        g_task_return_error (waiter, g_error_copy (error));
      else
        g_task_return_int (waiter, self->permissions);
    }
}

static void
probe_step_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  FdStripeClient *self = FD_STRIPE_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);
  FdStripePermissions permission = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (result),
                                                                        "fd-probe-permission"));
  g_autoptr(JsonObject) object_answer = NULL;
  g_autoptr(GError) error = NULL;

  object_answer = fd_stripe_client_request_finish (self, result, NULL, NULL, &error);

  if (object_answer != NULL ||
      g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_INVALID_REQUEST) ||
      g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_IDEMPOTENCY) ||
      g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_CARD))
    data->permissions |= permission;
  else if (!g_error_matches (error, FD_STRIPE_ERROR, FD_STRIPE_ERROR_PERMISSION) &&
           data->error == NULL)
    data->error = g_steal_pointer (&error);

  if (--data->pending > 0)
    return;

  if (data->error != NULL)
    {
      g_task_return_error (task, g_error_copy (data->error));
      probe_finish_waiters (self, data->error);
      return;
    }

  self->probed = TRUE;
  self->permissions = data->permissions;
  g_task_return_int (task, self->permissions);
  probe_finish_waiters (self, NULL);
}

void
fd_stripe_client_probe_async (FdStripeClient      *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ProbeData *data;

  g_return_if_fail (FD_IS_STRIPE_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_stripe_client_probe_async);

  if (self->key_kind == FD_STRIPE_KEY_SECRET)
    {
      g_task_return_int (task, FD_STRIPE_CAN_ALL);
      return;
    }

  if (self->key_kind == FD_STRIPE_KEY_INVALID)
    {
      g_task_return_new_error (task, FD_STRIPE_ERROR, FD_STRIPE_ERROR_AUTHENTICATION,
                               _("This is not a Stripe secret or restricted key. Copy a key "
                                 "that starts with sk_ or rk_ from the Stripe Dashboard."));
      return;
    }

  if (self->probed)
    {
      g_task_return_int (task, self->permissions);
      return;
    }

  /* One probe at a time: a second caller waits for the first one's answer. */
  if (self->probe_waiters != NULL)
    {
      g_ptr_array_add (self->probe_waiters, g_steal_pointer (&task));
      return;
    }
  self->probe_waiters = g_ptr_array_new_with_free_func (g_object_unref);

  data = g_new0 (ProbeData, 1);
  data->pending = G_N_ELEMENTS (probes);
  g_task_set_task_data (task, data, (GDestroyNotify) probe_data_free);

  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    {
      g_autofree char *key = NULL;
      g_autoptr(GTask) step = NULL;
      FdHttpClient *http;

      if (g_str_equal (probes[i].method, "POST"))
        key = g_uuid_string_random ();

      step = start_task (self, probes[i].method, probes[i].path, fd_stripe_client_request_async,
                         cancellable, probe_step_cb, g_object_ref (task));
      g_object_set_data (G_OBJECT (step), "fd-probe-permission",
                         GUINT_TO_POINTER (probes[i].permission));
      http = g_str_equal (probes[i].path, "/v1/files") ? self->files_http : self->http;
      send_task (self, g_steal_pointer (&step), http,
                 build_request (probes[i].method, probes[i].path, NULL, key));
    }
}

FdStripePermissions
fd_stripe_client_probe_finish (FdStripeClient  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize permissions;

  g_return_val_if_fail (FD_IS_STRIPE_CLIENT (self), 0);
  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  permissions = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return 0;
    }

  return (FdStripePermissions) permissions;
}

/* }}} */
