/* fd-text.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-text"

#include "config.h"

#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fd-text.h"

/* Longer input is cut: a support message is never this long, and parsing stays bounded. */
#define MAX_INPUT_BYTES (1024 * 1024)

/* Deeper nesting only indents no further; the walk itself is not recursive. */
#define MAX_LIST_INDENT 8

typedef enum
{
  KIND_INLINE,
  KIND_SKIP,        /* dropped with everything inside */
  KIND_BLOCK,       /* one line break before and after */
  KIND_PARAGRAPH,   /* a blank line before and after */
  KIND_BREAK,
  KIND_LIST,
  KIND_ITEM,
  KIND_QUOTE,
  KIND_PRE,
  KIND_CODE,
  KIND_LINK,
  KIND_IMAGE,
  KIND_CELL,
} ElementKind;

typedef struct
{
  const char  *name;
  ElementKind  kind;
} ElementInfo;

static const ElementInfo elements[] = {
  { "a", KIND_LINK },
  { "address", KIND_BLOCK },
  { "applet", KIND_SKIP },
  { "article", KIND_BLOCK },
  { "aside", KIND_BLOCK },
  { "audio", KIND_SKIP },
  { "blockquote", KIND_QUOTE },
  { "br", KIND_BREAK },
  { "button", KIND_SKIP },
  { "canvas", KIND_SKIP },
  { "caption", KIND_BLOCK },
  { "center", KIND_BLOCK },
  { "code", KIND_CODE },
  { "dd", KIND_BLOCK },
  { "details", KIND_BLOCK },
  { "dialog", KIND_BLOCK },
  { "div", KIND_BLOCK },
  { "dl", KIND_PARAGRAPH },
  { "dt", KIND_BLOCK },
  { "embed", KIND_SKIP },
  { "fieldset", KIND_BLOCK },
  { "figcaption", KIND_BLOCK },
  { "figure", KIND_PARAGRAPH },
  { "footer", KIND_BLOCK },
  { "form", KIND_BLOCK },
  { "frame", KIND_SKIP },
  { "frameset", KIND_SKIP },
  { "h1", KIND_PARAGRAPH },
  { "h2", KIND_PARAGRAPH },
  { "h3", KIND_PARAGRAPH },
  { "h4", KIND_PARAGRAPH },
  { "h5", KIND_PARAGRAPH },
  { "h6", KIND_PARAGRAPH },
  { "head", KIND_SKIP },
  { "header", KIND_BLOCK },
  { "hr", KIND_PARAGRAPH },
  { "iframe", KIND_SKIP },
  { "img", KIND_IMAGE },
  { "input", KIND_SKIP },
  { "kbd", KIND_CODE },
  { "li", KIND_ITEM },
  { "link", KIND_SKIP },
  { "main", KIND_BLOCK },
  { "math", KIND_SKIP },
  { "meta", KIND_SKIP },
  { "nav", KIND_BLOCK },
  { "noembed", KIND_SKIP },
  { "noframes", KIND_SKIP },
  { "noscript", KIND_SKIP },
  { "object", KIND_SKIP },
  { "ol", KIND_LIST },
  { "p", KIND_PARAGRAPH },
  { "param", KIND_SKIP },
  { "pre", KIND_PRE },
  { "samp", KIND_CODE },
  { "script", KIND_SKIP },
  { "section", KIND_BLOCK },
  { "select", KIND_SKIP },
  { "style", KIND_SKIP },
  { "summary", KIND_BLOCK },
  { "svg", KIND_SKIP },
  { "table", KIND_PARAGRAPH },
  { "td", KIND_CELL },
  { "template", KIND_SKIP },
  { "textarea", KIND_SKIP },
  { "th", KIND_CELL },
  { "title", KIND_SKIP },
  { "tr", KIND_BLOCK },
  { "tt", KIND_CODE },
  { "ul", KIND_LIST },
  { "video", KIND_SKIP },
  { "xmp", KIND_PRE },
};

static int
compare_element (const void *key,
                 const void *member)
{
  return g_ascii_strcasecmp (key, ((const ElementInfo *) member)->name);
}

