/* fd-discourse-channel.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-discourse"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "fd-discourse-channel.h"
#include "fd-json.h"
#include "fd-text.h"

/* How a sync walks a forum
 *
 * Topics come from a topic list ordered by activity, newest first, a page at a time:
 * /latest.json for the whole forum, or /c/{slug}/{id}.json for each chosen category and
 * each of its subcategories, one after the other. Each page becomes one batch: the
 * changed topics on it, each fetched whole with /t/{id}.json (its first posts and the
 * ids of all of them) and /t/{id}/posts.json for the rest, 20 ids a call, up to four
 * topics at once.
 *
 * A pass walks every list once. A list never walked to its end is walked in full; after
 * that, a walk stops at the first unpinned topic whose bump is older than the list's
 * watermark. The watermark a walk leaves behind is not the newest activity it saw at its
 * end but the newest activity on its own first page, read when the walk began: a topic
 * bumped while the walk was on later pages moves to page 0, behind the walk, and must
 * still be newer than the next watermark. The cursor carries both the watermark a walk
 * works against and the one it will leave, so a walk resumed after a crash or an error
 * still fetches everything the interrupted one would have, and a watermark moves only
 * when its list has been walked to the end. Topics whose activity equals the watermark
 * exactly are told apart by id, so a quiet forum costs one request per list and sync,
 * and nothing is fetched twice.
 *
 * Watermarks come from the forum's own timestamps, never from our clock, so a wrong clock
 * on either side cannot open a gap. */

/* /t/{id}.json loads this many posts itself; /t/{id}/posts.json takes this many ids. */
#define POSTS_CHUNK          20
#define MAX_PARALLEL_TOPICS  4
#define DEFAULT_BATCH_LIMIT  1000
#define MAX_PAGES            100000
#define CURSOR_VERSION       2

/* A reply by us with the same text this recent is taken to be an earlier attempt. */
#define DUPLICATE_WINDOW_MS  (10 * 60 * 1000)
#define MAX_POST_ATTEMPTS    3
#define RESEND_DELAY_MS      250

/* Discourse's post types. */
enum
{
  POST_TYPE_REGULAR          = 1,
  POST_TYPE_MODERATOR_ACTION = 2,
  POST_TYPE_SMALL_ACTION     = 3,
  POST_TYPE_WHISPER          = 4,
};

struct _FdDiscourseChannel
{
  GObject       parent_instance;

  FdHttpClient *http;
  char         *api_username;
  GArray       *category_ids;        /* gint64: the categories chosen */
  gboolean      filter_categories;   /* FALSE: every category */
  GHashTable   *allowed_categories;  /* gint64 *: chosen and their subcategories; NULL until read */
  GHashTable   *category_slugs;      /* gint64 * → slug, of every category seen */
  guint         batch_limit;
};

static void fd_discourse_channel_iface_init (FdChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FdDiscourseChannel, fd_discourse_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FD_TYPE_CHANNEL,
                                                      fd_discourse_channel_iface_init))

/* {{{ JSON and time helpers: the network's JSON is never trusted to have a shape */

static JsonNode *
member (JsonObject *object,
        const char *name)
{
  return object != NULL ? json_object_get_member (object, name) : NULL;
}




static gboolean
node_get_int (JsonNode *node,
              gint64   *value)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;

  *value = json_node_get_int (node);
  return TRUE;
}

static gboolean
get_int (JsonObject *object,
         const char *name,
         gint64     *value)
{
  return node_get_int (member (object, name), value);
}

static gboolean
get_bool (JsonObject *object,
          const char *name)
{
  JsonNode *node = member (object, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN &&
         json_node_get_boolean (node);
}

static JsonObject *
root_object (FdHttpResponse *response)
{
  if (response == NULL || response->json == NULL || !JSON_NODE_HOLDS_OBJECT (response->json))
    return NULL;

  return json_node_get_object (response->json);
}

static gint64
date_time_to_ms (GDateTime *date)
{
  return g_date_time_to_unix (date) * 1000 + g_date_time_get_microsecond (date) / 1000;
}

/* ISO 8601 as Discourse writes it ("2026-01-31T09:15:02.123Z") to UTC milliseconds;
 * 0 when absent or unreadable. */
static gint64
parse_time (const char *text)
{
  g_autoptr(GTimeZone) utc = NULL;
  g_autoptr(GDateTime) date = NULL;

  if (text == NULL || *text == '\0')
    return 0;

  utc = g_time_zone_new_utc ();
  date = g_date_time_new_from_iso8601 (text, utc);

  return date != NULL ? date_time_to_ms (date) : 0;
}

static gint64
get_time (JsonObject *object,
          const char *name)
{
  return parse_time (fd_json_string (object, name));
}

static gboolean
same_username (const char *a,
               const char *b)
{
  g_autofree char *folded_a = NULL;
  g_autofree char *folded_b = NULL;

  if (a == NULL || b == NULL || !g_utf8_validate (a, -1, NULL) || !g_utf8_validate (b, -1, NULL))
    return FALSE;

  folded_a = g_utf8_casefold (a, -1);
  folded_b = g_utf8_casefold (b, -1);

  return g_str_equal (folded_a, folded_b);
}

static gint64 *
int64_dup (gint64 value)
{
  return g_memdup2 (&value, sizeof value);
}

static gboolean
parse_topic_id (const char *external_id,
                gint64     *topic_id)
{
  guint64 value;

  if (external_id == NULL || !g_str_has_prefix (external_id, "topic:"))
    return FALSE;

  if (!g_ascii_string_to_unsigned (external_id + strlen ("topic:"), 10, 1, G_MAXINT64, &value, NULL))
    return FALSE;

  *topic_id = (gint64) value;
  return TRUE;
}

/* }}} */

/* {{{ Cursor */

/* Where the last complete walk of one list began. */
typedef struct
{
  char    *list;        /* "latest", or "c/ID" for one category */
  gint64   watermark;   /* activity older than this is synced */
  GArray  *ids;         /* gint64: topics synced whose activity equals it */
} ListMark;

typedef struct
{
  GPtrArray *marks;           /* ListMark */
  gboolean   in_pass;
  char      *list;            /* the list being walked */
  GPtrArray *done;            /* char *: the lists this pass has walked */
  guint      page;
  gint64     after;           /* the last topic taken from @page, or 0 */
  gint64     next_watermark;  /* what this walk leaves behind; -1 until its first page */
  GArray    *next_ids;
} SyncCursor;

static void
list_mark_free (gpointer data)
{
  ListMark *mark = data;

  g_free (mark->list);
  g_array_unref (mark->ids);
  g_free (mark);
}

static ListMark *
list_mark_new (const char *list)
{
  ListMark *mark = g_new0 (ListMark, 1);

  mark->list = g_strdup (list);
  mark->ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  return mark;
}

static void
sync_cursor_init (SyncCursor *cursor)
{
  memset (cursor, 0, sizeof *cursor);
  cursor->marks = g_ptr_array_new_with_free_func (list_mark_free);
  cursor->done = g_ptr_array_new_with_free_func (g_free);
  cursor->next_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  cursor->next_watermark = -1;
}

static void
sync_cursor_clear (SyncCursor *cursor)
{
  g_clear_pointer (&cursor->marks, g_ptr_array_unref);
  g_clear_pointer (&cursor->done, g_ptr_array_unref);
  g_clear_pointer (&cursor->next_ids, g_array_unref);
  g_clear_pointer (&cursor->list, g_free);
}

static ListMark *
sync_cursor_get_mark (SyncCursor *cursor,
                      const char *list)
{
  for (guint i = 0; i < cursor->marks->len; i++)
    {
      ListMark *mark = g_ptr_array_index (cursor->marks, i);

      if (g_str_equal (mark->list, list))
        return mark;
    }

  return NULL;
}

/* Starts the walk of @list, from its first page. */
static void
sync_cursor_walk (SyncCursor *cursor,
                  const char *list)
{
  g_free (cursor->list);
  cursor->list = g_strdup (list);
  cursor->in_pass = TRUE;
  cursor->page = 0;
  cursor->after = 0;
  cursor->next_watermark = -1;
  g_array_set_size (cursor->next_ids, 0);
}

static gboolean
ids_contain (GArray *ids,
             gint64  id)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_array_index (ids, gint64, i) == id)
      return TRUE;

  return FALSE;
}

