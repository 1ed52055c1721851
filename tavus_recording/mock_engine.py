"""Run the program on Pulumi's mock engine: no Pulumi CLI, no cloud account, no network.

The mocks answer each registration with the computed outputs a real deploy would give, shaped
like the real thing; parts that only exist after a deploy (account ids, random suffixes) are
written as `<...>` placeholders. The monitor records every registration, with the options a
security reviewer cares about (parent, retain_on_delete, protect, depends_on).
"""

from __future__ import annotations

import asyncio
import json
import runpy
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

import pulumi
from pulumi.runtime import resource as sdk_resource, rpc, settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from tavus_recording.collector import collecting_less
from tavus_recording.stack_files import PROJECT_DIR

PLACEHOLDER_NOTE = (
    "<...> marks a value known only after `pulumi up` (account, project, subscription or tenant id, random suffix) "
    "or read from the cloud when it runs (an existing bucket's region)."
)
ACCOUNT_PLACEHOLDER = "<account-id>"
PROJECT_NUMBER_PLACEHOLDER = "<project-number>"
SUBSCRIPTION_PLACEHOLDER = "<subscription-id>"
TENANT_PLACEHOLDER = "<tenant-id>"
SUFFIX_PLACEHOLDER = "<random>"
BUCKET_REGION_PLACEHOLDER = "<bucket-region>"

# Every placeholder a plan can show, and what it stands for (the plan lists the ones it shows).
PLACEHOLDERS = {
    ACCOUNT_PLACEHOLDER: "the id of the AWS account the stack deploys into",
    PROJECT_NUMBER_PLACEHOLDER: "the Google Cloud project's number (the plan knows its id, not its number)",
    SUBSCRIPTION_PLACEHOLDER: "the id of the Azure subscription the stack deploys into",
    TENANT_PLACEHOLDER: "the id of the subscription's Entra tenant",
    SUFFIX_PLACEHOLDER: "the random suffix Pulumi gives an auto-named resource when it creates it",
    BUCKET_REGION_PLACEHOLDER: "the existing bucket's region, which S3 tells when `pulumi up` reads it",
    "<deployer-client-id>": "the client id of the identity that runs `pulumi up`",
    "<deployer-object-id>": "the object id of the identity that runs `pulumi up`",
    "<identity-client-id>": "the managed identity's client id, assigned by Azure when it is created",
    "<identity-principal-id>": "the managed identity's principal (object) id, assigned by Azure when it is created",
    "<unique-id>": "the service account's numeric unique id, assigned by Google when it is created",
    "<hash of subscription, stack, component>": (
        "8 characters hashed from the subscription id, stack and component name: the default storage account "
        "name's suffix, known once the subscription is"
    ),
}


def stand_in_id(name: str) -> str:
    """The id the mocks give a resource whose real id they cannot shape: it says nothing about the real one."""
    return f"{name}-id"


@dataclass
class Read:
    """One lookup the program made (a data source): read from the cloud, never created or changed."""

    token: str
    args: dict[str, Any]


@dataclass
class Registration:
    """One resource the program registered, as the engine saw it."""

    type: str
    name: str
    custom: bool
    parent: str
    protect: bool
    retain_on_delete: bool
    depends_on: list[str]
    inputs: dict[str, Any]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return f"{self.type}::{self.name}"

    @property
    def mock_id(self) -> bool:
        """Whether the id is the mocks' stand-in rather than one shaped like the provider's."""
        return self.custom and self.id == stand_in_id(self.name)


