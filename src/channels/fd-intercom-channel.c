/* fd-intercom-channel.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-intercom"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "fd-intercom-channel.h"
#include "fd-json.h"
#include "fd-text.h"

/* The version whose shapes this file reads (../shared/specs/intercom-openapi-2.16.yaml). */
#define INTERCOM_VERSION "2.16"

/* Intercom's maximum for searches; companies are listed 60 at a time at most. */
#define SEARCH_PER_PAGE 150
#define COMPANIES_PER_PAGE 60

/* Searches reach this far behind the last watermark: Intercom's search index lags writes
 * a little, and times are whole seconds. What the overlap finds again is recognised by
 * (id, updated_at) and not fetched twice. */
#define OVERLAP_SECONDS 60
#define SEEN_MAX 1000

/* Companies cannot be searched by update time; the full list is read again daily. New
 * companies show up sooner through the conversations that mention them. */
#define COMPANIES_REFRESH_MS (24 * 3600 * (gint64) 1000)

/* Conversation details fetched at once for one page. */
#define MAX_PARALLEL_DETAILS 6

#define CURSOR_VERSION 1

struct _FdIntercomChannel
{
  GObject       parent_instance;

  FdHttpClient *http;
};

static void fd_intercom_channel_iface_init (FdChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FdIntercomChannel, fd_intercom_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FD_TYPE_CHANNEL, fd_intercom_channel_iface_init))

/* JSON that may have any shape: every reader checks the type first. */




static gboolean
member_int (JsonObject *object,
            const char *name,
            gint64     *value)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;
  GType type;

  *value = 0;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    {
      *value = json_node_get_int (node);
      return TRUE;
    }
  if (type == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (node);

      if (d < -9e15 || d > 9e15)
        return FALSE;
      *value = (gint64) d;
      return TRUE;
    }
  if (type == G_TYPE_STRING)
    {
      const char *str = json_node_get_string (node);
      char *end = NULL;

      if (str == NULL || *str == '\0')
        return FALSE;
      *value = g_ascii_strtoll (str, &end, 10);
      return end != NULL && *end == '\0';
    }

  return FALSE;
}

static gboolean
member_bool (JsonObject *object,
             const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

/* Ids arrive as strings or, in older shapes, as numbers. */
static char *
member_id (JsonObject *object,
           const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;

  if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *str = json_node_get_string (node);

      return str != NULL && *str != '\0' ? g_strdup (str) : NULL;
    }
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));

  return NULL;
}

static char *
nonempty_text (char *text)
{
  if (text != NULL && *text == '\0')
    g_clear_pointer (&text, g_free);

  return text;
}

static gint64
seconds_to_ms (gint64 seconds)
{
  return seconds > 0 ? seconds * 1000 : 0;
}

/* The sync cursor: which phase, where in it, and the watermarks of the next search. */

typedef enum
{
  PHASE_IDLE,           /* a sync finished; the next one starts at PHASE_ADMINS */
  PHASE_ADMINS,
  PHASE_COMPANIES,
  PHASE_CONTACTS,
  PHASE_CONVERSATIONS,
} Phase;

static const char * const phase_names[] = {
  [PHASE_IDLE] = "idle",
  [PHASE_ADMINS] = "admins",
  [PHASE_COMPANIES] = "companies",
  [PHASE_CONTACTS] = "contacts",
  [PHASE_CONVERSATIONS] = "conversations",
};

typedef struct
{
  Phase       phase;
  char       *after;                 /* a search's starting_after */
  gint64      page;                  /* the companies page, from 1 */
  gint64      companies_at;          /* when the company list was last read in full, ms */
  gint64      contacts_since;        /* seconds: this round searches from here */
  gint64      contacts_max;          /* seconds: the newest seen this round */
  gint64      conversations_since;
  gint64      conversations_max;
  gboolean    full_round;            /* companies and contacts are read in full this round */
  gboolean    contacts_by_list;      /* the service cannot search contacts: GET /contacts */
  GHashTable *seen;                  /* conversation id → (gint64 *) updated_at, fetched */
} Cursor;

static void
cursor_free (Cursor *cursor)
{
  if (cursor == NULL)
    return;

  g_free (cursor->after);
  g_hash_table_unref (cursor->seen);
  g_free (cursor);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Cursor, cursor_free)

static Cursor *
cursor_new (void)
{
  Cursor *cursor = g_new0 (Cursor, 1);

  cursor->phase = PHASE_IDLE;
  cursor->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  return cursor;
}

static void
cursor_mark_seen (Cursor     *cursor,
                  const char *id,
                  gint64      updated_at)
{
  gint64 *value = g_new (gint64, 1);

  *value = updated_at;
  g_hash_table_replace (cursor->seen, g_strdup (id), value);
}

static gboolean
cursor_was_seen (Cursor     *cursor,
                 const char *id,
                 gint64      updated_at)
{
  gint64 *value = g_hash_table_lookup (cursor->seen, id);

  return value != NULL && *value == updated_at;
}

typedef struct
{
  const char *id;
  gint64      updated_at;
} SeenEntry;

static int
compare_seen_newest_first (gconstpointer a,
                           gconstpointer b)
{
  const SeenEntry *x = a;
  const SeenEntry *y = b;

  return x->updated_at < y->updated_at ? 1 : x->updated_at > y->updated_at ? -1 : 0;
}

/* Keeps what the next search can still find (it starts OVERLAP_SECONDS before @newest),
 * and at most SEEN_MAX of it, the newest: forgetting an entry only means fetching that
 * conversation once more. */
static void
cursor_prune_seen (Cursor *cursor,
                   gint64  newest)
{
  g_autoptr(GArray) entries = g_array_new (FALSE, FALSE, sizeof (SeenEntry));
  g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, cursor->seen);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      SeenEntry entry = { key, *(gint64 *) value };

      if (entry.updated_at <= newest - OVERLAP_SECONDS)
        g_hash_table_iter_remove (&iter);
      else
        g_array_append_val (entries, entry);
    }

  if (entries->len <= SEEN_MAX)
    return;

  g_array_sort (entries, compare_seen_newest_first);
  for (guint i = SEEN_MAX; i < entries->len; i++)
    g_ptr_array_add (doomed, g_strdup (g_array_index (entries, SeenEntry, i).id));
  for (guint i = 0; i < doomed->len; i++)
    g_hash_table_remove (cursor->seen, g_ptr_array_index (doomed, i));
}