static gboolean
strv_array_contains (GPtrArray  *array,
                     const char *str)
{
  for (guint i = 0; i < array->len; i++)
    if (g_str_equal (g_ptr_array_index (array, i), str))
      return TRUE;

  return FALSE;
}

static gboolean
read_ids (JsonObject *object,
          const char *name,
          GArray     *ids)
{
  JsonArray *array;

  if (!json_object_has_member (object, name))
    return TRUE;

  if ((array = fd_json_array (object, name)) == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      gint64 id;

      if (!node_get_int (json_array_get_element (array, i), &id))
        return FALSE;
      g_array_append_val (ids, id);
    }

  return TRUE;
}

static gboolean
read_mark (SyncCursor *cursor,
           JsonNode   *node)
{
  JsonObject *object;
  const char *list;
  ListMark *mark;

  if (!JSON_NODE_HOLDS_OBJECT (node) ||
      (list = fd_json_string ((object = json_node_get_object (node)), "list")) == NULL ||
      sync_cursor_get_mark (cursor, list) != NULL)
    return FALSE;

  mark = list_mark_new (list);
  g_ptr_array_add (cursor->marks, mark);

  return get_int (object, "watermark", &mark->watermark) && mark->watermark >= 0 &&
         read_ids (object, "watermark_ids", mark->ids);
}

static gboolean
read_pass (SyncCursor *cursor,
           JsonObject *pass)
{
  JsonArray *done;
  const char *list;
  gint64 page;

  if (pass == NULL ||
      (list = fd_json_string (pass, "list")) == NULL ||
      !get_int (pass, "page", &page) || page < 0 || page > MAX_PAGES ||
      (json_object_has_member (pass, "after") && !get_int (pass, "after", &cursor->after)) ||
      !read_ids (pass, "next_watermark_ids", cursor->next_ids))
    return FALSE;

  /* A walk that has not read its first page yet has no watermark to leave. */
  if (json_object_has_member (pass, "next_watermark"))
    {
      if (!get_int (pass, "next_watermark", &cursor->next_watermark) || cursor->next_watermark < 0)
        return FALSE;
    }
  else if (page != 0 || cursor->after != 0)
    return FALSE;

  if (json_object_has_member (pass, "done"))
    {
      if ((done = fd_json_array (pass, "done")) == NULL)
        return FALSE;

      for (guint i = 0; i < json_array_get_length (done); i++)
        {
          JsonNode *node = json_array_get_element (done, i);

          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
            return FALSE;
          g_ptr_array_add (cursor->done, g_strdup (json_node_get_string (node)));
        }
    }

  cursor->in_pass = TRUE;
  cursor->list = g_strdup (list);
  cursor->page = (guint) page;

  return TRUE;
}

/* NULL or "" is the very first sync. */
static gboolean
sync_cursor_parse (SyncCursor  *cursor,
                   const char  *text,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;
  JsonObject *object;
  JsonArray *marks;
  gint64 version;

  if (text == NULL || *text == '\0')
    return TRUE;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    goto bad;

  object = json_node_get_object (root);

  if (!get_int (object, "version", &version) || version != CURSOR_VERSION ||
      (marks = fd_json_array (object, "lists")) == NULL)
    goto bad;

  for (guint i = 0; i < json_array_get_length (marks); i++)
    if (!read_mark (cursor, json_array_get_element (marks, i)))
      goto bad;

  if (json_object_has_member (object, "pass") && !read_pass (cursor, fd_json_object (object, "pass")))
    goto bad;

  return TRUE;

bad:
  g_set_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_BAD_CURSOR,
               _("Frontdesk could not read where the last Discourse sync stopped. "
                 "It will read the forum again from the start; nothing is lost."));
  return FALSE;
}

static void
add_ids (JsonBuilder *builder,
         const char  *name,
         GArray      *ids)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_int_value (builder, g_array_index (ids, gint64, i));
  json_builder_end_array (builder);
}

static char *
sync_cursor_to_string (const SyncCursor *cursor)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, CURSOR_VERSION);

  json_builder_set_member_name (builder, "lists");
  json_builder_begin_array (builder);
  for (guint i = 0; i < cursor->marks->len; i++)
    {
      ListMark *mark = g_ptr_array_index (cursor->marks, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "list");
      json_builder_add_string_value (builder, mark->list);
      json_builder_set_member_name (builder, "watermark");
      json_builder_add_int_value (builder, mark->watermark);
      add_ids (builder, "watermark_ids", mark->ids);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  if (cursor->in_pass)
    {
      json_builder_set_member_name (builder, "pass");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "list");
      json_builder_add_string_value (builder, cursor->list);
      json_builder_set_member_name (builder, "done");
      json_builder_begin_array (builder);
      for (guint i = 0; i < cursor->done->len; i++)
        json_builder_add_string_value (builder, g_ptr_array_index (cursor->done, i));
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "page");
      json_builder_add_int_value (builder, cursor->page);
      if (cursor->after != 0)
        {
          json_builder_set_member_name (builder, "after");
          json_builder_add_int_value (builder, cursor->after);
        }
      if (cursor->next_watermark >= 0)
        {
          json_builder_set_member_name (builder, "next_watermark");
          json_builder_add_int_value (builder, cursor->next_watermark);
          add_ids (builder, "next_watermark_ids", cursor->next_ids);
        }
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

/* }}} */

/* {{{ Categories */

static void
collect_categories (JsonArray  *categories,
                    GHashTable *slugs,
                    GHashTable *parents,
                    guint       depth)
{
  if (categories == NULL || depth > 8)
    return;

  for (guint i = 0; i < json_array_get_length (categories); i++)
    {
      JsonNode *node = json_array_get_element (categories, i);
      JsonObject *category;
      JsonArray *sub_ids;
      const char *slug;
      gint64 id;
      gint64 parent;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      category = json_node_get_object (node);
      if (!get_int (category, "id", &id) || id <= 0)
        continue;

      /* Discourse finds a category by its id; the slug only has to look right. */
      slug = fd_json_string (category, "slug");
      g_hash_table_replace (slugs, int64_dup (id),
                            g_strdup (slug != NULL && *slug != '\0' &&
                                      strpbrk (slug, "/?#%") == NULL ? slug : "-"));

      if (get_int (category, "parent_category_id", &parent))
        g_hash_table_insert (parents, int64_dup (id), int64_dup (parent));

      if ((sub_ids = fd_json_array (category, "subcategory_ids")) != NULL)
        {
          for (guint j = 0; j < json_array_get_length (sub_ids); j++)
            {
              gint64 child;

              if (node_get_int (json_array_get_element (sub_ids, j), &child))
                g_hash_table_insert (parents, int64_dup (child), int64_dup (id));
            }
        }

      collect_categories (fd_json_array (category, "subcategory_list"), slugs, parents, depth + 1);
    }
}

