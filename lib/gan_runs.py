"""Running a GAN script: what lib/gan.py's models need around them to make a run.

The GAN flags (`make_parser`), the real batches a GAN trains on, the sample grid's
fixed inputs and frames, quality measurement after every save interval, the run loop
(`train`: fit, backups for --resume, saved networks, training.gif, metrics.json),
and the book's generate-only mode with a saved generator. Every GAN of chapters
4-7 runs through `train`; its docstring says what it needs of a model and a grid.
"""
import argparse
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from lib import (cli, data, gan, metrics, outputs, plots, saved_models, tensorboard_images,
                 training)

SAMPLES = 16  # the book's 4x4 sample grid
GRID_DIGITS = np.concatenate([np.arange(10), np.arange(6)])  # the book's labels for it


# Flags


def make_parser(script, description, num_labels=0):
    """The common flags with the book's GAN defaults (batch 64, 40,000 steps, a grid every
    500), the book's -g/--generator and, for a conditional generator, -d/--digit."""
    parser = cli.make_parser(script, description, datasets=data.MNIST_LIKE, batch_size=64,
                             train_steps=40000, save_interval=500)
    parser.add_argument("-g", "--generator", type=cli.existing_file, metavar="PATH",
                        help="only generate 16 images with this saved generator (.keras, or "
                             "the book's .h5)")
    if num_labels:
        parser.add_argument("-d", "--digit", type=int, choices=range(num_labels), metavar="N",
                            help="make all 16 samples the digit N (default: 0-9, 0-5)")
    add_quality_flags(parser, {"generator": f"{Path(script).stem}_generator.keras"})
    parser.modes["generate"] = cli.Mode(
        ("generator",), "only generates 16 images with a saved generator",
        {"eval_samples": None,
         "dataset": "the saved generator draws what it learned (--dataset matters with "
                    "--eval-only: the real images its numbers compare with)"})
    return parser


MAX_EVAL_SAMPLES = 100_000  # a GAN's images measured at once: about 0.3 GB of 28x28 floats


def eval_samples(text):
    """argparse type of --eval-samples: 0 (measure nothing), or 2 to MAX_EVAL_SAMPLES
    images (the Frechet distance needs a covariance, so two at least)."""
    return cli.checked_number(text, int, lambda value: value == 0 or 2 <= value <= MAX_EVAL_SAMPLES,
                              f"0, or an integer from 2 to {MAX_EVAL_SAMPLES:,}")


def add_quality_flags(parser, saved_generators):
    """--eval-samples (how many images lib/metrics.py measures; 0: none) and --eval-only
    (only measure saved generators). saved_generators: {flag's dest: the file training
    saves in --out-dir}, what --eval-only measures when those flags are not given
    (`with_saved_generators`); the parser keeps them as the default `args.saved_generators`.
    --eval-only is the parser's first mode ("measure"): it refuses the training flags, -d
    and any flag a script adds to its `unused` (a sample grid's)."""
    parser.add_argument("--eval-samples", type=eval_samples, default=2000, metavar="N",
                        help="generated (and real test) images measured after every save "
                             "interval; 0 measures nothing (default: %(default)s)")
    parser.add_argument("--eval-only", action="store_true",
                        help="only measure the saved generator(s) given, by default those "
                             "training saved in --out-dir")
    parser.set_defaults(saved_generators=saved_generators)
    parser.modes["measure"] = cli.Mode(("eval_only",), "only measures saved generators",
                                       {"digit": None})

    def eval_only_has_generators(args, given):
        if not args.eval_only:
            return
        if not args.eval_samples:
            raise cli.UserError("--eval-only measures images: give --eval-samples 2 or more")
        for dest, file_name in args.saved_generators.items():
            path = args.out_dir / file_name
            if vars(args)[dest] is None and not path.is_file():
                raise cli.UserError(f"--eval-only measures a saved generator, and there is no "
                                    f"{path}: train first or give the generator's path")

    parser.checks.append(eval_only_has_generators)


