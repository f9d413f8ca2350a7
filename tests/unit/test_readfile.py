"""Tests for cilium_lint.readfile: a found file becomes documents, or a finding saying why not."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from fifo_guard import finishes

from cilium_lint import readfile
from cilium_lint.discover import FoundFile, discover
from cilium_lint.document import ParsedFile
from cilium_lint.readfile import DEFAULT_MAX_BYTES, decode_text, load_file, read_bytes
from cilium_lint.sourcemap import Span

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def found(path: Path, display: str = "f.yaml") -> FoundFile:
    return FoundFile(path, display)


def single_problem(parsed: ParsedFile) -> tuple[str, str]:
    assert parsed.documents == []
    assert len(parsed.problems) == 1, parsed.problems
    problem = parsed.problems[0]
    assert problem.location.path == parsed.path
    assert problem.location.span == Span(1, 1, 1, 1)
    return problem.rule_id, problem.message


def test_reads_documents_and_keeps_text(tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text("kind: Service  # cilium-lint: ignore CL202\n---\nkind: Pool\n", "utf-8")
    parsed = load_file(found(path, "apps/svc.yaml"))
    assert parsed.path == "apps/svc.yaml"
    assert parsed.problems == []
    assert [d.kind for d in parsed.documents] == ["Service", "Pool"]
    assert all(d.path == "apps/svc.yaml" for d in parsed.documents)
    assert parsed.text is not None and "ignore CL202" in parsed.text


def test_size_cap_is_cl004_with_the_limit_in_the_message(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * 5000 + b"\n")
    rule, message = single_problem(load_file(found(path), max_bytes=4096))
    assert rule == "CL004"
    assert "4,096" in message and "5,004" in message
    # At the limit exactly, the file is read.
    assert load_file(found(path), max_bytes=5004).problems == []


def test_default_size_cap() -> None:
    assert DEFAULT_MAX_BYTES == 8 * 1024 * 1024


def test_file_growing_past_the_cap_while_read_is_cl004(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.yaml"
    path.write_bytes(b"a: " + b"x" * 3000 + b"\n")
    real_fstat = os.fstat

    def fstat(fd: int) -> Any:
        info = real_fstat(fd)
        # What fstat said before the file grew: small.
        return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))

    monkeypatch.setattr(readfile.os, "fstat", fstat)
    rule, message = single_problem(load_file(found(path), max_bytes=1000))
    assert rule == "CL004"
    assert "grew" in message and "1,000" in message


def test_file_removed_between_discovery_and_read_is_cl003(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").write_text("a: 1\n", "utf-8")
    files, _ = discover([tmp_path], tmp_path)
    assert [f.display for f in files] == ["gone.yaml"]
    (tmp_path / "gone.yaml").unlink()
    rule, message = single_problem(load_file(files[0]))
    assert rule == "CL003"
    assert "disappeared" in message


@needs_fifo
def test_fifo_swapped_in_after_discovery_is_not_blocked_on(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\n", "utf-8")
    files, _ = discover([tmp_path], tmp_path)
    assert [f.display for f in files] == ["x.yaml"]
    path.unlink()
    os.mkfifo(path)
    parsed = finishes(lambda: load_file(files[0]), [path])
    rule, message = single_problem(parsed)
    assert rule == "CL003"
    assert "not a regular file" in message


def test_directory_swapped_in_after_discovery(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.mkdir()
    rule, _ = single_problem(load_file(found(path)))
    assert rule == "CL003"


def test_unreadable_file_is_cl003(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n", "utf-8")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running with privileges that read a mode-000 file")
        parsed = load_file(found(path))
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    rule, message = single_problem(parsed)
    assert rule == "CL003"
    assert "Permission denied" in message


def test_file_that_cannot_be_opened_is_cl003(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same as above without relying on permissions (which root ignores)."""
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n", "utf-8")

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(readfile.os, "open", refuse)
    rule, message = single_problem(load_file(found(path)))
    assert rule == "CL003"
    assert message == "cannot open: Permission denied"


def test_read_error_is_cl003(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n", "utf-8")

    def fail(fd: int, size: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(readfile.os, "read", fail)
    rule, message = single_problem(load_file(found(path)))
    assert rule == "CL003"
    assert "Input/output error" in message


def test_read_bytes_returns_bytes_or_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"a: 1\n")
    assert read_bytes(found(path), 100) == b"a: 1\n"
    assert read_bytes(found(tmp_path / "missing.yaml"), 100) == "file disappeared while linting"
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")
    assert read_bytes(found(empty), 100) == b""


def test_empty_file_has_no_documents_and_no_problem(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    parsed = load_file(found(path))
    assert parsed.documents == [] and parsed.problems == []


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        pytest.param(b"\xef\xbb\xbfa: caf\xc3\xa9\n", "a: caf\u00e9\n", id="utf8-bom"),
        pytest.param("\ufeffa: caf\u00e9\n".encode("utf-16-le"), "a: caf\u00e9\n", id="utf16le"),
        pytest.param("\ufeffa: caf\u00e9\n".encode("utf-16-be"), "a: caf\u00e9\n", id="utf16be"),
        pytest.param(b"a: 1\r\nb: 2\r\n", "a: 1\r\nb: 2\r\n", id="crlf"),
    ],
)
def test_encodings_are_read(tmp_path: Path, raw: bytes, text: str) -> None:
    assert decode_text(raw) == text
    path = tmp_path / "a.yaml"
    path.write_bytes(raw)
    parsed = load_file(found(path))
    assert parsed.problems == []
    assert parsed.text == text
    assert parsed.documents[0].data["a"] in ("caf\u00e9", 1)


def test_crlf_lines_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"a: 1\r\nb: 2\r\na: 3\r\n")
    parsed = load_file(found(path))
    assert [(p.rule_id, p.location.span.line) for p in parsed.problems] == [("CL002", 3)]


def test_invalid_utf8_is_cl003(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    assert decode_text(path.read_bytes()) is None
    rule, message = single_problem(load_file(found(path)))
    assert rule == "CL003"
    assert "UTF-8" in message


def test_nul_bytes_are_cl003(tmp_path: Path) -> None:
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"a: 1\n\x00\x00\x00b: 2\n")
    rule, message = single_problem(load_file(found(path)))
    assert rule == "CL003"
    assert "NUL" in message


def test_utf16_without_bom_is_cl003(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes("a: 1\n".encode("utf-16-le"))
    rule, _ = single_problem(load_file(found(path)))
    assert rule == "CL003"


def test_binary_file_named_yaml_is_cl003(tmp_path: Path) -> None:
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    rule, _ = single_problem(load_file(found(path)))
    assert rule == "CL003"
