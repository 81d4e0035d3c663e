"""Show random training images of CycleGAN's domains (book sections 7.1.2 and 7.1.3).
CIFAR-10 in colour and in gray, and SVHN.

The colour and gray grids show the same images: gray is the book's luminance,
0.299 R + 0.587 G + 0.114 B, the source domain of the colorization task. (The
book's samplers draw one image; the figure shows several: here 100 by default.)

Run:   python3 chapter7_cyclegan/domain_sampler.py [--dataset svhn] [--count 36]
Expect: cifar10_color_samples.png and cifar10_gray_samples.png (or svhn_samples.png).
CIFAR-10 and SVHN download once; offline, `--dataset sample_crops` uses 32x32 crops of
the two colour photographs shipped with scikit-learn.
"""
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import numpy as np

from lib import cli, data, outputs, plots


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0],
                             datasets=("cifar10", "svhn", "sample_crops"), trains=False,
                             has_model=False)
    parser.add_argument("--count", type=cli.positive_int, default=100, metavar="N",
                        help="random training images in each grid (default: %(default)s)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    dataset = data.load(args.dataset, limit=args.limit)
    if args.count > len(dataset.x_train):
        raise cli.UserError(f"--count {args.count} is more than the {len(dataset.x_train)} "
                            f"training images")

    # The same random training images in each grid.
    picks = np.random.default_rng(args.seed).choice(len(dataset.x_train), args.count, replace=False)
    colour = data.prepare(dataset.x_train[picks], "cnn")
    if args.dataset == "svhn":
        grids = {"svhn_samples.png": colour}
    else:  # CIFAR-10 (or its offline stand-in) in both domains of the colorization task
        grids = {"cifar10_color_samples.png": colour, "cifar10_gray_samples.png": data.to_gray(colour)}
    columns = math.ceil(math.sqrt(args.count))
    for file_name, images in grids.items():
        plots.image_grid(images, args.out_dir / file_name, columns=columns)

    metrics = {"dataset": dataset.name, "sample_indices": picks.tolist(), "figures": sorted(grids)}
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"Saved {', '.join(sorted(grids))} and metrics.json in {args.out_dir}")
    return metrics


if __name__ == "__main__":
    main()
