"""Photos and documents: judged by their bytes (never the name), capped in size, stored under
MEDIA_ROOT with a random name, served only in scope; nothing half-written on refusal."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from yizhan.cases import services
from yizhan.cases.models import CaseDocument
from yizhan.cases.tests.conftest import PDF, PNG

pytestmark = pytest.mark.django_db


def upload(data: bytes, name="x.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored(media):
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def test_a_photo_is_re_encoded_and_stored_under_media(new_case, users, media):
    case = new_case()
    doc = services.add_document(case, actor=users["hq_admin"], upload=upload(PNG, "photo.png"), title="现场")
    assert doc.kind == "photo" and doc.content_type == "image/jpeg"
    files = stored(media)
    assert len(files) == 1 and files[0].read_bytes().startswith(b"\xff\xd8") and "photo" not in files[0].name


def test_a_pdf_is_accepted_by_its_bytes_whatever_its_name(new_case, users, media):
    doc = services.add_document(new_case(), actor=users["hq_admin"], upload=upload(PDF, "receipt.jpg"))
    assert doc.kind == "pdf" and doc.content_type == "application/pdf"


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",  # named .jpg, claims image/jpeg
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 truncated",  # a JPEG header and nothing behind it
        b"%PDF-1.4\n no end marker",
        PDF.replace(b"/Catalog", b"/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>"),
        b"MZ\x90\x00 an executable",
    ],
)
def test_a_file_that_is_not_a_photo_or_a_clean_pdf_is_refused(new_case, users, media, data):
    case = new_case()
    with pytest.raises(ValidationError) as err:
        services.add_document(case, actor=users["hq_admin"], upload=upload(data))
    assert "file" in err.value.message_dict
    assert not CaseDocument.objects.filter(case=case).exists() and stored(media) == []


def test_a_file_over_the_cap_is_refused_before_it_is_read(new_case, users, media, settings):
    settings.YIZHAN_CASE_DOCUMENT_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as err:
        services.add_document(new_case(), actor=users["hq_admin"], upload=upload(PDF + b" " * 2000))
    assert "file" in err.value.message_dict and "MB" in err.value.message_dict["file"][0]


def test_no_file_names_the_field(new_case, users):
    with pytest.raises(ValidationError) as err:
        services.add_document(new_case(), actor=users["hq_admin"], upload=None)
    assert "file" in err.value.message_dict


def test_a_document_is_served_in_scope_only(new_case, users, media, client_for):
    case = new_case()
    doc = services.add_document(case, actor=users["hq_admin"], upload=upload(PNG, "p.png"))
    url = f"/manage/cases/{case.pk}/documents/{doc.pk}/"
    ok = client_for("cq_admin").get(url)
    assert ok.status_code == 200 and ok["Content-Type"] == "image/jpeg"
    assert ok["X-Content-Type-Options"] == "nosniff"
    assert client_for("sz_viewer").get(url).status_code == 404
