/* fd-inbox-page.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-inbox-page"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-conversation-row.h"
#include "fd-inbox-page.h"
#include "fd-outbox.h"
#include "fd-window.h"

/* How long the list may be loading before a spinner replaces it. */
#define SPINNER_DELAY_MS 300
/* Typing searches once the agent pauses this long. */
#define SEARCH_DELAY_MS 150
/* Following the selection with the conversation view waits this long, so holding j
 * does not load every conversation it passes. */
#define OPEN_DELAY_MS 60
/* After an action, the list is read again; if that does not finish in time the cursor
 * is put back anyway. */
#define RESTORE_TIMEOUT_MS 3000
#define MAX_RECENT 10
/* Bulk actions touch at most this many conversations at once. */
#define MAX_BULK 500

typedef enum
{
  OP_STATUS,
  OP_ASSIGN,
  OP_TAG,
  OP_UNTAG,
  OP_PRIORITY,
} OpKind;

/* One change to one conversation: what triage applies, and what undo applies back. */
typedef struct
{
  OpKind  kind;
  gint64  conversation_id;
  char   *status;
  gint64  snoozed_until;
  gint64  assignee_id;
  char   *tag;
  char   *priority;
} TriageOp;

/* A conversation a triage action applies to, with the values it had before. */
typedef struct
{
  gint64  id;
  char   *subject;
  char   *status;
  gint64  snoozed_until;
  gint64  assignee_id;
  char   *priority;
  GStrv   tags;
} Target;

/* Where the cursor goes once the list has been read again after an action. */
typedef struct
{
  gboolean active;
  gint64   ids[3];
  guint    fallback_position;
  gboolean focus_list;
  gboolean open;
  guint    timeout_id;
} PendingCursor;

struct _FdInboxPage
{
  GtkWidget            parent_instance;

  FdStore             *store;
  FdConversationList  *list;
  GtkMultiSelection   *selection;
  GCancellable        *cancellable;

  /* What the list shows: a view, a saved search, or a search typed in the entry. */
  FdInboxViewId        view;
  FdSavedSearch       *saved_search;
  FdSearchQuery       *search_query;
  char                *search_text;
  gboolean             ignore_search_changes;
  guint                cleared_source;
  char                *source_error;  /* a saved search that no longer parses */
  FdInboxSort          sort;
  gboolean             window_folded;

  GListStore          *recent;
  GPtrArray           *agents;        /* FdAgent */
  gint64               me_id;

  gint64               cursor_id;
  guint                cursor_position;
  gint64               open_id;
  guint                open_source;
  guint                spinner_source;
  gboolean             spinner_due;
  PendingCursor        pending;

  GPtrArray           *undo_ops;      /* TriageOp: the last action, backwards */
  char                *undo_title;

  /* Template widgets */
  AdwLeaflet          *leaflet;
  AdwHeaderBar        *list_header;
  AdwWindowTitle      *list_title;
  GtkWidget           *sidebar_button;
  GtkWidget           *search_button;
  GtkSearchBar        *search_bar;
  GtkSearchEntry      *search_entry;
  GtkLabel            *search_error_label;
  GtkWidget           *error_box;
  GtkLabel            *error_label;
  GtkStack            *list_stack;
  GtkGridView         *list_view;   /* one column: see fd-inbox-page.ui */
  GtkWidget           *list_pane;
  GtkWidget           *detail_pane;
  AdwStatusPage       *empty_page;
  GtkSpinner          *loading_spinner;
  AdwHeaderBar        *detail_header;
  AdwWindowTitle      *detail_title;
  GtkWidget           *detail_back_button;
  GtkWidget           *snooze_button;
  GtkWidget           *tag_button;
  GtkWidget           *assign_button;
  GtkWidget           *triage_button;
  GtkWidget           *more_button;
  GtkWidget           *resolve_button;
  GtkWidget           *resolve_icon_button;
  FdConversationView  *conversation_view;
  GtkPopover          *snooze_popover;
  GtkWidget           *later_today_button;
  GtkWidget           *tomorrow_button;
  GtkWidget           *next_week_button;
  GtkLabel            *later_today_label;
  GtkLabel            *tomorrow_label;
  GtkLabel            *next_week_label;
  GtkCalendar         *snooze_calendar;
  GtkSpinButton       *snooze_hour;
  GtkSpinButton       *snooze_minute;
  GtkPopover          *tag_popover;
  GtkEntry            *tag_entry;
  GtkWidget           *tags_empty_label;
  GtkListBox          *tag_list;
  GtkListStore        *tag_model;
  GMenu               *assign_menu;
  GMenu               *priority_menu;
  GMenu               *status_menu;
  GMenu               *triage_menu;
  GMenu               *bulk_assign_section;
  GMenu               *bulk_status_section;
  GMenu               *bulk_priority_section;
  GMenu               *more_assign_section;
  GMenu               *more_status_section;
  GMenu               *more_priority_section;
};

G_DEFINE_FINAL_TYPE (FdInboxPage, fd_inbox_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_WINDOW_FOLDED,
  PROP_SORT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CHANGED,
  BACK,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const struct
{
  const char *title;
  const char *description;
} empty_states[FD_INBOX_N_VIEWS] = {
  [FD_INBOX_VIEW_MY_OPEN] = {
    N_("No open conversations assigned to you"),
    N_("Conversations you take on from Unassigned show up here."),
  },
  [FD_INBOX_VIEW_UNASSIGNED] = {
    N_("Nothing is waiting for an owner"),
    N_("Every open conversation is assigned to someone."),
  },
  [FD_INBOX_VIEW_ALL_OPEN] = {
    N_("No open conversations"),
    N_("New conversations from email, chat, Slack and the community show up here."),
  },
  [FD_INBOX_VIEW_ENTERPRISE] = {
    N_("No open Enterprise conversations"),
    N_("Conversations from Enterprise organisations show up here."),
  },
  [FD_INBOX_VIEW_BILLING] = {
    N_("No open billing conversations"),
    N_("Conversations tagged billing show up here."),
  },
  [FD_INBOX_VIEW_SLA_AT_RISK] = {
    N_("Nothing is at risk"),
    N_("Every open conversation is on track for its SLA."),
  },
  [FD_INBOX_VIEW_SNOOZED] = {
    N_("No snoozed conversations"),
    N_("Snooze a conversation with S to set it aside until a time you choose."),
  },
  [FD_INBOX_VIEW_RESOLVED] = {
    N_("No resolved conversations"),
    N_("Conversations you resolve with E show up here."),
  },
};

/* Single keys and their actions. They never fire while the agent types: see
 * shortcut_cb. */
static const struct
{
  guint            keyval;
  GdkModifierType  modifiers;
  const char      *action;
} shortcuts[] = {
  { GDK_KEY_j,         0,                "inbox.next" },
  { GDK_KEY_k,         0,                "inbox.previous" },
  { GDK_KEY_Return,    0,                "inbox.open" },
  { GDK_KEY_KP_Enter,  0,                "inbox.open" },
  { GDK_KEY_e,         0,                "inbox.resolve" },
  { GDK_KEY_s,         0,                "inbox.snooze" },
  { GDK_KEY_a,         0,                "inbox.assign-to-me" },
  { GDK_KEY_t,         0,                "inbox.tag" },
  { GDK_KEY_r,         0,                "inbox.reply" },
  { GDK_KEY_n,         0,                "inbox.note" },
  { GDK_KEY_slash,     0,                "inbox.search" },
  { GDK_KEY_KP_Divide, 0,                "inbox.search" },
  { GDK_KEY_f,         GDK_CONTROL_MASK, "inbox.search" },
  { GDK_KEY_Escape,    0,                "inbox.back" },
};

static void fd_inbox_page_update_actions     (FdInboxPage *self);
static void fd_inbox_page_update_list_state  (FdInboxPage *self);
static void fd_inbox_page_update_detail_title (FdInboxPage *self);
static void fd_inbox_page_leave_search       (FdInboxPage *self,
                                              gboolean     restore);
static void fd_inbox_page_show_source        (FdInboxPage *self);
static void fd_inbox_page_focus_position     (FdInboxPage *self,
                                              guint        position);
static void fd_inbox_page_apply_pending      (FdInboxPage *self);

/* {{{ Small helpers */

static void
triage_op_free (TriageOp *op)
{
  if (op == NULL)
    return;

  g_free (op->status);
  g_free (op->tag);
  g_free (op->priority);
  g_free (op);
}

static TriageOp *
triage_op_new (OpKind kind,
               gint64 conversation_id)
{
  TriageOp *op = g_new0 (TriageOp, 1);

  op->kind = kind;
  op->conversation_id = conversation_id;

  return op;
}

static void
target_free (Target *target)
{
  g_free (target->subject);
  g_free (target->status);
  g_free (target->priority);
  g_strfreev (target->tags);
  g_free (target);
}

static gboolean
target_has_tag (const Target *target,
                const char   *tag)
{
  for (guint i = 0; target->tags != NULL && target->tags[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (target->tags[i], tag) == 0)
        return TRUE;
    }

  return FALSE;
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static guint
n_items (FdInboxPage *self)
{
  return self->list != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->list)) : 0;
}

static FdConversationSummary *
get_summary (FdInboxPage *self,
             guint        position)
{
  if (self->list == NULL || position >= n_items (self))
    return NULL;

  return g_list_model_get_item (G_LIST_MODEL (self->list), position);
}

/* A search typed in the entry (a saved search is a source like a view). */
static gboolean
is_searching (FdInboxPage *self)
{
  return self->search_text != NULL;
}

/* Searches sort by best match unless the agent asked for the newest first; a query
 * of filters only has no match to rank. */
static FdSearchOrder
search_order (FdInboxPage         *self,
              const FdSearchQuery *query)
{
  if (self->sort == FD_INBOX_SORT_NEWEST || query == NULL || !fd_search_query_has_text (query))
    return FD_SEARCH_ORDER_NEWEST;

  return FD_SEARCH_ORDER_BEST;
}


static void
fd_inbox_page_toast (FdInboxPage *self,
                     const char  *title,
                     const char  *undo_action)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (FD_IS_WINDOW (root))
    fd_window_add_toast (FD_WINDOW (root), title, undo_action);
  else
    g_debug ("%s", title);
}

static gboolean
focus_is_within (GtkWidget *ancestor)
{
  GtkRoot *root = gtk_widget_get_root (ancestor);
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  return focus != NULL && (focus == ancestor || gtk_widget_is_ancestor (focus, ancestor));
}

/* }}} */
/* {{{ Agents and tags, read on the store's thread */

static gboolean
load_tags_job (sqlite3   *db,
               gpointer   job_data,
               gpointer  *result,
               GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  int rc;

  stmt = fd_store_prepare (db, "SELECT name FROM tags ORDER BY name COLLATE NOCASE", error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (builder, (const char *) sqlite3_column_text (stmt, 0));

  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);

  *result = g_strv_builder_end (builder);

  return TRUE;
}

static void
fd_inbox_page_rebuild_assign_menu (FdInboxPage *self)
{
  g_autoptr(GMenu) section = g_menu_new ();

  /* Item 0 is the fixed section (me, nobody); the teammates follow it. */
  while (g_menu_model_get_n_items (G_MENU_MODEL (self->assign_menu)) > 1)
    g_menu_remove (self->assign_menu, 1);

  for (guint i = 0; self->agents != NULL && i < self->agents->len; i++)
    {
      const FdAgent *agent = g_ptr_array_index (self->agents, i);
      g_autoptr(GMenuItem) item = NULL;

      if (agent->is_me)
        continue;

      item = g_menu_item_new (agent->name, NULL);
      g_menu_item_set_action_and_target_value (item, "inbox.assign",
                                               g_variant_new_int64 (agent->id));
      g_menu_append_item (section, item);
    }

  if (g_menu_model_get_n_items (G_MENU_MODEL (section)) > 0)
    g_menu_append_section (self->assign_menu, _("Teammates"), G_MENU_MODEL (section));
}

