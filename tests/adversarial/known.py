"""(group, program, mode) runs still wrong or cryptic on the merged code: open bugs of issue 11.

Each is excluded from ``test_adversarial_group`` and must keep failing
(``test_known_open_runs_still_fail``), so an entry cannot go stale: delete it when its
run passes. The reason says what was seen.
"""
OPEN = {
    # fuzz seed 11007577 (session 6): a[:, 2] = a[1] in 2-D. NumPy writes the column element by
    # element over the row it reads (a[2, 2] gets the new a[1, 2]), where the compiled
    # setitem_array copies first; the compiled value and gradient are those of the copy.
    # (In 1-D, a[1:] = a[:-1], NumPy does copy first: g08's overlapping_slice_assign is right.)
    ("g08_aliasing", "array_column_from_an_overlapping_row_of_itself", "auto"):
        "WRONG: the compiled gradient takes the row as copied before the write",
    ("g08_aliasing", "array_column_from_an_overlapping_row_of_itself", "source"):
        "WRONG: the compiled gradient takes the row as copied before the write",
}
