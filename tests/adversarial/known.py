"""(group, program, mode) runs still wrong or cryptic on the merged code: open bugs of issue 11.

Each is excluded from ``test_adversarial_group`` and must keep failing
(``test_known_open_runs_still_fail``), so an entry cannot go stale: delete it when its
run passes. The reason says what was seen.
"""
OPEN = {
    # a NaN value (sqrt(-0.7)) in the unselected branch reaches a rule that does not mend:
    # sin's VJP is 0 * cos(NaN) = NaN (only the rules with singular or overflowing
    # derivatives use knetc/runtime/zero_safe.py)
    ("g20_unselected_branches", "nan_value_through_sin_unselected", "auto"): "NaN value through sin's VJP",
    ("g20_unselected_branches", "nan_value_through_sin_unselected", "source"): "NaN value through sin's VJP",
    ("g20_unselected_branches", "nan_value_through_sin_unselected", "tape"): "NaN value through sin's VJP",
}
