"""Reading manifests: documents, positions, broken and hostile YAML, what is skipped."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.support import lint
from zdlint.cli import main
from zdlint.k8s.load import MAX_NODES, BrokenDocument, Document, load_documents
from zdlint.k8s.model import objects_in

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "k8s" / "tutorial"

SINGLE_REPLICA = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: app
          image: example.com/app:1.0
"""


def deployment(name: str) -> str:
    return SINGLE_REPLICA.format(name=name)


def test_positions_are_one_based_and_point_at_the_field():
    text = "---\n" + deployment("web")
    findings = [f for f in lint(text, "web.yaml") if f.code == "ZK205"]
    assert len(findings) == 1
    span = findings[0].span
    assert (span.line, span.column) == (7, 3)  # `replicas: 1`, after the leading `---`
    assert text.splitlines()[span.line - 1][span.column - 1 :].startswith("replicas: 1")


def test_every_document_of_a_multi_document_file_is_checked():
    text = deployment("web") + "---\n" + deployment("api")
    findings = [f for f in lint(text, "all.yaml") if f.code == "ZK205"]
    assert [f.message.split()[0] for f in findings] == ["Deployment/web", "Deployment/api"]


def test_items_of_a_list_are_objects_with_their_own_positions():
    items = "".join(
        "  - " + deployment(name).replace("\n", "\n    ").rstrip() + "\n" for name in ("a", "b")
    )
    text = "apiVersion: v1\nkind: List\nitems:\n" + items
    findings = [f for f in lint(text, "list.yaml") if f.code == "ZK205"]
    assert [f.message.split()[0] for f in findings] == ["Deployment/a", "Deployment/b"]
    assert findings[1].span.line == text.splitlines().index("      replicas: 1", 10) + 1


def test_a_broken_document_gives_one_finding_and_its_neighbours_are_still_checked():
    broken = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n   bad: [\n"
    text = deployment("web") + "---\n" + broken + "---\n" + deployment("api")
    findings = lint(text, "mixed.yaml")
    invalid = [f for f in findings if f.code == "ZK001"]
    assert len(invalid) == 1
    assert invalid[0].span.line == text.splitlines().index("   bad: [") + 1
    assert "invalid YAML" in invalid[0].message
    checked = {f.message.split()[0] for f in findings if f.code == "ZK205"}
    assert checked == {"Deployment/web", "Deployment/api"}


def test_an_unrendered_helm_template_says_so():
    text = deployment("web").replace("replicas: 1", "replicas: {{ .Values.replicas }}")
    findings = lint(text, "templates/deployment.yaml")
    assert [f.code for f in findings] == ["ZK002"]
    assert "`.Values.replicas`" in findings[0].message
    assert findings[0].span.line == 6


def test_a_helm_template_that_does_not_parse_is_reported_as_a_template():
    text = "{{- if .Values.enabled }}\n" + deployment("web") + "{{- end }}\n"
    assert [f.code for f in lint(text, "templates/deployment.yaml")] == ["ZK002"]


def test_an_alias_bomb_is_refused_without_expanding_it():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "apiVersion: v1\nkind: ConfigMap\n" + "\n".join(lines) + "\n"
    (document,) = load_documents(text)
    assert isinstance(document, BrokenDocument)
    assert f"more than {MAX_NODES}" in document.error
    assert [f.code for f in lint(text, "bomb.yaml")] == ["ZK001"]


def test_deep_nesting_and_recursive_aliases_are_refused():
    deep = "apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 3000 + "]" * 3000 + "\n"
    recursive = "apiVersion: v1\nkind: ConfigMap\ndata: &r [*r]\n"
    for text in (deep, recursive):
        findings = lint(text, "deep.yaml")
        assert [f.code for f in findings] == ["ZK001"]
        assert "nest" in findings[0].message  # our limit, or libyaml's


def test_python_tags_are_refused_and_construct_nothing(tmp_path):
    marker = tmp_path / "constructed"
    text = (
        "apiVersion: v1\nkind: ConfigMap\n"
        "data: !!python/object/apply:pathlib.Path.touch"
        f" [!!python/object/apply:pathlib.Path ['{marker}']]\n"
    )
    findings = lint(text, "evil.yaml")
    assert [f.code for f in findings] == ["ZK001"]
    assert "`!!python/object/apply:pathlib.Path.touch` is not allowed" in findings[0].message
    assert not marker.exists()


def test_standard_yaml_types_and_merge_keys_are_read():
    text = (
        "base: &base {replicas: 2, paused: false}\n"
        "spec:\n  <<: *base\n  replicas: 3\n  started: 2024-01-01\n  ratio: 0.5\n  note: ~\n"
    )
    (document,) = load_documents(text)
    assert isinstance(document, Document)
    assert document.value["spec"] == {
        "replicas": 3,
        "paused": False,
        "started": "2024-01-01",
        "ratio": 0.5,
        "note": None,
    }


def test_yaml_that_is_not_kubernetes_is_silently_skipped():
    workflow = "name: CI\non:\n  push:\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    compose = "services:\n  db:\n    image: postgres\n    ports: ['5432:5432']\n"
    broken = "key: [unclosed\n"
    for text in (workflow, compose, broken, "", "# only a comment\n", "---\n...\n"):
        assert lint(text, "other.yaml") == [], text


def test_unknown_kinds_and_custom_resources_are_skipped():
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: widgets.example.com\n---\n"
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
        "spec:\n  replicas: 1\n  template: {spec: {containers: [{name: a, image: a}]}}\n"
    )
    assert lint(crd, "crd.yaml") == []


def test_a_strategic_merge_patch_is_not_judged_as_a_whole_deployment():
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n$patch: delete\n"
    assert lint(patch, "patch.yaml") == []


def test_objects_carry_kind_name_and_namespace():
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n"
    (document,) = load_documents(text)
    assert isinstance(document, Document)
    (obj,) = objects_in(document)
    assert (obj.ref, obj.namespace) == ("Service/web", "shop")
    start, end = obj.span("metadata", "namespace")
    assert text[start:end] == "namespace: shop"


def test_stdin_is_read_as_manifests_like_helm_template_output():
    text = "# Source: chart/templates/deployment.yaml\n" + deployment("web")
    result = CliRunner().invoke(
        main, ["check", "--isolated", "--output-format", "concise", "-"], input=text
    )
    assert result.exit_code == 1, result.output
    assert "-:7:3: ZK205" in result.output


def test_a_folder_walk_checks_manifests_and_ignores_other_yaml(tmp_path):
    (tmp_path / "deploy.yaml").write_text(deployment("web"))
    (tmp_path / "docker-compose.yml").write_text("services:\n  db:\n    image: postgres:16\n")
    result = CliRunner().invoke(
        main, ["check", "--isolated", "--output-format", "concise", str(tmp_path)]
    )
    assert "deploy.yaml:6:3: ZK205" in result.output
    assert "docker-compose" not in result.output


def test_document_end_markers_and_crlf_line_endings_split_documents_too():
    text = (deployment("web") + "...\n" + deployment("api")).replace("\n", "\r\n")
    findings = [f for f in lint(text, "crlf.yaml") if f.code == "ZK205"]
    assert [f.message.split()[0] for f in findings] == ["Deployment/web", "Deployment/api"]
    assert findings[1].span.line == 16 + 6
