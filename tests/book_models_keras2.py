"""Makes Keras-2 HDF5 files in the form of the book's pretrained models.

The book ("Advanced Deep Learning with Keras") ships its trained generators as
whole-model HDF5 files written by Keras 2 (`model.save("x.h5")`). Our tests check
that this project, on Keras 3, loads files of that format, so they need such files.
The book's own files are not part of this repository, and Keras 3 cannot write the
format, so this script rebuilds the book's networks under Keras 2 (`tf_keras`), gives
them seeded random weights and saves them the way the book does.

Run it only under Keras 2 (it sets TF_USE_LEGACY_KERAS itself and never imports
Keras 3):

    TF_USE_LEGACY_KERAS=1 python tests/book_models_keras2.py OUT_DIR

The architectures follow the book's listings layer for layer (layer types and order,
sizes, kernel sizes, strides, activations, input order and sizes, model names):
4.2.1 DCGAN, 4.3.1 CGAN, 5.1.2 WGAN, 5.2.1 LSGAN, 5.3.1 ACGAN, 6.1.1 InfoGAN,
6.2.1 StackedGAN (gen0, gen1) and 7.1.1 CycleGAN (CIFAR10 gray <-> colour with
kernel 3, MNIST <-> SVHN with kernel 5). The code is written for these tests, not
copied from the book.

Files written to OUT_DIR:
  the generators (names as the book saves them: dcgan_mnist.h5, ...,
  cyclegan_mnist_svhn-g_source.h5); two other book networks for tests that a wrong
  file is refused (the DCGAN discriminator, compiled as the book compiles it, and a
  CycleGAN PatchGAN discriminator); weights_only.h5 (save_weights of the DCGAN
  generator); no_model.h5 (HDF5 without Keras attributes); custom_layer.h5 (a model
  with a custom layer Keras 3 cannot know).

If OUT_DIR/inputs.npz exists, each key "<file stem>/<i>" in it is input i (in the
model's own input order) of that model; the script writes the models' outputs to
OUT_DIR/outputs.npz under "<file stem>". The key "stackedgan_chain/0..2" (labels,
z1, z0) asks for gen0([gen1([labels, z1]), z0]), the book's StackedGAN sampling.
"""

import os
import sys
import time
import warnings
import zlib

# Keras 2 must be chosen before TensorFlow is imported.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

from tf_keras import layers  # noqa: E402

# Saving to HDF5 is the point here: its "legacy format" warning, and the note
# that an uncompiled model has no compiled metrics, are noise.
warnings.filterwarnings("ignore", message="You are saving your model as an HDF5")
tf.get_logger().setLevel("ERROR")

SEED = 20240601

# Parameter counts of the book's generators (checked against the book's code).
EXPECTED_PARAMS = {
    "dcgan_mnist": 1301505,
    "lsgan_mnist": 1301505,
    "wgan_mnist": 1301505,
    "cgan_mnist": 1364225,
    "acgan_mnist": 1364225,
    "infogan_mnist": 1138433,
    "stackedgan_mnist-gen0": 2593537,
    "stackedgan_mnist-gen1": 429312,
    "cyclegan_cifar10-g_target": 870757,
    "cyclegan_cifar10-g_source": 870183,
    "cyclegan_mnist_svhn-g_target": 2414437,
    "cyclegan_mnist_svhn-g_source": 2412839,
}