static char *
cursor_to_string (Cursor *cursor)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  GHashTableIter iter;
  gpointer key, value;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "v");
  json_builder_add_int_value (builder, CURSOR_VERSION);
  json_builder_set_member_name (builder, "phase");
  json_builder_add_string_value (builder, phase_names[cursor->phase]);
  if (cursor->after != NULL)
    {
      json_builder_set_member_name (builder, "after");
      json_builder_add_string_value (builder, cursor->after);
    }
  json_builder_set_member_name (builder, "page");
  json_builder_add_int_value (builder, cursor->page);
  json_builder_set_member_name (builder, "companies_at");
  json_builder_add_int_value (builder, cursor->companies_at);
  json_builder_set_member_name (builder, "contacts_since");
  json_builder_add_int_value (builder, cursor->contacts_since);
  json_builder_set_member_name (builder, "contacts_max");
  json_builder_add_int_value (builder, cursor->contacts_max);
  json_builder_set_member_name (builder, "conversations_since");
  json_builder_add_int_value (builder, cursor->conversations_since);
  json_builder_set_member_name (builder, "conversations_max");
  json_builder_add_int_value (builder, cursor->conversations_max);
  json_builder_set_member_name (builder, "full_round");
  json_builder_add_boolean_value (builder, cursor->full_round);
  json_builder_set_member_name (builder, "contacts_by_list");
  json_builder_add_boolean_value (builder, cursor->contacts_by_list);
  json_builder_set_member_name (builder, "seen");
  json_builder_begin_object (builder);
  g_hash_table_iter_init (&iter, cursor->seen);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      json_builder_set_member_name (builder, key);
      json_builder_add_int_value (builder, *(gint64 *) value);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static Cursor *
cursor_parse (const char  *text,
              GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(Cursor) cursor = cursor_new ();
  JsonNode *root;
  JsonObject *object;
  JsonObject *seen;
  const char *phase;
  gint64 version;
  gboolean known = FALSE;

  if (text == NULL || *text == '\0')
    return g_steal_pointer (&cursor);

  if (!json_parser_load_from_data (parser, text, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    goto bad;

  object = json_node_get_object (root);
  if (!member_int (object, "v", &version) || version != CURSOR_VERSION)
    goto bad;

  phase = fd_json_string (object, "phase");
  for (guint i = 0; phase != NULL && i < G_N_ELEMENTS (phase_names); i++)
    {
      if (g_str_equal (phase, phase_names[i]))
        {
          cursor->phase = i;
          known = TRUE;
        }
    }
  if (!known)
    goto bad;

  cursor->after = g_strdup (fd_json_string (object, "after"));
  member_int (object, "page", &cursor->page);
  member_int (object, "companies_at", &cursor->companies_at);
  member_int (object, "contacts_since", &cursor->contacts_since);
  member_int (object, "contacts_max", &cursor->contacts_max);
  member_int (object, "conversations_since", &cursor->conversations_since);
  member_int (object, "conversations_max", &cursor->conversations_max);
  cursor->full_round = member_bool (object, "full_round");
  cursor->contacts_by_list = member_bool (object, "contacts_by_list");

  if ((seen = fd_json_object (object, "seen")) != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (seen);

      for (const GList *l = members; l != NULL; l = l->next)
        {
          gint64 updated_at;

          if (member_int (seen, l->data, &updated_at))
            cursor_mark_seen (cursor, l->data, updated_at);
        }
    }

  return g_steal_pointer (&cursor);

bad:
  g_set_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR,
               _("Frontdesk could not continue the last Intercom sync where it stopped, "
                 "so it will start over."));
  return NULL;
}

/* Requests */

static FdHttpRequest *
request_new_json (const char *method,
                  const char *path,
                  JsonNode   *body)
{
  FdHttpRequest *request = fd_http_request_new (method, path);

  if (body != NULL)
    fd_http_request_set_json (request, body);

  return request;
}

static char *
escape_segment (const char *segment)
{
  return g_uri_escape_string (segment, NULL, FALSE);
}

/* The body of a search for everything updated after @since (seconds). */
static JsonNode *
search_body (gint64      since,
             const char *after,
             gboolean    with_sort)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "query");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "field");
  json_builder_add_string_value (builder, "updated_at");
  json_builder_set_member_name (builder, "operator");
  json_builder_add_string_value (builder, ">");
  json_builder_set_member_name (builder, "value");
  json_builder_add_int_value (builder, MAX (since, 0));
  json_builder_end_object (builder);

  /* Oldest first, so that what changes while a sync pages moves behind the cursor and
   * is found on a later page, never skipped. */
  if (with_sort)
    {
      json_builder_set_member_name (builder, "sort");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "field");
      json_builder_add_string_value (builder, "updated_at");
      json_builder_set_member_name (builder, "order");
      json_builder_add_string_value (builder, "ascending");
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "pagination");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "per_page");
  json_builder_add_int_value (builder, SEARCH_PER_PAGE);
  if (after != NULL)
    {
      json_builder_set_member_name (builder, "starting_after");
      json_builder_add_string_value (builder, after);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static const char *
next_starting_after (JsonObject *root)
{
  JsonObject *next = fd_json_object (fd_json_object (root, "pages"), "next");
  const char *after = fd_json_string (next, "starting_after");

  return after != NULL && *after != '\0' ? after : NULL;
}

static gboolean
set_bad_response (GError     **error,
                  const char  *what)
{
  g_debug ("unexpected answer: %s", what);
  g_set_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
               _("Intercom sent an answer Frontdesk could not read. Nothing was changed; "
                 "it will try again."));
  return FALSE;
}

/* Records */

typedef struct
{
  FdSyncBatch *batch;
  GHashTable  *agents;     /* external id → the FdAgentRecord already in the batch */
  GHashTable  *contacts;   /* external id → FdContactRecord */
  GHashTable  *orgs;       /* external ids */
} BatchBuilder;

