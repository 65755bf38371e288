"""The API docs render without internet: a real `mes serve`, a real headless Chromium that cannot
resolve any host but 127.0.0.1, and the operations list drawn by Swagger UI's JavaScript.

Chromium records every request in a net log; those made for the page must all go to the server.
Without Debian's `chromium` the tests skip, and fail under CI=true (`.ci/run` installs it).

docs/api-docs.png was taken with the same flags as `render` and
`--hide-scrollbars --window-size=1280,900 --screenshot=docs/api-docs.png <base>/api/v1/docs`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, fail_if_the_server_failed, running_server
from tests.requirements import missing

DOCS_PAGES = ["/api/v1/docs", "/api/v1/docs/swagger"]
CHROMIUM_TIMEOUT_S = 90.0
VIRTUAL_TIME_MS = 15_000  # virtual time for scripts to run and the page to settle; not wall-clock time
# Swagger UI draws each operation as an element of this class; the summary is in the embedded spec
# too, so only the element proves that the JavaScript ran.
RENDERED_OPERATION = re.compile(r'class="opblock-summary-description"[^>]*>\s*Receive a supplier lot\s*<')
RENDERED_TAG = 'id="operations-tag-Operations"'  # the heading Swagger UI draws for the tag
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Offline as in a plant: any name but the loopback address fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


@dataclass(frozen=True)
class Rendered:
    """What Chromium made of a page: the DOM after scripts ran, and the URLs requested for the page."""

    dom: str
    page_requests: list[str]


class ResourceLinks(HTMLParser):
    """Collects the URLs a page makes the browser load: src of any element, href of <link>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "src" or (tag == "link" and name == "href")):
                self.urls.append(value)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        message = "Debian's chromium is not installed (apt-get install chromium): the docs cannot be rendered"
        missing(message)
    return found


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server("sqlite", tmp_path_factory.mktemp("docs")) as running:
        yield running
    fail_if_the_server_failed(running, "while its docs were rendered")


def page_requests(net_log: Path) -> list[str]:
    """The URLs Chromium requested for a page on 127.0.0.1 (its network isolation key names the page's
    site); the browser's own background requests (updates, accounts) have another key or none."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    starts = [event.get("params", {}) for event in log["events"] if event["type"] == start_job]
    return [
        params["url"]
        for params in starts
        if "url" in params and str(params.get("network_isolation_key", "")).startswith("http://127.0.0.1 ")
    ]


def render(chromium: str, url: str, workdir: Path) -> Rendered:
    """Loads `url` in a fresh headless Chromium profile; the DOM once scripts ran, and the page's requests."""
    net_log = workdir / "net-log.json"
    done = subprocess.run(  # noqa: S603 - the system's chromium, fixed flags, our own loopback URL
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={workdir / 'profile'}",
            f"--log-net-log={net_log}",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=CHROMIUM_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"chromium exited with {done.returncode}:\n{done.stderr.decode(errors='replace')}"
    return Rendered(done.stdout.decode(), page_requests(net_log))


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_the_docs_page_loads_only_what_the_application_serves(docs_server: ServerProcess, page: str) -> None:
    with httpx.Client(base_url=docs_server.base_url, timeout=30.0) as client:
        html = client.get(page)
        assert html.status_code == 200
        links = ResourceLinks()
        links.feed(html.text)
        assert links.urls, "the page loads no script or stylesheet at all"
        for url in links.urls:
            assert re.match(r"/[^/]", url), f"{page} loads {url}: not a path on the application"
            assert client.get(url).status_code == 200, f"{page} loads {url}, which the application does not serve"


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_the_docs_page_renders_the_operations_offline_in_chromium(
    chromium: str, docs_server: ServerProcess, page: str, tmp_path: Path
) -> None:
    rendered = render(chromium, docs_server.base_url + page, tmp_path)

    assert RENDERED_OPERATION.search(rendered.dom), f"Swagger UI drew no operations on {page}:\n{rendered.dom[:2000]}"
    assert RENDERED_TAG in rendered.dom, f"the Operations tag is missing from {page}"
    assert any(url.endswith("/swagger-ui-bundle.js") for url in rendered.page_requests), rendered.page_requests
    outside = [url for url in rendered.page_requests if not url.startswith(docs_server.base_url + "/")]
    assert not outside, f"{page} made requests outside the application: {outside}"
