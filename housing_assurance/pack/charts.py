"""The pack's charts: the app's own Plotly figures (housing_assurance/charts.py) drawn as SVG.

kaleido's public API draws them in one headless Chromium per pack, booted while the figures are
computed, with a few tabs so that figures are drawn side by side. Each renderer owns its browser and
event loop (not kaleido's global server), so two packs built at the same time by two app sessions can
never swap charts.
"""

from __future__ import annotations

import asyncio
import base64
import textwrap
import threading
from concurrent.futures import Future
from typing import Any

import plotly.graph_objects as go

from housing_assurance.pack.checks import PackError

TABS = 4


class ChartRenderer:
    """Plotly figures to SVG through one kaleido browser, started at once so it boots in the background."""

    def __init__(self, tabs: int = TABS) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pack-kaleido", daemon=True)
        self._thread.start()
        self._kaleido: Future = asyncio.run_coroutine_threadsafe(self._open(tabs), self._loop)
        self._closed = False

    @staticmethod
    async def _open(tabs: int) -> Any:
        import kaleido

        k = kaleido.Kaleido(n=tabs, mathjax=False)  # no MathJax: it would be fetched from a CDN
        await k.open()
        return k

    def _browser(self) -> Any:
        try:
            return self._kaleido.result(timeout=120)
        except Exception as exc:  # kaleido's ChromeNotFoundError and friends: say what to install
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PackError(f"charts cannot be drawn: {first} (the pack needs Chromium: apt-get install chromium)") \
                from None

    def submit(self, fig: go.Figure, width: int, height: int) -> Future:
        """Start drawing a figure as SVG; `result` waits for it. The browser draws while Python goes on."""

        async def render() -> bytes:
            k = await asyncio.wrap_future(self._kaleido)
            return await k.calc_fig(fig, opts={"format": "svg", "width": width, "height": height})

        return asyncio.run_coroutine_threadsafe(render(), self._loop)

    def result(self, pending: Future) -> str:
        """The SVG text of a submitted figure."""
        self._browser()  # a browser that failed to start is explained, not a traceback
        return pending.result(timeout=300).decode("utf-8")

    def svgs(self, figures: list[tuple[go.Figure, int, int]]) -> list[str]:
        """SVG text of each (figure, width, height), in order."""
        return [self.result(f) for f in [self.submit(*spec) for spec in figures]]

    def close(self) -> None:
        """Close the browser and stop the loop (safe to call twice, and after a failed start)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._kaleido.exception(timeout=120) is None:
                asyncio.run_coroutine_threadsafe(self._kaleido.result().close(), self._loop).result(timeout=60)
        except Exception:  # noqa: BLE001 - closing must not hide the error that brought us here
            pass
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            if not self._thread.is_alive():
                self._loop.close()

    def __enter__(self) -> ChartRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wrap_title(text: str, width: int = 46) -> str:
    """Plotly does not wrap titles: break long ones onto two lines so half-width charts keep them whole."""
    return "<br>".join(textwrap.wrap(text, width)) or text


def svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
