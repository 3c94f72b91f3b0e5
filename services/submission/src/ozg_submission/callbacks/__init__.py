"""Sender callbacks: a sender registers a URL and secret with its submission and is called, signed as
FIT-Connect signs callbacks, whenever the submission's event log grows."""
