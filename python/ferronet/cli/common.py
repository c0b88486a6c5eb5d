"""What the ``ferronet`` commands share: the argparse types (:func:`count`, :func:`number`,
:func:`fraction`); for ``ferronet export`` and
``ferronet predict``: a weight file opened as a network, and
problems reported in one line.

* :func:`add_network_arguments` / :func:`open_network` - ``WEIGHTS`` with
  ``--model`` and ``--dtype``: a file saved with its description (every
  file ``save_params`` and ``ferronet train --save`` write) needs neither
  (``ferronet.load``); a file without one (the book's pickles) needs
  ``--model``, one of ``ferronet train``'s models, built with that
  command's defaults;
* :func:`guarded` - runs a command and turns the errors bad input causes
  (a missing or damaged file, a wrong shape or dtype, a missing optional
  package) into ``ferronet COMMAND: message`` on stderr and exit code 1,
  never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

#: what a bad file, bad data or a missing package raises (OSError includes DatasetNotFoundError)
USER_ERRORS = (ValueError, TypeError, OSError, ImportError, KeyError, MemoryError)


class CliError(Exception):
    """A problem the command explains in one line (the message)."""


def count(text: str) -> int:
    """An argparse type: a whole number >= 1 (epochs, sizes, threads), else a one-line usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def number(text: str, example: str = "0.1") -> float:
    """``text`` as a float (inf and nan included, for the caller's range check), else a one-line usage
    error ``expected a number like EXAMPLE``."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number like {example}, got {text!r}") from None


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1 (a validation split), else a one-line usage error."""
    value = number(text, "0.1")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return value


def describe(exc: BaseException) -> str:
    """The user's message for ``exc``: the file and what is wrong with it."""
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        return f"{exc.filename}: no such file"
    if isinstance(exc, IsADirectoryError) and exc.filename is not None:
        return f"{exc.filename}: is a directory, not a file"
    if isinstance(exc, PermissionError) and exc.filename is not None:
        return f"{exc.filename}: permission denied"
    if isinstance(exc, MemoryError):
        return "not enough memory (try a smaller --batch-size)"
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc) or type(exc).__name__


def guarded(command: str, run: Callable[[], int]) -> int:
    """``run()``'s exit code, or 1 after printing ``ferronet COMMAND: message`` for a user error."""
    try:
        return run()
    except (CliError, *USER_ERRORS) as exc:
        print(f"ferronet {command}: {describe(exc)}", file=sys.stderr)
        return 1


def check_writable(path: str | os.PathLike[str]) -> None:
    """CliError unless ``path`` can be written: its directory exists, and it is not a directory itself."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CliError(f"{path}: cannot write there, no such directory {directory}")
    if os.path.isdir(path):
        raise CliError(f"{path}: is a directory; name a file to write")


def add_network_arguments(p: argparse.ArgumentParser) -> None:
    """``WEIGHTS``, ``--model`` and ``--dtype``."""
    from ferronet.cli.train import DTYPES, MODELS

    p.add_argument("weights", metavar="WEIGHTS",
                   help="a weight file: ferronet's .npz or .safetensors (from save_params or ferronet train --save), "
                        "or the book's pickle (with --model)")
    p.add_argument("--model", choices=list(MODELS), default=None,
                   help="the network, as ferronet train builds it (default: the one the file describes; needed for "
                        "files without a description, such as the book's pickles)")
    p.add_argument("--dtype", choices=list(DTYPES), default=None,
                   help="build the network in this dtype (default: the file's; float32 with --model)")


def _train_defaults(model: str) -> argparse.Namespace:
    """The options ``ferronet train MODEL`` runs with when given no others (how it builds the model)."""
    from ferronet.cli.train import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args([model])


def open_network(weights: str, model: str | None = None, dtype: str | None = None) -> Any:
    """The network of the weight file ``weights``: built from ``model`` (a ``ferronet train`` model)
    when given, else from the file's description, in ``dtype`` when given; its weights loaded."""
    import ferronet
    from ferronet.cli.train import DTYPES, MODELS

    if not os.path.isfile(weights):
        raise FileNotFoundError(2, "No such file", weights) if not os.path.exists(weights) else \
            IsADirectoryError(21, "Is a directory", weights)
    if model is None:
        return ferronet.load(weights, None if dtype is None else DTYPES[dtype])
    chosen = MODELS[model]
    shape = (1, 28, 28) if chosen.images else (784,)
    network = chosen.build(shape, DTYPES[dtype or "float32"], 0, _train_defaults(model))
    network.load_params(weights)
    return network


def onnx_hint(path: str, exc: BaseException) -> str:
    """``exc``'s message, with a hint when an ONNX model was given as a weight file."""
    text = describe(exc)
    if path.lower().endswith(".onnx"):
        text += " (an ONNX model? add --onnx)" if "--onnx" not in text else ""
    return text
