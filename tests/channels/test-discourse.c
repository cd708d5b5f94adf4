/* test-discourse.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "fd-discourse-channel.h"
#include "fd-sandbox.h"
#include "fd-store.h"
#include "fd-sync-batch.h"

#define API_KEY      "test-discourse-key-0123456789"
#define API_USERNAME "frontdesk_bot"
#define STREAM       "topics"

/* {{{ A canned Discourse: topics, posts and the calls Frontdesk makes, shaped like the
 * official API description, with faults on demand. */

typedef enum
{
  FAULT_RATE_LIMIT,   /* 429, Retry-After: 0 */
  FAULT_SERVER,       /* 500, not processed */
  FAULT_TRUNCATE,     /* processed, then half the body and the connection closes */
  FAULT_GARBLED,      /* processed, 200 with half of the JSON */
  FAULT_WRONG_SHAPE,  /* 200 with JSON that is not what was asked for */
  FAULT_DROP,         /* not processed; the connection closes */
} FaultKind;

typedef struct
{
  char      *prefix;
  FaultKind  kind;
  guint      count;
  guint      skip;    /* matching requests let through first */
} Fault;

typedef struct
{
  gint64      id;
  char       *username;
  char       *name;
  gboolean    staff;
  int         post_type;
  int         post_number;
  char       *raw;
  char       *cooked;
  gint64      created_at;
} CannedPost;

typedef struct
{
  gint64      id;
  char       *title;
  gint64      category_id;
  gint64      created_at;
  gint64      bumped_at;
  gboolean    closed;
  gboolean    pinned;
  gboolean    broken;     /* /t/{id}.json answers without a title */
  GPtrArray  *posts;      /* CannedPost */
} CannedTopic;

typedef struct
{
  SoupServer *server;
  char       *base_url;
  GPtrArray  *topics;
  GPtrArray  *faults;
  GPtrArray  *requests;   /* "GET /latest.json?order=activity", … */
  gint64      next_post_id;
  gint64      clock;      /* ms; seeded activity lies in the past */
  guint       per_page;
  gboolean    forbid_close;
  gboolean    ignore_include_raw;  /* like a server that shows no Markdown with topics */
  gboolean    no_single_post;      /* and has no GET /posts/{id}.json either */
} Forum;

static void
canned_post_free (gpointer data)
{
  CannedPost *post = data;

  g_free (post->username);
  g_free (post->name);
  g_free (post->raw);
  g_free (post->cooked);
  g_free (post);
}

static void
canned_topic_free (gpointer data)
{
  CannedTopic *topic = data;

  g_free (topic->title);
  g_ptr_array_unref (topic->posts);
  g_free (topic);
}

static void
fault_free (gpointer data)
{
  Fault *fault = data;

  g_free (fault->prefix);
  g_free (fault);
}

static char *
format_time (gint64 ms)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (ms / 1000);
  g_autofree char *seconds = g_date_time_format (date, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", seconds, (int) (ms % 1000));
}

static gint64
forum_tick (Forum *forum)
{
  forum->clock += 60 * 1000;
  return forum->clock;
}

/* Live events happen now, by the wall clock the Date header also uses. */
static gint64
forum_now (Forum *forum)
{
  forum->clock = MAX (forum->clock + 1, g_get_real_time () / 1000);
  return forum->clock;
}

static CannedTopic *
forum_find_topic (Forum  *forum,
                  gint64  id)
{
  for (guint i = 0; i < forum->topics->len; i++)
    {
      CannedTopic *topic = g_ptr_array_index (forum->topics, i);

      if (topic->id == id)
        return topic;
    }

  return NULL;
}

static CannedPost *
forum_add_post (Forum       *forum,
                CannedTopic *topic,
                const char  *username,
                gboolean     staff,
                const char  *cooked,
                gint64       at)
{
  CannedPost *post = g_new0 (CannedPost, 1);

  post->id = forum->next_post_id++;
  post->username = g_strdup (username);
  post->name = g_strdup_printf ("%c%s Person", g_ascii_toupper (username[0]), username + 1);
  post->staff = staff;
  post->post_type = 1;
  post->post_number = topic->posts->len + 1;
  post->cooked = g_strdup (cooked);
  post->raw = g_strdup ("(raw not kept)");
  post->created_at = at;
  g_ptr_array_add (topic->posts, post);

  if (post->post_type != 3)
    topic->bumped_at = MAX (topic->bumped_at, at);

  return post;
}

static CannedTopic *
forum_add_topic (Forum      *forum,
                 gint64      id,
                 const char *title,
                 gint64      category_id)
{
  CannedTopic *topic = g_new0 (CannedTopic, 1);

  topic->id = id;
  topic->title = g_strdup (title);
  topic->category_id = category_id;
  topic->created_at = forum_tick (forum);
  topic->posts = g_ptr_array_new_with_free_func (canned_post_free);
  g_ptr_array_add (forum->topics, topic);

  return topic;
}

static gint
compare_by_bump (gconstpointer a,
                 gconstpointer b)
{
  const CannedTopic *topic_a = *(CannedTopic **) a;
  const CannedTopic *topic_b = *(CannedTopic **) b;

  /* Pinned first, then newest bump first, as /latest.json?order=activity lists them. */
  if (topic_a->pinned != topic_b->pinned)
    return topic_a->pinned ? -1 : 1;
  if (topic_a->bumped_at != topic_b->bumped_at)
    return topic_a->bumped_at > topic_b->bumped_at ? -1 : 1;
  return topic_a->id > topic_b->id ? -1 : topic_a->id < topic_b->id;
}

static void
add_post_json (JsonBuilder *builder,
               CannedTopic *topic,
               CannedPost  *post,
               gboolean     with_raw)
{
  g_autofree char *created_at = format_time (post->created_at);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, post->id);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, post->name);
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, post->username);
  json_builder_set_member_name (builder, "avatar_template");
  json_builder_add_string_value (builder, "/letter_avatar/x/{size}/1.png");
  json_builder_set_member_name (builder, "created_at");
  json_builder_add_string_value (builder, created_at);
  json_builder_set_member_name (builder, "updated_at");
  json_builder_add_string_value (builder, created_at);
  json_builder_set_member_name (builder, "cooked");
  json_builder_add_string_value (builder, post->cooked);
  json_builder_set_member_name (builder, "post_number");
  json_builder_add_int_value (builder, post->post_number);
  json_builder_set_member_name (builder, "post_type");
  json_builder_add_int_value (builder, post->post_type);
  json_builder_set_member_name (builder, "topic_id");
  json_builder_add_int_value (builder, topic->id);
  json_builder_set_member_name (builder, "reply_to_post_number");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "staff");
  json_builder_add_boolean_value (builder, post->staff);
  json_builder_set_member_name (builder, "admin");
  json_builder_add_boolean_value (builder, post->staff);
  json_builder_set_member_name (builder, "moderator");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "user_id");
  json_builder_add_int_value (builder, g_str_hash (post->username) % 10000);
  json_builder_set_member_name (builder, "deleted_at");
  json_builder_add_null_value (builder);
  if (with_raw)
    {
      json_builder_set_member_name (builder, "raw");
      json_builder_add_string_value (builder, post->raw);
    }
  json_builder_end_object (builder);
}

static void
respond_builder (SoupServerMessage *msg,
                 guint              status,
                 JsonBuilder       *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json; charset=utf-8", SOUP_MEMORY_COPY,
                                    text, strlen (text));
}

static void
respond_text (SoupServerMessage *msg,
              guint              status,
              const char        *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json; charset=utf-8", SOUP_MEMORY_COPY,
                                    json, strlen (json));
}

/* Category 3 is a subcategory of 1; a category's list shows its subcategories' topics,
 * as Discourse's does by default. */
static gboolean
in_category (CannedTopic *topic,
             gint64       category_id)
{
  return category_id == 0 || topic->category_id == category_id ||
         (category_id == 1 && topic->category_id == 3);
}

/* /latest.json (@category_id 0) or /c/{slug}/{id}.json. */
static void
handle_list (Forum             *forum,
             SoupServerMessage *msg,
             GHashTable        *params,
             gint64             category_id)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  const char *page_param = g_hash_table_lookup (params, "page");
  guint page = page_param != NULL ? (guint) g_ascii_strtoull (page_param, NULL, 10) : 0;

  g_assert_cmpstr (g_hash_table_lookup (params, "order"), ==, "activity");

  for (guint i = 0; i < forum->topics->len; i++)
    if (in_category (g_ptr_array_index (forum->topics, i), category_id))
      g_ptr_array_add (sorted, g_ptr_array_index (forum->topics, i));
  g_ptr_array_sort (sorted, compare_by_bump);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "users");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "primary_groups");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "topic_list");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "can_create_topic");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "per_page");
  json_builder_add_int_value (builder, forum->per_page);
  if ((page + 1) * forum->per_page < sorted->len)
    {
      g_autofree char *more = category_id != 0
        ? g_strdup_printf ("/c/a-slug/%" G_GINT64_FORMAT "/l/latest?order=activity&page=%u", category_id, page + 1)
        : g_strdup_printf ("/latest?order=activity&page=%u", page + 1);

      json_builder_set_member_name (builder, "more_topics_url");
      json_builder_add_string_value (builder, more);
    }
  json_builder_set_member_name (builder, "topics");
  json_builder_begin_array (builder);
  for (guint i = page * forum->per_page; i < MIN (sorted->len, (page + 1) * forum->per_page); i++)
    {
      CannedTopic *topic = g_ptr_array_index (sorted, i);
      g_autofree char *created_at = format_time (topic->created_at);
      g_autofree char *bumped_at = format_time (topic->bumped_at);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, topic->id);
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, topic->title);
      json_builder_set_member_name (builder, "fancy_title");
      json_builder_add_string_value (builder, topic->title);
      json_builder_set_member_name (builder, "slug");
      json_builder_add_string_value (builder, "a-topic");
      json_builder_set_member_name (builder, "posts_count");
      json_builder_add_int_value (builder, topic->posts->len);
      json_builder_set_member_name (builder, "created_at");
      json_builder_add_string_value (builder, created_at);
      json_builder_set_member_name (builder, "last_posted_at");
      json_builder_add_string_value (builder, bumped_at);
      json_builder_set_member_name (builder, "bumped");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_set_member_name (builder, "bumped_at");
      json_builder_add_string_value (builder, bumped_at);
      json_builder_set_member_name (builder, "archetype");
      json_builder_add_string_value (builder, "regular");
      json_builder_set_member_name (builder, "pinned");
      json_builder_add_boolean_value (builder, topic->pinned);
      json_builder_set_member_name (builder, "pinned_globally");
      json_builder_add_boolean_value (builder, FALSE);
      json_builder_set_member_name (builder, "visible");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_set_member_name (builder, "closed");
      json_builder_add_boolean_value (builder, topic->closed);
      json_builder_set_member_name (builder, "archived");
      json_builder_add_boolean_value (builder, FALSE);
      json_builder_set_member_name (builder, "category_id");
      json_builder_add_int_value (builder, topic->category_id);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  respond_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_categories (Forum             *forum,
                   SoupServerMessage *msg)
{
  respond_text (msg, SOUP_STATUS_OK,
                "{\"category_list\":{\"can_create_category\":false,\"can_create_topic\":true,"
                "\"categories\":["
                "{\"id\":1,\"name\":\"Support\",\"slug\":\"support\",\"subcategory_ids\":[3],"
                " \"subcategory_list\":[{\"id\":3,\"name\":\"Billing\",\"slug\":\"billing\","
                "  \"parent_category_id\":1}]},"
                "{\"id\":2,\"name\":\"Lounge\",\"slug\":\"lounge\",\"subcategory_ids\":[]}"
                "]}}");
}

