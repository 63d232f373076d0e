"""Writing the database out in the CSV interchange format (``matcher export``)."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.engine import Engine

from matcher.db import sql
from matcher.formats import FORMATS, LIST_SEPARATOR


def _cell(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "list":
        return LIST_SEPARATOR.join(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "timestamp":
        return value.isoformat()
    return str(value)


def export_files(engine: Engine, folder: Path) -> dict[str, int]:
    """Write mentors.csv, mentees.csv, interactions.csv and feedback.csv into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    with engine.connect() as conn:
        for name, fmt in FORMATS.items():
            kinds = [c.kind for c in fmt.columns]
            result = conn.execute(sql(f"exporter/{name}.sql"))
            with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(fmt.column_names)
                counts[name] = 0
                for row in result:
                    writer.writerow([_cell(v, k) for v, k in zip(row, kinds, strict=True)])
                    counts[name] += 1
    return counts
