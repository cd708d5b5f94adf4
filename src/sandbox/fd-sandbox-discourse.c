/* fd-sandbox-discourse.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sandbox"

#include "config.h"

#include <string.h>

#include "fd-sandbox-private.h"

/* Discourse under /discourse (a forum installed in a subfolder), after
 * ../shared/specs/discourse-openapi.json. Community conversations are topics in five
 * categories chosen from their tags; their messages are posts (notes are not). Every
 * request needs Api-Key and Api-Username (system, or an agent's username such as
 * sam_rivera). more_topics_url is relative to the forum, like "/latest?page=1".
 *   topic id  conversations.id        post id  messages.id
 *   user id   -1 system, 100 + agents.id (staff), 1000 + contacts.id
 * A post whose raw equals the same user's previous post in the topic is refused with
 * 422, as Discourse does: that is what keeps a retried reply from appearing twice. */

#define CHUNK_SIZE 20
#define AGENT_USER_BASE 100
#define CONTACT_USER_BASE 1000

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS sandbox_discourse_categories ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  slug TEXT NOT NULL UNIQUE,"
  "  color TEXT NOT NULL,"
  "  description TEXT NOT NULL,"
  "  position INTEGER NOT NULL"
  ");"
  "CREATE TABLE IF NOT EXISTS sandbox_discourse_topics ("
  "  id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,"
  "  category_id INTEGER NOT NULL,"
  "  bumped_at INTEGER NOT NULL,"
  "  views INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX IF NOT EXISTS sandbox_discourse_topics_bumped"
  "  ON sandbox_discourse_topics (bumped_at);"
  "CREATE INDEX IF NOT EXISTS sandbox_discourse_topics_category"
  "  ON sandbox_discourse_topics (category_id, bumped_at);"
  "CREATE TABLE IF NOT EXISTS sandbox_discourse_posts ("
  "  id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
  "  topic_id INTEGER NOT NULL,"
  "  post_number INTEGER NOT NULL,"
  "  UNIQUE (topic_id, post_number)"
  ");";

static const char seed_sql[] =
  "INSERT INTO sandbox_discourse_categories (id, name, slug, color, description, position) VALUES"
  " (5, 'Support', 'support', '0088CC', 'Questions about using Lumen.', 1),"
  " (6, 'Billing & Accounts', 'billing', '3AB54A', 'Plans, invoices, seats and payments.', 2),"
  " (7, 'SSO & Enterprise', 'sso-enterprise', '652D90', 'SAML, OIDC, SCIM and domains.', 3),"
  " (8, 'Bug Reports', 'bugs', 'E45735', 'Something is broken? Tell us here.', 4),"
  " (9, 'Feature Requests', 'feature-requests', 'F7941D', 'Ideas for Lumen.', 5);"

  "INSERT INTO sandbox_discourse_topics (id, category_id, bumped_at, views)"
  " SELECT c.id,"
  "  CASE"
  "   WHEN EXISTS (SELECT 1 FROM conversation_tags x JOIN tags t ON t.id = x.tag_id"
  "     WHERE x.conversation_id = c.id"
  "     AND t.name IN ('sso', 'saml', 'oidc', 'scim', 'domains', 'enterprise')) THEN 7"
  "   WHEN EXISTS (SELECT 1 FROM conversation_tags x JOIN tags t ON t.id = x.tag_id"
  "     WHERE x.conversation_id = c.id"
  "     AND t.name IN ('billing', 'payment-failed', 'refund', 'plan-change', 'seats')) THEN 6"
  "   WHEN EXISTS (SELECT 1 FROM conversation_tags x JOIN tags t ON t.id = x.tag_id"
  "     WHERE x.conversation_id = c.id AND t.name = 'bug') THEN 8"
  "   WHEN EXISTS (SELECT 1 FROM conversation_tags x JOIN tags t ON t.id = x.tag_id"
  "     WHERE x.conversation_id = c.id AND t.name = 'feature-request') THEN 9"
  "   ELSE 5 END,"
  "  COALESCE((SELECT MAX(m.created_at) FROM messages m"
  "    WHERE m.conversation_id = c.id AND m.is_note = 0), c.created_at),"
  "  10 + c.id % 290"
  " FROM conversations c WHERE c.channel = 'community';"

  "INSERT INTO sandbox_discourse_posts (id, topic_id, post_number)"
  " SELECT m.id, m.conversation_id,"
  "  ROW_NUMBER() OVER (PARTITION BY m.conversation_id ORDER BY m.created_at, m.id)"
  " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
  " WHERE c.channel = 'community' AND m.is_note = 0;";

static gboolean
discourse_seed (FdSandbox  *self,
                GError    **error)
{
  return _fd_sandbox_exec (self, seed_sql, error);
}

/* {{{ Users and errors */

typedef struct
{
  gint64    id;
  char     *username;
  char     *name;
  gboolean  staff;
} User;

static void
user_clear (User *user)
{
  g_clear_pointer (&user->username, g_free);
  g_clear_pointer (&user->name, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (User, user_clear)

static char *
agent_username (const char *name)
{
  return _fd_sandbox_slugify (name, '_');
}

static void
user_for_author (User       *user,
                 const char *kind,
                 gint64      author_id,
                 const char *name)
{
  if (g_str_equal (kind, "contact") && author_id > 0)
    {
      g_autofree char *slug = _fd_sandbox_slugify (name, '_');

      if (strlen (slug) > 12)
        slug[12] = '\0';
      user->id = CONTACT_USER_BASE + author_id;
      user->username = g_strdup_printf ("%s_%" G_GINT64_FORMAT, slug, author_id);
      user->name = g_strdup (name);
      user->staff = FALSE;
    }
  else if (g_str_equal (kind, "agent") && author_id > 0)
    {
      user->id = AGENT_USER_BASE + author_id;
      user->username = agent_username (name);
      user->name = g_strdup (name);
      user->staff = TRUE;
    }
  else
    {
      user->id = -1;
      user->username = g_strdup ("system");
      user->name = g_strdup ("system");
      user->staff = TRUE;
    }
}

static char *
avatar_template (const char *username)
{
  return g_strdup_printf ("/letter_avatar_proxy/v4/letter/%c/8c91f0/{size}.png",
                          g_ascii_tolower (username[0]));
}

static void
add_user_object (FdJson      *b,
                 const User  *user)
{
  g_autofree char *avatar = avatar_template (user->username);

  _fd_json_begin_object (b);
  _fd_json_int (b, "id", user->id);
  _fd_json_str (b, "username", user->username);
  _fd_json_str (b, "name", user->name);
  _fd_json_str (b, "avatar_template", avatar);
  _fd_json_end_object (b);
}

static void
respond_errors (SoupServerMessage *msg,
                guint              status,
                const char        *error_type,
                const char        *message)
{
  g_autoptr(FdJson) b = _fd_json_new ();

  _fd_json_begin_object (b);
  _fd_json_name (b, "errors");
  _fd_json_begin_array (b);
  _fd_json_add_string (b, message);
  _fd_json_end_array (b);
  if (error_type != NULL)
    _fd_json_str (b, "error_type", error_type);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, status, b);
}

static void
respond_not_found (SoupServerMessage *msg)
{
  respond_errors (msg, SOUP_STATUS_NOT_FOUND, "not_found",
                  "The requested URL or resource could not be found.");
}

static void
respond_post_error (SoupServerMessage *msg,
                    const char        *message)
{
  g_autoptr(FdJson) b = _fd_json_new ();

  _fd_json_begin_object (b);
  _fd_json_str (b, "action", "create_post");
  _fd_json_name (b, "errors");
  _fd_json_begin_array (b);
  _fd_json_add_string (b, message);
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, b);
}

