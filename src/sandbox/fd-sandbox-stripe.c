/* fd-sandbox-stripe.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sandbox"

#include "config.h"

#include <string.h>

#include "fd-sandbox-private.h"

/* Stripe's REST API, API version 2023-08-16, the part support work needs, after the
 * shapes of ../shared/specs/stripe-openapi-pruned.json: customers (and search), payment
 * methods, products and prices, subscriptions, invoices (and the upcoming invoice with
 * prorations), charges, refunds, disputes, files and credit notes.
 *
 * Every object is kept as the JSON Stripe would return without expand[], one row per
 * object in sandbox_stripe_objects; handlers read it, change it and write it back, so the
 * state follows the requests (a refund raises the charge's amount_refunded, a seat change
 * shows on the next invoice). The seed derives one customer per organisation that has a
 * stripe_customer_id, with a deterministic variety of situations; GET
 * /stripe/_sandbox/scenarios names the customer of each (also in the customer's
 * metadata[sandbox_scenario]).
 *
 * Payment methods carry a hidden decline code (the decline column): charging one fails
 * the way Stripe's test cards do. Writes honour Idempotency-Key as Stripe does: the same
 * key with the same request replays the stored answer, with other parameters it is an
 * idempotency_error. Money is always an integer in the currency's minor unit. */

#define API_VERSION  "2023-08-16"
#define ACCOUNT_ID   "acct_1FrontdeskSandbx"
#define ACCOUNT_NAME "Lumen (sandbox)"
#define DAY          G_GINT64_CONSTANT (86400)
#define HOUR         G_GINT64_CONSTANT (3600)
#define MAX_KEY_LENGTH 255

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS sandbox_stripe_objects ("
  "  seq INTEGER PRIMARY KEY,"
  "  id TEXT NOT NULL UNIQUE,"
  "  object TEXT NOT NULL,"
  "  customer TEXT,"
  /* The subscription of an invoice or invoice item, the invoice of a charge or credit
   * note, the charge of a refund or dispute. */
  "  parent TEXT,"
  "  created INTEGER NOT NULL,"
  /* Payment methods: the decline code a charge gets (a test card), or NULL. */
  "  decline TEXT,"
  "  data TEXT NOT NULL"
  ");"
  "CREATE INDEX IF NOT EXISTS sandbox_stripe_objects_customer"
  "  ON sandbox_stripe_objects(object, customer);"
  "CREATE INDEX IF NOT EXISTS sandbox_stripe_objects_parent"
  "  ON sandbox_stripe_objects(object, parent);"
  "CREATE TABLE IF NOT EXISTS sandbox_stripe_idempotency ("
  "  key TEXT PRIMARY KEY,"
  "  method TEXT NOT NULL,"
  "  path TEXT NOT NULL,"
  "  params_hash TEXT NOT NULL,"
  "  status INTEGER NOT NULL,"
  "  body TEXT NOT NULL,"
  "  request_id TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL"
  ");"
  "CREATE TABLE IF NOT EXISTS sandbox_stripe_scenarios ("
  "  name TEXT PRIMARY KEY,"
  "  customer TEXT NOT NULL"
  ");";

/* {{{ Catalogue, test cards and declines */

static const char * const plan_keys[] = { "starter", "pro", "business", "enterprise" };
static const char * const plan_names[] = { "Starter", "Pro", "Business", "Enterprise" };
static const char * const intervals[] = { "month", "year" };

/* A seat a month, in minor units; a year costs ten months. */
static const struct
{
  const char *currency;
  gint64      month[4];
} price_table[] = {
  { "usd", { 800, 1500, 2500, 4500 } },
  { "eur", { 800, 1400, 2300, 4200 } },
  { "gbp", { 700, 1200, 2000, 3600 } },
  { "jpy", { 1200, 2200, 3800, 6800 } },
  { "kwd", { 2500, 4600, 7700, 13800 } },
};

typedef struct
{
  const char *decline_code;
  const char *code;             /* the error's code and the charge's failure_code */
  const char *message;
  const char *advice_code;
  const char *network_code;
} Decline;

static const Decline declines[] = {
  { "generic_decline", "card_declined", "Your card was declined.", NULL, "05" },
  { "insufficient_funds", "card_declined", "Your card has insufficient funds.", "try_again_later", "51" },
  { "lost_card", "card_declined", "Your card was declined.", "do_not_try_again", "41" },
  { "stolen_card", "card_declined", "Your card was declined.", "do_not_try_again", "43" },
  { "expired_card", "expired_card", "Your card has expired.", "confirm_card_data", "54" },
  { "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "confirm_card_data", "N7" },
  { "processing_error", "processing_error",
    "An error occurred while processing your card. Try again in a little bit.", "try_again_later", NULL },
  { "fraudulent", "card_declined", "Your card was declined.", "do_not_try_again", "59" },
  { "card_velocity_exceeded", "card_declined",
    "Your card was declined for making repeated attempts too frequently or exceeding its amount limit.",
    "try_again_later", "61" },
  { "authentication_required", "authentication_required",
    "Your card was declined. This transaction requires authentication.", NULL, "1A" },
  { "do_not_honor", "card_declined", "Your card was declined.", NULL, "05" },
};

/* Stripe's test payment methods. "dispute" and "inquiry" succeed, then the payment is
 * disputed, as with Stripe's 4000 0000 0000 0259 and 4000 0000 0000 1976.
 * pm_card_chargeDeclinedDoNotHonor is the sandbox's own: Stripe has no test card for it. */
static const struct
{
  const char *token;
  const char *brand;
  const char *last4;
  const char *decline;
} test_cards[] = {
  { "pm_card_visa", "visa", "4242", NULL },
  { "pm_card_visa_debit", "visa", "5556", NULL },
  { "pm_card_mastercard", "mastercard", "4444", NULL },
  { "pm_card_amex", "amex", "8431", NULL },
  { "pm_card_chargeDeclined", "visa", "0002", "generic_decline" },
  { "pm_card_chargeDeclinedInsufficientFunds", "visa", "9995", "insufficient_funds" },
  { "pm_card_chargeDeclinedLostCard", "visa", "9987", "lost_card" },
  { "pm_card_chargeDeclinedStolenCard", "visa", "9979", "stolen_card" },
  { "pm_card_chargeDeclinedExpiredCard", "visa", "0069", "expired_card" },
  { "pm_card_chargeDeclinedIncorrectCvc", "visa", "0127", "incorrect_cvc" },
  { "pm_card_chargeDeclinedProcessingError", "visa", "0119", "processing_error" },
  { "pm_card_chargeDeclinedFraudulent", "visa", "0019", "fraudulent" },
  { "pm_card_chargeDeclinedVelocityLimitExceeded", "visa", "6975", "card_velocity_exceeded" },
  { "pm_card_authenticationRequired", "visa", "3184", "authentication_required" },
  { "pm_card_chargeDeclinedDoNotHonor", "visa", "0010", "do_not_honor" },
  { "pm_card_createDispute", "visa", "0259", "dispute" },
  { "pm_card_createDisputeInquiry", "visa", "1976", "inquiry" },
};

static const char * const evidence_fields[] = {
  "access_activity_log", "billing_address", "cancellation_policy",
  "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
  "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
  "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
  "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
  "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address",
  "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
  "uncategorized_file", "uncategorized_text",
};

/* The evidence fields that hold a file id rather than text. */
static const char * const evidence_file_fields[] = {
  "cancellation_policy", "customer_communication", "customer_signature",
  "duplicate_charge_documentation", "receipt", "refund_policy", "service_documentation",
  "shipping_documentation", "uncategorized_file",
};

static const char * const file_purposes[] = {
  "account_requirement", "additional_verification", "business_icon", "business_logo",
  "customer_signature", "dispute_evidence", "identity_document", "pci_document",
  "tax_document_user_upload", "terminal_reader_splashscreen", NULL,
};

static const Decline *
find_decline (const char *decline_code)
{
  for (guint i = 0; decline_code != NULL && i < G_N_ELEMENTS (declines); i++)
    if (g_str_equal (declines[i].decline_code, decline_code))
      return &declines[i];
  return NULL;
}

static gboolean
in_list (const char        *value,
         const char * const *list,
         guint               n)
{
  for (guint i = 0; value != NULL && i < n; i++)
    if (g_str_equal (list[i], value))
      return TRUE;
  return FALSE;
}

/* }}} */
/* {{{ Deterministic randomness, ids, money and dates */

typedef struct
{
  guint64 state;
} Rng;

static guint64
rng_next (Rng *rng)
{
  guint64 z = (rng->state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static gint64
rng_between (Rng    *rng,
             gint64  low,
             gint64  high)   /* inclusive */
{
  if (high <= low)
    return low;
  return low + (gint64) (rng_next (rng) % (guint64) (high - low + 1));
}

static gboolean
rng_chance (Rng    *rng,
            double  p)
{
  return (rng_next (rng) % 10000) < (guint64) (p * 10000);
}

static char *
rng_id (Rng        *rng,
        const char *prefix,
        guint       length)
{
  static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  GString *id = g_string_new (prefix);

  for (guint i = 0; i < length; i++)
    g_string_append_c (id, base62[rng_next (rng) % 62]);
  return g_string_free (id, FALSE);
}

/* Stripe's ids: a prefix ("ch_3") and 23 characters (cus_ and si_ have 14). */
#define RNG_ID(rng, prefix) rng_id ((rng), prefix, 23)

static int
currency_exponent (const char *currency)
{
  static const char * const zero[] = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
    "vuv", "xaf", "xof", "xpf",
  };
  static const char * const three[] = { "bhd", "jod", "kwd", "omr", "tnd" };

  if (in_list (currency, zero, G_N_ELEMENTS (zero)))
    return 0;
  if (in_list (currency, three, G_N_ELEMENTS (three)))
    return 3;
  return 2;
}

static gint64
currency_unit (const char *currency)
{
  gint64 unit = 1;

  for (int i = currency_exponent (currency); i > 0; i--)
    unit *= 10;
  return unit;
}

/* As Stripe writes amounts in descriptions and messages: "$1,500.00", "¥2,200",
 * "KWD 4.600". */
static char *
format_money (gint64      amount,
              const char *currency)
{
  int exponent = currency_exponent (currency);
  guint64 unit = (guint64) currency_unit (currency);
  guint64 value = amount < 0 ? (guint64) -amount : (guint64) amount;
  g_autofree char *major = g_strdup_printf ("%" G_GUINT64_FORMAT, value / unit);
  GString *out = g_string_new (amount < 0 ? "-" : "");
  gsize len = strlen (major);

  if (g_strcmp0 (currency, "usd") == 0)
    g_string_append (out, "$");
  else if (g_strcmp0 (currency, "eur") == 0)
    g_string_append (out, "€");
  else if (g_strcmp0 (currency, "gbp") == 0)
    g_string_append (out, "£");
  else if (g_strcmp0 (currency, "jpy") == 0)
    g_string_append (out, "¥");
  else
    {
      g_autofree char *code = g_ascii_strup (currency ? currency : "", -1);
      g_string_append_printf (out, "%s ", code);
    }

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, major[i]);
    }
  if (exponent > 0)
    g_string_append_printf (out, ".%0*" G_GUINT64_FORMAT, exponent, value % unit);

  return g_string_free (out, FALSE);
}

static gint64
add_months (gint64 t,
            int    months)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (t);
  g_autoptr(GDateTime) moved = g_date_time_add_months (date, months);

  return g_date_time_to_unix (moved);
}

static gint64
add_interval (gint64      t,
              const char *interval,
              int         count)
{
  if (g_strcmp0 (interval, "year") == 0)
    return add_months (t, 12 * count);
  if (g_strcmp0 (interval, "week") == 0)
    return t + 7 * DAY * count;
  if (g_strcmp0 (interval, "day") == 0)
    return t + DAY * count;
  return add_months (t, count);
}

/* "12 Mar 2024", in English whatever the locale, as Stripe writes it. */
static char *
format_date (gint64 t)
{
  static const char * const months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
  };
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (t);

  return g_strdup_printf ("%d %s %d", g_date_time_get_day_of_month (date),
                          months[g_date_time_get_month (date) - 1], g_date_time_get_year (date));
}

/* }}} */
/* {{{ JSON */

static const char *
gstr (JsonObject *o,
      const char *name)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gint64
gnum (JsonObject *o,
      const char *name,
      gint64      fallback)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return fallback;
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      return json_node_get_int (node);
    case G_TYPE_DOUBLE:
      return (gint64) json_node_get_double (node);
    case G_TYPE_BOOLEAN:
      return json_node_get_boolean (node);
    default:
      return fallback;
    }
}

static gboolean
gbool (JsonObject *o,
       const char *name)
{
  return gnum (o, name, 0) != 0;
}

static JsonObject *
gobj (JsonObject *o,
      const char *name)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
garr (JsonObject *o,
      const char *name)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* An expandable member: the id whether it is a string or an expanded object. */
static const char *
gid (JsonObject *o,
     const char *name)
{
  JsonObject *inner = gobj (o, name);

  return inner != NULL ? gstr (inner, "id") : gstr (o, name);
}

static gboolean
gnull (JsonObject *o,
       const char *name)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, name) : NULL;

  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

static void
sstr (JsonObject *o,
      const char *name,
      const char *value)
{
  if (value != NULL)
    json_object_set_string_member (o, name, value);
  else
    json_object_set_null_member (o, name);
}

static void
sint (JsonObject *o,
      const char *name,
      gint64      value)
{
  json_object_set_int_member (o, name, value);
}

/* 0 is "none" for Stripe's optional times. */
static void
stime (JsonObject *o,
       const char *name,
       gint64      value)
{
  if (value != 0)
    json_object_set_int_member (o, name, value);
  else
    json_object_set_null_member (o, name);
}

static void
sbool (JsonObject *o,
       const char *name,
       gboolean    value)
{
  json_object_set_boolean_member (o, name, value);
}

static void
snull (JsonObject *o,
       const char *name)
{
  json_object_set_null_member (o, name);
}

/* Takes @value; NULL becomes null. */
static void
sobj (JsonObject *o,
      const char *name,
      JsonObject *value)
{
  if (value != NULL)
    json_object_set_object_member (o, name, value);
  else
    json_object_set_null_member (o, name);
}

static void
sarr (JsonObject *o,
      const char *name,
      JsonArray  *value)
{
  json_object_set_array_member (o, name, value != NULL ? value : json_array_new ());
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_object_ref (json_node_get_object (node));
}

static char *
object_to_string (JsonObject *o)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), o);

  return json_to_string (node, FALSE);
}

/* A copy that shares nothing with @o, so that changing one leaves the other alone. */
static JsonObject *
copy_object (JsonObject *o)
{
  g_autofree char *text = object_to_string (o);

  return parse_object (text);
}

static JsonObject *
address_null (void)
{
  JsonObject *o = json_object_new ();

  snull (o, "city");
  snull (o, "country");
  snull (o, "line1");
  snull (o, "line2");
  snull (o, "postal_code");
  snull (o, "state");
  return o;
}

static JsonObject *
list_object (const char *url,
             JsonArray  *data,
             gboolean    with_total)
{
  JsonObject *o = json_object_new ();
  guint n = data != NULL ? json_array_get_length (data) : 0;

  sstr (o, "object", "list");
  sarr (o, "data", data);
  sbool (o, "has_more", FALSE);
  if (with_total)
    sint (o, "total_count", n);
  sstr (o, "url", url);
  return o;
}

/* }}} */
/* {{{ The object store */

static JsonObject *
store_load (FdSandbox  *self,
            const char *id,
            const char *type)
{
  g_autoptr(FdSandboxStmt) s = NULL;
  JsonObject *o;

  if (id == NULL)
    return NULL;
  s = _fd_sandbox_stmt (self, "SELECT object, data FROM sandbox_stripe_objects WHERE id = ?");
  sqlite3_bind_text (s, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (s) != SQLITE_ROW)
    return NULL;
  if (type != NULL && !g_str_equal ((const char *) sqlite3_column_text (s, 0), type))
    return NULL;
  o = parse_object ((const char *) sqlite3_column_text (s, 1));
  return o;
}

static char *
store_decline (FdSandbox  *self,
               const char *id)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT decline FROM sandbox_stripe_objects WHERE id = ?");

  sqlite3_bind_text (s, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (s) != SQLITE_ROW)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (s, 0));
}

static const char *
object_customer (JsonObject *o)
{
  if (g_strcmp0 (gstr (o, "object"), "customer") == 0)
    return gstr (o, "id");
  return gid (o, "customer");
}

static gboolean
store_insert (FdSandbox   *self,
              JsonObject  *o,
              const char  *parent,
              const char  *decline,
              GError     **error)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "INSERT INTO sandbox_stripe_objects"
                            " (id, object, customer, parent, created, decline, data)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)");
  g_autofree char *data = object_to_string (o);

  sqlite3_bind_text (s, 1, gstr (o, "id"), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 2, gstr (o, "object"), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 3, object_customer (o), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 4, parent, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 5, gnum (o, "created", 0));
  sqlite3_bind_text (s, 6, decline, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 7, data, -1, SQLITE_TRANSIENT);
  return _fd_sandbox_step_done (self, s, error);
}

static gboolean
store_update (FdSandbox   *self,
              JsonObject  *o,
              GError     **error)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "UPDATE sandbox_stripe_objects SET data = ?, customer = ? WHERE id = ?");
  g_autofree char *data = object_to_string (o);

  sqlite3_bind_text (s, 1, data, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 2, object_customer (o), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 3, gstr (o, "id"), -1, SQLITE_TRANSIENT);
  return _fd_sandbox_step_done (self, s, error);
}

static guint64
stripe_seed (FdSandbox *self)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT value FROM sandbox_meta WHERE key = 'seed'");
  guint64 seed = 0;

  if (sqlite3_step (s) == SQLITE_ROW)
    g_ascii_string_to_unsigned ((const char *) sqlite3_column_text (s, 0), 10, 0, G_MAXUINT64,
                                &seed, NULL);
  return seed;
}

/* }}} */
/* {{{ Requests */

typedef struct
{
  char *name;
  char *value;
} Param;

typedef struct
{
  FdSandbox         *self;
  SoupServerMessage *msg;
  const char        *method;
  const char        *path;        /* "/v1/customers/cus_…" */
  GPtrArray         *params;      /* of Param, query then body, in order */
  GBytes            *file;        /* multipart: the "file" part */
  char              *file_name;
  char              *file_type;
  char              *request_id;
  gboolean           restricted;
  gint64             now;         /* UTC seconds */
  Rng                rng;
  gboolean           rng_ready;
  GError            *db_error;    /* the first failed write; the request then fails */
  gboolean           rollback;    /* undo the writes, as for error_if_incomplete */
  gboolean           responded;
} Ctx;

static void
param_free (gpointer data)
{
  Param *param = data;

  g_free (param->name);
  g_free (param->value);
  g_free (param);
}

static void
add_param (GPtrArray  *params,
           const char *name,
           const char *value)
{
  Param *param = g_new0 (Param, 1);

  param->name = g_strdup (name);
  param->value = g_strdup (value);
  g_ptr_array_add (params, param);
}

static char *
unescape_form (const char *text,
               gsize       length)
{
  g_autofree char *copy = g_strndup (text, length);

  g_strdelimit (copy, "+", ' ');
  return g_uri_unescape_string (copy, NULL);
}

/* "a=1&b%5B0%5D=2": repeated names are kept, in order (expand[]). */
static void
parse_form (GPtrArray  *params,
            const char *text,
            gsize       length)
{
  const char *end = text + length;

  while (text != NULL && text < end)
    {
      const char *amp = memchr (text, '&', (gsize) (end - text));
      const char *stop = amp != NULL ? amp : end;
      const char *eq = memchr (text, '=', (gsize) (stop - text));

      if (stop > text)
        {
          g_autofree char *name = unescape_form (text, (gsize) ((eq ? eq : stop) - text));
          g_autofree char *value = eq ? unescape_form (eq + 1, (gsize) (stop - eq - 1)) : g_strdup ("");

          if (name != NULL && value != NULL && name[0] != '\0')
            add_param (params, name, value);
        }
      text = amp != NULL ? amp + 1 : NULL;
    }
}

/* FALSE when a multipart body cannot be read. */
static gboolean
read_params (Ctx *c)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (c->msg);
  SoupMessageBody *body = soup_server_message_get_request_body (c->msg);
  const char *query = g_uri_get_query (soup_server_message_get_uri (c->msg));
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr(GBytes) bytes = NULL;

  if (query != NULL)
    parse_form (c->params, query, strlen (query));

  if (body == NULL || body->length == 0 || content_type == NULL)
    return TRUE;
  bytes = soup_message_body_flatten (body);

  if (g_ascii_strcasecmp (content_type, "application/x-www-form-urlencoded") == 0)
    parse_form (c->params, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  else if (g_ascii_strcasecmp (content_type, "multipart/form-data") == 0)
    {
      SoupMultipart *multipart = soup_multipart_new_from_message (headers, bytes);

      if (multipart == NULL)
        return FALSE;
      for (int i = 0; i < soup_multipart_get_length (multipart); i++)
        {
          SoupMessageHeaders *part_headers;
          GBytes *part_body;
          g_autoptr(GHashTable) disposition_params = NULL;
          const char *name, *filename;

          if (!soup_multipart_get_part (multipart, i, &part_headers, &part_body) ||
              !soup_message_headers_get_content_disposition (part_headers, NULL, &disposition_params))
            continue;
          name = g_hash_table_lookup (disposition_params, "name");
          filename = g_hash_table_lookup (disposition_params, "filename");
          if (name == NULL)
            continue;
          if (filename != NULL || g_str_equal (name, "file"))
            {
              const char *type = soup_message_headers_get_content_type (part_headers, NULL);

              g_clear_pointer (&c->file, g_bytes_unref);
              c->file = g_bytes_ref (part_body);
              g_free (c->file_name);
              c->file_name = g_strdup (filename);
              g_free (c->file_type);
              c->file_type = g_strdup (type);
              add_param (c->params, name, "(file)");
            }
          else
            {
              g_autofree char *value = g_strndup (g_bytes_get_data (part_body, NULL),
                                                  g_bytes_get_size (part_body));
              add_param (c->params, name, value);
            }
        }
      soup_multipart_free (multipart);
    }

  return TRUE;
}

/* The last value of @name, or NULL. */
static const char *
pget (Ctx        *c,
      const char *name)
{
  for (guint i = c->params->len; i > 0; i--)
    {
      Param *param = g_ptr_array_index (c->params, i - 1);

      if (g_str_equal (param->name, name))
        return param->value;
    }
  return NULL;
}

static gboolean
phas_prefix (Ctx        *c,
             const char *prefix)
{
  for (guint i = 0; i < c->params->len; i++)
    if (g_str_has_prefix (((Param *) g_ptr_array_index (c->params, i))->name, prefix))
      return TRUE;
  return FALSE;
}

/* expand[]=a, expand[0]=a */
static GPtrArray *
pexpand (Ctx *c)
{
  GPtrArray *values = g_ptr_array_new ();

  for (guint i = 0; i < c->params->len; i++)
    {
      Param *param = g_ptr_array_index (c->params, i);

      if (g_str_has_prefix (param->name, "expand[") && param->value[0] != '\0')
        g_ptr_array_add (values, param->value);
    }
  return values;
}

static Rng *
ctx_rng (Ctx *c)
{
  if (!c->rng_ready)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (c->self, "SELECT COALESCE(MAX(seq), 0) FROM sandbox_stripe_objects");
      guint64 next = 1;

      if (sqlite3_step (s) == SQLITE_ROW)
        next = (guint64) sqlite3_column_int64 (s, 0) + 1;
      /* Ids of new objects follow from the seed and what exists, so a run repeats. */
      c->rng.state = stripe_seed (c->self) * G_GUINT64_CONSTANT (0x2545F4914F6CDD1D) ^
                     next * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) ^ G_GUINT64_CONSTANT (0x5712e);
      c->rng_ready = TRUE;
    }
  return &c->rng;
}

static void
ctx_insert (Ctx        *c,
            JsonObject *o,
            const char *parent,
            const char *decline)
{
  if (c->db_error == NULL)
    store_insert (c->self, o, parent, decline, &c->db_error);
}

static void
ctx_save (Ctx        *c,
          JsonObject *o)
{
  if (c->db_error == NULL)
    store_update (c->self, o, &c->db_error);
}

/* }}} */
/* {{{ Responses and errors */

static void
respond_object_status (Ctx        *c,
                       guint       status,
                       JsonObject *o)
{
  g_autofree char *body = object_to_string (o);

  _fd_sandbox_respond (c->msg, status, "application/json", body);
  c->responded = TRUE;
}

static char *
doc_url (const char *code)
{
  g_autofree char *dashed = g_strdup (code);

  g_strdelimit (dashed, "_", '-');
  return g_strconcat ("https://stripe.com/docs/error-codes/", dashed, NULL);
}

static JsonObject *
error_object (Ctx        *c,
              const char *type,
              const char *code,
              const char *param,
              const char *message)
{
  JsonObject *error = json_object_new ();
  g_autofree char *log_url = g_strdup_printf ("https://dashboard.stripe.com/test/logs/%s?t=%" G_GINT64_FORMAT,
                                              c->request_id, c->now);

  if (code != NULL)
    {
      g_autofree char *url = doc_url (code);

      sstr (error, "code", code);
      sstr (error, "doc_url", url);
    }
  sstr (error, "message", message);
  if (param != NULL)
    sstr (error, "param", param);
  sstr (error, "request_log_url", log_url);
  sstr (error, "type", type);
  return error;
}

static void
respond_error_object (Ctx        *c,
                      guint       status,
                      JsonObject *error)
{
  g_autoptr(JsonObject) root = json_object_new ();

  sobj (root, "error", error);
  respond_object_status (c, status, root);
}

static void respond_error (Ctx        *c,
                           guint       status,
                           const char *type,
                           const char *code,
                           const char *param,
                           const char *format,
                           ...) G_GNUC_PRINTF (6, 7);

static void
respond_error (Ctx        *c,
               guint       status,
               const char *type,
               const char *code,
               const char *param,
               const char *format,
               ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  respond_error_object (c, status, error_object (c, type, code, param, message));
}

#define invalid(c, code, param, ...) \
  respond_error ((c), 400, "invalid_request_error", (code), (param), __VA_ARGS__)

static void
respond_missing_param (Ctx        *c,
                       const char *param)
{
  invalid (c, "parameter_missing", param, "Missing required param: %s.", param);
}

/* "No such customer: 'cus_…'" */
static void
respond_no_such (Ctx        *c,
                 const char *what,
                 const char *id,
                 const char *param)
{
  respond_error (c, 404, "invalid_request_error", "resource_missing", param,
                 "No such %s: '%s'", what, id ? id : "");
}

static void
respond_card_error (Ctx          *c,
                    const Decline *decline,
                    JsonObject    *charge,
                    JsonObject    *payment_method)
{
  JsonObject *error = error_object (c, "card_error", decline->code, NULL, decline->message);

  if (decline->advice_code != NULL)
    sstr (error, "advice_code", decline->advice_code);
  if (charge != NULL)
    sstr (error, "charge", gstr (charge, "id"));
  sstr (error, "decline_code", decline->decline_code);
  if (decline->network_code != NULL)
    sstr (error, "network_decline_code", decline->network_code);
  if (payment_method != NULL)
    sobj (error, "payment_method", json_object_ref (payment_method));
  respond_error_object (c, 402, error);
}

/* Integer, boolean and enum parameters, answered as Stripe does when they are wrong.
 * Each returns FALSE after responding. */
