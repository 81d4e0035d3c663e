"""A model a reader can copy: lib/gan.py and lib/cyclegan.py each work alone, in an empty
folder with no `lib` package, and the README's example trains with them."""
import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

DCGAN_TOO = """
assert cgan.optimizer_steps() == {"discriminator": 2, "generator": 2}
assert sevens.shape == (16, 28, 28, 1) and 0 <= sevens.min() and sevens.max() <= 1

dcgan = gan.GAN(gan.build_generator(), gan.build_discriminator())
dcgan.compile(*gan.book_optimizers())
dcgan.fit(images, batch_size=64, epochs=1, verbose=0)
assert dcgan.optimizer_steps() == {"discriminator": 2, "generator": 2}
print("trained")
"""

CYCLEGAN = """
import numpy as np
import cyclegan

networks = cyclegan.build_networks((32, 32, 1), (32, 32, 3))
model = cyclegan.CycleGAN(networks)
model.compile(cyclegan.book_optimizers())
gray, colour = np.random.rand(4, 32, 32, 1), np.random.rand(4, 32, 32, 3)
model.fit(gray.astype("float32"), colour.astype("float32"), batch_size=2, epochs=1, verbose=0)
assert model.optimizer_steps() == dict.fromkeys(cyclegan.NETWORKS, 2)
assert networks["generator_target"].predict(gray, verbose=0).shape == (4, 32, 32, 3)
print("trained")
"""


def readme_example():
    """The Python block of the README's "Copying a model into your own project" section."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Copying a model into your own project", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def run_alone(tmp_path, file_name, program):
    """Run `program` in a folder holding only a copy of lib/`file_name`, with neither the
    repository nor a `lib` package on the path."""
    shutil.copy(REPO / "lib" / file_name, tmp_path / file_name)
    (tmp_path / "program.py").write_text(
        "import importlib.util\nassert importlib.util.find_spec('lib') is None\n" + program)
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    environment["TF_CPP_MIN_LOG_LEVEL"] = "2"
    completed = subprocess.run([sys.executable, "-s", "program.py"], cwd=tmp_path,
                               env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().endswith("trained")


@pytest.mark.parametrize("file_name", ["gan.py", "cyclegan.py"])
def test_the_copyable_files_import_only_keras_tensorflow_and_numpy(file_name):
    tree = ast.parse((REPO / "lib" / file_name).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= {"keras", "tensorflow", "numpy"}


@pytest.mark.slow
def test_the_readme_example_trains_a_cgan_and_a_dcgan_with_gan_py_alone(tmp_path):
    run_alone(tmp_path, "gan.py", readme_example() + DCGAN_TOO)


@pytest.mark.slow
def test_cyclegan_py_alone_trains_two_steps(tmp_path):
    run_alone(tmp_path, "cyclegan.py", CYCLEGAN)
