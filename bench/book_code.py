"""Benchmark: the book's own GAN code, as a reader runs it today, against our scripts.

The anchor of our speed and quality claims. For each of --models (the book's Listings
4.2.1 DCGAN, 4.3.1 CGAN and 5.1.2 WGAN) three contenders train the same number of steps
on the same 4,000 offline MNIST digits (`lib.data.load("mnist_subset")`), each run in a
process of its own:
  - book: the book's script (chapter4-gan/dcgan-mnist-4.2.1.py,
    chapter4-gan/cgan-mnist-4.3.1.py, chapter5-improved-gan/wgan-mnist-5.1.2.py, with
    the book's lib/ on the path) in a venv of its own with TensorFlow 2.21 and tf_keras
    2.21, run with TF_USE_LEGACY_KERAS=1 so that `tensorflow.keras` is Keras 2;
  - earlier_float32 (with --earlier PATH): our scripts as another checkout of this
    repository has them, in float32, to show what a change did;
  - ours_float32 and ours_mixed_bfloat16: chapter4_gan/dcgan_mnist.py,
    chapter4_gan/cgan_mnist.py, chapter5_wgan_lsgan/wgan_mnist.py with `--dataset
    mnist_subset --train-steps N --save-interval N/5 --eval-samples 0 --seed TURN-1
    --precision P`, with this Python (our venv).
A step is one generator update in both codes (a WGAN step also holds 5 critic updates).

1. Speed: seconds per step, measured the same way for every contender, from the times
   at which this harness reads lines from the process's unbuffered output (python -u):
   the book prints one line per step ("i: [discriminator loss ...]" after step i + 1),
   our scripts print Keras' progress line at the end of each save interval. The timed
   window runs from the end of step N/5 to the end of step N, so it holds the same
   4N/5 steps for every contender; the first fifth (start-up, graph tracing, first
   steps) is the warm-up. Our window includes what our scripts do after each save
   interval (a sample grid and the backup for --resume), 4 rounds, as a user's run has
   them every --save-interval steps (about 0.3 s a round on 2 CPU cores, about 1% of
   the window at --steps 300, but most of it at --steps 10); the book's includes its
   sample grid only at multiples of its hard-coded 500 steps, as its code has.
   Contenders take turns: in each of --turns rounds, for every model, the book,
   ours_float32, ours_mixed_bfloat16.
   Reported: median and spread (min-max) over rounds, and the ratio of medians book /
   ours (above 1: ours is faster); and the whole run's seconds, from start to exit, as
   a user waits for it (start-up, tracing and the saving at the end included), and the
   share of the cores' time the hypervisor gave other machines during each run (the
   `steal` of /proc/stat on a virtual machine: steps slow down with it whatever the code).
2. Quality: after the same N steps, what each run saved (the book: `<model>_mnist.h5`,
   ours: `<model>_mnist_generator.keras`) measured by our script's --eval-only on
   --eval-samples images (lib/metrics.py: label accuracy for the CGAN, classifier score,
   Frechet distance), median over rounds. Our runs use --seed 0, 1, ... per round; the
   book's code draws from NumPy's unseeded generator, another seed every run. The
   book's Keras 2 .h5 is read by our loader of the book's files; where that fails the
   run's JSON line says why in "quality_error".

The book's code: --book-repo is a checkout of PacktPublishing/Advanced-Deep-Learning-
with-Keras; it is not written to. Each model's script and the book's lib/ are copied
into a temporary folder, with exactly these changes:
  - `from tensorflow.keras.optimizers import RMSprop` becomes `from
    tensorflow.keras.optimizers.legacy import RMSprop`, as tf_keras 2.21 asks: its
    RMSprop refuses the book's `RMSprop(lr=lr, decay=decay)` with "ValueError: decay is
    deprecated in the new TF-Keras optimizer, ... or use the legacy optimizer, e.g.,
    tf.keras.optimizers.legacy.RMSprop". WGAN's `RMSprop(lr=5e-5)` has no decay, but its
    one optimizer serves the critic and the adversarial model, which the new optimizer
    refuses too, also naming the legacy one; the same line is changed in all three.
  - `train_steps = 40000` becomes `train_steps = N` (--steps, or --wgan-steps).
  - The data: `mnist.load_data()` would download MNIST. A small runner (written next to
    the copies, run with the book venv's Python) replaces
    `tensorflow.keras.datasets.mnist.load_data` by a function that returns the offline
    digits ours trains on, exported by our venv to an .npz as MNIST's own arrays (uint8
    images, (x_train, y_train), (x_test, y_test)), then runs the script with runpy as
    `__main__`, the copy's root first on sys.path (the book's `from lib import gan`).
Nothing else: the book's hyperparameters, loop, logging (its generator.predict progress
bars included) and saving stay. It writes into its working folder, a fresh one per run:
sample grids in `<model>_mnist/` every 500 steps, the generator as `<model>_mnist.h5`
at the end.

The book's venv: made the first time in ~/.cache/adl-keras3-bench/book-venv (or
--book-venv PATH): `python3 -m venv`, then `pip install tensorflow==2.21.0
tf_keras==2.21.0 matplotlib numpy` (about 1.5 GB on disk); reused afterwards once its
versions check out. Outside this repository.

Prints one JSON line per run ("what": "book_code_run") and per model and contender
("book_code_summary"), then a markdown table with the date, the CPU model and its
bfloat16 flags (avx512_bf16, amx_bf16, amx_tile), and the command; warns in one line
when the load average says other work is running. Not run by CI.

Run:   python3 bench/book_code.py --book-repo PATH [--steps 300] [--wgan-steps 60]
       [--models dcgan cgan wgan] [--turns 3] [--eval-samples 2000] [--work-dir DIR]
       [--contenders book ours_float32 earlier_float32 --earlier PATH]
"""
import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere: make lib/ importable
from lib import cli, gan_runs, hardware  # noqa: E402
DEFAULT_BOOK_VENV = Path.home() / ".cache" / "adl-keras3-bench" / "book-venv"
BOOK_PACKAGES = ["tensorflow==2.21.0", "tf_keras==2.21.0", "matplotlib", "numpy"]
BOOK_STEPS = 40000