static void
load_agents_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(FdInboxPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) agents = NULL;

  gint64 me_id = 0;

  agents = fd_inbox_list_agents_finish (FD_STORE (object), result, &me_id, &error);
  if (agents == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not list agents: %s", error->message);
      return;
    }

  g_clear_pointer (&self->agents, g_ptr_array_unref);
  self->agents = g_steal_pointer (&agents);
  self->me_id = me_id;

  fd_inbox_page_rebuild_assign_menu (self);
  fd_inbox_page_update_actions (self);
}

static void
fd_inbox_page_load_agents (FdInboxPage *self)
{
  if (self->store == NULL)
    return;

  fd_inbox_list_agents_async (self->store, self->cancellable, load_agents_cb,
                              g_object_ref (self));
}

static void
load_tags_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(FdInboxPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) tags = NULL;

  tags = fd_store_run_finish (FD_STORE (object), result, &error);
  if (tags == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not list tags: %s", error->message);
      return;
    }

  gtk_list_store_clear (self->tag_model);
  for (guint i = 0; tags[i] != NULL; i++)
    gtk_list_store_insert_with_values (self->tag_model, NULL, -1, 0, tags[i], -1);
}

/* }}} */
/* {{{ The list: state, cursor and focus */

static void
fd_inbox_page_update_title (FdInboxPage *self)
{
  g_autofree char *subtitle = NULL;
  const char *title;
  guint n = n_items (self);

  if (is_searching (self))
    title = _("Search");
  else if (self->saved_search != NULL)
    title = fd_saved_search_get_name (self->saved_search);
  else
    title = fd_inbox_view_id_to_title (self->view);

  /* A search's matches are counted as they are read, so only views show a number. */
  if (is_searching (self))
    {
      subtitle = g_strdup (self->search_text);
    }
  else if (self->list != NULL && (n > 0 || !fd_conversation_list_get_loading (self->list)))
    {
      g_autofree char *number = g_strdup_printf ("%'u", n);

      /* Translators: %s is a number, already formatted. */
      subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s conversation",
                                               "%s conversations", n),
                                  number);
    }

  adw_window_title_set_title (self->list_title, title);
  adw_window_title_set_subtitle (self->list_title, subtitle);
}

static void
fd_inbox_page_update_empty_page (FdInboxPage *self)
{
  if (is_searching (self))
    {
      adw_status_page_set_icon_name (self->empty_page, "edit-find-symbolic");
      adw_status_page_set_title (self->empty_page, _("No results"));
      adw_status_page_set_description (self->empty_page,
                                       _("No conversation matches this search. Try other words or fewer filters."));
    }
  else if (self->saved_search != NULL)
    {
      g_autofree char *title = NULL;

      /* Translators: %s is the name of a saved search. */
      title = g_strdup_printf (_("Nothing matches “%s”"), fd_saved_search_get_name (self->saved_search));
      adw_status_page_set_icon_name (self->empty_page, "folder-saved-search-symbolic");
      adw_status_page_set_title (self->empty_page, title);
      adw_status_page_set_description (self->empty_page,
                                       _("Conversations that match this saved search show up here."));
    }
  else
    {
      adw_status_page_set_icon_name (self->empty_page, fd_inbox_view_id_to_icon (self->view));
      adw_status_page_set_title (self->empty_page, _(empty_states[self->view].title));
      adw_status_page_set_description (self->empty_page, _(empty_states[self->view].description));
    }
}

static void
fd_inbox_page_update_list_state (FdInboxPage *self)
{
  const char *error = NULL;
  const char *child;
  gboolean loading = FALSE;
  guint n = n_items (self);

  if (self->list != NULL)
    {
      loading = fd_conversation_list_get_loading (self->list);
      error = fd_conversation_list_get_error (self->list);
    }

  if (error == NULL)
    error = self->source_error;

  gtk_widget_set_visible (self->error_box, error != NULL);
  gtk_label_set_label (self->error_label, error != NULL ? error : "");

  if (n > 0)
    child = "list";
  else if (loading)
    child = self->spinner_due ? "loading" : "list";
  else if (error != NULL || self->list == NULL)
    child = "list";
  else
    child = "empty";

  if (g_str_equal (child, "empty"))
    fd_inbox_page_update_empty_page (self);

  gtk_spinner_set_spinning (self->loading_spinner, g_str_equal (child, "loading"));
  gtk_stack_set_visible_child_name (self->list_stack, child);

  fd_inbox_page_update_title (self);
}

static gboolean
spinner_due_cb (gpointer user_data)
{
  FdInboxPage *self = user_data;

  self->spinner_source = 0;
  self->spinner_due = TRUE;
  fd_inbox_page_update_list_state (self);

  return G_SOURCE_REMOVE;
}

static void
list_loading_cb (FdInboxPage        *self,
                 GParamSpec         *pspec,
                 FdConversationList *list)
{
  if (fd_conversation_list_get_loading (list))
    {
      if (self->spinner_source == 0 && !self->spinner_due)
        self->spinner_source = g_timeout_add (SPINNER_DELAY_MS, spinner_due_cb, self);
    }
  else
    {
      g_clear_handle_id (&self->spinner_source, g_source_remove);
      self->spinner_due = FALSE;
    }

  fd_inbox_page_update_list_state (self);
}

static void
list_error_cb (FdInboxPage        *self,
               GParamSpec         *pspec,
               FdConversationList *list)
{
  fd_inbox_page_update_list_state (self);
}

static void
list_items_changed_cb (FdInboxPage *self,
                       guint        position,
                       guint        removed,
                       guint        added,
                       GListModel  *model)
{
  if (self->cursor_id != 0)
    {
      guint found = fd_conversation_list_find (self->list, self->cursor_id);

      if (found != G_MAXUINT)
        self->cursor_position = found;
    }

  fd_inbox_page_update_list_state (self);
  fd_inbox_page_update_actions (self);

  if (self->pending.active)
    fd_inbox_page_apply_pending (self);
}

static guint
fd_inbox_page_get_cursor (FdInboxPage *self)
{
  guint n = n_items (self);

  if (n == 0)
    return G_MAXUINT;

  if (self->cursor_id != 0)
    {
      guint found = fd_conversation_list_find (self->list, self->cursor_id);

      if (found != G_MAXUINT)
        return found;
    }

  if (self->cursor_position < n)
    return self->cursor_position;

  return G_MAXUINT;
}

static void
fd_inbox_page_set_cursor (FdInboxPage *self,
                          guint        position)
{
  g_autoptr(FdConversationSummary) summary = get_summary (self, position);

  self->cursor_position = position;
  self->cursor_id = summary != NULL && fd_conversation_summary_get_loaded (summary)
    ? fd_conversation_summary_get_id (summary)
    : 0;
}

static FdConversationRow *
fd_inbox_page_find_row (FdInboxPage *self,
                        guint        position)
{
  /* The list view only has widgets for rows near the visible ones. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list_view));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = gtk_widget_get_first_child (child);
      GtkListItem *item;

      if (!FD_IS_CONVERSATION_ROW (row))
        continue;

      item = g_object_get_data (G_OBJECT (row), "fd-list-item");
      if (item != NULL && gtk_list_item_get_position (item) == position)
        return FD_CONVERSATION_ROW (row);
    }

  return NULL;
}

static void
fd_inbox_page_focus_position (FdInboxPage *self,
                              guint        position)
{
  FdConversationRow *row;

  if (position >= n_items (self))
    return;

  /* Scrolling makes the list create the row's widget; its parent is the list's own
   * item widget, which is what takes focus. */
  gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", position);

  row = fd_inbox_page_find_row (self, position);
  if (row != NULL)
    gtk_widget_grab_focus (gtk_widget_get_parent (GTK_WIDGET (row)));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
}

static void
fd_inbox_page_select_position (FdInboxPage *self,
                               guint        position,
                               gboolean     focus)
{
  if (position >= n_items (self))
    return;

  fd_inbox_page_set_cursor (self, position);
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), position, TRUE);

  if (focus)
    fd_inbox_page_focus_position (self, position);
}

static GtkBitset *
get_selection (FdInboxPage *self)
{
  if (self->selection == NULL)
    return gtk_bitset_new_empty ();

  return gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
}

/* }}} */
/* {{{ Opening conversations */

static void
fd_inbox_page_add_recent (FdInboxPage           *self,
                          FdConversationSummary *summary)
{
  gint64 id = fd_conversation_summary_get_id (summary);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->recent));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FdConversationSummary) other = g_list_model_get_item (G_LIST_MODEL (self->recent), i);

      if (fd_conversation_summary_get_id (other) == id)
        {
          g_list_store_remove (self->recent, i);
          break;
        }
    }

  g_list_store_insert (self->recent, 0, summary);

  while (g_list_model_get_n_items (G_LIST_MODEL (self->recent)) > MAX_RECENT)
    g_list_store_remove (self->recent, MAX_RECENT);
}

static void
fd_inbox_page_load_conversation (FdInboxPage *self,
                                 gint64       conversation_id)
{
  if (self->open_id == conversation_id &&
      fd_conversation_view_get_conversation_id (self->conversation_view) == conversation_id)
    return;

  self->open_id = conversation_id;
  fd_conversation_view_set_highlight (self->conversation_view,
                                      self->search_query != NULL
                                        ? fd_search_query_get_terms (self->search_query)
                                        : NULL);
  fd_conversation_view_load (self->conversation_view, conversation_id);

  fd_inbox_page_update_detail_title (self);
  fd_inbox_page_update_actions (self);
}

static gboolean
fd_inbox_page_open_position (FdInboxPage *self,
                             guint        position,
                             gboolean     navigate)
{
  g_autoptr(FdConversationSummary) summary = get_summary (self, position);

  if (summary == NULL || !fd_conversation_summary_get_loaded (summary))
    return FALSE;

  fd_inbox_page_add_recent (self, summary);
  fd_inbox_page_load_conversation (self, fd_conversation_summary_get_id (summary));

  /* In a narrow window the focus follows to the conversation, on its way back. */
  if (navigate && adw_leaflet_get_folded (self->leaflet))
    {
      adw_leaflet_set_visible_child_name (self->leaflet, "detail");
      gtk_widget_grab_focus (self->detail_back_button);
    }

  return TRUE;
}

static gboolean
open_selection_cb (gpointer user_data)
{
  FdInboxPage *self = user_data;
  g_autoptr(GtkBitset) selected = get_selection (self);

  self->open_source = 0;

  if (gtk_bitset_get_size (selected) == 1)
    fd_inbox_page_open_position (self, gtk_bitset_get_minimum (selected), FALSE);

  return G_SOURCE_REMOVE;
}

static void
selection_changed_cb (FdInboxPage       *self,
                      guint              position,
                      guint              n_changed,
                      GtkSelectionModel *model)
{
  g_autoptr(GtkBitset) selected = get_selection (self);

  if (gtk_bitset_get_size (selected) == 1)
    {
      guint only = gtk_bitset_get_minimum (selected);

      if (fd_inbox_page_get_cursor (self) != only)
        fd_inbox_page_set_cursor (self, only);

      /* Side by side, the conversation view follows the selection, so the buttons
       * above it always act on what it shows. */
      if (!adw_leaflet_get_folded (self->leaflet))
        {
          g_clear_handle_id (&self->open_source, g_source_remove);
          self->open_source = g_timeout_add (OPEN_DELAY_MS, open_selection_cb, self);
        }
    }

  fd_inbox_page_update_detail_title (self);
  fd_inbox_page_update_actions (self);
}

