"""End to end in a real browser: JupyterLab on loopback, driven in headless Debian Chromium.

Runs notebook 00 and a conversation view in a scratch copy of the project (figures go there, not
into figures/). Skipped, with the reason, where Chromium or Playwright is missing; ``make
test-browser`` sets ``Q7X2_REQUIRE_BROWSER=1`` so that there a missing browser fails instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

import q7x2_lib as q7
from q7x2_lib.apps.lab import KERNELSPEC, lab_command
from q7x2_lib.datasets import write_synthetic_corpus

CHROMIUM = Path(os.environ.get("Q7X2_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
NO_CHROMIUM = (f"chromium not found at {CHROMIUM}; install Debian's chromium and chromium-driver "
               "(apt-get install chromium chromium-driver) or run make test-browser")
NO_PLAYWRIGHT = ("the playwright package is not installed in this environment; make test-browser "
                 "installs it (pip install -e '.[browser]'; never `playwright install`: the test "
                 "drives Debian's /usr/bin/chromium)")
RUN_TIMEOUT_MS = 180_000
AUTOSAVE_S = 3  # JupyterLab's autosave interval in the test (its default is 120 s)
LAB_CONFIG = {
    "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
               "extension_manager": "readonly", "expose_app_in_browser": True},
}
HOSTILE = [  # (speaker, body) in the attractors markdown export, one message per line
    " ",
    '<script>alert(1)</script> and <img src=x onerror="window.__q7x2_pwned = 1"> and '
    "[click](javascript:alert(2))",
    "",
    "**bold** and `code` &lt;b&gt; entity",
    *["we rest here together [END]"] * 4,
    "[END]",
]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return NO_CHROMIUM
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return NO_PLAYWRIGHT
    return None


if (_reason := _missing()) is not None:
    if os.environ.get("Q7X2_REQUIRE_BROWSER") == "1":
        pytest.fail(_reason, pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scratch_project(root: Path) -> None:
    """A copy of what the notebooks need: every notebook, the seed data, a hostile transcript,
    all committed to a git repository of its own so that a save which changes a byte shows."""
    (root / "notebooks").mkdir(parents=True)
    for book in q7.NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"):
        shutil.copy(book, root / "notebooks")
    shutil.copytree(q7.RAW_DIR, root / "data" / "raw")
    (root / "hostile").mkdir()
    blocks = [f"### Mallory {i % 2 + 1}\n\n{body}\n\n---\n" for i, body in enumerate(HOSTILE)]
    header = f"# Mallory 1 ↔ Mallory 2\n\n**Messages:** {len(HOSTILE)}\n\n---\n\n"
    (root / "hostile" / "mallory.md").write_text(header + "\n".join(blocks), encoding="utf-8")
    cells = [
        nbformat.v4.new_code_cell('import q7x2_lib as q7\n\nhostile = q7.read_corpus("hostile", '
                                  'root=q7.PROJECT_ROOT)\nhostile.conversation(0)'),
        nbformat.v4.new_code_cell('seeds = q7.read_corpus("data/raw", root=q7.PROJECT_ROOT)\n'
                                  'seeds.conversation("002_8cc034fc17ec98c9")'),
    ]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC)})
    nbformat.write(nb, root / "notebooks" / "viewer-check.ipynb")
    _explore_corpus(root / "explore", blocks)
    explore = [
        nbformat.v4.new_code_cell('import q7x2_lib as q7\n\ncorpus = q7.read_corpus("explore", '
                                  'root=q7.PROJECT_ROOT, errors="skip")\nexplorer = '
                                  'corpus.explore(fold_words=200)\nexplorer'),
        nbformat.v4.new_code_cell('corpus.search("rest here together")'),
        nbformat.v4.new_code_cell('corpus.search("onerror|javascript", regex=True)'),
        nbformat.v4.new_code_cell('corpus.compare("mallory", "reader", turn=1)'),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=explore, metadata={
        "kernelspec": dict(KERNELSPEC)}), root / "notebooks" / "explore-check.ipynb")
    (root / ".gitignore").write_text(".jupyter/\nlab.log\n.ipynb_checkpoints/\n")
    who = ["-c", "user.name=q7x2", "-c", "user.email=q7x2@localhost"]
    for args in (["init", "-q"], ["add", "-A"], [*who, "commit", "-qm", "scratch"]):
        subprocess.run(["git", *args], cwd=root, check=True)


def _explore_corpus(folder: Path, hostile_blocks: list[str]) -> None:
    """100 synthetic runs, the hostile transcript, and a reader's worst case: one message of
    3,000 words, then a refusal ↔ [END] ping-pong of 40 messages."""
    write_synthetic_corpus(folder, n_conversations=100, seed=3, formats=("md",),
                           messages=(12, 30))
    header = f"# Mallory 1 ↔ Mallory 2\n\n**Messages:** {len(HOSTILE)}\n\n---\n\n"
    (folder / "mallory.md").write_text(header + "\n".join(hostile_blocks), encoding="utf-8")
    long = " ".join(f"word{i}" for i in range(3000))
    bodies = [" ", long, "a short answer", *["I cannot continue.", "[END]"] * 20]
    blocks = [f"### Reader {i % 2 + 1}\n\n{b}\n\n---\n" for i, b in enumerate(bodies)]
    head = f"# Reader 1 ↔ Reader 2\n\n**Messages:** {len(bodies)}\n\n---\n\n"
    (folder / "reader.md").write_text(head + "\n".join(blocks), encoding="utf-8")


def _environment(root: Path) -> dict[str, str]:
    # Jupyter's state lives in the scratch folder: nothing from $HOME, nothing written there.
    state = root / ".jupyter"
    env = {**os.environ, "Q7X2_ROOT": str(root), "Q7X2_PROGRESS": "0", "MPLBACKEND": "module://"
           "matplotlib_inline.backend_inline", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "matplotlib")):
        (state / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(state / sub)
    (state / "config" / "jupyter_lab_config.json").write_text(json.dumps(LAB_CONFIG))
    news = state / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)  # and no "get notified about news?" toast
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    docs = state / "settings" / "@jupyterlab" / "docmanager-extension"
    docs.mkdir(parents=True, exist_ok=True)  # autosave within seconds, not two minutes
    (docs / "plugin.jupyterlab-settings").write_text(json.dumps(
        {"autosave": True, "autosaveInterval": AUTOSAVE_S}))
    return env


def _wait_ready(url: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = "\n".join(log.read_text().splitlines()[-10:])
            raise RuntimeError(f"jupyter lab exited with code {server.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer {url} within {timeout} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 at a free port with a token, serving the scratch notebooks."""
    root = tmp_path_factory.mktemp("project")
    _scratch_project(root)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(root / "lab.log", "w")  # closed in the teardown below
    server = subprocess.Popen(  # the command make lab runs, on loopback with a token
        lab_command(root / "notebooks", port=port, open_browser=False, extra=[
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True"]),
        env=_environment(root), stdout=log, stderr=subprocess.STDOUT, cwd=root,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(f"{base}/api/status?token={token}", server, root / "lab.log")
        yield f"{base}|{token}|{root}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open_notebook(browser, lab: str, name: str) -> tuple[Page, list[str]]:
    """Open ``name`` in a fresh workspace and wait until its kernel is idle."""
    base, token, _ = lab.split("|")
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    workspace = name.split(".")[0]
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{name}?reset&token={token}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(  # the kernel is up: the toolbar's status shows it idle
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   return w && w.sessionContext && w.sessionContext.session &&
                          w.sessionContext.session.kernel &&
                          w.sessionContext.session.kernel.status === 'idle'; }""",
        timeout=RUN_TIMEOUT_MS)
    return page, dialogs


def _run_notebook(browser, lab: str, name: str) -> tuple[Page, list[str]]:
    """Open ``name`` in a fresh workspace, run every cell, wait until all have run."""
    page, dialogs = _open_notebook(browser, lab, name)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => { const prompts = [...document.querySelectorAll(
                     '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
                   return prompts.length > 0 &&
                          prompts.every(p => /\\[\\d+\\]/.test(p.textContent)); }""",
        timeout=RUN_TIMEOUT_MS)
    return page, dialogs


def _errors(page: Page) -> list[str]:
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'],"
                          " .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
    return [t for t in errors.all_inner_texts() if "Error" in t or "Traceback" in t]


def _git_status(root: str) -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True,
                          capture_output=True, text=True).stdout


def test_opening_and_autosaving_every_notebook_leaves_the_tree_clean(browser, lab) -> None:
    # Runs before the tests below execute notebooks in the same scratch project.
    root = lab.split("|")[2]
    books = sorted(p.name for p in (Path(root) / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert len(books) >= 5
    for name in books:
        page, dialogs = _open_notebook(browser, lab, name)
        state = """() => { const w = window.jupyterapp.shell.currentWidget;
                           return {dirty: w.context.model.dirty,
                                   kernel: w.sessionContext.kernelDisplayName}; }"""
        assert page.evaluate(state) == {"dirty": False, "kernel": KERNELSPEC["display_name"]}, \
            name
        page.wait_for_timeout(AUTOSAVE_S * 1000 * 3)  # past several autosaves
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        assert page.evaluate(state)["dirty"] is False, name
        assert _git_status(root) == "", f"{name} changed on disk after a save in JupyterLab"
        assert dialogs == []
        page.close()


def test_notebook_00_runs_in_jupyterlab_with_figures(browser, lab) -> None:
    page, dialogs = _run_notebook(browser, lab, "00-corpus-overview.ipynb")
    assert _errors(page) == []
    images = page.locator(".jp-OutputArea-output img")
    assert images.count() >= 1
    widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 100 for w in widths), widths
    text = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").inner_text()
    assert "list_conversations()" in text and "001_3c735b3d862d374e" in text
    page.screenshot(path=str(Path(os.environ.get("Q7X2_SCREENSHOTS", "/tmp")) / "q7x2-lab-00.png"),
                    full_page=True)
    assert dialogs == []
    page.close()


def test_conversation_view_in_jupyterlab_is_safe(browser, lab) -> None:
    page, dialogs = _run_notebook(browser, lab, "viewer-check.ipynb")
    assert _errors(page) == []
    views = page.locator(".q7x2-conversation")
    assert views.count() == 2
    hostile = views.nth(0)
    speakers = hostile.locator(".q7x2-speaker").all_inner_texts()
    assert set(speakers) == {"Mallory 1", "Mallory 2"}
    for badge in ("seed", "empty", "end-marker", "loop", "identical"):
        assert hostile.locator(f".q7x2-badge-{badge}").count() >= 1, badge
    shown = hostile.inner_text()
    assert "<script>alert(1)</script>" in shown
    assert '<img src=x onerror="window.__q7x2_pwned = 1">' in shown
    assert "&lt;b&gt;" in shown
    assert page.locator(".jp-OutputArea script, .jp-OutputArea img[onerror]").count() == 0
    assert hostile.locator("a").count() == 0
    assert page.evaluate("() => window.__q7x2_pwned === undefined")
    assert dialogs == []
    assert "× 40 identical" in views.nth(1).inner_text()
    page.screenshot(path=str(Path(os.environ.get("Q7X2_SCREENSHOTS", "/tmp"))
                             / "q7x2-lab-viewer.png"), full_page=True)
    page.close()


def test_reports_open_offline_with_every_figure_visible(browser, tmp_path: Path) -> None:
    from q7x2_lib.apps.report import write_reports

    books = sorted(q7.NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    for report in write_reports(books, tmp_path):
        page.goto(report.as_uri(), wait_until="load")
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        images = page.locator("img")
        widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert widths and all(w > 100 for w in widths), (report.name, widths)
        for i in range(images.count()):
            assert images.nth(i).is_visible(), (report.name, i)
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    page.close()


def _shot(page: Page, name: str) -> None:
    folder = Path(os.environ.get("Q7X2_SCREENSHOTS", "/tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"q7x2-explore-{name}.png"), full_page=True)


def _table_rows(grid) -> list[list[str]]:
    return grid.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent))")


def _search_box(grid):
    return grid.locator("input[type=search]").first


def test_explore_a_corpus_of_a_hundred_conversations(browser, lab) -> None:
    page, dialogs = _run_notebook(browser, lab, "explore-check.ipynb")
    assert _errors(page) == []
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    grid = panel.locator(".jp-OutputArea-output table.dataTable").first
    grid.wait_for(timeout=RUN_TIMEOUT_MS)
    wrapper = grid.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')]").first
    header = [t.strip() for t in grid.locator("thead th").all_inner_texts()]
    for column in ("conversation_id", "models", "end_state", "loop_onset", "collapse_turn",
                   "problems"):
        assert column in header, header
    info = wrapper.inner_text()
    assert "102 entries" in info.replace(",", ""), info  # 100 runs + mallory + reader
    _shot(page, "1-table")

    words = header.index("n_words")
    # Sort by words, most first: the rows come back in that order. (The header's sort button,
    # activated from the keyboard twice: ascending, then descending.)
    order = grid.locator("thead th").nth(words).locator(".dt-column-order")
    for _ in range(2):
        order.focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
    assert grid.locator("thead th").nth(words).get_attribute("aria-sort") == "descending"
    shown = [int(r[words]) for r in _table_rows(grid)]
    assert shown == sorted(shown, reverse=True) and len(shown) >= 10, shown
    _shot(page, "2-sorted")

    # Filter with the search box, open the hostile transcript from its row.
    box = _search_box(wrapper)
    box.fill("mallory")
    page.wait_for_timeout(500)
    rows = _table_rows(grid)
    assert len(rows) == 1 and rows[0][0] == "mallory", rows
    grid.locator("tbody tr").first.click()
    view = panel.locator(".q7x2-conversation").first
    view.wait_for(timeout=60_000)
    assert "<script>alert(1)</script>" in view.inner_text()
    assert page.locator(".jp-OutputArea script, .jp-OutputArea img[onerror]").count() == 0
    assert view.locator("a").count() == 0
    assert page.evaluate("() => window.__q7x2_pwned === undefined")
    _shot(page, "3-opened-hostile")

    # Open the long one: its 3,000-word message is folded, its ping-pong is one round.
    box.fill("reader")
    page.wait_for_timeout(500)
    grid.locator("tbody tr").first.click()
    panel.locator(".q7x2-conversation .q7x2-fold").first.wait_for(timeout=60_000)
    view = panel.locator(".q7x2-conversation").first
    assert "Reader 1" in view.inner_text()
    height = view.evaluate("v => v.getBoundingClientRect().height")
    assert height < 2_000, height  # 43 messages, one of 3,000 words, fit on a screen or two
    fold = view.locator("details.q7x2-fold").first
    assert not fold.evaluate("d => d.open") and not fold.locator("text=word2999").is_visible()
    fold.locator("summary").click()
    assert fold.evaluate("d => d.open") and "word2999" in fold.inner_text()
    cycle = view.locator("details.q7x2-cycle").first
    assert "a 2-message cycle × 20" in cycle.locator("summary").inner_text()
    cycle.locator("summary").click()
    assert cycle.evaluate("d => d.open") and "the text of #3" in cycle.inner_text()
    _shot(page, "4-expanded")

    # Search across the corpus: a table of matches, the match highlighted; hostile text found
    # by a search, and shown side by side with another conversation, stays text.
    found = panel.locator(".q7x2-search")
    assert found.first.locator("mark").count() >= 1
    assert "matches of rest here together" in found.first.inner_text()
    assert 'onerror="window.__q7x2_pwned = 1"' in found.nth(1).inner_text()
    both = panel.locator(".q7x2-compare").first
    assert "<script>alert(1)</script>" in both.inner_text() and "word2999" not in both.inner_text()
    assert page.locator(".jp-OutputArea script, .jp-OutputArea img[onerror]").count() == 0
    assert panel.locator(".q7x2-search a, .q7x2-compare a").count() == 0
    assert page.evaluate("() => window.__q7x2_pwned === undefined")
    assert dialogs == []
    _shot(page, "5-search")
    page.close()
