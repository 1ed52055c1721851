"""Azure: who can sign in as Tavus's managed identity, what it can do, and who else reaches the
recordings container.

Every rule is an allow-list. A federated credential passes only when it pins one https issuer, one
exact subject and one audience; an identity's role assignments pass only as Storage Blob Data
Contributor (or a custom role within it) on the one recordings container. Anything that cannot be
proved, in any spelling of a role id or scope, is a finding.

The inputs are plain records and values, the same whether the policy pack read them from the engine
or `verify` from Azure Resource Manager, so a finding reads the same before and after a deploy.
Judgements about one record return `(record, finding)` pairs: each witness names the record its own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable, Mapping, Optional, Sequence, Union

from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR, key_vault_key
from components.lifecycle import COLD_CLASS
from components.naming import issuer_problem
from tavus_recording.rules.azure_rbac import (
    BLOB_DATA_READER,
    BUILTIN_ROLES,
    OPERATOR_ROLES,
    administers,
    broad_scope,
    ContainerRef,
    Role,
    acts_as_identity,
    beyond,
    container_of,
    controls_account,
    covers_container,
    covers_identity,
    reaches_blobs,
    role_guid,
    role_label,
    same_container,
    scope_key,
    writes_blobs,
)
from tavus_recording.rules.findings import (
    ADVISORY,
    AFTER_DEPLOY,
    BEFORE_CREATE,
    LIVE,
    MANDATORY,
    PREVIEW,
    Finding,
    Rule,
)

FEDERATION = Rule(
    "azure.identity.federation",
    "who can sign in as the identity",
    "Every federated identity credential on an identity must pin one https issuer, one exact subject (no "
    "claimsMatchingExpression) and one audience, and an identity Tavus signs in as must have only that one "
    "credential: each credential is a way in.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, AFTER_DEPLOY, LIVE),
)
OPERATORS = Rule(
    "azure.identity.operators",
    "who else can act as the identity",
    "No other resource may run as an identity Tavus signs in as (list it among its user-assigned identities), and "
    "nobody may hold Managed Identity Operator or Contributor (or a custom role that assigns identities, writes "
    "their federated credentials or rewrites role definitions) at any scope over it, nor Owner, Contributor, User "
    "Access Administrator or a role that cannot be proved harmless on the identity, its federated credentials or "
    "its resource group: they can attach it to their own resources or give it a federated credential, and write "
    "recordings as Tavus. Administrators of the whole subscription or above administer every identity in it; they "
    "are listed, not failed.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
ROLE_ASSIGNMENTS = Rule(
    "azure.identity.role_assignments",
    "what Tavus's identity can do",
    "Every role assignment of an identity Tavus signs in as, at any scope, must be Storage Blob Data Contributor "
    "(or a custom role within it) on the one recordings container: the role reads, writes and deletes every blob "
    "in its scope.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
LEAST_PRIVILEGE = Rule(
    "azure.identity.least_privilege",
    "no role beyond the writer's",
    "Tavus's identity should hold only Storage Blob Data Contributor on the container; an extra Storage Blob "
    "Data Reader there is not dangerous, but it is more than Tavus needs.",
    ADVISORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
CONTAINER_ACCESS = Rule(
    "azure.container.access",
    "who else can reach the recordings",
    "No principal besides Tavus's identity and your own (defined in the stack) may hold a role that reaches the "
    "recordings container's blobs, or control of its account (keys, SAS, role grants, replication, lifecycle, "
    "deletion), at the container or any scope above it; administrators of the whole subscription or above are "
    "listed, not failed. At most one identity with a federated credential may write the container.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
CONTAINER_PUBLIC = Rule(
    "azure.container.public_access",
    "recordings never public",
    "Blob containers must not allow anonymous access (publicAccess None).",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
PUBLIC_ACCESS = Rule(
    "azure.account.public_access",
    "recordings never public",
    "Storage accounts must turn public blob access off: recordings are customer data.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
SHARED_KEY = Rule(
    "azure.account.shared_key",
    "Entra ID alone decides access",
    "Storage accounts should turn shared key access off, so Entra ID role assignments alone decide access.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
HTTPS_ONLY = Rule(
    "azure.account.https_only",
    "recordings never in clear",
    "Storage accounts should accept HTTPS only.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
TLS = Rule(
    "azure.account.tls",
    "TLS 1.2 or later",
    "Storage accounts should require TLS 1.2 or later.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
LIFECYCLE = Rule(
    "azure.account.lifecycle",
    "that recordings last",
    "Lifecycle management rules on the recordings account must not delete current recordings (base blobs) sooner "
    "than the stack's retentionDays, or at all when none is set (previous versions and snapshots may go).",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
REPLICATION = Rule(
    "azure.account.replication",
    "copies of the recordings",
    "Object replication from the recordings account must copy recordings only to accounts proved to be yours "
    "(defined in the same stack, listed in ownAccounts, or in the recordings account's subscription).",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
COLD_TIER = Rule(
    "azure.account.cold_tier",
    "recordings stay instantly readable",
    "Lifecycle management rules on the recordings account must not move recordings (base blobs, versions or "
    "snapshots) to the Archive tier, which needs hours of rehydration before a read, and must keep the stack's "
    "coldAfterDays move of base blobs to Cool, at that many days after they are written, for the whole container.",
    ADVISORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
ENCRYPTION_KEY = Rule(
    "azure.account.encryption_key",
    "whose key encrypts the recordings",
    "The recordings account must encrypt with the stack's keyVaultKeyUri (its vault, key and pinned version or "
    "none), reached through an identity that is not Tavus's writer (and, with requireCustomerKey, with some Key "
    "Vault key): Microsoft's keys are not the ones your key policy governs, and a writer that can use the key could "
    "use it outside the account.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
RULES = (FEDERATION, OPERATORS, ROLE_ASSIGNMENTS, LEAST_PRIVILEGE, CONTAINER_ACCESS, CONTAINER_PUBLIC, PUBLIC_ACCESS,
         SHARED_KEY, HTTPS_ONLY, TLS, LIFECYCLE, REPLICATION, COLD_TIER, ENCRYPTION_KEY)

TLS_NEEDED = "TLS1_2"
BLOB_CONTRIBUTOR = BUILTIN_ROLES[STORAGE_BLOB_DATA_CONTRIBUTOR]
WRITE = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
_DELETE_AFTER = ("daysaftermodificationgreaterthan", "daysaftercreationgreaterthan", "daysafterlastaccesstimegreaterthan",
                 "daysafterlasttierchangegreaterthan")

# A role's definition, as a witness found it: the role, or why it could not be read (verify only).
Definitions = Mapping[str, Union[Role, str]]


# --- the records both witnesses build


@dataclass(frozen=True)
class Token:
    """The token Tavus presents, as far as the witness was told: None is "not configured"."""

    issuer: Optional[str] = None
    subject: Optional[str] = None
    audience: Optional[str] = None


@dataclass(frozen=True)
class Credential:
    """A federated identity credential: ARM's or azure-native's properties, as they are."""

    name: str
    issuer: Any
    subject: Any
    audiences: Any
    expression: Any = None
    """claimsMatchingExpression (flexible federated credentials), when present."""
    ref: Any = None
    """What the witness reports it on (a stack resource, an ARM id)."""


@dataclass(frozen=True)
class Assignment:
    role: Any
    """roleDefinitionId as written: a full id or a bare GUID."""
    scope: Any
    principal: Any
    name: str = ""
    ref: Any = None
    where: str = ""
    """The scope as a person reads it, when it is not a scope string (the pack: a reference to a resource)."""


@dataclass(frozen=True)
class Attached:
    """A resource that lists the identity among its user-assigned identities, so it runs as the identity."""

    name: str
    type: str = ""
    ref: Any = None


Judged = tuple[Any, Finding]
"""A finding and the record it is about (None: about the identity or the account as a whole)."""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def scope_label(scope: Any) -> str:
    """A scope as a person reads it, in the case it was written."""
    key = scope_key(scope)
    if key is None:
        return f"scope {scope!r}"
    if key == "/":
        return "the tenant root"
    original = str(scope).strip().rstrip("/").split("/")
    parts = key.strip("/").split("/")
    if parts[:3] == ["providers", "microsoft.management", "managementgroups"] and len(parts) == 4:
        return f"management group {original[-1]}"
    offset = 1 if str(scope).strip().startswith("/") else 0
    named = {parts[i]: original[i + 1 + offset] for i in range(0, len(parts) - 1, 2)}
    if "containers" in named:
        return f"container {named.get('storageaccounts')}/{named['containers']}"
    if "blobservices" in named:
        return f"the blob service of storage account {named.get('storageaccounts')}"
    if "storageaccounts" in named:
        return f"storage account {named['storageaccounts']}"
    if "userassignedidentities" in named:
        return f"identity {named['userassignedidentities']}"
    if len(parts) == 4 and "resourcegroups" in named:
        return f"resource group {named['resourcegroups']}"
    if len(parts) == 2 and "subscriptions" in named:
        return f"subscription {named['subscriptions']}"
    return f"scope {scope}"


def _where(assignment: Assignment) -> str:
    return assignment.where or scope_label(assignment.scope)


def _lookup(guid: Optional[str], definitions: Definitions) -> Union[Role, str, None]:
    if guid is None:
        return None
    return definitions.get(guid) or BUILTIN_ROLES.get(guid)


# --- who can sign in as the identity


def issuer_problems(issuer: Any, wanted: Optional[str] = None) -> list[str]:
    """Why a credential's issuer does not pin one https OIDC issuer (Tavus's, when known)."""
    if not isinstance(issuer, str) or not issuer:
        return ["has no issuer"]
    problem = issuer_problem(issuer)
    problems = [f"has issuer {issuer!r}, which {problem}"] if problem else []
    if wanted is not None and issuer != wanted:
        problems.append(f"has issuer {issuer!r}, but Tavus's is {wanted!r}")
    return problems


def subject_problems(subject: Any, wanted: Optional[str] = None) -> list[str]:
    if not isinstance(subject, str) or not subject.strip():
        return ["has no subject, so it does not pin the one identity (Tavus's) whose tokens it accepts"]
    problems: list[str] = []
    if subject != subject.strip():
        problems.append(f"has subject {subject!r}, with whitespace around it")
    if "*" in subject:
        problems.append(f"has subject {subject!r}: Entra matches subjects exactly, so a wildcard pins nobody in particular")
    if wanted is not None and subject != wanted:
        problems.append(f"has subject {subject!r}, but Tavus's is {wanted!r}")
    return problems


def audience_problems(audiences: Any, wanted: Optional[str] = None) -> list[str]:
    if not isinstance(audiences, list):
        return [f"has audiences {audiences!r}, not a list of exactly one"]
    values = audiences
    if len(values) != 1:
        return [f"has {len(values)} audiences ({values!r}); a credential takes exactly one"]
    (audience,) = values
    if not isinstance(audience, str) or not audience.strip():
        return [f"has audience {audience!r}, which is empty"]
    if wanted is not None and audience != wanted:
        return [f"has audience {audience!r}, but Tavus's token carries {wanted!r}"]
    return []


def expression_problems(expression: Any) -> list[str]:
    if expression is None:
        return []
    return [f"matches subjects by an expression (claimsMatchingExpression {expression!r}), which cannot be proved to admit "
            "Tavus alone"]


def credential_fix(token: Token) -> str:
    wanted = ", ".join(
        f"{name} {value!r}" for name, value in (("issuer", token.issuer), ("subject", token.subject), ("audience", token.audience))
        if value
    )
    return (f"set exactly Tavus's issuer, subject and one audience ({wanted})" if wanted
            else "set Tavus's https issuer, its exact subject and one audience (Tavus's recording guide, Azure tab)")


def credential_findings(credential: Credential, token: Token = Token()) -> list[Finding]:
    """Every way one credential admits more than Tavus's token, or does not admit it."""
    problems = (expression_problems(credential.expression) + issuer_problems(credential.issuer, token.issuer)
                + subject_problems(credential.subject, token.subject) + audience_problems(credential.audiences, token.audience))
    return [Finding(FEDERATION.id, problem, credential_fix(token)) for problem in problems]