static void
batch_builder_init (BatchBuilder *b)
{
  b->batch = fd_sync_batch_new ();
  b->agents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b->contacts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b->orgs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
batch_builder_clear (BatchBuilder *b)
{
  g_clear_pointer (&b->batch, fd_sync_batch_free);
  g_clear_pointer (&b->agents, g_hash_table_unref);
  g_clear_pointer (&b->contacts, g_hash_table_unref);
  g_clear_pointer (&b->orgs, g_hash_table_unref);
}

static void
take_if_unset (char       **field,
               const char  *value)
{
  if (*field == NULL && value != NULL && *value != '\0')
    *field = g_strdup (value);
}

static void
add_agent (BatchBuilder *b,
           JsonObject   *admin)
{
  g_autofree char *id = member_id (admin, "id");
  FdAgentRecord *agent;

  if (id == NULL)
    {
      g_debug ("skipping an admin without an id");
      return;
    }

  /* The same admin in several places: what one place leaves out, another may say. */
  if ((agent = g_hash_table_lookup (b->agents, id)) == NULL)
    {
      agent = fd_sync_batch_add_agent (b->batch);
      agent->external_id = g_strdup (id);
      g_hash_table_insert (b->agents, g_steal_pointer (&id), agent);
    }
  take_if_unset (&agent->name, fd_json_string (admin, "name"));
  take_if_unset (&agent->email, fd_json_string (admin, "email"));
}

/* A whole, non-negative number, or -1. */
static gint64
custom_count (JsonObject *attributes,
              const char *name)
{
  JsonNode *node = attributes != NULL ? json_object_get_member (attributes, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return -1;
  return MAX (-1, json_node_get_int (node));
}

static void
add_organisation (BatchBuilder *b,
                  JsonObject   *company)
{
  g_autofree char *id = member_id (company, "id");
  JsonObject *attributes;
  const char *stripe;
  FdOrgRecord *org;

  if (id == NULL)
    {
      g_debug ("skipping a company without an id");
      return;
    }
  if (g_hash_table_contains (b->orgs, id))
    return;

  /* Intercom's own id, not the company_id the customer chose: contacts and conversations
   * refer to companies by Intercom's id only. */
  org = fd_sync_batch_add_organisation (b->batch);
  org->external_id = g_strdup (id);
  org->name = g_strdup (fd_json_string (company, "name"));
  org->plan = g_strdup (fd_json_string (fd_json_object (company, "plan"), "name"));
  if (org->plan != NULL && *org->plan == '\0')
    g_clear_pointer (&org->plan, g_free);
  /* Seats and the Stripe customer are the workspace's custom attributes, under these
   * names (Intercom has no fields of its own for them). */
  attributes = fd_json_object (company, "custom_attributes");
  org->seats_purchased = custom_count (attributes, "seats_purchased");
  org->seats_used = custom_count (attributes, "seats_used");
  stripe = fd_json_string (attributes, "stripe_customer_id");
  if (stripe != NULL && g_str_has_prefix (stripe, "cus_"))
    org->stripe_customer_id = g_strdup (stripe);
  g_hash_table_add (b->orgs, g_steal_pointer (&id));
}

static FdContactRecord *
lookup_or_add_contact (BatchBuilder *b,
                       const char   *id)
{
  FdContactRecord *record = g_hash_table_lookup (b->contacts, id);

  if (record == NULL)
    {
      record = fd_sync_batch_add_contact (b->batch);
      record->external_id = g_strdup (id);
      g_hash_table_insert (b->contacts, g_strdup (id), record);
    }

  return record;
}

static void
add_contact (BatchBuilder *b,
             JsonObject   *contact)
{
  g_autofree char *id = member_id (contact, "id");
  JsonArray *companies = fd_json_array (fd_json_object (contact, "companies"), "data");
  FdContactRecord *record;
  gint64 created_at;

  if (id == NULL)
    {
      g_debug ("skipping a contact without an id");
      return;
    }

  record = lookup_or_add_contact (b, id);
  take_if_unset (&record->name, fd_json_string (contact, "name"));
  take_if_unset (&record->email, fd_json_string (contact, "email"));
  if (member_int (contact, "created_at", &created_at))
    record->created_at = seconds_to_ms (created_at);

  /* A contact belongs to the first of its companies. */
  for (guint i = 0; companies != NULL && i < json_array_get_length (companies) &&
                    record->org_external_id == NULL; i++)
    {
      JsonNode *node = json_array_get_element (companies, i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        record->org_external_id = member_id (json_node_get_object (node), "id");
    }
}

/* A contact as a conversation names it: the id, and the name and email if it wrote. */
static void
add_contact_reference (BatchBuilder *b,
                       const char   *id,
                       JsonObject   *author)
{
  FdContactRecord *record;

  if (id == NULL)
    return;

  record = lookup_or_add_contact (b, id);
  take_if_unset (&record->name, fd_json_string (author, "name"));
  take_if_unset (&record->email, fd_json_string (author, "email"));
}

static const char *
author_kind (const char *type)
{
  if (type == NULL)
    return "system";
  if (g_str_equal (type, "admin"))
    return "agent";
  if (g_str_equal (type, "user") || g_str_equal (type, "lead") || g_str_equal (type, "contact"))
    return "contact";
  if (g_str_equal (type, "bot"))
    return "bot";

  return "system";
}

static void
add_attachments (FdMessageRecord *message,
                 JsonArray       *attachments)
{
  for (guint i = 0; attachments != NULL && i < json_array_get_length (attachments); i++)
    {
      JsonNode *node = json_array_get_element (attachments, i);
      JsonObject *object;
      FdAttachmentRecord *attachment;
      gint64 size;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      object = json_node_get_object (node);
      attachment = fd_message_record_add_attachment (message);
      attachment->name = g_strdup (fd_json_string (object, "name"));
      attachment->url = g_strdup (fd_json_string (object, "url"));
      attachment->content_type = g_strdup (fd_json_string (object, "content_type"));
      if (member_int (object, "filesize", &size))
        attachment->size = MAX (size, 0);
    }
}

/* One message from the source or a part; @author is its author object. */
static FdMessageRecord *
add_message (BatchBuilder         *b,
             FdConversationRecord *conversation,
             char                 *external_id,
             JsonObject           *author,
             const char           *html,
             gint64                created_at)
{
  FdMessageRecord *message = fd_conversation_record_add_message (conversation);
  const char *kind = author_kind (fd_json_string (author, "type"));

  message->external_id = external_id;
  message->author_kind = kind;
  message->author_external_id = member_id (author, "id");
  message->author_name = g_strdup (fd_json_string (author, "name"));
  message->body = fd_text_from_html (html);
  message->created_at = seconds_to_ms (created_at);

  if (g_str_equal (kind, "agent"))
    add_agent (b, author);
  else if (g_str_equal (kind, "contact"))
    add_contact_reference (b, message->author_external_id, author);

  return message;
}

/* The external id of a message: part ids are only meaningful within their conversation. */
static char *
message_external_id (const char *conversation_id,
                     const char *part_id)
{
  return g_strconcat (conversation_id, "/", part_id, NULL);
}

static const char *
map_state (const char *state)
{
  if (g_strcmp0 (state, "open") == 0)
    return "open";
  if (g_strcmp0 (state, "closed") == 0)
    return "resolved";
  if (g_strcmp0 (state, "snoozed") == 0)
    return "snoozed";

  return NULL;
}

/* 2.x before 2.12 says "priority" / "not_priority"; later versions a level. */
static const char *
map_priority (const char *priority)
{
  if (priority == NULL)
    return NULL;
  if (g_str_equal (priority, "urgent"))
    return "urgent";
  if (g_str_equal (priority, "priority") || g_str_equal (priority, "high"))
    return "high";
  if (g_str_equal (priority, "low"))
    return "low";
  if (g_str_equal (priority, "not_priority") || g_str_equal (priority, "none") ||
      g_str_equal (priority, "medium"))
    return "normal";

  return NULL;
}

static char **
read_tags (JsonObject *conversation)
{
  JsonArray *tags = fd_json_array (fd_json_object (conversation, "tags"), "tags");
  g_autoptr(GStrvBuilder) names = NULL;

  if (tags == NULL)
    return NULL;

  names = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (tags); i++)
    {
      JsonNode *node = json_array_get_element (tags, i);
      const char *name = JSON_NODE_HOLDS_OBJECT (node)
        ? fd_json_string (json_node_get_object (node), "name") : NULL;

      if (name != NULL && *name != '\0')
        g_strv_builder_add (names, name);
    }

  return g_strv_builder_end (names);
}

static gboolean
is_email (JsonObject *source)
{
  return g_strcmp0 (fd_json_string (source, "type"), "email") == 0 ||
         g_strcmp0 (fd_json_string (source, "delivered_as"), "email") == 0;
}

/* Maps one conversation (as retrieved, with its parts) into the batch. Returns FALSE
 * when it is unusable and was skipped. */
static gboolean
add_conversation (BatchBuilder *b,
                  JsonObject   *conversation)
{
  g_autofree char *id = member_id (conversation, "id");
  JsonObject *source = fd_json_object (conversation, "source");
  JsonObject *company = fd_json_object (conversation, "company");
  JsonArray *contacts = fd_json_array (fd_json_object (conversation, "contacts"), "contacts");
  JsonArray *parts = fd_json_array (fd_json_object (conversation, "conversation_parts"),
                                   "conversation_parts");
  FdConversationRecord *record;
  g_autofree char *assignee = NULL;
  const char *subject;
  gint64 value;

  if (id == NULL)
    {
      g_debug ("skipping a conversation without an id");
      return FALSE;
    }

  record = fd_sync_batch_add_conversation (b->batch);
  record->external_id = g_strdup (id);
  record->channel = is_email (source) ? "email" : "chat";

  subject = fd_json_string (conversation, "title");
  if (subject == NULL || *subject == '\0')
    subject = fd_json_string (source, "subject");
  record->subject = nonempty_text (fd_text_from_html (subject));

  if (company != NULL)
    {
      add_organisation (b, company);
      record->org_external_id = member_id (company, "id");
    }

  for (guint i = 0; contacts != NULL && i < json_array_get_length (contacts); i++)
    {
      JsonNode *node = json_array_get_element (contacts, i);

      if (JSON_NODE_HOLDS_OBJECT (node) &&
          (record->contact_external_id = member_id (json_node_get_object (node), "id")) != NULL)
        break;
    }
  /* Known from the contacts phase, or else new since: either way it exists after this. */
  add_contact_reference (b, record->contact_external_id, NULL);

  record->status = map_state (fd_json_string (conversation, "state"));
  record->priority = map_priority (fd_json_string (conversation, "priority"));

  /* 0 or null: unassigned. Intercom always says, so an absent member is unknown. */
  record->assignee_known = json_object_has_member (conversation, "admin_assignee_id");
  assignee = member_id (conversation, "admin_assignee_id");
  if (assignee != NULL && !g_str_equal (assignee, "0"))
    record->assignee_external_id = g_steal_pointer (&assignee);

  if (g_strcmp0 (record->status, "snoozed") == 0 && member_int (conversation, "snoozed_until", &value))
    record->snoozed_until = seconds_to_ms (value);
  if (member_int (conversation, "created_at", &value))
    record->created_at = seconds_to_ms (value);
  if (member_int (conversation, "updated_at", &value))
    record->updated_at = seconds_to_ms (value);

  record->tags = read_tags (conversation);

  /* The message that opened the conversation, then every part that says something. */
  if (source != NULL)
    {
      const char *body = fd_json_string (source, "body");
      JsonArray *attachments = fd_json_array (source, "attachments");

      /* The source has no time of its own: it is when the conversation began. */
      if ((body != NULL && *body != '\0') ||
          (attachments != NULL && json_array_get_length (attachments) > 0))
        {
          FdMessageRecord *message;

          message = add_message (b, record, message_external_id (id, "source"),
                                 fd_json_object (source, "author"), body,
                                 record->created_at / 1000);
          add_attachments (message, attachments);
        }
    }

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    {
      JsonNode *node = json_array_get_element (parts, i);
      JsonObject *part;
      g_autofree char *part_id = NULL;
      const char *part_type;
      const char *body;
      JsonArray *attachments;
      FdMessageRecord *message;
      gboolean is_note;
      gint64 created_at = 0;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_debug ("conversation %s: skipping a part that is not an object", id);
          continue;
        }

      part = json_node_get_object (node);
      if ((part_id = member_id (part, "id")) == NULL)
        {
          g_debug ("conversation %s: skipping a part without an id", id);
          continue;
        }

      part_type = fd_json_string (part, "part_type");
      body = fd_json_string (part, "body");
      attachments = fd_json_array (part, "attachments");
      is_note = g_strcmp0 (part_type, "note") == 0;

      /* Comments and notes are messages; so is anything else that carries words or files
       * (a close or an assignment with a message). Bare state changes are not: the
       * conversation's state already says where it stands. */
      if (!is_note && g_strcmp0 (part_type, "comment") != 0 &&
          (body == NULL || *body == '\0') &&
          (attachments == NULL || json_array_get_length (attachments) == 0))
        continue;

      member_int (part, "created_at", &created_at);
      message = add_message (b, record, message_external_id (id, part_id),
                             fd_json_object (part, "author"), body, created_at);
      message->is_note = is_note;
      add_attachments (message, attachments);
    }

  return TRUE;
}

/* Fetching */

typedef struct
{
  Cursor       *cursor;
  BatchBuilder  builder;
  gboolean      has_more;

  /* A conversations page: the search results in order, and their details. */
  GPtrArray    *items;        /* JsonObject */
  GPtrArray    *details;      /* JsonNode or NULL (gone since the search) */
  guint         next_item;
  guint         running;
  GError       *error;
} FetchData;

static void
fetch_data_free (FetchData *data)
{
  g_clear_pointer (&data->cursor, cursor_free);
  batch_builder_clear (&data->builder);
  g_clear_pointer (&data->items, g_ptr_array_unref);
  g_clear_pointer (&data->details, g_ptr_array_unref);
  g_clear_error (&data->error);
  g_free (data);
}

static void fetch_phase (GTask *task);

/* Ends this fetch with the batch built so far and the cursor as it now stands. */
static void
fetch_return (GTask    *task,
              gboolean  has_more)
{
  FetchData *data = g_task_get_task_data (task);
  FdSyncBatch *batch = g_steal_pointer (&data->builder.batch);

  batch->cursor = cursor_to_string (data->cursor);
  data->has_more = has_more;
  g_task_return_pointer (task, batch, (GDestroyNotify) fd_sync_batch_free);
}

static JsonObject *
response_object (FdHttpResponse *response)
{
  return response->json != NULL && JSON_NODE_HOLDS_OBJECT (response->json)
    ? json_node_get_object (response->json) : NULL;
}

static void fetch_me_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data);

