"""lib/resume.py: the backup after every epoch, and a run that goes on from it, of the
same script with the same settings, and never over a finished run."""
import argparse
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

from lib import cli, gan, outputs, resume, training
from chapter1_mlp_cnn_rnn import mlp_mnist
from chapter5_wgan_lsgan import acgan_mnist, wgan_mnist
from tests.conftest import (CLASSIFIER_RUN, GAN_RUN, InterruptAfter, ResumeRecorder,
                            assert_same_state, model_state, one_line, run_until_interrupted)


def regression_data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4), dtype=np.float32)
    return x, x @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32)


def compiled_model():
    """A tiny regression with a Dropout layer: a random seed generator to back up too."""
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dropout(0.1),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


def run_args(out_dir, resume_run, **flags):
    """The parsed flags of a run of this test's regression (flags: its settings)."""
    settings = {"batch_size": 32, "seed": 0, "precision": "float32", **flags}
    return argparse.Namespace(out_dir=out_dir, resume=resume_run, **settings)


def fit_resumable(out_dir, resume_run, callbacks=(), epochs=4, model=None, script="regression",
                  **flags):
    """What training.fit does around model.fit: the resume state read once, restored into
    the model, and the epoch fit starts from."""
    model = model or compiled_model()
    state = resume.prepare(run_args(out_dir, resume_run, epochs=epochs, **flags), script)
    state.restore(model)
    model.fit(*regression_data(), epochs=epochs, initial_epoch=state.epoch, verbose=0,
              callbacks=training.fit_callbacks(out_dir, state) + list(callbacks))
    return model


def test_the_other_variables_are_the_seed_generators_states():
    model = compiled_model()
    dropout = model.layers[0]
    assert [id(variable) for variable in resume.other_variables(model)] == [
        id(dropout.seed_generator.state)]
    dcgan = gan.GAN(gan.build_generator(), gan.build_discriminator())
    assert [id(variable) for variable in resume.other_variables(dcgan)] == [
        id(dcgan.noise_seed.state)]


def test_an_interrupted_fit_resumes_from_its_last_completed_epoch(tmp_path, capsys):
    interrupt = InterruptAfter(1)
    with pytest.raises(KeyboardInterrupt):
        fit_resumable(tmp_path, False, [interrupt])
    assert (tmp_path / "backup").is_dir()

    recorder = ResumeRecorder()
    model = fit_resumable(tmp_path, True, [recorder])
    assert "resuming the interrupted run saved in" in capsys.readouterr().out
    assert recorder.epochs == [2, 3]
    # The weights, the optimizer's moments and step count and Dropout's seed state came back.
    assert_same_state(interrupt.state, recorder.state)
    assert int(model.optimizer.iterations) == 4 * 2
    history = outputs.read_history_csv(tmp_path / "history.csv")
    assert len(history["loss"]) == 4  # two epochs before the interruption, two after
    assert history["loss"][-1] < history["loss"][0]
    # A finished run leaves only the note that it finished: no weights.
    assert [path.name for path in (tmp_path / "backup").iterdir()] == [resume.METADATA]


def killed_at_the_third_backup(plain):
    """`plain` (a save: keras.Model.save_weights or outputs.write_json), killed on its third
    call into the backup folder: the weights file half written, or the metadata not yet."""
    saves = []

    def save(*args, **kwargs):
        weights = isinstance(args[0], keras.Model)
        path = Path(args[1] if weights else args[0])
        if path.parent.name == "backup":
            saves.append(path)
            if len(saves) == 3:
                if weights:
                    path.write_bytes(b"\x89HDF\r\n" + b"\0" * 100)  # the start of an HDF5 file
                raise KeyboardInterrupt
        return plain(*args, **kwargs)

    return save


