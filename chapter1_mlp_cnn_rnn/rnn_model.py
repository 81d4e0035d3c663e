"""A SimpleRNN for 5 activities, built and compiled (book section 1.3.1, rnn-model-1.3.1.py).

30 timesteps of 12 features -> SimpleRNN 512 units, input dropout 0.2 -> Dense 5
softmax: 271,365 parameters, Adam, categorical cross-entropy. Nothing is trained.

Run:   python3 chapter1_mlp_cnn_rnn/rnn_model.py [--plot-model]
Expect: the model summary, "Total params: 271,365", and metrics.json with each
layer's output shape and parameters.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from lib import cli, training


def build_rnn(timesteps=30, input_dim=12, units=512, dropout=0.2, num_activities=5):
    """The book's RNN: 268,800 + 2,565 = 271,365 parameters."""
    return keras.Sequential([
        keras.Input(shape=(timesteps, input_dim)),
        keras.layers.SimpleRNN(units, dropout=dropout),
        keras.layers.Dense(num_activities, activation="softmax", dtype="float32"),
    ], name="rnn_model")


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0], trains=False)


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)

    # Built where a run would train (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        model = build_rnn()
        model.compile(loss="categorical_crossentropy", optimizer="adam",
                      metrics=["accuracy"], jit_compile=args.jit_compile)
    training.describe_models(args, model)

    return training.save_listing(model, args.out_dir)


if __name__ == "__main__":
    main()