static void
fetch_admins_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  FdIntercomChannel *self;
  GCancellable *cancellable;
  JsonArray *admins;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if ((admins = fd_json_array (response_object (response), "admins")) == NULL)
    {
      set_bad_response (&error, "GET /admins has no admins");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < json_array_get_length (admins); i++)
    {
      JsonNode *node = json_array_get_element (admins, i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        add_agent (&data->builder, json_node_get_object (node));
      else
        g_debug ("skipping an admin that is not an object");
    }

  /* Who the token belongs to: replies are sent as them, and "My open" is theirs. */
  self = g_task_get_source_object (task);
  cancellable = g_task_get_cancellable (task);
  fd_http_client_send_async (self->http,
                             fd_http_request_new ("GET", "/me"),
                             cancellable,
                             fetch_me_cb,
                             g_steal_pointer (&task));
}

static void
fetch_me_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *me_id = NULL;
  JsonObject *me;
  gint64 now_ms = g_get_real_time () / 1000;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if ((me = response_object (response)) != NULL && (me_id = member_id (me, "id")) != NULL)
    {
      FdAgentRecord *agent;

      add_agent (&data->builder, me);
      if ((agent = g_hash_table_lookup (data->builder.agents, me_id)) != NULL)
        agent->is_me = TRUE;
    }
  else
    g_debug ("GET /me did not say who the token belongs to");

  data->cursor->full_round = data->cursor->companies_at <= 0 ||
                             now_ms - data->cursor->companies_at >= COMPANIES_REFRESH_MS;
  if (data->cursor->full_round)
    {
      data->cursor->phase = PHASE_COMPANIES;
      data->cursor->page = 1;
    }
  else
    data->cursor->phase = PHASE_CONTACTS;

  fetch_return (task, TRUE);
}

