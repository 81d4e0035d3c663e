"""Chapter 7: CycleGAN's four networks have the book's parameter counts, instance
normalization normalizes each sample and channel, each step trains only its own
networks, the cycle error of a short training on real photographs falls, and both
tasks run end to end (train, resume, translate with the saved generators)."""
import keras
import numpy as np
import pytest

from chapter7_cyclegan import cyclegan as cyclegan_script
from chapter7_cyclegan import domain_sampler
from lib import cyclegan, cyclegan_runs, data
from tests.conftest import (CYCLEGAN_RUN, assert_resume_is_exact, compiled_gan, gan_batch,
                            networks_moved_by_each_update, one_line, tiny_mnist, tiny_svhn)



@pytest.mark.parametrize("kernel_size, counts", [
    (3, {"generator_target": 870_757, "generator_source": 870_183,
         "discriminator_target": 390_721, "discriminator_source": 390_145}),
    (5, {"generator_target": 2_414_437, "generator_source": 2_412_839,
         "discriminator_target": 1_084_481, "discriminator_source": 1_082_881}),
])
def test_parameter_counts_are_the_books(kernel_size, counts):
    networks = cyclegan.build_networks((32, 32, 1), (32, 32, 3), kernel_size=kernel_size)
    assert {name: network.count_params() for name, network in networks.items()} == counts
    assert networks["discriminator_target"].output_shape == (None, 2, 2, 1)  # PatchGAN: 2x2 patches


def test_without_patchgan_the_discriminator_scores_whole_images():
    whole = cyclegan.build_discriminator((32, 32, 3), patchgan=False)
    assert whole.output_shape == (None, 1)
    assert whole.count_params() == 390_721 - (3 * 3 * 256 + 1) + (4 * 4 * 256 + 1)  # Dense, not Conv


def layer_kinds(network):
    return [type(layer).__name__ for layer in network.layers[1:]]


def test_the_discriminators_put_the_activation_before_each_convolution_as_the_book():
    """The book's encoder layer: LeakyReLU then Conv2D; PatchGAN: LeakyReLU then the patch
    convolution; without it, Flatten and Dense straight after the last convolution."""
    book_layers = ["LeakyReLU", "Conv2D"] * 4
    assert layer_kinds(cyclegan.build_discriminator((32, 32, 3))) == [*book_layers, "LeakyReLU",
                                                                      "Conv2D"]
    assert layer_kinds(cyclegan.build_discriminator((32, 32, 3), patchgan=False)) == [
        *book_layers, "Flatten", "Dense"]


def test_the_optimizers_decay_as_the_books():
    """RMSprop lr / (1 + decay * step): 2e-4 and 6e-8 for the discriminators, 1e-4 and 3e-8
    for the generators (the book's adversarial model)."""
    for name, optimizer in cyclegan.book_optimizers().items():
        rate, decay = (2e-4, 6e-8) if name.startswith("discriminator") else (1e-4, 3e-8)
        schedule = keras.optimizers.schedules.deserialize(optimizer.get_config()["learning_rate"])
        assert float(schedule(0)) == pytest.approx(rate)
        assert float(schedule(10**6)) == pytest.approx(rate / (1 + decay * 10**6))


def test_the_books_flags_parse_to_the_same_run(tmp_path):
    g_target, g_source = tmp_path / "t.keras", tmp_path / "s.keras"
    g_target.write_text(""), g_source.write_text("")
    assert flags_of_one_task([]).dataset == "mnist_svhn"  # the book's task when no flag is given
    for task, ours in (("cifar10", "-c"), ("mnist_svhn", "-m")):
        book = flags_of_one_task([f"--{task}_g_target", str(g_target), f"--{task}_g_source",
                                  str(g_source)])
        mine = flags_of_one_task([ours, "-t", str(g_target), "-s", str(g_source)])
        assert (book.dataset, book.g_target, book.g_source) == (mine.dataset, mine.g_target,
                                                                 mine.g_source) == (task, g_target,
                                                                                    g_source)


