"""Chapter 6: InfoGAN and StackedGAN keep each D's and G's updates apart (and the
StackedGAN encoder frozen), weigh their losses as the book, have the book's
parameter counts, run end to end, and their sweeps have the expected grid shapes."""
import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from chapter6_infogan_stackedgan import infogan_mnist, stackedgan_mnist
from lib import gan, stackedgan
from tests.conftest import (GAN_RUN, assert_each_update_trains_only_its_network, compiled_gan,
                            gan_batch, networks_moved_by_each_update, one_line, resume,
                            run_until_interrupted)


def test_d_learns_only_in_the_d_update_and_g_only_in_the_g_update(monkeypatch):
    assert_each_update_trains_only_its_network(monkeypatch, compiled_gan("infogan"),
                                               gan_batch("infogan"))


def test_codes_are_drawn_from_n_0_half_for_fakes_and_real_images():
    model = compiled_gan("infogan")
    _, labels, *fake_codes = model.random_inputs(4000)
    real_labels = tf.one_hot(tf.range(4000) % 10, 10)
    given_labels, *real_codes = model.real_conditions(real_labels, 4000)
    assert tuple(labels.shape) == (4000, 10) and given_labels is real_labels
    assert len(fake_codes) == len(real_codes) == 2
    for code in (*fake_codes, *real_codes):
        assert tuple(code.shape) == (4000, 1)
        assert float(tf.math.reduce_std(code)) == pytest.approx(0.5, abs=0.03)


def test_mutual_information_loss_is_the_books_formula():
    codes = tf.constant([[1.0], [-0.5]])
    predictions = tf.constant([[0.8], [0.25]])
    expected = -(1.0 * math.log(0.8) - 0.5 * math.log(0.25)) / 2
    assert float(gan.mutual_information_loss(codes, predictions)) == pytest.approx(expected, rel=1e-5)


def test_the_code_losses_count_half():
    model = compiled_gan("infogan")
    images = tf.random.uniform((6, 28, 28, 1))
    conditions = model.random_inputs(6)[1:]
    loss, logs = model.score(tf.ones((6, 1)), model.discriminator(images), conditions)
    assert sorted(logs) == sorted(gan.InfoGAN.logged)
    expected = (logs["source_loss"] + logs["label_loss"]
                + 0.5 * logs["code_1_loss"] + 0.5 * logs["code_2_loss"])
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.slow
def test_end_to_end_then_generate_and_sweep_the_codes(out_dir):
    metrics = infogan_mnist.main([*GAN_RUN, "--train-steps", "2", "--save-interval", "1",
                                  "--out-dir", str(out_dir)])
    assert metrics["params"] == {"generator": 1_138_433, "discriminator": 1_606_541}
    assert {f"{network}_code_{index}_loss" for network in "dg" for index in (1, 2)} <= set(metrics)
    saved = str(out_dir / "infogan_mnist_generator.keras")

    generated = infogan_mnist.main(["-g", saved, "-d", "3", "-a", "1.5", "-b", "-1",
                                    "--out-dir", str(out_dir / "generated")])
    assert generated["titles"] == ["digit 3"] * 16
    assert (out_dir / "generated" / "generated.png").stat().st_size > 0

    swept = infogan_mnist.main(["-g", saved, "-d", "7", "--p1", "--out-dir", str(out_dir / "one")])
    assert swept == {"grid_rows_columns": {"sweep_code1": [1, 16]}}
    swept = infogan_mnist.main(["-g", saved, "--p1", "--p2", "--out-dir", str(out_dir / "all")])
    assert swept == {"grid_rows_columns": {"sweep_code1": [10, 16], "sweep_code2": [10, 16]}}
    for name in ("sweep_code1.png", "sweep_code2.png"):
        assert (out_dir / "all" / name).stat().st_size > 0


