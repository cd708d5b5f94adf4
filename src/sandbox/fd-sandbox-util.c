/* fd-sandbox-util.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-sandbox"

#include "config.h"

#include <string.h>

#include "fd-sandbox-private.h"

/* {{{ HTTP */

void
_fd_sandbox_respond (SoupServerMessage *msg,
                     guint              status,
                     const char        *content_type,
                     const char        *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, strlen (body));
}

void
_fd_sandbox_respond_builder (SoupServerMessage *msg,
                             guint              status,
                             FdJson            *builder)
{
  gsize length = 0;
  char *body = _fd_json_steal (builder, &length);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json; charset=utf-8", SOUP_MEMORY_TAKE,
                                    body, length);
}

JsonNode *
_fd_sandbox_read_json (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = NULL;
  gsize length;
  const char *data;

  if (body == NULL || body->length == 0)
    return NULL;

  bytes = soup_message_body_flatten (body);
  data = g_bytes_get_data (bytes, &length);
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, NULL))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;

  return json_parser_steal_root (parser);
}

static void
add_query (GHashTable *into,
           GHashTable *from)
{
  GHashTableIter iter;
  gpointer key, value;

  if (from == NULL)
    return;
  g_hash_table_iter_init (&iter, from);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_replace (into, g_strdup (key), g_strdup (value));
}

GHashTable *
_fd_sandbox_read_params (SoupServerMessage *msg,
                         GHashTable        *query)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  add_query (params, query);

  if (body == NULL || body->length == 0 || content_type == NULL)
    return params;

  if (g_ascii_strcasecmp (content_type, "application/x-www-form-urlencoded") == 0)
    {
      g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
      g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      g_autoptr(GHashTable) form = soup_form_decode (text);

      add_query (params, form);
    }
  else if (g_ascii_strcasecmp (content_type, "application/json") == 0)
    {
      g_autoptr(JsonNode) node = _fd_sandbox_read_json (msg);
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      if (node == NULL)
        return params;
      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        {
          char *text = NULL;

          if (!JSON_NODE_HOLDS_VALUE (member))
            continue;
          switch (json_node_get_value_type (member))
            {
            case G_TYPE_STRING:
              text = g_strdup (json_node_get_string (member));
              break;
            case G_TYPE_INT64:
              text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (member));
              break;
            case G_TYPE_BOOLEAN:
              text = g_strdup (json_node_get_boolean (member) ? "true" : "false");
              break;
            case G_TYPE_DOUBLE:
              text = g_strdup_printf ("%.6f", json_node_get_double (member));
              break;
            default:
              break;
            }
          if (text != NULL)
            g_hash_table_replace (params, g_strdup (name), text);
        }
    }

  return params;
}

static char *
unescape_form (const char *text,
               gsize       length)
{
  g_autofree char *copy = g_strndup (text, length);

  g_strdelimit (copy, "+", ' ');
  return g_uri_unescape_string (copy, NULL);
}

GPtrArray *
_fd_sandbox_query_all (SoupServerMessage *msg,
                       const char        *name)
{
  GPtrArray *values = g_ptr_array_new_with_free_func (g_free);
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));

  while (query != NULL && *query != '\0')
    {
      const char *end = strchr (query, '&');
      const char *eq;
      gsize length = end ? (gsize) (end - query) : strlen (query);

      eq = memchr (query, '=', length);
      if (eq != NULL)
        {
          g_autofree char *key = unescape_form (query, (gsize) (eq - query));
          char *value = unescape_form (eq + 1, length - (gsize) (eq - query) - 1);

          if (key != NULL && value != NULL && g_str_equal (key, name))
            g_ptr_array_add (values, value);
          else
            g_free (value);
        }
      query = end ? end + 1 : NULL;
    }

  return values;
}

const char *
_fd_sandbox_header (SoupServerMessage *msg,
                    const char        *name)
{
  return soup_message_headers_get_one (soup_server_message_get_request_headers (msg), name);
}

const char *
_fd_sandbox_bearer (SoupServerMessage *msg)
{
  const char *value = _fd_sandbox_header (msg, "Authorization");

  if (value == NULL || g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    return NULL;
  value += 7;
  while (*value == ' ')
    value++;
  return value;
}

char *
_fd_sandbox_member_text (JsonObject *object,
                         const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return g_strdup (json_node_get_string (node));
    case G_TYPE_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
    case G_TYPE_DOUBLE:
      return g_strdup_printf ("%.0f", json_node_get_double (node));
    default:
      return NULL;
    }
}

gboolean
_fd_sandbox_parse_int (const char *text,
                       gint64     *value)
{
  return text != NULL &&
         g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, value, NULL);
}

/* }}} */
/* {{{ JSON writer */

struct _FdJson
{
  GString  *out;
  GArray   *has_items;   /* of gboolean, one per open container */
  gboolean  after_name;
};

