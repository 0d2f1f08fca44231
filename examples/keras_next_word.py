"""Keras-style next-word prediction: a stacked LSTM reads the words of a sentence so far and guesses the next one.

Written as a Keras text-generation tutorial is; only the imports differ (``tinygrad_lstm.keras`` instead of
``keras``). The text is the prose of Python's reference manual, which ships with Python (``pydoc_data.topics``
via ``tinygrad_lstm.data.load_text``): its paragraphs that are not code, cut into ~2,300 sentences (~40,000
words). A random 10% of the sentences are held out for testing.

The usual recipe:

    tokenizer = Tokenizer(oov_token="<OOV>");  tokenizer.fit_on_texts(train_sentences)    words -> ids 1, 2, ...
    every prefix of every sentence is an example: its last word is the target, the (up to) 10 words before it,
    padded with 0 in front by pad_sequences, are the input

    model = Sequential([
        Embedding(vocab_size, 64, mask_zero=True),       # mask_zero: the padding 0s are skipped by the LSTMs
        LSTM(128, return_sequences=True),                # every step's output feeds the next LSTM
        LSTM(128),                                       # only the last step's output: a summary of the context
        Dense(vocab_size, activation="softmax"),         # probabilities of the next word
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=Adam(learning_rate=0.01), metrics=["accuracy"])

Test sentences may contain words never seen in training (the tokenizer maps them to <OOV>); examples whose
target is such a word are left out of the test, since no model could name it. The metrics are top-1 accuracy
(the most likely word is the right one) and top-5 accuracy (the right word is among the 5 most likely), against
the baseline of always guessing the most frequent training word ("the").

Measured with the defaults (5 epochs, 1.6-2.5 minutes on 2 busy cores): top-1 accuracy 0.179 and top-5
accuracy 0.351 on 3,652 held-out next words with seed 0 (seeds 0-2: top-1 0.157-0.185, top-5 0.326-0.351),
against 0.066 (top-1, "the") and 0.173 (top-5, the 5 most frequent words) for the frequency baseline (seeds 0-2:
0.066-0.076 and 0.173-0.196). --quick (LSTM(32) layers, 1 epoch on a quarter of the sentences, ~8 s) only
learns the word frequencies: its top-1 equals the baseline's (0.076).

    python examples/keras_next_word.py              # RESULT top1_accuracy=0.1790 top5_accuracy=0.3509 ...
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# isort: off
from _common import example_parser, limit_blas_threads, result  # first: it limits BLAS threads
# isort: on
import numpy as np

from tinygrad_lstm.data import load_text
from tinygrad_lstm.keras.layers import LSTM, Dense, Embedding
from tinygrad_lstm.keras.models import Sequential
from tinygrad_lstm.keras.optimizers import Adam
from tinygrad_lstm.keras.preprocessing.sequence import pad_sequences
from tinygrad_lstm.keras.preprocessing.text import Tokenizer
from tinygrad_lstm.keras.utils import set_random_seed

CONTEXT = 10  # words of context the model sees before each target


def prose_sentences(text: str, min_words: int = 4) -> list[str]:
    """The sentences of the text's prose paragraphs (code and grammar blocks are indented: they are skipped)."""
    sentences = []
    for paragraph in re.split(r"\n\s*\n", text):
        if not paragraph.strip() or paragraph.startswith(" ") or set(paragraph.strip()) <= set("*=-"):
            continue
        paragraph = " ".join(paragraph.split())
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", paragraph) if len(s.split()) >= min_words]
    return sentences


def make_examples(sequences: list[list[int]], context: int = CONTEXT) -> tuple[np.ndarray, np.ndarray]:
    """Every prefix of every sentence: (the up to `context` ids before a word, pre-padded with 0; that word)."""
    prefixes = [seq[max(0, i - context):i + 1] for seq in sequences for i in range(1, len(seq))]
    padded = pad_sequences(prefixes, maxlen=context + 1, padding="pre")
    return padded[:, :-1], padded[:, -1]


