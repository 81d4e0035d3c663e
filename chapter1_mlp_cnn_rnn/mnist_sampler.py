"""Count the MNIST labels and show 25 random digits (book section 1.3.1, Listing 1.3.1).

Run:   python3 chapter1_mlp_cnn_rnn/mnist_sampler.py [--dataset fashion_mnist]
Expect (full MNIST): train labels {0: 5923, 1: 6742, ...}, test labels
{0: 980, 1: 1135, ...}, and mnist_samples.png, a 5x5 grid of random digits.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import numpy as np

from lib import cli, data, outputs, plots


def label_counts(labels):
    """{label: how many times it occurs}, in label order."""
    values, counts = np.unique(labels, return_counts=True)
    return {int(value): int(count) for value, count in zip(values, counts)}


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                           trains=False, has_model=False)


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    dataset = data.load(args.dataset, limit=args.limit)

    # How many examples of each label: MNIST is close to balanced.
    train_counts, test_counts = label_counts(dataset.y_train), label_counts(dataset.y_test)
    print("Train labels:", train_counts)
    print("Test labels: ", test_counts)

    # 25 random training images with their labels, seeded by --seed.
    picks = np.random.default_rng(args.seed).choice(len(dataset.x_train), size=25, replace=False)
    grid_path = args.out_dir / "mnist_samples.png"
    plots.image_grid(dataset.x_train[picks], grid_path, titles=dataset.y_train[picks], columns=5)

    metrics = {"dataset": dataset.name, "train_label_counts": train_counts,
               "test_label_counts": test_counts, "sample_indices": picks.tolist()}
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"Saved {grid_path.name} and metrics.json in {args.out_dir}")
    return metrics


if __name__ == "__main__":
    main()
