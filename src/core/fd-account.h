/* fd-account.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fd-store.h"

G_BEGIN_DECLS

typedef enum
{
  FD_ACCOUNT_KIND_INTERCOM,
  FD_ACCOUNT_KIND_SLACK,
  FD_ACCOUNT_KIND_DISCOURSE,
  FD_ACCOUNT_KIND_STRIPE,
  FD_ACCOUNT_KIND_LINEAR,
  FD_ACCOUNT_N_KINDS,
} FdAccountKind;

#define FD_ACCOUNT_ERROR (fd_account_error_quark ())

typedef enum
{
  FD_ACCOUNT_ERROR_INVALID_URL,
  FD_ACCOUNT_ERROR_INVALID_NAME,
  FD_ACCOUNT_ERROR_NO_SECRET,
} FdAccountError;

GQuark         fd_account_error_quark             (void);

const char    *fd_account_kind_to_string          (FdAccountKind  kind);
gboolean       fd_account_kind_from_string        (const char    *str,
                                                   FdAccountKind *kind);
/* Translated service name: "Intercom", "Slack", … */
const char    *fd_account_kind_get_display_name   (FdAccountKind  kind);
/* What the secret is called for this service: "Access token", "Bot token", "API key" … */
const char    *fd_account_kind_get_secret_label   (FdAccountKind  kind);
const char    *fd_account_kind_get_default_base_url (FdAccountKind kind);

#define FD_TYPE_ACCOUNT (fd_account_get_type ())
G_DECLARE_FINAL_TYPE (FdAccount, fd_account, FD, ACCOUNT, GObject)

FdAccount     *fd_account_new                     (FdAccountKind  kind,
                                                   const char    *name,
                                                   const char    *base_url);
gint64         fd_account_get_id                  (FdAccount     *self);
const char    *fd_account_get_uid                 (FdAccount     *self);
FdAccountKind  fd_account_get_kind                (FdAccount     *self);
const char    *fd_account_get_name                (FdAccount     *self);
void           fd_account_set_name                (FdAccount     *self,
                                                   const char    *name);
const char    *fd_account_get_base_url            (FdAccount     *self);
void           fd_account_set_base_url            (FdAccount     *self,
                                                   const char    *base_url);

/* Settings of a service that are not secret, e.g. Discourse's "api_username" and
 * "categories" (category ids separated by commas). Values are strings; NULL removes. */
char          *fd_account_dup_setting             (FdAccount     *self,
                                                   const char    *key);
void           fd_account_set_setting             (FdAccount     *self,
                                                   const char    *key,
                                                   const char    *value);

/* A base URL must be https, or http to a loopback host (the sandbox, tests), so a secret
 * never crosses a network in clear text. */
gboolean       fd_account_validate_base_url       (const char    *base_url,
                                                   GError       **error);

/* Lists every account (a GListStore of FdAccount, ordered by kind then name). */
void           fd_account_list_async              (FdStore             *store,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
GListStore    *fd_account_list_finish             (FdStore             *store,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* Adds a new account or updates an existing one. With a non-NULL @secret the secret is
 * stored in the keyring first; if that fails nothing is written to the store. */
void           fd_account_save_async              (FdStore             *store,
                                                   FdAccount           *account,
                                                   const char          *secret,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean       fd_account_save_finish             (FdStore             *store,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* Removes the account from the store and its secret from the keyring. */
void           fd_account_remove_async            (FdStore             *store,
                                                   FdAccount           *account,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean       fd_account_remove_finish           (FdStore             *store,
                                                   GAsyncResult        *result,
                                                   GError             **error);

G_END_DECLS