@pytest.mark.parametrize("killed", ["writing the weights", "between the weights and the metadata"])
def test_a_save_killed_at_any_moment_costs_only_that_epoch(killed, tmp_path, monkeypatch):
    """The third epoch's backup dies (as under kill -9) writing its weights file, or once
    that is written but before the metadata naming it: the resumed run starts from the
    second epoch's backup, which is intact, with its weights and seed state."""
    states = []
    if killed == "writing the weights":
        monkeypatch.setattr(keras.Model, "save_weights",
                            killed_at_the_third_backup(keras.Model.save_weights))
    else:
        monkeypatch.setattr(outputs, "write_json", killed_at_the_third_backup(outputs.write_json))
    model = compiled_model()
    after_each_backup = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: states.append(model_state(model)))
    with pytest.raises(KeyboardInterrupt):
        fit_resumable(tmp_path, False, [after_each_backup], model=model)
    monkeypatch.undo()
    assert len(states) == 2

    recorder = ResumeRecorder()
    model = fit_resumable(tmp_path, True, [recorder])
    assert recorder.epochs == [2, 3]  # epochs 0 and 1 were backed up whole; epoch 2 is run again
    assert_same_state(states[1], recorder.state)
    assert int(model.optimizer.iterations) == 2 * 2 + 2 * 2  # 2 restored epochs, 2 run


