"""The `ozg` operators' command line (console script `ozg`, or `python -m ozg_cli`)."""

from ozg_cli.app import app, main

__all__ = ["app", "main"]
