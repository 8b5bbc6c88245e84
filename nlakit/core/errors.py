"""The one exception type users see: the CLI prints its message on one line and exits with 2."""


class NLAError(ValueError):
    """Bad user input or a broken artifact; the message says what is wrong and how to fix it."""
