"""Where one ``cilium-lint`` run spends its time, stage by stage, without a profiler's overhead.

    python bench/stages.py TREE [cilium-lint options...]      e.g. --no-cache -j1

Wraps the pipeline's stage functions with timers and runs the command line once, in this
process. For function-level detail run ``python -m cProfile -s cumulative -m cilium_lint TREE``
(its overhead inflates Python-heavy stages two to three times).
"""

from __future__ import annotations

import functools
import io
import resource
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

TIMES: dict[str, float] = {}
PEAK_MB: dict[str, float] = {}  # the process's peak RSS when each stage last ended


def peak_mb() -> float:
    # ru_maxrss is in KB on Linux (bytes on macOS: the column is then off by 1024).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(owner: Any, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            TIMES[label] = TIMES.get(label, 0.0) + time.perf_counter() - start
            PEAK_MB[label] = peak_mb()

    setattr(owner, name, wrapper)


def main(argv: list[str]) -> int:
    start = time.perf_counter()
    from cilium_lint import cli, engine, loader, tree

    imported = time.perf_counter()
    TIMES["import cilium_lint.cli"] = imported - start
    # Modules imported inside cli._check: import them here so their cost is shown apart.
    from cilium_lint import config, registry
    from cilium_lint.report import formatter  # noqa: F401

    TIMES["import the pipeline"] = time.perf_counter() - imported
    timed(config, "load_config", "load config")
    timed(registry, "load_registry", "load rules")
    timed(engine, "discover", "discover (walk)")
    timed(engine, "load_files", "load files (read, cache, parse)")
    timed(loader, "_parse_all", "  of which parsing (here or in workers)")
    timed(tree.TreeBuilder, "build", "index the tree")
    for name, label in (
        ("build_graph", "Flux graph"),
        ("gather", "facts (releases, values, pools, requests)"),
        ("evaluate", "rules"),
        ("apply_suppressions", "suppressions"),
    ):
        if hasattr(engine, name):
            timed(engine, name, label)
    timed(cli, "_write_reports", "report")
    run_start = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    total = time.perf_counter() - start
    TIMES["other"] = (time.perf_counter() - run_start) - sum(
        v for k, v in TIMES.items() if not k.startswith(("import", " ")) and k != "other"
    )
    width = max(map(len, TIMES))
    print(f"{'stage':<{width}}  {'time':>10}  {'share':>6}  peak RSS after")
    for label, seconds in TIMES.items():
        peak = f"{PEAK_MB[label]:8.0f} MB" if label in PEAK_MB else ""
        print(f"{label:<{width}}  {seconds:8.3f} s  {seconds / total:6.1%}  {peak}")
    print(f"{'total':<{width}}  {total:8.3f} s  (exit {code}, peak RSS {peak_mb():.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
