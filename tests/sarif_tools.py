"""Helpers that let the test suite check SARIF output with Microsoft's SARIF Multitool.

The Multitool ships on the npm registry as ``@microsoft/sarif-multitool``: a small
wrapper package whose optional dependency ``@microsoft/sarif-multitool-<platform>``
(linux, darwin or win32) carries a self-contained .NET binary and the SARIF 2.1.0
JSON schema (``sarif-2.1.0.json``).  Instead of calling ``npx`` every time (which asks
the registry for metadata on each call and needs ``--offline`` to work without a
network), the package is installed once with ``npm install`` into a cache folder and
its binary is run directly.  The command line is the same as::

    npx --yes @microsoft/sarif-multitool@5.7.0 validate --rule-kind Gh -o OUT IN

Notes on the tool's behaviour (version 5.7.0):

* ``--rule-kind Gh`` (an alias of ``Ghas``) *replaces* the default rule set: only the
  JSON-schema checks (``JSON0001`` syntax, ``JSON10xx`` schema) and the GitHub
  Advanced Security rules (``GH1011``-``GH2012``) run.  The default SARIF rules
  (``SARIF1xxx`` errors, ``SARIF2xxx`` warnings) run without ``--rule-kind`` or with
  ``--rule-kind Sarif``; ``--rule-kind "Sarif;Gh"`` runs both.
* Some schema errors (e.g. a missing required property) stop the rule checks, so a
  log with schema errors may show only ``JSON10xx`` results.
* The exit code is 0 whenever the analysis ran, whatever it found; it is non-zero
  when the tool itself failed (e.g. the output file already exists).
* The output is a SARIF log whose results carry ``message.id`` and
  ``message.arguments`` but no ``message.text``; the templates live in the rules'
  ``messageStrings``.  ``run_multitool`` fills ``message.text`` in from them.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MULTITOOL_PACKAGE = "@microsoft/sarif-multitool"
MULTITOOL_VERSION = "5.7.0"
SCHEMA_FILE_NAME = "sarif-2.1.0.json"
INSTALL_TIMEOUT_S = 600
VALIDATE_TIMEOUT_S = 600
_PLATFORM_PACKAGES = ("linux", "darwin", "win32")
_COMPLETE_MARKER = ".install-complete"


def multitool_available() -> bool:
    """True when node and npm are on PATH (the Multitool is then fetched on demand)."""
    return shutil.which("node") is not None and shutil.which("npm") is not None


def cache_root() -> Path:
    """Folder for the test suite's downloads, derived at run time.

    ``$CILIUM_LINT_TEST_CACHE`` if set, else ``$XDG_CACHE_HOME/cilium-lint-tests`` or
    ``~/.cache/cilium-lint-tests``; the system temp dir when that cannot be created.
    """
    override = os.environ.get("CILIUM_LINT_TEST_CACHE")
    if override:
        root = Path(override)
        root.mkdir(parents=True, exist_ok=True)
        return root
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    root = base / "cilium-lint-tests"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not os.access(root, os.W_OK):
            raise PermissionError(root)
    except OSError:
        root = Path(tempfile.gettempdir()) / "cilium-lint-tests"
        root.mkdir(parents=True, exist_ok=True)
    return root


def _install_dir() -> Path:
    return cache_root() / f"sarif-multitool-{MULTITOOL_VERSION}"


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""


def _run(cmd: list[str], cwd: Path, timeout: int, what: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.setdefault("npm_config_update_notifier", "false")
    env.setdefault("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"{what} timed out after {timeout} s: {cmd}\n"
            f"--- stdout ---\n{_text(exc.stdout)}\n--- stderr ---\n{_text(exc.stderr)}"
        ) from exc
    except OSError as exc:
        raise AssertionError(f"{what} could not be started: {cmd}: {exc}") from exc
    if proc.returncode != 0:
        raise AssertionError(
            f"{what} failed with exit code {proc.returncode}: {cmd}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return proc


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise AssertionError("npm is not on PATH; cannot install the SARIF Multitool")
    return npm


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not on PATH; cannot run the SARIF Multitool")
    return node


def _install_is_complete(folder: Path) -> bool:
    return (folder / _COMPLETE_MARKER).is_file() and (
        folder / "node_modules" / "@microsoft" / "sarif-multitool" / "package.json"
    ).is_file()


@functools.cache
def multitool_install_dir() -> Path:
    """Install the pinned Multitool once (into the cache) and return the install folder.

    The install goes to a staging folder that is renamed into place when complete, so
    parallel or interrupted runs never see a half-installed package.
    """
    final = _install_dir()
    if _install_is_complete(final):
        return final
    root = final.parent
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{final.name}-staging-"))
    try:
        # Pin the platform package too: the wrapper asks for it as "^5.7.0".
        manifest = {
            "name": "cilium-lint-test-sarif-multitool",
            "private": True,
            "dependencies": {MULTITOOL_PACKAGE: MULTITOOL_VERSION},
            "overrides": {
                f"{MULTITOOL_PACKAGE}-{plat}": MULTITOOL_VERSION for plat in _PLATFORM_PACKAGES
            },
        }
        (staging / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
        _run(
            [
                _npm(),
                "install",
                "--prefix",
                str(staging),
                "--prefer-offline",
                "--no-audit",
                "--no-fund",
                "--no-package-lock",
                "--loglevel=error",
            ],
            cwd=staging,
            timeout=INSTALL_TIMEOUT_S,
            what=f"npm install {MULTITOOL_PACKAGE}@{MULTITOOL_VERSION}",
        )
        if not (staging / "node_modules" / "@microsoft" / "sarif-multitool").is_dir():
            raise AssertionError(f"npm install left no {MULTITOOL_PACKAGE} in {staging}")
        (staging / _COMPLETE_MARKER).write_text(f"{MULTITOOL_PACKAGE}@{MULTITOOL_VERSION}\n")
        if final.exists() and not _install_is_complete(final):
            shutil.rmtree(final, ignore_errors=True)
        try:
            staging.rename(final)
        except OSError:
            if not _install_is_complete(final):  # lost a race only if the winner finished
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final


@functools.cache
def multitool_binary() -> Path:
    """Path of the platform's Multitool executable, resolved the way the npm wrapper does."""
    folder = multitool_install_dir()
    proc = _run(
        [_node(), "-e", f"process.stdout.write(require({json.dumps(MULTITOOL_PACKAGE)}))"],
        cwd=folder,
        timeout=120,
        what="resolving the SARIF Multitool binary",
    )
    binary = Path(proc.stdout.strip())
    if not binary.is_file():
        raise AssertionError(
            f"SARIF Multitool binary not found at {binary!s} (platform {sys.platform})"
        )
    if os.name != "nt" and not os.access(binary, os.X_OK):
        # npm skips the package's "chmod u+x" postinstall when scripts are disabled.
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


