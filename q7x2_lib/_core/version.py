"""The package's version, in one place (the Parquet cache records it)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