static ElementKind
element_kind (const xmlNode *node)
{
  const ElementInfo *info;

  if (node->name == NULL)
    return KIND_INLINE;

  info = bsearch (node->name, elements, G_N_ELEMENTS (elements), sizeof (ElementInfo),
                  compare_element);

  return info != NULL ? info->kind : KIND_INLINE;
}

typedef struct
{
  gsize  start;       /* where the label begins in the output */
  char  *href;
} LinkFrame;

typedef struct
{
  gboolean ordered;
  guint    counter;
} ListFrame;

typedef struct
{
  GString  *out;
  guint     pending_newlines;   /* 0, 1 or 2, written before the next content */
  gboolean  pending_space;
  gboolean  at_line_start;
  guint     quote_depth;
  guint     verbatim_depth;     /* inside <pre> or <code>: whitespace kept */
  gboolean  fresh_item;         /* a bullet was written, nothing after it yet */
  GArray   *links;              /* LinkFrame */
  GArray   *lists;              /* ListFrame */
} Builder;

static void
link_frame_clear (gpointer data)
{
  LinkFrame *frame = data;

  g_free (frame->href);
}

static void
builder_request_break (Builder *b,
                       guint    newlines)
{
  b->pending_space = FALSE;
  /* "<li><p>text</p></li>": the paragraph starts on the bullet's line. */
  if (b->out->len == 0 || b->fresh_item)
    return;
  b->pending_newlines = MIN (MAX (b->pending_newlines, newlines), 2);
}

static void
append_quote_prefix (Builder  *b,
                     gboolean  blank_line)
{
  for (guint i = 0; i < b->quote_depth; i++)
    g_string_append_c (b->out, '>');
  if (b->quote_depth > 0 && !blank_line)
    g_string_append_c (b->out, ' ');
}

/* Writes what must precede content: pending line breaks, the quote prefix, a space. */
static void
builder_flush (Builder *b)
{
  b->fresh_item = FALSE;

  if (b->pending_newlines > 0 && b->out->len > 0)
    {
      for (guint i = 0; i < b->pending_newlines; i++)
        {
          /* A blank line inside a quote keeps its ">" so the quote reads as one. */
          if (i > 0)
            append_quote_prefix (b, TRUE);
          g_string_append_c (b->out, '\n');
        }
      b->at_line_start = TRUE;
      b->pending_space = FALSE;
    }
  b->pending_newlines = 0;

  if (b->at_line_start)
    {
      append_quote_prefix (b, FALSE);
      b->at_line_start = FALSE;
      b->pending_space = FALSE;
    }
  else if (b->pending_space)
    {
      g_string_append_c (b->out, ' ');
      b->pending_space = FALSE;
    }
}

static void
builder_append (Builder    *b,
                const char *text)
{
  builder_flush (b);
  g_string_append (b->out, text);
}

static gboolean
is_control (gunichar c)
{
  return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
}

static void
builder_text (Builder    *b,
              const char *text)
{
  const char *p;

  if (text == NULL)
    return;

  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (b->verbatim_depth > 0)
        {
          if (c == '\r')
            continue;
          if (c == '\n')
            {
              /* Every verbatim line break is kept, blank lines too. */
              if (b->out->len > 0)
                {
                  builder_flush (b);
                  g_string_append_c (b->out, '\n');
                  b->at_line_start = TRUE;
                }
              continue;
            }
          if (is_control (c))
            continue;
          builder_flush (b);
          g_string_append_len (b->out, p, g_utf8_next_char (p) - p);
          continue;
        }

      if (g_unichar_isspace (c) || c == 0x00a0)
        {
          if (!b->at_line_start && b->out->len > 0)
            b->pending_space = TRUE;
          continue;
        }

      if (is_control (c) || c == 0xfeff)
        continue;

      builder_flush (b);
      g_string_append_len (b->out, p, g_utf8_next_char (p) - p);
    }
}

static gboolean
has_safe_scheme (const char *href)
{
  g_autofree char *scheme = g_uri_parse_scheme (href);

  /* Relative links mean nothing outside the page; script and data links are not for
   * people to read. */
  return scheme != NULL &&
         (g_ascii_strcasecmp (scheme, "http") == 0 ||
          g_ascii_strcasecmp (scheme, "https") == 0 ||
          g_ascii_strcasecmp (scheme, "mailto") == 0 ||
          g_ascii_strcasecmp (scheme, "ftp") == 0 ||
          g_ascii_strcasecmp (scheme, "tel") == 0);
}

