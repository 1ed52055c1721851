"""Stack config validation for provider gcs."""

from __future__ import annotations

import pulumi
import pytest
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from components.settings import parse_settings
from components.tavus import GcsRecordingStorageConfig
from stack_configs import gcs_config, s3_config
from settings_invariants import assert_judged_plainly
from settings_checks import assert_refused_before_any_resource_or_built, error_for, problem_line


def test_gcs_example_is_valid():
    settings = parse_settings(gcs_config())
    assert settings.provider == "gcs"
    assert settings.gcp_project == "acme-recordings-prod"
    assert settings.location == "US"
    assert settings.tavus_oidc_issuer == "https://tavus-issuer.example"


@pytest.mark.parametrize("key", ["gcp:project", "tavus-recording:tavusOidcIssuer", "tavus-recording:tavusOidcSubject"])
def test_required_for_gcs(key):
    config = gcs_config()
    config[key] = ""
    assert "is required for provider gcs" in problem_line(error_for(config), key)


@pytest.mark.parametrize(
    ("project", "reason"),
    [("123456789", "is a project number"), ("Acme-Prod", "is not a project id"), ("ab", "is not a project id"),
     ("acme-prod-", "is not a project id")],
)
def test_gcp_project_must_be_a_project_id(project, reason):
    assert reason in problem_line(error_for(gcs_config(**{"gcp:project": project})), "gcp:project")


@pytest.mark.parametrize("name", ["acme_recordings", "acme-recordings-example", "a1b"])
def test_valid_gcs_bucket_names(name):
    assert parse_settings(gcs_config(bucketName=name)).bucket_name == name


@pytest.mark.parametrize("name", ["acme.recordings.example", "recordings.acme.com"])
def test_a_dotted_bucket_to_create_is_refused_but_an_existing_one_is_fine(name):
    # Before: accepted, and `pulumi up` failed at the bucket with Google's domain-verification error.
    line = problem_line(error_for(gcs_config(bucketName=name)), "tavus-recording:bucketName")
    assert "verified owner of that domain" in line and repr(name.replace(".", "-")) in line and "existingBucket" in line
    config = {**gcs_config(existingBucket=name), "tavus-recording:location": "", "tavus-recording:retentionDays": "0"}
    assert parse_settings(config).existing_bucket == name


@pytest.mark.parametrize(
    "location, suggestion",
    [("us-centrl1", "us-central1"), ("europe-wset1", "europe-west1"), ("asai", "asia"), ("us-central", "us-central1")],
)
def test_a_location_that_does_not_exist_is_refused_with_a_suggestion(location, suggestion):
    # Before: any `letters-letters<digit>` planned cleanly and failed at `pulumi up`.
    line = problem_line(error_for(gcs_config(location=location)), "tavus-recording:location")
    assert f"is not a Cloud Storage location (did you mean '{suggestion}'?)" in line


@pytest.mark.parametrize("location", ["US", "eu", "NAM4", "us-central1", "US-CENTRAL1", "me-central2", "asia-southeast3"])
def test_every_kind_of_location_in_any_case_is_accepted(location):
    assert parse_settings(gcs_config(location=location)).location == location


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("goog-recordings", "starts with 'goog'"),
        ("my-google-recordings", "contains 'google'"),
        ("Acme", "contains 'A'"),
        ("-acme", "must start and end"),
        ("a" * 64, "is 64 characters long"),
        ("10.0.0.1", "is formatted as an IP address"),
    ],
)
def test_invalid_gcs_bucket_names(name, reason):
    line = problem_line(error_for(gcs_config(bucketName=name)), "tavus-recording:bucketName")
    assert reason in line and "a Cloud Storage bucket name is" in line


@pytest.mark.parametrize("location", ["US", "eu", "NAM4", "us-central1", "europe-west4"])
def test_gcs_locations(location):
    assert parse_settings(gcs_config(location=location)).location == location


@pytest.mark.parametrize("location", ["us-east-1a", "mars", "US-CENTRAL"])
def test_bad_gcs_locations(location):
    assert "is not a Cloud Storage location" in problem_line(
        error_for(gcs_config(location=location)), "tavus-recording:location"
    )


@pytest.mark.parametrize(
    "issuer", ["http://issuer.example", "issuer.example", "https://", "https://issuer.example/?a=1", "https://a b.example"]
)
def test_issuer_must_be_an_https_url(issuer):
    line = problem_line(error_for(gcs_config(tavusOidcIssuer=issuer)), "tavus-recording:tavusOidcIssuer")
    assert "is not an https issuer URL" in line


