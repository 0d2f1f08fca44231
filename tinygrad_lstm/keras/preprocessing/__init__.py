"""Text and sequence preprocessing, as keras.preprocessing: `text.Tokenizer`, `sequence.pad_sequences`."""

from . import sequence, text

__all__ = ["sequence", "text"]
