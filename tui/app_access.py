"""The one typed way from a widget or screen to the running StrongroomApp.

Textual types `self.app` as `App[object]`; screens need the app's own attributes (vault, home,
sync runtime). This checks the type once instead of a `# type: ignore` at every use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.dom import DOMNode

    from .app import StrongroomApp


def strongroom_app(node: DOMNode | Provider) -> StrongroomApp:
    """The StrongroomApp `node` belongs to (TypeError if it runs in another app)."""
    from .app import StrongroomApp

    app = node.app
    if not isinstance(app, StrongroomApp):
        raise TypeError(f"{type(node).__name__} runs in {type(app).__name__}, not StrongroomApp")
    return app
