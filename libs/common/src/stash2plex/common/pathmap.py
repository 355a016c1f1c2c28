r"""Translate file paths between Stash and Plex, which often see one file under different names.

A :class:`PathRule` is a regular expression anchored at the start of a Stash path plus a template
for the Plex path (``\1``, ``\g<1>``, ``\g<name>`` name the groups). The part of the path after the
match is kept, so ``^/data/`` → ``/media/`` is a plain prefix swap. Rules are tried in order and the
first whose result is not empty wins; a path no rule matches is used unchanged.

Templates follow Python's ``re`` syntax but are stricter: a backslash must start ``\\`` (a literal
backslash), ``\<digits>`` or ``\g<…>``; anything else is an error rather than a silent surprise.

**Reverse direction.** ``plex_pattern`` + ``stash_template`` map Plex paths back. Left out, they are
derived when the rule is a literal prefix optionally followed by one catch-all group (``(.*)``,
``(.+)``, ``(?P<name>.*)``, optionally ``$``) and the template is a literal prefix optionally
followed by a reference to that group. Otherwise ``to_stash`` skips the rule and ``explain`` says why.

**Separators.** With ``plex_separator`` set (``/`` or ``\``, also spelt ``posix`` or ``windows``),
the whole Plex result uses it: every ``/`` and ``\`` becomes that separator, so a template may be
written with ``/`` even for a Windows Plex. The Stash side works alike with ``stash_separator``;
when only ``plex_separator`` is given, the Stash side's separator is the first ``/`` or ``\``
written in the Stash pattern, else the other one. A derived reverse pattern accepts either
separator wherever the Plex prefix has one.

**Case.** ``case_sensitive=False`` makes both patterns ignore case, and :class:`MappedPath` then says
that comparisons with the result must ignore case too (see :meth:`PathMapper.key`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Separator = Literal["/", "\\"]
Direction = Literal["to_plex", "to_stash"]

_OTHER: dict[str, Separator] = {"/": "\\", "\\": "/"}
_SEPARATOR_NAMES: dict[str, Separator] = {"windows": "\\", "posix": "/"}
_REGEX_METACHARACTERS = frozenset(".^$*+?{}[]|()")
_CATCH_ALL_TAIL = re.compile(r"(?:\((?:\?P<(?P<name>[A-Za-z_]\w*)>)?\.(?P<quantifier>[*+])\))?(?:\$|\\Z)?")


class PathRule(BaseModel):
    """One mapping rule as configured; validated when a :class:`PathMapper` is built from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stash: str = Field(description="Regex matched at the start of a Stash path, with capture groups.")
    plex: str = Field(description=r"Plex path template; \1, \g<1>, \g<name> insert the groups of `stash`.")
    plex_pattern: str | None = Field(
        default=None, description="Regex matched at the start of a Plex path (reverse direction); derived if unset."
    )
    stash_template: str | None = Field(
        default=None, description="Stash path template for the reverse direction; derived if unset."
    )
    case_sensitive: bool = Field(default=True, description="False: patterns ignore case (e.g. a Windows Plex).")
    plex_separator: Separator | None = Field(
        default=None, description="Path separator of the Plex side; unset: keep separators as they are."
    )
    stash_separator: Separator | None = Field(
        default=None, description="Path separator of the Stash side; unset: inferred when plex_separator is set."
    )

    @field_validator("plex_separator", "stash_separator", mode="before")
    @classmethod
    def _separator_by_name(cls, value: object) -> object:
        """``"windows"``/``"posix"`` spare users a backslash escaped once for JSON and again for the shell."""
        return _SEPARATOR_NAMES.get(value.lower(), value) if isinstance(value, str) else value


class MappedPath(BaseModel):
    """A path translated to the other side, and the rule that did it."""

    path: str = Field(description="The mapped path (the input itself when no rule matched).")
    rule: int | None = Field(description="0-based index of the rule that mapped it; None: no rule matched.")
    case_sensitive: bool = Field(description="Whether comparisons with this path must respect case.")


class AttemptOutcome(StrEnum):
    MATCHED = "matched"
    NO_MATCH = "no_match"
    EMPTY_RESULT = "empty_result"
    NO_REVERSE = "no_reverse"
    NOT_TRIED = "not_tried"


