"""The Y-network: two CNN branches read the same image and merge (book section 2.1.2, Listing 2.1.2).

Each branch is 3 x [Conv2D 3x3 "same" ReLU, Dropout 0.4, MaxPool 2] with 32, 64,
128 filters; the right branch uses dilation 2 to see a wider context. The two
branches are concatenated, then Flatten, Dropout 0.4, Dense 10 softmax: 208,394
parameters, Adam, 20 epochs, batch 32.

Run:   python3 chapter2_resnet_densenet/cnn_y_network.py
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


def cnn_branch(inputs, dilation_rate, filters=32, kernel_size=3, dropout=0.4, layer_count=3):
    """Conv-Dropout-MaxPool repeated, filters doubling each time."""
    x = inputs
    for _ in range(layer_count):
        x = layers.Conv2D(filters, kernel_size, padding="same", activation="relu",
                          dilation_rate=dilation_rate)(x)
        x = layers.Dropout(dropout)(x)
        x = layers.MaxPooling2D()(x)
        filters *= 2
    return x


def build_y_network(input_shape=(28, 28, 1), dropout=0.4, num_labels=10):
    """Left branch (dilation 1) and right branch (dilation 2) merged into one classifier."""
    left_inputs = keras.Input(shape=input_shape, name="left_image")
    right_inputs = keras.Input(shape=input_shape, name="right_image")
    merged = layers.concatenate([cnn_branch(left_inputs, dilation_rate=1),
                                 cnn_branch(right_inputs, dilation_rate=2)])
    y = layers.Flatten()(merged)
    y = layers.Dropout(dropout)(y)
    outputs = layers.Dense(num_labels, activation="softmax", dtype="float32")(y)
    return keras.Model([left_inputs, right_inputs], outputs, name="y_network")


def both_branches(image_batches):
    """Feed each batch's images to both inputs, as the book does."""
    return image_batches.map(lambda images, labels: ((images, images), labels))


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                           epochs=20, batch_size=32)


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: 28x28x1 images in [0, 1] given to both branches, labels one-hot.
    dataset = data.load(args.dataset, limit=args.limit)
    train_batches, test_batches = data.classification_batches(
        dataset, "cnn", args.batch_size, shuffle_seed=args.seed)

    # Model, built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        model = build_y_network(num_labels=dataset.num_classes)
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
                      jit_compile=args.jit_compile)
    training.describe_models(args, model)

    # Train and evaluate
    return training.fit_classifier(model, args, both_branches(train_batches),
                                   both_branches(test_batches), dataset, "cnn_y_network",
                                   state)


if __name__ == "__main__":
    main()
