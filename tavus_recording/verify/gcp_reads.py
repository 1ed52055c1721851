"""What `verify` reads of a Cloud Storage destination, and how: the APIs' own JSON over one
`AuthorizedSession` (Application Default Credentials), each read turned into the JSON or an
`Unreadable` saying why there is none. Nothing here judges; `verify.gcp` does.

Reads are plain REST, so what is judged is exactly what Google answered (a client library may drop
what it does not know, such as a lifecycle action newer than itself).
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Literal, Mapping, Optional, Sequence, Union
from urllib.parse import quote

import google.auth
import google.auth.exceptions
import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession

from components import gcp_policy, tavus
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.together import together

IAM_URL = "https://iam.googleapis.com"
STORAGE_URL = "https://storage.googleapis.com"
CRM_URL = "https://cloudresourcemanager.googleapis.com"
KMS_URL = "https://cloudkms.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# Per request (connect, then read): an unreachable endpoint turns into "unknown" within seconds.
TIMEOUT_SECONDS = 8.0
MAX_MESSAGE = 300
# HMAC keys and providers come in pages; a writer should have no key and a pool one provider, so a few
# pages say all there is to say.
MAX_PAGES = 5
# Said when there are more: what was not read is unknown, never taken for nothing.
_TOO_MANY = f"more than {MAX_PAGES} pages, more than verify reads"
# A managed folder's IAM grants on every object under it, so each folder's policy is read: up to this
# many folders (a recordings bucket needs none); beyond, what was not read is unknown.
MAX_MANAGED_FOLDERS = 200

# The one permission each read needs (from each method's API reference), nothing more.
POOL_GET = "iam.workloadIdentityPools.get"
PROVIDER_GET = "iam.workloadIdentityPoolProviders.get"
PROVIDERS_LIST = "iam.workloadIdentityPoolProviders.list"
ACCOUNT_GET = "iam.serviceAccounts.get"
ACCOUNT_POLICY_GET = "iam.serviceAccounts.getIamPolicy"
KEYS_LIST = "iam.serviceAccountKeys.list"
HMAC_KEYS_LIST = "storage.hmacKeys.list"
PROJECT_POLICY_GET = "resourcemanager.projects.getIamPolicy"
BUCKET_GET = "storage.buckets.get"
BUCKET_POLICY_GET = "storage.buckets.getIamPolicy"
MANAGED_FOLDERS_LIST = "storage.managedFolders.list"
MANAGED_FOLDER_POLICY_GET = "storage.managedFolders.getIamPolicy"
# Read only when the stack sets kmsKeyName: who may use the bucket's key.
KEY_POLICY_GET = "cloudkms.cryptoKeys.getIamPolicy"
READ_PERMISSIONS: tuple[str, ...] = (
    POOL_GET,
    PROVIDER_GET,
    PROVIDERS_LIST,
    ACCOUNT_GET,
    ACCOUNT_POLICY_GET,
    KEYS_LIST,
    HMAC_KEYS_LIST,
    PROJECT_POLICY_GET,
    BUCKET_GET,
    BUCKET_POLICY_GET,
    MANAGED_FOLDERS_LIST,
    MANAGED_FOLDER_POLICY_GET,
    KEY_POLICY_GET,
)
# A predefined role that holds each permission, for a caller who would rather not create a
# custom role (`reader_role_command` creates one with exactly READ_PERMISSIONS).
READER_ROLES: dict[str, str] = {
    POOL_GET: "roles/iam.workloadIdentityPoolViewer",
    PROVIDER_GET: "roles/iam.workloadIdentityPoolViewer",
    PROVIDERS_LIST: "roles/iam.workloadIdentityPoolViewer",
    ACCOUNT_GET: "roles/iam.serviceAccountViewer",
    ACCOUNT_POLICY_GET: "roles/iam.securityReviewer",
    KEYS_LIST: "roles/iam.serviceAccountViewer",
    HMAC_KEYS_LIST: "roles/storage.hmacKeyAdmin, which can also create keys",
    PROJECT_POLICY_GET: "roles/iam.securityReviewer",
    BUCKET_GET: "roles/storage.legacyBucketReader",
    BUCKET_POLICY_GET: "roles/iam.securityReviewer",
    MANAGED_FOLDERS_LIST: "roles/storage.folderAdmin, which can also change managed folders and their IAM",
    MANAGED_FOLDER_POLICY_GET: "roles/storage.folderAdmin, which can also change managed folders and their IAM",
    # The permission cryptoKeys.getIamPolicy needs (cloud.google.com/kms/docs/reference/permissions-and-roles); Cloud KMS
    # Admin holds it (cloud.google.com/iam/docs/roles-permissions/cloudkms). Cloud KMS Viewer is said not to: unconfirmed.
    KEY_POLICY_GET: "roles/cloudkms.admin on the key, which can also change keys and their IAM",
}

LOGIN_FIX = "gcloud auth application-default login (or point GOOGLE_APPLICATION_CREDENTIALS at a credentials file), then run verify again"

_PROVIDER_NAME = re.compile(
    r"^projects/(?P<number>\d+)/locations/global/workloadIdentityPools/(?P<pool>[^/]+)/providers/(?P<provider>[^/]+)$"
)
_ACCOUNT_PROJECT = re.compile(r"@(?P<project>[a-z][a-z0-9-]*[a-z0-9])\.iam\.gserviceaccount\.com$")

Json = dict[str, Any]


class MissingOutputs(OutputsError, ValueError):
    """The stack's outputs do not name the resources verify must read."""


