"""Shared fixtures and helpers: every test writes under its own temporary folder and never
downloads; the tiny runs' flags and the compiled GAN models that several test files use."""
import io
import socket
import tempfile
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from lib import cli, cyclegan, data, gan, metrics, stackedgan, training
from lib.resume import other_variables

# Two logical CPU devices, so that tests can train under MirroredStrategy with 2 replicas
# (tests/test_distribute.py); set before TensorFlow runs anything. One-device runs use
# the first, as on any machine.
tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)


# The flags of a tiny run, per kind of script: a few hundred real digits, one epoch or a
# few steps of small batches.
CLASSIFIER_RUN = ["--dataset", "mnist_subset", "--limit", "300", "--epochs", "1"]
AUTOENCODER_RUN = ["--dataset", "mnist_subset", "--limit", "200", "--epochs", "1"]
GAN_RUN = ["--dataset", "mnist_subset", "--limit", "128", "--batch-size", "8", "--eval-samples", "200"]
CYCLEGAN_RUN = ["--limit", "32", "--batch-size", "4", "--eval-samples", "16"]


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


@pytest.fixture(autouse=True)
def op_determinism_requests(monkeypatch):
    """--deterministic's calls of tf.config.experimental.enable_op_determinism, recorded
    instead of made: TensorFlow has no public switch back, and left on it would change
    every later test (unseeded random ops refuse to run). The exact-resume tests pass on
    this CPU without it."""
    requests = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism", lambda: requests.append(1))
    return requests


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


def networks_moved_by_each_update(monkeypatch, module, networks, run_step,
                                   update_function="optimizer_step"):
    """Run run_step() (one eager train_step) with `module`'s update function, the one every
    optimizer step of the model goes through, replaced by one that records which of
    `networks` ({name: model}) each update moved: a list, one dict per update, of each
    name -> "all", "some" or "none" of its trainable weights changed."""
    plain_update = getattr(module, update_function)
    updates = []

    def recorded_update(*args, **kwargs):
        before = {name: snapshot(network.trainable_weights) for name, network in networks.items()}
        result = plain_update(*args, **kwargs)
        moved = {}
        for name, network in networks.items():
            changes = changed(before[name], snapshot(network.trainable_weights))
            moved[name] = "all" if all(changes) else "some" if any(changes) else "none"
        updates.append(moved)
        return result

    monkeypatch.setattr(module, update_function, recorded_update)
    run_step()
    return updates


def assert_each_update_trains_only_its_network(monkeypatch, model, data, critic_updates=1):
    """The regression test for the Keras 3 trap of the book's trainable = False freeze: in
    one train_step, each D update (critic_updates x 2 for WGAN's real and fake batches,
    else one) changes every D weight and no G weight, then the G update every G weight
    and no D weight."""
    updates = networks_moved_by_each_update(monkeypatch, gan, model.networks(),
                                            lambda: model.train_step(data))
    d_updates = 2 * critic_updates if critic_updates > 1 else 1
    assert updates == ([{"generator": "none", "discriminator": "all"}] * d_updates
                       + [{"generator": "all", "discriminator": "none"}])


def h5_arrays(source):
    """Every array in an HDF5 file (a path or an open file), by its path in the file."""
    arrays = {}
    with h5py.File(source, "r") as file:
        file.visititems(lambda name, item: arrays.update(
            {name: item[()]} if isinstance(item, h5py.Dataset) else {}))
    return arrays


def saved_arrays(path):
    """The weights in a saved .weights.h5 or .keras file, by path."""
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            return h5_arrays(io.BytesIO(archive.read("model.weights.h5")))
    return h5_arrays(path)


def saved_networks(folder):
    """The names of the networks a run saved in folder (.keras, then .weights.h5)."""
    return [path.name for pattern in ("*.keras", "*.weights.h5")
            for path in sorted(folder.glob(pattern))]


def model_state(model):
    """Every number a backup holds of a model, by name: its weights, its optimizers'
    variables (moments, step counts) and its other variables (random seed generators'
    states)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.weights.h5"
        model.save_weights(path)
        state = h5_arrays(path)
    state.update({f"other_variable_{index}": keras.ops.convert_to_numpy(variable)
                  for index, variable in enumerate(other_variables(model))})
    return state


def assert_same_state(expected, actual, atol=0.0):
    assert sorted(expected) == sorted(actual)
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=0, atol=atol, err_msg=name)


class InterruptAfter(keras.callbacks.Callback):
    """Acts like Ctrl-C at the end of an epoch (after the backup has saved it); keeps the
    model's state then (`model_state`)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.state = epoch, None

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.state = model_state(self.model)
            raise KeyboardInterrupt


