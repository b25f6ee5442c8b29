"""Serving stored photos. The photos themselves are cleaned on the way in, for every model, by
`couriers.privacy.images` (PhotoField)."""

from __future__ import annotations

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp

# Opened on its own, an image is shown in a document the browser makes up, with inline styles;
# the image itself can run nothing, so its policy allows those styles and nothing else.
image_view = csp({"default-src": [NONE], "img-src": [SELF], "style-src": [UNSAFE_INLINE]})
