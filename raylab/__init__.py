"""raylab: Ray-based reproductions of recent ML / optimisation papers."""

__version__ = "0.1.0"


class RaylabError(Exception):
    """An error the user can act on; the CLI prints it as one line and exits non-zero."""


class DataMissing(RaylabError):
    """Input data a run needs is not on this machine; the message says where it looked and how to
    get it. (The conformance test skips a smoke run that ends with it.)"""