static gboolean
pint (Ctx        *c,
      const char *name,
      gint64     *value,
      gboolean   *present)
{
  const char *text = pget (c, name);

  if (present != NULL)
    *present = text != NULL;
  if (text == NULL)
    return TRUE;
  if (!_fd_sandbox_parse_int (text, value))
    {
      invalid (c, "parameter_invalid_integer", name, "Invalid integer: %s", text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pbool (Ctx        *c,
       const char *name,
       gboolean   *value,
       gboolean   *present)
{
  const char *text = pget (c, name);

  if (present != NULL)
    *present = text != NULL;
  if (text == NULL)
    return TRUE;
  if (g_str_equal (text, "true"))
    *value = TRUE;
  else if (g_str_equal (text, "false"))
    *value = FALSE;
  else
    {
      invalid (c, "parameter_invalid_boolean", name, "Invalid boolean: %s", text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
penum (Ctx                *c,
       const char         *name,
       const char * const *allowed)
{
  const char *text = pget (c, name);
  g_autoptr(GString) list = NULL;
  guint n = 0;

  if (text == NULL)
    return TRUE;
  while (allowed[n] != NULL)
    n++;
  if (in_list (text, allowed, n))
    return TRUE;

  list = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (list, "%s%s", i == 0 ? "" : i == n - 1 ? ", or " : ", ", allowed[i]);
  invalid (c, "parameter_invalid_string", name, "Invalid %s: must be one of %s", name, list->str);
  return FALSE;
}

/* metadata[key]=value sets, metadata[key]= removes a key, metadata= clears them all. */
static void
apply_metadata (Ctx        *c,
                JsonObject *o,
                const char *prefix)   /* "metadata" */
{
  JsonObject *metadata = gobj (o, "metadata");
  gsize len = strlen (prefix);

  if (metadata == NULL)
    {
      metadata = json_object_new ();
      json_object_set_object_member (o, "metadata", metadata);
    }

  for (guint i = 0; i < c->params->len; i++)
    {
      Param *param = g_ptr_array_index (c->params, i);
      const char *name = param->name;

      if (strncmp (name, prefix, len) != 0)
        continue;
      if (name[len] == '\0' && param->value[0] == '\0')
        {
          json_object_set_object_member (o, "metadata", json_object_new ());
          metadata = gobj (o, "metadata");
        }
      else if (name[len] == '[' && g_str_has_suffix (name, "]") && strlen (name) > len + 2)
        {
          g_autofree char *key = g_strndup (name + len + 1, strlen (name) - len - 2);

          if (param->value[0] == '\0')
            {
              if (json_object_has_member (metadata, key))
                json_object_remove_member (metadata, key);
            }
          else
            json_object_set_string_member (metadata, key, param->value);
        }
    }
}

/* }}} */
/* {{{ Expansion */

static JsonObject *list_subscriptions_of (Ctx        *c,
                                          const char *customer);
static JsonObject *list_refunds_of       (Ctx        *c,
                                          const char *charge);

/* expand[]=latest_invoice.charge, expand[]=data.customer: ids become the objects they
 * name. Includable lists (a customer's subscriptions, a charge's refunds) are added. */
static void
expand_path (Ctx        *c,
             JsonObject *o,
             const char *path,
             guint       depth)
{
  const char *dot = strchr (path, '.');
  g_autofree char *head = dot != NULL ? g_strndup (path, (gsize) (dot - path)) : g_strdup (path);
  const char *rest = dot != NULL ? dot + 1 : NULL;
  const char *type = gstr (o, "object");
  JsonNode *member;

  if (depth > 4 || o == NULL)
    return;

  member = json_object_get_member (o, head);
  if (member == NULL)
    {
      if (g_str_equal (head, "subscriptions") && g_strcmp0 (type, "customer") == 0)
        sobj (o, head, list_subscriptions_of (c, gstr (o, "id")));
      else if ((g_str_equal (head, "sources") || g_str_equal (head, "tax_ids")) &&
               g_strcmp0 (type, "customer") == 0)
        {
          g_autofree char *url = g_strdup_printf ("/v1/customers/%s/%s", gstr (o, "id"), head);
          sobj (o, head, list_object (url, NULL, FALSE));
        }
      else if (g_str_equal (head, "refunds") && g_strcmp0 (type, "charge") == 0)
        sobj (o, head, list_refunds_of (c, gstr (o, "id")));
      member = json_object_get_member (o, head);
      if (member == NULL)
        return;
    }

  if (JSON_NODE_HOLDS_ARRAY (member))
    {
      JsonArray *array = json_node_get_array (member);

      for (guint i = 0; rest != NULL && i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_OBJECT (element))
            expand_path (c, json_node_get_object (element), rest, depth + 1);
        }
      return;
    }

  if (JSON_NODE_HOLDS_VALUE (member) && json_node_get_value_type (member) == G_TYPE_STRING)
    {
      JsonObject *loaded = store_load (c->self, json_node_get_string (member), NULL);

      if (loaded == NULL)
        return;
      json_object_set_object_member (o, head, loaded);
      member = json_object_get_member (o, head);
    }

  if (rest != NULL && JSON_NODE_HOLDS_OBJECT (member))
    expand_path (c, json_node_get_object (member), rest, depth + 1);
}

static void
apply_expand (Ctx        *c,
              JsonObject *o)
{
  g_autoptr(GPtrArray) paths = pexpand (c);

  for (guint i = 0; i < paths->len; i++)
    expand_path (c, o, g_ptr_array_index (paths, i), 0);
}

static void
respond_object (Ctx        *c,
                JsonObject *o)
{
  apply_expand (c, o);
  respond_object_status (c, 200, o);
}

/* }}} */
/* {{{ Lists */

typedef gboolean (*KeepFunc) (Ctx        *c,
                              JsonObject *o,
                              gpointer    data);

typedef struct
{
  const char *object;
  char       *url;
  const char *where[6];      /* SQL conditions, each with one ? */
  const char *values[6];
  guint       n;
  KeepFunc    keep;          /* a further filter on the object, or NULL */
  gpointer    keep_data;
} ListQuery;

static void
list_where (ListQuery  *q,
            const char *condition,
            const char *value)
{
  g_assert (q->n < G_N_ELEMENTS (q->where));
  q->where[q->n] = condition;
  q->values[q->n] = value;
  q->n++;
}

typedef struct
{
  char   *id;
  char   *data;
  gint64  created;
} Row;

static void
row_free (gpointer data)
{
  Row *row = data;

  g_free (row->id);
  g_free (row->data);
  g_free (row);
}

/* created=…, created[gt]=…, created[gte]=…, created[lt]=…, created[lte]=… */
static gboolean
created_matches (Ctx    *c,
                 gint64  created)
{
  static const char * const ops[] = { "created", "created[gt]", "created[gte]", "created[lt]", "created[lte]" };

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      const char *text = pget (c, ops[i]);
      gint64 value;

      if (text == NULL || !_fd_sandbox_parse_int (text, &value))
        continue;
      if ((i == 0 && created != value) || (i == 1 && created <= value) ||
          (i == 2 && created < value) || (i == 3 && created >= value) ||
          (i == 4 && created > value))
        return FALSE;
    }
  return TRUE;
}

static GPtrArray *
query_rows (Ctx       *c,
            ListQuery *q)
{
  g_autoptr(GString) sql = g_string_new ("SELECT id, data, created FROM sandbox_stripe_objects WHERE object = ?");
  g_autoptr(FdSandboxStmt) s = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func (row_free);

  for (guint i = 0; i < q->n; i++)
    g_string_append_printf (sql, " AND %s", q->where[i]);
  g_string_append (sql, " ORDER BY created DESC, seq DESC");

  s = _fd_sandbox_stmt (c->self, sql->str);
  sqlite3_bind_text (s, 1, q->object, -1, SQLITE_TRANSIENT);
  /* A condition with a NULL value has no placeholder. */
  for (guint i = 0, index = 2; i < q->n; i++)
    if (q->values[i] != NULL)
      sqlite3_bind_text (s, (int) index++, q->values[i], -1, SQLITE_TRANSIENT);

  while (sqlite3_step (s) == SQLITE_ROW)
    {
      Row *row;
      gint64 created = sqlite3_column_int64 (s, 2);

      if (!created_matches (c, created))
        continue;
      if (q->keep != NULL)
        {
          g_autoptr(JsonObject) o = parse_object ((const char *) sqlite3_column_text (s, 1));

          if (o == NULL || !q->keep (c, o, q->keep_data))
            continue;
        }
      row = g_new0 (Row, 1);
      row->id = g_strdup ((const char *) sqlite3_column_text (s, 0));
      row->data = g_strdup ((const char *) sqlite3_column_text (s, 1));
      row->created = created;
      g_ptr_array_add (rows, row);
    }

  return rows;
}

static void
respond_list (Ctx       *c,
              ListQuery *q)
{
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(JsonObject) list = NULL;
  JsonArray *data;
  const char *after = pget (c, "starting_after");
  const char *before = pget (c, "ending_before");
  gint64 limit = 10;
  gboolean has_limit;
  guint start = 0, end;

  if (!pint (c, "limit", &limit, &has_limit))
    return;
  if (limit < 1 || limit > 100)
    {
      invalid (c, "parameter_invalid_integer", "limit",
               "Invalid limit: must be between 1 and 100");
      return;
    }

  rows = query_rows (c, q);

  if (after != NULL || before != NULL)
    {
      const char *cursor = after != NULL ? after : before;
      guint i;

      for (i = 0; i < rows->len; i++)
        if (g_str_equal (((Row *) g_ptr_array_index (rows, i))->id, cursor))
          break;
      if (i == rows->len && store_load (c->self, cursor, q->object) == NULL)
        {
          respond_no_such (c, q->object, cursor, after != NULL ? "starting_after" : "ending_before");
          return;
        }
      if (after != NULL)
        start = MIN (i + 1, rows->len);
      else
        start = i > (guint) limit ? i - (guint) limit : 0;
      end = after != NULL ? MIN (rows->len, start + (guint) limit) : MIN (i, rows->len);
    }
  else
    end = MIN (rows->len, (guint) limit);

  data = json_array_new ();
  for (guint i = start; i < end; i++)
    {
      JsonObject *o = parse_object (((Row *) g_ptr_array_index (rows, i))->data);

      if (o != NULL)
        json_array_add_object_element (data, o);
    }

  list = list_object (q->url, data, FALSE);
  sbool (list, "has_more", before != NULL ? start > 0 : end < rows->len);
  respond_object (c, list);
}

static void
list_query_clear (ListQuery *q)
{
  g_free (q->url);
}

/* }}} */
/* {{{ Objects as Stripe writes them */

static JsonObject *
build_product (const char *id,
               guint       plan,
               const char *default_price,
               gint64      created)
{
  JsonObject *o = json_object_new ();
  g_autofree char *name = g_strdup_printf ("Lumen %s", plan_names[plan]);
  g_autofree char *description = g_strdup_printf ("Lumen %s, billed per seat.", plan_names[plan]);
  JsonObject *metadata = json_object_new ();

  sstr (metadata, "plan", plan_keys[plan]);
  sstr (o, "id", id);
  sstr (o, "object", "product");
  sbool (o, "active", TRUE);
  sarr (o, "attributes", NULL);
  sint (o, "created", created);
  sstr (o, "default_price", default_price);
  sstr (o, "description", description);
  sarr (o, "features", NULL);
  sarr (o, "images", NULL);
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", metadata);
  sstr (o, "name", name);
  snull (o, "package_dimensions");
  snull (o, "shippable");
  snull (o, "statement_descriptor");
  snull (o, "tax_code");
  sstr (o, "type", "service");
  sstr (o, "unit_label", "seat");
  sint (o, "updated", created);
  snull (o, "url");
  return o;
}

static JsonObject *
build_price (const char *id,
             const char *product,
             guint       plan,
             const char *interval,
             const char *currency,
             gint64      unit_amount,
             gint64      created)
{
  JsonObject *o = json_object_new ();
  JsonObject *recurring = json_object_new ();
  g_autofree char *lookup_key = g_strdup_printf ("%s_%s_%s", plan_keys[plan], interval, currency);
  g_autofree char *nickname = g_strdup_printf ("%s %s", plan_names[plan],
                                               g_str_equal (interval, "year") ? "yearly" : "monthly");
  g_autofree char *decimal = g_strdup_printf ("%" G_GINT64_FORMAT, unit_amount);

  snull (recurring, "aggregate_usage");
  sstr (recurring, "interval", interval);
  sint (recurring, "interval_count", 1);
  snull (recurring, "trial_period_days");
  sstr (recurring, "usage_type", "licensed");

  sstr (o, "id", id);
  sstr (o, "object", "price");
  sbool (o, "active", TRUE);
  sstr (o, "billing_scheme", "per_unit");
  sint (o, "created", created);
  sstr (o, "currency", currency);
  snull (o, "custom_unit_amount");
  sbool (o, "livemode", FALSE);
  sstr (o, "lookup_key", lookup_key);
  sobj (o, "metadata", json_object_new ());
  sstr (o, "nickname", nickname);
  sstr (o, "product", product);
  sobj (o, "recurring", recurring);
  sstr (o, "tax_behavior", "unspecified");
  snull (o, "tiers_mode");
  snull (o, "transform_quantity");
  sstr (o, "type", "recurring");
  sint (o, "unit_amount", unit_amount);
  sstr (o, "unit_amount_decimal", decimal);
  return o;
}

static const char *
price_interval (JsonObject *price)
{
  const char *interval = gstr (gobj (price, "recurring"), "interval");

  return interval != NULL ? interval : "month";
}

/* The legacy plan object that items and lines still carry beside the price. */
static JsonObject *
plan_from_price (JsonObject *price)
{
  JsonObject *o = json_object_new ();
  JsonObject *recurring = gobj (price, "recurring");

  sstr (o, "id", gstr (price, "id"));
  sstr (o, "object", "plan");
  sbool (o, "active", gbool (price, "active"));
  snull (o, "aggregate_usage");
  sint (o, "amount", gnum (price, "unit_amount", 0));
  sstr (o, "amount_decimal", gstr (price, "unit_amount_decimal"));
  sstr (o, "billing_scheme", "per_unit");
  sint (o, "created", gnum (price, "created", 0));
  sstr (o, "currency", gstr (price, "currency"));
  sstr (o, "interval", price_interval (price));
  sint (o, "interval_count", gnum (recurring, "interval_count", 1));
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  sstr (o, "nickname", gstr (price, "nickname"));
  sstr (o, "product", gid (price, "product"));
  snull (o, "tiers_mode");
  snull (o, "transform_usage");
  snull (o, "trial_period_days");
  sstr (o, "usage_type", "licensed");
  return o;
}

static JsonObject *
build_customer (const char *id,
                const char *name,
                const char *email,
                const char *currency,
                const char *invoice_prefix,
                gint64      created)
{
  JsonObject *o = json_object_new ();
  JsonObject *settings = json_object_new ();

  snull (settings, "custom_fields");
  snull (settings, "default_payment_method");
  snull (settings, "footer");
  snull (settings, "rendering_options");

  sstr (o, "id", id);
  sstr (o, "object", "customer");
  snull (o, "address");
  sint (o, "balance", 0);
  sint (o, "created", created);
  sstr (o, "currency", currency);
  snull (o, "default_source");
  sbool (o, "delinquent", FALSE);
  snull (o, "description");
  snull (o, "discount");
  sstr (o, "email", email);
  sstr (o, "invoice_prefix", invoice_prefix);
  sobj (o, "invoice_settings", settings);
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  sstr (o, "name", name);
  sint (o, "next_invoice_sequence", 1);
  snull (o, "phone");
  sarr (o, "preferred_locales", NULL);
  snull (o, "shipping");
  sstr (o, "tax_exempt", "none");
  snull (o, "test_clock");
  return o;
}

static JsonObject *
build_payment_method (const char *id,
                      JsonObject *customer,
                      const char *brand,
                      const char *last4,
                      int         exp_month,
                      int         exp_year,
                      const char *fingerprint,
                      gint64      created)
{
  JsonObject *o = json_object_new ();
  JsonObject *billing = json_object_new ();
  JsonObject *card = json_object_new ();
  JsonObject *checks = json_object_new ();
  JsonObject *networks = json_object_new ();
  JsonObject *secure = json_object_new ();
  JsonArray *available = json_array_new ();

  sobj (billing, "address", address_null ());
  sstr (billing, "email", gstr (customer, "email"));
  sstr (billing, "name", gstr (customer, "name"));
  snull (billing, "phone");

  snull (checks, "address_line1_check");
  snull (checks, "address_postal_code_check");
  sstr (checks, "cvc_check", "pass");
  json_array_add_string_element (available, brand);
  sarr (networks, "available", available);
  snull (networks, "preferred");
  sbool (secure, "supported", TRUE);

  sstr (card, "brand", brand);
  sobj (card, "checks", checks);
  sstr (card, "country", "US");
  sint (card, "exp_month", exp_month);
  sint (card, "exp_year", exp_year);
  sstr (card, "fingerprint", fingerprint);
  sstr (card, "funding", "credit");
  snull (card, "generated_from");
  sstr (card, "last4", last4);
  sobj (card, "networks", networks);
  sobj (card, "three_d_secure_usage", secure);
  snull (card, "wallet");

  sstr (o, "id", id);
  sstr (o, "object", "payment_method");
  sobj (o, "billing_details", billing);
  sobj (o, "card", card);
  sint (o, "created", created);
  sstr (o, "customer", customer != NULL ? gstr (customer, "id") : NULL);
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  sstr (o, "type", "card");
  return o;
}

static JsonObject *
build_item (const char *id,
            const char *subscription,
            JsonObject *price,
            gint64      quantity,
            gint64      created)
{
  JsonObject *o = json_object_new ();

  sstr (o, "id", id);
  sstr (o, "object", "subscription_item");
  snull (o, "billing_thresholds");
  sint (o, "created", created);
  sobj (o, "metadata", json_object_new ());
  sobj (o, "plan", plan_from_price (price));
  sobj (o, "price", copy_object (price));
  sint (o, "quantity", quantity);
  sstr (o, "subscription", subscription);
  sarr (o, "tax_rates", NULL);
  return o;
}

static JsonObject *
build_subscription (const char *id,
                    const char *customer,
                    const char *currency,
                    gboolean    send_invoice,
                    gint64      period_start,
                    gint64      period_end,
                    gint64      start_date,
                    const char *status)
{
  JsonObject *o = json_object_new ();
  JsonObject *tax = json_object_new ();
  JsonObject *cancellation = json_object_new ();
  JsonObject *payment = json_object_new ();
  JsonObject *trial = json_object_new ();
  JsonObject *end_behavior = json_object_new ();
  g_autofree char *items_url = g_strdup_printf ("/v1/subscription_items?subscription=%s", id);

  sbool (tax, "enabled", FALSE);
  snull (cancellation, "comment");
  snull (cancellation, "feedback");
  snull (cancellation, "reason");
  snull (payment, "payment_method_options");
  snull (payment, "payment_method_types");
  sstr (payment, "save_default_payment_method", "off");
  sstr (end_behavior, "missing_payment_method", "create_invoice");
  sobj (trial, "end_behavior", end_behavior);

  sstr (o, "id", id);
  sstr (o, "object", "subscription");
  snull (o, "application");
  snull (o, "application_fee_percent");
  sobj (o, "automatic_tax", tax);
  sint (o, "billing_cycle_anchor", start_date);
  snull (o, "billing_thresholds");
  snull (o, "cancel_at");
  sbool (o, "cancel_at_period_end", FALSE);
  snull (o, "canceled_at");
  sobj (o, "cancellation_details", cancellation);
  sstr (o, "collection_method", send_invoice ? "send_invoice" : "charge_automatically");
  sint (o, "created", start_date);
  sstr (o, "currency", currency);
  sint (o, "current_period_end", period_end);
  sint (o, "current_period_start", period_start);
  sstr (o, "customer", customer);
  if (send_invoice)
    sint (o, "days_until_due", 30);
  else
    snull (o, "days_until_due");
  snull (o, "default_payment_method");
  snull (o, "default_source");
  sarr (o, "default_tax_rates", NULL);
  snull (o, "description");
  snull (o, "discount");
  snull (o, "ended_at");
  sobj (o, "items", list_object (items_url, json_array_new (), TRUE));
  snull (o, "latest_invoice");
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  snull (o, "next_pending_invoice_item_invoice");
  snull (o, "on_behalf_of");
  snull (o, "pause_collection");
  sobj (o, "payment_settings", payment);
  snull (o, "pending_invoice_item_interval");
  snull (o, "pending_setup_intent");
  snull (o, "pending_update");
  snull (o, "schedule");
  sint (o, "start_date", start_date);
  sstr (o, "status", status);
  snull (o, "test_clock");
  snull (o, "transfer_data");
  snull (o, "trial_end");
  sobj (o, "trial_settings", trial);
  snull (o, "trial_start");
  return o;
}

static JsonArray *
subscription_items (JsonObject *subscription)
{
  return garr (gobj (subscription, "items"), "data");
}

static void
subscription_add_item (JsonObject *subscription,
                       JsonObject *item)
{
  JsonObject *items = gobj (subscription, "items");

  json_array_add_object_element (garr (items, "data"), item);
  sint (items, "total_count", json_array_get_length (garr (items, "data")));
}

static JsonObject *
build_coupon (const char *id,
              double      percent_off,
              int         months,
              gint64      created)
{
  JsonObject *o = json_object_new ();
  g_autofree char *name = g_strdup_printf ("%g%% off for %d months", percent_off, months);

  sstr (o, "id", id);
  sstr (o, "object", "coupon");
  snull (o, "amount_off");
  sint (o, "created", created);
  snull (o, "currency");
  sstr (o, "duration", "repeating");
  sint (o, "duration_in_months", months);
  sbool (o, "livemode", FALSE);
  snull (o, "max_redemptions");
  sobj (o, "metadata", json_object_new ());
  sstr (o, "name", name);
  json_object_set_double_member (o, "percent_off", percent_off);
  snull (o, "redeem_by");
  sint (o, "times_redeemed", 1);
  sbool (o, "valid", TRUE);
  return o;
}

static JsonObject *
build_discount (const char *id,
                JsonObject *coupon,
                const char *customer,
                const char *subscription,
                gint64      start,
                gint64      end)
{
  JsonObject *o = json_object_new ();

  sstr (o, "id", id);
  sstr (o, "object", "discount");
  snull (o, "checkout_session");
  sobj (o, "coupon", json_object_ref (coupon));
  sstr (o, "customer", customer);
  stime (o, "end", end);
  snull (o, "invoice");
  snull (o, "invoice_item");
  snull (o, "promotion_code");
  sint (o, "start", start);
  sstr (o, "subscription", subscription);
  return o;
}

/* Percent off, in hundredths of a percent; 0 when @discount does not apply at @at. */
static gint64
discount_basis_points (JsonObject *discount,
                       gint64      at)
{
  JsonObject *coupon = gobj (discount, "coupon");
  JsonNode *percent;

  if (discount == NULL || coupon == NULL ||
      gnum (discount, "start", 0) > at || (!gnull (discount, "end") && gnum (discount, "end", 0) <= at))
    return 0;
  percent = json_object_get_member (coupon, "percent_off");
  if (percent == NULL || !JSON_NODE_HOLDS_VALUE (percent))
    return 0;
  return (gint64) (json_node_get_double (percent) * 100 + 0.5);
}

static char *
line_description (JsonObject *price,
                  const char *product_name,
                  gint64      quantity)
{
  g_autofree char *unit = format_money (gnum (price, "unit_amount", 0), gstr (price, "currency"));

  return g_strdup_printf ("%" G_GINT64_FORMAT " × %s (at %s / %s)", quantity, product_name,
                          unit, price_interval (price));
}

/* A line of an invoice. @invoice_item is the ii_… of a pending item, for type invoiceitem. */
static JsonObject *
build_line (const char *id,
            JsonObject *price,
            gint64      quantity,
            gint64      amount,
            const char *description,
            gint64      period_start,
            gint64      period_end,
            gboolean    proration,
            const char *subscription,
            const char *subscription_item,
            const char *invoice_item)
{
  JsonObject *o = json_object_new ();
  JsonObject *period = json_object_new ();
  JsonObject *details = json_object_new ();
  g_autofree char *unit = g_strdup_printf ("%" G_GINT64_FORMAT, gnum (price, "unit_amount", 0));

  sint (period, "end", period_end);
  sint (period, "start", period_start);
  snull (details, "credited_items");

  sstr (o, "id", id);
  sstr (o, "object", "line_item");
  sint (o, "amount", amount);
  sint (o, "amount_excluding_tax", amount);
  sstr (o, "currency", gstr (price, "currency"));
  sstr (o, "description", description);
  sarr (o, "discount_amounts", NULL);
  sbool (o, "discountable", !proration);
  sarr (o, "discounts", NULL);
  if (invoice_item != NULL)
    sstr (o, "invoice_item", invoice_item);
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  sobj (o, "period", period);
  sobj (o, "plan", plan_from_price (price));
  sobj (o, "price", copy_object (price));
  sbool (o, "proration", proration);
  sobj (o, "proration_details", details);
  sint (o, "quantity", quantity);
  sstr (o, "subscription", subscription);
  if (subscription_item != NULL)
    sstr (o, "subscription_item", subscription_item);
  sarr (o, "tax_amounts", NULL);
  sarr (o, "tax_rates", NULL);
  sstr (o, "type", invoice_item != NULL ? "invoiceitem" : "subscription");
  sstr (o, "unit_amount_excluding_tax", unit);
  return o;
}

/* A pending invoice item: a proration waiting for the next invoice. */
static JsonObject *
build_invoice_item (const char *id,
                    JsonObject *line,
                    const char *customer,
                    gint64      date)
{
  JsonObject *o = json_object_new ();
  JsonObject *price = gobj (line, "price");

  sstr (o, "id", id);
  sstr (o, "object", "invoiceitem");
  sint (o, "amount", gnum (line, "amount", 0));
  sstr (o, "currency", gstr (line, "currency"));
  sstr (o, "customer", customer);
  sint (o, "created", date);
  sint (o, "date", date);
  sstr (o, "description", gstr (line, "description"));
  sbool (o, "discountable", FALSE);
  sarr (o, "discounts", NULL);
  snull (o, "invoice");
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  sobj (o, "period", copy_object (gobj (line, "period")));
  sobj (o, "plan", plan_from_price (price));
  sobj (o, "price", copy_object (price));
  sbool (o, "proration", gbool (line, "proration"));
  sint (o, "quantity", gnum (line, "quantity", 1));
  sstr (o, "subscription", gstr (line, "subscription"));
  sstr (o, "subscription_item", gstr (line, "subscription_item"));
  sarr (o, "tax_rates", NULL);
  snull (o, "test_clock");
  sint (o, "unit_amount", gnum (price, "unit_amount", 0));
  sstr (o, "unit_amount_decimal", gstr (price, "unit_amount_decimal"));
  return o;
}

/* A draft invoice of @lines (taken), with the discount and the customer's balance
 * applied. @id NULL: the upcoming invoice, which has none. */
static JsonObject *
build_invoice (const char *id,
               JsonObject *customer,
               JsonObject *subscription,
               JsonArray  *lines,
               JsonObject *discount,
               gint64      created,
               gint64      period_start,
               gint64      period_end,
               const char *billing_reason)
{
  JsonObject *o = json_object_new ();
  JsonObject *tax = json_object_new ();
  JsonObject *payment = json_object_new ();
  JsonObject *transitions = json_object_new ();
  JsonObject *details = json_object_new ();
  JsonArray *discount_amounts = json_array_new ();
  JsonArray *discounts = json_array_new ();
  g_autofree char *lines_url = id != NULL ? g_strdup_printf ("/v1/invoices/%s/lines", id)
                                          : g_strdup ("/v1/invoices/upcoming/lines");
  const char *currency = subscription != NULL ? gstr (subscription, "currency") : gstr (customer, "currency");
  const char *collection = subscription != NULL ? gstr (subscription, "collection_method")
                                                : "charge_automatically";
  gint64 basis = discount_basis_points (discount, created);
  gint64 subtotal = 0, discounted = 0, total, balance, applied, amount_due;

  for (guint i = 0; i < json_array_get_length (lines); i++)
    {
      JsonObject *line = json_array_get_object_element (lines, i);
      gint64 amount = gnum (line, "amount", 0);

      subtotal += amount;
      if (basis > 0 && gbool (line, "discountable") && amount > 0)
        {
          gint64 off = (amount * basis + 5000) / 10000;
          JsonObject *share = json_object_new ();

          sint (share, "amount", off);
          sstr (share, "discount", gstr (discount, "id"));
          json_array_add_object_element (garr (line, "discount_amounts"), share);
          json_array_add_string_element (garr (line, "discounts"), gstr (discount, "id"));
          discounted += off;
        }
    }
  total = subtotal - discounted;

  /* A negative balance is credit: it pays what it can of the invoice; a negative total
   * becomes credit. */
  balance = gnum (customer, "balance", 0);
  if (total >= 0)
    applied = balance < 0 ? MAX (balance, -total) : balance;
  else
    applied = 0;
  amount_due = MAX (0, total + applied);

  if (basis > 0 && discounted > 0)
    {
      JsonObject *share = json_object_new ();

      sint (share, "amount", discounted);
      sstr (share, "discount", gstr (discount, "id"));
      json_array_add_object_element (discount_amounts, share);
      json_array_add_string_element (discounts, gstr (discount, "id"));
    }

  sbool (tax, "enabled", FALSE);
  snull (tax, "status");
  snull (payment, "default_mandate");
  snull (payment, "payment_method_options");
  snull (payment, "payment_method_types");
  snull (transitions, "finalized_at");
  snull (transitions, "marked_uncollectible_at");
  snull (transitions, "paid_at");
  snull (transitions, "voided_at");
  sobj (details, "metadata", json_object_new ());

  if (id != NULL)
    sstr (o, "id", id);
  sstr (o, "object", "invoice");
  sstr (o, "account_country", "US");
  sstr (o, "account_name", ACCOUNT_NAME);
  snull (o, "account_tax_ids");
  sint (o, "amount_due", amount_due);
  sint (o, "amount_paid", 0);
  sint (o, "amount_remaining", amount_due);
  sint (o, "amount_shipping", 0);
  snull (o, "application");
  snull (o, "application_fee_amount");
  sint (o, "attempt_count", 0);
  sbool (o, "attempted", FALSE);
  sbool (o, "auto_advance", TRUE);
  sobj (o, "automatic_tax", tax);
  sstr (o, "billing_reason", billing_reason);
  snull (o, "charge");
  sstr (o, "collection_method", collection);
  sint (o, "created", created);
  sstr (o, "currency", currency);
  snull (o, "custom_fields");
  sstr (o, "customer", gstr (customer, "id"));
  snull (o, "customer_address");
  sstr (o, "customer_email", gstr (customer, "email"));
  sstr (o, "customer_name", gstr (customer, "name"));
  snull (o, "customer_phone");
  snull (o, "customer_shipping");
  sstr (o, "customer_tax_exempt", "none");
  sarr (o, "customer_tax_ids", NULL);
  snull (o, "default_payment_method");
  snull (o, "default_source");
  sarr (o, "default_tax_rates", NULL);
  snull (o, "description");
  sobj (o, "discount", basis > 0 ? json_object_ref (discount) : NULL);
  sarr (o, "discounts", discounts);
  snull (o, "due_date");
  snull (o, "effective_at");
  sint (o, "ending_balance", balance - applied + MIN (total, 0));
  snull (o, "footer");
  snull (o, "from_invoice");
  snull (o, "hosted_invoice_url");
  snull (o, "invoice_pdf");
  snull (o, "last_finalization_error");
  snull (o, "latest_revision");
  sobj (o, "lines", list_object (lines_url, lines, TRUE));
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  snull (o, "next_payment_attempt");
  snull (o, "number");
  snull (o, "on_behalf_of");
  sbool (o, "paid", FALSE);
  sbool (o, "paid_out_of_band", FALSE);
  snull (o, "payment_intent");
  sobj (o, "payment_settings", payment);
  sint (o, "period_end", period_end);
  sint (o, "period_start", period_start);
  sint (o, "post_payment_credit_notes_amount", 0);
  sint (o, "pre_payment_credit_notes_amount", 0);
  snull (o, "quote");
  snull (o, "receipt_number");
  snull (o, "rendering_options");
  snull (o, "shipping_cost");
  snull (o, "shipping_details");
  sint (o, "starting_balance", balance);
  snull (o, "statement_descriptor");
  sstr (o, "status", "draft");
  sobj (o, "status_transitions", transitions);
  sstr (o, "subscription", subscription != NULL ? gstr (subscription, "id") : NULL);
  sobj (o, "subscription_details", details);
  sint (o, "subtotal", subtotal);
  sint (o, "subtotal_excluding_tax", subtotal);
  snull (o, "tax");
  snull (o, "test_clock");
  sint (o, "total", total);
  sarr (o, "total_discount_amounts", discount_amounts);
  sint (o, "total_excluding_tax", total);
  sarr (o, "total_tax_amounts", NULL);
  snull (o, "transfer_data");
  snull (o, "webhooks_delivered_at");
  return o;
}

/* The customer's balance after the invoice took what it applied. */
static gint64
invoice_balance_after (JsonObject *invoice)
{
  return gnum (invoice, "ending_balance", 0);
}

/* Draft → open: a number, the hosted page, a due date for send_invoice. */
static void
invoice_finalize (JsonObject *invoice,
                  JsonObject *customer,
                  Rng        *rng,
                  gint64      at,
                  gint64      days_until_due)
{
  g_autofree char *token = rng_id (rng, "", 40);
  g_autofree char *hosted = g_strdup_printf ("https://invoice.stripe.com/i/%s/test_%s", ACCOUNT_ID, token);
  g_autofree char *pdf = g_strdup_printf ("https://pay.stripe.com/invoice/%s/test_%s/pdf", ACCOUNT_ID, token);
  gint64 sequence = gnum (customer, "next_invoice_sequence", 1);
  g_autofree char *number = g_strdup_printf ("%s-%04" G_GINT64_FORMAT,
                                             gstr (customer, "invoice_prefix"), sequence);
  gboolean send_invoice = g_strcmp0 (gstr (invoice, "collection_method"), "send_invoice") == 0;

  sint (customer, "next_invoice_sequence", sequence + 1);
  sstr (invoice, "number", number);
  sstr (invoice, "hosted_invoice_url", hosted);
  sstr (invoice, "invoice_pdf", pdf);
  sstr (invoice, "status", "open");
  sint (invoice, "effective_at", at);
  sint (gobj (invoice, "status_transitions"), "finalized_at", at);
  sint (invoice, "webhooks_delivered_at", at);
  if (send_invoice)
    sint (invoice, "due_date", at + days_until_due * DAY);
  else
    sint (invoice, "next_payment_attempt", at);
}

static void
invoice_mark_paid (JsonObject *invoice,
                   gint64      at,
                   const char *charge)
{
  sint (invoice, "amount_paid", gnum (invoice, "amount_paid", 0) + gnum (invoice, "amount_remaining", 0));
  sint (invoice, "amount_remaining", 0);
  sbool (invoice, "attempted", TRUE);
  sbool (invoice, "auto_advance", FALSE);
  if (charge != NULL)
    sstr (invoice, "charge", charge);
  snull (invoice, "next_payment_attempt");
  sbool (invoice, "paid", TRUE);
  sstr (invoice, "status", "paid");
  sint (gobj (invoice, "status_transitions"), "paid_at", at);
}

static JsonObject *
build_charge (Rng           *rng,
              JsonObject    *customer,
              JsonObject    *invoice,
              JsonObject    *payment_method,
              const Decline *decline,
              gint64         created)
{
  JsonObject *o = json_object_new ();
  JsonObject *billing = json_object_new ();
  JsonObject *outcome = json_object_new ();
  JsonObject *details = json_object_new ();
  JsonObject *card = copy_object (gobj (payment_method, "card"));
  JsonObject *token = json_object_new ();
  g_autofree char *id = RNG_ID (rng, "ch_3");
  g_autofree char *transaction = RNG_ID (rng, "txn_3");
  g_autofree char *receipt_token = rng_id (rng, "", 40);
  g_autofree char *receipt = g_strdup_printf ("https://pay.stripe.com/receipts/invoices/%s?s=ap", receipt_token);
  gint64 amount = gnum (invoice, "amount_remaining", 0);
  gboolean ok = decline == NULL;
  gint64 risk = rng_between (rng, 4, 62);

  sobj (billing, "address", address_null ());
  sstr (billing, "email", gstr (customer, "email"));
  sstr (billing, "name", gstr (customer, "name"));
  snull (billing, "phone");

  if (ok)
    {
      sstr (outcome, "network_status", "approved_by_network");
      snull (outcome, "reason");
      sstr (outcome, "risk_level", "normal");
      sint (outcome, "risk_score", risk);
      sstr (outcome, "seller_message", "Payment complete.");
      sstr (outcome, "type", "authorized");
    }
  else
    {
      g_autofree char *seller = NULL;

      if (g_str_equal (decline->decline_code, "generic_decline"))
        seller = g_strdup ("The bank did not return any further details with this decline.");
      else
        seller = g_strdup_printf ("The bank returned the decline code `%s`.", decline->decline_code);
      sstr (outcome, "network_advice_code", decline->advice_code != NULL ? "02" : NULL);
      sstr (outcome, "network_decline_code", decline->network_code);
      sstr (outcome, "network_status", "declined_by_network");
      sstr (outcome, "reason", decline->decline_code);
      sstr (outcome, "risk_level", "normal");
      sint (outcome, "risk_score", risk);
      sstr (outcome, "seller_message", seller);
      sstr (outcome, "type", "issuer_declined");
    }

  /* What a charge keeps of the card: the method's card less what only it has. */
  if (json_object_has_member (card, "generated_from"))
    json_object_remove_member (card, "generated_from");
  if (json_object_has_member (card, "networks"))
    json_object_remove_member (card, "networks");
  if (json_object_has_member (card, "three_d_secure_usage"))
    json_object_remove_member (card, "three_d_secure_usage");
  snull (card, "installments");
  snull (card, "mandate");
  sstr (card, "network", gstr (card, "brand"));
  sbool (token, "used", FALSE);
  sobj (card, "network_token", token);
  snull (card, "three_d_secure");
  sobj (details, "card", card);
  sstr (details, "type", "card");

  sstr (o, "id", id);
  sstr (o, "object", "charge");
  sint (o, "amount", amount);
  sint (o, "amount_captured", ok ? amount : 0);
  sint (o, "amount_refunded", 0);
  snull (o, "application");
  snull (o, "application_fee");
  snull (o, "application_fee_amount");
  sstr (o, "balance_transaction", ok ? transaction : NULL);
  sobj (o, "billing_details", billing);
  sstr (o, "calculated_statement_descriptor", "LUMEN");
  sbool (o, "captured", ok);
  sint (o, "created", created);
  sstr (o, "currency", gstr (invoice, "currency"));
  sstr (o, "customer", gstr (customer, "id"));
  sstr (o, "description", g_strcmp0 (gstr (invoice, "billing_reason"), "subscription_create") == 0
                          ? "Subscription creation" : "Subscription update");
  sbool (o, "disputed", FALSE);
  snull (o, "dispute");
  snull (o, "failure_balance_transaction");
  sstr (o, "failure_code", ok ? NULL : decline->code);
  sstr (o, "failure_message", ok ? NULL : decline->message);
  sobj (o, "fraud_details", json_object_new ());
  sstr (o, "invoice", gstr (invoice, "id"));
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  snull (o, "on_behalf_of");
  sobj (o, "outcome", outcome);
  sbool (o, "paid", ok);
  sstr (o, "payment_intent", gstr (invoice, "payment_intent"));
  sstr (o, "payment_method", gstr (payment_method, "id"));
  sobj (o, "payment_method_details", details);
  sobj (o, "radar_options", json_object_new ());
  sstr (o, "receipt_email", NULL);
  snull (o, "receipt_number");
  sstr (o, "receipt_url", ok ? receipt : NULL);
  sbool (o, "refunded", FALSE);
  snull (o, "review");
  snull (o, "shipping");
  snull (o, "source_transfer");
  snull (o, "statement_descriptor");
  snull (o, "statement_descriptor_suffix");
  sstr (o, "status", ok ? "succeeded" : "failed");
  snull (o, "transfer_data");
  snull (o, "transfer_group");
  return o;
}

static JsonObject *
build_refund (Rng        *rng,
              JsonObject *charge,
              gint64      amount,
              const char *reason,
              gint64      created)
{
  JsonObject *o = json_object_new ();
  g_autofree char *id = RNG_ID (rng, "re_3");
  g_autofree char *transaction = RNG_ID (rng, "txn_3");

  sstr (o, "id", id);
  sstr (o, "object", "refund");
  sint (o, "amount", amount);
  sstr (o, "balance_transaction", transaction);
  sstr (o, "charge", gstr (charge, "id"));
  sint (o, "created", created);
  sstr (o, "currency", gstr (charge, "currency"));
  sobj (o, "metadata", json_object_new ());
  sstr (o, "payment_intent", gstr (charge, "payment_intent"));
  sstr (o, "reason", reason);
  snull (o, "receipt_number");
  snull (o, "source_transfer_reversal");
  sstr (o, "status", "succeeded");
  snull (o, "transfer_reversal");
  return o;
}

static JsonObject *
build_dispute (Rng        *rng,
               JsonObject *charge,
               const char *reason,
               const char *status,
               gint64      created,
               gint64      due_by)
{
  JsonObject *o = json_object_new ();
  JsonObject *evidence = json_object_new ();
  JsonObject *details = json_object_new ();
  JsonObject *method = json_object_new ();
  JsonObject *card = json_object_new ();
  g_autofree char *id = RNG_ID (rng, "dp_1");

  for (guint i = 0; i < G_N_ELEMENTS (evidence_fields); i++)
    snull (evidence, evidence_fields[i]);
  sint (details, "due_by", due_by);
  sbool (details, "has_evidence", FALSE);
  sbool (details, "past_due", FALSE);
  sint (details, "submission_count", 0);
  sstr (card, "brand", gstr (gobj (gobj (charge, "payment_method_details"), "card"), "brand"));
  sstr (card, "network_reason_code", g_str_equal (reason, "fraudulent") ? "10.4" : "13.7");
  sobj (method, "card", card);
  sstr (method, "type", "card");

  sstr (o, "id", id);
  sstr (o, "object", "dispute");
  sint (o, "amount", gnum (charge, "amount", 0));
  sarr (o, "balance_transactions", NULL);
  sstr (o, "charge", gstr (charge, "id"));
  sint (o, "created", created);
  sstr (o, "currency", gstr (charge, "currency"));
  sobj (o, "evidence", evidence);
  sobj (o, "evidence_details", details);
  sbool (o, "is_charge_refundable", FALSE);
  sbool (o, "livemode", FALSE);
  sobj (o, "metadata", json_object_new ());
  sstr (o, "payment_intent", gstr (charge, "payment_intent"));
  sobj (o, "payment_method_details", method);
  sstr (o, "reason", reason);
  sstr (o, "status", status);

  sbool (charge, "disputed", TRUE);
  sstr (charge, "dispute", id);
  return o;
}

static JsonObject *
build_credit_note (Rng        *rng,
                   JsonObject *invoice,
                   gint64      amount,
                   const char *reason,
                   const char *memo,
                   gint64      created,
                   int         index)
{
  JsonObject *o = json_object_new ();
  JsonObject *line = json_object_new ();
  JsonArray *lines = json_array_new ();
  g_autofree char *id = RNG_ID (rng, "cn_1");
  g_autofree char *line_id = RNG_ID (rng, "cnli_1");
  g_autofree char *token = rng_id (rng, "", 40);
  g_autofree char *pdf = g_strdup_printf ("https://pay.stripe.com/credit_notes/%s/test_%s/pdf", ACCOUNT_ID, token);
  g_autofree char *number = g_strdup_printf ("%s-CN-%02d", gstr (invoice, "number"), index);
  g_autofree char *lines_url = g_strdup_printf ("/v1/credit_notes/%s/lines", id);
  g_autofree char *decimal = g_strdup_printf ("%" G_GINT64_FORMAT, amount);

  sstr (line, "id", line_id);
  sstr (line, "object", "credit_note_line_item");
  sint (line, "amount", amount);
  sint (line, "amount_excluding_tax", amount);
  sstr (line, "description", memo != NULL ? memo : "Credit");
  sint (line, "discount_amount", 0);
  sarr (line, "discount_amounts", NULL);
  sbool (line, "livemode", FALSE);
  sint (line, "quantity", 1);
  sarr (line, "tax_amounts", NULL);
  sarr (line, "tax_rates", NULL);
  sstr (line, "type", "custom_line_item");
  sint (line, "unit_amount", amount);
  sstr (line, "unit_amount_decimal", decimal);
  sstr (line, "unit_amount_excluding_tax", decimal);
  json_array_add_object_element (lines, line);

  sstr (o, "id", id);
  sstr (o, "object", "credit_note");
  sint (o, "amount", amount);
  sint (o, "amount_shipping", 0);
  sint (o, "created", created);
  sstr (o, "currency", gstr (invoice, "currency"));
  sstr (o, "customer", gstr (invoice, "customer"));
  snull (o, "customer_balance_transaction");
  sint (o, "discount_amount", 0);
  sarr (o, "discount_amounts", NULL);
  sint (o, "effective_at", created);
  sstr (o, "invoice", gstr (invoice, "id"));
  sobj (o, "lines", list_object (lines_url, lines, TRUE));
  sbool (o, "livemode", FALSE);
  sstr (o, "memo", memo);
  sobj (o, "metadata", json_object_new ());
  sstr (o, "number", number);
  snull (o, "out_of_band_amount");
  sstr (o, "pdf", pdf);
  sstr (o, "reason", reason);
  snull (o, "refund");
  snull (o, "shipping_cost");
  sstr (o, "status", "issued");
  sint (o, "subtotal", amount);
  sint (o, "subtotal_excluding_tax", amount);
  sarr (o, "tax_amounts", NULL);
  sint (o, "total", amount);
  sint (o, "total_excluding_tax", amount);
  sstr (o, "type", g_strcmp0 (gstr (invoice, "status"), "paid") == 0 ? "post_payment" : "pre_payment");
  snull (o, "voided_at");
  return o;
}

/* }}} */
/* {{{ Billing: payments, status, prorations */

static char *
product_name (FdSandbox  *self,
              JsonObject *price)
{
  g_autoptr(JsonObject) product = store_load (self, gid (price, "product"), "product");

  if (product != NULL && gstr (product, "name") != NULL)
    return g_strdup (gstr (product, "name"));
  return g_strdup (gstr (price, "nickname") != NULL ? gstr (price, "nickname") : gstr (price, "id"));
}

static gint64
count_overdue_invoices (Ctx        *c,
                        const char *column,   /* "customer" or "parent" */
                        const char *id)
{
  g_autofree char *sql =
    g_strdup_printf ("SELECT COUNT(*) FROM sandbox_stripe_objects"
                     " WHERE object = 'invoice' AND %s = ?1"
                     " AND json_extract(data, '$.status') = 'open'"
                     " AND ((json_extract(data, '$.collection_method') = 'charge_automatically'"
                     "       AND json_extract(data, '$.attempt_count') > 0)"
                     "   OR (json_extract(data, '$.due_date') IS NOT NULL"
                     "       AND json_extract(data, '$.due_date') < ?2))", column);
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (c->self, sql);

  sqlite3_bind_text (s, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 2, c->now);
  return sqlite3_step (s) == SQLITE_ROW ? sqlite3_column_int64 (s, 0) : 0;
}

/* past_due while an invoice is failing or overdue, active again once it is settled. */
static void
refresh_subscription (Ctx        *c,
                      const char *id)
{
  g_autoptr(JsonObject) sub = store_load (c->self, id, "subscription");
  const char *status;
  const char *next;

  if (sub == NULL)
    return;
  status = gstr (sub, "status");
  if (g_strcmp0 (status, "canceled") == 0 || g_strcmp0 (status, "incomplete_expired") == 0 ||
      (g_strcmp0 (status, "trialing") == 0 && gnum (sub, "trial_end", 0) > c->now))
    return;
  if (g_strcmp0 (status, "incomplete") == 0)
    {
      g_autoptr(JsonObject) latest = store_load (c->self, gid (sub, "latest_invoice"), "invoice");

      if (latest == NULL || g_strcmp0 (gstr (latest, "status"), "paid") != 0)
        return;
    }

  next = count_overdue_invoices (c, "parent", id) > 0 ? "past_due" : "active";
  if (g_strcmp0 (status, next) != 0)
    {
      sstr (sub, "status", next);
      ctx_save (c, sub);
    }
}

static void
refresh_customer (Ctx        *c,
                  const char *id)
{
  g_autoptr(JsonObject) customer = store_load (c->self, id, "customer");
  gboolean delinquent;

  if (customer == NULL)
    return;
  delinquent = count_overdue_invoices (c, "customer", id) > 0;
  if (delinquent != gbool (customer, "delinquent"))
    {
      sbool (customer, "delinquent", delinquent);
      ctx_save (c, customer);
    }
}

static void
refresh_after_invoice (Ctx        *c,
                       JsonObject *invoice)
{
  if (gstr (invoice, "subscription") != NULL)
    refresh_subscription (c, gstr (invoice, "subscription"));
  refresh_customer (c, gstr (invoice, "customer"));
}

/* The invoice's, the subscription's or the customer's default payment method. */
static JsonObject *
default_payment_method (Ctx        *c,
                        JsonObject *invoice,
                        JsonObject *customer)
{
  const char *id = gid (invoice, "default_payment_method");

  if (id == NULL && gstr (invoice, "subscription") != NULL)
    {
      g_autoptr(JsonObject) sub = store_load (c->self, gstr (invoice, "subscription"), "subscription");

      id = sub != NULL && gid (sub, "default_payment_method") != NULL
           ? gid (sub, "default_payment_method") : NULL;
      if (id != NULL)
        return store_load (c->self, id, "payment_method");
    }
  if (id == NULL)
    id = gid (gobj (customer, "invoice_settings"), "default_payment_method");
  return store_load (c->self, id, "payment_method");
}

/* Charges what @invoice still asks for with @payment_method and saves the charge, the
 * invoice and, for test cards that dispute, the dispute. Returns the decline, or NULL
 * when the invoice is paid. */
static const Decline *
collect_invoice (Ctx         *c,
                 JsonObject  *invoice,
                 JsonObject  *customer,
                 JsonObject  *payment_method,
                 JsonObject **charge_out)
{
  g_autofree char *decline_code = store_decline (c->self, gstr (payment_method, "id"));
  const Decline *decline = find_decline (decline_code);
  g_autoptr(JsonObject) charge = NULL;
  g_autoptr(JsonObject) dispute = NULL;
  gint64 attempts = gnum (invoice, "attempt_count", 0) + 1;

  if (gstr (invoice, "payment_intent") == NULL)
    {
      g_autofree char *intent = RNG_ID (ctx_rng (c), "pi_3");
      sstr (invoice, "payment_intent", intent);
    }

  charge = build_charge (ctx_rng (c), customer, invoice, payment_method, decline, c->now);
  if (decline == NULL && decline_code != NULL &&
      (g_str_equal (decline_code, "dispute") || g_str_equal (decline_code, "inquiry")))
    {
      gboolean inquiry = g_str_equal (decline_code, "inquiry");

      dispute = build_dispute (ctx_rng (c), charge, inquiry ? "general" : "fraudulent",
                               inquiry ? "warning_needs_response" : "needs_response",
                               c->now, c->now + 7 * DAY);
    }
  ctx_insert (c, charge, gstr (invoice, "id"), NULL);
  if (dispute != NULL)
    ctx_insert (c, dispute, gstr (charge, "id"), NULL);

  sint (invoice, "attempt_count", attempts);
  sbool (invoice, "attempted", TRUE);
  sstr (invoice, "charge", gstr (charge, "id"));
  if (decline == NULL)
    invoice_mark_paid (invoice, c->now, gstr (charge, "id"));
  else if (g_strcmp0 (gstr (invoice, "collection_method"), "charge_automatically") == 0 && attempts < 4)
    sint (invoice, "next_payment_attempt", c->now + 3 * DAY);
  else
    snull (invoice, "next_payment_attempt");
  ctx_save (c, invoice);

  if (charge_out != NULL)
    *charge_out = g_steal_pointer (&charge);
  return decline;
}

/* One item of a subscription before and after a change. */
typedef struct
{
  char       *item_id;
  JsonObject *old_price;      /* NULL: a new item */
  gint64      old_quantity;
  JsonObject *new_price;      /* NULL: removed */
  gint64      new_quantity;
  gint64      created;
  JsonObject *metadata;
} Slot;

static void
slot_free (gpointer data)
{
  Slot *slot = data;

  g_free (slot->item_id);
  g_clear_pointer (&slot->old_price, json_object_unref);
  g_clear_pointer (&slot->new_price, json_object_unref);
  g_clear_pointer (&slot->metadata, json_object_unref);
  g_free (slot);
}

static gboolean
slot_changed (const Slot *slot)
{
  if (slot->old_price == NULL || slot->new_price == NULL)
    return TRUE;
  return g_strcmp0 (gstr (slot->old_price, "id"), gstr (slot->new_price, "id")) != 0 ||
         slot->old_quantity != slot->new_quantity;
}

static GPtrArray *
slots_of (JsonObject *sub)
{
  GPtrArray *slots = g_ptr_array_new_with_free_func (slot_free);
  JsonArray *items = subscription_items (sub);

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);
      Slot *slot = g_new0 (Slot, 1);

      slot->item_id = g_strdup (gstr (item, "id"));
      slot->old_price = copy_object (gobj (item, "price"));
      slot->new_price = json_object_ref (slot->old_price);
      slot->old_quantity = slot->new_quantity = gnum (item, "quantity", 1);
      slot->created = gnum (item, "created", 0);
      slot->metadata = copy_object (gobj (item, "metadata"));
      g_ptr_array_add (slots, slot);
    }
  return slots;
}

static JsonObject *
load_price_param (Ctx        *c,
                  const char *param,
                  const char *currency)
{
  const char *id = pget (c, param);
  JsonObject *price = store_load (c->self, id, "price");

  if (price == NULL)
    {
      invalid (c, "resource_missing", param, "No such price: '%s'", id ? id : "");
      return NULL;
    }
  if (!gbool (price, "active") || g_strcmp0 (gstr (price, "type"), "recurring") != 0)
    {
      invalid (c, NULL, param, "The price specified (%s) is not an active recurring price.", id);
      json_object_unref (price);
      return NULL;
    }
  if (currency != NULL && g_strcmp0 (gstr (price, "currency"), currency) != 0)
    {
      invalid (c, NULL, param,
               "The price specified (%s) is in %s, but this subscription is in %s. "
               "All items of a subscription must be in the same currency.",
               id, gstr (price, "currency"), currency);
      json_object_unref (price);
      return NULL;
    }
  return price;
}

/* items[N][id|price|quantity|deleted|metadata[…]] (or subscription_items[N][…] for the
 * upcoming invoice) applied to the subscription's items. NULL after responding. */
static GPtrArray *
parse_slots (Ctx        *c,
             JsonObject *sub,
             const char *prefix)
{
  g_autoptr(GPtrArray) slots = slots_of (sub);
  g_autoptr(GArray) indexes = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree char *open = g_strdup_printf ("%s[", prefix);
  const char *interval = NULL;
  guint live = 0;

  for (guint i = 0; i < c->params->len; i++)
    {
      const char *name = ((Param *) g_ptr_array_index (c->params, i))->name;
      guint64 index;
      char *end = NULL;
      gboolean seen = FALSE;

      if (!g_str_has_prefix (name, open))
        continue;
      index = g_ascii_strtoull (name + strlen (open), &end, 10);
      if (end == name + strlen (open) || *end != ']' || index > 100 || end[1] != '[')
        {
          invalid (c, "parameter_unknown", name, "Received unknown parameter: %s", name);
          return NULL;
        }
      else
        {
          g_autofree char *key = g_strndup (end + 2, strcspn (end + 2, "]"));

          if (in_list (key, (const char * const[]) { "billing_thresholds", "clear_usage", "discounts",
                                                      "metadata", "price_data", "tax_rates" }, 6))
            {
              invalid (c, NULL, name, "The Frontdesk sandbox does not implement the parameter %s.", name);
              return NULL;
            }
          if (!in_list (key, (const char * const[]) { "id", "price", "quantity", "deleted" }, 4))
            {
              invalid (c, "parameter_unknown", name, "Received unknown parameter: %s", name);
              return NULL;
            }
        }
      for (guint j = 0; j < indexes->len; j++)
        seen |= g_array_index (indexes, guint, j) == (guint) index;
      if (!seen)
        {
          guint value = (guint) index;
          g_array_append_val (indexes, value);
        }
    }

  for (guint k = 0; k < indexes->len; k++)
    {
      guint index = g_array_index (indexes, guint, k);
      g_autofree char *p_id = g_strdup_printf ("%s[%u][id]", prefix, index);
      g_autofree char *p_price = g_strdup_printf ("%s[%u][price]", prefix, index);
      g_autofree char *p_quantity = g_strdup_printf ("%s[%u][quantity]", prefix, index);
      g_autofree char *p_deleted = g_strdup_printf ("%s[%u][deleted]", prefix, index);
      const char *id = pget (c, p_id);
      gint64 quantity = 1;
      gboolean has_quantity, deleted = FALSE;
      Slot *slot = NULL;

      if (!pint (c, p_quantity, &quantity, &has_quantity) ||
          !pbool (c, p_deleted, &deleted, NULL))
        return NULL;
      if (quantity < 0)
        {
          invalid (c, "parameter_invalid_integer", p_quantity,
                   "This value must be greater than or equal to 0.");
          return NULL;
        }

      if (id != NULL)
        {
          for (guint i = 0; i < slots->len && slot == NULL; i++)
            if (g_strcmp0 (((Slot *) g_ptr_array_index (slots, i))->item_id, id) == 0)
              slot = g_ptr_array_index (slots, i);
          if (slot == NULL || slot->old_price == NULL)
            {
              invalid (c, "resource_missing", p_id,
                       "No such subscription item: '%s' on subscription %s", id, gstr (sub, "id"));
              return NULL;
            }
        }
      else
        {
          if (pget (c, p_price) == NULL)
            {
              respond_missing_param (c, p_price);
              return NULL;
            }
          slot = g_new0 (Slot, 1);
          slot->item_id = rng_id (ctx_rng (c), "si_", 14);
          slot->new_quantity = 1;
          slot->created = c->now;
          slot->metadata = json_object_new ();
          g_ptr_array_add (slots, slot);
        }

      if (deleted)
        {
          g_clear_pointer (&slot->new_price, json_object_unref);
          continue;
        }
      if (pget (c, p_price) != NULL)
        {
          JsonObject *price = load_price_param (c, p_price, gstr (sub, "currency"));

          if (price == NULL)
            return NULL;
          g_clear_pointer (&slot->new_price, json_object_unref);
          slot->new_price = price;
        }
      if (has_quantity)
        slot->new_quantity = quantity;
    }

  for (guint i = 0; i < slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (slots, i);

      if (slot->new_price == NULL)
        continue;
      live++;
      if (interval == NULL)
        interval = price_interval (slot->new_price);
      else if (!g_str_equal (interval, price_interval (slot->new_price)))
        {
          invalid (c, NULL, prefix,
                   "Currency and interval fields must match across all plans on this subscription.");
          return NULL;
        }
    }
  if (live == 0)
    {
      invalid (c, NULL, prefix, "A subscription must have at least one active item.");
      return NULL;
    }

  return g_steal_pointer (&slots);
}

static const char *
subscription_interval (JsonObject *sub)
{
  JsonArray *items = subscription_items (sub);

  if (items == NULL || json_array_get_length (items) == 0)
    return "month";
  return price_interval (gobj (json_array_get_object_element (items, 0), "price"));
}

/* A change to another billing interval restarts the billing cycle, as Stripe does. */
static gboolean
slots_reset_cycle (GPtrArray  *slots,
                   JsonObject *sub)
{
  const char *interval = subscription_interval (sub);

  for (guint i = 0; slots != NULL && i < slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (slots, i);

      if (slot->new_price != NULL && !g_str_equal (price_interval (slot->new_price), interval))
        return TRUE;
    }
  return FALSE;
}

/* Stripe's proration: the unused time of the old item as a credit and the remaining time
 * of the new one as a charge, each rounded to the currency's minor unit. */
static gint64
prorate (gint64 amount,
         gint64 remaining,
         gint64 total)
{
  gint64 magnitude = amount < 0 ? -amount : amount;
  gint64 value;

  if (total <= 0)
    return 0;
  value = (magnitude * remaining + total / 2) / total;
  return amount < 0 ? -value : value;
}

static void
add_proration_lines (Ctx        *c,
                     JsonObject *sub,
                     GPtrArray  *slots,
                     gint64      at,
                     gboolean    reset,
                     JsonArray  *lines)
{
  gint64 start = gnum (sub, "current_period_start", 0);
  gint64 end = gnum (sub, "current_period_end", 0);
  gint64 remaining = CLAMP (end - at, 0, end - start);
  g_autofree char *date = format_date (at);

  if (g_strcmp0 (gstr (sub, "status"), "trialing") == 0)
    return;

  for (guint i = 0; i < slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (slots, i);
      g_autofree char *line_id = NULL;

      if (!slot_changed (slot))
        continue;

      if (slot->old_price != NULL)
        {
          g_autofree char *name = product_name (c->self, slot->old_price);
          g_autofree char *description =
            g_strdup_printf ("Unused time on %" G_GINT64_FORMAT " × %s after %s",
                             slot->old_quantity, name, date);
          gint64 amount = prorate (-gnum (slot->old_price, "unit_amount", 0) * slot->old_quantity,
                                   remaining, end - start);

          line_id = RNG_ID (ctx_rng (c), "il_tmp_");
          json_array_add_object_element (lines,
                                         build_line (line_id, slot->old_price, slot->old_quantity,
                                                     amount, description, at, end, TRUE,
                                                     gstr (sub, "id"), slot->item_id, NULL));
          g_clear_pointer (&line_id, g_free);
        }
      if (slot->new_price != NULL && !reset)
        {
          g_autofree char *name = product_name (c->self, slot->new_price);
          g_autofree char *description =
            g_strdup_printf ("Remaining time on %" G_GINT64_FORMAT " × %s after %s",
                             slot->new_quantity, name, date);
          gint64 amount = prorate (gnum (slot->new_price, "unit_amount", 0) * slot->new_quantity,
                                   remaining, end - start);

          line_id = RNG_ID (ctx_rng (c), "il_tmp_");
          json_array_add_object_element (lines,
                                         build_line (line_id, slot->new_price, slot->new_quantity,
                                                     amount, description, at, end, TRUE,
                                                     gstr (sub, "id"), slot->item_id, NULL));
        }
    }
}

/* A full period of every item that stays. */
static void
add_period_lines (Ctx        *c,
                  JsonObject *sub,
                  GPtrArray  *slots,
                  gint64      start,
                  JsonArray  *lines)
{
  for (guint i = 0; i < slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (slots, i);
      g_autofree char *name = NULL;
      g_autofree char *description = NULL;
      g_autofree char *line_id = NULL;

      if (slot->new_price == NULL)
        continue;
      name = product_name (c->self, slot->new_price);
      description = line_description (slot->new_price, name, slot->new_quantity);
      line_id = RNG_ID (ctx_rng (c), "il_tmp_");
      json_array_add_object_element (lines,
                                     build_line (line_id, slot->new_price, slot->new_quantity,
                                                 gnum (slot->new_price, "unit_amount", 0) * slot->new_quantity,
                                                 description, start,
                                                 add_interval (start, price_interval (slot->new_price), 1),
                                                 FALSE, gstr (sub, "id"), slot->item_id, NULL));
    }
}

/* The pending invoice items of @sub as lines (and, when @claim_for is set, now billed on
 * that invoice). */
static void
add_pending_lines (Ctx        *c,
                   JsonObject *sub,
                   JsonArray  *lines,
                   const char *claim_for)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (c->self, "SELECT data FROM sandbox_stripe_objects"
                               " WHERE object = 'invoiceitem' AND parent = ?"
                               " AND json_extract(data, '$.invoice') IS NULL ORDER BY seq");
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  sqlite3_bind_text (s, 1, gstr (sub, "id"), -1, SQLITE_TRANSIENT);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      JsonObject *item = parse_object ((const char *) sqlite3_column_text (s, 0));

      if (item != NULL)
        g_ptr_array_add (items, item);
    }
  sqlite3_reset (s);

  for (guint i = 0; i < items->len; i++)
    {
      JsonObject *item = g_ptr_array_index (items, i);
      JsonObject *period = gobj (item, "period");
      g_autofree char *line_id = RNG_ID (ctx_rng (c), claim_for != NULL ? "il_1" : "il_tmp_");

      json_array_add_object_element (lines,
                                     build_line (line_id, gobj (item, "price"),
                                                 gnum (item, "quantity", 1), gnum (item, "amount", 0),
                                                 gstr (item, "description"),
                                                 gnum (period, "start", 0), gnum (period, "end", 0),
                                                 gbool (item, "proration"), gstr (sub, "id"),
                                                 gstr (item, "subscription_item"), gstr (item, "id")));
      if (claim_for != NULL)
        {
          sstr (item, "invoice", claim_for);
          ctx_save (c, item);
        }
    }
}

