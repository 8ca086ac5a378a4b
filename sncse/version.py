"""The toolkit's version, as results, exported folders and model cards record it (``sncse.__version__``)."""

__version__ = "0.1.0"
