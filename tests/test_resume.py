"""lib/resume.py: the backup after every epoch, and a run that goes on from it."""
from pathlib import Path

import keras
import numpy as np
import pytest

from lib import cli, gan, outputs, resume, training
from tests.conftest import InterruptAfter, ResumeRecorder, assert_same_state, model_state


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


def fit_resumable(out_dir, resume_run, callbacks=(), epochs=4, model=None):
    """What training.fit does around model.fit: the resume state read once, restored into
    the model, and the epoch fit starts from."""
    model = model or compiled_model()
    state = resume.prepare(out_dir, resume_run)
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
    assert not (tmp_path / "backup").exists()  # a finished run cleans its backup up


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
     b'{"epoch": 1, "weights": "epoch_000001.weights.h5", "other_variables": [[0, 1], [0, 1]]}'),
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
    assert resume.prepare(tmp_path, resume=False).epoch == 0
    assert "pass --resume" in capsys.readouterr().out
    assert not (tmp_path / "backup").exists()
    assert resume.prepare(tmp_path, resume=True).epoch == 0
    assert "nothing to resume" in capsys.readouterr().out