static char *
discourse_fault_body (FdSandboxFaultKind kind,
                      guint              param)
{
  switch (kind)
    {
    case FD_SANDBOX_FAULT_RATE_LIMIT:
      return g_strdup_printf ("{\"errors\":[\"You’ve performed this action too many times. "
                              "Please wait %u seconds before trying again.\"],"
                              "\"error_type\":\"rate_limit\",\"extras\":{\"wait_seconds\":%u,"
                              "\"time_left\":\"%u seconds\"}}", param, param, param);
    case FD_SANDBOX_FAULT_UNAVAILABLE:
      return g_strdup ("{\"errors\":[\"The site is temporarily unavailable.\"],"
                       "\"error_type\":\"unavailable\"}");
    case FD_SANDBOX_FAULT_SERVER_ERROR:
    case FD_SANDBOX_FAULT_SLOW:
    case FD_SANDBOX_FAULT_TRUNCATE:
    case FD_SANDBOX_FAULT_MALFORMED:
    case FD_SANDBOX_FAULT_DROP:
    default:
      return g_strdup ("{\"errors\":[\"Internal Server Error\"],\"error_type\":\"server_error\"}");
    }
}

/* The agent behind Api-Username; 0 for system. FALSE when nobody has that name. */
static gboolean
resolve_api_user (FdSandbox  *self,
                  const char *username,
                  gint64     *agent_id)
{
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT id, name FROM agents ORDER BY id");

  *agent_id = 0;
  if (username == NULL || username[0] == '\0')
    return FALSE;
  if (g_str_equal (username, "system"))
    return TRUE;

  while (sqlite3_step (s) == SQLITE_ROW)
    {
      g_autofree char *candidate = agent_username ((const char *) sqlite3_column_text (s, 1));

      if (g_ascii_strcasecmp (candidate, username) == 0)
        {
          *agent_id = sqlite3_column_int64 (s, 0);
          return TRUE;
        }
    }
  return FALSE;
}

/* }}} */
/* {{{ Posts */

#define POST_COLUMNS \
  "p.id, p.topic_id, p.post_number, m.author_kind, m.author_id, m.author_name, m.body," \
  " m.created_at, mk.content, c.subject"
#define POST_FROM \
  " FROM sandbox_discourse_posts p JOIN messages m ON m.id = p.id" \
  " JOIN conversations c ON c.id = p.topic_id" \
  " LEFT JOIN sandbox_markup mk ON mk.message_id = p.id"

enum { P_ID, P_TOPIC, P_NUMBER, P_KIND, P_AUTHOR, P_AUTHOR_NAME, P_BODY, P_CREATED, P_RAW, P_SUBJECT };

static char *
post_raw (sqlite3_stmt *s)
{
  if (sqlite3_column_type (s, P_RAW) != SQLITE_NULL)
    return g_strdup ((const char *) sqlite3_column_text (s, P_RAW));
  return g_strdup ((const char *) sqlite3_column_text (s, P_BODY));
}

static void
add_post (FdJson       *b,
          sqlite3_stmt *s,
          gboolean      with_raw)
{
  g_auto(User) user = { 0 };
  g_autofree char *raw = post_raw (s);
  g_autofree char *cooked = _fd_sandbox_text_to_html (raw);
  g_autofree char *created = _fd_sandbox_iso8601 (sqlite3_column_int64 (s, P_CREATED));
  g_autofree char *slug = _fd_sandbox_slugify ((const char *) sqlite3_column_text (s, P_SUBJECT), '-');
  g_autofree char *avatar = NULL;
  g_autofree char *url = NULL;

  user_for_author (&user, (const char *) sqlite3_column_text (s, P_KIND),
                   sqlite3_column_int64 (s, P_AUTHOR),
                   (const char *) sqlite3_column_text (s, P_AUTHOR_NAME));
  avatar = avatar_template (user.username);
  url = g_strdup_printf ("/t/%s/%" G_GINT64_FORMAT "/%d", slug, (gint64) sqlite3_column_int64 (s, P_TOPIC),
                         sqlite3_column_int (s, P_NUMBER));

  _fd_json_begin_object (b);
  _fd_json_int (b, "id", sqlite3_column_int64 (s, P_ID));
  _fd_json_str (b, "name", user.name);
  _fd_json_str (b, "username", user.username);
  _fd_json_str (b, "avatar_template", avatar);
  _fd_json_str (b, "created_at", created);
  _fd_json_str (b, "cooked", cooked);
  if (with_raw)
    _fd_json_str (b, "raw", raw);
  _fd_json_int (b, "post_number", sqlite3_column_int (s, P_NUMBER));
  _fd_json_int (b, "post_type", 1);
  _fd_json_str (b, "updated_at", created);
  _fd_json_int (b, "reply_count", 0);
  _fd_json_null (b, "reply_to_post_number");
  _fd_json_int (b, "quote_count", 0);
  _fd_json_int (b, "incoming_link_count", 0);
  _fd_json_int (b, "reads", 1);
  _fd_json_int (b, "readers_count", 0);
  _fd_json_name (b, "score");
  _fd_json_add_double (b, 0.2);
  _fd_json_bool (b, "yours", FALSE);
  _fd_json_int (b, "topic_id", sqlite3_column_int64 (s, P_TOPIC));
  _fd_json_str (b, "topic_slug", slug);
  _fd_json_str (b, "display_username", user.name);
  _fd_json_null (b, "primary_group_name");
  _fd_json_null (b, "flair_name");
  _fd_json_null (b, "flair_url");
  _fd_json_null (b, "flair_bg_color");
  _fd_json_null (b, "flair_color");
  _fd_json_int (b, "version", 1);
  _fd_json_bool (b, "can_edit", TRUE);
  _fd_json_bool (b, "can_delete", FALSE);
  _fd_json_bool (b, "can_recover", FALSE);
  _fd_json_bool (b, "can_wiki", FALSE);
  _fd_json_bool (b, "read", TRUE);
  _fd_json_null (b, "user_title");
  _fd_json_bool (b, "bookmarked", FALSE);
  _fd_json_name (b, "actions_summary");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_bool (b, "moderator", user.staff);
  _fd_json_bool (b, "admin", user.staff);
  _fd_json_bool (b, "staff", user.staff);
  _fd_json_int (b, "user_id", user.id);
  _fd_json_bool (b, "hidden", FALSE);
  _fd_json_int (b, "trust_level", user.staff ? 4 : 1);
  _fd_json_null (b, "deleted_at");
  _fd_json_bool (b, "user_deleted", FALSE);
  _fd_json_null (b, "edit_reason");
  _fd_json_bool (b, "can_view_edit_history", TRUE);
  _fd_json_bool (b, "wiki", FALSE);
  _fd_json_str (b, "post_url", url);
  _fd_json_int (b, "reviewable_id", 0);
  _fd_json_int (b, "reviewable_score_count", 0);
  _fd_json_int (b, "reviewable_score_pending_count", 0);
  _fd_json_end_object (b);
}

