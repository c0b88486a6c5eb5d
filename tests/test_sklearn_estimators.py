"""ferronet.sklearn: scikit-learn's estimator checks, model selection, and what the estimators learn."""

from __future__ import annotations

import importlib
import pickle
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6")

from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import ferronet  # noqa: E402
from ferronet.layers import HuberLoss  # noqa: E402
from ferronet.networks import MultiLayerNet, SimpleConvNet  # noqa: E402
from ferronet.sklearn import ConvNetClassifier, MLPClassifier, MLPRegressor  # noqa: E402

ESTIMATORS = [MLPClassifier, MLPRegressor, ConvNetClassifier]


@pytest.fixture(scope="module")
def digits():
    """400 of scikit-learn's 8x8 digits as rows of 64 values in [0, 1], and their labels 0-9."""
    x, y = load_digits(return_X_y=True)
    return x[:400] / 16.0, y[:400]


# ---------------------------------------------------------------- scikit-learn's conventions


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda c: c.__name__)
def test_passes_scikit_learns_estimator_checks(estimator_class):
    """Every check of check_estimator, with the default parameters (float64), and no tag switching one off."""
    results = check_estimator(estimator_class(), on_skip=None)
    assert all(r["status"] in ("passed", "skipped") for r in results)
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    assert skipped <= {"check_array_api_input", "check_classifier_data_not_an_array",
                       "check_regressor_data_not_an_array"}  # no SCIPY_ARRAY_API; no pandas


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda c: c.__name__)
def test_float32_networks_pass_the_checks_but_batch_size_invariance(estimator_class):
    """In float32 the GEMM rounds differently for different batch sizes, so predictions of a
    subset agree with those of the whole set to float32's precision (about 1e-7 relative) but
    not to the 1e-7 check_methods_subset_invariance asks (which float64, the default, meets)."""
    reason = "float32 predictions of a subset agree to float32 precision only"
    check_estimator(estimator_class(dtype="float32"), on_skip=None,
                    expected_failed_checks={"check_methods_subset_invariance": reason})


def test_import_without_scikit_learn_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "ferronet.sklearn" or m.startswith("ferronet.sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'ferronet\[sklearn\]'"):
        importlib.import_module("ferronet.sklearn")


def test_fitted_estimators_pickle_and_keep_training(digits):
    x, y = digits
    est = MLPClassifier(hidden_layer_sizes=(16,), epochs=2, random_state=0).fit(x, y)
    twin = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(twin.predict_proba(x), est.predict_proba(x))
    twin.partial_fit(x, y)
    est.partial_fit(x, y)  # the optimizer's state and the seeds went along: the same next epoch
    np.testing.assert_array_equal(twin.predict_proba(x), est.predict_proba(x))
    assert twin.n_iter_ == 3


# ---------------------------------------------------------------- model selection


def test_pipeline_in_grid_search(digits):
    x, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(epochs=15, learning_rate=0.01, random_state=0))
    grid = {"mlpclassifier__hidden_layer_sizes": [(16,), (32, 16)], "mlpclassifier__alpha": [0.0, 0.001]}
    search = GridSearchCV(pipe, grid, cv=3).fit(x, y)
    assert search.best_score_ > 0.85
    assert search.score(x, y) > 0.95  # refitted on everything
    network = search.best_estimator_[-1].network_
    assert isinstance(network, MultiLayerNet)
    assert network.hidden_size_list == list(search.best_params_["mlpclassifier__hidden_layer_sizes"])


def test_randomized_search_of_a_regressor():
    from scipy.stats import loguniform

    x, y = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)
    y = (y - y.mean()) / y.std()
    search = RandomizedSearchCV(MLPRegressor(hidden_layer_sizes=(32,), epochs=30, random_state=0),
                                {"learning_rate": loguniform(1e-3, 3e-2), "activation": ["relu", "tanh"]},
                                n_iter=3, cv=3, random_state=0).fit(x, y)
    assert search.best_score_ > 0.8  # R²
    assert len(search.cv_results_["params"]) == 3


def test_cross_val_score_in_worker_processes(digits):
    """n_jobs=2 pickles the estimators into joblib's worker processes and the fitted ones back."""
    x, y = digits
    conv = ConvNetClassifier(filter_num=8, filter_size=3, hidden_size=32, learning_rate=0.01, epochs=15,
                             random_state=0)
    scores = cross_val_score(conv, x, y, cv=3, n_jobs=2)
    assert scores.shape == (3,) and scores.min() > 0.8
    np.testing.assert_array_equal(scores, cross_val_score(conv, x, y, cv=3))  # the same in this process


# ---------------------------------------------------------------- what the estimators learn


