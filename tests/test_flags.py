"""Every flag of every script refuses what the code cannot honour, before any work: exit
status 2 and one line naming the flag, never a traceback. One table, all scripts."""
import contextlib
import functools
import importlib
import io
import re

import pytest

from lib import cli
from tests.conftest import one_line

SCRIPTS = sorted(f"{path.parent.name}.{path.stem}" for path in cli.REPO_ROOT.glob("chapter*/*.py")
                 if path.stem != "__init__")
# (flag, value, what the one line says): wrong for every script that has the flag
BAD_VALUES = [
    ("--seed", "-1", "expected an integer from 0 to 4294967295"),
    ("--seed", "4294967296", "expected an integer from 0 to 4294967295"),
    ("--seed", "abc", "expected an integer from 0 to 4294967295"),
    ("--epochs", "0", "expected a positive integer"),
    ("--epochs", "1.5", "expected a positive integer"),
    ("--batch-size", "-3", "expected a positive integer"),
    ("--train-steps", "0", "expected a positive integer"),
    ("--save-interval", "nan", "expected a positive integer"),
    ("--limit", "0", "expected a positive integer"),
    ("--eval-samples", "1", "expected 0, or an integer from 2 to 100,000"),
    ("--eval-samples", "1000000000000", "expected 0, or an integer from 2 to 100,000"),
    ("--noise-std", "inf", "expected a positive number"),
    ("--noise-std", "0", "expected a positive number"),
    ("--noise-mean", "nan", "expected a finite number"),
    ("--noise", "-0.1", "expected a positive number"),
    ("--theta", "inf", "expected a finite number"),
    ("--l2", "nan", "expected a positive number"),
    ("--code1", "nan", "expected a finite number"),
    ("--z0", "-inf", "expected a finite number"),
    ("--count", "0", "expected a positive integer"),
    ("--steps", "2000000", "expected an integer from 1 to 1,000,000"),
    ("--depth", "0", "expected an integer from 1 to"),
    ("--depth", "100000", "expected an integer from 1 to"),
    ("--growth-rate", "1000000", "expected an integer from 1 to 64"),
    ("--latent-dim", "1000000000", "expected an integer from 1 to 4,096"),
    ("--encoder-epochs", "-1", "expected a positive integer"),
    ("--digit", "10", "invalid choice"),
    ("--code2", "inf", "expected a finite number"),
    ("--z1", "nan", "expected a finite number"),
    ("--generator0", "/no/such/file.keras", "no such file"),
    ("--generator1", ".", "is a folder; give a file in it"),
    ("--g-target", "/no/such/file.keras", "no such file"),
    ("--g-source", ".", "is a folder; give a file in it"),
    ("--cifar10_g_source", "/no/such/file.keras", "no such file"),
    ("--cifar10_g_target", ".", "is a folder; give a file in it"),
    ("--mnist_svhn_g_source", "/no/such/file.keras", "no such file"),
    ("--mnist_svhn_g_target", ".", "is a folder; give a file in it"),
    ("--precision", "float64", "invalid choice"),
    ("--distribute", "everywhere", "invalid choice"),
    ("--out-dir", "", "expected a folder, got an empty string"),
    ("--generator", "/no/such/file.keras", "no such file"),
    ("--generator", ".", "is a folder; give a file in it"),
]


@functools.cache
def help_of(name):
    """The script's --help text (which also exits 0)."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text), pytest.raises(SystemExit) as raised:
        importlib.import_module(name).main(["--help"])
    assert raised.value.code == 0
    return text.getvalue()


def flags_of(name):
    """{long flag: what it takes}, as the options of the script's --help list them: a
    metavar such as N or PATH, "{" for a choice (argparse checks those itself), or ""."""
    options = re.findall(r"^  (?:-\w(?: \S+)?, )?(--[\w-]+)(?: ([A-Z{]))?", help_of(name), re.M)
    return dict(options)


def cases():
    for name in SCRIPTS:
        flags = flags_of(name)
        for flag, value, complaint in BAD_VALUES:
            if flag in flags:
                yield pytest.param(name, flag, value, complaint, id=f"{name}-{flag}={value}")


@pytest.mark.parametrize("name, flag, value, complaint", list(cases()))
def test_a_bad_value_exits_2_with_one_line_naming_the_flag(name, flag, value, complaint, tmp_path,
                                                           capsys):
    script = importlib.import_module(name)
    with pytest.raises(SystemExit) as raised:
        script.main(["--out-dir", str(tmp_path / "out"), f"{flag}={value}"])
    line = one_line(capsys.readouterr().err)
    assert raised.value.code == 2 and complaint in line and flag.lstrip("-") in line, line
    assert not (tmp_path / "out").exists()  # refused before anything was written


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_refuses_an_out_dir_it_cannot_create(name, tmp_path, capsys):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as raised:
        importlib.import_module(name).main(["--out-dir", str(blocker / "out")])
    assert raised.value.code == 2 and "cannot create" in one_line(capsys.readouterr().err)


def test_the_table_covers_every_value_flag_of_every_script():
    """A new script or flag that takes a value gets a row above (or is a choice, which
    argparse checks itself)."""
    checked = {flag for flag, _, _ in BAD_VALUES}
    checked |= {"--out-dir",  # the test below
                "--tpu"}  # any address; --distribute tpu says when there is no TPU there
    unchecked = {f"{name} {flag}" for name in SCRIPTS for flag, takes in flags_of(name).items()
                 if takes not in ("", "{") and flag not in checked}
    assert not unchecked, sorted(unchecked)
    assert len(SCRIPTS) >= 29 and all("--out-dir" in flags_of(name) for name in SCRIPTS)
