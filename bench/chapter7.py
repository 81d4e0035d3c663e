"""Benchmark: chapter 7's CycleGAN step speed at batch 32, then a short real-data
colorization run.

1. Speed: milliseconds per CycleGAN training step (both discriminators, then both
   generators, compiled under `fit`) at batch 32 for each task's networks: gray <->
   colour (kernel 3) and MNIST <-> SVHN (kernel 5), on random images of the right
   shapes, timed over --timed-steps after --warmup-steps (tracing excluded).
2. Quality: cyclegan.py on --dataset (offline: the scikit-learn photographs' 32x32
   crops) for --train-steps, grids under outputs/bench/chapter7/; its final cycle
   errors and colorization PSNR on the test crops (quality.csv there: per save interval).
Prints one JSON line per measurement. Not run by CI.

Run:   python3 bench/chapter7.py [--dataset sample_crops] [--train-steps 1000]
       [--save-interval 100] [--skip-speed]
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras

from chapter7_cyclegan import cyclegan as cyclegan_script
from lib import cli, cyclegan, cyclegan_runs, hardware

BATCH_SIZE = 32


def step_seconds(kernel_size, warmup, timed, seed=0):
    """Seconds per CycleGAN.train_step under fit, gray (1 channel) <-> colour (3)."""
    networks = cyclegan.build_networks((32, 32, 1), (32, 32, 3), kernel_size=kernel_size)
    model = cyclegan.CycleGAN(networks)
    model.compile(cyclegan.book_optimizers())
    batches = cyclegan_runs.unpaired_batches(keras.random.uniform((256, 32, 32, 1), seed=seed),
                                        keras.random.uniform((256, 32, 32, 3), seed=seed + 1),
                                        BATCH_SIZE, seed)
    model.fit(batches, steps_per_epoch=warmup, epochs=1, verbose=0)
    started = time.perf_counter()
    model.fit(batches, steps_per_epoch=timed, epochs=1, verbose=0)
    return (time.perf_counter() - started) / timed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("sample_crops", "cifar10"), default="sample_crops")
    parser.add_argument("--train-steps", type=cli.positive_int, default=1000)
    parser.add_argument("--save-interval", type=cli.positive_int, default=100)
    parser.add_argument("--warmup-steps", type=cli.positive_int, default=5)
    parser.add_argument("--timed-steps", type=cli.positive_int, default=30)
    parser.add_argument("--skip-speed", action="store_true", help="only train")
    args = parser.parse_args(argv)
    print(hardware.json_line(), flush=True)  # speed depends on it
    keras.utils.set_random_seed(0)
    if not args.skip_speed:
        for task, kernel_size in (("gray_colour", 3), ("mnist_svhn", 5)):
            seconds = step_seconds(kernel_size, args.warmup_steps, args.timed_steps)
            print(json.dumps({"what": "cyclegan_step_speed", "task": task, "kernel_size": kernel_size,
                              "batch_size": BATCH_SIZE, "timed_steps": args.timed_steps,
                              "ms_per_step": round(1000 * seconds, 1)}), flush=True)

    out_dir = cli.OUTPUTS_ROOT / "bench" / "chapter7" / f"cyclegan_{args.dataset}"
    started = time.perf_counter()
    results = cyclegan_script.main(["--dataset", args.dataset, "--train-steps", str(args.train_steps),
                                    "--save-interval", str(args.save_interval),
                                    "--out-dir", str(out_dir)])
    print(json.dumps({"what": "cyclegan", "dataset": args.dataset, "steps": results["steps"],
                      "seconds": round(time.perf_counter() - started, 1),
                      **{key: round(value, 4) for key, value in results.items()
                         if isinstance(value, float)},
                      "quality": results["quality"], "quality_ceiling": results["quality_ceiling"],
                      "samples": str(out_dir / "samples")}), flush=True)


if __name__ == "__main__":
    main()
