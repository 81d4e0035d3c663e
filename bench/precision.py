"""Benchmark: training step time in float32 against Keras' mixed_bfloat16 policy, and what
that precision does to what the DCGAN and CGAN learn.

1. Speed: the MLP, CNN (chapter 1), ResNet20 (chapter 2), DCGAN, CGAN (chapter 4) and
   CycleGAN (chapter 7), each built once per precision, then their compiled training
   steps timed in alternation (--repetitions rounds, each --timed-steps steps of every
   model in every precision, after --warmup-steps) on one fixed batch of random data of
   the book's shapes and batch sizes, so no input pipeline takes part. Reports the
   median and the spread of milliseconds per step and the median ratio.
2. Quality: dcgan_mnist.py and cgan_mnist.py trained --train-steps in each precision
   with two seeds, measured by lib/metrics.py (label accuracy, classifier score,
   Frechet distance; the real test digits' numbers beside them), so the seed-to-seed
   spread is visible next to the precision's effect.
Prints one JSON line per measurement. Not run by CI.

Run:   python3 bench/precision.py [--models mlp,cnn,resnet20,dcgan,cgan,cyclegan]
       [--precisions float32,mixed_bfloat16] [--train-steps 300] [--skip-quality]
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
import tensorflow as tf

from chapter1_mlp_cnn_rnn import cnn_mnist, mlp_mnist
from chapter4_gan import cgan_mnist, dcgan_mnist
from lib import cli, cyclegan, gan, hardware, resnet, training


def fixed_batches(*arrays):
    """The same batch for ever: the step's own cost, without an input pipeline."""
    return tf.data.Dataset.from_tensors(tuple(arrays) if len(arrays) > 1 else arrays[0]).repeat()


def one_hot(count, rng, classes=10):
    return np.eye(classes, dtype="float32")[rng.integers(0, classes, count)]


def classifier(model, batch_size, rng):
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    images = rng.uniform(size=(batch_size, *model.input_shape[1:])).astype("float32")
    return model, fixed_batches(images, one_hot(batch_size, rng))


def build(name, rng):
    """The model `name` in the current dtype policy, compiled as its script does, and an
    endless dataset of one batch of the book's batch size."""
    if name == "mlp":  # batch 128, the book's
        return classifier(mlp_mnist.build_mlp(), 128, rng)
    if name == "cnn":
        return classifier(cnn_mnist.build_cnn(), 128, rng)
    if name == "resnet20":  # batch 32, the book's
        return classifier(resnet.resnet((32, 32, 3), 20), 32, rng)
    images = rng.uniform(size=(64, 28, 28, 1)).astype("float32")
    if name == "dcgan":
        model = gan.GAN(gan.build_generator(), gan.build_discriminator())
        model.compile(*gan.book_optimizers())
        return model, fixed_batches(images)
    if name == "cgan":
        model = gan.GAN(gan.build_generator(num_labels=10), gan.build_discriminator(num_labels=10),
                        num_labels=10, labels_into_discriminator=True)
        model.compile(*gan.book_optimizers())
        return model, fixed_batches(images, one_hot(64, rng))
    if name == "cyclegan":  # gray <-> colour, batch 32
        model = cyclegan.CycleGAN(cyclegan.build_networks((32, 32, 1), (32, 32, 3)))
        model.compile(cyclegan.book_optimizers())
        return model, fixed_batches(rng.uniform(size=(32, 32, 32, 1)).astype("float32"),
                                    rng.uniform(size=(32, 32, 32, 3)).astype("float32"))
    raise ValueError(f"unknown model {name!r}")


def fit_seconds(model, batches, steps):
    """Seconds per step of `steps` steps of fit: the epoch's own time, not the whole call's
    (bench/chapter4.py's `fitting` says why)."""
    timer = training.EpochTimer()
    model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[timer])
    return timer.seconds[0] / steps


def compare_step_times(name, precisions, args):
    """Build `name` in each precision, warm each up, then time them in alternation."""
    rng = np.random.default_rng(0)
    runs = {}
    for precision in precisions:
        keras.mixed_precision.set_global_policy(precision)
        runs[precision] = build(name, rng)
        fit_seconds(*runs[precision], args.warmup_steps)  # tracing and first steps excluded
    keras.mixed_precision.set_global_policy("float32")
    seconds = {precision: [] for precision in precisions}
    for _ in range(args.repetitions):
        for precision, (model, batches) in runs.items():
            seconds[precision].append(fit_seconds(model, batches, args.timed_steps))
    medians = {precision: statistics.median(values) for precision, values in seconds.items()}
    print(json.dumps({
        "what": f"{name}_step_ms", "timed_steps": args.timed_steps,
        "repetitions": args.repetitions,
        **{precision: {"median": round(1000 * medians[precision], 1),
                       "min": round(1000 * min(values), 1), "max": round(1000 * max(values), 1)}
           for precision, values in seconds.items()},
        **{f"speedup_{precision}": round(medians[precisions[0]] / medians[precision], 2)
           for precision in precisions[1:]}}), flush=True)


def compare_quality(precisions, args):
    """DCGAN and CGAN trained for --train-steps in each precision with seeds 0 and 1."""
    for script in (dcgan_mnist, cgan_mnist):
        name = script.__name__.split(".")[-1]
        for precision in precisions:
            for seed in (0, 1):
                out_dir = cli.OUTPUTS_ROOT / "bench" / "precision" / f"{name}_{precision}_seed{seed}"
                started = time.perf_counter()
                results = script.main(["--dataset", args.dataset, "--train-steps",
                                       str(args.train_steps), "--save-interval",
                                       str(args.train_steps), "--seed", str(seed),
                                       "--precision", precision, "--out-dir", str(out_dir)])
                numbers = ("label_accuracy", "classifier_score", "frechet_distance")
                print(json.dumps({
                    "what": name, "precision": precision, "seed": seed,
                    "steps": results["steps"], "seconds": round(time.perf_counter() - started, 1),
                    **{key: round(results["quality"][key], 3) for key in numbers
                       if key in results["quality"]},
                    "real": {key: round(results["quality_ceiling"][key], 3) for key in numbers}}),
                    flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,cnn,resnet20,dcgan,cgan,cyclegan")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16",
                        help="the first is the baseline of the speed-up")
    parser.add_argument("--warmup-steps", type=cli.positive_int, default=5)
    parser.add_argument("--timed-steps", type=cli.positive_int, default=10)
    parser.add_argument("--repetitions", type=cli.positive_int, default=5)
    parser.add_argument("--dataset", default="mnist_subset")
    parser.add_argument("--train-steps", type=cli.positive_int, default=300)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    precisions = args.precisions.split(",")
    keras.utils.set_random_seed(0)
    for name in filter(None, args.models.split(",")):
        compare_step_times(name, precisions, args)
    if not args.skip_quality:
        compare_quality(precisions, args)


if __name__ == "__main__":
    main()
