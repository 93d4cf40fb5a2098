"""(group, program, mode) runs still wrong or cryptic on the merged code: open bugs of issue 11.

Each is excluded from ``test_adversarial_group`` and must keep failing
(``test_known_open_runs_still_fail``), so an entry cannot go stale: delete it when its
run passes. The reason says what was seen.
"""
OPEN = {}
