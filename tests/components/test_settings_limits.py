"""Every setting is bounded and plain: lengths each cloud takes, no control characters, day counts a
cloud accepts, audiences a token can carry. A bad value is one short line naming the key, never a
megabyte of echo, a raw escape sequence, or an exception from inside the kit."""

from __future__ import annotations

import json
from typing import Optional

import pytest
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from components.settings import StackSettings, config_key, known_keys, parse_settings
from settings_checks import error_for, problem_line
from settings_invariants import MAX_DAYS, assert_judged_plainly, assert_one_plain_line_per_key
from stack_configs import azure_config, gcs_config, s3_config

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# Each example stack's config map, read once (reading a stack file costs more than judging it).
BASES = {"s3": s3_config(), "gcs": gcs_config(), "azure_blob": azure_config()}
# A value each text key takes on the provider it applies to (the control character goes inside it).
GOOD = {
    "s3": {
        "provider": "s3", "aws:region": "us-east-1", "bucketName": "acme-recordings", "existingBucket": "acme-recordings",
        "existingBucketRegion": "us-east-1", "externalId": "tavus-external", "kmsKeyArn": KEY_ARN,
    },
    "gcs": {
        "provider": "gcs", "gcp:project": "acme-recordings-prod", "bucketName": "acme-recordings",
        "existingBucket": "acme-recordings", "location": "US", "workloadIdentityPoolId": "tavus-pool",
        "workloadIdentityProviderId": "tavus", "serviceAccountId": "tavus-writer",
        "tavusOidcIssuer": "https://tavus-issuer.example", "tavusOidcSubject": "tavus-recording-writer",
        "tavusOidcAudience": "api://tavus-audience",
        "kmsKeyName": "projects/acme-keys/locations/us/keyRings/recordings/cryptoKeys/bucket-default",
    },
    "azure_blob": {
        "provider": "azure_blob", "azure-native:location": "eastus", "storageAccount": "acmerecordings",
        "existingStorageAccount": "acmerecordings", "container": "recordings", "existingContainer": "recordings",
        "resourceGroupName": "rg-recordings", "skuName": "Standard_LRS",
        "tavusOidcIssuer": "https://tavus-issuer.example", "tavusOidcSubject": "tavus-recording-writer",
        "tavusOidcAudience": "api://AzureADTokenExchange",
        "keyVaultKeyUri": "https://acme-keys.vault.azure.net/keys/recordings",
    },
}
TEXT_KEYS = [(provider, key) for provider, keys in GOOD.items() for key in keys]
# Line breaks, NUL, ESC (terminal escapes), NEL, the Unicode line separator, a bidi override, a zero-width space.
CONTROLS = ["\n", "\r", "\x00", "\x1b", "\x85", "\u2028", "\u202e", "\u200b"]
MEGABYTE = 1_000_000


# Settings fields by their config key (the alias), e.g. retentionDays -> retention_days.
FIELDS = {field.alias or name: name for name, field in StackSettings.model_fields.items()}


def full(key: str) -> str:
    return key if ":" in key else f"tavus-recording:{key}"


def _with(provider: str):
    """The example stack of `provider` with keys overridden, like stack_configs' helpers."""
    return lambda **overrides: {**BASES[provider], **{full(key): value for key, value in overrides.items()}}


CONFIGS = {provider: _with(provider) for provider in BASES}


def escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# --- control characters: refused in every text key, naming the key, the character shown as an escape


@pytest.mark.parametrize("char", CONTROLS, ids=escaped)
@pytest.mark.parametrize(("provider", "key"), TEXT_KEYS)
def test_a_control_character_in_any_text_key_is_refused_and_shown_escaped(provider, key, char):
    good = GOOD[provider][key]
    cut = min(3, len(good))
    message = error_for(CONFIGS[provider](**{key: good[:cut] + char + good[cut:]}))
    line = problem_line(message, full(key))
    assert "control character" in line and escaped(char) in line and f"at character {cut + 1}" in line
    assert_one_plain_line_per_key(message)


@pytest.mark.parametrize("char", CONTROLS, ids=escaped)
@pytest.mark.parametrize("provider", list(CONFIGS))
def test_a_control_character_in_a_tag_key_or_value_is_refused_and_shown_escaped(provider, char):
    for tags in ({"team": f"med{char}ia"}, {f"te{char}am": "media"}):
        message = error_for(CONFIGS[provider](tags=json.dumps(tags)))
        line = problem_line(message, "tavus-recording:tags")
        assert "control character" in line and escaped(char) in line
        assert_one_plain_line_per_key(message)


