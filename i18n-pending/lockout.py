"""New user-visible messages of the lockout branch (issue 17, item 4): none. The sign-in waits reuse
"Too many failed sign-in attempts. Try again in %(minutes)s minutes." and the pages of registration
and password reset are unchanged."""

JA: dict[str, str] = {}
