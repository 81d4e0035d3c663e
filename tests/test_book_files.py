"""The book's pretrained generators (Keras 2 whole-model .h5 files) through our scripts.

tests/book_models_keras2.py builds the book's networks with tf_keras (Keras 2, run in
its own process with TF_USE_LEGACY_KERAS=1), saves them as the book did
(`model.save("x.h5")`) and computes their outputs on the inputs our scripts feed.
Each script given such a file must make exactly those images; a wrong file must end
in one line saying what it holds.
"""
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from chapter4_gan import cgan_mnist, dcgan_mnist
from chapter5_wgan_lsgan import acgan_mnist, lsgan_mnist, wgan_mnist
from chapter6_infogan_stackedgan import infogan_mnist, stackedgan_mnist
from chapter7_cyclegan import cyclegan as cyclegan_script
from lib import cyclegan_runs, data, gan_runs, plots, saved_models
from tests.conftest import one_line, tiny_mnist, tiny_svhn

pytestmark = pytest.mark.slow  # one Keras 2 process builds all the files (about 30 s)

MAKER = Path(__file__).with_name("book_models_keras2.py")
INFOGAN_CODES = ["-a", "1.5", "-b", "-0.5"]  # codes of 0 would leave their weights untested
# The -g scripts, by the book's file for each, and what each feeds its generator.
GENERATE_SCRIPTS = {"dcgan_mnist": dcgan_mnist, "lsgan_mnist": lsgan_mnist,
                    "wgan_mnist": wgan_mnist, "cgan_mnist": cgan_mnist, "acgan_mnist": acgan_mnist,
                    "infogan_mnist": infogan_mnist}


def script_inputs():
    """{file stem: the inputs our script feeds that file's generator, in the book model's
    input order}; StackedGAN's chain as "stackedgan_chain" (labels, z1, z0)."""
    noise, _ = gan_runs.fixed_inputs(0)
    conditional, _ = gan_runs.fixed_inputs(0, 10)
    infogan, _ = gan_runs.fixed_inputs(0, 10, latent_dim=infogan_mnist.LATENT_DIM)
    infogan += infogan_mnist.codes_for(gan_runs.SAMPLES, 1.5, -0.5)
    stacked, _ = stackedgan_mnist.grid_inputs(stackedgan_mnist.make_parser().parse_args([]))
    inputs = {"dcgan_mnist": [noise], "lsgan_mnist": [noise], "wgan_mnist": [noise],
              "cgan_mnist": conditional, "acgan_mnist": conditional, "infogan_mnist": infogan,
              "stackedgan_chain": stacked}
    for task, (source, target) in cyclegan_domains().items():
        inputs[f"cyclegan_{task}-g_target"] = [source.test]
        inputs[f"cyclegan_{task}-g_source"] = [target.test]
    return {stem: [keras.ops.convert_to_numpy(value) for value in values]
            for stem, values in inputs.items()}


def cyclegan_data(task):
    """Small data for a CycleGAN task, as data.provide takes it: 8 test images per domain."""
    if task == "cifar10":
        crops = data.load("sample_crops")
        return {"cifar10": ((crops.x_train[:16], crops.y_train[:16]),
                            (crops.x_test[:8], crops.y_test[:8]))}
    return {"mnist": tiny_mnist(), "svhn": tiny_svhn()}


def provided(arrays):
    """data.provide for every dataset in `arrays` at once."""
    stack = contextlib.ExitStack()
    for name, values in arrays.items():
        stack.enter_context(data.provide(name, values))
    return stack


def cyclegan_domains():
    """{task: (source, target)}: the Domains cyclegan.py loads from cyclegan_data."""
    domains = {}
    for task in ("cifar10", "mnist_svhn"):
        with provided(cyclegan_data(task)):
            domains[task] = cyclegan_runs.load_domains(task)
    return domains


