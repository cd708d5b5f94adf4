/* fd-sandbox-private.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <sqlite3.h>

#include "fd-sandbox.h"

G_BEGIN_DECLS

typedef struct _FdJson FdJson;

struct _FdSandbox
{
  GObject       parent_instance;

  char         *db_path;
  sqlite3      *db;
  GHashTable   *statements;    /* SQL text → prepared sqlite3_stmt */
  char         *tokens[FD_SANDBOX_N_TOKENS];

  SoupServer   *server;
  GMainContext *context;       /* the server's; every source of ours is attached here */
  guint         port;
  char         *base_url;

  GThread      *thread;
  GMainLoop    *loop;
  guint         thread_port;
  gboolean      thread_ready;
  GError       *thread_error;

  /* Guards the fields the test thread may touch while the server runs. */
  GMutex        lock;
  GCond         cond;
  GPtrArray    *faults;
  GPtrArray    *requests;      /* of char *: the path of every request, in order */
  guint         ack_timeout_ms;

  GPtrArray    *delayed;       /* requests held by a SLOW fault (fd-sandbox.c) */

  /* Slack Socket Mode (server thread only). */
  GPtrArray    *sockets;       /* of SoupWebsocketConnection */
  GHashTable   *tickets;       /* valid apps.connections.open tickets */
  GPtrArray    *envelopes;     /* events not yet acknowledged (fd-sandbox-slack.c) */

  gint64        intercom_total;  /* cached count of email + chat conversations; -1: stale */
  gint64        last_write_at;   /* the latest time a write stamped, see _fd_sandbox_next_time */
};

/* One service under its path prefix. Adding Stripe or Linear is one more file that
 * defines one of these and one line in fd-sandbox.c's list. */
typedef struct
{
  const char *name;     /* "intercom": also the "service" of POST /_control/incoming */
  const char *prefix;   /* "/intercom" */
  /* CREATE TABLE IF NOT EXISTS … for the service's own tables, or NULL. */
  const char *schema;
  /* Derives the service's tables from the Frontdesk rows (once, after the demo data). */
  gboolean  (*seed)       (FdSandbox          *self,
                           GError            **error);
  /* @path is what follows the prefix ("/conversations/12"). */
  void      (*handle)     (FdSandbox          *self,
                           SoupServerMessage  *msg,
                           const char         *path,
                           GHashTable         *query);
  /* The JSON body the service sends with a 429, 500 or 503. */
  char     *(*fault_body) (FdSandboxFaultKind  kind,
                           guint               param);
  /* POST /_control/incoming: a customer writes. Adds what @reply needs to say. */
  gboolean  (*incoming)   (FdSandbox          *self,
                           JsonObject         *request,
                           FdJson             *reply,
                           GError            **error);
  /* Closes connections and timers (server thread), or NULL. */
  void      (*shutdown)   (FdSandbox          *self);
} FdSandboxService;

extern const FdSandboxService _fd_sandbox_intercom_service;
extern const FdSandboxService _fd_sandbox_slack_service;
extern const FdSandboxService _fd_sandbox_discourse_service;
extern const FdSandboxService _fd_sandbox_stripe_service;

/* {{{ Database */

/* A cached prepared statement, reset when it goes out of scope:
 *   g_autoptr(FdSandboxStmt) s = _fd_sandbox_stmt (self, "SELECT …"); */
typedef sqlite3_stmt FdSandboxStmt;

static inline void
_fd_sandbox_stmt_release (FdSandboxStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdSandboxStmt, _fd_sandbox_stmt_release)

FdSandboxStmt *_fd_sandbox_stmt          (FdSandbox    *self,
                                          const char   *sql);
gboolean       _fd_sandbox_exec          (FdSandbox    *self,
                                          const char   *sql,
                                          GError      **error);
/* Steps a write statement to SQLITE_DONE. */
gboolean       _fd_sandbox_step_done     (FdSandbox     *self,
                                          FdSandboxStmt *stmt,
                                          GError       **error);
gint64         _fd_sandbox_now_ms        (void);
/* A time after every write so far, so that updated_at strictly increases. */
gint64         _fd_sandbox_next_time     (FdSandbox    *self,
                                          gint64        not_before);

typedef struct
{
  gint64      conversation_id;
  const char *author_kind;     /* contact, agent, bot, system */
  gint64      author_id;       /* 0: none */
  const char *author_name;
  gboolean    is_note;
  const char *body;            /* plain text, as the Frontdesk schema stores it */
  const char *markup;          /* the service's own form (HTML, mrkdwn, Markdown), or NULL */
  gint64      at;              /* 0: now */
} FdSandboxNewMessage;

/* Inserts a message and what follows from it: the conversation's updated_at,
 * last_message_at, snippet, first_reply_at, a reopened status when a customer writes
 * to a resolved or snoozed conversation, and the matching event. Returns the row id,
 * or 0 with @error set. Runs inside the caller's transaction if there is one. */
gint64         _fd_sandbox_add_message   (FdSandbox                 *self,
                                          const FdSandboxNewMessage *message,
                                          GError                   **error);
/* Creates a conversation (status open) and returns its id. */
gint64         _fd_sandbox_add_conversation (FdSandbox  *self,
                                             const char *channel,
                                             const char *subject,
                                             gint64      contact_id,
                                             gint64      organisation_id,
                                             gint64      at,
                                             GError    **error);
