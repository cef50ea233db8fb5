"""The one path for outside text to the screen: no markup, no terminal controls; and top tokens that
stop partway through a character, shown as the characters they can begin."""

import pytest
from rich.text import Text
from textual.content import Content

from probe_tui.widgets.text import printable, safe_cell, safe_markup, safe_text, token_text


@pytest.mark.parametrize("raw", ["pip install 'probe-tui[gemma]'", "sorted by E[x]", "[Gemma] [bold]b[/bold] [$v] [@click=x]"])
def test_brackets_survive_every_kind_of_markup(raw):
    assert safe_text(raw).plain == raw
    assert Content.from_markup(safe_markup(raw)).plain == raw  # Textual's markup
    assert Text.from_markup(safe_cell(raw)).plain == raw  # Rich's markup (DataTable cells)


def test_control_characters_and_escape_sequences_are_removed():
    assert printable("a\x1b[31mb\x1b]0;title\x07c\x1b(Bd\x9b2Je\r\nf\x00\tg") == "abcde\nf\tg"


def test_a_token_that_ends_inside_a_character_shows_the_characters_it_can_begin():
    # SmolLM2's top tokens for a Chinese prompt: alternatives, each the first bytes of a character
    assert token_text("<e4 bd>") == "'⟨佀–使⟩'"  # U+4F40..U+4F7F: 你, 作, 使...
    assert token_text("<e9 80>") == "'⟨退–逿⟩'"
    assert token_text("<61 e4>") == "'a⟨䀀–俿⟩'"
    assert token_text("<bd a0>") == "'<bd a0>'"  # begins no character: shown as it came
    assert token_text("以") == "'以'" and token_text(" 1") == "' 1'" and token_text("\x1b") == "'\\x1b'"


def test_a_right_to_left_override_is_shown_as_its_code():
    assert printable("a\u202eb\u2066c\u2069d\u200fe") == "a\\u202eb\\u2066c\\u2069d\u200fe"  # marks stay
    assert safe_text("x\u202e[b]").plain == "x\\u202e[b]"
    assert Content.from_markup(safe_markup("x\u202e[b]")).plain == "x\\u202e[b]"
    assert Text.from_markup(safe_cell("x\u202e[b]")).plain == "x\\u202e[b]"
