/* fd-account.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-account"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "fd-account.h"
#include "fd-secrets.h"

struct _FdAccount
{
  GObject        parent_instance;

  gint64         id;
  char          *uid;
  FdAccountKind  kind;
  char          *name;
  char          *base_url;
  GHashTable    *settings;   /* key → string value */
};

G_DEFINE_FINAL_TYPE (FdAccount, fd_account, G_TYPE_OBJECT)

G_DEFINE_QUARK (fd-account-error-quark, fd_account_error)

enum {
  PROP_0,
  PROP_ID,
  PROP_UID,
  PROP_KIND,
  PROP_NAME,
  PROP_BASE_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* g_set_str() is GLib 2.76; we target 2.74. */
static gboolean
set_str (char       **dest,
         const char  *value)
{
  if (g_strcmp0 (*dest, value) == 0)
    return FALSE;

  g_free (*dest);
  *dest = g_strdup (value);
  return TRUE;
}

typedef struct
{
  const char *id;
  const char *display_name;
  const char *secret_label;
  const char *base_url;
} KindInfo;

static const KindInfo kinds[FD_ACCOUNT_N_KINDS] = {
  [FD_ACCOUNT_KIND_INTERCOM]  = { "intercom",  N_("Intercom"),  N_("Access token"), "https://api.intercom.io" },
  [FD_ACCOUNT_KIND_SLACK]     = { "slack",     N_("Slack"),     N_("Bot token"), "https://slack.com/api" },
  /* Discourse is self-hosted: there is no public default, the forum's address is asked for. */
  [FD_ACCOUNT_KIND_DISCOURSE] = { "discourse", N_("Discourse"), N_("API key"), "" },
  [FD_ACCOUNT_KIND_STRIPE]    = { "stripe",    N_("Stripe"),    N_("Secret or restricted key"), "https://api.stripe.com" },
  [FD_ACCOUNT_KIND_LINEAR]    = { "linear",    N_("Linear"),    N_("API key"), "https://api.linear.app" },
};

const char *
fd_account_kind_to_string (FdAccountKind kind)
{
  g_return_val_if_fail (kind < FD_ACCOUNT_N_KINDS, NULL);

  return kinds[kind].id;
}

gboolean
fd_account_kind_from_string (const char    *str,
                             FdAccountKind *kind)
{
  g_return_val_if_fail (kind != NULL, FALSE);

  for (guint i = 0; i < FD_ACCOUNT_N_KINDS; i++)
    {
      if (g_strcmp0 (str, kinds[i].id) == 0)
        {
          *kind = i;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
fd_account_kind_get_display_name (FdAccountKind kind)
{
  g_return_val_if_fail (kind < FD_ACCOUNT_N_KINDS, NULL);

  return g_dgettext (GETTEXT_PACKAGE, kinds[kind].display_name);
}

const char *
fd_account_kind_get_secret_label (FdAccountKind kind)
{
  g_return_val_if_fail (kind < FD_ACCOUNT_N_KINDS, NULL);

  return g_dgettext (GETTEXT_PACKAGE, kinds[kind].secret_label);
}

const char *
fd_account_kind_get_default_base_url (FdAccountKind kind)
{
  g_return_val_if_fail (kind < FD_ACCOUNT_N_KINDS, NULL);

  return kinds[kind].base_url;
}

static gboolean
is_loopback_host (const char *host)
{
  return g_strcmp0 (host, "127.0.0.1") == 0 ||
         g_strcmp0 (host, "localhost") == 0 ||
         g_strcmp0 (host, "::1") == 0 ||
         g_strcmp0 (host, "[::1]") == 0;
}

gboolean
fd_account_validate_base_url (const char  *base_url,
                              GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  const char *host;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (base_url == NULL || *base_url == '\0')
    {
      g_set_error_literal (error, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_INVALID_URL,
                           _("Enter the service’s address, for example https://forum.example.com."));
      return FALSE;
    }

  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_INVALID_URL,
                   _("“%s” is not a web address. It should look like https://api.example.com."),
                   base_url);
      return FALSE;
    }

  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);

  if (g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error_literal (error, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_INVALID_URL,
                           _("Remove the user name and password from the address; "
                             "the token goes in its own field, where the keyring keeps it."));
      return FALSE;
    }

  if (g_ascii_strcasecmp (scheme, "https") == 0)
    return TRUE;

  if (g_ascii_strcasecmp (scheme, "http") == 0 && is_loopback_host (host))
    return TRUE;

  if (g_ascii_strcasecmp (scheme, "http") == 0)
    g_set_error (error, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_INVALID_URL,
                 _("“%s” is not encrypted, so the token would cross the network in clear text. "
                   "Use an https:// address."),
                 base_url);
  else
    g_set_error (error, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_INVALID_URL,
                 _("“%s” is not a web address. It should start with https://."),
                 base_url);

  return FALSE;
}

static void
fd_account_finalize (GObject *object)
{
  FdAccount *self = (FdAccount *)object;

  g_clear_pointer (&self->uid, g_free);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->settings, g_hash_table_unref);

