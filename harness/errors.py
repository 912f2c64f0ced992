"""Errors the harness raises, one class per thing that can go wrong."""


class HarnessError(Exception):
    """Base class: a failure the CLI reports as a one-line message, not a traceback."""


class ProviderError(HarnessError):
    """A PostgreSQL server could not be provisioned, started or stopped."""


class ProviderUnavailable(ProviderError):
    """This kind of server cannot run on this machine (no binaries, no Docker engine)."""


class LoaderError(HarnessError):
    """A SQL file failed to apply; the message reads ``file:line: message``."""
