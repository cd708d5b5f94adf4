/* test-macro.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <string.h>

#include "fd-fuzzy.h"
#include "fd-macro.h"

static const char *known_names[] = {
  "contact.name", "contact.first_name", "contact.email", "org.name", "org.plan",
  "agent.name", "agent.first_name", "conversation.id", "conversation.subject",
};

/* A conversation as fd_conversation_load would give it, with only what macros read. */
static FdConversationDetail *
make_detail (FdConversationDetail *detail)
{
  memset (detail, 0, sizeof *detail);
  detail->id = 4711;
  detail->subject = (char *) "SSO login fails with “audience mismatch”";
  detail->contact_name = (char *) "  Jane van Dijk ";
  detail->contact_email = (char *) "jane.vandijk@acme.example";
  detail->organisation_id = 12;
  detail->organisation_name = (char *) "Acme Corp";
  detail->plan = (char *) "enterprise";
  detail->is_enterprise = TRUE;
  detail->me_id = 3;
  detail->me_name = (char *) "Sam Okafor";
  return detail;
}

static GHashTable *
make_context (void)
{
  GHashTable *context = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (context, (char *) "contact.first_name", (char *) "Jane");
  g_hash_table_insert (context, (char *) "contact.name", (char *) "");
  g_hash_table_insert (context, (char *) "org.name", (char *) "Acme & Co");
  g_hash_table_insert (context, (char *) "agent.name", (char *) "Sam {{org.name}}");
  return context;
}

static char *
expand (const char  *body,
        GHashTable  *context,
        GPtrArray  **unknown,
        GPtrArray  **empty)
{
  *unknown = g_ptr_array_new_with_free_func (g_free);
  *empty = g_ptr_array_new_with_free_func (g_free);
  return fd_macro_expand (body, context, *unknown, *empty);
}

static void
test_expand_basic (void)
{
  g_autoptr(GHashTable) context = make_context ();
  g_autoptr(GPtrArray) unknown = NULL;
  g_autoptr(GPtrArray) empty = NULL;
  g_autofree char *out = NULL;

  out = expand ("Hi {{contact.first_name}}, welcome to {{ org.name }}!{{org.name}}",
                context, &unknown, &empty);
  g_assert_cmpstr (out, ==, "Hi Jane, welcome to Acme & Co!Acme & Co");
  g_assert_cmpuint (unknown->len, ==, 0);
  g_assert_cmpuint (empty->len, ==, 0);

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&unknown, g_ptr_array_unref);
  g_clear_pointer (&empty, g_ptr_array_unref);
  out = expand ("{{\torg.name  }}|{{org.name\t}}", context, &unknown, &empty);
  g_assert_cmpstr (out, ==, "Acme & Co|Acme & Co");

  /* No variables at all, and NULL arrays. */
  g_clear_pointer (&out, g_free);
  out = fd_macro_expand ("Plain text, no braces.", context, NULL, NULL);
  g_assert_cmpstr (out, ==, "Plain text, no braces.");

  g_clear_pointer (&out, g_free);
  out = fd_macro_expand ("", context, NULL, NULL);
  g_assert_cmpstr (out, ==, "");
}

