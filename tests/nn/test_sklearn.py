"""scikit-learn protocol: get_params/set_params on RBM and DBN, the nn.sklearn wrappers, and
scikit-learn's own estimator checks (every check not passed is listed with its reason)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import nn

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402


def test_import_nn_does_not_import_sklearn():
    code = "import sys, nn; assert 'sklearn' not in sys.modules; nn.sklearn.Classifier; " \
           "assert 'sklearn' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def digits():
    x, y = nn.data.load_digits()
    return x[:240], y[:240]


def test_rbm_and_dbn_parameters_follow_sklearn(digits):
    rbm = nn.RBM(64, 16, lr=0.05, dtype="float64", epochs=2, seed=0, verbose=0)
    params = rbm.get_params()
    assert params["lr"] == 0.05 and params["dtype"] == "float64" and params["n_hidden"] == 16
    copy = clone(rbm)
    assert copy is not rbm and copy.get_params() == params and copy.dtype == np.float64
    assert rbm.set_params(n_hidden=8, lr=0.01) is rbm
    assert rbm.W.shape == (64, 8) and rbm.lr == 0.01 and rbm.get_params()["n_hidden"] == 8
    with pytest.raises(ValueError, match="Invalid parameter 'hidden' for estimator RBM"):
        rbm.set_params(hidden=3)

    dbn = nn.DBN([64, 16, 8], lr=0.05, epochs=2, seed=3, verbose=0)
    params = dbn.get_params()
    assert params["sizes"] == [64, 16, 8] and params["lr"] == 0.05 and params["k"] == 1
    assert "n_visible" not in params
    copy = clone(dbn)
    assert [r.get_params()["seed"] for r in copy.rbms] == [3, 4]
    copy.set_params(k=2, sizes=[64, 4])
    assert [r.k for r in copy.rbms] == [2] and copy.rbms[0].n_hidden == 4

    x, y = digits
    pipe = Pipeline([("rbm", nn.RBM(64, 16, epochs=2, seed=0, verbose=0)),
                     ("clf", LogisticRegression(max_iter=300))])
    search = GridSearchCV(pipe, {"rbm__n_hidden": [8, 16], "rbm__lr": [0.01, 0.1]}, cv=2)
    search.fit(x, y)
    assert set(search.best_params_) == {"rbm__n_hidden", "rbm__lr"}
    assert search.best_estimator_.named_steps["rbm"].n_hidden == search.best_params_[
        "rbm__n_hidden"]
    search = GridSearchCV(nn.RBM(64, 8, epochs=2, seed=0, verbose=0), {"lr": [0.01, 0.1]}, cv=2)
    assert search.fit(x).best_params_["lr"] in (0.01, 0.1)  # scored by RBM.score


def test_classifier_and_regressor_in_model_selection(digits):
    x, y = digits
    clf = nn.sklearn.Classifier(hidden_layer_sizes=(32,), lr=0.01, epochs=15, random_state=0)
    scores = cross_val_score(clf, x, y, cv=3)
    assert scores.mean() > 0.8
    search = GridSearchCV(clf, {"hidden_layer_sizes": [(8,), (32,)]}, cv=2).fit(x, y)
    assert search.best_params_ == {"hidden_layer_sizes": (32,)}
    assert isinstance(search.best_estimator_.model_, nn.MLP)

    labels = np.array(["even", "odd"])[y % 2]
    template = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 2))
    before = template.state_dict()
    fitted = nn.sklearn.Classifier(template, epochs=5, lr=0.01, random_state=0).fit(x, labels)
    assert set(fitted.predict(x)) <= {"even", "odd"} and fitted.score(x, labels) > 0.7
    np.testing.assert_allclose(fitted.predict_proba(x).sum(axis=1), 1, rtol=1e-6)
    for key, value in template.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # the template is not trained

    def factory(n_in, n_out):
        return nn.Sequential(nn.Linear(n_in, 8), nn.ReLU(), nn.Linear(8, n_out))

    t = x @ np.linspace(-1, 1, 64, dtype=np.float32)
    reg = nn.sklearn.Regressor(factory, optimizer="sgd", lr=0.01, epochs=30, random_state=0)
    assert cross_val_score(reg, x, t, cv=2).mean() > 0.5
    both = np.stack([t, -t], axis=1)
    assert clone(reg).fit(x, both).predict(x).shape == (240, 2)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        nn.sklearn.Regressor(optimizer="lbfgs").fit(x, t)
    with pytest.raises(TypeError, match="returned 'int', not an nn.Module"):
        nn.sklearn.Regressor(lambda n_in, n_out: 3).fit(x, t)


FIXED_INPUT_SIZE = ("the number of visible units is fixed when the model is built (n_visible, "
                    "sizes[0]), as for a PyTorch module; the check fits data of another width")
IN_UNIT_INTERVAL = "RBMs take data in [0, 1]; the check passes negative values"
CHECKED_IN_INIT = "the constructor validates its arguments (they are checked when given)"
MODULE_ATTRIBUTES = "an nn.Module sets `training` (RBM also `history_`) in its constructor"
USABLE_UNFITTED = "the weights exist from construction, so the model works before fit"
NN_MESSAGES = ("bad input is refused with nn's own messages, not scikit-learn's phrases "
               "(the check matches the wording)")
NO_FIT_TRANSFORM = "no fit_transform method (fit(X).transform(X))"
RBM_EXPECTED = {
    **dict.fromkeys([
        "check_fit_score_takes_y", "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_estimators_dtypes", "check_pipeline_consistency",
        "check_estimators_pickle", "check_f_contiguous_array_estimator",
        "check_transformer_data_not_an_array", "check_transformer_general",
        "check_methods_sample_order_invariance", "check_methods_subset_invariance",
        "check_dict_unchanged", "check_fit_idempotent", "check_n_features_in",
        "check_fit2d_predict1d", "check_fit2d_1sample", "check_fit2d_1feature"],
        FIXED_INPUT_SIZE),
    "check_n_features_in_after_fitting": IN_UNIT_INTERVAL,
    "check_positive_only_tag_during_fit": IN_UNIT_INTERVAL,
    "check_do_not_raise_errors_in_init_or_set_params": CHECKED_IN_INIT,
    "check_set_params": CHECKED_IN_INIT,
    "check_no_attributes_set_in_init": MODULE_ATTRIBUTES,
    "check_estimators_unfitted": USABLE_UNFITTED,
    "check_fit_check_is_fitted": USABLE_UNFITTED + " (DBN: " + FIXED_INPUT_SIZE + ")",
    **dict.fromkeys([
        "check_complex_data", "check_dtype_object", "check_estimators_empty_data_messages",
        "check_estimators_nan_inf", "check_estimator_sparse_array",
        "check_estimator_sparse_matrix", "check_estimator_sparse_tag"], NN_MESSAGES),
    "check_transformer_preserve_dtypes": NO_FIT_TRANSFORM,
    "check_array_api_input": "skipped by scikit-learn: SCIPY_ARRAY_API is not set",
}
WRAPPER_EXPECTED = {
    "check_array_api_input": "skipped by scikit-learn: SCIPY_ARRAY_API is not set",
    # float32 models: a product over a subset of rows may round differently (1 ulp) from the
    # whole batch, and the check demands 1e-7; it passes or fails with the data drawn.
    "check_methods_subset_invariance": "float32 model: subset results may differ by 1 ulp",
}


@pytest.mark.parametrize("estimator, expected", [
    (nn.RBM(4, 3, epochs=2, seed=0, verbose=0), RBM_EXPECTED),
    (nn.DBN([4, 3], epochs=2, seed=0, verbose=0), RBM_EXPECTED),
], ids=["RBM", "DBN"])
def test_sklearn_estimator_checks_on_rbm_and_dbn(estimator, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    not_passed = {r["check_name"] for r in results if r["status"] != "passed"}
    assert not_passed == set(expected)
    assert {"check_estimator_cloneable", "check_get_params_invariance",
            "check_parameters_default_constructible"} <= {r["check_name"] for r in results}


def estimator_ids(estimator):
    return type(estimator).__name__


@pytest.mark.parametrize("estimator", [
    nn.sklearn.Classifier(epochs=20, batch_size=64, random_state=0),
    nn.sklearn.Regressor(epochs=20, batch_size=64, lr=0.01, random_state=0),
], ids=estimator_ids)
def test_sklearn_estimator_checks_on_the_wrappers(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    assert len(results) > 50
    not_passed = {r["check_name"]: str(r["exception"])[:300] for r in results
                  if r["status"] != "passed"}
    assert set(not_passed) <= set(WRAPPER_EXPECTED), not_passed
    assert "check_array_api_input" in not_passed
