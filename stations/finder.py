"""The finder's state (filters, position, list or map, page) as it travels between pages.

A station's page, its report buttons and the redirect after a report carry the finder's own
parameters and nothing else, so 「‹ 全部站点」 returns to the same filtered, distance-sorted
list (or the map) without passing on whatever else a link carried.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.urls import reverse

FINDER_PARAMS = ("service", "town", "open", "lat", "lng", "view")
PAGE_SIZE = 20  # a phone screen or three; the rest behind 「查看更多」


def finder_query(params) -> str:
    """The finder's parameters of a QueryDict (or dict of lists), url-encoded, in order."""
    pairs = []
    for name in FINDER_PARAMS:
        values = params.getlist(name) if hasattr(params, "getlist") else params.get(name, [])
        pairs += [(name, value) for value in values if value and len(value) <= 32]
    return urlencode(pairs)


def back_link(params) -> tuple[str, str]:
    """(url, label) of the list or map the station was opened from, with its filters."""
    on_map = params.get("view") == "map"
    query = finder_query({k: params.getlist(k) for k in FINDER_PARAMS if k != "view"})
    url = reverse("stations:map" if on_map else "stations:finder")
    return (f"{url}?{query}" if query else url), ("‹ 站点地图" if on_map else "‹ 全部站点")


def active_filters(form) -> list[str]:
    """What the finder is filtering on, in words, for the collapsed 筛选 summary."""
    if not form.is_bound:
        return []
    form.is_valid()
    data = form.cleaned_data
    words = [service.name for service in data.get("service") or ()]
    if data.get("town"):
        words.append(data["town"].name)
    if data.get("open"):
        words.append("现在开放")
    return words


def page_of(entries: list, params) -> tuple[list, str]:
    """The requested page of 20 (nearest first when sorted by distance) and the query of the
    next page ("" on the last). A page that is no page shows the first or the last."""
    page = Paginator(entries, PAGE_SIZE).get_page(str(params.get("page", ""))[:6])
    more = ""
    if page.has_next():
        more = finder_query(params)
        more = (more + "&" if more else "") + f"page={page.next_page_number()}"
    return list(page.object_list), more


def markers(entries: list, to_map=None) -> dict:
    """Every matching station as compact rows [id, lat, lng, open, name, status] with the
    statuses listed once: about 50 bytes a station instead of a card of HTML. `to_map`
    converts stored WGS-84 coordinates to those of the map's tiles."""
    statuses: list[str] = []
    rows = []
    for entry in entries:
        station, label = entry.station, str(entry.status.label)
        if label not in statuses:
            statuses.append(label)
        lat, lng = station.latitude, station.longitude
        if to_map is not None:
            lat, lng = to_map(lat, lng)
        rows.append(
            [
                station.pk,
                round(lat, 5),
                round(lng, 5),
                int(entry.status.is_open),
                station.name,
                statuses.index(label),
            ]
        )
    return {"url": reverse("stations:detail", args=[0]), "statuses": statuses, "rows": rows}
