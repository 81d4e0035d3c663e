"""Plumbing around `model.fit` for every training script.

`fit_callbacks(out_dir, resume, tensorboard)` gives the callbacks every run uses,
the GANs' included: per-epoch backup for `--resume` (nothing is lost when a run is
interrupted), history.csv, TerminateOnNaN, an epoch timer and, with --tensorboard,
TensorBoard logs (`TensorBoardFrames` adds a GAN's sample grids to them,
`TensorBoardImages` an autoencoder's decodings). For classifiers and
autoencoders, `save_results` then writes the weights, the curves and metrics.json
in the output folder, and `fit_classifier` does both around fit and evaluate for
the book's classifiers.
"""
import time

import keras
import numpy as np
import tensorflow as tf

from lib import outputs, plots, resume


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


def step_decay(base_rate):
    """The book's ResNet/DenseNet schedule (section 2.2): base_rate, divided by 10 after
    epochs 80, 120 and 160, and halved again after 180. For LearningRateScheduler."""
    def schedule(epoch, current_rate=None):
        for after, factor in ((180, 0.5e-3), (160, 1e-3), (120, 1e-2), (80, 1e-1)):
            if epoch > after:
                return base_rate * factor
        return base_rate

    return schedule


def cifar_schedule_callbacks(base_rate, out_dir, state):
    """The book's learning-rate callbacks for ResNet and DenseNet on CIFAR-10: the step
    schedule, plus ReduceLROnPlateau by sqrt(0.1) after 5 epochs without progress.
    (The schedule sets the rate at the start of every epoch, and a plateau cut is made at
    an epoch's end, so the cut is replaced before any step trains with it, as in the
    book.) A resumed run's plateau count goes on from out_dir's history.csv (state: the
    run's resume.ResumeState)."""
    return [
        keras.callbacks.LearningRateScheduler(step_decay(base_rate)),
        ResumablePlateau(out_dir / "history.csv" if state.epoch else None,
                         factor=0.1 ** 0.5, cooldown=0, patience=5, min_lr=0.5e-6),
    ]


class ResumablePlateau(keras.callbacks.ReduceLROnPlateau):
    """ReduceLROnPlateau that first replays the epochs a resumed run's history.csv logged
    (each with the learning rate it had), so that its best value and its count of
    epochs without progress go on where the interrupted run's stopped."""

    def __init__(self, history_csv=None, **kwargs):
        super().__init__(**kwargs)
        self.history_csv = history_csv

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.history_csv is None:
            return
        restored_rate = float(self.model.optimizer.learning_rate)  # the backup's
        logged = outputs.read_history_csv(self.history_csv)
        for epoch, (value, rate) in enumerate(zip(logged.get(self.monitor, []),
                                                  logged.get("learning_rate", []))):
            self.model.optimizer.learning_rate = rate
            self.on_epoch_end(epoch, {self.monitor: value})
        self.model.optimizer.learning_rate = restored_rate


class TensorBoardImageLog(keras.callbacks.Callback):
    """A callback that writes images to TensorBoard logs in log_dir (its Images tab)."""

    def __init__(self, log_dir):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir))

    def log(self, images_by_name, step):
        """Each batch of images (N, H, W, C) under its name, at this step."""
        with self.writer.as_default():
            for name, images in images_by_name.items():
                tf.summary.image(name, images, step=step, max_outputs=len(images))
        self.writer.flush()


class TensorBoardImages(TensorBoardImageLog):
    """At the end of every epoch, the model's image outputs (rank 4: an autoencoder's
    decodings, each output by its name) for the same few inputs, and those inputs (at
    step 0, when they are images)."""

    def __init__(self, inputs, log_dir):
        super().__init__(log_dir)
        self.inputs = inputs

    def on_train_begin(self, logs=None):
        if len(self.inputs.shape) == 4:
            self.log({"inputs": self.inputs}, step=0)

    def on_epoch_end(self, epoch, logs=None):
        outputs = self.model(self.inputs, training=False)
        outputs = outputs if isinstance(outputs, dict) else {"outputs": outputs}
        self.log({name: images for name, images in outputs.items() if len(images.shape) == 4},
                 step=epoch + 1)


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


