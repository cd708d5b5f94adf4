/* test-intercom.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Intercom connector against a small libsoup server with Intercom's shapes
 * (../shared/specs/intercom-openapi-2.16.yaml), and against the sandbox when it is built.
 */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "fd-intercom-channel.h"
#include "fd-store.h"
#include "fd-sync-batch.h"

#if defined(__has_include)
# if __has_include("fd-sandbox.h")
#  include "fd-sandbox.h"
#  define HAVE_SANDBOX 1
# endif
#endif

#define TOKEN "test-intercom-token"
#define STREAM "conversations"

/* ------------------------------------------------------------------------------------ */
/* A fake Intercom                                                                      */

typedef enum
{
  FAULT_RATE_LIMIT,   /* 429 with Retry-After: param */
  FAULT_SERVER,       /* 500, not processed */
  FAULT_TRUNCATE,     /* processed, then half the body and the connection closes */
  FAULT_MALFORMED,    /* processed, 200 with half of the JSON */
  FAULT_DROP,         /* not processed, the connection closes */
} FaultKind;

typedef struct
{
  char      *prefix;
  FaultKind  kind;
  guint      count;
  guint      param;
  guint      skip;       /* matching requests let through before the fault starts */
} Fault;

typedef struct
{
  SoupServer *server;
  char       *base_url;
  JsonNode   *admins;          /* array */
  JsonNode   *companies;       /* array */
  JsonNode   *contacts;        /* array */
  JsonNode   *conversations;   /* array, with their parts */
  JsonNode   *tags;            /* array */
  GHashTable *replies;         /* Idempotency-Key → the answer first given, as text */
  GPtrArray  *log;             /* "METHOD /path" */
  GPtrArray  *keys;            /* the Idempotency-Key of every write, "" when absent */
  GPtrArray  *faults;
  gint64      clock;           /* the service's time, seconds */
  gboolean    date_from_clock; /* the Date header says the service's time */
  guint       page_size;
  guint       next_part;
  guint       next_tag;
  gboolean    garbage_items;   /* search pages also carry malformed items */
  gboolean    garbage_page;    /* search answers with a wrong shape */
  gboolean    no_contact_search; /* POST /contacts/search is 404; GET /contacts lists */
} FakeIntercom;

static void
fault_free (gpointer data)
{
  Fault *fault = data;

  g_free (fault->prefix);
  g_free (fault);
}

static void
fake_add_fault_after (FakeIntercom *fake,
                      const char   *prefix,
                      FaultKind     kind,
                      guint         count,
                      guint         param,
                      guint         skip)
{
  Fault *fault = g_new0 (Fault, 1);

  fault->prefix = g_strdup (prefix);
  fault->kind = kind;
  fault->count = count;
  fault->param = param;
  fault->skip = skip;
  g_ptr_array_add (fake->faults, fault);
}

static void
fake_add_fault (FakeIntercom *fake,
                const char   *prefix,
                FaultKind     kind,
                guint         count,
                guint         param)
{
  fake_add_fault_after (fake, prefix, kind, count, param, 0);
}

static guint
fake_count (FakeIntercom *fake,
            const char   *prefix)
{
  guint n = 0;

  for (guint i = 0; i < fake->log->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (fake->log, i), prefix))
      n++;

  return n;
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);

  return json_node_ref (json_parser_get_root (parser));
}

static JsonObject *
fake_find (JsonNode   *array,
           const char *id)
{
  JsonArray *items = json_node_get_array (array);

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (item, "id", ""), id) == 0)
        return item;
    }

  return NULL;
}

static JsonObject *
make_part (FakeIntercom *fake,
           const char   *part_type,
           const char   *author_type,
           const char   *author_id,
           const char   *body)
{
  JsonObject *part = json_object_new ();
  JsonObject *author = json_object_new ();
  g_autofree char *id = g_strdup_printf ("%u", fake->next_part++);

  json_object_set_string_member (part, "type", "conversation_part");
  json_object_set_string_member (part, "id", id);
  json_object_set_string_member (part, "part_type", part_type);
  if (body != NULL)
    json_object_set_string_member (part, "body", body);
  else
    json_object_set_null_member (part, "body");
  json_object_set_int_member (part, "created_at", fake->clock);
  json_object_set_int_member (part, "updated_at", fake->clock);
  json_object_set_string_member (author, "type", author_type);
  json_object_set_string_member (author, "id", author_id);
  json_object_set_string_member (author, "name", g_str_equal (author_type, "admin") ? "Ann Agent" : "Carol Customer");
  json_object_set_object_member (part, "author", author);
  json_object_set_array_member (part, "attachments", json_array_new ());

  return part;
}

/* A change: the clock moves on and the conversation's updated_at follows. */
static void
fake_touch (FakeIntercom *fake,
            JsonObject   *conversation,
            JsonObject   *part)
{
  JsonObject *parts = json_object_get_object_member (conversation, "conversation_parts");
  JsonArray *list = json_object_get_array_member (parts, "conversation_parts");

  fake->clock++;
  if (part != NULL)
    {
      json_object_set_int_member (part, "created_at", fake->clock);
      json_array_add_object_element (list, part);
      json_object_set_int_member (parts, "total_count", json_array_get_length (list));
    }
  json_object_set_int_member (conversation, "updated_at", fake->clock);
}

/* A customer writes in conversation @id. */
static void
fake_customer_writes (FakeIntercom *fake,
                      const char   *id,
                      const char   *html)
{
  JsonObject *conversation = fake_find (fake->conversations, id);

  g_assert_nonnull (conversation);
  fake_touch (fake, conversation, make_part (fake, "comment", "user", "u1", html));
}

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              JsonNode          *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *code,
               const char        *message)
{
  g_autofree char *text = g_strdup_printf ("{\"type\":\"error.list\",\"request_id\":null,"
                                           "\"errors\":[{\"code\":\"%s\",\"message\":\"%s\"}]}",
                                           code, message);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

static JsonObject *
request_object (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  return json_object_ref (json_node_get_object (root));
}

static JsonNode *
deep_copy (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (node, FALSE);

  return parse_json (text);
}

static int
compare_keys (gint64      ux,
              const char *x,
              gint64      uy,
              const char *y)
{
  if (ux != uy)
    return ux < uy ? -1 : 1;
  return g_strcmp0 (x, y);
}

static int
compare_updated (gconstpointer a,
                 gconstpointer b)
{
  JsonObject *x = *(JsonObject **) a;
  JsonObject *y = *(JsonObject **) b;

  return compare_keys (json_object_get_int_member_with_default (x, "updated_at", 0),
                       json_object_get_string_member_with_default (x, "id", ""),
                       json_object_get_int_member_with_default (y, "updated_at", 0),
                       json_object_get_string_member_with_default (y, "id", ""));
}

/* POST …/search: updated_at > value, oldest first, pages of page_size. The cursor names
 * the last item given (updated_at and id), as a search index's would: what changes while
 * a client pages moves behind it, and nothing is skipped. */
static void
handle_search (FakeIntercom      *fake,
               SoupServerMessage *msg,
               JsonNode          *collection,
               const char        *member,
               gboolean           strip_parts)
{
  g_autoptr(JsonObject) request = request_object (msg);
  g_autoptr(GPtrArray) matches = g_ptr_array_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;
  JsonObject *query, *pagination;
  JsonArray *items = json_node_get_array (collection);
  const char *after;
  gint64 since, per_page, after_time = G_MININT64;
  g_autofree char *after_id = NULL;
  guint first = 0, taken = 0;

  query = request != NULL ? json_object_get_object_member (request, "query") : NULL;
  if (query == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (query, "field", ""), "updated_at") != 0 ||
      g_strcmp0 (json_object_get_string_member_with_default (query, "operator", ""), ">") != 0)
    {
      respond_error (msg, 400, "parameter_invalid", "unsupported query");
      return;
    }
  since = json_object_get_int_member_with_default (query, "value", -1);

  pagination = json_object_get_object_member (request, "pagination");
  per_page = pagination != NULL ? json_object_get_int_member_with_default (pagination, "per_page", 20) : 20;
  g_assert_cmpint (per_page, <=, 150);
  after = pagination != NULL ? json_object_get_string_member_with_default (pagination, "starting_after", NULL) : NULL;
  if (after != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (after, ":", 3);

      if (g_strv_length (parts) != 3 || !g_str_equal (parts[0], "k"))
        {
          respond_error (msg, 400, "parameter_invalid", "bad starting_after");
          return;
        }
      after_time = g_ascii_strtoll (parts[1], NULL, 10);
      after_id = g_strdup (parts[2]);
    }
  per_page = MIN (per_page, (gint64) fake->page_size);

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);

      if (json_object_get_int_member_with_default (item, "updated_at", 0) > since)
        g_ptr_array_add (matches, item);
    }
  g_ptr_array_sort (matches, compare_updated);
  while (after_id != NULL && first < matches->len &&
         compare_keys (json_object_get_int_member_with_default (g_ptr_array_index (matches, first), "updated_at", 0),
                       json_object_get_string_member_with_default (g_ptr_array_index (matches, first), "id", ""),
                       after_time, after_id) <= 0)
    first++;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, strip_parts ? "conversation.list" : "list");
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  if (fake->garbage_items && after == NULL)
    {
      json_builder_add_int_value (b, 7);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "conversation");
      json_builder_set_member_name (b, "id");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_end_object (b);
    }
  for (guint i = first; i < matches->len && taken < per_page; i++, taken++)
    {
      JsonNode *copy = deep_copy (g_ptr_array_index (matches, i));

      /* Lists and searches leave the parts out. */
      if (strip_parts)
        json_object_remove_member (json_node_get_object (copy), "conversation_parts");
      json_builder_add_value (b, copy);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total_count");
  json_builder_add_int_value (b, matches->len);
  json_builder_set_member_name (b, "pages");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "pages");
  json_builder_set_member_name (b, "per_page");
  json_builder_add_int_value (b, per_page);
  if (first + taken < matches->len)
    {
      JsonObject *last = g_ptr_array_index (matches, first + taken - 1);
      g_autofree char *next = g_strdup_printf ("k:%" G_GINT64_FORMAT ":%s",
                                               json_object_get_int_member_with_default (last, "updated_at", 0),
                                               json_object_get_string_member_with_default (last, "id", ""));

      json_builder_set_member_name (b, "next");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "per_page");
      json_builder_add_int_value (b, per_page);
      json_builder_set_member_name (b, "starting_after");
      json_builder_add_string_value (b, next);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);

  answer = json_builder_get_root (b);
  respond_json (msg, 200, answer);
}

static void
handle_companies (FakeIntercom      *fake,
                  SoupServerMessage *msg)
{
  GHashTable *query = soup_server_message_get_uri (msg) != NULL
    ? soup_form_decode (g_uri_get_query (soup_server_message_get_uri (msg)) ?: "") : NULL;
  JsonArray *all = json_node_get_array (fake->companies);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;
  gint64 page = 1, per_page = 15, total_pages;

  if (query != NULL && g_hash_table_lookup (query, "page") != NULL)
    page = MAX (1, g_ascii_strtoll (g_hash_table_lookup (query, "page"), NULL, 10));
  if (query != NULL && g_hash_table_lookup (query, "per_page") != NULL)
    per_page = CLAMP (g_ascii_strtoll (g_hash_table_lookup (query, "per_page"), NULL, 10), 1, 60);
  g_clear_pointer (&query, g_hash_table_unref);
  per_page = MIN (per_page, (gint64) fake->page_size);
  total_pages = (json_array_get_length (all) + per_page - 1) / per_page;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "list");
  json_builder_set_member_name (b, "data");
  json_builder_begin_array (b);
  for (gint64 i = (page - 1) * per_page; i < page * per_page && i < json_array_get_length (all); i++)
    json_builder_add_value (b, json_node_copy (json_array_get_element (all, i)));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "pages");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "pages");
  json_builder_set_member_name (b, "page");
  json_builder_add_int_value (b, page);
  json_builder_set_member_name (b, "per_page");
  json_builder_add_int_value (b, per_page);
  json_builder_set_member_name (b, "total_pages");
  json_builder_add_int_value (b, total_pages);
  json_builder_end_object (b);
  json_builder_end_object (b);

  answer = json_builder_get_root (b);
  respond_json (msg, 200, answer);
}

/* GET /contacts: everything, by position, "i:N" after the Nth. */
static void
handle_list_contacts (FakeIntercom      *fake,
                      SoupServerMessage *msg)
{
  const char *raw = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) query = soup_form_decode (raw != NULL ? raw : "");
  const char *after = g_hash_table_lookup (query, "starting_after");
  JsonArray *all = json_node_get_array (fake->contacts);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;
  guint first = after != NULL && g_str_has_prefix (after, "i:") ? g_ascii_strtoull (after + 2, NULL, 10) : 0;
  guint last = MIN (first + fake->page_size, json_array_get_length (all));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "list");
  json_builder_set_member_name (b, "data");
  json_builder_begin_array (b);
  for (guint i = first; i < last; i++)
    json_builder_add_value (b, json_node_copy (json_array_get_element (all, i)));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "pages");
  json_builder_begin_object (b);
  if (last < json_array_get_length (all))
    {
      g_autofree char *next = g_strdup_printf ("i:%u", last);

      json_builder_set_member_name (b, "next");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "starting_after");
      json_builder_add_string_value (b, next);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);

  answer = json_builder_get_root (b);
  respond_json (msg, 200, answer);
}

