"""Runtime support of knetc: derivative rules, gradient accumulation, backends, tape."""
