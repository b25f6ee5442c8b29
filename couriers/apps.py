from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate, pre_save


class CouriersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "couriers"
    verbose_name = "快递行业登记"

    def ready(self) -> None:
        post_migrate.connect(_sync_role_groups, dispatch_uid="couriers.sync_role_groups")
        from couriers.security.staff_sessions import note_login

        user_logged_in.connect(note_login, dispatch_uid="couriers.staff_idle_clock")
        from auditlog.models import LogEntry
        from django.contrib.admin.models import LogEntry as AdminEntry

        from couriers.privacy.audit import mask_admin_entry, mask_entry

        pre_save.connect(mask_entry, sender=LogEntry, dispatch_uid="couriers.audit_mask_numbers")
        pre_save.connect(mask_admin_entry, sender=AdminEntry, dispatch_uid="couriers.admin_mask")
        from django.contrib.auth.models import User

        # Wherever the admin names a user (走访工作人员, 登记人, the audit log) a town office
        # reads the person's name (姓名, kept in first_name), not a login like "nanqiao".
        User.__str__ = _display_name
        # Registers the check that a provider has a template code for every template.
        from couriers.messaging.providers import checks  # noqa: F401


def _display_name(user) -> str:
    return user.first_name.strip() or user.get_username()


def _sync_role_groups(sender, **kwargs) -> None:
    # post_migrate is sent once per app in INSTALLED_APPS order; by the time the last portal
    # app ("activities") is done, auth has created the permissions of every portal model.
    if sender.name == "activities":
        from couriers.roles import sync_role_groups

        sync_role_groups()
