/* fd-context-panel.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-context-panel"

#include "config.h"

#include <glib/gi18n.h>

#include "fd-application.h"
#include "fd-billing-page.h"
#include "fd-context-panel.h"
#include "fd-window.h"

struct _FdContextPanel
{
  GtkWidget   parent_instance;

  /* The e-mail address the copy button copies. */
  char       *contact_email;
  /* The conversation shown, so a reload keeps the scroll position. */
  gint64      conversation_id;
  /* The billing summary being read for it. */
  GCancellable *billing_cancellable;

  /* Template widgets */
  GtkWidget  *scroller;
  GtkWidget  *contact_group;
  GtkListBox *contact_list;
  GtkWidget  *org_group;
  GtkListBox *org_list;
  GtkWidget  *billing_group;
  GtkListBox *billing_list;
  GtkWidget  *recent_group;
  GtkListBox *recent_list;
  GtkWidget  *bugs_group;
  GtkListBox *bugs_list;
};

G_DEFINE_FINAL_TYPE (FdContextPanel, fd_context_panel, GTK_TYPE_WIDGET)

enum {
  OPEN_CONVERSATION,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
list_clear (GtkListBox *list)
{
  GtkWidget *child;

  /* gtk_list_box_remove_all() is GTK 4.12. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static GtkWidget *
value_label_new (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);

  return label;
}

/* A label that keeps to one line; the whole text is in its tooltip. */
static GtkWidget *
ellipsized_label_new (const char         *text,
                      PangoEllipsizeMode  mode)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (label), mode);
  gtk_label_set_single_line_mode (GTK_LABEL (label), TRUE);
  gtk_widget_set_tooltip_text (label, text);

  return label;
}

static GtkWidget *
row_new (GtkWidget *child)
{
  GtkWidget *row = gtk_list_box_row_new ();

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_margin_top (child, 10);
  gtk_widget_set_margin_bottom (child, 10);
  gtk_widget_set_margin_start (child, 12);
  gtk_widget_set_margin_end (child, 12);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), child);

  return row;
}

/* A row with a small caption and its value below, read as "Caption: value". */
static GtkWidget *
field_row_new (const char  *caption,
               GtkWidget   *value,
               GtkWidget  **out_box)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *caption_label = gtk_label_new (caption);
  GtkWidget *row;

  gtk_label_set_xalign (GTK_LABEL (caption_label), 0.0f);
  gtk_widget_add_css_class (caption_label, "caption");
  gtk_widget_add_css_class (caption_label, "dim-label");
  gtk_box_append (GTK_BOX (box), caption_label);
  gtk_box_append (GTK_BOX (box), value);

  row = row_new (box);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (value),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, caption_label, NULL,
                                  -1);

  if (out_box != NULL)
    *out_box = box;

  return row;
}

static GtkWidget *
dim_row_new (const char *text)
{
  GtkWidget *label = value_label_new (text);

  gtk_widget_add_css_class (label, "dim-label");
  return row_new (label);
}

static const char *
plan_to_label (const char *plan)
{
  if (plan == NULL || *plan == '\0')
    return NULL;
  if (g_str_equal (plan, "free"))
    return _("Free plan");
  if (g_str_equal (plan, "starter"))
    return _("Starter plan");
  if (g_str_equal (plan, "pro"))
    return _("Pro plan");
  if (g_str_equal (plan, "business"))
    return _("Business plan");
  if (g_str_equal (plan, "enterprise"))
    return _("Enterprise plan");
  return plan;
}


static char *
format_date (gint64 time_ms)
{
  g_autoptr(GDateTime) local = g_date_time_new_from_unix_local (time_ms / 1000);

  if (local == NULL)
    return g_strdup ("");

  /* Translators: a date, see the GDateTime format specifiers; "12 March 2027". */
  return g_date_time_format (local, _("%-d %B %Y"));
}

static char *
sso_to_text (const FdConversationDetail *detail)
{
  const char *protocol;
  gboolean has_idp = detail->sso_idp != NULL && *detail->sso_idp != '\0';

  if (detail->sso_type == NULL || *detail->sso_type == '\0')
    return g_strdup (_("Not configured"));

  if (g_str_equal (detail->sso_type, "saml"))
    protocol = "SAML";
  else if (g_str_equal (detail->sso_type, "oidc"))
    protocol = "OpenID Connect";
  else
    protocol = detail->sso_type;

  if (has_idp && detail->sso_enforced)
    /* Translators: "SAML via Okta, enforced": a protocol and an identity provider. */
    return g_strdup_printf (_("%s via %s, enforced"), protocol, detail->sso_idp);
  if (has_idp)
    /* Translators: "SAML via Okta, not enforced": people may still sign in with a password. */
    return g_strdup_printf (_("%s via %s, not enforced"), protocol, detail->sso_idp);
  if (detail->sso_enforced)
    return g_strdup_printf (_("%s, enforced"), protocol);
  return g_strdup_printf (_("%s, not enforced"), protocol);
}

