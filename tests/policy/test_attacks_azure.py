"""The Azure guardrails against the red team's corpus: the rules, the pack's policies (every resource policy
on each resource, then every stack policy, as the engine runs them) and `verify` against the fake Resource
Manager of tests/tool/test_verify_azure.py.

One parametrized test over CASES. Each Case(rule, kind, name, check) asserts the safe expectation, so a
failure names what went wrong; the layer is the prefix of each name: [rule], [pack], [verify].
  - kind "attack": a violation (rule layer), a mandatory diagnostic of the rule's policy (pack), or the
    rule's check failing or unknown (verify).                       failure = MISS
  - kind "safe":   a look-alike a platform team would write; nothing may be raised.   failure = FALSE ALARM
  - kind "odd":    malformed input; nothing may raise.              failure = CRASH
Accepted residuals are marked xfail(strict=True) with the reason, so fixing one fails the run until the
mark goes.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Sequence

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_OBJECT_VALUE

import test_pack_azure as tp  # module object only: its tests are not collected here
from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR as BDC
from fakes import azure_api as arm
from pack_harness import UNKNOWN, Resource, analyze, analyze_stack
from tavus_recording.rules import azure as rules
from tavus_recording.rules.azure_rbac import Role, account_name, container_of, role_from_permissions
from tool import test_verify_azure as tv
from tool.test_verify_azure import ca, check, kit  # noqa: F401 (the verify cases' fixtures)

# --------------------------------------------------------------------------------------------------------------
# outcomes


@dataclass
class Outcome:
    layer: str
    violation: bool  # a mandatory violation / failing check for the rule(s) under test
    unknown: bool = False  # verify: the rule's check is unknown (counts as caught for attacks)
    raised: bool = False  # anything at all was raised (safe cases must raise nothing)
    detail: str = ""


@dataclass(frozen=True)
class Case:
    rule: str
    kind: str
    name: str
    check: Callable[[Any], Outcome]
    accepted: str = ""
    """Why a miss or a false alarm is accepted (the case is then xfail, strict)."""


def _ids(rule: str) -> list[str]:
    return rule.split("|")


def _flatten(found: Iterable[Any]) -> list[rules.Finding]:
    return [f[1] if isinstance(f, tuple) else f for f in found]


def rule_outcome(found: Iterable[Any], rule: str) -> Outcome:
    findings = _flatten(found)
    hit = [f for f in findings if f.rule in _ids(rule) and not f.unknown]
    return Outcome("rule", bool(hit), any(f.unknown for f in findings if f.rule in _ids(rule)), bool(findings),
                   "; ".join(f"{f.rule}{'(unknown)' if f.unknown else ''}: {f.problem}" for f in findings)[:900])


def pack_outcome(diagnostics: list[Any], rule: str) -> Outcome:
    wanted = {p for r in _ids(rule) for p in (r, r + ".stack")}
    hit = [d for d in diagnostics if d.level == "mandatory" and d.policy in wanted]
    return Outcome("pack", bool(hit), False, bool(diagnostics),
                   " | ".join(f"{d.policy}[{d.level}]: {d.message.split(chr(10))[-1][:300]}" for d in diagnostics)[:1500])


def verify_outcome(run: Any, rule: str) -> Outcome:
    checks = [run.checks[r] for r in _ids(rule)]
    others = {i: c for i, c in run.checks.items() if c.ok is not True}
    return Outcome("verify", any(c.ok is False for c in checks), any(c.ok is None for c in checks), bool(others),
                   " | ".join(f"{i}={c.ok}: {c.detail[:250]}" for i, c in others.items())[:1500] or "every check passed")


# --------------------------------------------------------------------------------------------------------------
# shared names

SUB = tp.SUB
OTHER_SUB = "0c0c0c0c-0000-4000-8000-000000000000"
RG = tp.RG
ACCOUNT_ID = tp.ACCOUNT_ID
CONTAINER_ID = tp.CONTAINER_ID
IDENTITY_ID = tp.IDENTITY_ID
PRINCIPAL = tp.PRINCIPAL
STRANGER = tp.STRANGER
GROUP_PRINCIPAL = "4a4a4a4a-2222-4333-8444-555566667777"
ISSUER, SUBJECT, AUDIENCE = tp.ISSUER, tp.SUBJECT, tp.AUDIENCE
TOKEN = rules.Token(ISSUER, SUBJECT, AUDIENCE)
TARGET = container_of(CONTAINER_ID)
IDENTITY = (SUB.lower(), "media", "tavus-writer")
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
SA = "Microsoft.Storage/storageAccounts"

OWNER, CONTRIBUTOR, READER, UAA = tp.OWNER, tp.AZ_CONTRIBUTOR, tp.READER, tp.UAA
MIO, MIC = tp.MIO, tp.MIC
BLOB_OWNER, BLOB_READER, ACCOUNT_CONTRIBUTOR = tp.BLOB_OWNER, tp.BLOB_READER, tp.ACCOUNT_CONTRIBUTOR
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
BLOB_DELEGATOR = "db58b8e5-c6ad-4a2a-8342-4190687cbf4a"
KEY_OPERATOR = "81a9662b-bebf-436f-a333-f67b29880f12"  # Storage Account Key Operator Service Role
READER_AND_DATA = "c12c1c16-33a1-487b-954d-41c89c60f349"  # Reader and Data Access
MONITORING_READER = "43d0d8ad-25c7-4714-9337-8ba259a9fe05"
CUSTOM = "5a5a5a5a-0000-4000-8000-000000000001"
CUSTOM2 = "5a5a5a5a-0000-4000-8000-000000000002"

KEY_OPERATOR_ROLE = Role("Storage Account Key Operator Service Role", (f"{SA}/listkeys/action", f"{SA}/regeneratekey/action"))
READER_AND_DATA_ROLE = Role("Reader and Data Access", (f"{SA}/listKeys/action", f"{SA}/ListAccountSas/action", f"{SA}/read"))


def full(guid: str, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def tenant(guid: str) -> str:
    return f"/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def upper_scope(scope: str) -> str:
    return scope.upper()


# --------------------------------------------------------------------------------------------------------------
# rule-layer helpers


def cred(issuer: Any = ISSUER, subject: Any = SUBJECT, audiences: Any = None, expression: Any = None, name: str = "c") -> rules.Credential:
    return rules.Credential(name, issuer, subject, [AUDIENCE] if audiences is None else audiences, expression)


def a(role: Any, scope: Any, principal: Any = STRANGER) -> rules.Assignment:
    return rules.Assignment(role, scope, principal, "x")


def R_fed(creds: Sequence[rules.Credential], token: rules.Token = TOKEN) -> Callable[[Any], Outcome]:
    return lambda _: rule_outcome(rules.federation_findings(list(creds), token), rules.FEDERATION.id)


def R_ops(assignment: rules.Assignment, definitions: Optional[dict] = None) -> Callable[[Any], Outcome]:
    return lambda _: rule_outcome(rules.operator_findings([assignment], IDENTITY, {PRINCIPAL}, definitions or {}), rules.OPERATORS.id)


def R_grants(extra: Sequence[rules.Assignment], definitions: Optional[dict] = None, base: bool = True) -> Callable[[Any], Outcome]:
    mine = ([a(BDC, CONTAINER_ID, PRINCIPAL)] if base else []) + list(extra)
    return lambda _: rule_outcome(rules.grant_findings(mine, TARGET, definitions or {}), rules.ROLE_ASSIGNMENTS.id)


def R_access(assignment: rules.Assignment, definitions: Optional[dict] = None) -> Callable[[Any], Outcome]:
    return lambda _: rule_outcome(rules.access_findings([assignment], TARGET, {PRINCIPAL}, definitions or {}), rules.CONTAINER_ACCESS.id)


def lc_rule(delete: Any = None, name: str = "r", enabled: Any = True, filters: Optional[dict] = None,
            actions: Optional[dict] = None) -> dict:
    definition: dict[str, Any] = {"actions": actions if actions is not None else {"baseBlob": {"delete": delete}}}
    if filters is not None:
        definition["filters"] = filters
    found: dict[str, Any] = {"name": name, "type": "Lifecycle", "definition": definition}
    if enabled is not None:
        found["enabled"] = enabled
    return found


def R_life(rule_list: list, retention: Optional[int] = 365, container: Optional[str] = "recordings") -> Callable[[Any], Outcome]:
    return lambda _: rule_outcome(rules.lifecycle_findings(rule_list, container, retention), rules.LIFECYCLE.id)


def R_repl(policy: rules.Replication) -> Callable[[Any], Outcome]:
    return lambda _: rule_outcome(rules.replication_findings(
        [policy], lambda p: account_name(p.source) == "acmerecordings", "recordings",
        lambda p: account_name(p.destination) in {"acmebackup"}), rules.REPLICATION.id)


def orp(destination: Any, container: Any = "recordings", source: Any = ACCOUNT_ID, rule_list: Any = None) -> rules.Replication:
    return rules.Replication(source, destination, rule_list if rule_list is not None else
                             [{"ruleId": "r1", "sourceContainer": container, "destinationContainer": "copy"}], "p")


# --------------------------------------------------------------------------------------------------------------
# pack-layer helpers


def role_def(name: str, guid: str, actions: Sequence[str] = (), data: Sequence[str] = (), not_actions: Sequence[str] = (),
             not_data: Sequence[str] = (), scope: str = f"/subscriptions/{SUB}") -> Resource:
    return Resource(tp.ROLE_DEFINITION, name, {"name": guid, "roleName": name, "scope": scope, "assignableScopes": [scope],
                                               "permissions": [{"actions": list(actions), "notActions": list(not_actions),
                                                                "dataActions": list(data), "notDataActions": list(not_data)}]})


def g(name: str, role: Any, scope: Any, principal: Any = STRANGER, deps: Optional[dict] = None, type_: str = tp.ROLE_ASSIGNMENT,
      **extra: Any) -> Resource:
    return Resource(type_, name, {"principalId": principal, "roleDefinitionId": role, "scope": scope, **extra}, deps or {})


def P_stack(extra: list[Resource], rule: str, base: str = "kit", config: Optional[dict] = None,
            mutate: Optional[Callable[[list[Resource]], None]] = None) -> Callable[[Any], Outcome]:
    def run(_: Any) -> Outcome:
        resources = tp.kit() if base == "kit" else tp.preview_kit()
        if mutate:
            mutate(resources)
        stack = resources + extra
        # As the engine does: every resource policy on each resource, then every stack policy on the stack.
        diagnostics = [d for r in stack for d in analyze(r.type, r.props, name=r.name, config=config)]
        return pack_outcome(diagnostics + analyze_stack(stack, config), rule)
    return run


def P_res(type_: str, props: dict, rule: str, config: Optional[dict] = None) -> Callable[[Any], Outcome]:
    return lambda _: pack_outcome(analyze(type_, props, config=config), rule)


FIC_T = tp.FIC
CRED = dict(tp.CREDENTIAL)
CFG = tp.TOKEN_CONFIG
FULL_CFG = {"azure.identity.federation": CFG["azure.identity.federation"], "azure.identity.federation.stack": CFG["azure.identity.federation"]}


def lifecycle_res(name: str, rule_list: list, account: Any = "acmerecordings", deps: Optional[dict] = None,
                  type_: str = tp.LIFECYCLE) -> Resource:
    return Resource(type_, name, {"accountName": account, "policy": {"rules": rule_list}}, deps or {})


def orp_res(name: str, destination: Any, source: Any = "acmerecordings", container: Any = "recordings", deps: Optional[dict] = None,
            type_: str = tp.REPLICATION, account: Any = "acmerecordings") -> Resource:
    return Resource(type_, name, {"accountName": account, "sourceAccount": source, "destinationAccount": destination,
                                  "rules": [{"sourceContainer": container, "destinationContainer": "copy"}]}, deps or {})


def other_federated_identity(name: str, issuer: str, subject: str, grants: list[tuple[str, str]]) -> list[Resource]:
    """Another identity in the stack with its own federated credential (a CI deployer, a second writer)."""
    principal = "2b2b2b2b-3333-4444-8555-666677778888"
    found = [Resource(tp.IDENTITY, name, {"name": name, "resourceGroupName": "ops", "principalId": principal}),
             Resource(FIC_T, f"{name}-fic", {"resourceName": name, "resourceGroupName": "ops", "issuer": issuer, "subject": subject,
                                             "audiences": [AUDIENCE]})]
    found += [g(f"{name}-grant{i}", role, scope, principal) for i, (role, scope) in enumerate(grants)]
    return found


# --------------------------------------------------------------------------------------------------------------
# verify-layer helpers (the fake ARM of tests/tool/test_verify_azure.py)


def V(drift: Optional[Callable[[arm.ArmState, Any], None]], rule: str, outputs: Optional[Callable[[Any], dict]] = None) -> Callable[[Any], Outcome]:
    def run(request: Any) -> Outcome:
        check_ = request.getfixturevalue("check")
        kit_ = request.getfixturevalue("kit")
        kwargs = {"outputs": outputs(kit_)} if outputs else {}
        return verify_outcome(check_(drift, **kwargs), rule)
    return run


def vput_grant(scope: Callable[[Any], str], role_id: Callable[[Any], str], principal: str = STRANGER,
               principal_type: str = "User") -> Callable[[arm.ArmState, Any], None]:
    def drift(state: arm.ArmState, kit_: Any) -> None:
        state.put(arm.role_assignment(scope=scope(kit_), role_definition_id=role_id(kit_), principal_id=principal,
                                      principal_type=principal_type))
    return drift


def vrole(guid: str, name: str = "custom", actions: Sequence[str] = (), data: Sequence[str] = (), not_actions: Sequence[str] = (),
          not_data: Sequence[str] = ()) -> Callable[[arm.ArmState, Any], None]:
    return lambda state, kit_: state.put(arm.role_definition(tv.SUBSCRIPTION, guid, role_name=name, actions=actions, data_actions=data,
                                                             not_actions=not_actions, not_data_actions=not_data))


def vfull(guid: str) -> Callable[[Any], str]:
    return lambda kit_: full(guid, tv.SUBSCRIPTION)


def chain(*drifts: Callable[[arm.ArmState, Any], None]) -> Callable[[arm.ArmState, Any], None]:
    def drift(state: arm.ArmState, kit_: Any) -> None:
        for d in drifts:
            d(state, kit_)
    return drift


def vanswer(path: Callable[[Any], str], status: int, body: Any) -> Callable[[arm.ArmState, Any], None]:
    """Make one GET answer `status` with `body` (any shape), as a misbehaving or throttled ARM would."""
    def drift(state: arm.ArmState, kit_: Any) -> None:
        wanted = path(kit_).lower().rstrip("/")
        original = state.answer

        def answer(path_: str, query: dict[str, str]) -> tuple[int, Any]:
            if path_.lower().rstrip("/") == wanted:
                return status, body
            return original(path_, query)

        state.answer = answer  # type: ignore[method-assign]
    return drift


def vcred(**props: Any) -> Callable[[arm.ArmState, Any], None]:
    return tv.set_credential(**props)


def v_second_cred(issuer: str, subject: str, name: str = "second") -> Callable[[arm.ArmState, Any], None]:
    return lambda state, kit_: state.put(arm.federated_credential(kit_.identity_id, name, issuer=issuer, subject=subject,
                                                                  audiences=[AUDIENCE]))


def v_fic_scope(kit_: Any) -> str:
    return f"{kit_.identity_id}/federatedIdentityCredentials/tavus-recordings-tavus4f7a2c9e"


def v_lifecycle(rule_list: list) -> Callable[[arm.ArmState, Any], None]:
    return tv.lifecycle(rule_list)


def v_orp(destination: Callable[[Any], str], source: Optional[Callable[[Any], str]] = None) -> Callable[[arm.ArmState, Any], None]:
    def drift(state: arm.ArmState, kit_: Any) -> None:
        state.put(arm.object_replication_policy(
            kit_.account_id, "2a6b7c8d-0000-4000-8000-00000000c0de", source=(source or (lambda k: k.account_id))(kit_),
            destination=destination(kit_), rules=[{"ruleId": "r1", "sourceContainer": "recordings", "destinationContainer": "copy"}]))
    return drift


SUBLIST = lambda k: f"/subscriptions/{tv.SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments"  # noqa: E731
FOREIGN = tv.FOREIGN_ACCOUNT

# --------------------------------------------------------------------------------------------------------------
# the cases

FED, OPS, GRANTS, LEAST = rules.FEDERATION.id, rules.OPERATORS.id, rules.ROLE_ASSIGNMENTS.id, rules.LEAST_PRIVILEGE.id
ACCESS, CPUB, APUB = rules.CONTAINER_ACCESS.id, rules.CONTAINER_PUBLIC.id, rules.PUBLIC_ACCESS.id
LIFE, REPL = rules.LIFECYCLE.id, rules.REPLICATION.id

CASES: list[Case] = []


def add(rule: str, kind: str, name: str, check_: Callable[[Any], Outcome], accepted: str = "") -> None:
    CASES.append(Case(rule, kind, name, check_, accepted))


CI_IDENTITY = ("accepted: every identity with a federated credential is judged as Tavus's (the documented default); the "
               "finding's fix says how to exempt one (a separate stack, or disabling the policy)")


# === who can sign in as the identity: federated credentials =====================================================

# rule layer, Tavus's token configured
add(FED, "attack", "[rule] issuer http", R_fed([cred(issuer="http://tavus-issuer.example")]))
add(FED, "attack", "[rule] issuer with user info, unconfigured", R_fed([cred(issuer="https://tavus-issuer.example@evil.example")], rules.Token()))
add(FED, "attack", "[rule] issuer trailing slash vs Tavus's", R_fed([cred(issuer=ISSUER + "/")]))
add(FED, "attack", "[rule] issuer host upper-case vs Tavus's", R_fed([cred(issuer="https://TAVUS-ISSUER.example")]))
add(FED, "attack", "[rule] issuer path in another case (other tenant of a multi-tenant issuer)",
    R_fed([cred(issuer="https://oidc.tavus.example/tenants/Acme")], rules.Token("https://oidc.tavus.example/tenants/acme", SUBJECT, AUDIENCE)))
add(FED, "attack", "[rule] issuer with explicit :443", R_fed([cred(issuer="https://tavus-issuer.example:443")]))
add(FED, "attack", "[rule] issuer with empty fragment", R_fed([cred(issuer="https://tavus-issuer.example#")], rules.Token()))
add(FED, "attack", "[rule] issuer backslash user-info trick, unconfigured",
    R_fed([cred(issuer="https://tavus-issuer.example\\@evil.example")], rules.Token()))
add(FED, "attack", "[rule] issuer Cyrillic homograph host", R_fed([cred(issuer="https://tavus-\u0456ssuer.example")]))
add(FED, "attack", "[rule] issuer nested in another issuer's path", R_fed([cred(issuer="https://evil.example/https://tavus-issuer.example")]))
add(FED, "attack", "[rule] subject in another case", R_fed([cred(subject=SUBJECT.upper())]))
add(FED, "attack", "[rule] subject with a wildcard, unconfigured", R_fed([cred(subject="tavus-*")], rules.Token()))
add(FED, "attack", "[rule] subject with trailing newline, unconfigured", R_fed([cred(subject=SUBJECT + "\n")], rules.Token()))
add(FED, "attack", "[rule] subject with a zero-width space", R_fed([cred(subject=SUBJECT + "\u200b")]))
add(FED, "attack", "[rule] flexible credential (claimsMatchingExpression, no subject)",
    R_fed([cred(subject=None, expression={"value": "claims['sub'] startsWith 'tavus'", "languageVersion": 1})]))
add(FED, "attack", "[rule] empty claimsMatchingExpression beside an exact subject", R_fed([cred(expression={})]))
add(FED, "attack", "[rule] two audiences", R_fed([cred(audiences=[AUDIENCE, "api://other"])]))
add(FED, "attack", "[rule] audience with a trailing slash", R_fed([cred(audiences=[AUDIENCE + "/"])]))
add(FED, "attack", "[rule] second credential, other subject", R_fed([cred(), cred(subject="other", name="d")]))
add(FED, "attack", "[rule] second credential, exact copy", R_fed([cred(), cred(name="d")]))
add(FED, "attack", "[rule] second credential first, Tavus's second", R_fed([cred(issuer="https://token.actions.githubusercontent.com",
                                                                                 subject="repo:acme/app:ref:refs/heads/main", name="gh"), cred()]))
add(FED, "safe", "[rule] exact Tavus credential", R_fed([cred()]))
add(FED, "safe", "[rule] issuer with port and path, unconfigured", R_fed([cred(issuer="https://login.tavus.example:8443/oidc/v1")], rules.Token()))
add(FED, "safe", "[rule] Entra v2 issuer with tenant path, unconfigured",
    R_fed([cred(issuer="https://login.microsoftonline.com/5b0e4a7c-2f1d-4e8a-9c3b-6d7e8f9a0b1c/v2.0")], rules.Token()))
add(FED, "safe", "[rule] mixed-case path, unconfigured", R_fed([cred(issuer="https://oidc.tavus.example/Tenants/ACME")], rules.Token()))
add(FED, "safe", "[rule] Kubernetes-style subject", R_fed([cred(subject="system:serviceaccount:rec:writer")], rules.Token(ISSUER, None, AUDIENCE)))
add(FED, "odd", "[rule] issuer is a list", R_fed([cred(issuer=["https://a.example"])]))
add(FED, "odd", "[rule] issuer unclosed IPv6", R_fed([cred(issuer="https://[::1")]))
add(FED, "odd", "[rule] issuer NFKC-normalising netloc", R_fed([cred(issuer="https://tavus-issuer.example\uff0f@evil.example")]))
add(FED, "odd", "[rule] issuer port out of range", R_fed([cred(issuer="https://tavus-issuer.example:999999")]))
add(FED, "odd", "[rule] subject is a dict, audiences a dict", R_fed([cred(subject={"a": 1}, audiences={"x": 1})]))
add(FED, "odd", "[rule] audiences [None]", R_fed([cred(audiences=[None])]))
add(FED, "odd", "[rule] credential name None, three odd credentials",
    R_fed([rules.Credential(None, None, None, None), rules.Credential(None, 5, 5, 5, 5), cred()]))  # type: ignore[arg-type]

# pack: one credential
add(FED, "attack", "[pack] versioned FIC token, wildcard subject",
    P_res("azure-native:managedidentity/v20230731preview:FederatedIdentityCredential", {**CRED, "subject": "*"}, FED))
add(FED, "attack", "[pack] flexible FIC (2025 preview token), no subject",
    P_res("azure-native:managedidentity/v20250131preview:FederatedIdentityCredential",
          {"issuer": ISSUER, "audiences": [AUDIENCE], "claimsMatchingExpression": {"value": "claims['sub'] matches 'x*'", "languageVersion": 1}}, FED))
add(FED, "attack", "[pack] issuer trailing slash, token configured", P_res(FIC_T, {**CRED, "issuer": ISSUER + "/"}, FED, CFG))
add(FED, "attack", "[pack] issuer user info and port", P_res(FIC_T, {**CRED, "issuer": "https://tavus-issuer.example@evil.example:443/"}, FED))
add(FED, "attack", "[pack] audiences as a bare string", P_res(FIC_T, {**CRED, "audiences": AUDIENCE}, FED))
add(FED, "safe", "[pack] exact credential, configured", P_res(FIC_T, CRED, FED, CFG))
add(FED, "safe", "[pack] every value unknown", P_res(FIC_T, {"issuer": UNKNOWN, "subject": UNKNOWN, "audiences": UNKNOWN_ARRAY_VALUE,
                                                           "claimsMatchingExpression": UNKNOWN_OBJECT_VALUE}, FED, CFG))
add(FED, "safe", "[pack] issuer unknown, rest exact", P_res(FIC_T, {**CRED, "issuer": UNKNOWN}, FED, CFG))
add(FED, "safe", "[pack] one audience unknown inside the list", P_res(FIC_T, {**CRED, "audiences": [UNKNOWN]}, FED, CFG))
add(FED, "odd", "[pack] empty FIC props", P_res(FIC_T, {}, FED))
add(FED, "odd", "[pack] FIC with nested junk", P_res(FIC_T, {"issuer": {"a": [1]}, "subject": [None], "audiences": [[AUDIENCE]],
                                                        "claimsMatchingExpression": 0}, FED))

# pack: the stack
add(FED, "attack", "[pack] second FIC on the identity, versioned token",
    P_stack([Resource("azure-native:managedidentity/v20230131:FederatedIdentityCredential", "backdoor",
                      {"resourceName": "tavus-writer", "resourceGroupName": "media", **CRED, "subject": "other"})], FED))
add(FED, "attack", "[pack] second FIC by upper-case name, no group",
    P_stack([Resource(FIC_T, "backdoor", {"resourceName": "TAVUS-WRITER", **CRED, "subject": "other"})], FED))
add(FED, "attack", "[pack] second FIC by reference in the first preview",
    P_stack([Resource(FIC_T, "backdoor", {"resourceName": UNKNOWN, "resourceGroupName": UNKNOWN, **CRED, "subject": "x"},
                      {"resourceName": ["writer"]})], FED, base="preview"))
add(FED, "attack", "[pack] second FIC through the azure (classic) provider",
    P_stack([Resource("azure:armmsi/federatedIdentityCredential:FederatedIdentityCredential", "backdoor",
                      {"parentId": IDENTITY_ID, "resourceGroupName": "media", "issuer": "https://evil.example", "subject": "x",
                       "audience": AUDIENCE})], FED))
add(f"{FED}|{ACCESS}", "attack", "[pack] a second federated identity (other issuer) writing the recordings, unconfigured",
    P_stack(other_federated_identity("shadow-writer", "https://issuer.attacker.example", "anyone", [(BDC, CONTAINER_ID)]), f"{FED}|{ACCESS}"))
add(f"{FED}|{ACCESS}", "attack", "[pack] a second federated identity writing the recordings, configured",
    P_stack(other_federated_identity("shadow-writer", "https://issuer.attacker.example", "anyone", [(BDC, CONTAINER_ID)]),
            f"{FED}|{ACCESS}", config=FULL_CFG))
add(f"{OPS}", "attack", "[pack] Tavus's identity attached to a web app in the stack",
    P_stack([Resource("azure-native:web:WebApp", "app", {"name": "acme-app", "resourceGroupName": "media",
                                                         "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY_ID: {}}}})], OPS))
add(f"{OPS}", "attack", "[pack] Tavus's identity attached to a container app by reference",
    P_stack([Resource("azure-native:app:ContainerApp", "job", {"identity": {"type": "UserAssigned", "userAssignedIdentities": UNKNOWN_OBJECT_VALUE}},
                      {"identity": ["writer"]})], OPS))
add(f"{FED}|{GRANTS}|{LEAST}|{ACCESS}|{OPS}", "safe", "[pack] a GitHub deploy identity with Contributor on its own group (unconfigured)",
    P_stack(other_federated_identity("gh-deployer", "https://token.actions.githubusercontent.com", "repo:acme/infra:environment:prod",
                                     [(CONTRIBUTOR, f"/subscriptions/{SUB}/resourceGroups/ops")]), FED), CI_IDENTITY)
add(f"{FED}", "safe", "[pack] a GitHub deploy identity's own credential, token configured",
    lambda _: pack_outcome(analyze(FIC_T, {"resourceName": "gh-deployer", "resourceGroupName": "ops",
                                           "issuer": "https://token.actions.githubusercontent.com",
                                           "subject": "repo:acme/infra:environment:prod", "audiences": [AUDIENCE]}, config=CFG), FED),
    CI_IDENTITY)
add(FED, "safe", "[pack] a CI identity reading its own artifacts container",
    P_stack(other_federated_identity("ci", "https://token.actions.githubusercontent.com", "repo:acme/app:ref:refs/heads/main",
                                     [(BLOB_READER, CONTAINER_ID.replace("acmerecordings", "acmeartifacts").replace("recordings", "builds"))]), FED),
    CI_IDENTITY + "; here only an advisory least_privilege note")
add(FED, "safe", "[pack] second FIC with name unknown and no dependency (preview)",
    P_stack([Resource(FIC_T, "later", {"resourceName": UNKNOWN, **CRED, "subject": "x"})], FED, base="preview"))

# verify
add(FED, "attack", "[verify] credential issuer gains a trailing slash", V(vcred(issuer=ISSUER + "/"), FED))
add(FED, "attack", "[verify] credential subject upper-cased", V(vcred(subject=SUBJECT.upper()), FED))
add(FED, "attack", "[verify] credential issuer host upper-cased", V(vcred(issuer="https://TAVUS-ISSUER.example"), FED))
add(FED, "attack", "[verify] a second, identical credential", V(v_second_cred(ISSUER, SUBJECT), FED))
add(FED, "attack", "[verify] attacker issuer while outputs lack the issuer",
    V(vcred(issuer="https://issuer.attacker.example"), FED, outputs=lambda k: {x: y for x, y in k.outputs.items() if x != "tavus_oidc_issuer"}))
add(FED, "attack", "[verify] credentials listing answers 500", V(vanswer(lambda k: f"{k.identity_id}/federatedIdentityCredentials", 500,
                                                                        {"error": {"code": "InternalServerError", "message": "boom"}}), FED))
add(FED, "attack", "[verify] credentials listing answers 200 with a non-list value",
    V(vanswer(lambda k: f"{k.identity_id}/federatedIdentityCredentials", 200, {"value": "nope"}), FED))
add(FED, "attack", "[verify] credentials listing 200 with audiences null (two credentials)",
    V(chain(vcred(audiences=None), v_second_cred("https://evil.example", "x")), FED))

# === who else can act as the identity ============================================================================

for label, role in [("MIO bare upper", MIO.upper()), ("MIO full id trailing slash", full(MIO) + "/"), ("MIO tenant-level id", tenant(MIO)),
                    ("MIC full id upper", full(MIC).upper()), ("Owner tenant id", tenant(OWNER)), ("Contributor bare", CONTRIBUTOR),
                    ("UAA full id", full(UAA)), ("RBAC Administrator", RBAC_ADMIN),
                    ("MIO, role id defined at a management group",
                     f"/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/roleDefinitions/{MIO}")]:
    add(OPS, "attack", f"[rule] {label} on the identity", R_ops(a(role, IDENTITY_ID)))
for label, scope in [("group, upper + slash", RG.upper() + "/"), ("subscription", f"/subscriptions/{SUB}"),
                     ("management group", "/providers/Microsoft.Management/managementGroups/corp"), ("tenant root", "/"),
                     ("identity, lower-case", IDENTITY_ID.lower())]:
    add(OPS, "attack", f"[rule] Managed Identity Contributor at {label}", R_ops(a(MIC, scope)))
add(OPS, "attack", "[rule] Owner on the group", R_ops(a(full(OWNER), RG)))
add(OPS, "attack", "[rule] UAA on the identity with trailing slash", R_ops(a(UAA, IDENTITY_ID + "/")))
add(OPS, "attack", "[rule] MIO to a group principal with an ABAC condition", R_ops(a(MIO, IDENTITY_ID, GROUP_PRINCIPAL)))
CUSTOM_OPS = {
    "Microsoft.ManagedIdentity/*/assign/action": (["Microsoft.ManagedIdentity/*/assign/action"], []),
    "*/write": (["*/write"], []),
    "Microsoft.Authorization/*/write": (["Microsoft.Authorization/*/write"], []),
    "* minus assign": (["*"], ["Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"]),
    "identities/* minus */assign/action": (["Microsoft.ManagedIdentity/userAssignedIdentities/*"],
                                           ["Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"]),
    "federatedIdentityCredentials/* upper-case": (["MICROSOFT.MANAGEDIDENTITY/USERASSIGNEDIDENTITIES/FEDERATEDIDENTITYCREDENTIALS/*"], []),
}
for label, (acts, nots) in CUSTOM_OPS.items():
    add(OPS, "attack", f"[rule] custom role '{label}' on the group", R_ops(a(CUSTOM, RG), {CUSTOM: Role("c", tuple(acts), tuple(nots))}))
add(OPS, "attack", "[rule] custom role that rewrites role definitions (self-escalation) on the group",
    R_ops(a(CUSTOM, RG), {CUSTOM: Role("role-author", ("Microsoft.Authorization/roleDefinitions/write", "*/read"))}))
add(OPS, "attack", "[rule] custom 'landing zone' role at the subscription: create groups + assign identities",
    R_ops(a(CUSTOM, f"/subscriptions/{SUB}"), {CUSTOM: Role("lz", ("Microsoft.Resources/subscriptions/resourceGroups/write",
                                                                  "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"))}))
add(OPS, "attack", "[rule] Managed Identity Contributor on Tavus's federated credential (child scope)",
    R_ops(a(MIC, f"{IDENTITY_ID}/federatedIdentityCredentials/tavus")))
add(OPS, "attack", "[rule] Owner on Tavus's federated credential (child scope)",
    R_ops(a(OWNER, f"{IDENTITY_ID}/federatedIdentityCredentials/tavus")))
add(OPS, "safe", "[rule] MIO on another identity in the group", R_ops(a(MIO, IDENTITY_ID.replace("tavus-writer", "app"))))
add(OPS, "safe", "[rule] Reader on the group", R_ops(a(READER, RG)))
add(OPS, "safe", "[rule] Monitoring Reader on the group (undefined built-in)", R_ops(a(MONITORING_READER, RG)))
add(OPS, "safe", "[rule] Owner at the subscription (listed)", R_ops(a(OWNER, f"/subscriptions/{SUB}/")))
add(OPS, "safe", "[rule] UAA at a management group (listed)", R_ops(a(UAA, "/providers/Microsoft.Management/managementGroups/corp")))
add(OPS, "safe", "[rule] custom read-only identity role on the group",
    R_ops(a(CUSTOM, RG), {CUSTOM: Role("ro", ("Microsoft.ManagedIdentity/userAssignedIdentities/read", "*/read"))}))
add(OPS, "safe", "[rule] custom '*' minus identities and authorization",
    R_ops(a(CUSTOM, RG), {CUSTOM: Role("c", ("*",), ("Microsoft.ManagedIdentity/*", "Microsoft.Authorization/*"))}))
add(OPS, "safe", "[rule] MIO in another subscription's same-named group", R_ops(a(MIO, RG.replace(SUB, OTHER_SUB))))
add(OPS, "safe", "[rule] Blob Data Contributor for a stranger on the group (not an operator)", R_ops(a(BDC, RG)))
add(OPS, "odd", "[rule] scope None, role None, principal None", R_ops(a(None, None, None)))
add(OPS, "odd", "[rule] scope ' / ', role int", R_ops(a(7, " / ")))
add(OPS, "odd", "[rule] scope with many slashes", R_ops(a(MIO, "//subscriptions//" + SUB + "///resourceGroups/media//")))
add(OPS, "odd", "[rule] custom role with regex metacharacters", R_ops(a(CUSTOM, RG), {CUSTOM: Role("c", ("Microsoft.(a|b)/[x]*/+?",))}))

# pack
add(OPS, "attack", "[pack] MIO on the identity, versioned role assignment token",
    P_stack([g("op", MIO, IDENTITY_ID, type_="azure-native:authorization/v20220401:RoleAssignment")], OPS))
add(OPS, "attack", "[pack] Owner on the group by reference to the ResourceGroup",
    P_stack([g("op", OWNER, UNKNOWN, deps={"scope": ["rg"]})], OPS))
add(OPS, "attack", "[pack] custom FIC-writer role by reference, on the identity",
    P_stack([role_def("fic-writer", CUSTOM, ["Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"]),
             g("op", UNKNOWN, IDENTITY_ID, deps={"roleDefinitionId": ["fic-writer"]})], OPS))
add(OPS, "attack", "[pack] MIO for an azuread service principal of the stack",
    P_stack([Resource("azuread:index:ServicePrincipal", "sp", {"objectId": tp.APP_PRINCIPAL}),
             g("op", MIO, IDENTITY_ID, tp.APP_PRINCIPAL)], OPS))
add(OPS, "attack", "[pack] MIC on Tavus's federated credential, scope by reference",
    P_stack([g("op", MIC, UNKNOWN, deps={"scope": ["tavus"]})], OPS))
add(OPS, "attack", "[pack] MIC on Tavus's federated credential, scope by value",
    P_stack([g("op", MIC, f"{IDENTITY_ID}/federatedIdentityCredentials/tavus")], OPS))
add(OPS, "attack", "[pack] a role defined outside the stack, on the identity itself",
    P_stack([g("op", full("0d0d0d0d-0000-4000-8000-00000000000d"), IDENTITY_ID)], OPS))
add(OPS, "attack", "[pack] MIO through PIM (RoleAssignmentScheduleRequest, AdminAssign)",
    P_stack([g("op", full(MIO), IDENTITY_ID, type_="azure-native:authorization:RoleAssignmentScheduleRequest", requestType="AdminAssign",
               roleAssignmentScheduleRequestName="4f4f4f4f-0000-4000-8000-000000000001")], OPS))
add(OPS, "attack", "[pack] Owner made eligible through PIM (RoleEligibilityScheduleRequest) on the group",
    P_stack([g("op", full(OWNER), RG, type_="azure-native:authorization:RoleEligibilityScheduleRequest", requestType="AdminAssign")], OPS))
add(OPS, "attack", "[pack] MIO through the azure (classic) provider",
    P_stack([Resource("azure:authorization/assignment:Assignment", "op", {"principalId": STRANGER, "roleDefinitionId": full(MIO),
                                                                        "scope": IDENTITY_ID})], OPS))
add(OPS, "attack", "[pack] custom 'landing zone' role at the subscription (create groups + assign identities)",
    P_stack([role_def("lz", CUSTOM, ["Microsoft.Resources/subscriptions/resourceGroups/write", "Microsoft.ManagedIdentity/*"]),
             g("op", full(CUSTOM), f"/subscriptions/{SUB}")], OPS))
add(OPS, "safe", "[pack] first preview: Owner for CI on an unrelated group 'ops'",
    P_stack([g("ci", OWNER, f"/subscriptions/{SUB}/resourceGroups/ops")], OPS, base="preview"))
add(OPS, "safe", "[pack] first preview: MIO on another identity in group 'ops'",
    P_stack([g("ci", MIO, f"/subscriptions/{SUB}/resourceGroups/ops/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app")],
            OPS, base="preview"))
add(OPS, "safe", "[pack] Owner on the same-named group of another subscription (staging)",
    P_stack([g("stg", OWNER, RG.replace(SUB, OTHER_SUB))], OPS),
    "accepted (low, conservative): the pack never knows the identity's subscription, so a group of that name in any "
    "subscription counts")
add(OPS, "safe", "[pack] stranger grant fully unknown in the preview", P_stack([g("later", UNKNOWN, UNKNOWN, UNKNOWN)], OPS, base="preview"))
add(OPS, "safe", "[pack] MIO with scope unknown and no dependency (preview)", P_stack([g("later", MIO, UNKNOWN)], OPS, base="preview"))
add(OPS, "odd", "[pack] role assignment with junk types",
    P_stack([g("junk", ["x"], {"a": 1}, 5), g("junk2", None, None, None)], OPS))
add(OPS, "odd", "[pack] role definition with permissions as a string and as dict blocks",
    P_stack([Resource(tp.ROLE_DEFINITION, "rd1", {"name": CUSTOM, "permissions": "x"}),
             Resource(tp.ROLE_DEFINITION, "rd2", {"name": CUSTOM2, "permissions": [{"actions": "x", "dataActions": [1, None]}]}),
             g("r1", CUSTOM, IDENTITY_ID), g("r2", CUSTOM2, IDENTITY_ID)], OPS))

# verify
add(OPS, "attack", "[verify] MIC on Tavus's federated credential (child scope)",
    V(vput_grant(v_fic_scope, vfull(MIC)), OPS))
add(OPS, "attack", "[verify] custom 'landing zone' role at the subscription",
    V(chain(vrole(CUSTOM, "lz", ["Microsoft.Resources/subscriptions/resourceGroups/write", "Microsoft.ManagedIdentity/*"]),
            vput_grant(lambda k: f"/subscriptions/{tv.SUBSCRIPTION}", vfull(CUSTOM))), OPS))
add(OPS, "attack", "[verify] custom FIC-writer role on the group",
    V(chain(vrole(CUSTOM, "fic", ["Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/*"]),
            vput_grant(lambda k: k.group_id, vfull(CUSTOM))), OPS))
add(OPS, "attack", "[verify] custom role on the identity whose definition answers 403",
    V(chain(vrole(CUSTOM, "x", ["*/read"]), vput_grant(lambda k: k.identity_id, vfull(CUSTOM)),
            lambda s, k: s.deny(full(CUSTOM, tv.SUBSCRIPTION), "Microsoft.Authorization/roleDefinitions/read")), OPS))
add(OPS, "attack", "[verify] Owner on the identity, role id tenant-level spelling",
    V(vput_grant(lambda k: k.identity_id, lambda k: tenant(OWNER)), OPS))
add(OPS, "attack", "[verify] MIO on the identity for a group principal",
    V(vput_grant(lambda k: k.identity_id, vfull(MIO), GROUP_PRINCIPAL, "Group"), OPS))
add(OPS, "attack", "[verify] MIO on the identity while the listing over it answers 429",
    V(chain(vput_grant(lambda k: k.identity_id, vfull(MIO)),
            vanswer(lambda k: f"{k.identity_id}/providers/Microsoft.Authorization/roleAssignments", 429,
                    {"error": {"code": "TooManyRequests", "message": "slow down"}})), OPS))
add(OPS, "attack", "[verify] custom self-escalating role-author on the group",
    V(chain(vrole(CUSTOM, "role-author", ["Microsoft.Authorization/roleDefinitions/write", "*/read"]),
            vput_grant(lambda k: k.group_id, vfull(CUSTOM))), OPS))
add(OPS, "safe", "[verify] Reader on the identity", V(vput_grant(lambda k: k.identity_id, vfull(READER)), OPS))

# === what the identity can do =====================================================================================

GRANT_ATTACKS: dict[str, tuple[rules.Assignment, dict]] = {
    "Blob Data Owner on the container": (a(BLOB_OWNER, CONTAINER_ID, PRINCIPAL), {}),
    "Contributor on the container": (a(CONTRIBUTOR, CONTAINER_ID, PRINCIPAL), {}),
    "Owner on the container, tenant id": (a(tenant(OWNER), CONTAINER_ID, PRINCIPAL), {}),
    "Storage Account Contributor on the account": (a(ACCOUNT_CONTRIBUTOR, ACCOUNT_ID, PRINCIPAL), {}),
    "Key Operator (undefined) on the account": (a(KEY_OPERATOR, ACCOUNT_ID, PRINCIPAL), {}),
    "Key Operator (definition read) on the account": (a(KEY_OPERATOR, ACCOUNT_ID, PRINCIPAL), {KEY_OPERATOR: KEY_OPERATOR_ROLE}),
    "custom listKeys on the container": (a(CUSTOM, CONTAINER_ID, PRINCIPAL), {CUSTOM: Role("k", (f"{SA}/listKeys/action",))}),
    "custom permanentDelete": (a(CUSTOM, CONTAINER_ID, PRINCIPAL), {CUSTOM: Role("p", (), (), (f"{BLOBS}/write", f"{BLOBS}/permanentDelete/action"))}),
    "custom runAsSuperUser": (a(CUSTOM, CONTAINER_ID, PRINCIPAL), {CUSTOM: Role("p", (), (), (f"{BLOBS}/runAsSuperUser/action",))}),
    "custom immutableStorage/runAsSuperUser": (a(CUSTOM, CONTAINER_ID, PRINCIPAL),
                                               {CUSTOM: Role("p", (), (), (f"{BLOBS}/immutableStorage/runAsSuperUser/action",))}),
    "custom modifyPermissions": (a(CUSTOM, CONTAINER_ID, PRINCIPAL), {CUSTOM: Role("p", (), (), (f"{BLOBS}/modifyPermissions/action",))}),
    "custom deleteBlobVersion": (a(CUSTOM, CONTAINER_ID, PRINCIPAL), {CUSTOM: Role("p", (), (), (f"{BLOBS}/deleteBlobVersion/action",))}),
    "custom blobs/* upper-case": (a(CUSTOM, CONTAINER_ID, PRINCIPAL), {CUSTOM: Role("p", (), (), (f"{BLOBS}/*".upper(),))}),
    "custom control-plane containers/*": (a(CUSTOM, CONTAINER_ID, PRINCIPAL),
                                          {CUSTOM: Role("p", ("Microsoft.Storage/storageAccounts/blobServices/containers/*",))}),
    "custom immutabilityPolicies/delete": (a(CUSTOM, CONTAINER_ID, PRINCIPAL),
                                           {CUSTOM: Role("p", ("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/delete",))}),
    "BDC on the account": (a(BDC, ACCOUNT_ID, PRINCIPAL), {}),
    "BDC on the blob service": (a(BDC, f"{ACCOUNT_ID}/blobServices/default", PRINCIPAL), {}),
    "BDC on the group": (a(BDC, RG, PRINCIPAL), {}),
    "BDC on the subscription": (a(full(BDC), f"/subscriptions/{SUB}", PRINCIPAL), {}),
    "BDC on 'recordings2'": (a(BDC, CONTAINER_ID + "2", PRINCIPAL), {}),
    "BDC on 'recording' (prefix)": (a(BDC, CONTAINER_ID[:-1], PRINCIPAL), {}),
    "BDC on the same container name in another account": (a(BDC, CONTAINER_ID.replace("acmerecordings", "acmerecordings2"), PRINCIPAL), {}),
    "BDC on the same container in another subscription": (a(BDC, CONTAINER_ID.replace(SUB, OTHER_SUB), PRINCIPAL), {}),
    "BDC below the container": (a(BDC, CONTAINER_ID + "/blobs/x", PRINCIPAL), {}),
    "Blob Data Reader on the account": (a(BLOB_READER, ACCOUNT_ID, PRINCIPAL), {}),
    "Reader on the subscription": (a(READER, f"/subscriptions/{SUB}", PRINCIPAL), {}),
    "MIO on itself": (a(MIO, IDENTITY_ID, PRINCIPAL), {}),
    "custom within BDC but at the account": (a(CUSTOM, ACCOUNT_ID, PRINCIPAL), {CUSTOM: Role("w", (), (), (f"{BLOBS}/write",))}),
}
for label, (assignment, defs) in GRANT_ATTACKS.items():
    add(GRANTS, "attack", f"[rule] {label}", R_grants([assignment], defs))
add(GRANTS, "safe", "[rule] BDC full id, trailing slash, upper-case container", R_grants([a(full(BDC) + "/", CONTAINER_ID.upper() + "/", PRINCIPAL)], base=False))
add(GRANTS, "safe", "[rule] BDC tenant id, lower-case container", R_grants([a(tenant(BDC), CONTAINER_ID.lower(), PRINCIPAL)], base=False))
add(GRANTS, "safe", "[rule] custom within BDC (write + add)", R_grants([a(CUSTOM, CONTAINER_ID, PRINCIPAL)],
                                                                        {CUSTOM: Role("w", (), (), (f"{BLOBS}/write", f"{BLOBS}/add/action"))}))
add(GRANTS, "safe", "[rule] custom = BDC's actions in other case, minus delete",
    R_grants([a(CUSTOM, CONTAINER_ID, PRINCIPAL)], {CUSTOM: Role("w", (), (), tuple(x.lower() for x in rules.BLOB_CONTRIBUTOR.data_actions),
                                                                  (f"{BLOBS}/delete",))}))
add(GRANTS, "safe", "[rule] BDC twice on the container", R_grants([a(BDC.upper(), CONTAINER_ID, PRINCIPAL)]))
add(GRANTS, "odd", "[rule] scope int, role dict", R_grants([a({"id": BDC}, 5, PRINCIPAL)]))
add(GRANTS, "odd", "[rule] empty scope and role", R_grants([a("", "", PRINCIPAL)]))
add(GRANTS, "odd", "[rule] custom role with non-string actions (as read)", R_grants([a(CUSTOM, CONTAINER_ID, PRINCIPAL)], {
    CUSTOM: role_from_permissions("w", [{"actions": [None, 5], "dataActions": [1, {"a": 1}]}, "junk", {"notActions": "x"}])}))

# pack
add(GRANTS, "attack", "[pack] first preview: Tavus's BDC with scope by reference to the account",
    P_stack([g("wide", BDC, UNKNOWN, UNKNOWN, {"principalId": ["writer"], "scope": ["acct"]})], GRANTS, base="preview"))
add(GRANTS, "attack", "[pack] first preview: Tavus's Owner with scope by reference to the group",
    P_stack([g("wide", OWNER, UNKNOWN, UNKNOWN, {"principalId": ["writer"], "scope": ["rg"]})], GRANTS, base="preview"))
add(GRANTS, "attack", "[pack] Tavus's BDC on the account, versioned token",
    P_stack([g("wide", BDC, ACCOUNT_ID, PRINCIPAL, type_="azure-native:authorization/v20200401preview:RoleAssignment")], GRANTS))
add(GRANTS, "attack", "[pack] Tavus's Key Operator (undefined) on the account", P_stack([g("keys", KEY_OPERATOR, ACCOUNT_ID, PRINCIPAL)], GRANTS))
add(GRANTS, "attack", "[pack] custom role with permanentDelete by reference",
    P_stack([role_def("purge", CUSTOM, data=[f"{BLOBS}/write", f"{BLOBS}/permanentDelete/action"]),
             g("purge-grant", UNKNOWN, CONTAINER_ID, PRINCIPAL, {"roleDefinitionId": ["purge"]})], GRANTS))
add(GRANTS, "attack", "[pack] Tavus's BDC on 'recordings2'", P_stack([g("two", BDC, CONTAINER_ID + "2", PRINCIPAL)], GRANTS))
add(GRANTS, "attack", "[pack] Tavus's Owner on the subscription through PIM (RoleAssignmentScheduleRequest)",
    P_stack([g("pim", full(OWNER), f"/subscriptions/{SUB}", PRINCIPAL, type_="azure-native:authorization:RoleAssignmentScheduleRequest",
               requestType="AdminAssign")], GRANTS))
add(GRANTS, "attack", "[pack] Tavus's identity added to an Entra group that holds Contributor elsewhere",
    P_stack([Resource("azuread:index:Group", "ops-admins", {"objectId": GROUP_PRINCIPAL, "displayName": "ops-admins", "securityEnabled": True}),
             Resource("azuread:index:GroupMember", "member", {"groupObjectId": GROUP_PRINCIPAL, "memberObjectId": PRINCIPAL}),
             g("ops", CONTRIBUTOR, f"/subscriptions/{SUB}/resourceGroups/ops", GROUP_PRINCIPAL)], GRANTS))
add(GRANTS, "safe", "[pack] Tavus's BDC again, upper-case GUID, lower-case scope with slash",
    P_stack([g("again", BDC.upper(), CONTAINER_ID.lower() + "/", PRINCIPAL)], GRANTS))
add(GRANTS, "safe", "[pack] first preview: Tavus's grant with role unknown from a pending custom role",
    P_stack([Resource(tp.ROLE_DEFINITION, "pending", {"name": UNKNOWN, "permissions": UNKNOWN_ARRAY_VALUE}),
             g("later", UNKNOWN, UNKNOWN, UNKNOWN, {"principalId": ["writer"], "roleDefinitionId": ["pending"], "scope": ["container"]})],
            GRANTS, base="preview"))

# verify
add(GRANTS, "attack", "[verify] BDC beside on 'recordings2'",
    V(vput_grant(lambda k: k.container_id + "2", vfull(BDC), tv.PRINCIPAL_ID, "ServicePrincipal"), GRANTS))
add(GRANTS, "attack", "[verify] custom permanentDelete role on the container",
    V(tv.custom_role([f"{BLOBS}/write", f"{BLOBS}/permanentDelete/action"]), GRANTS))
add(GRANTS, "attack", "[verify] custom listKeys role on the container", V(tv.custom_role([], [f"{SA}/listKeys/action"]), GRANTS))
add(GRANTS, "attack", "[verify] Key Operator (definition served) on the account",
    V(chain(vrole(KEY_OPERATOR, "Storage Account Key Operator Service Role", [f"{SA}/listkeys/action", f"{SA}/regeneratekey/action"]),
            vput_grant(lambda k: k.account_id, vfull(KEY_OPERATOR), tv.PRINCIPAL_ID, "ServicePrincipal")), GRANTS))
add(GRANTS, "attack", "[verify] Owner on the account, role id in upper case",
    V(vput_grant(lambda k: k.account_id, lambda k: full(OWNER, tv.SUBSCRIPTION).upper(), tv.PRINCIPAL_ID, "ServicePrincipal"), GRANTS))
add(GRANTS, "attack", "[verify] Blob Data Owner for Tavus's identity on an account in another subscription",
    V(vput_grant(lambda k: FOREIGN, vfull(BLOB_OWNER), tv.PRINCIPAL_ID, "ServicePrincipal"), GRANTS),
    "accepted limit: verify lists the identity's assignments in the stack's subscription only, and never searches others")
add(GRANTS, "attack", "[verify] identity in a group that owns the subscription (group assignment)",
    V(chain(lambda s, k: s.add_member(GROUP_PRINCIPAL, tv.PRINCIPAL_ID),
            vput_grant(lambda k: f"/subscriptions/{tv.SUBSCRIPTION}", vfull(OWNER), GROUP_PRINCIPAL, "Group")), GRANTS))
add(GRANTS, "attack", "[verify] identity in a group in a group that owns the blobs of the container",
    V(chain(lambda s, k: s.add_member("5b5b5b5b-2222-4333-8444-555566667777", tv.PRINCIPAL_ID),
            lambda s, k: s.add_member(GROUP_PRINCIPAL, "5b5b5b5b-2222-4333-8444-555566667777"),
            vput_grant(lambda k: k.container_id, vfull(BLOB_OWNER), GROUP_PRINCIPAL, "Group")), GRANTS))
add(GRANTS, "safe", "[verify] a group the identity is not in reads another container",
    V(vput_grant(lambda k: f"{k.container_id}2", vfull(BLOB_READER), GROUP_PRINCIPAL, "Group"), GRANTS))
add(GRANTS, "attack", "[verify] identity's assignment listing answers 200 with junk",
    V(vanswer(SUBLIST, 200, {"value": [{"properties": "x"}]}), GRANTS))
add(GRANTS, "safe", "[verify] BDC with a tenant-level role id", V(chain(lambda s, k: tv.remove_grants(s),
                                                                       vput_grant(lambda k: k.container_id, lambda k: tenant(BDC),
                                                                                  tv.PRINCIPAL_ID, "ServicePrincipal")), GRANTS))

# === who else reaches the recordings =============================================================================

ACCESS_ATTACKS: dict[str, tuple[rules.Assignment, dict]] = {
    "Blob Data Reader on the container": (a(BLOB_READER, CONTAINER_ID), {}),
    "BDC on the blob service": (a(BDC, f"{ACCOUNT_ID}/blobServices/default"), {}),
    "Blob Data Owner on the subscription": (a(BLOB_OWNER, f"/subscriptions/{SUB}"), {}),
    "Blob Data Reader at a management group": (a(BLOB_READER, "/providers/Microsoft.Management/managementGroups/corp"), {}),
    "Blob Data Reader at the root": (a(BLOB_READER, "/"), {}),
    "custom dataActions '*' on the account": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (), (), ("*",))}),
    "custom dataActions 'Microsoft.Storage/*' on the group": (a(CUSTOM, RG), {CUSTOM: Role("c", (), (), ("Microsoft.Storage/*",))}),
    "custom dataActions '*/read' on the container": (a(CUSTOM, CONTAINER_ID), {CUSTOM: Role("c", (), (), ("*/read",))}),
    "custom blob tags/read": (a(CUSTOM, CONTAINER_ID), {CUSTOM: Role("c", (), (), (f"{BLOBS}/tags/read",))}),
    "custom blob filter/action": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (), (), (f"{BLOBS}/filter/action",))}),
    "Storage Account Contributor on the account": (a(ACCOUNT_CONTRIBUTOR, ACCOUNT_ID), {}),
    "Storage Account Contributor on the account's group": (a(ACCOUNT_CONTRIBUTOR, RG), {}),
    "Storage Account Contributor on the subscription": (a(ACCOUNT_CONTRIBUTOR, f"/subscriptions/{SUB}"), {}),
    "Reader and Data Access (read) on the group": (a(READER_AND_DATA, RG), {READER_AND_DATA: READER_AND_DATA_ROLE}),
    "Key Operator (read) on the group": (a(KEY_OPERATOR, RG), {KEY_OPERATOR: KEY_OPERATOR_ROLE}),
    "custom listKeys on the group": (a(CUSTOM, RG), {CUSTOM: Role("c", (f"{SA}/listKeys/action",))}),
    "custom ListAccountSas on the account": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (f"{SA}/ListAccountSas/action",))}),
    "custom listServiceSas on the account": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (f"{SA}/listServiceSas/action",))}),
    "custom regeneratekey on the account": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (f"{SA}/regeneratekey/action",))}),
    "custom SFTP localusers/* on the account": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (f"{SA}/localusers/*",))}),
    "custom objectReplicationPolicies/write on the account": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (f"{SA}/objectReplicationPolicies/write",))}),
    "custom managementPolicies/write on the account": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (f"{SA}/managementPolicies/write",))}),
    "custom containers/delete on the container": (a(CUSTOM, CONTAINER_ID), {CUSTOM: Role("c", (f"{SA}/blobServices/containers/delete",))}),
    "custom storageAccounts/write on the account": (a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (f"{SA}/write",))}),
    "UAA on the container": (a(UAA, CONTAINER_ID), {}),
    "RBAC Administrator on the account": (a(RBAC_ADMIN, ACCOUNT_ID), {}),
    "undefined role on the container": (a("0c0c0c0c-0000-4000-8000-00000000000c", CONTAINER_ID), {}),
    "Tavus's principal with a suffix": (a(BDC, CONTAINER_ID, PRINCIPAL + "0"), {}),
    "group principal, container scope upper-case": (a(BLOB_READER, CONTAINER_ID.upper(), GROUP_PRINCIPAL), {}),
}
for label, (assignment, defs) in ACCESS_ATTACKS.items():
    add(ACCESS, "attack", f"[rule] stranger: {label}", R_access(assignment, defs))
add(ACCESS, "safe", "[rule] stranger Reader on the account", R_access(a(READER, ACCOUNT_ID)))
add(ACCESS, "safe", "[rule] stranger Storage Blob Delegator on the account", R_access(a(BLOB_DELEGATOR, ACCOUNT_ID)))
add(ACCESS, "safe", "[rule] stranger Queue Data Contributor on the account", R_access(a(tp.QUEUE_CONTRIBUTOR, ACCOUNT_ID)))
add(ACCESS, "safe", "[rule] stranger Blob Data Owner on 'recordings2'", R_access(a(BLOB_OWNER, CONTAINER_ID + "2")))
add(ACCESS, "safe", "[rule] stranger Blob Data Reader on account 'acmerecordings2'",
    R_access(a(BLOB_READER, ACCOUNT_ID.replace("acmerecordings", "acmerecordings2"))))
add(ACCESS, "safe", "[rule] stranger custom read minus read", R_access(a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("c", (), (), (f"{BLOBS}/read",), (f"{BLOBS}/read",))}))
add(ACCESS, "safe", "[rule] stranger Owner at the subscription (administrator, listed)", R_access(a(OWNER, f"/subscriptions/{SUB}")))
add(ACCESS, "safe", "[rule] stranger Blob Data Reader in another subscription", R_access(a(BLOB_READER, f"/subscriptions/{OTHER_SUB}")))
add(ACCESS, "safe", "[rule] stranger file-share data role on the account",
    R_access(a(CUSTOM, ACCOUNT_ID), {CUSTOM: Role("f", (), (), ("Microsoft.Storage/storageAccounts/fileServices/fileshares/files/read",))}))
add(ACCESS, "safe", "[rule] Tavus's own BDC, principal upper-case", R_access(a(BDC, CONTAINER_ID, PRINCIPAL.upper())))
add(ACCESS, "odd", "[rule] container scope with junk", R_access(a(BLOB_READER, "/subscriptions")))
add(ACCESS, "odd", "[rule] providers twice in the scope", R_access(a(BLOB_READER, ACCOUNT_ID + "/providers/Microsoft.Insights/x/y")))
add(ACCESS, "odd", "[rule] principal None, scope list", R_access(a(BLOB_READER, [CONTAINER_ID], None)))

# pack
add(ACCESS, "attack", "[pack] first preview: stranger Blob Data Owner at the tenant root",
    P_stack([g("leak", BLOB_OWNER, "/")], ACCESS, base="preview"))
add(ACCESS, "attack", "[pack] first preview: stranger Blob Data Reader at a management group",
    P_stack([g("leak", BLOB_READER, "/providers/Microsoft.Management/managementGroups/corp")], ACCESS, base="preview"))
add(ACCESS, "attack", "[pack] first preview: stranger Blob Data Reader, scope by reference to the group",
    P_stack([g("leak", BLOB_READER, UNKNOWN, deps={"scope": ["rg"]})], ACCESS, base="preview"))
add(ACCESS, "attack", "[pack] first preview: stranger Blob Data Reader, scope by reference to the account",
    P_stack([g("leak", BLOB_READER, UNKNOWN, deps={"scope": ["acct"]})], ACCESS, base="preview"))
add(ACCESS, "attack", "[pack] stranger Reader and Data Access (not in the stack) on the account",
    P_stack([g("leak", full(READER_AND_DATA), ACCOUNT_ID)], ACCESS))
add(ACCESS, "attack", "[pack] stranger Storage Account Contributor on the account's group",
    P_stack([g("leak", ACCOUNT_CONTRIBUTOR, RG)], ACCESS))
add(ACCESS, "attack", "[pack] stranger custom ListAccountSas role (in the stack) on the account",
    P_stack([role_def("sas", CUSTOM, [f"{SA}/ListAccountSas/action", f"{SA}/read"]), g("leak", full(CUSTOM), ACCOUNT_ID)], ACCESS))
add(ACCESS, "attack", "[pack] stranger Blob Data Reader through the azure (classic) provider",
    P_stack([Resource("azure:authorization/assignment:Assignment", "leak", {"principalId": STRANGER, "roleDefinitionId": full(BLOB_READER),
                                                                          "scope": CONTAINER_ID})], ACCESS))
add(ACCESS, "attack", "[pack] stranger Blob Data Reader through PIM (RoleAssignmentScheduleRequest)",
    P_stack([g("leak", full(BLOB_READER), CONTAINER_ID, type_="azure-native:authorization:RoleAssignmentScheduleRequest",
               requestType="AdminAssign")], ACCESS))
add(ACCESS, "attack", "[pack] stranger custom '*' data role by reference",
    P_stack([role_def("all-data", CUSTOM, data=["*"]), g("leak", UNKNOWN, CONTAINER_ID, deps={"roleDefinitionId": ["all-data"]})], ACCESS))
add(ACCESS, "attack", "[pack] stranger principal upper-case, scope upper-case with slash",
    P_stack([g("leak", BLOB_READER, CONTAINER_ID.upper() + "/", STRANGER.upper())], ACCESS))
add(ACCESS, "safe", "[pack] the stack's web app (system identity) reads the container",
    P_stack([Resource("azure-native:web:WebApp", "app", {"identity": {"type": "SystemAssigned", "principalId": tp.APP_PRINCIPAL}}),
             g("app-reads", BLOB_READER, CONTAINER_ID, tp.APP_PRINCIPAL)], ACCESS))
add(ACCESS, "safe", "[pack] stranger Storage Blob Delegator on the account", P_stack([g("deleg", BLOB_DELEGATOR, ACCOUNT_ID)], ACCESS))
add(ACCESS, "safe", "[pack] first preview: stranger Blob Data Reader with role unknown, scope by reference",
    P_stack([g("later", UNKNOWN, UNKNOWN, deps={"scope": ["container"]})], ACCESS, base="preview"))
add(ACCESS, "safe", "[pack] first preview: stranger Blob Data Reader, scope unknown and no dependency",
    P_stack([g("later", BLOB_READER, UNKNOWN)], ACCESS, base="preview"))

def _identity_elsewhere(resources: list[Resource]) -> None:
    """An existingStorageAccount-style layout: Tavus's identity in its own group, the account in 'media'."""
    for r in resources:
        if r.type in (tp.IDENTITY, FIC_T):
            r.props["resourceGroupName"] = "tavus-identity"