@pytest.mark.parametrize("issuer, says", [
    ("https://tavus-issuer.example@attacker.example", "user info before its host, which is attacker.example"),
    ("https://tavus:x@attacker.example/", "user info"),
    ("HTTPS://issuer.example", "not an https URL"),
    ("https://issuer_example.test", "not a DNS name"),
    ("https://issuer.example:port", "not an https URL"),
    ("https://issuer.example/#frag", "query or fragment"),
])
def test_an_issuer_the_guardrails_would_refuse_is_refused_in_settings_too(issuer, says):
    # One check (components.naming.issuer_problem) for the settings, the pack and verify.
    line = problem_line(error_for(gcs_config(tavusOidcIssuer=issuer)), "tavus-recording:tavusOidcIssuer")
    assert "is not an https issuer URL" in line and says in line


def test_issuer_is_kept_exactly_as_given():
    # It must equal the token's iss claim byte for byte: no trailing slash added.
    assert parse_settings(gcs_config(tavusOidcIssuer="https://issuer.example")).tavus_oidc_issuer == "https://issuer.example"


def test_subject_longer_than_google_allows_is_refused():
    line = problem_line(error_for(gcs_config(tavusOidcSubject="s" * 128)), "tavus-recording:tavusOidcSubject")
    assert "at most 127 bytes" in line


@pytest.mark.parametrize(
    ("key", "value"),
    [("workloadIdentityPoolId", "gcp-tavus"), ("workloadIdentityPoolId", "abc"), ("workloadIdentityProviderId", "Tavus"),
     ("serviceAccountId", "1tavus-writer"), ("serviceAccountId", "short")],
)
def test_gcp_ids_follow_gcp_rules(key, value):
    line = problem_line(error_for(gcs_config(**{key: value})), f"tavus-recording:{key}")
    assert f"{value!r}" in line and "expected" in line


def test_s3_keys_on_a_gcs_stack_are_refused():
    kms = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    line = problem_line(error_for(gcs_config(kmsKeyArn=kms)), "tavus-recording:kmsKeyArn")
    assert "applies only to provider s3" in line


def test_gcs_keys_on_an_s3_stack_are_refused():
    line = problem_line(error_for(s3_config(serviceAccountId="tavus-writer")), "tavus-recording:serviceAccountId")
    assert "applies only to provider gcs" in line


_keys = st.sampled_from(
    ["gcp:project", "bucketName", "location", "tavusOidcIssuer", "tavusOidcSubject", "tavusOidcAudience",
     "workloadIdentityPoolId", "serviceAccountId", "retentionDays", "noncurrentVersionDays", "tags", "tavusOidcIssuerr",
     "projectId", "immutableDays", "immutableMode", "auditLogs"]
)
_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "acme-prod", "US", "https://issuer.example", "gcp-x", "0", "-1", "tavus-writer", "30", "compliance",
                     "governance", "true", "True", "false"]),
    st.sampled_from(["https://issuer.example/\x1b[2J", "api://AzureADTokenExch\u0430nge", "a" * 257, "a" * 1_000_000,
                     str(10**30), "tavus\u2028writer"]),
)


@hypothesis_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _values, max_size=4))
# Found by this fuzzer before the text and day bounds: an audience of \x1f accepted, a megabyte project echoed
# whole, 10**30 days accepted.
@example({"tavusOidcAudience": "\x1f"})
@example({"gcp:project": "a" * 1_000_000})
@example({"retentionDays": str(10**30)})
def test_fuzz_rejected_gcs_configs_fail_before_any_resource(overrides):
    config = gcs_config(**overrides)
    assert_judged_plainly(config)
    assert_refused_before_any_resource_or_built(config, GcsRecordingStorageConfig)


# --- kmsKeyName: a key (never a version), in the bucket's location, only for a bucket the kit creates

KMS_KEY = "tavus-recording:kmsKeyName"


@pytest.mark.parametrize(
    ("location", "key_location"),
    [("", "us"), ("US", "us"), ("eu", "europe"), ("ASIA", "asia"), ("us-east1", "us-east1"), ("NAM4", "nam4"),
     ("EUR4", "europe")],
)
def test_a_key_in_the_buckets_location_is_accepted(location, key_location):
    name = f"projects/acme-keys/locations/{key_location}/keyRings/recordings/cryptoKeys/bucket-default"
    assert parse_settings(gcs_config(location=location, kmsKeyName=name)).kms_key_name == name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("projects/p/locations/us/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1", "names a key version"),
        ("projects/p/locations/us/keyRings/r", "is not a Cloud KMS key name"),
        ("//cloudkms.googleapis.com/projects/p/locations/us/keyRings/r/cryptoKeys/k", "is not a Cloud KMS key name"),
        ("projects/p/locations/us/keyRings/r/cryptoKeys/k/", "is not a Cloud KMS key name"),
        ("projects/p/locations/us/keyRings/has space/cryptoKeys/k", "is not a Cloud KMS key name"),
        ("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "is not a Cloud KMS key name"),
    ],
)
def test_a_malformed_key_name_is_refused_with_the_form(name, says):
    line = problem_line(error_for(gcs_config(kmsKeyName=name)), KMS_KEY)
    assert says in line and "expected projects/<project>/locations/<location>/keyRings/<key ring>/cryptoKeys/<key>" in line


