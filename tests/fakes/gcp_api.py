"""A local stand-in for the slices of Google's IAM v1, Cloud Resource Manager v1 and Cloud Storage JSON v1
APIs that `verify` reads (managed folders and their IAM policies included).

Serves a `GcpState` over plain HTTP on 127.0.0.1 only, shaped as the real APIs answer: camelCase
fields, proto3 JSON that leaves out `false` and empty lists (IAM), `kind`/`etag`/`selfLink` and
int64 fields as strings (Storage), and each API's own error envelope. Any request path can be made
to answer 403, 404 or another status; `projects/-/serviceAccounts/<missing>` answers 403 as the
real API documents. It answers a bounded number of requests, each socket times out, and it stops
when its context manager ends or after LIFETIME_SECONDS.

Every 200 answer is recorded with the schema it claims (`Received.schema`), so a test can hold the
fake to Google's published discovery documents (tests/fakes/schemas/).
"""

from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Optional
from urllib.parse import parse_qs, quote, unquote, urlsplit

from fakes.loopback import MAX_REQUESTS, SOCKET_TIMEOUT_SECONDS, send_json, serving

SCHEMAS = Path(__file__).parent / "schemas"

Json = dict[str, Any]


# --- resources, as the APIs return them


def pool(
    name: str, *, display_name: str = "", description: str = "", state: str = "ACTIVE", disabled: bool = False
) -> Json:
    """A WorkloadIdentityPool (IAM v1)."""
    found: Json = {"name": name, "displayName": display_name, "description": description, "state": state}
    if disabled:
        found["disabled"] = True
    if state == "DELETED":
        found["expireTime"] = "2026-12-23T10:00:00.000000Z"
    return {key: value for key, value in found.items() if value != ""}


def provider(
    name: str,
    *,
    issuer: str,
    attribute_mapping: Optional[dict[str, str]] = None,
    attribute_condition: Optional[str] = None,
    allowed_audiences: Optional[list[str]] = None,
    display_name: str = "",
    description: str = "",
    state: str = "ACTIVE",
    disabled: bool = False,
) -> Json:
    """An OIDC WorkloadIdentityPoolProvider (IAM v1)."""
    oidc: Json = {"issuerUri": issuer}
    if allowed_audiences:
        oidc["allowedAudiences"] = list(allowed_audiences)
    found: Json = {"name": name, "displayName": display_name, "description": description, "state": state}
    if disabled:
        found["disabled"] = True
    if attribute_mapping:
        found["attributeMapping"] = dict(attribute_mapping)
    if attribute_condition:
        found["attributeCondition"] = attribute_condition
    found["oidc"] = oidc
    if state == "DELETED":
        found["expireTime"] = "2026-12-23T10:00:00.000000Z"
    return {key: value for key, value in found.items() if value != ""}


def service_account(
    email: str, *, project_id: str, unique_id: str, display_name: str = "", description: str = "", disabled: bool = False
) -> Json:
    """A ServiceAccount (IAM v1)."""
    found: Json = {
        "name": f"projects/{project_id}/serviceAccounts/{email}",
        "projectId": project_id,
        "uniqueId": unique_id,
        "email": email,
        "displayName": display_name,
        "description": description,
        "etag": "MDEwMjE5MjA=",
        "oauth2ClientId": unique_id,
    }
    if disabled:
        found["disabled"] = True
    return {key: value for key, value in found.items() if value != ""}


def iam_policy(bindings: list[Json], version: int = 1) -> Json:
    """A Policy (IAM v1); `bindings` is left out when empty, as the API does."""
    found: Json = {"version": version, "etag": "BwYk3ZxJ3ZA="}
    if bindings:
        found["bindings"] = [dict(binding) for binding in bindings]
    return found


