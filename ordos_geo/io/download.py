"""Downloading a file over HTTP(S) with retries, through a ``.part`` file."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["download_file"]

logger = logging.getLogger(__package__)  # one logger for the io package: 'ordos_geo.io'


def download_file(
    url: str,
    path: str | os.PathLike[str],
    *,
    check: Callable[[Path], None] | None = None,
    retries: int = 3,
    backoff_s: float = 5.0,
    chunk_size: int = 1 << 20,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``path`` through a ``.part`` file, with retries; a failed download leaves nothing.

    The bytes go to ``<path>.part``; once complete (as long as the server's
    ``Content-Length`` says) and accepted by ``check``, the file is renamed to
    ``path``. A connection error, a stall longer than ``timeout`` or an HTTP
    429/5xx answer is retried after ``backoff_s``, ``2 * backoff_s``, ...
    seconds; each retry starts from the first byte (servers such as WorldPop's
    ignore byte ranges). A progress bar shows size and speed on a terminal.

    Parameters
    ----------
    url : str
        HTTP(S) address.
    path : str or os.PathLike
        Destination file.
    check : callable, optional
        Called with the complete ``.part`` file; raises (an
        :class:`~ordos_geo._errors.OrdosGeoError`) to reject it, e.g. an HTML
        error page from a proxy instead of a GeoTIFF. Not retried.
    retries : int
        Attempts after the first.
    backoff_s : float
        Wait before the first retry, doubled each time.
    chunk_size : int
        Bytes per chunk.
    timeout : float
        Seconds to wait for the connection and for each chunk.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    requests.RequestException
        The last error once every attempt failed, or a 4xx answer (not retried).

    Examples
    --------
    >>> url = "https://data.worldpop.org/GIS/Population/Global_2000_2020/2020/CHN/chn_ppp_2020.tif"
    >>> download_file(url, "data/external/chn_ppp_2020.tif")  # online  # doctest: +SKIP
    PosixPath('data/external/chn_ppp_2020.tif')
    """
    import requests
    from tqdm.auto import tqdm

    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    for attempt in range(retries + 1):
        started = time.monotonic()
        try:
            with requests.get(url, stream=True, timeout=timeout) as response:
                response.raise_for_status()
                total = int(response.headers.get("content-length", 0) or 0) or None
                written = 0
                with (
                    part.open("wb") as file,
                    tqdm(
                        total=total,
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        desc=final.name,
                        disable=None,
                        leave=False,
                    ) as bar,
                ):
                    for chunk in response.iter_content(chunk_size=chunk_size):
                        file.write(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
                if total is not None and written != total:
                    msg = f"{url}: the connection closed after {written:,} of {total:,} bytes"
                    raise requests.ConnectionError(msg)
            if check is not None:
                check(part)
            os.replace(part, final)
        except requests.RequestException as error:
            part.unlink(missing_ok=True)
            status = error.response.status_code if error.response is not None else None
            if attempt == retries or (status is not None and status < 500 and status != 429):
                raise
            wait = backoff_s * 2**attempt
            logger.warning("%s: %s; retry %s of %s in %.0f s", final.name, error, attempt + 1, retries, wait)
            time.sleep(wait)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        else:
            seconds = max(time.monotonic() - started, 1e-9)
            logger.info(
                "%s: downloaded %.1f MB in %.0f s (%.1f MB/s)",
                final.name,
                written / 1e6,
                seconds,
                written / 1e6 / seconds,
            )
            return final
    raise AssertionError  # pragma: no cover - the loop returns or raises
