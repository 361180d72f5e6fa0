from __future__ import annotations

from pod_server.ldp.representation_cache import RepresentationCache


def test_lru_bounded_by_bytes() -> None:
    cache = RepresentationCache(100)
    cache.put("a", b"x" * 20)
    cache.put("b", b"y" * 20)
    assert cache.get("a") == b"x" * 20  # a is now the most recent
    for key in "cdef":
        cache.put(key, b"z" * 20)
    assert cache.size <= 100
    assert cache.get("b") is None  # least recently used went first
    assert cache.get("a") is not None


def test_big_items_and_null_cache() -> None:
    cache = RepresentationCache(100)
    cache.put("big", b"x" * 26)
    assert cache.get("big") is None
    off = RepresentationCache(0)
    off.put("a", b"x")
    assert off.get("a") is None


def test_replacing_a_key_keeps_the_size_true() -> None:
    cache = RepresentationCache(100)
    cache.put("a", b"x" * 20)
    cache.put("a", b"x" * 10)
    assert cache.size == 10 and len(cache) == 1