add(ACCESS, "attack", "[pack] identity in its own group; stranger Contributor on the account's group",
    P_stack([g("leak", CONTRIBUTOR, RG)], ACCESS, mutate=_identity_elsewhere))
add(ACCESS, "attack", "[pack] identity in its own group; stranger Owner on the account's group",
    P_stack([g("leak", OWNER, RG)], ACCESS, mutate=_identity_elsewhere))
add(GRANTS, "attack", "[pack] Tavus's principal id with principalType 'User', Owner on the container",
    P_stack([g("odd-type", OWNER, CONTAINER_ID, PRINCIPAL, principalType="User")], GRANTS))

# verify
add(ACCESS, "attack", "[verify] stranger Storage Account Contributor on the group",
    V(vput_grant(lambda k: k.group_id, vfull(ACCOUNT_CONTRIBUTOR)), ACCESS))
add(ACCESS, "attack", "[verify] stranger Reader and Data Access on the group",
    V(chain(vrole(READER_AND_DATA, "Reader and Data Access", list(READER_AND_DATA_ROLE.actions)),
            vput_grant(lambda k: k.group_id, vfull(READER_AND_DATA))), ACCESS))
add(ACCESS, "attack", "[verify] stranger custom ListAccountSas on the account",
    V(chain(vrole(CUSTOM, "sas", [f"{SA}/ListAccountSas/action", f"{SA}/read"]), vput_grant(lambda k: k.account_id, vfull(CUSTOM))), ACCESS))