static void
handle_reply (FakeIntercom      *fake,
              SoupServerMessage *msg,
              JsonObject        *conversation)
{
  g_autoptr(JsonObject) request = request_object (msg);
  const char *key = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                  "Idempotency-Key");
  const char *type, *body, *admin;
  const char *stored;
  g_autoptr(JsonNode) answer = NULL;

  if (key != NULL && (stored = g_hash_table_lookup (fake->replies, key)) != NULL)
    {
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, stored, strlen (stored));
      return;
    }

  type = request != NULL ? json_object_get_string_member_with_default (request, "message_type", NULL) : NULL;
  body = request != NULL ? json_object_get_string_member_with_default (request, "body", NULL) : NULL;
  admin = request != NULL ? json_object_get_string_member_with_default (request, "admin_id", NULL) : NULL;
  if ((g_strcmp0 (type, "comment") != 0 && g_strcmp0 (type, "note") != 0) || body == NULL ||
      admin == NULL || g_strcmp0 (json_object_get_string_member_with_default (request, "type", NULL), "admin") != 0)
    {
      respond_error (msg, 400, "parameter_invalid", "bad reply");
      return;
    }

  fake_touch (fake, conversation, make_part (fake, type, "admin", admin, body));
  answer = json_node_init_object (json_node_alloc (), conversation);
  /* A snapshot: the conversation goes on changing. */
  if (key != NULL)
    g_hash_table_insert (fake->replies, g_strdup (key), json_to_string (answer, FALSE));
  respond_json (msg, 200, answer);
}

static void
handle_parts (FakeIntercom      *fake,
              SoupServerMessage *msg,
              JsonObject        *conversation)
{
  g_autoptr(JsonObject) request = request_object (msg);
  g_autoptr(JsonNode) answer = NULL;
  const char *type = request != NULL ? json_object_get_string_member_with_default (request, "message_type", "") : "";
  const char *admin = request != NULL ? json_object_get_string_member_with_default (request, "admin_id", NULL) : NULL;

  if (admin == NULL)
    {
      respond_error (msg, 400, "parameter_invalid", "admin_id is required");
      return;
    }

  if (g_str_equal (type, "close"))
    json_object_set_string_member (conversation, "state", "closed");
  else if (g_str_equal (type, "open"))
    json_object_set_string_member (conversation, "state", "open");
  else if (g_str_equal (type, "snoozed") && json_object_has_member (request, "snoozed_until"))
    {
      json_object_set_string_member (conversation, "state", "snoozed");
      json_object_set_int_member (conversation, "snoozed_until",
                                  json_object_get_int_member (request, "snoozed_until"));
    }
  else if (g_str_equal (type, "assignment") &&
           json_object_get_string_member_with_default (request, "assignee_id", NULL) != NULL)
    json_object_set_int_member (conversation, "admin_assignee_id",
                                g_ascii_strtoll (json_object_get_string_member (request, "assignee_id"), NULL, 10));
  else
    {
      respond_error (msg, 400, "parameter_invalid", "bad part");
      return;
    }

  fake_touch (fake, conversation, make_part (fake, type, "admin", admin, NULL));
  answer = json_node_init_object (json_node_alloc (), conversation);
  respond_json (msg, 200, answer);
}

static JsonObject *
find_tag (FakeIntercom *fake,
          const char   *id,
          const char   *name)
{
  JsonArray *tags = json_node_get_array (fake->tags);

  for (guint i = 0; i < json_array_get_length (tags); i++)
    {
      JsonObject *tag = json_array_get_object_element (tags, i);

      if ((id != NULL && g_str_equal (json_object_get_string_member (tag, "id"), id)) ||
          (name != NULL && g_ascii_strcasecmp (json_object_get_string_member (tag, "name"), name) == 0))
        return tag;
    }

  return NULL;
}

static void
handle_conversation_tags (FakeIntercom      *fake,
                          SoupServerMessage *msg,
                          JsonObject        *conversation,
                          const char        *tag_id)
{
  g_autoptr(JsonObject) request = request_object (msg);
  JsonArray *applied = json_object_get_array_member (json_object_get_object_member (conversation, "tags"), "tags");
  JsonObject *tag;
  g_autoptr(JsonNode) answer = NULL;

  if (request == NULL || json_object_get_string_member_with_default (request, "admin_id", NULL) == NULL)
    {
      respond_error (msg, 400, "parameter_invalid", "admin_id is required");
      return;
    }

  if (tag_id == NULL)
    tag_id = json_object_get_string_member_with_default (request, "id", "");
  if ((tag = find_tag (fake, tag_id, NULL)) == NULL)
    {
      respond_error (msg, 404, "tag_not_found", "Tag not found");
      return;
    }

  for (guint i = 0; i < json_array_get_length (applied); i++)
    {
      if (g_str_equal (json_object_get_string_member (json_array_get_object_element (applied, i), "id"), tag_id))
        {
          if (g_str_equal (soup_server_message_get_method (msg), "DELETE"))
            json_array_remove_element (applied, i);
          tag_id = NULL;
          break;
        }
    }

  if (g_str_equal (soup_server_message_get_method (msg), "POST") && tag_id != NULL)
    json_array_add_element (applied, json_node_init_object (json_node_alloc (), tag));
  else if (g_str_equal (soup_server_message_get_method (msg), "DELETE") && tag_id != NULL)
    {
      respond_error (msg, 404, "tag_not_found", "Tag not found");
      return;
    }

  fake_touch (fake, conversation, NULL);
  answer = json_node_init_object (json_node_alloc (), tag);
  respond_json (msg, 200, answer);
}

static void
handle_tags (FakeIntercom      *fake,
             SoupServerMessage *msg)
{
  g_autoptr(JsonNode) answer = NULL;

  if (g_str_equal (soup_server_message_get_method (msg), "GET"))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "list");
      json_builder_set_member_name (b, "data");
      json_builder_add_value (b, json_node_copy (fake->tags));
      json_builder_end_object (b);
      answer = json_builder_get_root (b);
    }
  else
    {
      g_autoptr(JsonObject) request = request_object (msg);
      const char *name = request != NULL ? json_object_get_string_member_with_default (request, "name", NULL) : NULL;
      JsonObject *tag;

      if (name == NULL)
        {
          respond_error (msg, 400, "parameter_invalid", "invalid tag parameters");
          return;
        }

      if ((tag = find_tag (fake, NULL, name)) == NULL)
        {
          g_autofree char *id = g_strdup_printf ("t%u", fake->next_tag++);

          tag = json_object_new ();
          json_object_set_string_member (tag, "type", "tag");
          json_object_set_string_member (tag, "id", id);
          json_object_set_string_member (tag, "name", name);
          json_array_add_object_element (json_node_get_array (fake->tags), tag);
        }
      answer = json_node_init_object (json_node_alloc (), tag);
    }

  respond_json (msg, 200, answer);
}

static void
handle_api (FakeIntercom      *fake,
            SoupServerMessage *msg,
            const char        *method,
            const char        *path)
{
  g_auto(GStrv) segments = g_strsplit (path + 1, "/", -1);
  guint n = g_strv_length (segments);
  JsonObject *conversation = NULL;

  /* The token belongs to the first admin. */
  if (g_str_equal (method, "GET") && g_str_equal (path, "/me"))
    {
      JsonArray *admins = json_node_get_array (fake->admins);
      g_autoptr(JsonNode) answer = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (answer, json_array_get_object_element (admins, 0));
      respond_json (msg, 200, answer);
      return;
    }

  if (g_str_equal (method, "GET") && g_str_equal (path, "/admins"))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) answer = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "admin.list");
      json_builder_set_member_name (b, "admins");
      json_builder_add_value (b, json_node_copy (fake->admins));
      json_builder_end_object (b);
      answer = json_builder_get_root (b);
      respond_json (msg, 200, answer);
      return;
    }

  if (g_str_equal (method, "GET") && g_str_equal (path, "/companies"))
    return handle_companies (fake, msg);
  if (g_str_equal (method, "POST") && g_str_equal (path, "/contacts/search") && !fake->no_contact_search)
    return handle_search (fake, msg, fake->contacts, "data", FALSE);
  if (g_str_equal (method, "GET") && g_str_equal (path, "/contacts") && fake->no_contact_search)
    return handle_list_contacts (fake, msg);
  if (g_str_equal (path, "/tags"))
    return handle_tags (fake, msg);

  if (g_str_equal (method, "POST") && g_str_equal (path, "/conversations/search"))
    {
      if (fake->garbage_page)
        {
          const char *text = "{\"type\":\"conversation.list\",\"conversations\":{\"oops\":1}}";

          soup_server_message_set_status (msg, 200, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, text, strlen (text));
          return;
        }
      return handle_search (fake, msg, fake->conversations, "conversations", TRUE);
    }

  if (n >= 2 && g_str_equal (segments[0], "conversations"))
    conversation = fake_find (fake->conversations, segments[1]);

  if (conversation == NULL)
    {
      respond_error (msg, 404, "not_found", "Resource Not Found");
      return;
    }

  if (n == 2 && g_str_equal (method, "GET"))
    {
      g_autoptr(JsonNode) answer = json_node_init_object (json_node_alloc (), conversation);

      respond_json (msg, 200, answer);
    }
  else if (n == 3 && g_str_equal (method, "POST") && g_str_equal (segments[2], "reply"))
    handle_reply (fake, msg, conversation);
  else if (n == 3 && g_str_equal (method, "POST") && g_str_equal (segments[2], "parts"))
    handle_parts (fake, msg, conversation);
  else if (n == 3 && g_str_equal (method, "POST") && g_str_equal (segments[2], "tags"))
    handle_conversation_tags (fake, msg, conversation, NULL);
  else if (n == 4 && g_str_equal (method, "DELETE") && g_str_equal (segments[2], "tags"))
    handle_conversation_tags (fake, msg, conversation, segments[3]);
  else
    respond_error (msg, 404, "not_found", "Resource Not Found");
}

static void
write_raw_and_close (SoupServerMessage *msg,
                     const char        *raw,
                     gsize              length)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);

  if (raw != NULL)
    g_output_stream_write_all (g_io_stream_get_output_stream (stream), raw, length, NULL, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

static void
fake_handler (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *full_path,
              GHashTable        *query,
              gpointer           user_data)
{
  FakeIntercom *fake = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *path = full_path + strlen ("/intercom");
  const char *key = soup_message_headers_get_one (headers, "Idempotency-Key");
  Fault *fault = NULL;

  g_ptr_array_add (fake->log, g_strdup_printf ("%s %s", method, path));
  /* Writes: searches only read. */
  if (!g_str_equal (method, "GET") && !g_str_has_suffix (path, "/search"))
    g_ptr_array_add (fake->keys, g_strdup (key != NULL ? key : ""));

  if (fake->date_from_clock)
    {
      g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (fake->clock);
      g_autofree char *date = soup_date_time_to_string (now, SOUP_DATE_HTTP);

      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Date", date);
    }

  if (g_strcmp0 (soup_message_headers_get_one (headers, "Authorization"), "Bearer " TOKEN) != 0)
    {
      respond_error (msg, 401, "unauthorized", "Access Token Invalid");
      return;
    }
  g_assert_cmpstr (soup_message_headers_get_one (headers, "Intercom-Version"), !=, NULL);
  g_assert_true (soup_message_headers_header_contains (headers, "Accept", "application/json"));

  for (guint i = 0; i < fake->faults->len; i++)
    {
      Fault *f = g_ptr_array_index (fake->faults, i);

      if (g_str_has_prefix (path, f->prefix))
        {
          if (f->skip > 0)
            f->skip--;
          else
            fault = f;
          break;
        }
    }

  if (fault != NULL)
    {
      FaultKind kind = fault->kind;
      guint param = fault->param;

      if (--fault->count == 0)
        g_ptr_array_remove (fake->faults, fault);

      switch (kind)
        {
        case FAULT_RATE_LIMIT:
          {
            g_autofree char *after = g_strdup_printf ("%u", param);

            soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", after);
            respond_error (msg, 429, "rate_limit_exceeded", "Exceeded rate limit");
          }
          return;

        case FAULT_SERVER:
          respond_error (msg, 500, "server_error", "Server Error");
          return;

        case FAULT_DROP:
          write_raw_and_close (msg, NULL, 0);
          return;

        case FAULT_TRUNCATE:
        case FAULT_MALFORMED:
          {
            g_autoptr(GBytes) body = NULL;
            gsize length;

            handle_api (fake, msg, method, path);
            body = soup_message_body_flatten (soup_server_message_get_response_body (msg));
            length = g_bytes_get_size (body);

            if (kind == FAULT_MALFORMED)
              {
                soup_server_message_set_status (msg, 200, NULL);
                soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                                  g_bytes_get_data (body, NULL), length / 2);
              }
            else
              {
                g_autofree char *raw = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                                        "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                                                        "Connection: close\r\n\r\n%.*s",
                                                        length, (int) (length / 2),
                                                        (const char *) g_bytes_get_data (body, NULL));

                write_raw_and_close (msg, raw, strlen (raw));
              }
          }
          return;

        default:
          g_assert_not_reached ();
        }
    }

  handle_api (fake, msg, method, path);
}

/* Shapes from the Intercom 2.16 description; ids and times made up. Two conversations
 * carry what the connector must skip or cope with. */
