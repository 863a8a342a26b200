from tests.scim.conftest import user_payload, patch_ops

def test_smoke(scim):
    r = scim.get("/ServiceProviderConfig"); assert r.status_code == 200, r.content
    r = scim.get("/Schemas"); assert r.status_code == 200, r.content
    r = scim.get("/ResourceTypes"); assert r.status_code == 200, r.content
    r = scim.post("/Users", user_payload("bjensen@example.com", externalId="00u1", title="Boss", **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D", "employeeNumber": "42"}}))
    print(r.content); assert r.status_code == 201
    uid = r.json()["id"]
    r = scim.get("/Users", {"filter": 'userName eq "BJensen@example.com"'}); print(r.content); assert r.json()["totalResults"] == 1
    r = scim.get("/Users", {"filter": 'emails[type eq "work"].value eq "bjensen@example.com"', "excludedAttributes": "emails"}); print(r.content); assert r.json()["totalResults"] == 1
    r = scim.patch(f"/Users/{uid}", patch_ops({"op": "Replace", "path": "active", "value": "False"})); print(r.content); assert r.status_code == 200
    assert r.json()["active"] is False
    r = scim.get(f"/Users/{uid}", {"attributes": "userName"}); print(r.content)
    r = scim.post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng", "members": [{"value": uid}]}); print(r.content); assert r.status_code == 201
    r = scim.delete(f"/Users/{uid}"); assert r.status_code == 204
    r = scim.get("/Users", {"filter": 'foo eq "x"'}); print(r.content); assert r.status_code == 400
    r = scim.get("/Nope"); print(r.content); assert r.status_code == 404
