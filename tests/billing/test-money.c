/* test-money.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Money in int64 minor units: exponents, formatting in the locale, parsing what an
 * agent types, and totals that never mix currencies.
 */

#include "config.h"

#include <locale.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "fd-money.h"

/* Runs the calling test in @name (the thread's locale), or returns NULL when that
 * locale is not installed. */
static locale_t
use_locale (const char *name)
{
  locale_t loc = newlocale (LC_ALL_MASK, name, (locale_t) 0);

  if (loc != (locale_t) 0)
    uselocale (loc);
  return loc;
}

static void
restore_locale (locale_t loc)
{
  uselocale (LC_GLOBAL_LOCALE);
  if (loc != (locale_t) 0)
    freelocale (loc);
}

static void
assert_format (gint64      minor,
               const char *currency,
               const char *expected)
{
  g_autofree char *text = fd_money_format (minor, currency);

  g_assert_cmpstr (text, ==, expected);
}

static void
assert_format_code (gint64      minor,
                    const char *currency,
                    const char *expected)
{
  g_autofree char *text = fd_money_format_with_code (minor, currency);

  g_assert_cmpstr (text, ==, expected);
}

static gint64
parse_ok (const char *text,
          const char *currency)
{
  g_autoptr(GError) error = NULL;
  gint64 minor = -1;

  if (!fd_money_parse (text, currency, &minor, &error))
    g_error ("“%s” in %s was refused: %s", text, currency, error->message);
  g_assert_no_error (error);
  return minor;
}

static GError *
parse_refused (const char *text,
               const char *currency)
{
  GError *error = NULL;
  gint64 minor = 12345;

  g_assert_false (fd_money_parse (text, currency, &minor, &error));
  g_assert_nonnull (error);
  g_assert_cmpint (minor, ==, 12345);
  return error;
}

/* A message for people: words, no error code, no escapes. */
static void
assert_plain (const GError *error)
{
  g_assert_cmpuint (strlen (error->message), >, 10);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_null (strstr (error->message, "FD_MONEY"));
  g_assert_null (strstr (error->message, "(null)"));
  g_assert_null (strstr (error->message, "%"));
  g_assert_true (g_str_has_suffix (error->message, "."));
}

static void
test_exponents (void)
{
  static const char * const zero[] = { "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw",
                                       "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                                       "xof", "xpf" };
  static const char * const three[] = { "bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd" };

  for (guint i = 0; i < G_N_ELEMENTS (zero); i++)
    {
      g_autofree char *upper = g_ascii_strup (zero[i], -1);

      g_assert_cmpuint (fd_currency_exponent (zero[i]), ==, 0);
      g_assert_cmpuint (fd_currency_exponent (upper), ==, 0);
    }
  for (guint i = 0; i < G_N_ELEMENTS (three); i++)
    g_assert_cmpuint (fd_currency_exponent (three[i]), ==, 3);

  g_assert_cmpuint (fd_currency_exponent ("usd"), ==, 2);
  g_assert_cmpuint (fd_currency_exponent ("EUR"), ==, 2);
  g_assert_cmpuint (fd_currency_exponent ("chf"), ==, 2);

  {
    g_autofree char *code = fd_currency_code ("jpy");
    g_assert_cmpstr (code, ==, "JPY");
  }
}

static void
test_format_c (void)
{
  locale_t loc = use_locale ("C.UTF-8");

  assert_format (500, "jpy", "¥500");
  assert_format (500, "JPY", "¥500");
  assert_format (1500, "kwd", "1.500 KWD");
  assert_format (1999, "usd", "$19.99");
  assert_format (500, "eur", "€5.00");
  assert_format (7, "gbp", "£0.07");
  assert_format (0, "usd", "$0.00");
  assert_format (123456789, "usd", "$1,234,567.89");
  assert_format (100000, "usd", "$1,000.00");
  assert_format (99999, "usd", "$999.99");
  assert_format (1234567, "jpy", "¥1,234,567");
  assert_format (123456, "chf", "1,234.56 CHF");
  assert_format (5, "kwd", "0.005 KWD");

  /* Negative amounts: a leading minus, the digits of the magnitude. */
  assert_format (-1999, "usd", "-$19.99");
  assert_format (-5, "usd", "-$0.05");
  assert_format (-1500, "kwd", "-1.500 KWD");
  assert_format (-500, "jpy", "-¥500");

  /* The whole int64 range, without overflow. */
  assert_format (G_MAXINT64, "usd", "$92,233,720,368,547,758.07");
  assert_format (G_MININT64, "usd", "-$92,233,720,368,547,758.08");
  assert_format (G_MAXINT64, "jpy", "¥9,223,372,036,854,775,807");

  assert_format_code (1999, "usd", "19.99 USD");
  assert_format_code (500, "jpy", "500 JPY");
  assert_format_code (1500, "kwd", "1.500 KWD");
  assert_format_code (-4500, "eur", "-45.00 EUR");
  assert_format_code (123456789, "usd", "1,234,567.89 USD");

  restore_locale (loc);

  /* The plain C locale groups digits too, rather than "$1234567.89". */
  loc = use_locale ("C");
  assert_format (123456789, "usd", "$1,234,567.89");
  restore_locale (loc);
}

static void
test_format_en (void)
{
  locale_t loc = use_locale ("en_US.UTF-8");

  if (loc == (locale_t) 0)
    {
      g_test_skip ("The en_US.UTF-8 locale is not installed (the C locale is tested instead)");
      return;
    }

  assert_format (123456789, "usd", "$1,234,567.89");
  assert_format (1500, "kwd", "1.500 KWD");
  g_assert_cmpint (parse_ok ("1,234.5", "usd"), ==, 123450);

  restore_locale (loc);
}

static const char *comma_locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                       "fr_FR.utf8", "nl_NL.UTF-8", "es_ES.UTF-8",
                                       "it_IT.UTF-8", "pt_BR.UTF-8" };

