#!/usr/bin/env python3
"""Verifies the DKIM signature of a message with dkimpy, answering the DNS
query for the selector from a file instead of DNS.

  python3 tests/dkim_verify.py MESSAGE.eml DNS_TXT_FILE

Exit 0 and print "ok" when the signature verifies; 1 otherwise; 3 when
dkimpy is not installed (the caller skips).
"""

import logging
import sys

try:
    import dkim
except ImportError:
    print("dkimpy is not installed: pip install dkimpy", file=sys.stderr)
    sys.exit(3)


def main():
    message = open(sys.argv[1], "rb").read()
    txt = open(sys.argv[2], "rb").read().strip()

    def dnsfunc(name, timeout=5):
        return txt

    # dkimpy explains a rejection at debug level: show it on failure.
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(message)s")
    logger = logging.getLogger("dkim")
    ok = dkim.verify(message, dnsfunc=dnsfunc, logger=logger)
    print("ok" if ok else "signature does not verify")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
