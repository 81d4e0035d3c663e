"""Show 10 random CIFAR-10 images of each class, one class per row (book section 2.1).

Run:   python3 chapter2_resnet_densenet/cifar10_sampler.py [--dataset fashion_mnist_rgb32]
Expect: cifar10_samples.png, a 10x10 grid with the class names on the left, and
the label counts (5,000 per class in training, 1,000 in test).
CIFAR-10 downloads once; offline, `--dataset fashion_mnist_rgb32` uses the stand-in.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import numpy as np

from lib import cli, data, outputs, plots

PER_CLASS = 10


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.CIFAR_LIKE,
                           trains=False, has_model=False)


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    dataset = data.load(args.dataset, limit=args.limit)

    # Ten random training images of each class, in class order.
    rng = np.random.default_rng(args.seed)
    counts = np.bincount(dataset.y_train, minlength=dataset.num_classes)
    if counts.min() < PER_CLASS:
        raise cli.UserError(f"class {dataset.class_names[counts.argmin()]!r} has only "
                            f"{counts.min()} training images; {PER_CLASS} are needed (raise --limit)")
    picks = np.concatenate([
        rng.choice(np.flatnonzero(dataset.y_train == label), size=PER_CLASS, replace=False)
        for label in range(dataset.num_classes)])
    grid_path = args.out_dir / "cifar10_samples.png"
    plots.image_grid(dataset.x_train[picks], grid_path, columns=PER_CLASS,
                     row_labels=dataset.class_names)

    metrics = {"dataset": dataset.name, "class_names": dataset.class_names,
               "train_label_counts": counts.tolist(), "test_examples": len(dataset.x_test),
               "sample_indices": picks.tolist()}
    print("Train label counts:", dict(zip(dataset.class_names, counts.tolist())))
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"Saved {grid_path.name} and metrics.json in {args.out_dir}")
    return metrics


if __name__ == "__main__":
    main()
