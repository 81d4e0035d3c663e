"""The common command-line flags of every script, their validation and run set-up.

A script builds its parser with `make_parser`, naming only the flags it uses, and
wraps `main` in `reports_user_errors` so that anything the user can fix (a bad
flag value, a dataset that cannot be had, a missing weights file) ends the run
with exit status 2 and one line on stderr, never a traceback.
"""
import argparse
import functools
import os
import sys
from pathlib import Path
from typing import NamedTuple

try:
    import fcntl  # POSIX: the --out-dir lock
except ImportError:  # Windows: runs are not locked
    fcntl = None

import keras
import tensorflow as tf

from lib import distribute, hardware

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUTS_ROOT = REPO_ROOT / "outputs"
_held_locks = {}  # folder: the --out-dir lock this process holds, released when main returns


class UserError(Exception):
    """A problem the user can fix; reported as one line and exit status 2."""


class Mode(NamedTuple):
    """A way to run a script that does not train (-g, --eval-only, ...): chosen when any
    of `flags` (dests) is set; `does`: what it does, for the error line ("only
    generates"); `unused`: {dest: None, or why ignoring it is harmless} of the flags it
    does not use besides TRAINING_FLAGS: those given are refused (None) or ignored with
    a line of notice saying why."""
    flags: tuple
    does: str
    unused: dict


# The common flags only training uses, for every Mode: refused (None), or ignored with
# the reason (they only choose how the training step computes or what it draws).
TRAINING_FLAGS = {"epochs": None, "batch_size": None, "train_steps": None, "save_interval": None,
                  "limit": None, "resume": None, "deterministic": None, "tensorboard": None,
                  "plot_model": "it draws the networks a training run builds",
                  "jit_compile": "it compiles the training step"}


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (no usage block) and exit status 2.
    `checks`: functions of (flags, given) that `parse_args` runs on the parsed flags, for
    rules that join several flags (they raise UserError; a check may set a flag that
    other flags imply when it was not given).
    `modes`: {name: Mode} of the ways to run without training, the first that applies
    deciding (`unused_flags`). `given`: the dests of the flags given on the command
    line, set by `parse_args`.
    `has_model`, `trains`, `has_batch_size`: which of the common flags `make_parser` added."""

    def __init__(self, *args, has_model=False, trains=False, has_batch_size=False, **kwargs):
        self.flag_actions = []  # before argparse's __init__, which adds -h
        super().__init__(*args, **kwargs)
        self.checks, self.modes, self.given = [], {}, frozenset()
        self.has_model, self.trains, self.has_batch_size = has_model, trains, has_batch_size

    def add_argument(self, *args, **kwargs):
        """argparse's add_argument, keeping the action for `given_flags` and `flag_name`."""
        action = super().add_argument(*args, **kwargs)
        self.flag_actions.append(action)
        return action

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def given_flags(self, argv):
        """The dests of the flags given in argv, a flag given with its default value
        included: argv parsed again with every flag's value first set to a marker, which
        argparse then keeps for each flag not given."""
        not_given = object()
        parsed = super().parse_args(argv, argparse.Namespace(
            **{action.dest: not_given for action in self.flag_actions}))
        return frozenset(action.dest for action in self.flag_actions
                         if getattr(parsed, action.dest) is not not_given)

    def flag_name(self, dest):
        """How --help names the flag of dest: "-g/--generator"."""
        return next("/".join(action.option_strings) for action in self.flag_actions
                    if action.dest == dest)


def unused_flags(parser, args):
    """The first of the parser's modes that the flags choose refuses the flags given that
    it does not use (UserError naming them), and prints one line per harmless one."""
    for mode in parser.modes.values():
        chosen = [dest for dest in mode.flags if vars(args).get(dest)]
        if not chosen:
            continue
        unused = {**TRAINING_FLAGS, **mode.unused}
        given = [dest for dest in unused if dest in parser.given]
        refused = [parser.flag_name(dest) for dest in given if unused[dest] is None]
        if refused:
            raise UserError(f"{parser.flag_name(chosen[0])} {mode.does}: "
                            f"{', '.join(refused)} {'is' if len(refused) == 1 else 'are'} "
                            f"not used then; leave {'it' if len(refused) == 1 else 'them'} out")
        for dest in given:
            print(f"{parser.flag_name(dest)} is ignored: {parser.flag_name(chosen[0])} "
                  f"{mode.does}, and {unused[dest]}")
        return


def positive_int(text):
    """argparse type: an integer >= 1."""
    return checked_number(text, int, lambda value: value >= 1, "a positive integer")


def non_negative_int(text):
    """argparse type: an integer >= 0."""
    return checked_number(text, int, lambda value: value >= 0, "an integer >= 0")


