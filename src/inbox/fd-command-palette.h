/* fd-command-palette.h
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Ctrl+K: one entry, fuzzy-matched over every action, view, macro and recent
 * conversation. Enter activates the chosen item's action on the widget the palette was
 * opened for; Esc closes. */

typedef enum
{
  FD_PALETTE_ACTION,        /* "Resolve", "Snooze…" */
  FD_PALETTE_VIEW,          /* "My Open", a saved search */
  FD_PALETTE_MACRO,         /* inserts a macro into the composer */
  FD_PALETTE_CONVERSATION,  /* a recent conversation */
} FdPaletteKind;

#define FD_TYPE_PALETTE_ITEM (fd_palette_item_get_type ())
G_DECLARE_FINAL_TYPE (FdPaletteItem, fd_palette_item, FD, PALETTE_ITEM, GObject)

/* @target may be NULL or floating. @accel ("e", "<Control>k") may be NULL. */
FdPaletteItem *fd_palette_item_new           (FdPaletteKind  kind,
                                              const char    *title,
                                              const char    *subtitle,
                                              const char    *icon_name,
                                              const char    *action_name,
                                              GVariant      *target,
                                              const char    *accel);
FdPaletteKind  fd_palette_item_get_kind      (FdPaletteItem *self);
const char    *fd_palette_item_get_title     (FdPaletteItem *self);
const char    *fd_palette_item_get_subtitle  (FdPaletteItem *self);
const char    *fd_palette_item_get_icon_name (FdPaletteItem *self);
const char    *fd_palette_item_get_action_name (FdPaletteItem *self);
GVariant      *fd_palette_item_get_target    (FdPaletteItem *self);
const char    *fd_palette_item_get_accel     (FdPaletteItem *self);

#define FD_TYPE_COMMAND_PALETTE (fd_command_palette_get_type ())
G_DECLARE_FINAL_TYPE (FdCommandPalette, fd_command_palette, FD, COMMAND_PALETTE, AdwWindow)

/* A modal window over @parent's window; the caller presents it, and it destroys itself
 * when it closes. @items: a GListModel of FdPaletteItem, listed in its order while the
 * query is empty (so give them grouped), best match first otherwise. Actions run with
 * gtk_widget_activate_action_variant (@parent, …) after the palette closes. */
FdCommandPalette *fd_command_palette_new        (GtkWidget        *parent,
                                                 GListModel       *items);
/* For tests: type into the entry, read what is listed. */
GtkEditable      *_fd_command_palette_get_entry  (FdCommandPalette *self);
GListModel       *_fd_command_palette_get_results (FdCommandPalette *self);

G_END_DECLS
