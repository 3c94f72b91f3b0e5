"""A small Fachverfahren: the municipality's specialist software at the end of the KOP delivery."""
