"""The session cookie's signed format, itsdangerous' ``URLSafeTimedSerializer``, in one pass.

Theory of operation. A cookie is ``payload.timestamp.signature``, each part
URL-safe base64 without ``=`` padding:

- ``payload`` is the serializer's text as UTF-8, or ``.`` followed by its
  ``zlib.compress`` form when that is at least two bytes shorter;
- ``timestamp`` is ``int(time.time())`` as big-endian bytes, leading zero
  bytes dropped;
- ``signature`` is ``HMAC(derived key, payload.timestamp)``; the key is
  derived from the secret and the salt (``hmac``, ``concat``,
  ``django-concat`` or ``none``). The newest key signs; reading tries every
  key, newest first (key rotation).

itsdangerous builds a serializer, a signer per key and an HMAC object per
call, encodes and decodes each part through several layers, and derives
each key again every time. ``SignedSerializer`` derives the keys once, when
it is built for one key set, and does each base64, zlib and JSON step once,
with the same bytes out and the same cookies accepted: the tests check
itsdangerous' output against ours both ways. The signature is checked
before the payload is decompressed or parsed.
"""

from __future__ import annotations

import hmac
import time
import zlib
from binascii import a2b_base64, b2a_base64
from collections.abc import Callable, Sequence
from typing import Any

from itsdangerous import BadPayload, BadSignature, BadTimeSignature, SignatureExpired

#: A zlib stream is never shorter than 8 bytes (2 of header, at least 2 of
#: deflate data, 4 of Adler-32), and the compressed form is kept only when it
#: is shorter than ``len(text) - 1``: text under 10 bytes can never gain.
_NEVER_SHORTER = 10

_KEY_DERIVATIONS = frozenset({"concat", "django-concat", "hmac", "none"})


# base64.urlsafe_b64encode / urlsafe_b64decode, minus their argument checks.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _encode(data: bytes) -> bytes:
    return b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=")


def _decode(data: bytes) -> bytes:
    # As itsdangerous: padding restored, then the non-strict decoder (which
    # skips characters outside the alphabet), as urlsafe_b64decode calls it.
    return a2b_base64((data + b"=" * (-len(data) % 4)).translate(_FROM_URLSAFE))


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def derive_key(secret: bytes, salt: bytes, method: str, digest: Callable[..., Any]) -> bytes:
    """Return the signing key itsdangerous' ``Signer.derive_key`` makes from ``secret``."""
    if method == "hmac":
        return hmac.digest(secret, salt, digest)
    if method == "django-concat":
        return digest(salt + b"signer" + secret).digest()  # type: ignore[no-any-return]
    if method == "concat":
        return digest(salt + secret).digest()  # type: ignore[no-any-return]
    if method == "none":
        return secret
    raise TypeError("Unknown key derivation method")


class SignedSerializer:
    """Sign and check values in ``URLSafeTimedSerializer``'s format, keys derived once.

    ``secret_keys`` run oldest to newest, as itsdangerous takes them; the
    last one signs. ``serializer`` turns a value into text and back (its
    ``dumps`` must return ``str``). ``loads`` raises itsdangerous'
    ``BadSignature`` (``SignatureExpired`` past ``max_age``) or ``BadPayload``.
    """

    def __init__(
        self,
        secret_keys: Sequence[str | bytes],
        salt: str | bytes,
        serializer: Any,
        key_derivation: str = "hmac",
        digest_method: Callable[..., Any] | None = None,
    ) -> None:
        if digest_method is None:
            import hashlib

            digest_method = hashlib.sha1
        salt_bytes = _as_bytes(salt)
        keys = [
            derive_key(_as_bytes(key), salt_bytes, key_derivation, digest_method)
            for key in secret_keys
        ]
        if not keys:
            raise ValueError("At least one secret key is needed.")
        self._digest = digest_method
        self._signing_key = keys[-1]
        self._verify_keys = keys[::-1]  # newest first, as itsdangerous tries them
        self._serializer = serializer

    @staticmethod
    def supports(serializer: Any, key_derivation: str) -> bool:
        """Return True when the format can be made here: a text serializer, a known derivation."""
        return key_derivation in _KEY_DERIVATIONS and isinstance(serializer.dumps({}), str)

    def dumps(self, value: Any) -> str:
        """Serialize, compress when it pays, stamp and sign ``value``."""
        text = self._serializer.dumps(value).encode("utf-8")
        if len(text) >= _NEVER_SHORTER:
            compressed = zlib.compress(text)
            if len(compressed) < len(text) - 1:
                text = compressed
                signed = b"." + _encode(text)
            else:
                signed = _encode(text)
        else:
            signed = _encode(text)
        stamp = int(time.time())
        signed += b"." + _encode(stamp.to_bytes((stamp.bit_length() + 7) // 8, "big"))
        signature = _encode(hmac.digest(self._signing_key, signed, self._digest))
        return (signed + b"." + signature).decode("ascii")

    def loads(self, value: str | bytes, max_age: int | None = None) -> Any:
        """Check the signature (and the age) of ``value``, then decode it."""
        signed, sep, signature = _as_bytes(value).rpartition(b".")
        if not sep:
            raise BadSignature("No '.' found in value")
        try:
            expected = _decode(signature)
        except ValueError:
            raise BadSignature("Signature is not base64") from None
        digest = self._digest
        for key in self._verify_keys:
            if hmac.compare_digest(expected, hmac.digest(key, signed, digest)):
                break
        else:
            raise BadSignature("Signature does not match")
        payload, sep, stamp_text = signed.rpartition(b".")
        if not sep:
            raise BadTimeSignature("timestamp missing")
        try:
            stamp_bytes = _decode(stamp_text)
        except ValueError:
            raise BadTimeSignature("Malformed timestamp") from None
        if len(stamp_bytes) > 8:
            raise BadTimeSignature("Malformed timestamp")
        if max_age is not None:
            age = int(time.time()) - int.from_bytes(stamp_bytes, "big")
            if age > max_age or age < 0:
                raise SignatureExpired(f"Signature age {age} outside 0..{max_age} seconds")
        try:
            if payload[:1] == b".":
                text = zlib.decompress(_decode(payload[1:]))
            else:
                text = _decode(payload)
            return self._serializer.loads(text.decode("utf-8"))
        except Exception as error:
            raise BadPayload("Could not decode the payload", original_error=error) from error
