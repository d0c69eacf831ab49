"""The example site's direct-upload page in headless Chromium: the page's script asks the site
for a grant and sends the image straight to the storage service (an S3 presigned POST, a GCS
signed PUT, an Azure SAS PUT, across origins under the bucket's CORS rules); the site only
records the name. Backends that cannot issue grants show their reason on the page."""

from __future__ import annotations

import secrets
from typing import Any

from .test_browser import IMAGE_SIZE, check_media_url, png

#: How each backend's grant sends the file; the others cannot issue grants.
GRANT_METHODS = {"s3": "POST", "gcs": "PUT", "azure": "PUT"}


def submit(page: Any, site: dict[str, Any], title: str, image: bytes) -> list[tuple[str, str]]:
    """Fill and submit the direct-upload form; returns the (method, url) of every request the
    page sent somewhere other than the site."""
    sent: list[tuple[str, str]] = []
    page.on("request", lambda r: not r.url.startswith(site["url"]) and sent.append((r.method, r.url)))
    page.goto(site["url"] + "direct/")
    page.fill("#direct-title", title)
    page.set_input_files("#direct-file", files=[{"name": "straight.png", "mimeType": "image/png",
                                                 "buffer": image}])
    page.click("#direct-form button[type=submit]")
    return sent


def test_the_browser_uploads_straight_to_the_storage(site, page):
    title = f"direct {secrets.token_hex(4)}"
    sent = submit(page, site, title, png(IMAGE_SIZE))
    method = GRANT_METHODS.get(site["backend"])
    if method is None:
        page.wait_for_function("document.getElementById('direct-status').textContent.includes('cannot')")
        assert "cannot issue direct uploads" in page.inner_text("#direct-status")
        assert not [request for request in sent if request[0] in ("POST", "PUT")]
        return
    page.wait_for_url(site["url"])
    uploads = [url for verb, url in sent if verb == method]
    assert len(uploads) == 1 and uploads[0].startswith(site["endpoint"]), sent
    img = page.locator("figure.upload", has_text=title).locator("img")
    img.evaluate("img => img.decode()")  # rejects if the image cannot be loaded and decoded
    width, height, src = img.evaluate("img => [img.naturalWidth, img.naturalHeight, img.currentSrc]")
    assert (width, height) == IMAGE_SIZE
    check_media_url(site, src, "direct")
    assert page.failures == []
