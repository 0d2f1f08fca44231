"""torch.utils's counterpart: `utils.data` (Dataset, DataLoader and their helpers)."""

from . import data

__all__ = ["data"]
