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


class ArtifactRefused(MatcherError):
    """A stored model artifact is in a format that could run code, holds types outside the
    trusted list, or lacks a valid signature; it is never loaded."""

    exit_code = 77  # EX_NOPERM


class ConnectionLost(MatcherError):
    """The database connection dropped in the middle of a run; the run's work was not
    published or committed."""

    exit_code = 74  # EX_IOERR


class LeaseLost(MatcherError):
    """An exclusive run lost its lease (its session ended or another run took over); it stops
    without publishing."""

    exit_code = 76


class NothingToScore(MatcherError):
    """There are no active mentees or no eligible mentors; nothing was published."""

    exit_code = 3


class ShrinkRefused(MatcherError):
    """A new batch would list far fewer mentees than the published one; not published."""

    exit_code = 4


class ChampionChanged(MatcherError):
    """The champion changed while a challenger was being compared with it."""

    exit_code = 75


class NotFitted(MatcherError):
    """A model was asked to predict or explain before it was fitted or loaded."""