static void
handle_topic (Forum             *forum,
              SoupServerMessage *msg,
              CannedTopic       *topic)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *created_at = format_time (topic->created_at);
  g_autofree char *bumped_at = format_time (topic->bumped_at);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "post_stream");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "posts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < MIN (topic->posts->len, 20); i++)
    add_post_json (builder, topic, g_ptr_array_index (topic->posts, i), FALSE);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "stream");
  json_builder_begin_array (builder);
  for (guint i = 0; i < topic->posts->len; i++)
    json_builder_add_int_value (builder, ((CannedPost *) g_ptr_array_index (topic->posts, i))->id);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, topic->id);
  if (!topic->broken)
    {
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, topic->title);
    }
  json_builder_set_member_name (builder, "fancy_title");
  json_builder_add_string_value (builder, topic->title);
  json_builder_set_member_name (builder, "posts_count");
  json_builder_add_int_value (builder, topic->posts->len);
  json_builder_set_member_name (builder, "created_at");
  json_builder_add_string_value (builder, created_at);
  json_builder_set_member_name (builder, "last_posted_at");
  json_builder_add_string_value (builder, bumped_at);
  json_builder_set_member_name (builder, "closed");
  json_builder_add_boolean_value (builder, topic->closed);
  json_builder_set_member_name (builder, "archived");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "archetype");
  json_builder_add_string_value (builder, "regular");
  json_builder_set_member_name (builder, "category_id");
  json_builder_add_int_value (builder, topic->category_id);
  json_builder_end_object (builder);

  respond_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_topic_posts (Forum             *forum,
                    SoupServerMessage *msg,
                    CannedTopic       *topic,
                    GPtrArray         *post_ids,
                    gboolean           with_raw)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  /* Discourse's limit; Frontdesk must ask in chunks of 20. */
  g_assert_cmpuint (post_ids->len, >, 0);
  g_assert_cmpuint (post_ids->len, <=, 20);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "post_stream");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "posts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < topic->posts->len; i++)
    {
      CannedPost *post = g_ptr_array_index (topic->posts, i);

      for (guint j = 0; j < post_ids->len; j++)
        if (g_ascii_strtoll (g_ptr_array_index (post_ids, j), NULL, 10) == post->id)
          add_post_json (builder, topic, post, with_raw);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, topic->id);
  json_builder_end_object (builder);

  respond_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_single_post (Forum             *forum,
                    SoupServerMessage *msg,
                    gint64             id)
{
  for (guint i = 0; i < forum->topics->len; i++)
    {
      CannedTopic *topic = g_ptr_array_index (forum->topics, i);

      for (guint j = 0; j < topic->posts->len; j++)
        {
          CannedPost *post = g_ptr_array_index (topic->posts, j);

          if (post->id == id)
            {
              g_autoptr(JsonBuilder) builder = json_builder_new ();

              add_post_json (builder, topic, post, TRUE);
              respond_builder (msg, SOUP_STATUS_OK, builder);
              return;
            }
        }
    }

  respond_text (msg, 404, "{\"errors\":[\"The requested URL or resource could not be found.\"],"
                          "\"error_type\":\"not_found\"}");
}

static void
handle_create_post (Forum             *forum,
                    SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *username;
  g_autofree char *escaped = NULL;
  g_autofree char *cooked = NULL;
  CannedTopic *topic;
  CannedPost *post;
  JsonObject *object;

  g_assert_cmpstr (soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL),
                   ==, "application/json");
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                             g_bytes_get_size (bytes), NULL));
  object = json_node_get_object (json_parser_get_root (parser));

  topic = forum_find_topic (forum, json_object_get_int_member (object, "topic_id"));
  if (topic == NULL)
    {
      respond_text (msg, 404, "{\"errors\":[\"The requested URL or resource could not be found.\"],"
                              "\"error_type\":\"not_found\"}");
      return;
    }

  username = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Api-Username");
  escaped = g_markup_escape_text (json_object_get_string_member (object, "raw"), -1);
  cooked = g_strdup_printf ("<p>%s</p>", escaped);
  post = forum_add_post (forum, topic, username, TRUE, cooked, forum_now (forum));
  g_free (post->raw);
  post->raw = g_strdup (json_object_get_string_member (object, "raw"));

  add_post_json (builder, topic, post, TRUE);
  respond_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_status (Forum             *forum,
               SoupServerMessage *msg,
               CannedTopic       *topic)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;

  if (forum->forbid_close)
    {
      respond_text (msg, 403, "{\"errors\":[\"You are not permitted to view the requested "
                              "resource.\"],\"error_type\":\"invalid_access\"}");
      return;
    }

  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                             g_bytes_get_size (bytes), NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "closed");
  g_assert_cmpstr (json_object_get_string_member (object, "enabled"), ==, "true");

  topic->closed = TRUE;
  respond_text (msg, SOUP_STATUS_OK, "{\"success\":\"OK\",\"topic_status_update\":null}");
}

/* GHashTable queries keep one value per name; post_ids[] repeats. */
static GHashTable *
parse_query (const char *query,
             GPtrArray  *post_ids)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) pairs = g_strsplit (query != NULL ? query : "", "&", -1);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (pairs[i], "=", 2);
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (kv[0] == NULL || *kv[0] == '\0')
        continue;

      name = g_uri_unescape_string (kv[0], NULL);
      value = g_uri_unescape_string (kv[1] != NULL ? kv[1] : "", NULL);
      if (g_str_equal (name, "post_ids[]"))
        g_ptr_array_add (post_ids, g_steal_pointer (&value));
      else
        g_hash_table_replace (params, g_steal_pointer (&name), g_steal_pointer (&value));
    }

  return params;
}

static void
write_raw_and_close (SoupServerMessage *msg,
                     const char        *raw,
                     gsize              length)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);

  if (raw != NULL && length > 0)
    g_output_stream_write_all (g_io_stream_get_output_stream (stream), raw, length, NULL, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

static void
apply_fault_after (SoupServerMessage *msg,
                   FaultKind          kind)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  gsize length = g_bytes_get_size (bytes);

  if (kind == FAULT_TRUNCATE)
    {
      g_autoptr(GString) raw = g_string_new (NULL);

      g_string_append_printf (raw, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n",
                              length);
      g_string_append_len (raw, g_bytes_get_data (bytes, NULL), length / 2);
      write_raw_and_close (msg, raw->str, raw->len);
    }
  else if (kind == FAULT_GARBLED)
    {
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (bytes, NULL), length / 2);
    }
}

static void
forum_handler (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *unused,
               gpointer           user_data)
{
  Forum *forum = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GPtrArray) post_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) params = parse_query (query, post_ids);
  g_auto(GStrv) parts = NULL;
  Fault *fault = NULL;
  gint64 topic_id;

  g_ptr_array_add (forum->requests, g_strdup_printf ("%s %s%s%s", method, path,
                                                     query != NULL ? "?" : "",
                                                     query != NULL ? query : ""));

  if (g_strcmp0 (soup_message_headers_get_one (headers, "Api-Key"), API_KEY) != 0 ||
      soup_message_headers_get_one (headers, "Api-Username") == NULL)
    {
      respond_text (msg, 403, "{\"errors\":[\"You are not permitted to view the requested resource. "
                              "The API username or key is invalid.\"],\"error_type\":\"invalid_access\"}");
      return;
    }

  for (guint i = 0; i < forum->faults->len; i++)
    {
      Fault *candidate = g_ptr_array_index (forum->faults, i);

      if (candidate->count > 0 && g_str_has_prefix (path, candidate->prefix))
        {
          if (candidate->skip > 0)
            {
              candidate->skip--;
              continue;
            }
          fault = candidate;
          fault->count--;
          break;
        }
    }

  if (fault != NULL)
    {
      switch (fault->kind)
        {
        case FAULT_RATE_LIMIT:
          soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "0");
          respond_text (msg, 429, "{\"errors\":[\"You’ve performed this action too many times. "
                                  "Please wait a few seconds before trying again.\"],"
                                  "\"error_type\":\"rate_limit\",\"extras\":{\"wait_seconds\":0}}");
          return;
        case FAULT_SERVER:
          respond_text (msg, 500, "{\"errors\":[\"Internal Server Error\"]}");
          return;
        case FAULT_DROP:
          write_raw_and_close (msg, NULL, 0);
          return;
        case FAULT_WRONG_SHAPE:
          respond_text (msg, SOUP_STATUS_OK, "{\"unexpected\":[1,2,3]}");
          return;
        case FAULT_TRUNCATE:
        case FAULT_GARBLED:
        default:
          break;
        }
    }

  parts = g_strsplit (path, "/", -1);

  if (g_str_equal (method, "GET") && g_str_equal (path, "/latest.json"))
    handle_list (forum, msg, params, 0);
  else if (g_str_equal (method, "GET") && g_strv_length (parts) == 4 && g_str_equal (parts[1], "c") &&
           g_str_has_suffix (parts[3], ".json") && g_ascii_strtoll (parts[3], NULL, 10) > 0)
    handle_list (forum, msg, params, g_ascii_strtoll (parts[3], NULL, 10));
  else if (g_str_equal (method, "GET") && g_str_equal (path, "/categories.json"))
    handle_categories (forum, msg);
  else if (g_str_equal (method, "POST") && g_str_equal (path, "/posts.json"))
    handle_create_post (forum, msg);
  else if (g_strv_length (parts) == 3 && g_str_equal (parts[1], "t") &&
           g_str_has_suffix (parts[2], ".json") &&
           (topic_id = g_ascii_strtoll (parts[2], NULL, 10)) > 0 &&
           forum_find_topic (forum, topic_id) != NULL)
    handle_topic (forum, msg, forum_find_topic (forum, topic_id));
  else if (g_strv_length (parts) == 4 && g_str_equal (parts[1], "t") &&
           g_str_equal (parts[3], "posts.json") &&
           forum_find_topic (forum, g_ascii_strtoll (parts[2], NULL, 10)) != NULL)
    handle_topic_posts (forum, msg, forum_find_topic (forum, g_ascii_strtoll (parts[2], NULL, 10)),
                        post_ids, !forum->ignore_include_raw &&
                                  g_strcmp0 (g_hash_table_lookup (params, "include_raw"), "true") == 0);
  else if (g_str_equal (method, "GET") && g_strv_length (parts) == 3 && g_str_equal (parts[1], "posts") &&
           g_str_has_suffix (parts[2], ".json") && !forum->no_single_post)
    handle_single_post (forum, msg, g_ascii_strtoll (parts[2], NULL, 10));
  else if (g_str_equal (method, "PUT") && g_strv_length (parts) == 4 && g_str_equal (parts[1], "t") &&
           g_str_equal (parts[3], "status.json") &&
           forum_find_topic (forum, g_ascii_strtoll (parts[2], NULL, 10)) != NULL)
    handle_status (forum, msg, forum_find_topic (forum, g_ascii_strtoll (parts[2], NULL, 10)));
  else
    respond_text (msg, 404, "{\"errors\":[\"The requested URL or resource could not be found.\"],"
                            "\"error_type\":\"not_found\"}");

  if (fault != NULL)
    apply_fault_after (msg, fault->kind);
}

