/* fd-demo.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fd-demo"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "fd-demo.h"
#include "fd-sla.h"

/* The demo customers write to the support team of "Lumen", a made-up SaaS analytics
 * product. Everything below is generated from word lists and templates with our own
 * PRNG, so a seed and a "now" always give the same rows on every machine. */

#define SECOND ((gint64) 1000)
#define MINUTE (60 * SECOND)
#define HOUR   (60 * MINUTE)
#define DAY    (24 * HOUR)
#define WINDOW (90 * DAY)

#define MAX_MESSAGES 64
#define MAX_EVENTS   128

/* {{{ PRNG */

typedef struct
{
  guint64 state;
} Rng;

static inline guint64
rng_next (Rng *rng)
{
  guint64 z = (rng->state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static inline void
rng_init (Rng     *rng,
          guint32  seed,
          guint64  stream)
{
  rng->state = ((guint64) seed << 32) ^ (stream * G_GUINT64_CONSTANT (0xD1B54A32D192ED03));
  rng_next (rng);
}

/* Uniform in [0, n). */
static inline guint
rng_below (Rng   *rng,
           guint  n)
{
  return (guint) (((rng_next (rng) >> 32) * (guint64) n) >> 32);
}

static inline gint64
rng_between (Rng    *rng,
             gint64  lo,
             gint64  hi)
{
  if (hi <= lo)
    return lo;
  return lo + (gint64) (rng_next (rng) % (guint64) (hi - lo + 1));
}

static inline double
rng_double (Rng *rng)
{
  return (double) (rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);
}

static inline gboolean
rng_chance (Rng    *rng,
            double  p)
{
  return rng_double (rng) < p;
}

/* Log-uniform: most waits are short, a few are very long, as in a real queue. */
static inline gint64
rng_wait (Rng    *rng,
          gint64  lo,
          gint64  hi)
{
  double l = log ((double) lo);
  double h = log ((double) hi);

  return (gint64) exp (l + (h - l) * rng_double (rng));
}

static guint
rng_weighted (Rng          *rng,
              const guint  *weights,
              guint         n)
{
  guint total = 0;
  guint pick;

  for (guint i = 0; i < n; i++)
    total += weights[i];
  g_assert (total > 0);

  pick = rng_below (rng, total);
  for (guint i = 0; i < n; i++)
    {
      if (pick < weights[i])
        return i;
      pick -= weights[i];
    }
  return n - 1;
}

/* }}} */
/* {{{ Word lists */

typedef struct
{
  const char * const *items;
  guint n;
} List;

#define LIST(a) { a, G_N_ELEMENTS (a) }

static inline const char *
pick (Rng        *rng,
      const List *list)
{
  return list->items[rng_below (rng, list->n)];
}

/* The entry that goes with problem @variant of @n_variants, or a random one from a
 * generic list (see the comment above the topics). */
static inline const char *
pick_for (Rng        *rng,
          const List *list,
          guint       variant,
          guint       n_variants)
{
  if (list->n == n_variants)
    return list->items[variant];
  return pick (rng, list);
}

static const char * const first_names[] = {
  "Aisha", "Alejandro", "Amelia", "Anders", "Ananya", "Andrea", "Anna", "Arjun", "Beatriz",
  "Ben", "Björn", "Camille", "Carlos", "Chen", "Chloé", "Chidi", "Daniel", "Dmitri", "Elena",
  "Elif", "Emma", "Ethan", "Fatima", "Felix", "Freya", "Gabriel", "Grace", "Hannah", "Hiroshi",
  "Inês", "Isabel", "Jack", "James", "Jana", "Javier", "Jin", "Julia", "Kai", "Karim",
  "Katarzyna", "Kofi", "Laura", "Leila", "Liam", "Lina", "Lucas", "Luca", "Maja", "Marco",
  "Maria", "Mateo", "Mei", "Mia", "Mohammed", "Nadia", "Naomi", "Nikhil", "Noah", "Nora",
  "Olga", "Omar", "Oscar", "Paul", "Pedro", "Priya", "Rafael", "Rania", "Ravi", "Rosa",
  "Ryan", "Sakura", "Samuel", "Sara", "Sebastian", "Sofia", "Søren", "Tariq", "Thomas",
  "Tomás", "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zanele", "Zoë",
};

static const char * const last_names[] = {
  "Abara", "Adeyemi", "Almeida", "Andersson", "Bauer", "Becker", "Bianchi", "Brown", "Chen",
  "Costa", "Da Silva", "Dimitrov", "Dubois", "Eriksen", "Ferrari", "Fischer", "Garcia",
  "Gonzalez", "Gupta", "Haddad", "Hansen", "Hernández", "Hoffmann", "Horvat", "Ibrahim", "Ito",
  "Jensen", "Johansson", "Kaur", "Khan", "Kim", "Kovács", "Kowalczyk", "Kumar", "Larsen", "Lee",
  "Lefebvre", "Li", "Lopez", "Martin", "Martínez", "Mensah", "Meyer", "Moreau", "Müller",
  "Murphy", "Nakamura", "Nguyen", "Novák", "Nowak", "O'Brien", "Okafor", "Olsen", "Osei",
  "Patel", "Peters", "Petrov", "Rossi", "Russo", "Sato", "Schmidt", "Schneider", "Silva",
  "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Thompson", "Van der Berg", "Wagner",
  "Walker", "Wang", "Weber", "Williams", "Wilson", "Yamamoto", "Yilmaz", "Zhang",
};

static const char * const company_prefixes[] = {
  "North", "Blue", "Bright", "Copper", "Silver", "Iron", "Red", "Green", "Stone", "Clear",
  "Swift", "Open", "True", "High", "Deep", "Quiet", "Golden", "Oak", "Pine", "Star", "Sun",
  "Cloud", "Harbor", "Maple", "Cedar", "Polar", "Bold", "Lucky", "Kind", "Wild",
};

static const char * const company_roots[] = {
  "wave", "field", "leaf", "bridge", "stack", "forge", "path", "point", "line", "gate",
  "works", "light", "river", "peak", "mill", "craft", "signal", "loop", "nest", "yard",
  "spring", "rock", "bay", "wind",
};

static const char * const company_kinds[] = {
  "Analytics", "Labs", "Logistics", "Health", "Software", "Systems", "Studio", "Capital",
  "Media", "Robotics", "Foods", "Energy", "Insurance", "Learning", "Travel", "Retail", "Games",
  "Security", "Biotech", "Partners", "Consulting", "Manufacturing", "Legal", "Architects",
  "Mobility", "Payments", "Pharma", "Telecom",
};

typedef struct
{
  const char *tld;
  const char *form;     /* legal form, sometimes appended to the name */
  const char *currency; /* symbol customers write */
  guint weight;
} Country;

static const Country countries[] = {
  { "com", "Inc.", "$", 34 },
  { "io", NULL, "$", 14 },
  { "co", NULL, "$", 6 },
  { "app", NULL, "$", 4 },
  { "de", "GmbH", "€", 12 },
  { "co.uk", "Ltd", "£", 12 },
  { "fr", "SAS", "€", 7 },
  { "nl", "B.V.", "€", 5 },
  { "se", "AB", "€", 4 },
  { "dev", NULL, "$", 2 },
};

/* Two long names to exercise layouts, one of them with non-ASCII letters. */
static const struct
{
  const char *name;
  const char *slug;
  const char *domain;
  const char *currency;
} long_companies[] = {
  { "Consolidated Northern Hemisphere Agricultural Machinery & Irrigation Cooperative",
    "cnh-agri", "cnh-agri-coop.org", "$" },
  { "Vereinigte Süddeutsche Präzisionsmaschinenbau- und Verwaltungsgesellschaft mbH",
    "vsp-maschinenbau", "vsp-maschinenbau.de", "€" },
};

static const char * const free_mail_domains[] = {
  "gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "hotmail.co.uk",
  "gmx.de", "fastmail.com",
};

/* Extra domains of enterprise customers: prefix + slug + suffix. */
static const char * const extra_domain_forms[][2] = {
  { "", ".de" }, { "", ".co.uk" }, { "", ".fr" }, { "", "-group.com" }, { "", "-eu.com" },
  { "", ".net" }, { "mail.", ".com" },
};

static const char * const idps[] = {
  "Okta", "Azure AD", "Google Workspace", "OneLogin", "JumpCloud",
};

static const char * const plans[] = { "free", "starter", "pro", "business", "enterprise" };
static const char * const plan_titles[] = { "Free", "Starter", "Pro", "Business", "Enterprise" };
static const guint plan_seat_price[] = { 0, 8, 15, 25, 45 };

enum { PLAN_FREE, PLAN_STARTER, PLAN_PRO, PLAN_BUSINESS, PLAN_ENTERPRISE };

static const struct
{
  const char *name;
  const char *email;
  const char *team;
} demo_agents[] = {
  { "Sam Rivera", "sam@lumen.example", "Support" },
  { "Priya Natarajan", "priya@lumen.example", "Support" },
  { "Jonas Weber", "jonas@lumen.example", "Support" },
  { "Amara Okafor", "amara@lumen.example", "Support" },
  { "Lucía Fernández", "lucia@lumen.example", "Billing" },
  { "Tom Becker", "tom@lumen.example", "Billing" },
  { "Mei Tanaka", "mei@lumen.example", "Enterprise" },
  { "Daniel Kowalski", "daniel@lumen.example", "Enterprise" },
  { "Fatima El Idrissi", "fatima@lumen.example", "Enterprise" },
  { "Oliver Hughes", "oliver@lumen.example", "Tier 2" },
};

#define AGENT_ME 0

static const char * const tag_names[] = {
  "billing", "payment-failed", "refund", "plan-change", "seats", "sso", "saml", "oidc", "scim",
  "domains", "bug", "export", "performance", "notifications", "how-to", "feature-request",
  "account", "2fa", "enterprise",
};

static const char * const cards[] = {
  "Visa ending in 4242", "Mastercard ending in 5454", "Amex ending in 0005",
  "Visa ending in 1881", "Mastercard ending in 4444",
};

static const char * const browsers[] = {
  "Firefox 121", "Chrome 120", "Safari 17", "Edge 120", "Firefox ESR 115",
};

/* }}} */
/* {{{ Templates */

/* Placeholders: {first} {name} {org} {domain} {slug} {idp} {plan} {plan_next} {seats}
 * {seats_more} {amount} {invoice} {card} {req} {lin} {browser} {agent}. */

static const char * const greetings[] = {
  "Hi there,", "Hello,", "Hi Lumen team,", "Good morning,", "Hey folks,", "Hello support,",
};

static const char * const signoffs_org[] = {
  "Thanks,\n{first}", "Best regards,\n{name}\n{org}", "Cheers,\n{first}",
  "Thank you!\n{name}", "Kind regards,\n{name}\n{org}",
};

static const char * const signoffs_plain[] = {
  "Thanks,\n{first}", "Cheers,\n{first}", "Thank you!\n{name}",
};

static const char * const agent_greetings[] = {
  "Hi {first},", "Hello {first},", "Hi {first}, thanks for reaching out.",
  "Hi {first}, thanks for your patience.",
};

static const char * const agent_signoffs[] = {
  "Best,\n{agent}", "Kind regards,\n{agent}\nLumen Support", "Thanks,\n{agent}",
  "Cheers,\n{agent}",
};

static const char * const generic_followups[] = {
  "Thanks for the quick reply!",
  "Any update on this? It's still affecting us.",
  "Thanks, I'll check with my team and come back to you.",
  "OK, I'll try that now.",
  "I tried again just now, same result.",
  "Here's the screenshot you asked for.",
  "Sorry for the slow reply, I was out yesterday.",
};

/* Later turns of a long conversation, after the topic's own first question. */
static const char * const generic_agent_asks[] = {
  "Thanks, that helps. Could you try once more and tell me what you see now?",
  "Just checking in: did that help, or are you still seeing the problem?",
  "Could you send a screenshot of what you see? That will help me pin it down.",
};

static const char * const generic_agent_updates[] = {
  "Thanks for the details! I'm checking this with the team and will get back to you shortly.",
  "Quick update: we're still on it. I'll write again as soon as I know more.",
  "I've passed this on to a colleague who knows this area best; you'll hear from us today.",
};

static const char * const reopen_lines[] = {
  "Sorry to reopen this, but the problem is back this morning.",
  "Unfortunately it's happening again since yesterday, same as before.",
  "I spoke too soon — a colleague still sees exactly the same thing.",
  "Reopening this one: it worked for a few days and now it's broken again.",
};

static const char * const reopen_resolutions[] = {
  "Sorry this came back. I've looked into it again and fixed the underlying cause this "
  "time; it should stay fixed now.",
  "Thanks for letting us know. It turned out a second setting was involved; I've corrected "
  "it and tested it myself.",
  "Apologies! The first fix only covered part of the problem. It's fully sorted now — let me "
  "know if you see anything else.",
};

static const char * const generic_notes[] = {
  "Escalated to Tier 2 for a second look.",
  "Customer is in renewal talks — handle with care.",
  "Checked the account history: no similar issues before.",
  "Pinged engineering in #support-escalations, waiting for an answer.",
};

static const char * const bot_greetings[] = {
  "Thanks for your message! Our team usually replies within a few minutes during working "
  "hours. While you wait, our Help Center has answers to the most common questions: "
  "https://help.lumen.example",
  "Hi {first}! A member of our support team will be with you shortly. You can keep this "
  "window open or close it; we'll also reply by email.",
};

static const char bot_autoclose[] =
  "We haven't heard back from you in a week, so we've marked this conversation as resolved. "
  "Just reply if you still need help and it will reopen automatically.";

static const char * const csat_good[] = {
  "Quick and clear, thanks!", "Solved in minutes.", "Great support as always.",
  "Very patient and helpful.", "Exactly the answer I needed.",
};

static const char * const csat_bad[] = {
  "Took days to get a real answer.", "Still not fixed, just closed.",
  "I had to explain the problem three times.",
};

enum
{
  NEEDS_NONE = 0,
  NEEDS_PAID = 1 << 0,
  NEEDS_SAML = 1 << 1,
  NEEDS_OIDC = 1 << 2,
  NEEDS_SCIM = 1 << 3,
  NEEDS_ORG = 1 << 4,
};

typedef struct
{
  const char *tags[3];
  const char *team;
  guint weight_std;
  guint weight_ent;
  guint weight_noorg;
  int priority_bias;
  guint needs;
  List subjects;
  List problems;
  List details;
  List asks;
  List updates;
  List followups;
  List resolutions;
  List notes;
  List attachments; /* "name|content type" */
} Topic;

/* Within a topic, a list with as many entries as the topic has problems is aligned with
 * them: entry i is the subject, first answer, first follow-up, resolution or note that
 * goes with problem i. Shorter lists are generic and picked at random. */

/* Payment failures */
static const char * const pay_subjects[] = {
  "Payment failed for our {plan} subscription",
  "Invoice {invoice} shows as past due",
  "Card declined when updating billing details",
  "Failed payment after switching cards",
};
static const char * const pay_problems[] = {
  "Our renewal payment failed this morning and now there is a red banner in the workspace "
  "saying the subscription is past due. The card on file is a company {card} and it has "
  "plenty of limit, so I don't understand what went wrong.",
  "We got an email saying invoice {invoice} for {amount} could not be charged. Nothing has "
  "changed on our side as far as I know. Could you tell me what the bank actually said?",
  "I tried to update our card in the billing settings three times and each time it says "
  "\"Your card was declined\". Our finance team confirmed the card works for other vendors.",
  "Our account shows a failed payment of {amount}. We moved to a new corporate card last "
  "month, maybe the old one was still on file? I need to make sure the team doesn't lose "
  "access.",
};
static const char * const pay_details[] = {
  "We're on the {plan} plan with {seats} seats. The invoice number is {invoice}, if that helps.",
  "The bank says they haven't seen any attempt from you today, which is strange.",
  "Our finance department needs this sorted before the end of the month, otherwise the "
  "approval has to go through again.",
  "Is there a way to pay this one by bank transfer instead?",
};
static const char * const pay_asks[] = {
  "I can see the failed charge on invoice {invoice}: the bank returned a generic decline, "
  "which usually means their fraud check blocked it. Could you ask your bank to allow "
  "charges from Lumen and let me know when that's done? I'll retry the payment right away.",
  "I'm sorry about the trouble. The decline code we received is \"do_not_honor\", which only "
  "the card issuer can explain. Would you like to add a different card, or should I send "
  "you a payment link for this invoice?",
  "A decline while saving a card usually means the bank wanted a 3-D Secure confirmation "
  "that didn't complete. Could you try once more and approve the request in your banking "
  "app when it appears?",
  "You're right: the old {card} is still the default. Could you add the new card under "
  "Settings → Billing and make it the default? I'll retry {invoice} as soon as it's there.",
};
static const char * const pay_updates[] = {
  "I've paused the payment reminder emails for the next 7 days so nobody on your team gets "
  "locked out while we sort this out.",
  "I've asked our billing engineers to look at the retry log for {invoice}; I'll update you "
  "here as soon as I hear back.",
};
static const char * const pay_followups[] = {
  "Our bank says they've allowed your charges now. Can you try again?",
  "I've added a new {card} and set it as the default. Please retry.",
  "That worked — the banking app asked me to confirm and the card is saved now.",
  "Done, the new card is the default now.",
};
static const char * const pay_resolutions[] = {
  "Good news: I retried invoice {invoice} and the payment of {amount} went through. The "
  "banner will disappear within a few minutes and you'll get a receipt by email. Let me "
  "know if anything else looks off!",
  "The payment of {amount} succeeded with the new card. Your subscription is active again "
  "and nothing was lost in the meantime. I've also sent the receipt to your billing contact.",
  "Thanks! With the card saved I retried {invoice}, and it's paid now. You'll get the "
  "receipt by email.",
  "Perfect. I retried {invoice} on the new card and the {amount} went through; the past-due "
  "banner is gone.",
};
static const char * const pay_notes[] = {
  "Stripe shows card_declined / generic_decline on {invoice}. Customer has {seats} seats, no "
  "previous failures. Paused dunning for 7 days.",
  "Stripe: do_not_honor on {invoice}. Second failed attempt this quarter; if it happens "
  "again, suggest switching them to invoice billing.",
  "Setup intent failed with authentication_required — 3DS not completed.",
  "Default payment method was still the expired card; new card added but not set as default.",
};
static const char * const pay_attachments[] = {
  "invoice.pdf|application/pdf", "bank-statement.png|image/png",
};

/* Refunds */
static const char * const ref_subjects[] = {
  "Refund request for a duplicate charge", "Charged after cancelling",
  "Credit for removed seats?", "Upgraded by mistake — refund?",
};
static const char * const ref_problems[] = {
  "We were charged {amount} twice on the same day for our {plan} subscription. Could you "
  "refund the duplicate charge, please?",
  "I cancelled our subscription last week but we were still charged {amount} yesterday. "
  "I'd like a refund for that charge.",
  "We removed {seats_more} seats in the middle of the billing period and I expected a credit, "
  "but invoice {invoice} still shows the full amount.",
  "One of our admins upgraded to {plan_next} by mistake. We don't need it; can the difference "
  "be refunded?",
};
static const char * const ref_details[] = {
  "Our accountant flagged it when reconciling the card statement.",
  "The charges appear on the statement as LUMEN*SUBSCRIPTION.",
  "I've attached the statement.",
  "We've been customers for years and this is the first time something like this happened.",
};
static const char * const ref_asks[] = {
  "Thanks for flagging this. I can see two charges of {amount}; one of them was a retry after "
  "a timeout on our side. Before I refund it, can you confirm the refund should go back to "
  "the original card?",
  "I'm sorry about that. I can see your cancellation, so that charge shouldn't have "
  "happened. Should the refund go back to the card it was taken from?",
  "Seats removed mid-term are credited, but the credit only shows on the next invoice. "
  "Would you prefer it that way, or as a refund to the card?",
  "I can move you back to {plan} and refund the difference. Can you confirm that nobody has "
  "started using the {plan_next} features in the meantime?",
};
static const char * const ref_updates[] = {
  "I've raised this with our billing team, since refunds of this size need a second "
  "approval. I'll come back to you today.",
};
static const char * const ref_followups[] = {
  "Yes, the refund should go to the same card, the {card}.",
  "Yes, back to the original card, please.",
  "A credit on the next invoice is fine for us.",
  "Confirmed, nobody used the new features. Please move us back.",
};
static const char * const ref_resolutions[] = {
  "Done: the duplicate charge of {amount} has been refunded, and I've added a note to your "
  "account so the same invoice can't be charged twice. You'll see it on your statement "
  "within 5–10 business days.",
  "I've refunded {amount} to your card and made sure the cancellation is in place, so there "
  "won't be any further charges. Sorry again for the trouble!",
  "I've applied a credit of {amount} to your account; it will be used automatically on your "
  "next invoice.",
  "You're back on {plan}, and I've refunded the difference of {amount} to your card.",
};
static const char * const ref_notes[] = {
  "Duplicate charge confirmed in Stripe: a second PaymentIntent was created after a gateway "
  "timeout. Refund approved.",
  "Customer cancelled on time; the charge came from the old renewal schedule. A full refund "
  "is right.",
  "Seat decrease was applied after the invoice was finalised; crediting the difference.",
  "Refund above the agent limit — asked Lucía for the second approval.",
};
static const char * const ref_attachments[] = {
  "card-statement.pdf|application/pdf", "statement.png|image/png",
};

/* Plan changes */
static const char * const plan_subjects[] = {
  "Upgrade from {plan} to {plan_next}", "Downgrade at the end of the term",
  "Switch to annual billing", "Trial of {plan_next}?",
};
static const char * const plan_problems[] = {
  "We'd like to move from the {plan} plan to {plan_next} before our renewal. Will we be "
  "charged the full price or a prorated amount?",
  "Our budget was cut and we need to downgrade to a cheaper plan at the end of this term. "
  "Which features would we lose?",
  "Can we switch from monthly to annual billing? Our finance team prefers one invoice a year.",
  "We are evaluating {plan_next} for the audit log and SSO features. Is there a trial we "
  "could use before committing?",
};
static const char * const plan_details[] = {
  "We're {seats} people at the moment and growing.",
  "Our renewal is coming up soon, so timing matters.",
  "Please also send me a quote we can put through procurement.",
};
static const char * const plan_asks[] = {
  "Happy to help! The change is prorated: you only pay the difference for the rest of the "
  "term. Would you like it to take effect today, or at the next renewal?",
  "On a smaller plan you would lose SSO enforcement, the audit log and priority support; "
  "your data stays as it is. Should I schedule the change for your renewal date?",
  "Sure thing. Before I make the switch, can you confirm the billing email the annual "
  "invoice should go to?",
  "I can turn on a 14-day trial of {plan_next} for your workspace. Should it start today?",
};
static const char * const plan_updates[] = {
  "I've prepared a quote for {plan_next} with {seats} seats and sent it to your billing email "
  "for approval.",
};
static const char * const plan_followups[] = {
  "Today is fine, we need the new features now.", "Yes, at the renewal, please.",
  "The billing email is finance@{domain}.", "Yes please, start it today.",
};
static const char * const plan_resolutions[] = {
  "All set: your workspace is now on {plan_next}. The prorated amount of {amount} will appear "
  "on your next invoice. The new features are available right away; you may need to reload "
  "the page.",
  "I've scheduled the change for your renewal date, so nothing changes until then. You'll "
  "get an email a week before as a reminder.",
  "Your subscription now renews annually. The first annual invoice has been sent to "
  "finance@{domain}.",
  "Your {plan_next} trial is active for 14 days. At the end you go back to {plan} "
  "automatically unless you decide to upgrade.",
};
static const char * const plan_notes[] = {
  "Upgrade request — qualifies for mid-term proration. Quote sent.",
  "Downgrade: they'll lose SSO enforcement. Warned the customer; Enterprise team in CC.",
  "Switching to annual; check whether their procurement needs a PO number on the invoice.",
  "Trial started; sales asked to follow up before it ends.",
};

/* Seats */
static const char * const seat_subjects[] = {
  "Need {seats_more} more seats", "How are seats counted?", "Remove inactive seats",
  "Invites blocked: workspace is full",
};
static const char * const seat_problems[] = {
  "We're onboarding a new team next week and need {seats_more} additional seats. Can you add "
  "them to our subscription?",
  "We got a warning that we're over our seat limit. We have {seats} seats purchased, but I "
  "count fewer active people. How are seats counted?",
  "Several people have left the company and their accounts are deactivated. Will we still "
  "be billed for their seats?",
  "Our admin can't invite anyone anymore; the invite button says the workspace is full.",
};
static const char * const seat_details[] = {
  "We'd like the new seats to be billed on the same renewal date as the rest.",
  "Guests and deactivated users shouldn't count, right?",
  "It's blocking a training session tomorrow.",
};
static const char * const seat_asks[] = {
  "Of course. Would you like me to add {seats_more} seats now, prorated until your renewal?",
  "Seats are counted per active member; guests are free. Would you like me to send you the "
  "list of members we count?",
  "Deactivated members stop counting at the next billing cycle. Should I take them out of "
  "the count right away instead?",
  "All {seats} seats are in use. Should I add more, or would you rather deactivate people "
  "who have left?",
};
static const char * const seat_updates[] = {
  "I've temporarily raised your seat limit by 10 so nobody is blocked while we sort out the "
  "billing side.",
};
static const char * const seat_followups[] = {
  "Yes, please add them now.", "Yes, please send the list.",
  "Yes, please remove them now.", "Please add 10 more seats.",
};
static const char * const seat_resolutions[] = {
  "Done: your subscription now has {seats_more} more seats, prorated to your renewal date. "
  "Your admins can invite people right away.",
  "I've sent the member list to your email. The people marked as guests don't count, so "
  "you are within your limit once the two deactivated accounts drop off.",
  "I've removed the deactivated members from the seat count; your next invoice will reflect "
  "the lower number.",
  "I've added 10 seats, prorated to your renewal date, and invites work again.",
};
static const char * const seat_notes[] = {
  "Account is on annual billing; seat additions are co-termed.",
  "Over the seat limit since last month, mostly guests counted by the old rule.",
  "Deactivated members still counted until the next cycle — expected behaviour.",
  "Temporary raise granted; check again at renewal.",
};

/* SAML */
static const char * const saml_subjects[] = {
  "SAML login fails: invalid signature", "SSO error \"Assertion is not yet valid\"",
  "Audience mismatch after moving to {idp}", "Everyone locked out: SSO is enforced and failing",
};
static const char * const saml_problems[] = {
  "Since this morning nobody at {org} can log in through SSO. {idp} sends them back with the "
  "error \"SAML signature validation failed\". We rotated the signing certificate in {idp} "
  "yesterday, could that be related?",
  "Some of our users get \"Assertion is not yet valid (NotBefore)\" when signing in with SSO, "
  "others can log in fine. It seems random.",
  "We're moving our SAML set-up to {idp} and every login fails with \"Audience mismatch\". "
  "As far as I can tell I copied the Entity ID from the Lumen settings page.",
  "Our SSO is enforced, so right now the whole team is locked out. The error page says "
  "\"SAML response could not be verified\". Please help urgently.",
};
static const char * const saml_details[] = {
  "We use {idp}; SSO enforcement is on for {domain}.",
  "The audit log in {idp} shows the SAML response was sent successfully.",
  "I've attached the SAML response from the browser's developer tools.",
  "This is blocking about {seats} people.",
};
static const char * const saml_asks[] = {
  "The signature error usually means {idp} signs with the new certificate while Lumen still "
  "has the old one. Could you download the new certificate (or the metadata XML) from {idp} "
  "and upload it under Settings → Security → SSO?",
  "\"Not yet valid\" means the assertion's NotBefore time is in the future from our point of "
  "view, usually because the clock of the identity provider is a few minutes ahead. Could "
  "you check the time on your IdP server and whether NTP is running?",
  "An audience mismatch means the Audience in the assertion doesn't match our SP Entity ID. "
  "Ours is https://app.lumen.example/saml/{slug} — could you compare it with the Audience URI "
  "configured in {idp}, including the trailing slash?",
  "I've temporarily allowed password login for your admins so someone can get in. Could you "
  "send us a SAML trace of a failing login? The SAML-tracer browser extension captures it; "
  "the response contains no passwords.",
};
static const char * const saml_updates[] = {
  "I've asked our identity engineers to look at the failing responses in our logs; they can "
  "see the exact reason we reject them.",
};
static const char * const saml_followups[] = {
  "I've uploaded the new certificate. Trying again now.",
  "The IdP clock was 4 minutes ahead — NTP had stopped after a reboot. Fixed now.",
  "There was a trailing slash in the Audience URI. Fixed it.",
  "Attached is the SAML trace.",
};
static const char * const saml_resolutions[] = {
  "Good news: I can see successful SSO logins from {domain} in the last few minutes. The new "
  "certificate is active, and the old one can be removed from {idp} once all sessions have "
  "rotated.",
  "Glad it's sorted! With the clock fixed, assertions validate again. We allow 3 minutes of "
  "clock skew; anything more is rejected for security reasons.",
  "That was it: the Audience matches now and logins from {domain} succeed.",
  "The trace showed {idp} still signing with an expired certificate. Your admin uploaded the "
  "new one, logins work again, and I've switched the temporary password login off.",
};
static const char * const saml_notes[] = {
  "Our logs: signature check failed with a certificate fingerprint mismatch — they rotated the "
  "certificate in the IdP only.",
  "Clock skew of about 240 s on their IdP. Not a bug on our side.",
  "Audience mismatch: they used the ACS URL as the Entity ID. Common with {idp}; worth a doc "
  "update.",
  "SSO enforced and broken: granted admin break-glass access, remember to revoke it.",
};
static const char * const saml_attachments[] = {
  "saml-response.xml|application/xml", "sso-error.png|image/png",
  "saml-trace.json|application/json",
};

/* OIDC */
static const char * const oidc_subjects[] = {
  "OIDC login loops back to the sign-in page", "invalid_client error with OpenID Connect",
  "Redirect URI mismatch with {idp}",
};
static const char * const oidc_problems[] = {
  "After we switched SSO to OpenID Connect, users are redirected to {idp}, sign in, and then "
  "land back on the Lumen sign-in page in a loop.",
  "Our OIDC set-up returns \"invalid_client\" when Lumen exchanges the code. The client secret "
  "was copied straight from {idp}.",
  "{idp} shows \"redirect_uri_mismatch\" when people try to log in.",
};
static const char * const oidc_details[] = {
  "SSO is not enforced yet, so password login still works.",
  "We created the app in {idp} following your help article.",
};
static const char * const oidc_asks[] = {
  "The login loop usually happens when the email claim is missing from the ID token. Could "
  "you check that the app in {idp} grants the email and profile scopes?",
  "invalid_client usually means the secret has expired or was copied with a trailing space. "
  "Could you generate a new secret and paste it again?",
  "The redirect URI must be exactly https://app.lumen.example/oidc/callback. Could you check "
  "it in {idp}?",
};
static const char * const oidc_followups[] = {
  "The email scope wasn't granted. Added it now.",
  "Generated a new secret and pasted it again, carefully this time.",
  "Fixed the redirect URI, there was an old staging URL in there.",
};
static const char * const oidc_resolutions[] = {
  "Perfect — with the email claim in the token, I see successful OIDC logins from {domain}. "
  "You can enforce SSO whenever you're ready.",
  "Logins are working with the new secret. Remember to renew it before it expires; {idp} "
  "will warn you 30 days ahead.",
  "With the redirect URI fixed, logins from {domain} go through. You can enforce SSO "
  "whenever you're ready.",
};
static const char * const oidc_notes[] = {
  "ID token without an email claim — login loop. Frequent with new {idp} apps.",
  "Customer pasted the secret ID instead of the secret value.",
  "Redirect URI still pointed at their old staging host.",
};

/* SCIM */
static const char * const scim_subjects[] = {
  "SCIM provisioning not creating users", "Deprovisioned users still have access",
  "SCIM sync fails with 409 Conflict", "Groups not syncing from {idp}",
};
static const char * const scim_problems[] = {
  "We enabled SCIM provisioning from {idp} but new hires are not showing up in Lumen. The "
  "provisioning log in {idp} shows errors.",
  "Two people left the company last week and were removed in {idp}, but they still appear as "
  "active members in Lumen.",
  "The {idp} provisioning log shows \"409 Conflict: user already exists\" for about 30 users.",
  "Groups we push from {idp} don't appear as teams in Lumen.",
};
static const char * const scim_details[] = {
  "The SCIM token was generated a few months ago.",
  "This matters for our SOC 2 audit — deprovisioning has to be reliable.",
  "About {seats} users are in scope.",
};
static const char * const scim_asks[] = {
  "Could you send the times of two failing provisioning attempts from the {idp} log? I'll "
  "match them against ours.",
  "Deprovisioning from {idp} sends active=false; could you check that the \"Deactivate "
  "users\" option is on in the provisioning settings?",
  "A 409 means those users already exist in Lumen with the same email, created before SCIM "
  "was turned on. We can link them to the SCIM identities; could you confirm that's what you "
  "want?",
  "Groups are only sent when \"Push groups\" is on for each group in {idp}. Could you check "
  "that setting for the missing ones?",
};
static const char * const scim_updates[] = {
  "I've asked our identity engineers to compare the requests from {idp} with what we stored; "
  "I'll come back to you as soon as I hear from them.",
};
static const char * const scim_followups[] = {
  "Here are two timestamps from this morning.",
  "The deactivate option was off, turned it on now.",
  "Yes, please link them.",
  "Push groups was off for those groups. Enabled it.",
};
static const char * const scim_resolutions[] = {
  "Found it: the SCIM token was revoked when the admin who created it left. With the new "
  "token your admin generated, the last sync from {idp} succeeded and the new hires are in.",
  "Removed users are now deactivated within a minute of the change in {idp}, and the two "
  "people from last week are deactivated.",
  "All users are now linked and the 409 errors are gone from the provisioning log.",
  "The groups from {idp} now appear as teams in Lumen; membership changes follow within a "
  "few minutes.",
};
static const char * const scim_notes[] = {
  "SCIM token revoked on admin offboarding — known behaviour, LIN-{lin} tracks making this "
  "clearer.",
  "\"Deactivate users\" was off in their {idp} provisioning settings.",
  "Pre-existing users were blocking SCIM creates; linked them with the admin tool.",
  "Push groups disabled in {idp}; nothing on our side.",
};

/* Domain verification */
static const char * const dom_subjects[] = {
  "TXT record added but the domain is still unverified",
  "Verify a second domain for our subsidiary",
};
static const char * const dom_problems[] = {
  "We added the TXT record for {domain} two days ago, but the domain still shows as "
  "unverified in Lumen.",
  "We need to verify a second domain for our subsidiary so their people can use SSO too. "
  "How does that work?",
};
static const char * const dom_details[] = {
  "dig shows the record, I checked.",
  "Our DNS is managed by a different team, so each change takes a day.",
};
static const char * const dom_asks[] = {
  "The record must be on the root of {domain} and contain exactly the token from the settings "
  "page, starting with lumen-domain-verification=. Could you paste the output of "
  "`dig TXT {domain}`?",
  "Each domain needs its own TXT record. Could you add the new domain under Settings → "
  "Domains so you get its token?",
};
static const char * const dom_followups[] = {
  "There were quotes around the value, removed them now.",
  "Added the subsidiary domain and its TXT record.",
};
static const char * const dom_resolutions[] = {
  "{domain} is verified now. Everyone with an address at that domain can use SSO.",
  "Verified! We check new records every 15 minutes, and yours went through just now, so "
  "people at the subsidiary can use SSO.",
};
static const char * const dom_notes[] = {
  "The TXT record value was wrapped in extra quotes by their DNS provider.",
  "Second domain for a subsidiary; same IdP.",
};

/* Bug: export */
static const char * const exp_subjects[] = {
  "Export stuck at 99%", "Exported file is empty", "Every export fails since yesterday",
};
static const char * const exp_problems[] = {
  "When I export the monthly report to CSV, the progress bar stops at 99% and then says "
  "\"Export failed, please try again\". Smaller reports work.",
  "The XLSX export downloads a file with only the header row, no data.",
  "Since yesterday every export fails with \"Something went wrong (request {req})\".",
};
static const char * const exp_details[] = {
  "I'm using {browser}.", "It worked fine last week.", "Colleagues see the same thing.",
};
static const char * const exp_asks[] = {
  "Thanks for reporting this! Does the same happen with a date range of one week?",
  "Could you tell me the name of the report and roughly when you last tried, so I can find "
  "the request in our logs?",
  "Thanks for the request ID. Does it also fail for a small report, such as last week's?",
};
static const char * const exp_updates[] = {
  "I've reproduced it and filed it for our engineers as LIN-{lin}; I'll keep you posted.",
  "Engineering has a fix in review; it should ship in the next release.",
};
static const char * const exp_followups[] = {
  "One week works, a full month doesn't.",
  "The report is called \"Monthly usage by team\", I tried at 10:15.",
  "Yes, even a one-day report fails.",
};
static const char * const exp_resolutions[] = {
  "The fix for LIN-{lin} shipped this morning: large exports now run in the background and "
  "you'll get an email with the download link. Could you give it another try?",
  "The empty file came from a filter on a custom field that was deleted. I removed the "
  "filter and the export has all its rows again.",
  "Our export service had an incident yesterday, which is what request {req} ran into. It's "
  "fixed and exports work again — sorry for the trouble!",
};
static const char * const exp_notes[] = {
  "Export worker times out at 300 s for more than 100k rows. Filed LIN-{lin}.",
  "Report filter references a deleted custom field; the export writes headers only.",
  "Export service incident yesterday, see the status page.",
};
static const char * const exp_attachments[] = {
  "export-error.png|image/png", "console.log|text/plain",
};

/* Bug: performance */
static const char * const perf_subjects[] = {
  "Dashboards take a minute to load", "Lumen is sluggish today",
  "Charts never finish loading in {browser}",
};
static const char * const perf_problems[] = {
  "Our main dashboard takes about a minute to load since Monday, and sometimes it times out "
  "completely.",
  "Everything in the app feels slow today, especially switching between dashboards.",
  "The charts on the team dashboard spin forever in {browser}.",
};
static const char * const perf_details[] = {
  "We have around 40 widgets on that dashboard.",
  "Our network team confirmed nothing changed on our side.",
  "It's the dashboard our leadership looks at every morning.",
};
static const char * const perf_asks[] = {
  "Could you share the dashboard's URL and a HAR file of a slow load? The HAR shows which "
  "requests are slow.",
  "We're seeing higher load in your region right now. Is it still slow for you at the "
  "moment?",
  "Does it load in a private window? Some browser extensions block the requests the charts "
  "make.",
};
static const char * const perf_updates[] = {
  "Our engineers found a slow query for dashboards with many filters; they're working on it "
  "under LIN-{lin}.",
};
static const char * const perf_followups[] = {
  "Attached the HAR file.", "It's a bit better now but still slow.",
  "A private window works! It was an ad blocker.",
};
static const char * const perf_resolutions[] = {
  "The query fix is live; your dashboard now loads in about two seconds in our tests. Let me "
  "know if you still see slowness!",
  "Thanks for your patience. We moved your workspace to the new cluster and load times are "
  "back to normal.",
  "Glad you found it! Allowing app.lumen.example in the extension keeps the charts working.",
};
static const char * const perf_notes[] = {
  "p95 for their workspace is 45 s — dashboard with 38 widgets and nested filters.",
  "Region under load since the last release. Linked to LIN-{lin}.",
  "Browser extension blocking /api/metrics requests.",
};
static const char * const perf_attachments[] = {
  "network.har|application/json", "screen-recording.mp4|video/mp4",
};

/* Bug: notifications */
static const char * const notif_subjects[] = {
  "Email notifications not arriving", "No Slack alerts since yesterday",
  "Duplicate notification emails",
};
static const char * const notif_problems[] = {
  "Several of us stopped receiving email notifications for mentions. They still show up in "
  "the app.",
  "The Slack integration stopped posting alerts to our #ops channel yesterday.",
  "Everyone on the team receives each notification email three times.",
};
static const char * const notif_details[] = {
  "We didn't change anything on our side.", "It's been like this for two days.",
};
static const char * const notif_asks[] = {
  "Could you check whether notifications@lumen.example is on your mail server's allow list? "
  "Some providers started rejecting us after a DNS change last week.",
  "Could you reconnect the Slack integration under Settings → Integrations? A Slack admin "
  "may have revoked the token.",
  "Could you forward one of the duplicates with its full headers? They show which of our "
  "senders sent it.",
};
static const char * const notif_followups[] = {
  "Our IT team allowed the address, let's see.", "Reconnected it, a test alert arrived.",
  "Forwarded one with the full headers.",
};
static const char * const notif_resolutions[] = {
  "Notifications are flowing again now that your mail gateway accepts ours. Sorry for the "
  "trouble!",
  "Great — alerts will post to #ops again from now on.",
  "Our engineers fixed the duplicate sending; you should get exactly one email per "
  "notification from now on.",
};
static const char * const notif_notes[] = {
  "Bounce logs show 550 from their mail gateway.",
  "Slack token revoked by their workspace admin.",
  "Duplicate sends caused by a retry bug, fixed in LIN-{lin}.",
};

/* How-to */
static const char * const how_subjects[] = {
  "How do I invite my team?", "Can we change our workspace URL?",
  "How to create an API token", "Where do I find invoices?",
  "How to transfer workspace ownership", "Can I restrict who creates dashboards?",
};
static const char * const how_problems[] = {
  "I'm new to Lumen and I'd like to invite my colleagues. Is there a way to invite everyone "
  "at {domain} at once instead of one by one?",
  "We've renamed the company and would like the workspace URL to match. Is that possible "
  "without breaking links?",
  "I need an API token to connect our data warehouse. Where do I create one, and can it be "
  "read-only?",
  "Where can I download past invoices? Our accountant needs all of last year's.",
  "Our workspace owner is leaving the company. How do we transfer ownership to me?",
  "Can I restrict dashboard creation to admins only?",
};
static const char * const how_details[] = {
  "Thanks for the great product, by the way!", "A link to the documentation would be perfect.",
  "We're on the {plan} plan.",
};
static const char * const how_asks[] = {
  "Sure! Are you an admin of the workspace? Some of these settings are only visible to admins.",
};
static const char * const how_followups[] = {
  "Yes, I'm an admin.", "Yes, I have admin rights.",
};
static const char * const how_resolutions[] = {
  "You can let everyone at {domain} join automatically under Settings → Members → Domain "
  "join. Once the domain is verified, new colleagues can sign up and land in your workspace.",
  "Yes: Settings → Workspace → URL. Old links keep redirecting for 90 days.",
  "API tokens live under Settings → API. Choose the \"Read only\" scope for your warehouse "
  "connection; the token is shown only once, so keep it in your secrets manager.",
  "All invoices are under Settings → Billing → Invoices, where you can download them as PDF "
  "or send them to another email address.",
  "The current owner can transfer ownership under Settings → Workspace → Owner. If they have "
  "already left, reply here from an admin account and we'll verify and transfer it for you.",
  "Yes, under Settings → Permissions you can set \"Create dashboards\" to Admins only.",
};
static const char * const how_notes[] = {
  "Good candidate for a Help Center article; third time this week.",
};

/* Feature requests */
static const char * const feat_subjects[] = {
  "Feature request: dark mode for reports", "Would love bulk editing",
  "Request: export the audit log", "Scheduled reports to Slack?",
  "Support for custom fiscal years",
};
static const char * const feat_problems[] = {
  "It would be great if reports supported dark mode; we show them on a wall screen and the "
  "white background is blinding.",
  "We often need to change the owner of 50+ dashboards at once. Bulk editing would save us "
  "hours.",
  "Our security team asks whether the audit log can be exported, ideally streamed to our SIEM.",
  "Could Lumen send a scheduled report to a Slack channel every Monday?",
  "Our fiscal year starts in April; it would help if reports could use fiscal quarters.",
};
static const char * const feat_details[] = {
  "Happy to jump on a call with your product team.",
  "This would make a big difference in our renewal discussion.",
  "Several people on my team asked for this.",
};
static const char * const feat_asks[] = {
  "Thanks for the suggestion! Could you tell me a bit more about how you'd use it, so I can "
  "give our product team the full picture?",
};
static const char * const feat_followups[] = {
  "We'd use it every week in our leadership meeting.",
  "Mostly to save time; today it's a manual job every month.",
};
static const char * const feat_resolutions[] = {
  "Thank you! I've logged this with our product team and linked your organisation so they can "
  "reach out when it's on the roadmap.",
  "Good news: this is on the roadmap for next quarter. I've added {org} to the list of "
  "customers to notify when it ships.",
  "Thanks for the idea. It isn't planned right now, but I've shared it with the product team "
  "together with your use case.",
};
static const char * const feat_notes[] = {
  "Feature request logged on the feedback board: {org} ({plan}, {seats} seats).",
  "Fourth request for this from an enterprise customer.",
};

/* Account access */
static const char * const acc_subjects[] = {
  "Locked out after losing my phone", "Password reset email never arrives",
  "2FA codes not accepted",
};
static const char * const acc_problems[] = {
  "I got a new phone and my authenticator codes are gone. I can't log in anymore.",
  "The password reset email never arrives, I've tried three times.",
  "My two-factor codes are rejected even though they are fresh.",
};
static const char * const acc_details[] = {
  "My email address is at {domain}.",
  "I have a presentation this afternoon, so any help is appreciated.",
};
static const char * const acc_asks[] = {
  "For your security, I need to verify your identity before resetting two-factor "
  "authentication. Could a workspace admin confirm this request by replying here?",
  "Could you check your spam folder for mail from no-reply@lumen.example? If it isn't there, "
  "I can send you a reset link directly once I've verified the account.",
  "Two-factor codes depend on your phone's clock. Could you check that the time is set "
  "automatically?",
};
static const char * const acc_followups[] = {
  "My admin replied, please go ahead.", "Nothing in spam. Please send it directly.",
  "The clock was off, the codes work now.",
};
static const char * const acc_resolutions[] = {
  "I've reset two-factor authentication on your account. You'll be asked to set it up again "
  "at the next login; this time, keep the recovery codes somewhere safe.",
  "I've sent a fresh reset link to your address; it's valid for one hour.",
  "Glad you're back in! If it happens again, turning automatic time on fixes it.",
};
static const char * const acc_notes[] = {
  "Identity confirmed by a workspace admin. 2FA reset.",
  "Their mail gateway quarantines our reset emails.",
  "Phone clock drift; nothing on our side.",
};

static const char * const generic_attachments[] = {
  "screenshot.png|image/png", "screenshot-2.png|image/png", "error.log|text/plain",
};

static const Topic topics[] = {
  { { "billing", "payment-failed", NULL }, "Billing", 8, 6, 3, 0, NEEDS_PAID,
    LIST (pay_subjects), LIST (pay_problems), LIST (pay_details), LIST (pay_asks),
    LIST (pay_updates), LIST (pay_followups), LIST (pay_resolutions), LIST (pay_notes),
    LIST (pay_attachments) },
  { { "billing", "refund", NULL }, "Billing", 6, 3, 3, 0, NEEDS_PAID,
    LIST (ref_subjects), LIST (ref_problems), LIST (ref_details), LIST (ref_asks),
    LIST (ref_updates), LIST (ref_followups), LIST (ref_resolutions), LIST (ref_notes),
    LIST (ref_attachments) },
  { { "billing", "plan-change", NULL }, "Billing", 7, 3, 1, -1, NEEDS_NONE,
    LIST (plan_subjects), LIST (plan_problems), LIST (plan_details), LIST (plan_asks),
    LIST (plan_updates), LIST (plan_followups), LIST (plan_resolutions), LIST (plan_notes),
    { NULL, 0 } },
  { { "billing", "seats", NULL }, "Billing", 5, 6, 0, 0, NEEDS_PAID | NEEDS_ORG,
    LIST (seat_subjects), LIST (seat_problems), LIST (seat_details), LIST (seat_asks),
    LIST (seat_updates), LIST (seat_followups), LIST (seat_resolutions), LIST (seat_notes),
    { NULL, 0 } },
  { { "sso", "saml", NULL }, "Enterprise", 6, 14, 0, 1, NEEDS_SAML,
    LIST (saml_subjects), LIST (saml_problems), LIST (saml_details), LIST (saml_asks),
    LIST (saml_updates), LIST (saml_followups), LIST (saml_resolutions), LIST (saml_notes),
    LIST (saml_attachments) },
  { { "sso", "oidc", NULL }, "Enterprise", 3, 5, 0, 1, NEEDS_OIDC,
    LIST (oidc_subjects), LIST (oidc_problems), LIST (oidc_details), LIST (oidc_asks),
    { NULL, 0 }, LIST (oidc_followups), LIST (oidc_resolutions), LIST (oidc_notes),
    { NULL, 0 } },
  { { "sso", "scim", NULL }, "Enterprise", 3, 9, 0, 0, NEEDS_SCIM,
    LIST (scim_subjects), LIST (scim_problems), LIST (scim_details), LIST (scim_asks),
    LIST (scim_updates), LIST (scim_followups), LIST (scim_resolutions), LIST (scim_notes),
    { NULL, 0 } },
  { { "sso", "domains", NULL }, "Enterprise", 1, 4, 0, 0, NEEDS_ORG,
    LIST (dom_subjects), LIST (dom_problems), LIST (dom_details), LIST (dom_asks),
    { NULL, 0 }, LIST (dom_followups), LIST (dom_resolutions), LIST (dom_notes),
    { NULL, 0 } },
  { { "bug", "export", NULL }, "Support", 8, 7, 4, 0, NEEDS_NONE,
    LIST (exp_subjects), LIST (exp_problems), LIST (exp_details), LIST (exp_asks),
    LIST (exp_updates), LIST (exp_followups), LIST (exp_resolutions), LIST (exp_notes),
    LIST (exp_attachments) },
  { { "bug", "performance", NULL }, "Support", 6, 7, 3, 0, NEEDS_NONE,
    LIST (perf_subjects), LIST (perf_problems), LIST (perf_details), LIST (perf_asks),
    LIST (perf_updates), LIST (perf_followups), LIST (perf_resolutions), LIST (perf_notes),
    LIST (perf_attachments) },
  { { "bug", "notifications", NULL }, "Support", 5, 4, 3, 0, NEEDS_NONE,
    LIST (notif_subjects), LIST (notif_problems), LIST (notif_details), LIST (notif_asks),
    { NULL, 0 }, LIST (notif_followups), LIST (notif_resolutions), LIST (notif_notes),
    { NULL, 0 } },
  { { "how-to", NULL, NULL }, "Support", 18, 10, 12, -1, NEEDS_NONE,
    LIST (how_subjects), LIST (how_problems), LIST (how_details), LIST (how_asks),
    { NULL, 0 }, LIST (how_followups), LIST (how_resolutions), LIST (how_notes),
    { NULL, 0 } },
  { { "feature-request", NULL, NULL }, "Support", 8, 8, 5, -2, NEEDS_NONE,
    LIST (feat_subjects), LIST (feat_problems), LIST (feat_details), LIST (feat_asks),
    { NULL, 0 }, LIST (feat_followups), LIST (feat_resolutions), LIST (feat_notes),
    { NULL, 0 } },
  { { "account", "2fa", NULL }, "Support", 6, 4, 6, 1, NEEDS_NONE,
    LIST (acc_subjects), LIST (acc_problems), LIST (acc_details), LIST (acc_asks),
    { NULL, 0 }, LIST (acc_followups), LIST (acc_resolutions), LIST (acc_notes),
    { NULL, 0 } },
};

static const List greetings_l = LIST (greetings);
static const List signoffs_org_l = LIST (signoffs_org);
static const List signoffs_plain_l = LIST (signoffs_plain);
static const List agent_greetings_l = LIST (agent_greetings);
static const List agent_signoffs_l = LIST (agent_signoffs);
static const List generic_followups_l = LIST (generic_followups);
static const List reopen_lines_l = LIST (reopen_lines);
static const List generic_notes_l = LIST (generic_notes);
static const List bot_greetings_l = LIST (bot_greetings);
static const List generic_attachments_l = LIST (generic_attachments);
static const List generic_agent_asks_l = LIST (generic_agent_asks);
static const List reopen_resolutions_l = LIST (reopen_resolutions);
static const List generic_agent_updates_l = LIST (generic_agent_updates);

/* }}} */
/* {{{ Template expansion */

typedef struct
{
  const char *first;
  const char *name;
  const char *org;
  const char *domain;
  const char *slug;
  const char *idp;
  const char *plan;
  const char *plan_next;
  const char *card;
  const char *browser;
  const char *agent;
  char seats[16];
  char seats_more[16];
  char amount[32];
  char invoice[24];
  char req[32];
  char lin[16];
  /* Which of the topic's problems this conversation is about. */
  guint variant;
  guint n_variants;
} Vars;

static const char *
vars_lookup (const Vars *v,
             const char *key,
             gsize       len)
{
#define KEY(k, val) if (len == sizeof (k) - 1 && memcmp (key, k, len) == 0) return (val)
  KEY ("first", v->first);
  KEY ("name", v->name);
  KEY ("org", v->org);
  KEY ("domain", v->domain);
  KEY ("slug", v->slug);
  KEY ("idp", v->idp);
  KEY ("plan", v->plan);
  KEY ("plan_next", v->plan_next);
  KEY ("seats", v->seats);
  KEY ("seats_more", v->seats_more);
  KEY ("amount", v->amount);
  KEY ("invoice", v->invoice);
  KEY ("card", v->card);
  KEY ("req", v->req);
  KEY ("lin", v->lin);
  KEY ("browser", v->browser);
  KEY ("agent", v->agent);
#undef KEY
  return NULL;
}

static void
expand (GString    *out,
        const char *tpl,
        const Vars *v)
{
  const char *p = tpl;

  for (;;)
    {
      const char *open = strchr (p, '{');
      const char *close;
      const char *value;

      if (open == NULL)
        {
          g_string_append (out, p);
          return;
        }

      g_string_append_len (out, p, open - p);
      close = strchr (open, '}');
      if (close == NULL)
        {
          g_string_append (out, open);
          return;
        }

      value = vars_lookup (v, open + 1, close - open - 1);
      if (value != NULL)
        g_string_append (out, value);
      else
        g_string_append_len (out, open, close - open + 1);
      p = close + 1;
    }
}

static void
format_money (char       *buf,
              gsize       size,
              const char *symbol,
              guint64     cents)
{
  char digits[32];
  char grouped[48];
  gsize n, j = 0;

  g_snprintf (digits, sizeof digits, "%" G_GUINT64_FORMAT, cents / 100);
  n = strlen (digits);
  for (gsize i = 0; i < n; i++)
    {
      if (i > 0 && (n - i) % 3 == 0)
        grouped[j++] = ',';
      grouped[j++] = digits[i];
    }
  grouped[j] = '\0';
  g_snprintf (buf, size, "%s%s.%02u", symbol, grouped, (guint) (cents % 100));
}

static void
random_token (Rng        *rng,
              char       *buf,
              gsize       len,
              const char *alphabet)
{
  gsize n = strlen (alphabet);

  for (gsize i = 0; i < len; i++)
    buf[i] = alphabet[rng_below (rng, n)];
  buf[len] = '\0';
}

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* Lower-case ASCII letters and digits only, for e-mail addresses and domains. */
static char *
make_slug (const char *text)
{
  g_autofree char *ascii = g_str_to_ascii (text, "C");
  char *out = g_malloc (strlen (ascii) + 1);
  gsize j = 0;

  for (const char *p = ascii; *p; p++)
    if (g_ascii_isalnum (*p))
      out[j++] = g_ascii_tolower (*p);
  out[j] = '\0';
  return out;
}

/* }}} */
/* {{{ Generation */

typedef struct
{
  gint64 id;
  const char *name;
  const char *domain;
  const char *slug;
  const char *currency;
  const char *sso_type;
  const char *idp;
  guint plan;
  guint seats;
  gboolean enterprise;
  gboolean scim;
  char stripe_prefix[9];
} DemoOrg;

typedef struct
{
  gint64 id;
  gint org; /* -1: no organisation */
  const char *first;
  const char *name;
  const char *email_domain;
} DemoContact;

enum { AUTHOR_CONTACT, AUTHOR_AGENT, AUTHOR_BOT };

typedef struct
{
  gint64 at;
  guint author;
  gint agent;
  gboolean is_note;
  gsize body_offset;
  gsize body_len;
  const char *attachment; /* "name|type" */
  gint64 attachment_size;
} DemoMessage;

typedef struct
{
  gint64 at;
  guint seq;
  const char *kind;
  char from[24];
  char to[24];
  gint actor;
} DemoEvent;

enum { ST_OPEN, ST_PENDING, ST_SNOOZED, ST_RESOLVED };
static const char * const status_names[] = { "open", "pending", "snoozed", "resolved" };

enum { PRIO_URGENT, PRIO_HIGH, PRIO_NORMAL, PRIO_LOW };
static const char * const priority_names[] = { "urgent", "high", "normal", "low" };
static const gint64 first_reply_target[] = { 30 * MINUTE, 2 * HOUR, 8 * HOUR, 24 * HOUR };
static const gint64 next_reply_target[] = { 1 * HOUR, 4 * HOUR, 12 * HOUR, 48 * HOUR };
static const gint64 resolution_target[] = { 4 * HOUR, 24 * HOUR, 3 * DAY, 7 * DAY };

enum { CH_EMAIL, CH_CHAT, CH_SLACK, CH_COMMUNITY };
static const char * const channel_names[] = { "email", "chat", "slack", "community" };

typedef struct
{
  sqlite3_stmt *org;
  sqlite3_stmt *domain;
  sqlite3_stmt *agent;
  sqlite3_stmt *tag;
  sqlite3_stmt *contact;
  sqlite3_stmt *conversation;
  sqlite3_stmt *message;
  sqlite3_stmt *attachment;
  sqlite3_stmt *event;
  sqlite3_stmt *conversation_tag;
  sqlite3_stmt *csat;
} Statements;

typedef struct
{
  sqlite3 *db;
  guint32 seed;
  gint64 now;
  gboolean large;
  gboolean medium;
  Statements st;
  GStringChunk *strings;
  GArray *orgs;       /* DemoOrg */
  GArray *contacts;   /* DemoContact */
  gint64 agent_ids[G_N_ELEMENTS (demo_agents)];
  gint64 tag_ids[G_N_ELEMENTS (tag_names)];
  char agent_id_text[G_N_ELEMENTS (demo_agents)][24];
  FdDemoStats *stats;

  /* One conversation at a time. */
  guint message_serial;
  GString *bodies;
  GString *subject;
  DemoMessage messages[MAX_MESSAGES];
  guint n_messages;
  DemoEvent events[MAX_EVENTS];
  guint n_events;
} Generator;

static void
statements_clear (Statements *st)
{
  g_clear_pointer (&st->org, sqlite3_finalize);
  g_clear_pointer (&st->domain, sqlite3_finalize);
  g_clear_pointer (&st->agent, sqlite3_finalize);
  g_clear_pointer (&st->tag, sqlite3_finalize);
  g_clear_pointer (&st->contact, sqlite3_finalize);
  g_clear_pointer (&st->conversation, sqlite3_finalize);
  g_clear_pointer (&st->message, sqlite3_finalize);
  g_clear_pointer (&st->attachment, sqlite3_finalize);
  g_clear_pointer (&st->event, sqlite3_finalize);
  g_clear_pointer (&st->conversation_tag, sqlite3_finalize);
  g_clear_pointer (&st->csat, sqlite3_finalize);
}

static gboolean
statements_prepare (Statements  *st,
                    sqlite3     *db,
                    GError     **error)
{
#define PREPARE(field, sql) \
  if ((st->field = fd_store_prepare (db, sql, error)) == NULL) return FALSE
  PREPARE (org,
           "INSERT INTO organisations (external_id, name, plan, is_enterprise, seats_purchased,"
           " seats_used, renewal_at, stripe_customer_id, sso_type, sso_idp, sso_enforced,"
           " scim_enabled, created_at, updated_at)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  PREPARE (domain,
           "INSERT INTO organisation_domains (organisation_id, domain, verified,"
           " verification_token) VALUES (?, ?, ?, ?)");
  PREPARE (agent,
           "INSERT INTO agents (external_id, name, email, team, is_me) VALUES (?, ?, ?, ?, ?)");
  PREPARE (tag, "INSERT INTO tags (name) VALUES (?)");
  PREPARE (contact,
           "INSERT INTO contacts (external_id, organisation_id, name, email, created_at)"
           " VALUES (?, ?, ?, ?, ?)");
  PREPARE (conversation,
           "INSERT INTO conversations (external_id, channel, subject, snippet, contact_id,"
           " organisation_id, status, priority, assignee_id, snoozed_until, created_at,"
           " updated_at, last_message_at, first_reply_at, resolved_at, reopen_count,"
           " first_reply_due_at, next_reply_due_at, resolution_due_at)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  PREPARE (message,
           "INSERT INTO messages (conversation_id, external_id, author_kind, author_id,"
           " author_name, is_note, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  PREPARE (attachment,
           "INSERT INTO attachments (message_id, name, size, content_type) VALUES (?, ?, ?, ?)");
  PREPARE (event,
           "INSERT INTO events (conversation_id, kind, from_value, to_value, actor_id,"
           " created_at) VALUES (?, ?, ?, ?, ?, ?)");
  PREPARE (conversation_tag,
           "INSERT INTO conversation_tags (conversation_id, tag_id) VALUES (?, ?)");
  PREPARE (csat,
           "INSERT INTO csat (conversation_id, rating, comment, created_at) VALUES (?, ?, ?, ?)");
#undef PREPARE
  return TRUE;
}

static inline void
bind_text (sqlite3_stmt *stmt,
           int           col,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, col, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, col);
}

static inline void
bind_id (sqlite3_stmt *stmt,
         int           col,
         gint64        id)
{
  if (id > 0)
    sqlite3_bind_int64 (stmt, col, id);
  else
    sqlite3_bind_null (stmt, col);
}

/* Steps an INSERT and resets it, so the next row can reuse the statement. */
static gboolean
step_insert (sqlite3       *db,
             sqlite3_stmt  *stmt,
             GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);
  return TRUE;
}

