/* fd-fuzzy.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-fuzzy"

#include "config.h"

#include <string.h>

#include "fd-fuzzy.h"

/* Scores of one alignment. A match earns BASE; the very first character, the start of
 * a word and a character right after the previous match earn more; a gap between two
 * matches costs GAP_OPEN then GAP_EXTEND per skipped character, and characters skipped
 * before the first match cost a little each (capped) so that earlier matches win. */
#define SCORE_BASE          16
#define SCORE_FIRST_CHAR     8
#define SCORE_WORD_START    20
#define SCORE_CAMEL         12
#define SCORE_CONSECUTIVE   14
#define PENALTY_GAP_OPEN     6
#define PENALTY_GAP_EXTEND   1
#define PENALTY_LEADING      1
#define PENALTY_LEADING_MAX 12

#define SCORE_NONE (G_MININT / 4)

/* One folded character and the offset of the character of the original text it came
 * from: folding can turn one character into several ("ß" into "ss"). */
typedef struct
{
  gunichar c;
  int      offset;
  int      bonus;
} Folded;

static char *
make_valid (const char *text)
{
  if (g_utf8_validate (text, -1, NULL))
    return NULL;

  return g_utf8_make_valid (text, -1);
}

/* Appends the case- and accent-free form of @c: decomposed, without combining marks,
 * case-folded. */
static void
fold_char (gunichar  c,
           int       offset,
           int       bonus,
           gboolean  skip_space,
           GArray   *out)
{
  char buf[8];
  int len;
  g_autofree char *decomposed = NULL;
  g_autofree char *folded = NULL;
  gboolean first = TRUE;

  if (skip_space && g_unichar_isspace (c))
    return;

  len = g_unichar_to_utf8 (c, buf);
  buf[len] = '\0';

  decomposed = g_utf8_normalize (buf, len, G_NORMALIZE_NFKD);
  if (decomposed == NULL)
    return;

  folded = g_utf8_casefold (decomposed, -1);

  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar fc = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (fc);
      Folded f;

      if (type == G_UNICODE_NON_SPACING_MARK ||
          type == G_UNICODE_SPACING_MARK ||
          type == G_UNICODE_ENCLOSING_MARK)
        continue;

      f.c = fc;
      f.offset = offset;
      /* Only the first folded character of a word start is a word start. */
      f.bonus = first ? bonus : 0;
      first = FALSE;
      g_array_append_val (out, f);
    }
}

static gboolean
is_word_char (gunichar c)
{
  return g_unichar_isalnum (c);
}

static GArray *
fold_haystack (const char *text)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Folded));
  gunichar prev = 0;
  int offset = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p), offset++)
    {
      gunichar c = g_utf8_get_char (p);
      int bonus = 0;

      if (offset == 0)
        bonus = SCORE_FIRST_CHAR + SCORE_WORD_START;
      else if (is_word_char (c) && !is_word_char (prev))
        bonus = SCORE_WORD_START;
      else if ((g_unichar_isupper (c) && g_unichar_islower (prev)) ||
               (g_unichar_isdigit (c) && !g_unichar_isdigit (prev)))
        bonus = SCORE_CAMEL;

      fold_char (c, offset, bonus, FALSE, out);
      prev = c;
    }

  return out;
}

static GArray *
fold_needle (const char *text)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Folded));

  /* Spaces in the query separate words the agent remembers; they need not be there. */
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    fold_char (g_utf8_get_char (p), 0, 0, TRUE, out);

  return out;
}

