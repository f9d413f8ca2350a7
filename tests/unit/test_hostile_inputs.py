"""Hostile files beside a real finding: each gets one clear finding, nothing raises, and the
finding elsewhere in the tree is still reported."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest

from cilium_lint.config import load_config
from cilium_lint.engine import Report, lint
from cilium_lint.registry import load_registry

POOL = """\
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata:
  name: pool
spec:
  blocks:
    - cidr: 10.0.6.0/24
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: default
  annotations:
    lbipam.cilium.io/ips: 10.0.7.10
spec:
  type: LoadBalancer
  ports:
    - port: 8080
"""
SERVICE_IP_LINE = 7


def billion_laughs() -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep_via_aliases() -> str:
    lines = []
    for i in range(12):
        inner = f"*a{i - 1}" if i else "leaf"
        lines.append(f"k{i}: &a{i} " + "[" * 50 + inner + "]" * 50)
    return "\n".join(lines) + "\n"


# file -> (contents, the one rule expected for it, its line)
BAD_FILES: dict[str, tuple[bytes, str, int]] = {
    "bomb.yaml": (("kind: ConfigMap\n---\n" + billion_laughs()).encode(), "CL005", 3),
    "recursive.yaml": (b"a: &a\n  b: *a\n", "CL005", 1),
    "deep.yaml": (("x: " + "[" * 10_000 + "]" * 10_000 + "\n").encode(), "CL005", 1),
    "deep-aliases.yaml": (deep_via_aliases().encode(), "CL005", 1),
    "binary.yaml": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 16, "CL003", 1),
    "latin1.yaml": ("metadata:\n  name: caf\u00e9\n".encode("latin-1"), "CL003", 1),
    "nul.yaml": (b"kind: ConfigMap\n\x00\n", "CL003", 1),
    "broken.yaml": (b"apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n", "CL001", 5),
    "tabs.yaml": (b"metadata:\n\tname: x\n", "CL001", 2),
    "duplicate.yaml": (b"kind: ConfigMap\nmetadata: {name: a}\nkind: Secret\n", "CL002", 3),
    "python.yaml": (b'a: !!python/object/apply:os.system ["true"]\n', "", 0),
    "big.yaml": (b"a: " + b"x" * 70_000 + b"\n", "CL004", 1),
}


def make_tree(root: Path) -> None:
    (root / ".cilium-lint.yaml").write_text(
        "select: [CL0, CL202, CL203]\nmax-file-size: 65536\nlb-ipam:\n  pools: [10.0.6.0/24]\n",
        "utf-8",
    )
    apps = root / "apps"
    apps.mkdir()
    (apps / "pool.yaml").write_text(POOL, "utf-8")
    (apps / "service.yaml").write_text(SERVICE, "utf-8")
    bad = root / "bad"
    bad.mkdir()
    for name, (raw, _, _) in BAD_FILES.items():
        (bad / name).write_bytes(raw)
    # Never linted, never fatal.
    if hasattr(os, "mkfifo"):
        os.mkfifo(bad / "fifo.yaml")
    (bad / "loop").symlink_to(Path("."), target_is_directory=True)
    (bad / "out.yaml").symlink_to(Path(os.devnull))
    (bad / "x.yaml").mkdir()
    (bad / "x.yaml" / "empty.yaml").write_bytes(b"")


def run(root: Path) -> Report:
    loaded = load_config(None, root)
    result: list[Report] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(
                lint([root], root, loaded.config, load_registry(), config_base=loaded.base)
            )
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():
        with contextlib.suppress(OSError):
            os.close(os.open(root / "bad" / "fifo.yaml", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("the run blocked (a FIFO was opened?)")
    if errors:
        raise errors[0]
    return result[0]


def test_hostile_files_beside_a_real_finding(tmp_path: Path) -> None:
    make_tree(tmp_path)
    report = run(tmp_path)
    got = sorted((f.location.path, f.location.span.line, f.rule_id) for f in report.findings)
    expected = sorted(
        [
            ("apps/service.yaml", SERVICE_IP_LINE, "CL202"),
            ("apps/service.yaml", SERVICE_IP_LINE, "CL203"),
        ]
        + [(f"bad/{name}", line, rule) for name, (_, rule, line) in BAD_FILES.items() if rule]
    )
    details = "\n".join(
        f"{f.location.path}:{f.location.span.line} {f.rule_id} {f.message}" for f in report.findings
    )
    assert got == expected, details
    # One finding per bad file, each with a message that says what is wrong.
    for finding in report.findings:
        assert finding.message.strip()
        assert "Traceback" not in finding.message
    skipped = {s.display: s.reason for s in report.skipped}
    if hasattr(os, "mkfifo"):
        assert skipped["bad/fifo.yaml"] == "not a regular file"
    assert skipped["bad/out.yaml"] == "symlink leading out of the tree"
    assert "bad/loop" not in skipped  # a loop back into the tree is walked once, silently
    # service, pool, the bad files (all but the oversized one are read) and x.yaml/empty.yaml.
    assert report.files_checked >= 2 + len(BAD_FILES)
    assert report.failed


def test_finding_messages_name_the_limit_and_reason(tmp_path: Path) -> None:
    make_tree(tmp_path)
    report = run(tmp_path)
    by_file = {f.location.path: f for f in report.findings}
    assert "65,536" in by_file["bad/big.yaml"].message
    assert "alias" in by_file["bad/bomb.yaml"].message
    assert "recursive" in by_file["bad/recursive.yaml"].message
    assert "nesting" in by_file["bad/deep.yaml"].message
    assert "nesting" in by_file["bad/deep-aliases.yaml"].message
    assert "UTF-8" in by_file["bad/latin1.yaml"].message
    assert "line 1" in by_file["bad/duplicate.yaml"].message
