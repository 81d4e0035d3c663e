"""Issue 25's kinds of silently wrong input, each refused in one line or told in one line:
flags the chosen mode does not use and flags that contradict each other (exit 2 naming
them, or a notice for a harmless one), a batch the training set cannot fill (exit 2 before
any model is built) and a --limit below the batch size (a notice), a wrong saved
generator's shapes in its error, whole-sentence --help descriptions, and no Keras warning
under --precision mixed_float16 on a CPU."""
import ast
import importlib
import warnings

import keras
import pytest
import tensorflow as tf

from chapter1_mlp_cnn_rnn import cnn_mnist
from chapter3_autoencoders import denoising_autoencoder_mnist
from chapter4_gan import cgan_mnist, dcgan_mnist
from chapter5_wgan_lsgan import acgan_mnist, wgan_mnist
from chapter6_infogan_stackedgan import infogan_mnist, stackedgan_mnist
from chapter7_cyclegan import cyclegan
from lib import cli, data, gan, outputs, stackedgan, training
from tests.conftest import one_line, tiny_mnist
from tests.test_flags import SCRIPTS


def refusal(main, argv, capsys):
    """The one line a run of main(argv) ends with (exit status 2)."""
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    return one_line(capsys.readouterr().err)


# Flags the chosen mode does not use, and flags that contradict each other


@pytest.mark.parametrize("main, argv, mode, refused", [
    (acgan_mnist.main, ["-g", "G", "--batch-size", "32", "--limit", "10"], "-g/--generator",
     ["--batch-size", "--limit"]),
    # given with its default value: still a training flag given to a mode that does not train
    (dcgan_mnist.main, ["-g", "G", "--train-steps", "40000"], "-g/--generator", ["--train-steps"]),
    (dcgan_mnist.main, ["-g", "G", "--eval-samples", "100"], "-g/--generator", ["--eval-samples"]),
    (infogan_mnist.main, ["--eval-only", "-g", "G", "-a", "1", "--p2"], "--eval-only",
     ["-a/--code1", "--p2"]),
    (cgan_mnist.main, ["--eval-only", "-d", "3", "--deterministic"], "--eval-only",
     ["-d/--digit", "--deterministic"]),
    (stackedgan_mnist.main, ["-g", "G", "-k", "G", "--encoder-epochs", "3"], "-g/--generator0",
     ["--encoder-epochs"]),
    (cyclegan.main, ["-t", "G", "-s", "G", "--identity-loss", "--no-patchgan"], "-t/--g-target",
     ["--identity-loss", "--patchgan/--no-patchgan"]),
])
def test_a_mode_that_does_not_train_refuses_the_training_flags_given(main, argv, mode, refused,
                                                                    tmp_path, capsys):
    (tmp_path / "G").write_text("")
    argv = [str(tmp_path / value) if value == "G" else value for value in argv]
    line = refusal(main, [*argv, "--out-dir", str(tmp_path / "out")], capsys)
    assert line.split(": error: ")[1].startswith(mode), line
    named = line.split(": ")[-1]
    assert sorted(flag for flag in named.replace(",", " ").split() if flag.startswith("-")) == sorted(
        refused), line
    assert not (tmp_path / "out").exists()  # refused while parsing, before any work


def test_a_harmless_flag_a_mode_does_not_use_is_ignored_with_one_line_saying_why(tmp_path,
                                                                                   capsys):
    not_a_model = tmp_path / "G.keras"
    not_a_model.write_text("")
    with pytest.raises(SystemExit):
        dcgan_mnist.main(["-g", str(not_a_model), "--jit-compile", "--dataset", "fashion_mnist",
                          "--out-dir", str(tmp_path / "out")])
    printed = capsys.readouterr()
    assert "not a saved Keras model" in one_line(printed.err)  # it went on, past the flags
    notices = [line for line in printed.out.splitlines() if "ignored" in line]
    assert sorted(notice.split(" is ignored: ")[0] for notice in notices) == ["--dataset",
                                                                             "--jit-compile"]
    assert all("-g/--generator only generates" in notice for notice in notices)