@pytest.mark.parametrize("broken, content", [
    ("epoch_000001.weights.h5", b"not an HDF5 file"),
    ("training_metadata.json", b'{"epoch": '),
    ("training_metadata.json", b'{"epoch": 1}'),
    ("training_metadata.json",  # the values of 2 other variables, for a model with 1
     b'{"epoch": 1, "weights": "epoch_000001.weights.h5", "other_variables": [[0, 1], [0, 1]], '
     b'"settings": {"script": "regression", "batch_size": 32, "seed": 0, "precision": "float32"}}'),
    ("training_metadata.json",  # a backup written before the settings were kept
     b'{"epoch": 1, "weights": "epoch_000001.weights.h5", "other_variables": [[0, 1]]}'),
])
def test_a_broken_backup_ends_the_resumed_run_with_one_line(broken, content, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit_resumable(tmp_path, False, [InterruptAfter(0)], epochs=3)
    (tmp_path / "backup" / broken).write_bytes(content)
    with pytest.raises(cli.UserError, match=r"cannot resume from the backup in .*backup .*remove "
                                            r"that folder, or run without --resume"):
        fit_resumable(tmp_path, True, epochs=3)


def test_a_new_run_without_resume_starts_over_and_says_so(tmp_path, capsys):
    (tmp_path / "backup").mkdir()
    assert resume.prepare(run_args(tmp_path, False), "regression").epoch == 0
    assert "pass --resume" in capsys.readouterr().out
    assert not (tmp_path / "backup").exists()
    assert resume.prepare(run_args(tmp_path, True), "regression").epoch == 0
    assert "nothing to resume" in capsys.readouterr().out


def test_the_settings_are_the_script_and_the_flags_that_define_the_run(tmp_path):
    args = run_args(tmp_path, True, epochs=3, tensorboard=True, limit=None, dataset="mnist",
                    generator=tmp_path / "g.keras", pretrained=tmp_path / "e.h5", sizes=(2, 3))
    assert resume.run_settings("chapter9/any_script.py", args) == {
        "script": "any_script", "batch_size": 32, "dataset": "mnist", "limit": None,
        "precision": "float32", "pretrained": str(tmp_path / "e.h5"), "seed": 0, "sizes": [2, 3]}


def test_a_resume_with_other_settings_names_each_difference_and_the_backups_value(tmp_path):
    """A changed seed, precision and --limit each named with the backup's value, before
    anything is loaded or written; more epochs alone goes on."""
    with pytest.raises(KeyboardInterrupt):
        fit_resumable(tmp_path, False, [InterruptAfter(0)], limit=256)
    history = (tmp_path / "history.csv").read_text()
    with pytest.raises(cli.UserError) as raised:
        fit_resumable(tmp_path, True, seed=7, precision="mixed_bfloat16")
    assert str(raised.value) == (
        f"--resume: the run in {tmp_path} had other settings: --precision mixed_bfloat16 "
        f"(the backup has float32), --seed 7 (the backup has 0), --limit not given (the "
        f"backup has 256); resume with the backup's, or run without --resume to start over")
    assert (tmp_path / "history.csv").read_text() == history
    recorder = ResumeRecorder()
    fit_resumable(tmp_path, True, [recorder], epochs=5, limit=256)
    assert recorder.epochs == [1, 2, 3, 4]


def test_a_resume_of_another_scripts_backup_is_one_line_before_loading_it(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit_resumable(tmp_path, False, [InterruptAfter(0)], script="chapter1/first.py")
    with pytest.raises(cli.UserError, match=rf"^--resume: {tmp_path} holds a run of first.py, "
                                            r"not of second.py; resume it with that script"):
        fit_resumable(tmp_path, True, script="chapter2/second.py")
    assert (tmp_path / "backup" / "epoch_000001.weights.h5").exists()


def test_a_resume_of_a_finished_run_says_where_its_outputs_are_and_overwrites_nothing(
        tmp_path, capsys):
    fit_resumable(tmp_path, False, epochs=2)
    history = (tmp_path / "history.csv").read_text()
    with pytest.raises(cli.UserError) as raised:  # more epochs too: finished is finished
        fit_resumable(tmp_path, True, epochs=3)
    assert str(raised.value) == (f"--resume: the run in {tmp_path} finished; its outputs are in "
                                 f"{tmp_path}; run without --resume to train again (over them)")
    assert (tmp_path / "history.csv").read_text() == history
    capsys.readouterr()
    # Without --resume it trains again, silently: nothing was interrupted.
    fit_resumable(tmp_path, False, epochs=1)
    assert "interrupted" not in capsys.readouterr().out
    assert len(outputs.read_history_csv(tmp_path / "history.csv")["loss"]) == 1


def test_a_classifier_resumed_with_another_seed_and_batch_size_exits_2_with_one_line(
        out_dir, monkeypatch, capsys):
    argv = [*CLASSIFIER_RUN, "--epochs", "2", "--out-dir", str(out_dir)]
    run_until_interrupted(mlp_mnist.main, argv, monkeypatch, 0)
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        mlp_mnist.main([*argv, "--seed", "3", "--batch-size", "64", "--resume"])
    assert raised.value.code == 2
    assert one_line(capsys.readouterr().err) == (
        f"mlp_mnist.py: error: --resume: the run in {out_dir} had other settings: --batch-size "
        f"64 (the backup has 128), --seed 3 (the backup has 0); resume with the backup's, or "
        f"run without --resume to start over")


@pytest.mark.slow
def test_an_acgan_folder_resumed_by_wgan_is_one_line_without_keras_warnings(
        out_dir, monkeypatch, capsys):
    argv = [*GAN_RUN, "--train-steps", "2", "--save-interval", "1", "--out-dir", str(out_dir)]
    run_until_interrupted(acgan_mnist.main, argv, monkeypatch, 0)
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught, pytest.raises(SystemExit) as raised:
        warnings.simplefilter("always")
        wgan_mnist.main([*argv, "--resume"])
    assert raised.value.code == 2
    assert one_line(capsys.readouterr().err) == (
        f"wgan_mnist.py: error: --resume: {out_dir} holds a run of acgan_mnist.py, not of "
        f"wgan_mnist.py; resume it with that script, or give another --out-dir")
    assert [str(warning.message) for warning in caught] == []


def test_a_finished_classifier_resumed_exits_2_and_keeps_its_outputs(out_dir, capsys):
    argv = [*CLASSIFIER_RUN, "--out-dir", str(out_dir)]
    mlp_mnist.main(argv)
    saved = {path.name: path.read_bytes() for path in out_dir.iterdir() if path.is_file()}
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        mlp_mnist.main([*argv, "--epochs", "3", "--resume"])
    assert raised.value.code == 2
    assert one_line(capsys.readouterr().err) == (
        f"mlp_mnist.py: error: --resume: the run in {out_dir} finished; its outputs are in "
        f"{out_dir}; run without --resume to train again (over them)")
    assert {path.name: path.read_bytes() for path in out_dir.iterdir() if path.is_file()} == saved


def test_a_run_finished_before_backups_kept_a_note_is_not_trained_again(out_dir, capsys):
    """A run that finished with an older version left metrics.json and no backup folder:
    --resume says it finished instead of starting over it."""
    argv = [*CLASSIFIER_RUN, "--out-dir", str(out_dir)]
    mlp_mnist.main(argv)
    shutil.rmtree(out_dir / "backup")
    history = (out_dir / "history.csv").read_text()
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        mlp_mnist.main([*argv, "--resume"])
    assert raised.value.code == 2
    assert one_line(capsys.readouterr().err).endswith(
        f"--resume: the run in {out_dir} finished; its outputs are in {out_dir}; run without "
        f"--resume to train again (over them)")
    assert (out_dir / "history.csv").read_text() == history