static Forum *
forum_new (void)
{
  Forum *forum = g_new0 (Forum, 1);
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;
  g_autofree char *uri = NULL;

  forum->topics = g_ptr_array_new_with_free_func (canned_topic_free);
  forum->faults = g_ptr_array_new_with_free_func (fault_free);
  forum->requests = g_ptr_array_new_with_free_func (g_free);
  forum->next_post_id = 5000;
  forum->per_page = 30;
  /* Thirty days ago: seeded activity is old, live activity is now. */
  forum->clock = (g_get_real_time () / 1000 / 1000 - 30 * 24 * 3600) * 1000;

  forum->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (forum->server, NULL, forum_handler, forum, NULL);
  g_assert_true (soup_server_listen_local (forum->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);

  uris = soup_server_get_uris (forum->server);
  uri = g_uri_to_string (uris->data);
  forum->base_url = g_strdup (uri);

  return forum;
}

static void
forum_free (Forum *forum)
{
  soup_server_disconnect (forum->server);
  g_object_unref (forum->server);
  g_ptr_array_unref (forum->topics);
  g_ptr_array_unref (forum->faults);
  g_ptr_array_unref (forum->requests);
  g_free (forum->base_url);
  g_free (forum);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Forum, forum_free)

static void
forum_add_fault_after (Forum      *forum,
                       const char *prefix,
                       FaultKind   kind,
                       guint       count,
                       guint       skip)
{
  Fault *fault = g_new0 (Fault, 1);

  fault->prefix = g_strdup (prefix);
  fault->kind = kind;
  fault->count = count;
  fault->skip = skip;
  g_ptr_array_add (forum->faults, fault);
}

static void
forum_add_fault (Forum      *forum,
                 const char *prefix,
                 FaultKind   kind,
                 guint       count)
{
  forum_add_fault_after (forum, prefix, kind, count, 0);
}

static guint
forum_count_requests (Forum      *forum,
                      const char *prefix)
{
  guint count = 0;

  for (guint i = 0; i < forum->requests->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (forum->requests, i), prefix))
      count++;

  return count;
}

#define BIG_TOPIC    105
#define CLOSED_TOPIC 110
#define STAFF_TOPIC  120
#define PINNED_TOPIC 199

/* Topics 100… in three categories (3 is a subcategory of 1): one of 45 posts, one
 * closed, one where staff spoke last, one pinned and old; posts in HTML with links, a
 * whisper and a "closed the topic" small action. */
static void
forum_seed_n (Forum *forum,
              int    n_topics)
{
  for (int i = 0; i < n_topics; i++)
    {
      gint64 id = 100 + i;
      gint64 category = i % 5 == 0 ? 2 : i % 3 == 0 ? 3 : 1;
      g_autofree char *title = g_strdup_printf ("Question number %d", i);
      g_autofree char *customer = g_strdup_printf ("customer%d", i % 7);
      CannedTopic *topic = forum_add_topic (forum, id, title, category);
      int n_posts = id == BIG_TOPIC ? 45 : 2 + i % 3;

      if (id == BIG_TOPIC)
        topic->category_id = 1;

      for (int p = 0; p < n_posts; p++)
        {
          g_autofree char *cooked = NULL;
          gboolean staff = p % 2 == 1;

          if (p == 0)
            cooked = g_strdup_printf ("<p>Hello, I need <strong>help</strong> with item %d. "
                                      "See <a href=\"https://example.com/t/%d\">my screenshot</a>."
                                      "</p><script>alert(1)</script>", i, i);
          else
            cooked = g_strdup_printf ("<p>Reply %d of topic %d</p><ul><li>one</li><li>two</li></ul>",
                                      p, i);

          forum_add_post (forum, topic, staff ? "alice" : customer, staff, cooked, forum_tick (forum));
        }

      if (id == CLOSED_TOPIC)
        {
          CannedPost *action = forum_add_post (forum, topic, "alice", TRUE, "", forum_tick (forum));

          action->post_type = 3;
          topic->closed = TRUE;
        }

      if (id == STAFF_TOPIC)
        {
          CannedPost *whisper;

          forum_add_post (forum, topic, "alice", TRUE, "<p>We are on it.</p>", forum_tick (forum));
          whisper = forum_add_post (forum, topic, "alice", TRUE, "<p>Internal: ask billing.</p>",
                                    forum_tick (forum));
          whisper->post_type = 4;
        }
    }

  {
    CannedTopic *pinned = forum_add_topic (forum, PINNED_TOPIC, "Read this first", 1);

    forum->clock -= 40LL * 24 * 3600 * 1000;
    forum_add_post (forum, pinned, "alice", TRUE, "<p>Welcome!</p>", forum_tick (forum));
    pinned->pinned = TRUE;
    forum->clock += 40LL * 24 * 3600 * 1000;
  }
}

/* Seventy topics and the pinned one: three pages of 30. */
static void
forum_seed (Forum *forum)
{
  forum_seed_n (forum, 70);
}

/* Twenty-five and the pinned one: three pages of ten, for tests that run often. */
static void
forum_seed_small (Forum *forum)
{
  forum->per_page = 10;
  forum_seed_n (forum, 25);
}

/* }}} */

/* {{{ Stores, and the engine's loop */

typedef struct
{
  FdStore *store;
  gint64   account_id;
} TestStore;

static gboolean
insert_account_job (sqlite3   *db,
                    gpointer   job_data,
                    gpointer  *result,
                    GError   **error)
{
  gint64 *account_id = job_data;

  if (!fd_store_exec (db, "INSERT INTO accounts (uid, kind, name, base_url, created_at) "
                          "VALUES ('acct-discourse', 'discourse', 'Forum', 'http://127.0.0.1', 0)",
                      error))
    return FALSE;

  *account_id = sqlite3_last_insert_rowid (db);
  return TRUE;
}

static TestStore *
test_store_new (const char *name)
{
  TestStore *ts = g_new0 (TestStore, 1);
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "frontdesk", NULL);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  path = g_build_filename (dir, name, NULL);

  ts->store = fd_store_new (path);
  g_assert_true (fd_store_open_sync (ts->store, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (fd_store_run_sync (ts->store, insert_account_job, &ts->account_id, NULL, &error));
  g_assert_no_error (error);

  return ts;
}

static void
test_store_free (TestStore *ts)
{
  fd_store_close (ts->store);
  g_assert_finalize_object (ts->store);
  g_free (ts);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestStore, test_store_free)

typedef struct
{
  gint64       account_id;
  FdSyncBatch *batch;
  FdSyncStats *stats;
  char        *cursor;
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

static gboolean
cursor_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  ApplyJob *job = job_data;

  return fd_sync_state_get_cursor (db, job->account_id, STREAM, &job->cursor, error);
}

static char *
test_store_get_cursor (TestStore *ts)
{
  ApplyJob job = { .account_id = ts->account_id };
  g_autoptr(GError) error = NULL;

  g_assert_true (fd_store_run_sync (ts->store, cursor_job, &job, NULL, &error));
  g_assert_no_error (error);

  return job.cursor;
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static FdSyncBatch *
fetch (FdChannel   *channel,
       const char  *cursor,
       gboolean    *has_more,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_channel_fetch_async (channel, cursor, NULL, result_cb, &result);
  return fd_channel_fetch_finish (channel, wait_result (&result), has_more, error);
}

/* One fetch from the stored cursor, applied with its cursor in one transaction. */
static gboolean
sync_step (FdChannel    *channel,
           TestStore    *ts,
           gboolean     *has_more,
           FdSyncStats  *stats,
           GError      **error)
{
  g_autofree char *cursor = test_store_get_cursor (ts);
  g_autoptr(FdSyncBatch) batch = NULL;
  ApplyJob job = { .account_id = ts->account_id, .stats = stats };

  batch = fetch (channel, cursor, has_more, error);
  if (batch == NULL)
    return FALSE;

  g_assert_nonnull (batch->cursor);
  job.batch = batch;
  return fd_store_run_sync (ts->store, apply_job, &job, NULL, error);
}

/* What the engine does: fetch and apply until the sync is complete. */
static gboolean
sync_all (FdChannel    *channel,
          TestStore    *ts,
          FdSyncStats  *stats,
          GError      **error)
{
  FdSyncStats local = { 0 };
  gboolean has_more = TRUE;

  for (guint steps = 0; has_more; steps++)
    {
      g_assert_cmpuint (steps, <, 1000);
      if (!sync_step (channel, ts, &has_more, stats != NULL ? stats : &local, error))
        return FALSE;
    }

  return TRUE;
}

typedef struct
{
  const char *sql;
  GString    *out;
} DumpJob;

static gboolean
dump_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  DumpJob *job = job_data;
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, job->sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          const char *text = (const char *) sqlite3_column_text (stmt, i);

          g_string_append (job->out, text != NULL ? text : "NULL");
          g_string_append_c (job->out, i + 1 < sqlite3_column_count (stmt) ? '|' : '\n');
        }
    }

  return rc == SQLITE_DONE || fd_store_set_error (db, rc, error);
}

static char *
query (TestStore  *ts,
       const char *sql)
{
  DumpJob job = { sql, g_string_new (NULL) };
  g_autoptr(GError) error = NULL;

  g_assert_true (fd_store_run_sync (ts->store, dump_job, &job, NULL, &error));
  g_assert_no_error (error);

  /* Single values without their line end, for comparisons. */
  if (job.out->len > 0 && job.out->str[job.out->len - 1] == '\n')
    g_string_truncate (job.out, job.out->len - 1);

  return g_string_free (job.out, FALSE);
}

static void
exec_sql (TestStore  *ts,
          const char *sql)
{
  g_free (query (ts, sql));
}

static gint64
query_int (TestStore  *ts,
           const char *sql)
{
  g_autofree char *text = query (ts, sql);

  return g_ascii_strtoll (text, NULL, 10);
}