def reader_role_command(project_id: str, role_id: str = "tavusRecordingVerifier") -> str:
    """A gcloud line creating a custom role with exactly the permissions verify reads with."""
    return (
        f"gcloud iam roles create {role_id} --project={shlex.quote(project_id)} "
        f"--title='Tavus recording verify' --permissions={','.join(READ_PERMISSIONS)}"
    )


# --- what the stack says was deployed


@dataclass(frozen=True)
class Destination:
    """The resources `recording_storage` names, and what Tavus presents (when the stack exports it)."""

    bucket: str
    project_id: str
    project_number: str
    pool_id: str
    provider_id: str
    email: str
    issuer: Optional[str] = None
    subject: Optional[str] = None
    audience: Optional[str] = None

    @property
    def pool_name(self) -> str:
        return f"projects/{self.project_number}/locations/global/workloadIdentityPools/{self.pool_id}"

    @property
    def provider_name(self) -> str:
        return f"{self.pool_name}/providers/{self.provider_id}"

    @property
    def account_project(self) -> str:
        """The account's project from its email; `-` (any project) for accounts named otherwise."""
        match = _ACCOUNT_PROJECT.search(self.email)
        return match.group("project") if match else "-"

    @property
    def writer_member(self) -> str:
        return f"serviceAccount:{self.email}"

    def principal(self, subject: str) -> str:
        return gcp_policy.workload_principal(self.pool_name, subject)


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def destination(storage: tavus.GcsRecordingStorageConfig, outputs: Mapping[str, Any]) -> Destination:
    """What verify reads, from `recording_storage` and the federation outputs beside it."""
    match = _PROVIDER_NAME.match(storage.workload_identity_provider)
    if not match:
        raise MissingOutputs(
            f"recording_storage.workload_identity_provider is {storage.workload_identity_provider!r}: expected "
            "projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>, "
            "the provider's `name` (as this kit exports it)"
        )
    return Destination(
        bucket=storage.bucket_name,
        project_id=storage.project_id,
        project_number=match.group("number"),
        pool_id=match.group("pool"),
        provider_id=match.group("provider"),
        email=storage.service_account_email,
        issuer=_text(outputs.get("tavus_oidc_issuer")),
        subject=_text(outputs.get("tavus_oidc_subject")),
        audience=_text(outputs.get("tavus_oidc_audience")),
    )


