"""Numbers that say how good a model's output is (images in [0, 1]).

Reconstructions (chapter 3): mean squared error and PSNR. Generated images
(chapters 4-7, offline): a small CNN classifier trained once on the GAN's own
dataset gives the label accuracy of conditional generators, a classifier score
(exp of the mean KL divergence between p(y|x) and p(y), as the Inception score
with our classifier) and a Frechet distance between its features of generated
and real images; real test images give the ceiling of each.
"""
import csv

import keras
import numpy as np
import scipy.linalg
from keras import layers

from lib import data, outputs
from lib.cli import OUTPUTS_ROOT


def mean_squared_error(images, references):
    """Mean over every pixel of (images - references)^2."""
    return float(np.mean((np.asarray(images, "float64") - np.asarray(references, "float64")) ** 2))


def psnr(images, references, peak=1.0):
    """Peak signal-to-noise ratio in dB, 10 log10(peak^2 / MSE), over the whole set."""
    return float(10.0 * np.log10(peak ** 2 / mean_squared_error(images, references)))


# What a generator makes, in numbers (offline, from a small classifier trained once on
# the GAN's own dataset): label accuracy, classifier score and Frechet distance.

CLASSIFIER_DIR = OUTPUTS_ROOT / "classifiers"  # one cached classifier per dataset and image shape
CLASSIFIER_EPOCHS = 5
REFERENCE_IMAGES = 10000  # real training images whose features the Frechet distance compares to


def build_classifier(image_shape, num_classes):
    """A small CNN: Conv 32, pool, Conv 64, pool, Dense 128 "features", softmax."""
    images = keras.Input(shape=image_shape)
    x = layers.MaxPooling2D()(layers.Conv2D(32, 3, activation="relu")(images))
    x = layers.MaxPooling2D()(layers.Conv2D(64, 3, activation="relu")(x))
    features = layers.Dense(128, activation="relu", name="features")(layers.Flatten()(x))
    probabilities = layers.Dense(num_classes, activation="softmax")(layers.Dropout(0.3)(features))
    return keras.Model(images, probabilities, name="classifier")


def cached_classifier(name, images, labels, num_classes):
    """The classifier of dataset `name` for images of this shape: loaded from
    CLASSIFIER_DIR, or trained (CLASSIFIER_EPOCHS epochs, Adam) and saved there first."""
    shape = "x".join(str(size) for size in images.shape[1:])
    path = CLASSIFIER_DIR / f"{name}_{shape}.keras"
    if path.exists():
        return keras.models.load_model(path)
    print(f"Training the {name} classifier that measures generated images (once; cached in {path})")
    classifier = build_classifier(images.shape[1:], num_classes)
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    classifier.fit(images, labels, epochs=CLASSIFIER_EPOCHS, batch_size=64, verbose=2)
    outputs.save_model(classifier, path)
    return classifier


def label_accuracy(predicted, asked, num_classes):
    """Fraction of images made for class k that are classified as k: overall and per class
    (None for a class never asked for)."""
    predicted, asked = np.asarray(predicted), np.asarray(asked)
    per_class = [float(np.mean(predicted[asked == k] == k)) if np.any(asked == k) else None
                 for k in range(num_classes)]
    return float(np.mean(predicted == asked)), per_class


def classifier_score(probabilities):
    """exp(mean over images of KL(p(y|x) || p(y))): 1 when every image gets the same class
    distribution, the number of classes at most (confident and all classes equally)."""
    probabilities = np.clip(np.asarray(probabilities, "float64"), 1e-12, 1.0)
    marginal = probabilities.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(probabilities * np.log(probabilities / marginal), axis=1))))


def frechet_distance(features, reference_mean, reference_covariance):
    """|mu - mu_ref|^2 + Tr(C + C_ref - 2 (C C_ref)^(1/2)) between Gaussians fitted to the features."""
    mean, covariance = np.mean(features, axis=0), np.cov(features, rowvar=False)
    # ReLU features that are always 0 make both covariances singular: a tiny diagonal
    # offset keeps the matrix square root defined and changes the distance by ~1e-6.
    offset = 1e-6 * np.eye(len(mean))
    root = scipy.linalg.sqrtm((covariance + offset) @ (reference_covariance + offset))
    return float(np.sum((mean - reference_mean) ** 2)
                 + np.trace(covariance + reference_covariance - 2 * np.real(root)))


