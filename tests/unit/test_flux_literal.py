"""A ``${...}`` left in applied data: literal when Flux is known to apply it as written,
unknown otherwise (see cilium_lint/flux/text.py)."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

from test_graph import ks, kustomization, load, write

from cilium_lint.config import Config
from cilium_lint.facts import gather
from cilium_lint.flux.text import LiteralText, is_unknown, literal_reason

SERVICE = """\
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: default
  annotations:
    lbipam.cilium.io/ips: ${ECHO_IP}
spec:
  type: LoadBalancer
"""


def _request_literal(root: Path) -> tuple[str, str | None]:
    tree, graph = load(root)
    facts = gather(graph.restrict(tree), Config())
    (request,) = facts.requests
    return request.text, request.literal


def test_a_self_applying_root_without_post_build_applies_the_reference_as_written(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "clusters/main/flux-system/gotk-sync.yaml": ks("flux-system", "./clusters/main"),
            "clusters/main/flux-system/kustomization.yaml": kustomization("./gotk-sync.yaml"),
            "clusters/main/svc.yaml": SERVICE,
        },
    )
    text, literal = _request_literal(tmp_path)
    assert text == "${ECHO_IP}"
    assert literal == "Kustomization/flux-system/flux-system has no spec.postBuild"


def test_a_root_applied_from_outside_the_tree_leaves_the_reference_unknown(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"ks.yaml": ks("echo", "./app"), "app/svc.yaml": SERVICE})
    text, literal = _request_literal(tmp_path)
    assert (text, literal) == ("${ECHO_IP}", None)
    _tree, graph = load(tmp_path)
    (use,) = [u for s in graph.scopes for u in s.uses]
    assert use.unknown == ("ECHO_IP",) and use.literal is None


def test_without_flux_a_reference_is_unknown(tmp_path: Path) -> None:
    write(tmp_path, {"svc.yaml": SERVICE})
    text, literal = _request_literal(tmp_path)
    assert (text, literal) == ("${ECHO_IP}", None)


def test_literal_text_survives_copies_and_pickling() -> None:
    text = LiteralText("${A}", "escaped")
    for made in (
        copy.copy(text),
        copy.deepcopy({"k": text})["k"],
        pickle.loads(pickle.dumps(text)),
    ):
        assert made == "${A}" and literal_reason(made) == "escaped"
    assert not is_unknown(text)
    assert is_unknown("${A}") and not is_unknown("10.0.6.1") and not is_unknown(None)