FdJson *
_fd_json_new (void)
{
  FdJson *json = g_new0 (FdJson, 1);

  json->out = g_string_sized_new (4096);
  json->has_items = g_array_new (FALSE, FALSE, sizeof (gboolean));
  return json;
}

void
_fd_json_free (FdJson *json)
{
  if (json->out != NULL)
    g_string_free (json->out, TRUE);
  g_array_unref (json->has_items);
  g_free (json);
}

char *
_fd_json_steal (FdJson *json,
                gsize  *length)
{
  char *text;

  g_assert (json->has_items->len == 0);
  if (length != NULL)
    *length = json->out->len;
  text = g_string_free (g_steal_pointer (&json->out), FALSE);
  json->out = g_string_new (NULL);
  return text;
}

/* The comma between values, except right after a member name. */
static void
before_value (FdJson *json)
{
  gboolean *has;

  if (json->after_name)
    {
      json->after_name = FALSE;
      return;
    }
  if (json->has_items->len == 0)
    return;
  has = &g_array_index (json->has_items, gboolean, json->has_items->len - 1);
  if (*has)
    g_string_append_c (json->out, ',');
  *has = TRUE;
}

static void
append_string (GString    *out,
               const char *text)
{
  g_autofree char *valid = NULL;

  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      const char *start = p;
      guchar c;

      while ((guchar) *p >= 0x20 && *p != '"' && *p != '\\')
        p++;
      g_string_append_len (out, start, p - start);
      if (*p == '\0')
        break;

      c = (guchar) *p;
      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
          break;
        }
    }
  g_string_append_c (out, '"');
}

void
_fd_json_begin_object (FdJson *json)
{
  gboolean none = FALSE;

  before_value (json);
  g_string_append_c (json->out, '{');
  g_array_append_val (json->has_items, none);
}

void
_fd_json_end_object (FdJson *json)
{
  g_assert (json->has_items->len > 0 && !json->after_name);
  g_array_set_size (json->has_items, json->has_items->len - 1);
  g_string_append_c (json->out, '}');
}

void
_fd_json_begin_array (FdJson *json)
{
  gboolean none = FALSE;

  before_value (json);
  g_string_append_c (json->out, '[');
  g_array_append_val (json->has_items, none);
}

void
_fd_json_end_array (FdJson *json)
{
  g_assert (json->has_items->len > 0 && !json->after_name);
  g_array_set_size (json->has_items, json->has_items->len - 1);
  g_string_append_c (json->out, ']');
}

void
_fd_json_name (FdJson     *json,
               const char *name)
{
  g_assert (!json->after_name);
  before_value (json);
  append_string (json->out, name);
  g_string_append_c (json->out, ':');
  json->after_name = TRUE;
}

void
_fd_json_add_string (FdJson     *json,
                     const char *value)
{
  before_value (json);
  if (value == NULL)
    g_string_append (json->out, "null");
  else
    append_string (json->out, value);
}

void
_fd_json_add_int (FdJson *json,
                  gint64  value)
{
  before_value (json);
  g_string_append_printf (json->out, "%" G_GINT64_FORMAT, value);
}

void
_fd_json_add_bool (FdJson   *json,
                   gboolean  value)
{
  before_value (json);
  g_string_append (json->out, value ? "true" : "false");
}

void
_fd_json_add_null (FdJson *json)
{
  before_value (json);
  g_string_append (json->out, "null");
}

void
_fd_json_add_double (FdJson *json,
                     double  value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  before_value (json);
  g_string_append (json->out, g_ascii_dtostr (buffer, sizeof buffer, value));
}

void
_fd_json_add_raw (FdJson     *json,
                  const char *raw)
{
  before_value (json);
  g_string_append (json->out, raw);
}

/* }}} */
/* {{{ Text */

static gboolean
is_url_end (char c)
{
  return c == '\0' || g_ascii_isspace (c) || c == '<' || c == '>' || c == '"';
}

static void
append_escaped (GString    *out,
                const char *text,
                gsize       length)
{
  g_autofree char *escaped = g_markup_escape_text (text, (gssize) length);

  g_string_append (out, escaped);
}

/* One paragraph: escaped, its line breaks as <br>, its URLs as links. */
static void
append_html_paragraph (GString    *out,
                       const char *text,
                       gsize       length)
{
  const char *end = text + length;
  const char *p = text;

  while (p < end)
    {
      const char *url = NULL;
      const char *q;

      for (q = p; q < end; q++)
        {
          if (*q == '\n')
            break;
          if ((q == text || !g_ascii_isalnum (q[-1])) &&
              (g_str_has_prefix (q, "https://") || g_str_has_prefix (q, "http://")))
            {
              url = q;
              break;
            }
        }

      append_escaped (out, p, (gsize) (q - p));
      if (q >= end)
        break;

      if (*q == '\n')
        {
          g_string_append (out, "<br>");
          p = q + 1;
          continue;
        }

      {
        const char *stop = url;
        g_autofree char *escaped = NULL;

        while (stop < end && !is_url_end (*stop))
          stop++;
        /* A sentence's full stop or closing bracket is not part of the link. */
        while (stop > url && strchr (".,;:!?)'", stop[-1]) != NULL)
          stop--;

        escaped = g_markup_escape_text (url, stop - url);
        g_string_append_printf (out, "<a href=\"%s\" target=\"_blank\" "
                                     "rel=\"nofollow noopener noreferrer\">%s</a>",
                                escaped, escaped);
        p = stop;
      }
    }
}

