/* fd-sandbox.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fd-demo.h"

G_BEGIN_DECLS

/* The sandbox accepts only these credentials (unless overridden with
 * fd_sandbox_set_token()). They are not secrets: the sandbox listens on loopback and
 * serves made-up data.
 *
 *   Intercom   Authorization: Bearer sandbox-intercom-token   (BASE/intercom)
 *   Slack      Bearer xoxb-sandbox-token, or token=…          (BASE/slack/api)
 *              Socket Mode: Bearer xapp-sandbox-token
 *   Discourse  Api-Key: sandbox-discourse-key                 (BASE/discourse)
 *              Api-Username: system, or an agent's username
 *   Stripe     Bearer sk_test_sandbox (everything), or        (BASE/stripe)
 *              Bearer rk_test_sandbox_readonly (reads; writes are refused with 403)
 */
#define FD_SANDBOX_INTERCOM_TOKEN      "sandbox-intercom-token"
#define FD_SANDBOX_SLACK_BOT_TOKEN     "xoxb-sandbox-token"
#define FD_SANDBOX_SLACK_APP_TOKEN     "xapp-sandbox-token"
#define FD_SANDBOX_DISCOURSE_KEY       "sandbox-discourse-key"
#define FD_SANDBOX_DISCOURSE_USERNAME  "system"
#define FD_SANDBOX_STRIPE_KEY            "sk_test_sandbox"
#define FD_SANDBOX_STRIPE_RESTRICTED_KEY "rk_test_sandbox_readonly"

#define FD_SANDBOX_ERROR (fd_sandbox_error_quark ())

typedef enum
{
  FD_SANDBOX_ERROR_FAILED,
  FD_SANDBOX_ERROR_INVALID,   /* a bad fault specification or argument */
} FdSandboxError;

GQuark fd_sandbox_error_quark (void);

typedef enum
{
  FD_SANDBOX_FAULT_RATE_LIMIT,    /* 429, Retry-After: param seconds, the service's body */
  FD_SANDBOX_FAULT_SERVER_ERROR,  /* 500 */
  FD_SANDBOX_FAULT_UNAVAILABLE,   /* 503 */
  FD_SANDBOX_FAULT_SLOW,          /* answers after param milliseconds */
  FD_SANDBOX_FAULT_TRUNCATE,      /* processed; the body is cut short, then the connection closes */
  FD_SANDBOX_FAULT_MALFORMED,     /* processed; 200 with half of the JSON */
  FD_SANDBOX_FAULT_DROP,          /* not processed; the connection closes without an answer */
} FdSandboxFaultKind;

typedef enum
{
  FD_SANDBOX_TOKEN_INTERCOM,
  FD_SANDBOX_TOKEN_SLACK_BOT,
  FD_SANDBOX_TOKEN_SLACK_APP,
  FD_SANDBOX_TOKEN_DISCOURSE_KEY,
  FD_SANDBOX_TOKEN_STRIPE_KEY,
  FD_SANDBOX_TOKEN_STRIPE_RESTRICTED_KEY,
} FdSandboxToken;

#define FD_SANDBOX_N_TOKENS (FD_SANDBOX_TOKEN_STRIPE_RESTRICTED_KEY + 1)

#define FD_TYPE_SANDBOX (fd_sandbox_get_type ())
G_DECLARE_FINAL_TYPE (FdSandbox, fd_sandbox, FD, SANDBOX, GObject)

FdSandbox   *fd_sandbox_new                (const char          *db_path);
const char  *fd_sandbox_get_db_path        (FdSandbox           *self);

/* Opens the database, applies Frontdesk's schema and fills an empty one with the demo
 * data set, then derives the sandbox's own tables (Slack channels and timestamps,
 * Discourse categories and post numbers). A database that already holds data is kept.
 * Call it before listening: the database then belongs to the server's thread. */
gboolean     fd_sandbox_seed               (FdSandbox           *self,
                                            guint32              seed,
                                            FdDemoScale          scale,
                                            GError             **error);

void         fd_sandbox_set_token          (FdSandbox           *self,
                                            FdSandboxToken       token,
                                            const char          *value);
const char  *fd_sandbox_get_token          (FdSandbox           *self,
                                            FdSandboxToken       token);

/* Binds 127.0.0.1:@port (0 picks a free port). The server runs on the thread-default
 * main context of the calling thread; that thread must iterate it. */
gboolean     fd_sandbox_listen             (FdSandbox           *self,
                                            guint                port,
                                            GError             **error);
guint        fd_sandbox_get_port           (FdSandbox           *self);
/* "http://127.0.0.1:PORT"; services live under /intercom, /slack/api, /discourse and
 * /stripe. */
const char  *fd_sandbox_get_base_url       (FdSandbox           *self);

/* Listens from a thread of its own, with its own main context, and returns once the
 * port is bound: for tests and other synchronous callers. */
gboolean     fd_sandbox_run_in_thread      (FdSandbox           *self,
                                            guint                port,
                                            GError             **error);
/* Closes sockets and the listener, and joins the thread if there is one. */
void         fd_sandbox_stop               (FdSandbox           *self);

/* Faults apply to requests whose path starts with @path_prefix ("/intercom/conversations"),
 * in the order they were added, each to the next @count requests (0: until cleared).
 * Thread-safe. */
void         fd_sandbox_add_fault          (FdSandbox           *self,
                                            const char          *path_prefix,
                                            FdSandboxFaultKind   kind,
                                            guint                count,
                                            guint                param);
void         fd_sandbox_clear_faults       (FdSandbox           *self);
/* Parses "PREFIX:KIND[:COUNT[:PARAM]]", as given to frontdesk-sandbox --fault. */
gboolean     fd_sandbox_add_fault_from_string (FdSandbox        *self,
                                               const char       *spec,
                                               GError          **error);

gboolean     fd_sandbox_fault_kind_from_string (const char         *name,
                                                FdSandboxFaultKind *kind);
const char  *fd_sandbox_fault_kind_to_string   (FdSandboxFaultKind  kind);

/* How many requests whose path starts with @path_prefix were received (NULL: all).
 * Thread-safe. */
guint        fd_sandbox_get_request_count  (FdSandbox           *self,
                                            const char          *path_prefix);

/* Socket Mode: how long an envelope waits for its acknowledgement before it is sent
 * again (default 3000 ms). Thread-safe. */
void         fd_sandbox_set_ack_timeout    (FdSandbox           *self,
                                            guint                msec);

G_END_DECLS
