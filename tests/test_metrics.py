"""lib/metrics.py's measures of generated images: each formula on constructed cases,
and on real digits near the ceiling, on noise near the floor."""
import keras
import numpy as np
import pytest

from lib import data, metrics


@pytest.fixture(scope="module")
def digit_quality():
    """ImageQuality of the offline MNIST subset (its classifier trained once per session)."""
    return metrics.image_quality("mnist_subset", count=500)


def test_label_accuracy_is_counted_per_class_asked_for():
    overall, per_class = metrics.label_accuracy(predicted=[0, 0, 1, 2, 1, 2],
                                                asked=[0, 1, 1, 1, 2, 2], num_classes=4)
    assert overall == pytest.approx(3 / 6)
    assert per_class == [1.0, pytest.approx(1 / 3), 0.5, None]  # class 3 never asked for


def test_classifier_score_runs_from_one_to_the_number_of_classes():
    confident_and_even = np.eye(10)[np.arange(100) % 10]
    assert metrics.classifier_score(confident_and_even) == pytest.approx(10.0, rel=1e-6)
    assert metrics.classifier_score(np.tile(np.eye(10)[3], (100, 1))) == pytest.approx(1.0)
    assert metrics.classifier_score(np.full((100, 10), 0.1)) == pytest.approx(1.0)


def test_frechet_distance_is_zero_for_the_same_gaussian_and_the_squared_shift_for_a_moved_one():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(5000, 4))
    mean, covariance = features.mean(axis=0), np.cov(features, rowvar=False)
    assert metrics.frechet_distance(features, mean, covariance) == pytest.approx(0.0, abs=1e-4)
    shift = np.array([3.0, 0.0, -4.0, 0.0])
    assert metrics.frechet_distance(features + shift, mean, covariance) == pytest.approx(25.0, rel=1e-3)


def test_real_test_digits_score_near_the_ceiling_and_noise_near_the_floor(digit_quality):
    ceiling = digit_quality.ceiling
    assert ceiling["label_accuracy"] > 0.9 and ceiling["classifier_score"] > 7

    digits = data.load("mnist_subset")
    real = digit_quality.measure(data.prepare(digits.x_test[500:1000], "cnn"), digits.y_test[500:1000])
    assert real["label_accuracy"] > 0.9 and real["classifier_score"] > 7
    assert real["frechet_distance"] < 2 * ceiling["frechet_distance"] + 1

    rng = np.random.default_rng(0)
    noise = digit_quality.measure(rng.uniform(size=(500, 28, 28, 1)).astype("float32"),
                                  np.arange(500) % 10)
    assert noise["label_accuracy"] < 0.3  # chance is 0.1
    assert noise["classifier_score"] < 2
    assert noise["frechet_distance"] > 10 * real["frechet_distance"]


def test_generator_inputs_follow_the_kinds_given():
    kinds = [("uniform", 62), ("labels", 10), ("normal", 1), ("normal", 1)]  # InfoGAN's G
    (z, labels, code_1, code_2), asked = metrics.generator_inputs(kinds, 1000)
    assert z.shape == (1000, 62) and z.min() >= -1 and z.max() <= 1
    assert np.array_equal(np.argmax(labels, axis=1), asked) and np.bincount(asked).tolist() == [100] * 10
    assert code_1.std() == pytest.approx(0.5, abs=0.05) and code_2.shape == (1000, 1)
    _, asked = metrics.generator_inputs([("uniform", 100)], 10)
    assert asked is None


def test_a_broken_cached_classifier_is_trained_again_with_a_notice(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(metrics, "CLASSIFIER_DIR", tmp_path)
    monkeypatch.setattr(metrics, "CLASSIFIER_EPOCHS", 1)
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(size=(64, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 64)
    (tmp_path / "digits_28x28x1.keras").write_bytes(b"PK\x03\x04 cut short")
    classifier = metrics.cached_classifier("digits", images, labels, 10)
    assert classifier.output_shape == (None, 10)
    out = capsys.readouterr().out
    assert "cannot be loaded" in out and "training it again" in out
    assert keras.models.load_model(tmp_path / "digits_28x28x1.keras").output_shape == (None, 10)
