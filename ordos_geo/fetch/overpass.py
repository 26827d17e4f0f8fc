"""The Overpass server of one fetch: osmnx pointed at it, every answer checked, a fast reachability test.

:func:`_overpass` sets osmnx's server, timeout, cache folder and an answer
check for the duration of one fetch and restores them afterwards; the server is
first asked for its ``/status`` page so that an unreachable one fails in
seconds. A refused, failed or cut-short answer becomes one :class:`FetchError`
saying what to do (raise the timeout, fetch a smaller area, use one of the
:data:`OVERPASS_MIRRORS`).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from ordos_geo._errors import FetchError

__all__ = ["OVERPASS_MIRRORS"]

#: Public Overpass API instances (OSM wiki, "Overpass API", public instances); pass one as ``overpass_url``.
OVERPASS_MIRRORS: dict[str, str] = {
    "https://overpass-api.de/api": "the main instance (FOSSGIS, Germany); the default",
    "https://overpass.private.coffee/api": "private.coffee (Austria), no rate limit",
    "https://maps.mail.ru/osm/tools/overpass/api": "VK Maps (Russia)",
    "https://overpass.osm.jp/api": "OSM Japan (Japan)",
    "https://overpass.kumi.systems/api": "Kumi Systems (Germany)",
}


def _check_overpass_answer(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """A ``requests`` response hook: turn a refused or cut-short Overpass answer into one clear error."""
    if not response.url.split("?", 1)[0].endswith("/interpreter"):
        return response
    base = response.url.split("/interpreter", 1)[0]
    if response.status_code == 429:
        return response  # osmnx waits for a free slot and asks again
    if response.status_code == 413:
        body = response.request.body
        size = len(body) if isinstance(body, bytes | str) else 0
        msg = (
            f"{base} refused a {size:,}-byte query (HTTP 413, request body too large): a self-hosted server "
            "behind nginx accepts 1 MiB by default; raise nginx's client_max_body_size, or fetch a smaller area"
        )
        raise FetchError(msg)
    if response.status_code >= 500:
        msg = (
            f"{base} answered HTTP {response.status_code} {response.reason}; the server may be overloaded: "
            "try again later or use a mirror with --overpass-url (README lists them)"
        )
        raise FetchError(msg)
    if response.status_code >= 400:
        msg = (
            f"{base} answered HTTP {response.status_code} {response.reason}; it refused the query: check that "
            "--overpass-url is an Overpass API base URL ending in /api, or use a mirror (README lists them)"
        )
        raise FetchError(msg)
    try:
        answer = response.json()
    except ValueError as error:
        msg = (
            f"{base} did not answer with Overpass JSON ({response.headers.get('content-type', 'no type')}); "
            "check that --overpass-url is an Overpass API base URL ending in /api"
        )
        raise FetchError(msg) from error
    if isinstance(answer, dict) and answer.get("remark"):
        msg = (
            f"{base} stopped the query before the end ({answer['remark'].strip()}); the answer would be "
            "incomplete: raise --overpass-timeout, fetch a smaller area or use another mirror"
        )
        raise FetchError(msg)
    return response


@contextmanager
def _overpass(url: str, *, timeout_s: float, cache_dir: Path) -> Iterator[None]:
    """Point osmnx at ``url`` for one fetch (timeout, answer check, cache folder), then restore its settings."""
    import osmnx as ox

    names = (
        "overpass_url",
        "requests_timeout",
        "requests_kwargs",
        "cache_folder",
        "overpass_rate_limit",
        "doh_url_template",
    )
    saved = {name: getattr(ox.settings, name) for name in names}
    getaddrinfo = socket.getaddrinfo  # osmnx pins the server's address by patching this; undone below
    base = url.rstrip("/")
    has_status = _check_reachable(base, timeout_s=timeout_s)
    ox.settings.overpass_url = base
    ox.settings.requests_timeout = math.ceil(timeout_s)  # Overpass reads [timeout:N] as whole seconds
    ox.settings.requests_kwargs = {**saved["requests_kwargs"], "hooks": {"response": [_check_overpass_answer]}}
    ox.settings.cache_folder = str(cache_dir)
    # when the local resolver fails (common behind a proxy), osmnx asks Google's DNS-over-HTTPS, which is
    # blocked in mainland China and would stall for the whole timeout; the host name works through a proxy
    ox.settings.doh_url_template = None
    # without a /status page osmnx would wait 60 s before every query
    ox.settings.overpass_rate_limit = saved["overpass_rate_limit"] and has_status
    try:
        yield
    except requests.RequestException as error:
        msg = (
            f"the Overpass API at {base} failed during the download ({type(error).__name__}: {error}); "
            "run fetch again (finished answers are cached) or use a mirror with --overpass-url"
        )
        raise FetchError(msg) from error
    finally:
        for name, value in saved.items():
            setattr(ox.settings, name, value)
        socket.getaddrinfo = getaddrinfo


def _check_reachable(base: str, *, timeout_s: float) -> bool:
    """Fail within seconds when the Overpass server cannot be reached; return whether it has a /status page."""
    try:
        response = requests.get(base + "/status", timeout=(min(10.0, timeout_s), min(30.0, timeout_s)))
    except requests.RequestException as error:
        msg = (
            f"cannot reach the Overpass API at {base} ({type(error).__name__}); check the internet connection, "
            "or use a mirror with --overpass-url (README lists them)"
        )
        raise FetchError(msg) from error
    return response.ok and "available" in response.text  # "2 slots available now." / "Slot available after: ..."
