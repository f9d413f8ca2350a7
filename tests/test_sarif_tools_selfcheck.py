"""Self-check of tests/sarif_tools.py on small hand-written SARIF logs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sarif_tools import (
    format_results,
    multitool_available,
    run_multitool,
    sarif_schema,
    sarif_schema_path,
    schema_errors,
)

pytestmark = pytest.mark.skipif(
    not multitool_available(), reason="node/npm not installed: SARIF Multitool unavailable"
)

GOOD_LOG: dict[str, Any] = {
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "selfcheck-tool",
                    "informationUri": "https://example.invalid/selfcheck-tool",
                    "semanticVersion": "1.0.0",
                    "rules": [
                        {
                            "id": "ST001",
                            "name": "NoExample",
                            "shortDescription": {"text": "Example rule."},
                            "fullDescription": {"text": "An example rule for the self-check."},
                            "help": {
                                "text": "Remove the example.",
                                "markdown": "Remove the **example**.",
                            },
                            "defaultConfiguration": {"level": "error"},
                        }
                    ],
                }
            },
            "results": [
                {
                    "ruleId": "ST001",
                    "ruleIndex": 0,
                    "level": "error",
                    "message": {"text": "Example found."},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "values/cilium.yaml"},
                                "region": {
                                    "startLine": 3,
                                    "startColumn": 1,
                                    "endLine": 3,
                                    "endColumn": 10,
                                },
                            }
                        }
                    ],
                }
            ],
        }
    ],
}


def _github_broken_log() -> dict[str, Any]:
    """Schema-valid, but breaks GitHub's requirements: rule without descriptions/help,
    result without locations."""
    log = copy.deepcopy(GOOD_LOG)
    run = log["runs"][0]
    run["tool"]["driver"]["rules"][0] = {"id": "ST001"}
    del run["results"][0]["locations"]
    return log


def _schema_invalid_log() -> dict[str, Any]:
    """Breaks the SARIF 2.1.0 schema: driver without name, result without message,
    startLine 0."""
    log = copy.deepcopy(GOOD_LOG)
    run = log["runs"][0]
    del run["tool"]["driver"]["name"]
    del run["results"][0]["message"]
    run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    return log


def _write(path: Path, log: dict[str, Any]) -> Path:
    path.write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
    return path


def _rule_ids(results: list[dict[str, Any]]) -> set[str]:
    return {str(r.get("ruleId")) for r in results}


def test_good_log_has_no_error_results(tmp_path: Path) -> None:
    sarif = _write(tmp_path / "good.sarif", GOOD_LOG)
    errors = run_multitool(sarif, tmp_path)
    assert errors == [], format_results(errors)


def test_good_log_passes_default_sarif_rules_too(tmp_path: Path) -> None:
    sarif = _write(tmp_path / "good.sarif", GOOD_LOG)
    errors = run_multitool(sarif, tmp_path, rule_kind="Sarif;Gh")
    assert errors == [], format_results(errors)


def test_github_broken_log_has_error_results(tmp_path: Path) -> None:
    log = _github_broken_log()
    assert schema_errors(log) == []  # only the GitHub rules object to it
    sarif = _write(tmp_path / "broken.sarif", log)
    errors = run_multitool(sarif, tmp_path)
    assert errors, "expected error-level results for a log GitHub would reject"
    assert all(r.get("level") == "error" for r in errors)
    assert {"GH1015", "GH2012"} <= _rule_ids(errors), format_results(errors)
    texts = "\n".join(r["message"]["text"] for r in errors)
    assert "'locations'" in texts
    assert "'help'" in texts
    assert "runs[0].results[0]" in texts


def test_gh_rule_kind_leaves_out_default_rules(tmp_path: Path) -> None:
    log = copy.deepcopy(GOOD_LOG)
    # SARIF1004 (a default rule): top-level originalUriBaseIds must be absolute, end in "/".
    log["runs"][0]["originalUriBaseIds"] = {"SRCROOT": {"uri": "src"}}
    sarif = _write(tmp_path / "uribase.sarif", log)
    assert run_multitool(sarif, tmp_path) == []
    both = run_multitool(sarif, tmp_path, rule_kind="Sarif;Gh")
    assert _rule_ids(both) == {"SARIF1004"}, format_results(both)


def test_schema_invalid_log_is_reported_by_multitool(tmp_path: Path) -> None:
    sarif = _write(tmp_path / "invalid.sarif", _schema_invalid_log())
    errors = run_multitool(sarif, tmp_path)
    assert errors
    assert any(str(r.get("ruleId", "")).startswith("JSON") for r in errors), format_results(errors)


def test_unparsable_file_is_an_error_result(tmp_path: Path) -> None:
    sarif = tmp_path / "truncated.sarif"
    sarif.write_text('{"version": "2.1.0", "runs": [', encoding="utf-8")
    errors = run_multitool(sarif, tmp_path)
    assert _rule_ids(errors) == {"JSON0001"}, format_results(errors)


def test_repeated_runs_overwrite_output(tmp_path: Path) -> None:
    sarif = _write(tmp_path / "good.sarif", GOOD_LOG)
    assert run_multitool(sarif, tmp_path) == []
    assert run_multitool(sarif, tmp_path) == []
    assert (tmp_path / "good.multitool.sarif").is_file()


def test_schema_is_the_packaged_sarif_2_1_0_schema() -> None:
    path = sarif_schema_path()
    assert path.name == "sarif-2.1.0.json"
    assert path.parent.name.startswith("sarif-multitool")
    assert path.parent.parent.name == "@microsoft"
    schema = sarif_schema()
    assert "2.1.0" in schema["title"]
    assert {"version", "runs"} <= set(schema["required"])
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_schema_accepts_good_log() -> None:
    schema = sarif_schema()
    jsonschema.validate(GOOD_LOG, schema, cls=jsonschema.validators.validator_for(schema))
    assert schema_errors(GOOD_LOG) == []


def test_schema_rejects_invalid_log() -> None:
    schema = sarif_schema()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            _schema_invalid_log(), schema, cls=jsonschema.validators.validator_for(schema)
        )
    messages = "\n".join(schema_errors(_schema_invalid_log()))
    assert "'name' is a required property" in messages
    assert "'message' is a required property" in messages
    assert "less than the minimum of 1" in messages


def test_schema_rejects_wrong_version() -> None:
    log = copy.deepcopy(GOOD_LOG)
    log["version"] = "2.0.0"
    assert schema_errors(log)
