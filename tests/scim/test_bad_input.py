"""Bad input answers in SCIM's error form (RFC 7644 §3.12) with the right status and scimType,
never a 500: malformed JSON, unknown attributes, count beyond the maximum, duplicates, read-only
attributes, wrong methods and paths."""

from __future__ import annotations

import pytest

from tessera.scim.resources import MAX_RESULTS
from tests.scim.conftest import user_payload

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def error_of(answer, status, scim_type=None):
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/scim+json"
    body = answer.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    assert body.get("scimType") == scim_type
    return body


@pytest.mark.parametrize(
    "raw", ["{", "[]", '"text"', "", b"\xff\xfe", '{"userName": "a\\u0000@example.com"}']
)
def test_malformed_bodies(scim, raw):
    answer = scim.post("/Users", raw)
    assert answer.status_code == 400
    assert answer.json()["scimType"] in ("invalidSyntax", "invalidValue")


def test_unknown_attributes_and_schemas(scim):
    error_of(scim.post("/Users", user_payload("u@example.com", shoeSize=44)), 400, "invalidSyntax")
    wrong_schema = {**user_payload("u@example.com"), "schemas": ["urn:example:not:a:schema"]}
    assert scim.post("/Users", wrong_schema).status_code == 400


def test_username_must_be_an_address(scim):
    error_of(scim.post("/Users", user_payload("not-an-address")), 400, "invalidValue")
    missing = {k: v for k, v in user_payload("u@example.com").items() if k != "userName"}
    assert scim.post("/Users", missing).status_code == 400


def test_duplicates_are_uniqueness_conflicts(scim):
    assert scim.post("/Users", user_payload("dup@example.com", externalId="X")).status_code == 201
    error_of(scim.post("/Users", user_payload("DUP@example.com")), 409, "uniqueness")
    error_of(
        scim.post("/Users", user_payload("other@example.com", externalId="X")), 409, "uniqueness"
    )
    assert scim.post("/Groups", {"displayName": "G"}).status_code == 201
    error_of(scim.post("/Groups", {"displayName": "G"}), 409, "uniqueness")


@pytest.mark.parametrize(
    ("params", "scim_type"),
    [
        ({"count": str(MAX_RESULTS + 1)}, "tooMany"),
        ({"count": "ten"}, "invalidValue"),
        ({"startIndex": "1.5"}, "invalidValue"),
        ({"attributes": "userName", "excludedAttributes": "emails"}, "invalidValue"),
        ({"attributes": "no such thing!"}, "invalidValue"),
    ],
)
def test_bad_list_parameters(scim, params, scim_type):
    error_of(scim.get("/Users", params), 400, scim_type)


def test_negative_paging_values_are_clamped(scim):
    body = scim.get("/Users", {"startIndex": "-5", "count": "-1"}).json()
    assert body["startIndex"] == 1 and body["Resources"] == []


def test_unknown_ids_paths_and_methods(scim):
    error_of(scim.get("/Users/not-a-uuid"), 404)
    error_of(scim.get("/Users/5e7a3b49-0000-4000-8000-000000000000"), 404)
    error_of(scim.get("/Groups/5e7a3b49-0000-4000-8000-000000000000"), 404)
    error_of(scim.get("/Nope"), 404)
    error_of(scim.get("/ResourceTypes/Device"), 404)
    error_of(scim.delete("/Users"), 405)
    error_of(scim.put("/ServiceProviderConfig", {}), 405)
    error_of(scim.get("/Users/.search"), 405)


def test_search_bodies(scim):
    scim.post("/Users", user_payload("s@example.com"))
    found = scim.post(
        "/Users/.search",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName sw "s"',
            "attributes": ["userName"],
        },
    ).json()
    assert [r["userName"] for r in found["Resources"]] == ["s@example.com"]
    error_of(scim.post("/Users/.search", {"filter": 42}), 400, "invalidFilter")
    error_of(scim.post("/Users/.search", {"attributes": 42}), 400, "invalidValue")
    scim.post("/Groups", {"displayName": "Searchers"})
    # across both resource types: userName is a User's only, displayName both's
    users = scim.post("/.search", {"filter": "userName pr", "count": 10}).json()
    assert {r["userName"] for r in users["Resources"]} == {"s@example.com", "root@acme.test"}
    both = scim.post("/.search", {"filter": 'displayName sw "search"'}).json()
    assert [r["displayName"] for r in both["Resources"]] == ["Searchers"]
    paged = scim.post("/.search", {"startIndex": 2, "count": 2}).json()
    assert paged["totalResults"] == 3 and len(paged["Resources"]) == 2
    assert paged["Resources"][-1]["displayName"] == "Searchers"