static void
test_comma_locale (void)
{
  locale_t loc = (locale_t) 0;
  const char *name = NULL;
  struct lconv *conv;
  g_autofree char *thousands = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *text = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (comma_locales) && loc == (locale_t) 0; i++)
    {
      name = comma_locales[i];
      loc = use_locale (name);
    }
  if (loc == (locale_t) 0)
    {
      g_test_skip ("No locale with a decimal comma is installed (de_DE.UTF-8 comes with "
                   "Debian's “locales” package and locale-gen)");
      return;
    }
  g_test_message ("Testing in %s", name);

  conv = localeconv ();
  g_assert_cmpstr (conv->decimal_point, ==, ",");
  thousands = g_strdup (conv->thousands_sep);

  assert_format (1999, "usd", "$19,99");
  assert_format (500, "jpy", "¥500");
  assert_format (1500, "kwd", "1,500 KWD");
  assert_format (-4500, "eur", "-€45,00");

  /* Grouping as the locale writes it (de_DE: "1.234.567,89", fr_FR: a narrow space;
   * es_ES groups only from five digits, which this check allows for). */
  text = fd_money_format (123456789, "eur");
  if (*thousands != '\0' && conv->grouping[0] == 3)
    {
      expected = g_strdup_printf ("€1%s234%s567,89", thousands, thousands);
      g_assert_cmpstr (text, ==, expected);
    }
  else
    g_assert_true (g_str_has_suffix (text, "567,89"));

  g_assert_cmpint (parse_ok ("12,50", "eur"), ==, 1250);
  g_assert_cmpint (parse_ok ("12,5", "usd"), ==, 1250);
  /* A dot before anything but three digits is a decimal point typed the English way. */
  g_assert_cmpint (parse_ok ("12.5", "usd"), ==, 1250);
  g_assert_cmpint (parse_ok ("1,500", "kwd"), ==, 1500);
  if (g_str_equal (thousands, "."))
    {
      g_assert_cmpint (parse_ok ("1.234.567,89", "eur"), ==, 123456789);
      g_assert_cmpint (parse_ok ("1.500", "jpy"), ==, 1500);
    }
  {
    g_autoptr(GError) error = parse_refused ("1,5", "jpy");

    g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID);
    assert_plain (error);
  }
  {
    /* A formatted amount reads back as itself. */
    g_autofree char *formatted = fd_money_format (123456789, "eur");

    g_assert_cmpint (parse_ok (formatted, "eur"), ==, 123456789);
  }

  restore_locale (loc);
}

