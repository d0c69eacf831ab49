from django.db import models


class Upload(models.Model):
    """An image and, optionally, a file to download; both saved to the default storage."""

    title = models.CharField(max_length=100)
    image = models.ImageField(upload_to="images/")
    attachment = models.FileField(upload_to="files/", blank=True)
    uploaded = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded", "-id"]

    def __str__(self) -> str:
        return self.title