  G_OBJECT_CLASS (fd_account_parent_class)->finalize (object);
}

static void
fd_account_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  FdAccount *self = FD_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;

    case PROP_UID:
      g_value_set_string (value, self->uid);
      break;

    case PROP_KIND:
      g_value_set_uint (value, self->kind);
      break;

    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_account_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  FdAccount *self = FD_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_get_int64 (value);
      break;

    case PROP_UID:
      g_free (self->uid);
      self->uid = g_value_dup_string (value);
      break;

    case PROP_KIND:
      self->kind = g_value_get_uint (value);
      break;

    case PROP_NAME:
      fd_account_set_name (self, g_value_get_string (value));
      break;

    case PROP_BASE_URL:
      fd_account_set_base_url (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_account_constructed (GObject *object)
{
  FdAccount *self = FD_ACCOUNT (object);

  G_OBJECT_CLASS (fd_account_parent_class)->constructed (object);

  if (self->uid == NULL)
    self->uid = g_uuid_string_random ();
}

static void
fd_account_class_init (FdAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = fd_account_constructed;
  object_class->finalize = fd_account_finalize;
  object_class->get_property = fd_account_get_property;
  object_class->set_property = fd_account_set_property;

  properties[PROP_ID] =
    g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_UID] =
    g_param_spec_string ("uid", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_KIND] =
    g_param_spec_uint ("kind", NULL, NULL, 0, FD_ACCOUNT_N_KINDS - 1, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fd_account_init (FdAccount *self)
{
  self->settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

char *
fd_account_dup_setting (FdAccount  *self,
                        const char *key)
{
  g_return_val_if_fail (FD_IS_ACCOUNT (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_strdup (g_hash_table_lookup (self->settings, key));
}

void
fd_account_set_setting (FdAccount  *self,
                        const char *key,
                        const char *value)
{
  g_return_if_fail (FD_IS_ACCOUNT (self));
  g_return_if_fail (key != NULL);

  if (value == NULL || *value == '\0')
    g_hash_table_remove (self->settings, key);
  else
    g_hash_table_insert (self->settings, g_strdup (key), g_strdup (value));
}

static char *
settings_to_json (GHashTable *settings)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (settings), (GCompareFunc) strcmp);

  json_builder_begin_object (builder);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      json_builder_set_member_name (builder, l->data);
      json_builder_add_string_value (builder, g_hash_table_lookup (settings, l->data));
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* Unknown or malformed settings are ignored rather than fatal: they are conveniences. */
static void
settings_from_json (GHashTable *settings,
                    const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;
  g_autoptr(GList) members = NULL;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;

  object = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_hash_table_insert (settings, g_strdup (l->data), g_strdup (json_node_get_string (node)));
    }
}

FdAccount *
fd_account_new (FdAccountKind  kind,
                const char    *name,
                const char    *base_url)
{
  g_return_val_if_fail (kind < FD_ACCOUNT_N_KINDS, NULL);

  return g_object_new (FD_TYPE_ACCOUNT,
                       "kind", kind,
                       "name", name,
                       "base-url", base_url,
                       NULL);
}

gint64
fd_account_get_id (FdAccount *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT (self), 0);

  return self->id;
}

const char *
fd_account_get_uid (FdAccount *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT (self), NULL);

  return self->uid;
}

FdAccountKind
fd_account_get_kind (FdAccount *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT (self), 0);

  return self->kind;
}

const char *
fd_account_get_name (FdAccount *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT (self), NULL);

  return self->name;
}

