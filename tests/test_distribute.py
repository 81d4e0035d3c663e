"""--distribute: one step under MirroredStrategy with 2 replicas (two logical CPU devices,
tests/conftest.py) equals one step on one device with the same global batch, data and
noise, for every GAN step and a classifier; each replica draws its own noise; scripts
train, save and resume under a strategy; two local workers train the MLP together."""
import collections
import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from chapter1_mlp_cnn_rnn import mlp_mnist
from chapter4_gan import cgan_mnist, dcgan_mnist
from lib import cli, cyclegan, distribute, gan, resnet, stackedgan
from tests.conftest import compiled_gan, gan_batch, one_line, resume, run_until_interrupted

pytestmark = pytest.mark.slow  # whole training runs and multi-device steps

BATCH = 8  # the global batch: 4 examples per replica


def mirrored():
    """MirroredStrategy over the two logical CPU devices, as --distribute mirrored has it."""
    strategy = distribute.strategy_for("mirrored")
    assert strategy.num_replicas_in_sync == 2
    return strategy


def resnet8():
    """Chapter 2's ResNet v1 classifier (depth 8: ResNet20's layers, fewer blocks), with its
    batch normalization and L2 penalties. SGD, not the book's Adam: Adam's first step
    divides each gradient by its own size, so the rounding noise of gradients that are
    zero in exact arithmetic (a convolution's bias before batch normalization) becomes an
    update of the full learning rate, different on one device and on two."""
    model = resnet.resnet((32, 32, 3), depth=8)
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  metrics=["accuracy"])
    return model


IMAGE = (8, 8, 1)  # the book's networks on small images: a quick step, the same arithmetic
STEPS = {  # model builder, one batch of the step's data, the method that draws its random inputs
    **{kind: (lambda kind=kind: compiled_gan(kind, IMAGE, feature_dim=16),
              lambda kind=kind: gan_batch(kind, BATCH, IMAGE),
              "random_z" if kind == "stackedgan" else "random_inputs")
       for kind in ("dcgan", "cgan", "wgan", "acgan", "infogan", "stackedgan")},
    # CycleGAN's U-Net needs 16x16: on 8x8 its deepest layer would normalize 1x1 maps to 0.
    "cyclegan": (lambda: compiled_gan("cyclegan", (16, 16, 1)),
                 lambda: gan_batch("cyclegan", BATCH, (16, 16, 1)), None),
    "resnet8": (resnet8, lambda: gan_batch("cgan", BATCH, (32, 32, 3)), None),  # images, labels
}


def draws_of_one_step(model, draw_method, data):
    """Everything `draw_method` returns, call by call, in one eager train_step of the
    model on the whole batch."""
    draws, plain_draw = [], getattr(model, draw_method)

    def recorded_draw(batch_size):
        drawn = plain_draw(batch_size)
        draws.append(tf.nest.map_structure(np.array, drawn))
        return drawn

    setattr(model, draw_method, recorded_draw)
    model.train_step(data)
    return draws


def replayed(draws):
    """A draw method that gives each replica, call by call, its rows of the recorded draws,
    as `fit` gives it its rows of a batch."""
    calls = collections.Counter()

    def draw(batch_size):
        context = tf.distribute.get_replica_context()
        replica = int(tf.get_static_value(context.replica_id_in_sync_group))
        count = BATCH // context.num_replicas_in_sync
        drawn = draws[calls[replica]]
        calls[replica] += 1
        return tf.nest.map_structure(
            lambda array: tf.constant(array[replica * count:(replica + 1) * count]), drawn)

    return draw


def one_step(strategy, build, weights, data, draw_method=None, draws=None):
    """Build the model in the strategy's scope with the given weights (and its draw_method
    replaced by one replaying `draws`), run one train_step on the global batch split
    among the replicas; returns (logs, weights after)."""
    with strategy.scope():
        model = build()
    model.set_weights(weights)
    if draw_method:
        setattr(model, draw_method, replayed(draws))

    def share(values):  # each replica's rows of every array, as `fit` splits a batch
        def value_fn(context):
            count = BATCH // context.num_replicas_in_sync
            start = context.replica_id_in_sync_group * count
            return tf.nest.map_structure(lambda array: array[start:start + count], values)
        return strategy.experimental_distribute_values_from_function(value_fn)

    if isinstance(model, (gan.GAN, stackedgan.StackedGAN, cyclegan.CycleGAN)):
        logs = tf.function(lambda data: strategy.run(model.train_step, args=(data,)))(share(data))
        logs = {name: float(strategy.reduce("MEAN", value, axis=None)) for name, value in logs.items()}
    else:  # a compiled classifier: Keras' own step, under fit, which splits the batch the same way
        logs = {name: values[0] for name, values in model.fit(
            *data, batch_size=BATCH, epochs=1, shuffle=False, verbose=0).history.items()}
    return logs, [np.array(weight) for weight in model.get_weights()]