static void
fetch_companies_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *companies;
  gint64 total_pages = 0;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  root = response_object (response);
  if ((companies = fd_json_array (root, "data")) == NULL)
    {
      set_bad_response (&error, "GET /companies has no data");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < json_array_get_length (companies); i++)
    {
      JsonNode *node = json_array_get_element (companies, i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        add_organisation (&data->builder, json_node_get_object (node));
      else
        g_debug ("skipping a company that is not an object");
    }

  member_int (fd_json_object (root, "pages"), "total_pages", &total_pages);
  if (json_array_get_length (companies) > 0 && data->cursor->page < total_pages)
    data->cursor->page++;
  else
    {
      data->cursor->phase = PHASE_CONTACTS;
      data->cursor->page = 0;
      data->cursor->companies_at = g_get_real_time () / 1000;
    }

  fetch_return (task, TRUE);
}

static void
fetch_contacts_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  Cursor *cursor = data->cursor;
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *contacts;
  const char *after;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL && !cursor->contacts_by_list &&
      g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND))
    {
      /* A service without contact search (an older API, or a stand-in for Intercom):
       * contacts are listed instead, in full, when companies are. */
      g_debug ("no contact search; listing contacts instead");
      cursor->contacts_by_list = TRUE;
      fetch_phase (g_steal_pointer (&task));
      return;
    }
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  root = response_object (response);
  if ((contacts = fd_json_array (root, "data")) == NULL)
    {
      set_bad_response (&error, "the contacts answer has no data");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < json_array_get_length (contacts); i++)
    {
      JsonNode *node = json_array_get_element (contacts, i);
      gint64 updated_at;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_debug ("skipping a contact that is not an object");
          continue;
        }

      add_contact (&data->builder, json_node_get_object (node));
      if (member_int (json_node_get_object (node), "updated_at", &updated_at))
        cursor->contacts_max = MAX (cursor->contacts_max, updated_at);
    }

  after = next_starting_after (root);
  g_clear_pointer (&cursor->after, g_free);
  if (after != NULL && json_array_get_length (contacts) > 0)
    cursor->after = g_strdup (after);
  else
    {
      cursor->phase = PHASE_CONVERSATIONS;
      cursor->contacts_since = MAX (cursor->contacts_since, cursor->contacts_max);
      cursor->contacts_max = 0;
    }

  fetch_return (task, TRUE);
}

static void fetch_next_details (GTask *task);

typedef struct
{
  GTask *task;
  guint  index;
} DetailRequest;

static void
fetch_detail_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  DetailRequest *request = user_data;
  g_autoptr(GTask) task = request->task;
  FetchData *data = g_task_get_task_data (task);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  guint index = request->index;

  g_free (request);
  data->running--;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      /* Deleted since the search listed it: nothing to store. */
      if (g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND))
        g_debug ("conversation %u of the page is gone", index);
      else if (data->error == NULL)
        data->error = g_steal_pointer (&error);
    }
  else if (response_object (response) == NULL)
    {
      if (data->error == NULL)
        set_bad_response (&data->error, "a conversation that is not an object");
    }
  else
    {
      g_ptr_array_index (data->details, index) = json_node_ref (response->json);
    }

  fetch_next_details (task);
}

/* Details that never came are NULL. */
static void
node_unref0 (gpointer node)
{
  if (node != NULL)
    json_node_unref (node);
}

static void
finish_conversations_page (GTask *task)
{
  FetchData *data = g_task_get_task_data (task);

  for (guint i = 0; i < data->items->len; i++)
    {
      JsonNode *detail = g_ptr_array_index (data->details, i);

      if (detail != NULL)
        add_conversation (&data->builder, json_node_get_object (detail));
    }

  fetch_return (task, data->has_more);
}

/* Keeps up to MAX_PARALLEL_DETAILS requests running; the page is finished when all have
 * answered. After a failure no new request starts, and the page fails as a whole. */
static void
fetch_next_details (GTask *task)
{
  FdIntercomChannel *self = g_task_get_source_object (task);
  FetchData *data = g_task_get_task_data (task);

  while (data->error == NULL &&
         data->next_item < data->items->len &&
         data->running < MAX_PARALLEL_DETAILS)
    {
      JsonObject *item = g_ptr_array_index (data->items, data->next_item);
      g_autofree char *id = member_id (item, "id");
      g_autofree char *escaped = escape_segment (id);
      g_autofree char *path = g_strconcat ("/conversations/", escaped, NULL);
      DetailRequest *request = g_new0 (DetailRequest, 1);

      request->task = g_object_ref (task);
      request->index = data->next_item++;
      data->running++;

      fd_http_client_send_async (self->http, fd_http_request_new ("GET", path),
                                 g_task_get_cancellable (task), fetch_detail_cb, request);
    }

  if (data->running > 0)
    return;

  if (data->error != NULL)
    g_task_return_error (task, g_steal_pointer (&data->error));
  else if (data->next_item >= data->items->len)
    finish_conversations_page (task);
}

/* The server's clock, from the Date header, so that "updated this second" is judged by
 * the same clock as updated_at. */
static gint64
server_now (FdHttpResponse *response)
{
  const char *date = soup_message_headers_get_one (response->headers, "Date");
  g_autoptr(GDateTime) time = date != NULL ? soup_date_time_new_from_http_string (date) : NULL;

  return time != NULL ? g_date_time_to_unix (time) : g_get_real_time () / G_USEC_PER_SEC;
}

