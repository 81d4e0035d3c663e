"""--precision and --jit-compile: every GAN trains under Keras' mixed precision policies
with finite losses, its saved generators make float32 images, a float16 run resumes with
its loss scale, a classifier learns under bfloat16, and the GAN step compiles with XLA."""
import math

import keras
import numpy as np
import pytest

from chapter1_mlp_cnn_rnn import mlp_mnist
from chapter4_gan import cgan_mnist, dcgan_mnist
from chapter5_wgan_lsgan import acgan_mnist, lsgan_mnist, wgan_mnist
from chapter6_infogan_stackedgan import infogan_mnist, stackedgan_mnist
from chapter7_cyclegan import cyclegan
from lib import gan
from tests.conftest import resume, run_until_interrupted

pytestmark = pytest.mark.slow  # whole training runs and multi-device steps

DIGITS = ["--dataset", "mnist_subset", "--limit", "64", "--batch-size", "2"]  # float16 is slow on CPUs
GANS = {  # script, its flags for two tiny steps, the generators it saves
    "dcgan": (dcgan_mnist, DIGITS, ["dcgan_mnist_generator"]),
    "cgan": (cgan_mnist, DIGITS, ["cgan_mnist_generator"]),
    "lsgan": (lsgan_mnist, DIGITS, ["lsgan_mnist_generator"]),
    "wgan": (wgan_mnist, DIGITS, ["wgan_mnist_generator"]),
    "acgan": (acgan_mnist, DIGITS, ["acgan_mnist_generator"]),
    "infogan": (infogan_mnist, DIGITS, ["infogan_mnist_generator"]),
    "stackedgan": (stackedgan_mnist, [*DIGITS, "--encoder-epochs", "1"],
                   ["stackedgan_mnist_generator0", "stackedgan_mnist_generator1"]),
    "cyclegan": (cyclegan, ["--dataset", "sample_crops", "--limit", "16", "--batch-size", "2"],
                 ["cyclegan_generator_target", "cyclegan_generator_source"]),
}


def random_inputs(generator, count=3):
    """Inputs in the structure the generator was built with (a list, or one tensor)."""
    inputs = [np.random.default_rng(0).uniform(size=(count, *tensor.shape[1:])).astype("float32")
              for tensor in generator.inputs]
    return inputs if isinstance(generator.input, list) else inputs[0]


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("name", sorted(GANS))
def test_every_gan_trains_in_mixed_precision_and_saves_float32_generators(name, precision, out_dir,
                                                                          capsys):
    script, flags, generators = GANS[name]
    results = script.main([*flags, "--train-steps", "2", "--save-interval", "1",
                           "--eval-samples", "0", "--precision", precision,
                           "--out-dir", str(out_dir)])
    assert f"precision {precision}" in capsys.readouterr().out
    logged = {key: value for key, value in results.items() if key.endswith(("loss", "acc"))}
    assert logged and all(math.isfinite(value) for value in logged.values()), logged

    keras.mixed_precision.set_global_policy("float32")  # as a later -g run has it
    for file_name in generators:
        generator = keras.models.load_model(out_dir / f"{file_name}.keras")
        images = generator(random_inputs(generator), training=False)
        assert images.dtype == "float32"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(images)))


def test_a_generator_trained_in_bfloat16_generates_with_g(out_dir):
    cgan_mnist.main([*DIGITS, "--train-steps", "1", "--save-interval", "1", "--eval-samples", "0",
                     "--precision", "mixed_bfloat16", "--out-dir", str(out_dir)])
    generated = cgan_mnist.main(["-g", str(out_dir / "cgan_mnist_generator.keras"), "-d", "4",
                                 "--out-dir", str(out_dir / "generated")])
    assert generated["titles"] == ["digit 4"] * 16
    assert (out_dir / "generated" / "generated.png").stat().st_size > 0


def test_a_float16_run_resumes_with_its_loss_scales(out_dir, monkeypatch):
    argv = [*DIGITS, "--train-steps", "4", "--save-interval", "2", "--eval-samples", "0",
            "--precision", "mixed_float16", "--out-dir", str(out_dir)]
    interrupted = run_until_interrupted(dcgan_mnist.main, argv, monkeypatch, epoch=0)
    # The loss scales came back with the rest of the state at the interruption.
    results = resume(dcgan_mnist.main, argv, monkeypatch, interrupted, epochs_left=[1])
    assert results["steps"] == 4
    assert len((out_dir / "history.csv").read_text().splitlines()) == 1 + 2
    assert all(math.isfinite(results[key]) for key in ("d_loss", "g_loss"))


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
