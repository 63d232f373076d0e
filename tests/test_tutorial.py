"""docs/tutorial.md, run as written: every bash block in order, in a fresh folder, on its own
embedded servers (the tutorial's MATCHER_DATA_DIR folders)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from matcher.db import stop_embedded_server

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"


def test_the_tutorial_runs_as_written(tmp_path):
    blocks = re.findall(r"```bash\n(.*?)```", TUTORIAL.read_text(), flags=re.S)
    assert len(blocks) >= 7
    script = tmp_path / "tutorial.sh"
    script.write_text("set -euo pipefail\n" + "\n".join(blocks))
    workspace = tmp_path / "checkout"
    workspace.mkdir()
    os.symlink(ROOT / ".venv", workspace / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    assert shutil.which("psql", path=env.get("PATH")), "the tutorial needs the psql client"
    try:
        result = subprocess.run(["bash", str(script)], cwd=workspace, env=env,
                                capture_output=True, text=True, timeout=600)
    finally:  # the tutorial's embedded servers outlive its commands: stop them
        for pid_file in workspace.rglob("postmaster.pid"):
            stop_embedded_server(pid_file.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for expected in ("mentors.csv: 60 rows", "imported mentors: 60 new",
                     "promoted", "published batch 1", "because", "report: ",
                     "feedback: 3,470 new", "dry run: would", "override 1 added: pause",
                     "published batch 2"):
        assert expected in out, out[-3000:]
    assert (workspace / "tutorial" / ".matcher" / "reports" / "batch-1.html").exists()