static void
test_expand_unknown_and_empty (void)
{
  g_autoptr(GHashTable) context = make_context ();
  g_autoptr(GPtrArray) unknown = NULL;
  g_autoptr(GPtrArray) empty = NULL;
  g_autofree char *out = NULL;

  out = expand ("Dear {{contact.name}}{{ contact.nickname }}, {{ticket.id}} and {{contact.nickname}} "
                "from {{contact.name}}.",
                context, &unknown, &empty);
  /* Unknown names stay exactly as written, spaces included. */
  g_assert_cmpstr (out, ==, "Dear {{ contact.nickname }}, {{ticket.id}} and {{contact.nickname}} from .");
  g_assert_cmpuint (unknown->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (unknown, 0), ==, "contact.nickname");
  g_assert_cmpstr (g_ptr_array_index (unknown, 1), ==, "ticket.id");
  g_assert_cmpuint (empty->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (empty, 0), ==, "contact.name");

  /* Without a context every variable is unknown. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&unknown, g_ptr_array_unref);
  g_clear_pointer (&empty, g_ptr_array_unref);
  out = expand ("Hi {{contact.first_name}}", NULL, &unknown, &empty);
  g_assert_cmpstr (out, ==, "Hi {{contact.first_name}}");
  g_assert_cmpuint (unknown->len, ==, 1);
  g_assert_cmpuint (empty->len, ==, 0);
}

static void
test_expand_literal_braces (void)
{
  g_autoptr(GHashTable) context = make_context ();
  const struct {
    const char *body;
    const char *expected;
  } cases[] = {
    { "a {{ b", "a {{ b" },
    { "c }} d", "c }} d" },
    { "{{", "{{" },
    { "}}", "}}" },
    { "{{}}", "{{}}" },
    { "{{ }}", "{{ }}" },
    { "{{org name}}", "{{org name}}" },
    { "{{org.name}", "{{org.name}" },
    { "{{{org.name}}}", "{Acme & Co}" },
    { "{{ {{org.name}} }}", "{{ Acme & Co }}" },
    { "json: {\"a\": {\"b\": 1}}", "json: {\"a\": {\"b\": 1}}" },
    { "{{org.name}}{{", "Acme & Co{{" },
    { "{{org.\nname}}", "{{org.\nname}}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) unknown = NULL;
      g_autoptr(GPtrArray) empty = NULL;
      g_autofree char *out = expand (cases[i].body, context, &unknown, &empty);

      g_test_message ("%s", cases[i].body);
      g_assert_cmpstr (out, ==, cases[i].expected);
      g_assert_cmpuint (unknown->len, ==, 0);
    }
}

static void
test_expand_not_recursive (void)
{
  g_autoptr(GHashTable) context = make_context ();
  g_autoptr(GPtrArray) unknown = NULL;
  g_autoptr(GPtrArray) empty = NULL;
  g_autofree char *out = NULL;

  /* agent.name's value is "Sam {{org.name}}": it is text, not a variable. */
  out = expand ("— {{agent.name}}", context, &unknown, &empty);
  g_assert_cmpstr (out, ==, "— Sam {{org.name}}");
  g_assert_cmpuint (unknown->len, ==, 0);
  g_assert_cmpuint (empty->len, ==, 0);
}

static void
test_context_from_detail (void)
{
  FdConversationDetail detail;
  g_autoptr(GHashTable) context = NULL;
  g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) empty = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;

  context = fd_macro_context_new (make_detail (&detail));

  for (guint i = 0; i < G_N_ELEMENTS (known_names); i++)
    g_assert_true (g_hash_table_contains (context, known_names[i]));
  g_assert_cmpuint (g_hash_table_size (context), ==, G_N_ELEMENTS (known_names));

  g_assert_cmpstr (g_hash_table_lookup (context, "contact.name"), ==, "Jane van Dijk");
  g_assert_cmpstr (g_hash_table_lookup (context, "contact.first_name"), ==, "Jane");
  g_assert_cmpstr (g_hash_table_lookup (context, "contact.email"), ==, "jane.vandijk@acme.example");
  g_assert_cmpstr (g_hash_table_lookup (context, "org.name"), ==, "Acme Corp");
  g_assert_cmpstr (g_hash_table_lookup (context, "org.plan"), ==, "Enterprise");
  g_assert_cmpstr (g_hash_table_lookup (context, "agent.name"), ==, "Sam Okafor");
  g_assert_cmpstr (g_hash_table_lookup (context, "agent.first_name"), ==, "Sam");
  g_assert_cmpstr (g_hash_table_lookup (context, "conversation.id"), ==, "4711");
  g_assert_cmpstr (g_hash_table_lookup (context, "conversation.subject"), ==,
                   "SSO login fails with “audience mismatch”");

  out = fd_macro_expand ("Hi {{contact.first_name}} at {{org.name}} ({{org.plan}}), "
                         "#{{conversation.id}} — {{agent.first_name}}",
                         context, unknown, empty);
  g_assert_cmpstr (out, ==, "Hi Jane at Acme Corp (Enterprise), #4711 — Sam");
  g_assert_cmpuint (unknown->len, ==, 0);
  g_assert_cmpuint (empty->len, ==, 0);
}

