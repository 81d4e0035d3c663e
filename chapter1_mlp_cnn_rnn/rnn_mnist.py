"""An RNN reads MNIST digits row by row and classifies them (book section 1.5.1, Listing 1.5.1).

Each 28x28 image is 28 timesteps of 28 features: SimpleRNN 256 (dropout 0.2),
Dense 10 softmax: 75,530 parameters, SGD (learning rate 0.01), categorical
cross-entropy, 20 epochs, batch 128.

Run:   python3 chapter1_mlp_cnn_rnn/rnn_mnist.py [--dataset fashion_mnist]
Expect (full MNIST): "Test accuracy: 98.3%" or so, as in the book. Offline, the
script falls back to 5,000 real digits (4,000 to train): about 90%.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from lib import cli, data, resume, training


def build_rnn(timesteps=28, features=28, units=256, dropout=0.2, num_labels=10):
    """The book's RNN: the last hidden state of a SimpleRNN feeds a softmax classifier."""
    return keras.Sequential([
        keras.Input(shape=(timesteps, features)),
        keras.layers.SimpleRNN(units, dropout=dropout),
        keras.layers.Dense(num_labels, activation="softmax", dtype="float32"),
    ], name="rnn")


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0],
                           datasets=data.MNIST_LIKE,
                           epochs=20, batch_size=128)


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: each image is a sequence of 28 rows of 28 pixels in [0, 1], labels one-hot.
    dataset = data.load(args.dataset, limit=args.limit)
    train_batches, test_batches = data.classification_batches(
        dataset, "rnn", args.batch_size, shuffle_seed=args.seed)

    # Model, built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        model = build_rnn(num_labels=dataset.num_classes)
        model.compile(loss="categorical_crossentropy",
                      optimizer=keras.optimizers.SGD(learning_rate=0.01), metrics=["accuracy"],
                      jit_compile=args.jit_compile)
    training.describe_models(args, model)

    # Train and evaluate
    return training.fit_classifier(model, args, train_batches, test_batches, dataset,
                                   "rnn_mnist", state)


if __name__ == "__main__":
    main()
