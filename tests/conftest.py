"""Shared fixtures: every test writes under its own temporary folder and never downloads."""
import pytest


@pytest.fixture
def out_dir(tmp_path):
    """A fresh --out-dir for one run."""
    return tmp_path / "out"


def one_line(text):
    """The text's only line, failing when it has none or several."""
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    return lines[0]
