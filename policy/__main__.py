"""The `tavus-recording` policy pack: `pulumi preview --policy-pack policy/`."""

from pulumi_policy import EnforcementLevel, PolicyPack

from policies import POLICIES

# Every policy sets its own level; the pack's applies only to one that would not.
PolicyPack(name="tavus-recording", policies=POLICIES, enforcement_level=EnforcementLevel.ADVISORY)