/* @status: open, pending, snoozed, resolved. Records an event and bumps updated_at. */
gboolean       _fd_sandbox_set_status    (FdSandbox    *self,
                                          gint64        conversation_id,
                                          const char   *status,
                                          gint64        snoozed_until_ms,
                                          gint64        actor_agent_id,
                                          GError      **error);
/* @agent_id 0 unassigns. */
gboolean       _fd_sandbox_assign        (FdSandbox    *self,
                                          gint64        conversation_id,
                                          gint64        agent_id,
                                          gint64        actor_agent_id,
                                          GError      **error);
/* Adds or removes a tag; *changed is FALSE when it was already so. */
gboolean       _fd_sandbox_set_tag       (FdSandbox    *self,
                                          gint64        conversation_id,
                                          gint64        tag_id,
                                          gboolean      present,
                                          gint64        actor_agent_id,
                                          gboolean     *changed,
                                          GError      **error);
/* Looks a contact up by email, name or id; NULL or "" gives @fallback. */
gint64         _fd_sandbox_find_contact  (FdSandbox    *self,
                                          const char   *author,
                                          gint64        fallback);

/* }}} */
/* {{{ HTTP */

void        _fd_sandbox_respond          (SoupServerMessage *msg,
                                          guint              status,
                                          const char        *content_type,
                                          const char        *body);
/* Sends what @builder wrote as the response body. */
void        _fd_sandbox_respond_builder  (SoupServerMessage *msg,
                                          guint              status,
                                          FdJson            *builder);
/* The request body as a JSON object, or NULL. */
JsonNode   *_fd_sandbox_read_json        (SoupServerMessage *msg);
/* Query, then form or JSON body fields (scalars as text), merged into one table. */
GHashTable *_fd_sandbox_read_params      (SoupServerMessage *msg,
                                          GHashTable        *query);
/* Every value of a repeated query parameter ("post_ids[]"). */
GPtrArray  *_fd_sandbox_query_all        (SoupServerMessage *msg,
                                          const char        *name);
const char *_fd_sandbox_header           (SoupServerMessage *msg,
                                          const char        *name);
/* "Bearer X" → X, else NULL. */
const char *_fd_sandbox_bearer           (SoupServerMessage *msg);

/* A JSON member that may be a string or an integer, as text; NULL when absent. */
char       *_fd_sandbox_member_text      (JsonObject        *object,
                                          const char        *member);
gboolean    _fd_sandbox_parse_int        (const char        *text,
                                          gint64            *value);

/* A streaming JSON writer with JsonBuilder's shape: commas and escaping are its job.
 * A whole page of conversations is one string, without a tree to build and free. */
FdJson     *_fd_json_new                 (void);
void        _fd_json_free                (FdJson            *json);
/* Takes the document written so far; the writer starts again, empty. */
char       *_fd_json_steal               (FdJson            *json,
                                          gsize             *length);
void        _fd_json_begin_object        (FdJson            *json);
void        _fd_json_end_object          (FdJson            *json);
void        _fd_json_begin_array         (FdJson            *json);
void        _fd_json_end_array           (FdJson            *json);
void        _fd_json_name                (FdJson            *json,
                                          const char        *name);
void        _fd_json_add_string          (FdJson            *json,
                                          const char        *value);
void        _fd_json_add_int             (FdJson            *json,
                                          gint64             value);
void        _fd_json_add_bool            (FdJson            *json,
                                          gboolean           value);
void        _fd_json_add_null            (FdJson            *json);
void        _fd_json_add_double          (FdJson            *json,
                                          double             value);
/* Inserts @raw, which must be one complete JSON value. */
void        _fd_json_add_raw             (FdJson            *json,
                                          const char        *raw);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FdJson, _fd_json_free)

/* Members of the object being built: a NULL string becomes null. */
static inline void
_fd_json_str (FdJson      *builder,
              const char  *name,
              const char  *value)
{
  _fd_json_name (builder, name);
  if (value != NULL)
    _fd_json_add_string (builder, value);
  else
    _fd_json_add_null (builder);
}

static inline void
_fd_json_int (FdJson      *builder,
              const char  *name,
              gint64       value)
{
  _fd_json_name (builder, name);
  _fd_json_add_int (builder, value);
}

static inline void
_fd_json_bool (FdJson      *builder,
               const char  *name,
               gboolean     value)
{
  _fd_json_name (builder, name);
  _fd_json_add_bool (builder, value);
}

static inline void
_fd_json_null (FdJson      *builder,
               const char  *name)
{
  _fd_json_name (builder, name);
  _fd_json_add_null (builder);
}

/* }}} */
/* {{{ Text */

/* Plain text → HTML paragraphs with escaped entities and linked URLs. */
char       *_fd_sandbox_text_to_html     (const char        *text);
/* HTML → plain text (tags dropped, paragraphs and entities kept). */
char       *_fd_sandbox_html_to_text     (const char        *html);
/* "2026-03-01T09:30:00.000Z" */
char       *_fd_sandbox_iso8601          (gint64             ms);
/* ASCII, lower case, runs of other characters replaced by @sep. */
char       *_fd_sandbox_slugify          (const char        *text,
                                          char               sep);

/* }}} */
/* {{{ Slack Socket Mode (fd-sandbox-slack.c) */

void        _fd_sandbox_slack_setup_socket (FdSandbox       *self,
                                            SoupServer      *server);
/* Sends {"type": "disconnect"} on every open socket and closes it. */
void        _fd_sandbox_slack_disconnect   (FdSandbox       *self);

/* }}} */

G_END_DECLS
