"""Shared test setup: no test downloads anything.

The data loaders find MNIST by themselves (``$KNETC_DATA``, the per-user cache, or
``../shared/data`` beside this checkout); tests that need it skip when it is in none of
them. ``KNETC_DOWNLOAD=0`` makes a missing file an error instead of a download from the
internet; the download tests (tests/test_data.py) lift it and use a local server.
"""
import os

os.environ["KNETC_DOWNLOAD"] = "0"