# model: (the book's script, its model_name, our script)
MODELS = {
    "dcgan": ("chapter4-gan/dcgan-mnist-4.2.1.py", "dcgan_mnist",
              "chapter4_gan/dcgan_mnist.py"),
    "cgan": ("chapter4-gan/cgan-mnist-4.3.1.py", "cgan_mnist", "chapter4_gan/cgan_mnist.py"),
    "wgan": ("chapter5-improved-gan/wgan-mnist-5.1.2.py", "wgan_mnist",
             "chapter5_wgan_lsgan/wgan_mnist.py"),
}
CONTENDERS = ("book", "ours_float32", "ours_mixed_bfloat16", "earlier_float32")
QUALITY_NAMES = ("label_accuracy", "classifier_score", "frechet_distance")
NAMES = {"label_accuracy": "label accuracy", "classifier_score": "classifier score",
         "frechet_distance": "Frechet distance"}
WARMUP_FRACTION = 5  # the first 1/5 of the steps is the warm-up; our save interval is as long

OPTIMIZER_IMPORT = "from tensorflow.keras.optimizers import RMSprop"
LEGACY_OPTIMIZER_IMPORT = "from tensorflow.keras.optimizers.legacy import RMSprop"
STEPS_LINE = f"train_steps = {BOOK_STEPS}"

RUNNER = '''"""Run one of the book's scripts with mnist.load_data returning offline digits.
Usage: python runner.py SCRIPT DIGITS.npz BOOK_ROOT (bench/book_code.py writes this file)."""
import runpy
import sys

import numpy as np
from tensorflow.keras.datasets import mnist

script, digits, book_root = sys.argv[1:4]


def load_data(*args, **kwargs):
    with np.load(digits) as arrays:
        return ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))


mnist.load_data = load_data
sys.path.insert(0, book_root)  # the book's `from lib import gan`
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
'''

