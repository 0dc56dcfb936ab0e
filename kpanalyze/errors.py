"""The one error type. The CLI prints it as a single line and exits 2."""


class InputError(Exception):
    """Bad input from the user or the tree: unknown arch, not a kernel tree, malformed
    point, unreadable cache... The message names the offending path (and line)."""
