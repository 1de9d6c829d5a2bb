"""Photos and documents attached to a case, judged by their bytes, never by name or claimed type.

A photo goes through the same decoder as report photos (`yizhan.visits.photos`: JPEG, PNG or
WebP decoded and re-encoded as a metadata-free JPEG, decompression bombs refused); a document must
be a PDF (its header and end-of-file marker) with no embedded scripts or launch actions. Both are
stored under MEDIA_ROOT with a random name and served only by a scoped staff view.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.visits import photos

FIELD = "file"
PDF_TYPE = "application/pdf"
# Markers of active content: a scanned letter or a police receipt needs none of them.
PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction", b"/AA")


def max_bytes() -> int:
    return getattr(settings, "YIZHAN_CASE_DOCUMENT_MAX_BYTES", 8 * 1024 * 1024)


def _read(upload) -> bytes:
    upload.seek(0)
    return upload.read()


def clean_document(upload) -> tuple[str, str, bytes]:
    """(kind, content type, bytes to store) or a ValidationError on `file`."""
    if upload is None or getattr(upload, "size", 0) == 0:
        raise ValidationError({FIELD: _("Choose a photo or a PDF document.")})
    limit = max_bytes()
    if upload.size > limit:
        raise ValidationError(
            {FIELD: _("The file is too large: at most %(mb)s MB.") % {"mb": round(limit / 2**20, 1)}}
        )
    upload.seek(0)
    head = upload.read(8)
    if head.startswith(b"%PDF-"):
        data = _read(upload)
        if b"%%EOF" not in data[-1024:]:
            raise ValidationError({FIELD: _("The PDF is incomplete or damaged.")})
        if any(marker in data for marker in PDF_ACTIVE):
            raise ValidationError(
                {FIELD: _("The PDF contains scripts or embedded files; print it to PDF again.")}
            )
        return "pdf", PDF_TYPE, data
    try:
        data = photos.clean_photo(upload, field=FIELD)
    except ValidationError:
        raise ValidationError(
            {FIELD: _("The file is neither a photo (JPEG, PNG, WebP) nor a PDF document.")}
        ) from None
    return "photo", photos.STORED_TYPE[0], data


def store(data: bytes, kind: str) -> str:
    now = timezone.localtime()
    suffix = "pdf" if kind == "pdf" else photos.STORED_TYPE[1]
    return default_storage.save(f"cases/{now:%Y/%m}/{uuid.uuid4().hex}.{suffix}", ContentFile(data))


def delete(path: str) -> None:
    if path:
        default_storage.delete(path)


def open_document(path: str):
    return default_storage.open(path, "rb")
