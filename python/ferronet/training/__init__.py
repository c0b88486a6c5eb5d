"""The pieces of :class:`ferronet.trainer.Trainer`, one job per module:

* :mod:`~ferronet.training.validation` - a reproducible held-out split and its batched loss;
* :mod:`~ferronet.training.history` - per-epoch metrics, saved as JSON atomically;
* :mod:`~ferronet.training.progress` - a tqdm bar on a terminal, the book's lines elsewhere;
* :mod:`~ferronet.training.callbacks` - the callback protocol and its stop request;
* :mod:`~ferronet.training.monitor`, :mod:`~ferronet.training.early_stopping` - the best value of a metric;
* :mod:`~ferronet.training.checkpoint`, :mod:`~ferronet.training.state_file`,
  :mod:`~ferronet.training.network_state` - checkpoints and exact resume, without pickle.
"""

from ferronet.training.callbacks import Callback
from ferronet.training.early_stopping import EarlyStopping

__all__ = ["Callback", "EarlyStopping"]
