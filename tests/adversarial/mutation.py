"""A mutation pass over the rule table: does the suite notice a wrong VJP?

    python -m tests.adversarial.mutation                  # every mutant of numpy_rules.py
    python -m tests.adversarial.mutation --limit 50 -v    # the first 50, listing survivors

Each mutant changes one operation inside one VJP of ``knetc/runtime/numpy_rules.py`` (a
lambda given to ``defvjp`` or a module-level function): ``+`` <-> ``-``, ``*`` <-> ``/``,
``**`` -> ``*``, a unary minus dropped, a numeric constant changed, a comparison loosened.
The mutated module is executed in place of the original, the rules it re-registers
replace the originals (also those keyed by module functions, matched by name), and the
checks that test the affected rules run: the finite-difference cases of
tests/test_rules.py (``check_vjp``) and its exact-value tests. A mutant is *killed* when
a check fails (or raises), *survives* otherwise; the score is killed / all. Mutants that
compute the same function (an equivalent mutant) survive legitimately; the others point
at a missing test.
"""
import argparse
import ast
import contextlib
import copy
import importlib
import inspect
import io
import sys
import types

import numpy as np

SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult}
COMPARE_SWAPS = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
                 ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def _targets(tree):
    """(description, node) of every VJP body to mutate: defvjp lambdas and module functions."""
    out = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                and getattr(stmt.value.func, "id", None) == "defvjp":
            call = stmt.value
            for k, arg in enumerate(call.args[1:]):
                if isinstance(arg, ast.Lambda):
                    out.append((f"line {arg.lineno}: VJP {k} of {ast.unparse(call.args[0])}", arg.body,
                                ast.unparse(call.args[0])))
        elif isinstance(stmt, ast.FunctionDef) and not stmt.name.startswith("__"):
            out.append((f"line {stmt.lineno}: {stmt.name}", stmt, None))
    return out


def _mutations(node):
    """Yield (label, apply) for every single-operation change inside ``node``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and type(sub.op) in SWAPS:
            new = SWAPS[type(sub.op)]
            yield (f"{type(sub.op).__name__}->{new.__name__} at col {sub.col_offset}",
                   lambda s=sub, n=new: setattr(s, "op", n()))
        elif isinstance(sub, ast.UnaryOp) and isinstance(sub.op, ast.USub):
            yield (f"drop unary minus at col {sub.col_offset}",
                   lambda s=sub: setattr(s, "op", ast.UAdd()))
        elif isinstance(sub, ast.Constant) and type(sub.value) in (int, float) and not isinstance(sub.value, bool):
            new = sub.value + 1 if isinstance(sub.value, int) else (sub.value * 2 if sub.value else 1.0)
            yield (f"constant {sub.value!r}->{new!r} at col {sub.col_offset}",
                   lambda s=sub, v=new: setattr(s, "value", v))
        elif isinstance(sub, ast.Compare) and len(sub.ops) == 1 and type(sub.ops[0]) in COMPARE_SWAPS:
            new = COMPARE_SWAPS[type(sub.ops[0])]
            yield (f"{type(sub.ops[0]).__name__}->{new.__name__} at col {sub.col_offset}",
                   lambda s=sub, n=new: s.ops.__setitem__(0, n()))


def _mutants(source):
    """(description, mutated source, fun expression or None, function name or None)."""
    tree = ast.parse(source)
    for t_index, (where, _, fun_src) in enumerate(_targets(tree)):
        probe = ast.parse(source)
        node = _targets(probe)[t_index][1]
        count = sum(1 for _ in _mutations(node))
        for m_index in range(count):
            work = ast.parse(source)
            target = _targets(work)[t_index]
            label, apply = list(_mutations(target[1]))[m_index]
            apply()
            name = target[1].name if isinstance(target[1], ast.FunctionDef) else None
            yield f"{where}: {label}", ast.unparse(work), fun_src, name


def _load_checks():
    """tests/test_rules.py's CASES (by callable) and its exact-value test functions."""
    sys.path.insert(0, "tests")
    module = importlib.import_module("test_rules")
    by_fun = {}
    for name, fun, args, kwargs, argnum in module.CASES:
        by_fun.setdefault(id(fun), []).append((fun, args, kwargs, argnum))
    exact = [f for n, f in vars(module).items() if n.startswith("test_") and callable(f)
             and not inspect.signature(f).parameters and n not in (
                 "test_every_registered_rule_has_a_test", "test_vjps_only_call_differentiable_operations",
                 "test_check_vjp_catches_a_wrong_rule", "test_check_vjp_reports_a_point_next_to_a_kink",
                 "test_numeric_grad_is_accurate_to_1e_7_at_both_steps",
                 "test_numeric_grad_structures_and_no_mutation", "test_assert_tree_allclose_names_the_path")]
    return by_fun, exact