def fit_callbacks(out_dir, state, tensorboard=False):
    """Callbacks for model.fit: CSVLogger to out_dir/history.csv (appended to when
    resuming), the backup for --resume (resume.Backup, in the folder of `state`, the run's
    resume.ResumeState), TerminateOnNaN, EpochTimer, and with `tensorboard` Keras'
    TensorBoard logging every epoch's numbers to out_dir/tensorboard (section 3.3.1)."""
    return [  # the log row before the backup: a run killed between them logs the epoch again
        keras.callbacks.CSVLogger(str(out_dir / "history.csv"), append=bool(state.epoch)),
        resume.Backup(state.folder),
        keras.callbacks.TerminateOnNaN(),
        EpochTimer(),
    ] + ([keras.callbacks.TensorBoard(str(out_dir / "tensorboard"))] if tensorboard else [])


class TensorBoardFrames(TensorBoardImageLog):
    """At the end of every Keras epoch (a GAN's save interval), the frame a sample grid
    has just written, folder/step_NNNNNN.png, as the "samples" image of that step."""

    def __init__(self, folder, log_dir, steps_per_epoch):
        super().__init__(log_dir)
        self.folder, self.steps_per_epoch = folder, steps_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.steps_per_epoch
        frame = self.folder / f"step_{step:06d}.png"
        if frame.is_file():
            self.log({"samples": tf.io.decode_png(tf.io.read_file(str(frame)))[None]}, step)


def save_results(out_dir, models, metrics, callbacks, steps_per_epoch=None, message=None):
    """A run's results in out_dir, for classifiers, autoencoders and GANs alike: each of
    `models` ({file name: model}; a name ending in .keras saves the whole model, to load
    and run later, one ending in .weights.h5 its weights), curves.png from history.csv,
    and metrics.json: `metrics` plus the median seconds per epoch of this process's epochs
    (the EpochTimer among `callbacks`), or per step with `steps_per_epoch` (a GAN's
    epochs are its save intervals, and its curves count steps). Then prints `message`
    (by default, what it saved where). Returns what metrics.json holds."""
    for file_name, model in models.items():
        save = outputs.save_model if file_name.endswith(".keras") else outputs.save_weights
        save(model, out_dir / file_name)
    history = outputs.read_history_csv(out_dir / "history.csv")
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


def fit(model, args, train_batches, test_batches, extra_callbacks=(), state=None):
    """model.fit for --epochs with the standard callbacks, validating on the test set
    each epoch (as the book's chapters 2-3 do; its chapter 1 evaluates once at the
    end). Returns the callbacks, for `save_results`. XLA is as the model was compiled:
    scripts pass --jit-compile to `compile`, off unless asked (Keras would turn it on for
    any GPU).

    train_batches: data.EpochBatches; a resumed run starts at the backup's epoch, with
    that epoch's batches.
    extra_callbacks: schedules, best checkpoints and the like; they run before the
    standard ones, so what they add to an epoch's logs (the learning rate) is recorded.
    state: the run's resume.ResumeState when the caller has read it for its extra
    callbacks; else read here (resume.prepare).
    With --tensorboard, a model with image outputs also logs them for the first 8 test
    inputs every epoch."""
    state = state or resume.prepare(args.out_dir, args.resume)
    callbacks = list(extra_callbacks) + fit_callbacks(args.out_dir, state, args.tensorboard)
    if args.tensorboard and any(len(output.shape) == 4 for output in model.outputs):
        test_inputs = next(iter(test_batches))[0][:8]
        callbacks.append(TensorBoardImages(test_inputs, args.out_dir / "tensorboard" / "samples"))
    state.restore(model)
    model.fit(train_batches.from_epoch(state.epoch), steps_per_epoch=train_batches.steps_per_epoch,
              initial_epoch=state.epoch, epochs=args.epochs, validation_data=test_batches,
              callbacks=callbacks)
    return callbacks


def fit_classifier(model, args, train_batches, test_batches, dataset, weights_name,
                   extra_callbacks=(), keep_best=False, state=None, **details):
    """Fit a compiled classifier, print the book's "Test accuracy" line and save the
    run's results; keep_best also keeps the best test-accuracy weights. state: as `fit`.
    Returns the metrics written to metrics.json; `details` are added to them."""
    state = state or resume.prepare(args.out_dir, args.resume)
    extra_callbacks = list(extra_callbacks)
    if keep_best:
        best = best_checkpoint(args.out_dir, state, weights_name)
        extra_callbacks.append(best)
    callbacks = fit(model, args, train_batches, test_batches, extra_callbacks, state)
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
