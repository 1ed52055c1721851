"""An error no verb expected (a bug of ours) still ends in one line and exit 2, with the key masked."""

from __future__ import annotations

import base64

import pytest

from tavus_recording import cli

KEY = "tk_live_5f0c2a9e7b3d4c1a8e6f"


@pytest.mark.parametrize(
    "message",
    [
        f"boom {KEY}",
        f"boom {KEY.upper()} in capitals",
        f"boom {base64.b64encode(KEY.encode()).decode()} in base64",
        f"boom\n\x1b[31mred\u202e {KEY[:12]}",
    ],
)
def test_an_unexpected_error_is_one_masked_line_and_exit_2(monkeypatch, capsys, message):
    def broken(**_: object) -> None:
        raise RuntimeError(message)

    monkeypatch.setenv("TAVUS_API_KEY", KEY)
    monkeypatch.setattr(cli, "app", broken)
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == cli.EXIT_CANNOT_RUN
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: internal error (RuntimeError: ")
    assert "Traceback" not in err and "\x1b" not in err and "\u202e" not in err
    for form in (KEY, KEY.upper(), base64.b64encode(KEY.encode()).decode(), KEY[:12]):
        assert form not in err


def test_exits_the_verbs_chose_pass_through(monkeypatch):
    def exits(**_: object) -> None:
        raise SystemExit(1)

    monkeypatch.setattr(cli, "app", exits)
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 1
