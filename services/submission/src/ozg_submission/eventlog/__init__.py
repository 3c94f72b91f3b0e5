"""Each case's event log: Security Event Tokens (RFC 8417) signed PS512."""