def extra_credentials(credentials: Sequence[Credential], token: Token = Token()) -> list[Credential]:
    """The credentials beyond Tavus's one: those that are not exactly Tavus's (when Tavus's token is
    known and one of them is), else all but the first."""
    if token.issuer and token.subject:
        others = [c for c in credentials if credential_findings(c, token)]
        if len(others) == len(credentials) - 1:
            return others
    return list(credentials[1:])


def federation_findings(credentials: Sequence[Credential], token: Token = Token(), require: bool = False) -> list[Judged]:
    """An identity's credentials: each must admit exactly Tavus's token, and there must be one."""
    found: list[Judged] = []
    if require and not credentials:
        found.append((None, Finding(FEDERATION.id, "has no federated credential: Tavus's token cannot be exchanged for it",
                                    credential_fix(token))))
    if len(credentials) > 1:
        extra = extra_credentials(credentials, token)
        names = ", ".join(f"{c.name} (issuer {_text(c.issuer)}, subject {_text(c.subject)})" for c in extra)
        found.append((None, Finding(
            FEDERATION.id,
            f"has {len(credentials)} federated credentials; besides the one for Tavus it trusts {names}: whoever holds "
            "such a token acts as the identity and writes to the container",
            "delete every federated credential on the identity but Tavus's",
        )))
    for credential in credentials:
        found += [(credential, finding) for finding in credential_findings(credential, token)]
    return found