void
fd_account_set_name (FdAccount  *self,
                     const char *name)
{
  g_return_if_fail (FD_IS_ACCOUNT (self));

  if (set_str (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
fd_account_get_base_url (FdAccount *self)
{
  g_return_val_if_fail (FD_IS_ACCOUNT (self), NULL);

  return self->base_url;
}

void
fd_account_set_base_url (FdAccount  *self,
                         const char *base_url)
{
  g_return_if_fail (FD_IS_ACCOUNT (self));

  if (set_str (&self->base_url, base_url))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

/* Store jobs get a plain copy of the account, never the GObject: the worker thread must
 * not read an object the UI may be changing. */
typedef struct
{
  gint64         id;
  char          *uid;
  FdAccountKind  kind;
  char          *name;
  char          *base_url;
  char          *settings;
} AccountRow;

static void
account_row_free (gpointer data)
{
  AccountRow *row = data;

  g_free (row->uid);
  g_free (row->name);
  g_free (row->base_url);
  g_free (row->settings);
  g_free (row);
}

static gboolean
is_blank (const char *text)
{
  for (; text != NULL && *text != '\0'; text = g_utf8_next_char (text))
    {
      if (!g_unichar_isspace (g_utf8_get_char (text)))
        return FALSE;
    }

  return TRUE;
}

static AccountRow *
account_row_new (FdAccount *account)
{
  AccountRow *row = g_new0 (AccountRow, 1);

  row->id = account->id;
  row->uid = g_strdup (account->uid);
  row->kind = account->kind;
  row->name = g_strdup (account->name);
  row->base_url = g_strdup (account->base_url);
  row->settings = settings_to_json (account->settings);

  return row;
}

static gboolean
list_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (account_row_free);
  int rc;

  stmt = fd_store_prepare (db,
                           "SELECT id, uid, kind, name, base_url, settings_json FROM accounts "
                           "ORDER BY kind, name COLLATE NOCASE, id",
                           error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      AccountRow *row = g_new0 (AccountRow, 1);

      row->id = sqlite3_column_int64 (stmt, 0);
      row->uid = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      if (!fd_account_kind_from_string ((const char *) sqlite3_column_text (stmt, 2), &row->kind))
        {
          /* A kind from a newer Frontdesk: skip it rather than misread it. */
          account_row_free (row);
          continue;
        }
      row->name = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      row->base_url = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      row->settings = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      g_ptr_array_add (rows, row);
    }

  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *result = g_steal_pointer (&rows);
  return TRUE;
}

static void
list_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GListStore) store = NULL;
  GError *error = NULL;

  rows = fd_store_run_finish (FD_STORE (object), result, &error);
  if (rows == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  store = g_list_store_new (FD_TYPE_ACCOUNT);

  for (guint i = 0; i < rows->len; i++)
    {
      AccountRow *row = g_ptr_array_index (rows, i);
      g_autoptr(FdAccount) account = g_object_new (FD_TYPE_ACCOUNT,
                                                   "id", row->id,
                                                   "uid", row->uid,
                                                   "kind", row->kind,
                                                   "name", row->name,
                                                   "base-url", row->base_url,
                                                   NULL);

      settings_from_json (account->settings, row->settings);
      g_list_store_append (store, account);
    }

  g_task_return_pointer (task, g_steal_pointer (&store), g_object_unref);
}

void
fd_account_list_async (FdStore             *store,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_STORE (store));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_account_list_async);

  fd_store_run_async (store, list_job, NULL, NULL, (GDestroyNotify) g_ptr_array_unref,
                      cancellable, list_cb, g_steal_pointer (&task));
}

GListStore *
fd_account_list_finish (FdStore       *store,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_account_list_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
save_job (sqlite3   *db,
          gpointer   job_data,
          gpointer  *result,
          GError   **error)
{
  AccountRow *row = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GString) detail = NULL;
  gint64 *id;
  int rc;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db,
                           "INSERT INTO accounts (uid, kind, name, base_url, created_at, settings_json) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                           "ON CONFLICT (uid) DO UPDATE SET name = ?3, base_url = ?4, settings_json = ?6 "
                           "RETURNING id",
                           error);
  if (stmt == NULL)
    goto failed;

  sqlite3_bind_text (stmt, 1, row->uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, fd_account_kind_to_string (row->kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, row->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, row->base_url, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time () / 1000);
  sqlite3_bind_text (stmt, 6, row->settings, -1, SQLITE_TRANSIENT);

  if ((rc = sqlite3_step (stmt)) != SQLITE_ROW)
    {
      fd_store_set_error (db, rc, error);
      goto failed;
    }

  id = g_new (gint64, 1);
  *id = sqlite3_column_int64 (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  detail = g_string_new (NULL);
  g_string_append_printf (detail, "{\"kind\":\"%s\",\"id\":%" G_GINT64_FORMAT "}",
                          fd_account_kind_to_string (row->kind), *id);

  if (!fd_store_audit (db, "agent", row->id == 0 ? "account.add" : "account.update",
                       row->uid, detail->str, error) ||
      !fd_store_commit (db, error))
    {
      g_free (id);
      goto failed;
    }

  *result = id;
  return TRUE;

failed:
  fd_store_rollback (db);
  return FALSE;
}

typedef struct
{
  FdAccount *account;
  gboolean   secret_written;
} SaveData;

static void
save_data_free (SaveData *data)
{
  g_clear_object (&data->account);
  g_free (data);
}

static void
save_clear_secret_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  /* Best effort: the row was not written, so the secret must not linger. */
  fd_secrets_clear_finish (result, NULL);
}