add(ACCESS, "attack", "[verify] stranger custom objectReplicationPolicies/write on the account",
    V(chain(vrole(CUSTOM, "orp", [f"{SA}/objectReplicationPolicies/*"]), vput_grant(lambda k: k.account_id, vfull(CUSTOM))), ACCESS))
add(ACCESS, "attack", "[verify] stranger Blob Data Reader on the blob service",
    V(vput_grant(lambda k: f"{k.account_id}/blobServices/default", vfull(BLOB_READER)), ACCESS))
add(ACCESS, "attack", "[verify] stranger role whose definition is not found (404)",
    V(vput_grant(lambda k: k.account_id, vfull("0c0c0c0c-0000-4000-8000-00000000000c")), ACCESS))
add(ACCESS, "attack", "[verify] stranger Blob Data Owner while the container listing answers 401",
    V(chain(vput_grant(lambda k: k.container_id, vfull(BLOB_OWNER)),
            vanswer(lambda k: f"{k.container_id}/providers/Microsoft.Authorization/roleAssignments", 401,
                    {"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}})), ACCESS))
add(ACCESS, "attack", "[verify] stranger Blob Data Owner while the container listing answers 403",
    V(chain(vput_grant(lambda k: k.container_id, vfull(BLOB_OWNER)),
            lambda s, k: s.deny(f"{k.container_id}/providers/Microsoft.Authorization/roleAssignments",
                                "Microsoft.Authorization/roleAssignments/read")), ACCESS))
add(ACCESS, "safe", "[verify] stranger Storage Blob Delegator on the account", V(vput_grant(lambda k: k.account_id, vfull(BLOB_DELEGATOR)), ACCESS))

# === recordings never public =====================================================================================

for label, value in [("Blob", "Blob"), ("Container", "Container"), ("lower-case container", "container"), ("true", True)]:
    add(CPUB, "attack", f"[rule] container publicAccess {label}", lambda _, v=value: rule_outcome(rules.container_public_findings(v), CPUB))
for label, value in [("true", True), ("'true'", "true"), ("unset", None)]:
    add(APUB, "attack", f"[rule] account allowBlobPublicAccess {label}", lambda _, v=value: rule_outcome(rules.public_access_findings(v), APUB))
add(CPUB, "attack", "[pack] versioned BlobContainer, publicAccess Container",
    P_res("azure-native:storage/v20230101:BlobContainer", {"publicAccess": "Container"}, CPUB))
add(APUB, "attack", "[pack] versioned StorageAccount, allowBlobPublicAccess 'True'",
    P_res("azure-native:storage/v20220901:StorageAccount", {**tp.HARDENED_ACCOUNT, "allowBlobPublicAccess": "True"}, APUB))
add(CPUB, "safe", "[pack] container publicAccess None", P_res(tp.CONTAINER_TYPE, {"publicAccess": "None"}, CPUB))
add(CPUB, "safe", "[pack] container publicAccess absent", P_res(tp.CONTAINER_TYPE, {}, CPUB))
add(APUB, "safe", "[pack] account allowBlobPublicAccess 'false'", P_res(tp.ACCOUNT, {**tp.HARDENED_ACCOUNT, "allowBlobPublicAccess": "false"}, APUB))
add(APUB, "safe", "[pack] account allowBlobPublicAccess unknown",
    P_res(tp.ACCOUNT, {**tp.HARDENED_ACCOUNT, "allowBlobPublicAccess": UNKNOWN_BOOLEAN_VALUE}, APUB))
add(CPUB, "odd", "[pack] container publicAccess as a list", P_res(tp.CONTAINER_TYPE, {"publicAccess": [1]}, CPUB))
add(APUB, "odd", "[pack] account allowBlobPublicAccess as an object", P_res(tp.ACCOUNT, {"allowBlobPublicAccess": {"x": 1}}, APUB))
add(CPUB, "attack", "[verify] container publicAccess Container",
    V(lambda s, k: s.set_properties(k.container_id, publicAccess="Container"), CPUB))
add(APUB, "attack", "[verify] account answer 503", V(vanswer(lambda k: k.account_id, 503, {"error": {"code": "ServerBusy", "message": "x"}}), APUB))

# === that recordings last =========================================================================================

LIFE_ATTACKS = {
    "delete 30 days after modification": [lc_rule({"daysAfterModificationGreaterThan": 30})],
    "delete 364 days after creation": [lc_rule({"daysAfterCreationGreaterThan": 364})],
    "delete 100 days after last access": [lc_rule({"daysAfterLastAccessTimeGreaterThan": 100})],
    "delete 0 days": [lc_rule({"daysAfterModificationGreaterThan": 0})],
    "prefix 'recordings' (no slash)": [lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"prefixMatch": ["recordings"]})],
    "prefix 'rec'": [lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"prefixMatch": ["rec"]})],
    "prefix '' (empty)": [lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"prefixMatch": [""]})],
    "prefix 'recordings/2026/'": [lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"prefixMatch": ["recordings/2026/"]})],
    "blobTypes append+block": [lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"blobTypes": ["appendBlob", "blockBlob"]})],
    "blobTypes 'BlockBlob' case": [lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"blobTypes": ["BlockBlob"]})],
    "enabled absent (Azure default on)": [lc_rule({"daysAfterModificationGreaterThan": 1}, enabled=None)],
    "enabled 'true' string": [lc_rule({"daysAfterModificationGreaterThan": 1}, enabled="true")],
    "innocent name 'keep-forever'": [lc_rule({"daysAfterModificationGreaterThan": 1}, name="keep-forever")],
    "snake_case keys": [{"name": "s", "enabled": True, "definition": {"actions": {"base_blob": {"delete": {"days_after_creation_greater_than": 2}}}}}],
    "two conditions, one early": [lc_rule({"daysAfterModificationGreaterThan": 400, "daysAfterLastAccessTimeGreaterThan": 10})],
    "blobIndexMatch filter": [lc_rule({"daysAfterModificationGreaterThan": 1},
                                      filters={"blobIndexMatch": [{"name": "t", "op": "==", "value": "x"}]})],
    "days as a string": [lc_rule({"daysAfterModificationGreaterThan": "30"})],
    "keys in PascalCase": [{"Name": "p", "Enabled": True, "Definition": {"Actions": {"BaseBlob": {"Delete": {"DaysAfterModificationGreaterThan": 5}}}}}],
    "tierToArchive + delete 30": [lc_rule(actions={"baseBlob": {"tierToArchive": {"daysAfterModificationGreaterThan": 1},
                                                                "delete": {"daysAfterModificationGreaterThan": 30}}})],
    "second rule after a safe one": [lc_rule({"daysAfterModificationGreaterThan": 365}), lc_rule({"daysAfterModificationGreaterThan": 7}, name="b")],
}
for label, rule_list in LIFE_ATTACKS.items():
    add(LIFE, "attack", f"[rule] {label}", R_life(rule_list))