# --- who else can act as the identity


def operator_findings(
    assignments: Iterable[Assignment],
    identity: tuple[Optional[str], Optional[str], Optional[str]],
    tavus_principals: Collection[str],
    definitions: Definitions = {},
    covers: Optional[Callable[[Assignment], bool]] = None,
) -> list[Judged]:
    """Assignments over the identity (subscription, group, name; None = any) that let someone other than
    the identity itself act as it. A role neither built in nor defined (the pack cannot read it) is a
    finding on the identity, below it or on its group; at a subscription or above it is not judged (there are
    too many harmless ones there); definitions, once read (verify), are. `covers` replaces the scope test
    (the pack also follows references to the identity's resources)."""
    found: list[Judged] = []
    for assignment, guid, known in _over_identity(assignments, identity, tavus_principals, definitions, covers):
        where = _where(assignment)
        if _subscription_admin(assignment, known):
            continue
        if isinstance(known, str):
            found.append((assignment, Finding(OPERATORS.id, f"gives principal {assignment.principal} {role_label(guid, assignment.role)} "
                                              f"at {where}, whose definition could not be read ({known})", "", unknown=True)))
        elif known is None and guid is not None and guid not in OPERATOR_ROLES and not broad_scope(assignment.scope):
            found.append((assignment, Finding(
                OPERATORS.id,
                f"gives principal {assignment.principal} {role_label(guid, assignment.role)} at {where}, over Tavus's identity: "
                "it cannot be proved harmless: not built in and not defined in this stack",
                "define the role in this stack (so its actions can be read), or remove the assignment",
            )))
        elif guid is None or guid in OPERATOR_ROLES or (isinstance(known, Role) and acts_as_identity(known)):
            label = role_label(guid, assignment.role, known if isinstance(known, Role) else None)
            found.append((assignment, Finding(
                OPERATORS.id,
                f"gives principal {assignment.principal} {label} at {where}, over Tavus's identity: it can attach the identity "
                "to a resource it runs, or give it a federated credential, and write recordings as Tavus",
                "remove the assignment, or move Tavus's identity to a resource group of its own that only Pulumi manages",
            )))
    return found


