"""Data for examples and tutorials, all offline (nothing is ever downloaded).

- `batches`, `pad_to_lengths`: mini-batches and post-padding of numpy arrays (`data.batching`).
- `load_text`, `CharVocab`: a character corpus (default: Python's own ``pydoc_data.topics``) (`data.text`).
- `load_digits_sequences`: scikit-learn's 8x8 digits as 8-step sequences (`data.digits`; needs scikit-learn).
- `adding_problem`: Hochreiter & Schmidhuber's adding problem, generated (`data.adding`).
- `load_sunspots`: yearly sunspot numbers 1700-2008 (`data.sunspots`; needs statsmodels).

scikit-learn and statsmodels are in the ``examples`` extra: ``pip install -e ".[examples]"``; without them those
two loaders raise an ImportError that says so.
"""

from .adding import BASELINE_MSE, adding_problem
from .batching import batches, pad_to_lengths
from .digits import load_digits_sequences
from .sunspots import load_sunspots
from .text import CharVocab, load_text

__all__ = [
    "BASELINE_MSE", "CharVocab", "adding_problem", "batches", "load_digits_sequences", "load_sunspots", "load_text",
    "pad_to_lengths",
]
