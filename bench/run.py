"""Measure cilium-lint against the floor, in one run, on the same generated trees.

    python bench/run.py [--sizes 1000,10000,50000] [--runs 5] [--large-runs 3]
                        [--workdir /tmp/cilium-lint-bench] [--output bench/RESULTS.md]

For every size a tree is generated (``bench/generate.py``, fixed seed) and, interleaved run by
run so that a noisy neighbour hits every measurement alike:

* floor: read and parse every YAML file with libyaml (``yaml.load_all(..., CSafeLoader)``)
  and keep the documents, nothing else, in a fresh process;
* ``cilium-lint TREE --no-cache`` (the default: parsing in one process per core from 2,000
  files on), and with ``-j1`` (parsing in this process only; not at 50k files);
* ``cilium-lint TREE`` with a cold cache (emptied first) and then a warm one;

and, once per run, ``cilium-lint --version`` and ``cilium-lint examples/cluster``.

Every measurement is its own process under a small wrapper that reports the wall time from
spawn to exit, the CPU time, and the peak memory: ``ru_maxrss`` of ``RUSAGE_CHILDREN`` (the
largest single process, workers included) and, sampled every 20 ms from ``/proc``, the largest
sum over the process and its workers. Medians are reported; ratios are of medians from this run.

The subprocesses run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed,
``PYTHONPYCACHEPREFIX`` inside the work folder) as an installed cilium-lint would, after one
unmeasured warm-up run of each command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = REPO / "examples" / "cluster"
PROFILE_HEADING = "## Where the time goes"

# Runs the command given as JSON and prints what it cost, as JSON.
WRAPPER = r"""
import json, os, resource, subprocess, sys, tempfile, time

def tree_rss(pid):
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return total

spec = json.loads(sys.argv[1])
with tempfile.TemporaryFile() as err:
    start = time.perf_counter()
    proc = subprocess.Popen(spec["cmd"], cwd=spec["cwd"], env=spec["env"],
                            stdout=subprocess.DEVNULL, stderr=err)
    peak = 0
    if spec.get("sample") and os.path.isdir("/proc"):
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.02)
    proc.wait()
    wall = time.perf_counter() - start
    err.seek(0)
    stderr = err.read().decode("utf-8", "replace")[-2000:]
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "maxrss_kb": usage.ru_maxrss, "tree_rss_kb": peak,
                  "rc": proc.returncode, "stderr": stderr}))
"""

# The floor: every YAML file read and parsed by libyaml, the documents kept, nothing else.
FLOOR = r"""
import os, sys, yaml
root = sys.argv[1]
skip = {".git", ".cilium-lint-cache"}
kept = []
for directory, dirs, files in os.walk(root):
    dirs[:] = sorted(d for d in dirs if d not in skip)
    for name in sorted(files):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(directory, name), "rb") as handle:
                raw = handle.read()
            try:
                kept.append(list(yaml.load_all(raw, Loader=yaml.CSafeLoader)))
            except yaml.YAMLError:
                kept.append(None)