static char *
get_attribute (const xmlNode *node,
               const char    *name)
{
  xmlChar *value = xmlGetNoNsProp (node, (const xmlChar *) name);
  char *copy;

  if (value == NULL)
    return NULL;

  copy = g_strstrip (g_strdup ((const char *) value));
  xmlFree (value);

  return copy;
}

static void
enter_link (Builder       *b,
            const xmlNode *node)
{
  LinkFrame frame = { 0 };
  g_autofree char *href = get_attribute (node, "href");

  if (href != NULL && has_safe_scheme (href))
    {
      /* Collapse whitespace a link may hide in itself. */
      g_strdelimit (href, "\t\n\r\f\v", ' ');
      frame.href = g_steal_pointer (&href);
    }

  frame.start = b->out->len;
  g_array_append_val (b->links, frame);
}

static void
leave_link (Builder *b)
{
  LinkFrame *frame = &g_array_index (b->links, LinkFrame, b->links->len - 1);
  const char *label = b->out->str + MIN (frame->start, b->out->len);

  /* What the label's first character brought along: line breaks, a quote prefix, a space. */
  while (*label == '\n' || *label == ' ' || (*label == '>' && b->quote_depth > 0))
    label++;

  if (frame->href != NULL)
    {
      const char *shown = frame->href;

      if (g_ascii_strncasecmp (shown, "mailto:", 7) == 0)
        shown += 7;

      if (*label == '\0')
        builder_append (b, shown);
      else if (!g_str_equal (label, frame->href) && !g_str_equal (label, shown))
        {
          g_string_append (b->out, " (");
          g_string_append (b->out, shown);
          g_string_append_c (b->out, ')');
        }
    }

  g_array_set_size (b->links, b->links->len - 1);
}

static void
enter_item (Builder *b)
{
  guint depth = b->lists->len;

  builder_request_break (b, 1);
  builder_flush (b);

  for (guint i = 1; i < MIN (depth, MAX_LIST_INDENT); i++)
    g_string_append (b->out, "  ");

  if (depth > 0 && g_array_index (b->lists, ListFrame, depth - 1).ordered)
    {
      ListFrame *list = &g_array_index (b->lists, ListFrame, depth - 1);

      g_string_append_printf (b->out, "%u. ", ++list->counter);
    }
  else
    g_string_append (b->out, "• ");

  b->at_line_start = FALSE;
  b->pending_space = FALSE;
  b->fresh_item = TRUE;
}

/* Returns whether to walk into the element's children. */
static gboolean
enter_element (Builder *b,
               xmlNode *node)
{
  switch (element_kind (node))
    {
    case KIND_SKIP:
      return FALSE;

    case KIND_BLOCK:
      builder_request_break (b, 1);
      break;

    case KIND_PARAGRAPH:
      builder_request_break (b, 2);
      break;

    case KIND_BREAK:
      /* Breaks add up, unlike block edges: "a<br><br>b" is a blank line. */
      b->pending_space = FALSE;
      if (b->out->len > 0)
        b->pending_newlines = MIN (b->pending_newlines + 1, 2);
      return FALSE;

    case KIND_LIST:
      {
        ListFrame frame = { g_ascii_strcasecmp ((const char *) node->name, "ol") == 0, 0 };

        b->fresh_item = FALSE;
        builder_request_break (b, b->lists->len == 0 ? 2 : 1);
        g_array_append_val (b->lists, frame);
      }
      break;

    case KIND_ITEM:
      enter_item (b);
      break;

    case KIND_QUOTE:
      builder_request_break (b, 2);
      b->quote_depth++;
      break;

    case KIND_PRE:
      builder_request_break (b, 2);
      b->verbatim_depth++;
      break;

    case KIND_CODE:
      b->verbatim_depth++;
      break;

    case KIND_LINK:
      enter_link (b, node);
      break;

    case KIND_IMAGE:
      {
        g_autofree char *alt = get_attribute (node, "alt");
        g_autofree char *shown = NULL;

        if (alt != NULL && *alt != '\0')
          {
            g_strdelimit (alt, "\t\n\r\f\v", ' ');
            shown = g_strdup_printf ("[image: %s]", alt);
          }
        else
          shown = g_strdup ("[image]");

        /* The parser drops blank text next to an image, so images keep their own
         * spaces: "a [image: x] b", never "[image: x][image: y]". */
        if (!b->at_line_start && b->out->len > 0)
          b->pending_space = TRUE;
        builder_append (b, shown);
        b->pending_space = TRUE;
      }
      return FALSE;

    case KIND_CELL:
      if (!b->at_line_start && b->out->len > 0)
        b->pending_space = TRUE;
      break;

    case KIND_INLINE:
    default:
      break;
    }

  return TRUE;
}

