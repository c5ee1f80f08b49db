"""Kustomizations: each one is a deploy scope, its patches merge onto their bases."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.test_k8s_scope import DEPLOYMENT, PDB, SERVICE, check, findings, line_of, where, write
from zdlint.k8s.load import load_documents
from zdlint.k8s.merge import Patch, apply_json_patch, apply_patch
from zdlint.k8s.model import objects_in

BASE = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
"""
SINGLE = DEPLOYMENT.replace("replicas: 3", "replicas: 1")
PROBES = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: web
          image: example.com/web:latest
          readinessProbe:
            httpGet:
              path: /ready
              port: http
"""
PRODUCTION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: production
resources:
  - ../../base
  - pdb.yaml
patchesStrategicMerge:
  - probes.yaml
"""
STAGING = """resources:
  - ../../base
"""


def tree(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "base/kustomization.yaml": BASE,
            "base/deployment.yaml": SINGLE,
            "base/service.yaml": SERVICE,
            "overlays/production/kustomization.yaml": PRODUCTION,
            "overlays/production/probes.yaml": PROBES,
            "overlays/production/pdb.yaml": PDB,
            "overlays/staging/kustomization.yaml": STAGING,
        },
    )


def unit_files(kustomization: str) -> dict[str, str]:
    """The single-replica web Deployment and Service, and a kustomization."""
    return {"kustomization.yaml": kustomization, "deployment.yaml": SINGLE, "service.yaml": SERVICE}


def unit(folder: Path, kustomization: str, patches: dict[str, str]) -> Path:
    """A folder of `unit_files` and the patches the kustomization lists."""
    return write(folder, {**unit_files(kustomization), **patches})


