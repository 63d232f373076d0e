"""Errors a person can act on. The CLI prints their message as one line and exits non-zero."""


class MatcherError(Exception):
    """Base class: the message says what went wrong and what to do about it."""

    exit_code = 1


class ConfigError(MatcherError):
    """A setting is missing or malformed."""


class DatabaseUnavailable(MatcherError):
    """The database cannot be reached."""


class SchemaNotCurrent(MatcherError):
    """The database's schema is missing or at another revision than this matcher's."""


class InputError(MatcherError):
    """A user-supplied file or value is invalid; the message lists every problem found."""


class LockBusy(MatcherError):
    """Another run holds the lock; nothing was written."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class NoChampion(MatcherError):
    """Scoring needs a champion model and there is none."""


class ArtifactIntegrityError(MatcherError):
    """A stored model artifact does not match the sha256 recorded in the registry."""
