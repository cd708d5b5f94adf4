/* fd-stripe-client.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stripe's REST API over libsoup (through FdHttpClient): form-encoded nested parameters,
 * expand[], list and search pagination, a pinned Stripe-Version, an Idempotency-Key on
 * every write, retries only where safe, and errors in plain words. No GTK. A client
 * belongs to the thread whose thread-default main context was current when it was made.
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The API version the client asks for (and that ../shared/specs describes). */
#define FD_STRIPE_API_VERSION "2023-08-16"
#define FD_STRIPE_DEFAULT_BASE_URL "https://api.stripe.com"

typedef enum
{
  FD_STRIPE_KEY_INVALID,       /* not a Stripe API key (a publishable pk_ key is invalid too) */
  FD_STRIPE_KEY_SECRET,        /* sk_test_…, sk_live_… */
  FD_STRIPE_KEY_RESTRICTED,    /* rk_test_…, rk_live_… */
} FdStripeKeyKind;

typedef enum
{
  FD_STRIPE_MODE_UNKNOWN,
  FD_STRIPE_MODE_TEST,
  FD_STRIPE_MODE_LIVE,
} FdStripeMode;

/* Reads the kind and mode from the key's prefix; @mode may be NULL. */
FdStripeKeyKind fd_stripe_key_kind      (const char    *key,
                                         FdStripeMode  *mode);

#define FD_STRIPE_ERROR (fd_stripe_error_quark ())

typedef enum
{
  FD_STRIPE_ERROR_CARD,             /* 402 card_error: the message explains the decline */
  FD_STRIPE_ERROR_INVALID_REQUEST,  /* 400, 404, 409: Stripe said no, with its reason */
  FD_STRIPE_ERROR_IDEMPOTENCY,      /* the key was used before with other parameters */
  FD_STRIPE_ERROR_PERMISSION,       /* 403: a restricted key without this permission */
  FD_STRIPE_ERROR_AUTHENTICATION,   /* 401: the key is wrong or was rolled */
  FD_STRIPE_ERROR_RATE_LIMITED,     /* 429, still after the retries */
  FD_STRIPE_ERROR_NETWORK,          /* no answer; for a write the outcome is unknown until
                                     * it is sent again with the same idempotency key */
  FD_STRIPE_ERROR_SERVER,           /* 5xx, still after the retries */
  FD_STRIPE_ERROR_BAD_RESPONSE,     /* not the JSON Stripe sends */
  FD_STRIPE_ERROR_REFUSED,          /* refused before any request was sent */
} FdStripeError;

GQuark          fd_stripe_error_quark   (void);

/* What Stripe's error object said, beside the plain-words GError. */
typedef struct
{
  guint  http_status;
  char  *type;            /* card_error, invalid_request_error, idempotency_error, api_error */
  char  *code;
  char  *decline_code;
  char  *advice_code;
  char  *param;
  char  *message;         /* Stripe's own message (English, for the audit log) */
  char  *request_id;      /* the Request-Id header */
} FdStripeFailure;

void            fd_stripe_failure_free  (FdStripeFailure *failure);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdStripeFailure, fd_stripe_failure_free)

/* Parameters in the order added, encoded as Stripe expects: names are given already
 * nested ("items[0][quantity]", "metadata[ticket]", "expand[]"). */
typedef struct _FdStripeParams FdStripeParams;

FdStripeParams *fd_stripe_params_new        (void);
FdStripeParams *fd_stripe_params_copy       (const FdStripeParams *params);
void            fd_stripe_params_free       (FdStripeParams *params);
void            fd_stripe_params_add        (FdStripeParams *params,
                                             const char     *name,
                                             const char     *value);
void            fd_stripe_params_add_int    (FdStripeParams *params,
                                             const char     *name,
                                             gint64          value);
/* expand[]=@field */
void            fd_stripe_params_add_expand (FdStripeParams *params,
                                             const char     *field);
guint           fd_stripe_params_get_length (const FdStripeParams *params);
const char     *fd_stripe_params_get_name   (const FdStripeParams *params,
                                             guint           index);
const char     *fd_stripe_params_get_value  (const FdStripeParams *params,
                                             guint           index);
/* The first value of @name, or NULL. */
const char     *fd_stripe_params_lookup     (const FdStripeParams *params,
                                             const char     *name);
/* [[name, value], …]: how a pending write is kept in the store. */
char           *fd_stripe_params_to_json    (const FdStripeParams *params);
FdStripeParams *fd_stripe_params_from_json  (const char     *json,
                                             GError        **error);
/* "a=1&items%5B0%5D%5Bquantity%5D=3" */
char           *fd_stripe_params_encode     (const FdStripeParams *params);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdStripeParams, fd_stripe_params_free)

/* What a key may do. A secret key may do everything; a restricted key is probed once
 * (fd_stripe_client_probe_async) and the actions it cannot do are hidden. */
typedef enum
{
  FD_STRIPE_CAN_READ_CUSTOMERS     = 1 << 0,
  FD_STRIPE_CAN_READ_PAYMENTS      = 1 << 1,  /* charges, refunds, payment methods */
  FD_STRIPE_CAN_READ_BILLING       = 1 << 2,  /* subscriptions, invoices */
  FD_STRIPE_CAN_READ_DISPUTES      = 1 << 3,
  FD_STRIPE_CAN_WRITE_REFUNDS      = 1 << 4,
  FD_STRIPE_CAN_WRITE_SUBSCRIPTIONS = 1 << 5,
  FD_STRIPE_CAN_WRITE_INVOICES     = 1 << 6,
  FD_STRIPE_CAN_WRITE_CREDIT_NOTES = 1 << 7,
  FD_STRIPE_CAN_WRITE_DISPUTES     = 1 << 8,
  FD_STRIPE_CAN_WRITE_FILES        = 1 << 9,
} FdStripePermissions;