gboolean
fd_fuzzy_match (const char *needle,
                const char *haystack,
                int        *score,
                GArray     *positions)
{
  g_autofree char *valid_needle = NULL;
  g_autofree char *valid_haystack = NULL;
  g_autoptr(GArray) n = NULL;
  g_autoptr(GArray) h = NULL;
  g_autofree int *best = NULL;
  g_autofree int *from = NULL;
  guint rows, cols;
  int best_score = SCORE_NONE;
  int best_col = -1;
  guint first = 0;

  g_return_val_if_fail (needle != NULL, FALSE);
  g_return_val_if_fail (haystack != NULL, FALSE);
  g_return_val_if_fail (positions == NULL ||
                        g_array_get_element_size (positions) == sizeof (int), FALSE);

  if (score != NULL)
    *score = 0;
  if (positions != NULL)
    g_array_set_size (positions, 0);

  valid_needle = make_valid (needle);
  valid_haystack = make_valid (haystack);
  n = fold_needle (valid_needle != NULL ? valid_needle : needle);
  h = fold_haystack (valid_haystack != NULL ? valid_haystack : haystack);

  rows = n->len;
  cols = h->len;

  if (rows == 0)
    return TRUE;
  if (rows > cols)
    return FALSE;

  /* A quick check that every character appears in order, before the full alignment. */
  for (guint i = 0, j = 0; i < rows; i++, j++)
    {
      gunichar c = g_array_index (n, Folded, i).c;

      while (j < cols && g_array_index (h, Folded, j).c != c)
        j++;
      if (j == cols)
        return FALSE;
      if (i == 0)
        first = j;
    }

  /* best[i][j]: the best score with needle[0..i] matched and needle[i] at haystack[j];
   * from[i][j]: where needle[i-1] was then. Palette texts are short, so the full table
   * is cheap. */
  best = g_new (int, (gsize) rows * cols);
  from = g_new (int, (gsize) rows * cols);

  for (guint j = 0; j < cols; j++)
    {
      const Folded *hc = &g_array_index (h, Folded, j);

      from[j] = -1;
      if (j < first || hc->c != g_array_index (n, Folded, 0).c)
        best[j] = SCORE_NONE;
      else
        best[j] = SCORE_BASE + hc->bonus - MIN ((int) j * PENALTY_LEADING, PENALTY_LEADING_MAX);
    }

  for (guint i = 1; i < rows; i++)
    {
      gunichar c = g_array_index (n, Folded, i).c;
      const int *prev = &best[(i - 1) * cols];
      int *row = &best[i * cols];
      int *row_from = &from[i * cols];
      /* The best previous match at least two characters back, with its gap cost. */
      int gap_score = SCORE_NONE;
      int gap_col = -1;

      for (guint j = 0; j < cols; j++)
        {
          const Folded *hc = &g_array_index (h, Folded, j);
          int candidate = SCORE_NONE;
          int candidate_col = -1;

          if (j >= 2)
            {
              int opened = prev[j - 2] - PENALTY_GAP_OPEN;

              if (gap_score > SCORE_NONE)
                gap_score -= PENALTY_GAP_EXTEND;
              if (prev[j - 2] > SCORE_NONE && opened >= gap_score)
                {
                  gap_score = opened;
                  gap_col = j - 2;
                }
            }

          row[j] = SCORE_NONE;
          row_from[j] = -1;

          if (hc->c != c)
            continue;

          if (gap_score > SCORE_NONE)
            {
              candidate = gap_score;
              candidate_col = gap_col;
            }
          if (j >= 1 && prev[j - 1] > SCORE_NONE &&
              prev[j - 1] + SCORE_CONSECUTIVE >= candidate)
            {
              candidate = prev[j - 1] + SCORE_CONSECUTIVE;
              candidate_col = j - 1;
            }

          if (candidate_col < 0)
            continue;

          row[j] = candidate + SCORE_BASE + hc->bonus;
          row_from[j] = candidate_col;
        }
    }

  for (guint j = 0; j < cols; j++)
    {
      int s = best[(rows - 1) * cols + j];

      if (s > best_score)
        {
          best_score = s;
          best_col = j;
        }
    }

  if (best_col < 0)
    return FALSE;

  /* Among equal alignments, a shorter text is the closer match: an eighth of a point
   * per extra character, so that it only ever breaks ties. */
  best_score = best_score * 8 - MIN ((int) (cols - rows), 64);

  if (score != NULL)
    *score = best_score;

  if (positions != NULL)
    {
      g_autofree int *cols_matched = g_new (int, rows);
      int col = best_col;

      for (int i = rows - 1; i >= 0; i--)
        {
          cols_matched[i] = col;
          col = from[i * cols + col];
        }

      for (guint i = 0; i < rows; i++)
        {
          int offset = g_array_index (h, Folded, cols_matched[i]).offset;

          /* Several folded characters can come from one original character. */
          if (positions->len == 0 || g_array_index (positions, int, positions->len - 1) != offset)
            g_array_append_val (positions, offset);
        }
    }

  return TRUE;
}

static int
compare_int (gconstpointer a,
             gconstpointer b)
{
  int ia = *(const int *) a;
  int ib = *(const int *) b;

  return (ia > ib) - (ia < ib);
}

char *
fd_fuzzy_highlight (const char *haystack,
                    GArray     *positions)
{
  g_autofree char *valid = NULL;
  g_autoptr(GArray) sorted = NULL;
  g_autoptr(GString) markup = NULL;
  const char *text;
  const char *run_start;
  gboolean run_bold = FALSE;
  guint next = 0;
  int offset = 0;
  const char *p;

  g_return_val_if_fail (haystack != NULL, NULL);

  valid = make_valid (haystack);
  text = valid != NULL ? valid : haystack;

  if (positions == NULL || positions->len == 0)
    return g_markup_escape_text (text, -1);

  g_return_val_if_fail (g_array_get_element_size (positions) == sizeof (int), NULL);

  sorted = g_array_sized_new (FALSE, FALSE, sizeof (int), positions->len);
  g_array_append_vals (sorted, positions->data, positions->len);
  g_array_sort (sorted, compare_int);

  markup = g_string_new (NULL);
  run_start = text;

  for (p = text; *p != '\0'; p = g_utf8_next_char (p), offset++)
    {
      gboolean bold;

      while (next < sorted->len && g_array_index (sorted, int, next) < offset)
        next++;
      bold = next < sorted->len && g_array_index (sorted, int, next) == offset;

      if (bold != run_bold)
        {
          g_autofree char *escaped = g_markup_escape_text (run_start, p - run_start);

          g_string_append (markup, escaped);
          g_string_append (markup, bold ? "<b>" : "</b>");
          run_start = p;
          run_bold = bold;
        }
    }

  {
    g_autofree char *escaped = g_markup_escape_text (run_start, p - run_start);

    g_string_append (markup, escaped);
    if (run_bold)
      g_string_append (markup, "</b>");
  }

  return g_string_free (g_steal_pointer (&markup), FALSE);
}
