"""Chapter 1: every script end to end on tiny real data, the book's parameter counts,
a learning check on real digits, and one-line errors for bad input."""
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from chapter1_mlp_cnn_rnn import (cnn_mnist, cnn_model, gradient_descent, linear_model,
                                  mlp_mnist, mnist_sampler, plot_linear, rnn_mnist, rnn_model)
from lib import cli, data
from tests.conftest import CLASSIFIER_RUN, one_line



@pytest.mark.parametrize("model, params", [
    (mlp_mnist.build_mlp(), 269_322),
    (mlp_mnist.build_mlp(l2_weight=0.001), 269_322),
    (cnn_mnist.build_cnn(), 80_266),
    (rnn_mnist.build_rnn(), 75_530),
    (linear_model.build_linear_model(), 25),
    (cnn_model.build_cnn(), 120_586),
    (rnn_model.build_rnn(), 271_365),
])
def test_parameter_counts_match_the_book(model, params):
    assert model.count_params() == params


# Each layer's output shape and parameters by hand, from the book's layer sizes.
# Strided CNN: Conv2D 64 3x3 "same" stride 2 on 28x28x1: 28 / 2 = 14, 3*3*1*64 + 64 = 640;
# Conv2D 128 3x3 "valid" stride 2 on 14x14x64: (14 - 3) // 2 + 1 = 6, 3*3*64*128 + 128
# = 73,856; Flatten: 6*6*128 = 4,608; Dense 10: 4,608*10 + 10 = 46,090. Total 120,586.
# SimpleRNN 512 on 30x12: input kernel 12*512 + recurrent kernel 512*512 + bias 512
# = 268,800; Dense 5: 512*5 + 5 = 2,565. Total 271,365.
MODEL_LISTINGS = [
    (cnn_model, "RMSprop", [([14, 14, 64], 640), ([6, 6, 128], 73_856), ([4608], 0),
                            ([10], 46_090)]),
    (rnn_model, "Adam", [([512], 268_800), ([5], 2_565)]),
]


@pytest.mark.parametrize("script, optimizer, layers", MODEL_LISTINGS)
def test_model_listing_compiles_the_books_model_and_writes_its_summary(
        script, optimizer, layers, out_dir, capsys):
    metrics = script.main(["--out-dir", str(out_dir), "--plot-model"])
    assert [(layer["output_shape"], layer["params"]) for layer in metrics["layers"]] == layers
    assert metrics["params"] == sum(params for _, params in layers)
    assert metrics["optimizer"] == optimizer
    assert metrics["loss"] == "categorical_crossentropy"
    assert json.loads((out_dir / "metrics.json").read_text()) == metrics
    assert f"Total params: {metrics['params']:,}" in capsys.readouterr().out
    assert (out_dir / "model.png").exists() == (shutil.which("dot") is not None)


def test_l2_variant_regularizes_both_hidden_layers():
    model = mlp_mnist.build_mlp(l2_weight=0.001)
    assert len(model.losses) == 2 and len(mlp_mnist.build_mlp().losses) == 0


@pytest.mark.parametrize("script, weights", [
    (mlp_mnist, "mlp_mnist"), (cnn_mnist, "cnn_mnist"), (rnn_mnist, "rnn_mnist")])
def test_classifier_runs_end_to_end_on_tiny_real_data(script, weights, out_dir):
    metrics = script.main([*CLASSIFIER_RUN, "--out-dir", str(out_dir), "--plot-model"])
    assert metrics["dataset"] == "mnist_subset" and metrics["train_examples"] == 300
    assert metrics["seconds_per_epoch"] > 0
    assert json.loads((out_dir / "metrics.json").read_text()) == metrics
    for name in (f"{weights}.weights.h5", "history.csv", "curves.png"):
        assert (out_dir / name).stat().st_size > 0
    assert (out_dir / "model.png").exists() == (shutil.which("dot") is not None)
    restored = {"mlp_mnist": mlp_mnist.build_mlp, "cnn_mnist": cnn_mnist.build_cnn,
                "rnn_mnist": rnn_mnist.build_rnn}[weights]()
    restored.load_weights(out_dir / f"{weights}.weights.h5")


def test_mlp_learns_real_digits_well_above_chance(out_dir, capsys):
    """One epoch on 4,000 real MNIST digits, tested on the other 1,000 (chance is 10%)."""
    metrics = mlp_mnist.main(["--dataset", "mnist_subset", "--epochs", "1", "--out-dir", str(out_dir)])
    assert metrics["train_examples"] == 4000
    assert metrics["test_accuracy"] > 0.75
    assert f"Test accuracy: {100 * metrics['test_accuracy']:.1f}%" in capsys.readouterr().out


def test_mlp_l2_flag_uses_the_books_weight(out_dir, monkeypatch):
    """--l2 alone is the book's 0.001 on both hidden layers of the model main() trains."""
    built = []
    plain_build = mlp_mnist.build_mlp
    monkeypatch.setattr(mlp_mnist, "build_mlp", lambda **kwargs: built.append(
        plain_build(**kwargs)) or built[-1])
    mlp_mnist.main([*CLASSIFIER_RUN, "--l2", "--out-dir", str(out_dir)])
    model = built[0]
    hidden = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:2]
    expected = sum(0.001 * np.sum(np.square(np.asarray(layer.kernel))) for layer in hidden)
    assert len(model.losses) == 2
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)


def test_mnist_sampler_counts_labels_and_draws_25_digits(out_dir, capsys):
    metrics = mnist_sampler.main(["--dataset", "mnist_subset", "--out-dir", str(out_dir)])
    assert sum(metrics["train_label_counts"].values()) == 4000
    assert sum(metrics["test_label_counts"].values()) == 1000
    assert sorted(metrics["train_label_counts"]) == list(range(10))
    assert len(set(metrics["sample_indices"])) == 25
    assert (out_dir / "mnist_samples.png").stat().st_size > 0
    assert "Train labels: {0: 396," in capsys.readouterr().out


