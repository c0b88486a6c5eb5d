"""What ferronet's scikit-learn estimators share: fitting a network with the Trainer.

:class:`NetworkEstimator` turns ``fit`` and ``partial_fit`` into runs of
:class:`ferronet.trainer.Trainer` on the estimator's network, records the
per-epoch history ``eval_`` (as Raschka's ``NeuralNetMLP`` does) and draws
every seed from ``random_state``.  Subclasses say which network they build
and how inputs and targets become the network's.

The training parameters every estimator takes (besides its network's):

* ``optimizer``: a name for :func:`ferronet.optimizers.get_optimizer`, any
  case: ``'adam'`` (default), ``'sgd'``, ``'momentum'``, ``'nesterov'``,
  ``'adagrad'``, ``'rmsprop'``, ``'adadelta'``, ``'adamw'``;
* ``learning_rate``: the optimizer's ``lr`` (scikit-learn's own MLP calls it
  ``learning_rate_init``), 0.001 by default;
* ``alpha``: L2 regularisation, the networks' ``weight_decay_lambda``: each
  mini-batch's mean loss gets ``0.5 * alpha * sum(W**2)`` over the weights
  (not the biases).  scikit-learn's MLP divides its ``alpha`` by the batch
  size, so its ``alpha=a`` is ``alpha=a / batch_size`` here.  0 by default;
* ``epochs``: passes over the training data in ``fit`` (early stopping may
  end it sooner); ``partial_fit`` makes one pass per call;
* ``batch_size``: samples per optimizer step (the last, partial batch
  included), 100 by default;
* ``early_stopping``: hold out validation data and stop once the validation
  loss has not improved for ``n_iter_no_change`` epochs, then restore the
  weights of the best epoch (``best_epoch_``);
* ``validation_fraction``: the fraction of the training data ``fit`` holds
  out for validation (drawn at random, once per fit), measured after each
  epoch into ``eval_``'s ``valid_*`` entries; None (default) holds out
  :data:`DEFAULT_VALIDATION_FRACTION` with early stopping and nothing
  without.  ``partial_fit`` never holds data out;
* ``n_iter_no_change``: early stopping's patience, in epochs (10);
* ``random_state``: None (the initial weights, the shuffling and the split
  draw from NumPy's global generator, so ``np.random.seed`` repeats a fit,
  as in the book), an int (a repeatable fit) or a ``numpy.random.RandomState``;
* ``dtype``: ``'float32'`` (default) or ``'float64'``, the network's float
  type; inputs are converted to it, predictions come back as float64;
* ``verbose``: print one line per epoch.

The learned attributes: ``network_`` (the fitted ferronet network: its
``params``, ``predict``, ``save_params``), ``optimizer_`` (its optimizer,
state included, which ``partial_fit`` continues), ``n_features_in_`` (and
``feature_names_in_`` for a DataFrame), ``n_outputs_``, ``n_iter_`` (epochs
trained), ``best_epoch_`` (the epoch whose weights early stopping kept,
else None) and ``eval_``: a dict of per-epoch lists, one entry per epoch
trained,

* ``'cost'``: the mean mini-batch loss of the epoch, L2 penalty included;
* ``'train_acc'`` (classifiers) / ``'train_r2'`` (regressor): the accuracy
  or R² on the data trained on, after the epoch;
* ``'valid_cost'``, ``'valid_acc'`` / ``'valid_r2'``: on the held-out data,
  present once some epoch had validation data (NaN in the epochs without).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ferronet.arrays import FLOAT_DTYPES
from ferronet.networks.base import LayerNetwork
from ferronet.optimizers import get_optimizer
from ferronet.trainer import Trainer
from ferronet.training.early_stopping import EarlyStopping

#: what ``fit`` holds out for early stopping when ``validation_fraction`` is None
DEFAULT_VALIDATION_FRACTION = 0.1

#: ``eval_`` entries -> the Trainer's history entries they come from (``{score}``: 'acc' or 'r2')
EVAL_FROM_HISTORY: Mapping[str, str] = MappingProxyType({
    "cost": "train_loss", "train_{score}": "train_acc", "valid_cost": "val_loss", "valid_{score}": "val_acc"})

#: the ``y`` of a ``_validate`` call for X alone
NO_TARGETS = object()


class NetworkEstimator(BaseEstimator):
    """The base of ferronet's estimators: ``fit`` and ``partial_fit`` train ``network_`` with the Trainer.

    The training parameters and learned attributes are described in
    :mod:`ferronet.sklearn.base`.  A subclass defines ``__init__`` (storing
    its arguments, nothing more: scikit-learn's rule), ``_build_network``,
    ``_targets`` and ``predict``, and may override ``_validate`` and
    ``_network_input`` (the convolutional estimator turns rows into images).
    """

    #: what ``eval_`` calls the score the Trainer measures after each epoch: 'acc' or 'r2'
    score_name: ClassVar[str] = "acc"
    #: ``validate_data``'s rules for y beyond the defaults (the regressor's: multi_output, y_numeric)
    target_checks: ClassVar[Mapping[str, bool]] = MappingProxyType({})

    # ------------------------------------------------------------------ what subclasses define

    def _build_network(self, seed: int | None) -> LayerNetwork:
        """A new, untrained network for ``n_features_in_`` inputs and ``n_outputs_`` outputs."""
        raise NotImplementedError

    def _targets(self, y: np.ndarray, reset: bool, classes: Any = None) -> np.ndarray:
        """The validated ``y`` as the network's loss takes it; sets ``n_outputs_`` (and
        ``classes_``) when ``reset``."""
        raise NotImplementedError

    def _network_input(self, X: np.ndarray) -> np.ndarray:
        """Validated rows (N, n_features_in_) as the network takes them (here: unchanged)."""
        return X

    def _validate(self, X: Any, y: Any = NO_TARGETS, reset: bool = False) -> tuple[np.ndarray, Any]:
        """``validate_data`` of X (and y): finite, 2-d, C-ordered, in the network's dtype, with
        ``n_features_in_`` set (``reset``) or checked.  Returns (X, y or None)."""
        options = {"reset": reset, "dtype": self._network_dtype(), "order": "C"}
        if y is NO_TARGETS:
            return validate_data(self, X, **options), None
        return validate_data(self, X, y, **options, **self.target_checks)

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Any, y: Any) -> NetworkEstimator:
        """Train a new network on (X, y) for ``epochs`` epochs (or until early stopping); returns self.

        X: (n_samples, n_features) (any array-like scikit-learn takes); y: the
        targets.  Anything learned before is discarded.
        """
        x, t = self._training_data(X, y, reset=True)
        self._start()
        trainer = self._train(x, t, epochs=self.epochs, validation_fraction=self._validation_fraction())
        stopper = trainer.early_stopping
        self.best_epoch_ = None if stopper is None else stopper.best_epoch
        return self

    def _partial_fit(self, X: Any, y: Any, classes: Any = None) -> NetworkEstimator:
        """One epoch on (X, y), continuing the network and optimizer of earlier calls (or of ``fit``);
        the first call builds them.  No data is held out (``early_stopping`` does not apply)."""
        first = not hasattr(self, "network_")
        x, t = self._training_data(X, y, reset=first, classes=classes)
        if first:
            self._start()
        self._train(x, t, epochs=1, validation_fraction=None)
        return self

    def _training_data(self, X: Any, y: Any, reset: bool, classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(network input, targets) of a fit, validated; ``reset`` learns the data's shape and labels."""
        X, y = self._validate(X, y, reset=reset)
        t = self._targets(y, reset=reset, classes=classes)
        return self._network_input(X), t

    def _start(self) -> None:
        """A new network and optimizer, an empty history, and the source of this fit's seeds."""
        self._seeds = None if self.random_state is None else check_random_state(self.random_state)
        self.network_ = self._build_network(seed=self._next_seed())
        self.optimizer_ = get_optimizer(self.optimizer, lr=self.learning_rate)
        self.eval_: dict[str, list[float]] = {}
        self.n_iter_ = 0
        self.best_epoch_: int | None = None

    def _next_seed(self) -> int | None:
        """A seed from ``random_state`` for the network or a Trainer; None with no random_state
        (then ferronet draws from NumPy's global generator, see :mod:`ferronet.rng`)."""
        return None if self._seeds is None else int(self._seeds.randint(np.iinfo(np.int32).max))

    def _validation_fraction(self) -> float | None:
        if self.validation_fraction is not None:
            return self.validation_fraction
        return DEFAULT_VALIDATION_FRACTION if self.early_stopping else None

    def _train(self, x: np.ndarray, t: np.ndarray, epochs: int, validation_fraction: float | None) -> Trainer:
        """Run the Trainer on ``network_`` with ``optimizer_`` and append its history to ``eval_``."""
        stopper = None
        if self.early_stopping and validation_fraction is not None:
            stopper = EarlyStopping(patience=self.n_iter_no_change)
        # scikit-learn keeps test data out of fit: the Trainer runs without a test set
        trainer = Trainer(self.network_, x, t, None, None, epochs=epochs, mini_batch_size=self.batch_size,
                          optimizer=self.optimizer_, verbose=False, seed=self._next_seed(),
                          validation_split=validation_fraction, early_stopping=stopper,
                          callbacks=[self._print_epoch] if self.verbose else [])
        trainer.fit()
        self._record(trainer.history)
        return trainer

    def _eval_names(self) -> dict[str, str]:
        """``eval_`` entry -> Trainer history entry, for this estimator's score."""
        return {ours.format(score=self.score_name): theirs for ours, theirs in EVAL_FROM_HISTORY.items()}

    def _record(self, history: Mapping[str, list[Any]]) -> None:
        """Append a Trainer's per-epoch history to ``eval_`` (NaN for what it did not measure)."""
        epochs = len(history["epoch"])
        for ours, theirs in self._eval_names().items():
            values = history.get(theirs)
            if values is None and ours not in self.eval_:
                continue
            column = self.eval_.setdefault(ours, [math.nan] * self.n_iter_)
            column.extend([math.nan] * epochs if values is None else [float(v) for v in values])
        self.n_iter_ += epochs

    def _print_epoch(self, trainer: Trainer, logs: Mapping[str, Any]) -> None:
        """The ``verbose`` line of an epoch: its ``eval_`` entries."""
        parts = [f"{ours.replace('_', ' ')} {logs[theirs]:.4f}" for ours, theirs in self._eval_names().items()
                 if theirs in logs]
        print(f"epoch {self.n_iter_ + logs['epoch']}: {', '.join(parts)}", flush=True)

    # ------------------------------------------------------------------ inference

    def network_input(self, X: Any) -> np.ndarray:
        """X as ``network_`` takes it: validated (finite, ``n_features_in_`` features, the network's
        dtype) and, for :class:`~ferronet.sklearn.ConvNetClassifier`, as zero-padded images.
        ``network_.predict(estimator.network_input(X))`` are the scores ``predict`` decides from."""
        check_is_fitted(self)
        X, _ = self._validate(X, reset=False)
        return self._network_input(X)

    def _scores(self, X: Any) -> np.ndarray:
        """The network's raw outputs for X, (N, n_outputs_), as float64."""
        x = self.network_input(X)  # raises NotFittedError before network_ is needed
        return self.network_.predict(x).astype(np.float64)

    def to_onnx(self, path: Any, opset: int | None = None) -> Any:
        """Export the fitted network as an ONNX model (``pip install 'ferronet[onnx]'``); returns the path.

        The model's input is what :meth:`network_input` returns, (N, n_features_in_) rows for the dense
        estimators and (N, C, H, W) images for :class:`~ferronet.sklearn.ConvNetClassifier`, in the
        estimator's dtype.  Its output is ``predict_proba`` for a classifier (columns in ``classes_``'s
        order) and the (N, n_targets) predictions for a regressor.
        """
        check_is_fitted(self)
        return self.network_.to_onnx(path, opset=opset)

    def _network_dtype(self) -> np.dtype:
        dtype = np.dtype(self.dtype)
        if dtype not in FLOAT_DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        return dtype

