"""The summary on top of a plan: who can do what, where the data lives, what is kept on `pulumi destroy`,
and what must never change after the first `pulumi up`.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from components.lifecycle import COLD_CLASS, COLD_CLASS_NAME, COLD_MIN_STORAGE_DAYS, cold_stay_days
from tavus_recording.mock_engine import ProgramRun, Registration
from tavus_recording.plan import compliance_azure, compliance_gcs, compliance_s3
from tavus_recording.plan.keys import azure_key, gcs_key, s3_key
from tavus_recording.plan.order import ordered
from tavus_recording.plan.placeholders import example_values
from tavus_recording.plan.replacement import REPLACED_BY, fixed_inputs, get
from tavus_recording.plan.values import decoded, strings


def _short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = decoded(document)
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in ([statements] if isinstance(statements, dict) else statements) if isinstance(s, dict)]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _issuer_text(issuer: Any, examples: list[str]) -> str:
    placeholder = " (an example from the stack file: replace it and the subject with Tavus's)" if issuer in examples else ""
    return f"{issuer}{placeholder}"


def _summary_s3(run: ProgramRun, outputs: Mapping[str, Any], grants: list[Registration]) -> tuple[dict, list[str]]:
    from components.tavus import TAVUS_AWS_ACCOUNT_ID

    storage = outputs.get("recording_storage") or {}
    bucket = storage.get("bucket_name") or outputs.get("bucket_name")
    managed = outputs.get("storage_managed", True)
    if not storage:  # revoked: no recording_storage; the region is the created bucket's (an existing one's is read at `pulumi up`)
        created = next(iter(run.find("aws:s3/bucket:Bucket")), None)
        storage = {"bucket_region": created.outputs.get("bucketRegion") if created else None}
    data = {"kind": "S3 bucket", "name": bucket, "where": storage.get("bucket_region"), "managed": managed}
    access: list[dict[str, Any]] = []
    lines: list[str] = []
    policies = {p.inputs.get("role"): p for p in run.find("aws:iam/rolePolicy:RolePolicy")}
    for role in run.find("aws:iam/role:Role"):
        grants.append(role)
        role_name = role.outputs.get("name") or role.id
        hours = role.inputs.get("maxSessionDuration")
        for statement in _statements(role.inputs.get("assumeRolePolicy")):
            if statement.get("Effect") != "Allow":
                continue
            principals = _listed((statement.get("Principal") or {}).get("AWS") if isinstance(statement.get("Principal"), dict)
                                 else statement.get("Principal"))
            external_ids = _listed(((statement.get("Condition") or {}).get("StringEquals") or {}).get("sts:ExternalId"))
            for principal in principals:
                account = re.match(r"^arn:aws[a-z-]*:iam::(\d{12}):root$", str(principal))
                who = (
                    f"Tavus's AWS account {account.group(1)}" if account and account.group(1) == TAVUS_AWS_ACCOUNT_ID
                    else f"AWS account {account.group(1)}" if account else f"principal {principal}"
                )
                terms = []
                if external_ids and external_ids != [None]:
                    terms.append("ExternalId " + ", ".join(f"'{e}'" for e in external_ids))
                if isinstance(hours, (int, float)):
                    terms.append(f"sessions up to {hours / 3600:g} h")
                grant: dict[str, Any] = {
                    "who": who, "principal": principal, "may_assume": role_name, "external_id": external_ids,
                    "max_session_seconds": hours, "then": [],
                }
                policy = policies.get(role_name)
                then: list[str] = []
                if policy is not None:
                    grants.append(policy)
                    for s in _statements(policy.inputs.get("policy")):
                        if s.get("Effect") != "Allow":
                            continue
                        actions, resources = _listed(s.get("Action")), _listed(s.get("Resource"))
                        grant["then"].append({"actions": actions, "resources": resources})
                        on_bucket = all(str(x).startswith(f"arn:aws:s3:::{bucket}") for x in resources)
                        target = f"bucket {bucket} only" if on_bucket else ", ".join(map(str, resources))
                        then.append(f"{', '.join(map(str, actions))} on {target}")
                access.append(grant)
                lines.append(
                    f"Access: {who} may assume role {role_name} ({'; '.join(terms)})"
                    + (", then: " + "; ".join(then) if then else ", which is granted nothing") + "."
                )
    for policy in run.find("aws:s3/bucketPolicy:BucketPolicy"):
        if all(s.get("Effect") == "Deny" for s in _statements(policy.inputs.get("policy"))):
            grants.append(policy)  # a guard (deny), not a grant
    key_line = s3_key(run, bucket)
    lines += [key_line] if key_line else []
    where = storage.get("bucket_region")
    if managed:
        lines.insert(0, f"Data: S3 bucket {bucket} in {where}, created by this stack.")
    else:
        lines.insert(0, f"Data: existing S3 bucket {bucket} ({f'region {where}' if where else 'its region'}, read when `pulumi up` runs); "
                        "this stack changes none of its settings.")
    return {"storage": data, "access": access}, lines


def _adds(outputs: Mapping[str, Any], grant: str) -> str:
    """What a stack on existing storage adds to it: its grant, or nothing once Tavus's access is revoked."""
    return "grants nothing (tavusAccess: revoked)" if outputs.get("tavus_access") == "revoked" else f"adds {grant}"


