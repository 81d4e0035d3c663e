"""Nothing silently wrong: a value a flag's computation cannot bear is refused with its
range in the one line, and a run whose results come out NaN or infinite (an image grid,
metrics, the losses it ended with) ends with exit status 2 and one line, saving nothing."""
import json

import keras
import numpy as np
import pytest

from chapter1_mlp_cnn_rnn import linear_model, mlp_mnist, plot_linear
from chapter3_autoencoders import denoising_autoencoder_mnist
from chapter4_gan import dcgan_mnist
from chapter5_wgan_lsgan import divergences
from chapter6_infogan_stackedgan import infogan_mnist, stackedgan_mnist
from lib import cli, gan, outputs, plots, training
from tests.conftest import CLASSIFIER_RUN, GAN_RUN, one_line


@pytest.mark.parametrize("script, flag, inside, outside, bound", [
    (infogan_mnist, "--code1", "-2", "1e30", "from -2 to 2"),  # the book's sweeps of a code
    (infogan_mnist, "--code2", "2", "-2.5", "from -2 to 2"),
    (stackedgan_mnist, "--z0", "-4", "4.5", "from -4 to 4"),  # the book's sweep of z0
    (stackedgan_mnist, "--z1", "1", "-1.01", "from -1 to 1"),  # and of z1
    (linear_model, "--noise", "1", "3e38", "above 0 up to 1"),  # x spans -1 to 0.8
    (plot_linear, "--noise", "0.001", "0", "above 0 up to 1"),
    (denoising_autoencoder_mnist, "--noise-mean", "-1", "1.5", "from -1 to 1"),
    (denoising_autoencoder_mnist, "--noise-std", "2", "1e300", "above 0 up to 2"),
    (mlp_mnist, "--l2", "1", "10", "above 0 up to 1"),
    (divergences, "--theta", "-1", "1.1", "from -1 to 1"),  # the plotted thetas
])
def test_a_number_outside_its_flags_range_exits_2_naming_the_range(script, flag, inside, outside,
                                                                   bound, capsys):
    parser = script.make_parser()
    assert getattr(parser.parse_args([f"{flag}={inside}"]), flag.lstrip("-").replace("-", "_")) \
        == float(inside)
    with pytest.raises(SystemExit) as raised:
        parser.parse_args([f"{flag}={outside}"])
    line = one_line(capsys.readouterr().err)
    assert raised.value.code == 2 and f"{flag}: expected a number {bound}, got '{outside}'" in line


def test_images_that_came_out_nan_are_refused_and_not_saved(tmp_path):
    images = np.full((4, 28, 28, 1), 0.5, dtype="float32")
    images[2, 3, 4, 0] = np.inf
    with pytest.raises(cli.UserError, match=r"NaN or infinite \(1 of 3,136 values\): "
                                            r"grid.png not saved"):
        plots.image_grid(images, tmp_path / "grid.png")
    assert not list(tmp_path.iterdir())


def test_results_that_came_out_nan_are_refused_and_an_infinity_only_where_allowed(tmp_path):
    target = tmp_path / "metrics.json"
    results = {"accuracy": 0.9, "rows": [{"loss": 1.0}, {"loss": float("nan")}],
               "kl": float("inf")}
    with pytest.raises(cli.UserError, match=r"NaN or infinite \(rows\[1\].loss, kl\): "
                                            r"metrics.json not written"):
        outputs.write_json(target, results)
    with pytest.raises(cli.UserError, match=r"\(rows\[1\].loss\)"):  # NaN is never a result
        outputs.write_json(target, results, infinite_as_null=True)
    assert not target.exists()
    outputs.write_json(target, {"kl": float("inf"), "js": 0.69}, infinite_as_null=True)
    assert json.loads(target.read_text()) == {"kl": None, "js": 0.69}


def every_weight(model, value):
    """`model` with every weight set to `value` (NaN: as a run that diverged leaves it)."""
    model.set_weights([np.full(weights.shape, value, "float32") for weights in model.get_weights()])
    return model


def nan_generator(input_sizes):
    """A generator of 28x28x1 images from inputs of `input_sizes` whose weights are NaN, as
    a run that diverged would have saved it."""
    inputs = [keras.Input(shape=(size,)) for size in input_sizes]
    pixels = keras.layers.Dense(28 * 28)(keras.layers.Concatenate()(inputs))
    return every_weight(keras.Model(inputs, keras.layers.Reshape((28, 28, 1))(pixels),
                                    name="generator"), np.nan)


