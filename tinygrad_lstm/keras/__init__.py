"""A Keras-style front for tinygrad_lstm: Keras programs run with only their import lines changed.

    from tinygrad_lstm.keras.models import Sequential
    from tinygrad_lstm.keras.layers import LSTM, Dense

    model = Sequential([LSTM(50, input_shape=(10, 1)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10, batch_size=32)

Underneath, every layer is a tinygrad_lstm Module whose forward pass is recorded by autograd (an LSTM layer
runs nn.LSTMCell's equations, with Keras's weight layout), `fit` is the usual loop (forward, loss, backward,
optimizer step) and the optimizers follow Keras's update rules. See docs/keras.md.
"""

from . import (
    activations,
    backend,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    saving,
    utils,
)
from .layers import Input, KerasTensor
from .models import Model, Sequential

__all__ = [
    "Input", "KerasTensor", "Model", "Sequential", "activations", "backend", "callbacks", "datasets",
    "initializers", "layers", "losses", "metrics", "models", "optimizers", "preprocessing", "saving", "utils",
]
