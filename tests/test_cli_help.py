"""The command line explains itself in Dutch, as the rest of the interface does (#27)."""

import re

import click

# Commands that extensions bring along with their own (English) help.
FOREIGN = {"db", "limiter"}
# Words that mark an English sentence; none of them is a Dutch word ("of" is: "or").
ENGLISH = {
    "the", "and", "to", "with", "every", "this", "write", "writes", "show", "list",
    "file", "files", "only", "apply", "each", "which", "their", "from", "into", "or", "by",
}  # fmt: skip


def commands(group: click.Group, path=()):
    """Every command of the registry under `group`, with the words that call it."""
    for name, command in sorted(group.commands.items()):
        if not path and name in FOREIGN:
            continue
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def english_words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z]+", text.lower())} & ENGLISH


def test_every_command_and_option_is_explained_in_dutch(app):
    found = list(commands(app.cli))
    names = {" ".join(path) for path, _ in found}
    assert {"seed", "summary", "users invite", "duo apply", "export schools"} <= names
    runner = app.test_cli_runner()
    for path, command in found:
        where = " ".join(path)
        assert command.help, f"{where} has no help"
        assert not english_words(command.help), (where, english_words(command.help))
        for option in command.params:
            if isinstance(option, click.Option):
                assert option.help, f"{where} {option.opts[0]} has no help"
                assert not english_words(option.help), (where, option.opts[0], option.help)
        shown = runner.invoke(args=[*path, "--help"])
        assert shown.exit_code == 0, (where, shown.output)
        assert command.help.split()[0] in shown.output, where
