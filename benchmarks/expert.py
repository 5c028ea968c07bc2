"""The benchmark models written by hand in PyTorch, trained the way an expert would.

Tensors stay in memory; each epoch draws one `randperm` and cuts batches with `index_select`;
`torch.optim` RMSprop/Adam with `foreach=True`; `zero_grad(set_to_none=True)`; cross-entropy
on the logits; loss and accuracy accumulate on the device and are read once per epoch (one
host synchronisation). The hyperparameters are Keras's defaults, as the specs use them
(learning rate 0.001, RMSprop rho 0.9, epsilon 1e-7).

Run as a script it is the whole process the benchmark compares `modelspec train` with:

    python benchmarks/expert.py mlp data/mlp.npz --epochs 3
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


# ----- the models -------------------------------------------------------------------------------
class MLP(nn.Module):
    """specs/mnist_mlp.yaml: Dense 512 relu, Dropout 0.2, Dense 512 relu, Dropout 0.2, Dense 10 (logits)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(512, 10),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class StackedLSTM(nn.Module):
    """specs/stacked_lstm.yaml: three LSTMs of 32 units (one fused call), Dense 10 on the last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32, num_layers=3, batch_first=True)
        self.head = nn.Linear(32, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.lstm(x)[0][:, -1])


class Headline(nn.Module):
    """specs/headline.yaml: Embedding 10000x512, LSTM 32, an auxiliary output, three Dense 64, main output."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10000, 512)
        self.lstm = nn.LSTM(512, 32, batch_first=True)
        self.aux = nn.Linear(32, 1)
        self.dense = nn.Sequential(
            nn.Linear(37, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)
        )

    def forward(self, main: Tensor, aux: Tensor) -> tuple[Tensor, Tensor]:
        h = self.lstm(self.embedding(main))[0][:, -1]
        return self.dense(torch.cat([h, aux], dim=1)), self.aux(h)


