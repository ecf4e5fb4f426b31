"""Uploads made safe: images re-encoded without metadata (EXIF, GPS, XMP), with a thumbnail.

The implementation of :class:`~eyelevel.core.ports.MediaProcessor` with Pillow (HEIC/HEIF
through the pillow-heif plugin). Decoding is the attack surface, so the type is taken from the
bytes, never from the file name or the declared content type, and the pixel count is capped
before anything is decoded.
"""

from __future__ import annotations

import io

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from eyelevel.core.actions.attachments import attachment_name
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import ProcessedFile

pillow_heif.register_heif_opener()

MAX_PIXELS = 40_000_000  # a 40-megapixel photo; larger images are refused, not decoded
THUMBNAIL_EDGE = 480
# the decoded format → (what is stored, its content type, its extension)
FORMATS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "MPO": ("JPEG", "image/jpeg", "jpg"),  # phones' multi-picture JPEGs: the first picture
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
    "HEIF": ("JPEG", "image/jpeg", "jpg"),  # browsers cannot show HEIC: stored as JPEG
}


def _unsupported() -> DomainError:
    return DomainError(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        "send a photo (JPEG, PNG, WebP, HEIC) or a PDF",
        field="file",
    )


def _invalid(detail: str = "this file is damaged or not what its type says") -> DomainError:
    return DomainError(ErrorCode.INVALID_FILE, detail, field="file")


class PillowMedia:
    def process(self, data: bytes, *, filename: str) -> ProcessedFile:
        if data.startswith(b"%PDF-"):
            if b"%%EOF" not in data[-2048:]:
                raise _invalid("this PDF is incomplete")
            return ProcessedFile(attachment_name(filename, "pdf"), "application/pdf", data)
        return self._image(data, filename)

    def _image(self, data: bytes, filename: str) -> ProcessedFile:
        too_many = "this image has too many pixels (at most 40 megapixels)"
        try:
            # opening reads the header only: the size is checked before any pixel is decoded
            with Image.open(io.BytesIO(data)) as opened:
                fmt = opened.format or ""
                if fmt not in FORMATS:
                    raise _unsupported()
                if opened.width * opened.height > MAX_PIXELS:
                    raise _invalid(too_many)
                opened.seek(0)
                # applies the orientation tag, then the tag (and all metadata) is dropped
                image = ImageOps.exif_transpose(opened)
                image.load()
        except DomainError:
            raise
        except UnidentifiedImageError:
            raise _unsupported() from None
        except Image.DecompressionBombError:
            raise _invalid(too_many) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise _invalid() from None
        target, content_type, extension = FORMATS[fmt]
        clean = _strip(image, target)
        out = io.BytesIO()
        if target == "JPEG":
            clean.save(out, "JPEG", quality=88, optimize=True)
        elif target == "WEBP":
            clean.save(out, "WEBP", quality=88)
        else:
            clean.save(out, "PNG", optimize=True)
        return ProcessedFile(
            name=attachment_name(filename, extension),
            content_type=content_type,
            data=out.getvalue(),
            width=clean.width,
            height=clean.height,
            thumbnail=_thumbnail(clean),
        )


def _strip(image: Image.Image, target: str) -> Image.Image:
    """A copy that carries pixels only: no EXIF, GPS, XMP, comments or text chunks."""
    if target == "JPEG" and image.mode not in ("RGB", "L"):
        image = _flatten(image)
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert(
            "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
        )
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    clean.info = {}
    return clean


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white (JPEG has no transparency)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _thumbnail(image: Image.Image) -> bytes:
    thumb = _flatten(image) if image.mode != "RGB" else image.copy()
    thumb.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()
