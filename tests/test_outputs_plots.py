"""lib/outputs.py and lib/plots.py: atomic writes and the figures every run saves."""
import json
import shutil

import keras
import numpy as np
import pytest
from matplotlib.image import imread

from lib import outputs, plots


def tiny_model():
    return keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])


def test_atomic_path_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "metrics.json"
    outputs.write_json(target, {"accuracy": 0.9})
    with pytest.raises(RuntimeError):
        with outputs.atomic_path(target) as temporary:
            temporary.write_text("{half")
            raise RuntimeError("interrupted")
    assert json.loads(target.read_text()) == {"accuracy": 0.9}
    assert [path.name for path in tmp_path.iterdir()] == ["metrics.json"]


def test_metrics_json_stays_strict_json_when_an_infinity_is_a_result(tmp_path):
    target = tmp_path / "metrics.json"
    outputs.write_json(target, {"kl": float("inf"), "rows": [{"js": 0.69, "kl": float("-inf")}],
                                "steps": (1, 2)}, infinite_as_null=True)
    strict = json.loads(target.read_text(), parse_constant=lambda name: pytest.fail(name))
    assert strict == {"kl": None, "rows": [{"js": 0.69, "kl": None}], "steps": [1, 2]}


def test_weights_and_models_round_trip(tmp_path):
    model = tiny_model()
    outputs.save_weights(model, tmp_path / "tiny.weights.h5")
    outputs.save_model(model, tmp_path / "tiny.keras")
    reloaded = tiny_model()
    reloaded.load_weights(tmp_path / "tiny.weights.h5")
    loaded = keras.models.load_model(tmp_path / "tiny.keras")
    for other in (reloaded, loaded):
        for mine, theirs in zip(model.get_weights(), other.get_weights()):
            np.testing.assert_array_equal(mine, theirs)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tiny.keras", "tiny.weights.h5"]


@pytest.mark.parametrize("images", [
    np.random.default_rng(0).integers(0, 256, size=(7, 28, 28), dtype=np.uint8),
    np.random.default_rng(0).random((16, 32, 32, 3), dtype=np.float32),
    np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32),
])
def test_image_grid_writes_a_png(images, tmp_path):
    path = tmp_path / "grid.png"
    plots.image_grid(images, path, titles=list(range(len(images))), title="samples")
    height, width, _ = imread(path).shape
    assert height > 100 and width > 100


def test_training_curves_from_a_keras_csv_log(tmp_path):
    log = tmp_path / "history.csv"
    log.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.2,0.6,1.0\n1,0.7,0.8,0.72,0.7\n")
    history = outputs.read_history_csv(log)
    assert history == {"accuracy": [0.5, 0.7], "loss": [1.2, 0.8],
                       "val_accuracy": [0.6, 0.72], "val_loss": [1.0, 0.7]}
    plots.training_curves(history, tmp_path / "curves.png")
    height, width, _ = imread(tmp_path / "curves.png").shape
    assert width > 1.5 * height  # two panels side by side: accuracy and loss


def test_many_training_curves_wrap_into_rows_of_four(tmp_path):
    """ACGAN logs ten values: three rows of at most four panels, not one ten-panel strip."""
    history = {f"metric_{index}": [1.0, 0.5] for index in range(10)}
    plots.training_curves(history, tmp_path / "curves.png", x_per_epoch=100, x_label="step")
    height, width, _ = imread(tmp_path / "curves.png").shape
    assert 0.8 < width / height < 2.0


def test_model_diagram_uses_graphviz_when_installed(tmp_path, capsys):
    written = plots.model_diagram(tiny_model(), tmp_path / "model.png")
    assert written == (shutil.which("dot") is not None)
    assert (tmp_path / "model.png").exists() == written


def test_model_diagram_without_graphviz_is_a_one_line_notice(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda program: None)
    assert plots.model_diagram(tiny_model(), tmp_path / "model.png") is False
    assert "Graphviz is not installed" in capsys.readouterr().out.strip()
    assert not (tmp_path / "model.png").exists()
