"""FIT-Connect Submission API v1: sender and subscriber sides."""