static gboolean
generate_organisations (Generator  *gen,
                        Rng        *rng,
                        guint       n_orgs,
                        guint       n_enterprise,
                        GError    **error)
{
  g_autoptr(GHashTable) used = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autofree guint *is_ent = g_new0 (guint, n_orgs);
  guint country_weights[G_N_ELEMENTS (countries)];
  char ext[32];
  char stripe[32];
  char buf[256];

  for (guint i = 0; i < G_N_ELEMENTS (countries); i++)
    country_weights[i] = countries[i].weight;

  /* Spread enterprise customers over the list instead of putting them first. */
  for (guint placed = 0; placed < n_enterprise;)
    {
      guint k = rng_below (rng, n_orgs);

      /* Index 17 holds a long-named organisation that is always enterprise. */
      if (!is_ent[k] && k != 17)
        {
          is_ent[k] = TRUE;
          placed++;
        }
    }

  for (guint i = 0; i < n_orgs; i++)
    {
      DemoOrg org = { 0 };
      gint64 created = gen->now - rng_between (rng, 120 * DAY, 2000 * DAY);
      guint n_domains = 1;
      gint64 renewal = 0;
      guint seats_used;
      gboolean enforced = FALSE;
      guint long_index = G_MAXUINT;
      guint domain_offset;

      if (i == 5)
        long_index = 0;
      else if (i == 17)
        long_index = 1;

      if (long_index != G_MAXUINT)
        {
          org.name = long_companies[long_index].name;
          org.slug = long_companies[long_index].slug;
          org.domain = long_companies[long_index].domain;
          org.currency = long_companies[long_index].currency;
        }
      else
        {
          guint prefix, root, kind;
          const Country *country;
          g_autofree char *slug = NULL;

          do
            {
              prefix = rng_below (rng, G_N_ELEMENTS (company_prefixes));
              root = rng_below (rng, G_N_ELEMENTS (company_roots));
            }
          while (g_hash_table_contains (used, GUINT_TO_POINTER (prefix * 100 + root + 1)));
          g_hash_table_add (used, GUINT_TO_POINTER (prefix * 100 + root + 1));

          kind = rng_below (rng, G_N_ELEMENTS (company_kinds));
          country = &countries[rng_weighted (rng, country_weights, G_N_ELEMENTS (countries))];

          g_snprintf (buf, sizeof buf, "%s%s", company_prefixes[prefix], company_roots[root]);
          slug = make_slug (buf);
          org.slug = g_string_chunk_insert (gen->strings, slug);

          if (country->form != NULL && rng_chance (rng, 0.5))
            g_snprintf (buf, sizeof buf, "%s%s %s %s", company_prefixes[prefix],
                        company_roots[root], company_kinds[kind], country->form);
          else
            g_snprintf (buf, sizeof buf, "%s%s %s", company_prefixes[prefix],
                        company_roots[root], company_kinds[kind]);
          org.name = g_string_chunk_insert (gen->strings, buf);

          g_snprintf (buf, sizeof buf, "%s.%s", slug, country->tld);
          org.domain = g_string_chunk_insert (gen->strings, buf);
          org.currency = country->currency;
        }

      org.enterprise = is_ent[i] || long_index == 1;
      if (org.enterprise)
        {
          static const guint w[] = { 0, 0, 0, 1, 9 };
          org.plan = rng_weighted (rng, w, G_N_ELEMENTS (w));
          org.seats = (guint) rng_between (rng, 100, 2500);
          n_domains = 1 + rng_below (rng, 3);
        }
      else
        {
          static const guint w[] = { 25, 25, 30, 20, 0 };
          org.plan = rng_weighted (rng, w, G_N_ELEMENTS (w));
          switch (org.plan)
            {
            case PLAN_FREE: org.seats = 3; break;
            case PLAN_STARTER: org.seats = (guint) rng_between (rng, 5, 20); break;
            case PLAN_PRO: org.seats = (guint) rng_between (rng, 10, 50); break;
            case PLAN_BUSINESS: org.seats = (guint) rng_between (rng, 25, 200); break;
            default: g_assert_not_reached ();
            }
        }

      /* About one in eight is over its limit, which the billing view should flag. */
      if (rng_chance (rng, 0.12))
        seats_used = org.seats + 1 + rng_below (rng, MAX (2, org.seats / 10));
      else
        seats_used = MAX (1, (guint) (org.seats * (0.45 + 0.55 * rng_double (rng))));

      if (org.plan != PLAN_FREE)
        {
          /* A few renewals fall in the next 30 days. */
          if (rng_chance (rng, 0.25))
            renewal = gen->now + rng_between (rng, 2 * DAY, 30 * DAY);
          else
            renewal = gen->now + rng_between (rng, 31 * DAY, 365 * DAY);
          random_token (rng, org.stripe_prefix, 8, hex_upper);
          memcpy (stripe, "cus_", 4);
          random_token (rng, stripe + 4, 14, base62);
        }

      if (org.enterprise || (org.plan == PLAN_BUSINESS && rng_chance (rng, 0.4)))
        {
          org.sso_type = rng_chance (rng, 0.7) ? "saml" : "oidc";
          org.idp = idps[rng_below (rng, G_N_ELEMENTS (idps))];
          enforced = org.enterprise ? rng_chance (rng, 0.6) : rng_chance (rng, 0.2);
          org.scim = org.enterprise && !g_str_equal (org.idp, "Google Workspace") &&
                     rng_chance (rng, 0.65);
        }

      g_snprintf (ext, sizeof ext, "demo-org-%u", i + 1);
      sqlite3_bind_text (gen->st.org, 1, ext, -1, SQLITE_STATIC);
      sqlite3_bind_text (gen->st.org, 2, org.name, -1, SQLITE_STATIC);
      sqlite3_bind_text (gen->st.org, 3, plans[org.plan], -1, SQLITE_STATIC);
      sqlite3_bind_int (gen->st.org, 4, org.enterprise);
      sqlite3_bind_int (gen->st.org, 5, (int) org.seats);
      sqlite3_bind_int (gen->st.org, 6, (int) seats_used);
      bind_id (gen->st.org, 7, renewal);
      bind_text (gen->st.org, 8, org.plan != PLAN_FREE ? stripe : NULL);
      bind_text (gen->st.org, 9, org.sso_type);
      bind_text (gen->st.org, 10, org.idp);
      sqlite3_bind_int (gen->st.org, 11, enforced);
      sqlite3_bind_int (gen->st.org, 12, org.scim);
      sqlite3_bind_int64 (gen->st.org, 13, created);
      sqlite3_bind_int64 (gen->st.org, 14, gen->now - rng_between (rng, HOUR, 60 * DAY));
      if (!step_insert (gen->db, gen->st.org, error))
        return FALSE;
      org.id = sqlite3_last_insert_rowid (gen->db);

      domain_offset = rng_below (rng, G_N_ELEMENTS (extra_domain_forms));
      for (guint d = 0, form = domain_offset; d < n_domains; d++)
        {
          char token[64];
          gboolean verified;

          if (d == 0)
            {
              g_strlcpy (buf, org.domain, sizeof buf);
              verified = org.sso_type != NULL ? rng_chance (rng, 0.9) : rng_chance (rng, 0.5);
            }
          else
            {
              /* Each extra form is used once; skip the one that repeats the primary. */
              do
                {
                  guint f = form++ % G_N_ELEMENTS (extra_domain_forms);

                  g_snprintf (buf, sizeof buf, "%s%s%s", extra_domain_forms[f][0],
                              org.slug, extra_domain_forms[f][1]);
                }
              while (g_str_equal (buf, org.domain));
              verified = rng_chance (rng, 0.55);
            }

          memcpy (token, "lumen-domain-verification=", 26);
          random_token (rng, token + 26, 24, hex_lower);

          sqlite3_bind_int64 (gen->st.domain, 1, org.id);
          sqlite3_bind_text (gen->st.domain, 2, buf, -1, SQLITE_STATIC);
          sqlite3_bind_int (gen->st.domain, 3, verified);
          sqlite3_bind_text (gen->st.domain, 4, token, -1, SQLITE_STATIC);
          if (!step_insert (gen->db, gen->st.domain, error))
            return FALSE;
        }

      g_array_append_val (gen->orgs, org);
    }

  gen->stats->organisations = n_orgs;
  return TRUE;
}

