"""Running CycleGAN (book section 7.1): each task's two domains, unpaired batches,
translations of test images and their quality numbers (cycle errors; colorized PSNR or
the digits' kept classes), and the grids saved every save interval: ours, six rows of
the same few test images (translated, reconstructed), and the book's 10x10 grids of
100 test images, their translations and reconstructions.
The networks and the training step are in lib/cyclegan.py; the run loop is
lib/gan_runs.py's `train`.
"""
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from lib import cyclegan, data, gan_runs, metrics, plots

BOOK_GRID_IMAGES = 100  # the book's 10x10 grids
SIX_ROW_GRID_IMAGES = 8  # test images per domain in our six-row grid


class Domain(NamedTuple):
    """One side of a task: training and test images, float32 in [0, 1], 32x32, and the
    test images' labels."""
    name: str
    train: np.ndarray
    test: np.ndarray
    test_labels: np.ndarray


def load_domains(dataset, limit=None, batch_size=None):
    """The task's source and target Domain; with batch_size (training), a batch size
    either domain cannot fill is refused first (data.check_batch_size)."""
    if dataset == "mnist_svhn":
        mnist, svhn = data.load("mnist", limit=limit), data.load("svhn", limit=limit)
        for loaded in (mnist, svhn) if batch_size else ():
            data.check_batch_size(loaded, batch_size)
        return (Domain("MNIST", data.prepare(data.pad_to_32(mnist.x_train), "cnn"),
                       data.prepare(data.pad_to_32(mnist.x_test), "cnn"), mnist.y_test),
                Domain("SVHN", data.prepare(svhn.x_train, "cnn"), data.prepare(svhn.x_test, "cnn"),
                       svhn.y_test))
    colour = data.load(dataset, limit=limit)
    if batch_size:
        data.check_batch_size(colour, batch_size)
    colour_train, colour_test = data.prepare(colour.x_train, "cnn"), data.prepare(colour.x_test, "cnn")
    return (Domain("gray", data.to_gray(colour_train), data.to_gray(colour_test), colour.y_test),
            Domain("colour", colour_train, colour_test, colour.y_test))


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


def digit_classifiers(dataset, count):
    """MNIST <-> SVHN: lib/metrics.py's classifier for each domain, trained once on its
    whole training set, to tell whether a translated digit kept its class; None for
    colorization (whose classes are not those of the images' content) and when no
    image is measured (count 0)."""
    if dataset != "mnist_svhn" or not count:
        return None
    mnist, svhn = data.load("mnist"), data.load("svhn")
    return (metrics.cached_classifier(mnist.name, data.prepare(data.pad_to_32(mnist.x_train), "cnn"),
                                      mnist.y_train, mnist.num_classes),
            metrics.cached_classifier(svhn.name, data.prepare(svhn.x_train, "cnn"), svhn.y_train,
                                      svhn.num_classes))


def translation_quality(generator_target, generator_source, source, target, classifiers, count):
    """The numbers of translating up to `count` test images each way: each domain's cycle
    error; colorization: the colorized images' PSNR against the true colours (the gray
    and colour test images are pairs); MNIST <-> SVHN: the fraction of translated digits
    whose class the other domain's classifier reads as the original's."""
    source_images, target_images = source.test[:count], target.test[:count]
    translations = translate(generator_target, generator_source, source_images, target_images)
    results = cycle_errors(translations, source_images, target_images)
    if source.name == "gray":
        results["colorized_psnr_db"] = metrics.psnr(translations["target_from_source"], target_images)
    if classifiers:
        source_classifier, target_classifier = classifiers
        for name, classifier, images, labels in (
                ("target_from_source", target_classifier, translations["target_from_source"],
                 source.test_labels[:count]),
                ("source_from_target", source_classifier, translations["source_from_target"],
                 target.test_labels[:count])):
            predicted = np.argmax(classifier.predict(images, batch_size=500, verbose=0), axis=1)
            results[f"{name}_class_kept"] = float(np.mean(predicted == labels))
    return results


def quality_ceiling(source, target, classifiers, count):
    """What real images score: the gray images' own PSNR against the colours, or each
    domain classifier's accuracy on its own test images."""
    if source.name == "gray":
        return {"gray_psnr_db": metrics.psnr(np.repeat(source.test[:count], 3, axis=-1),
                                             target.test[:count])}
    if not classifiers:
        return {}
    return {f"{domain.name}_classifier_accuracy": float(np.mean(np.argmax(
        classifier.predict(domain.test[:count], batch_size=500, verbose=0), axis=1)
        == domain.test_labels[:count])) for domain, classifier in zip((source, target), classifiers)}