/* The chosen categories and everything below them, from GET /categories.json. */
static gboolean
update_categories (FdDiscourseChannel  *self,
                   FdHttpResponse      *response,
                   GError             **error)
{
  g_autoptr(GHashTable) slugs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr(GHashTable) parents = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr(GHashTable) allowed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  JsonArray *categories = fd_json_array (fd_json_object (root_object (response), "category_list"), "categories");
  GHashTableIter iter;
  gpointer key;

  if (categories == NULL)
    {
      g_set_error (error, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                   _("Discourse sent a list of categories Frontdesk could not read. "
                     "Nothing was changed; it will try again."));
      return FALSE;
    }

  collect_categories (categories, slugs, parents, 0);

  for (guint i = 0; i < self->category_ids->len; i++)
    {
      gint64 id = g_array_index (self->category_ids, gint64, i);

      if (g_hash_table_contains (slugs, &id))
        g_hash_table_add (allowed, int64_dup (id));
      else
        g_debug ("Category %" G_GINT64_FORMAT " is not on the forum, or the API user cannot see it", id);
    }

  if (g_hash_table_size (allowed) == 0)
    {
      g_set_error (error, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                   _("None of the Discourse categories chosen for this account exists, or the "
                     "API user cannot see them. Choose the categories again in Preferences → "
                     "Accounts."));
      return FALSE;
    }

  /* A topic in a subcategory belongs to the category above it too. */
  g_hash_table_iter_init (&iter, slugs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      gint64 id = *(gint64 *) key;
      gint64 *parent;

      for (guint depth = 0; depth < 8 && (parent = g_hash_table_lookup (parents, &id)) != NULL; depth++)
        {
          if (g_hash_table_contains (allowed, parent))
            {
              g_hash_table_add (allowed, int64_dup (*(gint64 *) key));
              break;
            }
          id = *parent;
        }
    }

  g_clear_pointer (&self->allowed_categories, g_hash_table_unref);
  self->allowed_categories = g_steal_pointer (&allowed);
  g_clear_pointer (&self->category_slugs, g_hash_table_unref);
  self->category_slugs = g_steal_pointer (&slugs);

  return TRUE;
}

static gint
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The lists a pass walks, in order: the whole forum, or one per category. Each
 * category's list shows its subcategories' topics too, unless the forum was set up
 * otherwise; a topic is taken only from its own category's list. */
static GPtrArray *
get_lists (FdDiscourseChannel *self)
{
  GPtrArray *lists = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) ids = NULL;
  GHashTableIter iter;
  gpointer key;

  if (!self->filter_categories)
    {
      g_ptr_array_add (lists, g_strdup ("latest"));
      return lists;
    }

  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_hash_table_iter_init (&iter, self->allowed_categories);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_array_append_val (ids, *(gint64 *) key);
  g_array_sort (ids, compare_int64);

  for (guint i = 0; i < ids->len; i++)
    g_ptr_array_add (lists, g_strdup_printf ("c/%" G_GINT64_FORMAT, g_array_index (ids, gint64, i)));

  return lists;
}

/* The category of a "c/ID" list, or 0 for the whole forum. */
static gint64
list_category (const char *list)
{
  guint64 id;

  if (g_str_has_prefix (list, "c/") &&
      g_ascii_string_to_unsigned (list + 2, 10, 1, G_MAXINT64, &id, NULL))
    return (gint64) id;

  return 0;
}

/* }}} */

/* {{{ Building records */

typedef struct
{
  const char *api_username;
  const char *first_author_kind;   /* of the first regular post */
  char       *first_author_id;
  gboolean    last_from_staff;     /* the last regular post */
  gboolean    last_from_us;        /* …was sent through this API user */
  gint64      last_post_at;
} TopicSummary;

static void
add_person (FdSyncBatch *batch,
            GHashTable  *people,
            const char  *kind,
            const char  *external_id,
            const char  *name)
{
  g_autofree char *key = g_strconcat (kind, " ", external_id, NULL);

  if (g_hash_table_contains (people, key))
    return;

  if (g_str_equal (kind, "agent"))
    {
      FdAgentRecord *agent = fd_sync_batch_add_agent (batch);

      agent->external_id = g_strdup (external_id);
      agent->name = g_strdup (name);
    }
  else
    {
      /* Discourse shows no email addresses here; the store keeps what it knows. */
      FdContactRecord *contact = fd_sync_batch_add_contact (batch);

      contact->external_id = g_strdup (external_id);
      contact->name = g_strdup (name);
    }

  g_hash_table_add (people, g_steal_pointer (&key));
}

static void
add_post (FdSyncBatch          *batch,
          GHashTable           *people,
          FdConversationRecord *conv,
          gint64                topic_id,
          JsonObject           *post,
          TopicSummary         *summary)
{
  FdMessageRecord *message;
  g_autofree char *author_id = NULL;
  const char *username = fd_json_string (post, "username");
  const char *cooked = fd_json_string (post, "cooked");
  const char *name = fd_json_string (post, "name");
  gint64 post_type = POST_TYPE_REGULAR;
  gint64 created_at;
  gint64 id;
  gboolean staff;

  created_at = get_time (post, "created_at");

  if (!get_int (post, "id", &id) || username == NULL || *username == '\0' ||
      cooked == NULL || created_at == 0)
    {
      g_debug ("Skipping a post of topic %" G_GINT64_FORMAT ": it lacks an id, author, "
               "text or time", topic_id);
      return;
    }

  get_int (post, "post_type", &post_type);

  /* "closed this topic" and the like carry no text of their own; deleted posts are
   * kept only for staff to restore. */
  if (post_type == POST_TYPE_SMALL_ACTION || fd_json_string (post, "deleted_at") != NULL)
    return;

  staff = get_bool (post, "staff") || get_bool (post, "admin") || get_bool (post, "moderator");
  author_id = g_strdup_printf ("user:%s", username);
  if (name == NULL || *name == '\0')
    name = username;

  message = fd_conversation_record_add_message (conv);
  message->external_id = g_strdup_printf ("post:%" G_GINT64_FORMAT, id);
  message->body = fd_text_from_html (cooked);
  message->created_at = created_at;
  message->author_name = g_strdup (name);
  message->author_external_id = g_strdup (author_id);

  summary->last_post_at = MAX (summary->last_post_at, created_at);

  if (post_type == POST_TYPE_MODERATOR_ACTION)
    {
      message->author_kind = "system";
      return;
    }

  /* Whispers are seen by staff only: Discourse's internal notes. */
  if (post_type == POST_TYPE_WHISPER)
    {
      message->is_note = TRUE;
      message->author_kind = "agent";
      add_person (batch, people, "agent", author_id, name);
      return;
    }

  message->author_kind = staff ? "agent" : "contact";
  add_person (batch, people, message->author_kind, author_id, name);

  if (summary->first_author_kind == NULL)
    {
      summary->first_author_kind = message->author_kind;
      summary->first_author_id = g_strdup (author_id);
    }
  summary->last_from_staff = staff;
  summary->last_from_us = same_username (username, summary->api_username);
}

static gint
compare_posts (gconstpointer a,
               gconstpointer b)
{
  JsonObject *post_a = *(JsonObject **) a;
  JsonObject *post_b = *(JsonObject **) b;
  gint64 number_a = G_MAXINT64;
  gint64 number_b = G_MAXINT64;
  gint64 id_a = 0;
  gint64 id_b = 0;

  get_int (post_a, "post_number", &number_a);
  get_int (post_b, "post_number", &number_b);
  if (number_a != number_b)
    return number_a < number_b ? -1 : 1;

  get_int (post_a, "id", &id_a);
  get_int (post_b, "id", &id_b);
  return id_a < id_b ? -1 : id_a > id_b;
}

static void
collect_posts (JsonObject *root,
               GPtrArray  *posts,
               GHashTable *seen)
{
  JsonArray *array = fd_json_array (fd_json_object (root, "post_stream"), "posts");

  if (array == NULL)
    return;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      gint64 id;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      /* Posts without an id are kept, to be skipped with a note when they are read. */
      if (get_int (json_node_get_object (node), "id", &id))
        {
          if (g_hash_table_contains (seen, &id))
            continue;
          g_hash_table_add (seen, int64_dup (id));
        }

      g_ptr_array_add (posts, json_node_get_object (node));
    }
}

/* }}} */

/* {{{ Fetch */

