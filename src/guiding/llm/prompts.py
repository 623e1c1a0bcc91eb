"""Prompt templates: versioned text files in ``templates/``, rendered into chat messages.

A template file ``<name>.v<version>.txt`` holds a ``[system]`` and a ``[user]`` part with
``{{field}}`` placeholders. Its name and version ("solve/v1") travel in ``ChatRequest.template``, so
editing a template means a new version and new cache keys, never a stale answer to an old wording.

``identify`` is the inverse of ``render``: it finds the template and the field values that wrote a
message list. A simulated model uses it to read a prompt exactly as a real model reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

TEMPLATES = (
    "decompose",
    "solve",
    "judge_final",
    "judge_steps",
    "filter_ill_defined",
    "filter_too_few_steps",
    "filter_near_duplicate",
    "rewrite",
    "paraphrase",
    "convert_open",
    "translate",
)
DEFAULT_VERSION = 1
_PART = re.compile(r"^\[(system|user)\]\n", re.MULTILINE)
_FIELD = re.compile(r"\{\{(\w+)\}\}")
# Fields that hold a whole number: read back as digits, so that neighbouring fields stay apart.
NUMBER_FIELDS = ("parts", "min_words", "max_words")


@dataclass(frozen=True)
class Template:
    """One version of one prompt."""

    name: str
    """What the prompt asks for (one of TEMPLATES)."""
    version: int
    """Bumped whenever the wording changes."""
    parts: tuple[tuple[str, str], ...]
    """(role, text with ``{{field}}`` placeholders) pairs, in message order."""

    @property
    def label(self) -> str:
        """What ``ChatRequest.template`` holds: "solve/v1"."""
        return f"{self.name}/v{self.version}"

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for _, text in self.parts for f in _FIELD.findall(text)))

    def render(self, **values) -> list[dict[str, str]]:
        """OpenAI-style messages with every placeholder filled; a missing or unknown field raises."""
        wanted, given = set(self.fields), set(values)
        if wanted != given:
            raise ValueError(f"template {self.label}: fields {sorted(wanted)}, got {sorted(given)}")
        return [{"role": role, "content": _FIELD.sub(lambda m: str(values[m[1]]), text)} for role, text in self.parts]

    @cache  # noqa: B019  templates are few and live as long as the process
    def _patterns(self) -> tuple[re.Pattern, ...]:
        patterns = []
        for _, text in self.parts:
            seen: set[str] = set()
            pieces = []
            for piece in re.split(r"(\{\{\w+\}\})", text):
                m = _FIELD.fullmatch(piece)
                if not m:
                    pieces.append(re.escape(piece))
                elif m[1] in seen:
                    pieces.append(f"(?P={m[1]})")
                else:
                    seen.add(m[1])
                    pieces.append(f"(?P<{m[1]}>\\d+)" if m[1] in NUMBER_FIELDS else f"(?P<{m[1]}>.*?)")
            patterns.append(re.compile("".join(pieces), re.DOTALL))
        return tuple(patterns)

    def match(self, messages: list[tuple[str, str]]) -> dict[str, str] | None:
        """The field values that rendered ``messages`` with this template, or None."""
        if [role for role, _ in messages] != [role for role, _ in self.parts]:
            return None
        values: dict[str, str] = {}
        for pattern, (_, content) in zip(self._patterns(), messages):
            m = pattern.fullmatch(content)
            if not m:
                return None
            values.update(m.groupdict())
        return values


@cache
def load(name: str, version: int = DEFAULT_VERSION) -> Template:
    """Template ``name`` at ``version`` from the package's ``templates/`` folder."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown prompt template {name!r} (known: {TEMPLATES})")
    text = resources.files(__package__).joinpath("templates", f"{name}.v{version}.txt").read_text(encoding="utf-8")
    chunks = _PART.split(text)
    if chunks[0].strip() or len(chunks) < 3:
        raise ValueError(f"template {name}.v{version}: expected [system] and/or [user] parts")
    parts = tuple((role, body.rstrip("\n")) for role, body in zip(chunks[1::2], chunks[2::2]))
    return Template(name, version, parts)


def identify(messages: list[tuple[str, str]], version: int = DEFAULT_VERSION) -> tuple[Template, dict[str, str]]:
    """The template that wrote ``messages`` and its field values; raises ValueError for any other prompt."""
    for name in TEMPLATES:
        template = load(name, version)
        values = template.match(messages)
        if values is not None:
            return template, values
    raise ValueError("the prompt matches no known template")


def length_hint(reference: str, low: float = 0.5, high: float = 1.5) -> dict[str, int]:
    """The solve prompt's length hint: between ``low`` and ``high`` times the reference's words."""
    words = len(reference.split())
    return {"min_words": max(1, round(low * words)), "max_words": max(1, round(high * words))}
