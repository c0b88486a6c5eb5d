"""Chapter 2: the gates with the book's weights, and Rosenblatt's learning rule."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ferronet.perceptron import AND, BOOK_GATES, NAND, OR, XOR, ConvergenceWarning, Perceptron

INPUTS = [(0, 0), (1, 0), (0, 1), (1, 1)]
TRUTH = {
    "AND": [0, 0, 0, 1],
    "NAND": [1, 1, 1, 0],
    "OR": [0, 1, 1, 1],
    "XOR": [0, 1, 1, 0],
}
GATES = {"AND": AND, "NAND": NAND, "OR": OR, "XOR": XOR}


@pytest.mark.parametrize("name", sorted(GATES))
def test_truth_tables(name):
    gate = GATES[name]
    outputs = [gate(x1, x2) for x1, x2 in INPUTS]
    assert outputs == TRUTH[name]
    assert all(type(y) is int for y in outputs)  # scalars in, Python ints out, as in the book


@pytest.mark.parametrize("name", sorted(GATES))
def test_gates_take_arrays(name):
    x = np.array(INPUTS)
    y = GATES[name](x[:, 0], x[:, 1])
    assert y.dtype == np.int64 and y.shape == (4,)
    np.testing.assert_array_equal(y, TRUTH[name])


def test_book_weights():
    assert BOOK_GATES["AND"] == ((0.5, 0.5), -0.7)
    assert BOOK_GATES["NAND"] == ((-0.5, -0.5), 0.7)
    assert BOOK_GATES["OR"] == ((0.5, 0.5), -0.2)
    p = Perceptron(*BOOK_GATES["AND"])
    assert p.predict([1, 1]) == 1 and p.predict([1, 0]) == 0
    np.testing.assert_array_equal(p.predict(np.array(INPUTS)), TRUTH["AND"])


@pytest.mark.parametrize("name", ["AND", "NAND", "OR"])
def test_fit_learns_the_linearly_separable_gates(name):
    p = Perceptron()
    p.fit(INPUTS, TRUTH[name], max_epochs=50)
    assert p.converged and p.separable is True
    assert p.errors_per_epoch[-1] == 0 and p.epochs_run == len(p.errors_per_epoch) <= 50
    np.testing.assert_array_equal(p.predict(np.array(INPUTS)), TRUTH[name])


def test_fit_proves_xor_is_not_separable_and_stops():
    p = Perceptron()
    with pytest.warns(ConvergenceWarning, match="not linearly separable"):
        p.fit(INPUTS, TRUTH["XOR"], max_epochs=10_000)
    assert p.converged is False and p.separable is False
    assert p.epochs_run < 100  # stopped at the first repeated state, long before max_epochs
    assert all(e > 0 for e in p.errors_per_epoch)
    wrong = np.count_nonzero(p.predict(np.array(INPUTS)) != TRUTH["XOR"])
    assert wrong >= 1  # no line separates XOR


def test_xor_has_no_single_perceptron_on_a_grid():
    # the theorem, checked on a grid: no (w1, w2, b) computes XOR
    grid = np.linspace(-2, 2, 17)
    x = np.array(INPUTS, dtype=np.float64)
    for w1, w2, b in itertools.product(grid, grid, grid):
        y = (x @ np.array([w1, w2]) + b > 0).astype(int)
        assert list(y) != TRUTH["XOR"]


def test_fit_reports_running_out_of_epochs():
    p = Perceptron()
    with pytest.warns(ConvergenceWarning, match="max_epochs=1 ran out"):
        p.fit(INPUTS, TRUTH["AND"], max_epochs=1)
    assert p.converged is False and p.separable is None and p.epochs_run == 1


def test_fit_on_a_larger_separable_problem():
    gen = np.random.default_rng(0)
    x = gen.uniform(-1, 1, size=(200, 3))
    x = x[np.abs(x @ [1.0, -2.0, 0.5] - 0.1) > 0.05]  # a margin around the plane
    t = (x @ [1.0, -2.0, 0.5] - 0.1 > 0).astype(int)
    p = Perceptron().fit(x, t, max_epochs=1000)
    assert p.converged
    np.testing.assert_array_equal(p.predict(x), t)


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="no weights"):
        Perceptron().predict([0, 1])
    with pytest.raises(ValueError, match="shape"):
        Perceptron([0.5, 0.5]).predict([0, 1, 1])
    with pytest.raises(ValueError, match="max_epochs"):
        Perceptron().fit(INPUTS, TRUTH["AND"], max_epochs=0)
    with pytest.raises(ValueError, match="max_epochs"):
        Perceptron().fit(INPUTS, TRUTH["AND"], max_epochs=2.5)
    with pytest.raises(ValueError, match="0 or 1"):
        Perceptron().fit(INPUTS, [0, 2, 0, 1])
    with pytest.raises(ValueError, match="fit needs"):
        Perceptron().fit(INPUTS, [0, 1])
