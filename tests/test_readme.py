"""README states the present, briefly, with numbers generated from benchmarks/results/*.json."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_LINES = 150
HISTORY_WORDS = (
    "previous model",
    "re-calibrated",
    "recalibrated after",
    "was retrained",
    "were retrained",
    "last session",
    "this session",
    "earlier session",
    "re-run",
    "rerun",
    "used to",
    "no longer",
    "before the",
    "first run",
)
# measured-looking numbers: a decimal below one, a percentage, a speed factor
MEASURED = re.compile(r"(?<![\w.])(0\.\d+|\d+(\.\d+)?\s?%|\d+(\.\d+)?\s?×)")


def _tables():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "benchmarks" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def text() -> str:
    return README.read_text(encoding="utf-8")


def test_generated_block_matches_the_json(text):
    tables = _tables()
    expected = tables.render_methods(tables.load_results())
    assert tables.generated_block(text) == expected, (
        "README's methods table differs from benchmarks/results/*.json: "
        "run python benchmarks/readme_tables.py"
    )
    assert tables.render_readme(text) == text


def test_every_registered_method_has_a_row(text):
    block = _tables().generated_block(text)
    import toolkit.methods as methods

    for name in methods.names():
        assert f"| `{name}` |" in block, name


def test_check_mode_fails_on_a_stale_readme(tmp_path):
    tables = _tables()
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n{tables.BEGIN}\n| old |\n{tables.END}\n", encoding="utf-8")
    assert tables.main(["--check", "--readme", str(stale)]) == 1
    assert tables.main(["--readme", str(stale)]) == 0
    assert tables.main(["--check", "--readme", str(stale)]) == 0


def test_no_number_outside_the_generated_block(text):
    tables = _tables()
    start, stop = text.index(tables.BEGIN), text.index(tables.END)
    outside = text[:start] + text[stop:]
    found = [m.group(0) for m in MEASURED.finditer(outside)]
    assert not found, f"numbers outside the generated block (put them in readme_tables.py): {found}"


def test_short(text):
    assert len(text.splitlines()) <= MAX_LINES


def test_present_tense_only(text):
    low = text.lower()
    found = [w for w in HISTORY_WORDS if w in low]
    assert not found, f"history words in README (they belong in CHANGELOG.md): {found}"


def test_defines_seed(text):
    assert '"Seed NNN"' in text and "../shared/seeds/NNN_*.txt" in text


def test_relative_links_exist(text):
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        if re.match(r"^[a-z]+://|^mailto:|^#", link):
            continue
        target = (ROOT / link.split("#")[0]).resolve()
        assert target.exists(), f"README links to {link}, which does not exist"


def test_doc_links_in_docs_exist():
    for doc in (ROOT / "docs").rglob("*.md"):
        for link in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+://|^#", link):
                continue
            target = (doc.parent / link.split("#")[0]).resolve()
            assert target.exists(), f"{doc.relative_to(ROOT)} links to {link}, which does not exist"


def test_the_readme_example_runs(text, monkeypatch):
    import re as _re

    block = _re.search(r"```python\n(.*?)```", text, _re.S).group(1)
    monkeypatch.chdir(README.parent)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    r = scope["r"]
    assert r.verdict == "double_encoded" and r.previous_gop == 12
    assert '"sha256"' in scope["record"]