static void
fetch_conversations_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  Cursor *cursor = data->cursor;
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *conversations;
  const char *after;
  gint64 now;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  root = response_object (response);
  if ((conversations = fd_json_array (root, "conversations")) == NULL)
    {
      set_bad_response (&error, "POST /conversations/search has no conversations");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  now = server_now (response);
  data->items = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  for (guint i = 0; i < json_array_get_length (conversations); i++)
    {
      JsonNode *node = json_array_get_element (conversations, i);
      JsonObject *item;
      g_autofree char *id = NULL;
      gint64 updated_at;

      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          (id = member_id ((item = json_node_get_object (node)), "id")) == NULL)
        {
          g_debug ("skipping a conversation without an id");
          continue;
        }

      if (!member_int (item, "updated_at", &updated_at))
        updated_at = 0;
      cursor->conversations_max = MAX (cursor->conversations_max, updated_at);

      /* Found again by the overlap, unchanged: already stored. */
      if (updated_at > 0 && cursor_was_seen (cursor, id, updated_at))
        continue;

      g_ptr_array_add (data->items, json_object_ref (item));

      /* What changed this very second may change again within it, unseen by updated_at;
       * only older changes are remembered as done. */
      if (updated_at > 0 && updated_at < now - 1)
        cursor_mark_seen (cursor, id, updated_at);
      else
        g_hash_table_remove (cursor->seen, id);
    }

  cursor_prune_seen (cursor, MAX (cursor->conversations_max, cursor->conversations_since));

  after = next_starting_after (root);
  g_clear_pointer (&cursor->after, g_free);
  if (after != NULL && json_array_get_length (conversations) > 0)
    {
      cursor->after = g_strdup (after);
      data->has_more = TRUE;
    }
  else
    {
      cursor->phase = PHASE_IDLE;
      cursor->conversations_since = MAX (cursor->conversations_since, cursor->conversations_max);
      cursor->conversations_max = 0;
      data->has_more = FALSE;
    }

  data->details = g_ptr_array_new_with_free_func (node_unref0);
  g_ptr_array_set_size (data->details, data->items->len);

  fetch_next_details (task);
}

static gint64
search_since (gint64 since)
{
  /* A first sync searches from the beginning of time. */
  return since > 0 ? since - OVERLAP_SECONDS : 0;
}

static void
fetch_phase (GTask *task)
{
  FdIntercomChannel *self = g_task_get_source_object (task);
  FetchData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  Cursor *cursor = data->cursor;
  FdHttpRequest *request = NULL;
  GAsyncReadyCallback callback = NULL;

  switch (cursor->phase)
    {
    case PHASE_IDLE:
    case PHASE_ADMINS:
      cursor->phase = PHASE_ADMINS;
      g_clear_pointer (&cursor->after, g_free);
      request = fd_http_request_new ("GET", "/admins");
      callback = fetch_admins_cb;
      break;

    case PHASE_COMPANIES:
      {
        g_autofree char *page = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (cursor->page, 1));
        g_autofree char *per_page = g_strdup_printf ("%d", COMPANIES_PER_PAGE);

        request = fd_http_request_new ("GET", "/companies");
        fd_http_request_add_query (request, "page", page);
        fd_http_request_add_query (request, "per_page", per_page);
        callback = fetch_companies_cb;
      }
      break;

    case PHASE_CONTACTS:
      if (!cursor->contacts_by_list)
        {
          g_autoptr(JsonNode) body = search_body (search_since (cursor->contacts_since),
                                                  cursor->after, TRUE);

          /* A search only reads; sending it twice is safe. */
          request = request_new_json ("POST", "/contacts/search", body);
          fd_http_request_set_retry_safe (request, TRUE);
          callback = fetch_contacts_cb;
          break;
        }
      else if (cursor->full_round)
        {
          g_autofree char *per_page = g_strdup_printf ("%d", SEARCH_PER_PAGE);

          request = fd_http_request_new ("GET", "/contacts");
          fd_http_request_add_query (request, "per_page", per_page);
          if (cursor->after != NULL)
            fd_http_request_add_query (request, "starting_after", cursor->after);
          callback = fetch_contacts_cb;
          break;
        }

      /* Without search, contacts between full rounds come with the conversations that
       * name them. */
      cursor->phase = PHASE_CONVERSATIONS;
      g_clear_pointer (&cursor->after, g_free);
      G_GNUC_FALLTHROUGH;

    case PHASE_CONVERSATIONS:
      {
        g_autoptr(JsonNode) body = search_body (search_since (cursor->conversations_since),
                                                cursor->after, TRUE);

        request = request_new_json ("POST", "/conversations/search", body);
        fd_http_request_set_retry_safe (request, TRUE);
        callback = fetch_conversations_cb;
      }
      break;

    default:
      g_assert_not_reached ();
    }

  fd_http_client_send_async (self->http, request, cancellable, callback, task);
}

