"""Creating a store's place on disk on its first write (SPEC 4): the missing parent folders.

Shared by the file backends, so "a path under a regular file" or "a folder you may not
write" reads the same for each: one StoreError line.
"""
from __future__ import annotations

import os

from ..errors import StoreError


def create_parent_folders(path: str, what: str) -> None:
    """Create the folders above `path` that are missing; `what` names the store in errors."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(folder):
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(f"cannot create {what}: {_file_in_the_way(folder)} is a file, not a folder") from None
    except OSError as exc:  # no permission, a read-only file system
        raise StoreError(f"cannot create {what}: folder {folder}: {exc.strerror or exc}") from None


def _file_in_the_way(folder: str) -> str:
    """The nearest part of `folder` that exists and is not a folder."""
    while folder and not os.path.lexists(folder):
        folder = os.path.dirname(folder)
    return folder


def check_writable(path: str, what: str) -> None:
    """Refuse to replace an existing file the user may not write (SPEC 4): a rename would
    replace it where the folder allows, taking the file from whoever owns it."""
    effective = os.access in os.supports_effective_ids
    if os.path.lexists(path) and not os.access(path, os.W_OK, effective_ids=effective):
        raise StoreError(f"cannot write {what}: permission denied (the file itself is not writable "
                         "for you; nothing was changed)")


def store_file_exists(path: str, what: str) -> bool:
    """Whether the store's file is there; False means a store not created yet (empty). A path
    that can never be one (under a regular file) or cannot be looked at is a StoreError."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return os.path.lexists(path)  # a dangling symlink is there, just broken
    except NotADirectoryError:
        raise StoreError(f"cannot open {what}: {_file_in_the_way(os.path.dirname(os.path.abspath(path)))} "
                         "is a file, not a folder") from None
    except OSError as exc:
        raise StoreError(f"cannot open {what}: {exc.strerror or exc}") from None
    return True
