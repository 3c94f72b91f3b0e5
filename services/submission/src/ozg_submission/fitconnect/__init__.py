"""FIT-Connect Submission API v1, an adapter on the core (`lifecycle`): sender side, subscriber side,
event logs and decisions."""
