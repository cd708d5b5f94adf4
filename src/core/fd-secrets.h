/* fd-secrets.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FD_SECRETS_ERROR (fd_secrets_error_quark ())

typedef enum
{
  FD_SECRETS_ERROR_FAILED,
  FD_SECRETS_ERROR_NO_SERVICE, /* no Secret Service (gnome-keyring, KWallet) on the bus */
  FD_SECRETS_ERROR_LOCKED,     /* the keyring stayed locked (the user cancelled the prompt) */
} FdSecretsError;

GQuark fd_secrets_error_quark (void);

/* Secrets live only in the Secret Service, under the schema
 * "io.github.frontdesk.Frontdesk.Account" with the attribute "account" = the account's uid.
 * There is no fallback store: without a keyring these fail with FD_SECRETS_ERROR_NO_SERVICE. */
void      fd_secrets_store_async   (const char           *account_uid,
                                    const char           *label,
                                    const char           *secret,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
gboolean  fd_secrets_store_finish  (GAsyncResult         *result,
                                    GError              **error);

/* Returns NULL without an error when the account has no secret. Free with
 * secret_password_free() (it wipes the memory). */
void      fd_secrets_lookup_async  (const char           *account_uid,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
char     *fd_secrets_lookup_finish (GAsyncResult         *result,
                                    GError              **error);

void      fd_secrets_clear_async   (const char           *account_uid,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
gboolean  fd_secrets_clear_finish  (GAsyncResult         *result,
                                    GError              **error);

G_END_DECLS
