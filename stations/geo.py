"""Coordinates: distances, the district's bounds, and the coordinate systems of Chinese maps.

Stations are stored in WGS-84 (what phones' GPS reports). Amap and Apple Maps in mainland
China expect GCJ-02; Baidu Maps expects BD-09. The conversions are the published
approximations every Chinese map integration uses (accurate to a few metres).
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_000

# Fengxian district with a margin of a few kilometres ("in or near Fengxian").
FENGXIAN_BOUNDS = {"lat": (30.72, 31.08), "lng": (121.22, 121.90)}


def in_fengxian(lat: float, lng: float) -> bool:
    (south, north), (west, east) = FENGXIAN_BOUNDS["lat"], FENGXIAN_BOUNDS["lng"]
    return south <= lat <= north and west <= lng <= east


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (straight-line) distance in metres, by the haversine formula."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def format_distance(metres: float) -> str:
    """850 米, 1.2 公里, 12 公里."""
    rounded = round(metres / 10) * 10
    if rounded < 1000:
        return f"{rounded:.0f} 米"
    kilometres = round(metres / 1000, 1)
    if kilometres < 10:
        return f"{kilometres:.1f} 公里"
    return f"{metres / 1000:.0f} 公里"


_A = 6378245.0
_EE = 0.00669342162296594323


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 ("Mars coordinates"), for Amap and Apple Maps in China."""
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


_X_PI = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 → BD-09, for Baidu Maps."""
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def parse_coordinates(text: str) -> tuple[float, float]:
    """ "30.918,121.474" or "121.474,30.918" (Amap's pickers give longitude first) → (lat, lng).

    In Fengxian latitude is about 31 and longitude about 121, so the order is never in doubt.
    Raises ValueError with a Chinese reason.
    """
    parts = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p]
    if len(parts) != 2:
        raise ValueError("请填写“纬度,经度”，如 30.918,121.474")
    try:
        a, b = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError("坐标应为两个数字，如 30.918,121.474") from None
    lat, lng = (a, b) if abs(a) < abs(b) else (b, a)
    if not in_fengxian(lat, lng):
        raise ValueError(f"坐标（{lat:.5f}, {lng:.5f}）不在奉贤区范围内，请核对")
    return lat, lng
