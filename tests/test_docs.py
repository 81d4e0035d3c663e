"""The pages are right as written: README.md, every chapter's README.md and docs/*.md.

Every `python3` command in their shell blocks names a script that exists, and that
script's own parser accepts the command's flags (parsed and checked only: nothing is
set up or run). Every relative link and image points at a file or folder of the
repository, and every `#anchor` at a heading of the page it names."""
import argparse
import contextlib
import importlib
import io
import re
import shlex
from pathlib import Path
from unittest import mock
from urllib.parse import unquote

import pytest

from lib import cli

REPO = cli.REPO_ROOT
CHAPTER_FOLDERS = sorted(path for path in REPO.glob("chapter*") if path.is_dir())
SHELL_BLOCKS = {"bash", "sh", "shell", "console"}
PROMPT = re.compile(r"^(?:\$ |!)")  # a console's prompt, a notebook cell's shell escape
ENVIRONMENT = re.compile(r"^(?:\w+=\S*\s+)*")  # VAR=value before a command
PYTHON3 = re.compile(ENVIRONMENT.pattern + r"python3\s")


def words_of(command):
    """The command's words as the shell reads them, without VAR=value and a # comment."""
    return shlex.split(ENVIRONMENT.sub("", command), comments=True)


def pages():
    """The pages the tests read, as paths relative to the repository: the chapter pages
    that exist (`test_every_chapter_has_a_page_with_commands` requires all of them)."""
    found = [REPO / "README.md", *(folder / "README.md" for folder in CHAPTER_FOLDERS),
             *sorted((REPO / "docs").glob("*.md"))]
    return [path.relative_to(REPO) for path in found if path.is_file()]


def fenced_blocks(text):
    """[(info string, first line's number, [lines])] of the page's fenced code blocks
    (``` or ~~~, indented or not, as in a list item)."""
    blocks, fence = [], None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if fence is None:
            opening = re.match(r"(`{3,}|~{3,})\s*([^`\s]*)", stripped)
            if opening:
                fence, info, start, lines = opening.group(1), opening.group(2).lower(), number, []
        elif re.fullmatch(re.escape(fence[0]) + "{%d,}" % len(fence), stripped):
            blocks.append((info, start, lines))
            fence = None
        else:
            lines.append(line)
    return blocks


def commands_of(page):
    """[(line number, command)]: each part, split on `&&`, of each line (continuations
    ending in `\\` joined) of the page's shell blocks, and of its plain blocks that hold
    python3 lines, that starts with `python3` and names a script (`python3 -m ...` and
    other interpreter options are not scripts)."""
    found = []
    for info, start, lines in fenced_blocks((REPO / page).read_text()):
        lines = [PROMPT.sub("", line.strip()) for line in lines]
        if info not in SHELL_BLOCKS and not (info == "" and any(PYTHON3.match(line)
                                                                for line in lines)):
            continue
        joined, first = [], None
        for offset, line in enumerate(lines, start + 1):
            first = offset if first is None else first
            if line.endswith("\\"):
                joined.append(line[:-1])
                continue
            for part in " ".join([*joined, line]).split("&&"):
                part = part.strip()
                if not PYTHON3.match(part):
                    continue
                try:
                    words = words_of(part)
                except ValueError:  # unbalanced quotes: the command's test says so
                    words = [part, part]
                if len(words) > 1 and not words[1].startswith("-"):
                    found.append((first, part))
            joined, first = [], None
    return found


COMMANDS = [pytest.param(str(page), line, command, id=f"{page}:{line}: {command}")
            for page in pages() for line, command in commands_of(page)]


def test_every_chapter_has_a_page_with_commands():
    assert len(CHAPTER_FOLDERS) == 7, CHAPTER_FOLDERS
    missing = [str(folder.relative_to(REPO)) for folder in CHAPTER_FOLDERS
               if not (folder / "README.md").is_file()]
    assert not missing, f"chapter pages missing: {missing}"
    assert COMMANDS
    without = [str(page) for page in pages()
               if page.parts[0].startswith("chapter") and not commands_of(page)]
    assert not without, f"chapter pages without a python3 command: {without}"


class _Parsed(Exception):
    """Raised where the script's flags have been parsed and checked, before anything
    else happens; carries the parsed flags."""

    def __init__(self, args):
        super().__init__()
        self.parsed = args


def _stop(args, given=None):
    raise _Parsed(args)


def value_of(parser, dest, argv):
    """The values argv gives the flags of `dest` (`--flag VALUE` or `--flag=VALUE`)."""
    options = {option for action in parser._actions if action.dest == dest
               for option in action.option_strings}
    values = []
    for index, word in enumerate(argv):
        name, equals, value = word.partition("=")
        if equals and name in options:
            values.append(value)
        elif word in options and index + 1 < len(argv):
            values.append(argv[index + 1])
    return values