def int_between(low, high):
    """argparse type: an integer from low to high (a model or loop the machine can hold)."""
    def integer(text):
        return checked_number(text, int, lambda value: low <= value <= high,
                              f"an integer from {low} to {high:,}")

    return integer


def seed(text):
    """argparse type: a random seed, an integer from 0 to 2**32 - 1 (what NumPy and
    TensorFlow accept)."""
    return checked_number(text, int, lambda value: 0 <= value < 2**32,
                           "an integer from 0 to 4294967295")


def float_between(low, high, low_included=True):
    """argparse type: a number from low to high, or above low up to high when not
    low_included: the range a flag's computation can bear, or what the book sweeps (nan
    and inf are outside every range); the error line names the range."""
    wanted = (f"a number from {low:g} to {high:g}" if low_included
              else f"a number above {low:g} up to {high:g}")

    def in_range(value):
        return (low <= value if low_included else low < value) and value <= high

    def number(text):
        return checked_number(text, float, in_range, wanted)

    return number


def checked_number(text, kind, is_valid, wanted):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
    if not is_valid(value):
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
    return value


def folder_path(text):
    """argparse type: a folder to write to; an empty string would silently mean the
    current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty string")
    return Path(text)


def task_out_dir(text):
    """argparse type of --out-dir where a run can train on several machines: the folder;
    in a multi-worker cluster only the chief writes there, any other task of the cluster
    TF_CONFIG describes to workers/<task>_<index>/ inside it (the same files, its own)."""
    folder = folder_path(text)
    task = distribute.cluster_task(os.environ.get("TF_CONFIG"))
    return folder / "workers" / f"{task[0]}_{task[1]}" if task else folder


def existing_file(text):
    """argparse type: a path to a file that exists (weights to load, say)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file in it")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


# The longest runs a flag may ask for: 500 times the book's longest (200 epochs for
# ResNet and DenseNet; 100,000 steps for CycleGAN), more than a machine finishes in a
# year. --batch-size is bounded by the training set instead (data.check_batch_size).
MAX_EPOCHS, MAX_STEPS = 100_000, 50_000_000


