"""README cannot drift from the command line (after sqlite-utils' tests/test_docs.py).

The commands are found by walking the click group (`cli.list_commands` / `get_command`, and a
group's own subcommands such as `subscribers import|list|show|export|forget`), so a command
added to the CLI is held to these rules without editing this file:

- README mentions it as `send.py NAME` (a subcommand as `send.py subscribers NAME`);
- `send.py NAME --help` exits 0 and prints a description above its options;
- README mentions every long option of every command, the group's own included, as `--option`.

Only `newsletter.cli` is imported: the library behind it may be laid out any way.
What README lacks today is in the allowlists below, each naming its entries; an entry that
README has come to mention fails the test too, so the lists only shrink.
"""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner
from conftest import REPO

from newsletter.cli import cli

README = (REPO / "README.md").read_text(encoding="utf-8")

# Commands README shows only as `subscribers NAME` (in the subscribers section's list), never
# with `send.py ` in front.  The lead will fix README; then remove them here.
NOT_YET_AS_SEND_PY: set[str] = set()
# Options README does not mention anywhere yet, as "send.py COMMAND: --option".
NOT_YET_IN_README: set[str] = set()


def walk(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()):
    """(path, command) for every command and subcommand, groups included, in --help order."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"{' '.join((*path, name))} is listed but cannot be loaded"
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from walk(command, click.Context(command, info_name=name, parent=ctx),
                            (*path, name))


ROOT_CTX = click.Context(cli, info_name="send.py")
COMMANDS = dict(walk(cli, ROOT_CTX))
NAMES = [" ".join(path) for path in COMMANDS]


def long_options(command: click.Command) -> list[str]:
    """Every `--option` the command takes (both spellings of an --x/--no-x flag); --help aside:
    click adds it to every command, and README says `send.py --help`."""
    found = []
    for param in command.params:
        if isinstance(param, click.Option):
            found += [opt for opt in (*param.opts, *param.secondary_opts)
                      if opt.startswith("--")]
    return found


def test_the_walk_finds_the_commands_and_the_subscribers_subcommands():
    assert {"build", "check", "emit", "archive", "subscribers"} <= set(NAMES)
    assert {f"subscribers {name}" for name in ("import", "list", "show", "export", "forget")} \
        <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_command_is_in_readme_as_send_py_name(name):
    mentioned = re.search(rf"send\.py {re.escape(name)}(?![\w-])", README) is not None
    if name in NOT_YET_AS_SEND_PY:
        assert not mentioned, (f"README now mentions `send.py {name}`: remove it from "
                               "NOT_YET_AS_SEND_PY in tests/test_docs.py")
        pytest.xfail(f"README does not mention `send.py {name}` yet (NOT_YET_AS_SEND_PY)")
    assert mentioned, f"README.md does not mention `send.py {name}`"


@pytest.mark.parametrize("name", NAMES)
def test_every_command_has_help_with_a_description(name):
    result = CliRunner().invoke(cli, [*name.split(), "--help"], prog_name="send.py")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines and lines[0].startswith(f"Usage: send.py {name}"), result.output
    end = next((i for i, line in enumerate(lines) if line in ("Options:", "Commands:")),
               len(lines))
    description = " ".join(line.strip() for line in lines[1:end]).strip()
    assert description, f"`send.py {name} --help` prints no description:\n{result.output}"
    assert COMMANDS[tuple(name.split())].get_short_help_str().strip(), name


def test_the_group_has_help_and_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"], prog_name="send.py")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: send.py"), result.output
    for path in COMMANDS:
        if len(path) == 1:
            assert re.search(rf"^  {re.escape(path[0])}\b", result.output, re.MULTILINE), path


OPTIONS = [f"send.py: {opt}" for opt in long_options(cli)] + [
    f"send.py {name}: {opt}" for name, command in zip(NAMES, COMMANDS.values(), strict=True)
    for opt in long_options(command)]


@pytest.mark.parametrize("entry", OPTIONS)
def test_every_option_is_in_readme(entry):
    option = entry.split(": ", 1)[1]
    mentioned = re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", README) is not None
    if entry in NOT_YET_IN_README:
        assert not mentioned, (f"README now mentions {option}: remove {entry!r} from "
                               "NOT_YET_IN_README in tests/test_docs.py")
        pytest.xfail(f"README does not mention {option} yet (NOT_YET_IN_README)")
    assert mentioned, f"README.md does not mention {option} (an option of {entry.split(':')[0]})"


def test_the_allowlists_name_only_what_the_cli_has():
    assert set(NAMES) >= NOT_YET_AS_SEND_PY
    assert set(OPTIONS) >= NOT_YET_IN_README
