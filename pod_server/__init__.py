"""pod-server: a Solid pod server for commons-based peer-production communities.

``create_app(settings)`` wires the application in plain Python; see docs/architecture.md.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask

from pod_server.config import Settings, from_env

__version__ = "0.1.0"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the Flask app. Without ``settings``, read them from the ``POD_SERVER_*`` environment."""
    from pod_server.http import access_log, cors, ldp, metrics, problem
    from pod_server.ldp.identifiers import IdentifierMap
    from pod_server.ldp.operations import Context
    from pod_server.ldp.representation_cache import RepresentationCache
    from pod_server.rdf.limits import RdfLimits
    from pod_server.secret_key import load_or_create
    from pod_server.store.factory import open_backend
    from pod_server.store.resource_store import ResourceStore

    settings = settings.replace(**overrides) if settings else from_env(**overrides)
    if settings.backend != "memory":
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    app = Flask(__name__)
    app.config["POD_SERVER_SETTINGS"] = settings
    # Signs session cookies and CSRF tokens; shared by every worker through the data folder.
    app.secret_key = (
        secrets.token_hex(32) if settings.backend == "memory" else load_or_create(settings.data_dir)
    )

    ids = IdentifierMap(
        settings.base_url,
        single_pod=settings.single_pod,
        subdomains=settings.subdomains,
        max_path_length=settings.max_path_length,
    )
    limits = RdfLimits(
        max_bytes=settings.max_rdf_bytes,
        max_triples=settings.max_triples,
        max_literal_bytes=settings.max_literal_bytes,
        max_jsonld_depth=settings.max_jsonld_depth,
    )
    backend = open_backend(settings)
    # One safe fetcher for every outbound request (WebID proofs, Client ID Documents, issuers'
    # keys, WebID profiles, remote shapes); agent groups get a stricter one (below) so a slow host
    # never holds a request.
    from pod_server.fetch import fetcher_for

    fetcher = fetcher_for(settings)
    app.extensions["pod_server.fetch"] = fetcher
    # Shape-constrained containers (LDP §4.2.1.6, docs/shapes.md): the store validates every write
    # into a container whose description names a shape; the bundled shapes are also served.
    from pod_server.shapes import ShapeLibrary
    from pod_server.store.constraints import ShapeConstraints, ShapeResolver

    shapes = ShapeLibrary.bundled(base_url=settings.base_url)
    app.extensions["pod_server.shapes"] = shapes
    constraints = ShapeConstraints(backend, ids, ShapeResolver(shapes, backend, ids, limits, fetcher))
    store = ResourceStore(backend, ids, limits, constraints=constraints)
    app.extensions["pod_server.store"] = store

    # Accounts (pod_server.accounts): the server database, the account directory the identity
    # provider reads, login throttling; the owner lookup lets storage roots advertise solid:owner.
    from pod_server import db
    from pod_server.accounts.seed import seed
    from pod_server.accounts.service import SqlAccountDirectory
    from pod_server.accounts.throttle import LoginThrottle
    from pod_server.accounts.webid_proof import WebIdVerifier, through
    from pod_server.http import accounts

    database = db.Database(settings.sql_url)
    db.init_app(app, database)
    group_fetcher = fetcher_for(
        settings, connect_timeout=1.0, read_timeout=2.0, total_timeout=2.0, max_bytes=512 * 1024
    )
    directory = SqlAccountDirectory(
        database,
        store,
        issuer=settings.base_url,
        verifier=WebIdVerifier(settings.base_url, through(fetcher)),
    )
    app.extensions["pod_server.accounts"] = directory
    throttle = LoginThrottle(
        database, per_email=settings.login_failures_per_email, per_ip=settings.login_failures_per_ip
    )

    # Web Access Control (pod_server.access); tests may swap in AllowAll through app.extensions.
    from pod_server.access.defaults import open_development_pod, readable_server_root
    from pod_server.access.groups import GroupMembership
    from pod_server.access.wac import WacPolicy

    access = WacPolicy(store, owners=directory, groups=GroupMembership(store, group_fetcher))

    access_log.init_app(app, settings)  # first: its request id exists for every later hook
    metrics.init_app(app, settings)
    problem.init_app(app)
    cors.init_app(app)

    # The Solid-OIDC identity provider (pod_server.idp): discovery, keys, login, tokens. Before the
    # LDP routes: the authenticator uses its fetcher, replay cache and signing keys.
    from pod_server import idp
    from pod_server.auth.solid_oidc import build_authenticator

    idp.init_app(app, settings, database, app.extensions.get("pod_server.accounts"))
    authenticator = build_authenticator(
        settings,
        fetcher=app.extensions["pod_server.fetch"],
        replay=app.extensions["pod_server.replay"],
        store=store,
        local_keys=app.extensions["pod_server.idp"].keys,
    )
    if "pod_server.http.metrics" in app.extensions:
        authenticator.on_proof_without_ath = app.extensions["pod_server.http.metrics"].proof_without_ath
    # Live updates (pod_server.notifications): built before the LDP routes, whose storage
    # descriptions list its subscription services.
    from pod_server.http import notifications
    from pod_server.idp.signer import AgentSigner
    from pod_server.notifications.factory import build_service

    # One signer for the requests this server makes as a WebID it issues for (the webhook sender,
    # community agents): DPoP-bound tokens from our own identity provider.
    signer = AgentSigner(app.extensions["pod_server.idp"].keys, issuer=settings.base_url)
    notifier = build_service(settings, store, ids, access, database, fetcher, signer)
    # The SPARQL endpoint of each pod (pod_server.query): one in-memory index per worker, built from
    # storage on a pod's first query and kept current from the store's change events and, for
    # writes other workers make, from the notification bus. Before the LDP routes: their catch-all
    # would otherwise take {pod}/.well-known/sparql, and storage descriptions advertise it.
    from pod_server.http import query
    from pod_server.query.index import QueryIndex, QueryLimits

    index = QueryIndex(store)
    index.attach()
    notifier.add_listener(index.on_message)
    query_limits = QueryLimits(
        timeout=settings.query_timeout,
        max_rows=settings.query_max_rows,
        max_triples=settings.query_max_rows,
    )
    query.init_app(app, query.QueryServices(index, access, query_limits))
    from pod_server.http import ns

    ns.init_app(app, ns.NsServices(shapes))  # {base}.ns/: before the LDP routes' catch-all
    # JSON-LD bodies may name the community context by this server's URL for it too (never fetched).
    from pod_server.rdf.jsonld import COMMUNITY_CONTEXT, add_alias

    add_alias(settings.base_url + ns.ROUTE + "cbpp.jsonld", COMMUNITY_CONTEXT)
    # Communities (pod_server.community, docs/decisions/0009-communities.md): pods with their own
    # WebID; the server reads members' pods as that WebID. Before the LDP routes' catch-all.
    from pod_server.community.agent import CommunityAgent
    from pod_server.community.service import CommunityService
    from pod_server.http import community

    community_agent = CommunityAgent(store, access, fetcher, signer)
    community.init_app(
        app,
        community.CommunityServices(
            CommunityService(
                store, community_agent, app.extensions["pod_server.shapes"], issuer=settings.base_url
            ),
            directory,  # the accounts service: account_of, create_pod, remove_pod
        ),
    )
    ldp.init_app(
        app,
        ldp.LdpServices(
            context=Context(
                store,
                settings.default_page_size,
                RepresentationCache(settings.representation_cache_bytes),
                describers=(notifier.describe_storage, query.describe_storage),
            ),
            ids=ids,
            access=access,
            max_body_bytes=settings.max_body_bytes,
            default_page_size=settings.default_page_size,
            owners=directory,
            authenticator=authenticator,
        ),
    )
    notifications.init_app(app, notifier)
    notifier.start()
    accounts.init_app(app, accounts.AccountPages(directory, throttle, settings.base_url, settings.single_pod))
    seed(directory, settings.seed_email, settings.seed_password, single_pod=settings.single_pod)
    open_development_pod(store, directory)  # single-pod mode without an owner: open, with a warning
    readable_server_root(store)  # provider mode: anyone may read the root listing, nobody write
    return app


__all__ = ["Settings", "__version__", "create_app"]