static void
list_activate_cb (FdInboxPage *self,
                  guint        position)
{
  fd_inbox_page_set_cursor (self, position);
  fd_inbox_page_open_position (self, position, TRUE);
}

static void
row_pressed_cb (GtkGestureClick *gesture,
                int              n_press,
                double           x,
                double           y,
                FdInboxPage     *self)
{
  GdkModifierType state;

  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));

  /* A plain click in a narrow window opens the conversation; with Ctrl or Shift it
   * only changes the selection. */
  if (n_press == 1 &&
      (state & (GDK_CONTROL_MASK | GDK_SHIFT_MASK)) == 0 &&
      adw_leaflet_get_folded (self->leaflet))
    {
      GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));
      GtkListItem *item = g_object_get_data (G_OBJECT (row), "fd-list-item");

      if (item != NULL)
        list_activate_cb (self, gtk_list_item_get_position (item));
    }
}

static void
factory_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  FdInboxPage              *self)
{
  GtkWidget *row = fd_conversation_row_new ();
  GtkGesture *gesture = gtk_gesture_click_new ();

  g_signal_connect_object (gesture, "pressed", G_CALLBACK (row_pressed_cb), self, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (gesture));

  g_object_set_data (G_OBJECT (row), "fd-list-item", item);
  gtk_list_item_set_child (item, row);
}

static void
factory_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 FdInboxPage              *self)
{
  fd_conversation_row_set_summary (FD_CONVERSATION_ROW (gtk_list_item_get_child (item)),
                                   gtk_list_item_get_item (item));
}

static void
factory_unbind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *item,
                   FdInboxPage              *self)
{
  fd_conversation_row_set_summary (FD_CONVERSATION_ROW (gtk_list_item_get_child (item)), NULL);
}

static void
factory_teardown_cb (GtkSignalListItemFactory *factory,
                     GtkListItem              *item,
                     FdInboxPage              *self)
{
  GtkWidget *row = gtk_list_item_get_child (item);

  if (row != NULL)
    g_object_set_data (G_OBJECT (row), "fd-list-item", NULL);
}

/* }}} */
/* {{{ After an action: where the cursor goes */

static gboolean
pending_timeout_cb (gpointer user_data)
{
  FdInboxPage *self = user_data;

  self->pending.timeout_id = 0;
  fd_inbox_page_apply_pending (self);

  return G_SOURCE_REMOVE;
}

static void
fd_inbox_page_clear_pending (FdInboxPage *self)
{
  g_clear_handle_id (&self->pending.timeout_id, g_source_remove);
  memset (&self->pending, 0, sizeof self->pending);
}

static void
fd_inbox_page_apply_pending (FdInboxPage *self)
{
  PendingCursor pending = self->pending;
  guint position = G_MAXUINT;
  gint64 id = 0;

  if (!pending.active)
    return;

  fd_inbox_page_clear_pending (self);

  for (guint i = 0; i < G_N_ELEMENTS (pending.ids) && position == G_MAXUINT; i++)
    {
      if (pending.ids[i] != 0)
        {
          position = fd_conversation_list_find (self->list, pending.ids[i]);
          id = pending.ids[i];
        }
    }

  if (position == G_MAXUINT && pending.fallback_position != G_MAXUINT && n_items (self) > 0)
    {
      g_autoptr(FdConversationSummary) summary = NULL;

      position = MIN (pending.fallback_position, n_items (self) - 1);
      summary = get_summary (self, position);
      id = summary != NULL && fd_conversation_summary_get_loaded (summary)
        ? fd_conversation_summary_get_id (summary) : 0;
    }

  if (position == G_MAXUINT)
    {
      /* The list is empty now: focus must still go somewhere sensible. */
      if (pending.focus_list && !focus_is_within (GTK_WIDGET (self)))
        gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
      return;
    }

  /* Side by side the view follows the new selection by itself. */
  fd_inbox_page_select_position (self, position, pending.focus_list);

  if (pending.open && id != 0 && id != self->open_id && adw_leaflet_get_folded (self->leaflet))
    fd_inbox_page_open_position (self, position, FALSE);
}

static void
fd_inbox_page_reload_after_change (FdInboxPage  *self,
                                   const gint64 *ids,
                                   guint         fallback_position,
                                   gboolean      focus_list,
                                   gboolean      open)
{
  fd_inbox_page_clear_pending (self);

  self->pending.active = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (self->pending.ids); i++)
    self->pending.ids[i] = ids != NULL ? ids[i] : 0;
  self->pending.fallback_position = fallback_position;
  self->pending.focus_list = focus_list;
  self->pending.open = open;
  self->pending.timeout_id = g_timeout_add (RESTORE_TIMEOUT_MS, pending_timeout_cb, self);

  /* A reload that changes rows emits one items-changed; one that changes none emits
   * nothing and the timeout puts the cursor back where it already is. */
  fd_conversation_list_reload (self->list);
}

/* }}} */
/* {{{ Triage */

/* The conversations an action applies to: the selected ones, or the one shown when
 * nothing is selected (opened from a notification, say). */
static GPtrArray *
fd_inbox_page_collect_targets (FdInboxPage  *self,
                               char        **refusal)
{
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func ((GDestroyNotify) target_free);
  g_autoptr(GtkBitset) selected = get_selection (self);
  GtkBitsetIter iter;
  guint position;

  if (gtk_bitset_get_size (selected) > MAX_BULK)
    {
      *refusal = g_strdup_printf (_("Changes apply to at most %d conversations at a time. Select fewer and try again."),
                                  MAX_BULK);
      return NULL;
    }

  for (gboolean valid = gtk_bitset_iter_init_first (&iter, selected, &position);
       valid;
       valid = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr(FdConversationSummary) summary = get_summary (self, position);
      Target *target;

      if (summary == NULL || !fd_conversation_summary_get_loaded (summary))
        continue;

      target = g_new0 (Target, 1);
      target->id = fd_conversation_summary_get_id (summary);
      target->subject = g_strdup (fd_conversation_summary_get_subject (summary));
      target->status = g_strdup (fd_conversation_summary_get_status (summary));
      target->snoozed_until = fd_conversation_summary_get_snoozed_until (summary);
      target->assignee_id = fd_conversation_summary_get_assignee_id (summary);
      target->priority = g_strdup (fd_conversation_summary_get_priority (summary));
      target->tags = g_strdupv ((char **) fd_conversation_summary_get_tags (summary));
      g_ptr_array_add (targets, target);
    }

  if (targets->len == 0 && self->open_id != 0)
    {
      const FdConversationDetail *detail = fd_conversation_view_get_detail (self->conversation_view);

      if (detail != NULL && detail->id == self->open_id)
        {
          Target *target = g_new0 (Target, 1);

          target->id = detail->id;
          target->subject = g_strdup (detail->subject);
          target->status = g_strdup (detail->status);
          target->snoozed_until = detail->snoozed_until;
          target->assignee_id = detail->assignee_id;
          target->priority = g_strdup (detail->priority);
          target->tags = g_strdupv (detail->tags);
          g_ptr_array_add (targets, target);
        }
    }

  return g_steal_pointer (&targets);
}

typedef struct
{
  FdInboxPage *self;
  GPtrArray   *ops;        /* TriageOp to apply */
  GPtrArray   *undo_ops;   /* TriageOp, filled as the changes succeed */
  guint        n_pending;
  guint        n_failed;
  GError      *error;
  char        *title;
  gboolean     is_undo;
  gint64       next_ids[3];
  guint        fallback_position;
  gboolean     focus_list;
  gboolean     affects_open;
} TriageBatch;

typedef struct
{
  TriageBatch *batch;
  TriageOp    *undo;       /* owned; NULL for a priority change (known once done) */
  gint64       conversation_id;
} TriageCall;

static void
triage_batch_free (TriageBatch *batch)
{
  g_clear_object (&batch->self);
  g_clear_pointer (&batch->ops, g_ptr_array_unref);
  g_clear_pointer (&batch->undo_ops, g_ptr_array_unref);
  g_clear_error (&batch->error);
  g_free (batch->title);
  g_free (batch);
}

static void
triage_batch_finish (TriageBatch *batch)
{
  FdInboxPage *self = batch->self;
  guint n_done = batch->ops->len - batch->n_failed;

  if (batch->n_failed > 0)
    {
      g_autofree char *message = NULL;

      /* Translators: %u is a number of conversations, %s why (a full sentence). */
      message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "%u conversation could not be changed. %s",
                                              "%u conversations could not be changed. %s",
                                              batch->n_failed),
                                 batch->n_failed,
                                 batch->error != NULL ? batch->error->message : "");
      fd_inbox_page_toast (self, message, NULL);
    }

  if (n_done > 0)
    {
      if (!batch->is_undo)
        {
          g_clear_pointer (&self->undo_ops, g_ptr_array_unref);
          g_clear_pointer (&self->undo_title, g_free);
          self->undo_ops = g_steal_pointer (&batch->undo_ops);
          self->undo_title = g_strdup (batch->title);
          if (batch->n_failed == 0)
            fd_inbox_page_toast (self, batch->title, "inbox.undo");
        }
      else
        {
          fd_inbox_page_toast (self, batch->title, NULL);
        }
    }

  if (self->list != NULL)
    fd_inbox_page_reload_after_change (self, batch->next_ids, batch->fallback_position,
                                       batch->focus_list || !focus_is_within (GTK_WIDGET (self)),
                                       batch->affects_open);

  if (batch->affects_open && self->open_id != 0)
    fd_conversation_view_reload (self->conversation_view);

  fd_inbox_page_update_actions (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
triage_call_done (TriageCall *call,
                  TriageOp   *undo,
                  GError     *error)
{
  TriageBatch *batch = call->batch;

  if (error != NULL)
    {
      batch->n_failed++;
      if (batch->error == NULL)
        batch->error = g_error_copy (error);
      g_clear_pointer (&undo, triage_op_free);
    }
  else if (undo != NULL)
    {
      /* Undo runs backwards, so that a tag added then removed ends where it began. */
      g_ptr_array_insert (batch->undo_ops, 0, undo);
    }

  g_clear_pointer (&call->undo, triage_op_free);
  g_free (call);

  if (--batch->n_pending == 0)
    {
      triage_batch_finish (batch);
      triage_batch_free (batch);
    }
}

static void
outbox_enqueued_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  TriageCall *call = user_data;
  g_autoptr(GError) error = NULL;

  fd_outbox_enqueue_finish (FD_STORE (object), result, &error);
  triage_call_done (call, error == NULL ? g_steal_pointer (&call->undo) : NULL, error);
}

static void
priority_set_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  TriageCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *previous = NULL;
  TriageOp *undo = NULL;

  previous = fd_inbox_set_priority_finish (FD_STORE (object), result, &error);
  if (previous != NULL)
    {
      undo = triage_op_new (OP_PRIORITY, call->conversation_id);
      undo->priority = g_steal_pointer (&previous);
    }

  triage_call_done (call, undo, error);
}

