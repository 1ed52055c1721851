"""The mock engine with many destinations in one program (issue 20): each component keeps its own registered
outputs, and the SDK is spared the stack walk the mock monitor never reads, only during a run."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.runtime import resource as sdk_resource

from components.aws import S3RecordingStorage
from tavus_recording.mock_engine import PlanMocks, RecordingMonitor, run_component, run_program
from tavus_recording.stack_files import load_stack_config

COMPONENT = "tavus-recording:index:S3RecordingStorage"


def test_each_of_many_components_keeps_its_own_registered_outputs():
    names = [f"dest{index}" for index in range(25)]
    run, _ = run_component(lambda: [S3RecordingStorage(name, {}) for name in names])
    components = run.find(COMPONENT)
    assert sorted(c.name for c in components) == sorted(names)
    buckets = {r.parent.split("::")[-1]: r.outputs["bucket"] for r in run.find("aws:s3/bucket:Bucket")}
    for component in components:
        # Its own bucket, as it registered it: not another component's, and not missing.
        assert component.outputs["bucket_name"] == buckets[component.name] == f"{component.name}-bucket-<random>"
        assert component.outputs["tavus_access"] == "granted"


class AskedMocks(PlanMocks):
    """Records every resource type the engine asked the mocks to make."""

    def __init__(self, config: dict[str, str]) -> None:
        super().__init__(config)
        self.asked: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Any, dict]:
        self.asked.append(args.typ)
        return super().new_resource(args)


def test_the_engine_answers_a_component_itself_and_the_mocks_every_resource(dev_config):
    mocks = AskedMocks(dev_config)
    run = run_program(dev_config, monitor=RecordingMonitor(mocks))
    component = run.one(COMPONENT)
    # As a real engine: no provider makes a component, so it has no id and no provider state, only what it registered.
    assert COMPONENT not in mocks.asked and component.id == ""
    assert component.outputs["tavus_access"] == "granted" and component.outputs["recording_storage"]["external_id"] == "tavus"
    custom = [r.type for r in run.registrations if r.custom]
    assert len(custom) >= 9 and sorted(mocks.asked) == sorted(custom)


class WatchingMonitor(RecordingMonitor):
    """Records how many stack frames the SDK sent with each registration."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.frames: list[int] = []

    def RegisterResource(self, request: Any) -> Any:
        self.frames.append(len(request.stackTrace.frames))
        return super().RegisterResource(request)


def test_a_run_sends_no_stack_traces_and_puts_the_sdks_walk_back():
    walk = sdk_resource._get_stack_trace
    config = load_stack_config("dev").config
    monitor = WatchingMonitor(PlanMocks(config))
    run = run_program(config, monitor=monitor)
    assert len(run.registrations) >= 10 and len(monitor.frames) >= len(run.registrations)  # and the stack
    assert set(monitor.frames) == {0}
    assert sdk_resource._get_stack_trace is walk  # outside a run, the SDK's own again


def test_a_failed_run_puts_the_sdks_walk_back_too(dev_config):
    walk = sdk_resource._get_stack_trace
    with pytest.raises(pulumi.RunError):
        run_program({**dev_config, "tavus-recording:provider": "ftp"})
    assert sdk_resource._get_stack_trace is walk
