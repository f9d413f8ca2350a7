"""Rules: the API plug-ins implement, and the built-in pack (``cilium_lint.rules.builtin``)."""
