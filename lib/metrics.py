"""Numbers that say how good a model's output is (images in [0, 1]).

Reconstructions (chapter 3): mean squared error and PSNR. Generated images
(chapters 4-7, offline): a small CNN classifier trained once on the GAN's own
dataset gives the label accuracy of conditional generators, a classifier score
(exp of the mean KL divergence between p(y|x) and p(y), as the Inception score
with our classifier) and a Frechet distance between its features of generated
and real images; real test images give the ceiling of each.
"""
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
    """A small CNN: Conv 32, pool, Conv 64, pool, Dense 128 "features", softmax; in float32
    whatever precision the run that first needs it trains in (it is cached for all)."""
    float32 = {"dtype": "float32"}
    images = keras.Input(shape=image_shape)
    x = layers.MaxPooling2D(**float32)(layers.Conv2D(32, 3, activation="relu", **float32)(images))
    x = layers.MaxPooling2D(**float32)(layers.Conv2D(64, 3, activation="relu", **float32)(x))
    features = layers.Dense(128, activation="relu", name="features", **float32)(
        layers.Flatten(**float32)(x))
    probabilities = layers.Dense(num_classes, activation="softmax", **float32)(
        layers.Dropout(0.3, **float32)(features))
    return keras.Model(images, probabilities, name="classifier")


def cached_classifier(name, images, labels, num_classes):
    """The classifier of dataset `name` for images of this shape: loaded from
    CLASSIFIER_DIR, or trained (CLASSIFIER_EPOCHS epochs, Adam) and saved there first.
    A cached file that cannot be loaded (cut short, say) is trained again, with a notice."""
    shape = "x".join(str(size) for size in images.shape[1:])
    path = CLASSIFIER_DIR / f"{name}_{shape}.keras"
    if path.exists():
        try:
            return keras.models.load_model(path)
        except Exception as error:  # a broken file fails in many ways (zip, h5py, Keras)
            print(f"The cached {name} classifier in {path} cannot be loaded "
                  f"({type(error).__name__}); training it again")
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
    """ImageQuality for the dataset's images (28x28 digits or clothes), `count` real test
    images for the ceiling; its classifier is trained on the whole training set (a
    generator is judged against the real distribution, whatever part of it it saw)."""
    dataset = data.load(dataset_name)
    classifier = cached_classifier(dataset.name, data.prepare(dataset.x_train, "cnn"),
                                   dataset.y_train, dataset.num_classes)
    return ImageQuality(classifier, dataset, count=count)


def generator_inputs(kinds, count, seed=0):
    """Fixed random inputs for `count` images of a generator whose inputs are, in order,
    `kinds`: ("uniform", size) noise ~ U(-1, 1), ("normal", size) noise or codes
    ~ N(0, 0.5), ("labels", classes) one-hot labels, every class equally often.
    Returns the inputs and the labels asked for (or None)."""
    rng = np.random.default_rng(seed)
    inputs, asked = [], None
    for kind, size in kinds:
        if kind == "uniform":
            inputs.append(rng.uniform(-1.0, 1.0, (count, size)))
        elif kind == "normal":
            inputs.append(rng.normal(0.0, 0.5, (count, size)))
        elif kind == "labels":
            asked = np.arange(count) % size
            inputs.append(keras.utils.to_categorical(asked, size))
        else:
            raise ValueError(f"unknown kind of generator input {kind!r}")
    return [np.asarray(value, "float32") for value in inputs], asked


def measure_generator(generator, quality, kinds, count, seed=0):
    """ImageQuality.measure of `count` images the generator makes from fixed random
    inputs drawn as `kinds` say (generator_inputs)."""
    inputs, asked = generator_inputs(kinds, count, seed)
    images = generator.predict(inputs if len(inputs) > 1 else inputs[0], batch_size=500, verbose=0)
    return quality.measure(images, asked)


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
