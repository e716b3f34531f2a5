"""Import -> distribution: user mapping, installed metadata, shipped table, identity; stdlib per
target Python; the project's own modules."""

from __future__ import annotations

import json

import pytest

from samepack.scan.resolve.local import local_modules
from samepack.scan.resolve.mapping import DATA, DistributionResolver, InstalledIndex, table_lookup
from samepack.scan.resolve.stdlib import VERSIONS, is_stdlib, stdlib_modules


@pytest.mark.parametrize("dotted,module,distribution", [
    ("sklearn.ensemble.RandomForestClassifier", "sklearn", "scikit-learn"),
    ("cv2", "cv2", "opencv-python"), ("PIL.Image", "PIL", "pillow"), ("yaml", "yaml", "pyyaml"),
    ("bs4", "bs4", "beautifulsoup4"), ("skimage.io", "skimage", "scikit-image"),
    ("attr", "attr", "attrs"), ("git", "git", "GitPython"), ("dateutil.parser", "dateutil", "python-dateutil"),
    ("google.protobuf.message", "google.protobuf", "protobuf"),
    ("google.cloud.storage.blob", "google.cloud.storage", "google-cloud-storage"),
    ("google.cloud.bigquery", "google.cloud.bigquery", "google-cloud-bigquery"),
    ("azure.storage.blob.BlobClient", "azure.storage.blob", "azure-storage-blob"),
    ("azure.identity", "azure.identity", "azure-identity"),
])
def test_shipped_table(dotted, module, distribution):
    assert table_lookup(dotted) == (module, distribution)


def test_table_has_at_least_a_hundred_mismatches():
    modules = json.loads(DATA.read_text())["modules"]
    mismatches = [k for k, v in modules.items() if k.lower().replace("_", "-") != v.lower().replace("_", "-")]
    assert len(mismatches) >= 80 and len(modules) >= 100


def test_identity_and_user_mapping_win_order():
    resolver = DistributionResolver({"cv2": "opencv-python-headless", "vendored": ""}, use_installed=False)
    assert resolver.resolve("cv2").distribution == "opencv-python-headless"
    assert resolver.resolve("cv2").source == "user"
    assert resolver.resolve("vendored.x").distribution is None
    assert resolver.resolve("some_unknown_pkg.sub").distribution == "some-unknown-pkg"
    assert resolver.resolve("some_unknown_pkg.sub").source == "identity"


def test_installed_metadata_knows_what_is_installed_here():
    index = InstalledIndex()
    assert index.lookup("yaml") == ("yaml", "PyYAML") or index.lookup("yaml")[1].lower() == "pyyaml"
    assert index.lookup("packaging.version")[1] == "packaging"
    # a namespace directory shared by distributions decides nothing
    assert index.lookup("google.some_namespace_thing_not_installed") is None
    assert index.lookup("definitely_not_installed_module") is None


@pytest.mark.parametrize("module,version,expected", [
    ("distutils", "3.11", True), ("distutils", "3.12", False), ("imp", "3.11", True),
    ("imp", "3.12", False), ("asynchat", "3.11", True), ("asynchat", "3.12", False),
    ("tomllib", "3.10", False), ("tomllib", "3.11", True), ("zoneinfo", "3.8", False),
    ("zoneinfo", "3.9", True), ("cgi", "3.12", True), ("cgi", "3.13", False),
    ("os.path", "3.14", True), ("numpy", "3.11", False), ("annotationlib", "3.14", True),
])
def test_stdlib_of_the_target_python(module, version, expected):
    assert is_stdlib(module, version) is expected


def test_every_version_ships_a_list():
    for version in VERSIONS:
        assert {"os", "sys", "json"} <= stdlib_modules(version)


def test_local_modules_root_src_and_siblings():
    local = local_modules(["app.py", "utils/__init__.py", "src/pkg/__init__.py", "scripts/run.py",
                           "scripts/helper.py", "notebooks/a.ipynb", "9bad/x.py"])
    assert local.is_local("utils.io", "app.py")
    assert local.is_local("pkg.core", "notebooks/a.ipynb")
    assert local.is_local("helper", "scripts/run.py")
    assert not local.is_local("helper", "app.py")
    assert not local.is_local("numpy", "app.py")
