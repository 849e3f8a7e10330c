"""Write the whole public site as static files: pages in every language, feeds, assets and
the lookup index with the script that answers lookups in the browser. Any web server or CDN
can serve the directory while the rest of the system is down."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from recalldesk.public.lookup import build_index
from recalldesk.public.pages import languages_of, page_context, published_pages, statement_version

ASSETS = ["recalldesk/public.css", "public/lookup.js"]


def export_site(target: Path) -> list[Path]:
    """Write the site under ``target`` with the live site's paths (``/status/...``), so it
    can be served from the root of any web server. Returns the files written."""
    written: list[Path] = []

    def write(relative: str, body: bytes | str) -> None:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body.encode() if isinstance(body, str) else body)
        written.append(path)

    pages = published_pages()
    write(
        "status/index.html",
        render_to_string(
            "public/index.html",
            {
                "active": [p for p in pages if p.incident.status != "closed"],
                "past": [p for p in pages if p.incident.status == "closed"],
                "static_export": True,
            },
        ),
    )
    client = Client()
    feed = client.get("/status/feed.atom")
    if feed.status_code == 200:
        write("status/feed.atom", feed.content)
    for page in pages:
        incident = page.incident
        version = statement_version(page)
        for position, language in enumerate(languages_of(incident, version)):
            context = page_context(page, language)
            context["static_export"] = True
            with translation.override(context["language"]):
                body = render_to_string("public/page.html", context)
            write(f"status/{page.slug}/{language}/index.html", body)
            if position == 0:
                write(f"status/{page.slug}/index.html", body)
        index = build_index(incident)
        write(f"status/{page.slug}/lookup-index.json", json.dumps(index, separators=(",", ":")))
        response = client.get(f"/status/{page.slug}/feed.atom")
        if response.status_code == 200:
            write(f"status/{page.slug}/feed.atom", response.content)
        for product in incident.scope.products.exclude(picture=""):
            source = Path(product.picture.path)
            if source.exists():
                write(f"media/{product.picture.name}", source.read_bytes())
    for asset in ASSETS:
        found = finders.find(asset)
        if found:
            destination = target / "static" / asset
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(found, destination)
            written.append(destination)
    return written