/* }}} */
/* {{{ Topics */

#define TOPIC_COLUMNS \
  "t.id, c.subject, c.created_at, t.bumped_at, t.category_id, t.views, c.status," \
  " (SELECT COUNT(*) FROM sandbox_discourse_posts p WHERE p.topic_id = t.id)," \
  " (SELECT MAX(post_number) FROM sandbox_discourse_posts p WHERE p.topic_id = t.id)"
#define TOPIC_FROM \
  " FROM sandbox_discourse_topics t JOIN conversations c ON c.id = t.id"

enum { T_ID, T_SUBJECT, T_CREATED, T_BUMPED, T_CATEGORY, T_VIEWS, T_STATUS, T_POSTS, T_HIGHEST };

/* The author of post @number (1: the original poster; -1: the last). */
static void
topic_poster (FdSandbox *self,
              gint64     topic_id,
              int        number,
              User      *user)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, number > 0
                            ? "SELECT m.author_kind, m.author_id, m.author_name"
                              " FROM sandbox_discourse_posts p JOIN messages m ON m.id = p.id"
                              " WHERE p.topic_id = ? ORDER BY p.post_number LIMIT 1"
                            : "SELECT m.author_kind, m.author_id, m.author_name"
                              " FROM sandbox_discourse_posts p JOIN messages m ON m.id = p.id"
                              " WHERE p.topic_id = ? ORDER BY p.post_number DESC LIMIT 1");

  sqlite3_bind_int64 (s, 1, topic_id);
  if (sqlite3_step (s) == SQLITE_ROW)
    user_for_author (user, (const char *) sqlite3_column_text (s, 0), sqlite3_column_int64 (s, 1),
                     (const char *) sqlite3_column_text (s, 2));
  else
    user_for_author (user, "system", 0, NULL);
}

static void
remember_user (GHashTable *users,
               User       *user)
{
  User *copy;

  if (g_hash_table_contains (users, &user->id))
    return;
  copy = g_new0 (User, 1);
  copy->id = user->id;
  copy->username = g_strdup (user->username);
  copy->name = g_strdup (user->name);
  copy->staff = user->staff;
  g_hash_table_insert (users, &copy->id, copy);
}

static void
user_free (gpointer data)
{
  user_clear (data);
  g_free (data);
}

static void
add_poster (FdJson      *b,
            const User  *user,
            const char  *extras,
            const char  *description)
{
  _fd_json_begin_object (b);
  _fd_json_str (b, "extras", extras);
  _fd_json_str (b, "description", description);
  _fd_json_int (b, "user_id", user->id);
  _fd_json_null (b, "primary_group_id");
  _fd_json_end_object (b);
}

static void
add_topic_item (FdSandbox    *self,
                FdJson       *b,
                sqlite3_stmt *s,
                GHashTable   *users)
{
  gint64 id = sqlite3_column_int64 (s, T_ID);
  const char *title = (const char *) sqlite3_column_text (s, T_SUBJECT);
  g_autofree char *fancy = g_markup_escape_text (title, -1);
  g_autofree char *slug = _fd_sandbox_slugify (title, '-');
  g_autofree char *created = _fd_sandbox_iso8601 (sqlite3_column_int64 (s, T_CREATED));
  g_autofree char *bumped = _fd_sandbox_iso8601 (sqlite3_column_int64 (s, T_BUMPED));
  g_auto(User) op = { 0 };
  g_auto(User) last = { 0 };
  gint64 posts = sqlite3_column_int64 (s, T_POSTS);

  topic_poster (self, id, 1, &op);
  topic_poster (self, id, -1, &last);
  remember_user (users, &op);
  remember_user (users, &last);

  _fd_json_begin_object (b);
  _fd_json_int (b, "id", id);
  _fd_json_str (b, "title", title);
  _fd_json_str (b, "fancy_title", fancy);
  _fd_json_str (b, "slug", slug);
  _fd_json_int (b, "posts_count", posts);
  _fd_json_int (b, "reply_count", MAX (posts - 1, 0));
  _fd_json_int (b, "highest_post_number", sqlite3_column_int64 (s, T_HIGHEST));
  _fd_json_null (b, "image_url");
  _fd_json_str (b, "created_at", created);
  _fd_json_str (b, "last_posted_at", bumped);
  _fd_json_bool (b, "bumped", TRUE);
  _fd_json_str (b, "bumped_at", bumped);
  _fd_json_str (b, "archetype", "regular");
  _fd_json_bool (b, "unseen", FALSE);
  _fd_json_bool (b, "pinned", FALSE);
  _fd_json_null (b, "unpinned");
  _fd_json_bool (b, "visible", TRUE);
  _fd_json_bool (b, "closed", FALSE);
  _fd_json_bool (b, "archived", FALSE);
  _fd_json_null (b, "bookmarked");
  _fd_json_null (b, "liked");
  _fd_json_int (b, "views", sqlite3_column_int64 (s, T_VIEWS));
  _fd_json_int (b, "like_count", 0);
  _fd_json_bool (b, "has_summary", FALSE);
  _fd_json_str (b, "last_poster_username", last.username);
  _fd_json_int (b, "category_id", sqlite3_column_int64 (s, T_CATEGORY));
  _fd_json_bool (b, "pinned_globally", FALSE);
  _fd_json_null (b, "featured_link");
  _fd_json_bool (b, "has_accepted_answer",
                 g_str_equal ((const char *) sqlite3_column_text (s, T_STATUS), "resolved"));
  _fd_json_name (b, "posters");
  _fd_json_begin_array (b);
  add_poster (b, &op, op.id == last.id ? "latest single" : "", "Original Poster");
  if (op.id != last.id)
    add_poster (b, &last, "latest", "Most Recent Poster");
  _fd_json_end_array (b);
  _fd_json_end_object (b);
}

