/* fd-macro.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-macro"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fd-macro.h"

struct _FdMacro
{
  GObject   parent_instance;

  char     *id;
  char     *title;
  char     *body;
  gboolean  is_note;
};

G_DEFINE_FINAL_TYPE (FdMacro, fd_macro, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_TITLE,
  PROP_BODY,
  PROP_IS_NOTE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
fd_macro_finalize (GObject *object)
{
  FdMacro *self = (FdMacro *)object;

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->body, g_free);

  G_OBJECT_CLASS (fd_macro_parent_class)->finalize (object);
}

static void
fd_macro_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  FdMacro *self = FD_MACRO (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;

    case PROP_BODY:
      g_value_set_string (value, self->body);
      break;

    case PROP_IS_NOTE:
      g_value_set_boolean (value, self->is_note);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_macro_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  FdMacro *self = FD_MACRO (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;

    case PROP_TITLE:
      self->title = g_value_dup_string (value);
      break;

    case PROP_BODY:
      self->body = g_value_dup_string (value);
      break;

    case PROP_IS_NOTE:
      self->is_note = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fd_macro_class_init (FdMacroClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fd_macro_finalize;
  object_class->get_property = fd_macro_get_property;
  object_class->set_property = fd_macro_set_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_BODY] =
    g_param_spec_string ("body", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_IS_NOTE] =
    g_param_spec_boolean ("is-note", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fd_macro_init (FdMacro *self)
{
}

FdMacro *
fd_macro_new (const char *id,
              const char *title,
              const char *body,
              gboolean    is_note)
{
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (title != NULL, NULL);
  g_return_val_if_fail (body != NULL, NULL);

  return g_object_new (FD_TYPE_MACRO,
                       "id", id,
                       "title", title,
                       "body", body,
                       "is-note", is_note,
                       NULL);
}

const char *
fd_macro_get_id (FdMacro *self)
{
  g_return_val_if_fail (FD_IS_MACRO (self), NULL);

  return self->id;
}

const char *
fd_macro_get_title (FdMacro *self)
{
  g_return_val_if_fail (FD_IS_MACRO (self), NULL);

  return self->title;
}

const char *
fd_macro_get_body (FdMacro *self)
{
  g_return_val_if_fail (FD_IS_MACRO (self), NULL);

  return self->body;
}

gboolean
fd_macro_get_is_note (FdMacro *self)
{
  g_return_val_if_fail (FD_IS_MACRO (self), FALSE);

  return self->is_note;
}

/* The starter set, until the docs library provides macros of its own. */
static const struct {
  const char *id;
  const char *title;
  const char *body;
  gboolean    is_note;
} starter_set[] = {
  { "greeting",
    N_("Greeting and acknowledgement"),
    /* Translators: keep each {{name}} as written: it is replaced when the macro is used. */
    N_("Hi {{contact.first_name}},\n"
       "\n"
       "Thanks for reaching out, and sorry for the trouble. I’m looking into this now "
       "and will get back to you as soon as I know more.\n"
       "\n"
       "Best,\n"
       "{{agent.first_name}}"),
    FALSE },
  { "ask-har-file",
    N_("Ask for a HAR file and screenshots"),
    /* Translators: keep each {{name}} as written: it is replaced when the macro is used. */
    N_("Hi {{contact.first_name}},\n"
       "\n"
       "To see exactly what happens on your side, could you send us a HAR file of the "
       "problem and a screenshot of any error?\n"
       "\n"
       "1. Open the page where the problem happens.\n"
       "2. Open your browser’s developer tools (F12) and select the Network tab.\n"
       "3. Make sure recording is on, then reproduce the problem.\n"
       "4. Right-click in the list of requests and choose “Save all as HAR”.\n"
       "\n"
       "A HAR file can contain session cookies, so please attach it to this conversation "
       "rather than posting it anywhere public. Please mention #{{conversation.id}} if you "
       "send it separately.\n"
       "\n"
       "Thanks,\n"
       "{{agent.first_name}}"),
    FALSE },
  { "saml-mismatch",
    N_("SAML: audience or ACS URL mismatch"),
    /* Translators: keep each {{name}} as written: it is replaced when the macro is used. */
    N_("Hi {{contact.first_name}},\n"
       "\n"
       "This error usually means the settings in your identity provider do not match "
       "what {{org.name}}’s single sign-on expects. Could you check these in your "
       "identity provider’s app for us?\n"
       "\n"
       "• Audience URI (SP Entity ID): copy it again from the SSO settings page; it must "
       "match exactly, including the trailing slash.\n"
       "• ACS URL (Single sign-on URL): also copied exactly, with https.\n"
       "• Name ID format: EmailAddress, and the email sent is the user’s login email.\n"
       "• Signing certificate: the one uploaded to us is the current one and has not "
       "expired.\n"
       "• Clock: the identity provider’s clock is correct (assertions are valid for a few "
       "minutes only).\n"
       "\n"
       "If it still fails, a SAML trace (or a HAR file) of one login attempt shows us "
       "exactly which value differs.\n"
       "\n"
       "Best,\n"
       "{{agent.first_name}}"),
    FALSE },
  { "refund-processed",
    N_("Refund processed"),
    /* Translators: keep each {{name}} as written: it is replaced when the macro is used. */
    N_("Hi {{contact.first_name}},\n"
       "\n"
       "We’ve processed the refund for {{org.name}}. It goes back to the original payment "
       "method and usually shows up within 5 to 10 business days, depending on your bank.\n"
       "\n"
       "Let us know if anything else about your billing needs a look.\n"
       "\n"
       "Best,\n"
       "{{agent.first_name}}"),
    FALSE },
  { "payment-failed",
    N_("Payment failed: update the card"),
    /* Translators: keep each {{name}} as written: it is replaced when the macro is used. */
    N_("Hi {{contact.first_name}},\n"
       "\n"
       "The latest payment for {{org.name}}’s {{org.plan}} plan did not go through, "
       "usually because a card expired or the bank declined it.\n"
       "\n"
       "An admin can update the card under Settings → Billing → Payment method; we’ll "
       "retry the payment as soon as it’s updated. Your workspace keeps working in the "
       "meantime.\n"
       "\n"
       "Best,\n"
       "{{agent.first_name}}"),
    FALSE },
  { "feature-request",
    N_("Feature request logged"),
    /* Translators: keep each {{name}} as written: it is replaced when the macro is used. */
    N_("Hi {{contact.first_name}},\n"
       "\n"
       "Thanks for the suggestion. I’ve logged it with our product team, together with how "
       "{{org.name}} would use it, which helps them decide what to build next.\n"
       "\n"
       "I can’t promise a date, but we’ll update this conversation if it’s planned.\n"
       "\n"
       "Best,\n"
       "{{agent.first_name}}"),
    FALSE },
  { "closing-check-in",
    N_("Closing check-in"),
    /* Translators: keep each {{name}} as written: it is replaced when the macro is used. */
    N_("Hi {{contact.first_name}},\n"
       "\n"
       "I wanted to check in: is everything working for you now? If we don’t hear back in "
       "a few days, we’ll close this conversation; just reply to open it again.\n"
       "\n"
       "Best,\n"
       "{{agent.first_name}}"),
    FALSE },
  { "handover-note",
    N_("Hand-over note"),
    /* Translators: keep each {{name}} as written: it is replaced when the macro is used. */
    N_("Hand-over from {{agent.name}} on #{{conversation.id}} ({{conversation.subject}})\n"
       "\n"
       "Customer: {{contact.name}} <{{contact.email}}>, {{org.name}} ({{org.plan}})\n"
       "Problem: \n"
       "Tried so far: \n"
       "Waiting on: \n"
       "Next step: "),
    TRUE },
};

