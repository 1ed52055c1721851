"""`GcsRecordingStorage`: a private, versioned Cloud Storage bucket (or one you already have) Tavus
writes to through workload identity federation; optionally WORM (a bucket retention policy) and audited
(Cloud Storage Data Access audit logs for the project).

The trust settings come from `components.gcp_policy`; this module only wires them into resources.
"""

from typing import Mapping, NamedTuple, NotRequired, Optional, TypedDict

import pulumi
import pulumi_gcp as gcp

from components import compliance, gcp_policy, tavus
from components.lifecycle import DEFAULT_NONCURRENT_VERSION_DAYS
from components.tags import with_default


class GcsRecordingStorageArgs(TypedDict):
    """Inputs of `GcsRecordingStorage`: Tavus's issuer and subject, the rest optional."""

    tavus_oidc_issuer: pulumi.Input[str]
    """https issuer URL of the tokens Tavus presents (Tavus's recording guide, GCS tab)."""
    tavus_oidc_subject: pulumi.Input[str]
    """Subject claim of the tokens Tavus presents; the only identity the pool admits."""
    tavus_oidc_audience: NotRequired[pulumi.Input[str]]
    """Audience Tavus's tokens carry; absent: the provider's own resource name, GCP's default."""
    bucket_name: NotRequired[pulumi.Input[str]]
    """Name of the bucket to create; auto-named from the component name when absent."""
    existing_bucket: NotRequired[pulumi.Input[str]]
    """An existing bucket (in the provider's project) to grant Tavus on instead: no bucket is created and none of its settings change."""
    location: NotRequired[pulumi.Input[str]]
    """Bucket location; default `US`."""
    kms_key_name: NotRequired[pulumi.Input[str]]
    """Cloud KMS key (projects/.../cryptoKeys/...) the bucket encrypts with by default, in the bucket's location; the project's Cloud Storage service agent is granted its use. Absent: Google-managed keys."""
    retention_days: NotRequired[pulumi.Input[int]]
    """Delete recordings this many days after upload; absent or 0 keeps them."""
    noncurrent_version_days: NotRequired[pulumi.Input[int]]
    """Delete superseded versions this many days after they stop being current."""
    cold_after_days: NotRequired[pulumi.Input[int]]
    """Move live recordings to Nearline this many days after upload (billed 30 days there at least); absent or 0: off."""
    workload_identity_pool_id: NotRequired[pulumi.Input[str]]
    """Pool id; default from the component and stack names. Deleted ids stay taken for 30 days."""
    workload_identity_provider_id: NotRequired[pulumi.Input[str]]
    """Provider id within the pool; default `tavus`."""
    service_account_id: NotRequired[pulumi.Input[str]]
    """Writer service account id; default from the component and stack names."""
    tags: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """Labels on the bucket; `managed-by: tavus-recording` is added."""
    immutable_days: NotRequired[pulumi.Input[int]]
    """WORM: a bucket retention policy of this many days: no recording can be deleted or replaced until it is that old. Object Versioning goes off (Cloud Storage refuses it beside a retention policy). A plain value, known when the component is built."""
    immutable_mode: NotRequired[pulumi.Input[str]]
    """With immutable_days: `governance` (default; the policy stays unlocked, so anyone with storage.buckets.update can shorten or remove it) or `compliance` (the policy is locked: irreversible, the period can only grow)."""
    audit_logs: NotRequired[pulumi.Input[bool]]
    """Turn on Data Access audit logs (DATA_READ, DATA_WRITE) for storage.googleapis.com in the bucket's project: every bucket of the project, merged with the project's existing config for the service and kept on destroy."""
    manage_apis: NotRequired[pulumi.Input[bool]]
    """Enable the project services the trust and the bucket need (default True); False leaves them to the platform
    team and creates no Service resource. A plain value (it decides which resources exist)."""
    tavus_access: NotRequired[pulumi.Input[str]]
    """`granted` (default) or `revoked`: revoked disables the pool and its provider (kept, so a re-grant reuses their ids), removes the impersonation binding and the writer's bucket grant, and keeps the bucket and every setting on it; it decides which resources exist, so it must be known when the component is built (a plain value, not another resource's output)."""


