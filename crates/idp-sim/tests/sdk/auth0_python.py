"""Drives the simulator with Auth0's official Python SDK (auth0-python 6.x) on its defaults.

Usage: python3 auth0_python.py SIM_BASE_URL TLS_PORT   (e.g. http://127.0.0.1:40123 40124)

The SDK speaks https only and derives the Management API audience from the domain
(`https://{domain}/api/v2/`). So that nothing in the SDK is overridden, this script puts a
TLS front on 127.0.0.1:TLS_PORT in front of the plain-http simulator, with a throw-away
self-signed certificate trusted through the environment (SSL_CERT_FILE for httpx,
REQUESTS_CA_BUNDLE for requests). The simulator's canonical domain is `127.0.0.1:TLS_PORT`,
so the SDK's default audience is exactly the Management API identifier. Exits non-zero on the
first mismatch.
"""

import datetime
import ipaddress
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CONNECTION = "Username-Password-Authentication"
NEW_PASSWORD = "Blue-Harbour-Lamp-42"


def self_signed(directory):
    """A certificate for 127.0.0.1 (also its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "passgate idp-sim test front")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "front.pem")
    key_path = os.path.join(directory, "front.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def tls_front(port, upstream, cert_path, key_path):
    """Terminates TLS on 127.0.0.1:port and forwards bytes to the simulator."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    listener = socket.create_server(("127.0.0.1", port))
    host, upstream_port = upstream

    def serve():
        while True:
            raw, _ = listener.accept()
            try:
                tls = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            backend = socket.create_connection((host, upstream_port))
            threading.Thread(target=pipe, args=(tls, backend), daemon=True).start()
            threading.Thread(target=pipe, args=(backend, tls), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()


def control(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def expect(call, error_type, check=lambda e: True):
    try:
        call()
    except error_type as error:
        assert check(error), vars(error)
        return error
    raise AssertionError(f"expected {error_type.__name__}")


def main(base, tls_port):
    with tempfile.TemporaryDirectory() as directory:
        cert_path, key_path = self_signed(directory)
        # Trust the front the way an operator trusts a private CA: through the environment.
        os.environ["SSL_CERT_FILE"] = cert_path
        os.environ["REQUESTS_CA_BUNDLE"] = cert_path
        upstream = base.split("://", 1)[1].rsplit(":", 1)
        tls_front(tls_port, (upstream[0], int(upstream[1])), cert_path, key_path)
        run(base, f"127.0.0.1:{tls_port}")
    print("auth0-python: all checks passed")


def run(base, domain):
    # Imported after the environment names the CA bundle.
    from auth0.authentication import Database, GetToken
    from auth0.authentication.exceptions import Auth0Error
    from auth0.management import ManagementClient
    from auth0.management.errors import BadRequestError, NotFoundError

    audience = f"https://{domain}/api/v2/"

    # Client credentials with the SDK's default protocol (https) and audience.
    granted = GetToken(domain, "sim-client", client_secret="sim-secret").client_credentials(audience)
    assert granted["token_type"] == "Bearer" and granted["expires_in"] == 86400, granted
    assert "update:users" in granted["scope"].split(), granted
    expect(
        lambda: GetToken(domain, "sim-client", client_secret="wrong").client_credentials(audience),
        Auth0Error,
        lambda e: e.status_code == 401 and e.error_code == "access_denied",
    )

    # The management client fetches its own token with its default audience.
    client = ManagementClient(domain=domain, client_id="sim-client", client_secret="sim-secret")
    users = client.users.list_users_by_email(email="jane@example.com")
    assert len(users) == 1, users
    jane = users[0]
    assert jane.identities[0].connection == CONNECTION, jane
    assert jane.user_id.startswith("auth0|"), jane
    assert client.users.list_users_by_email(email="nobody@example.com") == []

    # PATCH users/{id}: a weak password is the connection's PasswordStrengthError.
    weak = expect(
        lambda: client.users.update(jane.user_id, password="short", connection=CONNECTION),
        BadRequestError,
    )
    assert weak.status_code == 400, vars(weak)
    assert weak.body["message"] == "PasswordStrengthError: Password is too weak", weak.body
    updated = client.users.update(jane.user_id, password=NEW_PASSWORD, connection=CONNECTION)
    assert updated.user_id == jane.user_id and updated.last_password_reset, updated
    history = expect(
        lambda: client.users.update(jane.user_id, password=NEW_PASSWORD, connection=CONNECTION),
        BadRequestError,
    )
    assert history.body["message"].startswith("PasswordHistoryError"), history.body
    expect(lambda: client.users.get("auth0|nobody"), NotFoundError)
    state = [u for u in control(base, "GET", "/_sim/users") if u["user_id"] == jane.user_id][0]
    assert state["password_changes"] == 1, state

    # Password-change ticket: 201 with a URL.
    ticket = client.tickets.change_password(user_id=jane.user_id, ttl_sec=3600)
    assert "/u/reset-password?ticket=" in ticket.ticket, ticket
    # A ticket for an application the tenant does not have.
    expect(
        lambda: client.tickets.change_password(user_id=jane.user_id, client_id="no-such-app"),
        BadRequestError,
        lambda e: e.body["message"] == "The client does not exist",
    )

    # change_password with the product's application (the one with the connection).
    database = Database(domain, "sim-app")
    sentence = database.change_password("jane@example.com", CONNECTION)
    assert sentence == "We've just sent you an email to reset your password.", sentence
    mails = control(base, "GET", "/_sim/mailbox")
    assert [m["to"] for m in mails] == ["jane@example.com"], mails


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), int(sys.argv[2]))