class ResumeRecorder(keras.callbacks.Callback):
    """Placed after the backup: the model's state once the backup is restored, and the
    epochs run."""

    def __init__(self):
        super().__init__()
        self.state, self.epochs = None, []

    def on_train_begin(self, logs=None):
        self.state = model_state(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def run_with_callback(main, argv, monkeypatch, callback):
    """main(argv) with `callback` after the standard callbacks (the backup's included)."""
    plain_callbacks = training.fit_callbacks
    monkeypatch.setattr(training, "fit_callbacks", lambda *run: plain_callbacks(*run) + [callback])
    try:
        return main(argv)
    finally:
        monkeypatch.setattr(training, "fit_callbacks", plain_callbacks)


def run_until_interrupted(main, argv, monkeypatch, epoch):
    """Run a script's main(argv) as if Ctrl-C came at the end of `epoch` (its backup
    already saved), asserting exit status 130. Returns the model's state then."""
    interrupt = InterruptAfter(epoch)
    with pytest.raises(SystemExit) as raised:
        run_with_callback(main, argv, monkeypatch, interrupt)
    assert raised.value.code == 130
    return interrupt.state


def resume(main, argv, monkeypatch, interrupted_state, epochs_left):
    """main(argv + --resume) after `run_until_interrupted`, asserting that the run was
    restored, not restarted: it starts from the state at the interruption (every
    weight, optimizer moment and step count, seed state) and runs only `epochs_left`.
    Returns what main returned."""
    recorder = ResumeRecorder()
    results = run_with_callback(main, [*argv, "--resume"], monkeypatch, recorder)
    assert recorder.epochs == list(epochs_left)
    assert_same_state(interrupted_state, recorder.state)
    return results


def assert_resume_is_exact(main, argv, tmp_path, monkeypatch, interrupt_after, epochs):
    """With --deterministic, a run of `epochs` Keras epochs interrupted after epoch
    `interrupt_after` and resumed (`resume`) ends as the run never interrupted: every
    saved network's weights allclose to 1e-6, the same history.csv and quality.csv.
    Returns the resumed run's results."""
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    argv = [*argv, "--deterministic"]
    main([*argv, "--out-dir", str(whole)])
    state = run_until_interrupted(main, [*argv, "--out-dir", str(parts)], monkeypatch,
                                  interrupt_after)
    results = resume(main, [*argv, "--out-dir", str(parts)], monkeypatch, state,
                     range(interrupt_after + 1, epochs))
    saved = saved_networks(whole)
    assert saved and saved == saved_networks(parts)
    for name in saved:
        assert_same_state(saved_arrays(whole / name), saved_arrays(parts / name), atol=1e-6)
    for log in ("history.csv", "quality.csv"):
        if (whole / log).exists() or (parts / log).exists():
            assert (parts / log).read_text() == (whole / log).read_text(), log
    return results


def tiny_svhn(count=24):
    """Random house-number-sized colour images: SVHN itself cannot be had offline."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, count)
    return (images, labels), (images[:8], labels[:8])


def tiny_mnist():
    """32 training and 8 test digits of the offline MNIST subset, as MNIST itself."""
    digits = data.load("mnist_subset")
    return (digits.x_train[:32], digits.y_train[:32]), (digits.x_test[:8], digits.y_test[:8])


# Every GAN the scripts train, compiled as they build it, for tests of the compiled step.
GAN_KINDS = ("dcgan", "cgan", "wgan", "lsgan", "acgan", "infogan", "stackedgan", "cyclegan")


def compiled_gan(kind, image_shape=gan.IMAGE_SHAPE, feature_dim=stackedgan.FEATURE_DIM):
    """A compiled model of one of GAN_KINDS with the book's networks, on images of
    image_shape (small ones make quick tests; CycleGAN's source, its target being the same
    in colour) and, for StackedGAN, features of feature_dim."""
    if kind == "stackedgan":
        model = stackedgan.StackedGAN(*stackedgan.build_networks(image_shape, feature_dim))
        (d0, g0), (d1, g1) = gan.book_optimizers(), gan.book_optimizers()
        model.compile({"dis0": d0, "gen0": g0, "dis1": d1, "gen1": g1})
        return model
    if kind == "cyclegan":
        model = cyclegan.CycleGAN(cyclegan.build_networks(image_shape, (*image_shape[:2], 3)),
                                  identity_loss=True)
        model.compile(cyclegan.book_optimizers())
        return model
    num_labels = 10 if kind in ("cgan", "acgan", "infogan") else 0
    num_codes = 2 if kind == "infogan" else 0
    latent_dim = 62 if kind == "infogan" else gan.LATENT_DIM
    generator = gan.build_generator(latent_dim, image_shape, num_labels, num_codes)
    discriminator = gan.build_discriminator(
        image_shape, num_labels=num_labels if kind == "cgan" else 0,
        label_outputs=num_labels if kind != "cgan" else 0, num_codes=num_codes,
        activation=None if kind in ("wgan", "lsgan") else "sigmoid")
    model_class = {"wgan": gan.WGAN, "acgan": gan.ACGAN, "infogan": gan.InfoGAN}.get(kind, gan.GAN)
    model = model_class(generator, discriminator, latent_dim=latent_dim, num_labels=num_labels,
                        num_codes=num_codes, labels_into_discriminator=kind == "cgan")
    loss = {"loss": keras.losses.MeanSquaredError()} if kind == "lsgan" else {}
    model.compile(*gan.book_optimizers(), **loss)
    return model


def gan_batch(kind, batch_size=8, image_shape=gan.IMAGE_SHAPE, seed=0):
    """One batch of random data for a train_step of compiled_gan(kind, image_shape): images
    (WGAN: one batch per critic update), with one-hot labels for the conditional GANs and
    StackedGAN, or (source, target) images for CycleGAN. Tensors, as fit gives train_step."""
    rng = np.random.default_rng(seed)

    def images(*shape):
        return tf.constant(rng.uniform(size=(batch_size, *shape)), "float32")

    if kind == "wgan":
        return images(gan.WGAN.critic_updates, *image_shape)
    if kind == "cyclegan":
        return images(*image_shape), images(*image_shape[:2], 3)
    if kind in ("cgan", "acgan", "infogan", "stackedgan"):
        return images(*image_shape), tf.one_hot(np.arange(batch_size) % 10, 10)
    return images(*image_shape)
