"""Benchmark: chapter 6's InfoGAN and StackedGAN trained on real offline digits, and
whether InfoGAN's inputs control what the book says they control.

1. infogan_mnist.py for --train-steps and stackedgan_mnist.py for --stackedgan-steps
   (after its 10-epoch encoder pre-training) on --dataset, grids under
   outputs/bench/chapter6/.
2. Control, measured with lib/metrics.py's CNN digit classifier trained on the same
   digits (its test accuracy is printed as the ceiling): for --samples noise vectors
   z and each of the 10 labels, with both codes at 0, the fraction of generated
   digits classified as the label asked for; then, sweeping code 1 (code 2) over
   linspace(-2, 2, 16) with z and the label fixed, the fraction of images whose
   class stays that of the code-0 image, overall and per code value. The label
   should change the class, the codes should not.
3. StackedGAN, with the same classifier: for --samples draws of z1 and z0 and each
   label, the fraction of chained gen1 -> gen0 digits classified as the label.
Prints one JSON line per measurement. Not run by CI.

Run:   python3 bench/chapter6.py [--dataset mnist_subset] [--train-steps 1000]
       [--stackedgan-steps 500] [--gans infogan,stackedgan] [--measure-only]
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np

from bench.chapter4 import bench_parser, train_gans
from chapter6_infogan_stackedgan import infogan_mnist, stackedgan_mnist
from lib import cli, data, hardware, metrics, stackedgan

NUM_LABELS = 10


def digit_classifier(dataset):
    """lib/metrics.py's classifier of the dataset's digits (trained once, cached) and its
    test accuracy."""
    classifier = metrics.cached_classifier(dataset.name, data.prepare(dataset.x_train, "cnn"),
                                           dataset.y_train, NUM_LABELS)
    predicted = classifier.predict(data.prepare(dataset.x_test, "cnn"), verbose=0)
    return classifier, float(np.mean(np.argmax(predicted, axis=1) == dataset.y_test))


def label_accuracies(predicted, labels):
    """lib/metrics.py's label accuracy, overall and per class (rounded for printing)."""
    overall, per_class = metrics.label_accuracy(predicted, labels, NUM_LABELS)
    return {"label_accuracy": overall,
            "label_accuracy_per_class": [round(accuracy, 3) for accuracy in per_class]}


def infogan_control(generator, classifier, samples, seed):
    """Label accuracy at codes 0, and how often the class survives each code's sweep."""
    rng = np.random.default_rng(seed)
    sweep = infogan_mnist.SWEEP
    noise = rng.uniform(-1.0, 1.0, (samples, infogan_mnist.LATENT_DIM)).astype("float32")
    labels = np.repeat(np.arange(NUM_LABELS), samples)
    zeros = np.zeros((len(labels), 1), "float32")
    inputs = [np.tile(noise, (NUM_LABELS, 1)), keras.utils.to_categorical(labels, NUM_LABELS),
              zeros, zeros]
    base_class = np.argmax(classifier.predict(generator.predict(inputs, verbose=0), verbose=0), axis=1)
    results = label_accuracies(base_class, labels)
    for code in (1, 2):
        kept = []
        for value in sweep:
            codes = [zeros, zeros]
            codes[code - 1] = np.full_like(zeros, value)
            images = generator.predict(inputs[:2] + codes, verbose=0)
            kept.append(np.argmax(classifier.predict(images, verbose=0), axis=1) == base_class)
        results[f"class_kept_sweeping_code{code}"] = float(np.mean(kept))
        results[f"class_kept_per_code{code}_value"] = {
            f"{value:+.2f}": round(float(np.mean(kept_at_value)), 3)
            for value, kept_at_value in zip(sweep, kept)}
    return results


def stackedgan_control(generator0, generator1, classifier, samples, seed):
    """How often the chained generators draw the digit their label asks for."""
    generator = stackedgan_mnist.stacked_generator(generator0, generator1)
    labels = np.repeat(np.arange(NUM_LABELS), samples)
    z1, z0 = (keras.random.normal((len(labels), stackedgan.Z_DIM), stddev=stackedgan.Z_STDDEV,
                                  seed=seed + level) for level in (1, 0))
    images = generator.predict([keras.utils.to_categorical(labels, NUM_LABELS), z1, z0], verbose=0)
    predicted = np.argmax(classifier.predict(images, verbose=0), axis=1)
    return label_accuracies(predicted, labels)


def main(argv=None):
    parser = bench_parser(__doc__.splitlines()[0], "infogan,stackedgan")
    parser.add_argument("--stackedgan-steps", type=cli.positive_int, default=500)
    parser.add_argument("--samples", type=cli.positive_int, default=100,
                        help="noise vectors per label for the control measurements")
    parser.add_argument("--measure-only", action="store_true",
                        help="skip training: measure the generators an earlier run saved")
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    keras.utils.set_random_seed(0)
    scripts = {"infogan": (infogan_mnist, args.train_steps),
               "stackedgan": (stackedgan_mnist, args.stackedgan_steps)}
    chosen = [name for name in args.gans.split(",") if name]
    if not args.measure_only:
        train_gans([scripts[name] for name in chosen], args.dataset, args.save_interval)

    classifier, accuracy = digit_classifier(data.load(args.dataset))
    print(json.dumps({"what": "digit_classifier", "dataset": args.dataset,
                      "test_accuracy": round(accuracy, 4)}), flush=True)
    saved = cli.OUTPUTS_ROOT / "bench" / "chapter6"
    if "infogan" in chosen:
        generator = keras.models.load_model(
            saved / f"infogan_mnist_{args.dataset}" / "infogan_mnist_generator.keras")
        print(json.dumps({"what": "infogan_control", "samples_per_label": args.samples,
                          **infogan_control(generator, classifier, args.samples, 0)}), flush=True)
    if "stackedgan" in chosen:
        generator0, generator1 = (keras.models.load_model(
            saved / f"stackedgan_mnist_{args.dataset}" / f"stackedgan_mnist_generator{level}.keras")
            for level in (0, 1))
        print(json.dumps({"what": "stackedgan_control", "samples_per_label": args.samples,
                          **stackedgan_control(generator0, generator1, classifier, args.samples,
                                               0)}), flush=True)


if __name__ == "__main__":
    main()
