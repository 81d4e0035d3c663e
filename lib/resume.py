"""--resume: a backup after every epoch, and a run that goes on from it, through Keras'
public API.

`Backup` (one of training.fit_callbacks) writes the run's whole state to --out-dir/backup
after every epoch: `model.save_weights` (every network's weights and every optimizer's
variables: moments, step counts, loss scales), the values of the model's other variables
(its random seed generators' states: a GAN's noise, Dropout's masks) and the count of
epochs completed. `prepare` reads that backup once, before fit, into a `ResumeState`,
whose `restore` puts it back into the model; fit then starts at its `epoch`
(`model.fit(initial_epoch=...)`).
"""
import dataclasses
import json
import shutil
from pathlib import Path

import keras

from lib import cli, outputs

METADATA = "training_metadata.json"


def other_variables(model):
    """The model's variables that are not weights, in a fixed order: Keras' `variables`
    are its weights plus the states of its random seed generators, which weights files
    leave out."""
    weights = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


class Backup(keras.callbacks.Callback):
    """After every epoch, the run's state in `folder`, whole: the epoch's weights file
    first, then training_metadata.json naming it (its epoch count and the values of
    `other_variables`), which replaces the last one in one rename; then the older
    weights files go. A run killed at any moment of a save leaves the previous backup,
    whose epoch count, weights and other variables belong together. A run that ends
    removes the folder."""

    def __init__(self, folder):
        super().__init__()
        self.folder = Path(folder)

    def on_epoch_end(self, epoch, logs=None):
        weights = f"epoch_{epoch + 1:06d}.weights.h5"
        outputs.save_weights(self.model, self.folder / weights)
        outputs.write_json(self.folder / METADATA, self.metadata(epoch + 1, weights))
        for older in self.folder.glob("epoch_*.weights.h5"):
            if older.name != weights:
                older.unlink()

    def metadata(self, epochs, weights):
        """training_metadata.json: the epochs completed, the weights file's name and the
        values of the model's other variables."""
        return {"epoch": epochs, "weights": weights,
                "other_variables": [keras.ops.convert_to_numpy(variable).tolist()
                                    for variable in other_variables(self.model)]}

    def on_train_end(self, logs=None):
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class ResumeState:
    """Where a run starts, read once by `prepare`: the backup folder, and the metadata of
    the backup it resumes (None when it starts from the first epoch)."""

    folder: Path
    metadata: dict | None = None

    @property
    def epoch(self):
        """The epochs the backup completed, fit's initial_epoch (0 without a backup)."""
        return self.metadata["epoch"] if self.metadata else 0

    def restore(self, model):
        """Put the backup's state into the compiled model, before fit: its weights and
        optimizer variables (model.load_weights) and the values of its other variables.
        Nothing without a backup; a UserError when the backup cannot be loaded."""
        if not self.metadata:
            return
        try:
            if model.optimizer is not None and not model.optimizer.built:
                with model.distribute_strategy.scope():  # where fit would build it
                    model.optimizer.build(model.trainable_variables)  # else its state is skipped
            model.load_weights(self.folder / self.metadata["weights"])
            variables, values = other_variables(model), self.metadata["other_variables"]
            if len(variables) != len(values):
                raise ValueError(f"the backup has {len(values)} variables besides the weights "
                                 f"and this model {len(variables)}")
            for variable, value in zip(variables, values):
                variable.assign(value)
        except Exception as error:  # h5py and Keras each fail their own way on a broken file
            raise unreadable(self.folder, error) from None


def prepare(out_dir, resume):
    """The run's ResumeState, read once before fit, saying which it does: with `resume`
    and a backup in out_dir/backup, going on from that backup (history.csv cut to the
    epochs it completed: the resumed run logs the later ones again); else starting from
    the first epoch, any old backup removed. A UserError when the backup cannot be read."""
    folder = out_dir / "backup"
    metadata = read_metadata(folder) if resume else None
    if metadata:
        print(f"resuming the interrupted run saved in {folder} after {metadata['epoch']} epochs")
        outputs.keep_csv_rows(out_dir / "history.csv", metadata["epoch"])
        return ResumeState(folder, metadata)
    if resume:
        print(f"nothing to resume in {folder}; starting from the first epoch")
    elif folder.exists():
        print(f"an interrupted run was found in {folder}; starting over "
              f"(pass --resume to continue it instead)")
    shutil.rmtree(folder, ignore_errors=True)
    return ResumeState(folder)


def read_metadata(folder):
    """The metadata of the backup in folder (Backup.metadata), or None when there is none;
    a UserError when it cannot be read."""
    path = Path(folder) / METADATA
    if not path.exists():
        return None
    try:
        metadata = json.loads(path.read_text())
        if not (isinstance(metadata.get("epoch"), int) and isinstance(metadata.get("weights"), str)
                and isinstance(metadata.get("other_variables"), list)):
            raise ValueError("it lacks the epoch, weights or other variables")
    except (OSError, ValueError, AttributeError) as error:
        raise unreadable(folder, error) from None
    return metadata


def unreadable(folder, error):
    """The one-line UserError of a backup that cannot be read."""
    return cli.UserError(
        f"cannot resume from the backup in {folder} ({type(error).__name__}: "
        f"{str(error).splitlines()[0][:200]}); remove that folder, or run without "
        f"--resume, to start over")