LIFE_SAFE = {
    "tierToArchive after 1 day": [lc_rule(actions={"baseBlob": {"tierToArchive": {"daysAfterModificationGreaterThan": 1}}})],
    "tierToCold after 1 day": [lc_rule(actions={"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": 1}}})],
    "tierToCool with enableAutoTierToHotFromCool": [lc_rule(actions={"baseBlob": {"tierToCool": {"daysAfterLastAccessTimeGreaterThan": 30},
                                                                                  "enableAutoTierToHotFromCool": True}})],
    "delete at exactly retention": [lc_rule({"daysAfterModificationGreaterThan": 365})],
    "delete after 400": [lc_rule({"daysAfterCreationGreaterThan": 400})],
    "versions and snapshots after 1": [lc_rule(actions={"version": {"delete": {"daysAfterCreationGreaterThan": 1}},
                                                        "snapshot": {"delete": {"daysAfterCreationGreaterThan": 1}}})],
    "disabled rule": [lc_rule({"daysAfterModificationGreaterThan": 1}, enabled=False)],
    "another container 'recordings2/'": [lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"prefixMatch": ["recordings2/"]})],
    "logs container": [lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"prefixMatch": ["logs/"], "blobTypes": ["blockBlob"]})],
    "append-blob logs across the account": [lc_rule({"daysAfterModificationGreaterThan": 7}, filters={"blobTypes": ["appendBlob"]})],
}
for label, rule_list in LIFE_SAFE.items():
    add(LIFE, "safe", f"[rule] {label}", R_life(rule_list),
        "accepted (low, conservative): a delete rule for append blobs counts, in case a writer uses them (Tavus writes "
        "block blobs)" if label == "append-blob logs across the account" else "")
