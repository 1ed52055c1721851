"""`verify` for S3: will Tavus be able to assume the role and write into the bucket, right now?

Reads the live role and bucket with boto3's default credentials (so `AWS_PROFILE` and
`AWS_ENDPOINT_URL` behave as usual) and judges what it finds with small pure functions, which
tests exercise on their own. A read the caller may not make, or an endpoint that cannot be reached,
makes exactly the checks that need that read unknown; every other check still runs, and the report
always lists the same ids (`CHECK_IDS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from components import tavus
from tavus_recording.rules.iam import (
    as_list,
    aws_principal,
    iam_match,
    load_policy_document,
    normalise_condition,
    principals,
    statements,
)
from tavus_recording.verify.report import UNMANAGED_BUCKET, Check, failed, passed, skipped, storage_fix, storage_managed, unknown

CALLER_ACCOUNT = "aws.caller.account"
ROLE_EXISTS = "aws.role.exists"
ROLE_TRUST = "aws.role.trust"
ROLE_MAX_SESSION = "aws.role.max_session"
ROLE_PERMISSIONS = "aws.role.permissions"
BUCKET_EXISTS = "aws.bucket.exists"
BUCKET_REGION = "aws.bucket.region"
BUCKET_VERSIONING = "aws.bucket.versioning"
BUCKET_PUBLIC_ACCESS_BLOCK = "aws.bucket.public_access_block"
BUCKET_OWNERSHIP = "aws.bucket.ownership"
BUCKET_ENCRYPTION = "aws.bucket.encryption"
BUCKET_TLS_ONLY = "aws.bucket.tls_only"

# Every report lists these, in this order.
CHECK_IDS: tuple[str, ...] = (
    CALLER_ACCOUNT,
    ROLE_EXISTS,
    ROLE_TRUST,
    ROLE_MAX_SESSION,
    ROLE_PERMISSIONS,
    BUCKET_EXISTS,
    BUCKET_REGION,
    BUCKET_VERSIONING,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_OWNERSHIP,
    BUCKET_ENCRYPTION,
    BUCKET_TLS_ONLY,
)
ROLE_CHECKS = (ROLE_EXISTS, ROLE_TRUST, ROLE_MAX_SESSION, ROLE_PERMISSIONS)
BUCKET_SETTING_CHECKS = (
    BUCKET_VERSIONING,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_OWNERSHIP,
    BUCKET_ENCRYPTION,
    BUCKET_TLS_ONLY,
)

# IAM is global; its API lives in us-east-1 (aws partition).
IAM_REGION = "us-east-1"
# Short timeouts and one retry: an unreachable endpoint turns into "unknown" within seconds.
# "standard" mode counts max_attempts as total attempts (legacy mode would add them as retries).
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})

# Which IAM action each API call verify makes needs (the service authorization reference's names,
# which are not always the API's: GetPublicAccessBlock needs s3:GetBucketPublicAccessBlock).
ACTIONS = {
    "get_caller_identity": "sts:GetCallerIdentity",
    "get_role": "iam:GetRole",
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
}

DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AllAccessDisabled"}
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

# The writer actions split by the resource they act on: the bucket, or its objects.
BUCKET_LEVEL_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads")
OBJECT_LEVEL_ACTIONS = tuple(a for a in tavus.S3_WRITER_ACTIONS if a not in BUCKET_LEVEL_ACTIONS)
_WRITER = {a.lower() for a in tavus.S3_WRITER_ACTIONS}
_KMS_WRITER = {a.lower() for a in tavus.KMS_WRITER_ACTIONS}

ROLE_ARN_PATTERN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?:[^:]*/)?(?P<name>[\w+=,.@-]+)$")
KMS_KEY_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[\w-]+$")


# --- pure: documents ---------------------------------------------------------------------


def region_of(location_constraint: Optional[str]) -> str:
    """GetBucketLocation's answer as a region: none means us-east-1, and the legacy `EU` eu-west-1."""
    if not location_constraint:
        return "us-east-1"
    return "eu-west-1" if location_constraint == "EU" else location_constraint


def _label(statement: Mapping[str, Any], index: int) -> str:
    return f"statement {statement['Sid']!r}" if statement.get("Sid") else f"statement {index + 1}"


