"""An autoencoder colours grayscale CIFAR-10 images (book section 3.4, Listing 3.4.1).

Input: the gray image 0.299 R + 0.587 G + 0.114 B (32x32x1); target: the colour
image. Encoder Conv2D 64, 128, 256 (3x3, stride 2, ReLU), Dense 256 (1,418,496
parameters); decoder the mirror with a 3-channel sigmoid output (2,013,315);
3,431,811 together. MSE, Adam, 30 epochs, batch 32, ReduceLROnPlateau by sqrt(0.1)
after 5 epochs without progress, and the best test-loss weights kept.

Run:   python3 chapter3_autoencoders/colorization_autoencoder_cifar10.py
Expect: test_color.png, test_gray.png and test_colorized.png, 10x10 grids of the
first 100 test images in colour, in gray and colorized: plausible colours, duller
than the originals.
CIFAR-10 downloads once; offline, `--dataset sample_crops` trains on 32x32 crops
of the two colour photographs shipped with scikit-learn.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np

from lib import autoencoders, cli, data, metrics, plots, resume, training

FILTERS = (64, 128, 256)


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0],
                             datasets=("cifar10", "sample_crops"), epochs=30, batch_size=32)
    parser.add_argument("--latent-dim", type=cli.int_between(1, 4096), default=256,
                        help="size of the latent vector (default: %(default)s)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: gray images as inputs, the colour images as targets, all in [0, 1].
    dataset = data.load(args.dataset, limit=args.limit)
    data.check_batch_size(dataset, args.batch_size)  # before any work: a batch the data can fill
    x_train, x_test = data.prepare(dataset.x_train, "cnn"), data.prepare(dataset.x_test, "cnn")
    gray_train, gray_test = data.to_gray(x_train), data.to_gray(x_test)
    train_batches = data.EpochBatches(gray_train, x_train, args.batch_size, args.seed)
    test_batches = data.batches(gray_test, x_test, args.batch_size)

    # Model, built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        encoder = autoencoders.build_encoder(gray_train.shape[1:], args.latent_dim, FILTERS)
        decoder = autoencoders.build_decoder(x_train.shape[1:], args.latent_dim, FILTERS)
        autoencoder = autoencoders.build_autoencoder(encoder, decoder, name="colorizer")
        autoencoder.compile(loss="mse", optimizer="adam", jit_compile=args.jit_compile)
    training.describe_models(args, encoder, decoder, autoencoder)

    # Train
    reduce_on_plateau = keras.callbacks.ReduceLROnPlateau(
        factor=0.1 ** 0.5, cooldown=0, patience=5, min_lr=0.5e-6)
    best = training.best_checkpoint(args.out_dir, state, "colorization_autoencoder",
                                    monitor="val_loss")
    callbacks = training.fit(autoencoder, args, train_batches, test_batches, state,
                             extra_callbacks=[reduce_on_plateau, best])

    # Results
    colorized = autoencoder.predict(gray_test, batch_size=args.batch_size, verbose=0)
    quality = {"test_mse": metrics.mean_squared_error(colorized, x_test),
               "test_psnr_db": metrics.psnr(colorized, x_test),
               "gray_psnr_db": metrics.psnr(np.repeat(gray_test, 3, axis=-1), x_test)}
    print(f"\nTest colorization MSE {quality['test_mse']:.4f}, PSNR {quality['test_psnr_db']:.1f} dB "
          f"(the gray input itself: {quality['gray_psnr_db']:.1f} dB)")
    shown = slice(0, 100)
    for name, images in (("color", x_test), ("gray", gray_test), ("colorized", colorized)):
        plots.image_grid(images[shown], args.out_dir / f"test_{name}.png", columns=10,
                         title=f"test images: {name}")
    weights = {"colorization_autoencoder.weights.h5": autoencoder}
    return training.save_results(args.out_dir, weights, {
        "dataset": dataset.name,
        "train_examples": len(x_train),
        "params": {model.name: model.count_params() for model in (encoder, decoder, autoencoder)},
        **quality,
        "best_test_loss": best.best,
    }, callbacks)


if __name__ == "__main__":
    main()
