"""Drives the simulator with Auth0's official Python SDK (auth0-python 4.x).

Usage: python3 auth0_python.py BASE_URL   (e.g. http://127.0.0.1:40123)

Each check uses the SDK exactly as an application would, with protocol="http" because the
simulator speaks plain HTTP on loopback. Exits non-zero on the first mismatch.
"""

import json
import sys
import urllib.request

from auth0.authentication import Database, GetToken
from auth0.exceptions import Auth0Error, RateLimitError
from auth0.management import Tickets, Users, UsersByEmail
from auth0.rest import RestClientOptions

CONNECTION = "Username-Password-Authentication"
NEW_PASSWORD = "Blue-Harbour-Lamp-42"


def control(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def expect_error(call, status, check=lambda e: True):
    try:
        call()
    except Auth0Error as error:
        assert error.status_code == status, (error.status_code, error.message)
        assert check(error), (error.error_code, error.message)
        return error
    raise AssertionError(f"expected HTTP {status}")


def main(base):
    domain = base.split("://", 1)[1]
    audience = f"{base}/api/v2/"

    # Client credentials (auth0-python posts JSON; the simulator accepts JSON and forms).
    token = GetToken(domain, "sim-client", client_secret="sim-secret", protocol="http")
    granted = token.client_credentials(audience)
    assert granted["token_type"] == "Bearer" and granted["expires_in"] == 86400, granted
    assert "update:users" in granted["scope"].split(), granted
    access = granted["access_token"]
    expect_error(
        lambda: GetToken(domain, "sim-client", client_secret="wrong", protocol="http")
        .client_credentials(audience),
        401,
        lambda e: e.error_code == "access_denied",
    )

    # users-by-email: a JSON array of user objects with identities.
    by_email = UsersByEmail(domain, access, protocol="http")
    users = by_email.search_users_by_email("jane@example.com")
    assert len(users) == 1, users
    jane = users[0]
    assert jane["identities"][0]["connection"] == CONNECTION, jane
    assert jane["user_id"].startswith("auth0|"), jane
    assert "last_password_reset" not in jane, jane
    assert by_email.search_users_by_email("nobody@example.com") == []

    # PATCH users/{id}: policy errors, then success with last_password_reset.
    users_api = Users(domain, access, protocol="http")
    expect_error(
        lambda: users_api.update(jane["user_id"], {"password": "short", "connection": CONNECTION}),
        400,
        lambda e: e.message == "PasswordStrengthError: Password is too weak",
    )
    updated = users_api.update(jane["user_id"], {"password": NEW_PASSWORD, "connection": CONNECTION})
    assert updated["user_id"] == jane["user_id"] and "last_password_reset" in updated, updated
    expect_error(
        lambda: users_api.update(jane["user_id"], {"password": NEW_PASSWORD, "connection": CONNECTION}),
        400,
        lambda e: e.message.startswith("PasswordHistoryError"),
    )
    expect_error(
        lambda: users_api.get("auth0|nobody"), 404, lambda e: e.error_code == "inexistent_user"
    )
    state = [u for u in control(base, "GET", "/_sim/users") if u["user_id"] == jane["user_id"]][0]
    assert state["password_changes"] == 1, state

    # Password-change ticket: 201 with a URL.
    ticket = Tickets(domain, access, protocol="http").create_pswd_change(
        {"user_id": jane["user_id"], "result_url": "https://app.example.com/done", "ttl_sec": 3600}
    )
    assert ticket["ticket"].startswith(f"{base}/u/reset-password?ticket="), ticket

    # change_password: a text/html sentence, mailed for known users only.
    database = Database(domain, "sim-client", protocol="http")
    sentence = database.change_password("jane@example.com", CONNECTION)
    assert sentence == "We've just sent you an email to reset your password.", sentence
    mails = control(base, "GET", "/_sim/mailbox")
    assert [m["to"] for m in mails] == ["jane@example.com"], mails

    # 429: the SDK retries on its own, then raises RateLimitError with x-ratelimit-reset.
    control(base, "POST", "/_sim/faults", {
        "method": "GET", "path": "/api/v2/users-by-email", "times": 1,
        "kind": {"type": "rate_limit", "reset_in_secs": 0},
    })
    assert len(by_email.search_users_by_email("jane@example.com")) == 1
    control(base, "POST", "/_sim/faults", {
        "method": "GET", "path": "/api/v2/users-by-email",
        "kind": {"type": "rate_limit", "reset_in_secs": 30},
    })
    no_retry = UsersByEmail(
        domain, access, protocol="http", rest_options=RestClientOptions(retries=0)
    )
    try:
        no_retry.search_users_by_email("jane@example.com")
        raise AssertionError("expected RateLimitError")
    except RateLimitError as error:
        assert error.status_code == 429 and error.reset_at > 0, vars(error)
    control(base, "DELETE", "/_sim/faults")

    print("auth0-python: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
