"""Load every found file: from the parse cache when its bytes are known, else parsed (in worker
processes too, when asked for with ``jobs``).

Whatever the route, each file's result is exactly what ``readfile.load_file`` returns for it, and
results come back in the order of ``found``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from cilium_lint.cache import ParseCache, pack, unpack
from cilium_lint.discover import FoundFile
from cilium_lint.document import ParsedFile
from cilium_lint.parse_budget import RunBudget
from cilium_lint.readfile import decode_text, load_file, read_bytes

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

# Files per task sent to a worker: large enough to amortise the round trip, small enough to
# keep every worker busy to the end.
CHUNK = 128
# This process's share of the files, relative to a worker's: the same, as unpacking what the
# workers send costs little (a parsed file travels as marshal data and a packed source map).
OWN_SHARE = 1.0
# Below this many files to parse, starting workers costs more than it saves.
PARALLEL_FROM = 2000
# Workers used by default at most, whatever the cores: parsing is a part of a run, and a
# pre-commit hook shares the machine.
MAX_DEFAULT_JOBS = 4


def workers_for(files: int, jobs: int | None) -> int:
    """Worker processes to parse ``files`` files with, besides this one; 0: parse only here.

    ``jobs`` is the number of processes parsing, this one included. None (the default) means
    one per usable core, up to :data:`MAX_DEFAULT_JOBS`, for trees of :data:`PARALLEL_FROM`
    files or more (bench/RESULTS.md measures both).
    """
    if jobs is None:
        if files < PARALLEL_FROM:
            return 0
        jobs = min(_usable_cores(), MAX_DEFAULT_JOBS)
    return max(0, min(jobs - 1, files // CHUNK))


def _usable_cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def load_files(
    found: Sequence[FoundFile],
    max_bytes: int,
    cache: ParseCache | None = None,
    jobs: int | None = None,
    budget: RunBudget | None = None,
) -> list[ParsedFile]:
    # Files are admitted as they come in (in parallel runs, in the order workers finish), and
    # one past the run's budget is let go at once: the parsed tree never outgrows the budget.
    budget = budget if budget is not None else RunBudget()
    results: list[ParsedFile | None] = [None] * len(found)
    # What must be parsed: (position, the file, its cache key and text, when it has them).
    todo: list[tuple[int, FoundFile, bytes | None, str | None]] = []
    for position, item in enumerate(found):
        if cache is None or not cache.enabled:
            todo.append((position, item, None, None))
            continue
        raw = read_bytes(item, max_bytes)
        text = None if isinstance(raw, str) else decode_text(raw)
        if isinstance(raw, str) or text is None or "\x00" in text:
            todo.append((position, item, None, None))  # a problem, not a parse: never cached
            continue
        key = cache.key(item.display, raw)
        parsed = cache.get(key, item.display)
        if parsed is None:
            todo.append((position, item, key, text))
        else:
            parsed.text = text
            _release_text(parsed, item, max_bytes)
            results[position] = budget.admit(parsed, len(raw))

    def finish(index: int, parsed: ParsedFile) -> None:
        # Called as each file is parsed, so that its text can be let go before the next one is
        # read: the space freed is reused, and the peak never holds every text at once.
        position, item, known_key, known_text = todo[index]
        # Stored only when the file still held the bytes it was keyed by when it was parsed.
        if cache is not None and known_key is not None and parsed.text == known_text:
            cache.put(known_key, parsed)
        size = len(parsed.text) if parsed.text is not None else 0
        _release_text(parsed, item, max_bytes)
        results[position] = budget.admit(parsed, size)

    _parse_all([item for _, item, _, _ in todo], max_bytes, jobs, finish)
    loaded = [r for r in results if r is not None]
    assert len(loaded) == len(found)
    return loaded


def _release_text(parsed: ParsedFile, item: FoundFile, max_bytes: int) -> None:
    text = parsed.text
    if text is not None:
        parsed.release_text(partial(_read_again, item, max_bytes, len(text), hash(text)))


def _read_again(item: FoundFile, max_bytes: int, length: int, digest: int) -> str | None:
    """A file's text read again, if it is still the text that was parsed."""
    raw = read_bytes(item, max_bytes)
    text = None if isinstance(raw, str) else decode_text(raw)
    if text is None or len(text) != length or hash(text) != digest:
        return None  # gone or changed since: read as if the file had no text
    return text


