"""Data augmentation for image mini-batches, seeded and composable.

Every transform follows the Trainer's augment protocol,
``aug(x_batch, rng) -> x_batch`` (:mod:`ferronet.augment.base`): a new array of
the batch's shape and dtype, (N, C, H, W) float32/float64 or flat (N, D)
with ``image_shape=``, every random number drawn from ``rng``.  Standalone,
``aug(x, seed=0)`` or ``aug(x)`` (NumPy's global generator).

* geometric, on one native kernel (:func:`ferronet.ops.affine_warp`, bilinear):
  :class:`RandomShift`, :class:`RandomCrop` (padding, as a shift),
  :class:`RandomRotation`, :class:`RandomScale`, :class:`RandomHorizontalFlip`;
* :class:`RandomBrightnessContrast` (NumPy);
* :class:`RandomErasing` (boxes drawn here, written by :func:`ferronet.ops.erase_boxes`);
* :class:`Compose`: in order, consecutive geometric transforms fused into one warp;
* at test time, :func:`mirror_averaged_accuracy` (:mod:`ferronet.augment.test_time`):
  a classifier's probabilities averaged over each image and its mirror image.

Example::

    aug = Compose([RandomShift(2), RandomRotation(10), RandomHorizontalFlip(), RandomErasing()])
    Trainer(net, x_train, t_train, x_test, t_test, augment=aug, seed=0).train()
"""

from ferronet.augment.base import Augment
from ferronet.augment.compose import Compose
from ferronet.augment.erasing import RandomErasing
from ferronet.augment.geometric import (GeometricTransform, RandomCrop, RandomHorizontalFlip, RandomRotation,
                                        RandomScale, RandomShift)
from ferronet.augment.photometric import RandomBrightnessContrast
from ferronet.augment.test_time import mirror_averaged_accuracy, mirror_averaged_probabilities

__all__ = [
    "Augment",
    "Compose",
    "GeometricTransform",
    "RandomBrightnessContrast",
    "RandomCrop",
    "RandomErasing",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomScale",
    "RandomShift",
    "mirror_averaged_accuracy",
    "mirror_averaged_probabilities",
]