class _Bucket(NamedTuple):
    name: pulumi.Output[str]
    project: pulumi.Output[str]
    # The member the stack grants the bucket's default key to (its project's Cloud Storage service agent), if any.
    storage_agent: Optional[pulumi.Output[str]] = None


class GcsRecordingStorage(pulumi.ComponentResource):
    """A Cloud Storage destination for Tavus recordings, and the `recording_storage` object that points at it."""

    recording_storage: pulumi.Output[dict[str, str]]
    """The `recording_storage` object for POST /v2/conversations."""
    bucket_name: pulumi.Output[str]
    """Name of the bucket recordings are written to."""
    workload_identity_provider: pulumi.Output[str]
    """Resource name of the OIDC provider Tavus exchanges its token at (projects/<number>/locations/global/...)."""
    service_account_email: pulumi.Output[str]
    """Email of the writer service account Tavus impersonates."""
    tavus_access: pulumi.Output[str]
    """`granted` or `revoked`; when revoked, `recording_storage` is None."""

    def __init__(
        self,
        name: str,
        args: GcsRecordingStorageArgs,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("tavus-recording:index:GcsRecordingStorage", name, None, opts)
        revoked = tavus.access_revoked(args.get("tavus_access"))  # a bad value fails before any resource
        worm_days, worm_mode = compliance.worm(args.get("immutable_days"), args.get("immutable_mode")) or (None, None)
        audit_logs = compliance.audit_on(args.get("audit_logs"))
        manage_apis = compliance.plain_flag("manage_apis", args.get("manage_apis"), True)

        stack = pulumi.get_stack()
        subject = pulumi.Output.from_input(args["tavus_oidc_subject"])
        child = pulumi.ResourceOptions(parent=self)
        # An empty name from another language's SDK means "not set", like an absent one.
        existing = args.get("existing_bucket") or None
        if existing is not None and (worm_days is not None or audit_logs):
            raise ValueError("immutable_days and audit_logs apply to a bucket the component creates; it changes none of an "
                             "existing bucket's settings (existing_bucket)")

        # Left enabled on destroy: other workloads in the project may rely on them. Not managed at all with
        # manage_apis false: the platform team's, and every chain then starts without the provider's batching delay.
        services = {} if not manage_apis else {
            service: gcp.projects.Service(
                f"{name}-{service.split('.')[0]}",
                service=service,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=child,
            )
            # An existing bucket means the Storage API is on already: the kit leaves the project's storage be.
            for service in (gcp_policy.REQUIRED_SERVICES if existing is None else gcp_policy.IAM_SERVICES)
        }
        # Pools, providers and service accounts are made through the IAM API alone; STS and IAM Credentials are
        # called only when Tavus exchanges a token and impersonates the writer, so nothing here waits for them.
        iam_ready = child.merge(pulumi.ResourceOptions(depends_on=_listed(services.get(gcp_policy.IAM_API))))
        if existing is None:
            bucket = self._create_bucket(name, args, services.get(gcp_policy.STORAGE_SERVICE), worm_days, worm_mode)
        else:
            bucket = self._find_bucket(existing)
        if audit_logs:
            self._log_data_access(name, bucket.project)

        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            workload_identity_pool_id=args.get("workload_identity_pool_id")
            or gcp_policy.default_pool_id(name, stack),
            display_name="Tavus recording",
            description="Tavus's recording service, federated to write conversation recordings",
            # Revoked: disabled, not deleted. A disabled pool exchanges no token and makes the federated tokens
            # already issued useless (deleting the provider would not: its tokens keep working); a deleted pool's
            # id stays taken for 30 days, and re-enabling is an instant re-grant.
            disabled=revoked,
            opts=iam_ready,
        )
        provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-provider",
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=args.get("workload_identity_provider_id")
            or gcp_policy.DEFAULT_PROVIDER_ID,
            display_name="Tavus",
            disabled=revoked,
            attribute_mapping=gcp_policy.ATTRIBUTE_MAPPING,
            attribute_condition=subject.apply(gcp_policy.attribute_condition),
            oidc=pulumi.Output.all(args["tavus_oidc_issuer"], args.get("tavus_oidc_audience")).apply(
                lambda values: gcp_policy.oidc(*values)
            ),
            opts=iam_ready,
        )
        writer = gcp.serviceaccount.Account(
            f"{name}-writer",
            account_id=args.get("service_account_id") or gcp_policy.default_service_account_id(name, stack),
            display_name="Tavus recording writer",
            description="Impersonated by Tavus's recording service to write conversation recordings",
            opts=iam_ready,
        )
        self.bucket_name = bucket.name
        self.workload_identity_provider = provider.name
        self.service_account_email = writer.email
        self.tavus_access = pulumi.Output.from_input(tavus.TAVUS_ACCESS_REVOKED if revoked else tavus.TAVUS_ACCESS_GRANTED)
        if revoked:
            # No impersonation binding and no bucket grant. Removing the grant also fails the service account's
            # access tokens Tavus already minted (IAM is checked per request; propagation takes minutes).
            self.recording_storage = pulumi.Output.from_input(None)  # type: ignore[assignment]
        else:
            self._grant(name, bucket, pool, writer, subject)
            self.recording_storage = pulumi.Output.all(bucket.name, bucket.project, provider.name, writer.email).apply(
                lambda values: tavus.GcsRecordingStorageConfig(
                    bucket_name=values[0],
                    project_id=values[1],
                    workload_identity_provider=values[2],
                    service_account_email=values[3],
                ).model_dump()
            )
        self.register_outputs(
            {
                "recording_storage": self.recording_storage,
                # The retention the guardrails hold lifecycle rules to (the policy pack reads it here).
                "retentionDays": args.get("retention_days") or None,
                "coldAfterDays": args.get("cold_after_days") or None,
                "bucket_name": self.bucket_name,
                "workload_identity_provider": self.workload_identity_provider,
                "service_account_email": self.service_account_email,
                # The bucket's default key, and the service agent granted its use (the policy pack reads them here).
                "kmsKeyName": args.get("kms_key_name") or None,
                "storageServiceAgent": bucket.storage_agent,
                # WORM and audit as asked for (the policy pack holds the bucket and project to them).
                "immutableDays": worm_days,
                "immutableMode": worm_mode,
                "auditLogs": audit_logs,
                "tavus_access": self.tavus_access,
            }
        )

    def _grant(
        self,
        name: str,
        bucket: _Bucket,
        pool: gcp.iam.WorkloadIdentityPool,
        writer: gcp.serviceaccount.Account,
        subject: pulumi.Output[str],
    ) -> None:
        """Tavus's subject may act as the writer, and the writer may create objects in the bucket."""
        child = pulumi.ResourceOptions(parent=self)
        # Authoritative for this role on an account the kit owns: the Tavus subject, nobody else.
        gcp.serviceaccount.IAMBinding(
            f"{name}-writer-impersonation",
            service_account_id=writer.name,
            role=gcp_policy.IMPERSONATION_ROLE,
            members=[pulumi.Output.all(pool.name, subject).apply(lambda values: gcp_policy.workload_principal(*values))],
            opts=child,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-writer-object-creator",
            bucket=bucket.name,
            role=gcp_policy.WRITER_ROLE,
            member=writer.email.apply(lambda email: f"serviceAccount:{email}"),
            opts=child,
        )

    def _find_bucket(self, existing: pulumi.Input[str]) -> _Bucket:
        """An existing bucket, read and never managed, and held to be in the provider's project.

        The lookup's `project` is not the bucket's own when the caller cannot read the Compute API (the
        provider then fills in its own project: terraform-provider-google `setStorageBucket`), but its
        `project_number` comes from the Storage API itself; it is compared with gcp:project's number.
        """
        invoke = pulumi.InvokeOutputOptions(parent=self)
        found = gcp.storage.get_bucket_output(name=existing, opts=invoke)
        here = gcp.organizations.get_project_output(opts=invoke)
        name = pulumi.Output.all(found, here).apply(lambda values: gcp_policy.bucket_in_project(*values))
        return _Bucket(name, here.apply(lambda project: project.project_id or ""))

    def _create_bucket(
        self,
        name: str,
        args: GcsRecordingStorageArgs,
        storage_api: Optional[gcp.projects.Service],
        worm_days: Optional[int],
        worm_mode: Optional[str],
    ) -> _Bucket:
        """A new bucket: private, uniformly accessed, versioned (or, with WORM, under a retention policy), with the
        lifecycle rules asked for."""
        retention_days = pulumi.Output.from_input(args.get("retention_days"))
        noncurrent_days = pulumi.Output.from_input(
            args.get("noncurrent_version_days") or DEFAULT_NONCURRENT_VERSION_DAYS
        )
        cold_after_days = pulumi.Output.from_input(args.get("cold_after_days"))
        kms_key_name = args.get("kms_key_name") or None
        # Google refuses a bucket whose default key its service agent cannot use: the grant comes first.
        key_grant = [] if kms_key_name is None else [self._grant_key_to_storage_agent(name, kms_key_name, storage_api)]
        bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=args.get("bucket_name"),
            location=args.get("location") or gcp_policy.DEFAULT_LOCATION,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            # With WORM, versioning off (Cloud Storage refuses it beside a retention policy); the noncurrent-version rule
            # stays, deleting the versions left from before.
            versioning=gcp_policy.versioning(worm_days),
            retention_policy=gcp_policy.retention_policy(worm_days, worm_mode),
            encryption=gcp_policy.bucket_encryption(kms_key_name),
            lifecycle_rules=pulumi.Output.all(noncurrent_days, retention_days, cold_after_days).apply(
                lambda days: gcp_policy.lifecycle_rules(*days)
            ),
            labels=pulumi.Output.from_input(args.get("tags")).apply(with_default),
            force_destroy=False,
            # Recordings are customer data: the bucket outlives `pulumi destroy` and replacements.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[*_listed(storage_api), *key_grant]),
        )
        return _Bucket(bucket.name, bucket.project, key_grant[0].member if key_grant else None)

    def _log_data_access(self, name: str, project: pulumi.Output[str]) -> None:
        """Data Access audit logs (DATA_READ, DATA_WRITE) for Cloud Storage in the bucket's project.

        An audit config is per project and service, so this logs every bucket of the project. It is authoritative
        for the service: the project's current config is read with the provider's own data source and merged
        (gcp_policy.merged_audit_log_configs), so log types and exemptions already there are kept. Kept on destroy:
        deleting it would remove the project's whole Cloud Storage entry (resource_iam_audit_config.go, Delete),
        which others may rely on. Both calls go to Resource Manager's IAM policy methods, not to any service the kit
        enables (the audited service is a name in the policy), so neither waits for those.
        """
        current = gcp.projects.get_iam_policy_output(project=project, opts=pulumi.InvokeOutputOptions(parent=self))
        gcp.projects.IAMAuditConfig(
            f"{name}-data-access-logs",
            project=project,
            service=gcp_policy.AUDIT_SERVICE,
            audit_log_configs=current.policy_data.apply(gcp_policy.merged_audit_log_configs),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )

    def _grant_key_to_storage_agent(
        self, name: str, kms_key_name: pulumi.Input[str], storage_api: Optional[gcp.projects.Service]
    ) -> gcp.kms.CryptoKeyIAMMember:
        """The project's Cloud Storage service agent may encrypt and decrypt with the bucket's default key.

        The agent is looked up with the provider's own data source, which also makes Google create it if the
        project has none yet (pulumi-gcp storage.get_project_service_account). Kept on destroy, like the bucket:
        without it, the recordings the bucket keeps could no longer be read or written.
        """
        agent = gcp.storage.get_project_service_account_output(
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=_listed(storage_api))
        )
        return gcp.kms.CryptoKeyIAMMember(
            f"{name}-storage-agent-key-user",
            crypto_key_id=kms_key_name,
            role=gcp_policy.KEY_USER_ROLE,
            member=agent.member,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )


def _listed(resource: Optional[pulumi.Resource]) -> list[pulumi.Resource]:
    """A dependency that may not exist (the Storage API when manage_apis is false), as a depends_on list."""
    return [] if resource is None else [resource]

