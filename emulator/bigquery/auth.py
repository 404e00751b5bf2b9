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
    from cryptography.hazmat.primitives.asymmetric import rsa

    if seed is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    else:
        digest = hashlib.sha256(f"{seed}|{project}|{email}".encode()).digest()
        primes = _cached_primes(digest, bits)
        if primes is not None:
            key = _key_from_primes(*primes)
        else:
            key = _deterministic_rsa(random.Random(int.from_bytes(digest, "big")), bits)
            _store_primes(digest, bits, key)
    return _pem_and_id(key)


#: Environment variable naming the directory where derived keys' primes are kept between processes
#: (default: ``$XDG_CACHE_HOME/wallaroo-emulator/keys``, else ``~/.cache/wallaroo-emulator/keys``); empty
#: turns the cache off.
KEY_CACHE_ENV = "WALLAROO_EMULATOR_KEY_CACHE"


#: The user's cache folder, read when this module is imported: while an emulator is active,
#: ``XDG_CACHE_HOME`` points into a folder of its own (the SDK's token cache), gone at exit.
_USER_CACHE = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")


def _key_cache_dir() -> Path | None:
    configured = os.environ.get(KEY_CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    return Path(_USER_CACHE) / "wallaroo-emulator" / "keys"


def _key_cache_file(digest: bytes, bits: int) -> Path | None:
    folder = _key_cache_dir()
    return None if folder is None else folder / f"v1-{bits}-{digest.hex()}.json"


def _cached_primes(digest: bytes, bits: int) -> tuple[int, int] | None:
    """The primes derived before for ``digest`` (in any process), or None.

    Deriving a 2048-bit key costs ~0.2-0.4 s of modular exponentiation, paid by every new process
    that mints one (the tutorial's connection key). The derivation is a pure function of its inputs,
    so its result can be kept on disk like a compiler cache; an unreadable, malformed or wrong entry
    (the primes' product of the wrong size, a base-2 Fermat test failing) is ignored and derived again.
    """
    path = _key_cache_file(digest, bits)
    if path is None:
        return None
    try:
        entry = json.loads(path.read_text())
        p, q = int(entry["p"], 16), int(entry["q"], 16)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if p == q or (p * q).bit_length() != bits or any(pow(2, n - 1, n) != 1 for n in (p, q)):
        return None
    return p, q


def _store_primes(digest: bytes, bits: int, key: Any) -> None:
    """Keep ``key``'s primes for :func:`_cached_primes` (atomically; a cache that cannot be written is skipped)."""
    path = _key_cache_file(digest, bits)
    if path is None:
        return
    numbers = key.private_numbers()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
            json.dump({"p": format(numbers.p, "x"), "q": format(numbers.q, "x")}, handle)
        os.replace(handle.name, path)
    except OSError:
        return


def _pem_and_id(key: Any) -> tuple[str, str]:
    """The PKCS#8 PEM of ``key`` and its key id (SHA-1 of the public key's DER); google-auth's signer is told
    about the key, so loading the PEM again costs nothing (:func:`_remember_for_google_auth`)."""
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _remember_for_google_auth(pem, key)
    return pem, hashlib.sha1(public_der).hexdigest()


def _deterministic_rsa(rng: random.Random, bits: int = 2048) -> Any:
    """An RSA key of ``bits`` bits whose primes come from ``rng`` (Miller-Rabin with seeded witnesses)."""
    e = 65537
    while True:
        p = _prime(rng, bits // 2)
        q = _prime(rng, bits // 2)
        if p == q:
            continue
        phi = (p - 1) * (q - 1)
        if phi % e == 0:
            continue
        if (p * q).bit_length() != bits:
            continue
        return _key_from_primes(p, q)


def _key_from_primes(p: int, q: int, e: int = 65537) -> Any:
    """The RSA private key of primes ``p`` and ``q``.

    OpenSSL's key validation (primality of p and q again, ~50 ms for 2048 bits) is skipped: the primes
    passed :func:`_prime`'s tests and the other numbers are computed from them here.
    """
    from cryptography.hazmat.primitives.asymmetric import rsa

    if q > p:
        p, q = q, p
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p, q=q, d=d, dmp1=d % (p - 1), dmq1=d % (q - 1), iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def _small_primes(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(sieve[i * i :: i]))
    return [i for i in range(3, limit) if sieve[i]]


@functools.lru_cache(maxsize=1)
def _small_primes_products() -> tuple[int, int]:
    """Products of the odd primes below 1,000 and of those from 1,000 to 50,000 (built on first use).

    One gcd with each does all the trial divisions; the small one first, since it alone rejects most
    candidates at a quarter of the big one's cost.
    """
    small, large = 1, 1
    for prime in _small_primes(50_000):
        if prime < 1_000:
            small *= prime
        else:
            large *= prime
    return small, large


#: Miller-Rabin rounds whose witnesses are drawn for each probable prime (the derivation's definition:
#: changing it would change every key) and of them the rounds computed. A candidate reaching them passed
#: trial division and a base-2 Fermat test, after which a random 512- or 1024-bit composite survives with a
#: probability far below 2**-40 (Damgard, Landrock and Pomerance); two Miller-Rabin rounds bring it below
#: 2**-80. The other witnesses are drawn all the same, so every prime — and every key minted before —
#: stays as it was.
_MR_WITNESSES = 12
_MR_COMPUTED = 2


def _prime(rng: random.Random, bits: int) -> int:
    """A random prime: trial division by two gcds, a base-2 Fermat filter, then Miller-Rabin."""
    import math

    small, large = _small_primes_products()
    while True:
        candidate = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if math.gcd(candidate, small) != 1 or math.gcd(candidate, large) != 1:
            continue
        if pow(2, candidate - 1, candidate) != 1:
            continue
        if _miller_rabin(candidate, rng, _MR_WITNESSES, computed=_MR_COMPUTED):
            return candidate


def _miller_rabin(n: int, rng: random.Random, rounds: int, *, computed: int | None = None) -> bool:
    """Miller-Rabin with ``rounds`` witnesses drawn from ``rng``, the first ``computed`` of them tested."""
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for index in range(rounds):
        a = rng.randrange(2, n - 2)
        if computed is not None and index >= computed:
            continue
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


#: PEM text of the keys minted in this process -> their key objects, for google-auth's signer.
_minted_keys: dict[bytes, Any] = {}


def _remember_for_google_auth(pem: str, key: Any) -> None:
    """Let google-auth's RSA signer take ``key`` itself for its PEM instead of parsing it again.

    ``service_account.Credentials.from_service_account_info`` parses the PEM with cryptography, whose
    RSA validation costs ~50-100 ms per 2048-bit key; a tutorial loads the same key in every task run.
    ``RSASigner.from_string`` of google-auth's cryptography backend is wrapped (once per process) so
    that, for the exact PEM of a key minted here, it builds the signer on the key object it would
    have parsed; any other input goes to the original. Signatures and key ids are the same.
    """
    _minted_keys[pem.encode()] = key
    try:
        from google.auth.crypt import _cryptography_rsa
    except ImportError:  # google-auth without its cryptography backend: nothing to spare
        return
    signer = _cryptography_rsa.RSASigner
    current = signer.__dict__.get("from_string")
    if not isinstance(current, classmethod) or getattr(current.__func__, "_emulator_minted_keys", False):
        return
    original = current.__func__

    def from_string(cls: Any, key: Any, key_id: Any = None) -> Any:
        data = key.encode("utf-8") if isinstance(key, str) else key
        known = _minted_keys.get(data) if isinstance(data, bytes) else None
        if known is None:
            return original(cls, key, key_id=key_id)
        return cls(known, key_id=key_id)

    from_string._emulator_minted_keys = True  # type: ignore[attr-defined]
    from_string.__doc__ = original.__doc__
    signer.from_string = classmethod(from_string)


#: google-auth's environment variable naming a credentials file (its first ADC source).
CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
#: Size of the application-default key: it only has to sign JWTs nobody verifies, and a
#: deterministic 1024-bit key is several times cheaper to derive than a 2048-bit one.
ADC_KEY_BITS = 1024


#: The primes of the application-default key: what :func:`_deterministic_rsa` derives from its fixed inputs
#: (seed 0, ``application-default``, ``ADC_KEY_BITS``), written out so that entering an emulator derives
#: nothing (~30-100 ms of modular exponentiation); a test derives them again and compares.
_ADC_PRIMES = (
    0xE13FDACB675EE5C6C70999AAA200FDD7BE0D8CFC85DA0958AB00005E74ED94B3683EE02233807D072F5727EE1A056D775CBB95D151CBDA03F0C41818E7744FF9,
    0xC795D108494858EF1ADB567AF431AA6874D11879F8F7A54FA21C128B56BAE063ADEC1696D7ED93643AD62167E520C7BB3425A22C637A9AFB055CF522E56461AF,
)


@functools.lru_cache(maxsize=1)
def _adc_key_material() -> tuple[str, str]:
    return _pem_and_id(_key_from_primes(*_ADC_PRIMES))


def application_default_key(project: str) -> dict[str, Any]:
    """The service-account key of the emulator's application-default identity for ``project``.

    The RSA material is one deterministic key for every process (seed 0, whatever the project; its
    primes are written out in ``_ADC_PRIMES``): only ``project_id`` and ``client_email`` vary, so a
    fresh emulator per test pays nothing.
    """
    pem, key_id = _adc_key_material()
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
