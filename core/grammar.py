"""How every platform reads a command line: one tokenizer, the same everywhere.

Words are separated by whitespace; a double quote that opens a word groups words up to its
closing quote into one argument (`/search "graph neural"`), straight or curly, as phones type
them. An apostrophe is part of a word (`don't`). A quote that is never closed is an ordinary
character. Lines longer than any platform sends are refused before they are read at all.
"""

from __future__ import annotations

from core.errors import InvalidArguments

MAX_LINE = 4096  # Telegram's message limit; a command line longer than that is not typed.
# Opening quote -> its closing quote. German-style „…“ closes with the English opening mark.
QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}


class LineTooLong(InvalidArguments):
    """The line is longer than any platform would send."""

    def __init__(self) -> None:
        super().__init__(f"That is too long for a command: keep it under {MAX_LINE:,} characters.")


def tokenize(text: str) -> tuple[str, ...]:
    """Split a command's arguments into words, quoted phrases counting as one word.

    Runs in time linear in the text: each character is looked at a bounded number of times,
    whatever the quotes do.

    Raises:
        LineTooLong: the text is over MAX_LINE characters (it is not read).
    """
    if len(text) > MAX_LINE:
        raise LineTooLong()
    tokens: list[str] = []
    unclosed: set[str] = set()  # closing quotes known not to occur after the current position
    i, end = 0, len(text)
    while i < end:
        if text[i].isspace():
            i += 1
            continue
        close = QUOTES.get(text[i])
        if close is not None and close not in unclosed:
            stop = text.find(close, i + 1)
            if stop >= 0:
                phrase = " ".join(text[i + 1 : stop].split())
                if phrase:
                    tokens.append(phrase)
                i = stop + 1
                continue
            unclosed.add(close)  # later quotes of this kind cannot close either
        start = i
        while i < end and not text[i].isspace():
            i += 1
        tokens.append(text[start:i])
    return tuple(tokens)


def quote(token: str) -> str | None:
    """Write a token so that `tokenize` reads it back as one; None if no quoting can."""
    if not token:
        return None
    if not any(ch.isspace() for ch in token) and token[0] not in QUOTES:
        return token
    for opening, closing in QUOTES.items():
        if closing not in token and token == " ".join(token.split()):
            return f"{opening}{token}{closing}"
    return None


def split_command(line: str) -> tuple[str, str] | None:
    """Split a typed line like `/top@SomeBot 5 week` into `("top", "5 week")`, not tokenised.

    Returns None when the line is not a command. Only the first word is looked at, so a line
    of any length is split at once.
    """
    text = line.lstrip()
    if not text.startswith("/") or len(text) < 2:
        return None
    parts = text[1:].split(maxsplit=1)
    if not parts:
        return None
    name = parts[0].split("@", 1)[0].lower()
    if not name:
        return None
    return name, parts[1] if len(parts) > 1 else ""
