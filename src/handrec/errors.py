"""Errors a user can fix; their message is one line that names the problem and the fix."""


class HandrecError(Exception):
    """Base class for user-facing errors: printed as one line, never as a traceback."""


class ConfigError(HandrecError, ValueError):
    """A setting is outside its allowed range."""


class DataError(HandrecError):
    """A data file or data set is missing, malformed or unusable."""


def require(ok: bool, message: str) -> None:
    """Raise ConfigError(message) unless ok; keeps range checks in dataclasses one line each."""
    if not ok:
        raise ConfigError(message)
