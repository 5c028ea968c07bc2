"""Callbacks against Keras 3's behaviour (keras/src/callbacks/*.py): when EarlyStopping stops,
when ReduceLROnPlateau reduces, when ModelCheckpoint saves, which learning rate each named schedule
gives, what CSVLogger writes; then end to end through TrainingRun."""

from __future__ import annotations

import io
import json
import math

import pytest
import torch

from modelspec.callbacks import config as configs
from modelspec.callbacks.runtime import (
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    epoch_learning_rate,
)
from modelspec.checked import check_spec
from modelspec.optimizers.runtime import build_optimizer, current_learning_rate, set_learning_rate
from modelspec.training.history import record_epoch
from modelspec.training.run import TrainingRun
from modelspec.weights import read_weights
from tests.helpers import write


# ----- a stand-in for the run's CallbackContext ------------------------------------------------------
class FakeContext:
    """What callbacks use of a run (modelspec.callbacks.runtime.CallbackContext): the model, the learning rate,
    run_dir, history, stop, weights; plus `fill` and `stop_reason` for the tests."""

    def __init__(self, run_dir, learning_rate=0.1):
        self.model = torch.nn.Linear(2, 1)
        self.device = torch.device("cpu")
        self.optimizer = build_optimizer({"type": "sgd", "learning_rate": learning_rate}, self.model.parameters())
        self.run_dir = run_dir
        self.is_main_process = True  # the process that writes the run directory
        self.history: dict[str, list[float]] = {}
        self.stop_reason: str | None = None

    def stop(self, reason: str) -> None:
        self.stop_reason = reason

    def weights(self) -> dict[str, torch.Tensor]:
        return {name: t.detach().clone() for name, t in self.model.state_dict().items()}

    def set_weights(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)

    def fill(self, value: float) -> None:
        with torch.no_grad():
            for p in self.model.parameters():
                p.fill_(value)

    @property
    def learning_rate(self) -> float:
        return current_learning_rate(self.optimizer)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        set_learning_rate(self.optimizer, value)


PARAMS = {"epochs": 10, "steps": 1, "initial_epoch": 0, "batch_size": 32, "resume": False}


def attach(callback, tmp_path, **kwargs):
    callback.set_context(FakeContext(tmp_path, **kwargs), PARAMS)
    callback.on_train_begin()
    return callback


def drive(callback, values, monitor="val_loss", start=0, weights=False):
    """The training loop's calls for one value per epoch (None: the key is absent that epoch).
    Returns the epochs run (the loop stops after the epoch whose end asked for it)."""
    run = callback.context
    ran = 0
    for epoch, value in enumerate(values, start=start):
        if weights:
            run.fill(float(epoch))  # the weights "after epoch `epoch`" are all equal to epoch
        callback.on_epoch_begin(epoch)
        logs = {"loss": 0.0} if value is None else {monitor: value}
        callback.on_epoch_end(epoch, logs)
        run.history.setdefault("epoch", []).append(epoch)
        for name, v in logs.items():
            run.history.setdefault(name, []).append(v)
        ran += 1
        if run.stop_reason:
            break
    return ran


def early(tmp_path, **config):
    return attach(EarlyStopping(configs.EarlyStopping(type="EarlyStopping", **config)), tmp_path)


def plateau(tmp_path, learning_rate=0.1, **config):
    return attach(ReduceLROnPlateau(configs.ReduceLROnPlateau(type="ReduceLROnPlateau", **config)), tmp_path, learning_rate=learning_rate)


