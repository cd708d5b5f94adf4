/* fd-paths.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-paths"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "fd-paths.h"

char *
fd_paths_default_profile (void)
{
  return g_build_filename (g_get_user_data_dir (), "frontdesk", NULL);
}

char *
fd_paths_demo_profile (void)
{
  return g_build_filename (g_get_user_data_dir (), "frontdesk-demo", NULL);
}

char *
fd_paths_store_file (const char *profile_dir)
{
  g_return_val_if_fail (profile_dir != NULL, NULL);

  return g_build_filename (profile_dir, "frontdesk.db", NULL);
}

gboolean
fd_paths_ensure_profile (const char  *profile_dir,
                         GError     **error)
{
  int saved_errno;

  g_return_val_if_fail (profile_dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_mkdir_with_parents (profile_dir, 0700) == 0)
    return TRUE;

  saved_errno = errno;
  g_set_error (error,
               G_IO_ERROR,
               g_io_error_from_errno (saved_errno),
               _("Frontdesk could not create its profile folder “%s” (%s). "
                 "Check that the disk is not full and that you may write there."),
               profile_dir, g_strerror (saved_errno));
  return FALSE;
}