static void
leave_element (Builder *b,
               xmlNode *node)
{
  switch (element_kind (node))
    {
    case KIND_BLOCK:
    case KIND_ITEM:
      builder_request_break (b, 1);
      break;

    case KIND_PARAGRAPH:
      builder_request_break (b, 2);
      break;

    case KIND_LIST:
      g_array_set_size (b->lists, b->lists->len - 1);
      builder_request_break (b, b->lists->len == 0 ? 2 : 1);
      break;

    case KIND_QUOTE:
      builder_request_break (b, 2);
      b->quote_depth--;
      break;

    case KIND_PRE:
      b->verbatim_depth--;
      builder_request_break (b, 2);
      break;

    case KIND_CODE:
      b->verbatim_depth--;
      break;

    case KIND_LINK:
      leave_link (b);
      break;

    case KIND_CELL:
      b->pending_space = !b->at_line_start && b->out->len > 0;
      break;

    case KIND_SKIP:
    case KIND_BREAK:
    case KIND_IMAGE:
    case KIND_INLINE:
    default:
      break;
    }
}

/* Walks the tree without recursion: a hostile page may nest thousands of elements. */
static void
walk (Builder *b,
      xmlNode *root)
{
  xmlNode *node = root;

  while (node != NULL)
    {
      gboolean descend = FALSE;

      /* Entities, comments, processing instructions and DTDs hold nothing people read. */
      if (node->type == XML_ELEMENT_NODE)
        descend = enter_element (b, node);
      else if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE)
        builder_text (b, (const char *) node->content);
      else if (node->type == XML_DOCUMENT_NODE || node->type == XML_HTML_DOCUMENT_NODE ||
               node->type == XML_DOCUMENT_FRAG_NODE)
        descend = TRUE;

      if (descend && node->children != NULL)
        {
          node = node->children;
          continue;
        }

      /* Leave this node and every ancestor that has no next sibling; only an element
       * that was walked into is left. */
      for (;;)
        {
          if (node->type == XML_ELEMENT_NODE && descend)
            leave_element (b, node);

          if (node == root)
            return;

          if (node->next != NULL)
            {
              node = node->next;
              break;
            }

          node = node->parent;
          descend = TRUE;
          if (node == NULL)
            return;
        }
    }
}

static void
ensure_parser_initialised (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      xmlInitParser ();
      g_once_init_leave (&initialised, 1);
    }
}

/* Drops control characters (escape sequences, carriage returns) but line breaks and tabs,
 * trims, and makes the text valid UTF-8. */
static char *
trim_and_validate (GString *out)
{
  g_autofree char *text = NULL;
  const char *start;
  const char *end;
  gsize kept = 0;

  for (gsize i = 0; i < out->len; i++)
    {
      guchar c = out->str[i];

      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
        continue;
      out->str[kept++] = c;
    }
  g_string_truncate (out, kept);

  text = g_string_free (out, FALSE);
  start = text;
  end = text + strlen (text);

  while (*start != '\0' && g_ascii_isspace (*start))
    start++;
  while (end > start && g_ascii_isspace (end[-1]))
    end--;

  return g_utf8_make_valid (start, end - start);
}

/* The longest prefix of at most @max bytes that does not split a UTF-8 sequence. */
static gsize
utf8_cut (const char *text,
          gsize       length,
          gsize       max)
{
  if (length <= max)
    return length;

  length = max;
  while (length > 0 && ((guchar) text[length] & 0xc0) == 0x80)
    length--;

  return length;
}

