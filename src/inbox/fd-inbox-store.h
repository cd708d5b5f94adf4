/* fd-inbox-store.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fd-search.h"
#include "fd-sla.h"
#include "fd-store.h"

G_BEGIN_DECLS

/* What the inbox reads from and writes to the store. No GTK here: widgets call these
 * _async functions and every query runs on the store's worker thread. */

/* {{{ Views */

typedef enum
{
  FD_INBOX_VIEW_MY_OPEN,      /* open, assigned to the agent (agents.is_me) */
  FD_INBOX_VIEW_UNASSIGNED,   /* open, no assignee */
  FD_INBOX_VIEW_ALL_OPEN,     /* open */
  FD_INBOX_VIEW_ENTERPRISE,   /* open, the organisation is Enterprise */
  FD_INBOX_VIEW_BILLING,      /* open, tagged billing (or a billing tag) */
  FD_INBOX_VIEW_SLA_AT_RISK,  /* open or pending, at risk or breached now */
  FD_INBOX_VIEW_SNOOZED,      /* snoozed */
  FD_INBOX_VIEW_RESOLVED,     /* resolved */
  FD_INBOX_N_VIEWS
} FdInboxViewId;

/* "my-open", "unassigned", "all-open", "enterprise", "billing", "sla-at-risk", "snoozed",
 * "resolved": names for actions and GSettings. */
const char *fd_inbox_view_id_to_name   (FdInboxViewId  view);
gboolean    fd_inbox_view_id_from_name (const char    *name,
                                        FdInboxViewId *view);
/* "My open", "Unassigned", … translated. */
const char *fd_inbox_view_id_to_title  (FdInboxViewId  view);
/* A symbolic icon name of the Adwaita icon theme, for the sidebar. */
const char *fd_inbox_view_id_to_icon   (FdInboxViewId  view);

typedef enum
{
  FD_INBOX_SORT_SLA_DUE,   /* soonest due first, then newest */
  FD_INBOX_SORT_NEWEST,    /* latest activity first */
  FD_INBOX_SORT_OLDEST,    /* oldest activity first */
  FD_INBOX_SORT_PRIORITY,  /* urgent first, then soonest due */
} FdInboxSort;

const char *fd_inbox_sort_to_name   (FdInboxSort  sort);  /* "sla", "newest", "oldest", "priority" */
gboolean    fd_inbox_sort_from_name (const char  *name,
                                     FdInboxSort *sort);

/* Saved searches are counted up to this many matches; a count equal to it means "this
 * many or more" (show "1,000+"). */
#define FD_INBOX_SAVED_SEARCH_COUNT_MAX 1000

/* Counts of every view and saved search, in one job (one read transaction). */
typedef struct
{
  gint64  views[FD_INBOX_N_VIEWS];
  GArray *saved;   /* gint64 per saved search, in list order; -1 if its query fails;
                    * at most FD_INBOX_SAVED_SEARCH_COUNT_MAX */
} FdInboxCounts;

void fd_inbox_counts_free (FdInboxCounts *counts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdInboxCounts, fd_inbox_counts_free)

