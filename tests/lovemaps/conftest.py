import pytest

from prompts.models import Prompt
from prompts.services import prompt_bank_load


@pytest.fixture(autouse=True)
def _bank(db):
    prompt_bank_load()


@pytest.fixture
def topics():
    return list(Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status="published").order_by("id"))
