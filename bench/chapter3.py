"""Benchmark: chapter 3's autoencoders on the largest real offline data, each after the
same short budget of epochs, with the reconstruction error as MSE and PSNR.

The MNIST autoencoders train on Fashion-MNIST when its Debian package is installed
(60,000 images), else on the 4,000-digit MNIST subset; the colorization
autoencoder trains on the scikit-learn photograph crops for the book's 30 epochs.
Prints one JSON line per script. Not run by CI.

Run:   python3 bench/chapter3.py [--dataset fashion_mnist|mnist_subset] [--epochs 2]
Runs (and their figures) write under outputs/bench/chapter3/.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable

from bench.chapter1 import default_dataset
from chapter3_autoencoders import (autoencoder_2dim_mnist, autoencoder_mnist,
                                   classifier_autoencoder_mnist,
                                   colorization_autoencoder_cifar10, denoising_autoencoder_mnist)
from lib import cli, data, hardware

MNIST_SCRIPTS = (autoencoder_mnist, autoencoder_2dim_mnist, denoising_autoencoder_mnist,
                 classifier_autoencoder_mnist)
QUALITY_KEYS = ("test_mse", "test_psnr_db", "denoised_mse", "denoised_psnr_db", "corrupted_mse",
                "corrupted_psnr_db", "test_accuracy", "gray_psnr_db")


def run(script, dataset, epochs):
    name = script.__name__.split(".")[-1]
    out_dir = cli.OUTPUTS_ROOT / "bench" / "chapter3" / f"{name}_{dataset}"
    started = time.perf_counter()
    results = script.main(["--dataset", dataset, "--epochs", str(epochs), "--out-dir", str(out_dir)])
    line = {"what": name, "dataset": dataset, "train_examples": results["train_examples"],
            "epochs": epochs, "seconds": round(time.perf_counter() - started, 1),
            "seconds_per_epoch": results["seconds_per_epoch"]}
    line.update({key: round(results[key], 4) for key in QUALITY_KEYS if key in results})
    if "test_mse" in results and "test_psnr_db" not in results:
        line["test_psnr_db"] = round(10 * math.log10(1 / results["test_mse"]), 2)
    print(json.dumps(line), flush=True)
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=data.MNIST_LIKE, default=default_dataset())
    parser.add_argument("--epochs", type=cli.positive_int, default=2,
                        help="epochs for each MNIST autoencoder (default: %(default)s)")
    parser.add_argument("--colorization-epochs", type=cli.positive_int, default=30)
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    lines = [run(script, args.dataset, args.epochs) for script in MNIST_SCRIPTS]
    lines.append(run(colorization_autoencoder_cifar10, "sample_crops", args.colorization_epochs))
    return lines


if __name__ == "__main__":
    main()
