"""Run the command line under a CPU-time limit: bounded cost asserted without a wall clock."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from clitools import REPO


def run_cli_limited(
    *args: str, cwd: Path = REPO, cpu_seconds: int = 20
) -> subprocess.CompletedProcess[str]:
    """``python -m cilium_lint ARGS``, killed by the kernel (SIGXCPU) past ``cpu_seconds`` of
    CPU time; the environment is cleaned as ``clitools.run_cli`` does."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))

    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NO_COLOR", "PYTHONWARNINGS") and not k.startswith("GITHUB_")
    }
    return subprocess.run(
        [sys.executable, "-m", "cilium_lint", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=limit,
    )


def finished(result: subprocess.CompletedProcess[str]) -> bool:
    """The run ended by itself: not killed by the CPU limit (a negative code is a signal)."""
    return result.returncode >= 0 and "Traceback" not in result.stderr
