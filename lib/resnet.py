"""ResNet v1 and v2 for 32x32 images (book section 2.2, after He et al. 2015 and 2016).

v1 (depth 6n + 2): a 16-filter stem, then three stages of n basic blocks
(3x3 conv, 3x3 conv, identity shortcut) with 16, 32 and 64 filters; the first
block of stages 2 and 3 halves the feature map with stride 2 and projects the
shortcut with a 1x1 convolution. ReLU after the addition.

v2 (depth 9n + 2): pre-activation bottleneck blocks (BN-ReLU-1x1, BN-ReLU-3x3,
BN-ReLU-1x1) whose outputs have 64, 128 and 256 channels; every stage's first
block projects the shortcut. BN-ReLU before the classifier.

Both end in 8x8 average pooling and a softmax Dense layer. Every convolution is
he_normal-initialized with an L2 weight penalty of 1e-4, as in the book.
"""
import keras
from keras import layers

from lib import layers as shared_layers

WEIGHT_DECAY = 1e-4


def resnet_layer(inputs, filters=16, kernel_size=3, strides=1, activation="relu",
                 batch_normalization=True, conv_first=True):
    """Conv2D-BN-activation (conv_first, v1) or BN-activation-Conv2D (pre-activation, v2)."""
    conv = layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                         kernel_initializer="he_normal",
                         kernel_regularizer=keras.regularizers.L2(WEIGHT_DECAY))

    def normalize_and_activate(x):
        if batch_normalization:
            x = shared_layers.batch_normalization()(x)
        if activation is not None:
            x = layers.Activation(activation)(x)
        return x

    if conv_first:
        return normalize_and_activate(conv(inputs))
    return conv(normalize_and_activate(inputs))


def resnet_v1(input_shape, depth, num_classes=10):
    """ResNet v1 with depth 6n + 2 (20, 32, 44, 56, 110, ...)."""
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"ResNet v1 depth must be 6n + 2 with n >= 1 (20, 32, 44, ...), got {depth}")
    blocks_per_stage = (depth - 2) // 6
    inputs = keras.Input(shape=input_shape)
    x = resnet_layer(inputs)
    filters = 16
    for stage in range(3):
        for block in range(blocks_per_stage):
            downsample = stage > 0 and block == 0
            strides = 2 if downsample else 1
            y = resnet_layer(x, filters, strides=strides)
            y = resnet_layer(y, filters, activation=None)
            if downsample:  # match the shortcut's size and channels with a 1x1 projection
                x = resnet_layer(x, filters, kernel_size=1, strides=strides, activation=None,
                                 batch_normalization=False)
            x = layers.Activation("relu")(layers.add([x, y]))
        filters *= 2
    return _classifier(inputs, x, num_classes, f"resnet{depth}v1")


def resnet_v2(input_shape, depth, num_classes=10):
    """ResNet v2 with depth 9n + 2 (56, 110, ...) and bottleneck blocks."""
    if depth < 11 or (depth - 2) % 9:
        raise ValueError(f"ResNet v2 depth must be 9n + 2 with n >= 1 (29, 56, 110, ...), got {depth}")
    blocks_per_stage = (depth - 2) // 9
    inputs = keras.Input(shape=input_shape)
    # The stem's BN-ReLU output is the first block's pre-activation.
    x = resnet_layer(inputs, 16, conv_first=True)
    filters_in = 16
    for stage in range(3):
        filters_out = filters_in * (4 if stage == 0 else 2)
        for block in range(blocks_per_stage):
            first = block == 0
            strides = 2 if first and stage > 0 else 1
            already_activated = first and stage == 0
            y = resnet_layer(x, filters_in, kernel_size=1, strides=strides,
                             activation=None if already_activated else "relu",
                             batch_normalization=not already_activated, conv_first=False)
            y = resnet_layer(y, filters_in, conv_first=False)
            y = resnet_layer(y, filters_out, kernel_size=1, conv_first=False)
            if first:  # project the shortcut to the block's new channel count (and size)
                x = resnet_layer(x, filters_out, kernel_size=1, strides=strides,
                                 activation=None, batch_normalization=False)
            x = layers.add([x, y])
        filters_in = filters_out
    x = layers.Activation("relu")(shared_layers.batch_normalization()(x))
    return _classifier(inputs, x, num_classes, f"resnet{depth}v2")


def _classifier(inputs, features, num_classes, name):
    x = layers.AveragePooling2D(pool_size=8)(features)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer="he_normal",
                           dtype="float32")(x)  # float32 even under mixed precision
    return keras.Model(inputs, outputs, name=name)


def resnet(input_shape, depth, version=1, num_classes=10):
    """ResNet v1 or v2 by version number."""
    builders = {1: resnet_v1, 2: resnet_v2}
    if version not in builders:
        raise ValueError(f"ResNet version must be 1 or 2, got {version}")
    return builders[version](input_shape, depth, num_classes)