static void
save_row_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SaveData *data = g_task_get_task_data (task);
  g_autofree gint64 *id = NULL;
  GError *error = NULL;

  id = fd_store_run_finish (FD_STORE (object), result, &error);

  if (id == NULL)
    {
      if (data->secret_written && data->account->id == 0)
        fd_secrets_clear_async (data->account->uid, NULL, save_clear_secret_cb, NULL);

      g_task_return_error (task, error);
      return;
    }

  if (data->account->id != *id)
    {
      data->account->id = *id;
      g_object_notify_by_pspec (G_OBJECT (data->account), properties[PROP_ID]);
    }

  g_task_return_boolean (task, TRUE);
}

static void
save_write_row (GTask *task)
{
  SaveData *data = g_task_get_task_data (task);
  FdStore *store = g_task_get_source_object (task);

  fd_store_run_async (store, save_job, account_row_new (data->account), account_row_free, g_free,
                      g_task_get_cancellable (task), save_row_cb, task);
}

static void
save_secret_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SaveData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!fd_secrets_store_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  data->secret_written = TRUE;
  save_write_row (g_steal_pointer (&task));
}

void
fd_account_save_async (FdStore             *store,
                       FdAccount           *account,
                       const char          *secret,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *label = NULL;
  SaveData *data;
  GError *error = NULL;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (FD_IS_ACCOUNT (account));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_account_save_async);

  data = g_new0 (SaveData, 1);
  data->account = g_object_ref (account);
  g_task_set_task_data (task, data, (GDestroyNotify) save_data_free);

  if (is_blank (account->name))
    {
      g_task_return_new_error (task, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_INVALID_NAME,
                               _("Give the account a name, such as the workspace it connects to."));
      return;
    }

  if (!fd_account_validate_base_url (account->base_url, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (secret == NULL || *secret == '\0')
    {
      if (account->id == 0)
        {
          g_task_return_new_error (task, FD_ACCOUNT_ERROR, FD_ACCOUNT_ERROR_NO_SECRET,
                                   _("Enter the %s that %s gave you."),
                                   fd_account_kind_get_secret_label (account->kind),
                                   fd_account_kind_get_display_name (account->kind));
          return;
        }

      save_write_row (g_steal_pointer (&task));
      return;
    }

  /* Translators: the keyring item's label, e.g. "Frontdesk: Acme (Intercom)" */
  label = g_strdup_printf (_("Frontdesk: %s (%s)"),
                           account->name, fd_account_kind_get_display_name (account->kind));

  fd_secrets_store_async (account->uid, label, secret, cancellable,
                          save_secret_cb, g_steal_pointer (&task));
}

gboolean
fd_account_save_finish (FdStore       *store,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_account_save_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
remove_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  AccountRow *row = job_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  if (!fd_store_begin (db, error))
    return FALSE;

  stmt = fd_store_prepare (db, "DELETE FROM accounts WHERE uid = ?1", error);
  if (stmt == NULL)
    goto failed;

  sqlite3_bind_text (stmt, 1, row->uid, -1, SQLITE_TRANSIENT);
  if ((rc = sqlite3_step (stmt)) != SQLITE_DONE)
    {
      fd_store_set_error (db, rc, error);
      goto failed;
    }

  if (!fd_store_audit (db, "agent", "account.remove", row->uid, "{}", error) ||
      !fd_store_commit (db, error))
    goto failed;

  *result = GINT_TO_POINTER (TRUE);
  return TRUE;

failed:
  fd_store_rollback (db);
  return FALSE;
}

static void
remove_row_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (fd_store_run_finish (FD_STORE (object), result, &error) == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
remove_secret_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FdAccount *account = g_task_get_task_data (task);
  FdStore *store = g_task_get_source_object (task);
  GError *error = NULL;
  GCancellable *cancellable;

  /* The secret goes first: if the keyring cannot be reached the account stays, so the
   * user can retry, instead of leaving a token behind that nothing points to. */
  if (!fd_secrets_clear_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  cancellable = g_task_get_cancellable (task);
  fd_store_run_async (store, remove_job, account_row_new (account), account_row_free, NULL,
                      cancellable, remove_row_cb, g_steal_pointer (&task));
}

void
fd_account_remove_async (FdStore             *store,
                         FdAccount           *account,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (FD_IS_ACCOUNT (account));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_account_remove_async);
  g_task_set_task_data (task, g_object_ref (account), g_object_unref);

  fd_secrets_clear_async (account->uid, cancellable, remove_secret_cb, g_steal_pointer (&task));
}

gboolean
fd_account_remove_finish (FdStore       *store,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_account_remove_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
