"""Random program fuzzing of knetc: compiled vs taped vs finite-difference gradients."""