@pytest.mark.parametrize(
    ("location", "key_location", "expected"),
    [("US", "us-central1", "'us'"), ("EU", "eu", "'europe'"), ("us-east1", "us", "'us-east1'"), ("", "global", "'us'")],
)
def test_a_key_outside_the_buckets_location_is_refused_naming_both_keys(location, key_location, expected):
    name = f"projects/acme-keys/locations/{key_location}/keyRings/r/cryptoKeys/k"
    line = problem_line(error_for(gcs_config(location=location, kmsKeyName=name)), KMS_KEY)
    assert f"is a key in {key_location!r}" in line and "tavus-recording:location" in line
    assert f"expected a key ring in {expected}" in line


def test_a_bad_location_is_reported_once_not_as_a_key_mismatch():
    name = "projects/acme-keys/locations/us/keyRings/r/cryptoKeys/k"
    message = error_for(gcs_config(location="us-centrl1", kmsKeyName=name))
    assert "tavus-recording:location" in message and KMS_KEY not in message


def test_a_key_beside_an_existing_bucket_is_refused():
    config = {**gcs_config(existingBucket="acme-by-hand", kmsKeyName="projects/p/locations/us/keyRings/r/cryptoKeys/k"),
              "tavus-recording:location": "", "tavus-recording:retentionDays": "0"}
    assert "cannot be used with tavus-recording:existingBucket" in problem_line(error_for(config), KMS_KEY)


@pytest.mark.parametrize("key", ["kmsKeyName", "keyVaultKeyUri"])
def test_a_gcs_or_azure_key_on_s3_is_misplaced(key):
    line = problem_line(error_for(s3_config(**{key: "projects/p/locations/us/keyRings/r/cryptoKeys/k"})), f"tavus-recording:{key}")
    assert "applies only to provider" in line


# --- noncurrentVersionDays beside immutableDays: versioning goes off under a retention policy

NONCURRENT = "tavus-recording:noncurrentVersionDays"


@pytest.mark.parametrize(("immutable", "noncurrent"), [("30", "7"), ("1", "1"), ("365", "30"), ("30", "36500")])
def test_noncurrent_days_beside_immutable_days_is_refused_in_one_line_naming_both(immutable, noncurrent):
    # Before: accepted, and the noncurrent-version rule could never apply (Cloud Storage keeps no versions under a
    # retention policy), so the stack said one thing and did another.
    message = error_for(gcs_config(immutableDays=immutable, noncurrentVersionDays=noncurrent))
    line = problem_line(message, NONCURRENT)
    assert "cannot be used with tavus-recording:immutableDays on gcs" in line and "refuses Object Versioning" in line
    assert "remove one of the two" in line
    assert len([line for line in message.splitlines() if line.startswith("  - ")]) == 1


@pytest.mark.parametrize("overrides", [
    {"immutableDays": "30"},
    {"immutableDays": "30", "noncurrentVersionDays": "0"},
    {"immutableDays": "0", "noncurrentVersionDays": "7"},
    {"immutableDays": "", "noncurrentVersionDays": "7"},
    {"noncurrentVersionDays": "7"},
    {"immutableDays": "30", "immutableMode": "compliance"},
])
def test_either_alone_is_accepted(overrides):
    parse_settings(gcs_config(**overrides))


def test_beside_an_existing_bucket_only_the_ignored_keys_are_named():
    config = {**gcs_config(existingBucket="acme-by-hand", immutableDays="30", noncurrentVersionDays="7"),
              "tavus-recording:location": "", "tavus-recording:retentionDays": "0"}
    message = error_for(config)
    assert "cannot be used with tavus-recording:existingBucket" in problem_line(message, NONCURRENT)
    assert "refuses Object Versioning" not in message


def test_on_s3_the_two_are_not_refused_by_the_gcs_rule():
    # S3 Object Lock keeps versioning on, so noncurrent versions still expire there.
    try:
        parse_settings(s3_config(immutableDays="30", noncurrentVersionDays="7"))
    except pulumi.RunError as refused:
        assert "refuses Object Versioning" not in str(refused)
