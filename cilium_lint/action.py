"""The GitHub Action's lint step: ``python -m cilium_lint.action`` (see ``action.yml``).

``action.yml`` hands its inputs over as ``INPUT_*`` environment variables (never pasted into a
script). One cilium-lint run prints the log format (``github`` annotations by default) and writes
SARIF to ``sarif-file``, and JSON, Markdown and the parse cache to ``RUNNER_TEMP``; the Markdown
is appended to ``GITHUB_STEP_SUMMARY``, the counts go to ``GITHUB_OUTPUT``. The exit code is
cilium-lint's.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cilium_lint import cli
from cilium_lint.escape import printable

FAIL_ON = ("error", "warning", "note", "never")


class InputError(Exception):
    pass


@dataclass(frozen=True)
class Inputs:
    paths: list[str]
    config: str
    format: str
    sarif_file: str
    fail_on: str
    summary: bool
    args: list[str]


def _split(name: str, text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError as exc:
        raise InputError(f"input {name}: {exc}") from None


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off", ""):
        return False
    raise InputError(f"input {name}: expected true or false, got {text!r}")


def read_inputs(environ: Mapping[str, str]) -> Inputs:
    def get(name: str, default: str = "") -> str:
        return environ.get(f"INPUT_{name}", default).strip() or default

    fail_on = get("FAIL_ON").lower()
    if fail_on and fail_on not in FAIL_ON:
        raise InputError(f"input fail-on: expected one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    temp = environ.get("RUNNER_TEMP") or "."
    return Inputs(
        paths=_split("paths", get("PATHS", ".")) or ["."],
        config=get("CONFIG"),
        format=get("FORMAT", "github"),
        sarif_file=get("SARIF_FILE") or os.path.join(temp, "cilium-lint.sarif"),
        fail_on=fail_on,
        summary=_flag("summary", get("SUMMARY", "true")),
        args=_split("args", get("ARGS")),
    )


def lint_argv(inputs: Inputs, temp: Path, json_file: str, markdown_file: str | None) -> list[str]:
    argv = ["--format", inputs.format, "--report", f"sarif:{inputs.sarif_file}"]
    # The parse cache lives with the runner, never in the workspace a later step may commit.
    argv += ["--cache-dir", str(temp / "cilium-lint-cache")]
    argv += ["--report", f"json:{json_file}"]
    if markdown_file:
        argv += ["--report", f"markdown:{markdown_file}"]
    if inputs.config:
        argv += ["--config", inputs.config]
    if inputs.fail_on == "never":
        argv.append("--exit-zero")
    elif inputs.fail_on:
        argv += ["--fail-on", inputs.fail_on]
    # Paths last, after "--", so a path can never be read as an option.
    return [*argv, *inputs.args, "--", *inputs.paths]


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(text)


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    lines = []
    for name, value in outputs.items():
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            lines.append(f"{name}={value}\n")
    _append(path, "".join(lines))


def run(environ: Mapping[str, str]) -> int:
    try:
        inputs = read_inputs(environ)
    except InputError as exc:
        from cilium_lint.report.github import command

        print(command("error", {"title": "cilium-lint"}, str(exc)), flush=True)
        return cli.EXIT_ERROR
    temp = Path(environ.get("RUNNER_TEMP") or ".")
    json_file = str(temp / "cilium-lint.json")
    summary_file = environ.get("GITHUB_STEP_SUMMARY")
    markdown_file = str(temp / "cilium-lint.md") if inputs.summary and summary_file else None
    for stale in (json_file, markdown_file):
        if stale:
            Path(stale).unlink(missing_ok=True)
    argv = lint_argv(inputs, temp, json_file, markdown_file)
    print(f"cilium-lint {printable(shlex.join(argv))}", flush=True)
    code = cli.main(argv)
    sys.stdout.flush()
    if not Path(json_file).is_file():
        # Usage or configuration error: cilium-lint said why on stderr.
        if markdown_file:
            _append(
                summary_file,
                f"## cilium-lint\n\n:x: cilium-lint exited with code {code} before linting: "
                "see the step's log.\n",
            )
        return code
    summary = json.loads(Path(json_file).read_text(encoding="utf-8"))["summary"]
    findings = summary["error"] + summary["warning"] + summary["note"]
    write_outputs(
        environ.get("GITHUB_OUTPUT"),
        {
            "errors": str(summary["error"]),
            "warnings": str(summary["warning"]),
            "notes": str(summary["note"]),
            "findings": str(findings),
            "failed": "true" if summary["failed"] else "false",
            "sarif-file": inputs.sarif_file,
            "json-file": json_file,
        },
    )
    if markdown_file and Path(markdown_file).is_file():
        _append(summary_file, Path(markdown_file).read_text(encoding="utf-8"))
    return code


def main(argv: Sequence[str] | None = None) -> int:
    if argv if argv is not None else sys.argv[1:]:
        print("usage: python -m cilium_lint.action (inputs come from INPUT_* variables)")
        return cli.EXIT_ERROR
    return run(os.environ)


if __name__ == "__main__":
    raise SystemExit(main())
