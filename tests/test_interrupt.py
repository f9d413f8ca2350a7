"""Ctrl-C: exit 130 with one line, no traceback, no half-written report, workers never hang."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("big") / "tree"
    generate(tree, 6000)
    return tree


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs process groups")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_to_the_process_group_exits_130_cleanly(
    big_tree: Path, tmp_path: Path, jobs: str
) -> None:
    report = tmp_path / "report.sarif"
    report.write_text("previous report\n")
    tried: list[str] = []
    # Later and later: a first run on a fresh checkout is still compiling its imports at first.
    for delay in (0.5, 1.0, 1.5, 2.5):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cilium_lint",
                str(big_tree),
                "--no-cache",
                "--jobs",
                jobs,
                "--format",
                "sarif",
                "--output",
                str(report),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a terminal's foreground job
            # As from a shell: Ctrl-C handled by default. Within the whole suite the runner's
            # own SIGINT disposition may be "ignore", which a child would inherit.
            preexec_fn=_default_sigint,
        )
        time.sleep(delay)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
            _out, err = process.communicate(timeout=60)  # a hang fails here
            tried.append(f"{delay}s: exit {process.returncode} {err.strip()[-200:]!r}")
            if process.returncode == 130:
                assert err.strip() == "cilium-lint: interrupted"
                assert report.read_text() == "previous report\n"
                leftovers = [p for p in tmp_path.iterdir() if p.name != report.name]
                assert not leftovers, leftovers
                return
        else:
            process.communicate()
            tried.append(f"{delay}s: finished first")
    pytest.skip("could not interrupt a run here: " + "; ".join(tried))


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
