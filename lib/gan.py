"""The book's GAN builders and a GAN training step that really trains on Keras 3 (chapter 4).

Builders (section 4.2): `build_generator` turns noise (with optional one-hot labels
or codes) into a 28x28 image; `build_discriminator` scores an image (with an
optional label) as real or fake.

Training: the book compiles the discriminator D, sets `D.trainable = False` and
compiles the adversarial model G + D. On Keras 3 that freeze is what D sees when
it trains too, so D never learns and its loss sits at 0.693. `GAN` below keeps
the book's algorithm but gives D and G each their own optimizer and updates each
only with its own gradients:

    1. D step: a real batch (label 1) and a batch of fakes from new noise (label 0);
       only D's weights move.
    2. G step: new noise, its fakes labelled real (1), scored by D; only G's weights
       move, so D acts as frozen.
    A conditional GAN (CGAN) gives real images their own labels and fakes random ones.

Both steps run inside one compiled `train_step` (TensorFlow backend, as the
keras-io GAN examples), so `fit` trains the pair with a progress bar showing the
discriminator's and the generator's loss and accuracy.
"""
import keras
import numpy as np
import tensorflow as tf
from keras import layers

from lib import outputs, plots, training
from lib.cli import UserError

LATENT_DIM = 100
IMAGE_SHAPE = (28, 28, 1)


