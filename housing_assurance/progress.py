"""Progress for long jobs (demo data, PDF pack): shown on a terminal, silent in a pipe or a scheduler."""

from __future__ import annotations

import sys
from collections.abc import Callable

Progress = Callable[[str, float], None]


def terminal_progress(stream=sys.stderr) -> Progress | None:
    if not stream.isatty():
        return None

    def show(stage: str, fraction: float) -> None:
        bar = "#" * int(fraction * 30)
        stream.write(f"\r{stage[:40]:40} [{bar:30}] {fraction:4.0%}")
        if fraction >= 1:
            stream.write("\n")
        stream.flush()

    return show
