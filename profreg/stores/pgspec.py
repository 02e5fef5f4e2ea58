"""PostgreSQL store specs, without the driver: what messages may show of a URL, and
profreg's own `schema` parameter. (The store itself is `profreg.stores.postgres`.)"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")
SCHEMA_PARAM = "schema"
DEFAULT_SCHEMA = "public"


def is_postgres_spec(spec: str) -> bool:
    return spec.strip().lower().startswith(SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password (in the user info or a `password=` parameter)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"],
                      safe="/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def split_spec(spec: str) -> tuple[str, str]:
    """(libpq URL without profreg's `schema` parameter, schema name)."""
    parts = urlsplit(spec)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in params if k == SCHEMA_PARAM), "") or DEFAULT_SCHEMA
    query = urlencode([(k, v) for k, v in params if k != SCHEMA_PARAM], safe="/")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment)), schema


def password_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return parts.password
    return next((v for k, v in parse_qsl(parts.query) if k == "password"), "")