static void
test_parse (void)
{
  locale_t loc = use_locale ("C.UTF-8");

  g_assert_cmpint (parse_ok ("12.5", "usd"), ==, 1250);
  g_assert_cmpint (parse_ok ("12.50", "usd"), ==, 1250);
  g_assert_cmpint (parse_ok ("12", "usd"), ==, 1200);
  g_assert_cmpint (parse_ok ("0.07", "usd"), ==, 7);
  g_assert_cmpint (parse_ok (".5", "usd"), ==, 50);
  g_assert_cmpint (parse_ok ("  12.50  ", "usd"), ==, 1250);
  g_assert_cmpint (parse_ok ("$19.99", "usd"), ==, 1999);
  g_assert_cmpint (parse_ok ("19.99 USD", "usd"), ==, 1999);
  g_assert_cmpint (parse_ok ("usd 19.99", "usd"), ==, 1999);
  g_assert_cmpint (parse_ok ("€5", "eur"), ==, 500);
  g_assert_cmpint (parse_ok ("500", "jpy"), ==, 500);
  g_assert_cmpint (parse_ok ("¥500", "jpy"), ==, 500);
  g_assert_cmpint (parse_ok ("1.5", "kwd"), ==, 1500);
  g_assert_cmpint (parse_ok ("1.234", "kwd"), ==, 1234);
  g_assert_cmpint (parse_ok ("1 200", "usd"), ==, 120000);
  g_assert_cmpint (parse_ok ("1\u202f200", "usd"), ==, 120000);
  g_assert_cmpint (parse_ok ("1,234,567.89", "usd"), ==, 123456789);
  g_assert_cmpint (parse_ok ("1,500", "jpy"), ==, 1500);
  /* A comma that cannot be a digit separator is a decimal comma. */
  g_assert_cmpint (parse_ok ("12,50", "usd"), ==, 1250);
  g_assert_cmpint (parse_ok ("0", "usd"), ==, 0);
  g_assert_cmpint (parse_ok ("99999999.99", "usd"), ==, G_GINT64_CONSTANT (9999999999));
  g_assert_cmpint (parse_ok ("99999999", "jpy"), ==, 99999999);

  /* What a formatted amount reads back as. */
  for (guint i = 0; i < 4; i++)
    {
      static const char * const currencies[] = { "usd", "jpy", "kwd", "chf" };
      g_autofree char *text = fd_money_format (1234567, currencies[i]);

      g_assert_cmpint (parse_ok (text, currencies[i]), ==, 1234567);
    }

  restore_locale (loc);
}

static void
test_parse_refused (void)
{
  static const char * const garbage[] = { "", "   ", "abc", "twelve", "12abc", "1.2.3",
                                          "1,2,3", "12..5", "1,,000", ",", ".", "1,0000",
                                          "$", "1.234,56", "0x10", "1e3", "12.5.", "1 2" };
  locale_t loc = use_locale ("C.UTF-8");

  {
    g_autoptr(GError) error = parse_refused ("1.5", "jpy");

    g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID);
    assert_plain (error);
    g_assert_nonnull (strstr (error->message, "JPY"));
  }
  {
    g_autoptr(GError) error = parse_refused ("500.0", "jpy");

    g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID);
  }
  {
    g_autoptr(GError) error = parse_refused ("1.2345", "kwd");

    g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID);
    assert_plain (error);
    g_assert_nonnull (strstr (error->message, "KWD"));
    g_assert_nonnull (strstr (error->message, "3"));
  }
  {
    g_autoptr(GError) error = parse_refused ("12.505", "usd");

    g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID);
  }

  for (guint i = 0; i < 4; i++)
    {
      static const char * const negatives[] = { "-5", "-$5", "$-5.00", "\u22125" };
      g_autoptr(GError) error = parse_refused (negatives[i], "usd");

      g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_NEGATIVE);
      assert_plain (error);
    }

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_autoptr(GError) error = parse_refused (garbage[i], "usd");

      g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID);
      assert_plain (error);
      g_test_message ("“%s”: %s", garbage[i], error->message);
    }

  {
    /* A sign or code of another currency is not quietly taken for this one. */
    g_autoptr(GError) error = parse_refused ("€5", "usd");
    g_autoptr(GError) error2 = parse_refused ("5 GBP", "usd");

    g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "EUR"));
    g_assert_nonnull (strstr (error->message, "USD"));
    g_assert_error (error2, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID);
    g_assert_nonnull (strstr (error2->message, "GBP"));
  }

  {
    g_autoptr(GError) error = parse_refused ("100000000", "usd");
    g_autoptr(GError) error2 = parse_refused ("123456789012345678901234567890", "jpy");

    g_assert_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_TOO_LARGE);
    assert_plain (error);
    g_assert_nonnull (strstr (error->message, "99,999,999.00 USD"));
    g_assert_error (error2, FD_MONEY_ERROR, FD_MONEY_ERROR_TOO_LARGE);
  }

  restore_locale (loc);
}