typedef struct
{
  gint64      id;
  JsonObject *listed;    /* the topic as the list showed it; owned by FetchData.page */
  JsonNode   *topic;     /* GET /t/{id}.json */
  GPtrArray  *chunks;    /* JsonNode *, GET /t/{id}/posts.json, NULL where none came */
  guint       pending;   /* requests still out */
  gboolean    skip;
} TopicJob;

typedef struct
{
  SyncCursor  cursor;
  ListMark   *mark;      /* of the list being walked; owned by the cursor */
  GPtrArray  *lists;     /* char *: the lists a pass walks, in order */
  JsonNode   *page;      /* the topic list */
  gboolean    last_page;
  GPtrArray  *jobs;      /* TopicJob: the topics of the page to fetch, in list order */
  guint       started;
  guint       running;
  guint       posts;     /* posts in the topics started so far, for the batch limit */
  GError     *error;
  gboolean    has_more;
  gboolean    completed;
} FetchData;

typedef struct
{
  GTask    *task;
  TopicJob *job;
  guint     chunk;
} JobRequest;

/* Chunks that never came leave NULL behind. */
static void
chunk_free (gpointer data)
{
  if (data != NULL)
    json_node_unref (data);
}

static void
topic_job_free (gpointer data)
{
  TopicJob *job = data;

  g_clear_pointer (&job->topic, json_node_unref);
  g_ptr_array_unref (job->chunks);
  g_free (job);
}

static FetchData *
fetch_data_new (void)
{
  FetchData *data = g_new0 (FetchData, 1);

  sync_cursor_init (&data->cursor);
  data->jobs = g_ptr_array_new_with_free_func (topic_job_free);

  return data;
}

static void
fetch_data_free (gpointer user_data)
{
  FetchData *data = user_data;

  g_ptr_array_unref (data->jobs);
  g_clear_pointer (&data->lists, g_ptr_array_unref);
  g_clear_pointer (&data->page, json_node_unref);
  g_clear_error (&data->error);
  sync_cursor_clear (&data->cursor);
  g_free (data);
}

static JobRequest *
job_request_new (GTask    *task,
                 TopicJob *job,
                 guint     chunk)
{
  JobRequest *request = g_new0 (JobRequest, 1);

  request->task = g_object_ref (task);
  request->job = job;
  request->chunk = chunk;

  return request;
}

static void
job_request_free (JobRequest *request)
{
  g_object_unref (request->task);
  g_free (request);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (JobRequest, job_request_free)

static void start_jobs (GTask *task);

static void
build_batch (FdDiscourseChannel *self,
             FetchData          *data,
             FdSyncBatch        *batch)
{
  g_autoptr(GHashTable) people = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < data->started; i++)
    {
      TopicJob *job = g_ptr_array_index (data->jobs, i);
      g_autoptr(GPtrArray) posts = g_ptr_array_new ();
      g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      TopicSummary summary = { .api_username = self->api_username };
      FdConversationRecord *conv;
      JsonObject *topic;
      const char *title;

      if (job->skip || job->topic == NULL)
        continue;

      topic = json_node_get_object (job->topic);
      title = fd_json_string (topic, "title");

      collect_posts (topic, posts, seen);
      for (guint j = 0; j < job->chunks->len; j++)
        {
          JsonNode *chunk = g_ptr_array_index (job->chunks, j);

          if (chunk != NULL)
            collect_posts (json_node_get_object (chunk), posts, seen);
        }
      g_ptr_array_sort (posts, compare_posts);

      conv = fd_sync_batch_add_conversation (batch);
      conv->external_id = g_strdup_printf ("topic:%" G_GINT64_FORMAT, job->id);
      conv->channel = "community";
      conv->subject = g_strdup (title);

      for (guint j = 0; j < posts->len; j++)
        add_post (batch, people, conv, job->id, g_ptr_array_index (posts, j), &summary);

      conv->created_at = get_time (topic, "created_at");
      conv->updated_at = MAX (summary.last_post_at,
                              MAX (get_time (topic, "last_posted_at"),
                                   get_time (job->listed, "bumped_at")));

      if (g_strcmp0 (summary.first_author_kind, "contact") == 0)
        conv->contact_external_id = g_steal_pointer (&summary.first_author_id);
      g_free (summary.first_author_id);

      /* Closed or archived topics take no more replies. Waiting on the customer once
       * staff had the last word; but after a reply sent from Frontdesk, the status the
       * agent chose there stands (resolved, say, where Discourse cannot close topics). */
      if (get_bool (topic, "closed") || get_bool (topic, "archived"))
        conv->status = "resolved";
      else if (summary.last_from_us)
        conv->status = NULL;
      else if (summary.last_from_staff)
        conv->status = "pending";
      else
        conv->status = "open";
    }
}

/* Moves the pass to the next list it has not walked, or ends it. */
static void
advance_pass (FetchData *data)
{
  SyncCursor *cursor = &data->cursor;

  for (guint i = 0; i < data->lists->len; i++)
    {
      const char *list = g_ptr_array_index (data->lists, i);

      if (!strv_array_contains (cursor->done, list))
        {
          sync_cursor_walk (cursor, list);
          data->has_more = TRUE;
          return;
        }
    }

  cursor->in_pass = FALSE;
  g_clear_pointer (&cursor->list, g_free);
  g_ptr_array_set_size (cursor->done, 0);
  g_array_set_size (cursor->next_ids, 0);
  cursor->next_watermark = -1;
  data->has_more = FALSE;

  /* Lists no longer chosen are forgotten: chosen again, they are read in full. */
  for (guint i = cursor->marks->len; i > 0; i--)
    {
      ListMark *mark = g_ptr_array_index (cursor->marks, i - 1);

      if (!strv_array_contains (data->lists, mark->list))
        g_ptr_array_remove_index (cursor->marks, i - 1);
    }
}

static void
fetch_complete (GTask *task)
{
  FdDiscourseChannel *self = g_task_get_source_object (task);
  FetchData *data = g_task_get_task_data (task);
  g_autoptr(FdSyncBatch) batch = NULL;
  SyncCursor *cursor = &data->cursor;

  g_assert (!data->completed);
  data->completed = TRUE;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  batch = fd_sync_batch_new ();
  build_batch (self, data, batch);

  g_debug ("%s, page %u: %u of %u changed topics", cursor->list, cursor->page,
           data->started, data->jobs->len);

  if (data->started < data->jobs->len)
    {
      /* The batch is full: the rest of this page comes with the next fetch. */
      TopicJob *last = g_ptr_array_index (data->jobs, data->started - 1);

      cursor->after = last->id;
      data->has_more = TRUE;
    }
  else if (data->last_page)
    {
      /* The list is walked to its end: only now does its watermark move, to where the
       * walk began. Then the next list, or the pass is complete. */
      GArray *ids = data->mark->ids;

      data->mark->watermark = cursor->next_watermark;
      data->mark->ids = cursor->next_ids;
      cursor->next_ids = ids;
      g_ptr_array_add (cursor->done, g_strdup (cursor->list));
      advance_pass (data);
    }
  else
    {
      cursor->page++;
      cursor->after = 0;
      data->has_more = TRUE;
    }

  batch->cursor = sync_cursor_to_string (cursor);

  g_task_return_pointer (task, g_steal_pointer (&batch), (GDestroyNotify) fd_sync_batch_free);
}

static void
job_failed (GTask    *task,
            TopicJob *job,
            GError   *error)
{
  FetchData *data = g_task_get_task_data (task);

  /* A topic deleted between the list and its fetch is simply gone. */
  if (g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND))
    {
      g_debug ("Skipping topic %" G_GINT64_FORMAT ": it is gone", job->id);
      job->skip = TRUE;
      g_error_free (error);
      return;
    }

  /* Anything else fails the whole page, so that nothing of it is stored and the next
   * attempt starts from the same place. */
  if (data->error == NULL)
    data->error = error;
  else
    g_error_free (error);
}

