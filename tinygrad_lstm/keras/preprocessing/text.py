"""`Tokenizer`: words → integer ids, as keras.preprocessing.text.Tokenizer.

    tok = Tokenizer(num_words=1000, oov_token="<OOV>")
    tok.fit_on_texts(texts)                 count words; word_index ranks them: the most frequent is 1
    tok.texts_to_sequences(texts)           [[ids], ...]; only ids < num_words are kept; unknown (or too rare)
                                            words become the oov_token's id (1) if there is one, else vanish

Id 0 is never given to a word: it is left for padding (pad_sequences, Embedding(mask_zero=True)).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text: str, filters: str = FILTERS, lower: bool = True, split: str = " ") -> list[str]:
    """Lower-case, replace every filtered character by `split`, split, drop empty pieces."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


class Tokenizer:
    """Keras's Tokenizer: `word_counts`, `word_docs`, `word_index` (word → id, by descending frequency),
    `index_word`, `document_count`."""

    def __init__(self, num_words: int | None = None, filters: str = FILTERS, lower: bool = True, split: str = " ",
                 char_level: bool = False, oov_token: str | None = None, **kwargs: object) -> None:
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {kwargs}")
        self.num_words, self.filters, self.lower, self.split = num_words, filters, lower, split
        self.char_level, self.oov_token = char_level, oov_token
        self.word_counts: OrderedDict[str, int] = OrderedDict()
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}
        self.document_count = 0

    def _words(self, text: str | list[str]) -> list[str]:
        if self.char_level or isinstance(text, list):
            return [c.lower() for c in text] if self.lower and not isinstance(text, list) else list(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[str]) -> None:
        """Count the words of `texts` and (re)build word_index: ids 1, 2, ... by descending count (ties keep
        first-seen order); the oov_token, if any, is id 1."""
        if isinstance(texts, str):
            raise TypeError("fit_on_texts expects a list of texts, got one string (wrap it in a list)")
        for text in texts:
            self.document_count += 1
            words = self._words(text)
            for w in words:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(words):
                self.word_docs[w] += 1
        ranked = [w for w, _ in sorted(self.word_counts.items(), key=lambda kv: kv[1], reverse=True)]
        vocab = ([self.oov_token] if self.oov_token is not None else []) + ranked
        self.word_index = {w: i for i, w in enumerate(vocab, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}

    def texts_to_sequences(self, texts: Iterable[str]) -> list[list[int]]:
        if isinstance(texts, str):
            raise TypeError("texts_to_sequences expects a list of texts, got one string (wrap it in a list)")
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        out = []
        for text in texts:
            seq = []
            for w in self._words(text):
                i = self.word_index.get(w)
                if i is not None and (not self.num_words or i < self.num_words):
                    seq.append(i)
                elif oov is not None:
                    seq.append(oov)
            out.append(seq)
        return out

    def sequences_to_texts(self, sequences: Iterable[Iterable[int]]) -> list[str]:
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        texts = []
        for seq in sequences:
            words = []
            for i in seq:
                w = self.index_word.get(int(i))
                if w is not None and (not self.num_words or int(i) < self.num_words):
                    words.append(w)
                elif oov is not None:
                    words.append(self.index_word[oov])
            texts.append(" ".join(words))
        return texts


__all__ = ["Tokenizer", "text_to_word_sequence"]
