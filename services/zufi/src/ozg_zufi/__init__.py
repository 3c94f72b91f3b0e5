"""Competence finder: which authority is responsible for a service in a place, and how to reach it."""
