"""Printable A4 posters with a QR code (segno, generated here: no external service)."""

from __future__ import annotations

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=12, dark="#1d1d1f", omitsize=True)


def render_poster(
    request: HttpRequest,
    *,
    title: str,
    subtitle: str,
    name: str,
    steps: list[str],
    address: str,
    url: str,
) -> HttpResponse:
    return render(
        request,
        "posters/a4.html",
        {
            "title": title,
            "subtitle": subtitle,
            "name": name,
            "steps": steps,
            "address": address,
            "url": url,
            "qr_svg": qr_svg(url),
        },
    )
