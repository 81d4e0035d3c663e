"""Benchmark: a short real-data run of ResNet20v1 (book section 2.2) on the offline
CIFAR-10 stand-in, with the book's optimizer, schedule and augmentation.

Prints one JSON line: what, dataset, training examples, epochs, seconds in all,
seconds per epoch (median), seconds per training step, final and best-epoch test
accuracy and the process's peak resident memory. Not run by CI.

Run:   python3 bench/chapter2.py [--dataset fashion_mnist_rgb32|cifar10] [--limit 10000] [--epochs 3]
Runs write under outputs/bench/chapter2/.
"""
import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable

from chapter2_resnet_densenet import resnet_cifar10
from lib import cli, data, hardware


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=data.CIFAR_LIKE, default="fashion_mnist_rgb32")
    parser.add_argument("--limit", type=cli.positive_int, default=10000)
    parser.add_argument("--epochs", type=cli.positive_int, default=3)
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    out_dir = cli.OUTPUTS_ROOT / "bench" / "chapter2" / f"resnet20v1_{args.dataset}"
    started = time.perf_counter()
    metrics = resnet_cifar10.main(["--dataset", args.dataset, "--limit", str(args.limit),
                                   "--epochs", str(args.epochs), "--out-dir", str(out_dir)])
    steps_per_epoch = math.ceil(metrics["train_examples"] / 32)
    result = {"what": "resnet20v1", "dataset": args.dataset,
              "train_examples": metrics["train_examples"], "epochs": args.epochs,
              "seconds": round(time.perf_counter() - started, 1),
              "seconds_per_epoch": metrics["seconds_per_epoch"],
              "seconds_per_step": round(metrics["seconds_per_epoch"] / steps_per_epoch, 4),
              "test_accuracy": round(metrics["test_accuracy"], 4),
              "best_test_accuracy": round(metrics["best_test_accuracy"], 4),
              "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
