"""Google credentials for the emulator: service-account keys and the OAuth token endpoint.

:func:`mint_service_account_key` builds a key dict in the format Google issues (a real RSA key
in PKCS#8 PEM), which ``service_account.Credentials.from_service_account_info`` accepts
unchanged; it is what users store in Wallaroo connections. The emulator answers the token
exchange at the key's ``token_uri`` (Google's default, intercepted while an emulator is active)
with ``{"access_token", "expires_in": 3600, "token_type": "Bearer"}``. Signatures are not
verified: the emulator checks the grant's shape, not its cryptography.

:class:`ApplicationDefaultCredentials` gives code under an active emulator
application-default credentials (``google.auth.default()``, ``bigquery.Client()`` with no
arguments), through google-auth's documented first source: ``GOOGLE_APPLICATION_CREDENTIALS``.
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import itertools
import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from emulator.transport import Request, Response

TOKEN_URI = "https://oauth2.googleapis.com/token"
_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def mint_service_account_key(
    project: str,
    *,
    extra: dict[str, Any] | None = None,
    client_email: str | None = None,
    seed: int | None = 0,
) -> dict[str, Any]:
    """A service-account key dict for ``project`` with a real 2048-bit RSA key.

    With a ``seed`` the key is derived deterministically from (seed, project, client_email), so
    the same arguments give byte-identical keys; ``seed=None`` draws a fresh random key.
    ``extra`` keys (e.g. ``dataset``, ``table``) are merged in, as Wallaroo connections store them.
    """
    email = client_email or f"wallaroo-emulator@{project}.iam.gserviceaccount.com"
    pem, key_id = _key_material(seed, project, email)
    return _key_info(project, email, pem, key_id, extra)


def _key_info(project: str, email: str, pem: str, key_id: str, extra: dict[str, Any] | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": key_id,
        "private_key": pem,
        "client_email": email,
        "client_id": str(int(hashlib.sha256(email.encode()).hexdigest()[:20], 16)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URI,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    if extra:
        info.update(extra)
    return info


@functools.lru_cache(maxsize=64)
def _key_material(seed: int | None, project: str, email: str, bits: int = 2048) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if seed is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    else:
        digest = hashlib.sha256(f"{seed}|{project}|{email}".encode()).digest()
        key = _deterministic_rsa(random.Random(int.from_bytes(digest, "big")), bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, hashlib.sha1(public_der).hexdigest()


def _deterministic_rsa(rng: random.Random, bits: int = 2048) -> Any:
    """An RSA key of ``bits`` bits whose primes come from ``rng`` (Miller-Rabin with seeded witnesses)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    e = 65537
    while True:
        p = _prime(rng, bits // 2)
        q = _prime(rng, bits // 2)
        if p == q:
            continue
        phi = (p - 1) * (q - 1)
        if phi % e == 0:
            continue
        n = p * q
        if n.bit_length() != bits:
            continue
        d = pow(e, -1, phi)
        if q > p:
            p, q = q, p
        numbers = rsa.RSAPrivateNumbers(
            p=p, q=q, d=d, dmp1=d % (p - 1), dmq1=d % (q - 1), iqmp=pow(q, -1, p),
            public_numbers=rsa.RSAPublicNumbers(e, n),
        )
        return numbers.private_key()


def _small_primes(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(sieve[i * i :: i]))
    return [i for i in range(3, limit) if sieve[i]]


@functools.lru_cache(maxsize=1)
def _small_primes_product() -> int:
    """Product of the odd primes below 50,000: one gcd does all the trial divisions (built on first use)."""
    product = 1
    for prime in _small_primes(50_000):
        product *= prime
    return product


def _prime(rng: random.Random, bits: int) -> int:
    """A random prime: trial division by one gcd, a base-2 Fermat filter, then Miller-Rabin."""
    import math

    while True:
        candidate = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if math.gcd(candidate, _small_primes_product()) != 1:
            continue
        if pow(2, candidate - 1, candidate) != 1:
            continue
        if _miller_rabin(candidate, rng, 12):
            return candidate


def _miller_rabin(n: int, rng: random.Random, rounds: int) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(rounds):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


#: google-auth's environment variable naming a credentials file (its first ADC source).
CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
#: Size of the application-default key: it only has to sign JWTs nobody verifies, and a
#: deterministic 1024-bit key is several times cheaper to derive than a 2048-bit one.
ADC_KEY_BITS = 1024


def application_default_key(project: str) -> dict[str, Any]:
    """The service-account key of the emulator's application-default identity for ``project``.

    The RSA material is one deterministic key per process (derived once, whatever the project):
    only ``project_id`` and ``client_email`` vary, so a fresh emulator per test pays nothing.
    """
    pem, key_id = _key_material(0, "application-default", "application-default", ADC_KEY_BITS)
    email = f"application-default@{project}.iam.gserviceaccount.com"
    return _key_info(project, email, pem, key_id, None)


_adc_folder: list[Path] = []  # one private temporary folder per process, created on first use
_adc_files = itertools.count(1)


def _private_folder() -> Path:
    """The process's folder for key files (removed when the interpreter exits).

    One folder for the whole process: removing a directory costs milliseconds on some file
    systems, removing a file almost nothing, and a fresh emulator per test must stay cheap.
    """
    if not _adc_folder:
        folder = Path(tempfile.mkdtemp(prefix="wallaroo-emulator-adc-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _adc_folder.append(folder)
    return _adc_folder[0]


class ApplicationDefaultCredentials:
    """Application-default credentials while an emulator is active.

    google-auth's ``default()`` looks first at ``GOOGLE_APPLICATION_CREDENTIALS`` (then at
    gcloud's own file, App Engine and the metadata server). When the user has not set that
    variable (unset or empty), :meth:`activate` writes a service-account key file for the
    emulator's application-default identity into a private temporary folder and points the
    variable at it; so ``google.auth.default()`` returns service-account credentials whose token
    exchange the emulator answers, and the project is ``GOOGLE_CLOUD_PROJECT`` when set (google-auth
    prefers it), else the key's ``project_id``: :meth:`effective_project`. A child process (an
    isolated task run) inherits the variable and the file. Leaving the emulator deletes the file
    and puts the variable back as it was, unless the user's code changed it meanwhile (the folder
    itself goes when the process exits). A value the user set beforehand is left alone: their key
    file is used, and the emulator answers its token exchange like any other.
    """

    def __init__(self, default_project: Callable[[], str]) -> None:
        self._default_project = default_project
        #: The project chosen explicitly (by a seed, or ``emu.adc_project = ...``), if any.
        self.project: str | None = None
        self._path: Path | None = None

    def effective_project(self) -> str:
        return self.project or self._default_project()

    @property
    def key_file(self) -> Path | None:
        """The key file the emulator wrote, while active (``None`` when the user's value is in use)."""
        return self._path

    def set_project(self, project: str | None) -> None:
        self.project = project
        if self._path is not None:
            self._write(self._path)

    def _write(self, path: Path) -> None:
        path.write_text(json.dumps(application_default_key(self.effective_project()), indent=2), encoding="utf-8")

    def activate(self) -> Callable[[], None]:
        previous = os.environ.get(CREDENTIALS_ENV)
        if previous:  # the user's own credentials file wins
            return lambda: None
        path = _private_folder() / f"application_default_credentials-{next(_adc_files)}.json"
        self._write(path)
        self._path = path
        os.environ[CREDENTIALS_ENV] = str(path)

        def restore() -> None:
            self._path = None
            if os.environ.get(CREDENTIALS_ENV) == str(path):
                if previous is None:
                    del os.environ[CREDENTIALS_ENV]
                else:
                    os.environ[CREDENTIALS_ENV] = previous
            path.unlink(missing_ok=True)

        return restore


def token_endpoint(request: Request) -> Response:
    """``POST <token_uri>``: answer a JWT-bearer (or refresh-token) grant with an access token."""
    form = parse_qs(request.body.decode("utf-8", "replace"))
    grant = (form.get("grant_type") or [""])[0]
    if grant == _JWT_GRANT:
        assertion = (form.get("assertion") or [""])[0]
        claims = _jwt_claims(assertion)
        if claims is None:
            return Response.json({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400)
        subject = str(claims.get("iss", "service-account"))
    elif grant == "refresh_token":
        subject = "user"
    else:
        return Response.json({"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}, 400)
    token = "ya29.emulator." + hashlib.sha256(subject.encode()).hexdigest()[:32]
    return Response.json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})


def _jwt_claims(assertion: str) -> dict[str, Any] | None:
    parts = assertion.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) and "iss" in claims else None