static void
copy_email_clicked_cb (FdContextPanel *self,
                       GtkButton      *button)
{
  GtkRoot *root;

  if (self->contact_email == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->contact_email);

  root = gtk_widget_get_root (GTK_WIDGET (self));
  if (FD_IS_WINDOW (root))
    fd_window_add_toast (FD_WINDOW (root), _("Email address copied"), NULL);
}

static void
fill_contact (FdContextPanel             *self,
              const FdConversationDetail *detail)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name;
  gboolean has_name = detail->contact_name != NULL && *detail->contact_name != '\0';
  gboolean has_email = detail->contact_email != NULL && *detail->contact_email != '\0';

  g_clear_pointer (&self->contact_email, g_free);

  name = ellipsized_label_new (has_name ? detail->contact_name : _("Unknown contact"),
                               PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (name, "heading");
  gtk_box_append (GTK_BOX (text), name);

  if (has_email)
    {
      GtkWidget *email = ellipsized_label_new (detail->contact_email, PANGO_ELLIPSIZE_MIDDLE);

      gtk_label_set_selectable (GTK_LABEL (email), TRUE);
      gtk_widget_add_css_class (email, "dim-label");
      gtk_box_append (GTK_BOX (text), email);
      self->contact_email = g_strdup (detail->contact_email);
    }
  else
    {
      GtkWidget *email = gtk_label_new (_("No email address"));

      gtk_label_set_xalign (GTK_LABEL (email), 0.0f);
      gtk_widget_add_css_class (email, "dim-label");
      gtk_box_append (GTK_BOX (text), email);
    }

  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (box), text);

  if (has_email)
    {
      GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");

      gtk_widget_set_valign (copy, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (copy, "flat");
      gtk_widget_set_tooltip_text (copy, _("Copy Email Address"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (copy),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Copy Email Address"),
                                      -1);
      g_signal_connect_object (copy, "clicked", G_CALLBACK (copy_email_clicked_cb), self,
                               G_CONNECT_SWAPPED);
      gtk_box_append (GTK_BOX (box), copy);
    }

  gtk_list_box_append (self->contact_list, row_new (box));
}

static void
fill_organisation (FdContextPanel             *self,
                   const FdConversationDetail *detail)
{
  GtkWidget *box;
  GtkWidget *text;
  GtkWidget *line;
  GtkWidget *name;
  GtkWidget *label;
  const char *plan;
  g_autofree char *sso = NULL;
  g_autofree char *seats = NULL;

  if (detail->organisation_id == 0)
    {
      gtk_list_box_append (self->org_list,
                           dim_row_new (_("This contact belongs to no organisation.")));
      return;
    }

  /* Name, Enterprise badge and plan. */
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  name = ellipsized_label_new (detail->organisation_name != NULL ? detail->organisation_name : "",
                               PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (name, "heading");
  gtk_widget_set_hexpand (name, TRUE);
  gtk_box_append (GTK_BOX (line), name);
  if (detail->is_enterprise)
    {
      label = gtk_label_new (_("Enterprise"));
      gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (label, "badge");
      gtk_widget_add_css_class (label, "accent");
      gtk_box_append (GTK_BOX (line), label);
    }
  gtk_box_append (GTK_BOX (box), line);

  plan = plan_to_label (detail->plan);
  if (plan != NULL)
    {
      label = gtk_label_new (plan);
      gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_box_append (GTK_BOX (box), label);
    }
  gtk_list_box_append (self->org_list, row_new (box));

  /* Seats: used of purchased, with a bar; more used than bought is said in words. */
  if (detail->seats_purchased > 0)
    {
      GtkWidget *bar;

      if (detail->seats_used > detail->seats_purchased)
        /* Translators: seats of a subscription; "52 of 50 used, 2 over". */
        seats = g_strdup_printf (_("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " used, %" G_GINT64_FORMAT " over"),
                                 detail->seats_used, detail->seats_purchased,
                                 detail->seats_used - detail->seats_purchased);
      else
        /* Translators: seats of a subscription; "42 of 50 used". */
        seats = g_strdup_printf (_("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " used"),
                                 detail->seats_used, detail->seats_purchased);

      label = value_label_new (seats);
      gtk_widget_add_css_class (label, "numeric");
      gtk_list_box_append (self->org_list, field_row_new (_("Seats"), label, &text));

      bar = gtk_level_bar_new_for_interval (0, (double) detail->seats_purchased);
      /* The default offsets colour a low value as a warning; few seats used is fine. */
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_LOW);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_HIGH);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_FULL);
      gtk_level_bar_set_value (GTK_LEVEL_BAR (bar),
                               (double) MIN (detail->seats_used, detail->seats_purchased));
      gtk_accessible_update_property (GTK_ACCESSIBLE (bar),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Seats used"),
                                      -1);
      gtk_box_append (GTK_BOX (text), bar);
    }
  else
    {
      /* Translators: seats of a subscription when none were bought; "3 used". */
      seats = g_strdup_printf (_("%" G_GINT64_FORMAT " used, none purchased"), detail->seats_used);
      label = value_label_new (seats);
      gtk_widget_add_css_class (label, "numeric");
      gtk_list_box_append (self->org_list, field_row_new (_("Seats"), label, NULL));
    }

  /* Renewal. */
  if (detail->renewal_at > 0)
    {
      g_autofree char *date = format_date (detail->renewal_at);

      label = value_label_new (date);
      gtk_widget_add_css_class (label, "numeric");
    }
  else
    {
      label = value_label_new (_("Not known"));
    }
  gtk_list_box_append (self->org_list, field_row_new (_("Renewal"), label, NULL));

  /* Single sign-on and SCIM. */
  sso = sso_to_text (detail);
  gtk_list_box_append (self->org_list,
                       field_row_new (_("Single Sign-On"), value_label_new (sso), NULL));
  gtk_list_box_append (self->org_list,
                       field_row_new (_("SCIM Provisioning"),
                                      value_label_new (detail->scim_enabled ? _("On") : _("Off")),
                                      NULL));

  /* Domains. */
  if (detail->domains != NULL && detail->domains[0] != NULL)
    {
      g_autofree char *domains = g_strjoinv (", ", detail->domains);

      label = value_label_new (domains);
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
    }
  else
    {
      label = value_label_new (_("None"));
    }
  gtk_list_box_append (self->org_list, field_row_new (_("Domains"), label, NULL));
}

/* {{{ Billing */

typedef struct
{
  FdContextPanel *self;
  gint64          conversation_id;
} BillingData;

static void
billing_data_free (BillingData *data)
{
  g_object_unref (data->self);
  g_free (data);
}

/* A label beside an icon sits in a vertical box: straight in a horizontal one it is
 * measured by its baseline, a pixel off with some fonts. */
static GtkWidget *
label_column_new (GtkWidget *label)
{
  GtkWidget *column = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  gtk_widget_set_hexpand (column, TRUE);
  gtk_box_append (GTK_BOX (column), label);

  return column;
}

static void
billing_message (FdContextPanel *self,
                 const char     *icon_name,
                 const char     *text)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *label = value_label_new (text);

  if (icon_name != NULL)
    {
      GtkWidget *image = gtk_image_new_from_icon_name (icon_name);

      gtk_widget_set_valign (image, GTK_ALIGN_START);
      gtk_accessible_update_property (GTK_ACCESSIBLE (image), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
      gtk_widget_add_css_class (image, "dim-label");
      gtk_box_append (GTK_BOX (box), image);
    }
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label_column_new (label));

  list_clear (self->billing_list);
  gtk_list_box_append (self->billing_list, row_new (box));
}