print(len(kept))
"""


@dataclass
class Series:
    label: str
    samples: list[dict[str, float]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(s[key] for s in self.samples)

    def spread(self, key: str) -> tuple[float, float]:
        values = [s[key] for s in self.samples]
        return min(values), max(values)


def bench_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    env["NO_COLOR"] = "1"
    env.pop("XDG_CACHE_HOME", None)
    return env


def measure(cmd: list[str], cwd: Path, env: dict[str, str], sample: bool = False) -> dict:
    spec = json.dumps({"cmd": cmd, "cwd": str(cwd), "env": env, "sample": sample})
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, spec], capture_output=True, text=True, check=True
    )
    result: dict = json.loads(out.stdout)
    if result["rc"] not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({result['rc']}):\n{result['stderr']}")
    return result


def cilium_lint() -> list[str]:
    found = shutil.which("cilium-lint", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "cilium_lint"]


def ensure_tree(workdir: Path, files: int) -> Path:
    tree = workdir / f"tree-{files}"
    stamp = tree / ".generated"
    generator = (HERE / "generate.py").read_bytes()
    import hashlib

    want = hashlib.sha256(generator + str(files).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == want:
        return tree
    if tree.exists():
        shutil.rmtree(tree)
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(tree), "--files", str(files)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tree / ".git").mkdir()  # a repository root, as a real tree would have
    stamp.write_text(want, encoding="utf-8")
    return tree


def count_files(tree: Path) -> int:
    return sum(
        1 for _, _, files in os.walk(tree) for name in files if name.endswith((".yaml", ".yml"))
    )


def machine() -> dict[str, str]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import yaml

        libyaml = f"PyYAML {yaml.__version__}, libyaml {'yes' if yaml.__with_libyaml__ else 'NO'}"
        if yaml.__with_libyaml__:
            from yaml import _yaml  # type: ignore[attr-defined]

            libyaml += f" ({_yaml.get_version_string()})"
    except ImportError:
        libyaml = "PyYAML missing"
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 1
    return {
        "cpu": model,
        "cores": f"{os.cpu_count()} ({affinity} usable)",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "yaml": libyaml,
    }


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def run_size(
    files: int, runs: int, workdir: Path, env: dict[str, str], lint: list[str]
) -> tuple[int, dict[str, Series]]:
    tree = ensure_tree(workdir, files)
    cache = workdir / f"cache-{files}"
    commands = {
        "floor": ([sys.executable, "-c", FLOOR, "."], False),
        "lint": ([*lint, ".", "--no-cache"], True),
        "lint -j1 (one process)": ([*lint, ".", "--no-cache", "-j1"], True),
        "lint, cold cache": ([*lint, ".", "--cache-dir", str(cache)], True),
        "lint, warm cache": ([*lint, ".", "--cache-dir", str(cache)], True),
    }
    if files > 20000:
        del commands["lint -j1 (one process)"]  # measured at 10k; too slow to repeat here
    series = {label: Series(label) for label in commands}
    for cmd, _ in commands.values():  # warm-up: page cache, bytecode, the cache itself
        measure(cmd, tree, env)
    for run in range(runs):
        for label, (cmd, sample) in commands.items():
            if label == "lint, cold cache":
                shutil.rmtree(cache, ignore_errors=True)
            series[label].samples.append(measure(cmd, tree, env, sample))
        print(f"  {files} files, run {run + 1}/{runs}: load {load()}", file=sys.stderr)
    shutil.rmtree(cache, ignore_errors=True)
    return count_files(tree), series


def run_startup(runs: int, workdir: Path, env: dict[str, str], lint: list[str]) -> dict:
    commands = {
        "cilium-lint --version": [*lint, "--version"],
        "cilium-lint examples/cluster": [*lint, str(EXAMPLE), "--no-cache"],
        "cilium-lint examples/cluster (cache)": [
            *lint,
            str(EXAMPLE),
            "--cache-dir",
            str(workdir / "cache-example"),
        ],
    }
    series = {label: Series(label) for label in commands}
    for cmd in commands.values():
        measure(cmd, REPO, env)
    for _ in range(max(runs, 5)):
        for label, cmd in commands.items():
            series[label].samples.append(measure(cmd, REPO, env))
    return series


def mb(kb: float) -> str:
    return f"{kb / 1024:.0f}"


def size_table(files: int, series: dict[str, Series]) -> list[str]:
    floor = series["floor"]
    floor_wall, floor_rss = floor.median("wall"), floor.median("maxrss_kb")
    lines = [
        f"### {files:,} files",
        "",
        "| measurement | wall s (median) | min-max | CPU s | peak RSS MB | workers' sum MB "
        "| time / floor | memory / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, s in series.items():
        low, high = s.spread("wall")
        tree = s.median("tree_rss_kb")
        lines.append(
            f"| {label} | {s.median('wall'):.2f} | {low:.2f}-{high:.2f} | {s.median('cpu'):.2f} "
            f"| {mb(s.median('maxrss_kb'))} | {mb(tree) if tree else '-'} "
            f"| {s.median('wall') / floor_wall:.2f}x | {s.median('maxrss_kb') / floor_rss:.2f}x |"
        )
    return [*lines, ""]


def render(
    info: dict[str, str],
    settings: dict[str, str],
    sizes: dict[int, tuple[int, dict[str, Series]]],
    startup: dict[str, Series],
    kept: str,
) -> str:
    out = [
        "# Benchmark results",
        "",
        "Written by `python bench/run.py` (see `bench/README.md`); every number below comes from "
        "one run of that script on one machine. The machine is shared: compare the ratios, which "
        "were measured interleaved, rather than the absolute times.",
        "",
        "## Machine",
        "",
        *(f"- {k}: {v}" for k, v in info.items()),
        *(f"- {k}: {v}" for k, v in settings.items()),
        "",
        "## Targets (issue 7)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    rows: list[tuple[str, str, bool]] = []
    by_files = sizes
    if 10000 in by_files:
        _, s = by_files[10000]
        ratio = s["lint"].median("wall") / s["floor"].median("wall")
        rows.append(("lint <= 1.5x the floor (10k files)", f"{ratio:.2f}x", ratio <= 1.5))
        serial = s["lint -j1 (one process)"].median("wall") / s["floor"].median("wall")
        rows.append(("(one process, -j1, for reference)", f"{serial:.2f}x", serial <= 1.5))
        warm = s["lint, warm cache"].median("wall") / s["floor"].median("wall")
        rows.append(("(warm cache, for reference)", f"{warm:.2f}x", warm <= 1.5))
        memory = s["lint"].median("maxrss_kb") / s["floor"].median("maxrss_kb")
        rows.append(("peak memory <= 2x the floor's (10k files)", f"{memory:.2f}x", memory <= 2))
        tree = s["lint"].median("tree_rss_kb")
        if tree:
            workers = tree / s["floor"].median("maxrss_kb")
            rows.append(("(the same, workers' memory added)", f"{workers:.2f}x", workers <= 2))
    if 10000 in by_files and 50000 in by_files:
        small, large = by_files[10000][1], by_files[50000][1]
        ratio = large["lint"].median("wall") / small["lint"].median("wall")
        floor_ratio = large["floor"].median("wall") / small["floor"].median("wall")
        rows.append(
            (
                "50k / 10k lint time <= 5.5",
                f"{ratio:.2f} (the floor's own: {floor_ratio:.2f})",
                ratio <= 5.5,
            )
        )
    version = startup["cilium-lint --version"].median("wall")
    rows.append(("`cilium-lint --version` < 150 ms", f"{version * 1000:.0f} ms", version < 0.15))
    example = startup["cilium-lint examples/cluster"].median("wall")
    rows.append(("example tree < 400 ms wall", f"{example * 1000:.0f} ms", example < 0.4))
    out += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in rows]
    out += ["", "## Per tree size", ""]
    for files, series in sizes.values():
        out += size_table(files, series)
    out += [
        "### Start-up",
        "",
        "| measurement | wall ms (median) | min-max | peak RSS MB |",
        "|---|---:|---:|---:|",
    ]
    for label, s in startup.items():
        low, high = s.spread("wall")
        out.append(
            f"| {label} | {s.median('wall') * 1000:.0f} | {low * 1000:.0f}-{high * 1000:.0f} "
            f"| {mb(s.median('maxrss_kb'))} |"
        )
    out.append("")
    if kept:
        out += ["", kept.rstrip(), ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per size")
    parser.add_argument(
        "--large-runs", type=int, default=3, help="measured runs for sizes over 20,000 files"
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cilium-lint-bench"))
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = bench_env(args.workdir)
    lint = cilium_lint()
    started = dt.datetime.now(dt.UTC)
    load_before = load()
    sizes: dict[int, tuple[int, dict[str, Series]]] = {}
    for text in args.sizes.split(","):
        files = int(text)
        runs = args.large_runs if files > 20000 else args.runs
        print(f"{files} files, {runs} runs", file=sys.stderr)
        sizes[files] = run_size(files, runs, args.workdir, env, lint)
    print("start-up", file=sys.stderr)
    startup = run_startup(args.runs, args.workdir, env, lint)
    kept = ""
    if args.output.is_file():
        text = args.output.read_text(encoding="utf-8")
        if PROFILE_HEADING in text:
            kept = text[text.index(PROFILE_HEADING) :]
    settings = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "runs": f"{args.runs} per size ({args.large_runs} over 20,000 files), medians reported",
        "load average (1, 5, 15 min)": f"{load_before} before, {load()} after",
    }
    args.output.write_text(render(machine(), settings, sizes, startup, kept), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
