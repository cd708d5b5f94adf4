/* fd-sla-page.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "fd-store.h"

G_BEGIN_DECLS

#define FD_TYPE_SLA_PAGE (fd_sla_page_get_type ())
G_DECLARE_FINAL_TYPE (FdSlaPage, fd_sla_page, FD, SLA_PAGE, AdwPreferencesPage)

/* Preferences → SLA: business hours, holidays and the targets of every plan. It loads
 * from the store once one is set and saves on its Save button. */
GtkWidget *fd_sla_page_new       (void);
FdStore   *fd_sla_page_get_store (FdSlaPage *self);
void       fd_sla_page_set_store (FdSlaPage *self,
                                  FdStore   *store);
/* TRUE while loading or saving; notified as "busy". */
gboolean   fd_sla_page_get_busy  (FdSlaPage *self);

G_END_DECLS