static void
job_request_done (GTask    *task,
                  TopicJob *job)
{
  FetchData *data = g_task_get_task_data (task);

  g_assert (job->pending > 0);
  if (--job->pending > 0)
    return;

  g_assert (data->running > 0);
  data->running--;
  start_jobs (task);
}

static void
chunk_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(JobRequest) request = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  GError *error = NULL;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    job_failed (request->task, request->job, error);
  else if (fd_json_array (fd_json_object (root_object (response), "post_stream"), "posts") == NULL)
    g_debug ("Skipping posts of topic %" G_GINT64_FORMAT ": not a list of posts", request->job->id);
  else
    g_ptr_array_index (request->job->chunks, request->chunk) = json_node_ref (response->json);

  job_request_done (request->task, request->job);
}

static void
topic_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(JobRequest) request = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  g_autoptr(GArray) missing = NULL;
  g_autoptr(GHashTable) loaded = NULL;
  FdDiscourseChannel *self = g_task_get_source_object (request->task);
  FetchData *data = g_task_get_task_data (request->task);
  GCancellable *cancellable = g_task_get_cancellable (request->task);
  TopicJob *job = request->job;
  JsonObject *topic;
  JsonObject *post_stream;
  JsonArray *posts;
  JsonArray *stream;
  GError *error = NULL;
  guint n_chunks;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      job_failed (request->task, job, error);
      job_request_done (request->task, job);
      return;
    }

  topic = root_object (response);
  post_stream = fd_json_object (topic, "post_stream");
  posts = fd_json_array (post_stream, "posts");
  stream = fd_json_array (post_stream, "stream");

  if (fd_json_string (topic, "title") == NULL || posts == NULL)
    {
      g_debug ("Skipping topic %" G_GINT64_FORMAT ": not the shape of a topic", job->id);
      job->skip = TRUE;
      job_request_done (request->task, job);
      return;
    }

  job->topic = json_node_ref (response->json);

  /* The topic loads its first posts; the stream lists the ids of all of them. */
  loaded = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length (posts); i++)
    {
      JsonNode *node = json_array_get_element (posts, i);
      gint64 id;

      if (JSON_NODE_HOLDS_OBJECT (node) && get_int (json_node_get_object (node), "id", &id))
        g_hash_table_add (loaded, int64_dup (id));
    }

  missing = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; stream != NULL && i < json_array_get_length (stream); i++)
    {
      gint64 id;

      if (node_get_int (json_array_get_element (stream, i), &id) &&
          !g_hash_table_contains (loaded, &id) && !ids_contain (missing, id))
        g_array_append_val (missing, id);
    }

  data->posts += g_hash_table_size (loaded) + missing->len;

  n_chunks = (missing->len + POSTS_CHUNK - 1) / POSTS_CHUNK;
  g_ptr_array_set_size (job->chunks, n_chunks);

  /* After an error elsewhere on the page the rest is not worth asking for. */
  for (guint c = 0; c < n_chunks && data->error == NULL; c++)
    {
      g_autofree char *path = g_strdup_printf ("/t/%" G_GINT64_FORMAT "/posts.json", job->id);
      FdHttpRequest *chunk = fd_http_request_new ("GET", path);

      for (guint i = c * POSTS_CHUNK; i < MIN (missing->len, (c + 1) * POSTS_CHUNK); i++)
        {
          char id[32];

          g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, g_array_index (missing, gint64, i));
          fd_http_request_add_query (chunk, "post_ids[]", id);
        }

      job->pending++;
      fd_http_client_send_async (self->http, chunk, cancellable, chunk_cb,
                                 job_request_new (request->task, job, c));
    }

  job_request_done (request->task, job);
}

static void
start_jobs (GTask *task)
{
  FdDiscourseChannel *self = g_task_get_source_object (task);
  FetchData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  while (data->error == NULL &&
         !g_cancellable_is_cancelled (cancellable) &&
         data->running < MAX_PARALLEL_TOPICS &&
         data->started < data->jobs->len)
    {
      g_autofree char *path = NULL;
      TopicJob *job;

      /* A batch holds whole topics; once it is big enough, the rest of the page waits
       * for the next fetch. */
      if (data->started > 0 && data->posts >= self->batch_limit)
        break;

      job = g_ptr_array_index (data->jobs, data->started);
      data->started++;
      data->running++;
      job->pending = 1;

      path = g_strdup_printf ("/t/%" G_GINT64_FORMAT ".json", job->id);
      fd_http_client_send_async (self->http, fd_http_request_new ("GET", path), cancellable,
                                 topic_cb, job_request_new (task, job, 0));
    }

  if (data->running == 0)
    fetch_complete (task);
}

/* The watermark this walk will leave: the newest activity on its first page. */
static void
take_next_watermark (SyncCursor *cursor,
                     ListMark   *mark,
                     JsonArray  *topics)
{
  gint64 newest = 0;

  for (guint i = 0; i < json_array_get_length (topics); i++)
    {
      JsonNode *node = json_array_get_element (topics, i);
      JsonObject *topic;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      topic = json_node_get_object (node);
      newest = MAX (newest, MAX (get_time (topic, "bumped_at"), get_time (topic, "last_posted_at")));
    }

  g_array_set_size (cursor->next_ids, 0);

  if (newest <= mark->watermark)
    {
      /* Nothing newer (or a clock that went back): the watermark stays where it is. */
      newest = mark->watermark;
      g_array_append_vals (cursor->next_ids, mark->ids->data, mark->ids->len);
    }

  cursor->next_watermark = newest;

  if (newest == 0)
    return;

  for (guint i = 0; i < json_array_get_length (topics); i++)
    {
      JsonNode *node = json_array_get_element (topics, i);
      JsonObject *topic;
      gint64 id;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      topic = json_node_get_object (node);
      if (get_int (topic, "id", &id) &&
          MAX (get_time (topic, "bumped_at"), get_time (topic, "last_posted_at")) == newest &&
          !ids_contain (cursor->next_ids, id))
        g_array_append_val (cursor->next_ids, id);
    }
}

static void
select_topics (FetchData *data,
               JsonArray *topics)
{
  SyncCursor *cursor = &data->cursor;
  ListMark *mark = data->mark;
  gint64 list_id = list_category (cursor->list);
  guint start = 0;
  guint n_topics = json_array_get_length (topics);

  /* Resuming part-way through the page: after the last topic taken. If the list moved
   * and it is no longer here, the whole page again; a repeat is harmless. */
  if (cursor->after != 0)
    {
      for (guint i = 0; i < n_topics; i++)
        {
          JsonNode *node = json_array_get_element (topics, i);
          gint64 id;

          if (JSON_NODE_HOLDS_OBJECT (node) && get_int (json_node_get_object (node), "id", &id) &&
              id == cursor->after)
            {
              start = i + 1;
              break;
            }
        }
    }

  for (guint i = start; i < n_topics; i++)
    {
      JsonNode *node = json_array_get_element (topics, i);
      JsonObject *topic;
      const char *archetype;
      TopicJob *job;
      gint64 category;
      gint64 bumped_at;
      gint64 activity;
      gint64 id;

      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          !get_int ((topic = json_node_get_object (node)), "id", &id) || id <= 0)
        {
          g_debug ("Skipping an entry of the topic list: it has no id");
          continue;
        }

      bumped_at = get_time (topic, "bumped_at");
      activity = MAX (bumped_at, get_time (topic, "last_posted_at"));

      /* The list is ordered by bump, pinned topics first: the first unpinned topic
       * bumped before the watermark ends the walk. */
      if (mark->watermark > 0 && bumped_at > 0 && bumped_at < mark->watermark &&
          !get_bool (topic, "pinned") && !get_bool (topic, "pinned_globally"))
        data->last_page = TRUE;

      /* A subcategory's topics come with its own list. */
      if (list_id != 0 && get_int (topic, "category_id", &category) && category != list_id)
        continue;

      if ((archetype = fd_json_string (topic, "archetype")) != NULL && !g_str_equal (archetype, "regular"))
        continue;

      /* Unchanged since the last pass. A topic without times is fetched anyway. */
      if (activity > 0 && activity < mark->watermark)
        continue;
      if (activity > 0 && activity == mark->watermark && ids_contain (mark->ids, id))
        continue;

      job = g_new0 (TopicJob, 1);
      job->id = id;
      job->listed = topic;
      job->chunks = g_ptr_array_new_with_free_func (chunk_free);
      g_ptr_array_add (data->jobs, job);
    }
}