char *
_fd_sandbox_text_to_html (const char *text)
{
  GString *out = g_string_new (NULL);
  const char *p = text ? text : "";

  while (*p != '\0')
    {
      const char *end = strstr (p, "\n\n");
      gsize length = end ? (gsize) (end - p) : strlen (p);
      const char *start = p;

      while (length > 0 && (*start == '\n' || *start == ' '))
        {
          start++;
          length--;
        }
      while (length > 0 && (start[length - 1] == '\n' || start[length - 1] == ' '))
        length--;

      if (length > 0)
        {
          g_string_append (out, "<p>");
          append_html_paragraph (out, start, length);
          g_string_append (out, "</p>");
        }

      if (end == NULL)
        break;
      p = end + 2;
    }

  return g_string_free (out, FALSE);
}

static const char *
decode_entity (const char *p,
               GString    *out)
{
  static const struct { const char *name; const char *text; } named[] = {
    { "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" }, { "apos;", "'" },
    { "nbsp;", " " }, { "#39;", "'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (named); i++)
    if (g_str_has_prefix (p + 1, named[i].name))
      {
        g_string_append (out, named[i].text);
        return p + 1 + strlen (named[i].name);
      }

  if (p[1] == '#')
    {
      char *end = NULL;
      guint64 code = p[2] == 'x' || p[2] == 'X' ? g_ascii_strtoull (p + 3, &end, 16)
                                                : g_ascii_strtoull (p + 2, &end, 10);

      if (end != NULL && *end == ';' && code > 0 && code < 0x110000 &&
          g_unichar_validate ((gunichar) code))
        {
          g_string_append_unichar (out, (gunichar) code);
          return end + 1;
        }
    }

  g_string_append_c (out, '&');
  return p + 1;
}

char *
_fd_sandbox_html_to_text (const char *html)
{
  g_autoptr(GString) out = g_string_new (NULL);
  const char *p = html ? html : "";
  g_autofree char *text = NULL;
  GString *collapsed;

  while (*p != '\0')
    {
      if (*p == '<')
        {
          const char *close = strchr (p, '>');
          g_autofree char *tag = NULL;

          if (close == NULL)
            break;
          tag = g_ascii_strdown (p + 1, close - p - 1);
          if (g_str_has_prefix (tag, "/p") || g_str_has_prefix (tag, "/div") ||
              g_str_has_prefix (tag, "/h") || g_str_has_prefix (tag, "/ul") ||
              g_str_has_prefix (tag, "/ol"))
            g_string_append (out, "\n\n");
          else if (g_str_has_prefix (tag, "br"))
            g_string_append_c (out, '\n');
          else if (g_str_has_prefix (tag, "li"))
            g_string_append (out, "\n- ");
          p = close + 1;
        }
      else if (*p == '&')
        p = decode_entity (p, out);
      else
        g_string_append_c (out, *p++);
    }

  /* No more than one blank line in a row, none at either end. */
  text = g_strdup (g_strstrip (out->str));
  collapsed = g_string_new (NULL);
  for (const char *q = text; *q != '\0'; q++)
    {
      if (*q == '\n' && collapsed->len >= 2 &&
          collapsed->str[collapsed->len - 1] == '\n' && collapsed->str[collapsed->len - 2] == '\n')
        continue;
      g_string_append_c (collapsed, *q);
    }

  return g_string_free (collapsed, FALSE);
}

char *
_fd_sandbox_iso8601 (gint64 ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ms / 1000);
  g_autofree char *base = NULL;

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, (int) (ms % 1000));
}

char *
_fd_sandbox_slugify (const char *text,
                     char        sep)
{
  g_autofree char *ascii = g_str_to_ascii (text ? text : "", "C");
  GString *out = g_string_new (NULL);

  for (const char *p = ascii; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (out, g_ascii_tolower (*p));
      else if (out->len > 0 && out->str[out->len - 1] != sep)
        g_string_append_c (out, sep);
    }
  while (out->len > 0 && out->str[out->len - 1] == sep)
    g_string_truncate (out, out->len - 1);
  if (out->len == 0)
    g_string_append (out, "topic");

  return g_string_free (out, FALSE);
}

/* }}} */
