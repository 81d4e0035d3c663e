"""Plumbing around `model.fit` for every training script.

`fit_callbacks(out_dir, state, tensorboard)` gives the callbacks every run uses, the
GANs' included: history.csv, the per-epoch backup for --resume (lib/resume.py),
TerminateOnNaN, an epoch timer (`EpochTimer`) and, with --tensorboard, TensorBoard logs.
`fit` runs model.fit with them for classifiers and autoencoders, `save_results` then
writes any run's models, curves and metrics.json (lib/gan_runs.py's GANs' too), and
`fit_classifier` does both around fit and evaluate for the book's classifiers, with
`BestCheckpoint` keeping the best weights. `check_batch_fits` refuses, before training,
a batch whose layers' outputs cannot fit in the free memory. `describe_models` prints
the model summaries the book shows, and `save_listing` is the results of a script that
only builds a model.
Learning-rate schedules are in lib/schedules.py, images for TensorBoard in
lib/tensorboard_images.py.
"""
import math
import os
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from lib import cli, outputs, plots, resume, tensorboard_images


class EpochTimer(keras.callbacks.Callback):
    """Record the wall-clock seconds of each epoch."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


class BestCheckpoint(keras.callbacks.Callback):
    """Save the weights, atomically, whenever `monitor` beats its best value so far
    (lower is better for losses, higher for everything else).

    Like keras.callbacks.ModelCheckpoint(save_best_only=True), but a crash mid-save
    never leaves a broken file, and a resumed run starts from the best it had logged.
    """

    def __init__(self, path, monitor="val_accuracy", best=None):
        super().__init__()
        self.path, self.monitor = path, monitor
        self.sign = -1.0 if "loss" in monitor else 1.0
        self.best = best if best is not None else -self.sign * float("inf")

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and self.sign * value > self.sign * self.best:
            print(f"\nEpoch {epoch + 1}: {self.monitor} improved to {value:.4f}; "
                  f"saving {self.path.name}")
            self.best = float(value)
            outputs.save_weights(self.model, self.path)


def best_checkpoint(out_dir, state, weights_name, monitor="val_accuracy"):
    """A BestCheckpoint writing `weights_name`.best.weights.h5 in out_dir; when resuming
    (state: the run's resume.ResumeState), it starts from the best value history.csv has
    logged, so a resumed run never overwrites a better checkpoint."""
    history_csv = out_dir / "history.csv"
    best = None
    if state.epoch and history_csv.exists():
        logged = outputs.read_history_csv(history_csv).get(monitor)
        if logged:
            best = min(logged) if "loss" in monitor else max(logged)
    return BestCheckpoint(out_dir / f"{weights_name}.best.weights.h5", monitor, best)


def describe_models(args, *models):
    """Print each model's summary (the book shows them) and, with --plot-model, write
    its diagram under --out-dir: model.png for a single model, else <name>.png each."""
    for model in models:
        model.summary()
        if args.plot_model:
            name = "model" if len(models) == 1 else model.name
            plots.model_diagram(model, args.out_dir / f"{name}.png")


def layer_table(model):
    """Each layer's name, type, output shape (batch left out) and parameter count, for
    metrics.json (the book's model summaries as numbers)."""
    return [{"name": layer.name, "type": type(layer).__name__,
             "output_shape": list(layer.output.shape[1:]), "params": layer.count_params()}
            for layer in model.layers]


def save_listing(model, out_dir):
    """A model-only listing's results (the book prints its summary): metrics.json in
    out_dir with the parameter count, each layer (`layer_table`), the optimizer and the
    loss. Returns them."""
    metrics = {"params": model.count_params(), "layers": layer_table(model),
               "optimizer": type(model.optimizer).__name__, "loss": model.loss}
    outputs.write_json(out_dir / "metrics.json", metrics)
    print(f"Saved metrics.json in {out_dir}")
    return metrics


def activation_values(model):
    """The values every layer of `model` outputs for one example, nested models' layers
    included: most of what training keeps for the backward pass."""
    count = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            count += activation_values(layer)
            continue
        try:
            layer_outputs = keras.tree.flatten(layer.output)
        except (AttributeError, ValueError):  # a layer called more than once, or never
            continue
        count += sum(math.prod(output.shape[1:]) for output in layer_outputs)
    return count


def free_memory_bytes():
    """The memory this process can still take: the system's available memory, or less
    where a cgroup (a container's limit) allows less."""
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
        limit, used = (Path("/sys/fs/cgroup", name).read_text().strip()
                       for name in ("memory.max", "memory.current"))
        if limit != "max":
            available = min(available, int(limit) - int(used))
    except (OSError, ValueError):
        pass
    return available


def check_batch_fits(batch_size, *models):
    """Before training on CPUs, a UserError when the layers' outputs for one batch
    (`activation_values`, in the precision's compute dtype) exceed the free memory: the
    run would be killed by the system partway. An estimate: training keeps most of these
    outputs for the backward pass (DenseNet-BC at batch 128: 6.2 GiB estimated, the
    process grew 5.1 GiB) and needs memory besides them. Not checked on GPUs and TPUs,
    whose free memory TensorFlow does not report before it allocates."""
    if tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"):
        return
    value_bytes = np.dtype(keras.mixed_precision.global_policy().compute_dtype).itemsize
    per_example = value_bytes * sum(activation_values(model) for model in models)
    free = free_memory_bytes()
    if batch_size * per_example > free:
        fits = free // per_example
        raise cli.UserError(
            f"--batch-size {batch_size:,} needs about {memory_size(batch_size * per_example)} for "
            f"the layers' outputs ({memory_size(per_example)} an example), more than the "
            f"{memory_size(free)} free here; " + (f"give at most {fits:,}" if fits else
                                                 "free some memory first"))


def memory_size(size):
    """Bytes as people read them: "1.4 GiB", "22.5 MiB"."""
    return f"{size / 2**30:,.1f} GiB" if size >= 2**30 else f"{size / 2**20:,.1f} MiB"


def fit_callbacks(out_dir, state, tensorboard=False):
    """Callbacks for model.fit: CSVLogger to out_dir/history.csv (appended to when
    resuming), the backup for --resume (resume.Backup, in the folder of `state`, the run's
    resume.ResumeState), TerminateOnNaN, EpochTimer, and with `tensorboard` Keras'
    TensorBoard logging every epoch's numbers to out_dir/tensorboard (section 3.3.1)."""
    return [  # the log row before the backup: a run killed between them logs the epoch again
        keras.callbacks.CSVLogger(str(out_dir / "history.csv"), append=bool(state.epoch)),
        resume.Backup(state.folder, state.settings),
        keras.callbacks.TerminateOnNaN(),
        EpochTimer(),
    ] + ([keras.callbacks.TensorBoard(str(out_dir / "tensorboard"))] if tensorboard else [])


def save_results(out_dir, models, metrics, callbacks, steps_per_epoch=None, message=None):
    """A run's results in out_dir, for classifiers, autoencoders and GANs alike: each of
    `models` ({file name: model}; a name ending in .keras saves the whole model, to load
    and run later, one ending in .weights.h5 its weights), curves.png from history.csv,
    and metrics.json: `metrics` plus the median seconds per epoch of this process's epochs
    (the EpochTimer among `callbacks`), or per step with `steps_per_epoch` (a GAN's
    epochs are its save intervals, and its curves count steps). Then prints `message`
    (by default, what it saved where). Returns what metrics.json holds.
    A run whose last logged numbers or `metrics` came out NaN or infinite (training that
    diverged: TerminateOnNaN or the Backup stops it) is a UserError naming them, and
    nothing is saved; the backup stays the last finite epoch's, for --resume."""
    history = outputs.read_history_csv(out_dir / "history.csv")
    backup = next(callback for callback in callbacks if isinstance(callback, resume.Backup))
    kept = (f"--resume goes on from the backup of epoch {backup.diverged_at - 1}"
            if backup.diverged_at and backup.diverged_at > 1 else "no backup to resume")
    outputs.require_finite({name: values[-1] for name, values in history.items()},
                           f"training diverged (history.csv's last row); nothing saved; {kept}")
    outputs.require_finite(metrics, "nothing saved")
    for file_name, model in models.items():
        save = outputs.save_model if file_name.endswith(".keras") else outputs.save_weights
        save(model, out_dir / file_name)
    if steps_per_epoch:
        plots.training_curves(history, out_dir / "curves.png", x_per_epoch=steps_per_epoch,
                              x_label="step")
    else:
        plots.training_curves(history, out_dir / "curves.png")
    timer = next(callback for callback in callbacks if isinstance(callback, EpochTimer))
    if timer.seconds and steps_per_epoch:
        metrics = {**metrics, "seconds_per_step":
                   round(float(np.median(timer.seconds)) / steps_per_epoch, 4)}
    elif timer.seconds:
        metrics = {**metrics, "seconds_per_epoch": round(float(np.median(timer.seconds)), 3)}
    outputs.write_json(out_dir / "metrics.json", metrics)
    print(message or f"Saved weights, curves.png and metrics.json in {out_dir}")
    return metrics


def fit(model, args, train_batches, test_batches, state, extra_callbacks=()):
    """model.fit for --epochs with the standard callbacks, validating on the test set
    each epoch (as the book's chapters 2-3 do; its chapter 1 evaluates once at the
    end). Returns the callbacks, for `save_results`. XLA is as the model was compiled:
    scripts pass --jit-compile to `compile`, off unless asked (Keras would turn it on for
    any GPU).

    train_batches: data.EpochBatches; a resumed run starts at the backup's epoch, with
    that epoch's batches.
    state: the run's resume.ResumeState, which the script reads (resume.prepare) before
    it writes anything, so that a --resume that cannot go on stops first.
    extra_callbacks: schedules, best checkpoints and the like; they run before the
    standard ones, so what they add to an epoch's logs (the learning rate) is recorded.
    With --tensorboard, a model with image outputs also logs them for the first 8 test
    inputs every epoch."""
    callbacks = list(extra_callbacks) + fit_callbacks(args.out_dir, state, args.tensorboard)
    if args.tensorboard and any(len(output.shape) == 4 for output in model.outputs):
        test_inputs = next(iter(test_batches))[0][:8]
        callbacks.append(tensorboard_images.TensorBoardImages(
            test_inputs, args.out_dir / "tensorboard" / "samples"))
    check_batch_fits(args.batch_size, model)
    state.restore(model)
    model.fit(train_batches.from_epoch(state.epoch), steps_per_epoch=train_batches.steps_per_epoch,
              initial_epoch=state.epoch, epochs=args.epochs, validation_data=test_batches,
              callbacks=callbacks)
    return callbacks


def fit_classifier(model, args, train_batches, test_batches, dataset, weights_name, state,
                   extra_callbacks=(), keep_best=False, **details):
    """Fit a compiled classifier, print the book's "Test accuracy" line and save the
    run's results; keep_best also keeps the best test-accuracy weights. state: as `fit`.
    Returns the metrics written to metrics.json; `details` are added to them."""
    extra_callbacks = list(extra_callbacks)
    if keep_best:
        best = best_checkpoint(args.out_dir, state, weights_name)
        extra_callbacks.append(best)
    callbacks = fit(model, args, train_batches, test_batches, state, extra_callbacks)
    loss, accuracy = model.evaluate(test_batches, verbose=0)
    print(f"\nTest accuracy: {100.0 * accuracy:.1f}%")
    if keep_best:
        details["best_test_accuracy"] = best.best
        print(f"Best test accuracy of any epoch: {100.0 * best.best:.1f}% "
              f"(weights in {best.path.name})")
    return save_results(args.out_dir, {f"{weights_name}.weights.h5": model}, {
        "dataset": dataset.name,
        "train_examples": len(dataset.x_train),
        "params": model.count_params(),
        **details,
        "test_loss": loss,
        "test_accuracy": accuracy,
    }, callbacks)