static void
page_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  FetchData *data = g_task_get_task_data (task);
  GError *error = NULL;
  JsonObject *topic_list;
  JsonArray *topics;
  const char *more;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  topic_list = fd_json_object (root_object (response), "topic_list");
  topics = fd_json_array (topic_list, "topics");
  if (topics == NULL)
    {
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                               _("Discourse sent a list of topics Frontdesk could not read. "
                                 "Nothing was changed; it will try again."));
      return;
    }

  data->page = json_node_ref (response->json);

  more = fd_json_string (topic_list, "more_topics_url");
  data->last_page = more == NULL || *more == '\0' ||
                    json_array_get_length (topics) == 0 ||
                    data->cursor.page >= MAX_PAGES;

  if (data->cursor.next_watermark < 0)
    take_next_watermark (&data->cursor, data->mark, topics);

  select_topics (data, topics);
  start_jobs (task);
}

static void
fetch_page (GTask *task)
{
  FdDiscourseChannel *self = g_task_get_source_object (task);
  FetchData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  gint64 category = list_category (data->cursor.list);
  FdHttpRequest *request;

  if (category != 0)
    {
      const char *slug = g_hash_table_lookup (self->category_slugs, &category);
      g_autofree char *path = g_strdup_printf ("/c/%s/%" G_GINT64_FORMAT ".json",
                                               slug != NULL ? slug : "-", category);

      request = fd_http_request_new ("GET", path);
    }
  else
    {
      request = fd_http_request_new ("GET", "/latest.json");
    }
  fd_http_request_add_query (request, "order", "activity");
  if (data->cursor.page > 0)
    {
      char page[16];

      g_snprintf (page, sizeof page, "%u", data->cursor.page);
      fd_http_request_add_query (request, "page", page);
    }

  fd_http_client_send_async (self->http, request, cancellable, page_cb, task);
}

/* Picks the list and page to fetch: where the pass stands, or the start of a new one. */
static void
fetch_list (GTask *task)
{
  FdDiscourseChannel *self = g_task_get_source_object (task);
  FetchData *data = g_task_get_task_data (task);
  SyncCursor *cursor = &data->cursor;

  data->lists = get_lists (self);

  if (!cursor->in_pass)
    {
      g_ptr_array_set_size (cursor->done, 0);
      advance_pass (data);
    }
  else if (!strv_array_contains (data->lists, cursor->list))
    {
      /* The chosen categories changed since: go on with those still chosen. */
      advance_pass (data);
      if (!cursor->in_pass)
        {
          g_autoptr(FdSyncBatch) batch = fd_sync_batch_new ();

          batch->cursor = sync_cursor_to_string (cursor);
          g_task_return_pointer (task, g_steal_pointer (&batch), (GDestroyNotify) fd_sync_batch_free);
          g_object_unref (task);
          return;
        }
    }

  data->mark = sync_cursor_get_mark (cursor, cursor->list);
  if (data->mark == NULL)
    {
      data->mark = list_mark_new (cursor->list);
      g_ptr_array_add (cursor->marks, data->mark);
    }

  fetch_page (task);
}

static void
categories_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  FdDiscourseChannel *self = g_task_get_source_object (task);
  GError *error = NULL;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL || !update_categories (self, response, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  fetch_list (g_steal_pointer (&task));
}

static void
fd_discourse_channel_fetch_async (FdChannel           *channel,
                                  const char          *cursor,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  FdDiscourseChannel *self = FD_DISCOURSE_CHANNEL (channel);
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  FetchData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_discourse_channel_fetch_async);

  data = fetch_data_new ();
  g_task_set_task_data (task, data, fetch_data_free);

  if (!sync_cursor_parse (&data->cursor, cursor, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* The chosen categories are looked up at the start of every pass, so that new
   * subcategories are followed, and whenever they are not known yet. */
  if (self->filter_categories && (self->allowed_categories == NULL || !data->cursor.in_pass))
    {
      FdHttpRequest *request = fd_http_request_new ("GET", "/categories.json");

      fd_http_request_add_query (request, "include_subcategories", "true");
      fd_http_client_send_async (self->http, request, cancellable, categories_cb,
                                 g_steal_pointer (&task));
      return;
    }

  fetch_list (g_steal_pointer (&task));
}

static FdSyncBatch *
fd_discourse_channel_fetch_finish (FdChannel     *channel,
                                   GAsyncResult  *result,
                                   gboolean      *has_more,
                                   GError       **error)
{
  FdSyncBatch *batch;

  g_return_val_if_fail (g_task_is_valid (result, channel), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_discourse_channel_fetch_async, NULL);

  batch = g_task_propagate_pointer (G_TASK (result), error);
  if (has_more != NULL)
    {
      FetchData *data = g_task_get_task_data (G_TASK (result));

      *has_more = batch != NULL && data->has_more;
    }

  return batch;
}

/* }}} */

/* {{{ Send */

/* A recent post of ours whose source the topic did not show. */
typedef struct
{
  gint64  id;
  char   *cooked;
} Candidate;

typedef struct
{
  gint64   topic_id;
  char    *raw;
  guint    posts_sent;      /* POST /posts.json attempts so far */
  GError  *post_error;      /* why the last one failed */
  gint64   server_now;      /* the forum's clock, from the last check's Date header */
  GArray  *candidates;      /* Candidate, still to look at */
} SendData;

static void
candidate_clear (gpointer data)
{
  Candidate *candidate = data;

  g_clear_pointer (&candidate->cooked, g_free);
}

static void
send_data_free (gpointer user_data)
{
  SendData *data = user_data;

  g_free (data->raw);
  g_clear_error (&data->post_error);
  g_clear_pointer (&data->candidates, g_array_unref);
  g_free (data);
}

/* Line ends and surrounding blanks as Discourse stores them. */
static char *
normalise_raw (const char *raw)
{
  g_autoptr(GString) text = g_string_new (raw);

  g_string_replace (text, "\r\n", "\n", 0);
  return g_strstrip (g_string_free (g_steal_pointer (&text), FALSE));
}

/* Whitespace-insensitive text, for servers that do not send "raw" back. */
static char *
collapse_text (const char *text)
{
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean space = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        {
          space = out->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_c (out, *p);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Whether @post is ours and recent enough to be an earlier attempt at this reply. */
static gboolean
is_recent_own_post (FdDiscourseChannel *self,
                    SendData           *data,
                    JsonObject         *post)
{
  gint64 created_at = get_time (post, "created_at");

  return same_username (fd_json_string (post, "username"), self->api_username) &&
         created_at != 0 && created_at >= data->server_now - DUPLICATE_WINDOW_MS &&
         fd_json_string (post, "deleted_at") == NULL;
}

static gboolean
raw_matches (SendData   *data,
             const char *raw)
{
  g_autofree char *stored = normalise_raw (raw);

  return g_str_equal (stored, data->raw);
}

/* The last resort, for a server that shows no Markdown source at all: the same words. */
static gboolean
cooked_matches (SendData   *data,
                const char *cooked)
{
  g_autofree char *text = fd_text_from_html (cooked);
  g_autofree char *a = collapse_text (text);
  g_autofree char *b = collapse_text (data->raw);

  return g_str_equal (a, b);
}

static void post_reply (GTask *task);

/* What a failed POST leaves open. */
static gboolean
outcome_unknown (const GError *error)
{
  return g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NETWORK) ||
         g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_TIMEOUT) ||
         g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_SERVER) ||
         g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE);
}

