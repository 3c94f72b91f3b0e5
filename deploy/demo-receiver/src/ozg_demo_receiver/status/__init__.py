"""What the Fachverfahren has: a page for people, JSON for tests and benchmarks."""
