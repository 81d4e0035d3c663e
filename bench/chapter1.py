"""Benchmark: chapter 1's classifiers at the book's full length on the largest real data here.

Trains the MLP (20 epochs), the CNN (10) and the RNN (20) with the book's settings,
by calling each script's main(), and prints one JSON line per model: what, dataset,
epochs, seconds in all, seconds per epoch, test accuracy. Not run by CI.

Run:   python3 bench/chapter1.py [--dataset fashion_mnist|mnist_subset|mnist] [--models mlp,cnn]
Default dataset: Fashion-MNIST when its Debian package is installed, else the
5,000-digit MNIST subset. Runs write under outputs/bench/chapter1/.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable

from chapter1_mlp_cnn_rnn import cnn_mnist, mlp_mnist, rnn_mnist
from lib import cli, data, hardware

SCRIPTS = {"mlp": mlp_mnist, "cnn": cnn_mnist, "rnn": rnn_mnist}


def default_dataset():
    has_fashion = any((folder / "train-images-idx3-ubyte.gz").is_file()
                      for folder in data.FASHION_MNIST_DIRS)
    return "fashion_mnist" if has_fashion else "mnist_subset"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=data.MNIST_LIKE, default=default_dataset())
    parser.add_argument("--models", default="mlp,cnn,rnn",
                        help="comma-separated subset of mlp, cnn, rnn (default: all)")
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    results = []
    for name in args.models.split(","):
        script = SCRIPTS[name]
        out_dir = cli.OUTPUTS_ROOT / "bench" / "chapter1" / f"{script.__name__.split('.')[-1]}_{args.dataset}"
        started = time.perf_counter()
        metrics = script.main(["--dataset", args.dataset, "--out-dir", str(out_dir)])
        epochs = script.make_parser().get_default("epochs")
        result = {"what": script.__name__.split(".")[-1], "dataset": args.dataset,
                  "train_examples": metrics["train_examples"], "epochs": epochs,
                  "seconds": round(time.perf_counter() - started, 1),
                  "seconds_per_epoch": metrics["seconds_per_epoch"],
                  "test_accuracy": round(metrics["test_accuracy"], 4)}
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