class RuleAttempt(BaseModel):
    """What one rule did with the path, for ``stash2plex paths test``."""

    rule_number: int = Field(description="1-based, as in error messages.")
    pattern: str | None = Field(description="The pattern used in this direction; None when there is none.")
    template: str | None = Field(description="The template used in this direction.")
    derived: bool = Field(description="Whether pattern and template were derived from the forward rule.")
    outcome: AttemptOutcome
    detail: str = Field(description="Why the rule did or did not map the path.")
    result: str | None = Field(default=None, description="The mapped path when the rule matched.")


class PathExplanation(BaseModel):
    """The whole story of one mapping: every rule tried in order, and the result."""

    input: str
    direction: Direction
    path: str = Field(description="The result (the input when no rule matched).")
    mapped: bool = Field(description="Whether a rule mapped the path.")
    rule_number: int | None = Field(description="1-based number of the rule that mapped it.")
    pattern: str | None = Field(description="Pattern of that rule in this direction.")
    template: str | None = Field(description="Template of that rule in this direction.")
    case_sensitive: bool
    attempts: list[RuleAttempt]


class PathRuleError(ValueError):
    """A rule that cannot work; the message names the rule's number and pattern and the reason."""

    def __init__(self, number: int, rule: PathRule, reason: str) -> None:
        super().__init__(f"rule {number} ({rule.stash!r}): {reason}")
        self.number = number
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Template:
    """A parsed template: literals[0] group[0] literals[1] … literals[-1]."""

    text: str
    literals: tuple[str, ...]
    groups: tuple[int | str, ...]

    def expand(self, match: re.Match[str]) -> str:
        if not self.groups:
            return self.literals[0]
        if len(self.groups) == 1:  # the usual prefix + catch-all rule, without building a list
            return self.literals[0] + (match.group(self.groups[0]) or "") + self.literals[1]
        out = [self.literals[0]]
        for group, literal in zip(self.groups, self.literals[1:], strict=True):
            out.append(match.group(group) or "")
            out.append(literal)
        return "".join(out)


def _parse_template(text: str, pattern: re.Pattern[str], what: str) -> _Template:
    """Parse ``text`` and check each group it names exists in ``pattern``; ValueError says what is wrong."""
    literals: list[str] = []
    groups: list[int | str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            current.append(char)
            i += 1
            continue
        following = text[i + 1 : i + 2]
        if following == "\\":
            current.append("\\")
            i += 2
            continue
        if following == "g":
            end = text.find(">", i)
            if text[i + 2 : i + 3] != "<" or end < 0:
                raise ValueError(f"{what}: \\g at position {i} must be written \\g<name> or \\g<number>")
            name = text[i + 3 : end]
            group: int | str = int(name) if name.isdigit() else name
            i = end + 1
        elif following.isdigit() and following != "0":
            digits = following + (text[i + 2] if text[i + 2 : i + 3].isdigit() else "")
            group = int(digits)
            i += 1 + len(digits)
        else:
            shown = "\\" + following if following else "a lone \\ at the end"
            raise ValueError(
                f"{what}: bad escape {shown} at position {i}; write a literal backslash as \\\\ "
                "(or write / and set the side's separator)"
            )
        if isinstance(group, int) and group > pattern.groups:
            raise ValueError(f"{what}: refers to group {group}, but the pattern has {pattern.groups} group(s)")
        if isinstance(group, str) and group not in pattern.groupindex:
            known = ", ".join(sorted(pattern.groupindex)) or "none"
            raise ValueError(f"{what}: refers to group {group!r}, which the pattern does not name (named: {known})")
        literals.append("".join(current))
        groups.append(group)
        current = []
    literals.append("".join(current))
    if not groups and not literals[0]:
        raise ValueError(f"{what} is empty: every matching path would map to an empty path")
    return _Template(text=text, literals=tuple(literals), groups=tuple(groups))


def _compile(pattern: str, case_sensitive: bool, what: str) -> re.Pattern[str]:
    if pattern.strip() in ("", "^", "\\A"):
        raise ValueError(f"{what} is empty: it would match every path")
    try:
        return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"{what} does not compile: {error}") from None


def _literal_prefix(pattern: str) -> tuple[str, str] | None:
    """Split ``pattern`` into the literal text it starts with (after ``^``) and the rest; None if not literal."""
    i = 1 if pattern.startswith("^") else 2 if pattern.startswith("\\A") else 0
    literal: list[str] = []
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escaped = pattern[i + 1 : i + 2]
            if not escaped or (escaped.isascii() and escaped.isalnum()):
                return None  # \d, \w, a back-reference…: not literal text
            literal.append(escaped)
            i += 2
        elif char in _REGEX_METACHARACTERS:
            break
        else:
            literal.append(char)
            i += 1
    return "".join(literal), pattern[i:]


