"""Property-based: whatever the tree holds, the pipeline never raises, the verdict is a clean
pass or fail, and the SARIF log stays valid."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sarif_tools import multitool_available, sarif_schema

from cilium_lint.config import load_config
from cilium_lint.engine import lint
from cilium_lint.registry import load_registry
from cilium_lint.report.sarif import sarif_log

REGISTRY = load_registry()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.sampled_from(["native", "tunnel", "maglev", "dsr", "true", "No", "bond+", "eth+ bond+"]),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ip_texts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.sampled_from(["10.0.6.5", "10.0.6.5/32", "${IP}", "10.0.6.1,10.0.6.2", "", "x"]),
    st.text(max_size=15),
)


def _service(name: str, ip: str, port: int, key: str | None) -> dict[str, Any]:
    annotations = {"lbipam.cilium.io/ips": ip}
    if key is not None:
        annotations["lbipam.cilium.io/sharing-key"] = key
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations},
        "spec": {"type": "LoadBalancer", "ports": [{"port": port}]},
    }


@st.composite
def trees(draw: st.DrawFn) -> dict[str, str]:
    files: dict[str, str] = {}
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "cilium", "namespace": "kube-system"},
        "spec": {
            "chart": {
                "spec": {
                    "chart": "cilium",
                    "version": draw(st.sampled_from(["1.17.4", "1.18.2", "1.19.6", "2.0.0", "x"])),
                }
            },
            "values": draw(
                st.dictionaries(
                    st.sampled_from(
                        [
                            "routingMode",
                            "loadBalancer",
                            "devices",
                            "ipam",
                            "cni",
                            "kubeProxyReplacement",
                            "l2announcements",
                            "maglev",
                        ]
                    ),
                    values,
                    max_size=6,
                )
            ),
        },
    }
    files["cilium.yaml"] = yaml.safe_dump(release)
    blocks = draw(
        st.lists(
            st.one_of(
                st.builds(
                    lambda c: {"cidr": c},
                    st.sampled_from(
                        ["10.0.6.0/24", "10.0.6.1/24", "10.0.7.0/28", "10.0.6.0", "bad"]
                    ),
                ),
                st.builds(lambda a, b: {"start": a, "stop": b}, ip_texts, ip_texts),
            ),
            max_size=3,
        )
    )
    pool = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumLoadBalancerIPPool",
        "metadata": {"name": "pool"},
        "spec": {
            "blocks": blocks,
            "allowFirstLastIPs": draw(st.sampled_from(["Yes", "No", False, "yes"])),
        },
    }
    files["pool.yaml"] = yaml.safe_dump(pool)
    services = draw(
        st.lists(
            st.tuples(ip_texts, st.integers(1, 65535), st.sampled_from([None, "k", "j"])),
            max_size=5,
        )
    )
    files["services.yaml"] = yaml.safe_dump_all(
        [_service(f"s{i}", ip, port, key) for i, (ip, port, key) in enumerate(services)]
    )
    files["noise.yaml"] = draw(st.text(max_size=200))
    return files


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).write_text(text, "utf-8")


_SCHEMA_VALIDATOR: Any = None
if multitool_available():
    try:
        _schema = sarif_schema()
        _SCHEMA_VALIDATOR = jsonschema.validators.validator_for(_schema)(_schema)
    except Exception:  # the schema comes from npm; without it the structural checks remain
        _SCHEMA_VALIDATOR = None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=trees())
def test_pipeline_never_raises_and_sarif_stays_valid(files: dict[str, str]) -> None:
    root = Path(tempfile.mkdtemp(prefix="cilium-lint-prop-"))
    try:
        _write(root, files)
        loaded = load_config(None, root)
        report = lint([root], root, loaded.config, REGISTRY, config_base=loaded.base)
        assert report.failed == any(f.severity.value == "error" for f in report.findings)
        log = sarif_log(report)
        json.dumps(log)  # serialisable
        if _SCHEMA_VALIDATOR is not None:
            errors = list(_SCHEMA_VALIDATOR.iter_errors(log))
            assert not errors, errors[0].message
        for result in log["runs"][0]["results"]:
            region = result["locations"][0]["physicalLocation"]["region"]
            assert region["startLine"] >= 1 and region["startColumn"] >= 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=300))
def test_any_bytes_in_a_yaml_file_are_a_finding_or_data_never_a_crash(raw: bytes) -> None:
    root = Path(tempfile.mkdtemp(prefix="cilium-lint-bytes-"))
    try:
        (root / "any.yaml").write_bytes(raw)
        loaded = load_config(None, root)
        report = lint([root], root, loaded.config, REGISTRY, config_base=loaded.base)
        assert all(
            f.location.path == "any.yaml" for f in report.findings if f.rule_id.startswith("CL00")
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_100_mb_file_is_refused_by_size_without_being_read(tmp_path: Path) -> None:
    huge = tmp_path / "dump.yaml"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: costs no disk
    (tmp_path / "svc.yaml").write_text(yaml.safe_dump(_service("web", "10.0.7.1", 80, None)))
    loaded = load_config(None, tmp_path)
    report = lint([tmp_path], tmp_path, loaded.config, REGISTRY, config_base=loaded.base)
    rules = {(f.location.path, f.rule_id) for f in report.findings}
    assert ("dump.yaml", "CL004") in rules
    assert ("svc.yaml", "CL202") in rules  # the rest of the tree is still linted
    smaller = loaded.config.model_copy(update={"max_file_size": 10})
    report = lint([tmp_path], tmp_path, smaller, REGISTRY, config_base=loaded.base)
    assert ("svc.yaml", "CL004") in {(f.location.path, f.rule_id) for f in report.findings}
