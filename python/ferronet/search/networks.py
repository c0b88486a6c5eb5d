"""The book's networks as a search builds them: ``NetworkSpec(model, input_shape)(params, seed)``.

The models are ``ferronet train``'s (:data:`ferronet.cli.train.MODELS`):
``mlp``, ``mlp-extend`` (batch normalisation), ``simple-convnet`` and
``deep-convnet``.  A spec is a small picklable object, so it travels to the
Dask workers, and calling it builds the network a trial's ``params`` ask for:
``params["weight_decay"]`` is the network's ``weight_decay_lambda`` (0 when
neither searched nor fixed), and ``params["dropout"]`` mlp-extend's dropout
ratio (none when absent or 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ferronet.cli.train import DTYPES, MLP_HIDDEN, MODELS


@dataclass(frozen=True)
class NetworkSpec:
    """Builds ``model`` for one sample of shape ``input_shape`` ((D,) for the MLPs, (C, H, W) for the
    convolutional networks), with ``hidden`` units per hidden layer (the MLPs), ``output_size``
    classes and parameters in ``dtype`` ('float32' or 'float64')."""

    model: str
    input_shape: tuple[int, ...]
    hidden: tuple[int, ...] = MLP_HIDDEN
    output_size: int = 10
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}: use one of {', '.join(MODELS)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        wanted = 3 if MODELS[self.model].images else 1
        if len(self.input_shape) != wanted:
            kind = "(C, H, W) images" if wanted == 3 else "flat (D,) rows"
            raise ValueError(f"{self.model} takes {kind}, got input shape {tuple(self.input_shape)}")

    @property
    def images(self) -> bool:
        """Whether the network takes images (N, C, H, W) rather than rows (N, D)."""
        return MODELS[self.model].images

    def __call__(self, params: Mapping[str, Any], seed: int) -> Any:
        from ferronet import networks

        dtype = DTYPES[self.dtype]
        decay = float(params.get("weight_decay", 0.0))
        if self.model == "mlp":
            return networks.MultiLayerNet(self.input_shape[0], list(self.hidden), self.output_size,
                                          weight_decay_lambda=decay, dtype=dtype, seed=seed)
        if self.model == "mlp-extend":
            dropout = float(params.get("dropout", 0.0))
            return networks.MultiLayerNetExtend(self.input_shape[0], list(self.hidden), self.output_size,
                                                weight_decay_lambda=decay, use_batchnorm=True,
                                                use_dropout=dropout > 0, dropout_ration=dropout or 0.5,
                                                dtype=dtype, seed=seed)
        if self.model == "simple-convnet":
            return networks.SimpleConvNet(input_dim=tuple(self.input_shape), output_size=self.output_size,
                                          weight_init_std="he", weight_decay_lambda=decay, dtype=dtype, seed=seed)
        return networks.DeepConvNet(input_dim=tuple(self.input_shape), output_size=self.output_size,
                                    weight_decay_lambda=decay, dtype=dtype, seed=seed)


#: chapter 6's network: MultiLayerNet 784-100-100-100-100-100-100-10 in float64, as the book searches it
BOOK_NETWORK = NetworkSpec("mlp", (784,), hidden=(100,) * 6, dtype="float64")
