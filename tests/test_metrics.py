import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from torch import nn

from asc_edge.audio.labels import SCENES
from asc_edge.data.metrics import (
    confusion_matrix,
    dcase_size_bytes,
    evaluate_predictions,
    log_loss,
    macro_accuracy,
)
from asc_edge.train.size import count_macs, model_size


def _predictions(seed: int, n: int = 500):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    logits = rng.standard_normal((n, 10)) + 2.0 * np.eye(10)[y]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    devices = rng.choice(["a", "b", "s4", "s5"], n)
    return y, probs, devices


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_scikit_learn(seed: int) -> None:
    y, probs, _ = _predictions(seed)
    pred = probs.argmax(1)
    assert macro_accuracy(y, pred, 10) == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-12)
    assert log_loss(y, probs) == pytest.approx(skm.log_loss(y, probs, labels=list(range(10))), abs=1e-9)
    np.testing.assert_array_equal(confusion_matrix(y, pred, 10), skm.confusion_matrix(y, pred, labels=range(10)))


def test_log_loss_handles_zero_probability_like_sklearn() -> None:
    y = np.array([0, 1])
    probs = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert log_loss(y, probs) == pytest.approx(skm.log_loss(y, probs, labels=[0, 1]))


def test_breakdown_per_device_and_seen_unseen() -> None:
    y, probs, devices = _predictions(5)
    report = evaluate_predictions(y, probs, devices)
    pred = probs.argmax(1)
    for device in ("a", "b", "s4", "s5"):
        mask = devices == device
        assert report["per_device"][device]["n"] == mask.sum()
        assert report["per_device"][device]["accuracy"] == pytest.approx(
            skm.balanced_accuracy_score(y[mask], pred[mask]))
    seen = np.isin(devices, ["a", "b"])
    assert report["seen"]["accuracy"] == pytest.approx(skm.balanced_accuracy_score(y[seen], pred[seen]))
    assert report["unseen"]["log_loss"] == pytest.approx(skm.log_loss(y[~seen], probs[~seen], labels=range(10)))
    assert list(report["per_class"]) == list(SCENES)
    assert np.array(report["confusion"]).sum() == len(y)


def test_dcase_size_counts_nonzero_parameters() -> None:
    params = [np.array([[0.0, 1.0], [2.0, 0.0]]), np.array([3.0, 0.0, 0.0])]
    assert dcase_size_bytes(params, 1) == 3
    assert dcase_size_bytes(params, 4) == 12


def test_macs_of_known_layers() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),                 # 8*40*100 outputs x 9
        nn.Conv2d(8, 8, 3, padding=1, groups=8),       # depthwise: 8*40*100 x 9
        nn.Conv2d(8, 16, 1, stride=2),                 # 16*20*50 x 8
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10),  # 160
    )
    expected = 8 * 40 * 100 * 9 + 8 * 40 * 100 * 9 + 16 * 20 * 50 * 8 + 160
    assert count_macs(model, (1, 1, 40, 100)) == expected
    with torch.no_grad():
        model[0].weight[0].zero_()
    size = model_size(model, (1, 1, 40, 100))
    total = sum(p.numel() for p in model.parameters())
    assert size.parameters == total and size.nonzero_parameters == total - 9
    assert size.dcase_size_bytes == total - 9 and size.macs == expected