static void
billing_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  BillingData *data = user_data;
  FdContextPanel *self = data->self;
  g_autoptr(GError) error = NULL;
  const FdBillingAccount *account;

  account = fd_billing_summary_load_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      data->conversation_id != self->conversation_id)
    {
      billing_data_free (data);
      return;
    }

  if (g_error_matches (error, FD_BILLING_PAGE_ERROR, FD_BILLING_PAGE_ERROR_NO_ACCOUNT))
    {
      billing_message (self, "fd-payment-card-symbolic",
                       _("Connect Stripe in Preferences to see this customer’s billing here."));
    }
  else if (error != NULL)
    {
      g_autofree char *text = NULL;

      /* Translators: %s says why, as a full sentence. */
      text = g_strdup_printf (_("Billing could not be read. %s"), error->message);
      billing_message (self, "dialog-warning-symbolic", text);
    }
  else if (account == NULL || account->customer == NULL)
    {
      billing_message (self, "fd-payment-card-symbolic", _("No Stripe customer for this contact."));
    }
  else
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
      GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
      GtkWidget *image = gtk_image_new_from_icon_name (fd_billing_state_icon_name (account->state));
      GtkWidget *label = value_label_new (account->summary != NULL ? account->summary : "");
      GtkWidget *button = gtk_button_new_with_mnemonic (_("Open in _Billing"));

      gtk_widget_set_valign (image, GTK_ALIGN_START);
      gtk_widget_add_css_class (image, fd_billing_state_style_class (account->state));
      gtk_accessible_update_property (GTK_ACCESSIBLE (image), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
      gtk_box_append (GTK_BOX (line), image);
      gtk_widget_add_css_class (label, "numeric");
      gtk_box_append (GTK_BOX (line), label_column_new (label));
      gtk_box_append (GTK_BOX (box), line);

      gtk_widget_set_halign (button, GTK_ALIGN_START);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.open-billing");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button),
                                              g_variant_new ("(sxs)", account->customer->id,
                                                             data->conversation_id, ""));
      gtk_box_append (GTK_BOX (box), button);

      list_clear (self->billing_list);
      gtk_list_box_append (self->billing_list, row_new (box));
    }

  billing_data_free (data);
}

