"""A DCGAN learns to draw MNIST digits from noise (book section 4.2, Listing 4.2.1).

Generator (1,301,505 parameters): z ~ U(-1, 1) of size 100 -> Dense 7*7*128 ->
BN-ReLU-Conv2DTranspose (128, 64, 32, 1 filters, kernel 5) -> sigmoid image.
Discriminator (1,080,577): LeakyReLU-Conv2D (32, 64, 128, 256, kernel 5) -> Dense 1
sigmoid. Each step trains D on 64 real (label 1) and 64 fake (label 0) images,
then G through D with 64 new fakes labelled real; RMSprop 2e-4 (D) and 1e-4 (G)
with the book's decay, binary cross-entropy, 40,000 steps, a 4x4 grid of the same
16 noise vectors every 500 steps. Builders and training step: lib/gan.py; the
run (flags, batches, grids, backups, saved files): lib/gan_runs.py.

Run:   python3 chapter4_gan/dcgan_mnist.py [--train-steps 2000 --save-interval 100]
       python3 chapter4_gan/dcgan_mnist.py -g outputs/dcgan_mnist/dcgan_mnist_generator.keras
Expect: grids that turn from noise into digit-like strokes within a few hundred
steps and into clear digits over the 40,000; samples/, training.gif, the generator.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

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

    # Models, built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        generator = gan.build_generator()
        discriminator = gan.build_discriminator()
        training.describe_models(args, generator, discriminator)
        dcgan = gan.GAN(generator, discriminator, seed=args.seed)
        dcgan.compile(*gan.book_optimizers(), jit_compile=args.jit_compile)

    # Train, saving the fixed noise's images and measuring new ones every --save-interval steps.
    samples = gan_runs.SampleGrid(generator, fixed_noise, args.out_dir / "samples",
                                  args.save_interval)
    quality = gan_runs.quality_monitor(generator, GENERATOR_INPUTS, args)
    return gan_runs.train(dcgan, batches, args, samples, "dcgan_mnist", state, quality)


if __name__ == "__main__":
    main()
