"""How a message reads: its plain text, its HTML alternative, and lines short enough for mail transport.

The plain text is the message; the HTML part says the same words, escaped, with the links made
clickable and the sender's accent colour and logo (a tenant's own, never fetched by us: the reader's
mail client loads the logo, and a client that blocks images still shows the display name).
Nothing here imports settings or sends anything.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterator

# RFC 5322 allows 998 octets a line (SES: 1,000 with the line break). Longer lines are folded at spaces;
# a single word longer than this (never a link we mint) is cut.
MAX_LINE_OCTETS = 998
FOLD_WIDTH = 76
URL = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:)!?"  # sentence punctuation after a link is not part of it
DEFAULT_LINK_COLOUR = "#0b57d0"  # the hosted pages' link colour (4.5:1 and more on white)
TEXT_COLOUR = "#1b1b1b"


def fold(text: str) -> str:
    """Each line too long for mail transport folded at spaces (links are never split); others untouched."""
    lines: list[str] = []
    for line in text.split("\n"):
        if len(line.encode()) <= MAX_LINE_OCTETS:
            lines.append(line)
            continue
        for piece in textwrap.wrap(line, FOLD_WIDTH, break_long_words=False, break_on_hyphens=False) or [""]:
            lines.extend(_cut(piece))
    return "\n".join(lines)


def _cut(piece: str) -> Iterator[str]:
    """A piece longer than a line may be, in chunks that each fit (by octets, never inside a character)."""
    chunk = ""
    for char in piece:
        if len((chunk + char).encode()) > MAX_LINE_OCTETS:
            yield chunk
            chunk = ""
        chunk += char
    yield chunk


def _links(line: str, colour: str) -> str:
    """One line of text as HTML: everything escaped, each link an anchor to itself."""
    out, at = [], 0
    for match in URL.finditer(line):
        url = match.group(0).rstrip(TRAILING)
        end = match.start() + len(url)
        out.append(html.escape(line[at:match.start()]))
        out.append(f'<a href="{html.escape(url, quote=True)}" style="color:{colour}">{html.escape(url)}</a>')
        at = end
    out.append(html.escape(line[at:]))
    return "".join(out)


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def readable_on_white(colour: str | None) -> bool:
    """Whether text in this colour on white meets WCAG AA (4.5:1); links keep the default colour otherwise."""
    return bool(colour) and 1.05 / (_luminance(str(colour)) + 0.05) >= 4.5


def html_body(*, title: str, paragraphs: list[str], display_name: str | None, accent_colour: str | None,
              logo_url: str | None, preferences_url: str | None) -> str:
    """The HTML alternative of a message: the same paragraphs, escaped, with the sender's colour and logo."""
    link = accent_colour if readable_on_white(accent_colour) else DEFAULT_LINK_COLOUR
    bar = accent_colour or DEFAULT_LINK_COLOUR
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title></head>",
        f'<body style="margin:0;padding:16px;background:#f4f4f4;color:{TEXT_COLOUR}">',
        f'<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;border-top:6px solid {bar};'
        "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif\">",
    ]
    if logo_url:
        alt = html.escape(display_name or "", quote=True)
        parts.append(f'<p style="margin:0 0 16px"><img src="{html.escape(logo_url, quote=True)}" alt="{alt}" '
                     'height="48" style="height:48px;width:auto;border:0"></p>')
    elif display_name:
        parts.append(f'<p style="margin:0 0 16px;font-size:20px;font-weight:600">{html.escape(display_name)}</p>')
    for paragraph in paragraphs:
        lines = [_links(line, link) for line in paragraph.split("\n")]
        parts.append('<p style="margin:0 0 16px">' + "<br>\n".join(lines) + "</p>")
    if preferences_url:
        parts.append('<p style="margin:24px 0 0;font-size:14px;color:#3c4043">'
                     f'<a href="{html.escape(preferences_url, quote=True)}" style="color:{link}">'
                     "Your privacy choices</a></p>")
    parts += ["</div>", "</body>", "</html>"]
    return fold("\n".join(parts)) + "\n"