/* What GET /v1/invoices/upcoming answers: pending items, the prorations of @slots (NULL:
 * no change) and the next period, for @customer's @sub. */
static JsonObject *
compute_upcoming (Ctx        *c,
                  JsonObject *customer,
                  JsonObject *sub,
                  GPtrArray  *slots,
                  const char *behavior,
                  gint64      proration_date)
{
  g_autoptr(GPtrArray) current = slots_of (sub);
  GPtrArray *final = slots != NULL ? slots : current;
  gboolean reset = slots_reset_cycle (slots, sub);
  gboolean trialing = g_strcmp0 (gstr (sub, "status"), "trialing") == 0;
  gint64 next = trialing && gnum (sub, "trial_end", 0) > 0 ? gnum (sub, "trial_end", 0)
                                                              : gnum (sub, "current_period_end", 0);
  gint64 created = reset ? proration_date : next;
  JsonArray *lines = json_array_new ();
  JsonObject *invoice;

  add_pending_lines (c, sub, lines, NULL);
  if (slots != NULL && g_strcmp0 (behavior, "none") != 0)
    add_proration_lines (c, sub, slots, proration_date, reset, lines);
  add_period_lines (c, sub, final, created, lines);

  invoice = build_invoice (NULL, customer, sub, lines, gobj (sub, "discount"), created,
                           gnum (sub, "current_period_start", 0),
                           gnum (sub, "current_period_end", 0), "upcoming");
  if (g_strcmp0 (gstr (sub, "collection_method"), "send_invoice") == 0)
    sint (invoice, "due_date", created + gnum (sub, "days_until_due", 30) * DAY);
  else
    sint (invoice, "next_payment_attempt", created + HOUR);
  if (slots != NULL)
    sint (invoice, "subscription_proration_date", proration_date);
  return invoice;
}

