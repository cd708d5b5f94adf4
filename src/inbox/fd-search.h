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
 *   words            every word must match, all in the subject or all in one message
 *   "a phrase"       the words in this order
 *   prefix*          words starting with "prefix" (at least two letters before the *)
 *   from:NAME        the conversation's contact, or an agent who wrote in it, has NAME in
 *                    their name or email
 *   org:NAME         the organisation's name (or one of its domains) contains NAME
 *   tag:NAME         tagged NAME (the whole tag name, any case)
 *   channel:NAME     email, chat, slack or community
 *   status:NAME      open, pending, snoozed or resolved
 *   assignee:NAME    assigned to an agent whose name or email contains NAME;
 *                    assignee:me for the agent using Frontdesk, assignee:none for nobody
 *   is:STATE         unassigned, assigned, mine, open, pending, snoozed, resolved,
 *                    enterprise (the organisation is an Enterprise customer)
 *   before:DATE      created before DATE (YYYY-MM-DD in the local time zone, today or
 *                    yesterday)
 *   after:DATE       created on or after DATE
 *
 * A value with spaces is quoted: org:"Acme Corp". Field names and values ignore case.
 * Repeating status:, channel: or is:<status> widens the search (status:open
 * status:pending finds both); every other part narrows it. A leading - leaves out what
 * follows: -refund drops conversations that mention "refund" anywhere, -tag:billing
 * those tagged billing. A query with filters only (no words) is valid and lists
 * conversations, newest first. Words are always matched as plain text: AND, OR, NEAR,
 * parentheses and other FTS5 syntax have no special meaning.
 *
 * Anything the parser cannot use gets an FD_SEARCH_ERROR whose message says, in plain
 * words, what to change; an SQLite error is never shown to the user. */

#define FD_SEARCH_ERROR (fd_search_error_quark ())

typedef enum
{
  FD_SEARCH_ERROR_EMPTY,          /* nothing to search for */
  FD_SEARCH_ERROR_UNBALANCED,     /* a quote opened and never closed */
  FD_SEARCH_ERROR_UNKNOWN_FIELD,  /* "colour:red" */
  FD_SEARCH_ERROR_BAD_VALUE,      /* "status:closed", "before:yesterdayish", "status:" */
  FD_SEARCH_ERROR_FAILED,         /* the store failed; the message says so plainly */
  FD_SEARCH_ERROR_TOO_LONG,       /* more text or more parts than a search can hold */
} FdSearchError;

GQuark fd_search_error_quark (void);

/* The most characters, and the most words and filters, one query may have. */
#define FD_SEARCH_MAX_CHARS 1000
#define FD_SEARCH_MAX_PARTS 32

/* Snippets mark each match between these two characters; turn them into markup or
 * brackets with the functions below. */
#define FD_SEARCH_MARK_START "\x02"
#define FD_SEARCH_MARK_END   "\x03"

typedef enum
{
  FD_SEARCH_ORDER_BEST,    /* best match first (bm25; subject matches weigh more) */
  FD_SEARCH_ORDER_NEWEST,  /* latest activity first (conversations.last_message_at) */
} FdSearchOrder;

/* Best order ranks every matching conversation by bm25 when the words are rare enough
 * to read every match at once. For common words (a few percent of all messages and
 * more) it ranks the this-many most recently active matching conversations, by bm25
 * without its word-frequency factor, and lists the rest after them, newest first:
 * ranking a few hundred thousand matches cannot be done while the agent types. Which
 * of the two applies depends on the words and the store, never on the page asked for,
 * so the pages of one search always fit together. */
#define FD_SEARCH_BEST_WINDOW 100

typedef struct _FdSearchQuery FdSearchQuery;

/* Invalid UTF-8 is repaired (the bad bytes match nothing) rather than refused. */
FdSearchQuery *fd_search_query_parse        (const char           *text,
                                             GError              **error);
void           fd_search_query_free         (FdSearchQuery        *query);
/* TRUE if the query has words to match, FALSE for filters only. */
gboolean       fd_search_query_has_text     (const FdSearchQuery  *query);
/* The words and phrases to highlight in a thread (prefixes without their star). */
const char * const *fd_search_query_get_terms (const FdSearchQuery *query);
/* The FTS5 expression the words become (every term quoted), or NULL without words; for
 * tests and benchmarks that compare with FTS5 directly. */
const char    *fd_search_query_get_fts      (const FdSearchQuery  *query);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSearchQuery, fd_search_query_free)

typedef struct
{
  gint64  conversation_id;
  char   *subject;
  char   *organisation;     /* "" when none */
  char   *status;           /* "open", "pending", "snoozed", "resolved" */
  char   *snippet;          /* the best matching text, matches between the marks; in
                             * newest order the latest matching message; the subject
                             * when only it matched; the conversation's own snippet
                             * for a query without words */
  gint64  last_message_at;  /* UTC ms; 0 when the conversation has no message */
  double  rank;             /* lower is better; 0 when the query has no words, and in
                             * best order past the ranked window of common words */
} FdSearchResult;

void fd_search_result_free (FdSearchResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSearchResult, fd_search_result_free)

/* Worker-thread function (a FdStore job, or a read-only connection like the CLI's).
 * Fills @results (FdSearchResult, owned) with one entry per conversation, at most @limit
 * from @offset, in @order. @me_agent_id resolves assignee:me (0: no such agent, so
 * assignee:me matches nothing). Pages are consistent: reading pages one after another
 * never repeats or skips a conversation while the store does not change.
 *
 * It reads inside a SAVEPOINT (one snapshot), and leaves two things on the connection
 * for the next search: an FTS5 ranking function, fd_search_rank(), and two fts5vocab
 * tables in the temp schema (temp.fd_search_vocab_messages, _subjects) that turn a
 * prefix into the words it starts. */
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
