"""The keys that name the token Tavus presents, for the federated clouds (GCS and Azure)."""

from __future__ import annotations

from typing import ClassVar, Optional

from pydantic import Field, ValidationInfo, field_validator

from components.naming import audience_problem, issuer_problem
from components.settings.common import MAX_TEXT_LENGTH, OptionalText, SettingsBase, checked, required_for

FROM_TAVUS = "Tavus's recording guide gives it (GCS and Azure tabs)"
_CLOUD = {"gcs": "Google", "azure_blob": "Entra ID"}
# Google caps the mapped google.subject at 127 bytes (https://cloud.google.com/iam/docs/reference/rest/v1/
# projects.locations.workloadIdentityPools.providers, attributeMapping). Entra caps a federated credential's
# issuer, subject and audience at 600 characters each
# (https://learn.microsoft.com/graph/api/resources/federatedidentitycredential; the ARM spec,
# azure-rest-api-specs specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/
# ManagedIdentity.json, FederatedIdentityCredentialProperties, states none). The subject is held to bytes.
_MAX_SUBJECT_BYTES = {"gcs": 127, "azure_blob": 600}
# Google documents no limit for an OIDC provider's issuerUri: the kit's cap for any text applies.
_MAX_ISSUER = {"gcs": MAX_TEXT_LENGTH, "azure_blob": 600}
# Google: "Each audience may be at most 256 characters" (same IAM reference, Oidc.allowedAudiences).
_MAX_AUDIENCE = {"gcs": 256, "azure_blob": 600}
_AUDIENCE_EXPECTED = "expected a URI such as api://AzureADTokenExchange or https://..., or a plain name (ASCII, no spaces)"


def _within(value: str, limits: dict[str, int], provider: str, what: str) -> str:
    if len(value) > limits[provider]:
        raise ValueError(f"is longer than {_CLOUD[provider]} allows for {what}: at most {limits[provider]} characters")
    return value


# Validators name the module's own providers: pydantic binds them to the composed model's class.
_PROVIDERS = ("gcs", "azure_blob")

class FederationSettings(SettingsBase):
    PROVIDERS: ClassVar[tuple[str, ...]] = _PROVIDERS

    tavus_oidc_issuer: OptionalText = Field(default=None, validate_default=True)
    tavus_oidc_subject: OptionalText = Field(default=None, validate_default=True)
    tavus_oidc_audience: OptionalText = None

    @field_validator("tavus_oidc_issuer")
    @classmethod
    def _issuer(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        issuer = required_for(value, info, _PROVIDERS, FROM_TAVUS)
        if issuer is None:
            return value
        _within(issuer, _MAX_ISSUER, info.data["provider"], "an issuer")
        # Kept exactly as given: it must equal the `iss` claim of Tavus's tokens, so no normalizing.
        problem = issuer_problem(issuer)
        if problem:
            raise ValueError(f"is not an https issuer URL (it {problem}); expected e.g. https://issuer.example.com ({FROM_TAVUS})")
        return issuer

    @field_validator("tavus_oidc_subject")
    @classmethod
    def _subject(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        subject = required_for(value, info, _PROVIDERS, FROM_TAVUS)
        if subject is None:
            return value
        limit = _MAX_SUBJECT_BYTES[info.data["provider"]]
        if len(subject.encode()) > limit or not subject.isprintable():
            raise ValueError(f"is not a usable subject; expected at most {limit} bytes of printable text")
        return subject

    @field_validator("tavus_oidc_audience")
    @classmethod
    def _audience(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        provider = info.data.get("provider")
        if value is None or provider not in _PROVIDERS:
            return value
        # Kept exactly as given, like the issuer: it must equal the `aud` claim of Tavus's tokens.
        _within(value, _MAX_AUDIENCE, provider, "an audience")
        return checked(value, audience_problem, _AUDIENCE_EXPECTED)