char *
fd_text_from_html (const char *html)
{
  g_autofree char *valid = NULL;
  Builder b = { 0 };
  htmlDocPtr doc;
  gsize length;
  int options;

  if (html == NULL || *html == '\0')
    return g_strdup ("");

  ensure_parser_initialised ();

  length = utf8_cut (html, strlen (html), MAX_INPUT_BYTES);

  /* Invalid bytes become U+FFFD here, so the parser never guesses another encoding. */
  valid = g_utf8_make_valid (html, length);
  length = strlen (valid);

  /* No network and no entity loading; the declared encoding wins over <meta>. */
  options = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
            HTML_PARSE_NOWARNING | HTML_PARSE_NOBLANKS | HTML_PARSE_COMPACT |
            HTML_PARSE_IGNORE_ENC;
  doc = htmlReadMemory (valid, (int) length, NULL, "UTF-8", options);
  if (doc == NULL)
    return g_strdup ("");

  b.out = g_string_sized_new (MIN (length, 4096));
  b.at_line_start = TRUE;
  b.links = g_array_new (FALSE, TRUE, sizeof (LinkFrame));
  g_array_set_clear_func (b.links, link_frame_clear);
  b.lists = g_array_new (FALSE, TRUE, sizeof (ListFrame));

  walk (&b, (xmlNode *) doc);

  xmlFreeDoc (doc);
  g_array_unref (b.links);
  g_array_unref (b.lists);

  return trim_and_validate (b.out);
}

/* Slack escapes only these three in message text. */
static gsize
decode_slack_entity (const char *p,
                     GString    *out)
{
  if (g_str_has_prefix (p, "&amp;"))
    {
      g_string_append_c (out, '&');
      return 5;
    }
  if (g_str_has_prefix (p, "&lt;"))
    {
      g_string_append_c (out, '<');
      return 4;
    }
  if (g_str_has_prefix (p, "&gt;"))
    {
      g_string_append_c (out, '>');
      return 4;
    }

  g_string_append_c (out, *p);
  return 1;
}

static void
append_decoded (GString    *out,
                const char *text,
                gssize      length)
{
  g_autofree char *copy = length < 0 ? g_strdup (text) : g_strndup (text, length);

  for (const char *p = copy; *p != '\0';)
    p += decode_slack_entity (p, out);
}

static char *
decode_slack (const char *text)
{
  GString *out = g_string_new (NULL);

  append_decoded (out, text, -1);
  return g_string_free (out, FALSE);
}

/* Expands one <…> token (without its angle brackets). */
static void
append_slack_token (GString          *out,
                    const char       *token,
                    FdTextLookupFunc  resolve_user,
                    gpointer          user_data)
{
  const char *bar = strchr (token, '|');
  g_autofree char *target = bar != NULL ? g_strndup (token, bar - token) : g_strdup (token);
  g_autofree char *label = bar != NULL ? decode_slack (bar + 1) : NULL;

  if (label != NULL && *label == '\0')
    g_clear_pointer (&label, g_free);

  if (target[0] == '@')
    {
      g_autofree char *name = NULL;

      if (label == NULL && resolve_user != NULL && target[1] != '\0')
        name = resolve_user (target + 1, user_data);

      g_string_append_c (out, '@');
      if (label != NULL)
        g_string_append (out, label);
      else if (name != NULL && *name != '\0')
        g_string_append (out, name);
      else
        append_decoded (out, target + 1, -1);
    }
  else if (target[0] == '#')
    {
      g_string_append_c (out, '#');
      append_decoded (out, label != NULL ? label : target + 1, -1);
    }
  else if (target[0] == '!')
    {
      const char *caret = strchr (target, '^');

      /* <!here>, <!channel>, <!everyone>, <!subteam^ID|@team>, <!date^…|fallback>. */
      if (label != NULL)
        {
          if (g_str_has_prefix (target, "!subteam^") && label[0] != '@')
            g_string_append_c (out, '@');
          g_string_append (out, label);
        }
      else
        {
          g_string_append_c (out, '@');
          append_decoded (out, target + 1, caret != NULL ? caret - target - 1 : -1);
        }
    }
  else
    {
      g_autofree char *url = decode_slack (target);
      const char *shown = url;

      if (g_ascii_strncasecmp (url, "mailto:", 7) == 0)
        shown = url + 7;

      if (label == NULL || g_str_equal (label, url) || g_str_equal (label, shown))
        g_string_append (out, shown);
      else
        g_string_append_printf (out, "%s (%s)", label, shown);
    }
}

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || ((guchar) c & 0x80) != 0;
}

