"""DenseNet-BC for 32x32 images (book section 2.4, after Huang et al. 2017).

Depth 100 and growth rate k = 12 by default: a stem BN-ReLU-Conv3x3 of 2k
filters concatenated with the input, then 3 dense blocks of (depth - 4) / 6
bottleneck layers (BN-ReLU-Conv1x1 4k, BN-ReLU-Conv3x3 k, concatenated to
everything before), with transition layers (BN-Conv1x1 compressing by 0.5,
AveragePooling 2) between blocks, then 8x8 average pooling and softmax.
`dropout` > 0 adds Dropout after every bottleneck and transition convolution,
as the book does when it trains without data augmentation (Listing 2.4.1).
"""
import keras
from keras import layers

from lib.layers import batch_normalization


def bottleneck(x, growth_rate, dropout):
    """BN-ReLU-Conv1x1(4k) then BN-ReLU-Conv3x3(k): the k new feature maps of one layer."""
    y = layers.Conv2D(4 * growth_rate, 1, padding="same", kernel_initializer="he_normal")(
        layers.Activation("relu")(batch_normalization()(x)))
    if dropout:
        y = layers.Dropout(dropout)(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", kernel_initializer="he_normal")(
        layers.Activation("relu")(batch_normalization()(y)))
    if dropout:
        y = layers.Dropout(dropout)(y)
    return y


def transition(x, filters, dropout):
    """BN-Conv1x1(filters) then AveragePooling 2: fewer feature maps, half the size."""
    y = layers.Conv2D(filters, 1, padding="same", kernel_initializer="he_normal")(
        batch_normalization()(x))
    if dropout:
        y = layers.Dropout(dropout)(y)
    return layers.AveragePooling2D(pool_size=2)(y)


def densenet_bc(input_shape, depth=100, growth_rate=12, num_classes=10, num_blocks=3,
                compression=0.5, dropout=0.0):
    """DenseNet-BC; depth - 4 must be a multiple of 2 * num_blocks (e.g. 100 -> 16 per block).
    dropout: the rate after each bottleneck and transition convolution (the book: 0.2
    without data augmentation, none with it)."""
    if depth < 10 or (depth - 4) % (2 * num_blocks):
        raise ValueError(f"DenseNet-BC depth must be 4 + 6m with m >= 1 (10, 40, 100, ...), got {depth}")
    layers_per_block = (depth - 4) // (2 * num_blocks)
    inputs = keras.Input(shape=input_shape)

    # Stem: 2k feature maps, concatenated with the input image itself.
    filters = 2 * growth_rate
    x = layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal")(
        layers.Activation("relu")(batch_normalization()(inputs)))
    x = layers.concatenate([inputs, x])

    for block in range(num_blocks):
        for _ in range(layers_per_block):
            x = layers.concatenate([x, bottleneck(x, growth_rate, dropout)])
        if block == num_blocks - 1:
            break
        # Compress the channels the book counts (stem + growth), not the input's 3 as well.
        filters = int((filters + layers_per_block * growth_rate) * compression)
        x = transition(x, filters, dropout)

    x = layers.AveragePooling2D(pool_size=8)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer="he_normal",
                           dtype="float32")(x)  # float32 even under mixed precision
    return keras.Model(inputs, outputs, name=f"densenet_bc_{depth}_{growth_rate}")
