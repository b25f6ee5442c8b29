from django.urls import path

from stations.checkin import views

app_name = "checkin"

urlpatterns = [
    path("<str:token>/", views.checkin_start, name="start"),
    path("<str:token>/verify/", views.checkin_verify, name="verify"),
    path("<str:token>/move/", views.checkin_move, name="move"),
    path("<str:token>/done/", views.checkin_done, name="done"),
]
