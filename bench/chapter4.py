"""Benchmark: chapter 4's GAN step against the book's own loop, then DCGAN and CGAN training.

1. Speed, in one process on the same data: milliseconds per training step of
   - the book's loop made correct on Keras 3: D compiled on its own, the adversarial
     model compiled with D frozen, and `trainable` switched on for D's
     `train_on_batch` and off for the adversarial one, with `generator.predict`
     making the fakes and NumPy sampling the batches, as the book does;
   - lib/gan.py's GAN, both updates in one compiled `train_step` run by `fit`, in
     float32 and under Keras' mixed_bfloat16 policy.
   Each is built and warmed up (--warmup-steps, tracing excluded), then they are timed
   in turn, --timed-steps each, --repetitions rounds: medians, spread, median ratios.
2. Quality: dcgan_mnist.py and cgan_mnist.py trained for --train-steps on the real
   offline digits, their sample grids under outputs/bench/chapter4/.
3. With --book-cgan-steps N: the book's CGAN loop (Listing 4.3.1) made correct on
   Keras 3 as in 1 (its D learns on fakes from `generator.predict`, G's batch
   normalization in inference mode), trained N steps with the book's hyperparameters,
   and how often its digits are the label asked for, by lib/metrics.py's classifier
   (--eval-samples images); compare with cgan_mnist.py's label accuracy after as many
   steps (train it with --gans cgan --train-steps N).
Prints one JSON line per measurement. Not run by CI.

Run:   python3 bench/chapter4.py [--dataset mnist_subset] [--train-steps 1000] [--gans dcgan,cgan]
       [--skip-speed] [--timed-steps 30 --repetitions 5]
       python3 bench/chapter4.py --skip-speed --gans cgan --train-steps 1500 --save-interval 250 \
           --book-cgan-steps 1500
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np

from chapter4_gan import cgan_mnist, dcgan_mnist
from lib import cli, data, gan, gan_runs, hardware, metrics, training

BATCH_SIZE = 64
NUM_LABELS = 10


def book_loop(images, seed):
    """The book's train_on_batch loop, made correct on Keras 3: run(steps), and a check
    of whether D learned."""
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

    def check():
        return {"book_loop_d_learned": any(not np.array_equal(old, keras.ops.convert_to_numpy(new))
                                           for old, new in zip(d_before, discriminator.weights))}

    return looping(step), check


def book_cgan(images, labels, steps, seed, log_every):
    """The book's CGAN loop (Listing 4.3.1: D reads the image and its one-hot label, fakes
    get random labels) made correct on Keras 3 like `book_loop`, trained `steps` steps;
    prints D's and the adversarial model's loss and accuracy every log_every steps.
    Returns the generator."""
    rng = np.random.default_rng(seed)
    d_optimizer, g_optimizer = gan.book_optimizers()
    discriminator = gan.build_discriminator(num_labels=NUM_LABELS)
    discriminator.compile(loss="binary_crossentropy", optimizer=d_optimizer, metrics=["accuracy"])
    generator = gan.build_generator(num_labels=NUM_LABELS)
    discriminator.trainable = False
    noise_input, label_input = keras.Input(shape=(gan.LATENT_DIM,)), keras.Input(shape=(NUM_LABELS,))
    adversarial = keras.Model([noise_input, label_input],
                              discriminator([generator([noise_input, label_input]), label_input]))
    adversarial.compile(loss="binary_crossentropy", optimizer=g_optimizer, metrics=["accuracy"])
    real_and_fake = np.concatenate([np.ones((BATCH_SIZE, 1)), np.zeros((BATCH_SIZE, 1))])

    def random_labels():
        return np.eye(NUM_LABELS)[rng.integers(0, NUM_LABELS, BATCH_SIZE)]

    for step in range(1, steps + 1):
        picks = rng.integers(0, len(images), BATCH_SIZE)
        fake_labels = random_labels()
        fake = generator.predict([rng.uniform(-1.0, 1.0, (BATCH_SIZE, gan.LATENT_DIM)), fake_labels],
                                 verbose=0)
        discriminator.trainable = True  # without this toggle D never learns on Keras 3
        d_loss, d_acc = discriminator.train_on_batch(
            [np.concatenate([images[picks], fake]), np.concatenate([labels[picks], fake_labels])],
            real_and_fake)
        discriminator.trainable = False
        g_loss, g_acc = adversarial.train_on_batch(
            [rng.uniform(-1.0, 1.0, (BATCH_SIZE, gan.LATENT_DIM)), random_labels()],
            np.ones((BATCH_SIZE, 1)))
        if step % log_every == 0:
            print(json.dumps({"what": "book_cgan_loop", "step": step, "d_loss": round(d_loss, 4),
                              "d_acc": round(d_acc, 3), "g_loss": round(g_loss, 4),
                              "g_acc": round(g_acc, 3)}), flush=True)
    return generator


def looping(step):
    """run(steps): call step() `steps` times, returning the seconds they took."""
    def run(steps):
        started = time.perf_counter()
        for _ in range(steps):
            step()
        return time.perf_counter() - started

    return run


def compiled_loop(images, seed):
    """lib/gan.py's GAN.train_step under fit, in the current dtype policy: run(steps)."""
    model = gan.GAN(gan.build_generator(), gan.build_discriminator(), seed=seed)
    model.compile(*gan.book_optimizers())
    return fitting(model, gan_runs.real_batches(images, batch_size=BATCH_SIZE, seed=seed))


