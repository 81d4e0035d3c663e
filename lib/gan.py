"""The book's GAN networks and training steps that really train on Keras 3 (chapters 4-6).

This file imports only Keras and TensorFlow: copy it alone into a project.

Builders (section 4.2): `build_generator` turns noise (with optional one-hot labels
or codes) into a 28x28 image; `build_discriminator` scores an image (with an
optional label input) as real or fake, with the auxiliary heads of ACGAN (label)
and InfoGAN (label and codes) when asked for.

Training: the book compiles the discriminator D, sets `D.trainable = False` and
compiles the adversarial model G + D. On Keras 3 that freeze is what D sees when
it trains too, so D never learns and its loss sits at 0.693. `GAN` below keeps
the book's algorithm but gives D and G each their own optimizer and updates each
only with its own gradients (`optimizer_step`, which holds the gradient tape):

    1. D update: a real batch (target 1) and a batch of fakes from new noise
       (target 0); only D's weights move.
    2. G update: fakes from new noise, targets real (1), scored by D; only G's weights
       move, so D acts as frozen.
    A conditional GAN (CGAN) gives real images their own labels and fakes random ones.

Both updates run inside one compiled `train_step` (TensorFlow backend, as the
keras-io GAN examples), so `fit` trains the pair with a progress bar showing the
discriminator's and the generator's loss and accuracy. They are correct under a
tf.distribute strategy too (build and compile in its scope, then `fit`): each
replica draws its own noise (`replica_seed`), every loss is the mean over the
replica's share of the batch and `optimizer_step` divides it by the number of
replicas, so that the summed gradients and the logged numbers are those of one
device on the whole batch; the generator's batch normalization is synchronized
across replicas (`build_generator`). Chapter 5's GANs change one piece each: LSGAN
the loss (`compile(loss=keras.losses.MeanSquaredError())`), `WGAN` the loss and the D
update (n_critic clipped critic updates), `ACGAN` the loss (a second, label head);
chapter 6's `InfoGAN` adds the codes' mutual-information loss.
"""
import keras
import tensorflow as tf
from keras import layers

LATENT_DIM = 100
IMAGE_SHAPE = (28, 28, 1)
CODE_STDDEV = 0.5  # InfoGAN's codes ~ N(0, 0.5), as the book draws them (section 6.1)