def attachment_findings(attached: Iterable[Attached]) -> list[Judged]:
    """Resources that run as the identity: whatever code runs there gets its tokens (the managed-identity
    endpoint hands them to any code on the resource) and writes recordings as Tavus."""
    return [(resource, Finding(
        OPERATORS.id,
        "runs as Tavus's identity (lists it among its user-assigned identities): any code it runs can get the "
        "identity's tokens and write recordings as Tavus",
        "remove Tavus's identity from its user-assigned identities and give it an identity of its own",
    )) for resource in attached]


def subscription_admins(
    assignments: Iterable[Assignment],
    identity: tuple[Optional[str], Optional[str], Optional[str]],
    tavus_principals: Collection[str],
    definitions: Definitions = {},
) -> list[Assignment]:
    """The administrators of the identity's whole subscription or above, whom `operator_findings` lists
    rather than fails: every subscription has some, and they administer every identity in it."""
    return [a for a, _, known in _over_identity(assignments, identity, tavus_principals, definitions, None) if _subscription_admin(a, known)]


def _over_identity(assignments: Iterable[Assignment], identity: tuple[Optional[str], Optional[str], Optional[str]],
                   tavus_principals: Collection[str], definitions: Definitions,
                   covers: Optional[Callable[[Assignment], bool]]) -> Iterable[tuple[Assignment, Optional[str], Any]]:
    for assignment in assignments:
        over = covers(assignment) if covers else covers_identity(assignment.scope, *identity)
        if str(assignment.principal).lower() in tavus_principals or not over:
            continue
        guid = role_guid(assignment.role)
        yield assignment, guid, _lookup(guid, definitions)


def _subscription_admin(assignment: Assignment, known: Any) -> bool:
    return broad_scope(assignment.scope) and isinstance(known, Role) and administers(known)


# --- what the identity can do


def _allowed(guid: Optional[str], known: Any) -> bool:
    """Storage Blob Data Contributor, or a custom role within it."""
    if guid == STORAGE_BLOB_DATA_CONTRIBUTOR:
        return True
    return isinstance(known, Role) and guid not in BUILTIN_ROLES and not beyond(known, BLOB_CONTRIBUTOR)


