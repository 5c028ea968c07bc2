"""The benchmark models in Keras 3 on its torch backend (optional: run only where `keras` imports).

Run as a script (the benchmark starts it in a child process, so that Keras's globals stay out of
the harness); it prints one JSON line with the seconds of each epoch:

    KERAS_BACKEND=torch python benchmarks/keras_loop.py mlp data/mlp.npz --epochs 3
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
from keras import layers


def _model(name: str) -> tuple[keras.Model, dict]:
    """(compiled model, fit keyword arguments) of benchmark `name`, as its spec defines it."""
    if name == "mlp":
        model = keras.Sequential([
            keras.Input((784,)), layers.Dense(512, activation="relu"), layers.Dropout(0.2),
            layers.Dense(512, activation="relu"), layers.Dropout(0.2), layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
        return model, {"batch_size": 128, "validation_split": 0.1}
    if name == "lstm":
        model = keras.Sequential([
            keras.Input((8, 16)), layers.LSTM(32, return_sequences=True), layers.LSTM(32, return_sequences=True),
            layers.LSTM(32), layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
        return model, {"batch_size": 64, "validation_split": 0.2}
    if name == "headline":
        main_input = keras.Input((100,), dtype="int32", name="main_input")
        aux_input = keras.Input((5,), name="aux_input")
        lstm_out = layers.LSTM(32)(layers.Embedding(10000, 512)(main_input))
        aux_output = layers.Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
        x = layers.Concatenate()([lstm_out, aux_input])
        for _ in range(3):
            x = layers.Dense(64, activation="relu")(x)
        main_output = layers.Dense(1, activation="sigmoid", name="main_output")(x)
        model = keras.Model([main_input, aux_input], [main_output, aux_output])
        model.compile(optimizer="rmsprop", loss={"main_output": "binary_crossentropy", "aux_output": "binary_crossentropy"},
                      loss_weights={"main_output": 1.0, "aux_output": 0.2})
        return model, {"batch_size": 32}
    if name == "cnn":
        model = keras.Sequential([
            keras.Input((28, 28, 1)), layers.Conv2D(16, 3, activation="relu"), layers.Conv2D(32, 3, strides=2, activation="relu"),
            layers.GlobalAveragePooling2D(), layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        return model, {"batch_size": 128, "validation_split": 0.1}
    raise SystemExit(f"unknown benchmark {name!r}")


class _Timer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    with np.load(args.data) as archive:
        arrays = {key: archive[key] for key in archive.files}
    model, fit = _model(args.model)
    if args.model == "headline":
        x = {"main_input": arrays["main_input"], "aux_input": arrays["aux_input"]}
        y = {"main_output": arrays["main_output"], "aux_output": arrays["aux_output"]}
    else:
        x, y = arrays["x"], arrays["y"]
    timer = _Timer()
    model.fit(x, y, epochs=args.epochs, shuffle=True, verbose=0, callbacks=[timer], **fit)
    print(json.dumps({"epoch_seconds": timer.seconds, "backend": keras.backend.backend(), "version": keras.__version__}))


if __name__ == "__main__":
    main()
