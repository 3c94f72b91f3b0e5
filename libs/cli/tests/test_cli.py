"""The `ozg` command line: every command explains itself and refuses bad arguments before any request.

Its commands against the real services: tests/e2e/test_ops_cli.py.
"""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ozg_cli import app

COMMANDS = [
    [],
    ["areas", "import"],
    ["catalogue", "import"],
    ["clients", "list"],
    ["clients", "create"],
    ["clients", "rotate-secret"],
    ["destinations", "rotate-key"],
    ["deliveries", "list"],
    ["deliveries", "replay"],
    ["payments", "list"],
    ["payments", "reconciliation"],
    ["cases", "trail"],
]
NOWHERE = "http://127.0.0.1:9"
"""The discard port: nothing answers there."""


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ozg")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    help_text = result.output.split("Options:")[0].split("Usage:")[1]
    assert len(help_text.strip().splitlines()) >= 2, f"{command} has no description"


def test_without_credentials_the_cli_says_how_to_give_them() -> None:
    result = CliRunner().invoke(app, ["deliveries", "list"], env={"OZG_CLI_SUBMISSION_URL": NOWHERE})
    assert result.exit_code == 1
    assert "--client-id" in result.output


def test_an_unreachable_service_is_named() -> None:
    env = {"OZG_CLI_KOP_GATEWAY_URL": NOWHERE}
    result = CliRunner().invoke(app, ["--token", "t", "deliveries", "list", "--dead"], env=env)
    assert result.exit_code == 1
    assert f"kop-gateway is not reachable at {NOWHERE}" in result.output


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["catalogue", "import", "{dir}/services.csv"], "give --kind"),
        (["catalogue", "import", "{dir}/bundle.json", "--kind", "services"], "--kind is for CSV files"),
        (["catalogue", "import", "{dir}/bundle.txt"], "give a .json bundle or a .csv file"),
        (["areas", "import", "{dir}"], "missing"),
        (["destinations", "rotate-key", "d-1"], "give the new key"),
        (["destinations", "rotate-key", "d-1", "--generate", "{dir}/bundle.json"], "never overwritten"),
        (
            [
                "destinations",
                "rotate-key",
                "d-1",
                "--public-jwk",
                "{dir}/bundle.json",
                "--generate",
                "{dir}/k",
            ],
            "give one of --public-jwk or --generate",
        ),
        (["deliveries", "replay"], "give a DELIVERY_ID or --all-dead"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    tmp_path: Path, args: list[str], complaint: str
) -> None:
    for name in ("services.csv", "bundle.json", "bundle.txt"):
        (tmp_path / name).write_text("")
    env = {f"OZG_CLI_{name}_URL": NOWHERE for name in ("ZUFI", "SUBMISSION", "KOP_GATEWAY")}
    filled = [arg.format(dir=tmp_path) for arg in args]
    result = CliRunner().invoke(app, ["--token", "t", *filled], env=env)
    assert result.exit_code == 1, result.output
    assert complaint in result.output
    assert "not reachable" not in result.output
