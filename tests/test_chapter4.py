"""Chapter 4: the Keras 3 trap (D must learn in the D step and only there), the book's
parameter counts, each script end to end, resume at the saved step, generate-only."""
import io
import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from chapter4_gan import cgan_mnist, dcgan_mnist
from lib import gan, stackedgan
from tests.conftest import (GAN_RUN, assert_each_update_trains_only_its_network,
                            assert_resume_is_exact, compiled_gan, gan_batch, one_line)



@pytest.mark.parametrize("num_labels, g_params, d_params", [(0, 1_301_505, 1_080_577),
                                                            (10, 1_364_225, 1_090_001)])
def test_parameter_counts_match_the_book(num_labels, g_params, d_params):
    assert gan.build_generator(num_labels=num_labels).count_params() == g_params
    assert gan.build_discriminator(num_labels=num_labels).count_params() == d_params


def test_the_builders_make_infogans_networks_too():
    """Section 6.1: z of 62, 10 labels and 2 codes into G; D with source, label and code heads."""
    generator = gan.build_generator(latent_dim=62, num_labels=10, num_codes=2)
    discriminator = gan.build_discriminator(label_outputs=10, num_codes=2)
    assert generator.count_params() == 1_138_433
    assert discriminator.count_params() == 1_606_541
    assert [tensor.name for tensor in generator.inputs] == ["z", "labels", "code_1", "code_2"]
    outputs = discriminator(tf.zeros((3, 28, 28, 1)))
    assert [tuple(output.shape) for output in outputs] == [(3, 1), (3, 10), (3, 1), (3, 1)]


@pytest.mark.parametrize("kind", ["dcgan", "cgan"])
def test_d_learns_only_in_the_d_update_and_g_only_in_the_g_update(kind, monkeypatch):
    model = compiled_gan(kind)
    assert_each_update_trains_only_its_network(monkeypatch, model, gan_batch(kind))
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 1


def test_a_keras_loss_object_trains_as_its_function():
    """compile(loss=keras.losses.BinaryCrossentropy()), as keras-io passes one, is the same
    step as the default binary_crossentropy function; a MeanSquaredError object as LSGAN's."""
    def one_step(loss, activation):
        keras.utils.set_random_seed(0)
        model = gan.GAN(gan.build_generator(), gan.build_discriminator(activation=activation))
        model.compile(*gan.book_optimizers(), **loss)
        logs = model.train_step(tf.random.stateless_uniform((8, 28, 28, 1), (1, 2)))
        return {name: float(value) for name, value in logs.items()}

    assert one_step({"loss": keras.losses.BinaryCrossentropy()}, "sigmoid") == one_step({}, "sigmoid")
    assert one_step({"loss": keras.losses.MeanSquaredError()}, None) == one_step(
        {"loss": keras.losses.mean_squared_error}, None)


def test_book_optimizers_reproduce_keras2_decay():
    d_optimizer, g_optimizer = gan.book_optimizers()
    assert float(d_optimizer.learning_rate) == pytest.approx(2e-4)
    assert float(g_optimizer.learning_rate) == pytest.approx(1e-4)
    d_optimizer.iterations.assign(10**6)
    g_optimizer.iterations.assign(10**6)
    assert float(d_optimizer.learning_rate) == pytest.approx(2e-4 / (1 + 6e-8 * 10**6))
    assert float(g_optimizer.learning_rate) == pytest.approx(1e-4 / (1 + 3e-8 * 10**6))


@pytest.mark.slow
def test_a_few_dcgan_steps_teach_the_discriminator(out_dir):
    """After 20 steps on real digits D tells them from fakes better than a coin."""
    metrics = dcgan_mnist.main([*GAN_RUN, "--train-steps", "20", "--save-interval", "10",
                                "--out-dir", str(out_dir)])
    assert metrics["steps"] == 20 and metrics["d_acc"] > 0.6
    assert metrics["optimizer_steps"] == {"discriminator": 20, "generator": 20}
    assert metrics["params"] == {"generator": 1_301_505, "discriminator": 1_080_577}
    assert sorted(path.name for path in (out_dir / "samples").iterdir()) == [
        "step_000010.png", "step_000020.png"]
    for name in ("training.gif", "dcgan_mnist_generator.keras",
                 "dcgan_mnist_discriminator.weights.h5", "curves.png"):
        assert (out_dir / name).stat().st_size > 0
    assert json.loads((out_dir / "metrics.json").read_text()) == metrics
    # lib/metrics.py measured 200 generated digits after each save interval.
    assert metrics["quality"]["images"] == 200 and "label_accuracy" not in metrics["quality"]
    assert metrics["quality"]["frechet_distance"] > metrics["quality_ceiling"]["frechet_distance"]
    assert metrics["quality_ceiling"]["label_accuracy"] > 0.9
    assert len((out_dir / "quality.csv").read_text().splitlines()) == 1 + 2


@pytest.mark.slow
def test_eval_only_measures_the_generator_a_run_saved(out_dir, capsys):
    metrics = cgan_mnist.main([*GAN_RUN, "--train-steps", "1", "--save-interval", "1",
                               "--out-dir", str(out_dir)])
    # --eval-only takes only the flags it uses: GAN_RUN's training flags would be refused
    evaluated = cgan_mnist.main(["--dataset", "mnist_subset", "--eval-samples", "200", "--eval-only",
                                 "--out-dir", str(out_dir)])
    assert evaluated["generator"] == [str(out_dir / "cgan_mnist_generator.keras")]
    assert evaluated["quality"] == metrics["quality"]  # the same fixed inputs, the same numbers
    assert len(evaluated["quality"]["label_accuracy_per_class"]) == 10
    assert json.loads((out_dir / "quality.json").read_text()) == evaluated
    assert "label accuracy" in capsys.readouterr().out

    with pytest.raises(SystemExit) as raised:
        cgan_mnist.main(["--eval-only", "--out-dir", str(out_dir / "empty")])
    assert raised.value.code == 2 and "train first" in one_line(capsys.readouterr().err)


