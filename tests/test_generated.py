"""Committed generated files match their sources; the schemas validate what they describe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_generated_files_are_current() -> None:
    result = subprocess.run(
        [sys.executable, "tools/generate.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((ROOT / "schemas" / name).read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_every_builtin_rule_file_matches_the_rule_schema() -> None:
    validator = _validator("rule.schema.json")
    files = sorted((ROOT / "rules").glob("*.yaml"))
    assert files
    for path in files:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text("utf-8"))))
        assert not errors, f"{path.name}: {errors[0].message}"


def test_config_schema_accepts_the_readme_example_and_rejects_typos() -> None:
    validator = _validator("config.schema.json")
    good = {
        "cilium": {"values": {"routingMode": "tunnel", "devices": None}},
        "lb-ipam": {"pools": ["10.0.6.0/24"]},
        "ignore": ["CL405"],
        "rules": {"CL204": {"severity": "warning"}},
        "per-file-ignores": {"archive/**": ["CL2"]},
        "fail-on": "error",
    }
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({"lb_pools": ["10.0.6.0/24"]}))
    assert list(validator.iter_errors({"fail-on": "sometimes"}))
