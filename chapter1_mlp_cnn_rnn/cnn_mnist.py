"""A CNN classifies MNIST digits (book section 1.4.1, Listing 1.4.1).

Three Conv2D 64 3x3 ReLU layers ("valid" padding) with 2x2 max pooling between
them, Flatten, Dropout 0.2, Dense 10 softmax: 80,266 parameters, Adam,
categorical cross-entropy, 10 epochs, batch 128.

Run:   python3 chapter1_mlp_cnn_rnn/cnn_mnist.py [--dataset fashion_mnist]
Expect (full MNIST): "Test accuracy: 99.4%" or so, as in the book. Offline, the
script falls back to 5,000 real digits (4,000 to train): about 96%.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from lib import cli, data, resume, training


def build_cnn(input_shape=(28, 28, 1), filters=64, kernel_size=3, pool_size=2, dropout=0.2,
              num_labels=10):
    """The book's CNN: feature maps shrink 26 -> 13 -> 11 -> 5 -> 3 before the classifier."""
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(filters, kernel_size, activation="relu"),
        keras.layers.MaxPooling2D(pool_size),
        keras.layers.Conv2D(filters, kernel_size, activation="relu"),
        keras.layers.MaxPooling2D(pool_size),
        keras.layers.Conv2D(filters, kernel_size, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(num_labels, activation="softmax", dtype="float32"),
    ], name="cnn")


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0],
                           datasets=data.MNIST_LIKE,
                           epochs=10, batch_size=128)


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
        model = build_cnn(num_labels=dataset.num_classes)
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
                      jit_compile=args.jit_compile)
    training.describe_models(args, model)

    # Train and evaluate
    return training.fit_classifier(model, args, train_batches, test_batches, dataset,
                                   "cnn_mnist", state)


if __name__ == "__main__":
    main()