def _first_separator(pattern: str) -> Separator | None:
    """The first path separator written in a pattern's text (``\\\\`` counts as a backslash)."""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "/":
            return "/"
        if char == "\\":
            if pattern[i + 1 : i + 2] in ("\\", "/"):
                return "\\" if pattern[i + 1] == "\\" else "/"
            i += 2
            continue
        i += 1
    return None


def _convert(path: str, separator: Separator | None) -> str:
    return path if separator is None else path.replace(_OTHER[separator], separator)


def _flexible_separators(literal: str) -> str:
    return "".join("[/\\\\]" if char in "/\\" else re.escape(char) for char in literal)


@dataclass(frozen=True, slots=True)
class _Direction:
    """One direction of one rule, compiled."""

    pattern: re.Pattern[str]
    template: _Template
    separator: Separator | None
    derived: bool

    def apply(self, path: str) -> str | None:
        """The mapped path, "" when the rule would produce an empty path, None when it does not match."""
        match = self.pattern.match(path)
        if match is None:
            return None
        return _convert(self.template.expand(match) + path[match.end() :], self.separator)


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: PathRule
    forward: _Direction
    reverse: _Direction | None
    no_reverse_reason: str | None


def _derive_reverse(
    rule: PathRule, forward: _Template, stash_separator: Separator | None, plex_separator: Separator | None
) -> tuple[str, str] | str:
    """(plex_pattern, stash_template) for a literal-prefix rule, or the reason it cannot be derived."""
    give = "; give plex_pattern and stash_template"
    split = _literal_prefix(rule.stash)
    tail = _CATCH_ALL_TAIL.fullmatch(split[1]) if split else None
    if split is None or tail is None:
        return "the stash pattern is not a literal prefix followed by one catch-all group" + give
    stash_literal = split[0]
    has_group = tail.group("quantifier") is not None
    accepted: set[int | str] = {1, tail.group("name") or 1}
    if len(forward.groups) > 1:
        return "the plex template uses the captured group more than once" + give
    if forward.groups and forward.literals[-1]:
        return "the plex template has text after the group" + give
    if has_group and not forward.groups:
        return "the plex template drops the captured part, so a Plex path cannot be traced back" + give
    if forward.groups and forward.groups[0] not in accepted:
        return "the plex template does not end with the captured group" + give
    plex_literal = _convert(forward.literals[0], plex_separator)
    if not plex_literal:
        return "the plex template has no literal prefix to recognise Plex paths by" + give
    escaped_plex = _flexible_separators(plex_literal) if plex_separator else re.escape(plex_literal)
    group = f"(.{tail.group('quantifier')})" if has_group else ""
    stash_text = _convert(stash_literal, stash_separator).replace("\\", "\\\\")
    return "^" + escaped_plex + group, stash_text + ("\\1" if has_group else "")


def _compile_rule(number: int, rule: PathRule) -> _CompiledRule:
    plex_separator = rule.plex_separator
    stash_separator = rule.stash_separator
    if stash_separator is None and plex_separator is not None:
        stash_separator = _first_separator(rule.stash) or _OTHER[plex_separator]
    try:
        stash_pattern = _compile(rule.stash, rule.case_sensitive, "stash pattern")
        forward = _Direction(
            stash_pattern, _parse_template(rule.plex, stash_pattern, "plex template"), plex_separator, False
        )
        if (rule.plex_pattern is None) != (rule.stash_template is None):
            raise ValueError("plex_pattern and stash_template go together: give both or neither")
        reverse: _Direction | None = None
        reason: str | None = None
        if rule.plex_pattern is not None and rule.stash_template is not None:
            plex_pattern = _compile(rule.plex_pattern, rule.case_sensitive, "plex_pattern")
            template = _parse_template(rule.stash_template, plex_pattern, "stash_template")
            reverse = _Direction(plex_pattern, template, stash_separator, False)
        else:
            derived = _derive_reverse(rule, forward.template, stash_separator, plex_separator)
            if isinstance(derived, str):
                reason = derived
            else:
                plex_pattern = _compile(derived[0], rule.case_sensitive, "derived plex pattern")
                template = _parse_template(derived[1], plex_pattern, "derived stash template")
                reverse = _Direction(plex_pattern, template, stash_separator, True)
    except ValueError as error:
        raise PathRuleError(number, rule, str(error)) from None
    return _CompiledRule(rule, forward, reverse, reason)


