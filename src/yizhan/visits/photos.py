"""Report photos: checked by size and by their first bytes (never by the name or the browser's
claim), stored under MEDIA_ROOT with a random name, served only by a scoped staff view."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

# (content type, extension, test on the first bytes)
SIGNATURES = [
    ("image/jpeg", "jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/png", "png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/webp", "webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
]


def max_bytes() -> int:
    return getattr(settings, "YIZHAN_REPORT_PHOTO_MAX_BYTES", 4 * 1024 * 1024)


def sniff(head: bytes) -> tuple[str, str] | None:
    for content_type, extension, test in SIGNATURES:
        if test(head):
            return content_type, extension
    return None


def clean_photo(upload, field: str = "photo") -> tuple[str, str] | None:
    """(content type, extension) of an acceptable upload, None when there is none."""
    if upload is None or getattr(upload, "size", 0) == 0:
        return None
    limit = max_bytes()
    if upload.size > limit:
        raise ValidationError(
            {field: _("The photo is too large: at most %(mb)s MB.") % {"mb": round(limit / 1024 / 1024, 1)}}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = sniff(head)
    if kind is None:
        raise ValidationError({field: _("The photo must be a JPEG, PNG or WebP image.")})
    return kind


def store(upload, extension: str) -> str:
    """Save the upload under a random name; returns the storage path."""
    now = timezone.localtime()
    name = f"visits/reports/{now:%Y/%m}/{uuid.uuid4().hex}.{extension}"
    upload.seek(0)
    return default_storage.save(name, upload)


def delete(path: str) -> None:
    if path:
        default_storage.delete(path)


def open_photo(path: str):
    return default_storage.open(path, "rb")
