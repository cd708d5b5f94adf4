/* fd-http.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define FD_HTTP_ERROR (fd_http_error_quark ())

typedef enum
{
  FD_HTTP_ERROR_NETWORK,       /* no connection, or it dropped */
  FD_HTTP_ERROR_TIMEOUT,
  FD_HTTP_ERROR_UNAUTHORIZED,  /* 401, 403: the token is wrong, expired or lacks a scope */
  FD_HTTP_ERROR_NOT_FOUND,     /* 404 */
  FD_HTTP_ERROR_RATE_LIMITED,  /* 429, still after the retries */
  FD_HTTP_ERROR_SERVER,        /* 5xx, still after the retries */
  FD_HTTP_ERROR_BAD_RESPONSE,  /* not the JSON we asked for: malformed, truncated, wrong shape */
  FD_HTTP_ERROR_REJECTED,      /* another 4xx: the service said no, with its reason */
} FdHttpError;

GQuark fd_http_error_quark (void);

typedef struct
{
  guint               status;
  SoupMessageHeaders *headers;
  GBytes             *body;
  JsonNode           *json;     /* NULL unless the body was JSON */
} FdHttpResponse;

void            fd_http_response_free  (FdHttpResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdHttpResponse, fd_http_response_free)

typedef struct _FdHttpRequest FdHttpRequest;

/* @path is appended to the client's base URL; it may hold a query string. */
FdHttpRequest  *fd_http_request_new         (const char     *method,
                                             const char     *path);
void            fd_http_request_free        (FdHttpRequest  *request);
void            fd_http_request_add_query   (FdHttpRequest  *request,
                                             const char     *name,
                                             const char     *value);
void            fd_http_request_add_header  (FdHttpRequest  *request,
                                             const char     *name,
                                             const char     *value);
/* Takes a JSON body (Content-Type: application/json). */
void            fd_http_request_set_json    (FdHttpRequest  *request,
                                             JsonNode       *body);
/* Appends one form field (application/x-www-form-urlencoded), e.g. "items[0][quantity]". */
void            fd_http_request_add_form    (FdHttpRequest  *request,
                                             const char     *name,
                                             const char     *value);
/* Takes a ready-made body, e.g. multipart/form-data; @content_type carries its boundary. */
void            fd_http_request_set_body    (FdHttpRequest  *request,
                                             const char     *content_type,
                                             GBytes         *body);
/* A request that is safe to send twice: GET, or a write carrying an idempotency key or
 * client message id the service deduplicates on. Only these are retried after a network
 * error or a 5xx; a 429 is retried for every request, since it was not processed. */
void            fd_http_request_set_retry_safe (FdHttpRequest *request,
                                                gboolean       retry_safe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdHttpRequest, fd_http_request_free)

#define FD_TYPE_HTTP_CLIENT (fd_http_client_get_type ())
G_DECLARE_FINAL_TYPE (FdHttpClient, fd_http_client, FD, HTTP_CLIENT, GObject)

/* @service names the service in messages ("Intercom could not be reached …"). A client
 * belongs to the thread whose thread-default main context was current when it was made. */
FdHttpClient   *fd_http_client_new          (const char     *service,
                                             const char     *base_url);
const char     *fd_http_client_get_base_url (FdHttpClient   *self);
/* Sets a header sent with every request. With @secret TRUE the value is registered with
 * the log redactor first, so it can never be printed. */
void            fd_http_client_set_header   (FdHttpClient   *self,
                                             const char     *name,
                                             const char     *value,
                                             gboolean        secret);
/* Retries: at most @max_attempts tries in all; waits grow from @base_delay_ms, doubling up
 * to @max_delay_ms, with full jitter; a Retry-After header is honoured up to @max_delay_ms. */
void            fd_http_client_set_retry    (FdHttpClient   *self,
                                             guint           max_attempts,
                                             guint           base_delay_ms,
                                             guint           max_delay_ms);
void            fd_http_client_set_timeout  (FdHttpClient   *self,
                                             guint           seconds);
/* How many requests may run at once against the service (default 4). */
void            fd_http_client_set_max_connections (FdHttpClient *self,
                                                    guint         max_connections);

/* Sends @request (taken), retrying as above. The response's status is 2xx; any other
 * outcome is an FD_HTTP_ERROR in plain words. A JSON body that does not parse is
 * FD_HTTP_ERROR_BAD_RESPONSE. */
void            fd_http_client_send_async   (FdHttpClient        *self,
                                             FdHttpRequest       *request,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
FdHttpResponse *fd_http_client_send_finish  (FdHttpClient        *self,
                                             GAsyncResult        *result,
                                             GError             **error);

/* The answer behind a failed send whose status was not 2xx (after the retries), for a
 * service whose error body says more than the plain-words error; NULL otherwise. Owned
 * by @result. */
const FdHttpResponse *fd_http_client_get_failed_response (FdHttpClient *self,
                                                          GAsyncResult *result);

/* How many attempts the last finished request took (for tests and logs). */
guint           fd_http_client_get_last_attempts (FdHttpClient *self);

/* Parses a Retry-After value (seconds, or an HTTP date relative to @now_usec). Returns
 * the wait in milliseconds, or -1 when absent or unreadable. */
gint64          fd_http_parse_retry_after   (const char     *value,
                                             gint64          now_usec);

G_END_DECLS
