"""Exceptions shared by the interop peers.

A client that lists ``calc_errors`` in ``allowed_remote_exmods`` rebuilds a remote
``CalcError`` as ``calc_errors_Remote.CalcError_Remote`` (a subclass of ``CalcError``),
with the original ``args`` and ``kwargs`` (spec section 5.2).
"""


class CalcError(Exception):
    """An oslo-style exception: positional message plus ``kwargs`` carried on the wire."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.kwargs = {'code': code}
        self.code = code