static const char fake_admins[] =
  "[{\"type\":\"admin\",\"id\":\"100\",\"name\":\"Ann Agent\",\"email\":\"ann@support.test\","
  "  \"away_mode_enabled\":false,\"has_inbox_seat\":true,\"team_ids\":[]},"
  " {\"type\":\"admin\",\"id\":\"101\",\"name\":\"Bo Agent\",\"email\":\"bo@support.test\"},"
  " {\"type\":\"admin\",\"name\":\"No Id\"}]";

static const char fake_companies[] =
  "[{\"type\":\"company\",\"id\":\"c1\",\"company_id\":\"acme-1\",\"name\":\"Acme\","
  "  \"plan\":{\"type\":\"plan\",\"id\":\"p1\",\"name\":\"Enterprise\"},\"created_at\":1700000000},"
  " {\"type\":\"company\",\"id\":\"c2\",\"company_id\":\"globex\",\"name\":\"Globex\",\"plan\":{}},"
  " {\"type\":\"company\",\"id\":\"c3\",\"name\":\"Initech\"}]";

static const char fake_contacts[] =
  "[{\"type\":\"contact\",\"id\":\"u1\",\"role\":\"user\",\"name\":\"Carol Customer\","
  "  \"email\":\"carol@acme.test\",\"created_at\":1690000000,\"updated_at\":1690000100,"
  "  \"companies\":{\"type\":\"list\",\"data\":[{\"type\":\"company\",\"id\":\"c1\",\"url\":\"/companies/c1\"}]}},"
  " {\"type\":\"contact\",\"id\":\"u2\",\"role\":\"user\",\"name\":\"Dan\",\"email\":\"dan@globex.test\","
  "  \"created_at\":1690000000,\"updated_at\":1690000200,"
  "  \"companies\":{\"type\":\"list\",\"data\":[{\"type\":\"company\",\"id\":\"c2\"}]}},"
  " {\"type\":\"contact\",\"id\":\"u3\",\"role\":\"lead\",\"name\":null,\"email\":\"lead@x.test\","
  "  \"created_at\":1690000000,\"updated_at\":1690000300,\"companies\":{\"data\":[]}},"
  " {\"type\":\"contact\",\"name\":\"No Id\",\"updated_at\":1690000400}]";

/* @T is replaced by times in the past of the fake clock. */
static const char fake_conversations[] =
  "[{\"type\":\"conversation\",\"id\":\"1\",\"title\":null,\"created_at\":@T1,\"updated_at\":@T5,"
  "  \"waiting_since\":null,\"snoozed_until\":null,\"open\":true,\"state\":\"open\",\"read\":true,"
  "  \"priority\":\"high\",\"admin_assignee_id\":100,\"team_assignee_id\":0,"
  "  \"tags\":{\"type\":\"tag.list\",\"tags\":[{\"type\":\"tag\",\"id\":\"t1\",\"name\":\"billing\"}]},"
  "  \"source\":{\"type\":\"email\",\"id\":\"9001\",\"delivered_as\":\"customer_initiated\","
  "    \"subject\":\"<b>Invoice</b> &amp; refund\",\"body\":\"<p>Hello,</p><p>I was charged <b>twice</b>.</p>\","
  "    \"author\":{\"type\":\"user\",\"id\":\"u1\",\"name\":\"Carol Customer\",\"email\":\"carol@acme.test\"},"
  "    \"attachments\":[{\"type\":\"upload\",\"name\":\"invoice.pdf\",\"url\":\"https://files.test/i.pdf\","
  "      \"content_type\":\"application/pdf\",\"filesize\":2048}],\"url\":null,\"redacted\":false},"
  "  \"contacts\":{\"type\":\"contact.list\",\"contacts\":[{\"type\":\"contact\",\"id\":\"u1\",\"external_id\":\"70\"}]},"
  "  \"conversation_parts\":{\"type\":\"conversation_part.list\",\"total_count\":5,\"conversation_parts\":["
  "   {\"type\":\"conversation_part\",\"id\":\"11\",\"part_type\":\"assignment\",\"body\":null,\"created_at\":@T2,"
  "    \"author\":{\"type\":\"admin\",\"id\":\"100\",\"name\":\"Ann Agent\"},\"attachments\":[]},"
  "   {\"type\":\"conversation_part\",\"id\":\"12\",\"part_type\":\"comment\","
  "    \"body\":\"<p>Sorry! See <a href=\\\"https://help.test/refunds\\\">our refund policy</a>.</p>\",\"created_at\":@T3,"
  "    \"author\":{\"type\":\"admin\",\"id\":\"100\",\"name\":\"Ann Agent\",\"email\":\"ann@support.test\"},\"attachments\":[]},"
  "   {\"type\":\"conversation_part\",\"id\":\"13\",\"part_type\":\"note\",\"body\":\"<p>Check <i>Stripe</i> first</p>\","
  "    \"created_at\":@T4,\"author\":{\"type\":\"admin\",\"id\":\"101\",\"name\":\"Bo Agent\"},\"attachments\":[]},"
  "   {\"type\":\"conversation_part\",\"part_type\":\"comment\",\"body\":\"no id\",\"created_at\":@T4},"
  "   \"not a part\","
  "   {\"type\":\"conversation_part\",\"id\":\"14\",\"part_type\":\"open\",\"body\":\"<p>Thanks <br>again</p>\","
  "    \"created_at\":@T5,\"author\":{\"type\":\"user\",\"id\":\"u1\",\"name\":\"Carol Customer\"},"
  "    \"attachments\":[{\"name\":\"shot.png\",\"url\":\"https://files.test/s.png\",\"content_type\":\"image/png\",\"filesize\":99}]}"
  "  ]}},"
  " {\"type\":\"conversation\",\"id\":\"2\",\"title\":\"\",\"created_at\":@T2,\"updated_at\":@T6,"
  "  \"state\":\"closed\",\"open\":false,\"priority\":\"none\",\"admin_assignee_id\":0,"
  "  \"tags\":{\"type\":\"tag.list\",\"tags\":[]},"
  "  \"source\":{\"type\":\"conversation\",\"id\":\"9002\",\"delivered_as\":\"customer_initiated\",\"subject\":\"\","
  "    \"body\":\"<script>alert(1)</script><div>App crashes on <code>save()</code></div>\","
  "    \"author\":{\"type\":\"user\",\"id\":\"u2\",\"name\":\"Dan\"},\"attachments\":[]},"
  "  \"contacts\":{\"type\":\"contact.list\",\"contacts\":[{\"type\":\"contact\",\"id\":\"u2\"}]},"
  "  \"conversation_parts\":{\"type\":\"conversation_part.list\",\"total_count\":2,\"conversation_parts\":["
  "   {\"type\":\"conversation_part\",\"id\":\"21\",\"part_type\":\"comment\",\"body\":\"<p>Fixed in 2.1</p>\","
  "    \"created_at\":@T3,\"author\":{\"type\":\"bot\",\"id\":\"999\",\"name\":\"Fin\"},\"attachments\":[]},"
  "   {\"type\":\"conversation_part\",\"id\":\"22\",\"part_type\":\"close\",\"body\":null,\"created_at\":@T6,"
  "    \"author\":{\"type\":\"admin\",\"id\":\"100\"},\"attachments\":[]}"
  "  ]}},"
  " {\"type\":\"conversation\",\"id\":\"3\",\"title\":\"Snoozed <i>chat</i>\",\"created_at\":@T3,\"updated_at\":@T7,"
  "  \"state\":\"snoozed\",\"snoozed_until\":@T9,\"priority\":\"low\",\"admin_assignee_id\":\"101\","
  "  \"tags\":{\"type\":\"tag.list\",\"tags\":[{\"type\":\"tag\",\"id\":\"t2\",\"name\":\"vip\"},{\"id\":\"t1\",\"name\":\"billing\"}]},"
  "  \"source\":{\"type\":\"conversation\",\"id\":\"9003\",\"delivered_as\":\"customer_initiated\","
  "    \"body\":\"Plain text &lt;not a tag&gt;\",\"author\":{\"type\":\"lead\",\"id\":\"u3\"},\"attachments\":[]},"
  "  \"contacts\":{\"type\":\"contact.list\",\"contacts\":[{\"type\":\"contact\",\"id\":\"u3\"}]},"
  "  \"conversation_parts\":{\"type\":\"conversation_part.list\",\"conversation_parts\":[]}},"
  " {\"type\":\"conversation\",\"id\":\"4\",\"created_at\":@T4,\"updated_at\":@T8,\"state\":\"open\","
  "  \"priority\":\"urgent\",\"admin_assignee_id\":null,"
  "  \"company\":{\"type\":\"company\",\"id\":\"c9\",\"name\":\"Late Corp\",\"plan\":{\"name\":\"Pro\"}},"
  "  \"source\":{\"type\":\"email\",\"id\":\"9004\",\"subject\":\"New company\",\"body\":\"<p>Hi</p>\","
  "    \"author\":{\"type\":\"user\",\"id\":\"u9\",\"name\":\"Newcomer\",\"email\":\"new@late.test\"}},"
  "  \"contacts\":{\"contacts\":[{\"type\":\"contact\",\"id\":\"u9\"}]},"
  "  \"conversation_parts\":{\"conversation_parts\":[]}},"
  " {\"type\":\"conversation\",\"id\":\"5\",\"created_at\":@T5,\"updated_at\":@T8,\"state\":42,"
  "  \"priority\":[],\"tags\":\"wrong\",\"source\":\"wrong\",\"contacts\":null,"
  "  \"conversation_parts\":{\"conversation_parts\":["
  "   {\"type\":\"conversation_part\",\"id\":51,\"part_type\":\"comment\",\"body\":\"<p>numeric id</p>\","
  "    \"created_at\":\"@T8\",\"author\":{\"type\":\"user\",\"id\":\"u2\"}}]}}"
  "]";

static JsonNode *
conversations_at (gint64 t0)
{
  g_autoptr(GString) text = g_string_new (fake_conversations);

  for (int i = 9; i >= 1; i--)
    {
      g_autofree char *marker = g_strdup_printf ("@T%d", i);
      g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, t0 + i * 10);

      g_string_replace (text, marker, value, 0);
    }

  return parse_json (text->str);
}