static FdStore *
panel_get_store (FdContextPanel *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkApplication *app = GTK_IS_WINDOW (root) ? gtk_window_get_application (GTK_WINDOW (root)) : NULL;

  if (!FD_IS_APPLICATION (app) || !fd_application_get_store_ready (FD_APPLICATION (app)))
    return NULL;

  return fd_application_get_store (FD_APPLICATION (app));
}

/* The Stripe customer is the organisation's, or else the one with the contact's email;
 * a one-sentence summary is read from Stripe for it. */
static void
fill_billing (FdContextPanel             *self,
              const FdConversationDetail *detail)
{
  const char *customer_id = detail->stripe_customer_id;
  const char *email = detail->contact_email;
  FdStore *store = panel_get_store (self);
  BillingData *data;
  GtkWidget *box;
  GtkWidget *spinner;

  if ((customer_id == NULL || *customer_id == '\0') && (email == NULL || *email == '\0'))
    {
      billing_message (self, "fd-payment-card-symbolic", _("No billing details for this contact."));
      return;
    }

  if (store == NULL)
    {
      g_autofree char *text = NULL;

      if (customer_id != NULL && *customer_id != '\0')
        /* Translators: %s is a Stripe customer id such as "cus_N3x8…". */
        text = g_strdup_printf (_("Stripe customer %s"), customer_id);
      billing_message (self, "fd-payment-card-symbolic",
                       text != NULL ? text : _("Billing is shown once your data is open."));
      return;
    }

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  spinner = gtk_spinner_new ();
  gtk_spinner_start (GTK_SPINNER (spinner));
  gtk_box_append (GTK_BOX (box), spinner);
  gtk_box_append (GTK_BOX (box), label_column_new (value_label_new (_("Reading billing from Stripe…"))));
  gtk_list_box_append (self->billing_list, row_new (box));

  self->billing_cancellable = g_cancellable_new ();
  data = g_new0 (BillingData, 1);
  data->self = g_object_ref (self);
  data->conversation_id = detail->id;
  fd_billing_summary_load_async (store, customer_id, email, self->billing_cancellable,
                                 billing_loaded_cb, data);
}

/* }}} */

