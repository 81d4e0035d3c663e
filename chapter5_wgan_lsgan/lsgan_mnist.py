"""A least-squares GAN learns MNIST digits (book section 5.2, Listing 5.2.1).

The DCGAN of section 4.2 with a linear discriminator output and mean squared
error instead of binary cross-entropy for both networks: D pulls its score of real
images to 1 and of fakes to 0, G pulls D's score of its fakes to 1. Fakes that D already calls real but that lie far from the real data
still get a gradient, which the sigmoid cross-entropy would saturate. Same
optimizers, schedule, batch and steps as the DCGAN.

Run:   python3 chapter5_wgan_lsgan/lsgan_mnist.py [--train-steps 1000 --save-interval 100]
       python3 chapter5_wgan_lsgan/lsgan_mnist.py -g outputs/lsgan_mnist/lsgan_mnist_generator.keras
Expect: digit-like grids within a few hundred steps, as the DCGAN.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from lib import cli, gan, gan_runs, resume, training

GENERATOR_INPUTS = gan_runs.input_kinds()  # z ~ U(-1, 1), as quality measurement draws it


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(gan_runs.make_parser(__file__, __doc__.splitlines()[0]), argv)
    args = gan_runs.with_saved_generators(args)  # --eval-only measures those training saved
    fixed_noise, _ = gan_runs.fixed_inputs(args.seed)
    if args.generator:  # generate only, as the book's -g
        return gan_runs.generate_only(args, fixed_noise, GENERATOR_INPUTS)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: real images in [0, 1], endless shuffled batches.
    batches = gan_runs.training_batches(args.dataset, args.limit, args.batch_size, args.seed)

    # Models: the DCGAN's, with a linear discriminator output.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        generator = gan.build_generator()
        discriminator = gan.build_discriminator(activation=None)
        training.describe_models(args, generator, discriminator)
        lsgan = gan.GAN(generator, discriminator, seed=args.seed)
        lsgan.compile(*gan.book_optimizers(), loss=keras.losses.MeanSquaredError(),
                      jit_compile=args.jit_compile)

    # Train, saving the fixed noise's images and measuring new ones every --save-interval steps.
    samples = gan_runs.SampleGrid(generator, fixed_noise, args.out_dir / "samples",
                                  args.save_interval)
    quality = gan_runs.quality_monitor(generator, GENERATOR_INPUTS, args)
    return gan_runs.train(lsgan, batches, args, samples, "lsgan_mnist", state, quality)


if __name__ == "__main__":
    main()
