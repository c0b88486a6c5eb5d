"""The book's networks, built on :class:`ferronet.networks.base.LayerNetwork`."""

from ferronet.networks.base import LayerNetwork
from ferronet.networks.deep_conv_net import DeepConvNet
from ferronet.networks.multi_layer_net import MultiLayerNet
from ferronet.networks.multi_layer_net_extend import MultiLayerNetExtend
from ferronet.networks.simple_conv_net import SimpleConvNet
from ferronet.networks.two_layer_net import TwoLayerNet

__all__ = ["DeepConvNet", "LayerNetwork", "MultiLayerNet", "MultiLayerNetExtend", "SimpleConvNet", "TwoLayerNet"]
