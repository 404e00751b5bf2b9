"""Deterministic service-account keys: the same bytes as ever, cheap to mint, cheap for google-auth to load."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from emulator.bigquery import auth

#: (seed, project, email) -> (private_key_id, sha256 prefix of the PEM), recorded from the first
#: implementation: a faster derivation must mint the very same keys.
KNOWN_KEYS = {
    (0, "p1", "wallaroo-emulator@p1.iam.gserviceaccount.com"):
        ("82d204805c6b63562b7e5eb9ee7b3cdff5b19341", "c857c075c79e01fe"),
    (7, "house-price-demo", "wallaroo-emulator@house-price-demo.iam.gserviceaccount.com"):
        ("c64d4382f8a6da45f427d67f74d66da27c4dc6c5", "bb8d81d59ec73601"),
    (3, "x", "a@b.c"): ("05d594b308940fa082f843372253ecc1c4a1b3e9", "8f5927bc02edf78b"),
}


@pytest.mark.parametrize("args", sorted(KNOWN_KEYS))
def test_seeded_keys_are_the_ones_minted_before(args, monkeypatch):
    monkeypatch.setenv(auth.KEY_CACHE_ENV, "")  # derived here, not read from an earlier run's cache
    auth._key_material.cache_clear()
    pem, key_id = auth._key_material(*args)
    assert (key_id, hashlib.sha256(pem.encode()).hexdigest()[:16]) == KNOWN_KEYS[args]


def test_application_default_key_is_the_derived_one():
    """The written-out primes of the application-default key are what the derivation gives for its inputs."""
    digest = hashlib.sha256(b"0|application-default|application-default").digest()
    derived = auth._deterministic_rsa(random.Random(int.from_bytes(digest, "big")), auth.ADC_KEY_BITS)
    numbers = derived.private_numbers()
    assert {numbers.p, numbers.q} == set(auth._ADC_PRIMES)
    pem = auth.application_default_key("any")["private_key"]
    assert hashlib.sha256(pem.encode()).hexdigest()[:16] == "3f409a405cfb7d1e"
    assert auth.application_default_key("other")["private_key_id"] == "83fe9805fec7d549f98a523583924656734c260d"


def test_minted_primes_are_prime():
    digest = hashlib.sha256(b"prime-check").digest()
    key = auth._deterministic_rsa(random.Random(int.from_bytes(digest, "big")), 1024)
    numbers = key.private_numbers()
    for prime in (numbers.p, numbers.q):
        assert all(pow(a, prime - 1, prime) == 1 for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37))
    # OpenSSL's own consistency and primality checks accept the key
    serialization.load_pem_private_key(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()), password=None)


@pytest.mark.parametrize("as_bytes", [False, True])
def test_google_auth_signs_with_a_minted_key_as_with_the_parsed_key(as_bytes):
    """google-auth's signer for a key the emulator minted signs exactly as one parsed from the PEM."""
    from google.auth import crypt
    from google.oauth2 import service_account

    info = auth.mint_service_account_key("sign-proj", seed=5)
    pem = info["private_key"]
    signer = crypt.RSASigner.from_string(pem.encode() if as_bytes else pem, key_id="kid")
    assert signer.key_id == "kid"
    parsed = serialization.load_pem_private_key(pem.encode(), password=None)
    message = b"header.claims"
    signature = signer.sign(message)
    assert signature == parsed.sign(message, padding.PKCS1v15(), hashes.SHA256())
    parsed.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    credentials = service_account.Credentials.from_service_account_info(info)
    assert credentials.signer.sign(message) == signature
    assert credentials.signer.key_id == info["private_key_id"]


def test_google_auth_still_parses_other_keys():
    from google.auth import crypt

    other = auth._deterministic_rsa(random.Random(11), 1024)
    pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    signer = crypt.RSASigner.from_string(pem)
    assert signer.sign(b"m") == other.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(ValueError):
        crypt.RSASigner.from_string(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")


def _mint_fresh(project: str) -> dict:
    auth._key_material.cache_clear()
    return auth.mint_service_account_key(project, seed=7)


def test_derived_primes_are_kept_between_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.KEY_CACHE_ENV, str(tmp_path))
    first = _mint_fresh("cached-project")
    assert len(list(tmp_path.glob("v1-2048-*.json"))) == 1

    def no_derivation(*args: object, **kwargs: object) -> None:
        raise AssertionError("derived again despite the cache")

    monkeypatch.setattr(auth, "_deterministic_rsa", no_derivation)
    assert _mint_fresh("cached-project") == first


def test_a_corrupt_cache_entry_is_derived_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.KEY_CACHE_ENV, str(tmp_path))
    first = _mint_fresh("corrupt-project")
    (entry,) = tmp_path.glob("v1-2048-*.json")
    for junk in ("not json", '{"p": "7", "q": "b"}', '{"p": "zz"}', "[]"):
        entry.write_text(junk)
        assert _mint_fresh("corrupt-project") == first
    assert entry.read_text() != "[]"  # rewritten with the good primes


def test_an_empty_cache_setting_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.KEY_CACHE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    _mint_fresh("uncached-project")
    assert list(tmp_path.rglob("*.json")) == []