class ImageQuality:
    """The three numbers for a set of images, from one classifier: `measure(images,
    asked_labels)`. The Frechet distance is to the features of real training images;
    `ceiling` holds the numbers of real test images, the best a generator can hope for."""

    def __init__(self, classifier, dataset, count=2000):
        self.features_and_probabilities = keras.Model(
            classifier.inputs, [classifier.get_layer("features").output, classifier.output])
        self.num_classes = dataset.num_classes
        reference = data.prepare(dataset.x_train[:REFERENCE_IMAGES], "cnn")
        reference_features, _ = self.features_and_probabilities.predict(reference, verbose=0)
        self.reference_mean = np.mean(reference_features, axis=0)
        self.reference_covariance = np.cov(reference_features, rowvar=False)
        self.ceiling = self.measure(data.prepare(dataset.x_test[:count], "cnn"),
                                    dataset.y_test[:count])

    def measure(self, images, asked_labels=None):
        features, probabilities = self.features_and_probabilities.predict(images, batch_size=500,
                                                                          verbose=0)
        results = {"images": len(images), "classifier_score": classifier_score(probabilities),
                   "frechet_distance": frechet_distance(features, self.reference_mean,
                                                        self.reference_covariance)}
        if asked_labels is not None:
            results["label_accuracy"], results["label_accuracy_per_class"] = label_accuracy(
                np.argmax(probabilities, axis=1), asked_labels, self.num_classes)
        return results


def image_quality(dataset_name, count):
    """ImageQuality for --dataset's images (28x28 digits or clothes), its classifier
    trained on the whole training set whatever --limit says."""
    dataset = data.load(dataset_name)
    classifier = cached_classifier(dataset.name, data.prepare(dataset.x_train, "cnn"),
                                   dataset.y_train, dataset.num_classes)
    return ImageQuality(classifier, dataset, count=count)


def generator_inputs(generator, count, seed=0):
    """Inputs for `count` images, by the generator's input names as lib/gan.py and
    StackedGAN name them: z ~ U(-1, 1); z0, z1 and code_i ~ N(0, 0.5); labels one-hot,
    every class equally often. Returns the inputs and the labels asked for (or None)."""
    rng = np.random.default_rng(seed)
    inputs, asked = [], None
    for tensor in generator.inputs:
        name, size = tensor.name, tensor.shape[-1]
        if name == "z":
            inputs.append(rng.uniform(-1.0, 1.0, (count, size)))
        elif name in ("z0", "z1") or name.startswith("code_"):
            inputs.append(rng.normal(0.0, 0.5, (count, size)))
        elif name == "labels":
            asked = np.arange(count) % size
            inputs.append(keras.utils.to_categorical(asked, size))
        else:
            raise ValueError(f"no rule to draw the generator's input {name!r}")
    return [np.asarray(value, "float32") for value in inputs], asked


def measure_generator(generator, quality, count, seed=0):
    """ImageQuality.measure of `count` images the generator makes from fixed random inputs."""
    inputs, asked = generator_inputs(generator, count, seed)
    images = generator.predict(inputs if len(inputs) > 1 else inputs[0], batch_size=500, verbose=0)
    return quality.measure(images, asked)


class QualityMonitor(keras.callbacks.Callback):
    """After every save interval: measure() -> {name: number}, a row of quality.csv, and
    metrics.json with the numbers and their `ceiling` (real images'); `latest` keeps
    the last ones for the run's final metrics."""

    def __init__(self, measure, out_dir, save_interval, ceiling=None):
        super().__init__()
        self.measure, self.out_dir, self.save_interval = measure, out_dir, save_interval
        self.latest = {"quality": None, "quality_ceiling": ceiling}

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.save_interval
        self.latest["quality"] = results = self.measure()
        outputs.write_json(self.out_dir / "metrics.json", {"step": step, **self.latest})
        append_csv_row(self.out_dir / "quality.csv", {
            "step": step, **{name: value for name, value in results.items()
                             if isinstance(value, (int, float))}})


def generator_monitor(generator, args):
    """QualityMonitor of a GAN's generator on --dataset, --eval-samples images a time."""
    quality = image_quality(args.dataset, args.eval_samples)
    return QualityMonitor(lambda: measure_generator(generator, quality, args.eval_samples),
                          args.out_dir, args.save_interval, ceiling=quality.ceiling)


def evaluate_generator(generator, args, paths):
    """--eval-only: the numbers of a saved generator (loaded from `paths`) and the
    ceiling, printed and written to quality.json under --out-dir."""
    quality = image_quality(args.dataset, args.eval_samples)
    results = {"generator": [str(path) for path in paths],
               "quality": measure_generator(generator, quality, args.eval_samples),
               "quality_ceiling": quality.ceiling}
    outputs.write_json(args.out_dir / "quality.json", results)
    print(describe(results["quality"], results["quality_ceiling"]))
    return results


def numbers_line(numbers):
    """{name: number} as "name 0.123, ..." for one printed line."""
    return ", ".join(f"{name.replace('_', ' ')} {value:.3f}" for name, value in numbers.items()
                     if isinstance(value, (int, float)))


def describe(quality, ceiling):
    """One line: each number of generated images with the real images' in brackets."""
    names = [name for name in ("label_accuracy", "classifier_score", "frechet_distance")
             if name in quality]
    return "Generated images: " + ", ".join(
        f"{name.replace('_', ' ')} {quality[name]:.3f} (real {ceiling[name]:.3f})" for name in names)


def append_csv_row(path, row):
    """Add one row to a CSV file, with a header when the file is new."""
    is_new = not path.exists()
    with open(path, "a", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(row))
        if is_new:
            writer.writeheader()
        writer.writerow(row)
