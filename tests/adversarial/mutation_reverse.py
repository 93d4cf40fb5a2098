"""A targeted mutation pass over the reverse emitter (knetc/transform/reverse*.py, recompute.py).

    python -m tests.adversarial.mutation_reverse          # 17 mutants, ~10 s each

Each mutant changes one piece of generated adjoint code (an accumulation into an
assignment, a ``+`` into a ``-``, the copy before an in-place slice accumulation removed,
a loop reversed the wrong way, a stack pop dropped); a copy of the working tree with the
mutant runs the compiler's tests (tests/test_compiler.py, test_adjoint_aliasing.py,
test_optimizations.py, test_keyword_vjps.py and 30 fuzz programs). Killed: some test
fails; survived: all pass. Prints the score and the survivors.
"""
import os
import shutil
import subprocess
import sys
import tempfile

# (description, module of knetc/transform, exact text, replacement)
MUTANTS = [
    ("loop trip counter += 1 -> += 2", "reverse_primal.py", 'out.augment(indent, s.count, "1", line)',
     'out.augment(indent, s.count, "2", line)'),
    ("guarded while counter += 1 -> += 2", "reverse_primal.py", 'out.augment(indent + 2, s.count, "1", line)',
     'out.augment(indent + 2, s.count, "2", line)'),
    ("first contribution negated", "reverse_stmt.py", 'out.assign(indent + 1, d, contribution, line)',
     'out.assign(indent + 1, d, f"-({contribution})", line)'),
    ("conditional accumulation + -> -", "reverse_stmt.py", 'add = f"{d} + {_summand(contribution)}" if kind',
     'add = f"{d} - {_summand(contribution)}" if kind'),
    ("in-place accumulation += -> =", "reverse_stmt.py", 'out.augment(indent, d, contribution, line)',
     'out.assign(indent, d, contribution, line)'),
    ("accumulation drops the old adjoint", "reverse_stmt.py",
     'out.assign(indent, d, f"{d} + {_summand(contribution)}", line)', 'out.assign(indent, d, contribution, line)'),
    ("x * x shortcut * 2 -> * 3", "reverse_stmt.py", 'f"{_operand(text)} * 2"', 'f"{_operand(text)} * 3"'),
    ("container slice accumulation + -> -", "reverse_stmt.py",
     'f"{d}[{e.index_src}] = {d}[{e.index_src}] + {g}"', 'f"{d}[{e.index_src}] = {d}[{e.index_src}] - {g}"'),
    ("copy before in-place slice accumulation removed", "reverse_stmt.py",
     'out.assign(indent, self.adj(obj), f"{self.adj(obj)}.copy()", line)', 'pass'),
    ("slice accumulation += -> =", "reverse_stmt.py", 'out.item(indent, f"{self.adj(obj)}[{e.index_src}] += {g}", line)',
     'out.item(indent, f"{self.adj(obj)}[{e.index_src}] = {g}", line)'),
    ("loop replayed forwards in the pullback", "reverse_blocks.py",
     'f"for {s.target} in {self.rt(\'reversed\')}({seq}):"', 'f"for {s.target} in {seq}:"'),
    ("stack value not restored", "reverse_stmt.py", "out.restore(indent, name, self.rt('_stack'), s.line)",
     "out.add(indent, f\"{self.rt('_stack')}.pop()\", s.line)"),
    ("statements reversed in the wrong order", "reverse_stmt.py", "for s in reversed(stmts):", "for s in stmts:"),
    ("append adjoint popped but not accumulated", "reverse_stmt.py",
     'self.acc(s.value, f"{d}.pop()", out, indent, s.line)', 'out.add(indent, f"{d}.pop()", s.line)'),
    ("recomputed loop values not recomputed", "reverse.py",
     "out.add(indent, ir.plain_assignment(s), s.line, ASSIGN, [s.target], pending=s.target,",
     "out.add(indent, 'pass', s.line, ASSIGN, [s.target], pending=s.target,"),
    ("restores kept whatever the pullback reads", "settle.py",
     "if ln.pending is not None and ln.pending not in needed:", "if False:"),
    ("a value read before its binding is recomputed", "recompute.py",
     "sites.get(st.target) == 1 and st.target in local", "sites.get(st.target) == 1"),
]

TESTS = ["tests/test_compiler.py", "tests/test_adjoint_aliasing.py", "tests/test_optimizations.py",
         "tests/test_keyword_vjps.py", "tests/test_quiet_code.py", "tests/test_fuzz.py::test_fuzz_program"]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    work = tempfile.mkdtemp(prefix="knetc-mutate-reverse-")
    for part in ("knetc", "tests", "pyproject.toml"):
        src = os.path.join(root, part)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(work, part))
    folder = os.path.join(work, "knetc", "transform")
    originals = {m: open(os.path.join(folder, m)).read() for m in {m for _, m, _, _ in MUTANTS}}
    killed, survived, missing = [], [], []
    env = dict(os.environ, KNETC_FUZZ_SMALL_N="30")
    for label, module, old, new in MUTANTS:
        original, path = originals[module], os.path.join(folder, module)
        if original.count(old) < 1:
            missing.append(label)
            continue
        with open(path, "w") as f:
            f.write(original.replace(old, new, 1))
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS],
                             cwd=work, env=env, capture_output=True, text=True)
        with open(path, "w") as f:
            f.write(original)
        (killed if run.returncode != 0 else survived).append(label)
        print(f"{'killed  ' if run.returncode else 'SURVIVED'} {label}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    total = len(killed) + len(survived)
    print(f"mutants of the reverse emitter: {total}, killed {len(killed)}, survived {len(survived)}"
          + (f"; not applicable (the code changed): {missing}" if missing else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
