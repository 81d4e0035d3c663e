"""Running CycleGAN (book section 7.1): unpaired batches, translations of test images
and their cycle errors, and the translation grid saved every save interval.
The networks and the training step are in lib/cyclegan.py; the run loop is
lib/gan_runs.py's `train`.
"""
import keras
import numpy as np
import tensorflow as tf

from lib import cyclegan, gan_runs, plots


def unpaired_batches(source_images, target_images, batch_size, seed):
    """Endless (source batch, target batch) pairs, each domain shuffled on its own."""
    return tf.data.Dataset.zip((
        gan_runs.real_batches(source_images, batch_size=batch_size, seed=seed),
        gan_runs.real_batches(target_images, batch_size=batch_size, seed=seed + 1)))


def translate(generator_target, generator_source, source_images, target_images, batch_size=256):
    """Translations and cycle reconstructions of both domains' images:
    {"target_from_source", "source_again", "source_from_target", "target_again"}."""
    def run(generator, images):
        return generator.predict(images, batch_size=batch_size, verbose=0)

    target_from_source = run(generator_target, source_images)
    source_from_target = run(generator_source, target_images)
    return {"target_from_source": target_from_source,
            "source_again": run(generator_source, target_from_source),
            "source_from_target": source_from_target,
            "target_again": run(generator_target, source_from_target)}


def cycle_errors(translations, source_images, target_images):
    """Mean absolute error of each domain's cycle reconstruction (pixels in [0, 1])."""
    return {"source_cycle_mae": float(np.mean(np.abs(translations["source_again"] - source_images))),
            "target_cycle_mae": float(np.mean(np.abs(translations["target_again"] - target_images)))}


def save_translation_grid(generator_target, generator_source, source_images, target_images,
                          domain_names, path, title):
    """Six rows of the same test images: source, its translation, its reconstruction;
    target, its translation, its reconstruction (gray shown in 3 channels)."""
    translations = translate(generator_target, generator_source, source_images, target_images)
    source, target = domain_names
    rows = [(source, source_images), (f"-> {target}", translations["target_from_source"]),
            (f"-> {source} again", translations["source_again"]),
            (target, target_images), (f"-> {source}", translations["source_from_target"]),
            (f"-> {target} again", translations["target_again"])]
    images = np.concatenate([cyclegan.as_channels(np.asarray(images, "float32"), 3) for _, images in rows])
    plots.image_grid(images, path, columns=len(source_images), title=title,
                     row_labels=[label for label, _ in rows])
    return translations


class TranslationGrid(keras.callbacks.Callback):
    """Every save interval, the translation grid of the same test images (a SampleFrames
    for lib/gan_runs.py's `train`, which makes training.gif of these frames)."""

    def __init__(self, source_images, target_images, domain_names, folder, save_interval):
        super().__init__()
        self.source_images, self.target_images = source_images, target_images
        self.domain_names, self.folder, self.save_interval = domain_names, folder, save_interval

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.save_interval
        save_translation_grid(self.model.generator_target, self.model.generator_source,
                              self.source_images, self.target_images, self.domain_names,
                              self.folder / f"step_{step:06d}.png", title=f"step {step}")
