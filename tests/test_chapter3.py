"""Chapter 3: the book's parameter counts, layers, epochs and batch size for every
autoencoder, each script's main() end to end on tiny real data, and denoising that
measurably works on real digits."""
import json

import keras
import numpy as np
import pytest
from PIL import Image

from chapter3_autoencoders import (autoencoder_2dim_mnist, autoencoder_mnist,
                                   classifier_autoencoder_mnist,
                                   colorization_autoencoder_cifar10, denoising_autoencoder_mnist)
from lib import autoencoders, data, metrics
from tests.conftest import AUTOENCODER_RUN, one_line

MNIST_SHAPE = (28, 28, 1)


def counts(*models):
    return tuple(model.count_params() for model in models)


@pytest.mark.parametrize("latent_dim, expected", [(16, (69_008, 108_993, 178_001)),
                                                  (2, (25_090, 65_089, 90_179))])
def test_mnist_autoencoder_counts_match_the_book(latent_dim, expected):
    encoder = autoencoders.build_encoder(MNIST_SHAPE, latent_dim)
    decoder = autoencoders.build_decoder(MNIST_SHAPE, latent_dim)
    assert counts(encoder, decoder, autoencoders.build_autoencoder(encoder, decoder)) == expected


def test_classifier_autoencoder_counts_match_the_book():
    encoder = autoencoders.build_encoder(MNIST_SHAPE, 16, blocks="pooled")
    decoder = autoencoders.build_decoder(MNIST_SHAPE, 16, blocks="pooled")
    classifier = classifier_autoencoder_mnist.build_classifier()
    assert counts(encoder, decoder, classifier) == (69_140, 109_505, 142_602)


def layer_kinds(model):
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("blocks, encoder_kinds, decoder_kinds", [
    ("strided",  # sections 3.2-3.4: stride-2 convolutions with ReLU
     ["InputLayer", "Conv2D", "Conv2D", "Flatten", "Dense"],
     ["InputLayer", "Dense", "Reshape", "Conv2DTranspose", "Conv2DTranspose", "Conv2DTranspose"]),
    ("pooled",  # the classifier autoencoder: BN-ReLU-Conv2D-MaxPooling2D and its mirror
     ["InputLayer", *["BatchNormalization", "Activation", "Conv2D", "MaxPooling2D"] * 2,
      "Flatten", "Dense"],
     ["InputLayer", "Dense", "Reshape",
      *["BatchNormalization", "Activation", "Conv2DTranspose", "UpSampling2D"] * 2,
      "Conv2DTranspose"])])
