"""Fuzz-style properties of the parsers issue 23 added: whatever arrives, each either answers or
refuses with its own error, never anything else (exit 70 stays unreachable)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.sshagent import FAILURE, IDENTITIES_ANSWER, ProtocolError, answer
from vault.errors import InvalidInputError
from vault.gitcred import parse_request, specificity
from vault.refs import parse_ref


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_ssh_agent_message_gets_an_answer_or_closes(
    tmp_path_factory: pytest.TempPathFactory, message: bytes
) -> None:
    home = str(tmp_path_factory.getbasetemp() / "no-agent-home")  # no unlock agent: no keys
    try:
        reply = answer(home, message)
    except ProtocolError:
        return
    assert reply[:1] in (bytes([FAILURE]), bytes([IDENTITIES_ANSWER]))
    if reply[:1] == bytes([IDENTITIES_ANSWER]):
        assert reply == bytes([IDENTITIES_ANSWER]) + b"\0\0\0\0"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.text(max_size=60))
def test_any_credential_request_parses_or_is_refused(text: str, website: str) -> None:
    try:
        req = parse_request(text)
    except InvalidInputError:
        return
    assert req.protocol and req.host
    score = specificity(website, req)
    assert score is None or score >= 0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_reference_parses_or_is_refused(text: str) -> None:
    try:
        ref = parse_ref("sr://" + text)
    except InvalidInputError:
        return
    assert ref.record.strip() and ref.field.strip()


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("htps:/[]@:.x1%\n=") | st.characters(), max_size=60),
    st.text(alphabet=st.sampled_from("htps:/[]@:.x1%") | st.characters(), max_size=60),
)
def test_any_credential_url_and_any_stored_website_parse_or_are_refused(
    url: str, website: str
) -> None:
    """git's url= attribute and a login's website go through urlsplit, which raises ValueError
    on an unclosed '[': a refusal for the request, no match for the website (both were exit 70)."""
    try:
        req = parse_request(f"url={url}\n")
    except InvalidInputError:
        req = parse_request("protocol=https\nhost=example.com\n")
    score = specificity(website, req)
    assert score is None or score >= 0