def flags_of_one_task(argv):
    """cyclegan.py's flags parsed, and the task the book's flags choose settled (without
    parse_args' set-up of a run)."""
    parser = cyclegan_script.make_parser()
    args = parser.parse_args(argv)
    cyclegan_script.one_task(args, parser.given_flags(argv))
    return args


def test_the_books_colorizer_flags_serve_the_offline_colour_crops(tmp_path):
    """The book's --cifar10_g_* generators colorize, so they run on sample_crops too,
    given before or after --dataset."""
    generator = tmp_path / "g.keras"
    generator.write_text("")
    for argv in (["--dataset", "sample_crops", "--cifar10_g_target", str(generator)],
                 ["--cifar10_g_target", str(generator), "--dataset", "sample_crops"]):
        args = flags_of_one_task(argv)
        assert args.dataset == "sample_crops" and args.g_target == generator


def test_generators_of_two_tasks_are_one_line(tmp_path, out_dir, capsys):
    generator = tmp_path / "g.keras"
    generator.write_text("")
    with pytest.raises(SystemExit) as raised:
        cyclegan_script.main(["--cifar10_g_target", str(generator), "--mnist_svhn_g_source",
                              str(generator), "--out-dir", str(out_dir)])
    assert raised.value.code == 2
    assert ("--mnist_svhn_g_source is a generator of --dataset mnist_svhn, not of cifar10 "
            "(--cifar10_g_target chose cifar10)") in one_line(
        capsys.readouterr().err)


def test_the_books_grids_are_10x10_of_the_first_100_test_images(tmp_path, monkeypatch):
    """Section 7.1: the test images of each domain, then at every save interval their
    translations (one file per step) and reconstructions (one file, replaced)."""
    drawn = {}
    monkeypatch.setattr(cyclegan_runs.plots, "image_grid", lambda images, path, columns, title: (
        drawn.__setitem__(path.relative_to(tmp_path).as_posix(), (images, columns, title))))
    rng = np.random.default_rng(0)
    images = {kind: rng.uniform(size=(120, 32, 32, 3)) for kind in (
        "target_from_source", "source_again", "source_from_target", "target_again")}
    cyclegan_runs.save_book_test_grids(images["source_again"], images["target_again"],
                                       ("gray", "colour"), tmp_path)
    cyclegan_runs.save_book_translation_grids(images, ("gray", "colour"), tmp_path, step=2000)
    assert sorted(drawn) == ["predicted_source/step_002000.png", "predicted_target/step_002000.png",
                             "reconstructed_source.png", "reconstructed_target.png",
                             "test_source.png", "test_target.png"]
    for grid, columns, _ in drawn.values():
        assert len(grid) == 100 and columns == 10
    np.testing.assert_array_equal(drawn["predicted_target/step_002000.png"][0],
                                  images["target_from_source"][:100])
    assert drawn["predicted_source/step_002000.png"][2] == "gray predicted source images, step 2,000"


def test_instance_normalization_normalizes_each_sample_and_channel():
    rng = np.random.default_rng(0)
    means, scales = rng.uniform(-5, 5, (4, 1, 1, 3)), rng.uniform(0.1, 10, (4, 1, 1, 3))
    images = (means + scales * rng.normal(size=(4, 16, 16, 3))).astype("float32")
    layer = cyclegan.instance_normalization()
    normalized = keras.ops.convert_to_numpy(layer(images))
    assert np.allclose(normalized.mean(axis=(1, 2)), 0.0, atol=1e-4)
    assert np.allclose(normalized.std(axis=(1, 2)), 1.0, atol=0.01)
    assert layer.count_params() == 2 * 3  # a scale and an offset per channel


def test_each_update_trains_only_its_networks(monkeypatch):
    model = compiled_gan("cyclegan", (32, 32, 1))
    networks, data = model.networks(), gan_batch("cyclegan", 4, (32, 32, 1))
    updates = networks_moved_by_each_update(monkeypatch, cyclegan, networks,
                                            lambda: model.train_step(data), "joint_optimizer_step")
    # Both discriminators, then both generators; nothing else moves.
    assert updates == [{name: "all" if name.startswith(first) else "none" for name in networks}
                       for first in ("discriminator", "generator")]
    assert model.optimizer_steps() == dict.fromkeys(cyclegan.NETWORKS, 1)