static void
fd_inbox_page_run_ops (FdInboxPage *self,
                       GPtrArray   *ops,
                       GPtrArray   *undo_ops,
                       const char  *title,
                       gboolean     is_undo)
{
  g_autoptr(GtkBitset) selected = get_selection (self);
  g_autoptr(GHashTable) affected = g_hash_table_new (g_int64_hash, g_int64_equal);
  TriageBatch *batch;
  guint first = G_MAXUINT;
  guint last = 0;
  guint cursor;
  guint n = n_items (self);

  g_assert (ops->len == undo_ops->len);

  if (ops->len == 0)
    return;

  batch = g_new0 (TriageBatch, 1);
  batch->self = g_object_ref (self);
  batch->ops = g_ptr_array_ref (ops);
  batch->undo_ops = g_ptr_array_new_with_free_func ((GDestroyNotify) triage_op_free);
  batch->title = g_strdup (title);
  batch->is_undo = is_undo;
  batch->focus_list = focus_is_within (GTK_WIDGET (self->list_view));

  for (guint i = 0; i < ops->len; i++)
    {
      TriageOp *op = g_ptr_array_index (ops, i);

      g_hash_table_add (affected, &op->conversation_id);
      if (op->conversation_id == self->open_id)
        batch->affects_open = TRUE;
    }

  /* The cursor stays where it is if its conversation is still listed afterwards;
   * otherwise it moves to the next one that was not changed, or the one before. */
  cursor = fd_inbox_page_get_cursor (self);
  if (!gtk_bitset_is_empty (selected))
    {
      first = gtk_bitset_get_minimum (selected);
      last = gtk_bitset_get_maximum (selected);
    }
  else if (cursor != G_MAXUINT)
    {
      first = last = cursor;
    }

  batch->next_ids[0] = self->cursor_id;
  batch->fallback_position = first;
  if (first != G_MAXUINT)
    {
      for (guint pos = last + 1; pos < n && batch->next_ids[1] == 0; pos++)
        {
          g_autoptr(FdConversationSummary) summary = get_summary (self, pos);
          gint64 id;

          if (summary == NULL || !fd_conversation_summary_get_loaded (summary))
            break;
          id = fd_conversation_summary_get_id (summary);
          if (!g_hash_table_contains (affected, &id))
            batch->next_ids[1] = id;
        }

      for (guint pos = first; pos > 0 && batch->next_ids[2] == 0; pos--)
        {
          g_autoptr(FdConversationSummary) summary = get_summary (self, pos - 1);
          gint64 id;

          if (summary == NULL || !fd_conversation_summary_get_loaded (summary))
            break;
          id = fd_conversation_summary_get_id (summary);
          if (!g_hash_table_contains (affected, &id))
            batch->next_ids[2] = id;
        }
    }

  batch->n_pending = ops->len;

  for (guint i = 0; i < ops->len; i++)
    {
      TriageOp *op = g_ptr_array_index (ops, i);
      TriageCall *call = g_new0 (TriageCall, 1);
      TriageOp *undo = g_ptr_array_index (undo_ops, i);

      call->batch = batch;
      call->conversation_id = op->conversation_id;

      if (op->kind == OP_PRIORITY)
        {
          fd_inbox_set_priority_async (self->store, op->conversation_id, op->priority,
                                       NULL, priority_set_cb, call);
        }
      else
        {
          FdOutboxRequest *request = g_new0 (FdOutboxRequest, 1);

          request->conversation_id = op->conversation_id;
          switch (op->kind)
            {
            case OP_STATUS:
              request->kind = FD_OUTBOX_STATUS;
              request->status = g_strdup (op->status);
              request->snoozed_until = op->snoozed_until;
              break;

            case OP_ASSIGN:
              request->kind = FD_OUTBOX_ASSIGN;
              request->assignee_id = op->assignee_id;
              break;

            case OP_TAG:
              request->kind = FD_OUTBOX_TAG;
              request->tag = g_strdup (op->tag);
              break;

            case OP_UNTAG:
              request->kind = FD_OUTBOX_UNTAG;
              request->tag = g_strdup (op->tag);
              break;

            case OP_PRIORITY:
            default:
              g_assert_not_reached ();
            }

          /* The undo entry is taken over by the call. */
          call->undo = undo;
          g_ptr_array_index (undo_ops, i) = NULL;
          fd_outbox_enqueue_async (self->store, request, NULL, outbox_enqueued_cb, call);
        }
    }
}

typedef char *(*TitleFunc) (const Target *first,
                            guint         n,
                            gconstpointer data);

/* Builds one change per target that needs it (a conversation already resolved is not
 * resolved again), with its undo, and runs them. */
static void
fd_inbox_page_triage (FdInboxPage *self,
                      OpKind       kind,
                      const char  *status,
                      gint64       snoozed_until,
                      gint64       assignee_id,
                      const char  *tag,
                      const char  *priority,
                      TitleFunc    title_func,
                      gconstpointer title_data)
{
  g_autoptr(GPtrArray) targets = NULL;
  g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) triage_op_free);
  g_autoptr(GPtrArray) undo_ops = g_ptr_array_new_with_free_func ((GDestroyNotify) triage_op_free);
  g_autofree char *refusal = NULL;
  g_autofree char *title = NULL;
  const Target *first = NULL;

  if (self->store == NULL)
    return;

  targets = fd_inbox_page_collect_targets (self, &refusal);
  if (targets == NULL)
    {
      fd_inbox_page_toast (self, refusal, NULL);
      return;
    }

  for (guint i = 0; i < targets->len; i++)
    {
      const Target *target = g_ptr_array_index (targets, i);
      TriageOp *op;
      TriageOp *undo = NULL;

      switch (kind)
        {
        case OP_STATUS:
          if (g_strcmp0 (target->status, status) == 0 &&
              (!g_str_equal (status, "snoozed") || target->snoozed_until == snoozed_until))
            continue;
          op = triage_op_new (OP_STATUS, target->id);
          op->status = g_strdup (status);
          op->snoozed_until = snoozed_until;
          undo = triage_op_new (OP_STATUS, target->id);
          /* A snooze whose time was lost cannot be restored as one; open is closest. */
          if (g_strcmp0 (target->status, "snoozed") == 0 && target->snoozed_until <= 0)
            undo->status = g_strdup ("open");
          else
            undo->status = g_strdup (target->status != NULL ? target->status : "open");
          undo->snoozed_until = target->snoozed_until;
          break;

        case OP_ASSIGN:
          if (target->assignee_id == assignee_id)
            continue;
          op = triage_op_new (OP_ASSIGN, target->id);
          op->assignee_id = assignee_id;
          undo = triage_op_new (OP_ASSIGN, target->id);
          undo->assignee_id = target->assignee_id;
          break;

        case OP_TAG:
          if (target_has_tag (target, tag))
            continue;
          op = triage_op_new (OP_TAG, target->id);
          op->tag = g_strdup (tag);
          undo = triage_op_new (OP_UNTAG, target->id);
          undo->tag = g_strdup (tag);
          break;

        case OP_UNTAG:
          if (!target_has_tag (target, tag))
            continue;
          op = triage_op_new (OP_UNTAG, target->id);
          op->tag = g_strdup (tag);
          undo = triage_op_new (OP_TAG, target->id);
          undo->tag = g_strdup (tag);
          break;

        case OP_PRIORITY:
          if (g_strcmp0 (target->priority, priority) == 0)
            continue;
          op = triage_op_new (OP_PRIORITY, target->id);
          op->priority = g_strdup (priority);
          /* The previous priority comes back from the store. */
          undo = NULL;
          break;

        default:
          g_assert_not_reached ();
        }

      if (first == NULL)
        first = target;
      g_ptr_array_add (ops, op);
      g_ptr_array_add (undo_ops, undo);
    }

  if (ops->len == 0)
    {
      if (targets->len > 0)
        fd_inbox_page_toast (self, _("Nothing to change: the conversation already is that way"), NULL);
      return;
    }

  title = title_func (first, ops->len, title_data);
  fd_inbox_page_run_ops (self, ops, undo_ops, title, FALSE);
}

static char *
subject_or_placeholder (const Target *target)
{
  if (target->subject == NULL || target->subject[0] == '\0')
    return g_strdup (_("(No subject)"));

  return g_strdup (target->subject);
}

static char *
status_toast_title (const Target  *first,
                    guint          n,
                    gconstpointer  data)
{
  const char *status = data;
  g_autofree char *subject = subject_or_placeholder (first);

  if (g_str_equal (status, "resolved"))
    return n == 1
      /* Translators: a toast; %s is the conversation's subject. */
      ? g_strdup_printf (_("Resolved “%s”"), subject)
      : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Resolved %u conversation",
                                      "Resolved %u conversations", n), n);

  if (g_str_equal (status, "open"))
    return n == 1
      ? g_strdup_printf (_("Reopened “%s”"), subject)
      : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Reopened %u conversation",
                                      "Reopened %u conversations", n), n);

  if (g_str_equal (status, "pending"))
    return n == 1
      ? g_strdup_printf (_("Marked “%s” as pending"), subject)
      : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Marked %u conversation as pending",
                                      "Marked %u conversations as pending", n), n);

  return n == 1
    ? g_strdup_printf (_("Snoozed “%s”"), subject)
    : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Snoozed %u conversation",
                                    "Snoozed %u conversations", n), n);
}

static const char *
agent_name (FdInboxPage *self,
            gint64       id)
{
  for (guint i = 0; self->agents != NULL && i < self->agents->len; i++)
    {
      const FdAgent *agent = g_ptr_array_index (self->agents, i);

      if (agent->id == id)
        return agent->name;
    }

  return NULL;
}

typedef struct
{
  FdInboxPage *self;
  gint64       assignee_id;
} AssignTitleData;

static char *
assign_toast_title (const Target  *first,
                    guint          n,
                    gconstpointer  data)
{
  const AssignTitleData *assign = data;
  g_autofree char *subject = subject_or_placeholder (first);
  const char *name;

  if (assign->assignee_id == 0)
    return n == 1
      ? g_strdup_printf (_("Unassigned “%s”"), subject)
      : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Unassigned %u conversation",
                                      "Unassigned %u conversations", n), n);

  if (assign->assignee_id == assign->self->me_id)
    return n == 1
      ? g_strdup_printf (_("Assigned “%s” to you"), subject)
      : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Assigned %u conversation to you",
                                      "Assigned %u conversations to you", n), n);

  name = agent_name (assign->self, assign->assignee_id);
  if (name == NULL)
    name = _("a teammate");

  return n == 1
    /* Translators: a toast; the first %s is a subject, the second a person. */
    ? g_strdup_printf (_("Assigned “%s” to %s"), subject, name)
    : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Assigned %u conversation to %s",
                                    "Assigned %u conversations to %s", n), n, name);
}

static char *
tag_toast_title (const Target  *first,
                 guint          n,
                 gconstpointer  data)
{
  const char *tag = data;
  g_autofree char *subject = subject_or_placeholder (first);

  return n == 1
    /* Translators: a toast; the first %s is a subject, the second a tag. */
    ? g_strdup_printf (_("Tagged “%s” with %s"), subject, tag)
    : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Tagged %u conversation with %s",
                                    "Tagged %u conversations with %s", n), n, tag);
}

static char *
untag_toast_title (const Target  *first,
                   guint          n,
                   gconstpointer  data)
{
  const char *tag = data;
  g_autofree char *subject = subject_or_placeholder (first);

  return n == 1
    /* Translators: a toast; the first %s is a tag, the second a subject. */
    ? g_strdup_printf (_("Removed the tag %s from “%s”"), tag, subject)
    : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Removed the tag %s from %u conversation",
                                    "Removed the tag %s from %u conversations", n), tag, n);
}

