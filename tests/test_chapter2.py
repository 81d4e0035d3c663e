"""Chapter 2: the book's parameter counts for every ResNet and DenseNet-BC, DenseNet's dropout,
each script's main() end to end on tiny real data, the schedule, augmentation and resuming
a run."""
import json

import keras
import numpy as np
import pytest

from chapter2_resnet_densenet import (cifar10_sampler, cnn_functional, cnn_y_network,
                                      densenet_cifar10, resnet_cifar10)
from lib import data, densenet, outputs, resnet, resume, schedules, training
from tests.conftest import assert_resume_is_exact, one_line

CIFAR_SHAPE = (32, 32, 3)


@pytest.fixture
def tiny_cifar():
    """Real images offline: the Fashion-MNIST stand-in would need the Debian package, so
    the tests pad real MNIST digits the same way and serve them as CIFAR-10."""
    subset = data.load("mnist_subset")
    arrays = ((data.to_rgb32(subset.x_train[:400]), subset.y_train[:400]),
              (data.to_rgb32(subset.x_test[:64]), subset.y_test[:64]))
    with data.provide("cifar10", arrays):
        yield


@pytest.mark.parametrize("depth, version, params", [
    (20, 1, 274_442), (32, 1, 470_218), (44, 1, 665_994), (56, 1, 861_770),
    (110, 1, 1_742_762), (56, 2, 1_673_738), (110, 2, 3_323_210)])
def test_resnet_parameter_counts_match_the_book(depth, version, params):
    assert resnet.resnet(CIFAR_SHAPE, depth, version).count_params() == params


def test_densenet_bc_100_12_parameter_count_matches_the_book():
    assert densenet.densenet_bc(CIFAR_SHAPE, depth=100, growth_rate=12).count_params() == 797_788


def dropout_inputs(model):
    """(rate, kind of the layer it follows) for each Dropout layer of a model."""
    kind_of_output = {id(layer.output): type(layer).__name__ for layer in model.layers}
    return [(layer.rate, kind_of_output[id(layer.input)])
            for layer in model.layers if isinstance(layer, keras.layers.Dropout)]


def test_densenet_dropout_follows_every_bottleneck_and_transition_convolution():
    """The book's Dropout 0.2: after both convolutions of each bottleneck layer (1 per block at
    depth 10, 3 blocks) and after each of the 2 transition convolutions; none at rate 0."""
    model = densenet.densenet_bc(CIFAR_SHAPE, depth=10, growth_rate=4, dropout=0.2)
    assert dropout_inputs(model) == [(0.2, "Conv2D")] * (3 * 2 + 2)
    plain = densenet.densenet_bc(CIFAR_SHAPE, depth=10, growth_rate=4)
    assert dropout_inputs(plain) == [] and plain.count_params() == model.count_params()


def test_densenet_script_uses_dropout_only_without_augmentation(tiny_cifar, out_dir, monkeypatch):
    built = {}
    monkeypatch.setattr(training, "fit_classifier",  # the model as built, without training it
                        lambda model, *run, augmentation, **details: built.update({augmentation: model}))
    for flags in ([], ["--no-augmentation"]):
        densenet_cifar10.main(["--depth", "10", "--growth-rate", "4", *flags, "--out-dir", str(out_dir)])
    assert dropout_inputs(built[True]) == []
    assert dropout_inputs(built[False]) == [(0.2, "Conv2D")] * 8


@pytest.mark.parametrize("model, params", [
    (cnn_functional.build_functional_cnn(), 80_266),
    (cnn_y_network.build_y_network(), 208_394)])
def test_functional_models_match_the_book(model, params):
    assert model.count_params() == params


@pytest.mark.parametrize("build, depth", [
    (lambda depth: resnet.resnet(CIFAR_SHAPE, depth, 1), 21),
    (lambda depth: resnet.resnet(CIFAR_SHAPE, depth, 2), 20 + 1),
    (lambda depth: densenet.densenet_bc(CIFAR_SHAPE, depth), 99)])
def test_impossible_depths_are_refused(build, depth):
    with pytest.raises(ValueError, match="depth must be"):
        build(depth)