def print_quality(quality, ceiling):
    print(f"Test images: {metrics.numbers_line(quality)} (real images: {metrics.numbers_line(ceiling)})")


def save_translation_grid(translations, source_images, target_images, domain_names, path, title):
    """Six rows of the first SIX_ROW_GRID_IMAGES test images: source, its translation,
    its reconstruction; target, its translation, its reconstruction (gray shown in 3
    channels). translations: `translate`'s, of these images or more."""
    count = SIX_ROW_GRID_IMAGES
    source_images, target_images = source_images[:count], target_images[:count]
    translations = {name: images[:count] for name, images in translations.items()}
    source, target = domain_names
    rows = [(source, source_images), (f"-> {target}", translations["target_from_source"]),
            (f"-> {source} again", translations["source_again"]),
            (target, target_images), (f"-> {source}", translations["source_from_target"]),
            (f"-> {target} again", translations["target_again"])]
    images = np.concatenate([cyclegan.as_channels(np.asarray(images, "float32"), 3) for _, images in rows])
    plots.image_grid(images, path, columns=len(source_images), title=title,
                     row_labels=[label for label, _ in rows])


def save_book_test_grids(source_images, target_images, domain_names, out_dir):
    """The book's figures of the task's data (section 7.1.2): 10x10 grids of the first
    100 test images of each domain, test_source.png and test_target.png in out_dir."""
    for role, images, name in (("source", source_images, domain_names[0]),
                               ("target", target_images, domain_names[1])):
        plots.image_grid(images[:BOOK_GRID_IMAGES], out_dir / f"test_{role}.png", columns=10,
                         title=f"{name} test {role} images")


def save_book_translation_grids(translations, domain_names, out_dir, step):
    """The book's figures of a trained CycleGAN (section 7.1): 10x10 grids of the first 100
    test images' translations, predicted_source/ and predicted_target/step_NNNNNN.png in
    out_dir, and of their cycle reconstructions, reconstructed_source.png and
    reconstructed_target.png (replaced at every save interval, as the book does)."""
    source, target = domain_names
    grids = ((f"predicted_source/step_{step:06d}.png", "source_from_target",
              f"{source} predicted source images, step {step:,}"),
             (f"predicted_target/step_{step:06d}.png", "target_from_source",
              f"{target} predicted target images, step {step:,}"),
             ("reconstructed_source.png", "source_again", f"{source} reconstructed source images"),
             ("reconstructed_target.png", "target_again", f"{target} reconstructed target images"))
    for file_name, kind, title in grids:
        plots.image_grid(translations[kind][:BOOK_GRID_IMAGES], out_dir / file_name, columns=10,
                         title=title)


def save_all_grids(generator_target, generator_source, source_images, target_images,
                   domain_names, six_row_path, out_dir, step):
    """Translate the first 100 test images of each domain once, then save our six-row grid
    (six_row_path) and the book's translation grids (in out_dir) of them."""
    source_images, target_images = source_images[:BOOK_GRID_IMAGES], target_images[:BOOK_GRID_IMAGES]
    translations = translate(generator_target, generator_source, source_images, target_images)
    save_translation_grid(translations, source_images, target_images, domain_names, six_row_path,
                          title=f"step {step}" if step else "test images")
    save_book_translation_grids(translations, domain_names, out_dir, step)
    return translations


class TranslationGrid(keras.callbacks.Callback):
    """Every save interval, the grids of the same test images (`save_all_grids`): ours in
    `folder` (the frames step_NNNNNN.png of which lib/gan_runs.py's `train` makes
    training.gif), the book's in out_dir."""

    def __init__(self, source_images, target_images, domain_names, folder, out_dir, save_interval):
        super().__init__()
        self.source_images, self.target_images = source_images, target_images
        self.domain_names, self.folder, self.out_dir = domain_names, folder, out_dir
        self.save_interval = save_interval

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.save_interval
        save_all_grids(self.model.generator_target, self.model.generator_source,
                       self.source_images, self.target_images, self.domain_names,
                       self.folder / f"step_{step:06d}.png", self.out_dir, step)
