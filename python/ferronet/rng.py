"""Where ferronet's randomness comes from: a private seed, or NumPy's global generator.

The book never takes a seed: it draws initial weights, mini-batches and
dropout masks from NumPy's global generator (``np.random.randn``,
``np.random.choice``, ``np.random.rand``), so ``np.random.seed(0)`` at the
top of a script makes a run repeat.  ferronet keeps that contract:

* ``seed=None`` (the default everywhere): :func:`generator` returns a
  :class:`numpy.random.Generator` drawing from the bit generator behind
  ``np.random.seed`` / ``np.random.rand`` (``np.random.get_bit_generator()``),
  so seeding NumPy's global state before building a network and a trainer
  reproduces the run, and no seed gives a fresh run;
* ``seed=<int>`` (or a Generator): a private generator, independent of the
  global state and of every other object.

The numbers drawn are not the book's (a Generator's normal sampler is not
``randn``'s), but they come from, and advance, the same global stream.
"""

from __future__ import annotations

import numpy as np


def _global_bit_generator() -> np.random.BitGenerator:
    """The MT19937 behind ``np.random.seed`` and the ``np.random.*`` functions."""
    get = getattr(np.random, "get_bit_generator", None)  # NumPy >= 1.25
    if get is not None:
        return get()
    return np.random.mtrand._rand._bit_generator  # older NumPy: the same object, not yet public


def generator(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """A Generator: private when ``seed`` is given, else on NumPy's global state.

    seed: None -> draws advance NumPy's global generator (reseeded by
    ``np.random.seed``); an int, a SeedSequence or a Generator -> what
    ``np.random.default_rng(seed)`` gives (a Generator is returned as is).
    """
    if seed is None:
        return np.random.Generator(_global_bit_generator())
    return np.random.default_rng(seed)


def child_seed(seed: int | np.random.Generator | None, rng: np.random.Generator) -> int | None:
    """The seed for a part (a dropout layer) of an object built with ``seed`` from ``rng``.

    None when ``seed`` is None, so the part draws from NumPy's global
    generator when it runs, as the book's layers do; else a fresh int drawn
    from ``rng`` (the object's private generator), so the part is private too.
    """
    return None if seed is None else int(rng.integers(2**63))