static gboolean
generate_agents_and_tags (Generator  *gen,
                          GError    **error)
{
  char ext[32];

  for (guint i = 0; i < G_N_ELEMENTS (demo_agents); i++)
    {
      g_snprintf (ext, sizeof ext, "demo-agent-%u", i + 1);
      sqlite3_bind_text (gen->st.agent, 1, ext, -1, SQLITE_STATIC);
      sqlite3_bind_text (gen->st.agent, 2, demo_agents[i].name, -1, SQLITE_STATIC);
      sqlite3_bind_text (gen->st.agent, 3, demo_agents[i].email, -1, SQLITE_STATIC);
      sqlite3_bind_text (gen->st.agent, 4, demo_agents[i].team, -1, SQLITE_STATIC);
      sqlite3_bind_int (gen->st.agent, 5, i == AGENT_ME);
      if (!step_insert (gen->db, gen->st.agent, error))
        return FALSE;
      gen->agent_ids[i] = sqlite3_last_insert_rowid (gen->db);
      g_snprintf (gen->agent_id_text[i], sizeof gen->agent_id_text[i],
                  "%" G_GINT64_FORMAT, gen->agent_ids[i]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (tag_names); i++)
    {
      sqlite3_bind_text (gen->st.tag, 1, tag_names[i], -1, SQLITE_STATIC);
      if (!step_insert (gen->db, gen->st.tag, error))
        return FALSE;
      gen->tag_ids[i] = sqlite3_last_insert_rowid (gen->db);
    }

  return TRUE;
}

static gboolean
generate_contacts (Generator  *gen,
                   Rng        *rng,
                   guint       n_contacts,
                   GError    **error)
{
  g_autoptr(GHashTable) emails = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree guint *weights = g_new (guint, gen->orgs->len + 1);
  g_auto(GStrv) first_slugs = g_new0 (char *, G_N_ELEMENTS (first_names) + 1);
  g_auto(GStrv) last_slugs = g_new0 (char *, G_N_ELEMENTS (last_names) + 1);
  char ext[32];
  char name[128];
  char email[192];

  for (guint i = 0; i < G_N_ELEMENTS (first_names); i++)
    first_slugs[i] = make_slug (first_names[i]);
  for (guint i = 0; i < G_N_ELEMENTS (last_names); i++)
    last_slugs[i] = make_slug (last_names[i]);

  /* Bigger customers have more people who write in. */
  for (guint i = 0; i < gen->orgs->len; i++)
    {
      static const guint plan_weight[] = { 2, 3, 4, 7, 0 };
      const DemoOrg *org = &g_array_index (gen->orgs, DemoOrg, i);

      weights[i] = org->enterprise ? 10 : plan_weight[org->plan];
    }
  /* Everyone not at a customer: people writing from a personal address. */
  weights[gen->orgs->len] = 0;
  for (guint i = 0; i < gen->orgs->len; i++)
    weights[gen->orgs->len] += weights[i];
  weights[gen->orgs->len] = weights[gen->orgs->len] * 12 / 88;

  for (guint i = 0; i < n_contacts; i++)
    {
      DemoContact contact = { 0 };
      guint f = rng_below (rng, G_N_ELEMENTS (first_names));
      guint l = rng_below (rng, G_N_ELEMENTS (last_names));
      guint o = rng_weighted (rng, weights, gen->orgs->len + 1);
      const char *domain;
      char *stored;
      gint64 created;
      gsize len;

      g_snprintf (name, sizeof name, "%s %s", first_names[f], last_names[l]);
      contact.first = first_names[f];
      contact.name = g_string_chunk_insert (gen->strings, name);

      if (o < gen->orgs->len)
        {
          const DemoOrg *org = &g_array_index (gen->orgs, DemoOrg, o);

          contact.org = (gint) o;
          domain = org->domain;
          switch (rng_below (rng, 4))
            {
            case 0:
              len = g_snprintf (email, sizeof email, "%c%s@%s", first_slugs[f][0], last_slugs[l], domain);
              break;
            case 1:
              len = g_snprintf (email, sizeof email, "%s@%s", first_slugs[f], domain);
              break;
            default:
              len = g_snprintf (email, sizeof email, "%s.%s@%s", first_slugs[f], last_slugs[l], domain);
              break;
            }
          created = MAX (gen->now - rng_between (rng, 91 * DAY, 900 * DAY),
                         gen->now - 2000 * DAY);
        }
      else
        {
          contact.org = -1;
          domain = free_mail_domains[rng_below (rng, G_N_ELEMENTS (free_mail_domains))];
          if (rng_chance (rng, 0.5))
            len = g_snprintf (email, sizeof email, "%s.%s%u@%s", first_slugs[f], last_slugs[l],
                              rng_below (rng, 100), domain);
          else
            len = g_snprintf (email, sizeof email, "%s%s@%s", first_slugs[f], last_slugs[l], domain);
          created = gen->now - rng_between (rng, 91 * DAY, 900 * DAY);
        }

      /* Namesakes at the same domain get a number, as a mail admin would do. */
      if (g_hash_table_contains (emails, email))
        {
          char local[128];
          const char *at = strchr (email, '@');

          g_strlcpy (local, email, MIN (sizeof local, (gsize) (at - email) + 1));
          for (guint n = 2; g_hash_table_contains (emails, email); n++)
            len = g_snprintf (email, sizeof email, "%s%u@%s", local, n, domain);
        }
      stored = g_string_chunk_insert_len (gen->strings, email, len);
      g_hash_table_add (emails, stored);
      contact.email_domain = strchr (stored, '@') + 1;

      g_snprintf (ext, sizeof ext, "demo-contact-%u", i + 1);
      sqlite3_bind_text (gen->st.contact, 1, ext, -1, SQLITE_STATIC);
      bind_id (gen->st.contact, 2,
               contact.org >= 0 ? g_array_index (gen->orgs, DemoOrg, contact.org).id : 0);
      sqlite3_bind_text (gen->st.contact, 3, contact.name, -1, SQLITE_STATIC);
      sqlite3_bind_text (gen->st.contact, 4, email, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (gen->st.contact, 5, created);
      if (!step_insert (gen->db, gen->st.contact, error))
        return FALSE;
      contact.id = sqlite3_last_insert_rowid (gen->db);
      g_array_append_val (gen->contacts, contact);
    }

  gen->stats->contacts = n_contacts;
  return TRUE;
}

/* Conversation timeline helpers. */

static DemoEvent *
add_event (Generator  *gen,
           gint64      at,
           const char *kind,
           const char *from,
           const char *to,
           gint        actor)
{
  DemoEvent *ev;

  g_assert (gen->n_events < MAX_EVENTS);
  ev = &gen->events[gen->n_events];
  ev->at = at;
  ev->seq = gen->n_events++;
  ev->kind = kind;
  g_strlcpy (ev->from, from ? from : "", sizeof ev->from);
  g_strlcpy (ev->to, to ? to : "", sizeof ev->to);
  ev->actor = actor;
  return ev;
}

static DemoMessage *
begin_message (Generator *gen,
               gint64     at,
               guint      author,
               gint       agent,
               gboolean   is_note)
{
  DemoMessage *msg;

  g_assert (gen->n_messages < MAX_MESSAGES);
  msg = &gen->messages[gen->n_messages++];
  msg->at = at;
  msg->author = author;
  msg->agent = agent;
  msg->is_note = is_note;
  msg->body_offset = gen->bodies->len;
  msg->attachment = NULL;
  msg->attachment_size = 0;
  return msg;
}

static void
end_message (Generator   *gen,
             DemoMessage *msg)
{
  msg->body_len = gen->bodies->len - msg->body_offset;
}

static int
compare_events (gconstpointer a,
                gconstpointer b)
{
  const DemoEvent *ea = a;
  const DemoEvent *eb = b;

  if (ea->at != eb->at)
    return ea->at < eb->at ? -1 : 1;
  return (int) ea->seq - (int) eb->seq;
}

static void
add_assignment (Generator *gen,
                gint64     at,
                gint       assignee,
                gboolean   by_rule,
                guint      initial_priority,
                guint      priority)
{
  add_event (gen, at, "assigned", NULL, gen->agent_id_text[assignee],
             by_rule ? -1 : assignee);
  if (initial_priority != priority)
    add_event (gen, at, "priority", priority_names[initial_priority],
               priority_names[priority], assignee);
}

static guint
pick_agent (Rng        *rng,
            const char *team)
{
  guint candidates[G_N_ELEMENTS (demo_agents)];
  guint n = 0;

  if (!rng_chance (rng, 0.75))
    team = "Support";
  for (guint i = 0; i < G_N_ELEMENTS (demo_agents); i++)
    if (g_str_equal (demo_agents[i].team, team))
      candidates[n++] = i;
  g_assert (n > 0);
  return candidates[rng_below (rng, n)];
}

static gboolean
topic_fits (const Topic   *topic,
            const DemoOrg *org)
{
  if ((topic->needs & NEEDS_ORG) && org == NULL)
    return FALSE;
  if ((topic->needs & NEEDS_PAID) && org != NULL && org->plan == PLAN_FREE)
    return FALSE;
  if ((topic->needs & NEEDS_SAML) && (org == NULL || g_strcmp0 (org->sso_type, "saml") != 0))
    return FALSE;
  if ((topic->needs & NEEDS_OIDC) && (org == NULL || g_strcmp0 (org->sso_type, "oidc") != 0))
    return FALSE;
  if ((topic->needs & NEEDS_SCIM) && (org == NULL || !org->scim))
    return FALSE;
  return TRUE;
}

/* Support volume follows office hours and the working week, and grows over the quarter. */
static gint64
pick_created_at (Generator *gen,
                 Rng       *rng)
{
  static const double hour_weight[24] = {
    0.15, 0.1, 0.1, 0.1, 0.15, 0.25, 0.4, 0.65, 0.9, 1.0, 1.0, 1.0,
    0.95, 1.0, 1.0, 1.0, 0.95, 0.85, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2,
  };

  for (;;)
    {
      gint64 age = rng_between (rng, 1, WINDOW - HOUR);
      gint64 t = gen->now - age;
      /* 1970-01-01 was a Thursday. */
      gint64 days = t / DAY;
      guint weekday = (guint) ((days + 3) % 7); /* 0 = Monday */
      guint hour = (guint) ((t % DAY) / HOUR);
      double w = hour_weight[hour] * (weekday >= 5 ? 0.35 : 1.0);

      w *= 1.0 - 0.35 * ((double) age / WINDOW);
      if (rng_double (rng) < w)
        return t;
    }
}

static void
compose_customer_opening (Generator   *gen,
                          Rng         *rng,
                          const Topic *topic,
                          guint        channel,
                          const Vars  *v,
                          gboolean     has_org)
{
  GString *b = gen->bodies;

  switch (channel)
    {
    case CH_CHAT:
      expand (b, pick_for (rng, &topic->problems, v->variant, v->n_variants), v);
      if (rng_chance (rng, 0.5))
        {
          g_string_append_c (b, ' ');
          expand (b, pick (rng, &topic->details), v);
        }
      break;

    case CH_SLACK:
      if (rng_chance (rng, 0.4))
        g_string_append (b, "Hey team — ");
      expand (b, pick_for (rng, &topic->problems, v->variant, v->n_variants), v);
      if (rng_chance (rng, 0.6))
        {
          g_string_append (b, "\n\n");
          expand (b, pick (rng, &topic->details), v);
        }
      break;

    case CH_COMMUNITY:
      expand (b, pick_for (rng, &topic->problems, v->variant, v->n_variants), v);
      g_string_append (b, "\n\n");
      expand (b, pick (rng, &topic->details), v);
      if (rng_chance (rng, 0.5))
        g_string_append (b, "\n\nHas anyone else run into this?");
      break;

    case CH_EMAIL:
    default:
      expand (b, pick (rng, &greetings_l), v);
      g_string_append (b, "\n\n");
      expand (b, pick_for (rng, &topic->problems, v->variant, v->n_variants), v);
      g_string_append (b, "\n\n");
      expand (b, pick (rng, &topic->details), v);
      if (rng_chance (rng, 0.35))
        {
          g_string_append (b, " ");
          expand (b, pick (rng, &topic->details), v);
        }
      g_string_append (b, "\n\n");
      expand (b, pick (rng, has_org ? &signoffs_org_l : &signoffs_plain_l), v);
      break;
    }
}

static void
compose_agent (Generator   *gen,
               Rng         *rng,
               guint        channel,
               const char  *text,
               const Vars  *v)
{
  GString *b = gen->bodies;

  if (channel == CH_EMAIL || channel == CH_COMMUNITY)
    {
      expand (b, pick (rng, &agent_greetings_l), v);
      g_string_append (b, "\n\n");
      expand (b, text, v);
      g_string_append (b, "\n\n");
      expand (b, pick (rng, &agent_signoffs_l), v);
    }
  else
    {
      if (rng_chance (rng, 0.4))
        {
          g_string_append (b, "Hi ");
          g_string_append (b, v->first);
          g_string_append (b, "! ");
        }
      expand (b, text, v);
    }
}

static void
compose_customer_followup (Generator   *gen,
                           Rng         *rng,
                           const Topic *topic,
                           guint        channel,
                           const Vars  *v,
                           gboolean     first,
                           gboolean     reopen)
{
  GString *b = gen->bodies;

  if (reopen)
    expand (b, pick (rng, &reopen_lines_l), v);
  else if (first)
    expand (b, pick_for (rng, &topic->followups, v->variant, v->n_variants), v);
  else
    expand (b, pick (rng, &generic_followups_l), v);

  if (channel == CH_EMAIL)
    {
      g_string_append (b, "\n\n");
      expand (b, pick (rng, &signoffs_plain_l), v);
    }
}

/* A message that says it has an attachment has one; others sometimes do. */
static void
maybe_attach (Generator   *gen,
              Rng         *rng,
              DemoMessage *msg,
              const Topic *topic,
              double       p)
{
  const char *body = gen->bodies->str + msg->body_offset;

  if (!rng_chance (rng, p) &&
      g_strstr_len (body, msg->body_len, "ttach") == NULL &&
      g_strstr_len (body, msg->body_len, "screenshot you asked") == NULL &&
      g_strstr_len (body, msg->body_len, "HAR file") == NULL)
    return;
  if (topic->attachments.n > 0 && rng_chance (rng, 0.7))
    msg->attachment = pick (rng, &topic->attachments);
  else
    msg->attachment = pick (rng, &generic_attachments_l);
  msg->attachment_size = rng_wait (rng, 2000, 8 * 1024 * 1024);
}

/* Copies the start of a body into @out with line breaks folded, cut on a UTF-8
 * character boundary. */
static void
make_snippet (char       *out,
              gsize       size,
              const char *body,
              gsize       len)
{
  gsize j = 0;
  gboolean space = FALSE;

  for (gsize i = 0; i < len && j + 1 < size; i++)
    {
      char c = body[i];

      if (c == '\n' || c == ' ' || c == '\t')
        {
          if (!space && j > 0)
            out[j++] = ' ';
          space = TRUE;
          continue;
        }
      space = FALSE;
      out[j++] = c;
    }

  /* A multi-byte character cut at the end is dropped, and so is a cut word. */
  {
    const char *end = NULL;
    gsize full = j;

    g_utf8_validate (out, j, &end);
    j = end - out;
    if (full + 1 >= size)
      {
        gsize k = j;

        while (k > 0 && out[k - 1] != ' ' && j - k < 24)
          k--;
        if (k > 0 && out[k - 1] == ' ')
          j = k - 1;
      }
  }
  while (j > 0 && out[j - 1] == ' ')
    j--;
  out[j] = '\0';
}

static gboolean
generate_conversation (Generator  *gen,
                       guint       index,
                       GError    **error)
{
  Rng rng;
  const DemoContact *contact;
  const DemoOrg *org = NULL;
  const Topic *topic;
  guint topic_weights[G_N_ELEMENTS (topics)];
  guint channel, priority, initial_priority, status = ST_OPEN;
  guint exchanges, remaining;
  gint assignee = -1;
  gint64 t0, t, assign_at = 0, first_reply_at = 0, resolved_at = 0, snoozed_until = 0;
  gint64 last_customer_at, conv_id;
  guint reopen_count = 0;
  gboolean reopen_mode = FALSE, agent_turn = TRUE, auto_assign, escalated = FALSE;
  gboolean done = FALSE;
  gboolean waiting_on_team = FALSE;
  gboolean asked = FALSE, gave_update = FALSE, followed_up = FALSE;
  guint agent_steps = 0;
  Vars v = { 0 };
  char ext[40];
  char snippet[160];
  const DemoMessage *last = NULL;
  guint n_tags = 0;
  gint64 tag_ids[4];

  rng_init (&rng, gen->seed, G_GUINT64_CONSTANT (0x100000000) + index);
  gen->n_messages = 0;
  gen->n_events = 0;
  g_string_truncate (gen->bodies, 0);
  g_string_truncate (gen->subject, 0);

  contact = &g_array_index (gen->contacts, DemoContact,
                            rng_below (&rng, gen->contacts->len));
  if (contact->org >= 0)
    org = &g_array_index (gen->orgs, DemoOrg, contact->org);

  for (guint i = 0; i < G_N_ELEMENTS (topics); i++)
    {
      guint w = org == NULL ? topics[i].weight_noorg
              : org->enterprise ? topics[i].weight_ent : topics[i].weight_std;
      topic_weights[i] = topic_fits (&topics[i], org) ? w : 0;
    }
  topic = &topics[rng_weighted (&rng, topic_weights, G_N_ELEMENTS (topics))];

  {
    static const guint ent_w[] = { 30, 20, 40, 10 };
    static const guint biz_w[] = { 45, 38, 5, 12 };
    static const guint std_w[] = { 47, 38, 0, 15 };
    static const guint none_w[] = { 45, 35, 0, 20 };
    const guint *w = org == NULL ? none_w : org->enterprise ? ent_w
                   : org->plan == PLAN_BUSINESS ? biz_w : std_w;
    channel = rng_weighted (&rng, w, 4);
  }

  {
    guint w[4] = { 3, 17, 62, 18 };

    if (topic->priority_bias > 0)
      {
        w[0] = 10; w[1] = 35; w[2] = 48; w[3] = 7;
      }
    else if (topic->priority_bias == -1)
      {
        w[0] = 1; w[1] = 8; w[2] = 61; w[3] = 30;
      }
    else if (topic->priority_bias < -1)
      {
        w[0] = 0; w[1] = 2; w[2] = 40; w[3] = 58;
      }
    priority = rng_weighted (&rng, w, 4);
    if (org != NULL && org->enterprise && priority > PRIO_URGENT && rng_chance (&rng, 0.25))
      priority--;
  }
  /* Most conversations arrive as Normal and are re-prioritised during triage. */
  initial_priority = (priority != PRIO_NORMAL && rng_chance (&rng, 0.6)) ? PRIO_NORMAL : priority;

  /* Template variables for this conversation. */
  v.first = contact->first;
  v.name = contact->name;
  v.org = org ? org->name : "your account";
  v.domain = org ? org->domain : contact->email_domain;
  v.slug = org ? org->slug : "workspace";
  v.idp = org && org->idp ? org->idp : "our identity provider";
  v.plan = plan_titles[org ? org->plan : PLAN_PRO];
  v.plan_next = plan_titles[MIN ((org ? org->plan : PLAN_PRO) + 1, PLAN_ENTERPRISE)];
  v.card = cards[rng_below (&rng, G_N_ELEMENTS (cards))];
  v.browser = browsers[rng_below (&rng, G_N_ELEMENTS (browsers))];
  {
    guint seats = org ? org->seats : 1;
    guint plan = org ? org->plan : PLAN_PRO;
    /* What one invoice or charge would be: big customers pay per contract, so cap it. */
    guint64 cents = (guint64) MIN (seats, 40) * MAX (plan_seat_price[plan], 8) * 100;

    if (rng_chance (&rng, 0.3))
      cents *= 12;
    format_money (v.amount, sizeof v.amount, org ? org->currency : "$", cents);
    g_snprintf (v.seats, sizeof v.seats, "%u", seats);
    g_snprintf (v.seats_more, sizeof v.seats_more, "%u", 5 * (1 + rng_below (&rng, 10)));
    g_snprintf (v.invoice, sizeof v.invoice, "%s-%04u",
                org && org->stripe_prefix[0] ? org->stripe_prefix : "5E1A77C0",
                1 + rng_below (&rng, 60));
  }
  memcpy (v.req, "req_", 4);
  random_token (&rng, v.req + 4, 14, base62);
  g_snprintf (v.lin, sizeof v.lin, "%u", 1000 + rng_below (&rng, 4000));

  v.n_variants = topic->problems.n;
  v.variant = rng_below (&rng, v.n_variants);
  expand (gen->subject, pick_for (&rng, &topic->subjects, v.variant, v.n_variants), &v);

  t0 = pick_created_at (gen, &rng);
  if (gen->large)
    exchanges = 4 + rng_below (&rng, 12);
  else
    {
      static const guint w[] = { 0, 30, 22, 28, 9, 7, 0, 4 };
      exchanges = rng_weighted (&rng, w, G_N_ELEMENTS (w));
      /* A little longer threads: ~5 messages per conversation, as the sync benchmark asks. */
      if (gen->medium)
        exchanges += rng_below (&rng, 2);
    }
  remaining = exchanges;

  add_event (gen, t0, "created", NULL, channel_names[channel], -1);
  {
    DemoMessage *m = begin_message (gen, t0, AUTHOR_CONTACT, -1, FALSE);
    compose_customer_opening (gen, &rng, topic, channel, &v, org != NULL);
    end_message (gen, m);
    maybe_attach (gen, &rng, m, topic, 0.03);
  }
  add_event (gen, t0, "customer_message", NULL, NULL, -1);
  last_customer_at = t0;
  t = t0;

  /* Routing rules tag on arrival; rule tags are part of the conversation's first state,
   * so they have no "tagged" events (those record an agent's later changes). */
  for (guint i = 0; i < G_N_ELEMENTS (topic->tags) && topic->tags[i]; i++)
    for (guint k = 0; k < G_N_ELEMENTS (tag_names); k++)
      if (g_str_equal (tag_names[k], topic->tags[i]))
        tag_ids[n_tags++] = gen->tag_ids[k];
  if (org != NULL && org->enterprise)
    tag_ids[n_tags++] = gen->tag_ids[G_N_ELEMENTS (tag_names) - 1];

  if (channel == CH_CHAT)
    {
      DemoMessage *m = begin_message (gen, t0 + 4 * SECOND, AUTHOR_BOT, -1, FALSE);
      expand (gen->bodies, pick (&rng, &bot_greetings_l), &v);
      end_message (gen, m);
    }

  auto_assign = rng_chance (&rng, 0.8);
  {
    gint agent = (gint) pick_agent (&rng, topic->team);

    if (channel == CH_CHAT)
      assign_at = t0 + rng_wait (&rng, 30 * SECOND, 6 * MINUTE);
    else
      assign_at = t0 + rng_wait (&rng, 1 * MINUTE, 90 * MINUTE);
    if (!auto_assign)
      assign_at = G_MAXINT64; /* taken by whoever answers first */
    assignee = agent;
  }

  /* The neglected few: nobody ever answers. */
  if (rng_chance (&rng, 0.006))
    done = TRUE;

  while (!done)
    {
      if (agent_turn)
        {
          gint64 wait;
          gboolean final, is_update;
          DemoMessage *m;
          const char *text;

          if (first_reply_at == 0)
            {
              static const gint64 lo[] = { 3 * MINUTE, 10 * MINUTE, 20 * MINUTE, 60 * MINUTE };
              static const gint64 hi[] = { 90 * MINUTE, 5 * HOUR, 15 * HOUR, 40 * HOUR };
              wait = rng_wait (&rng, lo[priority], hi[priority]);
              if (rng_chance (&rng, 0.1))
                wait *= 3;
            }
          else
            wait = rng_wait (&rng, 15 * MINUTE, 30 * HOUR);
          /* Waiting for engineering or for a colleague takes days, not hours. */
          if (waiting_on_team)
            wait = rng_wait (&rng, DAY, 12 * DAY);
          else if (channel == CH_CHAT)
            wait = wait * 3 / 10 + MINUTE;
          else if (channel == CH_SLACK)
            wait = wait / 2 + MINUTE;

          if (t + wait > gen->now)
            break;

          /* Assignment happens before the first reply, or with it. */
          if (assign_at != -1)
            {
              assign_at = MIN (assign_at, t + wait);
              add_assignment (gen, assign_at, assignee, auto_assign,
                              initial_priority, priority);
              assign_at = -1;
            }

          /* Escalation to Tier 2 or the Enterprise team, part-way through. */
          if (agent_steps == 1 && !escalated && rng_chance (&rng, 0.08))
            {
              gint to = g_str_equal (topic->team, "Enterprise")
                        ? (gint) (6 + rng_below (&rng, 3)) : 9;
              if (to != assignee)
                {
                  add_event (gen, t + wait - 2 * MINUTE > t ? t + wait - 2 * MINUTE : t,
                             "assigned", gen->agent_id_text[assignee],
                             gen->agent_id_text[to], assignee);
                  assignee = to;
                }
              escalated = TRUE;
            }

          t += wait;
          v.agent = demo_agents[assignee].name;

          if (rng_chance (&rng, first_reply_at == 0 ? 0.12 : 0.08) &&
              t - 3 * MINUTE > gen->messages[gen->n_messages - 1].at)
            {
              m = begin_message (gen, t - 3 * MINUTE, AUTHOR_AGENT, assignee, TRUE);
              if (rng_chance (&rng, 0.7))
                expand (gen->bodies, pick_for (&rng, &topic->notes, v.variant, v.n_variants),
                        &v);
              else
                expand (gen->bodies, pick (&rng, &generic_notes_l), &v);
              end_message (gen, m);
              add_event (gen, m->at, "note", NULL, NULL, assignee);
            }

          /* The topic's own question comes first (sometimes after a progress update);
           * later turns of a long conversation use generic lines. */
          final = remaining <= 1 || reopen_mode;
          is_update = FALSE;
          if (final && reopen_count > 0)
            text = pick (&rng, &reopen_resolutions_l);
          else if (final)
            text = pick_for (&rng, &topic->resolutions, v.variant, v.n_variants);
          else if (topic->updates.n > 0 && !gave_update && rng_chance (&rng, asked ? 0.5 : 0.2))
            {
              text = pick (&rng, &topic->updates);
              is_update = gave_update = TRUE;
            }
          else if (!asked)
            {
              text = pick_for (&rng, &topic->asks, v.variant, v.n_variants);
              asked = TRUE;
            }
          else if (rng_chance (&rng, 0.5))
            text = pick (&rng, &generic_agent_asks_l);
          else
            {
              text = pick (&rng, &generic_agent_updates_l);
              is_update = TRUE;
            }

          m = begin_message (gen, t, AUTHOR_AGENT, assignee, FALSE);
          compose_agent (gen, &rng, channel, text, &v);
          end_message (gen, m);
          add_event (gen, t, "reply", NULL, NULL, assignee);
          if (first_reply_at == 0)
            first_reply_at = t;
          agent_steps++;

          if (final)
            {
              add_event (gen, t + SECOND, "status", status_names[status],
                         status_names[ST_RESOLVED], assignee);
              status = ST_RESOLVED;
              resolved_at = t + SECOND;
              t += SECOND;
              reopen_mode = rng_chance (&rng, reopen_count == 0 ? 0.07 : 0.1);
              if (!reopen_mode)
                done = TRUE;
            }
          else if (!is_update && status == ST_OPEN)
            {
              add_event (gen, t + SECOND, "status", status_names[ST_OPEN],
                         status_names[ST_PENDING], assignee);
              status = ST_PENDING;
            }
          if (remaining > 0)
            remaining--;
          /* After "I've filed it with our engineers" the next step is often ours again. */
          waiting_on_team = is_update && remaining > 1 && rng_chance (&rng, 0.5);
          agent_turn = waiting_on_team;
        }
      else
        {
          gint64 wait;
          DemoMessage *m;

          /* Customers who go quiet get closed by the bot after a week. */
          if (!reopen_mode && status == ST_PENDING && rng_chance (&rng, 0.08))
            {
              if (t + 7 * DAY <= gen->now)
                {
                  m = begin_message (gen, t + 7 * DAY, AUTHOR_BOT, -1, FALSE);
                  g_string_append (gen->bodies, bot_autoclose);
                  end_message (gen, m);
                  t += 7 * DAY;
                  add_event (gen, t, "status", status_names[status],
                             status_names[ST_RESOLVED], -1);
                  status = ST_RESOLVED;
                  resolved_at = t;
                }
              break;
            }

          if (channel == CH_CHAT && !reopen_mode)
            wait = rng_wait (&rng, 1 * MINUTE, 25 * MINUTE);
          else if (reopen_mode)
            wait = rng_wait (&rng, 2 * HOUR, 6 * DAY);
          else
            wait = rng_wait (&rng, 15 * MINUTE, 5 * DAY);
          if (t + wait > gen->now)
            break;
          t += wait;

          m = begin_message (gen, t, AUTHOR_CONTACT, -1, FALSE);
          compose_customer_followup (gen, &rng, topic, channel, &v, !followed_up, reopen_mode);
          followed_up = TRUE;
          end_message (gen, m);
          maybe_attach (gen, &rng, m, topic, 0.01);
          add_event (gen, t, "customer_message", NULL, NULL, -1);
          last_customer_at = t;

          if (status == ST_RESOLVED)
            {
              add_event (gen, t, "status", status_names[ST_RESOLVED],
                         status_names[ST_OPEN], -1);
              reopen_count++;
              resolved_at = 0;
              status = ST_OPEN;
            }
          else if (status == ST_PENDING)
            {
              add_event (gen, t, "status", status_names[ST_PENDING],
                         status_names[ST_OPEN], -1);
              status = ST_OPEN;
            }
          if (remaining > 0)
            remaining--;
          agent_turn = TRUE;
        }

      if (gen->n_messages + 4 >= MAX_MESSAGES || gen->n_events + 10 >= MAX_EVENTS)
        {
          /* Never expected with the exchange counts above; stop cleanly anyway. */
          break;
        }
    }

  /* A rule assigned it, but nobody has answered yet. */
  if (assign_at != -1 && auto_assign && assign_at <= gen->now)
    {
      add_assignment (gen, assign_at, assignee, auto_assign, initial_priority, priority);
      assign_at = -1;
    }

  /* Something still waiting may be snoozed until later. */
  if (status != ST_RESOLVED && first_reply_at != 0 && rng_chance (&rng, 0.3))
    {
      gint64 at = t + rng_wait (&rng, MINUTE, 30 * MINUTE);
      gint64 until = at + rng_wait (&rng, HOUR, 7 * DAY);

      if (at <= gen->now && until > gen->now)
        {
          add_event (gen, at, "status", status_names[status], status_names[ST_SNOOZED],
                     assignee);
          status = ST_SNOOZED;
          snoozed_until = until;
          t = at;
        }
    }

  if (assign_at != -1)
    assignee = -1;

  /* The conversation row: its state is the end of the timeline above. */
  for (guint i = gen->n_messages; i > 0; i--)
    if (!gen->messages[i - 1].is_note)
      {
        last = &gen->messages[i - 1];
        break;
      }
  make_snippet (snippet, sizeof snippet, gen->bodies->str + last->body_offset,
                last->body_len);

  {
    sqlite3_stmt *s = gen->st.conversation;
    gint64 updated = MAX (t, gen->messages[gen->n_messages - 1].at);

    for (guint i = 0; i < gen->n_events; i++)
      updated = MAX (updated, gen->events[i].at);

    g_snprintf (ext, sizeof ext, "demo-conv-%u", index + 1);
    sqlite3_bind_text (s, 1, ext, -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 2, channel_names[channel], -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 3, gen->subject->str, gen->subject->len, SQLITE_STATIC);
    sqlite3_bind_text (s, 4, snippet, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 5, contact->id);
    bind_id (s, 6, org ? org->id : 0);
    sqlite3_bind_text (s, 7, status_names[status], -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 8, priority_names[priority], -1, SQLITE_STATIC);
    bind_id (s, 9, assignee >= 0 ? gen->agent_ids[assignee] : 0);
    bind_id (s, 10, snoozed_until);
    sqlite3_bind_int64 (s, 11, t0);
    sqlite3_bind_int64 (s, 12, updated);
    sqlite3_bind_int64 (s, 13, gen->messages[gen->n_messages - 1].at);
    bind_id (s, 14, first_reply_at);
    bind_id (s, 15, status == ST_RESOLVED ? resolved_at : 0);
    sqlite3_bind_int (s, 16, (int) reopen_count);
    sqlite3_bind_int64 (s, 17, t0 + first_reply_target[priority]);
    if (status == ST_OPEN && agent_turn)
      sqlite3_bind_int64 (s, 18, last_customer_at + next_reply_target[priority]);
    else
      sqlite3_bind_null (s, 18);
    sqlite3_bind_int64 (s, 19, t0 + resolution_target[priority]);
    if (!step_insert (gen->db, s, error))
      return FALSE;
    conv_id = sqlite3_last_insert_rowid (gen->db);
  }

  for (guint i = 0; i < gen->n_messages; i++)
    {
      const DemoMessage *m = &gen->messages[i];
      sqlite3_stmt *s = gen->st.message;
      static const char * const kinds[] = { "contact", "agent", "bot" };

      /* Zero-padded, so the UNIQUE index on external_id only ever appends. */
      g_snprintf (ext, sizeof ext, "demo-msg-%08u", ++gen->message_serial);
      sqlite3_bind_int64 (s, 1, conv_id);
      sqlite3_bind_text (s, 2, ext, -1, SQLITE_STATIC);
      sqlite3_bind_text (s, 3, kinds[m->author], -1, SQLITE_STATIC);
      switch (m->author)
        {
        case AUTHOR_CONTACT:
          sqlite3_bind_int64 (s, 4, contact->id);
          sqlite3_bind_text (s, 5, contact->name, -1, SQLITE_STATIC);
          break;
        case AUTHOR_AGENT:
          sqlite3_bind_int64 (s, 4, gen->agent_ids[m->agent]);
          sqlite3_bind_text (s, 5, demo_agents[m->agent].name, -1, SQLITE_STATIC);
          break;
        case AUTHOR_BOT:
        default:
          sqlite3_bind_null (s, 4);
          sqlite3_bind_text (s, 5, "Lumen Bot", -1, SQLITE_STATIC);
          break;
        }
      sqlite3_bind_int (s, 6, m->is_note);
      sqlite3_bind_text (s, 7, gen->bodies->str + m->body_offset, m->body_len, SQLITE_STATIC);
      sqlite3_bind_int64 (s, 8, m->at);
      if (!step_insert (gen->db, s, error))
        return FALSE;

      if (m->attachment != NULL)
        {
          const char *bar = strchr (m->attachment, '|');
          gint64 message_id = sqlite3_last_insert_rowid (gen->db);

          s = gen->st.attachment;
          sqlite3_bind_int64 (s, 1, message_id);
          sqlite3_bind_text (s, 2, m->attachment, bar - m->attachment, SQLITE_STATIC);
          sqlite3_bind_int64 (s, 3, m->attachment_size);
          sqlite3_bind_text (s, 4, bar + 1, -1, SQLITE_STATIC);
          if (!step_insert (gen->db, s, error))
            return FALSE;
        }
    }
  gen->stats->messages += gen->n_messages;

  qsort (gen->events, gen->n_events, sizeof (DemoEvent), compare_events);
  for (guint i = 0; i < gen->n_events; i++)
    {
      const DemoEvent *ev = &gen->events[i];
      sqlite3_stmt *s = gen->st.event;

      sqlite3_bind_int64 (s, 1, conv_id);
      sqlite3_bind_text (s, 2, ev->kind, -1, SQLITE_STATIC);
      bind_text (s, 3, ev->from[0] ? ev->from : NULL);
      bind_text (s, 4, ev->to[0] ? ev->to : NULL);
      bind_id (s, 5, ev->actor >= 0 ? gen->agent_ids[ev->actor] : 0);
      sqlite3_bind_int64 (s, 6, ev->at);
      if (!step_insert (gen->db, s, error))
        return FALSE;
    }

  for (guint i = 0; i < n_tags; i++)
    {
      sqlite3_bind_int64 (gen->st.conversation_tag, 1, conv_id);
      sqlite3_bind_int64 (gen->st.conversation_tag, 2, tag_ids[i]);
      if (!step_insert (gen->db, gen->st.conversation_tag, error))
        return FALSE;
    }

  /* About 40 % of resolved conversations get a rating, mostly good, worse when slow. */
  if (status == ST_RESOLVED && rng_chance (&rng, 0.45))
    {
      gint64 at = resolved_at + rng_wait (&rng, 5 * MINUTE, DAY);
      gboolean slow = reopen_count > 0 ||
                      first_reply_at - t0 > first_reply_target[priority];
      static const guint good[] = { 3, 3, 8, 26, 60 };
      static const guint poor[] = { 12, 13, 25, 25, 25 };
      guint rating = 1 + rng_weighted (&rng, slow ? poor : good, 5);
      const char *comment = NULL;

      if (at <= gen->now)
        {
          if (rng_chance (&rng, 0.3))
            comment = rating >= 4 ? csat_good[rng_below (&rng, G_N_ELEMENTS (csat_good))]
                    : rating <= 2 ? csat_bad[rng_below (&rng, G_N_ELEMENTS (csat_bad))]
                    : NULL;
          sqlite3_bind_int64 (gen->st.csat, 1, conv_id);
          sqlite3_bind_int (gen->st.csat, 2, (int) rating);
          bind_text (gen->st.csat, 3, comment);
          sqlite3_bind_int64 (gen->st.csat, 4, at);
          if (!step_insert (gen->db, gen->st.csat, error))
            return FALSE;
        }
    }

  return TRUE;
}

static gboolean
pragma_int (sqlite3     *db,
            const char  *sql,
            gint64      *value,
            GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);
  *value = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* The first column of the first row of @sql as text, or NULL without a row. */
static gboolean
pragma_text (sqlite3     *db,
             const char  *sql,
             char       **value,
             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = fd_store_prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fd_store_set_error (db, rc, error);
  *value = rc == SQLITE_ROW ? g_strdup ((const char *) sqlite3_column_text (stmt, 0)) : NULL;
  return TRUE;
}

gboolean
fd_demo_generate (sqlite3      *db,
                  guint32       seed,
                  FdDemoScale   scale,
                  gint64        now_ms,
                  FdDemoStats  *stats,
                  GError      **error)
{
  Generator gen = { 0 };
  FdDemoStats local_stats = { 0 };
  gint64 started = g_get_monotonic_time ();
  gint64 old_cache_size = -2000;
  gint64 old_foreign_keys = 1;
  g_autofree char *fts_trigger_sql = NULL;
  gboolean seeded = FALSE;
  gboolean ret = FALSE;
  guint n_orgs, n_enterprise, n_contacts, n_conversations;
  Rng rng;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (scale == FD_DEMO_SCALE_SMALL || scale == FD_DEMO_SCALE_MEDIUM ||
                        scale == FD_DEMO_SCALE_LARGE, FALSE);
  g_return_val_if_fail (now_ms > WINDOW, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!fd_demo_is_seeded (db, &seeded, error))
    return FALSE;
  if (seeded)
    {
      g_set_error_literal (error, FD_STORE_ERROR, FD_STORE_ERROR_FAILED,
                           _("This profile already has conversations; demo data is only "
                             "added to an empty profile."));
      return FALSE;
    }

  if (stats == NULL)
    stats = &local_stats;
  memset (stats, 0, sizeof *stats);

  gen.db = db;
  gen.seed = seed;
  gen.now = now_ms;
  gen.large = scale == FD_DEMO_SCALE_LARGE;
  gen.stats = stats;
  gen.strings = g_string_chunk_new (64 * 1024);
  gen.orgs = g_array_new (FALSE, TRUE, sizeof (DemoOrg));
  gen.contacts = g_array_new (FALSE, TRUE, sizeof (DemoContact));
  gen.bodies = g_string_sized_new (16 * 1024);
  gen.subject = g_string_sized_new (256);

  gen.medium = scale == FD_DEMO_SCALE_MEDIUM;
  n_orgs = gen.large ? 400 : gen.medium ? 80 : 40;
  n_enterprise = gen.large ? 120 : gen.medium ? 24 : 12;
  n_contacts = gen.large ? 40000 : gen.medium ? 4000 : 2000;
  n_conversations = gen.large ? 100000 : gen.medium ? 10000 : 5000;

  if (!pragma_int (db, "PRAGMA cache_size", &old_cache_size, error) ||
      !pragma_int (db, "PRAGMA foreign_keys", &old_foreign_keys, error))
    goto out;

  /* A page cache big enough for the indexes keeps the random inserts (events by time,
   * conversations by date) in memory for the whole transaction. */
  if (!fd_store_exec (db, gen.large ? "PRAGMA cache_size = -200000"
                                    : "PRAGMA cache_size = -64000", error))
    goto out;

  /* Every reference is built from ids this function has just inserted and every enum
   * value comes from the fixed lists above, and the test suite checks both on the result.
   * Checking again on insert would cost more than the inserts: SQLite 3.40 builds a
   * temporary table for each CHECK (x IN (...)) list on every row. (foreign_keys has no
   * effect inside a transaction, so both are switched before BEGIN.) */
  if (!fd_store_exec (db, "PRAGMA foreign_keys = OFF; PRAGMA ignore_check_constraints = ON",
                      error))
    goto out;

  if (!fd_store_begin (db, error))
    goto out;

  /* Inserting through the FTS trigger opens a statement savepoint per message, and FTS5
   * writes its pending terms out as a new segment at every savepoint: a million tiny
   * segments and their merges. Indexing everything at once at the end is ten times
   * faster. The trigger is put back from its own SQL, in the same transaction. */
  if (!pragma_text (db, "SELECT sql FROM sqlite_master"
                        " WHERE type = 'trigger' AND name = 'messages_ai'",
                    &fts_trigger_sql, error))
    goto rollback;
  if (fts_trigger_sql != NULL && !fd_store_exec (db, "DROP TRIGGER messages_ai", error))
    goto rollback;

  if (!statements_prepare (&gen.st, db, error))
    goto rollback;

  rng_init (&rng, seed, 1);
  /* The long-named enterprise organisation counts as one of the enterprise ones. */
  if (!generate_organisations (&gen, &rng, n_orgs, n_enterprise - 1, error))
    goto rollback;
  if (!generate_agents_and_tags (&gen, error))
    goto rollback;
  rng_init (&rng, seed, 2);
  if (!generate_contacts (&gen, &rng, n_contacts, error))
    goto rollback;

  for (guint i = 0; i < n_conversations; i++)
    if (!generate_conversation (&gen, i, error))
      goto rollback;
  stats->conversations = n_conversations;

  statements_clear (&gen.st);
  if (fts_trigger_sql != NULL &&
      (!fd_store_exec (db, fts_trigger_sql, error) ||
       !fd_store_exec (db, "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
                       error)))
    goto rollback;

  /* The SLA due times from the profile's policies (the defaults in a new one); they
   * depend on the rows only, not on the clock, so the data set stays deterministic. */
  {
    g_autoptr(FdSlaConfig) sla = NULL;

    if (!fd_sla_config_load (db, &sla, error) ||
        !fd_sla_update_all (db, sla, TRUE, error))
      goto rollback;
  }

  if (!fd_store_commit (db, error))
    goto rollback;

  stats->elapsed_usec = g_get_monotonic_time () - started;
  ret = TRUE;
  goto out;

rollback:
  statements_clear (&gen.st);
  fd_store_rollback (db);
  memset (stats, 0, sizeof *stats);

out:
  statements_clear (&gen.st);
  {
    g_autofree char *sql = g_strdup_printf ("PRAGMA cache_size = %" G_GINT64_FORMAT ";"
                                            "PRAGMA foreign_keys = %" G_GINT64_FORMAT ";"
                                            "PRAGMA ignore_check_constraints = OFF",
                                            old_cache_size, old_foreign_keys);
    sqlite3_exec (db, sql, NULL, NULL, NULL);
  }
  g_string_chunk_free (gen.strings);
  g_array_unref (gen.orgs);
  g_array_unref (gen.contacts);
  g_string_free (gen.bodies, TRUE);
  g_string_free (gen.subject, TRUE);
  return ret;
}

/* }}} */
/* {{{ Store integration */

gboolean
fd_demo_is_seeded (sqlite3   *db,
                   gboolean  *seeded,
                   GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (seeded != NULL, FALSE);

  stmt = fd_store_prepare (db, "SELECT EXISTS (SELECT 1 FROM conversations)", error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return fd_store_set_error (db, rc, error);

  *seeded = sqlite3_column_int (stmt, 0) != 0;
  return TRUE;
}

typedef struct
{
  guint32 seed;
  FdDemoScale scale;
} EnsureJob;

static gboolean
ensure_job (sqlite3   *db,
            gpointer   job_data,
            gpointer  *result,
            GError   **error)
{
  EnsureJob *job = job_data;
  gboolean seeded = FALSE;

  if (!fd_demo_is_seeded (db, &seeded, error))
    return FALSE;
  if (seeded)
    return TRUE;

  return fd_demo_generate (db, job->seed, job->scale, g_get_real_time () / 1000, NULL, error);
}

static void
ensure_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  fd_store_run_finish (FD_STORE (object), result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
fd_demo_ensure_async (FdStore             *store,
                      guint32              seed,
                      FdDemoScale          scale,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  EnsureJob *job;

  g_return_if_fail (FD_IS_STORE (store));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, fd_demo_ensure_async);

  job = g_new0 (EnsureJob, 1);
  job->seed = seed;
  job->scale = scale;

  fd_store_run_async (store, ensure_job, job, g_free, NULL, cancellable,
                      ensure_cb, g_steal_pointer (&task));
}

gboolean
fd_demo_ensure_finish (FdStore       *store,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (FD_IS_STORE (store), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fd_demo_ensure_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* }}} */
