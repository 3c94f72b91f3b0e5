"""The citizen's Postfach and status monitor, with email notices and a web page."""
