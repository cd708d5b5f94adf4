/* fd-paths.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A profile is a directory holding one store (frontdesk.db) and, later, docs and caches.
 * The default is $XDG_DATA_HOME/frontdesk; the demo profile is $XDG_DATA_HOME/frontdesk-demo. */
char     *fd_paths_default_profile (void);
char     *fd_paths_demo_profile    (void);
char     *fd_paths_store_file      (const char  *profile_dir);
/* Creates @profile_dir (mode 0700) and its parents. */
gboolean  fd_paths_ensure_profile  (const char  *profile_dir,
                                    GError     **error);

G_END_DECLS
