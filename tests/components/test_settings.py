"""Stack config validation: every rule, one readable RunError naming the key, and Pulumi.yaml in step."""

from __future__ import annotations


import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from components.settings import StackSettings, config_key, known_keys, parse_settings
from tavus_recording.stack_files import PROJECT_DIR
from components.tavus import S3RecordingStorageConfig
from settings_invariants import assert_judged_plainly
from settings_checks import assert_refused_before_any_resource_or_built, error_for, problem_line
from stack_configs import s3_config

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_dev_stack_is_valid_and_uses_the_defaults(dev_config):
    settings = parse_settings(dev_config)
    assert settings.provider == "s3"
    assert settings.aws_region == "us-east-1"
    assert settings.bucket_name is None
    assert settings.retention_days is None
    # Unset (Pulumi.yaml's 0): the component applies the kit's 30 days.
    assert settings.noncurrent_version_days is None
    assert settings.external_id == "tavus"
    assert settings.kms_key_arn is None
    assert settings.existing_bucket is None
    assert settings.tags == {}


@pytest.mark.parametrize(
    "name",
    ["abc", "a" * 63, "acme-tavus-recordings", "acme.tavus.recordings", "1-recordings-2", "rec-s3alias-x"],
)
def test_valid_s3_bucket_names_are_accepted(name):
    assert parse_settings(s3_config(bucketName=name)).bucket_name == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "is 2 characters long"),
        ("a" * 64, "is 64 characters long"),
        ("Acme-Recordings", "contains 'A', 'R'"),
        ("acme_recordings", "contains '_'"),
        ("-acme", "must start and end with a lowercase letter or digit"),
        ("acme.", "must start and end with a lowercase letter or digit"),
        ("acme..recordings", "contains '..'"),
        ("192.168.5.4", "is formatted as an IP address"),
        ("xn--acme", "starts with the reserved prefix 'xn--'"),
        ("sthree-acme", "starts with the reserved prefix 'sthree-'"),
        ("acme-s3alias", "ends with the reserved suffix '-s3alias'"),
        ("acme--ol-s3", "ends with the reserved suffix '--ol-s3'"),
    ],
)
def test_invalid_s3_bucket_names_say_why(name, reason):
    line = problem_line(error_for(s3_config(bucketName=name)), "tavus-recording:bucketName")
    assert f"{name!r} {reason}" in line
    assert "3-63 lowercase letters" in line  # what is expected


def test_aws_region_is_required_for_s3(dev_config):
    del dev_config["aws:region"]
    line = problem_line(error_for(dev_config), "aws:region")
    assert "is required for provider s3" in line


@pytest.mark.parametrize("region", ["eu-north-1", "ap-southeast-2", "us-west-2"])
def test_real_regions_are_accepted(region):
    assert parse_settings(s3_config(**{"aws:region": region})).aws_region == region


def test_a_mistyped_region_gets_a_suggestion():
    line = problem_line(error_for(s3_config(**{"aws:region": "us-eats-1"})), "aws:region")
    assert "'us-eats-1' is not an AWS region (did you mean 'us-east-1'?)" in line


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_regions_outside_the_standard_partition_are_refused(region):
    line = problem_line(error_for(s3_config(**{"aws:region": region})), "aws:region")
    assert "outside the standard AWS partition" in line


@pytest.mark.parametrize("key", ["retentionDays", "noncurrentVersionDays"])
@pytest.mark.parametrize("value", ["-1", "abc", "2.5", "ten"])
def test_day_counts_must_be_positive_whole_numbers(key, value):
    line = problem_line(error_for(s3_config(**{key: value})), f"tavus-recording:{key}")
    assert f"is {value!r}; expected a whole number of days" in line


def test_noncurrent_version_days_zero_is_the_pulumi_yaml_default_and_means_the_kits_own():
    assert parse_settings(s3_config(noncurrentVersionDays="0")).noncurrent_version_days is None
    assert parse_settings(s3_config(noncurrentVersionDays="7")).noncurrent_version_days == 7


def test_retention_zero_is_the_pulumi_yaml_default_and_keeps_recordings():
    assert parse_settings(s3_config(retentionDays="0")).retention_days is None
    assert parse_settings(s3_config(retentionDays="365")).retention_days == 365


@pytest.mark.parametrize("value", ["", "x", "has space", "a" * 1225])
def test_external_id_must_be_a_valid_sts_external_id(value):
    line = problem_line(error_for(s3_config(externalId=value)), "tavus-recording:externalId")
    assert "is not a valid ExternalId" in line


def test_kms_key_arn_is_accepted_in_the_bucket_region():
    assert parse_settings(s3_config(kmsKeyArn=KEY_ARN)).kms_key_arn == KEY_ARN
    mrk = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    assert parse_settings(s3_config(kmsKeyArn=mrk)).kms_key_arn == mrk


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not-an-arn", "is not a KMS key ARN"),
        ("arn:aws:kms:us-east-1:111122223333:alias/recordings", "is an alias ARN"),
        ("arn:aws:s3:::bucket", "is not a KMS key ARN"),
        (KEY_ARN.replace("us-east-1", "eu-west-1"), "is in eu-west-1 but the bucket is in us-east-1"),
    ],
)
def test_kms_key_arn_problems(value, reason):
    line = problem_line(error_for(s3_config(kmsKeyArn=value)), "tavus-recording:kmsKeyArn")
    assert reason in line


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("bucketNme", "tavus-recording:bucketName"),
        ("retentiondays", "tavus-recording:retentionDays"),
        ("kmsKeyARN", "tavus-recording:kmsKeyArn"),
        ("region", "aws:region"),
    ],
)
def test_unknown_keys_are_refused_with_the_closest_known_key(typo, meant):
    line = problem_line(error_for(s3_config(**{typo: "x"})), f"tavus-recording:{typo}")
    assert f"did you mean '{meant}'?" in line


