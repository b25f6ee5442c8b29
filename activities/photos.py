"""Safe photo uploads: decoded (not trusted by name), size and pixel caps, re-encoded as JPEG
with all metadata (EXIF, GPS included) dropped, stored under a random name."""

from __future__ import annotations

import io
import uuid
import warnings

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED = {"JPEG", "PNG", "WEBP"}


def clean_photo(upload) -> ContentFile:
    """The upload as a clean JPEG, or ValidationError with a Chinese reason."""
    if upload.size == 0:
        raise ValidationError("照片是空的，请重新拍摄。")
    if upload.size > settings.PHOTO_MAX_BYTES:
        raise ValidationError("照片太大（超过 10 MB），请压缩后再传。")
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
                clean = ImageOps.exif_transpose(image).convert("RGB")
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
    clean.thumbnail((2048, 2048))
    output = io.BytesIO()
    clean.save(output, format="JPEG", quality=85)  # no exif= argument: metadata is dropped
    return ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


# Opened on its own, an image is shown in a document the browser makes up, with inline styles;
# the image itself can run nothing, so its policy allows those styles and nothing else.
image_view = csp({"default-src": [NONE], "img-src": [SELF], "style-src": [UNSAFE_INLINE]})
