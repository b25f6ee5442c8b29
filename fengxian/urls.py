from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from fengxian import views

admin.site.site_header = "奉贤区快递行业党建联建平台"
admin.site.site_title = "奉贤区快递行业党建联建平台"
admin.site.index_title = "工作台"

urlpatterns = [
    path("", views.home, name="home"),
    path("stations/", include("stations.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]
