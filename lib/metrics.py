"""Numbers that say how good a model's output is (NumPy; images in [0, 1])."""
import numpy as np


def mean_squared_error(images, references):
    """Mean over every pixel of (images - references)^2."""
    return float(np.mean((np.asarray(images, "float64") - np.asarray(references, "float64")) ** 2))


def psnr(images, references, peak=1.0):
    """Peak signal-to-noise ratio in dB, 10 log10(peak^2 / MSE), over the whole set."""
    return float(10.0 * np.log10(peak ** 2 / mean_squared_error(images, references)))
