"""Generated code -> the user's lines: for tracebacks, warnings and NaN reports.

Every compiled function registers its generated file name here with
:func:`register`. The map is bounded (the least recently used entries go,
with their ``linecache`` text), so programs that compile afresh in a loop
do not grow it without end.
"""
import collections
import linecache
import threading

from ..errors import UnsupportedError
from .source import short_filename

LIMIT = 4096


class _Generated(collections.OrderedDict):
    """Generated file name -> CompiledVJP, the ``LIMIT`` most recently used."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def get(self, filename, default=None):
        with self._lock:
            if filename in self:
                self.move_to_end(filename)
            return super().get(filename, default)

    def add(self, filename, compiled):
        with self._lock:
            self[filename] = compiled
            while len(self) > LIMIT:
                old, _ = self.popitem(last=False)
                linecache.cache.pop(old, None)


GENERATED = _Generated()


def register(filename, text, compiled):
    """Keep generated ``text`` (for tracebacks) and ``compiled`` (for its line map) under ``filename``."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    GENERATED.add(filename, compiled)


def compiled_of(filename):
    """The CompiledVJP generated under ``filename``, or None."""
    return GENERATED.get(filename)


def is_generated(filename):
    """True for the file name of code knetc generated."""
    return filename in GENERATED or filename.startswith("<knetc ")


def annotate(exc):
    """Add the user's file, line and source line to an error from generated code.

    The deepest generated frame in the traceback decides: that is the
    statement of the user's code that was running.
    """
    tb = exc.__traceback__
    where = None
    while tb is not None:
        compiled = GENERATED.get(tb.tb_frame.f_code.co_filename)
        if compiled is not None:
            line = max((g for g in compiled.line_map if g <= tb.tb_lineno), default=None)
            if line is not None:
                where = (compiled, compiled.line_map[line])
        tb = tb.tb_next
    if where is None or getattr(exc, "_knetc_noted", False):
        return
    compiled, user_line = where
    fname = compiled.user_filename
    if isinstance(exc, UnsupportedError) and exc.filename is None:
        exc.placed(fname, user_line)
    text = linecache.getline(fname, user_line).strip()
    note = f"knetc: raised while running the generated code for {short_filename(fname)}:{user_line}: {text}"
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # Python 3.10
        exc.args = (f"{exc.args[0] if exc.args else ''}\n{note}",) + tuple(exc.args[1:])
    exc._knetc_noted = True


def user_location(code):
    """``(file, line)`` in the user's source of a function defined by generated code, or None."""
    compiled = GENERATED.get(code.co_filename)
    if compiled is None:
        return None
    lines = [g for g in compiled.line_map if g <= code.co_firstlineno]
    return short_filename(compiled.user_filename), (compiled.line_map[max(lines)] if lines else None)