add(LIFE, "odd", "[rule] junk rules", R_life([None, 5, "x", {"definition": None}, {"definition": {"actions": []}}]))
add(LIFE, "odd", "[rule] NaN and bool days", R_life([lc_rule({"daysAfterModificationGreaterThan": float("nan")}),
                                                      lc_rule({"daysAfterCreationGreaterThan": True})]))
add(LIFE, "odd", "[rule] prefixMatch as a string", R_life([lc_rule({"daysAfterModificationGreaterThan": 1}, filters={"prefixMatch": "logs/"})]))
add(LIFE, "odd", "[rule] delete as a list", R_life([lc_rule([1, 2])]))

# pack
add(LIFE, "attack", "[pack] first preview: second policy on the account by reference, delete after 1",
    P_stack([lifecycle_res("purge", [lc_rule({"daysAfterModificationGreaterThan": 1})], UNKNOWN, {"accountName": ["acct"]})], LIFE, base="preview"))
add(LIFE, "attack", "[pack] versioned ManagementPolicy token",
    P_stack([lifecycle_res("purge", [lc_rule({"daysAfterModificationGreaterThan": 1})], type_="azure-native:storage/v20230101:ManagementPolicy")], LIFE))
add(LIFE, "attack", "[pack] accountName given as the account's resource id",
    P_stack([lifecycle_res("purge", [lc_rule({"daysAfterModificationGreaterThan": 1})], ACCOUNT_ID)], LIFE))
