"""Saved generators for the scripts' generate modes (-g, -k, -t/-s): ours and the book's.

Two formats load:
- `.keras`, what our runs save (a zip archive);
- the book's pretrained files (`dcgan_mnist.h5`, `cgan_mnist.h5`, ...,
  `cyclegan_cifar10-g_target.h5`): whole models saved by tf.keras 2 in Keras 2's HDF5
  format, which Keras 3 reads with two adjustments made here. The book's CycleGAN
  (section 7.1) normalizes with tensorflow_addons' InstanceNormalization, which is
  Keras' GroupNormalization with one group per channel: the same config keys and
  weights (gamma, beta). A newer Keras 2 (tf_keras) writes constructor arguments that
  Keras 3's layers do not take: Conv2DTranspose's `groups` (always 1 there) is
  dropped, LeakyReLU's `alpha` is Keras 3's `negative_slope`.

Any other file ends in a UserError of one line saying what the file holds and what
the script needs.
"""
import json
import shutil
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import h5py
import keras

from lib import cli

# tensorflow_addons' layer, under the names the book's files give it.
KERAS2_CUSTOM_LAYERS = {"InstanceNormalization": keras.layers.GroupNormalization,
                        "Addons>InstanceNormalization": keras.layers.GroupNormalization}
KERAS2_ONLY_ARGUMENTS = {"Conv2DTranspose": {"groups"}}  # dropped
KERAS2_RENAMED_ARGUMENTS = {"LeakyReLU": {"alpha": "negative_slope"}}
MODEL_CLASSES = {"Model", "Functional", "Sequential"}


def load_generator(path, inputs, output, any_input_order=False):
    """The generator saved in `path` (.keras, or the book's Keras 2 .h5), as a model that
    takes its inputs (one tensor, or a list) and returns one tensor. `inputs`: the shape
    of each input the script feeds, in order; `output`: the shape it expects back;
    any_input_order: the inputs may come in another order (the script maps them by shape).
    Raises a UserError saying what the file holds when it is not such a generator."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        generator = load_model(path, path)
        kind = "a model"
    elif h5py.is_hdf5(path):
        generator = load_keras2_file(path)
        kind = "a Keras 2 model"
    else:
        raise cli.UserError(f"{path} is not a saved Keras model: neither a .keras file (a zip "
                            f"archive) nor a Keras 2 .h5 (HDF5); is it truncated, or another "
                            f"kind of file?")
    got_inputs = [tuple(tensor.shape[1:]) for tensor in generator.inputs]
    got_outputs = [tuple(tensor.shape[1:]) for tensor in generator.outputs]
    wanted_inputs = [tuple(shape) for shape in inputs]
    inputs_fit = (Counter(got_inputs) == Counter(wanted_inputs) if any_input_order
                  else got_inputs == wanted_inputs)
    if not inputs_fit or got_outputs != [tuple(output)]:
        raise cli.UserError(f"{path} holds {kind} named {generator.name!r} with "
                            f"{shapes_text('input', got_inputs)} and {shapes_text('output', got_outputs)}; "
                            f"this script needs a generator with {shapes_text('input', wanted_inputs)}"
                            f"{' (in any order)' if any_input_order else ''} and "
                            f"{shapes_text('output', [output])}")
    # Keras 2 models keep their outputs in a list even when there is one; ours take a
    # single input as a tensor. One form for both, so that callers need not care.
    return keras.Model(generator.inputs if len(generator.inputs) > 1 else generator.inputs[0],
                       generator.outputs[0], name=generator.name)


def shapes_text(noun, shapes):
    """("input", [(28, 28, 1), (10,)]) as "inputs 28x28x1 and 10"."""
    return (f"{noun}{'s' if len(shapes) > 1 else ''} "
            + " and ".join("x".join(str(size) for size in shape) for shape in shapes))


def load_model(file, path, custom_objects=None):
    """keras.models.load_model of `file` (`path`, or a copy of it), or a UserError naming
    `path`: a corrupt or foreign file, or weights that do not fit the config, fail in
    many ways."""
    try:
        return keras.models.load_model(file, custom_objects=custom_objects, compile=False)
    except Exception as error:
        raise cli.UserError(f"cannot load a generator from {path}: "
                            f"{str(error).splitlines()[0]}") from None


def load_keras2_file(path):
    """A whole model saved by Keras 2 in HDF5 (the book's files), or a UserError saying
    what the file holds instead: weights alone, no model, or a layer Keras 3 lacks."""
    with h5py.File(path, "r") as file:
        config = file.attrs.get("model_config")
        if config is None:
            if "layer_names" in file.attrs or "model_weights" in file or "layers" in file:
                raise cli.UserError(f"{path} holds only a network's weights (save_weights), not "
                                    f"the network; this script needs a whole saved generator "
                                    f"(model.save: a .keras file, or the book's .h5)")
            raise cli.UserError(f"{path} is an HDF5 file that holds no Keras model; this script "
                                f"needs a saved generator (a .keras file, or the book's .h5)")
    config = adapted_config(json.loads(config), path)
    with tempfile.TemporaryDirectory() as folder:  # Keras reads the config from the file itself
        copy = Path(folder) / "model.h5"
        shutil.copyfile(path, copy)
        with h5py.File(copy, "r+") as file:
            file.attrs["model_config"] = json.dumps(config)
        return load_model(copy, path, custom_objects=KERAS2_CUSTOM_LAYERS)


def adapted_config(config, path):
    """A Keras 2 model config as Keras 3 loads it (see the module's docstring); a
    UserError naming any layer that neither Keras 3 nor KERAS2_CUSTOM_LAYERS knows."""
    if isinstance(config, list):
        return [adapted_config(item, path) for item in config]
    if not isinstance(config, dict):
        return config
    class_name = config.get("class_name")
    if isinstance(config.get("config"), dict) and isinstance(class_name, str):
        known = (class_name in MODEL_CLASSES or class_name in KERAS2_CUSTOM_LAYERS
                 or hasattr(keras.layers, class_name))
        if "inbound_nodes" in config and not known:
            raise cli.UserError(f"{path} is a Keras 2 model with the layer {class_name!r}, which "
                                f"Keras 3 does not have; this script needs a generator of "
                                f"Keras' own layers (the book's files are)")
        arguments = {key: value for key, value in config["config"].items()
                     if key not in KERAS2_ONLY_ARGUMENTS.get(class_name, ())}
        for old, new in KERAS2_RENAMED_ARGUMENTS.get(class_name, {}).items():
            if old in arguments:
                arguments[new] = arguments.pop(old)
        config = {**config, "config": arguments}
    return {key: adapted_config(value, path) for key, value in config.items()}
