"""(group, program, mode) runs still wrong or cryptic on the merged code: open bugs of issue 11.

Each is excluded from ``test_adversarial_group`` and must keep failing
(``test_known_open_runs_still_fail``), so an entry cannot go stale: delete it when its
run passes. The reason says what was seen.
"""
OPEN = {
    ("g04_constants", "meshgrid_traced", "tape"): "np.meshgrid on traced values: ValueError (WRITEABLE flag)",
    ("g07_side_effects", "fill_with_traced_scalar", "auto"): "M.fill(x0) on the tape: NumPy's C code raises ValueError",
    ("g07_side_effects", "fill_with_traced_scalar", "tape"): "M.fill(x0) on the tape: NumPy's C code raises ValueError",
    ("g13_name_collisions", "user_helper_named_scatter", "tape"): "a user function named scatter on the tape",
    ("g14_tape_leaks", "state_tuple_in_list_replaced", "tape"): "a traced tuple left in the caller's list",
    ("g19_objects", "masked_array_sum", "auto"): "numpy.ma on traced values: a TypeError from NumPy",
    ("g19_objects", "masked_array_sum", "tape"): "numpy.ma on traced values: a TypeError from NumPy",
    ("g19_objects", "user_class_radd_with_array", "auto"): "a user class's __radd__ with an array on the tape",
    ("g19_objects", "user_class_radd_with_array", "tape"): "a user class's __radd__ with an array on the tape",
}
