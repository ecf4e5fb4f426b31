"""Uploaded photos lose their metadata; uploaded file names are made harmless.

The metadata check does not trust Pillow: a JPEG carrying EXIF (camera, owner, date), GPS, an
embedded EXIF thumbnail, XMP and a comment — its bytes assembled here by hand — goes through
the real attachments API, and Debian's ``exiftool`` (libimage-exiftool-perl; ``make test``
installs it) reads what is stored and served. Without exiftool the test skips; with
``CI=true`` it fails.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import struct
import subprocess
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from eyelevel.core.actions.attachments import MAX_NAME_BYTES, MAX_NAME_CHARS, attachment_name
from tests import backends
from tests.harness import Client, Server

API = "/api/v1"
CANARY = "Kanarie"
# all that exiftool may report for a stored image: the file itself (and the System group: its
# name, size and dates on this disk), the JFIF header of a JPEG, a PNG's header chunk, a WebP's
# frame header; any other tag is metadata that survived
CLEAN_TAGS = {
    "ExifTool:ExifToolVersion",
    *(
        f"File:{name}"
        for name in (
            "FileType",
            "FileTypeExtension",
            "MIMEType",
            "ImageWidth",
            "ImageHeight",
            "EncodingProcess",
            "BitsPerSample",
            "ColorComponents",
            "YCbCrSubSampling",
        )
    ),
    *(f"JFIF:{name}" for name in ("JFIFVersion", "ResolutionUnit", "XResolution", "YResolution")),
    *(
        f"PNG:{name}"
        for name in (
            "ImageWidth",
            "ImageHeight",
            "BitDepth",
            "ColorType",
            "Compression",
            "Filter",
            "Interlace",
        )
    ),
    *(
        f"RIFF:{name}"
        for name in ("ImageWidth", "ImageHeight", "VP8Version", "HorizontalScale", "VerticalScale")
    ),
    "Composite:ImageSize",
    "Composite:Megapixels",
}

# -- a JPEG with every kind of metadata, assembled byte by byte --------------------------------

ASCII, BYTE, SHORT, LONG, RATIONAL = 2, 1, 3, 4, 5
Entry = tuple[int, int, bytes]  # tag, TIFF type, the value's big-endian bytes
_UNIT = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8}


def text(value: str) -> bytes:
    return value.encode() + b"\0"


def long(value: int) -> bytes:
    return struct.pack(">I", value)


def rationals(*values: tuple[int, int]) -> bytes:
    return b"".join(struct.pack(">II", n, d) for n, d in values)


def ifd(entries: list[Entry], start: int, next_ifd: int = 0) -> bytes:
    """One TIFF image file directory at offset ``start``; values over 4 bytes follow it."""
    table = struct.pack(">H", len(entries))
    data = b""
    after = start + 2 + 12 * len(entries) + 4
    for tag, kind, value in sorted(entries):
        count = len(value) // _UNIT[kind]
        if len(value) <= 4:
            inline = value.ljust(4, b"\0")
        else:
            inline = long(after + len(data))
            data += value + b"\0" * (len(value) % 2)
        table += struct.pack(">HHI", tag, kind, count) + inline
    return table + long(next_ifd) + data


def exif_tiff(thumbnail: bytes) -> bytes:
    """IFD0 (camera, artist) → Exif IFD (date, owner, serial), GPS IFD, IFD1 (a thumbnail)."""

    def directories(exif_at: int, gps_at: int, ifd1_at: int, thumb_at: int) -> list[bytes]:
        return [
            ifd(
                [
                    (0x010F, ASCII, text(f"{CANARY}Cam")),  # Make
                    (0x0110, ASCII, text("EOS 5D")),  # Model
                    (0x013B, ASCII, text(f"{CANARY} Artist")),  # Artist
                    (0x8769, LONG, long(exif_at)),
                    (0x8825, LONG, long(gps_at)),
                ],
                8,
                ifd1_at,
            ),
            ifd(
                [
                    (0x9003, ASCII, text("2024:05:01 12:34:56")),  # DateTimeOriginal
                    (0xA430, ASCII, text(f"{CANARY} Owner")),  # CameraOwnerName
                    (0xA431, ASCII, text("SN-4711")),  # BodySerialNumber
                ],
                exif_at,
            ),
            ifd(
                [
                    (0x0000, BYTE, bytes([2, 3, 0, 0])),  # GPSVersionID
                    (0x0001, ASCII, text("N")),
                    (0x0002, RATIONAL, rationals((52, 1), (30, 1), (5868, 100))),
                    (0x0003, ASCII, text("E")),
                    (0x0004, RATIONAL, rationals((13, 1), (22, 1), (3972, 100))),
                    (0x0006, RATIONAL, rationals((34, 1))),  # GPSAltitude
                ],
                gps_at,
            ),
            ifd(
                [
                    (0x0103, SHORT, struct.pack(">H", 6)),  # Compression: JPEG
                    (0x0201, LONG, long(thumb_at)),  # ThumbnailOffset
                    (0x0202, LONG, long(len(thumbnail))),  # ThumbnailLength
                ],
                ifd1_at,
            ),
        ]

    sizes = [len(d) for d in directories(0, 0, 0, 0)]  # offsets do not change any size
    exif_at = 8 + sizes[0]
    gps_at = exif_at + sizes[1]
    ifd1_at = gps_at + sizes[2]
    thumb_at = ifd1_at + sizes[3]
    body = b"".join(directories(exif_at, gps_at, ifd1_at, thumb_at))
    return b"MM\0*" + long(8) + body + thumbnail


XMP = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
 exif:GPSLatitude="52,30.978N" exif:GPSLongitude="13,22.662E" photoshop:City="{CANARY}stadt">
<dc:creator><rdf:Seq><rdf:li>{CANARY} Fotograf</rdf:li></rdf:Seq></dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>""".encode()


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(size: tuple[int, int], quality: int = 90) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste(Image.new("RGB", (size[0] // 2, size[1]), (30, 30, 200)), (size[0] // 2, 0))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def photo_with_everything() -> bytes:
    """A 640×480 JPEG with APP1 Exif (+ GPS + IFD1 thumbnail), APP1 XMP and a comment."""
    plain = jpeg((640, 480))
    assert plain[:4] == b"\xff\xd8\xff\xe0"  # SOI, then Pillow's JFIF APP0
    app0_end = 4 + struct.unpack(">H", plain[4:6])[0]
    metadata = (
        segment(0xE1, b"Exif\0\0" + exif_tiff(jpeg((160, 120), quality=60)))
        + segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP)
        + segment(0xFE, f"{CANARY} comment".encode())
    )
    return plain[:app0_end] + metadata + plain[app0_end:]


# -- exiftool ----------------------------------------------------------------------------------


@pytest.fixture
def exiftool() -> str:
    path = shutil.which("exiftool")
    if path is None:
        reason = (
            "REQUIRE: Debian's exiftool (apt-get install libimage-exiftool-perl; "
            "make test installs it when run as root)"
        )
        if backends.CI:
            pytest.fail(reason)
        pytest.skip(reason)  # REQUIRE: exiftool — with CI=true the line above fails instead
    return path


async def read_tags(exiftool: str, files: list[Path]) -> list[dict[str, Any]]:
    """``exiftool -j -a -G1``: every tag of every file, keyed ``group:name``."""
    result = await asyncio.to_thread(
        subprocess.run,
        [exiftool, "-j", "-a", "-G1", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def leftovers(tags: dict[str, Any]) -> dict[str, Any]:
    """Every tag but those of a file without metadata."""
    return {
        k: v
        for k, v in tags.items()
        if k != "SourceFile" and not k.startswith("System:") and k not in CLEAN_TAGS
    }


# -- helpers -----------------------------------------------------------------------------------


async def setup(server: Server) -> tuple[Client, Client, int]:
    company = await server.company("acme", "Acme AG")
    agent = await server.agent(company)
    customer = await server.customer()
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    return agent, customer, conv


def stored_files(server: Server) -> dict[str, Path]:
    root = server.settings.data_dir / "files"
    return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def multipart(filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    """A form with one file whose name goes on the wire exactly as given (UTF-8, only ``"``
    and ``\\`` escaped), as a hostile client would send it — httpx would percent-encode
    control characters first."""
    boundary = "eyelevel-boundary-7d1f"
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


# -- tests -------------------------------------------------------------------------------------


async def test_exiftool_finds_no_metadata_in_a_stored_photo(
    server: Server, exiftool: str, tmp_path: Path
) -> None:
    original = tmp_path / "original.jpg"
    original.write_bytes(photo_with_everything())
    # the premise, read by exiftool too: every kind of metadata is in the upload
    [before] = await read_tags(exiftool, [original])
    for tag in (
        "IFD0:Make",
        "IFD0:Artist",
        "ExifIFD:DateTimeOriginal",
        "ExifIFD:OwnerName",
        "GPS:GPSLatitude",
        "GPS:GPSLongitude",
        "IFD1:ThumbnailImage",
        "XMP-dc:Creator",
        "XMP-exif:GPSLatitude",
        "XMP-photoshop:City",
        "File:Comment",
    ):
        assert tag in before, (tag, sorted(before))
    assert str(before["IFD0:Make"]).startswith(CANARY)

    agent, customer, conv = await setup(server)
    r = await customer.http.post(
        f"{API}/conversations/{conv}/attachments",
        files={"file": ("IMG_0815.jpg", original.read_bytes(), "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    [att] = r.json()["attachments"]
    assert (att["content_type"], att["width"], att["height"]) == ("image/jpeg", 640, 480)

    served = tmp_path / "served.jpg"
    thumbnail = tmp_path / "thumbnail.jpg"
    got = await agent.get(f"{API}/attachments/{att['id']}")
    assert got.status_code == 200, got.text
    served.write_bytes(got.content)
    got = await agent.get(f"{API}/attachments/{att['id']}/thumbnail")
    assert got.status_code == 200, got.text
    thumbnail.write_bytes(got.content)
    on_disk = stored_files(server)
    assert len(on_disk) == 2, on_disk  # the photo and its thumbnail, nothing else

    checked = [served, thumbnail, *on_disk.values()]
    reports = await read_tags(exiftool, checked)
    assert len(reports) == len(checked)
    for path, tags in zip(checked, reports, strict=True):
        assert tags["File:FileType"] == "JPEG", (path, tags)
        assert leftovers(tags) == {}, (path, leftovers(tags))
        for key in tags:
            assert not any(w in key for w in ("GPS", "Thumbnail", "XMP", "Comment")), (path, key)
        assert CANARY not in json.dumps(tags), (path, tags)
        data = path.read_bytes()
        for needle in (CANARY.encode(), b"Exif", b"http://ns.adobe.com", b"xpacket"):
            assert needle not in data, (path, needle)
    served_tags, thumbnail_tags = reports[0], reports[1]
    assert (served_tags["File:ImageWidth"], served_tags["File:ImageHeight"]) == (640, 480)
    assert (thumbnail_tags["File:ImageWidth"], thumbnail_tags["File:ImageHeight"]) == (480, 360)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
async def test_exiftool_finds_no_metadata_in_png_or_webp(
    server: Server, exiftool: str, tmp_path: Path, fmt: str
) -> None:
    exif = b"Exif\0\0" + exif_tiff(b"")
    img = Image.new("RGB", (64, 48), (10, 120, 10))
    upload = io.BytesIO()
    if fmt == "PNG":
        chunks = PngImagePlugin.PngInfo()
        chunks.add_itxt("XML:com.adobe.xmp", XMP.decode())
        chunks.add_text("Comment", f"{CANARY} comment")
        img.save(upload, fmt, exif=exif, pnginfo=chunks)
    else:
        img.save(upload, fmt, exif=exif, xmp=XMP)
    original = tmp_path / f"original.{fmt.lower()}"
    original.write_bytes(upload.getvalue())
    [before] = await read_tags(exiftool, [original])
    assert "GPS:GPSLatitude" in before and "XMP-dc:Creator" in before, sorted(before)

    _, customer, conv = await setup(server)
    r = await customer.http.post(
        f"{API}/conversations/{conv}/attachments",
        files={"file": (original.name, original.read_bytes(), f"image/{fmt.lower()}")},
    )
    assert r.status_code == 201, r.text
    checked = list(stored_files(server).values())
    assert len(checked) == 2, checked  # the image and its JPEG thumbnail
    for path, tags in zip(checked, await read_tags(exiftool, checked), strict=True):
        assert leftovers(tags) == {}, (path, leftovers(tags))
        assert CANARY not in json.dumps(tags) and CANARY.encode() not in path.read_bytes()


HOSTILE_NAMES = [
    # (what the client sends, the name eyelevel keeps)
    ("../../etc/passwd", "passwd.pdf"),
    ("..\\..\\Windows\\System32\\evil.exe", "evil.pdf"),
    ("/var/lib/eyelevel/files/1/other.pdf", "other.pdf"),
    ("Rechnung\u202efdp.exe", "Rechnungfdp.pdf"),  # a bidi override
    ("zero\u200bwidth\u2066isolate\u2069\ufeff.pdf", "zerowidthisolate.pdf"),
    ("bell\x07null\x00esc\x1b tab\tend.pdf", "bellnullesc tab end.pdf"),
    (".htaccess", "htaccess.pdf"),
    ("...", "file.pdf"),
    ("   ", "file.pdf"),
    ("-rf --no-preserve-root.pdf", "rf --no-preserve-root.pdf"),
    ('Angebot "final"; name=x <1>.pdf', "Angebot _final__ name_x _1_.pdf"),
    ("CON.pdf", "_CON.pdf"),
    ("Straße 5 (Kopie) – Größe.jpg", "Straße 5 (Kopie) _ Größe.pdf"),
    ("x" * 300 + ".pdf", "x" * 100 + ".pdf"),
    ("日" * 150 + ".pdf", "日" * 66 + ".pdf"),  # 200 bytes of UTF-8 at most
]


async def test_hostile_file_names_are_made_harmless(server: Server) -> None:
    agent, customer, conv = await setup(server)
    document = pdf()
    uploads: list[tuple[str, str, dict[str, Any]]] = []
    for sent, expected in [*HOSTILE_NAMES, ("", "file.pdf")]:
        body, content_type = multipart(sent, document, "application/pdf")
        r = await customer.http.post(
            f"{API}/conversations/{conv}/attachments",
            content=body,
            headers={"content-type": content_type},
        )
        assert r.status_code == 201, (sent, r.text)
        [att] = r.json()["attachments"]
        uploads.append((sent, expected, att))

    r = await agent.get(f"{API}/conversations/{conv}/messages", params={"limit": 200})
    listed = [a["name"] for m in r.json()["items"] for a in m["attachments"]]
    assert listed == [expected for _, expected, _ in uploads]
    for sent, expected, att in uploads:
        assert att["name"] == expected, (sent, att["name"])
        got = await agent.get(f"{API}/attachments/{att['id']}")
        assert got.status_code == 200 and got.content == document
        disposition = got.headers["content-disposition"]
        assert disposition == f"attachment; filename*=UTF-8''{quote(expected)}", disposition
        name = unquote(disposition.split("''", 1)[1])
        assert name == expected
        assert not any(c in name for c in '/\\"\r\n\0') and not name.startswith(".")
        assert all(c.isprintable() for c in name) and "\u202e" not in name
        assert len(name.encode()) <= 204
    # what is on disk is named by the core: <company>/<random>.pdf, nothing of the uploads
    for key in stored_files(server):
        company, file = key.split("/")
        assert company.isdigit() and file.endswith(".pdf") and len(file) == 36, key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_name_comes_out_harmless_and_stays_so(sent: str) -> None:
    name = attachment_name(sent, "pdf")
    assert attachment_name(name, "pdf") == name  # idempotent
    stem = name.removesuffix(".pdf")
    assert stem and len(stem) <= MAX_NAME_CHARS and len(stem.encode()) <= MAX_NAME_BYTES
    assert stem == stem.strip() and not stem.startswith((".", "-")) and not stem.endswith(".")
    assert all(c.isprintable() and c not in '/\\:*?"<>|;%' for c in name), name
    assert all(unicodedata.category(c)[0] != "C" for c in name), name