# --- why a read gave nothing


@dataclass(frozen=True)
class Unreadable:
    """A read that returned nothing: the resource is missing, or the caller could not tell."""

    kind: Literal["missing", "denied", "unreachable", "credentials", "error"]
    detail: str
    fix: str = ""


Read = Union[Json, Unreadable]


class _HttpStatus(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def _api_message(text: str) -> str:
    """Google's `error.message`, else the raw body, cut short."""
    try:
        error = json.loads(text).get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    return (message if isinstance(message, str) else text.strip())[:MAX_MESSAGE]


# Google answers 403 for a refusal that is not about the permission: user credentials without a
# quota project, or the API disabled in the quota project. Saying "denied" there would mislead.
_NOT_A_PERMISSION = re.compile(r"quota project|has not been used in project|SERVICE_DISABLED|API .*is disabled", re.IGNORECASE)
_SERVICES = {"storage": "storage.googleapis.com", "resourcemanager": "cloudresourcemanager.googleapis.com", "cloudkms": "cloudkms.googleapis.com"}


def _status_problem(status: int, message: str, permission: str, what: str, dest: Destination) -> Unreadable:
    if status == 404:
        return Unreadable("missing", f"{what} does not exist")
    if status == 403 and _NOT_A_PERMISSION.search(message):
        service = _SERVICES.get(permission.split(".")[0], "iam.googleapis.com")
        return Unreadable(
            "denied",
            f"Google refused to read {what}, not for want of {permission}: {message}",
            f"gcloud auth application-default set-quota-project {dest.project_id}, and make sure {service} is "
            f"enabled there (gcloud services enable {service} --project={dest.project_id})",
        )
    if status == 403:
        return Unreadable(
            "denied",
            f"{permission} denied: could not read {what} (Google says: {message})",
            f"grant the account verify runs as {permission} (in {READER_ROLES[permission]}, or a custom role "
            "with verify's READ_PERMISSIONS), or run verify as someone who has it",
        )
    if status == 401:
        return Unreadable("credentials", f"Google refused the credentials (HTTP 401) when reading {what}: {message}", LOGIN_FIX)
    return Unreadable("error", f"HTTP {status} when reading {what}: {message}", "run verify again; if it persists, check Google Cloud's status page")


@dataclass(frozen=True)
class _Early:
    """A read issued in a round, ahead of its turn: its answer, or (`made` False) the failure that kept it from being
    made, its endpoint (or the credentials) having already failed in this run."""

    answer: Read
    made: bool


# A read's key while it waits for its turn: its permission and what it reads (the second names the resource).
_Key = tuple[str, str]


class Reader:
    """Every read verify makes; each returns the API's JSON or an `Unreadable`, never raises.

    `issue` makes a round of reads at once, ahead of their turn; each answer waits until verify asks for that read,
    one after another in its own order, and is taken then as if just made: after an endpoint failed to answer, or the
    credentials failed, it is that failure, exactly as reading one after another would give."""

    def __init__(self, session: AuthorizedSession, dest: Destination, iam_url: str, storage_url: str, crm_url: str,
                 kms_url: str = KMS_URL) -> None:
        self._session = session
        self._dest = dest
        self._iam_url = iam_url.rstrip("/")
        self._storage_url = storage_url.rstrip("/")
        self._crm_url = crm_url.rstrip("/")
        self._kms_url = kms_url.rstrip("/")
        # An endpoint that failed to answer, or credentials that failed, are not tried again.
        self._blocked: dict[str, Unreadable] = {}
        # The same, as the rounds found them: a read issued after is not made (a round's threads share this).
        self._seen: dict[str, Unreadable] = {}
        # Answers issued ahead, waiting for verify to ask (a read asked twice waits twice).
        self._early: dict[_Key, list[_Early]] = {}
        # Set on the copy one thread of a round reads through: where its answer goes instead.
        self._sink: Optional[list[tuple[_Key, _Early]]] = None

    def issue(self, reads: Sequence[Callable[["Reader"], Read]]) -> list[Read]:
        """Make `reads` at once (none may need another's answer), in the order verify will ask for them; their answers
        as made, for deciding the next round (verify's own checks take them when they ask, as said above)."""
        answers: list[Read] = []
        if reads and not self._session.credentials.valid:
            # google-auth refreshes an invalid token in whichever request finds it so, with no lock (credentials.py,
            # _blocking_refresh): the first read goes alone and refreshes it once, as reading one after another would.
            answers, reads = self._issue(reads[:1]), reads[1:]
        return answers + self._issue(reads)

    def _issue(self, reads: Sequence[Callable[["Reader"], Read]]) -> list[Read]:
        views = [self._view() for _ in reads]
        answers = together([partial(read, view) for read, view in zip(reads, views)])
        for view in views:
            for key, early in view._sink or []:
                self._early.setdefault(key, []).append(early)
        return answers

    def _view(self) -> "Reader":
        """A copy for one thread of a round: the same session and failures seen, its own sink."""
        view = copy.copy(self)
        view._sink = []
        return view

    def _guarded(self, endpoint: str, permission: str, what: str, call: Callable[[], Json]) -> Read:
        key = (permission, what)
        if self._sink is not None:
            # A round's read, on its own thread: made now unless its endpoint (or the credentials) already failed.
            seen = self._blocked_for(endpoint, self._seen) or self._blocked_for(endpoint, self._blocked)
            early = _Early(seen, made=False) if seen is not None else _Early(self._attempt(endpoint, permission, what, call), made=True)
            if early.made and isinstance(early.answer, Unreadable):
                self._note(endpoint, early.answer, self._seen)
            self._sink.append((key, early))
            return early.answer
        waiting = self._early.get(key)
        early = waiting.pop(0) if waiting else None
        blocked = self._blocked_for(endpoint, self._blocked)
        if blocked is not None:
            return blocked
        # Not issued, or not made then because of a failure that (in verify's order) comes after it: read it now.
        answer = early.answer if early is not None and early.made else self._attempt(endpoint, permission, what, call)
        if isinstance(answer, Unreadable):
            self._note(endpoint, answer, self._blocked)
        return answer

    @staticmethod
    def _blocked_for(endpoint: str, failed: Mapping[str, Unreadable]) -> Optional[Unreadable]:
        return failed.get(endpoint) or failed.get("credentials")

    @staticmethod
    def _note(endpoint: str, problem: Unreadable, failed: dict[str, Unreadable]) -> None:
        """Remember an endpoint that did not answer, or credentials that failed (the first such answer stays)."""
        if problem.kind == "unreachable":
            failed.setdefault(endpoint, problem)
        elif problem.kind == "credentials":
            failed.setdefault("credentials", problem)

    def _attempt(self, endpoint: str, permission: str, what: str, call: Callable[[], Json]) -> Read:
        """`call`'s JSON, or why there is none: the read itself, with no bookkeeping."""
        try:
            return call()
        except _HttpStatus as exc:
            return _status_problem(exc.status, exc.message, permission, what, self._dest)
        except google.auth.exceptions.GoogleAuthError as exc:
            return Unreadable("credentials", f"could not get an access token to read {what}: {str(exc)[:MAX_MESSAGE]}", LOGIN_FIX)
        except requests.exceptions.Timeout:
            return self._unreachable(endpoint, what, f"no answer within {TIMEOUT_SECONDS:g} s")
        except requests.exceptions.RequestException as exc:
            return self._unreachable(endpoint, what, f"connection failed: {type(exc).__name__}")
        except Exception as exc:  # noqa: BLE001 (a surprise must not end verify; the check says what it was)
            return Unreadable("error", f"reading {what} failed: {type(exc).__name__}: {str(exc)[:MAX_MESSAGE]}")

    def _unreachable(self, endpoint: str, what: str, reason: str) -> Unreadable:
        return Unreadable(
            "unreachable",
            f"{endpoint} could not be reached ({reason}), so {what} was not read",
            f"check that {endpoint} is reachable from here (proxy, firewall, VPC Service Controls), then run verify again",
        )

    def _json(self, method: str, url: str, body: Optional[Json] = None, params: Optional[Mapping[str, str]] = None) -> Json:
        # google-auth leaves `timeout` unannotated, so its int default reads as its type; requests takes a float.
        response = self._session.request(
            method, url, json=body, params=params, timeout=TIMEOUT_SECONDS  # pyright: ignore[reportArgumentType]
        )
        if response.status_code != 200:
            raise _HttpStatus(response.status_code, _api_message(response.text))
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        return data

    def _iam(self, method: str, path: str, body: Optional[Json] = None) -> Json:
        return self._json(method, f"{self._iam_url}/v1/{path}", body)

    def pool(self) -> Read:
        return self._guarded(self._iam_url, POOL_GET, f"pool {self._dest.pool_name}", lambda: self._iam("GET", self._dest.pool_name))

    def provider(self) -> Read:
        return self._guarded(
            self._iam_url, PROVIDER_GET, f"provider {self._dest.provider_name}", lambda: self._iam("GET", self._dest.provider_name)
        )

    def providers(self) -> Read:
        """Every provider of the pool: each one mints the same principals, so each must be Tavus's."""

        def read() -> Json:
            found: list[Any] = []
            params: dict[str, str] = {}
            for _ in range(MAX_PAGES):
                page = self._json("GET", f"{self._iam_url}/v1/{self._dest.pool_name}/providers", params=params)
                found += page.get("workloadIdentityPoolProviders") or []
                if not page.get("nextPageToken"):
                    return {"workloadIdentityPoolProviders": found}
                params = {"pageToken": str(page["nextPageToken"])}
            raise ValueError(_TOO_MANY)

        return self._guarded(self._iam_url, PROVIDERS_LIST, f"the providers of pool {self._dest.pool_name}", read)

    def _account_path(self) -> str:
        # `projects/-/` answers 403 for a missing account; naming its project gives an honest 404.
        return f"projects/{self._dest.account_project}/serviceAccounts/{quote(self._dest.email, safe='@')}"

    def account(self) -> Read:
        return self._guarded(
            self._iam_url, ACCOUNT_GET, f"service account {self._dest.email}", lambda: self._iam("GET", self._account_path())
        )

    def account_policy(self) -> Read:
        return self._guarded(
            self._iam_url,
            ACCOUNT_POLICY_GET,
            f"the IAM policy of service account {self._dest.email}",
            lambda: self._iam("POST", f"{self._account_path()}:getIamPolicy", {"options": {"requestedPolicyVersion": 3}}),
        )

    def other_account_policy(self, email: str) -> Read:
        """The IAM policy of another service account (one that holds a role on the bucket): who can act as it. Its
        project from its email, else `-` (a missing account then answers 403, not 404)."""
        match = re.search(r"@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$", email)
        path = f"projects/{match.group(1) if match else '-'}/serviceAccounts/{quote(email, safe='@')}"
        return self._guarded(
            self._iam_url,
            ACCOUNT_POLICY_GET,
            f"the IAM policy of service account {email}",
            lambda: self._iam("POST", f"{path}:getIamPolicy", {"options": {"requestedPolicyVersion": 3}}),
        )

    def keys(self) -> Read:
        return self._guarded(
            self._iam_url, KEYS_LIST, f"the keys of service account {self._dest.email}", lambda: self._iam("GET", f"{self._account_path()}/keys")
        )

    def hmac_keys(self) -> Read:
        def read() -> Json:
            items: list[Any] = []
            params = {"serviceAccountEmail": self._dest.email}
            for _ in range(MAX_PAGES):
                page = self._json("GET", f"{self._storage_url}/storage/v1/projects/{quote(self._dest.project_id)}/hmacKeys", params=params)
                items += page.get("items") or []
                if not page.get("nextPageToken"):
                    return {"items": items}
                params = {**params, "pageToken": str(page["nextPageToken"])}
            raise ValueError(_TOO_MANY)

        return self._guarded(self._storage_url, HMAC_KEYS_LIST, f"the HMAC keys of service account {self._dest.email}", read)

    def project_policy(self) -> Read:
        return self._guarded(
            self._crm_url,
            PROJECT_POLICY_GET,
            f"the IAM policy of project {self._dest.project_id}",
            lambda: self._json("POST", f"{self._crm_url}/v1/projects/{quote(self._dest.project_id)}:getIamPolicy",
                               {"options": {"requestedPolicyVersion": 3}}),
        )

    def bucket(self) -> Read:
        return self._guarded(
            self._storage_url, BUCKET_GET, f"bucket {self._dest.bucket}",
            lambda: self._json("GET", f"{self._storage_url}/storage/v1/b/{quote(self._dest.bucket, safe='')}"),
        )

    def bucket_policy(self) -> Read:
        return self._guarded(
            self._storage_url,
            BUCKET_POLICY_GET,
            f"the IAM policy of bucket {self._dest.bucket}",
            # Version 3, so conditional bindings come back with their conditions rather than an error.
            lambda: self._json("GET", f"{self._storage_url}/storage/v1/b/{quote(self._dest.bucket, safe='')}/iam",
                               params={"optionsRequestedPolicyVersion": "3"}),
        )


    def managed_folders(self) -> Read:
        """The bucket's managed folders ({"items": [...]}), at most MAX_MANAGED_FOLDERS of them."""
        bucket = quote(self._dest.bucket, safe="")

        def read() -> Json:
            items: list[Any] = []
            params: dict[str, str] = {}
            too_many = f"bucket {self._dest.bucket} has more than {MAX_MANAGED_FOLDERS} managed folders, more than verify reads"
            for _ in range(MAX_PAGES + MAX_MANAGED_FOLDERS):  # pages of at least one folder, past a few empty ones
                page = self._json("GET", f"{self._storage_url}/storage/v1/b/{bucket}/managedFolders", params=params)
                listed = page.get("items") or []
                items += listed if isinstance(listed, list) else [listed]
                if len(items) > MAX_MANAGED_FOLDERS:
                    raise ValueError(too_many)
                if not page.get("nextPageToken"):
                    return {"items": items}
                params = {"pageToken": str(page["nextPageToken"])}
            raise ValueError(too_many)

        return self._guarded(self._storage_url, MANAGED_FOLDERS_LIST, f"the managed folders of bucket {self._dest.bucket}", read)

    def managed_folder_policy(self, folder: str) -> Read:
        return self._guarded(
            self._storage_url,
            MANAGED_FOLDER_POLICY_GET,
            f"the IAM policy of managed folder {folder} of bucket {self._dest.bucket}",
            lambda: self._json("GET", f"{self._storage_url}/storage/v1/b/{quote(self._dest.bucket, safe='')}/managedFolders/"
                                      f"{quote(folder, safe='')}/iam", params={"optionsRequestedPolicyVersion": "3"}),
        )


    def key_policy(self, key: str) -> Read:
        """The IAM policy of Cloud KMS key `key` (projects/.../cryptoKeys/<name>): a GET with the version as a query
        parameter (cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys/getIamPolicy)."""
        return self._guarded(
            self._kms_url,
            KEY_POLICY_GET,
            f"the IAM policy of key {key}",
            lambda: self._json("GET", f"{self._kms_url}/v1/{quote(key, safe='/')}:getIamPolicy",
                               params={"options.requestedPolicyVersion": "3"}),
        )


def default_credentials() -> Credentials:
    """Application Default Credentials (google.auth.default's own annotation names a module it never imports)."""
    credentials, _ = google.auth.default(scopes=list(SCOPES))
    return credentials
