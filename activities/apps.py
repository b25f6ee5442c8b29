from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    """Volunteer posts, points, photo reports, activities and partnerships (later issues)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "activities"
    verbose_name = "志愿服务与活动"

    def ready(self) -> None:
        from activities.erasure import withdraw_waiting  # models are loaded only now
        from couriers.privacy.signals import courier_erased

        courier_erased.connect(withdraw_waiting, dispatch_uid="activities.withdraw_waiting")