/* The subscription's items as @slots say, and prorations as invoice items or on an
 * invoice now. Returns the new invoice (always_invoice or a new billing interval), or
 * NULL; *@decline is set when collecting it failed. */
static JsonObject *
apply_slots (Ctx            *c,
             JsonObject     *customer,
             JsonObject     *sub,
             GPtrArray      *slots,
             const char     *behavior,
             gint64          proration_date,
             const Decline **decline,
             JsonObject    **charge_out);

static JsonObject *
invoice_now (Ctx            *c,
             JsonObject     *customer,
             JsonObject     *sub,
             JsonArray      *lines,
             const char     *billing_reason,
             gint64          period_start,
             gint64          period_end,
             const Decline **decline,
             JsonObject    **charge_out)
{
  g_autofree char *id = RNG_ID (ctx_rng (c), "in_1");
  JsonObject *invoice;

  for (guint i = 0; i < json_array_get_length (lines); i++)
    {
      /* Lines of a real invoice have permanent ids. */
      JsonObject *line = json_array_get_object_element (lines, i);
      g_autofree char *line_id = RNG_ID (ctx_rng (c), "il_1");
      sstr (line, "id", line_id);
    }
  add_pending_lines (c, sub, lines, id);

  invoice = build_invoice (id, customer, sub, lines, gobj (sub, "discount"), c->now,
                           period_start, period_end, billing_reason);
  invoice_finalize (invoice, customer, ctx_rng (c), c->now, gnum (sub, "days_until_due", 30));
  sint (customer, "balance", invoice_balance_after (invoice));
  ctx_insert (c, invoice, gstr (sub, "id"), NULL);
  sstr (sub, "latest_invoice", id);

  *decline = NULL;
  if (gnum (invoice, "amount_remaining", 0) <= 0)
    {
      invoice_mark_paid (invoice, c->now, NULL);
      ctx_save (c, invoice);
    }
  else if (g_strcmp0 (gstr (invoice, "collection_method"), "charge_automatically") == 0)
    {
      g_autoptr(JsonObject) method = default_payment_method (c, invoice, customer);

      /* Without a payment method the invoice waits, open, as Stripe's does. */
      if (method != NULL)
        *decline = collect_invoice (c, invoice, customer, method, charge_out);
    }
  ctx_save (c, customer);
  return invoice;
}

static JsonObject *
apply_slots (Ctx            *c,
             JsonObject     *customer,
             JsonObject     *sub,
             GPtrArray      *slots,
             const char     *behavior,
             gint64          proration_date,
             const Decline **decline,
             JsonObject    **charge_out)
{
  gboolean reset = slots_reset_cycle (slots, sub);
  g_autoptr(JsonArray) prorations = json_array_new ();
  JsonObject *items = gobj (sub, "items");
  JsonArray *data = json_array_new ();
  JsonObject *invoice = NULL;

  *decline = NULL;
  if (g_strcmp0 (behavior, "none") != 0 || reset)
    add_proration_lines (c, sub, slots, proration_date, reset, prorations);

  for (guint i = 0; i < slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (slots, i);
      JsonObject *item;

      if (slot->new_price == NULL)
        continue;
      item = build_item (slot->item_id, gstr (sub, "id"), slot->new_price, slot->new_quantity,
                         slot->created);
      sobj (item, "metadata", json_object_ref (slot->metadata));
      json_array_add_object_element (data, item);
    }
  sarr (items, "data", data);
  sint (items, "total_count", json_array_get_length (data));

  if (reset)
    {
      gint64 end = add_interval (c->now, subscription_interval (sub), 1);

      add_period_lines (c, sub, slots, c->now, prorations);
      sint (sub, "current_period_start", c->now);
      sint (sub, "current_period_end", end);
      sint (sub, "billing_cycle_anchor", c->now);
      invoice = invoice_now (c, customer, sub, json_array_ref (prorations), "subscription_update",
                             c->now, c->now, decline, charge_out);
    }
  else if (g_strcmp0 (behavior, "always_invoice") == 0 && json_array_get_length (prorations) > 0)
    invoice = invoice_now (c, customer, sub, json_array_ref (prorations), "subscription_update",
                           proration_date, proration_date, decline, charge_out);
  else
    {
      for (guint i = 0; i < json_array_get_length (prorations); i++)
        {
          JsonObject *line = json_array_get_object_element (prorations, i);
          g_autofree char *id = RNG_ID (ctx_rng (c), "ii_1");
          g_autoptr(JsonObject) item = build_invoice_item (id, line, gstr (customer, "id"),
                                                           proration_date);

          ctx_insert (c, item, gstr (sub, "id"), NULL);
        }
    }

  return invoice;
}

/* }}} */
/* {{{ Account, customers and search */

static void
handle_account (Ctx   *c,
                char **args)
{
  g_autoptr(JsonObject) o = json_object_new ();
  JsonObject *profile = json_object_new ();
  JsonObject *settings = json_object_new ();
  JsonObject *dashboard = json_object_new ();

  snull (profile, "mcc");
  sstr (profile, "name", ACCOUNT_NAME);
  sstr (profile, "support_email", "billing@lumen.example");
  snull (profile, "support_phone");
  snull (profile, "support_url");
  sstr (profile, "url", "https://lumen.example");
  sstr (dashboard, "display_name", "Lumen");
  sstr (dashboard, "timezone", "Etc/UTC");
  sobj (settings, "dashboard", dashboard);

  sstr (o, "id", ACCOUNT_ID);
  sstr (o, "object", "account");
  sobj (o, "business_profile", profile);
  sstr (o, "business_type", "company");
  sbool (o, "charges_enabled", TRUE);
  sstr (o, "country", "US");
  sint (o, "created", 1600000000);
  sstr (o, "default_currency", "usd");
  sbool (o, "details_submitted", TRUE);
  sstr (o, "email", "billing@lumen.example");
  sobj (o, "metadata", json_object_new ());
  sbool (o, "payouts_enabled", TRUE);
  sobj (o, "settings", settings);
  sstr (o, "type", "standard");
  respond_object (c, o);
}

static JsonObject *
list_subscriptions_of (Ctx        *c,
                       const char *customer)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (c->self, "SELECT data FROM sandbox_stripe_objects"
                               " WHERE object = 'subscription' AND customer = ?"
                               " AND json_extract(data, '$.status') NOT IN ('canceled', 'incomplete_expired')"
                               " ORDER BY created DESC, seq DESC");
  JsonArray *data = json_array_new ();
  g_autofree char *url = g_strdup_printf ("/v1/customers/%s/subscriptions", customer);

  sqlite3_bind_text (s, 1, customer, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      JsonObject *o = parse_object ((const char *) sqlite3_column_text (s, 0));
      if (o != NULL)
        json_array_add_object_element (data, o);
    }
  return list_object (url, data, TRUE);
}

static JsonObject *
list_refunds_of (Ctx        *c,
                 const char *charge)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (c->self, "SELECT data FROM sandbox_stripe_objects"
                               " WHERE object = 'refund' AND parent = ? ORDER BY created DESC, seq DESC");
  JsonArray *data = json_array_new ();
  g_autofree char *url = g_strdup_printf ("/v1/charges/%s/refunds", charge);

  sqlite3_bind_text (s, 1, charge, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      JsonObject *o = parse_object ((const char *) sqlite3_column_text (s, 0));
      if (o != NULL)
        json_array_add_object_element (data, o);
    }
  return list_object (url, data, TRUE);
}

/* A customer from a path argument; NULL after a 404 (deleted customers included). */
static JsonObject *
load_customer_arg (Ctx        *c,
                   const char *id)
{
  JsonObject *customer = store_load (c->self, id, "customer");

  if (customer == NULL || gbool (customer, "deleted"))
    {
      g_clear_pointer (&customer, json_object_unref);
      respond_no_such (c, "customer", id, "id");
    }
  return customer;
}

static JsonObject *
new_test_card (Ctx        *c,
               JsonObject *customer,
               guint       card)
{
  g_autofree char *id = RNG_ID (ctx_rng (c), "pm_1");
  g_autofree char *fingerprint = rng_id (ctx_rng (c), "", 16);
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (c->now);
  JsonObject *method;

  method = build_payment_method (id, customer, test_cards[card].brand, test_cards[card].last4,
                                 g_date_time_get_month (now), g_date_time_get_year (now) + 1,
                                 fingerprint, c->now);
  ctx_insert (c, method, NULL, test_cards[card].decline);
  return method;
}

/* A payment method for @customer from @param: a test card token (pm_card_visa …) makes a
 * new one; an unattached one is attached; one of the customer's is taken as it is.
 * NULL after responding. */
static JsonObject *
resolve_payment_method (Ctx        *c,
                        JsonObject *customer,
                        const char *param,
                        const char *id)
{
  JsonObject *method;

  for (guint i = 0; i < G_N_ELEMENTS (test_cards); i++)
    if (g_strcmp0 (id, test_cards[i].token) == 0)
      return new_test_card (c, customer, i);

  method = store_load (c->self, id, "payment_method");
  if (method == NULL)
    {
      invalid (c, "resource_missing", param, "No such PaymentMethod: '%s'", id ? id : "");
      return NULL;
    }
  if (gstr (method, "customer") == NULL)
    {
      sstr (method, "customer", gstr (customer, "id"));
      ctx_save (c, method);
      return method;
    }
  if (!g_str_equal (gstr (method, "customer"), gstr (customer, "id")))
    {
      invalid (c, "payment_method_unexpected_state", param,
               "The customer does not have a payment method with the ID %s. The payment method "
               "must be attached to the customer.", id);
      json_object_unref (method);
      return NULL;
    }
  return method;
}

/* The fields customers' create and update share. FALSE after responding. */
static gboolean
apply_customer_params (Ctx        *c,
                       JsonObject *customer)
{
  static const char * const texts[] = { "name", "email", "description", "phone" };
  const char *default_method = pget (c, "invoice_settings[default_payment_method]");
  const char *attach = pget (c, "payment_method");
  gint64 balance;
  gboolean has_balance;

  if (!pint (c, "balance", &balance, &has_balance))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      const char *value = pget (c, texts[i]);

      if (value != NULL)
        sstr (customer, texts[i], value[0] != '\0' ? value : NULL);
    }
  if (has_balance)
    sint (customer, "balance", balance);
  apply_metadata (c, customer, "metadata");

  if (attach != NULL)
    {
      g_autoptr(JsonObject) method = resolve_payment_method (c, customer, "payment_method", attach);

      if (method == NULL)
        return FALSE;
    }
  if (default_method != NULL && default_method[0] == '\0')
    snull (gobj (customer, "invoice_settings"), "default_payment_method");
  else if (default_method != NULL)
    {
      g_autoptr(JsonObject) method =
        resolve_payment_method (c, customer, "invoice_settings[default_payment_method]", default_method);

      if (method == NULL)
        return FALSE;
      sstr (gobj (customer, "invoice_settings"), "default_payment_method", gstr (method, "id"));
    }
  return TRUE;
}

static void
handle_customers_list (Ctx   *c,
                       char **args)
{
  ListQuery q = { .object = "customer", .url = g_strdup ("/v1/customers") };

  list_where (&q, "json_extract(data, '$.deleted') IS NULL", NULL);
  if (pget (c, "email") != NULL)
    list_where (&q, "json_extract(data, '$.email') = ?", pget (c, "email"));
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_customer_create (Ctx   *c,
                        char **args)
{
  g_autofree char *id = rng_id (ctx_rng (c), "cus_", 14);
  g_autofree char *prefix = rng_id (ctx_rng (c), "", 8);
  g_autofree char *upper = g_ascii_strup (prefix, -1);
  g_autoptr(JsonObject) customer = build_customer (id, NULL, NULL, NULL, upper, c->now);

  ctx_insert (c, customer, NULL, NULL);
  if (!apply_customer_params (c, customer))
    {
      c->rollback = TRUE;
      return;
    }
  ctx_save (c, customer);
  respond_object (c, customer);
}

static void
handle_customer (Ctx   *c,
                 char **args)
{
  g_autoptr(JsonObject) customer = store_load (c->self, args[0], "customer");

  /* A deleted customer is still found, as {"id", "object", "deleted": true}. */
  if (customer == NULL)
    respond_no_such (c, "customer", args[0], "id");
  else
    respond_object (c, customer);
}

static void
handle_customer_update (Ctx   *c,
                        char **args)
{
  g_autoptr(JsonObject) customer = load_customer_arg (c, args[0]);

  if (customer == NULL)
    return;
  if (!apply_customer_params (c, customer))
    {
      c->rollback = TRUE;
      return;
    }
  ctx_save (c, customer);
  respond_object (c, customer);
}

static void
handle_customer_delete (Ctx   *c,
                        char **args)
{
  g_autoptr(JsonObject) customer = load_customer_arg (c, args[0]);
  g_autoptr(JsonObject) deleted = NULL;
  g_autoptr(FdSandboxStmt) s = NULL;
  g_autoptr(GPtrArray) subs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  if (customer == NULL)
    return;

  /* Deleting a customer cancels their subscriptions at once. */
  s = _fd_sandbox_stmt (c->self, "SELECT data FROM sandbox_stripe_objects WHERE object = 'subscription'"
                                 " AND customer = ? AND json_extract(data, '$.status') <> 'canceled'");
  sqlite3_bind_text (s, 1, args[0], -1, SQLITE_TRANSIENT);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      JsonObject *sub = parse_object ((const char *) sqlite3_column_text (s, 0));
      if (sub != NULL)
        g_ptr_array_add (subs, sub);
    }
  sqlite3_reset (s);
  for (guint i = 0; i < subs->len; i++)
    {
      JsonObject *sub = g_ptr_array_index (subs, i);

      sstr (sub, "status", "canceled");
      sint (sub, "canceled_at", c->now);
      sint (sub, "ended_at", c->now);
      ctx_save (c, sub);
    }

  deleted = json_object_new ();
  sstr (deleted, "id", args[0]);
  sstr (deleted, "object", "customer");
  sbool (deleted, "deleted", TRUE);
  sint (deleted, "created", gnum (customer, "created", 0));
  ctx_save (c, deleted);
  json_object_remove_member (deleted, "created");
  respond_object_status (c, 200, deleted);
}

typedef struct
{
  char     *field;     /* email, name, phone, metadata */
  char     *key;       /* metadata['key'] */
  char      op;        /* ':' or '~' */
  char     *value;
  gboolean  negate;
} Clause;

static void
clause_free (gpointer data)
{
  Clause *clause = data;

  g_free (clause->field);
  g_free (clause->key);
  g_free (clause->value);
  g_free (clause);
}

static char *
read_quoted (const char **p)
{
  char quote = **p;
  GString *out = g_string_new (NULL);

  (*p)++;
  while (**p != '\0' && **p != quote)
    {
      if (**p == '\\' && (*p)[1] != '\0')
        (*p)++;
      g_string_append_c (out, **p);
      (*p)++;
    }
  if (**p != quote)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  (*p)++;
  return g_string_free (out, FALSE);
}

/* Stripe's search language, the part that finds customers: email, name, phone and
 * metadata['key'] with : (equals) or ~ (contains), negated with -, joined with AND or
 * OR (not both). Case does not matter. */
static GPtrArray *
parse_search (const char  *query,
              gboolean    *any,
              char       **error)
{
  g_autoptr(GPtrArray) clauses = g_ptr_array_new_with_free_func (clause_free);
  const char *p = query;
  gboolean seen_and = FALSE, seen_or = FALSE;

  while (TRUE)
    {
      Clause *clause = g_new0 (Clause, 1);
      const char *start;

      g_ptr_array_add (clauses, clause);
      while (*p == ' ')
        p++;
      if (*p == '-')
        {
          clause->negate = TRUE;
          p++;
        }
      start = p;
      while (g_ascii_isalnum (*p) || *p == '_')
        p++;
      clause->field = g_strndup (start, (gsize) (p - start));
      if (g_str_equal (clause->field, "metadata") && *p == '[')
        {
          p++;
          if ((*p != '\'' && *p != '"') || (clause->key = read_quoted (&p)) == NULL || *p != ']')
            {
              *error = g_strdup ("metadata needs a quoted key: metadata['key']:'value'.");
              return NULL;
            }
          p++;
        }
      if (!in_list (clause->field, (const char * const[]) { "email", "name", "phone", "metadata" }, 4) ||
          (g_str_equal (clause->field, "metadata") && clause->key == NULL))
        {
          *error = g_strdup_printf ("Field `%s` is an unsupported search field for resource "
                                    "`customers`. See http://stripe.com/docs/search#query-fields-for-customers "
                                    "for a list of supported fields.", clause->field);
          return NULL;
        }
      if (*p != ':' && *p != '~')
        {
          *error = g_strdup_printf ("We were unable to parse your search query near “%s”. "
                                    "Write field:'value' or field~'value'.", start);
          return NULL;
        }
      clause->op = *p++;
      if ((*p != '\'' && *p != '"') || (clause->value = read_quoted (&p)) == NULL)
        {
          *error = g_strdup ("Search values must be quoted: email:'jane@example.com'.");
          return NULL;
        }
      if (clause->op == '~' && g_utf8_strlen (clause->value, -1) < 3)
        {
          *error = g_strdup ("Substring (~) queries need at least 3 characters.");
          return NULL;
        }

      while (*p == ' ')
        p++;
      if (*p == '\0')
        break;
      if (g_str_has_prefix (p, "AND "))
        {
          seen_and = TRUE;
          p += 4;
        }
      else if (g_str_has_prefix (p, "OR "))
        {
          seen_or = TRUE;
          p += 3;
        }
      else
        {
          *error = g_strdup_printf ("We were unable to parse your search query near “%s”. "
                                    "Join clauses with AND or OR.", p);
          return NULL;
        }
    }

  if (seen_and && seen_or)
    {
      *error = g_strdup ("Queries cannot combine AND and OR.");
      return NULL;
    }
  *any = seen_or;
  return g_steal_pointer (&clauses);
}

static gboolean
clause_matches (Clause     *clause,
                JsonObject *customer)
{
  const char *value = clause->key != NULL ? gstr (gobj (customer, "metadata"), clause->key)
                                          : gstr (customer, clause->field);
  g_autofree char *have = value != NULL ? g_utf8_casefold (value, -1) : NULL;
  g_autofree char *want = g_utf8_casefold (clause->value, -1);
  gboolean match;

  if (have == NULL)
    match = FALSE;
  else if (clause->op == ':')
    match = g_str_equal (have, want);
  else
    match = strstr (have, want) != NULL;
  return clause->negate ? !match : match;
}