@pytest.mark.parametrize(("provider", "key"), [("gcs", "aws:region"), ("s3", "gcp:project"), ("s3", "azure-native:location")])
def test_another_clouds_provider_key_is_ignored_but_still_plain_text(provider, key):
    # A stack may carry another cloud's provider key (`pulumi new` saves them all); an escape sequence in one
    # is still refused, since Pulumi prints config in previews and logs.
    assert parse_settings(CONFIGS[provider](**{key: "anything-plain"})).provider == provider
    line = problem_line(error_for(CONFIGS[provider](**{key: "us\x1b[2Jeast"})), key)
    assert "control character" in line and "\\x1b" in line


def test_an_unknown_key_with_control_characters_is_named_escaped_on_one_line():
    message = error_for({**s3_config(), "tavus-recording:bucket\nName\x1b[31m": "x"})
    assert "tavus-recording:bucket\\x0aName\\x1b[31m: is not a key this kit knows" in message
    assert_one_plain_line_per_key(message)


def test_a_misspelt_namespace_key_with_control_characters_is_named_escaped_on_one_line():
    message = error_for({**s3_config(), "tavus-recordings:retention\u202eDays": "30"})
    assert "tavus-recordings:retention\\u202eDays: is not in this kit's namespace" in message
    assert_one_plain_line_per_key(message)


# --- megabyte values: one short line naming the key, whatever the key


@pytest.mark.parametrize(("provider", "key"), [*TEXT_KEYS, ("s3", "retentionDays"), ("gcs", "noncurrentVersionDays"),
                                               ("s3", "tags"), ("azure_blob", "tags"), ("s3", "bucketNme")])
def test_a_megabyte_value_in_any_key_is_one_short_line(provider, key):
    value = GOOD[provider].get(key, "9") + "a" * MEGABYTE if key != "tags" else json.dumps({"team": "a" * MEGABYTE})
    message = error_for(CONFIGS[provider](**{key: value}))
    line = problem_line(message, full(key))
    assert len(line) < 400, line[:400]
    assert_one_plain_line_per_key(message)


def test_a_megabyte_key_name_is_one_short_line():
    message = error_for({**s3_config(), "tavus-recording:" + "k" * MEGABYTE: "x"})
    assert len(message) < 1000 and "characters" in message
    assert_one_plain_line_per_key(message)


def test_deeply_nested_tags_json_is_a_refusal_not_a_crash():
    # Before: json.loads raised RecursionError, which escaped parse_settings as itself.
    for text in ("[" * 100_000, '{"a":' * 50_000):  # both under the 256 KiB of JSON tags may be
        assert "is not an object" in problem_line(error_for(s3_config(tags=text)), "tavus-recording:tags")


@pytest.mark.parametrize("provider", list(CONFIGS))
def test_the_largest_tags_a_cloud_takes_are_within_the_tags_text_bound(provider):
    # 49 AWS/Azure tags of 128 + 256 characters (GCS: 62 labels of 63 + 63) beside the ones the kit and provider add.
    count, key_length, value_length = (62, 63, 63) if provider == "gcs" else (49, 128, 256)
    first = "k" if provider == "gcs" else "K"
    tags = {f"{first}{i:02d}".ljust(key_length, "k"): "v" * value_length for i in range(count)}
    assert parse_settings(CONFIGS[provider](tags=json.dumps(tags))).tags == tags


# --- lengths each cloud takes, at the limit and one past it


def _issuer(length: int) -> str:
    head = "https://tavus-issuer.example/"
    return head + "p" * (length - len(head))


@pytest.mark.parametrize(("provider", "limit"), [("azure_blob", 600), ("gcs", 2048)])
def test_issuer_length_at_the_limit_is_accepted_and_one_past_is_refused(provider, limit):
    assert len(parse_settings(CONFIGS[provider](tavusOidcIssuer=_issuer(limit))).tavus_oidc_issuer or "") == limit
    line = problem_line(error_for(CONFIGS[provider](tavusOidcIssuer=_issuer(limit + 1))), "tavus-recording:tavusOidcIssuer")
    assert f"at most {limit} characters" in line


@pytest.mark.parametrize(("provider", "limit"), [("azure_blob", 600), ("gcs", 256)])
def test_audience_length_at_the_limit_is_accepted_and_one_past_is_refused(provider, limit):
    for audience in ("a" * limit, "api://" + "a" * (limit - 6)):
        assert parse_settings(CONFIGS[provider](tavusOidcAudience=audience)).tavus_oidc_audience == audience
        line = problem_line(error_for(CONFIGS[provider](tavusOidcAudience=audience + "a")), "tavus-recording:tavusOidcAudience")
        assert f"at most {limit} characters" in line


@pytest.mark.parametrize(("provider", "limit"), [("gcs", 127), ("azure_blob", 600)])
def test_subject_at_the_byte_limit_is_accepted_and_one_past_is_refused(provider, limit):
    assert parse_settings(CONFIGS[provider](tavusOidcSubject="s" * limit)).tavus_oidc_subject == "s" * limit
    line = problem_line(error_for(CONFIGS[provider](tavusOidcSubject="s" * (limit + 1))), "tavus-recording:tavusOidcSubject")
    assert f"at most {limit} bytes" in line


