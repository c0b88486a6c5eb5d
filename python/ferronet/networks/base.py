"""The shared skeleton of the book's networks: ordered layers + a loss layer.

A :class:`LayerNetwork` owns ``params`` (name -> array, all in one float
dtype, C-contiguous: the book's dict), the named ``layers`` run front to
back by ``predict``, and a ``last_layer`` that turns scores and targets
into a loss: the one named by ``loss=`` (:data:`ferronet.layers.LOSSES`;
the book's ``SoftmaxWithLoss`` by default), so every network does
classification, regression or multi-label classification with one
argument.  ``layers`` is an ordered dict (name -> layer) as in the book,
or, for a network whose book version keeps a plain list (``DeepConvNet``),
a :class:`ferronet.networks.layer_list.LayerList`, which indexes like that
list and reads like the dict: subclasses choose with ``layer_container``.  Each parameter is bound to one of a layer's declared
parameters (``'W1'`` -> ``layers['Affine1'].W``, see
:class:`ferronet.layers.base.Layer`); the layer says where its gradient is.
Assigning ``net.params['W1'] = array`` rebinds the layer too.  The weights
may be regularised (L2, L1, max-norm: :mod:`ferronet.regularizers`).

Subclasses build their parameters and layers in ``__init__`` with
:meth:`LayerNetwork.add_param` and :meth:`LayerNetwork.add_layer`; the
methods here then give predict / loss / accuracy / gradient /
numerical_gradient / loss_and_gradient / apply_constraints / save_params /
load_params for free.  Every layer follows the layer protocol, so each
gets ``train_flg`` and ``keep_state``.

Two kinds of forward pass:

* ``loss`` (and so ``gradient``) runs the layers as the book does: each one
  keeps what its ``backward`` needs;
* ``predict`` is inference: it runs in batches and passes
  ``keep_state=False`` to the layers, so no activation of the call stays
  referenced, and whatever an earlier ``loss``
  kept for ``backward`` is left as it was.

Saved state: ``save_params`` writes the parameters and every array a layer
lists in its ``persistent`` class attribute (batch normalisation's running
statistics, as ``'<layer name>.running_mean'``), which the book's pickle
files lose, as ``.npz`` or safetensors, with the network's class and
constructor arguments, which every network records when it is built
(``LayerNetwork.__new__``; see :mod:`ferronet.networks.architecture`), so
that ``ferronet.load(file)`` rebuilds it.  ``load_params`` reads those files
and the book's pickles (see :mod:`ferronet.networks.param_file`).
``to_onnx`` exports the inference pass (:mod:`ferronet.export`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, ClassVar, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ferronet import gradient as _gradient
from ferronet import initializers, metrics, regularizers
from ferronet.arrays import FLOAT_DTYPES, updatable
from ferronet.layers.activations import Activation, Relu
from ferronet.layers.base import Layer, LossLayer
from ferronet.layers.losses import loss_layer
from ferronet.layers.pooling import Pooling
from ferronet.networks import architecture
from ferronet.networks.layer_list import LayerList
from ferronet.networks.param_file import choose_format, params_path, read_params_into, write_params


PathLike = Union[str, os.PathLike]


class ParamDict(dict):
    """The book's ``params`` dict, which also knows the layer attribute each
    entry feeds: assigning ``params['W1'] = array`` rebinds that layer."""

    def __init__(self) -> None:
        super().__init__()
        self._bound: dict[str, tuple[Layer, str]] = {}

    def bind(self, name: str, layer: Layer, attr: str) -> None:
        """Make ``layer.attr`` the array stored under ``name``."""
        self._bound[name] = (layer, attr)
        setattr(layer, attr, self[name])

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        if name in self._bound:
            layer, attr = self._bound[name]
            setattr(layer, attr, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and ``copy.deepcopy``) the entries together with their bindings: the default way
        for a dict subclass refills the entries through ``__setitem__`` before ``_bound`` exists.
        The layers are pickled with the network, so they share the restored arrays."""
        return _param_dict_from, (dict(self), self._bound)


def _param_dict_from(entries: dict[str, Any], bound: dict[str, tuple[Layer, str]]) -> ParamDict:
    """A :class:`ParamDict` holding ``entries``, bound as ``bound`` says (what unpickling calls)."""
    params = ParamDict()
    dict.update(params, entries)  # the layers already hold these arrays: nothing to rebind
    params._bound = bound
    return params