def test_provider_must_be_the_apis_enum():
    line = problem_line(error_for(s3_config(provider="aws")), "tavus-recording:provider")
    assert "expected one of s3, gcs, azure_blob" in line
    config = s3_config()
    del config["tavus-recording:provider"]
    assert "is required" in problem_line(error_for(config), "tavus-recording:provider")


def test_another_clouds_key_on_an_s3_stack_is_refused():
    line = problem_line(error_for(s3_config(location="eu-west-1")), "tavus-recording:location")
    assert "applies only to provider gcs" in line and "(the region is aws:region)" in line


def test_every_problem_is_reported_at_once_with_how_to_fix():
    message = error_for(s3_config(bucketName="Bad_Name", retentionDays="-1", bucketNme="x"))
    assert message.startswith("invalid stack configuration:")
    assert len([line for line in message.splitlines() if line.startswith("  - ")]) == 3
    assert "pulumi config set" in message


def test_keys_outside_the_namespace_are_not_ours_to_judge():
    assert parse_settings(s3_config(**{"aws:profile": "prod", "pulumi:tags": "{}"})).provider == "s3"


# --- Pulumi.yaml must declare exactly the keys the schema reads, with the same defaults.

def _declared() -> dict[str, dict]:
    return yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]


def test_pulumi_yaml_declares_every_key_with_type_and_description():
    declared = _declared()
    ours = [key.removeprefix("tavus-recording:") for key in known_keys() if key.startswith("tavus-recording:")]
    assert sorted(declared) == sorted(ours)
    for key, spec in declared.items():
        assert spec["type"] in ("string", "integer", "boolean", "object"), key
        assert spec["description"].strip(), key
    assert declared["tags"]["type"] == "object"


def test_pulumi_yaml_defaults_match_the_schema():
    declared = _declared()
    assert "default" not in declared["provider"]  # required: Pulumi refuses a stack without it
    not_set = {"string": "", "integer": 0, "boolean": False, "object": {}}  # how Pulumi.yaml spells "absent"
    for name, field in StackSettings.model_fields.items():
        key = config_key(name).removeprefix("tavus-recording:")
        if key in declared and name != "provider":
            spec = declared[key]
            default = field.get_default(call_default_factory=True)
            expected = not_set[spec["type"]] if default is None else default
            assert spec["default"] == expected, key


def test_pulumi_yaml_contract():
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == "tavus-recording"
    assert project["stackConfigDir"] == "stacks"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"


# --- Fuzz: any config the schema rejects fails as one RunError naming a key, before any resource.

_keys = st.sampled_from(
    [key.removeprefix("tavus-recording:") for key in known_keys()]
    + ["bucketNme", "Provider", "region", "retention_days", "kms", "aws:region"]
)
_values = st.one_of(
    st.text(max_size=70),
    st.integers(-5, 100_000).map(str),
    st.sampled_from(["s3", "gcs", "azure_blob", "us-east-1", "eu-west-9", KEY_ARN, "", "0", "tavus"]),
    # What a red team tried: control characters, megabyte-sized text, day counts no cloud keeps.
    st.sampled_from(["us-east-1\x1b[2J", "tavus\n", "s3\u202e", "a" * 1_000_000, str(10**30), "36501", "9" * 5000]),
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _values, max_size=5))
# Found by this fuzzer before the text and day bounds: a megabyte provider echoed whole in its line.
@example({"provider": "a" * 1_000_000})
@example({"retentionDays": str(10**30)})
def test_fuzz_rejected_configs_fail_before_any_resource(overrides):
    config = s3_config(**overrides)
    assert_judged_plainly(config)
    assert_refused_before_any_resource_or_built(config, S3RecordingStorageConfig)


# --- keys Pulumi passes to no one the way they are written

@pytest.mark.parametrize(
    "key, says",
    [
        ("tavus-recordings:retentionDays", "did you mean 'tavus-recording:retentionDays'?"),
        ("tavus_recording:provider", "did you mean 'tavus-recording:provider'?"),
        ("TavusRecording:bucketName", "did you mean 'tavus-recording:bucketName'?"),
        ("tavus-recording:aws:region", "is a provider key written in this kit's namespace, which no provider reads; set aws:region"),
    ],
)
def test_a_key_in_a_misspelt_or_doubled_namespace_is_refused_not_ignored(key, says):
    # Before: Pulumi passed these to the program and the kit ignored them, so retentionDays silently kept
    # every recording, and the AWS provider never saw the region.
    assert says in problem_line(error_for({**s3_config(), key: "30"}), key)


def test_keys_of_other_providers_and_unrelated_namespaces_are_left_alone():
    config = {**s3_config(), "aws:profile": "prod", "pulumi:disable-default-providers": '["*"]', "acme:team": "media"}
    assert parse_settings(config).provider == "s3"


def test_a_renamed_project_gets_one_line_saying_where_the_keys_went():
    config = {**s3_config(), "acme-recordings:provider": "s3", "acme-recordings:retentionDays": "0"}
    line = problem_line(error_for_project(config, "acme-recordings"), "acme-recordings:*")
    assert "2 keys" in line and "keep the project named tavus-recording" in line


def error_for_project(config: dict[str, str], project: str) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        parse_settings(config, project)
    return str(caught.value)