/* Everything a sync writes that must not depend on how it got there. */
static char *
dump_store (TestStore *ts)
{
  g_autofree char *conversations =
    query (ts, "SELECT c.external_id, c.channel, c.subject, c.status, c.created_at, "
               "  coalesce(ct.external_id, '-'), "
               "  (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) "
               "FROM conversations c LEFT JOIN contacts ct ON ct.id = c.contact_id "
               "ORDER BY c.external_id");
  g_autofree char *messages =
    query (ts, "SELECT c.external_id, m.external_id, m.author_kind, m.author_name, m.is_note, "
               "  m.created_at, m.body, coalesce(a.external_id, ct.external_id, '-') "
               "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
               "LEFT JOIN agents a ON m.author_kind = 'agent' AND a.id = m.author_id "
               "LEFT JOIN contacts ct ON m.author_kind = 'contact' AND ct.id = m.author_id "
               "ORDER BY m.external_id");
  g_autofree char *people =
    query (ts, "SELECT 'agent', external_id, name FROM agents "
               "UNION ALL SELECT 'contact', external_id, name FROM contacts ORDER BY 1, 2");

  return g_strconcat (conversations, "\n--\n", messages, "\n--\n", people, NULL);
}

static FdChannel *
forum_channel (Forum              *forum,
               const char * const *categories)
{
  FdChannel *channel = fd_discourse_channel_new (forum->base_url, API_KEY, API_USERNAME, categories);

  /* Quick retries: a test waits milliseconds, not seconds. */
  fd_http_client_set_retry (fd_discourse_channel_get_http_client (FD_DISCOURSE_CHANNEL (channel)),
                            3, 1, 5);
  return channel;
}

/* }}} */

/* {{{ Canned server tests */

static void
test_first_sync (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(TestStore) ts = test_store_new ("first.db");
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *bodies = NULL;
  g_autofree char *cursor = NULL;
  FdSyncStats stats = { 0 };

  forum_seed (forum);
  channel = forum_channel (forum, NULL);

  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);

  /* Every topic, with every post but the small action; three pages, three batches. */
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations"), ==, 71);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations WHERE channel = 'community'"), ==, 71);
  g_assert_cmpuint (stats.conversations_new, ==, 71);
  g_assert_cmpuint (forum_count_requests (forum, "GET /latest.json"), ==, 3);
  g_assert_cmpuint (forum_count_requests (forum, "GET /categories.json"), ==, 0);

  /* The big topic: 20 posts with the topic, 25 more in chunks of 20 and 5, in order. */
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages m JOIN conversations c "
                                  "ON c.id = m.conversation_id WHERE c.external_id = 'topic:105'"), ==, 45);
  g_assert_cmpuint (forum_count_requests (forum, "GET /t/105/posts.json"), ==, 2);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==,
                   query_int (ts, "SELECT count(DISTINCT external_id) FROM messages"));

  /* HTML became text: no tags, no script, links as "label (url)". */
  bodies = query (ts, "SELECT group_concat(body, '\n') FROM messages");
  g_assert_null (strchr (bodies, '<'));
  g_assert_null (strstr (bodies, "alert"));
  g_assert_nonnull (strstr (bodies, "my screenshot (https://example.com/t/0)"));
  {
    g_autofree char *first = query (ts, "SELECT m.body FROM messages m JOIN conversations c "
                                        "ON c.id = m.conversation_id WHERE c.external_id = 'topic:100' "
                                        "ORDER BY m.created_at LIMIT 1");
    g_assert_cmpstr (first, ==, "Hello, I need help with item 0. See my screenshot (https://example.com/t/0).");
  }

  /* Staff are agents, everyone else contacts, named and keyed by username; no emails. */
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM agents"), ==, 1);
  {
    g_autofree char *agent = query (ts, "SELECT external_id || ' ' || name FROM agents");
    g_assert_cmpstr (agent, ==, "user:alice Alice Person");
  }
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM contacts"), ==, 7);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM contacts WHERE email IS NOT NULL"), ==, 0);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages WHERE author_kind = 'agent' "
                                  "AND author_id IS NULL"), ==, 0);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages WHERE author_kind = 'contact' "
                                  "AND author_id IS NULL"), ==, 0);
  {
    g_autofree char *contact = query (ts, "SELECT ct.external_id FROM conversations c JOIN contacts ct "
                                          "ON ct.id = c.contact_id WHERE c.external_id = 'topic:103'");
    g_assert_cmpstr (contact, ==, "user:customer3");
  }

  /* Closed → resolved; staff last → pending; a customer last → open. The whisper is a
   * note; the small action is not a message. */
  {
    g_autofree char *closed = query (ts, "SELECT status FROM conversations WHERE external_id = 'topic:110'");
    g_autofree char *staff = query (ts, "SELECT status FROM conversations WHERE external_id = 'topic:120'");
    g_autofree char *customer = query (ts, "SELECT status FROM conversations WHERE external_id = 'topic:101'");
    g_autofree char *subject = query (ts, "SELECT subject FROM conversations WHERE external_id = 'topic:100'");

    g_assert_cmpstr (closed, ==, "resolved");
    g_assert_cmpstr (staff, ==, "pending");
    g_assert_cmpstr (customer, ==, "open");
    g_assert_cmpstr (subject, ==, "Question number 0");
  }
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages WHERE is_note = 1"), ==, 1);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages m JOIN conversations c "
                                  "ON c.id = m.conversation_id WHERE c.external_id = 'topic:110'"), ==, 3);

  /* Times are UTC milliseconds from the ISO 8601 strings. */
  {
    CannedTopic *topic = forum_find_topic (forum, 100);
    CannedPost *post = g_ptr_array_index (topic->posts, 0);
    g_autofree char *sql = g_strdup_printf ("SELECT created_at FROM messages WHERE external_id = "
                                            "'post:%" G_GINT64_FORMAT "'", post->id);

    g_assert_cmpint (query_int (ts, sql), ==, post->created_at);
  }

  /* The finished sync leaves a cursor with a watermark and no position. */
  cursor = test_store_get_cursor (ts);
  g_assert_nonnull (strstr (cursor, "\"watermark\""));
  g_assert_null (strstr (cursor, "\"page\""));
}

static void
test_categories (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(TestStore) ts = test_store_new ("categories.db");
  g_autoptr(TestStore) step_by_step = test_store_new ("categories-steps.db");
  g_autoptr(TestStore) switching = test_store_new ("categories-switch.db");
  g_autoptr(TestStore) none = test_store_new ("categories-none.db");
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(FdChannel) missing = NULL;
  g_autoptr(GError) error = NULL;
  const char * const support[] = { "1", NULL };
  const char * const nowhere[] = { "77", "not-a-number", NULL };
  FdSyncStats stats = { 0 };
  gint64 expected = 0;

  forum_seed_small (forum);
  for (guint i = 0; i < forum->topics->len; i++)
    {
      CannedTopic *topic = g_ptr_array_index (forum->topics, i);

      expected += topic->category_id == 1 || topic->category_id == 3;
    }

  /* Support and its subcategory Billing, each from its own list; not the Lounge. Each
   * topic is fetched once, though Support's list shows Billing's topics too. */
  channel = forum_channel (forum, support);
  g_assert_true (sync_all (channel, ts, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations"), ==, expected);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations WHERE external_id = 'topic:100'"), ==, 0);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations WHERE external_id = 'topic:103'"), ==, 1);
  g_assert_cmpuint (forum_count_requests (forum, "GET /categories.json"), ==, 1);
  g_assert_cmpuint (forum_count_requests (forum, "GET /latest.json"), ==, 0);
  g_assert_cmpuint (forum_count_requests (forum, "GET /c/support/1.json?order=activity"), >=, 1);
  g_assert_cmpuint (forum_count_requests (forum, "GET /c/billing/3.json?order=activity"), ==, 1);
  for (guint i = 0; i < forum->topics->len; i++)
    {
      CannedTopic *topic = g_ptr_array_index (forum->topics, i);
      g_autofree char *prefix = g_strdup_printf ("GET /t/%" G_GINT64_FORMAT ".json", topic->id);

      g_assert_cmpuint (forum_count_requests (forum, prefix), ==, in_category (topic, 1) ? 1 : 0);
    }

  /* Quiet: the categories, and the first page of each list. */
  g_ptr_array_set_size (forum->requests, 0);
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (forum->requests->len, ==, 3);
  g_assert_cmpuint (stats.conversations_updated + stats.messages_new, ==, 0);

  /* A post in a Billing topic: fetched once, from Billing's list. */
  forum_add_post (forum, forum_find_topic (forum, 103), "customer3", FALSE, "<p>Still charged twice.</p>",
                  forum_now (forum));
  g_ptr_array_set_size (forum->requests, 0);
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.messages_new, ==, 1);
  g_assert_cmpuint (forum_count_requests (forum, "GET /t/"), ==, 1);

  /* A first sync one fetch at a time, each by a new channel as after a restart: the
   * same as the uninterrupted one. */
  {
    gboolean has_more = TRUE;
    g_autofree char *expected_dump = dump_store (ts);
    g_autofree char *actual_dump = NULL;

    while (has_more)
      {
        g_autoptr(FdChannel) fresh = forum_channel (forum, support);

        g_assert_true (sync_step (fresh, step_by_step, &has_more, NULL, &error));
        g_assert_no_error (error);
      }
    actual_dump = dump_store (step_by_step);
    g_assert_cmpstr (actual_dump, ==, expected_dump);
  }

  /* The Lounge chosen too: only its list is read in full; the others go on from their
   * watermarks. */
  {
    const char * const more_categories[] = { "1", "2", NULL };
    g_autoptr(FdChannel) wider = forum_channel (forum, more_categories);

    g_ptr_array_set_size (forum->requests, 0);
    memset (&stats, 0, sizeof stats);
    g_assert_true (sync_all (wider, ts, &stats, &error));
    g_assert_no_error (error);
    g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations"), ==, forum->topics->len);
    g_assert_cmpuint (stats.conversations_new, ==, forum->topics->len - expected);
    g_assert_cmpuint (stats.conversations_updated, ==, 0);
  }

  /* Other categories chosen in the middle of a pass: it goes on with those. */
  {
    const char * const lounge[] = { "2", NULL };
    g_autoptr(FdChannel) switched = forum_channel (forum, lounge);
    g_autofree char *cursor = NULL;
    gboolean has_more = FALSE;
    gint64 lounge_topics = 0;

    for (guint i = 0; i < forum->topics->len; i++)
      lounge_topics += ((CannedTopic *) g_ptr_array_index (forum->topics, i))->category_id == 2;

    g_assert_true (sync_step (channel, switching, &has_more, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (has_more);
    g_assert_cmpint (query_int (switching, "SELECT count(*) FROM conversations"), >, 0);
    exec_sql (switching, "DELETE FROM messages");
    exec_sql (switching, "DELETE FROM conversations");

    g_assert_true (sync_all (switched, switching, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpint (query_int (switching, "SELECT count(*) FROM conversations"), ==, lounge_topics);
    cursor = test_store_get_cursor (switching);
    g_assert_nonnull (strstr (cursor, "\"c/2\""));
    g_assert_null (strstr (cursor, "\"c/1\""));
    g_assert_null (strstr (cursor, "\"pass\""));
  }

  /* Categories that do not exist: a plain error, never the whole forum. */
  missing = forum_channel (forum, nowhere);
  g_assert_false (sync_all (missing, none, NULL, &error));
  g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "categories"));
  g_assert_cmpint (query_int (none, "SELECT count(*) FROM conversations"), ==, 0);
}

static void
test_incremental (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(TestStore) ts = test_store_new ("incremental.db");
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(GError) error = NULL;
  FdSyncStats stats = { 0 };
  CannedTopic *topic;
  CannedPost *post;
  g_autofree char *sql = NULL;
  g_autofree char *body = NULL;
  g_autofree char *status = NULL;

  forum_seed_small (forum);
  channel = forum_channel (forum, NULL);
  g_assert_true (sync_all (channel, ts, NULL, &error));
  g_assert_no_error (error);

  /* Nothing new: one request for the first page, nothing fetched, nothing changed. */
  g_ptr_array_set_size (forum->requests, 0);
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (forum->requests->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (forum->requests, 0), ==, "GET /latest.json?order=activity");
  g_assert_cmpuint (stats.conversations_new + stats.conversations_updated + stats.messages_new, ==, 0);

  /* A customer writes in an old topic from the last page: it comes back to the top and
   * only it is fetched. */
  topic = forum_find_topic (forum, 101);
  post = forum_add_post (forum, topic, "customer1", FALSE, "<p>Any news?</p>", forum_now (forum));
  g_ptr_array_set_size (forum->requests, 0);
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.messages_new, ==, 1);
  g_assert_cmpuint (stats.conversations_updated, ==, 1);
  g_assert_cmpuint (forum_count_requests (forum, "GET /latest.json"), ==, 1);
  g_assert_cmpuint (forum_count_requests (forum, "GET /t/"), ==, 1);
  g_assert_cmpuint (forum_count_requests (forum, "GET /t/101.json"), ==, 1);

  sql = g_strdup_printf ("SELECT body FROM messages WHERE external_id = 'post:%" G_GINT64_FORMAT "'", post->id);
  body = query (ts, sql);
  g_assert_cmpstr (body, ==, "Any news?");
  status = query (ts, "SELECT status FROM conversations WHERE external_id = 'topic:101'");
  g_assert_cmpstr (status, ==, "open");

  /* And quiet again afterwards. */
  g_ptr_array_set_size (forum->requests, 0);
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_cmpuint (forum->requests->len, ==, 1);
  g_assert_cmpuint (stats.messages_new + stats.conversations_updated, ==, 0);
}

