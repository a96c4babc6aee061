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

Known cookies. A client sends the same session cookie on request after
request (the one it was last given), and checking its signature is most of
the cost of reading it (two hash runs, three base64 decodes). A
``SignedSerializer`` keeps the cookies it signed or verified, each with its
timestamp, payload part and text: a cookie found there, character for
character, is not checked again, since the same bytes under the same keys
have the same signature (a new key set builds a new serializer, with
nothing known). Its age is still judged on every read, and its text still
parsed, so each request gets data of its own. The set is bounded
(``_KNOWN_COOKIES``, emptied when full; cookies or texts longer than
``_KNOWN_SIZE`` are not kept). Only exact matches are found: a dict lookup
compares a string with a kept one only when their (keyed, per process)
hashes are equal, so an altered cookie learns nothing from the timing.
"""

from __future__ import annotations

import hmac
import time
import zlib
from binascii import a2b_base64, b2a_base64
from collections.abc import Callable, Sequence
from hmac import compare_digest
from typing import Any

from itsdangerous import BadPayload, BadSignature, BadTimeSignature, SignatureExpired

#: A zlib stream is never shorter than 8 bytes (2 of header, at least 2 of
#: deflate data, 4 of Adler-32), and the compressed form is kept only when it
#: is shorter than ``len(text) - 1``: text under 10 bytes can never gain.
_NEVER_SHORTER = 10

_KEY_DERIVATIONS = frozenset({"concat", "django-concat", "hmac", "none"})

#: How many cookies a ``SignedSerializer`` keeps as known (signed or verified
#: by it), and the longest cookie or text it keeps (past it: checked each time).
_KNOWN_COOKIES = 512
_KNOWN_SIZE = 4096


# base64.urlsafe_b64encode / urlsafe_b64decode, minus their argument checks. The
# encoder's newline is stripped with the padding (neither is in the alphabet): cheaper
# than passing ``newline=False``, a keyword to parse on each call.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
#: The ``=`` padding a base64 text of each length modulo 4 lacks (``b"=" * (-len % 4)``).
_PADDING = (b"", b"===", b"==", b"=")


def _decode(data: bytes) -> bytes:
    # As itsdangerous: padding restored, then the non-strict decoder (which
    # skips characters outside the alphabet), as urlsafe_b64decode calls it.
    return a2b_base64((data + _PADDING[len(data) & 3]).translate(_FROM_URLSAFE))


def _as_bytes(value: str | bytes | bytearray) -> bytes:
    # A bytearray key (Flask accepts one) is taken as its bytes: under mypyc a
    # parameter typed ``str | bytes`` refuses it.
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


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


# RFC 2104: HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' the key
# zero-padded to the hash's block (hashed first when longer than a block).
_IPAD = bytes(byte ^ 0x36 for byte in range(256))
_OPAD = bytes(byte ^ 0x5C for byte in range(256))


def _mac_states(key: bytes, digest: Callable[..., Any]) -> tuple[Any, Any]:
    """Return the inner and outer hash states of HMAC with ``key`` absorbed.

    Signing copies them and hashes only the message: what ``hmac`` does per
    call (the pads, two hash set-ups) is done once per key.
    """
    inner = digest()
    block = inner.block_size
    if len(key) > block:
        key = digest(key).digest()
    key = key.ljust(block, b"\0")
    inner.update(key.translate(_IPAD))
    outer = digest()
    outer.update(key.translate(_OPAD))
    return inner, outer


class SignedSerializer:
    """Sign and check values in ``URLSafeTimedSerializer``'s format, keys derived once.

    ``secret_keys`` run oldest to newest, as itsdangerous takes them; the
    last one signs. ``serializer`` turns a value into text and back (its
    ``dumps`` must return ``str``). ``loads`` raises itsdangerous'
    ``BadSignature`` (``SignatureExpired`` past ``max_age``) or ``BadPayload``.
    """

    def __init__(
        self,
        secret_keys: Sequence[str | bytes | bytearray],
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
        self._signing_mac = _mac_states(keys[-1], digest_method)
        # Newest first, as itsdangerous tries them.
        self._verify_macs = [_mac_states(key, digest_method) for key in reversed(keys)]
        self._serializer = serializer
        #: The last second a value was signed in, its encoded timestamp part, and
        #: the cookies signed in it (payload part -> cookie; see ``_sign``).
        self._stamp: tuple[int, bytes, dict[bytes, str]] = (-1, b"", {})
        #: Cookies signed or verified here: value -> (timestamp, payload part, text).
        self._known: dict[str | bytes, tuple[int, bytes, str]] = {}

    @staticmethod
    def supports(serializer: Any, key_derivation: str, digest_method: Callable[..., Any]) -> bool:
        """Return True when the format can be made here.

        That is: a text serializer, a known key derivation, and a hashlib-style
        digest (``block_size``, ``copy``, ``update``, ``digest``).
        """
        if key_derivation not in _KEY_DERIVATIONS or not isinstance(serializer.dumps({}), str):
            return False
        try:
            state = digest_method()
            return bool(state.block_size >= 16 and callable(state.copy))  # hmac's own floor
        except (AttributeError, TypeError):
            return False

    def dumps(self, value: Any) -> str:
        """Serialize, compress when it pays, stamp and sign ``value``."""
        # Each step once; base64 is urlsafe_b64encode without "=", as itsdangerous writes it.
        text = self._serializer.dumps(value)
        data = text.encode()  # UTF-8 (no argument to parse)
        prefix = b""
        if len(data) >= _NEVER_SHORTER:
            compressed = zlib.compress(data)
            if len(compressed) < len(data) - 1:
                data, prefix = compressed, b"."
        payload = prefix + b2a_base64(data).translate(_TO_URLSAFE).rstrip(b"=\n")
        return self._sign(payload, text)

    def sign_payload(self, payload: bytes) -> str:
        """Stamp and sign an encoded payload (a cookie's first part, as ``dumps`` makes it)."""
        return self._sign(payload, None)

    def _sign(self, payload: bytes, text: str | None) -> str:
        """The cookie of ``payload`` signed now; known afterwards when its ``text`` is given.

        A cookie is a function of the payload, the second and the key: one
        signed again in the same second (a refreshed permanent session, the
        same data written on request after request) is the cookie signed
        before, kept with the second (at most ``_KNOWN_COOKIES`` of them).
        """
        stamp = int(time.time())
        now = self._stamp  # one read: another thread may replace it
        if now[0] == stamp:
            cookie = now[2].get(payload)
            if cookie is not None:
                return cookie
        else:
            # The timestamp part changes once a second: encoded then, not per cookie.
            raw = stamp.to_bytes((stamp.bit_length() + 7) // 8, "big")
            encoded = b2a_base64(raw).translate(_TO_URLSAFE).rstrip(b"=\n")
            now = self._stamp = (stamp, b"." + encoded, {})
        signed = payload + now[1]
        inner_proto, outer = self._signing_mac
        inner = inner_proto.copy()
        inner.update(signed)
        outer = outer.copy()
        outer.update(inner.digest())
        signature = b2a_base64(outer.digest()).translate(_TO_URLSAFE).rstrip(b"=\n")
        cookie = (signed + b"." + signature).decode("ascii")
        made = now[2]
        if len(made) < _KNOWN_COOKIES and len(payload) <= _KNOWN_SIZE:
            made[payload] = cookie
        if text is not None:
            # The client sends this cookie back on its next request: known then.
            self._remember(cookie, stamp, payload, text)
        return cookie

    def _remember(self, value: str | bytes, stamp: int, payload: bytes, text: str) -> None:
        """Keep ``value`` as a known cookie (bounded: emptied when full)."""
        if len(value) > _KNOWN_SIZE or len(text) > _KNOWN_SIZE:
            return
        known = self._known
        if len(known) >= _KNOWN_COOKIES:
            # Emptied, not the oldest dropped: the first key of a dict whose front
            # was popped is found past every emptied slot (~5k instructions a cookie).
            known.clear()
        known[value] = (stamp, payload, text)

    def loads(self, value: str | bytes, max_age: int | None = None) -> Any:
        """Check the signature (and the age) of ``value``, then decode it."""
        return self.loads_with_payload(value, max_age)[0]

    def loads_with_payload(
        self, value: str | bytes, max_age: int | None = None
    ) -> tuple[Any, bytes]:
        """Return what ``loads`` returns and the encoded payload part, to re-sign unchanged."""
        known = self._known.get(value)
        if known is None:
            known = self._verify(value)
        # Known or just verified: its age judged now, its text parsed for this caller.
        stamp, payload, text = known
        if max_age is not None:
            age = int(time.time()) - stamp
            if age > max_age or age < 0:
                raise SignatureExpired(f"Signature age {age} outside 0..{max_age} seconds")
        try:
            return self._serializer.loads(text), payload
        except Exception as error:
            raise BadPayload("Could not decode the payload", original_error=error) from error

    def _verify(self, value: str | bytes) -> tuple[int, bytes, str]:
        """Check ``value``'s signature; return its timestamp, payload part and text (kept)."""
        raw = value.encode() if isinstance(value, str) else value  # UTF-8
        signed, sep, signature = raw.rpartition(b".")
        if not sep:
            raise BadSignature("No '.' found in value")
        # Each part decoded as ``_decode`` does, written out here: a call per
        # part cost more than the decoding itself.
        try:
            expected = a2b_base64(
                (signature + _PADDING[len(signature) & 3]).translate(_FROM_URLSAFE)
            )
        except ValueError:
            raise BadSignature("Signature is not base64") from None
        for inner_proto, outer_proto in self._verify_macs:
            inner = inner_proto.copy()
            inner.update(signed)
            outer = outer_proto.copy()
            outer.update(inner.digest())
            if compare_digest(expected, outer.digest()):
                break
        else:
            raise BadSignature("Signature does not match")
        payload, sep, stamp_text = signed.rpartition(b".")
        if not sep:
            raise BadTimeSignature("timestamp missing")
        try:
            stamp_bytes = a2b_base64(
                (stamp_text + _PADDING[len(stamp_text) & 3]).translate(_FROM_URLSAFE)
            )
        except ValueError:
            raise BadTimeSignature("Malformed timestamp") from None
        if len(stamp_bytes) > 8:
            raise BadTimeSignature("Malformed timestamp")
        try:
            if payload[:1] == b".":
                data = zlib.decompress(_decode(payload[1:]))
            else:
                data = a2b_base64((payload + _PADDING[len(payload) & 3]).translate(_FROM_URLSAFE))
            text = data.decode()  # UTF-8
        except Exception as error:
            raise BadPayload("Could not decode the payload", original_error=error) from error
        stamp = int.from_bytes(stamp_bytes)  # big-endian by default
        self._remember(value, stamp, payload, text)
        return stamp, payload, text