def round_trip(state):
    """A callback state as a checkpoint keeps it: torch.save, then torch.load(weights_only=True)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


# ----- EarlyStopping -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "patience, values, ran",
    [
        (0, [1.0, 2.0, 3.0], 2),  # patience 0: the first epoch without improvement stops
        (2, [1.0, 0.9, 0.95, 0.96, 0.5], 4),  # two epochs without improvement after the best (0.9)
        (2, [1.0, 0.9, 0.95, 0.8, 0.85, 0.86, 0.1], 6),  # an improvement resets the wait
        (0, [3.0, 2.0, 1.0, 0.5], 4),  # always improving: never stops
        (1, [1.0, 1.0, 0.0], 2),  # an equal value is no improvement
    ],
)
def test_early_stopping_patience(tmp_path, patience, values, ran):
    callback = early(tmp_path, patience=patience)
    assert drive(callback, values) == ran
    assert (callback.context.stop_reason is not None) == (ran < len(values))
    if callback.context.stop_reason:
        assert "EarlyStopping" in callback.context.stop_reason and "val_loss" in callback.context.stop_reason
        assert callback.stopped_epoch == ran - 1


@pytest.mark.parametrize("min_delta", [0.1, -0.1])  # Keras takes abs(min_delta)
def test_early_stopping_min_delta_in_min_mode(tmp_path, min_delta):
    # 0.95 is not 0.1 below 1.0 (no improvement); 0.85 is; then 0.80 and 0.79 are not 0.1 below 0.85.
    callback = early(tmp_path, patience=2, min_delta=min_delta)
    assert drive(callback, [1.0, 0.95, 0.85, 0.80, 0.79, 0.0]) == 5
    assert callback.best == 0.85 and callback.best_epoch == 2
    assert drive(early(tmp_path, patience=2), [1.0, 0.95, 0.85, 0.80, 0.79, 0.0]) == 6  # no min_delta: every value improves


@pytest.mark.parametrize("min_delta", [0.1, -0.1])
def test_early_stopping_min_delta_in_max_mode(tmp_path, min_delta):
    callback = early(tmp_path, monitor="val_score", mode="max", patience=2, min_delta=min_delta)
    assert drive(callback, [0.5, 0.55, 0.65, 0.7, 0.71, 1.0], monitor="val_score") == 5
    assert callback.best == 0.65


@pytest.mark.parametrize("monitor", ["accuracy", "val_accuracy", "val_acc", "val_binary_accuracy", "val_auc", "val_precision", "val_recall", "out_accuracy"])
def test_early_stopping_auto_mode_maximises_accuracy_like_metrics(tmp_path, monitor):
    assert drive(early(tmp_path, monitor=monitor), [0.5, 0.6, 0.7], monitor=monitor) == 3
    assert drive(early(tmp_path, monitor=monitor), [0.5, 0.4, 0.3], monitor=monitor) == 2


@pytest.mark.parametrize("monitor", ["loss", "val_loss", "val_mae", "val_mean_squared_error", "out_loss"])
def test_early_stopping_auto_mode_minimises_losses_and_errors(tmp_path, monitor):
    assert drive(early(tmp_path, monitor=monitor), [0.5, 0.4, 0.3], monitor=monitor) == 3
    assert drive(early(tmp_path, monitor=monitor), [0.5, 0.6, 0.7], monitor=monitor) == 2


def test_explicit_mode_overrides_the_name(tmp_path):
    assert drive(early(tmp_path, monitor="val_accuracy", mode="min"), [0.5, 0.6], monitor="val_accuracy") == 2
    assert drive(early(tmp_path, monitor="val_loss", mode="max"), [0.5, 0.4]) == 2


def test_early_stopping_baseline(tmp_path):
    # Improvements that do not beat the baseline do not reset the wait (but an improving epoch never stops).
    assert drive(early(tmp_path, baseline=0.5, patience=2), [0.9, 0.8, 0.85, 0.0]) == 3
    assert drive(early(tmp_path, patience=2), [0.9, 0.8, 0.85, 0.0]) == 4
    # Beating the baseline resets it as usual.
    assert drive(early(tmp_path, baseline=0.5, patience=2), [0.4, 0.45, 0.46, 0.0]) == 3
    assert drive(early(tmp_path, baseline=0.5, patience=3), [0.4, 0.45, 0.46, 0.0]) == 4
    # Max mode: the baseline must be exceeded.
    callback = early(tmp_path, monitor="val_accuracy", baseline=0.9, patience=1)
    assert drive(callback, [0.5, 0.6, 0.55, 1.0], monitor="val_accuracy") == 3


def test_early_stopping_start_from_epoch(tmp_path):
    assert drive(early(tmp_path), [1.0, 2.0, 3.0, 4.0, 5.0]) == 2
    callback = early(tmp_path, start_from_epoch=2)
    assert drive(callback, [1.0, 2.0, 3.0, 4.0, 5.0]) == 4  # epochs 0 and 1 ignored; 3.0 is the first best
    assert callback.best == 3.0 and callback.best_epoch == 2


def test_early_stopping_ignores_epochs_without_the_monitor(tmp_path):
    callback = early(tmp_path)
    assert drive(callback, [None] * 5) == 5
    assert callback.wait == 0 and callback.context.stop_reason is None
    assert drive(early(tmp_path), [None, 1.0, None, 2.0, 0.0]) == 4  # validation_freq=2


def test_early_stopping_restores_the_best_weights_on_stop(tmp_path):
    callback = early(tmp_path, patience=1, restore_best_weights=True)
    assert drive(callback, [1.0, 0.5, 0.7, 0.0], weights=True) == 3
    assert callback.best_epoch == 1
    assert all(torch.all(t == 1.0) for t in callback.context.model.state_dict().values())
    callback.on_train_end({})  # no second restore, no file written
    assert not (tmp_path / "model.safetensors").exists()


def test_early_stopping_restores_the_best_weights_at_the_end_without_a_stop(tmp_path):
    # Keras 3 restores them in on_train_end whether or not training stopped early.
    callback = early(tmp_path, patience=10, restore_best_weights=True)
    assert drive(callback, [1.0, 0.5, 0.7, 0.8], weights=True) == 4
    assert all(torch.all(t == 3.0) for t in callback.context.model.state_dict().values())
    callback.on_train_end({})
    assert all(torch.all(t == 1.0) for t in callback.context.model.state_dict().values())
    assert all(torch.all(t == 1.0) for t in read_weights(tmp_path / "model.safetensors").values())


def test_early_stopping_restores_the_best_epoch_even_below_the_baseline(tmp_path):
    callback = early(tmp_path, baseline=0.1, patience=2, restore_best_weights=True)
    assert drive(callback, [0.9, 0.8, 0.85, 0.0], weights=True) == 3
    assert all(torch.all(t == 1.0) for t in callback.context.model.state_dict().values())


def test_early_stopping_without_restore_keeps_the_last_weights(tmp_path):
    callback = early(tmp_path, patience=1)
    assert drive(callback, [1.0, 0.5, 0.7, 0.0], weights=True) == 3
    callback.on_train_end({})
    assert all(torch.all(t == 2.0) for t in callback.context.model.state_dict().values())


def test_early_stopping_state_round_trip(tmp_path):
    values = [1.0, 0.5, 0.7, 0.4, 0.9, 0.6, 1.0, 1.0]
    whole = early(tmp_path / "a", patience=3, restore_best_weights=True)
    ran = drive(whole, values, weights=True)
    first = early(tmp_path / "b", patience=3, restore_best_weights=True)
    drive(first, values[:3], weights=True)
    second = early(tmp_path / "c", patience=3, restore_best_weights=True)
    second.load_state_dict(round_trip(first.state_dict()))
    assert 3 + drive(second, values[3:], start=3, weights=True) == ran == 7
    assert second.best_epoch == whole.best_epoch == 3 and second.stopped_epoch == whole.stopped_epoch == 6
    assert all(torch.all(t == 3.0) for t in second.context.model.state_dict().values())


# ----- ReduceLROnPlateau ---------------------------------------------------------------------------
def lr_trace(callback, values, monitor="val_loss"):
    """(logged learning_rate, learning rate after the epoch) per epoch."""
    logged, after = [], []
    for epoch, value in enumerate(values):
        logs = {} if value is None else {monitor: value}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
        after.append(callback.context.learning_rate)
    return logged, after


def test_reduce_lr_patience_and_factor(tmp_path):
    logged, after = lr_trace(plateau(tmp_path, factor=0.5, patience=2), [1.0] * 6)
    assert after == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    # learning_rate in the logs is the rate the epoch trained with (written before any reduction).
    assert logged == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])


def test_reduce_lr_improvement_resets_the_wait(tmp_path):
    _, after = lr_trace(plateau(tmp_path, factor=0.5, patience=2), [1.0, 1.0, 0.5, 0.5, 0.5])
    assert after == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05])


def test_reduce_lr_default_min_delta(tmp_path):
    # Keras's default min_delta is 1e-4: a smaller decrease is no improvement.
    _, after = lr_trace(plateau(tmp_path, patience=1), [1.0, 0.99995, 0.99])
    assert after == pytest.approx([0.1, 0.01, 0.01])


def test_reduce_lr_min_delta(tmp_path):
    _, after = lr_trace(plateau(tmp_path, factor=0.5, patience=1, min_delta=0.1), [1.0, 0.95, 0.85])
    assert after == pytest.approx([0.1, 0.05, 0.05])
    _, after = lr_trace(plateau(tmp_path, factor=0.5, patience=1, min_delta=0.0), [1.0, 0.95, 0.85])
    assert after == pytest.approx([0.1, 0.1, 0.1])


def test_reduce_lr_floor_at_min_lr(tmp_path):
    _, after = lr_trace(plateau(tmp_path, factor=0.1, patience=0, min_lr=0.005), [1.0] * 5)
    assert after == pytest.approx([0.1, 0.01, 0.005, 0.005, 0.005])


def test_reduce_lr_cooldown(tmp_path):
    _, after = lr_trace(plateau(tmp_path, factor=0.5, patience=1, cooldown=2), [1.0] * 6)
    assert after == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.025, 0.0125])
    _, after = lr_trace(plateau(tmp_path, factor=0.5, patience=1), [1.0] * 4)
    assert after == pytest.approx([0.1, 0.05, 0.025, 0.0125])


def test_reduce_lr_auto_mode_maximises_accuracy(tmp_path):
    _, after = lr_trace(plateau(tmp_path, monitor="val_accuracy", patience=1), [0.5, 0.6, 0.7], monitor="val_accuracy")
    assert after == pytest.approx([0.1, 0.1, 0.1])
    _, after = lr_trace(plateau(tmp_path, monitor="val_accuracy", patience=1), [0.5, 0.4], monitor="val_accuracy")
    assert after == pytest.approx([0.1, 0.01])
    _, after = lr_trace(plateau(tmp_path, monitor="val_loss", mode="max", patience=1), [0.5, 0.4])
    assert after == pytest.approx([0.1, 0.01])


def test_reduce_lr_without_the_monitor_only_logs_the_rate(tmp_path):
    callback = plateau(tmp_path, patience=0)
    logged, after = lr_trace(callback, [None, None, None])
    assert logged == after == pytest.approx([0.1] * 3) and callback.wait == 0


def test_reduce_lr_state_round_trip(tmp_path):
    values = [1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9]
    whole = plateau(tmp_path, factor=0.5, patience=2, cooldown=1)
    _, expected = lr_trace(whole, values)
    first = plateau(tmp_path, factor=0.5, patience=2, cooldown=1)
    for epoch, value in enumerate(values[:4]):
        first.on_epoch_end(epoch, {"val_loss": value})
    second = plateau(tmp_path, learning_rate=first.context.learning_rate, factor=0.5, patience=2, cooldown=1)
    second.load_state_dict(round_trip(first.state_dict()))
    for epoch, value in enumerate(values[4:], start=4):
        second.on_epoch_end(epoch, {"val_loss": value})
    assert second.context.learning_rate == pytest.approx(expected[-1])


# ----- ModelCheckpoint -----------------------------------------------------------------------------
def checkpoint(tmp_path, **config):
    return attach(ModelCheckpoint(configs.ModelCheckpoint(type="ModelCheckpoint", **config)), tmp_path)


def saved_epoch(path) -> float:
    """Which epoch's weights a file holds (drive(..., weights=True) fills them with the epoch)."""
    values = {float(t.flatten()[0]) for t in read_weights(path).values()}
    assert len(values) == 1
    return values.pop()


