"""Layers that several of the book's model families share.

`batch_normalization()`: every network with batch normalization here builds it with
this (ResNet and DenseNet, chapter 2; the autoencoders, chapter 3; StackedGAN's
gen1, chapter 6), so that it is right under --distribute too. lib/gan.py builds
the same layer itself, so that it can be copied alone.
"""
import tensorflow as tf
from keras import layers


def batch_normalization():
    """BatchNormalization, synchronized across replicas when built in the scope of a
    tf.distribute strategy with more than one (Keras' `synchronized=True`), so that its
    statistics are the whole batch's, as on one device; the plain layer otherwise."""
    return layers.BatchNormalization(synchronized=tf.distribute.get_strategy().num_replicas_in_sync > 1)
