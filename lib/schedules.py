"""Learning-rate schedules: the book's ResNet/DenseNet step decay (section 2.2) and its
plateau cut, which a resumed run goes on counting (`ResumablePlateau`)."""
import keras

from lib import outputs


def step_decay(base_rate):
    """The book's ResNet/DenseNet schedule (section 2.2): base_rate, divided by 10 after
    epochs 80, 120 and 160, and halved again after 180. For LearningRateScheduler."""
    def schedule(epoch, current_rate=None):
        for after, factor in ((180, 0.5e-3), (160, 1e-3), (120, 1e-2), (80, 1e-1)):
            if epoch > after:
                return base_rate * factor
        return base_rate

    return schedule


def cifar_schedule_callbacks(base_rate, out_dir, state):
    """The book's learning-rate callbacks for ResNet and DenseNet on CIFAR-10: the step
    schedule, plus ReduceLROnPlateau by sqrt(0.1) after 5 epochs without progress.
    (The schedule sets the rate at the start of every epoch, and a plateau cut is made at
    an epoch's end, so the cut is replaced before any step trains with it, as in the
    book.) A resumed run's plateau count goes on from out_dir's history.csv (state: the
    run's resume.ResumeState)."""
    return [
        keras.callbacks.LearningRateScheduler(step_decay(base_rate)),
        ResumablePlateau(out_dir / "history.csv" if state.epoch else None,
                         factor=0.1 ** 0.5, cooldown=0, patience=5, min_lr=0.5e-6),
    ]


class ResumablePlateau(keras.callbacks.ReduceLROnPlateau):
    """ReduceLROnPlateau that first replays the epochs a resumed run's history.csv logged
    (each with the learning rate it had), so that its best value and its count of
    epochs without progress go on where the interrupted run's stopped."""

    def __init__(self, history_csv=None, **kwargs):
        super().__init__(**kwargs)
        self.history_csv = history_csv

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.history_csv is None:
            return
        restored_rate = float(self.model.optimizer.learning_rate)  # the backup's
        logged = outputs.read_history_csv(self.history_csv)
        for epoch, (value, rate) in enumerate(zip(logged.get(self.monitor, []),
                                                  logged.get("learning_rate", []))):
            self.model.optimizer.learning_rate = rate
            self.on_epoch_end(epoch, {self.monitor: value})
        self.model.optimizer.learning_rate = restored_rate
