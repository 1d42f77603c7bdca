import pytest

from prompts.services import prompt_bank_load


@pytest.fixture(autouse=True)
def _prompt_bank(db):
    prompt_bank_load()
