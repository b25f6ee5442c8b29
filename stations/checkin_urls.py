from django.urls import path

from stations import checkin_views

app_name = "checkin"

urlpatterns = [
    path("<str:token>/", checkin_views.checkin_start, name="start"),
    path("<str:token>/verify/", checkin_views.checkin_verify, name="verify"),
    path("<str:token>/move/", checkin_views.checkin_move, name="move"),
    path("<str:token>/done/", checkin_views.checkin_done, name="done"),
]
