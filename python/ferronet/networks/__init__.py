"""The book's networks, built on :class:`ferronet.networks.base.LayerNetwork`.

Each is registered (:func:`register_network`), so ``ferronet.load`` can
rebuild it from a saved file's description.
"""

from ferronet.networks.architecture import NETWORK_CLASSES, register_network
from ferronet.networks.base import LayerNetwork
from ferronet.networks.deep_conv_net import DeepConvNet
from ferronet.networks.multi_layer_net import MultiLayerNet
from ferronet.networks.multi_layer_net_extend import MultiLayerNetExtend
from ferronet.networks.simple_conv_net import SimpleConvNet
from ferronet.networks.two_layer_net import TwoLayerNet

for _network in (TwoLayerNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, DeepConvNet):
    register_network(_network)
del _network

__all__ = ["NETWORK_CLASSES", "DeepConvNet", "LayerNetwork", "MultiLayerNet", "MultiLayerNetExtend", "SimpleConvNet",
           "TwoLayerNet", "register_network"]