void           fd_inbox_count_async  (FdStore             *store,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
FdInboxCounts *fd_inbox_count_finish (FdStore             *store,
                                      GAsyncResult        *result,
                                      GError             **error);

/* }}} */
/* {{{ Words for stored values, the same everywhere in the UI */

/* "Email", "Chat", "Slack", "Community" (translated). */
const char *fd_inbox_channel_to_label (const char *channel);
/* A symbolic icon of the Adwaita icon theme for the channel. */
const char *fd_inbox_channel_to_icon  (const char *channel);
/* "Open", "Pending", "Snoozed", "Resolved" (translated). */
const char *fd_inbox_status_to_label  (const char *status);

/* }}} */
/* {{{ Saved searches */

#define FD_TYPE_SAVED_SEARCH (fd_saved_search_get_type ())
G_DECLARE_FINAL_TYPE (FdSavedSearch, fd_saved_search, FD, SAVED_SEARCH, GObject)

gint64      fd_saved_search_get_id    (FdSavedSearch *self);
const char *fd_saved_search_get_name  (FdSavedSearch *self);
const char *fd_saved_search_get_query (FdSavedSearch *self);

/* A GListStore of FdSavedSearch, in position order. */
void        fd_saved_search_list_async    (FdStore             *store,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
GListStore *fd_saved_search_list_finish   (FdStore             *store,
                                           GAsyncResult        *result,
                                           GError             **error);
/* Checks the query parses first (FD_SEARCH_ERROR otherwise, and nothing is stored).
 * An empty @name takes the query as name. Returns the new id. */
void        fd_saved_search_create_async  (FdStore             *store,
                                           const char          *name,
                                           const char          *query,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gint64      fd_saved_search_create_finish (FdStore             *store,
                                           GAsyncResult        *result,
                                           GError             **error);
void        fd_saved_search_delete_async  (FdStore             *store,
                                           gint64               id,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    fd_saved_search_delete_finish (FdStore             *store,
                                           GAsyncResult        *result,
                                           GError             **error);

/* }}} */
/* {{{ Conversation summaries: one row of the list */

#define FD_TYPE_CONVERSATION_SUMMARY (fd_conversation_summary_get_type ())
G_DECLARE_FINAL_TYPE (FdConversationSummary, fd_conversation_summary, FD, CONVERSATION_SUMMARY, GObject)

/* A summary starts as a placeholder (loaded FALSE) and is filled in place when its page
 * arrives: rows bind to "notify::loaded" rather than being replaced, so selection and
 * focus stay put while the list pages in. "notify::loaded" is also emitted when a
 * reload changes the fields of a summary that was loaded already. A placeholder's id is
 * 0 and its strings are "". */
gboolean    fd_conversation_summary_get_loaded          (FdConversationSummary *self);
gint64      fd_conversation_summary_get_id              (FdConversationSummary *self);
const char *fd_conversation_summary_get_channel         (FdConversationSummary *self); /* "email", "chat", "slack", "community" */
const char *fd_conversation_summary_get_contact_name    (FdConversationSummary *self);
const char *fd_conversation_summary_get_organisation    (FdConversationSummary *self); /* "" when none */
gboolean    fd_conversation_summary_get_is_enterprise   (FdConversationSummary *self);
const char *fd_conversation_summary_get_plan            (FdConversationSummary *self); /* "" when none */
const char *fd_conversation_summary_get_subject         (FdConversationSummary *self);
/* The last message's text, or in a search the matching text between FD_SEARCH_MARKs. */
const char *fd_conversation_summary_get_snippet         (FdConversationSummary *self);
/* Tag names, sorted; never NULL. */
const char * const *fd_conversation_summary_get_tags    (FdConversationSummary *self);
const char *fd_conversation_summary_get_status          (FdConversationSummary *self);
const char *fd_conversation_summary_get_priority        (FdConversationSummary *self);
gint64      fd_conversation_summary_get_assignee_id     (FdConversationSummary *self); /* 0: none */
const char *fd_conversation_summary_get_assignee_name   (FdConversationSummary *self); /* "" when none */
gint64      fd_conversation_summary_get_created_at      (FdConversationSummary *self);
gint64      fd_conversation_summary_get_last_message_at (FdConversationSummary *self);
gint64      fd_conversation_summary_get_snoozed_until   (FdConversationSummary *self); /* 0: not snoozed */
gint64      fd_conversation_summary_get_sla_due_at      (FdConversationSummary *self); /* 0: none */
gint64      fd_conversation_summary_get_sla_risk_at     (FdConversationSummary *self);
const char *fd_conversation_summary_get_sla_target      (FdConversationSummary *self); /* "first_reply"… or "" */

/* }}} */
/* {{{ The conversation list: a GListModel of FdConversationSummary that pages */

#define FD_TYPE_CONVERSATION_LIST (fd_conversation_list_get_type ())
G_DECLARE_FINAL_TYPE (FdConversationList, fd_conversation_list, FD, CONVERSATION_LIST, GObject)

/* Properties: "loading" (TRUE while the count and first page of a new view, sort or
 * search are being read), "error" (a plain-words message of the last failure, or NULL;
 * cleared by the next successful read), "n-items". The list counts its rows first, then
 * reads pages of rows as they are asked for (get_item on a missing page starts its load
 * and returns a placeholder). It never holds every row of a large view in memory: pages
 * far from the ones last asked for are dropped. set_view, set_sort and set_search keep
 * the old contents until the new count and first page are read, then replace them with
 * one items-changed. In a search the number of matches is not known up front: the list
 * grows by a page (items-changed at the end) when the last page is asked for. */
FdConversationList *fd_conversation_list_new        (FdStore            *store);
FdStore            *fd_conversation_list_get_store  (FdConversationList *self);
void                fd_conversation_list_set_view   (FdConversationList *self,
                                                     FdInboxViewId       view);
/* Shows the conversations matching @query (search syntax, see fd-search.h) instead of
 * a view. A query that does not parse gets FD_SEARCH_ERROR (its message is for the
 * user) and leaves the list as it was. The list parses the text itself because it must
 * keep the query for as long as it pages through the matches. */
gboolean            fd_conversation_list_set_search (FdConversationList *self,
                                                     const char         *query,
                                                     FdSearchOrder       order,
                                                     GError            **error);
void                fd_conversation_list_set_sort   (FdConversationList *self,
                                                     FdInboxSort         sort);
FdInboxSort         fd_conversation_list_get_sort   (FdConversationList *self);
gboolean            fd_conversation_list_get_loading (FdConversationList *self);
const char         *fd_conversation_list_get_error  (FdConversationList *self);
/* Reads the list again after a change (sync, an action): rows that are still there keep
 * their objects; items-changed is emitted only where the list really changed. */
void                fd_conversation_list_reload     (FdConversationList *self);
/* The position of @conversation_id among the loaded rows, or G_MAXUINT. */
guint               fd_conversation_list_find       (FdConversationList *self,
                                                     gint64              conversation_id);

/* }}} */
/* {{{ A whole conversation, for the thread and the context panel */

typedef struct
{
  gint64  id;
  char   *name;
  gint64  size;           /* bytes */
  char   *content_type;   /* may be NULL */
  char   *url;            /* may be NULL: not downloadable */
} FdAttachment;

typedef struct
{
  gint64     id;
  char      *author_kind;  /* "contact", "agent", "bot", "system" */
  char      *author_name;
  gboolean   is_note;
  char      *body;         /* plain text, already made safe by the connector */
  gint64     created_at;
  char      *send_state;   /* NULL (received or sent long ago), "sending", "sent", "failed" */
  GPtrArray *attachments;  /* FdAttachment */
} FdMessage;

typedef struct
{
  gint64  id;
  char   *subject;
  char   *status;
  gint64  created_at;
} FdRecentConversation;

typedef struct
{
  gint64  id;
  char   *name;
  char   *email;
  gboolean is_me;
} FdAgent;

typedef struct
{
  gint64      id;
  char       *channel;
  char       *subject;
  char       *status;
  char       *priority;
  gint64      assignee_id;        /* 0: none */
  char       *assignee_name;
  gint64      snoozed_until;
  gint64      created_at;
  gint64      sla_due_at;
  gint64      sla_risk_at;
  char       *sla_target;
  GStrv       tags;

  /* The contact; name "" when unknown. */
  gint64      contact_id;
  char       *contact_name;
  char       *contact_email;

  /* The organisation; id 0 when none. */
  gint64      organisation_id;
  char       *organisation_name;
  char       *plan;
  gboolean    is_enterprise;
  gint64      seats_used;
  gint64      seats_purchased;
  gint64      renewal_at;         /* 0: unknown */
  char       *sso_type;           /* NULL, "saml", "oidc" */
  char       *sso_idp;
  gboolean    sso_enforced;
  gboolean    scim_enabled;
  char       *stripe_customer_id; /* NULL until billing */
  GStrv       domains;

  GPtrArray  *messages;           /* FdMessage, oldest first */
  GPtrArray  *recent;             /* FdRecentConversation: the organisation's latest others, at most 5 */
  GPtrArray  *agents;             /* FdAgent: everyone who can be assigned */

  /* The agent using Frontdesk (agents.is_me), for {{agent.name}}; 0/"" when unknown. */
  gint64      me_id;
  char       *me_name;
} FdConversationDetail;

void fd_conversation_detail_free (FdConversationDetail *detail);

/* Everyone who can be assigned (a GPtrArray of FdAgent, by name), and the agent using
 * Frontdesk in *@me_id (0 when unknown; the lowest id when several accounts know them,
 * as in the views). */
void        fd_inbox_list_agents_async  (FdStore             *store,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
GPtrArray  *fd_inbox_list_agents_finish (FdStore             *store,
                                         GAsyncResult        *result,
                                         gint64              *me_id,
                                         GError             **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdConversationDetail, fd_conversation_detail_free)

void                  fd_conversation_load_async  (FdStore             *store,
                                                   gint64               conversation_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
FdConversationDetail *fd_conversation_load_finish (FdStore             *store,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* }}} */
/* {{{ Drafts: one per conversation, saved as the agent types */

typedef struct
{
  gboolean  is_note;
  char     *body;
  gint64    updated_at;
} FdDraft;

void fd_draft_free (FdDraft *draft);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdDraft, fd_draft_free)

/* Saving an empty body (or only white space) deletes the draft. A saved draft is
 * committed, so it survives the application being killed right after. */
void     fd_draft_save_async  (FdStore             *store,
                               gint64               conversation_id,
                               gboolean             is_note,
                               const char          *body,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
gboolean fd_draft_save_finish (FdStore             *store,
                               GAsyncResult        *result,
                               GError             **error);
/* NULL without an error when there is no draft. */
void     fd_draft_load_async  (FdStore             *store,
                               gint64               conversation_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
FdDraft *fd_draft_load_finish (FdStore             *store,
                               GAsyncResult        *result,
                               GError             **error);

/* }}} */
/* {{{ Triage: every change goes through the outbox (fd-outbox.h) so it reaches the
 * service; these add what the outbox does not know. */

/* Priority is kept locally (the connectors do not send it): the change, an event and
 * the SLA recomputation in one transaction. Returns the previous priority (char*). */
void     fd_inbox_set_priority_async  (FdStore             *store,
                                       gint64               conversation_id,
                                       const char          *priority,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
char    *fd_inbox_set_priority_finish (FdStore             *store,
                                       GAsyncResult        *result,
                                       GError             **error);

/* Snoozed conversations whose time has come are opened again (with an event). Returns
 * how many woke. Run once a minute by the application. */
gboolean fd_inbox_wake_snoozed (sqlite3  *db,
                                gint64    now_ms,
                                guint    *n_woken,
                                GError  **error);

/* }}} */
/* {{{ Alerts, for desktop notifications */

typedef enum
{
  FD_INBOX_ALERT_NEW_ENTERPRISE,   /* a new conversation from an Enterprise organisation */
  FD_INBOX_ALERT_SLA_AT_RISK,      /* about to breach */
} FdInboxAlertKind;

typedef struct
{
  FdInboxAlertKind  kind;
  gint64            conversation_id;
  char             *subject;
  char             *organisation;
  gint64            sla_due_at;
} FdInboxAlert;

void fd_inbox_alert_free (FdInboxAlert *alert);

/* Conversations created after @since_ms by Enterprise organisations, and conversations
 * that turned at risk and were not alerted yet (marks them, sla_alerted_at). */
gboolean fd_inbox_scan_alerts (sqlite3    *db,
                               gint64      since_ms,
                               gint64      now_ms,
                               GPtrArray **alerts,
                               GError    **error);

/* }}} */
/* {{{ Private: shared by fd-inbox-store.c, fd-conversation-list.c and the tests */

/* A run of rows of a sorted view: the rows also matching @where (NULL: all of them), in
 * @order_by. Both read the conversation as "c". A sort's segments split every view into
 * consecutive runs; see fd-inbox-store.c for why. @where_optional: when every row of the
 * view is in this segment, leave @where out (the ORDER BY alone then matches an index). */
typedef struct
{
  const char *where;
  const char *order_by;
  gboolean    where_optional;
} FdInboxSegment;

/* The view's WHERE clause over "c"; it may use the parameter :now. */
const char           *_fd_inbox_view_where    (FdInboxViewId  view);
/* What the view reads from: "conversations c", maybe with an index to use. */
const char           *_fd_inbox_view_from     (FdInboxViewId  view);
const FdInboxSegment *_fd_inbox_sort_segments (FdInboxSort    sort,
                                               guint         *n_segments);
/* Binds :now if @stmt has it. */
void                  _fd_inbox_bind_now      (sqlite3_stmt  *stmt,
                                               gint64         now_ms);
/* The agent with agents.is_me (the lowest id if several); 0 and "" when none. */
gboolean              _fd_inbox_get_me        (sqlite3       *db,
                                               gint64        *me_id,
                                               char         **me_name,
                                               GError       **error);
/* Counts the rows of @view that also match @and_where (NULL: all of them). */
gboolean              _fd_inbox_count         (sqlite3       *db,
                                               FdInboxViewId  view,
                                               const char    *and_where,
                                               gint64         now_ms,
                                               gint64        *count,
                                               GError       **error);
gboolean              _fd_inbox_count_search  (sqlite3              *db,
                                               const FdSearchQuery  *query,
                                               gint64                me_agent_id,
                                               gint64               *count,
                                               GError              **error);

/* For tests and benchmarks: rows per page (default 100) and how many pages stay loaded
 * (default 30). Call before the first set_view. */
void                  _fd_conversation_list_set_page_size (FdConversationList *self,
                                                           guint               page_size,
                                                           guint               max_pages);
guint                 _fd_conversation_list_get_n_loaded_pages (FdConversationList *self);

/* }}} */

G_END_DECLS
