"""Every script run as its users run it, `python3 chapterN_.../script.py`: `--help` exits 0
and explains its flags; each quiets TensorFlow's start-up before it loads it, so that in a
process of its own, from another folder, `--help` writes nothing on standard error and an
error found after TensorFlow has started is the only line there."""
import ast
import os
import runpy
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


def test_every_script_explains_its_flags(monkeypatch, capsys):
    """Each script's `--help`, its file run as __main__ as `python3` runs it (in this process,
    where TensorFlow has loaded already; a fresh process is the next tests')."""
    assert len(SCRIPTS) >= 29
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    for script in SCRIPTS:
        monkeypatch.setattr(sys, "path", list(sys.path))  # each script adds the repository
        monkeypatch.setattr(sys, "argv", [str(script), "--help"])
        with pytest.raises(SystemExit) as exit:
            runpy.run_path(str(script), run_name="__main__")
        assert exit.value.code == 0, script.name
        printed = capsys.readouterr()
        assert printed.out.startswith(f"usage: {script.name}"), script.name
        assert "--out-dir" in printed.out and printed.err == "", script.name


def first_use_of_lib(statements):
    """The index of the first statement that imports a module of lib/ other than startup."""
    return next(index for index, statement in enumerate(statements)
                if isinstance(statement, ast.ImportFrom) and statement.module == "lib"
                and [alias.name for alias in statement.names] != ["startup"])


def test_every_script_quiets_tensorflow_before_it_loads_it():
    """startup.quiet_start() comes before any other lib/ import (which loads TensorFlow),
    and nothing before it imports TensorFlow or Keras."""
    for script in SCRIPTS:
        statements = ast.parse(script.read_text()).body
        quiet = [index for index, statement in enumerate(statements)
                 if ast.unparse(statement) == "startup.quiet_start()"]
        assert quiet and quiet[0] < first_use_of_lib(statements), script.name
        loaded_before = {alias.name.split(".")[0] for statement in statements[:quiet[0]]
                         if isinstance(statement, ast.Import) for alias in statement.names}
        assert not loaded_before & {"tensorflow", "keras"}, script.name


@pytest.mark.slow
def test_in_a_process_of_its_own_help_writes_nothing_on_standard_error():
    process = run_program(cli.REPO_ROOT / "chapter6_infogan_stackedgan" / "stackedgan_mnist.py",
                          "--help")
    assert process.returncode == 0 and process.stdout.startswith("usage: stackedgan_mnist.py")
    assert process.stderr == ""


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
