"""--precision and --jit-compile: every GAN model's compiled step trains under Keras' mixed
precision policies (finite losses, every network's weights moved, loss scaling under
float16) and its generators make float32 images, saved and loaded; one script run per
policy (bfloat16: a CGAN that then generates with -g; float16: a DCGAN interrupted and
resumed with its loss scales); a classifier learns under bfloat16, and the GAN step
compiles with XLA."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from chapter1_mlp_cnn_rnn import mlp_mnist
from chapter4_gan import cgan_mnist, dcgan_mnist
from lib import gan
from tests.conftest import (GAN_KINDS, changed, compiled_gan, gan_batch, h5_arrays, resume,
                            run_until_interrupted, snapshot)

pytestmark = pytest.mark.slow  # compiled GAN steps and whole training runs

PRECISIONS = ["mixed_bfloat16", "mixed_float16"]
DIGITS = ["--dataset", "mnist_subset", "--limit", "64", "--batch-size", "2"]  # float16 is slow on CPUs
IMAGE = (8, 8, 1)  # the book's networks, layer for layer, on 8x8 images: quick in float16 on CPUs
BATCH = 4
FEATURES = 16  # StackedGAN's feature1, 256 in the book


def model_and_data(kind):
    """The compiled model on small images (CycleGAN's U-Net needs 16x16: on 8x8 its deepest
    layer would normalize 1x1 maps to 0) and two steps' data."""
    shape = (16, 16, 1) if kind == "cyclegan" else IMAGE
    return compiled_gan(kind, shape, FEATURES), gan_batch(kind, 2 * BATCH, shape)


# LSGAN is a DCGAN with another loss on a linear source head, as WGAN's critic has.
KINDS = [kind for kind in GAN_KINDS if kind != "lsgan"]


def random_inputs(generator, count=3):
    """Inputs in the structure the generator was built with (a list, or one tensor)."""
    inputs = [np.random.default_rng(0).uniform(size=(count, *tensor.shape[1:])).astype("float32")
              for tensor in generator.inputs]
    return inputs if isinstance(generator.input, list) else inputs[0]


def assert_makes_float32(generator):
    """The generator's images (or StackedGAN's features) are finite float32."""
    outputs = generator(random_inputs(generator), training=False)
    assert outputs.dtype == "float32", generator.name
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(outputs))), generator.name


def loss_scale_optimizers(state):
    """The LossScaleOptimizers among a model's saved numbers (by name, as save_weights
    writes them): those that hold an inner optimizer."""
    return {name.split("/inner_optimizer/")[0] for name in state if "/inner_optimizer/" in name}


def saved_state(model, tmp_path):
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    return h5_arrays(path)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_gan_step_trains_in_mixed_precision_and_its_generators_make_float32(
        kind, precision, tmp_path):
    keras.mixed_precision.set_dtype_policy(precision)  # float32 again after the test (conftest)
    keras.utils.set_random_seed(0)
    model, data = model_and_data(kind)
    networks = model.networks()
    compute_dtype = keras.mixed_precision.dtype_policy().compute_dtype
    for network in networks.values():  # computes in the policy's dtype, keeps float32 weights
        assert compute_dtype in {layer.compute_dtype for layer in network.layers}, network.name
        assert {weight.dtype for weight in network.weights} == {"float32"}, network.name
    before = {network_name: snapshot(network.trainable_weights)
              for network_name, network in networks.items()}

    history = model.fit(tf.data.Dataset.from_tensor_slices(data).batch(BATCH), epochs=1,
                        verbose=0).history  # two compiled steps
    logged = {key: values[-1] for key, values in history.items()}
    assert any(key.endswith("loss") for key in logged), logged
    assert all(math.isfinite(value) for value in logged.values()), logged
    for network_name, network in networks.items():  # every network trained
        moved = changed(before[network_name], snapshot(network.trainable_weights))
        assert all(moved), f"{network_name}: {moved.count(False)} of {len(moved)} did not move"
    # Under float16 every network's optimizer scales its loss (LossScaleOptimizer).
    optimizers = 2 if isinstance(model, gan.GAN) else 4
    assert len(loss_scale_optimizers(saved_state(model, tmp_path))) == (
        optimizers if precision == "mixed_float16" else 0)

    generators = {network_name: network for network_name, network in networks.items()
                  if network_name.startswith("generator")}
    for network_name, generator in generators.items():
        assert_makes_float32(generator)
        generator.save(tmp_path / f"{network_name}.keras")
    keras.mixed_precision.set_dtype_policy("float32")  # as a later -g run has it
    for network_name in generators:
        assert_makes_float32(keras.models.load_model(tmp_path / f"{network_name}.keras"))