def test_a_saved_generator_that_gives_nan_images_exits_2_with_one_line(tmp_path, out_dir, capsys):
    path = tmp_path / "diverged_generator.keras"
    nan_generator([infogan_mnist.LATENT_DIM, infogan_mnist.NUM_LABELS, 1, 1]).save(path)
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        infogan_mnist.main(["-g", str(path), "-d", "3", "-a", "1.5", "--out-dir", str(out_dir)])
    line = one_line(capsys.readouterr().err)
    assert raised.value.code == 2 and line.startswith("infogan_mnist.py: error: the images came "
                                                      "out NaN or infinite")
    assert "generated.png not saved" in line and not (out_dir / "generated.png").exists()


def test_a_run_whose_numbers_came_out_infinite_exits_2_and_writes_no_metrics(out_dir, monkeypatch,
                                                                            capsys):
    plain_build = linear_model.build_linear_model

    def overflowing_model():  # weights near float32's largest: SGD overflows at once
        return every_weight(plain_build(), 1e30)

    monkeypatch.setattr(linear_model, "build_linear_model", overflowing_model)
    with pytest.raises(SystemExit) as raised:
        linear_model.main(["--epochs", "2", "--out-dir", str(out_dir)])
    line = one_line(capsys.readouterr().err)
    assert raised.value.code == 2 and "NaN or infinite (keras.slope" in line
    assert line.endswith("metrics.json not written") and not (out_dir / "metrics.json").exists()


def test_training_stopped_by_a_nan_loss_exits_2_and_saves_nothing(out_dir, monkeypatch, capsys):
    """TerminateOnNaN stops the fit; the run then says why in one line instead of saving
    NaN weights and a metrics.json of nulls."""
    plain_build = mlp_mnist.build_mlp

    def diverged_mlp(**kwargs):
        return every_weight(plain_build(**kwargs), np.nan)

    monkeypatch.setattr(mlp_mnist, "build_mlp", diverged_mlp)
    with pytest.raises(SystemExit) as raised:
        mlp_mnist.main([*CLASSIFIER_RUN, "--out-dir", str(out_dir)])
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert raised.value.code == 2 and "Invalid loss, terminating training" in captured.out
    assert "NaN or infinite (loss" in line and "training diverged" in line
    assert not (out_dir / "metrics.json").exists()
    assert not (out_dir / "mlp_mnist.weights.h5").exists()


def test_a_run_that_diverges_keeps_the_last_finite_epochs_backup_for_resume(out_dir, monkeypatch,
                                                                           capsys):
    """An epoch whose numbers come out NaN is not backed up and ends the run (exit 2, one
    line); the backup stays the epoch before's, not a finished note, and --resume goes
    on from it."""
    plain_callbacks = training.fit_callbacks

    class NanWeightsAtSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                every_weight(self.model, np.nan)

    monkeypatch.setattr(training, "fit_callbacks", lambda *args: [
        NanWeightsAtSecondEpoch(), *plain_callbacks(*args)])
    run = [*CLASSIFIER_RUN, "--epochs", "3", "--out-dir", str(out_dir)]
    with pytest.raises(SystemExit) as raised:
        mlp_mnist.main(run)
    line = one_line(capsys.readouterr().err)
    assert raised.value.code == 2 and "training diverged" in line
    assert line.endswith("--resume goes on from the backup of epoch 1")
    backup = json.loads((out_dir / "backup" / "training_metadata.json").read_text())
    assert backup["epoch"] == 1 and "finished" not in backup
    assert len(outputs.read_history_csv(out_dir / "history.csv")["loss"]) == 2  # the NaN epoch logged

    monkeypatch.setattr(training, "fit_callbacks", plain_callbacks)
    metrics = mlp_mnist.main([*run, "--resume"])
    assert "resuming the interrupted run" in capsys.readouterr().out
    assert np.isfinite(metrics["test_loss"])
    assert len(outputs.read_history_csv(out_dir / "history.csv")["loss"]) == 3


def test_a_gan_whose_generator_diverged_exits_2_at_the_sample_grid(out_dir, monkeypatch, capsys):
    """The sample grid of the first save interval is the first result saved, and refuses
    its NaN images, before the backup of that interval is written."""
    plain_build = gan.build_generator

    def diverged_generator(**kwargs):
        return every_weight(plain_build(**kwargs), np.nan)

    monkeypatch.setattr(gan, "build_generator", diverged_generator)
    with pytest.raises(SystemExit) as raised:
        dcgan_mnist.main([*GAN_RUN, "--eval-samples", "0", "--train-steps", "4",
                          "--save-interval", "2", "--out-dir", str(out_dir)])
    line = one_line(capsys.readouterr().err)
    assert raised.value.code == 2 and "the images came out NaN or infinite" in line
    assert "step_000002.png not saved" in line
    assert not list((out_dir / "samples").glob("*.png")) and not (out_dir / "metrics.json").exists()