@pytest.mark.parametrize("argv, complaint", [
    (["-m", "-c"], "-c chooses --dataset cifar10, but -m chose mnist_svhn"),
    (["-c", "--dataset", "mnist_svhn"], "-c chooses --dataset cifar10, but --dataset is mnist_svhn"),
    (["--dataset", "mnist_svhn", "-c"], "-c chooses --dataset cifar10, but --dataset is mnist_svhn"),
    (["-m", "--cifar10_g_target", "G"], "--cifar10_g_target is a generator of --dataset cifar10, "
                                        "not of mnist_svhn (-m chose mnist_svhn)"),
])
def test_cyclegan_refuses_flags_of_two_tasks(argv, complaint, tmp_path, capsys):
    (tmp_path / "G").write_text("")
    argv = [str(tmp_path / value) if value == "G" else value for value in argv]
    line = refusal(cyclegan.main, [*argv, "--out-dir", str(tmp_path / "out")], capsys)
    assert complaint in line, line


@pytest.mark.parametrize("argv, dataset", [
    (["-c", "--dataset", "sample_crops", "-c"], "sample_crops"),  # an offline cifar10
    (["--dataset", "sample_crops", "-c"], "sample_crops"),
    (["-c"], "cifar10"),
    (["--cifar10_g_target", "G"], "cifar10"),
    (["--dataset", "mnist_svhn", "-m"], "mnist_svhn"),
    ([], "mnist_svhn"),  # the default, no book's flag
])
def test_flags_of_one_task_agree(argv, dataset, tmp_path):
    (tmp_path / "G").write_text("")
    argv = [str(tmp_path / value) if value == "G" else value for value in argv]
    parser = cyclegan.make_parser()
    args = parser.parse_args(argv)
    cyclegan.one_task(args, parser.given_flags(argv))
    assert args.dataset == dataset


def test_given_flags_counts_a_flag_given_with_its_default_value():
    parser = cli.make_parser("x.py", "X.", datasets=("mnist",), batch_size=64)
    assert parser.given_flags(["--batch-size", "64", "--seed=0"]) == {"batch_size", "seed"}
    assert parser.given_flags([]) == set()


# Sizes that cannot work


@pytest.fixture
def tiny_digits():
    with data.provide("mnist", tiny_mnist()):  # 32 training digits
        yield


@pytest.mark.parametrize("main, argv", [
    (cnn_mnist.main, ["--limit", "10", "--batch-size", "50", "--epochs", "1"]),  # a classifier
    (wgan_mnist.main, ["--batch-size", "33", "--eval-samples", "0"]),  # a GAN (5 batches a step)
    (denoising_autoencoder_mnist.main, ["--batch-size", "40", "--epochs", "1"]),  # an autoencoder
])
def test_a_batch_larger_than_the_training_set_is_refused_before_any_model(main, argv, tiny_digits,
                                                                         tmp_path, capsys):
    out = tmp_path / "out"
    line = refusal(main, [*argv, "--out-dir", str(out)], capsys)
    batch = argv[argv.index("--batch-size") + 1]
    assert f"--batch-size {batch} is larger than the 32 training images of mnist" in line, line
    assert sorted(path.name for path in out.iterdir()) == [".lock"]  # nothing built or written


def test_cyclegan_refuses_a_batch_larger_than_either_domain(tmp_path, capsys):
    line = refusal(cyclegan.main, ["--dataset", "sample_crops", "--batch-size", "401",
                                   "--eval-samples", "0", "--out-dir", str(tmp_path)], capsys)
    assert "--batch-size 401 is larger than the 400 training images of sample_crops" in line


def test_a_limit_smaller_than_the_batch_size_gets_one_line_of_notice(tiny_digits, tmp_path, capsys):
    cnn_mnist.main(["--limit", "4", "--batch-size", "8", "--epochs", "1", "--out-dir",
                    str(tmp_path)])
    notices = [line for line in capsys.readouterr().out.splitlines() if "--limit" in line]
    assert notices == ["--limit 4 is smaller than --batch-size 8: every batch holds the same 4 "
                       "training images"]


