"""The book's chapter 5 scripts on ferronet: buy_apple.py, buy_apple_orange.py (with
layer_naive.py's MulLayer and AddLayer), gradient_check.py, train_neuralnet.py."""

from __future__ import annotations

import numpy as np
import pytest
from test_book_ch04 import train_neuralnet

from ferronet.datasets import load_mnist
from ferronet.layers import AddLayer, MulLayer
from ferronet.networks import TwoLayerNet


def test_buy_apple():
    apple, apple_num, tax = 100, 2, 1.1
    mul_apple_layer = MulLayer()
    mul_tax_layer = MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)
    price = mul_tax_layer.forward(apple_price, tax)
    dprice = 1
    dapple_price, dtax = mul_tax_layer.backward(dprice)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)
    assert int(price) == 220
    assert dapple == pytest.approx(2.2) and int(dapple_num) == 110 and dtax == 200


def test_buy_apple_orange():
    apple, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1
    mul_apple_layer = MulLayer()
    mul_orange_layer = MulLayer()
    add_apple_orange_layer = AddLayer()
    mul_tax_layer = MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)
    orange_price = mul_orange_layer.forward(orange, orange_num)
    all_price = add_apple_orange_layer.forward(apple_price, orange_price)
    price = mul_tax_layer.forward(all_price, tax)
    dprice = 1
    dall_price, dtax = mul_tax_layer.backward(dprice)
    dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
    dorange, dorange_num = mul_orange_layer.backward(dorange_price)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)
    assert int(price) == 715
    assert dapple == pytest.approx(2.2) and int(dapple_num) == 110
    assert dorange == pytest.approx(3.3) and int(dorange_num) == 165 and dtax == 650


def test_gradient_check(book_mnist, capsys):
    np.random.seed(0)  # the weights come from NumPy's global generator; a fixed draw keeps ReLU's kink away
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    network = TwoLayerNet(input_size=784, hidden_size=8, output_size=10)  # the book: hidden_size=50
    x_batch = x_train[:3]
    t_batch = t_train[:3]
    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    grad_backprop = network.gradient(x_batch, t_batch)
    for key in grad_numerical.keys():
        diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        print(key + ":" + str(diff))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["W1", "b1", "W2", "b2"]
    assert all(float(line.split(":")[1]) < 1e-8 for line in lines)


def test_train_neuralnet(book_mnist, capsys):
    np.random.seed(1)
    _, train_acc_list, test_acc_list = train_neuralnet(print)  # ch05 prints both accuracies as they are
    assert capsys.readouterr().out.splitlines()[-1] == f"{train_acc_list[-1]} {test_acc_list[-1]}"
    assert len(test_acc_list) == 240 // 6 and test_acc_list[-1] > 0.9