def _who(names: Iterable[str]) -> str:
    return ", ".join("any principal (*)" if n == "*" else n for n in sorted(names))


# --- pure: judgements --------------------------------------------------------------------


def judge_trust(document: Mapping[str, Any], external_id: str, partition: str = "aws") -> list[str]:
    """What is wrong with a trust policy, against exactly one Allow of sts:AssumeRole for Tavus with the ExternalId."""
    tavus_principal = aws_principal(tavus.TAVUS_AWS_ACCOUNT_ID, partition)
    problems: list[str] = []
    for_tavus = 0
    for index, statement in enumerate(statements(document)):
        label = _label(statement, index)
        for negation in ("NotPrincipal", "NotAction"):
            if negation in statement:
                problems.append(f"{label} uses {negation}, which admits everything it does not name")
        effect = statement.get("Effect")
        if effect != "Allow":
            # The kit writes no Deny; one here could refuse Tavus, so it is drift to report.
            problems.append(f"{label} is a {effect} statement the kit does not write; it may refuse Tavus")
            continue
        who = principals(statement.get("Principal"), partition)
        others = who - {tavus_principal}
        if others:
            problems.append(f"{label} allows {_who(others)}; only {tavus_principal} may assume the role")
        if tavus_principal not in who:
            continue
        for_tavus += 1
        actions = sorted(str(a) for a in as_list(statement.get("Action")))
        if [a.lower() for a in actions] != ["sts:assumerole"]:
            problems.append(f"{label} allows {', '.join(actions) or 'no action'}; Tavus needs exactly sts:AssumeRole")
        problems += _judge_external_id(label, statement.get("Condition"), external_id)
    if for_tavus == 0:
        problems.append(f"no statement allows Tavus's account ({tavus_principal}) to assume the role")
    elif for_tavus > 1:
        problems.append(f"{for_tavus} statements allow Tavus; the kit writes exactly one")
    return problems


def _judge_external_id(label: str, condition: Any, external_id: str) -> list[str]:
    conditions = normalise_condition(condition)
    required = conditions.get("StringEquals", {}).get("sts:externalid")
    problems: list[str] = []
    if required is None:
        problems.append(
            f"{label} does not require sts:ExternalId (StringEquals sts:ExternalId = {external_id!r}), "
            "so anyone in Tavus's account could assume the role without Tavus's ExternalId"
        )
    elif required != [external_id]:
        problems.append(
            f"{label} requires sts:ExternalId {' or '.join(map(repr, required))}, "
            f"but Tavus sends the stack's external_id {external_id!r}"
        )
    extra = {op: keys for op, keys in conditions.items() if op != "StringEquals"}
    extra_keys = [k for k in conditions.get("StringEquals", {}) if k != "sts:externalid"]
    if extra or extra_keys:
        shown = sorted(f"{op} {key}" for op, keys in extra.items() for key in keys) + [f"StringEquals {k}" for k in extra_keys]
        problems.append(f"{label} adds conditions the kit does not write ({', '.join(shown)}); Tavus may not meet them")
    return problems


@dataclass(frozen=True)
class KmsUnknown:
    """The bucket's KMS key could not be determined (or matched), so KMS grants cannot be judged."""

    reason: str


# None: the bucket needs no customer key grant (SSE-S3, or the AWS managed aws/s3 key);
# a str: the key ARN the role must be able to use; KmsUnknown: cannot tell.
KmsNeed = Union[None, str, KmsUnknown]


@dataclass(frozen=True)
class PolicySource:
    """One policy on the role: `label` says which (inline policy X / attached policy ARN)."""

    label: str
    document: Mapping[str, Any]


@dataclass
class PermissionsVerdict:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Set when nothing is wrong that can be seen, but something could not be judged.
    unknown: Optional[str] = None

    @property
    def ok(self) -> Optional[bool]:
        if self.problems:
            return False
        return None if self.unknown else True


def _within_bucket(resource: str, bucket_arn: str) -> bool:
    # `bucket/*` (or a prefix under it) is the bucket's own objects; `bucket*` reaches other buckets.
    return resource == bucket_arn or resource.startswith(f"{bucket_arn}/")