EXPORT_DIGITS = '''import sys
sys.path.insert(0, sys.argv[1])
import keras, numpy as np, tensorflow as tf
from lib import data
dataset = data.load("mnist_subset")
np.savez(sys.argv[2], **{name: getattr(dataset, name).astype("uint8")
                         for name in ("x_train", "y_train", "x_test", "y_test")})
print(tf.__version__, keras.__version__)
'''

CHECK_BOOK_VENV = '''import matplotlib, numpy, tensorflow as tf, tf_keras
from tensorflow.keras.optimizers.legacy import RMSprop
assert RMSprop.__module__.startswith("tf_keras"), RMSprop.__module__  # Keras 2
print(tf.__version__, tf_keras.__version__)
'''

ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")
BOOK_STEP_LINE = re.compile(rb"(\d+): \[discriminator loss")
KERAS_PROGRESS = re.compile(rb"^\s*(\d+)/(\d+) ")


class BenchError(Exception):
    """Ends the bench with one line and exit status `status`."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


# Set-up


def book_scripts(book_repo, models):
    """The book's scripts of `models` and its lib/, checked; a BenchError (exit 2) otherwise."""
    if not book_repo.is_dir():
        raise BenchError(f"--book-repo {book_repo}: no such folder; give a checkout of "
                         f"https://github.com/PacktPublishing/Advanced-Deep-Learning-with-Keras", 2)
    needed = [MODELS[model][0] for model in models] + ["lib/gan.py"]
    missing = [path for path in needed if not (book_repo / path).is_file()]
    if missing:
        raise BenchError(f"--book-repo {book_repo}: not a checkout of the book's repository "
                         f"PacktPublishing/Advanced-Deep-Learning-with-Keras (no {missing[0]})", 2)
    for model in models:
        text = (book_repo / MODELS[model][0]).read_text(encoding="utf-8")
        for line in (OPTIMIZER_IMPORT, STEPS_LINE):
            if text.count(line) != 1:
                raise BenchError(f"--book-repo {book_repo}: {MODELS[model][0]} has "
                                 f"{text.count(line)} lines '{line}', where this bench changes "
                                 f"exactly one; is it another version of the book's code?", 2)


