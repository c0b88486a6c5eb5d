"""The error raised when a data set's files cannot be found."""

from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files are missing everywhere ferronet looked.

    The message names the missing files, every directory searched and how
    to get the files.
    """