def bucket(
    name: str,
    *,
    project_number: str,
    location: str = "US",
    versioning: bool = True,
    uniform_access: bool = True,
    public_access_prevention: str = "enforced",
    lifecycle_rules: Optional[list[Json]] = None,
    retention_seconds: Optional[int] = None,
    retention_locked: bool = False,
    encryption: Optional[Json] = None,
) -> Json:
    """A Bucket (Storage JSON v1) as `buckets.get` with the default noAcl projection returns it."""
    ubla: Json = {"enabled": uniform_access}
    if uniform_access:
        ubla["lockedTime"] = "2027-02-20T10:00:00.000Z"
    found: Json = {
        "kind": "storage#bucket",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
        "id": name,
        "name": name,
        "projectNumber": project_number,
        "generation": "1732356000123456",
        "metageneration": "3",
        "location": location,
        "storageClass": "STANDARD",
        "etag": "CAM=",
        "timeCreated": "2026-11-22T10:00:00.000Z",
        "updated": "2026-11-22T10:05:00.000Z",
        "versioning": {"enabled": versioning},
        "softDeletePolicy": {"retentionDurationSeconds": "604800", "effectiveTime": "2026-11-22T10:00:00.000Z"},
        # The API still mirrors uniform access under its old name.
        "iamConfiguration": {
            "bucketPolicyOnly": dict(ubla),
            "uniformBucketLevelAccess": ubla,
            "publicAccessPrevention": public_access_prevention,
        },
        "locationType": "multi-region" if location in ("US", "EU", "ASIA") else "region",
        "rpo": "DEFAULT",
    }
    if lifecycle_rules:
        found["lifecycle"] = {"rule": [dict(rule) for rule in lifecycle_rules]}
    if encryption:
        # Each enforcement config comes back with the time it took effect (service-provided).
        found["encryption"] = {k: {**v, "effectiveTime": "2026-11-22T10:00:00.000Z"} if k.endswith("EnforcementConfig") else v
                               for k, v in encryption.items()}
    if retention_seconds is not None:
        # int64 as a string; `isLocked` only once locked.
        policy: Json = {"retentionPeriod": str(retention_seconds), "effectiveTime": "2026-11-22T10:00:00.000Z"}
        if retention_locked:
            policy["isLocked"] = True
        found["retentionPolicy"] = policy
    return found


def service_account_key(project_id: str, email: str, key_id: str, *, key_type: str = "SYSTEM_MANAGED", disabled: bool = False) -> Json:
    """A ServiceAccountKey (IAM v1) as `keys.list` returns it: no key material."""
    found: Json = {
        "name": f"projects/{project_id}/serviceAccounts/{email}/keys/{key_id}",
        "validAfterTime": "2026-11-22T10:00:00Z",
        "validBeforeTime": "2026-12-09T10:00:00Z" if key_type == "SYSTEM_MANAGED" else "9999-12-31T23:59:59Z",
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "keyOrigin": "GOOGLE_PROVIDED",
        "keyType": key_type,
    }
    if disabled:
        found["disabled"] = True
    return found


def hmac_key(project_id: str, email: str, access_id: str, *, state: str = "ACTIVE") -> Json:
    """An HmacKeyMetadata (Storage JSON v1) as `projects.hmacKeys.list` returns it."""
    return {
        "kind": "storage#hmacKeyMetadata",
        "id": f"{project_id}/{access_id}",
        "selfLink": f"https://www.googleapis.com/storage/v1/projects/{project_id}/hmacKeys/{access_id}",
        "accessId": access_id,
        "projectId": project_id,
        "serviceAccountEmail": email,
        "state": state,
        "timeCreated": "2026-11-22T10:00:00.000Z",
        "updated": "2026-11-22T10:00:00.000Z",
        "etag": "Q0FFPQ==",
    }


def legacy_bindings(project_number: str) -> list[Json]:
    """The convenience bindings every new bucket's policy holds (project owners, editors, viewers)."""
    return [
        {"role": "roles/storage.legacyBucketOwner", "members": [f"projectEditor:{project_number}", f"projectOwner:{project_number}"]},
        {"role": "roles/storage.legacyBucketReader", "members": [f"projectViewer:{project_number}"]},
    ]


def bucket_policy(name: str, bindings: list[Json], version: int = 1) -> Json:
    """A Policy (Storage JSON v1) as `buckets.getIamPolicy` returns it."""
    return {
        "kind": "storage#policy",
        "resourceId": f"projects/_/buckets/{name}",
        "version": version,
        "etag": "CAM=",
        "bindings": [dict(binding) for binding in bindings],
    }


def managed_folder(bucket_name: str, name: str) -> Json:
    """A ManagedFolder (Storage JSON v1) as `managedFolders.list` returns it (`name` ends with a slash)."""
    return {
        "kind": "storage#managedFolder",
        "id": f"{bucket_name}/{name}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket_name}/managedFolders/{quote(name, safe='')}",
        "name": name,
        "bucket": bucket_name,
        "metageneration": "1",
        "createTime": "2026-11-22T10:00:00.000Z",
        "updateTime": "2026-11-22T10:00:00.000Z",
    }