def build_generator(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, num_labels=0, num_codes=0,
                    feature_dim=0, activation="sigmoid", name="generator"):
    """Noise z (and a one-hot label when num_labels > 0, num_codes continuous codes
    of size 1, and a feature vector of feature_dim: StackedGAN's gen0) -> image in [0, 1].

    The inputs are concatenated, then Dense 7*7*128, Reshape, and for filters 128, 64,
    32, 1 with strides 2, 2, 1, 1: BatchNormalization, ReLU, Conv2DTranspose kernel 5.
    DCGAN: 1,301,505 parameters; CGAN and ACGAN (10 labels): 1,364,225; InfoGAN
    (z of 62, 10 labels, 2 codes): 1,138,433; StackedGAN's gen0 (z0 of 50, feature1 of
    256): 2,593,537.
    """
    inputs = [keras.Input(shape=(latent_dim,), name="z")]
    if num_labels:
        inputs.append(keras.Input(shape=(num_labels,), name="labels"))
    inputs += [keras.Input(shape=(1,), name=f"code_{index}") for index in range(1, num_codes + 1)]
    if feature_dim:
        inputs.append(keras.Input(shape=(feature_dim,), name="feature1"))
    x = layers.concatenate(inputs) if len(inputs) > 1 else inputs[0]
    resized = image_shape[0] // 4
    # Under a tf.distribute strategy with several replicas, batch normalization takes the
    # whole batch's statistics (Keras' synchronized=True), as on one device.
    synchronized = tf.distribute.get_strategy().num_replicas_in_sync > 1
    x = layers.Dense(resized * resized * 128)(x)
    x = layers.Reshape((resized, resized, 128))(x)
    for filters, strides in ((128, 2), (64, 2), (32, 1), (image_shape[-1], 1)):
        x = layers.BatchNormalization(synchronized=synchronized)(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, kernel_size=5, strides=strides, padding="same")(x)
    outputs = layers.Activation(activation, dtype="float32")(x)  # float32 images under any precision
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(image_shape=IMAGE_SHAPE, num_labels=0, label_outputs=0, num_codes=0,
                        latent_outputs=0, activation="sigmoid", name="discriminator"):
    """Image (and a one-hot label when num_labels > 0) -> probability that it is real,
    plus the auxiliary heads of ACGAN and InfoGAN when asked for.

    For filters 32, 64, 128, 256 with strides 2, 2, 2, 1: LeakyReLU 0.2, Conv2D
    kernel 5 (no batch normalization); Flatten to 4*4*256 features, Dense 1 "source".
    A label input (CGAN) enters as a Dense 784 map reshaped to a second image channel.
    label_outputs > 0 adds the "label" head, Dense 128 then Dense label_outputs softmax
    (ACGAN, section 5.3); num_codes adds "code_1", ... heads, Dense 1 sigmoid on the
    same 128 features (InfoGAN, section 6.1); latent_outputs adds a "z" head, Dense
    latent_outputs tanh on the 4*4*256 features, that recovers the noise (StackedGAN's
    dis0, section 6.2). activation=None gives the linear source output of LSGAN and
    WGAN. DCGAN: 1,080,577 parameters; CGAN: 1,090,001; ACGAN: 1,606,283; InfoGAN:
    1,606,541; dis0 (z0 of 50): 1,285,427.
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
    features = layers.Flatten()(x)
    # Every head computes in float32 under mixed precision: probabilities and losses need it.
    outputs = [layers.Dense(1, activation=activation, name="source", dtype="float32")(features)]
    if label_outputs or num_codes:
        auxiliary = layers.Dense(128)(features)
        if label_outputs:
            outputs.append(layers.Dense(label_outputs, activation="softmax", name="label",
                                        dtype="float32")(auxiliary))
        outputs += [layers.Dense(1, activation="sigmoid", name=f"code_{index}", dtype="float32")(auxiliary)
                    for index in range(1, num_codes + 1)]
    if latent_outputs:
        outputs.append(layers.Dense(latent_outputs, activation="tanh", name="z", dtype="float32")(features))
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=name)


def book_optimizers():
    """The book's RMSprop pair with Keras-2 `decay` (lr / (1 + decay * step)) as
    InverseTimeDecay: D 2e-4 decay 6e-8, the adversarial (G) step 1e-4 decay 3e-8."""
    def rmsprop(rate, decay):
        return keras.optimizers.RMSprop(learning_rate=keras.optimizers.schedules.InverseTimeDecay(
            rate, decay_steps=1, decay_rate=decay))

    return rmsprop(2e-4, 6e-8), rmsprop(1e-4, 3e-8)


class GAN(keras.Model):
    """Generator and discriminator trained in turn, each by its own optimizer (section 4.2).

    Say what the networks take, as the builders were told: G's inputs are z of
    `latent_dim`, then one-hot labels when `num_labels` > 0 (CGAN, ACGAN, InfoGAN),
    then `num_codes` continuous codes of size 1 (InfoGAN); D also reads the labels
    when `labels_into_discriminator` (CGAN). The networks are checked against this,
    so a conditional generator never trains as an unconditional one.
    Data: batches of real images, or (images, one-hot labels) when num_labels > 0;
    `fit` runs `train_step` per batch. Subclasses change the loss (`score`), what D
    reads beside a real image (`real_conditions`) or the whole step (WGAN).
    """

    logged = ("loss", "acc")  # per network, prefixed d_ and g_ in the logs
    real_target, fake_target = 1.0, 0.0

    def __init__(self, generator, discriminator, latent_dim=LATENT_DIM, num_labels=0, num_codes=0,
                 labels_into_discriminator=False, seed=0, **kwargs):
        super().__init__(**kwargs)
        check_networks(generator, discriminator, latent_dim, num_labels, num_codes,
                       labels_into_discriminator)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.num_labels, self.num_codes = latent_dim, num_labels, num_codes
        self.labels_into_discriminator = labels_into_discriminator
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.trackers = {f"{network}_{name}": keras.metrics.Mean(name=f"{network}_{name}")
                         for network in ("d", "g") for name in self.logged}
        # Keras saves only built models, and fit never builds one that has no call(); the
        # networks it trains are built functional models, so it is complete as it is.
        self.built = True

    def compile(self, d_optimizer, g_optimizer, loss=keras.losses.binary_crossentropy, **kwargs):
        """d_optimizer, g_optimizer: one each (one shared optimizer cannot serve both);
        loss: D's loss on its real/fake output, a Keras loss object such as
        keras.losses.BinaryCrossentropy() or a function such as
        keras.losses.mean_squared_error (LSGAN); the step takes its mean over the batch.
        kwargs go to keras.Model.compile (jit_compile)."""
        super().compile(optimizer=None, **kwargs)  # no third optimizer: each network brings its own
        self.d_optimizer = loss_scaled(d_optimizer, self.dtype_policy)
        self.g_optimizer = loss_scaled(g_optimizer, self.dtype_policy)
        # A Loss object's call() gives each example's loss; calling the object itself would
        # also divide by the number of replicas, which optimizer_step does for every loss.
        self.loss_fn = loss.call if isinstance(loss, keras.losses.Loss) else loss
        # Built now so that a checkpoint restored before the first step finds their slots.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def networks(self):
        """The networks by name (generators first), for saving."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizer_steps(self):
        return {"discriminator": int(self.d_optimizer.iterations.numpy()),
                "generator": int(self.g_optimizer.iterations.numpy())}

    def random_inputs(self, batch_size):
        """G's random inputs [z, *conditions], drawn on the device: z ~ U(-1, 1), then
        random one-hot labels when num_labels > 0, then num_codes codes ~ N(0, 0.5)
        (InfoGAN). Every replica of a tf.distribute strategy draws its own (replica_seed)."""
        inputs = [tf.random.stateless_uniform((batch_size, self.latent_dim),
                                              replica_seed(self.noise_seed), -1.0, 1.0)]
        if self.num_labels:
            digits = tf.random.stateless_uniform((batch_size,), replica_seed(self.noise_seed),
                                                 0, self.num_labels, dtype="int32")
            inputs.append(tf.one_hot(digits, self.num_labels))
        inputs += [tf.random.stateless_normal((batch_size, 1), replica_seed(self.noise_seed),
                                              stddev=CODE_STDDEV) for _ in range(self.num_codes)]
        return inputs

    def train_step(self, data):
        """One D update, then one G update, on a batch of real images (section 4.2)."""
        real_images, real_labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if self.num_labels and real_labels is None:
            raise ValueError(f"this GAN has num_labels={self.num_labels}: train it on "
                             f"(images, one-hot labels)")
        batch_size = keras.ops.shape(real_images)[0]
        ones = keras.ops.ones((batch_size, 1))

        # 1. D learns to call real images real and fakes from new noise fake; only D moves.
        # G makes the fakes in training mode, as in the G update: the book's `predict` used
        # its batch normalization's moving statistics, which early in training give fakes
        # unlike those G learns from (only G's moving statistics change here, no weight).
        fake_inputs = self.random_inputs(batch_size)
        fake_images = self.generator(fake_inputs, training=True)
        images = keras.ops.concatenate([real_images, fake_images])
        conditions = [keras.ops.concatenate([real, fake]) for real, fake in
                      zip(self.real_conditions(real_labels, batch_size), fake_inputs[1:])]
        targets = keras.ops.concatenate([self.real_target * ones, self.fake_target * ones])
        d_logs = optimizer_step(self.d_optimizer, self.discriminator, lambda: self.score(
            targets, self.discriminate(images, conditions, training=True), conditions))

        # 2. G learns to make D call its fakes from new noise real; only G moves, D acts frozen.
        fake_inputs = self.random_inputs(batch_size)
        g_logs = optimizer_step(self.g_optimizer, self.generator, lambda: self.score(
            self.real_target * ones,
            self.discriminate(self.generator(fake_inputs, training=True), fake_inputs[1:]),
            fake_inputs[1:]))
        return self.record(d_logs, g_logs)

    def real_conditions(self, real_labels, batch_size):
        """What D reads beside the real images: their one-hot labels (conditional GANs)."""
        return [real_labels] if self.num_labels else []

    def discriminate(self, images, conditions, training=False):
        """D's outputs; a CGAN's D also reads the labels, the first condition."""
        return self.discriminator([images, conditions[0]] if self.labels_into_discriminator
                                  else images, training=training)

    def score(self, targets, outputs, conditions):
        """D's loss on a batch and the values to log: binary cross-entropy (or the loss
        given to `compile`) and the accuracy of the real/fake call."""
        loss = keras.ops.mean(self.loss_fn(targets, outputs))
        accuracy = keras.ops.mean(keras.metrics.binary_accuracy(targets, outputs))
        return loss, {"loss": loss, "acc": accuracy}

    def record(self, d_logs, g_logs):
        """Add a step's logs to the running means that `fit` shows, d_ and g_ prefixed."""
        for network, logs in (("d", d_logs), ("g", g_logs)):
            for name, value in logs.items():
                self.trackers[f"{network}_{name}"].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


