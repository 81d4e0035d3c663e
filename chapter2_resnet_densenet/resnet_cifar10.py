"""ResNet v1 and v2 classify CIFAR-10 (book section 2.2, Listing 2.2.1).

v1 has depth 6n + 2 (ResNet20v1 by default: 274,442 parameters), v2 depth 9n + 2
with bottleneck blocks; the builders are in lib/resnet.py. Training as the book:
Adam 1e-3, batch 32, 200 epochs, the rate divided by 10 after epochs 80, 120, 160
and halved after 180, ReduceLROnPlateau, random shifts of 0.1 and horizontal
flips, per-pixel mean subtraction; the best test-accuracy weights are kept.

Run:   python3 chapter2_resnet_densenet/resnet_cifar10.py [--version 2] [--depth 56]
Expect (CIFAR-10, 200 epochs): ResNet20v1 about 92.2%, ResNet56v2 about 93.0%.
CIFAR-10 downloads once; offline, `--dataset fashion_mnist_rgb32` trains on the stand-in.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np

from lib import cli, data, outputs, resnet, resume, schedules, training

DEFAULT_DEPTH = {1: 20, 2: 29}  # the book's n = 3 blocks per stage


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.CIFAR_LIKE,
                             epochs=200, batch_size=32)
    parser.add_argument("--version", type=int, choices=(1, 2), default=1,
                        help="ResNet v1 (basic blocks) or v2 (pre-activation bottlenecks)")
    parser.add_argument("--depth", type=cli.int_between(1, 1001), default=None,
                        help="layers: 6n + 2 for v1 (default 20), 9n + 2 for v2 (default 29); "
                             "at most 1001, the deepest in the ResNet papers")
    parser.add_argument("--no-augmentation", action="store_true",
                        help="train on the images as they are (faster, less accurate)")
    return parser


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here
    depth = args.depth or DEFAULT_DEPTH[args.version]

    # Data: 32x32x3 images in [0, 1] minus the training set's mean image, labels one-hot.
    dataset = data.load(args.dataset, limit=args.limit)
    pixel_mean = (dataset.x_train.mean(axis=0) / 255.0).astype("float32")
    with outputs.atomic_path(args.out_dir / "pixel_mean.npy") as temporary:
        np.save(temporary, pixel_mean)  # inference needs the same subtraction
    train_batches, test_batches = data.classification_batches(
        dataset, "cnn", args.batch_size, shuffle_seed=args.seed, pixel_mean=pixel_mean,
        augment=not args.no_augmentation)

    # Model, built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        try:
            model = resnet.resnet(dataset.x_train.shape[1:], depth, args.version,
                                  dataset.num_classes)
        except ValueError as error:
            raise cli.UserError(f"--depth: {error}") from None
        model.compile(loss="categorical_crossentropy",
                      optimizer=keras.optimizers.Adam(learning_rate=1e-3), metrics=["accuracy"],
                      jit_compile=args.jit_compile)
    training.describe_models(args, model)

    # Train and evaluate (a resumed run's schedule goes on from the epochs it logged)
    return training.fit_classifier(
        model, args, train_batches, test_batches, dataset, model.name,
        extra_callbacks=schedules.cifar_schedule_callbacks(1e-3, args.out_dir, state),
        keep_best=True, state=state,
        version=args.version, depth=depth, augmentation=not args.no_augmentation)


if __name__ == "__main__":
    main()