def _grant_problem(action: str, resource: str, bucket_arn: str, kms: KmsNeed) -> Optional[str]:
    """Why granting `action` on `resource` is more than Tavus needs, or None if it is within need."""
    lowered = action.lower()
    service = lowered.split(":", 1)[0]
    if "*" in lowered or "?" in lowered:
        return f"grants the wildcard action {action} on {resource}"
    if service == "s3":
        if lowered not in _WRITER:
            return f"grants {action} on {resource}"
        if not _within_bucket(resource, bucket_arn):
            return f"grants {action} on {resource}, beyond bucket {bucket_arn} and its objects"
        return None
    if service == "kms" and lowered in _KMS_WRITER:
        if isinstance(kms, KmsUnknown):
            return None  # judged by the caller as unknown
        if kms is None:
            return f"grants {action} on {resource}, but the bucket is not encrypted with a customer KMS key"
        if resource != kms:
            return f"grants {action} on {resource}; the bucket's key is {kms}"
        return None
    return f"grants {action} on {resource}; Tavus needs only the S3 writer actions (and KMS use of the bucket's key)"


def judge_permissions(policies: Sequence[PolicySource], bucket_arn: str, kms: KmsNeed) -> PermissionsVerdict:
    """Do the role's policies grant all the writer actions on the bucket and its objects, and nothing more?"""
    verdict = PermissionsVerdict()
    grants: list[tuple[str, str]] = []
    with_deny: list[str] = []
    with_conditions: list[str] = []
    for source in policies:
        for index, statement in enumerate(statements(source.document)):
            label = f"{source.label} ({_label(statement, index)})"
            if statement.get("Effect") != "Allow":
                # A Deny only narrows: it cannot grant more, so it is not "more than needed".
                with_deny.append(source.label)
                continue
            for negation in ("NotAction", "NotResource"):
                if negation in statement:
                    verdict.problems.append(f"{label} allows with {negation}, granting everything it does not name")
            if "Condition" in statement:
                with_conditions.append(source.label)
            actions = [str(a) for a in as_list(statement.get("Action"))]
            resources = [str(r) for r in as_list(statement.get("Resource"))]
            for action in actions:
                reasons = [reason for r in resources if (reason := _grant_problem(action, r, bucket_arn, kms))]
                verdict.problems += [f"{label} {reason}" for reason in reasons]
                grants += [(action, r) for r in resources]

    required = [(a, bucket_arn) for a in BUCKET_LEVEL_ACTIONS] + [(a, f"{bucket_arn}/*") for a in OBJECT_LEVEL_ACTIONS]
    if isinstance(kms, str):
        required += [(a, kms) for a in tavus.KMS_WRITER_ACTIONS]
    for action, resource in required:
        if not any(iam_match(a, action, case_sensitive=False) and iam_match(r, resource) for a, r in grants):
            why = " (the bucket encrypts with this key: without it recordings fail to land)" if action.startswith("kms:") else ""
            verdict.problems.append(f"no policy grants {action} on {resource}{why}")

    if with_deny:
        verdict.notes.append(f"Deny statements in {', '.join(sorted(set(with_deny)))} are not evaluated for coverage")
    if with_conditions:
        verdict.notes.append(f"conditions in {', '.join(sorted(set(with_conditions)))} are not evaluated")
    if isinstance(kms, KmsUnknown):
        verdict.unknown = f"KMS grants not judged: {kms.reason}"
    return verdict


def enforces_tls(document: Mapping[str, Any], bucket_arn: str) -> bool:
    """A statement denies s3:* to everyone on the bucket and its objects when aws:SecureTransport is false."""
    for statement in statements(document):
        if statement.get("Effect") != "Deny" or {"NotAction", "NotResource", "NotPrincipal"} & statement.keys():
            continue
        if principals(statement.get("Principal")) != {"*"}:
            continue
        if not {str(a).lower() for a in as_list(statement.get("Action"))} & {"s3:*", "*"}:
            continue
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        if not all(any(iam_match(r, target) for r in resources) for target in (bucket_arn, f"{bucket_arn}/*")):
            continue
        # Any further condition would narrow the Deny, so only this exact one counts.
        if normalise_condition(statement.get("Condition")) == {"Bool": {"aws:securetransport": ["false"]}}:
            return True
    return False


# --- reading: thin SDK calls -------------------------------------------------------------


