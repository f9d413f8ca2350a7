"""Configuration discovery, merging over the embedded policy, and located error messages."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from cilium_lint.config import ConfigError, find_config, load_config, merge_policy


def test_embedded_policy_alone(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    loaded = load_config(None, tmp_path)
    assert loaded.path is None
    values = loaded.config.cilium.values
    assert values["kubeProxyReplacement"] is True
    assert values["loadBalancer"] == {"algorithm": "maglev", "mode": "dsr"}
    assert loaded.config.lb_ipam.pools == [ipaddress.ip_network("10.0.6.0/24")]


def test_nearest_config_walking_up_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".cilium-lint.yaml").write_text("select: [CL2]\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    deep = repo / "kubernetes" / "apps"
    deep.mkdir(parents=True)
    assert find_config(deep) is None  # the file above the repository root is not ours
    (repo / "kubernetes" / ".cilium-lint.yaml").write_text("select: [CL1]\n")
    assert find_config(deep) == (repo / "kubernetes" / ".cilium-lint.yaml").resolve()


def test_pyproject_table_is_found_and_used(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.cilium-lint]\nignore = ["cl405"]\n')
    loaded = load_config(None, tmp_path)
    assert loaded.config.ignore == ["CL405"]


def test_pyproject_without_table_is_not_a_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config(tmp_path) is None


def test_user_values_merge_over_the_policy_and_null_drops_a_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "cilium:\n  values:\n    routingMode: tunnel\n    devices: null\n"
        "    loadBalancer:\n      mode: snat\n    hubble:\n      relay:\n        enabled: true\n"
    )
    values = load_config(path, tmp_path).config.cilium.values
    assert values["routingMode"] == "tunnel"
    assert "devices" not in values
    assert values["loadBalancer"] == {"algorithm": "maglev", "mode": "snat"}
    assert values["hubble"] == {"relay": {"enabled": True}}


def test_lists_are_replaced_not_merged() -> None:
    merged = merge_policy(
        {"lb-ipam": {"pools": ["10.0.6.0/24"]}}, {"lb-ipam": {"pools": ["10.1.0.0/24"]}}
    )
    assert merged == {"lb-ipam": {"pools": ["10.1.0.0/24"]}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "lb_pools: [10.0.6.0/24]\n",
            "c.yaml:1:1: config key 'lb_pools': unknown key; expected one of:",
        ),
        (
            "lb-ipam:\n  pools: [10.0.6.1/24]\n",
            "c.yaml:2:10: config key 'lb-ipam.pools': '10.0.6.1/24' is not a network",
        ),
        (
            "fail-on: sometimes\n",
            "c.yaml:1:10: config key 'fail-on': Input should be 'error', 'warning' or 'note'",
        ),
        ("select: [CL-2]\n", "c.yaml:1:9: config key 'select': 'CL-2' is not a rule id"),
        (
            "rules:\n  CL204:\n    severity: fatal\n",
            "c.yaml:3:15: config key 'rules.CL204.severity'",
        ),
        (
            "cilium:\n  valuez: {}\n",
            "c.yaml:2:3: config key 'cilium.valuez': unknown key; "
            "expected one of: chart-version, values",
        ),
        ("- a\n- b\n", "must be a mapping"),
        ("a: [1,\n", "invalid YAML"),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, text: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, tmp_path)
    assert expected in str(info.value)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "absent.yaml", tmp_path)


def test_a_misspelt_policy_key_is_refused_with_a_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "c.yaml"
    path.write_text("cilium:\n  values:\n    loadBalancer:\n      mdoe: snat\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, tmp_path)
    assert "c.yaml:4:7: config key 'cilium.values.loadBalancer.mdoe'" in str(info.value)
    assert "did you mean loadBalancer.mode?" in str(info.value)


def test_policy_keys_without_a_near_miss_stay_enforceable(tmp_path: Path) -> None:
    # values.yaml documents some keys only in comments, so the chart's schema lacks them.
    path = tmp_path / "c.yaml"
    path.write_text("cilium:\n  values:\n    disableEnvoyVersionCheck: true\n")
    values = load_config(path, tmp_path).config.cilium.values
    assert values["disableEnvoyVersionCheck"] is True
