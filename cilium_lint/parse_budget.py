"""How much of a tree one run parses: caps per file and a budget for the whole run.

The tree may be hostile: every file under the size cap can still be written to hold as many
YAML nodes as it has bytes, and a few such files exhaust memory. What is over a cap is not
read, and the file gets a finding (CL004 for bytes, CL005 for documents and nodes), so a run
always ends with its report instead of a MemoryError.
"""

from __future__ import annotations

from dataclasses import dataclass

from cilium_lint.document import Location, ParsedFile, ParseProblem
from cilium_lint.sourcemap import Span

# The configuration may raise max-file-size up to this, never further.
MAX_FILE_SIZE_CEILING = 64 * 1024 * 1024
# Per file: more documents or nodes than this are never a real set of manifests (the largest
# CRD bundles hold some tens of thousands of nodes).
MAX_DOCUMENTS_PER_FILE = 10_000
MAX_NODES_PER_FILE = 500_000
# Per run: what all files together may hold once parsed. The 10,000-file tree of
# bench/generate.py holds about 0.8 million nodes in 10 MB; the worst shape costs some 400 bytes
# of memory per node held.
RUN_BYTES = 256 * 1024 * 1024
RUN_NODES = 2_000_000

_FILE_START = Span(1, 1, 1, 1)


def nodes_of(parsed: ParsedFile) -> int:
    """The YAML nodes a file's documents hold, as the parser counts them: each key, mapping,
    list and scalar (an aliased collection, shared by its uses, once)."""
    seen: set[int] = set()
    count = 0
    pending: list[object] = [doc.data for doc in parsed.documents]
    while pending:
        value = pending.pop()
        count += 1
        if isinstance(value, dict | list):
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, dict):
                count += len(value)
            pending.extend(value.values() if isinstance(value, dict) else value)
    return count


@dataclass
class RunBudget:
    """What the files admitted so far hold; a file past either budget loses its documents."""

    max_bytes: int = RUN_BYTES
    max_nodes: int = RUN_NODES
    bytes_used: int = 0
    nodes_used: int = 0

    def admit(self, parsed: ParsedFile, size: int) -> ParsedFile:
        """``parsed`` if the run can hold it as well, else it without its documents and with
        a finding that says why (its other problems kept)."""
        if not parsed.documents:
            return parsed
        nodes = nodes_of(parsed)
        if self.bytes_used + size > self.max_bytes:
            rule, reason = "CL004", f"the run's budget of {self.max_bytes:,} bytes of YAML"
        elif self.nodes_used + nodes > self.max_nodes:
            rule, reason = "CL005", f"the run's budget of {self.max_nodes:,} YAML nodes"
        else:
            self.bytes_used += size
            self.nodes_used += nodes
            return parsed
        parsed.documents = []
        parsed.problems.append(
            ParseProblem(
                rule,
                f"file not read: the files read before it used up {reason}; "
                "its objects are not checked (exclude large generated files)",
                Location(parsed.path, _FILE_START),
            )
        )
        return parsed