static void
fill_recent (FdContextPanel             *self,
             const FdConversationDetail *detail)
{
  gtk_widget_set_visible (self->recent_group, detail->organisation_id != 0);

  if (detail->recent == NULL || detail->recent->len == 0)
    {
      gtk_list_box_append (self->recent_list,
                           dim_row_new (_("No other conversations from this organisation")));
      return;
    }

  for (guint i = 0; i < detail->recent->len; i++)
    {
      const FdRecentConversation *recent = g_ptr_array_index (detail->recent, i);
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
      GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      GtkWidget *subject;
      GtkWidget *caption;
      GtkWidget *arrow;
      GtkWidget *row;
      g_autofree char *date = format_date (recent->created_at);
      g_autofree char *caption_text = NULL;
      const char *subject_text = recent->subject != NULL && *recent->subject != '\0'
                                 ? recent->subject : _("(no subject)");

      subject = ellipsized_label_new (subject_text, PANGO_ELLIPSIZE_END);
      gtk_box_append (GTK_BOX (text), subject);

      /* Translators: a conversation's status and the day it started: "Resolved · 3 March 2026". */
      caption_text = g_strdup_printf (_("%s · %s"), fd_inbox_status_to_label (recent->status), date);
      caption = gtk_label_new (caption_text);
      gtk_label_set_xalign (GTK_LABEL (caption), 0.0f);
      gtk_widget_add_css_class (caption, "caption");
      gtk_widget_add_css_class (caption, "dim-label");
      gtk_widget_add_css_class (caption, "numeric");
      gtk_box_append (GTK_BOX (text), caption);

      gtk_widget_set_hexpand (text, TRUE);
      gtk_box_append (GTK_BOX (box), text);

      arrow = gtk_image_new_from_icon_name ("go-next-symbolic");
      gtk_box_append (GTK_BOX (box), arrow);

      row = row_new (box);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_widget_set_tooltip_text (row, subject_text);
      g_object_set_data_full (G_OBJECT (row), "fd-conversation-id",
                              g_memdup2 (&recent->id, sizeof recent->id), g_free);
      gtk_list_box_append (self->recent_list, row);
    }
}

static void
recent_row_activated_cb (FdContextPanel *self,
                         GtkListBoxRow  *row,
                         GtkListBox     *list)
{
  const gint64 *id = g_object_get_data (G_OBJECT (row), "fd-conversation-id");

  if (id != NULL)
    g_signal_emit (self, signals[OPEN_CONVERSATION], 0, *id);
}

void
fd_context_panel_set_detail (FdContextPanel             *self,
                             const FdConversationDetail *detail)
{
  g_return_if_fail (FD_IS_CONTEXT_PANEL (self));

  g_cancellable_cancel (self->billing_cancellable);
  g_clear_object (&self->billing_cancellable);

  list_clear (self->contact_list);
  list_clear (self->org_list);
  list_clear (self->billing_list);
  list_clear (self->recent_list);
  list_clear (self->bugs_list);
  g_clear_pointer (&self->contact_email, g_free);

  if (detail == NULL)
    {
      self->conversation_id = 0;
      return;
    }

  fill_contact (self, detail);
  fill_organisation (self, detail);
  fill_billing (self, detail);
  fill_recent (self, detail);

  /* Bugs are linked by the Linear integration; until then there are none to show. */
  gtk_list_box_append (self->bugs_list, dim_row_new (_("No linked bugs")));

  if (detail->id != self->conversation_id)
    gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroller)), 0);
  self->conversation_id = detail->id;
}

static void
fd_context_panel_dispose (GObject *object)
{
  FdContextPanel *self = FD_CONTEXT_PANEL (object);

  g_cancellable_cancel (self->billing_cancellable);
  g_clear_object (&self->billing_cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), FD_TYPE_CONTEXT_PANEL);

  G_OBJECT_CLASS (fd_context_panel_parent_class)->dispose (object);
}

static void
fd_context_panel_finalize (GObject *object)
{
  FdContextPanel *self = FD_CONTEXT_PANEL (object);

  g_free (self->contact_email);

  G_OBJECT_CLASS (fd_context_panel_parent_class)->finalize (object);
}

static void
fd_context_panel_class_init (FdContextPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = fd_context_panel_dispose;
  object_class->finalize = fd_context_panel_finalize;

  signals[OPEN_CONVERSATION] =
    g_signal_new ("open-conversation",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT64);

  gtk_widget_class_set_template_from_resource (widget_class, APP_PATH "/inbox/fd-context-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, scroller);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, contact_group);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, contact_list);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, org_group);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, org_list);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, billing_group);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, billing_list);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, recent_group);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, recent_list);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, bugs_group);
  gtk_widget_class_bind_template_child (widget_class, FdContextPanel, bugs_list);
  gtk_widget_class_bind_template_callback (widget_class, recent_row_activated_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "fdcontextpanel");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
fd_context_panel_init (FdContextPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Customer Context"),
                                  -1);
}

GtkWidget *
fd_context_panel_new (void)
{
  return g_object_new (FD_TYPE_CONTEXT_PANEL, NULL);
}
