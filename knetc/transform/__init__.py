"""The source-to-source compiler (docstring completed below)."""
