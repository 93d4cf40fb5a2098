"""The source-to-source compiler: a Python function in, its readable adjoint (or tangent) code out.

The data flow of ``knet.grad(f)(w, x)``, module by module::

    api.GradFunction.__call__(w, x)
      arguments      bind w, x to f's parameters; check wrt (wrt_indices)
      cache          compiled_for(f, mask, values): a cached entry whose guards hold, else
        pipeline       compile_vjp(f, mask, values), the list of passes over a unit.Unit:
          front          parse        source.py: f's own definition, parsed with gast
                         jumps        jumps.py: return/break/continue -> assignments and flags
                         lower        lower.py: gast -> ir (one operation per statement)
          analysis       kinds        array, list, tuple or dict of every variable
          containers     containers   list/tuple + and *, a[i] = v on arrays
          fence          fence        refuse what has no model (aliases.py, effects.py)
          sequences      dict loops, list snapshots
          analysis       activity     which variables are differentiated
          fence          traced callees
          sequences      replaced elements (reverse mode: hs[i] = v binds the element it replaces)
          reverse        emit         ReverseEmitter: primal lines with stack saves, pullback lines
                                      (entry_values.py: where a data argument may still hold
                                      the caller's object, so its adjoint is tested or skipped)
          compiler       assemble     def f_vjp(...): ... def f_pullback(df): ...
                         build        compile() with the runtime helpers (support.RUNTIME) and the
                                      rules' VJPs; line map in tracebacks.py; guards.py's Guard
        or the tape    a function the compiler refuses runs on runtime/tape.py (FallbackWarning)
      vjp(w, x)        the generated code runs: (loss, pullback); a user helper it calls
                       goes through dispatch.call_vjp, which compiles it the same way
      arguments      scalar_value(loss); seed(loss) starts pullback(seed) -> (dw, None)

Forward mode (``knet.jvp``) runs the same front end, then forward.py's TangentEmitter (inlined
rules read as tangents: jvp_templates.py);
forward_calls.call_jvp is its dispatcher. ``verbose=2`` or ``python -m knetc show --stages``
prints the IR after each pass (ir_dump.py). Each module's docstring says what it consumes and
what it guarantees.
"""
