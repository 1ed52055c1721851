"""The policies of the `tavus-recording` pack, importable without starting the policy server.

The Pulumi CLI runs the pack with this directory on `sys.path` (runpy of `__main__.py`), so the rule
modules beside this file import by their own names; to import `POLICIES` elsewhere, put `policy/` on
`sys.path` first. Nothing here imports a cloud SDK: the pack's virtualenv holds pulumi-policy and the
kit's base install only (`components.tavus`, the pure `*_policy` modules and the shared rules in
`tavus_recording.rules`).

Policies are named by the rule they apply (`aws.role.trust`), with `.stack` for the stack-wide half of a
rule. Levels: mandatory for what breaks Tavus, opens a door or loses recordings, advisory for hardening.
Levels and settings change per policy with `--policy-pack-config` (see config.example.json).
"""

from pulumi_policy import Policy

from aws_rules import AWS_POLICIES
from azure_rules import AZURE_POLICIES
from gcp_rules import GCP_POLICIES

PACK_NAME = "tavus-recording"

POLICIES: list[Policy] = [*AWS_POLICIES, *GCP_POLICIES, *AZURE_POLICIES]
