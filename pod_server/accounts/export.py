"""Pods as a zip archive, read through the ResourceStore.

Entries are the resources' paths relative to the pod root, percent-decoded, under a folder per pod
(``alice/notes/my list.ttl``; a single-pod server's root pod is at the top level).
Containers become folders; a container's own triples (if any) go to ``{folder}/.container.ttl``;
auxiliary resources (``.acl``, ``.meta``) are files beside their subject. ``manifest.json`` maps each
entry to the resource's URL and media type, so the pod can be restored faithfully.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from typing import IO
from urllib.parse import unquote

from pod_server.errors import NotFound
from pod_server.ldp.identifiers import AUXILIARY_SUFFIXES
from pod_server.store.resource_store import ResourceStore

CONTAINER_BODY = ".container.ttl"


def export_pods(store: ResourceStore, pods: list[tuple[str, str]], target: IO[bytes]) -> int:
    """Write the pods ``[(root path, folder), ...]`` as one zip to ``target``, each pod under its
    folder (``""`` for the top level); return the number of files written."""
    manifest: dict[str, dict[str, str]] = {}
    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(path: str, name: str, body: bytes, content_type: str) -> None:
            nonlocal count
            archive.writestr(name, body)
            manifest[name] = {"url": store.ids.to_url(path), "content_type": content_type}
            count += 1

        def aux(path: str, name: str) -> None:
            for suffix in AUXILIARY_SUFFIXES.values():
                try:
                    stored = store.read(path + suffix)
                except NotFound:
                    continue
                add(path + suffix, name + suffix, stored.body, stored.meta.content_type)

        def walk(root: str, folder: str, container: str) -> None:
            rel = folder + unquote(container[len(root) :])
            view = store.read_container(container)
            if rel:
                archive.writestr(rel, b"")  # a folder entry, so empty containers survive
            if view.own_body:
                add(container, rel + CONTAINER_BODY, view.own_body, view.meta.content_type)
            aux(container, rel)
            for child in view.children:
                if child.is_container:
                    walk(root, folder, child.path)
                    continue
                stored = store.read(child.path)
                name = folder + unquote(child.path[len(root) :])
                add(child.path, name, stored.body, stored.meta.content_type)
                aux(child.path, name)

        for root, folder in pods:
            walk(root, folder, root)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return count


def delete_pod_contents(store: ResourceStore, root: str) -> None:
    """Delete everything inside the pod at ``root`` (children first), through the store."""

    def walk(container: str) -> None:
        for child in store.read_container(container).children:
            if child.is_container:
                walk(child.path)
            store.delete(child.path)

    walk(root)
    for suffix in AUXILIARY_SUFFIXES.values():
        with contextlib.suppress(NotFound):
            store.delete(root + suffix)


__all__ = ["CONTAINER_BODY", "delete_pod_contents", "export_pods"]
