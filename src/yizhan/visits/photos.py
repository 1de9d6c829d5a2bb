"""Report photos: decoded and re-encoded with Pillow, so what is stored is only pixels.

A phone photo carries EXIF (GPS position, camera, time), and a file that starts like a JPEG can
carry HTML or a zip after its image data (a polyglot). Neither survives: the upload is decoded
(JPEG, PNG or WebP only, never by the name or the browser's claim), turned upright by its EXIF
orientation, shrunk to a bounded size and saved as a fresh JPEG without metadata. The pixel count
is checked from the header before anything is decoded, so a small file that unpacks to gigabytes
(a decompression bomb) is refused without being decoded. Stored under MEDIA_ROOT with a random
name, served only by a scoped staff view.
"""

import contextlib
import io
import uuid
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
STORED_TYPE = ("image/jpeg", "jpg")
JPEG_QUALITY = 82


def max_bytes() -> int:
    return getattr(settings, "YIZHAN_REPORT_PHOTO_MAX_BYTES", 4 * 1024 * 1024)


def max_side() -> int:
    return getattr(settings, "YIZHAN_REPORT_PHOTO_MAX_SIDE", 1600)


def max_pixels() -> int:
    return getattr(settings, "YIZHAN_REPORT_PHOTO_MAX_PIXELS", 40_000_000)


def _refuse(field: str, message: str):
    return ValidationError({field: message})


def _decode(upload, field: str) -> Image.Image:
    unreadable = _("The photo must be a JPEG, PNG or WebP image.")
    upload.seek(0)
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; both are refused here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(upload, formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(field, _("The photo has too many pixels.")) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _refuse(field, unreadable) from None
        if image.width * image.height > max_pixels():
            raise _refuse(field, _("The photo has too many pixels."))
        side = max_side()
        # JPEG decodes straight to 1/2, 1/4 or 1/8 scale: a 12-megapixel photo never fills memory.
        image.draft("RGB", (side, side))
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise _refuse(field, _("The photo could not be read; it may be damaged or incomplete.")) from None
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I"):  # 16-bit greyscale PNG: scale down to 8 bits
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    return image.convert("RGB") if image.mode != "RGB" else image


def clean_photo(upload, field: str = "photo") -> bytes | None:
    """The upload re-encoded as a metadata-free JPEG within the size bounds; None when there is none."""
    if upload is None or getattr(upload, "size", 0) == 0:
        return None
    limit = max_bytes()
    if upload.size > limit:
        raise _refuse(
            field, _("The photo is too large: at most %(mb)s MB.") % {"mb": round(limit / 1024 / 1024, 1)}
        )
    image = _decode(upload, field)
    # A broken EXIF block keeps the pixels as they are.
    with contextlib.suppress(OSError, SyntaxError, ValueError):
        image = ImageOps.exif_transpose(image) or image
    image = _flatten(image)
    image.thumbnail((max_side(), max_side()), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif= and no icc_profile=: Pillow then writes nothing but the image.
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def store(data: bytes) -> str:
    """Save re-encoded photo bytes under a random name; returns the storage path."""
    now = timezone.localtime()
    name = f"visits/reports/{now:%Y/%m}/{uuid.uuid4().hex}.{STORED_TYPE[1]}"
    return default_storage.save(name, ContentFile(data))


def delete(path: str) -> None:
    if path:
        default_storage.delete(path)


def open_photo(path: str):
    return default_storage.open(path, "rb")
