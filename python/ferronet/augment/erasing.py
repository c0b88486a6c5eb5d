"""Random erasing: a random rectangle of some images set to a value.

The rectangles are drawn here; :func:`ferronet.ops.erase_boxes` (native)
writes them.  In NumPy a rectangle per image costs a whole-batch mask
(about 80 us of CPU time on 100 Fashion-MNIST images, twelve times a copy)
or a Python loop over the images (140 us); the kernel copies the batch at
the speed of a copy (11 us), and in a Compose, where the batch is already
its own, writes only the boxes (4 us).
"""

from __future__ import annotations

import math

import numpy as np

from ferronet import ops
from ferronet.augment.base import Augment, finite_number, number_range, probability


class RandomErasing(Augment):
    """Erase a random rectangle of each image with probability ``p``.

    The rectangle covers a fraction of the image drawn uniformly from
    ``area``, with a height/width ratio drawn log-uniformly from ``aspect``
    (its sides rounded and clipped to the image), at a uniformly random
    position inside the image; every channel is set to ``value`` there.
    """

    def __init__(self, p: float = 0.5, area: tuple[float, float] = (0.02, 0.33),
                 aspect: tuple[float, float] = (0.3, 3.3), value: float = 0.0,
                 image_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(image_shape)
        self.p = probability("p", p)
        self.area = number_range("area", area, positive=True, low=0.0)
        if self.area[1] > 1:
            raise ValueError(f"area must lie in (0, 1], got {self.area}")
        self.aspect = number_range("aspect", aspect, positive=True, low=0.0)
        self.value = finite_number("value", value)

    def boxes(self, n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        """int64 (n, 4) ``[top, left, bottom, right]``; images left alone get an empty box.

        One draw of ``u`` (n, 5) uniform in [0, 1): erase when ``u0 < p``; area
        fraction ``lo + u1 * (hi - lo)``; log aspect likewise from ``u2``; top
        ``floor(u3 * (h - height + 1))``, left likewise from ``u4``.
        """
        u = rng.random((n, 5))
        (a_lo, a_hi), (r_lo, r_hi) = self.area, (math.log(self.aspect[0]), math.log(self.aspect[1]))
        area = (a_lo + u[:, 1] * (a_hi - a_lo)) * (h * w)  # (n,) pixels
        ratio = np.exp(r_lo + u[:, 2] * (r_hi - r_lo))  # (n,) height / width
        size = np.rint(np.sqrt(np.stack([area * ratio, area / ratio], axis=1)))  # (n, 2): height, width
        size = np.minimum(np.maximum(size, 1), [max(h, 1), max(w, 1)])
        corner = np.floor(u[:, 3:] * (np.maximum([h, w] - size, 0) + 1))  # (n, 2): top, left
        boxes = np.concatenate([corner, corner + size], axis=1).astype(np.int64)  # (n, 4)
        boxes[u[:, 0] >= self.p] = 0
        return boxes

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, _, h, w = x.shape
        return ops.erase_boxes(x, self.boxes(n, h, w, rng), self.value)

    def apply_in_place(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, _, h, w = x.shape
        return ops.erase_boxes(x, self.boxes(n, h, w, rng), self.value, out=x)