def sarif_schema_path() -> Path:
    """Path of ``sarif-2.1.0.json`` inside the installed Multitool package.

    It lives in the platform package:
    ``node_modules/@microsoft/sarif-multitool-<linux|darwin|win32>/sarif-2.1.0.json``.
    """
    modules = multitool_install_dir() / "node_modules" / "@microsoft"
    candidates = sorted(modules.glob(f"sarif-multitool*/{SCHEMA_FILE_NAME}"))
    if not candidates:
        raise AssertionError(f"{SCHEMA_FILE_NAME} not found under {modules}")
    return candidates[0]


@functools.cache
def _schema_text() -> str:
    return sarif_schema_path().read_text(encoding="utf-8-sig")


def sarif_schema() -> dict[str, Any]:
    """The SARIF 2.1.0 JSON schema shipped with the Multitool (a fresh copy per call).

    It declares JSON Schema draft 2020-12; use ``jsonschema.Draft202012Validator``
    (or ``jsonschema.validators.validator_for``).
    """
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


def schema_errors(log: dict[str, Any]) -> list[str]:
    """Messages of every schema violation of ``log`` against ``sarif_schema()``."""
    import jsonschema

    schema = sarif_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    return [
        f"{error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    ]


def _rule_for(result: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    index = result.get("ruleIndex")
    if isinstance(index, int) and 0 <= index < len(rules):
        return rules[index]
    rule_id = result.get("ruleId")
    for rule in rules:
        if rule.get("id") == rule_id:
            return rule
    return None


def _effective_level(result: dict[str, Any], rule: dict[str, Any] | None) -> str:
    if result.get("kind", "fail") != "fail":
        return "none"
    level = result.get("level")
    if level is None and rule is not None:
        level = rule.get("defaultConfiguration", {}).get("level")
    return str(level or "warning")


def _fill_message_text(result: dict[str, Any], rule: dict[str, Any] | None) -> None:
    message = result.get("message")
    if not isinstance(message, dict) or "text" in message or rule is None:
        return
    template = rule.get("messageStrings", {}).get(message.get("id", ""), {}).get("text")
    if not isinstance(template, str):
        return
    text = template
    for i, argument in enumerate(message.get("arguments", [])):
        text = text.replace("{" + str(i) + "}", str(argument))
    message["text"] = text


def error_results(log: dict[str, Any]) -> list[dict[str, Any]]:
    """Results of a SARIF log whose effective level is ``error``.

    The level is the result's ``level``, else its rule's ``defaultConfiguration.level``,
    else ``warning``; results whose ``kind`` is not ``fail`` have no level.
    """
    found: list[dict[str, Any]] = []
    for run in log.get("runs", []):
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        for result in run.get("results", []) or []:
            rule = _rule_for(result, rules)
            if _effective_level(result, rule) == "error":
                _fill_message_text(result, rule)
                found.append(result)
    return found


def run_multitool(sarif_path: Path, workdir: Path, rule_kind: str = "Gh") -> list[dict[str, Any]]:
    """Validate ``sarif_path`` with the Multitool and return its error-level results.

    Runs ``validate --rule-kind <rule_kind> -o <workdir>/<name>.multitool.sarif <input>``
    with ``workdir`` as the working directory.  The default ``"Gh"`` is the GitHub
    Advanced Security rule set (plus the schema checks); pass ``"Sarif;Gh"`` to run
    the default SARIF rules as well.  Each returned dict is one result of the output
    log, with ``message.text`` filled in; ``result["ruleId"]`` names the check.

    Raises AssertionError (with stdout and stderr) when the tool itself fails.
    """
    sarif_path = Path(sarif_path).resolve()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if not sarif_path.is_file():
        raise AssertionError(f"SARIF file to validate does not exist: {sarif_path}")
    out_path = workdir / f"{sarif_path.stem}.multitool.sarif"
    out_path.unlink(missing_ok=True)  # the tool refuses to overwrite its output
    cmd = [
        str(multitool_binary()),
        "validate",
        "--rule-kind",
        rule_kind,
        "-o",
        str(out_path),
        str(sarif_path),
    ]
    proc = _run(cmd, cwd=workdir, timeout=VALIDATE_TIMEOUT_S, what="SARIF Multitool validate")
    details = f"{cmd}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    if not out_path.is_file():
        raise AssertionError(f"SARIF Multitool wrote no output log {out_path}: {details}")
    log = json.loads(out_path.read_text(encoding="utf-8-sig"))
    for run in log.get("runs", []):
        for invocation in run.get("invocations", []):
            failures = [
                n
                for n in invocation.get("toolExecutionNotifications", [])
                if n.get("level", "warning") == "error"
            ]
            if invocation.get("executionSuccessful") is False or failures:
                raise AssertionError(
                    f"SARIF Multitool reported a failed execution {failures}: {details}"
                )
    return error_results(log)


def format_results(results: list[dict[str, Any]]) -> str:
    """One line per result, ``RULEID: message``, for assertion messages."""
    return "\n".join(
        f"{r.get('ruleId')}: {r.get('message', {}).get('text') or r.get('message')}"
        for r in results
    )
