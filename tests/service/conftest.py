"""Makes the `tests.*` helper modules importable under plain `pytest` too.

`python -m pytest` puts the working directory (the repo root) on sys.path, plain `pytest`
does not (it adds only the test folders), so `from tests.conftest import run_cli` and the
like would fail there. Pytest loads this conftest before the test modules beside it.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:
    sys.path.append(REPO_ROOT)  # appended: an installed profreg still wins over the checkout
