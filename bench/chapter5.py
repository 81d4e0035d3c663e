"""Benchmark: chapter 5's WGAN step against the book's loop, then WGAN, LSGAN and ACGAN training.

1. Speed, in one process on the same data: milliseconds per generator step of WGAN
   (n_critic = 5 critic updates, then one generator update), batch 64:
   - the book's loop made correct on Keras 3: per critic update two `train_on_batch`
     calls (a real batch, then fakes from `generator.predict`) with the critic's
     `trainable` switched on around them, then clipping through NumPy with
     `get_weights`/`set_weights`; then `train_on_batch` of the adversarial model;
   - lib/gan.py's WGAN, all of it in one compiled `train_step` run by `fit`.
   Each is built and warmed up (--warmup-steps, tracing excluded), then they are timed
   in turn, --timed-steps each, --repetitions rounds: medians, spread, median ratio.
2. Quality: wgan_mnist.py (--wgan-steps generator steps), lsgan_mnist.py and
   acgan_mnist.py (--train-steps) on the real offline digits, their sample grids
   under outputs/bench/chapter5/.
Prints one JSON line per measurement. Not run by CI.

Run:   python3 bench/chapter5.py [--dataset mnist_subset] [--train-steps 1000] [--wgan-steps 300]
       [--gans wgan,lsgan,acgan] [--skip-speed] [--timed-steps 10 --repetitions 5]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np

from bench.chapter4 import bench_parser, compare_speed, fitting, looping, train_gans
from chapter5_wgan_lsgan import acgan_mnist, lsgan_mnist, wgan_mnist
from lib import cli, data, gan, gan_runs, hardware

BATCH_SIZE = 64
CRITIC_UPDATES = 5
CLIP_VALUE = 0.01
LEARNING_RATE = 5e-5


def book_loop(images, seed):
    """The book's WGAN loop, made correct on Keras 3: run(generator steps), and a check of
    whether its critic ended clipped."""
    rng = np.random.default_rng(seed)
    critic = gan.build_discriminator(activation=None, name="critic")
    critic.compile(loss=gan.wasserstein_loss, optimizer=keras.optimizers.RMSprop(LEARNING_RATE))
    generator = gan.build_generator()
    critic.trainable = False
    noise_input = keras.Input(shape=(gan.LATENT_DIM,))
    adversarial = keras.Model(noise_input, critic(generator(noise_input)))
    adversarial.compile(loss=gan.wasserstein_loss, optimizer=keras.optimizers.RMSprop(LEARNING_RATE))
    real_targets, fake_targets = np.ones((BATCH_SIZE, 1)), -np.ones((BATCH_SIZE, 1))

    def step():
        for _ in range(CRITIC_UPDATES):
            real = images[rng.integers(0, len(images), BATCH_SIZE)]
            fake = generator.predict(rng.uniform(-1.0, 1.0, (BATCH_SIZE, gan.LATENT_DIM)), verbose=0)
            critic.trainable = True  # without this toggle the critic never learns on Keras 3
            critic.train_on_batch(real, real_targets)
            critic.train_on_batch(fake, fake_targets)
            critic.trainable = False
            for layer in critic.layers:
                layer.set_weights([np.clip(weight, -CLIP_VALUE, CLIP_VALUE)
                                   for weight in layer.get_weights()])
        adversarial.train_on_batch(rng.uniform(-1.0, 1.0, (BATCH_SIZE, gan.LATENT_DIM)), real_targets)

    def check():
        return {"book_loop_clipped": bool(all(np.abs(weight).max() <= CLIP_VALUE
                                              for weight in critic.get_weights()))}

    return looping(step), check


def compiled_loop(images, seed):
    """lib/gan.py's WGAN.train_step under fit: run(generator steps)."""
    model = gan.WGAN(gan.build_generator(), gan.build_discriminator(activation=None),
                     clip_value=CLIP_VALUE, seed=seed)
    model.compile(keras.optimizers.RMSprop(LEARNING_RATE), keras.optimizers.RMSprop(LEARNING_RATE))
    return fitting(model, gan_runs.real_batches(images, batch_size=BATCH_SIZE, seed=seed,
                                                batches_per_step=CRITIC_UPDATES))


def main(argv=None):
    parser = bench_parser(__doc__.splitlines()[0], "wgan,lsgan,acgan", warmup_steps=2, timed_steps=10)
    parser.add_argument("--wgan-steps", type=cli.positive_int, default=300,
                        help="WGAN generator steps (each 5 critic updates; default: %(default)s)")
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    keras.utils.set_random_seed(0)
    images = data.prepare(data.load(args.dataset).x_train, "cnn")
    if not args.skip_speed:
        compare_speed("wgan_generator_step_speed", {"book_loop": book_loop, "compiled": compiled_loop},
                      images, args, batch_size=BATCH_SIZE, critic_updates=CRITIC_UPDATES)

    scripts = {"wgan": (wgan_mnist, args.wgan_steps), "lsgan": (lsgan_mnist, args.train_steps),
               "acgan": (acgan_mnist, args.train_steps)}
    train_gans([scripts[name] for name in args.gans.split(",") if name], args.dataset,
               args.save_interval)


if __name__ == "__main__":
    main()
