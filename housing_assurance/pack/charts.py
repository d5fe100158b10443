"""The pack's browser: it draws the app's own Plotly figures (housing_assurance/charts.py) as SVG, and
prints the laid-out pack to PDF.

Debian's Chromium (its headless shell: chromium()), driven by Playwright, loads plotly.js (the copy inside the
plotly package, never a CDN) once into a page, and each figure is `Plotly.toImage(figure, {format: "svg"})` in
one of them: what kaleido does, without reloading plotly.js after every figure (a quarter of a second each,
which kaleido's public API cannot skip). The browser is started at once, so it boots while the figures are
computed. Each renderer owns its browser, so two packs built at the same time by two app sessions can never
swap charts; the browsers are driven by one Playwright driver per process (a node process, started at the
first pack and kept: starting one took a third of a second and 0.4 s of CPU of every pack).

The same browser prints the pack (`print_pdf`), in a page that runs no script and fetches nothing: the
pack's text is the landlord's data, and its charts arrive inside the HTML.

plotly.js reaches the browser over http from a server of our own, and the browser's caches are kept in the
cache folder, so that Chromium has it compiled from one pack to the next (warm_browser.py).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import os
import shutil
import tempfile
import textwrap
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from housing_assurance.pack import warm_browser
from housing_assurance.pack.checks import PackError
from housing_assurance.pack.warm_browser import PLOTLY_JS

# One page: loading plotly.js into a page takes Chromium 2.3-3 s here (0.3-0.6 s compiled, from the kept
# caches), and one page then draws the pack's 31 charts one after another, about 70 ms each.
PAGES = 1
# As the guide to running Chromium headless here says: no GPU, no first-run, no background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TO_SVG = """async ([figure, width, height]) => {
    const f = JSON.parse(figure);
    return await Plotly.toImage({data: f.data, layout: f.layout, config: {}},
                                {format: "svg", width: width, height: height, scale: 1, imageDataOnly: true});
}"""


_shared_lock = threading.Lock()
_shared_loop: asyncio.AbstractEventLoop | None = None
_driver: Any = None  # the process's Playwright driver, used on _shared_loop only
_driver_starting = asyncio.Lock()


def _loop() -> asyncio.AbstractEventLoop:
    """The process's event loop for every pack's browser, on a thread of its own (started at the first pack)."""
    global _shared_loop
    with _shared_lock:
        if _shared_loop is None:
            _shared_loop = asyncio.new_event_loop()
            threading.Thread(target=_shared_loop.run_forever, name="pack-charts", daemon=True).start()
            atexit.register(_stop_driver)
        return _shared_loop


async def _playwright(replacing: Any = None) -> Any:
    """The process's Playwright driver, started at first use; `replacing`: a driver found dead, replaced
    unless another pack has replaced it already."""
    global _driver
    from playwright.async_api import async_playwright

    async with _driver_starting:
        if replacing is not None and _driver is replacing:
            _driver = None
            with contextlib.suppress(Exception):
                await replacing.stop()
        if _driver is None:
            _driver = await async_playwright().start()
        return _driver


async def _answers(driver: Any) -> bool:
    """Whether a driver still answers: one round trip (a request context made and dropped)."""
    try:
        await (await driver.request.new_context()).dispose()
    except Exception:  # noqa: BLE001 - a driver whose node process has gone fails in many ways
        return False
    return True


def _forget_the_parents() -> None:
    """In a forked child: the parent's loop thread and driver do not exist here, so its first pack starts
    its own."""
    global _shared_lock, _shared_loop, _driver, _driver_starting
    _shared_lock, _shared_loop, _driver, _driver_starting = threading.Lock(), None, None, asyncio.Lock()


os.register_at_fork(after_in_child=_forget_the_parents)


def _stop_driver() -> None:
    """At the process's exit, stop its driver (the node process) rather than leave it to notice."""
    if _driver is not None and _shared_loop is not None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_driver.stop(), _shared_loop).result(timeout=10)