def _parse_all(
    found: list[FoundFile],
    max_bytes: int,
    jobs: int | None,
    done: Callable[[int, ParsedFile], None],
) -> None:
    """Parse every file, calling ``done(index, parsed)`` for each."""
    workers = workers_for(len(found), jobs)
    if workers and _parse_parallel(found, max_bytes, workers, done):
        return
    for index, item in enumerate(found):
        done(index, load_file(item, max_bytes))


def _load_chunk(chunk: list[FoundFile], max_bytes: int) -> list[bytes | ParsedFile]:
    """In a worker: each file's result, packed (or as is, when it cannot be packed)."""
    out: list[bytes | ParsedFile] = []
    for item in chunk:
        parsed = load_file(item, max_bytes)
        packed = pack(parsed, with_text=True)
        out.append(parsed if packed is None else packed)
    return out


def _context() -> BaseContext | None:
    import multiprocessing

    # fork starts a worker in milliseconds with everything already imported; spawn would
    # import the package again in every worker.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def _parse_parallel(
    found: list[FoundFile], max_bytes: int, workers: int, done: Callable[[int, ParsedFile], None]
) -> bool:
    """Every file parsed by ``workers`` processes and this one, ``done`` called for each (not in
    order); False if the pool cannot run (then the caller parses them all, ``done`` again)."""
    # Imported here: most runs are small trees, parsed in this process.
    from concurrent.futures import Future, ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool
    from pickle import PicklingError

    # This process parses a share itself while the workers parse the rest.
    own = int(len(found) * OWN_SHARE / (workers + 1))
    mine, theirs = found[:own], found[own:]
    chunks = [theirs[i : i + CHUNK] for i in range(0, len(theirs), CHUNK)]
    try:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=_context(), initializer=_ignore_interrupts
        )
    except (OSError, ImportError, NotImplementedError):
        return False  # no processes here (a sandbox without semaphores)
    try:
        # Each chunk's index of its first file.
        pending = {
            pool.submit(_load_chunk, chunk, max_bytes): len(mine) + number * CHUNK
            for number, chunk in enumerate(chunks)
        }

        def take(future: Future[list[bytes | ParsedFile]]) -> None:
            first = pending.pop(future)
            chunk = found[first : first + CHUNK]
            for index, (item, result) in enumerate(zip(chunk, future.result(), strict=True)):
                if isinstance(result, ParsedFile):
                    done(first + index, result)
                else:
                    # Never expected to fail; parse here rather than lose the file.
                    parsed = unpack(result, item.display) or load_file(item, max_bytes)
                    done(first + index, parsed)

        # This process's own share, taking in what the workers have finished between slices:
        # results waiting in their packed form would otherwise pile up beside the parsed tree.
        for start in range(0, len(mine), CHUNK):
            for index in range(start, min(start + CHUNK, len(mine))):
                done(index, load_file(mine[index], max_bytes))
            for future in [f for f in pending if f.done()]:
                take(future)
        for future in as_completed(list(pending)):
            take(future)
    except (BrokenProcessPool, OSError, PicklingError):
        _stop(pool)
        return False  # a worker died or could not send its result: parse in this process
    except BaseException:
        # Ctrl-C or an error here: never wait for workers that may be blocked on a full pipe.
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    return True


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops them; a terminal sends SIGINT to the
    whole process group, and a worker dying mid-send would leave the parent waiting."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: Any) -> None:
    pool.shutdown(wait=False, cancel_futures=True)
    # ProcessPoolExecutor has no public way to stop running workers before Python 3.14.
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()


__all__ = ["load_files", "workers_for"]
