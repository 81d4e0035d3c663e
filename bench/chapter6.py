"""Benchmark: chapter 6's InfoGAN and StackedGAN trained on real offline digits, and
whether InfoGAN's inputs control what the book says they control.

1. infogan_mnist.py for --train-steps and stackedgan_mnist.py for --stackedgan-steps
   (after its 10-epoch encoder pre-training) on --dataset, grids under
   outputs/bench/chapter6/.
2. Control, measured with a separate CNN digit classifier trained on the same
   digits (its test accuracy is printed as the ceiling): for --samples noise vectors
   z and each of the 10 labels, with both codes at 0, the fraction of generated
   digits classified as the label asked for; then, sweeping code 1 (code 2) over
   linspace(-2, 2, 16) with z and the label fixed, the fraction of images whose
   class stays that of the code-0 image. The label should change the class, the
   codes should not.
Prints one JSON line per measurement. Not run by CI.

Run:   python3 bench/chapter6.py [--dataset mnist_subset] [--train-steps 1000]
       [--stackedgan-steps 500] [--gans infogan,stackedgan]
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable

import keras
import numpy as np
from keras import layers

from bench.chapter4 import bench_parser, train_gans
from chapter6_infogan_stackedgan import infogan_mnist, stackedgan_mnist
from lib import cli, data

NUM_LABELS = 10


def digit_classifier(dataset, epochs=5):
    """A small CNN trained on the dataset's training digits; returns it and its test accuracy."""
    classifier = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.3), layers.Dense(NUM_LABELS, activation="softmax")])
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    classifier.fit(data.prepare(dataset.x_train, "cnn"), dataset.y_train, epochs=epochs,
                   batch_size=64, verbose=0)
    accuracy = classifier.evaluate(data.prepare(dataset.x_test, "cnn"), dataset.y_test, verbose=0)[1]
    return classifier, accuracy


def infogan_control(generator, classifier, samples, seed):
    """Label accuracy at codes 0, and how often the class survives each code's sweep."""
    rng = np.random.default_rng(seed)
    sweep = infogan_mnist.SWEEP
    noise = rng.uniform(-1.0, 1.0, (samples, infogan_mnist.LATENT_DIM)).astype("float32")
    results = {}
    labels = np.repeat(np.arange(NUM_LABELS), samples)
    zeros = np.zeros((len(labels), 1), "float32")
    inputs = [np.tile(noise, (NUM_LABELS, 1)), keras.utils.to_categorical(labels, NUM_LABELS),
              zeros, zeros]
    base_class = np.argmax(classifier.predict(generator.predict(inputs, verbose=0), verbose=0), axis=1)
    results["label_accuracy"] = float(np.mean(base_class == labels))
    results["label_accuracy_per_class"] = [round(float(np.mean(base_class[labels == k] == k)), 3)
                                           for k in range(NUM_LABELS)]
    for code in (1, 2):
        kept = []
        for value in sweep:
            codes = [zeros, zeros]
            codes[code - 1] = np.full_like(zeros, value)
            images = generator.predict(inputs[:2] + codes, verbose=0)
            kept.append(np.argmax(classifier.predict(images, verbose=0), axis=1) == base_class)
        results[f"class_kept_sweeping_code{code}"] = float(np.mean(kept))
    return results


def main(argv=None):
    parser = bench_parser(__doc__.splitlines()[0], "infogan,stackedgan")
    parser.add_argument("--stackedgan-steps", type=cli.positive_int, default=500)
    parser.add_argument("--samples", type=cli.positive_int, default=100,
                        help="noise vectors per label for the control measurement")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    scripts = {"infogan": (infogan_mnist, args.train_steps),
               "stackedgan": (stackedgan_mnist, args.stackedgan_steps)}
    chosen = [name for name in args.gans.split(",") if name]
    train_gans([scripts[name] for name in chosen], args.dataset, args.save_interval)

    if "infogan" in chosen:
        classifier, accuracy = digit_classifier(data.load(args.dataset))
        print(json.dumps({"what": "digit_classifier", "dataset": args.dataset,
                          "test_accuracy": round(accuracy, 4)}), flush=True)
        generator = keras.models.load_model(
            cli.OUTPUTS_ROOT / "bench" / "chapter6" / f"infogan_mnist_{args.dataset}"
            / "infogan_mnist_generator.keras")
        print(json.dumps({"what": "infogan_control", "samples_per_label": args.samples,
                          **infogan_control(generator, classifier, args.samples, 0)}), flush=True)


if __name__ == "__main__":
    main()
