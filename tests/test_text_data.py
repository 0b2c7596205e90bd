"""tinygrad_edu.data.load_corpus: the two offline texts of the language lecture (notebook 15).

"ru" is the project's own Russian prose (tinygrad_edu/data/corpus_ru.txt, shipped as package
data), "en" Python's help text (pydoc_data.topics). Neither touches the network.
"""
import re
from importlib import resources

import pytest

from tinygrad_edu.data import load_corpus

pytestmark = [pytest.mark.lecture_nlp]


def test_russian_corpus_is_a_few_thousand_words_of_russian():
    text = load_corpus("ru")
    words = re.findall(r"[а-яё]+", text.lower())
    assert 3000 <= len(words) <= 10000
    assert len(re.findall(r"[А-Яа-яЁё]", text)) > 0.7 * len(re.findall(r"\S", text))


def test_russian_corpus_leaves_out_its_licence_line():
    raw = resources.files("tinygrad_edu.data").joinpath("corpus_ru.txt").read_text(encoding="utf-8")
    first = raw.splitlines()[0]
    assert first.startswith("#") and "MIT" in first
    assert "MIT" not in load_corpus("ru") and not load_corpus("ru").startswith("#")


def test_the_default_corpus_is_the_russian_one():
    assert load_corpus() == load_corpus("ru")


def test_russian_corpus_is_the_same_text_every_time():
    # the notebook's vocabulary, and so its numbers, depend on the exact characters
    text = load_corpus("ru")
    assert text == load_corpus("ru")
    assert text.startswith("Четыре времени года") and text.endswith("\n") and not text.endswith("\n\n")


def test_english_corpus_is_pythons_help_text():
    from pydoc_data.topics import topics
    text = load_corpus("en")
    assert len(text) > 100_000
    assert topics["if"].strip() in text
    assert len(re.findall(r"[A-Za-z]", text)) > 0.7 * len(re.findall(r"\S", text))


def test_an_unknown_corpus_names_the_ones_there_are():
    with pytest.raises(ValueError, match=r"load_corpus: language must be 'ru' or 'en', got 'de'"):
        load_corpus("de")
