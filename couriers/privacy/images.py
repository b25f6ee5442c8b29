"""Every image the portal stores, one way: decoded (not trusted by name), size and pixel caps,
re-encoded as a plain JPEG with nothing but pixels (no EXIF, GPS, comments or text chunks),
stored under a random name; a replaced, cleared or deleted photo's file is removed.

A model declares its photo as a `PhotoField` (a drop-in for `models.ImageField`):

- its form field cleans each new upload, so a bad file is refused in Chinese before anything
  is stored (admin and public forms alike);
- its file's `save()` cleans whatever it is given that is not already clean, so a photo saved
  by code (demo data, a later feature) takes the same path;
- the file a row held is deleted once a change or deletion of the row is committed.

Where the photo is stored (public MEDIA_ROOT or the private storage) stays the model's choice.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import signals
from django.db.models.fields.files import FieldFile, ImageFieldFile
from PIL import Image, ImageOps, UnidentifiedImageError

# Serving a stored photo: opened on its own, an image is shown in a document the browser
# makes up, with inline styles; the image itself can run nothing, so its policy allows those
# styles and nothing else.
image_view = csp({"default-src": [NONE], "img-src": [SELF], "style-src": [UNSAFE_INLINE]})

ALLOWED = {"JPEG", "PNG", "WEBP"}
ACCEPT = "image/jpeg,image/png,image/webp"


class CleanPhoto(ContentFile):
    """A photo that has been through `clean_photo` (not cleaned a second time)."""


def clean_photo(upload) -> CleanPhoto:
    """The upload as a clean JPEG, or ValidationError with a Chinese reason."""
    if upload.size == 0:
        raise ValidationError("照片是空的，请重新拍摄。")
    if upload.size > settings.PHOTO_MAX_BYTES:
        raise ValidationError("照片太大（超过 10 MB），请压缩后再传。")
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                if kind not in ALLOWED:
                    raise ValidationError("只能上传 JPEG、PNG 或 WebP 照片。")
                if width * height > settings.PHOTO_MAX_PIXELS:
                    raise ValidationError("照片像素太多，请缩小后再传。")
                probe.verify()  # structural check of the whole file
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # decodes every pixel: a truncated file fails here
                # Phones record rotation in EXIF; apply it before EXIF is dropped.
                upright = ImageOps.exif_transpose(image).convert("RGB")
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise ValidationError("无法识别的图片，请上传手机拍摄的 JPEG、PNG 或 WebP 照片。") from None
    upright.thumbnail((2048, 2048))
    # Pixels only: a converted image keeps the source's info, and Pillow writes its "comment"
    # (a JPEG comment, a PNG text chunk) into the JPEG it saves.
    bare = Image.new("RGB", upright.size)
    bare.paste(upright)
    output = io.BytesIO()
    bare.save(output, format="JPEG", quality=85)
    return CleanPhoto(output.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


class PhotoFormField(forms.FileField):
    """A file input for photos: each new upload is cleaned (or refused) while the form is."""

    def to_python(self, data):
        upload = super().to_python(data)
        return None if upload is None else clean_photo(upload)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "accept": ACCEPT}


class PhotoFieldFile(ImageFieldFile):
    def save(self, name, content, save=True):
        if not isinstance(content, CleanPhoto):
            content = clean_photo(content)
        super().save(content.name, content, save)


class PhotoField(models.ImageField):
    """models.ImageField whose uploads are cleaned and whose old files are removed."""

    attr_class = PhotoFieldFile

    def formfield(self, **kwargs):
        return super().formfield(**{**kwargs, "form_class": PhotoFormField})

    def deconstruct(self):
        # The column is an ImageField's: migrations need not know (nor change) when a model's
        # photo becomes a PhotoField.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.ImageField", args, kwargs

    def contribute_to_class(self, cls, name, **kwargs):
        super().contribute_to_class(cls, name, **kwargs)
        if not cls._meta.abstract:
            signals.post_init.connect(self._remember, sender=cls, weak=False)
            signals.post_save.connect(self._drop_replaced, sender=cls, weak=False)
            signals.post_delete.connect(self._drop_deleted, sender=cls, weak=False)

    # The name of the file a row holds in the database, remembered when the row is loaded and
    # after each save; empty when there is none yet or the field was not loaded (deferred), in
    # which case nothing is deleted.

    def _stored_name(self, instance) -> str:
        value = instance.__dict__.get(self.attname)  # not the descriptor: no query if deferred
        if isinstance(value, str):
            return value
        if isinstance(value, FieldFile) and value._committed:
            return value.name or ""
        return ""  # a new file, not yet stored

    def _remember(self, sender, instance, **kwargs) -> None:
        instance.__dict__[f"_{self.attname}_stored"] = self._stored_name(instance)

    def _drop_replaced(self, sender, instance, using, raw=False, update_fields=None, **kwargs):
        if raw or (update_fields is not None and self.name not in update_fields):
            return  # fixtures, or a save that did not write this field
        old = instance.__dict__.get(f"_{self.attname}_stored")
        new = self._stored_name(instance)
        if old and old != new:
            self._delete_when_committed(sender, old, using)
        instance.__dict__[f"_{self.attname}_stored"] = new

    def _drop_deleted(self, sender, instance, using, **kwargs) -> None:
        name = self._stored_name(instance)
        if name:
            self._delete_when_committed(sender, name, using)

    def _delete_when_committed(self, model, name: str, using: str) -> None:
        """Remove the file once the change is committed (a rolled-back one keeps it), unless
        another row still names it."""
        if model._base_manager.using(using).filter(**{self.attname: name}).exists():
            return
        storage = self.storage
        transaction.on_commit(lambda: storage.delete(name), using=using)


# --- photos stored before this path existed -------------------------------------------------


def photo_fields() -> list[tuple[type[models.Model], PhotoField]]:
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.fields
        if isinstance(field, PhotoField)
    ]


def clean_stored(*, dry_run: bool = False, orphan_age: int = 3600) -> dict[str, int]:
    """Put every stored photo through `clean_photo` (its old file goes), clear the ones that
    path refuses, and delete files in the photo folders that no row names (left by earlier
    replacements) once older than `orphan_age` seconds (an upload in progress is younger)."""
    import time
    from collections import Counter

    counts: Counter[str] = Counter()
    for model, field in photo_fields():
        label = f"{model._meta.verbose_name}照片"
        rows = model._base_manager.exclude(**{field.attname: ""})
        for row in rows.iterator():
            stored = getattr(row, field.attname)
            try:
                with stored.open("rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                data = b""
            if data and _came_out_of_clean_photo(stored.name, data):
                continue  # re-encoding again would only lose quality
            try:
                cleaned = clean_photo(ContentFile(data))
            except ValidationError:
                cleaned = None
            if cleaned is None:
                counts[f"{label}（无法使用，已清除）"] += 1
                if not dry_run:
                    setattr(row, field.attname, "")
                    row.save(update_fields=[field.name])
                continue
            counts[f"{label}（已重新处理）"] += 1
            if not dry_run:
                stored.save(cleaned.name, cleaned, save=False)
                row.save(update_fields=[field.name])  # the old file goes once committed
        folder = field.upload_to if isinstance(field.upload_to, str) else ""
        if not folder:
            continue
        named = set(model._base_manager.values_list(field.attname, flat=True))
        for name in _files_under(field.storage, folder.rstrip("/")):
            too_young = time.time() - field.storage.get_modified_time(name).timestamp() < orphan_age
            if name in named or too_young:
                continue
            counts[f"{label}（无记录的旧文件，已删除）"] += 1
            if not dry_run:
                field.storage.delete(name)
    return dict(counts)


_CLEAN_NAME = re.compile(r"(?:^|/)[0-9a-f]{32}\.jpg$")
_JPEG_INFO = {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}


def _came_out_of_clean_photo(name: str, data: bytes) -> bool:
    """A random name and a bare JPEG (no metadata, nothing after its end, within the size
    cap), as `clean_photo` writes; anything else is cleaned again."""
    if not _CLEAN_NAME.search(name) or not data.endswith(b"\xff\xd9"):
        return False
    try:
        with Image.open(io.BytesIO(data)) as image:
            return (
                image.format == "JPEG"
                and set(image.info) <= _JPEG_INFO
                and not image.getexif()
                and max(image.size) <= 2048
            )
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False


def _files_under(storage, folder: str) -> list[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in files]
    for sub in folders:
        found += _files_under(storage, f"{folder}/{sub}")
    return found
