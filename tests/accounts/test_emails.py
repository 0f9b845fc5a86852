"""Account email addresses: the normalised form, and the key that folds look-alikes together.

Non-ASCII characters are written as escapes, so that what each test compares is visible.
"""

from __future__ import annotations

import pytest

from fastapi_kit.accounts.emails import email_key, normalize_email

E_ACUTE = "\u00e9"  # é, composed (NFC)
E_COMBINING = "e\u0301"  # e + COMBINING ACUTE ACCENT (NFD)
CYRILLIC_A = "\u0430"
CYRILLIC_O = "\u043e"
GREEK_OMICRON = "\u03bf"


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM \n", "alice@example.com"),
        ("ALICE@EXAMPLE.COM", "alice@example.com"),
        (f"{E_COMBINING}lise@example.com", f"{E_ACUTE}lise@example.com"),
        (f"{E_ACUTE}LISE@example.com", f"{E_ACUTE}lise@example.com"),
        ("alice@xn--bcher-kva.example", "alice@b\u00fccher.example"),
        ("alice@B\u00dcCHER.example", "alice@b\u00fccher.example"),
        ("Alice+News@example.com", "alice+news@example.com"),
        # Shown as typed, bar case: the fold to "ss" is the key's business.
        ("Stra\u00dfe@example.com", "stra\u00dfe@example.com"),
        # Fullwidth letters are kept in the shown form (NFC only); the key folds them.
        ("\uff41lice@example.com", "\uff41lice@example.com"),
    ],
)
def test_normalize_email(typed: str, normalized: str) -> None:
    assert normalize_email(typed) == normalized


def test_normalize_email_is_idempotent() -> None:
    once = normalize_email(f"  {E_COMBINING}LISE@xn--bcher-kva.example ")
    assert normalize_email(once) == once


def test_the_key_of_a_plain_address_is_the_address() -> None:
    assert email_key("alice@site.org") == "alice@site.org"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # case
        ("alice@example.com", "ALICE@Example.Com"),
        ("alice@example.com", "  aLiCe@example.com  "),
        # NFC vs NFD
        (f"{E_ACUTE}lise@example.com", f"{E_COMBINING}lise@example.com"),
        (f"{E_ACUTE}lise@example.com", f"{E_COMBINING.upper()}LISE@example.com"),
        # fullwidth letters (NFKC)
        ("alice@example.com", "\uff41\uff4c\uff49\uff43\uff45@example.com"),
        ("alice@example.com", "\uff21LICE@example.com"),
        # Cyrillic and Greek look-alikes, in the local part and in the domain
        ("alice@example.com", f"{CYRILLIC_A}lice@example.com"),
        ("bob@example.com", f"b{CYRILLIC_O}b@example.com"),
        ("bob@example.com", f"b{GREEK_OMICRON}b@example.com"),
        ("alice@paypal.com", f"alice@p{CYRILLIC_A}yp{CYRILLIC_A}l.com"),
        ("alice@example.com", f"alice@ex{CYRILLIC_A}mple.com"),
        # the IDNA forms of one domain
        ("alice@b\u00fccher.example", "alice@xn--bcher-kva.example"),
        ("alice@B\u00dcCHER.example", "alice@xn--bcher-kva.example"),
        # UTS #39 prototypes beyond scripts: "1" is drawn as "l", "rn" as "m"
        ("alice@example.com", "a1ice@example.com"),
        ("mary@example.com", "rnary@example.com"),
        # case folding beyond lower-casing
        ("strasse@example.com", "STRA\u00dfE@example.com"),
        # a default-ignorable variation selector is invisible, so dropped
        ("alice@example.com", "a\ufe0flice@example.com"),
    ],
)
def test_look_alike_addresses_share_a_key(one: str, other: str) -> None:
    assert email_key(one) == email_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # plus-addressing and dots are the provider's rules, not folded
        ("alice@example.com", "alice+news@example.com"),
        ("alice+a@example.com", "alice+b@example.com"),
        ("alice@example.com", "a.lice@example.com"),
        # other people
        ("alice@example.com", "alicia@example.com"),
        ("alice@example.com", "bob@example.com"),
        ("alice@example.com", "alice@example.org"),
        ("alice@example.com", "alice@example.co"),
        ("alice@example.com", "alice@mail.example.com"),
        # accents are not stripped: an e and an é look different
        ("elise@example.com", f"{E_ACUTE}lise@example.com"),
        ("alice@bucher.example", "alice@b\u00fccher.example"),
        # digits that are not drawn like letters stay apart
        ("alice1@example.com", "alice2@example.com"),
        # the split at "@" is kept: moving a label across it is another address
        ("a@b.example.com", "a.b@example.com"),
    ],
)
def test_distinct_addresses_keep_distinct_keys(one: str, other: str) -> None:
    assert email_key(one) != email_key(other)


def test_the_key_follows_uts39_exactly() -> None:
    # Pinned results: a change of the confusables data shows here first (and means
    # recomputing stored keys). "0" maps to a capital "O", which case folding ran
    # before, so it stays apart from "o"; "I" was folded to "i" first, as shown.
    assert email_key("Alice0@Example.com") == "aliceO@exarnple.corn"
    assert email_key("bill@example.com") != email_key("biII@example.com")
    assert email_key(f"{CYRILLIC_A}lice@example.com") == "alice@exarnple.corn"


def test_the_key_is_a_fixed_point_of_normalisation() -> None:
    # The key of a stored, normalised address is the key of what the user typed.
    typed = f" {CYRILLIC_A}LICE@xn--bcher-kva.example"
    assert email_key(normalize_email(typed)) == email_key(typed)


@pytest.mark.parametrize(
    "invalid",
    [
        "",
        "   ",
        "alice",
        "alice@",
        "@example.com",
        "alice@@example.com",
        "alice@example",
        "alice@localhost",
        "alice smith@example.com",
        "alice@exa mple.com",
        '"alice smith"@example.com',
        "alice@[192.0.2.1]",
        "Alice <alice@example.com>",
        "a\u200blice@example.com",  # zero-width space: unsafe
        "alice@example..com",
        "alice.@example.com",
        "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com",  # over 254
    ],
)
def test_invalid_addresses_raise_value_error(invalid: str) -> None:
    with pytest.raises(ValueError, match="invalid email address") as caught:
        normalize_email(invalid)
    # A plain ValueError: callers need not know the validating library.
    assert type(caught.value) is ValueError
    assert caught.value.__cause__ is None
    with pytest.raises(ValueError, match="invalid email address"):
        email_key(invalid)
