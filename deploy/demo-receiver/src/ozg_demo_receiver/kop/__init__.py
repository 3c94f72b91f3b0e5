"""Receiving KOP deliveries: signature, timestamp, deduplication, storage."""