add(LIFE, "attack", "[pack] component keeps 365, pack config says 30, policy deletes at 100",
    P_stack([lifecycle_res("purge", [lc_rule({"daysAfterModificationGreaterThan": 100})])], LIFE,
            config={"azure.account.lifecycle": {"retentionDays": 30}}))
add(LIFE, "attack", "[pack] first preview: deleting rule whose name is unknown",
    P_stack([lifecycle_res("purge", [{**lc_rule({"daysAfterModificationGreaterThan": 1}), "name": UNKNOWN}], UNKNOWN, {"accountName": ["acct"]})],
            LIFE, base="preview"))
# Archive is azure.account.cold_tier's to report (tests/policy/test_pack_cold_keys.py): here only the lifecycle is judged.
add(LIFE, "safe", "[pack] tierToArchive rule on the account", P_stack([lifecycle_res(
    "cold", [lc_rule(actions={"baseBlob": {"tierToArchive": {"daysAfterModificationGreaterThan": 90}}})])], LIFE,
    config={"azure.account.cold_tier": "disabled"}))
add(LIFE, "safe", "[pack] first preview: deleting days unknown",
    P_stack([lifecycle_res("later", [lc_rule({"daysAfterModificationGreaterThan": UNKNOWN})], UNKNOWN, {"accountName": ["acct"]})], LIFE, base="preview"))