def assert_saved_generator_makes_float32(path):
    keras.mixed_precision.set_dtype_policy("float32")  # as a later -g run has it
    assert_makes_float32(keras.models.load_model(path))


def test_a_cgan_run_in_bfloat16_saves_a_float32_generator_that_generates_with_g(out_dir, capsys):
    results = cgan_mnist.main([*DIGITS, "--train-steps", "2", "--save-interval", "1",
                               "--eval-samples", "0", "--precision", "mixed_bfloat16",
                               "--out-dir", str(out_dir)])
    assert "precision mixed_bfloat16" in capsys.readouterr().out
    assert all(math.isfinite(results[key]) for key in ("d_loss", "g_loss", "d_acc", "g_acc"))
    assert_saved_generator_makes_float32(out_dir / "cgan_mnist_generator.keras")
    generated = cgan_mnist.main(["-g", str(out_dir / "cgan_mnist_generator.keras"), "-d", "4",
                                 "--out-dir", str(out_dir / "generated")])
    assert generated["titles"] == ["digit 4"] * 16
    assert (out_dir / "generated" / "generated.png").stat().st_size > 0


def test_a_dcgan_run_in_float16_resumes_with_its_loss_scales(out_dir, monkeypatch, capsys):
    argv = [*DIGITS, "--train-steps", "4", "--save-interval", "2", "--eval-samples", "0",
            "--precision", "mixed_float16", "--out-dir", str(out_dir)]
    interrupted = run_until_interrupted(dcgan_mnist.main, argv, monkeypatch, epoch=0)
    assert "precision mixed_float16" in capsys.readouterr().out
    # The loss scales came back with the rest of the state at the interruption.
    assert len(loss_scale_optimizers(interrupted)) == 2
    results = resume(dcgan_mnist.main, argv, monkeypatch, interrupted, epochs_left=[1])
    assert results["steps"] == 4
    assert len((out_dir / "history.csv").read_text().splitlines()) == 1 + 2
    assert all(math.isfinite(results[key]) for key in ("d_loss", "g_loss"))
    assert_saved_generator_makes_float32(out_dir / "dcgan_mnist_generator.keras")


def test_the_mlp_learns_digits_in_bfloat16(out_dir):
    results = mlp_mnist.main(["--dataset", "mnist_subset", "--epochs", "1",
                              "--precision", "mixed_bfloat16", "--out-dir", str(out_dir)])
    assert results["test_accuracy"] > 0.8  # chance is 0.1; float32 reaches about 0.9


def test_the_gan_step_compiles_with_xla(out_dir, monkeypatch):
    fitted = []
    plain_fit = gan.GAN.fit
    monkeypatch.setattr(gan.GAN, "fit", lambda model, *args, **kwargs: (
        fitted.append(model.jit_compile), plain_fit(model, *args, **kwargs))[1])
    results = cgan_mnist.main([*DIGITS, "--train-steps", "2", "--save-interval", "1",
                               "--eval-samples", "0", "--jit-compile", "--out-dir", str(out_dir)])
    assert fitted == [True]
    assert all(math.isfinite(results[key]) for key in ("d_loss", "g_loss", "d_acc", "g_acc"))
