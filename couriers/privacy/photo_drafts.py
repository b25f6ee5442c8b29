"""A photo kept between two tries of a form: a courier who forgot a field must not lose the
picture he just took (on a slow network, upload it twice).

The cleaned photo (couriers.privacy.images) is saved in the storage and folder of the field it
is for, under a random name held in the visitor's session only: nobody else can use it, no URL
serves it, and an abandoned draft is an unnamed file in that folder, which the hourly
housekeeping (images.clean_stored) deletes once it is an hour old.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from couriers.privacy.images import CleanPhoto

SESSION_PREFIX = "photo_draft:"


class PhotoDraft:
    """The draft photo for one form (`key`) of this visitor, stored like `field`'s files."""

    def __init__(self, request: HttpRequest, key: str, field):
        self.session = request.session
        self.session_key = SESSION_PREFIX + key
        self.storage = field.storage
        self.folder = f"{str(field.upload_to).rstrip('/')}/drafts"

    @property
    def name(self) -> str:
        return self.session.get(self.session_key, "")

    def exists(self) -> bool:
        return bool(self.name) and self.storage.exists(self.name)

    def keep(self, photo: CleanPhoto) -> None:
        """Keep `photo` (already cleaned) for the retry, replacing any earlier draft."""
        self.discard()
        photo.seek(0)
        name = self.storage.save(f"{self.folder}/{uuid.uuid4().hex}.jpg", photo)
        self.session[self.session_key] = name

    def photo(self) -> CleanPhoto | None:
        """The kept photo, as a clean photo ready to be saved on the record."""
        if not self.exists():
            return None
        with self.storage.open(self.name, "rb") as stored:
            data = stored.read()
        return CleanPhoto(data, name=f"{uuid.uuid4().hex}.jpg")

    def discard(self) -> None:
        name = self.session.pop(self.session_key, "")
        if name and self.storage.exists(name):
            self.storage.delete(name)
