/* fd-log.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-log"

#include "config.h"

#include <string.h>

#include "fd-log.h"

/* Token shapes of the services Frontdesk talks to. The public prefix is kept so a log
 * still says which kind of key was used. */
static const char token_pattern[] =
  "(?<prefix>"
    "(?:sk|rk|pk)_(?:live|test)_|whsec_|"      /* Stripe */
    "xox[abpsr]-|xapp-|"                       /* Slack */
    "lin_(?:api|oauth)_"                       /* Linear */
  ")[A-Za-z0-9_\\-]{4,}"
  "|(?<header>(?i:(?:api-key|authorization|x-api-key)\\s*[:=]\\s*(?:(?:bearer|basic|token)\\s+)?)"
  "|(?i:bearer|basic|token)\\s+)"
  "(?!\\[redacted\\])[^\\s\"',;]{4,}";

static GMutex secrets_lock;
static GPtrArray *secrets;

static GRegex *
get_token_regex (void)
{
  static GRegex *regex;

  if (g_once_init_enter (&regex))
    {
      g_autoptr(GError) error = NULL;
      GRegex *r = g_regex_new (token_pattern, G_REGEX_OPTIMIZE | G_REGEX_DUPNAMES, 0, &error);

      g_assert_no_error (error);
      g_once_init_leave (&regex, r);
    }

  return regex;
}

static gboolean
replace_token_cb (const GMatchInfo *match_info,
                  GString          *result,
                  gpointer          user_data)
{
  g_autofree char *prefix = g_match_info_fetch_named (match_info, "prefix");
  g_autofree char *header = g_match_info_fetch_named (match_info, "header");

  if (prefix != NULL && prefix[0] != '\0')
    g_string_append (result, prefix);
  else if (header != NULL)
    g_string_append (result, header);

  g_string_append (result, "[redacted]");

  return FALSE;
}

void
fd_log_register_secret (const char *secret)
{
  if (secret == NULL || strlen (secret) < 6)
    return;

  g_mutex_lock (&secrets_lock);

  if (secrets == NULL)
    secrets = g_ptr_array_new_with_free_func (g_free);

  if (!g_ptr_array_find_with_equal_func (secrets, secret, g_str_equal, NULL))
    g_ptr_array_add (secrets, g_strdup (secret));

  g_mutex_unlock (&secrets_lock);
}

static void
redact_known_secrets (GString *text)
{
  g_mutex_lock (&secrets_lock);

  for (guint i = 0; secrets != NULL && i < secrets->len; i++)
    g_string_replace (text, g_ptr_array_index (secrets, i), "[redacted]", 0);

  g_mutex_unlock (&secrets_lock);
}

char *
fd_log_redact (const char *text)
{
  g_autofree char *shaped = NULL;
  GString *redacted;

  if (text == NULL)
    return NULL;

  /* Shapes first, so a header keeps its scheme word ("Bearer"); then the secrets this
   * process knows, whatever their shape. */
  shaped = g_regex_replace_eval (get_token_regex (), text, -1, 0, 0,
                                 replace_token_cb, NULL, NULL);
  if (shaped == NULL)
    return g_strdup ("[redacted: unreadable log message]");

  redacted = g_string_new (shaped);
  redact_known_secrets (redacted);

  return g_string_free (redacted, FALSE);
}

static GLogWriterOutput
redacting_writer (GLogLevelFlags   log_level,
                  const GLogField *fields,
                  gsize            n_fields,
                  gpointer         user_data)
{
  g_autofree GLogField *copy = g_new (GLogField, n_fields);
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; i < n_fields; i++)
    {
      copy[i] = fields[i];

      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].value != NULL)
        {
          g_autofree char *plain = NULL;
          char *redacted;

          plain = fields[i].length < 0
            ? g_strdup (fields[i].value)
            : g_strndup (fields[i].value, fields[i].length);
          redacted = fd_log_redact (plain);
          g_ptr_array_add (owned, redacted);
          copy[i].value = redacted;
          copy[i].length = -1;
        }
    }

  return g_log_writer_default (log_level, copy, n_fields, user_data);
}

void
fd_log_init (void)
{
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      g_log_set_writer_func (redacting_writer, NULL, NULL);
      g_once_init_leave (&initialized, 1);
    }
}
