"""Built-in apiVersions that Kubernetes has stopped serving, and what replaces them.

From the Kubernetes "Deprecated API Migration Guide"
(https://kubernetes.io/docs/reference/using-api/deprecation-guide/), release by release.
A manifest with one of these apiVersions is rejected by an API server of that release or
later: `kubectl apply` fails with "no matches for kind", and so does the deploy.
"""

from __future__ import annotations

from dataclasses import dataclass

ANY_KIND = "*"


@dataclass(frozen=True)
class Removal:
    api_version: str
    kind: str  # ANY_KIND: every kind of that apiVersion
    removed_in: tuple[int, int]
    replacement: str | None  # the apiVersion to use instead; None: the kind is gone

    @property
    def release(self) -> str:
        return f"{self.removed_in[0]}.{self.removed_in[1]}"


def _removals(
    removed_in: tuple[int, int], replacement: str | None, api_version: str, *kinds: str
) -> list[Removal]:
    return [Removal(api_version, kind, removed_in, replacement) for kind in kinds or (ANY_KIND,)]


V1_16 = (1, 16)
V1_22 = (1, 22)
V1_25 = (1, 25)
REMOVALS: tuple[Removal, ...] = tuple(
    [
        # v1.16: workloads left extensions/v1beta1 and the apps betas for apps/v1.
        *_removals(V1_16, "apps/v1", "apps/v1beta1"),
        *_removals(V1_16, "apps/v1", "apps/v1beta2"),
        *_removals(V1_16, "apps/v1", "extensions/v1beta1", "Deployment", "DaemonSet", "ReplicaSet"),
        *_removals(V1_16, "networking.k8s.io/v1", "extensions/v1beta1", "NetworkPolicy"),
        *_removals(V1_16, "policy/v1beta1", "extensions/v1beta1", "PodSecurityPolicy"),
        # v1.22: most v1beta1 APIs that had gone GA.
        *_removals(V1_22, "networking.k8s.io/v1", "extensions/v1beta1", "Ingress"),
        *_removals(V1_22, "networking.k8s.io/v1", "networking.k8s.io/v1beta1", "Ingress"),
        *_removals(V1_22, "networking.k8s.io/v1", "networking.k8s.io/v1beta1", "IngressClass"),
        *_removals(
            V1_22,
            "admissionregistration.k8s.io/v1",
            "admissionregistration.k8s.io/v1beta1",
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ),
        *_removals(V1_22, "apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"),
        *_removals(V1_22, "apiregistration.k8s.io/v1", "apiregistration.k8s.io/v1beta1"),
        *_removals(V1_22, "authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"),
        *_removals(V1_22, "authorization.k8s.io/v1", "authorization.k8s.io/v1beta1"),
        *_removals(V1_22, "certificates.k8s.io/v1", "certificates.k8s.io/v1beta1"),
        *_removals(V1_22, "coordination.k8s.io/v1", "coordination.k8s.io/v1beta1"),
        *_removals(V1_22, "rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1"),
        *_removals(V1_22, "scheduling.k8s.io/v1", "scheduling.k8s.io/v1beta1"),
        *_removals(
            V1_22,
            "storage.k8s.io/v1",
            "storage.k8s.io/v1beta1",
            "CSIDriver",
            "CSINode",
            "StorageClass",
            "VolumeAttachment",
        ),
        # v1.25
        *_removals(V1_25, "batch/v1", "batch/v1beta1", "CronJob"),
        *_removals(V1_25, "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1", "EndpointSlice"),
        *_removals(V1_25, "events.k8s.io/v1", "events.k8s.io/v1beta1", "Event"),
        *_removals(V1_25, "autoscaling/v2", "autoscaling/v2beta1", "HorizontalPodAutoscaler"),
        *_removals(V1_25, "policy/v1", "policy/v1beta1", "PodDisruptionBudget"),
        *_removals(V1_25, None, "policy/v1beta1", "PodSecurityPolicy"),
        *_removals(V1_25, "node.k8s.io/v1", "node.k8s.io/v1beta1", "RuntimeClass"),
        # v1.26, v1.27, v1.29, v1.32
        *_removals((1, 26), "autoscaling/v2", "autoscaling/v2beta2", "HorizontalPodAutoscaler"),
        *_removals(
            (1, 26), "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1"
        ),
        *_removals((1, 27), "storage.k8s.io/v1", "storage.k8s.io/v1beta1", "CSIStorageCapacity"),
        *_removals(
            (1, 29), "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta2"
        ),
        *_removals(
            (1, 32), "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta3"
        ),
    ]
)


def removal(api_version: str, kind: str, target: tuple[int, int]) -> Removal | None:
    """The removal that makes `kind` in `api_version` unservable by release `target`."""
    for entry in REMOVALS:
        if entry.api_version != api_version or entry.removed_in > target:
            continue
        if entry.kind in (kind, ANY_KIND):
            return entry
    return None


def replacement(entry: Removal, target: tuple[int, int]) -> str | None:
    """The apiVersion to use instead on release `target`, following replacements that were
    removed in turn (extensions/v1beta1 PodSecurityPolicy → policy/v1beta1 → none)."""
    current = entry.replacement
    while current is not None and (later := removal(current, entry.kind, target)) is not None:
        current = later.replacement
    return current
