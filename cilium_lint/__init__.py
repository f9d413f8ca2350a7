"""cilium-lint: lint a GitOps tree for the Cilium invariants before Flux applies it."""

__version__ = "0.1.0"
