/* fd-fuzzy.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fuzzy matching for the command palette: every character of @needle must appear in
 * @haystack in order (case- and accent-insensitive). Returns FALSE when it does not;
 * otherwise a score, higher is better: consecutive characters, matches at word starts
 * and at the very start score more, long gaps less. Spaces in @needle are ignored.
 * @positions (optional, a GArray of int, emptied first) receives the character offsets
 * in @haystack that matched, ascending, for highlighting. Invalid UTF-8 is read as
 * g_utf8_make_valid() would make it. An empty @needle matches with score 0. */
gboolean fd_fuzzy_match (const char *needle,
                         const char *haystack,
                         int        *score,
                         GArray     *positions);

/* @haystack as Pango markup (escaped) with the characters at @positions (character
 * offsets, as fd_fuzzy_match gives them; may be NULL) in bold. */
char    *fd_fuzzy_highlight (const char *haystack,
                             GArray     *positions);

G_END_DECLS
