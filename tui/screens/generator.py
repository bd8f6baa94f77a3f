"""The password generator dialog: every option of `strongroom generate` and a live strength meter.

Opened from the edit form (ctrl+o); every change of an option draws a new value at once, ctrl+n
draws another with the same options, Enter (or "Use") puts it in the form, Esc leaves the form
as it was.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from runtime.safe_text import printable
from vault.errors import InvalidInputError

from ..actions import bindings
from ..widgets.strength_meter import StrengthMeter

CHECKS = {
    "passphrase": ("Passphrase (words) instead of characters", False),
    "symbols": ("Symbols", True),
    "digits": ("Digits", True),
    "uppercase": ("Uppercase letters", True),
    "avoid-ambiguous": ("Avoid look-alikes (I l 1 O 0 o | ` ' \")", False),
    "capitalize": ("Capitalize each word", False),
    "add-digit": ("Add a digit to one word", False),
}
PASSWORD_ONLY = ("symbols", "digits", "uppercase", "avoid-ambiguous", "length")
PASSPHRASE_ONLY = ("capitalize", "add-digit", "words", "separator")


class GeneratorScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    GeneratorScreen { align: center middle; }
    GeneratorScreen #generator { width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    GeneratorScreen Input { width: 12; }
    GeneratorScreen #value { margin-top: 1; text-style: bold; }
    GeneratorScreen .hidden { display: none; }
    """
    BINDINGS = bindings("dialog.cancel", "generator.again", "generator.use")

    def __init__(self) -> None:
        super().__init__()
        self.value = ""
        self.ok = False  # the options as they are now give `value`

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="generator"):
            yield Label("[b]Password generator[/b]")
            for key, (label, on_) in CHECKS.items():
                yield Checkbox(label, on_, id=f"g-{key}")
            yield Label("Length (4-128)", id="l-length")
            yield Input("20", id="g-length", type="integer")
            yield Label("Words (3-20)", id="l-words")
            yield Input("5", id="g-words", type="integer")
            yield Label("Separator", id="l-separator")
            yield Input("-", id="g-separator")
            yield Static("", id="value", markup=False)
            yield StrengthMeter(id="strength")
            yield Static("", id="problem", markup=False)
            with Horizontal():
                yield Button("Use", id="use", variant="primary")
                yield Button("New", id="again")

    def on_mount(self) -> None:
        self._layout()
        self.draw()
        self.query_one("#g-passphrase", Checkbox).focus()

    def _checked(self, key: str) -> bool:
        return self.query_one(f"#g-{key}", Checkbox).value

    def _layout(self) -> None:
        """Show only the options of the kind chosen (characters or words)."""
        words = self._checked("passphrase")
        for key in PASSWORD_ONLY:
            for w in self.query(f"#g-{key}, #l-{key}"):
                w.set_class(words, "hidden")
        for key in PASSPHRASE_ONLY:
            for w in self.query(f"#g-{key}, #l-{key}"):
                w.set_class(not words, "hidden")

    def _number(self, key: str) -> int:
        text = self.query_one(f"#g-{key}", Input).value.strip()
        try:
            return int(text)
        except ValueError:
            raise InvalidInputError(f"the {key} must be a whole number") from None

    def draw(self) -> None:
        """A new value with the options as they are now (a problem is said, the old value kept)."""
        from vault.generator import generate_passphrase, generate_password

        problem = self.query_one("#problem", Static)
        try:
            if self._checked("passphrase"):
                separator = self.query_one("#g-separator", Input).value
                if any(not ch.isprintable() for ch in separator):
                    raise InvalidInputError("the separator must be printable")
                value = generate_passphrase(
                    self._number("words"),
                    separator=separator,
                    capitalize=self._checked("capitalize"),
                    add_digit=self._checked("add-digit"),
                )
            else:
                value = generate_password(
                    self._number("length"),
                    symbols=self._checked("symbols"),
                    digits=self._checked("digits"),
                    uppercase=self._checked("uppercase"),
                    avoid_ambiguous=self._checked("avoid-ambiguous"),
                )
        except InvalidInputError as exc:
            problem.update(str(exc))
            self.ok = False
            return
        problem.update("")
        self.ok = True
        self.value = value
        self.query_one("#value", Static).update(printable(value))
        self.query_one("#strength", StrengthMeter).show(value)

    @on(Checkbox.Changed)
    def _option(self) -> None:
        self._layout()
        self.draw()

    @on(Input.Changed)
    def _typed(self) -> None:
        self.draw()

    @on(Button.Pressed, "#again")
    def action_again(self) -> None:
        self.draw()

    @on(Button.Pressed, "#use")
    @on(Input.Submitted)
    def action_use(self) -> None:
        if self.ok:
            self.dismiss(self.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
