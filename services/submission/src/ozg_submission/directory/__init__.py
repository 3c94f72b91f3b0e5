"""Destinations and services as zufi announces them, and FIT-Connect's destination endpoints."""