def grant_findings(
    assignments: Sequence[Assignment],
    container: Optional[ContainerRef] = None,
    definitions: Definitions = {},
    require_write: bool = False,
    at_container: Optional[Callable[[Assignment], Optional[bool]]] = None,
) -> list[Judged]:
    """Everything the identity's assignments grant beyond Storage Blob Data Contributor on the recordings
    container (`container`; None: the one container its grants name, which must then be one).
    `at_container` tells, where it can (not None), whether an assignment is at the container (the pack:
    a scope given by reference to a resource)."""
    fix = ("assign only Storage Blob Data Contributor (ba92f5b4-2d11-453d-a403-e96b0029c9fe) on the recordings container's "
           "resource id (…/blobServices/default/containers/<name>); remove every other assignment of the identity")
    target = "the recordings container" if container else "one container"
    found: list[Judged] = []
    containers: dict[str, str] = {}
    writes = False
    for assignment in assignments:
        guid = role_guid(assignment.role)
        known = _lookup(guid, definitions)
        where = _where(assignment)
        label = role_label(guid, assignment.role, known if isinstance(known, Role) else None)
        told = at_container(assignment) if at_container else None
        at = told if told is not None else (same_container(assignment.scope, container) if container
                                            else container_of(assignment.scope) is not None)
        if guid is None:
            found.append((assignment, Finding(ROLE_ASSIGNMENTS.id, f"holds {label} at {where}, which is not a role definition id, "
                                              "so what it grants cannot be told", fix)))
        elif isinstance(known, str):
            found.append((assignment, Finding(ROLE_ASSIGNMENTS.id, f"holds {label} at {where}, whose definition could not be read "
                                              f"({known})", "", unknown=True)))
        elif known is None:
            found.append((assignment, Finding(ROLE_ASSIGNMENTS.id, f"holds {label} at {where}, a role this stack does not define, "
                                              "so it cannot be proved to stay within Storage Blob Data Contributor", fix)))
        elif guid == BLOB_DATA_READER and at:
            found.append((assignment, Finding(LEAST_PRIVILEGE.id, f"also holds {label} at {where}: a read Storage Blob Data "
                                              "Contributor already grants, more than Tavus needs", "remove that assignment")))
        elif not _allowed(guid, known):
            extra = beyond(known, BLOB_CONTRIBUTOR) if guid not in BUILTIN_ROLES else []
            grants = f", which grants {', '.join(extra[:4])}{' …' if len(extra) > 4 else ''}" if extra else ""
            found.append((assignment, Finding(ROLE_ASSIGNMENTS.id, f"holds {label} at {where}{grants}: more than Storage Blob "
                                              f"Data Contributor on {target}", fix)))
        elif not at:
            found.append((assignment, Finding(ROLE_ASSIGNMENTS.id, f"holds {label} at {where}, wider than {target}: it reads, "
                                              "writes and deletes every blob there", fix)))
        else:
            ref = container_of(assignment.scope)
            if ref is not None and ref.scope:
                containers.setdefault(ref.scope, scope_label(assignment.scope).removeprefix("container "))
            writes = writes or any(a.lower() == WRITE.lower() for a in known.data_actions)
    if container is None and len(containers) > 1:
        found.append((None, Finding(ROLE_ASSIGNMENTS.id, f"is granted on {len(containers)} containers "
                                    f"({', '.join(sorted(containers.values()))}); Tavus writes to one", fix)))
    if require_write and not writes:
        found.append((None, Finding(ROLE_ASSIGNMENTS.id, f"holds no Storage Blob Data Contributor on {target}: Tavus cannot "
                                    "write recordings", "assign Storage Blob Data Contributor on the container to the identity")))
    return found


# --- who else reaches the recordings


def access_findings(
    assignments: Iterable[Assignment],
    container: ContainerRef,
    tavus_principals: Collection[str],
    definitions: Definitions = {},
    covers: Optional[Callable[[Assignment], bool]] = None,
) -> list[Judged]:
    """Assignments to anyone but Tavus's identity that reach the container's blobs: a data role at the
    container or above, control of its account at any scope over it (grant a role, list keys, sign a SAS,
    replicate, delete), or a role that cannot be told. The administrators of a subscription or above
    are listed (`container_admins`), not failed. `covers` replaces the scope test (the pack also follows
    references)."""
    fix = "remove the assignment: only Tavus's identity (and principals of this stack) may reach the recordings"
    found: list[Judged] = []
    for assignment, guid, known in _over_container(assignments, container, tavus_principals, definitions, covers):
        label = role_label(guid, assignment.role, known if isinstance(known, Role) else None)
        who = f"gives principal {assignment.principal} {label} at {_where(assignment)}"
        if isinstance(known, str):
            found.append((assignment, Finding(CONTAINER_ACCESS.id, f"{who}, whose definition could not be read ({known})", "",
                                              unknown=True)))
        elif guid is None or known is None:
            found.append((assignment, Finding(CONTAINER_ACCESS.id, f"{who}, which cannot be proved to stay out of the recordings",
                                              fix)))
        elif reaches_blobs(known):
            found.append((assignment, Finding(CONTAINER_ACCESS.id, f"{who}: it reads, writes or deletes the recordings besides "
                                              "Tavus", fix)))
        elif controls_account(known) and not _subscription_admin(assignment, known):
            found.append((assignment, Finding(CONTAINER_ACCESS.id, f"{who}: it can grant itself the recordings, reach them "
                                              "with the account's keys or a SAS, or copy or delete them", fix)))
    return found


