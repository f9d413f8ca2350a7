"""Flux post-build substitution: operators, escapes, strictness, provenance and re-typing."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cilium_lint.flux import substitute as substitute_module
from cilium_lint.flux.substitute import (
    InvalidVariableNameError,
    ReparseError,
    Substitution,
    SubstitutionError,
    UnsetVariableError,
    Variable,
    invalid_names,
    references,
    retype,
    substitute,
    substitute_data,
    substitution_disabled,
    valid_name,
    variables_from,
)

VARS = variables_from(
    {
        "var01": "abcdEFGH28ij",
        "UPPER": "ABCDEFGH28IJ",
        "path_name": "/home/bozo/ideas/thoughts.for.today",
        "stringZ": "abcABC123ABCabc",
        "filename": "bash.string.txt",
        "rel": "path/to/file",
        "slashes": "foo/bar/baz",
        "dotted": "foo.bar",
        "default_var": "foo1",
        "EMPTY": "",
        "N": "3",
        "word": "hello",
    },
    origin="cluster-settings",
)


def sub(text: str, **kwargs: Any) -> str:
    return substitute(text, VARS, **kwargs).text


# --- operators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("${var01}", "abcdEFGH28ij"),
        ("a ${var01} b", "a abcdEFGH28ij b"),
        ("${#var01}", "12"),
        ("${var01^}", "AbcdEFGH28ij"),
        ("${var01^^}", "ABCDEFGH28IJ"),
        ("${UPPER,}", "aBCDEFGH28IJ"),
        ("${UPPER,,}", "abcdefgh28ij"),
        ("${path_name:11}", "ideas/thoughts.for.today"),
        ("${path_name:11:5}", "ideas"),
        ("${path_name:-5}", "/home/bozo/ideas/thoughts.for.today"),  # ":-" is a default
        ("${path_name: -5}", "/home/bozo/ideas/thoughts.for.today"),  # " -5" is no number
        ("${word:1:-1}", "ell"),
        ("${word:-2}", "hello"),
        ("${word:10}", ""),
        ("${word:2:100}", "llo"),
        ("${word:x}", "hello"),
        ("${word:1:x}", "hello"),
        ("${word:1::2}", "el"),  # the delimiter swallows every ':'
        ("${word:${N}}", "lo"),
        ("${word:0:${N}}", "hel"),
        ("${stringZ/abc/xyz}", "xyzABC123ABCabc"),
        ("${stringZ//abc/xyz}", "xyzABC123ABCxyz"),
        ("${stringZ/#abc/XYZ}", "XYZABC123ABCabc"),
        ("${stringZ/%abc/XYZ}", "abcABC123ABCXYZ"),
        ("${stringZ/#nope/XYZ}", "abcABC123ABCabc"),
        ("${stringZ/#/prefix-}", "prefix-abcABC123ABCabc"),
        ("${stringZ/%/-suffix}", "abcABC123ABCabc-suffix"),
        ("${stringZ/abc/}", "ABC123ABCabc"),
        ("${stringZ//abc/}", "ABC123ABC"),
        ("${stringZ/#abc/}", "abcABC123ABCabc"),  # one argument: Flux leaves it alone
        ("${dotted/./-}", "foo-bar"),
        ("${dotted/./}", "foobar"),
        ("${word///-}", "-h-e-l-l-o-"),  # empty pattern: before every character and at the end
        (r"${slashes/\//-}", "foo-bar/baz"),
        (r"${slashes//\//-}", "foo-bar-baz"),
        ("${stringZ/${word}/x}", "abcABC123ABCabc"),
        ("${dotted/x} a/b}", "foo.bar"),  # the pattern runs on past '}' to the next '/'
        ("${filename#*.}", "string.txt"),
        ("${filename##*.}", "txt"),
        ("${filename%.*}", "bash.string"),
        ("${filename%%.*}", "bash"),
        ("${rel#*/}", "to/file"),
        ("${rel##*/}", "file"),
        ("${rel%/*}", "path/to"),
        ("${rel%%/*}", "path"),
        ("${filename#bash.}", "string.txt"),
        ("${filename#nomatch}", "bash.string.txt"),
        ("${filename#b?sh}", ".string.txt"),
        ("${filename#[a-c]*.}", "string.txt"),
        ("${filename#[^a-c]*.}", "bash.string.txt"),
        ("${filename#[}", "bash.string.txt"),  # a bad pattern leaves the value alone
        (r"${filename#\b}", "ash.string.txt"),
        ("${filename###}", "bash.string.txt"),
        ("${var01,^}", "abcdEFGH28ij"),  # an operator lookupFunc does not know: the value
    ],
)
def test_operators(text: str, expected: str) -> None:
    assert sub(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${nope:=xyz}", "xyz"),
        ("${nope:-xyz}", "xyz"),
        ("${nope=xyz}", "xyz"),
        ("${nope:?xyz}", "xyz"),  # not an error as in bash
        ("${nope:+xyz}", "xyz"),  # not inverted as in bash
        ("${EMPTY:=xyz}", "xyz"),
        ("${EMPTY:-xyz}", "xyz"),
        ("${EMPTY=xyz}", "xyz"),  # unlike bash, '=' treats empty as unset
        ("${EMPTY:+xyz}", "xyz"),
        ("${word:=xyz}", "hello"),
        ("${word=xyz}", "hello"),
        ("${word:+xyz}", "hello"),
        ("${word:?xyz}", "hello"),
        ("${nope:=}", ""),
        ("${nope:=a:b=c-d}", "a:b=c-d"),
        ("${nope:==x}", "=x"),
        ("${nope:=x}y}", "xy}"),
        ("${nope:=${default_var}}", "foo1"),
        ("${nope:=${default_var}-suffix}", "foo1-suffix"),
        ("${nope:=prefix${default_var}-suffix}", "prefixfoo1-suffix"),
        ("${nope=prefix${default_var} suffix}", "prefixfoo1 suffix"),
        ("${nope:=${other:=deep}}", "deep"),
        ("${nope:=${var01^^}}", "ABCDEFGH28IJ"),
        ("${nope:=$}", "$"),
        ("${nope:=$$}", "$$"),  # no escapes inside a default
        ("${nope:=$${word}}", "$hello"),
        ("${nope:=line\nbreak}", "line\nbreak"),
    ],
)
def test_defaults(text: str, expected: str) -> None:
    assert sub(text) == expected


def test_defaults_record_provenance() -> None:
    used = substitute("${word:=${default_var}}", VARS)
    assert used.text == "hello"
    assert used.used == ("word",)  # the default was not taken: default_var did not count
    assert used.defaults_used == ()

    taken = substitute("${nope:=${default_var}}", VARS)
    assert taken.used == ("default_var",)
    assert taken.defaults_used == ("nope",)
    assert taken.missing == ()

    empty = substitute("${EMPTY:=x}", VARS)
    assert empty.used == ("EMPTY",)  # its emptiness decided
    assert empty.defaults_used == ("EMPTY",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$${word}", "${word}"),
        ("$$word", "$word"),
        ("a$$b", "a$b"),
        ("$$$", "$$"),
        ("$$$$", "$$"),
        ("$$${word}", "$hello"),
        ("$word and $WORD", "$word and $WORD"),  # bare $VAR is never substituted
        ("price: 5$", "price: 5$"),
        ("$ {word}", "$ {word}"),
        ("}{", "}{"),
        ("\\\\ ${word} \\\\", "\\\\ hello \\\\"),
        (
            "some ${var01}$${var$${var01}$var01${var01}",
            "some abcdEFGH28ij${var${var01}$var01abcdEFGH28ij",
        ),
        ("something $${var=${default_var}}", "something ${var=foo1}"),
        ("${word/$$/x}", "hello"),
        ("${stringZ/abc/$${x}}", "${xABC123ABCabc}"),  # $$ escapes here; the first } ends it
        (r"${slashes/\\/-}", "foo/bar/baz"),
    ],
)
def test_escapes(text: str, expected: str) -> None:
    assert sub(text) == expected


def test_byte_semantics_like_go() -> None:
    accents = variables_from({"A": "héllo", "S": "Straße"})
    assert substitute("${#A}", accents).text == "6"  # bytes, not characters
    assert substitute("${A:0:1}${A:1}", accents).text == "héllo"  # the cut character rejoins
    assert substitute("${A:0:2}", accents).text == "h\ufffd"  # a lone half is replaced
    assert substitute("${S^^}", accents).text == "STRAßE"  # simple mapping: ß stays
    assert substitute("${A%l*}", accents).text == "hél"
    assert substitute("${A///-}", accents).text == "-h-é-l-l-o-"


def test_values_lose_newlines() -> None:
    assert substitute("${A}", variables_from({"A": "a\nb\n"})).text == "ab"


def test_unicode_and_digit_names_parse() -> None:
    # The parser takes letters and digits anywhere; only *defined* names are validated.
    assert substitute("${1x}", {}).missing == ("1x",)
    assert substitute("${é:=ok}", {}).text == "ok"
    assert references("${_a1}${B_2:=${c3}}") == {"_a1", "B_2", "c3"}


# --- malformed input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("${", "unable to parse variable name", 0),
        ("${}", "unable to parse variable name", 0),
        ("x ${ word}", "unable to parse variable name", 2),
        ("${word", "missing closing brace", 0),
        ("${word }", "missing closing brace", 0),
        ("${word-x}", "missing closing brace", 0),  # no colon-less '-', '+', '?'
        ("${word+x}", "missing closing brace", 0),
        ("${word?x}", "missing closing brace", 0),
        ("${cluster-name}", "missing closing brace", 0),
        ("${a.b}", "missing closing brace", 0),
        ("${word:=x", "unable to parse substitution within function", 0),
        ("${word:}", "unable to parse substitution within function", 0),
        ("${word::1}", "unable to parse substitution within function", 0),
        ("${word:1:}", "unable to parse substitution within function", 0),
        ("${word:1", "bad substitution", 0),
        ("${word:1${N}}", "bad substitution", 0),
        ("${word:${N}x}", "bad substitution", 0),
        ("${word:1:2${N}}", "bad substitution", 0),
        ("${word/x}", "bad substitution", 0),
        ("${word//x}", "bad substitution", 0),
        ("${word/x/y", "bad substitution", 0),
        ("${word/x/a${N}}", "bad substitution", 0),
        ("${word#}", "unable to parse substitution within function", 0),
        ("${word#a${N}}", "bad substitution", 0),
        ("${#}", "bad substitution", 0),
        ("${##word}", "bad substitution", 0),
        ("${#word:1}", "bad substitution", 0),
        ("${word^^^}", "bad substitution", 0),
        ("${word^x}", "bad substitution", 0),
        ("ok ${a:=${b", "missing closing brace", 8),  # the innermost open expression
    ],
)
def test_malformed_input_raises_substitution_error(text: str, message: str, position: int) -> None:
    with pytest.raises(SubstitutionError) as caught:
        substitute(text, VARS)
    assert caught.value.message == message
    assert caught.value.position == position
    assert caught.value.offset is not None and caught.value.offset >= position
    assert message in str(caught.value)
    with pytest.raises(SubstitutionError):
        references(text)


def test_runaway_nesting_is_refused() -> None:
    text = "${a:=" * 200 + "x" + "}" * 200
    with pytest.raises(SubstitutionError, match="nested too deeply"):
        substitute(text, {})


# --- unset, unknown and strict ---------------------------------------------------------------


def test_missing_becomes_empty_unless_strict() -> None:
    result = substitute("ip: ${PLEX_IP}", {})
    assert result.text == "ip: "
    assert result.missing == ("PLEX_IP",)
    assert result.strict_missing == ("PLEX_IP",)
    assert substitute("${#nope}", {}).text == "0"

    with pytest.raises(UnsetVariableError) as caught:
        substitute("a ${A} b ${B} ${A}", {}, strict=True)
    assert caught.value.names == ("A", "B")
    assert caught.value.position == 2
    assert str(caught.value).startswith('variable not set (strict mode): "A", "B"')


@pytest.mark.parametrize(
    "text",
    [
        "${nope}",
        "${#nope}",
        "${nope^}",
        "${nope^^}",
        "${nope,}",
        "${nope,,}",
        "${nope:0}",
        "${nope:0:10}",
        "${nope/a/b}",
        "${nope//a/b}",
        "${nope/#a/b}",
        "${nope/%a/b}",
        "${nope#a}",
        "${nope##a}",
        "${nope%a}",
        "${nope%%a}",
        "${word:=${nope}}",  # every argument is evaluated first, taken or not
        "${word/${nope}/x}",
    ],
)
def test_strict_rejects_unset_references(text: str) -> None:
    with pytest.raises(UnsetVariableError) as caught:
        substitute(text, VARS, strict=True)
    assert caught.value.names == ("nope",)
    assert substitute(text, VARS).strict_missing == ("nope",)


@pytest.mark.parametrize(
    "text", ["${nope:-x}", "${nope:=x}", "${nope=x}", "${nope:?x}", "${nope:+}"]
)
def test_strict_accepts_defaults(text: str) -> None:
    assert substitute(text, VARS, strict=True) == substitute(text, VARS)


def test_strict_ignores_empty_and_unknown_values() -> None:
    variables = {"E": Variable("E", ""), "S": Variable("S", None)}
    result = substitute("${E}${S}", variables, strict=True)
    assert result.unknown == ("S",)
    assert result.strict_missing == ()


def test_unknown_values_propagate() -> None:
    variables = {
        "SECRET": Variable("SECRET", None, origin="sops"),
        "IP": Variable("IP", "10.0.0.5", origin="cm"),
    }
    whole = substitute("${SECRET}", variables)
    assert whole.is_unknown and whole.unknown == ("SECRET",)
    assert whole.text == "${SECRET}"  # kept as written

    mixed = substitute("pre-${IP}-${SECRET:0:3}-post", variables)
    assert mixed.text == "pre-10.0.0.5-${SECRET:0:3}-post"
    assert mixed.used == ("IP", "SECRET")
    assert mixed.variables == (variables["IP"], variables["SECRET"])

    assert substitute("${SECRET:=x}", variables).is_unknown
    assert substitute("${nope:=${SECRET}}", variables).is_unknown
    assert substitute("${IP/${SECRET}/x}", variables).is_unknown
    not_needed = substitute("${IP:=${SECRET}}", variables)
    assert not not_needed.is_unknown and not_needed.text == "10.0.0.5"


def test_invalid_variable_names() -> None:
    assert valid_name("PLEX_IP") and valid_name("_x9") and valid_name("a")
    assert not valid_name("9a") and not valid_name("a-b") and not valid_name("é")
    assert not valid_name("a\n") and not valid_name("")
    assert invalid_names(["ok", "not-ok", "1st"]) == ("not-ok", "1st")
    with pytest.raises(InvalidVariableNameError) as caught:
        substitute("no expression", variables_from({"good": "1", "cluster-name": "x"}))
    assert caught.value.names == ("cluster-name",)
    with pytest.raises(InvalidVariableNameError):
        substitute_data({"a": "b"}, variables_from({"a.b": "x"}))


def test_references() -> None:
    assert references("no dollars") == set()
    assert references("$HOME $${ESCAPED} ${A}") == {"A"}
    assert references("${A:=${B:-${C}}} ${D/${E}/${F}} ${#G} ${H:${I}:${J}}") == set("ABCDEFGHIJ")


# --- data --------------------------------------------------------------------------------------


def test_substitute_data_values_keys_and_records() -> None:
    data: dict[str, Any] = {
        "metadata": {"name": "app-${ENV}", "labels": {"${PREFIX}/team": "net"}},
        "spec": {"ports": [80, "${PORT}"], "flag": True, "none": None, "plain": "x"},
        "literal": "$${KEEP}",
        "cost": "$5",
    }
    before = copy.deepcopy(data)
    variables = variables_from({"ENV": "prod", "PREFIX": "example.com", "PORT": "8080"})
    new, values, keys = substitute_data(data, variables)

    assert data == before  # not modified
    assert new == {
        "metadata": {"name": "app-prod", "labels": {"example.com/team": "net"}},
        "spec": {"ports": [80, "8080"], "flag": True, "none": None, "plain": "x"},
        "literal": "${KEEP}",
        "cost": "$5",
    }
    assert set(values) == {("metadata", "name"), ("spec", "ports", 1), ("literal",)}
    assert values["metadata", "name"].used == ("ENV",)
    assert values["literal",].expressions == 0 and values["literal",].changed
    assert set(keys) == {("metadata", "labels", "${PREFIX}/team")}
    assert keys["metadata", "labels", "${PREFIX}/team"].text == "example.com/team"


def test_substitute_data_retypes_plain_scalars() -> None:
    data = {"enabled": "${FLAG}", "quoted": "${FLAG}", "port": "80${N}", "ip": "${MISSING}"}
    variables = variables_from({"FLAG": "true", "N": "80"})
    plain_paths = {("enabled",), ("port",), ("ip",)}
    new, values, _ = substitute_data(data, variables, plain=lambda path: path in plain_paths)
    assert new == {"enabled": True, "quoted": "true", "port": 8080, "ip": None}
    assert values["ip",].missing == ("MISSING",)


def test_substitute_data_does_not_retype_unknown_results() -> None:
    data = {"enabled": "${SECRET}"}
    new, values, _ = substitute_data(data, {"SECRET": Variable("SECRET", None)}, plain=bool)
    assert new == {"enabled": "${SECRET}"}
    assert values["enabled",].is_unknown


def test_substitute_data_errors_carry_the_path() -> None:
    with pytest.raises(SubstitutionError) as caught:
        substitute_data({"a": [{"b": "ok"}, {"c": "${broken"}]}, {})
    assert caught.value.path == ("a", 1, "c") and not caught.value.in_key
    assert "in a/1/c" in str(caught.value)

    with pytest.raises(SubstitutionError) as caught:
        substitute_data({"a": {"${": 1}}, {})
    assert caught.value.path == ("a", "${") and caught.value.in_key

    with pytest.raises(UnsetVariableError) as caught:
        substitute_data({"a": "fine", "b": ["${X}"]}, {}, strict=True)
    assert caught.value.path == ("b", 0)

    with pytest.raises(ReparseError) as caught:
        substitute_data({"a": "${V}"}, variables_from({"V": "x: y"}), plain=bool)
    assert caught.value.path == ("a",)


def test_substitute_data_refuses_runaway_depth() -> None:
    # Only parts holding a $ are walked (the rest is shared as it is), so the leaf has one.
    deep: Any = "${LEAF}"
    for _ in range(600):
        deep = [deep]
    with pytest.raises(SubstitutionError, match="nested too deeply"):
        substitute_data(deep, {})


def test_substitute_data_shares_what_holds_no_dollar() -> None:
    data = {"a": {"b": [1, "x"]}, "c": {"d": "${V}", "e": {"f": "g"}}}
    result = substitute_data(data, variables_from({"V": "v"}))
    assert result.data == {"a": {"b": [1, "x"]}, "c": {"d": "v", "e": {"f": "g"}}}
    assert result.data["a"] is data["a"]
    assert result.data["c"]["e"] is data["c"]["e"]
    assert result.data["c"] is not data["c"]
    assert data["c"]["d"] == "${V}"
    listed = {"l": [{"a": "b"}, "${V}", [2]], "m": ["x", {"y": "${V}"}]}
    result = substitute_data(listed, variables_from({"V": "v"}))
    assert result.data == {"l": [{"a": "b"}, "v", [2]], "m": ["x", {"y": "v"}]}
    assert result.data["l"][0] is listed["l"][0] and result.data["l"][2] is listed["l"][2]
    assert result.data["m"] is not listed["m"] and listed["m"][1] == {"y": "${V}"}


def test_helmrelease_values_tree() -> None:
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "plex", "namespace": "media"},
        "spec": {
            "values": {
                "service": {
                    "main": {
                        "type": "LoadBalancer",
                        "annotations": {
                            "lbipam.cilium.io/ips": "${PLEX_IP}",
                            "external-dns.alpha.kubernetes.io/hostname": (
                                "plex.${CLUSTER_DOMAIN:=example.com}"
                            ),
                        },
                    }
                },
                "ingress": {"hosts": [{"host": "plex.${CLUSTER_DOMAIN:=example.com}"}]},
                "env": {"TZ": "${TIMEZONE}", "ADVERTISE_IP": "http://${PLEX_IP}:32400/"},
            }
        },
    }
    settings_cm = object()
    variables = {
        "PLEX_IP": Variable("PLEX_IP", "192.168.1.50", origin=settings_cm),
        "TIMEZONE": Variable("TIMEZONE", "Europe/Berlin", origin=settings_cm),
    }
    new, values, keys = substitute_data(release, variables)
    service = new["spec"]["values"]["service"]["main"]
    assert service["annotations"]["lbipam.cilium.io/ips"] == "192.168.1.50"
    assert service["annotations"]["external-dns.alpha.kubernetes.io/hostname"] == "plex.example.com"
    assert new["spec"]["values"]["ingress"]["hosts"][0]["host"] == "plex.example.com"
    assert new["spec"]["values"]["env"]["ADVERTISE_IP"] == "http://192.168.1.50:32400/"
    assert keys == {}

    ip_path = ("spec", "values", "service", "main", "annotations", "lbipam.cilium.io/ips")
    ip = values[ip_path]
    assert ip.used == ("PLEX_IP",) and ip.variables[0].origin is settings_cm
    host = values["spec", "values", "ingress", "hosts", 0, "host"]
    assert host.defaults_used == ("CLUSTER_DOMAIN",) and host.used == ()

    overridden = dict(variables, CLUSTER_DOMAIN=Variable("CLUSTER_DOMAIN", "home.arpa", "ks"))
    new, values, _ = substitute_data(release, overridden)
    assert new["spec"]["values"]["ingress"]["hosts"][0]["host"] == "plex.home.arpa"
    assert values["spec", "values", "ingress", "hosts", 0, "host"].used == ("CLUSTER_DOMAIN",)

    new, values, _ = substitute_data(release, {})
    assert new["spec"]["values"]["service"]["main"]["annotations"]["lbipam.cilium.io/ips"] == ""
    assert values[ip_path].missing == ("PLEX_IP",)


def test_substitution_disabled() -> None:
    key = "kustomize.toolkit.fluxcd.io/substitute"
    assert substitution_disabled({"metadata": {"annotations": {key: "disabled"}}})
    assert substitution_disabled({"metadata": {"labels": {key: "disabled"}}})
    assert not substitution_disabled({"metadata": {"annotations": {key: "Disabled"}}})
    assert not substitution_disabled({"metadata": {"annotations": None}})
    assert not substitution_disabled({"metadata": "x"})
    assert not substitution_disabled({})


# --- retype ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("True", True),
        ("yes", True),
        ("Y", True),
        ("on", True),
        ("false", False),
        ("NO", False),
        ("n", False),
        ("Off", False),
        ("", None),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("42", 42),
        ("-42", -42),
        ("+7", 7),
        ("1_000", 1000),
        ("0x1F", 31),
        ("0o17", 15),
        ("0755", 493),
        ("0b101", 5),
        ("089", 89.0),  # not octal: read as a float
        ("9223372036854775807", 9223372036854775807),
        ("18446744073709551615", 18446744073709551615),
        ("99999999999999999999", 1e20),
        ("0x1FFFFFFFFFFFFFFFF", 0x1FFFFFFFFFFFFFFFF),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("-1.", -1.0),
        ("1e999", "1e999"),
        ("10.0.0.1", "10.0.0.1"),
        ("192.168.1.50", "192.168.1.50"),
        ("2024-01-02", "2024-01-02"),
        ("1:20", "1:20"),
        ("True!", "True!"),
        ("yes please", "yes please"),
        ("<<", "<<"),
        ("  padded  ", "padded"),
        ("value # comment", "value"),
        ("#all comment", None),
        ("'quoted'", "quoted"),
        ('"007"', "007"),
        ("[a, 1, yes]", ["a", 1, True]),
        ("{a: 1, b: [x]}", {"a": 1, "b": ["x"]}),
        (
            "{1: a, yes: b, 1.5: c, 1000000.0: d, 0.0001: e}",
            {"1": "a", "true": "b", "1.5": "c", "1e+06": "d", "0.0001": "e"},
        ),
        ("!!str 5", "5"),
        ("!custom 5", "5"),
        ("&anchor 5", 5),
        ("http://example.com:80/x", "http://example.com:80/x"),
    ],
)
def test_retype(text: str, expected: Any) -> None:
    result = retype(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "a: b",
        "'unclosed",
        "[unclosed",
        "*alias",
        "@x",
        "%x",
        "-",
        "x\ny: z",
        ".inf",
        ".nan",
        "-.Inf",
        "[.inf]",
        "{null: 1}",
        "{[a]: 1}",
    ],
)
def test_retype_refuses_what_flux_cannot_read(text: str) -> None:
    with pytest.raises(ReparseError):
        retype(text)


# --- properties --------------------------------------------------------------------------------

SPECIAL = st.sampled_from(list("${}:=-+?#%/^,\\ab_1x \n'\"é.*[]!"))
TEXT = st.one_of(st.text(), st.lists(SPECIAL, max_size=40).map("".join))
NAMES = st.from_regex(r"[_A-Za-z][_A-Za-z0-9]{0,3}", fullmatch=True)
VARIABLES = st.dictionaries(NAMES, st.one_of(st.none(), st.text(max_size=8), TEXT), max_size=5).map(
    lambda values: {name: Variable(name, value) for name, value in values.items()}
)


@given(st.text().filter(lambda text: "$" not in text), VARIABLES, st.booleans())
def test_text_without_dollar_is_unchanged(
    text: str, variables: dict[str, Variable], strict: bool
) -> None:
    result = substitute(text, variables, strict=strict)
    assert result == Substitution(original=text, text=text)
    new, values, keys = substitute_data({text: [text]}, variables, strict=strict)
    assert new == {text: [text]} and values == {} and keys == {}


@given(st.text().filter(lambda text: "$" not in text), VARIABLES)
def test_escaped_expression_is_literal(inner: str, variables: dict[str, Variable]) -> None:
    assert substitute("$${" + inner + "}", variables).text == "${" + inner + "}"


@settings(max_examples=400)
@given(TEXT, VARIABLES, st.booleans())
def test_only_substitution_errors_escape(
    text: str, variables: dict[str, Variable], strict: bool
) -> None:
    try:
        result = substitute(text, variables, strict=strict)
    except UnsetVariableError:
        assert strict
        assert substitute(text, variables).strict_missing
        return
    except SubstitutionError:
        return
    names = references(text)
    assert set(result.used) | set(result.missing) | set(result.defaults_used) <= names
    assert set(result.unknown) <= set(result.used)
    assert set(result.missing) <= set(result.strict_missing)
    assert not strict or not result.strict_missing
    assert result.variables == tuple(variables[name] for name in result.used)


@given(TEXT)
def test_retype_raises_only_reparse_errors(text: str) -> None:
    try:
        value = retype(text)
    except ReparseError:
        return
    assert not isinstance(value, float) or math.isfinite(value)


# retype reads simple text without composing a YAML document; it must agree with the full read.
_SIMPLE_SAMPLES = [
    "10.0.6.5",
    "0x1F",
    "0X1f",
    "010",
    "08",
    "0o17",
    "0b101",
    "1_000",
    "1e3",
    "1.5",
    "+1",
    "1+2",
    "true",
    "True",
    "y",
    "Y",
    "yes",
    "on",
    "off",
    "n",
    "no",
    "null",
    "Null",
    "NULL",
    "2001-12-14",
    "9223372036854775808",
    "18446744073709551616",
    "-1",
    "a/b",
    "host.lan",
    "_x",
    "1.",
    "1.5e+3",
    "0",
    "00",
    "0.0.0",
    "v1.2.3",
    "inf",
    "nan",
    "NaN",
]


@pytest.mark.parametrize("text", _SIMPLE_SAMPLES)
def test_retype_fast_path_agrees_with_the_full_read(text: str) -> None:
    assert _same_read(text)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_./+-]{0,12}", fullmatch=True))
def test_retype_fast_path_agrees_on_generated_text(text: str) -> None:
    assert _same_read(text)


def _same_read(text: str) -> bool:
    def read(reader: Any) -> tuple[str, Any]:
        try:
            value = reader(text)
        except ReparseError as exc:
            return ("error", str(exc))
        if isinstance(value, float) and math.isnan(value):
            return ("nan", None)
        return (type(value).__name__, value)

    return read(retype) == read(substitute_module._retype_composed)