def test_the_attribute_condition_of_the_longest_subject_fits_googles_4096_characters():
    from components.gcp_policy import attribute_condition

    # 127 bytes of 4-byte characters: JSON escapes each as a surrogate pair, 12 characters.
    assert len(attribute_condition("\U0001f600" * 31)) <= 4096


def test_external_id_at_its_limits_is_accepted_and_past_them_refused():
    for value in ("ab", "a" * 1224, "A1+=,.@:/-_"):
        assert parse_settings(s3_config(externalId=value)).external_id == value
    for value in ("a", "a" * 1225):
        assert "2-1224 characters" in problem_line(error_for(s3_config(externalId=value)), "tavus-recording:externalId")


def test_kms_key_arn_must_name_a_real_region_so_its_length_is_bounded():
    # Before: any [a-z0-9-]+ region passed beside an existing bucket (whose region is looked up at deploy time).
    for region, says in (("x" * 100, "which is not an AWS region"), ("x" * 2000, "at most 2048 characters")):
        config = s3_config(existingBucket="acme-recordings", kmsKeyArn=KEY_ARN.replace("us-east-1", region))
        assert says in problem_line(error_for(config), "tavus-recording:kmsKeyArn")
    mrk = "arn:aws:kms:ap-southeast-5:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    assert parse_settings(s3_config(existingBucket="acme-recordings", kmsKeyArn=mrk)).kms_key_arn == mrk


# --- day counts: within what every cloud accepts


DAY_KEYS = ["retentionDays", "noncurrentVersionDays"]


@pytest.mark.parametrize("key", DAY_KEYS)
@pytest.mark.parametrize("provider", list(CONFIGS))
@pytest.mark.parametrize(("value", "days"), [("1", 1), (str(MAX_DAYS), MAX_DAYS), ("0", None), ("", None), (0, None), ("30.0", 30)])
def test_day_counts_up_to_the_cap_are_accepted(provider, key, value, days):
    settings = parse_settings(CONFIGS[provider](**{key: value}))
    assert getattr(settings, FIELDS[key]) == days


@pytest.mark.parametrize("key", DAY_KEYS)
@pytest.mark.parametrize("provider", list(CONFIGS))
@pytest.mark.parametrize("value", [str(MAX_DAYS + 1), pytest.param(10**30, id="10**30"), pytest.param(str(10**30), id="'10**30'"),
                                   "2147483648", pytest.param("9" * 5000, id="'9'*5000"), pytest.param(10**5000, id="10**5000")])
def test_day_counts_past_the_cap_are_refused_naming_the_cap(provider, key, value):
    message = error_for(CONFIGS[provider](**{key: value}))
    line = problem_line(message, f"tavus-recording:{key}")
    assert str(MAX_DAYS) in line and "days" in line and len(line) < 400
    assert_one_plain_line_per_key(message)


@pytest.mark.parametrize("key", DAY_KEYS)
@pytest.mark.parametrize("provider", list(CONFIGS))
@pytest.mark.parametrize("value", ["-1", -1, "0.0", "-0", "true", "false", "1e3", "0x1e", "30.5", "\u0663\u0660"])
def test_day_counts_that_are_not_a_positive_whole_number_are_refused(provider, key, value):
    line = problem_line(error_for(CONFIGS[provider](**{key: value})), f"tavus-recording:{key}")
    assert "expected a whole number of days" in line


@pytest.mark.parametrize(("value", "days"), [("00030", 30), (30.0, 30), ("30.00", 30)])
def test_day_counts_written_as_plain_numbers_are_read(value, days):
    assert parse_settings(s3_config(retentionDays=value)).retention_days == days


@pytest.mark.parametrize("key", DAY_KEYS + ["coldAfterDays", "immutableDays"])
@pytest.mark.parametrize("value", [" 30 ", "30 ", "+30", "1_000", "3_0", "30\u00a0", "\u200b30", True, False, "0 "])
def test_day_counts_in_odd_spellings_are_refused_not_guessed(key, value):
    # Before: pydantic's lax int read " 30 " and "1_000", and a YAML `true` as 1 day (a recording deleted tomorrow).
    line = problem_line(error_for(s3_config(**{key: value})), f"tavus-recording:{key}")
    assert "expected a whole number of days" in line
    assert ("from 30 " in line) == (key == "coldAfterDays")


# --- audiences: a URI or a plain name, as an OIDC token's `aud` can carry


