"""A 3-layer MLP classifies MNIST digits (book section 1.3.2, Listing 1.3.2).

784 pixels -> Dense 256 ReLU, Dropout 0.45 -> Dense 256 ReLU, Dropout 0.45 ->
Dense 10 softmax: 269,322 parameters, Adam, categorical cross-entropy, 20 epochs,
batch 128. `--l2` adds the section's L2 kernel regularizer (0.001) to the hidden layers.

Run:   python3 chapter1_mlp_cnn_rnn/mlp_mnist.py [--l2] [--dataset fashion_mnist]
Expect (full MNIST): "Test accuracy: 98.2%" or so, as in the book. Offline, the
script falls back to 5,000 real digits (4,000 to train): about 93.5%.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from lib import cli, data, resume, training


def build_mlp(input_size=784, hidden_units=256, dropout=0.45, num_labels=10, l2_weight=None):
    """The book's MLP; `l2_weight` regularizes both hidden layers' kernels."""
    regularizer = keras.regularizers.L2(l2_weight) if l2_weight else None
    return keras.Sequential([
        keras.Input(shape=(input_size,)),
        keras.layers.Dense(hidden_units, activation="relu", kernel_regularizer=regularizer),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(hidden_units, activation="relu", kernel_regularizer=regularizer),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(num_labels, activation="softmax", dtype="float32"),
    ], name="mlp")


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                             epochs=20, batch_size=128)
    parser.add_argument("--l2", type=cli.float_between(0, 1, low_included=False), nargs="?",
                        const=0.001, default=None, metavar="WEIGHT",
                        help="L2 kernel regularizer on the hidden layers, at most 1 (the "
                             "book's 0.001 when given without a value)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: images flattened to 784-vectors in [0, 1], labels one-hot.
    dataset = data.load(args.dataset, limit=args.limit)
    train_batches, test_batches = data.classification_batches(
        dataset, "mlp", args.batch_size, shuffle_seed=args.seed)

    # Model, built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        model = build_mlp(num_labels=dataset.num_classes, l2_weight=args.l2)
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
                      jit_compile=args.jit_compile)
    training.describe_models(args, model)

    # Train and evaluate
    return training.fit_classifier(model, args, train_batches, test_batches, dataset,
                                   "mlp_mnist", state, l2=args.l2)


if __name__ == "__main__":
    main()
