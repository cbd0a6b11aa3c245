"""User-facing errors: the CLI prints these as one line, without a traceback.

Only :class:`AugstudyError` and its subclasses are bad input; any other exception is a bug (in
augstudy or in a plugin) and keeps its traceback. Each subclass that replaces a built-in exception
also derives from it (``ParamsError`` is a ``ValueError``, ``PathError`` a ``FileNotFoundError`` ...),
so code that caught the built-in keeps working.
"""
from __future__ import annotations

import os
import traceback
from typing import Optional


class AugstudyError(Exception):
    """Bad input a user can fix (a spec key, a value, a path); the message says what is valid."""


class SpecError(AugstudyError):
    """A study file that does not validate; the message names the file, key path and value."""


class StudyLockedError(AugstudyError):
    """Another live process is writing the same study directory."""


class UnknownNameError(AugstudyError, KeyError):
    """A name that is not registered; the message names the closest match and the registered names.

    Also a ``KeyError`` so code that caught the registries' old ``KeyError`` keeps working.
    """

    def __str__(self) -> str:  # KeyError quotes its message; this one reads as a sentence
        return str(self.args[0]) if self.args else ""


class PluginError(AugstudyError, ImportError):
    """A plugin module that cannot be imported, or an object refused at registration (one line saying why)."""


class RegistrationError(AugstudyError, TypeError, ValueError):
    """An object refused by a registry's decorator (a bad name, not a class or factory); one line saying why."""


class ParamsError(AugstudyError, ValueError):
    """A value that is not valid: an entry's parameter, a CLI option, a spec value (names the key and value)."""


class PathError(AugstudyError, FileNotFoundError):
    """A file or folder that is missing or of the wrong kind (the message names the path)."""


class DataError(AugstudyError, ValueError):
    """A dataset that loads but cannot be used (too few classes, a plugin's split of the wrong type)."""


class OperatorContractError(AugstudyError, ValueError):
    """An operator whose output breaks the contract (shape, dtype, device, finite, range); names it."""


class NoUsableResultError(AugstudyError):
    """A study run in which no cell produced a usable result (all failed or diverged)."""


#: Exceptions the CLI reports as one line (their message names the key, value or path).
USER_ERRORS = (AugstudyError,)

ISSUES_URL = "https://github.com/augstudy/augstudy/issues"


def bug_line(exc: BaseException) -> str:
    """One line after a bug's traceback: that it is a bug, where it happened, and where to report it."""
    frames = traceback.extract_tb(exc.__traceback__)
    where: Optional[str] = None
    culprit = "augstudy"
    if frames:
        last = frames[-1]
        where = f"{last.filename}:{last.lineno} in {last.name}"
        package = os.path.dirname(os.path.abspath(__file__))
        plugin = [f for f in frames if not os.path.abspath(f.filename).startswith(package)
                  and "site-packages" not in f.filename and not f.filename.startswith("<frozen")]
        if plugin and not os.path.abspath(last.filename).startswith(package):
            culprit = f"the plugin code at {plugin[-1].filename}:{plugin[-1].lineno}"
    at = f" (raised at {where})" if where else ""
    if culprit == "augstudy":
        return (f"this is a bug in augstudy, not in your input{at}: please report it with the traceback "
                f"above at {ISSUES_URL}")
    return f"this is a bug in {culprit}, not in your input{at}: fix it there, or report it to its author"