@dataclass(frozen=True)
class Unread:
    """A read that gave no answer. `detail` says why, for every check that needed it."""

    detail: str
    fix: str = ""
    # The service's error code when it answered (NoSuchBucket, NoSuchEntity...), else "".
    code: str = ""


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
                return Unread(
                    f"{action} not attempted: {endpoint} did not answer ({self._unreachable[endpoint]})",
                    "check the network, or AWS_ENDPOINT_URL if it is set",
                )
            return getattr(client, operation)(**kwargs)
        except ClientError as error:
            return _client_error(error, action)
        except (BotoConnectionError, HTTPClientError) as error:
            self._unreachable[endpoint] = str(error)
            return Unread(f"{action} not answered: {error}", "check the network, or AWS_ENDPOINT_URL if it is set")
        except BotoCoreError as error:  # no credentials, bad profile, SSO token expired...
            return Unread(
                f"{action} not attempted: {error}",
                "configure AWS credentials for the account (aws configure, aws sso login, or AWS_PROFILE)",
            )
        except Exception as error:  # noqa: BLE001 - verify must report, never crash, whatever the SDK raises
            return Unread(f"{action} failed: {type(error).__name__}: {error}")


def _client_error(error: ClientError, action: str) -> Unread:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in REJECTED_CREDENTIAL_CODES:
        return Unread(
            f"{action} refused: AWS rejected the credentials ({code})",
            "refresh the credentials (aws sso login, or new access keys)",
            code,
        )
    if code in DENIED_CODES or status == 403:
        return Unread(
            f"{action} denied: add it to your reader policy",
            f"grant {action} to the identity running verify (the README's verify reader policy)",
            "AccessDenied",
        )
    return Unread(f"{action} failed: {code or status}: {message}".rstrip(": "), code=code)


def _unknown(check_id: str, unread: Unread, context: str = "") -> Check:
    return unknown(check_id, f"{context}{unread.detail}", unread.fix)


# --- the checks --------------------------------------------------------------------------


def _pulumi_up(what: str) -> str:
    return f"run `pulumi up` for this stack to restore the kit's {what}"


SSE_S3_CONFIGURATION = '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'


def _bucket_fix(managed: bool, restore: str, direct: str) -> str:
    return storage_fix(managed, restore, direct, UNMANAGED_BUCKET)


def _restore_or(what: str, cli: str, managed: bool) -> str:
    """`pulumi up`, or the CLI line, for the kit's bucket; only the CLI line for an existing one."""
    return _bucket_fix(managed, f"{_pulumi_up(what)}, or: {cli}", cli)


def check_caller(reader: Reader, region: str, role_account: str) -> Check:
    identity = reader.call("sts", region, "get_caller_identity")
    if isinstance(identity, Unread):
        return _unknown(CALLER_ACCOUNT, identity)
    account, arn = identity.get("Account"), identity.get("Arn")
    if account == role_account:
        return passed(CALLER_ACCOUNT, f"credentials are {arn}, in account {account}, the role's account")
    return failed(
        CALLER_ACCOUNT,
        f"credentials are {arn}, in account {account}, but the role is in account {role_account}: "
        "the role checks would read the wrong account",
        f"run verify with credentials for account {role_account} (e.g. AWS_PROFILE=<a profile for {role_account}>)",
    )