# The book's CycleGAN uses tensorflow_addons.layers.InstanceNormalization, which
# cannot be installed with current TensorFlow. This stands in for it under the
# same registered name and config keys, so the saved files look like the book's.
@keras.utils.register_keras_serializable(package="Addons")
class InstanceNormalization(layers.Layer):
    """Instance normalization as tensorflow_addons computes it (a GroupNormalization
    with one channel per group): per example and channel, normalize over the other
    axes, then scale by gamma and shift by beta."""

    def __init__(self, groups=-1, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        # As in tfa, a given `groups` is overridden: one group per channel,
        # resolved to the channel count in build().
        del groups
        self.groups = -1
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_constraint = keras.constraints.get(beta_constraint)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        channels = int(input_shape[self.axis])
        self.groups = channels
        self.input_spec = layers.InputSpec(ndim=input_shape.rank,
                                           axes={self.axis: channels})
        # tfa creates gamma before beta; the weight order in the file follows.
        self.gamma = self.add_weight(
            name="gamma", shape=(channels,), initializer=self.gamma_initializer,
            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint
        ) if self.scale else None
        self.beta = self.add_weight(
            name="beta", shape=(channels,), initializer=self.beta_initializer,
            regularizer=self.beta_regularizer, constraint=self.beta_constraint
        ) if self.center else None
        super().build(input_shape)

    def call(self, inputs):
        rank = inputs.shape.rank
        axis = self.axis % rank
        reduction_axes = [i for i in range(1, rank) if i != axis]
        mean, variance = tf.nn.moments(inputs, reduction_axes, keepdims=True)
        broadcast = [1] * rank
        broadcast[axis] = self.groups
        gamma = None if self.gamma is None else tf.reshape(self.gamma, broadcast)
        beta = None if self.beta is None else tf.reshape(self.beta, broadcast)
        return tf.nn.batch_normalization(inputs, mean, variance, offset=beta,
                                         scale=gamma,
                                         variance_epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": keras.initializers.serialize(self.beta_initializer),
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
            "beta_regularizer": keras.regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": keras.regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": keras.constraints.serialize(self.beta_constraint),
            "gamma_constraint": keras.constraints.serialize(self.gamma_constraint),
        }
        return {**super().get_config(), **config}


# A layer only this script knows: Keras 3 must refuse a file that needs it.
@keras.utils.register_keras_serializable(package="Mystery")
class ScaledTanh(layers.Layer):
    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        return self.scale * tf.tanh(inputs)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


# --- Chapters 4 to 6: the DCGAN-style generator (lib/gan.py generator()) -------

def dcgan_generator(inputs, image_size=28):
    """Dense -> Reshape(7, 7, 128), then BN-ReLU-Conv2DTranspose with filters
    128, 64, 32, 1 (kernel 5; strides 2, 2, 1, 1), then a sigmoid. Several
    inputs are concatenated on axis 1 first, in the given order."""
    x = layers.concatenate(inputs, axis=1) if isinstance(inputs, list) else inputs
    side = image_size // 4
    x = layers.Dense(side * side * 128)(x)
    x = layers.Reshape((side, side, 128))(x)
    for filters, strides in ((128, 2), (64, 2), (32, 1), (1, 1)):
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters=filters, kernel_size=5, strides=strides,
                                   padding="same")(x)
    x = layers.Activation("sigmoid")(x)
    return keras.Model(inputs, x, name="generator")


def dcgan_discriminator(inputs):
    """Listing 4.2.1: LeakyReLU-Conv2D with filters 32, 64, 128, 256 (kernel 5;
    strides 2, 2, 2, 1), Flatten, Dense(1), sigmoid."""
    x = inputs
    for filters, strides in ((32, 2), (64, 2), (128, 2), (256, 1)):
        x = layers.LeakyReLU(alpha=0.2)(x)
        x = layers.Conv2D(filters=filters, kernel_size=5, strides=strides,
                          padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1)(x)
    x = layers.Activation("sigmoid")(x)
    return keras.Model(inputs, x, name="discriminator")


def z_input(size=100):
    return layers.Input(shape=(size,), name="z_input")