def managed_folder_policy(bucket_name: str, name: str, bindings: list[Json]) -> Json:
    """A Policy (Storage JSON v1) as `managedFolders.getIamPolicy` returns it: a folder nobody was granted on
    has neither bindings nor a version."""
    found: Json = {"kind": "storage#policy", "resourceId": f"projects/_/buckets/{bucket_name}/managedFolders/{name}", "etag": "CAA="}
    if bindings:
        found.update(version=1, etag="CAE=", bindings=[dict(binding) for binding in bindings])
    return found


# --- the state served, and what was asked


@dataclass
class GcpState:
    """Resources by name: pools and providers by resource name, accounts by email, buckets by name."""

    pools: dict[str, Json] = field(default_factory=dict)
    providers: dict[str, Json] = field(default_factory=dict)
    service_accounts: dict[str, Json] = field(default_factory=dict)
    service_account_policies: dict[str, Json] = field(default_factory=dict)
    service_account_keys: dict[str, list[Json]] = field(default_factory=dict)
    # HMAC keys by project id; the list filters them by service account.
    hmac_keys: dict[str, list[Json]] = field(default_factory=dict)
    project_policies: dict[str, Json] = field(default_factory=dict)
    buckets: dict[str, Json] = field(default_factory=dict)
    bucket_policies: dict[str, Json] = field(default_factory=dict)
    # Managed folders by bucket, and their IAM policies by (bucket, folder name); listed a page at a time.
    managed_folders: dict[str, list[Json]] = field(default_factory=dict)
    managed_folder_policies: dict[tuple[str, str], Json] = field(default_factory=dict)
    managed_folders_page_size: int = 50
    # Cloud KMS keys' IAM policies by key name (projects/.../cryptoKeys/<name>); a key not here does not exist.
    key_policies: dict[str, Json] = field(default_factory=dict)


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0
    # (api, schema) of a 200 answer, e.g. ("iam", "WorkloadIdentityPool"), and the answer itself.
    schema: Optional[tuple[str, str]] = None
    answer: Any = None


@dataclass
class FakeGcp:
    state: GcpState
    url: str = ""
    # Request path (no query string, percent-decoded) -> the status (and message) to answer instead.
    errors: dict[str, tuple[int, Optional[str]]] = field(default_factory=dict)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def fail(self, path: str, status: int, message: Optional[str] = None) -> None:
        """Answer `status` for `path`; a 403 without a message is the API's permission denial."""
        self.errors[path] = (status, message)


# --- routes: (method, pattern, api, permission, answer)


