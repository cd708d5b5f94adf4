/* test-text.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "fd-text.h"

/* Generous: a hostile input must not take long, but sanitizer builds are slow. */
#define MAX_SECONDS 10.0

typedef struct
{
  const char *input;
  const char *expected;
} Case;

static void
assert_safe_text (const char *text)
{
  g_assert_nonnull (text);
  g_assert_true (g_utf8_validate (text, -1, NULL));

  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = *p;

      /* Only line breaks and tabs among the control characters. */
      g_assert_true (c >= 0x20 || c == '\n' || c == '\t');
      g_assert_cmpint (c, !=, 0x7f);
    }

  /* Trimmed. */
  if (*text != '\0')
    {
      g_assert_false (g_ascii_isspace (text[0]));
      g_assert_false (g_ascii_isspace (text[strlen (text) - 1]));
    }
}

static void
check_html_cases (const Case *cases,
                  gsize       n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autofree char *text = fd_text_from_html (cases[i].input);

      g_test_message ("html: %s", cases[i].input);
      assert_safe_text (text);
      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_html_empty (void)
{
  g_autofree char *a = fd_text_from_html (NULL);
  g_autofree char *b = fd_text_from_html ("");
  g_autofree char *c = fd_text_from_html ("   \n\t ");
  g_autofree char *d = fd_text_from_html ("<p></p><div> </div><br><br>");

  g_assert_cmpstr (a, ==, "");
  g_assert_cmpstr (b, ==, "");
  g_assert_cmpstr (c, ==, "");
  g_assert_cmpstr (d, ==, "");
}

static void
test_html_blocks (void)
{
  static const Case cases[] = {
    { "plain text", "plain text" },
    { "<p>Hello <b>world</b>,</p><p>second   para\n  with\tspaces</p>",
      "Hello world,\n\nsecond para with spaces" },
    { "a <b>x</b> <i>y</i> z", "a x y z" },
    { "a<br>b", "a\nb" },
    { "a<br><br>b", "a\n\nb" },
    { "a<br><br><br><br><br>b", "a\n\nb" },
    { "<p>a</p><p></p><p></p><p>b</p>", "a\n\nb" },
    { "<div>d1</div><div>d2</div>", "d1\nd2" },
    { "<div><div><p>deep</p></div></div><div>next</div>", "deep\n\nnext" },
    { "<h1>Title</h1>text", "Title\n\ntext" },
    { "<h3>Sub</h3><p>para</p>", "Sub\n\npara" },
    { "<hr>after", "after" },
    { "<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>",
      "a b\nc d" },
    { "<p>  leading and trailing  </p>", "leading and trailing" },
  };

  check_html_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_html_lists_and_quotes (void)
{
  static const Case cases[] = {
    { "<ul><li>one</li><li>two</li></ul>", "• one\n• two" },
    { "<p>Steps:</p><ol><li>first</li><li>second</li></ol><p>Done</p>",
      "Steps:\n\n1. first\n2. second\n\nDone" },
    { "<ul><li>a<ul><li>nested</li></ul></li><li>b</li></ul>", "• a\n  • nested\n• b" },
    { "<ul><li><p>para item</p></li></ul>", "• para item" },
    { "<blockquote>quoted</blockquote>reply", "> quoted\n\nreply" },
    { "<blockquote><p>one</p><p>two</p></blockquote><p>reply</p>", "> one\n>\n> two\n\nreply" },
    { "<blockquote>a<br>b</blockquote>", "> a\n> b" },
    { "<blockquote>outer<blockquote>inner</blockquote></blockquote>", "> outer\n>>\n>> inner" },
  };

  check_html_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_html_verbatim (void)
{
  static const Case cases[] = {
    { "<p>before</p><pre>line 1\n    indented  twice\n\nafter blank</pre><p>after</p>",
      "before\n\nline 1\n    indented  twice\n\nafter blank\n\nafter" },
    { "<p>run <code>make  -j4</code> now</p>", "run make  -j4 now" },
    { "<pre><code>if (a &lt; b)\n  return;</code></pre>", "if (a < b)\n  return;" },
  };

  check_html_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_html_links_and_images (void)
{
  static const Case cases[] = {
    { "<a href=\"https://example.com/a?b=1&amp;c=2\">the docs</a>",
      "the docs (https://example.com/a?b=1&c=2)" },
    { "<a href=\"https://example.com\">https://example.com</a>", "https://example.com" },
    { "see <a href=\"https://example.com\"></a> here", "see https://example.com here" },
    { "<a href=\"mailto:ann@example.com\">ann@example.com</a>", "ann@example.com" },
    { "<a href=\"mailto:ann@example.com\">Ann</a>", "Ann (ann@example.com)" },
    { "<a href=\"javascript:alert(1)\">click</a>", "click" },
    { "<a href=\"data:text/html,<script>x</script>\">data</a>", "data" },
    { "<a href=\"/relative\">rel</a>", "rel" },
    { "<a name=\"anchor\">no href</a>", "no href" },
    { "<p><a href=\"https://x.io\"><b>bold</b> label</a>.</p>", "bold label (https://x.io)." },
    { "<img src=\"https://x.io/cat.png\" alt=\"a cat\">", "[image: a cat]" },
    { "<img src=\"https://x.io/cat.png\">", "[image]" },
    { "look <img alt=\"one\"> <img alt=\"two\"> ok", "look [image: one] [image: two] ok" },
  };

  check_html_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_html_dropped_and_entities (void)
{
  static const Case cases[] = {
    { "<html><head><title>Title</title><style>p { color: red }</style>"
      "<meta http-equiv=\"refresh\" content=\"0;url=https://evil\"></head>"
      "<body><p>body</p></body></html>", "body" },
    { "<p>a</p><script>document.write('<p>evil</p>')</script><p>b</p>", "a\n\nb" },
    { "<script>var s = '</div>';</script>text", "text" },
    { "<template><p>hidden</p></template>shown", "shown" },
    { "<iframe src=\"https://evil\">frame text</iframe>ok", "ok" },
    { "<noscript>no</noscript><svg><text>svg</text></svg>yes", "yes" },
    { "a <!-- a comment --> b", "a b" },
    { "&amp; &lt;b&gt; &quot;q&quot; &#39;s&#39; &eacute;&#233;&#xe9; &euro;",
      "& <b> \"q\" 's' ééé €" },
    { "a&nbsp;&nbsp;b", "a b" },
    { "&unknownentity; &amp", "&unknownentity; &amp" },
    { "ctrl\x01\x02\x1b[31mred\x7f", "ctrl[31mred" },
  };

  check_html_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_html_unclosed (void)
{
  static const Case cases[] = {
    { "unclosed <b>bold <i>italic", "unclosed bold italic" },
    { "<p>one<p>two<li>item", "one\n\ntwo\n\n• item" },
    { "<a href=\"https://x.io\">never closed", "never closed (https://x.io)" },
    { "<div><div><div>x", "x" },
    { "</p></div></b>stray closers", "stray closers" },
    { "<p>text <", "text <" },
    { "<p attr=\"never closed>text</p>", "" },
    { "<<<>>>", "<<<>>>" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = fd_text_from_html (cases[i].input);

      g_test_message ("html: %s", cases[i].input);
      assert_safe_text (text);
      /* The parser's recovery decides the last cases; the text must only be safe. */
      if (i < 5)
        g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_html_deep_nesting (void)
{
  g_autoptr(GString) html = g_string_new (NULL);
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autofree char *text = NULL;
  g_autofree char *mixed = NULL;

  g_autofree char *moderate = NULL;

  g_string_append (html, "<p>before</p>");
  for (guint i = 0; i < 10000; i++)
    g_string_append (html, "<div>");
  g_string_append (html, "deep text");
  for (guint i = 0; i < 10000; i++)
    g_string_append (html, "</div>");

  text = fd_text_from_html (html->str);
  assert_safe_text (text);
  /* libxml2 stops at its depth limit; what came before is kept, and the deep text is
   * there once or not at all, never garbage. */
  g_assert_true (g_str_equal (text, "before\n\ndeep text") || g_str_equal (text, "before"));

  /* Below the limit, nothing is lost. */
  g_string_assign (html, "<p>before</p>");
  for (guint i = 0; i < 100; i++)
    g_string_append (html, "<div><b>");
  g_string_append (html, "deep text");
  moderate = fd_text_from_html (html->str);
  g_assert_cmpstr (moderate, ==, "before\n\ndeep text");

  g_string_truncate (html, 0);
  for (guint i = 0; i < 5000; i++)
    g_string_append (html, "<blockquote><ul><li><a href=\"https://x.io\">");
  g_string_append (html, "inner");
  mixed = fd_text_from_html (html->str);
  assert_safe_text (mixed);

  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, MAX_SECONDS);
}

static void
test_html_billion_laughs (void)
{
  static const char *doc =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE lolz [\n"
    " <!ENTITY lol \"lol\">\n"
    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
    "]>\n"
    "<p>&lol9;</p>";
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autofree char *text = fd_text_from_html (doc);

  assert_safe_text (text);
  /* Nothing expanded: the output is not longer than the input. */
  g_assert_cmpuint (strlen (text), <, strlen (doc));
  g_assert_null (strstr (text, "lollol"));
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, MAX_SECONDS);
}

static void
test_html_external_entities (void)
{
  g_autofree char *dir = g_dir_make_tmp ("fd-text-XXXXXX", NULL);
  g_autofree char *secret_path = g_build_filename (dir, "secret.txt", NULL);
  g_autofree char *dtd_path = g_build_filename (dir, "evil.dtd", NULL);
  g_autofree char *secret_uri = g_filename_to_uri (secret_path, NULL, NULL);
  g_autofree char *dtd_uri = g_filename_to_uri (dtd_path, NULL, NULL);
  g_autofree char *dtd = g_strdup_printf ("<!ENTITY leak SYSTEM \"%s\">", secret_uri);
  g_autofree char *xxe = NULL;
  g_autofree char *external_dtd = NULL;
  g_autofree char *passwd = NULL;
  g_autofree char *text1 = NULL;
  g_autofree char *text2 = NULL;
  g_autofree char *text3 = NULL;
  g_autofree char *text4 = NULL;
  g_autofree char *xinclude = NULL;

  g_assert_nonnull (dir);
  g_assert_true (g_file_set_contents (secret_path, "TOPSECRET-42", -1, NULL));
  g_assert_true (g_file_set_contents (dtd_path, dtd, -1, NULL));

  xxe = g_strdup_printf ("<!DOCTYPE html [<!ENTITY xxe SYSTEM \"%s\">]><p>a &xxe; b</p>", secret_uri);
  text1 = fd_text_from_html (xxe);
  assert_safe_text (text1);
  g_assert_null (strstr (text1, "TOPSECRET"));
  g_assert_nonnull (strstr (text1, "a &xxe; b"));

  external_dtd = g_strdup_printf ("<!DOCTYPE html SYSTEM \"%s\"><p>x &leak; y</p>", dtd_uri);
  text2 = fd_text_from_html (external_dtd);
  assert_safe_text (text2);
  g_assert_null (strstr (text2, "TOPSECRET"));

  passwd = g_strdup ("<!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                     "<p>&xxe;</p>");
  text3 = fd_text_from_html (passwd);
  assert_safe_text (text3);
  g_assert_null (strstr (text3, "root:"));

  xinclude = g_strdup_printf ("<p><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
                              "href=\"%s\" parse=\"text\"/>z</p>", secret_uri);
  text4 = fd_text_from_html (xinclude);
  assert_safe_text (text4);
  g_assert_null (strstr (text4, "TOPSECRET"));
  g_assert_cmpstr (text4, ==, "z");

  g_assert_cmpint (g_remove (secret_path), ==, 0);
  g_assert_cmpint (g_remove (dtd_path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_html_invalid_utf8 (void)
{
  g_autofree char *a = fd_text_from_html ("bad \xff\xfe bytes <b>\xc3</b> end \xe2\x82");
  g_autofree char *b = fd_text_from_html ("<meta charset=\"iso-8859-1\"><p>caf\xc3\xa9</p>");
  g_autofree char *c = fd_text_from_html ("\xef\xbb\xbf<p>bom</p>");

  assert_safe_text (a);
  g_assert_true (g_str_has_prefix (a, "bad "));
  g_assert_nonnull (strstr (a, " end \xef\xbf\xbd"));

  /* The document's own charset claim does not turn valid UTF-8 into mojibake. */
  assert_safe_text (b);
  g_assert_cmpstr (b, ==, "café");

  assert_safe_text (c);
  g_assert_cmpstr (c, ==, "bom");
}

static void
test_html_nul_bytes (void)
{
  static const char with_nul[] = "<p>before</p>\0<p>after</p><script>";
  g_autofree char *text = fd_text_from_html (with_nul);

  /* The API takes a C string: the text ends at the first NUL. */
  assert_safe_text (text);
  g_assert_cmpstr (text, ==, "before");
}

static void
test_html_huge_input (void)
{
  g_autoptr(GString) html = g_string_new ("<p>");
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autofree char *text = NULL;

  /* Three-byte characters so that the 1 MiB cut falls inside one of them. */
  while (html->len < 2 * 1024 * 1024)
    g_string_append (html, "€€€€€ ");

  text = fd_text_from_html (html->str);
  assert_safe_text (text);
  g_assert_cmpuint (strlen (text), <=, 1024 * 1024);
  g_assert_cmpuint (strlen (text), >, 1000 * 1000);
  g_assert_true (g_str_has_prefix (text, "€€€€€ €"));
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, MAX_SECONDS);
}

static char *
lookup_user (const char *id,
             gpointer    user_data)
{
  guint *calls = user_data;

  (*calls)++;

  if (g_str_equal (id, "U123"))
    return g_strdup ("Ann Lee");
  return NULL;
}

static void
test_mrkdwn (void)
{
  static const Case cases[] = {
    { "hi <@U123>", "hi @Ann Lee" },
    { "hi <@U999>", "hi @U999" },
    { "hi <@U999|bob>", "hi @bob" },
    { "in <#C123|general> and <#C456>", "in #general and #C456" },
    { "<!here> <!channel> <!everyone>", "@here @channel @everyone" },
    { "<!subteam^S123|@support> ping", "@support ping" },
    { "<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014" },
    { "see <https://x.io/a_b_c|the docs>", "see the docs (https://x.io/a_b_c)" },
    { "see <https://x.io/a_b_c>", "see https://x.io/a_b_c" },
    { "<https://x.io|https://x.io>", "https://x.io" },
    { "<mailto:a@b.io|a@b.io>", "a@b.io" },
    { "<mailto:a@b.io|Ann>", "Ann (a@b.io)" },
    { "<https://x.io?a=1&amp;b=2|Q&amp;A>", "Q&A (https://x.io?a=1&b=2)" },
    { "a &amp; b &lt;c&gt; &amp;lt;", "a & b <c> &lt;" },
    { "&lt;@U123&gt; is text", "<@U123> is text" },
    { "*bold* _italic_ ~strike~", "bold italic strike" },
    { "a *bold phrase* here", "a bold phrase here" },
    { "snake_case_name and file_name.txt", "snake_case_name and file_name.txt" },
    { "2 * 3 * 4 = 24", "2 * 3 * 4 = 24" },
    { "*<https://x.io|link>*", "link (https://x.io)" },
    { "price*2 and a*b*c", "price*2 and a*b*c" },
    { "*unclosed bold", "*unclosed bold" },
    { "_(parenthesised)_!", "(parenthesised)!" },
    { "`_code_ *kept*` _but_ this", "`_code_ *kept*` but this" },
    { "before\n```\ncode *here*\n  indented\n```\nafter", "before\ncode *here*\n  indented\nafter" },
    { "```inline fence```", "inline fence" },
    { "a < b > c", "a < b > c" },
    { "lone < and <unterminated", "lone < and <unterminated" },
    { "", "" },
  };
  guint calls = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = fd_text_from_slack_mrkdwn (cases[i].input, lookup_user, &calls);

      g_test_message ("mrkdwn: %s", cases[i].input);
      assert_safe_text (text);
      g_assert_cmpstr (text, ==, cases[i].expected);
    }

  /* Only the two label-less mentions asked. */
  g_assert_cmpuint (calls, ==, 2);
}

static void
test_mrkdwn_no_lookup (void)
{
  g_autofree char *a = fd_text_from_slack_mrkdwn ("hi <@U123>", NULL, NULL);
  g_autofree char *b = fd_text_from_slack_mrkdwn (NULL, NULL, NULL);
  g_autofree char *c = fd_text_from_slack_mrkdwn ("bad \xff <@\xfe>", NULL, NULL);

  g_assert_cmpstr (a, ==, "hi @U123");
  g_assert_cmpstr (b, ==, "");
  assert_safe_text (c);
  g_assert_true (g_str_has_prefix (c, "bad \xef\xbf\xbd @"));
}

static const char *html_samples[] = {
  "<html><head><style>x{}</style></head><body><p>Hello <b>there</b>,</p>"
  "<blockquote><p>quoted <a href=\"https://x.io\">link</a></p></blockquote>"
  "<ul><li>one</li><li>two <img alt=\"pic\"></li></ul><pre>code\n  more</pre>"
  "<ol><li><code>a &lt; b</code></li></ol><script>evil()</script>&eacute;&amp;</body></html>",
  "<div><div><table><tr><td>a</td><th>b</th></tr></table><br/><hr/>"
  "<a href=\"mailto:x@y.z\">x@y.z</a></div></div>",
  "<!DOCTYPE html [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><p>&e;</p>",
};

static const char *mrkdwn_samples[] = {
  "*hi* <@U123> in <#C1|general>: see <https://x.io/a_b|docs> &amp; _more_ ~old~",
  "```\ncode <https://x.io>\n``` <!here> `tick` <mailto:a@b|a@b> &lt;&gt;",
};

static const char fuzz_alphabet[] = "<>/&;#*_~`|!@\"'= \n\tabcdefxyz0123456789";

static char *
mutate (GRand      *rand,
        const char *sample)
{
  GString *s = g_string_new (sample);
  guint rounds = g_rand_int_range (rand, 1, 12);

  for (guint r = 0; r < rounds; r++)
    {
      guint pos = g_rand_int_range (rand, 0, s->len + 1);
      /* Drawn once: MIN() evaluates its arguments twice. */
      gsize span = g_rand_int_range (rand, 1, 64);

      switch (g_rand_int_range (rand, 0, 6))
        {
        case 0: /* a random byte, any value but NUL */
          g_string_insert_c (s, pos, (char) g_rand_int_range (rand, 1, 256));
          break;

        case 1: /* a character that means something to one of the parsers */
          g_string_insert_c (s, pos, fuzz_alphabet[g_rand_int_range (rand, 0, sizeof fuzz_alphabet - 1)]);
          break;

        case 2: /* a deletion */
          if (pos < s->len)
            g_string_erase (s, pos, MIN (s->len - pos, span));
          break;

        case 3: /* a copied stretch */
          if (pos < s->len)
            {
              g_autofree char *copy = g_strndup (s->str + pos, MIN (s->len - pos, span));

              g_string_insert (s, g_rand_int_range (rand, 0, s->len + 1), copy);
            }
          break;

        case 4: /* cut short */
          g_string_truncate (s, pos);
          break;

        default: /* a stray tag or token */
          {
            static const char *bits[] = { "<div>", "</p>", "<a href=\"", "<pre>", "&#", "<@", "<!",
                                          "```", "<script>", "]]>", "<![CDATA[", "<!--" };

            g_string_insert (s, pos, bits[g_rand_int_range (rand, 0, G_N_ELEMENTS (bits))]);
          }
          break;
        }
    }

  return g_string_free (s, FALSE);
}

static void
test_fuzz (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260101);
  g_autoptr(GTimer) timer = g_timer_new ();
  guint calls = 0;

  for (guint i = 0; i < 2000; i++)
    {
      const char *html_sample = html_samples[i % G_N_ELEMENTS (html_samples)];
      const char *mrkdwn_sample = mrkdwn_samples[i % G_N_ELEMENTS (mrkdwn_samples)];
      g_autofree char *html = mutate (rand, html_sample);
      g_autofree char *mrkdwn = mutate (rand, mrkdwn_sample);
      g_autofree char *text1 = fd_text_from_html (html);
      g_autofree char *text2 = fd_text_from_slack_mrkdwn (mrkdwn, lookup_user, &calls);

      assert_safe_text (text1);
      assert_safe_text (text2);
      /* A mutated "<script>" may turn into text, but no file is ever read. */
      g_assert_null (strstr (text1, "root:"));
    }

  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 6 * MAX_SECONDS);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/text/html/empty", test_html_empty);
  g_test_add_func ("/text/html/blocks", test_html_blocks);
  g_test_add_func ("/text/html/lists-and-quotes", test_html_lists_and_quotes);
  g_test_add_func ("/text/html/verbatim", test_html_verbatim);
  g_test_add_func ("/text/html/links-and-images", test_html_links_and_images);
  g_test_add_func ("/text/html/dropped-and-entities", test_html_dropped_and_entities);
  g_test_add_func ("/text/html/unclosed", test_html_unclosed);
  g_test_add_func ("/text/html/deep-nesting", test_html_deep_nesting);
  g_test_add_func ("/text/html/billion-laughs", test_html_billion_laughs);
  g_test_add_func ("/text/html/external-entities", test_html_external_entities);
  g_test_add_func ("/text/html/invalid-utf8", test_html_invalid_utf8);
  g_test_add_func ("/text/html/nul-bytes", test_html_nul_bytes);
  g_test_add_func ("/text/html/huge-input", test_html_huge_input);
  g_test_add_func ("/text/mrkdwn/cases", test_mrkdwn);
  g_test_add_func ("/text/mrkdwn/no-lookup", test_mrkdwn_no_lookup);
  g_test_add_func ("/text/fuzz", test_fuzz);

  return g_test_run ();
}
