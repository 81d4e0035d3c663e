"""Images in TensorBoard's Images tab, beside the numbers Keras' TensorBoard callback logs
(--tensorboard): an autoencoder's decodings (`TensorBoardImages`) and a GAN's sample
grids (`TensorBoardFrames`)."""
import keras
import tensorflow as tf


class TensorBoardImageLog(keras.callbacks.Callback):
    """A callback that writes images to TensorBoard logs in log_dir (its Images tab)."""

    def __init__(self, log_dir):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir))

    def log(self, images_by_name, step):
        """Each batch of images (N, H, W, C) under its name, at this step."""
        with self.writer.as_default():
            for name, images in images_by_name.items():
                tf.summary.image(name, images, step=step, max_outputs=len(images))
        self.writer.flush()


class TensorBoardImages(TensorBoardImageLog):
    """At the end of every epoch, the model's image outputs (rank 4: an autoencoder's
    decodings, each output by its name) for the same few inputs, and those inputs (at
    step 0, when they are images)."""

    def __init__(self, inputs, log_dir):
        super().__init__(log_dir)
        self.inputs = inputs

    def on_train_begin(self, logs=None):
        if len(self.inputs.shape) == 4:
            self.log({"inputs": self.inputs}, step=0)

    def on_epoch_end(self, epoch, logs=None):
        outputs = self.model(self.inputs, training=False)
        outputs = outputs if isinstance(outputs, dict) else {"outputs": outputs}
        self.log({name: images for name, images in outputs.items() if len(images.shape) == 4},
                 step=epoch + 1)


class TensorBoardFrames(TensorBoardImageLog):
    """At the end of every Keras epoch (a GAN's save interval), the frame a sample grid
    has just written, folder/step_NNNNNN.png, as the "samples" image of that step."""

    def __init__(self, folder, log_dir, steps_per_epoch):
        super().__init__(log_dir)
        self.folder, self.steps_per_epoch = folder, steps_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.steps_per_epoch
        frame = self.folder / f"step_{step:06d}.png"
        if frame.is_file():
            self.log({"samples": tf.io.decode_png(tf.io.read_file(str(frame)))[None]}, step)