/* Sends a topic list: /latest.json, or a category's. */
static void
respond_topic_list (FdSandbox         *self,
                    SoupServerMessage *msg,
                    GHashTable        *query,
                    gint64             category_id,
                    const char        *more_base)
{
  const char *order = query ? g_hash_table_lookup (query, "order") : NULL;
  const char *ascending = query ? g_hash_table_lookup (query, "ascending") : NULL;
  gboolean asc = ascending != NULL && g_str_equal (ascending, "true");
  gboolean by_created = order != NULL && g_str_equal (order, "created");
  gint64 page = 0, per_page = 30, value, n = 0;
  g_autoptr(GHashTable) users = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, user_free);
  g_autoptr(FdJson) b = _fd_json_new ();
  g_autofree char *sql = NULL;
  gboolean more = FALSE;

  if (query != NULL && _fd_sandbox_parse_int (g_hash_table_lookup (query, "page"), &value) && value >= 0)
    page = value;
  if (query != NULL && _fd_sandbox_parse_int (g_hash_table_lookup (query, "per_page"), &value) && value >= 1)
    per_page = MIN (value, 100);

  sql = g_strdup_printf ("SELECT " TOPIC_COLUMNS TOPIC_FROM " WHERE (?1 = 0 OR t.category_id = ?1)"
                         " ORDER BY %s %s, t.id %s LIMIT ?2 OFFSET ?3",
                         by_created ? "c.created_at" : "t.bumped_at",
                         asc ? "ASC" : "DESC", asc ? "ASC" : "DESC");

  _fd_json_begin_object (b);
  _fd_json_name (b, "topic_list");
  _fd_json_begin_object (b);
  _fd_json_bool (b, "can_create_topic", TRUE);
  _fd_json_int (b, "per_page", per_page);
  _fd_json_name (b, "topics");
  _fd_json_begin_array (b);
  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, sql);

    sqlite3_bind_int64 (s, 1, category_id);
    sqlite3_bind_int64 (s, 2, per_page + 1);
    sqlite3_bind_int64 (s, 3, page * per_page);
    while (sqlite3_step (s) == SQLITE_ROW)
      {
        if (n == per_page)
          {
            more = TRUE;
            break;
          }
        add_topic_item (self, b, s, users);
        n++;
      }
  }
  _fd_json_end_array (b);
  if (more)
    {
      GString *url = g_string_new (more_base);

      g_string_append_printf (url, "?page=%" G_GINT64_FORMAT, page + 1);
      if (per_page != 30)
        g_string_append_printf (url, "&per_page=%" G_GINT64_FORMAT, per_page);
      if (order != NULL)
        g_string_append_printf (url, "&order=%s", by_created ? "created" : "activity");
      if (asc)
        g_string_append (url, "&ascending=true");
      _fd_json_str (b, "more_topics_url", url->str);
      g_string_free (url, TRUE);
    }
  _fd_json_end_object (b);

  _fd_json_name (b, "users");
  _fd_json_begin_array (b);
  {
    GHashTableIter iter;
    gpointer user;

    g_hash_table_iter_init (&iter, users);
    while (g_hash_table_iter_next (&iter, NULL, &user))
      add_user_object (b, user);
  }
  _fd_json_end_array (b);
  _fd_json_name (b, "primary_groups");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

static void
handle_categories (FdSandbox         *self,
                   SoupServerMessage *msg)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT k.id, k.name, k.slug, k.color, k.description, k.position,"
                            " (SELECT COUNT(*) FROM sandbox_discourse_topics t WHERE t.category_id = k.id),"
                            " (SELECT COUNT(*) FROM sandbox_discourse_topics t"
                            "   JOIN sandbox_discourse_posts p ON p.topic_id = t.id"
                            "   WHERE t.category_id = k.id)"
                            " FROM sandbox_discourse_categories k ORDER BY k.position");
  g_autoptr(FdJson) b = _fd_json_new ();

  _fd_json_begin_object (b);
  _fd_json_name (b, "category_list");
  _fd_json_begin_object (b);
  _fd_json_bool (b, "can_create_category", TRUE);
  _fd_json_bool (b, "can_create_topic", TRUE);
  _fd_json_name (b, "categories");
  _fd_json_begin_array (b);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      g_autofree char *url = g_strdup_printf ("/c/%s/%" G_GINT64_FORMAT,
                                              (const char *) sqlite3_column_text (s, 2),
                                              (gint64) sqlite3_column_int64 (s, 0));
      const char *description = (const char *) sqlite3_column_text (s, 4);
      g_autofree char *html = _fd_sandbox_text_to_html (description);
      gint64 topics = sqlite3_column_int64 (s, 6);

      _fd_json_begin_object (b);
      _fd_json_int (b, "id", sqlite3_column_int64 (s, 0));
      _fd_json_str (b, "name", (const char *) sqlite3_column_text (s, 1));
      _fd_json_str (b, "color", (const char *) sqlite3_column_text (s, 3));
      _fd_json_str (b, "text_color", "FFFFFF");
      _fd_json_str (b, "style_type", "square");
      _fd_json_null (b, "emoji");
      _fd_json_null (b, "icon");
      _fd_json_str (b, "slug", (const char *) sqlite3_column_text (s, 2));
      _fd_json_int (b, "topic_count", topics);
      _fd_json_int (b, "post_count", sqlite3_column_int64 (s, 7));
      _fd_json_int (b, "position", sqlite3_column_int64 (s, 5));
      _fd_json_str (b, "description", html);
      _fd_json_str (b, "description_text", description);
      _fd_json_str (b, "description_excerpt", description);
      _fd_json_str (b, "topic_url", url);
      _fd_json_bool (b, "read_restricted", FALSE);
      _fd_json_int (b, "permission", 1);
      _fd_json_int (b, "notification_level", 1);
      _fd_json_bool (b, "can_edit", TRUE);
      _fd_json_null (b, "topic_template");
      _fd_json_null (b, "topic_title_placeholder");
      _fd_json_bool (b, "has_children", FALSE);
      _fd_json_int (b, "subcategory_count", 0);
      _fd_json_null (b, "sort_order");
      _fd_json_null (b, "sort_ascending");
      _fd_json_bool (b, "show_subcategory_list", FALSE);
      _fd_json_int (b, "num_featured_topics", 3);
      _fd_json_null (b, "default_view");
      _fd_json_str (b, "subcategory_list_style", "rows_with_featured_topics");
      _fd_json_str (b, "default_top_period", "all");
      _fd_json_str (b, "default_list_filter", "all");
      _fd_json_int (b, "minimum_required_tags", 0);
      _fd_json_bool (b, "navigate_to_first_post_after_read", FALSE);
      _fd_json_int (b, "topics_day", 0);
      _fd_json_int (b, "topics_week", 0);
      _fd_json_int (b, "topics_month", topics);
      _fd_json_int (b, "topics_year", topics);
      _fd_json_int (b, "topics_all_time", topics);
      _fd_json_bool (b, "is_uncategorized", FALSE);
      _fd_json_name (b, "subcategory_ids");
      _fd_json_begin_array (b);
      _fd_json_end_array (b);
      _fd_json_null (b, "subcategory_list");
      _fd_json_null (b, "uploaded_logo");
      _fd_json_null (b, "uploaded_logo_dark");
      _fd_json_null (b, "uploaded_background");
      _fd_json_null (b, "uploaded_background_dark");
      _fd_json_end_object (b);
    }
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

