"""Figures every chapter saves: image grids, training curves, model diagrams.

Figures are built with `matplotlib.figure.Figure` rather than pyplot, so scripts
need no display, keep no global figure state and leak no memory in long runs.
"""
import math
import shutil
from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib import cli
from lib.outputs import atomic_path


def save_figure(figure, path):
    """Save a matplotlib Figure as an image, atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, bbox_inches="tight")


def image_grid(images, path, titles=None, columns=None, title=None, row_labels=None):
    """Save images (N, H, W) or (N, H, W, C), values in [0, 1] or uint8, as a grid.

    titles: one short caption per image (labels, say); columns: default is a square
    grid; row_labels: one name written left of each row (a class per row, say).
    Images with NaN or infinite values (a generator that diverged) are a UserError, and
    nothing is saved.
    """
    images = np.asarray(images)
    if not np.isfinite(images).all():
        raise cli.UserError(f"the images came out NaN or infinite "
                            f"({np.count_nonzero(~np.isfinite(images)):,} of {images.size:,} "
                            f"values): {Path(path).name} not saved")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    figure = Figure(figsize=(columns * 1.2, rows * 1.2 + (0.4 if title else 0)),
                    layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.set_axis_off()
        if index >= len(images):
            continue
        axis.imshow(images[index], cmap="gray" if images.ndim == 3 else None,
                    vmin=0, vmax=255 if images.dtype == np.uint8 else 1)
        if titles is not None:
            axis.set_title(str(titles[index]), fontsize=8)
        if row_labels is not None and index % columns == 0:
            axis.text(-0.1, 0.5, row_labels[index // columns], transform=axis.transAxes,
                      ha="right", va="center", fontsize=9)
    if title:
        figure.suptitle(title)
    save_figure(figure, path)


def training_curves(history, path, x_per_epoch=1, x_label="epoch", columns=4):
    """Plot each metric of a history {metric: [value per epoch]} (Keras's `History.history`
    or lib/outputs.py's `read_history_csv`), one panel per metric, training and `val_`
    together, at most `columns` panels a row. GANs log once per save interval:
    x_per_epoch=save_interval and x_label="step" put the steps on the x axis."""
    metrics = [name for name in history if not name.startswith("val_")]
    if not metrics:
        return
    rows, columns = -(-len(metrics) // columns), min(columns, len(metrics))
    figure = Figure(figsize=(4.5 * columns, 3.5 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis in axes[len(metrics):]:
        axis.set_visible(False)
    for axis, metric in zip(axes, metrics):
        for name, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if name in history:
                x = [x_per_epoch * epoch for epoch in range(1, len(history[name]) + 1)]
                axis.plot(x, history[name], marker=".", label=label)
        if metric == "learning_rate":  # schedules divide it by 10s: a log scale shows them
            axis.set_yscale("log")
        else:
            axis.legend()
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel(x_label)
        axis.set_title(metric)
        axis.grid(True, alpha=0.3)
    save_figure(figure, path)


def animate(frames, path, seconds_per_frame=0.4):
    """Join image files (sample grids, say) into an animated GIF that loops, atomically."""
    from PIL import Image

    images = [Image.open(frame).convert("RGB") for frame in frames]
    if not images:
        return
    size = images[0].size
    images = [image.resize(size) for image in images]
    with atomic_path(path) as temporary:
        images[0].save(temporary, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(seconds_per_frame * 1000), loop=0)


def model_diagram(model, path):
    """Write the model's diagram with keras.utils.plot_model when Graphviz is installed;
    otherwise print a one-line notice. Returns whether the file was written."""
    if shutil.which("dot") is None:
        print(f"model diagram skipped: Graphviz is not installed "
              f"(apt-get install graphviz, or brew install graphviz) for {path.name}")
        return False
    with atomic_path(path) as temporary:
        keras.utils.plot_model(model, to_file=str(temporary), show_shapes=True,
                               show_layer_names=True)
    return True
