"""Switches for tests and demos: a simulated outage, a slow endpoint, answering or not."""