def build_dcgan():
    # 4.2.1 builds (and compiles) the discriminator before the generator.
    discriminator = dcgan_discriminator(
        layers.Input(shape=(28, 28, 1), name="discriminator_input"))
    # The book's RMSprop(lr=2e-4, decay=6e-8) is the legacy optimizer in tf_keras.
    discriminator.compile(loss="binary_crossentropy",
                          optimizer=keras.optimizers.legacy.RMSprop(
                              learning_rate=2e-4, decay=6e-8),
                          metrics=["accuracy"])
    return dcgan_generator(z_input()), discriminator


def build_cgan():
    # 4.3.1: the one-hot labels input is called 'class_labels' there.
    labels = layers.Input(shape=(10,), name="class_labels")
    return dcgan_generator([z_input(), labels])


def build_acgan():
    return dcgan_generator([z_input(), layers.Input(shape=(10,), name="labels")])


def build_infogan():
    # 6.1.1: z is 62-dim; then labels and the two 1-dim continuous codes.
    return dcgan_generator([z_input(62),
                            layers.Input(shape=(10,), name="labels"),
                            layers.Input(shape=(1,), name="code1"),
                            layers.Input(shape=(1,), name="code2")])


def build_stackedgan():
    """6.2.1: gen1 maps [labels, z1] to a 256-dim feature1 (Dense-BN twice, then
    Dense); gen0 is the DCGAN generator on [feature1, z0]."""
    feature1 = layers.Input(shape=(256,), name="feature1_input")
    labels = layers.Input(shape=(10,), name="labels")
    z1 = layers.Input(shape=(50,), name="z1_input")
    z0 = layers.Input(shape=(50,), name="z0_input")
    x = layers.concatenate([labels, z1], axis=1)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    fake_feature1 = layers.Dense(256, activation="relu")(x)
    gen1 = keras.Model([labels, z1], fake_feature1, name="gen1")
    gen0 = dcgan_generator([feature1, z0])
    return gen0, gen1


# --- Chapter 7: CycleGAN (listing 7.1.1) ---------------------------------------

def encoder_layer(x, filters, kernel_size, strides=2, activation="relu",
                  instance_norm=True):
    """[InstanceNormalization] - ReLU or LeakyReLU(0.2) - Conv2D."""
    if instance_norm:
        x = InstanceNormalization()(x)
    if activation == "relu":
        x = layers.Activation("relu")(x)
    else:
        x = layers.LeakyReLU(alpha=0.2)(x)
    return layers.Conv2D(filters=filters, kernel_size=kernel_size, strides=strides,
                         padding="same")(x)


def decoder_layer(x, skip, filters, kernel_size, strides=2):
    """InstanceNormalization - ReLU - Conv2DTranspose, then concatenated with the
    U-Net skip connection."""
    x = InstanceNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2DTranspose(filters=filters, kernel_size=kernel_size,
                               strides=strides, padding="same")(x)
    return layers.concatenate([x, skip])


def cyclegan_generator(input_shape, channels, kernel_size, name):
    """U-Net: 4 encoder layers (32 stride 1, then 64, 128, 256 stride 2, all
    LeakyReLU), 3 decoder layers (128, 64, 32, ReLU) with skips, then a sigmoid
    Conv2DTranspose to `channels`."""
    inputs = layers.Input(shape=input_shape)
    e1 = encoder_layer(inputs, 32, kernel_size, strides=1, activation="leaky_relu")
    e2 = encoder_layer(e1, 64, kernel_size, activation="leaky_relu")
    e3 = encoder_layer(e2, 128, kernel_size, activation="leaky_relu")
    e4 = encoder_layer(e3, 256, kernel_size, activation="leaky_relu")
    d1 = decoder_layer(e4, e3, 128, kernel_size)
    d2 = decoder_layer(d1, e2, 64, kernel_size)
    d3 = decoder_layer(d2, e1, 32, kernel_size)
    outputs = layers.Conv2DTranspose(channels, kernel_size=kernel_size, strides=1,
                                     activation="sigmoid", padding="same")(d3)
    return keras.Model(inputs, outputs, name=name)