def check_role(reader: Reader, role_name: str, role_arn: str, external_id: str, partition: str) -> list[Check]:
    """aws.role.exists, .trust and .max_session: all from one GetRole."""
    role = reader.call("iam", IAM_REGION, "get_role", RoleName=role_name)
    if isinstance(role, Unread):
        if role.code == "NoSuchEntity":
            return [
                failed(ROLE_EXISTS, f"role {role_name} does not exist; Tavus assumes {role_arn}", _pulumi_up("writer role")),
                *skipped((ROLE_TRUST, ROLE_MAX_SESSION), f"role {role_name} does not exist"),
            ]
        return [_unknown(check_id, role) for check_id in (ROLE_EXISTS, ROLE_TRUST, ROLE_MAX_SESSION)]
    role = role["Role"]
    checks = [passed(ROLE_EXISTS, f"role {role.get('Arn', role_arn)} exists")]

    try:
        trust = load_policy_document(role.get("AssumeRolePolicyDocument") or {})
        problems = judge_trust(trust, external_id, partition)
    except ValueError as error:
        problems = [f"the trust policy is not a JSON policy document ({error})"]
    if problems:
        checks.append(
            failed(
                ROLE_TRUST,
                "trust policy: " + "; ".join(problems),
                _pulumi_up("trust policy") + f" (IAM console > Roles > {role_name} > Trust relationships)",
            )
        )
    else:
        checks.append(
            passed(
                ROLE_TRUST,
                f"trust allows only {aws_principal(tavus.TAVUS_AWS_ACCOUNT_ID, partition)} to sts:AssumeRole, "
                f"with sts:ExternalId {external_id!r}",
            )
        )

    seconds = role.get("MaxSessionDuration")
    if seconds == tavus.MAX_SESSION_SECONDS:
        checks.append(passed(ROLE_MAX_SESSION, f"MaxSessionDuration is {seconds} s (12 h), as Tavus asks"))
    else:
        checks.append(
            failed(
                ROLE_MAX_SESSION,
                f"MaxSessionDuration is {seconds} s; Tavus asks for {tavus.MAX_SESSION_SECONDS} s (12 h) sessions and "
                'fails a shorter role with "unable to assume role with given parameters"',
                _pulumi_up("role")
                + f", or: aws iam update-role --role-name {role_name} --max-session-duration {tavus.MAX_SESSION_SECONDS}",
            )
        )
    return checks


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


def read_role_policies(reader: Reader, role_name: str) -> Union[list[PolicySource], Unread]:
    """Every policy on the role: inline ones, and the default version of each attached managed one."""
    sources: list[PolicySource] = []
    names = _paged(reader, "list_role_policies", "PolicyNames", RoleName=role_name)
    if isinstance(names, Unread):
        return names
    for name in names:
        inline = reader.call("iam", IAM_REGION, "get_role_policy", RoleName=role_name, PolicyName=name)
        if isinstance(inline, Unread):
            return inline
        sources.append(PolicySource(f"inline policy {name}", load_policy_document(inline["PolicyDocument"])))
    attached = _paged(reader, "list_attached_role_policies", "AttachedPolicies", RoleName=role_name)
    if isinstance(attached, Unread):
        return attached
    for entry in attached:
        arn = entry["PolicyArn"]
        policy = reader.call("iam", IAM_REGION, "get_policy", PolicyArn=arn)
        if isinstance(policy, Unread):
            return policy
        version = reader.call(
            "iam", IAM_REGION, "get_policy_version", PolicyArn=arn, VersionId=policy["Policy"]["DefaultVersionId"]
        )
        if isinstance(version, Unread):
            return version
        sources.append(PolicySource(f"attached policy {arn}", load_policy_document(version["PolicyVersion"]["Document"])))
    return sources


def check_permissions(reader: Reader, role_name: str, bucket_arn: str, kms: KmsNeed) -> Check:
    try:
        policies = read_role_policies(reader, role_name)
    except ValueError as error:  # a document that is not JSON
        return failed(ROLE_PERMISSIONS, f"a policy on role {role_name} is not a JSON policy document ({error})", _pulumi_up("writer policy"))
    if isinstance(policies, Unread):
        if policies.code == "NoSuchEntity":
            return skipped((ROLE_PERMISSIONS,), f"role {role_name} does not exist")[0]
        return _unknown(ROLE_PERMISSIONS, policies)
    verdict = judge_permissions(policies, bucket_arn, kms)
    notes = "".join(f"; {note}" for note in verdict.notes)
    held_in = "; ".join(p.label for p in policies) or "no policy"
    if verdict.ok is False:
        return failed(
            ROLE_PERMISSIONS,
            f"role {role_name}: " + "; ".join(verdict.problems) + notes,
            _pulumi_up("inline writer policy")
            + f"; detach or delete any other policy on the role (IAM console > Roles > {role_name} > Permissions)",
        )
    if verdict.ok is None:
        return unknown(ROLE_PERMISSIONS, f"role {role_name}: S3 grants are exactly the writer actions ({held_in}); {verdict.unknown}{notes}")
    kms_part = f", and {' and '.join(tavus.KMS_WRITER_ACTIONS)} on {kms}" if isinstance(kms, str) else ""
    return passed(
        ROLE_PERMISSIONS,
        f"the role's policies ({held_in}) grant exactly the {len(tavus.S3_WRITER_ACTIONS)} writer actions on {bucket_arn} and its objects"
        f"{kms_part}, nothing more{notes}",
    )


