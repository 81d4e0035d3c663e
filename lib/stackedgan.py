"""StackedGAN (book section 6.2): a pre-trained encoder splits an image into levels of
representation, and one GAN per level learns to invert it.

    enc0: image -> feature1 (256)           gen0: feature1 + z0 (50) -> image
    enc1: feature1 -> label (10, softmax)   gen1: label + z1 (50) -> feature1
    dis0: image -> real?, z0                dis1: feature1 -> real?, z1

Chained, gen1 then gen0 turn a label into an image. Each GAN has three losses for
its generator: adversarial (its D says real, binary cross-entropy), entropy (its D
recovers the noise it was given, MSE) and conditional (the frozen encoder maps its
output back to its input, MSE for gen0, categorical cross-entropy for gen1). Each of
the four networks has its own optimizer (the book shares optimizer instances
across models, which Keras 3 refuses), and `StackedGAN.train_step` keeps the
lib/gan.py rule: a D step moves only that D, a G step only that G, the encoder never.
"""
import keras
import tensorflow as tf
from keras import layers

from lib import gan
from lib.layers import batch_normalization

FEATURE_DIM = 256
Z_DIM = 50
NUM_LABELS = 10
Z_STDDEV = 0.5  # z0, z1 ~ N(0, 0.5), as the book
# Loss weights of the book: dis0 (source, z0); gen0 (adversarial, entropy, conditional);
# dis1 (source, z1); gen1 (adversarial, entropy, conditional).
DIS0_WEIGHTS, GEN0_WEIGHTS = (1.0, 10.0), (1.0, 10.0, 1.0)
DIS1_WEIGHTS, GEN1_WEIGHTS = (1.0, 1.0), (1.0, 1.0, 1.0)