static char *
priority_toast_title (const Target  *first,
                      guint          n,
                      gconstpointer  data)
{
  const char *priority = fd_sla_priority_to_label (data);
  g_autofree char *subject = subject_or_placeholder (first);

  return n == 1
    /* Translators: a toast; the first %s is a subject, the second a priority. */
    ? g_strdup_printf (_("Set the priority of “%s” to %s"), subject, priority)
    : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Set the priority of %u conversation to %s",
                                    "Set the priority of %u conversations to %s", n), n, priority);
}

/* }}} */
/* {{{ Snooze times */

static GDateTime *
snooze_preset_time (const char *preset)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) day = NULL;

  if (g_strcmp0 (preset, "later-today") == 0)
    {
      g_autoptr(GDateTime) later = g_date_time_add_hours (now, 3);

      /* Three hours on, at the start of that hour. */
      return g_date_time_add_full (later, 0, 0, 0, 0,
                                   -g_date_time_get_minute (later),
                                   -g_date_time_get_seconds (later));
    }

  if (g_strcmp0 (preset, "tomorrow") == 0)
    day = g_date_time_add_days (now, 1);
  else if (g_strcmp0 (preset, "next-week") == 0)
    day = g_date_time_add_days (now, 8 - g_date_time_get_day_of_week (now));
  else
    return NULL;

  return g_date_time_new_local (g_date_time_get_year (day),
                                g_date_time_get_month (day),
                                g_date_time_get_day_of_month (day),
                                9, 0, 0);
}

static char *
format_snooze_time (GDateTime *time)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (g_date_time_get_year (now) == g_date_time_get_year (time) &&
      g_date_time_get_day_of_year (now) == g_date_time_get_day_of_year (time))
    return g_date_time_format (time, "%H:%M");

  /* Translators: a weekday and a time, see g_date_time_format() ("Mon 09:00"). */
  return g_date_time_format (time, _("%a %H:%M"));
}

static char *
snooze_toast_title (const Target  *first,
                    guint          n,
                    gconstpointer  data)
{
  const gint64 *until = data;
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (*until / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_local (utc);
  g_autofree char *when = format_snooze_time (local);
  g_autofree char *subject = subject_or_placeholder (first);

  return n == 1
    /* Translators: a toast; the first %s is a subject, the second a time ("Tue 09:00"). */
    ? g_strdup_printf (_("Snoozed “%s” until %s"), subject, when)
    : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Snoozed %u conversation until %s",
                                    "Snoozed %u conversations until %s", n), n, when);
}

static void
fd_inbox_page_snooze_until (FdInboxPage *self,
                            gint64       until_ms)
{
  fd_inbox_page_triage (self, OP_STATUS, "snoozed", until_ms, 0, NULL, NULL,
                        snooze_toast_title, &until_ms);
}

static void
fd_inbox_page_update_snooze_popover (FdInboxPage *self)
{
  const struct { const char *preset; GtkLabel *label; } presets[] = {
    { "later-today", self->later_today_label },
    { "tomorrow", self->tomorrow_label },
    { "next-week", self->next_week_label },
  };
  g_autoptr(GDateTime) tomorrow = snooze_preset_time ("tomorrow");

  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autoptr(GDateTime) time = snooze_preset_time (presets[i].preset);
      g_autofree char *text = format_snooze_time (time);

      gtk_label_set_label (presets[i].label, text);
    }

  gtk_calendar_select_day (self->snooze_calendar, tomorrow);
  gtk_spin_button_set_value (self->snooze_hour, 9);
  gtk_spin_button_set_value (self->snooze_minute, 0);
}

static gboolean
spin_output_cb (GtkSpinButton *spin,
                gpointer       user_data)
{
  g_autofree char *text = NULL;

  text = g_strdup_printf ("%02d", gtk_spin_button_get_value_as_int (spin));
  gtk_editable_set_text (GTK_EDITABLE (spin), text);

  return TRUE;
}

static void
snooze_custom_cb (FdInboxPage *self)
{
  g_autoptr(GDateTime) day = gtk_calendar_get_date (self->snooze_calendar);
  g_autoptr(GDateTime) time = NULL;
  gint64 until;

  time = g_date_time_new_local (g_date_time_get_year (day),
                                g_date_time_get_month (day),
                                g_date_time_get_day_of_month (day),
                                gtk_spin_button_get_value_as_int (self->snooze_hour),
                                gtk_spin_button_get_value_as_int (self->snooze_minute),
                                0);
  until = g_date_time_to_unix (time) * 1000;

  if (until <= now_ms ())
    {
      fd_inbox_page_toast (self, _("That time has passed. Choose a later one to snooze until."), NULL);
      return;
    }

  gtk_popover_popdown (self->snooze_popover);
  fd_inbox_page_snooze_until (self, until);
}

/* A popover opens beside its button in the conversation's header (or the menu that
 * holds it in a narrow window), or, when only the list is visible, points at the row it
 * acts on. It hangs off one of the two panes: boxes lay out only their real children. */
static void
fd_inbox_page_popup (FdInboxPage *self,
                     GtkPopover  *popover,
                     GtkWidget   *button)
{
  GtkWidget *anchor;
  GtkWidget *target = NULL;
  GdkRectangle rect = { 0, 0, 0, 0 };
  gboolean have_rect = FALSE;
  graphene_rect_t bounds;

  if (gtk_widget_get_mapped (button))
    {
      anchor = self->detail_pane;
      target = button;
    }
  else if (gtk_widget_get_mapped (self->more_button))
    {
      anchor = self->detail_pane;
      target = self->more_button;
    }
  else
    {
      guint cursor = fd_inbox_page_get_cursor (self);

      anchor = self->list_pane;
      if (cursor != G_MAXUINT)
        target = GTK_WIDGET (fd_inbox_page_find_row (self, cursor));
    }

  if (target != NULL && gtk_widget_compute_bounds (target, anchor, &bounds))
    {
      rect.x = bounds.origin.x;
      rect.y = bounds.origin.y;
      rect.width = bounds.size.width;
      rect.height = bounds.size.height;
      have_rect = TRUE;
    }

  if (gtk_widget_get_parent (GTK_WIDGET (popover)) != anchor)
    {
      if (gtk_widget_get_parent (GTK_WIDGET (popover)) != NULL)
        gtk_widget_unparent (GTK_WIDGET (popover));
      gtk_widget_set_parent (GTK_WIDGET (popover), anchor);
    }

  gtk_popover_set_pointing_to (popover, have_rect ? &rect : NULL);

  if (gtk_widget_get_mapped (anchor))
    gtk_popover_popup (popover);
}

/* }}} */
/* {{{ Tags */

static void
fd_inbox_page_add_tag_row (FdInboxPage *self,
                           const char  *tag)
{
  GtkWidget *row;
  GtkWidget *button;
  g_autofree char *tooltip = NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->tag_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      const char *name = g_object_get_data (G_OBJECT (child), "fd-tag");

      if (name != NULL && g_ascii_strcasecmp (name, tag) == 0)
        return;
    }

  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), tag);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  g_object_set_data_full (G_OBJECT (row), "fd-tag", g_strdup (tag), g_free);

  /* Translators: %s is a tag. */
  tooltip = g_strdup_printf (_("Remove the tag %s"), tag);
  button = gtk_button_new_from_icon_name ("window-close-symbolic");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip,
                                  -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "inbox.remove-tag");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (tag));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  gtk_list_box_append (self->tag_list, row);
  gtk_widget_set_visible (GTK_WIDGET (self->tag_list), TRUE);
  gtk_widget_set_visible (self->tags_empty_label, FALSE);
}

static void
fd_inbox_page_remove_tag_row (FdInboxPage *self,
                              const char  *tag)
{
  gboolean any = FALSE;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->tag_list));
       child != NULL;)
    {
      GtkWidget *next = gtk_widget_get_next_sibling (child);
      const char *name = g_object_get_data (G_OBJECT (child), "fd-tag");

      if (name != NULL && g_ascii_strcasecmp (name, tag) == 0)
        gtk_list_box_remove (self->tag_list, child);
      else
        any = TRUE;

      child = next;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->tag_list), any);
  gtk_widget_set_visible (self->tags_empty_label, !any);
}

static void
fd_inbox_page_fill_tag_popover (FdInboxPage *self)
{
  g_autoptr(GPtrArray) targets = NULL;
  g_autofree char *refusal = NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->tag_list))) != NULL)
    gtk_list_box_remove (self->tag_list, child);
  gtk_widget_set_visible (GTK_WIDGET (self->tag_list), FALSE);
  gtk_widget_set_visible (self->tags_empty_label, TRUE);

  targets = fd_inbox_page_collect_targets (self, &refusal);
  for (guint i = 0; targets != NULL && i < targets->len; i++)
    {
      const Target *target = g_ptr_array_index (targets, i);

      for (guint j = 0; target->tags != NULL && target->tags[j] != NULL; j++)
        fd_inbox_page_add_tag_row (self, target->tags[j]);
    }

  gtk_editable_set_text (GTK_EDITABLE (self->tag_entry), "");

  if (self->store != NULL)
    fd_store_run_async (self->store,
                        load_tags_job, NULL, NULL,
                        (GDestroyNotify) g_strfreev,
                        self->cancellable,
                        load_tags_cb,
                        g_object_ref (self));
}

static void
tag_entry_activate_cb (FdInboxPage *self)
{
  g_autofree char *tag = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->tag_entry))));

  if (tag[0] == '\0')
    return;

  gtk_widget_activate_action (GTK_WIDGET (self), "inbox.add-tag", "s", tag);
  gtk_editable_set_text (GTK_EDITABLE (self->tag_entry), "");
}

static void
tag_popover_closed_cb (FdInboxPage *self)
{
  /* Focus goes back to the list, never lost with the popover. */
  if (!focus_is_within (GTK_WIDGET (self)))
    {
      guint cursor = fd_inbox_page_get_cursor (self);

      if (cursor != G_MAXUINT)
        fd_inbox_page_focus_position (self, cursor);
    }
}

/* }}} */
/* {{{ Search */

static void
fd_inbox_page_show_source (FdInboxPage *self)
{
  if (self->list == NULL)
    return;

  g_clear_pointer (&self->search_query, fd_search_query_free);
  g_clear_pointer (&self->source_error, g_free);

  if (self->saved_search != NULL)
    {
      g_autoptr(GError) error = NULL;

      const char *text = fd_saved_search_get_query (self->saved_search);

      self->search_query = fd_search_query_parse (text, &error);
      if (self->search_query == NULL ||
          !fd_conversation_list_set_search (self->list, text, search_order (self, self->search_query), &error))
        self->source_error = g_strdup (error->message);
    }
  else
    {
      fd_conversation_list_set_view (self->list, self->view);
    }

  self->cursor_id = 0;
  self->cursor_position = G_MAXUINT;
  fd_inbox_page_update_list_state (self);
  fd_inbox_page_update_actions (self);
}

static void
fd_inbox_page_run_search (FdInboxPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FdSearchQuery) query = NULL;
  g_autofree char *text = NULL;

  text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))));

  if (text[0] == '\0')
    {
      gtk_widget_set_visible (GTK_WIDGET (self->search_error_label), FALSE);
      gtk_widget_remove_css_class (GTK_WIDGET (self->search_entry), "error");
      if (self->search_text != NULL)
        {
          g_clear_pointer (&self->search_text, g_free);
          fd_inbox_page_show_source (self);
        }
      return;
    }

  query = fd_search_query_parse (text, &error);
  if (query == NULL)
    {
      /* The results of the last query that worked stay; the message says what to
       * change, right under what was typed. */
      gtk_label_set_label (self->search_error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->search_error_label), TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self->search_entry), "error");
      return;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->search_error_label), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->search_entry), "error");

  if (g_strcmp0 (text, self->search_text) == 0)
    return;

  if (self->list != NULL &&
      !fd_conversation_list_set_search (self->list, text, search_order (self, query), &error))
    {
      gtk_label_set_label (self->search_error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->search_error_label), TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self->search_entry), "error");
      return;
    }

  g_free (self->search_text);
  self->search_text = g_steal_pointer (&text);
  g_clear_pointer (&self->search_query, fd_search_query_free);
  self->search_query = g_steal_pointer (&query);

  self->cursor_id = 0;
  self->cursor_position = G_MAXUINT;
  fd_inbox_page_update_list_state (self);
  fd_inbox_page_update_actions (self);
}