def cyclegan_discriminator(input_shape, kernel_size, name):
    """PatchGAN: 4 LeakyReLU-Conv2D layers without normalization (32, 64, 128
    stride 2; 256 stride 1), then LeakyReLU and a 1-filter stride-2 Conv2D."""
    inputs = layers.Input(shape=input_shape)
    x = inputs
    for filters, strides in ((32, 2), (64, 2), (128, 2), (256, 1)):
        x = encoder_layer(x, filters, kernel_size, strides=strides,
                          activation="leaky_relu", instance_norm=False)
    x = layers.LeakyReLU(alpha=0.2)(x)
    outputs = layers.Conv2D(1, kernel_size=kernel_size, strides=2, padding="same")(x)
    return keras.Model(inputs, outputs, name=name)


def build_cyclegan(source_shape, target_shape, kernel_size, source_name,
                   target_name):
    """The book's names: gen_<target>/gen_<source>/dis_<target>, where the names
    carry '-<kernel>p' as the book's PatchGAN runs do."""
    g_target = cyclegan_generator(source_shape, target_shape[-1], kernel_size,
                                  "gen_" + target_name)
    g_source = cyclegan_generator(target_shape, source_shape[-1], kernel_size,
                                  "gen_" + source_name)
    d_target = cyclegan_discriminator(target_shape, kernel_size, "dis_" + target_name)
    return g_target, g_source, d_target


def build_custom_layer_model():
    z = layers.Input(shape=(16,), name="z_input")
    x = layers.Dense(7 * 7 * 8)(z)
    x = ScaledTanh(scale=2.0)(x)
    x = layers.Reshape((7, 7, 8))(x)
    x = layers.Conv2DTranspose(1, kernel_size=5, strides=4, padding="same",
                               activation="sigmoid")(x)
    return keras.Model(z, x, name="generator")


# --- Seeded weights --------------------------------------------------------------

def randomize(model, stem):
    """Every weight gets a seeded random value: loading the wrong weights, or
    ignoring BatchNormalization statistics, changes the outputs. Kernels are
    scaled by fan-in so that activations neither vanish nor saturate."""
    rng = np.random.default_rng([SEED, zlib.crc32(stem.encode())])
    for layer in model.layers:
        for var in layer.weights:
            kind = var.name.split("/")[-1].split(":")[0]
            shape = tuple(var.shape)
            if kind == "kernel":
                if isinstance(layer, layers.Conv2DTranspose):
                    # (kh, kw, out, in): each output sums over kh*kw*in / stride^2.
                    fan_in = shape[0] * shape[1] * shape[3] / np.prod(layer.strides)
                else:
                    fan_in = np.prod(shape[:-1])
                # He scaling: keeps the signal's size through the ReLUs.
                value = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
            elif kind == "gamma":
                value = 1.0 + rng.normal(0.0, 0.1, shape)
            elif kind == "moving_mean":
                value = rng.normal(0.0, 0.1, shape)
            elif kind == "moving_variance":
                value = rng.uniform(0.5, 1.5, shape)
            elif kind in ("bias", "beta"):
                value = rng.normal(0.0, 0.05, shape)
            else:
                raise ValueError(f"{stem}: no rule for weight {var.name}")
            var.assign(value.astype(np.float32))


# --- Main ------------------------------------------------------------------------

