from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from fengxian import views
from stations import checkin_views

admin.site.site_header = "奉贤区快递行业党建联建平台"
admin.site.site_title = "奉贤区快递行业党建联建平台"
admin.site.index_title = "工作台"

urlpatterns = [
    path("", views.home, name="home"),
    path("stations/", include("stations.urls")),
    path("checkin/", include("stations.checkin_urls")),
    path("me/", checkin_views.me, name="me"),
    path("me/edit/", checkin_views.me_edit, name="me_edit"),
    path("me/signin/", checkin_views.me_signin, name="me_signin"),
    path("me/signout/", checkin_views.me_signout, name="me_signout"),
    path(settings.ADMIN_URL, admin.site.urls),
]
