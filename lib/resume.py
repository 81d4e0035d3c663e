"""--resume: a backup after every epoch, and a run that goes on from it, through Keras'
public API.

`Backup` (one of training.fit_callbacks) writes the run's whole state to --out-dir/backup
after every epoch: `model.save_weights` (every network's weights and every optimizer's
variables: moments, step counts, loss scales), the values of the model's other variables
(its random seed generators' states: a GAN's noise, Dropout's masks) and the count of
epochs completed. `prepare` reads that backup once, before fit, into a `ResumeState`,
whose `restore` puts it back into the model; fit then starts at its `epoch`
(`model.fit(initial_epoch=...)`). The backup also holds the run's settings
(`run_settings`: the script and the flags that define what it computes), which a
resumed run must match, and a run that ends leaves in it only a note that it finished,
which --resume reports instead of training again over its outputs.
"""
import dataclasses
import json
import shutil
from pathlib import Path

import keras

from lib import cli, outputs

METADATA = "training_metadata.json"
# Flags that leave what a run computes the same, so a resumed run may change them: how
# long it trains (a resumed run may be given more epochs or steps to go on), where and
# how fast it runs, what else it writes, and the flags of generating only.
NOT_SETTINGS = frozenset({
    "out_dir", "resume", "epochs", "train_steps",
    "tensorboard", "plot_model", "jit_compile", "distribute", "tpu", "deterministic",
    "generator", "generator0", "generator1", "g_source", "g_target", "book_generator_flags",
    "eval_only", "p0", "p1", "p2", "z0", "z1"})


