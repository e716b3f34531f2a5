"""The layer that talks to a cluster, against a real API server (tests/k8s/controlplane.py):
errors carry the server's reason and a hint that fits, requests time out, discovery follows the
cluster as it is now."""

from __future__ import annotations

import socket
import threading

import pytest

from samepack.errors import RemoteError
from samepack.k8s.api.cluster import Cluster

pytestmark = pytest.mark.xdist_group("k8s-api")


def _cluster(path) -> Cluster:
    import os

    os.environ["KUBECONFIG"] = str(path)
    return Cluster.connect()


def test_forbidden_user_gets_the_servers_reason_and_an_rbac_hint(kube, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig("viewer")))
    with pytest.raises(RemoteError) as caught:
        Cluster.connect().nodes()
    error = caught.value
    assert "403 Forbidden" in error.message
    assert 'User "viewer" cannot list resource "nodes"' in error.message
    assert "kubectl auth can-i" in error.hint


def test_wrong_ca_is_named_as_a_certificate_problem(kube, monkeypatch, tmp_path):
    from tests.k8s.controlplane import make_pki

    other = tmp_path / "other-pki"
    make_pki(other)
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig(ca=other / "ca.crt")))
    with pytest.raises(RemoteError) as caught:
        Cluster.connect()
    assert "certificate is not trusted" in caught.value.message
    assert "certificate-authority" in caught.value.hint


def test_unknown_client_certificate_is_a_401_with_a_credentials_hint(kube, monkeypatch, tmp_path):
    from tests.k8s.controlplane import make_pki

    other = tmp_path / "other-pki"
    make_pki(other)
    path = kube.kubeconfig()
    text = path.read_text()
    import base64

    for name in ("crt", "key"):
        mine = base64.b64encode((kube.pki / f"admin.{name}").read_bytes()).decode()
        theirs = base64.b64encode((other / f"admin.{name}").read_bytes()).decode()
        text = text.replace(mine, theirs)
    bad = tmp_path / "kubeconfig"
    bad.write_text(text)
    monkeypatch.setenv("KUBECONFIG", str(bad))
    with pytest.raises(RemoteError) as caught:
        Cluster.connect()
    assert "401 Unauthorized" in caught.value.message
    assert "credentials" in caught.value.hint


def test_a_server_that_never_answers_times_out(kube, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():  # take connections, never answer
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig(server=f"https://127.0.0.1:{port}")))
        monkeypatch.setenv("SAMEPACK_K8S_REQUEST_TIMEOUT", "1")
        with pytest.raises(RemoteError, match="did not answer within 1 s"):
            Cluster.connect()
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_422_carries_the_servers_field_message(kube):
    cluster = Cluster.connect()
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "bad", "namespace": "default"},
           "spec": {"template": {"spec": {"restartPolicy": "Always",
                                          "containers": [{"name": "c", "image": "x"}]}}}}
    with pytest.raises(RemoteError) as caught:
        cluster.apply(job, dry_run=True)
    assert "422 Unprocessable Entity" in caught.value.message
    assert 'Job.batch "bad" is invalid: spec.template.spec.restartPolicy' in caught.value.message
    assert "fix the field" in caught.value.hint



def test_404_names_what_is_missing_with_its_own_hint(kube):
    cluster = Cluster.connect()
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "x", "namespace": "no-such-namespace"}}
    with pytest.raises(RemoteError) as caught:
        cluster.apply(config)
    assert "404 Not Found" in caught.value.message
    assert 'namespaces "no-such-namespace" not found' in caught.value.message
    assert "--namespace" in caught.value.hint and "permissions" not in caught.value.hint


@pytest.mark.parametrize("status, words", [(401, "credentials"), (403, "kubectl auth can-i"),
                                           (404, "CRD"), (409, "again"), (422, "fix the field"),
                                           (500, "health"), (418, "server's message")])
def test_each_status_gets_its_own_hint(status, words):
    from samepack.k8s.api.errors import api_error

    error = api_error("applying Job/x", status, "Reason", b'{"message": "m"}')
    assert error.message == f"applying Job/x: the API server answered {status} Reason: m"
    assert words in error.hint


def test_quoted_objects_in_a_servers_message_are_shortened():
    import json

    from samepack.k8s.api.errors import api_error

    body = json.dumps({"message": 'Job.batch "t" is invalid: spec.template: Invalid value: '
                                  '{"labels":{"a":"b"},"spec":{"containers":[{"name":"c"}]}}: '
                                  'field is immutable'})
    error = api_error("applying Job/t", 422, "Unprocessable Entity", body)
    assert error.message.endswith('Job.batch "t" is invalid: spec.template: Invalid value: {...}: '
                                  'field is immutable')
    assert error.immutable
