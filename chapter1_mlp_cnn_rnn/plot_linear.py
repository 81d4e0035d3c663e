"""y = 2x + 3 with and without noise on x (book section 1.1.1, plot-linear-1.1.1.py).

x runs from -1 to 0.8 in steps of 0.2; the second curve shifts each x by noise
drawn uniformly from [-0.2, 0.2] while y stays on the line: the kind of data
that linear_model.py (section 1.2.1) fits.

Run:   python3 chapter1_mlp_cnn_rnn/plot_linear.py
Expect: linear_regression.png, a straight line of circles and a jagged line of
squares beside it.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

from matplotlib.figure import Figure

from lib import cli, data, outputs, plots


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], trains=False, has_model=False)
    parser.add_argument("--noise", type=cli.float_between(0, 1, low_included=False),
                        default=0.2,
                        help="half-width of the uniform noise added to x, at most 1 (as wide "
                             "as the x the points span) (default: %(default)s, the book's)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)

    # The book's points: 10 values of x, the line through them, and x shifted by noise.
    x, y, noisy_x = data.book_line(args.noise, args.seed)

    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    axis.plot(x, y, "o-", label="y")
    axis.plot(noisy_x, y, "s-", label="y with noised x")
    axis.set_xlabel("x")
    axis.set_ylabel("y=f(x)")
    axis.legend(loc="best")
    axis.grid(True)
    plot_path = args.out_dir / "linear_regression.png"
    plots.save_figure(figure, plot_path)

    metrics = {"x": x.tolist(), "y": y.tolist(), "noisy_x": noisy_x.tolist(),
               "noise": args.noise}
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"{'x':>6} {'noised x':>9} {'y':>6}")
    for row in zip(x, noisy_x, y):
        print("{:6.2f} {:9.3f} {:6.2f}".format(*row))
    print(f"Saved {plot_path.name} and metrics.json in {args.out_dir}")
    return metrics


if __name__ == "__main__":
    main()
