/* fd-money.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Amounts are int64 minor units with a currency (ISO 4217, lower case as Stripe writes
 * it). Nothing here uses floating point.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FD_MONEY_ERROR (fd_money_error_quark ())

typedef enum
{
  FD_MONEY_ERROR_INVALID,      /* not a number, or more decimals than the currency has */
  FD_MONEY_ERROR_NEGATIVE,
  FD_MONEY_ERROR_TOO_LARGE,
} FdMoneyError;

GQuark      fd_money_error_quark        (void);

/* Digits after the decimal point: 0 for zero-decimal currencies (jpy, krw, vnd, clp, …),
 * 3 for kwd, bhd, jod, omr, tnd, lyd, iqd, 2 otherwise. Case-insensitive. */
guint       fd_currency_exponent        (const char  *currency);
/* "JPY"; a newly allocated upper-case copy. */
char       *fd_currency_code            (const char  *currency);

/* Formats for the user's locale (its decimal point and digit grouping, LC_NUMERIC):
 * usd 1999 → "$19.99", eur 500 → "€5.00", gbp → "£", jpy 500 → "¥500",
 * kwd 1500 → "1.500 KWD" (currencies without a well-known symbol: amount then code).
 * Negative amounts get a leading minus sign. */
char       *fd_money_format             (gint64       minor,
                                         const char  *currency);
/* The same, always with the code: "19.99 USD" (for confirmations that must be exact). */
char       *fd_money_format_with_code   (gint64       minor,
                                         const char  *currency);
/* Parses what an agent typed ("12.5", "12,50" in a comma locale, "1 200", "¥500") into
 * minor units of @currency. Refuses more decimals than the currency has, negative
 * amounts and amounts beyond 99,999,999 major units. */
gboolean    fd_money_parse              (const char  *text,
                                         const char  *currency,
                                         gint64      *minor,
                                         GError     **error);

/* Sums per currency: totals never mix currencies. */
typedef struct _FdMoneyTotals FdMoneyTotals;

FdMoneyTotals *fd_money_totals_new      (void);
void        fd_money_totals_free        (FdMoneyTotals *totals);
void        fd_money_totals_add         (FdMoneyTotals *totals,
                                         gint64         minor,
                                         const char    *currency);
/* The sum in @currency (0 when none). */
gint64      fd_money_totals_get         (FdMoneyTotals *totals,
                                         const char    *currency);
/* Currencies in the order first added (lower case), NULL-terminated; owned by @totals. */
const char * const *fd_money_totals_get_currencies (FdMoneyTotals *totals);
/* "$120.00 + €35.00", or "" when empty. */
char       *fd_money_totals_format      (FdMoneyTotals *totals);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdMoneyTotals, fd_money_totals_free)

G_END_DECLS