@pytest.mark.slow
def test_the_cycle_error_of_a_short_training_on_real_photographs_falls():
    keras.utils.set_random_seed(0)
    crops = data.load("sample_crops")
    colour, test = data.prepare(crops.x_train, "cnn"), data.prepare(crops.x_test[:32], "cnn")
    networks = cyclegan.build_networks((32, 32, 1), (32, 32, 3))
    model = cyclegan.CycleGAN(networks)
    model.compile(cyclegan.book_optimizers())

    def errors():
        translations = cyclegan_runs.translate(networks["generator_target"],
                                          networks["generator_source"], data.to_gray(test), test)
        return cyclegan_runs.cycle_errors(translations, data.to_gray(test), test)

    before = errors()
    model.fit(cyclegan_runs.unpaired_batches(data.to_gray(colour), colour, 8, seed=0),
              steps_per_epoch=60, epochs=1, verbose=0)
    after = errors()
    for direction in ("source_cycle_mae", "target_cycle_mae"):
        assert after[direction] < 0.95 * before[direction], (before, after)


def test_identity_inputs_change_channels_by_luminance_or_repetition():
    colour = np.array([[[[1.0, 0.5, 0.0]]]], dtype="float32")
    gray = keras.ops.convert_to_numpy(cyclegan.as_channels(colour, 1))
    assert gray[0, 0, 0, 0] == pytest.approx(float(data.to_gray(colour)[0, 0, 0, 0]))
    assert keras.ops.convert_to_numpy(cyclegan.as_channels(gray, 3)).tolist() == [[[[gray[0, 0, 0, 0]] * 3]]]
    assert cyclegan.as_channels(colour, 3) is colour


@pytest.mark.slow
def test_colorization_end_to_end_then_translate_with_both_generators(out_dir, capsys):
    metrics = cyclegan_script.main(["--dataset", "sample_crops", *CYCLEGAN_RUN, "--train-steps", "2",
                                    "--save-interval", "1", "--out-dir", str(out_dir)])
    assert metrics["params"]["generator_target"] == 870_757
    assert metrics["optimizer_steps"] == dict.fromkeys(cyclegan.NETWORKS, 2)
    assert {"source_cycle_loss", "target_cycle_loss", "g_target_adversarial_loss",
            "d_source_loss"} <= set(metrics)
    assert set(metrics["quality"]) == {"source_cycle_mae", "target_cycle_mae", "colorized_psnr_db"}
    assert metrics["quality_ceiling"]["gray_psnr_db"] > 10
    assert len((out_dir / "quality.csv").read_text().splitlines()) == 1 + 2  # after steps 1, 2
    for name in ("samples/step_000001.png", "samples/step_000002.png", "training.gif",
                 "cyclegan_generator_target.keras", "cyclegan_generator_source.keras",
                 "cyclegan_discriminator_target.weights.h5", "test_source.png", "test_target.png",
                 "predicted_source/step_000002.png", "predicted_target/step_000002.png",
                 "reconstructed_source.png", "reconstructed_target.png"):
        assert (out_dir / name).stat().st_size > 0

    g_target, g_source = (str(out_dir / f"cyclegan_generator_{domain}.keras")
                          for domain in ("target", "source"))
    translated = cyclegan_script.main(["--dataset", "sample_crops", "-t", g_target, "-s", g_source,
                                       "--eval-samples", "16", "--out-dir", str(out_dir / "translated")])
    assert translated["quality"] == pytest.approx(metrics["quality"], rel=1e-5)
    for name in ("translated.png", "quality.json", "predicted_target/step_000000.png",
                 "reconstructed_source.png"):
        assert (out_dir / "translated" / name).stat().st_size > 0
    evaluated = cyclegan_script.main(["--dataset", "sample_crops", "--eval-only",
                                      "--eval-samples", "16", "--out-dir", str(out_dir)])
    assert evaluated["quality"] == translated["quality"]  # the generators saved in --out-dir

    capsys.readouterr()
    for argv, reason in ((["-t", g_target], "needs both generators"),
                         (["-t", g_source, "-s", g_target],
                          "needs a generator with input 32x32x1 and output 32x32x3"),
                         (["--eval-only"], "train first")):
        with pytest.raises(SystemExit) as raised:
            cyclegan_script.main(["--dataset", "sample_crops", *argv,
                                  "--out-dir", str(out_dir / "empty")])
        assert raised.value.code == 2 and reason in one_line(capsys.readouterr().err)


