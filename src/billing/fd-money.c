/* fd-money.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-money"

#include "config.h"

#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <string.h>

#include <glib/gi18n.h>

#include "fd-money.h"

G_DEFINE_QUARK (fd-money-error-quark, fd_money_error)

/* The largest amount an agent may type, in major units. */
#define MAX_MAJOR G_GINT64_CONSTANT (99999999)

static const char * const zero_decimal[] = {
  "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
  "vuv", "xaf", "xof", "xpf",
};

static const char * const three_decimal[] = {
  "bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd",
};

static const struct
{
  const char *currency;
  const char *symbol;
} symbols[] = {
  { "usd", "$" },
  { "eur", "€" },
  { "gbp", "£" },
  { "jpy", "¥" },
};

static gboolean
in_list (const char         *currency,
         const char * const *list,
         gsize               n)
{
  for (gsize i = 0; i < n; i++)
    if (g_ascii_strcasecmp (currency, list[i]) == 0)
      return TRUE;
  return FALSE;
}

guint
fd_currency_exponent (const char *currency)
{
  g_return_val_if_fail (currency != NULL, 2);

  if (in_list (currency, zero_decimal, G_N_ELEMENTS (zero_decimal)))
    return 0;
  if (in_list (currency, three_decimal, G_N_ELEMENTS (three_decimal)))
    return 3;
  return 2;
}

char *
fd_currency_code (const char *currency)
{
  g_return_val_if_fail (currency != NULL, NULL);

  return g_ascii_strup (currency, -1);
}

static const char *
currency_symbol (const char *currency)
{
  for (gsize i = 0; i < G_N_ELEMENTS (symbols); i++)
    if (g_ascii_strcasecmp (currency, symbols[i].currency) == 0)
      return symbols[i].symbol;
  return NULL;
}

/* {{{ The locale's numbers */

typedef struct
{
  char radix[8];
  char thousands[8];
  char grouping[16];      /* as in localeconv (): sizes from the right, CHAR_MAX stops */
} NumberStyle;

/* The C and POSIX locales define no digit grouping at all; an amount of money without
 * it is hard to read, so they get the conventions of English. */
static gboolean
is_c_locale (void)
{
  /* The name of the thread's locale (uselocale) as well as the global one. */
#ifdef _NL_LOCALE_NAME
  const char *name = nl_langinfo (_NL_LOCALE_NAME (LC_NUMERIC));
#else
  const char *name = setlocale (LC_NUMERIC, NULL);
#endif

  return name == NULL || *name == '\0' ||
         g_str_equal (name, "C") ||
         g_str_equal (name, "POSIX") ||
         g_str_has_prefix (name, "C.");
}

static void
number_style_init (NumberStyle *style)
{
  const char *radix = nl_langinfo (RADIXCHAR);
  const char *thousands = nl_langinfo (THOUSEP);
  const char *grouping = nl_langinfo (GROUPING);

  if (is_c_locale () || radix == NULL || *radix == '\0')
    {
      g_strlcpy (style->radix, ".", sizeof style->radix);
      g_strlcpy (style->thousands, ",", sizeof style->thousands);
      g_strlcpy (style->grouping, "\3", sizeof style->grouping);
      return;
    }

  g_strlcpy (style->radix, radix, sizeof style->radix);
  g_strlcpy (style->thousands, thousands != NULL ? thousands : "", sizeof style->thousands);
  g_strlcpy (style->grouping, grouping != NULL ? grouping : "", sizeof style->grouping);
  if (style->thousands[0] == '\0')
    style->grouping[0] = '\0';
}

/* Appends the decimal digits of @value with the locale's digit grouping. */
static void
append_grouped (GString           *out,
                guint64            value,
                const NumberStyle *style)
{
  char digits[24];
  int len, pos;
  GArray *cuts;
  const char *g = style->grouping;
  int size = 0;

  len = g_snprintf (digits, sizeof digits, "%" G_GUINT64_FORMAT, value);

  /* Where separators go, counted from the right. */
  cuts = g_array_new (FALSE, FALSE, sizeof (int));
  pos = len;
  while (g[0] != '\0' || size > 0)
    {
      if (g[0] != '\0')
        {
          if ((unsigned char) g[0] == CHAR_MAX || g[0] <= 0)
            break;
          size = g[0];
          g++;
        }
      pos -= size;
      if (pos <= 0)
        break;
      g_array_prepend_val (cuts, pos);
    }

  pos = 0;
  for (guint i = 0; i < cuts->len; i++)
    {
      int cut = g_array_index (cuts, int, i);

      g_string_append_len (out, digits + pos, cut - pos);
      g_string_append (out, style->thousands);
      pos = cut;
    }
  g_string_append (out, digits + pos);
  g_array_free (cuts, TRUE);
}