def test_any_labels_are_encoded(digits):
    x, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    est = MLPClassifier(hidden_layer_sizes=32, epochs=10, learning_rate=0.01, random_state=0).fit(x, names[y])
    np.testing.assert_array_equal(est.classes_, np.sort(names))
    proba = est.predict_proba(x)
    assert proba.shape == (len(x), 10) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.predict(x), est.classes_[np.argmax(proba, axis=1)])
    assert est.score(x, names[y]) > 0.95
    assert est.network_.output_size == 10 and est.n_outputs_ == 10


def test_eval_records_each_epoch(digits):
    x, y = digits
    est = MLPClassifier(hidden_layer_sizes=(32,), epochs=6, random_state=0).fit(x, y)
    assert sorted(est.eval_) == ["cost", "train_acc"] and est.n_iter_ == 6 and est.best_epoch_ is None
    assert all(len(values) == 6 for values in est.eval_.values())
    assert est.eval_["cost"][-1] < est.eval_["cost"][0]
    assert est.eval_["train_acc"][-1] == est.score(x, y)  # measured on all of x after the last epoch

    held_out = MLPClassifier(hidden_layer_sizes=(32,), epochs=6, validation_fraction=0.25, random_state=0).fit(x, y)
    assert sorted(held_out.eval_) == ["cost", "train_acc", "valid_acc", "valid_cost"]
    assert all(len(values) == 6 for values in held_out.eval_.values())

    held_out.partial_fit(x, y)  # no validation data in partial_fit: NaN there, the lists stay aligned
    assert held_out.n_iter_ == 7 and all(len(values) == 7 for values in held_out.eval_.values())
    assert np.isnan(held_out.eval_["valid_acc"][-1]) and not np.isnan(held_out.eval_["train_acc"][-1])


def test_early_stopping_keeps_the_best_epoch(digits):
    x, y = digits
    est = MLPClassifier(hidden_layer_sizes=(64,), learning_rate=0.05, epochs=200, early_stopping=True,
                        n_iter_no_change=3, random_state=0).fit(x, y)
    valid_cost = est.eval_["valid_cost"]
    assert len(valid_cost) == est.n_iter_ < 200  # stopped early
    assert est.best_epoch_ == int(np.argmin(valid_cost)) + 1
    assert est.n_iter_ - est.best_epoch_ == 3
    assert len(est.eval_["train_acc"]) == est.n_iter_


def test_partial_fit(digits):
    x, y = digits
    est = MLPClassifier(hidden_layer_sizes=(32,), learning_rate=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes="):
        est.partial_fit(x, y)
    est.partial_fit(x[y < 5], y[y < 5], classes=np.arange(10))  # later labels known from the start
    assert est.n_iter_ == 1 and list(est.classes_) == list(range(10))
    for _ in range(9):
        est.partial_fit(x, y)
    assert est.n_iter_ == 10 and len(est.eval_["cost"]) == 10
    assert est.score(x, y) > 0.9
    with pytest.raises(ValueError, match="not among classes_"):
        est.partial_fit(x[:2], np.array([3, 11]))
    with pytest.raises(ValueError, match="differs from the classes"):
        est.partial_fit(x, y, classes=np.arange(11))

    fitted = MLPClassifier(hidden_layer_sizes=(32,), epochs=3, random_state=0).fit(x, y)
    network = fitted.network_
    fitted.partial_fit(x, y)  # continues fit's network
    assert fitted.network_ is network and fitted.n_iter_ == 4


def test_random_state_repeats_a_fit(digits):
    x, y = digits

    def proba(**kwargs):
        return MLPClassifier(hidden_layer_sizes=(16,), epochs=2, **kwargs).fit(x, y).predict_proba(x)

    np.testing.assert_array_equal(proba(random_state=3), proba(random_state=3))
    assert not np.array_equal(proba(random_state=3), proba(random_state=4))
    np.random.seed(0)  # without random_state, NumPy's global generator, as in the book
    first = proba()
    np.random.seed(0)
    np.testing.assert_array_equal(proba(), first)


def test_dtype_and_backend(digits):
    x, y = digits
    est = MLPClassifier(hidden_layer_sizes=(16,), epochs=2, dtype="float32", random_state=0).fit(x, y)
    assert all(p.dtype == np.float32 for p in est.network_.params.values())
    assert est.predict_proba(x).dtype == np.float64
    assert est.network_input(x).dtype == np.float32
    with pytest.raises(ValueError, match="float32 or float64"):
        MLPClassifier(dtype="int32").fit(x, y)

    if ferronet.native_available():
        assert ferronet.get_backend() == "native"  # what the estimators train on by default
    native = MLPClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0).fit(x, y).predict_proba(x)
    with ferronet.use_backend("numpy"):
        reference = MLPClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0).fit(x, y).predict_proba(x)
    np.testing.assert_allclose(native, reference, atol=1e-10)