def test_a_sweep_without_a_generator_exits_2(out_dir, capsys):
    with pytest.raises(SystemExit) as raised:
        infogan_mnist.main(["--p1", "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "-g" in one_line(capsys.readouterr().err)


def test_a_generator_without_codes_is_refused(tmp_path, capsys):
    path = tmp_path / "cgan.keras"
    gan.build_generator(num_labels=10).save(path)
    with pytest.raises(SystemExit) as raised:
        infogan_mnist.main(["-g", str(path), "--p2", "--out-dir", str(tmp_path / "out")])
    assert raised.value.code == 2 and "input" in one_line(capsys.readouterr().err)


def test_stackedgan_parameter_counts_match_the_book():
    _, _, generator0, generator1, discriminator0, discriminator1 = stackedgan.build_networks()
    assert generator1.count_params() == 429_312
    assert generator0.count_params() == 2_593_537
    assert discriminator0.count_params() == 1_285_427
    assert discriminator1.count_params() == 144_691


def test_each_stackedgan_update_trains_only_its_network_and_never_the_encoder(monkeypatch):
    model = compiled_gan("stackedgan")
    networks = {"encoder0": model.encoder0, "encoder1": model.encoder1, "gen0": model.generator0,
                "gen1": model.generator1, "dis0": model.discriminator0, "dis1": model.discriminator1}
    data = gan_batch("stackedgan")
    updates = networks_moved_by_each_update(monkeypatch, gan, networks, lambda: model.train_step(data))
    # In the book's order dis1, dis0, gen1, gen0; the encoders never move.
    assert updates == [{name: "all" if name == trained else "none" for name in networks}
                       for trained in ("dis1", "dis0", "gen1", "gen0")]
    assert model.optimizer_steps() == {"dis0": 1, "gen0": 1, "dis1": 1, "gen1": 1}


@pytest.mark.slow
def test_stackedgan_end_to_end_then_generate_and_sweep(out_dir):
    argv = [*GAN_RUN, "--encoder-epochs", "1", "--train-steps", "2", "--save-interval", "1",
            "--out-dir", str(out_dir)]
    metrics = stackedgan_mnist.main(argv)
    assert metrics["params"] == {"generator0": 2_593_537, "generator1": 429_312,
                                 "discriminator0": 1_285_427, "discriminator1": 144_691}
    assert 0.0 <= metrics["encoder_test_accuracy"] <= 1.0
    assert {"gen0_entropy_loss", "gen0_conditional_loss", "gen1_adversarial_loss",
            "dis0_z_loss", "dis1_source_acc"} <= set(metrics)
    assert (out_dir / "samples" / "step_000002.png").exists()
    assert (out_dir / "stackedgan_mnist_encoder.weights.h5").stat().st_size > 0

    generators = ["-g", str(out_dir / "stackedgan_mnist_generator0.keras"),
                  "-k", str(out_dir / "stackedgan_mnist_generator1.keras")]
    generated = stackedgan_mnist.main([*generators, "-d", "5", "--z0", "0.5", "--z1", "-0.5",
                                       "--out-dir", str(out_dir / "generated")])
    assert generated["titles"] == ["digit 5"] * 16
    swept = stackedgan_mnist.main([*generators, "-z", "0", "--p0", "-x", "0", "--p1",
                                   "--out-dir", str(out_dir / "all")])
    assert swept == {"grid_rows_columns": {"sweep_z0": [10, 16], "sweep_z1": [10, 16]}}
    # --eval-only takes only the flags it uses: GAN_RUN's training flags would be refused
    evaluated = stackedgan_mnist.main(["--dataset", "mnist_subset", "--eval-samples", "200",
                                       "--eval-only", "--out-dir", str(out_dir)])
    assert evaluated["generator"] == generators[1::2]  # both, as training saved them
    assert evaluated["quality"] == metrics["quality"]
    assert "label_accuracy" in evaluated["quality"]  # of the chained generators' labels


def test_stackedgan_refuses_its_two_generators_swapped(tmp_path, capsys):
    _, _, generator0, generator1, _, _ = stackedgan.build_networks()
    generator0.save(tmp_path / "g0.keras"), generator1.save(tmp_path / "g1.keras")
    with pytest.raises(SystemExit) as raised:
        stackedgan_mnist.main(["-g", str(tmp_path / "g1.keras"), "-k", str(tmp_path / "g0.keras"),
                               "--out-dir", str(tmp_path / "out")])
    assert raised.value.code == 2
    error = one_line(capsys.readouterr().err)
    assert "g1.keras holds a model named" in error and "with inputs 10 and 50 and output 256" in error


def test_a_broken_pretrained_encoder_on_resume_is_one_line(out_dir, capsys):
    out_dir.mkdir()
    (out_dir / "stackedgan_mnist_encoder.weights.h5").write_bytes(b"not an HDF5 file")
    with pytest.raises(SystemExit) as raised:
        stackedgan_mnist.main([*GAN_RUN, "--resume", "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "cannot load the pre-trained encoder from" in one_line(
        capsys.readouterr().err)


def test_dis1_uses_relu_as_the_books():
    dis1 = stackedgan.build_discriminator1()
    hidden = [layer for layer in dis1.layers if isinstance(layer, keras.layers.Dense)][:2]
    assert [(layer.units, layer.activation.__name__) for layer in hidden] == [(256, "relu")] * 2
    assert not any(isinstance(layer, keras.layers.LeakyReLU) for layer in dis1.layers)


def test_gen1_learns_from_the_real_batchs_labels_as_the_books(monkeypatch):
    model = compiled_gan("stackedgan")
    images, labels = gan_batch("stackedgan")
    given = []
    plain_call = model.generator1.call
    monkeypatch.setattr(model.generator1, "call", lambda inputs, **kwargs: given.append(inputs[0])
                        or plain_call(inputs, **kwargs))
    model.train_step((images, labels))
    assert len(given) == 2  # dis1's fakes, then gen1's update
    for step_labels in given:
        np.testing.assert_array_equal(step_labels, labels)


def test_the_books_z_flags_and_sweeps(tmp_path, monkeypatch, capsys):
    """-z/-x are --z0/--z1; --p0 sweeps z0 over linspace(-4, 4, 16), --p1 z1 over
    linspace(-1, 1, 16), each only when its z is given, as in the book."""
    parser = stackedgan_mnist.make_parser()
    assert (parser.parse_args(["-z", "0.5", "-x", "-1"]).z0,
            parser.parse_args(["-z", "0.5", "-x", "-1"]).z1) == (0.5, -1.0)
    generator0, generator1 = tmp_path / "g0.keras", tmp_path / "g1.keras"
    _, _, gen0, gen1, _, _ = stackedgan.build_networks()
    gen0.save(generator0), gen1.save(generator1)
    swept = {}
    monkeypatch.setattr(stackedgan_mnist.gan_runs, "save_sweep",
                        lambda images, digits, values, path, title: swept.setdefault(path.name, values))
    stackedgan_mnist.main(["-g", str(generator0), "-k", str(generator1), "-d", "3", "-z", "1",
                           "--p0", "-x", "1", "--p1", "--out-dir", str(tmp_path / "swept")])
    np.testing.assert_allclose(swept["sweep_z0.png"], np.linspace(-4, 4, 16))
    np.testing.assert_allclose(swept["sweep_z1.png"], np.linspace(-1, 1, 16))
    capsys.readouterr()
    generated = stackedgan_mnist.main(["-g", str(generator0), "-k", str(generator1), "--p0",
                                       "--out-dir", str(tmp_path / "random")])
    assert "--p0 sweeps z0 when -z/--z0 is given too" in capsys.readouterr().out
    assert generated["generated"] == 16 and (tmp_path / "random" / "generated.png").exists()
    with pytest.raises(SystemExit) as raised:
        stackedgan_mnist.main(["-z", "nan", "--out-dir", str(tmp_path / "nan")])
    assert raised.value.code == 2 and "expected a number from -4 to 4" in one_line(capsys.readouterr().err)


@pytest.mark.slow
def test_an_interrupted_stackedgan_resumes_with_its_encoder_and_four_optimizers(
        out_dir, monkeypatch, capsys):
    argv = [*GAN_RUN, "--eval-samples", "0", "--encoder-epochs", "1", "--train-steps", "2",
            "--save-interval", "1", "--out-dir", str(out_dir)]
    interrupted = run_until_interrupted(stackedgan_mnist.main, argv, monkeypatch, epoch=0)
    pretrained = re.search(r"Encoder test accuracy: ([0-9.]+)%", capsys.readouterr().out)
    # Restored, not restarted: the four networks, optimizers and noise state as they were
    # at the interruption, and only the second step left to run.
    metrics = resume(stackedgan_mnist.main, argv, monkeypatch, interrupted, epochs_left=[1])
    assert "Loaded the pre-trained encoder" in capsys.readouterr().out
    # The same encoder, not a new one: same test accuracy; and all four optimizers went on.
    assert f"{100 * metrics['encoder_test_accuracy']:.1f}" == pretrained.group(1)
    assert metrics["optimizer_steps"] == {"dis0": 2, "gen0": 2, "dis1": 2, "gen1": 2}


def test_stackedgan_generation_needs_both_generators(out_dir, capsys):
    path = out_dir.parent / "gen0.keras"
    gan.build_generator(latent_dim=50, feature_dim=256).save(path)
    with pytest.raises(SystemExit) as raised:
        stackedgan_mnist.main(["-g", str(path), "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "-k" in one_line(capsys.readouterr().err)
