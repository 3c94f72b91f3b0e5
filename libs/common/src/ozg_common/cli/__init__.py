"""The `ozg` operators' command line (console script `ozg`, or `python -m ozg_common.cli`)."""

from ozg_common.cli.app import app, main

__all__ = ["app", "main"]
