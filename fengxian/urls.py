from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from activities import views as activity_views
from couriers.messaging import my_messages
from fengxian import dashboard, views
from stations.checkin import my_data
from stations.checkin import views as checkin_views

admin.site.site_header = "奉贤区快递行业党建联建平台"
admin.site.site_title = "奉贤区快递行业党建联建平台"
admin.site.index_title = "工作台"
admin.site.index_template = "admin/index_with_dashboard.html"

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico on pages without HTML (a report photo opened on its own).
    path("favicon.ico", views.favicon),
    path("stations/", include("stations.urls")),
    path("checkin/", include("stations.checkin.urls")),
    path("", include("activities.urls")),
    path("rewards/", include("activities.rewards.urls")),
    path("me/", activity_views.me, name="me"),
    path("me/leaderboard/", activity_views.me_leaderboard, name="me_leaderboard"),
    path("me/edit/", checkin_views.me_edit, name="me_edit"),
    path("me/consent/withdraw/", my_data.me_consent_withdraw, name="me_consent_withdraw"),
    path("me/phone/", my_data.me_phone, name="me_phone"),
    path("me/erasure/", my_data.me_erasure, name="me_erasure"),
    path("me/messages/", my_messages.me_messages, name="me_messages"),
    path("me/messages/save/", my_messages.me_messages_save, name="me_messages_save"),
    path("me/signin/", checkin_views.me_signin, name="me_signin"),
    path("me/signout/", checkin_views.me_signout, name="me_signout"),
    # The SMS providers' receipts and replies (退订), behind SMS_CALLBACK_TOKEN.
    path("sms/callback/", include("couriers.messaging.callbacks")),
    path(
        f"{settings.ADMIN_URL}dashboard/",
        admin.site.admin_view(dashboard.dashboard_view),
        name="dashboard",
    ),
    path(
        f"{settings.ADMIN_URL}dashboard/export.xlsx",
        admin.site.admin_view(dashboard.export_view),
        name="dashboard_export",
    ),
    path(settings.ADMIN_URL, admin.site.urls),
    # For the proxy and monitoring; exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT).
    path("healthz", views.healthz, name="healthz"),
]

if settings.BENCH_TRIVIAL_VIEW:  # bench/pages.py's baseline; never set in production
    urlpatterns.append(path("_bench/trivial", views.trivial))
