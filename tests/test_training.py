"""lib/training.py, lib/schedules.py and lib/tensorboard_images.py: history, timing, best
checkpoints, a resumed plateau schedule, TensorBoard logs and saved results."""
import argparse
import json

import keras
import numpy as np
import pytest

from chapter1_mlp_cnn_rnn import cnn_model, linear_model
from chapter2_resnet_densenet import cnn_functional
from chapter3_autoencoders import classifier_autoencoder_mnist
from lib import resume, schedules, training
from tests.test_gan_runs import tensorboard_logs


def regression_data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4), dtype=np.float32)
    return x, x @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32)


def compiled_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_save_results_writes_the_models_curves_and_metrics(tmp_path):
    x, y = regression_data()
    model = compiled_model()
    state = resume.prepare(argparse.Namespace(out_dir=tmp_path, resume=False), "test_training")
    callbacks = training.fit_callbacks(tmp_path, state)
    model.fit(x, y, epochs=2, verbose=0, callbacks=callbacks)
    metrics = training.save_results(tmp_path, {"tiny.weights.h5": model, "tiny.keras": model},
                                    {"loss": 1.5}, callbacks)
    assert metrics["loss"] == 1.5 and metrics["seconds_per_epoch"] > 0
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert (tmp_path / "tiny.weights.h5").is_file() and (tmp_path / "curves.png").is_file()
    assert keras.models.load_model(tmp_path / "tiny.keras").count_params() == model.count_params()
    # A GAN's epochs are save intervals of steps_per_epoch steps: its time is per step.
    per_step = training.save_results(tmp_path, {}, {"loss": 1.5}, callbacks, steps_per_epoch=2)
    assert "seconds_per_epoch" not in per_step
    assert per_step["seconds_per_step"] == pytest.approx(metrics["seconds_per_epoch"] / 2, abs=1e-3)


def test_best_checkpoint_keeps_the_lowest_loss_and_the_highest_accuracy(tmp_path):
    model = compiled_model()
    for monitor, values, kept in (("val_loss", [0.5, 0.7, 0.3], 0.3),
                                  ("val_accuracy", [0.5, 0.7, 0.3], 0.7)):
        checkpoint = training.BestCheckpoint(tmp_path / f"{monitor}.weights.h5", monitor)
        checkpoint.set_model(model)
        for epoch, value in enumerate(values):
            checkpoint.on_epoch_end(epoch, {monitor: value})
        assert checkpoint.best == kept and checkpoint.path.exists()


def test_a_resumed_best_checkpoint_starts_from_the_logged_best(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss,val_loss\n0,1.0,0.4\n1,0.8,0.6\n")
    resumed = resume.ResumeState(tmp_path / "backup", {}, {"epoch": 2})
    assert training.best_checkpoint(tmp_path, resumed, "m", "val_loss").best == 0.4
    new = resume.ResumeState(tmp_path / "backup", {})
    assert training.best_checkpoint(tmp_path, new, "m", "val_loss").best == float("inf")


def test_a_classifier_logs_its_training_and_test_numbers_to_tensorboard(out_dir):
    """Section 3.3.1's TensorBoard logs, for any script that trains: every epoch's loss and
    accuracy, on the training and on the test set."""
    cnn_functional.main(["--dataset", "mnist_subset", "--limit", "256", "--epochs", "2",
                         "--tensorboard", "--out-dir", str(out_dir)])
    for split in ("train", "validation"):
        numbers = tensorboard_logs(out_dir / "tensorboard" / split)
        assert numbers["epoch_loss"] == numbers["epoch_accuracy"] == [0, 1], split
    assert not (out_dir / "tensorboard" / "samples").exists()  # a classifier draws no images


@pytest.mark.slow
def test_an_autoencoder_logs_its_decodings_of_the_same_test_images_every_epoch(out_dir):
    classifier_autoencoder_mnist.main(["--dataset", "mnist_subset", "--limit", "256", "--epochs",
                                       "2", "--tensorboard", "--out-dir", str(out_dir)])
    assert tensorboard_logs(out_dir / "tensorboard" / "samples") == {
        "inputs": [0], "decoder": [1, 2]}  # the image output by name; not the class scores


def test_every_script_that_trains_a_model_takes_tensorboard_and_no_other_does(out_dir):
    linear_model.main(["--epochs", "2", "--tensorboard", "--out-dir", str(out_dir)])
    assert tensorboard_logs(out_dir / "tensorboard" / "train")["epoch_loss"] == [0, 1]
    with pytest.raises(SystemExit):  # a model that is only built: nothing to log
        cnn_model.make_parser().parse_args(["--tensorboard"])


def test_a_resumed_plateau_goes_on_counting_from_the_logged_epochs(tmp_path):
    """ReduceLROnPlateau's best and count of epochs without progress are not in the backup:
    a resumed run replays them from history.csv, each epoch with its logged rate."""
    logged = [(1.0, 1e-3), (0.9, 1e-3), (0.95, 1e-3), (0.96, 1e-3), (0.97, 1e-3)]
    (tmp_path / "history.csv").write_text("epoch,learning_rate,val_loss\n" + "".join(
        f"{epoch},{rate},{value}\n" for epoch, (value, rate) in enumerate(logged)))
    uninterrupted = keras.callbacks.ReduceLROnPlateau(patience=5)
    resumed = schedules.ResumablePlateau(tmp_path / "history.csv", patience=5)
    for callback in (uninterrupted, resumed):
        callback.set_model(compiled_model())
        callback.on_train_begin()
    for epoch, (value, rate) in enumerate(logged):
        uninterrupted.on_epoch_end(epoch, {"val_loss": value})
    assert (resumed.best, resumed.wait) == (uninterrupted.best, uninterrupted.wait) == (0.9, 3)
    # Both cut the rate after two more epochs without progress, not five.
    for callback in (uninterrupted, resumed):
        for epoch in (5, 6):
            callback.on_epoch_end(epoch, {"val_loss": 0.99})
        assert float(callback.model.optimizer.learning_rate) < 1e-3 * 0.2