#define FD_STRIPE_CAN_ALL ((FdStripePermissions) ((1 << 10) - 1))

#define FD_TYPE_STRIPE_CLIENT (fd_stripe_client_get_type ())
G_DECLARE_FINAL_TYPE (FdStripeClient, fd_stripe_client, FD, STRIPE_CLIENT, GObject)

/* @base_url without /v1 ("https://api.stripe.com", or the sandbox's BASE/stripe). The key
 * is registered with the log redactor and sent as a bearer token. */
FdStripeClient *fd_stripe_client_new            (const char     *base_url,
                                                 const char     *api_key);
FdStripeKeyKind fd_stripe_client_get_key_kind   (FdStripeClient *self);
FdStripeMode    fd_stripe_client_get_mode       (FdStripeClient *self);
const char     *fd_stripe_client_get_base_url   (FdStripeClient *self);
/* For tests: attempts in all, first back-off and its cap (defaults 4, 500 ms, 8 s). */
void            fd_stripe_client_set_retry      (FdStripeClient *self,
                                                 guint           max_attempts,
                                                 guint           base_delay_ms,
                                                 guint           max_delay_ms);
/* How many attempts the last finished request took. */
guint           fd_stripe_client_get_last_attempts (FdStripeClient *self);

/* One request. @method is GET, POST or DELETE; @path starts with /v1/. GET parameters go
 * in the query, POST parameters in a form body. Every POST and DELETE needs
 * @idempotency_key (the caller stores it before calling, see fd-billing.h); such a
 * write is retried after a network error or a 5xx with the same key, a GET always is,
 * and a 429 is retried for every request. Returns the response object. On failure the
 * GError is in plain words and *@failure (if not NULL) holds Stripe's own fields. */
void            fd_stripe_client_request_async  (FdStripeClient       *self,
                                                 const char           *method,
                                                 const char           *path,
                                                 const FdStripeParams *params,
                                                 const char           *idempotency_key,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
JsonObject     *fd_stripe_client_request_finish (FdStripeClient       *self,
                                                 GAsyncResult         *result,
                                                 char                **request_id,
                                                 FdStripeFailure     **failure,
                                                 GError              **error);

/* A list endpoint (GET /v1/charges?customer=…): follows has_more with starting_after
 * (limit=100 a page) until @max_items objects (0: all). Returns the objects in order. */
void            fd_stripe_client_list_async     (FdStripeClient       *self,
                                                 const char           *path,
                                                 const FdStripeParams *params,
                                                 guint                 max_items,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
JsonArray      *fd_stripe_client_list_finish    (FdStripeClient       *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

/* A search endpoint (GET /v1/customers/search?query=…): follows next_page with page. */
void            fd_stripe_client_search_async   (FdStripeClient       *self,
                                                 const char           *path,
                                                 const char           *query,
                                                 const FdStripeParams *params,
                                                 guint                 max_items,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
JsonArray      *fd_stripe_client_search_finish  (FdStripeClient       *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

/* Uploads a file (multipart, POST /v1/files on the same base URL; Stripe's real API
 * serves it from files.stripe.com, which fd_stripe_client_new picks when the base URL is
 * the default one). @purpose: "dispute_evidence". Returns the file object. */
void            fd_stripe_client_upload_async   (FdStripeClient       *self,
                                                 const char           *purpose,
                                                 const char           *filename,
                                                 const char           *content_type,
                                                 GBytes               *contents,
                                                 const char           *idempotency_key,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
JsonObject     *fd_stripe_client_upload_finish  (FdStripeClient       *self,
                                                 GAsyncResult         *result,
                                                 char                **request_id,
                                                 GError              **error);

/* What the key may do: everything for a secret key (no request); for a restricted key,
 * one GET per readable resource and, per write permission, a POST that Stripe must
 * refuse either for a missing parameter (allowed) or with 403 (not allowed), so nothing
 * is created. The result is kept: later calls answer at once. */
void            fd_stripe_client_probe_async    (FdStripeClient       *self,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
FdStripePermissions fd_stripe_client_probe_finish (FdStripeClient     *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

/* JSON helpers for Stripe objects: a missing or null member gives the default. An
 * expandable member may be an id string or an object: get_id returns the id either way. */
const char     *fd_stripe_get_string            (JsonObject     *object,
                                                 const char     *member);
gint64          fd_stripe_get_int               (JsonObject     *object,
                                                 const char     *member,
                                                 gint64          fallback);
gboolean        fd_stripe_get_bool              (JsonObject     *object,
                                                 const char     *member);
JsonObject     *fd_stripe_get_object            (JsonObject     *object,
                                                 const char     *member);
const char     *fd_stripe_get_id                (JsonObject     *object,
                                                 const char     *member);
/* The "data" array of a list object, or NULL. */
JsonArray      *fd_stripe_get_list_data         (JsonObject     *object,
                                                 const char     *member);

G_END_DECLS
