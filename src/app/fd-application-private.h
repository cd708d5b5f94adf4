/* fd-application-private.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "fd-application.h"

G_BEGIN_DECLS

/* For tests: use @profile_dir instead of the default profile. Call before the
 * application is registered; it also makes the application non-unique, as
 * --profile does. */
void _fd_application_set_profile_dir (FdApplication *self,
                                      const char    *profile_dir);

G_END_DECLS