def test_model_checkpoint_saves_every_epoch_by_default(tmp_path):
    callback = checkpoint(tmp_path, filepath="w-{epoch:02d}.safetensors")
    drive(callback, [1.0, 2.0, 3.0], weights=True)
    assert sorted(p.name for p in tmp_path.glob("w-*")) == ["w-01.safetensors", "w-02.safetensors", "w-03.safetensors"]
    assert saved_epoch(tmp_path / "w-03.safetensors") == 2.0


def test_model_checkpoint_save_best_only_writes_only_on_improvement(tmp_path):
    callback = checkpoint(tmp_path, save_best_only=True)
    seen = []
    for epoch, value in enumerate([1.0, 0.8, 0.9, 0.8, 0.7]):
        callback.context.fill(float(epoch))
        callback.on_epoch_end(epoch, {"val_loss": value})
        seen.append(saved_epoch(tmp_path / "best.safetensors"))
    assert seen == [0.0, 1.0, 1.0, 1.0, 4.0]  # an equal value (0.8 at epoch 3) is no improvement


def test_model_checkpoint_save_best_only_with_epoch_in_the_name(tmp_path):
    callback = checkpoint(tmp_path, filepath="{epoch}-{val_loss:.2f}.safetensors", save_best_only=True)
    drive(callback, [1.0, 1.1, 0.9], weights=True)
    assert sorted(p.name for p in tmp_path.glob("*.safetensors")) == ["1-1.00.safetensors", "3-0.90.safetensors"]


