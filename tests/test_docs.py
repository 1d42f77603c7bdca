"""The documentation stays true to the code and to itself: docs/api.md lists every API
route and method (and nothing as available that the code does not have); every link in
the README, CONTRIBUTING and docs/ leads to a file (and a heading) in the repository; and
the design documents are the repository's own, in docs/, with nothing pointing elsewhere."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver

from nuzzle import api_urls

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
API_DOC = DOCS / "api.md"
PLANNED = "## Planned (not yet implemented)"
METHODS = ("get", "post", "put", "patch", "delete")
DOCUMENTED = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/[^`\s]*)`")
# Markdown links and images: [text](target) and ![alt](target); <img src="target">.
LINK = re.compile(r"\]\(([^)\s]+)\)|<img[^>]* src=\"([^\"]+)\"")
# Every Markdown document a newcomer reads: the two at the top and everything in docs/.
MARKDOWN = ["README.md", "CONTRIBUTING.md", *sorted(f"docs/{p.name}" for p in DOCS.glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
# The design documents once lived in a folder outside the repository, under upper-case
# names. Written as patterns that do not match themselves, so this file passes its own test.
OLD_DOC_NAME = re.compile(rb"\b(?:API|PRODUCT|RELIABILITY|ARCHITECTURE)[.]md\b")
# The folder the design documents came from; the peer benchmarked beside Nuzzle
# (bench/peer.py) still lives there, outside the repository, and is named by path.
OUTSIDE_FOLDER = re.compile(rb"\bshared[/](?!peers/)")


def routes() -> set[tuple[str, str]]:
    """(METHOD, /api/path) for every view method in nuzzle/api_urls.py, with path
    converters written as {name}: `v1/checkins/<id:checkin_id>/responses` is documented as
    `/api/v1/checkins/{checkin_id}/responses`."""
    found: set[tuple[str, str]] = set()
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), "api_urls.py has no includes"
        assert not isinstance(pattern, URLResolver)
        path = "/api/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        view = pattern.callback.view_class  # type: ignore[attr-defined]
        found |= {(method.upper(), path) for method in METHODS if hasattr(view, method)}
    return found


def documented() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(available, planned): the `METHOD /api/...` pairs named above the "Planned" heading
    and under it (pages outside the API, such as /healthz, are not API routes)."""
    text = API_DOC.read_text(encoding="utf-8")
    assert text.count(PLANNED) == 1, f"docs/api.md needs one '{PLANNED}' heading"
    available, planned = text.split(PLANNED)
    return set(DOCUMENTED.findall(available)), set(DOCUMENTED.findall(planned))


def shape(path: str) -> str:
    """A path with its parameters' names left out, to compare planned and built paths."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_api_route_and_method_is_in_the_api_doc():
    available, _ = documented()
    missing = sorted(routes() - available)
    assert not missing, f"Document these in docs/api.md (above '{PLANNED}'): {missing}"


def test_the_api_doc_presents_nothing_as_available_that_the_code_lacks():
    available, _ = documented()
    invented = sorted(available - routes())
    assert not invented, f"docs/api.md lists these, but nuzzle/api_urls.py has not: {invented}"


def test_nothing_built_is_still_listed_as_planned():
    _, planned = documented()
    built = {(method, shape(path)) for method, path in routes()}
    done = sorted(pair for pair in planned if (pair[0], shape(pair[1])) in built)
    assert not done, f"Built already: move these out of '{PLANNED}' in docs/api.md: {done}"


def anchors(document: Path) -> set[str]:
    """The anchors GitHub gives a Markdown document's headings: lower case, punctuation
    dropped, spaces as hyphens, "-1", "-2"... after repeats. Code blocks have none."""
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    seen: Counter[str] = Counter()
    found = set()
    for heading in HEADING.findall(text):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return found


def test_the_anchors_are_the_ones_github_makes():
    assert {"planned-not-yet-implemented", "conventions"} <= anchors(API_DOC)


@pytest.mark.parametrize("name", MARKDOWN)
def test_relative_links_lead_to_files_and_headings_in_the_repository(name):
    document = REPO / name
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    for markdown, image in LINK.findall(text):
        link = markdown or image
        if re.match(r"^[a-z]+:", link):
            continue  # a web address
        target, _, anchor = link.partition("#")
        resolved = (document.parent / target).resolve() if target else document
        assert resolved.is_relative_to(REPO), f"{name}: {link} points outside the repository"
        assert resolved.exists(), f"{name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{name}: {link} names no heading there"


def test_the_readme_and_contributing_link_every_document_in_docs():
    for name in ("README.md", "CONTRIBUTING.md"):
        text = (REPO / name).read_text(encoding="utf-8")
        for document in sorted(DOCS.glob("*.md")):
            assert f"(docs/{document.name})" in text, f"{name} does not link docs/{document.name}"


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [REPO / name for name in listed.decode().split("\0") if name]


def test_no_tracked_file_points_at_design_documents_outside_the_repository():
    """Everything cites docs/product.md, docs/architecture.md, docs/reliability.md and
    docs/api.md, never the old upper-case names or the folder they came from."""
    stale = []
    for path in tracked_files():
        if not path.is_file():
            continue  # deleted in the working tree, not yet committed
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if OLD_DOC_NAME.search(line) or OUTSIDE_FOLDER.search(line):
                stale.append(f"{path.relative_to(REPO)}:{number}")
    assert not stale, f"Point these at the documents in docs/: {stale}"


def test_the_readme_says_how_to_choose_the_port_and_create_a_postgresql_database():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make run PORT=" in readme
    assert "HOST=" in readme
    assert "createdb" in readme
    assert "docs/api.md" in readme
