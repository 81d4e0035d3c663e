"""Benchmark: chapter 4's GAN step against the book's own loop, then DCGAN and CGAN training.

1. Speed, in one process on the same data: milliseconds per training step of
   - the book's loop made correct on Keras 3: D compiled on its own, the adversarial
     model compiled with D frozen, and `trainable` switched on for D's
     `train_on_batch` and off for the adversarial one, with `generator.predict`
     making the fakes and NumPy sampling the batches, as the book does;
   - lib/gan.py's GAN, both updates in one compiled `train_step` run by `fit`.
   Each is timed over --timed-steps after --warmup-steps (tracing excluded).
2. Quality: dcgan_mnist.py and cgan_mnist.py trained for --train-steps on the real
   offline digits, their sample grids under outputs/bench/chapter4/.
Prints one JSON line per measurement. Not run by CI.

Run:   python3 bench/chapter4.py [--dataset mnist_subset] [--train-steps 1000] [--gans dcgan,cgan]
       [--skip-speed]
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
import lib  # noqa: F401  before Keras: lib holds TensorFlow's start-up notices back

import keras
import numpy as np

from chapter4_gan import cgan_mnist, dcgan_mnist
from lib import cli, data, gan, gan_runs

BATCH_SIZE = 64


def book_loop_step_seconds(images, warmup, timed, seed):
    """Seconds per step of the book's train_on_batch loop, made correct on Keras 3, and
    whether D learned."""
    rng = np.random.default_rng(seed)
    d_optimizer, g_optimizer = gan.book_optimizers()
    discriminator = gan.build_discriminator()
    discriminator.compile(loss="binary_crossentropy", optimizer=d_optimizer, metrics=["accuracy"])
    generator = gan.build_generator()
    discriminator.trainable = False
    noise_input = keras.Input(shape=(gan.LATENT_DIM,))
    adversarial = keras.Model(noise_input, discriminator(generator(noise_input)))
    adversarial.compile(loss="binary_crossentropy", optimizer=g_optimizer, metrics=["accuracy"])
    real_and_fake = np.concatenate([np.ones((BATCH_SIZE, 1)), np.zeros((BATCH_SIZE, 1))])
    d_before = [keras.ops.convert_to_numpy(weight) for weight in discriminator.weights]

    def step():
        real = images[rng.integers(0, len(images), BATCH_SIZE)]
        noise = rng.uniform(-1.0, 1.0, (BATCH_SIZE, gan.LATENT_DIM))
        fake = generator.predict(noise, verbose=0)
        discriminator.trainable = True  # without this toggle D never learns on Keras 3
        discriminator.train_on_batch(np.concatenate([real, fake]), real_and_fake)
        discriminator.trainable = False
        noise = rng.uniform(-1.0, 1.0, (BATCH_SIZE, gan.LATENT_DIM))
        adversarial.train_on_batch(noise, np.ones((BATCH_SIZE, 1)))

    for _ in range(warmup):
        step()
    started = time.perf_counter()
    for _ in range(timed):
        step()
    seconds = (time.perf_counter() - started) / timed
    d_learned = any(not np.array_equal(old, keras.ops.convert_to_numpy(new))
                    for old, new in zip(d_before, discriminator.weights))
    return seconds, {"book_loop_d_learned": d_learned}


def compiled_step_seconds(images, warmup, timed, seed):
    """Seconds per step of lib/gan.py's GAN.train_step under fit."""
    model = gan.GAN(gan.build_generator(), gan.build_discriminator(), seed=seed)
    model.compile(*gan.book_optimizers())
    batches = gan_runs.real_batches(images, batch_size=BATCH_SIZE, seed=seed)
    model.fit(batches, steps_per_epoch=warmup, epochs=1, verbose=0)
    started = time.perf_counter()
    model.fit(batches, steps_per_epoch=timed, epochs=1, verbose=0)
    return (time.perf_counter() - started) / timed


def bench_parser(description, gans, warmup_steps=None, timed_steps=None):
    """The flags of a GAN benchmark: data, training budget, which GANs to train and,
    when the benchmark times steps, warm-up and timed steps."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", choices=data.MNIST_LIKE, default="mnist_subset")
    parser.add_argument("--train-steps", type=cli.positive_int, default=1000)
    parser.add_argument("--save-interval", type=cli.positive_int, default=100)
    parser.add_argument("--gans", default=gans,
                        help="which GANs to train, comma-separated (default: %(default)s; none: '')")
    if warmup_steps:
        parser.add_argument("--warmup-steps", type=cli.positive_int, default=warmup_steps)
        parser.add_argument("--timed-steps", type=cli.positive_int, default=timed_steps)
        parser.add_argument("--skip-speed", action="store_true", help="only train")
    return parser


def compare_speed(what, book_loop, compiled, images, args, **details):
    """Time the book's loop and the compiled step on the same images; print one JSON line
    with both, the speed-up and what the book loop's own check reported."""
    book_seconds, book_check = book_loop(images, args.warmup_steps, args.timed_steps, 0)
    compiled_seconds = compiled(images, args.warmup_steps, args.timed_steps, 0)
    print(json.dumps({"what": what, "dataset": args.dataset, **details,
                      "timed_steps": args.timed_steps,
                      "book_loop_ms_per_step": round(1000 * book_seconds, 1), **book_check,
                      "compiled_ms_per_step": round(1000 * compiled_seconds, 1),
                      "speedup": round(book_seconds / compiled_seconds, 2)}), flush=True)


def main(argv=None):
    args = bench_parser(__doc__.splitlines()[0], "dcgan,cgan", warmup_steps=5,
                        timed_steps=30).parse_args(argv)
    keras.utils.set_random_seed(0)
    images = data.prepare(data.load(args.dataset).x_train, "cnn")
    if not args.skip_speed:
        compare_speed("dcgan_step_speed", book_loop_step_seconds, compiled_step_seconds, images,
                      args, batch_size=BATCH_SIZE)

    scripts = {"dcgan": dcgan_mnist, "cgan": cgan_mnist}
    train_gans([(scripts[name], args.train_steps) for name in args.gans.split(",") if name],
               args.dataset, args.save_interval)


def train_gans(scripts_and_steps, dataset, save_interval, folder=None):
    """Run each GAN script for its number of steps on `dataset` into
    `folder`/<script>_<dataset>/ (default outputs/bench/<chapter>/), printing one JSON
    line of its final numbers; returns them, wall time included, per script name."""
    finals = {}
    for script, steps in scripts_and_steps:
        name = script.__name__.split(".")[-1]
        chapter = script.__name__.split(".")[0].split("_")[0]
        out_dir = (folder or cli.OUTPUTS_ROOT / "bench" / chapter) / f"{name}_{dataset}"
        started = time.perf_counter()
        metrics = script.main(["--dataset", dataset, "--train-steps", str(steps),
                               "--save-interval", str(save_interval), "--out-dir", str(out_dir)])
        metrics["seconds"] = round(time.perf_counter() - started, 1)
        losses = {key: round(value, 3) for key, value in metrics.items()
                  if isinstance(value, float) and key not in ("seconds_per_step", "seconds")}
        print(json.dumps({"what": name, "dataset": dataset, "steps": metrics["steps"],
                          "seconds": metrics["seconds"], "seconds_per_step": metrics["seconds_per_step"],
                          **losses, "quality": metrics["quality"],
                          "samples": str(out_dir / "samples")}), flush=True)
        finals[name] = metrics
    return finals


if __name__ == "__main__":
    main()