def fitting(model, batches):
    """run(steps) of a compiled model's fit on these batches, returning the seconds of the
    steps themselves, and an empty check. The seconds are the epoch's, from its start to
    its end: about every other `fit` call of TensorFlow's Keras stalls for about 2 s after
    its last epoch (both cores idle, while the data iterator is torn down), which timing
    the whole call would add to the steps."""
    def run(steps):
        timer = training.EpochTimer()
        model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[timer])
        return timer.seconds[0]

    return run, dict


def in_precision(policy, build):
    """build, but with its model made under the dtype policy `policy`."""
    def build_in_policy(images, seed):
        keras.mixed_precision.set_global_policy(policy)
        try:
            return build(images, seed)
        finally:
            keras.mixed_precision.set_global_policy("float32")

    return build_in_policy


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
        parser.add_argument("--repetitions", type=cli.positive_int, default=5,
                            help="rounds of timing every contender in turn")
        parser.add_argument("--skip-speed", action="store_true", help="only train")
    return parser


def compare_speed(what, contenders, images, args, **details):
    """Time each contender's steps on the same images, in turn, --repetitions rounds of
    --timed-steps after its warm-up, so that a slow or fast spell of the machine hits
    them all; print one JSON line: each one's median, fastest and slowest milliseconds
    per step, its speed-up over the first (ratio of medians) and the contenders' checks.
    contenders: {name: build(images, seed) -> (run(steps) -> seconds, check() -> dict)}."""
    runs = {name: build(images, 0) for name, build in contenders.items()}
    for run, _ in runs.values():
        run(args.warmup_steps)
    seconds = {name: [] for name in runs}
    for _ in range(args.repetitions):
        for name, (run, _) in runs.items():
            seconds[name].append(run(args.timed_steps) / args.timed_steps)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    baseline = next(iter(medians.values()))
    print(json.dumps({"what": what, "dataset": args.dataset, **details,
                      "timed_steps": args.timed_steps, "repetitions": args.repetitions,
                      **{f"{name}_ms_per_step": {"median": round(1000 * medians[name], 1),
                                                 "min": round(1000 * min(values), 1),
                                                 "max": round(1000 * max(values), 1)}
                         for name, values in seconds.items()},
                      **{f"{name}_speedup": round(baseline / medians[name], 2)
                         for name in list(medians)[1:]},
                      **{key: value for _, check in runs.values() for key, value in check().items()}}),
          flush=True)


def main(argv=None):
    parser = bench_parser(__doc__.splitlines()[0], "dcgan,cgan", warmup_steps=5, timed_steps=30)
    parser.add_argument("--book-cgan-steps", type=cli.non_negative_int, default=0,
                        help="also train the book's CGAN loop this many steps (default: none)")
    parser.add_argument("--eval-samples", type=cli.positive_int, default=2000,
                        help="images measured of the book's CGAN loop (default: %(default)s)")
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    keras.utils.set_random_seed(0)
    images = data.prepare(data.load(args.dataset).x_train, "cnn")
    if not args.skip_speed:
        compare_speed("dcgan_step_speed", {
            "book_loop": book_loop, "compiled": compiled_loop,
            "compiled_mixed_bfloat16": in_precision("mixed_bfloat16", compiled_loop)},
            images, args, batch_size=BATCH_SIZE)

    scripts = {"dcgan": dcgan_mnist, "cgan": cgan_mnist}
    train_gans([(scripts[name], args.train_steps) for name in args.gans.split(",") if name],
               args.dataset, args.save_interval)

    if args.book_cgan_steps:
        dataset = data.load(args.dataset)
        started = time.perf_counter()
        generator = book_cgan(images, keras.utils.to_categorical(dataset.y_train, NUM_LABELS),
                              args.book_cgan_steps, seed=0, log_every=args.save_interval)
        seconds = time.perf_counter() - started
        quality = metrics.image_quality(args.dataset, args.eval_samples)
        print(json.dumps({"what": "book_cgan_loop", "dataset": args.dataset,
                          "steps": args.book_cgan_steps, "seconds": round(seconds, 1),
                          "quality": metrics.measure_generator(
                              generator, quality, gan_runs.input_kinds(num_labels=NUM_LABELS),
                              args.eval_samples),
                          "quality_ceiling": quality.ceiling}), flush=True)


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
