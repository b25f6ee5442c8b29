from django.urls import path

from activities.rewards import counter, views

app_name = "rewards"

urlpatterns = [
    path("", views.reward_list, name="rewards"),
    path("<int:pk>/", views.reward_detail, name="reward"),
    path("<int:pk>/redeem/", views.reward_redeem, name="redeem"),
    path("vouchers/<int:pk>/cancel/", views.voucher_cancel, name="cancel"),
    path("counter/", counter.counter, name="counter"),
]
