"""Reliable delivery to the municipality's KOP webservice, and the return channel."""
