"""What forces a replacement of kept storage: the inputs each provider replaces it on (`REPLACED_BY`), those
a stack must never change (`fixed_inputs`), and the warnings against an earlier plan (`plan --previous`:
`read_previous`, `compare_with_previous`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from tavus_recording.input_files import InputFileError, parse_json
from tavus_recording.mock_engine import ProgramRun, Registration
from tavus_recording.plan.order import ordered
from tavus_recording.plan.values import plain


class PreviousPlanError(ValueError):
    """The file given to `plan --previous` is not a plan (`plan --json`)."""


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
        Forcing("retentionPolicy.isLocked", "tavus-recording:immutableMode", forces=lambda old, new: old is True and new is not True),
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


def get(values: Mapping[str, Any], path: str) -> Any:
    value: Any = values
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def replaced_if_changed(r: Registration) -> Optional[dict[str, Any]]:
    """The values of `r`'s replacement-forcing inputs, as the provider will see them (defaults filled in)."""
    forcing = REPLACED_BY.get(r.type)
    if forcing is None:
        return None
    values: dict[str, Any] = {}
    for f in forcing:
        value = get(r.inputs, f.input)
        if value is None and f.default_from:
            value = r.outputs.get(f.default_from)
        values[f.input] = plain(value)
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
            set_by = _set_by(f, old.get("name"))
            setting = f"set by {set_by}" if set_by else "set by the component"
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
                "do": f"keep {f.input} {_shown(before, f)}" + (f" (set {set_by} back)" if set_by else "") + f"; {move}",
            })
    return warnings


def _forcing_values(resource: Mapping[str, Any]) -> dict[str, Any]:
    recorded = resource.get("replaced_if_changed")
    if isinstance(recorded, Mapping):
        return dict(recorded)
    return {f.input: get(resource.get("inputs") or {}, f.input) for f in REPLACED_BY[resource["type"]]}


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


# The kit's own log storage (auditLogs), named by the component alone: no stack setting decides its inputs.
_LOG_STORAGE_SUFFIXES = ("-audit", "-audit-logs")


def _set_by(f: Forcing, name: Any) -> str:
    """The stack setting that decides `f` on the resource named `name`; "" when the component decides it alone."""
    return "" if str(name or "").endswith(_LOG_STORAGE_SUFFIXES) else f.set_by


def fixed_inputs(run: ProgramRun) -> list[dict[str, Any]]:
    """For each kept resource the provider would replace on a change: the inputs that must never change.

    Those the stack decides: its name (set or auto-named), what it sets, and what the provider defaults.
    """
    fixed = []
    for r in ordered(run.registrations):
        if r.type not in REPLACED_BY or not (r.retain_on_delete or r.protect):
            continue
        forcing = REPLACED_BY[r.type]
        decided = [f for f in forcing if f is forcing[0] or f.default_from or get(r.inputs, f.input) is not None]
        fixed.append({
            "type": r.type,
            "name": r.name,
            "inputs": [f.input for f in decided],
            "set_by": sorted({_set_by(f, r.name) for f in decided if _set_by(f, r.name)}),
        })
    return fixed


def read_previous(text: str, name: str) -> dict[str, Any]:
    """An earlier `plan --json` output, checked enough to compare with; PreviousPlanError says what is wrong."""
    try:
        # Strict and bounded: no duplicate keys, NaN or nesting deeper than MAX_DEPTH.
        previous = parse_json(text, name, "give it what `plan --json` printed")
    except InputFileError as exc:
        raise PreviousPlanError(str(exc)) from None
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