def build_all():
    """Returns {file stem: model}, in the order the files are written."""
    models = {}
    # One clear_session per book script, so layer names start afresh as in
    # the book's files.
    keras.backend.clear_session()
    generator, discriminator = build_dcgan()
    models["dcgan_mnist"] = generator
    models["dcgan_mnist-discriminator"] = discriminator
    for stem, build in (("cgan_mnist", build_cgan),
                        ("lsgan_mnist", lambda: dcgan_generator(z_input())),
                        ("wgan_mnist", lambda: dcgan_generator(z_input())),
                        ("acgan_mnist", build_acgan),
                        ("infogan_mnist", build_infogan)):
        keras.backend.clear_session()
        models[stem] = build()
    keras.backend.clear_session()
    models["stackedgan_mnist-gen0"], models["stackedgan_mnist-gen1"] = \
        build_stackedgan()
    keras.backend.clear_session()
    (models["cyclegan_cifar10-g_target"], models["cyclegan_cifar10-g_source"],
     models["cyclegan_cifar10-discriminator"]) = build_cyclegan(
        (32, 32, 1), (32, 32, 3), 3, "gray-3p", "color-3p")
    keras.backend.clear_session()
    (models["cyclegan_mnist_svhn-g_target"],
     models["cyclegan_mnist_svhn-g_source"], _) = build_cyclegan(
        (32, 32, 1), (32, 32, 3), 5, "mnist-5p", "svhn-5p")
    keras.backend.clear_session()
    models["custom_layer"] = build_custom_layer_model()
    return models


def predict(stem, model, arrays):
    inputs = [np.asarray(a, dtype=np.float32) for a in arrays]
    if len(model.inputs) != len(inputs):
        raise SystemExit(f"{stem}: {len(inputs)} inputs given, "
                         f"the model takes {len(model.inputs)}")
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return np.asarray(outputs, dtype=np.float32)


def write_outputs(out_dir, models):
    path = os.path.join(out_dir, "inputs.npz")
    if not os.path.exists(path):
        return
    with np.load(path) as data:
        grouped = {}
        for key in data.files:
            stem, _, index = key.rpartition("/")
            grouped.setdefault(stem, {})[int(index)] = data[key]
    results = {}
    for stem, by_index in sorted(grouped.items()):
        if sorted(by_index) != list(range(len(by_index))):
            raise SystemExit(f"{stem}: inputs must be numbered 0..n-1")
        arrays = [by_index[i] for i in range(len(by_index))]
        if stem == "stackedgan_chain":
            labels, z1, z0 = arrays
            feature1 = predict("stackedgan_mnist-gen1", models["stackedgan_mnist-gen1"],
                               [labels, z1])
            out = predict("stackedgan_mnist-gen0", models["stackedgan_mnist-gen0"],
                          [feature1, z0])
        elif stem in models:
            out = predict(stem, models[stem], arrays)
        else:
            raise SystemExit(f"inputs.npz: no model for {stem!r}")
        if not np.all(np.isfinite(out)):
            raise SystemExit(f"{stem}: outputs are not finite")
        results[stem] = out
    np.savez(os.path.join(out_dir, "outputs.npz"), **results)
    print(f"outputs.npz: {', '.join(sorted(results))}")


def main(argv):
    if len(argv) != 2:
        raise SystemExit(f"usage: TF_USE_LEGACY_KERAS=1 python {argv[0]} OUT_DIR")
    start = time.time()
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    assert keras.__version__.startswith("2."), keras.__version__

    models = build_all()
    for stem, model in models.items():
        count = model.count_params()
        expected = EXPECTED_PARAMS.get(stem)
        if expected is not None and count != expected:
            raise SystemExit(f"{stem}: {count} parameters, expected {expected}")
        randomize(model, stem)
        model.save(os.path.join(out_dir, stem + ".h5"))
        print(f"{stem}.h5 {count}")

    dcgan = models["dcgan_mnist"]
    dcgan.save_weights(os.path.join(out_dir, "weights_only.h5"))
    print(f"weights_only.h5 {dcgan.count_params()}")

    with h5py.File(os.path.join(out_dir, "no_model.h5"), "w") as f:
        f.create_dataset("data", data=np.arange(12, dtype=np.float32).reshape(3, 4))
    print("no_model.h5 0")

    write_outputs(out_dir, models)
    # Keras 3 must never have been loaded alongside.
    keras3 = sys.modules.get("keras")
    assert keras3 is None or not getattr(keras3, "__version__", "2").startswith("3")
    print(f"done in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv)
