"""DenseNet-BC classifies CIFAR-10 (book section 2.4, Listing 2.4.1).

Depth 100, growth rate 12 by default (797,788 parameters; builder in
lib/densenet.py). Training as the book: RMSprop 1e-3, batch 32, 200 epochs, the
ResNet schedule (divide by 10 after epochs 80, 120, 160, halve after 180),
ReduceLROnPlateau, random shifts of 0.1 and horizontal flips, no mean
subtraction; the best test-accuracy weights are kept. With --no-augmentation,
Dropout 0.2 follows every bottleneck and transition convolution, as in the book.

Run:   python3 chapter2_resnet_densenet/densenet_cifar10.py [--depth 40] [--growth-rate 12]
Expect (CIFAR-10, 200 epochs): above 93.5%, as in the book.
CIFAR-10 downloads once; offline, `--dataset fashion_mnist_rgb32` trains on the stand-in.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from lib import cli, data, densenet, resume, schedules, training


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.CIFAR_LIKE,
                             epochs=200, batch_size=32)
    parser.add_argument("--depth", type=cli.int_between(1, 250), default=100,
                        help="layers, 4 + 6m, at most 250, the deepest in the DenseNet paper "
                             "(default: %(default)s)")
    parser.add_argument("--growth-rate", type=cli.int_between(1, 64), default=12,
                        help="feature maps each bottleneck adds, at most 64 (default: %(default)s)")
    parser.add_argument("--no-augmentation", action="store_true",
                        help="train on the images as they are, with Dropout 0.2 instead "
                             "(faster, less accurate)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: 32x32x3 images in [0, 1], labels one-hot.
    dataset = data.load(args.dataset, limit=args.limit)
    train_batches, test_batches = data.classification_batches(
        dataset, "cnn", args.batch_size, shuffle_seed=args.seed,
        augment=not args.no_augmentation)

    # Model, built where the run trains (one device, or every replica under --distribute).
    dropout = 0.2 if args.no_augmentation else 0.0  # the book's regularizer when it has no augmentation
    with cli.device_strategy(args).scope():
        try:
            model = densenet.densenet_bc(dataset.x_train.shape[1:], args.depth, args.growth_rate,
                                         dataset.num_classes, dropout=dropout)
        except ValueError as error:
            raise cli.UserError(f"--depth: {error}") from None
        model.compile(loss="categorical_crossentropy",
                      optimizer=keras.optimizers.RMSprop(learning_rate=1e-3), metrics=["accuracy"],
                      jit_compile=args.jit_compile)
    training.describe_models(args, model)

    # Train and evaluate (a resumed run's schedule goes on from the epochs it logged)
    return training.fit_classifier(
        model, args, train_batches, test_batches, dataset, model.name,
        extra_callbacks=schedules.cifar_schedule_callbacks(1e-3, args.out_dir, state),
        keep_best=True, state=state,
        depth=args.depth, growth_rate=args.growth_rate,
        augmentation=not args.no_augmentation, dropout=dropout)


if __name__ == "__main__":
    main()
