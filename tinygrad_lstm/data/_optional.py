"""Optional dependencies (the ``examples`` extra) and the data files they ship."""

from __future__ import annotations

import importlib.util
import os

EXTRA_HINT = 'pip install -e ".[examples]"  (or pip install tinygrad_lstm[examples])'


def missing(package: str, what: str) -> ImportError:
    """The error for a missing optional `package`, naming the extra that provides it."""
    return ImportError(f"{what} needs {package}, which is in the examples extra: {EXTRA_HINT}")


def package_file(package: str, *parts: str, what: str) -> str | None:
    """Path of a data file inside an installed `package`, found without importing the package (importing
    scikit-learn alone takes seconds). ImportError naming the extra if `package` is not installed; None if the
    file is not where this version keeps it (callers then fall back to the package's own loader)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise missing(package, what)
    for root in spec.submodule_search_locations:
        path = os.path.join(root, *parts)
        if os.path.isfile(path):
            return path
    return None