def container_admins(
    assignments: Iterable[Assignment],
    container: ContainerRef,
    tavus_principals: Collection[str],
    definitions: Definitions = {},
) -> list[Assignment]:
    """The administrators of the container's subscription or above, whom `access_findings` lists rather
    than fails: every subscription has some, and they administer every account in it."""
    return [a for a, _, known in _over_container(assignments, container, tavus_principals, definitions, None)
            if _subscription_admin(a, known) and not reaches_blobs(known)]


def _over_container(assignments: Iterable[Assignment], container: ContainerRef, tavus_principals: Collection[str],
                    definitions: Definitions, covers: Optional[Callable[[Assignment], bool]]) -> Iterable[tuple[Assignment, Optional[str], Any]]:
    for assignment in assignments:
        over = covers(assignment) if covers else covers_container(assignment.scope, container)
        if str(assignment.principal).lower() in tavus_principals or not over:
            continue
        guid = role_guid(assignment.role)
        yield assignment, guid, _lookup(guid, definitions)


def writer_findings(writers: Sequence[tuple[str, Any]], container: str) -> list[Judged]:
    """Identities with a federated credential that each hold a role writing the recordings container
    (`writers`: name and record): more than one is more than one token issuer writing as Tavus."""
    if len(writers) < 2:
        return []
    names = " and ".join(name for name, _ in writers)
    return [(record, Finding(
        CONTAINER_ACCESS.id,
        f"is one of {len(writers)} identities with a federated credential ({names}) that hold a role writing container "
        f"{container}: tokens from each one's issuer write recordings, and only Tavus's may",
        "keep the container's write role on Tavus's identity only; an identity of your own with a federated credential (a CI "
        "deployer) belongs in a separate stack, or disable azure.container.access for this stack",
    )) for _, record in writers]


def writes(role: Any, definitions: Definitions = {}) -> bool:
    """Whether a role (as written) provably writes blobs."""
    known = _lookup(role_guid(role), definitions)
    return isinstance(known, Role) and writes_blobs(known)


# --- the account and the container


def public_access_findings(allowed: Any) -> list[Finding]:
    if allowed is False:
        return []
    state = "true" if allowed is True else "not set (older API versions, and accounts made before late 2023, then allow it)"
    return [Finding(PUBLIC_ACCESS.id, f"has allowBlobPublicAccess {state}, so a container can be opened to anonymous reads",
                    "set allowBlobPublicAccess to false")]


def container_public_findings(public_access: Any) -> list[Finding]:
    if public_access is None or public_access == "None":
        return []
    return [Finding(CONTAINER_PUBLIC.id, f"has public access {public_access}: anyone can read its blobs without signing in",
                    "set publicAccess to None")]


def shared_key_findings(allowed: Any) -> list[Finding]:
    if allowed is False:
        return []
    state = "true" if allowed is True else "not set, which Azure treats as true"
    return [Finding(SHARED_KEY.id, f"has allowSharedKeyAccess {state}: account keys and SAS tokens reach every container, "
                    "bypassing the role assignments", "set allowSharedKeyAccess to false")]


def https_findings(https_only: Any) -> list[Finding]:
    if https_only is False:
        return [Finding(HTTPS_ONLY.id, "accepts plain HTTP (HTTPS-only traffic is off), so recordings can travel unencrypted",
                        "turn HTTPS-only traffic on")]
    return []


def tls_rank(version: Any) -> int:
    match = re.fullmatch(r"TLS1_(\d+)", version if isinstance(version, str) else "", re.IGNORECASE)
    return int(match.group(1)) if match else -1


def tls_findings(version: Any) -> list[Finding]:
    if tls_rank(version) >= tls_rank(TLS_NEEDED):
        return []
    shown = version if version else "not set, which Azure treats as TLS1_0"
    return [Finding(TLS.id, f"accepts TLS below 1.2 (minimum TLS version {shown})", f"set the minimum TLS version to {TLS_NEEDED}")]


# --- that recordings last, and where copies go


