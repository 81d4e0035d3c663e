"""Every flag of every script refuses what the code cannot honour, before any work: exit
status 2 and one line naming the flag, never a traceback. Flags are grouped by the kind
of value they take (their argparse type, or a choice): each script is tried once per
kind it uses, and every bad value of a kind once, on the first script that uses it."""
import contextlib
import functools
import importlib
import io
import re
from unittest import mock

import pytest

from lib import cli
from tests.conftest import one_line

SCRIPTS = sorted(f"{path.parent.name}.{path.stem}" for path in cli.REPO_ROOT.glob("chapter*/*.py")
                 if path.stem != "__init__")
CHOICE = "a choice"  # the kind of a flag with `choices`, whatever its type
# kind of value: [(bad value, what the one line says)], the first tried on every script
BAD_VALUES = {
    "seed": [("4294967296", "expected an integer from 0 to 4294967295"),
             ("-1", "expected an integer from 0 to 4294967295"),
             ("abc", "expected an integer from 0 to 4294967295")],
    "positive_int": [("0", "expected a positive integer"),
                     ("1.5", "expected a positive integer"),
                     ("-3", "expected a positive integer"),
                     ("nan", "expected a positive integer")],
    "int_between.<locals>.integer": [("0", "expected an integer from 1 to"),
                                     ("1000000000", "expected an integer from 1 to")],
    "eval_samples": [("1", "expected 0, or an integer from 2 to 100,000"),
                     ("1000000000000", "expected 0, or an integer from 2 to 100,000")],
    "float_between.<locals>.number": [("1e39", "expected a number"),  # beyond float32
                                      ("-1e39", "expected a number"),
                                      ("nan", "expected a number"),
                                      ("inf", "expected a number"),
                                      ("-inf", "expected a number"),
                                      ("x", "expected a number")],
    "existing_file": [("/no/such/file.keras", "no such file"),
                      (".", "is a folder; give a file in it")],
    "folder_path": [("", "expected a folder, got an empty string")],
    "task_out_dir": [("", "expected a folder, got an empty string")],  # --out-dir of a model
    CHOICE: [("10", "invalid choice")],  # neither a name nor a digit any choice allows
}
UNCHECKED_FLAGS = {"--tpu"}  # any address; --distribute tpu says when there is no TPU there


@functools.cache
def parsed_help(name):
    """The script's --help text (which also exits 0) and the argparse actions its parser
    was given, recorded as `add_argument` returns them."""
    actions = []
    plain_add_argument = cli.OneLineParser.add_argument

    def recording_add_argument(parser, *args, **kwargs):
        actions.append(plain_add_argument(parser, *args, **kwargs))
        return actions[-1]

    text = io.StringIO()
    with (mock.patch.object(cli.OneLineParser, "add_argument", recording_add_argument),
          contextlib.redirect_stdout(text), pytest.raises(SystemExit) as raised):
        importlib.import_module(name).main(["--help"])
    assert raised.value.code == 0
    return text.getvalue(), actions


def flags_of(name):
    """{long flag: what it takes}, as the options of the script's --help list them: a
    metavar such as N or PATH, "{" for a choice, "[" for an optional value, or ""."""
    options = re.findall(r"^  (?:-\w(?: \S+)?, )?(--[\w-]+)(?: ([A-Z{[]))?", parsed_help(name)[0],
                         re.M)
    return dict(options)


def kinds_of(name):
    """{kind of value: the script's long flags that take it, in the parser's order} for
    every flag that takes a value: CHOICE, or the name of its argparse type (None for
    any string)."""
    kinds = {}
    for action in parsed_help(name)[1]:
        if action.option_strings and action.nargs != 0:
            kind = CHOICE if action.choices is not None else getattr(action.type, "__qualname__",
                                                                     action.type)
            kinds.setdefault(kind, []).append(action.option_strings[-1])
    return kinds


def cases():
    """Per script, the last flag of each kind (a script's own flags come after the common
    ones) with the kind's first bad value; each further bad value of a kind once, on its
    last flag of the first script that has it."""
    fully_tried = set()  # the kinds whose every bad value has a case
    for name in SCRIPTS:
        for kind, flags in kinds_of(name).items():
            if kind not in BAD_VALUES:  # any string (--tpu), or a kind the last test names
                continue
            values = BAD_VALUES[kind][:1] if kind in fully_tried else BAD_VALUES[kind]
            fully_tried.add(kind)
            for value, complaint in values:
                yield pytest.param(name, flags[-1], value, complaint,
                                   id=f"{name}-{flags[-1]}={value}")


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


def test_every_flag_that_takes_a_value_is_of_a_kind_with_bad_values():
    """A new flag that takes a value is of a kind above (then the cases try it through
    its kind), or its kind gets bad values here; a flag that takes any string is named
    in UNCHECKED_FLAGS."""
    unknown = {f"{name} {flag} ({kind})" for name in SCRIPTS
               for kind, flags in kinds_of(name).items() for flag in flags
               if kind not in BAD_VALUES and flag not in UNCHECKED_FLAGS}
    assert not unknown, sorted(unknown)
    for name in SCRIPTS:  # the recorded actions are every option --help lists, no more
        recorded = {flag for flags in kinds_of(name).values() for flag in flags}
        listed = {flag for flag, takes in flags_of(name).items() if takes}
        assert recorded == listed, name
    assert {kind for name in SCRIPTS for kind in kinds_of(name)} - {None} == set(BAD_VALUES)
    assert len(SCRIPTS) >= 29 and all("--out-dir" in flags_of(name) for name in SCRIPTS)
