"""The Makefile's help, as a newcomer reads it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_help_lists_every_target_with_the_real_address() -> None:
    make = shutil.which("make")
    assert make is not None, "make is needed to develop the kit"
    shown = subprocess.run(
        [make, "-s", "-C", str(ROOT), "help", "PORT=9000"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert "$(" not in shown
    assert "make run        Migrate and serve the example app on 127.0.0.1:9000" in shown
    for target in ("install", "run", "dev", "migrate", "test", "lint", "docs", "dist", "bench"):
        assert f"make {target} " in shown
