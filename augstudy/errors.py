"""User-facing errors: the CLI prints these as one line, without a traceback."""


class AugstudyError(Exception):
    """Bad input a user can fix (a spec key, a value, a path); the message says what is valid."""


class SpecError(AugstudyError):
    """A study file that does not validate; the message names the file, key path and value."""


class StudyLockedError(AugstudyError):
    """Another live process is writing the same study directory."""


#: Exceptions the CLI reports as one line (their message names the key, value or path).
USER_ERRORS = (AugstudyError, ValueError, KeyError, FileNotFoundError, NotADirectoryError, ImportError, TypeError)
