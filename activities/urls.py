from django.urls import path

from activities import views
from activities.programmes import views as activity_views
from activities.showcase import views as showcase_views

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
    path("activities/", activity_views.activity_list, name="activities"),
    path("activities/<int:pk>/", activity_views.activity_detail, name="activity"),
    path("activities/<int:pk>.ics", activity_views.activity_ics, name="activity_ics"),
    path("activities/<int:pk>/signup/", activity_views.activity_signup, name="signup"),
    path("activities/<int:pk>/cancel/", activity_views.activity_cancel, name="cancel"),
    path("activities/attend/<str:token>/", activity_views.attend, name="attend"),
    path("partnerships/", showcase_views.partnership_overview, name="partnerships"),
    path("stories/", showcase_views.story_list, name="stories"),
    path("stories/<int:pk>/", showcase_views.story_detail, name="story"),
    path("stories/<int:pk>/photo/", showcase_views.story_photo, name="story_photo"),
]
