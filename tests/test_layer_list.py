"""DeepConvNet.layers is the book's list (indexed, copied, reversed) and still
reads like the other networks' ordered dict (names, items)."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet.layers import Affine, Convolution, Dropout, Pooling, Relu
from ferronet.networks import DeepConvNet
from ferronet.networks.layer_list import LayerList

#: the book's DeepConvNet: the positions in self.layers holding W1 .. W8
BOOK_PARAM_LAYERS = (0, 2, 5, 7, 10, 12, 15, 18)


def small_deep(seed=0):
    return DeepConvNet(input_dim=(1, 8, 8), hidden_size=6, output_size=3, seed=seed)


def test_layers_index_like_the_books_list():
    net = DeepConvNet(seed=0)
    assert isinstance(net.layers, LayerList) and len(net.layers) == 20
    for i, layer_idx in enumerate(BOOK_PARAM_LAYERS):
        layer = net.layers[layer_idx]
        assert layer.W is net.params[f"W{i + 1}"] and layer.b is net.params[f"b{i + 1}"]
    assert [type(layer) for layer in net.layers[:5]] == [Convolution, Relu, Convolution, Relu, Pooling]
    assert isinstance(net.layers[15], Affine) and isinstance(net.layers[-1], Dropout)
    assert list(net.layers) == net.layers.values()  # iteration gives the layers, as a list does
    assert net.layers["Affine1"] is net.layers[15] and net.layers.name_of(15) == "Affine1"
    assert "Conv1" in net.layers and net.layers[0] in net.layers and "Conv9" not in net.layers
    assert net.layers.index(net.layers[7]) == 7


def test_book_style_backward_over_a_reversed_copy(backend):
    # the book's DeepConvNet.gradient: tmp = self.layers.copy(); tmp.reverse(); backward through it
    net = small_deep()
    gen = np.random.default_rng(0)
    x, t = gen.random((4, 1, 8, 8)), gen.integers(0, 3, 4)

    def same_masks():
        for i, layer in enumerate(net.layers):
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(i)

    same_masks()
    expected = net.gradient(x, t)
    same_masks()
    y = x
    for layer in net.layers:  # the book's predict(x, train_flg=True)
        y = layer.forward(y, True) if isinstance(layer, Dropout) else layer.forward(y)
    net.last_layer.forward(y, t)
    dout = net.last_layer.backward(1)
    tmp_layers = net.layers.copy()
    tmp_layers.reverse()
    assert type(tmp_layers) is list and tmp_layers[0] is net.layers[-1]  # the network's order is untouched
    for layer in tmp_layers:
        dout = layer.backward(dout)
    for i, layer_idx in enumerate(BOOK_PARAM_LAYERS):
        np.testing.assert_allclose(net.layers[layer_idx].dW, expected[f"W{i + 1}"], rtol=1e-10)
        np.testing.assert_allclose(net.layers[layer_idx].db, expected[f"b{i + 1}"], rtol=1e-10)


def test_book_style_load_rebinds_layers_by_index(backend):
    # the book's load_params: self.layers[layer_idx].W = self.params['W' + str(i+1)]
    net, other = small_deep(0), small_deep(1)
    x = np.random.default_rng(2).random((3, 1, 8, 8))
    for key, val in other.params.items():
        net.params[key] = val.copy()
    for i, layer_idx in enumerate(BOOK_PARAM_LAYERS):
        net.layers[layer_idx].W = net.params[f"W{i + 1}"]
        net.layers[layer_idx].b = net.params[f"b{i + 1}"]
    np.testing.assert_allclose(net.predict(x), other.predict(x), rtol=1e-12)


def test_replacing_a_layer_by_index_or_name_keeps_its_name():
    net = small_deep()
    new = Dropout(0.1)
    net.layers[17] = new
    assert net.layers["Dropout1"] is new
    other = Dropout(0.2)
    net.layers["Dropout1"] = other
    assert net.layers[17] is other and len(net.layers) == 20


def test_layer_list_errors():
    layers = LayerList()
    layers["a"] = Relu()
    with pytest.raises(KeyError):
        layers["b"]
    with pytest.raises(IndexError):
        layers[3]
    with pytest.raises(TypeError):
        layers[0:1] = [Relu()]
    assert not hasattr(layers, "append")  # layers are added by name, through the network
    assert "LayerList([0: a Relu])" == repr(layers)