/* A topic bumped while a first sync walks later pages jumps behind the walk; the pass
 * must not move the watermark past it. */
static void
test_bumped_during_first_sync (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(TestStore) ts = test_store_new ("bumped.db");
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  gboolean has_more = FALSE;
  CannedPost *post;

  forum_seed_small (forum);
  channel = forum_channel (forum, NULL);

  /* Page 0, stored. */
  g_assert_true (sync_step (channel, ts, &has_more, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (has_more);

  /* Topic 101 sits on the last page; a new post takes it to page 0. */
  post = forum_add_post (forum, forum_find_topic (forum, 101), "customer1", FALSE,
                         "<p>Bumped mid-sync</p>", forum_now (forum));

  /* A restart in between: a new channel resumes from the stored cursor. The pass
   * walks on from page 1 and never meets the topic again. */
  g_clear_object (&channel);
  channel = forum_channel (forum, NULL);
  g_assert_true (sync_all (channel, ts, NULL, &error));
  g_assert_no_error (error);
  sql = g_strdup_printf ("SELECT count(*) FROM messages WHERE external_id = 'post:%" G_GINT64_FORMAT "'",
                         post->id);
  g_assert_cmpint (query_int (ts, sql), ==, 0);

  /* The next sync starts from the watermark of the pass's start, so it is picked up. */
  g_assert_true (sync_all (channel, ts, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (ts, sql), ==, 1);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations"), ==, 26);
}

/* Split batches: a page cut part-way through when it holds too many posts. */
static void
test_batch_limit (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(TestStore) reference = test_store_new ("limit-reference.db");
  g_autoptr(TestStore) ts = test_store_new ("limit.db");
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *actual = NULL;
  guint steps = 0;
  gboolean has_more = TRUE;
  gboolean saw_position = FALSE;

  forum_seed_small (forum);
  channel = forum_channel (forum, NULL);
  g_assert_true (sync_all (channel, reference, NULL, &error));
  g_assert_no_error (error);

  /* A limit of one post: each batch is the four topics fetched at once, no more. */
  g_clear_object (&channel);
  channel = forum_channel (forum, NULL);
  fd_discourse_channel_set_batch_limit (FD_DISCOURSE_CHANNEL (channel), 1);

  while (has_more)
    {
      g_autofree char *cursor = test_store_get_cursor (ts);
      g_autoptr(FdSyncBatch) batch = NULL;
      ApplyJob job = { .account_id = ts->account_id };

      batch = fetch (channel, cursor, &has_more, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (batch->conversations->len, <=, 4);
      saw_position |= strstr (batch->cursor, "\"after\"") != NULL;
      job.batch = batch;
      g_assert_true (fd_store_run_sync (ts->store, apply_job, &job, NULL, &error));
      g_assert_no_error (error);
      steps++;
    }

  g_assert_true (saw_position);
  g_assert_cmpuint (steps, ==, 3 + 3 + 2);

  expected = dump_store (reference);
  actual = dump_store (ts);
  g_assert_cmpstr (actual, ==, expected);
}

typedef struct
{
  const char *prefix;
  FaultKind   kind;
  gboolean    parses;   /* a 200 with JSON of the wrong shape is not retried */
} FaultCase;

static void
test_faults (void)
{
  static const FaultCase cases[] = {
    { "/latest.json", FAULT_RATE_LIMIT, FALSE },
    { "/latest.json", FAULT_SERVER, FALSE },
    { "/latest.json", FAULT_TRUNCATE, FALSE },
    { "/latest.json", FAULT_GARBLED, FALSE },
    { "/latest.json", FAULT_DROP, FALSE },
    { "/latest.json", FAULT_WRONG_SHAPE, TRUE },
    { "/t/105.json", FAULT_SERVER, FALSE },
    { "/t/105/posts.json", FAULT_TRUNCATE, FALSE },
    { "/t/105/posts.json", FAULT_DROP, FALSE },
    { "/t/112.json", FAULT_GARBLED, FALSE },
  };
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(TestStore) reference = test_store_new ("faults-reference.db");
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;

  /* Kept small for the sanitizer run: 26 topics, three pages of ten. */
  forum->per_page = 10;
  forum_seed_n (forum, 25);
  channel = forum_channel (forum, NULL);
  g_assert_true (sync_all (channel, reference, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (forum_count_requests (forum, "GET /latest.json"), ==, 3);
  expected = dump_store (reference);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("faults-%u.db", i);
      g_autoptr(TestStore) ts = test_store_new (name);
      g_autofree char *actual = NULL;
      gboolean has_more = TRUE;
      gboolean failed = FALSE;
      gboolean recovered = FALSE;

      g_test_message ("fault %u on %s", cases[i].kind, cases[i].prefix);
      g_ptr_array_set_size (forum->faults, 0);

      for (guint steps = 0; has_more; steps++)
        {
          g_autofree char *cursor_before = test_store_get_cursor (ts);
          gint64 messages_before = query_int (ts, "SELECT count(*) FROM messages");

          /* From the second page on, a fault that outlasts the client's retries. */
          if (steps == 1)
            forum_add_fault (forum, cases[i].prefix, cases[i].kind, 1000);

          if (!sync_step (channel, ts, &has_more, NULL, &error))
            {
              g_autofree char *cursor_after = test_store_get_cursor (ts);

              /* Failed cleanly: a plain message, nothing of the page stored, the
               * cursor where it was. */
              g_assert_true (error->domain == FD_HTTP_ERROR);
              g_assert_null (strchr (error->message, '{'));
              g_clear_error (&error);
              g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==, messages_before);
              g_assert_cmpstr (cursor_after, ==, cursor_before);
              g_ptr_array_set_size (forum->faults, 0);
              has_more = TRUE;

              /* The same fault once more, for the resumed fetch: the client's retries
               * get past it. A 200 with the wrong shape is not retried: the fetch fails
               * again, and only a clean answer goes on. */
              if (!failed)
                {
                  forum_add_fault (forum, cases[i].prefix, cases[i].kind, 1);
                  failed = TRUE;
                  recovered = !cases[i].parses;
                }
              continue;
            }
        }

      g_assert_true (failed);
      g_assert_cmpuint (forum->faults->len, <=, 1);
      if (recovered)
        g_assert_cmpuint (((Fault *) g_ptr_array_index (forum->faults, 0))->count, ==, 0);

      actual = dump_store (ts);
      g_assert_cmpstr (actual, ==, expected);
    }
}

/* A topic that does not parse as a topic is skipped; the rest is stored. */
static void
test_malformed_topic (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(TestStore) ts = test_store_new ("malformed.db");
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(GError) error = NULL;

  forum_seed_small (forum);
  forum_find_topic (forum, 112)->broken = TRUE;
  channel = forum_channel (forum, NULL);

  g_assert_true (sync_all (channel, ts, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations"), ==, 25);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations WHERE external_id = 'topic:112'"), ==, 0);
}

static void
test_bad_cursor (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(FdChannel) channel = forum_channel (forum, NULL);
  const char *cursors[] = {
    "not json",
    "[]",
    "{\"version\": 1, \"watermark\": 0}",
    "{\"version\": 2}",
    "{\"version\": 2, \"lists\": [{\"list\": \"latest\", \"watermark\": -5}]}",
    "{\"version\": 2, \"lists\": [{\"list\": \"latest\", \"watermark\": \"yesterday\"}]}",
    "{\"version\": 2, \"lists\": [{\"list\": \"latest\", \"watermark\": 5, \"watermark_ids\": [\"x\"]}]}",
    "{\"version\": 2, \"lists\": [{\"list\": \"latest\", \"watermark\": 5}, "
    " {\"list\": \"latest\", \"watermark\": 6}]}",
    "{\"version\": 2, \"lists\": [], \"pass\": {\"list\": \"latest\", \"page\": 3}}",
    "{\"version\": 2, \"lists\": [], \"pass\": {\"list\": \"latest\", \"page\": -1, "
    " \"next_watermark\": 0}}",
    "{\"version\": 2, \"lists\": [], \"pass\": {\"page\": 0}}",
    "{\"version\": 2, \"lists\": [], \"pass\": {\"list\": \"latest\", \"page\": 0, \"done\": [1]}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cursors); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FdSyncBatch) batch = NULL;
      gboolean has_more = TRUE;

      batch = fetch (channel, cursors[i], &has_more, &error);
      g_assert_null (batch);
      g_assert_false (has_more);
      g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR);
    }

  g_assert_cmpuint (forum->requests->len, ==, 0);
}

static void
test_auth_error (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(FdSyncBatch) batch = NULL;
  g_autoptr(GError) error = NULL;

  forum_seed_small (forum);
  channel = fd_discourse_channel_new (forum->base_url, "wrong-key-0123456789", API_USERNAME, NULL);
  batch = fetch (channel, NULL, NULL, &error);

  g_assert_null (batch);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "Discourse"));
  g_assert_null (strchr (error->message, '{'));
  g_assert_null (strstr (error->message, "wrong-key"));
}

static char *
send_item (FdChannel           *channel,
           const FdOutboxItem  *item,
           GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fd_channel_send_async (channel, item, NULL, result_cb, &result);
  return fd_channel_send_finish (channel, wait_result (&result), error);
}

static FdOutboxItem *
reply_item (gint64      topic_id,
            const char *body)
{
  FdOutboxItem *item = g_new0 (FdOutboxItem, 1);

  item->kind = FD_OUTBOX_REPLY;
  item->conversation_external_id = g_strdup_printf ("topic:%" G_GINT64_FORMAT, topic_id);
  item->idempotency_key = g_uuid_string_random ();
  item->body = g_strdup (body);

  return item;
}

static void
test_reply (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(TestStore) ts = test_store_new ("reply.db");
  g_autoptr(FdChannel) channel = NULL;
  g_autoptr(FdOutboxItem) item = reply_item (101, "Thanks for waiting, this is fixed in 2.3.\r\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *external_id = NULL;
  g_autofree char *expected_id = NULL;
  g_autofree char *sql = NULL;
  FdSyncStats stats = { 0 };
  CannedTopic *topic = NULL;
  CannedPost *post;
  guint n_posts;

  forum_seed_small (forum);
  topic = forum_find_topic (forum, 101);
  channel = forum_channel (forum, NULL);
  g_assert_true (sync_all (channel, ts, NULL, &error));

  n_posts = topic->posts->len;
  external_id = send_item (channel, item, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (topic->posts->len, ==, n_posts + 1);
  post = g_ptr_array_index (topic->posts, topic->posts->len - 1);
  expected_id = g_strdup_printf ("post:%" G_GINT64_FORMAT, post->id);
  g_assert_cmpstr (external_id, ==, expected_id);
  g_assert_cmpstr (post->username, ==, API_USERNAME);
  g_assert_cmpstr (post->raw, ==, "Thanks for waiting, this is fixed in 2.3.");
  g_assert_cmpuint (forum_count_requests (forum, "POST /posts.json"), ==, 1);

  /* The next sync brings it back once: one new message, and no second copy later. */
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.messages_new, ==, 1);
  sql = g_strdup_printf ("SELECT count(*) FROM messages WHERE external_id = '%s' AND author_kind = 'agent'",
                         external_id);
  g_assert_cmpint (query_int (ts, sql), ==, 1);
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_cmpuint (stats.messages_new, ==, 0);

  /* Resolved in Frontdesk after the reply (as where the key may not close topics): a
   * sync that brings the reply back keeps it so; a customer's answer reopens it. */
  {
    g_autoptr(FdOutboxItem) again = reply_item (101, "And one more thing about 2.3.");
    g_autofree char *status = NULL;
    g_autofree char *id = NULL;

    exec_sql (ts, "UPDATE conversations SET status = 'resolved' WHERE external_id = 'topic:101'");
    id = send_item (channel, again, &error);
    g_assert_no_error (error);
    g_assert_nonnull (id);
    g_assert_true (sync_all (channel, ts, NULL, &error));
    g_assert_no_error (error);
    status = query (ts, "SELECT status || ' ' || reopen_count FROM conversations "
                        "WHERE external_id = 'topic:101'");
    g_assert_cmpstr (status, ==, "resolved 0");

    forum_add_post (forum, topic, "customer1", FALSE, "<p>It is back.</p>", forum_now (forum));
    g_assert_true (sync_all (channel, ts, NULL, &error));
    g_clear_pointer (&status, g_free);
    status = query (ts, "SELECT status || ' ' || reopen_count FROM conversations "
                        "WHERE external_id = 'topic:101'");
    g_assert_cmpstr (status, ==, "open 1");

    /* Other staff answering on the forum: waiting on the customer. */
    forum_add_post (forum, topic, "alice", TRUE, "<p>Can you send a log?</p>", forum_now (forum));
    g_assert_true (sync_all (channel, ts, NULL, &error));
    g_clear_pointer (&status, g_free);
    status = query (ts, "SELECT status FROM conversations WHERE external_id = 'topic:101'");
    g_assert_cmpstr (status, ==, "pending");
    n_posts += 3;
  }

  /* The outbox sends the same item again (it never heard back): the same post. */
  {
    g_autofree char *again = send_item (channel, item, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (again, ==, external_id);
    g_assert_cmpuint (topic->posts->len, ==, n_posts + 1);
    g_assert_cmpuint (forum_count_requests (forum, "POST /posts.json"), ==, 2);
  }
}

static void
test_reply_faults (void)
{
  static const FaultKind kinds[] = { FAULT_TRUNCATE, FAULT_GARBLED, FAULT_DROP, FAULT_SERVER, FAULT_RATE_LIMIT };
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(FdChannel) channel = NULL;
  CannedTopic *topic;

  forum_seed_small (forum);
  topic = forum_find_topic (forum, 102);
  channel = forum_channel (forum, NULL);

  /* Each fault, against a forum that shows the Markdown source with the topic's posts
   * (Discourse, asked with include_raw), one that shows it only post by post, and one
   * that never does (only the rendered text can be compared then). */
  for (guint mode = 0; mode < 3; mode++)
    for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
      {
        g_autofree char *body = g_strdup_printf ("Reply %u.%u, after a *fault* on the way back.", mode, i);
        g_autoptr(FdOutboxItem) item = reply_item (102, body);
        g_autoptr(GError) error = NULL;
        g_autofree char *external_id = NULL;
        g_autofree char *expected_id = NULL;
        guint n_posts = topic->posts->len;
        CannedPost *post;

        g_test_message ("fault %u on POST /posts.json, source mode %u", kinds[i], mode);
        forum->ignore_include_raw = mode >= 1;
        forum->no_single_post = mode >= 2;
        g_ptr_array_set_size (forum->faults, 0);
        forum_add_fault (forum, "/posts.json", kinds[i], 1);

        /* Processed or not, exactly one post, and its id. */
        external_id = send_item (channel, item, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (topic->posts->len, ==, n_posts + 1);
        post = g_ptr_array_index (topic->posts, topic->posts->len - 1);
        expected_id = g_strdup_printf ("post:%" G_GINT64_FORMAT, post->id);
        g_assert_cmpstr (external_id, ==, expected_id);
        g_assert_cmpstr (post->raw, ==, body);
      }
  forum->ignore_include_raw = FALSE;
  forum->no_single_post = FALSE;

  /* Failing for good: an error in plain words, and still never two posts. */
  {
    g_autoptr(FdOutboxItem) item = reply_item (102, "This one keeps failing after it was posted.");
    g_autoptr(GError) error = NULL;
    g_autofree char *external_id = NULL;
    guint n_posts = topic->posts->len;
    guint n_requests = forum_count_requests (forum, "POST /posts.json");

    g_ptr_array_set_size (forum->faults, 0);
    forum_add_fault (forum, "/posts.json", FAULT_SERVER, 100);
    external_id = send_item (channel, item, &error);
    g_assert_null (external_id);
    g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER);
    g_assert_cmpuint (forum_count_requests (forum, "POST /posts.json"), ==, n_requests + 3);
    g_assert_cmpuint (topic->posts->len, ==, n_posts);
    g_clear_error (&error);

    /* Processed, but the answer is lost, and then the forum stops answering the
     * checks: the send fails, with the post there… */
    g_ptr_array_set_size (forum->faults, 0);
    forum_add_fault (forum, "/posts.json", FAULT_TRUNCATE, 1);
    forum_add_fault_after (forum, "/t/102", FAULT_SERVER, 100, 2);
    external_id = send_item (channel, item, &error);
    g_assert_null (external_id);
    g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER);
    g_clear_error (&error);
    g_assert_cmpuint (topic->posts->len, ==, n_posts + 1);

    /* …and the outbox's next try finds it instead of posting again. */
    g_ptr_array_set_size (forum->faults, 0);
    n_requests = forum_count_requests (forum, "POST /posts.json");
    external_id = send_item (channel, item, &error);
    g_assert_no_error (error);
    g_assert_nonnull (external_id);
    g_assert_cmpuint (topic->posts->len, ==, n_posts + 1);
    g_assert_cmpuint (forum_count_requests (forum, "POST /posts.json"), ==, n_requests);
    {
      CannedPost *post = g_ptr_array_index (topic->posts, topic->posts->len - 1);
      g_autofree char *expected_id = g_strdup_printf ("post:%" G_GINT64_FORMAT, post->id);

      g_assert_cmpstr (external_id, ==, expected_id);
    }
  }
}

static void
test_send_other_kinds (void)
{
  g_autoptr(Forum) forum = forum_new ();
  g_autoptr(FdChannel) channel = NULL;
  CannedTopic *topic;
  struct
  {
    FdOutboxKind kind;
    const char  *status;
  } unsupported[] = {
    { FD_OUTBOX_NOTE, NULL },
    { FD_OUTBOX_STATUS, "pending" },
    { FD_OUTBOX_STATUS, "snoozed" },
    { FD_OUTBOX_STATUS, "open" },
    { FD_OUTBOX_ASSIGN, NULL },
    { FD_OUTBOX_TAG, NULL },
    { FD_OUTBOX_UNTAG, NULL },
  };

  forum_seed_small (forum);
  topic = forum_find_topic (forum, 103);
  channel = forum_channel (forum, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (unsupported); i++)
    {
      g_autoptr(FdOutboxItem) item = g_new0 (FdOutboxItem, 1);
      g_autoptr(GError) error = NULL;
      g_autofree char *result = NULL;

      item->kind = unsupported[i].kind;
      item->conversation_external_id = g_strdup ("topic:103");
      item->status = g_strdup (unsupported[i].status);
      item->body = g_strdup ("A note");
      item->tag = g_strdup ("billing");
      result = send_item (channel, item, &error);
      g_assert_null (result);
      g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "Frontdesk only"));
    }
  g_assert_cmpuint (forum->requests->len, ==, 0);

  /* Resolved closes the topic… */
  {
    g_autoptr(FdOutboxItem) item = g_new0 (FdOutboxItem, 1);
    g_autoptr(GError) error = NULL;
    g_autofree char *result = NULL;

    item->kind = FD_OUTBOX_STATUS;
    item->conversation_external_id = g_strdup ("topic:103");
    item->status = g_strdup ("resolved");
    result = send_item (channel, item, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (result, ==, "");
    g_assert_true (topic->closed);
    g_assert_cmpuint (forum_count_requests (forum, "PUT /t/103/status.json"), ==, 1);

    /* …unless the key may not: then it stays a local status. */
    forum->forbid_close = TRUE;
    g_clear_pointer (&result, g_free);
    result = send_item (channel, item, &error);
    g_assert_null (result);
    g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "Frontdesk only"));
  }

  /* Not a topic, an empty reply, a deleted topic. */
  {
    g_autoptr(FdOutboxItem) item = reply_item (103, "  \n ");
    g_autoptr(GError) error = NULL;
    g_autofree char *result = NULL;

    result = send_item (channel, item, &error);
    g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
    g_clear_error (&error);

    g_free (item->conversation_external_id);
    item->conversation_external_id = g_strdup ("conversation:12");
    g_free (item->body);
    item->body = g_strdup ("Hello there, this is a reply.");
    result = send_item (channel, item, &error);
    g_assert_null (result);
    g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED);
    g_clear_error (&error);

    g_free (item->conversation_external_id);
    item->conversation_external_id = g_strdup ("topic:424242");
    result = send_item (channel, item, &error);
    g_assert_null (result);
    g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND);
  }
}

