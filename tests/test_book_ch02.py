"""The book's chapter 2 scripts (and_gate.py, nand_gate.py, or_gate.py, xor_gate.py) on ferronet.

Each script defines its gate and prints the truth table; with ferronet the
gate is imported instead (``from ferronet.perceptron import AND``).
"""

from __future__ import annotations

import pytest

from ferronet.perceptron import AND, NAND, OR, XOR

EXPECTED = {
    AND: ["(0, 0) -> 0", "(1, 0) -> 0", "(0, 1) -> 0", "(1, 1) -> 1"],
    NAND: ["(0, 0) -> 1", "(1, 0) -> 1", "(0, 1) -> 1", "(1, 1) -> 0"],
    OR: ["(0, 0) -> 0", "(1, 0) -> 1", "(0, 1) -> 1", "(1, 1) -> 1"],
    XOR: ["(0, 0) -> 0", "(1, 0) -> 1", "(0, 1) -> 1", "(1, 1) -> 0"],
}


@pytest.mark.parametrize("gate", [AND, NAND, OR, XOR], ids=["and_gate", "nand_gate", "or_gate", "xor_gate"])
def test_gate_scripts_print_the_truth_table(gate, capsys):
    for xs in [(0, 0), (1, 0), (0, 1), (1, 1)]:
        y = gate(xs[0], xs[1])
        print(str(xs) + " -> " + str(y))
    assert capsys.readouterr().out.splitlines() == EXPECTED[gate]