def with_saved_generators(args):
    """The flags, and with --eval-only every generator flag not given set to the file
    training saved in --out-dir (a new Namespace: `args` stays as parsed)."""
    if not args.eval_only:
        return args
    saved = {dest: vars(args)[dest] or args.out_dir / file_name
             for dest, file_name in args.saved_generators.items()}
    return argparse.Namespace(**{**vars(args), **saved})


# Data


def real_batches(images, labels=None, batch_size=64, seed=0, batches_per_step=1):
    """Endless shuffled batches of real images (with their one-hot labels when given),
    every batch full, as each GAN step expects. With batches_per_step > 1 (WGAN: one
    real batch per critic update) each step gets that many batches as images of shape
    (batch_size, batches_per_step, height, width, channels), [:, i] being the i-th, so
    that a tf.distribute strategy gives every replica its share of each."""
    if labels is not None:
        labels = np.asarray(labels, dtype="float32")  # to_categorical gives float64
    if batches_per_step > 1 and labels is not None:
        raise ValueError("batches_per_step > 1 is for unconditional GANs (WGAN)")
    dataset = tf.data.Dataset.from_tensor_slices(images if labels is None else (images, labels))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.batch(batch_size * batches_per_step, drop_remainder=True)
    if batches_per_step > 1:
        dataset = dataset.map(lambda step_images: tf.transpose(tf.reshape(
            step_images, (batches_per_step, batch_size, *images.shape[1:])), (1, 0, 2, 3, 4)))
    return data.without_autotuning(dataset.prefetch(tf.data.AUTOTUNE))


def training_batches(dataset_name, limit, batch_size, seed, num_labels=0, batches_per_step=1):
    """The real batches a GAN script trains on (`real_batches`): the dataset's training
    images in [0, 1] (the first `limit`, or all when None), with one-hot labels when
    num_labels > 0; a batch size the data cannot fill is refused first (data.check_batch_size)."""
    dataset = data.load(dataset_name, limit=limit)
    data.check_batch_size(dataset, batch_size)
    images = data.prepare(dataset.x_train, "cnn")
    labels = keras.utils.to_categorical(dataset.y_train, num_labels) if num_labels else None
    return real_batches(images, labels, batch_size, seed, batches_per_step)


# Sample grids


def fixed_inputs(seed, num_labels=0, digit=None, latent_dim=gan.LATENT_DIM):
    """The sample grid's 16 noise vectors, fixed for a whole run so that frames compare,
    and for a conditional generator one-hot labels 0-9, 0-5 as the book (all `digit`
    when given). Returns the generator's inputs and a title per sample (or None)."""
    noise = keras.random.uniform((SAMPLES, latent_dim), -1.0, 1.0, seed=seed)
    if not num_labels:
        return noise, None
    digits = GRID_DIGITS if digit is None else np.full(SAMPLES, digit)
    labels = keras.ops.convert_to_tensor(keras.utils.to_categorical(digits, num_labels))
    return [noise, labels], [f"digit {digit}" for digit in digits]


class SampleGrid(keras.callbacks.Callback):
    """Every `save_interval` steps (one Keras epoch of the GAN's fit), save a grid of the
    generator's images for the same fixed inputs, so the frames show training progress."""

    def __init__(self, generator, fixed_inputs, folder, save_interval, titles=None):
        super().__init__()
        self.generator, self.fixed_inputs = generator, fixed_inputs
        self.folder, self.save_interval, self.titles = folder, save_interval, titles

    def on_epoch_end(self, epoch, logs=None):
        self.save((epoch + 1) * self.save_interval)

    def save(self, step):
        images = keras.ops.convert_to_numpy(self.generator(self.fixed_inputs, training=False))
        plots.image_grid(images, self.folder / f"step_{step:06d}.png", titles=self.titles,
                         title=f"step {step}")