static void
test_context_missing_data (void)
{
  FdConversationDetail detail;
  g_autoptr(GHashTable) context = NULL;
  g_autoptr(GHashTable) none = NULL;
  g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) empty = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;

  /* No name: the first name comes from the email; no organisation, no agent. */
  make_detail (&detail);
  detail.contact_name = (char *) "";
  detail.organisation_id = 0;
  detail.organisation_name = NULL;
  detail.plan = (char *) "growth";
  detail.me_name = NULL;
  context = fd_macro_context_new (&detail);

  g_assert_cmpstr (g_hash_table_lookup (context, "contact.name"), ==, "");
  g_assert_cmpstr (g_hash_table_lookup (context, "contact.first_name"), ==, "jane.vandijk");
  g_assert_cmpstr (g_hash_table_lookup (context, "org.name"), ==, "");
  /* A plan without a label is shown as it is stored. */
  g_assert_cmpstr (g_hash_table_lookup (context, "org.plan"), ==, "growth");
  g_assert_cmpstr (g_hash_table_lookup (context, "agent.name"), ==, "");
  g_assert_cmpstr (g_hash_table_lookup (context, "agent.first_name"), ==, "");

  out = fd_macro_expand ("{{contact.name}}{{org.name}}{{agent.name}}{{contact.first_name}}",
                         context, unknown, empty);
  g_assert_cmpstr (out, ==, "jane.vandijk");
  g_assert_cmpuint (unknown->len, ==, 0);
  g_assert_cmpuint (empty->len, ==, 3);

  /* Without a conversation every name is known and empty. */
  none = fd_macro_context_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (known_names); i++)
    g_assert_cmpstr (g_hash_table_lookup (none, known_names[i]), ==, "");
}

static void
test_starter_set (void)
{
  FdConversationDetail detail;
  g_autoptr(GListStore) macros = fd_macro_starter_set ();
  g_autoptr(GListStore) again = fd_macro_starter_set ();
  g_autoptr(GHashTable) context = fd_macro_context_new (make_detail (&detail));
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (macros));
  guint notes = 0;

  g_assert_cmpuint (n, >=, 8);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (macros)) == FD_TYPE_MACRO);
  /* A new store each call: changing one does not change the next. */
  g_assert_true (macros != again);
  g_list_store_remove (again, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (macros)), ==, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdMacro) macro = g_list_model_get_item (G_LIST_MODEL (macros), i);
      g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) empty = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *out = NULL;

      g_test_message ("%s", fd_macro_get_id (macro));
      g_assert_nonnull (fd_macro_get_id (macro));
      g_assert_cmpstr (fd_macro_get_title (macro), !=, "");
      g_assert_true (strstr (fd_macro_get_body (macro), "{{") != NULL);
      g_assert_false (g_hash_table_contains (ids, fd_macro_get_id (macro)));
      g_hash_table_add (ids, (gpointer) fd_macro_get_id (macro));
      if (fd_macro_get_is_note (macro))
        notes++;

      /* Every variable is a known name: nothing unknown, nothing left in braces. */
      out = fd_macro_expand (fd_macro_get_body (macro), context, unknown, empty);
      g_assert_cmpuint (unknown->len, ==, 0);
      g_assert_cmpuint (empty->len, ==, 0);
      g_assert_null (strstr (out, "{{"));
      g_assert_null (strstr (out, "}}"));
      g_assert_true (g_utf8_validate (out, -1, NULL));
    }

  g_assert_true (g_hash_table_contains (ids, "handover-note"));
  g_assert_cmpuint (notes, ==, 1);
}

static int
score_of (const char *needle,
          const char *haystack)
{
  int score = G_MININT;

  g_assert_true (fd_fuzzy_match (needle, haystack, &score, NULL));
  return score;
}

