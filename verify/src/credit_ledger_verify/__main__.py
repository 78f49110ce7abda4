"""`python -m credit_ledger_verify BUNDLE... --trust DIR`: the same as `credit-ledger-verify`."""

import sys

from credit_ledger_verify.cli import main

sys.exit(main())
