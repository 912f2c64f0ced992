"""Database URLs as people see them: never with a password.

Everything the CLI prints (a URL it connects to, an error message that quotes one, a
conninfo string) goes through ``mask_secrets``, so a password given in ``--url``,
``COACHDB_DATABASE_URL`` or a ``password=`` keyword never reaches a terminal or a log.
One helper for every command; other modules that print a URL use it too.
"""

from __future__ import annotations

import re

MASK = "***"

#: ``scheme://user:password@`` in a URL (postgres://, postgresql://, and any other scheme).
#: Greedy up to the last ``@`` of the authority, so an unencoded ``@`` in a password is masked too.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^ \t\r\n/:@]*:)(?P<secret>[^ \t\r\n/]*)(?=@)")
#: ``?password=...`` / ``&password=...`` in a URL's query.
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|sslpassword)=)(?P<secret>[^&\s'\"]*)", re.IGNORECASE)
#: ``password=...`` in a libpq keyword/value string, quoted or not.
_KEYWORD_PASSWORD = re.compile(
    r"(?P<head>(?<![?&])\b(?:password|sslpassword)\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|[^\s'\"&]+)", re.IGNORECASE
)


def mask_secrets(text: str) -> str:
    """``text`` with every password in a URL or conninfo replaced by ``***``."""
    for pattern in (_URL_PASSWORD, _QUERY_PASSWORD, _KEYWORD_PASSWORD):
        text = pattern.sub(lambda m: m.group("head") + (MASK if m.group("secret") else ""), text)
    return text


def mask_url(url: str) -> str:
    """A URL fit to print: the same URL with its password (if any) replaced by ``***``."""
    return mask_secrets(url)


__all__ = ["MASK", "mask_secrets", "mask_url"]
