"""Path mapping between Stash and Plex: both directions, separators, case, rule order and bad rules."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

import pytest
from pydantic import ValidationError

from stash2plex.common.pathmap import AttemptOutcome, PathMapper, PathRule, PathRuleError

LINUX_STASH_WINDOWS_PLEX = PathRule(
    stash=r"^/data/videos/(.*)$", plex="D:\\\\Media\\\\\\1", plex_separator="\\", case_sensitive=False
)


def mapper(*rules: dict[str, Any]) -> PathMapper:
    return PathMapper([PathRule(**rule) for rule in rules])


def test_without_rules_every_path_is_used_unchanged() -> None:
    result = PathMapper().to_plex("/data/a.mp4")
    assert (result.path, result.rule, result.case_sensitive) == ("/data/a.mp4", None, True)
    assert PathMapper().to_stash("D:\\a.mp4").path == "D:\\a.mp4"


def test_linux_stash_to_windows_plex_and_back() -> None:
    paths = PathMapper([LINUX_STASH_WINDOWS_PLEX])
    to_plex = paths.to_plex("/data/videos/Studio A/2021/scene.mp4")
    assert to_plex.path == "D:\\Media\\Studio A\\2021\\scene.mp4"
    assert (to_plex.rule, to_plex.case_sensitive) == (0, False)
    back = paths.to_stash("D:\\Media\\Studio A\\2021\\scene.mp4")
    assert back.path == "/data/videos/Studio A/2021/scene.mp4"
    assert back.rule == 0


def test_windows_plex_paths_are_recognised_with_either_separator_and_any_case() -> None:
    paths = PathMapper([LINUX_STASH_WINDOWS_PLEX])
    assert paths.to_stash("d:/media/Studio/x.mp4").path == "/data/videos/Studio/x.mp4"
    assert paths.to_stash("D:\\MEDIA\\Studio\\x.mp4").path == "/data/videos/Studio/x.mp4"
    assert paths.to_plex("/DATA/Videos/x.mp4").path == "D:\\Media\\x.mp4"


def test_a_template_written_with_slashes_gets_the_plex_separator() -> None:
    paths = mapper({"stash": r"^/data/(.*)$", "plex": r"D:/Media/\1", "plex_separator": "\\"})
    assert paths.to_plex("/data/a/b.mp4").path == "D:\\Media\\a\\b.mp4"
    assert paths.to_stash("D:\\Media\\a\\b.mp4").path == "/data/a/b.mp4"


def test_windows_stash_to_linux_plex_and_back() -> None:
    paths = mapper({"stash": r"^C:\\Stash\\(.*)$", "plex": r"/media/\1", "plex_separator": "/"})
    assert paths.to_plex("C:\\Stash\\Studio\\scene.mkv").path == "/media/Studio/scene.mkv"
    assert paths.to_stash("/media/Studio/scene.mkv").path == "C:\\Stash\\Studio\\scene.mkv"


def test_separators_can_be_named_instead_of_escaped() -> None:
    assert PathRule(stash="^/a/", plex="D:/b/", plex_separator="Windows").plex_separator == "\\"
    assert PathRule(stash="^/a/", plex="/b/", stash_separator="posix").stash_separator == "/"
    with pytest.raises(ValidationError, match="plex_separator"):
        PathRule(stash="^/a/", plex="/b/", plex_separator="mac")


def test_separators_are_kept_as_they_are_when_none_is_configured() -> None:
    paths = mapper({"stash": r"^/data/(.*)$", "plex": r"/media/\1"})
    assert paths.to_plex("/data/odd\\name.mp4").path == "/media/odd\\name.mp4"


def test_an_explicit_stash_separator_wins_over_the_inferred_one() -> None:
    rule = {"stash": r"^C:/Stash/(.*)$", "plex": r"D:/Media/\1", "plex_separator": "\\"}
    inferred = mapper(rule)
    assert inferred.to_stash("D:\\Media\\a\\b.mp4").path == "C:/Stash/a/b.mp4"
    explicit = mapper({**rule, "stash_separator": "\\"})
    assert explicit.to_plex("C:/Stash/a/b.mp4").path == "D:\\Media\\a\\b.mp4"
    assert explicit.to_stash("D:\\Media\\a\\b.mp4").path == "C:\\Stash\\a\\b.mp4"


def test_named_and_numbered_groups() -> None:
    numbered = mapper({"stash": r"^/data/(.+)", "plex": r"/media/\g<1>"})
    named = mapper({"stash": r"^/data/(?P<rest>.*)$", "plex": r"/media/\g<rest>"})
    for paths in (numbered, named):
        assert paths.to_plex("/data/x/y.mp4").path == "/media/x/y.mp4"
        assert paths.to_stash("/media/x/y.mp4").path == "/data/x/y.mp4"


def test_groups_can_be_rearranged_and_the_reverse_given_explicitly() -> None:
    rule = {
        "stash": r"^/data/(?P<studio>[^/]+)/(?P<year>\d{4})/(.*)$",
        "plex": r"/plex/\g<year>/\g<studio>/\3",
    }
    one_way = mapper(rule)
    assert one_way.to_plex("/data/Acme/2020/a.mp4").path == "/plex/2020/Acme/a.mp4"
    assert one_way.to_stash("/plex/2020/Acme/a.mp4").rule is None  # cannot be derived: skipped
    both_ways = mapper({**rule, "plex_pattern": r"^/plex/(\d{4})/([^/]+)/(.*)$", "stash_template": r"/data/\2/\1/\3"})
    assert both_ways.to_stash("/plex/2020/Acme/a.mp4").path == "/data/Acme/2020/a.mp4"


def test_a_prefix_rule_without_groups_keeps_the_rest_and_reverses() -> None:
    paths = mapper({"stash": "^/mnt/stash/", "plex": "/srv/plex/"})
    assert paths.to_plex("/mnt/stash/a/b.mp4").path == "/srv/plex/a/b.mp4"
    assert paths.to_stash("/srv/plex/a/b.mp4").path == "/mnt/stash/a/b.mp4"


def test_regex_characters_in_a_derived_prefix_are_taken_literally() -> None:
    paths = mapper({"stash": r"^/data/Movies \(HD\)\.old/(.*)$", "plex": r"/media/Movies (HD)+[x]/\1"})
    assert paths.to_plex("/data/Movies (HD).old/a.mp4").path == "/media/Movies (HD)+[x]/a.mp4"
    assert paths.to_stash("/media/Movies (HD)+[x]/a.mp4").path == "/data/Movies (HD).old/a.mp4"
    assert paths.to_stash("/media/Movies (HD)+x/a.mp4").rule is None


def test_the_first_matching_rule_wins() -> None:
    paths = mapper(
        {"stash": r"^/data/vr/(.*)$", "plex": r"/plex/VR/\1"},
        {"stash": r"^/data/(.*)$", "plex": r"/plex/all/\1"},
    )
    assert (paths.to_plex("/data/vr/a.mp4").path, paths.to_plex("/data/vr/a.mp4").rule) == ("/plex/VR/a.mp4", 0)
    assert (paths.to_plex("/data/b.mp4").path, paths.to_plex("/data/b.mp4").rule) == ("/plex/all/b.mp4", 1)
    reversed_order = mapper(
        {"stash": r"^/data/(.*)$", "plex": r"/plex/all/\1"},
        {"stash": r"^/data/vr/(.*)$", "plex": r"/plex/VR/\1"},
    )
    assert reversed_order.to_plex("/data/vr/a.mp4").path == "/plex/all/vr/a.mp4"


def test_two_libraries_on_two_mounts() -> None:
    paths = mapper(
        {"stash": r"^/stash/movies/(.*)$", "plex": r"/plex/Movies/\1"},
        {"stash": r"^/stash/clips/(.*)$", "plex": r"/mnt/nas2/Clips/\1"},
    )
    assert paths.to_plex("/stash/movies/m.mkv").path == "/plex/Movies/m.mkv"
    assert paths.to_plex("/stash/clips/c.mp4").path == "/mnt/nas2/Clips/c.mp4"
    assert paths.to_stash("/mnt/nas2/Clips/c.mp4").path == "/stash/clips/c.mp4"
    assert paths.to_stash("/mnt/nas2/Clips/c.mp4").rule == 1
    assert paths.to_plex("/elsewhere/x.mp4").rule is None


def test_a_rule_whose_result_would_be_empty_gives_way_to_the_next() -> None:
    paths = mapper({"stash": r"^/data/(.*)$", "plex": r"\1"}, {"stash": r"^/data/", "plex": "/fallback/"})
    assert paths.to_plex("/data/a.mp4").path == "a.mp4"
    result = paths.to_plex("/data/")
    assert (result.path, result.rule) == ("/fallback/", 1)
    explained = paths.explain("/data/")
    assert explained.attempts[0].outcome is AttemptOutcome.EMPTY_RESULT


def test_case_sensitivity() -> None:
    strict = mapper({"stash": r"^/Data/(.*)$", "plex": r"/media/\1"})
    assert strict.to_plex("/data/a.mp4").rule is None
    assert strict.to_plex("/Data/a.mp4").case_sensitive is True
    lenient = mapper({"stash": r"^/Data/(.*)$", "plex": r"/media/\1", "case_sensitive": False})
    result = lenient.to_plex("/DATA/A.mp4")
    assert (result.path, result.case_sensitive) == ("/media/A.mp4", False)
    assert lenient.to_stash("/MEDIA/A.mp4").path == "/Data/A.mp4"


def test_unicode_paths_map_unchanged_in_their_remainder() -> None:
    paths = mapper({"stash": r"^/données/(.*)$", "plex": r"/médias/\1", "case_sensitive": False})
    assert paths.to_plex("/données/東京/Ünïcödé 🎬.mp4").path == "/médias/東京/Ünïcödé 🎬.mp4"
    assert paths.to_plex("/DONNÉES/x.mp4").path == "/médias/x.mp4"
    assert paths.to_stash("/médias/東京/🎬.mp4").path == "/données/東京/🎬.mp4"


def test_key_of_a_case_insensitive_side_ignores_case_and_separator() -> None:
    assert PathMapper.key("D:\\A\\b.mp4", case_sensitive=False) == PathMapper.key("d:/a/B.MP4", case_sensitive=False)
    assert PathMapper.key("C:\\Straße.mp4", case_sensitive=False) == PathMapper.key(
        "c:/STRASSE.mp4", case_sensitive=False
    )


def test_key_of_a_case_sensitive_side_keeps_case_and_backslashes() -> None:
    assert PathMapper.key("/a/B.mp4") != PathMapper.key("/a/b.mp4")
    assert PathMapper.key("/a\\b.mp4") != PathMapper.key("/a/b.mp4")
    assert PathMapper.key("/a/b.mp4") == "/a/b.mp4"


def test_key_joins_composed_and_decomposed_unicode() -> None:
    composed = unicodedata.normalize("NFC", "/vidéos/Zoë.mp4")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert PathMapper.key(composed) == PathMapper.key(decomposed)
    assert PathMapper.key(decomposed.upper(), case_sensitive=False) == PathMapper.key(composed, case_sensitive=False)


def test_explain_lists_every_rule_in_order() -> None:
    paths = mapper(
        {"stash": r"^/other/(.*)$", "plex": r"/o/\1"},
        {"stash": r"^/data/(?P<a>[^/]+)/(.*)$", "plex": r"/p/\2/\g<a>"},
        {"stash": r"^/data/(.*)$", "plex": r"/media/\1"},
        {"stash": r"^/data/x/(.*)$", "plex": r"/never/\1"},
    )
    forward = paths.explain("/data/x/a.mp4")
    assert (forward.mapped, forward.rule_number, forward.path) == (True, 2, "/p/a.mp4/x")
    assert forward.pattern == r"^/data/(?P<a>[^/]+)/(.*)$"
    assert [a.outcome for a in forward.attempts] == [
        AttemptOutcome.NO_MATCH, AttemptOutcome.MATCHED, AttemptOutcome.NOT_TRIED, AttemptOutcome.NOT_TRIED,
    ]  # fmt: skip
    assert "rule 2 matched first" in forward.attempts[3].detail

    backward = paths.explain("/media/a.mp4", direction="to_stash")
    assert (backward.rule_number, backward.path) == (3, "/data/a.mp4")
    assert backward.attempts[1].outcome is AttemptOutcome.NO_REVERSE
    assert "plex_pattern" in backward.attempts[1].detail
    assert backward.attempts[2].derived is True
    assert backward.attempts[2].pattern == "^/media/(.*)"


def test_explain_of_an_unmapped_path_hints_at_case() -> None:
    explained = mapper({"stash": r"^/Data/(.*)$", "plex": r"/media/\1"}).explain("/data/a.mp4")
    assert (explained.mapped, explained.path, explained.rule_number) == (False, "/data/a.mp4", None)
    assert "case_sensitive" in explained.attempts[0].detail


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ({"stash": r"^/data/(.*", "plex": r"/m/\1"}, "stash pattern does not compile: missing )"),
        ({"stash": "", "plex": "/m/"}, "stash pattern is empty"),
        ({"stash": "^", "plex": "/m/"}, "stash pattern is empty"),
        ({"stash": r"^/data/(.*)$", "plex": r"/m/\2"}, "refers to group 2, but the pattern has 1 group(s)"),
        ({"stash": r"^/data/(?P<rest>.*)$", "plex": r"/m/\g<rst>"}, "refers to group 'rst'"),
        ({"stash": r"^/data/(.*)$", "plex": r"D:\Media\1"}, r"bad escape \M at position 2"),
        ({"stash": r"^/data/(.*)$", "plex": r"/m/\g1"}, r"must be written \g<name>"),
        ({"stash": r"^/data/(.*)$", "plex": ""}, "plex template is empty"),
        ({"stash": r"^/data/(.*)$", "plex": "/m/", "plex_pattern": "^/m/"}, "plex_pattern and stash_template go"),
        ({"stash": r"^/d/", "plex": "/m/", "plex_pattern": "^/m/(", "stash_template": "/d/"}, "plex_pattern does not"),
        (
            {"stash": r"^/d/", "plex": "/m/", "plex_pattern": "^/m/", "stash_template": r"/d/\1"},
            "stash_template: refers",
        ),
    ],
)
def test_invalid_rules_are_refused_naming_rule_pattern_and_reason(rule: dict[str, Any], reason: str) -> None:
    good = {"stash": r"^/ok/(.*)$", "plex": r"/fine/\1"}
    with pytest.raises(PathRuleError) as caught:
        mapper(good, rule)
    message = str(caught.value)
    assert message.startswith(f"rule 2 ({rule['stash']!r}): ")
    assert reason in message
    assert isinstance(caught.value, ValueError)


def test_a_misspelt_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="plex_seperator"):
        PathRule(stash="^/a/", plex="/b/", plex_seperator="\\")  # type: ignore[call-arg]


def test_mapping_is_fast_enough_for_large_reconciliations() -> None:
    paths = mapper(*({"stash": rf"^/library{i}/(.*)$", "plex": rf"/plex/{i}/\1"} for i in range(10)))
    stash_paths = [f"/library9/studio/scene-{n}.mp4" for n in range(20_000)]
    started = time.perf_counter()
    for path in stash_paths:
        paths.to_plex(path)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"20k mappings through 10 rules took {elapsed:.2f} s"