static FakeIntercom *
fake_new (void)
{
  FakeIntercom *fake = g_new0 (FakeIntercom, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autofree char *uri = NULL;

  /* A fixed past, so that two fakes serve the same data. */
  fake->clock = 1750000000;
  fake->admins = parse_json (fake_admins);
  fake->companies = parse_json (fake_companies);
  fake->contacts = parse_json (fake_contacts);
  fake->conversations = conversations_at (fake->clock - 1000);
  fake->tags = parse_json ("[{\"type\":\"tag\",\"id\":\"t1\",\"name\":\"billing\"},"
                           " {\"type\":\"tag\",\"id\":\"t2\",\"name\":\"vip\"}]");
  fake->replies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fake->log = g_ptr_array_new_with_free_func (g_free);
  fake->keys = g_ptr_array_new_with_free_func (g_free);
  fake->faults = g_ptr_array_new_with_free_func (fault_free);
  fake->page_size = 2;
  fake->next_part = 1000;
  fake->next_tag = 10;

  fake->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fake->server, "/intercom", fake_handler, fake, NULL);
  soup_server_listen_local (fake->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (fake->server);
  uri = g_uri_to_string (uris->data);
  fake->base_url = g_strconcat (uri, "intercom", NULL);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  return fake;
}

static void
fake_free (FakeIntercom *fake)
{
  soup_server_disconnect (fake->server);
  g_object_unref (fake->server);
  g_free (fake->base_url);
  json_node_unref (fake->admins);
  json_node_unref (fake->companies);
  json_node_unref (fake->contacts);
  json_node_unref (fake->conversations);
  json_node_unref (fake->tags);
  g_hash_table_unref (fake->replies);
  g_ptr_array_unref (fake->log);
  g_ptr_array_unref (fake->keys);
  g_ptr_array_unref (fake->faults);
  g_free (fake);
}

/* ------------------------------------------------------------------------------------ */
/* Stores, and driving a channel the way the engine does                                */

typedef struct
{
  char    *dir;
  FdStore *store;
  gint64   account_id;
} TestStore;

static gboolean
insert_account_job (sqlite3   *db,
                    gpointer   job_data,
                    gpointer  *result,
                    GError   **error)
{
  gint64 *id = g_new (gint64, 1);

  if (!fd_store_exec (db, "INSERT INTO accounts (uid, kind, name, base_url, created_at) "
                          "VALUES ('test-intercom', 'intercom', 'Intercom', 'http://127.0.0.1', 0)",
                      error))
    {
      g_free (id);
      return FALSE;
    }

  *id = sqlite3_last_insert_rowid (db);
  *result = id;
  return TRUE;
}

static TestStore *
test_store_new (void)
{
  TestStore *ts = g_new0 (TestStore, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree gint64 *id = NULL;

  ts->dir = g_dir_make_tmp ("fd-intercom-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (ts->dir, "frontdesk.db", NULL);
  ts->store = fd_store_new (path);
  g_assert_true (fd_store_open_sync (ts->store, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (fd_store_run_sync (ts->store, insert_account_job, NULL, (gpointer *) &id, &error));
  g_assert_no_error (error);
  ts->account_id = *id;

  return ts;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static void
test_store_free (TestStore *ts)
{
  fd_store_close (ts->store);
  g_assert_finalize_object (ts->store);
  remove_tree (ts->dir);
  g_free (ts->dir);
  g_free (ts);
}

typedef struct
{
  gint64       account_id;
  FdSyncBatch *batch;
  FdSyncStats *stats;
} ApplyJob;

static gboolean
apply_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  ApplyJob *job = job_data;

  return fd_sync_batch_apply (db, job->account_id, STREAM, job->batch, job->stats, error);
}

static void
store_apply (TestStore   *ts,
             FdSyncBatch *batch,
             FdSyncStats *stats)
{
  ApplyJob job = { ts->account_id, batch, stats };
  g_autoptr(GError) error = NULL;

  g_assert_true (fd_store_run_sync (ts->store, apply_job, &job, NULL, &error));
  g_assert_no_error (error);
}

static gboolean
cursor_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  TestStore *ts = job_data;

  return fd_sync_state_get_cursor (db, ts->account_id, STREAM, (char **) result, error);
}

static char *
store_cursor (TestStore *ts)
{
  g_autoptr(GError) error = NULL;
  char *cursor = NULL;

  g_assert_true (fd_store_run_sync (ts->store, cursor_job, ts, (gpointer *) &cursor, &error));
  g_assert_no_error (error);

  return cursor;
}

static gboolean
query_job (sqlite3   *db,
           gpointer   job_data,
           gpointer  *result,
           GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, job_data, error);
  GString *out = g_string_new (NULL);
  int rc;

  if (stmt == NULL)
    {
      g_string_free (out, TRUE);
      return FALSE;
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          const char *text = (const char *) sqlite3_column_text (stmt, i);

          if (i > 0)
            g_string_append_c (out, '|');
          g_string_append (out, text != NULL ? text : "NULL");
        }
      g_string_append_c (out, '\n');
    }

  if (rc != SQLITE_DONE)
    {
      g_string_free (out, TRUE);
      return fd_store_set_error (db, rc, error);
    }

  *result = g_string_free (out, FALSE);
  return TRUE;
}

/* Every row of @sql as "a|b|c\n". */
static char *
query (TestStore  *ts,
       const char *sql)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_assert_true (fd_store_run_sync (ts->store, query_job, (gpointer) sql, (gpointer *) &text, &error));
  g_assert_no_error (error);

  return text;
}

static gint64
query_int (TestStore  *ts,
           const char *sql)
{
  g_autofree char *text = query (ts, sql);

  return g_ascii_strtoll (text, NULL, 10);
}

/* What a sync left of some conversations (an SQL condition on v), and how many rows
 * of each kind there are in all: cheap enough for a big store. */
static char *
store_dump_some (TestStore  *ts,
                 const char *where)
{
  g_autofree char *counts = query (ts, "SELECT (SELECT count(*) FROM organisations), (SELECT count(*) FROM contacts), "
                                       "(SELECT count(*) FROM agents), (SELECT count(*) FROM conversations), "
                                       "(SELECT count(*) FROM messages), (SELECT count(*) FROM attachments), "
                                       "(SELECT count(*) FROM conversation_tags)");
  g_autofree char *sql_conversations =
    g_strdup_printf ("SELECT v.external_id, v.status, v.priority, v.assignee_id IS NULL, v.updated_at "
                     "FROM conversations v WHERE %s ORDER BY v.external_id", where);
  g_autofree char *sql_messages =
    g_strdup_printf ("SELECT v.external_id, m.external_id, m.author_kind, m.is_note, m.body, m.created_at "
                     "FROM messages m JOIN conversations v ON v.id = m.conversation_id WHERE %s "
                     "ORDER BY v.external_id, m.created_at, m.id", where);
  g_autofree char *conversations = query (ts, sql_conversations);
  g_autofree char *messages = query (ts, sql_messages);

  return g_strconcat (counts, "--\n", conversations, "--\n", messages, NULL);
}

/* What a sync leaves in the store, comparable between stores. */
static char *
store_dump (TestStore *ts)
{
  g_autofree char *orgs = query (ts, "SELECT external_id, name, plan FROM organisations ORDER BY external_id");
  g_autofree char *contacts = query (ts, "SELECT c.external_id, c.name, c.email, o.external_id FROM contacts c "
                                         "LEFT JOIN organisations o ON o.id = c.organisation_id ORDER BY c.external_id");
  g_autofree char *agents = query (ts, "SELECT external_id, name, email FROM agents ORDER BY external_id");
  g_autofree char *conversations =
    query (ts, "SELECT v.external_id, v.channel, v.subject, v.status, v.priority, a.external_id, "
               "  c.external_id, o.external_id, v.snoozed_until, v.created_at, v.updated_at, "
               "  (SELECT group_concat(t.name, ',') FROM (SELECT t.name FROM conversation_tags ct "
               "     JOIN tags t ON t.id = ct.tag_id WHERE ct.conversation_id = v.id ORDER BY t.name) t) "
               "FROM conversations v LEFT JOIN agents a ON a.id = v.assignee_id "
               "LEFT JOIN contacts c ON c.id = v.contact_id "
               "LEFT JOIN organisations o ON o.id = v.organisation_id ORDER BY v.external_id");
  g_autofree char *messages =
    query (ts, "SELECT v.external_id, m.external_id, m.author_kind, m.author_name, m.is_note, m.body, m.created_at, "
               "  (SELECT count(*) FROM attachments WHERE message_id = m.id) "
               "FROM messages m JOIN conversations v ON v.id = m.conversation_id "
               "ORDER BY v.external_id, m.created_at, m.id");

  return g_strconcat (orgs, "--\n", contacts, "--\n", agents, "--\n", conversations, "--\n", messages, NULL);
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static FdSyncBatch *
fetch (FdChannel   *channel,
       const char  *cursor,
       gboolean    *has_more,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_channel_fetch_async (channel, cursor, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return fd_channel_fetch_finish (channel, result, has_more, error);
}

static char *
send_item (FdChannel           *channel,
           const FdOutboxItem  *item,
           GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_channel_send_async (channel, item, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return fd_channel_send_finish (channel, result, error);
}

/* Runs one sync as the engine does: from the stored cursor, a page at a time, each
 * stored with its cursor. Returns FALSE at the first failed fetch. */
static gboolean
sync_store (FdChannel    *channel,
            TestStore    *ts,
            FdSyncStats  *stats,
            guint        *n_pages,
            GError      **error)
{
  gboolean has_more = TRUE;
  guint pages = 0;

  while (has_more)
    {
      g_autofree char *cursor = store_cursor (ts);
      g_autoptr(FdSyncBatch) batch = fetch (channel, cursor, &has_more, error);

      if (batch == NULL)
        return FALSE;

      g_assert_nonnull (batch->cursor);
      store_apply (ts, batch, stats);
      pages++;
      g_assert_cmpuint (pages, <, 1000);
    }

  if (n_pages != NULL)
    *n_pages = pages;

  return TRUE;
}

static FdChannel *
channel_for (const char *base_url,
             const char *token)
{
  FdChannel *channel = fd_intercom_channel_new (base_url, token);

  /* Quick retries: three tries, waits of a few ms, but a Retry-After up to 1.5 s. */
  fd_http_client_set_retry (fd_intercom_channel_get_http_client (FD_INTERCOM_CHANNEL (channel)),
                            3, 5, 1500);
  return channel;
}

typedef struct
{
  FakeIntercom *fake;
  TestStore    *store;
  FdChannel    *channel;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->fake = fake_new ();
  f->store = test_store_new ();
  f->channel = channel_for (f->fake->base_url, TOKEN);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->channel);
  test_store_free (f->store);
  fake_free (f->fake);
}

static void
sync_ok (Fixture     *f,
         FdSyncStats *stats)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sync_store (f->channel, f->store, stats, NULL, &error));
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------------------------ */
/* Tests against the fake                                                               */

static void
test_first_sync (Fixture       *f,
                 gconstpointer  data)
{
  FdSyncStats stats = { 0 };
  g_autofree char *orgs = NULL;
  g_autofree char *contacts = NULL;
  g_autofree char *agents = NULL;
  g_autofree char *c1 = NULL;
  g_autofree char *m1 = NULL;
  g_autofree char *c2 = NULL;
  g_autofree char *m2 = NULL;
  g_autofree char *c3 = NULL;
  g_autofree char *c4 = NULL;
  g_autofree char *c5 = NULL;
  g_autofree char *attachments = NULL;
  g_autoptr(GError) error = NULL;
  guint pages = 0;

  f->fake->garbage_items = TRUE;
  g_assert_true (sync_store (f->channel, f->store, &stats, &pages, &error));
  g_assert_no_error (error);

  /* admins, 2 company pages, 2 contact pages, 3 conversation pages of 2. */
  g_assert_cmpuint (pages, ==, 8);
  g_assert_cmpuint (fake_count (f->fake, "GET /admins"), ==, 1);
  g_assert_cmpuint (fake_count (f->fake, "GET /companies"), ==, 2);
  g_assert_cmpuint (fake_count (f->fake, "POST /contacts/search"), ==, 2);
  g_assert_cmpuint (fake_count (f->fake, "POST /conversations/search"), ==, 3);
  /* Every conversation's details exactly once. */
  g_assert_cmpuint (fake_count (f->fake, "GET /conversations/"), ==, 5);
  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *line = g_strdup_printf ("GET /conversations/%u", i);
      guint n = 0;

      for (guint j = 0; j < f->fake->log->len; j++)
        n += g_str_equal (g_ptr_array_index (f->fake->log, j), line);
      g_assert_cmpuint (n, ==, 1);
    }

  g_assert_cmpuint (stats.conversations_new, ==, 5);
  g_assert_cmpuint (stats.conversations_updated, ==, 0);

  /* Plans are stored in lower case, so SLA policies and the Enterprise view match them
   * however the service spells them. */
  orgs = query (f->store, "SELECT external_id, name, plan, is_enterprise FROM organisations ORDER BY external_id");
  g_assert_cmpstr (orgs, ==, "c1|Acme|enterprise|1\nc2|Globex|free|0\nc3|Initech|free|0\nc9|Late Corp|pro|0\n");

  /* u9 only appeared as a conversation's author, so its creation time is unknown. */
  contacts = query (f->store, "SELECT c.external_id, c.name, c.email, o.external_id, "
                              "  CASE WHEN c.external_id = 'u9' THEN 'now' ELSE c.created_at END "
                              "FROM contacts c LEFT JOIN organisations o ON o.id = c.organisation_id "
                              "ORDER BY c.external_id");
  g_assert_cmpstr (contacts, ==,
                   "u1|Carol Customer|carol@acme.test|c1|1690000000000\n"
                   "u2|Dan|dan@globex.test|c2|1690000000000\n"
                   "u3|lead@x.test|lead@x.test|NULL|1690000000000\n"
                   "u9|Newcomer|new@late.test|NULL|now\n");

  /* GET /me says whose token it is: that admin is the user. */
  g_assert_cmpuint (fake_count (f->fake, "GET /me"), ==, 1);
  agents = query (f->store, "SELECT external_id, name, email, is_me FROM agents ORDER BY external_id");
  g_assert_cmpstr (agents, ==, "100|Ann Agent|ann@support.test|1\n101|Bo Agent|bo@support.test|0\n");

  /* An email conversation, with its first message, replies, a note, no bare state changes. */
  c1 = query (f->store, "SELECT v.channel, v.subject, v.status, v.priority, a.external_id, c.external_id, "
                        "  o.external_id, (SELECT group_concat(t.name) FROM conversation_tags ct "
                        "  JOIN tags t ON t.id = ct.tag_id WHERE ct.conversation_id = v.id) "
                        "FROM conversations v LEFT JOIN agents a ON a.id = v.assignee_id "
                        "LEFT JOIN contacts c ON c.id = v.contact_id "
                        "LEFT JOIN organisations o ON o.id = v.organisation_id WHERE v.external_id = '1'");
  g_assert_cmpstr (c1, ==, "email|Invoice & refund|open|high|100|u1|c1|billing\n");

  m1 = query (f->store, "SELECT m.external_id, m.author_kind, m.author_name, m.is_note, m.body "
                        "FROM messages m JOIN conversations v ON v.id = m.conversation_id "
                        "WHERE v.external_id = '1' ORDER BY m.created_at, m.id");
  g_assert_cmpstr (m1, ==,
                   "1/source|contact|Carol Customer|0|Hello,\n\nI was charged twice.\n"
                   "1/12|agent|Ann Agent|0|Sorry! See our refund policy (https://help.test/refunds).\n"
                   "1/13|agent|Bo Agent|1|Check Stripe first\n"
                   "1/14|contact|Carol Customer|0|Thanks\nagain\n");

  attachments = query (f->store, "SELECT m.external_id, a.name, a.size, a.content_type, a.url FROM attachments a "
                                 "JOIN messages m ON m.id = a.message_id ORDER BY m.external_id");
  g_assert_cmpstr (attachments, ==,
                   "1/14|shot.png|99|image/png|https://files.test/s.png\n"
                   "1/source|invoice.pdf|2048|application/pdf|https://files.test/i.pdf\n");

  /* A closed chat, with HTML made safe and a bot's message. */
  c2 = query (f->store, "SELECT channel, subject, status, priority, assignee_id FROM conversations "
                        "WHERE external_id = '2'");
  g_assert_cmpstr (c2, ==, "chat||resolved|normal|NULL\n");
  m2 = query (f->store, "SELECT m.author_kind, m.body FROM messages m JOIN conversations v "
                        "ON v.id = m.conversation_id WHERE v.external_id = '2' ORDER BY m.created_at");
  g_assert_cmpstr (m2, ==, "contact|App crashes on save()\nbot|Fixed in 2.1\n");

  c3 = query (f->store, "SELECT v.subject, v.status, v.priority, a.external_id, v.snoozed_until > 0, "
                        "  (SELECT count(*) FROM conversation_tags WHERE conversation_id = v.id), "
                        "  (SELECT body FROM messages WHERE conversation_id = v.id) "
                        "FROM conversations v LEFT JOIN agents a ON a.id = v.assignee_id WHERE v.external_id = '3'");
  g_assert_cmpstr (c3, ==, "Snoozed chat|snoozed|low|101|1|2|Plain text <not a tag>\n");

  /* A company that only a conversation mentions. */
  c4 = query (f->store, "SELECT v.channel, v.priority, o.external_id, c.external_id FROM conversations v "
                        "LEFT JOIN organisations o ON o.id = v.organisation_id "
                        "LEFT JOIN contacts c ON c.id = v.contact_id WHERE v.external_id = '4'");
  g_assert_cmpstr (c4, ==, "email|urgent|c9|u9\n");

  /* Wrong types everywhere: stored with what could be read. */
  c5 = query (f->store, "SELECT v.channel, v.status, (SELECT group_concat(external_id || '=' || body) "
                        "FROM messages WHERE conversation_id = v.id) FROM conversations v WHERE v.external_id = '5'");
  g_assert_cmpstr (c5, ==, "chat|open|5/51=numeric id\n");

  /* No live HTML anywhere. */
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE body LIKE '%<p>%' "
                                       "OR body LIKE '%</%' OR body LIKE '%<b>%' OR body LIKE '%<br%' "
                                       "OR body LIKE '%<script%' OR body LIKE '%alert%'"), ==, 0);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages"), ==, 9);
}

