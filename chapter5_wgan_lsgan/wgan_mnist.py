"""A Wasserstein GAN learns MNIST digits with a clipped linear critic (book section 5.1).
The book's Listing 5.1.2.

The DCGAN networks of section 4.2, but the discriminator is a critic: its last
Dense 1 is linear and it is trained to score real images high and fakes low with
the Wasserstein loss -mean(y * D(x)), y = +1 real, -1 fake (section 5.1.2).
Per generator update the critic is updated n_critic = 5 times, each time on a
new real batch and new fakes, and its weights are then clipped to [-0.01, 0.01]
so that it stays (up to a constant) 1-Lipschitz. RMSprop 5e-5 for both networks,
each with its own optimizer instance (the book shares one, which Keras 3 refuses
once two models' variables pass through it); batch 64; 40,000 generator steps.

Run:   python3 chapter5_wgan_lsgan/wgan_mnist.py [--train-steps 1000 --save-interval 100]
       python3 chapter5_wgan_lsgan/wgan_mnist.py -g outputs/wgan_mnist/wgan_mnist_generator.keras
Expect: d_loss, minus half the critic's estimate of the Wasserstein distance,
rising towards 0 as G closes the gap (on the MNIST subset -0.94 over steps 1-100,
-0.06 over steps 201-300); white blobs after a few hundred generator steps, slower
to become digits than the DCGAN.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from lib import cli, gan, gan_runs, resume, training

GENERATOR_INPUTS = gan_runs.input_kinds()  # z ~ U(-1, 1), as quality measurement draws it
LEARNING_RATE = 5e-5


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(gan_runs.make_parser(__file__, __doc__.splitlines()[0]), argv)
    args = gan_runs.with_saved_generators(args)  # --eval-only measures those training saved
    fixed_noise, _ = gan_runs.fixed_inputs(args.seed)
    if args.generator:  # generate only, as the book's -g
        return gan_runs.generate_only(args, fixed_noise, GENERATOR_INPUTS)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: each generator step takes n_critic real batches, one per critic update.
    batches = gan_runs.training_batches(args.dataset, args.limit, args.batch_size, args.seed,
                                        batches_per_step=gan.WGAN.critic_updates)

    # Models: the DCGAN generator and a linear critic.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        generator = gan.build_generator()
        critic = gan.build_discriminator(activation=None, name="critic")
        training.describe_models(args, generator, critic)
        wgan = gan.WGAN(generator, critic, clip_value=0.01, seed=args.seed)
        wgan.compile(keras.optimizers.RMSprop(LEARNING_RATE),
                     keras.optimizers.RMSprop(LEARNING_RATE), jit_compile=args.jit_compile)

    # Train, saving the fixed noise's images and measuring new ones every --save-interval
    # generator steps.
    samples = gan_runs.SampleGrid(generator, fixed_noise, args.out_dir / "samples",
                                  args.save_interval)
    quality = gan_runs.quality_monitor(generator, GENERATOR_INPUTS, args)
    return gan_runs.train(wgan, batches, args, samples, "wgan_mnist", state, quality)


if __name__ == "__main__":
    main()