static void
append_amount (GString           *out,
               gint64             minor,
               const char        *currency,
               const NumberStyle *style)
{
  guint exponent = fd_currency_exponent (currency);
  guint64 magnitude, scale = 1;

  /* The magnitude of G_MININT64 does not fit in a gint64, but does in a guint64. */
  magnitude = minor < 0 ? (guint64) -(minor + 1) + 1 : (guint64) minor;

  for (guint i = 0; i < exponent; i++)
    scale *= 10;

  append_grouped (out, magnitude / scale, style);
  if (exponent > 0)
    {
      g_string_append (out, style->radix);
      g_string_append_printf (out, "%0*" G_GUINT64_FORMAT, (int) exponent, magnitude % scale);
    }
}

char *
fd_money_format (gint64      minor,
                 const char *currency)
{
  NumberStyle style;
  GString *out;
  const char *symbol;

  g_return_val_if_fail (currency != NULL, NULL);

  number_style_init (&style);
  out = g_string_new (minor < 0 ? "-" : NULL);
  symbol = currency_symbol (currency);
  if (symbol != NULL)
    {
      g_string_append (out, symbol);
      append_amount (out, minor, currency, &style);
    }
  else
    {
      g_autofree char *code = fd_currency_code (currency);

      append_amount (out, minor, currency, &style);
      g_string_append_printf (out, " %s", code);
    }

  return g_string_free (out, FALSE);
}

char *
fd_money_format_with_code (gint64      minor,
                           const char *currency)
{
  NumberStyle style;
  GString *out;
  g_autofree char *code = NULL;

  g_return_val_if_fail (currency != NULL, NULL);

  number_style_init (&style);
  code = fd_currency_code (currency);
  out = g_string_new (minor < 0 ? "-" : NULL);
  append_amount (out, minor, currency, &style);
  g_string_append_printf (out, " %s", code);

  return g_string_free (out, FALSE);
}

/* }}} */
/* {{{ Parsing */

static const char * const spaces[] = { " ", "\t", "\u00a0", "\u202f", "\u2009", "\u2007" };
static const char * const minus_signs[] = { "-", "\u2212", "\u2012", "\u2013" };
static const char * const apostrophes[] = { "'", "\u2019" };

/* Returns the length of the first of @list that @p starts with, or 0. */
static gsize
starts_with_any (const char         *p,
                 const char * const *list,
                 gsize               n)
{
  for (gsize i = 0; i < n; i++)
    if (g_str_has_prefix (p, list[i]))
      return strlen (list[i]);
  return 0;
}

static const char *
skip_spaces (const char *p)
{
  gsize len;

  while ((len = starts_with_any (p, spaces, G_N_ELEMENTS (spaces))) > 0)
    p += len;
  return p;
}

/* Trims spaces from both ends of @text in place. */
static void
trim_spaces (GString *text)
{
  const char *start = skip_spaces (text->str);

  g_string_erase (text, 0, start - text->str);
  for (;;)
    {
      gboolean trimmed = FALSE;

      for (gsize i = 0; i < G_N_ELEMENTS (spaces); i++)
        if (g_str_has_suffix (text->str, spaces[i]))
          {
            g_string_truncate (text, text->len - strlen (spaces[i]));
            trimmed = TRUE;
          }
      if (!trimmed)
        break;
    }
}

static gboolean
strip_minus (GString *text)
{
  gsize len = starts_with_any (text->str, minus_signs, G_N_ELEMENTS (minus_signs));

  if (len == 0)
    return FALSE;
  g_string_erase (text, 0, len);
  trim_spaces (text);
  return TRUE;
}

/* Removes a currency sign or code at either end of @text. Returns FALSE, with
 * @other set, when it belongs to another currency. */