static void
test_incremental (Fixture       *f,
                  gconstpointer  data)
{
  FdSyncStats stats = { 0 };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *newest = NULL;
  guint details, pages = 0;
  g_autoptr(GError) error = NULL;

  sync_ok (f, NULL);
  before = store_dump (f->store);

  /* Nothing new: the admins, and searches that only find again what the overlap
   * reaches (pages of two here), no conversation fetched. */
  g_ptr_array_set_size (f->fake->log, 0);
  g_assert_true (sync_store (f->channel, f->store, &stats, &pages, &error));
  /* One request a page, but the admins' page also asks GET /me. */
  g_assert_cmpuint (pages + 1, ==, f->fake->log->len);
  g_assert_cmpuint (fake_count (f->fake, "GET /admins"), ==, 1);
  g_assert_cmpuint (fake_count (f->fake, "GET /me"), ==, 1);
  g_assert_cmpuint (fake_count (f->fake, "POST /contacts/search"), ==, 1);
  g_assert_cmpuint (fake_count (f->fake, "POST /conversations/search") + 2, ==, pages);
  g_assert_cmpuint (fake_count (f->fake, "GET /companies"), ==, 0);
  g_assert_cmpuint (fake_count (f->fake, "GET /conversations/"), ==, 0);
  g_assert_cmpuint (stats.conversations_new + stats.conversations_updated + stats.messages_new, ==, 0);
  after = store_dump (f->store);
  g_assert_cmpstr (before, ==, after);

  /* A customer writes: exactly that conversation, exactly that message. */
  fake_customer_writes (f->fake, "2", "<p>It crashed <b>again</b></p>");
  g_ptr_array_set_size (f->fake->log, 0);
  memset (&stats, 0, sizeof stats);
  sync_ok (f, &stats);
  details = fake_count (f->fake, "GET /conversations/");
  g_assert_cmpuint (details, ==, 1);
  g_assert_cmpuint (fake_count (f->fake, "GET /conversations/2"), ==, 1);
  g_assert_cmpuint (stats.messages_new, ==, 1);
  g_assert_cmpuint (stats.conversations_new, ==, 0);
  newest = query (f->store, "SELECT m.body, m.author_kind FROM messages m JOIN conversations v ON v.id = m.conversation_id "
                            "WHERE v.external_id = '2' ORDER BY m.created_at DESC, m.id DESC LIMIT 1");
  g_assert_cmpstr (newest, ==, "It crashed again|contact\n");

  /* And again nothing. */
  g_ptr_array_set_size (f->fake->log, 0);
  sync_ok (f, NULL);
  g_assert_cmpuint (fake_count (f->fake, "GET /conversations/"), ==, 0);
}

static void
test_recent_refetched (Fixture       *f,
                       gconstpointer  data)
{
  /* The service's clock says a change happened this very second: it might change again
   * within the second, unseen by updated_at, so the next sync looks again. */
  f->fake->date_from_clock = TRUE;
  sync_ok (f, NULL);
  fake_customer_writes (f->fake, "3", "<p>now</p>");
  sync_ok (f, NULL);

  g_ptr_array_set_size (f->fake->log, 0);
  sync_ok (f, NULL);
  g_assert_cmpuint (fake_count (f->fake, "GET /conversations/3"), ==, 1);
  g_assert_cmpuint (fake_count (f->fake, "GET /conversations/"), ==, 1);

  /* Once the clock has moved on, it is settled. */
  f->fake->clock += 5;
  sync_ok (f, NULL);
  g_ptr_array_set_size (f->fake->log, 0);
  sync_ok (f, NULL);
  g_assert_cmpuint (fake_count (f->fake, "GET /conversations/"), ==, 0);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE body = 'now'"), ==, 1);
}

static void
test_reapply (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GPtrArray) batches = g_ptr_array_new_with_free_func ((GDestroyNotify) fd_sync_batch_free);
  g_autofree char *cursor = NULL;
  g_autofree char *once = NULL;
  g_autofree char *twice = NULL;
  gboolean has_more = TRUE;
  FdSyncStats stats = { 0 };

  while (has_more)
    {
      g_autoptr(GError) error = NULL;
      FdSyncBatch *batch = fetch (f->channel, cursor, &has_more, &error);

      g_assert_no_error (error);
      g_free (cursor);
      cursor = g_strdup (batch->cursor);
      g_ptr_array_add (batches, batch);
    }

  for (guint i = 0; i < batches->len; i++)
    store_apply (f->store, g_ptr_array_index (batches, i), NULL);
  once = store_dump (f->store);

  for (guint i = 0; i < batches->len; i++)
    store_apply (f->store, g_ptr_array_index (batches, i), &stats);
  twice = store_dump (f->store);

  g_assert_cmpstr (once, ==, twice);
  g_assert_cmpuint (stats.conversations_new, ==, 0);
  g_assert_cmpuint (stats.messages_new, ==, 0);
}

static FdOutboxItem *
outbox_item (FdOutboxKind  kind,
             const char   *conversation,
             const char   *key)
{
  FdOutboxItem *item = g_new0 (FdOutboxItem, 1);

  item->kind = kind;
  item->conversation_external_id = g_strdup (conversation);
  item->idempotency_key = g_strdup (key);
  item->author_external_id = g_strdup ("100");

  return item;
}

static void
test_send_round_trip (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(FdOutboxItem) reply = outbox_item (FD_OUTBOX_REPLY, "1", "key-reply-1");
  g_autoptr(FdOutboxItem) note = outbox_item (FD_OUTBOX_NOTE, "1", "key-note-1");
  g_autoptr(FdOutboxItem) close = outbox_item (FD_OUTBOX_STATUS, "1", "key-close-1");
  g_autoptr(FdOutboxItem) snooze = outbox_item (FD_OUTBOX_STATUS, "2", "key-snooze-2");
  g_autoptr(FdOutboxItem) assign = outbox_item (FD_OUTBOX_ASSIGN, "2", "key-assign-2");
  g_autoptr(FdOutboxItem) unassign = outbox_item (FD_OUTBOX_ASSIGN, "3", "key-unassign-3");
  g_autoptr(FdOutboxItem) tag_new = outbox_item (FD_OUTBOX_TAG, "2", "key-tag-2");
  g_autoptr(FdOutboxItem) tag_old = outbox_item (FD_OUTBOX_TAG, "2", "key-tag-2b");
  g_autoptr(FdOutboxItem) untag = outbox_item (FD_OUTBOX_UNTAG, "1", "key-untag-1");
  g_autoptr(FdOutboxItem) untag_absent = outbox_item (FD_OUTBOX_UNTAG, "1", "key-untag-1b");
  g_autoptr(GError) error = NULL;
  g_autofree char *reply_id = NULL;
  g_autofree char *note_id = NULL;
  g_autofree char *result = NULL;
  g_autofree char *c1 = NULL;
  g_autofree char *c2 = NULL;
  g_autofree char *c3 = NULL;
  g_autofree char *mine = NULL;
  JsonObject *conversation;
  FdSyncStats stats = { 0 };

  sync_ok (f, NULL);

  reply->body = g_strdup ("Refunded <today> & sorry!\n\nSecond paragraph\nline two");
  reply_id = send_item (f->channel, reply, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (reply_id, "1/"));

  note->body = g_strdup ("internal: refund id re_123");
  note_id = send_item (f->channel, note, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (note_id, "1/"));
  g_assert_cmpstr (reply_id, !=, note_id);

  /* The reply went out as escaped HTML, with the key. */
  conversation = fake_find (f->fake->conversations, "1");
  {
    JsonArray *parts = json_object_get_array_member (json_object_get_object_member (conversation, "conversation_parts"),
                                                     "conversation_parts");
    JsonObject *sent = json_array_get_object_element (parts, json_array_get_length (parts) - 2);

    g_assert_cmpstr (json_object_get_string_member (sent, "body"), ==,
                     "<p>Refunded &lt;today&gt; &amp; sorry!</p><p>Second paragraph<br>line two</p>");
    g_assert_cmpstr (json_object_get_string_member (sent, "part_type"), ==, "comment");
  }
  g_assert_cmpstr (g_ptr_array_index (f->fake->keys, 0), ==, "key-reply-1");

  close->status = g_strdup ("resolved");
  result = send_item (f->channel, close, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, "");
  g_clear_pointer (&result, g_free);

  snooze->status = g_strdup ("snoozed");
  snooze->snoozed_until = (f->fake->clock + 3600) * 1000;
  result = send_item (f->channel, snooze, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_free);

  assign->assignee_external_id = g_strdup ("101");
  result = send_item (f->channel, assign, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_free);

  result = send_item (f->channel, unassign, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_free);

  /* A new tag is created first; an existing one is found by name, whatever its case. */
  tag_new->tag = g_strdup ("needs-eng");
  result = send_item (f->channel, tag_new, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_free);
  tag_old->tag = g_strdup ("VIP");
  result = send_item (f->channel, tag_old, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_free);
  g_assert_cmpuint (fake_count (f->fake, "POST /tags"), ==, 1);

  untag->tag = g_strdup ("billing");
  result = send_item (f->channel, untag, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_free);
  untag_absent->tag = g_strdup ("never-existed");
  result = send_item (f->channel, untag_absent, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, "");
  g_clear_pointer (&result, g_free);

  /* The outbox would have stored the reply under the id it got back; the sync must
   * recognise it. */
  {
    g_autofree char *sql = g_strdup_printf ("INSERT INTO messages (conversation_id, account_id, external_id, "
                                            "author_kind, is_note, body, created_at) "
                                            "SELECT id, account_id, '%s', 'agent', 0, 'local copy', 1 "
                                            "FROM conversations WHERE external_id = '1'", reply_id);
    g_autofree char *ignored = query (f->store, sql);
  }

  sync_ok (f, &stats);
  g_assert_cmpuint (stats.messages_new, ==, 1);   /* the note; the reply was there */

  mine = query (f->store, "SELECT m.body, m.is_note FROM messages m JOIN conversations v ON v.id = m.conversation_id "
                          "WHERE v.external_id = '1' AND m.author_kind = 'agent' ORDER BY m.id DESC LIMIT 2");
  g_assert_cmpstr (mine, ==, "internal: refund id re_123|1\nlocal copy|0\n");

  c1 = query (f->store, "SELECT v.status, (SELECT group_concat(t.name) FROM conversation_tags ct "
                        "JOIN tags t ON t.id = ct.tag_id WHERE ct.conversation_id = v.id) "
                        "FROM conversations v WHERE v.external_id = '1'");
  g_assert_cmpstr (c1, ==, "resolved|NULL\n");
  c2 = query (f->store, "SELECT v.status, v.snoozed_until, a.external_id, (SELECT group_concat(name) FROM "
                        "(SELECT t.name FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id "
                        " WHERE ct.conversation_id = v.id ORDER BY t.name)) "
                        "FROM conversations v LEFT JOIN agents a ON a.id = v.assignee_id WHERE v.external_id = '2'");
  g_assert_true (g_str_has_prefix (c2, "snoozed|"));
  g_assert_true (g_str_has_suffix (c2, "|101|needs-eng,vip\n"));
  c3 = query (f->store, "SELECT assignee_id FROM conversations WHERE external_id = '3'");
  g_assert_cmpstr (c3, ==, "NULL\n");

  /* Every write carried its key. */
  for (guint i = 0; i < f->fake->keys->len; i++)
    g_assert_cmpstr (g_ptr_array_index (f->fake->keys, i), !=, "");
}

