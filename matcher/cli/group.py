"""The one ``matcher`` click group, its global options, and how ``--help`` groups commands."""

from __future__ import annotations

import logging

import click

from matcher import logs
from matcher.settings import LOG_LEVELS, get_settings

#: How ``matcher --help`` presents the commands, in the order a programme meets them.
SECTIONS: dict[str, tuple[str, ...]] = {
    "Set up": ("db", "runs"),
    "Data in and out": ("seed", "import", "export", "features"),
    "Models": ("train", "evaluate", "models", "retrain"),
    "Nightly loop": ("score", "show", "feedback", "simulate-feedback"),
    "Programme admin": ("overrides", "report"),
}


class SectionedGroup(click.Group):
    """A click group whose help lists commands under :data:`SECTIONS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        ordered = [name for names in SECTIONS.values() for name in names
                   if name in self.commands]
        return ordered + sorted(set(self.commands) - set(ordered))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = set()
        for section, names in SECTIONS.items():
            rows = [(n, self.commands[n].get_short_help_str(72))
                    for n in names if n in self.commands]
            listed |= {n for n, _ in rows}
            if rows:
                with formatter.section(section):
                    formatter.write_dl(rows)
        rest = [(n, c.get_short_help_str()) for n, c in self.commands.items() if n not in listed]
        if rest:
            with formatter.section("Other"):
                formatter.write_dl(rest)


@click.group(cls=SectionedGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default=None,
              help="How much to log (default: MATCHER_LOG_LEVEL or INFO).")
def cli(log_level: str | None) -> None:
    """matcher: recommend mentors to mentees from a PostgreSQL database.

    \b
    The database is MATCHER_DATABASE_URL (any PostgreSQL >= 14); when it is unset, matcher
    starts an embedded PostgreSQL in .matcher/pgdata and uses that.

    \b
    A typical first run:
      matcher db upgrade            create or update the tables
      matcher seed --scale small    fill them with a synthetic programme
      matcher train                 train and compare models, register the champion
      matcher score                 publish top-K mentors per mentee
      matcher show                  print some mentees' recommendations

    \b
    Then the loop: score every night, hand over what people did with the lists
    (matcher feedback import FILE, or matcher simulate-feedback on a synthetic world),
    and retrain weekly (matcher retrain: promotes only a better model).
    """
    settings = get_settings()
    level = (log_level or settings.log_level).upper()
    logs.configure(level, settings.log_format)
    # alembic announces its context on every command (the schema check): not news
    for noisy in ("pgserver", "alembic.runtime.plugins", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
