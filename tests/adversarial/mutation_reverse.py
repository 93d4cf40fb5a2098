"""A targeted mutation pass over the reverse emitter (knetc/transform/reverse.py).

    python -m tests.adversarial.mutation_reverse          # about 15 mutants, ~10 s each

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

# (description, exact text in reverse.py, replacement)
MUTANTS = [
    ("loop trip counter += 1 -> += 2", 'f"{s.count} += 1"', 'f"{s.count} += 2"'),
    ("first contribution negated", 'out.add(indent + 1, f"{d} = {contribution}", line)',
     'out.add(indent + 1, f"{d} = -({contribution})", line)'),
    ("conditional accumulation + -> -", 'add = f"{d} + {contribution}" if kind',
     'add = f"{d} - {contribution}" if kind'),
    ("in-place accumulation += -> =", 'out.add(indent, f"{d} += {contribution}", line)',
     'out.add(indent, f"{d} = {contribution}", line)'),
    ("accumulation drops the old adjoint", 'out.add(indent, f"{d} = {d} + {contribution}", line)',
     'out.add(indent, f"{d} = {contribution}", line)'),
    ("x * x shortcut * 2 -> * 3", 'f"{_operand(text)} * 2"', 'f"{_operand(text)} * 3"'),
    ("container slice accumulation + -> -", 'f"{d}[{e.index_src}] = {d}[{e.index_src}] + {g}"',
     'f"{d}[{e.index_src}] = {d}[{e.index_src}] - {g}"'),
    ("copy before in-place slice accumulation removed",
     'out.add(indent, f"{self.adj(obj)} = {self.adj(obj)}.copy()", line)', 'pass'),
    ("slice accumulation += -> =", 'out.add(indent, f"{self.adj(obj)}[{e.index_src}] += {g}", line)',
     'out.add(indent, f"{self.adj(obj)}[{e.index_src}] = {g}", line)'),
    ("loop replayed forwards in the pullback", 'f"for {s.target} in reversed({seq}):"',
     'f"for {s.target} in {seq}:"'),
    ("stack value not restored", 'out.add(indent, f"{name} = _stack.pop()", s.line)',
     'out.add(indent, f"_stack.pop()", s.line)'),
    ("statements reversed in the wrong order", "for s in reversed(stmts):", "for s in stmts:"),
    ("append adjoint popped but not accumulated", 'self.acc(s.value, f"{d}.pop()", out, indent, s.line)',
     'out.add(indent, f"{d}.pop()", s.line)'),
]

TESTS = ["tests/test_compiler.py", "tests/test_adjoint_aliasing.py", "tests/test_optimizations.py",
         "tests/test_keyword_vjps.py", "tests/test_fuzz.py::test_fuzz_program"]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    work = tempfile.mkdtemp(prefix="knetc-mutate-reverse-")
    for part in ("knetc", "tests", "pyproject.toml"):
        src = os.path.join(root, part)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(work, part))
    path = os.path.join(work, "knetc", "transform", "reverse.py")
    original = open(path).read()
    killed, survived, missing = [], [], []
    env = dict(os.environ, KNETC_FUZZ_SMALL_N="30")
    for label, old, new in MUTANTS:
        if original.count(old) < 1:
            missing.append(label)
            continue
        with open(path, "w") as f:
            f.write(original.replace(old, new, 1))
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS],
                             cwd=work, env=env, capture_output=True, text=True)
        (killed if run.returncode != 0 else survived).append(label)
        print(f"{'killed  ' if run.returncode else 'SURVIVED'} {label}", flush=True)
    with open(path, "w") as f:
        f.write(original)
    shutil.rmtree(work, ignore_errors=True)
    total = len(killed) + len(survived)
    print(f"mutants of reverse.py: {total}, killed {len(killed)}, survived {len(survived)}"
          + (f"; not applicable (the code changed): {missing}" if missing else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