/* "5.json" or "5" → 5. */
static gboolean
parse_json_id (const char *text,
               gint64     *id)
{
  g_autofree char *copy = NULL;

  if (text == NULL)
    return FALSE;
  copy = g_strdup (text);
  if (g_str_has_suffix (copy, ".json"))
    copy[strlen (copy) - 5] = '\0';
  return _fd_sandbox_parse_int (copy, id) && *id > 0;
}

static void
handle_category_topics (FdSandbox         *self,
                        SoupServerMessage *msg,
                        GHashTable        *query,
                        const char        *slug,
                        gint64             id)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT slug FROM sandbox_discourse_categories WHERE id = ?");
  g_autofree char *base = NULL;

  sqlite3_bind_int64 (s, 1, id);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      respond_not_found (msg);
      return;
    }
  base = g_strdup_printf ("/c/%s/%" G_GINT64_FORMAT "/l/latest",
                          (const char *) sqlite3_column_text (s, 0), id);
  respond_topic_list (self, msg, query, id, base);
}

static gboolean
topic_exists (FdSandbox *self,
              gint64     id)
{
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT 1 FROM sandbox_discourse_topics WHERE id = ?");

  sqlite3_bind_int64 (s, 1, id);
  return sqlite3_step (s) == SQLITE_ROW;
}

static void
add_participant (FdJson      *b,
                 const User  *user,
                 gint64       post_count)
{
  g_autofree char *avatar = avatar_template (user->username);

  _fd_json_begin_object (b);
  _fd_json_int (b, "id", user->id);
  _fd_json_str (b, "username", user->username);
  _fd_json_str (b, "name", user->name);
  _fd_json_str (b, "avatar_template", avatar);
  _fd_json_int (b, "post_count", post_count);
  _fd_json_null (b, "primary_group_name");
  _fd_json_null (b, "flair_name");
  _fd_json_null (b, "flair_url");
  _fd_json_null (b, "flair_color");
  _fd_json_null (b, "flair_bg_color");
  _fd_json_null (b, "flair_group_id");
  _fd_json_bool (b, "admin", user->staff);
  _fd_json_bool (b, "moderator", user->staff);
  _fd_json_int (b, "trust_level", user->staff ? 4 : 1);
  _fd_json_end_object (b);
}

