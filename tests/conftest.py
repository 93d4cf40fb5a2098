"""Shared test setup: point KNETC_DATA at the repository's shared data when it exists."""
import os
import pathlib

_SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"

if "KNETC_DATA" not in os.environ and _SHARED.is_dir():
    os.environ["KNETC_DATA"] = str(_SHARED)
