import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# Test helpers (casetools, sarif_tools) live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

_CACHE_ENV = "CILIUM_LINT_CACHE_DIR"


def pytest_configure(config: pytest.Config) -> None:
    # The CLI caches parsed files in the user's cache folder by default; the suite's runs (the
    # CLI in subprocesses included) keep theirs in a folder of their own, removed at the end.
    if _CACHE_ENV not in os.environ:
        folder = tempfile.mkdtemp(prefix="cilium-lint-test-cache-")
        os.environ[_CACHE_ENV] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
