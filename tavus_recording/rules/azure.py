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

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable, Iterator, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit

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
    "coldAfterDays move of base blobs to Cool, at that many days after they are written, for the whole container, with "
    "no move to Cold by then or to Cool sooner. It reads lifecycle rules only: an upload can still set its own tier, "
    "Archive included (x-ms-access-tier), which the kit does not restrict.",
    ADVISORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
ENCRYPTION_KEY = Rule(
    "azure.account.encryption_key",
    "whose key encrypts the recordings",
    "The recordings account's default key must be the stack's keyVaultKeyUri (its vault, key and pinned version or "
    "none), reached through the stack's own encryption identity, never Tavus's writer (and, with requireCustomerKey, "
    "some Key Vault key): Microsoft's keys are not the ones your key policy governs, and a writer that can use "
    "the key could use it outside the account. It is the account's default only: a writer can still name an "
    "encryption scope or send its own key (customer-provided) per upload, which no account setting the kit makes refuses.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
IMMUTABILITY = Rule(
    "azure.container.immutability",
    "recordings cannot be changed or deleted",
    "With immutableDays, the recordings container must keep a time-based immutability policy of at least that many days "
    "that allows no protected append writes, so no recording can be overwritten, extended or deleted before then; in "
    "compliance mode (immutableMode) the policy must also be locked, which only verify can see: an unlocked policy can "
    "be shortened or deleted by an administrator.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
DIAGNOSTIC_LOGS = Rule(
    "azure.account.diagnostic_logs",
    "a record of every read and write",
    "With auditLogs (or requireAuditLogs), a diagnostic setting on the recordings account's blob service must send its "
    "StorageRead, StorageWrite and StorageDelete logs (or the allLogs group) to a log account of the stack (verify: "
    "audit_log_account, whose lifecycle rules must not delete them): without them nobody can tell who read, wrote or "
    "deleted a recording, and logs kept elsewhere are kept, or not, as that account's owner decides.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
RULES = (FEDERATION, OPERATORS, ROLE_ASSIGNMENTS, LEAST_PRIVILEGE, CONTAINER_ACCESS, CONTAINER_PUBLIC, PUBLIC_ACCESS,
         SHARED_KEY, HTTPS_ONLY, TLS, LIFECYCLE, REPLICATION, COLD_TIER, ENCRYPTION_KEY, IMMUTABILITY, DIAGNOSTIC_LOGS)

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


def _rules_reaching(rules: Iterable[Any], container: Optional[str]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(rule, its definition) for every management policy rule that may act on the recordings: not turned off (only
    ARM's boolean false turns a rule off for what it may do), and reaching the container's block blobs, decided
    conservatively (prefixes in any case)."""
    for rule in (_lower_keys(r) for r in rules):
        if not isinstance(rule, Mapping) or rule.get("enabled") is False:
            continue
        definition = _mapping(rule.get("definition"))
        filters = _mapping(definition.get("filters"))
        if _reaches(filters.get("prefixmatch"), container) and _block_blobs(filters.get("blobtypes")):
            yield rule, definition


def lifecycle_findings(
    rules: Iterable[Any], container: Optional[str], retention_days: Optional[int], retention_known: bool = True
) -> list[Finding]:
    """Management policy rules that delete current recordings sooner than `retention_days` (or at all, when None)."""
    kept = f"keeps them {retention_days} days" if retention_days else "keeps them (no retentionDays)"
    fix = (f"delete base blobs no sooner than {retention_days} days after they are written, or remove the rule" if retention_days
           else "remove the deletion of base blobs (set retentionDays if recordings should expire)")
    found: list[Finding] = []
    for rule, definition in _rules_reaching(rules, container):
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
# DateAfterModification's ages (storage.json): each counts from a time at or after the blob's creation.
_AGES = ("daysaftermodificationgreaterthan", "daysaftercreationgreaterthan", "daysafterlastaccesstimegreaterthan",
         "daysafterlasttierchangegreaterthan")
# The same day for a recording written once: the move "N days after they are written".
_WRITTEN = ("daysaftermodificationgreaterthan", "daysaftercreationgreaterthan")
_SINCE: dict[str, str] = dict(zip(_AGES, ("last written", "created", "last read", "last moved between tiers")))


def _age(value: Any) -> Optional[float]:
    """Days as ARM answers them (a number), or as a string of ASCII digits; None for anything else."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return float(value)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _whole_container(filters: Mapping[str, Any], container: Optional[str]) -> bool:
    """Whether a rule's filters take in every recording of `container`: no blob index tag filter (ANDed with the rest),
    block blobs, and a prefix the container's path starts with, compared case-sensitively as Azure does (container
    names are lower case, so `RECORDINGS/` matches nothing)."""
    types = filters.get("blobtypes")
    if filters.get("blobindexmatch") or (isinstance(types, list) and types
                                         and not any(isinstance(t, str) and t.lower() == "blockblob" for t in types)):
        return False
    prefixes = filters.get("prefixmatch")
    if container is None or prefixes is None or prefixes == []:
        return True
    path = f"{container.lower()}/"
    return isinstance(prefixes, list) and any(isinstance(p, str) and path.startswith(p) for p in prefixes)


def _carries_move(rule: Mapping[str, Any], container: Optional[str], cold_after_days: int) -> bool:
    """The stack's move: an enabled rule (ARM's boolean true, or absent: its default) over the whole container moving
    base blobs to Cool exactly `cold_after_days` days after they are written."""
    if rule.get("enabled") is not True and rule.get("enabled") is not None:
        return False
    definition = _mapping(rule.get("definition"))
    cool = _mapping(_mapping(_mapping(definition.get("actions")).get("baseblob")).get("tiertocool"))
    ages = {k: cool.get(k) for k in _AGES if cool.get(k) is not None}
    return (len(ages) == 1 and next(iter(ages)) in _WRITTEN and _age(next(iter(ages.values()))) == cold_after_days
            and _whole_container(_mapping(definition.get("filters")), container))


def _sooner(actions: Mapping[str, Any], cold_after_days: int) -> Optional[tuple[str, str]]:
    """A move of base blobs to Cold (cheaper than Cool) at or before the stack's age, or to Cool sooner: lifecycle
    management applies the least expensive of several actions on a blob (learn.microsoft.com,
    lifecycle-management-policy-configure), and a sooner one comes first. Its tier and when; an age that cannot be
    read counts as sooner."""
    base = _mapping(actions.get("baseblob"))
    for key, tier in (("tiertocold", "Cold"), ("tiertocool", COLD)):
        move = base.get(key)
        if move is None:
            continue
        ages = {k: _age(v) for k, v in _mapping(move).items() if k in _AGES and v is not None}
        if not ages or None in ages.values():
            return tier, "on a condition that cannot be read"
        field, soonest = min(ages.items(), key=lambda item: item[1] or 0.0)
        if soonest is not None and (soonest < cold_after_days or (tier != COLD and soonest == cold_after_days)):
            return tier, f"{soonest:g} days after they are {_SINCE[field]}"
    return None


def cold_tier_fix(cold_after_days: Optional[int]) -> str:
    moved = (f"move base blobs to {COLD} {cold_after_days} days after they are written (tierToCool "
             f"daysAfterModificationGreaterThan {cold_after_days}, coldAfterDays), in a rule over the whole container"
             if cold_after_days else f"move recordings only to an online tier ({COLD} or Cold)")
    return f"{moved}; remove tierToArchive"


def cold_tier_findings(rules: Iterable[Any], container: Optional[str], cold_after_days: Optional[int],
                       fix: Optional[str] = None) -> list[Finding]:
    """Management policy rules that move recordings to the Archive tier; and, when the stack sets
    `cold_after_days`, no enabled rule over the whole container moving base blobs to Cool at that age, or a rule
    moving them to Cold by then (or to Cool sooner), which Azure applies instead."""
    fix = fix or cold_tier_fix(cold_after_days)
    found: list[Finding] = []
    carried = False
    # What a rule must do needs more than reaching the recordings (_carries_move).
    for rule, definition in _rules_reaching(rules, container):
        name = rule.get("name") or "(unnamed)"
        actions = _mapping(definition.get("actions"))
        for subject, whose in _ARCHIVE_SUBJECTS.items():
            if _mapping(actions.get(subject)).get("tiertoarchive") is not None:
                found.append(Finding(COLD_TIER.id, f"moves {whose} to the Archive tier (rule {name}), where a read must wait hours "
                                                   "for rehydration", fix))
        if not cold_after_days:
            continue
        carried = carried or _carries_move(rule, container, cold_after_days)
        if (sooner := _sooner(actions, cold_after_days)) is not None:
            tier, when = sooner
            found.append(Finding(COLD_TIER.id, f"moves current recordings to the {tier} tier {when} (rule {name}), instead of the "
                                               f"stack's move to {COLD} {cold_after_days} days after they are written: Azure applies the "
                                               "least expensive of several actions on a blob, and a sooner one first",
                                 f"remove that move from rule {name}, or make it act later than {cold_after_days} days"))
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


# An upload may name an encryption scope (x-ms-encryption-scope) or bring its own key (x-ms-encryption-key): the
# account's key is only the default. A container's defaultEncryptionScope with denyEncryptionScopeOverride would pin
# the scope, but Azure sets it only when the container is created (terraform-provider-azurerm marks both ForceNew),
# and the kit keeps its container; whether it also refuses customer-provided keys is not confirmed.
WRITER_CHOSEN_KEYS = ("a writer can still name an encryption scope or send its own key (customer-provided) per upload, "
                      "which no account setting the kit makes refuses")


def vault_origin(uri: str) -> str:
    """A vault URI as one spelling: lowercase, no trailing slash, and no :443 (https's own port, which names the same
    vault; an account's keyVaultUri as ARM answers it may carry it). Anything else is only lowercased and stripped."""
    try:
        parts = urlsplit(uri.strip())
        port = parts.port
    except ValueError:
        return uri.strip().lower().rstrip("/")
    if parts.scheme.lower() == "https" and parts.hostname and port in (None, 443) and parts.path in ("", "/") \
            and not (parts.query or parts.fragment or parts.username or parts.password):
        return f"https://{parts.hostname.lower()}"
    return uri.strip().lower().rstrip("/")


def encryption_key_findings(encryption: Any, wanted: Optional[str], writer_identity: Optional[str] = None,
                            require: bool = False, fix: Optional[str] = None, own_identity: Optional[str] = None) -> list[Finding]:
    """An account not encrypted with the stack's Key Vault key `wanted` (vault, key, and version: pinned, or
    none to follow the newest), or with none at all when `require`; or reaching its key as Tavus's writer, or
    (when the stack names it: `own_identity`) as anything but the stack's own encryption identity."""
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
        same_vault = isinstance(vault_uri, str) and vault_origin(vault_uri) == vault_origin(key.vault_uri)
        same_key = isinstance(key_name, str) and key_name.lower() == key.name.lower()
        if not (customer and same_vault and same_key):
            problems.append(f"encrypts with {shown}, not the stack's {wanted} (keyVaultKeyUri)")
        elif (version or "").lower() != (key.version or "").lower():
            pinned = f"version {key.version}" if key.version else "the newest version"
            problems.append(f"encrypts with {shown}, but the stack asks for {pinned} of that key (keyVaultKeyUri)")
    elif require and not customer:
        problems.append(f"encrypts with {shown}, but a customer key is required (requireCustomerKey)")
    used = encryption_identity(encryption)
    if customer and writer_identity and _same_id(used, writer_identity):
        problems.append("reaches its key as Tavus's writer identity, so Tavus could use the key, and revoking Tavus would cut the "
                        "account off from it")
    elif customer and own_identity and not _same_id(used, own_identity):
        problems.append(f"reaches its key as {f'identity {used}' if used else 'its system-assigned identity'}, not the stack's own "
                        f"encryption identity {own_identity} (encryption_identity_id): whoever controls that identity decides "
                        "whether the account can read its recordings")
    default_fix = (f"encrypt the account with {wanted} through the stack's own encryption identity (`pulumi up --refresh`)" if wanted
                   else "set keyVaultKeyUri in the stack")
    return [Finding(ENCRYPTION_KEY.id, problem, fix or default_fix) for problem in problems]


# --- that recordings cannot be changed (WORM), and that every read and write is logged

LOCKED = "Locked"
COMPLIANCE = "compliance"


def _number(value: Any) -> Optional[float]:
    # NaN compares false with every number and inf is no period ARM holds (an int32): neither can prove a period.
    number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return number if number is not None and math.isfinite(number) else None


def _is_true(value: Any) -> bool:
    """An allow flag as set: true, or the engine's or a hand-written "true"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def immutability_policy(policy: Any) -> Optional[Mapping[str, Any]]:
    """A container's immutability policy as lowercased keys (ARM's `properties` or azure-native's props), or
    None when it has none. ARM answers the GET of a container without a policy with 200 and a period of 0 days
    in state "Deleted" (pulumi-azure-native provider/pkg/openapi/defaults/defaultResourcesState.go, the state its
    existence check observed, PR #2154), so that reads as none too."""
    found = _lower_keys(policy) if isinstance(policy, Mapping) else None
    if not found:
        return None
    state, days = found.get("state"), found.get("immutabilityperiodsincecreationindays")
    if (isinstance(state, str) and state.lower() == "deleted") or (days in (0, None) and state is None):
        return None
    return found


def immutability_fix(immutable_days: int, compliance: bool = False) -> str:
    fix = (f"give the container a time-based immutability policy of {immutable_days} days (immutabilityPeriodSinceCreationInDays "
           f"{immutable_days}) with allowProtectedAppendWrites and allowProtectedAppendWritesAll false")
    return fix + (", then lock it (az storage container immutability-policy lock, with the policy's etag)" if compliance else "")


def immutability_findings(policy: Any, immutable_days: Optional[int], mode: Optional[str] = None, live: bool = False,
                          fix: Optional[str] = None) -> list[Finding]:
    """A container without the immutability policy the stack asks for (`immutable_days`, `mode`): none, a shorter
    period, protected append writes allowed, or, `live` (verify: the pack never sees the lock), a compliance
    stack's policy not locked. A longer period passes: a locked policy's period can only grow."""
    if not immutable_days:
        return []
    compliance = isinstance(mode, str) and mode.lower() == COMPLIANCE
    fix = fix or immutability_fix(immutable_days, compliance)
    found = immutability_policy(policy)
    if found is None:
        return [Finding(IMMUTABILITY.id, f"has no immutability policy, but the stack keeps recordings unchangeable for {immutable_days} "
                                         "days (immutableDays): any writer can overwrite or delete them", fix)]
    problems: list[str] = []
    days = _number(found.get("immutabilityperiodsincecreationindays"))
    if days is None:
        problems.append(f"has an immutability policy whose period cannot be read "
                        f"({found.get('immutabilityperiodsincecreationindays')!r}), so it cannot be proved to keep recordings "
                        f"{immutable_days} days")
    elif days < immutable_days:
        problems.append(f"keeps blobs unchangeable for {days:g} days, fewer than the {immutable_days} the stack asks for (immutableDays)")
    if _is_true(found.get("allowprotectedappendwrites")):
        problems.append("allows protected append writes (allowProtectedAppendWrites): blocks can still be added to a protected "
                        "append blob, so a recording written as one can be extended")
    if _is_true(found.get("allowprotectedappendwritesall")):
        problems.append("allows protected append writes to every blob (allowProtectedAppendWritesAll): new blocks can still be "
                        "committed to a protected recording")
    state = found.get("state")
    if live and compliance and not (isinstance(state, str) and state.lower() == LOCKED.lower()):
        problems.append(f"has an immutability policy in state {state or '(none)'}, not Locked, but the stack asks for compliance "
                        "mode (immutableMode): an unlocked policy can be shortened or deleted by an administrator, and the "
                        "recordings with it")
    return [Finding(IMMUTABILITY.id, problem, fix) for problem in problems]


def mode_findings(declared: Optional[str], required: Optional[str], immutable_days: Optional[int]) -> list[Finding]:
    """A stack whose immutableMode is weaker than the one the organisation requires (the pack's immutableMode)."""
    if not immutable_days or not (isinstance(required, str) and required.lower() == COMPLIANCE):
        return []
    if isinstance(declared, str) and declared.lower() == COMPLIANCE:
        return []
    return [Finding(IMMUTABILITY.id, f"keeps recordings in {declared or 'governance'} mode, but compliance mode is required "
                                     "(immutableMode): an unlocked policy can be shortened or deleted by an administrator",
                    "set immutableMode: compliance in the stack, then lock the policy after `pulumi up`")]


AUDIT_CATEGORIES = ("StorageRead", "StorageWrite", "StorageDelete")
_AUDIT_WHAT = {"StorageRead": "reads", "StorageWrite": "writes", "StorageDelete": "deletes"}
_AUDIT_DONE = {"StorageRead": "read", "StorageWrite": "wrote", "StorageDelete": "deleted"}
# allLogs is every category of the resource type, those added later included (Azure Monitor, "Diagnostic settings":
# category groups). What `audit` holds is decided per resource type and not published for blob services, so it
# proves none of the three.
ALL_LOGS = "alllogs"
_DESTINATIONS = ("storageaccountid", "workspaceid", "eventhubauthorizationruleid", "marketplacepartnerid")


@dataclass(frozen=True)
class DiagnosticSetting:
    """A diagnostic setting on the blob service: ARM's properties or azure-native's props, as they are."""

    name: str
    properties: Any
    ref: Any = None


def setting_destination(properties: Any) -> Optional[str]:
    found = _lower_keys(properties) if isinstance(properties, Mapping) else {}
    return next((str(found[k]) for k in _DESTINATIONS if isinstance(found.get(k), str) and found[k].strip()), None)


def logged_categories(properties: Any) -> set[str]:
    """The three audit categories a setting's logs enable (all three for an enabled allLogs group)."""
    covered: set[str] = set()
    for log in _logs(properties):
        if not isinstance(log, Mapping) or log.get("enabled") is not True:
            continue
        category, group = log.get("category"), log.get("categorygroup")
        if isinstance(group, str) and group.lower() == ALL_LOGS:
            covered |= set(AUDIT_CATEGORIES)
        elif isinstance(category, str):
            covered |= {c for c in AUDIT_CATEGORIES if c.lower() == category.lower()}
    return covered


def _logs(properties: Any) -> list[Any]:
    found = _lower_keys(properties) if isinstance(properties, Mapping) else {}
    logs = found.get("logs")
    return logs if isinstance(logs, list) else []


def _groups(properties: Any) -> set[str]:
    return {str(log.get("categorygroup")) for log in _logs(properties) if isinstance(log, Mapping) and log.get("enabled") is True
            and isinstance(log.get("categorygroup"), str) and log["categorygroup"].lower() != ALL_LOGS}


DIAGNOSTIC_FIX = ("add a diagnostic setting on the account's blob service (<account id>/blobServices/default) that enables "
                  "StorageRead, StorageWrite and StorageDelete (or the allLogs group) and sends them to a storage account or "
                  "Log Analytics workspace")


Elsewhere = Callable[[Any], Optional[str]]
"""Why a setting's destination is not the stack's own (its properties in; None when it is)."""


def diagnostic_findings(settings: Sequence[DiagnosticSetting], required: bool, fix: Optional[str] = None,
                        elsewhere: Optional[Elsewhere] = None, where: str = "anywhere") -> list[Finding]:
    """When `required`, the blob service's diagnostic settings together must send StorageRead, StorageWrite and
    StorageDelete to a destination; with `elsewhere`, only to one it finds no fault with (`where` names it): logs
    sent to an account someone else controls are kept, or not, as that someone decides."""
    if not required:
        return []
    fix = fix or DIAGNOSTIC_FIX
    if not settings:
        return [Finding(DIAGNOSTIC_LOGS.id, "has no diagnostic setting on its blob service: nobody can tell who read, wrote or "
                                            "deleted a recording", fix)]
    covered: set[str] = set()
    nowhere: list[str] = []
    foreign: list[str] = []
    for setting in settings:
        categories = logged_categories(setting.properties)
        if setting_destination(setting.properties) is None:
            if categories:
                nowhere.append(setting.name)
            continue
        why = elsewhere(setting.properties) if elsewhere is not None else None
        if why is not None:
            if categories:
                foreign.append(f"setting {setting.name} {why}")
            continue
        covered |= categories
    missing = [c for c in AUDIT_CATEGORIES if c not in covered]
    if not missing:
        return []
    what = ", ".join(f"{c} ({_AUDIT_WHAT[c]})" for c in missing)
    notes = [f"setting {', '.join(nowhere)} enables them but names no destination"] if nowhere else []
    notes += foreign
    groups = sorted({g for s in settings for g in _groups(s.properties)})
    if groups:
        notes.append(f"category group {', '.join(groups)} is not proved to hold them; allLogs is")
    note = f" ({'; '.join(notes)})" if notes else ""
    return [Finding(DIAGNOSTIC_LOGS.id, f"sends no {what} logs of its blob service {where}{note}: nobody can tell who "
                                        f"{' or '.join(_AUDIT_DONE[c] for c in missing)} a recording", fix)]


def storage_destination(properties: Any) -> Any:
    """A setting's storageAccountId, as it is (None when it has none)."""
    return (_lower_keys(properties) if isinstance(properties, Mapping) else {}).get("storageaccountid")


_SUBSCRIPTION = re.compile(r"/subscriptions/([^/]+)/", re.IGNORECASE)


def destination_subscriptions(properties: Any) -> dict[str, Optional[str]]:
    """Each resource-id destination of a setting (storage account, workspace, event hub rule) and its subscription
    (lower case; None when the id names none). A marketplace partner is no resource of a subscription: left out."""
    found = _lower_keys(properties) if isinstance(properties, Mapping) else {}
    ids = [found[k] for k in _DESTINATIONS[:3] if isinstance(found.get(k), str) and found[k].strip()]
    return {value: (m.group(1).lower() if (m := _SUBSCRIPTION.match(value.strip())) else None) for value in ids}


# Azure Monitor writes a blob service's resource logs to containers named insights-logs-<category> of the
# destination account (azure-monitor resource-logs.md, "Send to Azure Storage").
LOG_CONTAINER_PREFIX = "insights-logs-"
_DELETES = ("baseblob", "snapshot", "version")


def log_deletion_findings(rules: Sequence[Any]) -> list[Finding]:
    """Management policy rules of the log account that delete resource logs: any enabled delete action (of base
    blobs, snapshots or versions) whose prefixes reach an insights-logs-* container, or that has none (the whole
    account). Logs are evidence: the kit keeps them with no expiry."""
    found: list[Finding] = []
    for rule in (_lower_keys(r) for r in rules):
        if not isinstance(rule, Mapping) or rule.get("enabled") is False:
            continue
        definition = _mapping(rule.get("definition"))
        actions = _mapping(definition.get("actions"))
        if not any(_mapping(actions.get(k)).get("delete") is not None for k in _DELETES):
            continue
        prefixes = _mapping(definition.get("filters")).get("prefixmatch")
        listed = [str(p).lower() for p in prefixes] if isinstance(prefixes, list) else []
        if listed and not any(p.startswith(LOG_CONTAINER_PREFIX) or LOG_CONTAINER_PREFIX.startswith(p) for p in listed):
            continue
        scope = f"prefixes {', '.join(listed)}" if listed else "every container"
        found.append(Finding(DIAGNOSTIC_LOGS.id, f"deletes audit logs (rule {rule.get('name') or '?'}, {scope}): the record of who "
                                                 "read, wrote or deleted a recording does not stay",
                             "remove the rule's delete actions, or narrow its prefixes away from insights-logs-*"))
    return found


# --- a revoked stack (tavusAccess: revoked): nothing lets Tavus in

ACCESS_REVOKED = "azure.access.revoked"
"""verify's check of a revoked stack (not a pack rule: the pack sees what the stack defines, and a revoked stack
defines neither the credential nor the assignment)."""


def revoked_credential_findings(credentials: Sequence[Credential]) -> list[Judged]:
    """Every federated credential left on Tavus's identity is a way to sign in as it."""
    return [(c, Finding(ACCESS_REVOKED, f"still trusts tokens of issuer {_text(c.issuer)} with subject {_text(c.subject)}: whoever "
                                        "holds one signs in as the identity", "delete the credential")) for c in credentials]


def revoked_grant_findings(assignments: Iterable[Assignment], container: ContainerRef, definitions: Definitions = {}) -> list[Judged]:
    """Assignments of Tavus's identity (its groups' included) at the container or any scope above it whose role
    reaches the recordings: reads, writes or deletes blobs, or controls the account (grants itself a role, lists keys,
    signs a SAS); a role that cannot be read is unknown, one that cannot be proved harmless a finding. Unlike
    `access_findings`, an administrator of the subscription is no exception: it is Tavus's identity."""
    fix = "remove the assignment"
    found: list[Judged] = []
    for assignment in assignments:
        if not covers_container(assignment.scope, container):
            continue
        guid = role_guid(assignment.role)
        known = _lookup(guid, definitions)
        label = role_label(guid, assignment.role, known if isinstance(known, Role) else None)
        holds = f"holds {label} at {_where(assignment)}"
        if isinstance(known, str):
            found.append((assignment, Finding(ACCESS_REVOKED, f"{holds}, whose definition could not be read ({known})", "", unknown=True)))
        elif guid is None or known is None:
            found.append((assignment, Finding(ACCESS_REVOKED, f"{holds}, which cannot be proved to stay out of the recordings", fix)))
        elif reaches_blobs(known) or controls_account(known):
            found.append((assignment, Finding(ACCESS_REVOKED, f"{holds}: Tavus's tokens still reach the recordings through it", fix)))
    return found