static void
assert_positions (const char *needle,
                  const char *haystack,
                  const char *expected)
{
  g_autoptr(GArray) positions = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GString) got = g_string_new (NULL);

  /* Whatever was in the array before is replaced. */
  g_array_append_val (positions, (int) { 99 });

  g_assert_true (fd_fuzzy_match (needle, haystack, NULL, positions));
  for (guint i = 0; i < positions->len; i++)
    g_string_append_printf (got, "%s%d", i > 0 ? "," : "", g_array_index (positions, int, i));

  g_test_message ("%s in %s", needle, haystack);
  g_assert_cmpstr (got->str, ==, expected);
}

static void
test_fuzzy_match (void)
{
  int score = 42;
  g_autoptr(GArray) positions = g_array_new (FALSE, FALSE, sizeof (int));

  g_assert_true (fd_fuzzy_match ("res", "Resolve", NULL, NULL));
  g_assert_true (fd_fuzzy_match ("RES", "resolve", NULL, NULL));
  g_assert_true (fd_fuzzy_match ("rslv", "Resolve", NULL, NULL));
  g_assert_false (fd_fuzzy_match ("sre", "Resolve", NULL, NULL));
  g_assert_false (fd_fuzzy_match ("resolved", "Resolve", NULL, NULL));
  g_assert_false (fd_fuzzy_match ("x", "", NULL, NULL));

  /* Spaces in the query are not needed in the text. */
  g_assert_true (fd_fuzzy_match ("snz conv", "Snooze conversation", NULL, NULL));
  g_assert_true (fd_fuzzy_match ("ass me", "Assign to me", NULL, NULL));

  /* An empty query matches everything, equally. */
  g_array_append_val (positions, (int) { 1 });
  g_assert_true (fd_fuzzy_match ("", "Resolve", &score, positions));
  g_assert_cmpint (score, ==, 0);
  g_assert_cmpuint (positions->len, ==, 0);
  g_assert_true (fd_fuzzy_match ("  ", "", &score, NULL));
}

static void
test_fuzzy_ranking (void)
{
  /* The start of the text and consecutive letters beat a later word. */
  g_assert_cmpint (score_of ("res", "Resolve"), >, score_of ("res", "Unassigned (ResOlved)"));
  /* A word start beats the middle of a word. */
  g_assert_cmpint (score_of ("res", "Unassigned (ResOlved)"), >, score_of ("res", "Unpressed"));
  /* Consecutive beats scattered. */
  g_assert_cmpint (score_of ("res", "Reset password"), >, score_of ("res", "Reassign"));
  g_assert_cmpint (score_of ("res", "Reassign"), >, score_of ("res", "Reply to the customer"));
  /* Initials of words beat letters spread inside one word. */
  g_assert_cmpint (score_of ("atm", "Assign to me"), >, score_of ("atm", "Attachments"));
  /* An exact title beats a longer one that starts the same. */
  g_assert_cmpint (score_of ("snooze", "Snooze"), >, score_of ("snooze", "Snoozed conversations"));
  /* Case does not change the score. */
  g_assert_cmpint (score_of ("RESOLVE", "Resolve"), ==, score_of ("resolve", "Resolve"));
}

static void
test_fuzzy_positions (void)
{
  assert_positions ("res", "Resolve", "0,1,2");
  assert_positions ("res", "Unassigned (ResOlved)", "12,13,14");
  /* The best alignment, not the first: "to" at the word, not t…o scattered. */
  assert_positions ("atme", "Assign to me", "0,7,10,11");
  assert_positions ("sla", "Show SLA at risk", "5,6,7");
}

