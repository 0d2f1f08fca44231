"""keras.saving: `save_model` / `load_model` (the same as `model.save` and `keras.models.load_model`)."""

from .models.model_file import load_model, save_model

__all__ = ["load_model", "save_model"]