def test_model_checkpoint_mode(tmp_path):
    auto = checkpoint(tmp_path / "auto", filepath="{epoch}.safetensors", monitor="val_accuracy", save_best_only=True)
    drive(auto, [0.5, 0.4, 0.6], monitor="val_accuracy", weights=True)
    assert sorted(p.name for p in (tmp_path / "auto").iterdir()) == ["1.safetensors", "3.safetensors"]
    maximise = checkpoint(tmp_path / "max", filepath="{epoch}.safetensors", monitor="val_loss", mode="max", save_best_only=True)
    drive(maximise, [0.5, 0.4, 0.6], weights=True)
    assert sorted(p.name for p in (tmp_path / "max").iterdir()) == ["1.safetensors", "3.safetensors"]
    minimise = checkpoint(tmp_path / "min", filepath="{epoch}.safetensors", monitor="val_accuracy", mode="min", save_best_only=True)
    drive(minimise, [0.5, 0.4, 0.6], monitor="val_accuracy", weights=True)
    assert sorted(p.name for p in (tmp_path / "min").iterdir()) == ["1.safetensors", "2.safetensors"]


def test_model_checkpoint_initial_value_threshold(tmp_path):
    callback = checkpoint(tmp_path, filepath="{epoch}.safetensors", save_best_only=True, initial_value_threshold=0.5)
    drive(callback, [0.9, 0.5, 0.4, 0.45, 0.3], weights=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.safetensors", "5.safetensors"]
    high = checkpoint(tmp_path / "max", filepath="{epoch}.safetensors", monitor="val_accuracy", save_best_only=True, initial_value_threshold=0.8)
    drive(high, [0.7, 0.9, 0.85], monitor="val_accuracy", weights=True)
    assert [p.name for p in (tmp_path / "max").iterdir()] == ["2.safetensors"]


def test_model_checkpoint_state_round_trip(tmp_path):
    first = checkpoint(tmp_path, filepath="{epoch}.safetensors", save_best_only=True)
    drive(first, [1.0, 0.5], weights=True)
    second = checkpoint(tmp_path, filepath="{epoch}.safetensors", save_best_only=True)
    second.load_state_dict(round_trip(first.state_dict()))
    drive(second, [0.7, 0.4], start=2, weights=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.safetensors", "2.safetensors", "4.safetensors"]


# ----- LearningRateScheduler -----------------------------------------------------------------------
def scheduler(tmp_path, schedule, learning_rate=0.1):
    return attach(LearningRateScheduler(configs.LearningRateScheduler(type="LearningRateScheduler", schedule=schedule)), tmp_path,
                  learning_rate=learning_rate)


def scheduled(callback, epochs, start=0):
    rates = []
    for epoch in range(start, start + epochs):
        callback.on_epoch_begin(epoch)
        rates.append(callback.context.learning_rate)
        logs = {"loss": 1.0}
        callback.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == rates[-1]
    return rates


def cosine(epoch, epochs, alpha, initial=0.1):
    return initial * (alpha + (1 - alpha) * 0.5 * (1 + math.cos(math.pi * min(epoch, epochs) / epochs)))


@pytest.mark.parametrize(
    "schedule, expected",
    [
        ({"type": "exponential", "decay_rate": 0.5}, [0.1, 0.05, 0.025, 0.0125, 0.00625]),
        ({"type": "step", "drop": 0.5, "epochs_drop": 2}, [0.1, 0.1, 0.05, 0.05, 0.025]),
        ({"type": "step"}, [0.1] * 5),  # Keras-style defaults: halve every 10 epochs
        ({"type": "cosine", "epochs": 4}, [0.1, cosine(1, 4, 0), 0.05, cosine(3, 4, 0), 0.0, 0.0]),
        ({"type": "cosine", "epochs": 4, "alpha": 0.1}, [0.1, cosine(1, 4, 0.1), 0.055, cosine(3, 4, 0.1), 0.01, 0.01]),
        ({"type": "piecewise", "boundaries": [2, 4], "values": [0.3, 0.02, 0.001]}, [0.3, 0.3, 0.02, 0.02, 0.001, 0.001]),
    ],
)
def test_learning_rate_scheduler_rate_per_epoch(tmp_path, schedule, expected):
    assert scheduled(scheduler(tmp_path, schedule), len(expected)) == pytest.approx(expected)


def test_schedules_start_from_the_optimizer_rate_and_do_not_compound(tmp_path):
    callback = scheduler(tmp_path, {"type": "exponential", "decay_rate": 0.5}, learning_rate=0.2)
    assert scheduled(callback, 2, start=3) == pytest.approx([0.025, 0.0125])  # initial_epoch 3: epoch indices, not counts
    callback.on_epoch_begin(3)
    assert callback.context.learning_rate == pytest.approx(0.025)


def test_epoch_learning_rate_is_the_documented_formula():
    step = configs.StepEpochSchedule(type="step", drop=0.1, epochs_drop=3)
    assert [epoch_learning_rate(step, e, 1.0) for e in range(7)] == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01])


