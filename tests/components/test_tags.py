"""Tags (GCS: labels): each cloud's rules before any resource, and on every taggable resource after."""

from __future__ import annotations

import importlib
import inspect
import json

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from tavus_recording.mock_engine import PlanMocks, ProgramRun, RecordingMonitor, run_program
from components.settings import parse_settings
from tavus_recording.stack_files import load_stack_config
from components.tags import MANAGED_BY, aws_tags_problem, azure_tags_problem, gcp_labels_problem, with_default
from stack_configs import azure_config, gcs_config, s3_config
from settings_checks import error_for, problem_line

TAGS_KEY = "tavus-recording:tags"


def tags_json(tags: dict) -> str:
    # As the Pulumi CLI hands an object-typed key to the program.
    return json.dumps(tags)


# --- the rules, one cloud at a time


def test_managed_by_is_added_and_a_users_own_value_wins():
    assert with_default() == {"managed-by": "tavus-recording"}
    assert with_default({"team": "media"}) == {"managed-by": "tavus-recording", "team": "media"}
    assert with_default({"managed-by": "platform"}) == {"managed-by": "platform"}


@pytest.mark.parametrize(
    ("tags", "says"),
    [
        ({f"k{i}": "v" for i in range(50)}, "has 51 tags with managed-by included; at most 50"),
        ({"k" * 129: "v"}, "is 129 characters long; expected 1-128"),
        ({"": "v"}, "is 0 characters long"),
        ({"team": "v" * 257}, "the value of 'team' is 257 characters long; expected at most 256"),
        ({"aws:team": "x"}, "starts with 'aws:', which AWS reserves"),
        ({"AWS:team": "x"}, "starts with 'aws:'"),
        ({"team#1": "x"}, "tag 'team#1' has a character AWS refuses"),
        ({"team": "a|b"}, "tag 'team' has a character AWS refuses"),
    ],
)
def test_aws_rules(tags, says):
    problem = aws_tags_problem(with_default(tags))
    assert problem and says in problem


@pytest.mark.parametrize(
    "tags",
    [{f"k{i}": "v" for i in range(49)}, {"k" * 128: "v" * 256}, {"Cost Center": "4200"}, {"équipe": "média"},
     {"path": "a/b:c=d+e-f@g_h.i"}, {"empty": ""}],
)
def test_aws_accepts(tags):
    assert aws_tags_problem(with_default(tags)) is None


@pytest.mark.parametrize(
    ("tags", "says"),
    [
        ({f"k{i}": "v" for i in range(64)}, "has 66 labels with managed-by and goog-pulumi-provisioned (the provider adds it) included"),
        # 62 of the user's own is the most: pulumi-gcp adds goog-pulumi-provisioned, which Google counts.
        ({f"k{i}": "v" for i in range(63)}, "has 65 labels with managed-by and goog-pulumi-provisioned"),
        ({"Team": "media"}, "label key 'Team' is not allowed"),
        ({"1team": "media"}, "label key '1team' is not allowed"),
        ({"_team": "media"}, "label key '_team' is not allowed"),
        ({"cost.center": "x"}, "label key 'cost.center' is not allowed"),
        ({"k" * 64: "v"}, "is 64 characters long; expected 1-63"),
        ({"team": "Media"}, "the value of label 'team' is not allowed"),
        ({"team": "a b"}, "the value of label 'team' is not allowed"),
        ({"team": "v" * 64}, "expected at most 63"),
        # A modifier letter (Lm) is neither of Google's letter classes.
        ({"チーム": "x"}, "label key 'チーム' is not allowed"),
    ],
)
def test_gcp_rules(tags, says):
    problem = gcp_labels_problem(with_default(tags))
    assert problem and says in problem


@pytest.mark.parametrize(
    "tags",
    [{f"k{i}": "v" for i in range(62)}, {"k" * 63: "v" * 63}, {"cost_center": "4200"}, {"team": ""}, {"équipe": "média"},
     {"部署": "映像"}],
)
def test_gcp_accepts(tags):
    assert gcp_labels_problem(with_default(tags)) is None


@pytest.mark.parametrize("char", list("<>%&\\?/"))
def test_azure_refuses_its_forbidden_characters_in_keys(char):
    problem = azure_tags_problem(with_default({f"cost{char}center": "x"}))
    assert problem and "contains one of < > % & \\ ? /" in problem


@pytest.mark.parametrize(
    ("tags", "says"),
    [
        ({f"k{i}": "v" for i in range(50)}, "has 51 tags"),
        ({"k" * 129: "v"}, "expected 1-128"),
        ({"team": "v" * 257}, "expected at most 256"),
    ],
)
def test_azure_rules(tags, says):
    problem = azure_tags_problem(with_default(tags))
    assert problem and says in problem


def test_azure_accepts_values_with_the_characters_its_keys_may_not_have():
    assert azure_tags_problem(with_default({"Cost Center": "a/b?c&d", "Team": "Media"})) is None


# --- settings: refused before any resource, naming `tags` and the offending key