static void
handle_customer_search (Ctx   *c,
                        char **args)
{
  const char *query = pget (c, "query");
  const char *page = pget (c, "page");
  g_autoptr(GPtrArray) clauses = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autofree char *error = NULL;
  JsonArray *data;
  ListQuery q = { .object = "customer" };
  gboolean any = FALSE;
  gint64 limit = 10;
  guint64 offset = 0;
  guint matched = 0, i;

  if (query == NULL)
    {
      respond_missing_param (c, "query");
      return;
    }
  if (!pint (c, "limit", &limit, NULL))
    return;
  if (limit < 1 || limit > 100)
    {
      invalid (c, "parameter_invalid_integer", "limit", "Invalid limit: must be between 1 and 100");
      return;
    }
  if (page != NULL)
    {
      gsize length = 0;
      g_autofree guchar *decoded = g_base64_decode (page, &length);
      g_autofree char *text = g_strndup ((const char *) decoded, length);

      if (!g_str_has_prefix (text, "offset:") ||
          !g_ascii_string_to_unsigned (text + 7, 10, 0, G_MAXUINT, &offset, NULL))
        {
          invalid (c, "parameter_invalid_string", "page", "Invalid page: %s", page);
          return;
        }
    }

  clauses = parse_search (query, &any, &error);
  if (clauses == NULL)
    {
      invalid (c, "parameter_invalid_string", "query", "%s", error);
      return;
    }

  list_where (&q, "json_extract(data, '$.deleted') IS NULL", NULL);
  rows = query_rows (c, &q);
  data = json_array_new ();
  for (i = 0; i < rows->len; i++)
    {
      g_autoptr(JsonObject) customer = parse_object (((Row *) g_ptr_array_index (rows, i))->data);
      gboolean match = !any;

      for (guint k = 0; customer != NULL && k < clauses->len; k++)
        {
          gboolean one = clause_matches (g_ptr_array_index (clauses, k), customer);

          match = any ? (match || one) : (match && one);
        }
      if (customer == NULL || !match)
        continue;
      if (matched++ < offset)
        continue;
      if (json_array_get_length (data) == (guint) limit)
        break;
      json_array_add_object_element (data, g_steal_pointer (&customer));
    }

  result = json_object_new ();
  sstr (result, "object", "search_result");
  sarr (result, "data", data);
  sbool (result, "has_more", i < rows->len);
  if (i < rows->len)
    {
      g_autofree char *next = g_strdup_printf ("offset:%" G_GUINT64_FORMAT,
                                               offset + json_array_get_length (data));
      g_autofree char *token = g_base64_encode ((const guchar *) next, strlen (next));

      sstr (result, "next_page", token);
    }
  else
    snull (result, "next_page");
  sstr (result, "url", "/v1/customers/search");
  respond_object (c, result);
  list_query_clear (&q);
}

/* }}} */
/* {{{ Payment methods, products and prices */

static void
handle_payment_methods_list (Ctx   *c,
                             char **args)
{
  const char *customer = args[0] != NULL ? args[0] : pget (c, "customer");
  ListQuery q = { .object = "payment_method" };

  if (args[0] != NULL)
    {
      g_autoptr(JsonObject) owner = load_customer_arg (c, args[0]);

      if (owner == NULL)
        return;
      q.url = g_strdup_printf ("/v1/customers/%s/payment_methods", args[0]);
    }
  else
    q.url = g_strdup ("/v1/payment_methods");

  if (customer != NULL)
    list_where (&q, "customer = ?", customer);
  if (pget (c, "type") != NULL)
    list_where (&q, "json_extract(data, '$.type') = ?", pget (c, "type"));
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_payment_method (Ctx   *c,
                       char **args)
{
  g_autoptr(JsonObject) method = store_load (c->self, args[0], "payment_method");

  if (method == NULL)
    respond_no_such (c, "PaymentMethod", args[0], "payment_method");
  else
    respond_object (c, method);
}

static void
handle_payment_method_attach (Ctx   *c,
                              char **args)
{
  const char *customer_id = pget (c, "customer");
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) method = NULL;

  if (customer_id == NULL)
    {
      respond_missing_param (c, "customer");
      return;
    }
  customer = store_load (c->self, customer_id, "customer");
  if (customer == NULL || gbool (customer, "deleted"))
    {
      invalid (c, "resource_missing", "customer", "No such customer: '%s'", customer_id);
      return;
    }
  method = resolve_payment_method (c, customer, "payment_method", args[0]);
  if (method != NULL)
    respond_object (c, method);
}

static void
handle_payment_method_detach (Ctx   *c,
                              char **args)
{
  g_autoptr(JsonObject) method = store_load (c->self, args[0], "payment_method");
  g_autoptr(JsonObject) customer = NULL;
  JsonObject *settings;

  if (method == NULL)
    {
      respond_no_such (c, "PaymentMethod", args[0], "payment_method");
      return;
    }
  if (gstr (method, "customer") == NULL)
    {
      invalid (c, "payment_method_unexpected_state", NULL,
               "The payment method you provided is not attached to a customer so detachment is impossible.");
      return;
    }
  customer = store_load (c->self, gstr (method, "customer"), "customer");
  settings = gobj (customer, "invoice_settings");
  if (settings != NULL && g_strcmp0 (gstr (settings, "default_payment_method"), args[0]) == 0)
    {
      snull (settings, "default_payment_method");
      ctx_save (c, customer);
    }
  snull (method, "customer");
  ctx_save (c, method);
  respond_object (c, method);
}

