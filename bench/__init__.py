"""Benchmarks: ratios against baselines measured in the same run (`mes bench`).

They run from a checkout and build their data with the tests' builders (`tests/builders.py`), so
the checkout's root is put on the import path here: `mes bench` starts from the installed script.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = str(Path(__file__).resolve().parents[1])
if CHECKOUT not in sys.path:
    sys.path.append(CHECKOUT)
