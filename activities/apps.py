from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    """Volunteer posts, points, photo reports, activities and partnerships (later issues)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "activities"
    verbose_name = "志愿服务与活动"
