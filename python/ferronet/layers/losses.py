"""The output layers by the names networks accept for ``loss=``.

=============  ======================================  ====================================
name           layer                                   targets
=============  ======================================  ====================================
softmax_ce     :class:`SoftmaxWithLoss` (the book's)   class labels (N,) or one-hot (N, C)
mse            :class:`MSELoss`                        values of the outputs' shape
l1             :class:`L1Loss`                         values of the outputs' shape
huber          :class:`HuberLoss` (delta = 1)          values of the outputs' shape
sigmoid_bce    :class:`SigmoidWithLoss`                0/1 labels (N, K) (or probabilities)
kl_div         :class:`KLDivLoss`                      distributions (N, C)
=============  ======================================  ====================================
"""

from __future__ import annotations

from ferronet.layers.base import LossLayer
from ferronet.layers.elementwise_losses import HuberLoss, L1Loss, MSELoss, SigmoidWithLoss
from ferronet.layers.kl_div_loss import KLDivLoss
from ferronet.layers.softmax_with_loss import SoftmaxWithLoss

#: The loss layers by the names networks accept for ``loss=``.
LOSSES: dict[str, type[LossLayer]] = {
    "softmax_ce": SoftmaxWithLoss,
    "mse": MSELoss,
    "l1": L1Loss,
    "huber": HuberLoss,
    "sigmoid_bce": SigmoidWithLoss,
    "kl_div": KLDivLoss,
}


def loss_layer(name: str) -> type[LossLayer]:
    """The layer class of the loss called ``name`` (any case); ValueError listing the names."""
    try:
        return LOSSES[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
