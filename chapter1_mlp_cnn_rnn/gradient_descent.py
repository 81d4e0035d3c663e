"""Two functions, their derivatives and gradient descent to the minima (book sections 1.5.3, 1.5.4).

As the book's sgd-1.5.3.py and sgd-2-min-1.5.4.py do, each plot draws y and dy/dx
over the book's x range: y = x^2 - x - 1 on [-1, 2], whose derivative 2x - 1 is
zero at its one minimum x = 0.5, and y = x^4 - 0.2x^3 - 5x^2 + 4 on [-2.5, 2.5],
whose derivative is zero at two minima, x = -1.51 and x = 1.66 (and at the maximum
x = 0 between them). On y the plots add the path of gradient descent,
x <- x - learning_rate * dy/dx repeated: on the quartic the start decides which
minimum it reaches, a local minimum and not necessarily the global one.

Run:   python3 chapter1_mlp_cnn_rnn/gradient_descent.py
Expect: minima 0.50; -1.51 and 1.66, found by descent and by dy/dx = 0 alike, and
one plot per function.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import numpy as np
from matplotlib.figure import Figure

from lib import cli, outputs, plots

# name: (formula, its derivative, polynomial coefficients highest power first as the
# book's np.polyval takes them, the book's x range, descent starts, learning rate)
PROBLEMS = {
    "quadratic": ("y = x^2 - x - 1", "dy/dx = 2x - 1", (1, -1, -1), (-1.0, 2.0),
                  (-1.0,), 0.1),
    "quartic": ("y = x^4 - 0.2x^3 - 5x^2 + 4", "dy/dx = 4x^3 - 0.6x^2 - 10x",
                (1, -0.2, -5, 0, 4), (-2.5, 2.5), (-2.5, 2.5), 0.01),
}


def gradient_descent(derivative, start, learning_rate, steps):
    """Every x visited, from `start` through `steps` updates x -= learning_rate * dy/dx
    (`derivative`: its polynomial coefficients)."""
    path = [start]
    for _ in range(steps):
        path.append(path[-1] - learning_rate * np.polyval(derivative, path[-1]))
    return np.array(path)


def minima_where_derivative_is_zero(coefficients):
    """The real x where dy/dx = 0 and d2y/dx2 > 0, in increasing order."""
    derivative = np.polyder(coefficients)
    roots = np.roots(derivative)
    real = roots[np.abs(roots.imag) < 1e-9].real
    return sorted(float(x) for x in real if np.polyval(np.polyder(derivative), x) > 0)


def plot_function_and_derivative(formula, derivative_formula, coefficients, x_range,
                                 paths, minima, title, path):
    """The book's plot, y and dy/dx over its x range, with each descent path drawn on y."""
    grid = np.linspace(*x_range, 301)
    derivative = np.polyder(coefficients)
    figure = Figure(figsize=(6.5, 4.5))
    axis = figure.subplots()
    axis.plot(grid, np.polyval(coefficients, grid), color="black", label=f"${formula}$")
    where = " and ".join(f"{x:.2f}" for x in minima)
    axis.plot(grid, np.polyval(derivative, grid), "--", color="gray",
              label=f"${derivative_formula}$, $y_{{min}}$ at x = {where}")
    axis.axhline(0, color="gray", linewidth=0.5)
    for visited in paths:
        axis.plot(visited, np.polyval(coefficients, visited), "o-", markersize=3, alpha=0.7,
                  label=f"descent from {visited[0]:.2f} to x = {visited[-1]:.2f}")
    axis.set_xlabel("x")
    axis.set_ylabel("y and dy/dx")
    axis.set_title(title)
    axis.legend(loc="best", fontsize=8)
    axis.grid(True, alpha=0.3)
    plots.save_figure(figure, path)


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], trains=False, has_model=False)
    parser.add_argument("--steps", type=cli.int_between(1, 1_000_000), default=100,
                        help="gradient-descent updates from each start (default: %(default)s)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    metrics = {}
    for name, (formula, derivative_formula, coefficients, x_range, starts,
               learning_rate) in PROBLEMS.items():
        exact = [round(x, 4) for x in minima_where_derivative_is_zero(coefficients)]
        paths = [gradient_descent(np.polyder(coefficients), start, learning_rate, args.steps)
                 for start in starts]
        found = [round(float(visited[-1]), 4) for visited in paths]
        print(f"{formula}: {derivative_formula} is 0 at the minima x = {exact}; "
              f"descent from {list(starts)} reaches x = {found}")
        title = f"gradient descent, learning rate {learning_rate}"
        plot_function_and_derivative(formula, derivative_formula, coefficients, x_range, paths,
                                     exact, title, args.out_dir / f"gradient_descent_{name}.png")
        metrics[name] = {"formula": formula, "derivative": derivative_formula,
                         "x_range": list(x_range), "derivative_minima": exact,
                         "starts": list(starts), "learning_rate": learning_rate,
                         "minima": found}
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"Saved the plots and metrics.json in {args.out_dir}")
    return metrics


if __name__ == "__main__":
    main()
