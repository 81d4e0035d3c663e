"""Benchmark: how good every GAN's images are after the same short training, in numbers.

Each GAN of chapters 4-6 trains for --train-steps generator steps (batch 64, the
book's optimizers) on --dataset, the real offline MNIST subset by default, into
outputs/bench/quality/; lib/metrics.py then measures --eval-samples generated
digits with its digit classifier (trained once on the same dataset): label
accuracy (conditional generators: the fraction of digits made for class k that the
classifier reads as k), classifier score (exp of the mean KL(p(y|x) || p(y)), 10 at
most) and Frechet distance of the classifier's features to those of the real
training digits (lower is better). The real test digits' numbers are the ceiling.
CycleGAN (chapter 7) trains as long on the scikit-learn photographs' crops (gray <->
colour) and reports its cycle errors and colorization PSNR.
Prints one JSON line per GAN, then the Markdown table of docs/gan_comparison.md. Not run
by CI.

Run:   python3 bench/quality.py [--train-steps 500] [--save-interval 100]
       [--gans dcgan,cgan,wgan,lsgan,acgan,infogan,stackedgan,cyclegan]
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from bench.chapter4 import train_gans
from chapter4_gan import cgan_mnist, dcgan_mnist
from chapter5_wgan_lsgan import acgan_mnist, lsgan_mnist, wgan_mnist
from chapter6_infogan_stackedgan import infogan_mnist, stackedgan_mnist
from chapter7_cyclegan import cyclegan
from lib import cli, data, hardware

SCRIPTS = {"dcgan": dcgan_mnist, "cgan": cgan_mnist, "wgan": wgan_mnist, "lsgan": lsgan_mnist,
           "acgan": acgan_mnist, "infogan": infogan_mnist, "stackedgan": stackedgan_mnist}
FOLDER = cli.OUTPUTS_ROOT / "bench" / "quality"


def number(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"


def table(finals):
    """docs/gan_comparison.md's table: one row per GAN, then the real test digits' ceiling."""
    rows = ["| GAN | steps | wall time | label accuracy | classifier score | Frechet distance |",
            "|---|---|---|---|---|---|"]
    for name, metrics in finals.items():
        quality = metrics["quality"]
        accuracy = quality.get("label_accuracy")
        rows.append(f"| `{name}` | {metrics['steps']:,} | {metrics['seconds'] / 60:.1f} min | "
                    f"{'-' if accuracy is None else f'{100 * accuracy:.1f}%'} | "
                    f"{number(quality['classifier_score'], 2)} | {number(quality['frechet_distance'], 1)} |")
    ceiling = next(iter(finals.values()))["quality_ceiling"]
    rows.append(f"| real test digits (ceiling) | | | {100 * ceiling['label_accuracy']:.1f}% | "
                f"{ceiling['classifier_score']:.2f} | {ceiling['frechet_distance']:.1f} |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=data.MNIST_LIKE, default="mnist_subset")
    parser.add_argument("--train-steps", type=cli.positive_int, default=500)
    parser.add_argument("--save-interval", type=cli.positive_int, default=100)
    parser.add_argument("--gans", default=",".join([*SCRIPTS, "cyclegan"]))
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    keras.utils.set_random_seed(0)
    chosen = [name for name in args.gans.split(",") if name]
    finals = train_gans([(SCRIPTS[name], args.train_steps) for name in chosen if name in SCRIPTS],
                        args.dataset, args.save_interval, folder=FOLDER)
    if "cyclegan" in chosen:
        out_dir = FOLDER / "cyclegan_sample_crops"
        started = time.perf_counter()
        results = cyclegan.main(["--dataset", "sample_crops", "--train-steps", str(args.train_steps),
                                 "--save-interval", str(args.save_interval), "--out-dir", str(out_dir)])
        print(json.dumps({"what": "cyclegan", "dataset": "sample_crops", "steps": results["steps"],
                          "seconds": round(time.perf_counter() - started, 1),
                          "quality": results["quality"],
                          "quality_ceiling": results["quality_ceiling"]}), flush=True)
    if finals:
        print(table(finals))


if __name__ == "__main__":
    main()