def _email_project(email: Any) -> Optional[str]:
    """The project of a service account (`name@project.iam.gserviceaccount.com`), which a revoked stack still exports."""
    match = re.fullmatch(r"[^@]+@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com", str(email or ""))
    return match.group(1) if match else None


def _summary_gcs(run: ProgramRun, outputs: Mapping[str, Any], grants: list[Registration], examples: list[str]) -> tuple[dict, list[str]]:
    storage = outputs.get("recording_storage") or {}
    bucket = storage.get("bucket_name") or outputs.get("bucket_name")
    managed = outputs.get("storage_managed", True)
    created = next(iter(run.find("gcp:storage/bucket:Bucket")), None)
    location = get(created.inputs, "location") if created else None
    project = storage.get("project_id") or (created.outputs.get("project") if created else None) or _email_project(outputs.get("service_account_email"))
    data = {"kind": "Cloud Storage bucket", "name": bucket, "where": location, "project": project, "managed": managed}
    providers = {p.inputs.get("workloadIdentityPoolId"): p for p in run.find(
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")}
    bucket_grants = [m for m in run.find("gcp:storage/bucketIAMMember:BucketIAMMember")]
    access: list[dict[str, Any]] = []
    lines: list[str] = []
    for binding in run.find("gcp:serviceaccount/iAMBinding:IAMBinding") + run.find("gcp:serviceaccount/iAMMember:IAMMember"):
        grants.append(binding)
        email = str(binding.inputs.get("serviceAccountId", "")).rsplit("/", 1)[-1]
        for member in _listed(binding.inputs.get("members") or binding.inputs.get("member")):
            match = re.match(r"^principal://iam\.googleapis\.com/(?P<pool>.+/workloadIdentityPools/(?P<id>[^/]+))/subject/(?P<subject>.+)$", str(member))
            provider = providers.get(match.group("id")) if match else None
            issuer = get(provider.inputs, "oidc.issuerUri") if provider else None
            subject = match.group("subject") if match else None
            writes = [m for m in bucket_grants if m.inputs.get("member") == f"serviceAccount:{email}"]
            grants.extend(writes)
            access.append({
                "issuer": issuer, "subject": subject, "member": member, "role": binding.inputs.get("role"),
                "service_account": email, "pool_provider": provider.id if provider else None,
                "then": [{"role": m.inputs.get("role"), "bucket": m.inputs.get("bucket")} for m in writes],
            })
            who = (f"the OIDC subject '{subject}' from issuer {_issuer_text(issuer, examples)}" if match
                   else f"{member}")
            then = "; ".join(f"{m.inputs.get('role')} on bucket {m.inputs.get('bucket')} only" for m in writes)
            lines.append(
                f"Access: {who} may act as service account {email} ({binding.inputs.get('role')}"
                + (f", through pool provider {provider.id}" if provider else "") + ")"
                + (f", which has {then}." if then else ", which is granted nothing.")
            )
    data["key"], key_line = gcs_key(run, grants)
    lines += [key_line] if key_line else []
    if not run.find("gcp:projects/service:Service"):
        from components.gcp_policy import IAM_SERVICES, STORAGE_SERVICE

        needed = [*IAM_SERVICES, *([STORAGE_SERVICE] if managed else [])]
        data["services"] = "left to the platform team"
        lines.append(f"Project services: left to the platform team (manageApis: false): {', '.join(needed)} must be enabled "
                     "before `pulumi up`, which otherwise fails with SERVICE_DISABLED.")
    if managed:
        lines.insert(0, f"Data: Cloud Storage bucket {bucket} in {location} (project {data['project']}), created by this stack.")
    else:
        lines.insert(0, f"Data: existing Cloud Storage bucket {bucket} (project {data['project']}; its location is the "
                        f"bucket's own); this stack {_adds(outputs, 'one grant')} on it and changes none of its settings.")
    return {"storage": data, "access": access}, lines


def _summary_azure(run: ProgramRun, outputs: Mapping[str, Any], grants: list[Registration], examples: list[str]) -> tuple[dict, list[str]]:
    from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR

    roles = {STORAGE_BLOB_DATA_CONTRIBUTOR: "Storage Blob Data Contributor"}
    storage = outputs.get("recording_storage") or {}
    account = storage.get("storage_account") or outputs.get("storage_account")
    container = storage.get("container") or outputs.get("container")
    managed = outputs.get("storage_managed", True)
    created = next(iter(run.find("azure-native:storage:StorageAccount")), None)
    location = created.outputs.get("location") if created else None
    group = outputs.get("resource_group_name")
    data = {"kind": "Blob Storage container", "name": container, "account": account, "resource_group": group,
            "where": location, "managed": managed}
    identities = {i.outputs.get("name"): i for i in run.find("azure-native:managedidentity:UserAssignedIdentity")}
    assignments = run.find("azure-native:authorization:RoleAssignment")
    access: list[dict[str, Any]] = []
    lines: list[str] = []
    for credential in run.find("azure-native:managedidentity:FederatedIdentityCredential"):
        grants.append(credential)
        name = credential.inputs.get("resourceName")
        identity = identities.get(name)
        principal = identity.outputs.get("principalId") if identity else None
        mine = [a for a in assignments if a.inputs.get("principalId") == principal]
        grants.extend(mine)
        then = []
        for a in mine:
            guid = str(a.inputs.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
            scope = str(a.inputs.get("scope", ""))
            target = (f"container {scope.rsplit('/', 1)[-1]} only" if "/blobServices/default/containers/" in scope
                      else f"scope {scope}")
            then.append({"role": roles.get(guid, guid), "scope": scope})
            lines_then = f"{roles.get(guid, guid)} on {target}"
            then[-1]["text"] = lines_then
        issuer, subject = credential.inputs.get("issuer"), credential.inputs.get("subject")
        audiences = _listed(credential.inputs.get("audiences"))
        access.append({
            "issuer": issuer, "subject": subject, "audiences": audiences, "identity": name,
            "client_id": identity.outputs.get("clientId") if identity else None,
            "then": [{"role": t["role"], "scope": t["scope"]} for t in then],
        })
        lines.append(
            f"Access: tokens from issuer {_issuer_text(issuer, examples)} with subject '{subject}' (audience "
            f"{', '.join(map(str, audiences))}) may act as managed identity {name}"
            + (f", which has {'; '.join(t['text'] for t in then)}." if then else ", which is granted nothing.")
        )
    data["key"], key_line = azure_key(run)
    lines += [key_line] if key_line else []
    if managed:
        lines.insert(0, f"Data: container {container} in storage account {account} (resource group {group}, {location}), "
                        "created by this stack.")
    else:
        lines.insert(0, f"Data: existing container {container} in storage account {account} (resource group {group}); "
                        f"this stack {_adds(outputs, 'one role assignment')} on it and changes none of its settings.")
    return {"storage": data, "access": access}, lines


def _whole(value: Any) -> Optional[int]:
    """A day count as the engine carries it (numbers arrive as floats), or None."""
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() else None


def _cold_days(run: ProgramRun, provider: str) -> tuple[Optional[int], Optional[int]]:
    """(days after upload recordings move to the cold class, days noncurrent versions are kept), as the stack's
    lifecycle rules say; None where a rule is absent."""
    cold = noncurrent = None
    if provider == "s3":
        for config in run.find("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
            for rule in _listed(config.inputs.get("rules") or []):
                for move in _listed(get(rule, "transitions") or []):
                    cold = get(move, "days") if get(move, "storageClass") == COLD_CLASS[provider] else cold
                noncurrent = get(rule, "noncurrentVersionExpiration.noncurrentDays") or noncurrent
    elif provider == "gcs":
        for bucket in run.find("gcp:storage/bucket:Bucket"):
            for rule in _listed(bucket.inputs.get("lifecycleRules") or []):
                if get(rule, "action.type") == "SetStorageClass" and get(rule, "action.storageClass") == COLD_CLASS[provider]:
                    cold = get(rule, "condition.age")
                noncurrent = get(rule, "condition.daysSinceNoncurrentTime") or noncurrent
    elif provider == "azure_blob":
        for policy in run.find("azure-native:storage:ManagementPolicy"):
            for rule in _listed(get(policy.inputs, "policy.rules") or []):
                actions = get(rule, "definition.actions") or {}
                cold = get(actions, "baseBlob.tierToCool.daysAfterModificationGreaterThan") or cold
                noncurrent = get(actions, "version.delete.daysAfterCreationGreaterThan") or noncurrent
    return _whole(cold), _whole(noncurrent)


def cold_tier(run: ProgramRun, provider: str) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """The cold tier the stack sets, as facts and one plain line with its charges; (None, None) when off."""
    cold, noncurrent = _cold_days(run, provider)
    if cold is None or provider not in COLD_CLASS:
        return None, None
    retention = _whole(run.outputs.get("retention_days"))
    minimum = COLD_MIN_STORAGE_DAYS[provider]
    stay = cold_stay_days(cold, retention, noncurrent or 0)
    facts = {"class": COLD_CLASS[provider], "after_days": cold, "minimum_billed_days": minimum, "days_in_class": stay}
    line = (f"Cold tier: recordings move to {COLD_CLASS_NAME[provider]} ({COLD_CLASS[provider]}) {cold} days after upload; "
            f"each is billed there for at least {minimum} days (deleted sooner, the rest is still charged), and every read "
            "there pays a per-GB retrieval fee")
    if provider == "s3":
        line += "; objects under 128 KB stay in Standard"
    if stay is None:
        line += ". Recordings are kept (no retentionDays), so they stay there."
    elif stay < minimum:
        line += (f". With retentionDays {retention} and noncurrent versions kept {noncurrent} days, each spends {stay} days "
                 f"there and pays for {minimum - stay} more.")
    else:
        line += f". With retentionDays {retention} and noncurrent versions kept {noncurrent} days, each spends {stay} days there."
    return facts, line


# Resource types that grant someone something: the summary accounts for each, or lists it as another grant.
_GRANT_TYPES = re.compile(
    r"^(aws:iam/|aws:s3/bucketPolicy:|gcp:.*(IAM|iAM)(Binding|Member|Policy):|gcp:iam/workloadIdentity"
    r"|azure-native:authorization:RoleAssignment|azure-native:managedidentity:FederatedIdentityCredential)"
)

_PROVIDER_NAMES = {"s3": "AWS", "gcs": "Google Cloud", "azure_blob": "Azure"}
_COMPONENT_PROVIDERS = {
    "tavus-recording:index:S3RecordingStorage": "s3",
    "tavus-recording:index:GcsRecordingStorage": "gcs",
    "tavus-recording:index:AzureBlobRecordingStorage": "azure_blob",
}


def _component_provider(run: ProgramRun) -> str:
    """The provider of the component the run built: what a revoked stack, which exports no recording_storage, is."""
    return next((_COMPONENT_PROVIDERS[r.type] for r in run.registrations if r.type in _COMPONENT_PROVIDERS), "")


# What tavusAccess: revoked means on each cloud: what `pulumi up` removes, when Tavus stops, what stays.
_KEPT = "Every recording and every storage setting are kept, and the stack exports no recording_storage (apps must stop sending it)"
_REVOKED = {
    "s3": "Access: REVOKED (tavusAccess: revoked): Tavus may do nothing here. `pulumi up` deletes the role Tavus assumes "
          "and its writer policy; AWS checks a session's permissions on every request, so the sessions Tavus holds fail "
          f"at their next request (within minutes). {_KEPT}. Granting again makes a new role (a new ARN).",
    "gcs": "Access: REVOKED (tavusAccess: revoked): Tavus may do nothing here. `pulumi up` removes the impersonation "
           "binding (roles/iam.workloadIdentityUser) and the writer's bucket grant, and disables the pool and its provider "
           "(kept, so granting again reuses their ids): no token exchange, and the tokens already issued stop working "
           "(IAM changes take minutes to reach every request). The writer service account stays, granted nothing. "
           f"{_KEPT}.",
    "azure_blob": "Access: REVOKED (tavusAccess: revoked): Tavus may do nothing here. `pulumi up` deletes the federated "
                  "identity credential (no new token exchange) and the role assignment on the container (the tokens Tavus "
                  "already holds are refused once the change propagates: minutes). The managed identity stays, granted "
                  f"nothing, with its client id for a re-grant. {_KEPT}.",
}


# Each cloud's WORM and audit lines.
_COMPLIANCE = {"s3": compliance_s3, "gcs": compliance_gcs, "azure_blob": compliance_azure}


def summary(run: ProgramRun) -> dict[str, Any]:
    """Who can do what, where the data lives, what outlives a destroy: read from the run, in a few lines."""
    outputs = run.outputs
    provider = (outputs.get("recording_storage") or {}).get("provider", "") or _component_provider(run)
    revoked = outputs.get("tavus_access") == "revoked"
    examples = example_values(s for r in run.registrations for s in strings(r.inputs))
    grants: list[Registration] = []
    if provider == "s3":
        facts, lines = _summary_s3(run, outputs, grants)
    elif provider == "gcs":
        facts, lines = _summary_gcs(run, outputs, grants, examples)
        grants.extend(run.find("gcp:iam/workloadIdentityPool:WorkloadIdentityPool"))
        grants.extend(run.find("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"))
    elif provider == "azure_blob":
        facts, lines = _summary_azure(run, outputs, grants, examples)
    else:
        facts, lines = {"storage": None, "access": []}, []
    facts["tavus_access"] = "revoked" if revoked else "granted"
    if revoked:
        lines.insert(1, _REVOKED.get(provider, "Access: revoked (tavusAccess: revoked): nothing lets Tavus in."))
    cold, cold_line = cold_tier(run, provider)
    facts["cold_tier"] = cold
    if cold_line:
        lines.insert(1, cold_line)  # after the Data line: how the data is kept
    compliance = _COMPLIANCE.get(provider)
    worm, worm_line = compliance.worm(run) if compliance else (None, None)
    audit, audit_line = compliance.audit(run, grants) if compliance else (None, None)
    facts["worm"], facts["audit_logs"] = worm, audit
    lines[1:1] = [line for line in (worm_line, audit_line) if line]  # with the Data line: how the data is kept and watched
    accounted = {r.urn for r in grants}
    others = [r for r in ordered(run.registrations) if _GRANT_TYPES.match(r.type) and r.urn not in accounted]
    if others:
        lines.append("Also granted: " + "; ".join(f"{r.type} {r.name}" for r in others) + " (see below).")
    else:
        lines.append("Nobody else is granted anything by this stack.")
    kept = [r for r in ordered(run.registrations) if r.retain_on_delete or r.protect]
    if kept:
        lines.append(
            f"Kept on `pulumi destroy` ({len(kept)}, with the recordings): "
            + ", ".join(f"{_short_type(r.type)} {r.name}" for r in kept)
            + f"; the other {sum(1 for r in run.registrations if r.custom) - len(kept)} resources are deleted."
        )
    else:
        lines.append("Kept on `pulumi destroy`: nothing; this stack's storage is not its own, and stays as it is.")
    fixed = fixed_inputs(run)
    if fixed:
        names = "; ".join(f"{_short_type(f['type'])} {f['name']}: {', '.join(f['inputs'])}" for f in fixed)
        keys = sorted({k for f in fixed for k in f["set_by"]})
        named = [r for r in run.registrations if r.type in REPLACED_BY and (r.retain_on_delete or r.protect)
                 and get(r.inputs, REPLACED_BY[r.type][0].input) is not None]
        lines.append(
            f"Never change after the first `pulumi up`: {names} (set by {', '.join(keys)}): the provider replaces "
            "kept storage when one changes, and the replacement collides with the kept one's name or leaves the "
            "recordings behind; `plan --previous` checks a change."
            + (" A name set in the stack outlives `pulumi destroy` too: creating it again fails until it is "
               "imported or granted on as existing storage." if named else "")
        )
    head = f"Provider: {provider} ({_PROVIDER_NAMES.get(provider, provider)})."
    return {
        "provider": provider,
        **facts,
        "others_granted": [{"type": r.type, "name": r.name} for r in others],
        "kept_on_destroy": [{"type": r.type, "name": r.name} for r in kept],
        "never_change": fixed,
        "lines": [head] + lines,
    }
