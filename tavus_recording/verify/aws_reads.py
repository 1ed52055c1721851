"""What `verify` reads from AWS, and nothing else: thin boto3 calls that never raise.

Each call returns the API's answer or an `Unread` saying why there is none (denied, missing,
unreachable, refused credentials). Documents come back as `PolicyDoc`s, ready for the shared rules;
one that could not be read is a `PolicyDoc` with no document and the reason, which the rules turn
into an unknown, never a pass.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar, Union

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from tavus_recording.rules.aws import PolicyDoc
from tavus_recording.rules.iam import load_policy_document
from tavus_recording.verify.together import together

T = TypeVar("T")

# IAM and Organizations are global; their API lives in us-east-1 (aws partition).
IAM_REGION = "us-east-1"
# Short timeouts and one retry: an unreachable endpoint turns into "unknown" within seconds. total_max_attempts
# counts the first attempt; botocore reads a Config's max_attempts as retries, adding one (botocore/args.py).
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 2, "mode": "standard"})

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


_Key = tuple[str, str, str, str]
# A read a prefetch left out: another read of its round found its endpoint unreachable.
_SKIPPED = object()
# A read the rounds did not fetch.
_MISSING = object()
# Rounds planned at most; any read still unfetched after them is made when the checks ask for it.
MAX_ROUNDS = 40


@dataclass(frozen=True)
class _Raised:
    """What a fetched read raised, kept to be judged when the checks ask for it, as if raised then."""

    error: Exception


class _Pending(BaseException):
    """Planning reached a read not fetched yet: that line of reads stops until its round brings the answer.
    A BaseException, so that no `except Exception` in a check can take it for an answer."""


def _key(service: str, region: str, operation: str, kwargs: dict[str, Any]) -> _Key:
    return service, region, operation, json.dumps(kwargs, sort_keys=True, default=str)


def _fetch(client: Any, operation: str, kwargs: dict[str, Any]) -> Any:
    """The API's answer, or what it raised."""
    try:
        return getattr(client, operation)(**kwargs)
    except Exception as error:  # noqa: BLE001 - judged by `_unread` when the checks ask for it
        return _Raised(error)


def _unread(error: Exception, action: str) -> Unread:
    if isinstance(error, ClientError):
        return _client_error(error, action)
    if isinstance(error, (BotoConnectionError, HTTPClientError)):
        return Unread(f"{action} not answered: {error}", NETWORK_FIX, unreachable=True)
    if isinstance(error, BotoCoreError):  # no credentials, bad profile, SSO token expired...
        return Unread(f"{action} not attempted: {error}", CREDENTIALS_FIX, unreachable=True)
    # verify must report, never crash, whatever the SDK raises
    return Unread(f"{action} failed: {type(error).__name__}: {error}")


def _no_answer(error: Exception) -> bool:
    return isinstance(error, (BotoConnectionError, HTTPClientError))


