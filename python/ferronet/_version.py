"""ferronet's version (the Python package's; the native core reports its own)."""

__version__ = "0.1.0"
