"""Yearly mean sunspot numbers, 1700-2008 (309 years), from the copy that ships inside statsmodels
(``statsmodels.datasets.sunspots``; the ``examples`` extra). Offline."""

from __future__ import annotations

import numpy as np

from ._optional import missing, package_file

WHAT = "data.load_sunspots (statsmodels' sunspots data set)"


def load_sunspots() -> tuple[np.ndarray, np.ndarray]:
    """``(years, values)``: years int64 (1700 .. 2008), values float32 (the yearly sunspot number, >= 0)."""
    path = package_file("statsmodels", "datasets", "sunspots", "sunspots.csv", what=WHAT)
    if path is not None:  # read the CSV directly: no pandas import
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        return table[:, 0].astype(np.int64), table[:, 1].astype(np.float32)
    try:  # a statsmodels that keeps the file elsewhere: its own loader
        from statsmodels.datasets import sunspots
    except ImportError:
        raise missing("statsmodels", WHAT) from None
    df = sunspots.load_pandas().data
    return df["YEAR"].to_numpy().astype(np.int64), df["SUNACTIVITY"].to_numpy().astype(np.float32)


__all__ = ["load_sunspots"]
