"""法人番号: the National Tax Agency's check digit, normalisation of what people type, and refusal
of every slip the check can catch."""

from __future__ import annotations

import pytest

from cocreate.accounts import corporate_number
from cocreate.accounts.corporate_number import InvalidCorporateNumber

# Corporate numbers of real organisations, as published on the NTA's 法人番号公表サイト.
KNOWN = {
    "7000012050002": "国税庁",
    "1180301018771": "トヨタ自動車株式会社",
    "8000020130001": "東京都",
    "4011001098993": "株式会社FoundingBase",
    # A local government's base number is "000020" + its 6-digit 地方公共団体コード (東京都 130001 above,
    # 板橋区 131199); the check digit is then the rule's, so this one is derived rather than looked up.
    "6000020131199": "板橋区",
}


@pytest.mark.parametrize("number", sorted(KNOWN))
def test_real_numbers_are_valid(number: str) -> None:
    assert corporate_number.is_valid(number)
    assert corporate_number.parse(number) == number
    assert corporate_number.check_digit(number[1:]) == int(number[0])


def test_the_rule_on_the_agency_s_worked_example() -> None:
    # 基礎番号 123456789012: weights 1 and 2 alternately from the right, sum 74, 74 mod 9 = 2, 9 - 2 = 7.
    assert corporate_number.check_digit("123456789012") == 7
    assert corporate_number.is_valid("7123456789012")


def test_check_digit_is_never_zero() -> None:
    # A sum divisible by 9 gives 9, not 0: "000000000000" sums to 0.
    assert corporate_number.check_digit("000000000000") == 9
    assert corporate_number.check_digit("000000000009") == 9  # 9 mod 9 = 0 as well
    for base in ("000000000009", "999999999999", "123123123123"):
        assert 1 <= corporate_number.check_digit(base) <= 9


@pytest.mark.parametrize("number", sorted(KNOWN))
def test_every_detectable_single_digit_slip_is_refused(number: str) -> None:
    refused = 0
    for position in range(13):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            corrupted = number[:position] + digit + number[position + 1 :]
            if position > 0 and {digit, number[position]} == {"0", "9"}:
                # Mod 9 cannot tell 0 from 9 in the base number: the one slip the rule lets through.
                assert corporate_number.is_valid(corrupted)
                continue
            assert not corporate_number.is_valid(corrupted), corrupted
            with pytest.raises(InvalidCorporateNumber) as raised:
                corporate_number.parse(corrupted)
            assert raised.value.reason == "check_digit"
            refused += 1
    undetectable = sum(digit in "09" for digit in number[1:])  # one slip each: 0 <-> 9
    assert refused == 13 * 9 - undetectable


@pytest.mark.parametrize("number", sorted(KNOWN))
def test_swapping_neighbouring_digits_of_different_weight_is_refused_when_it_changes_the_sum(number: str) -> None:
    base = number[1:]
    for index in range(11):
        a, b = base[index], base[index + 1]
        if a == b or (int(a) - int(b)) % 9 == 0:
            continue
        swapped = number[0] + base[:index] + b + a + base[index + 2 :]
        assert not corporate_number.is_valid(swapped), swapped


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("１１８０３０１０１８７７１", "1180301018771"),  # full-width digits
        ("1-1803-0101-8771", "1180301018771"),
        ("1 1803 0101 8771", "1180301018771"),
        ("１－１８０３－０１０１－８７７１", "1180301018771"),  # full-width hyphen
        ("1‐1803‐0101‐8771", "1180301018771"),  # U+2010
        ("1−1803−0101−8771", "1180301018771"),  # minus sign
        ("1ー1803ー0101ー8771", "1180301018771"),  # katakana long vowel mark, a common IME slip
        ("  7000012050002\u3000", "7000012050002"),  # ideographic space
        ("\t6000020131199\n", "6000020131199"),
    ],
)
def test_typed_forms_are_normalised(typed: str, expected: str) -> None:
    assert corporate_number.parse(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "118030101877",  # 12 digits: the 会社法人等番号 without its check digit
        "11803010187710",  # 14 digits
        "118030101877a",
        "1180301018771x",
        "1180.301.018.771",
        "١١٨٠٣٠١٠١٨٧٧١",  # Arabic-Indic digits are digits to Python, not to the NTA
        "¹¹⁸⁰³⁰¹⁰¹⁸⁷⁷¹",
        "①①⑧⓪③⓪①⓪①⑧⑦⑦①",
        "<script>alert(1)</script>",
        "1" * 10_000,
    ],
)
def test_malformed_input_is_refused_as_a_format_error(typed: str | None) -> None:
    with pytest.raises(InvalidCorporateNumber) as raised:
        corporate_number.parse(typed)
    assert raised.value.reason == "format"
    assert not corporate_number.is_valid(corporate_number.normalize(typed))


def test_check_digit_wants_exactly_twelve_ascii_digits() -> None:
    for base in ("12345678901", "1234567890123", "12345678901a", "１２３４５６７８９０１２"):
        with pytest.raises(ValueError):
            corporate_number.check_digit(base)


def test_leading_zero_is_never_valid() -> None:
    assert not corporate_number.is_valid("0" + "180301018771")