static gboolean
search_cleared_cb (gpointer user_data)
{
  FdInboxPage *self = user_data;

  self->cleared_source = 0;
  fd_inbox_page_run_search (self);

  return G_SOURCE_REMOVE;
}

static void
search_changed_cb (FdInboxPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  if (self->ignore_search_changes)
    return;

  g_clear_handle_id (&self->cleared_source, g_source_remove);

  /* The entry reports an empty text at once, also on its way to new text (typing over
   * a selection): only a pause with nothing typed goes back to the view. */
  if (text[0] == '\0')
    {
      self->cleared_source = g_timeout_add (SEARCH_DELAY_MS, search_cleared_cb, self);
      return;
    }

  fd_inbox_page_run_search (self);
}

static void
fd_inbox_page_leave_search (FdInboxPage *self,
                            gboolean     restore)
{
  gboolean was_searching = self->search_text != NULL;

  self->ignore_search_changes = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  self->ignore_search_changes = FALSE;
  g_clear_handle_id (&self->cleared_source, g_source_remove);

  gtk_widget_set_visible (GTK_WIDGET (self->search_error_label), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->search_entry), "error");
  g_clear_pointer (&self->search_text, g_free);

  if (gtk_search_bar_get_search_mode (self->search_bar))
    gtk_search_bar_set_search_mode (self->search_bar, FALSE);

  if (restore && was_searching)
    fd_inbox_page_show_source (self);
}

static void
search_mode_cb (FdInboxPage *self)
{
  if (gtk_search_bar_get_search_mode (self->search_bar))
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
      return;
    }

  if (self->search_text != NULL || gtk_widget_get_visible (GTK_WIDGET (self->search_error_label)))
    {
      guint cursor;

      fd_inbox_page_leave_search (self, TRUE);

      cursor = fd_inbox_page_get_cursor (self);
      gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
      if (cursor != G_MAXUINT)
        fd_inbox_page_focus_position (self, cursor);
    }
}

static void
search_stop_cb (FdInboxPage *self)
{
  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
}

static void
search_activate_cb (FdInboxPage *self)
{
  /* Enter searches at once and moves to the first result. */
  fd_inbox_page_run_search (self);

  if (self->search_text != NULL && n_items (self) > 0)
    fd_inbox_page_select_position (self, 0, TRUE);
}

/* }}} */
/* {{{ Actions */

static void
fd_inbox_page_update_actions (FdInboxPage *self)
{
  g_autoptr(GtkBitset) selected = get_selection (self);
  gboolean has_targets;
  gboolean has_rows = n_items (self) > 0;

  has_targets = self->store != NULL && (!gtk_bitset_is_empty (selected) || self->open_id != 0);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.next", has_rows);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.previous", has_rows);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.open", has_rows);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.select-all", has_rows);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.select-none", !gtk_bitset_is_empty (selected));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.resolve", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.snooze", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.snooze-preset", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.snooze-until", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.assign-to-me", has_targets && self->me_id != 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.assign", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.tag", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.add-tag", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.remove-tag", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.set-status", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.set-priority", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.reply", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.note", has_targets);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.undo", self->undo_ops != NULL && self->store != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "inbox.save-search",
                                 self->store != NULL && self->search_text != NULL);

  /* Menu buttons have no action of their own to follow. */
  gtk_widget_set_sensitive (self->assign_button, has_targets);
  gtk_widget_set_sensitive (self->triage_button, has_targets);
  gtk_widget_set_sensitive (self->more_button, has_targets);
}

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  guint cursor = fd_inbox_page_get_cursor (self);
  guint n = n_items (self);
  guint position;

  if (n == 0)
    return;

  if (g_str_equal (action_name, "inbox.next"))
    position = cursor == G_MAXUINT ? 0 : MIN (cursor + 1, n - 1);
  else
    position = cursor == G_MAXUINT ? 0 : (cursor > 0 ? cursor - 1 : 0);

  fd_inbox_page_select_position (self, position, TRUE);
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  guint cursor = fd_inbox_page_get_cursor (self);

  if (cursor == G_MAXUINT)
    cursor = 0;

  fd_inbox_page_select_position (self, cursor, FALSE);
  g_clear_handle_id (&self->open_source, g_source_remove);
  fd_inbox_page_open_position (self, cursor, TRUE);
}

static void
resolve_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  fd_inbox_page_triage (FD_INBOX_PAGE (widget), OP_STATUS, "resolved", 0, 0, NULL, NULL,
                        status_toast_title, "resolved");
}

static void
set_status_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  const char *status = g_variant_get_string (parameter, NULL);

  if (g_str_equal (status, "snoozed"))
    {
      gtk_widget_activate_action (widget, "inbox.snooze", NULL);
      return;
    }

  if (!g_str_equal (status, "open") && !g_str_equal (status, "pending") &&
      !g_str_equal (status, "resolved"))
    {
      g_warning ("There is no status called “%s”", status);
      return;
    }

  fd_inbox_page_triage (self, OP_STATUS, status, 0, 0, NULL, NULL, status_toast_title, status);
}

static void
snooze_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);

  fd_inbox_page_update_snooze_popover (self);
  fd_inbox_page_popup (self, self->snooze_popover, self->snooze_button);
}

static void
snooze_preset_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  g_autoptr(GDateTime) time = snooze_preset_time (g_variant_get_string (parameter, NULL));

  if (time == NULL)
    {
      g_warning ("There is no snooze time called “%s”", g_variant_get_string (parameter, NULL));
      return;
    }

  gtk_popover_popdown (self->snooze_popover);
  fd_inbox_page_snooze_until (self, g_date_time_to_unix (time) * 1000);
}

static void
snooze_until_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);

  gtk_popover_popdown (self->snooze_popover);
  fd_inbox_page_snooze_until (self, g_variant_get_int64 (parameter));
}

static void
assign_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  AssignTitleData data = { self, 0 };

  if (g_str_equal (action_name, "inbox.assign-to-me"))
    {
      if (self->me_id == 0)
        {
          fd_inbox_page_toast (self, _("Frontdesk does not know which agent you are yet. Sync an account first."), NULL);
          return;
        }
      data.assignee_id = self->me_id;
    }
  else
    {
      data.assignee_id = g_variant_get_int64 (parameter);
    }

  fd_inbox_page_triage (self, OP_ASSIGN, NULL, 0, data.assignee_id, NULL, NULL,
                        assign_toast_title, &data);
}

static void
tag_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);

  fd_inbox_page_fill_tag_popover (self);
  fd_inbox_page_popup (self, self->tag_popover, self->tag_button);
  gtk_widget_grab_focus (GTK_WIDGET (self->tag_entry));
}

static void
add_tag_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  g_autofree char *tag = g_strstrip (g_strdup (g_variant_get_string (parameter, NULL)));

  if (tag[0] == '\0')
    return;

  if (g_str_equal (action_name, "inbox.add-tag"))
    {
      fd_inbox_page_triage (self, OP_TAG, NULL, 0, 0, tag, NULL, tag_toast_title, tag);
      fd_inbox_page_add_tag_row (self, tag);
    }
  else
    {
      fd_inbox_page_triage (self, OP_UNTAG, NULL, 0, 0, tag, NULL, untag_toast_title, tag);
      fd_inbox_page_remove_tag_row (self, tag);
    }
}

static void
set_priority_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  const char *priority = g_variant_get_string (parameter, NULL);

  if (!g_str_equal (priority, "urgent") && !g_str_equal (priority, "high") &&
      !g_str_equal (priority, "normal") && !g_str_equal (priority, "low"))
    {
      g_warning ("There is no priority called “%s”", priority);
      return;
    }

  fd_inbox_page_triage (self, OP_PRIORITY, NULL, 0, 0, NULL, priority,
                        priority_toast_title, priority);
}

static void
undo_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(GPtrArray) undo_ops = NULL;
  g_autofree char *title = NULL;
  g_autofree char *undone = NULL;

  if (self->undo_ops == NULL || self->store == NULL)
    return;

  ops = g_steal_pointer (&self->undo_ops);
  title = g_steal_pointer (&self->undo_title);

  /* Undoing is not undone in turn; the array only matches the shape run_ops wants. */
  undo_ops = g_ptr_array_new_with_free_func ((GDestroyNotify) triage_op_free);
  for (guint i = 0; i < ops->len; i++)
    g_ptr_array_add (undo_ops, NULL);

  /* Translators: a toast; %s is what was undone ("Resolved “Login fails”"). */
  undone = g_strdup_printf (_("Undone: %s"), title != NULL ? title : "");
  fd_inbox_page_run_ops (self, ops, undo_ops, undone, TRUE);
  fd_inbox_page_update_actions (self);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  fd_inbox_page_focus_search (FD_INBOX_PAGE (widget));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  guint cursor;

  if (gtk_search_bar_get_search_mode (self->search_bar))
    {
      gtk_search_bar_set_search_mode (self->search_bar, FALSE);
      return;
    }

  if (!adw_leaflet_get_folded (self->leaflet) ||
      g_strcmp0 (adw_leaflet_get_visible_child_name (self->leaflet), "list") == 0)
    return;

  adw_leaflet_set_visible_child_name (self->leaflet, "list");

  cursor = fd_inbox_page_get_cursor (self);
  if (cursor != G_MAXUINT)
    fd_inbox_page_focus_position (self, cursor);
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
}

static void
compose_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  const char *forward = g_str_equal (action_name, "inbox.reply") ? "conversation.reply" : "conversation.note";
  guint cursor = fd_inbox_page_get_cursor (self);

  /* Reply to what the cursor is on, opening it first if the view shows another. */
  if (cursor != G_MAXUINT)
    {
      g_autoptr(FdConversationSummary) summary = get_summary (self, cursor);

      if (summary != NULL && fd_conversation_summary_get_loaded (summary) &&
          fd_conversation_summary_get_id (summary) != self->open_id)
        {
          g_clear_handle_id (&self->open_source, g_source_remove);
          fd_inbox_page_open_position (self, cursor, FALSE);
        }
    }

  if (self->open_id == 0)
    return;

  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child_name (self->leaflet, "detail");

  gtk_widget_activate_action (GTK_WIDGET (self->conversation_view), forward, NULL);
}

static void
select_all_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);

  if (self->selection == NULL)
    return;

  if (g_str_equal (action_name, "inbox.select-all"))
    gtk_selection_model_select_all (GTK_SELECTION_MODEL (self->selection));
  else
    gtk_selection_model_unselect_all (GTK_SELECTION_MODEL (self->selection));
}

