"""Run the installed command line as a user would: a fresh process, a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Variables of the calling shell or CI runner that would change what the CLI prints.
_DROPPED = ("NO_COLOR", "PYTHONWARNINGS")


def run_cli(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m cilium_lint ARGS`` in ``cwd``; ``env`` is added to a cleaned environment."""
    environment = {
        k: v for k, v in os.environ.items() if k not in _DROPPED and not k.startswith("GITHUB_")
    }
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cilium_lint", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