static void
test_fuzzy_accents_utf8 (void)
{
  g_autoptr(GArray) positions = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *markup = NULL;
  int plain = 0, accented = 0;

  /* Accents and case do not matter, either way round. */
  g_assert_true (fd_fuzzy_match ("cafe", "Café crème", NULL, NULL));
  g_assert_true (fd_fuzzy_match ("CAFÉ", "cafe", NULL, NULL));
  g_assert_true (fd_fuzzy_match ("zurich", "Zürich office", NULL, NULL));
  g_assert_true (fd_fuzzy_match ("ÅNGSTRÖM", "angstrom", NULL, NULL));
  /* Decomposed input (e + combining acute) is the same letter. */
  g_assert_true (fd_fuzzy_match ("cafe", "Cafe\xcc\x81", NULL, NULL));
  g_assert_cmpint (score_of ("cafe", "Cafe"), ==, score_of ("café", "Café"));
  plain = score_of ("renee", "Renee Martin");
  accented = score_of ("renee", "Renée Martin");
  g_assert_cmpint (plain, ==, accented);

  /* Offsets count characters, not bytes. */
  assert_positions ("bru", "Crème brûlée", "6,7,8");
  assert_positions ("res", "日本語 Resolve", "4,5,6");
  assert_positions ("日本", "会社 日本語", "3,4");
  /* "ß" folds to "ss": two letters of the query, one of the text. */
  assert_positions ("strasse", "Straße", "0,1,2,3,4,5");
  assert_positions ("😀x", "a😀bx", "1,3");

  g_assert_true (fd_fuzzy_match ("res", "日本語 Resolve", NULL, positions));
  markup = fd_fuzzy_highlight ("日本語 Resolve", positions);
  g_assert_cmpstr (markup, ==, "日本語 <b>Res</b>olve");

  /* Invalid UTF-8 is read as if made valid, never past the end. */
  g_assert_true (fd_fuzzy_match ("res", "Re\xffsolve", NULL, positions));
  g_assert_cmpuint (positions->len, ==, 3);
  g_assert_cmpint (g_array_index (positions, int, 2), ==, 3);
  g_clear_pointer (&markup, g_free);
  markup = fd_fuzzy_highlight ("Re\xffsolve", positions);
  g_assert_true (g_utf8_validate (markup, -1, NULL));
  g_assert_cmpstr (markup, ==, "<b>Re</b>\xef\xbf\xbd<b>s</b>olve");
  g_assert_false (fd_fuzzy_match ("\xff", "abc", NULL, NULL));
}

static void
test_fuzzy_highlight (void)
{
  g_autoptr(GArray) positions = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *markup = NULL;
  int unsorted[] = { 6, 0, 1 };

  g_assert_true (fd_fuzzy_match ("tj<", "Tom & Jerry <b>", NULL, positions));
  markup = fd_fuzzy_highlight ("Tom & Jerry <b>", positions);
  g_assert_cmpstr (markup, ==, "<b>T</b>om &amp; <b>J</b>erry <b>&lt;</b>b&gt;");

  g_clear_pointer (&markup, g_free);
  markup = fd_fuzzy_highlight ("a < b", NULL);
  g_assert_cmpstr (markup, ==, "a &lt; b");

  /* Positions in any order, and past the end, are fine. */
  g_array_set_size (positions, 0);
  g_array_append_vals (positions, unsorted, G_N_ELEMENTS (unsorted));
  g_array_append_val (positions, (int) { 100 });
  g_clear_pointer (&markup, g_free);
  markup = fd_fuzzy_highlight ("Résumé", positions);
  g_assert_cmpstr (markup, ==, "<b>Ré</b>sumé");

  g_clear_pointer (&markup, g_free);
  markup = fd_fuzzy_highlight ("", positions);
  g_assert_cmpstr (markup, ==, "");
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/macro/expand/basic", test_expand_basic);
  g_test_add_func ("/macro/expand/unknown-and-empty", test_expand_unknown_and_empty);
  g_test_add_func ("/macro/expand/literal-braces", test_expand_literal_braces);
  g_test_add_func ("/macro/expand/not-recursive", test_expand_not_recursive);
  g_test_add_func ("/macro/context/detail", test_context_from_detail);
  g_test_add_func ("/macro/context/missing-data", test_context_missing_data);
  g_test_add_func ("/macro/starter-set", test_starter_set);
  g_test_add_func ("/fuzzy/match", test_fuzzy_match);
  g_test_add_func ("/fuzzy/ranking", test_fuzzy_ranking);
  g_test_add_func ("/fuzzy/positions", test_fuzzy_positions);
  g_test_add_func ("/fuzzy/accents-utf8", test_fuzzy_accents_utf8);
  g_test_add_func ("/fuzzy/highlight", test_fuzzy_highlight);

  return g_test_run ();
}