static void
saved_search_created_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(FdInboxPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gint64 id;

  id = fd_saved_search_create_finish (FD_STORE (object), result, &error);
  if (id <= 0 || error != NULL)
    {
      g_autofree char *message = NULL;

      /* Translators: %s says why, as a full sentence. */
      message = g_strdup_printf (_("The search could not be saved. %s"),
                                 error != NULL ? error->message : "");
      fd_inbox_page_toast (self, message, NULL);
      return;
    }

  fd_inbox_page_toast (self, _("Search saved in the sidebar"), NULL);
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
save_search_response_cb (AdwMessageDialog *dialog,
                         const char       *response,
                         FdInboxPage      *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "fd-name-entry");
  const char *query = g_object_get_data (G_OBJECT (dialog), "fd-query");
  g_autofree char *name = NULL;

  if (!g_str_equal (response, "save") || self->store == NULL)
    return;

  name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  if (name[0] == '\0')
    name = g_strdup (query);

  fd_saved_search_create_async (self->store, name, query, self->cancellable,
                                saved_search_created_cb, g_object_ref (self));
}

static void
save_search_entry_changed_cb (GtkEditable      *entry,
                              AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (dialog, "save", text[0] != '\0');
}

static void
save_search_entry_activate_cb (GtkEntry         *entry,
                               AdwMessageDialog *dialog)
{
  if (adw_message_dialog_get_response_enabled (dialog, "save"))
    {
      adw_message_dialog_response (dialog, "save");
      gtk_window_close (GTK_WINDOW (dialog));
    }
}

static void
save_search_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  FdInboxPage *self = FD_INBOX_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  AdwMessageDialog *dialog;
  GtkWidget *entry;

  if (self->search_text == NULL)
    return;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       _("Save Search"),
                                                       _("The search is kept in the sidebar under Inbox, with a count of the conversations that match it.")));
  entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (entry), self->search_text);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Name"),
                                  -1);
  adw_message_dialog_set_extra_child (dialog, entry);

  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "save", _("_Save"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "save", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "save");
  adw_message_dialog_set_close_response (dialog, "cancel");

  g_object_set_data (G_OBJECT (dialog), "fd-name-entry", entry);
  g_object_set_data_full (G_OBJECT (dialog), "fd-query", g_strdup (self->search_text), g_free);
  g_signal_connect (entry, "changed", G_CALLBACK (save_search_entry_changed_cb), dialog);
  g_signal_connect (entry, "activate", G_CALLBACK (save_search_entry_activate_cb), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (save_search_response_cb), self, 0);

  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
}

/* Single keys are for moving around the list, not for typing: while an entry or the
 * composer has the focus they are left alone (the text widget normally takes them
 * first; this also covers a read-only moment or a popover's entry). */
static gboolean
typing (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  if (focus == NULL)
    return FALSE;

  if (GTK_IS_EDITABLE (focus))
    return gtk_editable_get_editable (GTK_EDITABLE (focus));

  if (GTK_IS_TEXT_VIEW (focus))
    return gtk_text_view_get_editable (GTK_TEXT_VIEW (focus));

  return FALSE;
}

static gboolean
shortcut_cb (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  const char *action = NULL;
  guint modifiers = 0;

  g_variant_get (args, "(&su)", &action, &modifiers);

  if (modifiers == 0 && typing (widget))
    return FALSE;

  return gtk_widget_activate_action (widget, action, NULL);
}

/* }}} */
/* {{{ Headers */

static void
fd_inbox_page_update_headers (FdInboxPage *self)
{
  gboolean page_folded = adw_leaflet_get_folded (self->leaflet);

  /* Title buttons go on the outer edges of whatever is visible. */
  adw_header_bar_set_show_start_title_buttons (self->list_header, self->window_folded);
  adw_header_bar_set_show_end_title_buttons (self->list_header, page_folded);
  adw_header_bar_set_show_start_title_buttons (self->detail_header, self->window_folded && page_folded);
  adw_header_bar_set_show_end_title_buttons (self->detail_header, TRUE);

  gtk_widget_set_visible (self->sidebar_button, self->window_folded);
  gtk_widget_set_visible (self->detail_back_button, page_folded);

  /* Alone in a narrow window the conversation's header keeps Resolve and Snooze and
   * puts the rest in one menu, so it fits the narrowest window. */
  gtk_widget_set_visible (self->resolve_button, !page_folded);
  gtk_widget_set_visible (self->resolve_icon_button, page_folded);
  gtk_widget_set_visible (self->assign_button, !page_folded);
  gtk_widget_set_visible (self->tag_button, !page_folded);
  gtk_widget_set_visible (self->triage_button, !page_folded);
  gtk_widget_set_visible (self->more_button, page_folded);
}

static void
leaflet_folded_cb (FdInboxPage *self)
{
  fd_inbox_page_update_headers (self);
}

static void
sidebar_button_clicked_cb (FdInboxPage *self)
{
  g_signal_emit (self, signals[BACK], 0);
}

static void
fd_inbox_page_update_detail_title (FdInboxPage *self)
{
  const FdConversationDetail *detail = fd_conversation_view_get_detail (self->conversation_view);
  g_autoptr(GtkBitset) selected = get_selection (self);
  g_autofree char *subtitle = NULL;
  const char *title = "";
  guint n_selected = gtk_bitset_get_size (selected);

  if (detail != NULL && detail->id == self->open_id && self->open_id != 0)
    {
      title = detail->subject != NULL && detail->subject[0] != '\0' ? detail->subject : _("(No subject)");
      if (detail->organisation_name != NULL && detail->organisation_name[0] != '\0')
        subtitle = g_strdup_printf ("%s · %s", detail->contact_name, detail->organisation_name);
      else
        subtitle = g_strdup (detail->contact_name);
    }

  if (n_selected > 1)
    {
      g_clear_pointer (&subtitle, g_free);
      /* Translators: the header's subtitle when buttons act on several conversations. */
      subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "%u conversation selected",
                                               "%u conversations selected",
                                               n_selected),
                                  n_selected);
    }

  adw_window_title_set_title (self->detail_title, title);
  adw_window_title_set_subtitle (self->detail_title, subtitle);
}

/* }}} */
/* {{{ The conversation view */

static void
conversation_changed_cb (FdInboxPage *self)
{
  if (self->list != NULL)
    {
      gint64 ids[3] = { self->cursor_id, 0, 0 };

      fd_inbox_page_reload_after_change (self, ids, fd_inbox_page_get_cursor (self),
                                         focus_is_within (GTK_WIDGET (self->list_view)), FALSE);
    }

  g_signal_emit (self, signals[CHANGED], 0);
}

static void
conversation_open_cb (FdInboxPage *self,
                      gint64       conversation_id)
{
  fd_inbox_page_open_conversation (self, conversation_id);
}

static void
conversation_detail_cb (FdInboxPage *self)
{
  const FdConversationDetail *detail = fd_conversation_view_get_detail (self->conversation_view);

  /* The loaded conversation knows everyone who can be assigned. */
  if (detail != NULL && detail->agents != NULL && detail->agents->len > 0)
    {
      /* The detail's list never changes once loaded: share it. */
      g_clear_pointer (&self->agents, g_ptr_array_unref);
      self->agents = g_ptr_array_ref (detail->agents);
      if (detail->me_id != 0)
        self->me_id = detail->me_id;
      fd_inbox_page_rebuild_assign_menu (self);
    }

  fd_inbox_page_update_detail_title (self);
  fd_inbox_page_update_actions (self);
}

/* }}} */
/* {{{ GObject */

static void
fd_inbox_page_dispose (GObject *object)
{
  FdInboxPage *self = (FdInboxPage *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->open_source, g_source_remove);
  g_clear_handle_id (&self->spinner_source, g_source_remove);
  g_clear_handle_id (&self->cleared_source, g_source_remove);
  fd_inbox_page_clear_pending (self);

  if (self->snooze_popover != NULL && gtk_widget_get_parent (GTK_WIDGET (self->snooze_popover)) != NULL)
    gtk_widget_unparent (GTK_WIDGET (self->snooze_popover));
  if (self->tag_popover != NULL && gtk_widget_get_parent (GTK_WIDGET (self->tag_popover)) != NULL)
    gtk_widget_unparent (GTK_WIDGET (self->tag_popover));

  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_INBOX_PAGE);

  g_clear_object (&self->selection);
  g_clear_object (&self->list);
  g_clear_object (&self->store);
  g_clear_object (&self->saved_search);
  g_clear_object (&self->recent);

  G_OBJECT_CLASS (fd_inbox_page_parent_class)->dispose (object);
}

static void
fd_inbox_page_finalize (GObject *object)
{
  FdInboxPage *self = (FdInboxPage *)object;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->search_query, fd_search_query_free);
  g_clear_pointer (&self->search_text, g_free);
  g_clear_pointer (&self->source_error, g_free);
  g_clear_pointer (&self->agents, g_ptr_array_unref);
  g_clear_pointer (&self->undo_ops, g_ptr_array_unref);
  g_clear_pointer (&self->undo_title, g_free);

  G_OBJECT_CLASS (fd_inbox_page_parent_class)->finalize (object);
}

static void
fd_inbox_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  FdInboxPage *self = FD_INBOX_PAGE (object);

  switch (prop_id)
    {
    case PROP_WINDOW_FOLDED:
      g_value_set_boolean (value, self->window_folded);
      break;

    case PROP_SORT:
      g_value_set_string (value, fd_inbox_sort_to_name (self->sort));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_inbox_page_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  FdInboxPage *self = FD_INBOX_PAGE (object);

  switch (prop_id)
    {
    case PROP_WINDOW_FOLDED:
      fd_inbox_page_set_window_folded (self, g_value_get_boolean (value));
      break;

    case PROP_SORT:
      {
        FdInboxSort sort;

        if (fd_inbox_sort_from_name (g_value_get_string (value), &sort))
          fd_inbox_page_set_sort (self, sort);
        else
          g_warning ("There is no sort order called “%s”", g_value_get_string (value));
      }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_inbox_page_class_init (FdInboxPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_inbox_page_dispose;
  object_class->finalize = fd_inbox_page_finalize;
  object_class->get_property = fd_inbox_page_get_property;
  object_class->set_property = fd_inbox_page_set_property;

  /**
   * FdInboxPage:window-folded:
   *
   * Whether the window hides its sidebar: the list then shows a button back to it
   * and the window's buttons on its left.
   */
  properties[PROP_WINDOW_FOLDED] =
    g_param_spec_boolean ("window-folded", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FdInboxPage:sort:
   *
   * The list's order, by name: "sla", "newest", "oldest" or "priority".
   */
  properties[PROP_SORT] =
    g_param_spec_string ("sort", NULL, NULL,
                         "sla",
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  signals[BACK] =
    g_signal_new ("back",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/inbox/fd-inbox-page.ui");
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, list_header);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, list_title);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, sidebar_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, search_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, search_bar);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, search_error_label);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, error_box);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, list_stack);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, list_pane);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, detail_pane);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, detail_header);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, detail_title);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, detail_back_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, snooze_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, tag_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, assign_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, triage_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, more_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, resolve_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, resolve_icon_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, conversation_view);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, snooze_popover);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, later_today_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, tomorrow_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, next_week_button);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, later_today_label);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, tomorrow_label);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, next_week_label);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, snooze_calendar);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, snooze_hour);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, snooze_minute);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, tag_popover);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, tag_entry);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, tags_empty_label);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, tag_list);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, tag_model);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, assign_menu);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, priority_menu);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, status_menu);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, triage_menu);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, bulk_assign_section);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, bulk_status_section);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, bulk_priority_section);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, more_assign_section);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, more_status_section);
  gtk_widget_class_bind_template_child (widget_class, FdInboxPage, more_priority_section);
  gtk_widget_class_bind_template_callback (widget_class, leaflet_folded_cb);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_mode_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_stop_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, list_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, conversation_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, conversation_open_cb);
  gtk_widget_class_bind_template_callback (widget_class, conversation_detail_cb);
  gtk_widget_class_bind_template_callback (widget_class, spin_output_cb);
  gtk_widget_class_bind_template_callback (widget_class, snooze_custom_cb);
  gtk_widget_class_bind_template_callback (widget_class, tag_entry_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, tag_popover_closed_cb);

  gtk_widget_class_install_action (widget_class, "inbox.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "inbox.previous", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "inbox.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "inbox.resolve", NULL, resolve_action);
  gtk_widget_class_install_action (widget_class, "inbox.snooze", NULL, snooze_action);
  gtk_widget_class_install_action (widget_class, "inbox.snooze-preset", "s", snooze_preset_action);
  gtk_widget_class_install_action (widget_class, "inbox.snooze-until", "x", snooze_until_action);
  gtk_widget_class_install_action (widget_class, "inbox.assign-to-me", NULL, assign_action);
  gtk_widget_class_install_action (widget_class, "inbox.assign", "x", assign_action);
  gtk_widget_class_install_action (widget_class, "inbox.tag", NULL, tag_action);
  gtk_widget_class_install_action (widget_class, "inbox.add-tag", "s", add_tag_action);
  gtk_widget_class_install_action (widget_class, "inbox.remove-tag", "s", add_tag_action);
  gtk_widget_class_install_action (widget_class, "inbox.set-status", "s", set_status_action);
  gtk_widget_class_install_action (widget_class, "inbox.set-priority", "s", set_priority_action);
  gtk_widget_class_install_action (widget_class, "inbox.reply", NULL, compose_action);
  gtk_widget_class_install_action (widget_class, "inbox.note", NULL, compose_action);
  gtk_widget_class_install_action (widget_class, "inbox.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "inbox.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "inbox.save-search", NULL, save_search_action);
  gtk_widget_class_install_action (widget_class, "inbox.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "inbox.select-all", NULL, select_all_action);
  gtk_widget_class_install_action (widget_class, "inbox.select-none", NULL, select_all_action);
  gtk_widget_class_install_property_action (widget_class, "inbox.sort", "sort");

  for (guint i = 0; i < G_N_ELEMENTS (shortcuts); i++)
    gtk_widget_class_add_binding (widget_class,
                                  shortcuts[i].keyval, shortcuts[i].modifiers,
                                  shortcut_cb,
                                  "(su)", shortcuts[i].action, (guint) shortcuts[i].modifiers);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "fdinboxpage");

  g_type_ensure (FD_TYPE_CONVERSATION_VIEW);
  g_type_ensure (FD_TYPE_CONVERSATION_ROW);
}

