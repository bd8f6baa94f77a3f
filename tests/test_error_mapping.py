"""One mapping of errors to messages and exit codes serves the app and the CLI (runtime/errors.py)."""

from __future__ import annotations

from runtime.errors import EXIT_AUTH, EXIT_SYNC, EXIT_USAGE, explain
from sync.cloud import CloudAuthError, CloudError, CloudServerUnavailableError
from vault.errors import KitError, KitReason


def test_a_refused_session_means_sign_in_again_for_both_front_ends() -> None:
    code, message = explain(
        CloudAuthError("this device is not signed in to the server", "unauthorized")
    )
    assert (code, message) == (EXIT_AUTH, "this device is not signed in to the server")


def test_other_server_refusals_and_outages_are_sync_errors() -> None:
    assert explain(CloudError("quota exceeded", "quota"))[0] == EXIT_SYNC
    assert explain(CloudServerUnavailableError("the server did not answer"))[0] == EXIT_SYNC


def test_an_unreadable_kit_file_is_bad_input_and_a_foreign_kit_is_authentication() -> None:
    assert explain(KitError(KitReason.UNREADABLE, "x.png is not an image"))[0] == EXIT_USAGE
    assert explain(KitError(KitReason.OTHER_ACCOUNT, "another account"))[0] == EXIT_AUTH
