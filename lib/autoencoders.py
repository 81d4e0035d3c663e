"""The book's convolutional encoder and decoder (chapter 3), shared by every autoencoder.

Encoder: Conv2D with stride 2 for each of `filters` (each halves the image), Flatten,
Dense to the latent vector. Decoder: the mirror image: Dense, Reshape, a stride-2
Conv2DTranspose for each filter count in reverse, then Conv2DTranspose to the
image's channels with a sigmoid, so outputs lie in [0, 1] like the inputs.

`preactivation=True` puts BatchNormalization and ReLU before each convolution
instead of ReLU after it: the book's classifier autoencoder (section 3.3), whose
parameter counts (69,140 / 109,505) this layout reproduces.
"""
import math

import keras
from keras import layers

from lib import distribute


def _convolve(x, convolution, filters, kernel_size, preactivation):
    if preactivation:
        x = layers.Activation("relu")(distribute.batch_normalization()(x))
        return convolution(filters, kernel_size, strides=2, padding="same")(x)
    return convolution(filters, kernel_size, strides=2, padding="same", activation="relu")(x)


def build_encoder(input_shape, latent_dim, filters=(32, 64), kernel_size=3,
                  preactivation=False, name="encoder"):
    """Image -> latent vector (section 3.2: 69,008 parameters for MNIST, latent 16)."""
    inputs = keras.Input(shape=input_shape, name="encoder_input")
    x = inputs
    for count in filters:
        x = _convolve(x, layers.Conv2D, count, kernel_size, preactivation)
    latent = layers.Dense(latent_dim, name="latent_vector")(layers.Flatten()(x))
    return keras.Model(inputs, latent, name=name)


def build_decoder(output_shape, latent_dim, filters=(32, 64), kernel_size=3,
                  preactivation=False, name="decoder"):
    """Latent vector -> image: the encoder's mirror (108,993 parameters for MNIST, latent 16).

    filters: as given to the encoder; the decoder uses them in reverse order."""
    height, width, channels = output_shape
    scale = 2 ** len(filters)
    feature_shape = (math.ceil(height / scale), math.ceil(width / scale), filters[-1])
    inputs = keras.Input(shape=(latent_dim,), name="decoder_input")
    x = layers.Dense(math.prod(feature_shape))(inputs)
    x = layers.Reshape(feature_shape)(x)
    for count in reversed(filters):
        x = _convolve(x, layers.Conv2DTranspose, count, kernel_size, preactivation)
    outputs = layers.Conv2DTranspose(channels, kernel_size, padding="same",
                                     activation="sigmoid", name="decoder_output",
                                     dtype="float32")(x)  # float32 even under mixed precision
    return keras.Model(inputs, outputs, name=name)


def build_autoencoder(encoder, decoder, name="autoencoder"):
    """decoder(encoder(x)): one model whose weights are the encoder's and the decoder's."""
    return keras.Model(encoder.inputs, decoder(encoder.outputs[0]), name=name)