def copy_book_code(book_repo, models, steps, folder):
    """The book's lib/ and each model's script, changed as the docstring says, in folder."""
    shutil.copytree(book_repo / "lib", folder / "lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for model in models:
        relative = MODELS[model][0]
        text = (book_repo / relative).read_text(encoding="utf-8")
        text = text.replace(OPTIMIZER_IMPORT, LEGACY_OPTIMIZER_IMPORT)
        text = text.replace(STEPS_LINE, f"train_steps = {steps[model]}")
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    (folder / "runner.py").write_text(RUNNER, encoding="utf-8")


def book_env():
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", PYTHONUNBUFFERED="1")
    env.pop("PYTHONPATH", None)
    return env


def our_env():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TF_USE_LEGACY_KERAS", None)
    return env


def check_book_venv(python):
    """(TensorFlow's, tf_keras' version) of the book venv, or None when it cannot be used."""
    if not python.is_file():
        return None
    result = subprocess.run([str(python), "-c", CHECK_BOOK_VENV], capture_output=True, text=True,
                            env=dict(book_env(), TF_CPP_MIN_LOG_LEVEL="3"))
    versions = result.stdout.split()
    return versions if result.returncode == 0 and versions == ["2.21.0", "2.21.0"] else None


def ensure_book_venv(venv):
    """The book venv's Python and its (TensorFlow, tf_keras) versions; the venv is made
    (venv, pip install) unless one that works is there."""
    python = venv / "bin" / "python"
    versions = check_book_venv(python)
    if versions:
        return python, versions
    base_python = getattr(sys, "_base_executable", sys.executable)
    print(f"making the venv for the book's code in {venv} (once: pip install "
          f"{' '.join(BOOK_PACKAGES)})", flush=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    for command in ([base_python, "-m", "venv", "--clear", str(venv)],
                    [str(python), "-m", "pip", "install", "--quiet", *BOOK_PACKAGES]):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            why = last_line(result.stderr) or last_line(result.stdout) or "no output"
            raise BenchError(f"cannot make the book's venv: {shlex.join(command)} failed: {why}")
    versions = check_book_venv(python)
    if not versions:
        raise BenchError(f"the book's venv in {venv} does not import TensorFlow 2.21.0 and "
                         f"tf_keras 2.21.0 as tensorflow.keras; remove it and run again")
    return python, versions


def export_digits(path):
    """Our offline digits (lib.data.load("mnist_subset")) as MNIST's arrays in an .npz;
    returns our venv's TensorFlow and Keras versions."""
    result = subprocess.run([sys.executable, "-c", EXPORT_DIGITS, str(ROOT), str(path)],
                            capture_output=True, text=True, env=our_env())
    if result.returncode:
        why = last_line(result.stderr) or last_line(result.stdout) or "no output"
        raise BenchError(f"cannot export the mnist_subset digits: {why}")
    return last_line(result.stdout).split()


TF_LOG_LINE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages)")  # TensorFlow's C++ logging


def last_line(text):
    """The last line of `text` that is not TensorFlow's C++ logging, or ''."""
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not TF_LOG_LINE.match(line)]
    return lines[-1] if lines else ""


# Running and timing


