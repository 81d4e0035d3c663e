"""The book's convolutional encoder and decoder (chapter 3), shared by every autoencoder.

Encoder: one block for each of `filters`, each halving the image, then Flatten and
Dense to the latent vector. Decoder: the mirror image: Dense, Reshape, one block
for each filter count in reverse, each doubling the image, then Conv2DTranspose to
the image's channels with a sigmoid, so outputs lie in [0, 1] like the inputs.

The blocks come in the book's two layouts:
  "strided" (sections 3.2-3.4): Conv2D, or Conv2DTranspose, with stride 2 and ReLU;
  "pooled" (the classifier autoencoder, section 3.3): BatchNormalization, ReLU,
      a stride-1 convolution, then MaxPooling2D in the encoder or UpSampling2D in
      the decoder (69,140 / 109,505 parameters for MNIST, latent 16).
"""
import math

import keras
from keras import layers

from lib.layers import batch_normalization

BLOCKS = ("strided", "pooled")


def _block(x, convolution, resize, filters, kernel_size, blocks):
    if blocks == "strided":
        return convolution(filters, kernel_size, strides=2, padding="same", activation="relu")(x)
    if blocks == "pooled":
        x = layers.Activation("relu")(batch_normalization()(x))
        return resize()(convolution(filters, kernel_size, padding="same")(x))
    raise ValueError(f"blocks must be one of {', '.join(BLOCKS)}, got {blocks!r}")


def build_encoder(input_shape, latent_dim, filters=(32, 64), kernel_size=3,
                  blocks="strided", name="encoder"):
    """Image -> latent vector (section 3.2: 69,008 parameters for MNIST, latent 16)."""
    inputs = keras.Input(shape=input_shape, name="encoder_input")
    x = inputs
    for count in filters:
        x = _block(x, layers.Conv2D, layers.MaxPooling2D, count, kernel_size, blocks)
    latent = layers.Dense(latent_dim, name="latent_vector")(layers.Flatten()(x))
    return keras.Model(inputs, latent, name=name)


def build_decoder(output_shape, latent_dim, filters=(32, 64), kernel_size=3,
                  blocks="strided", name="decoder"):
    """Latent vector -> image: the encoder's mirror (108,993 parameters for MNIST, latent 16).

    filters: as given to the encoder; the decoder uses them in reverse order."""
    height, width, channels = output_shape
    scale = 2 ** len(filters)
    feature_shape = (math.ceil(height / scale), math.ceil(width / scale), filters[-1])
    inputs = keras.Input(shape=(latent_dim,), name="decoder_input")
    x = layers.Dense(math.prod(feature_shape))(inputs)
    x = layers.Reshape(feature_shape)(x)
    for count in reversed(filters):
        x = _block(x, layers.Conv2DTranspose, layers.UpSampling2D, count, kernel_size, blocks)
    outputs = layers.Conv2DTranspose(channels, kernel_size, padding="same",
                                     activation="sigmoid", name="decoder_output",
                                     dtype="float32")(x)  # float32 even under mixed precision
    return keras.Model(inputs, outputs, name=name)


def build_autoencoder(encoder, decoder, name="autoencoder"):
    """decoder(encoder(x)): one model whose weights are the encoder's and the decoder's."""
    return keras.Model(encoder.inputs, decoder(encoder.outputs[0]), name=name)