def build_generator(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, num_labels=0,
                    activation="sigmoid", name="generator"):
    """Noise z (and a one-hot label when num_labels > 0) -> image in [0, 1].

    Dense 7*7*128, Reshape, then for filters 128, 64, 32, 1 with strides 2, 2, 1, 1:
    BatchNormalization, ReLU, Conv2DTranspose kernel 5. DCGAN: 1,301,505 parameters;
    with 10 labels (CGAN): 1,364,225.
    """
    noise = keras.Input(shape=(latent_dim,), name="z")
    inputs = [noise]
    x = noise
    if num_labels:
        labels = keras.Input(shape=(num_labels,), name="labels")
        inputs.append(labels)
        x = layers.concatenate([noise, labels])
    resized = image_shape[0] // 4
    x = layers.Dense(resized * resized * 128)(x)
    x = layers.Reshape((resized, resized, 128))(x)
    for filters, strides in ((128, 2), (64, 2), (32, 1), (image_shape[-1], 1)):
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, kernel_size=5, strides=strides, padding="same")(x)
    outputs = layers.Activation(activation)(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(image_shape=IMAGE_SHAPE, num_labels=0, activation="sigmoid",
                        name="discriminator"):
    """Image (and a one-hot label when num_labels > 0) -> probability that it is real.

    For filters 32, 64, 128, 256 with strides 2, 2, 2, 1: LeakyReLU 0.2, Conv2D
    kernel 5 (no batch normalization); Flatten, Dense 1. A label enters as a Dense 784
    map reshaped to a second image channel. DCGAN: 1,080,577 parameters; CGAN: 1,090,001.
    activation=None gives the linear output LSGAN and WGAN use.
    """
    images = keras.Input(shape=image_shape, name="image")
    inputs = [images]
    x = images
    if num_labels:
        labels = keras.Input(shape=(num_labels,), name="labels")
        inputs.append(labels)
        label_map = layers.Dense(image_shape[0] * image_shape[1])(labels)
        label_map = layers.Reshape((image_shape[0], image_shape[1], 1))(label_map)
        x = layers.concatenate([images, label_map])
    for filters, strides in ((32, 2), (64, 2), (128, 2), (256, 1)):
        x = layers.LeakyReLU(negative_slope=0.2)(x)
        x = layers.Conv2D(filters, kernel_size=5, strides=strides, padding="same")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(1)(x)
    if activation:
        outputs = layers.Activation(activation)(outputs)
    return keras.Model(inputs, outputs, name=name)


def book_optimizers():
    """The book's RMSprop pair with Keras-2 `decay` (lr / (1 + decay * step)) as
    InverseTimeDecay: D 2e-4 decay 6e-8, the adversarial (G) step 1e-4 decay 3e-8."""
    def rmsprop(rate, decay):
        return keras.optimizers.RMSprop(learning_rate=keras.optimizers.schedules.InverseTimeDecay(
            rate, decay_steps=1, decay_rate=decay))

    return rmsprop(2e-4, 6e-8), rmsprop(1e-4, 3e-8)


class GAN(keras.Model):
    """Generator and discriminator trained in turn, each by its own optimizer.

    Data: batches of real images, or (images, one-hot labels) for a conditional GAN
    (both networks then also take the labels). `fit` runs `train_step` per batch.
    """

    def __init__(self, generator, discriminator, latent_dim=LATENT_DIM, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = latent_dim
        self.num_labels = generator.inputs[1].shape[-1] if len(generator.inputs) > 1 else 0
        self.conditional = self.num_labels > 0
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("d_loss", "d_acc", "g_loss", "g_acc")}
        self.built = True  # both networks are built functional models; checkpoints need it

    def compile(self, d_optimizer, g_optimizer, loss=None):
        """d_optimizer, g_optimizer: one each (one shared optimizer cannot serve both);
        loss: per-example loss on D's output, binary cross-entropy by default."""
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.loss_fn = loss or keras.losses.BinaryCrossentropy()
        # Built now so that a checkpoint restored before the first step finds their slots.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def sample_noise(self, batch_size):
        """z ~ U(-1, 1), the book's noise, drawn on the device (no NumPy round trip)."""
        return keras.random.uniform((batch_size, self.latent_dim), -1.0, 1.0, seed=self.noise_seed)

    def sample_labels(self, batch_size):
        """Random one-hot labels for the fakes of a conditional GAN (None otherwise)."""
        if not self.conditional:
            return None
        digits = keras.random.randint((batch_size,), 0, self.num_labels, seed=self.noise_seed)
        return keras.ops.one_hot(digits, self.num_labels)

    def generate(self, noise, labels=None, training=False):
        inputs = [noise, labels] if self.conditional else noise
        return self.generator(inputs, training=training)

    def discriminate(self, images, labels=None, training=False):
        inputs = [images, labels] if self.conditional else images
        return self.discriminator(inputs, training=training)

    def discriminator_step(self, real_images, real_labels=None):
        """Train D on real images labelled 1 and fakes from new noise (and random labels)
        labelled 0.

        G makes the fakes in training mode, as in the G step: the book's `predict` ran
        G's batch normalization on its moving statistics instead, which early in
        training makes fakes unlike the ones G learns from, so D learns to reject
        images G never trains on. Only G's moving statistics change here, no weight."""
        batch_size = tf.shape(real_images)[0]
        fake_labels = self.sample_labels(batch_size)
        fake_images = self.generate(self.sample_noise(batch_size), fake_labels, training=True)
        images = tf.concat([real_images, fake_images], axis=0)
        labels = tf.concat([real_labels, fake_labels], axis=0) if self.conditional else None
        targets = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        with tf.GradientTape() as tape:
            scores = self.discriminate(images, labels, training=True)
            loss = self.loss_fn(targets, scores)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, self._accuracy(targets, scores)

    def generator_step(self, batch_size):
        """Train G so that D scores its fakes from new noise (and random labels) as real
        (1); only G's weights move, so D acts as frozen."""
        noise, labels = self.sample_noise(batch_size), self.sample_labels(batch_size)
        targets = tf.ones((batch_size, 1))
        with tf.GradientTape() as tape:
            scores = self.discriminate(self.generate(noise, labels, training=True), labels)
            loss = self.loss_fn(targets, scores)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, self._accuracy(targets, scores)

    def train_step(self, data):
        real_images, real_labels = data if self.conditional else (data, None)
        d_loss, d_acc = self.discriminator_step(real_images, real_labels)
        g_loss, g_acc = self.generator_step(tf.shape(real_images)[0])
        for name, value in (("d_loss", d_loss), ("d_acc", d_acc),
                            ("g_loss", g_loss), ("g_acc", g_acc)):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @staticmethod
    def _accuracy(targets, scores):
        return keras.ops.mean(keras.metrics.binary_accuracy(targets, scores))


def real_batches(images, labels=None, batch_size=64, seed=0):
    """Endless shuffled batches of real images (with their one-hot labels when given),
    every batch full, as each GAN step expects."""
    if labels is not None:
        labels = np.asarray(labels, dtype="float32")  # to_categorical gives float64
    dataset = tf.data.Dataset.from_tensor_slices(images if labels is None else (images, labels))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).repeat()
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