static gboolean
strip_currency (GString     *text,
                const char  *currency,
                char       **other)
{
  const char *own = currency_symbol (currency);

  for (gsize i = 0; i < G_N_ELEMENTS (symbols); i++)
    {
      const char *symbol = symbols[i].symbol;
      gsize len = strlen (symbol);
      gboolean at_start = g_str_has_prefix (text->str, symbol);
      gboolean at_end = !at_start && g_str_has_suffix (text->str, symbol);

      if (!at_start && !at_end)
        continue;
      if (own == NULL || !g_str_equal (own, symbol))
        {
          *other = fd_currency_code (symbols[i].currency);
          return FALSE;
        }
      if (at_start)
        g_string_erase (text, 0, len);
      else
        g_string_truncate (text, text->len - len);
      trim_spaces (text);
      return TRUE;
    }

  /* A three-letter code. */
  for (int end = 0; end < 2; end++)
    {
      const char *p;

      /* Only beside a number: "abc" alone is not an amount in ABC. */
      if (text->len <= 3)
        break;
      p = end ? text->str + text->len - 3 : text->str;
      if (!g_ascii_isalpha (p[0]) || !g_ascii_isalpha (p[1]) || !g_ascii_isalpha (p[2]))
        continue;
      if ((end && g_ascii_isalpha (p[-1])) ||
          (!end && g_ascii_isalpha (p[3])))
        continue;
      if (g_ascii_strncasecmp (p, currency, 3) != 0 || strlen (currency) != 3)
        {
          gboolean spaced = end ? p[-1] == ' ' : p[3] == ' ';
          gboolean upper = g_ascii_isupper (p[0]) && g_ascii_isupper (p[1]) &&
                           g_ascii_isupper (p[2]);

          /* "12abc" is a typo rather than an amount in ABC. */
          if (!spaced && !upper)
            continue;
          *other = g_ascii_strup (p, 3);
          return FALSE;
        }
      if (end)
        g_string_truncate (text, text->len - 3);
      else
        g_string_erase (text, 0, 3);
      trim_spaces (text);
      return TRUE;
    }

  return TRUE;
}

typedef enum
{
  TOKEN_DIGITS,
  TOKEN_DOT,
  TOKEN_COMMA,
  TOKEN_SPACE,
  TOKEN_APOSTROPHE,
} TokenKind;

typedef struct
{
  TokenKind kind;
  const char *start;
  gsize len;        /* digits: how many */
} Token;

static gboolean
tokenize (const char *p,
          GArray     *tokens)
{
  while (*p != '\0')
    {
      Token token = { 0 };
      gsize len;

      token.start = p;
      if (g_ascii_isdigit (*p))
        {
          token.kind = TOKEN_DIGITS;
          while (g_ascii_isdigit (p[token.len]))
            token.len++;
          p += token.len;
        }
      else if (*p == '.')
        token.kind = TOKEN_DOT, p++;
      else if (*p == ',')
        token.kind = TOKEN_COMMA, p++;
      else if ((len = starts_with_any (p, spaces, G_N_ELEMENTS (spaces))) > 0)
        token.kind = TOKEN_SPACE, p += len;
      else if ((len = starts_with_any (p, apostrophes, G_N_ELEMENTS (apostrophes))) > 0)
        token.kind = TOKEN_APOSTROPHE, p += len;
      else
        return FALSE;
      g_array_append_val (tokens, token);
    }
  return TRUE;
}

static void
set_invalid (GError     **error,
             const char  *text)
{
  NumberStyle style;

  number_style_init (&style);
  g_set_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID,
               /* Translators: %s is what was typed, then an example amount such as 12.50 */
               _("“%s” is not an amount. Type it in digits, for example 12%s50."),
               text, style.radix);
}

