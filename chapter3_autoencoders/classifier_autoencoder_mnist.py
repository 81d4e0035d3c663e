"""One encoder, two heads: an autoencoder that also classifies MNIST digits (book section 3.3).

The encoder's 16-number latent vector feeds both a decoder, which rebuilds the
image, and a classifier (Dense 512, 256, 10 with Dropout 0.4), trained together
on the sum of the reconstruction MSE and the classification cross-entropy: Adam,
2 epochs, batch 128. Unlike the plain autoencoder's strided convolutions, each
encoder block is BN-ReLU-Conv2D (stride 1)-MaxPooling2D and each decoder block
BN-ReLU-Conv2DTranspose-UpSampling2D (filters 32, 64; 69,140 and 109,505
parameters; the classifier head 142,602), as in the book's
classifier-autoencoder-mnist-3.3.1.py.

Run:   python3 chapter3_autoencoders/classifier_autoencoder_mnist.py
Expect: a test accuracy near the chapter 1 CNN's, with reconstructions as good as
the plain autoencoder's; classified.png shows digits, reconstructions and labels.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: make lib/ importable
from lib import startup
startup.quiet_start()  # before TensorFlow loads: its start-up notices held back

import keras
import numpy as np
from keras import layers

from lib import autoencoders, cli, data, plots, resume, training


def build_classifier(latent_dim=16, units=(512, 256), dropout=0.4, num_labels=10):
    """Latent vector -> label probabilities: Dense-Dropout twice, then softmax."""
    classifier_layers = [keras.Input(shape=(latent_dim,))]
    for count in units:
        classifier_layers += [layers.Dense(count, activation="relu"), layers.Dropout(dropout)]
    classifier_layers.append(layers.Dense(num_labels, activation="softmax", dtype="float32"))
    return keras.Sequential(classifier_layers, name="classifier")


def build_classifier_autoencoder(encoder, decoder, classifier):
    """image -> (reconstruction, label probabilities), both from the same latent vector."""
    latent = encoder(encoder.inputs[0])
    return keras.Model(encoder.inputs, {"decoder": decoder(latent), "classifier": classifier(latent)},
                       name="classifier_autoencoder")


def make_parser():
    return cli.make_parser(__file__, __doc__.splitlines()[0], datasets=data.MNIST_LIKE,
                           epochs=2, batch_size=128)


@cli.reports_user_errors
def main(argv=None):
    args = cli.parse_args(make_parser(), argv)
    state = resume.prepare(args, __file__)  # a --resume that cannot go on stops here

    # Data: each image's targets are the image itself and its one-hot label.
    dataset = data.load(args.dataset, limit=args.limit)
    data.check_batch_size(dataset, args.batch_size)  # before any work: a batch the data can fill
    x_train, x_test = data.prepare(dataset.x_train, "cnn"), data.prepare(dataset.x_test, "cnn")
    y_train = keras.utils.to_categorical(dataset.y_train, dataset.num_classes)
    y_test = keras.utils.to_categorical(dataset.y_test, dataset.num_classes)
    train_batches = data.EpochBatches(x_train, {"decoder": x_train, "classifier": y_train},
                                      args.batch_size, args.seed)
    test_batches = data.batches(x_test, {"decoder": x_test, "classifier": y_test}, args.batch_size)

    # Model, built where the run trains (one device, or every replica under --distribute).
    with cli.device_strategy(args).scope():
        encoder = autoencoders.build_encoder(x_train.shape[1:], 16, blocks="pooled")
        decoder = autoencoders.build_decoder(x_train.shape[1:], 16, blocks="pooled")
        classifier = build_classifier(num_labels=dataset.num_classes)
        model = build_classifier_autoencoder(encoder, decoder, classifier)
        model.compile(loss={"decoder": "mse", "classifier": "categorical_crossentropy"},
                      metrics={"classifier": ["accuracy"]}, optimizer="adam",
                      jit_compile=args.jit_compile)
    training.describe_models(args, encoder, decoder, classifier, model)

    # Train: one loss per head, summed.
    callbacks = training.fit(model, args, train_batches, test_batches, state)

    # Results
    scores = model.evaluate(test_batches, verbose=0, return_dict=True)
    accuracy, test_mse = scores["classifier_accuracy"], scores["decoder_loss"]
    print(f"\nTest accuracy: {100.0 * accuracy:.1f}%, test reconstruction MSE: {test_mse:.4f}")
    outputs = model.predict(x_test[:10], verbose=0)
    predicted = np.argmax(outputs["classifier"], axis=1)
    plots.image_grid(np.concatenate([x_test[:10], outputs["decoder"]]),
                     args.out_dir / "classified.png", columns=10,
                     titles=[f"label {label}" for label in dataset.y_test[:10]]
                     + [f"predicted {label}" for label in predicted],
                     row_labels=["input", "reconstructed"])
    weights = {"classifier_autoencoder_mnist.weights.h5": model}
    return training.save_results(args.out_dir, weights, {
        "dataset": dataset.name,
        "train_examples": len(x_train),
        "params": {part.name: part.count_params() for part in (encoder, decoder, classifier, model)},
        "test_accuracy": accuracy,
        "test_mse": test_mse,
    }, callbacks)


if __name__ == "__main__":
    main()
