"""The offline plan, rendered: every resource a stack registers on the mock engine, and its outputs.

`plan_document` is the JSON form (`--json`); `render_text` the one a reviewer reads. Both start from
the same facts, in the same order, so the same stack gives the same bytes on every run:

- resources parent first, each after the siblings it depends on, ties broken by type and name (the
  engine registers them in whatever order their inputs resolve); `depends_on` sorted; the keys of every
  value sorted;
- values keep their real types in JSON: a string stays a string (a policy document given as a JSON
  string too; `decoded_inputs` shows it decoded), numbers stay numbers (whole numbers as ints: the
  engine's protobuf carries every number as a double);
- a short summary on top (who can do what, where the data lives, what is kept on destroy), the
  placeholders the plan shows and what each stands for, and the mocks' stand-in ids flagged;
- with an earlier plan (`plan --previous FILE`), a WARNING for each input of kept storage whose change
  makes the provider replace it.
"""

from __future__ import annotations

import heapq
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional
from urllib.parse import urlsplit

from tavus_recording.mock_engine import PLACEHOLDER_NOTE, PLACEHOLDERS, ProgramRun, Registration

# Lookups of storage the user already has, and what the reviewer should know about each.
EXISTING_STORAGE = {
    "aws:s3/getBucket:getBucket": (
        "an existing S3 bucket, not managed by this stack: no setting on it is created, changed or deleted. "
        "Tavus needs versioning on; after `pulumi up`, `verify` checks it with public access, encryption and TLS."
    ),
    "gcp:storage/getBucket:getBucket": (
        "an existing Cloud Storage bucket, not managed by this stack: only the writer's objectCreator grant is added."
    ),
    "azure-native:storage:getBlobContainer": (
        "an existing container, not managed by this stack: only the identity's role assignment on it is added."
    ),
}

MOCK_ID_NOTE = (
    "A 'mock id' is the mock engine's stand-in for a resource whose id it cannot shape; it says nothing about the "
    "id the cloud will give. Other ids have the provider's form, with <...> where a part is not known yet."
)


class PreviousPlanError(ValueError):
    """The file given to `plan --previous` is not a plan (`plan --json`)."""


# --- values