def test_verbose_prints_the_eval_entries(digits, capsys):
    x, y = digits
    MLPClassifier(hidden_layer_sizes=(8,), epochs=2, validation_fraction=0.2, verbose=True, random_state=0).fit(x, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("epoch 2: cost ") and "train acc" in lines[1] and "valid acc" in lines[1]


def test_regressor_targets_and_losses():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(300, 3))
    y = np.column_stack([np.sin(2 * x[:, 0]) + x[:, 1], x[:, 1] * x[:, 2]])  # two targets
    est = MLPRegressor(hidden_layer_sizes=(32, 32), learning_rate=0.01, epochs=60, random_state=0).fit(x, y)
    assert est.predict(x).shape == (300, 2) and est.n_outputs_ == 2
    assert est.score(x, y) > 0.9 and est.eval_["train_r2"][-1] == pytest.approx(est.score(x, y))
    single = MLPRegressor(hidden_layer_sizes=(16,), loss="huber", epochs=3, random_state=0)
    assert single.fit(x, y[:, :1]).predict(x).shape == (300,)  # a column of targets predicts as (N,)
    assert single.network_.last_layer.__class__.__name__ == "HuberLoss"
    with pytest.raises(ValueError, match="targets per sample"):
        single.partial_fit(x, y)

    huber = HuberLoss(delta=0.5)
    layer_given = MLPRegressor(hidden_layer_sizes=(8,), loss=huber, epochs=1, random_state=0).fit(x, y)
    assert layer_given.network_.last_layer.delta == 0.5 and layer_given.network_.last_layer is not huber
    with pytest.raises(ValueError, match="needs a regression loss"):
        MLPRegressor(loss="softmax_ce").fit(x, y)


# ---------------------------------------------------------------- images


def test_convnet_takes_flat_rows_or_image_arrays(digits):
    x, y = digits
    params = {"filter_num": 4, "filter_size": 3, "hidden_size": 16, "epochs": 2, "random_state": 0}
    flat = ConvNetClassifier(**params).fit(x, y)
    assert flat.input_shape_ == (1, 8, 8) and flat.n_features_in_ == 64
    assert isinstance(flat.network_, SimpleConvNet) and flat.network_input(x).shape == (400, 1, 8, 8)
    for images in (x.reshape(-1, 1, 8, 8), x.reshape(-1, 8, 8)):
        as_images = ConvNetClassifier(**params).fit(images, y)
        assert as_images.input_shape_ == (1, 8, 8)
        np.testing.assert_array_equal(as_images.predict_proba(images), flat.predict_proba(x))
        np.testing.assert_array_equal(as_images.predict_proba(x), flat.predict_proba(x))  # rows work too
    with pytest.raises(ValueError, match="fitted to"):
        flat.predict(x.reshape(-1, 1, 4, 16))

    given = ConvNetClassifier(input_shape=(4, 16), **params).fit(x, y)
    assert given.input_shape_ == (1, 4, 16)
    with pytest.raises(ValueError, match="holds 60 values"):
        ConvNetClassifier(input_shape=(6, 10)).fit(x, y)
    with pytest.raises(ValueError, match="but the images are"):
        ConvNetClassifier(input_shape=(1, 4, 16)).fit(x.reshape(-1, 8, 8), y)


def test_convnet_pads_small_images(digits):
    """Images smaller than the network's smallest input are zero-padded around the border:
    5x5 filters need 6 pixels a side (2 left over for the 2x2 pooling)."""
    x, y = digits
    small = ConvNetClassifier(filter_num=4, hidden_size=16, epochs=1, random_state=0).fit(x[:, :10], y)
    assert small.input_shape_ == (1, 1, 10)  # 10 features: one row of pixels
    images = small.network_input(x[:, :10])
    assert images.shape == (400, 1, 6, 10)
    np.testing.assert_array_equal(images[:, 0, 2], x[:, :10])  # the row sits in the middle
    assert not images[:, 0, [0, 1, 3, 4, 5]].any()
    wide = ConvNetClassifier(filter_size=3, pad=1, epochs=1, random_state=0).fit(x[:, :4], y)
    assert wide.input_shape_ == (1, 2, 2) and wide.network_input(x[:, :4]).shape == (400, 1, 2, 2)
    assert ConvNetClassifier().__sklearn_tags__().input_tags.three_d_array  # (N, H, W) images
