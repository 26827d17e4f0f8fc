"""Leaflet and jQuery embedded inline, so folium pages open with no network.

A default folium page loads Leaflet, jQuery, Bootstrap and the Font Awesome /
Glyphicons fonts from public CDNs; with no connection (or where those CDNs are
blocked or slow, common in mainland China) it shows nothing ("L is not
defined"). This module replaces the ``default_js`` / ``default_css`` of every
folium element of a map with the same files read from installed packages and
written inline (``<script>...</script>``, ``<style>...</style>``):

- Leaflet 1.9.3 from ``xstatic-leaflet`` (the exact version folium 0.20 pins),
  its CSS with the control images inlined as ``data:`` URIs;
- jQuery 3.7.1 from ``xstatic-jquery`` (folium's ``Popup`` uses it);
- Leaflet.markercluster 1.5.3 (MIT, its licence beside it), copied from the
  npm package ``leaflet.markercluster`` into ``ordos_geo/_vendor/`` since no
  Python package ships it: :func:`markercluster_js`, :func:`markercluster_css`.

Bootstrap, the awesome-markers plugin and the icon fonts are dropped: ordos_geo
draws its own icons (inline SVG in ``L.divIcon``) and needs no Bootstrap. An
element that does need them (``folium.Icon``), or any other CDN resource with no
offline copy here, raises :class:`~ordos_geo._errors.InputDataError` rather than
producing a page that silently breaks offline.

Why XStatic rather than ``folium-offline``: ``folium-offline`` is a fork of the
whole folium package (module ``offlinefolium``) by one maintainer, re-released
per folium version with every resource base64-encoded in 3.5 MB Python files;
maps would have to be built with its classes instead of folium's, and anything
built on folium (plugins, notebooks, other code) would not benefit. The XStatic
packages are tiny, plain re-packagings of the upstream release files, kept by
the XStatic project (used by OpenStack Horizon), and leave folium itself
untouched; we only swap the resource links at render time.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from branca.element import Element, Figure

from ordos_geo._errors import InputDataError

__all__ = [
    "RawHtml",
    "external_resources",
    "inline_css",
    "inline_js",
    "jquery_js",
    "leaflet_css",
    "leaflet_js",
    "make_offline",
    "markercluster_css",
    "markercluster_js",
]

#: folium resource names dropped without replacement (fonts/Bootstrap ordos_geo does not use).
_DROPPED = frozenset(
    {
        "bootstrap",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers",
        "awesome_markers_css",
        "awesome_markers_font_css",
        "awesome_rotate_css",
    }
)
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=\S+\s*$", re.MULTILINE)
_EXTERNAL = re.compile(
    r"""<script[^>]*\ssrc\s*=\s*["']?(?:https?:)?//[^"'\s>]+|<link[^>]*\shref\s*=\s*["']?(?:https?:)?//[^"'\s>]+""",
    re.IGNORECASE,
)


def _xstatic_dir(module: str) -> Path:
    try:
        if module == "leaflet":
            import xstatic.pkg.leaflet as pkg
        else:
            import xstatic.pkg.jquery as pkg
    except ImportError as exc:  # pragma: no cover - both are hard dependencies
        from ordos_geo._errors import MissingDependencyError

        msg = f"offline maps need the package xstatic-{module}; install it with `pip install xstatic-{module}`"
        raise MissingDependencyError(msg) from exc
    return Path(pkg.BASE_DIR)


def _safe_script(text: str) -> str:
    text = _SOURCE_MAP.sub("", text)
    # A literal "</script" inside inline JavaScript would close the tag early.
    return text.replace("</script", "<\\/script")


@cache
def leaflet_js() -> str:
    """Return Leaflet's minified JavaScript, ready to inline."""
    return _safe_script((_xstatic_dir("leaflet") / "leaflet.js").read_text(encoding="utf-8"))


@cache
def leaflet_css() -> str:
    """Return Leaflet's CSS with its control images inlined as ``data:`` URIs."""
    folder = _xstatic_dir("leaflet")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def to_data_uri(match: re.Match[str]) -> str:
        image = folder / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", to_data_uri, css)


@cache
def jquery_js() -> str:
    """Return jQuery's minified JavaScript, ready to inline."""
    return _safe_script((_xstatic_dir("jquery") / "jquery.min.js").read_text(encoding="utf-8"))


_VENDOR = Path(__file__).parent / "_vendor"


