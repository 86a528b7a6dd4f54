"""The repository explains itself: no file points outside it, and every link in the docs leads somewhere.

Users get this repository only, so a rule is cited by the docs/*.md page that explains it, never by a
document they do not have.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Built from parts so that this file does not match itself.
_SPEC = "SP" + "EC"
FORBIDDEN = {
    f"{_SPEC} §": f"{_SPEC} \N{SECTION SIGN}".encode(),
    f"{_SPEC} § as JSON escapes it": f"{_SPEC} \\u00a7".encode(),
    f"shared/{_SPEC}": f"shared/{_SPEC}".encode(),
    "../" + "shared": b"../" + b"shared",
}
BARE_WORD = re.compile(rb"\b" + _SPEC.encode() + rb"\b")
DOC_PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True, capture_output=True, text=True
    ).stdout.split("\0")
    return [REPO_ROOT / name for name in listed if name and (REPO_ROOT / name).is_file()]


def test_no_tracked_file_cites_a_document_outside_the_repository() -> None:
    files = tracked_files()
    offenders = [
        f"{path.relative_to(REPO_ROOT)}: {label}"
        for path in files
        for content in [path.read_bytes()]
        for label, needle in FORBIDDEN.items()
        if needle in content
    ] + [f"{path.relative_to(REPO_ROOT)}: the word {_SPEC}" for path in files if BARE_WORD.search(path.read_bytes())]

    assert len(files) > 100, "git ls-files found too few files to be this repository"
    assert offenders == [], "cite the docs/*.md page that explains the rule instead"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and `_`), spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(heading) for heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8")))}


def _relative_links(page: Path) -> list[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return [link for link in _LINK.findall(text) if not re.match(r"^[a-z]+:", link)]


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda page: str(page.relative_to(REPO_ROOT)))
def test_every_link_in_the_docs_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for link in _relative_links(page):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        missing_anchor = path.exists() and anchor and path.suffix == ".md" and anchor not in _anchors(path)
        if not path.exists() or missing_anchor:
            broken.append(link)

    assert broken == []


def test_the_link_checker_sees_links_and_anchors() -> None:
    index = REPO_ROOT / "docs" / "README.md"

    assert "errors.md" in _relative_links(index)
    assert _anchor("`SEATS_LOCKED` or `SEATS_UNAVAILABLE`") == "seats_locked-or-seats_unavailable"
    assert "hold-post-apibookingshold-seats" in _anchors(REPO_ROOT / "docs" / "booking-lifecycle.md")


def test_the_docs_index_lists_every_docs_file() -> None:
    index = (REPO_ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    listed = set(_relative_links(REPO_ROOT / "docs" / "README.md"))
    files = {path.name for path in (REPO_ROOT / "docs").iterdir() if path.is_file() and path.name != "README.md"}

    assert "../README.md" in index
    assert files - listed == set(), "add the new docs file to docs/README.md"
