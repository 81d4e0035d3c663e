"""Chapter 5: WGAN, LSGAN and ACGAN keep D's and G's updates apart; the critic is
clipped and updated 5 times per generator update; ACGAN logs each head by name;
the book's parameter counts; each script end to end; the divergence figure's numbers."""
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from chapter5_wgan_lsgan import acgan_mnist, divergences, lsgan_mnist, wgan_mnist
from lib import gan
from tests.conftest import (GAN_RUN, assert_each_update_trains_only_its_network, compiled_gan,
                            gan_batch, one_line)

ACGAN_LOGS = ["loss", "source_loss", "label_loss", "source_acc", "label_acc"]


@pytest.mark.parametrize("kind", ["wgan", "lsgan", "acgan"])
def test_d_learns_only_in_the_d_updates_and_g_only_in_the_g_update(kind, monkeypatch):
    critic_updates = gan.WGAN.critic_updates if kind == "wgan" else 1
    assert_each_update_trains_only_its_network(monkeypatch, compiled_gan(kind), gan_batch(kind),
                                               critic_updates)


def test_the_critic_is_clipped_after_its_updates():
    model = compiled_gan("wgan")
    assert max(float(tf.reduce_max(tf.abs(weight))) for weight in model.discriminator.weights) > 0.01
    model.train_step(gan_batch("wgan"))  # the G update leaves the critic as it is
    for weight in model.discriminator.weights:
        assert float(tf.reduce_max(tf.abs(weight))) <= 0.01


def test_wgan_updates_the_critic_5_times_per_generator_update(monkeypatch):
    """Run eagerly, one train step: count the clipped critic updates and optimizer steps."""
    model = compiled_gan("wgan")
    clips = []
    plain_clip = model.clip_critic_weights
    monkeypatch.setattr(model, "clip_critic_weights", lambda: clips.append(1) or plain_clip())
    logs = model.train_step(gan_batch("wgan"))
    assert len(clips) == 5
    # Each critic update is two optimizer steps (real batch, fake batch) as in the book.
    assert int(model.d_optimizer.iterations) == 10 and int(model.g_optimizer.iterations) == 1
    assert sorted(logs) == ["d_loss", "g_loss"]


def test_wasserstein_loss_is_minus_the_mean_signed_score():
    targets = tf.constant([[1.0], [1.0], [-1.0], [-1.0]])
    scores = tf.constant([[2.0], [4.0], [1.0], [-3.0]])
    assert float(keras.ops.mean(gan.wasserstein_loss(targets, scores))) == pytest.approx(-(2 + 4 - 1 + 3) / 4)


def test_acgan_logs_each_head_by_name():
    model = compiled_gan("acgan")
    real = tf.random.uniform((8, 28, 28, 1))
    labels = tf.one_hot(tf.range(8) % 10, 10)
    logs = model.train_step((real, labels))
    assert sorted(logs) == sorted(f"{network}_{name}" for network in "dg" for name in ACGAN_LOGS)
    source, probabilities = (np.asarray(output) for output in model.discriminator(real))
    d_logs = model.score(tf.ones((8, 1)), [source, probabilities], [labels])[1]
    # The book's two losses and accuracies, computed here with NumPy from D's outputs.
    source_loss = -np.mean(np.log(np.clip(source, 1e-7, 1 - 1e-7)))
    label_loss = -np.mean(np.log(np.clip(probabilities[np.arange(8), np.arange(8) % 10], 1e-7, 1)))
    assert float(d_logs["source_loss"]) == pytest.approx(source_loss, rel=1e-4)
    assert float(d_logs["label_loss"]) == pytest.approx(label_loss, rel=1e-4)
    assert float(d_logs["loss"]) == pytest.approx(source_loss + label_loss, rel=1e-4)
    assert float(d_logs["label_acc"]) == np.mean(np.argmax(probabilities, axis=1) == np.arange(8) % 10)
    assert float(d_logs["source_acc"]) == np.mean(source > 0.5)


def test_parameter_counts_match_the_book():
    """WGAN and LSGAN: the DCGAN's networks with a linear D; ACGAN: the CGAN's G and a D
    with the label head instead of the label input."""
    assert gan.build_generator().count_params() == 1_301_505
    assert gan.build_discriminator(activation=None).count_params() == 1_080_577
    assert gan.build_generator(num_labels=10).count_params() == 1_364_225
    assert gan.build_discriminator(label_outputs=10).count_params() == 1_606_283