add(LIFE, "safe", "[pack] policy on another account deletes after 1", P_stack([lifecycle_res("logs", [lc_rule({"daysAfterModificationGreaterThan": 1})],
                                                                                             "acmelogs")], LIFE))
add(LIFE, "odd", "[pack] policy props of the wrong shapes",
    P_stack([Resource(tp.LIFECYCLE, "j1", {"accountName": "acmerecordings", "policy": "x"}),
             Resource(tp.LIFECYCLE, "j2", {"accountName": "acmerecordings", "policy": {"rules": "x"}}),
             Resource(tp.LIFECYCLE, "j3", {"accountName": ["acmerecordings"], "policy": {"rules": [1, None, {"definition": "x"}]}})], LIFE))
add(LIFE, "odd", "[pack] component retentionDays as a string",
    P_stack([], LIFE, mutate=lambda rs: next(r for r in rs if r.type == tp.COMPONENT).props.update(retentionDays="365")))

# verify
add(LIFE, "attack", "[verify] delete 10 days after creation, prefix 'recordings'",
    V(v_lifecycle([lc_rule({"daysAfterCreationGreaterThan": 10}, filters={"prefixMatch": ["recordings"]})]), LIFE))
add(LIFE, "attack", "[verify] deleting rule without 'enabled'", V(v_lifecycle([lc_rule({"daysAfterModificationGreaterThan": 1}, enabled=None)]), LIFE))
add(LIFE, "attack", "[verify] lifecycle policy answers 500",
    V(vanswer(lambda k: f"{k.account_id}/managementPolicies/default", 500, {"error": {"code": "InternalError", "message": "x"}}), LIFE))
add(LIFE, "attack", "[verify] lifecycle policy answers 404 with another code",
    V(vanswer(lambda k: f"{k.account_id}/managementPolicies/default", 404, {"error": {"code": "ResourceNotFound", "message": "x"}}), LIFE))
def _archive_fails_only_the_cold_tier(request: Any) -> Outcome:
    run = request.getfixturevalue("check")(v_lifecycle([lc_rule(actions={"baseBlob": {"tierToArchive": {"daysAfterModificationGreaterThan": 1}}})]))
    others = {i for i, c in run.checks.items() if c.ok is not True}
    return Outcome("verify", run.checks[LIFE].ok is False, run.checks[LIFE].ok is None, others != {"azure.account.cold_tier"}, str(others))


# Archive is azure.account.cold_tier's to report (and only it fails), not the lifecycle's.
add(LIFE, "safe", "[verify] tierToArchive after 1 day", _archive_fails_only_the_cold_tier)

# === where copies go ==============================================================================================

add(REPL, "attack", "[rule] to a foreign account by name", R_repl(orp("lootbox")))
add(REPL, "attack", "[rule] to a foreign account by id", R_repl(orp(FOREIGN)))
add(REPL, "attack", "[rule] sourceContainer upper-case", R_repl(orp("lootbox", "RECORDINGS")))
add(REPL, "attack", "[rule] rule with prefix filters", R_repl(orp("lootbox", rule_list=[
    {"sourceContainer": "recordings", "destinationContainer": "c", "filters": {"prefixMatch": ["2026/"], "minCreationTime": "2026-01-01T00:00:00Z"}}])))
add(REPL, "attack", "[rule] rule without sourceContainer", R_repl(orp("lootbox", rule_list=[{"destinationContainer": "c"}])))
add(REPL, "attack", "[rule] two rules, the second copies recordings", R_repl(orp("lootbox", rule_list=[
    {"sourceContainer": "logs", "destinationContainer": "l"}, {"sourceContainer": "recordings", "destinationContainer": "r"}])))
add(REPL, "attack", "[rule] source given by name", R_repl(orp("lootbox", source="ACMERECORDINGS")))
add(REPL, "safe", "[rule] to own backup by id", R_repl(orp("/subscriptions/x/resourceGroups/dr/providers/Microsoft.Storage/storageAccounts/acmebackup")))
add(REPL, "safe", "[rule] swapped: into the recordings account", R_repl(orp("acmerecordings", source="lootbox")))
add(REPL, "safe", "[rule] of 'recordings2'", R_repl(orp("lootbox", "recordings2")))
add(REPL, "odd", "[rule] rules None / dict / [None]", lambda _: rule_outcome(
    [f for rl in (None, {"a": 1}, [None], [{"sourceContainer": 5}]) for f in rules.replication_findings(
        [orp("lootbox", rule_list=rl) if rl is not None else rules.Replication(ACCOUNT_ID, "lootbox", None)],
        lambda p: True, "recordings", lambda p: False)], REPL))
add(REPL, "attack", "[pack] versioned ObjectReplicationPolicy to a foreign account",
    P_stack([orp_res("copy", "lootbox", type_="azure-native:storage/v20230101:ObjectReplicationPolicy")], REPL))
add(REPL, "attack", "[pack] foreign destination by id, source by reference",
    P_stack([orp_res("copy", FOREIGN, UNKNOWN, deps={"sourceAccount": ["acct"]}, account=UNKNOWN)], REPL))
add(REPL, "attack", "[pack] policy created on the attacker's account with the recordings as source",
    P_stack([orp_res("copy", "lootbox", account="lootbox")], REPL))
add(REPL, "safe", "[pack] to an account listed in ownAccounts, by id in another subscription",
    P_stack([orp_res("copy", "/subscriptions/x/resourceGroups/dr/providers/Microsoft.Storage/storageAccounts/acmedr")], REPL,
            config={"azure.account.replication": {"ownAccounts": ["acmedr"]}}))
add(REPL, "safe", "[pack] rules unknown in the preview",
    P_stack([Resource(tp.REPLICATION, "copy", {"accountName": UNKNOWN, "sourceAccount": UNKNOWN, "destinationAccount": "lootbox",
                                               "rules": UNKNOWN_ARRAY_VALUE}, {"sourceAccount": ["acct"]})], REPL, base="preview"))
add(REPL, "odd", "[pack] rules of the wrong shape", P_stack([Resource(tp.REPLICATION, "copy", {"sourceAccount": "acmerecordings",
                                                                                              "destinationAccount": ["x"], "rules": {"a": 1}})], REPL))