static void
handle_topic (FdSandbox         *self,
              SoupServerMessage *msg,
              gint64             id)
{
  g_autoptr(FdSandboxStmt) t =
    _fd_sandbox_stmt (self, "SELECT " TOPIC_COLUMNS TOPIC_FROM " WHERE t.id = ?");
  g_autoptr(FdJson) b = _fd_json_new ();
  g_autofree char *slug = NULL;
  g_autofree char *fancy = NULL;
  g_autofree char *created = NULL;
  g_autofree char *bumped = NULL;
  g_autofree char *draft_key = NULL;
  g_auto(User) op = { 0 };
  g_auto(User) last = { 0 };
  gint64 words = 0;
  guint participants = 0;

  sqlite3_bind_int64 (t, 1, id);
  if (sqlite3_step (t) != SQLITE_ROW)
    {
      respond_not_found (msg);
      return;
    }

  slug = _fd_sandbox_slugify ((const char *) sqlite3_column_text (t, T_SUBJECT), '-');
  fancy = g_markup_escape_text ((const char *) sqlite3_column_text (t, T_SUBJECT), -1);
  created = _fd_sandbox_iso8601 (sqlite3_column_int64 (t, T_CREATED));
  bumped = _fd_sandbox_iso8601 (sqlite3_column_int64 (t, T_BUMPED));
  draft_key = g_strdup_printf ("topic_%" G_GINT64_FORMAT, id);
  topic_poster (self, id, 1, &op);
  topic_poster (self, id, -1, &last);

  _fd_json_begin_object (b);
  _fd_json_name (b, "post_stream");
  _fd_json_begin_object (b);
  _fd_json_name (b, "posts");
  _fd_json_begin_array (b);
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT " POST_COLUMNS POST_FROM
                              " WHERE p.topic_id = ? ORDER BY p.post_number LIMIT ?");

    sqlite3_bind_int64 (s, 1, id);
    sqlite3_bind_int (s, 2, CHUNK_SIZE);
    while (sqlite3_step (s) == SQLITE_ROW)
      add_post (b, s, FALSE);
  }
  _fd_json_end_array (b);
  _fd_json_name (b, "stream");
  _fd_json_begin_array (b);
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT p.id, length(m.body) - length(replace(m.body, ' ', '')) + 1"
                              " FROM sandbox_discourse_posts p JOIN messages m ON m.id = p.id"
                              " WHERE p.topic_id = ? ORDER BY p.post_number");

    sqlite3_bind_int64 (s, 1, id);
    while (sqlite3_step (s) == SQLITE_ROW)
      {
        _fd_json_add_int (b, sqlite3_column_int64 (s, 0));
        words += sqlite3_column_int64 (s, 1);
      }
  }
  _fd_json_end_array (b);
  _fd_json_end_object (b);

  _fd_json_name (b, "timeline_lookup");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_name (b, "suggested_topics");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_name (b, "tags");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_name (b, "tags_descriptions");
  _fd_json_begin_object (b);
  _fd_json_end_object (b);
  _fd_json_int (b, "id", id);
  _fd_json_str (b, "title", (const char *) sqlite3_column_text (t, T_SUBJECT));
  _fd_json_str (b, "fancy_title", fancy);
  _fd_json_int (b, "posts_count", sqlite3_column_int64 (t, T_POSTS));
  _fd_json_str (b, "created_at", created);
  _fd_json_int (b, "views", sqlite3_column_int64 (t, T_VIEWS));
  _fd_json_int (b, "reply_count", MAX (sqlite3_column_int64 (t, T_POSTS) - 1, 0));
  _fd_json_int (b, "like_count", 0);
  _fd_json_str (b, "last_posted_at", bumped);
  _fd_json_bool (b, "visible", TRUE);
  _fd_json_bool (b, "closed", FALSE);
  _fd_json_bool (b, "archived", FALSE);
  _fd_json_bool (b, "has_summary", FALSE);
  _fd_json_str (b, "archetype", "regular");
  _fd_json_str (b, "slug", slug);
  _fd_json_int (b, "category_id", sqlite3_column_int64 (t, T_CATEGORY));
  _fd_json_int (b, "word_count", words);
  _fd_json_null (b, "deleted_at");
  _fd_json_int (b, "user_id", op.id);
  _fd_json_null (b, "featured_link");
  _fd_json_bool (b, "pinned_globally", FALSE);
  _fd_json_null (b, "pinned_at");
  _fd_json_null (b, "pinned_until");
  _fd_json_null (b, "image_url");
  _fd_json_int (b, "slow_mode_seconds", 0);
  _fd_json_null (b, "draft");
  _fd_json_str (b, "draft_key", draft_key);
  _fd_json_int (b, "draft_sequence", 0);
  _fd_json_null (b, "unpinned");
  _fd_json_bool (b, "pinned", FALSE);
  _fd_json_int (b, "current_post_number", 1);
  _fd_json_int (b, "highest_post_number", sqlite3_column_int64 (t, T_HIGHEST));
  _fd_json_null (b, "deleted_by");
  _fd_json_bool (b, "has_deleted", FALSE);
  _fd_json_name (b, "actions_summary");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_int (b, "chunk_size", CHUNK_SIZE);
  _fd_json_bool (b, "bookmarked", FALSE);
  _fd_json_name (b, "bookmarks");
  _fd_json_begin_array (b);
  _fd_json_end_array (b);
  _fd_json_null (b, "topic_timer");
  _fd_json_int (b, "message_bus_last_id", 0);
  _fd_json_bool (b, "show_read_indicator", FALSE);
  _fd_json_null (b, "thumbnails");
  _fd_json_null (b, "slow_mode_enabled_until");
  _fd_json_bool (b, "has_accepted_answer",
                 g_str_equal ((const char *) sqlite3_column_text (t, T_STATUS), "resolved"));

  _fd_json_name (b, "details");
  _fd_json_begin_object (b);
  _fd_json_bool (b, "can_edit", TRUE);
  _fd_json_int (b, "notification_level", 1);
  _fd_json_bool (b, "can_move_posts", TRUE);
  _fd_json_bool (b, "can_delete", FALSE);
  _fd_json_bool (b, "can_remove_allowed_users", FALSE);
  _fd_json_bool (b, "can_create_post", TRUE);
  _fd_json_bool (b, "can_reply_as_new_topic", TRUE);
  _fd_json_bool (b, "can_flag_topic", TRUE);
  _fd_json_bool (b, "can_close_topic", TRUE);
  _fd_json_bool (b, "can_archive_topic", TRUE);
  _fd_json_name (b, "participants");
  _fd_json_begin_array (b);
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT m.author_kind, m.author_id, MIN(m.author_name), COUNT(*)"
                              " FROM sandbox_discourse_posts p JOIN messages m ON m.id = p.id"
                              " WHERE p.topic_id = ? GROUP BY m.author_kind, m.author_id"
                              " ORDER BY COUNT(*) DESC, MIN(p.post_number)");

    sqlite3_bind_int64 (s, 1, id);
    while (sqlite3_step (s) == SQLITE_ROW)
      {
        g_auto(User) user = { 0 };

        user_for_author (&user, (const char *) sqlite3_column_text (s, 0),
                         sqlite3_column_int64 (s, 1), (const char *) sqlite3_column_text (s, 2));
        add_participant (b, &user, sqlite3_column_int64 (s, 3));
        participants++;
      }
  }
  _fd_json_end_array (b);
  _fd_json_name (b, "created_by");
  add_user_object (b, &op);
  _fd_json_name (b, "last_poster");
  add_user_object (b, &last);
  _fd_json_end_object (b);
  _fd_json_int (b, "participant_count", participants);
  _fd_json_end_object (b);

  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

static void
handle_topic_posts (FdSandbox         *self,
                    SoupServerMessage *msg,
                    gint64             id)
{
  g_autoptr(GPtrArray) ids = _fd_sandbox_query_all (msg, "post_ids[]");
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT " POST_COLUMNS POST_FROM " WHERE p.id = ? AND p.topic_id = ?");
  g_autoptr(FdJson) b = _fd_json_new ();

  if (!topic_exists (self, id))
    {
      respond_not_found (msg);
      return;
    }
  if (ids->len == 0)
    {
      g_ptr_array_unref (ids);
      ids = _fd_sandbox_query_all (msg, "post_ids");
    }

  _fd_json_begin_object (b);
  _fd_json_name (b, "post_stream");
  _fd_json_begin_object (b);
  _fd_json_name (b, "posts");
  _fd_json_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 post;

      if (!_fd_sandbox_parse_int (g_ptr_array_index (ids, i), &post))
        continue;
      sqlite3_bind_int64 (s, 1, post);
      sqlite3_bind_int64 (s, 2, id);
      if (sqlite3_step (s) == SQLITE_ROW)
        add_post (b, s, FALSE);
      sqlite3_reset (s);
    }
  _fd_json_end_array (b);
  _fd_json_end_object (b);
  _fd_json_int (b, "id", id);
  _fd_json_end_object (b);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