@pytest.mark.parametrize("provider", ["gcs", "azure_blob"])
@pytest.mark.parametrize("audience", [
    "api://AzureADTokenExchange",
    "https://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/tavus/providers/tavus",
    "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/tavus/providers/tavus",
    "urn:tavus:recordings",
    "tavus",
    "sts.amazonaws.com",
    "tavus-recordings_2026",
    "https://tavus.example:8443/aud?x=1",
])
def test_audiences_that_look_like_audiences_are_accepted(provider, audience):
    assert parse_settings(CONFIGS[provider](tavusOidcAudience=audience)).tavus_oidc_audience == audience


@pytest.mark.parametrize("provider", ["gcs", "azure_blob"])
@pytest.mark.parametrize(("audience", "says"), [
    ("api://AzureADTokenExchange ", "white space"),
    ("tavus recordings", "white space"),
    ("api://AzureADTokenExch\u0430nge", "\\u0430"),
    ("\uff41pi://AzureADTokenExchange", "\\uff41"),
    (":tavus", "not a URI"),
    ("1api://tavus", "not a URI"),
    ("https://", "no host"),
    ("https:///path", "no host"),
    ("api://tavus<script>", "'<'"),
    ('api://"tavus"', "'\"'"),
])
def test_audience_look_alikes_are_refused_with_the_reason(provider, audience, says):
    line = problem_line(error_for(CONFIGS[provider](tavusOidcAudience=audience)), "tavus-recording:tavusOidcAudience")
    assert says in line and "expected" in line


def test_audience_on_an_s3_stack_is_still_refused_as_misplaced():
    line = problem_line(error_for(s3_config(tavusOidcAudience="api://AzureADTokenExchange")), "tavus-recording:tavusOidcAudience")
    assert "applies only to provider gcs or azure_blob" in line


# --- fuzz: arbitrary text in every key is a RunError naming keys, or settings that are all plain and bounded

_ALL_KEYS = sorted({*(key.removeprefix("tavus-recording:") for key in known_keys()), "aws:region", "gcp:project",
                    "azure-native:location"})
_NASTY = st.sampled_from(CONTROLS + ["\u00a0", "\ufeff", "\U0001f600", "\u0430", "<", "\"", " ", ":", "//", "\\"])
_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.text(max_size=8), _NASTY), max_size=12).map("".join),
    st.sampled_from([v for values in GOOD.values() for v in values.values()]).flatmap(
        lambda good: st.tuples(st.integers(0, len(good)), _NASTY).map(lambda cut: good[: cut[0]] + cut[1] + good[cut[0]:])),
    st.integers(-(10**40), 10**40).map(str),
    st.builds(lambda c, n: c * n, st.sampled_from("a9{["), st.sampled_from([257, 601, 2049, 70_000])),
)


@hypothesis_settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(CONFIGS)), st.dictionaries(st.sampled_from(_ALL_KEYS), _text, max_size=4))
@example("s3", {"tags": "[" * 5000})
@example("azure_blob", {"tavusOidcIssuer": "https://tavus-issuer.example/\x1b[2J"})
@example("gcs", {"tavusOidcAudience": "a" * 70_000})
@example("s3", {"retentionDays": str(10**30)})
@example("s3", {"bucketNme\n": "x"})
# Found by this fuzzer before the checks: a 2049-character aws:region echoed whole, gcp:project of 2049
# characters or '\x1f' accepted on an s3 stack, '[' * 2049 in tags raising RecursionError.
@example("s3", {"aws:region": "a" * 2049})
@example("s3", {"gcp:project": "a" * 2049})
@example("s3", {"gcp:project": "\x1f"})
@example("s3", {"tags": "[" * 2049})
def test_fuzz_any_text_in_any_key_is_a_named_refusal_or_plain_bounded_settings(provider, overrides):
    assert_judged_plainly(CONFIGS[provider](**overrides))


def test_every_text_key_is_covered_by_the_tests_above():
    # A key added later joins the control-character and megabyte tests by getting a GOOD value here.
    text_fields = {name for name, field in StackSettings.model_fields.items() if field.annotation in (str, Optional[str])}
    assert len(text_fields) > 20
    covered = {FIELDS[key] for values in GOOD.values() for key in values}
    assert {config_key(name) for name in text_fields - covered} == set()


@pytest.mark.parametrize("tags", ['{"team":"a","team":"b"}', '{"a":"1","b":"2","a":"1"}'])
def test_a_tag_given_twice_in_the_json_is_refused_not_the_last_one_kept(tags):
    line = problem_line(error_for({**s3_config(), config_key("tags"): tags}), config_key("tags"))
    assert "twice" in line


def test_distinct_tags_in_json_are_kept():
    settings = parse_settings({**s3_config(), config_key("tags"): '{"team":"a","Team":"b"}'})
    assert settings.tags == {"team": "a", "Team": "b"}
