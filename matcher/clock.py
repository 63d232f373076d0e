"""Seconds per stage of a job, added up over repeats and over threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Clock:
    """``with clock("stage"):`` adds the block's wall time to ``seconds["stage"]``."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        with self.lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start