@cache
def markercluster_js() -> str:
    """Return Leaflet.markercluster's minified JavaScript (npm ``leaflet.markercluster`` 1.5.3), ready to inline."""
    return _safe_script((_VENDOR / "leaflet.markercluster" / "leaflet.markercluster.js").read_text(encoding="utf-8"))


@cache
def markercluster_css() -> str:
    """Return Leaflet.markercluster's CSS (its base and default cluster styles)."""
    folder = _VENDOR / "leaflet.markercluster"
    return "\n".join(
        (folder / name).read_text(encoding="utf-8") for name in ("MarkerCluster.css", "MarkerCluster.Default.css")
    )


_INLINE_JS = {"leaflet": leaflet_js, "jquery": jquery_js}
_INLINE_CSS = {"leaflet_css": leaflet_css}


class RawHtml(Element):
    """A branca element that renders its text verbatim (no Jinja processing).

    Parameters
    ----------
    text : str
        HTML written as is; the caller is responsible for escaping.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.text = text

    def render(self, **kwargs: object) -> str:
        """Return the text unchanged."""
        return self.text


def inline_js(code: str) -> RawHtml:
    """Wrap JavaScript in an inline ``<script>`` element."""
    return RawHtml(f"<script>{_safe_script(code)}</script>")


def inline_css(css: str) -> RawHtml:
    """Wrap CSS in an inline ``<style>`` element."""
    safe_css = css.replace("</style", "<\\/style")
    return RawHtml(f"<style>{safe_css}</style>")


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def make_offline(root: Element) -> Figure:
    """Replace every CDN resource in ``root``'s figure by an inline copy.

    Idempotent: call it again after adding elements. The CSS/JS go first in the
    page header, in the order Leaflet CSS, jQuery, Leaflet.

    Parameters
    ----------
    root : branca.element.Element
        A folium map (or any element inside a figure).

    Returns
    -------
    branca.element.Figure
        The figure, modified in place.

    Raises
    ------
    InputDataError
        If an element needs a resource with no offline copy (for example
        ``folium.Icon``, which needs Font Awesome).
    """
    figure = root.get_root()
    if not isinstance(figure, Figure):
        msg = "make_offline: the map is not inside a branca Figure; create maps with folium.Map(...)"
        raise InputDataError(msg)
    needed_js: set[str] = set()
    needed_css: set[str] = set()
    for element in _walk(figure):
        if getattr(element, "_name", "") == "Icon":
            msg = (
                "folium.Icon needs the Font Awesome font and awesome-markers plugin, which are not "
                "available offline; use folium.DivIcon or CircleMarker instead"
            )
            raise InputDataError(msg)
        js = getattr(element, "default_js", None)
        css = getattr(element, "default_css", None)
        if not js and not css:
            continue
        for assets, inline, needed in ((js, _INLINE_JS, needed_js), (css, _INLINE_CSS, needed_css)):
            for name, url in list(assets or []):
                if name in inline:
                    needed.add(name)
                elif name not in _DROPPED:
                    msg = f"map element {type(element).__name__} loads {url} ({name}), which has no offline copy"
                    raise InputDataError(msg)
        element.default_js = []  # type: ignore[attr-defined]
        element.default_css = []  # type: ignore[attr-defined]
    # Leaflet is always needed by a folium map, even after an earlier call emptied the lists.
    needed_js.add("leaflet")
    needed_css.add("leaflet_css")
    position = 0
    for name in ("leaflet_css",):
        if name in needed_css and f"offline_{name}" not in figure.header._children:
            figure.header.add_child(inline_css(_INLINE_CSS[name]()), name=f"offline_{name}", index=position)
        position += 1
    for name in ("jquery", "leaflet"):
        if name in needed_js and f"offline_{name}" not in figure.header._children:
            figure.header.add_child(
                RawHtml(f"<script>{_INLINE_JS[name]()}</script>"), name=f"offline_{name}", index=position
            )
        position += 1
    return figure


def external_resources(html: str) -> list[str]:
    """List ``<script src>`` and ``<link href>`` tags of ``html`` that point to the network.

    Parameters
    ----------
    html : str
        A rendered page.

    Returns
    -------
    list of str
        The offending tag openings (empty for a self-contained page). Tile URL
        templates inside JavaScript strings are not tags and are not listed.
    """
    return _EXTERNAL.findall(html)
