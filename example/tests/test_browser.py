"""The example site in headless Chromium, once per backend: what a visitor's browser does with the
URLs our storages hand out (signed, SAS, temporary HTTPS links, manifest static names)."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from .sites import REPO

STATIC_SOURCE = REPO / "example" / "gallery" / "static"
#: What each backend's media URL carries: the service's signature, or the temporary-link path.
URL_MARKERS = {
    "s3": "Signature=",  # botocore presigns with SigV2 query auth unless the region needs SigV4
    "gcs": "X-Goog-Signature=",
    "azure": "sig=",
    "dropbox": "/tmplink/",
    "libcloud-s3": "Signature=",
    "libcloud-azure": "sig=",
}
IMAGE_SIZE = (47, 29)


def png(size: tuple[int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (secrets.randbelow(256), 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def manifest_name(name: str) -> str:
    """The hashed name ManifestStaticFilesStorage gives ``name`` (a file with no references to rewrite)."""
    digest = hashlib.md5((STATIC_SOURCE / name).read_bytes()).hexdigest()[:12]
    stem, ext = os.path.splitext(name)
    return f"{stem}.{digest}{ext}"


def check_media_url(site: dict[str, Any], url: str, folder: str) -> None:
    """The URL is the storage's own: served by the emulator and signed, or by the site for FTP/SFTP."""
    if "default" in site["served"]:
        assert url.startswith(f"{site['url']}media/{folder}/"), url
    else:
        assert url.startswith(site["endpoint"] + "/"), (url, site["endpoint"])
        assert URL_MARKERS[site["backend"]] in url, url


def upload(page: Any, site: dict[str, Any], title: str, image: bytes, data: bytes) -> Any:
    """Submit the upload form; returns the uploaded item's <figure> on the list page."""
    page.goto(site["url"] + "upload/")
    page.fill("#id_title", title)
    page.set_input_files("#id_image", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": image}])
    page.set_input_files("#id_attachment", files=[{"name": "data.bin", "mimeType": "application/octet-stream",
                                                   "buffer": data}])
    page.click("button[type=submit]")
    page.wait_for_url(site["url"])
    return page.locator("figure.upload", has_text=title)


def test_uploaded_image_renders_from_the_storage_url_and_the_file_downloads(site, page):
    image, data = png(IMAGE_SIZE), secrets.token_bytes(70_000)
    title = f"photo {secrets.token_hex(4)}"
    figure = upload(page, site, title, image, data)

    img = figure.locator("img")
    img.evaluate("img => img.decode()")  # rejects if the image cannot be loaded and decoded
    width, height, src = img.evaluate("img => [img.naturalWidth, img.naturalHeight, img.currentSrc]")
    assert (width, height) == IMAGE_SIZE
    check_media_url(site, src, "images")
    assert urljoin(site["url"], figure.locator("code.url").inner_text()) == src  # the URL on the page
    assert page.failures == []

    link = figure.locator("a.download")
    href = urljoin(site["url"], link.get_attribute("href"))
    check_media_url(site, href, "files")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.url == href
    assert Path(download.path()).read_bytes() == data


def test_static_files_load_by_their_manifest_names(site, page):
    responses = {}
    page.on("response", lambda response: responses.setdefault(response.url, response))
    page.goto(site["url"])
    stylesheet = urljoin(site["url"], page.locator("link[rel=stylesheet]").get_attribute("href"))
    assert manifest_name("gallery/site.css") in stylesheet
    # The stylesheet applied: body's background is the one site.css sets.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 244, 238)"
    logo = page.locator("header img.logo")
    logo.evaluate("img => img.decode()")
    assert manifest_name("gallery/logo.svg") in logo.evaluate("img => img.currentSrc")
    assert logo.evaluate("img => img.naturalWidth") == 32

    # What the browser received under the hashed name is the source file.
    assert responses[stylesheet].ok
    assert responses[stylesheet].body() == (STATIC_SOURCE / "gallery" / "site.css").read_bytes()
    assert page.failures == []


def test_admin_uploads_with_its_static_files(site, page):
    page.goto(site["admin_url"])
    page.fill("#id_username", site["username"])
    page.fill("#id_password", site["password"])
    page.click("input[type=submit]")
    page.wait_for_url(site["admin_url"])
    # The admin's own stylesheets: hashed names (CSS references rewritten by the manifest storage).
    hrefs = page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => l.href)")
    assert any(manifest_name_like(h, "admin/css/base") for h in hrefs), hrefs
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor") \
        not in ("rgba(0, 0, 0, 0)", "transparent")

    title = f"admin {secrets.token_hex(4)}"
    page.goto(site["admin_url"] + "gallery/upload/add/")  # the change form and its JavaScript
    page.fill("#id_title", title)
    page.set_input_files("#id_image", files=[{"name": "admin.png", "mimeType": "image/png",
                                              "buffer": png((8, 8))}])
    page.click("input[name=_save]")
    page.wait_for_url(site["admin_url"] + "gallery/upload/")
    assert page.locator("#result_list a", has_text=title).count() == 1
    page.wait_for_load_state("load")
    # Every stylesheet, script and icon (the icons are referenced from inside the CSS) loaded.
    assert page.failures == []


def manifest_name_like(url: str, stem: str) -> bool:
    """``url`` names ``stem`` with a 12-digit manifest hash (``admin/css/base.0123456789ab.css``)."""
    path = url.split("?", 1)[0]
    marker = f"{stem}."
    if marker not in path:
        return False
    digest = path.split(marker, 1)[1].split(".", 1)[0]
    return len(digest) == 12 and all(c in "0123456789abcdef" for c in digest)
