"""Chapter 1: every script end to end on tiny real data, the book's parameter counts,
a learning check on real digits, and one-line errors for bad input."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from chapter1_mlp_cnn_rnn import (cnn_mnist, gradient_descent, linear_model, mlp_mnist,
                                  mnist_sampler, rnn_mnist)
from lib import cli, data
from tests.conftest import one_line

TINY = ["--dataset", "mnist_subset", "--limit", "300", "--epochs", "1"]


@pytest.mark.parametrize("model, params", [
    (mlp_mnist.build_mlp(), 269_322),
    (mlp_mnist.build_mlp(l2_weight=0.001), 269_322),
    (cnn_mnist.build_cnn(), 80_266),
    (rnn_mnist.build_rnn(), 75_530),
    (linear_model.build_linear_model(), 25),
])
def test_parameter_counts_match_the_book(model, params):
    assert model.count_params() == params


def test_l2_variant_regularizes_both_hidden_layers():
    model = mlp_mnist.build_mlp(l2_weight=0.001)
    assert len(model.losses) == 2 and len(mlp_mnist.build_mlp().losses) == 0


@pytest.mark.parametrize("script, weights", [
    (mlp_mnist, "mlp_mnist"), (cnn_mnist, "cnn_mnist"), (rnn_mnist, "rnn_mnist")])
def test_classifier_runs_end_to_end_on_tiny_real_data(script, weights, out_dir):
    metrics = script.main([*TINY, "--out-dir", str(out_dir), "--plot-model"])
    assert metrics["dataset"] == "mnist_subset" and metrics["train_examples"] == 300
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["seconds_per_epoch"] > 0
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


def test_mlp_l2_flag_uses_the_books_weight(out_dir):
    assert mlp_mnist.make_parser().parse_args(["--l2"]).l2 == 0.001
    metrics = mlp_mnist.main([*TINY, "--l2", "--out-dir", str(out_dir)])
    assert metrics["l2"] == 0.001


def test_mnist_sampler_counts_labels_and_draws_25_digits(out_dir, capsys):
    metrics = mnist_sampler.main(["--dataset", "mnist_subset", "--out-dir", str(out_dir)])
    assert sum(metrics["train_label_counts"].values()) == 4000
    assert sum(metrics["test_label_counts"].values()) == 1000
    assert sorted(metrics["train_label_counts"]) == list(range(10))
    assert len(set(metrics["sample_indices"])) == 25
    assert (out_dir / "mnist_samples.png").stat().st_size > 0
    assert "Train labels: {0: 396," in capsys.readouterr().out


def test_linear_model_agrees_with_least_squares(out_dir):
    metrics = linear_model.main(["--epochs", "30", "--out-dir", str(out_dir)])
    exact, learned = metrics["least_squares"], metrics["keras"]
    assert exact["slope"] == pytest.approx(2.0, abs=0.15)
    assert exact["intercept"] == pytest.approx(3.0, abs=0.15)
    assert learned["slope"] == pytest.approx(exact["slope"], abs=0.1)
    assert learned["intercept"] == pytest.approx(exact["intercept"], abs=0.1)
    assert exact["mse"] <= learned["mse"] < 1.1 * exact["mse"]  # least squares is optimal
    for name in ("linear_model.png", "curves.png", "linear_model.weights.h5", "metrics.json"):
        assert (out_dir / name).exists()


def test_gradient_descent_finds_the_books_minima(out_dir):
    metrics = gradient_descent.main(["--out-dir", str(out_dir)])
    assert metrics["quadratic"]["minima"] == pytest.approx([0.5], abs=1e-3)
    assert metrics["quartic"]["minima"] == pytest.approx([-1.51, 1.66], abs=0.01)
    for name in ("quadratic", "quartic"):
        assert (out_dir / f"gradient_descent_{name}.png").stat().st_size > 0


def test_bad_flag_exits_2_with_one_line(out_dir, capsys):
    with pytest.raises(SystemExit) as raised:
        cnn_mnist.main(["--epochs", "-1", "--out-dir", str(out_dir)])
    assert raised.value.code == 2
    assert "--epochs: expected a positive integer" in one_line(capsys.readouterr().err)


def test_missing_dataset_exits_2_with_one_line(out_dir, capsys):
    with data.provide("fashion_mnist", None), pytest.raises(SystemExit) as raised:
        rnn_mnist.main(["--dataset", "fashion_mnist", "--out-dir", str(out_dir)])
    assert raised.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("rnn_mnist.py: error: Fashion-MNIST could not be downloaded")


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
