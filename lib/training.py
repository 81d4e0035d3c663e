"""Plumbing around `model.fit` for classifiers and autoencoders (DESIGN.md, Training).

`fit_callbacks(args)` gives the callbacks every such run uses: per-epoch backup
for `--resume` (nothing is lost when a run is interrupted), history.csv,
TerminateOnNaN and an epoch timer. `save_results` then writes the weights, the
curves and metrics.json under `--out-dir`. `fit_classifier` does both around
fit and evaluate for the book's classifiers.
"""
import shutil
import time

import keras
import numpy as np

from lib import outputs, plots


class EpochTimer(keras.callbacks.Callback):
    """Record the wall-clock seconds of each epoch."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


def describe_model(model, args):
    """Print the model's summary (the book shows it) and, with --plot-model, write model.png."""
    model.summary()
    if args.plot_model:
        plots.model_diagram(model, args.out_dir / "model.png")


def fit_callbacks(args):
    """Callbacks for model.fit: BackupAndRestore in out_dir/backup, CSVLogger to
    out_dir/history.csv (appended to when resuming), TerminateOnNaN, EpochTimer."""
    backup_dir = args.out_dir / "backup"
    if args.resume and not backup_dir.exists():
        print(f"nothing to resume in {backup_dir}; starting from the first epoch")
    elif args.resume:
        print(f"resuming the interrupted run saved in {backup_dir}")
    elif backup_dir.exists():
        print(f"an interrupted run was found in {backup_dir}; starting over "
              f"(pass --resume to continue it instead)")
        shutil.rmtree(backup_dir)
    resuming = args.resume and backup_dir.exists()
    return [
        keras.callbacks.BackupAndRestore(str(backup_dir), double_checkpoint=True),
        keras.callbacks.CSVLogger(str(args.out_dir / "history.csv"), append=resuming),
        keras.callbacks.TerminateOnNaN(),
        EpochTimer(),
    ]


def save_results(model, args, weights_name, metrics, callbacks):
    """Save `weights_name`.weights.h5, curves.png from history.csv and metrics.json
    (the given metrics plus the median seconds per epoch of this process's epochs)."""
    outputs.save_weights(model, args.out_dir / f"{weights_name}.weights.h5")
    plots.training_curves(plots.read_history_csv(args.out_dir / "history.csv"),
                          args.out_dir / "curves.png")
    timer = next(callback for callback in callbacks if isinstance(callback, EpochTimer))
    if timer.seconds:
        metrics = {**metrics, "seconds_per_epoch": round(float(np.median(timer.seconds)), 3)}
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"Saved weights, curves.png and metrics.json in {args.out_dir}")
    return metrics


def fit_classifier(model, args, train_batches, test_batches, dataset, weights_name, **details):
    """Fit a compiled classifier (validating on the test set each epoch, as the book's
    chapter 2 does), print the book's "Test accuracy" line and save the run's results.
    Returns the metrics written to metrics.json; `details` are added to them."""
    callbacks = fit_callbacks(args)
    model.fit(train_batches, epochs=args.epochs, validation_data=test_batches,
              callbacks=callbacks)
    loss, accuracy = model.evaluate(test_batches, verbose=0)
    print(f"\nTest accuracy: {100.0 * accuracy:.1f}%")
    return save_results(model, args, weights_name, {
        "dataset": dataset.name,
        "train_examples": len(dataset.x_train),
        "params": model.count_params(),
        **details,
        "test_loss": loss,
        "test_accuracy": accuracy,
    }, callbacks)
