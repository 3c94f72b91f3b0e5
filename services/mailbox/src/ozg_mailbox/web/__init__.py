"""The citizen's web page: server-rendered, German, works without JavaScript."""
