"""The one rule for a test whose prerequisite is missing (wrk, nc, node, root...), shared by
every Python test (tests/integration, tests/netns):

  * on a developer's machine the test is skipped and says why;
  * under CI=true it FAILS, with one line naming what is missing, since CI runs as root with
    everything installed: a quiet skip there would be a green run that tested nothing.

unittest tests use @requires(condition, why) and skip_or_fail(self, why); scripts that report
through their exit status (tests/netns) use exit_skipped(why), which exits 77 (ctest's
SKIP_RETURN_CODE) or, under CI, 1.
"""
import functools
import os
import sys
import unittest

SKIP = 77  # ctest SKIP_RETURN_CODE


class MissingPrerequisite(AssertionError):
    """Raised under CI instead of a skip: unittest reports it as a failure."""


def in_ci():
    """True when the environment says CI (CI=true, as GitHub Actions and GitLab set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def message(why):
    """The one line printed for a missing prerequisite."""
    if in_ci():
        return f"missing prerequisite under CI=true (a skip here is a failure): {why}"
    return f"skipped: {why}"


def requires(condition, why):
    """Like unittest.skipUnless(condition, why) for a test method or class, but under CI
    the test fails with MissingPrerequisite instead of being skipped."""
    if condition:
        return lambda obj: obj
    if not in_ci():
        return unittest.skip(why)

    def fail(obj):
        if isinstance(obj, type):
            def set_up_class(cls):
                raise MissingPrerequisite(message(why))
            obj.setUpClass = classmethod(set_up_class)
            return obj

        @functools.wraps(obj)
        def failing(*_args, **_kwargs):
            raise MissingPrerequisite(message(why))
        return failing
    return fail


def skip_or_fail(test, why):
    """From inside a running unittest test: skipTest(why), or under CI a failure."""
    if in_ci():
        raise MissingPrerequisite(message(why))
    test.skipTest(why)


def exit_skipped(why):
    """For a script run by ctest: prints one line and exits 77 (skipped), or 1 under CI."""
    print(message(why), file=sys.stderr, flush=True)
    sys.exit(1 if in_ci() else SKIP)
