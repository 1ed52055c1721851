"""What `verify` reads from AWS, and nothing else: thin boto3 calls that never raise.

Each call returns the API's answer or an `Unread` saying why there is none (denied, missing,
unreachable, refused credentials). Documents come back as `PolicyDoc`s, ready for the shared rules;
one that could not be read is a `PolicyDoc` with no document and the reason, which the rules turn
into an unknown, never a pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional, Union

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from tavus_recording.rules.aws import PolicyDoc
from tavus_recording.rules.iam import load_policy_document

# IAM and Organizations are global; their API lives in us-east-1 (aws partition).
IAM_REGION = "us-east-1"
# Short timeouts and one retry: an unreachable endpoint turns into "unknown" within seconds.
# "standard" mode counts max_attempts as total attempts (legacy mode would add them as retries).
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})

# Which IAM action each API call verify makes needs (the service authorization reference's names,
# which are not always the API's: GetPublicAccessBlock needs s3:GetBucketPublicAccessBlock).
ACTIONS = {
    "get_caller_identity": "sts:GetCallerIdentity",
    "get_role": "iam:GetRole",
    "list_roles": "iam:ListRoles",
    "list_role_policies": "iam:ListRolePolicies",
    "get_role_policy": "iam:GetRolePolicy",
    "list_attached_role_policies": "iam:ListAttachedRolePolicies",
    "get_policy": "iam:GetPolicy",
    "get_policy_version": "iam:GetPolicyVersion",
    "get_bucket_location": "s3:GetBucketLocation",
    "get_bucket_versioning": "s3:GetBucketVersioning",
    "get_public_access_block": "s3:GetBucketPublicAccessBlock",
    "get_bucket_ownership_controls": "s3:GetBucketOwnershipControls",
    "get_bucket_encryption": "s3:GetEncryptionConfiguration",
    "get_bucket_policy": "s3:GetBucketPolicy",
    "get_bucket_acl": "s3:GetBucketAcl",
    "get_bucket_replication": "s3:GetReplicationConfiguration",
    "get_bucket_lifecycle_configuration": "s3:GetLifecycleConfiguration",
    # ListBucketIntelligentTieringConfigurations is authorized as s3:GetIntelligentTieringConfiguration (service
    # authorization reference: "get or list all Amazon S3 Intelligent Tiering configuration in a S3 Bucket").
    "list_bucket_intelligent_tiering_configurations": "s3:GetIntelligentTieringConfiguration",
    "get_object_lock_configuration": "s3:GetBucketObjectLockConfiguration",
    "get_trail": "cloudtrail:GetTrail",
    "get_event_selectors": "cloudtrail:GetEventSelectors",
    "get_trail_status": "cloudtrail:GetTrailStatus",
    "head_bucket": "s3:ListBucket",
    "describe_key": "kms:DescribeKey",
    "get_key_policy": "kms:GetKeyPolicy",
    "describe_organization": "organizations:DescribeOrganization",
    "list_roots": "organizations:ListRoots",
    "list_parents": "organizations:ListParents",
    "list_policies_for_target": "organizations:ListPoliciesForTarget",
    "describe_policy": "organizations:DescribePolicy",
}

DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AllAccessDisabled", "403"}
REJECTED_CREDENTIAL_CODES = {
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
    "UnrecognizedClientException",
    "RequestExpired",
}
NETWORK_FIX = "check the network, or AWS_ENDPOINT_URL if it is set"
CREDENTIALS_FIX = "configure AWS credentials for the account (aws configure, aws sso login, or AWS_PROFILE)"


@dataclass(frozen=True)
class Unread:
    """A read that gave no answer. `detail` says why, for every check that needed it."""

    detail: str
    fix: str = ""
    # The service's error code when it answered (NoSuchBucket, NoSuchEntity...), else "".
    code: str = ""
    # No answer at all: the endpoint could not be reached, or the credentials were refused.
    unreachable: bool = False


class Reader:
    """boto3 clients with short timeouts; each call returns the response or an `Unread`, never raises."""

    def __init__(self, session: boto3.Session) -> None:
        self._session = session
        self._clients: dict[tuple[str, str], Any] = {}
        # An endpoint that could not be reached once is not tried again: one wait per endpoint.
        self._unreachable: dict[str, str] = {}

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, region_name=region, config=CLIENT_CONFIG)
        return self._clients[key]

    def call(self, service: str, region: str, operation: str, **kwargs: Any) -> Any:
        action = ACTIONS[operation]
        endpoint = service
        try:
            client = self._client(service, region)
            endpoint = str(client.meta.endpoint_url)
            if endpoint in self._unreachable:
                return Unread(f"{action} not attempted: {endpoint} did not answer ({self._unreachable[endpoint]})", NETWORK_FIX, unreachable=True)
            return getattr(client, operation)(**kwargs)
        except ClientError as error:
            return _client_error(error, action)
        except (BotoConnectionError, HTTPClientError) as error:
            self._unreachable[endpoint] = str(error)
            return Unread(f"{action} not answered: {error}", NETWORK_FIX, unreachable=True)
        except BotoCoreError as error:  # no credentials, bad profile, SSO token expired...
            return Unread(f"{action} not attempted: {error}", CREDENTIALS_FIX, unreachable=True)
        except Exception as error:  # noqa: BLE001 - verify must report, never crash, whatever the SDK raises
            return Unread(f"{action} failed: {type(error).__name__}: {error}")


def _client_error(error: ClientError, action: str) -> Unread:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in REJECTED_CREDENTIAL_CODES:
        return Unread(f"{action} refused: AWS rejected the credentials ({code})", "refresh the credentials (aws sso login, or new access keys)",
                      code, unreachable=True)
    if code in DENIED_CODES or status == 403:
        return Unread(f"{action} denied: add it to your reader policy",
                      f"grant {action} to the identity running verify (the README's verify reader policy)", "AccessDenied")
    return Unread(f"{action} failed: {code or status}: {message}".rstrip(": "), code=code)


def _paged(reader: Reader, operation: str, key: str, **kwargs: Any) -> Union[list[Any], Unread]:
    items: list[Any] = []
    marker: Optional[str] = None
    while True:
        page = reader.call("iam", IAM_REGION, operation, **kwargs, **({"Marker": marker} if marker else {}))
        if isinstance(page, Unread):
            return page
        items += page.get(key, [])
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return items


def unread(label: str, why: Unread) -> PolicyDoc:
    """A document that could not be read, with what would let verify read it."""
    return PolicyDoc(label, None, reason=why.detail, remedy=why.fix)


def _document(value: Any, label: str) -> PolicyDoc:
    try:
        return PolicyDoc(label, load_policy_document(value))
    except ValueError as error:
        return PolicyDoc(label, None, reason=f"not a JSON policy document ({error})")


def managed_policy(reader: Reader, arn: str, label: str) -> PolicyDoc:
    """The default version of a managed policy, or why it could not be read."""
    policy = reader.call("iam", IAM_REGION, "get_policy", PolicyArn=arn)
    if isinstance(policy, Unread):
        return unread(label, policy)
    version = reader.call("iam", IAM_REGION, "get_policy_version", PolicyArn=arn, VersionId=policy["Policy"]["DefaultVersionId"])
    if isinstance(version, Unread):
        return unread(label, version)
    return _document(version["PolicyVersion"]["Document"], label)


def role_policies(reader: Reader, role_name: str) -> Union[list[PolicyDoc], Unread]:
    """Every policy on the role: inline ones, and the default version of each attached managed one."""
    docs: list[PolicyDoc] = []
    names = _paged(reader, "list_role_policies", "PolicyNames", RoleName=role_name)
    if isinstance(names, Unread):
        return names
    for name in names:
        inline = reader.call("iam", IAM_REGION, "get_role_policy", RoleName=role_name, PolicyName=name)
        label = f"inline policy {name}"
        docs.append(unread(label, inline) if isinstance(inline, Unread) else _document(inline["PolicyDocument"], label))
    attached = _paged(reader, "list_attached_role_policies", "AttachedPolicies", RoleName=role_name)
    if isinstance(attached, Unread):
        return attached
    docs += [managed_policy(reader, entry["PolicyArn"], f"attached policy {entry['PolicyArn']}") for entry in attached]
    return docs


# Organization policies that can stop Tavus's writes in the account: SCPs (what its principals may do) and
# RCPs (what may be done to its resources), each attached at the root, at OUs and at the account.
ORGANIZATION_POLICY_TYPES = {"SERVICE_CONTROL_POLICY": "SCPs", "RESOURCE_CONTROL_POLICY": "RCPs"}


def _enabled_types(reader: Reader, organization: dict[str, Any]) -> Union[set[str], Unread]:
    roots = reader.call("organizations", IAM_REGION, "list_roots")
    if isinstance(roots, Unread):
        return roots
    enabled = {t.get("Type") for root in roots.get("Roots", []) for t in root.get("PolicyTypes", []) if t.get("Status") == "ENABLED"}
    # An organization's (deprecated) list of available types is what older APIs and emulators fill in.
    enabled |= {t.get("Type") for t in organization.get("AvailablePolicyTypes", []) if t.get("Status") == "ENABLED"}
    return enabled & set(ORGANIZATION_POLICY_TYPES)


def _chain(reader: Reader, account: str, policy_type: str) -> list[PolicyDoc]:
    """One merged document per level above the account (the account, its OUs, the root): at each level one
    of the attached policies must allow an action, and a Deny in any stops it."""
    kind = ORGANIZATION_POLICY_TYPES[policy_type]
    levels: list[PolicyDoc] = []
    target: Optional[str] = account
    seen: set[str] = set()
    while target and target not in seen and len(seen) < 10:
        seen.add(target)
        attached = reader.call("organizations", IAM_REGION, "list_policies_for_target", TargetId=target, Filter=policy_type)
        if isinstance(attached, Unread):
            return [unread(f"the organization's {kind}", attached)]
        statements: list[Any] = []
        for summary in attached.get("Policies", []):
            policy = reader.call("organizations", IAM_REGION, "describe_policy", PolicyId=summary["Id"])
            name = f"{kind[:-1]} {summary.get('Name', summary['Id'])}"
            if isinstance(policy, Unread):
                return [unread(name, policy)]
            try:
                content = json.loads(policy["Policy"]["Content"])
            except (ValueError, KeyError, TypeError):
                return [PolicyDoc(name, None, reason="not a JSON policy")]
            found = content.get("Statement") if isinstance(content, dict) else None
            statements += found if isinstance(found, list) else [found]
        levels.append(PolicyDoc(f"the {kind} attached to {target}", {"Statement": statements}))
        parents = reader.call("organizations", IAM_REGION, "list_parents", ChildId=target)
        if isinstance(parents, Unread):
            return [unread(f"the organization's {kind}", parents)]
        target = next((p["Id"] for p in parents.get("Parents", [])), None)
    return levels


def organization_policies(reader: Reader, account: str) -> list[PolicyDoc]:
    """The SCPs and RCPs over `account`, merged per level; none when the account is in no organization; an
    unreadable `PolicyDoc` when they could not be read (a member account usually cannot)."""
    organization = reader.call("organizations", IAM_REGION, "describe_organization")
    if isinstance(organization, Unread):
        if organization.code == "AWSOrganizationsNotInUseException":
            return []
        return [unread("the organization's SCPs and RCPs", organization)]
    enabled = _enabled_types(reader, organization.get("Organization", {}))
    if isinstance(enabled, Unread):
        return [unread("the organization's SCPs and RCPs", enabled)]
    return [doc for policy_type in sorted(enabled) for doc in _chain(reader, account, policy_type)]
