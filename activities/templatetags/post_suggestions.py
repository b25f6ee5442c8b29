"""`{% suggested_posts checkin %}`: the welcome page (欢迎回家, in stations) suggests 6I posts
through this tag, so that stations' code never imports activities (the apps depend one way)."""

from django import template

from activities.claims import suggest_posts

register = template.Library()


@register.inclusion_tag("activities/_suggested_posts.html")
def suggested_posts(checkin) -> dict:
    return {
        "posts": suggest_posts(checkin.point, checkin.interests),
        "interests": checkin.interest_labels(),
        "point": checkin.point,
    }
