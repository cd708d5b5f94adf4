/* test-log.c
 *
 * Copyright 2026 The Frontdesk authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "fd-log.h"

typedef struct
{
  const char *input;
  const char *expected;
} RedactCase;

static void
test_log_redact_shapes (void)
{
  const RedactCase cases[] = {
    { "Authorization: Bearer sk_live_51Habcdefghijkl", "Authorization: Bearer [redacted]" },
    { "authorization=token abcdefgh", "authorization=token [redacted]" },
    { "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc", "Bearer [redacted]" },
    { "key=sk_test_4eC39HqLyjWDarjtT1zdp7dc", "key=sk_test_[redacted]" },
    { "key rk_live_abcdefgh used", "key rk_live_[redacted] used" },
    { "slack xoxb-1234-5678-abcdefg ok", "slack xoxb-[redacted] ok" },
    { "socket xapp-1-A0-123-abc", "socket xapp-[redacted]" },
    { "lin_api_0123456789abcdef", "lin_api_[redacted]" },
    { "Api-Key: 3f9a6b8c7d", "Api-Key: [redacted]" },
    { "{\"token\":\"x\"} Basic dXNlcjpwYXNz", "{\"token\":\"x\"} Basic [redacted]" },
    /* Words that merely look like a prefix stay. */
    { "the task_test_ failed", "the task_test_ failed" },
    { "no secrets here", "no secrets here" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = fd_log_redact (cases[i].input);

      g_assert_cmpstr (out, ==, cases[i].expected);
    }

  g_assert_null (fd_log_redact (NULL));
}

static void
test_log_redact_registered (void)
{
  /* A token with no recognisable shape (Intercom's are opaque base64). */
  const char *token = "dG9rOjEyMzQ1Njc4OWFiY2RlZg==";
  g_autofree char *before = fd_log_redact (token);
  g_autofree char *after = NULL;
  g_autofree char *short_one = NULL;

  g_assert_cmpstr (before, ==, token);

  fd_log_register_secret (token);
  fd_log_register_secret (token);
  after = fd_log_redact ("GET /conversations token=dG9rOjEyMzQ1Njc4OWFiY2RlZg== failed");
  g_assert_cmpstr (after, ==, "GET /conversations token=[redacted] failed");

  /* Too short to register: it would redact ordinary words. */
  fd_log_register_secret ("abc");
  short_one = fd_log_redact ("abc abc");
  g_assert_cmpstr (short_one, ==, "abc abc");
}

static void
test_log_writer (void)
{
  if (g_test_subprocess ())
    {
      fd_log_init ();
      g_message ("calling with Bearer sk_live_51Hsubprocesssecret");
      g_warning ("Api-Key: 0123456789abcdef in a warning");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed (); /* the warning is fatal under G_DEBUG=fatal-warnings */
  g_test_trap_assert_stderr ("*calling with Bearer [redacted]*");
  g_test_trap_assert_stderr_unmatched ("*subprocesssecret*");
  g_test_trap_assert_stderr_unmatched ("*0123456789abcdef*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/log/redact-shapes", test_log_redact_shapes);
  g_test_add_func ("/log/redact-registered", test_log_redact_registered);
  g_test_add_func ("/log/writer", test_log_writer);

  return g_test_run ();
}
