"""A strided CNN for MNIST, built and compiled (book section 1.3.2, cnn-model-1.3.2.py).

28x28x1 image -> Conv2D 64 3x3 stride 2 ReLU "same" padding (14x14x64) -> Conv2D 128
3x3 stride 2 ReLU "valid" padding (6x6x128) -> Flatten (4,608) -> Dense 10 softmax:
120,586 parameters, RMSprop, categorical cross-entropy. Strides shrink the feature
maps that cnn_mnist.py shrinks with max pooling. Nothing is trained.

Run:   python3 chapter1_mlp_cnn_rnn/cnn_model.py [--plot-model]
Expect: the model summary, "Total params: 120,586", and metrics.json with each
layer's output shape and parameters.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from lib import cli, training


def build_cnn(input_shape=(28, 28, 1), num_labels=10):
    """The book's strided CNN: 640 + 73,856 + 46,090 = 120,586 parameters."""
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2D(128, 3, strides=2, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(num_labels, activation="softmax", dtype="float32"),
    ], name="cnn_model")


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0], trains=False)


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)

    # Built where a run would train (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        model = build_cnn()
        model.compile(loss="categorical_crossentropy", optimizer="rmsprop",
                      metrics=["accuracy"], jit_compile=args.jit_compile)
    training.describe_models(args, model)

    return training.save_listing(model, args.out_dir)


if __name__ == "__main__":
    main()
