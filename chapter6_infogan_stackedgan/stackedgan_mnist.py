"""StackedGAN draws MNIST digits through two stacked GANs (book section 6.2).
They invert a pre-trained encoder, level by level (Listing 6.2.1).

1. The encoder, enc0 (image -> 256 features, feature1) then enc1 (feature1 ->
   digit), is trained as a classifier first (10 epochs) and then frozen.
2. gen1 (label + z1 -> feature1, 429,312 parameters) learns against dis1
   (144,691) and gen0 (feature1 + z0 -> image, 2,593,537) against dis0
   (1,285,427). Each generator minimises an adversarial, an entropy (its D
   recovers its z) and a conditional loss (the frozen encoder maps its output back
   to its input): weights 1, 1, 1 for gen1 and 1, 10, 1 for gen0; dis0 weighs its
   z0 head 10. z0, z1 ~ N(0, 0.5); batch 64; 10,000 steps. Details: lib/stackedgan.py.
3. Chained, gen1 then gen0 draw a digit for a label; z1 and z0 vary its style.

Run:   python3 chapter6_infogan_stackedgan/stackedgan_mnist.py [--train-steps 2000 --save-interval 100]
       python3 chapter6_infogan_stackedgan/stackedgan_mnist.py -g G0.keras -k G1.keras -d 3 -z 0.5
       python3 chapter6_infogan_stackedgan/stackedgan_mnist.py -g G0.keras -k G1.keras -z 0 --p0 -x 0 --p1
       (G0.keras, G1.keras: outputs/stackedgan_mnist/stackedgan_mnist_generator0.keras, ...1.keras)
Expect: the encoder's test accuracy near the chapter 1 CNN's; grids whose digits
follow the labels; as the book, --p0 with -z (--p1 with -x) writes sweep_z0.png
(sweep_z1.png), one row per digit with every component of z0 going from -4 to 4
(of z1 from -1 to 1) left to right, the other z fixed.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np

from lib import cli, data, gan, gan_runs, outputs, resume, saved_models, stackedgan, training

SWEEPS = {0: np.linspace(-4.0, 4.0, 16), 1: np.linspace(-1.0, 1.0, 16)}  # z0's and z1's, as the book
# The chained generators' inputs, as quality measurement draws them: a one-hot label,
# then z1 and z0 ~ N(0, 0.5).
GENERATOR_INPUTS = [("labels", stackedgan.NUM_LABELS), ("normal", stackedgan.Z_DIM),
                    ("normal", stackedgan.Z_DIM)]


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                             batch_size=64, train_steps=10000, save_interval=500)
    parser.add_argument("--encoder-epochs", type=cli.int_between(1, cli.MAX_EPOCHS), default=10,
                        help="epochs of the encoder's classifier pre-training (default: %(default)s)")
    parser.add_argument("-g", "--generator0", type=cli.existing_file, metavar="PATH",
                        help="only generate, with this saved gen0 (.keras, or the book's "
                             "stackedgan_mnist-gen0.h5) and -k's gen1")
    parser.add_argument("-k", "--generator1", type=cli.existing_file, metavar="PATH",
                        help="only generate, with this saved gen1 (.keras, or the book's "
                             "stackedgan_mnist-gen1.h5) and -g's gen0")
    parser.add_argument("-d", "--digit", type=int, choices=range(stackedgan.NUM_LABELS),
                        metavar="N", help="make all samples the digit N (default: 0-9, 0-5)")
    for level, short_flag in ((0, "-z"), (1, "-x")):
        low, high = SWEEPS[level][[0, -1]]
        parser.add_argument(short_flag, f"--z{level}", type=cli.float_between(low, high),
                            default=None, metavar="VALUE",
                            help=f"set every component of z{level} to VALUE, from {low:g} to "
                                 f"{high:g} as the book's sweep (default: random)")
        parser.add_argument(f"--p{level}", action="store_true",
                            help=f"with -g, -k and {short_flag}: sweep z{level} over "
                                 f"linspace({low:g}, {high:g}, 16), as the book")
    gan_runs.add_quality_flags(parser, {f"generator{level}": f"stackedgan_mnist_generator{level}.keras"
                                        for level in (0, 1)})
    parser.modes["measure"].unused.update(encoder_epochs=None, z0=None, z1=None, p0=None, p1=None)
    parser.modes["generate"] = cli.Mode(
        ("generator0", "generator1"), "only generates with saved generators",
        {"encoder_epochs": None, "eval_samples": None,
         "dataset": "the saved generators draw what they learned (--dataset matters with "
                    "--eval-only: the real images their numbers compare with)"})
    return parser


def stacked_generator(generator0, generator1):
    """gen1 then gen0 as one model: (labels, z1, z0) -> image. gen0's inputs are matched
    by size, so ours ([z0, feature1]) and the book's ([feature1, z0]) both chain right."""
    labels, z1, z0 = (keras.Input(shape=(size,), name=name) for name, size in (
        ("labels", stackedgan.NUM_LABELS), ("z1", stackedgan.Z_DIM), ("z0", stackedgan.Z_DIM)))
    by_size = {stackedgan.Z_DIM: z0, stackedgan.FEATURE_DIM: generator1([labels, z1])}
    return keras.Model([labels, z1, z0], generator0([by_size[tensor.shape[-1]]
                                                     for tensor in generator0.inputs]),
                       name="stacked_generator")