@pytest.mark.parametrize("name", sorted(STEPS))
def test_one_mirrored_step_on_two_replicas_equals_one_step_on_one_device(name):
    build, make_data, draw_method = STEPS[name]
    keras.utils.set_random_seed(0)
    reference = build()
    weights = reference.get_weights()
    data = make_data()
    draws = draws_of_one_step(reference, draw_method, data) if draw_method else None

    one_device_logs, one_device_weights = one_step(tf.distribute.get_strategy(), build, weights,
                                                   data, draw_method, draws)
    two_replica_logs, two_replica_weights = one_step(mirrored(), build, weights, data,
                                                     draw_method, draws)

    assert two_replica_logs.keys() == one_device_logs.keys()
    for key, value in one_device_logs.items():
        assert two_replica_logs[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    moved = 0
    for before, one_device, two_replicas in zip(weights, one_device_weights, two_replica_weights):
        np.testing.assert_allclose(two_replicas, one_device, atol=1e-5)
        moved += not np.allclose(one_device, before)
    assert moved > len(weights) // 2  # the step trained: most weights moved


def batch_normalizations(model):
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert layers
    return layers


def test_batch_normalization_is_synchronized_only_with_several_replicas():
    assert not any(layer.synchronized for layer in batch_normalizations(gan.build_generator()))
    with mirrored().scope():
        for model in (gan.build_generator(), resnet.resnet((32, 32, 3), depth=20)):
            assert all(layer.synchronized for layer in batch_normalizations(model))


def test_each_replica_draws_its_own_noise():
    strategy = mirrored()
    with strategy.scope():
        model = compiled_gan("dcgan")
    noise = strategy.run(tf.function(lambda: model.random_inputs(4)[0]))
    first, second = strategy.experimental_local_results(noise)
    assert first.shape == second.shape == (4, 100)
    assert not np.allclose(first, second)


def test_a_dcgan_trains_saves_and_resumes_on_two_replicas(out_dir, monkeypatch, capsys):
    argv = ["--dataset", "mnist_subset", "--limit", "64", "--batch-size", "8", "--train-steps", "4",
            "--save-interval", "2", "--eval-samples", "0", "--distribute", "mirrored",
            "--out-dir", str(out_dir)]
    interrupted = run_until_interrupted(dcgan_mnist.main, argv, monkeypatch, epoch=0)
    assert capsys.readouterr().out.splitlines()[0].startswith(
        "Running on /job:localhost/replica:0/task:0/device:CPU:0, "
        "/job:localhost/replica:0/task:0/device:CPU:1 (MirroredStrategy): 2 replicas")
    results = resume(dcgan_mnist.main, argv, monkeypatch, interrupted, epochs_left=[1])
    assert "resuming the interrupted run" in capsys.readouterr().out
    assert results["steps"] == 4
    # Restored, not restarted: the resumed run added one save interval, two steps.
    assert results["optimizer_steps"] == {"discriminator": 4, "generator": 4}
    assert len((out_dir / "history.csv").read_text().splitlines()) == 1 + 2
    generated = cgan_mnist.main(["--dataset", "mnist_subset", "--limit", "64", "--batch-size", "8",
                                 "--train-steps", "1", "--save-interval", "1", "--eval-samples",
                                 "0", "--distribute", "mirrored", "--out-dir", str(out_dir / "c")])
    assert np.isfinite(generated["d_loss"]) and np.isfinite(generated["g_loss"])


def test_a_classifier_learns_on_two_replicas(out_dir):
    results = mlp_mnist.main(["--dataset", "mnist_subset", "--epochs", "2", "--batch-size", "64",
                              "--distribute", "mirrored", "--out-dir", str(out_dir)])
    assert results["test_accuracy"] > 0.5  # chance is 0.1


@pytest.mark.parametrize("flags, message", [
    (["--distribute", "multiworker"], "TF_CONFIG environment variable, which is not set"),
    (["--distribute", "tpu", "--tpu", "local"],
     "--distribute tpu: no TPU at 'local' (TPUs not found in the cluster)"),
])
def test_a_strategy_that_cannot_run_here_is_one_line(flags, message, out_dir, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(SystemExit) as raised:
        mlp_mnist.main([*flags, "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and message in one_line(capsys.readouterr().err)


def test_a_batch_that_does_not_split_among_the_replicas_is_one_line(out_dir, capsys):
    with pytest.raises(SystemExit) as raised:
        mlp_mnist.main(["--distribute", "mirrored", "--batch-size", "7", "--out-dir", str(out_dir)])
    assert raised.value.code == 2
    assert "7 does not split evenly among 2 replicas" in one_line(capsys.readouterr().err)


def test_a_malformed_tf_config_is_one_line():
    with pytest.raises(distribute.UnavailableStrategy, match="TF_CONFIG must be JSON"):
        distribute.check_tf_config('{"cluster": {"worker": ["localhost:1"]}}')


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_two_local_workers_train_the_mlp_together(tmp_path):
    """Two processes, one MultiWorkerMirroredStrategy (TF_CONFIG on 127.0.0.1 ports): each
    worker's replica takes half of every batch; the chief writes --out-dir, the other
    worker workers/worker_1/ inside it."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    out_dir = tmp_path / "out"
    workers = []
    for index in range(2):
        environment = {**os.environ, "TF_CONFIG": json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen(
            [sys.executable, "chapter1_mlp_cnn_rnn/mlp_mnist.py", "--dataset", "mnist_subset",
             "--limit", "1024", "--epochs", "1", "--batch-size", "64", "--distribute",
             "multiworker", "--out-dir", str(out_dir)], cwd=cli.REPO_ROOT, env=environment,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
        assert "(MultiWorkerMirroredStrategy" in output and ": 2 replicas" in output, output[:2000]
    chief = json.loads((out_dir / "metrics.json").read_text())
    other = json.loads((out_dir / "workers" / "worker_1" / "metrics.json").read_text())
    assert chief["test_accuracy"] > 0.3  # chance is 0.1, after 16 global steps
    assert other["test_accuracy"] == pytest.approx(chief["test_accuracy"])  # one model, mirrored
