"""Authentication: who is asking. DPoP proofs (RFC 9449) and their replay cache live here, shared by
the identity provider's token endpoint and the resource server."""
