"""The keyboard focus indicator stands out at least 3:1 from every background app.css uses
(WCAG 1.4.11), by the WCAG 2.x contrast ratio of relative luminances. Plain text, no browser."""

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "fundapp" / "static" / "css" / "app.css"

pytestmark = pytest.mark.sqlite

HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
NAMED = {"white": "#ffffff", "black": "#000000"}
NOT_A_COLOUR = {"none", "transparent", "inherit", "initial", "unset", "currentcolor"}


def relative_luminance(hex_colour):
    """WCAG 2.x relative luminance of an sRGB colour written #rgb or #rrggbb."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_contrast_formula_gives_the_known_ratios():
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#fff", "#fff") == pytest.approx(1)
    assert contrast("#767676", "#fff") == pytest.approx(4.54, abs=0.01)
    # The old yellow ring on white: the failure this test is here for.
    assert contrast("#ffbf47", "#ffffff") < 3


def _rules(css):
    """(selector, {property: value}) for every rule, @media blocks included."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip().lower()] = value.strip()
        rules.append((" ".join(selector.split()), declarations))
    return rules


def _variables(rules):
    return {
        name: value
        for selector, declarations in rules
        if selector == ":root"
        for name, value in declarations.items()
        if name.startswith("--")
    }


def _colours(value, variables):
    """The colours a declaration's value names, its var(--x) resolved."""
    for _ in range(5):
        value = re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], value)
    found = [c.lower() for c in HEX.findall(value)]
    found += [NAMED[word] for word in re.findall(r"[a-z]+", value.lower()) if word in NAMED]
    return found


@pytest.fixture(scope="module")
def sheet():
    rules = _rules(CSS.read_text(encoding="utf-8"))
    variables = _variables(rules)
    backgrounds = set()
    for _selector, declarations in rules:
        for name in ("background", "background-color"):
            if name in declarations:
                colours = _colours(declarations[name], variables)
                assert colours or declarations[name].lower() in NOT_A_COLOUR, (name, declarations[name])
                backgrounds.update(colours)
    rings = [
        (selector, declarations)
        for selector, declarations in rules
        if ":focus" in selector and ({"outline", "outline-color", "box-shadow"} & set(declarations))
    ]
    return rules, variables, backgrounds, rings


def _ring_colours(declarations, variables):
    return {
        name: _colours(declarations[name], variables)
        for name in ("outline", "outline-color", "box-shadow")
        if name in declarations
    }


def test_the_focus_indicator_has_a_dark_and_a_light_ring(sheet):
    _rules, variables, _backgrounds, rings = sheet
    selectors = [selector for selector, _ in rings]
    assert any(":focus-visible" in s for s in selectors), selectors
    for selector, declarations in rings:
        colours = _ring_colours(declarations, variables)
        outline = colours.get("outline") or colours.get("outline-color")
        shadow = colours.get("box-shadow")
        assert outline and shadow, f"{selector}: a focus indicator needs an outline and a ring around it"
        # The two rings touch each other: they must stand apart too.
        assert contrast(outline[0], shadow[0]) >= 3, (selector, outline, shadow)


def test_the_focus_indicator_stands_out_from_every_background(sheet):
    _rules, variables, backgrounds, rings = sheet
    # Every background the sheet declares, named colours and custom properties resolved: the page,
    # the header and its navigation, main, cards, buttons, table headers, flagged rows, notices.
    for expected in ("#f6f8fa", "#fff", "#1f4e79", "#163a5a", "#fdecea", "#fff4d6"):
        assert expected in backgrounds, (expected, sorted(backgrounds))
    failures = []
    for selector, declarations in rings:
        ring = [c for colours in _ring_colours(declarations, variables).values() for c in colours]
        for background in sorted(backgrounds):
            ratios = {c: round(contrast(c, background), 2) for c in ring}
            # The indicator is the pair of rings: on any background one of them stands out >= 3:1
            # (and they stand out from each other, checked above), so the ring is always seen.
            if max(ratios.values()) < 3:
                failures.append((selector, background, ratios))
    assert not failures, failures


def test_the_dark_ring_alone_stands_out_on_the_light_backgrounds(sheet):
    """On white and pale backgrounds the white ring vanishes: the dark one must carry it alone."""
    _rules, variables, backgrounds, rings = sheet
    for selector, declarations in rings:
        colours = _ring_colours(declarations, variables)
        outline = (colours.get("outline") or colours.get("outline-color"))[0]
        light = [b for b in backgrounds if relative_luminance(b) > 0.5]
        assert light
        for background in light:
            assert contrast(outline, background) >= 3, (selector, outline, background)