def check_encryption(reader: Reader, region: str, bucket: str, managed: bool = True) -> tuple[Check, KmsNeed]:
    """aws.bucket.encryption, and which KMS key (if any) the role must be able to use."""
    answer = reader.call("s3", region, "get_bucket_encryption", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "ServerSideEncryptionConfigurationNotFoundError":
            # Since January 2023 S3 encrypts every bucket with SSE-S3 and always reports it; an
            # emulator (moto) or an old API answers "not found", which still means SSE-S3 applies.
            return passed(BUCKET_ENCRYPTION, "no default encryption configured: S3's default SSE-S3 (AES256) applies"), None
        return _unknown(BUCKET_ENCRYPTION, answer), KmsUnknown(answer.detail)
    rules = answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    algorithm = default.get("SSEAlgorithm")
    if algorithm == "AES256":
        return passed(BUCKET_ENCRYPTION, "default encryption is SSE-S3 (AES256)"), None
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        key = default.get("KMSMasterKeyID")
        if not key:
            # The AWS managed aws/s3 key: its key policy admits S3 callers, so no IAM grant is needed.
            return passed(BUCKET_ENCRYPTION, f"default encryption is {algorithm} with the AWS managed key aws/s3"), None
        if KMS_KEY_ARN_PATTERN.match(key):
            return passed(BUCKET_ENCRYPTION, f"default encryption is {algorithm} with key {key}"), key
        reason = f"the bucket's key is given as {key!r}, an alias or bare key id that cannot be matched to the role's policy"
        return passed(BUCKET_ENCRYPTION, f"default encryption is {algorithm} with key {key}"), KmsUnknown(reason)
    return (
        failed(
            BUCKET_ENCRYPTION,
            f"default encryption is {algorithm or 'not set'}; the kit sets SSE-S3 (AES256) or SSE-KMS",
            _bucket_fix(
                managed,
                _pulumi_up("bucket encryption"),
                f"aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration '{SSE_S3_CONFIGURATION}'",
            ),
        ),
        None,
    )


def check_versioning(reader: Reader, region: str, bucket: str, managed: bool = True) -> Check:
    answer = reader.call("s3", region, "get_bucket_versioning", Bucket=bucket)
    if isinstance(answer, Unread):
        return _unknown(BUCKET_VERSIONING, answer)
    status = answer.get("Status")
    if status == "Enabled":
        return passed(BUCKET_VERSIONING, "versioning is Enabled, as Daily requires")
    return failed(
        BUCKET_VERSIONING,
        f"versioning is {status or 'never enabled'}; Daily (Tavus's recorder) requires it Enabled",
        _restore_or(
            "bucket versioning", f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled", managed
        ),
    )


PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def check_public_access_block(reader: Reader, region: str, bucket: str, managed: bool = True) -> Check:
    fix = _restore_or(
        "public access block",
        f"aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
        + ",".join(f"{flag}=true" for flag in PUBLIC_ACCESS_FLAGS),
        managed,
    )
    answer = reader.call("s3", region, "get_public_access_block", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "NoSuchPublicAccessBlockConfiguration":
            return failed(BUCKET_PUBLIC_ACCESS_BLOCK, "the bucket has no public access block; the kit turns on all four settings", fix)
        return _unknown(BUCKET_PUBLIC_ACCESS_BLOCK, answer)
    settings = answer.get("PublicAccessBlockConfiguration", {})
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if settings.get(flag) is not True]
    if off:
        return failed(BUCKET_PUBLIC_ACCESS_BLOCK, f"public access block has {', '.join(off)} off; recordings must not be public", fix)
    return passed(BUCKET_PUBLIC_ACCESS_BLOCK, "all four public access block settings are on")


def check_ownership(reader: Reader, region: str, bucket: str, managed: bool = True) -> Check:
    fix = _restore_or(
        "object ownership",
        f"aws s3api put-bucket-ownership-controls --bucket {bucket} --ownership-controls 'Rules=[{{ObjectOwnership=BucketOwnerEnforced}}]'",
        managed,
    )
    answer = reader.call("s3", region, "get_bucket_ownership_controls", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "OwnershipControlsNotFoundError":
            return failed(BUCKET_OWNERSHIP, "no object ownership controls: objects Tavus writes would be owned by Tavus's account", fix)
        return _unknown(BUCKET_OWNERSHIP, answer)
    rules = answer.get("OwnershipControls", {}).get("Rules", [])
    ownership = rules[0].get("ObjectOwnership") if rules else None
    if ownership == "BucketOwnerEnforced":
        return passed(BUCKET_OWNERSHIP, "object ownership is BucketOwnerEnforced: you own every recording, ACLs are off")
    return failed(BUCKET_OWNERSHIP, f"object ownership is {ownership}; the kit sets BucketOwnerEnforced", fix)


def check_tls_only(reader: Reader, region: str, bucket: str, bucket_arn: str, managed: bool = True) -> Check:
    console = f"S3 console > {bucket} > Permissions > Bucket policy"
    fix = _bucket_fix(
        managed,
        f"{_pulumi_up('TLS-only bucket policy')} ({console})",
        # put-bucket-policy would replace the whole policy, so an existing bucket's is edited in place.
        f"in {console}, add (keeping the other statements) a Deny of s3:* to Principal * on {bucket_arn} and "
        f"{bucket_arn}/* with the condition Bool aws:SecureTransport false",
    )
    answer = reader.call("s3", region, "get_bucket_policy", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "NoSuchBucketPolicy":
            return failed(BUCKET_TLS_ONLY, "the bucket has no policy, so requests over plain HTTP are not refused", fix)
        return _unknown(BUCKET_TLS_ONLY, answer)
    try:
        document = load_policy_document(answer.get("Policy") or "{}")
    except ValueError as error:
        return failed(BUCKET_TLS_ONLY, f"the bucket policy is not JSON ({error})", fix)
    if enforces_tls(document, bucket_arn):
        return passed(BUCKET_TLS_ONLY, "the bucket policy denies every request without TLS (aws:SecureTransport false)")
    return failed(
        BUCKET_TLS_ONLY,
        f"the bucket policy ({len(statements(document))} statements) has no Deny of s3:* to * on {bucket_arn} and its "
        "objects when aws:SecureTransport is false",
        fix,
    )


def check_bucket(
    reader: Reader, bucket: str, bucket_arn: str, expected_region: str, managed: bool = True
) -> tuple[list[Check], KmsNeed]:
    """The bucket's checks, and the KMS key the role needs (from its default encryption).

    `managed` is False for a bucket named with existingBucket: the fixes are then the direct ones only.
    """
    # GetBucketLocation answers from us-east-1 for a bucket in any region.
    location = reader.call("s3", IAM_REGION, "get_bucket_location", Bucket=bucket)
    region = expected_region
    checks: list[Check] = []
    if isinstance(location, Unread):
        if location.code == "NoSuchBucket":
            reason = f"bucket {bucket} does not exist"
            checks = [
                failed(
                    BUCKET_EXISTS,
                    f"{reason}; Tavus writes to it",
                    _bucket_fix(
                        managed,
                        _pulumi_up("bucket"),
                        f"check the name given in existingBucket (aws s3api head-bucket --bucket {bucket}), or create that bucket",
                    ),
                ),
                *skipped((BUCKET_REGION, *BUCKET_SETTING_CHECKS), reason),
            ]
            return checks, KmsUnknown(reason)
        checks += [_unknown(BUCKET_EXISTS, location), _unknown(BUCKET_REGION, location)]
    else:
        region = region_of(location.get("LocationConstraint"))
        checks.append(passed(BUCKET_EXISTS, f"bucket {bucket} exists"))
        if region == expected_region:
            checks.append(passed(BUCKET_REGION, f"bucket is in {region}, as recording_storage.bucket_region says"))
        else:
            checks.append(
                failed(
                    BUCKET_REGION,
                    f"bucket is in {region}, but recording_storage.bucket_region says {expected_region}: "
                    "Tavus would look for it in the wrong region",
                    f"run `pulumi refresh` and `pulumi up` for this stack so its outputs say {region}, "
                    "and pass Tavus the new recording_storage",
                )
            )
    # The bucket's own region from here on (real S3 redirects requests sent elsewhere).
    encryption, kms = check_encryption(reader, region, bucket, managed)
    checks += [
        check_versioning(reader, region, bucket, managed),
        check_public_access_block(reader, region, bucket, managed),
        check_ownership(reader, region, bucket, managed),
        encryption,
        check_tls_only(reader, region, bucket, bucket_arn, managed),
    ]
    return checks, kms


def verify(
    storage: tavus.S3RecordingStorageConfig,
    outputs: Mapping[str, Any],
    session: Optional[boto3.Session] = None,
) -> list[Check]:
    """Every check in `CHECK_IDS`, in that order.

    `outputs` is the whole stack output dict; the checks read only `storage`, which is what Tavus
    receives, so a bucket or role ARN output that disagrees with it cannot mask a problem. Only
    `storage_managed` is read from it: False (an existingBucket stack) keeps `pulumi up` out of the
    bucket's fixes; absent (a stack deployed before that output) means the kit made the bucket.
    """
    role_match = ROLE_ARN_PATTERN.match(storage.assume_role_arn)
    partition = role_match["partition"] if role_match else "aws"
    bucket = storage.bucket_name
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    try:
        session = session or boto3.Session()
    except BotoCoreError as error:  # e.g. AWS_PROFILE names a profile that does not exist
        return skipped(CHECK_IDS, f"no AWS session: {error}")

    reader = Reader(session)
    managed = storage_managed(outputs)
    bucket_checks, kms = check_bucket(reader, bucket, bucket_arn, storage.bucket_region, managed)
    checks = bucket_checks

    if not role_match:
        reason = f"assume_role_arn {storage.assume_role_arn!r} is not an IAM role ARN"
        checks += [
            unknown(CALLER_ACCOUNT, f"not checked: {reason}"),
            failed(ROLE_EXISTS, reason, _pulumi_up("writer role") + " and pass Tavus the new recording_storage"),
            *skipped((ROLE_TRUST, ROLE_MAX_SESSION, ROLE_PERMISSIONS), reason),
        ]
    else:
        role_name, role_account = role_match["name"], role_match["account"]
        caller = check_caller(reader, session.region_name or storage.bucket_region, role_account)
        checks.append(caller)
        if caller.ok is False:
            checks += skipped(ROLE_CHECKS, f"the credentials are not for the role's account {role_account}")
        else:
            checks += check_role(reader, role_name, storage.assume_role_arn, storage.external_id, partition)
            checks.append(check_permissions(reader, role_name, bucket_arn, kms))
    by_id = {check.id: check for check in checks}
    return [by_id[check_id] for check_id in CHECK_IDS]


def reader_policy(role_arn: str, bucket_name: str) -> dict[str, Any]:
    """The least read-only IAM policy that lets a person run `verify` for this destination.

    sts:GetCallerIdentity needs no permission. GetPolicy/GetPolicyVersion read whichever managed
    policies are attached (AWS's own or the account's), so they name policies, not one ARN.
    """
    match = ROLE_ARN_PATTERN.match(role_arn)
    partition = match["partition"] if match else "aws"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTavusWriterRole",
                "Effect": "Allow",
                "Action": [
                    ACTIONS["get_role"],
                    ACTIONS["list_role_policies"],
                    ACTIONS["get_role_policy"],
                    ACTIONS["list_attached_role_policies"],
                ],
                "Resource": role_arn,
            },
            {
                "Sid": "ReadAttachedPolicies",
                "Effect": "Allow",
                "Action": [ACTIONS["get_policy"], ACTIONS["get_policy_version"]],
                "Resource": f"arn:{partition}:iam::*:policy/*",
            },
            {
                "Sid": "ReadRecordingBucketSettings",
                "Effect": "Allow",
                "Action": [
                    ACTIONS["get_bucket_location"],
                    ACTIONS["get_bucket_versioning"],
                    ACTIONS["get_public_access_block"],
                    ACTIONS["get_bucket_ownership_controls"],
                    ACTIONS["get_bucket_encryption"],
                    ACTIONS["get_bucket_policy"],
                ],
                "Resource": f"arn:{partition}:s3:::{bucket_name}",
            },
        ],
    }
