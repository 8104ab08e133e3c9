"""Errors that symcheck reports to users as one line (the CLI turns them into exit code 2)."""


class SymcheckError(ValueError):
    """Bad input: a file, a structure, a tolerance or an option that symcheck cannot use.

    The message is one line that names the file (where there is one) and the problem.
    """
