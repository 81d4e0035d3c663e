"""CycleGAN learns to translate images between two domains from unpaired examples
(book section 7.1, Listings 7.1.1-7.1.3).

Two tasks, as the book:
- Colorization, `--dataset cifar10` (-c): CIFAR-10 in gray (source) <-> in colour
  (target), kernel 3; generators 870,757 / 870,183 parameters, discriminators
  390,721 / 390,145. Gray and colour batches are drawn independently, so no
  training pair is ever shown. Offline, `--dataset sample_crops` does the same on
  32x32 crops of the two colour photographs shipped with scikit-learn.
- `--dataset mnist_svhn` (-m): MNIST digits padded to 32x32 (source) <-> SVHN house
  numbers (target), kernel 5; 2,414,437 / 2,412,839 and 1,084,481 / 1,082,881.
U-Net generators with instance normalization, PatchGAN discriminators (`--no-patchgan`:
a Dense score), least-squares adversarial losses, cycle losses (mean absolute
error, weight 10) and, with `--identity-loss`, identity losses (weight 0.5); RMSprop
2e-4 for the discriminators, 1e-4 for the generators; batch 32, 100,000 steps, a
translation grid of the same test images every 2,000. Networks and step: lib/cyclegan.py.

Run:   python3 chapter7_cyclegan/cyclegan.py -c [--train-steps 4000 --save-interval 200]
       python3 chapter7_cyclegan/cyclegan.py --dataset sample_crops --train-steps 1000 --save-interval 100
       python3 chapter7_cyclegan/cyclegan.py -m
       python3 chapter7_cyclegan/cyclegan.py -c -t G_TARGET.keras -s G_SOURCE.keras
       (G_TARGET.keras, G_SOURCE.keras: outputs/cyclegan/cyclegan_generator_target.keras, ..._source.keras)
Expect: samples/step_*.png with six rows (source test images, their translation,
their reconstruction; the same for target images); reconstructions close to the
originals within a few hundred steps (the cycle error falls first), translations
that take on the other domain's look over the full run; metrics.json with each
direction's cycle error on test images and, for colorization, the colorized
images' PSNR against the true colours beside the gray images' own.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable

from lib import cli, cyclegan, data, gan, metrics, outputs, training

TASKS = {  # dataset: (source domain, target domain, kernel size)
    "cifar10": ("gray", "colour", 3),
    "sample_crops": ("gray", "colour", 3),
    "mnist_svhn": ("MNIST", "SVHN", 5),
}
GRID_IMAGES = 8  # test images per domain in each translation grid
EVAL_IMAGES = 1000  # test images per domain for the final errors


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=tuple(TASKS),
                             batch_size=32, train_steps=100000, save_interval=2000)
    parser.add_argument("-c", "--cifar10", dest="dataset", action="store_const", const="cifar10",
                        help="the book's flag: --dataset cifar10 (gray <-> colour)")
    parser.add_argument("-m", "--mnist-svhn", dest="dataset", action="store_const",
                        const="mnist_svhn", help="the book's flag: --dataset mnist_svhn")
    parser.add_argument("--identity-loss", action="store_true",
                        help="add the identity losses, weight 0.5 (default: off)")
    parser.add_argument("--patchgan", action=argparse.BooleanOptionalAction, default=True,
                        help="score 2x2 patches (default) or, with --no-patchgan, whole images")
    parser.add_argument("-t", "--g-target", type=cli.existing_file, metavar="PATH",
                        help="only translate test images, with this saved g_target (.keras) "
                             "and -s's g_source")
    parser.add_argument("-s", "--g-source", type=cli.existing_file, metavar="PATH",
                        help="only translate test images, with this saved g_source (.keras) "
                             "and -t's g_target")
    return parser


def load_domains(dataset, limit=None):
    """Training and test images of both domains, float32 in [0, 1], 32x32:
    (source_train, target_train, source_test, target_test)."""
    if dataset == "mnist_svhn":
        mnist, svhn = data.load("mnist", limit=limit), data.load("svhn", limit=limit)
        return (data.prepare(data.pad_to_32(mnist.x_train), "cnn"), data.prepare(svhn.x_train, "cnn"),
                data.prepare(data.pad_to_32(mnist.x_test), "cnn"), data.prepare(svhn.x_test, "cnn"))
    colour = data.load(dataset, limit=limit)
    colour_train, colour_test = data.prepare(colour.x_train, "cnn"), data.prepare(colour.x_test, "cnn")
    return data.to_gray(colour_train), colour_train, data.to_gray(colour_test), colour_test


def evaluate(generator_target, generator_source, source_test, target_test, dataset, grid_path,
             title):
    """Save the translation grid of the first test images; return each direction's
    cycle error on up to EVAL_IMAGES test images and, for colorization, the PSNR of
    the colorized images (and of the gray ones) against the true colours."""
    cyclegan.save_translation_grid(generator_target, generator_source, source_test[:GRID_IMAGES],
                                   target_test[:GRID_IMAGES], TASKS[dataset][:2], grid_path, title)
    source, target = source_test[:EVAL_IMAGES], target_test[:EVAL_IMAGES]
    translations = cyclegan.translate(generator_target, generator_source, source, target)
    results = {"source_test_images": len(source), "target_test_images": len(target),
               **cyclegan.cycle_errors(translations, source, target)}
    if TASKS[dataset][0] == "gray":  # the gray test images are the colour ones', in pairs
        results["colorized_psnr_db"] = metrics.psnr(translations["target_from_source"], target)
        results["gray_psnr_db"] = metrics.psnr(cyclegan.as_channels(source, 3), target)
    print("Test images: " + ", ".join(f"{name} {value:.4g}" for name, value in results.items()))
    return results


def load_generators(args, source_shape, target_shape):
    """The two saved generators, checked against the task's image shapes."""
    generators = []
    for path, (from_shape, to_shape) in ((args.g_target, (source_shape, target_shape)),
                                         (args.g_source, (target_shape, source_shape))):
        generator = gan.load_generator(path, num_inputs=1)
        if (tuple(generator.input_shape[1:]), tuple(generator.output_shape[1:])) != (from_shape, to_shape):
            raise cli.UserError(f"{path} translates {generator.input_shape[1:]} images into "
                                f"{generator.output_shape[1:]}; --dataset {args.dataset} needs "
                                f"{from_shape} into {to_shape}")
        generators.append(generator)
    return generators


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    if bool(args.g_target) != bool(args.g_source):
        raise cli.UserError("translating needs both generators: g_target with -t and g_source with -s")

    # Data: both domains' images in [0, 1]; training batches unpaired.
    source_train, target_train, source_test, target_test = load_domains(args.dataset, args.limit)
    source_shape, target_shape = source_train.shape[1:], target_train.shape[1:]
    if args.g_target:  # translate only, with the two saved generators
        generator_target, generator_source = load_generators(args, source_shape, target_shape)
        results = evaluate(generator_target, generator_source, source_test, target_test,
                           args.dataset, args.out_dir / "translated.png", "test images")
        print(f"Saved translated.png in {args.out_dir}")
        return results
    batches = cyclegan.unpaired_batches(source_train, target_train, args.batch_size, args.seed)

    # Models: two U-Net generators, two discriminators, four optimizers.
    networks = cyclegan.build_networks(source_shape, target_shape, kernel_size=TASKS[args.dataset][2],
                                       patchgan=args.patchgan)
    training.describe_models(args, *networks.values())
    model = cyclegan.CycleGAN(networks, identity_loss=args.identity_loss)
    model.compile(cyclegan.book_optimizers())

    # Train, saving the translation grid of the same test images every --save-interval steps.
    samples = cyclegan.TranslationGrid(source_test[:GRID_IMAGES], target_test[:GRID_IMAGES],
                                       TASKS[args.dataset][:2], args.out_dir / "samples",
                                       args.save_interval)
    results = gan.train(model, batches, args, samples, "cyclegan")

    # Results: translations and cycle errors on test images.
    results.update(evaluate(networks["generator_target"], networks["generator_source"], source_test,
                            target_test, args.dataset, args.out_dir / "translated.png",
                            f"test images after {results['steps']} steps"))
    outputs.write_json(args.out_dir / "metrics.json", results)
    return results


if __name__ == "__main__":
    main()