def run_settings(script, args):
    """What makes a run what it is, for its backup: the script's name (`script`: its
    file or name) and every parsed flag but those of NOT_SETTINGS (the dataset, --limit,
    the batch size, the save interval, the precision, the seed, the model's flags), as
    JSON has them (a path as text, a tuple as a list)."""
    settings = {"script": Path(script).stem}
    settings.update((name, value) for name, value in sorted(vars(args).items())
                    if name not in NOT_SETTINGS)
    return json.loads(json.dumps(settings, default=str))  # as the backup reads them back


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
    whose epoch count, weights and other variables belong together. An epoch whose logged
    numbers came out NaN or infinite is not saved and stops the run (`diverged_at`): the
    backup stays the last finite epoch's. A run that ends otherwise leaves only the note
    that it finished (`finished_metadata`)."""

    def __init__(self, folder, settings):
        super().__init__()
        self.folder, self.settings = Path(folder), settings
        self.diverged_at = None  # the first epoch whose logged numbers came out NaN or infinite

    def on_epoch_end(self, epoch, logs=None):
        if any(outputs.non_finite(logs or {})):  # diverged: the last finite epoch's backup stays
            self.diverged_at = epoch + 1
            self.model.stop_training = True
            return
        weights = f"epoch_{epoch + 1:06d}.weights.h5"
        outputs.save_weights(self.model, self.folder / weights)
        outputs.write_json(self.folder / METADATA, self.metadata(epoch + 1, weights))
        for older in self.folder.glob("epoch_*.weights.h5"):
            if older.name != weights:
                older.unlink()

    def metadata(self, epochs, weights):
        """training_metadata.json: the epochs completed, the weights file's name, the
        values of the model's other variables and the run's settings."""
        return {"epoch": epochs, "weights": weights,
                "other_variables": [keras.ops.convert_to_numpy(variable).tolist()
                                    for variable in other_variables(self.model)],
                "settings": self.settings}

    def finished_metadata(self):
        """training_metadata.json of a run that ended: that it finished, and its settings;
        no weights."""
        return {"finished": True, "settings": self.settings}

    def on_train_end(self, logs=None):
        if self.diverged_at:  # not finished: --resume goes on from the last finite epoch
            return
        outputs.write_json(self.folder / METADATA, self.finished_metadata())
        for weights in self.folder.glob("epoch_*.weights.h5"):
            weights.unlink()


@dataclasses.dataclass(frozen=True)
class ResumeState:
    """Where a run starts, read once by `prepare`: the backup folder, the run's settings
    (`run_settings`) and the metadata of the backup it resumes (None when it starts from
    the first epoch)."""

    folder: Path
    settings: dict
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


def prepare(args, script):
    """The run's ResumeState, read once before fit, saying which it does: with --resume
    and a backup in --out-dir/backup of the same run (the same `run_settings`), going on
    from that backup (history.csv cut to the epochs it completed: the resumed run logs the
    later ones again); else starting from the first epoch, any old backup removed. A
    UserError, before anything is loaded or written, when the backup cannot be read, is
    of another script or other settings (`check_same_run`), or of a run that finished
    (or, with no backup, when --out-dir holds a finished run's metrics.json).
    script: the script's file or name."""
    out_dir = args.out_dir
    folder = out_dir / "backup"
    settings = run_settings(script, args)
    metadata = read_metadata(folder) if args.resume else None
    if metadata:
        check_same_run(metadata, settings, out_dir)
        print(f"resuming the interrupted run saved in {folder} after {metadata['epoch']} epochs")
        outputs.keep_csv_rows(out_dir / "history.csv", metadata["epoch"])
        return ResumeState(folder, settings, metadata)
    if args.resume and (out_dir / "metrics.json").exists():  # finished, before backups kept a note
        raise cli.UserError(finished_run(out_dir))
    if args.resume:
        print(f"nothing to resume in {folder}; starting from the first epoch")
    elif folder.exists() and not is_finished(folder):
        print(f"an interrupted run was found in {folder}; starting over "
              f"(pass --resume to continue it instead)")
    shutil.rmtree(folder, ignore_errors=True)
    return ResumeState(folder, settings)


def check_same_run(metadata, settings, out_dir):
    """A one-line UserError unless the backup's metadata is of an unfinished run of the
    same script with the same settings; naming each setting that differs, with the
    value the backup has."""
    backed_up = metadata["settings"]
    if backed_up.get("script") != settings["script"]:
        raise cli.UserError(f"--resume: {out_dir} holds a run of {backed_up.get('script')}.py, "
                            f"not of {settings['script']}.py; resume it with that script, or "
                            f"give another --out-dir")
    if metadata.get("finished"):
        raise cli.UserError(finished_run(out_dir))
    differences = [f"{flag(name)} {shown(value)} (the backup has {shown(backed_up.get(name))})"
                   for name, value in settings.items() if backed_up.get(name) != value]
    differences += [f"{flag(name)} not given (the backup has {shown(value)})"
                    for name, value in backed_up.items() if name not in settings]
    if differences:
        raise cli.UserError(f"--resume: the run in {out_dir} had other settings: "
                            f"{', '.join(differences)}; resume with the backup's, or run "
                            f"without --resume to start over")


def finished_run(out_dir):
    """The one line of a --resume of a run that finished."""
    return (f"--resume: the run in {out_dir} finished; its outputs are in {out_dir}; run "
            f"without --resume to train again (over them)")


def flag(name):
    """The command-line flag of a parsed argument's name."""
    return "--" + name.replace("_", "-")


def shown(value):
    """A setting's value as the user would write it: on or off for a switch."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return "not given" if value is None else str(value)


def is_finished(folder):
    """Whether the backup in folder is the note of a run that finished (never an error:
    a new run removes the folder either way)."""
    try:
        return json.loads((Path(folder) / METADATA).read_text()).get("finished") is True
    except (OSError, ValueError, AttributeError):
        return False


def read_metadata(folder):
    """The metadata of the backup in folder (Backup.metadata, or Backup.finished_metadata),
    or None when there is none; a UserError when it cannot be read, a backup without
    settings (of a version before they were kept) included."""
    path = Path(folder) / METADATA
    if not path.exists():
        return None
    try:
        metadata = json.loads(path.read_text())
        if not isinstance(metadata.get("settings"), dict):
            raise ValueError("it lacks the run's settings")
        if not (metadata.get("finished") is True
                or (isinstance(metadata.get("epoch"), int) and isinstance(metadata.get("weights"), str)
                    and isinstance(metadata.get("other_variables"), list))):
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
