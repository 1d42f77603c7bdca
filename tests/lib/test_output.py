"""One JSON output shape, written once (nuzzle.lib.api.Output): the serializer that
documents it and the plain payload it renders have the same keys, in the same order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rest_framework import serializers

from nuzzle.lib.api import Output


@dataclass
class Author:
    name: str


@dataclass
class Note:
    id: int
    day: date
    author: Author
    text: str


NOTE = Note(id=7, day=date(2026, 5, 1), author=Author(name="Robin"), text="Tea")

AUTHOR_OUTPUT = Output[Author, None](
    "AuthorOutputSerializer",
    name=(serializers.CharField(), "name"),
)
NOTE_OUTPUT = Output[Note, str](
    "NoteApi.OutputSerializer",
    id=(serializers.IntegerField(), "id"),
    day=(serializers.DateField(), lambda note, _: note.day.isoformat()),
    author_name=(serializers.CharField(), "author.name"),
    author=(AUTHOR_OUTPUT.serializer(), lambda note, _: AUTHOR_OUTPUT.render(note.author, None)),
    whose=(
        serializers.ChoiceField(choices=["mine", "theirs"]),
        lambda note, asker: "mine" if note.author.name == asker else "theirs",
    ),
    text=(serializers.CharField(), "text"),
)
KEYS = ["id", "day", "author_name", "author", "whose", "text"]


def test_the_serializer_has_every_field_in_the_order_given():
    assert list(NOTE_OUTPUT.serializer().fields) == KEYS
    fields = NOTE_OUTPUT.serializer().fields
    assert isinstance(fields["id"], serializers.IntegerField)
    assert isinstance(fields["day"], serializers.DateField)
    assert isinstance(fields["author"], AUTHOR_OUTPUT.serializer)


def test_the_serializer_is_named_as_given_for_the_schema():
    assert NOTE_OUTPUT.serializer.__name__ == "OutputSerializer"
    assert NOTE_OUTPUT.serializer.__qualname__ == "NoteApi.OutputSerializer"
    assert AUTHOR_OUTPUT.serializer.__name__ == "AuthorOutputSerializer"
    assert issubclass(NOTE_OUTPUT.serializer, serializers.Serializer)


def test_render_gives_the_same_keys_in_the_same_order():
    assert list(NOTE_OUTPUT.render(NOTE, "Robin")) == KEYS


def test_attribute_paths_are_read_as_they_are_and_functions_get_the_context():
    assert NOTE_OUTPUT.render(NOTE, "Robin") == {
        "id": 7,
        "day": "2026-05-01",
        "author_name": "Robin",
        "author": {"name": "Robin"},
        "whose": "mine",
        "text": "Tea",
    }
    assert NOTE_OUTPUT.render(NOTE, "Sam")["whose"] == "theirs"
    # A path's value is used as it is, not formatted: a date stays a date.
    as_is = Output[Note, None]("AsIsSerializer", day=(serializers.DateField(), "day"))
    assert as_is.render(NOTE, None) == {"day": date(2026, 5, 1)}


def test_render_all_renders_each_in_order_with_one_context():
    other = Note(id=8, day=date(2026, 5, 2), author=Author(name="Sam"), text="Coffee")
    rendered = NOTE_OUTPUT.render_all([NOTE, other], "Sam")
    assert [(note["id"], note["whose"]) for note in rendered] == [(7, "theirs"), (8, "mine")]
    assert NOTE_OUTPUT.render_all([], "Sam") == []


def test_the_serializer_formats_a_rendered_payload_to_the_same_json():
    payload = NOTE_OUTPUT.render(NOTE, "Robin")
    data = NOTE_OUTPUT.serializer(payload).data
    assert list(data) == KEYS
    assert dict(data) == payload


def test_a_key_may_be_called_name():
    named = Output[Author, None]("NamedSerializer", name=(serializers.CharField(), "name"))
    assert list(named.serializer().fields) == ["name"]
    assert named.render(Author(name="Kit"), None) == {"name": "Kit"}
