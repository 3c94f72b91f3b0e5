"""Deleting what the standard says must not be kept."""
