"""Account rules the sign-in window needs before the database layer has loaded."""

#: Shortest and longest password accepted for an account.
MIN_PASSWORD = 10
MAX_PASSWORD = 256
