"""The variable a lock names each literal index credential with: a host with one credential
keeps its host's name, a host whose places carry different credentials names each place's
for its path; the names depend on the set of URLs, not their order, and the lock's own
references read back with the project's files give the same names."""

from __future__ import annotations

from itertools import permutations

from samepack.lock.credentials import credential_names, credential_values, without_credentials

TEAM_A = "https://ci:tokA@artifactory.corp/api/pypi/team-a/simple"
TEAM_B = "https://ci:tokB@artifactory.corp/api/pypi/team-b/simple"
ELSEWHERE = "https://alice:pw@pypi.corp.example:8443/simple"


def _names(urls: list[str]) -> dict[str, tuple[str, ...]]:
    names = credential_names(urls)
    return {url: without_credentials(url, names)[1] for url in urls}


def test_a_host_with_one_credential_keeps_its_hosts_name():
    same_token = TEAM_B.replace("tokB", "tokA")
    assert _names([TEAM_A, same_token, ELSEWHERE]) == {
        TEAM_A: ("SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD",),
        same_token: ("SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD",),
        ELSEWHERE: ("SAMEPACK_INDEX_PYPI_CORP_EXAMPLE_8443_PASSWORD",)}
    # alone, as before: the host's name
    assert without_credentials(TEAM_A) == (
        "https://ci:${SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD}@artifactory.corp/api/pypi/team-a/simple",
        ("SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD",))


def test_two_credentials_on_one_host_get_a_name_each_from_their_paths():
    names = credential_names([TEAM_A, TEAM_B, ELSEWHERE])
    assert without_credentials(TEAM_A, names)[0] == (
        "https://ci:${SAMEPACK_INDEX_ARTIFACTORY_CORP_TEAM_A_PASSWORD}@artifactory.corp/api/pypi/"
        "team-a/simple")
    assert credential_values(TEAM_B, names) == {
        "SAMEPACK_INDEX_ARTIFACTORY_CORP_TEAM_B_PASSWORD": "tokB"}
    # another host is not concerned
    assert credential_values(ELSEWHERE, names) == {
        "SAMEPACK_INDEX_PYPI_CORP_EXAMPLE_8443_PASSWORD": "pw"}


def test_tokens_and_other_servers_layouts():
    nexus = ["https://tok1@nexus.corp/repository/pypi-ml/simple/",
             "https://tok2@nexus.corp/repository/pypi-data/simple/"]
    gitlab = ["https://__token__:glpat-1@gitlab.corp/api/v4/projects/12/packages/pypi/simple",
              "https://__token__:glpat-2@gitlab.corp/api/v4/groups/7/-/packages/pypi/simple"]
    named = _names(nexus + gitlab)
    assert [named[url] for url in nexus + gitlab] == [
        ("SAMEPACK_INDEX_NEXUS_CORP_PYPI_ML_TOKEN",),
        ("SAMEPACK_INDEX_NEXUS_CORP_PYPI_DATA_TOKEN",),
        ("SAMEPACK_INDEX_GITLAB_CORP_V4_PROJECTS_12_PASSWORD",),
        ("SAMEPACK_INDEX_GITLAB_CORP_V4_GROUPS_7_PASSWORD",)]


def test_names_do_not_depend_on_the_order_of_the_urls():
    urls = [TEAM_A, TEAM_B, ELSEWHERE, "https://ci:tokC@artifactory.corp/api/pypi/team-c/simple"]
    seen = {tuple(sorted(_names(list(order)).items())) for order in permutations(urls)}
    assert len(seen) == 1
    assert len({variables for _, variables in next(iter(seen))}) == 4


def test_paths_that_read_alike_still_get_names_of_their_own():
    dotted = "https://ci:tok1@art.corp/team.a/simple"
    dashed = "https://ci:tok2@art.corp/team-a/simple"
    root = "https://ci:tok3@art.corp/"
    named = _names([dotted, dashed, root])
    assert len({named[url] for url in (dotted, dashed, root)}) == 3
    assert named[root] == ("SAMEPACK_INDEX_ART_CORP_ROOT_PASSWORD",)
    assert all(variables[0].startswith("SAMEPACK_INDEX_ART_CORP_TEAM_A_")
               for variables in (named[dotted], named[dashed]))
    assert _names([dashed, dotted]) == {dashed: named[dashed], dotted: named[dotted]}


def test_the_locks_references_read_with_the_files_name_them_as_the_lock_did():
    """On env create and --check the lock's (or record's) URLs are references, the project's
    files literal: read together they give the names the lock was written with."""
    names = credential_names([TEAM_A, TEAM_B])
    lock_a = without_credentials(TEAM_A, names)[0]
    # the files hold only team-b (team-a came from a flag): still its own name
    assert credential_values(TEAM_B, credential_names([lock_a, TEAM_B])) == {
        "SAMEPACK_INDEX_ARTIFACTORY_CORP_TEAM_B_PASSWORD": "tokB"}
    # a host's one credential, referenced by its host's name: the literal keeps that name
    shared = without_credentials(TEAM_A)[0]
    same = TEAM_B.replace("tokB", "tokA")
    assert credential_values(same, credential_names([shared, same])) == {
        "SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD": "tokA"}
    # a user's own variable on the host is no credential of samepack's naming
    own = "https://ci:${MY_TEAM_A_TOKEN}@artifactory.corp/api/pypi/team-a/simple"
    assert credential_values(TEAM_B, credential_names([own, TEAM_B])) == {
        "SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD": "tokB"}
