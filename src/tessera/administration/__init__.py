"""Tenant administration: the use cases that span identity, tenancy, access and authn.

Adding a member (an identity, a membership, roles within what the actor holds), deactivating one
(their credentials revoked, their delegations ended), bulk import, invitations accepted through
the login flow, service accounts, and the platform administrator's tenant services. Each runs in
one transaction with its audit events. This package sits above authn (see docs/architecture.md):
the layers below it never import it.
"""
