"""The options every write command takes (`--source`, `--actor`, `--expected-version`) and
the `WriteOptions` made from them. Apart from `_common`, so a read or a resolve does not
load what only a write needs (the login name's lookup)."""
from __future__ import annotations

import getpass
from typing import Callable

import click

from ..stores.contract import WriteOptions

DEFAULT_SOURCE = "cli"


def write_options_decorator(func: Callable) -> Callable:
    func = click.option("--source", default=DEFAULT_SOURCE, show_default=True,
                        help="Where the write comes from (metadata.source).")(func)
    func = click.option("--actor", default=None, metavar="NAME",
                        help="Who writes (metadata.updated_by); default: the login name.")(func)
    func = click.option("--expected-version", type=click.IntRange(min=0), default=None, metavar="N",
                        help="Refuse the write (exit 5) unless the current version is N; 0 means no check.")(func)
    return func


def default_actor() -> str:
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no login name (containers without a passwd entry)
        return "unknown"


def make_write_options(expected_version: int | None, actor: str | None, source: str | None) -> WriteOptions:
    return WriteOptions(
        expected_version=expected_version or None,
        actor=actor if actor else default_actor(),
        source=source or DEFAULT_SOURCE,
    )
