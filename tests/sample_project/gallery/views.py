from django import forms
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Photo


class PhotoForm(forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["title", "document", "image"]


@csrf_exempt
@require_POST
def upload(request):
    """Store an uploaded document and image; answer with where they went."""
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    photo = form.save()
    return JsonResponse({"id": photo.pk, "document": photo.document.name, "image": photo.image.name,
                         "width": photo.width, "height": photo.height}, status=201)


@require_GET
def document(request, pk):
    """The bytes of a photo's document, read back through the storage."""
    photo = get_object_or_404(Photo, pk=pk)
    with photo.document.open("rb") as f:
        return HttpResponse(f.read(), content_type="application/octet-stream")