gboolean
fd_money_parse (const char  *text,
                const char  *currency,
                gint64      *minor,
                GError     **error)
{
  g_autoptr(GString) body = NULL;
  g_autoptr(GArray) tokens = NULL;
  g_autofree char *other = NULL;
  g_autofree char *code = NULL;
  NumberStyle style;
  TokenKind radix_kind, other_kind;
  guint exponent;
  gboolean negative = FALSE;
  int decimal = -1;       /* the index of the decimal point token, or -1 */
  guint radix_count = 0, other_count = 0;
  guint64 major = 0, fraction = 0;
  guint fraction_digits = 0;
  gboolean any_digit = FALSE;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (currency != NULL, FALSE);
  g_return_val_if_fail (minor != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  exponent = fd_currency_exponent (currency);
  code = fd_currency_code (currency);
  number_style_init (&style);

  /* "-$5", "$-5", "5 USD", "USD 5", "¥500": a sign and a currency at either end. */
  body = g_string_new (text);
  trim_spaces (body);
  negative = strip_minus (body);
  if (!strip_currency (body, currency, &other))
    {
      g_set_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID,
                   /* Translators: both are currency codes such as EUR and USD */
                   _("The amount is in %s, but this one must be in %s. Type it in %s."),
                   other, code, code);
      return FALSE;
    }
  negative = strip_minus (body) || negative;

  if (body->len == 0 && !negative)
    {
      g_set_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID,
                   /* Translators: %s is the decimal point, to show 12.50 */
                   _("Type an amount, for example 12%s50."), style.radix);
      return FALSE;
    }

  tokens = g_array_new (FALSE, FALSE, sizeof (Token));
  if (body->len == 0 || !tokenize (body->str, tokens))
    {
      set_invalid (error, text);
      return FALSE;
    }

  /* The locale's decimal point is the decimal point; the other of dot and comma is one
   * too when it appears once and is not followed by a group of three digits ("12,50"
   * where the locale writes 12.50), and a digit separator otherwise ("1,500"). */
  radix_kind = g_str_equal (style.radix, ",") ? TOKEN_COMMA : TOKEN_DOT;
  other_kind = radix_kind == TOKEN_COMMA ? TOKEN_DOT : TOKEN_COMMA;
  for (guint i = 0; i < tokens->len; i++)
    {
      Token *token = &g_array_index (tokens, Token, i);

      if (token->kind == radix_kind)
        {
          radix_count++;
          decimal = i;
        }
      else if (token->kind == other_kind)
        other_count++;
    }

  if (radix_count > 1)
    {
      set_invalid (error, text);
      return FALSE;
    }
  if (radix_count == 0 && other_count == 1)
    {
      for (guint i = 0; i < tokens->len; i++)
        {
          Token *token = &g_array_index (tokens, Token, i);
          Token *next = i + 1 < tokens->len ? &g_array_index (tokens, Token, i + 1) : NULL;

          if (token->kind != other_kind)
            continue;
          if (next == NULL || next->kind != TOKEN_DIGITS || next->len != 3)
            decimal = i;
        }
    }

  /* The whole part: runs of digits with separators only between them, each group after
   * the first of two or three digits (three before the end, as en_IN's "1,23,456"). */
  for (int i = 0; i < (decimal >= 0 ? decimal : (int) tokens->len); i++)
    {
      Token *token = &g_array_index (tokens, Token, i);

      if (token->kind != TOKEN_DIGITS)
        {
          int end = decimal >= 0 ? decimal : (int) tokens->len;
          Token *next = i + 1 < end ? &g_array_index (tokens, Token, i + 1) : NULL;
          gboolean last = i + 2 >= end;

          if (i == 0 || next == NULL || next->kind != TOKEN_DIGITS ||
              next->len > 3 || next->len < 2 || (last && next->len != 3))
            {
              set_invalid (error, text);
              return FALSE;
            }
          continue;
        }

      for (gsize k = 0; k < token->len; k++)
        {
          major = major * 10 + (guint64) (token->start[k] - '0');
          if (major > (guint64) MAX_MAJOR)
            break;
        }
      any_digit = TRUE;
      if (major > (guint64) MAX_MAJOR)
        break;
    }

  if (decimal >= 0)
    {
      for (guint i = decimal + 1; i < tokens->len; i++)
        {
          Token *token = &g_array_index (tokens, Token, i);

          if (token->kind != TOKEN_DIGITS || i + 1 != tokens->len)
            {
              set_invalid (error, text);
              return FALSE;
            }
          fraction_digits = token->len;
          any_digit = TRUE;
          if (fraction_digits > exponent)
            {
              if (exponent == 0)
                g_set_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID,
                             /* Translators: %s is a currency code such as JPY */
                             _("Amounts in %s have no decimals. Type a whole number."),
                             code);
              else
                g_set_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_INVALID,
                             /* Translators: %s is a currency code such as KWD */
                             g_dngettext (GETTEXT_PACKAGE,
                                          "Amounts in %s have at most %u decimal.",
                                          "Amounts in %s have at most %u decimals.",
                                          exponent),
                             code, exponent);
              return FALSE;
            }
          for (gsize k = 0; k < token->len; k++)
            fraction = fraction * 10 + (guint64) (token->start[k] - '0');
        }
    }

  if (!any_digit)
    {
      set_invalid (error, text);
      return FALSE;
    }

  if (negative)
    {
      g_set_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_NEGATIVE,
                   _("The amount cannot be negative. Type it without a minus sign."));
      return FALSE;
    }

  if (major > (guint64) MAX_MAJOR)
    {
      g_autofree char *limit = NULL;
      guint64 scale = 1;

      for (guint i = 0; i < exponent; i++)
        scale *= 10;
      limit = fd_money_format_with_code (MAX_MAJOR * (gint64) scale, currency);
      g_set_error (error, FD_MONEY_ERROR, FD_MONEY_ERROR_TOO_LARGE,
                   _("The amount is too large. It can be at most %s."), limit);
      return FALSE;
    }

  for (guint i = 0; i < exponent; i++)
    major *= 10;
  for (guint i = fraction_digits; i < exponent; i++)
    fraction *= 10;

  *minor = (gint64) (major + fraction);
  return TRUE;
}

