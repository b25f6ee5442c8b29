from django.urls import path

from activities import views

app_name = "activities"

urlpatterns = [
    path("posts/", views.post_list, name="posts"),
    path("posts/<int:pk>/", views.post_detail, name="post"),
    path("posts/<int:pk>/claim/", views.post_claim, name="claim"),
    path("posts/<int:pk>/withdraw/", views.post_withdraw, name="withdraw"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("reports/new/", views.report_new, name="report_new"),
    path("reports/resolved/", views.resolved_reports, name="resolved"),
    path("reports/<int:pk>/photo/", views.report_photo, name="report_photo"),
]