static void
test_send_idempotent_retry (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(FdOutboxItem) reply = outbox_item (FD_OUTBOX_REPLY, "2", "key-retry");
  g_autoptr(FdOutboxItem) again = outbox_item (FD_OUTBOX_REPLY, "2", "key-lost");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id2 = NULL;
  g_autofree char *id3 = NULL;
  JsonObject *conversation = fake_find (f->fake->conversations, "2");
  JsonArray *parts = json_object_get_array_member (json_object_get_object_member (conversation, "conversation_parts"),
                                                   "conversation_parts");
  guint n_parts = json_array_get_length (parts);

  /* A 500 before the server did anything, then success: the same key both times. */
  reply->body = g_strdup ("hello");
  fake_add_fault (f->fake, "/conversations/2/reply", FAULT_SERVER, 1, 0);
  id = send_item (f->channel, reply, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->fake->keys->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f->fake->keys, 0), ==, "key-retry");
  g_assert_cmpstr (g_ptr_array_index (f->fake->keys, 1), ==, "key-retry");
  g_assert_cmpuint (json_array_get_length (parts), ==, n_parts + 1);

  /* Processed, but the answer was cut off: the retry is answered from the key, and no
   * second message appears. */
  again->body = g_strdup ("hello once");
  fake_add_fault (f->fake, "/conversations/2/reply", FAULT_TRUNCATE, 1, 0);
  id2 = send_item (f->channel, again, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (parts), ==, n_parts + 2);
  g_assert_cmpstr (g_ptr_array_index (f->fake->keys, 2), ==, "key-lost");
  g_assert_cmpstr (g_ptr_array_index (f->fake->keys, 3), ==, "key-lost");
  g_assert_cmpstr (id, !=, id2);

  /* The outbox retrying later with the same key gets the same id. */
  id3 = send_item (f->channel, again, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id2, ==, id3);
  g_assert_cmpuint (json_array_get_length (parts), ==, n_parts + 2);
}

static void
test_send_errors (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(FdOutboxItem) pending = outbox_item (FD_OUTBOX_STATUS, "1", "k1");
  g_autoptr(FdOutboxItem) snooze = outbox_item (FD_OUTBOX_STATUS, "1", "k2");
  g_autoptr(FdOutboxItem) nobody = outbox_item (FD_OUTBOX_REPLY, "1", "k3");
  g_autoptr(FdOutboxItem) empty = outbox_item (FD_OUTBOX_NOTE, "1", "k4");
  g_autoptr(FdOutboxItem) missing = outbox_item (FD_OUTBOX_REPLY, "404", "k5");
  g_autoptr(FdOutboxItem) rejected = outbox_item (FD_OUTBOX_REPLY, "1", "k6");
  g_autoptr(GError) error = NULL;
  char *result;

  pending->status = g_strdup ("pending");
  result = send_item (f->channel, pending, &error);
  g_assert_null (result);
  g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "pending"));
  g_clear_error (&error);

  snooze->status = g_strdup ("snoozed");
  result = send_item (f->channel, snooze, &error);
  g_assert_null (result);
  g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
  g_clear_error (&error);

  nobody->body = g_strdup ("hi");
  g_clear_pointer (&nobody->author_external_id, g_free);
  result = send_item (f->channel, nobody, &error);
  g_assert_null (result);
  g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
  g_clear_error (&error);

  empty->body = g_strdup (" \n\n ");
  result = send_item (f->channel, empty, &error);
  g_assert_null (result);
  g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
  g_clear_error (&error);

  missing->body = g_strdup ("hi");
  result = send_item (f->channel, missing, &error);
  g_assert_null (result);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A 5xx that persists ends with the last try, in plain words. */
  rejected->body = g_strdup ("hi");
  fake_add_fault (f->fake, "/conversations/1/reply", FAULT_SERVER, 5, 0);
  result = send_item (f->channel, rejected, &error);
  g_assert_null (result);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER);
  g_assert_cmpuint (fake_count (f->fake, "POST /conversations/1/reply"), ==, 3);
  g_clear_error (&error);

  /* Nothing was sent for the refused items. */
  g_assert_cmpuint (fake_count (f->fake, "POST /conversations/1/parts"), ==, 0);
}

static void
test_wrong_token (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(FdChannel) channel = channel_for (f->fake->base_url, "wrong-token");
  g_autoptr(FdOutboxItem) reply = outbox_item (FD_OUTBOX_REPLY, "1", "key");
  g_autoptr(GError) error = NULL;
  g_autoptr(FdSyncBatch) batch = NULL;
  gboolean has_more = TRUE;
  char *result;

  batch = fetch (channel, NULL, &has_more, &error);
  g_assert_null (batch);
  g_assert_false (has_more);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "token"));
  g_assert_null (strstr (error->message, "wrong-token"));
  g_clear_error (&error);

  reply->body = g_strdup ("hi");
  result = send_item (channel, reply, &error);
  g_assert_null (result);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED);

  /* Not retried. */
  g_assert_cmpuint (f->fake->log->len, ==, 2);
}

static void
test_bad_cursor (Fixture       *f,
                 gconstpointer  data)
{
  const char *cursors[] = { "not json", "[]", "{\"v\":1,\"phase\":\"nowhere\"}", "{\"v\":99,\"phase\":\"idle\"}" };

  for (guint i = 0; i < G_N_ELEMENTS (cursors); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FdSyncBatch) batch = NULL;
      gboolean has_more;

      batch = fetch (f->channel, cursors[i], &has_more, &error);
      g_assert_null (batch);
      g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR);
    }

  g_assert_cmpuint (f->fake->log->len, ==, 0);
}

static void
test_bad_page (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor_before = NULL;
  g_autofree char *cursor_after = NULL;

  f->fake->garbage_page = TRUE;
  g_assert_false (sync_store (f->channel, f->store, NULL, NULL, &error));
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE);
  g_assert_null (strstr (error->message, "{"));

  /* Everything before the page is stored; the page is not. */
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM contacts"), ==, 3);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM conversations"), ==, 0);
  cursor_before = store_cursor (f->store);
  g_assert_nonnull (strstr (cursor_before, "\"conversations\""));

  f->fake->garbage_page = FALSE;
  g_clear_error (&error);
  sync_ok (f, NULL);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM conversations"), ==, 5);
  cursor_after = store_cursor (f->store);
  g_assert_nonnull (strstr (cursor_after, "\"idle\""));
}

typedef struct
{
  const char *prefix;
  FaultKind   kind;
  guint       count;
  guint       param;
  gboolean    recovers;
  FdHttpError error;
  guint       skip;
} FaultCase;

static const FaultCase fault_cases[] = {
  { "/conversations/search", FAULT_RATE_LIMIT, 1, 1, TRUE, 0 },
  { "/conversations/search", FAULT_SERVER, 2, 0, TRUE, 0 },
  { "/conversations/search", FAULT_TRUNCATE, 1, 0, TRUE, 0 },
  { "/conversations/search", FAULT_MALFORMED, 2, 0, TRUE, 0 },
  { "/conversations/search", FAULT_DROP, 1, 0, TRUE, 0 },
  { "/conversations/3", FAULT_SERVER, 1, 0, TRUE, 0 },
  { "/conversations/search", FAULT_SERVER, 3, 0, FALSE, FD_HTTP_ERROR_SERVER },
  { "/conversations/search", FAULT_MALFORMED, 3, 0, FALSE, FD_HTTP_ERROR_BAD_RESPONSE },
  { "/conversations/search", FAULT_DROP, 3, 0, FALSE, FD_HTTP_ERROR_NETWORK },
  { "/conversations/search", FAULT_RATE_LIMIT, 1, 30, FALSE, FD_HTTP_ERROR_RATE_LIMITED },
  /* On the second and third page of conversations, after others were stored. */
  { "/conversations/search", FAULT_DROP, 3, 0, FALSE, FD_HTTP_ERROR_NETWORK, 1 },
  { "/conversations/search", FAULT_MALFORMED, 3, 0, FALSE, FD_HTTP_ERROR_BAD_RESPONSE, 2 },
  { "/conversations/search", FAULT_TRUNCATE, 1, 0, TRUE, 0, 1 },
  { "/conversations/4", FAULT_SERVER, 3, 0, FALSE, FD_HTTP_ERROR_SERVER },
  /* (Even: in a first sync, the only one that reads companies.) libsoup itself sends a
   * GET again once when a kept-alive connection drops. */
  { "/companies", FAULT_DROP, 10, 0, FALSE, FD_HTTP_ERROR_NETWORK },
  { "/contacts/search", FAULT_MALFORMED, 3, 0, FALSE, FD_HTTP_ERROR_BAD_RESPONSE },
};

/* A fault in the middle of a sync: recovered by retrying, or the fetch fails in plain
 * words with that page unstored, and the next sync resumes from the stored cursor to the
 * same state as a sync that never failed. */
static void
test_faults (void)
{
  g_autofree char *reference = NULL;

  {
    FakeIntercom *fake = fake_new ();
    TestStore *ts = test_store_new ();
    g_autoptr(FdChannel) channel = channel_for (fake->base_url, TOKEN);
    g_autoptr(GError) error = NULL;

    g_assert_true (sync_store (channel, ts, NULL, NULL, &error));
    fake_customer_writes (fake, "4", "<p>more</p>");
    g_assert_true (sync_store (channel, ts, NULL, NULL, &error));
    g_assert_no_error (error);
    reference = store_dump (ts);
    g_assert_finalize_object (g_steal_pointer (&channel));
    test_store_free (ts);
    fake_free (fake);
  }

  for (guint i = 0; i < G_N_ELEMENTS (fault_cases); i++)
    {
      const FaultCase *c = &fault_cases[i];
      FakeIntercom *fake = fake_new ();
      TestStore *ts = test_store_new ();
      g_autoptr(FdChannel) channel = channel_for (fake->base_url, TOKEN);
      g_autoptr(GError) error = NULL;
      g_autofree char *dump = NULL;
      g_autofree char *before = NULL;
      gboolean ok;

      g_test_message ("fault %u: %s kind %d × %u", i, c->prefix, c->kind, c->count);

      /* Half the faults hit the first sync, half an incremental one. */
      if (i % 2 == 1)
        {
          g_assert_true (sync_store (channel, ts, NULL, NULL, &error));
          g_assert_no_error (error);
        }

      fake_customer_writes (fake, "4", "<p>more</p>");
      fake_add_fault_after (fake, c->prefix, c->kind, c->count, c->param, c->skip);
      before = store_dump (ts);

      ok = sync_store (channel, ts, NULL, NULL, &error);
      if (c->recovers)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_autofree char *after = NULL;

          g_assert_false (ok);
          g_assert_nonnull (error);
          g_assert_true (error->domain == FD_HTTP_ERROR);
          if (c->error != 0)
            g_assert_error (error, FD_HTTP_ERROR, c->error);
          g_assert_null (strstr (error->message, "{"));
          g_assert_null (strstr (error->message, TOKEN));
          g_clear_error (&error);

          /* An incremental sync that failed changed nothing: the pages before the failed
           * one only said again what was stored, and the failed one was not applied. */
          if (i % 2 == 1)
            {
              after = store_dump (ts);
              g_assert_cmpstr (before, ==, after);
            }

          g_ptr_array_set_size (fake->faults, 0);
          g_assert_true (sync_store (channel, ts, NULL, NULL, &error));
          g_assert_no_error (error);
        }

      /* The same as a sync that never failed. */
      dump = store_dump (ts);
      g_assert_cmpstr (dump, ==, reference);

      g_assert_finalize_object (g_steal_pointer (&channel));
      test_store_free (ts);
      fake_free (fake);
    }
}

/* A sync interrupted after every page, resumed each time by a new channel (as after a
 * restart) from the stored cursor: the same store as an uninterrupted sync. */
static void
test_resume_everywhere (void)
{
  FakeIntercom *fake = fake_new ();
  TestStore *straight = test_store_new ();
  TestStore *resumed = test_store_new ();
  g_autoptr(FdChannel) channel = channel_for (fake->base_url, TOKEN);
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gboolean has_more = TRUE;
  guint pages = 0;

  g_assert_true (sync_store (channel, straight, NULL, NULL, &error));
  g_assert_no_error (error);

  while (has_more)
    {
      g_autoptr(FdChannel) fresh = channel_for (fake->base_url, TOKEN);
      g_autofree char *cursor = store_cursor (resumed);
      g_autoptr(FdSyncBatch) batch = fetch (fresh, cursor, &has_more, &error);

      g_assert_no_error (error);
      store_apply (resumed, batch, NULL);
      pages++;

      /* A change while the sync is under way: found on a later page or by the next sync. */
      if (pages == 6)
        fake_customer_writes (fake, "1", "<p>meanwhile</p>");
    }

  g_assert_true (sync_store (channel, straight, NULL, NULL, &error));
  g_assert_true (sync_store (channel, resumed, NULL, NULL, &error));
  g_assert_no_error (error);

  a = store_dump (straight);
  b = store_dump (resumed);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpint (query_int (resumed, "SELECT count(*) FROM messages WHERE body = 'meanwhile'"), ==, 1);

  g_assert_finalize_object (g_steal_pointer (&channel));
  test_store_free (straight);
  test_store_free (resumed);
  fake_free (fake);
}

/* A service without contact search: contacts are listed on a full sync, and between
 * full syncs they come with the conversations. */
