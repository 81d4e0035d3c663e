"""An autoencoder with a 2-dim latent space makes digits points in a plane (book section 3.2.2).
The book's Listing 3.2.2.

The chapter's encoder and decoder with a latent vector of 2 (25,090 and 65,089
parameters; 90,179 together), MSE, Adam, 20 epochs, batch 32. Two figures show
the plane: where the test digits land, coloured by their label, and what the
decoder draws at every point of a 30x30 grid over [-4, 4]^2.

Run:   python3 chapter3_autoencoders/autoencoder_2dim_mnist.py
Expect: latent_scatter.png with one cluster per digit, and latent_grid.png where
the digits morph into each other across the plane.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import numpy as np
from matplotlib.figure import Figure

from lib import autoencoders, cli, data, plots, resume, training


def plot_latent_scatter(latents, labels, class_names, path):
    """Each test image's 2-dim latent vector, coloured by its label."""
    figure = Figure(figsize=(7, 6))
    axis = figure.subplots()
    points = axis.scatter(latents[:, 0], latents[:, 1], c=labels, cmap="tab10", s=4,
                          vmin=-0.5, vmax=len(class_names) - 0.5)
    colorbar = figure.colorbar(points, ticks=range(len(class_names)))
    colorbar.ax.set_yticklabels(class_names)
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title("test images in the latent plane")
    plots.save_figure(figure, path)


def decode_latent_grid(decoder, steps=30, extent=4.0):
    """One image made of the decoder's output at each point of a steps x steps grid
    over [-extent, extent]^2: z[0] grows to the right, z[1] upwards."""
    z0 = np.linspace(-extent, extent, steps)
    z1 = np.linspace(extent, -extent, steps)  # top row first
    grid = np.array([[x, y] for y in z1 for x in z0], dtype="float32")
    digits = decoder.predict(grid, batch_size=steps * steps, verbose=0)[..., 0]
    height, width = digits.shape[1:]
    return digits.reshape(steps, steps, height, width).transpose(0, 2, 1, 3).reshape(
        steps * height, steps * width)


def plot_latent_grid(mosaic, extent, path):
    figure = Figure(figsize=(8, 8))
    axis = figure.subplots()
    axis.imshow(mosaic, cmap="gray", extent=(-extent, extent, -extent, extent))
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title("decoder output over the latent plane")
    plots.save_figure(figure, path)


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                           epochs=20, batch_size=32)


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

    # Model: a latent vector of only 2 numbers.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        encoder = autoencoders.build_encoder(x_train.shape[1:], latent_dim=2)
        decoder = autoencoders.build_decoder(x_train.shape[1:], latent_dim=2)
        autoencoder = autoencoders.build_autoencoder(encoder, decoder)
        autoencoder.compile(loss="mse", optimizer="adam", jit_compile=args.jit_compile)
    training.describe_models(args, encoder, decoder, autoencoder)

    # Train
    callbacks = training.fit(autoencoder, args, train_batches, test_batches, state)

    # Results: the latent plane seen from the encoder and from the decoder.
    test_mse = autoencoder.evaluate(test_batches, verbose=0)
    print(f"\nTest reconstruction MSE: {test_mse:.4f}")
    latents = encoder.predict(x_test, batch_size=args.batch_size, verbose=0)
    plot_latent_scatter(latents, dataset.y_test, dataset.class_names,
                        args.out_dir / "latent_scatter.png")
    plot_latent_grid(decode_latent_grid(decoder), 4.0, args.out_dir / "latent_grid.png")
    weights = {"autoencoder_2dim_mnist.weights.h5": autoencoder}
    return training.save_results(args.out_dir, weights, {
        "dataset": dataset.name,
        "train_examples": len(x_train),
        "params": {model.name: model.count_params() for model in (encoder, decoder, autoencoder)},
        "test_mse": test_mse,
        "latent_min": latents.min(axis=0).tolist(),
        "latent_max": latents.max(axis=0).tolist(),
    }, callbacks)


if __name__ == "__main__":
    main()