def sweep_digits(digit, num_labels=10):
    """The rows of a sweep grid: every digit, or only `digit` (-d) when given."""
    return np.arange(num_labels) if digit is None else np.array([digit])


def save_sweep(images, digits, values, path, title):
    """A sweep grid: one row per digit, one column per swept value (the first row's
    titles); returns its [rows, columns]."""
    titles = [f"{value:.2f}" for value in values] + [""] * (len(images) - len(values))
    plots.image_grid(images, path, titles=titles, columns=len(values),
                     row_labels=[f"digit {digit}" for digit in digits], title=title)
    return [len(digits), len(values)]


# Quality in numbers


def input_kinds(latent_dim=gan.LATENT_DIM, num_labels=0, num_codes=0):
    """How lib/metrics.py draws the inputs of a lib/gan.py generator: z ~ U(-1, 1), then
    one-hot labels, then codes ~ N(0, 0.5) (see metrics.generator_inputs)."""
    return ([("uniform", latent_dim)] + ([("labels", num_labels)] if num_labels else [])
            + [("normal", 1)] * num_codes)


class QualityMonitor(keras.callbacks.Callback):
    """After every save interval: measure() -> {name: number} and a row of quality.csv;
    `latest` keeps the last numbers and their `ceiling` (real images') for metrics.json."""

    def __init__(self, measure, out_dir, save_interval, ceiling=None):
        super().__init__()
        self.measure, self.out_dir, self.save_interval = measure, out_dir, save_interval
        self.latest = {"quality": None, "quality_ceiling": ceiling}

    def on_epoch_end(self, epoch, logs=None):
        self.latest["quality"] = results = self.measure()
        outputs.append_csv_row(self.out_dir / "quality.csv", {
            "step": (epoch + 1) * self.save_interval,
            **{name: value for name, value in results.items() if isinstance(value, (int, float))}})


def quality_monitor(generator, kinds, args):
    """A QualityMonitor of the generator on --dataset, --eval-samples images drawn as
    `kinds` say (input_kinds) each time; None with --eval-samples 0."""
    if not args.eval_samples:
        return None
    quality = metrics.image_quality(args.dataset, args.eval_samples)
    return QualityMonitor(lambda: metrics.measure_generator(generator, quality, kinds,
                                                            args.eval_samples),
                          args.out_dir, args.save_interval, ceiling=quality.ceiling)


def evaluate_saved(generator, paths, kinds, dataset_name, count, out_dir):
    """--eval-only: the numbers of a saved generator (loaded from `paths`) and the real
    images' ceiling, printed and written to quality.json in out_dir."""
    quality = metrics.image_quality(dataset_name, count)
    results = {"generator": [str(path) for path in paths],
               "quality": metrics.measure_generator(generator, quality, kinds, count),
               "quality_ceiling": quality.ceiling}
    outputs.write_json(out_dir / "quality.json", results)
    print(metrics.describe(results["quality"], results["quality_ceiling"]))
    return results


# The run loop


