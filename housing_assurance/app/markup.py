"""Text from the extract or a URL, shown as text: never as markdown, HTML, a link, an image or a formula.

Streamlit renders its text elements (titles, captions, warnings, markdown) as markdown, with HTML,
links, images, `$…$` formulas and `:colour[…]` directives. Every value that comes from the data or
from a URL goes through `plain` before it joins our own markdown: each punctuation character is
backslash-escaped (markdown then shows it as itself), line breaks become spaces, and the value is cut
to a readable length, so a crafted link or a 500,000-character parameter reads as harmless text.
Escapes do not stop markdown turning a bare address (http://…, www.…, name@host) into a link, so an
invisible word joiner goes before "://" and "@" and after "www": the address reads the same and
is not a link.
"""

from __future__ import annotations

import re
import string

LIMIT = 120  # a value: a name, a title, a URL part
MESSAGE = 600  # one of our messages quoting a file, a value or a path
_ESCAPED = {c: "\\" + c for c in string.punctuation}
NO_LINK = "\u2060"  # WORD JOINER: shows nothing, and breaks the address markdown would link
_ADDRESS = re.compile(r"(?=://|@)|(?<=www)(?=\.)", re.IGNORECASE)


def plain(value: object, limit: int = LIMIT) -> str:
    """A value as literal text inside markdown (cut to `limit` characters, with … when cut)."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return "".join(_ESCAPED.get(c, c) for c in _ADDRESS.sub(NO_LINK, text))