class _Answer(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# The answer function gets the path's named groups and the query string's first values.
_Route = tuple[str, re.Pattern[str], str, str, Callable[[GcpState, dict[str, str]], tuple[str, Json]]]


def _found(mapping: dict[str, Json], key: str, what: str) -> Json:
    if key not in mapping:
        raise _Answer(404, f"{what} was not found.")
    return mapping[key]


def _account(state: GcpState, project: str, email: str) -> Json:
    account = state.service_accounts.get(email)
    if account is None or project not in ("-", account["projectId"]):
        if project == "-":
            # Documented: with the `-` wildcard a missing account answers 403, not 404.
            raise _Answer(403, "Permission 'iam.serviceAccounts.get' denied on resource (or it may not exist).")
        raise _Answer(404, "Unknown service account")
    return account


_POOL = r"/v1/(?P<pool>projects/[^/]+/locations/global/workloadIdentityPools/[^/]+)"
ROUTES: list[_Route] = [
    (
        "GET",
        re.compile(rf"^{_POOL}$"),
        "iam",
        "iam.workloadIdentityPools.get",
        lambda s, p: ("WorkloadIdentityPool", _found(s.pools, p["pool"], "Requested entity")),
    ),
    (
        "GET",
        re.compile(rf"^{_POOL}/providers$"),
        "iam",
        "iam.workloadIdentityPoolProviders.list",
        lambda s, p: ("ListWorkloadIdentityPoolProvidersResponse", _providers(s, p["pool"])),
    ),
    (
        "GET",
        re.compile(r"^/v1/(?P<provider>projects/[^/]+/locations/global/workloadIdentityPools/[^/]+/providers/[^/:]+)$"),
        "iam",
        "iam.workloadIdentityPoolProviders.get",
        lambda s, p: ("WorkloadIdentityPoolProvider", _found(s.providers, p["provider"], "Requested entity")),
    ),
    (
        "GET",
        re.compile(r"^/v1/projects/(?P<project>[^/]+)/serviceAccounts/(?P<email>[^/:]+)$"),
        "iam",
        "iam.serviceAccounts.get",
        lambda s, p: ("ServiceAccount", _account(s, p["project"], p["email"])),
    ),
    (
        "POST",
        re.compile(r"^/v1/projects/(?P<project>[^/]+)/serviceAccounts/(?P<email>[^/:]+):getIamPolicy$"),
        "iam",
        "iam.serviceAccounts.getIamPolicy",
        lambda s, p: (
            "Policy",
            s.service_account_policies.get(_account(s, p["project"], p["email"])["email"]) or {"version": 1, "etag": "ACAB"},
        ),
    ),
    (
        "GET",
        re.compile(r"^/v1/projects/(?P<project>[^/]+)/serviceAccounts/(?P<email>[^/:]+)/keys$"),
        "iam",
        "iam.serviceAccountKeys.list",
        lambda s, p: ("ListServiceAccountKeysResponse", _keys(s, p["project"], p["email"])),
    ),
    (
        "POST",
        re.compile(r"^/v1/projects/(?P<project>[^/:]+):getIamPolicy$"),
        "crm",
        "resourcemanager.projects.getIamPolicy",
        lambda s, p: ("Policy", _project_policy(s, p["project"])),
    ),
    (
        "GET",
        re.compile(r"^/storage/v1/projects/(?P<project>[^/]+)/hmacKeys$"),
        "storage",
        "storage.hmacKeys.list",
        lambda s, p: ("HmacKeysMetadata", _hmac_keys(s, p["project"], p.get("serviceAccountEmail"))),
    ),
    (
        "GET",
        re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)$"),
        "storage",
        "storage.buckets.get",
        lambda s, p: ("Bucket", _found(s.buckets, p["bucket"], "The specified bucket")),
    ),
    (
        "GET",
        re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)/iam$"),
        "storage",
        "storage.buckets.getIamPolicy",
        lambda s, p: ("Policy", _bucket_policy(s, p["bucket"])),
    ),
    (
        "GET",
        re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)/managedFolders$"),
        "storage",
        "storage.managedFolders.list",
        lambda s, p: ("ManagedFolders", _managed_folders(s, p["bucket"], p.get("pageToken"))),
    ),
    (
        "GET",
        # The folder's name is percent-encoded in the request (slashes included) and decoded here.
        re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)/managedFolders/(?P<folder>.+)/iam$"),
        "storage",
        "storage.managedFolders.getIamPolicy",
        lambda s, p: ("Policy", _managed_folder_policy(s, p["bucket"], p["folder"])),
    ),
    (
        "GET",
        # Cloud KMS v1 (cryptoKeys.getIamPolicy is a GET, its version a query parameter); its Policy is google.iam.v1's,
        # the same as Resource Manager's, whose schema the answer is held to.
        re.compile(r"^/v1/(?P<key>projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/:]+):getIamPolicy$"),
        "cloudkms",
        "cloudkms.cryptoKeys.getIamPolicy",
        lambda s, p: ("Policy", _found(s.key_policies, p["key"], f"CryptoKey {p['key']}")),
    ),
]


def _providers(state: GcpState, pool: str) -> Json:
    _found(state.pools, pool, "Requested entity")
    # Soft-deleted providers only with showDeleted, which verify does not ask for; an empty list is left out.
    listed = [dict(p) for name, p in state.providers.items() if name.startswith(f"{pool}/providers/") and p.get("state") != "DELETED"]
    return {"workloadIdentityPoolProviders": listed} if listed else {}


def _keys(state: GcpState, project: str, email: str) -> Json:
    account = _account(state, project, email)
    keys = state.service_account_keys.get(account["email"], [])
    # proto3 JSON leaves an empty list out.
    return {"keys": [dict(k) for k in keys]} if keys else {}


def _project_policy(state: GcpState, project: str) -> Json:
    if project not in state.project_policies:
        # Resource Manager answers 403, not 404, for a project the caller cannot see or that does not exist.
        raise _Answer(403, f"The caller does not have permission (or project {project} does not exist)")
    return state.project_policies[project]


def _hmac_keys(state: GcpState, project: str, email: Optional[str]) -> Json:
    keys = [dict(k) for k in state.hmac_keys.get(project, []) if email is None or k["serviceAccountEmail"] == email]
    # Deleted keys only with showDeletedKeys, which verify does not ask for.
    keys = [k for k in keys if k["state"] != "DELETED"]
    found: Json = {"kind": "storage#hmacKeysMetadata"}
    if keys:
        found["items"] = keys
    return found


def _bucket_policy(state: GcpState, name: str) -> Json:
    _found(state.buckets, name, "The specified bucket")
    return state.bucket_policies.get(name) or bucket_policy(name, [])


