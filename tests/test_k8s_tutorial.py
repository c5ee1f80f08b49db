"""The tutorial's manifests are clean, and each one-defect variant gives exactly that finding.

Every variant changes one thing in `fixtures/k8s/tutorial/` and expects exactly one finding,
of the expected rule, on a line inside the object that carries the defect.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import lint

TUTORIAL = Path(__file__).resolve().parents[1] / "fixtures" / "k8s" / "tutorial"
WEB = (TUTORIAL / "web.yaml").read_text()
BLUE_GREEN = (TUTORIAL / "blue-green.yaml").read_text()
JOB = (TUTORIAL / "migrate-job.yaml").read_text()

WEB_DEPLOYMENT = WEB.split("\n---\n")[0]
SECOND_PDB = """---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: api
"""
MIGRATE_INIT = """      initContainers:
        - name: migrate
          image: registry.example.com/shop/web:2.14.1
          command: ["bundle", "exec", "rails", "db:migrate"]
      containers:
"""


def change(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the fixture should hold {old!r} exactly once"
    return text.replace(old, new)


def object_lines(text: str, kind: str, name: str) -> range:
    """1-based line range of the document holding `kind` named `name`."""
    line = 1
    for document in re.split(r"(?m)^---\n", text):
        count = document.count("\n")
        if re.search(rf"(?m)^kind: {kind}$", document) and re.search(
            rf"(?m)^  name: {re.escape(name)}$", document
        ):
            return range(line, line + count + 1)
        line += count + 1
    raise AssertionError(f"{kind}/{name} is not in the text")


@pytest.mark.parametrize("name", ["web.yaml", "blue-green.yaml", "migrate-job.yaml"])
def test_tutorial_manifest_is_clean(name):
    assert lint((TUTORIAL / name).read_text(), name) == []


VARIANTS = {
    "ZK101": (
        WEB,
        [
            (
                """          readinessProbe:
            httpGet:
              path: /ready
              port: http
            periodSeconds: 5
            failureThreshold: 2
""",
                "",
            )
        ],
        "Deployment/web",
    ),
    "ZK102": (
        WEB,
        [
            (
                """          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            failureThreshold: 3
""",
                "",
            )
        ],
        "Deployment/web",
    ),
    "ZK103": (
        WEB,
        [("              path: /ready\n", "              path: /healthz\n")],
        "Deployment/web",
    ),
    "ZK104": (
        WEB,
        [
            (
                """          livenessProbe:
            httpGet:
              path: /healthz
              port: http
""",
                """          livenessProbe:
            exec:
              command: ["/bin/sh", "-c", "redis-cli -h redis.cache.svc ping"]
""",
            )
        ],
        "Deployment/web",
    ),
    "ZK105": (
        WEB,
        [
            (
                """          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
""",
                "",
            )
        ],
        "Deployment/web",
    ),
    "ZK106": (
        WEB,
        [('zdlint.io/boot-seconds: "40"', 'zdlint.io/boot-seconds: "90"')],
        "Deployment/web",
    ),
    "ZK107": (
        WEB,
        [
            (
                "              path: /ready\n              port: http\n",
                "              path: /ready\n              port: web\n",
            )
        ],
        "Deployment/web",
    ),
    "ZK108": (
        WEB,
        [
            (
                "              path: /ready\n              port: http\n",
                "              path: /ready\n              port: 8081\n",
            )
        ],
        "Deployment/web",
    ),
    "ZK109": (
        WEB,
        [
            (
                "            periodSeconds: 5\n",
                "            periodSeconds: 5\n            timeoutSeconds: 8\n",
            )
        ],
        "Deployment/web",
    ),
    "ZK201": (
        WEB,
        [
            (
                """    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