def chromium() -> str:
    """Debian's Chromium headless shell (apt-get install chromium-headless-shell): the same Blink that draws
    and prints in Chromium, without a browser's windows and tabs around it, so a pack takes a fifth less of
    the machine's CPU (the demo's: 6.3 s against 8.1 s) and its PDF is the same, pixel for pixel. A machine
    with only Debian's full Chromium makes the same pack with that."""
    found = shutil.which("chromium-headless-shell") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise PackError("charts cannot be drawn: Chromium is not installed (the pack needs it: apt-get install "
                        "chromium-headless-shell)")
    return found


# A4 as pack.css's @page rule sets it; the outline (bookmarks) from the headings; a tagged PDF, which screen
# readers follow.
PRINT_OPTIONS: dict[str, Any] = {"prefer_css_page_size": True, "print_background": True, "outline": True,
                                 "tagged": True}
# A print made only to learn on which page each part falls needs no outline or tags (a third quicker).
LAYOUT_OPTIONS: dict[str, Any] = {"prefer_css_page_size": True, "print_background": True}


class ChartRenderer:
    """Plotly figures to SVG, and the pack to PDF, in one headless Chromium started at once so it boots in
    the background."""

    def __init__(self, pages: int = PAGES) -> None:
        self._loop = _loop()
        # The browser's own profile, removed with it, started with the caches kept from the packs before
        # (plotly.js compiled: warm_browser.py).
        self._folder = tempfile.TemporaryDirectory(prefix="pack-charts-")
        self._profile, self._draws = Path(self._folder.name), pages > 0
        warm_browser.seed(self._profile)
        self._launched: Future = Future()  # the browser, once launched (before plotly.js has loaded)
        self._boot: Future = Future()  # the task that boots it, for close() to stop

        async def boot() -> tuple[Any, asyncio.Queue]:
            self._boot.set_result(asyncio.current_task())
            return await self._open(pages, self._profile, self._launched)

        self._browser_ready: Future = asyncio.run_coroutine_threadsafe(boot(), self._loop)
        self._closed = False
        self._placed: dict[str, Future] = {}
        self._sizes: dict[Future, tuple[int, int]] = {}  # each submitted figure's width and height
        self._print_page: Any = None  # the page that prints, made at the first print and kept for the next
        self._printing = threading.Lock()
        self._names = itertools.count()

    @staticmethod
    async def _launch(profile: Path) -> Any:
        """A browser of its own (a persistent context, in `profile`), by the process's driver. A driver that
        has died since the last pack (its node process gone) is replaced, once; a browser that fails to
        start while the driver still answers is said as it is, and the other packs' browsers go on."""
        executable, args = chromium(), CHROMIUM_ARGS + warm_browser.browser_args()
        driver = await _playwright()
        try:
            return await driver.chromium.launch_persistent_context(profile, executable_path=executable, args=args)
        except Exception:
            if await _answers(driver):
                raise
        driver = await _playwright(replacing=driver)
        return await driver.chromium.launch_persistent_context(profile, executable_path=executable, args=args)

    @staticmethod
    async def _open(pages: int, profile: Path, launched: Future) -> tuple[Any, asyncio.Queue]:
        """(browser, free pages)."""
        try:
            browser = await ChartRenderer._launch(profile)
        except BaseException as exc:
            launched.set_exception(exc)
            raise
        try:
            launched.set_result(browser)
            free: asyncio.Queue = asyncio.Queue()
            for _ in range(pages):
                page = await browser.new_page()
                await page.goto(warm_browser.charts_page_url())
                if not await page.evaluate("typeof Plotly === 'object'"):
                    raise PackError(f"charts cannot be drawn: plotly.js did not load from {PLOTLY_JS}")
                free.put_nowait(page)
        except BaseException:
            with contextlib.suppress(Exception):  # already closed, when close() stopped the boot
                await browser.close()
            raise
        return browser, free

    def _browser(self, launched_only: bool = False) -> Any:
        """The browser once it has booted (or only launched: printing needs no plotly.js); one that failed to
        start is explained in one line (PackError), not a traceback."""
        try:
            if launched_only:
                return self._launched.result(timeout=120)
            return self._browser_ready.result(timeout=120)
        except PackError:
            raise
        except Exception as exc:  # Playwright's launch errors: say what to install
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PackError(f"charts cannot be drawn: {first} (the pack needs Chromium: apt-get install "
                            "chromium-headless-shell)") \
                from None

    def submit(self, fig: go.Figure, width: int, height: int) -> Future:
        """Start drawing a figure as SVG; `result` waits for it. The browser draws while Python goes on."""
        if self._closed:  # a thread of a pack that failed may still be sending its charts: say so, draw nothing
            raise PackError("charts cannot be drawn: the pack's browser is already closed")
        figure = fig.to_json()  # on the caller's thread: the figure may change once this returns

        async def render() -> str:
            _, free = await asyncio.wrap_future(self._browser_ready)
            page = await free.get()
            try:
                return await page.evaluate(TO_SVG, [figure, width, height])
            finally:
                free.put_nowait(page)

        pending = asyncio.run_coroutine_threadsafe(render(), self._loop)
        self._sizes[pending] = (width, height)
        return pending

    def print_pdf(self, page_html: str, final: bool = True) -> bytes:
        """The HTML printed to PDF, in a page of its own that runs no script and fetches nothing (each chart
        arrives inside the HTML), so a print and the drawing of charts run side by side. `final`: with the
        outline (bookmarks) and tags; False for a print made only to see where the pages fall."""
        browser = self._browser(launched_only=True)  # it need not wait for plotly.js

        async def print_() -> bytes:
            if self._print_page is None:
                page = await browser.new_page()
                # What java_script_enabled=False does for a context, for this page alone; nothing is fetched.
                session = await browser.new_cdp_session(page)
                await session.send("Emulation.setScriptExecutionDisabled", {"value": True})
                await page.route("**/*", lambda route: route.abort())
                self._print_page = page
            await self._print_page.set_content(page_html, wait_until="load")
            return await self._print_page.pdf(**(PRINT_OPTIONS if final else LAYOUT_OPTIONS))

        try:
            with self._printing:  # one print at a time in the one page
                return asyncio.run_coroutine_threadsafe(print_(), self._loop).result(timeout=300)
        except Exception:
            if self._browser_ready.done():
                self._browser()  # a boot that failed says why (plotly.js did not load, say), not "target closed"
            raise

    def result(self, pending: Future) -> str:
        """The SVG text of a submitted figure."""
        self._browser()  # a browser that failed to start is explained, not a traceback
        return pending.result(timeout=300)

    def placeholder(self, pending: Future) -> str:
        """A URL standing for a submitted figure in the pack's HTML while the browser is still drawing it;
        the drawing (`drawn`) takes its place when the pack is printed. It says the drawing's size, so the
        pages can be laid out before the drawing is done (render.pdf_from_html)."""
        width, height = self._sizes.pop(pending)
        name = f"chart:{next(self._names)}:{width}x{height}"
        self._placed[name] = pending
        return name

    def drawn(self, url: str) -> str:
        """The SVG text of a placeholder's figure (waiting for it)."""
        return self.result(self._placed.pop(url))

    def close(self) -> None:
        """Close the browser and stop the loop (safe to call twice, and after a failed start). A browser
        still loading plotly.js (a signed-off week's pack draws nothing) is closed without waiting for it."""
        if self._closed:
            return
        self._closed = True

        async def stop() -> None:
            browser, _ = await asyncio.wrap_future(self._browser_ready)
            await browser.close()

        try:
            if not self._browser_ready.done():
                browser = self._launched.result(timeout=120)
                asyncio.run_coroutine_threadsafe(browser.close(), self._loop).result(timeout=60)
                # A page still opening in a closed browser may never hear of it: the boot is cancelled.
                asyncio.run_coroutine_threadsafe(_cancelled(self._boot.result()), self._loop).result(timeout=60)
            if not self._browser_ready.cancelled() and self._browser_ready.exception(timeout=120) is None:
                asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=60)
                if self._draws:  # its caches have plotly.js, compiled, for the next pack
                    warm_browser.keep(self._profile)
        except Exception:  # noqa: BLE001 - closing must not hide the error that brought us here
            pass
        finally:
            self._folder.cleanup()

    def __enter__(self) -> ChartRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _cancelled(task: asyncio.Task) -> None:
    """Once the task has been cancelled and has finished (at once if it had finished already)."""
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


def wrap_title(text: str, width: int = 46) -> str:
    """Plotly does not wrap titles: break long ones onto two lines so half-width charts keep them whole."""
    return "<br>".join(textwrap.wrap(text, width)) or text
