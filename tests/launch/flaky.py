"""Test process: prints 'run', then exits with code 3 (a crash for respawn tests)."""

import sys

print("run", flush=True)
sys.exit(3)
