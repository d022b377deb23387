"""Applications on top of the metrics and plots: the chat viewer, the notebook runner, HTML
reports, the ``q7x2`` command line, and metrics on a Dask cluster."""
