"""Gradient descent finds the minima of two functions (book sections 1.5.3 and 1.5.4).

x <- x - learning_rate * dy/dx, repeated. On y = x^2 - x - 1 every start reaches
the one minimum x = 0.5. On y = x^4 - 0.2x^3 - 5x^2 + 4 the start decides which
of the two minima, x = -1.51 or x = 1.66, it reaches: gradient descent finds a
local minimum, not necessarily the global one.

Run:   python3 chapter1_mlp_cnn_rnn/gradient_descent.py
Expect: minima 0.50; -1.51 and 1.66, and one plot per function of the path taken.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable

import numpy as np
from matplotlib.figure import Figure

from lib import cli, outputs, plots

# name: (formula, function, its derivative, starting points, learning rate, x range to draw)
PROBLEMS = {
    "quadratic": ("y = x^2 - x - 1", lambda x: x**2 - x - 1, lambda x: 2 * x - 1,
                  (-1.5,), 0.1, (-2.0, 3.0)),
    "quartic": ("y = x^4 - 0.2x^3 - 5x^2 + 4", lambda x: x**4 - 0.2 * x**3 - 5 * x**2 + 4,
                lambda x: 4 * x**3 - 0.6 * x**2 - 10 * x, (-2.5, 2.5), 0.01, (-2.7, 2.7)),
}


def gradient_descent(derivative, start, learning_rate, steps):
    """Every x visited, from `start` through `steps` updates x -= learning_rate * dy/dx."""
    path = [start]
    for _ in range(steps):
        path.append(path[-1] - learning_rate * derivative(path[-1]))
    return np.array(path)


def plot_descent(function, paths, x_range, title, path):
    """The function's curve with each descent's visited points and where it ended."""
    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    grid = np.linspace(*x_range, 400)
    axis.plot(grid, function(grid), color="black", linewidth=1)
    for visited in paths:
        axis.plot(visited, function(visited), "o-", markersize=3, alpha=0.7,
                  label=f"start {visited[0]:.2f} -> minimum at x = {visited[-1]:.2f}")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_title(title)
    axis.legend()
    plots.save_figure(figure, path)


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], trains=False, has_model=False)
    parser.add_argument("--steps", type=cli.positive_int, default=100,
                        help="gradient-descent updates from each start (default: %(default)s)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    metrics = {}
    for name, (formula, function, derivative, starts, learning_rate, x_range) in PROBLEMS.items():
        paths = [gradient_descent(derivative, start, learning_rate, args.steps) for start in starts]
        minima = [round(float(visited[-1]), 4) for visited in paths]
        print(f"{formula}: starts {list(starts)} -> minima at x = {minima}")
        plot_descent(function, paths, x_range, f"{formula}, learning rate {learning_rate}",
                     args.out_dir / f"gradient_descent_{name}.png")
        metrics[name] = {"starts": list(starts), "learning_rate": learning_rate, "minima": minima}
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"Saved the plots and metrics.json in {args.out_dir}")
    return metrics


if __name__ == "__main__":
    main()