@pytest.mark.parametrize(
    ("config", "says"),
    [
        (s3_config(tags=tags_json({"aws:team": "x"})), "key 'aws:team' starts with 'aws:'"),
        (gcs_config(tags=tags_json({"Team": "media"})), "label key 'Team' is not allowed"),
        (azure_config(tags=tags_json({"a/b": "x"})), "key 'a/b' contains one of"),
        (s3_config(tags=tags_json({"cost-center": 4200})), "has 'cost-center' set to 4200; expected a string"),
        (s3_config(tags='["team"]'), "is not an object"),
        (s3_config(tags="team=media"), "is not an object"),
    ],
)
def test_a_bad_tag_is_one_run_error_naming_tags_and_the_key(config, says):
    line = problem_line(error_for(config), TAGS_KEY)
    assert says in line


def test_each_cloud_is_held_to_its_own_rules():
    # Fine on AWS and Azure, not as a GCS label.
    tags = tags_json({"Team": "Media"})
    assert parse_settings(s3_config(tags=tags)).tags == {"Team": "Media"}
    assert parse_settings(azure_config(tags=tags)).tags == {"Team": "Media"}
    assert "label key 'Team'" in problem_line(error_for(gcs_config(tags=tags)), TAGS_KEY)


def test_pulumi_yaml_default_means_no_tags_of_the_users():
    assert parse_settings(s3_config()).tags == {}
    assert parse_settings(s3_config(tags="{}")).tags == {}


# --- every taggable resource gets them, from the program


def sdk_class(token: str) -> type:
    package, module, name = token.split(":")
    return getattr(importlib.import_module(f"pulumi_{package.replace('-', '_')}.{module.split('/')[0]}"), name)


def tag_argument(token: str) -> str | None:
    """`tags` or `labels` if the SDK's resource takes one, else None."""
    parameters = inspect.signature(sdk_class(token)._internal_init).parameters
    return next((name for name in ("tags", "labels") if name in parameters), None)


def tagged(run: ProgramRun) -> dict[str, dict]:
    """Each registered resource whose SDK type takes tags, with the tags it got."""
    found = {}
    for r in run.registrations:
        if r.custom and (argument := tag_argument(r.type)):
            found[r.type] = r.inputs.get(argument)
    return found


USER_TAGS = {"team": "media-platform", "cost-center": "4200"}


@pytest.mark.parametrize(
    ("config", "expected_types"),
    [
        (s3_config(tags=tags_json(USER_TAGS)), {"aws:s3/bucket:Bucket", "aws:iam/role:Role"}),
        (gcs_config(tags=tags_json(USER_TAGS)), {"gcp:storage/bucket:Bucket"}),
        (
            azure_config(tags=tags_json(USER_TAGS)),
            {"azure-native:resources:ResourceGroup", "azure-native:storage:StorageAccount",
             "azure-native:managedidentity:UserAssignedIdentity"},
        ),
    ],
)
def test_every_taggable_resource_gets_the_users_tags_and_managed_by(config, expected_types):
    found = tagged(run_program(config))
    assert set(found) == expected_types
    for type_, tags in found.items():
        assert tags == {**MANAGED_BY, **USER_TAGS}, type_


def test_untagged_stacks_still_carry_managed_by():
    for type_, tags in tagged(run_program(s3_config())).items():
        assert tags == MANAGED_BY, type_


def test_existing_storage_is_never_tagged_only_what_the_kit_creates():
    run = run_program(load_stack_config("azure-existing").config, stack="azure-existing")
    assert tagged(run) == {
        "azure-native:managedidentity:UserAssignedIdentity": {**MANAGED_BY, "team": "media-platform"}
    }


def test_kms_example_stack_documents_tags_on_bucket_and_role():
    run = run_program(load_stack_config("s3-kms").config, stack="s3-kms")
    expected = {**MANAGED_BY, "team": "media-platform", "cost-center": "4200"}
    assert tagged(run) == {"aws:s3/bucket:Bucket": expected, "aws:iam/role:Role": expected}


# --- fuzz: any tags are refused naming `tags`, or reach the resources exactly

_tag_text = st.text(alphabet=st.sampled_from("abcXYZ09 _-.:/@+=<>%&?\\#éチ"), max_size=8)


@pytest.mark.parametrize(
    ("base", "resource"),
    [(s3_config, "aws:s3/bucket:Bucket"), (gcs_config, "gcp:storage/bucket:Bucket"),
     (azure_config, "azure-native:storage:StorageAccount")],
)
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tags=st.dictionaries(_tag_text, _tag_text, max_size=4))
def test_fuzz_tags(base, resource, tags):
    config = base(tags=tags_json(tags))
    monitor = RecordingMonitor(PlanMocks(config))
    try:
        run = run_program(config, monitor=monitor)
    except pulumi.RunError as exc:
        assert f"  - {TAGS_KEY}: " in str(exc), str(exc)
        assert monitor.registrations == []
        return
    assert tagged(run)[resource] == with_default(tags)