/* }}} */

/* {{{ Against the sandbox: the demo data set, served as Discourse */

/* One sandbox for all these tests: seeding the demo data set takes a while. */
static FdSandbox *sandbox;
static char *sandbox_dir;

static FdSandbox *
get_sandbox (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (sandbox != NULL)
    return sandbox;

  sandbox_dir = g_dir_make_tmp ("fd-discourse-sandbox-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (sandbox_dir, "sandbox.db", NULL);

  sandbox = fd_sandbox_new (path);
  g_assert_true (fd_sandbox_seed (sandbox, 1, FD_DEMO_SCALE_SMALL, &error));
  g_assert_no_error (error);
  g_assert_true (fd_sandbox_run_in_thread (sandbox, 0, &error));
  g_assert_no_error (error);

  return sandbox;
}

static void
free_sandbox (void)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (sandbox == NULL)
    return;

  fd_sandbox_stop (sandbox);
  g_clear_object (&sandbox);

  dir = g_dir_open (sandbox_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (sandbox_dir, name, NULL);

      g_remove (path);
    }
  g_rmdir (sandbox_dir);
  g_clear_pointer (&sandbox_dir, g_free);
}

/* The sandbox's own view of its data, read from its database file. */
static gint64
sandbox_query_int (const char *sql)
{
  g_autofree char *path = g_build_filename (sandbox_dir, "sandbox.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return value;
}

/* POST /_control/incoming: a customer writes on the forum. */
static JsonObject *
sandbox_incoming (const char *json)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (fd_sandbox_get_base_url (get_sandbox ()), "/_control/incoming", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) request = g_bytes_new (json, strlen (json));
  g_autoptr(GBytes) response = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  response = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (response, NULL),
                                             g_bytes_get_size (response), &error));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static FdChannel *
