"""nn.metrics: accuracy, confusion matrix, precision and recall, against scikit-learn."""

import numpy as np
import pytest
import sklearn.metrics
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from nn.metrics import accuracy, confusion_matrix, get_metric, precision, recall, to_labels

labels = st.lists(st.integers(0, 4), min_size=1, max_size=40)


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_against_sklearn(data):
    y_true = np.array(data.draw(labels))
    y_pred = np.array(data.draw(st.lists(st.integers(0, 4), min_size=len(y_true),
                                         max_size=len(y_true))))
    assert accuracy(y_true, y_pred) == pytest.approx(
        sklearn.metrics.accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, num_classes=5),
        sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(5)))
    for ours, theirs in ((precision, sklearn.metrics.precision_score),
                         (recall, sklearn.metrics.recall_score)):
        np.testing.assert_allclose(
            ours(y_true, y_pred, num_classes=5, average=None),
            theirs(y_true, y_pred, labels=range(5), average=None, zero_division=0))


def test_scores_become_labels():
    logits = ag.tensor([[2.0, -1.0, 0.0], [0.1, 0.3, 0.2], [0.0, 0.0, 5.0]])
    assert to_labels(logits).tolist() == [0, 1, 2]
    assert to_labels(np.array([[0.2], [0.7]])).tolist() == [0, 1]      # sigmoid outputs
    assert to_labels(np.array([0.2, 0.7]), threshold=0.1).tolist() == [1, 1]
    assert to_labels(np.eye(3)).tolist() == [0, 1, 2]                   # one-hot rows
    assert accuracy([0, 1, 1], [[2.0, -1.0], [0.1, 0.3], [0.9, 0.2]]) == pytest.approx(2 / 3)


def test_confusion_matrix_layout():
    # rows: true class, columns: predicted class
    m = confusion_matrix([0, 1, 1, 2], [0, 0, 1, 2])
    np.testing.assert_array_equal(m, [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    assert m.dtype == np.int64
    assert confusion_matrix([0], [0], num_classes=3).shape == (3, 3)


def test_errors():
    with pytest.raises(ValueError, match="accuracy.*different numbers"):
        accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="num_classes=2"):
        confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="unknown metric"):
        get_metric("nope")
    with pytest.raises(ValueError, match="recall: average"):
        recall([0], [0], average="micro")
    assert get_metric("accuracy") == ("accuracy", accuracy)
