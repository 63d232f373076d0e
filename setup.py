"""Build hook: ship the top-level ``sql/`` and ``alembic/`` folders inside the wheel.

They stay at the top level of the checkout (where users and reviewers expect them); a built
wheel carries a copy as ``matcher/_data/sql`` and ``matcher/_data/alembic``, which
``matcher.settings`` prefers when present, so a non-editable install runs from any directory.
Everything else about the package is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_FOLDERS = ("sql", "alembic")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders directly
        for folder in DATA_FOLDERS:
            target = Path(self.build_lib) / "matcher" / "_data" / folder
            shutil.rmtree(target, ignore_errors=True)  # no file deleted since the last build
            shutil.copytree(HERE / folder, target,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
