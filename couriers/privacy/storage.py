"""Storage for files that must never be served publicly (uploaded surveys hold personal data):
a folder outside MEDIA_ROOT that no web server maps to a URL."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """FileSystemStorage in PRIVATE_MEDIA_ROOT, read when used (not when models load)."""

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def private_storage() -> FileSystemStorage:
    return PrivateStorage()