def test_resnet_stages_halve_the_feature_maps():
    model = resnet.resnet_v1(CIFAR_SHAPE, 20)
    sizes = sorted({layer.output.shape[1] for layer in model.layers
                    if isinstance(layer, keras.layers.Add)}, reverse=True)
    assert sizes == [32, 16, 8]


def test_step_decay_follows_the_book():
    schedule = schedules.step_decay(1e-3)
    rates = [schedule(epoch) for epoch in (0, 80, 81, 121, 161, 181)]
    assert rates == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5, 1e-6, 5e-7])


def test_augmentation_shifts_and_flips_but_keeps_labels():
    images = np.zeros((8, 32, 32, 3), dtype="float32")
    images[:, :, :16] = 1.0  # left half white: a flip or a shift changes the image
    labels = np.eye(8, dtype="float32")
    augmented = data.EpochBatches(images, labels, 8, seed=1, augment=data.shift_and_flip)
    new_images, new_labels = next(iter(augmented.from_epoch(0)))
    assert new_images.shape == images.shape
    np.testing.assert_array_equal(np.sort(np.argmax(new_labels, axis=1)), np.arange(8))
    assert not np.allclose(new_images, images)
    left_half_mean = np.asarray(new_images)[:, :, :16].mean()
    assert 0.0 < left_half_mean <= 1.0
    # The same seed, the same shifts and flips; another seed, others.
    np.testing.assert_array_equal(data.shift_and_flip(images, [3, 4]),
                                  data.shift_and_flip(images, [3, 4]))
    assert not np.allclose(data.shift_and_flip(images, [3, 4]), data.shift_and_flip(images, [3, 5]))


def test_shift_and_flip_moves_and_mirrors_as_the_book_s_image_generator():
    """A shift of 0.1 moves a 32-pixel image by at most 3.2 pixels, edges filled with the
    nearest pixels; a flip mirrors it left to right."""
    image = np.zeros((1, 32, 32, 1), "float32")
    image[0, 15:17, 15:17] = 1.0  # a bright square in the middle
    rows, columns = [], []
    flipped_ramps = 0
    ramp = np.tile(np.linspace(0, 1, 32, dtype="float32"), (32, 1))[None, :, :, None]
    for seed in range(40):
        moved = np.asarray(data.shift_and_flip(image, [seed, 0]))[0, :, :, 0]
        row, column = np.unravel_index(np.argmax(moved), moved.shape)
        rows.append(row - 15.5)
        columns.append(column - 15.5)
        flipped_ramps += np.asarray(data.shift_and_flip(ramp, [seed, 0]))[0, 16, 0, 0] > 0.5
    assert max(np.abs(rows)) <= 4 and max(np.abs(columns)) <= 4
    assert min(rows) < 0 < max(rows) and min(columns) < 0 < max(columns)
    assert 10 <= flipped_ramps <= 30  # about half the time


def test_to_rgb32_pads_and_repeats_channels():
    digits = np.full((2, 28, 28), 200, dtype=np.uint8)
    padded = data.to_rgb32(digits)
    assert padded.shape == (2, 32, 32, 3) and padded.dtype == np.uint8
    assert padded[:, :2].max() == 0 and padded[:, 2:30, 2:30].min() == 200


def test_cifar10_sampler_draws_ten_of_each_class(tiny_cifar, out_dir):
    metrics = cifar10_sampler.main(["--out-dir", str(out_dir)])
    picked = data.load("cifar10").y_train[metrics["sample_indices"]]
    np.testing.assert_array_equal(picked, np.repeat(np.arange(10), 10))
    assert sum(metrics["train_label_counts"]) == 400
    assert metrics["class_names"][0] == "airplane"
    assert (out_dir / "cifar10_samples.png").stat().st_size > 0


def test_cifar10_sampler_needs_ten_images_per_class(tiny_cifar, out_dir, capsys):
    with pytest.raises(SystemExit) as raised:
        cifar10_sampler.main(["--limit", "30", "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "raise --limit" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("script, name", [(cnn_functional, "cnn_functional"),
                                          (cnn_y_network, "cnn_y_network")])