def _lower_keys(value: Any) -> Any:
    """ARM's and the engine's camelCase (and snake_case) read alike."""
    if isinstance(value, Mapping):
        return {str(k).lower().replace("_", ""): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _reaches(prefixes: Any, container: Optional[str]) -> bool:
    """Whether a rule's prefixMatch (`container/blob-prefix` each) can match blobs of `container`."""
    if container is None or not isinstance(prefixes, list) or not prefixes:
        return True
    path = f"{container.lower()}/"
    return any(not isinstance(p, str) or path.startswith(p.lower()) or p.lower().startswith(path) for p in prefixes)


def _block_blobs(types: Any) -> bool:
    if not isinstance(types, list) or not types:
        return True
    return any(not isinstance(t, str) or t.lower() in ("blockblob", "appendblob") for t in types)


def lifecycle_findings(
    rules: Iterable[Any], container: Optional[str], retention_days: Optional[int], retention_known: bool = True
) -> list[Finding]:
    """Management policy rules that delete current recordings sooner than `retention_days` (or at all, when None)."""
    kept = f"keeps them {retention_days} days" if retention_days else "keeps them (no retentionDays)"
    fix = (f"delete base blobs no sooner than {retention_days} days after they are written, or remove the rule" if retention_days
           else "remove the deletion of base blobs (set retentionDays if recordings should expire)")
    found: list[Finding] = []
    for rule in (_lower_keys(r) for r in rules):
        if not isinstance(rule, Mapping) or rule.get("enabled") is False:
            continue
        definition = _mapping(rule.get("definition"))
        filters = _mapping(definition.get("filters"))
        if not _reaches(filters.get("prefixmatch"), container) or not _block_blobs(filters.get("blobtypes")):
            continue
        delete = _mapping(_mapping(definition.get("actions")).get("baseblob")).get("delete")
        if delete is None:
            continue
        name = rule.get("name") or "(unnamed)"
        days = [delete.get(k) for k in _DELETE_AFTER] if isinstance(delete, Mapping) else []
        numbers = [d for d in days if isinstance(d, (int, float)) and not isinstance(d, bool)]
        if not numbers:
            found.append(Finding(LIFECYCLE.id, f"deletes current recordings (rule {name}) on a condition that cannot be read "
                                 f"({delete!r})", fix))
            continue
        soonest = min(numbers)
        if not retention_known:
            found.append(Finding(LIFECYCLE.id, f"deletes current recordings {soonest:g} days after they land (rule {name}); the "
                                 "stack's outputs do not say its retention, to compare with",
                                 "run `pulumi up` with this version of the kit, which exports retention_days", unknown=True))
        elif retention_days is None or soonest < retention_days:
            found.append(Finding(LIFECYCLE.id, f"deletes current recordings {soonest:g} days after they land (rule {name}), but "
                                 f"the stack {kept}", fix))
    return found


@dataclass(frozen=True)
class Replication:
    """An object replication policy: ARM's or azure-native's properties."""

    source: Any
    destination: Any
    rules: Any
    name: str = ""
    ref: Any = None


def replication_findings(
    policies: Iterable[Replication],
    is_source: Callable[[Replication], bool],
    container: Optional[str],
    is_own: Callable[[Replication], bool],
) -> list[Judged]:
    """Policies whose source is the recordings account (`is_source`) that copy the recordings container to
    an account `is_own` cannot prove yours."""
    found: list[Judged] = []
    for policy in policies:
        if not is_source(policy):
            continue
        rules = _lower_keys(policy.rules) if isinstance(policy.rules, list) else []
        copied = [r for r in rules if not isinstance(r, Mapping) or container is None
                  or not isinstance(r.get("sourcecontainer"), str) or r["sourcecontainer"].lower() == container.lower()]
        if not copied or is_own(policy):
            continue
        found.append((policy, Finding(
            REPLICATION.id,
            f"copies the recordings (container {container or '?'}) to account {_text(policy.destination)}, which cannot be "
            "proved to be yours",
            "replicate only to your own accounts (defined in the stack, listed in ownAccounts, or in the recordings "
            "account's subscription), or delete the policy",
        )))
    return found


# --- the cold tier and the account's key

COLD = COLD_CLASS["azure_blob"]
_ARCHIVE_SUBJECTS = {"baseblob": "current recordings", "version": "previous versions", "snapshot": "snapshots"}


def _whole_container(filters: Mapping[str, Any], container: Optional[str]) -> bool:
    prefixes = filters.get("prefixmatch")
    if container is None or not isinstance(prefixes, list) or not prefixes:
        return True
    path = f"{container.lower()}/"
    return any(isinstance(p, str) and path.startswith(p.lower()) for p in prefixes)


def cold_tier_fix(cold_after_days: Optional[int]) -> str:
    moved = (f"move base blobs to {COLD} {cold_after_days} days after they are written (tierToCool "
             f"daysAfterModificationGreaterThan {cold_after_days}, coldAfterDays), in a rule over the whole container"
             if cold_after_days else f"move recordings only to an online tier ({COLD} or Cold)")
    return f"{moved}; remove tierToArchive"


def cold_tier_findings(rules: Iterable[Any], container: Optional[str], cold_after_days: Optional[int],
                       fix: Optional[str] = None) -> list[Finding]:
    """Management policy rules that move recordings to the Archive tier; and, when the stack sets
    `cold_after_days`, no enabled rule over the whole container moving base blobs to Cool at that age."""
    fix = fix or cold_tier_fix(cold_after_days)
    found: list[Finding] = []
    carried = False
    for rule in (_lower_keys(r) for r in rules):
        if not isinstance(rule, Mapping) or rule.get("enabled") is False:
            continue
        definition = _mapping(rule.get("definition"))
        filters = _mapping(definition.get("filters"))
        if not _reaches(filters.get("prefixmatch"), container) or not _block_blobs(filters.get("blobtypes")):
            continue
        name = rule.get("name") or "(unnamed)"
        actions = _mapping(definition.get("actions"))
        for subject, whose in _ARCHIVE_SUBJECTS.items():
            if _mapping(actions.get(subject)).get("tiertoarchive") is not None:
                found.append(Finding(COLD_TIER.id, f"moves {whose} to the Archive tier (rule {name}), where a read must wait hours "
                                                   "for rehydration", fix))
        cool = _mapping(_mapping(actions.get("baseblob")).get("tiertocool"))
        days = cool.get("daysaftermodificationgreaterthan")
        if (cold_after_days and isinstance(days, (int, float)) and not isinstance(days, bool) and days == cold_after_days
                and _whole_container(filters, container)):
            carried = True
    if cold_after_days and not carried:
        found.append(Finding(COLD_TIER.id, f"has no lifecycle rule moving current recordings to {COLD} {cold_after_days} days after "
                                           "they are written, as the stack asks (coldAfterDays)", fix))
    return found


def _same_id(left: Any, right: Any) -> bool:
    return isinstance(left, str) and isinstance(right, str) and left.strip("/").lower() == right.strip("/").lower()


def encryption_identity(encryption: Any) -> Optional[str]:
    """The user-assigned identity an account reaches its key as: ARM's `identity.userAssignedIdentity`, the
    SDK's and azure-native's `encryptionIdentity.encryptionUserAssignedIdentity`; None for the system-assigned one."""
    found = _lower_keys(encryption) if isinstance(encryption, Mapping) else {}
    for block, key in (("identity", "userassignedidentity"), ("encryptionidentity", "encryptionuserassignedidentity")):
        value = _mapping(found.get(block)).get(key)
        if isinstance(value, str) and value:
            return value
    return None


def encryption_key_findings(encryption: Any, wanted: Optional[str], writer_identity: Optional[str] = None,
                            require: bool = False, fix: Optional[str] = None) -> list[Finding]:
    """An account not encrypted with the stack's Key Vault key `wanted` (vault, key, and version: pinned, or
    none to follow the newest), or with none at all when `require`; or reaching its key as Tavus's writer."""
    found = _lower_keys(encryption) if isinstance(encryption, Mapping) else {}
    source = found.get("keysource")
    properties = _mapping(found.get("keyvaultproperties"))
    vault_uri, key_name, version = (properties.get(k) for k in ("keyvaulturi", "keyname", "keyversion"))
    customer = isinstance(source, str) and source.lower() == "microsoft.keyvault"
    shown = (f"Key Vault key {key_name} of {vault_uri}" + (f" version {version}" if version else "")) if customer else \
        f"Microsoft-managed keys (keySource {source or 'Microsoft.Storage'})"
    problems: list[str] = []
    key = key_vault_key(wanted) if wanted else None
    if wanted and key is None:
        problems.append(f"cannot be compared with the stack's keyVaultKeyUri {wanted!r}, which is not a Key Vault key URI")
    elif key is not None:
        same_vault = isinstance(vault_uri, str) and vault_uri.lower().rstrip("/") == key.vault_uri.rstrip("/")
        same_key = isinstance(key_name, str) and key_name.lower() == key.name.lower()
        if not (customer and same_vault and same_key):
            problems.append(f"encrypts with {shown}, not the stack's {wanted} (keyVaultKeyUri)")
        elif (version or "").lower() != (key.version or "").lower():
            pinned = f"version {key.version}" if key.version else "the newest version"
            problems.append(f"encrypts with {shown}, but the stack asks for {pinned} of that key (keyVaultKeyUri)")
    elif require and not customer:
        problems.append(f"encrypts with {shown}, but a customer key is required (requireCustomerKey)")
    if customer and writer_identity and _same_id(encryption_identity(encryption), writer_identity):
        problems.append("reaches its key as Tavus's writer identity, so Tavus could use the key, and revoking Tavus would cut the "
                        "account off from it")
    default_fix = (f"encrypt the account with {wanted} through the stack's own encryption identity (`pulumi up --refresh`)" if wanted
                   else "set keyVaultKeyUri in the stack")
    return [Finding(ENCRYPTION_KEY.id, problem, fix or default_fix) for problem in problems]