/* Finds the end of the <…> token at @p, or NULL when it is a lone "<". */
static const char *
find_token_end (const char *p)
{
  if (p[1] == '\0' || p[1] == '>' || g_ascii_isspace (p[1]))
    return NULL;

  for (const char *q = p + 1; *q != '\0'; q++)
    {
      if (*q == '>')
        return q;
      if (*q == '<' || *q == '\n')
        return NULL;
    }

  return NULL;
}

/* A marker opens when it starts a word and a matching one closes it later on the same
 * line, right after a word; "snake_case" and "2 * 3 * 4" are left alone. */
static const char *
find_closing_marker (const char *text,
                     const char *p)
{
  char marker = *p;

  if (p > text && (is_word_char (p[-1]) || p[-1] == marker))
    return NULL;
  if (p[1] == '\0' || g_ascii_isspace (p[1]) || p[1] == marker)
    return NULL;

  for (const char *q = p + 1; *q != '\0' && *q != '\n'; q++)
    {
      if (*q == '<')
        {
          const char *end = find_token_end (q);

          if (end != NULL)
            q = end;
          continue;
        }

      if (*q == '`')
        return NULL;

      if (*q == marker && !g_ascii_isspace (q[-1]) && !is_word_char (q[1]) && q[1] != marker)
        return q;
    }

  return NULL;
}

char *
fd_text_from_slack_mrkdwn (const char       *mrkdwn,
                           FdTextLookupFunc  resolve_user,
                           gpointer          user_data)
{
  g_autofree char *text = NULL;
  g_autofree guint8 *drop = NULL;
  GString *out;
  gboolean in_fence = FALSE;
  gboolean in_code = FALSE;
  gsize length;

  if (mrkdwn == NULL || *mrkdwn == '\0')
    return g_strdup ("");

  length = utf8_cut (mrkdwn, strlen (mrkdwn), MAX_INPUT_BYTES);
  text = g_strndup (mrkdwn, length);
  drop = g_new0 (guint8, length + 1);
  out = g_string_sized_new (length);

  for (const char *p = text; *p != '\0';)
    {
      gsize i = p - text;

      if (drop[i])
        {
          p++;
          continue;
        }

      if (g_str_has_prefix (p, "```"))
        {
          in_fence = !in_fence;
          in_code = FALSE;
          p += 3;

          /* The fence's own line breaks go; the code's are kept. */
          if (in_fence)
            {
              if (out->len > 0 && out->str[out->len - 1] != '\n')
                g_string_append_c (out, '\n');
              if (*p == '\n')
                p++;
            }
          else
            {
              if (out->len > 0 && out->str[out->len - 1] == '\n')
                g_string_truncate (out, out->len - 1);
              if (*p != '\0' && *p != '\n')
                g_string_append_c (out, '\n');
            }
          continue;
        }

      switch (*p)
        {
        case '<':
          {
            const char *end = find_token_end (p);

            if (end != NULL)
              {
                g_autofree char *token = g_strndup (p + 1, end - p - 1);

                append_slack_token (out, token, resolve_user, user_data);
                p = end + 1;
                continue;
              }
            g_string_append_c (out, '<');
            p++;
          }
          continue;

        case '&':
          p += decode_slack_entity (p, out);
          continue;

        case '`':
          in_code = !in_code && !in_fence;
          g_string_append_c (out, '`');
          p++;
          continue;

        case '\n':
          in_code = FALSE;
          g_string_append_c (out, '\n');
          p++;
          continue;

        case '*':
        case '_':
        case '~':
          if (!in_fence && !in_code)
            {
              const char *closing = find_closing_marker (text, p);

              if (closing != NULL)
                {
                  drop[closing - text] = 1;
                  p++;
                  continue;
                }
            }
          break;

        default:
          break;
        }

      g_string_append_c (out, *p);
      p++;
    }

  return trim_and_validate (out);
}
