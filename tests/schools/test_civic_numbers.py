import pytest
from django.core.exceptions import ValidationError

from schools.civic_numbers import (
    mask_civic_number,
    normalise_civic_number,
    normalise_norwegian,
    normalise_swedish,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19811218-9876", "198112189876"),
        ("811218-9876", "198112189876"),
        ("198112189876", "198112189876"),
        ("20121212-1212", "201212121212"),
    ],
)
def test_valid_swedish_personnummer_is_normalised(raw, expected):
    assert normalise_swedish(raw) == expected


def test_samordningsnummer_day_plus_sixty_is_accepted():
    # 1981-12-18 as samordningsnummer: day 78; check digit recomputed for the new digits.
    base = "8112789876"[:9]
    digits = [int(c) for c in base]
    total = sum(
        (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d for i, d in enumerate(digits)
    )
    check = (10 - total % 10) % 10
    assert normalise_swedish(f"{base[:6]}-{base[6:]}{check}") is not None


def test_swedish_number_with_wrong_check_digit_is_refused():
    assert normalise_swedish("19811218-9875") is None


def test_swedish_number_with_impossible_date_is_refused():
    assert normalise_swedish("19811318-9870") is None


def test_valid_norwegian_fodselsnummer():
    assert normalise_norwegian("01010750160") == "01010750160"


def test_norwegian_number_with_wrong_control_digit_is_refused():
    assert normalise_norwegian("01010750161") is None


def _with_control_digits(nine: str) -> str | None:
    digits = [int(c) for c in nine]
    k1 = 11 - sum(w * n for w, n in zip([3, 7, 6, 1, 8, 9, 4, 5, 2], digits, strict=True)) % 11
    k1 = 0 if k1 == 11 else k1
    digits.append(k1)
    k2 = 11 - sum(w * n for w, n in zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], digits, strict=True)) % 11
    k2 = 0 if k2 == 11 else k2
    if 10 in (k1, k2):
        return None
    return "".join(map(str, [*digits, k2]))


def test_norwegian_d_number_is_accepted():
    # D-nummer: the day of birth plus 40 (here 1 Jan 2007 -> "41").
    candidates = (_with_control_digits(f"410107{n:03d}") for n in range(500, 1000))
    number = next(c for c in candidates if c)
    assert normalise_norwegian(number) == number
    assert normalise_norwegian(number[:-1] + str((int(number[-1]) + 1) % 10)) is None


def test_unknown_format_raises_a_clear_error():
    with pytest.raises(ValidationError) as info:
        normalise_civic_number("12345")
    assert "personal identity number" in str(info.value)


def test_masking_hides_the_last_four():
    assert mask_civic_number("198112189876") == "19811218-****"
    assert mask_civic_number("01010750160") == "010107*****"