class PathMapper:
    """Maps paths both ways with rules compiled once; each mapping is a few regex matches at most."""

    def __init__(self, rules: Sequence[PathRule] = ()) -> None:
        self.rules: tuple[PathRule, ...] = tuple(rules)
        self._compiled = [_compile_rule(number, rule) for number, rule in enumerate(self.rules, start=1)]
        self._forward = [(index, c.forward, c.rule.case_sensitive) for index, c in enumerate(self._compiled)]
        self._reverse = [
            (index, c.reverse, c.rule.case_sensitive) for index, c in enumerate(self._compiled) if c.reverse
        ]

    def to_plex(self, stash_path: str) -> MappedPath:
        """The path Plex knows ``stash_path`` by: the first rule that maps it to a non-empty path wins."""
        return self._map(stash_path, self._forward)

    def to_stash(self, plex_path: str) -> MappedPath:
        """The path Stash knows ``plex_path`` by (rules without a reverse direction are skipped)."""
        return self._map(plex_path, self._reverse)

    @staticmethod
    def _map(path: str, directions: list[tuple[int, _Direction, bool]]) -> MappedPath:
        for index, direction, case_sensitive in directions:
            result = direction.apply(path)
            if result:
                return MappedPath(path=result, rule=index, case_sensitive=case_sensitive)
        return MappedPath(path=path, rule=None, case_sensitive=True)

    def explain(self, path: str, *, direction: Direction = "to_plex") -> PathExplanation:
        """Every rule tried on ``path`` in order, whether it matched and why not, and the result."""
        attempts: list[RuleAttempt] = []
        winner: tuple[int, _CompiledRule, _Direction, str] | None = None
        for number, compiled in enumerate(self._compiled, start=1):
            way = compiled.forward if direction == "to_plex" else compiled.reverse
            if way is None:
                attempts.append(self._attempt(number, None, AttemptOutcome.NO_REVERSE, str(compiled.no_reverse_reason)))
                continue
            if winner is not None:
                detail = f"rule {winner[0]} matched first"
                attempts.append(self._attempt(number, way, AttemptOutcome.NOT_TRIED, detail))
                continue
            result = way.apply(path)
            if result is None:
                attempts.append(self._attempt(number, way, AttemptOutcome.NO_MATCH, self._why_not(way, path)))
            elif not result:
                detail = "matched, but the result would be an empty path; trying the next rule"
                attempts.append(self._attempt(number, way, AttemptOutcome.EMPTY_RESULT, detail))
            else:
                attempts.append(self._attempt(number, way, AttemptOutcome.MATCHED, "matched", result))
                winner = (number, compiled, way, result)
        if winner is None:
            return PathExplanation(
                input=path, direction=direction, path=path, mapped=False, rule_number=None, pattern=None,
                template=None, case_sensitive=True, attempts=attempts,
            )  # fmt: skip
        number, compiled, way, result = winner
        return PathExplanation(
            input=path, direction=direction, path=result, mapped=True, rule_number=number,
            pattern=way.pattern.pattern, template=way.template.text, case_sensitive=compiled.rule.case_sensitive,
            attempts=attempts,
        )  # fmt: skip

    @staticmethod
    def _attempt(
        number: int, way: _Direction | None, outcome: AttemptOutcome, detail: str, result: str | None = None
    ) -> RuleAttempt:
        return RuleAttempt(
            rule_number=number,
            pattern=way.pattern.pattern if way else None,
            template=way.template.text if way else None,
            derived=way.derived if way else False,
            outcome=outcome,
            detail=detail,
            result=result,
        )

    @staticmethod
    def _why_not(way: _Direction, path: str) -> str:
        detail = "the pattern does not match the start of the path"
        if not way.pattern.flags & re.IGNORECASE and re.match(way.pattern.pattern, path, re.IGNORECASE):
            detail += " (it would ignoring case: set case_sensitive to false)"
        return detail

    @staticmethod
    def key(path: str, *, case_sensitive: bool = True) -> str:
        r"""A dictionary key under which equal paths meet.

        Always: Unicode NFC, so a name stored decomposed (macOS) meets its composed twin. When
        ``case_sensitive`` is False (a Windows side): every ``\`` becomes ``/`` and the text is
        casefolded (then NFC again), so ``D:\A\b.mp4`` and ``d:/a/B.MP4`` share a key. When case
        matters, separators are left alone: on POSIX ``\`` is an ordinary character of a name.
        """
        key = path if path.isascii() else unicodedata.normalize("NFC", path)
        if case_sensitive:
            return key
        key = key.replace("\\", "/").casefold()
        return key if key.isascii() else unicodedata.normalize("NFC", key)