static void
reply_not_found (GTask *task)
{
  SendData *data = g_task_get_task_data (task);

  if (data->posts_sent == 0 ||
      (outcome_unknown (data->post_error) && data->posts_sent < MAX_POST_ATTEMPTS))
    {
      post_reply (task);
      return;
    }

  g_task_return_error (task, g_steal_pointer (&data->post_error));
  g_object_unref (task);
}

static void
return_found (GTask  *task,
              gint64  id)
{
  SendData *data = g_task_get_task_data (task);

  g_debug ("The reply to topic %" G_GINT64_FORMAT " is already there, as post %" G_GINT64_FORMAT,
           data->topic_id, id);
  g_task_return_pointer (task, g_strdup_printf ("post:%" G_GINT64_FORMAT, id), g_free);
}

static void check_next_candidate (GTask *task);

static void
candidate_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  SendData *data = g_task_get_task_data (task);
  Candidate *candidate = &g_array_index (data->candidates, Candidate, 0);
  GError *error = NULL;
  const char *raw;
  gboolean found;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL && !g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND))
    {
      /* Not knowing is no reason to post twice: the outbox tries again later. */
      g_task_return_error (task, error);
      return;
    }
  g_clear_error (&error);

  if (response != NULL && (raw = fd_json_string (root_object (response), "raw")) != NULL)
    found = raw_matches (data, raw);
  else
    found = candidate->cooked != NULL && cooked_matches (data, candidate->cooked);

  if (found)
    {
      return_found (task, candidate->id);
      return;
    }

  g_array_remove_index (data->candidates, 0);
  check_next_candidate (g_steal_pointer (&task));
}

static void
check_next_candidate (GTask *task)
{
  FdDiscourseChannel *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autofree char *path = NULL;

  if (data->candidates->len == 0)
    {
      reply_not_found (task);
      return;
    }

  path = g_strdup_printf ("/posts/%" G_GINT64_FORMAT ".json",
                          g_array_index (data->candidates, Candidate, 0).id);
  fd_http_client_send_async (self->http, fd_http_request_new ("GET", path), cancellable,
                             candidate_cb, task);
}

static void
check_posts_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  FdDiscourseChannel *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GError *error = NULL;
  JsonArray *posts;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_array_set_size (data->candidates, 0);

  posts = fd_json_array (fd_json_object (root_object (response), "post_stream"), "posts");
  for (guint i = 0; posts != NULL && i < json_array_get_length (posts); i++)
    {
      JsonNode *node = json_array_get_element (posts, i);
      JsonObject *post;
      const char *raw;
      Candidate candidate = { 0 };

      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          !get_int ((post = json_node_get_object (node)), "id", &candidate.id) ||
          !is_recent_own_post (self, data, post))
        continue;

      if ((raw = fd_json_string (post, "raw")) != NULL)
        {
          if (raw_matches (data, raw))
            {
              return_found (task, candidate.id);
              return;
            }
          continue;
        }

      /* Discourse sends the source only when asked; a server that did not is asked
       * again, post by post. */
      candidate.cooked = g_strdup (fd_json_string (post, "cooked"));
      g_array_append_val (data->candidates, candidate);
    }

  check_next_candidate (g_steal_pointer (&task));
}

static void
check_topic_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  g_autofree char *path = NULL;
  FdDiscourseChannel *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;
  FdHttpRequest *request;
  JsonObject *post_stream;
  JsonArray *stream;
  JsonArray *posts;
  GArray *ids;
  const char *date;
  guint n;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* "The last ten minutes" by the forum's clock, not ours. */
  data->server_now = g_get_real_time () / 1000;
  if ((date = soup_message_headers_get_one (response->headers, "Date")) != NULL)
    {
      g_autoptr(GDateTime) server_date = soup_date_time_new_from_http_string (date);

      if (server_date != NULL)
        data->server_now = date_time_to_ms (server_date) + 1000;
    }

  post_stream = fd_json_object (root_object (response), "post_stream");
  stream = fd_json_array (post_stream, "stream");
  posts = fd_json_array (post_stream, "posts");
  if (stream == NULL && posts == NULL)
    {
      g_task_return_new_error (task, FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                               _("Discourse sent a topic Frontdesk could not read, so it could "
                                 "not check whether the reply was already posted. It will try "
                                 "again."));
      return;
    }

  /* The newest posts of the topic, with their Markdown source. */
  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (stream != NULL)
    {
      n = json_array_get_length (stream);
      for (guint i = n > POSTS_CHUNK ? n - POSTS_CHUNK : 0; i < n; i++)
        {
          gint64 id;

          if (node_get_int (json_array_get_element (stream, i), &id))
            g_array_append_val (ids, id);
        }
    }
  else
    {
      n = json_array_get_length (posts);
      for (guint i = n > POSTS_CHUNK ? n - POSTS_CHUNK : 0; i < n; i++)
        {
          JsonNode *node = json_array_get_element (posts, i);
          gint64 id;

          if (JSON_NODE_HOLDS_OBJECT (node) && get_int (json_node_get_object (node), "id", &id))
            g_array_append_val (ids, id);
        }
    }

  if (ids->len == 0)
    {
      g_array_unref (ids);
      reply_not_found (g_steal_pointer (&task));
      return;
    }

  path = g_strdup_printf ("/t/%" G_GINT64_FORMAT "/posts.json", data->topic_id);
  request = fd_http_request_new ("GET", path);
  for (guint i = 0; i < ids->len; i++)
    {
      char id[32];

      g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, g_array_index (ids, gint64, i));
      fd_http_request_add_query (request, "post_ids[]", id);
    }
  fd_http_request_add_query (request, "include_raw", "true");
  g_array_unref (ids);

  fd_http_client_send_async (self->http, request, cancellable, check_posts_cb,
                             g_steal_pointer (&task));
}

/* Discourse has no idempotency key: before every POST, a look at the topic's newest
 * posts for this very reply, posted by an earlier attempt whose answer was lost. */
static void
check_reply (GTask *task)
{
  FdDiscourseChannel *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autofree char *path = g_strdup_printf ("/t/%" G_GINT64_FORMAT ".json", data->topic_id);

  fd_http_client_send_async (self->http, fd_http_request_new ("GET", path), cancellable,
                             check_topic_cb, task);
}

static gboolean
resend_delay_cb (gpointer user_data)
{
  GTask *task = user_data;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }

  check_reply (task);
  return G_SOURCE_REMOVE;
}

static void
post_reply_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  SendData *data = g_task_get_task_data (task);
  GError *error = NULL;
  gint64 id;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response != NULL)
    {
      if (get_int (root_object (response), "id", &id))
        {
          g_task_return_pointer (task, g_strdup_printf ("post:%" G_GINT64_FORMAT, id), g_free);
          return;
        }

      error = g_error_new (FD_HTTP_ERROR, FD_HTTP_ERROR_BAD_RESPONSE,
                           _("Discourse accepted the reply but did not say which post it "
                             "became. Frontdesk will check the topic."));
    }

  g_clear_error (&data->post_error);
  data->post_error = error;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&data->post_error));
      return;
    }

  if (outcome_unknown (error))
    {
      /* The post may be there: look before trying again, once the forum had a moment. */
      guint delay = RESEND_DELAY_MS << MIN (data->posts_sent - 1, 4);
      GSource *source = g_timeout_source_new (g_random_int_range (delay / 2, delay + 1));

      g_source_set_callback (source, resend_delay_cb, g_steal_pointer (&task), NULL);
      g_source_attach (source, g_main_context_get_thread_default ());
      g_source_unref (source);
      return;
    }

  /* Discourse refuses a repeat of a post made moments ago; if that is what happened,
   * the earlier one is the reply. */
  if (g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_REJECTED))
    {
      check_reply (g_steal_pointer (&task));
      return;
    }

  g_task_return_error (task, g_steal_pointer (&data->post_error));
}