def words(tokenizer: Tokenizer, ids: np.ndarray) -> str:
    """The words of a padded row of ids (the padding 0s dropped first: sequences_to_texts would show <OOV>)."""
    return tokenizer.sequences_to_texts([[i for i in ids if i]])[0]


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    p = example_parser(__doc__)
    p.add_argument("--epochs", type=int, default=None, help="passes over the training examples (default 5; "
                                                            "quick 1)")
    p.add_argument("--units", type=int, default=None, help="units of each LSTM layer (default 128; quick 32)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate (default 0.01)")
    p.add_argument("--verbose", type=int, default=1, help="fit's verbosity: 0 silent, 1 progress bar (live on "
                                                          "a terminal, else a line per epoch), 2 a line per epoch")
    args = p.parse_args(argv)
    limit_blas_threads()
    epochs = args.epochs or (1 if args.quick else 5)
    units = args.units or (32 if args.quick else 128)
    set_random_seed(args.seed)

    # sentences, split at random into training and test sentences
    sentences = prose_sentences(load_text())
    order = np.random.default_rng(args.seed).permutation(len(sentences))
    n_test = len(sentences) // 10
    test_sentences = [sentences[i] for i in order[:n_test]]
    train_sentences = [sentences[i] for i in order[n_test:]]
    if args.quick:
        train_sentences, test_sentences = train_sentences[:len(train_sentences) // 4], test_sentences[:100]

    # words -> ids, learned from the training sentences only
    tokenizer = Tokenizer(oov_token="<OOV>")
    tokenizer.fit_on_texts(train_sentences)
    vocab_size = len(tokenizer.word_index) + 1          # + 1: id 0 is the padding
    oov = tokenizer.word_index["<OOV>"]
    x_train, y_train = make_examples(tokenizer.texts_to_sequences(train_sentences))
    x_test, y_test = make_examples(tokenizer.texts_to_sequences(test_sentences))
    unknown = y_test == oov
    x_test, y_test = x_test[~unknown], y_test[~unknown]
    print(f"{len(train_sentences)} training sentences -> {len(x_train)} examples; {len(test_sentences)} test "
          f"sentences -> {len(x_test)} examples ({unknown.sum()} with an unseen target word left out); "
          f"vocabulary {vocab_size}")
    print("an example:", words(tokenizer, x_train[5]), "->", tokenizer.index_word[y_train[5]])

    model = Sequential([
        Embedding(vocab_size, 64, mask_zero=True),
        LSTM(units, return_sequences=True),
        LSTM(units),
        Dense(vocab_size, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=Adam(learning_rate=args.lr), metrics=["accuracy"])
    model.build((None, CONTEXT))
    model.summary()
    model.fit(x_train, y_train, epochs=epochs, batch_size=args.batch_size, verbose=args.verbose)

    # top-1 and top-5 accuracy on the held-out next words
    probabilities = model.predict(x_test, batch_size=256, verbose=0)
    top5 = np.argsort(-probabilities, axis=1)[:, :5]
    top1_accuracy = float(np.mean(top5[:, 0] == y_test))
    top5_accuracy = float(np.mean((top5 == y_test[:, None]).any(axis=1)))

    # the baseline: always the most frequent training targets (ignores the context)
    frequent = np.argsort(-np.bincount(y_train, minlength=vocab_size))[:5]
    baseline_top1 = float(np.mean(y_test == frequent[0]))
    baseline_top5 = float(np.mean(np.isin(y_test, frequent)))
    print(f"top-1 accuracy {top1_accuracy:.4f}, top-5 {top5_accuracy:.4f}; always "
          f"{[tokenizer.index_word[i] for i in frequent]}: top-1 {baseline_top1:.4f}, top-5 {baseline_top5:.4f}")

    for i in range(0, len(x_test), max(1, len(x_test) // 5))[:5]:
        context = words(tokenizer, x_test[i])
        guesses = ", ".join(tokenizer.index_word[j] for j in top5[i])
        print(f"  ...{context[-60:]!r} -> {tokenizer.index_word[y_test[i]]!r}; guesses: {guesses}")
    metrics = {"top1_accuracy": top1_accuracy, "top5_accuracy": top5_accuracy, "baseline_top1": baseline_top1,
               "baseline_top5": baseline_top5}
    result(**metrics)
    return metrics


if __name__ == "__main__":
    main()
