"""CycleGAN's networks and training step (book section 7.1).

Two generators translate between a source and a target domain, g_target: source ->
target and g_source: target -> source, each a U-Net; two discriminators, d_target and
d_source, tell each domain's real images from the translations into it. Per batch of
unpaired (source, target) images:

    1. D step: each discriminator scores its domain's real images 1 and the other
       generator's translations 0, with the least-squares (LSGAN) loss; only the
       discriminators move.
    2. G step: both generators together minimise the adversarial losses (their
       translations scored 1), the cycle-consistency losses (source -> target ->
       source gives the source back, and the other way, mean absolute error, weight
       10 each) and, when asked, the identity losses (weight 0.5 each); one loss,
       but each generator steps with its own optimizer; the discriminators do not move.

Each of the four networks has its own optimizer: the book's single adversarial
optimizer over both generators becomes two, which for RMSprop (per-weight
statistics) is the same update.

This file imports only Keras and TensorFlow: copy it alone into a project.
"""
import keras
import tensorflow as tf
from keras import layers

ENCODER = ((32, 1), (64, 2), (128, 2), (256, 2))  # U-Net encoder: filters, strides
DECODER = (128, 64, 32)  # transposed convolutions, stride 2, each joined to its encoder twin
DISCRIMINATOR = ((32, 2), (64, 2), (128, 2), (256, 1))
ADVERSARIAL_WEIGHT, CYCLE_WEIGHT, IDENTITY_WEIGHT = 1.0, 10.0, 0.5
NETWORKS = ("generator_target", "generator_source", "discriminator_target", "discriminator_source")
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # colour -> gray (ITU-R BT.601), as lib/data.py's to_gray


def instance_normalization():
    """Instance normalization with a learnt scale and offset per channel: group
    normalization with one group per channel (tensorflow-addons' layer is gone)."""
    return layers.GroupNormalization(groups=-1)


