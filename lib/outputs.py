"""Writers for everything a run saves: atomic writes (a temporary file beside the
target, then a rename) and rows appended to a CSV file; and the reader of the
history.csv Keras' CSVLogger writes.

An interrupted run therefore leaves either the previous file or the new one,
never a half-written checkpoint, figure or metrics file; and numbers that came out NaN
or infinite are refused (`require_finite`), never written as if they were results.
"""
import contextlib
import csv
import json
import math
import os
from pathlib import Path

from lib import cli


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


def write_json(path, data, infinite_as_null=False):
    """Write `data` as indented JSON, atomically. A NaN or infinite number (a run that
    diverged or overflowed) is a UserError naming it, and nothing is written; with
    `infinite_as_null` an infinity is a result (an infinite divergence) and is written as
    null, JSON having no infinity."""
    path = Path(path)
    require_finite(data, f"{path.name} not written", allow_infinite=infinite_as_null)
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(finite_or_none(data), indent=2, allow_nan=False) + "\n")


def require_finite(data, consequence, allow_infinite=False):
    """Raise a UserError naming the NaN and infinite numbers in `data` (a number, or
    dicts and lists of them, however nested), and saying `consequence` ("metrics.json not
    written"), when it has any; infinities pass with `allow_infinite`."""
    names = list(non_finite(data, allow_infinite))
    if names:
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        raise cli.UserError(f"the results came out NaN or infinite ({shown}): {consequence}")


def non_finite(value, allow_infinite=False, name=""):
    """The names (keys joined by dots, list positions in brackets) of the NaN, and unless
    `allow_infinite` the infinite, floats in `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from non_finite(item, allow_infinite, f"{name}.{key}" if name else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from non_finite(item, allow_infinite, f"{name}[{index}]")
    elif isinstance(value, float) and (math.isnan(value)
                                       or not (allow_infinite or math.isfinite(value))):
        yield name or "value"


def finite_or_none(value):
    """`value` with every infinite or NaN float, however deeply nested, replaced by None."""
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def save_weights(model, path):
    """model.save_weights, atomically; `path` must end in .weights.h5."""
    with atomic_path(path) as temporary:
        model.save_weights(temporary)


def save_model(model, path):
    """model.save (architecture, weights, optimizer), atomically; `path` ends in .keras."""
    with atomic_path(path) as temporary:
        model.save(temporary)


def append_csv_row(path, row):
    """Add one row to a CSV file, with a header when the file is new."""
    is_new = not path.exists()
    with open(path, "a", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(row))
        if is_new:
            writer.writeheader()
        writer.writerow(row)


def keep_csv_rows(path, count):
    """Keep the header and the first `count` rows of a CSV file (when it has more)."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    if len(lines) > 1 + count:
        with atomic_path(path) as temporary:
            temporary.write_text("".join(lines[:1 + count]))


def read_history_csv(path):
    """A Keras CSVLogger file as {metric: [value per epoch]} (resumed runs included).
    CSVLogger writes "NA" for `val_` metrics of a run without validation: those are left out."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    columns = [name for name in (rows[0] if rows else ()) if name != "epoch"]
    return {name: [float("nan" if row[name] == "NA" else row[name]) for row in rows]
            for name in columns if any(row[name] != "NA" for row in rows)}
