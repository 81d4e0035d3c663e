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
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

from lib import cli, gan, gan_runs, resume, training

NUM_LABELS = 10
GENERATOR_INPUTS = gan_runs.input_kinds(num_labels=NUM_LABELS)  # z, then a one-hot label


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(gan_runs.make_parser(__file__, __doc__.splitlines()[0], NUM_LABELS), argv)
    args = gan_runs.with_saved_generators(args)  # --eval-only measures those training saved
    fixed_inputs, titles = gan_runs.fixed_inputs(args.seed, NUM_LABELS, args.digit)
    if args.generator:  # generate only, as the book's -g (with -d)
        return gan_runs.generate_only(args, fixed_inputs, GENERATOR_INPUTS, titles)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: real images in [0, 1] with their one-hot labels, endless shuffled batches.
    batches = gan_runs.training_batches(args.dataset, args.limit, args.batch_size, args.seed,
                                        num_labels=NUM_LABELS)

    # Models: both networks also take the label.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        generator = gan.build_generator(num_labels=NUM_LABELS)
        discriminator = gan.build_discriminator(num_labels=NUM_LABELS)
        training.describe_models(args, generator, discriminator)
        cgan = gan.GAN(generator, discriminator, num_labels=NUM_LABELS,
                       labels_into_discriminator=True, seed=args.seed)
        cgan.compile(*gan.book_optimizers(), jit_compile=args.jit_compile)

    # Train, saving the fixed inputs' images and measuring new ones every --save-interval steps.
    samples = gan_runs.SampleGrid(generator, fixed_inputs, args.out_dir / "samples",
                                  args.save_interval, titles=titles)
    quality = gan_runs.quality_monitor(generator, GENERATOR_INPUTS, args)
    return gan_runs.train(cgan, batches, args, samples, "cgan_mnist", state, quality)


if __name__ == "__main__":
    main()
