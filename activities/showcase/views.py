"""Public pages that show the district's work: service partnerships (发展强新) and role-model
stories (先进典型)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from activities.models import Story
from activities.showcase import partnerships
from couriers.privacy.images import image_view
from fengxian.public_cache import public_page


@public_page
def partnership_overview(request: HttpRequest) -> HttpResponse:
    years = partnerships.totals_by_year()
    by_kind = partnerships.totals_by_year_and_kind()
    for row in years:
        row["kinds"] = by_kind.get(row["year"], [])
    latest = years[0] if years else None
    if latest:
        latest["items_exact"] = f"{latest['items']:,} 件"
        latest["output_exact"] = f"{latest['output_value']:,} 元"
    return render(
        request,
        "activities/partnerships.html",
        {
            "years": years,
            "latest": latest,
            "details": partnerships.totals_by_detail(latest["year"]) if latest else [],
        },
    )


@public_page
def story_list(request: HttpRequest) -> HttpResponse:
    stories = Story.objects.public().select_related("courier__work_town")
    page = Paginator(stories, 12).get_page(request.GET.get("page"))
    return render(request, "activities/stories.html", {"page": page})


@public_page
def story_detail(request: HttpRequest, pk: int) -> HttpResponse:
    story = get_object_or_404(Story.objects.public().select_related("courier__work_town"), pk=pk)
    return render(request, "activities/story.html", {"story": story})


@image_view
def story_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A published story's photo. Photos sit in private storage, so a draft's (or a story whose
    consent is withdrawn) is never reachable."""
    story = get_object_or_404(Story.objects.public(), pk=pk)
    if not story.photo:
        raise Http404
    response = FileResponse(story.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=3600"
    return response
