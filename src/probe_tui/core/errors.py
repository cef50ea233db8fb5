"""Errors that reach the user as a single line. Anything else is a bug and goes to the log."""


class ProbeError(Exception):
    """A problem the user can fix: the message names it and says what to do, on one line
    (whitespace in echoed user data, newlines included, is collapsed)."""

    def __init__(self, message: str = ""):
        super().__init__(" ".join(str(message).split()))


class ItemFileError(ProbeError):
    def __init__(self, path, line: int | None, field: str, problem: str):
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {field}: {problem}")
        self.path, self.line, self.field = path, line, field


def unknown_choice(kind: str, given: str, known) -> ProbeError:
    return ProbeError(f"unknown {kind} {given!r}; choose one of: {', '.join(sorted(known))}")
