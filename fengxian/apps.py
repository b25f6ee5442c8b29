"""The admin app with the portal's own site: every ModelAdmin registered on it goes through
couriers.privacy.admin.PersonalDataAdmin (personal data guards), whoever wrote it."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "couriers.privacy.admin.PortalAdminSite"
