"""How matcher's log lines look: text for people, or one JSON object per line for log
collectors (``MATCHER_LOG_FORMAT=json``: cron, systemd's journal, docker compose).

Every record logged while a job runs carries the run's id, job and stage
(:data:`current_run`, set by :func:`matcher.runlog.job_run`); the run log's own records add
``counts`` and ``seconds`` (a stage's, or the whole run's when it ends).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

#: The job run this thread of work belongs to (an object with id, job, stage), or None.
current_run: contextvars.ContextVar = contextvars.ContextVar("current_run", default=None)

FORMATS = ("text", "json")
#: Extra record attributes a JSON line carries when set.
FIELDS = ("counts", "seconds", "status", "previous_stage")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the run's id, job,
    stage, counts and seconds where known."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"), "level": record.levelname, "logger": record.name,
            "message": record.getMessage()}
        run = current_run.get()
        if run is not None:
            line |= {"run_id": run.id, "job": run.job, "stage": run.stage}
        line |= {f: getattr(record, f) for f in FIELDS if hasattr(record, f)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, default=str)


def configure(level: str, fmt: str) -> None:
    """Log to stderr at ``level`` as ``fmt`` (text or json); only the CLI calls this."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"))
    handler.matcher = True  # replaced by the next call; other handlers (a test's) stay
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "matcher", False)]
    root.addHandler(handler)
    root.setLevel(level)
