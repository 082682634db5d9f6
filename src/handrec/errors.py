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


def first_line(error: BaseException) -> str:
    """The first line of an error's message, or its type's name when it has none: what a user
    sees of an error, where a traceback would bury it."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
