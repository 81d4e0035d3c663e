"""A Keras model of two linear Dense layers fits y = 2x + 3 from noisy x (book section 1.2.1).
It is compared with the least-squares solution, as the book's linear-model-1.2.1.py does.

The book's data: x = -1, -0.8, ..., 0.8, y = 2x + 3, then x shifted by noise drawn
uniformly from [-0.1, 0.1]. Dense 8 -> Dense 1, no activations (25 parameters): the
two layers compose into one line y = slope * x + intercept, so SGD on the mean
squared error should find the line that least squares computes in closed form
with the pseudo-inverse. SGD, MSE, 100 epochs, batch 4. As the book does, the run
prints the ground truth beside both predictions for every x.

Run:   python3 chapter1_mlp_cnn_rnn/linear_model.py
Expect: both lines close to slope 2, intercept 3, and in the table the Keras
column within a few hundredths of the least-squares one.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np
from matplotlib.figure import Figure

from lib import cli, data, outputs, plots, training


def least_squares_line(x, y):
    """(slope, intercept) minimizing squared error: pinv([x, 1]) @ y."""
    design = np.stack([x, np.ones_like(x)], axis=1)
    slope, intercept = np.linalg.pinv(design) @ y
    return float(slope), float(intercept)


def build_linear_model(hidden_units=8):
    """Two Dense layers without activation: 1*8 + 8 + 8*1 + 1 = 25 parameters."""
    return keras.Sequential([
        keras.Input(shape=(1,)),
        keras.layers.Dense(hidden_units),
        keras.layers.Dense(1, dtype="float32"),
    ], name="linear_model")


def model_line(model):
    """The single line the two layers compose: y = (x W1 + b1) W2 + b2."""
    (kernel1, bias1), (kernel2, bias2) = (layer.get_weights() for layer in model.layers)
    return float((kernel1 @ kernel2)[0, 0]), float((bias1 @ kernel2 + bias2)[0])


def mean_squared_error(line, x, y):
    slope, intercept = line
    return float(np.mean((slope * x + intercept - y) ** 2))


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], epochs=100, batch_size=4,
                             trains=False)
    parser.add_argument("--noise", type=cli.float_between(0, 1, low_included=False),
                        default=0.1,
                        help="half-width of the uniform noise added to x, at most 1 (as wide "
                             "as the x the points span) (default: %(default)s, the book's)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)

    # Data
    _, y, x = data.book_line(args.noise, args.seed)  # the network sees the noised x
    x, y = x.astype("float32"), y.astype("float32")

    # Closed form: least squares with the pseudo-inverse.
    exact_line = least_squares_line(x, y)

    # Model, trained by SGD on the mean squared error.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        model = build_linear_model()
        model.compile(loss="mse", optimizer="sgd", jit_compile=args.jit_compile)
    training.describe_models(args, model)
    logs = [keras.callbacks.TensorBoard(str(args.out_dir / "tensorboard"))] if args.tensorboard else []
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0,
                        callbacks=logs)
    learned_line = model_line(model)

    # Results: both lines, then the book's table of ground truth and both predictions.
    lines = {"least_squares": exact_line, "keras": learned_line}
    metrics = {name: {"slope": line[0], "intercept": line[1],
                      "mse": mean_squared_error(line, x, y)} for name, line in lines.items()}
    metrics["params"] = model.count_params()
    for name in lines:
        print(f"{name:>13}: y = {metrics[name]['slope']:.3f} x + {metrics[name]['intercept']:.3f}"
              f"  (MSE {metrics[name]['mse']:.4f})")
    metrics["table"] = {"x": x.tolist(), "ground_truth": y.tolist(),
                        "least_squares": (exact_line[0] * x + exact_line[1]).tolist(),
                        "keras": model.predict(x, verbose=0)[:, 0].tolist()}
    print(f"{'noised x':>8} {'ground truth':>13} {'least squares':>14} {'Keras model':>12}")
    for row in zip(*metrics["table"].values()):
        print("{:8.3f} {:13.3f} {:14.3f} {:12.3f}".format(*row))

    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    axis.scatter(x, y, s=15, color="gray", label="data: y = 2x + 3 at noised x")
    grid = np.linspace(-1, 1, 2)
    axis.plot(grid, data.LINE_SLOPE * grid + data.LINE_INTERCEPT, ":", color="gray", label="y = 2x + 3")
    for (name, (slope, intercept)), style in zip(lines.items(), ("-", "--")):
        axis.plot(grid, slope * grid + intercept, style, label=f"{name}: {slope:.2f}x + {intercept:.2f}")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.legend()
    plots.save_figure(figure, args.out_dir / "linear_model.png")
    plots.training_curves(history.history, args.out_dir / "curves.png")
    outputs.save_weights(model, args.out_dir / "linear_model.weights.h5")
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"Saved linear_model.png, curves.png, weights and metrics.json in {args.out_dir}")
    return metrics


if __name__ == "__main__":
    main()