""",
                "    type: Recreate\n",
            )
        ],
        "Deployment/web",
    ),
    "ZK202": (WEB, [("      maxUnavailable: 0\n", "      maxUnavailable: 1\n")], "Deployment/web"),
    "ZK203": (WEB, [("      maxSurge: 1\n", "      maxSurge: 0\n")], "Deployment/web"),
    "ZK204": (WEB, [("  minReadySeconds: 15\n", "")], "Deployment/web"),
    "ZK205": (WEB, [("  replicas: 3\n", "  replicas: 1\n")], "Deployment/web"),
    "ZK206": (WEB, [("shop/web:2.14.1", "shop/web:latest")], "Deployment/web"),
    "ZK301": (
        WEB,
        [
            (
                """          lifecycle:
            preStop:
              exec:
                command: ["sleep", "10"]
""",
                "",
            )
        ],
        "Deployment/web",
    ),
    "ZK302": (
        WEB,
        [("terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 15")],
        "Deployment/web",
    ),
    "ZK303": (WEB.rsplit("\n---\n", 1)[0] + "\n", [], "Deployment/web"),
    "ZK304": (
        WEB,
        [("  maxUnavailable: 1\n  selector:", "  maxUnavailable: 0\n  selector:")],
        "PodDisruptionBudget/web",
    ),
    "ZK305": (WEB + SECOND_PDB, [], "PodDisruptionBudget/api"),
    "ZK401": (
        WEB,
        [("  selector:\n    app: web\n  ports:", "  selector:\n    app: api\n  ports:")],
        "Service/web",
    ),
    "ZK402": (
        WEB
        + "---\n"
        + change(WEB_DEPLOYMENT.split("\n", 2)[2], "  name: web\n", "  name: web-canary\n")
        + "\n",
        [],
        "Service/web",
    ),
    "ZK403": (
        BLUE_GREEN,
        [("    app: shop\n    color: blue\n  ports:", "    app: shop\n  ports:")],
        "Service/shop",
    ),
    "ZK404": (
        BLUE_GREEN,
        [
            (
                """              path: /ready
              port: http
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
          lifecycle:
            preStop:
              exec:
                command: ["/bin/sh", "-c", "sleep 10"]
          resources:
            requests:
              cpu: 250m
              memory: 512Mi
            limits:
              memory: 512Mi
---
apiVersion: v1""",
                """              path: /ready
              port: http
            periodSeconds: 3
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
          lifecycle:
            preStop:
              exec:
                command: ["/bin/sh", "-c", "sleep 10"]
          resources:
            requests:
              cpu: 250m
              memory: 512Mi
            limits:
              memory: 512Mi
---
apiVersion: v1""",
            )
        ],
        "Deployment/shop-green",
    ),
    "ZK501": (JOB, [("  backoffLimit: 0\n", "  backoffLimit: 3\n")], "Job/shop-migrate-2-15-0"),
    "ZK502": (
        JOB,
        [("restartPolicy: Never", "restartPolicy: OnFailure")],
        "Job/shop-migrate-2-15-0",
    ),
    "ZK503": (WEB, [("      containers:\n", MIGRATE_INIT)], "Deployment/web"),
    "ZK511": (WEB, [("            limits:\n              memory: 512Mi\n", "")], "Deployment/web"),
    "ZK512": (WEB, [("              cpu: 250m\n", "")], "Deployment/web"),
}


@pytest.mark.parametrize("code", sorted(VARIANTS))
def test_one_defect_gives_exactly_its_finding_inside_the_object(code):
    text, changes, ref = VARIANTS[code]
    for old, new in changes:
        text = change(text, old, new)
    findings = lint(text, "variant.yaml", extend_select=(code,))  # some are off by default
    assert [f.code for f in findings] == [code], [f"{f.code} {f.message}" for f in findings]
    kind, name = ref.split("/")
    assert findings[0].span.line in object_lines(text, kind, name)
    assert ref in findings[0].message


def test_idle_colour_is_reported_as_info_when_selected():
    findings = lint(BLUE_GREEN, "blue-green.yaml", extend_select=("ZK405",))
    assert [(f.code, f.severity.label) for f in findings] == [("ZK405", "info")]
    assert "Deployment/shop-green" in findings[0].message
    assert "3 replicas" in findings[0].message
    assert findings[0].span.line in object_lines(BLUE_GREEN, "Deployment", "shop-green")
