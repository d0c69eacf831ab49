from django.urls import path
from gallery import views

urlpatterns = [
    path("upload/", views.upload, name="upload"),
    path("photos/<int:pk>/document/", views.document, name="document"),
]
