"""Keeping an API key out of what verify prints: every form a server can echo it in, whole or cut."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest
from cpu_clock import own_cpu
from fakes.key_forms import HEX_KEY, KEYS, ODD_KEY, RED_TEAM_FORMS, echoes, leaked, prefix_leaked, skeleton
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from tavus_recording.verify.redact import MASK, excerpt, redact

FORMS = [(key, name, form) for key in KEYS for name, form in echoes(key).items()]
FORM_IDS = [f"{'hex' if key == KEYS[0] else 'odd'}-{name}" for key, name, _ in FORMS]
UNPRINTABLE = ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")


@pytest.mark.parametrize(("key", "name", "form"), FORMS, ids=FORM_IDS)
def test_every_form_of_the_key_is_masked_wherever_it_sits(key, name, form):
    for text in (form, f"Invalid access token {form}", f"{form}: not a key", f"a{form}b", f"{form} and again {form}"):
        masked = redact(text, key)
        assert leaked(masked, key) == [], (name, masked)
        assert MASK in masked


# Forms that start with the key itself (not with `user:` or a filler byte base64'd in front of it); the
# red team's forms have a test of their own below.
ALIGNED = [
    (key, name, form)
    for key, name, form in FORMS
    if name not in ("basic-auth", "base64-offset-1", "base64-offset-2", *RED_TEAM_FORMS)
]


@pytest.mark.parametrize(("key", "name", "form"), ALIGNED, ids=[f"{key[:3]}-{name}" for key, name, _ in ALIGNED])
def test_a_key_cut_at_the_end_of_a_message_is_masked(key, name, form):
    # The server (or anything before us) cut its message inside the key: from five characters of the
    # key on, whatever encodes them is masked, with at most a base64 group's last characters left over.
    prefix = "Invalid access token "
    width = -(-len(form) // len(key))
    for keep in range(max(8, 5 * width), len(form)):
        masked = redact(prefix + form[:keep], key)
        rest = masked.removeprefix(prefix)
        # What may be left is a base64 group's last character and its padding (`Q==`, `Q%3D%3`).
        leftover = rest.removeprefix(MASK)
        assert masked.startswith(prefix) and rest.startswith(MASK), (name, keep, masked)
        assert re.fullmatch(r"[A-Za-z0-9+/_-]?(=|%3D|%3|%)*", leftover), (name, keep, masked)


@pytest.mark.parametrize(
    "text",
    [
        "Invalid access token tvs-Se%252",  # URL-encoded twice, cut after `%25` and one digit
        "Invalid access token tvs-Se%25",  # ... cut after `%25`
        "Invalid access token \\u0074\\u0076\\u0073\\u002d\\u0053\\u",  # JSON-escaped, cut after `\u`
        "Invalid access token &#116;&#118;&#115;&#45;&#83;&#10",  # HTML-escaped, cut inside an entity
    ],
)
def test_a_key_cut_inside_an_escape_is_masked(text):
    # Each of these was left whole by a first version of redact (found by the cut-at-the-end cases).
    assert redact(text, ODD_KEY) == "Invalid access token ***"


def test_a_few_characters_at_the_end_are_left_alone():
    # "beyond a few characters": three letters that happen to start the key say nothing about it.
    assert redact("status: tvs", "tvs-Se/cr+et") == "status: tvs"


@pytest.mark.parametrize(("key", "name", "form"), FORMS, ids=FORM_IDS)
def test_an_excerpt_cut_across_the_key_shows_none_of_it(key, name, form):
    # The cut falls inside the echo at every offset: redacting first means no prefix survives.
    for before in (0, 13, 41):
        text = "x" * before + form + " tail of the message"
        for limit in range(before + 1, before + len(form) + 2, 4):
            shown = excerpt(text, key, limit)
            assert leaked(shown, key) == [] and not prefix_leaked(shown, key), (name, before, limit, shown)
            assert len(shown) <= limit


def test_an_excerpt_escapes_what_would_drive_a_terminal():
    shown = excerpt("bad \x1b[2J\x1b]0;owned\x07 \u202eevil\r\nnext", ODD_KEY, 300)
    assert "\x1b" not in shown and "\u202e" not in shown and "\r" not in shown and "\n" not in shown
    assert "\\x1b[2J" in shown and "\\u202e" in shown


def test_an_excerpt_marks_a_cut():
    assert excerpt("a" * 50, ODD_KEY, 10) == "a" * 9 + "…"
    assert excerpt("short", ODD_KEY, 10) == "short"


def test_text_without_the_key_is_unchanged():
    text = "There was an error creating the conversation, please reach out to support at support@tavus.io!"
    assert redact(text, ODD_KEY) == text


def test_redaction_is_fast_on_a_large_answer():
    text = ("%41&#x42;\\u0043 " * 5000) + echoes(ODD_KEY)["quote"]
    with own_cpu() as spent:
        masked = redact(text, ODD_KEY)
    assert spent.seconds < 2.0 and leaked(masked, ODD_KEY) == []


def _text_with_echoes(key: str):
    forms = list(echoes(key).values())
    piece = st.one_of(st.text(max_size=20), st.sampled_from(forms), st.sampled_from(forms).map(lambda f: f[: len(f) // 2]))
    return st.lists(piece, max_size=6).map("".join)


@hypothesis_settings(max_examples=200, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(text=_text_with_echoes(ODD_KEY), limit=st.integers(1, 400))
@example(text="x" * 295 + echoes(ODD_KEY)["base64-quoted"], limit=300)
@example(text="\x00" + echoes(ODD_KEY)["json-u-escapes"], limit=20)
def test_fuzz_no_whole_key_and_no_control_character_survives(text, limit):
    shown = excerpt(text, ODD_KEY, limit)
    assert leaked(shown, ODD_KEY) == [] and not prefix_leaked(shown, ODD_KEY)
    assert not any(unicodedata.category(char) in UNPRINTABLE for char in shown)
    assert len(shown) <= limit


# Found by a red team: the key reversed, in pieces, hidden among invisible or look-alike characters, or
# in encodings the first list lacked. Each form is also in key_forms.echoes, so every test above that
# goes through echoes (and the CLI's leak test) covers it too.

RED_TEAM = [(key, name, echoes(key)[name]) for key in KEYS for name in RED_TEAM_FORMS]
RED_TEAM_IDS = [f"{key[:3]}-{name}" for key, name, _ in RED_TEAM]


@pytest.mark.parametrize(("key", "name", "form"), RED_TEAM, ids=RED_TEAM_IDS)
def test_the_red_teams_forms_are_masked_in_a_message(key, name, form):
    for text in (f"Invalid access token {form}", f"{form}", f"x{form}y and {form}", f"\xff {form} \u200b"):
        masked = redact(text, key)
        assert leaked(masked, key) == [] and MASK in masked, (name, masked)
        shown = excerpt(text, key, 400)
        assert leaked(shown, key) == [] and not prefix_leaked(shown, key), (name, shown)


@pytest.mark.parametrize(("key", "name", "form"), RED_TEAM, ids=RED_TEAM_IDS)
def test_a_red_team_form_cut_at_the_end_of_a_message_is_masked(key, name, form):
    # Cut anywhere from five of the key's characters on: all of it masked, but for separators and, for
    # base32 and base64 of base64, the last group's filler (fewer characters than a fragment).
    prefix = "Invalid access token "
    width = -(-len(form) // len(key))
    for keep in range(max(8, 5 * width), len(form) + 1):
        masked = redact(prefix + form[:keep], key)
        rest = masked.removeprefix(prefix)
        assert masked.startswith(prefix) and rest.startswith(MASK), (name, keep, masked)
        assert len(skeleton(rest.removeprefix(MASK))) < 8 and leaked(masked, key) == [], (name, keep, masked)


@pytest.mark.parametrize("key", KEYS, ids=["hex", "odd"])
def test_a_reversed_key_is_masked_in_every_view(key):
    # The reversed key, itself URL-encoded, JSON- or HTML-escaped, cut into pieces...
    reversed_key = key[::-1]
    for name, form in echoes(reversed_key).items():
        if name.startswith(("base", "basic", "hex", "utf16", "reversed", "rot13")):
            continue  # encodings of the reversed key are not among the forms looked for
        masked = redact(f"echo: {form} end", key)
        assert leaked(masked, reversed_key) == [] and leaked(masked, key) == [], (name, masked)


def test_the_key_in_pieces_across_a_hosts_labels_is_masked():
    host = "https://a3f9a2c1.b7d6e4a.5b8c9d0.e1f2a3b.4c5d.evil.example"
    assert redact(host, HEX_KEY) == "https://a***.evil.example"


@pytest.mark.parametrize(
    "text",
    [
        "status: 3f9a 2c1b 7d6e 4a5b 8c9d 0e1f 2a3b 4c5d",
        "HTTP/1.1 3f9a-2c1b-7d6e-4a5b-8c9d-0e1f-2a3b-4c5d",
        "3\u200bf\u200b9\u200ba\u200b2\u200bc\u200b1\u200bb\u200b7\u200bd",
        "\uff13\uff46\uff19\uff41\uff12\uff43\uff11\uff42\uff17\uff44",
        "3\u0301f\u03019\u0301a\u03012\u0301c\u03011\u0301b\u0301",
        "33:66:39:61:32:63:31:62:37:64",
    ],
)
def test_a_key_in_pieces_or_look_alikes_shows_none_of_it(text):
    text = text.encode().decode("unicode_escape") if "\\u" in text else text
    shown = excerpt(text, HEX_KEY, 300)
    assert skeleton(shown).find("3f9a2c") < 0 and "2c1b" not in skeleton(shown), shown
    assert MASK in shown


def test_an_escape_printed_for_an_invisible_character_cannot_spell_the_key():
    # U+E1F2 (private use) is shown as `\ue1f2`, which would put the key's `e1f2` before its next characters.
    shown = excerpt(f"token \ue1f2{HEX_KEY[-7:]}", HEX_KEY, 300)
    assert "e1f2a3b4" not in shown.lower(), shown


# Realistic text that must stay as it is: masking by chance would hide what Tavus or the stack said.
ORDINARY = [
    "There was an error creating the conversation, please reach out to support at support@tavus.io!",
    "Invalid access token",
    "The replica_id r90bbd427f71 is not valid",
    "Error: unable to assume role arn:aws:iam::111122223333:role/tavus-recordings-writer",
    "recording_storage.bucket_name: acme-tavus-recordings-eu-west-1 does not exist",
    "projects/acme-prod-123456/serviceAccounts/tavus-writer@acme-prod-123456.iam.gserviceaccount.com",
    "https://acmetavusrecordings.blob.core.windows.net/recordings",
    "conversation_id c123456789ab, status ended, created_at 2024-05-01T12:34:56.789Z",
    "Maximum concurrent conversations reached for this account (limit 10); please try again later.",
    "x-request-id: 7f3e2b1a-9c8d-4e5f-a6b7-c8d9e0f1a2b3",
]


def test_ordinary_messages_and_names_are_left_alone():
    keys = [HEX_KEY, *("".join(random.Random(seed).choices("0123456789abcdef", k=32)) for seed in range(200))]
    for key in keys:
        for text in ORDINARY:
            assert redact(text, key) == text, (key, text)
            assert excerpt(text, key, 300) == text, (key, text)
    # The odd test key spells `Se/cr+et=Key`: its skeleton `secretkey` is masked, by design; nothing else is.
    for text in ORDINARY:
        assert redact(text, ODD_KEY) == text, text


WORST = {
    "plain": "a" * 65536,
    "escapes": "%41&#x42;\\u0043 \\U00000044\\u{45}&amp;#51\\101" * 1400,
    "three-times-encoded": "%252541" * 9362,
    "zero-width": "3\u200b" * 32768,
    "fullwidth": "\uff13\uff46" * 32768,
    "ligatures": "\ufb03\u3392\u00bd" * 21845,
    "combining": "a\u0301" * 32768,
    "cjk": "\u6f22" * 65536,
    "key-pieces": (HEX_KEY[:7] + " ") * 8192,
    "near-grams": HEX_KEY[::2] * 4096,
}


@pytest.mark.parametrize("name", list(WORST))
def test_redaction_of_a_worst_case_64_kib_answer_is_fast(name):
    text = WORST[name][:65536]
    for key in KEYS:
        with own_cpu() as whole:
            redact(text, key)
        with own_cpu() as cut:
            excerpt(text, key, 300)
        # Measured on a shared 2-core machine: about 0.2 s for the whole text at worst, 0.04 s for an excerpt.
        assert whole.seconds < 1.0 and cut.seconds < 0.5, (name, key, whole, cut)
