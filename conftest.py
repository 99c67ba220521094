"""Root conftest: shares the fixtures of tests/fixtures.py with every test under src/ and tests/."""

from tests.fixtures import *  # noqa: F403
