"""Every script run as its users run it, `python3 chapterN_.../script.py`, in a process of
its own: `--help` exits 0, and an error found after TensorFlow has started is one line
on standard error with nothing of TensorFlow's before it."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from lib import cli, gan

SCRIPTS = sorted(cli.REPO_ROOT.glob("chapter*/*.py"))


def run_program(script, *flags):
    """`python3 script flags` from another folder than the repository's (the scripts make
    lib/ importable themselves), without network access to wait for."""
    # TensorFlow's start-up notices as users get them
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, str(script), *flags], capture_output=True, text=True,
                          cwd=cli.REPO_ROOT.parent, env=environment, timeout=300)


@pytest.mark.slow
def test_every_script_runs_as_a_program_and_explains_its_flags():
    with ThreadPoolExecutor(max_workers=4) as pool:  # each start-up imports TensorFlow
        finished = dict(zip(SCRIPTS, pool.map(lambda script: run_program(script, "--help"),
                                              SCRIPTS)))
    assert len(finished) >= 29
    for script, process in finished.items():
        assert process.returncode == 0, f"{script.name}: {process.stderr}"
        assert process.stdout.startswith(f"usage: {script.name}"), script.name
        assert "--out-dir" in process.stdout and process.stderr == "", script.name


def test_an_error_after_start_up_is_the_only_line_on_standard_error(tmp_path):
    not_a_model = tmp_path / "generator.keras"
    not_a_model.write_text("not a model")
    another_generator = tmp_path / "gen0.keras"
    gan.build_generator(latent_dim=50, feature_dim=256).save(another_generator)
    generators = {"is not a saved Keras model": not_a_model,  # what the line says: cgan's -g
                  "this script needs a generator with inputs 100 and 10": another_generator}
    with ThreadPoolExecutor(max_workers=2) as pool:  # each start-up imports TensorFlow
        finished = dict(zip(generators, pool.map(lambda generator: run_program(
            cli.REPO_ROOT / "chapter4_gan" / "cgan_mnist.py", "-g", str(generator),
            "--out-dir", str(tmp_path / generator.stem)), generators.values())))
    for complaint, process in finished.items():
        assert process.returncode == 2, process.stderr
        assert process.stderr.startswith("cgan_mnist.py: error: ") and complaint in process.stderr
        assert len(process.stderr.splitlines()) == 1, process.stderr
        assert process.stdout.splitlines()[0].startswith("Running on ")