GListStore *
fd_macro_starter_set (void)
{
  GListStore *store = g_list_store_new (FD_TYPE_MACRO);

  for (guint i = 0; i < G_N_ELEMENTS (starter_set); i++)
    {
      g_autoptr(FdMacro) macro = fd_macro_new (starter_set[i].id,
                                               _(starter_set[i].title),
                                               _(starter_set[i].body),
                                               starter_set[i].is_note);

      g_list_store_append (store, macro);
    }

  return store;
}

static const char *
plan_label (const char *plan)
{
  static const struct {
    const char *name;
    const char *label;
  } plans[] = {
    { "free", NC_("plan", "Free") },
    { "starter", NC_("plan", "Starter") },
    { "pro", NC_("plan", "Pro") },
    { "business", NC_("plan", "Business") },
    { "enterprise", NC_("plan", "Enterprise") },
  };

  if (plan == NULL)
    return "";

  for (guint i = 0; i < G_N_ELEMENTS (plans); i++)
    {
      if (g_ascii_strcasecmp (plan, plans[i].name) == 0)
        return g_dpgettext2 (GETTEXT_PACKAGE, "plan", plans[i].label);
    }

  return plan;
}

static char *
first_word (const char *text)
{
  const char *start;
  const char *end;

  if (text == NULL)
    return g_strdup ("");

  start = text;
  while (*start != '\0' && g_unichar_isspace (g_utf8_get_char (start)))
    start = g_utf8_next_char (start);

  end = start;
  while (*end != '\0' && !g_unichar_isspace (g_utf8_get_char (end)))
    end = g_utf8_next_char (end);

  return g_strndup (start, end - start);
}

