"""What kustomize, Flux or Helm would change that this run does not apply, said as such.

A build step cilium-lint does not model (a transformer plugin, a HelmRelease post-renderer, a
chart's own values files) may change the very values the policy rules judge. Passing it over
in silence would let a pull request turn a failing run into a passing one, so every such step
is recorded where it is declared, with the objects it may change, for CL020 to report.
"""

from __future__ import annotations

from dataclasses import dataclass

from cilium_lint.document import Document, Location


@dataclass(frozen=True, slots=True)
class Unmodelled:
    """A step that transforms objects and that was not applied, or that kustomize refuses."""

    location: Location  # the field that declares it
    message: str  # what it is and what it may change
    identity: str  # stable: the file and the field, never a line
    documents: tuple[Document, ...] = ()  # the objects it may change (empty: the release's own)
    failed: bool = False  # kustomize fails the build here: Flux applies nothing of it
    applied: bool = False  # modelled after all, said because a reviewer would not expect it
    only_cilium: bool = False  # worth saying only when it can reach the Cilium release


__all__ = ["Unmodelled"]
