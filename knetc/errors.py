"""Exceptions and warnings raised by knetc."""


class KnetError(Exception):
    """Base class of every error knetc raises on purpose."""


class UnsupportedError(KnetError):
    """The compiler met a construct it cannot differentiate.

    The message names the construct and the user's ``file:line``; ``filename``,
    ``lineno``, ``col`` and ``construct`` carry the same facts for programs.
    """

    def __init__(self, construct, filename=None, lineno=None, col=None, detail=None):
        self.construct = construct
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.detail = detail
        where = ""
        if filename is not None:
            where = f" ({filename}:{lineno}" + (f":{col}" if col is not None else "") + ")"
        text = f"knetc: {construct} is not supported by the compiler{where}"
        if detail:
            text += f": {detail}"
        super().__init__(text)

    def placed(self, filename, lineno):
        """Give an error raised at run time inside generated code (no location) the user's line."""
        self.__init__(self.construct, filename, lineno, None, self.detail)


class FallbackWarning(UserWarning):
    """A function was differentiated on the tape because the compiler could not."""


class GradientInputError(KnetError, TypeError):
    """The arguments or the result of a differentiated function are unusable."""


class NonFiniteGradientError(KnetError, FloatingPointError):
    """A gradient contained NaN or inf; the message names where it appeared."""


class DataNotFoundError(KnetError, FileNotFoundError):
    """A data file is in none of the folders searched (and was not downloaded)."""


class DownloadError(KnetError, OSError):
    """A data file could not be downloaded, or its checksum did not match."""