add(REPL, "attack", "[verify] source given by name, destination foreign", V(v_orp(lambda k: FOREIGN, lambda k: k.storage.storage_account), REPL))
add(REPL, "attack", "[verify] replication listing answers 500",
    V(vanswer(lambda k: f"{k.account_id}/objectReplicationPolicies", 500, {"error": {"code": "InternalError", "message": "x"}}), REPL))
add(REPL, "safe", "[verify] to an account of the same subscription, named only",
    V(v_orp(lambda k: "tavusbackupa1b2c3d4"), REPL),
    "accepted (low, conservative): only a full resource id proves the destination's subscription (ARM gives names only "
    "for accounts that allow cross-tenant replication)")
add(REPL, "odd", "[verify] replication listing with junk policies", V(vanswer(
    lambda k: f"{k.account_id}/objectReplicationPolicies", 200,
    {"value": [{"id": "x", "name": "p", "properties": {"sourceAccount": None, "rules": None}}, {"properties": 5}]}), REPL))
add(ACCESS, "odd", "[verify] container listing with assignments lacking fields", V(vanswer(
    lambda k: f"{k.container_id}/providers/Microsoft.Authorization/roleAssignments", 200,
    {"value": [{"id": "a", "name": "a", "properties": {}}, {"properties": {"scope": None, "roleDefinitionId": None}}]}), ACCESS))
add(OPS, "odd", "[verify] role definition with permissions null",
    V(chain(lambda s, k: s.put({**arm.role_definition(tv.SUBSCRIPTION, CUSTOM, role_name="x"), "properties": {"roleName": "x", "permissions": None}}),
            vput_grant(lambda k: k.identity_id, vfull(CUSTOM))), OPS))


# === more spellings of what the red team found, after the fixes ===================================================

WEB_APP = "azure-native:web:WebApp"
PIM_REQUEST = "azure-native:authorization:RoleAssignmentScheduleRequest"
PIM_ELIGIBLE = "azure-native:authorization:RoleEligibilityScheduleRequest"
CLASSIC_ASSIGNMENT = "azure:authorization/assignment:Assignment"
CLASSIC_FIC = "azure:armmsi/federatedIdentityCredential:FederatedIdentityCredential"
OTHER_IDENTITY_ID = IDENTITY_ID.replace("tavus-writer", "app")


def app(identity: Any, deps: Optional[dict] = None, type_: str = WEB_APP, name: str = "app") -> Resource:
    return Resource(type_, name, {"name": "acme-app", "resourceGroupName": "media", "identity": identity}, deps or {})


# another workload running as Tavus's identity: a map keyed by id, a list of ids (azure-native v2), the classic identityIds
add(OPS, "attack", "[pack] web app lists Tavus's identity in a list of ids", P_stack([app({"type": "UserAssigned",
                                                                                           "userAssignedIdentities": [IDENTITY_ID]})], OPS))
add(OPS, "attack", "[pack] versioned VM token, identity id in upper case",
    P_stack([app({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {IDENTITY_ID.upper(): {}}},
                 type_="azure-native:compute/v20230301:VirtualMachine")], OPS))
add(OPS, "attack", "[pack] classic provider's web app, identity.identityIds",
    P_stack([app({"type": "UserAssigned", "identityIds": [IDENTITY_ID]}, type_="azure:appservice/linuxWebApp:LinuxWebApp")], OPS))
add(OPS, "attack", "[pack] first preview: a function app whose identity depends on Tavus's",
    P_stack([app({"type": "UserAssigned", "userAssignedIdentities": [UNKNOWN]}, {"identity": ["writer"]})], OPS, base="preview"))
add(OPS, "safe", "[pack] web app runs as another identity of the group", P_stack([app({"type": "UserAssigned",
                                                                                        "userAssignedIdentities": {OTHER_IDENTITY_ID: {}}})], OPS))
add(OPS, "safe", "[pack] web app with a system-assigned identity only", P_stack([app({"type": "SystemAssigned"})], OPS))
add(OPS, "odd", "[pack] identity blocks of the wrong shapes",
    P_stack([app("x", name="a1"), app({"userAssignedIdentities": "x"}, name="a2"), app({"userAssignedIdentities": [None, 5, {"id": 7}]}, name="a3")],
            OPS))

# control of the account one level up, and the administrators who are listed instead
add(ACCESS, "attack", "[pack] stranger Storage Account Contributor on the subscription",
    P_stack([g("leak", ACCOUNT_CONTRIBUTOR, f"/subscriptions/{SUB}")], ACCESS))
add(ACCESS, "attack", "[pack] stranger Key Operator on the account's group by reference",
    P_stack([g("leak", KEY_OPERATOR, UNKNOWN, deps={"scope": ["rg"]})], ACCESS))
add(ACCESS, "safe", "[pack] stranger Owner on the subscription (administrator)", P_stack([g("admin", OWNER, f"/subscriptions/{SUB}")], ACCESS))

# at the first preview: tied by dependency, or by a name the engine knows
add(OPS, "attack", "[pack] first preview: Owner on the identity's group, named as the group it depends on",
    P_stack([g("op", OWNER, RG)], OPS, base="preview",
            mutate=lambda rs: next(r for r in rs if r.name == "rg").props.update(name="media")))
add(OPS, "attack", "[pack] first preview: MIO on an identity named like Tavus's, group unknown",
    P_stack([g("op", MIO, IDENTITY_ID.replace("/media/", "/ops/"))], OPS, base="preview",
            mutate=lambda rs: next(r for r in rs if r.name == "writer").props.update(name="tavus-writer")))

# PIM and the classic provider
add(OPS, "safe", "[pack] a PIM request that removes Owner from the identity's group",
    P_stack([g("op", full(OWNER), RG, type_=PIM_REQUEST, requestType="AdminRemove")], OPS))
add(GRANTS, "attack", "[pack] Tavus's identity made eligible for Owner on the subscription",
    P_stack([g("pim", full(OWNER), f"/subscriptions/{SUB}", PRINCIPAL, type_=PIM_ELIGIBLE, requestType="AdminAssign")], GRANTS))
add(ACCESS, "attack", "[pack] stranger eligible for Blob Data Owner on the container (PimRoleEligibilitySchedule)",
    P_stack([g("pim", full(BLOB_OWNER), CONTAINER_ID, type_="azure-native:authorization:PimRoleEligibilitySchedule")], ACCESS))
add(ACCESS, "attack", "[pack] classic Assignment by roleDefinitionName, Storage Blob Data Reader",
    P_stack([Resource(CLASSIC_ASSIGNMENT, "leak", {"principalId": STRANGER, "roleDefinitionName": "Storage Blob Data Reader",
                                                   "scope": CONTAINER_ID})], ACCESS))
add(ACCESS, "attack", "[pack] classic Assignment by a role name the rules do not know",
    P_stack([Resource(CLASSIC_ASSIGNMENT, "leak", {"principalId": STRANGER, "roleDefinitionName": "Backup Operator", "scope": ACCOUNT_ID})],
            ACCESS))
add(OPS, "attack", "[pack] classic Assignment of Managed Identity Contributor to Tavus's credential, by name",
    P_stack([Resource(CLASSIC_ASSIGNMENT, "op", {"principalId": STRANGER, "roleDefinitionName": "Managed Identity Contributor",
                                                 "scope": f"{IDENTITY_ID}/federatedIdentityCredentials/tavus"})], OPS))
add(FED, "attack", "[pack] classic credential with an http issuer (resource policy)",
    P_res(CLASSIC_FIC, {"parentId": IDENTITY_ID, "resourceGroupName": "media", "issuer": "http://tavus-issuer.example", "subject": SUBJECT,
                        "audience": AUDIENCE}, FED))
add(FED, "safe", "[pack] classic credential, exact, token configured",
    P_res(CLASSIC_FIC, {"parentId": IDENTITY_ID, "resourceGroupName": "media", "issuer": ISSUER, "subject": SUBJECT, "audience": [AUDIENCE]},
          FED, CFG))
add(FED, "attack", "[pack] second credential through the classic provider, by reference to the identity",
    P_stack([Resource(CLASSIC_FIC, "backdoor", {"parentId": UNKNOWN, "resourceGroupName": UNKNOWN, "issuer": ISSUER, "subject": "x",
                                                "audience": AUDIENCE}, {"parentId": ["writer"]})], FED, base="preview"))

# exactly one writer
add(ACCESS, "attack", "[pack] a second federated identity writes the container through a classic credential and assignment",
    P_stack([Resource(tp.IDENTITY, "shadow", {"name": "shadow", "resourceGroupName": "ops", "principalId": GROUP_PRINCIPAL}),
             Resource(CLASSIC_FIC, "shadow-fic", {"parentId": IDENTITY_ID.replace("media", "ops").replace("tavus-writer", "shadow"),
                                                  "issuer": "https://issuer.attacker.example", "subject": "x", "audience": AUDIENCE}),
             Resource(CLASSIC_ASSIGNMENT, "shadow-writes", {"principalId": GROUP_PRINCIPAL, "roleDefinitionName": "Storage Blob Data Owner",
                                                            "scope": ACCOUNT_ID})], ACCESS))
add(ACCESS, "attack", "[pack] a second federated identity writes the container by reference to it",
    P_stack([Resource(tp.IDENTITY, "shadow", {"name": "shadow", "resourceGroupName": "media", "principalId": UNKNOWN}),
             Resource(FIC_T, "shadow-fic", {"resourceName": UNKNOWN, **CRED, "subject": "x"}, {"resourceName": ["shadow"]}),
             g("shadow-writes", BDC, UNKNOWN, UNKNOWN, {"principalId": ["shadow"], "scope": ["container"]})], ACCESS))

# verify
add(OPS, "attack", "[verify] a web app runs as Tavus's identity",
    V(lambda s, k: s.put(arm.attached_resource(f"{k.group_id}/providers/Microsoft.Web/sites/acme-app", [k.identity_id])), OPS))
add(OPS, "attack", "[verify] a VM in another group runs as Tavus's identity, id in upper case",
    V(lambda s, k: s.put(arm.attached_resource(f"/subscriptions/{tv.SUBSCRIPTION}/resourceGroups/ops/providers/Microsoft.Compute/"
                                               "virtualMachines/vm1", [k.identity_id.upper()], type_="Microsoft.Compute/virtualMachines")), OPS))
add(OPS, "attack", "[verify] listing the identity's attachments is denied",
    V(lambda s, k: s.deny(f"{k.identity_id}/listAssociatedResources", "Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action"),
      OPS))
add(OPS, "safe", "[verify] a web app runs as another identity",
    V(lambda s, k: s.put(arm.attached_resource(f"{k.group_id}/providers/Microsoft.Web/sites/acme-app", [f"{k.identity_id}2"])), OPS))
add(ACCESS, "attack", "[verify] stranger Key Operator on the subscription",
    V(vput_grant(lambda k: f"/subscriptions/{tv.SUBSCRIPTION}", vfull(KEY_OPERATOR)), ACCESS))
add(ACCESS, "safe", "[verify] stranger Owner on the subscription (administrator, listed)",
    V(vput_grant(lambda k: f"/subscriptions/{tv.SUBSCRIPTION}", vfull(OWNER)), ACCESS))


# --------------------------------------------------------------------------------------------------------------
# the one test

@pytest.mark.parametrize("case", [
    pytest.param(c, id=f"{c.kind}-{c.name}", marks=[pytest.mark.xfail(strict=True, reason=c.accepted)] if c.accepted else [])
    for c in CASES
])
def test_the_azure_corpus(case: Case, request: Any) -> None:
    try:
        outcome = case.check(request)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"CRASH {case.rule} {case.name}: {type(exc).__name__}: {exc}\n{traceback.format_exc()[-2500:]}")
    if case.kind == "attack":
        caught = outcome.violation or (outcome.layer == "verify" and outcome.unknown)
        assert caught, f"MISS {case.rule} {case.name}: nothing mandatory reported. Saw: {outcome.detail or 'nothing'}"
    elif case.kind == "safe":
        assert not outcome.raised, f"FALSE ALARM {case.rule} {case.name}: {outcome.detail}"