sandbox_channel (const char         *key,
                 const char * const *categories)
{
  g_autofree char *base = g_strconcat (fd_sandbox_get_base_url (get_sandbox ()), "/discourse", NULL);
  FdChannel *channel = fd_discourse_channel_new (base, key, FD_SANDBOX_DISCOURSE_USERNAME, categories);

  /* Quick retries, but the sandbox's Retry-After of a second is honoured. */
  fd_http_client_set_retry (fd_discourse_channel_get_http_client (FD_DISCOURSE_CHANNEL (channel)),
                            3, 1, 2000);
  return channel;
}

static char *
collapse_spaces (const char *text)
{
  g_auto(GStrv) words = g_strsplit_set (text, " \n\t", -1);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, words[i]);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_sandbox_sync_and_reply (void)
{
  FdSandbox *sb = get_sandbox ();
  g_autoptr(TestStore) ts = test_store_new ("sandbox.db");
  g_autoptr(FdChannel) channel = sandbox_channel (FD_SANDBOX_DISCOURSE_KEY, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *bodies = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *external_id = NULL;
  FdSyncStats stats = { 0 };
  gint64 topic_id;
  gint64 post_id;
  guint latest;
  guint topics;

  /* First sync: every community topic, every post. */
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM conversations WHERE channel = 'community'"), ==,
                   sandbox_query_int ("SELECT count(*) FROM sandbox_discourse_topics"));
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==,
                   sandbox_query_int ("SELECT count(*) FROM sandbox_discourse_posts"));
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==,
                   query_int (ts, "SELECT count(DISTINCT external_id) FROM messages"));

  /* Staff as agents, customers as contacts. */
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages WHERE author_kind = 'agent'"), ==,
                   sandbox_query_int ("SELECT count(*) FROM sandbox_discourse_posts p "
                                      "JOIN messages m ON m.id = p.id WHERE m.author_kind != 'contact'"));
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages WHERE author_kind = 'contact' "
                                  "AND author_id IS NOT NULL"), ==,
                   sandbox_query_int ("SELECT count(*) FROM sandbox_discourse_posts p "
                                      "JOIN messages m ON m.id = p.id WHERE m.author_kind = 'contact'"));
  g_assert_cmpint (query_int (ts, "SELECT count(*) FROM contacts WHERE external_id NOT LIKE 'user:%'"), ==, 0);

  /* Text, not HTML: no tags or entities left, the words as the customer wrote them. */
  bodies = query (ts, "SELECT group_concat(body, '\n') FROM messages");
  g_assert_null (strchr (bodies, '<'));
  g_assert_null (strstr (bodies, "&apos;"));
  g_assert_null (strstr (bodies, "&amp;"));
  for (gint64 i = 0; i < 20; i++)
    {
      g_autofree char *post_sql = g_strdup_printf ("SELECT p.id FROM sandbox_discourse_posts p "
                                                   "ORDER BY p.id LIMIT 1 OFFSET %" G_GINT64_FORMAT, i * 97);
      gint64 id = sandbox_query_int (post_sql);
      g_autofree char *ours_sql = g_strdup_printf ("SELECT body FROM messages WHERE external_id = "
                                                   "'post:%" G_GINT64_FORMAT "'", id);
      g_autofree char *ours = query (ts, ours_sql);
      g_autofree char *path = g_build_filename (sandbox_dir, "sandbox.db", NULL);
      g_autofree char *theirs = NULL;
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;
      sqlite3 *db = NULL;
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT coalesce(mk.content, m.body) FROM messages m "
                                               "LEFT JOIN sandbox_markup mk ON mk.message_id = m.id "
                                               "WHERE m.id = ?", -1, &stmt, NULL), ==, SQLITE_OK);
      sqlite3_bind_int64 (stmt, 1, id);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      theirs = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_finalize (stmt);
      sqlite3_close (db);

      a = collapse_spaces (ours);
      b = collapse_spaces (theirs);
      g_assert_cmpstr (a, ==, b);
    }

  /* Nothing new: the first page of the list, and nothing else. */
  latest = fd_sandbox_get_request_count (sb, "/discourse/latest.json");
  topics = fd_sandbox_get_request_count (sb, "/discourse/t/");
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fd_sandbox_get_request_count (sb, "/discourse/latest.json"), ==, latest + 1);
  g_assert_cmpuint (fd_sandbox_get_request_count (sb, "/discourse/t/"), ==, topics);
  g_assert_cmpuint (stats.conversations_new + stats.conversations_updated + stats.messages_new, ==, 0);

  /* A customer writes in an old topic: the next sync has it. */
  topic_id = sandbox_query_int ("SELECT id FROM sandbox_discourse_topics ORDER BY bumped_at LIMIT 1");
  {
    g_autofree char *json = g_strdup_printf ("{\"service\": \"discourse\", \"conversation_external_id\": "
                                             "\"%" G_GINT64_FORMAT "\", \"body\": \"Any news on this one?\"}",
                                             topic_id);
    reply = sandbox_incoming (json);
  }
  post_id = json_object_get_int_member (reply, "post_id");
  memset (&stats, 0, sizeof stats);
  g_assert_true (sync_all (channel, ts, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.messages_new, ==, 1);
  g_assert_cmpuint (stats.conversations_new, ==, 0);
  sql = g_strdup_printf ("SELECT body || '|' || author_kind FROM messages WHERE external_id = "
                         "'post:%" G_GINT64_FORMAT "'", post_id);
  {
    g_autofree char *row = query (ts, sql);
    g_assert_cmpstr (row, ==, "Any news on this one?|contact");
  }
  g_clear_pointer (&reply, json_object_unref);

  /* A new topic of 45 posts: the topic's first 20, then 20 and 5 by id. */
  reply = sandbox_incoming ("{\"service\": \"discourse\", \"new\": true, \"subject\": \"Exports time out\", "
                            "\"body\": \"Post 1: exports of large workspaces time out.\", \"category\": 8}");
  topic_id = json_object_get_int_member (reply, "topic_id");
  for (int i = 2; i <= 45; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"service\": \"discourse\", \"conversation_external_id\": "
                                               "\"%" G_GINT64_FORMAT "\", \"body\": \"Post %d of the thread.\"}",
                                               topic_id, i);
      g_autoptr(JsonObject) more = sandbox_incoming (json);
    }
  {
    g_autofree char *prefix = g_strdup_printf ("/discourse/t/%" G_GINT64_FORMAT "/posts.json", topic_id);
    g_autofree char *count_sql = g_strdup_printf ("SELECT count(*) FROM messages m JOIN conversations c "
                                                  "ON c.id = m.conversation_id WHERE c.external_id = "
                                                  "'topic:%" G_GINT64_FORMAT "'", topic_id);
    g_autofree char *last_sql = g_strdup_printf ("SELECT m.body FROM messages m JOIN conversations c "
                                                 "ON c.id = m.conversation_id WHERE c.external_id = "
                                                 "'topic:%" G_GINT64_FORMAT "' ORDER BY m.created_at DESC, "
                                                 "m.id DESC LIMIT 1", topic_id);
    g_autofree char *last = NULL;
    guint chunks = fd_sandbox_get_request_count (sb, prefix);

    memset (&stats, 0, sizeof stats);
    g_assert_true (sync_all (channel, ts, &stats, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (stats.conversations_new, ==, 1);
    g_assert_cmpuint (stats.messages_new, ==, 45);
    g_assert_cmpint (query_int (ts, count_sql), ==, 45);
    g_assert_cmpuint (fd_sandbox_get_request_count (sb, prefix), ==, chunks + 2);
    last = query (ts, last_sql);
    g_assert_cmpstr (last, ==, "Post 45 of the thread.");
  }

  /* A reply round trip: the post's id comes back, and the next sync does not add it again. */
  {
    g_autoptr(FdOutboxItem) item = reply_item (topic_id, "Thanks for the details. A fix for large "
                                                         "exports ships on Monday.");
    g_autofree char *count_sql = g_strdup_printf ("SELECT count(*) FROM sandbox_discourse_posts "
                                                  "WHERE topic_id = %" G_GINT64_FORMAT, topic_id);
    g_autofree char *expected = NULL;
    gint64 n_posts = sandbox_query_int (count_sql);

    external_id = send_item (channel, item, &error);
    g_assert_no_error (error);
    g_assert_cmpint (sandbox_query_int (count_sql), ==, n_posts + 1);
    expected = g_strdup_printf ("post:%" G_GINT64_FORMAT,
                                sandbox_query_int ("SELECT max(id) FROM sandbox_discourse_posts"));
    g_assert_cmpstr (external_id, ==, expected);

    memset (&stats, 0, sizeof stats);
    g_assert_true (sync_all (channel, ts, &stats, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (stats.messages_new, ==, 1);
    g_free (sql);
    sql = g_strdup_printf ("SELECT count(*) FROM messages WHERE external_id = '%s' AND author_kind = 'agent'",
                           external_id);
    g_assert_cmpint (query_int (ts, sql), ==, 1);
    memset (&stats, 0, sizeof stats);
    g_assert_true (sync_all (channel, ts, &stats, &error));
    g_assert_cmpuint (stats.messages_new, ==, 0);
  }

  /* The answer to a reply is lost on the way back (processed, then the connection
   * closes), or the request never arrives: one post either way, and a retry by the
   * outbox finds it instead of posting again. */
  {
    static const FdSandboxFaultKind kinds[] = {
      FD_SANDBOX_FAULT_TRUNCATE, FD_SANDBOX_FAULT_MALFORMED, FD_SANDBOX_FAULT_DROP,
      FD_SANDBOX_FAULT_SERVER_ERROR, FD_SANDBOX_FAULT_RATE_LIMIT,
    };
    g_autofree char *count_sql = g_strdup_printf ("SELECT count(*) FROM sandbox_discourse_posts "
                                                  "WHERE topic_id = %" G_GINT64_FORMAT, topic_id);

    for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
      {
        g_autofree char *body = g_strdup_printf ("Update %u: the fix is rolling out now.", i);
        g_autoptr(FdOutboxItem) item = reply_item (topic_id, body);
        g_autofree char *first = NULL;
        g_autofree char *again = NULL;
        gint64 n_posts = sandbox_query_int (count_sql);

        g_test_message ("sandbox fault %s on POST /posts.json", fd_sandbox_fault_kind_to_string (kinds[i]));
        fd_sandbox_clear_faults (sb);
        fd_sandbox_add_fault (sb, "/discourse/posts.json", kinds[i], 1, 0);
        first = send_item (channel, item, &error);
        g_assert_no_error (error);
        g_assert_nonnull (first);
        g_assert_cmpint (sandbox_query_int (count_sql), ==, n_posts + 1);

        fd_sandbox_clear_faults (sb);
        again = send_item (channel, item, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (again, ==, first);
        g_assert_cmpint (sandbox_query_int (count_sql), ==, n_posts + 1);
      }
  }

  /* The sandbox cannot close topics: the status stays in Frontdesk, said plainly. */
  {
    g_autoptr(FdOutboxItem) item = g_new0 (FdOutboxItem, 1);
    g_autofree char *result = NULL;

    item->kind = FD_OUTBOX_STATUS;
    item->conversation_external_id = g_strdup_printf ("topic:%" G_GINT64_FORMAT, topic_id);
    item->status = g_strdup ("resolved");
    result = send_item (channel, item, &error);
    g_assert_null (result);
    g_assert_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED);
    g_clear_error (&error);
  }
}

static void
test_sandbox_auth_error (void)
{
  g_autoptr(FdChannel) channel = sandbox_channel ("not-the-sandbox-key", NULL);
  g_autoptr(FdSyncBatch) batch = NULL;
  g_autoptr(GError) error = NULL;

  batch = fetch (channel, NULL, NULL, &error);
  g_assert_null (batch);
  g_assert_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "Discourse"));
  g_assert_nonnull (strstr (error->message, "invalid"));
  g_assert_null (strchr (error->message, '{'));
  g_assert_null (strstr (error->message, "not-the-sandbox-key"));
}

/* Faults in the middle of a first sync: the fetch that meets one that lasts fails
 * cleanly, with nothing stored and the cursor unchanged; one-off faults are recovered by
 * the client's retries; the sync, resumed from the stored cursor, ends with exactly what
 * an uninterrupted sync stores. One category (Feature Requests, two pages) keeps it quick. */
static void
test_sandbox_faults (void)
{
  typedef struct
  {
    const char         *prefix;
    FdSandboxFaultKind  kind;
  } SandboxFault;
  static const SandboxFault lasting[] = {
    { "/discourse/c/", FD_SANDBOX_FAULT_RATE_LIMIT },
    { "/discourse/c/", FD_SANDBOX_FAULT_SERVER_ERROR },
    { "/discourse/c/", FD_SANDBOX_FAULT_UNAVAILABLE },
    { "/discourse/c/", FD_SANDBOX_FAULT_TRUNCATE },
    { "/discourse/c/", FD_SANDBOX_FAULT_MALFORMED },
    { "/discourse/c/", FD_SANDBOX_FAULT_DROP },
    { "/discourse/t/", FD_SANDBOX_FAULT_SERVER_ERROR },
    { "/discourse/t/", FD_SANDBOX_FAULT_TRUNCATE },
    { "/discourse/t/", FD_SANDBOX_FAULT_MALFORMED },
    { "/discourse/t/", FD_SANDBOX_FAULT_DROP },
  };
  /* At most two a prefix and step: the client makes three attempts. */
  static const SandboxFault once[2][5] = {
    {
      { "/discourse/categories.json", FD_SANDBOX_FAULT_RATE_LIMIT },
      { "/discourse/c/", FD_SANDBOX_FAULT_SERVER_ERROR },
      { "/discourse/c/", FD_SANDBOX_FAULT_TRUNCATE },
      { "/discourse/t/", FD_SANDBOX_FAULT_MALFORMED },
      { "/discourse/t/", FD_SANDBOX_FAULT_UNAVAILABLE },
    },
    {
      { "/discourse/c/", FD_SANDBOX_FAULT_MALFORMED },
      { "/discourse/c/", FD_SANDBOX_FAULT_DROP },
      { "/discourse/t/", FD_SANDBOX_FAULT_DROP },
      { "/discourse/t/", FD_SANDBOX_FAULT_RATE_LIMIT },
      { NULL, 0 },
    },
  };
  const char * const feature_requests[] = { "9", NULL };
  FdSandbox *sb = get_sandbox ();
  g_autoptr(TestStore) reference = test_store_new ("sandbox-reference.db");
  g_autoptr(TestStore) ts = test_store_new ("sandbox-faults.db");
  g_autoptr(FdChannel) channel = sandbox_channel (FD_SANDBOX_DISCOURSE_KEY, feature_requests);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *actual = NULL;
  gboolean has_more = TRUE;
  guint steps;

  fd_sandbox_clear_faults (sb);
  g_assert_true (sync_all (channel, reference, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (reference, "SELECT count(*) FROM conversations"), ==,
                   sandbox_query_int ("SELECT count(*) FROM sandbox_discourse_topics WHERE category_id = 9"));
  expected = dump_store (reference);

  for (steps = 0; has_more; steps++)
    {
      guint requests = fd_sandbox_get_request_count (sb, "/discourse/");

      /* From the second page on, each lasting fault in turn. */
      for (guint i = 0; steps == 1 && i < G_N_ELEMENTS (lasting); i++)
        {
          g_autofree char *cursor_before = test_store_get_cursor (ts);
          g_autofree char *cursor_after = NULL;
          gint64 messages_before = query_int (ts, "SELECT count(*) FROM messages");

          g_test_message ("lasting %s on %s", fd_sandbox_fault_kind_to_string (lasting[i].kind),
                          lasting[i].prefix);
          fd_sandbox_add_fault (sb, lasting[i].prefix, lasting[i].kind, 0, 0);
          g_assert_false (sync_step (channel, ts, &has_more, NULL, &error));
          g_assert_true (error->domain == FD_HTTP_ERROR);
          g_assert_null (strchr (error->message, '{'));
          g_clear_error (&error);
          fd_sandbox_clear_faults (sb);

          cursor_after = test_store_get_cursor (ts);
          g_assert_cmpstr (cursor_after, ==, cursor_before);
          g_assert_cmpint (query_int (ts, "SELECT count(*) FROM messages"), ==, messages_before);
        }

      for (guint i = 0; steps < G_N_ELEMENTS (once) && i < G_N_ELEMENTS (once[steps]); i++)
        if (once[steps][i].prefix != NULL)
          fd_sandbox_add_fault (sb, once[steps][i].prefix, once[steps][i].kind, 1, 0);

      g_assert_true (sync_step (channel, ts, &has_more, NULL, &error));
      g_assert_no_error (error);
      fd_sandbox_clear_faults (sb);
      g_assert_cmpuint (fd_sandbox_get_request_count (sb, "/discourse/"), >, requests);
    }

  g_assert_cmpuint (steps, ==, 2);

  actual = dump_store (ts);
  g_assert_cmpstr (actual, ==, expected);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  int ret;

  /* Isolated folders hide the system's GSettings schemas, which GNOME's proxy resolver
   * needs; every server here is on loopback anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/discourse/canned/first-sync", test_first_sync);
  g_test_add_func ("/discourse/canned/categories", test_categories);
  g_test_add_func ("/discourse/canned/incremental", test_incremental);
  g_test_add_func ("/discourse/canned/bumped-during-first-sync", test_bumped_during_first_sync);
  g_test_add_func ("/discourse/canned/batch-limit", test_batch_limit);
  g_test_add_func ("/discourse/canned/faults", test_faults);
  g_test_add_func ("/discourse/canned/malformed-topic", test_malformed_topic);
  g_test_add_func ("/discourse/canned/bad-cursor", test_bad_cursor);
  g_test_add_func ("/discourse/canned/auth-error", test_auth_error);
  g_test_add_func ("/discourse/canned/reply", test_reply);
  g_test_add_func ("/discourse/canned/reply-faults", test_reply_faults);
  g_test_add_func ("/discourse/canned/other-kinds", test_send_other_kinds);
  g_test_add_func ("/discourse/sandbox/sync-and-reply", test_sandbox_sync_and_reply);
  g_test_add_func ("/discourse/sandbox/auth-error", test_sandbox_auth_error);
  g_test_add_func ("/discourse/sandbox/faults", test_sandbox_faults);

  ret = g_test_run ();
  free_sandbox ();

  return ret;
}
