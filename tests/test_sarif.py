"""The SARIF report: golden files, the SARIF 2.1.0 schema, the Multitool, and the contract.

The golden logs are produced by the command line run from the repository root:

* ``tests/golden/findings.sarif``: ``cilium-lint tests/golden/tree --format sarif``
* ``tests/golden/clean.sarif``: ``cilium-lint examples/cluster --format sarif``

Regenerate them after an intended change with ``UPDATE_GOLDEN=1 python -m pytest
tests/test_sarif.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sarif_tools import format_results, multitool_available, run_multitool, sarif_schema

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"
TREE = "tests/golden/tree"
CLEAN_TREE = "examples/cluster"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

# The golden logs run a fixed set of rules, so adding a rule elsewhere does not change them;
# these cover every kind of result the log must express (errors, a warning, related locations).
GOLDEN_RULES = ["--select", "CL001,CL002,CL010,CL101,CL102,CL202,CL203,CL204,CL205"]

# name -> (arguments from the repository root, golden file)
LOGS = {
    "findings": ([TREE, *GOLDEN_RULES], GOLDEN / "findings.sarif"),
    "clean": ([CLEAN_TREE, *GOLDEN_RULES], GOLDEN / "clean.sarif"),
}

# What the golden tree must yield: (rule id, uri, start line, text of the region).
EXPECTED_FINDINGS = {
    ("CL202", f"{TREE}/apps/mqtt/service.yaml", 8, "10.0.7.10"),
    ("CL203", f"{TREE}/apps/mqtt/service.yaml", 8, "10.0.7.10"),
    ("CL204", f"{TREE}/apps/whoami/service.yaml", 9, "10.0.6.30"),
    ("CL010", f"{TREE}/cilium/helmrelease.yaml", 34, None),  # a multi-line mapping
    ("CL102", f"{TREE}/cilium/helmrelease.yaml", 40, "tunnel"),
}
LEVELS = {"error", "warning", "note"}
REGION_KEYS = ("startLine", "startColumn", "endLine", "endColumn")
RULE_KEYS = (
    "id",
    "name",
    "shortDescription",
    "fullDescription",
    "help",
    "helpUri",
    "defaultConfiguration",
)

needs_multitool = pytest.mark.skipif(
    not multitool_available(),
    reason="node/npm not installed: SARIF Multitool and its schema unavailable",
)


def lint_sarif(
    paths: str | list[str], output: Path, cwd: Path = REPO, hash_seed: str | None = None
) -> bytes:
    """Run ``cilium-lint PATHS --format sarif --output OUTPUT`` in ``cwd``; the log's bytes."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    args = [paths] if isinstance(paths, str) else paths
    proc = subprocess.run(
        [sys.executable, "-m", "cilium_lint", *args, "--format", "sarif", "--output", str(output)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), f"exit {proc.returncode}:\n{proc.stderr}"
    assert proc.stdout == "", "with --output the log goes to the file, not stdout"
    assert "Traceback" not in proc.stderr
    return output.read_bytes()


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each log of LOGS, produced once for the module."""
    folder = tmp_path_factory.mktemp("sarif")
    paths = {}
    for name, (tree, _golden) in LOGS.items():
        paths[name] = folder / f"{name}.sarif"
        lint_sarif(tree, paths[name])
    return paths


def load(path: Path) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return log


def only_run(log: dict[str, Any]) -> dict[str, Any]:
    assert len(log["runs"]) == 1
    run: dict[str, Any] = log["runs"][0]
    return run


def physical_locations(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for location in result["locations"]:
        yield location["physicalLocation"]
    for location in result.get("relatedLocations", []):
        yield location["physicalLocation"]


# --- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LOGS))
def test_log_matches_golden_byte_for_byte(name: str, produced: dict[str, Path]) -> None:
    golden = LOGS[name][1]
    got = produced[name].read_bytes()
    if UPDATE_GOLDEN:
        golden.write_bytes(got)
    assert golden.is_file(), f"{golden.relative_to(REPO)} is missing; run with UPDATE_GOLDEN=1"
    expected = golden.read_bytes()
    if got != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.decode().splitlines(keepends=True),
                got.decode().splitlines(keepends=True),
                fromfile=str(golden.relative_to(REPO)),
                tofile="produced",
                n=2,
            )
        )
        pytest.fail(
            "SARIF differs from the golden file (UPDATE_GOLDEN=1 regenerates it after an "
            f"intended change):\n{diff[:6000]}"
        )


def test_golden_files_hold_no_machine_paths() -> None:
    for _tree, golden in LOGS.values():
        text = golden.read_text(encoding="utf-8")
        assert str(REPO) not in text
        assert "file://" not in text


# --- determinism -----------------------------------------------------------------------------


def test_two_runs_give_identical_bytes(tmp_path: Path) -> None:
    first = lint_sarif(TREE, tmp_path / "a.sarif", hash_seed="1")
    second = lint_sarif(TREE, tmp_path / "b.sarif", hash_seed="4242")
    assert first == second


@pytest.mark.parametrize("name", sorted(LOGS))
def test_log_has_no_timestamps_or_invocation_details(name: str, produced: dict[str, Path]) -> None:
    log = load(produced[name])
    keys: set[str] = set()
    strings: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            keys.update(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            strings.append(node)

    walk(log)
    assert not {k for k in keys if "time" in k.lower()}, "timestamps make the log unstable"
    assert "invocations" not in only_run(log), "invocations carry machine details"
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
    assert not [s for s in strings if stamp.search(s)]


def test_results_and_rules_are_sorted(produced: dict[str, Path]) -> None:
    run = only_run(load(produced["findings"]))
    ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    keys = []
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        region = location["region"]
        keys.append(
            (
                location["artifactLocation"]["uri"],
                region["startLine"],
                region["startColumn"],
                result["ruleId"],
            )
        )
    assert keys == sorted(keys)


# --- the contract ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LOGS))
def test_rules_carry_the_contract_properties(name: str, produced: dict[str, Path]) -> None:
    log = load(produced[name])
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    driver = only_run(log)["tool"]["driver"]
    assert driver["name"] == "cilium-lint" and driver["version"]
    rules = driver["rules"]
    assert rules, "every rule that ran is described"
    for rule in rules:
        missing = [key for key in RULE_KEYS if key not in rule]
        assert not missing, f"{rule.get('id')}: missing {missing}"
        assert re.fullmatch(r"[A-Z]+\d{3}", rule["id"])
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule["name"]), rule["name"]
        assert rule["shortDescription"]["text"].strip()
        assert rule["fullDescription"]["text"].strip()
        assert rule["help"]["text"].strip(), f"{rule['id']}: GitHub shows help, not helpUri"
        assert rule["help"]["markdown"].strip()
        assert rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in LEVELS


def test_clean_run_has_an_empty_results_array(produced: dict[str, Path]) -> None:
    run = only_run(load(produced["clean"]))
    assert "results" in run, "a clean run still carries results: []"
    assert run["results"] == []
    # examples/cluster has no configuration: every built-in rule ran.
    ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert {"CL001", "CL102", "CL204"} <= ids


def test_results_carry_the_contract_properties(produced: dict[str, Path]) -> None:
    run = only_run(load(produced["findings"]))
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert results
    for result in results:
        what = f"{result.get('ruleId')} {result.get('message')}"
        assert isinstance(result["ruleIndex"], int), what
        assert 0 <= result["ruleIndex"] < len(rules), what
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"], f"{what}: wrong ruleIndex"
        assert result["level"] in LEVELS, what
        assert result["message"]["text"].strip(), what
        assert len(result["locations"]) == 1, what
        fingerprints = result["partialFingerprints"]
        assert fingerprints and all(isinstance(v, str) and v for v in fingerprints.values())
        for physical in physical_locations(result):
            artifact = physical["artifactLocation"]
            uri = artifact["uri"]
            assert artifact["uriBaseId"] == "%SRCROOT%", what
            assert not uri.startswith("/") and "\\" not in uri and ":" not in uri, uri
            assert not uri.startswith("../") and "/./" not in uri, uri
            assert (REPO / uri).is_file(), f"{uri} is not relative to the working directory"
            region = physical["region"]
            assert all(isinstance(region.get(key), int) for key in REGION_KEYS), region
            assert region["startLine"] >= 1 and region["startColumn"] >= 1
            start = (region["startLine"], region["startColumn"])
            assert (region["endLine"], region["endColumn"]) > start, f"{what}: empty region"
        for related in result.get("relatedLocations", []):
            assert related["message"]["text"].strip()
    fingerprints = [tuple(sorted(r["partialFingerprints"].items())) for r in results]
    assert len(set(fingerprints)) == len(fingerprints), "each finding has its own fingerprint"


def test_results_point_at_the_offending_text(produced: dict[str, Path]) -> None:
    run = only_run(load(produced["findings"]))
    got = set()
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        region = physical["region"]
        text = None
        if region["startLine"] == region["endLine"]:
            line = (REPO / uri).read_text(encoding="utf-8").splitlines()[region["startLine"] - 1]
            text = line[region["startColumn"] - 1 : region["endColumn"] - 1]
        got.add((result["ruleId"], uri, region["startLine"], text))
    assert got == EXPECTED_FINDINGS


def test_levels_follow_rule_severity(produced: dict[str, Path]) -> None:
    run = only_run(load(produced["findings"]))
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {
        "CL010": "warning",
        "CL102": "error",
        "CL202": "error",
        "CL203": "error",
        "CL204": "error",
    }


def test_duplicate_ip_has_a_related_location(produced: dict[str, Path]) -> None:
    run = only_run(load(produced["findings"]))
    (duplicate,) = [r for r in run["results"] if r["ruleId"] == "CL204"]
    related = duplicate["relatedLocations"]
    assert len(related) == 1
    physical = related[0]["physicalLocation"]
    assert physical["artifactLocation"] == {
        "uri": f"{TREE}/apps/echo/service.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert physical["region"]["startLine"] == 8
    line = (REPO / TREE / "apps/echo/service.yaml").read_text(encoding="utf-8").splitlines()[7]
    start, end = physical["region"]["startColumn"], physical["region"]["endColumn"]
    assert line[start - 1 : end - 1] == "10.0.6.30"
    assert isinstance(related[0]["id"], int)
    # Findings that involve one object only carry no related location.
    assert all(
        "relatedLocations" not in r for r in run["results"] if r["ruleId"] in ("CL102", "CL202")
    )


def test_uris_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    log = json.loads(lint_sarif("tree", tmp_path / "out.sarif", cwd=REPO / "tests" / "golden"))
    uris = {
        physical["artifactLocation"]["uri"]
        for result in only_run(log)["results"]
        for physical in physical_locations(result)
    }
    assert uris and all(uri.startswith("tree/") for uri in uris), uris


def test_absolute_path_argument_still_gives_relative_uris(tmp_path: Path) -> None:
    log = json.loads(lint_sarif(str(REPO / TREE), tmp_path / "out.sarif"))
    uris = {
        physical["artifactLocation"]["uri"]
        for result in only_run(log)["results"]
        for physical in physical_locations(result)
    }
    assert uris and all(uri.startswith(f"{TREE}/") for uri in uris), uris


# --- fingerprints ----------------------------------------------------------------------------


def _fingerprints(log: dict[str, Any]) -> dict[tuple[str, str], tuple[str, int]]:
    """(rule id, fingerprint) -> (uri, start line) of every result."""
    found = {}
    for result in only_run(log)["results"]:
        physical = result["locations"][0]["physicalLocation"]
        for value in result["partialFingerprints"].values():
            found[(result["ruleId"], value)] = (
                physical["artifactLocation"]["uri"],
                physical["region"]["startLine"],
            )
    return found


def _insert_before(path: Path, marker: str, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    index = text.index(marker)
    index = text.rindex("\n", 0, index) + 1  # start of the marker's line
    line = text[index:]
    indent = line[: len(line) - len(line.lstrip(" "))]
    block = "".join(f"{indent}{line}\n" for line in lines)
    path.write_text(text[:index] + block + text[index:], encoding="utf-8")


def test_fingerprints_survive_unrelated_lines_above(tmp_path: Path) -> None:
    shutil.copytree(REPO / TREE, tmp_path / "tree")
    before = _fingerprints(json.loads(lint_sarif("tree", tmp_path / "before.sarif", tmp_path)))
    tree = tmp_path / "tree"
    for path in sorted(tree.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        path.write_text("# a comment added on top\n# and another\n" + text, encoding="utf-8")
    _insert_before(tree / "cilium/helmrelease.yaml", "routingMode:", ["# why: see the docs"])
    _insert_before(tree / "cilium/helmrelease.yaml", "install:", ["# added", "# lines"])
    _insert_before(tree / "apps/whoami/service.yaml", "type: LoadBalancer", ["# moved down"])
    after = _fingerprints(json.loads(lint_sarif("tree", tmp_path / "after.sarif", tmp_path)))
    assert set(after) == set(before), "fingerprints changed although only lines moved"
    for key, (uri, line) in before.items():
        shift = 2 + (
            {"CL102": 3, "CL010": 2}.get(key[0], 0)
            if uri.endswith("helmrelease.yaml")
            else {"CL204": 1}.get(key[0], 0)
        )
        assert after[key] == (uri, line + shift), f"{key}: the edit did not move the finding"


def test_fingerprint_changes_with_the_object(tmp_path: Path) -> None:
    """A fingerprint names the object: another Service with the same problem is another alert."""
    shutil.copytree(REPO / TREE, tmp_path / "tree")
    service = tmp_path / "tree/apps/mqtt/service.yaml"
    before = _fingerprints(json.loads(lint_sarif("tree", tmp_path / "before.sarif", tmp_path)))
    service.write_text(
        service.read_text(encoding="utf-8").replace("name: mosquitto", "name: emqx"),
        encoding="utf-8",
    )
    after = _fingerprints(json.loads(lint_sarif("tree", tmp_path / "after.sarif", tmp_path)))
    changed = {rule for rule, _ in set(before) ^ set(after)}
    assert changed == {"CL202", "CL203"}


# --- schema and Multitool --------------------------------------------------------------------


@needs_multitool
@pytest.mark.parametrize("name", sorted(LOGS))
def test_log_is_valid_against_the_sarif_schema(name: str, produced: dict[str, Path]) -> None:
    schema = sarif_schema()
    assert "2020-12" in schema.get("$schema", "")
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    log = load(produced[name])
    errors = [f"{e.json_path}: {e.message}" for e in sorted(validator.iter_errors(log), key=str)]
    assert not errors, "\n".join(errors)
    # The validator does catch a broken log (guards against a schema that checks nothing).
    broken = dict(log)
    broken["version"] = "2.0.0"
    assert list(validator.iter_errors(broken))


@needs_multitool
@pytest.mark.parametrize("rule_kind", ["Gh", "Sarif;Gh"])
@pytest.mark.parametrize("name", sorted(LOGS))
def test_multitool_reports_no_error(
    name: str, rule_kind: str, produced: dict[str, Path], tmp_path: Path
) -> None:
    errors = run_multitool(produced[name], tmp_path, rule_kind=rule_kind)
    assert not errors, f"Multitool ({rule_kind}) errors:\n{format_results(errors)}"
