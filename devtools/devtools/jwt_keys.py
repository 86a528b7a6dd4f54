"""Access-token keys for ops (docs/security.md, "Tokens"): `python -m devtools.jwt_keys public --secret-id ARN`
prints the public keys of the auth function's key ring (the JwtSigningKey secret, read with your own AWS
credentials) on one line, the value of the template parameter JwtPublicKeys; `new` prints a new private key
(PEM) to put first in that secret when rotating.
"""

from __future__ import annotations

import argparse
import sys

from ticketing.signing_keys import generate_private_key_pem, parse_key_ring


def public_keys_line(ring_text: str) -> str:
    """Every verifying key of the ring as PEM with its newlines turned into spaces (a CloudFormation parameter
    is one line; the key parser reads either form)."""
    return " ".join(" ".join(pem.split()) for _, pem in parse_key_ring(ring_text).public_keys_pem())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["public", "new"])
    parser.add_argument("--secret-id", help="the JwtSigningKey secret (else the key ring is read from stdin)")
    args = parser.parse_args()
    if args.command == "new":
        print(generate_private_key_pem(), end="")
        return
    if args.secret_id:
        import boto3

        ring_text = boto3.client("secretsmanager").get_secret_value(SecretId=args.secret_id)["SecretString"]
    else:
        ring_text = sys.stdin.read()
    print(public_keys_line(ring_text))


if __name__ == "__main__":
    main()