def steal_seconds():
    """CPU seconds the hypervisor gave to other machines since boot, over all of this
    virtual machine's cores (the `steal` column of /proc/stat; 0 where there is none)."""
    try:
        return int(Path("/proc/stat").read_text().split()[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def stamped_run(command, cwd, env, log):
    """Run command; return (exit status, [(seconds since start, line without colour
    codes)] of its standard output, wall seconds, the share of the cores' time the
    hypervisor took for other machines meanwhile). Output and errors go to `log`, each
    line after the seconds at which it was read."""
    stolen = steal_seconds()
    started = time.perf_counter()
    stamped = []
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        for line in process.stdout:
            seconds = time.perf_counter() - started
            stamped.append((seconds, ANSI.sub(b"", line)))
            log_file.write(b"%9.3f " % seconds + line)
        status = process.wait()
    wall = time.perf_counter() - started
    return status, stamped, wall, (steal_seconds() - stolen) / (wall * os.cpu_count())


def book_step_times(stamped):
    """{step (1-based): seconds} of the book's per-step lines."""
    times = {}
    for seconds, line in stamped:
        for match in BOOK_STEP_LINE.finditer(line):
            times[int(match.group(1)) + 1] = seconds
    return times


def keras_interval_times(stamped, interval):
    """{step: seconds} at the end of each of Keras' epochs of `interval` steps (the last
    segment of a progress line reads interval/interval)."""
    times, ends = {}, 0
    for seconds, line in stamped:
        segment = line.replace(b"\r", b"\n").strip().split(b"\n")[-1]
        match = KERAS_PROGRESS.match(segment)
        if match and int(match.group(1)) == int(match.group(2)) == interval:
            ends += 1
            times[ends * interval] = seconds
    return times


def timed_window(times, steps):
    """Seconds per step from the end of step steps/5 to the end of step `steps`."""
    start = steps // WARMUP_FRACTION
    if start not in times or steps not in times:
        return None
    return (times[steps] - times[start]) / (steps - start)


def run_contender(model, contender, turn, steps, paths):
    """Train one contender; return its JSON record and the generator file it saved."""
    book_script, model_name, our_script = MODELS[model]
    run_dir = paths["work"] / "runs" / f"{model}_{contender}_turn{turn}"
    run_dir.mkdir(parents=True)
    if contender == "book":
        command = [str(paths["book_python"]), "-u", str(paths["book_code"] / "runner.py"),
                   str(paths["book_code"] / book_script), str(paths["digits"]),
                   str(paths["book_code"])]
        status, stamped, wall, steal = stamped_run(command, run_dir, book_env(), run_dir / "output.log")
        times = book_step_times(stamped)
        saved = run_dir / f"{model_name}.h5"
    else:
        root, precision = ((paths["earlier"], contender.removeprefix("earlier_"))
                           if contender.startswith("earlier") else
                           (ROOT, contender.removeprefix("ours_")))
        interval = steps // WARMUP_FRACTION
        command = [sys.executable, "-u", str(root / our_script), "--dataset", "mnist_subset",
                   "--train-steps", str(steps), "--save-interval", str(interval),
                   "--eval-samples", "0", "--seed", str(turn - 1), "--precision", precision,
                   "--out-dir", str(run_dir / "out")]
        status, stamped, wall, steal = stamped_run(command, root, our_env(), run_dir / "output.log")
        times = keras_interval_times(stamped, interval)
        saved = run_dir / "out" / f"{model_name}_generator.keras"
    record = {"what": "book_code_run", "model": model, "contender": contender, "turn": turn,
              "steps": steps, "timed_steps": steps - steps // WARMUP_FRACTION,
              "seconds_per_step": None, "seconds": round(wall, 1), "steal_share": round(steal, 3)}
    seconds_per_step = timed_window(times, steps)
    if status or seconds_per_step is None or not saved.is_file():
        last = last_line(b"".join(line for _, line in stamped[-20:]).decode(errors="replace"))
        record["error"] = (f"exit status {status}: " if status else
                           "no timing lines or no saved generator: ") + (last or "no output")
        print(f"{model} {contender} turn {turn} failed; its last lines:", file=sys.stderr)
        for _, line in stamped[-8:]:
            sys.stderr.write("    " + line.decode(errors="replace").rstrip()[-300:] + "\n")
        return record, None
    record["seconds_per_step"] = round(seconds_per_step, 4)
    return record, saved


def measure_quality(model, generator, eval_samples):
    """Our script's --eval-only on a saved generator: ({name: number}, the real images'
    numbers, None), or (None, None, the line saying why not)."""
    out_dir = generator.parent / "quality"
    command = [sys.executable, str(ROOT / MODELS[model][2]), "-g", str(generator),
               "--eval-only", "--dataset", "mnist_subset", "--eval-samples", str(eval_samples),
               "--out-dir", str(out_dir)]
    result = subprocess.run(command, cwd=ROOT, env=our_env(), capture_output=True, text=True)
    quality_file = out_dir / "quality.json"
    if result.returncode or not quality_file.is_file():
        return None, None, last_line(result.stderr) or last_line(result.stdout)
    results = json.loads(quality_file.read_text())
    def pick(numbers):
        return {name: round(numbers[name], 4) for name in QUALITY_NAMES if name in numbers}

    return pick(results["quality"]), pick(results["quality_ceiling"]), None


# Report


def load_warning():
    """One line when the 1-minute load average says other work is running, else None."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return None
    if load > 0.5:
        return (f"warning: load average {load:.2f} on {os.cpu_count()} logical cores before "
                f"the bench started: other work is running, so the timings are slower and "
                f"noisier than on an idle machine")
    return None


def spread(values):
    values = [value for value in values if value is not None]
    if not values:
        return None
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4)}


def summarize(records, models):
    """One summary per model and contender: seconds per step, ratio book / this, quality."""
    summaries = []
    for model in models:
        book = spread([r["seconds_per_step"] for r in records
                       if r["model"] == model and r["contender"] == "book"])
        for contender in CONTENDERS:
            mine = [r for r in records if r["model"] == model and r["contender"] == contender]
            if not mine:
                continue
            speed = spread([r["seconds_per_step"] for r in mine])
            summary = {"what": "book_code_summary", "model": model, "contender": contender,
                       "steps": mine[0]["steps"], "timed_steps": mine[0]["timed_steps"],
                       "turns": len(mine), "failed_runs": sum("error" in r for r in mine),
                       "seconds_per_step": speed,
                       "run_seconds": spread([r["seconds"] for r in mine if "error" not in r]),
                       "steal_share": spread([r["steal_share"] for r in mine])}
            if contender != "book":
                summary["book_over_this"] = (round(book["median"] / speed["median"], 2)
                                             if book and speed else None)
            for name in QUALITY_NAMES:
                values = [r[name] for r in mine if r.get(name) is not None]
                if values:
                    summary[name] = spread(values)
            errors = sorted({r["quality_error"] for r in mine if "quality_error" in r})
            if errors:
                summary["quality_error"] = errors[0]
            summaries.append(summary)
    return summaries


def markdown_table(summaries, ceiling, header_lines):
    def seconds(entry):
        speed = entry["seconds_per_step"]
        if not speed:
            return "failed"
        return f"{speed['median']:.3f} ({speed['min']:.3f}-{speed['max']:.3f})"

    def number(entry, name, percent=False):
        value = entry.get(name)
        if value is None:
            return "-"
        return f"{100 * value['median']:.1f}%" if percent else f"{value['median']:.2f}"

    def run_seconds(entry):
        run = entry.get("run_seconds")
        return f"{run['median']:.0f} ({run['min']:.0f}-{run['max']:.0f})" if run else "-"

    def steal(entry):
        share = entry.get("steal_share")
        return f"{100 * share['median']:.0f}% ({100 * share['max']:.0f}%)" if share else "-"

    lines = [*header_lines, "",
             "| model | contender | steps (timed) | s / step: median (min-max) | book / this "
             "| whole run, s: median (min-max) | stolen by the host: median (max) "
             "| label accuracy / score / Frechet |",
             "|---|---|---|---|---|---|---|---|"]
    for entry in summaries:
        ratio = entry.get("book_over_this")
        quality = " / ".join([number(entry, "label_accuracy", percent=True),
                              number(entry, "classifier_score"), number(entry, "frechet_distance")])
        if all(entry.get(name) is None for name in QUALITY_NAMES) and entry.get("quality_error"):
            quality = f"not measured: {entry['quality_error']}"
        lines.append(f"| {entry['model'].upper()} | {entry['contender']} | {entry['steps']} "
                     f"({entry['timed_steps']}) | {seconds(entry)} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}x'} | {run_seconds(entry)} | "
                     f"{steal(entry)} | {quality} |")
    if ceiling:
        lines += ["", "Real test digits: " + ", ".join(
            f"label accuracy {100 * value:.1f}%" if name == "label_accuracy"
            else f"{NAMES[name]} {value:.2f}" for name, value in ceiling.items())]
    return "\n".join(lines)


# Main


def steps_type(text):
    value = int(text)
    if value < 2 * WARMUP_FRACTION or value % WARMUP_FRACTION:
        raise argparse.ArgumentTypeError(f"{text}: give a multiple of {WARMUP_FRACTION}, "
                                         f"{2 * WARMUP_FRACTION} or more")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"The book's code runs in its own venv, made the first time in "
               f"{DEFAULT_BOOK_VENV} (--book-venv), outside this repository.")
    parser.add_argument("--book-repo", type=Path, required=True, metavar="PATH",
                        help="a checkout of PacktPublishing/Advanced-Deep-Learning-with-Keras")
    parser.add_argument("--steps", type=steps_type, default=300,
                        help="training steps of every run (a multiple of 5; the first fifth "
                             "is the warm-up; default: %(default)s)")
    parser.add_argument("--wgan-steps", type=steps_type, default=None,
                        help="WGAN's steps instead, each of 5 critic and 1 generator update "
                             "(default: --steps)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS),
                        help="which to run (default: all)")
    parser.add_argument("--earlier", type=Path, default=None, metavar="PATH",
                        help="another checkout of this repository (a git worktree of an "
                             "earlier commit): the contender earlier_float32 runs its scripts, "
                             "to show what a change did")
    parser.add_argument("--turns", type=cli.positive_int, default=3,
                        help="rounds of every contender in turn (default: %(default)s)")
    parser.add_argument("--eval-samples", type=gan_runs.eval_samples, default=2000,
                        help="generated images measured per saved generator; 0: no quality "
                             "(default: %(default)s)")
    parser.add_argument("--book-venv", type=Path, default=DEFAULT_BOOK_VENV,
                        help="the book's venv, made there the first time (default: %(default)s)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="keep every run's files and output here (default: a temporary "
                             "folder, removed at the end)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    models = list(dict.fromkeys(args.models))
    contenders = list(dict.fromkeys(args.contenders))
    steps = {model: (args.wgan_steps or args.steps) if model == "wgan" else args.steps
             for model in models}
    if ("earlier_float32" in contenders) != bool(args.earlier):
        raise BenchError("the contender earlier_float32 and --earlier go together", 2)
    book_repo = args.book_repo.expanduser().resolve()
    book_scripts(book_repo, models)
    warning = load_warning()
    if warning:
        print(warning, flush=True)
    book_python, book_versions = ensure_book_venv(args.book_venv.expanduser())

    if args.work_dir:
        work = args.work_dir.resolve()
        if work.exists() and any(work.iterdir()):
            raise BenchError(f"--work-dir {work} is not empty", 2)
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="book_code_bench_"))
    try:
        paths = {"work": work, "book_python": book_python, "book_code": work / "book_code",
                 "digits": work / "mnist_subset.npz",
                 "earlier": args.earlier and args.earlier.expanduser().resolve()}
        copy_book_code(book_repo, models, steps, paths["book_code"])
        our_versions = export_digits(paths["digits"])
        versions = (f"book: TensorFlow {book_versions[0]} with tf_keras {book_versions[1]}; "
                    f"ours: TensorFlow {our_versions[0]} with Keras {our_versions[1]}")
        machine = hardware.describe()
        started = datetime.datetime.now()
        print(json.dumps({"what": "environment", "date": started.strftime("%Y-%m-%d %H:%M"),
                          "machine": machine,
                          "load_average_1min": round(os.getloadavg()[0], 2),
                          "versions": versions, "steps": steps, "turns": args.turns,
                          "eval_samples": args.eval_samples}), flush=True)
        records, ceiling = [], None
        for turn in range(1, args.turns + 1):
            for model in models:
                for contender in contenders:
                    record, saved = run_contender(model, contender, turn, steps[model], paths)
                    if saved and args.eval_samples:
                        quality, real, error = measure_quality(model, saved, args.eval_samples)
                        if quality:
                            record.update(quality)
                            ceiling = ceiling or real
                        else:
                            record["quality_error"] = error
                    records.append(record)
                    print(json.dumps(record), flush=True)
        summaries = summarize(records, models)
        for summary in summaries:
            print(json.dumps(summary), flush=True)
        minutes = (datetime.datetime.now() - started).total_seconds() / 60
        quality_text = (f"quality on {args.eval_samples} generated digits" if args.eval_samples
                        else "no quality measured")
        header = [f"Measured {started:%Y-%m-%d} on {machine}; "
                  f"{versions}. {args.turns} turn{'s' if args.turns > 1 else ''}, "
                  f"{minutes:.1f} minutes in all; seconds per step over steps N/5 to N, "
                  f"{quality_text}; medians over turns:",
                  "", "    python3 bench/book_code.py " + shlex.join(
                      sys.argv[1:] if argv is None else argv)]
        if warning:
            header.append("\n" + warning)
        print("\n" + markdown_table(summaries, ceiling, header), flush=True)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(error, file=sys.stderr)
        sys.exit(error.status)
    except KeyboardInterrupt:
        sys.exit(130)