def check_networks(generator, discriminator, latent_dim, num_labels, num_codes,
                   labels_into_discriminator):
    """ValueError unless G takes z (latent_dim), one-hot labels (num_labels, when > 0) and
    num_codes codes of size 1, in that order, and D takes an image, then the labels
    when labels_into_discriminator."""
    wanted = [latent_dim] + ([num_labels] if num_labels else []) + [1] * num_codes
    sizes = [tensor.shape[-1] for tensor in generator.inputs]
    if sizes != wanted:
        raise ValueError(
            f"the generator's inputs have sizes {sizes}, but this GAN was given latent_dim="
            f"{latent_dim}, num_labels={num_labels}, num_codes={num_codes}, which need {wanted} "
            f"(z, then one-hot labels, then codes): pass the values the generator was built with")
    if labels_into_discriminator and not num_labels:
        raise ValueError("labels_into_discriminator needs num_labels > 0")
    wanted = [num_labels] if labels_into_discriminator else []
    sizes = [tensor.shape[-1] for tensor in discriminator.inputs[1:]]
    if sizes != wanted:
        raise ValueError(
            f"the discriminator takes the image and inputs of sizes {sizes}, but this GAN was "
            f"given labels_into_discriminator={labels_into_discriminator}, num_labels={num_labels}, "
            f"which need {wanted}")