static void
test_contacts_without_search (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *contacts = NULL;
  g_autofree char *cursor = NULL;

  f->fake->no_contact_search = TRUE;
  sync_ok (f, NULL);
  g_assert_cmpuint (fake_count (f->fake, "POST /contacts/search"), ==, 1);
  g_assert_cmpuint (fake_count (f->fake, "GET /contacts"), ==, 2);
  contacts = query (f->store, "SELECT c.external_id, o.external_id FROM contacts c "
                              "LEFT JOIN organisations o ON o.id = c.organisation_id ORDER BY c.external_id");
  g_assert_cmpstr (contacts, ==, "u1|c1\nu2|c2\nu3|NULL\nu9|NULL\n");
  cursor = store_cursor (f->store);
  g_assert_nonnull (strstr (cursor, "\"contacts_by_list\":true"));

  g_ptr_array_set_size (f->fake->log, 0);
  fake_customer_writes (f->fake, "1", "<p>later</p>");
  sync_ok (f, NULL);
  g_assert_cmpuint (fake_count (f->fake, "POST /contacts"), ==, 0);
  g_assert_cmpuint (fake_count (f->fake, "GET /contacts"), ==, 0);
  g_assert_cmpuint (fake_count (f->fake, "GET /conversations/1"), ==, 1);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM messages WHERE body = 'later'"), ==, 1);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FdSyncBatch) batch = NULL;
  gboolean has_more;

  g_cancellable_cancel (cancellable);
  fd_channel_fetch_async (f->channel, NULL, cancellable, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  batch = fd_channel_fetch_finish (f->channel, result, &has_more, &error);
  g_assert_null (batch);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ------------------------------------------------------------------------------------ */
/* Against the sandbox                                                                  */

#ifdef HAVE_SANDBOX

/* One seeded sandbox for every sandbox test, and one store synced from it once (a first
 * sync of the small demo workspace fetches a few thousand conversations). */
typedef struct
{
  char      *dir;
  FdSandbox *sandbox;
  char      *base_url;
  sqlite3   *db;           /* the sandbox's own database, read-only */
  TestStore *store;
  FdChannel *channel;
  gboolean   synced;
  char      *admin_id;     /* an Intercom admin, as the sync stored it */
} World;

static World *world;

static World *
world_get (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (world != NULL)
    return world;

  world = g_new0 (World, 1);
  world->dir = g_dir_make_tmp ("fd-intercom-sandbox-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (world->dir, "sandbox.db", NULL);

  world->sandbox = fd_sandbox_new (path);
  g_assert_true (fd_sandbox_seed (world->sandbox, 7, FD_DEMO_SCALE_SMALL, &error));
  g_assert_no_error (error);

  /* A smaller workspace than the demo's 3,400 email and chat conversations, so that the
   * tests stay quick (also under sanitizers): every conversation that is not resolved,
   * and one in fifty of the others. (The benchmark syncs the whole of it.) */
  {
    sqlite3 *db = NULL;

    g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
    sqlite3_busy_timeout (db, 5000);
    g_assert_cmpint (sqlite3_exec (db, "PRAGMA foreign_keys = ON;"
                                       "DELETE FROM conversations WHERE channel IN ('email', 'chat') "
                                       "AND status = 'resolved' AND id % 50 != 0",
                                   NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }

  g_assert_true (fd_sandbox_run_in_thread (world->sandbox, 0, &error));
  g_assert_no_error (error);
  world->base_url = g_strconcat (fd_sandbox_get_base_url (world->sandbox), "/intercom", NULL);

  g_assert_cmpint (sqlite3_open_v2 (path, &world->db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (world->db, 5000);

  world->store = test_store_new ();
  world->channel = channel_for (world->base_url, FD_SANDBOX_INTERCOM_TOKEN);

  return world;
}

static void
world_free (void)
{
  if (world == NULL)
    return;

  g_assert_finalize_object (world->channel);
  test_store_free (world->store);
  sqlite3_close (world->db);
  fd_sandbox_stop (world->sandbox);
  g_assert_finalize_object (world->sandbox);
  remove_tree (world->dir);
  g_free (world->dir);
  g_free (world->base_url);
  g_free (world->admin_id);
  g_clear_pointer (&world, g_free);
}

/* Every row of @sql against the sandbox's database, as query() does. */
static char *
sandbox_query (const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GString *out = g_string_new (NULL);
  int rc;

  g_assert_cmpint (sqlite3_prepare_v2 (world->db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          const char *text = (const char *) sqlite3_column_text (stmt, i);

          if (i > 0)
            g_string_append_c (out, '|');
          g_string_append (out, text != NULL ? text : "NULL");
        }
      g_string_append_c (out, '\n');
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);

  return g_string_free (out, FALSE);
}

/* Long listings: on a difference, only the first differing line is shown. */
static void
assert_same_lines (const char *ours,
                   const char *theirs)
{
  g_auto(GStrv) a = g_strsplit (ours, "\n", -1);
  g_auto(GStrv) b = g_strsplit (theirs, "\n", -1);

  for (guint i = 0; a[i] != NULL || b[i] != NULL; i++)
    {
      g_assert_cmpstr (a[i], ==, b[i]);
      if (a[i] == NULL || b[i] == NULL)
        break;
    }
}

static gint64
sandbox_query_int (const char *sql)
{
  g_autofree char *text = sandbox_query (sql);

  return g_ascii_strtoll (text, NULL, 10);
}

/* GET /conversations/{id} requests so far (the sandbox counts by path prefix). */
static guint
sandbox_detail_count (void)
{
  guint all = fd_sandbox_get_request_count (world->sandbox, "/intercom/conversations/");
  guint searches = fd_sandbox_get_request_count (world->sandbox, "/intercom/conversations/search");

  return all - searches;
}

static void
world_sync (void)
{
  g_autoptr(GError) error = NULL;
  FdSyncStats stats = { 0 };
  g_autoptr(GTimer) timer = NULL;
  guint details;

  world_get ();
  if (world->synced)
    return;

  /* A fault on the way, recovered from: the first search page is rate limited once. */
  fd_sandbox_add_fault (world->sandbox, "/intercom/conversations/search",
                        FD_SANDBOX_FAULT_RATE_LIMIT, 1, 1);

  details = sandbox_detail_count ();
  timer = g_timer_new ();
  g_assert_true (sync_store (world->channel, world->store, &stats, NULL, &error));
  g_assert_no_error (error);
  world->synced = TRUE;
  g_test_message ("first sync: %u conversations, %u messages in %.1f s",
                  stats.conversations_new, stats.messages_new, g_timer_elapsed (timer, NULL));

  /* Every email and chat conversation fetched exactly once. */
  g_assert_cmpuint (sandbox_detail_count () - details, ==,
                    sandbox_query_int ("SELECT count(*) FROM conversations WHERE channel IN ('email', 'chat')"));
  g_assert_cmpuint (stats.conversations_new, ==,
                    sandbox_query_int ("SELECT count(*) FROM conversations WHERE channel IN ('email', 'chat')"));

  world->admin_id = query (world->store, "SELECT external_id FROM agents ORDER BY id LIMIT 1");
  g_strstrip (world->admin_id);
}

static void
test_sandbox_first_sync (void)
{
  g_autofree char *ours = NULL;
  g_autofree char *theirs = NULL;
  gint64 n;

  world_sync ();

  n = sandbox_query_int ("SELECT count(*) FROM conversations WHERE channel IN ('email', 'chat')");
  g_assert_cmpint (n, >, 50);
  g_assert_cmpint (query_int (world->store, "SELECT count(*) FROM conversations"), ==, n);

  /* The same conversations, each once, with the same channel and status. */
  ours = query (world->store, "SELECT external_id, channel, status, priority FROM conversations "
                              "ORDER BY CAST(external_id AS INTEGER)");
  /* Intercom has no "pending": such conversations are open there. */
  theirs = sandbox_query ("SELECT id, channel, CASE status WHEN 'pending' THEN 'open' ELSE status END, "
                          "  priority FROM conversations WHERE channel IN ('email', 'chat') ORDER BY id");
  assert_same_lines (ours, theirs);
  g_clear_pointer (&ours, g_free);
  g_clear_pointer (&theirs, g_free);

  /* Every message, in order, notes flagged, authors of the right kind. */
  ours = query (world->store, "SELECT v.external_id, m.author_kind, m.is_note FROM messages m "
                              "JOIN conversations v ON v.id = m.conversation_id "
                              "ORDER BY CAST(v.external_id AS INTEGER), m.created_at, m.id");
  theirs = sandbox_query ("SELECT c.id, m.author_kind, m.is_note FROM messages m "
                          "JOIN conversations c ON c.id = m.conversation_id "
                          "WHERE c.channel IN ('email', 'chat') ORDER BY c.id, m.created_at, m.id");
  assert_same_lines (ours, theirs);
  g_clear_pointer (&ours, g_free);
  g_clear_pointer (&theirs, g_free);

  /* The sandbox keeps each message's plain text beside the HTML it serves: the
   * connector's normalised text is the same. */
  ours = query (world->store, "SELECT v.external_id, m.body FROM messages m "
                              "JOIN conversations v ON v.id = m.conversation_id "
                              "ORDER BY CAST(v.external_id AS INTEGER), m.created_at, m.id");
  theirs = sandbox_query ("SELECT c.id, m.body FROM messages m "
                          "JOIN conversations c ON c.id = m.conversation_id "
                          "WHERE c.channel IN ('email', 'chat') ORDER BY c.id, m.created_at, m.id");
  assert_same_lines (ours, theirs);
  g_clear_pointer (&ours, g_free);
  g_clear_pointer (&theirs, g_free);

  /* Normalised text, never HTML. */
  g_assert_cmpint (query_int (world->store, "SELECT count(*) FROM messages WHERE body LIKE '%<p>%' "
                                            "OR body LIKE '%</%' OR body LIKE '%<br%' OR body LIKE '%&amp;%'"),
                   ==, 0);
  g_assert_cmpint (query_int (world->store, "SELECT count(*) FROM messages WHERE is_note = 1"), >, 0);

  /* Organisations and contacts, linked as in the sandbox. */
  ours = query (world->store, "SELECT c.email, o.name FROM conversations v JOIN contacts c ON c.id = v.contact_id "
                              "LEFT JOIN organisations o ON o.id = c.organisation_id "
                              "ORDER BY CAST(v.external_id AS INTEGER)");
  theirs = sandbox_query ("SELECT c.email, o.name FROM conversations v JOIN contacts c ON c.id = v.contact_id "
                          "LEFT JOIN organisations o ON o.id = c.organisation_id "
                          "WHERE v.channel IN ('email', 'chat') ORDER BY v.id");
  assert_same_lines (ours, theirs);
  g_assert_cmpint (query_int (world->store, "SELECT count(*) FROM organisations"), ==,
                   sandbox_query_int ("SELECT count(*) FROM organisations"));
  /* Seats and the Stripe customer come from the companies' custom attributes. */
  g_free (ours);
  g_free (theirs);
  ours = query (world->store, "SELECT name, seats_purchased, seats_used, coalesce(stripe_customer_id, '') "
                              "FROM organisations ORDER BY name, seats_purchased");
  theirs = sandbox_query ("SELECT name, seats_purchased, seats_used, coalesce(stripe_customer_id, '') "
                          "FROM organisations ORDER BY name, seats_purchased");
  assert_same_lines (ours, theirs);
  g_assert_cmpint (query_int (world->store, "SELECT count(*) FROM organisations WHERE stripe_customer_id LIKE 'cus_%'"), >, 0);
  g_assert_cmpint (query_int (world->store, "SELECT count(*) FROM conversations WHERE organisation_id IS NULL"), ==,
                   sandbox_query_int ("SELECT count(*) FROM conversations v JOIN contacts c ON c.id = v.contact_id "
                                      "WHERE v.channel IN ('email', 'chat') AND c.organisation_id IS NULL "
                                      "AND v.organisation_id IS NULL"));
}

static void
sandbox_incoming (const char *conversation,
                  const char *body)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (fd_sandbox_get_base_url (world->sandbox), "/_control/incoming", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autofree char *json = g_strdup_printf ("{\"service\":\"intercom\",\"conversation_external_id\":\"%s\","
                                           "\"body\":\"%s\"}", conversation, body);
  g_autoptr(GBytes) request = g_bytes_new (json, strlen (json));
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;

  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
}

static char *
sandbox_some_conversation (const char *where)
{
  g_autofree char *sql = g_strdup_printf ("SELECT id FROM conversations WHERE channel IN ('email', 'chat') "
                                          "AND %s ORDER BY id LIMIT 1", where);
  char *id = sandbox_query (sql);

  return g_strstrip (id);
}

static void
test_sandbox_incremental (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *id = NULL;
  g_autofree char *sql = NULL;
  FdSyncStats stats = { 0 };
  guint details;

  world_sync ();
  before = store_dump (world->store);

  /* Nothing new: no conversation fetched, nothing changed. */
  details = sandbox_detail_count ();
  g_assert_true (sync_store (world->channel, world->store, &stats, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sandbox_detail_count (), ==, details);
  g_assert_cmpuint (stats.messages_new + stats.conversations_new, ==, 0);
  after = store_dump (world->store);
  g_assert_cmpstr (before, ==, after);

  /* A customer writes: exactly that message arrives. */
  id = sandbox_some_conversation ("status = 'open'");
  sandbox_incoming (id, "Any news on this? (incremental test)");
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_store (world->channel, world->store, &stats, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sandbox_detail_count (), ==, details + 1);
  g_assert_cmpuint (stats.messages_new, ==, 1);
  sql = g_strdup_printf ("SELECT count(*) FROM messages m JOIN conversations v ON v.id = m.conversation_id "
                         "WHERE v.external_id = '%s' AND m.body = 'Any news on this? (incremental test)' "
                         "AND m.author_kind = 'contact'", id);
  g_assert_cmpint (query_int (world->store, sql), ==, 1);

  /* And the next sync is quiet again. */
  details = sandbox_detail_count ();
  g_assert_true (sync_store (world->channel, world->store, NULL, NULL, &error));
  g_assert_cmpuint (sandbox_detail_count (), <=, details + 1);
}

static void
test_sandbox_send (void)
{
  g_autoptr(FdOutboxItem) reply = NULL;
  g_autoptr(FdOutboxItem) note = NULL;
  g_autoptr(FdOutboxItem) close = NULL;
  g_autoptr(FdOutboxItem) assign = NULL;
  g_autoptr(FdOutboxItem) tag = NULL;
  g_autoptr(FdOutboxItem) retried = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *reply_id = NULL;
  g_autofree char *note_id = NULL;
  g_autofree char *retried_id = NULL;
  g_autofree char *result = NULL;
  g_autofree char *row = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *assignee = NULL;
  g_autofree char *tag_name = NULL;
  FdSyncStats stats = { 0 };

  world_sync ();
  id = sandbox_some_conversation ("status = 'open' AND id > 20");
  assignee = query (world->store, "SELECT external_id FROM agents ORDER BY id DESC LIMIT 1");
  g_strstrip (assignee);

  reply = outbox_item (FD_OUTBOX_REPLY, id, "sandbox-reply-1");
  g_free (reply->author_external_id);
  reply->author_external_id = g_strdup (world->admin_id);
  reply->body = g_strdup ("We refunded the <duplicate> charge & closed this.");

  /* A 500 first: retried with the same key, one reply. */
  fd_sandbox_add_fault (world->sandbox, "/intercom/conversations/", FD_SANDBOX_FAULT_SERVER_ERROR, 1, 0);
  reply_id = send_item (world->channel, reply, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (reply_id, id));

  note = outbox_item (FD_OUTBOX_NOTE, id, "sandbox-note-1");
  g_free (note->author_external_id);
  note->author_external_id = g_strdup (world->admin_id);
  note->body = g_strdup ("Refund re_42 issued.");
  note_id = send_item (world->channel, note, &error);
  g_assert_no_error (error);

  /* Processed, the answer cut off, sent again: still one message, the same id. */
  retried = outbox_item (FD_OUTBOX_REPLY, id, "sandbox-reply-2");
  g_free (retried->author_external_id);
  retried->author_external_id = g_strdup (world->admin_id);
  retried->body = g_strdup ("One more thing.");
  fd_sandbox_add_fault (world->sandbox, "/intercom/conversations/", FD_SANDBOX_FAULT_TRUNCATE, 1, 0);
  retried_id = send_item (world->channel, retried, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sandbox_query_int ("SELECT count(*) FROM messages WHERE body = 'One more thing.'"), ==, 1);
  g_assert_cmpint (sandbox_query_int ("SELECT count(*) FROM messages WHERE body LIKE 'We refunded the%'"), ==, 1);

  assign = outbox_item (FD_OUTBOX_ASSIGN, id, "sandbox-assign-1");
  g_free (assign->author_external_id);
  assign->author_external_id = g_strdup (world->admin_id);
  assign->assignee_external_id = g_strdup (assignee);
  result = send_item (world->channel, assign, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_free);

  /* (The sandbox cannot create tags: an existing one, not yet on the conversation.) */
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT upper(name) FROM tags WHERE id NOT IN (SELECT tag_id FROM conversation_tags "
                         "WHERE conversation_id = %s) ORDER BY id LIMIT 1", id);
  tag_name = sandbox_query (sql);
  g_strstrip (tag_name);
  g_assert_cmpstr (tag_name, !=, "");
  tag = outbox_item (FD_OUTBOX_TAG, id, "sandbox-tag-1");
  g_free (tag->author_external_id);
  tag->author_external_id = g_strdup (world->admin_id);
  tag->tag = g_strdup (tag_name);
  result = send_item (world->channel, tag, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_free);

  close = outbox_item (FD_OUTBOX_STATUS, id, "sandbox-close-1");
  g_free (close->author_external_id);
  close->author_external_id = g_strdup (world->admin_id);
  close->status = g_strdup ("resolved");
  result = send_item (world->channel, close, &error);
  g_assert_no_error (error);

  /* The outbox keeps the reply under its id; the sync recognises it. */
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("INSERT INTO messages (conversation_id, account_id, external_id, author_kind, "
                         "is_note, body, created_at) SELECT id, account_id, '%s', 'agent', 0, "
                         "'We refunded the <duplicate> charge & closed this.', 1 FROM conversations "
                         "WHERE external_id = '%s'", reply_id, id);
  g_free (query (world->store, sql));

  g_assert_true (sync_store (world->channel, world->store, &stats, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.messages_new, ==, 2);   /* the note and the retried reply */

  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT v.status, a.external_id, (SELECT upper(group_concat(t.name)) FROM conversation_tags ct "
                         "JOIN tags t ON t.id = ct.tag_id WHERE ct.conversation_id = v.id AND upper(t.name) = '%s'), "
                         "(SELECT count(*) FROM messages WHERE conversation_id = v.id AND body LIKE 'We refunded%%'), "
                         "(SELECT count(*) FROM messages WHERE conversation_id = v.id AND external_id = '%s' AND is_note), "
                         "(SELECT count(*) FROM messages WHERE conversation_id = v.id AND external_id = '%s') "
                         "FROM conversations v LEFT JOIN agents a ON a.id = v.assignee_id WHERE v.external_id = '%s'",
                         tag_name, note_id, retried_id, id);
  row = query (world->store, sql);
  {
    g_autofree char *expected = g_strdup_printf ("resolved|%s|%s|1|1|1\n", assignee, tag_name);

    g_assert_cmpstr (row, ==, expected);
  }
}

/* Faults in the middle of an incremental sync: each either recovered or failed in plain
 * words with the page unstored; resuming from the stored cursor reaches the state of an
 * uninterrupted sync into a copy of the store. */
static void
test_sandbox_faults (void)
{
  static const struct
  {
    const char         *prefix;
    FdSandboxFaultKind  kind;
    guint               count;
    guint               param;
  } cases[] = {
    { "/intercom/conversations/search", FD_SANDBOX_FAULT_RATE_LIMIT, 1, 1 },
    { "/intercom/conversations/search", FD_SANDBOX_FAULT_SERVER_ERROR, 3, 0 },
    { "/intercom/conversations/search", FD_SANDBOX_FAULT_UNAVAILABLE, 1, 0 },
    { "/intercom/conversations/search", FD_SANDBOX_FAULT_TRUNCATE, 3, 0 },
    { "/intercom/conversations/search", FD_SANDBOX_FAULT_MALFORMED, 1, 0 },
    { "/intercom/conversations/search", FD_SANDBOX_FAULT_DROP, 3, 0 },
    { "/intercom/conversations/search", FD_SANDBOX_FAULT_SLOW, 1, 200 },
    { "/intercom/conversations/@", FD_SANDBOX_FAULT_SERVER_ERROR, 5, 0 },
    { "/intercom/conversations/@", FD_SANDBOX_FAULT_DROP, 1, 0 },
    { "/intercom/conversations/@", FD_SANDBOX_FAULT_MALFORMED, 4, 0 },
    { "/intercom/admins", FD_SANDBOX_FAULT_DROP, 10, 0 },
  };
  g_auto(GStrv) ids = g_new0 (char *, 4);
  g_autofree char *where = NULL;
  g_autofree char *final_world = NULL;
  g_autofree char *final_copy = NULL;
  TestStore *copy;

  world_sync ();
  ids[0] = sandbox_some_conversation ("status = 'open' AND id > 40");
  ids[1] = sandbox_some_conversation ("status = 'resolved' AND id > 60");
  ids[2] = sandbox_some_conversation ("status = 'open' AND id > 80");
  where = g_strdup_printf ("v.external_id IN ('%s', '%s', '%s')", ids[0], ids[1], ids[2]);

  /* A copy of the synced store, for the uninterrupted syncs. */
  copy = test_store_new ();
  {
    g_autofree char *to = g_build_filename (copy->dir, "frontdesk.db", NULL);
    g_autofree char *to_new = g_strconcat (to, ".new", NULL);
    g_autofree char *vacuum = g_strdup_printf ("VACUUM INTO '%s'", to_new);
    g_autoptr(GError) store_error = NULL;

    fd_store_close (copy->store);
    g_assert_finalize_object (copy->store);
    g_remove (to);
    g_free (query (world->store, vacuum));
    g_assert_cmpint (g_rename (to_new, to), ==, 0);
    copy->store = fd_store_new (to);
    g_assert_true (fd_store_open_sync (copy->store, NULL, &store_error));
    g_assert_no_error (store_error);
  }

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *reference = NULL;
      g_autofree char *resumed = NULL;
      g_autofree char *before = NULL;
      g_autofree char *prefix = NULL;
      g_autofree char *body = NULL;
      gboolean ok;

      /* Three conversations change, one of them twice. */
      body = g_strdup_printf ("fault case %u", i);
      sandbox_incoming (ids[0], body);
      sandbox_incoming (ids[1], body);
      sandbox_incoming (ids[2], body);
      sandbox_incoming (ids[0], "and again");

      g_test_message ("sandbox fault %u: %s %s × %u", i, cases[i].prefix,
                      fd_sandbox_fault_kind_to_string (cases[i].kind), cases[i].count);
      prefix = g_str_has_suffix (cases[i].prefix, "@")
        ? g_strconcat ("/intercom/conversations/", ids[1], NULL) : g_strdup (cases[i].prefix);
      fd_sandbox_add_fault (world->sandbox, prefix, cases[i].kind, cases[i].count, cases[i].param);

      before = store_dump_some (world->store, where);
      ok = sync_store (world->channel, world->store, NULL, NULL, &error);
      if (!ok)
        {
          g_autofree char *after = NULL;

          g_assert_nonnull (error);
          g_assert_true (error->domain == FD_HTTP_ERROR);
          g_assert_null (strstr (error->message, "{"));
          g_assert_null (strstr (error->message, FD_SANDBOX_INTERCOM_TOKEN));
          g_test_message ("failed as expected: %s", error->message);
          g_clear_error (&error);

          /* Nothing of the failed page; the pages before it had nothing new. */
          after = store_dump_some (world->store, where);
          g_assert_cmpstr (before, ==, after);

          fd_sandbox_clear_faults (world->sandbox);
          g_assert_true (sync_store (world->channel, world->store, NULL, NULL, &error));
        }
      g_assert_no_error (error);
      fd_sandbox_clear_faults (world->sandbox);

      g_assert_true (sync_store (world->channel, copy, NULL, NULL, &error));
      g_assert_no_error (error);

      reference = store_dump_some (copy, where);
      resumed = store_dump_some (world->store, where);
      g_assert_cmpstr (resumed, ==, reference);
      g_assert_nonnull (strstr (resumed, body));
    }

  /* And everything, once. */
  final_world = store_dump (world->store);
  final_copy = store_dump (copy);
  assert_same_lines (final_world, final_copy);
  test_store_free (copy);
}

static void
test_sandbox_wrong_token (void)
{
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(FdSyncBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  gboolean has_more;

  world_get ();
  channel = channel_for (world->base_url, "not-the-token");
  batch = fetch (channel, NULL, &has_more, &error);
  g_assert_null (batch);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "token"));
}

#endif

int
main (int   argc,
      char *argv[])
{
  /* Isolated folders hide the system's GSettings schemas, which GNOME's proxy resolver
   * needs; the test servers are on loopback anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/intercom/fake/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("first-sync", test_first_sync);
  ADD ("incremental", test_incremental);
  ADD ("recent-refetched", test_recent_refetched);
  ADD ("reapply", test_reapply);
  ADD ("send-round-trip", test_send_round_trip);
  ADD ("send-idempotent-retry", test_send_idempotent_retry);
  ADD ("send-errors", test_send_errors);
  ADD ("wrong-token", test_wrong_token);
  ADD ("bad-cursor", test_bad_cursor);
  ADD ("bad-page", test_bad_page);
  ADD ("cancel", test_cancel);
  ADD ("contacts-without-search", test_contacts_without_search);
  g_test_add_func ("/intercom/fake/faults", test_faults);
  g_test_add_func ("/intercom/fake/resume-everywhere", test_resume_everywhere);

#ifdef HAVE_SANDBOX
  g_test_add_func ("/intercom/sandbox/first-sync", test_sandbox_first_sync);
  g_test_add_func ("/intercom/sandbox/incremental", test_sandbox_incremental);
  g_test_add_func ("/intercom/sandbox/send", test_sandbox_send);
  g_test_add_func ("/intercom/sandbox/faults", test_sandbox_faults);
  g_test_add_func ("/intercom/sandbox/wrong-token", test_sandbox_wrong_token);
#endif

#undef ADD

  {
    int status = g_test_run ();

#ifdef HAVE_SANDBOX
    world_free ();
#endif

    return status;
  }
}