@pytest.mark.slow
def test_wgan_end_to_end(out_dir):
    metrics = wgan_mnist.main([*GAN_RUN, "--train-steps", "2", "--save-interval", "1",
                               "--out-dir", str(out_dir)])
    assert metrics["steps"] == 2
    assert metrics["optimizer_steps"] == {"discriminator": 2 * 5 * 2, "generator": 2}
    assert sorted(path.name for path in (out_dir / "samples").iterdir()) == [
        "step_000001.png", "step_000002.png"]
    for name in ("training.gif", "wgan_mnist_generator.keras", "curves.png"):
        assert (out_dir / name).stat().st_size > 0
    generated = wgan_mnist.main(["-g", str(out_dir / "wgan_mnist_generator.keras"),
                                 "--out-dir", str(out_dir / "generated")])
    assert generated["generated"] == 16 and (out_dir / "generated" / "generated.png").exists()


@pytest.mark.slow
def test_a_few_lsgan_steps_teach_the_discriminator(out_dir):
    """After 20 least-squares steps on real digits D tells them from fakes better than a coin."""
    metrics = lsgan_mnist.main([*GAN_RUN, "--train-steps", "20", "--save-interval", "10",
                                "--out-dir", str(out_dir)])
    assert metrics["d_acc"] > 0.6
    assert metrics["params"] == {"generator": 1_301_505, "discriminator": 1_080_577}
    assert (out_dir / "lsgan_mnist_generator.keras").stat().st_size > 0


@pytest.mark.slow
def test_acgan_end_to_end_then_generate_a_chosen_digit(out_dir):
    metrics = acgan_mnist.main([*GAN_RUN, "--train-steps", "2", "--save-interval", "1",
                                "--out-dir", str(out_dir)])
    assert metrics["params"] == {"generator": 1_364_225, "discriminator": 1_606_283}
    saved = json.loads((out_dir / "metrics.json").read_text())
    assert {f"d_{name}" for name in ACGAN_LOGS} | {f"g_{name}" for name in ACGAN_LOGS} <= set(saved)
    generated = acgan_mnist.main(["-g", str(out_dir / "acgan_mnist_generator.keras"), "-d", "3",
                                  "--out-dir", str(out_dir / "generated")])
    assert generated["titles"] == ["digit 3"] * 16


@pytest.mark.slow
def test_a_generator_of_another_gan_is_refused(out_dir, capsys):
    """An unconditional generator cannot serve ACGAN's -g: one line, exit 2."""
    wgan_mnist.main([*GAN_RUN, "--train-steps", "1", "--save-interval", "1", "--out-dir", str(out_dir)])
    with pytest.raises(SystemExit) as raised:
        acgan_mnist.main(["-g", str(out_dir / "wgan_mnist_generator.keras"),
                          "--out-dir", str(out_dir / "generated")])
    assert raised.value.code == 2 and "input" in one_line(capsys.readouterr().err)


def test_disjoint_parallel_distributions_have_constant_js_and_infinite_kl(out_dir):
    metrics = divergences.main(["--theta", "0.3", "--out-dir", str(out_dir)])
    assert metrics["kl"] == math.inf and metrics["js"] == pytest.approx(math.log(2))
    assert metrics["emd"] == pytest.approx(0.3)
    for row in metrics["by_theta"]:
        if row["theta"] == 0.0:
            assert row["kl"] == row["js"] == row["emd"] == 0.0
        else:
            assert row["js"] == pytest.approx(math.log(2))
            assert row["emd"] == pytest.approx(abs(row["theta"]))
    saved = json.loads((out_dir / "metrics.json").read_text())
    assert saved["kl"] is None  # infinite: JSON has no infinity
    assert (out_dir / "divergences.png").stat().st_size > 0


def test_a_theta_outside_the_plot_exits_2(out_dir, capsys):
    with pytest.raises(SystemExit) as raised:
        divergences.main(["--theta", "3", "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "--theta" in one_line(capsys.readouterr().err)