def test_encoder_and_decoder_layers_are_the_books(blocks, encoder_kinds, decoder_kinds):
    encoder = autoencoders.build_encoder(MNIST_SHAPE, 16, blocks=blocks)
    decoder = autoencoders.build_decoder(MNIST_SHAPE, 16, blocks=blocks)
    assert layer_kinds(encoder) == encoder_kinds and layer_kinds(decoder) == decoder_kinds
    convolutions = [layer for model in (encoder, decoder) for layer in model.layers
                    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    *hidden, output = convolutions
    assert [layer.filters for layer in hidden] == [32, 64, 64, 32] and output.filters == 1
    assert {layer.kernel_size for layer in convolutions} == {(3, 3)}
    assert {layer.strides for layer in hidden} == {(2, 2) if blocks == "strided" else (1, 1)}
    assert output.strides == (1, 1) and output.activation.__name__ == "sigmoid"
    hidden_activation = "relu" if blocks == "strided" else "linear"  # pooled: ReLU comes before
    assert {layer.activation.__name__ for layer in hidden} == {hidden_activation}
    activations = [layer for model in (encoder, decoder) for layer in model.layers
                   if isinstance(layer, keras.layers.Activation)]
    assert {layer.activation.__name__ for layer in activations} <= {"relu"}
    assert decoder.output.shape[1:] == MNIST_SHAPE


def test_unknown_blocks_are_refused():
    with pytest.raises(ValueError, match="blocks must be one of strided, pooled"):
        autoencoders.build_encoder(MNIST_SHAPE, 16, blocks="preactivation")


@pytest.mark.parametrize("script, epochs, batch_size", [
    (autoencoder_mnist, 1, 32),
    (autoencoder_2dim_mnist, 20, 32),
    (denoising_autoencoder_mnist, 10, 32),
    (classifier_autoencoder_mnist, 2, 128),
    (colorization_autoencoder_cifar10, 30, 32)])
def test_epochs_and_batch_size_default_to_the_books(script, epochs, batch_size):
    args = script.make_parser().parse_args([])
    assert (args.epochs, args.batch_size) == (epochs, batch_size)


def test_colorization_autoencoder_counts_match_the_book():
    filters = colorization_autoencoder_cifar10.FILTERS
    encoder = autoencoders.build_encoder((32, 32, 1), 256, filters)
    decoder = autoencoders.build_decoder((32, 32, 3), 256, filters)
    assert counts(encoder, decoder, autoencoders.build_autoencoder(encoder, decoder)) == (
        1_418_496, 2_013_315, 3_431_811)


def test_the_autoencoder_shares_the_encoders_and_decoders_weights():
    encoder = autoencoders.build_encoder(MNIST_SHAPE, 16)
    decoder = autoencoders.build_decoder(MNIST_SHAPE, 16)
    autoencoder = autoencoders.build_autoencoder(encoder, decoder)
    images = np.random.default_rng(0).random((3, *MNIST_SHAPE), dtype=np.float32)
    np.testing.assert_allclose(autoencoder.predict(images, verbose=0),
                               decoder.predict(encoder.predict(images, verbose=0), verbose=0),
                               atol=1e-6)


def test_metrics_mse_and_psnr():
    clean = np.zeros((2, 4, 4))
    assert metrics.mean_squared_error(clean + 0.1, clean) == pytest.approx(0.01)
    assert metrics.psnr(clean + 0.1, clean) == pytest.approx(20.0)


def test_gray_uses_the_books_luminance_weights():
    pixel = np.array([[[[1.0, 0.5, 0.0]]]], dtype="float32")
    gray = data.to_gray(pixel)
    assert gray.shape == (1, 1, 1, 1) and gray[0, 0, 0, 0] == pytest.approx(0.299 + 0.5 * 0.587)


def test_sample_crops_are_real_colour_images_split_400_120():
    dataset = data.load("sample_crops")
    assert dataset.x_train.shape == (400, 32, 32, 3) and dataset.x_test.shape == (120, 32, 32, 3)
    assert set(dataset.y_train) == {0, 1} and set(dataset.y_test) == {0, 1}
    channel_means = dataset.x_train.reshape(-1, 3).mean(axis=0)
    assert np.ptp(channel_means) > 5  # colour, not gray: the channels differ


@pytest.mark.parametrize("script, figure", [
    (autoencoder_mnist, "input_and_decoded.png"),
    (autoencoder_2dim_mnist, "latent_grid.png"),
    (denoising_autoencoder_mnist, "denoised.png"),
    (classifier_autoencoder_mnist, "classified.png")])
def test_mnist_scripts_run_end_to_end(script, figure, out_dir):
    results = script.main([*AUTOENCODER_RUN, "--out-dir", str(out_dir)])
    assert results["dataset"] == "mnist_subset" and results["train_examples"] == 200
    assert json.loads((out_dir / "metrics.json").read_text()) == results
    for name in (figure, "curves.png", "history.csv"):
        assert (out_dir / name).stat().st_size > 0
    assert list(out_dir.glob("*.weights.h5"))


def test_input_and_decoded_is_laid_out_as_the_books(out_dir):
    """8 test digits and their decodings in a 4x4 grid (the book's figure), not 2 rows of 8."""
    autoencoder_mnist.main([*AUTOENCODER_RUN, "--out-dir", str(out_dir)])
    width, height = Image.open(out_dir / "input_and_decoded.png").size
    assert 0.8 < width / height < 1.25


def test_2dim_latent_figures(out_dir):
    results = autoencoder_2dim_mnist.main([*AUTOENCODER_RUN, "--out-dir", str(out_dir)])
    assert len(results["latent_min"]) == 2 and (out_dir / "latent_scatter.png").exists()
    decoder = autoencoders.build_decoder(MNIST_SHAPE, 2)
    assert autoencoder_2dim_mnist.decode_latent_grid(decoder, steps=3).shape == (84, 84)


@pytest.mark.slow
def test_denoising_makes_real_digits_measurably_cleaner(out_dir):
    """Two epochs on 4,000 real digits; judged on the 1,000 test digits."""
    results = denoising_autoencoder_mnist.main(["--dataset", "mnist_subset", "--epochs", "2",
                                                "--out-dir", str(out_dir)])
    assert results["denoised_mse"] < 0.5 * results["corrupted_mse"]
    assert results["denoised_psnr_db"] > results["corrupted_psnr_db"] + 3


@pytest.mark.slow
def test_classifier_autoencoder_learns_both_tasks(out_dir):
    results = classifier_autoencoder_mnist.main(["--dataset", "mnist_subset", "--epochs", "1",
                                                 "--out-dir", str(out_dir)])
    assert results["test_accuracy"] > 0.5  # chance is 10%
    assert results["test_mse"] < 0.1


@pytest.mark.slow
def test_colorization_runs_on_real_photographs(out_dir):
    results = colorization_autoencoder_cifar10.main(["--dataset", "sample_crops", "--limit", "64",
                                                     "--epochs", "1", "--out-dir", str(out_dir)])
    assert results["params"]["colorizer"] == 3_431_811
    for name in ("test_color.png", "test_gray.png", "test_colorized.png",
                 "colorization_autoencoder.best.weights.h5", "colorization_autoencoder.weights.h5"):
        assert (out_dir / name).stat().st_size > 0


def test_missing_cifar10_exits_2_with_one_line(out_dir, capsys):
    with data.provide("cifar10", None), pytest.raises(SystemExit) as raised:
        colorization_autoencoder_cifar10.main(["--out-dir", str(out_dir)])
    assert raised.value.code == 2
    assert "CIFAR-10 could not be downloaded" in one_line(capsys.readouterr().err)
