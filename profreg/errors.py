"""Typed errors the library raises; each maps to one CLI exit code (SPEC section 6)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .engine import Diagnostic


class ProfregError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(ProfregError):
    """A bad argument or option, a missing input file, a store spec of no known kind."""

    exit_code = 2


class ValidationError(ProfregError):
    """The input or the result of a write is invalid; carries every diagnostic."""

    exit_code = 1

    def __init__(self, message: str, diagnostics: Sequence["Diagnostic"] = (), field: str = ""):
        self.diagnostics = list(diagnostics)
        first = next((d for d in self.diagnostics if d.is_error), None)
        self.field = field or (first.field if first else "")
        super().__init__(message)


class NotFoundError(ProfregError):
    """`resource` ("registry" or "profile") `slug` is missing; `registry` names the registry a
    missing profile was looked up in, when known."""

    exit_code = 3

    def __init__(self, resource: str, slug: str, *, registry: str | None = None):
        self.resource = resource
        self.slug = slug
        self.registry = registry
        if registry is None and resource == "profile" and "/" in slug:
            self.registry = slug.rpartition("/")[0]
        self.explained = False
        super().__init__(f"{resource} {slug!r} not found")

    def explained_by(self, what_exists: str) -> "NotFoundError":
        """The same error, its message followed by what does exist (`available: a, b`)."""
        explained = NotFoundError(self.resource, self.slug, registry=self.registry)
        where = f" in registry {self.registry!r}" if self.registry and "/" not in self.slug else ""
        explained.args = (f"{self}{where}; {what_exists}",)
        explained.explained = True
        return explained


class PolicyViolationError(ProfregError):
    """Refused by a profile's policy: overrides not allowed or denied, a read-only profile."""

    exit_code = 4


class VersionConflictError(ProfregError):
    """`expected_version` differs from the current one (or what is created exists):
    `resource`, `slug`, `expected`, `actual`."""

    exit_code = 5

    def __init__(self, resource: str, slug: str, expected: int | None, actual: int | None, message: str = ""):
        self.resource = resource
        self.slug = slug
        self.expected = expected
        self.actual = actual
        super().__init__(
            message or f"{resource} {slug!r}: expected version {expected}, found {actual}"
        )


class StoreError(ProfregError):
    """Unreadable, corrupt, closed, locked, or a legacy file written to."""

    exit_code = 6


class CommandLoadError(ProfregError):
    """A command's module failed to import: a broken installation, not a user's mistake.

    SPEC gives internal errors no code of their own; 1 is what Python exits with on an
    uncaught exception, so scripts see what they would have seen, without the traceback."""

    exit_code = 1

    def __init__(self, command: str, module: str, cause: BaseException):
        self.command = command
        self.module = module
        super().__init__(f"command {command!r} could not be loaded: importing {module} failed: "
                         f"{type(cause).__name__}: {cause} (the installation is broken; reinstall profreg)")