class PlanMocks(pulumi.runtime.Mocks):
    """Computed outputs for the resource types this kit creates."""

    def __init__(self, config: Optional[Mapping[str, str]] = None) -> None:
        config = config or {}
        self.aws_region = config.get("aws:region")
        self.gcp_project = config.get("gcp:project")
        self.azure_location = config.get("azure-native:location")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        inputs = dict(args.inputs)
        # Classic providers autoname `<name>-<7 chars>`; azure-native appends 8 with no hyphen.
        separator = "" if args.typ.startswith("azure-native:") else "-"
        auto_name = f"{args.name}{separator}{SUFFIX_PLACEHOLDER}"
        computed = _COMPUTED.get(args.typ)
        if computed:
            id_, outputs = computed(self, inputs, auto_name)
            return id_, {**inputs, **outputs}
        if "bucket" in inputs:
            # Bucket sub-resources are identified by their bucket.
            return inputs["bucket"], inputs
        return stand_in_id(args.name), inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        # By name, so a test's subclass can answer a lookup otherwise.
        answer = _LOOKUPS.get(args.token)
        return (getattr(self, answer)(dict(args.args)) if answer else {}), []

    def _client_config(self, args: dict) -> dict:
        return {
            "subscriptionId": SUBSCRIPTION_PLACEHOLDER,
            "tenantId": TENANT_PLACEHOLDER,
            "clientId": "<deployer-client-id>",
            "objectId": "<deployer-object-id>",
        }

    # Existing storage: what the lookup answers for a bucket or container that exists. Its region
    # is S3's to tell, so the plan shows a placeholder rather than assume the provider's.

    def _existing_s3_bucket(self, args: dict) -> dict:
        # S3's data source answers only where the bucket is (a HeadBucket from elsewhere is a redirect,
        # which fails it): asked in a region, a bucket that is found is in that region.
        bucket, region = args["bucket"], args.get("region")
        return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "bucketRegion": region or BUCKET_REGION_PLACEHOLDER,
                "region": region or self.aws_region}

    # The SDK types a bucket's project number as an int, so no placeholder fits: the plan's bucket and
    # project share a stand-in number (the check that they match is the point; the number is never shown).
    STAND_IN_PROJECT_NUMBER = 0

    def _existing_gcs_bucket(self, args: dict) -> dict:
        return {"name": args["name"], "project": self._project(args), "projectNumber": self.STAND_IN_PROJECT_NUMBER,
                "url": f"gs://{args['name']}"}

    def _gcp_project(self, args: dict) -> dict:
        project = args.get("projectId") or self.gcp_project
        return {"projectId": project, "number": str(self.STAND_IN_PROJECT_NUMBER), "name": project}

    def _storage_service_agent(self, args: dict) -> dict:
        # Google names the project's Cloud Storage service agent by the project's number.
        email = f"service-{PROJECT_NUMBER_PLACEHOLDER}@gs-project-accounts.iam.gserviceaccount.com"
        return {"emailAddress": email, "member": f"serviceAccount:{email}", "project": self._project(args),
                "id": self._project(args)}

    # The project's IAM policy as the data source gives it (JSON with bindings and auditConfigs): a project with
    # no audit config. A test's subclass answers with one to see the kit merge it.
    PROJECT_IAM_POLICY: dict = {}

    def _project_iam_policy(self, args: dict) -> dict:
        project = self._project(args)
        return {"policyData": json.dumps(self.PROJECT_IAM_POLICY), "project": project, "id": f"projects/{project}"}

    def _existing_blob_container(self, args: dict) -> dict:
        account = f"{_azure_group_id(args)}/providers/Microsoft.Storage/storageAccounts/{args['accountName']}"
        return {"id": f"{account}/blobServices/default/containers/{args['containerName']}", "name": args["containerName"]}

    # --- AWS

    # Who deploys, where, in which partition: the account is known only once credentials are.
    def _aws_caller_identity(self, args: dict) -> dict:
        return {"accountId": ACCOUNT_PLACEHOLDER, "id": ACCOUNT_PLACEHOLDER, "arn": f"arn:aws:iam::{ACCOUNT_PLACEHOLDER}:root",
                "userId": ACCOUNT_PLACEHOLDER}

    def _aws_region(self, args: dict) -> dict:
        region = args.get("region") or self.aws_region
        return {"region": region, "name": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}

    def _aws_partition(self, args: dict) -> dict:
        return {"partition": "aws", "id": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}

    def _s3_bucket(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        bucket = inputs.get("bucket") or auto_name
        region = inputs.get("region") or self.aws_region
        return bucket, {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": region, "bucketRegion": region}

    def _cloudtrail_trail(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        trail = inputs.get("name") or auto_name
        region = inputs.get("region") or self.aws_region
        return trail, {"name": trail, "arn": f"arn:aws:cloudtrail:{region}:{ACCOUNT_PLACEHOLDER}:trail/{trail}",
                       "homeRegion": region, "region": region}

    def _iam_role(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        role = inputs.get("name") or auto_name
        return role, {"name": role, "arn": f"arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/{role}"}

    def _iam_role_policy(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        return f"{inputs.get('role')}:{auto_name}", {}

    # --- GCP

    def _project(self, inputs: dict) -> Optional[str]:
        return inputs.get("project") or self.gcp_project

    def _gcs_bucket(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        bucket = inputs.get("name") or auto_name
        return bucket, {"name": bucket, "project": self._project(inputs), "url": f"gs://{bucket}"}

    def _pool(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        name = f"projects/{PROJECT_NUMBER_PLACEHOLDER}/locations/global/workloadIdentityPools/{inputs['workloadIdentityPoolId']}"
        return name, {"name": name, "state": "ACTIVE"}

    def _pool_provider(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        pool = f"projects/{PROJECT_NUMBER_PLACEHOLDER}/locations/global/workloadIdentityPools/{inputs['workloadIdentityPoolId']}"
        name = f"{pool}/providers/{inputs['workloadIdentityPoolProviderId']}"
        return name, {"name": name, "state": "ACTIVE"}

    def _service_account(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        email = f"{inputs['accountId']}@{self._project(inputs)}.iam.gserviceaccount.com"
        name = f"projects/{self._project(inputs)}/serviceAccounts/{email}"
        return name, {"name": name, "email": email, "member": f"serviceAccount:{email}", "uniqueId": "<unique-id>"}

    # --- Azure

    def _resource_group(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        name = inputs.get("resourceGroupName") or auto_name
        location = inputs.get("location") or self.azure_location
        return f"/subscriptions/{SUBSCRIPTION_PLACEHOLDER}/resourceGroups/{name}", {"name": name, "location": location}

    def _storage_account(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        name = inputs.get("accountName") or auto_name
        id_ = f"{_azure_group_id(inputs)}/providers/Microsoft.Storage/storageAccounts/{name}"
        outputs = {"name": name, "location": inputs.get("location") or self.azure_location}
        identity = inputs.get("identity")
        if identity:
            # Azure answers with a map from each user-assigned identity's id to its ids, not the list sent.
            assigned = {i: {"clientId": "<identity-client-id>", "principalId": "<identity-principal-id>"}
                        for i in identity.get("userAssignedIdentities") or []}
            outputs["identity"] = {**identity, "userAssignedIdentities": assigned}
        return id_, outputs

    def _blob_container(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        name = inputs.get("containerName") or auto_name
        account = f"{_azure_group_id(inputs)}/providers/Microsoft.Storage/storageAccounts/{inputs['accountName']}"
        return f"{account}/blobServices/default/containers/{name}", {"name": name}

    def _immutability_policy(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        # A new policy is Unlocked: only the CLI's lock step (a POST azure-native lacks) makes it Locked.
        account = f"{_azure_group_id(inputs)}/providers/Microsoft.Storage/storageAccounts/{inputs['accountName']}"
        return (f"{account}/blobServices/default/containers/{inputs['containerName']}/immutabilityPolicies/default",
                {"name": "default", "state": "Unlocked", "etag": '"<etag>"'})

    def _managed_identity(self, inputs: dict, auto_name: str) -> tuple[str, dict]:
        name = inputs.get("resourceName") or auto_name
        id_ = f"{_azure_group_id(inputs)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        return id_, {
            "name": name,
            "clientId": "<identity-client-id>",
            "principalId": "<identity-principal-id>",
            "tenantId": TENANT_PLACEHOLDER,
            "location": inputs.get("location") or self.azure_location,
        }


def _azure_group_id(inputs: dict) -> str:
    return f"/subscriptions/{SUBSCRIPTION_PLACEHOLDER}/resourceGroups/{inputs['resourceGroupName']}"


_LOOKUPS = {
    "azure-native:authorization:getClientConfig": "_client_config",
    "aws:s3/getBucket:getBucket": "_existing_s3_bucket",
    "aws:index/getCallerIdentity:getCallerIdentity": "_aws_caller_identity",
    "aws:index/getRegion:getRegion": "_aws_region",
    "aws:index/getPartition:getPartition": "_aws_partition",
    "gcp:storage/getBucket:getBucket": "_existing_gcs_bucket",
    "gcp:organizations/getProject:getProject": "_gcp_project",
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": "_storage_service_agent",
    "gcp:projects/getIamPolicy:getIamPolicy": "_project_iam_policy",
    "azure-native:storage:getBlobContainer": "_existing_blob_container",
}

_COMPUTED = {
    "aws:s3/bucket:Bucket": PlanMocks._s3_bucket,
    "aws:cloudtrail/trail:Trail": PlanMocks._cloudtrail_trail,
    "aws:iam/role:Role": PlanMocks._iam_role,
    "aws:iam/rolePolicy:RolePolicy": PlanMocks._iam_role_policy,
    "gcp:storage/bucket:Bucket": PlanMocks._gcs_bucket,
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": PlanMocks._pool,
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": PlanMocks._pool_provider,
    "gcp:serviceaccount/account:Account": PlanMocks._service_account,
    "azure-native:resources:ResourceGroup": PlanMocks._resource_group,
    "azure-native:storage:StorageAccount": PlanMocks._storage_account,
    "azure-native:storage:BlobContainer": PlanMocks._blob_container,
    "azure-native:storage:BlobContainerImmutabilityPolicy": PlanMocks._immutability_policy,
    "azure-native:managedidentity:UserAssignedIdentity": PlanMocks._managed_identity,
}


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every registration with its resource options."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.reads: list[Read] = []
        # The components by short URN, for their outputs: scanning every registration for each component's
        # outputs would make a program of many components quadratic.
        self._components: dict[str, list[Registration]] = {}

    # The SDK calls the monitor from its event loop's thread pool, and MockMonitor gives each worker
    # thread an event loop of its own (`_ensure_event_loop`) that nobody closes. Left to the garbage
    # collector at interpreter exit, such a loop may be finalized after its self-pipe socket, and
    # `BaseEventLoop.__del__` then prints "Exception ignored ... Invalid file descriptor: -1" on stderr.
    # So a loop made for one call is closed when the call returns.

    def Invoke(self, request: Any) -> Any:
        with _worker_loop_closed_after():
            self.reads.append(Read(token=request.tok, args=rpc.deserialize_properties(request.args)))
            return super().Invoke(request)

    def ReadResource(self, request: Any) -> Any:
        with _worker_loop_closed_after():
            return super().ReadResource(request)

    def RegisterResource(self, request: Any) -> Any:
        with _worker_loop_closed_after():
            return self._register_resource(request)

    def _register_resource(self, request: Any) -> Any:
        if request.custom or request.remote or request.type == "pulumi:pulumi:Stack":
            response = super().RegisterResource(request)
        else:
            # A local component is the engine's own record: no provider (so no mock) makes it, and it has no id
            # or provider state, as a real engine answers. The mocks' round for it cost a share of a plan of
            # many components.
            response = resource_pb2.RegisterResourceResponse(urn=self.make_urn(request.parent, request.type, request.name))
            self.resources[response.urn] = MockMonitor.ResourceRegistration(response.urn, "", {})
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            registered = self.resources.get(urn)
            registration = Registration(
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=_short_urn(request.parent),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                depends_on=[_short_urn(dep) for dep in request.dependencies],
                inputs=rpc.deserialize_properties(request.object),
                id=registered.id if registered else "",
                outputs=dict(registered.state) if registered else {},
            )
            self.registrations.append(registration)
            if not registration.custom:
                self._components.setdefault(registration.urn, []).append(registration)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        # A component's registered outputs are its state, as the policy pack's stack policies see them.
        with _worker_loop_closed_after():
            components = self._components.get(_short_urn(request.urn), [])
            outputs = rpc.deserialize_properties(request.outputs) if components else {}
            for registration in components:
                registration.outputs = {**registration.outputs, **outputs}
            return super().RegisterResourceOutputs(request)


@contextmanager
def _worker_loop_closed_after() -> Iterator[None]:
    """Close the event loop a monitor call made for its worker thread (see RecordingMonitor)."""
    if threading.current_thread() is threading.main_thread():
        yield  # the main thread's loop is the program's own, and outlives the call
        return
    try:
        asyncio.get_event_loop()
        had_loop = True
    except RuntimeError:  # a worker thread with no loop yet
        had_loop = False
    try:
        yield
    finally:
        if not had_loop:
            try:
                loop = asyncio.get_event_loop()
            except RuntimeError:
                loop = None
            if loop is not None and not loop.is_running():
                asyncio.set_event_loop(None)
                loop.close()


def _short_urn(urn: str) -> str:
    """`type::name` of a URN (the part that identifies a resource within one stack)."""
    if not urn:
        return ""
    parts = urn.split("::")
    return f"{parts[2].split('$')[-1]}::{parts[3]}"


@dataclass
class ProgramRun:
    """What one run of the program registered and exported."""

    registrations: list[Registration]
    outputs: dict[str, Any]
    reads: list[Read] = field(default_factory=list)
    # The outputs Pulumi would store and show as secrets.
    secret_outputs: set[str] = field(default_factory=set)

    def find(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str) -> Registration:
        found = self.find(type_)
        if len(found) != 1:
            raise LookupError(f"expected one {type_}, found {len(found)}")
        return found[0]


# How long a failed run's leftovers may take to finish before the next run starts.
_SETTLE_SECONDS = 0.25


def _no_stack_trace() -> Any:
    """The SDK's own answer when it finds no frame of the program's: an empty trace."""
    return source_pb2.StackTrace()


@contextmanager
def _without_stack_traces() -> Iterator[None]:
    """For every resource it registers, the SDK walks the whole Python stack (each frame's file, line and source text)
    to tell the engine where the resource was declared. The mock monitor never reads it, and the walk costs more the
    deeper the stack: under a component, under the command's own frames. So during a mock run the SDK is given its
    own answer for a stack with no program frame; put back at the end. (A newer SDK without the function: nothing.)"""
    walk = getattr(sdk_resource, "_get_stack_trace", None)
    if walk is None:
        yield
        return
    setattr(sdk_resource, "_get_stack_trace", _no_stack_trace)
    try:
        yield
    finally:
        setattr(sdk_resource, "_get_stack_trace", walk)


def _settle_previous_run() -> None:
    """Let whatever a previous run left on the event loop finish, before the next run's settings exist.

    A program that failed leaves applies and registrations pending; run after the next run is
    configured, they would report their error into it. They are drained (not cancelled: the SDK keeps
    some futures across runs, such as package references), and only what is still stuck is cancelled.
    """
    loop = _ensure_event_loop()
    leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if leftovers and not loop.is_running():
        _, stuck = loop.run_until_complete(asyncio.wait(leftovers, timeout=_SETTLE_SECONDS))
        for task in stuck:
            task.cancel()
    # The SDK awaits every output it tracks before a run ends; the failed run's are done with.
    settings: Any = runtime_settings.SETTINGS  # its attributes are set in __init__, unannotated
    with settings.lock:
        settings.outputs.clear()


def run_program(
    config: Mapping[str, str],
    stack: str = "dev",
    project: str = "tavus-recording",
    program: Path = PROJECT_DIR / "__main__.py",
    monitor: Optional[RecordingMonitor] = None,
    secret_keys: tuple[str, ...] = (),
) -> ProgramRun:
    """Run `program` with `config` on the mock engine; raises what the program raises.

    Pass a `monitor` to see what was registered even when the program fails, and `secret_keys` for
    config values set with `pulumi config set --secret`. Meanwhile the garbage collector runs seldom
    (tavus_recording.collector) and the SDK records no stack traces (_without_stack_traces); both are put back.
    """
    with collecting_less(), _without_stack_traces():
        _settle_previous_run()
        monitor = monitor or RecordingMonitor(PlanMocks(config))
        runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
        pulumi.runtime.set_all_config(dict(config), list(secret_keys))
        pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor)

        def run() -> None:
            runpy.run_path(str(program), run_name="__main__")

        _sync_await(run_pulumi_func(run))

        root = runtime_settings.get_root_resource()
        exported = {name: pulumi.Output.from_input(value) for name, value in (getattr(root, "outputs", {}) or {}).items()}
        outputs = {name: _sync_await(value.future()) for name, value in exported.items()}
        secrets = {name for name, value in exported.items() if _sync_await(value.is_secret())}
    return ProgramRun(registrations=monitor.registrations, outputs=outputs, reads=monitor.reads, secret_outputs=secrets)


def close_event_loop() -> None:
    """End this process's runs: let what is pending finish, stop the thread pool, close the event loop.

    For a command that has what it needs from its run and is about to exit. Left to the interpreter's
    shutdown, the loop and anything still pending on it are finalized in no set order, which can print
    "Task was destroyed but it is pending!" or "Exception ignored in ... BaseEventLoop.__del__" on stderr.
    No run can follow in this process.
    """
    loop = _ensure_event_loop()
    if loop.is_running() or loop.is_closed():
        return
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    asyncio.set_event_loop(None)
    loop.close()


def run_component(build: Any, config: Optional[Mapping[str, str]] = None, mocks: Optional[PlanMocks] = None) -> tuple[ProgramRun, Any]:
    """Build a component with `build()` on the mock engine; returns the run and what `build` returned.

    `mocks` answers registrations and lookups otherwise (a subclass of PlanMocks). The collector and stack traces as in run_program."""
    config = config if config is not None else {
        "aws:region": "us-east-1",
        "gcp:project": "acme-recordings",
        "azure-native:location": "eastus",
    }
    with collecting_less(), _without_stack_traces():
        _settle_previous_run()
        monitor = RecordingMonitor(mocks or PlanMocks(config))
        runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
        pulumi.runtime.set_all_config(dict(config))
        pulumi.runtime.set_mocks(monitor.mocks, project="tavus-recording", stack="test", preview=False, monitor=monitor)
        built: list[Any] = []
        _sync_await(run_pulumi_func(lambda: built.append(build())))
    return ProgramRun(registrations=monitor.registrations, outputs={}, reads=monitor.reads), built[0]


def resolve(output: Any) -> Any:
    """The value of an Output after a mock run."""
    return _sync_await(pulumi.Output.from_input(output).future())