def _plain(value: Any) -> Any:
    """A value with its real type, in a stable order: keys sorted, whole floats (protobuf numbers) as ints."""
    if isinstance(value, Mapping):
        return {str(k): _plain(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _decoded(value: Any) -> Any:
    """A JSON document given as a string (an IAM or trust policy), decoded; None if the value is not one."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return decoded if isinstance(decoded, (dict, list)) else None
    return None


def _decoded_inputs(inputs: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every input (at any depth, by dotted path) given as a JSON-document string, decoded for reading."""
    found: dict[str, Any] = {}
    for key in sorted(inputs):
        value, path = inputs[key], f"{prefix}{key}"
        document = _decoded(value)
        if document is not None:
            found[path] = _plain(document)
        elif isinstance(value, Mapping):
            found.update(_decoded_inputs(value, path + "."))
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
        document = _decoded(value)
        if document is not None:
            yield from _strings(document)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


# --- order


def ordered(registrations: list[Registration]) -> list[Registration]:
    """Parents before their children; siblings each after the siblings it depends on, ties by type and name.

    The engine sees registrations in the order their inputs resolve, which varies from run to run; this
    order depends only on what was registered.
    """
    by_urn = {r.urn: r for r in registrations}
    children: dict[str, list[Registration]] = {}
    for r in registrations:
        children.setdefault(r.parent if r.parent in by_urn else "", []).append(r)

    def sibling_of(urn: str, siblings: set[str]) -> Optional[str]:
        # A dependency on a sibling's descendant orders the sibling.
        seen: set[str] = set()
        while urn and urn not in siblings and urn not in seen:
            seen.add(urn)
            urn = by_urn[urn].parent if urn in by_urn else ""
        return urn if urn in siblings else None

    def sort_siblings(group: list[Registration]) -> list[Registration]:
        urns = {r.urn for r in group}
        after: dict[str, set[str]] = {r.urn: set() for r in group}
        for r in group:
            for dep in r.depends_on:
                sibling = sibling_of(dep, urns)
                if sibling and sibling != r.urn:
                    after[r.urn].add(sibling)
        key = {r.urn: (r.type, r.name) for r in group}
        ready = [key[u] + (u,) for u, deps in after.items() if not deps]
        heapq.heapify(ready)
        result: list[str] = []
        while ready:
            urn = heapq.heappop(ready)[2]
            result.append(urn)
            for other, deps in after.items():
                if urn in deps:
                    deps.discard(urn)
                    if not deps:
                        heapq.heappush(ready, key[other] + (other,))
        # A cycle cannot be registered; were one there, its members still come out in a fixed order.
        result += sorted((u for u in after if u not in result), key=lambda u: key[u])
        return [by_urn[u] for u in result]

    out: list[Registration] = []

    def walk(parent: str) -> None:
        for r in sort_siblings(children.get(parent, [])):
            out.append(r)
            walk(r.urn)

    walk("")
    return out


# --- placeholders


# Hosts no one can own (RFC 2606, RFC 6761): a stack file's example, never a real issuer.
_RESERVED_HOSTS = ("example.com", "example.net", "example.org", "localhost")
_RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost") + tuple("." + h for h in _RESERVED_HOSTS[:3])
_PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")


def _reserved_url(value: str) -> bool:
    if not value.startswith(("https://", "http://")):
        return False
    try:
        host = (urlsplit(value).hostname or "").lower()
    except ValueError:
        return False
    return host in _RESERVED_HOSTS or host.endswith(_RESERVED_SUFFIXES)


def example_values(values: Iterable[str]) -> list[str]:
    """URLs on a reserved example domain among `values` (an issuer a stack file left as its example)."""
    return sorted({v for v in values if _reserved_url(v)})


def _placeholders(document_values: Iterable[Any]) -> list[dict[str, str]]:
    found: set[str] = set()
    strings: set[str] = set()
    for value in document_values:
        for s in _strings(value):
            strings.add(s)
            found.update(_PLACEHOLDER.findall(s))
    listed = [
        {
            "placeholder": token,
            "kind": "known after deploy",
            "stands_for": PLACEHOLDERS.get(token, "a value known only after `pulumi up`"),
        }
        for token in sorted(found)
    ]
    listed += [
        {
            "placeholder": url,
            "kind": "example from the stack file",
            "stands_for": (
                "an example on a reserved domain that cannot exist (RFC 2606), where the stack file needs Tavus's "
                "OIDC issuer: replace it (and the subject beside it) with the values from Tavus's recording guide "
                "before `pulumi up`, or no token Tavus presents will match"
            ),
        }
        for url in example_values(strings)
    ]
    return listed


# --- what forces a replacement of kept storage


@dataclass(frozen=True)
class Forcing:
    """An input whose change makes the provider replace the resource instead of updating it."""

    input: str  # Pulumi's input name; a dotted path for a nested one
    set_by: str  # the stack setting that decides it; "" when the component decides it alone
    default_from: Optional[str] = None  # the output holding the value the provider defaults it to
    names_it: bool = False  # part of the storage's name, which the kept resource goes on holding
    normalize: Callable[[Any], Any] = lambda value: value
    forces: Callable[[Any, Any], bool] = lambda old, new: old != new


def _azure_location(value: Any) -> Any:
    return value.replace(" ", "").lower() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


# Which inputs of the storage the kit keeps on destroy force a replacement. Taken from the providers' own
# definitions, not guessed:
# - aws:s3/bucket:Bucket (pulumi-aws 7 bridges terraform-provider-aws v6), hashicorp/terraform-provider-aws:
#   internal/service/s3/bucket.go, resourceBucket(): `bucket` and `bucket_prefix` are ForceNew (commit
#   4c72bcc7dc2f5ace40ce61f2a90e12a62cf4ec9a and later), `object_lock_enabled` ForceNew (v5 revisions on);
#   internal/provider/sdkv2/region.go (commit 0073593e7d6993ba482409f4dc35438daaa79bb3), forceNewIfRegionChanges:
#   a change of the per-resource `region`, which defaults to the provider's (aws:region), forces a new resource.
# - gcp:storage/bucket:Bucket, hashicorp/terraform-provider-google
#   google/services/storage/resource_storage_bucket.go (commit 36e138ea55231c672e0404bf66aa1163b0fba414):
#   `name`, `location` (compared upper-cased: its StateFunc), `project` ForceNew;
#   custom_placement_config.data_locations ForceNew; retention_policy.is_locked ForceNewIfChange(isPolicyLocked),
#   that is when a locked policy would be unlocked.
# - azure-native (pulumi/pulumi-azure-native): provider/pkg/provider/diff.go (commit
#   1b99ef0b634254a11e6182e278313b0542176bc2), calculateDetailedDiff: "All the parameters that are part of the
#   resource path cause a replacement" (resourceGroupName, accountName, containerName; resourceGroupName compared
#   case-insensitively, location without case or spaces: applyAzureSpecificDiff); provider/pkg/gen/replacement.go
#   (commit 1b7112af33c62b247daed1028686bf279f4d5e69), forceNewMap: Storage.StorageAccount {isHnsEnabled, location},
#   Storage.BlobContainer {} ("no force-news"), Resources.ResourceGroup {location}. Body properties that
#   azure-rest-api-specs marks x-ms-mutability without "update" are force-new as well (propChangeForcesRecreate);
#   Microsoft.Storage documents an account's location as unchangeable once created. `kind` is in neither list
#   (an account can be upgraded to StorageV2 in place).
REPLACED_BY: dict[str, tuple[Forcing, ...]] = {
    "aws:s3/bucket:Bucket": (
        Forcing("bucket", "tavus-recording:bucketName", names_it=True),
        Forcing("bucketPrefix", "", names_it=True),
        Forcing("region", "aws:region", default_from="region"),
        Forcing("objectLockEnabled", ""),  # S3 Object Lock can only be chosen when a bucket is made
    ),
    "gcp:storage/bucket:Bucket": (
        Forcing("name", "tavus-recording:bucketName", names_it=True),
        Forcing("location", "tavus-recording:location", normalize=_upper),
        Forcing("project", "gcp:project", default_from="project"),
        Forcing("customPlacementConfig.dataLocations", ""),
        Forcing("retentionPolicy.isLocked", "", forces=lambda old, new: old is True and new is not True),
    ),
    "azure-native:storage:StorageAccount": (
        Forcing("accountName", "tavus-recording:storageAccount", names_it=True),
        Forcing("resourceGroupName", "tavus-recording:resourceGroupName", normalize=_lower),
        Forcing("location", "azure-native:location", default_from="location", normalize=_azure_location),
        Forcing("isHnsEnabled", ""),
    ),
    "azure-native:storage:BlobContainer": (
        Forcing("containerName", "tavus-recording:container", names_it=True),
        Forcing("accountName", "tavus-recording:storageAccount", names_it=True),
        Forcing("resourceGroupName", "tavus-recording:resourceGroupName", normalize=_lower),
    ),
    "azure-native:resources:ResourceGroup": (
        Forcing("resourceGroupName", "tavus-recording:resourceGroupName", names_it=True),
        Forcing("location", "azure-native:location", default_from="location", normalize=_azure_location),
    ),
}

# Where each kind of kept storage's provider definition says so, for the warning.
_REPLACEMENT_SOURCE = {
    "aws:s3/bucket:Bucket": "terraform-provider-aws aws_s3_bucket (ForceNew)",
    "gcp:storage/bucket:Bucket": "terraform-provider-google google_storage_bucket (ForceNew)",
    "azure-native:storage:StorageAccount": "azure-native StorageAccount (path parameter or force-new property)",
    "azure-native:storage:BlobContainer": "azure-native BlobContainer (path parameter)",
    "azure-native:resources:ResourceGroup": "azure-native ResourceGroup (path parameter or force-new property)",
}

# How a kept resource is adopted again: `pulumi import` type and the id it takes (each provider's Import section).
_IMPORT_ID = {
    "aws:s3/bucket:Bucket": "{bucket}",
    "gcp:storage/bucket:Bucket": "{project}/{name}",
    "azure-native:storage:StorageAccount": (
        "/subscriptions/<subscription-id>/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/"
        "storageAccounts/{accountName}"
    ),
    "azure-native:storage:BlobContainer": (
        "/subscriptions/<subscription-id>/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/"
        "storageAccounts/{accountName}/blobServices/default/containers/{containerName}"
    ),
    "azure-native:resources:ResourceGroup": "/subscriptions/<subscription-id>/resourceGroups/{resourceGroupName}",
}

# The setting that points the kit at storage that already exists instead of creating it.
_EXISTING_KEY = {
    "aws:s3/bucket:Bucket": "tavus-recording:existingBucket",
    "gcp:storage/bucket:Bucket": "tavus-recording:existingBucket",
    "azure-native:storage:StorageAccount": "tavus-recording:existingStorageAccount (with resourceGroupName)",
    "azure-native:storage:BlobContainer": "tavus-recording:existingStorageAccount and existingContainer",
    "azure-native:resources:ResourceGroup": "tavus-recording:resourceGroupName",
}


def _get(values: Mapping[str, Any], path: str) -> Any:
    value: Any = values
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _replaced_if_changed(r: Registration) -> Optional[dict[str, Any]]:
    """The values of `r`'s replacement-forcing inputs, as the provider will see them (defaults filled in)."""
    forcing = REPLACED_BY.get(r.type)
    if forcing is None:
        return None
    values: dict[str, Any] = {}
    for f in forcing:
        value = _get(r.inputs, f.input)
        if value is None and f.default_from:
            value = r.outputs.get(f.default_from)
        values[f.input] = _plain(value)
    return values


def _kept(resource: Mapping[str, Any]) -> bool:
    return bool(resource.get("retain_on_delete") or resource.get("protect"))


def _component_urn(stack: str, project: str, parent: str) -> str:
    """The full URN of a plan's `parent` (`type::name`), for `pulumi import --parent`."""
    return f"urn:pulumi:{stack}::{project}::{parent}"


def _import_command(stack: str, project: str, resource: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    fields = {key.split(".")[0]: v for key, v in values.items() if v is not None}
    name = REPLACED_BY[resource["type"]][0].input
    if name not in fields and resource.get("id"):
        # Auto-named: the name is the one the cloud has (the id's last part), placeholder and all.
        fields[name] = str(resource["id"]).rsplit("/", 1)[-1]
    fields.setdefault("project", "<project>")
    id_ = _IMPORT_ID[resource["type"]].format_map(_Missing(fields))
    parent = resource.get("parent") or ""
    with_parent = (
        f" --parent 'parent={_component_urn(stack, project, parent)}'" if parent and "pulumi:pulumi:Stack" not in parent else ""
    )
    return f"pulumi import -s {stack} '{resource['type']}' {resource['name']} '{id_}'{with_parent} --protect=false"


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _shown(value: Any, f: Forcing) -> str:
    if value is None:
        return "(not set: auto-named)" if f.names_it else "(not set)"
    return json.dumps(value)


def compare_with_previous(current: Mapping[str, Any], previous: Mapping[str, Any], previous_file: str) -> list[dict[str, Any]]:
    """A warning for each kept resource of `previous` that `current` would replace (or drop), with what to do."""
    stack, project = current["stack"], current.get("project", "tavus-recording")
    now = {(r["type"], r["name"]): r for r in current["resources"]}
    read_names = {
        str(v) for read in current.get("reads", []) for v in (read.get("args") or {}).values() if isinstance(v, str)
    }
    warnings: list[dict[str, Any]] = []
    if previous.get("stack") not in (None, stack):
        warnings.append({
            "resource": None,
            "input": None,
            "old": previous.get("stack"),
            "new": stack,
            "says": f"{previous_file} is a plan of stack '{previous.get('stack')}', not '{stack}'",
            "do": "compare with a plan of this stack to see what a change replaces; below, only names both would use",
        })
        return warnings + _collisions(current, previous, stack, project)
    for old in previous["resources"]:
        type_ = old.get("type")
        if type_ not in REPLACED_BY or not _kept(old):
            continue
        old_values = _forcing_values(old)
        new = now.get((type_, old.get("name")))
        label = f"{type_} {old.get('name')}"
        if new is None:
            named = [v for f in REPLACED_BY[type_] if f.names_it for v in [old_values.get(f.input)] if v]
            if any(str(v) in read_names for v in named):
                continue  # the stack now grants on it as existing storage: what the existing-storage keys are for
            warnings.append({
                "resource": {"type": type_, "name": old.get("name")},
                "input": None,
                "old": old_values,
                "new": None,
                "says": (
                    f"{label} is kept on destroy and is no longer in the plan: `pulumi up` drops it from the stack "
                    "and leaves it in the cloud, with every recording in it, unmanaged"
                ),
                "do": (
                    f"to go on using it, set {_EXISTING_KEY[type_]} to it; to manage it again, "
                    f"`{_import_command(stack, project, old, old_values)}`"
                ),
            })
            continue
        new_values = new.get("replaced_if_changed") or {}
        # A plan from before `replaced_if_changed` has the inputs alone: no provider default to compare.
        has_defaults = "replaced_if_changed" in old
        renamed = False
        changed: list[tuple[Forcing, Any, Any]] = []
        for f in REPLACED_BY[type_]:
            before, after = old_values.get(f.input), new_values.get(f.input)
            if before is None and f.default_from and not has_defaults:
                continue
            if f.forces(f.normalize(before), f.normalize(after)):
                changed.append((f, before, after))
                renamed = renamed or f.names_it
        for f, before, after in changed:
            setting = f"set by {f.set_by}" if f.set_by else "set by the component"
            if renamed:
                outcome = (
                    "the replacement gets the new name and starts empty; the old one, kept on destroy, stays in the "
                    "cloud with every recording, no longer managed, and the stack's recording_storage outputs change"
                )
                move = (
                    "to move on, copy the recordings from the old storage to the new one after `pulumi up` and give "
                    f"Tavus the new recording_storage; to go on writing to the old storage, point {_EXISTING_KEY[type_]} "
                    f"at it; to manage it again once it is out of the stack, "
                    f"`{_import_command(stack, project, old, old_values)}` (with its name set in the stack)"
                )
            else:
                outcome = (
                    "the replacement keeps the name, which the old one still holds: Pulumi creates the replacement "
                    "first and the name is taken (with deleteBeforeReplace the old one is only released from the "
                    "stack, kept on destroy, so the name is still taken): the update fails"
                )
                move = (
                    f"storage cannot move: to have it elsewhere, give it a new name as well (the old one stays, with "
                    f"the recordings to copy from), or go on writing to the old one through {_EXISTING_KEY[type_]}; "
                    f"once it is out of the stack, `{_import_command(stack, project, old, old_values)}` adopts it again"
                )
            warnings.append({
                "resource": {"type": type_, "name": old.get("name")},
                "input": f.input,
                "old": before,
                "new": after,
                "says": (
                    f"{label}: {f.input} {_shown(before, f)} -> {_shown(after, f)} ({setting}); the provider cannot "
                    f"change it in place ({_REPLACEMENT_SOURCE[type_]}), so `pulumi up` replaces it: {outcome}"
                ),
                "do": f"keep {f.input} {_shown(before, f)}" + (f" (set {f.set_by} back)" if f.set_by else "") + f"; {move}",
            })
    return warnings


def _forcing_values(resource: Mapping[str, Any]) -> dict[str, Any]:
    recorded = resource.get("replaced_if_changed")
    if isinstance(recorded, Mapping):
        return dict(recorded)
    return {f.input: _get(resource.get("inputs") or {}, f.input) for f in REPLACED_BY[resource["type"]]}


def _collisions(current: Mapping[str, Any], previous: Mapping[str, Any], stack: str, project: str) -> list[dict[str, Any]]:
    """Storage another stack kept, whose name this stack would create again: the creation fails."""
    found = []
    for old in previous["resources"]:
        type_ = old.get("type")
        if type_ not in REPLACED_BY or not _kept(old):
            continue
        old_values = _forcing_values(old)
        naming = [f for f in REPLACED_BY[type_] if f.names_it and old_values.get(f.input) is not None]
        for new in current["resources"]:
            new_values = _forcing_values(new) if new["type"] == type_ else {}
            if naming and new["type"] == type_ and all(
                f.normalize(old_values[f.input]) == f.normalize(new_values.get(f.input)) for f in naming
            ):
                names = ", ".join(f"{f.input} {json.dumps(old_values[f.input])}" for f in naming)
                found.append({
                    "resource": {"type": type_, "name": new["name"]},
                    "input": naming[0].input,
                    "old": old_values[naming[0].input],
                    "new": new_values.get(naming[0].input),
                    "says": (
                        f"{type_} {new['name']} would be created with {names}, which stack '{previous.get('stack')}' "
                        "keeps on destroy: the name is taken, so the creation fails"
                    ),
                    "do": (
                        f"give this stack its own name; or grant on that storage through {_EXISTING_KEY[type_]}; or "
                        f"adopt it with `{_import_command(stack, project, new, old_values)}`"
                    ),
                })
    return found


def fixed_inputs(run: ProgramRun) -> list[dict[str, Any]]:
    """For each kept resource the provider would replace on a change: the inputs that must never change.

    Those the stack decides: its name (set or auto-named), what it sets, and what the provider defaults.
    """
    fixed = []
    for r in ordered(run.registrations):
        if r.type not in REPLACED_BY or not (r.retain_on_delete or r.protect):
            continue
        forcing = REPLACED_BY[r.type]
        decided = [f for f in forcing if f is forcing[0] or f.default_from or _get(r.inputs, f.input) is not None]
        fixed.append({
            "type": r.type,
            "name": r.name,
            "inputs": [f.input for f in decided],
            "set_by": sorted({f.set_by for f in decided if f.set_by}),
        })
    return fixed


# --- summary


def _short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = _decoded(document)
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
    where = storage.get("bucket_region")
    if managed:
        lines.insert(0, f"Data: S3 bucket {bucket} in {where}, created by this stack.")
    else:
        lines.insert(0, f"Data: existing S3 bucket {bucket} (region {where}, read when `pulumi up` runs); "
                        "this stack changes none of its settings.")
    return {"storage": data, "access": access}, lines


def _summary_gcs(run: ProgramRun, outputs: Mapping[str, Any], grants: list[Registration], examples: list[str]) -> tuple[dict, list[str]]:
    storage = outputs.get("recording_storage") or {}
    bucket = storage.get("bucket_name") or outputs.get("bucket_name")
    managed = outputs.get("storage_managed", True)
    created = next(iter(run.find("gcp:storage/bucket:Bucket")), None)
    location = _get(created.inputs, "location") if created else None
    data = {"kind": "Cloud Storage bucket", "name": bucket, "where": location, "project": storage.get("project_id"),
            "managed": managed}
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
            issuer = _get(provider.inputs, "oidc.issuerUri") if provider else None
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
    if managed:
        lines.insert(0, f"Data: Cloud Storage bucket {bucket} in {location} (project {data['project']}), created by this stack.")
    else:
        lines.insert(0, f"Data: existing Cloud Storage bucket {bucket} (project {data['project']}; its location is the "
                        "bucket's own); this stack adds one grant on it and changes none of its settings.")
    return {"storage": data, "access": access}, lines


def _summary_azure(run: ProgramRun, outputs: Mapping[str, Any], grants: list[Registration], examples: list[str]) -> tuple[dict, list[str]]:
    from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR

    roles = {STORAGE_BLOB_DATA_CONTRIBUTOR: "Storage Blob Data Contributor"}
    storage = outputs.get("recording_storage") or {}
    account, container = storage.get("storage_account"), storage.get("container")
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
    if managed:
        lines.insert(0, f"Data: container {container} in storage account {account} (resource group {group}, {location}), "
                        "created by this stack.")
    else:
        lines.insert(0, f"Data: existing container {container} in storage account {account} (resource group {group}); "
                        "this stack adds one role assignment on it and changes none of its settings.")
    return {"storage": data, "access": access}, lines


# Resource types that grant someone something: the summary accounts for each, or lists it as another grant.
_GRANT_TYPES = re.compile(
    r"^(aws:iam/|aws:s3/bucketPolicy:|gcp:.*(IAM|iAM)(Binding|Member|Policy):|gcp:iam/workloadIdentity"
    r"|azure-native:authorization:RoleAssignment|azure-native:managedidentity:FederatedIdentityCredential)"
)

_PROVIDER_NAMES = {"s3": "AWS", "gcs": "Google Cloud", "azure_blob": "Azure"}


def summary(run: ProgramRun) -> dict[str, Any]:
    """Who can do what, where the data lives, what outlives a destroy: read from the run, in a few lines."""
    outputs = run.outputs
    provider = (outputs.get("recording_storage") or {}).get("provider", "")
    examples = example_values(s for r in run.registrations for s in _strings(r.inputs))
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
                 and _get(r.inputs, REPLACED_BY[r.type][0].input) is not None]
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


# --- the document


def plan_document(
    stack: str,
    run: ProgramRun,
    stack_file: str,
    previous: Optional[Mapping[str, Any]] = None,
    previous_file: str = "",
    project: str = "tavus-recording",
) -> dict[str, Any]:
    """The plan as one JSON-able object: `resources` (each with `type` and `name`) and `outputs`, typed as exported."""
    resources = [
        {
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "retain_on_delete": r.retain_on_delete,
            "protect": r.protect,
            "depends_on": sorted(r.depends_on),
            "id": r.id if r.custom else None,
            "id_is_mock": r.mock_id,
            "inputs": _plain(r.inputs),
            "decoded_inputs": _decoded_inputs(r.inputs),
            "replaced_if_changed": _replaced_if_changed(r),
        }
        for r in ordered(run.registrations)
    ]
    reads = sorted(
        ({"token": read.token, "args": _plain(read.args), "note": EXISTING_STORAGE.get(read.token)} for read in run.reads),
        key=lambda read: (read["token"], json.dumps(read["args"], sort_keys=True)),
    )
    outputs = {name: _plain(value) for name, value in run.outputs.items()}
    document: dict[str, Any] = {
        "project": project,
        "stack": stack,
        "stack_file": stack_file,
        "note": PLACEHOLDER_NOTE,
        "mock_id_note": MOCK_ID_NOTE,
        "summary": _plain(summary(run)),
        "warnings": [],
        "placeholders": _placeholders([resources, reads, outputs]),
        "resources": resources,
        "reads": reads,
        "outputs": outputs,
    }
    if previous is not None:
        document["warnings"] = compare_with_previous(document, previous, previous_file)
    return document


def read_previous(text: str, name: str) -> dict[str, Any]:
    """An earlier `plan --json` output, checked enough to compare with; PreviousPlanError says what is wrong."""
    try:
        previous = json.loads(text)
    except ValueError as exc:
        raise PreviousPlanError(f"{name} is not JSON ({exc}); give it what `plan --json` printed") from None
    resources = previous.get("resources") if isinstance(previous, dict) else None
    if not isinstance(resources, list) or not all(
        isinstance(r, dict) and isinstance(r.get("type"), str) and isinstance(r.get("name"), str)
        and isinstance(r.get("inputs") or {}, dict) and isinstance(r.get("replaced_if_changed") or {}, dict)
        for r in resources
    ):
        raise PreviousPlanError(
            f"{name} is not a plan: expected the object `plan --json` prints, with `resources` each with `type` and `name`"
        )
    return previous


# --- text


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _render_value(key: str, value: Any, prefix: str) -> str:
    if isinstance(value, (dict, list)):
        return f"{prefix}{key}:\n{_indent(json.dumps(value, indent=2), prefix + '    ')}"
    return f"{prefix}{key}: {json.dumps(value)}"


def _render_resource(r: Registration, children: dict[str, list[Registration]], depth: int) -> list[str]:
    prefix = "  " * depth
    flags = [flag for flag, on in (("kept on destroy", r.retain_on_delete), ("protected", r.protect)) if on]
    lines = [f"{prefix}+ {r.type}  {r.name}" + (f"  [{', '.join(flags)}]" if flags else "")]
    if r.custom:
        lines.append(f"{prefix}    ({'mock id' if r.mock_id else 'id'}: {r.id})")
    inputs = _plain(r.inputs)
    for key, value in inputs.items():
        document = _decoded(value)
        if document is not None:
            # Policy documents are JSON strings; shown decoded, which is how a reviewer reads them.
            lines.append(_render_value(f"{key} (a JSON string, shown decoded)", document, prefix + "    "))
        else:
            lines.append(_render_value(key, value, prefix + "    "))
    for child in children.get(r.urn, []):
        lines.extend(_render_resource(child, children, depth + 1))
    return lines


def _render_read(read: Mapping[str, Any]) -> list[str]:
    lines = [f"  = {read['token']}  {json.dumps(read['args'], sort_keys=True)}"]
    if read["note"]:
        lines.append(f"      {read['note']}")
    return lines


def _render_warnings(warnings: list[dict[str, Any]], previous_file: str) -> list[str]:
    lines = [
        "",
        f"WARNING: compared with {previous_file}, this change replaces storage that is kept on destroy "
        "(advice: the plan still runs):",
    ]
    for warning in warnings:
        lines.append(f"  ! {warning['says']}.")
        lines.append(f"    Do: {warning['do']}.")
    return lines


def render_text(
    stack: str,
    run: ProgramRun,
    stack_file: str,
    previous: Optional[Mapping[str, Any]] = None,
    previous_file: str = "",
    project: str = "tavus-recording",
) -> str:
    """The plan for a human reviewer."""
    document = plan_document(stack, run, stack_file, previous, previous_file, project)
    registrations = ordered(run.registrations)
    children: dict[str, list[Registration]] = {}
    for r in registrations:
        children.setdefault(r.parent, []).append(r)
    urns = {r.urn for r in registrations}
    roots = [r for r in registrations if r.parent not in urns]

    lines = [f"Plan for stack '{stack}' ({stack_file}), offline on Pulumi's mock engine.", PLACEHOLDER_NOTE]
    if document["warnings"]:
        lines += _render_warnings(document["warnings"], previous_file)
    lines += ["", "Summary:"] + [f"  {line}" for line in document["summary"]["lines"]]
    lines += ["", "Placeholders in this plan:"]
    for p in document["placeholders"]:
        lines.append(f"  {p['placeholder']}  ({p['kind']}) {p['stands_for']}")
    if any(r.mock_id for r in registrations):
        lines.append(f"  {MOCK_ID_NOTE}")
    # Before the resources, so storage the stack does not manage is among the first things a reviewer reads.
    if document["reads"]:
        lines += ["", "Read from the cloud, not managed by this stack (nothing there is created, changed or deleted):"]
        for read in document["reads"]:
            lines.extend(_render_read(read))
    lines += ["", f"Resources ({len(registrations)}):"]
    for root in roots:
        lines.extend(_render_resource(root, children, 1))
    lines += ["", "Outputs:"]
    for name, value in document["outputs"].items():
        lines.append(_render_value(name, value, "  "))
    lines += ["", "Deploy with: pulumi up -s " + stack]
    return "\n".join(lines)