static void
context_set (GHashTable *context,
             const char *name,
             const char *value)
{
  g_hash_table_insert (context, g_strdup (name), g_strdup (value != NULL ? value : ""));
}

GHashTable *
fd_macro_context_new (const FdConversationDetail *detail)
{
  GHashTable *context;
  g_autofree char *contact_name = NULL;
  g_autofree char *contact_first = NULL;
  g_autofree char *agent_first = NULL;
  g_autofree char *id = NULL;

  context = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* Without a conversation every name is known and empty. */
  if (detail == NULL)
    {
      const char *names[] = { "contact.name", "contact.first_name", "contact.email",
                              "org.name", "org.plan", "agent.name", "agent.first_name",
                              "conversation.id", "conversation.subject" };

      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        context_set (context, names[i], "");
      return context;
    }

  contact_name = g_strstrip (g_strdup (detail->contact_name != NULL ? detail->contact_name : ""));
  contact_first = first_word (contact_name);
  if (*contact_first == '\0' && detail->contact_email != NULL)
    {
      const char *at = strchr (detail->contact_email, '@');

      g_free (contact_first);
      contact_first = at != NULL ? g_strndup (detail->contact_email, at - detail->contact_email)
                                 : g_strdup (detail->contact_email);
    }

  agent_first = first_word (detail->me_name);
  id = detail->id > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, detail->id) : g_strdup ("");

  context_set (context, "contact.name", contact_name);
  context_set (context, "contact.first_name", contact_first);
  context_set (context, "contact.email", detail->contact_email);
  context_set (context, "org.name", detail->organisation_name);
  context_set (context, "org.plan", plan_label (detail->plan));
  context_set (context, "agent.name", detail->me_name);
  context_set (context, "agent.first_name", agent_first);
  context_set (context, "conversation.id", id);
  context_set (context, "conversation.subject", detail->subject);

  return context;
}

static gboolean
is_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '_' || c == '-';
}

static void
add_name (GPtrArray  *names,
          const char *name)
{
  if (names == NULL)
    return;

  if (!g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL))
    g_ptr_array_add (names, g_strdup (name));
}

char *
fd_macro_expand (const char *body,
                 GHashTable *context,
                 GPtrArray  *unknown,
                 GPtrArray  *empty)
{
  GString *out;
  const char *p;

  g_return_val_if_fail (body != NULL, NULL);

  out = g_string_sized_new (strlen (body));
  p = body;

  while (*p != '\0')
    {
      const char *open = strstr (p, "{{");
      const char *name_start;
      const char *name_end;
      const char *close;
      g_autofree char *name = NULL;
      const char *value;

      if (open == NULL)
        {
          g_string_append (out, p);
          break;
        }

      g_string_append_len (out, p, open - p);

      name_start = open + 2;
      while (*name_start == ' ' || *name_start == '\t')
        name_start++;
      name_end = name_start;
      while (is_name_char (*name_end))
        name_end++;
      close = name_end;
      while (*close == ' ' || *close == '\t')
        close++;

      /* Not a variable ("{{" alone, "{{{x}}}", a brace in prose): the first brace is
       * text, and scanning goes on from the next one. */
      if (name_end == name_start || strncmp (close, "}}", 2) != 0)
        {
          g_string_append_c (out, '{');
          p = open + 1;
          continue;
        }

      name = g_strndup (name_start, name_end - name_start);
      p = close + 2;

      value = context != NULL ? g_hash_table_lookup (context, name) : NULL;
      if (value == NULL)
        {
          g_string_append_len (out, open, p - open);
          add_name (unknown, name);
        }
      else
        {
          /* Appended as is: a value that looks like a variable stays text. */
          g_string_append (out, value);
          if (*value == '\0')
            add_name (empty, name);
        }
    }

  return g_string_free (out, FALSE);
}
