"""lib/gan_runs.py: what the run loop needs of a GAN model and of a sample grid, which
every GAN here provides; the batches it trains on; --eval-samples 0 measures nothing."""
import json

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from chapter4_gan import dcgan_mnist
from lib import gan, gan_runs, metrics
from tests.conftest import GAN_KINDS, compiled_gan, one_line


def test_every_gan_model_names_the_generators_train_saves_whole():
    for kind in GAN_KINDS:
        model = compiled_gan(kind, (16, 16, 1), feature_dim=16)
        assert any(network_name.startswith("generator") for network_name in model.networks()), kind


def test_a_sample_grid_writes_the_frame_of_its_save_interval(tmp_path):
    fixed_noise, _ = gan_runs.fixed_inputs(seed=0)
    grid = gan_runs.SampleGrid(gan.build_generator(), fixed_noise, tmp_path, save_interval=5)
    grid.on_epoch_end(1)
    assert (tmp_path / "step_000010.png").stat().st_size > 0


def test_training_batches_take_plain_values():
    batches = gan_runs.training_batches("mnist_subset", limit=64, batch_size=8, seed=0,
                                        num_labels=10)
    images, labels = next(iter(batches))
    assert tuple(images.shape) == (8, 28, 28, 1) and tuple(labels.shape) == (8, 10)
    assert float(np.min(images)) >= 0 and float(np.max(images)) <= 1


def test_wgan_steps_get_one_real_batch_per_critic_update_along_the_second_axis():
    """[:, i] is the i-th batch of 8 of the same shuffle, so that a strategy splitting the
    first axis gives every replica part of every critic update's batch."""
    images = np.random.default_rng(0).uniform(size=(64, 28, 28, 1)).astype("float32")
    step = next(iter(gan_runs.real_batches(images, batch_size=8, seed=3, batches_per_step=5)))
    plain = next(iter(gan_runs.real_batches(images, batch_size=40, seed=3)))
    assert tuple(step.shape) == (8, 5, 28, 28, 1)
    for update in range(5):
        np.testing.assert_array_equal(step[:, update], plain[8 * update:8 * (update + 1)])
    with pytest.raises(ValueError, match="unconditional"):
        gan_runs.real_batches(images, np.zeros((64, 10)), batch_size=8, batches_per_step=5)


def test_eval_samples_0_measures_nothing_and_trains_no_classifier(out_dir, tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.setattr(metrics, "CLASSIFIER_DIR", tmp_path / "classifiers")
    results = dcgan_mnist.main(["--dataset", "mnist_subset", "--limit", "64", "--batch-size", "8",
                                "--train-steps", "2", "--save-interval", "1",
                                "--eval-samples", "0", "--out-dir", str(out_dir)])
    assert "quality" not in results and "quality_ceiling" not in results
    assert json.loads((out_dir / "metrics.json").read_text()) == results
    assert not (out_dir / "quality.csv").exists()
    assert not (tmp_path / "classifiers").exists()
    assert "classifier" not in capsys.readouterr().out

    with pytest.raises(SystemExit) as raised:
        dcgan_mnist.main(["--eval-only", "--eval-samples", "0", "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "--eval-samples" in one_line(capsys.readouterr().err)


def tensorboard_logs(folder):
    """{tag: [step, ...]} of every scalar (Keras writes them as tensors) and image in a
    TensorBoard log folder."""
    events = EventAccumulator(str(folder), size_guidance={"tensors": 0, "images": 0})
    events.Reload()
    tags = events.Tags()
    return {**{tag: [event.step for event in events.Tensors(tag)] for tag in tags["tensors"]},
            **{tag: [event.step for event in events.Images(tag)] for tag in tags["images"]}}


def test_tensorboard_gets_the_logged_numbers_and_the_sample_grids(out_dir):
    dcgan_mnist.main(["--dataset", "mnist_subset", "--limit", "64", "--batch-size", "8",
                      "--train-steps", "4", "--save-interval", "2", "--eval-samples", "0",
                      "--tensorboard", "--out-dir", str(out_dir)])
    numbers = tensorboard_logs(out_dir / "tensorboard" / "train")
    for name in ("epoch_d_loss", "epoch_g_loss", "epoch_d_acc", "epoch_g_acc"):
        assert numbers[name] == [0, 1]  # Keras counts a save interval as an epoch
    assert tensorboard_logs(out_dir / "tensorboard" / "samples") == {"samples": [2, 4]}  # steps


def test_without_tensorboard_nothing_is_written_for_it(out_dir):
    dcgan_mnist.main(["--dataset", "mnist_subset", "--limit", "64", "--batch-size", "8",
                      "--train-steps", "1", "--save-interval", "1", "--eval-samples", "0",
                      "--out-dir", str(out_dir)])
    assert not (out_dir / "tensorboard").exists()