def test_functional_scripts_run_end_to_end(script, name, out_dir):
    metrics = script.main(["--dataset", "mnist_subset", "--limit", "200", "--epochs", "1",
                           "--out-dir", str(out_dir)])
    assert metrics["train_examples"] == 200 and 0 <= metrics["test_accuracy"] <= 1
    assert (out_dir / f"{name}.weights.h5").stat().st_size > 0
    assert json.loads((out_dir / "metrics.json").read_text()) == metrics


def test_y_network_learns_real_digits_above_chance(out_dir):
    """Two epochs on 1,000 real digits, tested on 1,000 others (chance is 10%)."""
    metrics = cnn_y_network.main(["--dataset", "mnist_subset", "--limit", "1000",
                                  "--epochs", "2", "--out-dir", str(out_dir)])
    assert metrics["test_accuracy"] > 0.5


@pytest.mark.slow
def test_resnet_trains_with_the_books_schedule_and_keeps_the_best(tiny_cifar, out_dir):
    metrics = resnet_cifar10.main(["--epochs", "2", "--out-dir", str(out_dir)])
    assert (metrics["dataset"], metrics["depth"], metrics["params"]) == ("cifar10", 20, 274_442)
    logged = outputs.read_history_csv(out_dir / "history.csv")["val_accuracy"]
    assert metrics["best_test_accuracy"] == pytest.approx(max(logged))
    for name in ("resnet20v1.weights.h5", "resnet20v1.best.weights.h5", "pixel_mean.npy",
                 "curves.png", "history.csv"):
        assert (out_dir / name).stat().st_size > 0
    pixel_mean = np.load(out_dir / "pixel_mean.npy")
    assert pixel_mean.shape == CIFAR_SHAPE and 0 < pixel_mean.mean() < 1
    history = (out_dir / "history.csv").read_text().splitlines()
    assert "learning_rate" in history[0] and len(history) == 3


@pytest.mark.slow
def test_resnet_v2_and_densenet_run_end_to_end_at_small_depth(tiny_cifar, out_dir):
    resnet_metrics = resnet_cifar10.main(["--version", "2", "--depth", "11", "--epochs", "1",
                                          "--no-augmentation", "--out-dir", str(out_dir / "r")])
    assert resnet_metrics["params"] == resnet.resnet_v2(CIFAR_SHAPE, 11).count_params()
    densenet_metrics = densenet_cifar10.main(["--depth", "10", "--growth-rate", "4", "--epochs", "1",
                                              "--out-dir", str(out_dir / "d")])
    assert (out_dir / "d" / "densenet_bc_10_4.best.weights.h5").exists()
    assert 0 <= densenet_metrics["test_accuracy"] <= 1


def test_bad_depth_exits_2_with_one_line(tiny_cifar, out_dir, capsys):
    with pytest.raises(SystemExit) as raised:
        resnet_cifar10.main(["--depth", "21", "--out-dir", str(out_dir)])
    assert raised.value.code == 2
    assert "--depth: ResNet v1 depth must be 6n + 2" in one_line(capsys.readouterr().err)


def test_missing_cifar10_exits_2_saying_where_to_put_it(out_dir, capsys):
    with data.provide("cifar10", None), pytest.raises(SystemExit) as raised:
        densenet_cifar10.main(["--out-dir", str(out_dir)])
    assert raised.value.code == 2
    assert "cifar-10-batches-py-target_archive" in one_line(capsys.readouterr().err)


@pytest.mark.slow
def test_an_interrupted_resnet_with_augmentation_resumes_exactly(tiny_cifar, tmp_path,
                                                                 monkeypatch):
    """Interrupted after the first of 2 epochs and resumed: the same weights (and best
    weights), history and test accuracy as the run never interrupted. The resumed run
    gets epoch 2's own order and shifts and flips, not epoch 1's again."""
    argv = ["--epochs", "2", "--limit", "96", "--depth", "8"]
    metrics = assert_resume_is_exact(resnet_cifar10.main, argv, tmp_path, monkeypatch,
                                     interrupt_after=0, epochs=2)
    assert metrics["depth"] == 8 and metrics["augmentation"] is True
    assert len((tmp_path / "parts" / "history.csv").read_text().splitlines()) == 1 + 2
    # Its backup is only the note that it finished: no weights.
    assert [path.name for path in (tmp_path / "parts" / "backup").iterdir()] == [resume.METADATA]
