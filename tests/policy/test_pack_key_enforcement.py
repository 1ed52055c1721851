"""The pack on who picks an upload's key (red team #1): the kit's own example stacks pass, and a recordings
bucket that accepts uploads under a key the writer brings is reported, by exactly its policy, on S3
(`aws.bucket.encryption`: SSE-C) and on GCS (`gcs.bucket.encryption_key`: CSEK, and Google-managed keys beside a
kmsKeyName). The GCS rule's spellings are in test_pack_gcs_key_enforcement.py."""

import copy
from typing import Any, Callable

import pytest

import test_attacks_aws as ta  # module objects only: their tests are not collected here
from pack_harness import UNKNOWN, Resource, analyze_stack
import test_policy_kit as base  # its fixture and helpers (its tests are not collected here)

runs, analyze_run = base.runs, base.analyze_run
POLICY = "aws.bucket.encryption"
SSE = ta.SSE
AES = {"sseAlgorithm": "AES256"}


def sse(*rule_list: dict[str, Any], bucket: str = ta.BUCKET) -> Resource:
    return Resource(SSE, "sse", {"bucket": bucket, "rules": list(rule_list)})


def mandatory(resources: list[Resource]) -> list[str]:
    return [d.message for d in analyze_stack(resources) if d.policy == POLICY and d.level == "mandatory"]


def test_an_sse_rule_that_blocks_sse_c_passes():
    assert not mandatory(ta.recording_stack(sse({"applyServerSideEncryptionByDefault": AES, "blockedEncryptionTypes": ["SSE-C"]})))
    kms = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": ta.KEY_ARN}
    assert not mandatory(ta.recording_stack(sse({"applyServerSideEncryptionByDefault": kms, "bucketKeyEnabled": True,
                                                 "blockedEncryptionTypes": ["SSE-C"]})))


@pytest.mark.parametrize("blocked", [None, [], ["NONE"], ["SSE-C", "NONE"], ["sse-c"], "NONE"], ids=repr)
def test_an_sse_rule_that_lets_sse_c_in_is_reported_on_it(blocked: Any):
    rule = {"applyServerSideEncryptionByDefault": AES, **({} if blocked is None else {"blockedEncryptionTypes": blocked})}
    diagnostics = [d for d in analyze_stack(ta.recording_stack(sse(rule))) if d.policy == POLICY]
    assert len(diagnostics) == 1 and diagnostics[0].level == "mandatory" and "'sse'" in diagnostics[0].message
    assert "SSE-C" in diagnostics[0].message


def test_an_inline_or_aws_native_configuration_is_judged_too():
    inline = {"serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": AES}}}
    assert mandatory(ta.recording_stack(bucket_props=inline))
    inline["serverSideEncryptionConfiguration"]["rule"]["blockedEncryptionTypes"] = ["SSE-C"]
    assert not mandatory(ta.recording_stack(bucket_props=inline))
    native = {"bucketEncryption": {"serverSideEncryptionConfiguration": [{"serverSideEncryptionByDefault": AES}]}}
    assert mandatory(ta.native_recording_stack(bucket_props=native))
    native["bucketEncryption"]["serverSideEncryptionConfiguration"][0]["blockedEncryptionTypes"] = {"encryptionType": ["SSE-C"]}
    assert not mandatory(ta.native_recording_stack(bucket_props=native))


def test_no_encryption_setting_in_the_stack_leaves_s3s_own_which_verify_reads():
    assert not mandatory(ta.recording_stack())
    assert POLICY in __import__("tavus_recording.rules.aws", fromlist=["ENCRYPTION"]).ENCRYPTION.id
    assert "only verify reads" in __import__("tavus_recording.rules.aws", fromlist=["ENCRYPTION"]).ENCRYPTION.why


def test_another_buckets_encryption_or_an_unknown_one_is_not_judged_now():
    assert not mandatory(ta.recording_stack(sse({"applyServerSideEncryptionByDefault": AES}, bucket="app-assets")))
    assert not mandatory(ta.recording_stack(sse({"applyServerSideEncryptionByDefault": AES, "blockedEncryptionTypes": UNKNOWN})))


# --- the kit's own example stacks, as test_policy_kit runs them


def _drop_blocked(props: dict[str, Any]) -> None:
    for rule in props["rules"]:
        rule.pop("blockedEncryptionTypes", None)


def _drop_csek(props: dict[str, Any]) -> None:
    props["encryption"].pop("customerSuppliedEncryptionEnforcementConfig")


FLIPS: list[tuple[str, str, str, Callable[[dict[str, Any]], None], str]] = [
    ("dev", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "rec-encryption",
     _drop_blocked, POLICY),
    ("s3-kms", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "rec-encryption",
     _drop_blocked, POLICY),
    ("gcs", "gcp:storage/bucket:Bucket", "rec-bucket", _drop_csek, "gcs.bucket.encryption_key"),
]


@pytest.mark.parametrize("stack, type_, name, change, policy", FLIPS, ids=[f"{f[0]}:{f[4]}" for f in FLIPS])
def test_the_kits_stacks_with_the_block_removed_are_reported_by_exactly_that_policy(runs, stack, type_, name, change, policy):
    run = copy.deepcopy(runs[stack])
    [target] = [r for r in run.find(type_) if r.name.endswith(name.split("-", 1)[1])]
    change(target.inputs)
    change(target.outputs)
    diagnostics = analyze_run(stack, run)
    assert {d.policy for d in diagnostics} == {policy}, diagnostics
    assert f"'{target.name}'" in diagnostics[0].message