static gboolean
keep_lookup_keys (Ctx        *c,
                  JsonObject *price,
                  gpointer    data)
{
  for (guint i = 0; i < c->params->len; i++)
    {
      Param *param = g_ptr_array_index (c->params, i);

      if (g_str_has_prefix (param->name, "lookup_keys[") &&
          g_strcmp0 (gstr (price, "lookup_key"), param->value) == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
keep_ids (Ctx        *c,
          JsonObject *o,
          gpointer    data)
{
  for (guint i = 0; i < c->params->len; i++)
    {
      Param *param = g_ptr_array_index (c->params, i);

      if (g_str_has_prefix (param->name, "ids[") && g_strcmp0 (gstr (o, "id"), param->value) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
where_active (Ctx       *c,
              ListQuery *q)
{
  const char *active = pget (c, "active");

  if (g_strcmp0 (active, "true") == 0)
    list_where (q, "json_extract(data, '$.active') = 1", NULL);
  else if (g_strcmp0 (active, "false") == 0)
    list_where (q, "json_extract(data, '$.active') = 0", NULL);
}

static void
handle_prices_list (Ctx   *c,
                    char **args)
{
  ListQuery q = { .object = "price", .url = NULL };
  gboolean active;

  if (!pbool (c, "active", &active, NULL))
    return;
  q.url = g_strdup ("/v1/prices");
  where_active (c, &q);
  if (pget (c, "product") != NULL)
    list_where (&q, "parent = ?", pget (c, "product"));
  if (pget (c, "currency") != NULL)
    list_where (&q, "json_extract(data, '$.currency') = ?", pget (c, "currency"));
  if (pget (c, "type") != NULL)
    list_where (&q, "json_extract(data, '$.type') = ?", pget (c, "type"));
  if (pget (c, "recurring[interval]") != NULL)
    list_where (&q, "json_extract(data, '$.recurring.interval') = ?", pget (c, "recurring[interval]"));
  if (phas_prefix (c, "lookup_keys["))
    q.keep = keep_lookup_keys;
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_products_list (Ctx   *c,
                      char **args)
{
  ListQuery q = { .object = "product", .url = NULL };
  gboolean active;

  if (!pbool (c, "active", &active, NULL))
    return;
  q.url = g_strdup ("/v1/products");
  where_active (c, &q);
  if (phas_prefix (c, "ids["))
    q.keep = keep_ids;
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_retrieve (Ctx        *c,
                 const char *id,
                 const char *type,
                 const char *what)
{
  g_autoptr(JsonObject) o = store_load (c->self, id, type);

  if (o == NULL)
    respond_no_such (c, what, id, "id");
  else
    respond_object (c, o);
}

static void
handle_price (Ctx   *c,
              char **args)
{
  handle_retrieve (c, args[0], "price", "price");
}

static void
handle_product (Ctx   *c,
                char **args)
{
  handle_retrieve (c, args[0], "product", "product");
}

/* }}} */
/* {{{ Subscriptions */

static const char * const proration_behaviors[] = { "create_prorations", "none", "always_invoice", NULL };

static gboolean
keep_price (Ctx        *c,
            JsonObject *sub,
            gpointer    data)
{
  JsonArray *items = subscription_items (sub);

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    if (g_strcmp0 (gid (json_array_get_object_element (items, i), "price"), pget (c, "price")) == 0)
      return TRUE;
  return FALSE;
}

static void
handle_subscriptions_list (Ctx   *c,
                           char **args)
{
  static const char * const statuses[] = {
    "active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due",
    "paused", "trialing", "unpaid", NULL,
  };
  const char *status = pget (c, "status");
  ListQuery q = { .object = "subscription", .url = g_strdup ("/v1/subscriptions") };

  if (!penum (c, "status", statuses))
    {
      list_query_clear (&q);
      return;
    }
  if (pget (c, "customer") != NULL)
    list_where (&q, "customer = ?", pget (c, "customer"));
  if (status == NULL)
    list_where (&q, "json_extract(data, '$.status') NOT IN ('canceled', 'incomplete_expired')", NULL);
  else if (g_str_equal (status, "ended"))
    list_where (&q, "json_extract(data, '$.status') IN ('canceled', 'incomplete_expired')", NULL);
  else if (!g_str_equal (status, "all"))
    list_where (&q, "json_extract(data, '$.status') = ?", status);
  if (pget (c, "collection_method") != NULL)
    list_where (&q, "json_extract(data, '$.collection_method') = ?", pget (c, "collection_method"));
  if (pget (c, "price") != NULL)
    q.keep = keep_price;
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_subscription (Ctx   *c,
                     char **args)
{
  handle_retrieve (c, args[0], "subscription", "subscription");
}

static JsonObject *
load_subscription_arg (Ctx        *c,
                       const char *id)
{
  JsonObject *sub = store_load (c->self, id, "subscription");

  if (sub == NULL)
    respond_no_such (c, "subscription", id, "id");
  return sub;
}

/* Responds with the subscription as it now is (after the status follows its invoices). */
static void
respond_subscription (Ctx        *c,
                      const char *id)
{
  g_autoptr(JsonObject) sub = NULL;

  refresh_subscription (c, id);
  sub = store_load (c->self, id, "subscription");
  respond_object (c, sub);
}

/* cancel_at_period_end, cancel_at, pause_collection, default_payment_method,
 * collection_method, days_until_due, description, metadata and cancellation_details.
 * FALSE after responding. */
static gboolean
apply_subscription_params (Ctx        *c,
                           JsonObject *sub,
                           JsonObject *customer)
{
  static const char * const pause_behaviors[] = { "keep_as_draft", "mark_uncollectible", "void", NULL };
  static const char * const collection_methods[] = { "charge_automatically", "send_invoice", NULL };
  static const char * const feedbacks[] = {
    "customer_service", "low_quality", "missing_features", "other", "switched_service",
    "too_complex", "too_expensive", "unused", NULL,
  };
  JsonObject *cancellation = gobj (sub, "cancellation_details");
  gboolean at_period_end = FALSE, has_at_period_end;
  const char *cancel_at = pget (c, "cancel_at");
  const char *method_id = pget (c, "default_payment_method");
  const char *collection = pget (c, "collection_method");
  gint64 days = 0, resumes_at = 0, cancel_at_value = 0;
  gboolean has_days, has_resumes;

  if (!pbool (c, "cancel_at_period_end", &at_period_end, &has_at_period_end) ||
      !pint (c, "days_until_due", &days, &has_days) ||
      !pint (c, "pause_collection[resumes_at]", &resumes_at, &has_resumes) ||
      !penum (c, "pause_collection[behavior]", pause_behaviors) ||
      !penum (c, "collection_method", collection_methods) ||
      !penum (c, "cancellation_details[feedback]", feedbacks))
    return FALSE;
  if (cancel_at != NULL && cancel_at[0] != '\0' && !pint (c, "cancel_at", &cancel_at_value, NULL))
    return FALSE;

  if (has_at_period_end)
    {
      sbool (sub, "cancel_at_period_end", at_period_end);
      if (at_period_end)
        {
          sint (sub, "cancel_at", gnum (sub, "current_period_end", 0));
          sint (sub, "canceled_at", c->now);
          sstr (cancellation, "reason", "cancellation_requested");
        }
      else
        {
          snull (sub, "cancel_at");
          snull (sub, "canceled_at");
          snull (cancellation, "comment");
          snull (cancellation, "feedback");
          snull (cancellation, "reason");
        }
    }
  if (cancel_at != NULL)
    {
      if (cancel_at[0] == '\0')
        {
          snull (sub, "cancel_at");
          snull (sub, "canceled_at");
          sbool (sub, "cancel_at_period_end", FALSE);
          snull (cancellation, "reason");
        }
      else
        {
          sint (sub, "cancel_at", cancel_at_value);
          sint (sub, "canceled_at", c->now);
          sbool (sub, "cancel_at_period_end", cancel_at_value == gnum (sub, "current_period_end", 0));
          sstr (cancellation, "reason", "cancellation_requested");
        }
    }
  if (pget (c, "cancellation_details[comment]") != NULL)
    sstr (cancellation, "comment", pget (c, "cancellation_details[comment]")[0] != '\0'
                                   ? pget (c, "cancellation_details[comment]") : NULL);
  if (pget (c, "cancellation_details[feedback]") != NULL)
    sstr (cancellation, "feedback", pget (c, "cancellation_details[feedback]"));

  if (g_strcmp0 (pget (c, "pause_collection"), "") == 0)
    snull (sub, "pause_collection");
  else if (pget (c, "pause_collection[behavior]") != NULL)
    {
      JsonObject *pause = json_object_new ();

      sstr (pause, "behavior", pget (c, "pause_collection[behavior]"));
      stime (pause, "resumes_at", has_resumes ? resumes_at : 0);
      sobj (sub, "pause_collection", pause);
    }
  else if (phas_prefix (c, "pause_collection["))
    {
      respond_missing_param (c, "pause_collection[behavior]");
      return FALSE;
    }

  if (method_id != NULL && method_id[0] == '\0')
    snull (sub, "default_payment_method");
  else if (method_id != NULL)
    {
      g_autoptr(JsonObject) method = resolve_payment_method (c, customer, "default_payment_method", method_id);

      if (method == NULL)
        return FALSE;
      sstr (sub, "default_payment_method", gstr (method, "id"));
    }

  if (collection != NULL)
    sstr (sub, "collection_method", collection);
  if (has_days)
    sint (sub, "days_until_due", days);
  if (g_strcmp0 (gstr (sub, "collection_method"), "send_invoice") == 0 && gnull (sub, "days_until_due"))
    {
      respond_missing_param (c, "days_until_due");
      return FALSE;
    }
  if (g_strcmp0 (gstr (sub, "collection_method"), "charge_automatically") == 0)
    snull (sub, "days_until_due");
  if (pget (c, "description") != NULL)
    sstr (sub, "description", pget (c, "description")[0] != '\0' ? pget (c, "description") : NULL);
  apply_metadata (c, sub, "metadata");
  return TRUE;
}

static void
handle_subscription_create (Ctx   *c,
                            char **args)
{
  static const char * const payment_behaviors[] = {
    "allow_incomplete", "default_incomplete", "error_if_incomplete", NULL,
  };
  const char *customer_id = pget (c, "customer");
  const char *behavior = pget (c, "payment_behavior");
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) sub = NULL;
  g_autoptr(GPtrArray) slots = NULL;
  g_autoptr(JsonObject) invoice = NULL;
  g_autoptr(JsonObject) charge = NULL;
  g_autofree char *id = RNG_ID (ctx_rng (c), "sub_1");
  const Decline *decline = NULL;
  gint64 trial_days = 0, end;
  gboolean has_trial;

  if (customer_id == NULL)
    {
      respond_missing_param (c, "customer");
      return;
    }
  customer = store_load (c->self, customer_id, "customer");
  if (customer == NULL || gbool (customer, "deleted"))
    {
      invalid (c, "resource_missing", "customer", "No such customer: '%s'", customer_id);
      return;
    }
  if (pget (c, "items[0][price]") == NULL)
    {
      respond_missing_param (c, phas_prefix (c, "items[") ? "items[0][price]" : "items");
      return;
    }
  if (!penum (c, "payment_behavior", payment_behaviors) ||
      !pint (c, "trial_period_days", &trial_days, &has_trial))
    return;
  first = load_price_param (c, "items[0][price]", gstr (customer, "currency"));
  if (first == NULL)
    return;

  end = has_trial && trial_days > 0 ? c->now + trial_days * DAY
                                    : add_interval (c->now, price_interval (first), 1);
  sub = build_subscription (id, customer_id, gstr (first, "currency"), FALSE, c->now, end, c->now,
                            has_trial && trial_days > 0 ? "trialing" : "incomplete");
  slots = parse_slots (c, sub, "items");
  if (slots == NULL || !apply_subscription_params (c, sub, customer))
    return;
  for (guint i = 0; i < slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (slots, i);
      JsonObject *item;

      if (slot->new_price == NULL)
        continue;
      item = build_item (slot->item_id, id, slot->new_price, slot->new_quantity, c->now);
      subscription_add_item (sub, item);
    }
  if (gstr (customer, "currency") == NULL)
    sstr (customer, "currency", gstr (first, "currency"));
  ctx_insert (c, sub, NULL, NULL);

  if (has_trial && trial_days > 0)
    {
      g_autofree char *name = product_name (c->self, first);
      g_autofree char *description = g_strdup_printf ("Trial period for %s", name);
      g_autofree char *line_id = RNG_ID (ctx_rng (c), "il_1");
      JsonArray *lines = json_array_new ();
      Slot *slot = g_ptr_array_index (slots, 0);

      sint (sub, "trial_start", c->now);
      sint (sub, "trial_end", end);
      json_array_add_object_element (lines, build_line (line_id, first, slot->new_quantity, 0,
                                                        description, c->now, end, FALSE, id,
                                                        slot->item_id, NULL));
      invoice = invoice_now (c, customer, sub, lines, "subscription_create", c->now, c->now,
                             &decline, NULL);
    }
  else if (g_strcmp0 (behavior, "default_incomplete") == 0)
    {
      JsonArray *lines = json_array_new ();
      g_autofree char *invoice_id = RNG_ID (ctx_rng (c), "in_1");

      add_period_lines (c, sub, slots, c->now, lines);
      invoice = build_invoice (invoice_id, customer, sub, lines, NULL, c->now, c->now, c->now,
                               "subscription_create");
      invoice_finalize (invoice, customer, ctx_rng (c), c->now, gnum (sub, "days_until_due", 30));
      ctx_insert (c, invoice, id, NULL);
      sstr (sub, "latest_invoice", invoice_id);
      ctx_save (c, customer);
    }
  else
    {
      JsonArray *lines = json_array_new ();

      add_period_lines (c, sub, slots, c->now, lines);
      invoice = invoice_now (c, customer, sub, lines, "subscription_create", c->now, c->now,
                             &decline, &charge);
      if (decline != NULL && g_strcmp0 (behavior, "error_if_incomplete") == 0)
        {
          g_autoptr(JsonObject) method = default_payment_method (c, invoice, customer);

          c->rollback = TRUE;
          respond_card_error (c, decline, charge, method);
          return;
        }
    }

  if (g_strcmp0 (gstr (sub, "status"), "incomplete") == 0 &&
      (g_strcmp0 (gstr (invoice, "status"), "paid") == 0 ||
       g_strcmp0 (gstr (sub, "collection_method"), "send_invoice") == 0))
    sstr (sub, "status", "active");
  ctx_save (c, sub);
  respond_subscription (c, id);
}

static void
handle_subscription_update (Ctx   *c,
                            char **args)
{
  static const char * const payment_behaviors[] = {
    "allow_incomplete", "error_if_incomplete", NULL,
  };
  g_autoptr(JsonObject) sub = load_subscription_arg (c, args[0]);
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(GPtrArray) slots = NULL;
  g_autoptr(JsonObject) invoice = NULL;
  g_autoptr(JsonObject) charge = NULL;
  const char *behavior = pget (c, "proration_behavior");
  const Decline *decline = NULL;
  gint64 proration_date = c->now;
  gboolean has_date;

  if (sub == NULL)
    return;
  customer = store_load (c->self, gstr (sub, "customer"), "customer");

  if (g_strcmp0 (gstr (sub, "status"), "canceled") == 0)
    {
      for (guint i = 0; i < c->params->len; i++)
        {
          const char *name = ((Param *) g_ptr_array_index (c->params, i))->name;

          if (!g_str_has_prefix (name, "metadata") && !g_str_has_prefix (name, "cancellation_details") &&
              !g_str_has_prefix (name, "expand"))
            {
              invalid (c, NULL, name,
                       "A canceled subscription can only update its cancellation_details and metadata.");
              return;
            }
        }
    }

  if (!penum (c, "proration_behavior", proration_behaviors) ||
      !penum (c, "payment_behavior", payment_behaviors) ||
      !pint (c, "proration_date", &proration_date, &has_date))
    return;
  if (has_date && (proration_date < gnum (sub, "current_period_start", 0) ||
                   proration_date > gnum (sub, "current_period_end", 0)))
    {
      invalid (c, NULL, "proration_date",
               "The proration_date must be within the current billing period of the subscription.");
      return;
    }

  if (phas_prefix (c, "items["))
    {
      slots = parse_slots (c, sub, "items");
      if (slots == NULL)
        return;
    }
  if (!apply_subscription_params (c, sub, customer))
    {
      c->rollback = TRUE;
      return;
    }

  if (slots != NULL)
    invoice = apply_slots (c, customer, sub, slots, behavior ? behavior : "create_prorations",
                           proration_date, &decline, &charge);
  if (decline != NULL && g_strcmp0 (pget (c, "payment_behavior"), "error_if_incomplete") == 0)
    {
      g_autoptr(JsonObject) method = default_payment_method (c, invoice, customer);

      c->rollback = TRUE;
      respond_card_error (c, decline, charge, method);
      return;
    }

  ctx_save (c, sub);
  ctx_save (c, customer);
  refresh_customer (c, gstr (customer, "id"));
  respond_subscription (c, args[0]);
}

static void
handle_subscription_cancel (Ctx   *c,
                            char **args)
{
  static const char * const feedbacks[] = {
    "customer_service", "low_quality", "missing_features", "other", "switched_service",
    "too_complex", "too_expensive", "unused", NULL,
  };
  g_autoptr(JsonObject) sub = load_subscription_arg (c, args[0]);
  g_autoptr(JsonObject) customer = NULL;
  JsonObject *cancellation;
  gboolean prorate = FALSE, invoice_now_flag = FALSE;

  if (sub == NULL)
    return;
  if (!pbool (c, "prorate", &prorate, NULL) || !pbool (c, "invoice_now", &invoice_now_flag, NULL) ||
      !penum (c, "cancellation_details[feedback]", feedbacks))
    return;
  if (g_strcmp0 (gstr (sub, "status"), "canceled") == 0)
    {
      invalid (c, NULL, NULL, "This subscription has already been canceled.");
      return;
    }
  customer = store_load (c->self, gstr (sub, "customer"), "customer");

  if (prorate || invoice_now_flag)
    {
      g_autoptr(GPtrArray) slots = slots_of (sub);
      g_autoptr(JsonObject) invoice = NULL;
      JsonArray *lines = json_array_new ();
      const Decline *decline = NULL;

      for (guint i = 0; i < slots->len; i++)
        g_clear_pointer (&((Slot *) g_ptr_array_index (slots, i))->new_price, json_object_unref);
      if (prorate)
        add_proration_lines (c, sub, slots, c->now, FALSE, lines);
      if (invoice_now_flag)
        invoice = invoice_now (c, customer, sub, lines, "subscription_cycle", c->now, c->now,
                               &decline, NULL);
      else
        {
          for (guint i = 0; i < json_array_get_length (lines); i++)
            {
              g_autofree char *id = RNG_ID (ctx_rng (c), "ii_1");
              g_autoptr(JsonObject) item =
                build_invoice_item (id, json_array_get_object_element (lines, i),
                                    gstr (customer, "id"), c->now);
              ctx_insert (c, item, args[0], NULL);
            }
          json_array_unref (lines);
        }
    }

  cancellation = gobj (sub, "cancellation_details");
  sstr (sub, "status", "canceled");
  sint (sub, "canceled_at", c->now);
  sint (sub, "ended_at", c->now);
  sbool (sub, "cancel_at_period_end", FALSE);
  snull (sub, "cancel_at");
  sstr (cancellation, "reason", "cancellation_requested");
  if (pget (c, "cancellation_details[comment]") != NULL)
    sstr (cancellation, "comment", pget (c, "cancellation_details[comment]"));
  if (pget (c, "cancellation_details[feedback]") != NULL)
    sstr (cancellation, "feedback", pget (c, "cancellation_details[feedback]"));
  ctx_save (c, sub);
  ctx_save (c, customer);
  refresh_customer (c, gstr (sub, "customer"));
  respond_object (c, sub);
}

/* }}} */
/* {{{ Invoices */

static void
handle_invoices_list (Ctx   *c,
                      char **args)
{
  static const char * const statuses[] = { "draft", "open", "paid", "uncollectible", "void", NULL };
  ListQuery q = { .object = "invoice", .url = g_strdup ("/v1/invoices") };

  if (!penum (c, "status", statuses))
    {
      list_query_clear (&q);
      return;
    }
  if (pget (c, "customer") != NULL)
    list_where (&q, "customer = ?", pget (c, "customer"));
  if (pget (c, "subscription") != NULL)
    list_where (&q, "parent = ?", pget (c, "subscription"));
  if (pget (c, "status") != NULL)
    list_where (&q, "json_extract(data, '$.status') = ?", pget (c, "status"));
  if (pget (c, "collection_method") != NULL)
    list_where (&q, "json_extract(data, '$.collection_method') = ?", pget (c, "collection_method"));
  respond_list (c, &q);
  list_query_clear (&q);
}

static JsonObject *
load_invoice_arg (Ctx        *c,
                  const char *id)
{
  JsonObject *invoice = store_load (c->self, id, "invoice");

  if (invoice == NULL)
    respond_no_such (c, "invoice", id, "invoice");
  return invoice;
}

static void
handle_invoice (Ctx   *c,
                char **args)
{
  g_autoptr(JsonObject) invoice = load_invoice_arg (c, args[0]);

  if (invoice != NULL)
    respond_object (c, invoice);
}

/* A page of an object's embedded list (an invoice's lines). */
static void
respond_array_page (Ctx        *c,
                    JsonObject *list)
{
  JsonArray *all = garr (list, "data");
  const char *after = pget (c, "starting_after");
  g_autoptr(JsonObject) page = NULL;
  JsonArray *data = json_array_new ();
  gint64 limit = 10;
  guint start = 0, n = all != NULL ? json_array_get_length (all) : 0, i;

  if (!pint (c, "limit", &limit, NULL))
    {
      json_array_unref (data);
      return;
    }
  limit = CLAMP (limit, 1, 100);
  for (i = 0; after != NULL && i < n; i++)
    if (g_strcmp0 (gstr (json_array_get_object_element (all, i), "id"), after) == 0)
      {
        start = i + 1;
        break;
      }
  for (i = start; i < n && i < start + (guint) limit; i++)
    json_array_add_object_element (data, json_object_ref (json_array_get_object_element (all, i)));

  page = list_object (gstr (list, "url"), data, FALSE);
  sbool (page, "has_more", i < n);
  respond_object (c, page);
}

static void
handle_invoice_lines (Ctx   *c,
                      char **args)
{
  g_autoptr(JsonObject) invoice = load_invoice_arg (c, args[0]);

  if (invoice != NULL)
    respond_array_page (c, gobj (invoice, "lines"));
}

static void
handle_invoice_create (Ctx   *c,
                       char **args)
{
  static const char * const collection_methods[] = { "charge_automatically", "send_invoice", NULL };
  static const char * const pending_behaviors[] = { "exclude", "include", "include_and_require", NULL };
  const char *customer_id = pget (c, "customer");
  const char *pending = pget (c, "pending_invoice_items_behavior");
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) sub = NULL;
  g_autoptr(JsonObject) invoice = NULL;
  g_autofree char *id = NULL;
  JsonArray *lines;
  gint64 days = 30;
  gboolean auto_advance = TRUE, has_auto_advance;

  if (customer_id == NULL)
    {
      respond_missing_param (c, "customer");
      return;
    }
  if (!penum (c, "collection_method", collection_methods) ||
      !penum (c, "pending_invoice_items_behavior", pending_behaviors) ||
      !pint (c, "days_until_due", &days, NULL) ||
      !pbool (c, "auto_advance", &auto_advance, &has_auto_advance))
    return;
  customer = store_load (c->self, customer_id, "customer");
  if (customer == NULL || gbool (customer, "deleted"))
    {
      invalid (c, "resource_missing", "customer", "No such customer: '%s'", customer_id);
      return;
    }
  if (pget (c, "subscription") != NULL)
    {
      sub = store_load (c->self, pget (c, "subscription"), "subscription");
      if (sub == NULL || g_strcmp0 (gstr (sub, "customer"), customer_id) != 0)
        {
          invalid (c, "resource_missing", "subscription", "No such subscription: '%s'",
                   pget (c, "subscription"));
          return;
        }
    }
  if (g_strcmp0 (pget (c, "collection_method"), "send_invoice") == 0 && pget (c, "days_until_due") == NULL)
    {
      respond_missing_param (c, "days_until_due");
      return;
    }

  id = RNG_ID (ctx_rng (c), "in_1");
  lines = json_array_new ();
  if (sub != NULL && g_str_has_prefix (pending != NULL ? pending : "exclude", "include"))
    add_pending_lines (c, sub, lines, id);
  invoice = build_invoice (id, customer, sub, lines, NULL, c->now, c->now, c->now, "manual");
  if (pget (c, "collection_method") != NULL)
    sstr (invoice, "collection_method", pget (c, "collection_method"));
  if (g_strcmp0 (gstr (invoice, "collection_method"), "send_invoice") == 0)
    sint (invoice, "due_date", c->now + days * DAY);
  if (has_auto_advance)
    sbool (invoice, "auto_advance", auto_advance);
  if (pget (c, "description") != NULL)
    sstr (invoice, "description", pget (c, "description"));
  apply_metadata (c, invoice, "metadata");
  ctx_insert (c, invoice, sub != NULL ? gstr (sub, "id") : NULL, NULL);
  respond_object (c, invoice);
}

static void
finalize_draft (Ctx        *c,
                JsonObject *invoice,
                JsonObject *customer)
{
  gint64 due = gnum (invoice, "due_date", 0);
  gint64 days = due > 0 ? MAX (0, (due - c->now + DAY - 1) / DAY) : 30;

  invoice_finalize (invoice, customer, ctx_rng (c), c->now, days);
  if (gnum (invoice, "amount_remaining", 0) <= 0)
    invoice_mark_paid (invoice, c->now, NULL);
  ctx_save (c, customer);
}

static void
handle_invoice_finalize (Ctx   *c,
                         char **args)
{
  g_autoptr(JsonObject) invoice = load_invoice_arg (c, args[0]);
  g_autoptr(JsonObject) customer = NULL;

  if (invoice == NULL)
    return;
  if (g_strcmp0 (gstr (invoice, "status"), "draft") != 0)
    {
      invalid (c, "invoice_unexpected_state", NULL, "This invoice is already finalized, you can't re-finalize a non-draft invoice.");
      return;
    }
  customer = store_load (c->self, gstr (invoice, "customer"), "customer");
  finalize_draft (c, invoice, customer);
  ctx_save (c, invoice);
  refresh_after_invoice (c, invoice);
  respond_object (c, invoice);
}

static void
handle_invoice_pay (Ctx   *c,
                    char **args)
{
  g_autoptr(JsonObject) invoice = load_invoice_arg (c, args[0]);
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) method = NULL;
  g_autoptr(JsonObject) charge = NULL;
  const char *status;
  const Decline *decline;
  gboolean out_of_band = FALSE;

  if (invoice == NULL || !pbool (c, "paid_out_of_band", &out_of_band, NULL))
    return;
  status = gstr (invoice, "status");
  if (g_strcmp0 (status, "paid") == 0)
    {
      invalid (c, "invoice_unexpected_state", NULL, "Invoice is already paid");
      return;
    }
  if (g_strcmp0 (status, "void") == 0)
    {
      invalid (c, "invoice_unexpected_state", NULL,
               "This invoice has been voided and can no longer be paid.");
      return;
    }

  customer = store_load (c->self, gstr (invoice, "customer"), "customer");
  if (g_strcmp0 (status, "draft") == 0)
    finalize_draft (c, invoice, customer);

  if (out_of_band || gnum (invoice, "amount_remaining", 0) <= 0)
    {
      sbool (invoice, "paid_out_of_band", out_of_band);
      invoice_mark_paid (invoice, c->now, NULL);
      ctx_save (c, invoice);
      refresh_after_invoice (c, invoice);
      respond_object (c, invoice);
      return;
    }

  if (pget (c, "payment_method") != NULL)
    {
      method = resolve_payment_method (c, customer, "payment_method", pget (c, "payment_method"));
      if (method == NULL)
        {
          c->rollback = TRUE;
          return;
        }
    }
  else
    method = default_payment_method (c, invoice, customer);

  if (method == NULL)
    {
      invalid (c, NULL, NULL,
               "This customer has no attached payment source or default payment method. "
               "Please consider adding a default payment method.");
      ctx_save (c, invoice);
      return;
    }

  decline = collect_invoice (c, invoice, customer, method, &charge);
  refresh_after_invoice (c, invoice);
  if (decline != NULL)
    respond_card_error (c, decline, charge, method);
  else
    respond_object (c, invoice);
}

static void
handle_invoice_send (Ctx   *c,
                     char **args)
{
  g_autoptr(JsonObject) invoice = load_invoice_arg (c, args[0]);

  if (invoice == NULL)
    return;
  if (g_strcmp0 (gstr (invoice, "collection_method"), "send_invoice") != 0)
    {
      invalid (c, "invoice_unexpected_state", NULL,
               "You can only manually send an invoice if its collection method is 'send_invoice'.");
      return;
    }
  if (g_strcmp0 (gstr (invoice, "status"), "void") == 0)
    {
      invalid (c, "invoice_unexpected_state", NULL, "You can't send an invoice that has been voided.");
      return;
    }
  if (g_strcmp0 (gstr (invoice, "status"), "draft") == 0)
    {
      g_autoptr(JsonObject) customer = store_load (c->self, gstr (invoice, "customer"), "customer");

      finalize_draft (c, invoice, customer);
    }
  sint (invoice, "webhooks_delivered_at", c->now);
  ctx_save (c, invoice);
  refresh_after_invoice (c, invoice);
  respond_object (c, invoice);
}

static void
handle_invoice_void (Ctx   *c,
                     char **args)
{
  g_autoptr(JsonObject) invoice = load_invoice_arg (c, args[0]);
  const char *status;

  if (invoice == NULL)
    return;
  status = gstr (invoice, "status");
  if (g_strcmp0 (status, "open") != 0 && g_strcmp0 (status, "uncollectible") != 0)
    {
      invalid (c, "invoice_unexpected_state", NULL,
               "You can only void invoices that are open or uncollectible; this one is %s.", status);
      return;
    }
  sstr (invoice, "status", "void");
  sbool (invoice, "auto_advance", FALSE);
  snull (invoice, "next_payment_attempt");
  sint (gobj (invoice, "status_transitions"), "voided_at", c->now);
  ctx_save (c, invoice);
  refresh_after_invoice (c, invoice);
  respond_object (c, invoice);
}

static void
handle_invoice_uncollectible (Ctx   *c,
                              char **args)
{
  g_autoptr(JsonObject) invoice = load_invoice_arg (c, args[0]);

  if (invoice == NULL)
    return;
  if (g_strcmp0 (gstr (invoice, "status"), "open") != 0)
    {
      invalid (c, "invoice_unexpected_state", NULL,
               "You can only mark an open invoice as uncollectible; this one is %s.",
               gstr (invoice, "status"));
      return;
    }
  sstr (invoice, "status", "uncollectible");
  sbool (invoice, "auto_advance", FALSE);
  snull (invoice, "next_payment_attempt");
  sint (gobj (invoice, "status_transitions"), "marked_uncollectible_at", c->now);
  ctx_save (c, invoice);
  refresh_after_invoice (c, invoice);
  respond_object (c, invoice);
}

/* The upcoming invoice of the request (GET /v1/invoices/upcoming and its lines); NULL
 * after responding. */
static JsonObject *
upcoming_for_request (Ctx *c)
{
  const char *customer_id = pget (c, "customer");
  const char *sub_id = pget (c, "subscription");
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) sub = NULL;
  g_autoptr(GPtrArray) slots = NULL;
  gint64 proration_date = c->now;
  gboolean has_date, cancel_at_period_end = FALSE, has_cancel;

  if (customer_id == NULL && sub_id == NULL)
    {
      respond_missing_param (c, "customer");
      return NULL;
    }
  if (!penum (c, "subscription_proration_behavior", proration_behaviors) ||
      !pint (c, "subscription_proration_date", &proration_date, &has_date) ||
      !pbool (c, "subscription_cancel_at_period_end", &cancel_at_period_end, &has_cancel))
    return NULL;

  if (sub_id != NULL)
    {
      sub = store_load (c->self, sub_id, "subscription");
      if (sub == NULL || (customer_id != NULL && g_strcmp0 (gstr (sub, "customer"), customer_id) != 0))
        {
          invalid (c, "resource_missing", "subscription", "No such subscription: '%s'", sub_id);
          return NULL;
        }
      customer_id = gstr (sub, "customer");
    }
  customer = store_load (c->self, customer_id, "customer");
  if (customer == NULL || gbool (customer, "deleted"))
    {
      invalid (c, "resource_missing", "customer", "No such customer: '%s'", customer_id);
      return NULL;
    }
  if (sub == NULL)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (c->self, "SELECT data FROM sandbox_stripe_objects WHERE object = 'subscription'"
                                   " AND customer = ? AND json_extract(data, '$.status')"
                                   " NOT IN ('canceled', 'incomplete_expired')"
                                   " ORDER BY created DESC, seq DESC LIMIT 1");

      sqlite3_bind_text (s, 1, customer_id, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (s) == SQLITE_ROW)
        sub = parse_object ((const char *) sqlite3_column_text (s, 0));
    }

  if (sub == NULL || g_strcmp0 (gstr (sub, "status"), "canceled") == 0 ||
      (has_cancel ? cancel_at_period_end : gbool (sub, "cancel_at_period_end")) ||
      (!gnull (sub, "cancel_at") && !has_cancel &&
       gnum (sub, "cancel_at", 0) <= gnum (sub, "current_period_end", 0)))
    {
      respond_error (c, 404, "invalid_request_error", "invoice_upcoming_none", NULL,
                     "No upcoming invoices for customer: %s", customer_id);
      return NULL;
    }
  if (has_date && (proration_date < gnum (sub, "current_period_start", 0) ||
                   proration_date > gnum (sub, "current_period_end", 0)))
    {
      invalid (c, NULL, "subscription_proration_date",
               "subscription_proration_date must be within the current billing period of the subscription.");
      return NULL;
    }

  if (phas_prefix (c, "subscription_items["))
    {
      slots = parse_slots (c, sub, "subscription_items");
      if (slots == NULL)
        return NULL;
    }
  return compute_upcoming (c, customer, sub, slots,
                           pget (c, "subscription_proration_behavior") != NULL
                           ? pget (c, "subscription_proration_behavior") : "create_prorations",
                           proration_date);
}

static void
handle_invoice_upcoming (Ctx   *c,
                         char **args)
{
  g_autoptr(JsonObject) invoice = upcoming_for_request (c);

  if (invoice != NULL)
    respond_object (c, invoice);
}

static void
handle_invoice_upcoming_lines (Ctx   *c,
                               char **args)
{
  g_autoptr(JsonObject) invoice = upcoming_for_request (c);

  if (invoice != NULL)
    respond_array_page (c, gobj (invoice, "lines"));
}

/* }}} */
/* {{{ Charges and refunds */

static void
handle_charges_list (Ctx   *c,
                     char **args)
{
  ListQuery q = { .object = "charge", .url = g_strdup ("/v1/charges") };

  if (pget (c, "customer") != NULL)
    list_where (&q, "customer = ?", pget (c, "customer"));
  if (pget (c, "payment_intent") != NULL)
    list_where (&q, "json_extract(data, '$.payment_intent') = ?", pget (c, "payment_intent"));
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_charge (Ctx   *c,
               char **args)
{
  handle_retrieve (c, args[0], "charge", "charge");
}

static JsonObject *
charge_of_payment_intent (Ctx        *c,
                          const char *intent)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (c->self, "SELECT data FROM sandbox_stripe_objects WHERE object = 'charge'"
                               " AND json_extract(data, '$.payment_intent') = ?"
                               " AND json_extract(data, '$.status') = 'succeeded'"
                               " ORDER BY created DESC, seq DESC LIMIT 1");

  sqlite3_bind_text (s, 1, intent, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (s) != SQLITE_ROW)
    return NULL;
  return parse_object ((const char *) sqlite3_column_text (s, 0));
}

static gboolean
dispute_is_open (FdSandbox  *self,
                 JsonObject *charge)
{
  g_autoptr(JsonObject) dispute = NULL;
  const char *status;

  if (!gbool (charge, "disputed"))
    return FALSE;
  dispute = store_load (self, gstr (charge, "dispute"), "dispute");
  status = gstr (dispute, "status");
  return dispute != NULL && g_strcmp0 (status, "won") != 0 && g_strcmp0 (status, "lost") != 0 &&
         g_strcmp0 (status, "warning_closed") != 0 && !g_str_has_prefix (status, "warning_");
}

/* Refunds @amount of @charge (checked by the caller) and updates the charge. */
static JsonObject *
refund_charge (Ctx        *c,
               JsonObject *charge,
               gint64      amount,
               const char *reason)
{
  JsonObject *refund = build_refund (ctx_rng (c), charge, amount, reason, c->now);
  gint64 refunded = gnum (charge, "amount_refunded", 0) + amount;

  sint (charge, "amount_refunded", refunded);
  sbool (charge, "refunded", refunded >= gnum (charge, "amount", 0));
  ctx_save (c, charge);
  ctx_insert (c, refund, gstr (charge, "id"), NULL);
  return refund;
}

/* Why @amount of @charge cannot be refunded, after responding; TRUE when it can. */
static gboolean
check_refundable (Ctx        *c,
                  JsonObject *charge,
                  gint64      amount,
                  const char *param)
{
  gint64 remainder = gnum (charge, "amount", 0) - gnum (charge, "amount_refunded", 0);
  const char *currency = gstr (charge, "currency");

  if (g_strcmp0 (gstr (charge, "status"), "succeeded") != 0)
    {
      invalid (c, "charge_not_refundable", NULL,
               "Charge %s has not succeeded and cannot be refunded.", gstr (charge, "id"));
      return FALSE;
    }
  if (remainder <= 0)
    {
      invalid (c, "charge_already_refunded", NULL, "Charge %s has already been refunded.",
               gstr (charge, "id"));
      return FALSE;
    }
  if (dispute_is_open (c->self, charge))
    {
      invalid (c, "charge_disputed", NULL, "Charge %s has been charged back; cannot issue a refund.",
               gstr (charge, "id"));
      return FALSE;
    }
  if (amount <= 0)
    {
      invalid (c, "parameter_invalid_integer", param, "This value must be greater than or equal to 1.");
      return FALSE;
    }
  if (amount > remainder)
    {
      g_autofree char *asked = format_money (amount, currency);
      g_autofree char *left = format_money (remainder, currency);

      invalid (c, "amount_too_large", param,
               "Refund amount (%s) is greater than unrefunded amount on charge (%s)", asked, left);
      return FALSE;
    }
  return TRUE;
}

static void
handle_refund_create (Ctx   *c,
                      char **args)
{
  static const char * const reasons[] = { "duplicate", "fraudulent", "requested_by_customer", NULL };
  const char *charge_id = pget (c, "charge");
  const char *intent = pget (c, "payment_intent");
  const char *currency = pget (c, "currency");
  g_autoptr(JsonObject) charge = NULL;
  g_autoptr(JsonObject) refund = NULL;
  gint64 amount = 0;
  gboolean has_amount;

  if (charge_id == NULL && intent == NULL)
    {
      invalid (c, "parameter_missing", NULL,
               "One of the following params should be provided for this request: payment_intent or charge.");
      return;
    }
  if (!pint (c, "amount", &amount, &has_amount) || !penum (c, "reason", reasons))
    return;

  if (charge_id != NULL)
    {
      charge = store_load (c->self, charge_id, "charge");
      if (charge == NULL)
        {
          invalid (c, "resource_missing", "charge", "No such charge: '%s'", charge_id);
          return;
        }
      if (intent != NULL && g_strcmp0 (gstr (charge, "payment_intent"), intent) != 0)
        {
          invalid (c, NULL, "payment_intent", "The charge %s does not belong to payment intent %s.",
                   charge_id, intent);
          return;
        }
    }
  else
    {
      charge = charge_of_payment_intent (c, intent);
      if (charge == NULL)
        {
          invalid (c, "resource_missing", "payment_intent", "No such payment_intent: '%s'", intent);
          return;
        }
    }

  if (currency != NULL && g_ascii_strcasecmp (currency, gstr (charge, "currency")) != 0)
    {
      invalid (c, NULL, "currency", "The currency %s does not match the currency of charge %s (%s).",
               currency, gstr (charge, "id"), gstr (charge, "currency"));
      return;
    }
  if (!has_amount)
    amount = gnum (charge, "amount", 0) - gnum (charge, "amount_refunded", 0);
  if (!check_refundable (c, charge, amount, "amount"))
    return;

  refund = refund_charge (c, charge, amount, pget (c, "reason"));
  apply_metadata (c, refund, "metadata");
  ctx_save (c, refund);
  respond_object (c, refund);
}

static void
handle_refunds_list (Ctx   *c,
                     char **args)
{
  ListQuery q = { .object = "refund", .url = g_strdup ("/v1/refunds") };

  if (pget (c, "charge") != NULL)
    list_where (&q, "parent = ?", pget (c, "charge"));
  if (pget (c, "payment_intent") != NULL)
    list_where (&q, "json_extract(data, '$.payment_intent') = ?", pget (c, "payment_intent"));
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_refund (Ctx   *c,
               char **args)
{
  handle_retrieve (c, args[0], "refund", "refund");
}

/* }}} */
/* {{{ Disputes and files */

static void
handle_disputes_list (Ctx   *c,
                      char **args)
{
  ListQuery q = { .object = "dispute", .url = g_strdup ("/v1/disputes") };

  if (pget (c, "charge") != NULL)
    list_where (&q, "parent = ?", pget (c, "charge"));
  if (pget (c, "payment_intent") != NULL)
    list_where (&q, "json_extract(data, '$.payment_intent') = ?", pget (c, "payment_intent"));
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_dispute (Ctx   *c,
                char **args)
{
  handle_retrieve (c, args[0], "dispute", "dispute");
}

static gboolean
dispute_needs_response (JsonObject *dispute)
{
  return g_strcmp0 (gstr (dispute, "status"), "needs_response") == 0 ||
         g_strcmp0 (gstr (dispute, "status"), "warning_needs_response") == 0;
}

static void
handle_dispute_update (Ctx   *c,
                       char **args)
{
  g_autoptr(JsonObject) dispute = store_load (c->self, args[0], "dispute");
  JsonObject *evidence, *details;
  gboolean submit = TRUE, has_submit, has_evidence = FALSE, staged = FALSE;

  if (dispute == NULL)
    {
      respond_no_such (c, "dispute", args[0], "dispute");
      return;
    }
  if (!pbool (c, "submit", &submit, &has_submit))
    return;
  evidence = gobj (dispute, "evidence");
  details = gobj (dispute, "evidence_details");

  for (guint i = 0; i < c->params->len; i++)
    {
      Param *param = g_ptr_array_index (c->params, i);
      g_autofree char *field = NULL;

      if (!g_str_has_prefix (param->name, "evidence"))
        continue;
      if (!g_str_has_prefix (param->name, "evidence[") || !g_str_has_suffix (param->name, "]") ||
          !in_list ((field = g_strndup (param->name + 9, strlen (param->name) - 10)),
                    evidence_fields, G_N_ELEMENTS (evidence_fields)))
        {
          invalid (c, "parameter_unknown", param->name, "Received unknown parameter: %s", param->name);
          return;
        }
      if (in_list (field, evidence_file_fields, G_N_ELEMENTS (evidence_file_fields)) &&
          param->value[0] != '\0')
        {
          g_autoptr(JsonObject) file = store_load (c->self, param->value, "file");

          if (file == NULL)
            {
              invalid (c, "resource_missing", param->name, "No such file upload: '%s'", param->value);
              return;
            }
        }
      has_evidence = TRUE;
    }

  if ((has_evidence || (submit && (has_submit || has_evidence))) && !dispute_needs_response (dispute))
    {
      invalid (c, NULL, NULL,
               g_str_has_suffix (gstr (dispute, "status"), "under_review")
               ? "This dispute is under review: its evidence was submitted and can no longer be changed."
               : "This dispute is closed and can no longer be updated.");
      return;
    }

  for (guint i = 0; i < c->params->len; i++)
    {
      Param *param = g_ptr_array_index (c->params, i);
      g_autofree char *field = NULL;

      if (!g_str_has_prefix (param->name, "evidence["))
        continue;
      field = g_strndup (param->name + 9, strlen (param->name) - 10);
      sstr (evidence, field, param->value[0] != '\0' ? param->value : NULL);
    }
  for (guint i = 0; i < G_N_ELEMENTS (evidence_fields); i++)
    staged |= !gnull (evidence, evidence_fields[i]);
  sbool (details, "has_evidence", staged);
  apply_metadata (c, dispute, "metadata");

  /* submit defaults to true, as on Stripe: any evidence update on an open dispute sends it. */
  if (submit && dispute_needs_response (dispute) && (has_submit || has_evidence))
    {
      gint64 due = gnum (details, "due_by", 0);

      sstr (dispute, "status", g_str_has_prefix (gstr (dispute, "status"), "warning_")
                               ? "warning_under_review" : "under_review");
      sint (details, "submission_count", gnum (details, "submission_count", 0) + 1);
      sbool (details, "past_due", due > 0 && c->now > due);
    }
  ctx_save (c, dispute);
  respond_object (c, dispute);
}

static void
handle_dispute_close (Ctx   *c,
                      char **args)
{
  g_autoptr(JsonObject) dispute = store_load (c->self, args[0], "dispute");

  if (dispute == NULL)
    {
      respond_no_such (c, "dispute", args[0], "dispute");
      return;
    }
  if (!dispute_needs_response (dispute))
    {
      invalid (c, NULL, NULL,
               g_str_has_suffix (gstr (dispute, "status"), "under_review")
               ? "This dispute is under review and can no longer be closed."
               : "This dispute is already closed.");
      return;
    }
  sstr (dispute, "status", g_str_has_prefix (gstr (dispute, "status"), "warning_") ? "warning_closed" : "lost");
  ctx_save (c, dispute);
  respond_object (c, dispute);
}

static void
handle_file_create (Ctx   *c,
                    char **args)
{
  const char *purpose = pget (c, "purpose");
  g_autoptr(JsonObject) file = NULL;
  g_autofree char *id = NULL;
  g_autofree char *url = NULL;
  g_autofree char *links_url = NULL;
  g_autofree char *lower = NULL;
  const char *type = NULL;

  if (c->file == NULL)
    {
      respond_missing_param (c, "file");
      return;
    }
  if (purpose == NULL)
    {
      respond_missing_param (c, "purpose");
      return;
    }
  if (!penum (c, "purpose", file_purposes))
    return;
  if (g_bytes_get_size (c->file) > 5 * 1024 * 1024 && g_str_equal (purpose, "dispute_evidence"))
    {
      invalid (c, NULL, "file", "Files for dispute evidence must be smaller than 5 MB.");
      return;
    }

  lower = g_ascii_strdown (c->file_name != NULL ? c->file_name : "", -1);
  if (g_str_has_suffix (lower, ".pdf") || g_strcmp0 (c->file_type, "application/pdf") == 0)
    type = "pdf";
  else if (g_str_has_suffix (lower, ".png") || g_strcmp0 (c->file_type, "image/png") == 0)
    type = "png";
  else if (g_str_has_suffix (lower, ".jpg") || g_str_has_suffix (lower, ".jpeg") ||
           g_strcmp0 (c->file_type, "image/jpeg") == 0)
    type = "jpg";
  else if (g_str_has_suffix (lower, ".csv"))
    type = "csv";
  else if (g_str_has_suffix (lower, ".txt") || g_strcmp0 (c->file_type, "text/plain") == 0)
    type = "txt";
  if (type == NULL || (g_str_equal (purpose, "dispute_evidence") &&
                       !g_str_equal (type, "pdf") && !g_str_equal (type, "png") && !g_str_equal (type, "jpg")))
    {
      invalid (c, NULL, "file",
               "Only PDF, JPEG and PNG files can be uploaded as dispute evidence.");
      return;
    }

  id = RNG_ID (ctx_rng (c), "file_1");
  url = g_strdup_printf ("https://files.stripe.com/v1/files/%s/contents", id);
  links_url = g_strdup_printf ("/v1/file_links?file=%s", id);
  file = json_object_new ();
  sstr (file, "id", id);
  sstr (file, "object", "file");
  sint (file, "created", c->now);
  sint (file, "expires_at", c->now + 365 * DAY);
  sstr (file, "filename", c->file_name != NULL ? c->file_name : "upload");
  sobj (file, "links", list_object (links_url, NULL, FALSE));
  sstr (file, "purpose", purpose);
  sint (file, "size", (gint64) g_bytes_get_size (c->file));
  snull (file, "title");
  sstr (file, "type", type);
  sstr (file, "url", url);
  ctx_insert (c, file, NULL, NULL);
  respond_object (c, file);
}

static void
handle_file (Ctx   *c,
             char **args)
{
  handle_retrieve (c, args[0], "file", "file");
}

/* }}} */
/* {{{ Credit notes */

/* A credit note as the request asks, checked; with @issue, issued with its effects (the
 * invoice's amounts, the customer's balance, a refund). NULL after responding. */
static JsonObject *
credit_note_for_request (Ctx      *c,
                         gboolean  issue)
{
  static const char * const reasons[] = {
    "duplicate", "fraudulent", "order_change", "product_unsatisfactory", NULL,
  };
  const char *invoice_id = pget (c, "invoice");
  g_autoptr(JsonObject) invoice = NULL;
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) note = NULL;
  const char *currency;
  gint64 amount = 0, credit = 0, refund_amount = 0, out_of_band = 0, creditable;
  gboolean has_amount, has_credit, has_refund, has_oob, post;
  int index;

  if (invoice_id == NULL)
    {
      respond_missing_param (c, "invoice");
      return NULL;
    }
  if (!pint (c, "amount", &amount, &has_amount) || !pint (c, "credit_amount", &credit, &has_credit) ||
      !pint (c, "refund_amount", &refund_amount, &has_refund) ||
      !pint (c, "out_of_band_amount", &out_of_band, &has_oob) || !penum (c, "reason", reasons))
    return NULL;
  if (phas_prefix (c, "lines["))
    {
      invalid (c, NULL, "lines", "The Frontdesk sandbox takes credit notes by amount, not by lines.");
      return NULL;
    }

  invoice = store_load (c->self, invoice_id, "invoice");
  if (invoice == NULL)
    {
      invalid (c, "resource_missing", "invoice", "No such invoice: '%s'", invoice_id);
      return NULL;
    }
  currency = gstr (invoice, "currency");
  post = g_strcmp0 (gstr (invoice, "status"), "paid") == 0;
  if (!post && g_strcmp0 (gstr (invoice, "status"), "open") != 0)
    {
      invalid (c, "invoice_unexpected_state", "invoice",
               "Credit notes can only be issued on open or paid invoices; %s is %s.",
               invoice_id, gstr (invoice, "status"));
      return NULL;
    }
  if (!has_amount)
    amount = credit + refund_amount + out_of_band;
  if (amount <= 0)
    {
      invalid (c, "parameter_invalid_integer", "amount", "This value must be greater than or equal to 1.");
      return NULL;
    }

  creditable = post ? gnum (invoice, "amount_paid", 0) - gnum (invoice, "post_payment_credit_notes_amount", 0)
                    : gnum (invoice, "amount_remaining", 0);
  if (amount > creditable)
    {
      g_autofree char *asked = format_money (amount, currency);
      g_autofree char *left = format_money (creditable, currency);

      invalid (c, NULL, "amount",
               "The credit note amount (%s) is greater than the amount that can still be credited "
               "on invoice %s (%s).", asked, invoice_id, left);
      return NULL;
    }
  if (post && !has_credit && !has_refund && !has_oob)
    credit = amount;
  if (post && credit + refund_amount + out_of_band != amount)
    {
      g_autofree char *sum = format_money (credit + refund_amount + out_of_band, currency);
      g_autofree char *total = format_money (amount, currency);

      invalid (c, NULL, "amount",
               "The sum of credit amount, refund amount and out of band amount (%s) must equal "
               "the credit note amount (%s).", sum, total);
      return NULL;
    }
  if (!post && (has_credit || has_refund || has_oob))
    {
      invalid (c, NULL, has_refund ? "refund_amount" : has_credit ? "credit_amount" : "out_of_band_amount",
               "A credit note on an open invoice reduces what is due; it cannot credit, refund or "
               "record an amount paid outside Stripe.");
      return NULL;
    }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (c->self, "SELECT COUNT(*) FROM sandbox_stripe_objects"
                                 " WHERE object = 'credit_note' AND parent = ?");

    sqlite3_bind_text (s, 1, invoice_id, -1, SQLITE_TRANSIENT);
    index = sqlite3_step (s) == SQLITE_ROW ? sqlite3_column_int (s, 0) + 1 : 1;
  }
  note = build_credit_note (ctx_rng (c), invoice, amount, pget (c, "reason"), pget (c, "memo"),
                            c->now, index);
  if (has_oob || out_of_band > 0)
    sint (note, "out_of_band_amount", out_of_band);

  if (post && refund_amount > 0)
    {
      g_autoptr(JsonObject) charge = store_load (c->self, gstr (invoice, "charge"), "charge");

      if (charge == NULL)
        {
          invalid (c, NULL, "refund_amount", "Invoice %s was not paid by a charge that can be refunded.",
                   invoice_id);
          return NULL;
        }
      if (!check_refundable (c, charge, refund_amount, "refund_amount"))
        return NULL;
      if (issue)
        {
          g_autoptr(JsonObject) refund = refund_charge (c, charge, refund_amount, NULL);

          sstr (note, "refund", gstr (refund, "id"));
        }
    }

  if (!issue)
    return g_steal_pointer (&note);

  customer = store_load (c->self, gstr (invoice, "customer"), "customer");
  if (post)
    {
      sint (invoice, "post_payment_credit_notes_amount",
            gnum (invoice, "post_payment_credit_notes_amount", 0) + amount);
      if (credit > 0)
        {
          g_autofree char *transaction = RNG_ID (ctx_rng (c), "cbtxn_1");

          sint (customer, "balance", gnum (customer, "balance", 0) - credit);
          sstr (note, "customer_balance_transaction", transaction);
          ctx_save (c, customer);
        }
    }
  else
    {
      sint (invoice, "pre_payment_credit_notes_amount",
            gnum (invoice, "pre_payment_credit_notes_amount", 0) + amount);
      sint (invoice, "amount_due", gnum (invoice, "amount_due", 0) - amount);
      sint (invoice, "amount_remaining", gnum (invoice, "amount_remaining", 0) - amount);
      if (gnum (invoice, "amount_remaining", 0) <= 0)
        invoice_mark_paid (invoice, c->now, NULL);
    }
  ctx_save (c, invoice);
  apply_metadata (c, note, "metadata");
  ctx_insert (c, note, invoice_id, NULL);
  refresh_after_invoice (c, invoice);
  return g_steal_pointer (&note);
}

static void
handle_credit_note_preview (Ctx   *c,
                            char **args)
{
  g_autoptr(JsonObject) note = credit_note_for_request (c, FALSE);

  if (note != NULL)
    respond_object (c, note);
}

static void
handle_credit_note_create (Ctx   *c,
                           char **args)
{
  g_autoptr(JsonObject) note = credit_note_for_request (c, TRUE);

  if (note != NULL)
    respond_object (c, note);
}

static void
handle_credit_notes_list (Ctx   *c,
                          char **args)
{
  ListQuery q = { .object = "credit_note", .url = g_strdup ("/v1/credit_notes") };

  if (pget (c, "invoice") != NULL)
    list_where (&q, "parent = ?", pget (c, "invoice"));
  if (pget (c, "customer") != NULL)
    list_where (&q, "customer = ?", pget (c, "customer"));
  respond_list (c, &q);
  list_query_clear (&q);
}

static void
handle_credit_note (Ctx   *c,
                    char **args)
{
  handle_retrieve (c, args[0], "credit_note", "credit_note");
}

/* }}} */
/* {{{ Seed */

typedef enum
{
  ROLE_HEALTHY,
  ROLE_FAIL_EXPIRED,
  ROLE_FAIL_FUNDS,
  ROLE_FAIL_AUTH,
  ROLE_FAIL_DO_NOT_HONOR,
  ROLE_FAIL_GENERIC,
  ROLE_CANCELING,
  ROLE_TRIALING,
  ROLE_DISPUTE_OPEN,
  ROLE_DISPUTE_REVIEW,
  ROLE_PARTIAL_REFUND,
  ROLE_CREDIT,
  ROLE_DISCOUNT,
  ROLE_JPY,
  ROLE_KWD,
  ROLE_CANCELED,
  ROLE_JPY_2,
  ROLE_INQUIRY,
  ROLE_ENTERPRISE_PAST_DUE,
  ROLE_ENTERPRISE_OPEN,
} Role;

/* GET /stripe/_sandbox/scenarios and metadata[sandbox_scenario] use these names. */
static const char * const role_names[] = {
  NULL,
  "payment_failed_expired_card",
  "payment_failed_insufficient_funds",
  "payment_failed_authentication_required",
  "payment_failed_do_not_honor",
  "payment_failed_generic_decline",
  "cancel_at_period_end",
  "trialing",
  "dispute_needs_response",
  "dispute_under_review",
  "partial_refund",
  "credit_balance",
  "discount",
  "currency_jpy",
  "currency_kwd",
  "canceled",
  "currency_jpy_2",
  "dispute_inquiry",
  "enterprise_past_due",
  "enterprise_invoice_open",
};

/* In the order they are handed out, so that the important ones exist even in a small
 * data set. */
static const Role self_serve_roles[] = {
  ROLE_FAIL_EXPIRED, ROLE_FAIL_FUNDS, ROLE_FAIL_AUTH, ROLE_FAIL_DO_NOT_HONOR, ROLE_FAIL_GENERIC,
  ROLE_CANCELING, ROLE_TRIALING, ROLE_DISPUTE_OPEN, ROLE_DISPUTE_REVIEW, ROLE_PARTIAL_REFUND,
  ROLE_CREDIT, ROLE_DISCOUNT, ROLE_JPY, ROLE_KWD, ROLE_CANCELED, ROLE_JPY_2, ROLE_INQUIRY,
};
static const Role enterprise_roles[] = { ROLE_ENTERPRISE_PAST_DUE, ROLE_ENTERPRISE_OPEN };

typedef struct
{
  char    *external_id;
  char    *name;
  char    *plan;
  gboolean enterprise;
  gint64   seats;
  gint64   renewal;     /* UTC seconds, 0: none */
  gint64   created;
  char    *customer_id;
  char    *email;
  char    *domain;
  const char *currency;
  Role     role;
} SeedOrg;

static void
seed_org_free (gpointer data)
{
  SeedOrg *org = data;

  g_free (org->external_id);
  g_free (org->name);
  g_free (org->plan);
  g_free (org->customer_id);
  g_free (org->email);
  g_free (org->domain);
  g_free (org);
}

typedef struct
{
  FdSandbox  *self;
  guint64     seed;
  gint64      now;
  JsonObject *prices[4][2][G_N_ELEMENTS (price_table)];
  JsonObject *coupon;
} Seed;

static const char *
currency_for_domain (const char *domain)
{
  static const char * const euro[] = { ".de", ".fr", ".nl", ".se", ".at", ".es", ".it", ".ie", ".be", ".fi" };

  if (domain == NULL)
    return "usd";
  if (g_str_has_suffix (domain, ".uk"))
    return "gbp";
  if (g_str_has_suffix (domain, ".jp"))
    return "jpy";
  for (guint i = 0; i < G_N_ELEMENTS (euro); i++)
    if (g_str_has_suffix (domain, euro[i]))
      return "eur";
  return "usd";
}

static guint
currency_index (const char *currency)
{
  for (guint i = 0; i < G_N_ELEMENTS (price_table); i++)
    if (g_str_equal (price_table[i].currency, currency))
      return i;
  return 0;
}

static gboolean
seed_catalogue (Seed    *s,
                GError **error)
{
  Rng rng = { s->seed ^ G_GUINT64_CONSTANT (0xC47A1061E) };
  gint64 created = s->now - 800 * DAY;

  for (guint plan = 0; plan < G_N_ELEMENTS (plan_keys); plan++)
    {
      g_autofree char *product_id = rng_id (&rng, "prod_", 14);
      g_autoptr(JsonObject) product = NULL;

      for (guint interval = 0; interval < 2; interval++)
        for (guint cur = 0; cur < G_N_ELEMENTS (price_table); cur++)
          {
            g_autofree char *id = RNG_ID (&rng, "price_1");
            gint64 unit = price_table[cur].month[plan] * (interval == 1 ? 10 : 1);

            s->prices[plan][interval][cur] = build_price (id, product_id, plan, intervals[interval],
                                                          price_table[cur].currency, unit, created);
            if (!store_insert (s->self, s->prices[plan][interval][cur], product_id, NULL, error))
              return FALSE;
          }

      product = build_product (product_id, plan, gstr (s->prices[plan][0][0], "id"), created);
      if (!store_insert (s->self, product, NULL, NULL, error))
        return FALSE;
    }

  s->coupon = build_coupon ("SANDBOX20", 20.0, 3, created);
  return TRUE;
}

static GPtrArray *
read_orgs (Seed *s)
{
  g_autoptr(FdSandboxStmt) st =
    _fd_sandbox_stmt (s->self,
                      "SELECT o.external_id, o.name, o.plan, o.is_enterprise, o.seats_purchased,"
                      " o.renewal_at, o.created_at, o.stripe_customer_id,"
                      " (SELECT c.email FROM contacts c WHERE c.organisation_id = o.id"
                      "  AND c.email IS NOT NULL ORDER BY c.id LIMIT 1),"
                      " (SELECT d.domain FROM organisation_domains d WHERE d.organisation_id = o.id"
                      "  ORDER BY d.rowid LIMIT 1)"
                      " FROM organisations o WHERE o.stripe_customer_id IS NOT NULL"
                      " AND o.stripe_customer_id <> '' ORDER BY o.id");
  GPtrArray *orgs = g_ptr_array_new_with_free_func (seed_org_free);

  while (sqlite3_step (st) == SQLITE_ROW)
    {
      SeedOrg *org = g_new0 (SeedOrg, 1);

      org->external_id = g_strdup ((const char *) sqlite3_column_text (st, 0));
      org->name = g_strdup ((const char *) sqlite3_column_text (st, 1));
      org->plan = g_strdup ((const char *) sqlite3_column_text (st, 2));
      org->enterprise = sqlite3_column_int (st, 3) != 0 || g_strcmp0 (org->plan, "enterprise") == 0;
      org->seats = MAX (1, sqlite3_column_int64 (st, 4));
      org->renewal = sqlite3_column_int64 (st, 5) / 1000;
      org->created = sqlite3_column_int64 (st, 6) / 1000;
      org->customer_id = g_strdup ((const char *) sqlite3_column_text (st, 7));
      org->email = g_strdup ((const char *) sqlite3_column_text (st, 8));
      org->domain = g_strdup ((const char *) sqlite3_column_text (st, 9));
      org->currency = currency_for_domain (org->domain);
      g_ptr_array_add (orgs, org);
    }
  return orgs;
}

static void
assign_roles (GPtrArray  *orgs,
              Rng        *rng,
              gboolean    enterprise,
              const Role *roles,
              guint       n_roles)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new ();

  for (guint i = 0; i < orgs->len; i++)
    {
      SeedOrg *org = g_ptr_array_index (orgs, i);

      if (org->enterprise == enterprise)
        g_ptr_array_add (pool, org);
    }
  for (guint i = pool->len; i > 1; i--)
    {
      guint j = (guint) (rng_next (rng) % i);
      gpointer tmp = pool->pdata[i - 1];

      pool->pdata[i - 1] = pool->pdata[j];
      pool->pdata[j] = tmp;
    }
  for (guint i = 0; i < MIN (pool->len, n_roles); i++)
    {
      SeedOrg *org = g_ptr_array_index (pool, i);

      org->role = roles[i];
      if (org->role == ROLE_JPY || org->role == ROLE_JPY_2)
        org->currency = "jpy";
      else if (org->role == ROLE_KWD)
        org->currency = "kwd";
    }
}

static guint
plan_index (const char *plan)
{
  for (guint i = 0; i < G_N_ELEMENTS (plan_keys); i++)
    if (g_strcmp0 (plan_keys[i], plan) == 0)
      return i;
  return 1;
}

static const char *
role_decline (Role role,
              const char **last4,
              int         *fail_days)
{
  switch (role)
    {
    case ROLE_FAIL_EXPIRED:
      *last4 = "0069";
      *fail_days = 3;
      return "expired_card";
    case ROLE_FAIL_FUNDS:
      *last4 = "9995";
      *fail_days = 6;
      return "insufficient_funds";
    case ROLE_FAIL_AUTH:
      *last4 = "3184";
      *fail_days = 2;
      return "authentication_required";
    case ROLE_FAIL_DO_NOT_HONOR:
      *last4 = "0010";
      *fail_days = 9;
      return "do_not_honor";
    case ROLE_FAIL_GENERIC:
      *last4 = "0002";
      *fail_days = 4;
      return "generic_decline";
    case ROLE_HEALTHY:
    case ROLE_CANCELING:
    case ROLE_TRIALING:
    case ROLE_DISPUTE_OPEN:
    case ROLE_DISPUTE_REVIEW:
    case ROLE_PARTIAL_REFUND:
    case ROLE_CREDIT:
    case ROLE_DISCOUNT:
    case ROLE_JPY:
    case ROLE_KWD:
    case ROLE_CANCELED:
    case ROLE_JPY_2:
    case ROLE_INQUIRY:
    case ROLE_ENTERPRISE_PAST_DUE:
    case ROLE_ENTERPRISE_OPEN:
    default:
      return NULL;
    }
}

static gboolean
seed_customer (Seed     *s,
               SeedOrg  *org,
               GError  **error)
{
  Rng rng = { s->seed * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) ^ g_str_hash (org->customer_id) };
  gint64 now = s->now;
  Role role = org->role;
  guint plan = plan_index (org->plan);
  guint cur = currency_index (org->currency);
  const char *last4 = NULL;
  int fail_days = 0;
  const char *decline_code = role_decline (role, &last4, &fail_days);
  gboolean failing = decline_code != NULL;
  gboolean yearly = org->enterprise || (role == ROLE_HEALTHY && rng_chance (&rng, 0.2));
  const char *interval = yearly ? "year" : "month";
  JsonObject *price = s->prices[plan][yearly ? 1 : 0][cur];
  gint64 unit = gnum (price, "unit_amount", 0);
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) method = NULL;
  g_autoptr(JsonObject) sub = NULL;
  g_autoptr(JsonObject) discount = NULL;
  g_autoptr(GPtrArray) invoices = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(GPtrArray) charges = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree char *prefix = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *pm_id = NULL;
  g_autofree char *sub_id = NULL;
  g_autofree char *item_id = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *product = NULL;
  gint64 periods[13];
  gint64 cps, cpe;
  guint n = 0;
  int exp_month, exp_year;
  const char *brand = "visa";
  char digits[5];

  /* The current period, as the situation needs it. */
  if (failing)
    {
      cps = now - fail_days * DAY - rng_between (&rng, 0, 6 * HOUR);
      cpe = add_interval (cps, interval, 1);
    }
  else if (role == ROLE_TRIALING)
    {
      cps = now - 5 * DAY;
      cpe = now + 9 * DAY;
    }
  else if (role == ROLE_ENTERPRISE_PAST_DUE || role == ROLE_ENTERPRISE_OPEN)
    {
      cps = now - (role == ROLE_ENTERPRISE_PAST_DUE ? 45 : 12) * DAY - rng_between (&rng, 0, DAY);
      cpe = add_interval (cps, interval, 1);
    }
  else if (role == ROLE_CANCELED)
    {
      cpe = now - 40 * DAY;
      cps = add_interval (cpe, interval, -1);
    }
  else if (yearly)
    {
      cpe = org->renewal > now ? org->renewal : now + rng_between (&rng, 30, 330) * DAY;
      cps = add_interval (cpe, interval, -1);
    }
  else
    {
      cpe = org->renewal > now + DAY && org->renewal <= now + 28 * DAY
            ? org->renewal : now + rng_between (&rng, 1, 27) * DAY + rng_between (&rng, 0, DAY - 1);
      cps = add_interval (cpe, interval, -1);
    }

  periods[n++] = cps;
  if (role != ROLE_TRIALING)
    {
      guint wanted = yearly ? 2 : (guint) rng_between (&rng, 6, 12);

      while (n < wanted)
        {
          gint64 start = add_interval (cps, interval, -(int) n);

          if (start < org->created)
            break;
          periods[n++] = start;
        }
    }

  /* The customer and their card. */
  prefix = rng_id (&rng, "", 8);
  upper = g_ascii_strup (prefix, -1);
  customer = build_customer (org->customer_id, org->name, org->email, org->currency, upper,
                             MIN (org->created, periods[n - 1] - DAY));
  sstr (gobj (customer, "metadata"), "frontdesk_organisation", org->external_id);
  if (role != ROLE_HEALTHY)
    sstr (gobj (customer, "metadata"), "sandbox_scenario", role_names[role]);
  sbool (customer, "delinquent", failing || role == ROLE_ENTERPRISE_PAST_DUE);

  {
    g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (now);

    exp_month = (int) rng_between (&rng, 1, 12);
    exp_year = g_date_time_get_year (date) + (int) rng_between (&rng, 1, 4);
  }
  if (failing)
    {
      if (role == ROLE_FAIL_EXPIRED)
        {
          g_autoptr(GDateTime) expired = g_date_time_new_from_unix_utc (add_months (cps, -1));

          exp_month = g_date_time_get_month (expired);
          exp_year = g_date_time_get_year (expired);
        }
    }
  else
    {
      guint64 pick = rng_next (&rng) % 100;

      brand = pick < 60 ? "visa" : pick < 85 ? "mastercard" : "amex";
      g_snprintf (digits, sizeof digits, "%04u", (guint) (rng_next (&rng) % 10000));
      last4 = digits;
    }
  pm_id = RNG_ID (&rng, "pm_1");
  fingerprint = rng_id (&rng, "", 16);
  method = build_payment_method (pm_id, customer, brand, last4, exp_month, exp_year, fingerprint,
                                 gnum (customer, "created", 0) + HOUR);
  sstr (gobj (customer, "invoice_settings"), "default_payment_method", pm_id);
  if (!store_insert (s->self, customer, NULL, NULL, error) ||
      !store_insert (s->self, method, NULL, decline_code, error))
    return FALSE;

  /* The subscription. */
  sub_id = RNG_ID (&rng, "sub_1");
  item_id = rng_id (&rng, "si_", 14);
  sub = build_subscription (sub_id, org->customer_id, org->currency, org->enterprise, cps, cpe,
                            periods[n - 1],
                            failing || role == ROLE_ENTERPRISE_PAST_DUE ? "past_due"
                            : role == ROLE_TRIALING ? "trialing"
                            : role == ROLE_CANCELED ? "canceled" : "active");
  subscription_add_item (sub, build_item (item_id, sub_id, price, org->seats, periods[n - 1]));
  if (role == ROLE_TRIALING)
    {
      sint (sub, "trial_start", cps);
      sint (sub, "trial_end", cpe);
    }
  else if (role == ROLE_CANCELING)
    {
      JsonObject *details = gobj (sub, "cancellation_details");

      sbool (sub, "cancel_at_period_end", TRUE);
      sint (sub, "cancel_at", cpe);
      sint (sub, "canceled_at", now - 2 * DAY);
      sstr (details, "comment", "Moving to a cheaper tool at renewal.");
      sstr (details, "feedback", "too_expensive");
      sstr (details, "reason", "cancellation_requested");
    }
  else if (role == ROLE_CANCELED)
    {
      JsonObject *details = gobj (sub, "cancellation_details");

      sint (sub, "cancel_at", cpe);
      sint (sub, "canceled_at", cpe - 10 * DAY);
      sint (sub, "ended_at", cpe);
      sstr (details, "feedback", "switched_service");
      sstr (details, "reason", "cancellation_requested");
    }
  else if (role == ROLE_DISCOUNT)
    {
      g_autofree char *discount_id = RNG_ID (&rng, "di_1");
      gint64 start = periods[MIN (1u, n - 1)];

      discount = build_discount (discount_id, s->coupon, org->customer_id, sub_id, start,
                                 add_months (start, 3));
      sobj (sub, "discount", json_object_ref (discount));
    }
  if (!store_insert (s->self, sub, NULL, NULL, error))
    return FALSE;

  /* Invoices and payments, oldest first. */
  product = g_strdup_printf ("Lumen %s", plan_names[plan]);
  for (guint k = n; k-- > 0;)
    {
      gint64 start = periods[k];
      gint64 end = k > 0 ? periods[k - 1] : cpe;
      gint64 finalized = start + HOUR;
      g_autofree char *invoice_id = RNG_ID (&rng, "in_1");
      g_autofree char *line_id = RNG_ID (&rng, "il_1");
      g_autofree char *description = NULL;
      g_autoptr(JsonObject) invoice = NULL;
      JsonArray *lines = json_array_new ();
      gint64 amount = role == ROLE_TRIALING ? 0 : unit * org->seats;
      gboolean open = FALSE;
      gint64 paid_at = finalized;

      if (role == ROLE_TRIALING)
        description = g_strdup_printf ("Trial period for %s", product);
      else
        description = line_description (price, product, org->seats);
      json_array_add_object_element (lines, build_line (line_id, price, org->seats, amount,
                                                        description, start, end, FALSE, sub_id,
                                                        item_id, NULL));
      invoice = build_invoice (invoice_id, customer, sub, lines, discount, start,
                               k + 1 < n ? periods[k + 1] : start, start,
                               k + 1 == n ? "subscription_create" : "subscription_cycle");
      invoice_finalize (invoice, customer, &rng, finalized, 30);

      if (role == ROLE_TRIALING || gnum (invoice, "amount_due", 0) == 0)
        invoice_mark_paid (invoice, finalized, NULL);
      else if (k == 0 && (failing || role == ROLE_ENTERPRISE_PAST_DUE || role == ROLE_ENTERPRISE_OPEN))
        open = TRUE;
      else if (org->enterprise)
        {
          paid_at = finalized + rng_between (&rng, 2, 20) * DAY + rng_between (&rng, 0, DAY);
          open = paid_at >= now - HOUR;
        }

      if (gnum (invoice, "amount_due", 0) > 0)
        {
          g_autofree char *intent = RNG_ID (&rng, "pi_3");
          sstr (invoice, "payment_intent", intent);
        }

      if (open && failing)
        {
          const Decline *decline = find_decline (decline_code);
          gint64 attempts = 0, last = finalized;

          if (!store_insert (s->self, invoice, sub_id, NULL, error))
            return FALSE;
          for (gint64 at = finalized; attempts < 4 && (attempts == 0 || at < now - HOUR); at += 3 * DAY)
            {
              g_autoptr(JsonObject) charge = build_charge (&rng, customer, invoice, method, decline, at);

              if (!store_insert (s->self, charge, invoice_id, NULL, error))
                return FALSE;
              attempts++;
              last = at;
              sstr (invoice, "charge", gstr (charge, "id"));
            }
          sint (invoice, "attempt_count", attempts);
          sbool (invoice, "attempted", TRUE);
          if (attempts < 4)
            sint (invoice, "next_payment_attempt", MAX (last + 3 * DAY, now + DAY));
          else
            snull (invoice, "next_payment_attempt");
          if (!store_update (s->self, invoice, error))
            return FALSE;
        }
      else if (open)
        {
          if (!store_insert (s->self, invoice, sub_id, NULL, error))
            return FALSE;
        }
      else if (gnum (invoice, "amount_remaining", 0) > 0)
        {
          g_autoptr(JsonObject) charge = build_charge (&rng, customer, invoice, method, NULL, paid_at);

          sint (invoice, "attempt_count", 1);
          invoice_mark_paid (invoice, paid_at, gstr (charge, "id"));
          if (!store_insert (s->self, invoice, sub_id, NULL, error) ||
              !store_insert (s->self, charge, invoice_id, NULL, error))
            return FALSE;
          g_ptr_array_add (charges, g_steal_pointer (&charge));
        }
      else if (!store_insert (s->self, invoice, sub_id, NULL, error))
        return FALSE;

      if (k == 0)
        sstr (sub, "latest_invoice", invoice_id);
      g_ptr_array_add (invoices, g_steal_pointer (&invoice));
    }
  if (!store_update (s->self, sub, error))
    return FALSE;

  /* What happened to the payments afterwards. charges and invoices run oldest first. */
  if ((role == ROLE_DISPUTE_OPEN || role == ROLE_DISPUTE_REVIEW || role == ROLE_INQUIRY) &&
      charges->len > 0)
    {
      JsonObject *charge = g_ptr_array_index (charges, charges->len >= 2 ? charges->len - 2 : 0);
      g_autoptr(JsonObject) dispute = NULL;

      if (role == ROLE_DISPUTE_OPEN)
        dispute = build_dispute (&rng, charge, "subscription_canceled", "needs_response",
                                 now - 4 * DAY, now + 3 * DAY + 5 * HOUR);
      else if (role == ROLE_INQUIRY)
        dispute = build_dispute (&rng, charge, "general", "warning_needs_response",
                                 now - DAY, now + 6 * DAY);
      else
        {
          JsonObject *evidence;
          JsonObject *details;
          g_autofree char *what = g_strdup_printf ("%s subscription, %" G_GINT64_FORMAT
                                                   " seats, billed every %s.", product, org->seats,
                                                   interval);

          dispute = build_dispute (&rng, charge, "fraudulent", "under_review",
                                   now - 12 * DAY, now + 2 * DAY);
          evidence = gobj (dispute, "evidence");
          details = gobj (dispute, "evidence_details");
          sstr (evidence, "product_description", what);
          sstr (evidence, "customer_email_address", org->email);
          sstr (evidence, "customer_name", org->name);
          sstr (evidence, "access_activity_log",
                "Members of the workspace signed in on 23 of the 30 days of the billed period.");
          sstr (evidence, "uncategorized_text",
                "The customer has used the service throughout and never asked us to cancel.");
          sbool (details, "has_evidence", TRUE);
          sint (details, "submission_count", 1);
        }
      if (!store_update (s->self, charge, error) ||
          !store_insert (s->self, dispute, gstr (charge, "id"), NULL, error))
        return FALSE;
    }
  else if (role == ROLE_PARTIAL_REFUND && charges->len > 0)
    {
      JsonObject *charge = g_ptr_array_index (charges, charges->len >= 3 ? charges->len - 3 : 0);
      gint64 whole = currency_unit (gstr (charge, "currency"));
      gint64 amount = gnum (charge, "amount", 0) / 3;
      g_autoptr(JsonObject) refund = NULL;

      if (amount >= whole)
        amount -= amount % whole;
      refund = build_refund (&rng, charge, MAX (amount, 1), "requested_by_customer",
                             gnum (charge, "created", 0) + 4 * DAY);
      sint (charge, "amount_refunded", gnum (refund, "amount", 0));
      if (!store_update (s->self, charge, error) ||
          !store_insert (s->self, refund, gstr (charge, "id"), NULL, error))
        return FALSE;
    }
  else if (role == ROLE_CREDIT && invoices->len > 0)
    {
      JsonObject *invoice = g_ptr_array_index (invoices, invoices->len >= 2 ? invoices->len - 2 : 0);
      gint64 amount = 25 * currency_unit (org->currency);
      g_autoptr(JsonObject) note = build_credit_note (&rng, invoice, amount, "product_unsatisfactory",
                                                      "Credit for the outage of the sync service.",
                                                      gnum (invoice, "created", 0) + 6 * DAY, 1);
      g_autofree char *transaction = RNG_ID (&rng, "cbtxn_1");

      sstr (note, "customer_balance_transaction", transaction);
      sint (invoice, "post_payment_credit_notes_amount", amount);
      sint (customer, "balance", -amount);
      if (!store_update (s->self, invoice, error) ||
          !store_insert (s->self, note, gstr (invoice, "id"), NULL, error))
        return FALSE;
    }

  if (!store_update (s->self, customer, error))
    return FALSE;

  if (role != ROLE_HEALTHY)
    {
      g_autoptr(FdSandboxStmt) st =
        _fd_sandbox_stmt (s->self, "INSERT OR REPLACE INTO sandbox_stripe_scenarios (name, customer)"
                                   " VALUES (?, ?)");

      sqlite3_bind_text (st, 1, role_names[role], -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, org->customer_id, -1, SQLITE_TRANSIENT);
      if (!_fd_sandbox_step_done (s->self, st, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
stripe_seed_data (FdSandbox  *self,
                  GError    **error)
{
  g_autoptr(FdSandboxStmt) st = NULL;
  g_autoptr(GPtrArray) orgs = NULL;
  Seed s = { self, stripe_seed (self), g_get_real_time () / G_USEC_PER_SEC };
  Rng rng;
  gboolean ok = FALSE;

  {
    g_autoptr(FdSandboxStmt) done =
      _fd_sandbox_stmt (self, "SELECT 1 FROM sandbox_meta WHERE key = 'stripe_seeded'");

    if (sqlite3_step (done) == SQLITE_ROW)
      return TRUE;
  }

  rng.state = s.seed ^ G_GUINT64_CONSTANT (0x57121FE5EED);
  if (!seed_catalogue (&s, error))
    goto out;

  orgs = read_orgs (&s);
  assign_roles (orgs, &rng, FALSE, self_serve_roles, G_N_ELEMENTS (self_serve_roles));
  assign_roles (orgs, &rng, TRUE, enterprise_roles, G_N_ELEMENTS (enterprise_roles));
  for (guint i = 0; i < orgs->len; i++)
    if (!seed_customer (&s, g_ptr_array_index (orgs, i), error))
      goto out;

  st = _fd_sandbox_stmt (self, "INSERT OR REPLACE INTO sandbox_meta (key, value) VALUES ('stripe_seeded', '1')");
  ok = _fd_sandbox_step_done (self, st, error);

out:
  for (guint p = 0; p < 4; p++)
    for (guint i = 0; i < 2; i++)
      for (guint cur = 0; cur < G_N_ELEMENTS (price_table); cur++)
        g_clear_pointer (&s.prices[p][i][cur], json_object_unref);
  g_clear_pointer (&s.coupon, json_object_unref);
  return ok;
}

/* A database derived before Stripe joined the sandbox gets its Stripe data on first use. */
static gboolean
ensure_seeded (FdSandbox  *self,
               GError    **error)
{
  g_autoptr(FdSandboxStmt) done =
    _fd_sandbox_stmt (self, "SELECT 1 FROM sandbox_meta WHERE key = 'stripe_seeded'");

  if (sqlite3_step (done) == SQLITE_ROW)
    return TRUE;
  sqlite3_reset (done);

  if (!fd_store_begin (self->db, error))
    return FALSE;
  if (!stripe_seed_data (self, error) || !fd_store_commit (self->db, error))
    {
      fd_store_rollback (self->db);
      return FALSE;
    }
  return TRUE;
}

/* }}} */
/* {{{ Dispatch */

typedef void (*Handler) (Ctx   *c,
                         char **args);

typedef struct
{
  const char *method;
  const char *pattern;
  Handler     handler;
  /* Every parameter Stripe's description lists for the endpoint (its root name), and
   * those of them the sandbox does not implement: an unknown one is Stripe's "unknown
   * parameter" error, an unimplemented one is said so rather than ignored. */
  const char *known;
  const char *unsupported;
} Route;

#define LIST_PARAMS "ending_before expand limit starting_after"

static const Route routes[] = {
  { "GET", "/v1/account", handle_account, "expand", "" },
  { "GET", "/v1/customers/search", handle_customer_search, "expand limit page query", "" },
  { "GET", "/v1/customers", handle_customers_list, "created email " LIST_PARAMS " test_clock", "test_clock" },
  { "POST", "/v1/customers", handle_customer_create,
    "address balance cash_balance coupon description email expand invoice_prefix invoice_settings "
    "metadata name next_invoice_sequence payment_method phone preferred_locales promotion_code "
    "shipping source tax tax_exempt tax_id_data test_clock",
    "address cash_balance coupon invoice_prefix next_invoice_sequence preferred_locales "
    "promotion_code shipping source tax tax_exempt tax_id_data test_clock" },
  { "GET", "/v1/customers/{customer}", handle_customer, "expand", "" },
  { "POST", "/v1/customers/{customer}", handle_customer_update,
    "address balance bank_account card cash_balance coupon default_alipay_account "
    "default_bank_account default_card default_source description email expand invoice_prefix "
    "invoice_settings metadata name next_invoice_sequence phone preferred_locales promotion_code "
    "shipping source tax tax_exempt",
    "address bank_account card cash_balance coupon default_alipay_account default_bank_account "
    "default_card default_source invoice_prefix next_invoice_sequence preferred_locales "
    "promotion_code shipping source tax tax_exempt" },
  { "DELETE", "/v1/customers/{customer}", handle_customer_delete, "", "" },
  { "GET", "/v1/customers/{customer}/payment_methods", handle_payment_methods_list, LIST_PARAMS " type", "" },
  { "GET", "/v1/payment_methods", handle_payment_methods_list, "customer " LIST_PARAMS " type", "" },
  { "GET", "/v1/payment_methods/{payment_method}", handle_payment_method, "expand", "" },
  { "POST", "/v1/payment_methods/{payment_method}/attach", handle_payment_method_attach, "customer expand", "" },
  { "POST", "/v1/payment_methods/{payment_method}/detach", handle_payment_method_detach, "expand", "" },
  { "GET", "/v1/products", handle_products_list, "active created ids shippable url " LIST_PARAMS, "shippable url" },
  { "GET", "/v1/products/{id}", handle_product, "expand", "" },
  { "GET", "/v1/prices", handle_prices_list,
    "active created currency lookup_keys product recurring type " LIST_PARAMS, "" },
  { "GET", "/v1/prices/{price}", handle_price, "expand", "" },
  { "GET", "/v1/subscriptions", handle_subscriptions_list,
    "automatic_tax collection_method created current_period_end current_period_start customer "
    "price status test_clock " LIST_PARAMS,
    "automatic_tax current_period_end current_period_start test_clock" },
  { "POST", "/v1/subscriptions", handle_subscription_create,
    "add_invoice_items application_fee_percent automatic_tax backdate_start_date "
    "billing_cycle_anchor billing_thresholds cancel_at cancel_at_period_end collection_method "
    "coupon currency customer days_until_due default_payment_method default_source "
    "default_tax_rates description expand items metadata off_session on_behalf_of "
    "payment_behavior payment_settings pending_invoice_item_interval promotion_code "
    "proration_behavior transfer_data trial_end trial_from_plan trial_period_days trial_settings",
    "add_invoice_items application_fee_percent automatic_tax backdate_start_date "
    "billing_cycle_anchor billing_thresholds coupon currency default_source default_tax_rates "
    "off_session on_behalf_of payment_settings pending_invoice_item_interval promotion_code "
    "transfer_data trial_end trial_from_plan trial_settings" },
  { "GET", "/v1/subscriptions/{subscription_exposed_id}", handle_subscription, "expand", "" },
  { "POST", "/v1/subscriptions/{subscription_exposed_id}", handle_subscription_update,
    "add_invoice_items application_fee_percent automatic_tax billing_cycle_anchor "
    "billing_thresholds cancel_at cancel_at_period_end cancellation_details collection_method "
    "coupon days_until_due default_payment_method default_source default_tax_rates description "
    "expand items metadata off_session on_behalf_of pause_collection payment_behavior "
    "payment_settings pending_invoice_item_interval promotion_code proration_behavior "
    "proration_date transfer_data trial_end trial_from_plan trial_settings",
    "add_invoice_items application_fee_percent automatic_tax billing_cycle_anchor "
    "billing_thresholds coupon default_source default_tax_rates off_session on_behalf_of "
    "payment_settings pending_invoice_item_interval promotion_code transfer_data trial_end "
    "trial_from_plan trial_settings" },
  { "DELETE", "/v1/subscriptions/{subscription_exposed_id}", handle_subscription_cancel,
    "cancellation_details expand invoice_now prorate", "" },
  { "GET", "/v1/invoices/upcoming", handle_invoice_upcoming,
    "automatic_tax coupon currency customer customer_details discounts expand invoice_items "
    "schedule subscription subscription_billing_cycle_anchor subscription_cancel_at "
    "subscription_cancel_at_period_end subscription_cancel_now subscription_default_tax_rates "
    "subscription_items subscription_proration_behavior subscription_proration_date "
    "subscription_resume_at subscription_start_date subscription_trial_end "
    "subscription_trial_from_plan",
    "automatic_tax coupon currency customer_details discounts invoice_items schedule "
    "subscription_billing_cycle_anchor subscription_cancel_at subscription_cancel_now "
    "subscription_default_tax_rates subscription_resume_at subscription_start_date "
    "subscription_trial_end subscription_trial_from_plan" },
  { "GET", "/v1/invoices/upcoming/lines", handle_invoice_upcoming_lines,
    "automatic_tax coupon currency customer customer_details discounts " LIST_PARAMS " invoice_items "
    "schedule subscription subscription_billing_cycle_anchor subscription_cancel_at "
    "subscription_cancel_at_period_end subscription_cancel_now subscription_default_tax_rates "
    "subscription_items subscription_proration_behavior subscription_proration_date "
    "subscription_resume_at subscription_start_date subscription_trial_end "
    "subscription_trial_from_plan",
    "automatic_tax coupon currency customer_details discounts ending_before invoice_items schedule "
    "subscription_billing_cycle_anchor subscription_cancel_at subscription_cancel_now "
    "subscription_default_tax_rates subscription_resume_at subscription_start_date "
    "subscription_trial_end subscription_trial_from_plan" },
  { "GET", "/v1/invoices", handle_invoices_list,
    "collection_method created customer due_date status subscription " LIST_PARAMS, "due_date" },
  { "POST", "/v1/invoices", handle_invoice_create,
    "account_tax_ids application_fee_amount auto_advance automatic_tax collection_method currency "
    "custom_fields customer days_until_due default_payment_method default_source "
    "default_tax_rates description discounts due_date effective_at expand footer from_invoice "
    "metadata on_behalf_of payment_settings pending_invoice_items_behavior rendering_options "
    "shipping_cost shipping_details statement_descriptor subscription transfer_data",
    "account_tax_ids application_fee_amount automatic_tax currency custom_fields "
    "default_payment_method default_source default_tax_rates discounts due_date effective_at "
    "footer from_invoice on_behalf_of payment_settings rendering_options shipping_cost "
    "shipping_details statement_descriptor transfer_data" },
  { "GET", "/v1/invoices/{invoice}", handle_invoice, "expand", "" },
  { "GET", "/v1/invoices/{invoice}/lines", handle_invoice_lines, LIST_PARAMS, "ending_before" },
  { "POST", "/v1/invoices/{invoice}/finalize", handle_invoice_finalize, "auto_advance expand", "auto_advance" },
  { "POST", "/v1/invoices/{invoice}/pay", handle_invoice_pay,
    "expand forgive mandate off_session paid_out_of_band payment_method source",
    "forgive mandate off_session source" },
  { "POST", "/v1/invoices/{invoice}/send", handle_invoice_send, "expand", "" },
  { "POST", "/v1/invoices/{invoice}/void", handle_invoice_void, "expand", "" },
  { "POST", "/v1/invoices/{invoice}/mark_uncollectible", handle_invoice_uncollectible, "expand", "" },
  { "GET", "/v1/charges", handle_charges_list,
    "created customer payment_intent transfer_group " LIST_PARAMS, "transfer_group" },
  { "GET", "/v1/charges/{charge}", handle_charge, "expand", "" },
  { "GET", "/v1/refunds", handle_refunds_list, "charge created payment_intent " LIST_PARAMS, "" },
  { "POST", "/v1/refunds", handle_refund_create,
    "amount charge currency customer expand instructions_email metadata origin payment_intent "
    "reason refund_application_fee reverse_transfer",
    "customer instructions_email origin refund_application_fee reverse_transfer" },
  { "GET", "/v1/refunds/{refund}", handle_refund, "expand", "" },
  { "GET", "/v1/disputes", handle_disputes_list, "charge created payment_intent " LIST_PARAMS, "" },
  { "GET", "/v1/disputes/{dispute}", handle_dispute, "expand", "" },
  { "POST", "/v1/disputes/{dispute}", handle_dispute_update, "evidence expand metadata submit", "" },
  { "POST", "/v1/disputes/{dispute}/close", handle_dispute_close, "expand", "" },
  { "POST", "/v1/files", handle_file_create, "expand file file_link_data purpose", "file_link_data" },
  { "GET", "/v1/files/{file}", handle_file, "expand", "" },
  { "GET", "/v1/credit_notes/preview", handle_credit_note_preview,
    "amount credit_amount effective_at expand invoice lines memo metadata out_of_band_amount "
    "reason refund refund_amount shipping_cost", "effective_at refund shipping_cost" },
  { "GET", "/v1/credit_notes", handle_credit_notes_list, "customer invoice " LIST_PARAMS, "" },
  { "POST", "/v1/credit_notes", handle_credit_note_create,
    "amount credit_amount effective_at expand invoice lines memo metadata out_of_band_amount "
    "reason refund refund_amount shipping_cost", "effective_at refund shipping_cost" },
  { "GET", "/v1/credit_notes/{id}", handle_credit_note, "expand", "" },
};

static gboolean
word_in (const char *word,
         const char *list)
{
  gsize len = strlen (word);
  const char *p = list;

  while ((p = strstr (p, word)) != NULL)
    {
      if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
        return TRUE;
      p += len;
    }
  return FALSE;
}

static const Route *
match_route (const char  *method,
             const char  *path,
             char       **args,
             gboolean    *path_known)
{
  g_auto(GStrv) segments = g_strsplit (path, "/", 8);
  guint n = g_strv_length (segments);

  *path_known = FALSE;
  for (guint r = 0; r < G_N_ELEMENTS (routes); r++)
    {
      g_auto(GStrv) pattern = g_strsplit (routes[r].pattern, "/", 8);
      guint n_args = 0;
      gboolean match;

      if (g_strv_length (pattern) != n)
        continue;
      match = TRUE;
      for (guint i = 0; i < n && match; i++)
        {
          if (pattern[i][0] == '{')
            match = segments[i][0] != '\0';
          else
            match = g_str_equal (pattern[i], segments[i]);
        }
      if (!match)
        continue;
      *path_known = TRUE;
      if (!g_str_equal (routes[r].method, method))
        continue;

      for (guint i = 0; i < n; i++)
        if (pattern[i][0] == '{' && n_args < 3)
          args[n_args++] = g_strdup (segments[i]);
      return &routes[r];
    }
  return NULL;
}

/* The parameters against Stripe's list for the endpoint. FALSE after responding. */
static gboolean
check_params (Ctx         *c,
              const Route *route)
{
  for (guint i = 0; i < c->params->len; i++)
    {
      Param *param = g_ptr_array_index (c->params, i);
      g_autofree char *root = g_strndup (param->name, strcspn (param->name, "["));

      if (!word_in (root, route->known))
        {
          invalid (c, "parameter_unknown", param->name, "Received unknown parameter: %s", param->name);
          return FALSE;
        }
      if (word_in (root, route->unsupported))
        {
          invalid (c, NULL, param->name,
                   "The Frontdesk sandbox does not implement the parameter %s of %s %s.",
                   param->name, route->method, route->pattern);
          return FALSE;
        }
    }
  return TRUE;
}

/* The API key from "Authorization: Bearer KEY" or "Basic base64(KEY:)", as Stripe takes. */
static char *
request_key (SoupServerMessage *msg)
{
  const char *value = _fd_sandbox_header (msg, "Authorization");

  if (_fd_sandbox_bearer (msg) != NULL)
    return g_strdup (_fd_sandbox_bearer (msg));
  if (value != NULL && g_ascii_strncasecmp (value, "Basic ", 6) == 0)
    {
      gsize length = 0;
      g_autofree guchar *decoded = g_base64_decode (value + 6, &length);
      g_autofree char *text = g_strndup ((const char *) decoded, length);
      char *colon = strchr (text, ':');

      if (colon != NULL)
        *colon = '\0';
      return g_strdup (text);
    }
  return NULL;
}

static char *
mask_key (const char *key)
{
  gsize len = strlen (key);
  g_autofree char *start = g_strndup (key, MIN (len, 8));
  GString *out = g_string_new (start);

  for (gsize i = 8; i + 4 < len; i++)
    g_string_append_c (out, '*');
  if (len > 12)
    g_string_append (out, key + len - 4);
  return g_string_free (out, FALSE);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static char *
params_hash (Ctx *c)
{
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);

  for (guint i = 0; i < c->params->len; i++)
    {
      Param *param = g_ptr_array_index (c->params, i);
      g_ptr_array_add (pairs, g_strdup_printf ("%s=%s", param->name, param->value));
    }
  g_ptr_array_sort (pairs, compare_strings);
  g_checksum_update (checksum, (const guchar *) c->method, -1);
  g_checksum_update (checksum, (const guchar *) " ", 1);
  g_checksum_update (checksum, (const guchar *) c->path, -1);
  for (guint i = 0; i < pairs->len; i++)
    {
      g_checksum_update (checksum, (const guchar *) "\n", 1);
      g_checksum_update (checksum, g_ptr_array_index (pairs, i), -1);
    }
  if (c->file != NULL)
    g_checksum_update (checksum, g_bytes_get_data (c->file, NULL), g_bytes_get_size (c->file));
  return g_strdup (g_checksum_get_string (checksum));
}

/* TRUE when the key's stored answer was sent (a replay, or an idempotency error). */
static gboolean
idempotency_lookup (Ctx        *c,
                    const char *key,
                    const char *hash)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (c->self, "SELECT method, path, params_hash, status, body, request_id"
                               " FROM sandbox_stripe_idempotency WHERE key = ?");
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (c->msg);

  sqlite3_bind_text (s, 1, key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (s) != SQLITE_ROW)
    return FALSE;

  if (!g_str_equal ((const char *) sqlite3_column_text (s, 0), c->method) ||
      !g_str_equal ((const char *) sqlite3_column_text (s, 1), c->path) ||
      !g_str_equal ((const char *) sqlite3_column_text (s, 2), hash))
    {
      respond_error (c, 400, "idempotency_error", NULL, NULL,
                     "Keys for idempotent requests can only be used with the same parameters they "
                     "were first used with. Try using a key other than '%s' if you meant to execute "
                     "a different request.", key);
      return TRUE;
    }

  _fd_sandbox_respond (c->msg, (guint) sqlite3_column_int (s, 3), "application/json",
                       (const char *) sqlite3_column_text (s, 4));
  soup_message_headers_replace (headers, "Idempotent-Replayed", "true");
  soup_message_headers_replace (headers, "Original-Request", (const char *) sqlite3_column_text (s, 5));
  c->responded = TRUE;
  return TRUE;
}

/* Stripe keeps the outcome of a request that ran: a success, or a payment the bank
 * declined. A request refused before it ran may be sent again with the same key. */
static void
idempotency_store (Ctx        *c,
                   const char *key,
                   const char *hash)
{
  guint status = soup_server_message_get_status (c->msg);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(FdSandboxStmt) s = NULL;

  if (!SOUP_STATUS_IS_SUCCESSFUL (status) && status != 402)
    return;
  body = soup_message_body_flatten (soup_server_message_get_response_body (c->msg));
  s = _fd_sandbox_stmt (c->self, "INSERT OR IGNORE INTO sandbox_stripe_idempotency"
                                 " (key, method, path, params_hash, status, body, request_id, created_at)"
                                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_text (s, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 2, c->method, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 3, c->path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 4, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (s, 5, (int) status);
  sqlite3_bind_text (s, 6, g_bytes_get_data (body, NULL), (int) g_bytes_get_size (body), SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 7, c->request_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 8, c->now);
  if (c->db_error == NULL)
    _fd_sandbox_step_done (c->self, s, &c->db_error);
}

static void
handle_scenarios (Ctx *c)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (c->self, "SELECT name, customer FROM sandbox_stripe_scenarios ORDER BY name");
  g_autoptr(JsonObject) root = json_object_new ();
  JsonObject *scenarios = json_object_new ();

  while (sqlite3_step (s) == SQLITE_ROW)
    sstr (scenarios, (const char *) sqlite3_column_text (s, 0), (const char *) sqlite3_column_text (s, 1));
  sstr (root, "object", "sandbox_scenarios");
  sobj (root, "scenarios", scenarios);
  respond_object_status (c, 200, root);
}

static char *
new_request_id (void)
{
  static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  char id[19] = "req_";

  for (guint i = 4; i < 18; i++)
    id[i] = alphabet[g_random_int_range (0, 62)];
  id[18] = '\0';
  return g_strdup (id);
}

static void
respond_internal (Ctx          *c,
                  const GError *error)
{
  g_warning ("Stripe sandbox: %s %s failed: %s", c->method, c->path, error->message);
  respond_error (c, 500, "api_error", NULL, NULL, "An unknown error occurred");
}

static void
dispatch (Ctx *c)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *hash = NULL;
  char *args[4] = { NULL, };
  const char *idempotency_key;
  const Route *route;
  gboolean path_known, write;

  if (g_str_equal (c->path, "/_sandbox/scenarios"))
    {
      if (!ensure_seeded (c->self, &error))
        respond_internal (c, error);
      else
        handle_scenarios (c);
      return;
    }

  key = request_key (c->msg);
  if (key == NULL || key[0] == '\0')
    {
      respond_error (c, 401, "invalid_request_error", NULL, NULL,
                     "You did not provide an API key. You need to provide your API key in the "
                     "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                     "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                     "or we can help at https://support.stripe.com/.");
      return;
    }
  if (g_str_equal (key, c->self->tokens[FD_SANDBOX_TOKEN_STRIPE_RESTRICTED_KEY]))
    c->restricted = TRUE;
  else if (!g_str_equal (key, c->self->tokens[FD_SANDBOX_TOKEN_STRIPE_KEY]))
    {
      g_autofree char *masked = mask_key (key);

      respond_error (c, 401, "invalid_request_error", NULL, NULL,
                     "Invalid API Key provided: %s", masked);
      return;
    }

  if (!ensure_seeded (c->self, &error))
    {
      respond_internal (c, error);
      return;
    }
  if (!read_params (c))
    {
      invalid (c, NULL, NULL, "The multipart body could not be read.");
      return;
    }

  /* Stripe checks a restricted key's permission on the resource before it looks at the
   * rest of the path, so a write to an unknown id is refused the same way. */
  write = !g_str_equal (c->method, "GET");
  if (write && c->restricted)
    {
      g_autofree char *masked = mask_key (key);
      g_autofree char *resource = g_strndup (c->path + 4, strcspn (c->path + 4, "/"));

      if (g_str_has_suffix (resource, "s"))
        resource[strlen (resource) - 1] = '\0';
      respond_error (c, 403, "invalid_request_error", NULL, NULL,
                     "The provided key '%s' does not have the required permissions for this "
                     "endpoint on account '%s'. Having the 'rak_%s_write' permission would allow "
                     "this request to continue.", masked, ACCOUNT_ID, resource);
      return;
    }

  route = match_route (c->method, c->path, args, &path_known);
  if (route == NULL)
    {
      respond_error (c, 404, "invalid_request_error", NULL, NULL,
                     "Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we "
                     "can help at https://support.stripe.com/.", c->method, c->path);
      return;
    }
  if (!check_params (c, route))
    goto out;

  idempotency_key = write ? _fd_sandbox_header (c->msg, "Idempotency-Key") : NULL;
  if (idempotency_key != NULL && strlen (idempotency_key) > MAX_KEY_LENGTH)
    {
      invalid (c, NULL, NULL, "Idempotency-Key must be at most %d characters.", MAX_KEY_LENGTH);
      goto out;
    }
  if (idempotency_key != NULL && idempotency_key[0] != '\0')
    {
      hash = params_hash (c);
      if (idempotency_lookup (c, idempotency_key, hash))
        goto out;
    }

  if (write && !fd_store_begin (c->self->db, &error))
    {
      respond_internal (c, error);
      goto out;
    }

  route->handler (c, args);
  if (!c->responded)
    respond_error (c, 500, "api_error", NULL, NULL, "An unknown error occurred");

  if (write)
    {
      if (c->db_error != NULL)
        {
          fd_store_rollback (c->self->db);
          respond_internal (c, c->db_error);
        }
      else if (c->rollback)
        {
          fd_store_rollback (c->self->db);
          if (hash != NULL)
            idempotency_store (c, idempotency_key, hash);
        }
      else
        {
          if (hash != NULL)
            idempotency_store (c, idempotency_key, hash);
          if (c->db_error != NULL || !fd_store_commit (c->self->db, &error))
            {
              fd_store_rollback (c->self->db);
              respond_internal (c, c->db_error != NULL ? c->db_error : error);
            }
        }
    }

out:
  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    g_free (args[i]);
}

static void
stripe_handle (FdSandbox         *self,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  Ctx c = { 0 };

  c.self = self;
  c.msg = msg;
  c.method = soup_server_message_get_method (msg);
  c.path = path;
  c.params = g_ptr_array_new_with_free_func (param_free);
  c.request_id = new_request_id ();
  c.now = g_get_real_time () / G_USEC_PER_SEC;

  dispatch (&c);

  soup_message_headers_replace (headers, "Request-Id", c.request_id);
  soup_message_headers_replace (headers, "Stripe-Version", API_VERSION);

  g_ptr_array_unref (c.params);
  g_clear_pointer (&c.file, g_bytes_unref);
  g_free (c.file_name);
  g_free (c.file_type);
  g_free (c.request_id);
  g_clear_error (&c.db_error);
}

static char *
stripe_fault_body (FdSandboxFaultKind kind,
                   guint              param)
{
  switch (kind)
    {
    case FD_SANDBOX_FAULT_RATE_LIMIT:
      return g_strdup ("{\"error\":{\"code\":\"rate_limit\","
                       "\"doc_url\":\"https://stripe.com/docs/error-codes/rate-limit\","
                       "\"message\":\"Request rate limit exceeded. Learn more about rate limits here "
                       "https://stripe.com/docs/rate-limits.\",\"type\":\"invalid_request_error\"}}");
    case FD_SANDBOX_FAULT_SERVER_ERROR:
    case FD_SANDBOX_FAULT_UNAVAILABLE:
    case FD_SANDBOX_FAULT_SLOW:
    case FD_SANDBOX_FAULT_TRUNCATE:
    case FD_SANDBOX_FAULT_MALFORMED:
    case FD_SANDBOX_FAULT_DROP:
    default:
      return g_strdup ("{\"error\":{\"message\":\"An unknown error occurred\",\"type\":\"api_error\"}}");
    }
}

static gboolean
stripe_seed_service (FdSandbox  *self,
                     GError    **error)
{
  return stripe_seed_data (self, error);
}

/* }}} */

const FdSandboxService _fd_sandbox_stripe_service = {
  .name = "stripe",
  .prefix = "/stripe",
  .schema = schema,
  .seed = stripe_seed_service,
  .handle = stripe_handle,
  .fault_body = stripe_fault_body,
  .incoming = NULL,
  .shutdown = NULL,
};