def optimizer_step(optimizer, network, loss_and_logs):
    """One step of `optimizer` on the loss of loss_and_logs() -> (loss, logs), moving only
    `network`'s trainable weights: the rule that makes every GAN here train on Keras 3.
    Returns the logs.

    The loss is the mean over this replica's examples. Under a tf.distribute strategy
    the optimizer sums the replicas' gradients, so the loss is divided by the number
    of replicas first: the sum is then the gradient of the mean over the whole batch.
    (A LossScaleOptimizer scales the loss too, and unscales the gradients as it
    applies them.)"""
    with tf.GradientTape() as tape:
        loss, logs = loss_and_logs()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        scaled_loss = optimizer.scale_loss(loss / replicas)
    gradients = tape.gradient(scaled_loss, network.trainable_variables)
    optimizer.apply_gradients(zip(gradients, network.trainable_variables))
    return logs


def replica_seed(seed_generator):
    """The next seed of a keras.random.SeedGenerator, different on every replica: under a
    tf.distribute strategy the generator's state is one mirrored variable, so draws
    from it would give every replica the same noise. For tf.random.stateless_*."""
    replica = tf.distribute.get_replica_context().replica_id_in_sync_group
    return tf.cast(seed_generator.next(), "int32") + tf.stack([replica, 0])


def loss_scaled(optimizer, dtype_policy):
    """The optimizer, wrapped in a LossScaleOptimizer under the mixed_float16 policy (as
    Keras' own compile does), so that small float16 gradients do not vanish."""
    if dtype_policy.name == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def wasserstein_loss(targets, outputs):
    """-y * D(x) per example, y = +1 for real, -1 for fake (section 5.1.2): minimising its
    mean raises the critic's score of real images and lowers that of fakes."""
    return -keras.ops.mean(targets * outputs, axis=-1)


