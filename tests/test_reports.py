"""What an admin reads: the batch health page, the training report's HTML form, warnings when
features drift or lists fall short, and JSON log lines for schedulers' log collectors."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from .helpers import invoke, seed


class Page(HTMLParser):
    """The headings, tables and embedded images of an HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.headings, self.images, self.tables, self._in = [], [], 0, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("h1", "h2"):
            self._in = tag
            self.headings.append("")
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "table":
            self.tables += 1

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.headings[-1] += data


def _pngs(page: Page) -> list[bytes]:
    prefix = "data:image/png;base64,"
    assert page.images and all(src.startswith(prefix) for src in page.images)
    return [base64.b64decode(src[len(prefix):]) for src in page.images]


@pytest.fixture
def trained(db_url, engine, tmp_path):
    seed("--scale", "tiny", "--seed", "41")
    invoke("train", "--algorithms", "logistic", "--oracle-mentees", "20",
           "--report-dir", str(tmp_path / "train"))
    return engine


def test_the_batch_report_is_one_page_with_every_plot_and_table(trained, tmp_path):
    invoke("score")
    invoke("simulate-feedback")
    invoke("score")
    out = invoke("report", "batch", "--out", str(tmp_path / "batch.html"))
    assert f"report: {tmp_path / 'batch.html'}" in out
    page = Page((tmp_path / "batch.html").read_text())
    assert page.headings[0] == "Batch 2"
    for heading in ("Summary", "Recommendations per mentor against free seats", "Coverage",
                    "Scores against the previous batch", "Acceptance by rank (feedback)",
                    "Feature drift (PSI)", "In the market (synthetic truth)"):
        assert heading in page.headings
    assert len(page.images) == 5 and page.tables >= 5
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
               for png in _pngs(page))
    assert "of the planner's bound" in (tmp_path / "batch.html").read_text()
    # an older batch by its id
    invoke("report", "batch", "1", "--out", str(tmp_path / "first.html"))
    assert Page((tmp_path / "first.html").read_text()).headings[0] == "Batch 1"


def test_drift_and_short_lists_are_warned_about_in_the_run_log_and_the_report(
        trained, tmp_path, caplog):
    engine = trained
    with engine.begin() as conn:  # as if the champion had been trained on other candidates
        conn.execute(sa.text(
            "UPDATE model_versions SET feature_profile = jsonb_set(feature_profile, "
            "'{skill_coverage}', CAST(:profile AS jsonb)) WHERE status = 'champion'"),
            {"profile": json.dumps({"edges": [0.9], "shares": [0.0, 1.0], "missing": 0.0})})
        conn.execute(sa.text(  # and most mentors have left
            "UPDATE mentors SET active = false WHERE id % 10 <> 0"))
    with caplog.at_level("WARNING", logger="matcher.scoring"):
        invoke("score")
    logged = caplog.text
    assert "feature skill_coverage drifted from the champion's training data" in logged
    assert "got fewer than 10 recommendations" in logged
    out = invoke("report", "batch", "--out", str(tmp_path / "batch.html"))
    assert "warning: feature skill_coverage drifted" in out
    assert "warning: " in out and "got fewer than 10 recommendations" in out
    assert 'class="warning"' in (tmp_path / "batch.html").read_text()


def test_the_training_report_has_a_self_contained_html_form(trained, tmp_path):
    page = Page((tmp_path / "train" / "report.html").read_text())
    assert page.headings[0].startswith("Training run")
    assert {"Comparison", "Curves", "Against the oracle"} <= set(page.headings)
    assert len(_pngs(page)) >= 4 and page.tables >= 2


def test_json_logs_are_one_object_per_line_with_run_id_stage_counts_and_seconds(
        trained, db_url):
    env = {**os.environ, "MATCHER_DATABASE_URL": db_url, "MATCHER_LOG_FORMAT": "json"}
    result = subprocess.run([sys.executable, "-m", "matcher", "score"], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    in_run = [line for line in lines if "run_id" in line]
    assert in_run and len({line["run_id"] for line in in_run}) == 1
    stages = [line for line in in_run if "previous_stage" in line]
    assert {"scoring chunks (candidates, features, predictions)", "publishing"} <= {
        line["stage"] for line in stages}
    assert all(line["seconds"] >= 0 for line in stages)
    last = in_run[-1]
    assert last["status"] == "succeeded" and last["job"] == "score"
    assert last["counts"]["recommendations"] > 0 and last["seconds"] > 0