def _managed_folders(state: GcpState, bucket_name: str, token: Optional[str]) -> Json:
    _found(state.buckets, bucket_name, "The specified bucket")
    folders = [dict(f) for f in state.managed_folders.get(bucket_name, [])]
    start = int(token) if token and token.isdigit() else 0
    page = folders[start : start + state.managed_folders_page_size]
    found: Json = {"kind": "storage#managedFolders"}
    if page:
        found["items"] = page
    if start + state.managed_folders_page_size < len(folders):
        found["nextPageToken"] = str(start + state.managed_folders_page_size)
    return found


def _managed_folder_policy(state: GcpState, bucket_name: str, name: str) -> Json:
    _found(state.buckets, bucket_name, "The specified bucket")
    if not any(f["name"] == name for f in state.managed_folders.get(bucket_name, [])):
        raise _Answer(404, "The specified managed folder does not exist.")
    return state.managed_folder_policies.get((bucket_name, name)) or managed_folder_policy(bucket_name, name, [])


_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_STORAGE_REASONS = {401: "required", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}


def error_body(api: str, status: int, message: str, permission: str = "") -> Json:
    """The error envelope each API sends: google.rpc.Status for IAM, the JSON API's for Storage."""
    if api == "storage":
        return {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": _STORAGE_REASONS.get(status, "unknown")}],
            }
        }
    error: Json = {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}
    if status == 403 and permission:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "iam.googleapis.com",
                "metadata": {"permission": permission},
            }
        ]
    return {"error": error}


def _denied_message(api: str, permission: str, path: str) -> str:
    if api == "cloudkms":
        return f"Permission '{permission}' denied on resource '{path.removeprefix('/v1/').removesuffix(':getIamPolicy')}' (or it may not exist)."
    if api == "crm":
        return "The caller does not have permission"
    if api == "storage":
        return (
            f"verifier@acme.example does not have {permission} access to the Google Cloud Storage bucket. "
            f"Permission '{permission}' denied on resource (or it may not exist)."
        )
    return f"Permission '{permission}' denied on resource '//iam.googleapis.com/{path.removeprefix('/v1/')}' (or it may not exist)."


def _handler(fake: FakeGcp) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        timeout = SOCKET_TIMEOUT_SECONDS

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            with lock:
                if len(fake.received) >= MAX_REQUESTS:
                    self._send(503, {"error": {"code": 503, "message": "fake GCP: request budget spent"}})
                    return
                received = Received(
                    method,
                    path,
                    parse_qs(parts.query),
                    {key.lower(): value for key, value in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
                fake.received.append(received)
            if fake.delay:
                time.sleep(fake.delay)
            status, answer = self._answer(method, path, received)
            received.status = status
            self._send(status, answer)

        def _answer(self, method: str, path: str, received: Received) -> tuple[int, Json]:
            for route_method, pattern, api, permission, read in ROUTES:
                match = pattern.match(path)
                if route_method != method or not match:
                    continue
                if path in fake.errors:
                    status, message = fake.errors[path]
                    if status == 403 and message is None:
                        return 403, error_body(api, 403, _denied_message(api, permission, path), permission)
                    return status, error_body(api, status, message or f"fake GCP answered {status} for {path}")
                try:
                    query = {key: values[0] for key, values in received.query.items()}
                    schema, resource = read(fake.state, {**query, **match.groupdict()})
                except _Answer as answer:
                    message = _denied_message(api, permission, path) if answer.status == 403 else answer.message
                    return answer.status, error_body(api, answer.status, message, permission)
                received.schema, received.answer = (api, schema), resource
                return 200, resource
            api = "storage" if path.startswith("/storage/") else "iam"
            return 404, error_body(api, 404, f"fake GCP has no route for {method} {path}")

        def _send(self, status: int, body: Json) -> None:
            send_json(self, status, body, "application/json; charset=UTF-8")

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    return Handler


@contextmanager
def running(fake: FakeGcp) -> Iterator[FakeGcp]:
    """Serve `fake` on a loopback port until the block ends."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))) as port:
        fake.url = f"http://127.0.0.1:{port}"
        yield fake


def schemas(api: str) -> dict[str, Json]:
    """The vendored discovery-document schemas for `api` ("iam", "crm", "storage", or "cloudkms": its Policy is CRM's)."""
    name = {"iam": "google_iam_v1.json", "crm": "google_cloudresourcemanager_v1.json", "storage": "google_storage_v1.json",
            "cloudkms": "google_cloudresourcemanager_v1.json"}[api]
    return json.loads((SCHEMAS / name).read_text())["schemas"]
