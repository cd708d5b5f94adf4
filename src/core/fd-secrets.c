/* fd-secrets.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-secrets"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "fd-log.h"
#include "fd-secrets.h"

G_DEFINE_QUARK (fd-secrets-error-quark, fd_secrets_error)

static const SecretSchema *
fd_secrets_get_schema (void)
{
  static const SecretSchema schema = {
    "io.github.frontdesk.Frontdesk.Account", SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

/* libsecret reports a missing Secret Service in several ways (no session bus, nobody
 * owning org.freedesktop.secrets, no activatable service); the user needs one message. */
static GError *
translate_error (GError *error)
{
  GError *translated;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return error;

  if (error->domain == SECRET_ERROR && error->code == SECRET_ERROR_IS_LOCKED)
    translated = g_error_new_literal (FD_SECRETS_ERROR, FD_SECRETS_ERROR_LOCKED,
                                      _("The keyring is locked. Unlock it when your system asks, "
                                        "then try again."));
  else if (error->domain == G_DBUS_ERROR ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED) ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    translated = g_error_new_literal (FD_SECRETS_ERROR, FD_SECRETS_ERROR_NO_SERVICE,
                                      _("No keyring is running, so Frontdesk cannot keep this "
                                        "token safely and has not saved it. Start GNOME Keyring "
                                        "(or another Secret Service) and try again."));
  else
    translated = g_error_new (FD_SECRETS_ERROR, FD_SECRETS_ERROR_FAILED,
                              _("The keyring refused the request (%s). Nothing was saved."),
                              error->message);

  g_debug ("Secret Service error: %s", error->message);
  g_error_free (error);

  return translated;
}

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_task_return_error (task, translate_error (error));
  else
    g_task_return_boolean (task, TRUE);
}

void
fd_secrets_store_async (const char          *account_uid,
                        const char          *label,
                        const char          *secret,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (account_uid != NULL && *account_uid != '\0');
  g_return_if_fail (label != NULL);
  g_return_if_fail (secret != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_secrets_store_async);

  fd_log_register_secret (secret);

  secret_password_store (fd_secrets_get_schema (), SECRET_COLLECTION_DEFAULT, label, secret,
                         cancellable, store_cb, g_steal_pointer (&task),
                         "account", account_uid,
                         NULL);
}

gboolean
fd_secrets_store_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_secrets_store_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lookup_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *secret;

  secret = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    {
      g_task_return_error (task, translate_error (error));
      return;
    }

  fd_log_register_secret (secret);
  g_task_return_pointer (task, secret, (GDestroyNotify) secret_password_free);
}

void
fd_secrets_lookup_async (const char          *account_uid,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (account_uid != NULL && *account_uid != '\0');

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_secrets_lookup_async);

  secret_password_lookup (fd_secrets_get_schema (), cancellable,
                          lookup_cb, g_steal_pointer (&task),
                          "account", account_uid,
                          NULL);
}

char *
fd_secrets_lookup_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_secrets_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
clear_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  /* FALSE without an error only means there was nothing to remove. */
  secret_password_clear_finish (result, &error);

  if (error != NULL)
    g_task_return_error (task, translate_error (error));
  else
    g_task_return_boolean (task, TRUE);
}

void
fd_secrets_clear_async (const char          *account_uid,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (account_uid != NULL && *account_uid != '\0');

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_secrets_clear_async);

  secret_password_clear (fd_secrets_get_schema (), cancellable,
                         clear_cb, g_steal_pointer (&task),
                         "account", account_uid,
                         NULL);
}

gboolean
fd_secrets_clear_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_secrets_clear_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