static void
handle_single_post (FdSandbox         *self,
                    SoupServerMessage *msg,
                    gint64             id)
{
  g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT " POST_COLUMNS POST_FROM " WHERE p.id = ?");
  g_autoptr(FdJson) b = _fd_json_new ();

  sqlite3_bind_int64 (s, 1, id);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      respond_not_found (msg);
      return;
    }
  add_post (b, s, TRUE);
  _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
}

/* }}} */
/* {{{ Writes */

/* Adds a post to a topic and bumps it. Returns the post id. */
static gint64
add_post_row (FdSandbox   *self,
              gint64       topic_id,
              const char  *author_kind,
              gint64       author_id,
              const char  *author_name,
              const char  *raw,
              GError     **error)
{
  FdSandboxNewMessage m = { 0 };
  gint64 message, number = 1;

  m.conversation_id = topic_id;
  m.author_kind = author_kind;
  m.author_id = author_id;
  m.author_name = author_name;
  m.body = raw;
  m.markup = raw;
  message = _fd_sandbox_add_message (self, &m, error);
  if (message == 0)
    return 0;

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT COALESCE(MAX(post_number), 0) + 1 FROM sandbox_discourse_posts"
                              " WHERE topic_id = ?");

    sqlite3_bind_int64 (s, 1, topic_id);
    if (sqlite3_step (s) == SQLITE_ROW)
      number = sqlite3_column_int64 (s, 0);
  }
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "INSERT INTO sandbox_discourse_posts (id, topic_id, post_number)"
                              " VALUES (?, ?, ?)");

    sqlite3_bind_int64 (s, 1, message);
    sqlite3_bind_int64 (s, 2, topic_id);
    sqlite3_bind_int64 (s, 3, number);
    if (!_fd_sandbox_step_done (self, s, error))
      return 0;
  }
  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "UPDATE sandbox_discourse_topics SET bumped_at ="
                              " (SELECT created_at FROM messages WHERE id = ?) WHERE id = ?");

    sqlite3_bind_int64 (s, 1, message);
    sqlite3_bind_int64 (s, 2, topic_id);
    if (!_fd_sandbox_step_done (self, s, error))
      return 0;
  }

  return message;
}

static gint64
add_topic_row (FdSandbox   *self,
               const char  *title,
               gint64       category_id,
               gint64       contact_id,
               GError     **error)
{
  gint64 organisation = 0, topic;

  if (contact_id > 0)
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT organisation_id FROM contacts WHERE id = ?");

      sqlite3_bind_int64 (s, 1, contact_id);
      if (sqlite3_step (s) == SQLITE_ROW)
        organisation = sqlite3_column_int64 (s, 0);
    }

  topic = _fd_sandbox_add_conversation (self, "community", title, contact_id, organisation, 0, error);
  if (topic == 0)
    return 0;

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "INSERT INTO sandbox_discourse_topics (id, category_id, bumped_at)"
                              " SELECT ?, id, ? FROM sandbox_discourse_categories"
                              " ORDER BY id = ? DESC, position LIMIT 1");

    sqlite3_bind_int64 (s, 1, topic);
    sqlite3_bind_int64 (s, 2, self->last_write_at);
    sqlite3_bind_int64 (s, 3, category_id);
    if (!_fd_sandbox_step_done (self, s, error))
      return 0;
  }

  return topic;
}

/* Discourse's duplicate check: the same raw as this user's latest post in the topic. */
static gboolean
is_duplicate (FdSandbox  *self,
              gint64      topic_id,
              const char *author_kind,
              gint64      author_id,
              const char *raw)
{
  g_autoptr(FdSandboxStmt) s =
    _fd_sandbox_stmt (self, "SELECT COALESCE(mk.content, m.body) FROM sandbox_discourse_posts p"
                            " JOIN messages m ON m.id = p.id"
                            " LEFT JOIN sandbox_markup mk ON mk.message_id = m.id"
                            " WHERE p.topic_id = ? AND m.author_kind = ?"
                            " AND COALESCE(m.author_id, 0) = ?"
                            " ORDER BY p.post_number DESC LIMIT 1");
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  sqlite3_bind_int64 (s, 1, topic_id);
  sqlite3_bind_text (s, 2, author_kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 3, author_id);
  if (sqlite3_step (s) != SQLITE_ROW)
    return FALSE;

  a = g_strstrip (g_strdup ((const char *) sqlite3_column_text (s, 0)));
  b = g_strstrip (g_strdup (raw));
  return g_str_equal (a, b);
}

