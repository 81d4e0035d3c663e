"""A denoising autoencoder cleans MNIST digits buried in Gaussian noise (book section 3.3).
The book's Listing 3.3.1.

Every image gets noise drawn from N(0.5, 0.5), clipped back to [0, 1]; the
chapter's autoencoder (latent 16, 178,001 parameters) learns to map the corrupted
image to the clean one: MSE, Adam, 10 epochs, batch 32. metrics.json compares
the corrupted and the denoised test images with the clean ones (MSE and PSNR).

Run:   python3 chapter3_autoencoders/denoising_autoencoder_mnist.py [--noise-std 0.75]
Expect: denoised.png, rows of clean, corrupted and denoised test digits; the
denoised digits are far closer to the clean ones than the corrupted inputs are.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import numpy as np

from lib import autoencoders, cli, data, metrics, plots, resume, training


def corrupt(images, mean, std, rng):
    """Add Gaussian noise N(mean, std) to every pixel, then clip to [0, 1]."""
    noisy = images + rng.normal(mean, std, size=images.shape).astype("float32")
    return np.clip(noisy, 0.0, 1.0)


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                             epochs=10, batch_size=32)
    parser.add_argument("--noise-mean", type=cli.float_between(-1, 1), default=0.5,
                        help="mean of the added Gaussian noise, from -1 to 1 (beyond, every "
                             "pixel clips to 0 or 1 alike) (default: %(default)s)")
    parser.add_argument("--noise-std", type=cli.float_between(0, 2, low_included=False),
                        default=0.5,
                        help="standard deviation of the added noise, at most 2 (already "
                             "nearly every pixel clipped to 0 or 1) (default: %(default)s)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: corrupted images as inputs, the clean images as targets.
    dataset = data.load(args.dataset, limit=args.limit)
    data.check_batch_size(dataset, args.batch_size)  # before any work: a batch the data can fill
    x_train, x_test = data.prepare(dataset.x_train, "cnn"), data.prepare(dataset.x_test, "cnn")
    rng = np.random.default_rng(args.seed)
    x_train_noisy = corrupt(x_train, args.noise_mean, args.noise_std, rng)
    x_test_noisy = corrupt(x_test, args.noise_mean, args.noise_std, rng)
    train_batches = data.EpochBatches(x_train_noisy, x_train, args.batch_size, args.seed)
    test_batches = data.batches(x_test_noisy, x_test, args.batch_size)

    # Model: the chapter's autoencoder, unchanged.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        encoder = autoencoders.build_encoder(x_train.shape[1:], latent_dim=16)
        decoder = autoencoders.build_decoder(x_train.shape[1:], latent_dim=16)
        autoencoder = autoencoders.build_autoencoder(encoder, decoder)
        autoencoder.compile(loss="mse", optimizer="adam", jit_compile=args.jit_compile)
    training.describe_models(args, autoencoder)

    # Train
    callbacks = training.fit(autoencoder, args, train_batches, test_batches, state)

    # Results: how far corrupted and denoised test images are from the clean ones.
    x_test_denoised = autoencoder.predict(x_test_noisy, batch_size=args.batch_size, verbose=0)
    quality = {
        "corrupted_mse": metrics.mean_squared_error(x_test_noisy, x_test),
        "denoised_mse": metrics.mean_squared_error(x_test_denoised, x_test),
        "corrupted_psnr_db": metrics.psnr(x_test_noisy, x_test),
        "denoised_psnr_db": metrics.psnr(x_test_denoised, x_test),
    }
    print(f"\nTest images vs clean: corrupted MSE {quality['corrupted_mse']:.4f} "
          f"(PSNR {quality['corrupted_psnr_db']:.1f} dB), denoised MSE "
          f"{quality['denoised_mse']:.4f} (PSNR {quality['denoised_psnr_db']:.1f} dB)")
    shown = slice(0, 9)
    plots.image_grid(np.concatenate([x_test[shown], x_test_noisy[shown], x_test_denoised[shown]]),
                     args.out_dir / "denoised.png", columns=9,
                     row_labels=["clean", "corrupted", "denoised"])
    weights = {"denoising_autoencoder_mnist.weights.h5": autoencoder}
    return training.save_results(args.out_dir, weights, {
        "dataset": dataset.name,
        "train_examples": len(x_train),
        "noise_mean": args.noise_mean,
        "noise_std": args.noise_std,
        "params": autoencoder.count_params(),
        **quality,
    }, callbacks)


if __name__ == "__main__":
    main()