def build_generator(input_shape, output_channels, kernel_size=3, name="generator"):
    """U-Net (section 7.1): encoder layers instance normalization, LeakyReLU 0.2, Conv2D
    (32 stride 1, then 64, 128, 256 stride 2); decoder layers instance normalization,
    ReLU, Conv2DTranspose stride 2 (128, 64, 32), each concatenated with the encoder
    output of its size; Conv2DTranspose to output_channels, sigmoid.
    Kernel 3, gray <-> colour 32x32: 870,757 (1 -> 3 channels) / 870,183 (3 -> 1)
    parameters; kernel 5: 2,414,437 / 2,412,839."""
    inputs = keras.Input(shape=input_shape, name="image")
    x, skips = inputs, []
    for filters, strides in ENCODER:
        x = instance_normalization()(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
        x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same")(x)
        skips.append(x)
    for filters, skip in zip(DECODER, reversed(skips[:-1])):
        x = instance_normalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same")(x)
        x = layers.concatenate([x, skip])
    outputs = layers.Conv2DTranspose(output_channels, kernel_size, padding="same",
                                     activation="sigmoid", dtype="float32")(x)  # under any precision
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(input_shape, kernel_size=3, patchgan=True, name="discriminator"):
    """As the book's encoder layers, LeakyReLU 0.2 then Conv2D, for 32, 64, 128 (stride 2)
    and 256 (stride 1) filters, no normalization; then a linear score (LSGAN): PatchGAN,
    LeakyReLU and Conv2D 1 stride 2, one score per patch (2x2 of them for 32x32 images),
    or (`patchgan=False`) Flatten and Dense 1 straight after the last convolution.
    PatchGAN, kernel 3: 390,721 (3 channels) / 390,145 (1); kernel 5: 1,084,481 / 1,082,881."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for filters, strides in DISCRIMINATOR:
        x = layers.LeakyReLU(negative_slope=0.2)(x)
        x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same")(x)
    if patchgan:
        x = layers.LeakyReLU(negative_slope=0.2)(x)
        outputs = layers.Conv2D(1, kernel_size, strides=2, padding="same", name="patches",
                                dtype="float32")(x)  # scores in float32 under any precision
    else:
        outputs = layers.Dense(1, name="score", dtype="float32")(layers.Flatten()(x))
    return keras.Model(inputs, outputs, name=name)


def build_networks(source_shape, target_shape, kernel_size=3, patchgan=True):
    """The four networks, by the names of `NETWORKS`."""
    return {"generator_target": build_generator(source_shape, target_shape[-1], kernel_size,
                                                name="generator_target"),
            "generator_source": build_generator(target_shape, source_shape[-1], kernel_size,
                                                name="generator_source"),
            "discriminator_target": build_discriminator(target_shape, kernel_size, patchgan,
                                                        name="discriminator_target"),
            "discriminator_source": build_discriminator(source_shape, kernel_size, patchgan,
                                                        name="discriminator_source")}


def book_optimizers():
    """RMSprop per network, with the book's Keras-2 `decay` (lr / (1 + decay * step)) as
    InverseTimeDecay: the discriminators 2e-4, decay 6e-8, the generators 1e-4, decay 3e-8
    (the book's adversarial model)."""
    def rmsprop(rate, decay):
        return keras.optimizers.RMSprop(learning_rate=keras.optimizers.schedules.InverseTimeDecay(
            rate, decay_steps=1, decay_rate=decay))

    return {name: rmsprop(2e-4, 6e-8) if name.startswith("discriminator") else rmsprop(1e-4, 3e-8)
            for name in NETWORKS}


def as_channels(images, channels):
    """Images given to a network that takes `channels` channels: colour -> gray by
    luminance, gray -> colour by repeating it; unchanged when they already match.
    (The identity loss shows a generator images of its own output domain.)"""
    if images.shape[-1] == channels:
        return images
    if channels == 1:
        return keras.ops.sum(images * keras.ops.array(LUMA_WEIGHTS, images.dtype), axis=-1,
                             keepdims=True)
    return keras.ops.repeat(images, channels, axis=-1)


def least_squares(targets, scores):
    return keras.ops.mean(keras.ops.square(scores - targets))


def mean_absolute_error(images, references):
    return keras.ops.mean(keras.ops.abs(images - references))


class CycleGAN(keras.Model):
    """Both generators and both discriminators trained in turn per batch of unpaired
    (source images, target images); logs every loss term by name."""

    def __init__(self, networks, identity_loss=False, **kwargs):
        super().__init__(**kwargs)
        self.generator_target = networks["generator_target"]
        self.generator_source = networks["generator_source"]
        self.discriminator_target = networks["discriminator_target"]
        self.discriminator_source = networks["discriminator_source"]
        self.identity_loss = identity_loss
        names = ["d_target_loss", "d_source_loss", "g_loss", "g_target_adversarial_loss",
                 "g_source_adversarial_loss", "source_cycle_loss", "target_cycle_loss"]
        if identity_loss:
            names += ["source_identity_loss", "target_identity_loss"]
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        # Keras saves only built models, and fit never builds one that has no call(); the
        # networks it trains are built functional models, so it is complete as it is.
        self.built = True

    def compile(self, optimizers, **kwargs):
        """optimizers: one per name of `NETWORKS`; kwargs go to keras.Model.compile (jit_compile)."""
        super().compile(optimizer=None, **kwargs)  # no shared optimizer: each network brings its own
        self.network_optimizers = {name: loss_scaled(optimizer, self.dtype_policy)
                                   for name, optimizer in optimizers.items()}
        for name, optimizer in self.network_optimizers.items():  # slots exist before a restore
            optimizer.build(self.networks()[name].trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def networks(self):
        """The four networks by name (generators first), for saving."""
        return {name: getattr(self, name) for name in NETWORKS}

    def optimizer_steps(self):
        return {name: int(optimizer.iterations.numpy()) for name, optimizer in self.network_optimizers.items()}

    def train_step(self, data):
        """One update of both discriminators, then of both generators, on a batch of
        unpaired (source images, target images) (section 7.1)."""
        real_source, real_target = data

        # 1. Each D: its domain's real images 1, translations into it 0. The two losses
        # share no weights, so one step on their sum is each one's own step.
        fake_target = self.generator_target(real_source, training=True)
        fake_source = self.generator_source(real_target, training=True)

        def discriminator_losses():
            logs = {"d_target_loss": discriminator_loss(self.discriminator_target, real_target,
                                                        fake_target),
                    "d_source_loss": discriminator_loss(self.discriminator_source, real_source,
                                                        fake_source)}
            return logs["d_target_loss"] + logs["d_source_loss"], logs

        logs = joint_optimizer_step(self.optimizers_of("discriminator_target", "discriminator_source"),
                                    discriminator_losses)

        # 2. Both generators on one loss, each moved by its own optimizer: their Ds call the
        # translations real, and each image translated there and back comes back (cycle).
        def generator_losses():
            fake_target = self.generator_target(real_source, training=True)
            fake_source = self.generator_source(real_target, training=True)
            terms = {
                "g_target_adversarial_loss": least_squares(
                    1.0, self.discriminator_target(fake_target, training=False)),
                "g_source_adversarial_loss": least_squares(
                    1.0, self.discriminator_source(fake_source, training=False)),
                "source_cycle_loss": mean_absolute_error(
                    self.generator_source(fake_target, training=True), real_source),
                "target_cycle_loss": mean_absolute_error(
                    self.generator_target(fake_source, training=True), real_target),
            }
            loss = (ADVERSARIAL_WEIGHT * (terms["g_target_adversarial_loss"]
                                          + terms["g_source_adversarial_loss"])
                    + CYCLE_WEIGHT * (terms["source_cycle_loss"] + terms["target_cycle_loss"]))
            if self.identity_loss:  # each generator leaves images of its own output domain as they are
                terms["source_identity_loss"] = mean_absolute_error(self.generator_source(
                    as_channels(real_source, real_target.shape[-1]), training=True), real_source)
                terms["target_identity_loss"] = mean_absolute_error(self.generator_target(
                    as_channels(real_target, real_source.shape[-1]), training=True), real_target)
                loss += IDENTITY_WEIGHT * (terms["source_identity_loss"] + terms["target_identity_loss"])
            return loss, {**terms, "g_loss": loss}

        logs |= joint_optimizer_step(self.optimizers_of("generator_target", "generator_source"),
                                     generator_losses)
        for name, value in logs.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def optimizers_of(self, *names):
        """[(optimizer, network)] of the networks named."""
        return [(self.network_optimizers[name], getattr(self, name)) for name in names]


def discriminator_loss(discriminator, real, fake):
    """The mean of the real and the fake half's squared errors, as one batch of both."""
    return (least_squares(1.0, discriminator(real, training=True))
            + least_squares(0.0, discriminator(fake, training=True))) / 2


def joint_optimizer_step(optimizers_and_networks, loss_and_logs):
    """One loss, one step of each network's own optimizer on that network's weights;
    nothing else moves. loss_and_logs() -> (loss, logs); returns the logs.

    The loss is the mean over this replica's examples. Under a tf.distribute strategy
    the optimizers sum the replicas' gradients, so it is divided by the number of
    replicas first: the sum is then the gradient of the mean over the whole batch.

    Under mixed_float16 each optimizer is a LossScaleOptimizer with a loss scale of its
    own: the loss is scaled by the first one's, and each other network's gradients are
    brought to its own optimizer's scale, which unscales them as it applies them."""
    (first_optimizer, _), *_ = optimizers_and_networks
    variables = [network.trainable_variables for _, network in optimizers_and_networks]
    with tf.GradientTape() as tape:
        loss, logs = loss_and_logs()
        # The loss is this replica's mean; the optimizers sum the replicas' gradients.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        scaled_loss = first_optimizer.scale_loss(loss / replicas)
    gradients = tape.gradient(scaled_loss, variables)
    for (optimizer, _), network_variables, network_gradients in zip(
            optimizers_and_networks, variables, gradients):
        if optimizer is not first_optimizer and isinstance(
                optimizer, keras.optimizers.LossScaleOptimizer):
            rescale = optimizer.scale_loss(1.0) / first_optimizer.scale_loss(1.0)
            network_gradients = [gradient * rescale for gradient in network_gradients]
        optimizer.apply_gradients(zip(network_gradients, network_variables))
    return logs


def loss_scaled(optimizer, dtype_policy):
    """The optimizer, wrapped in a LossScaleOptimizer under the mixed_float16 policy (as
    Keras' own compile does), so that small float16 gradients do not vanish."""
    if dtype_policy.name == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