def test_learning_rate_scheduler_state_round_trip(tmp_path):
    first = scheduler(tmp_path, {"type": "exponential", "decay_rate": 0.5})
    scheduled(first, 2)
    second = scheduler(tmp_path, {"type": "exponential", "decay_rate": 0.5}, learning_rate=first.context.learning_rate)
    second.load_state_dict(round_trip(first.state_dict()))
    assert scheduled(second, 2, start=2) == pytest.approx([0.025, 0.0125])  # from the first run's 0.1, not 0.05


# ----- CSVLogger -----------------------------------------------------------------------------------
def logger(tmp_path, **config):
    return attach(CSVLogger(configs.CSVLogger(type="CSVLogger", **config)), tmp_path)


def log_epochs(callback, rows, start=0):
    for epoch, logs in enumerate(rows, start=start):
        callback.on_epoch_end(epoch, dict(logs))
        record_epoch(callback.context.history, epoch, logs)  # after the callbacks, as the loop does


def test_csv_logger_layout(tmp_path):
    callback = logger(tmp_path)
    log_epochs(callback, [{"val_loss": 0.5, "loss": 0.75, "accuracy": 0.25}])
    # Written at the end of each epoch, that epoch included: epoch column, then the sorted names.
    assert (tmp_path / "log.csv").read_text() == "epoch,accuracy,loss,val_loss\n0,0.25,0.75,0.5\n"
    log_epochs(callback, [{"val_loss": 0.375, "loss": 0.5, "accuracy": 0.5}], start=1)
    assert (tmp_path / "log.csv").read_text().splitlines() == ["epoch,accuracy,loss,val_loss", "0,0.25,0.75,0.5", "1,0.5,0.5,0.375"]