@pytest.mark.slow
def test_mnist_svhn_with_identity_loss_resumes_exactly(tmp_path, monkeypatch, capsys):
    """Interrupted after 1 of 2 steps and resumed: the same four networks, losses and
    quality numbers as the run never interrupted."""
    argv = ["-m", *CYCLEGAN_RUN, "--identity-loss", "--train-steps", "2", "--save-interval", "1"]
    with data.provide("mnist", tiny_mnist()), data.provide("svhn", tiny_svhn()):
        metrics = assert_resume_is_exact(cyclegan_script.main, argv, tmp_path, monkeypatch,
                                         interrupt_after=0, epochs=2)
    assert "resuming" in capsys.readouterr().out
    assert metrics["optimizer_steps"] == dict.fromkeys(cyclegan.NETWORKS, 2)  # 1 before, 1 after
    assert metrics["params"] == {"generator_target": 2_414_437, "generator_source": 2_412_839,
                                 "discriminator_target": 1_084_481, "discriminator_source": 1_082_881}
    assert {"source_identity_loss", "target_identity_loss"} <= set(metrics)
    assert set(metrics["quality"]) == {"source_cycle_mae", "target_cycle_mae",
                                       "target_from_source_class_kept", "source_from_target_class_kept"}
    assert set(metrics["quality_ceiling"]) == {"MNIST_classifier_accuracy", "SVHN_classifier_accuracy"}


def test_without_svhn_the_run_exits_2_saying_where_to_put_it(out_dir, capsys):
    with data.provide("mnist", None), data.provide("svhn", None):
        with pytest.raises(SystemExit) as raised:
            cyclegan_script.main(["-m", "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "train_32x32.mat" in one_line(capsys.readouterr().err)


def test_the_samplers_draw_the_same_images_in_colour_and_in_gray(out_dir, monkeypatch):
    drawn = {}
    monkeypatch.setattr(domain_sampler.plots, "image_grid",
                        lambda images, path, columns: drawn.__setitem__(path.name, (images, columns)))
    metrics = domain_sampler.main(["--dataset", "sample_crops", "--count", "36",
                                   "--out-dir", str(out_dir)])
    colour, columns = drawn["cifar10_color_samples.png"]
    gray, _ = drawn["cifar10_gray_samples.png"]
    assert colour.shape == (36, 32, 32, 3) and gray.shape == (36, 32, 32, 1) and columns == 6
    np.testing.assert_allclose(gray[..., 0], colour @ [0.299, 0.587, 0.114], atol=1e-6)
    assert len(set(metrics["sample_indices"])) == 36


def test_the_svhn_sampler_draws_svhn_and_says_when_it_cannot(out_dir, capsys):
    with data.provide("svhn", tiny_svhn()):
        metrics = domain_sampler.main(["--dataset", "svhn", "--count", "16", "--out-dir", str(out_dir)])
    assert metrics["figures"] == ["svhn_samples.png"]
    assert (out_dir / "svhn_samples.png").stat().st_size > 0
    with data.provide("svhn", tiny_svhn()), pytest.raises(SystemExit) as raised:
        domain_sampler.main(["--dataset", "svhn", "--count", "25", "--out-dir", str(out_dir)])
    assert raised.value.code == 2 and "more than the 24 training images" in one_line(
        capsys.readouterr().err)
