from django.contrib import admin
from django.urls import path, re_path

from dalgo.api import api
from dalgo.system.views import health
from dalgo.web.views import api_not_found, spa

admin.site.site_header = "Dalgo operations"
admin.site.site_title = "Dalgo admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("health", health, name="health"),
    re_path(r"^(?!api/|admin/|static/|health).*$", spa, name="spa"),
]