def _uses(module_dict, names):
    """Module functions that call any of ``names``, transitively (with the names themselves)."""
    names = set(names)
    changed = True
    while changed:
        changed = False
        for n, v in module_dict.items():
            code = getattr(v, "__code__", None)
            if n not in names and code is not None and names & _all_names(code):
                names.add(n)
                changed = True
    return names


def _all_names(code):
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _all_names(c)
    return out


def run(limit=None, verbose=False):
    from knetc.runtime import numpy_rules as nr
    from knetc.runtime import rules
    from knetc.testing import check_vjp

    path = nr.__file__
    source = open(path).read()
    by_fun, exact = _load_checks()
    saved_dict = dict(nr.__dict__)
    saved_rules = dict(rules._RULES)
    saved_nondiff = dict(rules._NONDIFF)
    killed, survived = [], []
    for k, (label, mutated, fun_src, fname) in enumerate(_mutants(source)):
        if limit is not None and k >= limit:
            break
        try:
            exec(compile(mutated, path, "exec"), nr.__dict__)
            # rules keyed by module functions: the original objects get the mutated rules
            for n, old in saved_dict.items():
                new = nr.__dict__.get(n)
                if new is not old and callable(old) and rules.rule_for(new) is not None \
                        and rules.rule_for(old) is not None:
                    rules._RULES[rules._key(old)] = rules._RULES[rules._key(new)]
            if fun_src is not None:
                affected = [eval(fun_src, saved_dict)]
            else:
                users = _uses(nr.__dict__, [fname])
                affected = [r.fun for r in rules._RULES.values()
                            if any(v is not None and (getattr(v, "__name__", "") in users
                                                      or users & _all_names(getattr(v, "__code__", types.CodeType)
                                                                            if hasattr(v, "__code__") else set()))
                                   for v in r.vjps)]
            outcome = "survived"
            for fun in affected:
                for fun_, args, kwargs, argnum in by_fun.get(id(fun), []):
                    try:
                        with np.errstate(all="ignore"):
                            check_vjp(fun_, copy.deepcopy(args), argnum, kwargs=kwargs)
                    except Exception:
                        outcome = "killed"
                        break
                if outcome == "killed":
                    break
            if outcome == "survived":
                for test in exact:
                    try:
                        with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
                            test()
                    except Exception:
                        outcome = "killed"
                        break
        except Exception as e:                       # the mutant does not even load
            outcome = "killed"
            label += f" (does not load: {type(e).__name__})"
        finally:
            nr.__dict__.clear()
            nr.__dict__.update(saved_dict)
            rules._RULES.clear()
            rules._RULES.update(saved_rules)
            rules._NONDIFF.clear()
            rules._NONDIFF.update(saved_nondiff)
        (killed if outcome == "killed" else survived).append(label)
        if verbose and outcome == "survived":
            print(f"SURVIVED {label}", flush=True)
    total = len(killed) + len(survived)
    print(f"mutants of numpy_rules.py: {total}, killed {len(killed)}, survived {len(survived)}, "
          f"score {len(killed) / max(total, 1):.1%}")
    return killed, survived


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="only the first N mutants")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the surviving mutants")
    opts = ap.parse_args(argv)
    run(opts.limit, opts.verbose)


if __name__ == "__main__":
    main()
