from django.apps import AppConfig


class StationsConfig(AppConfig):
    """骑乐融融 rest stations and 小哥报到 check-in points (later issues)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "stations"
    verbose_name = "站点与报到"

    def ready(self) -> None:
        from couriers.imports.importers import register_importer
        from couriers.models import ImportJob
        from stations.checkin.point_list import PointListImporter
        from stations.station_list import StationListImporter

        register_importer(ImportJob.Kind.STATIONS, StationListImporter)
        register_importer(ImportJob.Kind.CHECKIN_POINTS, PointListImporter)
