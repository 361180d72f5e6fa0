"""SPARQL over pods: a read-only SPARQL 1.1 Query endpoint whose dataset is exactly what the
requester may read (issue 7).

The path of a query::

    http/query.py        SPARQL 1.1 Protocol: GET ?query=, POST form or application/sparql-query
      -> query/guard.py  refuse what must never run (SERVICE, FROM, updates) and what costs too much
      -> access          WacPolicy.readable(index.documents(root), credentials) -> the graphs
      -> query/index.py  QueryIndex.query(sparql, graphs=..., limits=...) on pyoxigraph
      -> query/results.py  SPARQL 1.1 Query Results JSON / XML / CSV / TSV, or an RDF format

:mod:`pod_server.query.index` keeps one in-memory pyoxigraph store per worker process: each RDF
document (and each container's own triples) is a named graph named by its URL, loaded lazily
per storage root and kept current from the store's change events and the notification bus.
"""