BOOK_X = [-1.0, -0.8, -0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8]  # np.arange(-1, 1, 0.2)


def test_plot_linear_draws_the_books_line_with_noise_on_x_only(out_dir):
    metrics = plot_linear.main(["--out-dir", str(out_dir)])
    assert metrics["x"] == pytest.approx(BOOK_X)
    assert metrics["y"] == pytest.approx([2 * x + 3 for x in BOOK_X])
    shifts = [noisy - x for noisy, x in zip(metrics["noisy_x"], BOOK_X)]
    assert all(0 < abs(shift) <= 0.2 for shift in shifts)  # the book's uniform(-0.2, 0.2)
    assert (out_dir / "linear_regression.png").stat().st_size > 0
    again = plot_linear.main(["--seed", "1", "--out-dir", str(out_dir)])
    assert again["noisy_x"] != metrics["noisy_x"]


def test_linear_model_fits_the_books_data_like_least_squares(out_dir, capsys):
    metrics = linear_model.main(["--out-dir", str(out_dir)])  # the book's 100 epochs, batch 4
    exact, learned, table = metrics["least_squares"], metrics["keras"], metrics["table"]
    assert exact["slope"] == pytest.approx(2.0, abs=0.15)
    assert exact["intercept"] == pytest.approx(3.0, abs=0.1)
    assert learned["slope"] == pytest.approx(exact["slope"], abs=0.05)
    assert learned["intercept"] == pytest.approx(exact["intercept"], abs=0.05)
    assert exact["mse"] <= learned["mse"] < 1.1 * exact["mse"]  # least squares is optimal

    # The book's table: ground truth 2x + 3 on its grid, x shifted by at most 0.1.
    assert table["ground_truth"] == pytest.approx([2 * x + 3 for x in BOOK_X])
    assert all(0 < abs(noisy - x) <= 0.1 for noisy, x in zip(table["x"], BOOK_X))
    assert table["least_squares"] == pytest.approx(
        [exact["slope"] * x + exact["intercept"] for x in table["x"]], abs=1e-5)
    assert table["keras"] == pytest.approx(
        [learned["slope"] * x + learned["intercept"] for x in table["x"]], abs=1e-4)
    assert table["keras"] == pytest.approx(table["least_squares"], abs=0.05)
    assert table["keras"] == pytest.approx(table["ground_truth"], abs=0.25)
    printed = capsys.readouterr().out.splitlines()
    header = printed.index(f"{'noised x':>8} {'ground truth':>13} {'least squares':>14} "
                           f"{'Keras model':>12}")
    rows = [[float(value) for value in line.split()]
            for line in printed[header + 1:header + 1 + len(BOOK_X)]]
    for row, *columns in zip(rows, *table.values()):
        assert row == pytest.approx(columns, abs=1e-3)  # x, ground truth, least squares, Keras
    for name in ("linear_model.png", "curves.png", "linear_model.weights.h5", "metrics.json"):
        assert (out_dir / name).exists()


def test_gradient_descent_finds_the_minima_where_the_derivative_is_zero(out_dir):
    metrics = gradient_descent.main(["--out-dir", str(out_dir)])
    quadratic, quartic = metrics["quadratic"], metrics["quartic"]
    assert quadratic["minima"] == pytest.approx([0.5], abs=1e-3)
    assert quartic["minima"] == pytest.approx([-1.51, 1.66], abs=0.01)
    assert quadratic["derivative_minima"] == pytest.approx([0.5], abs=1e-4)
    assert quartic["derivative_minima"] == pytest.approx([-1.51, 1.66], abs=0.01)
    for problem in (quadratic, quartic):
        assert problem["minima"] == pytest.approx(problem["derivative_minima"], abs=1e-3)
    assert (quadratic["x_range"], quartic["x_range"]) == ([-1.0, 2.0], [-2.5, 2.5])  # the book's
    for name in ("quadratic", "quartic"):
        assert (out_dir / f"gradient_descent_{name}.png").stat().st_size > 0


def test_bad_flag_exits_2_with_one_line(out_dir, capsys):
    with pytest.raises(SystemExit) as raised:
        cnn_mnist.main(["--epochs", "-1", "--out-dir", str(out_dir)])
    assert raised.value.code == 2
    assert "--epochs: expected an integer from 1 to 100,000" in one_line(capsys.readouterr().err)


def test_missing_dataset_exits_2_with_one_line(out_dir, capsys):
    with data.provide("fashion_mnist", None), pytest.raises(SystemExit) as raised:
        rnn_mnist.main(["--dataset", "fashion_mnist", "--out-dir", str(out_dir)])
    assert raised.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("rnn_mnist.py: error: Fashion-MNIST could not be downloaded")


@pytest.mark.slow
@pytest.mark.parametrize("cwd", [".", "chapter1_mlp_cnn_rnn"])
def test_scripts_run_from_the_root_and_their_own_folder(cwd):
    script = os.path.relpath(os.path.join(cli.REPO_ROOT, "chapter1_mlp_cnn_rnn", "mlp_mnist.py"),
                             os.path.join(cli.REPO_ROOT, cwd))
    result = subprocess.run([sys.executable, script, "--batch-size", "0"],
                            cwd=os.path.join(cli.REPO_ROOT, cwd), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "mlp_mnist.py: error: argument --batch-size: expected a positive integer, got '0'" \
        in result.stderr.splitlines()[-1]