static void
fd_intercom_channel_fetch_async (FdChannel           *channel,
                                 const char          *cursor_text,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  FetchData *data;
  Cursor *cursor;

  task = g_task_new (channel, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_intercom_channel_fetch_async);

  if ((cursor = cursor_parse (cursor_text, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data = g_new0 (FetchData, 1);
  data->cursor = cursor;
  batch_builder_init (&data->builder);
  g_task_set_task_data (task, data, (GDestroyNotify) fetch_data_free);

  fetch_phase (g_steal_pointer (&task));
}

static FdSyncBatch *
fd_intercom_channel_fetch_finish (FdChannel     *channel,
                                  GAsyncResult  *result,
                                  gboolean      *has_more,
                                  GError       **error)
{
  FetchData *data;
  FdSyncBatch *batch;

  g_return_val_if_fail (g_task_is_valid (result, channel), NULL);

  batch = g_task_propagate_pointer (G_TASK (result), error);
  data = g_task_get_task_data (G_TASK (result));
  *has_more = batch != NULL && data != NULL && data->has_more;

  return batch;
}

/* Sending */

typedef struct
{
  FdOutboxItem *item;
  char         *conversation_path;   /* "/conversations/ID", escaped */
  char         *tag_id;
} SendData;

static void
send_data_free (SendData *data)
{
  g_clear_pointer (&data->item, fd_outbox_item_free);
  g_free (data->conversation_path);
  g_free (data->tag_id);
  g_free (data);
}

static FdOutboxItem *
outbox_item_copy (const FdOutboxItem *item)
{
  FdOutboxItem *copy = g_new0 (FdOutboxItem, 1);

  copy->id = item->id;
  copy->kind = item->kind;
  copy->conversation_external_id = g_strdup (item->conversation_external_id);
  copy->idempotency_key = g_strdup (item->idempotency_key);
  copy->body = g_strdup (item->body);
  copy->status = g_strdup (item->status);
  copy->snoozed_until = item->snoozed_until;
  copy->assignee_external_id = g_strdup (item->assignee_external_id);
  copy->tag = g_strdup (item->tag);
  copy->author_external_id = g_strdup (item->author_external_id);

  return copy;
}

/* Intercom reads reply bodies as HTML: the agent's text is escaped, paragraphs and line
 * breaks kept. */
static char *
text_to_html (const char *text)
{
  g_autoptr(GString) html = g_string_new (NULL);
  g_auto(GStrv) paragraphs = NULL;
  g_autofree char *normalised = NULL;
  g_autoptr(GRegex) blank = NULL;

  normalised = g_strdup (text != NULL ? text : "");
  g_strdelimit (normalised, "\r", ' ');
  blank = g_regex_new ("\n[ \t]*\n\\s*", 0, 0, NULL);
  paragraphs = g_regex_split (blank, g_strstrip (normalised), 0);

  for (guint i = 0; paragraphs[i] != NULL; i++)
    {
      g_auto(GStrv) lines = g_strsplit (paragraphs[i], "\n", -1);

      if (*paragraphs[i] == '\0')
        continue;

      g_string_append (html, "<p>");
      for (guint j = 0; lines[j] != NULL; j++)
        {
          g_autofree char *escaped = g_markup_escape_text (lines[j], -1);

          if (j > 0)
            g_string_append (html, "<br>");
          g_string_append (html, escaped);
        }
      g_string_append (html, "</p>");
    }

  return g_string_free (g_steal_pointer (&html), FALSE);
}

static FdHttpRequest *
write_request (SendData   *data,
               const char *method,
               const char *path,
               JsonNode   *body)
{
  FdHttpRequest *request = request_new_json (method, path, body);

  /* Every action is safe to repeat: a reply carries the key Intercom deduplicates on, and
   * the others set a state that is the same however often it is set. */
  if (data->item->idempotency_key != NULL && *data->item->idempotency_key != '\0')
    fd_http_request_add_header (request, "Idempotency-Key", data->item->idempotency_key);
  fd_http_request_set_retry_safe (request, TRUE);

  return request;
}

/* The part a reply created: the newest part of the reply's type by an admin, found from
 * the end, since Intercom answers with the conversation. */
static char *
find_created_part (JsonObject *conversation,
                   const char *message_type,
                   const char *admin_id)
{
  JsonArray *parts = fd_json_array (fd_json_object (conversation, "conversation_parts"),
                                   "conversation_parts");
  char *fallback = NULL;

  for (guint n = parts != NULL ? json_array_get_length (parts) : 0; n > 0; n--)
    {
      JsonNode *node = json_array_get_element (parts, n - 1);
      JsonObject *part;
      JsonObject *author;
      g_autofree char *author_id = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      part = json_node_get_object (node);
      author = fd_json_object (part, "author");
      author_id = member_id (author, "id");

      if (g_strcmp0 (fd_json_string (part, "part_type"), message_type) != 0 ||
          g_strcmp0 (fd_json_string (author, "type"), "admin") != 0)
        continue;

      if (admin_id == NULL || g_strcmp0 (author_id, admin_id) == 0)
        {
          g_free (fallback);
          return member_id (part, "id");
        }

      if (fallback == NULL)
        fallback = member_id (part, "id");
    }

  return fallback;
}

static void
send_reply_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *part_id = NULL;
  const char *message_type = data->item->kind == FD_OUTBOX_NOTE ? "note" : "comment";

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  part_id = find_created_part (response_object (response), message_type,
                               data->item->author_external_id);
  if (part_id == NULL)
    {
      /* Intercom accepted the reply (2xx) but its answer does not show the part. It was
       * sent: failing here would send it again. The next sync brings the part, and the
       * store matches it to the local copy by its text. */
      g_debug ("Intercom accepted a reply to %s without showing the part it created",
               data->item->conversation_external_id);
      g_task_return_pointer (task, g_strdup (""), g_free);
      return;
    }

  g_task_return_pointer (task, message_external_id (data->item->conversation_external_id, part_id),
                         g_free);
}

static void
send_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_strdup (""), g_free);
}

static void
send_untag_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);

  /* The tag is not on the conversation (any more): what was asked for is true. */
  if (response == NULL && !g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_strdup (""), g_free);
}

static JsonNode *
admin_body (const char *admin_id,
            const char *first_name,
            const char *first_value)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  if (first_name != NULL)
    {
      json_builder_set_member_name (builder, first_name);
      json_builder_add_string_value (builder, first_value);
    }
  json_builder_set_member_name (builder, "admin_id");
  json_builder_add_string_value (builder, admin_id);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
apply_tag (GTask *task)
{
  FdIntercomChannel *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  FdHttpRequest *request;

  if (data->item->kind == FD_OUTBOX_TAG)
    {
      g_autoptr(JsonNode) body = admin_body (data->item->author_external_id, "id", data->tag_id);
      g_autofree char *path = g_strconcat (data->conversation_path, "/tags", NULL);

      request = write_request (data, "POST", path, body);
      fd_http_client_send_async (self->http, request, cancellable, send_done_cb, task);
    }
  else
    {
      g_autoptr(JsonNode) body = admin_body (data->item->author_external_id, NULL, NULL);
      g_autofree char *escaped = escape_segment (data->tag_id);
      g_autofree char *path = g_strconcat (data->conversation_path, "/tags/", escaped, NULL);

      request = write_request (data, "DELETE", path, body);
      fd_http_client_send_async (self->http, request, cancellable, send_untag_cb, task);
    }
}

static void
create_tag_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if ((data->tag_id = member_id (response_object (response), "id")) == NULL)
    {
      set_bad_response (&error, "a new tag without an id");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  apply_tag (g_steal_pointer (&task));
}

static void
list_tags_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FdIntercomChannel *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *tags;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if ((tags = fd_json_array (response_object (response), "data")) == NULL)
    {
      set_bad_response (&error, "GET /tags has no data");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Intercom's tag names are case-insensitive. */
  for (guint i = 0; i < json_array_get_length (tags) && data->tag_id == NULL; i++)
    {
      JsonNode *node = json_array_get_element (tags, i);
      JsonObject *tag = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *name = fd_json_string (tag, "name");
      g_autofree char *a = name != NULL ? g_utf8_casefold (name, -1) : NULL;
      g_autofree char *b = g_utf8_casefold (data->item->tag, -1);

      if (a != NULL && g_str_equal (a, b))
        data->tag_id = member_id (tag, "id");
    }

  if (data->tag_id != NULL)
    {
      apply_tag (g_steal_pointer (&task));
      return;
    }

  if (data->item->kind == FD_OUTBOX_UNTAG)
    {
      /* No such tag anywhere, so not on this conversation either. */
      g_task_return_pointer (task, g_strdup (""), g_free);
      return;
    }

  {
    g_autoptr(JsonBuilder) builder = json_builder_new ();
    g_autoptr(JsonNode) body = NULL;
    GCancellable *cancellable = g_task_get_cancellable (task);
    FdHttpRequest *request;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "name");
    json_builder_add_string_value (builder, data->item->tag);
    json_builder_end_object (builder);
    body = json_builder_get_root (builder);

    /* Creating a tag by name is idempotent on Intercom's side. */
    request = write_request (data, "POST", "/tags", body);
    fd_http_client_send_async (self->http, request, cancellable, create_tag_cb,
                               g_steal_pointer (&task));
  }
}

