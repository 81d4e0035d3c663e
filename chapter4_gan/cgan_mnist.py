"""A conditional GAN draws the MNIST digit it is asked for (book section 4.3, Listing 4.3.1).

The DCGAN of section 4.2 with the one-hot label as a second input to both networks:
the generator concatenates it to the noise (1,364,225 parameters); the
discriminator maps it through Dense 784 to a second image channel (1,090,001).
Same algorithm, optimizers and schedule as the DCGAN: D on real images with their
labels and fakes made for random labels, then G through D, again for random
labels. The sample grid asks for digits 0-9, 0-5.

Run:   python3 chapter4_gan/cgan_mnist.py [--train-steps 2000 --save-interval 100]
       python3 chapter4_gan/cgan_mnist.py -g outputs/cgan_mnist/cgan_mnist_generator.keras -d 7
Expect: grids whose digits follow the requested labels; -d N makes all 16 an N.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable

import keras
import numpy as np

from lib import cli, data, gan, plots, training

NUM_LABELS = 10
GRID_DIGITS = np.concatenate([np.arange(10), np.arange(6)])  # the book's 16 sample labels


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                             batch_size=64, train_steps=40000, save_interval=500)
    parser.add_argument("-g", "--generator", type=cli.existing_file, metavar="PATH",
                        help="only generate 16 images with this saved generator (.keras)")
    parser.add_argument("-d", "--digit", type=int, choices=range(NUM_LABELS), metavar="N",
                        help="make all 16 samples the digit N (default: 0-9, 0-5)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    digits = GRID_DIGITS if args.digit is None else np.full(16, args.digit)
    fixed_inputs = [keras.random.uniform((len(digits), gan.LATENT_DIM), -1.0, 1.0, seed=args.seed),
                    keras.ops.convert_to_tensor(keras.utils.to_categorical(digits, NUM_LABELS))]
    titles = [f"digit {digit}" for digit in digits]

    if args.generator:  # generate only, as the book's -g (with -d)
        generator = gan.load_generator(args.generator, num_inputs=2)
        images = keras.ops.convert_to_numpy(generator(fixed_inputs, training=False))
        plots.image_grid(images, args.out_dir / "generated.png", titles=titles)
        print(f"Saved generated.png in {args.out_dir}")
        return {"generated": len(digits), "digits": digits.tolist()}

    # Data: real images in [0, 1] with their one-hot labels, endless shuffled batches.
    dataset = data.load(args.dataset, limit=args.limit)
    real_images = data.prepare(dataset.x_train, "cnn")
    labels = keras.utils.to_categorical(dataset.y_train, NUM_LABELS)
    batches = gan.real_batches(real_images, labels, batch_size=args.batch_size, seed=args.seed)

    # Models: both networks also take the label.
    generator = gan.build_generator(num_labels=NUM_LABELS)
    discriminator = gan.build_discriminator(num_labels=NUM_LABELS)
    training.describe_models(args, generator, discriminator)
    cgan = gan.GAN(generator, discriminator, seed=args.seed)
    cgan.compile(*gan.book_optimizers())

    # Train, saving the fixed inputs' images every --save-interval steps.
    samples = gan.SampleGrid(generator, fixed_inputs, args.out_dir / "samples", args.save_interval,
                             titles=titles)
    return gan.train(cgan, batches, args, samples, "cgan_mnist")


if __name__ == "__main__":
    main()
