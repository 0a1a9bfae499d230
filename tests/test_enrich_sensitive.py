from __future__ import annotations

import re

import pytest

from monitor.enrich.sensitive import find_sensitive, mask_sensitive

SEED = "abandon ability able about above absent absorb abstract absurd abuse access accident"


@pytest.mark.parametrize(
    "text, kind",
    [
        (f"help, my seed: {SEED}", "seed_phrase"),
        ("1. abandon 2. ability 3. able 4. about 5. above 6. absent 7. absorb 8. abstract 9. absurd "
         "10. abuse 11. access 12. accident", "seed_phrase"),
        ("here is my private key 0x" + "a1" * 32, "private_key"),
        ("5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ", "private_key"),
        ("My 2FA code is 123456", "otp"),
        ("验证码 583920 请勿告诉他人", "otp"),
        ("인증번호 482913", "otp"),
        ("код из смс 5521", "otp"),
        ("write me at john.doe@example.com", "email"),
        ("call me +1 415 555 0100", "phone"),
        ("电话 13812345678", "phone"),
    ],
)
def test_finds_and_masks(text: str, kind: str) -> None:
    assert kind in find_sensitive(text)
    masked = mask_sensitive(text)
    assert find_sensitive(masked) == ()
    assert re.search(r"\[(seed phrase|private key|code|email|phone)\]", masked)


def test_masking_keeps_the_rest_of_the_text() -> None:
    text = "Support, my email is a.b@mail.com and my withdrawal of 1500 USDT is stuck"
    assert mask_sensitive(text) == "Support, my email is [email] and my withdrawal of 1500 USDT is stuck"


@pytest.mark.parametrize(
    "text",
    [
        "withdrawal of 1500 USDT stuck for 3 days",
        "order 12345678 failed again",
        "txid " + "ab" * 32 + " not credited",  # a transaction hash is not a private key
        "I love the new app, please add more coins about above absent",  # a few BIP39 words are ordinary English
        "error code 500 on login",
        "",
    ],
)
def test_no_false_alarms(text: str) -> None:
    assert find_sensitive(text) == ()
    assert mask_sensitive(text) == text


def test_hostile_input() -> None:
    assert find_sensitive("\ud800 broken \udfff") == ()
    assert mask_sensitive("a" * 100_000) == "a" * 100_000


@pytest.mark.parametrize(
    "text",
    [
        "call me +44 7700 900123, 2fa code 123456",  # the phone's last digits sit before "2fa"
        "order 654321 2fa code 123456",  # a number before the code word must not swallow it
    ],
)
def test_a_code_after_another_number_next_to_the_code_word_is_masked(text: str) -> None:
    assert "otp" in find_sensitive(text)
    assert mask_sensitive(text).endswith("2fa code [code]")


def test_invisible_characters_do_not_hide_sensitive_data():
    text = "write to john\u200b.doe@exam\u2060ple.com"
    assert "email" in find_sensitive(text)
    assert mask_sensitive(text) == "write to [email]"