class SmallCNN(nn.Module):
    """benchmarks/specs/small_cnn.yaml: Conv 16 3x3 relu, Conv 32 3x3 stride 2 relu, global average pool, Dense 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2)
        self.head = nn.Linear(32, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.head(x.mean(dim=(2, 3)))


# ----- what each benchmark trains ---------------------------------------------------------------
def _categorical(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """(mean loss, number of correct predictions) for one-hot targets."""
    return F.cross_entropy(logits, y), (logits.argmax(1) == y.argmax(1)).sum()


def _headline_loss(outputs: tuple[Tensor, Tensor], targets: tuple[Tensor, Tensor]) -> tuple[Tensor, None]:
    (main, aux), (y_main, y_aux) = outputs, targets
    loss = F.binary_cross_entropy_with_logits(main, y_main) + 0.2 * F.binary_cross_entropy_with_logits(aux, y_aux)
    return loss, None


@dataclass
class Setup:
    model: Callable[[], nn.Module]
    inputs: tuple[str, ...]
    targets: tuple[str, ...]
    optimizer: str
    batch_size: int
    validation_split: float
    loss: Callable
    nchw: bool = False  # an expert keeps images as (n, channels, height, width) from the start


SETUPS = {
    "mlp": Setup(MLP, ("x",), ("y",), "rmsprop", 128, 0.1, lambda o, t: _categorical(o, t[0])),
    "lstm": Setup(StackedLSTM, ("x",), ("y",), "rmsprop", 64, 0.2, lambda o, t: _categorical(o, t[0])),
    "headline": Setup(Headline, ("main_input", "aux_input"), ("main_output", "aux_output"), "rmsprop", 32, 0.0, _headline_loss),
    "cnn": Setup(SmallCNN, ("x",), ("y",), "adam", 128, 0.1, lambda o, t: _categorical(o, t[0]), nchw=True),
}


def _tensors(arrays: dict[str, np.ndarray], setup: Setup) -> tuple[list[Tensor], list[Tensor]]:
    def tensor(name: str) -> Tensor:
        t = torch.from_numpy(np.ascontiguousarray(arrays[name]))
        if t.dtype == torch.int32:
            t = t.long()  # nn.Embedding takes int64 indices: convert once, not per batch
        if setup.nchw and t.dim() == 4:
            t = t.permute(0, 3, 1, 2).contiguous()
        return t

    return [tensor(n) for n in setup.inputs], [tensor(n) for n in setup.targets]


def _optimizer(name: str, params) -> torch.optim.Optimizer:
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7, foreach=True)
    return torch.optim.Adam(params, lr=1e-3, eps=1e-7, foreach=True)


class Trainer:
    """Benchmark `name` ready to train on `arrays`: tensors in memory, model and optimizer built."""

    def __init__(self, name: str, arrays: dict[str, np.ndarray], *, seed: int = 0):
        self.setup = setup = SETUPS[name]
        torch.manual_seed(seed)
        inputs, targets = _tensors(arrays, setup)
        self.n = n = inputs[0].shape[0]
        self.split = split = int(n * (1.0 - setup.validation_split)) if setup.validation_split else n
        self.train_in, self.train_t = [t[:split] for t in inputs], [t[:split] for t in targets]
        self.val_in, self.val_t = [t[split:] for t in inputs], [t[split:] for t in targets]
        self.model = setup.model()
        self.optimizer = _optimizer(setup.optimizer, self.model.parameters())
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self) -> dict[str, float]:
        """One epoch: training, validation, then the epoch's one host synchronisation."""
        setup, model, optimizer, split, n, batch = self.setup, self.model, self.optimizer, self.split, self.n, self.setup.batch_size
        model.train()
        order = torch.randperm(split, generator=self.generator)
        loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.long)
        for start in range(0, split, batch):
            index = order[start : start + batch]
            xs = [t.index_select(0, index) for t in self.train_in]
            ys = [t.index_select(0, index) for t in self.train_t]
            loss, hits = setup.loss(model(*xs), ys)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * index.shape[0]
            if hits is not None:
                correct += hits
        values = [loss_sum / split, correct / split]
        if split < n:
            model.eval()
            val_loss, val_correct = torch.zeros(()), torch.zeros((), dtype=torch.long)
            with torch.inference_mode():
                for start in range(0, n - split, batch):
                    xs = [t[start : start + batch] for t in self.val_in]
                    ys = [t[start : start + batch] for t in self.val_t]
                    loss, hits = setup.loss(model(*xs), ys)
                    val_loss += loss * xs[0].shape[0]
                    if hits is not None:
                        val_correct += hits
            values += [val_loss / (n - split), val_correct / (n - split)]
        read = torch.stack([v.double() for v in values]).tolist()  # the epoch's one host synchronisation
        return dict(zip(["loss", "accuracy", "val_loss", "val_accuracy"], read))


def train(name: str, arrays: dict[str, np.ndarray], epochs: int, *, seed: int = 0,
          on_epoch: Callable[[int, float, dict[str, float]], None] | None = None) -> dict[str, float]:
    """Train benchmark `name` on `arrays`; on_epoch(epoch, seconds, logs) after each epoch."""
    trainer = Trainer(name, arrays, seed=seed)
    logs: dict[str, float] = {}
    for epoch in range(epochs):
        started = time.perf_counter()
        logs = trainer.epoch()
        if on_epoch is not None:
            on_epoch(epoch, time.perf_counter() - started, logs)
    return logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=sorted(SETUPS))
    parser.add_argument("data", help="an .npz with the model's arrays")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with np.load(args.data) as archive:
        arrays = {key: archive[key] for key in archive.files}
    times: list[float] = []
    logs = train(args.model, arrays, args.epochs, seed=args.seed, on_epoch=lambda e, s, l: times.append(s))
    print(json.dumps({"epoch_seconds": times, "logs": logs}))


if __name__ == "__main__":
    main()