class SampleGrid(keras.callbacks.Callback):
    """Every `save_interval` steps (one Keras epoch of the GAN's fit), save a grid of the
    generator's images for the same fixed inputs, so the frames show training progress."""

    def __init__(self, generator, fixed_inputs, folder, save_interval, titles=None):
        super().__init__()
        self.generator, self.fixed_inputs = generator, fixed_inputs
        self.folder, self.save_interval, self.titles = folder, save_interval, titles

    def on_epoch_end(self, epoch, logs=None):
        self.save((epoch + 1) * self.save_interval)

    def save(self, step):
        images = keras.ops.convert_to_numpy(self.generator(self.fixed_inputs, training=False))
        plots.image_grid(images, self.folder / f"step_{step:06d}.png", titles=self.titles,
                         title=f"step {step}")


def train(gan, batches, args, sample_grid, name):
    """The book's training loop as one `fit`: --train-steps steps in Keras epochs of
    --save-interval steps, a sample grid after each, the full state (G, D, both
    optimizers, step count) backed up after each for --resume. Then saves the
    generator as `name`_generator.keras, D's weights, training.gif and metrics.json."""
    if args.train_steps % args.save_interval:
        raise UserError(f"--train-steps ({args.train_steps}) must be a multiple of "
                        f"--save-interval ({args.save_interval})")
    callbacks = training.fit_callbacks(args)
    resuming = args.resume and (args.out_dir / "backup").exists()
    if not resuming:  # frames of an earlier run would end up in this run's GIF
        for old_frame in sample_grid.folder.glob("step_*.png"):
            old_frame.unlink()
    gan.fit(batches, steps_per_epoch=args.save_interval,
            epochs=args.train_steps // args.save_interval,
            callbacks=[sample_grid] + callbacks)  # the grid before the backup: none is missed

    plots.animate(sorted(sample_grid.folder.glob("step_*.png")), args.out_dir / "training.gif")
    outputs.save_model(gan.generator, args.out_dir / f"{name}_generator.keras")
    outputs.save_weights(gan.discriminator, args.out_dir / f"{name}_discriminator.weights.h5")
    history = plots.read_history_csv(args.out_dir / "history.csv")
    plots.training_curves(history, args.out_dir / "curves.png")
    timer = next(callback for callback in callbacks if isinstance(callback, training.EpochTimer))
    metrics = {name: values[-1] for name, values in history.items()}
    metrics.update(steps=len(history["d_loss"]) * args.save_interval,
                   optimizer_steps={"discriminator": int(gan.d_optimizer.iterations),
                                    "generator": int(gan.g_optimizer.iterations)},
                   params={"generator": gan.generator.count_params(),
                           "discriminator": gan.discriminator.count_params()})
    if timer.seconds:
        metrics["seconds_per_step"] = round(float(np.median(timer.seconds)) / args.save_interval, 4)
    outputs.write_json(args.out_dir / "metrics.json", metrics)
    print(f"Saved {name}_generator.keras, the sample grids, training.gif and metrics.json "
          f"in {args.out_dir}")
    return metrics


def load_generator(path, num_inputs):
    """A generator saved by `train`, or a UserError saying why it cannot be used."""
    try:
        generator = keras.models.load_model(path)
    except Exception as error:  # a corrupt or foreign file can fail in many ways
        raise UserError(f"cannot load a generator from {path}: {str(error).splitlines()[0]}") from None
    if len(generator.inputs) != num_inputs:
        raise UserError(f"{path} is a generator with {len(generator.inputs)} input(s); "
                        f"this script's takes {num_inputs}")
    return generator
