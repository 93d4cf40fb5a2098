"""knetc benchmark suite (issue 6): the Knet paper's five models plus two small ones.

Run it with ``python bench/run.py --help``. Nothing here is imported by the
``knetc`` package or its tests.
"""
