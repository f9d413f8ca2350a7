"""Turn one found file into parsed documents, or into a finding that says why it cannot be read."""

from __future__ import annotations

import codecs
import os
import stat

from cilium_lint.discover import FoundFile
from cilium_lint.document import Location, ParsedFile, ParseProblem
from cilium_lint.sourcemap import Span
from cilium_lint.yamlload import parse_yaml

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
_FILE_START = Span(1, 1, 1, 1)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _problem(found: FoundFile, rule_id: str, message: str) -> ParsedFile:
    parsed = ParsedFile(found.display)
    parsed.problems.append(ParseProblem(rule_id, message, Location(found.display, _FILE_START)))
    return parsed


def read_bytes(found: FoundFile, max_bytes: int) -> bytes | str:
    """The file's bytes, or a message saying why they cannot be had.

    Opened non-blocking and checked after opening, so a FIFO swapped in after discovery never
    blocks the run.
    """
    try:
        fd = os.open(found.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return "file disappeared while linting"
    except OSError as exc:
        return f"cannot open: {exc.strerror}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file"
        if info.st_size > max_bytes:
            return f"file is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit"
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > max_bytes:
                return f"file grew over the {max_bytes:,}-byte limit while being read"
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    finally:
        os.close(fd)


def decode_text(raw: bytes) -> str | None:
    """Text for comment scanning: UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    try:
        if raw.startswith(_UTF16_BOMS):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def load_file(found: FoundFile, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedFile:
    raw = read_bytes(found, max_bytes)
    if isinstance(raw, str):
        rule = "CL004" if "limit" in raw else "CL003"
        return _problem(found, rule, raw)
    text = decode_text(raw)
    if text is None:
        return _problem(found, "CL003", "not valid UTF-8 text (Kubernetes manifests must be UTF-8)")
    if "\x00" in text:
        return _problem(found, "CL003", "binary content (NUL bytes) in a YAML file")
    try:
        parsed = parse_yaml(raw, found.display)
    except MemoryError:
        # Whatever the caps let through, one file never ends the run: the rest is still read.
        return _problem(
            found,
            "CL005",
            "file not read: reading it ran out of memory; its objects are not checked",
        )
    parsed.text = text
    return parsed