static void
handle_create_post (FdSandbox         *self,
                    SoupServerMessage *msg,
                    GHashTable        *query,
                    gint64             agent_id)
{
  g_autoptr(GHashTable) params = _fd_sandbox_read_params (msg, query);
  const char *raw = g_hash_table_lookup (params, "raw");
  const char *title = g_hash_table_lookup (params, "title");
  const char *author_kind = agent_id > 0 ? "agent" : "system";
  g_autofree char *author_name = NULL;
  g_autoptr(GError) error = NULL;
  gint64 topic = 0, category = 0, post;

  if (raw == NULL || raw[strspn (raw, " \t\r\n")] == '\0')
    {
      respond_post_error (msg, "Body can’t be blank");
      return;
    }

  if (agent_id > 0)
    {
      g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name FROM agents WHERE id = ?");

      sqlite3_bind_int64 (s, 1, agent_id);
      if (sqlite3_step (s) == SQLITE_ROW)
        author_name = g_strdup ((const char *) sqlite3_column_text (s, 0));
    }
  else
    author_name = g_strdup ("system");

  if (_fd_sandbox_parse_int (g_hash_table_lookup (params, "topic_id"), &topic))
    {
      if (!topic_exists (self, topic))
        {
          respond_not_found (msg);
          return;
        }
      if (is_duplicate (self, topic, author_kind, agent_id, raw))
        {
          respond_post_error (msg, "Body is too similar to what you recently posted");
          return;
        }
    }
  else if (title == NULL || title[0] == '\0')
    {
      respond_post_error (msg, "Title can’t be blank");
      return;
    }
  else
    _fd_sandbox_parse_int (g_hash_table_lookup (params, "category"), &category);

  if (!fd_store_begin (self->db, &error))
    {
      respond_errors (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", error->message);
      return;
    }
  if (topic == 0)
    topic = add_topic_row (self, title, category, 0, &error);
  post = topic > 0 ? add_post_row (self, topic, author_kind, agent_id, author_name, raw, &error) : 0;
  if (post == 0 || !fd_store_commit (self->db, &error))
    {
      fd_store_rollback (self->db);
      respond_errors (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error",
                      error ? error->message : "Internal Server Error");
      return;
    }

  {
    g_autoptr(FdSandboxStmt) s =
      _fd_sandbox_stmt (self, "SELECT " POST_COLUMNS POST_FROM " WHERE p.id = ?");
    g_autoptr(FdJson) b = _fd_json_new ();

    sqlite3_bind_int64 (s, 1, post);
    sqlite3_step (s);
    add_post (b, s, TRUE);
    _fd_sandbox_respond_builder (msg, SOUP_STATUS_OK, b);
  }
}

/* }}} */
/* {{{ Dispatch */

static void
discourse_handle (FdSandbox         *self,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query)
{
  const char *key = _fd_sandbox_header (msg, "Api-Key");
  const char *username = _fd_sandbox_header (msg, "Api-Username");
  const char *method = soup_server_message_get_method (msg);
  gboolean get = g_str_equal (method, "GET");
  g_auto(GStrv) parts = NULL;
  gint64 agent_id = 0, id;
  guint n;

  if (key == NULL || !g_str_equal (key, self->tokens[FD_SANDBOX_TOKEN_DISCOURSE_KEY]) ||
      !resolve_api_user (self, username, &agent_id))
    {
      respond_errors (msg, SOUP_STATUS_FORBIDDEN, "invalid_access",
                      "You are not permitted to view the requested resource. The API username "
                      "or key is invalid.");
      return;
    }

  while (*path == '/')
    path++;
  parts = g_strsplit (path, "/", 6);
  n = g_strv_length (parts);

  if (n == 0)
    respond_not_found (msg);
  else if (n == 1 && get && (g_str_equal (parts[0], "latest.json") || g_str_equal (parts[0], "latest")))
    respond_topic_list (self, msg, query, 0, "/latest");
  else if (n == 1 && get && g_str_equal (parts[0], "categories.json"))
    handle_categories (self, msg);
  else if (n == 1 && g_str_equal (method, "POST") && g_str_equal (parts[0], "posts.json"))
    handle_create_post (self, msg, query, agent_id);
  else if (n == 2 && get && g_str_equal (parts[0], "posts") && parse_json_id (parts[1], &id))
    handle_single_post (self, msg, id);
  else if (get && g_str_equal (parts[0], "c") && n >= 3 && parse_json_id (parts[2], &id) &&
           (n == 3 || (n == 5 && g_str_equal (parts[3], "l") &&
                       (g_str_equal (parts[4], "latest.json") || g_str_equal (parts[4], "latest")))))
    handle_category_topics (self, msg, query, parts[1], id);
  else if (get && g_str_equal (parts[0], "t") && n == 2 && parse_json_id (parts[1], &id))
    handle_topic (self, msg, id);
  else if (get && g_str_equal (parts[0], "t") && n == 3 && parse_json_id (parts[2], &id) &&
           !g_str_equal (parts[2], "posts.json"))
    handle_topic (self, msg, id);   /* /t/{slug}/{id}.json */
  else if (get && g_str_equal (parts[0], "t") && n == 3 && g_str_equal (parts[2], "posts.json") &&
           parse_json_id (parts[1], &id))
    handle_topic_posts (self, msg, id);
  else
    respond_not_found (msg);
}

/* }}} */
/* {{{ Incoming */

static gboolean
discourse_incoming (FdSandbox    *self,
                    JsonObject   *request,
                    FdJson       *reply,
                    GError      **error)
{
  g_autofree char *external = _fd_sandbox_member_text (request, "conversation_external_id");
  const char *body = json_object_get_string_member_with_default (request, "body", NULL);
  const char *author = json_object_get_string_member_with_default (request, "author", NULL);
  gboolean is_new = json_object_get_boolean_member_with_default (request, "new", FALSE) ||
                    (external != NULL && g_str_equal (external, "new"));
  g_autofree char *name = NULL;
  gint64 topic = 0, contact = 0, post;

  if (body == NULL || body[0] == '\0')
    {
      g_set_error_literal (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID, "body is required.");
      return FALSE;
    }

  if (is_new)
    contact = _fd_sandbox_find_contact (self, author, 1);
  else
    {
      g_autoptr(FdSandboxStmt) s =
        _fd_sandbox_stmt (self, "SELECT c.id, c.contact_id FROM conversations c"
                                " JOIN sandbox_discourse_topics t ON t.id = c.id"
                                " WHERE c.id = CAST(?1 AS INTEGER) OR c.external_id = ?1");

      sqlite3_bind_text (s, 1, external ? external : "", -1, SQLITE_STATIC);
      if (external == NULL || sqlite3_step (s) != SQLITE_ROW)
        {
          g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                       "No Discourse topic “%s”.", external ? external : "");
          return FALSE;
        }
      topic = sqlite3_column_int64 (s, 0);
      contact = _fd_sandbox_find_contact (self, author, sqlite3_column_int64 (s, 1));
    }

  if (contact == 0)
    {
      g_set_error (error, FD_SANDBOX_ERROR, FD_SANDBOX_ERROR_INVALID,
                   "No customer matches “%s”.", author ? author : "");
      return FALSE;
    }
  {
    g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT name FROM contacts WHERE id = ?");

    sqlite3_bind_int64 (s, 1, contact);
    if (sqlite3_step (s) == SQLITE_ROW)
      name = g_strdup ((const char *) sqlite3_column_text (s, 0));
  }

  if (is_new)
    {
      const char *title = json_object_get_string_member_with_default (request, "subject", NULL);
      g_autofree char *default_title = NULL;

      if (title == NULL)
        title = default_title = g_utf8_substring (body, 0, MIN (g_utf8_strlen (body, -1), 60));
      topic = add_topic_row (self, title,
                             json_object_get_int_member_with_default (request, "category", 5),
                             contact, error);
      if (topic == 0)
        return FALSE;
    }

  post = add_post_row (self, topic, "contact", contact, name, body, error);
  if (post == 0)
    return FALSE;

  {
    g_autofree char *topic_text = g_strdup_printf ("%" G_GINT64_FORMAT, topic);

    _fd_json_str (reply, "conversation_external_id", topic_text);
  }
  _fd_json_int (reply, "topic_id", topic);
  _fd_json_int (reply, "post_id", post);
  return TRUE;
}

/* }}} */

const FdSandboxService _fd_sandbox_discourse_service = {
  .name = "discourse",
  .prefix = "/discourse",
  .schema = schema,
  .seed = discourse_seed,
  .handle = discourse_handle,
  .fault_body = discourse_fault_body,
  .incoming = discourse_incoming,
  .shutdown = NULL,
};