class Reader:
    """boto3 clients with short timeouts; each call returns the response or an `Unread`, never raises.

    `in_rounds(run)` runs `run` (the checks, reading through `call`) with its independent reads fetched together.
    It first follows `run` in planning passes: a read not fetched yet is noted and stops its line of code, while
    the reads `warm` names (those that need nothing the code before them learns) are followed on their own; the
    reads noted in one pass are fetched together (a round), and the next pass plans with their answers, until `run`
    needs nothing more. Then `run` runs for real, one read after another in its own order, answered from what was
    fetched (a read nothing fetched is made then, as before). What is judged, and every detail, including which read
    found an endpoint unreachable and which were then not attempted, is what reading one after another gives.
    """

    def __init__(self, session: boto3.Session) -> None:
        self._session = session
        self._clients: dict[tuple[str, str], Any] = {}
        # An endpoint that could not be reached once is not tried again: one wait per endpoint.
        self._unreachable: dict[str, str] = {}
        # What the rounds fetched, by read; the endpoints a fetched read could not reach.
        self._fetched: dict[_Key, Any] = {}
        self._dead: dict[str, str] = {}
        # While planning: the reads the pass needs and that are not fetched yet (None: not planning).
        self._wanted: Optional[dict[_Key, tuple[str, str, str, dict[str, Any]]]] = None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the clients' connections now (reads in rounds open several per endpoint), not when they are collected."""
        for client in self._clients.values():
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing is tidying; a client that cannot close holds nothing verify needs
                pass

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, region_name=region, config=CLIENT_CONFIG)
        return self._clients[key]

    def call(self, service: str, region: str, operation: str, **kwargs: Any) -> Any:
        action = ACTIONS[operation]
        try:
            client = self._client(service, region)
        except Exception as error:  # noqa: BLE001 - e.g. an unknown region: judged as a failed read
            return _unread(error, action)
        endpoint = str(client.meta.endpoint_url)
        planning = self._wanted is not None
        if endpoint in self._unreachable or (planning and endpoint in self._dead):
            why = self._unreachable.get(endpoint) or self._dead.get(endpoint)
            return Unread(f"{action} not attempted: {endpoint} did not answer ({why})", NETWORK_FIX, unreachable=True)
        key = _key(service, region, operation, kwargs)
        outcome = self._fetched.get(key, _MISSING)
        if outcome is _MISSING:
            if self._wanted is not None:
                self._wanted.setdefault(key, (service, region, operation, kwargs))
                raise _Pending
            outcome = _fetch(client, operation, kwargs)
        elif not isinstance(outcome, _Raised):
            outcome = copy.deepcopy(outcome)  # each reader of an answer gets its own, as a fresh read would give
        if not isinstance(outcome, _Raised):
            return outcome
        if _no_answer(outcome.error) and not planning:
            self._unreachable[endpoint] = str(outcome.error)
        return _unread(outcome.error, action)

    # --- reading in rounds -------------------------------------------------------------------------------------

    def warm(self, *reads: Callable[[], Any]) -> None:
        """While planning, follow each of `reads` now, on its own: their reads need nothing the code between here and
        where they are made learns, so they join this round. Outside planning, nothing: the code asks for them in
        its own order."""
        if self._wanted is None:
            return
        for read in reads:
            try:
                read()
            except _Pending:
                pass
            except Exception:  # noqa: BLE001 - planning only notes reads; the real run reports what it finds
                pass

    def peek(self, service: str, region: str, operation: str, **kwargs: Any) -> Any:
        """While planning, what `call` would answer if that read is fetched already; None when it is not (and it is
        not asked for). For a warm-up to stop where an answer already in shows the code will not go."""
        if self._wanted is None:
            return None
        wanted, self._wanted = self._wanted, {}
        try:
            return self.call(service, region, operation, **kwargs)
        except _Pending:
            return None
        finally:
            self._wanted = wanted

    def in_rounds(self, run: Callable[[], T]) -> T:
        """`run`'s answer, read one after another, with its reads fetched beforehand in dependency rounds."""
        for _ in range(MAX_ROUNDS):
            self._wanted = {}
            try:
                run()
                done = True
            except _Pending:
                done = False
            except Exception:  # noqa: BLE001 - e.g. CannotVerify: the real run below raises it where it would have
                done = True
            finally:
                wanted, self._wanted = self._wanted, None
            if done or not wanted:
                break
            self._prefetch(wanted)
        return run()

    def _prefetch(self, wanted: dict[_Key, tuple[str, str, str, dict[str, Any]]]) -> None:
        # The clients are made here, in this thread: a boto3 Session is not thread-safe; its clients are.
        jobs = [(key, self._client(service, region), operation, kwargs) for key, (service, region, operation, kwargs) in wanted.items()]
        outcomes = together([functools.partial(self._fetch_once, client, operation, kwargs) for _, client, operation, kwargs in jobs])
        for (key, *_), outcome in zip(jobs, outcomes):
            if outcome is not _SKIPPED:
                self._fetched[key] = outcome

    def _fetch_once(self, client: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        """One read of a round; none once another read of the round found its endpoint unreachable."""
        endpoint = str(client.meta.endpoint_url)
        if endpoint in self._dead or endpoint in self._unreachable:
            return _SKIPPED
        outcome = _fetch(client, operation, kwargs)
        if isinstance(outcome, _Raised) and _no_answer(outcome.error):
            self._dead.setdefault(endpoint, str(outcome.error))
        return outcome


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


# IAM answers at most 100 items a page by default, and an account holds at most 5,000 roles (the raised quota): 50 pages.
IAM_PAGES = 100


def _paged(reader: Reader, operation: str, key: str, **kwargs: Any) -> Union[list[Any], Unread]:
    """Every item of an IAM listing; unread if it does not end within IAM_PAGES pages or gives a page marker twice
    (an endpoint that would otherwise be read for ever, or, with the rounds' answers at hand, looped over)."""
    items: list[Any] = []
    marker: Optional[str] = None
    seen: set[str] = set()
    for _ in range(IAM_PAGES):
        page = reader.call("iam", IAM_REGION, operation, **kwargs, **({"Marker": marker} if marker else {}))
        if isinstance(page, Unread):
            return page
        items += page.get(key, [])
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return items
        if marker in seen:
            return Unread(f"{ACTIONS[operation]} gave the same page marker twice: a listing that never ends")
        seen.add(marker)
    return Unread(f"{ACTIONS[operation]} did not end within {IAM_PAGES} pages")


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


def _inline_policy(reader: Reader, role_name: str, name: str) -> PolicyDoc:
    inline = reader.call("iam", IAM_REGION, "get_role_policy", RoleName=role_name, PolicyName=name)
    label = f"inline policy {name}"
    return unread(label, inline) if isinstance(inline, Unread) else _document(inline["PolicyDocument"], label)


def _attached_policies(reader: Reader, role_name: str) -> Union[list[PolicyDoc], Unread]:
    attached = _paged(reader, "list_attached_role_policies", "AttachedPolicies", RoleName=role_name)
    if isinstance(attached, Unread):
        return attached
    reads = [functools.partial(managed_policy, reader, entry["PolicyArn"], f"attached policy {entry['PolicyArn']}") for entry in attached]
    reader.warm(*reads)
    return [read() for read in reads]


def policy_lists_unread(reader: Reader, role_name: str) -> bool:
    """While planning: the role's policy lists are fetched and one could not be read (so `role_policies` is an Unread)."""
    return any(isinstance(reader.peek("iam", IAM_REGION, operation, RoleName=role_name), Unread)
               for operation in ("list_role_policies", "list_attached_role_policies"))


def role_policies(reader: Reader, role_name: str) -> Union[list[PolicyDoc], Unread]:
    """Every policy on the role: inline ones, and the default version of each attached managed one."""
    # The attached policies need nothing the inline ones say: read in the same rounds (the first list of them
    # wasted when the inline list turns out unreadable, which ends this before them).
    if not isinstance(reader.peek("iam", IAM_REGION, "list_role_policies", RoleName=role_name), Unread):
        reader.warm(lambda: _attached_policies(reader, role_name))
    names = _paged(reader, "list_role_policies", "PolicyNames", RoleName=role_name)
    if isinstance(names, Unread):
        return names
    reader.warm(*[functools.partial(_inline_policy, reader, role_name, name) for name in names])
    docs = [_inline_policy(reader, role_name, name) for name in names]
    attached = _attached_policies(reader, role_name)
    if isinstance(attached, Unread):
        return attached
    return docs + attached


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
        # The level's parent needs nothing its policies say: read with them (wasted when they turn out unreadable).
        level = {"TargetId": target, "Filter": policy_type}
        if not isinstance(reader.peek("organizations", IAM_REGION, "list_policies_for_target", **level), Unread):
            reader.warm(functools.partial(reader.call, "organizations", IAM_REGION, "list_parents", ChildId=target))
        attached = reader.call("organizations", IAM_REGION, "list_policies_for_target", **level)
        if isinstance(attached, Unread):
            return [unread(f"the organization's {kind}", attached)]
        reader.warm(*[functools.partial(reader.call, "organizations", IAM_REGION, "describe_policy", PolicyId=summary["Id"])
                      for summary in attached.get("Policies", [])])
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
    chains = [functools.partial(_chain, reader, account, policy_type) for policy_type in sorted(enabled)]
    reader.warm(*chains)
    return [doc for chain in chains for doc in chain()]
