"""Run course notebooks in JupyterLab in a real (headless) browser, as a learner would.

    python3 tools/browser_smoke.py                       # notebooks 00 and 03; PASS/FAIL per notebook
    python3 tools/browser_smoke.py --out /tmp/smoke 01-bytes-on-the-wire.ipynb

Needs Debian's chromium (``apt-get install -y chromium``) and playwright from PyPI (the driver
only: ``pip install playwright``, never ``playwright install``). Starts JupyterLab on a free
loopback port over a temporary copy of the notebooks (outputs cleared, so everything checked was
produced in this browser), opens each notebook, runs Run > Run All Cells from the menu bar (the
menu item found by its command id; the command palette by keyboard lost key presses here), saves
with File > Save, and checks:

- every code cell ran and no cell has an error output (cells tagged ``raises-exception`` excepted);
- the expected texts appear in the rendered outputs (``TLSv1.3`` from the handshake cells);
- widgets render (``.jupyter-widgets`` with a ``.widget-dropdown``), and choosing another field in
  a dropdown changes what the widget shows (a round trip through the kernel);
- a screenshot per notebook lands in ``--out``.

Nothing but 127.0.0.1 is reached: chromium runs without background networking, resolves no other
host name and sends any other address to a closed loopback proxy port; JupyterLab's news feed and update check are turned off; the kernel has
``TLSLAB_OFFLINE=1`` and imports this checkout's ``tlslab`` (``PYTHONPATH``), so a worktree smokes its own code. JupyterLab and chromium are stopped on the way out, whatever happened.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    # Loopback only: every other host name fails to resolve inside chromium (the notebooks' badge images).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--proxy-server=http://127.0.0.1:9",  # and a literal address goes to a closed loopback port
    "--proxy-bypass-list=127.0.0.1;localhost",
]
# What each notebook must show once run; a widget notebook must hold a working dropdown.
EXPECT: dict[str, dict[str, Any]] = {
    "00-welcome.ipynb": {"texts": ["TLSv1.3", "HTTP/1.1 200 OK"], "widgets": False},
    "01-bytes-on-the-wire.ipynb": {"texts": ["legacy_session_id"], "widgets": True},
    "03-hmac-hkdf.ipynb": {"texts": ["tls13 "], "widgets": True},
}
DEFAULT_NOTEBOOKS = ["00-welcome.ipynb", "03-hmac-hkdf.ipynb"]
SETTINGS = {  # JupyterLab user settings: no news toast, no update check, every cell in the DOM
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
RUN_ALL = "runmenu:run-all"  # the Run menu's "Run All Cells"
RUN_STATE = """() => {
    if (document.querySelector('.jp-Dialog')) return 'dialog';
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
    if (!indicator || indicator.dataset.status !== 'idle' || prompts.some(p => p.textContent.includes('*'))) {
        return 'busy';
    }
    // Outputs were cleared before, so every prompt numbered means every cell ran.
    if (prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent))) return 'done';
    const error = [...document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
        .some(o => o.textContent.includes('Traceback') || /\\w+Error\\b/.test(o.textContent));
    return error ? 'error' : 'waiting';
}"""
SERVER_START_TIMEOUT = 90  # seconds
RUN_TIMEOUT = 180  # seconds, for one notebook's Run All


@dataclass
class Result:
    notebook: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    screenshot: Path | None = None

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare_root(folder: Path, notebooks: list[str]) -> Path:
    """A copy of each notebook with its outputs cleared, alone in folder/notebooks."""
    root = folder / "notebooks"
    root.mkdir(parents=True)
    for name in notebooks:
        notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, root / name)
    return root


def write_settings(folder: Path) -> Path:
    settings = folder / "lab-settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return settings


@contextmanager
def jupyter_lab(folder: Path, root: Path, out: Path) -> Iterator[str]:
    """A JupyterLab server on 127.0.0.1; yields its base URL and stops it (process group) on exit.

    Its log is copied to out/jupyter.log."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        PYTHONPATH=str(ROOT),  # the kernel imports this checkout's tlslab, not whichever one pip installed
        TLSLAB_OFFLINE="1",
        JUPYTER_CONFIG_DIR=str(folder / "config"),
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(write_settings(folder)),
        JUPYTERLAB_WORKSPACES_DIR=str(folder / "workspaces"),
    )
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--port-retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
        f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI and this machine run as root
    log = (folder / "jupyter.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, server, folder / "jupyter.log")
        yield url
    finally:
        stop(server)
        log.close()
        shutil.copy2(folder / "jupyter.log", out / "jupyter.log")


def wait_for_server(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(
        f"jupyter lab did not answer within {SERVER_START_TIMEOUT} s:\n{log.read_text()[-2000:]}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (server and kernels), then SIGKILL what is left after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def open_notebook(page: Any, url: str, name: str, result: Result) -> None:
    start = time.monotonic()
    page.goto(f"{url}/lab/tree/{name}?reset", timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    result.timings["open to kernel idle"] = time.monotonic() - start


def run_all(page: Any, result: Result) -> None:
    """Run > Run All Cells from the menu bar; wait until every code cell has run (or a dialog shows)."""
    start = time.monotonic()
    page.click(".jp-Notebook .jp-CodeCell .jp-InputPrompt >> nth=0", timeout=30_000)  # command mode
    page.get_by_role("menuitem", name="Run", exact=True).click(timeout=15_000)
    page.click(f".lm-Menu-item[data-command='{RUN_ALL}']", timeout=15_000)
    wait_until_ran(page)
    result.timings["run all"] = time.monotonic() - start


def wait_until_ran(page: Any) -> None:
    """Poll RUN_STATE: 'done', or a dialog, or a kernel idle without progress for a while.

    An error that stopped Run All settles in 3 s; an idle kernel with un-numbered prompts
    (seen once under load: the front end had run everything but not redrawn a prompt) settles
    in 10 s. Either way the saved file, read by ``check_saved``, is the verdict on each cell.
    """
    deadline, settled = time.monotonic() + RUN_TIMEOUT, 0
    state = "busy"
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE)
        settled = settled + 1 if state in ("error", "waiting") else 0
        if state in ("done", "dialog") or (state == "error" and settled >= 6) or settled >= 20:
            return
        time.sleep(0.5)
    raise TimeoutError(f"Run All did not finish within {RUN_TIMEOUT} s (last state: {state})")


def save(page: Any, root: Path, name: str) -> Any:
    """File > Save Notebook from the menu bar, then read back what the front end wrote."""
    before = (root / name).stat().st_mtime_ns
    page.get_by_role("menuitem", name="File", exact=True).click(timeout=15_000)
    page.click(".lm-Menu-item[data-command='docmanager:save']", timeout=15_000)
    deadline = time.monotonic() + 30
    while (root / name).stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            raise TimeoutError("File > Save did not write the notebook within 30 s")
        time.sleep(0.2)
    time.sleep(0.5)
    return nbformat.read(root / name, as_version=4)


def check_saved(notebook: Any, result: Result) -> None:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.execution_count is None:
            result.fail(f"cell {index} did not run")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors and "raises-exception" not in cell.metadata.get("tags", []):
            result.fail(f"cell {index}: {errors[0].ename}: {errors[0].evalue}")


def check_page(page: Any, expect: dict[str, Any], result: Result) -> None:
    text = page.inner_text(".jp-Notebook")
    for wanted in expect["texts"]:
        if wanted not in text:
            result.fail(f"no output shows {wanted!r}")
    if "Error displaying widget" in text:
        result.fail("a widget failed to display")
    if expect["widgets"]:
        check_widget(page, result)


def check_widget(page: Any, result: Result) -> None:
    """A dropdown widget is there, and choosing another option changes the view beside it."""
    widgets = page.locator(".jupyter-widgets .widget-dropdown select")
    if widgets.count() == 0:
        result.fail("no dropdown widget rendered (.jupyter-widgets .widget-dropdown select)")
        return
    select = widgets.first
    select.scroll_into_view_if_needed(timeout=10_000)
    box = select.locator("xpath=ancestor::div[contains(@class, 'widget-box')][1]")
    before = box.inner_text()
    options = select.locator("option")
    if options.count() < 2:
        result.fail("the dropdown has fewer than two options")
        return
    select.select_option(index=options.count() - 1)
    try:
        page.wait_for_function(
            "([box, before]) => box.innerText !== before", arg=[box.element_handle(), before], timeout=15_000
        )
    except Exception:  # playwright's TimeoutError
        result.fail("choosing another field did not change the widget's view (no kernel round trip?)")


def screenshot(page: Any, out: Path, name: str, expect: dict[str, Any], result: Result) -> None:
    if not expect["widgets"] and expect["texts"]:
        marker = page.get_by_text(expect["texts"][0]).first
        marker.scroll_into_view_if_needed(timeout=10_000)
    result.screenshot = out / (Path(name).stem + ".png")
    page.screenshot(path=str(result.screenshot))


def smoke_one(context: Any, url: str, root: Path, name: str, out: Path) -> Result:
    result, expect = Result(name), EXPECT.get(name, {"texts": [], "widgets": False})
    page = context.new_page()
    try:
        open_notebook(page, url, name, result)
        run_all(page, result)
        check_saved(save(page, root, name), result)
        check_page(page, expect, result)
        screenshot(page, out, name, expect, result)
    except Exception as exc:  # a timeout or a missing element: report it, keep the screenshot
        result.fail(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        result.screenshot = out / (Path(name).stem + "-failed.png")
        page.screenshot(path=str(result.screenshot))
    finally:
        page.close()
    return result


def smoke(notebooks: list[str], out: Path) -> list[Result]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="browser-smoke-") as tmp:
        folder = Path(tmp)
        root = prepare_root(folder, notebooks)
        with jupyter_lab(folder, root, out) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                return [smoke_one(context, url, root, name, out) for name in notebooks]
            finally:
                browser.close()


def missing_requirements() -> str | None:
    """None if chromium and playwright are here, else what is missing and how to get it."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found: apt-get install -y chromium"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright not installed: python3 -m pip install playwright (driver only; no 'playwright install')"
    if shutil.which("jupyter") is None and not (Path(sys.executable).parent / "jupyter").exists():
        return "jupyter lab not installed: python3 -m pip install -e '.[lab]'"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", default=DEFAULT_NOTEBOOKS, help="file names in notebooks/")
    parser.add_argument("--out", type=Path, default=Path("browser-smoke"), help="folder for the screenshots")
    args = parser.parse_args(argv)
    missing = missing_requirements()
    if missing:
        print(f"SKIP {missing}")
        return 2
    start = time.monotonic()
    results = smoke(args.notebooks, args.out)
    for result in results:
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
        print(
            f"{'PASS' if result.ok else 'FAIL'} {result.notebook} ({timings}) screenshot {result.screenshot}"
        )
        for problem in result.problems:
            print(f"    {problem}")
    print(f"total {time.monotonic() - start:.1f} s")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
