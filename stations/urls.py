from django.urls import path

from stations import views

app_name = "stations"

urlpatterns = [
    path("", views.finder, name="finder"),
    path("map/", views.station_map, name="map"),
    path("map/markers.json", views.station_markers, name="markers"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/scan/", views.scan, name="scan"),
    path("<int:pk>/poster/", views.poster, name="poster"),
]
