"""The book's networks, built on :class:`ferronet.networks.base.LayerNetwork`."""

from ferronet.networks.base import LayerNetwork
from ferronet.networks.multi_layer_net import MultiLayerNet
from ferronet.networks.two_layer_net import TwoLayerNet

__all__ = ["LayerNetwork", "MultiLayerNet", "TwoLayerNet"]
