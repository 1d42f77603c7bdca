"""The prompt bank's changelist on a laptop (1280 × 800, Debian Chromium): with the whole
bundled bank and the filters beside it, no column is cut off and the text is readable."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from nuzzle.couples.models import User

pytestmark = pytest.mark.browser

PASSWORD = "a long walk on a windy beach"

# Each header's box, and the box the table scrolls in.
COLUMNS = """() => {
  const table = document.querySelector('#result_list');
  const box = table.parentElement;
  const edge = box.getBoundingClientRect().right;
  const columns = {};
  for (const th of table.querySelectorAll('thead th')) {
    const rect = th.getBoundingClientRect();
    columns[th.className.split(' ').find(c => c.startsWith('column-')) || 'checkbox'] =
      {width: rect.width, right: rect.right};
  }
  return {edge, scrolls: box.scrollWidth > box.clientWidth, columns};
}"""


def test_the_prompt_list_fits_a_laptop_screen_with_a_readable_text_column(
    person, transactional_db, browser_errors
):
    call_command("prompts_load", verbosity=0)
    # An operator: Django would show them its app list beside the table.
    User.objects.create_superuser("operator@example.com", PASSWORD)
    page = person()
    page.goto("/admin/login/")
    page.get_by_label("Email address").fill("operator@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/admin/prompts/prompt/")
    layout = page.evaluate(COLUMNS)

    assert not layout["scrolls"], layout
    assert not page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    for name, column in layout["columns"].items():
        assert column["right"] <= layout["edge"] + 1, (name, layout)
    assert "column-kind" in layout["columns"] or "column-classification" in layout["columns"]
    assert layout["columns"]["column-short_text"]["width"] >= 300, layout
    assert browser_errors == [], "\n".join(browser_errors)
