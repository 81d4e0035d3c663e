"""An autoencoder compresses MNIST digits to 16 numbers and rebuilds them (book section 3.2.1).
The book's Listing 3.2.1.

Encoder: Conv2D 32 and 64 (3x3, stride 2, ReLU), Flatten, Dense 16 (69,008 parameters).
Decoder: Dense 7*7*64, Reshape, Conv2DTranspose 64 and 32 (stride 2, ReLU),
Conv2DTranspose 1 sigmoid (108,993). The autoencoder is the two in sequence
(178,001), trained to reproduce its input: MSE, Adam, 1 epoch, batch 32.

Run:   python3 chapter3_autoencoders/autoencoder_mnist.py
Expect: input_and_decoded.png laid out as the book's: the first 8 test digits in
the top 2 rows, their reconstructions in the bottom 2, blurred but clearly the
same digits. Offline, the 4,000-digit subset gives one epoch too few steps:
`--epochs 10` reaches a test MSE of about 0.012.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import numpy as np

from lib import autoencoders, cli, data, plots, resume, training


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                             epochs=1, batch_size=32)
    parser.add_argument("--latent-dim", type=cli.int_between(1, 4096), default=16,
                        help="size of the latent vector (default: %(default)s)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: 28x28x1 images in [0, 1]; each image is its own target.
    dataset = data.load(args.dataset, limit=args.limit)
    data.check_batch_size(dataset, args.batch_size)  # before any work: a batch the data can fill
    x_train, x_test = data.prepare(dataset.x_train, "cnn"), data.prepare(dataset.x_test, "cnn")
    train_batches = data.EpochBatches(x_train, x_train, args.batch_size, args.seed)
    test_batches = data.batches(x_test, x_test, args.batch_size)

    # Model: encoder and decoder, and the autoencoder that chains them (shared weights).
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        encoder = autoencoders.build_encoder(x_train.shape[1:], args.latent_dim)
        decoder = autoencoders.build_decoder(x_train.shape[1:], args.latent_dim)
        autoencoder = autoencoders.build_autoencoder(encoder, decoder)
        autoencoder.compile(loss="mse", optimizer="adam", jit_compile=args.jit_compile)
    training.describe_models(args, encoder, decoder, autoencoder)

    # Train: MSE between each image and its reconstruction.
    callbacks = training.fit(autoencoder, args, train_batches, test_batches, state)

    # Results
    test_mse = autoencoder.evaluate(test_batches, verbose=0)
    print(f"\nTest reconstruction MSE: {test_mse:.4f}")
    originals = x_test[:8]
    reconstructions = autoencoder.predict(originals, verbose=0)
    plots.image_grid(np.concatenate([originals, reconstructions]),
                     args.out_dir / "input_and_decoded.png", columns=4,
                     title="Input: 1st 2 rows, Decoded: last 2 rows",
                     row_labels=["input", "input", "decoded", "decoded"])
    weights = {"autoencoder_mnist.weights.h5": autoencoder}
    return training.save_results(args.out_dir, weights, {
        "dataset": dataset.name,
        "train_examples": len(x_train),
        "latent_dim": args.latent_dim,
        "params": {model.name: model.count_params() for model in (encoder, decoder, autoencoder)},
        "test_mse": test_mse,
    }, callbacks)


if __name__ == "__main__":
    main()
