"""Tile sources for the station map, chosen in settings (MAP_TILE_SOURCE, MAP_TILE_KEY).

Plain Python without Django, so settings can resolve the source before the app loads (the
tile server's origin goes into the Content-Security-Policy).

- 天地图 (Tianditu), the national government map service, needs a browser key (MAP_TILE_KEY,
  free from console.tianditu.gov.cn). Its CGCS2000 coordinates are WGS-84 to within
  centimetres, so stations are drawn where they are stored.
- 高德 (Amap) tiles need no key and load reliably in mainland China, but are drawn in GCJ-02:
  markers then get the same shift as the Amap route links (stations/geo.py).
- OpenStreetMap, or any `{z}/{x}/{y}` server (MAP_TILE_URL), in WGS-84 unless
  MAP_TILE_COORDINATES says gcj02.

The default is 天地图 when a key is set, otherwise 高德.
"""

from __future__ import annotations

import dataclasses

_TIANDITU = (
    "https://t0.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


@dataclasses.dataclass(frozen=True)
class TileSource:
    url: str  # Leaflet's {z}/{x}/{y} template; empty: no map, the list alone
    attribution: str
    coordinates: str = "wgs84"  # or "gcj02"
    labels_url: str = ""  # a second, transparent layer with place names (天地图's 注记)


def resolve(
    source: str = "",
    key: str = "",
    url: str | None = None,
    attribution: str | None = None,
    coordinates: str | None = None,
) -> TileSource:
    """The tile source the settings name. An explicit `url` (MAP_TILE_URL) wins: "" hides the
    map. Raises ValueError for an unknown source or 天地图 without a key."""
    source = (source or ("tianditu" if key else "amap")).strip().lower()
    if url is not None:
        chosen = TileSource(url, "", coordinates or "wgs84")
    elif source == "tianditu":
        if not key:
            raise ValueError("MAP_TILE_SOURCE=tianditu needs MAP_TILE_KEY (a 天地图 browser key)")
        chosen = TileSource(
            _TIANDITU.format(layer="vec", key=key),
            "© 天地图",
            "wgs84",
            _TIANDITU.format(layer="cva", key=key),
        )
    elif source == "amap":
        chosen = TileSource(
            "https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            "© 高德地图",
            "gcj02",
        )
    elif source == "osm":
        chosen = TileSource("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap")
    else:
        raise ValueError(f"MAP_TILE_SOURCE should be tianditu, amap or osm, not {source!r}")
    if coordinates not in (None, "wgs84", "gcj02"):
        raise ValueError("MAP_TILE_COORDINATES should be wgs84 or gcj02")
    return dataclasses.replace(
        chosen,
        attribution=chosen.attribution if attribution is None else attribution,
        coordinates=coordinates or chosen.coordinates,
    )
