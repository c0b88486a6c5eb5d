"""scikit-learn estimators that train ferronet's networks (the optional extra ``ferronet[sklearn]``).

* :class:`MLPClassifier` and :class:`MLPRegressor` - the book's
  :class:`~ferronet.networks.MultiLayerNet` behind ``fit`` / ``predict``
  (Raschka's ``NeuralNetMLP``, made a standard estimator);
* :class:`ConvNetClassifier` - the book's :class:`~ferronet.networks.SimpleConvNet`
  for images given as flat rows (N, H*W) or as (N, C, H, W).

They follow scikit-learn's conventions (``get_params`` / ``set_params``,
learned attributes ending in ``_``, ``partial_fit``, any labels), pass its
``check_estimator``, and work in ``Pipeline``, ``cross_val_score`` and
``GridSearchCV``.  Training is the :class:`ferronet.trainer.Trainer`'s, on
the active backend (native by default); the fitted network is
``estimator.network_``.  See :mod:`ferronet.sklearn.base` for the parameters
they share.
"""

from __future__ import annotations

import re

try:
    import sklearn
except ImportError as exc:  # scikit-learn is optional: say how to get it
    raise ImportError("ferronet.sklearn needs scikit-learn: pip install 'ferronet[sklearn]'") from exc

#: the oldest scikit-learn whose estimator API (validate_data, __sklearn_tags__) these estimators use
MIN_SKLEARN = (1, 6)

if tuple(int(part) for part in re.findall(r"\d+", sklearn.__version__)[:2]) < MIN_SKLEARN:
    raise ImportError(f"ferronet.sklearn needs scikit-learn >= {'.'.join(map(str, MIN_SKLEARN))}, found "
                      f"{sklearn.__version__}: pip install 'ferronet[sklearn]'")

from ferronet.sklearn.convnet_classifier import ConvNetClassifier  # noqa: E402 - after the check above
from ferronet.sklearn.mlp_classifier import MLPClassifier  # noqa: E402
from ferronet.sklearn.mlp_regressor import MLPRegressor  # noqa: E402

__all__ = ["ConvNetClassifier", "MLPClassifier", "MLPRegressor"]