def test_cgan_end_to_end_then_generate_a_chosen_digit(out_dir):
    metrics = cgan_mnist.main([*GAN_RUN, "--train-steps", "2", "--save-interval", "1",
                               "--out-dir", str(out_dir)])
    assert metrics["params"] == {"generator": 1_364_225, "discriminator": 1_090_001}
    generated = cgan_mnist.main(["-g", str(out_dir / "cgan_mnist_generator.keras"), "-d", "7",
                                 "--out-dir", str(out_dir / "generated")])
    assert generated["titles"] == ["digit 7"] * 16
    assert (out_dir / "generated" / "generated.png").stat().st_size > 0


@pytest.mark.slow
def test_an_interrupted_gan_resumes_exactly(tmp_path, monkeypatch):
    """Interrupted after 1 of 2 steps and resumed: the same networks, losses and quality
    numbers as the run never interrupted (the noise generator and the data position
    come back with the backup), and every frame saved. Every GAN of lib/gan.py resumes
    the same way (one backup of its weights, optimizers and noise seed)."""
    argv = [*GAN_RUN, "--eval-samples", "16", "--train-steps", "2", "--save-interval", "1"]
    metrics = assert_resume_is_exact(dcgan_mnist.main, argv, tmp_path, monkeypatch,
                                     interrupt_after=0, epochs=2)
    assert metrics["steps"] == 2
    assert metrics["optimizer_steps"] == {"discriminator": 2, "generator": 2}
    assert [path.name for path in sorted((tmp_path / "parts" / "samples").iterdir())] == [
        "step_000001.png", "step_000002.png"]


def zip_of(name, content):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as files:
        files.writestr(name, content)
    return archive.getvalue()


@pytest.mark.parametrize("content, complaint", [
    (None, "no such file"),
    (b"not a model", "is not a saved Keras model"),
    (zip_of("config.json", "{}"), "cannot load a generator"),  # a zip, but not Keras'
])
def test_a_missing_or_corrupt_generator_exits_2_with_one_line(content, complaint, tmp_path, capsys):
    path = tmp_path / "generator.keras"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SystemExit) as raised:
        dcgan_mnist.main(["-g", str(path), "--out-dir", str(tmp_path / "out")])
    assert raised.value.code == 2 and complaint in one_line(capsys.readouterr().err)


def test_a_generator_of_the_right_input_count_but_wrong_shapes_exits_2_with_one_line(
        tmp_path, capsys):
    """StackedGAN's gen0 takes two inputs, as CGAN's generator does, but of sizes 50 and
    256, not 100 and 10: refused before it is run, not with a Keras traceback."""
    path = tmp_path / "gen0.keras"
    stackedgan.build_networks()[2].save(path)
    with pytest.raises(SystemExit) as raised:
        cgan_mnist.main(["-g", str(path), "--out-dir", str(tmp_path / "out")])
    assert raised.value.code == 2
    assert ("named 'generator0' with inputs 50 and 256 and output 28x28x1; this script "
            "needs a generator with inputs 100 and 10 and output 28x28x1"
            ) in one_line(capsys.readouterr().err)


def test_steps_must_be_a_multiple_of_the_save_interval(out_dir, capsys):
    with pytest.raises(SystemExit) as raised:
        dcgan_mnist.main([*GAN_RUN, "--train-steps", "5", "--save-interval", "2",
                          "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "multiple of" in one_line(capsys.readouterr().err)


def users_conditional_networks():
    """A generator and a discriminator of one's own, whose label inputs are called `y`."""
    z, y = keras.Input((100,), name="z"), keras.Input((10,), name="y")
    pixels = keras.layers.Dense(28 * 28, activation="sigmoid", name="dense")(
        keras.layers.concatenate([z, y]))
    generator = keras.Model([z, y], keras.layers.Reshape((28, 28, 1))(pixels))
    image, image_y = keras.Input((28, 28, 1)), keras.Input((10,), name="y")
    score = keras.layers.Dense(1, activation="sigmoid", name="dense")(
        keras.layers.concatenate([keras.layers.Flatten()(image), image_y]))
    return generator, keras.Model([image, image_y], score)


def test_a_conditional_generator_never_trains_as_an_unconditional_one():
    """Conditioning is an argument checked against the networks, not read from input
    names: without num_labels a generator with a `y` input is refused; with it, the
    labels reach both networks (the weights that read them move)."""
    generator, discriminator = users_conditional_networks()
    with pytest.raises(ValueError, match="num_labels=0"):
        gan.GAN(generator, discriminator)
    with pytest.raises(ValueError, match="labels_into_discriminator=False"):
        gan.GAN(generator, discriminator, num_labels=10)
    model = gan.GAN(generator, discriminator, num_labels=10, labels_into_discriminator=True)
    model.compile(*gan.book_optimizers())
    with pytest.raises(ValueError, match="one-hot labels"):
        model.train_step(tf.random.uniform((8, 28, 28, 1)))

    def label_rows(network, first_label_row):
        kernel = network.get_layer("dense").kernel
        return keras.ops.convert_to_numpy(kernel)[first_label_row:].copy()

    g_before, d_before = label_rows(generator, 100), label_rows(discriminator, 28 * 28)
    model.train_step((tf.random.uniform((8, 28, 28, 1)), tf.one_hot(tf.range(8) % 10, 10)))
    assert not np.array_equal(label_rows(generator, 100), g_before)
    assert not np.array_equal(label_rows(discriminator, 28 * 28), d_before)