class WGAN(GAN):
    """Wasserstein GAN (section 5.1, Algorithm 5.1.1): a linear critic trained
    `critic_updates` (n_critic = 5) times per generator update with the Wasserstein loss,
    its weights clipped to [-clip_value, clip_value] after each critic update.

    As in the book, a critic update is two optimizer steps, one on a real batch (+1)
    and one on fakes (-1), then the clip, done on the device inside the compiled step.
    Each batch of data holds critic_updates real batches, as images of shape
    (batch, critic_updates, height, width, channels): under a tf.distribute strategy
    each replica's share then holds its part of every critic update's batch.
    """

    logged = ("loss",)  # a critic has no accuracy: its scores are not probabilities
    fake_target = -1.0
    critic_updates = 5

    def __init__(self, generator, critic, clip_value=0.01, **kwargs):
        super().__init__(generator, critic, **kwargs)
        self.clip_value = clip_value

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(d_optimizer, g_optimizer, loss=wasserstein_loss, **kwargs)

    def score(self, targets, outputs, conditions):
        loss = keras.ops.mean(self.loss_fn(targets, outputs))
        return loss, {"loss": loss}

    def train_step(self, images):
        """Algorithm 5.1.1: n_critic critic updates, each on its own real batch and fakes
        from new noise, then one generator update; logs the critic updates' mean loss."""
        batch_size = keras.ops.shape(images)[0]
        ones = keras.ops.ones((batch_size, 1))
        critic_losses = []
        for update in range(self.critic_updates):
            fakes = self.generator(self.random_inputs(batch_size), training=True)
            for batch, target in ((images[:, update], self.real_target), (fakes, self.fake_target)):
                logs = optimizer_step(self.d_optimizer, self.discriminator, lambda: self.score(
                    target * ones, self.discriminator(batch, training=True), []))
                critic_losses.append(logs["loss"])
            self.clip_critic_weights()

        fake_inputs = self.random_inputs(batch_size)
        g_logs = optimizer_step(self.g_optimizer, self.generator, lambda: self.score(
            self.real_target * ones, self.discriminator(self.generator(fake_inputs, training=True)),
            []))
        return self.record({"loss": keras.ops.mean(keras.ops.stack(critic_losses))}, g_logs)

    def clip_critic_weights(self):
        """Keep the critic 1-Lipschitz (up to a constant) by clipping every weight."""
        for variable in self.discriminator.trainable_variables:
            variable.assign(keras.ops.clip(variable, -self.clip_value, self.clip_value))


class ACGAN(GAN):
    """Auxiliary classifier GAN (section 5.3): G draws the digit of a one-hot label; D has
    no label input but two heads, "source" (real or fake, binary cross-entropy) and
    "label" (which digit, categorical cross-entropy), and learns both on real images
    with their labels and fakes with the labels G was asked for. G is trained to make
    D call its fakes real and of the asked-for class. Each head's loss and accuracy
    is logged under its own name."""

    logged = ("loss", "source_loss", "label_loss", "source_acc", "label_acc")

    def score(self, targets, outputs, conditions):
        (source, label_probabilities), labels = outputs, conditions[0]
        source_loss = keras.ops.mean(self.loss_fn(targets, source))
        label_loss = keras.ops.mean(keras.losses.categorical_crossentropy(labels, label_probabilities))
        label_acc = keras.ops.mean(keras.metrics.categorical_accuracy(labels, label_probabilities))
        return source_loss + label_loss, {
            "loss": source_loss + label_loss, "source_loss": source_loss, "label_loss": label_loss,
            "source_acc": keras.ops.mean(keras.metrics.binary_accuracy(targets, source)),
            "label_acc": label_acc}


def mutual_information_loss(codes, predictions):
    """The book's InfoGAN code loss, -mean(sum(c * log(Q(c|x) + eps))) (section 6.1): the
    conditional-entropy part of the mutual information between a code c given to G and
    D's estimate Q of it from the image; minimising it makes the image carry the code."""
    log_predictions = keras.ops.log(predictions + keras.config.epsilon())
    return -keras.ops.mean(keras.ops.sum(codes * log_predictions, axis=-1))


class InfoGAN(ACGAN):
    """InfoGAN (section 6.1): an ACGAN whose G also takes continuous codes (c1, c2) and
    whose D also estimates them ("code_1", "code_2" heads), so that each code comes to
    control one attribute of the digit. D and G both minimise binary and categorical
    cross-entropy plus the mutual-information loss of each code, weights 1, 1, 0.5, 0.5.
    Codes are drawn from N(0, 0.5); real images get random codes too, as in the book."""

    logged = ("loss", "source_loss", "label_loss", "code_1_loss", "code_2_loss",
              "source_acc", "label_acc")
    code_weight = 0.5

    def real_conditions(self, real_labels, batch_size):
        """Real images come with their labels and, as the book gives them, random codes
        (those of a new draw of G's inputs)."""
        return [real_labels, *self.random_inputs(batch_size)[2:]]

    def score(self, targets, outputs, conditions):
        loss, logs = super().score(targets, outputs[:2], conditions[:1])
        for index, (code, prediction) in enumerate(zip(conditions[1:], outputs[2:]), start=1):
            code_loss = mutual_information_loss(code, prediction)
            logs[f"code_{index}_loss"] = code_loss
            loss = loss + self.code_weight * code_loss
        logs["loss"] = loss
        return loss, logs