static void
test_totals (void)
{
  g_autoptr(FdMoneyTotals) totals = fd_money_totals_new ();
  g_autofree char *empty = NULL;
  g_autofree char *text = NULL;
  const char * const *currencies;
  locale_t loc = use_locale ("C.UTF-8");

  empty = fd_money_totals_format (totals);
  g_assert_cmpstr (empty, ==, "");
  g_assert_null (fd_money_totals_get_currencies (totals)[0]);
  g_assert_cmpint (fd_money_totals_get (totals, "usd"), ==, 0);

  fd_money_totals_add (totals, 10000, "usd");
  fd_money_totals_add (totals, 3500, "EUR");
  fd_money_totals_add (totals, 2000, "USD");
  fd_money_totals_add (totals, 500, "jpy");
  fd_money_totals_add (totals, -500, "jpy");

  g_assert_cmpint (fd_money_totals_get (totals, "usd"), ==, 12000);
  g_assert_cmpint (fd_money_totals_get (totals, "eur"), ==, 3500);
  g_assert_cmpint (fd_money_totals_get (totals, "JPY"), ==, 0);
  g_assert_cmpint (fd_money_totals_get (totals, "gbp"), ==, 0);

  currencies = fd_money_totals_get_currencies (totals);
  g_assert_cmpuint (g_strv_length ((char **) currencies), ==, 3);
  g_assert_cmpstr (currencies[0], ==, "usd");
  g_assert_cmpstr (currencies[1], ==, "eur");
  g_assert_cmpstr (currencies[2], ==, "jpy");

  text = fd_money_totals_format (totals);
  g_assert_cmpstr (text, ==, "$120.00 + €35.00 + ¥0");

  restore_locale (loc);
}

static void
test_totals_two (void)
{
  g_autoptr(FdMoneyTotals) totals = fd_money_totals_new ();
  g_autofree char *text = NULL;
  locale_t loc = use_locale ("C.UTF-8");

  fd_money_totals_add (totals, 12000, "usd");
  fd_money_totals_add (totals, 3500, "eur");
  text = fd_money_totals_format (totals);
  g_assert_cmpstr (text, ==, "$120.00 + €35.00");

  /* A sum that would leave the int64 range stays at its edge instead of wrapping. */
  fd_money_totals_add (totals, G_MAXINT64, "usd");
  g_assert_cmpint (fd_money_totals_get (totals, "usd"), ==, G_MAXINT64);
  g_assert_cmpint (fd_money_totals_get (totals, "eur"), ==, 3500);

  restore_locale (loc);
}

/* Debian ships locale sources (package locales) but compiles only the ones the
 * administrator chose. When de_DE and en_US are missing, compile them into a folder of
 * the test's own and point LOCPATH at it, so the locale cases run rather than skip. */
static char *
compile_locales (void)
{
  static const char *wanted[][2] = { { "de_DE", "de_DE.UTF-8" }, { "en_US", "en_US.UTF-8" } };
  g_autofree char *localedef = g_find_program_in_path ("localedef");
  g_autofree char *dir = NULL;
  gboolean any = FALSE;

  if (localedef == NULL ||
      !g_file_test ("/usr/share/i18n/locales/de_DE", G_FILE_TEST_EXISTS))
    return NULL;
  dir = g_dir_make_tmp ("fd-test-money-XXXXXX", NULL);
  if (dir == NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    {
      locale_t loc = newlocale (LC_ALL_MASK, wanted[i][1], (locale_t) 0);
      g_autofree char *target = g_build_filename (dir, wanted[i][1], NULL);
      const char *argv[] = { "localedef", "-i", wanted[i][0], "-f", "UTF-8", target, NULL };
      int status = 0;

      if (loc != (locale_t) 0)
        {
          freelocale (loc);
          continue;
        }
      if (g_spawn_sync (NULL, (char **) argv, NULL,
                        G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                        NULL, NULL, NULL, NULL, &status, NULL) &&
          g_spawn_check_wait_status (status, NULL))
        any = TRUE;
    }

  if (!any)
    {
      g_rmdir (dir);
      return NULL;
    }
  g_setenv ("LOCPATH", dir, TRUE);
  return g_steal_pointer (&dir);
}

static void
remove_tree (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

int
main (int argc, char *argv[])
{
  g_autofree char *locales = NULL;
  int status;

  /* Messages print as UTF-8; each test picks the locale it formats in. */
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);
  locales = compile_locales ();

  g_test_add_func ("/money/exponents", test_exponents);
  g_test_add_func ("/money/format/c", test_format_c);
  g_test_add_func ("/money/format/en", test_format_en);
  g_test_add_func ("/money/format/comma-locale", test_comma_locale);
  g_test_add_func ("/money/parse", test_parse);
  g_test_add_func ("/money/parse/refused", test_parse_refused);
  g_test_add_func ("/money/totals", test_totals);
  g_test_add_func ("/money/totals/two", test_totals_two);

  status = g_test_run ();
  if (locales != NULL)
    remove_tree (locales);
  return status;
}