static void
post_reply (GTask *task)
{
  FdDiscourseChannel *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) body = NULL;
  FdHttpRequest *request;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "topic_id");
  json_builder_add_int_value (builder, data->topic_id);
  json_builder_set_member_name (builder, "raw");
  json_builder_add_string_value (builder, data->raw);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  request = fd_http_request_new ("POST", "/posts.json");
  fd_http_request_set_json (request, body);
  /* Never retried blindly: check_reply() is what makes sending again safe. */
  fd_http_request_set_retry_safe (request, FALSE);

  data->posts_sent++;
  fd_http_client_send_async (self->http, request, cancellable, post_reply_cb, task);
}

static void
close_topic_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(FdHttpResponse) response = NULL;
  GError *error = NULL;

  response = fd_http_client_send_finish (FD_HTTP_CLIENT (object), result, &error);
  if (response != NULL)
    {
      g_task_return_pointer (task, g_strdup (""), g_free);
      return;
    }

  if (g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_UNAUTHORIZED))
    {
      g_error_free (error);
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Discourse does not let this API key close topics, so the "
                                 "conversation is resolved in Frontdesk only. A key of an "
                                 "admin or moderator can close topics."));
      return;
    }

  /* A deleted topic, or a forum that cannot close topics through its API. */
  if (g_error_matches (error, FD_HTTP_ERROR, FD_HTTP_ERROR_NOT_FOUND))
    {
      g_error_free (error);
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Discourse could not close the topic (it may have been "
                                 "deleted), so the conversation is resolved in Frontdesk only."));
      return;
    }

  g_task_return_error (task, error);
}

static void
close_topic (GTask *task)
{
  FdDiscourseChannel *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *path = g_strdup_printf ("/t/%" G_GINT64_FORMAT "/status.json", data->topic_id);
  FdHttpRequest *request;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "closed");
  json_builder_set_member_name (builder, "enabled");
  json_builder_add_string_value (builder, "true");
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  request = fd_http_request_new ("PUT", path);
  fd_http_request_set_json (request, body);
  /* Closing a closed topic changes nothing. */
  fd_http_request_set_retry_safe (request, TRUE);

  fd_http_client_send_async (self->http, request, cancellable, close_topic_cb, task);
}

static void
fd_discourse_channel_send_async (FdChannel           *channel,
                                 const FdOutboxItem  *item,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  FdDiscourseChannel *self = FD_DISCOURSE_CHANNEL (channel);
  g_autoptr(GTask) task = NULL;
  SendData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_discourse_channel_send_async);

  data = g_new0 (SendData, 1);
  data->candidates = g_array_new (FALSE, TRUE, sizeof (Candidate));
  g_array_set_clear_func (data->candidates, candidate_clear);
  g_task_set_task_data (task, data, send_data_free);

  if (!parse_topic_id (item->conversation_external_id, &data->topic_id))
    {
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                               _("This conversation is not a Discourse topic, so Frontdesk "
                                 "cannot send to it."));
      return;
    }

  switch (item->kind)
    {
    case FD_OUTBOX_REPLY:
      data->raw = normalise_raw (item->body != NULL ? item->body : "");
      if (*data->raw == '\0')
        {
          g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_FAILED,
                                   _("The reply is empty. Write something before sending."));
          return;
        }
      check_reply (g_steal_pointer (&task));
      return;

    case FD_OUTBOX_STATUS:
      if (g_strcmp0 (item->status, "resolved") == 0)
        {
          close_topic (g_steal_pointer (&task));
          return;
        }
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Discourse topics can only be closed, so this status is kept "
                                 "in Frontdesk only."));
      return;

    case FD_OUTBOX_NOTE:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Discourse has no private notes on topics, so this note is "
                                 "kept in Frontdesk only."));
      return;

    case FD_OUTBOX_ASSIGN:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Discourse topics have no assignee, so the assignment is "
                                 "kept in Frontdesk only."));
      return;

    case FD_OUTBOX_TAG:
    case FD_OUTBOX_UNTAG:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Frontdesk does not change tags on Discourse, so this tag is "
                                 "kept in Frontdesk only."));
      return;

    default:
      g_task_return_new_error (task, FD_CHANNEL_ERROR, FD_CHANNEL_ERROR_UNSUPPORTED,
                               _("Discourse cannot do this, so it is kept in Frontdesk only."));
      return;
    }
}

static char *
fd_discourse_channel_send_finish (FdChannel     *channel,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, channel), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_discourse_channel_send_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* }}} */

static void
fd_discourse_channel_iface_init (FdChannelInterface *iface)
{
  iface->fetch_async = fd_discourse_channel_fetch_async;
  iface->fetch_finish = fd_discourse_channel_fetch_finish;
  iface->send_async = fd_discourse_channel_send_async;
  iface->send_finish = fd_discourse_channel_send_finish;
}

static void
fd_discourse_channel_finalize (GObject *object)
{
  FdDiscourseChannel *self = (FdDiscourseChannel *)object;

  g_clear_object (&self->http);
  g_clear_pointer (&self->api_username, g_free);
  g_clear_pointer (&self->category_ids, g_array_unref);
  g_clear_pointer (&self->allowed_categories, g_hash_table_unref);
  g_clear_pointer (&self->category_slugs, g_hash_table_unref);

  G_OBJECT_CLASS (fd_discourse_channel_parent_class)->finalize (object);
}

static void
fd_discourse_channel_class_init (FdDiscourseChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_discourse_channel_finalize;
}

static void
fd_discourse_channel_init (FdDiscourseChannel *self)
{
  self->category_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->batch_limit = DEFAULT_BATCH_LIMIT;
}

FdChannel *
fd_discourse_channel_new (const char         *base_url,
                          const char         *api_key,
                          const char         *api_username,
                          const char * const *category_ids)
{
  FdDiscourseChannel *self;

  g_return_val_if_fail (base_url != NULL, NULL);
  g_return_val_if_fail (api_key != NULL, NULL);
  g_return_val_if_fail (api_username != NULL, NULL);

  self = g_object_new (FD_TYPE_DISCOURSE_CHANNEL, NULL);
  self->api_username = g_strdup (api_username);
  self->http = fd_http_client_new ("Discourse", base_url);
  fd_http_client_set_header (self->http, "Api-Key", api_key, TRUE);
  fd_http_client_set_header (self->http, "Api-Username", api_username, FALSE);

  for (guint i = 0; category_ids != NULL && category_ids[i] != NULL; i++)
    {
      gint64 id;

      /* A chosen category that is not a number matches nothing, so a typo can never
       * widen the sync to the whole forum. */
      self->filter_categories = TRUE;
      if (g_ascii_string_to_signed (category_ids[i], 10, 1, G_MAXINT64, &id, NULL))
        g_array_append_val (self->category_ids, id);
      else
        g_debug ("Ignoring category id “%s”: not a number", category_ids[i]);
    }

  return FD_CHANNEL (self);
}

FdHttpClient *
fd_discourse_channel_get_http_client (FdDiscourseChannel *self)
{
  g_return_val_if_fail (FD_IS_DISCOURSE_CHANNEL (self), NULL);

  return self->http;
}

void
fd_discourse_channel_set_batch_limit (FdDiscourseChannel *self,
                                      guint               max_posts)
{
  g_return_if_fail (FD_IS_DISCOURSE_CHANNEL (self));
  g_return_if_fail (max_posts >= 1);

  self->batch_limit = max_posts;
}
