"""Every key of the app in one registry: what a binding runs, its default keys and its words.

Screens build their `BINDINGS` from here (`bindings(...)`), so every binding carries an id that
a user's keymap can point at (`[keymap]` in the settings file, see keymap.py). The footer shows
the bindings, the help screen lists them per scope and the command palette names their keys:
all read the same entries, after the user's keymap is applied.

An id is `scope.name`; the scope is the screen (or widget, or kind of dialog) it works on, and
`SCOPES` gives each scope its title in the help screen, in the order shown.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass

from textual.binding import Binding, BindingsMap, BindingType
from textual.dom import DOMNode


@dataclass(frozen=True)
class Action:
    """One bindable action. `run` is Textual's action string; `label` is the footer's short word
    and `about` the help screen's and palette's longer one."""

    id: str
    keys: str  # default keys, Textual names, comma separated; the first one is shown
    run: str
    label: str
    about: str = ""
    show: bool = True  # in the footer
    priority: bool = False  # before a focused widget sees the key (an Input, say)

    @property
    def scope(self) -> str:
        return self.id.partition(".")[0]

    @property
    def text(self) -> str:
        return self.about or self.label.lower()


SCOPES: dict[str, str] = {
    "app": "Everywhere",
    "records": "Record list",
    "list": "Lists",
    "record": "Record",
    "edit": "Edit",
    "unsaved": "Unsaved changes",
    "security": "Security Center",
    "history": "History",
    "files": "Files",
    "trash": "Trash",
    "dialog": "Questions",
    "welcome": "Welcome",
    "signup": "Sign up",
    "signin": "Sign in",
    "path": "Path fields",
    "kit": "Kit",
    "settings": "Settings",
    "devices": "Devices",
    "newkit": "New password, new key",
    "sync": "Sync",
    "newpassword": "Password changed elsewhere",
    "import": "Import",
    "export": "Export",
    "help": "This help",
    "generator": "Password generator",
}

_ALL: tuple[Action, ...] = (
    # -- everywhere: bound once, on the app -------------------------------------------------
    Action("app.lock", "ctrl+l", "lock", "Lock", "lock now (forget the keys)", priority=True),
    Action("app.help", "question_mark,f1", "help", "Help", "every key (this help)"),
    Action("app.palette", "ctrl+p", "command_palette", "Palette", "command palette", show=False),
    Action("app.quit", "ctrl+q", "quit", "Quit", "quit", priority=True),
    # -- any record list (the list, the Security Center's findings, the sync conflicts) -------
    Action("list.up", "up,k", "move(-1)", "Up", "move up", show=False),
    Action("list.down", "down,j", "move(1)", "Down", "move down", show=False),
    Action("list.page_up", "pageup", "page(-1)", "Page up", show=False),
    Action("list.page_down", "pagedown", "page(1)", "Page down", show=False),
    Action("list.first", "home", "jump(0)", "First", "first row", show=False),
    Action("list.last", "end", "jump(-1)", "Last", "last row", show=False),
    Action("list.open", "enter", "open", "Open", "open the record", show=False),
    # -- the record list ------------------------------------------------------------------
    Action("records.search", "slash", "search", "Search"),
    Action(
        "records.clear_search", "escape", "clear_search", "Clear", "clear the search", show=False
    ),
    Action("records.new", "n", "new", "New", "new record"),
    Action("records.favorites", "f", "favorites", "Favourites", "favourites only / all"),
    # footer room: the help lists type, tag, sort and clear
    Action("records.type", "t", "pick_type", "Type", "filter by type", show=False),
    Action("records.tag", "g", "pick_tag", "Tag", "filter by tag", show=False),
    Action("records.sort", "o", "cycle_sort", "Sort", "sort: title → changed → type", show=False),
    Action("records.clear_filters", "x", "clear_filters", "Clear filters", show=False),
    Action("records.security", "s", "security", "Security", "Security Center"),
    Action("records.trash", "d", "trash", "Trash", "the trash (deleted records)", show=False),
    Action("records.import", "i", "app.import_records", "Import", "import…", show=False),
    Action("records.sync_now", "ctrl+r", "app.sync_now", "Sync now", show=False),
    Action("records.sync", "y", "app.sync_settings", "Sync", "sync settings", show=False),
    Action("records.settings", "comma", "app.settings", "Settings"),
    # -- one record -----------------------------------------------------------------------
    Action("record.back", "escape", "app.pop_screen", "Back"),
    Action("record.reveal", "r", "reveal", "Reveal", "reveal / hide secrets"),
    Action("record.previous", "up,k", "choose(-1)", "Previous field", show=False, priority=True),
    Action("record.next", "down,j", "choose(1)", "Next field", show=False, priority=True),
    Action("record.copy_field", "c,enter", "copy_field", "Copy", "copy the chosen field"),
    # each shows only on a record that has the value (a card: number, security code, expiry);
    # footer room at 100 columns: the help lists the one-time code and favourite keys
    Action("record.copy_username", "u", "copy('username')", "Copy user", "copy the username"),
    Action(
        "record.copy_number",
        "n",
        "copy('number')",
        "Copy number",
        "copy the number (card, account, ID)",
    ),
    Action("record.copy_cvv", "v", "copy('cvv')", "Copy CVV", "copy the card's security code"),
    Action("record.copy_code", "o", "copy_totp", "Copy code", "copy the one-time code", show=False),
    Action("record.edit", "e", "edit", "Edit"),
    Action("record.favorite", "asterisk", "favorite", "Favourite", "favourite / not", show=False),
    Action("record.delete", "d", "delete", "Delete"),
    Action("record.dates", "t", "dates", "Dates", "full dates / '3 days ago'", show=False),
    Action("record.history", "h", "history", "History", "previous versions"),
    Action("record.files", "f", "files", "Files", "the record's files", show=False),
    Action("record.copy_expiry", "x", "copy('expiry')", "Copy expiry", "copy the card's expiry"),
    # -- a record's history ---------------------------------------------------------------
    Action("history.back", "escape", "app.pop_screen", "Back"),
    Action("history.reveal", "r", "reveal", "Reveal", "reveal / hide secrets"),
    Action("history.restore", "s", "restore", "Restore", "restore the chosen version"),
    # -- the record list's trash filter (d): Enter restores too; x or Esc leave it as well -----
    Action(
        "trash.restore", "r", "restore", "Restore", "restore the chosen record (Enter does too)"
    ),
    Action("trash.empty", "E", "empty", "Empty", "purge every record in the trash now"),
    Action("trash.leave", "d", "leave_trash", "Records", "back to the records"),
    # -- a record's files -------------------------------------------------------------------
    Action("files.back", "escape", "app.pop_screen", "Back"),
    Action("files.add", "a", "add", "Add", "add a file from a path"),
    Action("files.save", "s,enter", "save", "Save", "save the chosen file to a path"),
    Action("files.open", "o", "open", "Open", "open the chosen file with the system viewer"),
    Action("files.remove", "d", "remove", "Remove", "remove the chosen file"),
    Action("files.cancel", "escape", "cancel", "Cancel"),
    # -- the edit form ----------------------------------------------------------------------
    Action(
        "edit.cancel", "escape", "cancel", "Cancel", "leave the form (asks if anything changed)"
    ),
    Action("edit.save", "ctrl+s", "save", "Save"),
    Action("edit.generate", "ctrl+g", "generate", "Generate password", "generate a password"),
    Action("edit.reveal", "ctrl+r", "reveal", "Show/hide", "show / hide the secret field"),
    Action(
        "edit.generator",
        "ctrl+o",
        "generator",
        "Generator",
        "password generator with every option…",
        show=False,
    ),
    Action("edit.add_field", "ctrl+n", "add_field", "Add field", "add a custom field", show=False),
    Action(
        "edit.field_up",
        "ctrl+up",
        "move_field(-1)",
        "Field up",
        "move the custom field up",
        show=False,
    ),
    Action(
        "edit.field_down",
        "ctrl+down",
        "move_field(1)",
        "Field down",
        "move the custom field down",
        show=False,
    ),
    Action(
        "edit.conceal",
        "ctrl+t",
        "conceal",
        "Conceal",
        "conceal / show the custom field",
        show=False,
    ),
    # -- leaving a form with changes ---------------------------------------------------------
    Action("unsaved.save", "s,ctrl+s", "choose('save')", "Save", "save the changes and leave"),
    Action("unsaved.discard", "d", "choose('discard')", "Discard", "discard the changes"),
    Action("unsaved.keep", "escape,k", "choose('keep')", "Keep editing", "back to the form"),
    # -- the password generator dialog ------------------------------------------------------
    Action("generator.again", "ctrl+n", "again", "New", "draw another value"),
    Action("generator.use", "ctrl+s", "use", "Use", "put the value in the form"),
    # -- Security Center --------------------------------------------------------------------
    Action("security.back", "escape", "app.pop_screen", "Back"),
    Action(
        "security.new_password",
        "g",
        "new_password",
        "New password",
        "edit the record with a new generated password",
    ),
    # -- questions and small dialogs: one set of keys for all of them -----------------------
    Action("dialog.yes", "y", "answer(True)", "Yes"),
    Action("dialog.no", "n,escape", "answer(False)", "No"),
    Action("dialog.cancel", "escape", "dismiss(None)", "Cancel"),
    # -- before an account exists -----------------------------------------------------------
    Action("welcome.signup", "u", "signup", "Sign up", "sign up (new account)"),
    Action("welcome.signin", "i", "signin", "Sign in", "sign in (account from another device)"),
    Action("welcome.quit", "q", "app.quit", "Quit"),
    Action("signup.back", "escape", "app.pop_screen", "Back"),
    Action("signup.submit", "ctrl+s", "submit", "Create account"),
    Action("signin.back", "escape", "back", "Back"),
    Action("signin.submit", "ctrl+s", "submit", "Sign in"),
    Action("signin.next_source", "down,right", "choose(1)", "Next source", show=False),
    Action("signin.previous_source", "up,left", "choose(-1)", "Previous source", show=False),
    Action("path.complete", "tab", "accept_completion", "Complete path", show=False),
    Action("kit.done", "y", "done", "I stored my Kit safely", "the Kit is stored safely"),
    Action("kit.close", "escape", "close", "Close", show=False),
    # -- settings -------------------------------------------------------------------------
    Action("settings.back", "escape", "app.pop_screen", "Back"),
    Action("settings.show_kit", "k", "show_kit", "Kit", "show the Authentication Kit"),
    Action(
        "settings.save_kit", "w", "save_kit", "Save Kit", "save the Kit as PNG and PDF", show=False
    ),
    Action("settings.password", "p", "change_password", "Password", "change the Account Password"),
    Action(
        "settings.rotate_key", "r", "rotate_key", "Rotate key", "rotate the Account Key", show=False
    ),
    Action(
        "settings.auto_lock",
        "a",
        "number('auto_lock_minutes')",
        "Auto-lock",
        "auto-lock minutes",
        show=False,
    ),
    Action(
        "settings.clipboard",
        "c",
        "number('clipboard_seconds')",
        "Clipboard",
        "clipboard seconds",
        show=False,
    ),
    Action(
        "settings.reauth",
        "e",
        "number('reauth_minutes')",
        "Password again",
        "minutes before the password is asked again (show, copy, export)",
        show=False,
    ),
    Action(
        "settings.history_keep",
        "v",
        "number('history_keep')",
        "Versions",
        "history: versions kept",
        show=False,
    ),
    Action(
        "settings.history_days",
        "h",
        "number('history_days')",
        "History days",
        "history: days kept",
        show=False,
    ),
    Action(
        "settings.trash_days",
        "d",
        "number('trash_days')",
        "Trash days",
        "trash: days before purging",
        show=False,
    ),
    Action(
        "settings.files_fetch",
        "f",
        "number('attachment_auto_mb')",
        "Download",
        "files: download at once up to",
        show=False,
    ),
    Action(
        "settings.files_max",
        "m",
        "number('attachment_max_mb')",
        "Largest file",
        "files: largest allowed",
        show=False,
    ),
    Action("settings.theme", "t", "theme", "Theme"),
    Action("settings.sync", "y", "sync", "Sync", "sync settings", show=False),
    Action("settings.devices", "i", "devices", "Devices", "the account's devices", show=False),
    Action("settings.backup", "b", "backup", "Back up", "back up now"),
    Action("settings.restore", "o", "restore", "Restore", "restore from a backup", show=False),
    Action("devices.back", "escape", "app.pop_screen", "Back"),
    Action("newkit.cancel", "escape", "app.pop_screen", "Cancel"),
    Action("newkit.confirm", "ctrl+s", "submit", "Confirm"),
    # -- sync -----------------------------------------------------------------------------
    Action("sync.back", "escape", "back", "Back"),
    Action("sync.now", "s,ctrl+r", "app.sync_now", "Sync now"),
    Action("sync.folder", "f", "edit('folder')", "Folder", "sync through a folder"),
    Action("sync.wifi", "w", "edit('wifi')", "Wi-Fi", "sync over Wi-Fi"),
    Action("sync.cloud", "c", "edit('cloud')", "Cloud", "sync with an account server"),
    # the screen itself lists these two with their keys: the footer keeps room for Lock
    Action(
        "sync.local_only", "x", "local_only", "Local only", "stop syncing (local only)", show=False
    ),
    Action(
        "sync.account_key",
        "a",
        "account_key",
        "Saved key",
        "saved account key in the folder",
        show=False,
    ),
    Action("newpassword.later", "escape", "later", "Later", "later (no sync until then)"),
    # -- import and export ------------------------------------------------------------------
    Action("import.cancel", "escape", "cancel", "Cancel"),
    Action("import.confirm", "ctrl+s", "confirm", "Import", "import the previewed records"),
    Action("export.cancel", "escape", "app.pop_screen", "Cancel"),
    # -- this help ----------------------------------------------------------------------------
    Action("help.close", "escape,question_mark,q", "app.pop_screen", "Close"),
)

ACTIONS: dict[str, Action] = {a.id: a for a in _ALL}


def binding(action_id: str) -> Binding:
    """The Textual binding of one registered action (KeyError for an unknown id)."""
    a = ACTIONS[action_id]
    return Binding(a.keys, a.run, a.label, show=a.show, priority=a.priority, id=a.id)


def bindings(*action_ids: str) -> list[BindingType]:
    """The bindings of these actions, in this order (what a screen's `BINDINGS` holds)."""
    return [binding(i) for i in action_ids]


def scope(name: str) -> list[BindingType]:
    """Every action of one scope, in registry order."""
    return [binding(a.id) for a in _ALL if a.scope == name]


def bound_classes() -> list[type[DOMNode]]:
    """Every class of the app (screens, widgets, the app) that declares its own bindings."""
    from . import screens, widgets

    for package in (screens, widgets):
        for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    from .app import StrongroomApp

    found: list[type[DOMNode]] = [StrongroomApp]

    def walk(cls: type[DOMNode]) -> Iterator[type[DOMNode]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    for cls in walk(DOMNode):
        if cls.__module__.startswith("tui.") and "BINDINGS" in cls.__dict__ and cls not in found:
            found.append(cls)
    return found


def declared(cls: type[DOMNode], keymap: dict[str, str]) -> dict[str, list[str]]:
    """A class's own bindings as the keymap makes them: binding id (or action) -> its keys."""
    found = BindingsMap(cls.__dict__["BINDINGS"])
    found.apply_keymap(keymap)
    keys: dict[str, list[str]] = {}
    for key, b in found:
        keys.setdefault(b.id or b.action, []).append(key)
    return keys
