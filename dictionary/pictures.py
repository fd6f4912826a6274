"""Pictures for registered words: a PNG, JPEG or SVG file in the dictionary's ``pictures``
folder, or a short text card, named by an entry's ``picture`` field.

``picture: マイナンバーカード.png`` names a file in ``<dictionary folder>/pictures/``; any other
value (``picture: 2階 5番窓口へ``) is a text card the displays draw in a frame. An uploaded file
is checked by its content, not only its name: the name must be a plain file name with an image
suffix, the bytes must start like that kind of image and decode (an SVG must be plain drawing:
no script, no event attribute, no foreign object, no link outside the file, no DOCTYPE), and
it must be at most :data:`MAX_BYTES`.
"""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from captioner.core.files import atomic_write

FOLDER = "pictures"
MAX_BYTES = 1024 * 1024
MAX_CARD = 40  # characters of a text card
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}
NAME = re.compile(r"[^/\\:\x00-\x1f<>\"|?*]{1,120}")
SVG_REFUSED_TAGS = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video"}


class PictureError(ValueError):
    """An upload or a name that cannot be a picture (the message says why, in Japanese)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Picture:
    """What a display shows for a word: an image file (``media_type`` set) or a text card."""

    word: str
    value: str  # the file name, or the card's text

    @property
    def media_type(self) -> str | None:
        return media_type(self.value)

    @property
    def is_card(self) -> bool:
        return self.media_type is None


def media_type(value: str) -> str | None:
    """The image type a ``picture`` value names (None: it is a text card)."""
    return MEDIA_TYPES.get(os.path.splitext(value.strip().lower())[1]) if "." in value else None


def picture_problem(value: str) -> str | None:
    """Why ``value`` cannot be an entry's picture (None when it can)."""
    if media_type(value) is None:
        return f"text card is longer than {MAX_CARD} characters" if len(value) > MAX_CARD else None
    return None if _plain_name(value) else f"'{value}' must be a file name in the pictures folder, not a path"


def check_upload(name: str, data: bytes) -> str:
    """The media type of an uploaded picture, or :class:`PictureError` (see the module doc)."""
    if not _plain_name(name):
        raise PictureError(f"ファイル名「{name[:80]}」は使えません（フォルダを含まない名前にしてください）")
    kind = media_type(name)
    if kind is None:
        raise PictureError("PNG・JPEG・SVG の画像を選んでください（.png .jpg .jpeg .svg）", status=415)
    if len(data) > MAX_BYTES:
        raise PictureError(f"画像が大きすぎます（{MAX_BYTES // 1024} KB まで）", status=413)
    if kind == "image/svg+xml":
        _check_svg(data)
    elif not data.startswith(MAGIC[kind]):
        raise PictureError(f"{name} は{'PNG' if kind == 'image/png' else 'JPEG'}画像ではありません（中身が違います）", status=415)
    _decode(data, name)
    return kind


class PictureFolder:
    """The pictures beside a dictionary folder (``<folder>/pictures``)."""

    def __init__(self, dictionary_folder: str | Path) -> None:
        self.folder = Path(dictionary_folder).expanduser() / FOLDER

    def path(self, name: str) -> Path | None:
        """The file of a picture name (None: not a plain name, not an image, or no such file)."""
        if not _plain_name(name) or media_type(name) is None:
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def save(self, name: str, data: bytes) -> str:
        """Check and store an upload (replacing one of the same name); its media type."""
        kind = check_upload(name, data)
        atomic_write(self.folder / name, data)
        return kind

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if p.is_file() and media_type(p.name) and not p.name.startswith("."))


def _plain_name(name: str) -> bool:
    return bool(NAME.fullmatch(name)) and name not in (".", "..") and not name.startswith(".") and name == name.strip()


def _check_svg(data: bytes) -> None:
    head = data[:2048].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise PictureError("SVG に DOCTYPE や ENTITY は使えません", status=415)
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as e:
        raise PictureError(f"SVG として読めません（{e}）", status=415) from None
    if _local(root.tag) != "svg":
        raise PictureError("SVG 画像ではありません（中身が違います）", status=415)
    for element in root.iter():
        tag = _local(element.tag).lower()
        if tag in SVG_REFUSED_TAGS:
            raise PictureError(f"SVG に <{tag}> は使えません", status=415)
        for attribute, value in element.attrib.items():
            key = _local(attribute).lower()
            if key.startswith("on"):
                raise PictureError(f"SVG に {key} 属性は使えません", status=415)
            if key == "href" and not (value.startswith("#") or value.startswith("data:image/")):
                raise PictureError("SVG からほかのファイルやページは参照できません", status=415)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _decode(data: bytes, name: str) -> None:
    """The image decodes (a truncated or disguised file does not)."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame  # a dependency of every install (the caption window); SDL_image decodes all three

    try:
        pygame.image.load(io.BytesIO(data), name)
    except (pygame.error, ValueError) as e:
        raise PictureError(f"{name} は画像として読めません（{e}）", status=415) from None