def train(model, batches, args, sample_grid, name, state, quality=None, extra_results=None):
    """The book's training loop as one `fit` of a GAN model: --train-steps steps in Keras
    epochs of --save-interval steps, the sample grid and the `quality` numbers (a
    QualityMonitor, or None) after each, the full state (every network and
    optimizer, the noise generator, the step count) backed up after each for --resume,
    which goes on with the batches the interrupted run had not reached, and with --tensorboard
    the logged numbers and the grids in --out-dir/tensorboard. Then saves each of
    `model.networks()` (generators as `name`_generator*.keras, the others' weights),
    training.gif, curves.png and metrics.json (training.save_results): the last logged
    numbers, step counts, parameter counts, quality, `extra_results` and the seconds per
    step. Returns what metrics.json holds.

    model: a compiled keras.Model whose `fit` trains every network one step per batch
    and logs each loss by name, with `networks()` (every network by name; those whose
    name starts with "generator" are saved whole, to generate with later) and
    `optimizer_steps()` (each optimizer's step count by name: WGAN's critic steps more
    often than its generator). sample_grid: a Keras callback that at the end of every
    Keras epoch writes the frame `sample_grid.folder`/step_NNNNNN.png. state: the run's
    resume.ResumeState, which the script reads (resume.prepare) before it writes anything."""
    if args.train_steps % args.save_interval:
        raise cli.UserError(f"--train-steps ({args.train_steps}) must be a multiple of "
                            f"--save-interval ({args.save_interval})")
    callbacks = training.fit_callbacks(args.out_dir, state, args.tensorboard)
    if state.epoch:  # on with the batches the interrupted run had not trained on yet
        print(f"skipping the {state.epoch * args.save_interval:,} batches trained on before")
        batches = batches.skip(state.epoch * args.save_interval)
        outputs.keep_csv_rows(args.out_dir / "quality.csv", state.epoch)
    else:  # an earlier run's frames and numbers would join this run's GIF and CSV
        for old_frame in sample_grid.folder.glob("step_*.png"):
            old_frame.unlink()
        (args.out_dir / "quality.csv").unlink(missing_ok=True)
    after_grid = [quality] if quality else []
    if args.tensorboard:  # after the grid, which writes the frame this logs
        after_grid.append(tensorboard_images.TensorBoardFrames(
            sample_grid.folder, args.out_dir / "tensorboard" / "samples", args.save_interval))
    training.check_batch_fits(args.batch_size, *model.networks().values())
    state.restore(model)
    model.fit(batches, steps_per_epoch=args.save_interval, initial_epoch=state.epoch,
              epochs=args.train_steps // args.save_interval,
              callbacks=[sample_grid, *after_grid, *callbacks])  # before the backup: none is missed

    plots.animate(sorted(sample_grid.folder.glob("step_*.png")), args.out_dir / "training.gif")
    history = outputs.read_history_csv(args.out_dir / "history.csv")
    results = {name: values[-1] for name, values in history.items()}
    results.update(steps=len(next(iter(history.values()))) * args.save_interval,
                   optimizer_steps=model.optimizer_steps(),
                   params={network_name: network.count_params()
                           for network_name, network in model.networks().items()})
    if quality:
        results.update(quality.latest)
    results.update(extra_results or {})
    networks = {f"{name}_{network_name}" + (".keras" if network_name.startswith("generator")
                                            else ".weights.h5"): network
                for network_name, network in model.networks().items()}
    saved = f"Saved the generator, the sample grids, training.gif and metrics.json in {args.out_dir}"
    if quality:
        saved += " (quality.csv: the quality numbers per save interval)"
    return training.save_results(args.out_dir, networks, results, callbacks,
                                 steps_per_epoch=args.save_interval, message=saved)


# Generating with a saved generator


def load_generator(path, kinds):
    """The saved generator in `path` (ours, .keras, or the book's .h5) of 28x28x1 images
    from inputs drawn as `kinds` say (input_kinds); a UserError for any other file."""
    return saved_models.load_generator(path, [(size,) for _, size in kinds], gan.IMAGE_SHAPE)


def generate_only(args, inputs, kinds, titles=None):
    """The book's -g: the saved generator's images for these inputs in generated.png,
    or with --eval-only its quality numbers (inputs drawn as `kinds` say)."""
    generator = load_generator(args.generator, kinds)
    if args.eval_only:
        return evaluate_saved(generator, [args.generator], kinds, args.dataset, args.eval_samples,
                              args.out_dir)
    return save_generated(generator, inputs, args.out_dir, titles)


def save_generated(generator, inputs, out_dir, titles=None):
    """The generator's images for these inputs as generated.png in out_dir."""
    images = keras.ops.convert_to_numpy(generator(inputs, training=False))
    plots.image_grid(images, out_dir / "generated.png", titles=titles)
    print(f"Saved generated.png in {out_dir}")
    return {"generated": len(images), "titles": titles}
