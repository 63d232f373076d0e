"""A wheel built from the checkout runs the whole pipeline from any directory.

The wheel is installed into a fresh virtualenv that reaches matcher's dependencies through a
.pth file (no download of the big ones) but not the checkout: ``matcher`` there is the
wheel's copy, with sql/ and alembic/ inside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _run(*args, cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_a_wheel_in_a_fresh_virtualenv_runs_the_pipeline_from_any_directory(db_url, tmp_path):
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--disable-pip-version-check", "-w", wheels, ROOT, cwd=tmp_path)
    wheel = next(wheels.glob("matcher-*.whl"))

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                cwd=tmp_path).strip()
    # The dependencies of this environment, not its matcher (an editable finder that a .pth
    # line does not activate).
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--disable-pip-version-check", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    location = _run(python, "-c", "import matcher, matcher.settings as s; "
                                  "print(matcher.__file__); print(s.SQL_DIR)", cwd=elsewhere)
    assert str(venv) in location.splitlines()[0]
    assert str(venv) in location.splitlines()[1] and str(ROOT) not in location

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"MATCHER_DATABASE_URL": db_url, "MATCHER_DATA_DIR": str(tmp_path / "data")}
    matcher = venv / "bin" / "matcher"
    _run(matcher, "db", "upgrade", cwd=elsewhere, env=env)
    _run(matcher, "seed", "--scale", "tiny", cwd=elsewhere, env=env)
    trained = _run(matcher, "train", "--algorithms", "logistic,xgboost", "--oracle-mentees",
                   "20", cwd=elsewhere, env=env)
    assert "promoted" in trained
    assert "published batch" in _run(matcher, "score", cwd=elsewhere, env=env)
    assert "because" in _run(matcher, "show", "--mentees", "1", cwd=elsewhere, env=env)
    assert list((tmp_path / "data" / "reports").glob("train-*/report.md"))
