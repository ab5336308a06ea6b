"""How accounts are written on each share network; a malformed one is refused with a reason.

Checking the syntax first keeps an obviously wrong name from costing a request, and keeps
anything but a host name out of the URLs the directories build from names.
"""

from __future__ import annotations

import re
from typing import Final

# atproto handle syntax (https://atproto.com/specs/handle): DNS labels, a TLD starting with a
# letter, 253 characters at most. Mastodon instances are host names of the same form.
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN: Final = re.compile(rf"(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?")
_MAX_DOMAIN: Final = 253
# did:plc identifiers are 24 characters of base32 (lower case, digits 2-7); did:web names a host.
_DID_PLC: Final = re.compile(r"did:plc:[a-z2-7]{24}")
_DID_WEB: Final = re.compile(r"did:web:(?P<host>.+)")
# Mastodon usernames are letters, digits and underscores; other fediverse servers allow dots and
# dashes inside a name too.
_FEDIVERSE_USER: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,62}[a-z0-9_])?")
_X_HANDLE: Final = re.compile(r"[a-z0-9_]{1,15}")
# Special-use and private-network names (RFC 6761, 6762, 8375, 7686, ICANN's .internal): an
# instance a user types is asked from the bot's own network, so such names are never asked.
_PRIVATE_SUFFIXES: Final = (
    *("localhost", "local", "internal", "lan", "home.arpa", "intranet", "corp", "private"),
    *("test", "invalid", "example", "onion", "arpa"),
)


def is_domain(value: str) -> bool:
    """Whether `value` (lower case) is a host name with a dot and a TLD starting with a letter."""
    return len(value) <= _MAX_DOMAIN and _DOMAIN.fullmatch(value) is not None


def is_did(value: str) -> bool:
    """Whether `value` is a did:plc or did:web identifier."""
    if _DID_PLC.fullmatch(value):
        return True
    web = _DID_WEB.fullmatch(value)
    return web is not None and is_domain(web.group("host"))


def bluesky_name(name: str) -> str:
    """Return a Bluesky handle (lower-cased) or DID as it should be asked for.

    Raises:
        ValueError: `name` is neither a handle like alice.bsky.social nor a did:plc/did:web.
    """
    text = name.strip().removeprefix("@")
    if text.startswith("did:"):
        if not is_did(text):
            raise ValueError("a Bluesky DID looks like did:plc:<24 letters and digits>")
        return text
    handle = text.lower()
    if not is_domain(handle):
        raise ValueError("a Bluesky handle is a domain name, like alice.bsky.social")
    return handle


def mastodon_name(name: str) -> tuple[str, str]:
    """Return the username and instance of `@user@instance` or `user@instance`, lower-cased.

    Raises:
        ValueError: `name` is not a username, an @ and an instance's domain name.
    """
    user, at, instance = name.strip().removeprefix("@").lower().partition("@")
    if not at or not user or not instance:
        raise ValueError("a Mastodon account is written user@instance, like bob@mastodon.social")
    if not _FEDIVERSE_USER.fullmatch(user):
        raise ValueError("a Mastodon username is letters, digits and underscores")
    if not is_domain(instance):
        raise ValueError("a Mastodon instance is a domain name, like mastodon.social")
    return user, instance


def public_instance(instance: str) -> str:
    """Return `instance` if it is a name on the public internet.

    Raises:
        ValueError: `instance` is a special-use or private-network name, like mastodon.local.
    """
    if any(instance == s or instance.endswith(f".{s}") for s in _PRIVATE_SUFFIXES):
        raise ValueError("a Mastodon instance must be a public domain name, like mastodon.social")
    return instance


def x_name(name: str) -> str:
    """Return an X handle, lower-cased, without its @.

    Raises:
        ValueError: `name` is not 1 to 15 letters, digits or underscores.
    """
    handle = name.strip().removeprefix("@").lower()
    if not _X_HANDLE.fullmatch(handle):
        raise ValueError("an X handle is 1 to 15 letters, digits or underscores")
    return handle