def codes_in(run, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(f.code for f in findings(run) if f.path.endswith(name))


def test_the_overlay_patch_fixes_its_scope_and_the_plain_overlay_keeps_the_base_findings(
    tmp_path,
):
    run = check(tree(tmp_path))
    # staging deploys the base unchanged: one replica, no readiness probe, both in base
    readiness = [f for f in findings(run) if f.code == "ZK101"]
    assert [Path(f.path).relative_to(tmp_path).as_posix() for f in readiness] == [
        "base/deployment.yaml"
    ]
    assert where(run, "ZK205") == [("deployment.yaml", line_of(SINGLE, "replicas"))]
    # production's patch sets replicas 3 and a pinned-tag problem: found in the patch file
    assert where(run, "ZK206") == [("probes.yaml", line_of(PROBES, "image:"))]
    # its PDB covers the patched Deployment: no missing budget anywhere
    assert where(run, "ZK303") == []


def test_a_patch_file_is_never_checked_as_a_whole_object(tmp_path):
    run = check(tree(tmp_path))
    # on its own the patch would be a Deployment without selector, resources or port
    assert codes_in(run, "probes.yaml") == ["ZK206"]


def test_an_overlay_checked_alone_patches_nothing_without_its_base_and_says_so(tmp_path):
    folder = tree(tmp_path) / "overlays" / "production"
    run = check(folder)
    assert codes_in(run, "probes.yaml") == []
    assert any("probes.yaml" in note and "Deployment/web" in note for note in run.notes)


def test_the_kustomization_namespace_puts_its_objects_together(tmp_path):
    apart = {
        "deployment.yaml": SINGLE.replace("  name: web\n", "  name: web\n  namespace: a\n", 1),
        "service.yaml": SERVICE.replace("  name: web\n", "  name: web\n  namespace: b\n", 1),
    }
    assert where(check(write(tmp_path / "loose", apart)), "ZK401") != []
    unit = write(tmp_path / "unit", {**apart, "kustomization.yaml": BASE + "namespace: shop\n"})
    run = check(unit)
    assert where(run, "ZK401") == []
    assert where(run, "ZK101") == [
        ("deployment.yaml", line_of(apart["deployment.yaml"], "- name: web"))
    ]


def test_the_kustomization_replicas_field_counts_and_is_where_the_finding_points(tmp_path):
    kustomization = BASE + "replicas:\n  - name: web\n    count: 1\n"
    run = check(
        write(
            tmp_path,
            {
                "kustomization.yaml": kustomization,
                "deployment.yaml": DEPLOYMENT,
                "service.yaml": SERVICE,
            },
        )
    )
    assert where(run, "ZK205") == [("kustomization.yaml", line_of(kustomization, "count: 1"))]


def test_a_patch_under_patches_with_a_target_applies_to_the_named_object(tmp_path):
    kustomization = (
        BASE
        + "patches:\n  - path: probe.yaml\n    target:\n      kind: Deployment\n      name: web\n"
    )
    anonymous = "spec:\n  replicas: 4\n"
    run = check(unit(tmp_path, kustomization, {"probe.yaml": anonymous}))
    assert where(run, "ZK205") == []
    assert where(run, "ZK303") == [("probe.yaml", line_of(anonymous, "replicas"))]


def test_a_json_6902_patch_applies_and_its_values_point_into_the_patch(tmp_path):
    kustomization = (
        BASE + "patchesJson6902:\n  - path: ops.yaml\n    target: {kind: Deployment, name: web}\n"
    )
    ops = """- op: replace
  path: /spec/replicas
  value: 3
- op: add
  path: /spec/template/spec/containers/0
  value:
    name: sidecar
    image: example.com/proxy:latest
- op: remove
  path: /spec/minReadySeconds
- op: move
  from: /spec/replicas
  path: /spec/x
"""
    # ZK204 (off by default) is selected for its position in the patch
    run = check(unit(tmp_path, kustomization, {"ops.yaml": ops}), extend_select=("ZK204",))
    assert where(run, "ZK205") == []
    assert where(run, "ZK303") == [("ops.yaml", line_of(ops, "value: 3"))]
    assert where(run, "ZK206") == [("ops.yaml", line_of(ops, "image: example.com/proxy"))]
    assert where(run, "ZK204") == [("ops.yaml", line_of(ops, "value: 3"))]
    # the web container moved to index 1, and its positions with it
    web = [f for f in findings(run) if f.code == "ZK101" and "`web`" in f.message]
    assert [(Path(f.path).name, f.span.line) for f in web] == [
        ("deployment.yaml", line_of(SINGLE, "- name: web"))
    ]
    assert [note.split(": ", 1)[1] for note in run.notes] == [
        "the operation `move` /spec/x is not applied"
    ]


def test_the_kustomization_images_field_retags_and_is_where_the_finding_points(tmp_path):
    untagged = SINGLE.replace("example.com/web:1.4.2", "example.com/web")
    pinned = BASE + "images:\n  - name: example.com/web\n    newTag: 1.4.3\n"
    run = check(write(tmp_path / "a", {**unit_files(pinned), "deployment.yaml": untagged}))
    assert where(run, "ZK206") == []
    latest = (
        BASE
        + "images:\n  - name: example.com/web\n    newName: example.com/shop\n    newTag: latest\n"
    )
    run = check(write(tmp_path / "b", {**unit_files(latest), "deployment.yaml": untagged}))
    (finding,) = [f for f in findings(run) if f.code == "ZK206"]
    assert "`example.com/shop:latest`" in finding.message
    assert where(run, "ZK206") == [
        ("kustomization.yaml", line_of(latest, "- name: example.com/web"))
    ]


def test_an_inline_patch_applies_and_its_findings_point_into_the_kustomization(tmp_path):
    inline = (
        BASE
        + """patches:
  - target:
      kind: Deployment
      name: web
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 2
patchesStrategicMerge:
  - |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: web
              image: example.com/web:latest
"""
    )
    run = check(unit(tmp_path, inline, {}))
    assert run.notes == []
    assert where(run, "ZK205") == []
    assert where(run, "ZK303") == [("kustomization.yaml", line_of(inline, "value: 2"))]
    assert where(run, "ZK206") == [("kustomization.yaml", line_of(inline, "web:latest"))]


def test_a_patch_of_a_kind_no_rule_checks_applies_without_a_note(tmp_path):
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: '1'\n"
    patch = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: '2'\n"
    kustomization = BASE + "  - config.yaml\npatches:\n  - path: config-patch.yaml\n"
    run = check(unit(tmp_path, kustomization, {"config.yaml": config, "config-patch.yaml": patch}))
    assert run.notes == []


def test_a_patch_that_deletes_an_object_takes_it_out_of_the_scope(tmp_path):
    deletion = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n$patch: delete\n"
    kustomization = BASE + "patches:\n  - path: delete-web.yaml\n"
    run = check(unit(tmp_path, kustomization, {"delete-web.yaml": deletion}))
    # the Deployment's own findings are gone with it (and the patch is not an object)
    assert findings(run) == []
    assert run.notes == []
    assert where(check(unit(tmp_path / "kept", BASE, {})), "ZK205") != []


def test_an_inline_patch_that_is_not_a_literal_block_is_noted(tmp_path):
    folded = (
        BASE
        + "patches:\n  - patch: >\n      spec: {replicas: 3}\n"
        + "    target: {kind: Deployment, name: web}\n"
    )
    run = check(unit(tmp_path, folded, {}))
    assert [note.split(": ", 1)[1] for note in run.notes] == [
        "an inline patch that is not a literal block (`|`) is not applied; its base is checked"
        " unpatched"
    ]


def test_files_beside_a_kustomization_it_does_not_list_are_still_checked(tmp_path):
    run = check(
        write(
            tmp_path,
            {
                "kustomization.yaml": "resources:\n  - service.yaml\n",
                "service.yaml": SERVICE,
                "extra.yaml": SINGLE,
            },
        )
    )
    assert where(run, "ZK205") == [("extra.yaml", line_of(SINGLE, "replicas"))]


# --- the strategic merge itself -----------------------------------------------------------


def merged(base: str, patch: str):  # type: ignore[no-untyped-def]
    (obj,) = objects_in(load_documents(base)[0])  # type: ignore[arg-type]
    document = load_documents(patch, origin=len(base) + 1)[0]
    return apply_patch(obj, Patch(document.value, document.positions, ()))  # type: ignore[union-attr]


def test_containers_merge_by_name_and_other_lists_are_replaced():
    base = DEPLOYMENT.replace(
        "          image: example.com/web:1.4.2\n",
        "          image: example.com/web:1.4.2\n          args: [serve, --fast]\n"
        "          env:\n"
        "            - {name: A, value: '1'}\n"
        "            - {name: B, value: '2'}\n",
    )
    patch = """spec:
  template:
    spec:
      containers:
        - name: web
          args: [serve]
          env:
            - {name: B, value: '3'}
            - {name: C, value: '4'}
        - name: sidecar
          image: example.com/proxy:2.0
"""
    obj = merged(base, patch)
    web, sidecar = obj.get("spec", "template", "spec", "containers")
    assert web["image"] == "example.com/web:1.4.2"
    assert web["args"] == ["serve"]
    assert web["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "3"},
        {"name": "C", "value": "4"},
    ]
    assert sidecar == {"name": "sidecar", "image": "example.com/proxy:2.0"}
    assert obj.get("spec", "replicas") == 3


def test_null_deletes_a_key_and_patch_delete_removes_a_named_item():
    base = DEPLOYMENT.replace(
        "      containers:\n",
        "      containers:\n        - name: old\n          image: example.com/old:1\n",
    )
    patch = """spec:
  minReadySeconds: null
  template:
    spec:
      containers:
        - name: old
          $patch: delete
"""
    obj = merged(base, patch)
    assert not obj.has("spec", "minReadySeconds")
    (only,) = obj.get("spec", "template", "spec", "containers")
    assert only["name"] == "web"
    # the surviving container moved up one place, and so did its positions
    start, _ = obj.span("spec", "template", "spec", "containers", 0, "image")
    assert base[start:].startswith("image: example.com/web:1.4.2")


def test_a_json_patch_on_a_missing_path_is_reported_and_changes_nothing():
    (obj,) = objects_in(load_documents(DEPLOYMENT)[0])  # type: ignore[arg-type]
    ops = "- op: replace\n  path: /spec/paused/x\n  value: 1\n"
    document = load_documents(ops, origin=len(DEPLOYMENT) + 1)[0]
    patched, skipped = apply_json_patch(obj, document.value, document.positions)  # type: ignore[union-attr]
    assert patched.body == obj.body
    assert skipped == ["`replace` /spec/paused/x (no such path)"]


def test_merged_fields_point_into_the_patch_and_untouched_ones_into_the_base():
    patch = "spec:\n  replicas: 5\n"
    obj = merged(DEPLOYMENT, patch)
    start, end = obj.span("spec", "replicas")
    origin = len(DEPLOYMENT) + 1
    assert patch[start - origin : end - origin] == "replicas: 5"
    start, end = obj.span("spec", "minReadySeconds")
    assert DEPLOYMENT[start:end] == "minReadySeconds: 10"


# --- --render -----------------------------------------------------------------------------


def fake_tool(folder: Path, name: str, output: str) -> Path:
    """An executable `name` in `folder` that prints `output` whatever it is asked."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rendered.yaml").write_text(output, encoding="utf-8")
    script = folder / name
    script.write_text(f"#!/bin/sh\nexec /bin/cat '{folder / 'rendered.yaml'}'\n", encoding="utf-8")
    script.chmod(0o755)
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a shell script as the tool")
def test_render_checks_what_kustomize_builds_and_points_into_its_output(tmp_path, monkeypatch):
    rendered = SINGLE + "---\n" + SERVICE
    monkeypatch.setenv("PATH", str(fake_tool(tmp_path / "bin", "kustomize", rendered)))
    folder = tree(tmp_path / "repo") / "overlays" / "staging"
    run = check(folder, render=True)
    assert [r.path for r in run.reports] == [f"kustomize build {folder}"]
    assert [f.span.line for f in findings(run) if f.code == "ZK101"] == [
        line_of(rendered, "- name: web")
    ]
    assert run.notes == []


def test_render_without_kustomize_or_kubectl_says_so_and_checks_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    folder = tree(tmp_path / "repo") / "overlays" / "staging"
    run = check(tmp_path / "repo" / "base", render=True)
    (note,) = run.notes
    assert note.endswith(
        "not rendered: neither kustomize nor kubectl is on PATH; its files are checked as"
        " they are, with the patches zdlint can merge itself"
    )
    assert where(run, "ZK101") != []
    assert folder.is_dir()


def test_render_of_a_chart_without_helm_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    chart = write(tmp_path / "chart", {"Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n"})
    run = check(chart, render=True)
    assert [n.split(": ", 1)[1] for n in run.notes] == [
        "not rendered: helm is not on PATH; the chart's templates are checked as they are"
        " (template actions are reported as unrendered)"
    ]


def test_the_command_line_prints_notes_on_stderr(tmp_path):
    from tests.test_cli import zdlint

    folder = tree(tmp_path) / "overlays" / "production"
    done = zdlint("check", "--exit-zero", str(folder), env={"PATH": os.environ["PATH"]})
    assert done.returncode == 0
    assert b"zdlint: note: " in done.stderr and b"probes.yaml" in done.stderr
