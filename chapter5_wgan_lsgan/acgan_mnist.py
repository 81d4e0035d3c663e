"""An auxiliary classifier GAN draws the MNIST digit it is asked for (book section 5.3).
Its discriminator also classifies every digit (Listing 5.3.1).

G is the CGAN's (z + one-hot label, 1,364,225 parameters). D does not see the
label: it has the DCGAN's real/fake "source" head plus a "label" head (Dense 128,
Dense 10 softmax) on the same features (1,606,283). D learns both heads on real
images with their labels and on fakes with the labels G was given (binary plus
categorical cross-entropy); G learns to make D call its fakes real and of the
asked-for digit. DCGAN optimizers, schedule, batch and steps; grid labels 0-9, 0-5.

Run:   python3 chapter5_wgan_lsgan/acgan_mnist.py [--train-steps 1000 --save-interval 100]
       python3 chapter5_wgan_lsgan/acgan_mnist.py -g outputs/acgan_mnist/acgan_mnist_generator.keras -d 3
Expect: d_label_acc near 1 within a few hundred steps (D classifies real digits and
G's fakes), grids whose digits follow the requested labels; -d N makes all 16 an N.
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

    # Models: G takes the label; D predicts it with a second head.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        generator = gan.build_generator(num_labels=NUM_LABELS)
        discriminator = gan.build_discriminator(label_outputs=NUM_LABELS)
        training.describe_models(args, generator, discriminator)
        acgan = gan.ACGAN(generator, discriminator, num_labels=NUM_LABELS, seed=args.seed)
        acgan.compile(*gan.book_optimizers(), jit_compile=args.jit_compile)

    # Train, saving the fixed inputs' images and measuring new ones every --save-interval steps.
    samples = gan_runs.SampleGrid(generator, fixed_inputs, args.out_dir / "samples",
                                  args.save_interval, titles=titles)
    quality = gan_runs.quality_monitor(generator, GENERATOR_INPUTS, args)
    return gan_runs.train(acgan, batches, args, samples, "acgan_mnist", state, quality)


if __name__ == "__main__":
    main()
