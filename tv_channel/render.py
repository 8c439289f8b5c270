"""One page of the channel as a 1280×720 picture: large light text on a dark ground (read
from across a room by eyes that are not young), the channel's name, the page's heading, and
how to get help along the bottom of every page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tv_channel.pages import Page

WIDTH, HEIGHT = 1280, 720
MARGIN = 72
# Sizes in pixels at 720 lines: body text is larger than a TV subtitle (about 40 px).
BAND_PX, TITLE_PX, BODY_PX, FOOTER_PX = 36, 60, 46, 36
BODY_LEADING = 66
INK = (255, 255, 255)
GROUND = (12, 36, 64)
BANDS = {  # the top band's colour says what kind of page it is
    "warning": (178, 24, 24),
    "policy": (16, 110, 70),
    "announcement": (22, 84, 150),
    "menu": (150, 88, 10),
    "events": (96, 56, 150),
    "contacts": (22, 84, 150),
    "welcome": (22, 84, 150),
}
FOOTER_GROUND = (0, 0, 0)
FOOTER_INK = (255, 214, 10)  # the help line stands out, yellow on black
CLOSING = frozenset("，。、；：！？）」』》…,.;:!?)")


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path
    index: int

    def face(self, px: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.bold if bold else self.regular), px, index=self.index)


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Chinese wraps between any two characters; a run of Latin letters or digits (a phone
    number, a price) is kept whole."""
    words: list[str] = []
    for ch in text:
        if words and ch.isascii() and ch not in " " and words[-1][-1:].isascii() and words[-1][-1:] != " ":
            words[-1] += ch
        else:
            words.append(ch)
    lines, current = [], ""
    for word in words:
        # Closing punctuation never starts a line: it hangs at the end of the one before.
        if current and font.getlength(current + word) > width and word not in CLOSING:
            lines.append(current.rstrip())
            current = word.lstrip()
        else:
            current += word
    if current.strip():
        lines.append(current.rstrip())
    return lines


def draw(page: Page, *, channel_name: str, footer: str, fonts: Fonts, out: Path) -> Path:
    image = Image.new("RGB", (WIDTH, HEIGHT), GROUND)
    pen = ImageDraw.Draw(image)
    band_h = 72
    pen.rectangle((0, 0, WIDTH, band_h), fill=BANDS.get(page.kind, BANDS["announcement"]))
    pen.text((MARGIN, band_h // 2), channel_name, font=fonts.face(BAND_PX, bold=True), fill=INK, anchor="lm")

    title_font = fonts.face(TITLE_PX, bold=True)
    title = wrap(page.title, title_font, WIDTH - 2 * MARGIN)[:1]
    y = band_h + 36
    for line in title:
        pen.text((MARGIN, y), line, font=title_font, fill=INK)
        y += TITLE_PX + 30

    body_font = fonts.face(BODY_PX)
    footer_top = HEIGHT - 76
    room = (footer_top - 16 - y) // BODY_LEADING
    lines = [wrapped for line in page.lines for wrapped in wrap(line, body_font, WIDTH - 2 * MARGIN)]
    if len(lines) > room:  # never text cut off mid-way: the last line that fits says there is more
        lines = [*lines[: room - 1], lines[room - 1][:-1] + "…"]
    for line in lines:
        pen.text((MARGIN, y), line, font=body_font, fill=INK)
        y += BODY_LEADING

    pen.rectangle((0, footer_top, WIDTH, HEIGHT), fill=FOOTER_GROUND)
    pen.text(
        (MARGIN, (footer_top + HEIGHT) // 2),
        footer,
        font=fonts.face(FOOTER_PX, bold=True),
        fill=FOOTER_INK,
        anchor="lm",
    )
    image.save(out, format="PNG")
    return out