def test_csv_logger_separator_and_filename(tmp_path):
    callback = logger(tmp_path, filename="logs/train.tsv", separator="\t")
    log_epochs(callback, [{"loss": 1.5, "accuracy": 0.5}, {"loss": 1.25, "accuracy": 0.75}])
    assert (tmp_path / "logs" / "train.tsv").read_text().splitlines() == ["epoch\taccuracy\tloss", "0\t0.5\t1.5", "1\t0.75\t1.25"]


def test_csv_logger_keeps_rows_aligned_when_validation_is_not_every_epoch(tmp_path):
    callback = logger(tmp_path)
    log_epochs(callback, [{"loss": 1.0}, {"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25}])
    assert (tmp_path / "log.csv").read_text().splitlines() == ["epoch,loss,val_loss", "0,1.0,NA", "1,0.5,0.75", "2,0.25,NA"]


def test_csv_logger_continues_a_resumed_run_from_its_history(tmp_path):
    first = logger(tmp_path / "a")
    log_epochs(first, [{"loss": 1.0}, {"loss": 0.5}])
    second = logger(tmp_path / "a")
    second.context.history = round_trip(first.context.history)  # a resumed run restores its history from the checkpoint
    log_epochs(second, [{"loss": 0.25}], start=2)
    assert (tmp_path / "a" / "log.csv").read_text().splitlines() == ["epoch,loss", "0,1.0", "1,0.5", "2,0.25"]


# ----- end to end ----------------------------------------------------------------------------------
SPEC = """
name: tiny
sequential:
  - {{type: Dense, units: 8, activation: relu, input_dim: 4}}
  - {{type: Dense, units: 1}}
compile:
  optimizer: {{type: sgd, learning_rate: {lr}}}
  loss: mse
fit:
  epochs: {epochs}
  batch_size: 16
  validation_split: 0.25
  callbacks: {callbacks}
data:
  train: {{synthetic: {{samples: 64}}}}
"""


def train(tmp_path, callbacks, epochs=4, lr="0.01", name="run"):
    spec = write(tmp_path, SPEC.format(callbacks=json.dumps(callbacks), epochs=epochs, lr=lr), f"{name}.yaml")
    return TrainingRun(check_spec(spec), tmp_path / name, seed=0, device="cpu").fit()


def weights(result):
    return read_weights(result.run_dir / "model.safetensors")


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_early_stopping_stops_a_run(tmp_path):
    # Nothing improves on the first epoch by 100: the second epoch stops it.
    result = train(tmp_path, [{"type": "EarlyStopping", "monitor": "loss", "min_delta": 100, "patience": 1}], epochs=6)
    assert result.epochs == 2 and len(result.history["loss"]) == 2
    assert result.status == "finished" and "EarlyStopping" in result.message and "loss" in result.message
    run_json = json.loads((result.run_dir / "run.json").read_text())
    assert run_json["epochs_done"] == 2 and "EarlyStopping" in run_json["message"]


def test_early_stopping_restores_the_best_weights_in_the_run(tmp_path):
    one_epoch = weights(train(tmp_path, [], epochs=1, name="one"))
    stopped = train(tmp_path, [{"type": "EarlyStopping", "monitor": "loss", "min_delta": 100, "patience": 1, "restore_best_weights": True}],
                    name="stopped")
    assert stopped.epochs == 2 and same_weights(weights(stopped), one_epoch)
    # Keras 3 also restores at the end of a run that was not stopped: the loss falls, so in max mode epoch 1 stays the best.
    finished = train(tmp_path, [{"type": "EarlyStopping", "monitor": "loss", "mode": "max", "patience": 10, "restore_best_weights": True}],
                     epochs=3, name="finished")
    assert finished.epochs == 3 and finished.history["loss"][2] < finished.history["loss"][0]
    assert same_weights(weights(finished), one_epoch)


def test_model_checkpoint_writes_into_the_run_dir(tmp_path):
    result = train(tmp_path, [{"type": "ModelCheckpoint", "save_best_only": True},
                              {"type": "ModelCheckpoint", "filepath": "epochs/{epoch}.safetensors"}], epochs=3)
    assert result.status == "finished"
    assert sorted(p.name for p in (result.run_dir / "epochs").iterdir()) == ["1.safetensors", "2.safetensors", "3.safetensors"]
    assert same_weights(read_weights(result.run_dir / "epochs" / "3.safetensors"), weights(result))
    best = read_weights(result.run_dir / "best.safetensors")
    best_epoch = min(range(3), key=lambda e: result.history["val_loss"][e]) + 1
    assert same_weights(best, read_weights(result.run_dir / "epochs" / f"{best_epoch}.safetensors"))


def test_terminate_on_nan_keeps_the_last_good_weights(tmp_path):
    result = train(tmp_path, ["TerminateOnNaN"], lr="1.0e+30")
    assert result.status == "stopped" and "NaN" in result.message and result.epochs == 0
    assert "model.safetensors holds the weights training started from" in result.message
    assert all(torch.isfinite(t).all() for t in weights(result).values())
    assert json.loads((result.run_dir / "run.json").read_text())["status"] == "stopped"


def test_terminate_on_nan_after_a_good_epoch(tmp_path):
    # Epoch 1 trains at 0.01, epoch 2 at 1e30: the file keeps the weights after epoch 1.
    one_epoch = weights(train(tmp_path, [], epochs=1, name="one"))
    schedule = {"type": "LearningRateScheduler", "schedule": {"type": "piecewise", "boundaries": [1], "values": [0.01, 1.0e30]}}
    result = train(tmp_path, [schedule, "TerminateOnNaN"], name="nan")
    assert result.status == "stopped" and "NaN" in result.message and "epoch 2" in result.message
    assert result.epochs == 1 and same_weights(weights(result), one_epoch)


def test_a_nan_stop_says_which_weights_model_safetensors_holds(tmp_path):
    # Epochs 1-3 train at 0.01 (the loss falls), epoch 4 at 1e30 diverges; ModelCheckpoint keeps every finite epoch's weights.
    schedule = {"type": "LearningRateScheduler", "schedule": {"type": "piecewise", "boundaries": [3], "values": [0.01, 1.0e30]}}
    every = {"type": "ModelCheckpoint", "filepath": "epochs/{epoch}.safetensors"}
    plain = train(tmp_path, [schedule, every, "TerminateOnNaN"], epochs=6, name="plain")
    assert plain.status == "stopped" and plain.epochs == 3 and "during epoch 4" in plain.message
    assert "model.safetensors holds the weights after epoch 3, the last with a finite loss" in plain.message
    assert same_weights(weights(plain), read_weights(plain.run_dir / "epochs" / "3.safetensors"))
    # In max mode the falling loss keeps epoch 1 the best: EarlyStopping restores and saves it when training ends, and the message says so.
    early = {"type": "EarlyStopping", "monitor": "loss", "mode": "max", "patience": 10, "restore_best_weights": True}
    restored = train(tmp_path, [schedule, every, early, "TerminateOnNaN"], epochs=6, name="restored")
    assert restored.status == "stopped" and restored.epochs == 3 and "during epoch 4" in restored.message
    assert "model.safetensors holds the weights of epoch 1, the best loss (" in restored.message and "restored by EarlyStopping" in restored.message
    assert "epoch 3" not in restored.message
    assert same_weights(weights(restored), read_weights(restored.run_dir / "epochs" / "1.safetensors"))
    assert json.loads((restored.run_dir / "run.json").read_text())["message"] == restored.message
    # The monitor not yet watched (start_from_epoch): nothing to restore, the file keeps the last finite epoch's weights.
    late = train(tmp_path, [schedule, every, {**early, "start_from_epoch": 5}, "TerminateOnNaN"], epochs=6, name="late")
    assert "model.safetensors holds the weights after epoch 3, the last with a finite loss" in late.message
    assert same_weights(weights(late), read_weights(late.run_dir / "epochs" / "3.safetensors"))


def test_reduce_lr_on_plateau_records_learning_rate(tmp_path):
    result = train(tmp_path, [{"type": "ReduceLROnPlateau", "monitor": "loss", "min_delta": 100, "patience": 0, "factor": 0.5}])
    assert result.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005, 0.0025])
    header = (result.run_dir / "history.csv").read_text().splitlines()[0]
    assert header == "epoch,learning_rate,loss,val_loss"


def test_learning_rate_scheduler_and_csv_logger_in_a_run(tmp_path):
    result = train(tmp_path, [{"type": "LearningRateScheduler", "schedule": {"type": "exponential", "decay_rate": 0.5}},
                              {"type": "CSVLogger", "filename": "log.csv"}])
    assert result.history["learning_rate"] == pytest.approx([0.01, 0.005, 0.0025, 0.00125])
    log = (result.run_dir / "log.csv").read_text()
    assert len(log.splitlines()) == 1 + 4  # every epoch, the last one included
    assert log == (result.run_dir / "history.csv").read_text()