static JsonNode *
parts_body (const FdOutboxItem  *item,
            GError             **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *status = item->status;

  json_builder_begin_object (builder);

  if (item->kind == FD_OUTBOX_ASSIGN)
    {
      json_builder_set_member_name (builder, "message_type");
      json_builder_add_string_value (builder, "assignment");
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "admin");
      json_builder_set_member_name (builder, "admin_id");
      json_builder_add_string_value (builder, item->author_external_id);
      /* "0" unassigns. */
      json_builder_set_member_name (builder, "assignee_id");
      json_builder_add_string_value (builder, item->assignee_external_id != NULL &&
                                              *item->assignee_external_id != '\0'
                                              ? item->assignee_external_id : "0");
    }
  else if (g_strcmp0 (status, "open") == 0)
    {
      json_builder_set_member_name (builder, "message_type");
      json_builder_add_string_value (builder, "open");
      json_builder_set_member_name (builder, "admin_id");
      json_builder_add_string_value (builder, item->author_external_id);
    }
  else if (g_strcmp0 (status, "resolved") == 0)
    {
      json_builder_set_member_name (builder, "message_type");
      json_builder_add_string_value (builder, "close");
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "admin");
      json_builder_set_member_name (builder, "admin_id");
      json_builder_add_string_value (builder, item->author_external_id);
    }
  else if (g_strcmp0 (status, "snoozed") == 0)
    {
      if (item->snoozed_until <= 0)
        {
          g_set_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                       _("Intercom needs to know until when to snooze the conversation. "
                         "Choose a time and try again."));
          return NULL;
        }

      json_builder_set_member_name (builder, "message_type");
      json_builder_add_string_value (builder, "snoozed");
      json_builder_set_member_name (builder, "admin_id");
      json_builder_add_string_value (builder, item->author_external_id);
      json_builder_set_member_name (builder, "snoozed_until");
      json_builder_add_int_value (builder, (item->snoozed_until + 999) / 1000);
    }
  else if (g_strcmp0 (status, "pending") == 0)
    {
      g_set_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                   _("Intercom has no “pending” state. Snooze the conversation instead, "
                     "or leave it open."));
      return NULL;
    }
  else
    {
      g_set_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                   _("Intercom conversations cannot be set to “%s”."),
                   status != NULL ? status : "");
      return NULL;
    }

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
fd_intercom_channel_send_async (FdChannel           *channel,
                                const FdOutboxItem  *item,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  FdIntercomChannel *self = FD_INTERCOM_CHANNEL (channel);
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *escaped = NULL;
  FdHttpRequest *request;
  SendData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_intercom_channel_send_async);

  if (item->conversation_external_id == NULL || *item->conversation_external_id == '\0')
    {
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                               _("This action does not say which Intercom conversation it is for."));
      return;
    }

  /* Intercom records every action under the teammate who took it. */
  if (item->author_external_id == NULL || *item->author_external_id == '\0')
    {
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                               _("Frontdesk does not know which Intercom teammate you are. "
                                 "Sync the account, then try again."));
      return;
    }

  data = g_new0 (SendData, 1);
  data->item = outbox_item_copy (item);
  escaped = escape_segment (item->conversation_external_id);
  data->conversation_path = g_strconcat ("/conversations/", escaped, NULL);
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  switch (item->kind)
    {
    case FD_OUTBOX_REPLY:
    case FD_OUTBOX_NOTE:
      {
        g_autoptr(JsonBuilder) builder = json_builder_new ();
        g_autoptr(JsonNode) body = NULL;
        g_autofree char *html = text_to_html (item->body);
        g_autofree char *path = g_strconcat (data->conversation_path, "/reply", NULL);

        if (*html == '\0')
          {
            g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                                     _("The message is empty. Write something, then send it."));
            return;
          }

        json_builder_begin_object (builder);
        json_builder_set_member_name (builder, "message_type");
        json_builder_add_string_value (builder, item->kind == FD_OUTBOX_NOTE ? "note" : "comment");
        json_builder_set_member_name (builder, "type");
        json_builder_add_string_value (builder, "admin");
        json_builder_set_member_name (builder, "admin_id");
        json_builder_add_string_value (builder, item->author_external_id);
        json_builder_set_member_name (builder, "body");
        json_builder_add_string_value (builder, html);
        json_builder_end_object (builder);
        body = json_builder_get_root (builder);

        request = write_request (data, "POST", path, body);
        fd_http_client_send_async (self->http, request, cancellable, send_reply_cb,
                                   g_steal_pointer (&task));
      }
      break;

    case FD_OUTBOX_STATUS:
    case FD_OUTBOX_ASSIGN:
      {
        g_autoptr(JsonNode) body = parts_body (item, &error);
        g_autofree char *path = g_strconcat (data->conversation_path, "/parts", NULL);

        if (body == NULL)
          {
            g_task_return_error (task, g_steal_pointer (&error));
            return;
          }

        request = write_request (data, "POST", path, body);
        fd_http_client_send_async (self->http, request, cancellable, send_done_cb,
                                   g_steal_pointer (&task));
      }
      break;

    case FD_OUTBOX_TAG:
    case FD_OUTBOX_UNTAG:
      if (item->tag == NULL || *item->tag == '\0')
        {
          g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                                   _("The tag has no name."));
          return;
        }

      fd_http_client_send_async (self->http, fd_http_request_new ("GET", "/tags"), cancellable,
                                 list_tags_cb, g_steal_pointer (&task));
      break;

    default:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Intercom cannot do this."));
      break;
    }
}

static char *
fd_intercom_channel_send_finish (FdChannel     *channel,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, channel), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fd_intercom_channel_iface_init (FdChannelInterface *iface)
{
  iface->fetch_async = fd_intercom_channel_fetch_async;
  iface->fetch_finish = fd_intercom_channel_fetch_finish;
  iface->send_async = fd_intercom_channel_send_async;
  iface->send_finish = fd_intercom_channel_send_finish;
}

static void
fd_intercom_channel_finalize (GObject *object)
{
  FdIntercomChannel *self = (FdIntercomChannel *)object;

  g_clear_object (&self->http);

  G_OBJECT_CLASS (fd_intercom_channel_parent_class)->finalize (object);
}

static void
fd_intercom_channel_class_init (FdIntercomChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_intercom_channel_finalize;
}

static void
fd_intercom_channel_init (FdIntercomChannel *self)
{
}

FdChannel *
fd_intercom_channel_new (const char *base_url,
                         const char *access_token)
{
  FdIntercomChannel *self;
  g_autofree char *authorization = NULL;

  g_return_val_if_fail (base_url != NULL, NULL);
  g_return_val_if_fail (access_token != NULL, NULL);

  self = g_object_new (FD_TYPE_INTERCOM_CHANNEL, NULL);
  self->http = fd_http_client_new ("Intercom", base_url);

  authorization = g_strconcat ("Bearer ", access_token, NULL);
  fd_http_client_set_header (self->http, "Authorization", authorization, TRUE);
  fd_http_client_set_header (self->http, "Intercom-Version", INTERCOM_VERSION, FALSE);

  return FD_CHANNEL (self);
}

FdHttpClient *
fd_intercom_channel_get_http_client (FdIntercomChannel *self)
{
  g_return_val_if_fail (FD_IS_INTERCOM_CHANNEL (self), NULL);

  return self->http;
}
