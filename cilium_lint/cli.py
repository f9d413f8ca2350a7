"""Command line: ``cilium-lint [PATH ...]``, ``cilium-lint rules``, ``cilium-lint rule ID``.

Exit codes: 0 no finding at or above ``--fail-on`` (error by default); 1 such findings;
2 usage, configuration or internal error; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cilium_lint import __version__

if TYPE_CHECKING:
    from cilium_lint.engine import Report

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
ISSUES_URL = "https://github.com/cilium-lint/cilium-lint/issues"
SUBCOMMANDS = ("check", "rules", "rule", "ips")
# cilium_lint.report.FORMATS, spelled out so that --help does not import the engine.
FORMATS = ("text", "sarif", "json", "github", "markdown")


class UsageError(Exception):
    pass


def _ids(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def _report_spec(text: str) -> tuple[str, Path]:
    """``--report FORMAT:FILE``; the first colon splits, so FILE may hold one (``C:\\x``)."""
    fmt, colon, file = text.partition(":")
    if not colon or not file:
        raise argparse.ArgumentTypeError(f"expected FORMAT:FILE, got '{text}'")
    if fmt not in FORMATS:
        raise argparse.ArgumentTypeError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")
    return fmt, Path(file)


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number of processes (1 or more), got '{text}'"
        )
    return jobs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cilium-lint",
        description="Lint a Flux/Kustomize tree for the Cilium invariants before it is applied.",
        epilog="Other commands: `cilium-lint rules` lists the rules, "
        "`cilium-lint rule CL101` explains one.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: .)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="the main report")
    parser.add_argument("--output", "-o", type=Path, help="write the main report to FILE")
    parser.add_argument(
        "--report",
        type=_report_spec,
        action="append",
        default=[],
        metavar="FORMAT:FILE",
        help="also write a report in FORMAT to FILE, from the same run (repeatable)",
    )
    parser.add_argument(
        "--statistics",
        action="store_true",
        help="count findings per rule instead of listing them (text or json)",
    )
    parser.add_argument("--config", type=Path, help="configuration file (default: discovered)")
    parser.add_argument(
        "--select", type=_ids, default=[], help="comma-separated rule ids or prefixes to run"
    )
    parser.add_argument(
        "--ignore", type=_ids, default=[], help="comma-separated rule ids or prefixes to skip"
    )
    parser.add_argument(
        "--rule-dir", type=Path, action="append", default=[], help="folder of extra rule files"
    )
    parser.add_argument(
        "--fail-on", choices=("error", "warning", "note"), help="lowest severity that fails"
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    parser.add_argument(
        "--strict-graph",
        action="store_true",
        help="report YAML files no Flux Kustomization applies (CL011)",
    )
    parser.add_argument(
        "--baseline", type=Path, help="do not report findings recorded in this baseline file"
    )
    parser.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="record every current finding in FILE (for --baseline) and exit 0",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="parse every file, read and write no cache"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where parsed files are cached (default: $CILIUM_LINT_CACHE_DIR, else cilium-lint "
        "in the user's cache folder, e.g. ~/.cache/cilium-lint; never the linted tree)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        metavar="N",
        help="parse in N processes, this one included (default: one per core, up to 4, "
        "for 2,000 files or more; 1 below)",
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the text output")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("--version", action="version", version=f"cilium-lint {__version__}")
    return parser


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {output}: folder {directory} does not exist")
    if output.is_dir():
        raise UsageError(f"cannot write {output}: it is a folder")
    # mkstemp creates the file 0600; give the report the mode a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    # Written next to the target and renamed, so an interrupted run leaves no half report.
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, output)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _use_color(args: argparse.Namespace) -> bool:
    return (
        args.output is None
        and not args.no_color
        and "NO_COLOR" not in os.environ
        and sys.stdout.isatty()
    )


def _check_reports(args: argparse.Namespace) -> None:
    """Before any work: --statistics fits the main format, and no file is written twice."""
    if args.statistics and args.format not in ("text", "json"):
        raise UsageError(f"--statistics prints text or json, not {args.format}")
    targets = [args.output] if args.output is not None else []
    targets += [file for _, file in args.report]
    seen: set[Path] = set()
    for target in targets:
        resolved = target.resolve()
        if resolved in seen:
            raise UsageError(f"{target} is the target of two reports")
        seen.add(resolved)


def _write_reports(args: argparse.Namespace, report: Report) -> None:
    """The main report (stdout or --output), then every --report FORMAT:FILE."""
    from cilium_lint.report import formatter
    from cilium_lint.report.markdown import github_blob_base

    link_base = github_blob_base(os.environ, Path.cwd())
    if args.statistics:
        from cilium_lint.report import statistics

        if args.format == "json":
            main = statistics.to_statistics_json(report)
        else:
            main = statistics.to_statistics_text(report)
    else:
        main = formatter(args.format, color=_use_color(args), link_base=link_base)(report)
    _write(main, args.output)
    for fmt, file in args.report:
        _write(formatter(fmt, link_base=link_base)(report), file)


def _cache_dir(args: argparse.Namespace) -> Path | None:
    if args.no_cache:
        return None
    if args.cache_dir is not None:
        return Path(args.cache_dir)
    from cilium_lint.cache import default_directory

    return default_directory(os.environ)


def _check(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    _check_reports(args)
    from cilium_lint.config import ConfigError, load_config
    from cilium_lint.engine import Selection, lint
    from cilium_lint.registry import load_registry
    from cilium_lint.rules.api import Severity

    paths = args.paths or [Path(".")]
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    loaded = load_config(args.config, paths[0])
    rule_dirs = list(args.rule_dir)
    registry = load_registry(rule_dirs)
    config = loaded.config
    if args.strict_graph:
        config = config.model_copy(update={"strict_graph": True})
    baseline = None
    if args.baseline is not None:
        from cilium_lint.baseline import read_baseline

        baseline = read_baseline(args.baseline)
    try:
        report = lint(
            paths,
            Path.cwd(),
            config,
            registry,
            Selection(tuple(args.select), tuple(args.ignore)),
            config_base=loaded.base,
            fail_on=Severity(args.fail_on) if args.fail_on else None,
            baseline=baseline,
            cache_dir=_cache_dir(args),
            jobs=args.jobs,
            config_locate=loaded.locate,
        )
    except ConfigError as exc:
        if exc.key is None:
            raise
        raise ConfigError(f"{loaded.where(exc.key)}: {exc}") from None
    excluded_all = any(notice.key == "exclude" for notice in report.notices)
    if args.paths and report.files_checked == 0 and not excluded_all:
        # Paths were named and held nothing to read: a typo, never "All checks passed". (An
        # exclude that left nothing is a configuration notice in the reports instead.)
        from cilium_lint.escape import printable

        named = ", ".join(printable(str(path)) for path in args.paths)
        raise UsageError(
            f"no YAML file was linted in {named}: there is none, or every one is skipped"
        )
    if args.write_baseline is not None:
        from cilium_lint.baseline import write_baseline

        _write(write_baseline(report.findings, args.write_baseline), args.write_baseline)
        from cilium_lint.escape import printable

        print(
            f"wrote {len(report.findings)} findings to baseline "
            f"{printable(str(args.write_baseline))}",
            file=sys.stderr,
        )
        return EXIT_OK
    _write_reports(args, report)
    if args.output is not None and args.format != "text":
        from cilium_lint.report.text import summary

        print(summary(report), file=sys.stderr)
    return EXIT_FINDINGS if report.failed and not args.exit_zero else EXIT_OK


def _rules(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="cilium-lint rules", description="List every rule.")
    parser.add_argument("--rule-dir", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    from cilium_lint.registry import load_registry

    registry = load_registry(args.rule_dir)
    rows = [
        (r.meta.id, r.meta.name, r.meta.severity.value, registry.packs[r.meta.id], r.meta.summary)
        for r in registry.rules.values()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    return EXIT_OK


def _rule(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="cilium-lint rule", description="Explain one rule.")
    parser.add_argument("id", help="rule id, e.g. CL101")
    parser.add_argument("--rule-dir", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    from cilium_lint.registry import load_registry
    from cilium_lint.report.sarif import help_uri

    registry = load_registry(args.rule_dir)
    rule = registry.get(args.id)
    if rule is None:
        raise UsageError(f"no rule {args.id.upper()} (see `cilium-lint rules`)")
    meta = rule.meta
    print(f"{meta.id} {meta.name} ({meta.severity.value}, {registry.packs[meta.id]} pack)")
    print()
    print(meta.help_markdown())
    print()
    print(f"Documentation: {help_uri(meta)}")
    return EXIT_OK


def _ips(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="cilium-lint ips",
        description="The LoadBalancer address plan: every requested IP per cluster and pool, "
        "duplicates and out-of-pool entries, usage and the next free addresses.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: .)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--config", type=Path, help="configuration file (default: discovered)")
    parser.add_argument("--output", "-o", type=Path, help="write the plan to FILE")
    parser.add_argument("--no-cache", action="store_true", help="read and write no parse cache")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR", help="parse cache folder")
    args = parser.parse_args(argv)
    from cilium_lint.config import load_config
    from cilium_lint.engine import address_facts
    from cilium_lint.ipplan import build_plan, format_text, to_json

    paths = args.paths or [Path(".")]
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    loaded = load_config(args.config, paths[0])
    cache = _cache_dir(args)
    scopes = address_facts(paths, Path.cwd(), loaded.config, loaded.base, cache)
    if args.format == "json":
        if len(scopes) == 1:
            text = to_json(build_plan(scopes[0][1]))
        else:
            import json

            plans = {name or "": json.loads(to_json(build_plan(facts))) for name, facts in scopes}
            text = json.dumps({"clusters": plans}, indent=2) + "\n"
    else:
        parts = []
        for name, facts in scopes:
            plan = format_text(build_plan(facts))
            parts.append(f"== cluster {name} ==\n{plan}" if len(scopes) > 1 else plan)
        text = "\n".join(parts)
    _write(text, args.output)
    return EXIT_OK


def _debug_notes() -> None:
    """With --debug, what the stages note on the way (e.g. why the cache is off) goes to stderr."""
    import logging

    class Escaped(logging.Formatter):
        # A note may quote a path: never let it move the cursor or start a workflow command.
        def format(self, record: logging.LogRecord) -> str:
            text = super().format(record)
            return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Escaped("cilium-lint: debug: %(message)s"))
    logger = logging.getLogger("cilium_lint")
    logger.setLevel(logging.DEBUG)
    for old in list(logger.handlers):  # an earlier run in this process (tests): its stderr
        logger.removeHandler(old)
    logger.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        _debug_notes()
    command, rest = "check", argv
    if argv and argv[0] in SUBCOMMANDS:
        command, rest = argv[0], argv[1:]
    try:
        if command == "rules":
            return _rules(rest)
        if command == "rule":
            return _rule(rest)
        if command == "ips":
            return _ips(rest)
        return _check(rest)
    except KeyboardInterrupt:
        print("cilium-lint: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except SystemExit as exc:  # argparse: usage errors and --help/--version
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except Exception as exc:
        from cilium_lint.baseline import BaselineError
        from cilium_lint.config import ConfigError
        from cilium_lint.escape import printable
        from cilium_lint.rules.declarative import RuleLoadError

        if isinstance(exc, ConfigError | RuleLoadError | UsageError | BaselineError):
            # Messages quote paths and keys of the linted tree: each line escaped and
            # prefixed, so none can start a workflow command.
            for line in str(exc).split("\n"):
                print(f"cilium-lint: {printable(line)}", file=sys.stderr)
            return EXIT_ERROR
        if debug:
            traceback.print_exc()
        else:
            print(
                f"cilium-lint: internal error: {type(exc).__name__}: {printable(str(exc))} "
                f"(run with --debug for the traceback; please report it at {ISSUES_URL})",
                file=sys.stderr,
            )
        return EXIT_ERROR
