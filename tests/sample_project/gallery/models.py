from django.db import models


class Photo(models.Model):
    """An upload: a document and an image, both on the default storage."""

    title = models.CharField(max_length=100)
    document = models.FileField(upload_to="documents/")
    image = models.ImageField(upload_to="images/", width_field="width", height_field="height", blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
