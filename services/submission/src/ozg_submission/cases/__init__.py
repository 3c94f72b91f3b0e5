"""Cases as operators see them: every submission of a case and its event log."""
