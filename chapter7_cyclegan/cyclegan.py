"""CycleGAN learns to translate images between two domains from unpaired examples.
The book's section 7.1, Listings 7.1.1-7.1.3.

Two tasks, as the book:
- `--dataset mnist_svhn` (-m, the default as in the book): MNIST digits padded to
  32x32 (source) <-> SVHN house numbers (target), kernel 5; generators 2,414,437 /
  2,412,839 parameters, discriminators 1,084,481 / 1,082,881.
- Colorization, `--dataset cifar10` (-c): CIFAR-10 in gray (source) <-> in colour
  (target), kernel 3; 870,757 / 870,183 and 390,721 / 390,145. Gray and colour
  batches are drawn independently, so no training pair is ever shown. Offline,
  `--dataset sample_crops` does the same on 32x32 crops of the two colour
  photographs shipped with scikit-learn.
U-Net generators with instance normalization, PatchGAN discriminators (`--no-patchgan`:
a Dense score), least-squares adversarial losses, cycle losses (mean absolute
error, weight 10) and, with `--identity-loss`, identity losses (weight 0.5); RMSprop
2e-4 for the discriminators, 1e-4 for the generators, with the book's decay; batch
32, 100,000 steps, a translation grid of the same test images every 2,000. Networks and step:
lib/cyclegan.py; domains, batches, translations, grids and quality numbers:
lib/cyclegan_runs.py.

Run:   python3 chapter7_cyclegan/cyclegan.py -c [--train-steps 4000 --save-interval 200]
       python3 chapter7_cyclegan/cyclegan.py --dataset sample_crops --train-steps 1000 --save-interval 100
       python3 chapter7_cyclegan/cyclegan.py -m
       python3 chapter7_cyclegan/cyclegan.py -c -t G_TARGET.keras -s G_SOURCE.keras
       (G_TARGET.keras, G_SOURCE.keras: outputs/cyclegan/cyclegan_generator_target.keras, ..._source.keras;
       the book's --cifar10_g_target G_TARGET.keras --cifar10_g_source G_SOURCE.keras is the same,
       and --mnist_svhn_g_target/--mnist_svhn_g_source with -m)
Expect: test_source.png and test_target.png (the book's 10x10 grids of test images);
every save interval, predicted_source/ and predicted_target/step_*.png (the book's
10x10 grids of their translations), reconstructed_source.png and
reconstructed_target.png (their reconstructions), and samples/step_*.png with six
rows (8 source test images, their translation, their reconstruction; the same for
target images); reconstructions close to the
originals within a few hundred steps (the cycle error falls first), translations
that take on the other domain's look over the full run. After every save interval
a row of quality.csv (and at the end metrics.json) gets each direction's cycle error
on --eval-samples test images and, for colorization, the colorized images' PSNR
against the true colours (beside the gray images' own), for MNIST <-> SVHN the
fraction of translated digits that keep their class (read by a classifier of the
other domain, trained once).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

from lib import cli, cyclegan, cyclegan_runs, gan_runs, outputs, resume, saved_models, training

KERNEL_SIZES = {"mnist_svhn": 5, "cifar10": 3, "sample_crops": 3}  # by --dataset, as the book
# The book's two tasks, and the datasets that serve each (sample_crops: gray <-> colour offline).
TASK_DATASETS = {"cifar10": ("cifar10", "sample_crops"), "mnist_svhn": ("mnist_svhn",)}
# Every task's images: gray, or MNIST padded to 32x32 (source) <-> colour, or SVHN (target).
SOURCE_SHAPE, TARGET_SHAPE = (32, 32, 1), (32, 32, 3)


def make_parser():
    parser = cli.make_parser(__file__, __doc__.splitlines()[0], datasets=tuple(KERNEL_SIZES),
                             batch_size=32, train_steps=100000, save_interval=2000)
    parser.add_argument("-c", "--cifar10", dest="dataset", action=BookTaskFlag, nargs=0,
                        task="cifar10", help="the book's flag: --dataset cifar10 (gray <-> colour)")
    parser.add_argument("-m", "--mnist-svhn", dest="dataset", action=BookTaskFlag, nargs=0,
                        task="mnist_svhn", help="the book's flag: --dataset mnist_svhn")
    parser.add_argument("--identity-loss", action="store_true",
                        help="add the identity losses, weight 0.5 (default: off)")
    parser.add_argument("--patchgan", action=argparse.BooleanOptionalAction, default=True,
                        help="score 2x2 patches (default) or, with --no-patchgan, whole images")
    parser.add_argument("-t", "--g-target", type=cli.existing_file, metavar="PATH",
                        help="only translate test images, with this saved g_target (.keras, or "
                             "the book's cyclegan_*-g_target.h5) "
                             "and -s's g_source")
    parser.add_argument("-s", "--g-source", type=cli.existing_file, metavar="PATH",
                        help="only translate test images, with this saved g_source (.keras, or "
                             "the book's cyclegan_*-g_source.h5) "
                             "and -t's g_target")
    for task in ("cifar10", "mnist_svhn"):
        for domain in ("source", "target"):
            parser.add_argument(f"--{task}_g_{domain}", dest=f"g_{domain}", type=cli.existing_file,
                                action=BookTaskFlag, task=task, metavar="PATH",
                                help=f"the book's flag: --dataset {task} -{domain[0]} PATH")
    parser.set_defaults(book_task_flags=())  # (flag, task) of each book's flag given
    gan_runs.add_quality_flags(parser, {f"g_{domain}": f"cyclegan_generator_{domain}.keras"
                                   for domain in ("target", "source")})
    parser.modes["measure"].unused.update(identity_loss=None, patchgan=None)
    parser.modes["translate"] = cli.Mode(
        ("g_target", "g_source"), "only translates test images with saved generators",
        {"identity_loss": None, "patchgan": None})
    parser.checks.append(one_task)
    return parser


class BookTaskFlag(argparse.Action):
    """A book's flag that chooses a task: -c and -m (nargs=0), or --cifar10_g_source and
    the like (a saved generator, stored). It is noted in `book_task_flags`; `one_task`
    then sets the task's dataset, once every flag has been read."""

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task

    def __call__(self, parser, namespace, values, option_string=None):
        if self.nargs != 0:
            setattr(namespace, self.dest, values)
        namespace.book_task_flags += ((option_string, self.task),)


