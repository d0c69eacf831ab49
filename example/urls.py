from django.conf import settings
from django.contrib import admin
from django.urls import path

from example.gallery import direct, views

urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("direct/", views.direct, name="direct"),
    path("direct/grant/", direct.upload_grant, name="direct_grant"),
    path("admin/", admin.site.urls),
]

for alias, prefix in (("default", settings.MEDIA_URL), ("staticfiles", settings.STATIC_URL)):
    if alias in settings.SERVED_STORAGES:
        urlpatterns.append(path(f"{prefix.strip('/')}/<path:name>", views.storage_file, {"alias": alias}))
