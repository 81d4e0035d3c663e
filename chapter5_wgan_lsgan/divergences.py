"""Why WGAN: only the Earth Mover's distance tells how far apart disjoint distributions are.
KL and JS divergences cannot (book section 5.1.1).

p is uniform on the segment x = 0, 0 <= y <= 1; q is the same segment moved to
x = theta. Computed here from samples (q is p's samples shifted) on a grid of cells:
for any theta != 0 the two share no cell, so KL(p || q) is infinite and JS(p, q)
is log 2 however close they are, while the Earth Mover's distance is |theta|,
shrinking smoothly to 0. Against an optimal discriminator the GAN loss measures
the JS divergence: it gives G no sign of getting closer; the Wasserstein loss does.

Run:   python3 chapter5_wgan_lsgan/divergences.py [--theta 0.5]
Expect: JS = 0.693 and KL = inf for every theta != 0, EMD = |theta|; divergences.png.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import numpy as np
from matplotlib.figure import Figure
from scipy import spatial, stats

from lib import cli, outputs, plots

SAMPLES = 1000
CELL = 0.01  # grid cell side for the histograms KL and JS compare
THETAS = np.round(np.linspace(-1.0, 1.0, 41), 2)


def parallel_samples(theta, rng):
    """Samples of p (x = 0) and q (x = theta), y ~ U(0, 1) shared."""
    y = rng.uniform(0.0, 1.0, SAMPLES)
    return np.stack([np.zeros(SAMPLES), y], axis=1), np.stack([np.full(SAMPLES, theta), y], axis=1)


def divergences(p_samples, q_samples):
    """KL(p || q), JS(p, q) (natural log) of the two samples' histograms on a common grid
    of CELL-sized cells, and the Earth Mover's distance between the samples."""
    edges = [np.arange(-1.0 - CELL / 2, 1.0 + CELL, CELL), np.arange(0.0, 1.0 + CELL, CELL)]
    p_histogram = np.histogram2d(*p_samples.T, bins=edges)[0].ravel()
    q_histogram = np.histogram2d(*q_samples.T, bins=edges)[0].ravel()
    # The segments only move along x and share their y values: moving each p sample
    # onto its q partner is the optimal transport plan, its cost the 1-d EMD along x.
    emd = stats.wasserstein_distance(p_samples[:, 0], q_samples[:, 0])
    return {"kl": float(stats.entropy(p_histogram, q_histogram)),
            "js": float(spatial.distance.jensenshannon(p_histogram, q_histogram) ** 2),
            "emd": float(emd)}


def plot(p_samples, q_samples, theta, table, path):
    """Left: the two distributions at one theta; right: each divergence against theta."""
    figure = Figure(figsize=(11, 4), layout="constrained")
    scatter, curves = figure.subplots(1, 2)
    scatter.scatter(*p_samples.T, s=2, label="p (x = 0)")
    scatter.scatter(*q_samples.T, s=2, label=f"q (x = theta = {theta})")
    scatter.set_xlim(-1.1, 1.1)
    scatter.set_xlabel("x")
    scatter.set_ylabel("y")
    scatter.set_title("two parallel distributions")
    scatter.legend(loc="lower left")
    curves.plot(THETAS, [row["emd"] for row in table], marker=".", label="Earth Mover's distance")
    curves.plot(THETAS, [row["js"] for row in table], "o", markersize=4, label="JS divergence")
    finite_kl = [(theta, row["kl"]) for theta, row in zip(THETAS, table) if np.isfinite(row["kl"])]
    curves.plot(*zip(*finite_kl), "s", label="KL divergence (infinite elsewhere)")
    curves.set_xlabel("theta")
    curves.set_title("distance between p and q")
    curves.legend()
    curves.grid(True, alpha=0.3)
    plots.save_figure(figure, path)


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], trains=False, has_model=False)
    parser.add_argument("--theta", type=cli.float_between(-1, 1), default=0.5,
                        help="where q lies for the scatter plot and result line, from -1 to 1 "
                             "as the plotted thetas (default: %(default)s)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    rng = np.random.default_rng(args.seed)
    table = [divergences(*parallel_samples(theta, rng)) for theta in THETAS]
    p_samples, q_samples = parallel_samples(args.theta, rng)
    chosen = divergences(p_samples, q_samples)
    print(f"theta = {args.theta}: KL = {chosen['kl']:.3f}, JS = {chosen['js']:.3f}, "
          f"EMD = {chosen['emd']:.3f}")

    plot(p_samples, q_samples, args.theta, table, args.out_dir / "divergences.png")
    metrics = {"theta": args.theta, **chosen,
               "by_theta": [{"theta": float(theta), **row} for theta, row in zip(THETAS, table)]}
    outputs.write_json(args.out_dir / "metrics.json", metrics, infinite_as_null=True)
    print(f"Saved divergences.png and metrics.json in {args.out_dir}")
    return metrics


if __name__ == "__main__":
    main()
