"""The chapter 1 CNN written with the Functional API (book section 2.1.1, Listing 2.1.1).

Same layers as chapter 1's CNN (80,266 parameters) but built by calling layers
on tensors, the style every multi-input or multi-output model of the book needs;
Dropout 0.3, Adam, 20 epochs, batch 128, validated on the test set every epoch.

Run:   python3 chapter2_resnet_densenet/cnn_functional.py
Expect (full MNIST): "Test accuracy: 99.3%" or so, as in the book.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
from keras import layers

from lib import cli, data, resume, training


def build_functional_cnn(input_shape=(28, 28, 1), filters=64, kernel_size=3, dropout=0.3,
                         num_labels=10):
    """Conv-MaxPool-Conv-MaxPool-Conv, Flatten, Dropout, softmax: y = layer(x) throughout."""
    inputs = keras.Input(shape=input_shape)
    y = layers.Conv2D(filters, kernel_size, activation="relu")(inputs)
    y = layers.MaxPooling2D()(y)
    y = layers.Conv2D(filters, kernel_size, activation="relu")(y)
    y = layers.MaxPooling2D()(y)
    y = layers.Conv2D(filters, kernel_size, activation="relu")(y)
    y = layers.Flatten()(y)
    y = layers.Dropout(dropout)(y)
    outputs = layers.Dense(num_labels, activation="softmax", dtype="float32")(y)
    return keras.Model(inputs, outputs, name="cnn_functional")


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                           epochs=20, batch_size=128)


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: 28x28x1 images in [0, 1], labels one-hot.
    dataset = data.load(args.dataset, limit=args.limit)
    train_batches, test_batches = data.classification_batches(
        dataset, "cnn", args.batch_size, shuffle_seed=args.seed)

    # Model, built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        model = build_functional_cnn(num_labels=dataset.num_classes)
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
                      jit_compile=args.jit_compile)
    training.describe_models(args, model)

    # Train and evaluate
    return training.fit_classifier(model, args, train_batches, test_batches, dataset,
                                   "cnn_functional", state)


if __name__ == "__main__":
    main()