def build_encoder(image_shape=gan.IMAGE_SHAPE, feature_dim=FEATURE_DIM, num_labels=NUM_LABELS):
    """enc0 (Conv 64, MaxPool, Conv 64, MaxPool, Flatten, Dense feature_dim ReLU: feature1)
    and enc1 (Dense num_labels softmax), pre-trained together as a classifier."""
    images = keras.Input(shape=image_shape, name="image")
    x = images
    for _ in range(2):
        x = layers.Conv2D(64, kernel_size=3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    # Outputs compute in float32 under any precision (losses and the chained GANs read them).
    feature1 = layers.Dense(feature_dim, activation="relu", dtype="float32")(layers.Flatten()(x))
    encoder0 = keras.Model(images, feature1, name="encoder0")
    features = keras.Input(shape=(feature_dim,), name="feature1")
    encoder1 = keras.Model(features, layers.Dense(num_labels, activation="softmax", dtype="float32")(features),
                           name="encoder1")
    return encoder0, encoder1


def build_generator1(num_labels=NUM_LABELS, z_dim=Z_DIM, feature_dim=FEATURE_DIM):
    """gen1: label + z1 -> Dense 512 ReLU, BN, Dense 512 ReLU, BN, Dense 256 ReLU, a fake
    feature1 (429,312 parameters)."""
    labels = keras.Input(shape=(num_labels,), name="labels")
    z1 = keras.Input(shape=(z_dim,), name="z1")
    x = layers.concatenate([labels, z1])
    for units in (512, 512):
        x = layers.Dense(units, activation="relu")(x)
        x = batch_normalization()(x)
    feature1 = layers.Dense(feature_dim, activation="relu", dtype="float32")(x)
    return keras.Model([labels, z1], feature1, name="generator1")


def build_discriminator1(feature_dim=FEATURE_DIM, z_dim=Z_DIM):
    """dis1: feature1 -> Dense 256 ReLU twice, then "source" (sigmoid) and "z" (Dense
    z_dim tanh: z1 recovered) heads (144,691 parameters)."""
    features = keras.Input(shape=(feature_dim,), name="feature1")
    x = features
    for _ in range(2):
        x = layers.Dense(256, activation="relu")(x)
    source = layers.Dense(1, activation="sigmoid", name="source", dtype="float32")(x)
    z1 = layers.Dense(z_dim, activation="tanh", name="z", dtype="float32")(x)
    return keras.Model(features, [source, z1], name="discriminator1")


def build_networks(image_shape=gan.IMAGE_SHAPE, feature_dim=FEATURE_DIM):
    """The six networks of section 6.2, in the order encoder0, encoder1, generator0,
    generator1, discriminator0, discriminator1."""
    encoder0, encoder1 = build_encoder(image_shape, feature_dim)
    generator0 = gan.build_generator(latent_dim=Z_DIM, image_shape=image_shape,
                                     feature_dim=feature_dim, name="generator0")
    discriminator0 = gan.build_discriminator(image_shape, latent_outputs=Z_DIM, name="discriminator0")
    return (encoder0, encoder1, generator0, build_generator1(feature_dim=feature_dim), discriminator0,
            build_discriminator1(feature_dim))


class StackedGAN(keras.Model):
    """Both GANs of StackedGAN trained in turn per batch of (images, one-hot labels), as
    the book's code does: dis1 on real (enc0 of the images) and fake (gen1 of the real
    labels) feature1, dis0 on real images and fakes from gen0 of the real feature1, then
    gen1 (from the real labels) and gen0 (from the real feature1) through their frozen
    D and the frozen encoder. Logs every loss term by name."""

    def __init__(self, encoder0, encoder1, generator0, generator1, discriminator0,
                 discriminator1, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.encoder0, self.encoder1 = encoder0, encoder1
        self.generator0, self.generator1 = generator0, generator1
        self.discriminator0, self.discriminator1 = discriminator0, discriminator1
        self.noise_seed = keras.random.SeedGenerator(seed)
        names = [f"{network}_{term}" for network in ("dis0", "dis1")
                 for term in ("loss", "source_loss", "z_loss", "source_acc")]
        names += [f"{network}_{term}" for network in ("gen0", "gen1")
                  for term in ("loss", "adversarial_loss", "entropy_loss", "conditional_loss")]
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        # Keras saves only built models, and fit never builds one that has no call(); the
        # networks it trains are built functional models, so it is complete as it is.
        self.built = True

    def compile(self, optimizers, **kwargs):
        """optimizers: {"dis0": ..., "dis1": ..., "gen0": ..., "gen1": ...}, one each; kwargs go
        to keras.Model.compile (jit_compile)."""
        super().compile(optimizer=None, **kwargs)
        self.network_optimizers = {name: gan.loss_scaled(optimizer, self.dtype_policy)
                                   for name, optimizer in optimizers.items()}
        trained = {"dis0": self.discriminator0, "dis1": self.discriminator1,
                   "gen0": self.generator0, "gen1": self.generator1}
        for name, optimizer in self.network_optimizers.items():  # slots exist before a restore
            optimizer.build(trained[name].trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def networks(self):
        """The trained networks by name (generators first), for saving; the encoder is
        saved once, pre-trained."""
        return {"generator0": self.generator0, "generator1": self.generator1,
                "discriminator0": self.discriminator0, "discriminator1": self.discriminator1}

    def optimizer_steps(self):
        return {name: int(optimizer.iterations.numpy()) for name, optimizer in self.network_optimizers.items()}

    def random_z(self, batch_size):
        """A batch of z0 or z1 ~ N(0, 0.5), drawn on the device, each replica its own."""
        return tf.random.stateless_normal((batch_size, Z_DIM), gan.replica_seed(self.noise_seed),
                                          stddev=Z_STDDEV)

    def train_step(self, data):
        """The book's four updates on a batch of (images, one-hot labels): dis1, dis0,
        gen1, gen0, each moving only its own network, each generator's noise new."""
        real_images, real_labels = data
        batch_size = keras.ops.shape(real_images)[0]
        real_feature1 = self.encoder0(real_images, training=False)
        optimizers = self.network_optimizers

        # dis1 on feature1: real (enc0 of the images) and fake (gen1 of the real labels).
        dis1_z = self.random_z(batch_size)
        fake_feature1 = self.generator1([real_labels, dis1_z], training=True)
        logs = gan.optimizer_step(optimizers["dis1"], self.discriminator1, lambda: discriminator_loss(
            "dis1", self.discriminator1, DIS1_WEIGHTS, real_feature1, fake_feature1, dis1_z))

        # dis0 on images: real, and fake from gen0 of the real feature1.
        dis0_z = self.random_z(batch_size)
        fake_images = self.generator0([dis0_z, real_feature1], training=True)
        logs |= gan.optimizer_step(optimizers["dis0"], self.discriminator0, lambda: discriminator_loss(
            "dis0", self.discriminator0, DIS0_WEIGHTS, real_images, fake_images, dis0_z))

        # gen1 from the real labels; enc1 must classify its feature1 as those labels.
        gen1_z = self.random_z(batch_size)

        def gen1_loss():
            fake = self.generator1([real_labels, gen1_z], training=True)
            conditional = keras.ops.mean(keras.losses.categorical_crossentropy(
                real_labels, self.encoder1(fake, training=False)))
            return generator_loss("gen1", self.discriminator1, GEN1_WEIGHTS, fake, gen1_z, conditional)

        logs |= gan.optimizer_step(optimizers["gen1"], self.generator1, gen1_loss)

        # gen0 from the real feature1; enc0 must encode its image back to that feature1.
        gen0_z = self.random_z(batch_size)

        def gen0_loss():
            fake = self.generator0([gen0_z, real_feature1], training=True)
            conditional = keras.ops.mean(keras.losses.mean_squared_error(
                real_feature1, self.encoder0(fake, training=False)))
            return generator_loss("gen0", self.discriminator0, GEN0_WEIGHTS, fake, gen0_z, conditional)

        logs |= gan.optimizer_step(optimizers["gen0"], self.generator0, gen0_loss)
        for name, value in logs.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


def discriminator_loss(name, discriminator, weights, real, fake, z):
    """A D's weighted loss on real (1) and fake (0) inputs: binary cross-entropy, and MSE
    of its z head, which learns the fakes' noise and, as in the book, the same noise as
    target for the real half. Returns it and its terms to log, prefixed `name`."""
    batch_size = keras.ops.shape(real)[0]
    targets = keras.ops.concatenate([keras.ops.ones((batch_size, 1)), keras.ops.zeros((batch_size, 1))])
    source, z_recovered = discriminator(keras.ops.concatenate([real, fake]), training=True)
    source_loss = keras.ops.mean(keras.losses.binary_crossentropy(targets, source))
    z_loss = keras.ops.mean(keras.losses.mean_squared_error(keras.ops.concatenate([z, z]), z_recovered))
    loss = weights[0] * source_loss + weights[1] * z_loss
    accuracy = keras.ops.mean(keras.metrics.binary_accuracy(targets, source))
    return loss, prefixed(name, {"loss": loss, "source_loss": source_loss, "z_loss": z_loss,
                                 "source_acc": accuracy})


def generator_loss(name, discriminator, weights, fake, z, conditional_loss):
    """A G's weighted loss: adversarial (its D calls the fake real), entropy (its D recovers
    z) and conditional, weighted as the book. Returns it and its terms, prefixed `name`."""
    source, z_recovered = discriminator(fake, training=False)
    adversarial = keras.ops.mean(keras.losses.binary_crossentropy(keras.ops.ones_like(source), source))
    entropy = keras.ops.mean(keras.losses.mean_squared_error(z, z_recovered))
    loss = weights[0] * adversarial + weights[1] * entropy + weights[2] * conditional_loss
    return loss, prefixed(name, {"loss": loss, "adversarial_loss": adversarial,
                                 "entropy_loss": entropy, "conditional_loss": conditional_loss})


def prefixed(name, logs):
    return {f"{name}_{term}": value for term, value in logs.items()}
