"""The dashboard's third-party browser code (web/vendor/) is exactly what the pinned npm
package ships: tools/web-vendor/package.json pins uPlot to one version, its package-lock.json
holds that version's integrity hash, and web/vendor/uplot.esm.js and uplot.min.css (after
its license comment) are byte for byte the package's dist files as `npm ci` (scripts/setup)
installs them. The build embeds web/vendor/ and never reads node_modules, so it works before
npm ran; this test is what keeps the copies honest. Without node_modules it is skipped (a
failure under CI=true)."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

SOURCE = os.environ.get("DUPLEX_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENDOR = os.path.join(SOURCE, "tools", "web-vendor")
DIST = os.path.join(VENDOR, "node_modules", "uplot", "dist")
WEB = os.path.join(SOURCE, "web", "vendor")
VERSION = "1.6.32"


def read(path):
    with open(path, "rb") as f:
        return f.read()


class PinnedVersion(unittest.TestCase):
    def test_package_json_and_lock_pin_one_exact_version(self):
        with open(os.path.join(VENDOR, "package.json")) as f:
            package = json.load(f)
        self.assertEqual(package["dependencies"], {"uplot": VERSION})
        with open(os.path.join(VENDOR, "package-lock.json")) as f:
            lock = json.load(f)
        entry = lock["packages"]["node_modules/uplot"]
        self.assertEqual(entry["version"], VERSION)
        self.assertTrue(entry["integrity"].startswith("sha512-"), entry)

    def test_the_embedded_copies_keep_the_license(self):
        esm = read(os.path.join(WEB, "uplot.esm.js"))
        self.assertIn(b"(MIT Licensed)", esm[:300])
        self.assertIn(f"(v{VERSION})".encode(), esm[:300])
        css = read(os.path.join(WEB, "uplot.min.css"))
        self.assertTrue(css.startswith(b"/* uPlot v" + VERSION.encode()), css[:80])
        self.assertIn(b"MIT Licensed", css.split(b"*/", 1)[0])


@requires(os.path.isdir(DIST), f"{DIST} is missing: run scripts/setup (npm ci in tools/web-vendor)")
class SameBytesAsThePackage(unittest.TestCase):
    def test_installed_package_is_the_pinned_version(self):
        with open(os.path.join(VENDOR, "node_modules", "uplot", "package.json")) as f:
            self.assertEqual(json.load(f)["version"], VERSION)

    def test_esm_file_is_the_dist_file(self):
        self.assertEqual(read(os.path.join(WEB, "uplot.esm.js")),
                         read(os.path.join(DIST, "uPlot.esm.js")),
                         "web/vendor/uplot.esm.js differs from the package: "
                         "cp tools/web-vendor/node_modules/uplot/dist/uPlot.esm.js web/vendor/uplot.esm.js")

    def test_css_after_its_license_comment_is_the_dist_file(self):
        css = read(os.path.join(WEB, "uplot.min.css"))
        body = css.split(b"*/\n", 1)[1]
        self.assertEqual(body, read(os.path.join(DIST, "uPlot.min.css")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
