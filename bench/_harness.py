"""The one import-path step of the bench scripts.

`python bench/X.py` puts only bench/ on the import path. Importing this module puts the
repository root there too, once, so a script then imports cnnviz and the test harness as
the package `tests` (`from tests.support_server import start_server`), the same modules
pytest runs. `ROOT` is the repository's folder.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