@pytest.fixture(scope="session")
def book_files(tmp_path_factory):
    """The folder of the book-format files, with outputs.npz: each file's outputs on
    `script_inputs()`."""
    folder = tmp_path_factory.mktemp("book_files")
    np.savez(folder / "inputs.npz", **{f"{stem}/{index}": value
                                       for stem, values in script_inputs().items()
                                       for index, value in enumerate(values)})
    environment = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.run([sys.executable, str(MAKER), str(folder)], capture_output=True,
                             text=True, env=environment, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    return folder


def outputs_of(folder, stem):
    with np.load(folder / "outputs.npz") as outputs:
        return outputs[stem]


def record_images(monkeypatch):
    """Every image array the scripts hand to plots.image_grid, in order."""
    recorded = []
    original = plots.image_grid

    def recording(images, *args, **kwargs):
        recorded.append(np.asarray(images))
        return original(images, *args, **kwargs)

    monkeypatch.setattr(plots, "image_grid", recording)
    return recorded


@pytest.mark.parametrize("stem", list(GENERATE_SCRIPTS))
def test_a_book_generator_through_our_script_makes_the_book_models_images(
        stem, book_files, tmp_path, monkeypatch):
    recorded = record_images(monkeypatch)
    flags = INFOGAN_CODES if stem == "infogan_mnist" else []
    result = GENERATE_SCRIPTS[stem].main(["-g", str(book_files / f"{stem}.h5"), *flags,
                                          "--out-dir", str(tmp_path)])
    assert result["generated"] == 16 and (tmp_path / "generated.png").stat().st_size > 0
    assert recorded[0].shape == (16, 28, 28, 1)
    np.testing.assert_allclose(recorded[0], outputs_of(book_files, stem), atol=1e-5)


def test_the_books_stackedgan_pair_chains_in_the_books_input_order(book_files, tmp_path,
                                                                  monkeypatch):
    """The book's gen0 takes [feature1, z0], ours [z0, feature1]: both chain right."""
    assert [tensor.shape[-1] for tensor in saved_models.load_generator(
        book_files / "stackedgan_mnist-gen0.h5", [(50,), (256,)], (28, 28, 1),
        any_input_order=True).inputs] == [256, 50]
    recorded = record_images(monkeypatch)
    stackedgan_mnist.main(["-g", str(book_files / "stackedgan_mnist-gen0.h5"),
                           "-k", str(book_files / "stackedgan_mnist-gen1.h5"),
                           "--out-dir", str(tmp_path)])
    np.testing.assert_allclose(recorded[0], outputs_of(book_files, "stackedgan_chain"), atol=1e-5)


@pytest.mark.parametrize("task, flag", [("cifar10", "-c"), ("mnist_svhn", "-m")])
def test_the_books_cyclegan_generators_through_our_script_translate_as_the_book_models(
        task, flag, book_files, tmp_path, monkeypatch):
    """Both of the book's long flags, each domain translated as the tf_keras model does."""
    translations = []
    original = cyclegan_runs.translate

    def recording(*args, **kwargs):
        translations.append(original(*args, **kwargs))
        return translations[-1]

    monkeypatch.setattr(cyclegan_runs, "translate", recording)
    with provided(cyclegan_data(task)):
        cyclegan_script.main([flag, f"--{task}_g_target", str(book_files / f"cyclegan_{task}-g_target.h5"),
                              f"--{task}_g_source", str(book_files / f"cyclegan_{task}-g_source.h5"),
                              "--eval-samples", "0", "--out-dir", str(tmp_path)])
    assert (tmp_path / "translated.png").stat().st_size > 0
    for direction, domain in (("target_from_source", "g_target"), ("source_from_target", "g_source")):
        np.testing.assert_allclose(translations[0][direction],
                                   outputs_of(book_files, f"cyclegan_{task}-{domain}"), atol=1e-5)


def test_eval_only_measures_a_book_file_as_it_measures_ours(book_files, tmp_path):
    """The book's CGAN file and the same network saved by Keras 3 as .keras get the
    same numbers: label accuracy, score and Frechet distance."""
    book_file = book_files / "cgan_mnist.h5"
    ours = tmp_path / "cgan.keras"
    saved_models.load_generator(book_file, [(100,), (10,)], (28, 28, 1)).save(ours)
    flags = ["--eval-only", "--dataset", "mnist_subset", "--eval-samples", "100"]
    book = cgan_mnist.main(["-g", str(book_file), *flags, "--out-dir", str(tmp_path / "book")])
    mine = cgan_mnist.main(["-g", str(ours), *flags, "--out-dir", str(tmp_path / "ours")])
    assert {"label_accuracy", "classifier_score", "frechet_distance"} <= set(book["quality"])
    for name in ("label_accuracy", "classifier_score", "frechet_distance"):
        assert book["quality"][name] == pytest.approx(mine["quality"][name], rel=1e-5), name
    assert json.loads((tmp_path / "book" / "quality.json").read_text())["generator"] == [str(book_file)]


def as_keras_2_2_4(path, copy):
    """The book's own files were written by tf.keras 2.2.4: "Model" not "Functional",
    tensorflow_addons' layer as plain "InstanceNormalization", no Conv2DTranspose
    `groups`, no `module`/`registered_name` keys. A copy of a tf_keras file rewritten so."""
    def older(value):
        if isinstance(value, list):
            return [older(item) for item in value]
        if not isinstance(value, dict):
            return value
        value = {key: older(item) for key, item in value.items()
                 if key not in ("module", "registered_name")}
        renamed = {"Functional": "Model", "Addons>InstanceNormalization": "InstanceNormalization"}
        if "class_name" in value:
            value["class_name"] = renamed.get(value["class_name"], value["class_name"])
        if value.get("class_name") == "Conv2DTranspose":
            value["config"].pop("groups")
        return value

    copy.write_bytes(path.read_bytes())
    with h5py.File(copy, "r+") as file:
        file.attrs["model_config"] = json.dumps(older(json.loads(file.attrs["model_config"])))
        file.attrs["keras_version"] = "2.2.4-tf"
    return copy


def test_the_books_older_file_form_loads_too(book_files, tmp_path):
    book_file = book_files / "cyclegan_cifar10-g_target.h5"
    old_form = as_keras_2_2_4(book_file, tmp_path / "old.h5")
    assert '"InstanceNormalization"' in h5py.File(old_form).attrs["model_config"]
    with np.load(book_files / "inputs.npz") as inputs:
        images = inputs["cyclegan_cifar10-g_target/0"]
    generator = saved_models.load_generator(old_form, [(32, 32, 1)], (32, 32, 3))
    np.testing.assert_allclose(generator.predict(images, verbose=0),
                               outputs_of(book_files, "cyclegan_cifar10-g_target"), atol=1e-5)


@pytest.mark.parametrize("script, flags, file, complaint", [
    (dcgan_mnist, ["-g"], "dcgan_mnist-discriminator.h5",
     "holds a Keras 2 model named 'discriminator' with input 28x28x1 and output 1; this script "
     "needs a generator with input 100 and output 28x28x1"),
    (cgan_mnist, ["-g"], "dcgan_mnist.h5", "with input 100 and output 28x28x1; this script needs "
                                           "a generator with inputs 100 and 10"),
    (infogan_mnist, ["-g"], "cyclegan_cifar10-g_target.h5", "with input 32x32x1 and output 32x32x3"),
    (dcgan_mnist, ["-g"], "weights_only.h5", "holds only a network's weights (save_weights)"),
    (lsgan_mnist, ["-g"], "no_model.h5", "is an HDF5 file that holds no Keras model"),
    (wgan_mnist, ["-g"], "custom_layer.h5", "is a Keras 2 model with the layer 'Mystery>"),
    (stackedgan_mnist, ["-k", "{book_files}/stackedgan_mnist-gen1.h5", "-g"],
     "stackedgan_mnist-gen1.h5", "with inputs 10 and 50 and output 256; this script needs a "
                                 "generator with inputs 50 and 256 (in any order)"),
])
def test_a_wrong_file_ends_in_one_line_saying_what_it_holds(script, flags, file, complaint,
                                                            book_files, tmp_path, capsys):
    flags = [flag.format(book_files=book_files) for flag in flags]
    with pytest.raises(SystemExit) as raised:
        script.main([*flags, str(book_files / file), "--out-dir", str(tmp_path)])
    assert raised.value.code == 2 and complaint in one_line(capsys.readouterr().err)
    assert not list(tmp_path.rglob("*.png"))  # nothing generated


def test_cyclegan_checks_its_generators_before_loading_data(book_files, tmp_path, capsys):
    """SVHN cannot be had offline: a wrong generator is reported, not the missing data."""
    with data.provide("svhn", None), pytest.raises(SystemExit) as raised:
        cyclegan_script.main(["-m", "-t", str(book_files / "cyclegan_mnist_svhn-g_source.h5"),
                              "-s", str(book_files / "cyclegan_mnist_svhn-g_target.h5"),
                              "--out-dir", str(tmp_path)])
    assert raised.value.code == 2
    assert "with input 32x32x3 and output 32x32x1; this script needs a generator with input " \
           "32x32x1 and output 32x32x3" in one_line(capsys.readouterr().err)
