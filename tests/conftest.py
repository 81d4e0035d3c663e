"""Shared fixtures: every test writes under its own temporary folder and never downloads."""
import socket

import keras
import numpy as np
import pytest
import tensorflow as tf

from lib import cli, metrics, training

# Two logical CPU devices, so that tests can train under MirroredStrategy with 2 replicas
# (tests/test_distribute.py); set before TensorFlow runs anything. One-device runs use
# the first, as on any machine.
tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture(autouse=True, scope="session")
def classifiers_in_a_temporary_folder(tmp_path_factory):
    """lib/metrics.py's classifiers are trained once per test session, outside outputs/."""
    metrics.CLASSIFIER_DIR = tmp_path_factory.mktemp("classifiers")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fails any test that tries to reach another machine: tests never download. (Keras'
    loaders turn a refused connection into a failed download, so the attempt is
    refused and recorded, and the test fails at its end.) This machine's own
    addresses stay open: the multi-worker test talks over 127.0.0.1."""
    attempts = []
    plain_connect = socket.socket.connect

    def local_only(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(address)
            raise ConnectionRefusedError(f"tests do not reach the network: {address}")
        return plain_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    yield attempts
    assert not attempts, f"the test tried to reach the network: {attempts}"


@pytest.fixture(autouse=True)
def out_dir_locks_released_after_each_test():
    """Tests that call cli.parse_args without a script's main leave its --out-dir lock held."""
    yield
    cli.release_out_dir_locks()


@pytest.fixture(autouse=True)
def float32_after_each_test():
    """A run with --precision sets Keras' global dtype policy; the next test starts in float32."""
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def out_dir(tmp_path):
    """A fresh --out-dir for one run."""
    return tmp_path / "out"


def one_line(text):
    """The text's only line, failing when it has none or several."""
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    return lines[0]


def snapshot(variables):
    return [keras.ops.convert_to_numpy(variable) for variable in variables]


def changed(before, after):
    return [not np.array_equal(old, new) for old, new in zip(before, after)]


def assert_each_step_trains_only_its_network(model, real_images, real_labels=None):
    """The regression test for the Keras 3 trap of the book's trainable = False freeze:
    the D step changes every D weight and no G weight; the G step changes every G
    weight and no D weight. Returns D's weights after the D step."""
    generator, discriminator = model.generator, model.discriminator
    g_before, d_before = snapshot(generator.trainable_weights), snapshot(discriminator.weights)
    model.discriminator_step(real_images, real_labels)
    g_after_d_step = snapshot(generator.trainable_weights)
    d_after_d_step = snapshot(discriminator.weights)
    assert all(changed(d_before, d_after_d_step))  # every D weight learned
    assert not any(changed(g_before, g_after_d_step))  # no G weight did

    model.generator_step(model.generator_noise(len(real_images)))
    assert not any(changed(d_after_d_step, snapshot(discriminator.weights)))  # D frozen
    assert all(changed(g_after_d_step, snapshot(generator.trainable_weights)))
    return d_after_d_step


class InterruptAfter(keras.callbacks.Callback):
    """Acts like Ctrl-C at the end of an epoch (after BackupAndRestore has saved it)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def run_until_interrupted(main, argv, monkeypatch, epoch):
    """Run a script's main(argv) as if Ctrl-C came at the end of `epoch` (its backup
    already saved), asserting exit status 130; later runs get the plain callbacks."""
    plain_callbacks = training.fit_callbacks
    monkeypatch.setattr(training, "fit_callbacks",
                        lambda *run: plain_callbacks(*run) + [InterruptAfter(epoch)])
    try:
        with pytest.raises(SystemExit) as raised:
            main(argv)
    finally:
        monkeypatch.setattr(training, "fit_callbacks", plain_callbacks)
    assert raised.value.code == 130
