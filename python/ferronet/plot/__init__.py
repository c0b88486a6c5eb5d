"""The book's figures: learning curves, misclassified images, filters, activation histograms,
confusion matrices, optimizer paths, precision and search results.

Every function draws one kind of figure with matplotlib and returns the
:class:`matplotlib.figure.Figure`; given ``path=``, it also saves a PNG there
(atomically: :func:`save_figure`).  matplotlib is an optional extra
(``pip install 'ferronet[plot]'``): this package imports without it, and
drawing raises :class:`PlotDependencyError` with that command.  With no
display the Agg backend is used.  Figures are made with ``pyplot``, so
``plt.show()`` shows them; close them with ``plt.close(fig)`` when drawing many.

=================================  ==========================================================
function                           figure
=================================  ==========================================================
:func:`plot_training_curves`       a run's loss and accuracy per epoch (a Trainer's ``history``)
:func:`plot_curves`                several named curves on one axes (smoothed, raw faint)
:func:`plot_curve_panels`          a grid of small panels of named curves
:func:`plot_misclassified`         misclassified images with true and predicted labels (ch. 8)
:func:`plot_filters`               first-layer convolution filters, before and after training (ch. 7)
:func:`plot_activation_histograms` each layer's activations as a histogram (ch. 6)
:func:`plot_confusion_matrix`      true against predicted classes
:func:`plot_optimizer_paths`       optimizers' paths on f(x, y) = x²/20 + y² (ch. 6)
:func:`plot_precision`             accuracy and output differences per float precision (ch. 8)
:func:`plot_search_results`        hyper-parameter trials by their values and score (ch. 6)
:func:`training_figures`           a finished run's curves, misclassified images, confusion matrix
=================================  ==========================================================
"""

from ferronet.plot._pyplot import (INSTALL_HINT, PlotDependencyError, plotting_available, pyplot,
                                   require_plotting)
from ferronet.plot.activations import activations_by_layer, plot_activation_histograms
from ferronet.plot.confusion import confusion_matrix, plot_confusion_matrix
from ferronet.plot.curves import plot_curve_panels, plot_curves, plot_training_curves, smoothed
from ferronet.plot.filters import plot_filters
from ferronet.plot.misclassified import plot_misclassified
from ferronet.plot.optimizer_paths import book_function, plot_optimizer_paths
from ferronet.plot.precision import plot_precision
from ferronet.plot.saving import save_figure
from ferronet.plot.search import plot_search_results
from ferronet.plot.training_report import predicted_labels, training_figures

__all__ = ["INSTALL_HINT", "PlotDependencyError", "activations_by_layer", "book_function", "confusion_matrix",
           "plot_activation_histograms", "plot_confusion_matrix", "plot_curve_panels", "plot_curves",
           "plot_filters", "plot_misclassified", "plot_optimizer_paths", "plot_precision", "plot_search_results",
           "plot_training_curves", "plotting_available", "predicted_labels", "pyplot", "require_plotting",
           "save_figure", "smoothed", "training_figures"]