class LayerNetwork:
    """Ordered layers, a loss layer, parameters bound to layers, weight regularisation.

    dtype: float32 or float64, the dtype of every parameter (and so of every
    activation: the layers with parameters convert their input to it).
    Regularisation of the parameters registered with ``regularize=True``
    (the weights, not the biases or batch normalisation's gamma and beta),
    see :mod:`ferronet.regularizers`:

    * weight_decay_lambda (>= 0): L2; ``loss`` adds ``0.5 * lambda * sum(W**2)``
      and ``gradient`` adds ``lambda * W``;
    * l1_lambda (>= 0): L1; ``loss`` adds ``lambda * sum(|W|)`` and
      ``gradient`` adds ``lambda * sign(W)``;
    * max_norm (None or > 0): :meth:`apply_constraints` scales every unit's
      incoming weights back to that Euclidean norm; the Trainer calls it
      after each optimizer update, a hand-written loop must call it too.

    loss: the output layer, by name (any case; ValueError listing the names):

    * ``"softmax_ce"`` (default): softmax + cross-entropy, the book's
      classifier; targets are labels (N,) or one-hot rows (N, C);
    * ``"mse"``, ``"l1"``, ``"huber"`` (delta 1): regression; targets hold
      the outputs' values, (N, output_size) (or (N,) for one output);
    * ``"sigmoid_bce"``: multi-label (or binary) classification, one
      independent sigmoid per output; targets (N, output_size) in {0, 1};
    * ``"kl_div"``: softmax fitted to target distributions (N, C);

    or a :class:`~ferronet.layers.base.LossLayer` instance (e.g.
    ``HuberLoss(delta=0.5)``).  ``predict`` always returns the raw outputs
    (logits, or the regression's values); the loss decides what
    ``accuracy`` and ``score`` measure.
    """

    #: the type of ``layers``: ``OrderedDict`` (the book's dict) or ``LayerList`` (the book's list)
    layer_container: ClassVar[type] = OrderedDict

    def __new__(cls, *args: Any, **kwargs: Any) -> LayerNetwork:
        # the one place every network records its constructor arguments (for saved files and ferronet.load)
        network = super().__new__(cls)
        network._init_arguments = architecture.bound_arguments(cls, args, kwargs)
        return network

    def __init__(self, dtype: DTypeLike = np.float64, weight_decay_lambda: float = 0.0,
                 l1_lambda: float = 0.0, max_norm: float | None = None,
                 loss: str | LossLayer = "softmax_ce") -> None:
        self.dtype = np.dtype(dtype)
        if self.dtype not in FLOAT_DTYPES:
            raise TypeError(f"a network's dtype must be float32 or float64, got {self.dtype}")
        self.weight_decay_lambda = regularizers.check_lambda("weight_decay_lambda", weight_decay_lambda)
        self.l1_lambda = regularizers.check_lambda("l1_lambda", l1_lambda)
        self.max_norm = regularizers.check_max_norm(max_norm)
        self.params: ParamDict = ParamDict()
        self.layers: OrderedDict[str, Layer] | LayerList = self.layer_container()
        self.last_layer: LossLayer = loss if isinstance(loss, LossLayer) else loss_layer(loss)()
        self._bindings: dict[str, tuple[str, str]] = {}  # param name -> (layer name, attribute)
        self.regularized: list[str] = []  # names of the weights the regularisers act on

    # ---------------------------------------------------------------- building

    def add_param(self, name: str, value: ArrayLike, regularize: bool = False) -> np.ndarray:
        """Store ``value`` as parameter ``name`` (C-contiguous, in the network's dtype).

        ``regularize=True`` marks a weight: the penalties and the max-norm
        constraint act on it (not on biases, gamma or beta).
        """
        self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)
        if regularize:
            self.regularized.append(name)
        return self.params[name]

    def add_weight(self, name: str, shape: tuple[int, ...], weight_init_std: str | float,
                   rng: np.random.Generator) -> np.ndarray:
        """Draw a weight of ``shape`` (see :func:`ferronet.initializers.init_weight`) and add it,
        regularised, as parameter ``name``."""
        return self.add_param(name, initializers.init_weight(shape, weight_init_std, rng, self.dtype),
                              regularize=True)

    def add_layer(self, name: str, layer: Layer, **bindings: str) -> Layer:
        """Append ``layer`` as ``name``; ``bindings`` maps its declared parameters to parameter names.

        ``add_layer('Affine1', Affine(W, b), W='W1', b='b1')`` says that
        ``params['W1']`` is ``layer.W`` (and so its gradient is what the
        layer declares for ``W``: ``layer.dW``).
        """
        if not isinstance(layer, Layer):
            raise TypeError(f"layer {name!r} must follow the layer protocol (ferronet.layers.Layer), "
                            f"got {type(layer).__name__}")
        if not self.layers and hasattr(layer, "input_grad"):
            layer.input_grad = False  # the first layer's input is data: no gradient needed
        self.layers[name] = layer
        for attr, param_name in bindings.items():
            if attr not in layer.params:
                raise ValueError(f"{type(layer).__name__} has no parameter {attr!r}; it has {sorted(layer.params)}")
            if param_name not in self.params:
                raise KeyError(f"parameter {param_name!r} must be added before layer {name!r} binds it")
            self.params.bind(param_name, layer, attr)
            self._bindings[param_name] = (name, attr)
        return layer

    def add_activation(self, name: str, activation: type[Activation], width: int, number: int,
                       rng: np.random.Generator) -> Layer:
        """Append ``activation.for_width(width, dtype, rng)`` as layer ``name``: the activation of
        ``width`` units (or channels).  Its trainable parameters (PReLU's ``alpha``) become network
        parameters named after the attribute and ``number`` (``alpha1``), without weight decay."""
        layer = activation.for_width(width, self.dtype, rng)
        names = {attr: f"{attr}{number}" for attr in layer.params}
        for attr, param_name in names.items():
            self.add_param(param_name, getattr(layer, attr))
        return self.add_layer(name, layer, **names)

    # ---------------------------------------------------------------- inference

    def _run_order(self) -> list[Layer]:
        """The layers in the order a pass runs them (backward: reversed): as added, except that a
        ReLU right before a max-pooling layer runs after it, on the pooled array (a quarter of the
        elements for 2x2 windows; the ReLU passes over a convolution's output were a quarter of a
        SimpleConvNet step).

        The result is the same, bit for bit: ``relu(max(window)) == max(relu(window))``; and the
        gradient goes to the window's first maximum of x, which is the first maximum of relu(x)
        whenever that maximum is positive, and is zero otherwise either way.  Only what the ReLU
        layer keeps differs (the pooled shape).  ``self.layers`` itself is not reordered.
        """
        order = list(self.layers.values())
        for i in range(len(order) - 1):
            first, second = order[i], order[i + 1]
            if type(first) is Relu and isinstance(second, Pooling) and second.mode == "max":
                order[i], order[i + 1] = second, first
        return order

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        """Run every layer once on ``x`` (in :meth:`_run_order`); ``keep_state=False`` asks them to
        keep nothing for backward."""
        for layer in self._run_order():
            x = layer.forward(x, train_flg=train_flg, keep_state=keep_state)
        return x

    def predict(self, x: np.ndarray, train_flg: bool = False, batch_size: int | None = 100) -> np.ndarray:
        """Scores (logits) of ``x``: x (N, ...) -> (N, output_size), in the network's dtype.

        An inference pass: no layer keeps anything for ``backward`` (what a
        previous ``loss`` kept stays as it was).  In eval mode (``train_flg``
        False) the samples go through in chunks of ``batch_size`` (None: all
        at once), which bounds the memory of the activations; the result does
        not depend on it.  In train mode the whole of x is one batch, since
        batch normalisation's statistics depend on the batch.  A 1-d x is
        one sample (for the dense networks) and gives (output_size,).
        """
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        x = np.asarray(x)
        if train_flg or batch_size is None or x.ndim < 2 or len(x) <= batch_size:
            return self._forward(x, train_flg, keep_state=False)
        step = int(batch_size)
        chunks = [self._forward(x[start:start + step], train_flg, keep_state=False)  # (B, output_size)
                  for start in range(0, len(x), step)]
        return np.concatenate(chunks)  # (N, output_size)

    def _weights(self) -> list[np.ndarray]:
        """The regularised parameters (the weights), in the order they were added."""
        return [self.params[name] for name in self.regularized]

    def regularization_loss(self) -> float:
        """``0.5 * weight_decay_lambda * sum(W**2) + l1_lambda * sum(|W|)`` over the weights."""
        return regularizers.penalty(self._weights(), self.weight_decay_lambda, self.l1_lambda)

    def apply_constraints(self) -> None:
        """Apply the max-norm constraint to the weights, in place (nothing when ``max_norm`` is None).

        Call it after every optimizer update; :class:`ferronet.trainer.Trainer` does.
        """
        regularizers.apply_max_norm(self._weights(), self.max_norm)

    def loss(self, x: np.ndarray, t: np.ndarray, train_flg: bool = False) -> float:
        """Loss of ``x`` against targets ``t`` (as the loss layer takes them), penalties included.

        The layers keep what ``backward`` needs (one batch, whatever its size).
        """
        y = self._forward(x, train_flg, keep_state=True)
        return float(self.last_layer.forward(y, t)) + self.regularization_loss()

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int | None = 100) -> float:
        """Fraction of the predictions that are right, as the loss defines them.

        * classification (``softmax_ce``, ``kl_div``): the samples whose
          largest score is the true class; t labels (N,) of any integer dtype,
          or one-hot rows / distributions (N, C) (their largest entry);
        * multi-label (``sigmoid_bce``): the (sample, label) pairs whose score
          is above 0 exactly where the target is 1 (above 1/2); t (N, K).

        A regression network (``mse``, ``l1``, ``huber``) has no accuracy:
        ValueError, pointing to :meth:`score` (R²).  x: (N, ...).
        ``batch_size`` predicts in chunks (the last partial chunk included,
        unlike the book's SimpleConvNet), to bound memory on large sets;
        None predicts all at once.
        """
        task = self.last_layer.task
        if task == "regression":
            raise ValueError(f"accuracy is not defined for a regression network (loss layer "
                             f"{type(self.last_layer).__name__}): use score(x, t) for the R² of its "
                             f"predictions, or loss(x, t)")
        y = self._outputs(x, batch_size)  # (N, output_size)
        if task == "multilabel":
            return metrics.multilabel_accuracy(y, t)
        return metrics.accuracy(y, t)

    def score(self, x: np.ndarray, t: np.ndarray, batch_size: int | None = 100) -> float:
        """One number for how well the network fits ``(x, t)``, higher is better
        (scikit-learn's convention): :meth:`accuracy` for the classifiers, the
        coefficient of determination R² (:func:`ferronet.metrics.r2_score`)
        of the predictions for regression (1 is perfect, 0 is no better than
        predicting the targets' mean)."""
        if self.last_layer.task == "regression":
            return metrics.r2_score(self._outputs(x, batch_size), t)
        return self.accuracy(x, t, batch_size)

    def _outputs(self, x: np.ndarray, batch_size: int | None) -> np.ndarray:
        """``predict`` of x (N, ...) (a 1-d x is one sample) for scoring; ValueError for no samples."""
        x = np.asarray(x)
        if x.ndim == 1:
            x = x.reshape(1, -1)  # a single sample
        if x.shape[0] == 0:
            raise ValueError("scoring needs at least one sample")
        return self.predict(x, batch_size=batch_size)  # (N, output_size)

    # ---------------------------------------------------------------- gradients

    def loss_and_gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """One forward and one backward pass: ``(loss, {param name: gradient})``.

        The gradients have the parameters' shapes and dtype; the penalties
        are included in both the loss and the gradients (the weights'
        gradients are the layers' own arrays, with the penalty terms added
        in place).
        """
        loss = self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self._run_order()):
            dout = layer.backward(dout)
        layer_grads = {name: layer.gradients() for name, layer in self.layers.items() if layer.params}
        grads: dict[str, np.ndarray] = {}
        for name in self.params:
            layer_name, attr = self._bindings[name]
            grads[name] = layer_grads[layer_name][attr]
        if self.weight_decay_lambda != 0 or self.l1_lambda != 0:
            for name in self.regularized:
                grads[name] = updatable(grads[name])
            regularizers.add_penalty_gradients([grads[name] for name in self.regularized], self._weights(),
                                               self.weight_decay_lambda, self.l1_lambda)
        return loss, grads

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients by backpropagation: ``{param name: array of its shape and dtype}``."""
        return self.loss_and_gradient(x, t)[1]

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients by central differences (slow; for checking), float64 arrays."""

        def loss_at(_: np.ndarray) -> float:
            return self.loss(x, t, train_flg=True)

        return {name: _gradient.numerical_gradient(loss_at, p) for name, p in self.params.items()}

    # ---------------------------------------------------------------- describing

    @property
    def init_arguments(self) -> dict[str, Any] | None:
        """The arguments this network was built with, by name, defaults filled in (a copy; None when
        they were not recorded, e.g. for an object made without calling the class)."""
        recorded = getattr(self, "_init_arguments", None)
        return None if recorded is None else dict(recorded)

    def sample_shape(self) -> tuple[int, ...] | None:
        """The shape of one input sample, when the network knows it: its ``input_dim`` (C, H, W) or
        ``(input_size,)`` argument, else ``(D,)`` when the first layer is an Affine of D inputs; None
        otherwise."""
        arguments = getattr(self, "_init_arguments", None) or {}
        if arguments.get("input_dim") is not None:
            return tuple(int(d) for d in arguments["input_dim"])
        if arguments.get("input_size") is not None:
            return (int(arguments["input_size"]),)
        first = next(iter(self.layers.values()), None)
        weights = getattr(first, "W", None)
        if isinstance(weights, np.ndarray) and weights.ndim == 2:
            return (weights.shape[0],)
        return None

    def metadata(self) -> dict[str, str]:
        """What saved files say about this network: class, dtype, constructor arguments as JSON
        (see :mod:`ferronet.networks.architecture`)."""
        return architecture.metadata(self)

    def to_onnx(self, path: PathLike, input_shape: tuple[int, ...] | None = None,
                opset: int | None = None, *, output: str | None = None) -> Path:
        """Export the inference pass and the loss's output function (softmax, sigmoid or identity;
        ``output`` chooses another) as an ONNX model with a dynamic batch; returns the path.

        See :mod:`ferronet.export`; needs ``pip install 'ferronet[onnx]'``.
        """
        from ferronet.export import to_onnx

        return to_onnx(self, path, input_shape=input_shape, opset=opset, output=output)

    # ---------------------------------------------------------------- saving

    def persistent_state(self) -> dict[str, np.ndarray]:
        """``{'<layer name>.<attribute>': array}`` for the arrays layers list in ``persistent``.

        These are saved and loaded with the parameters but not trained
        (batch normalisation's running mean and variance).
        """
        return {f"{name}.{attr}": getattr(layer, attr)
                for name, layer in self.layers.items() for attr in layer.persistent}

    def save_params(self, path: PathLike | None = None, *, file_name: PathLike | None = None,
                    format: str | None = None) -> Path:
        """Write the parameters, the persistent layer state and the network's description; returns the path.

        The file: ``path``, or ``file_name`` as the book calls it (default
        ``params.npz``).  format: ``"npz"`` (an ``.npz`` archive) or
        ``"safetensors"`` (needs ``pip install 'ferronet[safetensors]'``);
        None: safetensors for a name ending in ``.safetensors``, else npz.
        The format's extension is appended to a name without one (as
        ``np.savez`` does); a name with one is kept, so the book's
        ``save_params("params.pkl")`` writes ``params.pkl``, holding an
        ``.npz`` archive, which :meth:`load_params` recognises by content.
        Arrays are stored under their parameter names (``W1``, ``gamma1``)
        and ``'<layer name>.<attribute>'``, in their dtype, without pickle;
        beside them, :meth:`metadata` (the class and constructor arguments,
        which ``ferronet.load`` rebuilds the network from): the ``.npz``
        member ``ferronet.json``, or safetensors' ``__metadata__``.
        The write is atomic (see ``ferronet.fileio.atomic_write``): if the
        process dies while saving, the previous file is still there, intact.
        """
        chosen = choose_format(path if path is not None else file_name, format)
        target = params_path(path, file_name, chosen)
        write_params(target, {**self.params, **self.persistent_state()}, self.metadata(), chosen)
        return target

    def load_params(self, path: PathLike | None = None, *, file_name: PathLike | None = None) -> None:
        """Copy the arrays of a weight file into this network, in place.

        The file: ``path`` or ``file_name`` (the book's keyword), named as in
        :meth:`save_params`.  Its format is recognised by its first bytes:

        * a zip archive - the ``.npz`` :meth:`save_params` writes - must hold
          exactly this network's parameters and persistent layer state; every
          shape and dtype is checked from the arrays' headers before any data
          is read, and nothing is unpickled;
        * safetensors (``save_params(format="safetensors")``): the same
          arrays; the header's every size is checked against the file (see
          :mod:`ferronet.networks.safetensors_file`) before any data is read;
        * a pickle - the book's ``pickle.dump(params)`` files, such as
          ``sample_weight.pkl`` or ``deep_convnet_params.pkl`` - is read by
          :func:`ferronet.book_pickle.read_book_pickle`, which rebuilds
          NumPy arrays only and refuses anything else (nothing in the file is
          run).  It must hold this network's parameters under the book's
          names; it has no batch normalisation statistics, so those keep
          their values and a :class:`~ferronet.networks.param_file.MissingStateWarning`
          says so.

        A name, shape or dtype mismatch raises ValueError naming the file and
        the first mismatch, and nothing is changed.  Values are converted to
        the network's dtype, so a float64 file loads into a float32 network
        and back.  The arrays are updated in place (``np.copyto``): the
        layers and an optimizer's state keep pointing at them.  A damaged
        file raises ValueError naming it; a missing one FileNotFoundError.
        """
        read_params_into(params_path(path, file_name), self.params, self.persistent_state())
