"""The documentation stays true to the code: docs/api.md lists every API route and method
(and nothing as available that the code does not have), and the READMEs' links lead to
files in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver

from nuzzle import api_urls

REPO = Path(__file__).resolve().parent.parent
API_DOC = REPO / "docs" / "api.md"
PLANNED = "## Planned (not yet implemented)"
METHODS = ("get", "post", "put", "patch", "delete")
DOCUMENTED = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/[^`\s]*)`")
# Markdown links and images: [text](target) and ![alt](target); <img src="target">.
LINK = re.compile(r"\]\(([^)\s]+)\)|<img[^>]* src=\"([^\"]+)\"")


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


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md", "docs/api.md"])
def test_relative_links_lead_to_files_in_the_repository(name):
    document = REPO / name
    for markdown, image in LINK.findall(document.read_text(encoding="utf-8")):
        target = (markdown or image).split("#")[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue  # a link within the page, or to a web address
        resolved = (document.parent / target).resolve()
        assert resolved.is_relative_to(REPO), f"{name}: {target} points outside the repository"
        assert resolved.exists(), f"{name}: {target} does not exist"


def test_the_readme_says_how_to_choose_the_port_and_create_a_postgresql_database():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make run PORT=" in readme
    assert "HOST=" in readme
    assert "createdb" in readme
    assert "docs/api.md" in readme
