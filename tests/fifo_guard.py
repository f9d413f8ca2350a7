"""Run a call that must not block on opening a FIFO; shared by the discovery and read tests."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def finishes(call: Callable[[], T], fifos: Iterable[Path] = (), seconds: float = 10) -> T:
    """``call()``'s result; fails (instead of hanging) if it blocks on opening a FIFO."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in fifos:  # release a reader blocked in open() so the thread can end
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"blocked for more than {seconds}s (a FIFO was opened?)")
    if errors:
        raise errors[0]
    return result[0]