def make_placeholders(parser, argv):
    """An empty file at every relative path the command gives a flag whose value must
    name an existing file (a saved generator an earlier command writes, the book's
    .h5), and at every generator that --eval-only reads from --out-dir by default; the
    working directory is the test's temporary folder. Absolute paths must exist."""
    paths = [value for action in parser._actions if action.type is cli.existing_file
             for value in value_of(parser, action.dest, argv)]
    saved = parser.get_default("saved_generators") or {}
    if saved:
        out_dirs = value_of(parser, "out_dir", argv) or [parser.get_default("out_dir")]
        paths += [str(Path(out_dirs[-1]) / name) for name in saved.values()]
    here = Path.cwd().resolve()
    for path in map(Path, paths):
        inside = (path.resolve().is_relative_to(here) if path.is_absolute()
                  else ".." not in path.parts)
        if inside:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()


def parse_only(module_name, argv):
    """The script's main(argv), stopped once its flags are parsed and checked: a chapter
    script's `cli.parse_args` runs up to its last check (the parser's checks, after the
    flags a mode does not use are refused) and stops there, before devices, seeds and
    the output folder; a bench script's argparse parser stops after `parse_args`."""
    script = importlib.import_module(module_name)
    real_cli_parse_args = cli.parse_args
    real_parse_args = argparse.ArgumentParser.parse_args

    def cli_parse_and_stop(parser, argv=None):
        make_placeholders(parser, argv or [])
        parser.checks.append(_stop)  # the last check: every other has passed
        try:
            real_cli_parse_args(parser, argv)
        finally:
            parser.checks.remove(_stop)
        raise AssertionError("cli.parse_args returned without running the parser's checks")

    def parse_and_stop(parser, args=None, namespace=None):
        make_placeholders(parser, args or [])
        raise _Parsed(real_parse_args(parser, args, namespace))

    patch = (mock.patch.object(cli, "parse_args", cli_parse_and_stop)
             if module_name.startswith("chapter") else
             mock.patch.object(argparse.ArgumentParser, "parse_args", parse_and_stop))
    with patch, pytest.raises(_Parsed) as parsed:
        script.main(argv)
    return parsed.value.parsed


@pytest.mark.parametrize("page, line, command", COMMANDS)
def test_every_command_names_a_script_whose_parser_accepts_its_flags(page, line, command,
                                                                      tmp_path, monkeypatch):
    words = words_of(command)
    script = Path(words[1])
    where = f"{page}, line {line}: `{command}`"
    assert script.suffix == ".py" and (REPO / script).is_file(), f"{where}: no script {script}"
    assert script.parts[0].startswith(("chapter", "bench")) and len(script.parts) == 2, (
        f"{where}: not a chapter or bench script")
    module_name = ".".join([*script.parts[:-1], script.stem])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "OUTPUTS_ROOT", tmp_path / "outputs")  # default --out-dir
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            parse_only(module_name, words[2:])
    except SystemExit as exit:
        if exit.code == 0 and {"-h", "--help"} & set(words[2:]):
            return
        message = (output.getvalue().strip().splitlines() or [""])[-1]  # the one line
        pytest.fail(f"{where}: exit status {exit.code}: {message}", pytrace=False)


# Links


def heading_anchors(text):
    """GitHub's anchors of the page's headings: the text lowercased, punctuation but
    '-' and '_' dropped, spaces to '-'; a repeated one gets -1, -2, ..."""
    anchors, counts = set(), {}
    in_code = set(number for _, start, lines in fenced_blocks(text)
                  for number in range(start, start + len(lines) + 2))
    for number, line in enumerate(text.splitlines(), 1):
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading or number in in_code:
            continue
        title = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1))
        title = re.sub(r"<[^>]+>", "", title).strip().lower()
        anchor = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        anchors.add(f"{anchor}-{counts[anchor]}" if anchor in counts else anchor)
        counts[anchor] = counts.get(anchor, 0) + 1
    return anchors


def link_targets(text):
    """The targets of the page's links and images outside code: [text](target),
    ![alt](target), [name]: target and <img src="target">."""
    prose = re.sub(r"^\s*(`{3,}|~{3,}).*?^\s*\1\s*$", "", text, flags=re.S | re.M)
    prose = re.sub(r"(`+).+?\1", "", prose, flags=re.S)
    targets = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)", prose)
    targets += re.findall(r"^\s*\[[^\]]+\]:\s*<?([^\s>]+)", prose, flags=re.M)
    targets += re.findall(r"<img\b[^>]*\bsrc=[\"']([^\"']+)", prose, flags=re.I)
    return targets


@pytest.mark.parametrize("page", [str(page) for page in pages()])
def test_every_relative_link_and_image_points_at_a_file_that_exists(page):
    text = (REPO / page).read_text()
    broken = []
    for target in link_targets(text):
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # http(s)://, mailto: ...
            continue
        path, _, anchor = unquote(target).partition("#")
        linked = (REPO / page).parent / path if path else REPO / page
        resolved = linked.resolve()
        if not resolved.is_relative_to(REPO) or "outputs" in resolved.relative_to(REPO).parts[:1]:
            broken.append(f"{target} (outside the repository's files)")
        elif not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(
                linked.read_text()):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page}: {broken}"