def test_activation_values_count_every_layers_output_for_one_example():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(6), keras.layers.Dense(2)])
    images = keras.Input((4, 4, 1))
    features = keras.layers.Flatten()(keras.layers.Conv2D(5, 3, padding="same")(images))
    model = keras.Model(images, inner(keras.layers.Dense(3)(features)))
    # InputLayer 16, Conv2D 4*4*5, Flatten 80, Dense 3, then the nested model's 6 and 2
    assert training.activation_values(model) == 16 + 80 + 80 + 3 + 6 + 2


@pytest.mark.parametrize("main, argv, networks", [
    (cnn_mnist.main, ["--batch-size", "16", "--epochs", "1"],  # a classifier
     lambda: [cnn_mnist.build_cnn()]),
    (dcgan_mnist.main, ["--batch-size", "16", "--eval-samples", "0"],  # a GAN: both networks
     lambda: [gan.build_generator(), gan.build_discriminator()]),
])
def test_a_batch_whose_activations_exceed_the_free_memory_is_refused_before_training(
        main, argv, networks, tiny_digits, tmp_path, monkeypatch, capsys):
    """The batch fits the training set but not the (pretended) free memory: 2 MiB."""
    monkeypatch.setattr(training, "free_memory_bytes", lambda: 2 * 2**20)
    per_example = 4 * sum(training.activation_values(network) for network in networks())
    out = tmp_path / "out"
    line = refusal(main, [*argv, "--out-dir", str(out)], capsys)
    assert line.endswith(
        f"--batch-size 16 needs about {training.memory_size(16 * per_example)} for the layers' "
        f"outputs ({training.memory_size(per_example)} an example), more than the 2.0 MiB free "
        f"here; give at most {2 * 2**20 // per_example}"), line
    assert not (out / "history.csv").exists()  # before any training


# The smaller items


def test_a_wrong_generator_is_refused_with_the_shapes_it_has(tmp_path, capsys):
    generator1 = stackedgan.build_networks()[3]  # gen1: label + z1 -> feature1
    outputs.save_model(generator1, tmp_path / "gen1.keras")
    line = refusal(cgan_mnist.main, ["-g", str(tmp_path / "gen1.keras"), "--out-dir",
                                     str(tmp_path / "out")], capsys)
    assert (f"with inputs {stackedgan.NUM_LABELS} and {stackedgan.Z_DIM} and output "
            f"{stackedgan.FEATURE_DIM}; this script needs a generator with inputs 100 and 10 and "
            f"output 28x28x1") in line, line
    images = keras.Input(gan.IMAGE_SHAPE)
    classifier = keras.Model(images, keras.layers.Dense(10)(keras.layers.Flatten()(images)))
    outputs.save_model(classifier, tmp_path / "classifier.keras")
    line = refusal(dcgan_mnist.main, ["-g", str(tmp_path / "classifier.keras"), "--out-dir",
                                      str(tmp_path / "out")], capsys)
    assert "with input 28x28x1 and output 10; this script needs a generator with input 100" in line


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_help_description_is_a_whole_sentence(name):
    """Every script's parser describes it with its docstring's first line."""
    module = importlib.import_module(name)
    tree = ast.parse(open(module.__file__).read())
    assert "__doc__.splitlines()[0]" in ast.unparse(tree)
    first_line = module.__doc__.splitlines()[0]
    assert first_line.endswith(".") and first_line.count("(") == first_line.count(")"), first_line


@pytest.mark.slow
def test_mixed_float16_on_a_cpu_warns_in_one_line_of_notice_and_no_keras_warning(tiny_digits,
                                                                                 tmp_path, capsys):
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("float16 is fast on this machine's GPU: no notice")
    with warnings.catch_warnings(record=True) as caught:  # the filters a script runs with
        dcgan_mnist.main(["--train-steps", "2", "--save-interval", "1", "--batch-size", "8",
                          "--eval-samples", "0", "--precision", "mixed_float16", "--out-dir",
                          str(tmp_path)])
    assert [str(warning.message) for warning in caught
            if issubclass(warning.category, UserWarning)] == []
    notes = [line for line in capsys.readouterr().out.splitlines() if "float16" in line
             and "slower" in line]
    assert len(notes) == 1, notes