def make_parser(script, description, *, datasets=None, epochs=None, batch_size=None,
                train_steps=None, save_interval=None, trains=True, has_model=True):
    """Parser with the common flags a script uses; defaults are the book's.

    script: the script's `__file__` (names the program and the default output folder).
    datasets: allowed `--dataset` values, the first being the default.
    epochs, batch_size, train_steps, save_interval: the book's defaults; a flag
    given as None is left out. trains: adds `--resume` (and `--deterministic` with a
    model); has_model: `--plot-model`,
    `--precision`, `--jit-compile`, `--distribute` and `--tpu`, and `--tensorboard` for
    a model that trains (trains, or epochs or train_steps given).
    """
    name = Path(script).stem
    parser = OneLineParser(prog=Path(script).name, description=description, has_model=has_model,
                           trains=trains, has_batch_size=batch_size is not None)
    if datasets:
        parser.add_argument("--dataset", choices=datasets, default=datasets[0],
                            help="which data to use (default: %(default)s)")
        parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                            help="use only the first N training examples")
    book_counts = (("--epochs", epochs, "training epochs", int_between(1, MAX_EPOCHS)),
                   ("--batch-size", batch_size, "examples per batch", positive_int),
                   ("--train-steps", train_steps, "training steps", int_between(1, MAX_STEPS)),
                   ("--save-interval", save_interval, "steps between saved samples",
                    int_between(1, MAX_STEPS)))
    for flag, default, meaning, count in book_counts:
        if default is not None:
            parser.add_argument(flag, type=count, default=default,
                                help=f"{meaning} (default: %(default)s, the book's)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="random seed for NumPy, Python and the backend (default: %(default)s)")
    parser.add_argument("--out-dir", type=task_out_dir if has_model else folder_path,
                        default=str(OUTPUTS_ROOT / name),
                        help="where everything the run writes goes (default: outputs/%s/)" % name)
    if trains:
        parser.add_argument("--resume", action="store_true",
                            help="continue an interrupted run from its last completed epoch")
    if trains and has_model:
        parser.add_argument("--deterministic", action="store_true",
                            help="TensorFlow ops that give the same numbers every time (slower "
                                 "on GPUs): two runs with the same flags, or a run interrupted "
                                 "and resumed, end with the same weights")
    if has_model and (trains or epochs or train_steps):  # a model that trains
        parser.add_argument("--tensorboard", action="store_true",
                            help="also write TensorBoard logs (the logged numbers; a GAN's "
                                 "sample grids) to --out-dir/tensorboard; view them with "
                                 "`tensorboard --logdir OUT_DIR/tensorboard`")
    if has_model:
        parser.add_argument("--plot-model", action="store_true",
                            help="also write model.png (needs Graphviz)")
        parser.add_argument("--precision", choices=("auto", *hardware.PRECISIONS),
                            default="float32",
                            help="float32 (the book's), Keras mixed precision (float32 "
                                 "weights, bfloat16 or float16 computations), or auto: the "
                                 "fastest here (bfloat16 on TPUs, on CPUs with AMX and on AMD's "
                                 "with AVX512-BF16; float16 on NVIDIA GPUs with tensor cores; "
                                 "else float32) "
                                 "(default: %(default)s)")
        parser.add_argument("--jit-compile", action="store_true",
                            help="compile the training step with XLA (for GPUs and TPUs; "
                                 "slower on CPUs)")
        parser.add_argument("--distribute", choices=distribute.STRATEGIES, default="auto",
                            help="train on: auto (all GPUs when there are several, else one "
                                 "device), none (one device), mirrored (every GPU, or every "
                                 "logical CPU), multiworker (the machines TF_CONFIG names), tpu "
                                 "(default: %(default)s); --batch-size stays the whole batch")
        parser.add_argument("--tpu", default="local", metavar="ADDRESS",
                            help="the TPU for --distribute tpu (default: %(default)s, a TPU "
                                 "VM's own)")
    return parser


def parse_args(parser, argv=None):
    """The flags as the parser parsed them, after refusing those the chosen mode does not
    use (`unused_flags`), running the parser's checks and setting up the run: the devices
    (`device_strategy`), every random generator seeded (and with --deterministic
    TensorFlow's op determinism on), the precision (Keras' global dtype policy), a line
    saying where the run runs, and the output folder, created and locked for this run
    (`lock_out_dir`)."""
    args = parser.parse_args(argv)
    parser.given = parser.given_flags(argv)
    unused_flags(parser, args)
    for check in parser.checks:
        check(args, parser.given)
    if parser.has_model:
        try:  # first: a multi-worker strategy must exist before TensorFlow runs anything
            strategy = device_strategy(args)
        except distribute.UnavailableStrategy as error:
            parser.error(str(error))
        replicas = strategy.num_replicas_in_sync
        if parser.has_batch_size and args.batch_size % replicas:
            parser.error(f"argument --batch-size: {args.batch_size} does not split evenly "
                         f"among {replicas} replicas; give a multiple of {replicas}")
    keras.utils.set_random_seed(args.seed)
    if parser.has_model and parser.trains and args.deterministic:
        tf.config.experimental.enable_op_determinism()
    if parser.has_model:
        precision, described, slower_here = hardware.resolve_precision(args.precision, strategy)
        keras.mixed_precision.set_global_policy(precision)
        print(distribute.where_it_runs(strategy, described, args.jit_compile))
        if slower_here:
            print(slower_here)
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"argument --out-dir: cannot create {args.out_dir}: {error.strerror}")
    lock_out_dir(args.out_dir)
    return args


def device_strategy(args):
    """The tf.distribute strategy that --distribute (and --tpu) choose, to build models in
    (`with cli.device_strategy(args).scope():`): made once per process, by the first call
    (`parse_args`'), since a multi-worker or TPU strategy cannot be made twice."""
    return strategy_for(args.distribute, args.tpu)


@functools.cache
def strategy_for(kind, tpu_address):
    return distribute.strategy_for(kind, tpu_address)


def lock_out_dir(out_dir):
    """Hold out_dir/.lock for the run: a second run writing to the same folder at the same
    time ends with a UserError instead of mixing its files into the first's. The system
    releases the lock when a process ends, however it ends, so a crashed run leaves
    nothing stuck; `reports_user_errors` releases it when main returns."""
    folder = out_dir.resolve()
    if fcntl is None or folder in _held_locks:
        return
    lock = open(folder / ".lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise UserError(f"another run ({holder}) is writing to {out_dir}; wait for it to end "
                        f"or give another --out-dir") from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"process {os.getpid()}")
    lock.flush()
    _held_locks[folder] = lock


def release_out_dir_locks():
    while _held_locks:
        _, lock = _held_locks.popitem()
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def reports_user_errors(main):
    """Decorate `main` so a UserError ends the run with one line and exit status 2,
    and Ctrl-C with one line and status 130 (training state is already saved); the
    run's --out-dir lock is released however main ends."""

    @functools.wraps(main)
    def wrapper(argv=None):
        program = Path(sys.modules[main.__module__].__file__).name
        try:
            return main(argv)
        except UserError as error:
            print(f"{program}: error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            print(f"{program}: interrupted", file=sys.stderr)
            raise SystemExit(130) from None
        finally:
            release_out_dir_locks()

    return wrapper