def z_values(count, value, seed):
    """count z vectors: all components `value`, or N(0, 0.5) draws when value is None."""
    if value is not None:
        return keras.ops.full((count, stackedgan.Z_DIM), value)
    return keras.random.normal((count, stackedgan.Z_DIM), stddev=stackedgan.Z_STDDEV, seed=seed)


def grid_inputs(args):
    """The sample grid's 16 labels (0-9, 0-5, or all -d) with z1, z0 fixed for the run."""
    (_, labels), titles = gan_runs.fixed_inputs(args.seed, stackedgan.NUM_LABELS, args.digit)
    return [labels, z_values(gan_runs.SAMPLES, args.z1, args.seed),
            z_values(gan_runs.SAMPLES, args.z0, args.seed + 1)], titles


def sweep(generator, args, level):
    """One row per digit (all ten, or -d's), 16 columns along z`level` (every component
    the same value, SWEEPS[level]), the other z as its flag says (or random), fixed per row."""
    values = SWEEPS[level]
    digits = gan_runs.sweep_digits(args.digit, stackedgan.NUM_LABELS)
    labels = keras.ops.convert_to_tensor(
        keras.utils.to_categorical(np.repeat(digits, len(values)), stackedgan.NUM_LABELS))
    swept = keras.ops.convert_to_tensor(
        np.repeat(np.tile(values, len(digits))[:, None], stackedgan.Z_DIM, axis=1).astype("float32"))
    other_value = args.z1 if level == 0 else args.z0
    other = keras.ops.repeat(z_values(len(digits), other_value, args.seed), len(values), axis=0)
    z1, z0 = (other, swept) if level == 0 else (swept, other)
    images = keras.ops.convert_to_numpy(generator([labels, z1, z0], training=False))
    return gan_runs.save_sweep(images, digits, values, args.out_dir / f"sweep_z{level}.png",
                               title=f"z{level} from {values[0]:g} to {values[-1]:g}")


def generate_only(args):
    """The book's generate mode: both saved generators chained, a grid or the sweeps;
    with --eval-only their quality numbers."""
    generator0 = saved_models.load_generator(
        args.generator0, [(stackedgan.Z_DIM,), (stackedgan.FEATURE_DIM,)], gan.IMAGE_SHAPE,
        any_input_order=True)  # the book's gen0 takes [feature1, z0]; stacked_generator maps them
    generator1 = saved_models.load_generator(
        args.generator1, [(stackedgan.NUM_LABELS,), (stackedgan.Z_DIM,)], (stackedgan.FEATURE_DIM,))
    generator = stacked_generator(generator0, generator1)
    if args.eval_only:
        return gan_runs.evaluate_saved(generator, [args.generator0, args.generator1],
                                       GENERATOR_INPUTS, args.dataset, args.eval_samples,
                                       args.out_dir)
    sweeps = [level for level in (0, 1) if getattr(args, f"p{level}")]
    for level in sweeps:
        if getattr(args, f"z{level}") is None:  # the book sweeps a z only when its value is given
            print(f"--p{level} sweeps z{level} when -{'zx'[level]}/--z{level} is given too, as in the "
                  f"book; without it z{level} is random")
    sweeps = [level for level in sweeps if getattr(args, f"z{level}") is not None]
    if sweeps:
        shapes = {f"sweep_z{level}": sweep(generator, args, level) for level in sweeps}
        print(f"Saved {', '.join(f'{name}.png' for name in shapes)} in {args.out_dir}")
        return {"grid_rows_columns": shapes}
    inputs, titles = grid_inputs(args)
    return gan_runs.save_generated(generator, inputs, args.out_dir, titles)


