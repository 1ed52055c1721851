"""aws.access.revoked's rule for one role that still trusts Tavus's account: revoked means no access at all, so
a role that can read, list, delete, reopen the bucket or grant itself more fails, not only one that can write;
a role that can assume another role is a second hop the rule does not follow, so it is unknown, naming the role."""

from __future__ import annotations

from typing import Any

import pytest

from components.tavus import S3_WRITER_ACTIONS
from tavus_recording.rules.aws.grants import PolicyDoc
from tavus_recording.rules.aws.revoked import TrustingRole, role_findings

BUCKET = "rec"
ARN = f"arn:aws:s3:::{BUCKET}"
ROLE = "arn:aws:iam::111122223333:role/hand-made"


def role(*statements: dict[str, Any], boundary: dict[str, Any] | None = None) -> TrustingRole:
    doc = PolicyDoc("inline policy p", {"Version": "2012-10-17", "Statement": list(statements)})
    bound = PolicyDoc("boundary b", boundary) if boundary else None
    return TrustingRole(ROLE, [doc], bound, "AROAEXAMPLEEXAMPLE1")


def allow(actions: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def judged(r: TrustingRole) -> tuple[bool, bool, str]:
    found = role_findings(r, BUCKET)
    return bool(found), all(f.unknown for f in found) if found else False, " ".join(f.problem for f in found)


# What an admin who "revokes" by hand may leave behind: each reaches the recordings without s3:PutObject.
@pytest.mark.parametrize("statement, verb", [
    (allow([a for a in S3_WRITER_ACTIONS if a != "s3:PutObject"], [ARN, f"{ARN}/*"]), "read"),
    (allow(["s3:GetObject", "s3:ListBucket"], [ARN, f"{ARN}/*"]), "read"),
    (allow("s3:GetObject", f"{ARN}/calls/*"), "read"),  # some objects are enough
    (allow("S3:GET*", "*"), "read"),
    (allow("s3:ListBucket", ARN), "list"),
    (allow("s3:ListBucketVersions", "arn:aws:s3:::re*"), "list"),
    (allow(["s3:DeleteObject", "s3:DeleteObjectVersion"], f"{ARN}/*"), "delete"),
    (allow("s3:PutLifecycleConfiguration", ARN), "delete"),
    (allow("s3:ReplicateObject", f"{ARN}/*"), "write"),
    (allow("s3:Replicate*", f"{ARN}/*"), "write"),
    (allow("s3:PutBucketPolicy", ARN), "change who may reach"),
    (allow("s3:PutBucketAcl", ARN), "change who may reach"),
    (allow("s3:PutObjectAcl", f"{ARN}/*"), "change who may reach"),
    (allow("iam:PutRolePolicy", ROLE), "change its own permissions"),
    (allow("iam:AttachRolePolicy", "arn:aws:iam::111122223333:role/*"), "change its own permissions"),
    (allow("iam:UpdateAssumeRolePolicy", "*"), "change its own permissions"),
    (allow("iam:*", ROLE), "change its own permissions"),
    ({"Effect": "Allow", "NotAction": "s3:PutObject", "Resource": "*"}, "read"),
])
def test_any_access_to_the_recordings_fails(statement, verb):
    found, unknown, text = judged(role(statement))
    assert found and not unknown, text
    assert f"role {ROLE} trusts Tavus's account" in text and verb in text


@pytest.mark.parametrize("statement", [
    allow("sts:AssumeRole", "arn:aws:iam::111122223333:role/writer"),
    allow("sts:*", "*"),
    allow(["STS:AssumeRole"], ["arn:aws:iam::444455556666:role/x"]),
])
def test_a_second_hop_is_unknown_and_named(statement):
    found, unknown, text = judged(role(statement))
    assert found and unknown, text
    assert "sts:AssumeRole" in text and ROLE in text


@pytest.mark.parametrize("statement", [
    allow("s3:GetObject", "arn:aws:s3:::other/*"),
    allow("s3:ListBucket", "arn:aws:s3:::rec-audit-logs"),
    allow("iam:PutRolePolicy", "arn:aws:iam::111122223333:role/someone-else"),
    allow("s3:GetBucketLocation", ARN),  # where the bucket is, not what is in it
    allow("ec2:DescribeInstances", "*"),
])
def test_safe_look_alikes_pass(statement):
    assert judged(role(statement)) == (False, False, "")


def test_a_full_deny_or_a_boundary_without_it_passes():
    grant = allow(["s3:GetObject", "s3:ListBucket"], [ARN, f"{ARN}/*"])
    assert judged(role(grant, {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))[0] is False
    boundary = {"Version": "2012-10-17", "Statement": [allow("ec2:*", "*")]}
    assert judged(role(grant, boundary=boundary))[0] is False


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
def test_a_grant_under_conditions_is_unknown(action):
    found, unknown, text = judged(role(allow(action, f"{ARN}/*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
    assert found and unknown and "only under conditions" in text