def one_task(args, given):
    """The book's flags that choose a task (-c, -m, --cifar10_g_target, ...) choose the
    run's dataset, all the same one: `-c -m`, or -c with `--dataset mnist_svhn` in either
    order, contradict. A --dataset given that serves the task stays (sample_crops: an
    offline cifar10)."""
    if not args.book_task_flags:
        return
    first_flag, task = args.book_task_flags[0]
    if "dataset" not in given:
        args.dataset = task
    for flag, other_task in args.book_task_flags:
        if other_task != task:
            run_dataset, chosen_by = task, f"{first_flag} chose {task}"
        elif args.dataset not in TASK_DATASETS[task]:
            run_dataset, chosen_by = args.dataset, f"--dataset is {args.dataset}"
        else:
            continue
        if "_g_" in flag:  # a generator's flag
            raise cli.UserError(f"{flag} is a generator of --dataset {other_task}, not of "
                                f"{run_dataset} ({chosen_by}); give the flags of one task")
        raise cli.UserError(f"{flag} chooses --dataset {other_task}, but {chosen_by}; "
                            f"give the flags of one task")


def load_generators(args):
    """The two saved generators (ours, .keras, or the book's .h5), checked against the
    task's image shapes before any data is loaded."""
    return (saved_models.load_generator(args.g_target, [SOURCE_SHAPE], TARGET_SHAPE),
            saved_models.load_generator(args.g_source, [TARGET_SHAPE], SOURCE_SHAPE))


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    args = gan_runs.with_saved_generators(args)  # --eval-only measures those training saved
    if bool(args.g_target) != bool(args.g_source):
        raise cli.UserError("translating needs both generators: g_target with -t and g_source with -s")

    generators = load_generators(args) if args.g_target else None  # a wrong file fails first

    # Data: both domains' images in [0, 1]; training batches unpaired.
    source, target = cyclegan_runs.load_domains(args.dataset, args.limit,
                                                None if generators else args.batch_size)
    classifiers = cyclegan_runs.digit_classifiers(args.dataset, args.eval_samples)
    ceiling = (cyclegan_runs.quality_ceiling(source, target, classifiers, args.eval_samples)
               if args.eval_samples else None)
    if generators:  # translate only, with the two saved generators
        generator_target, generator_source = generators
        translations = cyclegan_runs.save_all_grids(
            generator_target, generator_source, source.test, target.test,
            (source.name, target.name), args.out_dir / "translated.png", args.out_dir, step=0)
        if not args.eval_samples:
            print(f"Saved translated.png and the book's grids (predicted_*/, reconstructed_*.png) "
                  f"in {args.out_dir}")
            return {"translated": len(translations["target_from_source"])}
        results = {"quality": cyclegan_runs.translation_quality(
                       generator_target, generator_source, source, target, classifiers,
                       args.eval_samples),
                   "quality_ceiling": ceiling}
        outputs.write_json(args.out_dir / "quality.json", results)
        cyclegan_runs.print_quality(results["quality"], ceiling)
        print(f"Saved translated.png and quality.json in {args.out_dir}")
        return results
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here
    batches = cyclegan_runs.unpaired_batches(source.train, target.train, args.batch_size, args.seed)

    # Models: two U-Net generators, two discriminators, four optimizers.
    # Built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        networks = cyclegan.build_networks(SOURCE_SHAPE, TARGET_SHAPE,
                                           kernel_size=KERNEL_SIZES[args.dataset],
                                           patchgan=args.patchgan)
        training.describe_models(args, *networks.values())
        model = cyclegan.CycleGAN(networks, identity_loss=args.identity_loss)
        model.compile(cyclegan.book_optimizers(), jit_compile=args.jit_compile)

    # Train, saving the translation grids of the same test images and the quality numbers
    # every --save-interval steps; first, as the book, the test images themselves.
    cyclegan_runs.save_book_test_grids(source.test, target.test, (source.name, target.name),
                                       args.out_dir)
    samples = cyclegan_runs.TranslationGrid(source.test, target.test, (source.name, target.name),
                                            args.out_dir / "samples", args.out_dir,
                                            args.save_interval)
    quality = gan_runs.QualityMonitor(
        lambda: cyclegan_runs.translation_quality(networks["generator_target"],
                                                  networks["generator_source"], source, target,
                                                  classifiers, args.eval_samples),
        args.out_dir, args.save_interval, ceiling=ceiling) if args.eval_samples else None
    results = gan_runs.train(model, batches, args, samples, "cyclegan", state, quality)
    if quality:
        cyclegan_runs.print_quality(results["quality"], ceiling)
    return results


if __name__ == "__main__":
    main()
