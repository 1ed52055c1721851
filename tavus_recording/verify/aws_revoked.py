"""`verify` for an S3 stack whose Tavus access is revoked (`tavus_access: revoked`): the other way round, nothing
lets Tavus in.

Such a stack exports no recording_storage and no role_arn (the kit deletes the role); what it still exports
(bucket_name, bucket_arn) names the bucket. Tavus is cut off when no IAM role of the account whose trust admits
Tavus's account 291871421005 can reach the bucket (read, list, write, delete, change its policy/ACLs or its own
IAM) or assume another role (every role read with iam:ListRoles; a hurried admin may have
re-created one by hand), and the bucket policy grants Tavus's account nothing. The bucket's own settings are
still checked: a revoked stack keeps every recording and every setting.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, Optional, Union

import boto3

from components import tavus
from tavus_recording.rules.aws import revoked as rules
from tavus_recording.rules.aws.grants import PolicyDoc
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import load_policy_document
from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify.aws_reads import (
    IAM_REGION,
    Reader,
    Unread,
    _paged,
    managed_policy,
    organization_policies,
    policy_lists_unread,
    role_policies,
)
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import CannotVerify, Check, from_findings, storage_managed

ACCESS_REVOKED = rules.ACCESS_REVOKED
# Every revoked run reports exactly these, in this order: the cut, then the bucket that keeps the recordings
# (not its region: a revoked stack exports none to hold it to).
REVOKED_CHECK_IDS: tuple[str, ...] = (ACCESS_REVOKED, verify_aws.BUCKET_EXISTS, *verify_aws.BUCKET_SETTING_CHECKS)
# What recording_storage carries for a revoked stack: no role, and the region read from S3 itself.
NO_ROLE = "none (tavus_access: revoked)"
UNKNOWN_REGION = "read from S3"
_RUNBOOK = "README: Incident: cut Tavus off"


def revoked_storage(outputs: Mapping[str, Any], source: str) -> tavus.S3RecordingStorageConfig:
    """What verify reads of a revoked stack, from the outputs it still exports."""
    bucket = outputs.get("bucket_name")
    if not isinstance(bucket, str) or not bucket or outputs.get("bucket_arn") != f"arn:aws:s3:::{bucket}":
        raise OutputsError(f"this stack's Tavus access is revoked ({source} has tavus_access: revoked), but its outputs lack a bucket_name "
                           "that bucket_arn agrees with, so verify cannot tell what to check; run `pulumi up` with this version of "
                           "the kit, or see " + _RUNBOOK)
    region = outputs.get("bucket_region")
    return tavus.S3RecordingStorageConfig(bucket_name=bucket, bucket_region=region if isinstance(region, str) and region else UNKNOWN_REGION,
                                          assume_role_arn=NO_ROLE, external_id=tavus.DEFAULT_EXTERNAL_ID)


def _trusting_role(reader: Reader, role: Mapping[str, Any]) -> Optional[rules.TrustingRole]:
    """The role as the rule needs it, when its trust admits Tavus's account; None when it does not."""
    try:
        trust = load_policy_document(role.get("AssumeRolePolicyDocument") or {})
    except ValueError:
        trust = None
    arn, name = str(role.get("Arn")), str(role.get("RoleName"))
    if trust is not None and not rules.trusts_tavus(trust):
        return None
    if trust is None:  # a trust nobody can read strictly: it may admit Tavus
        return rules.TrustingRole(arn, None, reason="its trust policy is not a JSON policy document")
    # The role's policies need nothing GetRole says: read with it (their lists wasted when GetRole turns out to fail).
    if not isinstance(reader.peek("iam", IAM_REGION, "get_role", RoleName=name), Unread):
        reader.warm(lambda: role_policies(reader, name))
    # ListRoles leaves out the permissions boundary: GetRole has it.
    full = reader.call("iam", IAM_REGION, "get_role", RoleName=name)
    if isinstance(full, Unread):
        return rules.TrustingRole(arn, None, reason=full.detail, fix=full.fix)
    boundary_arn = str((full["Role"].get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") or "")
    read_boundary = functools.partial(managed_policy, reader, boundary_arn, f"permissions boundary {boundary_arn}")
    if boundary_arn and not policy_lists_unread(reader, name):  # needs nothing the policies say
        reader.warm(read_boundary)
    docs = role_policies(reader, name)
    if isinstance(docs, Unread):
        return rules.TrustingRole(arn, None, reason=docs.detail, fix=docs.fix)
    boundary = read_boundary() if boundary_arn else None
    return rules.TrustingRole(arn, docs, boundary if boundary and boundary.document is not None else None, full["Role"].get("RoleId"))


def _may_trust_tavus(role: Mapping[str, Any]) -> bool:
    """`_trusting_role` gives a role for it (from ListRoles' answer alone)."""
    try:
        return rules.trusts_tavus(load_policy_document(role.get("AssumeRolePolicyDocument") or {}))
    except ValueError:
        return True


def _trusting_roles(reader: Reader, caller_region: Optional[str] = None) -> tuple[Union[list[Any], Unread], list[rules.TrustingRole]]:
    """The account's roles (or why they could not be listed), and those whose trust admits Tavus's account, read.
    With `caller_region` (while planning), also the organization's policies `check_access_revoked` reads when one does."""
    roles = _paged(reader, "list_roles", "Roles")
    if isinstance(roles, Unread):
        return roles, []
    # Each role's reads need nothing another's say: read together.
    reads = [functools.partial(_trusting_role, reader, role) for role in roles]
    reader.warm(*reads)
    identity = reader.peek("sts", caller_region, "get_caller_identity") if caller_region else None
    if isinstance(identity, dict) and identity.get("Account") and any(_may_trust_tavus(role) for role in roles):
        reader.warm(functools.partial(organization_policies, reader, identity["Account"]))
    return roles, [t for read in reads if (t := read()) is not None]


def check_access_revoked(reader: Reader, account: Optional[str], bucket: str, policy: Optional[PolicyDoc]) -> Check:
    """aws.access.revoked: no role trusting Tavus's account can reach the bucket (rules.REACH) or assume another role;
    the bucket policy grants it nothing."""
    found: list[Finding] = []
    roles, trusting = _trusting_roles(reader)
    if isinstance(roles, Unread):
        found.append(Finding(ACCESS_REVOKED, f"the account's roles could not be listed: {roles.detail}", roles.fix, unknown=True))
    guardrails = organization_policies(reader, account) if trusting and account else []
    resource_policies = [policy] if policy is not None and policy.document is not None else []
    for role in trusting:
        found += rules.role_findings(role, bucket, resource_policies, guardrails)
    if policy is not None and policy.document is None:
        found.append(Finding(ACCESS_REVOKED, f"the bucket policy could not be read ({policy.reason})", policy.remedy, unknown=True))
    elif policy is not None:  # None: the bucket is gone, and with it any grant on it
        found += rules.bucket_policy_grants(policy.document, bucket, {account} if account else set())
    kept = (f"; {len(trusting)} role(s) still trust Tavus's account but none can reach the bucket or assume another role"
            if trusting else "")
    listed = f"none of the account's {len(roles)} roles" if not isinstance(roles, Unread) else "no role"
    return from_findings(ACCESS_REVOKED, found, f"{listed} trusts Tavus's account {tavus.TAVUS_AWS_ACCOUNT_ID} and can read, list, write "
                         f"or delete the objects of bucket {bucket}, change its policy or ACLs, change its own IAM, or assume another role; and the bucket policy grants Tavus's account nothing{kept}")


def verify_revoked(storage: tavus.S3RecordingStorageConfig, outputs: Mapping[str, Any], session: Optional[boto3.Session] = None) -> list[Check]:
    """Every check in REVOKED_CHECK_IDS, in that order; `CannotVerify` when AWS cannot be read at all."""
    session = verify_aws._session(session)
    with Reader(session) as reader:
        # The checks read one after another, in this order; their independent reads are fetched together beforehand.
        return reader.in_rounds(lambda: _revoked_checks(reader, session, storage, outputs))


def _revoked_checks(reader: Reader, session: boto3.Session, storage: tavus.S3RecordingStorageConfig,
                    outputs: Mapping[str, Any]) -> list[Check]:
    region = session.region_name or IAM_REGION
    bucket = storage.bucket_name
    expected = storage.bucket_region if storage.bucket_region != UNKNOWN_REGION else region
    # The bucket's reads and the roles' need nothing the caller's identity says: they start with it.
    reader.warm(lambda: verify_aws.check_bucket(reader, bucket, f"arn:aws:s3:::{bucket}", expected, set(), outputs, storage_managed(outputs)),
                lambda: _trusting_roles(reader, region))
    identity = reader.call("sts", region, "get_caller_identity")
    if isinstance(identity, Unread) and identity.unreachable:
        raise CannotVerify(f"cannot reach AWS with these credentials: {identity.detail}; {identity.fix}")
    account = None if isinstance(identity, Unread) else identity.get("Account")
    facts = verify_aws.check_bucket(reader, bucket, f"arn:aws:s3:::{bucket}", expected, {account} if account else set(), outputs,
                                    storage_managed(outputs))
    checks = [check_access_revoked(reader, account, bucket, facts.policy if facts.exists else None), *facts.checks]
    by_id = {check.id: check for check in checks}
    return [by_id[check_id] for check_id in REVOKED_CHECK_IDS]


def revoked_reader_policy(account: str, bucket_name: str, audit_log_bucket: Optional[str] = None) -> dict[str, Any]:
    """The reader policy for a revoked stack: the granted one's reads, with every role of the account in place of
    the writer's (any of them may trust Tavus), and iam:ListRoles to find them (it names no resource: "*")."""
    policy = verify_aws.reader_policy(f"arn:aws:iam::{account}:role/*", bucket_name, audit_log_bucket)
    policy["Statement"][0]["Sid"] = "ReadRolesThatMayTrustTavus"
    policy["Statement"].insert(0, {"Sid": "ListRoles", "Effect": "Allow", "Action": [verify_aws.ACTIONS["list_roles"]], "Resource": "*"})
    return policy
