"""Application intake: FIT-Connect Submission API, native form intake with XÖV XML, tokens and event log."""
