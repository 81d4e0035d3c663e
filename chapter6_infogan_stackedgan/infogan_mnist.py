"""InfoGAN learns MNIST digits whose class and two further attributes one can set (section 6.1).
The book's Listing 6.1.1.

G takes z of 62, a one-hot label and two continuous codes c1, c2 (1,138,433
parameters). D has no label input; on top of the DCGAN's features it has four
heads: real/fake "source", "label" (Dense 128, Dense 10 softmax), "code_1" and
"code_2" (1,606,541). Both networks minimise binary and categorical cross-entropy
and, for each code, the mutual-information loss -mean(sum(c log Q(c|x))), weights
1, 1, 0.5, 0.5; so G must make each code visible in the image, and with nothing
telling it which attribute, each code ends up controlling one, typically slant
and stroke width. Codes ~ N(0, 0.5) in training; DCGAN optimizers and schedule,
batch 64, 40,000 steps.

Run:   python3 chapter6_infogan_stackedgan/infogan_mnist.py [--train-steps 2000 --save-interval 100]
       python3 chapter6_infogan_stackedgan/infogan_mnist.py -g G.keras -d 3 -a 1.5 -b -1
       python3 chapter6_infogan_stackedgan/infogan_mnist.py -g G.keras --p1 --p2
       (G.keras: outputs/infogan_mnist/infogan_mnist_generator.keras)
Expect: grids whose digits follow the labels; --p1 / --p2 write sweep_code1.png /
sweep_code2.png, one row per digit (all ten, or -d's) with the code going from -2
to 2 left to right and z fixed along the row, so only that attribute changes.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np

from lib import cli, gan, gan_runs, resume, training

NUM_LABELS = 10
NUM_CODES = 2
LATENT_DIM = 62
SWEEP = np.linspace(-2.0, 2.0, 16)  # the book's code values for --p1 / --p2
# z, a one-hot label and the codes, as quality measurement draws them
GENERATOR_INPUTS = gan_runs.input_kinds(LATENT_DIM, NUM_LABELS, NUM_CODES)


def make_parser():
    parser = gan_runs.make_parser(__file__, __doc__.splitlines()[0], NUM_LABELS)
    for index, short_flag in ((1, "-a"), (2, "-b")):
        parser.add_argument(short_flag, f"--code{index}", type=cli.float_between(*SWEEP[[0, -1]]),
                            default=0.0,
                            help=f"value of code {index} in the sample grids, from -2 to 2 as "
                                 f"the book's sweeps (default: %(default)s)")
    for index in (1, 2):
        parser.add_argument(f"--p{index}", action="store_true",
                            help=f"with -g: sweep code {index} over linspace(-2, 2, 16)")
    parser.modes["measure"].unused.update(code1=None, code2=None, p1=None, p2=None)  # grids' flags
    return parser


def codes_for(count, code1, code2):
    """Both codes as G's (count, 1) inputs, every sample given the same values."""
    return [keras.ops.full((count, 1), float(code1)), keras.ops.full((count, 1), float(code2))]


def sweep(generator, args, code_index):
    """One row per digit, 16 columns along code `code_index` from -2 to 2, the other
    code at its -a/-b value; one z per row, so that only the code changes along it."""
    digits = gan_runs.sweep_digits(args.digit, NUM_LABELS)
    noise = keras.random.uniform((len(digits), LATENT_DIM), -1.0, 1.0, seed=args.seed)
    noise = keras.ops.repeat(noise, len(SWEEP), axis=0)
    labels = keras.utils.to_categorical(np.repeat(digits, len(SWEEP)), NUM_LABELS)
    swept = np.tile(SWEEP, len(digits)).reshape(-1, 1).astype("float32")
    code1, code2 = codes_for(len(swept), args.code1, args.code2)
    codes = [swept, code2] if code_index == 1 else [code1, swept]
    inputs = [keras.ops.convert_to_tensor(value) for value in (noise, labels, *codes)]
    images = keras.ops.convert_to_numpy(generator(inputs, training=False))
    return gan_runs.save_sweep(images, digits, SWEEP, args.out_dir / f"sweep_code{code_index}.png",
                               title=f"code {code_index} from -2 to 2")


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    args = gan_runs.with_saved_generators(args)  # --eval-only measures those training saved
    sweeps = [index for index in (1, 2) if getattr(args, f"p{index}")]
    if sweeps and not args.generator:
        raise cli.UserError("--p1 and --p2 sweep the codes of a saved generator: give it with -g")
    fixed_inputs, titles = gan_runs.fixed_inputs(args.seed, NUM_LABELS, args.digit,
                                                 latent_dim=LATENT_DIM)
    fixed_inputs += codes_for(gan_runs.SAMPLES, args.code1, args.code2)
    if args.generator and sweeps:  # the book's --p1 / --p2
        generator = gan_runs.load_generator(args.generator, GENERATOR_INPUTS)
        shapes = {f"sweep_code{index}": sweep(generator, args, index) for index in sweeps}
        print(f"Saved {', '.join(f'{name}.png' for name in shapes)} in {args.out_dir}")
        return {"grid_rows_columns": shapes}
    if args.generator:  # generate only, as the book's -g (with -d, -a, -b)
        return gan_runs.generate_only(args, fixed_inputs, GENERATOR_INPUTS, titles)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: real images in [0, 1] with their one-hot labels, endless shuffled batches.
    batches = gan_runs.training_batches(args.dataset, args.limit, args.batch_size, args.seed,
                                        num_labels=NUM_LABELS)

    # Models: G takes z, the label and two codes; D estimates all three.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        generator = gan.build_generator(latent_dim=LATENT_DIM, num_labels=NUM_LABELS,
                                        num_codes=NUM_CODES)
        discriminator = gan.build_discriminator(label_outputs=NUM_LABELS, num_codes=NUM_CODES)
        training.describe_models(args, generator, discriminator)
        infogan = gan.InfoGAN(generator, discriminator, latent_dim=LATENT_DIM,
                              num_labels=NUM_LABELS, num_codes=NUM_CODES, seed=args.seed)
        infogan.compile(*gan.book_optimizers(), jit_compile=args.jit_compile)

    # Train, saving the fixed inputs' images and measuring new ones every --save-interval steps.
    samples = gan_runs.SampleGrid(generator, fixed_inputs, args.out_dir / "samples",
                                  args.save_interval, titles=titles)
    quality = gan_runs.quality_monitor(generator, GENERATOR_INPUTS, args)
    return gan_runs.train(infogan, batches, args, samples, "infogan_mnist", state, quality)


if __name__ == "__main__":
    main()
