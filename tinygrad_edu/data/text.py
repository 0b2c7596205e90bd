"""Text corpora for the language lecture (notebook 15), both offline: one in Russian, one in English.

    from tinygrad_edu.data import load_corpus
    text = load_corpus("ru")                 # about 3,600 words of Russian prose, about 22,000 characters
    chars = sorted(set(text))                # a character vocabulary
    words = text.lower().split()             # or a (crude) word one

"ru" is corpus_ru.txt, beside this file: short essays (the seasons, cities on rivers, science, a
forest, a family's week) and two fairy tales, written for this project and under its MIT licence,
as the file's first line says (that line is not part of the text). "en" is the help text of
Python's own `help()` (the module pydoc_data.topics, in every Python install): its topics joined
in alphabetical order, about 450,000 characters of technical English whose exact content changes a
little from one Python version to the next.
"""
from __future__ import annotations

from importlib import resources

from .. import arguments

CORPORA = ("ru", "en")


def load_corpus(language: str = "ru") -> str:
    """The text of one corpus as a str: "ru" (the project's Russian prose) or "en" (Python's help text).

    Paragraphs are separated by blank lines. The Russian file's licence line, which starts with "#",
    is left out; nothing else is changed (no lower-casing, no tokenisation)."""
    arguments.choice(language, CORPORA, "language", "load_corpus")
    if language == "ru":
        raw = resources.files(__package__).joinpath("corpus_ru.txt").read_text(encoding="utf-8")
        lines = [line for line in raw.splitlines() if not line.startswith("#")]
        return "\n".join(lines).strip() + "\n"
    from pydoc_data.topics import topics
    return "\n\n".join(topics[name].strip() for name in sorted(topics)) + "\n"