static void
fd_inbox_page_init (FdInboxPage *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;

  self->view = FD_INBOX_VIEW_ALL_OPEN;
  self->sort = FD_INBOX_SORT_SLA_DUE;
  self->cursor_position = G_MAXUINT;
  self->cancellable = g_cancellable_new ();
  self->recent = g_list_store_new (FD_TYPE_CONVERSATION_SUMMARY);

  gtk_widget_init_template (GTK_WIDGET (self));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (factory_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (factory_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (factory_unbind_cb), self);
  g_signal_connect (factory, "teardown", G_CALLBACK (factory_teardown_cb), self);
  gtk_grid_view_set_factory (self->list_view, factory);

  gtk_search_entry_set_search_delay (self->search_entry, SEARCH_DELAY_MS);

  g_menu_append_section (self->triage_menu, _("Priority"), G_MENU_MODEL (self->priority_menu));
  g_menu_append_section (self->triage_menu, _("Status"), G_MENU_MODEL (self->status_menu));
  g_menu_append_section (self->bulk_assign_section, NULL, G_MENU_MODEL (self->assign_menu));
  g_menu_append_section (self->bulk_status_section, NULL, G_MENU_MODEL (self->status_menu));
  g_menu_append_section (self->bulk_priority_section, NULL, G_MENU_MODEL (self->priority_menu));
  g_menu_append_section (self->more_assign_section, NULL, G_MENU_MODEL (self->assign_menu));
  g_menu_append_section (self->more_status_section, NULL, G_MENU_MODEL (self->status_menu));
  g_menu_append_section (self->more_priority_section, NULL, G_MENU_MODEL (self->priority_menu));

  fd_inbox_page_update_headers (self);
  fd_inbox_page_update_list_state (self);
  fd_inbox_page_update_detail_title (self);
  fd_inbox_page_update_actions (self);
}

/* }}} */
/* {{{ Public */

GtkWidget *
fd_inbox_page_new (void)
{
  return g_object_new (FD_TYPE_INBOX_PAGE, NULL);
}

void
fd_inbox_page_set_store (FdInboxPage *self,
                         FdStore     *store)
{
  g_return_if_fail (FD_IS_INBOX_PAGE (self));
  g_return_if_fail (store == NULL || FD_IS_STORE (store));

  if (self->store == store)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  fd_inbox_page_clear_pending (self);

  gtk_grid_view_set_model (self->list_view, NULL);
  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  g_clear_object (&self->selection);
  g_clear_object (&self->list);
  g_list_store_remove_all (self->recent);
  g_clear_pointer (&self->undo_ops, g_ptr_array_unref);
  self->open_id = 0;
  self->cursor_id = 0;

  g_set_object (&self->store, store);
  fd_conversation_view_set_store (self->conversation_view, store);

  if (store != NULL)
    {
      self->list = fd_conversation_list_new (store);
      fd_conversation_list_set_sort (self->list, self->sort);

      g_signal_connect_object (self->list, "notify::loading", G_CALLBACK (list_loading_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->list, "notify::error", G_CALLBACK (list_error_cb), self, G_CONNECT_SWAPPED);

      self->selection = gtk_multi_selection_new (G_LIST_MODEL (g_object_ref (self->list)));
      /* After the list view's own handler, so it has caught up when the cursor is
       * put back. */
      g_signal_connect_object (self->selection, "items-changed", G_CALLBACK (list_items_changed_cb), self,
                               G_CONNECT_SWAPPED | G_CONNECT_AFTER);
      g_signal_connect_object (self->selection, "selection-changed", G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);
      gtk_grid_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));

      fd_inbox_page_show_source (self);
      fd_inbox_page_load_agents (self);
    }

  fd_inbox_page_update_list_state (self);
  fd_inbox_page_update_detail_title (self);
  fd_inbox_page_update_actions (self);
}

void
fd_inbox_page_show_view (FdInboxPage   *self,
                         FdInboxViewId  view)
{
  g_return_if_fail (FD_IS_INBOX_PAGE (self));
  g_return_if_fail (view < FD_INBOX_N_VIEWS);

  self->view = view;
  g_clear_object (&self->saved_search);
  fd_inbox_page_leave_search (self, FALSE);
  fd_inbox_page_show_source (self);
}

void
fd_inbox_page_show_saved_search (FdInboxPage   *self,
                                 FdSavedSearch *search)
{
  g_return_if_fail (FD_IS_INBOX_PAGE (self));
  g_return_if_fail (FD_IS_SAVED_SEARCH (search));

  fd_inbox_page_leave_search (self, FALSE);
  g_set_object (&self->saved_search, search);
  fd_inbox_page_show_source (self);
}

void
fd_inbox_page_open_conversation (FdInboxPage *self,
                                 gint64       conversation_id)
{
  guint position;

  g_return_if_fail (FD_IS_INBOX_PAGE (self));
  g_return_if_fail (conversation_id > 0);

  position = self->list != NULL ? fd_conversation_list_find (self->list, conversation_id) : G_MAXUINT;

  if (position != G_MAXUINT)
    {
      fd_inbox_page_select_position (self, position, FALSE);
      g_clear_handle_id (&self->open_source, g_source_remove);
      fd_inbox_page_open_position (self, position, TRUE);
      return;
    }

  if (self->search_text != NULL && self->list != NULL)
    {
      gint64 ids[3] = { conversation_id, 0, 0 };

      /* Selected once the view is back, if the conversation is in it. */
      fd_inbox_page_leave_search (self, TRUE);
      fd_inbox_page_clear_pending (self);
      self->pending.active = TRUE;
      memcpy (self->pending.ids, ids, sizeof ids);
      self->pending.fallback_position = G_MAXUINT;
      self->pending.timeout_id = g_timeout_add (RESTORE_TIMEOUT_MS, pending_timeout_cb, self);
    }

  g_clear_handle_id (&self->open_source, g_source_remove);
  if (self->selection != NULL)
    gtk_selection_model_unselect_all (GTK_SELECTION_MODEL (self->selection));
  fd_inbox_page_load_conversation (self, conversation_id);

  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child_name (self->leaflet, "detail");
}

void
fd_inbox_page_reload (FdInboxPage *self)
{
  g_return_if_fail (FD_IS_INBOX_PAGE (self));

  if (self->list == NULL)
    return;

  fd_conversation_list_reload (self->list);
  if (self->open_id != 0)
    fd_conversation_view_reload (self->conversation_view);
  fd_inbox_page_load_agents (self);
}

void
fd_inbox_page_focus_search (FdInboxPage *self)
{
  g_return_if_fail (FD_IS_INBOX_PAGE (self));

  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child_name (self->leaflet, "list");

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
  gtk_editable_select_region (GTK_EDITABLE (self->search_entry), 0, -1);
}

GListModel *
fd_inbox_page_get_recent (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return G_LIST_MODEL (self->recent);
}

FdConversationView *
fd_inbox_page_get_conversation_view (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return self->conversation_view;
}

void
fd_inbox_page_set_window_folded (FdInboxPage *self,
                                 gboolean     folded)
{
  g_return_if_fail (FD_IS_INBOX_PAGE (self));

  folded = !!folded;
  if (self->window_folded == folded)
    return;

  self->window_folded = folded;
  fd_inbox_page_update_headers (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW_FOLDED]);
}

FdInboxSort
fd_inbox_page_get_sort (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), FD_INBOX_SORT_SLA_DUE);

  return self->sort;
}

void
fd_inbox_page_set_sort (FdInboxPage *self,
                        FdInboxSort  sort)
{
  g_return_if_fail (FD_IS_INBOX_PAGE (self));

  if (self->sort == sort)
    return;

  self->sort = sort;

  if (self->list != NULL)
    {
      const char *text = self->search_text;

      if (text == NULL && self->saved_search != NULL)
        text = fd_saved_search_get_query (self->saved_search);

      /* A search orders by match or by time; the sort is kept for the views. */
      fd_conversation_list_set_sort (self->list, sort);
      if (text != NULL && self->search_query != NULL)
        fd_conversation_list_set_search (self->list, text, search_order (self, self->search_query), NULL);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SORT]);
}

FdInboxViewId
fd_inbox_page_get_view (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), FD_INBOX_VIEW_ALL_OPEN);

  return self->view;
}

FdSavedSearch *
fd_inbox_page_get_saved_search (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return self->saved_search;
}

GtkWidget *
_fd_inbox_page_get_list_view (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return GTK_WIDGET (self->list_view);
}

FdConversationList *
_fd_inbox_page_get_list (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return self->list;
}

GtkEditable *
_fd_inbox_page_get_search_entry (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return GTK_EDITABLE (self->search_entry);
}

GtkLabel *
_fd_inbox_page_get_search_error (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return self->search_error_label;
}

GtkSelectionModel *
_fd_inbox_page_get_selection (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return self->selection != NULL ? GTK_SELECTION_MODEL (self->selection) : NULL;
}

GtkPopover *
_fd_inbox_page_get_snooze_popover (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return self->snooze_popover;
}

GtkStack *
_fd_inbox_page_get_list_stack (FdInboxPage *self)
{
  g_return_val_if_fail (FD_IS_INBOX_PAGE (self), NULL);

  return self->list_stack;
}

/* }}} */
