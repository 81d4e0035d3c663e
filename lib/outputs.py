"""Atomic writes for everything a run saves: a temporary file beside the target, then a rename.

An interrupted run therefore leaves either the previous file or the new one,
never a half-written checkpoint, figure or metrics file.
"""
import contextlib
import json
import os
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it onto `path`.

    The temporary name ends with the target's own name, so writers that check
    the suffix (`.weights.h5`, `.keras`, `.png`) accept it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_json(path, data):
    """Write `data` as indented JSON, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2) + "\n")


def save_weights(model, path):
    """model.save_weights, atomically; `path` must end in .weights.h5."""
    with atomic_path(path) as temporary:
        model.save_weights(temporary)


def save_model(model, path):
    """model.save (architecture, weights, optimizer), atomically; `path` ends in .keras."""
    with atomic_path(path) as temporary:
        model.save(temporary)