def pretrain_encoder(encoder0, encoder1, args):
    """Train enc1(enc0(x)) as a digit classifier (Adam, cross-entropy), or load the
    weights an earlier run saved when resuming; returns its test accuracy."""
    dataset = data.load(args.dataset, limit=args.limit)
    images = keras.Input(shape=gan.IMAGE_SHAPE)
    weights = args.out_dir / "stackedgan_mnist_encoder.weights.h5"
    x_test = data.prepare(dataset.x_test, "cnn")
    y_test = keras.utils.to_categorical(dataset.y_test, stackedgan.NUM_LABELS)
    resuming = args.resume and weights.exists()
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        classifier = keras.Model(images, encoder1(encoder0(images)), name="encoder")
        if resuming:  # before compiling: the saved weights are the encoder's alone
            try:
                classifier.load_weights(weights)
            except Exception as error:  # a broken file fails in many ways (h5py, Keras)
                raise cli.UserError(f"cannot load the pre-trained encoder from {weights} "
                                    f"({type(error).__name__}); remove it to train it again") from None
            print(f"Loaded the pre-trained encoder from {weights}")
        classifier.compile(optimizer="adam", loss="categorical_crossentropy",
                           metrics=["accuracy"], jit_compile=args.jit_compile)
    if not resuming:
        classifier.fit(data.prepare(dataset.x_train, "cnn"),
                       keras.utils.to_categorical(dataset.y_train, stackedgan.NUM_LABELS),
                       epochs=args.encoder_epochs, batch_size=args.batch_size,
                       validation_data=(x_test, y_test))
        outputs.save_weights(keras.Model(images, classifier.outputs), weights)  # no optimizer
    accuracy = classifier.evaluate(x_test, y_test, verbose=0)[1]
    print(f"Encoder test accuracy: {100 * accuracy:.1f}%")
    return accuracy


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    args = gan_runs.with_saved_generators(args)  # --eval-only measures those training saved
    if bool(args.generator0) != bool(args.generator1):
        raise cli.UserError("generating needs both generators: gen0 with -g and gen1 with -k")
    if (args.p0 or args.p1) and not args.generator0:
        raise cli.UserError("--p0 and --p1 sweep saved generators: give them with -g and -k")
    if args.generator0:
        return generate_only(args)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: real images in [0, 1] with their one-hot labels, endless shuffled batches
    # (first: a batch size the data cannot fill ends the run before the encoder trains).
    batches = gan_runs.training_batches(args.dataset, args.limit, args.batch_size, args.seed,
                                        num_labels=stackedgan.NUM_LABELS)

    # Models: the six networks; the encoder first learns to classify, then stays frozen.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        encoder0, encoder1, generator0, generator1, discriminator0, discriminator1 = (
            stackedgan.build_networks())
    training.describe_models(args, encoder0, encoder1, generator0, generator1,
                             discriminator0, discriminator1)
    encoder_accuracy = pretrain_encoder(encoder0, encoder1, args)
    encoder0.trainable = encoder1.trainable = False
    # Then the two GANs around the frozen encoder, an optimizer for each network.
    with cli.device_strategy(args).scope():
        model = stackedgan.StackedGAN(encoder0, encoder1, generator0, generator1, discriminator0,
                                      discriminator1, seed=args.seed)
        d_optimizer0, g_optimizer0 = gan.book_optimizers()
        d_optimizer1, g_optimizer1 = gan.book_optimizers()
        model.compile({"dis0": d_optimizer0, "gen0": g_optimizer0,
                       "dis1": d_optimizer1, "gen1": g_optimizer1},
                      jit_compile=args.jit_compile)

    # Train both GANs, saving the chained generators' fixed-input grid every --save-interval.
    inputs, titles = grid_inputs(args)
    chained = stacked_generator(generator0, generator1)
    samples = gan_runs.SampleGrid(chained, inputs, args.out_dir / "samples", args.save_interval,
                                  titles=titles)
    quality = gan_runs.quality_monitor(chained, GENERATOR_INPUTS, args)
    return gan_runs.train(model, batches, args, samples, "stackedgan_mnist", state, quality,
                          extra_results={"encoder_test_accuracy": encoder_accuracy})


if __name__ == "__main__":
    main()
