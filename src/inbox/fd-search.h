/* fd-search.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* The inbox's search: SQLite FTS5 over subjects and messages, with a query syntax:
 *
 *   words            every word must match (subject or any message of the conversation)
 *   "a phrase"       the words in this order
 *   prefix*          words starting with "prefix"
 *   from:NAME        a message written by a contact or agent whose name or email matches
 *   org:NAME         the organisation's name (or domain) contains NAME
 *   tag:NAME         tagged NAME
 *   channel:NAME     email, chat, slack or community
 *   status:NAME      open, pending, snoozed or resolved
 *   assignee:NAME    assigned to an agent whose name matches; assignee:me for the agent
 *   is:unassigned    no assignee (also is:open, is:enterprise …, see fd-search.c)
 *   before:DATE      created before DATE (YYYY-MM-DD, in the local time zone)
 *   after:DATE       created on or after DATE
 *
 * A value with spaces is quoted: org:"Acme Corp". A query with filters only (no words)
 * is valid and lists conversations, newest first. Anything the parser cannot use gets an
 * FD_SEARCH_ERROR whose message says, in plain words, what to change; an SQLite error is
 * never shown to the user. */

#define FD_SEARCH_ERROR (fd_search_error_quark ())

typedef enum
{
  FD_SEARCH_ERROR_EMPTY,          /* nothing to search for */
  FD_SEARCH_ERROR_UNBALANCED,     /* a quote opened and never closed */
  FD_SEARCH_ERROR_UNKNOWN_FIELD,  /* "colour:red" */
  FD_SEARCH_ERROR_BAD_VALUE,      /* "status:closed", "before:yesterday" */
  FD_SEARCH_ERROR_FAILED,         /* the store failed; the message says so plainly */
} FdSearchError;

GQuark fd_search_error_quark (void);

/* Snippets mark each match between these two characters; turn them into markup or
 * brackets with the functions below. */
#define FD_SEARCH_MARK_START "\x02"
#define FD_SEARCH_MARK_END   "\x03"

typedef enum
{
  FD_SEARCH_ORDER_BEST,    /* best match first (bm25; subject matches weigh more) */
  FD_SEARCH_ORDER_NEWEST,  /* latest activity first */
} FdSearchOrder;

typedef struct _FdSearchQuery FdSearchQuery;

FdSearchQuery *fd_search_query_parse        (const char           *text,
                                             GError              **error);
void           fd_search_query_free         (FdSearchQuery        *query);
/* TRUE if the query has words to match, FALSE for filters only. */
gboolean       fd_search_query_has_text     (const FdSearchQuery  *query);
/* The words and phrases to highlight in a thread (prefixes without their star). */
const char * const *fd_search_query_get_terms (const FdSearchQuery *query);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSearchQuery, fd_search_query_free)

typedef struct
{
  gint64  conversation_id;
  char   *subject;
  char   *organisation;     /* "" when none */
  char   *status;           /* "open", "pending", "snoozed", "resolved" */
  char   *snippet;          /* the best matching text, matches between the marks */
  gint64  last_message_at;  /* UTC ms */
  double  rank;             /* lower is better; 0 when the query has no words */
} FdSearchResult;

void fd_search_result_free (FdSearchResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSearchResult, fd_search_result_free)

/* Worker-thread function (a FdStore job, or a read-only connection like the CLI's).
 * Fills @results (FdSearchResult, owned) with one entry per conversation, at most @limit
 * from @offset, in @order. @me_agent_id resolves assignee:me (0: no such agent). */
gboolean fd_search_run (sqlite3              *db,
                        const FdSearchQuery  *query,
                        FdSearchOrder         order,
                        gint64                me_agent_id,
                        guint                 offset,
                        guint                 limit,
                        GPtrArray           **results,
                        GError              **error);

/* "a \x02match\x03 here" → "a <b>match</b> here", the rest escaped for Pango. */
char *fd_search_snippet_to_markup (const char *snippet);
/* The same with @open and @close around each match ("[" and "]" for a terminal). */
char *fd_search_snippet_to_plain  (const char *snippet,
                                   const char *open,
                                   const char *close);

G_END_DECLS