/* }}} */
/* {{{ Totals */

typedef struct
{
  char *currency;
  gint64 sum;
} Total;

struct _FdMoneyTotals
{
  GArray *totals;         /* of Total, in the order first added */
  GPtrArray *currencies;  /* NULL-terminated, the same strings */
};

static void
total_clear (gpointer data)
{
  Total *total = data;

  g_free (total->currency);
}

FdMoneyTotals *
fd_money_totals_new (void)
{
  FdMoneyTotals *totals = g_new0 (FdMoneyTotals, 1);

  totals->totals = g_array_new (FALSE, FALSE, sizeof (Total));
  g_array_set_clear_func (totals->totals, total_clear);
  totals->currencies = g_ptr_array_new ();
  g_ptr_array_add (totals->currencies, NULL);

  return totals;
}

void
fd_money_totals_free (FdMoneyTotals *totals)
{
  if (totals == NULL)
    return;

  g_array_unref (totals->totals);
  g_ptr_array_unref (totals->currencies);
  g_free (totals);
}

static Total *
find_total (FdMoneyTotals *totals,
            const char    *currency)
{
  for (guint i = 0; i < totals->totals->len; i++)
    {
      Total *total = &g_array_index (totals->totals, Total, i);

      if (g_ascii_strcasecmp (total->currency, currency) == 0)
        return total;
    }
  return NULL;
}

void
fd_money_totals_add (FdMoneyTotals *totals,
                     gint64         minor,
                     const char    *currency)
{
  Total *total;

  g_return_if_fail (totals != NULL);
  g_return_if_fail (currency != NULL);

  total = find_total (totals, currency);
  if (total == NULL)
    {
      Total added = { g_ascii_strdown (currency, -1), 0 };

      g_array_append_val (totals->totals, added);
      total = &g_array_index (totals->totals, Total, totals->totals->len - 1);

      /* The array of names points into the totals' own strings. */
      g_ptr_array_set_size (totals->currencies, 0);
      for (guint i = 0; i < totals->totals->len; i++)
        g_ptr_array_add (totals->currencies,
                         g_array_index (totals->totals, Total, i).currency);
      g_ptr_array_add (totals->currencies, NULL);
    }

  /* A sum past the int64 range cannot be real money; it stays at the limit rather than
   * wrapping to a wrong sign. */
  if (__builtin_add_overflow (total->sum, minor, &total->sum))
    total->sum = minor > 0 ? G_MAXINT64 : G_MININT64;
}

gint64
fd_money_totals_get (FdMoneyTotals *totals,
                     const char    *currency)
{
  Total *total;

  g_return_val_if_fail (totals != NULL, 0);
  g_return_val_if_fail (currency != NULL, 0);

  total = find_total (totals, currency);
  return total != NULL ? total->sum : 0;
}

const char * const *
fd_money_totals_get_currencies (FdMoneyTotals *totals)
{
  g_return_val_if_fail (totals != NULL, NULL);

  return (const char * const *) totals->currencies->pdata;
}

char *
fd_money_totals_format (FdMoneyTotals *totals)
{
  GString *out;

  g_return_val_if_fail (totals != NULL, NULL);

  out = g_string_new (NULL);
  for (guint i = 0; i < totals->totals->len; i++)
    {
      Total *total = &g_array_index (totals->totals, Total, i);
      g_autofree char *text = fd_money_format (total->sum, total->currency);

      if (i > 0)
        g_string_append (out, " + ");
      g_string_append (out, text);
    }

  return g_string_free (out, FALSE);
}

/* }}} */
